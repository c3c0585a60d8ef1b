/*
 * storage.h - what the key-value (kv.c) and SQL (sql.c) services share: a
 * plugin's SQLite database file in its data directory, opened once per
 * plugin in WAL mode, and the per-call transaction.
 *
 * The transaction rule: the first storage import of a call takes the
 * database's lock and begins a transaction; the call's end (the service's
 * call_end hook) commits it when the call succeeded and rolls it back
 * otherwise, then releases the lock. So a plugin call's writes are all or
 * nothing, and calls of the same plugin running in parallel (pool_size > 1)
 * take turns at the database from their first storage access to their end.
 * Durability: synchronous=NORMAL in WAL mode survives a crash of the process
 * (every committed call is there after SIGKILL); with `durable`
 * (synchronous=FULL) it also survives power loss, at the cost of an fsync
 * per committed call.
 */
#ifndef WPS_STORAGE_H
#define WPS_STORAGE_H

#include "services_internal.h"

#include <pthread.h>
#include <sqlite3.h>

typedef struct wps_db {
    pthread_mutex_t lock;   /* held by the call whose transaction is open */
    sqlite3 *db;
    char *path;
    char plugin[WASMPLUG_NAME_MAX]; /* for messages */
    sqlite3_stmt *begin, *commit, *rollback;
    void *service;          /* the service's own per-plugin data (kv.c, sql.c) */
} wps_db;

/* Open (creating) file `name` in the plugin's data directory: WAL mode,
 * busy timeout, no extension loading, defensive mode; then run schema (may
 * be NULL). NULL with msg on failure. */
wps_db *wps_db_open(wasmplug_services *svc, wasmplug_plugin *plugin, const char *name,
                    const char *schema, char *msg, size_t msg_size);
/* Open a database file by path (the host API: no plugin loaded). */
wps_db *wps_db_open_path(const char *path, const char *label, const char *schema, bool create,
                         char *msg, size_t msg_size);
void wps_db_close(wps_db *d);

/* The plugin's database for `service`, opened on first use (per-plugin
 * service state). NULL with msg on failure. */
wps_db *wps_db_of(wasmplug_hostcall *call, wps_base *service, const char *name,
                  const char *schema, char *msg, size_t msg_size);

/* Lock d and BEGIN IMMEDIATE (end with wps_txn_end); the host API uses it
 * directly. false with msg. */
bool wps_txn_begin(wps_db *d, char *msg, size_t msg_size);
/* Inside an import: make sure the call holds d's lock with a transaction
 * open (the first time in a call: lock, BEGIN). false with msg on failure. */
bool wps_txn_enter(wasmplug_hostcall *call, wps_base *service, wps_db *d, char *msg,
                   size_t msg_size);
/* The service's call_end: commit (status OK) or roll back the call's
 * transaction, then unlock. state is the call state (the wps_db or NULL). */
wasmplug_status wps_txn_end(wps_db *d, wasmplug_status status, char *msg, size_t msg_size);

/* Fail the call with ERR_STORAGE and SQLite's message about d. Returns 1. */
int wps_db_fail(wasmplug_hostcall *call, wps_db *d, const char *what);

#endif
