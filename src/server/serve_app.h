/*
 * serve_app.h - what `wasmplug serve` serves: a plugin host whose plugins
 * all come from the plugin store, each with exactly the permissions the
 * operator granted when installing it (services/grants.h) less what the
 * operator denies now, loaded as `wasmplug run` loads them
 * (services/launch.h: the same permissions, WASI environment variables and
 * directories, outbound HTTP through the operator's HTTP policy), the host
 * services (key-value, SQL, notify, events: data under data_dir) and an
 * event bus. The route files api_*.c reach it with server_app(req).
 *
 * Plugins are known by their store id (the plugin name in the host). A
 * plugin is loaded from its installed directory (the newest version, or
 * ID@VERSION), never from a path a request names, so a request cannot make
 * the server run a module the store did not install.
 *
 * Per-request limits: a call may ask for a lower timeout or fuel budget
 * than the plugin's installed limits (never a higher one); input and output
 * are bounded by the plugin's limits and by the route's body limit.
 *
 * Load, reload, kill, dispose and store reloads are serialized by the app's
 * lock; calls take no app lock (the host's handles are reference counted).
 */
#ifndef WASMPLUG_SERVE_APP_H
#define WASMPLUG_SERVE_APP_H

#include "server.h"

#include <wasmplug.h>
#include <wasmplug/events.h>
#include <wasmplug/http.h>

#include <pthread.h>
#include <sys/types.h>
#include <stdatomic.h>

typedef struct serve_app_config {
    const char *store;       /* the store root (required) */
    const char *data_dir;    /* plugins' data (kv, db); NULL: no storage services */
    uint32_t pool_size;      /* instances per plugin; 0: 4 */
    wasmplug_bounds_mode bounds;
    /* Outbound HTTP: the operator's policy (plugins reach what their
     * recorded http grants and the policy both allow; a policy without
     * rules leaves it to the grants). NULL: no HTTP service. Must outlive
     * the app. */
    const wasmplug_http_policy *http;
    /* Permission patterns denied whatever was recorded (serve --deny). */
    const char *const *denies;
    size_t deny_count;
} serve_app_config;

/* One loaded plugin: where it was installed from. */
typedef struct serve_entry {
    char id[WASMPLUG_NAME_MAX];
    char version[WASMPLUG_NAME_MAX];
    char *dir;   /* its store directory */
    char *grants_text; /* what it was granted, one per line */
    dev_t dir_dev;     /* which directory that was: a reinstall of the same */
    ino_t dir_ino;     /* version (install --force) puts a new one in place */
} serve_entry;

typedef struct serve_app {
    wasmplug_host *host;
    wasmplug_bus *bus;
    char *store;
    char *data_dir;
    char **denies;          /* serve_app_config.denies (copies) */
    size_t deny_count;
    uint32_t pool_size;
    server *srv;            /* set by the command once listening */
    atomic_bool ready;      /* the store's plugins were loaded */
    pthread_mutex_t lock;   /* entries, and every change of the loaded set */
    serve_entry *entries;
    size_t nentries;
    atomic_uint_fast64_t calls_refused; /* calls refused while draining */
    /* Calls forwarded to Redis workers (serve_queue.h), set by the command
     * before listening; NULL: every call runs here. Plugins it routes are
     * not loaded by serve_app_sync_store. Not owned. */
    struct serve_queue *queue;
} serve_app;

/** Create the host (services attached, a bus), nothing loaded yet. */
wasmplug_status serve_app_new(const serve_app_config *cfg, serve_app **out, char *msg,
                              size_t msgsize);
/** Kill every plugin, stop the bus, free. NULL is fine. */
void serve_app_free(serve_app *app);

/**
 * Load ref ("ID" or "ID@VERSION") from the store under the name ID, with
 * its recorded grants (less the denied ones), and initialize it. ERR_NOT_FOUND (not installed),
 * ERR_DUPLICATE (loaded already), load and init errors (err).
 */
wasmplug_status serve_app_load(serve_app *app, const char *ref, uint32_t pool_size,
                               wasmplug_plugin_error *err);
/**
 * Reload the loaded plugin id from the store (its newest version, or
 * version when given) through the host's hot reload: calls keep being
 * served. ERR_NOT_FOUND when id is not loaded or not installed.
 */
wasmplug_status serve_app_reload(serve_app *app, const char *id, const char *version,
                                 wasmplug_plugin_error *err);
/** Kill a loaded plugin (running calls are cancelled) and forget it. */
wasmplug_status serve_app_kill(serve_app *app, const char *id);
/**
 * The store again (SIGHUP): plugins installed since are loaded, plugins
 * whose newest installed version changed are reloaded (hot), plugins no
 * longer installed are killed. Counts what it did; errors are recorded in
 * the host's error history and counted in *failed.
 */
void serve_app_sync_store(serve_app *app, size_t *loaded, size_t *reloaded, size_t *killed,
                          size_t *failed);
/** A copy of the entry of a loaded plugin (dir and grants_text malloc'd;
 *  free with serve_entry_clear). ERR_NOT_FOUND. */
wasmplug_status serve_app_entry(serve_app *app, const char *id, serve_entry *out);
void serve_entry_clear(serve_entry *e);

/** A plugin error as JSON: code, kind, phase, plugin, function, message,
 *  trap, plugin_code, offset, time, backtrace [{function, offset, ...}]. */
json_t *serve_error_json(const wasmplug_plugin_error *err);
/** The HTTP status for a failed call or operation. */
unsigned serve_http_status(wasmplug_status st);

#endif
