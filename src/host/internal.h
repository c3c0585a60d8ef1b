/*
 * internal.h - shared structures of the plugin host (the .c files of src/host): the host,
 * plugins and their instance slots, host-function entries, the timer, error
 * rings. Built only on the public engine API (<wasmplug/engine.h>), never on
 * the engine's internal headers.
 *
 * Locking (always in this order, never held while plugin code or a user
 * callback runs):
 *   host->lock     registry, host functions, policy rules, host error ring
 *   plugin->lock   state, slots (busy flags, instances), metadata, metrics,
 *                  error ring
 *   timer->lock    the deadline list (taken alone)
 */
#ifndef WPH_INTERNAL_H
#define WPH_INTERNAL_H

#include "wasmplug.h"

#include <pthread.h>
#include <stdatomic.h>

#if defined(__GNUC__)
#define WPH_INTERNAL __attribute__((visibility("hidden")))
#else
#define WPH_INTERNAL
#endif

#define WPH_DEFAULT_MAX_PAGES 1024u
#define WPH_DEFAULT_DEPTH 10000u
#define WPH_DEFAULT_IO_MAX (64u << 20)
#define WPH_DEFAULT_HISTORY 32u
#define WPH_HOST_HISTORY 128u
#define WPH_MAX_POOL 1024u
#define WPH_SIG_PARAMS 16
#define WPH_SIG_RESULTS 8

/* Why an interrupt was sent to a running call (bits of slot->interrupted). */
#define WPH_INT_TIMEOUT 1
#define WPH_INT_CANCEL 2

typedef struct wph_slot wph_slot;

/* ---- small utilities (manifest.c) ---- */
WPH_INTERNAL char *wph_strdup(const char *s);
WPH_INTERNAL char *wph_strndup(const char *s, size_t n);
WPH_INTERNAL void wph_copy_name(char *dst, const char *src); /* into a NAME_MAX buffer */
WPH_INTERNAL uint64_t wph_now_ns(void);                      /* monotonic */
WPH_INTERNAL uint64_t wph_wall_ms(void);

/* A growable list of owned key/value strings. */
typedef struct wph_kvs {
    char **keys;
    char **values;
    size_t count, cap;
} wph_kvs;
WPH_INTERNAL wasmplug_status wph_kvs_set(wph_kvs *kv, const char *key, const char *value);
WPH_INTERNAL const char *wph_kvs_get(const wph_kvs *kv, const char *key, size_t keylen);
WPH_INTERNAL void wph_kvs_clear(wph_kvs *kv);
/* One malloc'd block: wasmplug_kv array followed by the strings. */
WPH_INTERNAL wasmplug_status wph_kvs_export(const wph_kvs *kv, wasmplug_kv **items,
                                            size_t *count);
/* The values as a JSON object of strings (malloc'd, NUL-terminated). */
WPH_INTERNAL char *wph_kvs_json(const wph_kvs *kv, size_t *len);
/* One malloc'd block of n strings (char** array then the text). */
WPH_INTERNAL char **wph_strings_block(const char *const *s, size_t n);
/* Validate the manifest's fields (not its exports); message into msg. */
WPH_INTERNAL wasmplug_status wph_manifest_check(const wasmplug_manifest *m, char *msg,
                                                size_t msgsize);
WPH_INTERNAL bool wph_valid_name(const char *s);

/* ---- errors.c ---- */
typedef struct wph_ring {
    wasmplug_plugin_error *items;
    uint32_t cap, count, head; /* head: index of the oldest */
} wph_ring;
WPH_INTERNAL void wph_ring_push(wph_ring *r, uint32_t cap, const wasmplug_plugin_error *e);
WPH_INTERNAL size_t wph_ring_copy(const wph_ring *r, wasmplug_plugin_error *out, size_t max);
WPH_INTERNAL void wph_ring_free(wph_ring *r);
/* Fill err (if not NULL) with code/phase/plugin/function and a formatted
 * message; returns code. */
WPH_INTERNAL wasmplug_status wph_fail(wasmplug_plugin_error *err, wasmplug_status code,
                                      wasmplug_phase phase, const char *plugin,
                                      const char *function, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* ---- timer (limits.c) ---- */
typedef struct wph_deadline {
    uint64_t at_ns;
    wasmplug_instance *inst;
    atomic_int *flags;       /* slot->interrupted: gets WPH_INT_TIMEOUT */
    struct wph_deadline *prev, *next;
    bool armed;
} wph_deadline;

typedef struct wph_timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool started, stop;
    wph_deadline *head;      /* sorted by at_ns */
    /* When the thread wakes by itself next (UINT64_MAX: only when
     * signalled). An arm signals only for a deadline before it, so calls
     * with the usual timeout cost no wake-up of the thread. */
    uint64_t wake_ns;
    uint64_t arms, arms_seen; /* arms so far; as of the last idle tick */
} wph_timer;

WPH_INTERNAL wasmplug_status wph_timer_init(wph_timer *t);
WPH_INTERNAL void wph_timer_destroy(wph_timer *t);
WPH_INTERNAL wasmplug_status wph_timer_arm(wph_timer *t, wph_deadline *d, uint32_t timeout_ms);
WPH_INTERNAL void wph_timer_disarm(wph_timer *t, wph_deadline *d);
WPH_INTERNAL void wph_limits_defaults(wasmplug_plugin_limits *l);
/* Fields of over that are non-zero replace those of l. */
WPH_INTERNAL void wph_limits_override(wasmplug_plugin_limits *l, const wasmplug_plugin_limits *over);
/* Fields of cap that are non-zero lower those of l. */
WPH_INTERNAL void wph_limits_cap(wasmplug_plugin_limits *l, const wasmplug_plugin_limits *cap);

/* ---- host functions (hostfn.c) ---- */
typedef struct wph_hostfn {
    struct wph_hostfn *next;
    wasmplug_host *host;
    char *module, *name, *full;  /* full = "module.name" */
    bool bytes;
    uint32_t nsig;               /* letters in params */
    char sig[WPH_SIG_PARAMS];
    uint32_t nresults;
    char res[WPH_SIG_RESULTS];
    wasmplug_typed_fn typed;
    wasmplug_bytes_fn bytesfn;
    void *user;
    void (*finalizer)(void *user);
    wasmplug_func *func;         /* engine host function shared by all instances */
    /* Service imports (module "wasmplug", services.c): */
    bool service;
    unsigned service_id;
    char *grant;                 /* permission or pattern a plugin needs */
} wph_hostfn;

WPH_INTERNAL void wph_hostfns_free(wasmplug_host *host);
/* Fail the running call from a host function with a host code (returns 1). */
WPH_INTERNAL int wph_trap(wasmplug_caller *caller, wph_slot *s, wasmplug_status code,
                          wasmplug_trap trap, const char *fn, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;
WPH_INTERNAL wph_slot *wph_caller_slot(wasmplug_caller *caller);
WPH_INTERNAL wph_hostfn *wph_hostfn_find(wasmplug_host *host, const char *module,
                                         size_t module_len, const char *name,
                                         size_t name_len);

/* ---- the ABI module "wasmplug" (abi.c) ---- */
enum {
    WPH_ABI_INPUT_LEN,
    WPH_ABI_INPUT_READ,
    WPH_ABI_OUTPUT_WRITE,
    WPH_ABI_ERROR_SET,
    WPH_ABI_LOG,
    WPH_ABI_CONFIG_GET,
    WPH_ABI_RESULT_READ,
    WPH_ABI_ABI_VERSION,
    WPH_ABI_COUNT
};
WPH_INTERNAL wasmplug_status wph_abi_create(wasmplug_host *host);
WPH_INTERNAL void wph_abi_free(wasmplug_host *host);
/* The ABI function called name, or -1. */
WPH_INTERNAL int wph_abi_lookup(const char *name, size_t len);
WPH_INTERNAL const char *wph_abi_name(int i);

/* ---- services (services.c) ---- */
typedef struct wph_service {
    char *name;
    wasmplug_service_def def;
} wph_service;
/* Run every service's call_begin for the slot's call (in wph_exec_begin). */
WPH_INTERNAL void wph_services_begin(wph_slot *s);
/* Run call_end with the call's status; returns the final status (a failing
 * call_end fails a successful call, filling e). */
WPH_INTERNAL wasmplug_status wph_services_end(wph_slot *s, wasmplug_status st,
                                              wasmplug_plugin_error *e, wasmplug_phase phase,
                                              const char *function);
WPH_INTERNAL void wph_services_plugin_free(wasmplug_plugin *p);
WPH_INTERNAL void wph_services_free(wasmplug_host *host);
/* Register an import of module "wasmplug" (hostfn.c). */
WPH_INTERNAL wasmplug_status wph_register_service_fn(wasmplug_host *host, unsigned service,
                                                     const char *name, const char *signature,
                                                     const char *grant, wasmplug_typed_fn fn,
                                                     void *user);

/* ---- host ---- */
typedef struct wph_rule {
    char *plugin_pat;
    char *perm_pat;
} wph_rule;

struct wasmplug_host {
    wasmplug_engine *engine;
    bool own_engine;
    wasmplug_plugin_limits limits;
    wasmplug_deny_mode deny_mode;
    uint32_t history_cap;
    wasmplug_state_fn on_state;
    wasmplug_error_fn on_error;
    wasmplug_log_fn on_log;
    void *cb_user;

    pthread_mutex_t lock;
    atomic_uint active_calls;     /* calls in progress (host_free waits for 0) */
    wasmplug_plugin **buckets;    /* name hash -> chain via hnext */
    size_t nbuckets, count;       /* count: visible plugins */
    size_t entries;               /* plugins in the table (reserved names too) */
    wasmplug_plugin *first, *last; /* load order */
    wph_hostfn *hostfns, *hostfns_last;
    wph_rule *rules;
    size_t nrules, caprules;
    wph_ring errors;

    wasmplug_func *abi[WPH_ABI_COUNT];
    wph_timer timer;

    wph_service services[WASMPLUG_SERVICES_MAX];
    unsigned nservices;           /* fixed once a plugin was loaded */
    bool loaded_any;              /* under lock: a plugin load started */

    struct wph_async_pool *async; /* async.c: started by the first async call (lock) */
    uint32_t async_workers;       /* 0: the default (lock) */
    bool async_closed;            /* the host is being freed (lock) */
    wasmplug_lifecycle lifecycle; /* lifecycle.c (lock) */
    wasmplug_watcher *watcher;    /* watch.c: plugin files watched (created under lock) */
    struct wph_pwatch *watches;   /* watch.c (lock) */
};

/* ---- plugins ---- */
typedef struct wph_slot {
    wasmplug_plugin *plugin;
    wasmplug_instance *inst;
    uint32_t index;
    bool busy;
    /* Per-call state, owned by the thread running the call: */
    const char *func;
    const uint8_t *in;
    size_t in_len;
    uint8_t *out;
    size_t out_len, out_cap;
    uint8_t *result;              /* last bytes host-function result */
    size_t result_len, result_cap;
    bool err_set;                 /* wasmplug.error_set was called */
    char errmsg[WASMPLUG_ERROR_MESSAGE_MAX];
    wasmplug_status pending;      /* set by host functions before they trap */
    char pending_msg[WASMPLUG_ERROR_MESSAGE_MAX];
    char pending_fn[WASMPLUG_NAME_MAX];
    uint64_t host_calls;
    uint64_t denials;
    uint64_t grows_refused_before; /* the instance's refused memory.grow count at call start */
    atomic_int interrupted;       /* WPH_INT_* bits sent during this call */
    wph_deadline deadline;
    const wasmplug_call_limits *request; /* the caller's per-call limits, or NULL */
    uint32_t timeout_ms;          /* this call's limits: the plugin's, lowered by */
    uint64_t fuel;                /* request (wph_exec_begin) */
    struct wph_slot *outer;       /* the thread's enclosing call (re-entrancy check) */
    wasmplug_wasi_ctx *wasi;      /* WASI context of this slot's instance, or NULL */
    bool svc_begun;               /* services' call_begin ran for this call */
    struct wph_words *describe;   /* bindgen.c: where __wbindgen_describe writes, or NULL */
    void *svc_call[WASMPLUG_SERVICES_MAX]; /* per-call service state */
} wph_slot;

struct wasmplug_plugin {
    atomic_uint refs;
    wasmplug_host *host;
    char *name;
    char id[WASMPLUG_NAME_MAX];
    char version[WASMPLUG_NAME_MAX];
    wasmplug_module *module;
    wasmplug_tiering tiering;     /* resolved policy (tier.c): never DEFAULT */
    char tier_note[WASMPLUG_ERROR_MESSAGE_MAX]; /* why the interpreter runs it, if a reason */
    wasmplug_abi abi;
    wasmplug_extern *imports;
    uint32_t nimports;
    wasmplug_func **owned;        /* stubs linked for this plugin */
    size_t nowned;
    char **requested;             /* manifest permissions (owned strings) */
    size_t nrequested;
    uint32_t *func_exports;       /* module export indices of functions */
    uint32_t nfunc_exports;
    wph_kvs metadata;
    wph_kvs config;
    char *config_json;
    size_t config_json_len;
    wasmplug_plugin_limits limits;
    bool keep_on_trap;
    void *user_data;
    uint32_t pool_size;
    wph_slot *slots;

    pthread_mutex_t lock;
    pthread_cond_t cond;          /* slot freed / state changed */
    wasmplug_plugin_state state;
    bool closing;                 /* dispose or kill in progress: no new calls */
    atomic_bool killed;           /* also read without the lock (a cancelled call says why) */
    uint32_t running;
    wasmplug_metrics metrics;
    uint64_t latency_hist[WASMPLUG_LATENCY_BUCKETS]; /* of metrics.calls */
    wph_ring errors;
    uint8_t *embedded;            /* compat plugin_get_manifest bytes */
    size_t embedded_len;
    bool has_embedded;

    /* Lifecycle exports found at load (types checked). */
    bool hook_initialize;         /* _initialize () -> () */
    bool hook_init, hook_dispose; /* wasmplug_init / wasmplug_dispose () -> i32 */
    bool hook_pinit, hook_pdispose; /* plugin_initialize / plugin_dispose () -> i32 */
    bool hook_pmanifest;          /* plugin_get_manifest () -> i64 */
    bool hook_bg_init, hook_bg_cleanup; /* wasm-bindgen init / cleanup () -> () */
    struct wph_bindgen *bindgen;  /* bindgen.c: described signatures (set once, under lock) */

    /* An imported memory (permissions.c): a new one per instance. */
    bool has_memory_import;
    uint32_t memory_import;       /* its import index */
    wasmplug_limits memory_type;  /* the import's limits */
    uint32_t imported_memory_pages; /* initial pages asked for (0 = the default) */

    struct wph_wasi *wasi;        /* WASI configuration (permissions.c), or NULL */
    wph_kvs settings;             /* manifest settings for services (immutable) */
    void *svc_state[WASMPLUG_SERVICES_MAX]; /* per-plugin service state (lock) */

    wasmplug_plugin *hnext, *prev, *next; /* registry links (host->lock) */
    bool registered;
    /* host->lock: found by name, listed and counted. Set once the plugin is
     * built (module, imports and exports in place), so no other thread can
     * reach a half-built handle; its name is reserved from the start. */
    bool visible;

    /* Hot reload (reload.c). A handle (what the host registers and the
     * embedder holds) is also the first version of its plugin; a reload
     * adds a version: a plugin object with front set, never registered,
     * whose errors, metrics and service state belong to the handle. Under
     * the handle's lock: current, previous, reloading, reload_info, and of
     * every version (the handle included) pins, retired, reaped and the
     * health-gate counters. */
    wasmplug_plugin *front;       /* versions: their handle (immutable); NULL for handles */
    wasmplug_plugin *current;     /* handles: the version new calls go to (p itself at first) */
    wasmplug_plugin *previous;    /* handles: the version kept while a health gate runs */
    bool reloading;
    wasmplug_reload_info reload_info;
    uint32_t pins;                /* calls dispatched to this version, not finished */
    bool retired, reaped;         /* replaced; disposed (or being disposed) */
    uint32_t gate_left, gate_calls, gate_failed, gate_max_percent;
    /* Handles: the id and version of the current version, for
     * wasmplug_plugin_id/_version (strings valid while the handle is:
     * every pair served is kept in idents until the handle is freed; ident
     * NULL: the handle's own), and the versions whose export names were
     * handed out by wasmplug_plugin_export_at (kept alive likewise). */
    struct wph_ident *idents;
    _Atomic(struct wph_ident *) ident;
    /* Handles: setting values served from a later version
     * (wasmplug_plugin_setting), one copy each, kept until the handle is
     * freed. */
    struct wph_kept_string *kept_strings;
    wasmplug_plugin **kept;
    size_t nkept, capkept;

    /* Error boundary (lifecycle.c, under lock). */
    bool has_fallback;
    uint8_t *fallback;
    size_t fallback_len;
    wasmplug_fallback_fn fallback_fn;
    void *fallback_user;
    bool disposing_notified;      /* before_dispose ran */

    /* Lazy loading (plugin.c): registered, built on first use. lazy is a
     * WPH_LAZY_* (under lock); the source is taken by the one builder. */
    int lazy;
    struct wph_lazy *lazy_src;
    wasmplug_plugin_error *lazy_err; /* the build's error when FAILED */

    /* Dependencies (deps.c): the manifest's, of this version; each target
     * (a handle, referenced) is set under host->lock when resolved. */
    struct wph_dep *deps;
    size_t ndeps;
};

/* One dependency of a plugin version. */
typedef struct wph_dep {
    char *id;
    char *range;
    wasmplug_plugin *target;
} wph_dep;

enum { WPH_LAZY_NONE = 0, WPH_LAZY_PENDING, WPH_LAZY_BUILDING, WPH_LAZY_FAILED };

/* host.c */
WPH_INTERNAL void wph_registry_remove(wasmplug_host *host, wasmplug_plugin *p);
/* Record an error: plugin and host rings, metrics, error callback. Takes
 * the locks itself (call with none held). p may be NULL. */
WPH_INTERNAL void wph_record(wasmplug_host *host, wasmplug_plugin *p,
                             const wasmplug_plugin_error *e);
WPH_INTERNAL void wph_notify_state(wasmplug_plugin *p, wasmplug_plugin_state old_state,
                                   wasmplug_plugin_state new_state);

/* permissions.c: link every import of p->module into p->imports. */
WPH_INTERNAL wasmplug_status wph_link_imports(wasmplug_plugin *p, wasmplug_plugin_error *err);
WPH_INTERNAL bool wph_glob(const char *pat, const char *s, size_t slen);

/* permissions.c: WASI per plugin. prepare copies load options' config
 * filtered by permissions (at load); slot_ctx gives a slot a fresh context
 * for a new instance; begin/end clear and collect captured output around a
 * call; free releases everything. All no-ops when WASI is not enabled. */
WPH_INTERNAL wasmplug_status wph_wasi_prepare(wasmplug_plugin *p, const wasmplug_wasi_config *cfg,
                                              wasmplug_plugin_error *err);
WPH_INTERNAL wasmplug_status wph_wasi_slot_ctx(wph_slot *s, wasmplug_plugin_error *err);
WPH_INTERNAL void wph_wasi_begin(wph_slot *s);
WPH_INTERNAL void wph_wasi_end(wph_slot *s);
WPH_INTERNAL void wph_wasi_free(wasmplug_plugin *p);

/* plugin.c */
WPH_INTERNAL void wph_plugin_kill(wasmplug_plugin *p);
/* The whole file at path (malloc'd), or false. */
WPH_INTERNAL bool wph_read_file(const char *path, uint8_t **data, size_t *len);
/* Load a plugin; with front set, a new version of that handle (initialized,
 * not registered, released again if it fails). */
WPH_INTERNAL wasmplug_status wph_load(wasmplug_host *h, const char *name, const uint8_t *wasm,
                                      size_t size, const wasmplug_load_options *opts,
                                      wasmplug_plugin *front, wasmplug_plugin **out,
                                      wasmplug_plugin_error *err);
/* Build a lazily registered handle if it still needs it (waiting for
 * another thread building it): WASMPLUG_OK, or its build error in e. */
WPH_INTERNAL wasmplug_status wph_lazy_build(wasmplug_plugin *p, wasmplug_plugin_error *e);
/* Run the dispose hook in every instance of p and drop them (p's calls
 * must be over and none may start). First failure in e. */
WPH_INTERNAL wasmplug_status wph_dispose_instances(wasmplug_plugin *p, wasmplug_plugin_error *e);
/* A bytes call on one version (no dispatch). */
WPH_INTERNAL wasmplug_status wph_version_call(wasmplug_plugin *v, const char *func,
                                              const uint8_t *in, size_t in_len, wasmplug_buf *out,
                                              wasmplug_plugin_error *err);

/* reload.c: dispatch of calls to the current version. pin returns the
 * version a call on p runs on (referenced); unpin ends it, counting the
 * call for a health gate and disposing a replaced version after its last
 * call. */
WPH_INTERNAL wasmplug_plugin *wph_version_pin(wasmplug_plugin *p);
WPH_INTERNAL void wph_version_unpin(wasmplug_plugin *p, wasmplug_plugin *v, bool call,
                                    bool failed);
/* Under the handle's lock: make v the version new calls of h go to. */
WPH_INTERNAL void wph_set_current(wasmplug_plugin *h, wasmplug_plugin *v);
/* Free what a handle kept for its accessors (idents, kept versions). */
WPH_INTERNAL void wph_handle_views_free(wasmplug_plugin *h);
/* Under the handle's lock: keep version v alive as long as handle h. */
WPH_INTERNAL void wph_keep_version(wasmplug_plugin *h, wasmplug_plugin *v);
/* Under the handle's lock: a copy of s that lives as long as handle h (one
 * per distinct text), or NULL when out of memory. */
WPH_INTERNAL const char *wph_keep_string(wasmplug_plugin *h, const char *s);
/* Detach every version but p itself and dispose (or kill) them: p is being
 * disposed or killed. */
WPH_INTERNAL void wph_versions_drop(wasmplug_plugin *p, bool kill);
/* async.c: the slot an async call runs on (from start_call/stop_call), and
 * the shutdown of the pool (wasmplug_host_free: queued calls complete as
 * cancelled, plugins are killed, workers joined). */
WPH_INTERNAL void wph_async_started(wph_slot *s);
WPH_INTERNAL void wph_async_stopped(wph_slot *s);
WPH_INTERNAL void wph_async_shutdown(wasmplug_host *h);

/* deps.c: copy the manifest's dependencies into p (at plugin_new); resolve
 * them against the host (a load, a lazy registration, a reload: errors
 * ERR_DEPENDENCY_*); build the lazy ones (before p's own build); list the
 * live plugins that depend on handle p (ERR_IN_USE with their names in e;
 * WASMPLUG_OK if none); free them. */
WPH_INTERNAL wasmplug_status wph_deps_copy(wasmplug_plugin *p, const wasmplug_manifest *m);
WPH_INTERNAL wasmplug_status wph_deps_resolve(wasmplug_plugin *p, wasmplug_plugin_error *e);
WPH_INTERNAL wasmplug_status wph_deps_build(wasmplug_plugin *p, wasmplug_plugin_error *e);
WPH_INTERNAL wasmplug_status wph_dependents(wasmplug_plugin *p, wasmplug_phase phase,
                                            wasmplug_plugin_error *e);
WPH_INTERNAL wasmplug_status wph_dependents_locked(wasmplug_plugin *p, wasmplug_phase phase,
                                                   wasmplug_plugin_error *e); /* host->lock held */
WPH_INTERNAL void wph_deps_free(wasmplug_plugin *p);
/* Whether new version nv of handle h still satisfies every live plugin
 * depending on h (ERR_DEPENDENCY_VERSION naming the first that it would
 * not). */
WPH_INTERNAL wasmplug_status wph_deps_accept(wasmplug_plugin *h, wasmplug_plugin *nv,
                                             wasmplug_plugin_error *e);

/* watch.c: stop the host's watcher and drop its plugin watches. */
WPH_INTERNAL void wph_watches_free(wasmplug_host *h);

/* lifecycle.c: run a lifecycle hook for a handle (versions have none). */
enum { WPH_HOOK_LOAD, WPH_HOOK_READY, WPH_HOOK_DISPOSE };
WPH_INTERNAL void wph_lifecycle(wasmplug_plugin *p, int which);

/* tier.c: apply the load's tiering policy to the plugin's module (compile
 * now, or start a background compile); a compile that fails leaves the
 * interpreter and a note, never a failed load. */
WPH_INTERNAL void wph_tier_load(wasmplug_plugin *p, wasmplug_tiering policy);
/* tier.c: a new instance of the plugin follows the policy. */
WPH_INTERNAL void wph_tier_instance(const wasmplug_plugin *p, wasmplug_instance *inst);
/* The error boundary of a failed bytes call on handle p: WASMPLUG_OK with
 * *out when the fallback answered it (counted), else st. */
WPH_INTERNAL wasmplug_status wph_fallback(wasmplug_plugin *p, wasmplug_status st,
                                          const char *func, const uint8_t *in, size_t in_len,
                                          wasmplug_buf *out, wasmplug_plugin_error *err);

/* The plugin whose errors, metrics and service state p's are. */
static inline wasmplug_plugin *wph_handle(wasmplug_plugin *p)
{
    return p->front ? p->front : p;
}

/* exec (limits.c): run wasm on a slot's instance with the plugin's limits. */
WPH_INTERNAL void wph_exec_begin(wph_slot *s);
WPH_INTERNAL void wph_exec_end(wph_slot *s);
/* errors.c: turn an engine status/error of a call on s into err. */
WPH_INTERNAL wasmplug_status wph_classify(wph_slot *s, wasmplug_status st,
                                          const wasmplug_error *e, wasmplug_phase phase,
                                          const char *function, wasmplug_plugin_error *err);

/* permissions.c: a host function owned by p (freed with it); info is
 * freed with free() when the function is. */
WPH_INTERNAL wasmplug_status wph_own_func(wasmplug_plugin *p, const wasmplug_functype *type,
                                          wasmplug_host_fn fn, void *info, wasmplug_func **out);

/* plugin.c: run a call on the current version of handle p: the slot's
 * instance is ready, limits, services and metrics apply as for a typed
 * call; run does the work with the export f called func. */
typedef wasmplug_status (*wph_run_fn)(wph_slot *s, wasmplug_func *f, void *ctx,
                                      wasmplug_plugin_error *e);
WPH_INTERNAL wasmplug_status wph_plugin_run(wasmplug_plugin *p, const char *func, wph_run_fn run,
                                            void *ctx, wasmplug_plugin_error *err);
/* abi.c: an i32 value. */
WPH_INTERNAL wasmplug_val wph_val_i32(uint32_t v);
/* abi.c: call f on s's instance, classifying a failure as a call of name. */
WPH_INTERNAL wasmplug_status wph_run_func(wph_slot *s, wasmplug_func *f, const char *name,
                                          const wasmplug_val *args, size_t nargs,
                                          wasmplug_val *res, size_t nres,
                                          wasmplug_plugin_error *err);

/* bindgen.c: wasm-bindgen modules. module: whether an import module is one
 * of wasm-bindgen's; link: link such an import; setup: read the
 * descriptors (once per plugin) and run init in a new instance; free:
 * p's descriptors. */
WPH_INTERNAL bool wph_bindgen_module(const char *mod, size_t len);
WPH_INTERNAL wasmplug_status wph_bindgen_link(wasmplug_plugin *p, const char *name,
                                              size_t namelen, const char *full,
                                              const wasmplug_functype *type,
                                              wasmplug_extern *slot, wasmplug_plugin_error *err);
WPH_INTERNAL wasmplug_status wph_bindgen_setup(wph_slot *s, wasmplug_plugin_error *e);
WPH_INTERNAL void wph_bindgen_free(wasmplug_plugin *p);

/* command.c: call initialize or handle_command (f, called fname) of a
 * command plugin with len bytes of in, through its alloc/dealloc; a
 * non-zero status is ERR_PLUGIN (errors in err, with phase). */
WPH_INTERNAL wasmplug_status wph_command_call(wph_slot *s, wasmplug_func *f, const char *fname,
                                              const uint8_t *in, size_t len,
                                              wasmplug_phase phase, wasmplug_plugin_error *err);

/* abi.c: compat-ABI bytes call, and reading plugin_get_manifest. */
WPH_INTERNAL wasmplug_status wph_compat_call(wph_slot *s, wasmplug_func *f, const char *fname,
                                             wasmplug_plugin_error *err);
WPH_INTERNAL wasmplug_status wph_compat_manifest(wph_slot *s, wasmplug_plugin_error *err);
/* Append to a slot's output (respecting max_output_bytes). */
WPH_INTERNAL wasmplug_status wph_buf_append(uint8_t **buf, size_t *len, size_t *cap,
                                            const void *data, size_t n, size_t max);
/* Check [addr, addr+len) against the instance's memory: its host address or NULL. */
WPH_INTERNAL uint8_t *wph_mem_range(wasmplug_instance *inst, uint32_t addr, uint32_t len);
/* Whether f has exactly the type given in signature letters (i I f F). */
WPH_INTERNAL bool wph_type_is(const wasmplug_func *f, const char *params, const char *results);
/* Whether t is exactly that type. */
WPH_INTERNAL bool wph_sig_is(const wasmplug_functype *t, const char *params, const char *results);
/* Whether m exports name: false if not; *is_func, and *t when it is a function. */
WPH_INTERNAL bool wph_export_type(const wasmplug_module *m, const char *name,
                                  wasmplug_functype *t, bool *is_func);
/* Whether m exports the command ABI's initialize, handle_command and
 * shutdown with their types (docs/ABI.md "Command plugins"). */
WPH_INTERNAL bool wph_command_exports(const wasmplug_module *m);

/* metrics.c: what one call adds to the metrics (gathered before its
 * instance may be discarded). */
typedef struct wph_call_stats {
    uint64_t ns;
    uint64_t fuel;
    uint64_t host_calls;
    uint64_t denials;
    uint64_t bytes_in, bytes_out;
    uint32_t pages;
    bool has_pages;
    bool failed, trapped;
} wph_call_stats;
/* Call with p->lock held. */
WPH_INTERNAL void wph_metrics_add(wasmplug_plugin *p, const wph_call_stats *cs);
/* Reserve p's name (ERR_DUPLICATE if taken); the registry takes a
 * reference. p stays invisible until wph_registry_publish. */
WPH_INTERNAL wasmplug_status wph_registry_add(wasmplug_host *h, wasmplug_plugin *p);
WPH_INTERNAL void wph_registry_publish(wasmplug_host *h, wasmplug_plugin *p);

#endif
