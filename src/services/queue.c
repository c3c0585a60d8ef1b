/*
 * queue.c - submitting plugin calls through Redis Streams and waiting for
 * their answers (<wasmplug/queue.h>), plus what the worker shares.
 *
 * A client's calls are numbered: call id "<client>-<n>", so the answer of
 * call n lands in slot n-1 of a growing array whatever order answers come
 * in. The client reads its reply stream from where it stopped (an entry id),
 * so nothing is missed across waits, timeouts and reconnects.
 */
#include "queue_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- shared with the worker ---------------------------------------------- */

bool wps_queue_name_ok(const char *what, const char *name, char *msg, size_t msg_size)
{
    size_t n = name ? strlen(name) : 0;
    bool ok = n > 0 && n <= WPS_QUEUE_STREAM_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = name[i] > ' ' && name[i] < 127;
    if (!ok)
        snprintf(msg, msg_size, "%s must be 1 to %d printable characters without spaces", what,
                 WPS_QUEUE_STREAM_MAX);
    return ok;
}

bool wps_queue_key(char *buf, size_t size, const char *stream, const char *suffix)
{
    int n = snprintf(buf, size, "%s%s", stream, suffix);
    return n > 0 && (size_t)n < size;
}

const redisReply *wps_queue_field(const redisReply *fields, const char *name)
{
    if (!fields || fields->type != REDIS_REPLY_ARRAY)
        return NULL;
    size_t n = strlen(name);
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i];
        if (k->type == REDIS_REPLY_STRING && k->len == n && !memcmp(k->str, name, n))
            return fields->element[i + 1]->type == REDIS_REPLY_STRING ? fields->element[i + 1]
                                                                      : NULL;
    }
    return NULL;
}

wasmplug_status wps_queue_status_of(const char *name, size_t len)
{
    for (int s = 0; s < WASMPLUG_STATUS_COUNT; s++) {
        const char *sn = wasmplug_status_name((wasmplug_status)s);
        if (strlen(sn) == len && !memcmp(sn, name, len))
            return (wasmplug_status)s;
    }
    return WASMPLUG_ERR_IO;
}

wasmplug_status wps_queue_status_redis(wps_redis_status st)
{
    return st == WPS_REDIS_OK ? WASMPLUG_OK
           : st == WPS_REDIS_USAGE ? WASMPLUG_ERR_ARGUMENT
                                   : WASMPLUG_ERR_IO;
}

/* ---- the client ---------------------------------------------------------- */

enum { SLOT_NONE, SLOT_WAITING, SLOT_ARRIVED, SLOT_RETURNED };

typedef struct slot {
    unsigned char state;
    wasmplug_queue_result *res; /* when ARRIVED */
} slot;

struct wasmplug_queue {
    wps_redis *r;
    char stream[WPS_QUEUE_STREAM_MAX + 1];
    char reply[WPS_QUEUE_STREAM_MAX + 64];
    char client[17];
    char last_id[48];   /* reply stream position */
    unsigned untrimmed; /* replies read since the stream was last trimmed */
    uint32_t reconnect_ms;
    slot *slots;        /* call n is slots[n - 1] */
    uint64_t count, cap;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

wasmplug_status wasmplug_queue_open(const char *url, const char *stream,
                                    const wasmplug_queue_options *opts, wasmplug_queue **out,
                                    char *msg, size_t msg_size)
{
    *out = NULL;
    if (!wps_queue_name_ok("the stream name", stream, msg, msg_size))
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_queue *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    wps_redis_options ro = {.connect_timeout_ms = opts ? opts->connect_timeout_ms : 0};
    wps_redis_status st = wps_redis_open(url, &ro, &q->r, msg, msg_size);
    if (st != WPS_REDIS_OK) {
        free(q);
        return wps_queue_status_redis(st);
    }
    q->reconnect_ms = opts && opts->reconnect_ms ? opts->reconnect_ms : 30000;
    uint8_t rnd[8];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd) {
        uint64_t t = now_ms() ^ (uint64_t)(uintptr_t)q;
        memcpy(rnd, &t, sizeof rnd);
    }
    for (int i = 0; i < 8; i++)
        snprintf(q->client + 2 * i, 3, "%02x", rnd[i]);
    snprintf(q->stream, sizeof q->stream, "%s", stream);
    snprintf(q->reply, sizeof q->reply, "%s:reply:%s", stream, q->client);
    snprintf(q->last_id, sizeof q->last_id, "0");
    *out = q;
    return WASMPLUG_OK;
}

void wasmplug_queue_result_free(wasmplug_queue_result *res)
{
    if (!res)
        return;
    wasmplug_buf_free(&res->output);
    free(res->detail);
    memset(res, 0, sizeof *res);
}

void wasmplug_queue_free(wasmplug_queue *q)
{
    if (!q)
        return;
    if (wps_redis_connected(q->r)) {
        char msg[256];
        (void)wps_redis_command(q->r, NULL, msg, sizeof msg, "DEL %s", q->reply);
    }
    for (uint64_t i = 0; i < q->count; i++)
        if (q->slots[i].res) {
            wasmplug_queue_result_free(q->slots[i].res);
            free(q->slots[i].res);
        }
    free(q->slots);
    wps_redis_free(q->r);
    free(q);
}

/* Reconnect after a lost connection, for up to wait_ms. */
static wasmplug_status reconnect(wasmplug_queue *q, uint32_t wait_ms, char *msg, size_t msg_size)
{
    char why[512];
    snprintf(why, sizeof why, "%s", msg);
    wps_redis_status st = wps_redis_connect(q->r, wait_ms, msg, msg_size);
    if (st == WPS_REDIS_OK)
        return WASMPLUG_OK;
    size_t n = strlen(msg);
    if (n + 1 < msg_size && strcmp(msg, why)) /* the first failure, if another */
        snprintf(msg + n, msg_size - n, " (after: %s)", why);
    return wps_queue_status_redis(st);
}

wasmplug_status wasmplug_queue_submit(wasmplug_queue *q, const wasmplug_queue_call *call,
                                      char id[WASMPLUG_QUEUE_ID_MAX], char *msg, size_t msg_size)
{
    id[0] = '\0';
    if (!call || !call->plugin || !*call->plugin || !call->function || !*call->function) {
        snprintf(msg, msg_size, "a queued call needs a plugin and a function");
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (call->idempotency_key && (!*call->idempotency_key ||
                                  strlen(call->idempotency_key) > WPS_QUEUE_KEY_MAX -
                                  WPS_QUEUE_STREAM_MAX - 16)) {
        snprintf(msg, msg_size, "the idempotency key must be 1 to %d bytes",
                 WPS_QUEUE_KEY_MAX - WPS_QUEUE_STREAM_MAX - 16);
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (q->count == q->cap) {
        uint64_t cap = q->cap ? q->cap * 2 : 64;
        slot *s = realloc(q->slots, cap * sizeof *s);
        if (!s) {
            snprintf(msg, msg_size, "out of memory");
            return WASMPLUG_ERR_NOMEM;
        }
        q->slots = s;
        q->cap = cap;
    }
    uint64_t n = q->count + 1;
    snprintf(id, WASMPLUG_QUEUE_ID_MAX, "%s-%" PRIu64, q->client, n);

    char limits[2][24];
    const char *argv[32];
    size_t len[32];
    int argc = 0;
#define ARG(s, l) (argv[argc] = (s), len[argc] = (l), argc++)
#define STR(s) ARG(s, strlen(s))
    STR("XADD"), STR(q->stream), STR("*"), STR("v"), STR("1"), STR("id"), STR(id);
    STR("plugin"), STR(call->plugin), STR("function"), STR(call->function);
    STR("input"), ARG(call->input_len ? (const char *)call->input : "", call->input_len);
    STR("reply"), STR(q->reply), STR("idem");
    STR(call->idempotency_key ? call->idempotency_key : id);
    if (call->timeout_ms) {
        snprintf(limits[0], sizeof limits[0], "%" PRIu32, call->timeout_ms);
        STR("timeout_ms"), STR(limits[0]);
    }
    if (call->fuel) {
        snprintf(limits[1], sizeof limits[1], "%" PRIu64, call->fuel);
        STR("fuel"), STR(limits[1]);
    }
#undef STR
#undef ARG
    for (;;) {
        wps_redis_status st = wps_redis_commandv(q->r, NULL, msg, msg_size, argc, argv, len);
        if (st == WPS_REDIS_OK)
            break;
        /* Lost: the XADD may or may not have happened; sending it again is
         * safe (the same call id and idempotency key are answered once). */
        if (st != WPS_REDIS_LOST || reconnect(q, q->reconnect_ms, msg, msg_size) != WASMPLUG_OK) {
            id[0] = '\0';
            return wps_queue_status_redis(st);
        }
    }
    q->slots[q->count++] = (slot){SLOT_WAITING, NULL};
    return WASMPLUG_OK;
}

/* The slot of call id, or NULL if it is not one of q's. */
static slot *slot_of(wasmplug_queue *q, const char *id, size_t len)
{
    size_t cl = strlen(q->client);
    if (len <= cl + 1 || len > cl + 21 || memcmp(id, q->client, cl) != 0 || id[cl] != '-')
        return NULL;
    uint64_t n = 0;
    for (size_t i = cl + 1; i < len; i++) {
        if (id[i] < '0' || id[i] > '9')
            return NULL;
        n = n * 10 + (uint64_t)(id[i] - '0');
    }
    return n >= 1 && n <= q->count ? &q->slots[n - 1] : NULL;
}

static void copy_field(char *dst, size_t size, const redisReply *f)
{
    size_t n = f ? (f->len < size - 1 ? f->len : size - 1) : 0;
    if (n)
        memcpy(dst, f->str, n);
    dst[n] = '\0';
}

/* One reply stream entry: [entry id, [field, value, ...]]. */
static void take_answer(wasmplug_queue *q, const redisReply *entry)
{
    if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2 ||
        entry->element[0]->type != REDIS_REPLY_STRING)
        return;
    copy_field(q->last_id, sizeof q->last_id, entry->element[0]);
    const redisReply *fields = entry->element[1];
    const redisReply *id = wps_queue_field(fields, "id");
    slot *s = id ? slot_of(q, id->str, id->len) : NULL;
    if (!s || s->state != SLOT_WAITING)
        return; /* a duplicate (a resubmitted request) or not ours */
    wasmplug_queue_result *res = calloc(1, sizeof *res);
    if (!res)
        return; /* stays WAITING: the wait times out rather than lying */
    const redisReply *f = wps_queue_field(fields, "status");
    res->status = f ? wps_queue_status_of(f->str, f->len) : WASMPLUG_ERR_IO;
    if (res->status == WASMPLUG_OK && (f = wps_queue_field(fields, "output")) && f->len) {
        res->output.data = malloc(f->len + 1);
        if (!res->output.data) {
            free(res);
            return;
        }
        memcpy(res->output.data, f->str, f->len);
        res->output.data[f->len] = 0;
        res->output.len = f->len;
    }
    copy_field(res->error, sizeof res->error, wps_queue_field(fields, "error"));
    if (res->status != WASMPLUG_OK && (f = wps_queue_field(fields, "detail")) && f->len &&
        (res->detail = malloc(f->len + 1)) != NULL) {
        memcpy(res->detail, f->str, f->len);
        res->detail[f->len] = '\0';
    }
    if (res->status != WASMPLUG_OK && !res->error[0])
        snprintf(res->error, sizeof res->error, "%s", wasmplug_strerror(res->status));
    copy_field(res->worker, sizeof res->worker, wps_queue_field(fields, "worker"));
    long long v;
    if (wps_redis_reply_int(wps_queue_field(fields, "deliveries"), &v) && v > 0 && v < UINT32_MAX)
        res->deliveries = (uint32_t)v;
    res->cached = wps_redis_reply_is(wps_queue_field(fields, "cached"), "1");
    s->res = res;
    s->state = SLOT_ARRIVED;
}

wasmplug_status wasmplug_queue_wait(wasmplug_queue *q, const char *id, uint32_t timeout_ms,
                                    wasmplug_queue_result *res, char *msg, size_t msg_size)
{
    memset(res, 0, sizeof *res);
    slot *s = id ? slot_of(q, id, strlen(id)) : NULL;
    if (!s || s->state == SLOT_RETURNED) {
        snprintf(msg, msg_size, "'%s' is not a call waiting on this client of stream %s",
                 id ? id : "(null)", q->stream);
        return WASMPLUG_ERR_NOT_FOUND;
    }
    uint64_t deadline = now_ms() + timeout_ms;
    while (s->state != SLOT_ARRIVED) {
        uint64_t now = now_ms();
        if (now >= deadline) {
            snprintf(msg, msg_size, "no answer to call %s on stream %s within %" PRIu32 " ms", id,
                     q->stream, timeout_ms);
            return WASMPLUG_ERR_TIMEOUT;
        }
        uint64_t block = deadline - now < 1000 ? deadline - now : 1000;
        /* Above the longest block; one value, so no socket option is set
         * again per wait (wps_redis_set_command_timeout skips the same). */
        wps_redis_set_command_timeout(q->r, 1000 + 5000);
        redisReply *rep = NULL;
        wps_redis_status st = wps_redis_command(q->r, &rep, msg, msg_size,
                                                "XREAD COUNT 512 BLOCK %llu STREAMS %s %s",
                                                (unsigned long long)block, q->reply, q->last_id);
        if (st == WPS_REDIS_LOST) {
            uint64_t t = now_ms();
            if (t >= deadline)
                continue; /* the timeout above */
            uint64_t left = deadline - t < q->reconnect_ms ? deadline - t : q->reconnect_ms;
            if (reconnect(q, (uint32_t)left, msg, msg_size) != WASMPLUG_OK && now_ms() < deadline)
                return WASMPLUG_ERR_IO;
            continue;
        }
        if (st != WPS_REDIS_OK)
            return wps_queue_status_redis(st);
        /* [[stream, [entry...]]] or nil on timeout. */
        if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1 &&
            rep->element[0]->type == REDIS_REPLY_ARRAY && rep->element[0]->elements == 2) {
            const redisReply *entries = rep->element[0]->element[1];
            for (size_t i = 0; entries->type == REDIS_REPLY_ARRAY && i < entries->elements; i++)
                take_answer(q, entries->element[i]);
            if (entries->type == REDIS_REPLY_ARRAY)
                q->untrimmed += (unsigned)entries->elements;
        }
        freeReplyObject(rep);
        /* A long-lived client's reply stream would only grow: now and then
         * drop what was read (best effort; the stream also expires). */
        if (q->untrimmed >= 256 &&
            wps_redis_command(q->r, NULL, msg, msg_size, "XTRIM %s MINID %s", q->reply,
                              q->last_id) == WPS_REDIS_OK)
            q->untrimmed = 0;
    }
    *res = *s->res;
    free(s->res);
    s->res = NULL;
    s->state = SLOT_RETURNED;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_queue_forget(wasmplug_queue *q, const char *id)
{
    slot *s = id ? slot_of(q, id, strlen(id)) : NULL;
    if (!s || s->state == SLOT_RETURNED)
        return WASMPLUG_ERR_NOT_FOUND;
    if (s->res) {
        wasmplug_queue_result_free(s->res);
        free(s->res);
        s->res = NULL;
    }
    s->state = SLOT_RETURNED; /* a late answer is ignored (take_answer) */
    return WASMPLUG_OK;
}

void wasmplug_queue_set_reconnect(wasmplug_queue *q, uint32_t reconnect_ms)
{
    q->reconnect_ms = reconnect_ms ? reconnect_ms : 30000;
}

uint64_t wasmplug_queue_calls(const wasmplug_queue *q)
{
    return q->count;
}

uint64_t wasmplug_queue_reconnects(const wasmplug_queue *q)
{
    return wps_redis_reconnects(q->r);
}

bool wasmplug_queue_connected(const wasmplug_queue *q)
{
    return wps_redis_connected(q->r);
}

wasmplug_status wasmplug_queue_run(wasmplug_queue *q, const wasmplug_queue_call *call,
                                   uint32_t timeout_ms, wasmplug_queue_result *res, char *msg,
                                   size_t msg_size)
{
    memset(res, 0, sizeof *res);
    char id[WASMPLUG_QUEUE_ID_MAX];
    wasmplug_status st = wasmplug_queue_submit(q, call, id, msg, msg_size);
    return st != WASMPLUG_OK ? st : wasmplug_queue_wait(q, id, timeout_ms, res, msg, msg_size);
}
