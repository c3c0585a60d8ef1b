/*
 * wasmplug/services.h - host services for plugins (libwasmplug_services:
 * link with `pkg-config --libs wasmplug-services` or the CMake target
 * wasmplug::wasmplug_services).
 *
 * A host that wants services attaches them once, before loading plugins:
 *
 *     wasmplug_host *host;
 *     wasmplug_host_new(NULL, &host);
 *     wasmplug_services_config sc;
 *     wasmplug_services_config_init(&sc);
 *     sc.data_dir = "/var/lib/myapp/plugins";     // <data_dir>/<plugin id>/
 *     sc.on_notify = show_notification;           // notify(level, title, body)
 *     wasmplug_services *svc;
 *     char msg[256];
 *     if (wasmplug_services_attach(host, &sc, &svc, msg, sizeof msg))
 *         fprintf(stderr, "services: %s\n", msg);
 *     wasmplug_host_grant(host, "*", "kv");       // host policy, as for host functions
 *     ... load plugins whose manifests request `storage: true` ...
 *
 * Services and their grants
 * -------------------------
 * Each service adds imports to the reserved module "wasmplug" (docs/ABI.md,
 * ABI 1.1) and needs a grant; a plugin gets a grant when its manifest
 * requests it and the host policy allows it (wasmplug_host_grant), exactly
 * like host functions:
 *
 *   service  grant                        manifest (permissions:)        imports
 *   kv       kv                           storage: true | {quota, keys}  kv_get, kv_set, ...
 *   db       db                           database: true | {max_size}    db_exec, db_query
 *   notify   notify                       notify: true                   notify
 *   events   events.publish:<pattern>,    events: {publish, subscribe}   event_*
 *            events.subscribe:<pattern>
 *   http     http:<URL pattern>           http: [URL patterns]           http_request
 *
 * HTTP is attached on its own, with its policy: wasmplug_http_attach
 * (<wasmplug/http.h>), so that a statically linked program that does not
 * use it links no libcurl; wasmplug_services_attach leaves it out.
 *
 * A plugin importing a service function without its grant fails its load
 * (ERR_PERMISSION_DENIED, naming the import and the grant). The manifest's
 * settings (quotas) are capped by this config's policy: a plugin gets
 * min(manifest request or default, policy maximum).
 *
 * Calls and transactions
 * ----------------------
 * Storage written by a plugin call (kv_*, db_*) is one transaction: it is
 * committed when the call succeeds and rolled back when the call traps,
 * fails (non-zero return), hits a limit or is cancelled, so no reader ever
 * sees half a call.
 *
 * Where data lives
 * ----------------
 * <data_dir>/<plugin id>/ (the manifest id, or the plugin's name without
 * one); with data_per_version, <data_dir>/<plugin id>@<version>/. The
 * directory is created when a storage service first needs it.
 *
 * Key-value data on Redis
 * -----------------------
 * With kv_redis_url, key-value data lives in Redis instead, so that hosts
 * on several machines share it: for each plugin id (or id@version) the
 * keys <prefix>{<id>}:data (a hash of the plugin's keys and values),
 * :order (a sorted set of its keys, for listing in byte order), :usage
 * (bytes and keys) and :lock. The semantics are SQLite's: quotas are the
 * same and exact; a call's key-value imports are one transaction, taking
 * the plugin's lock (a key set with a random token, 60 s expiry) at its
 * first import, reading through to Redis, keeping its writes in memory and
 * applying them at the call's end with one Lua script that first checks
 * the lock is still the call's; a call that traps, fails or hits a limit
 * writes nothing. Calls of one plugin id take turns across every host (a
 * call waits up to 5 s for the lock, as for SQLite's busy timeout). A call
 * that loses its connection is reconnected with backoff (up to 10 s);
 * when the reply to the commit script is lost the service asks Redis
 * whether it ran (a marker key kept 60 s), so a call reports success only
 * when its writes are in Redis. They are as durable as the Redis server
 * makes them (appendonly yes with appendfsync always: every acknowledged
 * commit survives a Redis restart). The host API (wasmplug_kv_*) works on
 * the same data.
 *
 * Ownership and threads
 * ---------------------
 * The host owns the services object: wasmplug_host_free frees it (after its
 * plugins). The handle returned by attach is valid until then. Every
 * function may be called from any thread. Callbacks (on_notify) run on the
 * thread of the plugin call, with no lock held.
 */
#ifndef WASMPLUG_SERVICES_H
#define WASMPLUG_SERVICES_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_services wasmplug_services;
typedef struct wasmplug_bus wasmplug_bus; /* the event bus, <wasmplug/events.h> */

/** Services, for wasmplug_services_config.enable. */
#define WASMPLUG_SERVICE_KV (1u << 0)
#define WASMPLUG_SERVICE_DB (1u << 1)
#define WASMPLUG_SERVICE_NOTIFY (1u << 2)
#define WASMPLUG_SERVICE_EVENTS (1u << 3)
#define WASMPLUG_SERVICE_HTTP (1u << 4)
#define WASMPLUG_SERVICE_ALL 0xffffffffu

/** Notification levels of notify(level, title, body). */
typedef enum wasmplug_notify_level {
    WASMPLUG_NOTIFY_INFO = 0,
    WASMPLUG_NOTIFY_SUCCESS = 1,
    WASMPLUG_NOTIFY_WARNING = 2,
    WASMPLUG_NOTIFY_ERROR = 3
} wasmplug_notify_level;

/** "info", "success", "warning", "error". Never NULL. */
WASMPLUG_API const char *wasmplug_notify_level_string(wasmplug_notify_level level);

/**
 * Receives a plugin's notification. title and body are the plugin's bytes
 * (valid UTF-8, checked; not NUL-terminated; untrusted: escape them before
 * printing on a terminal).
 */
typedef void (*wasmplug_notify_fn)(void *user, wasmplug_plugin *plugin,
                                   wasmplug_notify_level level, const char *title,
                                   size_t title_len, const char *body, size_t body_len);

typedef struct wasmplug_services_config {
    /* Root of plugin data (kv, db): <data_dir>/<plugin id>/. NULL: the
     * storage services are not attached (notify still is). */
    const char *data_dir;
    /* WASMPLUG_SERVICE_* bits to attach (WASMPLUG_SERVICE_ALL: all). */
    uint32_t enable;
    /* false (default): all versions of a plugin id share their data. */
    bool data_per_version;

    /* Quota policy: the most any plugin gets; a manifest may ask for less.
     * 0 = the built-in default given. */
    uint64_t kv_max_bytes;        /* keys + values, per plugin; default 64 MiB */
    uint64_t kv_max_keys;         /* default 1,000,000 */
    uint32_t kv_max_value_bytes;  /* one value; default 1 MiB */
    uint64_t db_max_bytes;        /* database file size; default 256 MiB */
    uint32_t db_max_result_bytes; /* one db_query's JSON result; default 4 MiB */
    uint32_t db_statement_ms;     /* one SQL statement's time; default 5000 */

    /* kv on Redis instead of SQLite files (shared by every host using the
     * same Redis): a URL redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or
     * unix:///PATH[?db=N]. NULL (default): SQLite under data_dir. See
     * "Key-value data on Redis" above. */
    const char *kv_redis_url;
    /* Prefix of the Redis keys; NULL: "wasmplug:kv:". */
    const char *kv_redis_prefix;

    /* notify: the callback (NULL: notifications are counted and dropped). */
    wasmplug_notify_fn on_notify;
    void *notify_user;

    /* events: the bus (<wasmplug/events.h>, created on this host) that the
     * plugins' wasmplug.event_publish / event_request reach, as
     * wasmplug_bus_attach would attach it. NULL: the imports still link
     * (so event plugins load and validate), and each publish or request
     * returns -WASMPLUG_ERR_PLUGIN_STATE ("no event bus"). */
    wasmplug_bus *bus;
} wasmplug_services_config;

/** Fill cfg with the defaults (all services, no data_dir, default quotas). */
WASMPLUG_API void wasmplug_services_config_init(wasmplug_services_config *cfg);

/**
 * Attach the enabled services to host (before any plugin is loaded): adds
 * each service (wasmplug_host_add_service) and registers its imports.
 * On failure msg (may be NULL) says why: ERR_PLUGIN_STATE (plugins were
 * loaded already), ERR_DUPLICATE (services attached already), ERR_IO
 * (data_dir cannot be created), ERR_NOMEM. *out (may be NULL) is owned by
 * the host.
 */
WASMPLUG_API wasmplug_status wasmplug_services_attach(wasmplug_host *host,
                                                      const wasmplug_services_config *cfg,
                                                      wasmplug_services **out, char *msg,
                                                      size_t msg_size);

/** The services attached to host, or NULL. */
WASMPLUG_API wasmplug_services *wasmplug_services_of(wasmplug_host *host);

/**
 * The grant the import wasmplug.<name> needs ("kv", "db", "notify",
 * "events.publish:*", ...) for every service this library implements
 * (whether attached or not), or NULL if name is no service import. Lets a
 * validator check a module without a host.
 */
WASMPLUG_API const char *wasmplug_services_import_grant(const char *name);

/**
 * The data directory of a plugin id (and version, used only with
 * data_per_version): "<data_dir>/<id>" (malloc'd, free()). NULL without a
 * data_dir, for an id that is not a valid plugin name, or out of memory.
 */
WASMPLUG_API char *wasmplug_services_data_path(wasmplug_services *svc, const char *id,
                                               const char *version);

/* ------------------------------------------------------------------------ */
/* Key-value data from the host                                             */
/* ------------------------------------------------------------------------ */

/*
 * The host reads and writes a plugin's key-value data by plugin id (with
 * data_per_version: "id@version"), whether or not the plugin is loaded;
 * each function is one transaction of its own, and the host is not held to
 * the plugin's quotas (the usage is still counted). Keys are 1..1024 bytes
 * of any value. Failures fill msg (may be NULL): ERR_NOT_FOUND (no data or
 * no such key), ERR_ARGUMENT, ERR_IO, ERR_STORAGE (SQLite's message).
 */

/** The value of key in *value (freed with wasmplug_buf_free). */
WASMPLUG_API wasmplug_status wasmplug_kv_get(wasmplug_services *svc, const char *plugin_id,
                                             const void *key, size_t key_len,
                                             wasmplug_buf *value, char *msg, size_t msg_size);
/** Set key to value (creating the plugin's data if needed). */
WASMPLUG_API wasmplug_status wasmplug_kv_set(wasmplug_services *svc, const char *plugin_id,
                                             const void *key, size_t key_len, const void *value,
                                             size_t value_len, char *msg, size_t msg_size);
/** Delete key (ERR_NOT_FOUND if absent). */
WASMPLUG_API wasmplug_status wasmplug_kv_delete(wasmplug_services *svc, const char *plugin_id,
                                                const void *key, size_t key_len, char *msg,
                                                size_t msg_size);

/** One key of a listing (key NUL-terminated for convenience). */
typedef struct wasmplug_kv_entry {
    uint8_t *key;
    size_t key_len;
    size_t value_len;
} wasmplug_kv_entry;

/**
 * The keys starting with prefix, in byte order, after the key `after` (a
 * cursor: the last key of the previous page; NULL for the first page), at
 * most limit (0: all). *entries freed with wasmplug_kv_entries_free.
 */
WASMPLUG_API wasmplug_status wasmplug_kv_list(wasmplug_services *svc, const char *plugin_id,
                                              const void *prefix, size_t prefix_len,
                                              const void *after, size_t after_len,
                                              uint32_t limit, wasmplug_kv_entry **entries,
                                              size_t *count, char *msg, size_t msg_size);
WASMPLUG_API void wasmplug_kv_entries_free(wasmplug_kv_entry *entries, size_t count);
/** Bytes (keys + values) and keys stored. */
WASMPLUG_API wasmplug_status wasmplug_kv_usage(wasmplug_services *svc, const char *plugin_id,
                                               uint64_t *bytes, uint64_t *keys, char *msg,
                                               size_t msg_size);
/**
 * All of a plugin's data as JSON (freed with wasmplug_buf_free):
 * {"format": "wasmplug-kv", "version": 1, "plugin": ID, "entries": [{"key":
 * "...", "value": "..."}, ...]}, with "key_base64" / "value_base64" (RFC
 * 4648) for bytes that are not UTF-8 text.
 */
WASMPLUG_API wasmplug_status wasmplug_kv_export(wasmplug_services *svc, const char *plugin_id,
                                                wasmplug_buf *out, char *msg, size_t msg_size);
/** Load an export (one transaction: all of it or nothing); with replace,
 *  the plugin's data is emptied first. */
WASMPLUG_API wasmplug_status wasmplug_kv_import(wasmplug_services *svc, const char *plugin_id,
                                                const void *json, size_t len, bool replace,
                                                char *msg, size_t msg_size);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_SERVICES_H */
