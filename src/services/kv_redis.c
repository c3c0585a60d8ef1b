/*
 * kv_redis.c - the key-value service on Redis (wasmplug_services_config.
 * kv_redis_url), so that hosts on several machines share plugin data.
 *
 * Keys, for a plugin's data name N (its id, or id@version) under the prefix
 * P ("wasmplug:kv:"): P{N}:data (hash key -> value), P{N}:order (sorted set
 * of the keys, all scored 0, so ZRANGEBYLEX lists them in byte order, the
 * order SQLite's BLOBs sort in), P{N}:usage (hash: bytes, keys), P{N}:lock
 * and P{N}:done:<token>. The braces keep one plugin's keys in one Redis
 * Cluster slot, which the commit script needs.
 *
 * A transaction (a call's, or a host API function's):
 *   1. takes the plugin's lock: SET P{N}:lock <random token> NX PX 60000,
 *      retried with backoff for up to 5 s (as SQLite's busy timeout), so
 *      transactions of one plugin take turns on every host, as they do on
 *      one SQLite file;
 *   2. reads the usage, then reads keys from Redis, while its writes stay in
 *      its write set (a sorted array; reads see them first);
 *   3. ends: a failed call releases the lock (nothing was written); a
 *      successful one runs COMMIT_SCRIPT, which checks that the lock still
 *      holds the token (it may have expired: a call over 60 s; or Redis
 *      lost it in a restart without persistence) and only then applies the
 *      write set and the usage, deletes the lock and leaves the marker
 *      P{N}:done:<token> for 60 s. Redis runs a script atomically, so a
 *      reader never sees half a call.
 * If the connection breaks, it is reopened with backoff (wps_redis_connect,
 * up to 10 s) and reads are repeated. If the reply of the commit script is
 * lost, the marker says whether it ran: present, the call committed; absent
 * while the lock is still ours, the script is sent again; else the call
 * fails with ERR_STORAGE and nothing of it was written. So a call never
 * reports success for writes that are not in Redis.
 */
#include "kv_internal.h"
#include "redis_conn.h"

#include <sodium.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KVR_DEFAULT_PREFIX "wasmplug:kv:"
#define KVR_LOCK_MS 60000
#define KVR_LOCK_WAIT_MS 5000
#define KVR_RECONNECT_MS 10000
#define KVR_DONE_MS "60000"
#define KVR_POOL_MAX 16
#define KVR_LIST_PAGE 256u
#define KVR_COMMIT_TRIES 3

/* KEYS: data, order, usage, lock, done. ARGV: token, bytes, keys, usage
 * changed (0/1), clear first (0/1), then (op "s"/"d", key, value) triples. */
static const char COMMIT_SCRIPT[] =
    "if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 0 end\n"
    "if ARGV[5] == '1' then redis.call('DEL', KEYS[1], KEYS[2]) end\n"
    "for i = 6, #ARGV, 3 do\n"
    "  if ARGV[i] == 's' then\n"
    "    redis.call('HSET', KEYS[1], ARGV[i + 1], ARGV[i + 2])\n"
    "    redis.call('ZADD', KEYS[2], 0, ARGV[i + 1])\n"
    "  else\n"
    "    redis.call('HDEL', KEYS[1], ARGV[i + 1])\n"
    "    redis.call('ZREM', KEYS[2], ARGV[i + 1])\n"
    "  end\n"
    "end\n"
    "if ARGV[4] == '1' then redis.call('HSET', KEYS[3], 'bytes', ARGV[2], 'keys', ARGV[3]) end\n"
    "redis.call('DEL', KEYS[4])\n"
    "redis.call('SET', KEYS[5], '1', 'PX', " KVR_DONE_MS ")\n"
    "return 1\n";

/* KEYS: lock. ARGV: token. */
static const char UNLOCK_SCRIPT[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

enum { K_DATA, K_ORDER, K_USAGE, K_LOCK, K_DONE, K_COUNT };
static const char *const KEY_SUFFIX[K_COUNT] = {"data", "order", "usage", "lock", "done:"};

typedef struct kvr_backend {
    wps_redis_url url;
    char label[WPS_REDIS_HOST_MAX + 32];
    char *prefix;
    pthread_mutex_t mu;
    wps_redis *idle[KVR_POOL_MAX]; /* connections not in use */
    size_t nidle;
} kvr_backend;

typedef struct kvr_write {
    uint8_t *key, *val; /* val NULL: deleted */
    size_t klen, vlen;
} kvr_write;

typedef struct kvr_txn {
    kv_data k; /* first */
    kvr_backend *be;
    wps_redis *r;
    char *keys[K_COUNT];
    size_t key_lens[K_COUNT];
    char token[33];
    bool locked;
    kvr_write *writes; /* sorted by key */
    size_t nwrites, cap;
    bool cleared;      /* every key removed first (import with replace) */
    char err[WASMPLUG_ERROR_MESSAGE_MAX];
} kvr_txn;

static kvr_txn *of(kv_data *k)
{
    return (kvr_txn *)k;
}

static void sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static wps_redis *conn_take(kvr_backend *be)
{
    wps_redis *r = NULL;
    pthread_mutex_lock(&be->mu);
    if (be->nidle)
        r = be->idle[--be->nidle];
    pthread_mutex_unlock(&be->mu);
    return r ? r : wps_redis_new(&be->url, NULL);
}

static void conn_give(kvr_backend *be, wps_redis *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&be->mu);
    if (be->nidle < KVR_POOL_MAX) {
        be->idle[be->nidle++] = r;
        r = NULL;
    }
    pthread_mutex_unlock(&be->mu);
    wps_redis_free(r);
}

/* A command that may be repeated: after a lost connection, reconnect with
 * backoff and send it once more. */
static wps_redis_status cmd(kvr_txn *t, redisReply **reply, int argc, const char **argv,
                            const size_t *lens)
{
    wps_redis_status st =
        wps_redis_commandv(t->r, reply, t->err, sizeof t->err, argc, argv, lens);
    if (st == WPS_REDIS_LOST &&
        wps_redis_connect(t->r, KVR_RECONNECT_MS, t->err, sizeof t->err) == WPS_REDIS_OK)
        st = wps_redis_commandv(t->r, reply, t->err, sizeof t->err, argc, argv, lens);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

static void txn_free(kvr_txn *t)
{
    if (!t)
        return;
    conn_give(t->be, t->r);
    for (size_t i = 0; i < K_COUNT; i++)
        free(t->keys[i]);
    for (size_t i = 0; i < t->nwrites; i++) {
        free(t->writes[i].key);
        free(t->writes[i].val);
    }
    free(t->writes);
    free(t);
}

static kvr_txn *txn_new(kvr_backend *be, const char *name, char *msg, size_t msg_size)
{
    kvr_txn *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    t->k.ops = &wps_kv_redis_ops;
    t->be = be;
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(t->token, sizeof t->token, raw, sizeof raw);
    bool ok = true;
    for (size_t i = 0; ok && i < K_COUNT; i++) {
        size_t n = strlen(be->prefix) + strlen(name) + 3 + strlen(KEY_SUFFIX[i]) +
                   (i == K_DONE ? sizeof t->token : 0) + 1;
        ok = (t->keys[i] = malloc(n)) != NULL;
        if (ok)
            t->key_lens[i] = (size_t)snprintf(t->keys[i], n, "%s{%s}:%s%s", be->prefix, name,
                                              KEY_SUFFIX[i], i == K_DONE ? t->token : "");
    }
    t->r = ok ? conn_take(be) : NULL;
    if (!t->r) {
        snprintf(msg, msg_size, "out of memory");
        txn_free(t);
        return NULL;
    }
    return t;
}

/* Take the plugin's lock (waiting up to KVR_LOCK_WAIT_MS). */
static bool lock_take(kvr_txn *t, char *msg, size_t msg_size)
{
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", KVR_LOCK_MS);
    const char *set[] = {"SET", t->keys[K_LOCK], t->token, "NX", "PX", ttl};
    const char *get[] = {"GET", t->keys[K_LOCK]};
    uint64_t deadline = now_ms() + KVR_LOCK_WAIT_MS;
    for (uint32_t pause = 1;; pause = pause < 50 ? pause * 2 : 50) {
        redisReply *reply = NULL;
        if (cmd(t, &reply, 6, set, NULL) != WPS_REDIS_OK) {
            snprintf(msg, msg_size, "plugin '%s': cannot take its key-value lock: %s",
                     t->k.plugin, t->err);
            return false;
        }
        bool taken = reply->type == REDIS_REPLY_STATUS;
        freeReplyObject(reply);
        /* A SET sent again after a lost reply finds our own token. */
        if (!taken && cmd(t, &reply, 2, get, NULL) == WPS_REDIS_OK) {
            taken = reply->type == REDIS_REPLY_STRING && strcmp(reply->str, t->token) == 0;
            freeReplyObject(reply);
        }
        if (taken) {
            t->locked = true;
            return true;
        }
        if (now_ms() >= deadline) {
            snprintf(msg, msg_size,
                     "plugin '%s': its key-value data stayed locked by another call for %d ms "
                     "(redis %.120s)",
                     t->k.plugin, KVR_LOCK_WAIT_MS, t->be->label);
            return false;
        }
        sleep_ms(pause);
    }
}

static void lock_release(kvr_txn *t)
{
    if (!t->locked)
        return;
    const char *argv[] = {"EVAL", UNLOCK_SCRIPT, "1", t->keys[K_LOCK], t->token};
    /* If this fails too, the lock expires by itself. */
    cmd(t, NULL, 5, argv, NULL);
    t->locked = false;
}

static bool usage_load(kvr_txn *t, char *msg, size_t msg_size)
{
    const char *argv[] = {"HMGET", t->keys[K_USAGE], "bytes", "keys"};
    redisReply *reply = NULL;
    if (cmd(t, &reply, 4, argv, NULL) != WPS_REDIS_OK) {
        snprintf(msg, msg_size, "plugin '%s': cannot read the key-value usage: %s",
                 t->k.plugin, t->err);
        return false;
    }
    long long v[2] = {0, 0};
    for (size_t i = 0; i < 2 && reply->type == REDIS_REPLY_ARRAY && i < reply->elements; i++)
        if (reply->element[i]->type != REDIS_REPLY_NIL)
            wps_redis_reply_int(reply->element[i], &v[i]);
    freeReplyObject(reply);
    t->k.bytes = v[0];
    t->k.keys = v[1];
    t->k.dirty = false;
    return true;
}

/* A transaction on data name `name` (malloc'd by the caller): locked, with
 * the usage loaded. */
static kvr_txn *txn_begin(kvr_backend *be, const char *name, const char *label, char *msg,
                          size_t msg_size)
{
    kvr_txn *t = txn_new(be, name, msg, msg_size);
    if (!t)
        return NULL;
    snprintf(t->k.plugin, sizeof t->k.plugin, "%s", label);
    if (!lock_take(t, msg, msg_size) || !usage_load(t, msg, msg_size)) {
        lock_release(t);
        txn_free(t);
        return NULL;
    }
    return t;
}

static wasmplug_status commit(kvr_txn *t, char *msg, size_t msg_size)
{
    size_t argc = 5 + K_COUNT + 5 + 3 * t->nwrites;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    if (!argv || !lens) {
        free(argv);
        free(lens);
        snprintf(msg, msg_size, "plugin '%s': out of memory committing its key-value writes",
                 t->k.plugin);
        return WASMPLUG_ERR_NOMEM;
    }
    char nkeys[8], bytes[24], keys[24];
    snprintf(nkeys, sizeof nkeys, "%d", K_COUNT);
    snprintf(bytes, sizeof bytes, "%lld", (long long)t->k.bytes);
    snprintf(keys, sizeof keys, "%lld", (long long)t->k.keys);
    size_t n = 0;
#define ARG(s, l) (argv[n] = (s), lens[n] = (l), n++)
    ARG("EVAL", 4);
    ARG(COMMIT_SCRIPT, sizeof COMMIT_SCRIPT - 1);
    ARG(nkeys, strlen(nkeys));
    for (size_t i = 0; i < K_COUNT; i++)
        ARG(t->keys[i], t->key_lens[i]);
    ARG(t->token, strlen(t->token));
    ARG(bytes, strlen(bytes));
    ARG(keys, strlen(keys));
    ARG(t->k.dirty ? "1" : "0", 1);
    ARG(t->cleared ? "1" : "0", 1);
    for (size_t i = 0; i < t->nwrites; i++) {
        const kvr_write *w = &t->writes[i];
        ARG(w->val ? "s" : "d", 1);
        ARG((const char *)w->key, w->klen);
        ARG(w->val ? (const char *)w->val : "", w->val ? w->vlen : 0);
    }
#undef ARG
    wasmplug_status st = WASMPLUG_ERR_STORAGE;
    for (int attempt = 0; attempt < KVR_COMMIT_TRIES; attempt++) {
        redisReply *reply = NULL;
        wps_redis_status rs =
            wps_redis_commandv(t->r, &reply, t->err, sizeof t->err, (int)n, argv, lens);
        if (rs == WPS_REDIS_OK) {
            long long ran = 0;
            wps_redis_reply_int(reply, &ran);
            freeReplyObject(reply);
            if (ran == 1)
                st = WASMPLUG_OK;
            else
                snprintf(t->err, sizeof t->err,
                         "its lock expired or was lost (a call over %d ms, or Redis restarted "
                         "without its data)",
                         KVR_LOCK_MS);
            break;
        }
        if (rs != WPS_REDIS_LOST ||
            wps_redis_connect(t->r, KVR_RECONNECT_MS, t->err, sizeof t->err) != WPS_REDIS_OK)
            break;
        /* The reply was lost: did the script run? */
        const char *exists[] = {"EXISTS", t->keys[K_DONE]};
        const char *get[] = {"GET", t->keys[K_LOCK]};
        long long done = 0;
        if (wps_redis_commandv(t->r, &reply, t->err, sizeof t->err, 2, exists, NULL) !=
            WPS_REDIS_OK)
            continue;
        wps_redis_reply_int(reply, &done);
        freeReplyObject(reply);
        if (done == 1) {
            st = WASMPLUG_OK;
            break;
        }
        if (wps_redis_commandv(t->r, &reply, t->err, sizeof t->err, 2, get, NULL) !=
            WPS_REDIS_OK)
            continue;
        bool ours = reply->type == REDIS_REPLY_STRING && strcmp(reply->str, t->token) == 0;
        freeReplyObject(reply);
        if (!ours) {
            snprintf(t->err, sizeof t->err,
                     "the connection broke during the commit and the lock was lost meanwhile "
                     "(Redis restarted without its data?)");
            break;
        }
    }
    free(argv);
    free(lens);
    if (st == WASMPLUG_OK)
        t->locked = false; /* the script deleted it */
    else
        snprintf(msg, msg_size, "plugin '%s': its key-value writes were not applied: %s",
                 t->k.plugin, t->err);
    return st;
}

/* ------------------------------------------------------------------------ */
/* The write set                                                            */
/* ------------------------------------------------------------------------ */

/* The index of key in the write set, or where it would go (*found false). */
static size_t ws_find(const kvr_txn *t, const uint8_t *key, size_t klen, bool *found)
{
    size_t lo = 0, hi = t->nwrites;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = wps_kv_key_cmp(t->writes[mid].key, t->writes[mid].klen, key, klen);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static bool ws_put(kvr_txn *t, const uint8_t *key, size_t klen, const uint8_t *val,
                   size_t vlen, bool deleted)
{
    uint8_t *v = deleted ? NULL : malloc(vlen ? vlen : 1);
    if (!deleted && !v) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return false;
    }
    if (vlen && v)
        memcpy(v, val, vlen);
    bool found;
    size_t i = ws_find(t, key, klen, &found);
    if (found) {
        free(t->writes[i].val);
        t->writes[i].val = v;
        t->writes[i].vlen = vlen;
        return true;
    }
    uint8_t *k = malloc(klen);
    if (k && t->nwrites == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        kvr_write *grown = realloc(t->writes, cap * sizeof *grown);
        if (grown) {
            t->writes = grown;
            t->cap = cap;
        }
    }
    if (!k || t->nwrites == t->cap) {
        free(k);
        free(v);
        snprintf(t->err, sizeof t->err, "out of memory");
        return false;
    }
    memcpy(k, key, klen);
    memmove(&t->writes[i + 1], &t->writes[i], (t->nwrites - i) * sizeof *t->writes);
    t->writes[i] = (kvr_write){k, v, klen, vlen};
    t->nwrites++;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

static int64_t op_get(kv_data *k, const uint8_t *key, size_t klen, kv_copy_fn copy, void *user)
{
    kvr_txn *t = of(k);
    bool found;
    size_t i = ws_find(t, key, klen, &found);
    if (found) {
        const kvr_write *w = &t->writes[i];
        if (!w->val)
            return -1;
        if (copy)
            copy(user, w->val, w->vlen);
        return (int64_t)w->vlen;
    }
    if (t->cleared)
        return -1;
    const char *argv[] = {"HGET", t->keys[K_DATA], (const char *)key};
    size_t lens[] = {4, t->key_lens[K_DATA], klen};
    redisReply *reply = NULL;
    if (cmd(t, &reply, 3, argv, lens) != WPS_REDIS_OK)
        return -2;
    int64_t n = -1;
    if (reply->type == REDIS_REPLY_STRING) {
        n = (int64_t)reply->len;
        if (copy)
            copy(user, reply->str, reply->len);
    }
    freeReplyObject(reply);
    return n;
}

static bool op_put(kv_data *k, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    return ws_put(of(k), key, klen, val, vlen, false);
}

static bool op_del(kv_data *k, const uint8_t *key, size_t klen)
{
    return ws_put(of(k), key, klen, NULL, 0, true);
}

static bool op_clear(kv_data *k)
{
    kvr_txn *t = of(k);
    for (size_t i = 0; i < t->nwrites; i++) {
        free(t->writes[i].key);
        free(t->writes[i].val);
    }
    t->nwrites = 0;
    t->cleared = true;
    return true;
}

static const char *op_error(kv_data *k)
{
    return of(k)->err;
}

/* A ZRANGEBYLEX bound: mark ('[' inclusive, '(' exclusive) and the key, or
 * '-' / '+' alone. Returns its length. */
static size_t lex_bound(uint8_t *out, char mark, const uint8_t *key, size_t len)
{
    out[0] = (uint8_t)mark;
    if (len)
        memcpy(out + 1, key, len);
    return len + 1;
}

/* A page of keys from Redis in [min, max), with their value lengths. */
typedef struct kvr_page {
    redisReply *keys;
    long long *vlens;
    size_t next;
    bool last; /* no more pages after this one */
} kvr_page;

static void page_clear(kvr_page *p)
{
    if (p->keys)
        freeReplyObject(p->keys);
    free(p->vlens);
    p->keys = NULL;
    p->vlens = NULL;
    p->next = 0;
}

/* Fetch the keys after the bound (*bound: "[..", "(.." or "-"; bound_len)
 * below max, and set the bound past the last one. */
static bool page_fetch(kvr_txn *t, kvr_page *p, uint8_t *bound, size_t *bound_len,
                       const uint8_t *max, size_t max_len)
{
    page_clear(p);
    char count[16];
    snprintf(count, sizeof count, "%u", KVR_LIST_PAGE);
    const char *argv[] = {"ZRANGEBYLEX", t->keys[K_ORDER], (const char *)bound,
                          (const char *)max, "LIMIT", "0", count};
    size_t lens[] = {11, t->key_lens[K_ORDER], *bound_len, max_len, 5, 1, strlen(count)};
    if (cmd(t, &p->keys, 7, argv, lens) != WPS_REDIS_OK)
        return false;
    if (p->keys->type != REDIS_REPLY_ARRAY) {
        snprintf(t->err, sizeof t->err, "redis %.200s: ZRANGEBYLEX: unexpected reply",
                 t->be->label);
        return false;
    }
    size_t n = p->keys->elements;
    p->last = n < KVR_LIST_PAGE;
    if (n == 0)
        return true;
    p->vlens = calloc(n, sizeof *p->vlens);
    if (!p->vlens) {
        snprintf(t->err, sizeof t->err, "out of memory");
        return false;
    }
    /* The value lengths, pipelined. */
    for (size_t i = 0; i < n; i++) {
        const char *hv[] = {"HSTRLEN", t->keys[K_DATA], p->keys->element[i]->str};
        size_t hl[] = {7, t->key_lens[K_DATA], p->keys->element[i]->len};
        if (wps_redis_append(t->r, t->err, sizeof t->err, 3, hv, hl) != WPS_REDIS_OK)
            return false;
    }
    for (size_t i = 0; i < n; i++) {
        redisReply *reply = NULL;
        if (wps_redis_next(t->r, &reply, t->err, sizeof t->err) != WPS_REDIS_OK)
            return false;
        wps_redis_reply_int(reply, &p->vlens[i]);
        freeReplyObject(reply);
    }
    const redisReply *lastkey = p->keys->element[n - 1];
    *bound_len = lex_bound(bound, '(', (const uint8_t *)lastkey->str, lastkey->len);
    return true;
}

static bool has_prefix(const uint8_t *key, size_t klen, const uint8_t *prefix, size_t plen)
{
    return klen >= plen && (plen == 0 || memcmp(key, prefix, plen) == 0);
}

static bool op_list(kv_data *k, const uint8_t *prefix, size_t plen, const uint8_t *end,
                    size_t elen, const uint8_t *after, size_t alen, bool has_after,
                    uint32_t limit, kv_list_fn fn, void *user)
{
    kvr_txn *t = of(k);
    /* Redis's range: from the larger of [prefix and (after, below (end. */
    uint8_t bound[KV_KEY_MAX + 1], max[KV_KEY_MAX + 1];
    size_t bound_len = has_after && wps_kv_key_cmp(after, alen, prefix, plen) >= 0
                           ? lex_bound(bound, '(', after, alen)
                       : plen ? lex_bound(bound, '[', prefix, plen)
                              : lex_bound(bound, '-', NULL, 0);
    size_t max_len = elen ? lex_bound(max, '(', end, elen) : lex_bound(max, '+', NULL, 0);
    /* Merge Redis's keys with the write set's, which win. */
    kvr_page page = {NULL, NULL, 0, t->cleared};
    size_t wi = 0;
    uint32_t emitted = 0;
    bool ok = true, go = true;
    while (go && emitted < limit) {
        if ((!page.keys || page.next == page.keys->elements) && !page.last &&
            !(ok = page_fetch(t, &page, bound, &bound_len, max, max_len)))
            break;
        while (wi < t->nwrites &&
               (!has_prefix(t->writes[wi].key, t->writes[wi].klen, prefix, plen) ||
                (has_after &&
                 wps_kv_key_cmp(t->writes[wi].key, t->writes[wi].klen, after, alen) <= 0)))
            wi++;
        const redisReply *rk =
            page.keys && page.next < page.keys->elements ? page.keys->element[page.next] : NULL;
        const kvr_write *w = wi < t->nwrites ? &t->writes[wi] : NULL;
        if (!rk && !w)
            break;
        int c = !rk ? 1 : !w ? -1 : wps_kv_key_cmp((const uint8_t *)rk->str, rk->len, w->key,
                                                   w->klen);
        if (c < 0) {
            go = fn(user, rk->str, rk->len, (size_t)page.vlens[page.next]);
            page.next++;
            emitted++;
            continue;
        }
        if (c == 0)
            page.next++;
        wi++;
        if (w->val) {
            go = fn(user, w->key, w->klen, w->vlen);
            emitted++;
        }
    }
    page_clear(&page);
    return ok;
}

/* ------------------------------------------------------------------------ */
/* The backend                                                              */
/* ------------------------------------------------------------------------ */

static kv_data *call_begin(kv_service *ks, wasmplug_hostcall *call, char *msg, size_t msg_size)
{
    wasmplug_plugin *p = wasmplug_hostcall_plugin(call);
    char *name = wps_plugin_data_name(ks->base.svc, p);
    if (!name) {
        snprintf(msg, msg_size, "plugin '%s': its id cannot name key-value data",
                 wasmplug_plugin_name(p));
        return NULL;
    }
    kvr_txn *t = txn_begin(ks->backend, name, wasmplug_plugin_name(p), msg, msg_size);
    free(name);
    if (!t)
        return NULL;
    wps_kv_plugin_quotas(ks, p, &t->k);
    return &t->k;
}

static wasmplug_status end(kv_data *k, wasmplug_status status, char *msg, size_t msg_size)
{
    kvr_txn *t = of(k);
    wasmplug_status st = WASMPLUG_OK;
    if (status == WASMPLUG_OK && (t->nwrites || t->k.dirty || t->cleared))
        st = commit(t, msg, msg_size);
    lock_release(t);
    txn_free(t);
    return st;
}

static wasmplug_status host_begin(kv_service *ks, const char *id, bool create, kv_data **out,
                                  char *msg, size_t msg_size)
{
    *out = NULL;
    kvr_backend *be = ks->backend;
    char *name = wps_data_name(ks->base.svc, id, NULL);
    if (!name) {
        snprintf(msg, msg_size, "'%.100s' is not a plugin id", id ? id : "");
        return WASMPLUG_ERR_ARGUMENT;
    }
    kvr_txn *t = txn_begin(be, name, id, msg, msg_size);
    free(name);
    if (!t)
        return WASMPLUG_ERR_STORAGE;
    t->k.max_bytes = t->k.max_keys = UINT64_MAX; /* the host is not held to quotas */
    if (!create) {
        const char *argv[] = {"EXISTS", t->keys[K_USAGE]};
        redisReply *reply = NULL;
        long long n = 0;
        wps_redis_status rs = cmd(t, &reply, 2, argv, NULL);
        if (rs == WPS_REDIS_OK) {
            wps_redis_reply_int(reply, &n);
            freeReplyObject(reply);
        }
        if (rs != WPS_REDIS_OK || n == 0) {
            wasmplug_status code = rs != WPS_REDIS_OK ? WASMPLUG_ERR_STORAGE : WASMPLUG_ERR_NOT_FOUND;
            if (rs != WPS_REDIS_OK)
                snprintf(msg, msg_size, "plugin '%.100s': %s", id, t->err);
            else
                snprintf(msg, msg_size, "plugin '%.100s' has no key-value data (redis %.120s)", id,
                         be->label);
            lock_release(t);
            txn_free(t);
            return code;
        }
    } else {
        t->k.dirty = true; /* the usage entry marks the data as there */
    }
    *out = &t->k;
    return WASMPLUG_OK;
}

static void plugin_free(void *state)
{
    (void)state; /* no per-plugin state: each transaction has its own */
}

static void service_free(kv_service *ks)
{
    kvr_backend *be = ks->backend;
    if (!be)
        return;
    for (size_t i = 0; i < be->nidle; i++)
        wps_redis_free(be->idle[i]);
    pthread_mutex_destroy(&be->mu);
    free(be->prefix);
    free(be);
    ks->backend = NULL;
}

const kv_ops wps_kv_redis_ops = {
    "redis", op_get, op_put, op_del, op_list, op_clear, op_error,
    call_begin, end, host_begin, plugin_free, service_free,
};

wasmplug_status wps_kv_redis_init(kv_service *ks, const wasmplug_services_config *cfg,
                                  char *msg, size_t msg_size)
{
    kvr_backend *be = calloc(1, sizeof *be);
    if (!be) {
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (wps_redis_url_parse(cfg->kv_redis_url, &be->url, why, sizeof why) != WPS_REDIS_OK) {
        snprintf(msg, msg_size, "kv_redis_url: %s", why);
        free(be);
        return WASMPLUG_ERR_ARGUMENT;
    }
    wps_redis_url_label(&be->url, be->label, sizeof be->label);
    be->prefix = strdup(cfg->kv_redis_prefix ? cfg->kv_redis_prefix : KVR_DEFAULT_PREFIX);
    if (!be->prefix || sodium_init() < 0) {
        free(be->prefix);
        free(be);
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    pthread_mutex_init(&be->mu, NULL);
    ks->ops = &wps_kv_redis_ops;
    ks->backend = be;
    return WASMPLUG_OK;
}
