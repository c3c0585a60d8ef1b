/*
 * kv.c - the key-value service (grant "kv"): a namespace per plugin in
 * <data_dir>/<plugin id>/kv.sqlite (SQLite, WAL), with quotas in bytes (keys
 * plus values) and keys, manifest request ∩ host policy. A call's writes are
 * one transaction (storage.h). Usage is kept in the database itself (table
 * usage, updated in the same transaction as the data), so it stays exact
 * across processes, crashes and the host API.
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
#include "storage.h"

#include <sodium.h>
#include <jansson.h>

#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KV_FILE "kv.sqlite"
#define KV_KEY_MAX 1024u
#define KV_LIST_MAX 10000u
#define KV_CAS_ABSENT 1
#define KV_CAS_DELETE 2

static const char KV_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS usage(id INTEGER PRIMARY KEY CHECK(id = 0),"
    " bytes INTEGER NOT NULL, keys INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO usage VALUES(0, 0, 0);";

typedef struct kv_service {
    wps_base base;
    uint64_t max_bytes, max_keys; /* policy */
    uint32_t max_value;
} kv_service;

/* Per plugin (wps_db.service): statements, quotas and the usage of the open
 * transaction. */
typedef struct kv_data {
    sqlite3_stmt *get, *put, *del, *list, *usage_get, *usage_put;
    uint64_t max_bytes, max_keys;
    uint32_t max_value;
    int64_t bytes, keys; /* usage inside the current transaction */
    bool dirty;
} kv_data;

static void kv_data_free(kv_data *k)
{
    if (!k)
        return;
    sqlite3_finalize(k->get);
    sqlite3_finalize(k->put);
    sqlite3_finalize(k->del);
    sqlite3_finalize(k->list);
    sqlite3_finalize(k->usage_get);
    sqlite3_finalize(k->usage_put);
    free(k);
}

static void kv_db_close(wps_db *d)
{
    if (d)
        kv_data_free(d->service);
    wps_db_close(d);
}

/* Prepare the statements of d (opened with KV_SCHEMA). */
static kv_data *kv_data_new(wps_db *d, char *msg, size_t msg_size)
{
    kv_data *k = calloc(1, sizeof *k);
    if (!k) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    const struct {
        sqlite3_stmt **st;
        const char *sql;
    } stmts[] = {
        {&k->get, "SELECT value FROM kv WHERE key = ?1"},
        {&k->put, "INSERT INTO kv(key, value) VALUES(?1, ?2) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
        {&k->del, "DELETE FROM kv WHERE key = ?1"},
        {&k->list, "SELECT key, length(value) FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)"
                   " AND (?3 IS NULL OR key > ?3) ORDER BY key LIMIT ?4"},
        {&k->usage_get, "SELECT bytes, keys FROM usage WHERE id = 0"},
        {&k->usage_put, "UPDATE usage SET bytes = ?1, keys = ?2 WHERE id = 0"},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        if (sqlite3_prepare_v3(d->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, stmts[i].st,
                               NULL) != SQLITE_OK) {
            snprintf(msg, msg_size, "cannot prepare the key-value statements: %s",
                     sqlite3_errmsg(d->db));
            kv_data_free(k);
            return NULL;
        }
    return k;
}

/* ------------------------------------------------------------------------ */
/* Operations inside a transaction (imports and host API)                   */
/* ------------------------------------------------------------------------ */

static bool usage_load(wps_db *d)
{
    kv_data *k = d->service;
    bool ok = sqlite3_step(k->usage_get) == SQLITE_ROW;
    if (ok) {
        k->bytes = sqlite3_column_int64(k->usage_get, 0);
        k->keys = sqlite3_column_int64(k->usage_get, 1);
    }
    sqlite3_reset(k->usage_get);
    k->dirty = false;
    return ok;
}

static bool usage_save(wps_db *d)
{
    kv_data *k = d->service;
    if (!k->dirty)
        return true;
    sqlite3_bind_int64(k->usage_put, 1, k->bytes);
    sqlite3_bind_int64(k->usage_put, 2, k->keys);
    bool ok = sqlite3_step(k->usage_put) == SQLITE_DONE;
    sqlite3_reset(k->usage_put);
    k->dirty = !ok;
    return ok;
}

/* The length of key's value, or -1 if absent; -2 on a database error. With
 * copy, the value is handed to copy(user, value, len). */
static int64_t op_get(wps_db *d, const uint8_t *key, size_t klen,
                      void (*copy)(void *, const void *, size_t), void *user)
{
    kv_data *k = d->service;
    sqlite3_bind_blob(k->get, 1, key, (int)klen, SQLITE_STATIC);
    int rc = sqlite3_step(k->get);
    int64_t n = -1;
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_bytes(k->get, 0);
        if (copy)
            copy(user, sqlite3_column_blob(k->get, 0), (size_t)n);
    } else if (rc != SQLITE_DONE) {
        n = -2;
    }
    sqlite3_reset(k->get);
    sqlite3_clear_bindings(k->get);
    return n;
}

typedef enum op_result { OP_OK, OP_QUOTA, OP_DB } op_result;

/* Set key (enforce: check the quotas; the host API does not). */
static op_result op_set(wps_db *d, const uint8_t *key, size_t klen, const uint8_t *val,
                        size_t vlen, bool enforce, char *msg, size_t msg_size)
{
    kv_data *k = d->service;
    int64_t old = op_get(d, key, klen, NULL, NULL);
    if (old == -2)
        return OP_DB;
    int64_t bytes = k->bytes + (int64_t)vlen - (old >= 0 ? old : -(int64_t)klen);
    int64_t keys = k->keys + (old >= 0 ? 0 : 1);
    if (enforce && old < 0 && (uint64_t)keys > k->max_keys) {
        snprintf(msg, msg_size,
                 "plugin '%s' is over its key-value quota of %llu keys (storage.keys): "
                 "setting a new key would make %lld",
                 d->plugin, (unsigned long long)k->max_keys, (long long)keys);
        return OP_QUOTA;
    }
    if (enforce && bytes > k->bytes && (uint64_t)bytes > k->max_bytes) {
        snprintf(msg, msg_size,
                 "plugin '%s' is over its key-value quota of %llu bytes (storage.quota): "
                 "the call would store %lld",
                 d->plugin, (unsigned long long)k->max_bytes, (long long)bytes);
        return OP_QUOTA;
    }
    sqlite3_bind_blob(k->put, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_blob(k->put, 2, vlen ? (const void *)val : "", (int)vlen, SQLITE_STATIC);
    int rc = sqlite3_step(k->put);
    sqlite3_reset(k->put);
    sqlite3_clear_bindings(k->put);
    if (rc != SQLITE_DONE)
        return OP_DB;
    k->bytes = bytes;
    k->keys = keys;
    k->dirty = true;
    return OP_OK;
}

/* Delete key: 1 deleted, 0 absent, -1 database error. */
static int op_delete(wps_db *d, const uint8_t *key, size_t klen)
{
    kv_data *k = d->service;
    int64_t old = op_get(d, key, klen, NULL, NULL);
    if (old == -2)
        return -1;
    if (old < 0)
        return 0;
    sqlite3_bind_blob(k->del, 1, key, (int)klen, SQLITE_STATIC);
    int rc = sqlite3_step(k->del);
    sqlite3_reset(k->del);
    sqlite3_clear_bindings(k->del);
    if (rc != SQLITE_DONE)
        return -1;
    k->bytes -= (int64_t)klen + old;
    k->keys -= 1;
    k->dirty = true;
    return 1;
}

/* The smallest byte string greater than every string starting with prefix:
 * prefix with its last non-0xff byte incremented and the rest dropped; 0
 * (no upper bound) if there is none. */
static size_t prefix_end(const uint8_t *prefix, size_t len, uint8_t *out)
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
 * each handed to fn(user, key, klen, vlen); false on a database error. */
static bool op_list(wps_db *d, const uint8_t *prefix, size_t plen, const uint8_t *after,
                    size_t alen, bool has_after, uint32_t limit,
                    bool (*fn)(void *, const void *, size_t, size_t), void *user)
{
    kv_data *k = d->service;
    uint8_t end[KV_KEY_MAX];
    size_t elen = prefix_end(prefix, plen, end);
    sqlite3_bind_blob(k->list, 1, plen ? (const void *)prefix : "", (int)plen, SQLITE_STATIC);
    if (elen)
        sqlite3_bind_blob(k->list, 2, end, (int)elen, SQLITE_STATIC);
    if (has_after)
        sqlite3_bind_blob(k->list, 3, alen ? (const void *)after : "", (int)alen,
                          SQLITE_STATIC);
    sqlite3_bind_int64(k->list, 4, limit);
    int rc;
    bool go = true;
    while (go && (rc = sqlite3_step(k->list)) == SQLITE_ROW)
        go = fn(user, sqlite3_column_blob(k->list, 0), (size_t)sqlite3_column_bytes(k->list, 0),
                (size_t)sqlite3_column_int64(k->list, 1));
    bool ok = !go || rc == SQLITE_DONE;
    sqlite3_reset(k->list);
    sqlite3_clear_bindings(k->list);
    return ok;
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

/* The plugin's database with the call's transaction open, or NULL (the call
 * then fails: the import returns 1). */
static wps_db *kv_enter(wasmplug_hostcall *call, kv_service *ks)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_db *d = wps_db_of(call, &ks->base, KV_FILE, KV_SCHEMA, msg, sizeof msg);
    if (d && !d->service) {
        /* First use by this plugin: statements and quotas (under the lock,
         * since another instance may get here at the same time). */
        pthread_mutex_lock(&d->lock);
        if (!d->service) {
            kv_data *k = kv_data_new(d, msg, sizeof msg);
            if (k) {
                wasmplug_plugin *p = wasmplug_hostcall_plugin(call);
                k->max_bytes = wps_effective(wps_setting_u64(p, "kv.max_bytes"), ks->max_bytes,
                                             ks->max_bytes);
                k->max_keys = wps_effective(wps_setting_u64(p, "kv.max_keys"), ks->max_keys,
                                            ks->max_keys);
                k->max_value = ks->max_value;
                d->service = k;
            }
        }
        bool ok = d->service != NULL;
        pthread_mutex_unlock(&d->lock);
        if (!ok)
            d = NULL;
    }
    if (!d) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "%s", msg);
        return NULL;
    }
    void **state = wasmplug_hostcall_call_state(call, ks->base.id);
    bool first = *state != d;
    if (!wps_txn_enter(call, &ks->base, d, msg, sizeof msg)) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_STORAGE, "plugin '%s': %s", d->plugin, msg);
        return NULL;
    }
    if (first && !usage_load(d)) {
        wps_db_fail(call, d, "cannot read the key-value usage");
        return NULL;
    }
    return d;
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
    wps_db *d = kv_enter(call, user);
    if (!d)
        return 1;
    void *ctx[2] = {(void *)&args[1], call};
    int64_t n = op_get(d, args[0].ptr, args[0].len, copy_out, ctx);
    if (n == -2)
        return wps_db_fail(call, d, "kv_get");
    results[0].i32 = (int32_t)n;
    return 0;
}

static int quota_fail(wasmplug_hostcall *call, op_result r, wps_db *d, const char *what,
                      const char *msg)
{
    if (r == OP_QUOTA) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_QUOTA, "%s", msg);
        return 1;
    }
    return wps_db_fail(call, d, what);
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
    wps_db *d = kv_enter(call, ks);
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
    wps_db *d = kv_enter(call, user);
    if (!d)
        return 1;
    int r = op_delete(d, args[0].ptr, args[0].len);
    if (r < 0)
        return wps_db_fail(call, d, "kv_delete");
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
    wps_db *d = kv_enter(call, user);
    if (!d)
        return 1;
    byte_buf b = {NULL, 0, 0, false};
    if (!op_list(d, args[0].ptr, args[0].len, args[1].ptr, args[1].len, args[1].len > 0, limit,
                 list_entry, &b)) {
        free(b.data);
        return b.failed ? (wasmplug_hostcall_fail(call, WASMPLUG_ERR_NOMEM, "out of memory"), 1)
                        : wps_db_fail(call, d, "kv_list");
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
    wps_db *d = kv_enter(call, ks);
    if (!d)
        return 1;
    /* Compare under the call's transaction, so nothing changes in between. */
    kv_data *k = d->service;
    sqlite3_bind_blob(k->get, 1, args[0].ptr, (int)args[0].len, SQLITE_STATIC);
    int rc = sqlite3_step(k->get);
    bool match;
    if (rc == SQLITE_ROW)
        match = !(flags & KV_CAS_ABSENT) &&
                (uint32_t)sqlite3_column_bytes(k->get, 0) == args[1].len &&
                (args[1].len == 0 ||
                 memcmp(sqlite3_column_blob(k->get, 0), args[1].ptr, args[1].len) == 0);
    else
        match = (flags & KV_CAS_ABSENT) != 0;
    sqlite3_reset(k->get);
    sqlite3_clear_bindings(k->get);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return wps_db_fail(call, d, "kv_cas");
    if (match) {
        if (flags & KV_CAS_DELETE) {
            if (op_delete(d, args[0].ptr, args[0].len) < 0)
                return wps_db_fail(call, d, "kv_cas");
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
    wps_db *d = state;
    if (!d)
        return WASMPLUG_OK;
    if (status == WASMPLUG_OK && !usage_save(d)) {
        snprintf(msg, msg_size, "plugin '%s': cannot update the key-value usage: %s", d->plugin,
                 sqlite3_errmsg(d->db));
        wps_txn_end(d, WASMPLUG_ERR_STORAGE, msg, msg_size);
        return WASMPLUG_ERR_STORAGE;
    }
    return wps_txn_end(d, status, msg, msg_size);
}

static void kv_plugin_free(void *user, wasmplug_plugin *plugin, void *state)
{
    (void)user;
    (void)plugin;
    kv_db_close(state);
}

static void kv_free(void *user)
{
    free(user);
}

static wasmplug_status kv_attach(wasmplug_services *svc, wasmplug_service_def *def, char *msg,
                                 size_t msg_size)
{
    (void)msg;
    (void)msg_size;
    kv_service *ks = calloc(1, sizeof *ks);
    if (!ks)
        return WASMPLUG_ERR_NOMEM;
    ks->max_bytes = WPS_DEFAULT(svc->cfg.kv_max_bytes, 64u << 20);
    ks->max_keys = WPS_DEFAULT(svc->cfg.kv_max_keys, 1000000u);
    ks->max_value = WPS_DEFAULT(svc->cfg.kv_max_value_bytes, 1u << 20);
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

/* Open a plugin id's key-value database for the host API (create: make it
 * if missing; else ERR_NOT_FOUND). */
static wasmplug_status host_open(wasmplug_services *svc, const char *id, bool create,
                                 wps_db **out, char *msg, size_t msg_size)
{
    *out = NULL;
    char *dir = wasmplug_services_data_path(svc, id, NULL);
    if (!dir)
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT,
                   "no data directory for '%.100s' (no data_dir, or not a plugin id)",
                   id ? id : "");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, KV_FILE);
    if (!create && access(path, F_OK) != 0) {
        free(dir);
        return say(msg, msg_size, WASMPLUG_ERR_NOT_FOUND,
                   "plugin '%.100s' has no key-value data (%.300s)", id, path);
    }
    int e = create ? wps_mkdirs(dir, 0700) : 0;
    free(dir);
    if (e)
        return say(msg, msg_size, WASMPLUG_ERR_IO, "cannot create the data directory of '%.100s': %s",
                   id, strerror(e));
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_db *d = wps_db_open_path(path, id, KV_SCHEMA, create, why, sizeof why);
    if (d && !(d->service = kv_data_new(d, why, sizeof why))) {
        wps_db_close(d);
        d = NULL;
    }
    if (!d)
        return say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", why);
    kv_data *k = d->service;
    k->max_bytes = k->max_keys = UINT64_MAX; /* the host is not held to quotas */
    k->max_value = UINT32_MAX;
    *out = d;
    return WASMPLUG_OK;
}

/* Begin a host transaction with the usage loaded. */
static wasmplug_status host_begin(wps_db *d, char *msg, size_t msg_size)
{
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!wps_txn_host(d, why, sizeof why))
        return say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", why);
    if (!usage_load(d)) {
        say(msg, msg_size, WASMPLUG_ERR_STORAGE, "cannot read the key-value usage: %s",
            sqlite3_errmsg(d->db));
        wps_txn_end(d, WASMPLUG_ERR_STORAGE, why, sizeof why);
        return WASMPLUG_ERR_STORAGE;
    }
    return WASMPLUG_OK;
}

/* End it: commit when st is OK (saving the usage), else roll back; close. */
static wasmplug_status host_end(wps_db *d, wasmplug_status st, char *msg, size_t msg_size)
{
    char why[WASMPLUG_ERROR_MESSAGE_MAX] = "";
    if (st == WASMPLUG_OK && !usage_save(d))
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "cannot update the key-value usage: %s",
                 sqlite3_errmsg(d->db));
    wasmplug_status e = wps_txn_end(d, st, why, sizeof why);
    if (st == WASMPLUG_OK && e != WASMPLUG_OK)
        st = say(msg, msg_size, e, "%s", why);
    kv_db_close(d);
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
    wps_db *d;
    wasmplug_status st = host_open(svc, id, false, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    int64_t n = op_get(d, key, key_len, copy_buf, value);
    if (n == -2)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", sqlite3_errmsg(d->db));
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
    wps_db *d;
    wasmplug_status st = host_open(svc, id, true, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (op_set(d, key, key_len, value, value_len, false, why, sizeof why) != OP_OK)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", sqlite3_errmsg(d->db));
    return host_end(d, st, msg, msg_size);
}

wasmplug_status wasmplug_kv_delete(wasmplug_services *svc, const char *id, const void *key,
                                   size_t key_len, char *msg, size_t msg_size)
{
    if (!key_valid(key, key_len))
        return say(msg, msg_size, WASMPLUG_ERR_ARGUMENT, "a key must be 1 to %u bytes",
                   KV_KEY_MAX);
    wps_db *d;
    wasmplug_status st = host_open(svc, id, false, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    int r = op_delete(d, key, key_len);
    if (r < 0)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", sqlite3_errmsg(d->db));
    st = host_end(d, st, msg, msg_size);
    if (st == WASMPLUG_OK && r == 0)
        st = say(msg, msg_size, WASMPLUG_ERR_NOT_FOUND, "plugin '%.100s' has no such key", id);
    return st;
}

wasmplug_status wasmplug_kv_usage(wasmplug_services *svc, const char *id, uint64_t *bytes,
                                  uint64_t *keys, char *msg, size_t msg_size)
{
    wps_db *d;
    wasmplug_status st = host_open(svc, id, false, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    kv_data *k = d->service;
    if (bytes)
        *bytes = (uint64_t)k->bytes;
    if (keys)
        *keys = (uint64_t)k->keys;
    return host_end(d, WASMPLUG_OK, msg, msg_size);
}

/* ---- list, export, import ---- */

typedef struct collect {
    wps_db *d;
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
    wps_db *d;
    wasmplug_status st = host_open(svc, id, false, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    collect c = {d, NULL, 0, 0, NULL, false};
    if (!op_list(d, prefix, prefix_len, after, after_len, after != NULL, limit ? limit : UINT32_MAX,
                 collect_entry, &c) ||
        c.failed) {
        st = say(msg, msg_size, c.failed ? WASMPLUG_ERR_NOMEM : WASMPLUG_ERR_STORAGE, "%s",
                 c.failed ? "out of memory" : sqlite3_errmsg(d->db));
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
    wps_db *d;
    wasmplug_status st = host_open(svc, id, false, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        return st;
    }
    collect c = {d, NULL, 0, 0, json_array(), false};
    if (!c.array || !op_list(d, (const uint8_t *)"", 0, NULL, 0, false, UINT32_MAX,
                             collect_entry, &c) || c.failed)
        st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "cannot read the data: %s",
                 c.failed ? "out of memory" : sqlite3_errmsg(d->db));
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
    wps_db *d;
    wasmplug_status st = host_open(svc, id, true, &d, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = host_begin(d, msg, msg_size);
    if (st != WASMPLUG_OK) {
        kv_db_close(d);
        json_decref(doc);
        return st;
    }
    kv_data *k = d->service;
    if (replace) {
        if (sqlite3_exec(d->db, "DELETE FROM kv", NULL, NULL, NULL) != SQLITE_OK)
            st = say(msg, msg_size, WASMPLUG_ERR_STORAGE, "%s", sqlite3_errmsg(d->db));
        k->bytes = k->keys = 0;
        k->dirty = true;
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
                     sqlite3_errmsg(d->db));
        free(key);
        free(val);
    }
    json_decref(doc);
    return host_end(d, st, msg, msg_size);
}
