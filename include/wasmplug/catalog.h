/*
 * wasmplug/catalog.h - a host's plugins from the plugin store (services
 * layer, libwasmplug_services): every installed plugin registered in one
 * call, in dependency order, lazily if asked, and reloaded when `wasmplug
 * install` or `update` replaces it - what a long-running host (an editor,
 * `wasmplug serve`) does at start and on SIGHUP.
 *
 *     wasmplug_catalog_config cc;
 *     wasmplug_catalog_config_init(&cc);
 *     cc.lazy = true;                        // compile each plugin on first use
 *     wasmplug_catalog *cat;
 *     char msg[512];
 *     if (wasmplug_catalog_open(host, &cc, &cat, msg, sizeof msg))
 *         fprintf(stderr, "catalog: %s\n", msg);
 *     ...
 *     // later (SIGHUP, or a timer): reload what install/update replaced
 *     wasmplug_catalog_refresh(cat, NULL, msg, sizeof msg);
 *     // or at once, by itself, whenever the store changes:
 *     wasmplug_catalog_watch(cat, 0, NULL, NULL);
 *     for (size_t i = 0; i < wasmplug_catalog_count(cat); i++) ...  // what happened
 *     wasmplug_catalog_free(cat);            // the plugins stay in the host
 *
 * What is loaded: the newest installed version of each plugin id in the
 * store (and, with project_dir, the project's ./plugins, which win over
 * the store), under its id as the plugin's name, with its manifest
 * (permissions, limits, config, exports, dependencies), initialized. The
 * permissions recorded at install time (the store's "grants" file of that
 * version) are granted to it in the host's policy, as `wasmplug run` does;
 * a project plugin is granted nothing by the catalog (the embedder's
 * wasmplug_host_grant rules apply to every plugin). WASI directories and
 * environment variables are not given to catalog plugins.
 *
 * Order and dependencies: plugins are loaded after the ones they depend on
 * (manifest `dependencies`). A set with a cycle loads none of the plugins
 * on it: each gets ERR_DEPENDENCY_CYCLE with the cycle ("a -> b -> a");
 * a missing or unsatisfiable dependency is the host's error for that
 * plugin (ERR_DEPENDENCY_MISSING / _VERSION). One plugin failing does not
 * stop the others: each has its own entry (wasmplug_catalog_entry_at).
 *
 * Refresh: the store is listed again; a plugin whose newest installed
 * version (its directory, manifest or module file) changed is reloaded
 * (wasmplug_plugin_reload_file: calls in flight finish on the old version,
 * a failing new version leaves the old one serving, reload_options' health
 * gate applies); a new plugin is loaded; a plugin removed from the store is
 * killed unless others depend on it (then it stays, with ERR_IN_USE in its
 * entry). Grants added at install are added to the policy; a grant removed
 * from the store is not withdrawn until the host restarts.
 *
 * Threads: every function may be called from any thread (they take the
 * catalog's lock; a refresh runs one at a time), but not from the host's
 * callbacks (state, error, lifecycle hooks) while a refresh runs them.
 * Free the catalog before the host. The plugins themselves are used
 * through the host.
 */
#ifndef WASMPLUG_CATALOG_H
#define WASMPLUG_CATALOG_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_catalog wasmplug_catalog;

typedef struct wasmplug_catalog_config {
    /* The store root; NULL: $WASMPLUG_STORE, else $XDG_DATA_HOME/wasmplug,
     * else ~/.local/share/wasmplug (the CLI's store). */
    const char *store_root;
    /* A project directory whose ./plugins are loaded too; NULL: none. */
    const char *project_dir;
    /* Register the plugins lazily (wasmplug_load_options.lazy): the host
     * starts at once, each plugin is built by its first use. */
    bool lazy;
    /* Limits and pool size of every plugin (a manifest can only lower the
     * limits); 0 = the host's defaults, one instance. */
    wasmplug_plugin_limits limits;
    uint32_t pool_size;
    /* Health gate and state handover of refresh reloads (load is ignored). */
    wasmplug_reload_options reload;
} wasmplug_catalog_config;

/** Fill cfg with the defaults (the CLI's store, eager loading). */
WASMPLUG_API void wasmplug_catalog_config_init(wasmplug_catalog_config *cfg);

/** What happened to one plugin at the last open or refresh. */
typedef enum wasmplug_catalog_action {
    WASMPLUG_CATALOG_UNCHANGED = 0,
    WASMPLUG_CATALOG_LOADED,    /* loaded (or registered lazily) */
    WASMPLUG_CATALOG_RELOADED,  /* a new installed version replaced the running one */
    WASMPLUG_CATALOG_REMOVED,   /* no longer installed: killed */
    WASMPLUG_CATALOG_FAILED     /* status and message say why */
} wasmplug_catalog_action;

/** "unchanged", "loaded", "reloaded", "removed", "failed". */
WASMPLUG_API const char *wasmplug_catalog_action_string(wasmplug_catalog_action action);

/** One plugin of the catalog (a self-contained copy). */
typedef struct wasmplug_catalog_entry {
    char id[WASMPLUG_NAME_MAX];      /* = the plugin's name in the host */
    char version[WASMPLUG_NAME_MAX]; /* the installed version last seen */
    char dir[1024];                  /* its directory (holding plugin.yaml) */
    wasmplug_catalog_action action;
    wasmplug_status status;          /* WASMPLUG_OK unless action is FAILED */
    char message[WASMPLUG_ERROR_MESSAGE_MAX]; /* why it failed, or "" */
} wasmplug_catalog_entry;

/**
 * List the store (and project), load every plugin into host in dependency
 * order (see above) and return the catalog in *out (freed with
 * wasmplug_catalog_free; the plugins stay in the host). Per-plugin
 * failures are in the entries, not the status: WASMPLUG_OK unless the
 * store cannot be listed (ERR_IO, ERR_NOT_FOUND without a home directory)
 * or memory runs out; msg (may be NULL) says why, or summarizes the
 * failed plugins ("2 of 7 plugins failed: ...") when the status is OK.
 */
WASMPLUG_API wasmplug_status wasmplug_catalog_open(wasmplug_host *host,
                                                   const wasmplug_catalog_config *cfg,
                                                   wasmplug_catalog **out, char *msg,
                                                   size_t msg_size);
/**
 * Look at the store again and apply what changed (see above). The entries
 * then describe this refresh (UNCHANGED for the others). Status and msg as
 * for wasmplug_catalog_open; *changed (may be NULL) gets the number of
 * plugins loaded, reloaded or removed.
 */
WASMPLUG_API wasmplug_status wasmplug_catalog_refresh(wasmplug_catalog *catalog, size_t *changed,
                                                      char *msg, size_t msg_size);
/**
 * Refresh by itself whenever the store changes (an install, update,
 * rollback or remove): the store's plugins directory is watched
 * (wasmplug_watcher, debounce_ms of quiet first; 0: 300 ms) and each
 * change runs wasmplug_catalog_refresh on the watcher's thread. done (may
 * be NULL) is called after each such refresh, on that thread, with the
 * number of plugins changed (the entries tell which). Refreshes never
 * overlap: the catalog's functions take its lock. ERR_NOT_FOUND (the store
 * has no plugins directory yet: install something first), ERR_UNSUPPORTED
 * (no file watching on this system), ERR_PLUGIN_STATE (watched already).
 */
typedef void (*wasmplug_catalog_fn)(void *user, wasmplug_catalog *catalog, size_t changed);
WASMPLUG_API wasmplug_status wasmplug_catalog_watch(wasmplug_catalog *catalog,
                                                    uint32_t debounce_ms,
                                                    wasmplug_catalog_fn done, void *user);
/** The number of entries (plugins known, removed ones of the last refresh included). */
WASMPLUG_API size_t wasmplug_catalog_count(wasmplug_catalog *catalog);
/** Copy entry i (in load order) into *out; ERR_NOT_FOUND past the end. */
WASMPLUG_API wasmplug_status wasmplug_catalog_entry_at(wasmplug_catalog *catalog, size_t i,
                                                       wasmplug_catalog_entry *out);
/** The store root the catalog reads (valid while the catalog is). */
WASMPLUG_API const char *wasmplug_catalog_store(wasmplug_catalog *catalog);
/** Free the catalog (not its plugins: they stay in the host). NULL is fine. */
WASMPLUG_API void wasmplug_catalog_free(wasmplug_catalog *catalog);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_CATALOG_H */
