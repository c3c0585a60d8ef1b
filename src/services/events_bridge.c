/*
 * events_bridge.c - the event bus across machines on Redis Streams
 * (<wasmplug/events_bridge.h>, which states the guarantees).
 *
 * Publishing: ev_dispatch hands an event on a bridged topic to
 * ev_bridge_publish, which XADDs it to its pattern's stream on the
 * bridge's publishing connection (one, under pub_mu), reconnecting with
 * backoff until publish_timeout_ms.
 *
 * Receiving: each subscription whose pattern overlaps a bridged pattern
 * has a reader (a thread with its own connection) in the consumer group
 * "<group>|<pattern>" of each overlapping stream. The reader reads at most
 * in_flight_max entries ahead, turns each into an event for that one
 * subscription (ev_enqueue_one) with a done callback, and the bus's workers
 * deliver it with the subscription's options. The callback (on a worker,
 * maybe under sub->mu: it only takes the reader's leaf mutex) records how
 * the delivery ended; the reader then acknowledges delivered entries
 * (XACK, batched per stream), dead-letters failed ones (XADD to the dead
 * stream + XACK in one MULTI/EXEC) and leaves discarded ones pending. It
 * also claims entries left pending by others (XPENDING IDLE + XCLAIM),
 * dead-lettering those handed out max_deliveries times.
 *
 * A reader is reference counted: its thread and each entry in flight hold
 * one, so a done callback after the reader stopped (an unsubscribe, the
 * bridge freed) finds valid memory; acknowledgements it records then are
 * never sent, and the entry is claimed again later (at least once).
 */
#include "events_internal.h"
#include "redis_conn.h"
#include "services_internal.h"
#include "wasmplug/events_bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BR_DEFAULT_PREFIX "wasmplug:events:"
#define BR_MAX_PATTERNS 64
#define BR_READ_BLOCK_MS "100"
#define BR_ID_MAX 48
#define BR_ERROR_MAX 256

struct wasmplug_bus_bridge {
    wasmplug_bus *bus;
    wps_redis_url url;
    char label[WPS_REDIS_HOST_MAX + 32];
    char **patterns, **streams; /* streams[i] = prefix + patterns[i] */
    size_t npatterns;
    char *dead_stream;
    char consumer[128];
    uint32_t max_deliveries, claim_idle_ms, stream_max_len, dead_letter_max,
        publish_timeout_ms, in_flight_max;

    pthread_mutex_t pub_mu;
    wps_redis *pub;

    pthread_mutex_t readers_mu;
    struct br_reader *readers;

    _Atomic uint64_t published, publish_failures, received, acknowledged, dead_lettered,
        claimed, reconnects;
    _Atomic uint32_t running;
};

/* How one entry's delivery ended, waiting for the reader to tell Redis. */
typedef struct br_done {
    uint32_t stream;
    char id[BR_ID_MAX];
    ev_outcome outcome;
    uint32_t attempts;
    char error[BR_ERROR_MAX];
    char *topic, *json; /* for a dead letter */
} br_done;

typedef struct br_reader {
    _Atomic uint32_t refs;
    ev_bridge *b;
    ev_sub *sub; /* a reference */
    uint64_t sub_id;
    char group[WASMPLUG_NAME_MAX + WASMPLUG_TOPIC_MAX + 2];
    char consumer[160];
    uint32_t *streams; /* indexes into b->streams */
    size_t nstreams;
    pthread_t thread;
    bool started;
    bool groups_ready; /* created when it subscribed */
    atomic_bool stop;
    _Atomic uint64_t drain_deadline_ms; /* set with stop: until when entries in flight
                                            are waited for */
    wps_redis *r;
    uint64_t last_claim_ms;

    pthread_mutex_t mu; /* a leaf: taken by done callbacks under sub->mu */
    pthread_cond_t cv;
    br_done *done;
    size_t ndone, done_cap;
    struct {
        uint32_t stream;
        char id[BR_ID_MAX];
    } *flight;          /* entries queued or being delivered */
    size_t nflight, flight_cap; /* cap: in_flight_max + one per stream (a read's slack) */
    struct br_reader *next;
} br_reader;

/* An entry in flight: the done callback's context. */
typedef struct br_pending {
    br_reader *rd;
    uint32_t stream;
    char id[BR_ID_MAX];
} br_pending;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void bridge_error(ev_bridge *b, wasmplug_status code, const char *fmt, const char *a,
                         const char *c)
{
    wasmplug_plugin_error e;
    ev_fail(&e, code, "host", "events.bridge", fmt, a, c);
    ev_error_record(b->bus, &e);
}

/* ------------------------------------------------------------------------ */
/* Patterns                                                                 */
/* ------------------------------------------------------------------------ */

/* The next segment of a pattern: [*p, end) ; advances *p past the dot. */
static size_t segment(const char **p, const char **seg)
{
    *seg = *p;
    const char *dot = strchr(*p, '.');
    size_t n = dot ? (size_t)(dot - *p) : strlen(*p);
    *p = dot ? dot + 1 : *p + n;
    return n;
}

/* Whether some topic matches both patterns. */
static bool patterns_overlap(const char *a, const char *b)
{
    for (;;) {
        bool a_end = !*a, b_end = !*b;
        if (a_end || b_end)
            return a_end && b_end;
        const char *sa, *sb;
        size_t na = segment(&a, &sa), nb = segment(&b, &sb);
        bool a_rest = na == 1 && *sa == '>', b_rest = nb == 1 && *sb == '>';
        if (a_rest || b_rest)
            return true; /* each side has this segment at least */
        bool a_any = na == 1 && *sa == '*', b_any = nb == 1 && *sb == '*';
        if (!a_any && !b_any && (na != nb || memcmp(sa, sb, na) != 0))
            return false;
    }
}

bool ev_bridge_routes(ev_bridge *b, const char *topic)
{
    for (size_t i = 0; i < b->npatterns; i++)
        if (wasmplug_topic_matches(b->patterns[i], topic))
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Publishing                                                               */
/* ------------------------------------------------------------------------ */

wasmplug_status ev_bridge_publish(ev_bridge *b, const ev_event *ev, wasmplug_plugin_error *err)
{
    size_t i = 0;
    while (i < b->npatterns && !wasmplug_topic_matches(b->patterns[i], ev->topic))
        i++;
    char maxlen[16], hops[16];
    snprintf(maxlen, sizeof maxlen, "%u", b->stream_max_len);
    snprintf(hops, sizeof hops, "%u", ev->hops);
    const char *argv[] = {"XADD",   b->streams[i], "MAXLEN", "~",      maxlen, "*",
                          "topic",  ev->topic,     "source", ev->source, "hops", hops,
                          "payload", ev->payload,  "origin", b->consumer};
    size_t lens[sizeof argv / sizeof argv[0]];
    for (size_t a = 0; a < sizeof argv / sizeof argv[0]; a++)
        lens[a] = strlen(argv[a]);
    lens[13] = ev->payload_len;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX] = "";
    uint64_t deadline = now_ms() + b->publish_timeout_ms;
    wps_redis_status st;
    pthread_mutex_lock(&b->pub_mu);
    for (;;) {
        st = wps_redis_commandv(b->pub, NULL, msg, sizeof msg, (int)(sizeof argv / sizeof *argv),
                                argv, lens);
        if (st != WPS_REDIS_LOST)
            break;
        uint64_t now = now_ms();
        if (now >= deadline ||
            wps_redis_connect(b->pub, (uint32_t)(deadline - now), msg, sizeof msg) !=
                WPS_REDIS_OK)
            break;
        atomic_fetch_add(&b->reconnects, 1);
    }
    pthread_mutex_unlock(&b->pub_mu);
    if (st == WPS_REDIS_OK) {
        atomic_fetch_add(&b->published, 1);
        return WASMPLUG_OK;
    }
    atomic_fetch_add(&b->publish_failures, 1);
    return ev_fail(err, WASMPLUG_ERR_IO, ev->source, "events.publish",
                   "event on '%s' not published to Redis stream '%s' (tried for %u ms): %s",
                   ev->topic, b->streams[i], b->publish_timeout_ms, msg);
}

/* ------------------------------------------------------------------------ */
/* Readers: bookkeeping                                                     */
/* ------------------------------------------------------------------------ */

static void done_free(br_done *d)
{
    free(d->topic);
    free(d->json);
}

static void reader_unref(br_reader *rd)
{
    if (atomic_fetch_sub(&rd->refs, 1) != 1)
        return;
    for (size_t i = 0; i < rd->ndone; i++)
        done_free(&rd->done[i]);
    free(rd->done);
    free(rd->flight);
    free(rd->streams);
    wps_redis_free(rd->r);
    if (rd->sub)
        ev_sub_unref(rd->sub);
    pthread_mutex_destroy(&rd->mu);
    pthread_cond_destroy(&rd->cv);
    free(rd);
}

static bool in_flight(br_reader *rd, uint32_t stream, const char *id)
{
    for (size_t i = 0; i < rd->nflight; i++)
        if (rd->flight[i].stream == stream && strcmp(rd->flight[i].id, id) == 0)
            return true;
    return false;
}

/* A new record at the end of the done list (caller holds rd->mu), zeroed
 * but for the entry; NULL out of memory (the entry is not acknowledged
 * then, so it is delivered again later). */
static br_done *done_push(br_reader *rd, uint32_t stream, const char *id, ev_outcome outcome)
{
    if (rd->ndone == rd->done_cap) {
        size_t cap = rd->done_cap ? rd->done_cap * 2 : 16;
        br_done *grown = realloc(rd->done, cap * sizeof *grown);
        if (!grown)
            return NULL;
        rd->done = grown;
        rd->done_cap = cap;
    }
    br_done *d = &rd->done[rd->ndone++];
    memset(d, 0, sizeof *d);
    d->stream = stream;
    snprintf(d->id, sizeof d->id, "%s", id);
    d->outcome = outcome;
    return d;
}

/* The done callback of an entry's event (a bus worker, maybe under sub->mu). */
static void entry_done(void *ctx, const ev_event *ev, ev_outcome outcome, uint32_t attempts,
                       wasmplug_status code, const char *error)
{
    (void)code;
    br_pending *p = ctx;
    br_reader *rd = p->rd;
    pthread_mutex_lock(&rd->mu);
    for (size_t i = 0; i < rd->nflight; i++)
        if (rd->flight[i].stream == p->stream && strcmp(rd->flight[i].id, p->id) == 0) {
            rd->flight[i] = rd->flight[--rd->nflight];
            break;
        }
    br_done *d = outcome != EV_DISCARDED ? done_push(rd, p->stream, p->id, outcome) : NULL;
    if (d) {
        d->attempts = attempts;
        snprintf(d->error, sizeof d->error, "%s", error ? error : "");
        if (outcome == EV_FAILED) {
            d->topic = strdup(ev->topic);
            d->json = strdup(ev->json);
        }
    }
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
    free(p);
    reader_unref(rd);
}

/* ------------------------------------------------------------------------ */
/* Readers: Redis                                                           */
/* ------------------------------------------------------------------------ */

static const char *stream_of(br_reader *rd, uint32_t i)
{
    return rd->b->streams[rd->streams[i]];
}

/* Wait for a connection (backoff, until stopped). false when stopped. */
static bool reconnect(br_reader *rd)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_redis_status st = wps_redis_connect(rd->r, UINT32_MAX, msg, sizeof msg);
    if (st == WPS_REDIS_OK)
        atomic_fetch_add(&rd->b->reconnects, 1);
    else if (st == WPS_REDIS_USAGE)
        bridge_error(rd->b, WASMPLUG_ERR_IO, "bridge reader of '%s': %s", rd->group, msg);
    return st == WPS_REDIS_OK;
}

/* Create the groups (at the end of their streams) if missing. */
static wps_redis_status ensure_groups(br_reader *rd)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    for (size_t i = 0; i < rd->nstreams; i++) {
        const char *argv[] = {"XGROUP", "CREATE", stream_of(rd, (uint32_t)i), rd->group, "$",
                              "MKSTREAM"};
        wps_redis_status st = wps_redis_commandv(rd->r, NULL, msg, sizeof msg, 6, argv, NULL);
        if (st == WPS_REDIS_ERROR && strstr(msg, "BUSYGROUP"))
            continue;
        if (st != WPS_REDIS_OK) {
            if (st == WPS_REDIS_ERROR)
                bridge_error(rd->b, WASMPLUG_ERR_IO, "bridge reader of '%s': %s", rd->group,
                             msg);
            return st;
        }
    }
    return WPS_REDIS_OK;
}

/* A field of an entry's [field, value, ...] array, or NULL. */
static const redisReply *field(const redisReply *fields, const char *name)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < fields->elements; i += 2)
        if (fields->element[i]->type == REDIS_REPLY_STRING &&
            strcmp(fields->element[i]->str, name) == 0 &&
            fields->element[i + 1]->type == REDIS_REPLY_STRING)
            return fields->element[i + 1];
    return NULL;
}

/* Record a dead letter for an entry that cannot be delivered at all. */
static void dead_now(br_reader *rd, uint32_t stream, const char *id, const redisReply *fields,
                     uint32_t attempts, const char *why)
{
    const redisReply *topic = field(fields, "topic"), *payload = field(fields, "payload");
    pthread_mutex_lock(&rd->mu);
    br_done *d = done_push(rd, stream, id, EV_FAILED);
    if (d) {
        d->attempts = attempts;
        snprintf(d->error, sizeof d->error, "%s", why);
        d->topic = strdup(topic ? topic->str : "");
        d->json = payload ? strndup(payload->str, payload->len) : strdup("");
    }
    pthread_mutex_unlock(&rd->mu);
}

/* One entry read (or claimed): queue it for the subscription. */
static void take_entry(br_reader *rd, uint32_t stream, const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements < 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *id = entry->element[0]->str;
    const redisReply *fields = entry->element[1];
    if (strlen(id) >= BR_ID_MAX)
        return;
    const redisReply *topic = field(fields, "topic"), *source = field(fields, "source"),
                     *hops = field(fields, "hops"), *payload = field(fields, "payload");
    if (!topic || !source || !hops || !payload) {
        dead_now(rd, stream, id, fields, 0, "not an event entry (needs topic, source, hops, payload)");
        return;
    }
    wasmplug_bus *bus = rd->b->bus;
    br_pending *p = NULL;
    if (wasmplug_topic_matches(rd->sub->pattern, topic->str)) {
        ev_event *ev = NULL;
        wasmplug_plugin_error err;
        wasmplug_status st = ev_prepare(bus, source->str, (uint32_t)strtoul(hops->str, NULL, 10),
                                        topic->str, topic->len, payload->str, payload->len, NULL,
                                        &ev, &err);
        if (st != WASMPLUG_OK) {
            dead_now(rd, stream, id, fields, 1, err.message);
            return;
        }
        if (!ev_publish_enter(bus, "host", NULL)) {
            ev_event_unref(ev); /* shutting down: left pending */
            return;
        }
        p = calloc(1, sizeof *p);
        if (!p) {
            ev_publish_leave(bus, WASMPLUG_OK);
            ev_event_unref(ev);
            return;
        }
        p->rd = rd;
        p->stream = stream;
        snprintf(p->id, sizeof p->id, "%s", id);
        pthread_mutex_lock(&rd->mu);
        if (rd->nflight == rd->flight_cap) { /* cannot happen: reads are bounded */
            pthread_mutex_unlock(&rd->mu);
            free(p);
            ev_publish_leave(bus, WASMPLUG_OK);
            ev_event_unref(ev);
            return;
        }
        atomic_fetch_add(&rd->refs, 1);
        rd->flight[rd->nflight].stream = stream;
        snprintf(rd->flight[rd->nflight].id, BR_ID_MAX, "%s", id);
        rd->nflight++;
        pthread_mutex_unlock(&rd->mu);
        ev->done = entry_done;
        ev->done_ctx = p;
        atomic_fetch_add(&rd->b->received, 1);
        ev_enqueue_one(bus, rd->sub, ev);
        ev_publish_leave(bus, WASMPLUG_OK);
        return;
    }
    /* Another subscription's topic on a shared stream: acknowledged
     * without delivering. */
    pthread_mutex_lock(&rd->mu);
    done_push(rd, stream, id, EV_DISCARDED); /* acknowledged, not counted */
    pthread_mutex_unlock(&rd->mu);
}

/* Send what the done list says: XACKs, dead letters. Records that could
 * not be sent stay for the next time. */
static wps_redis_status flush_done(br_reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    br_done *list = rd->done;
    size_t n = rd->ndone;
    rd->done = NULL;
    rd->ndone = rd->done_cap = 0;
    pthread_mutex_unlock(&rd->mu);
    if (n == 0)
        return WPS_REDIS_OK;
    ev_bridge *b = rd->b;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_redis_status st = WPS_REDIS_OK;
    size_t sent = 0;
    for (; sent < n && st == WPS_REDIS_OK; sent++) {
        br_done *d = &list[sent];
        const char *stream = stream_of(rd, d->stream);
        const char *ack[] = {"XACK", stream, rd->group, d->id};
        if (d->outcome != EV_FAILED) {
            st = wps_redis_commandv(rd->r, NULL, msg, sizeof msg, 4, ack, NULL);
            if (st == WPS_REDIS_OK && d->outcome == EV_DELIVERED)
                atomic_fetch_add(&b->acknowledged, 1);
            continue;
        }
        char maxlen[16], attempts[16];
        snprintf(maxlen, sizeof maxlen, "%u", b->dead_letter_max);
        snprintf(attempts, sizeof attempts, "%u", d->attempts);
        const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
        const char *dead[] = {"XADD",     b->dead_stream, "MAXLEN", "~",      maxlen,
                              "*",        "stream",       stream,   "id",     d->id,
                              "group",    rd->group,      "topic",  d->topic ? d->topic : "",
                              "consumer", rd->consumer,   "attempts", attempts, "error",
                              d->error,   "event",        d->json ? d->json : ""};
        st = wps_redis_append(rd->r, msg, sizeof msg, 1, multi, NULL);
        if (st == WPS_REDIS_OK)
            st = wps_redis_append(rd->r, msg, sizeof msg, (int)(sizeof dead / sizeof *dead),
                                  dead, NULL);
        if (st == WPS_REDIS_OK)
            st = wps_redis_append(rd->r, msg, sizeof msg, 4, ack, NULL);
        if (st == WPS_REDIS_OK)
            st = wps_redis_append(rd->r, msg, sizeof msg, 1, exec, NULL);
        wps_redis_status reply_st = WPS_REDIS_OK;
        for (int r = 0; st == WPS_REDIS_OK && r < 4; r++) {
            redisReply *reply = NULL;
            wps_redis_status one = wps_redis_next(rd->r, &reply, msg, sizeof msg);
            if (one == WPS_REDIS_LOST)
                st = one;
            else if (one != WPS_REDIS_OK)
                reply_st = one;
            else
                freeReplyObject(reply);
        }
        if (st == WPS_REDIS_OK && reply_st == WPS_REDIS_OK)
            atomic_fetch_add(&b->dead_lettered, 1);
        else if (st == WPS_REDIS_OK)
            bridge_error(b, WASMPLUG_ERR_IO, "bridge reader of '%s': dead letter refused: %s",
                         rd->group, msg);
    }
    if (st != WPS_REDIS_OK)
        sent--; /* the one that failed is sent again */
    for (size_t i = 0; i < sent; i++)
        done_free(&list[i]);
    if (sent < n) {
        /* Put the rest back in front of what came meanwhile. */
        pthread_mutex_lock(&rd->mu);
        size_t rest = n - sent, total = rest + rd->ndone;
        br_done *merged = realloc(list, (total ? total : 1) * sizeof *merged);
        if (merged) {
            memmove(merged, merged + sent, rest * sizeof *merged);
            if (rd->ndone)
                memcpy(merged + rest, rd->done, rd->ndone * sizeof *merged);
            free(rd->done);
            rd->done = merged;
            rd->ndone = rd->done_cap = total;
        } else {
            for (size_t i = sent; i < n; i++)
                done_free(&list[i]); /* left pending: claimed again later */
            free(list);
        }
        pthread_mutex_unlock(&rd->mu);
    } else {
        free(list);
    }
    return st;
}

/* Claim entries idle in the group (their consumer died or hangs). */
static wps_redis_status claim(br_reader *rd)
{
    ev_bridge *b = rd->b;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX], idle[16];
    snprintf(idle, sizeof idle, "%u", b->claim_idle_ms);
    for (uint32_t s = 0; s < rd->nstreams; s++) {
        const char *stream = stream_of(rd, s);
        const char *pend[] = {"XPENDING", stream, rd->group, "IDLE", idle, "-", "+", "32"};
        redisReply *list = NULL;
        wps_redis_status st = wps_redis_commandv(rd->r, &list, msg, sizeof msg, 8, pend, NULL);
        if (st != WPS_REDIS_OK)
            return st == WPS_REDIS_ERROR ? WPS_REDIS_OK : st;
        for (size_t i = 0; list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
            const redisReply *e = list->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 4 ||
                e->element[0]->type != REDIS_REPLY_STRING)
                continue;
            const char *id = e->element[0]->str;
            long long handed = 0;
            wps_redis_reply_int(e->element[3], &handed);
            pthread_mutex_lock(&rd->mu);
            bool mine = in_flight(rd, s, id), full = rd->nflight >= b->in_flight_max;
            pthread_mutex_unlock(&rd->mu);
            if (mine || full)
                continue;
            const char *xclaim[] = {"XCLAIM", stream, rd->group, rd->consumer, idle, id};
            redisReply *got = NULL;
            st = wps_redis_commandv(rd->r, &got, msg, sizeof msg, 6, xclaim, NULL);
            if (st != WPS_REDIS_OK) {
                freeReplyObject(list);
                return st == WPS_REDIS_ERROR ? WPS_REDIS_OK : st;
            }
            /* Claimed by someone else meanwhile: an empty reply. */
            if (got->type == REDIS_REPLY_ARRAY && got->elements == 1 &&
                got->element[0]->type == REDIS_REPLY_ARRAY) {
                atomic_fetch_add(&b->claimed, 1);
                if ((uint64_t)handed + 1 > b->max_deliveries) {
                    char why[160];
                    snprintf(why, sizeof why,
                             "handed out %lld times without an acknowledgement (its consumers "
                             "died or hung), over max_deliveries %u",
                             handed + 1, b->max_deliveries);
                    const redisReply *en = got->element[0];
                    dead_now(rd, s, id, en->elements > 1 ? en->element[1] : NULL,
                             (uint32_t)handed + 1, why);
                } else {
                    take_entry(rd, s, got->element[0]);
                }
            }
            freeReplyObject(got);
        }
        freeReplyObject(list);
    }
    return WPS_REDIS_OK;
}

/* Read new entries: at most room. */
static wps_redis_status read_new(br_reader *rd, size_t room)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX], count[24];
    /* COUNT is per stream. */
    size_t per_stream = room / rd->nstreams;
    snprintf(count, sizeof count, "%zu", per_stream ? per_stream : 1);
    size_t argc = 9 + 2 * rd->nstreams;
    const char **argv = calloc(argc, sizeof *argv);
    if (!argv)
        return WPS_REDIS_ERROR;
    size_t n = 0;
    argv[n++] = "XREADGROUP";
    argv[n++] = "GROUP";
    argv[n++] = rd->group;
    argv[n++] = rd->consumer;
    argv[n++] = "COUNT";
    argv[n++] = count;
    argv[n++] = "BLOCK";
    argv[n++] = BR_READ_BLOCK_MS;
    argv[n++] = "STREAMS";
    for (size_t i = 0; i < rd->nstreams; i++)
        argv[n++] = stream_of(rd, (uint32_t)i);
    for (size_t i = 0; i < rd->nstreams; i++)
        argv[n++] = ">";
    redisReply *reply = NULL;
    wps_redis_status st = wps_redis_commandv(rd->r, &reply, msg, sizeof msg, (int)n, argv, NULL);
    free(argv);
    if (st == WPS_REDIS_ERROR && strstr(msg, "NOGROUP")) /* Redis lost its data */
        return ensure_groups(rd);
    if (st != WPS_REDIS_OK)
        return st;
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++) {
        const redisReply *sr = reply->element[i];
        if (sr->type != REDIS_REPLY_ARRAY || sr->elements < 2)
            continue;
        uint32_t s = 0;
        while (s < rd->nstreams && strcmp(stream_of(rd, s), sr->element[0]->str) != 0)
            s++;
        for (size_t e = 0; s < rd->nstreams && e < sr->element[1]->elements; e++)
            take_entry(rd, s, sr->element[1]->element[e]);
    }
    freeReplyObject(reply);
    return WPS_REDIS_OK;
}

/* A read that may take entries from Redis begins only while the bus is
 * not shutting down (the handshake with wasmplug_bus_shutdown). */
static bool taking_begin(wasmplug_bus *bus)
{
    atomic_fetch_add(&bus->bridge_reads, 1);
    if (!atomic_load(&bus->shutting))
        return true;
    atomic_fetch_sub(&bus->bridge_reads, 1);
    return false;
}

static void taking_end(wasmplug_bus *bus)
{
    atomic_fetch_sub(&bus->bridge_reads, 1);
}

/* Wait on rd->cv (rd->mu held) for a change, at most ms milliseconds. */
static void wait_reader(br_reader *rd, long ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += ms * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&rd->cv, &rd->mu, &ts);
}

static void *reader_main(void *arg)
{
    br_reader *rd = arg;
    ev_bridge *b = rd->b;
    bool ready = rd->groups_ready;
    while (!atomic_load(&rd->stop)) {
        wps_redis_status st = WPS_REDIS_OK;
        if (!ready)
            st = ensure_groups(rd);
        ready = st == WPS_REDIS_OK;
        if (st == WPS_REDIS_OK)
            st = flush_done(rd);
        /* A bus shutting down takes no more entries: they stay in Redis. */
        bool taking = !atomic_load(&b->bus->shutting);
        uint64_t now = now_ms();
        uint32_t every = b->claim_idle_ms / 2 < 100 ? 100 : b->claim_idle_ms / 2;
        if (st == WPS_REDIS_OK && taking && now - rd->last_claim_ms >= every) {
            rd->last_claim_ms = now;
            if (taking_begin(b->bus)) {
                st = claim(rd);
                taking_end(b->bus);
            }
        }
        if (st == WPS_REDIS_OK) {
            pthread_mutex_lock(&rd->mu);
            size_t room = taking ? b->in_flight_max - rd->nflight : 0;
            if (room == 0 && rd->ndone == 0)
                wait_reader(rd, 100);
            pthread_mutex_unlock(&rd->mu);
            if (room > 0 && taking_begin(b->bus)) {
                st = read_new(rd, room);
                taking_end(b->bus);
            }
        }
        if (st == WPS_REDIS_LOST) {
            ready = false;
            if (!reconnect(rd))
                break;
        } else if (st != WPS_REDIS_OK) {
            struct timespec ts = {0, 200000000L}; /* a refusal: do not spin */
            nanosleep(&ts, NULL);
        }
    }
    /* Stopping: deliveries in flight may still end; acknowledge those that
     * do before the deadline. */
    for (;;) {
        if (flush_done(rd) != WPS_REDIS_OK)
            break;
        pthread_mutex_lock(&rd->mu);
        bool idle = rd->nflight == 0 && rd->ndone == 0;
        uint64_t deadline = atomic_load(&rd->drain_deadline_ms);
        if (!idle && now_ms() < deadline)
            wait_reader(rd, 20);
        pthread_mutex_unlock(&rd->mu);
        if (idle || now_ms() >= deadline)
            break;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Readers: start and stop                                                  */
/* ------------------------------------------------------------------------ */

static void reader_stop(br_reader *rd, uint32_t drain_ms)
{
    if (!atomic_load(&rd->stop))
        atomic_store(&rd->drain_deadline_ms, now_ms() + drain_ms);
    atomic_store(&rd->stop, true);
    pthread_mutex_lock(&rd->mu);
    pthread_cond_broadcast(&rd->cv);
    pthread_mutex_unlock(&rd->mu);
    if (rd->started) {
        pthread_join(rd->thread, NULL);
        atomic_fetch_sub(&rd->b->running, 1);
    }
    reader_unref(rd);
}

void ev_bridge_sub_added(ev_bridge *b, ev_sub *s)
{
    uint32_t *streams = calloc(b->npatterns, sizeof *streams);
    size_t n = 0;
    for (size_t i = 0; streams && i < b->npatterns; i++)
        if (patterns_overlap(s->pattern, b->patterns[i]))
            streams[n++] = (uint32_t)i;
    if (n == 0) {
        free(streams);
        return; /* no bridged topic can reach it */
    }
    pthread_mutex_lock(&b->readers_mu);
    for (br_reader *r = b->readers; r; r = r->next)
        if (r->sub_id == s->id) {
            pthread_mutex_unlock(&b->readers_mu);
            free(streams);
            return;
        }
    br_reader *rd = calloc(1, sizeof *rd);
    wps_redis_options opt;
    memset(&opt, 0, sizeof opt);
    if (rd) {
        rd->flight_cap = b->in_flight_max + n;
        rd->flight = calloc(rd->flight_cap, sizeof *rd->flight);
        opt.stop = &rd->stop;
        rd->r = wps_redis_new(&b->url, &opt);
    }
    if (!rd || !rd->flight || !rd->r) {
        pthread_mutex_unlock(&b->readers_mu);
        if (rd) {
            free(rd->flight);
            wps_redis_free(rd->r);
        }
        free(rd);
        free(streams);
        bridge_error(b, WASMPLUG_ERR_NOMEM, "out of memory starting the bridge reader of '%s'%s",
                     s->pattern, "");
        return;
    }
    atomic_init(&rd->refs, 1);
    rd->b = b;
    rd->sub = s;
    ev_sub_ref(s);
    rd->sub_id = s->id;
    rd->streams = streams;
    rd->nstreams = n;
    snprintf(rd->group, sizeof rd->group, "%s|%s", s->group, s->pattern);
    snprintf(rd->consumer, sizeof rd->consumer, "%s-%llu", b->consumer,
             (unsigned long long)s->id);
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    /* The groups now, so that what is published after the subscribe call
     * returns reaches it (if Redis is away, the reader creates them). */
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    rd->groups_ready = wps_redis_connect(rd->r, 0, msg, sizeof msg) == WPS_REDIS_OK &&
                       ensure_groups(rd) == WPS_REDIS_OK;
    rd->started = pthread_create(&rd->thread, NULL, reader_main, rd) == 0;
    if (!rd->started) {
        pthread_mutex_unlock(&b->readers_mu);
        bridge_error(b, WASMPLUG_ERR_NOMEM, "cannot start the bridge reader of '%s'%s",
                     s->pattern, "");
        reader_unref(rd);
        return;
    }
    atomic_fetch_add(&b->running, 1);
    rd->next = b->readers;
    b->readers = rd;
    pthread_mutex_unlock(&b->readers_mu);
}

void ev_bridge_sub_removed(ev_bridge *b, ev_sub *s)
{
    pthread_mutex_lock(&b->readers_mu);
    br_reader *found = NULL;
    for (br_reader **pp = &b->readers; *pp; pp = &(*pp)->next)
        if ((*pp)->sub_id == s->id) {
            found = *pp;
            *pp = found->next;
            break;
        }
    pthread_mutex_unlock(&b->readers_mu);
    if (found)
        reader_stop(found, 0); /* its queue is discarded next: nothing to wait for */
}

/* ------------------------------------------------------------------------ */
/* The bridge                                                               */
/* ------------------------------------------------------------------------ */

void wasmplug_bridge_config_init(wasmplug_bridge_config *cfg)
{
    if (cfg)
        memset(cfg, 0, sizeof *cfg);
}

static void bridge_free_fields(ev_bridge *b)
{
    for (size_t i = 0; i < b->npatterns; i++) {
        free(b->patterns ? b->patterns[i] : NULL);
        free(b->streams ? b->streams[i] : NULL);
    }
    free(b->patterns);
    free(b->streams);
    free(b->dead_stream);
    wps_redis_free(b->pub);
    pthread_mutex_destroy(&b->pub_mu);
    pthread_mutex_destroy(&b->readers_mu);
    free(b);
}

static char *joined(const char *a, const char *c)
{
    size_t n = strlen(a) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, c);
    return s;
}

wasmplug_status wasmplug_bus_bridge_new(wasmplug_bus *bus, const wasmplug_bridge_config *cfg,
                                        wasmplug_bus_bridge **out, wasmplug_plugin_error *err)
{
    if (out)
        *out = NULL;
    if (!bus || !cfg || !out || !cfg->redis_url)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.bridge",
                       "no bus, config, output or redis_url given");
    if (!cfg->topics || cfg->topic_count == 0 || cfg->topic_count > BR_MAX_PATTERNS)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.bridge",
                       "a bridge needs 1 to %d topic patterns", BR_MAX_PATTERNS);
    const char *prefix = cfg->stream_prefix ? cfg->stream_prefix : BR_DEFAULT_PREFIX;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    for (size_t i = 0; i < cfg->topic_count; i++)
        if (!cfg->topics[i] ||
            wasmplug_topic_check(cfg->topics[i], strlen(cfg->topics[i]), true, msg, sizeof msg))
            return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.bridge",
                           "bridged topic %zu: %s", i, cfg->topics[i] ? msg : "NULL");
    ev_bridge *b = calloc(1, sizeof *b);
    if (!b)
        return ev_fail(err, WASMPLUG_ERR_NOMEM, "host", "events.bridge", "out of memory");
    pthread_mutex_init(&b->pub_mu, NULL);
    pthread_mutex_init(&b->readers_mu, NULL);
    b->bus = bus;
    if (wps_redis_url_parse(cfg->redis_url, &b->url, msg, sizeof msg) != WPS_REDIS_OK) {
        bridge_free_fields(b);
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.bridge", "redis_url: %s", msg);
    }
    wps_redis_url_label(&b->url, b->label, sizeof b->label);
    b->max_deliveries = WPS_DEFAULT(cfg->max_deliveries, 5);
    b->claim_idle_ms = WPS_DEFAULT(cfg->claim_idle_ms, 30000);
    b->stream_max_len = WPS_DEFAULT(cfg->stream_max_len, 100000);
    b->dead_letter_max = WPS_DEFAULT(cfg->dead_letter_max, 10000);
    b->publish_timeout_ms = WPS_DEFAULT(cfg->publish_timeout_ms, 5000);
    b->in_flight_max = WPS_DEFAULT(cfg->in_flight_max, 64);
    if (cfg->consumer) {
        snprintf(b->consumer, sizeof b->consumer, "%s", cfg->consumer);
    } else {
        char host[64] = "host";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(b->consumer, sizeof b->consumer, "%s-%ld", host, (long)getpid());
    }
    b->npatterns = cfg->topic_count;
    b->patterns = calloc(b->npatterns, sizeof *b->patterns);
    b->streams = calloc(b->npatterns, sizeof *b->streams);
    bool ok = b->patterns && b->streams && (b->dead_stream = joined(prefix, "dead")) != NULL;
    for (size_t i = 0; ok && i < b->npatterns; i++)
        ok = (b->patterns[i] = strdup(cfg->topics[i])) != NULL &&
             (b->streams[i] = joined(prefix, cfg->topics[i])) != NULL;
    if (ok)
        ok = (b->pub = wps_redis_new(&b->url, NULL)) != NULL;
    if (!ok) {
        if (!b->patterns || !b->streams)
            b->npatterns = 0;
        bridge_free_fields(b);
        return ev_fail(err, WASMPLUG_ERR_NOMEM, "host", "events.bridge", "out of memory");
    }
    if (wps_redis_connect(b->pub, 0, msg, sizeof msg) != WPS_REDIS_OK) {
        bridge_free_fields(b);
        return ev_fail(err, WASMPLUG_ERR_IO, "host", "events.bridge", "%s", msg);
    }
    pthread_rwlock_wrlock(&bus->bridge_lock);
    if (bus->bridge) {
        pthread_rwlock_unlock(&bus->bridge_lock);
        bridge_free_fields(b);
        return ev_fail(err, WASMPLUG_ERR_DUPLICATE, "host", "events.bridge",
                       "the bus has a bridge already");
    }
    bus->bridge = b;
    size_t n;
    ev_sub **subs = ev_subs_snapshot(bus, &n);
    for (size_t i = 0; subs && i < n; i++)
        ev_bridge_sub_added(b, subs[i]);
    if (subs)
        ev_subs_release(subs, n);
    pthread_rwlock_unlock(&bus->bridge_lock);
    *out = b;
    return WASMPLUG_OK;
}

void wasmplug_bus_bridge_free(wasmplug_bus_bridge *b, uint32_t timeout_ms)
{
    if (!b)
        return;
    pthread_rwlock_wrlock(&b->bus->bridge_lock);
    if (b->bus->bridge == b)
        b->bus->bridge = NULL;
    pthread_rwlock_unlock(&b->bus->bridge_lock);
    pthread_mutex_lock(&b->readers_mu);
    br_reader *list = b->readers;
    b->readers = NULL;
    pthread_mutex_unlock(&b->readers_mu);
    /* Stop all first, so that they drain in parallel. */
    for (br_reader *r = list; r; r = r->next) {
        atomic_store(&r->drain_deadline_ms, now_ms() + timeout_ms);
        atomic_store(&r->stop, true);
    }
    while (list) {
        br_reader *next = list->next;
        reader_stop(list, timeout_ms);
        list = next;
    }
    bridge_free_fields(b);
}

void wasmplug_bus_bridge_get_stats(wasmplug_bus_bridge *b, wasmplug_bridge_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!b)
        return;
    out->published = atomic_load(&b->published);
    out->publish_failures = atomic_load(&b->publish_failures);
    out->received = atomic_load(&b->received);
    out->acknowledged = atomic_load(&b->acknowledged);
    out->dead_lettered = atomic_load(&b->dead_lettered);
    out->claimed = atomic_load(&b->claimed);
    out->reconnects = atomic_load(&b->reconnects);
    out->readers = atomic_load(&b->running);
}
