/*
 * events_stats.c - the bus's bookkeeping: per-topic counters (a bounded
 * hash table), per-subscription latency, the bounded dead-letter list and
 * the bus's error history, and their public readers.
 */
#include "events_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC_SLOTS (EV_TOPICS_MAX * 2)

uint64_t ev_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ev_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

wasmplug_status ev_fail(wasmplug_plugin_error *err, wasmplug_status code, const char *source,
                        const char *function, const char *fmt, ...)
{
    if (!err)
        return code;
    wasmplug_plugin_error_clear(err);
    err->code = code;
    err->phase = WASMPLUG_PHASE_CALL;
    err->timestamp_ms = ev_wall_ms();
    snprintf(err->plugin, sizeof err->plugin, "%s", source ? source : "");
    snprintf(err->function, sizeof err->function, "%s", function ? function : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return code;
}

/* ------------------------------------------------------------------------ */
/* Topics                                                                   */
/* ------------------------------------------------------------------------ */

wasmplug_status ev_topics_init(wasmplug_bus *bus)
{
    bus->topic_slots = calloc(TOPIC_SLOTS, sizeof *bus->topic_slots);
    if (!bus->topic_slots)
        return WASMPLUG_ERR_NOMEM;
    snprintf(bus->other.name, sizeof bus->other.name, "(other)");
    return WASMPLUG_OK;
}

void ev_topics_free(wasmplug_bus *bus)
{
    if (!bus->topic_slots)
        return;
    for (size_t i = 0; i < TOPIC_SLOTS; i++)
        if (bus->topic_slots[i]) {
            free(bus->topic_slots[i]->json);
            free(bus->topic_slots[i]);
        }
    free(bus->topic_slots);
    bus->topic_slots = NULL;
}

static size_t topic_hash(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return (size_t)(h % TOPIC_SLOTS);
}

/* The slot holding topic, or the empty slot where it belongs. */
static ev_topic **topic_slot(wasmplug_bus *bus, const char *topic)
{
    size_t i = topic_hash(topic);
    while (bus->topic_slots[i] && strcmp(bus->topic_slots[i]->name, topic) != 0)
        i = (i + 1) % TOPIC_SLOTS;
    return &bus->topic_slots[i];
}

ev_topic *ev_topic_stats(wasmplug_bus *bus, const char *topic)
{
    pthread_mutex_lock(&bus->topic_mu);
    ev_topic **slot = topic_slot(bus, topic);
    ev_topic *t = *slot;
    if (!t) {
        if (bus->topic_count < EV_TOPICS_MAX && (t = calloc(1, sizeof *t)) != NULL) {
            snprintf(t->name, sizeof t->name, "%s", topic);
            t->json = ev_json_string(topic, strlen(topic), &t->json_len);
            *slot = t;
            bus->topic_count++;
        } else {
            t = &bus->other;
        }
    }
    pthread_mutex_unlock(&bus->topic_mu);
    return t;
}

static void topic_fill(const ev_topic *t, wasmplug_topic_stats *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->topic, sizeof out->topic, "%s", t->name);
    out->published = atomic_load(&t->published);
    out->delivered = atomic_load(&t->delivered);
    out->dropped = atomic_load(&t->dropped);
    out->failed = atomic_load(&t->failed);
    out->unmatched = atomic_load(&t->unmatched);
}

wasmplug_status wasmplug_bus_topic_stats(wasmplug_bus *bus, const char *topic,
                                         wasmplug_topic_stats *out)
{
    if (!bus || !topic || !out)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&bus->topic_mu);
    ev_topic *t = *topic_slot(bus, topic);
    if (!t && strcmp(topic, bus->other.name) == 0 && atomic_load(&bus->other.published))
        t = &bus->other;
    if (t)
        topic_fill(t, out);
    pthread_mutex_unlock(&bus->topic_mu);
    return t ? WASMPLUG_OK : WASMPLUG_ERR_NOT_FOUND;
}

wasmplug_status wasmplug_bus_list_topics(wasmplug_bus *bus, wasmplug_topic_stats **out,
                                         size_t *count)
{
    if (!bus || !out || !count)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&bus->topic_mu);
    size_t n = bus->topic_count + 1;
    wasmplug_topic_stats *list = calloc(n, sizeof *list);
    if (!list) {
        pthread_mutex_unlock(&bus->topic_mu);
        return WASMPLUG_ERR_NOMEM;
    }
    size_t k = 0;
    for (size_t i = 0; i < TOPIC_SLOTS; i++)
        if (bus->topic_slots[i])
            topic_fill(bus->topic_slots[i], &list[k++]);
    if (atomic_load(&bus->other.published))
        topic_fill(&bus->other, &list[k++]);
    pthread_mutex_unlock(&bus->topic_mu);
    *out = list;
    *count = k;
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Subscriptions                                                            */
/* ------------------------------------------------------------------------ */

void ev_sub_record_latency(ev_sub *sub, uint64_t ns)
{
    sub->latency_total_ns += ns;
    if (ns > sub->latency_max_ns)
        sub->latency_max_ns = ns;
    sub->latency_hist[wasmplug_latency_bucket(ns)]++;
}

/* Caller holds sub->mu. */
void ev_sub_fill_stats(ev_sub *sub, wasmplug_subscription_stats *out)
{
    memset(out, 0, sizeof *out);
    out->id = sub->id;
    snprintf(out->pattern, sizeof out->pattern, "%s", sub->pattern);
    snprintf(out->subscriber, sizeof out->subscriber, "%s", sub->subscriber);
    out->enqueued = sub->enqueued;
    out->delivered = sub->delivered;
    out->deliveries = sub->deliveries;
    out->dropped = sub->dropped;
    out->rejected = sub->rejected;
    out->failed = sub->failed;
    out->retries = sub->retries;
    out->discarded = sub->discarded;
    out->queue_depth = sub->count;
    out->queue_max = sub->queue_max;
    out->latency_total_ns = sub->latency_total_ns;
    out->latency_max_ns = sub->latency_max_ns;
    out->latency_p50_ns = wasmplug_latency_quantile(sub->latency_hist, 500, sub->latency_max_ns);
    out->latency_p99_ns = wasmplug_latency_quantile(sub->latency_hist, 990, sub->latency_max_ns);
}

/* ------------------------------------------------------------------------ */
/* Dead letters                                                             */
/* ------------------------------------------------------------------------ */

wasmplug_status ev_dead_init(wasmplug_bus *bus)
{
    bus->dead = calloc(bus->cfg.dead_letter_max, sizeof *bus->dead);
    bus->errors = calloc(bus->cfg.error_history, sizeof *bus->errors);
    return bus->dead && bus->errors ? WASMPLUG_OK : WASMPLUG_ERR_NOMEM;
}

void ev_dead_free(wasmplug_bus *bus)
{
    if (bus->dead)
        for (size_t i = 0; i < bus->dead_count; i++)
            free(bus->dead[(bus->dead_head + i) % bus->cfg.dead_letter_max].letter.json);
    free(bus->dead);
    free(bus->errors);
    bus->dead = NULL;
    bus->errors = NULL;
}

void ev_dead_add(wasmplug_bus *bus, const ev_sub *sub, const ev_event *ev, uint32_t attempts,
                 wasmplug_status code, const char *error)
{
    wasmplug_dead_letter l;
    memset(&l, 0, sizeof l);
    l.subscription = sub->id;
    snprintf(l.subscriber, sizeof l.subscriber, "%s", sub->subscriber);
    snprintf(l.topic, sizeof l.topic, "%s", ev->topic);
    l.event_id = ev->id;
    l.time_ms = ev_wall_ms();
    l.attempts = attempts;
    l.code = code;
    snprintf(l.error, sizeof l.error, "%s", error);
    l.json = strdup(ev->json); /* NULL on no memory: the letter is kept without it */

    pthread_mutex_lock(&bus->dl_mu);
    size_t cap = bus->cfg.dead_letter_max;
    if (bus->dead_count == cap) {
        free(bus->dead[bus->dead_head].letter.json);
        bus->dead_head = (bus->dead_head + 1) % cap;
        bus->dead_count--;
        atomic_fetch_add(&bus->dead_letters_evicted, 1);
    }
    bus->dead[(bus->dead_head + bus->dead_count) % cap].letter = l;
    bus->dead_count++;
    pthread_mutex_unlock(&bus->dl_mu);
    atomic_fetch_add(&bus->dead_letters, 1);
}

wasmplug_status wasmplug_bus_dead_letters(wasmplug_bus *bus, bool clear,
                                          wasmplug_dead_letter **out, size_t *count)
{
    if (!bus || !out || !count)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&bus->dl_mu);
    size_t n = bus->dead_count, cap = bus->cfg.dead_letter_max;
    wasmplug_dead_letter *list = calloc(n ? n : 1, sizeof *list);
    if (!list) {
        pthread_mutex_unlock(&bus->dl_mu);
        return WASMPLUG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        wasmplug_dead_letter *src = &bus->dead[(bus->dead_head + i) % cap].letter;
        list[i] = *src;
        if (clear)
            src->json = NULL; /* moved */
        else if (src->json)
            list[i].json = strdup(src->json);
    }
    if (clear) {
        bus->dead_head = 0;
        bus->dead_count = 0;
    }
    pthread_mutex_unlock(&bus->dl_mu);
    *out = list;
    *count = n;
    return WASMPLUG_OK;
}

void wasmplug_bus_dead_letters_free(wasmplug_dead_letter *letters, size_t count)
{
    if (!letters)
        return;
    for (size_t i = 0; i < count; i++)
        free(letters[i].json);
    free(letters);
}

/* ------------------------------------------------------------------------ */
/* Errors and bus-wide stats                                                */
/* ------------------------------------------------------------------------ */

void ev_error_record(wasmplug_bus *bus, const wasmplug_plugin_error *err)
{
    pthread_mutex_lock(&bus->err_mu);
    size_t cap = bus->cfg.error_history;
    if (bus->err_count == cap) {
        bus->err_head = (bus->err_head + 1) % cap;
        bus->err_count--;
    }
    bus->errors[(bus->err_head + bus->err_count) % cap] = *err;
    bus->err_count++;
    pthread_mutex_unlock(&bus->err_mu);
}

size_t wasmplug_bus_errors(wasmplug_bus *bus, wasmplug_plugin_error *out, size_t max)
{
    if (!bus || !out)
        return 0;
    pthread_mutex_lock(&bus->err_mu);
    size_t n = bus->err_count < max ? bus->err_count : max;
    size_t skip = bus->err_count - n, cap = bus->cfg.error_history;
    for (size_t i = 0; i < n; i++)
        out[i] = bus->errors[(bus->err_head + skip + i) % cap];
    pthread_mutex_unlock(&bus->err_mu);
    return n;
}

void wasmplug_bus_get_stats(wasmplug_bus *bus, wasmplug_bus_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!bus)
        return;
    out->published = atomic_load(&bus->published);
    out->publish_errors = atomic_load(&bus->publish_errors);
    out->hop_limited = atomic_load(&bus->hop_limited);
    out->requests = atomic_load(&bus->requests);
    out->replies = atomic_load(&bus->replies);
    out->request_timeouts = atomic_load(&bus->request_timeouts);
    out->dead_letters = atomic_load(&bus->dead_letters);
    out->dead_letters_evicted = atomic_load(&bus->dead_letters_evicted);
    out->uncommitted = atomic_load(&bus->uncommitted);
    pthread_rwlock_rdlock(&bus->subs_lock);
    out->subscriptions = (uint32_t)bus->sub_count;
    pthread_rwlock_unlock(&bus->subs_lock);
    pthread_mutex_lock(&bus->topic_mu);
    out->topics = (uint32_t)bus->topic_count;
    pthread_mutex_unlock(&bus->topic_mu);
}
