/*
 * queue_worker.c - workers of <wasmplug/queue.h>: threads that read call
 * requests from a Redis stream in a consumer group, run them through the
 * caller's run function and answer on the caller's reply stream.
 *
 * Answering is one Lua script (ANSWER below), so it is atomic: acknowledge
 * the entry, and only if that took it off the pending list (a worker that
 * claimed it meanwhile may have answered first) cache the result under the
 * idempotency key (or take the cached one), add the reply, delete the
 * entry. Sending the script again after a lost connection is therefore
 * safe: the second run finds nothing pending and does nothing. Dead
 * letters are a second script of the same shape.
 */
#include "queue_internal.h"
#include "services_internal.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* KEYS: request stream, reply stream, idempotency key, errors hash.
 * ARGV: group, entry, idempotency TTL ms, reply TTL ms, call id, deliveries,
 * then the result's field/value pairs (none: answer only from the cache).
 * Returns 0 (not pending: already answered), 1 (answered), 2 (answered from
 * the cache), -1 (no result given and none cached: nothing done). */
static const char ANSWER[] =
    "local res = redis.call('HGETALL', KEYS[3])\n"
    "local cached = 1\n"
    "if #res == 0 then\n"
    "  if #ARGV < 7 then return -1 end\n"
    "  cached = 0\n"
    "end\n"
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "if cached == 0 then\n"
    "  for i = 7, #ARGV do res[#res + 1] = ARGV[i] end\n"
    "  redis.call('HSET', KEYS[3], unpack(res))\n"
    "  redis.call('PEXPIRE', KEYS[3], ARGV[3])\n"
    "end\n"
    "redis.call('XADD', KEYS[2], '*', 'id', ARGV[5], 'entry', ARGV[2], 'deliveries', ARGV[6],\n"
    "           'cached', tostring(cached), unpack(res))\n"
    "redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "redis.call('HDEL', KEYS[4], ARGV[2])\n"
    "return 1 + cached\n";

/* KEYS: request stream, dead-letter stream, reply stream ("" when unknown),
 * errors hash. ARGV: group, entry, deliveries, reason, call id, worker,
 * reply TTL ms, then the request's own field/value pairs.
 * Returns 0 (not pending: already answered) or 1. */
static const char DEAD_LETTER[] =
    "if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end\n"
    "local reason = ARGV[4]\n"
    "local last = redis.call('HGET', KEYS[4], ARGV[2])\n"
    "if last then reason = reason .. '; last failure: ' .. last end\n"
    "redis.call('HDEL', KEYS[4], ARGV[2])\n"
    "local f = {}\n"
    "for i = 8, #ARGV do f[#f + 1] = ARGV[i] end\n"
    "redis.call('XADD', KEYS[2], '*', 'entry', ARGV[2], 'deliveries', ARGV[3],\n"
    "           'reason', reason, 'worker', ARGV[6], unpack(f))\n"
    "if KEYS[3] ~= '' then\n"
    "  redis.call('XADD', KEYS[3], '*', 'id', ARGV[5], 'entry', ARGV[2],\n"
    "             'deliveries', ARGV[3], 'cached', '0', 'status', 'ERR_LIMIT',\n"
    "             'error', 'moved to the dead-letter stream ' .. KEYS[2] .. ': ' .. reason,\n"
    "             'worker', ARGV[6])\n"
    "  redis.call('PEXPIRE', KEYS[3], ARGV[7])\n"
    "end\n"
    "redis.call('XDEL', KEYS[1], ARGV[2])\n"
    "return 1\n";

/* KEYS: request stream. ARGV: group, the liveness key prefix. Deletes the
 * group's consumers that hold nothing and whose worker stopped renewing its
 * liveness key (it exited or died, and its entries were claimed): the
 * group's consumer list stays the live workers, not every one there was.
 * Returns how many it deleted. */
static const char FORGET[] =
    "local gone = 0\n"
    "for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do\n"
    "  local f = {}\n"
    "  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end\n"
    "  if f['pending'] == 0 and redis.call('EXISTS', ARGV[2] .. f['name']) == 0 then\n"
    "    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], f['name'])\n"
    "    gone = gone + 1\n"
    "  end\n"
    "end\n"
    "return gone\n";

#define REPLY_TTL "3600000"
#define ERRORS_TTL "86400000"

struct wasmplug_worker {
    wasmplug_worker_config cfg; /* strings below */
    char *url, *stream, *group;
    char consumer[WASMPLUG_NAME_MAX];
    char dead[WPS_QUEUE_KEY_MAX], errors[WPS_QUEUE_KEY_MAX];
    char alive_prefix[WPS_QUEUE_KEY_MAX], alive[WPS_QUEUE_KEY_MAX + WASMPLUG_NAME_MAX];
    char alive_ttl[16];
    char idem_ttl[16];
    atomic_bool stop;   /* wasmplug_worker_stop */
    atomic_bool failed; /* a thread met an error that stops the worker */
    pthread_mutex_t lock;
    char fatal[512];
    _Atomic uint64_t read, claimed, processed, failed_calls, redelivered, cached, retried,
        dead_lettered, reconnects, in_flight, lag, pending;
};

typedef struct worker_thread {
    wasmplug_worker *w;
    unsigned index;
    wps_redis *r;
    uint64_t connects_seen;
    char claim_cursor[48];
    uint64_t next_poll_ms;
    unsigned polls;
} worker_thread;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void wlog(wasmplug_worker *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void wlog(wasmplug_worker *w, const char *fmt, ...)
{
    if (!w->cfg.on_log)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    w->cfg.on_log(w->cfg.user, line);
}

static bool stopping(wasmplug_worker *w)
{
    return atomic_load(&w->stop) || atomic_load(&w->failed);
}

static void fail(wasmplug_worker *w, const char *msg)
{
    pthread_mutex_lock(&w->lock);
    if (!w->fatal[0])
        snprintf(w->fatal, sizeof w->fatal, "%s", msg);
    pthread_mutex_unlock(&w->lock);
    atomic_store(&w->failed, true);
}

wasmplug_status wasmplug_worker_new(const wasmplug_worker_config *cfg, wasmplug_worker **out,
                                    char *msg, size_t msg_size)
{
    *out = NULL;
    if (!cfg || !cfg->run) {
        snprintf(msg, msg_size, "a worker needs a run function");
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (!wps_queue_name_ok("the stream name", cfg->stream, msg, msg_size) ||
        !wps_queue_name_ok("the group name", cfg->group, msg, msg_size) ||
        (cfg->consumer && !wps_queue_name_ok("the consumer name", cfg->consumer, msg, msg_size)))
        return WASMPLUG_ERR_ARGUMENT;
    wps_redis_url u;
    if (wps_redis_url_parse(cfg->url, &u, msg, msg_size) != WPS_REDIS_OK)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_worker *w = calloc(1, sizeof *w);
    if (!w || !(w->url = strdup(cfg->url)) || !(w->stream = strdup(cfg->stream)) ||
        !(w->group = strdup(cfg->group))) {
        if (w) {
            free(w->url);
            free(w->stream);
        }
        free(w);
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    w->cfg = *cfg;
    w->cfg.url = w->url;
    w->cfg.stream = w->stream;
    w->cfg.group = w->group;
    w->cfg.concurrency = WPS_DEFAULT(cfg->concurrency, 1);
    w->cfg.batch = WPS_DEFAULT(cfg->batch, 1);
    w->cfg.claim_idle_ms = WPS_DEFAULT(cfg->claim_idle_ms, 30000);
    w->cfg.max_deliveries = WPS_DEFAULT(cfg->max_deliveries, 5);
    w->cfg.idempotency_ttl_ms = WPS_DEFAULT(cfg->idempotency_ttl_ms, 86400000);
    w->cfg.block_ms = WPS_DEFAULT(cfg->block_ms, 500);
    w->cfg.stop_grace_ms = WPS_DEFAULT(cfg->stop_grace_ms, 10000);
    if (cfg->consumer) {
        snprintf(w->consumer, sizeof w->consumer, "%s", cfg->consumer);
    } else {
        char host[64] = "worker";
        gethostname(host, sizeof host);
        host[sizeof host - 1] = '\0';
        for (char *c = host; *c; c++)
            if (*c <= ' ' || *c >= 127)
                *c = '_';
        snprintf(w->consumer, sizeof w->consumer, "%s-%ld", host, (long)getpid());
    }
    w->cfg.consumer = w->consumer;
    wps_queue_key(w->dead, sizeof w->dead, w->stream, ":dead");
    wps_queue_key(w->errors, sizeof w->errors, w->stream, ":errors");
    wps_queue_key(w->alive_prefix, sizeof w->alive_prefix, w->stream, ":alive:");
    snprintf(w->alive, sizeof w->alive, "%s%s", w->alive_prefix, w->consumer);
    /* A worker renews its key every poll (at most 1 s apart): three claim
     * idle times (at least 3 s) without it mean the worker is gone. */
    uint64_t alive_ms = (uint64_t)w->cfg.claim_idle_ms * 3;
    snprintf(w->alive_ttl, sizeof w->alive_ttl, "%" PRIu64, alive_ms < 3000 ? 3000 : alive_ms);
    snprintf(w->idem_ttl, sizeof w->idem_ttl, "%" PRIu32, w->cfg.idempotency_ttl_ms);
    pthread_mutex_init(&w->lock, NULL);
    *out = w;
    return WASMPLUG_OK;
}

void wasmplug_worker_free(wasmplug_worker *w)
{
    if (!w)
        return;
    pthread_mutex_destroy(&w->lock);
    free(w->url);
    free(w->stream);
    free(w->group);
    free(w);
}

const char *wasmplug_worker_consumer(wasmplug_worker *w) { return w->consumer; }

void wasmplug_worker_stop(wasmplug_worker *w) { atomic_store(&w->stop, true); }

void wasmplug_worker_stats_get(wasmplug_worker *w, wasmplug_worker_stats *o)
{
    o->read = atomic_load(&w->read);
    o->claimed = atomic_load(&w->claimed);
    o->processed = atomic_load(&w->processed);
    o->failed = atomic_load(&w->failed_calls);
    o->redelivered = atomic_load(&w->redelivered);
    o->cached = atomic_load(&w->cached);
    o->retried = atomic_load(&w->retried);
    o->dead_lettered = atomic_load(&w->dead_lettered);
    o->reconnects = atomic_load(&w->reconnects);
    o->in_flight = atomic_load(&w->in_flight);
    o->lag = atomic_load(&w->lag);
    o->pending = atomic_load(&w->pending);
}

/* ---- connection ---------------------------------------------------------- */

/* Connect if not connected: waiting with backoff until connected or the
 * worker stops; when answering, also after a stop for up to stop_grace_ms
 * (an answer in hand is worth waiting for). false if not connected. */
static bool ensure_connected(worker_thread *t, bool answering)
{
    wasmplug_worker *w = t->w;
    if (wps_redis_connected(t->r))
        return true;
    char msg[512];
    wps_redis_status st = WPS_REDIS_STOPPED;
    if (!stopping(w))
        st = wps_redis_connect(t->r, UINT32_MAX, msg, sizeof msg);
    if (st == WPS_REDIS_STOPPED && answering && !atomic_load(&w->failed)) {
        wps_redis_set_stop(t->r, NULL);
        st = wps_redis_connect(t->r, w->cfg.stop_grace_ms, msg, sizeof msg);
        wps_redis_set_stop(t->r, &w->stop);
    }
    if (st == WPS_REDIS_USAGE)
        fail(w, msg);
    if (st != WPS_REDIS_OK)
        return false;
    uint64_t n = wps_redis_reconnects(t->r);
    if (n > t->connects_seen) {
        atomic_fetch_add(&w->reconnects, n - t->connects_seen);
        t->connects_seen = n;
        wlog(w, "thread %u: reconnected to redis %s", t->index, wps_redis_label(t->r));
    }
    return true;
}

static void lost(worker_thread *t, const char *msg)
{
    wlog(t->w, "thread %u: %s; reconnecting", t->index, msg);
}

/* Create the group (and the stream) if missing. */
static bool ensure_group(worker_thread *t)
{
    wasmplug_worker *w = t->w;
    char msg[512];
    wps_redis_status st = wps_redis_command(t->r, NULL, msg, sizeof msg,
                                            "XGROUP CREATE %s %s 0 MKSTREAM", w->stream,
                                            w->group);
    if (st == WPS_REDIS_OK || (st == WPS_REDIS_ERROR && strstr(msg, "BUSYGROUP"))) {
        /* Listed in XINFO CONSUMERS from now on, not from its first entry;
         * alive first, so that no other worker forgets it in between. */
        st = wps_redis_command(t->r, NULL, msg, sizeof msg, "SET %s 1 PX %s", w->alive,
                               w->alive_ttl);
        if (st == WPS_REDIS_OK)
            st = wps_redis_command(t->r, NULL, msg, sizeof msg,
                                   "XGROUP CREATECONSUMER %s %s %s", w->stream, w->group,
                                   w->consumer);
        if (st == WPS_REDIS_OK)
            return true;
    }
    if (st == WPS_REDIS_LOST)
        lost(t, msg);
    else
        fail(w, msg); /* e.g. WRONGTYPE: the stream name is another kind of key */
    return false;
}

/* EVAL a script, sent again after a lost connection (the scripts are safe
 * to repeat). false (logged) if Redis stayed away or refused it. */
static bool eval_script(worker_thread *t, int argc, const char **argv, const size_t *len,
                        long long *result, const char *what)
{
    char msg[512];
    for (;;) {
        redisReply *rep = NULL;
        wps_redis_status st = wps_redis_commandv(t->r, &rep, msg, sizeof msg, argc, argv, len);
        if (st == WPS_REDIS_OK) {
            bool ok = wps_redis_reply_int(rep, result);
            freeReplyObject(rep);
            if (ok)
                return true;
            wlog(t->w, "thread %u: %s: unexpected reply from redis", t->index, what);
            return false;
        }
        if (st != WPS_REDIS_LOST) {
            wlog(t->w, "thread %u: %s: %s", t->index, what, msg);
            return false;
        }
        lost(t, msg);
        if (!ensure_connected(t, true)) {
            wlog(t->w, "thread %u: %s: redis unreachable; the entry stays pending and is "
                 "delivered again", t->index, what);
            return false;
        }
    }
}

/* ---- one entry ----------------------------------------------------------- */

typedef struct entry {
    const char *id;          /* stream entry id */
    const redisReply *fields;
    uint32_t deliveries;
    const redisReply *call_id, *plugin, *function, *input, *reply, *idem;
    uint32_t timeout_ms;
    uint64_t fuel;
    char idem_key[WPS_QUEUE_KEY_MAX];
    char deliveries_str[16];
} entry;

/* Copy a field into a NUL-terminated buffer (plugin and function names). */
static bool field_str(const redisReply *f, char *buf, size_t size)
{
    if (!f || f->len == 0 || f->len >= size || memchr(f->str, '\0', f->len))
        return false;
    memcpy(buf, f->str, f->len);
    buf[f->len] = '\0';
    return true;
}

static bool field_u64(const redisReply *fields, const char *name, uint64_t max, uint64_t *out)
{
    const redisReply *f = wps_queue_field(fields, name);
    long long v;
    *out = 0;
    if (!f)
        return true;
    if (!wps_redis_reply_int(f, &v) || v < 0 || (uint64_t)v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

/* Check the request's fields; "" or why it is malformed into reason. */
static void parse_entry(wasmplug_worker *w, entry *e, char *reason, size_t size)
{
    static const char *const required[] = {"id", "plugin", "function", "input", "reply", "idem"};
    const redisReply **slots[] = {&e->call_id, &e->plugin, &e->function,
                                  &e->input, &e->reply, &e->idem};
    reason[0] = '\0';
    for (size_t i = 0; i < sizeof required / sizeof *required; i++) {
        *slots[i] = wps_queue_field(e->fields, required[i]);
        if (!*slots[i] && !reason[0])
            snprintf(reason, size, "malformed request: no '%s' field", required[i]);
    }
    uint64_t t, f;
    if (!reason[0] && (!field_u64(e->fields, "timeout_ms", UINT32_MAX, &t) ||
                       !field_u64(e->fields, "fuel", UINT64_MAX >> 1, &f)))
        snprintf(reason, size, "malformed request: a limit is not a number in range");
    if (!reason[0] && (e->reply->len == 0 || e->reply->len > WPS_QUEUE_KEY_MAX ||
                       e->idem->len == 0 ||
                       strlen(w->stream) + 6 + e->idem->len >= sizeof e->idem_key))
        snprintf(reason, size, "malformed request: empty or too long reply stream or "
                 "idempotency key");
    if (reason[0])
        return;
    e->timeout_ms = (uint32_t)t;
    e->fuel = f;
    snprintf(e->idem_key, sizeof e->idem_key, "%s:idem:%.*s", w->stream, (int)e->idem->len,
             e->idem->str);
}

static void dead_letter(worker_thread *t, entry *e, const char *reason)
{
    wasmplug_worker *w = t->w;
    size_t nf = e->fields && e->fields->type == REDIS_REPLY_ARRAY ? e->fields->elements : 0;
    size_t cap = 16 + nf;
    const char **argv = malloc(cap * sizeof *argv);
    size_t *len = malloc(cap * sizeof *len);
    if (!argv || !len) {
        free(argv);
        free(len);
        return; /* stays pending: dead-lettered on a later delivery */
    }
    char reply[WPS_QUEUE_KEY_MAX + 1] = "", callid[WASMPLUG_QUEUE_ID_MAX + 64] = "";
    if (e->reply)
        field_str(e->reply, reply, sizeof reply);
    if (e->call_id)
        field_str(e->call_id, callid, sizeof callid);
    int argc = 0;
#define ARG(s, l) (argv[argc] = (s), len[argc] = (l), argc++)
#define STR(s) ARG(s, strlen(s))
    STR("EVAL"), STR(DEAD_LETTER), STR("4"), STR(w->stream), STR(w->dead), STR(reply);
    STR(w->errors), STR(w->group), STR(e->id), STR(e->deliveries_str), STR(reason);
    STR(callid), STR(w->consumer), STR(REPLY_TTL);
    for (size_t i = 0; i + 1 < nf; i += 2) {
        const redisReply *k = e->fields->element[i], *v = e->fields->element[i + 1];
        if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
            ARG(k->str, k->len), ARG(v->str, v->len);
    }
#undef STR
#undef ARG
    long long r;
    if (eval_script(t, argc, argv, len, &r, "dead letter") && r == 1) {
        atomic_fetch_add(&w->dead_lettered, 1);
        if (e->deliveries > 1)
            atomic_fetch_add(&w->redelivered, 1);
        wlog(w, "entry %s moved to %s: %s", e->id, w->dead, reason);
    }
    free(argv);
    free(len);
}

/* Answer e with the result (status, output or message and the error's
 * detail), or from the cache only when with_result is false. Returns the script's result, or -2 if
 * it could not be sent. */
static long long answer(worker_thread *t, entry *e, bool with_result, wasmplug_status status,
                        const wasmplug_buf *out, const char *msg)
{
    wasmplug_worker *w = t->w;
    char reply[WPS_QUEUE_KEY_MAX + 1], callid[WASMPLUG_QUEUE_ID_MAX + 64];
    if (!field_str(e->reply, reply, sizeof reply) ||
        !field_str(e->call_id, callid, sizeof callid))
        snprintf(callid, sizeof callid, "?"), snprintf(reply, sizeof reply, "%s", w->dead);
    const char *argv[24];
    size_t len[24];
    int argc = 0;
#define ARG(s, l) (argv[argc] = (s), len[argc] = (l), argc++)
#define STR(s) ARG(s, strlen(s))
    STR("EVAL"), STR(ANSWER), STR("4"), STR(w->stream), STR(reply), STR(e->idem_key);
    STR(w->errors);
    STR(w->group), STR(e->id), STR(w->idem_ttl), STR(REPLY_TTL), STR(callid);
    STR(e->deliveries_str);
    if (with_result) {
        STR("status"), STR(wasmplug_status_name(status));
        if (status == WASMPLUG_OK)
            STR("output"), ARG(out->len ? (const char *)out->data : "", out->len);
        else
            STR("error"), STR(msg[0] ? msg : wasmplug_strerror(status));
        if (status != WASMPLUG_OK && out->len)
            STR("detail"), ARG((const char *)out->data, out->len);
        STR("worker"), STR(w->consumer);
    }
#undef STR
#undef ARG
    long long r;
    return eval_script(t, argc, argv, len, &r, "answer") ? r : -2;
}

static void process(worker_thread *t, const char *id, const redisReply *fields,
                    uint32_t deliveries)
{
    wasmplug_worker *w = t->w;
    atomic_fetch_add(&w->in_flight, 1);
    entry e = {.id = id, .fields = fields, .deliveries = deliveries};
    snprintf(e.deliveries_str, sizeof e.deliveries_str, "%" PRIu32, deliveries);
    char reason[256];
    parse_entry(w, &e, reason, sizeof reason);
    if (!reason[0] && deliveries > w->cfg.max_deliveries)
        snprintf(reason, sizeof reason, "delivered %" PRIu32 " times without an answer "
                 "(max_deliveries %" PRIu32 ")", deliveries, w->cfg.max_deliveries);
    if (reason[0]) {
        dead_letter(t, &e, reason);
        goto done;
    }
    /* Answered before under this idempotency key: that answer again. Only
     * asked when it can be so (a key of the caller's, or a redelivery): a
     * first delivery keyed by its own call id is not cached yet (and if it
     * were, its XADD having been sent twice, the answer script still gives
     * the cached result). One round trip less per call. */
    long long r = -1;
    if (deliveries > 1 || e.idem->len != e.call_id->len ||
        memcmp(e.idem->str, e.call_id->str, e.idem->len) != 0)
        r = answer(t, &e, false, WASMPLUG_OK, NULL, "");
    if (r >= 0) {
        if (r == 2) {
            atomic_fetch_add(&w->processed, 1);
            atomic_fetch_add(&w->cached, 1);
            if (deliveries > 1)
                atomic_fetch_add(&w->redelivered, 1);
        }
        goto done;
    }
    if (r == -2)
        goto done; /* Redis away: delivered again later */

    char plugin[WASMPLUG_NAME_MAX * 2], function[WASMPLUG_NAME_MAX];
    wasmplug_buf out = {NULL, 0};
    bool retry = false;
    char msg[1024] = "";
    wasmplug_status st;
    if (!field_str(e.plugin, plugin, sizeof plugin) ||
        !field_str(e.function, function, sizeof function)) {
        st = WASMPLUG_ERR_ARGUMENT;
        snprintf(msg, sizeof msg, "the plugin or function name is empty, too long or holds "
                 "a NUL byte");
    } else {
        wasmplug_queue_request req = {
            .entry = id, .plugin = plugin, .function = function,
            .input = (const uint8_t *)e.input->str, .input_len = e.input->len,
            .timeout_ms = e.timeout_ms, .fuel = e.fuel, .deliveries = deliveries};
        char callid[WASMPLUG_QUEUE_ID_MAX + 64] = "";
        field_str(e.call_id, callid, sizeof callid);
        req.id = callid;
        st = w->cfg.run(w->cfg.user, t->index, &req, &out, &retry, msg, sizeof msg);
    }
    if (retry) {
        /* Left pending for a later delivery; the reason goes with a dead letter. */
        char m[512];
        if (wps_redis_command(t->r, NULL, m, sizeof m, "HSET %s %s %s", w->errors, id,
                              msg[0] ? msg : "could not run") == WPS_REDIS_OK)
            (void)wps_redis_command(t->r, NULL, m, sizeof m, "PEXPIRE %s " ERRORS_TTL,
                                    w->errors);
        atomic_fetch_add(&w->retried, 1);
        wlog(w, "entry %s not answered (delivery %" PRIu32 "): %s", id, deliveries, msg);
    } else {
        r = answer(t, &e, true, st, &out, msg);
        if (r == 1 || r == 2) {
            atomic_fetch_add(&w->processed, 1);
            if (r == 2)
                atomic_fetch_add(&w->cached, 1);
            else if (st != WASMPLUG_OK)
                atomic_fetch_add(&w->failed_calls, 1);
            if (deliveries > 1)
                atomic_fetch_add(&w->redelivered, 1);
        }
    }
    wasmplug_buf_free(&out);
done:
    atomic_fetch_sub(&w->in_flight, 1);
}

/* ---- reading, claiming, polling ------------------------------------------ */

/* Entries of a stream reply ([[id, fields], ...]) processed in order. */
static void process_entries(worker_thread *t, const redisReply *entries, bool claimed)
{
    wasmplug_worker *w = t->w;
    for (size_t i = 0; entries && entries->type == REDIS_REPLY_ARRAY && i < entries->elements;
         i++) {
        const redisReply *en = entries->element[i];
        if (en->type != REDIS_REPLY_ARRAY || en->elements != 2 ||
            en->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const char *id = en->element[0]->str;
        uint32_t deliveries = 1;
        if (claimed) {
            /* How often it was delivered (this claim included). */
            redisReply *p = NULL;
            char msg[512];
            if (wps_redis_command(t->r, &p, msg, sizeof msg, "XPENDING %s %s %s %s 1",
                                  w->stream, w->group, id, id) == WPS_REDIS_OK &&
                p->type == REDIS_REPLY_ARRAY && p->elements == 1 &&
                p->element[0]->type == REDIS_REPLY_ARRAY && p->element[0]->elements == 4 &&
                p->element[0]->element[3]->type == REDIS_REPLY_INTEGER)
                deliveries = (uint32_t)p->element[0]->element[3]->integer;
            freeReplyObject(p);
            atomic_fetch_add(&w->claimed, 1);
        } else {
            atomic_fetch_add(&w->read, 1);
        }
        process(t, id, en->element[1], deliveries);
    }
}

static void read_new(worker_thread *t)
{
    wasmplug_worker *w = t->w;
    char msg[512];
    redisReply *rep = NULL;
    wps_redis_status st = wps_redis_command(t->r, &rep, msg, sizeof msg,
                                            "XREADGROUP GROUP %s %s COUNT %u BLOCK %" PRIu32
                                            " STREAMS %s >", w->group, w->consumer,
                                            w->cfg.batch, w->cfg.block_ms, w->stream);
    if (st == WPS_REDIS_LOST) {
        lost(t, msg);
        return;
    }
    if (st == WPS_REDIS_ERROR) {
        if (strstr(msg, "NOGROUP")) { /* Redis lost its data: start again */
            wlog(w, "thread %u: %s; creating the group again", t->index, msg);
            ensure_group(t);
        } else {
            fail(w, msg);
        }
        return;
    }
    if (st == WPS_REDIS_OK && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
        rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2)
        process_entries(t, rep->element[0]->element[1], false);
    freeReplyObject(rep);
}

/* Claim entries pending longer than claim_idle_ms (their worker died). */
static void claim(worker_thread *t)
{
    wasmplug_worker *w = t->w;
    char msg[512];
    redisReply *rep = NULL;
    wps_redis_status st = wps_redis_command(t->r, &rep, msg, sizeof msg,
                                            "XAUTOCLAIM %s %s %s %" PRIu32 " %s COUNT 64",
                                            w->stream, w->group, w->consumer,
                                            w->cfg.claim_idle_ms, t->claim_cursor);
    if (st == WPS_REDIS_LOST)
        lost(t, msg);
    if (st != WPS_REDIS_OK) {
        snprintf(t->claim_cursor, sizeof t->claim_cursor, "0-0");
        return;
    }
    /* [next cursor, entries, deleted ids] */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
        rep->element[0]->type == REDIS_REPLY_STRING) {
        snprintf(t->claim_cursor, sizeof t->claim_cursor, "%s", rep->element[0]->str);
        process_entries(t, rep->element[1], true);
    }
    freeReplyObject(rep);
}

/* Lag (entries not yet delivered) and pending entries of the group. The
 * stream holds exactly the unanswered entries (answered ones are deleted),
 * so lag = length - pending. */
static void poll_stats(worker_thread *t)
{
    wasmplug_worker *w = t->w;
    char msg[512];
    const char *xlen[] = {"XLEN", w->stream}, *xpending[] = {"XPENDING", w->stream, w->group};
    redisReply *a = NULL, *b = NULL;
    long long len, pending;
    if (wps_redis_append(t->r, msg, sizeof msg, 2, xlen, NULL) != WPS_REDIS_OK ||
        wps_redis_append(t->r, msg, sizeof msg, 3, xpending, NULL) != WPS_REDIS_OK)
        return;
    wps_redis_status sa = wps_redis_next(t->r, &a, msg, sizeof msg);
    wps_redis_status sb = sa == WPS_REDIS_LOST ? sa : wps_redis_next(t->r, &b, msg, sizeof msg);
    if (sa == WPS_REDIS_OK && sb == WPS_REDIS_OK && wps_redis_reply_int(a, &len) &&
        b->type == REDIS_REPLY_ARRAY && b->elements >= 1 &&
        wps_redis_reply_int(b->element[0], &pending)) {
        atomic_store(&w->pending, (uint64_t)pending);
        atomic_store(&w->lag, len > pending ? (uint64_t)(len - pending) : 0);
    }
    freeReplyObject(a);
    freeReplyObject(b);
}

/* This worker is alive (a key with a TTL); every tenth poll, forget the
 * consumers of workers that are not. */
static void heartbeat(worker_thread *t)
{
    wasmplug_worker *w = t->w;
    char msg[512];
    (void)wps_redis_command(t->r, NULL, msg, sizeof msg, "SET %s 1 PX %s", w->alive,
                            w->alive_ttl);
    if (t->polls++ % 10 != 0)
        return;
    const char *argv[] = {"EVAL", FORGET, "1", w->stream, w->group, w->alive_prefix};
    redisReply *rep = NULL;
    long long gone = 0;
    if (wps_redis_commandv(t->r, &rep, msg, sizeof msg, 6, argv, NULL) == WPS_REDIS_OK &&
        wps_redis_reply_int(rep, &gone) && gone > 0)
        wlog(w, "forgot %lld consumer%s of workers gone from group %s", gone,
             gone > 1 ? "s" : "", w->group);
    freeReplyObject(rep);
}

static void *thread_main(void *arg)
{
    worker_thread *t = arg;
    wasmplug_worker *w = t->w;
    bool group_ready = false;
    uint32_t poll_ms = w->cfg.claim_idle_ms / 2;
    poll_ms = poll_ms < 50 ? 50 : poll_ms > 1000 ? 1000 : poll_ms;
    while (!stopping(w)) {
        if (!ensure_connected(t, false))
            break;
        if (!group_ready && !(group_ready = ensure_group(t)))
            continue;
        if (t->index == 0 && now_ms() >= t->next_poll_ms) {
            heartbeat(t);
            poll_stats(t);
            claim(t);
            t->next_poll_ms = now_ms() + poll_ms;
            if (stopping(w))
                break;
        }
        read_new(t);
    }
    if (t->index == 0 && wps_redis_connected(t->r)) {
        char msg[512]; /* gone: no need to wait for the key to expire */
        (void)wps_redis_command(t->r, NULL, msg, sizeof msg, "DEL %s", w->alive);
    }
    return NULL;
}

wasmplug_status wasmplug_worker_run(wasmplug_worker *w, char *msg, size_t msg_size)
{
    unsigned n = w->cfg.concurrency;
    worker_thread *ts = calloc(n, sizeof *ts);
    pthread_t *tids = calloc(n, sizeof *tids);
    wps_redis_url u;
    wps_redis_url_parse(w->url, &u, msg, msg_size); /* checked by wasmplug_worker_new */
    /* Blocking reads must return before the socket times out. */
    wps_redis_options ro = {.command_timeout_ms = w->cfg.block_ms + 10000, .stop = &w->stop};
    unsigned started = 0;
    if (ts && tids) {
        for (; started < n; started++) {
            worker_thread *t = &ts[started];
            *t = (worker_thread){.w = w, .index = started, .r = wps_redis_new(&u, &ro)};
            snprintf(t->claim_cursor, sizeof t->claim_cursor, "0-0");
            if (!t->r || pthread_create(&tids[started], NULL, thread_main, t) != 0) {
                wps_redis_free(t->r);
                fail(w, "cannot start a worker thread (out of memory or threads)");
                break;
            }
        }
    } else {
        fail(w, "out of memory");
    }
    for (unsigned i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        wps_redis_free(ts[i].r);
    }
    free(ts);
    free(tids);
    explicit_bzero(&u, sizeof u);
    if (atomic_load(&w->failed)) {
        snprintf(msg, msg_size, "worker %s on stream %s: %s", w->consumer, w->stream, w->fatal);
        return WASMPLUG_ERR_IO;
    }
    return WASMPLUG_OK;
}
