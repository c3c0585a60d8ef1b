/*
 * kv_sqlite.c - the key-value service's default backend: one SQLite file
 * per plugin, <data_dir>/<plugin id>/kv.sqlite (WAL), with the usage
 * (bytes, keys) kept in a row of the same database and written in the same
 * transaction as the data, so it stays exact across processes, crashes and
 * the host API. A call's transaction is the database's (storage.h): BEGIN
 * IMMEDIATE at the call's first import, COMMIT or ROLLBACK at its end.
 */
#include "kv_internal.h"
#include "storage.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KV_FILE "kv.sqlite"

static const char KV_SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS kv(key BLOB PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS usage(id INTEGER PRIMARY KEY CHECK(id = 0),"
    " bytes INTEGER NOT NULL, keys INTEGER NOT NULL);"
    "INSERT OR IGNORE INTO usage VALUES(0, 0, 0);";

/* Per plugin (wps_db.service), or per host API function: the statements. */
typedef struct kv_sqlite {
    kv_data k; /* first */
    wps_db *d;
    bool host_owned; /* opened by the host API: closed when its transaction ends */
    sqlite3_stmt *get, *put, *del, *list, *usage_get, *usage_put;
} kv_sqlite;

static kv_sqlite *of(kv_data *k)
{
    return (kv_sqlite *)k;
}

static void kv_sqlite_free(kv_sqlite *s)
{
    if (!s)
        return;
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->put);
    sqlite3_finalize(s->del);
    sqlite3_finalize(s->list);
    sqlite3_finalize(s->usage_get);
    sqlite3_finalize(s->usage_put);
    free(s);
}

static void db_close(wps_db *d)
{
    if (d)
        kv_sqlite_free(d->service);
    wps_db_close(d);
}

/* Prepare the statements of d (opened with KV_SCHEMA) as d->service. */
static kv_sqlite *kv_sqlite_new(wps_db *d, char *msg, size_t msg_size)
{
    kv_sqlite *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    s->k.ops = &wps_kv_sqlite_ops;
    snprintf(s->k.plugin, sizeof s->k.plugin, "%s", d->plugin);
    s->d = d;
    const struct {
        sqlite3_stmt **st;
        const char *sql;
    } stmts[] = {
        {&s->get, "SELECT value FROM kv WHERE key = ?1"},
        {&s->put, "INSERT INTO kv(key, value) VALUES(?1, ?2) "
                  "ON CONFLICT(key) DO UPDATE SET value = excluded.value"},
        {&s->del, "DELETE FROM kv WHERE key = ?1"},
        {&s->list, "SELECT key, length(value) FROM kv WHERE key >= ?1 AND (?2 IS NULL OR key < ?2)"
                   " AND (?3 IS NULL OR key > ?3) ORDER BY key LIMIT ?4"},
        {&s->usage_get, "SELECT bytes, keys FROM usage WHERE id = 0"},
        {&s->usage_put, "UPDATE usage SET bytes = ?1, keys = ?2 WHERE id = 0"},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++)
        if (sqlite3_prepare_v3(d->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, stmts[i].st,
                               NULL) != SQLITE_OK) {
            snprintf(msg, msg_size, "cannot prepare the key-value statements: %s",
                     sqlite3_errmsg(d->db));
            kv_sqlite_free(s);
            return NULL;
        }
    d->service = s;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Operations                                                               */
/* ------------------------------------------------------------------------ */

static bool usage_load(kv_sqlite *s)
{
    bool ok = sqlite3_step(s->usage_get) == SQLITE_ROW;
    if (ok) {
        s->k.bytes = sqlite3_column_int64(s->usage_get, 0);
        s->k.keys = sqlite3_column_int64(s->usage_get, 1);
    }
    sqlite3_reset(s->usage_get);
    s->k.dirty = false;
    return ok;
}

static bool usage_save(kv_sqlite *s)
{
    if (!s->k.dirty)
        return true;
    sqlite3_bind_int64(s->usage_put, 1, s->k.bytes);
    sqlite3_bind_int64(s->usage_put, 2, s->k.keys);
    bool ok = sqlite3_step(s->usage_put) == SQLITE_DONE;
    sqlite3_reset(s->usage_put);
    s->k.dirty = !ok;
    return ok;
}

static int64_t op_get(kv_data *k, const uint8_t *key, size_t klen, kv_copy_fn copy, void *user)
{
    kv_sqlite *s = of(k);
    sqlite3_bind_blob(s->get, 1, key, (int)klen, SQLITE_STATIC);
    int rc = sqlite3_step(s->get);
    int64_t n = -1;
    if (rc == SQLITE_ROW) {
        n = sqlite3_column_bytes(s->get, 0);
        if (copy)
            copy(user, sqlite3_column_blob(s->get, 0), (size_t)n);
    } else if (rc != SQLITE_DONE) {
        n = -2;
    }
    sqlite3_reset(s->get);
    sqlite3_clear_bindings(s->get);
    return n;
}

static bool op_put(kv_data *k, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
    kv_sqlite *s = of(k);
    sqlite3_bind_blob(s->put, 1, key, (int)klen, SQLITE_STATIC);
    sqlite3_bind_blob(s->put, 2, vlen ? (const void *)val : "", (int)vlen, SQLITE_STATIC);
    int rc = sqlite3_step(s->put);
    sqlite3_reset(s->put);
    sqlite3_clear_bindings(s->put);
    return rc == SQLITE_DONE;
}

static bool op_del(kv_data *k, const uint8_t *key, size_t klen)
{
    kv_sqlite *s = of(k);
    sqlite3_bind_blob(s->del, 1, key, (int)klen, SQLITE_STATIC);
    int rc = sqlite3_step(s->del);
    sqlite3_reset(s->del);
    sqlite3_clear_bindings(s->del);
    return rc == SQLITE_DONE;
}

static bool op_list(kv_data *k, const uint8_t *prefix, size_t plen, const uint8_t *end,
                    size_t elen, const uint8_t *after, size_t alen, bool has_after,
                    uint32_t limit, kv_list_fn fn, void *user)
{
    kv_sqlite *s = of(k);
    sqlite3_bind_blob(s->list, 1, plen ? (const void *)prefix : "", (int)plen, SQLITE_STATIC);
    if (elen)
        sqlite3_bind_blob(s->list, 2, end, (int)elen, SQLITE_STATIC);
    if (has_after)
        sqlite3_bind_blob(s->list, 3, alen ? (const void *)after : "", (int)alen,
                          SQLITE_STATIC);
    sqlite3_bind_int64(s->list, 4, limit);
    int rc;
    bool go = true;
    while (go && (rc = sqlite3_step(s->list)) == SQLITE_ROW)
        go = fn(user, sqlite3_column_blob(s->list, 0), (size_t)sqlite3_column_bytes(s->list, 0),
                (size_t)sqlite3_column_int64(s->list, 1));
    bool ok = !go || rc == SQLITE_DONE;
    sqlite3_reset(s->list);
    sqlite3_clear_bindings(s->list);
    return ok;
}

static bool op_clear(kv_data *k)
{
    return sqlite3_exec(of(k)->d->db, "DELETE FROM kv", NULL, NULL, NULL) == SQLITE_OK;
}

static const char *op_error(kv_data *k)
{
    return sqlite3_errmsg(of(k)->d->db);
}

/* ------------------------------------------------------------------------ */
/* Transactions                                                             */
/* ------------------------------------------------------------------------ */

static kv_data *call_begin(kv_service *ks, wasmplug_hostcall *call, char *msg, size_t msg_size)
{
    wps_db *d = wps_db_of(call, &ks->base, KV_FILE, KV_SCHEMA, msg, msg_size);
    if (!d)
        return NULL;
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!wps_txn_begin(d, why, sizeof why)) {
        snprintf(msg, msg_size, "plugin '%s': %s", d->plugin, why);
        return NULL;
    }
    /* Under the database's lock from here: the first use by this plugin
     * prepares its statements; the quotas are read on every call, so that
     * they follow a reload that changed them (the current version's). */
    kv_sqlite *s = d->service;
    if (!s)
        s = kv_sqlite_new(d, msg, msg_size);
    if (s)
        wps_kv_plugin_quotas(ks, wasmplug_hostcall_plugin(call), &s->k);
    if (!s) {
        wps_txn_end(d, WASMPLUG_ERR_STORAGE, why, sizeof why);
        return NULL;
    }
    if (!usage_load(s)) {
        snprintf(msg, msg_size, "plugin '%s': cannot read the key-value usage: %s", d->plugin,
                 sqlite3_errmsg(d->db));
        wps_txn_end(d, WASMPLUG_ERR_STORAGE, why, sizeof why);
        return NULL;
    }
    return &s->k;
}

static wasmplug_status end(kv_data *k, wasmplug_status status, char *msg, size_t msg_size)
{
    kv_sqlite *s = of(k);
    wps_db *d = s->d;
    bool host_owned = s->host_owned;
    wasmplug_status st = WASMPLUG_OK;
    if (status == WASMPLUG_OK && !usage_save(s)) {
        snprintf(msg, msg_size, "plugin '%s': cannot update the key-value usage: %s", d->plugin,
                 sqlite3_errmsg(d->db));
        st = WASMPLUG_ERR_STORAGE;
        status = st;
    }
    wasmplug_status e = wps_txn_end(d, status, msg, msg_size);
    if (st == WASMPLUG_OK)
        st = e;
    if (host_owned)
        db_close(d);
    return st;
}

static wasmplug_status host_begin(kv_service *ks, const char *id, bool create, kv_data **out,
                                  char *msg, size_t msg_size)
{
    *out = NULL;
    char *dir = wasmplug_services_data_path(ks->base.svc, id, NULL);
    if (!dir) {
        snprintf(msg, msg_size, "no data directory for '%.100s' (no data_dir, or not a plugin id)",
                 id ? id : "");
        return WASMPLUG_ERR_ARGUMENT;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, KV_FILE);
    if (!create && access(path, F_OK) != 0) {
        free(dir);
        snprintf(msg, msg_size, "plugin '%.100s' has no key-value data (%.300s)", id, path);
        return WASMPLUG_ERR_NOT_FOUND;
    }
    int e = create ? wps_mkdirs(dir, 0700) : 0;
    free(dir);
    if (e) {
        snprintf(msg, msg_size, "cannot create the data directory of '%.100s': %s", id,
                 strerror(e));
        return WASMPLUG_ERR_IO;
    }
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    wps_db *d = wps_db_open_path(path, id, KV_SCHEMA, create, why, sizeof why);
    kv_sqlite *s = d ? kv_sqlite_new(d, why, sizeof why) : NULL;
    if (!s || !wps_txn_begin(d, why, sizeof why)) {
        db_close(d);
        snprintf(msg, msg_size, "%s", why);
        return WASMPLUG_ERR_STORAGE;
    }
    s->host_owned = true;
    s->k.max_bytes = s->k.max_keys = UINT64_MAX; /* the host is not held to quotas */
    if (!usage_load(s)) {
        snprintf(msg, msg_size, "cannot read the key-value usage: %s", sqlite3_errmsg(d->db));
        end(&s->k, WASMPLUG_ERR_STORAGE, why, sizeof why);
        return WASMPLUG_ERR_STORAGE;
    }
    *out = &s->k;
    return WASMPLUG_OK;
}

static void plugin_free(void *state)
{
    db_close(state);
}

static void service_free(kv_service *ks)
{
    (void)ks;
}

const kv_ops wps_kv_sqlite_ops = {
    "sqlite", op_get,     op_put, op_del,     op_list,     op_clear,    op_error,
    call_begin, end,      host_begin, plugin_free, service_free,
};
