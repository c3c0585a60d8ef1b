/*
 * serve_queue.h - `wasmplug serve --queue-redis URL`: calls forwarded to the
 * workers of a Redis stream (<wasmplug/queue.h>, `wasmplug worker`) instead
 * of running in the server.
 *
 * Which calls: those to plugins whose id matches one of the comma-separated
 * patterns of --queue-plugins ('*' wildcards; default "*", every call).
 * The others run locally as without a queue, so one server can mix both:
 * light plugins in the server, heavy ones on the workers. Plugins routed to
 * the queue are not loaded in the server (at start and on SIGHUP); the
 * plugin listings show them from the store with "mode": "queue".
 *
 * A forwarded call: the body is the input, the request's timeout_ms/fuel
 * travel with the call (they only lower the worker's installed limits, as
 * locally), the Idempotency-Key header is the queue's idempotency key (a
 * retried request with the same key is answered with the first one's
 * result, run once). The answer has the local call's shape: 200 with the
 * output, or the error object with the same status codes, plus the worker
 * that answered (X-Wasmplug-Worker, X-Wasmplug-Deliveries and
 * X-Wasmplug-Cached headers; "worker", "deliveries", "cached" in an error).
 *
 * Bounds: a forwarded call waits on the server thread that read it, for at
 * most --queue-timeout (default 30 s), and at most the request's
 * timeout_ms plus 2 s (for the queue's round trip) when it gives one. No
 * answer by then: 504 "queue_timeout" (the call may still run later).
 * Redis unreachable for 2 s (or for the request's timeout_ms, if shorter):
 * 503 "queue_unavailable" with the reason and Retry-After. So at most --threads
 * calls are forwarded at once, each holding its thread for at most its
 * wait (plus one connection attempt to Redis, at most 1 s).
 *
 * Threads: any server thread; each call takes a queue client of its own
 * from a pool (one per concurrent call, reused; a client is replaced after
 * 65536 calls so its bookkeeping stays small).
 */
#ifndef WASMPLUG_SERVE_QUEUE_H
#define WASMPLUG_SERVE_QUEUE_H

#include "server.h"

#include <wasmplug.h>
#include <wasmplug/queue.h>

typedef struct serve_queue_config {
    const char *url;      /* Redis URL (required) */
    const char *stream;   /* the request stream; NULL: "calls" */
    const char *plugins;  /* comma-separated id patterns; NULL: "*" */
    uint32_t wait_ms;     /* longest wait for an answer; 0: 30000 */
} serve_queue_config;

typedef struct serve_queue serve_queue;

/** Check the URL, stream and patterns; connects on the first call.
 *  ERR_ARGUMENT with msg, ERR_NOMEM. */
wasmplug_status serve_queue_new(const serve_queue_config *cfg, serve_queue **out, char *msg,
                                size_t msg_size);
/** Close every client (deleting their reply streams). NULL is fine. */
void serve_queue_free(serve_queue *q);

/** Whether calls to plugin id go to the queue. false for a NULL q. */
bool serve_queue_routes(const serve_queue *q, const char *id);

/**
 * Forward the call of req (plugin id, function, input, the limits parsed
 * from the request: 0 = not limited) and answer req with its outcome.
 */
void serve_queue_call(serve_queue *q, server_request *req, const char *id,
                      const char *function, const wasmplug_call_limits *limits,
                      const uint8_t *input, size_t input_len);

/**
 * End the waits of the calls forwarded now and later (the server's drain
 * deadline passed): each is answered 503 "cancelled" within 250 ms; the
 * calls themselves may still run on the workers. From any thread.
 */
void serve_queue_cancel(serve_queue *q);

/**
 * Whether Redis answers now: a PING on a connection of its own (kept
 * between probes; connecting and answering within 1 s each), for /readyz.
 * false with msg naming the server and why. From any thread (probes are
 * serialized).
 */
bool serve_queue_reachable(serve_queue *q, char *msg, size_t msg_size);

/**
 * A failed answer's error object, as a local call's (serve_error_json):
 * the worker's own (wasmplug_queue_result.detail: trap, backtrace, ...) or,
 * from a worker that sends none, one made of the status and the message
 * for plugin id and function. NULL when out of memory.
 */
json_t *serve_queue_error_json(const char *id, const char *function,
                               const wasmplug_queue_result *res);

/** {"redis": label without credentials, "stream", "plugins", "wait_ms"}. */
json_t *serve_queue_json(const serve_queue *q);

/**
 * The Prometheus counters (label stream): wasmplug_serve_queue_forwarded_total,
 * _answered_total, _failed_total (answered with a failure), _cached_total,
 * _timed_out_total, _redis_errors_total, _reconnects_total and the gauges
 * wasmplug_serve_queue_in_flight, _clients.
 */
void serve_queue_metrics(serve_queue *q, server_text *t);

#endif
