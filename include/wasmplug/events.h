/*
 * wasmplug/events.h - the event bus (services layer, libwasmplug_services,
 * which needs jansson).
 *
 * Topics are dot-separated segments ("content.created"). Subscriptions take
 * patterns where "*" matches exactly one segment and ">" (last segment only)
 * matches one or more remaining segments: "content.*" matches
 * "content.created" but not "content.a.b"; "content.>" matches both.
 *
 *     wasmplug_bus *bus;
 *     wasmplug_bus_new(host, NULL, &bus);           // host may be NULL
 *     uint64_t sub;
 *     wasmplug_bus_subscribe(bus, "content.*", NULL, on_event, ctx, &sub);
 *     wasmplug_bus_subscribe_plugin(bus, "content.*", NULL, "indexer", NULL, &sub);
 *     wasmplug_bus_publish(bus, "content.created", "{\"id\":1}", 8, NULL, NULL);
 *     ...
 *     wasmplug_bus_report report;
 *     wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, 5000, &report);
 *     wasmplug_bus_free(bus);                        // before wasmplug_host_free
 *
 * Events
 * ------
 * An event is a topic, a payload that is one JSON value (any JSON text:
 * object, array, string, number...), a bus-unique id (1, 2, 3...), the
 * publish time (ms since the Unix epoch), its source ("host" or the
 * publishing plugin's name), a hop count and, for requests, a reply_to
 * inbox. Subscribers see it as the JSON object
 *
 *     {"topic":"content.created","id":17,"time":1764760000000,
 *      "source":"editor","hops":0,"payload":{...}}
 *
 * (plus "reply_to":"_inbox.5" for a request). A batched subscription gets
 * a JSON array of such objects in one delivery.
 *
 * Delivery
 * --------
 * Publishing copies the event into the bounded queue of every matching
 * subscription and returns; worker threads (config.workers) deliver. Each
 * subscription is served by one worker at a time, so a subscriber receives
 * the events of one publisher (one thread, or one plugin) in the order they
 * were published. What a full queue does is chosen per subscription
 * (wasmplug_bus_full_policy); every event a subscription loses is counted in
 * its metrics. A delivery that fails (the host callback returns non-zero,
 * the plugin's handler traps, exceeds a limit, returns an error, or the
 * plugin is not loaded) is retried options.retries times, retry_backoff_ms
 * apart, then moved to the bus's bounded dead-letter list with its error.
 *
 * Plugin subscribers receive events through a bytes call of their handler
 * export (wasmplug_plugin_call): ABI v1 `on_event` (() -> i32) reads the
 * event JSON as its input; the compatibility ABI's `plugin_handle_event`
 * (ptr, len) -> i64 gets the same bytes. The subscription names the plugin,
 * not a handle: a plugin killed and loaded again under the same name keeps
 * receiving; while it is absent its deliveries fail (and are retried).
 *
 * Hops and cycles
 * ---------------
 * An event published by a plugin while it handles an event gets that
 * event's hop count + 1. Publishing beyond config.max_hops fails with
 * WASMPLUG_ERR_LIMIT, is recorded in the bus's error list and counted
 * (wasmplug_bus_stats.hop_limited), so plugins publishing in a cycle stop.
 *
 * Request/reply
 * -------------
 * wasmplug_bus_request publishes an event with a fresh reply_to topic
 * ("_inbox.<n>") and waits for the first reply. A host subscriber replies
 * with wasmplug_bus_reply; a plugin subscriber's handler output (for a
 * single, unbatched event) is its reply, or it publishes to the reply_to
 * topic (inbox topics need no grant). Replies to an inbox nobody waits for
 * any more are ignored.
 *
 * Threads and callbacks
 * ---------------------
 * Every function may be called from any thread. Subscriber callbacks run on
 * bus worker threads with no bus lock held; they may publish, subscribe and
 * unsubscribe (but not shut the bus down or free it).
 *
 * Errors
 * ------
 * Functions return a wasmplug_status and, when given a wasmplug_plugin_error
 * (may be NULL), fill its code, message (naming the topic, the limit, the
 * plugin) and plugin ("host" for host publishers). Topic errors are
 * WASMPLUG_ERR_ARGUMENT with the byte offset of the problem.
 */
#ifndef WASMPLUG_EVENTS_H
#define WASMPLUG_EVENTS_H

#include <wasmplug.h>
#include <wasmplug/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_bus wasmplug_bus;

/** Longest topic or pattern in bytes (excluding the NUL). */
#define WASMPLUG_TOPIC_MAX 255
/** Most segments in a topic or pattern. */
#define WASMPLUG_TOPIC_SEGMENTS_MAX 32
/** The prefix of request inboxes (reserved: no one else may publish there). */
#define WASMPLUG_BUS_INBOX_PREFIX "_inbox."

/* ------------------------------------------------------------------------ */
/* Topics                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Check a topic (pattern = false) or a subscription pattern (pattern = true).
 * A topic is 1..WASMPLUG_TOPIC_MAX bytes of UTF-8 without control
 * characters or spaces, split by '.' into 1..WASMPLUG_TOPIC_SEGMENTS_MAX
 * non-empty segments. In a pattern a segment may be "*", and the last
 * segment may be ">"; in a topic neither '*' nor '>' may appear. len is
 * the topic's length (it need not be NUL-terminated). On failure returns
 * WASMPLUG_ERR_ARGUMENT and writes a message naming the problem and its
 * byte offset into msg (may be NULL).
 */
WASMPLUG_API wasmplug_status wasmplug_topic_check(const char *topic, size_t len, bool pattern,
                                                  char *msg, size_t msg_size);

/** Whether a valid topic matches a valid pattern. */
WASMPLUG_API bool wasmplug_topic_matches(const char *pattern, const char *topic);

/* ------------------------------------------------------------------------ */
/* The bus                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_bus_config {
    uint32_t workers;          /* delivery threads; 0 = 2 */
    uint32_t max_payload;      /* bytes of payload JSON; 0 = 1 MiB */
    uint32_t max_hops;         /* hop limit; 0 = 8 */
    uint32_t dead_letter_max;  /* dead letters kept (oldest evicted); 0 = 256 */
    uint32_t error_history;    /* bus errors kept (hop limits...); 0 = 64 */
} wasmplug_bus_config;

/**
 * Create a bus and start its workers. host (may be NULL for a host-only
 * bus) is where plugin subscribers are looked up by name; it must outlive
 * the bus. cfg may be NULL for defaults.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_new(wasmplug_host *host,
                                              const wasmplug_bus_config *cfg,
                                              wasmplug_bus **out);

/** What shutdown does with events still queued. */
typedef enum wasmplug_bus_shutdown_mode {
    WASMPLUG_BUS_DRAIN = 0, /* deliver them (up to the timeout, then discard the rest) */
    WASMPLUG_BUS_DISCARD    /* drop them at once */
} wasmplug_bus_shutdown_mode;

/** What a shutdown did. */
typedef struct wasmplug_bus_report {
    uint64_t delivered;  /* events delivered while draining */
    uint64_t discarded;  /* events dropped still queued (DISCARD, or drain timeout) */
    uint64_t failed;     /* deliveries that failed while draining (dead-lettered) */
    bool timed_out;      /* the drain did not finish in time */
} wasmplug_bus_report;

/**
 * Stop accepting publishes (they fail with ERR_PLUGIN_STATE), then drain or
 * discard the queues, stop the workers and fill *report (may be NULL).
 * Waiting requests fail with ERR_CANCELLED. timeout_ms bounds a drain
 * (WASMPLUG_NO_TIMEOUT: wait for everything). Blocked publishers are woken.
 * With a Redis bridge, the reads from Redis in progress end first (up to
 * 100 ms; a Redis that stopped answering, up to its command timeout) and
 * no later one begins.
 * A second call returns ERR_PLUGIN_STATE. Must not be called from a
 * subscriber callback.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_shutdown(wasmplug_bus *bus,
                                                   wasmplug_bus_shutdown_mode mode,
                                                   uint32_t timeout_ms,
                                                   wasmplug_bus_report *report);

/** Shut down (discarding, if not done) and free. NULL is fine. */
WASMPLUG_API void wasmplug_bus_free(wasmplug_bus *bus);

/* ------------------------------------------------------------------------ */
/* Subscribing                                                              */
/* ------------------------------------------------------------------------ */

/** What publishing into a full subscription queue does. */
typedef enum wasmplug_bus_full_policy {
    WASMPLUG_FULL_DROP_OLDEST = 0, /* the oldest queued event is dropped (counted) */
    WASMPLUG_FULL_REJECT,          /* the publish fails with ERR_LIMIT (counted as
                                      rejected; other subscribers still get it) */
    WASMPLUG_FULL_BLOCK            /* the publisher waits up to block_timeout_ms for
                                      room, then fails with ERR_TIMEOUT */
} wasmplug_bus_full_policy;

/** "drop_oldest", "reject" or "block". */
WASMPLUG_API const char *wasmplug_bus_full_policy_string(wasmplug_bus_full_policy p);
/** Parse one of those names; false if unknown. */
WASMPLUG_API bool wasmplug_bus_full_policy_parse(const char *s, wasmplug_bus_full_policy *out);

typedef struct wasmplug_subscription_options {
    uint32_t queue_size;        /* events queued at most; 0 = 1024 */
    wasmplug_bus_full_policy on_full;
    uint32_t block_timeout_ms;  /* WASMPLUG_FULL_BLOCK; 0 = 1000 */
    uint32_t batch_max;         /* > 1: deliver up to this many events in one call */
    uint32_t batch_window_ms;   /* with batch_max: wait up to this long for a full batch */
    uint32_t retries;           /* further attempts after a failed delivery */
    uint32_t retry_backoff_ms;  /* pause before each retry */
    /* Subscriber group, for topics bridged to Redis (<wasmplug/events_bridge.h>):
     * each event reaches one subscription of a group across all machines.
     * NULL: the subscriber's name (the plugin's, or "host"). Copied. */
    const char *group;
} wasmplug_subscription_options;

#define WASMPLUG_SUBSCRIPTION_OPTIONS_INIT {0, WASMPLUG_FULL_DROP_OLDEST, 0, 0, 0, 0, 0, NULL}

/** One event as a host subscriber sees it (valid during the callback). */
typedef struct wasmplug_event {
    const char *topic;
    uint64_t id;
    uint64_t time_ms;      /* publish time, ms since the Unix epoch */
    const char *source;    /* "host" or the publishing plugin's name */
    uint32_t hops;
    const char *reply_to;  /* inbox topic of a request, or NULL */
    const char *payload;   /* the payload JSON as published */
    size_t payload_len;
    const char *json;      /* the whole event object as delivered to plugins */
    size_t json_len;
} wasmplug_event;

/**
 * A host subscriber: count events (1 unless batched), oldest first. Return
 * 0 for success; non-zero fails the delivery (message: *error, if set to a
 * static or bus-lifetime string, else a generic one) and the events are
 * retried, then dead-lettered.
 */
typedef int (*wasmplug_event_fn)(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                                 size_t count, const char **error);

/**
 * Subscribe a host callback to pattern. opts may be NULL for defaults.
 * *id (may be NULL) receives the subscription id (never 0).
 */
WASMPLUG_API wasmplug_status wasmplug_bus_subscribe(wasmplug_bus *bus, const char *pattern,
                                                    const wasmplug_subscription_options *opts,
                                                    wasmplug_event_fn fn, void *user,
                                                    uint64_t *id,
                                                    wasmplug_plugin_error *err);

/**
 * Subscribe the plugin called plugin_name (in the bus's host) to pattern:
 * each delivery is a bytes call of handler (NULL: "on_event", or
 * "plugin_handle_event" if the plugin exports that and no on_event) with
 * the event JSON (or, batched, the JSON array) as input. The plugin need not
 * be loaded yet. No grant is checked here (wasmplug_bus_attach_plugin
 * checks the manifest's events.subscribe against the host policy).
 */
WASMPLUG_API wasmplug_status wasmplug_bus_subscribe_plugin(
    wasmplug_bus *bus, const char *pattern, const wasmplug_subscription_options *opts,
    const char *plugin_name, const char *handler, uint64_t *id, wasmplug_plugin_error *err);

/**
 * Remove a subscription. Queued events are discarded (counted in the
 * report of the call, *discarded, may be NULL); a delivery in progress
 * finishes first (this call waits for it unless called from that delivery).
 * ERR_NOT_FOUND for an unknown id.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_unsubscribe(wasmplug_bus *bus, uint64_t id,
                                                      uint64_t *discarded);

/** Remove every subscription of the plugin called plugin_name; returns how many. */
WASMPLUG_API size_t wasmplug_bus_unsubscribe_plugin(wasmplug_bus *bus, const char *plugin_name);

/* ------------------------------------------------------------------------ */
/* Publishing                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Publish payload (one JSON value, payload_len bytes; NULL/0 = null) on
 * topic as the host. *id (may be NULL) gets the event id. Errors:
 * ERR_ARGUMENT (bad topic, "_inbox." topic that no request waits on is
 * ignored instead), ERR_SERIALIZATION (payload is not JSON: line and
 * column), ERR_INPUT_TOO_LARGE (over max_payload), ERR_LIMIT (a REJECT
 * subscription was full), ERR_TIMEOUT (a BLOCK subscription stayed full),
 * ERR_PLUGIN_STATE (shutting down). With ERR_LIMIT/ERR_TIMEOUT the other
 * matching subscriptions still received the event. Publishing with no
 * matching subscriber succeeds (counted in the topic's metrics).
 */
WASMPLUG_API wasmplug_status wasmplug_bus_publish(wasmplug_bus *bus, const char *topic,
                                                  const char *payload, size_t payload_len,
                                                  uint64_t *id, wasmplug_plugin_error *err);

/**
 * Publish on behalf of a source ("host" or a plugin name) with a hop count
 * (what the plugin-facing import uses; embedders relaying events from
 * elsewhere may use it too). hops > config.max_hops fails with ERR_LIMIT
 * and is recorded.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_publish_from(wasmplug_bus *bus, const char *source,
                                                       uint32_t hops, const char *topic,
                                                       size_t topic_len, const char *payload,
                                                       size_t payload_len, uint64_t *id,
                                                       wasmplug_plugin_error *err);

/**
 * Request/reply: publish payload on topic with a fresh reply_to inbox and
 * wait up to timeout_ms for the first reply, copied to *reply (free with
 * wasmplug_buf_free). ERR_NOT_FOUND if no subscription matches topic,
 * ERR_TIMEOUT if no reply came in time, ERR_CANCELLED if the bus shuts
 * down meanwhile; publishing errors as wasmplug_bus_publish.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_request(wasmplug_bus *bus, const char *topic,
                                                  const char *payload, size_t payload_len,
                                                  uint32_t timeout_ms, wasmplug_buf *reply,
                                                  wasmplug_plugin_error *err);
/** Same, on behalf of a source with a hop count (see wasmplug_bus_publish_from). */
WASMPLUG_API wasmplug_status wasmplug_bus_request_from(wasmplug_bus *bus, const char *source,
                                                       uint32_t hops, const char *topic,
                                                       size_t topic_len, const char *payload,
                                                       size_t payload_len, uint32_t timeout_ms,
                                                       wasmplug_buf *reply,
                                                       wasmplug_plugin_error *err);

/**
 * Reply to a request event (from a host subscriber's callback, or later):
 * the waiting requester gets payload (any bytes). ERR_ARGUMENT if the event
 * is not a request; ERR_NOT_FOUND if nobody waits any more (already
 * answered, timed out).
 */
WASMPLUG_API wasmplug_status wasmplug_bus_reply(wasmplug_bus *bus, const wasmplug_event *event,
                                                const void *payload, size_t len);

/* ------------------------------------------------------------------------ */
/* Plugins                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Make the bus a service of its host (before any plugin is loaded into the
 * host): plugins may then import, from module "wasmplug" (docs/ABI.md),
 *
 *   event_publish(topic_ptr, topic_len, payload_ptr, payload_len) -> i32
 *   event_request(topic_ptr, topic_len, payload_ptr, payload_len,
 *                 timeout_ms) -> i32
 *
 * Importing either needs a granted "events.publish:<pattern>" permission;
 * each publish is checked against the granted patterns (wildcards as in
 * subscriptions), except replies to a request's reply_to inbox.
 *
 * Publishing is transactional: the events a call publishes are checked at
 * once (topic, grant, size, JSON, hop limit: failures return -status to
 * the plugin with the message readable by wasmplug.result_read), and sent
 * when the call ends successfully, in order; if the call traps, fails or
 * hits a limit they are dropped (counted in wasmplug_bus_stats.uncommitted).
 * A full REJECT or BLOCK queue met when they are sent can no longer fail
 * the call: it is recorded in the bus's errors. Requests (and replies) go
 * at once. event_request waits for the reply on the plugin's thread: it
 * returns the reply's length, the reply being the result. No reply within
 * its timeout_ms is a soft error (-ERR_TIMEOUT); the calling plugin's own
 * call timeout, a cancel or a kill ends the wait too (looked at every 10
 * ms) and fails the call with ERR_TIMEOUT or ERR_CANCELLED.
 *
 * A plugin delivering an event that publishes gives the new event that
 * event's hop count + 1 (see "Hops and cycles").
 *
 * Errors: ERR_ARGUMENT (no host), ERR_DUPLICATE (a bus is attached to the
 * host already), ERR_PLUGIN_STATE (plugins were loaded already). The bus
 * must be freed before the host, as the plugin handles it holds must.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_attach(wasmplug_bus *bus, wasmplug_plugin_error *err);

/** One subscription a plugin's manifest asks for. */
typedef struct wasmplug_bus_plugin_sub {
    const char *pattern;
    const char *handler;                   /* NULL: on_event / plugin_handle_event */
    wasmplug_subscription_options options; /* batching, queue, policy, retries */
} wasmplug_bus_plugin_sub;

/**
 * Subscribe a loaded plugin as its manifest asks. Each pattern needs the
 * permission "events.subscribe:<pattern>" (requested by the plugin and
 * allowed by the host policy); if one is missing nothing is subscribed
 * and ERR_PERMISSION_DENIED names the pattern and the permission.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_subscribe_manifest(wasmplug_bus *bus,
                                                             wasmplug_plugin *plugin,
                                                             const wasmplug_bus_plugin_sub *subs,
                                                             size_t count,
                                                             wasmplug_plugin_error *err);

/**
 * Subscribe a loaded plugin as its parsed manifest asks
 * (doc->subscriptions: patterns and options, permissions.events.subscribe),
 * with the same grant check as wasmplug_bus_subscribe_manifest.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_subscribe_doc(wasmplug_bus *bus,
                                                        wasmplug_plugin *plugin,
                                                        const wasmplug_manifest_doc *doc,
                                                        wasmplug_plugin_error *err);

/* ------------------------------------------------------------------------ */
/* Metrics, dead letters, errors                                            */
/* ------------------------------------------------------------------------ */

/** Counters of one subscription. Latency: publish to delivery done. */
typedef struct wasmplug_subscription_stats {
    uint64_t id;
    char pattern[WASMPLUG_TOPIC_MAX + 1];
    char subscriber[WASMPLUG_NAME_MAX]; /* plugin name, or "host" */
    uint64_t enqueued;      /* events accepted into the queue */
    uint64_t delivered;     /* events delivered successfully */
    uint64_t deliveries;    /* handler calls that succeeded (a batch is one) */
    uint64_t dropped;       /* dropped as oldest from a full queue */
    uint64_t rejected;      /* refused to a publisher (REJECT full, BLOCK timeout) */
    uint64_t failed;        /* events whose delivery failed for good (dead-lettered) */
    uint64_t retries;       /* delivery attempts repeated */
    uint64_t discarded;     /* dropped at shutdown or unsubscribe */
    uint32_t queue_depth;   /* queued now */
    uint32_t queue_max;     /* deepest the queue has been */
    uint64_t latency_total_ns;
    uint64_t latency_max_ns;
    uint64_t latency_p50_ns; /* from a histogram of 4 buckets per power of two: */
    uint64_t latency_p99_ns; /* the top of the quantile's bucket (within 25%) */
} wasmplug_subscription_stats;

/** Counters of one topic (every topic published at least once). */
typedef struct wasmplug_topic_stats {
    char topic[WASMPLUG_TOPIC_MAX + 1];
    uint64_t published;   /* accepted publishes */
    uint64_t delivered;   /* deliveries to subscribers (an event to 3 subscribers: 3) */
    uint64_t dropped;     /* dropped, rejected or discarded copies */
    uint64_t failed;      /* dead-lettered copies */
    uint64_t unmatched;   /* publishes no subscription matched */
} wasmplug_topic_stats;

/** Bus-wide counters. */
typedef struct wasmplug_bus_stats {
    uint64_t published;
    uint64_t publish_errors;   /* publishes that failed (any reason) */
    uint64_t hop_limited;      /* publishes refused by the hop limit */
    uint64_t requests;
    uint64_t replies;
    uint64_t request_timeouts;
    uint64_t dead_letters;     /* ever added */
    uint64_t dead_letters_evicted; /* pushed out of the bounded list */
    uint64_t uncommitted;      /* plugin publishes dropped because their call failed */
    uint32_t subscriptions;
    uint32_t topics;           /* distinct topics tracked */
} wasmplug_bus_stats;

WASMPLUG_API void wasmplug_bus_get_stats(wasmplug_bus *bus, wasmplug_bus_stats *out);
/** Stats of one subscription; ERR_NOT_FOUND if unknown. */
WASMPLUG_API wasmplug_status wasmplug_bus_subscription_stats(wasmplug_bus *bus, uint64_t id,
                                                             wasmplug_subscription_stats *out);
/**
 * Stats of every subscription: *out gets an array of *count (freed with
 * wasmplug_free).
 */
WASMPLUG_API wasmplug_status wasmplug_bus_list_subscriptions(wasmplug_bus *bus,
                                                             wasmplug_subscription_stats **out,
                                                             size_t *count);
/** Stats of one topic; ERR_NOT_FOUND if never published. */
WASMPLUG_API wasmplug_status wasmplug_bus_topic_stats(wasmplug_bus *bus, const char *topic,
                                                      wasmplug_topic_stats *out);
/**
 * Stats of every topic tracked (at most 4096 distinct topics are tracked;
 * later ones count under the topic "(other)"): an array freed with
 * wasmplug_free.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_list_topics(wasmplug_bus *bus,
                                                      wasmplug_topic_stats **out,
                                                      size_t *count);

/** A delivery that failed for good. Self-contained copy. */
typedef struct wasmplug_dead_letter {
    uint64_t subscription;
    char subscriber[WASMPLUG_NAME_MAX];
    char topic[WASMPLUG_TOPIC_MAX + 1];
    uint64_t event_id;
    uint64_t time_ms;      /* when it was dead-lettered */
    uint32_t attempts;
    wasmplug_status code;
    char error[256];
    char *json;            /* the event JSON (owned by the array, see below) */
} wasmplug_dead_letter;

/**
 * Copy the dead letters, oldest first, into *out (an array of *count freed
 * with wasmplug_bus_dead_letters_free). With clear, the list is emptied.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_dead_letters(wasmplug_bus *bus, bool clear,
                                                       wasmplug_dead_letter **out,
                                                       size_t *count);
WASMPLUG_API void wasmplug_bus_dead_letters_free(wasmplug_dead_letter *letters, size_t count);

/**
 * The bus's recent errors (hop limits, rejected publishes by plugins,
 * dead letters), oldest first: copies up to max into out, returns how many.
 */
WASMPLUG_API size_t wasmplug_bus_errors(wasmplug_bus *bus, wasmplug_plugin_error *out,
                                        size_t max);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_EVENTS_H */
