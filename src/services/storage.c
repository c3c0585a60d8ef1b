/*
 * storage.c - a plugin's SQLite database and the per-call transaction
 * (storage.h), shared by the key-value and SQL services.
 */
#include "storage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WPS_BUSY_TIMEOUT_MS 5000

void wps_db_close(wps_db *d)
{
    if (!d)
        return;
    sqlite3_finalize(d->begin);
    sqlite3_finalize(d->commit);
    sqlite3_finalize(d->rollback);
    sqlite3_close_v2(d->db);
    pthread_mutex_destroy(&d->lock);
    free(d->path);
    free(d);
}

wps_db *wps_db_open_path(const char *path, const char *label, const char *schema, bool create,
                         char *msg, size_t msg_size)
{
    wps_db *d = calloc(1, sizeof *d);
    if (!d || !(d->path = strdup(path))) {
        free(d);
        snprintf(msg, msg_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&d->lock, NULL);
    snprintf(d->plugin, sizeof d->plugin, "%s", label);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path, &d->db, flags, NULL);
    if (rc != SQLITE_OK) {
        snprintf(msg, msg_size, "cannot open %.300s: %s", path,
                 d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
        wps_db_close(d);
        return NULL;
    }
    sqlite3_extended_result_codes(d->db, 1);
    sqlite3_busy_timeout(d->db, WPS_BUSY_TIMEOUT_MS);
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, NULL);
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_limit(d->db, SQLITE_LIMIT_ATTACHED, 0);
    char *err = NULL;
    rc = sqlite3_exec(d->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL,
                      &err);
    if (rc == SQLITE_OK && schema)
        rc = sqlite3_exec(d->db, schema, NULL, NULL, &err);
    if (rc == SQLITE_OK &&
        /* IMMEDIATE: a deferred transaction that read before writing fails
         * at once (SQLITE_BUSY_SNAPSHOT, no busy wait) when another
         * connection wrote in between, e.g. a second instance's first open. */
        ((rc = sqlite3_prepare_v2(d->db, "BEGIN IMMEDIATE", -1, &d->begin, NULL)) != SQLITE_OK ||
         (rc = sqlite3_prepare_v2(d->db, "COMMIT", -1, &d->commit, NULL)) != SQLITE_OK ||
         (rc = sqlite3_prepare_v2(d->db, "ROLLBACK", -1, &d->rollback, NULL)) != SQLITE_OK))
        err = sqlite3_mprintf("%s", sqlite3_errmsg(d->db));
    if (rc != SQLITE_OK) {
        snprintf(msg, msg_size, "cannot set up %.300s: %s", path,
                 err ? err : sqlite3_errstr(rc));
        sqlite3_free(err);
        wps_db_close(d);
        return NULL;
    }
    return d;
}

wps_db *wps_db_open(wasmplug_services *svc, wasmplug_plugin *plugin, const char *name,
                    const char *schema, char *msg, size_t msg_size)
{
    char *dir = wps_plugin_dir(svc, plugin, msg, msg_size);
    if (!dir)
        return NULL;
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    wps_db *d = NULL;
    if (path) {
        snprintf(path, n, "%s/%s", dir, name);
        d = wps_db_open_path(path, wasmplug_plugin_name(plugin), schema, true, msg, msg_size);
    } else {
        snprintf(msg, msg_size, "out of memory");
    }
    free(path);
    free(dir);
    return d;
}

wps_db *wps_db_of(wasmplug_hostcall *call, wps_base *service, const char *name,
                  const char *schema, char *msg, size_t msg_size)
{
    wasmplug_plugin *p = wasmplug_hostcall_plugin(call);
    wps_db *d = wasmplug_plugin_service_state(p, service->id);
    if (d)
        return d;
    d = wps_db_open(service->svc, p, name, schema, msg, msg_size);
    if (!d)
        return NULL;
    wps_db *won = wasmplug_plugin_service_state_set(p, service->id, d);
    if (won != d) /* another instance of the plugin opened it first */
        wps_db_close(d);
    return won;
}

static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

bool wps_txn_begin(wps_db *d, char *msg, size_t msg_size)
{
    pthread_mutex_lock(&d->lock);
    if (!step_done(d->begin)) {
        snprintf(msg, msg_size, "cannot begin a transaction: %s", sqlite3_errmsg(d->db));
        pthread_mutex_unlock(&d->lock);
        return false;
    }
    return true;
}

bool wps_txn_enter(wasmplug_hostcall *call, wps_base *service, wps_db *d, char *msg,
                   size_t msg_size)
{
    void **state = wasmplug_hostcall_call_state(call, service->id);
    if (*state == d)
        return true;
    if (!wps_txn_begin(d, msg, msg_size))
        return false;
    *state = d;
    return true;
}

wasmplug_status wps_txn_end(wps_db *d, wasmplug_status status, char *msg, size_t msg_size)
{
    wasmplug_status st = WASMPLUG_OK;
    if (status == WASMPLUG_OK) {
        if (!step_done(d->commit)) {
            snprintf(msg, msg_size, "plugin '%s': cannot commit the call's writes: %s",
                     d->plugin, sqlite3_errmsg(d->db));
            st = WASMPLUG_ERR_STORAGE;
        }
    }
    /* A failed call, or a commit that failed: nothing of the call stays. */
    if ((status != WASMPLUG_OK || st != WASMPLUG_OK) && !sqlite3_get_autocommit(d->db))
        step_done(d->rollback);
    pthread_mutex_unlock(&d->lock);
    return st;
}

int wps_db_fail(wasmplug_hostcall *call, wps_db *d, const char *what)
{
    int code = sqlite3_extended_errcode(d->db);
    wasmplug_hostcall_fail(call,
                           (code & 0xff) == SQLITE_FULL ? WASMPLUG_ERR_QUOTA : WASMPLUG_ERR_STORAGE,
                           "plugin '%s': %s: %s", d->plugin, what, sqlite3_errmsg(d->db));
    return 1;
}
