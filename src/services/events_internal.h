/*
 * events_internal.h - the event bus's structures, shared by events.c (bus,
 * queues, workers, publish, request/reply), events_topic.c (topic syntax
 * and matching) and events_stats.c (metrics, dead letters, error history).
 *
 * Locks, in the only order they may nest: sub->mu, then bus->sched_mu.
 * bus->subs_lock (rwlock) is never held while taking a sub->mu; topic_mu,
 * dl_mu, err_mu and req_mu are leaves. bus->bridge_lock (rwlock) is taken
 * before any of them (read by publishers and subscribers, written when a
 * bridge is attached or detached); a bridge reader's own mutex is a leaf,
 * which is what lets ev_settle run under sub->mu.
 */
#ifndef WASMPLUG_EVENTS_INTERNAL_H
#define WASMPLUG_EVENTS_INTERNAL_H

#include "wasmplug/events.h"

#include <pthread.h>
#include <stdatomic.h>

/* Most topics tracked with their own counters. */
#define EV_TOPICS_MAX 4096
/* Events a worker takes from an unbatched queue at once. */
#define EV_TAKE_MAX 64

typedef struct ev_topic {
    char name[WASMPLUG_TOPIC_MAX + 1];
    char *json;      /* name as a JSON string (NULL for "(other)" or no memory) */
    size_t json_len;
    _Atomic uint64_t published, delivered, dropped, failed, unmatched;
} ev_topic;

/* How the delivery of an event to one subscription ended (ev_event.done). */
typedef enum ev_outcome {
    EV_DELIVERED, /* the handler succeeded */
    EV_FAILED,    /* failed for good: retried, then dead-lettered */
    EV_DISCARDED  /* never delivered: dropped from a full queue, unsubscribed, shutdown */
} ev_outcome;

typedef struct ev_event ev_event;
/* Told how an event queued for exactly one subscription ended (the bridge
 * acknowledges its stream entry); called once, possibly under sub->mu. */
typedef void (*ev_done_fn)(void *ctx, const ev_event *ev, ev_outcome outcome, uint32_t attempts,
                           wasmplug_status code, const char *error);

/* One published event, shared (reference counted) by every queue it is in. */
struct ev_event {
    _Atomic uint32_t refs;
    uint32_t hops;
    uint64_t id;
    uint64_t time_ms;
    uint64_t published_ns; /* monotonic, for latency */
    ev_topic *stats;
    const char *topic;
    const char *source;
    const char *reply_to;  /* NULL unless a request */
    const char *payload;
    size_t payload_len;
    char *json;            /* the event JSON delivered to plugins (in data) */
    size_t json_len;
    ev_done_fn done;       /* NULL, or set by the bridge for one subscription */
    void *done_ctx;
    char data[];           /* topic, source, reply_to, payload, json, NUL-terminated */
};

enum { EV_LIST_NONE = 0, EV_LIST_READY, EV_LIST_DELAYED };

typedef struct ev_sub {
    _Atomic uint32_t refs;
    uint64_t id;
    char pattern[WASMPLUG_TOPIC_MAX + 1];
    char subscriber[WASMPLUG_NAME_MAX]; /* plugin name or "host" */
    char group[WASMPLUG_NAME_MAX];      /* subscriber group (bridged topics) */
    bool is_plugin;
    char handler[WASMPLUG_NAME_MAX];    /* "" = choose from the exports */
    wasmplug_event_fn fn;
    void *user;
    wasmplug_subscription_options opt;

    pthread_mutex_t mu;
    pthread_cond_t not_full; /* publishers blocked on a full queue */
    pthread_cond_t idle;     /* a delivery finished */
    ev_event **ring;
    uint32_t head, count;
    bool owned;     /* in a scheduler list or being delivered by a worker */
    bool running;   /* a worker is delivering now */
    _Atomic bool removed;
    pthread_t runner;

    /* under sub->mu */
    uint64_t enqueued, delivered, deliveries, dropped, rejected, failed, retries, discarded;
    uint32_t queue_max;
    uint64_t latency_total_ns, latency_max_ns;
    uint64_t latency_hist[WASMPLUG_LATENCY_BUCKETS]; /* <wasmplug.h> */

    /* under bus->sched_mu */
    int list;
    uint64_t deadline_ns;
    struct ev_sub *next, *prev;

    /* only the worker delivering touches these */
    wasmplug_plugin *plugin;
    char resolved_handler[WASMPLUG_NAME_MAX];
} ev_sub;

typedef struct ev_waiter {
    uint64_t inbox;
    bool done, cancelled;
    wasmplug_buf reply;
    pthread_cond_t cv;
    struct ev_waiter *next;
} ev_waiter;

typedef struct ev_link ev_link;
typedef struct wasmplug_bus_bridge ev_bridge; /* events_bridge.c */

typedef struct ev_dead {
    wasmplug_dead_letter letter; /* letter.json owned */
} ev_dead;

struct wasmplug_bus {
    wasmplug_host *host;
    wasmplug_bus_config cfg;

    _Atomic uint64_t next_event_id, next_sub_id, next_inbox;
    _Atomic bool shutting;
    _Atomic uint32_t active_publishers;
    /* Bridge reads from Redis in progress (events_bridge.c): each counts
     * itself, then checks shutting; shutdown sets shutting, then waits for
     * zero, so no read begun before it takes an entry after it. */
    _Atomic uint32_t bridge_reads;

    pthread_rwlock_t subs_lock;
    ev_sub **subs;
    size_t sub_count, sub_cap;

    pthread_mutex_t sched_mu;
    pthread_cond_t work_cv;
    ev_sub *ready_head, *ready_tail;
    ev_sub *delayed;   /* doubly linked, unsorted */
    _Atomic bool stop;
    pthread_t *workers;
    uint32_t worker_count;
    pthread_mutex_t pause_mu; /* retry backoff sleeps; woken by shutdown */
    pthread_cond_t pause_cv;

    pthread_mutex_t req_mu;
    ev_waiter *waiters;

    pthread_mutex_t topic_mu;
    ev_topic **topic_slots; /* open addressing, EV_TOPICS_MAX * 2 slots */
    size_t topic_count;
    ev_topic other;         /* topics beyond EV_TOPICS_MAX */

    pthread_mutex_t dl_mu;
    ev_dead *dead;          /* ring of cfg.dead_letter_max */
    size_t dead_head, dead_count;

    pthread_mutex_t err_mu;
    wasmplug_plugin_error *errors; /* ring of cfg.error_history */
    size_t err_head, err_count;

    _Atomic uint64_t published, publish_errors, hop_limited, requests, replies,
        request_timeouts, dead_letters, dead_letters_evicted, uncommitted;
    ev_link *link; /* set by wasmplug_bus_attach (owned by the host) */
    pthread_rwlock_t bridge_lock;
    ev_bridge *bridge; /* under bridge_lock: the Redis bridge, or NULL */
    bool shut_down;
};

/* ---- events_topic.c ---- */
/* Copy text into dst (size > 0) for a message: printable ASCII kept, other
 * bytes as \xNN, truncated with "..." if long. */
void ev_escape(char *dst, size_t size, const char *text, size_t len);

/* ---- events_plugin.c ---- */
/* Stop the host from reaching the bus (waits for imports in progress). */
void ev_link_detach(wasmplug_bus *bus);

/* ---- events_bridge.c (called with bus->bridge_lock read-held) ---- */
/* Whether events on topic go through Redis rather than to the local queues. */
bool ev_bridge_routes(ev_bridge *b, const char *topic);
/* Write ev to its stream (XADD): OK only once Redis acknowledged it. */
wasmplug_status ev_bridge_publish(ev_bridge *b, const ev_event *ev, wasmplug_plugin_error *err);
/* A subscription was added / is being removed: start / stop its readers. */
void ev_bridge_sub_added(ev_bridge *b, ev_sub *s);
void ev_bridge_sub_removed(ev_bridge *b, ev_sub *s);

/* ---- events_stats.c ---- */
wasmplug_status ev_topics_init(wasmplug_bus *bus);
void ev_topics_free(wasmplug_bus *bus);
/* The counters of topic (a valid topic), created on first use. */
ev_topic *ev_topic_stats(wasmplug_bus *bus, const char *topic);
void ev_sub_record_latency(ev_sub *sub, uint64_t ns);
void ev_sub_fill_stats(ev_sub *sub, wasmplug_subscription_stats *out);
wasmplug_status ev_dead_init(wasmplug_bus *bus);
void ev_dead_free(wasmplug_bus *bus);
void ev_dead_add(wasmplug_bus *bus, const ev_sub *sub, const ev_event *ev, uint32_t attempts,
                 wasmplug_status code, const char *error);
/* Record a bus error (copies err) in the bounded history. */
void ev_error_record(wasmplug_bus *bus, const wasmplug_plugin_error *err);

/* Fill err (may be NULL): code, plugin (source), function, message. */
wasmplug_status ev_fail(wasmplug_plugin_error *err, wasmplug_status code, const char *source,
                        const char *function, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ---- events.c ---- */
/* Check and build an event, not queued yet (*out holds one reference). */
wasmplug_status ev_prepare(wasmplug_bus *bus, const char *source, uint32_t hops,
                           const char *topic, size_t topic_len, const char *payload,
                           size_t payload_len, const char *reply_to, ev_event **out,
                           wasmplug_plugin_error *err);
/* Queue a prepared event for every matching subscription (consumes the
 * reference); *matched (may be NULL) gets how many matched. Call between
 * ev_publish_enter and ev_publish_leave. */
wasmplug_status ev_dispatch(wasmplug_bus *bus, ev_event *ev, size_t *matched,
                            wasmplug_plugin_error *err);
void ev_event_unref(ev_event *ev);
/* Queue ev (its done callback set) for s alone, as the bridge does with a
 * stream entry; consumes the reference. A refusal (full queue under REJECT
 * or BLOCK, removed subscription) settles it as EV_DISCARDED. */
wasmplug_status ev_enqueue_one(wasmplug_bus *bus, ev_sub *s, ev_event *ev);
/* Tell ev's done callback (if any) how its delivery ended; once only. */
void ev_settle(ev_event *ev, ev_outcome outcome, uint32_t attempts, wasmplug_status code,
               const char *error);
/* Take and drop a reference to a subscription (the bridge's readers). */
void ev_sub_ref(ev_sub *s);
void ev_sub_unref(ev_sub *s);
/* A snapshot of the subscriptions, each with a reference (release with
 * ev_subs_release). */
ev_sub **ev_subs_snapshot(wasmplug_bus *bus, size_t *count);
void ev_subs_release(ev_sub **list, size_t n);
/* A string as a JSON string (escaped by jansson): malloc'd, NULL if it is
 * not UTF-8 or memory ran out. */
char *ev_json_string(const char *s, size_t len, size_t *out_len);
/* Count a publish in progress (false, with err filled, if shutting down). */
bool ev_publish_enter(wasmplug_bus *bus, const char *source, wasmplug_plugin_error *err);
wasmplug_status ev_publish_leave(wasmplug_bus *bus, wasmplug_status st);
/* Request inboxes: "_inbox.<n>" topics route straight to a waiting request. */
/* wasmplug_bus_request_from for a plugin's call: the wait for the reply
 * also ends when stop(stop_user) returns a failure (the call's timeout or
 * cancel), with that status; checked every EV_REQUEST_POLL_MS. */
#define EV_REQUEST_POLL_MS 10
wasmplug_status ev_request(wasmplug_bus *bus, const char *source, uint32_t hops,
                           const char *topic, size_t topic_len, const char *payload,
                           size_t payload_len, uint32_t timeout_ms,
                           wasmplug_status (*stop)(void *user), void *stop_user,
                           wasmplug_buf *reply, wasmplug_plugin_error *err);
bool ev_is_inbox(const char *topic, size_t topic_len);
void ev_reply_to_inbox(wasmplug_bus *bus, const char *topic, size_t topic_len,
                       const void *data, size_t len);
/* Whether this thread is delivering an event of bus to the plugin called
 * plugin; if so *hops is that event's hop count (the largest of a batch). */
bool ev_current_delivery(wasmplug_bus *bus, const char *plugin, uint32_t *hops);

uint64_t ev_now_ns(void);
uint64_t ev_wall_ms(void);

#endif /* WASMPLUG_EVENTS_INTERNAL_H */
