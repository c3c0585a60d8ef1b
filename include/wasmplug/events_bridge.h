/*
 * wasmplug/events_bridge.h - events across machines: a bridge between an
 * event bus (<wasmplug/events.h>) and Redis Streams (services layer,
 * libwasmplug_services, which needs hiredis).
 *
 *     wasmplug_bridge_config bc;
 *     wasmplug_bridge_config_init(&bc);
 *     bc.redis_url = "redis://10.0.0.5:6379/0";
 *     static const char *const topics[] = {"orders.>"};
 *     bc.topics = topics;
 *     bc.topic_count = 1;
 *     wasmplug_bus_bridge *bridge;
 *     wasmplug_bus_bridge_new(bus, &bc, &bridge, &err);
 *     ... subscribe and publish on the bus as usual ...
 *     wasmplug_bus_bridge_free(bridge, 5000);     // before wasmplug_bus_free
 *
 * Routing
 * -------
 * Each bridged pattern P has a stream, <stream_prefix>P. An event whose
 * topic matches a bridged pattern (the first that matches, in the order
 * given) is written to that stream (XADD) instead of the bus's queues;
 * every bus bridged to the same Redis and prefix then delivers it from the
 * stream, this one included. Other topics, requests (wasmplug_bus_request)
 * and their replies stay in the process.
 *
 * Subscriber groups
 * -----------------
 * A subscription whose pattern can match a bridged topic reads the
 * streams it overlaps in the Redis consumer group "<group>|<pattern>",
 * where group is its options' group (by default the subscriber's name: the
 * plugin's, or "host"). So each event reaches every group once: a plugin
 * subscribed on five machines under the same group gets each event on one
 * of them; groups with different names each get all of them. A group is
 * created at the end of the stream when a subscription first needs it
 * (by the subscribe call, or by the bridge for subscriptions made before
 * it): it gets the events published after that, as a subscription in the
 * process does. If Redis is unreachable then, the reader creates it when
 * it connects.
 *
 * Delivery and acknowledgement
 * ----------------------------
 * Entries read from a stream are queued for the subscription that read
 * them and delivered by the bus's workers with the subscription's options
 * (batching, retries with backoff), exactly as local events. The entry is
 * acknowledged (XACK) only after its handler succeeded, or after it failed
 * for good: then it is also written to the dead-letter stream
 * <stream_prefix>dead (fields: group, pattern, topic, consumer, attempts,
 * error, event; trimmed to about dead_letter_max entries) and to the bus's
 * own dead-letter list, in one MULTI/EXEC with the XACK. An entry whose
 * consumer died before acknowledging it stays pending in the group; after
 * claim_idle_ms any consumer of the group claims it (XCLAIM) and delivers
 * it again. An entry handed out max_deliveries times without being
 * acknowledged (it kills its consumers, or they keep dying) is
 * dead-lettered instead of delivered again. At most in_flight_max entries
 * per subscription are read ahead of their acknowledgement.
 *
 * Guarantees
 * ----------
 * - wasmplug_bus_publish of a bridged topic returns OK only after Redis
 *   acknowledged the XADD (reconnecting with backoff for up to
 *   publish_timeout_ms, then ERR_IO). A plugin's bridged publishes are
 *   written when its call ends successfully (the call's transactional
 *   publishing); if they cannot be written the call fails with ERR_IO
 *   (key-value writes the call committed before that stay committed).
 *   So a publish acknowledged to its publisher is in Redis, as durable as
 *   the server makes it: with appendonly yes and appendfsync always it
 *   survives a Redis crash or restart; with Redis's default it may lose
 *   the last second.
 * - Delivery is at least once, per group: every entry is delivered to a
 *   subscription of every group until a handler succeeded or it was
 *   dead-lettered. Duplicates happen: a consumer that dies after its
 *   handler ran but before the XACK reached Redis, an entry claimed while
 *   its handler is still running elsewhere (a handler slower than
 *   claim_idle_ms), and an XADD repeated after its reply was lost with
 *   the connection (the event then is twice in the stream). Handlers that
 *   must not repeat an effect de-duplicate on the payload (an id of the
 *   publisher's).
 * - Order: entries of one stream are read in stream order; with several
 *   machines in a group, or retries, or redeliveries, handlers may see
 *   them out of order.
 * - Streams are trimmed to about stream_max_len entries (XADD MAXLEN ~): a
 *   group that falls further behind loses the oldest.
 * - When Redis is unreachable, publishes wait up to publish_timeout_ms and
 *   then fail; readers reconnect with backoff (capped at 2 s) until it is
 *   back, re-creating their groups if Redis lost them, and acknowledge
 *   what was delivered meanwhile.
 *
 * Event ids and times in the delivered JSON are the receiving bus's; the
 * source and hop count travel with the event (cycles stop at the
 * receiving bus's max_hops).
 *
 * Threads: one reader thread per subscription that reads bridged streams,
 * each with its own Redis connection, plus one connection for publishing.
 * Every function may be called from any thread.
 */
#ifndef WASMPLUG_EVENTS_BRIDGE_H
#define WASMPLUG_EVENTS_BRIDGE_H

#include <wasmplug/events.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_bus_bridge wasmplug_bus_bridge;

typedef struct wasmplug_bridge_config {
    /* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:///PATH[?db=N]. */
    const char *redis_url;
    /* The bridged patterns (topic syntax with "*" and ">"), 1..64. */
    const char *const *topics;
    size_t topic_count;
    const char *stream_prefix;  /* NULL: "wasmplug:events:" */
    const char *consumer;       /* this bus in the groups; NULL: "<hostname>-<pid>" */
    uint32_t max_deliveries;    /* hand-outs before dead-lettering; 0 = 5 */
    uint32_t claim_idle_ms;     /* pending this long: claimed; 0 = 30000 */
    uint32_t stream_max_len;    /* about this many entries kept per stream; 0 = 100000 */
    uint32_t dead_letter_max;   /* about this many dead letters kept; 0 = 10000 */
    uint32_t publish_timeout_ms; /* a publish waits this long for Redis; 0 = 5000 */
    uint32_t in_flight_max;     /* read ahead per subscription; 0 = 64 */
} wasmplug_bridge_config;

/** Defaults (no URL, no topics). */
WASMPLUG_API void wasmplug_bridge_config_init(wasmplug_bridge_config *cfg);

/**
 * Bridge bus to Redis as cfg says (copied) and start the readers of the
 * subscriptions already there (later ones get theirs when they subscribe).
 * Connects once to check the URL: ERR_ARGUMENT (bad URL, pattern, prefix,
 * no topics), ERR_IO (Redis cannot be reached, with the reason; nothing is
 * started), ERR_DUPLICATE (the bus has a bridge already), ERR_NOMEM.
 * err may be NULL.
 */
WASMPLUG_API wasmplug_status wasmplug_bus_bridge_new(wasmplug_bus *bus,
                                                     const wasmplug_bridge_config *cfg,
                                                     wasmplug_bus_bridge **out,
                                                     wasmplug_plugin_error *err);

/**
 * Detach from the bus and stop: readers stop reading, wait up to
 * timeout_ms for the entries they queued to be delivered and acknowledge
 * them; entries still undelivered then stay pending in Redis (another
 * consumer claims them after claim_idle_ms). Publishing on bridged topics
 * then goes to the local queues again. Call before wasmplug_bus_free (the
 * bridge must not outlive its bus); once wasmplug_bus_shutdown returns,
 * its readers take no more entries (the shutdown waits for a read already
 * waiting in Redis, up to 100 ms; what that read took waits claim_idle_ms
 * for another reader). NULL is fine.
 */
WASMPLUG_API void wasmplug_bus_bridge_free(wasmplug_bus_bridge *bridge, uint32_t timeout_ms);

typedef struct wasmplug_bridge_stats {
    uint64_t published;        /* entries written (XADD acknowledged) */
    uint64_t publish_failures; /* publishes that failed (Redis unreachable, refused) */
    uint64_t received;         /* entries read and queued for a subscription */
    uint64_t acknowledged;     /* entries acknowledged after delivery */
    uint64_t dead_lettered;    /* entries moved to the dead-letter stream */
    uint64_t claimed;          /* entries claimed from idle consumers */
    uint64_t reconnects;       /* connections made again after a loss */
    uint32_t readers;          /* reader threads running */
} wasmplug_bridge_stats;

/** The bridge's counters. */
WASMPLUG_API void wasmplug_bus_bridge_get_stats(wasmplug_bus_bridge *bridge,
                                                wasmplug_bridge_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_EVENTS_BRIDGE_H */
