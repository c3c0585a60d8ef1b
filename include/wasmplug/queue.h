/*
 * wasmplug/queue.h - plugin calls through Redis Streams: submit calls from
 * any machine, run them on workers on any number of machines (services
 * layer, libwasmplug_services, which needs hiredis).
 *
 *     wasmplug_queue *q;
 *     char msg[512];
 *     if (wasmplug_queue_open("redis://10.0.0.5:6379", "calls", NULL, &q, msg, sizeof msg))
 *         ...                                       // msg says why
 *     wasmplug_queue_call call = WASMPLUG_QUEUE_CALL_INIT;
 *     call.plugin = "word-counter";                 // id[@version] in the workers' store
 *     call.function = "count";
 *     call.input = (const uint8_t *)"{\"text\":\"a rose\"}";
 *     call.input_len = 16;
 *     call.idempotency_key = "doc-1234";            // optional: de-duplicates retries
 *     wasmplug_queue_result res;
 *     if (wasmplug_queue_run(q, &call, 5000, &res, msg, sizeof msg) == WASMPLUG_OK &&
 *         res.status == WASMPLUG_OK)
 *         printf("%.*s\n", (int)res.output.len, (const char *)res.output.data);
 *     wasmplug_queue_result_free(&res);
 *     wasmplug_queue_free(q);
 *
 * and on each worker machine `wasmplug worker --redis URL --stream calls
 * --group workers` (or wasmplug_worker_run below in a program of your own).
 *
 * Protocol (Redis keys; NAME is the stream)
 * -----------------------------------------
 *   NAME               the request stream: one entry per call, fields v=1,
 *                      id (the call id), plugin, function, input (bytes),
 *                      reply (the reply stream), idem (idempotency key) and
 *                      optionally timeout_ms and fuel
 *   NAME:reply:CLIENT  one reply stream per client: fields id, entry (the
 *                      request entry), status (wasmplug_status_name: "OK",
 *                      "ERR_TRAP", ...), output (bytes) or error (message,
 *                      with the backtrace's lines) and optionally detail
 *                      (the error as a JSON object, as a local call's:
 *                      kind, message, phase, plugin, function, trap,
 *                      plugin_code, time_ms, backtrace [{func_index,
 *                      function}]), worker, deliveries, cached ("1" if
 *                      answered from the idempotency cache). Expires an
 *                      hour after its last reply; wasmplug_queue_free
 *                      deletes it.
 *   NAME:idem:KEY      the result of the call with idempotency key KEY (a
 *                      hash), kept for the worker's idempotency TTL
 *   NAME:dead          the dead-letter stream: the request's fields plus
 *                      entry, deliveries and reason
 *   NAME:errors        why the last delivery of a pending entry was not
 *                      answered (a hash by entry id), for the dead letter
 *   NAME:alive:CONSUMER  a worker's liveness (renewed at least every second,
 *                      expiring after three claim idle times, 3 s at least);
 *                      consumers holding nothing whose key expired are
 *                      deleted from the group (XGROUP DELCONSUMER)
 * Workers of one consumer group share the work; each request entry is
 * deleted from NAME once answered, so one group per stream.
 *
 * Delivery guarantees (docs/ARCHITECTURE.md, "Calls through Redis")
 * -----------------------------------------------------------------
 *  - At least once: a worker acknowledges an entry in the same atomic step
 *    (a Lua script) that writes its reply and caches its result, never
 *    before. An entry whose worker died is claimed by a live one after the
 *    claim idle time (XAUTOCLAIM) and run again; so a call may RUN more
 *    than once (side effects of plugins, e.g. key-value writes, may happen
 *    twice) but is ANSWERED once per request entry: the script answers only
 *    if its acknowledgement took the entry off the pending list.
 *  - Idempotency: entries with the same key (a client's retries) get the
 *    cached result of the first answered one while it is cached.
 *  - An entry that was delivered more than max_deliveries times without an
 *    answer (its workers crashed or could not run it: plugin not installed
 *    there, store unreadable) or that is malformed moves to NAME:dead, and
 *    its caller gets status WASMPLUG_ERR_LIMIT with the reason.
 *  - Not guaranteed: order between calls; answers surviving the loss of
 *    Redis's data (Redis must persist: appendonly yes, appendfsync always,
 *    or replicas with WAIT, for an acknowledged answer to survive a Redis
 *    crash); a reply the client never reads (after its reply stream expired).
 *
 * Threads: a wasmplug_queue is used by one thread at a time; open one per
 * thread. Errors are values: every function returns a status and writes a
 * message naming the server, the stream and the call.
 */
#ifndef WASMPLUG_QUEUE_H
#define WASMPLUG_QUEUE_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Submitting calls                                                         */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_queue wasmplug_queue;

/** Longest call id, including its NUL. */
#define WASMPLUG_QUEUE_ID_MAX 64

typedef struct wasmplug_queue_options {
    uint32_t connect_timeout_ms; /* per attempt; 0: 2000 */
    /* While waiting for replies or resubmitting, reconnect with backoff
     * for up to this long; 0: 30000. */
    uint32_t reconnect_ms;
} wasmplug_queue_options;

/**
 * Open a client of stream NAME on the Redis at url (redis://[[USER]:PASSWORD@]
 * HOST[:PORT][/DB] or unix:///PATH[?db=N]); opts may be NULL. Nothing is
 * connected until the first call. ERR_ARGUMENT with msg for a bad URL or
 * stream name, ERR_NOMEM.
 */
WASMPLUG_API wasmplug_status wasmplug_queue_open(const char *url, const char *stream,
                                                 const wasmplug_queue_options *opts,
                                                 wasmplug_queue **out, char *msg,
                                                 size_t msg_size);
/** Close the connection and delete this client's reply stream. NULL is fine. */
WASMPLUG_API void wasmplug_queue_free(wasmplug_queue *q);

/** One call. Strings and input are copied into the request. */
typedef struct wasmplug_queue_call {
    const char *plugin;          /* id or id@version, as installed on the workers */
    const char *function;        /* a bytes export (ABI v1 or compatibility ABI) */
    const uint8_t *input;
    size_t input_len;
    /* Calls with the same key get one result (the first answered) while
     * the workers cache it. NULL: the call id (a redelivered entry is
     * still answered once). */
    const char *idempotency_key;
    /* Limits for this call (0: the plugin's); they only lower the plugin's
     * (wasmplug_plugin_call_limited). */
    uint32_t timeout_ms;
    uint64_t fuel;
} wasmplug_queue_call;

#define WASMPLUG_QUEUE_CALL_INIT {NULL, NULL, NULL, 0, NULL, 0, 0}

/** A call's answer. */
typedef struct wasmplug_queue_result {
    wasmplug_status status;  /* WASMPLUG_OK, or why the call failed on the worker */
    wasmplug_buf output;     /* the output when status is OK */
    char error[1024];        /* the worker's message when it failed */
    char worker[WASMPLUG_NAME_MAX]; /* the consumer that answered */
    uint32_t deliveries;     /* how many times the entry was delivered (1 normally) */
    bool cached;             /* answered from the idempotency cache */
    /* When status is not OK: the error as a JSON object (NUL-terminated
     * text, the reply's detail field: kind, message, trap, backtrace, ...),
     * if the worker sent one (`wasmplug worker` does; older workers and
     * dead letters do not); else NULL. Owned by the result. */
    char *detail;
} wasmplug_queue_result;

/** Free the output and the detail, and reset. NULL is fine. */
WASMPLUG_API void wasmplug_queue_result_free(wasmplug_queue_result *res);

/**
 * Enqueue a call; id (WASMPLUG_QUEUE_ID_MAX bytes) receives its call id for
 * wasmplug_queue_wait. When the connection breaks during the XADD, the
 * request is sent again after reconnecting (same call id and idempotency
 * key: answered once). ERR_ARGUMENT (no plugin or function), ERR_IO (Redis
 * unreachable within reconnect_ms, or refused the command: msg).
 */
WASMPLUG_API wasmplug_status wasmplug_queue_submit(wasmplug_queue *q,
                                                   const wasmplug_queue_call *call,
                                                   char id[WASMPLUG_QUEUE_ID_MAX], char *msg,
                                                   size_t msg_size);
/**
 * Wait up to timeout_ms for the answer to call id (submitted on q) into
 * *res (free with wasmplug_queue_result_free). Answers to other calls of q
 * that arrive meanwhile are kept for their own wait. Returns WASMPLUG_OK
 * when answered (the call's own outcome is res->status), ERR_TIMEOUT (no
 * answer yet: wait again, or give up), ERR_NOT_FOUND (not a call of q, or
 * already returned), ERR_IO (Redis lost for longer than reconnect_ms).
 */
WASMPLUG_API wasmplug_status wasmplug_queue_wait(wasmplug_queue *q, const char *id,
                                                 uint32_t timeout_ms,
                                                 wasmplug_queue_result *res, char *msg,
                                                 size_t msg_size);
/** Submit and wait (as the two above). */
WASMPLUG_API wasmplug_status wasmplug_queue_run(wasmplug_queue *q,
                                                const wasmplug_queue_call *call,
                                                uint32_t timeout_ms, wasmplug_queue_result *res,
                                                char *msg, size_t msg_size);

/**
 * Drop call id of q: its answer, arrived or still to come, is discarded
 * (a caller that gave up waiting, so that q does not keep the answer). The
 * call itself stays queued and may still run. ERR_NOT_FOUND when id is not
 * a call of q waiting or arrived.
 */
WASMPLUG_API wasmplug_status wasmplug_queue_forget(wasmplug_queue *q, const char *id);
/**
 * How long the following submits and waits of q reconnect after a lost
 * connection (as wasmplug_queue_options.reconnect_ms; 0: 30000): a caller
 * with a deadline of its own, such as an HTTP request, sets what is left
 * of it before each call.
 */
WASMPLUG_API void wasmplug_queue_set_reconnect(wasmplug_queue *q, uint32_t reconnect_ms);
/** Calls submitted on q so far (each grows q's bookkeeping by a few bytes:
 *  a long-lived caller opens a new client now and then). */
WASMPLUG_API uint64_t wasmplug_queue_calls(const wasmplug_queue *q);
/** Connections q made again after losing one. */
WASMPLUG_API uint64_t wasmplug_queue_reconnects(const wasmplug_queue *q);
/** Whether q's connection is up, as far as its last command knows (a wait
 *  that timed out while Redis was away leaves it down). */
WASMPLUG_API bool wasmplug_queue_connected(const wasmplug_queue *q);

/* ------------------------------------------------------------------------ */
/* Workers                                                                  */
/* ------------------------------------------------------------------------ */

/** One request, as a worker's run callback sees it (valid during the callback). */
typedef struct wasmplug_queue_request {
    const char *entry;        /* the stream entry id */
    const char *id;           /* the call id */
    const char *plugin;
    const char *function;
    const uint8_t *input;
    size_t input_len;
    uint32_t timeout_ms;      /* 0: not limited by the request */
    uint64_t fuel;            /* 0: not limited by the request */
    uint32_t deliveries;      /* 1 on the first delivery */
} wasmplug_queue_request;

/**
 * Run one request (on worker thread `thread`, 0..concurrency-1). Return
 * WASMPLUG_OK with the output in *out, or the call's failure with a message
 * in msg: both are answers. With a failure, *out may hold the error as a
 * JSON object (sent as the reply's detail; wasmplug_queue_result.detail),
 * else leave it empty. Set *retry to leave the request unanswered
 * instead (this worker could not run it: plugin not installed here,
 * store unreadable): it is delivered again after the claim idle time,
 * perhaps to another worker, and dead-lettered after max_deliveries.
 */
typedef wasmplug_status (*wasmplug_queue_run_fn)(void *user, unsigned thread,
                                                 const wasmplug_queue_request *req,
                                                 wasmplug_buf *out, bool *retry, char *msg,
                                                 size_t msg_size);

typedef struct wasmplug_worker_config {
    const char *url;            /* Redis URL */
    const char *stream;         /* request stream NAME */
    const char *group;          /* consumer group (created with the stream if missing) */
    const char *consumer;       /* this worker's name; NULL: "<hostname>-<pid>" */
    unsigned concurrency;       /* threads, each with its own connection; 0: 1 */
    unsigned batch;             /* entries read at a time per thread; 0: 1 */
    uint32_t claim_idle_ms;     /* claim entries pending this long; 0: 30000 */
    uint32_t max_deliveries;    /* dead-letter after this many; 0: 5 */
    uint32_t idempotency_ttl_ms; /* results cached this long; 0: 86400000 (a day) */
    uint32_t block_ms;          /* XREADGROUP BLOCK; also how soon a stop is seen; 0: 500 */
    uint32_t stop_grace_ms;     /* on stop, keep trying to answer in-flight calls
                                   this long while Redis is away; 0: 10000 */
    wasmplug_queue_run_fn run;
    void *user;
    /* Diagnostics (connection lost, reconnected, dead-lettered), one line
     * each, from any worker thread; NULL: none. */
    void (*on_log)(void *user, const char *line);
} wasmplug_worker_config;

/** Counters of one worker (wasmplug_worker_stats). */
typedef struct wasmplug_worker_stats {
    uint64_t read;          /* entries read as new (XREADGROUP) */
    uint64_t claimed;       /* entries claimed from other consumers (XAUTOCLAIM) */
    uint64_t processed;     /* entries answered (successes and failures) */
    uint64_t failed;        /* answered with a failure status */
    uint64_t redelivered;   /* answered or dead-lettered on a delivery after the first */
    uint64_t cached;        /* answered from the idempotency cache */
    uint64_t retried;       /* left unanswered for a later delivery (run set retry) */
    uint64_t dead_lettered; /* moved to NAME:dead */
    uint64_t reconnects;    /* connections made again after a loss */
    uint64_t in_flight;     /* entries held right now */
    uint64_t lag;           /* entries in the stream not yet delivered (last poll) */
    uint64_t pending;       /* entries delivered but not answered, all consumers */
} wasmplug_worker_stats;

typedef struct wasmplug_worker wasmplug_worker;

/** A worker for cfg (copied); nothing runs yet. ERR_ARGUMENT with msg. */
WASMPLUG_API wasmplug_status wasmplug_worker_new(const wasmplug_worker_config *cfg,
                                                 wasmplug_worker **out, char *msg,
                                                 size_t msg_size);
/**
 * Run until wasmplug_worker_stop: connect (waiting with backoff while Redis is
 * unreachable), create the group if missing, then read, claim, run and
 * answer. Connection losses are survived (reconnect with backoff; an
 * answer whose write was cut off is written again, and answered once).
 * Returns WASMPLUG_OK after a stop, else the reason it cannot go on (bad
 * password, a stream key of another type) in msg.
 */
WASMPLUG_API wasmplug_status wasmplug_worker_run(wasmplug_worker *w, char *msg, size_t msg_size);
/**
 * Stop: the threads finish and answer the entries they hold (trying for up
 * to stop_grace_ms while Redis is away), then wasmplug_worker_run returns.
 * From any thread, and from a signal handler (it only sets an atomic flag).
 */
WASMPLUG_API void wasmplug_worker_stop(wasmplug_worker *w);
/** The worker's counters, from any thread. */
WASMPLUG_API void wasmplug_worker_stats_get(wasmplug_worker *w, wasmplug_worker_stats *out);
/** The consumer name. */
WASMPLUG_API const char *wasmplug_worker_consumer(wasmplug_worker *w);
WASMPLUG_API void wasmplug_worker_free(wasmplug_worker *w);

#ifdef __cplusplus
}
#endif

#endif
