/*
 * serve_queue.c - calls of `wasmplug serve` forwarded to Redis workers
 * (serve_queue.h): a pool of queue clients, the answer mapped onto the
 * local call's responses, and the counters of /metrics.
 */
#include "serve_queue.h"

#include "serve_app.h"
#include "services/redis_conn.h"

#include <wasmplug/queue.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* How long a call waits for Redis to come back before answering 503 (or
 * for its own timeout_ms, if shorter). */
#define QUEUE_RECONNECT_MS 2000u
/* What a forwarded call with a timeout of its own may wait beyond it: the
 * queue's round trip (submitted, read by a worker, answer read back). */
#define QUEUE_SLACK_MS 2000u
/* Waits are made of slices this long, so that a cancel is seen soon. */
#define QUEUE_SLICE_MS 250u
/* /readyz's PING: connect and answer within this long. */
#define QUEUE_PROBE_MS 1000u
/* A client is replaced after this many calls (its per-call slots). */
#define QUEUE_CLIENT_CALLS 65536u

struct serve_queue {
    char *url, *stream, *plugins;
    char label[WPS_REDIS_HOST_MAX + 32];
    uint32_t wait_ms;
    pthread_mutex_t lock; /* idle */
    wasmplug_queue **idle;
    size_t nidle, cap;
    pthread_mutex_t probe_lock; /* probe */
    wps_redis *probe;           /* /readyz's connection, made on first use */
    atomic_uint_fast64_t forwarded, answered, failed, cached, timed_out, redis_errors,
        reconnects, in_flight, clients;
    atomic_bool cancelled;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

wasmplug_status serve_queue_new(const serve_queue_config *cfg, serve_queue **out, char *msg,
                                size_t msg_size)
{
    *out = NULL;
    const char *stream = cfg->stream ? cfg->stream : "calls";
    const char *plugins = cfg->plugins ? cfg->plugins : "*";
    /* Opening a client checks the URL and the stream name (no connection). */
    wasmplug_queue *probe = NULL;
    wasmplug_status st = wasmplug_queue_open(cfg->url, stream, NULL, &probe, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    wasmplug_queue_free(probe);
    if (!*plugins || plugins[strlen(plugins) - 1] == ',' || strstr(plugins, ",,") ||
        *plugins == ',') {
        snprintf(msg, msg_size, "--queue-plugins takes comma-separated plugin id patterns "
                 "(got '%s')", plugins);
        return WASMPLUG_ERR_ARGUMENT;
    }
    serve_queue *q = calloc(1, sizeof *q);
    wps_redis_url u;
    if (!q || !(q->url = strdup(cfg->url)) || !(q->stream = strdup(stream)) ||
        !(q->plugins = strdup(plugins))) {
        serve_queue_free(q);
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    if (wps_redis_url_parse(cfg->url, &u, msg, msg_size) == WPS_REDIS_OK)
        wps_redis_url_label(&u, q->label, sizeof q->label);
    memset(&u, 0, sizeof u); /* the password */
    q->wait_ms = cfg->wait_ms ? cfg->wait_ms : 30000;
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_init(&q->probe_lock, NULL);
    *out = q;
    return WASMPLUG_OK;
}

void serve_queue_free(serve_queue *q)
{
    if (!q)
        return;
    for (size_t i = 0; i < q->nidle; i++)
        wasmplug_queue_free(q->idle[i]);
    free(q->idle);
    pthread_mutex_destroy(&q->lock);
    wps_redis_free(q->probe);
    pthread_mutex_destroy(&q->probe_lock);
    free(q->url);
    free(q->stream);
    free(q->plugins);
    free(q);
}

bool serve_queue_routes(const serve_queue *q, const char *id)
{
    if (!q || !id)
        return false;
    char pattern[WASMPLUG_NAME_MAX], bare[WASMPLUG_NAME_MAX];
    snprintf(bare, sizeof bare, "%.*s", (int)strcspn(id, "@"), id); /* id@version */
    id = bare;
    for (const char *p = q->plugins; *p;) {
        size_t n = strcspn(p, ",");
        if (n < sizeof pattern) {
            memcpy(pattern, p, n);
            pattern[n] = '\0';
            if (wasmplug_glob(pattern, id))
                return true;
        }
        p += n + (p[n] == ',');
    }
    return false;
}

/* A client of the pool, or a new one (NULL with msg when out of memory). */
static wasmplug_queue *client_take(serve_queue *q, char *msg, size_t msg_size)
{
    wasmplug_queue *c = NULL;
    pthread_mutex_lock(&q->lock);
    if (q->nidle)
        c = q->idle[--q->nidle];
    pthread_mutex_unlock(&q->lock);
    if (c)
        return c;
    wasmplug_queue_options opts = {QUEUE_RECONNECT_MS / 2, QUEUE_RECONNECT_MS};
    if (wasmplug_queue_open(q->url, q->stream, &opts, &c, msg, msg_size) != WASMPLUG_OK)
        return NULL;
    atomic_fetch_add(&q->clients, 1);
    return c;
}

static void client_give_back(serve_queue *q, wasmplug_queue *c)
{
    if (wasmplug_queue_calls(c) < QUEUE_CLIENT_CALLS) {
        pthread_mutex_lock(&q->lock);
        if (q->nidle == q->cap) {
            size_t cap = q->cap ? q->cap * 2 : 16;
            wasmplug_queue **a = realloc(q->idle, cap * sizeof *a);
            if (a)
                q->idle = a, q->cap = cap;
        }
        bool kept = q->nidle < q->cap;
        if (kept)
            q->idle[q->nidle++] = c;
        pthread_mutex_unlock(&q->lock);
        if (kept)
            return;
    }
    wasmplug_queue_free(c);
    atomic_fetch_sub(&q->clients, 1);
}

/* A header value from a string a worker chose: printable ASCII only. */
static void header_safe(char *dst, size_t size, const char *src)
{
    size_t n = 0;
    for (; *src && n + 1 < size; src++)
        dst[n++] = *src >= ' ' && *src < 127 ? *src : '?';
    dst[n] = '\0';
}

json_t *serve_queue_error_json(const char *id, const char *function,
                               const wasmplug_queue_result *res)
{
    /* The worker's error object (serve_error_json there), when it sent
     * one: the same fields as a local call's error. */
    json_t *e = res->detail ? json_loads(res->detail, 0, NULL) : NULL;
    if (e && json_is_object(e) && json_is_string(json_object_get(e, "kind")) &&
        json_is_string(json_object_get(e, "message")) &&
        json_is_array(json_object_get(e, "backtrace")))
        return e;
    json_decref(e);
    /* An older worker (or a dead letter): its status and the formatted
     * message (backtrace lines included); the rest is what is known. */
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    err.code = res->status;
    err.phase = WASMPLUG_PHASE_CALL;
    snprintf(err.plugin, sizeof err.plugin, "%s", id);
    snprintf(err.function, sizeof err.function, "%s", function);
    snprintf(err.message, sizeof err.message, "%.*s", (int)sizeof err.message - 1, res->error);
    err.timestamp_ms = (uint64_t)time(NULL) * 1000u;
    e = serve_error_json(&err);
    json_t *full = e ? json_string(res->error) : NULL; /* longer than err.message holds */
    if (full)
        json_object_set_new(e, "message", full);
    return e;
}

/* The worker's answer as the local call's response. */
static void respond_answer(server_request *req, const char *id, const char *function,
                           wasmplug_queue_result *res)
{
    char worker[WASMPLUG_NAME_MAX], num[24];
    header_safe(worker, sizeof worker, res->worker);
    if (res->status == WASMPLUG_OK) {
        server_add_header(req, "X-Wasmplug-Worker", worker);
        snprintf(num, sizeof num, "%" PRIu32, res->deliveries);
        server_add_header(req, "X-Wasmplug-Deliveries", num);
        server_add_header(req, "X-Wasmplug-Cached", res->cached ? "true" : "false");
        server_respond_owned(req, 200, "application/octet-stream", res->output.data,
                             res->output.len);
        res->output.data = NULL;
        res->output.len = 0;
        return;
    }
    unsigned status = serve_http_status(res->status);
    json_t *e = serve_queue_error_json(id, function, res);
    if (!e) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    json_object_set_new(e, "status", json_integer(status));
    json_object_set_new(e, "worker", json_string(worker));
    json_object_set_new(e, "deliveries", json_integer(res->deliveries));
    json_object_set_new(e, "cached", json_boolean(res->cached));
    server_respond_json(req, status, json_pack("{s:b, s:o}", "ok", 0, "error", e));
}

/* Wait for call id's answer until deadline (ms, monotonic) in slices, so
 * that serve_queue_cancel ends the wait (ERR_CANCELLED), and Redis away
 * for redis_ms across slices is ERR_IO. */
static wasmplug_status wait_answer(serve_queue *q, wasmplug_queue *c, const char *id,
                                   uint64_t deadline, uint32_t redis_ms,
                                   wasmplug_queue_result *res, char *msg, size_t msg_size)
{
    uint64_t down_since = 0; /* when Redis was first seen away, 0: it is not */
    for (;;) {
        uint64_t now = now_ms();
        if (now >= deadline)
            return WASMPLUG_ERR_TIMEOUT;
        if (atomic_load(&q->cancelled)) {
            snprintf(msg, msg_size, "the server is stopping: the call was not answered in "
                     "time (it may still run on a worker: retry with the same "
                     "Idempotency-Key to get its answer once)");
            return WASMPLUG_ERR_CANCELLED;
        }
        uint64_t left = deadline - now;
        wasmplug_queue_set_reconnect(c, (uint32_t)(left < redis_ms ? left : redis_ms));
        wasmplug_status st = wasmplug_queue_wait(c, id, (uint32_t)(left < QUEUE_SLICE_MS
                                                                       ? left : QUEUE_SLICE_MS),
                                                 res, msg, msg_size);
        bool away = st == WASMPLUG_ERR_IO ||
                    (st == WASMPLUG_ERR_TIMEOUT && !wasmplug_queue_connected(c));
        if (!away && st != WASMPLUG_ERR_TIMEOUT)
            return st;
        now = now_ms();
        down_since = !away ? 0 : down_since ? down_since : now;
        if (away && now - down_since >= redis_ms) {
            if (st != WASMPLUG_ERR_IO)
                snprintf(msg, msg_size, "redis %s: not reachable for %" PRIu64 " ms while "
                         "waiting for the answer to call %s", q->label, now - down_since, id);
            return WASMPLUG_ERR_IO;
        }
    }
}

void serve_queue_cancel(serve_queue *q)
{
    if (q)
        atomic_store(&q->cancelled, true);
}

void serve_queue_call(serve_queue *q, server_request *req, const char *id,
                      const char *function, const wasmplug_call_limits *limits,
                      const uint8_t *input, size_t input_len)
{
    uint64_t start = now_ms();
    uint64_t own = limits->timeout_ms ? (uint64_t)limits->timeout_ms + QUEUE_SLACK_MS : UINT64_MAX;
    uint32_t wait = own < q->wait_ms ? (uint32_t)own : q->wait_ms;
    wasmplug_queue_call call = WASMPLUG_QUEUE_CALL_INIT;
    call.plugin = id;
    call.function = function;
    call.input = input;
    call.input_len = input_len;
    call.idempotency_key = server_header(req, "Idempotency-Key");
    call.timeout_ms = limits->timeout_ms;
    call.fuel = limits->fuel;
    char msg[1024];
    wasmplug_queue *c = client_take(q, msg, sizeof msg);
    if (!c) {
        server_respond_error(req, 500, "internal", NULL, "%s", msg);
        return;
    }
    atomic_fetch_add(&q->forwarded, 1);
    atomic_fetch_add(&q->in_flight, 1);
    uint64_t reconnects = wasmplug_queue_reconnects(c);
    /* Redis away: 503 after 2 s, or after the call's own timeout or wait. */
    uint32_t redis_ms = limits->timeout_ms && limits->timeout_ms < QUEUE_RECONNECT_MS
                            ? limits->timeout_ms : QUEUE_RECONNECT_MS;
    redis_ms = redis_ms < wait ? redis_ms : wait;
    wasmplug_queue_set_reconnect(c, redis_ms);
    char call_id[WASMPLUG_QUEUE_ID_MAX];
    wasmplug_queue_result res;
    memset(&res, 0, sizeof res);
    wasmplug_status st = wasmplug_queue_submit(c, &call, call_id, msg, sizeof msg);
    if (st == WASMPLUG_OK) {
        st = wait_answer(q, c, call_id, start + wait, redis_ms, &res, msg, sizeof msg);
        if (st != WASMPLUG_OK)
            (void)wasmplug_queue_forget(c, call_id); /* a late answer is dropped */
        if (st == WASMPLUG_ERR_TIMEOUT)
            snprintf(msg, sizeof msg, "no answer to call %s on stream %s within %" PRIu32 " ms",
                     call_id, q->stream, wait);
    }
    atomic_fetch_add(&q->reconnects, wasmplug_queue_reconnects(c) - reconnects);
    client_give_back(q, c);
    atomic_fetch_sub(&q->in_flight, 1);

    switch (st) {
    case WASMPLUG_OK:
        atomic_fetch_add(&q->answered, 1);
        if (res.status != WASMPLUG_OK)
            atomic_fetch_add(&q->failed, 1);
        if (res.cached)
            atomic_fetch_add(&q->cached, 1);
        respond_answer(req, id, function, &res);
        break;
    case WASMPLUG_ERR_TIMEOUT:
        atomic_fetch_add(&q->timed_out, 1);
        server_respond_error(req, 504, "queue_timeout",
                             json_pack("{s:s, s:s}", "stream", q->stream, "call_id", call_id),
                             "no worker answered within %" PRIu32 " ms (%s); the call may "
                             "still run: retry with the same Idempotency-Key to get its "
                             "answer once", wait, msg);
        break;
    case WASMPLUG_ERR_ARGUMENT:
        server_respond_error(req, 400, "bad_request", NULL, "%s", msg);
        break;
    case WASMPLUG_ERR_CANCELLED:
        server_respond_error(req, 503, "cancelled",
                             json_pack("{s:s, s:s}", "stream", q->stream, "call_id", call_id),
                             "%s", msg);
        break;
    case WASMPLUG_ERR_NOMEM:
        server_respond_error(req, 500, "internal", NULL, "%s", msg);
        break;
    default:
        atomic_fetch_add(&q->redis_errors, 1);
        server_add_header(req, "Retry-After", "1");
        server_respond_error(req, 503, "queue_unavailable",
                             json_pack("{s:s, s:s}", "stream", q->stream, "redis", q->label),
                             "the call queue is unavailable (no connection to Redis within "
                             "%" PRIu32 " ms): %s", redis_ms, msg);
        break;
    }
    wasmplug_queue_result_free(&res);
}

bool serve_queue_reachable(serve_queue *q, char *msg, size_t msg_size)
{
    wps_redis_options opts = {QUEUE_PROBE_MS, QUEUE_PROBE_MS, 0, 0, NULL};
    pthread_mutex_lock(&q->probe_lock);
    wps_redis_status st = WPS_REDIS_OK;
    if (!q->probe)
        st = wps_redis_open(q->url, &opts, &q->probe, msg, msg_size);
    redisReply *reply = NULL;
    if (st == WPS_REDIS_OK)
        st = wps_redis_command(q->probe, &reply, msg, msg_size, "PING");
    bool ok = st == WPS_REDIS_OK && wps_redis_reply_is(reply, "PONG");
    if (st == WPS_REDIS_OK && !ok)
        snprintf(msg, msg_size, "redis %s: unexpected answer to PING", q->label);
    freeReplyObject(reply);
    pthread_mutex_unlock(&q->probe_lock);
    return ok;
}

json_t *serve_queue_json(const serve_queue *q)
{
    return json_pack("{s:s, s:s, s:s, s:I}", "redis", q->label, "stream", q->stream, "plugins",
                     q->plugins, "wait_ms", (json_int_t)q->wait_ms);
}

void serve_queue_metrics(serve_queue *q, server_text *t)
{
    static const struct {
        const char *name, *help;
        bool gauge;
        size_t offset;
    } M[] = {
#define C(f, g, help) {#f, help, g, offsetof(serve_queue, f)}
        C(forwarded, false, "Calls sent to the Redis queue"),
        C(answered, false, "Forwarded calls answered by a worker (successes and failures)"),
        C(failed, false, "Forwarded calls a worker answered with a failure"),
        C(cached, false, "Forwarded calls answered from the idempotency cache"),
        C(timed_out, false, "Forwarded calls no worker answered in time (504)"),
        C(redis_errors, false, "Forwarded calls failed because Redis was unreachable (503)"),
        C(reconnects, false, "Connections to Redis made again after a loss"),
        C(in_flight, true, "Forwarded calls waiting for their answer now"),
        C(clients, true, "Queue clients (Redis connections) open"),
#undef C
    };
    for (size_t i = 0; i < sizeof M / sizeof M[0]; i++) {
        const atomic_uint_fast64_t *v =
            (const atomic_uint_fast64_t *)((const char *)q + M[i].offset);
        server_text_metric(t, "wasmplug_serve_queue_", M[i].name, M[i].gauge, M[i].help);
        server_text_append(t, "stream=\"");
        server_text_label(t, q->stream);
        server_text_append(t, "\"} %" PRIu64 "\n", (uint64_t)atomic_load(v));
    }
}
