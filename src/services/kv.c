/*
 * kv.c - the key-value service (grant "kv"): a namespace per plugin, with
 * quotas in bytes (keys plus values) and keys, manifest request ∩ host
 * policy, on SQLite (kv_sqlite.c, <data_dir>/<plugin id>/kv.sqlite, the
 * default) or Redis (kv_redis.c, wasmplug_services_config.kv_redis_url).
 * A call's reads and writes are one transaction of its backend
 * (kv_internal.h): its writes are all or nothing. Usage is kept with the
 * data and updated in the same transaction, so it stays exact across
 * processes, crashes and the host API.
 *
 * Imports (module "wasmplug", docs/ABI.md):
 *   kv_get(key, out) -> i32       value length (copied up to out's length;
 *                                 all of it readable with result_read), -1 absent
 *   kv_set(key, value) -> i32     0
 *   kv_delete(key) -> i32         1 deleted, 0 absent
 *   kv_list(prefix, after, limit, out) -> i32
 *                                 keys > after starting with prefix, at most
 *                                 limit, as (u32 little-endian length, bytes)
 *                                 entries; returns the bytes (result_read)
 *   kv_cas(key, expected, new, flags) -> i32
 *                                 set (or delete: flags & 2) if the value is
 *                                 expected (or absent: flags & 1); 1 if done
 * Keys are 1..1024 bytes; values up to kv_max_value_bytes.
 */
#include "kv_internal.h"

#include <sodium.h>
#include <jansson.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KV_LIST_MAX 10000u
#define KV_CAS_ABSENT 1
#define KV_CAS_DELETE 2

void wps_kv_plugin_quotas(kv_service *ks, wasmplug_plugin *plugin, kv_data *k)
{
    k->max_bytes = wps_effective(wps_setting_u64(plugin, "kv.max_bytes"), ks->max_bytes,
                                 ks->max_bytes);
    k->max_keys = wps_effective(wps_setting_u64(plugin, "kv.max_keys"), ks->max_keys,
                                ks->max_keys);
}

int wps_kv_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* Operations inside a transaction (imports and host API)                   */
/* ------------------------------------------------------------------------ */

static int64_t op_get(kv_data *k, const uint8_t *key, size_t klen, kv_copy_fn copy, void *user)
{
    return k->ops->get(k, key, klen, copy, user);
}

typedef enum op_result { OP_OK, OP_QUOTA, OP_DB } op_result;

/* Set key (enforce: check the quotas; the host API does not). */
static op_result op_set(kv_data *k, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, bool enforce, char *msg, size_t msg_size)
{
    int64_t old = op_get(k, key, klen, NULL, NULL);
    if (old == -2)
        return OP_DB;
    int64_t bytes = k->bytes + (int64_t)vlen - (old >= 0 ? old : -(int64_t)klen);
    int64_t keys = k->keys + (old >= 0 ? 0 : 1);
    if (enforce && old < 0 && (uint64_t)keys > k->max_keys) {
        snprintf(msg, msg_size,
                 "plugin '%s' is over its key-value quota of %llu keys (storage.keys): "
                 "setting a new key would make %lld",
                 k->plugin, (unsigned long long)k->max_keys, (long long)keys);
        return OP_QUOTA;
    }
    if (enforce && bytes > k->bytes && (uint64_t)bytes > k->max_bytes) {
        snprintf(msg, msg_size,
                 "plugin '%s' is over its key-value quota of %llu bytes (storage.quota): "
                 "the call would store %lld",
                 k->plugin, (unsigned long long)k->max_bytes, (long long)bytes);
        return OP_QUOTA;
    }
    if (!k->ops->put(k, key, klen, val, vlen))
        return OP_DB;
    k->bytes = bytes;
    k->keys = keys;
    k->dirty = true;
    return OP_OK;
}

/* Delete key: 1 deleted, 0 absent, -1 error. */
static int op_delete(kv_data *k, const uint8_t *key, size_t klen)
{
    int64_t old = op_get(k, key, klen, NULL, NULL);
    if (old == -2)
        return -1;
    if (old < 0)
        return 0;
    if (!k->ops->del(k, key, klen))
        return -1;
    k->bytes -= (int64_t)klen + old;
    k->keys -= 1;
    k->dirty = true;
    return 1;
}

size_t wps_kv_prefix_end(const uint8_t *prefix, size_t len, uint8_t *out)
{
    while (len > 0 && prefix[len - 1] == 0xff)
        len--;
    if (len == 0)
        return 0;
    memcpy(out, prefix, len);
    out[len - 1]++;
    return len;
}

/* Keys starting with prefix, greater than after (if given), at most limit,
 * each handed to fn(user, key, klen, vlen); false on an error. */
static bool op_list(kv_data *k, const uint8_t *prefix, size_t plen, const uint8_t *after,
                    size_t alen, bool has_after, uint32_t limit, kv_list_fn fn, void *user)
{
    uint8_t end[KV_KEY_MAX] = {0}; /* read only up to elen, but gcc -O3 cannot see that */
    size_t elen = wps_kv_prefix_end(prefix, plen, end);
    return k->ops->list(k, prefix, plen, end, elen, after, alen, has_after, limit, fn, user);
}

/* Fail the call with ERR_STORAGE and the backend's message. Returns 1. */
static int kv_fail(wasmplug_hostcall *call, kv_data *k, const char *what)
{
    wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "plugin '%s': %s: %s", k->plugin, what,
                           k->ops->error(k));
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Imports                                                                  */
/* ------------------------------------------------------------------------ */

static int bad_key(wasmplug_hostcall *call, uint32_t len)
{
    wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                           len ? "a key is at most %u bytes (this one has %u)"
                               : "a key must not be empty%.0u%.0u",
                           KV_KEY_MAX, len);
    return 1;
}

/* The call's transaction (begun by its first key-value import), or NULL
 * (the call then fails: the import returns 1). */
static kv_data *kv_enter(wasmplug_hostcall *call, kv_service *ks)
{
    void **state = wasmplug_hostcall_call_state(call, ks->base.id);
    if (*state)
        return *state;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX] = "";
    kv_data *k = ks->ops->call_begin(ks, call, msg, sizeof msg);
    if (!k) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "%s", msg);
        return NULL;
    }
    *state = k;
    return k;
}

static void copy_out(void *user, const void *data, size_t len)
{
    const wasmplug_hostarg *out = ((void **)user)[0];
    wasmplug_hostcall *call = ((void **)user)[1];
    size_t n = len < out->len ? len : out->len;
    if (n)
        memcpy(out->ptr, data, n);
    wasmplug_hostcall_write(call, data, len);
}

/* kv_get(key_ptr, key_len, out_ptr, out_cap) -> i32 */
static int imp_get(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    if (args[0].len == 0 || args[0].len > KV_KEY_MAX)
        return bad_key(call, args[0].len);
    kv_data *d = kv_enter(call, user);
    if (!d)
        return 1;
    void *ctx[2] = {(void *)&args[1], call};
    int64_t n = op_get(d, args[0].ptr, args[0].len, copy_out, ctx);
    if (n == -2)
        return kv_fail(call, d, "kv_get");
    results[0].i32 = (int32_t)n;
    return 0;
}

static int quota_fail(wasmplug_hostcall *call, op_result r, kv_data *d, const char *what,
                      const char *msg)
{
    if (r == OP_QUOTA) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_QUOTA, "%s", msg);
        return 1;
    }
    return kv_fail(call, d, what);
}

static bool value_ok(wasmplug_hostcall *call, kv_service *ks, uint32_t len)
{
    if (len <= ks->max_value)
        return true;
    wasmplug_hostcall_fail(call, WASMPLUG_ERR_QUOTA,
                           "plugin '%s': a value of %u bytes is over the host's limit of %u "
                           "bytes per value",
                           wasmplug_plugin_name(wasmplug_hostcall_plugin(call)), len,
                           ks->max_value);
    return false;
}

/* kv_set(key_ptr, key_len, val_ptr, val_len) -> i32 */
static int imp_set(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    kv_service *ks = user;
    if (args[0].len == 0 || args[0].len > KV_KEY_MAX)
        return bad_key(call, args[0].len);
    if (!value_ok(call, ks, args[1].len))
        return 1;
    kv_data *d = kv_enter(call, ks);
    if (!d)
        return 1;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    op_result r = op_set(d, args[0].ptr, args[0].len, args[1].ptr, args[1].len, true, msg,
                         sizeof msg);
    if (r != OP_OK)
        return quota_fail(call, r, d, "kv_set", msg);
    results[0].i32 = 0;
    return 0;
}

/* kv_delete(key_ptr, key_len) -> i32 */
static int imp_delete(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                      wasmplug_slot *results)
{
    if (args[0].len == 0 || args[0].len > KV_KEY_MAX)
        return bad_key(call, args[0].len);
    kv_data *d = kv_enter(call, user);
    if (!d)
        return 1;
    int r = op_delete(d, args[0].ptr, args[0].len);
    if (r < 0)
        return kv_fail(call, d, "kv_delete");
    results[0].i32 = r;
    return 0;
}

/* A growable byte buffer for list results. */
typedef struct bytes {
    uint8_t *data;
    size_t len, cap;
    bool failed;
} byte_buf;

static bool bytes_add(byte_buf *b, const void *data, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->data, cap);
        if (!p) {
            b->failed = true;
            return false;
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return true;
}

static bool list_entry(void *user, const void *key, size_t klen, size_t vlen)
{
    (void)vlen;
    uint8_t len[4] = {(uint8_t)klen, (uint8_t)(klen >> 8), (uint8_t)(klen >> 16),
                      (uint8_t)(klen >> 24)};
    return bytes_add(user, len, 4) && bytes_add(user, key, klen);
}

/* kv_list(prefix_ptr, prefix_len, after_ptr, after_len, limit, out_ptr, out_cap) -> i32:
 * the entries' length in bytes (copied up to out_cap; all readable with
 * result_read). after_len 0: from the start (keys are never empty). */
static int imp_list(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                    wasmplug_slot *results)
{
    if (args[0].len > KV_KEY_MAX || args[1].len > KV_KEY_MAX)
        return bad_key(call, args[0].len > KV_KEY_MAX ? args[0].len : args[1].len);
    uint32_t limit = args[2].value.u32;
    if (limit == 0 || limit > KV_LIST_MAX) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "kv_list: limit %u is not between 1 and %u", limit, KV_LIST_MAX);
        return 1;
    }
    kv_data *d = kv_enter(call, user);
    if (!d)
        return 1;
    byte_buf b = {NULL, 0, 0, false};
    if (!op_list(d, args[0].ptr, args[0].len, args[1].ptr, args[1].len, args[1].len > 0, limit,
                 list_entry, &b)) {
        free(b.data);
        return b.failed ? (wasmplug_hostcall_fail(call, WASMPLUG_ERR_NOMEM, "out of memory"), 1)
                        : kv_fail(call, d, "kv_list");
    }
    size_t n = b.len < args[3].len ? b.len : args[3].len;
    if (n)
        memcpy(args[3].ptr, b.data, n);
    wasmplug_status st = wasmplug_hostcall_write(call, b.data, b.len);
    free(b.data);
    if (st != WASMPLUG_OK) {
        wasmplug_hostcall_fail(call, st, "kv_list: %zu bytes of keys do not fit the plugin's "
                               "max_output_bytes", b.len);
        return 1;
    }
    results[0].i32 = (int32_t)b.len;
    return 0;
}

typedef struct cas_expect {
    const uint8_t *value;
    size_t len;
    bool equal;
} cas_expect;

static void cas_compare(void *user, const void *value, size_t len)
{
    cas_expect *e = user;
    e->equal = len == e->len && (len == 0 || memcmp(value, e->value, len) == 0);
}

/* kv_cas(key, expected, new, flags) -> i32 */
static int imp_cas(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    kv_service *ks = user;
    int32_t flags = args[3].value.i32;
    if (args[0].len == 0 || args[0].len > KV_KEY_MAX)
        return bad_key(call, args[0].len);
    if (flags & ~(KV_CAS_ABSENT | KV_CAS_DELETE)) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_ARGUMENT,
                               "kv_cas: unknown flags 0x%x (1: expect absent, 2: delete)",
                               (unsigned)flags);
        return 1;
    }
    if (!(flags & KV_CAS_DELETE) && !value_ok(call, ks, args[2].len))
        return 1;
    kv_data *d = kv_enter(call, ks);
    if (!d)
        return 1;
    /* Compare under the call's transaction, so nothing changes in between. */
    cas_expect e = {args[1].ptr, args[1].len, false};
    int64_t n = op_get(d, args[0].ptr, args[0].len, cas_compare, &e);
    if (n == -2)
        return kv_fail(call, d, "kv_cas");
    bool match = n >= 0 ? !(flags & KV_CAS_ABSENT) && e.equal : (flags & KV_CAS_ABSENT) != 0;
    if (match) {
        if (flags & KV_CAS_DELETE) {
            if (op_delete(d, args[0].ptr, args[0].len) < 0)
                return kv_fail(call, d, "kv_cas");
        } else {
            char msg[WASMPLUG_ERROR_MESSAGE_MAX];
            op_result r = op_set(d, args[0].ptr, args[0].len, args[2].ptr, args[2].len, true,
                                 msg, sizeof msg);
            if (r != OP_OK)
                return quota_fail(call, r, d, "kv_cas", msg);
        }
    }
    results[0].i32 = match ? 1 : 0;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* The service                                                              */
/* ------------------------------------------------------------------------ */

static wasmplug_status kv_call_end(void *user, wasmplug_plugin *plugin, void *state,
                                   wasmplug_status status, char *msg, size_t msg_size)
{
    (void)user;
    (void)plugin;
    kv_data *k = state;
    return k ? k->ops->end(k, status, msg, msg_size) : WASMPLUG_OK;
}

static void kv_plugin_free(void *user, wasmplug_plugin *plugin, void *state)
{
    (void)plugin;
    kv_service *ks = user;
    if (state)
        ks->ops->plugin_free(state);
}

static void kv_free(void *user)
{
    kv_service *ks = user;
    ks->ops->service_free(ks);
    free(ks);
}

static wasmplug_status kv_attach(wasmplug_services *svc, wasmplug_service_def *def, char *msg,
                                 size_t msg_size)
{
    kv_service *ks = calloc(1, sizeof *ks);
    if (!ks)
        return WASMPLUG_ERR_NOMEM;
    ks->base.svc = svc;
    ks->max_bytes = WPS_DEFAULT(svc->cfg.kv_max_bytes, 64u << 20);
    ks->max_keys = WPS_DEFAULT(svc->cfg.kv_max_keys, 1000000u);
    ks->max_value = WPS_DEFAULT(svc->cfg.kv_max_value_bytes, 1u << 20);
    ks->ops = &wps_kv_sqlite_ops;
    if (svc->cfg.kv_redis_url) {
        wasmplug_status st = wps_kv_redis_init(ks, &svc->cfg, msg, msg_size);
        if (st != WASMPLUG_OK) {
            free(ks);
            return st;
        }
    }
    def->user = ks;
    def->call_end = kv_call_end;
    def->plugin_free = kv_plugin_free;
    def->finalizer = kv_free;
    return WASMPLUG_OK;
}

static const wps_import kv_imports[] = {
    {"kv_get", "(pp)i", "kv", imp_get},
    {"kv_set", "(pp)i", "kv", imp_set},
    {"kv_delete", "(p)i", "kv", imp_delete},
    {"kv_list", "(ppip)i", "kv", imp_list},
    {"kv_cas", "(pppi)i", "kv", imp_cas},
    {NULL, NULL, NULL, NULL},
};

const wps_module wps_kv_module = {"kv", WASMPLUG_SERVICE_KV, true, kv_imports, kv_attach};

/* ------------------------------------------------------------------------ */
/* Host API                                                                 */
/* ------------------------------------------------------------------------ */

#if defined(__GNUC__)
static wasmplug_status say(char *msg, size_t size, wasmplug_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#endif
static wasmplug_status say(char *msg, size_t size, wasmplug_status st, const char *fmt, ...)
{
    if (msg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, size, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* The key-value service attached to svc's host; without one (kv not
 * enabled), SQLite under svc's data_dir in *fallback. */
static kv_service *service_of(wasmplug_services *svc, kv_service *fallback)
{
    unsigned id;
    if (svc && wasmplug_host_service_id(svc->host, "kv", &id) == WASMPLUG_OK)
        return wasmplug_host_service_user(svc->host, id);
    memset(fallback, 0, sizeof *fallback);
    fallback->base.svc = svc;
    fallback->ops = &wps_kv_sqlite_ops;
    return fallback;
}

/* Begin a host API transaction on plugin id's data (create: make it if
 * missing; else ERR_NOT_FOUND), with the usage loaded. */
static wasmplug_status host_begin(wasmplug_services *svc, const char *id, bool create,
                                  kv_data **out, char *msg, size_t msg_size)
{
    *out = NULL;
    if (!svc)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "no services given");
    kv_service fallback;
    kv_service *ks = service_of(svc, &fallback);
    return ks->ops->host_begin(ks, id, create, out, msg, msg_size);
}

/* End it: commit when st is OK, else roll back. */
static wasmplug_status host_end(kv_data *k, wasmplug_status st, char *msg, size_t msg_size)
{
    char why[WASMPLUG_ERROR_MESSAGE_MAX] = "";
    wasmplug_status e = k->ops->end(k, st, why, sizeof why);
    if (st == WASMPLUG_OK && e != WASMPLUG_OK)
        st = say(msg, msg_size, e, "%s", why);
    return st;
}

static bool key_valid(const void *key, size_t len)
{
    return key && len > 0 && len <= KV_KEY_MAX;
}

static void copy_buf(void *user, const void *data, size_t len)
{
    wasmplug_buf *b = user;
    b->data = malloc(len + 1);
    if (b->data) {
        memcpy(b->data, data, len);
        b->data[len] = 0;
        b->len = len;
    }
}

wasmplug_status wasmplug_kv_get(wasmplug_services *svc, const char *id, const void *key,
                                size_t key_len, wasmplug_buf *value, char *msg, size_t msg_size)
{
    if (value) {
        value->data = NULL;
        value->len = 0;
    }
    if (!value || !key_valid(key, key_len))
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "a key must be 1 to %u bytes",
                   KV_KEY_MAX);
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, false, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    int64_t n = op_get(d, key, key_len, copy_buf, value);
    if (n == -2)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", d->ops->error(d));
    else if (n == -1)
        st = say(msg, msg_size, WASMPLUG_ERR_NOT_FOUND, "plugin '%.100s' has no such key", id);
    else if (!value->data)
        st = say(msg, msg_size, WASMPLUG_ERR_NOMEM, "out of memory");
    if (st != WASMPLUG_OK)
        wasmplug_buf_free(value);
    return host_end(d, st, msg, msg_size); /* read only: nothing to commit */
}

wasmplug_status wasmplug_kv_set(wasmplug_services *svc, const char *id, const void *key,
                                size_t key_len, const void *value, size_t value_len, char *msg,
                                size_t msg_size)
{
    if (!key_valid(key, key_len) || (!value && value_len) || value_len > INT32_MAX)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT,
                   "a key must be 1 to %u bytes, and a value needs its bytes", KV_KEY_MAX);
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, true, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (op_set(d, key, key_len, value, value_len, false, why, sizeof why) != OP_OK)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", d->ops->error(d));
    return host_end(d, st, msg, msg_size);
}

wasmplug_status wasmplug_kv_delete(wasmplug_services *svc, const char *id, const void *key,
                                   size_t key_len, char *msg, size_t msg_size)
{
    if (!key_valid(key, key_len))
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "a key must be 1 to %u bytes",
                   KV_KEY_MAX);
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, false, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    int r = op_delete(d, key, key_len);
    if (r < 0)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", d->ops->error(d));
    st = host_end(d, st, msg, msg_size);
    if (st == WASMPLUG_OK && r == 0)
        st = say(msg, msg_size, WASMPLUG_ERR_NOT_FOUND, "plugin '%.100s' has no such key", id);
    return st;
}

wasmplug_status wasmplug_kv_usage(wasmplug_services *svc, const char *id, uint64_t *bytes,
                                  uint64_t *keys, char *msg, size_t msg_size)
{
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, false, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    if (bytes)
        *bytes = (uint64_t)d->bytes;
    if (keys)
        *keys = (uint64_t)d->keys;
    return host_end(d, WASMPLUG_OK, msg, msg_size);
}

/* ---- list, export, import ---- */

typedef struct collect {
    kv_data *d;
    wasmplug_kv_entry *items;
    size_t count, cap;
    json_t *array;     /* export: entries with their values */
    bool failed;
} collect;

/* A JSON member for bytes: "<name>" as a string when they are UTF-8 text,
 * else "<name>_base64". */
static bool set_bytes(json_t *obj, const char *name, const void *data, size_t len)
{
    if (wps_utf8_valid(data, len))
        return json_object_set_new(obj, name, json_stringn(data, len)) == 0;
    size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(n);
    char key[32];
    snprintf(key, sizeof key, "%s_base64", name);
    bool ok = b64 && sodium_bin2base64(b64, n, data, len, sodium_base64_VARIANT_ORIGINAL) &&
              json_object_set_new(obj, key, json_string(b64)) == 0;
    free(b64);
    return ok;
}

static bool collect_entry(void *user, const void *key, size_t klen, size_t vlen)
{
    collect *c = user;
    if (c->array) {
        wasmplug_buf v = {NULL, 0};
        json_t *e = json_object();
        bool ok = e && op_get(c->d, key, klen, copy_buf, &v) >= 0 &&
                  (v.data || vlen == 0) && set_bytes(e, "key", key, klen) &&
                  set_bytes(e, "value", v.data ? v.data : (const uint8_t *)"", v.len) &&
                  json_array_append_new(c->array, e) == 0;
        free(v.data);
        if (!ok)
            c->failed = true;
        return ok;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        wasmplug_kv_entry *items = realloc(c->items, cap * sizeof *items);
        if (!items) {
            c->failed = true;
            return false;
        }
        c->items = items;
        c->cap = cap;
    }
    wasmplug_kv_entry *e = &c->items[c->count];
    if (!(e->key = malloc(klen + 1))) {
        c->failed = true;
        return false;
    }
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->key_len = klen;
    e->value_len = vlen;
    c->count++;
    return true;
}

void wasmplug_kv_entries_free(wasmplug_kv_entry *entries, size_t count)
{
    for (size_t i = 0; entries && i < count; i++)
        free(entries[i].key);
    free(entries);
}

wasmplug_status wasmplug_kv_list(wasmplug_services *svc, const char *id, const void *prefix,
                                 size_t prefix_len, const void *after, size_t after_len,
                                 uint32_t limit, wasmplug_kv_entry **entries, size_t *count,
                                 char *msg, size_t msg_size)
{
    if (entries)
        *entries = NULL;
    if (count)
        *count = 0;
    if (!entries || !count || (!prefix && prefix_len) || (!after && after_len) ||
        prefix_len > KV_KEY_MAX || after_len > KV_KEY_MAX)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "bad prefix, cursor or output");
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, false, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    collect c = {d, NULL, 0, 0, NULL, false};
    if (!op_list(d, prefix, prefix_len, after, after_len, after != NULL, limit ? limit : UINT32_MAX,
                 collect_entry, &c) ||
        c.failed) {
        st = say(msg, msg_size, c.failed ? WASMPLUG_ERR_NOMEM : WASMPLUG_ERR_STORAGE, "%s",
                 c.failed ? "out of memory" : d->ops->error(d));
        wasmplug_kv_entries_free(c.items, c.count);
        c.items = NULL;
        c.count = 0;
    }
    st = host_end(d, st, msg, msg_size);
    *entries = c.items;
    *count = c.count;
    return st;
}

wasmplug_status wasmplug_kv_export(wasmplug_services *svc, const char *id, wasmplug_buf *out,
                                   char *msg, size_t msg_size)
{
    if (out) {
        out->data = NULL;
        out->len = 0;
    }
    if (!out)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "no output buffer");
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, false, &d, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    collect c = {d, NULL, 0, 0, json_array(), false};
    if (!c.array || !op_list(d, (const uint8_t *)"", 0, NULL, 0, false, UINT32_MAX,
                             collect_entry, &c) || c.failed)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "cannot read the data: %s",
                 c.failed ? "out of memory" : d->ops->error(d));
    st = host_end(d, st, msg, msg_size);
    json_t *doc = st == WASMPLUG_OK ? json_pack("{s:s, s:i, s:s, s:O}", "format", "wasmplug-kv",
                                                "version", 1, "plugin", id, "entries", c.array)
                                    : NULL;
    json_decref(c.array);
    if (st != WASMPLUG_OK)
        return st;
    char *text = doc ? json_dumps(doc, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;
    json_decref(doc);
    if (!text)
        return say(msg, msg_size, WASMPLUG_ERR_NOMEM, "out of memory");
    out->data = (uint8_t *)text;
    out->len = strlen(text);
    return WASMPLUG_OK;
}

/* A member "<name>" (text) or "<name>_base64" of entry i, decoded into *out
 * (malloc'd). */
static bool get_bytes(json_t *e, const char *name, uint8_t **out, size_t *len)
{
    json_t *s = json_object_get(e, name);
    if (json_is_string(s)) {
        *len = json_string_length(s);
        *out = malloc(*len + 1);
        if (*out)
            memcpy(*out, json_string_value(s), *len);
        return *out != NULL;
    }
    char key[32];
    snprintf(key, sizeof key, "%s_base64", name);
    s = json_object_get(e, key);
    if (!json_is_string(s))
        return false;
    size_t cap = json_string_length(s) + 1;
    *out = malloc(cap);
    return *out && sodium_base642bin(*out, cap, json_string_value(s), json_string_length(s), NULL,
                                     len, NULL, sodium_base64_VARIANT_ORIGINAL) == 0;
}

wasmplug_status wasmplug_kv_import(wasmplug_services *svc, const char *id, const void *json,
                                   size_t len, bool replace, char *msg, size_t msg_size)
{
    if (!json)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "no data");
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    json_t *entries = json_object_get(doc, "entries");
    if (!doc || !json_is_array(entries) ||
        !json_is_string(json_object_get(doc, "format")) ||
        strcmp(json_string_value(json_object_get(doc, "format")), "wasmplug-kv") != 0) {
        wasmplug_status st =
            doc ? say(msg, msg_size, WASMPLUG_ERR_ARGUMENT,
                      "not a key-value export (expected {\"format\": \"wasmplug-kv\", "
                      "\"entries\": [...]})")
                : say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "line %d, column %d: %s",
                      jerr.line, jerr.column, jerr.text);
        json_decref(doc);
        return st;
    }
    kv_data *d;
    wasmplug_status st = host_begin(svc, id, true, &d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        json_decref(doc);
        return st;
    }
    if (replace) {
        if (!d->ops->clear(d))
            st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", d->ops->error(d));
        d->bytes = d->keys = 0;
        d->dirty = true;
    }
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        if (st != WASMPLUG_OK)
            break;
        uint8_t *key = NULL, *val = NULL;
        size_t klen = 0, vlen = 0;
        if (!get_bytes(e, "key", &key, &klen) || !get_bytes(e, "value", &val, &vlen) ||
            !key_valid(key, klen))
            st = say(msg, msg_size, WASMPLUG_ERR_ARGUMENT,
                     "entry %zu: needs \"key\" (1 to %u bytes) and \"value\", as text or "
                     "as \"key_base64\" / \"value_base64\"",
                     i, KV_KEY_MAX);
        else if (op_set(d, key, klen, val, vlen, false, msg, msg_size) != OP_OK)
            st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "entry %zu: %s", i,
                     d->ops->error(d));
        free(key);
        free(val);
    }
    json_decref(doc);
    return host_end(d, st, msg, msg_size);
}
