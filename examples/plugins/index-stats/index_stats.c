/*
 * index_stats.c - the index-stats example plugin (C, wasmplug C PDK): a
 * batched event subscriber that keeps totals of what content-indexer
 * indexed, and answers requests for them.
 *
 * Subscriptions (plugin.yaml):
 *   index.updated  batched (up to 20 events or 200 ms): on_event gets them
 *                  all in one call (WP_ON_EVENT_BATCH) and adds them up
 *   stats.get      requests: on_stats replies {"documents","words","batches"}
 * Export `stats` returns the same totals to a direct call.
 */
#include "wasmplug_pdk.h"

static long long documents, words, batches;

static int write_totals(wp_jw *w)
{
    wp_jw_object(w);
    wp_jw_key(w, "documents");
    wp_jw_int(w, documents);
    wp_jw_key(w, "words");
    wp_jw_int(w, words);
    wp_jw_key(w, "batches");
    wp_jw_int(w, batches);
    wp_jw_end_object(w);
    return w->buf.oom ? wp_fail(1, "out of memory") : 0;
}

WP_ON_EVENT_BATCH(on_index)
{
    batches++;
    for (size_t i = 0; i < count; i++) {
        documents++;
        words += (long long)wp_json_get_number(events[i].payload, "words", 0);
    }
    return 0;
}

/* Requests on stats.get: the totals are the reply (the handler's output). */
WP_FN(on_stats)
{
    size_t n;
    wp_event *evs = wp_events_parse(&n);
    if (!evs)
        return 1;
    wp_jw w = {0};
    if (write_totals(&w))
        return 1;
    wp_buf_char(&w.buf, '\0');
    for (size_t i = 0; i < n; i++)
        wp_event_reply(&evs[i], w.buf.data);
    return 0;
}

WP_FN(stats)
{
    wp_jw w = {0};
    return write_totals(&w) ? 1 : wp_output_json(&w);
}
