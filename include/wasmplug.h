/*
 * wasmplug.h - the plugin host API: load, initialize, call, limit and
 * dispose sandboxed WebAssembly plugins from C.
 *
 * Built on the engine API in <wasmplug/engine.h> (included here). A typical
 * host:
 *
 *     wasmplug_host *host;
 *     wasmplug_host_new(NULL, &host);
 *     wasmplug_host_register(host, "env", "add", "(ii)i", my_add, NULL, NULL);
 *     wasmplug_host_grant(host, "*", "env.*");      // host policy
 *
 *     wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
 *     opt.init = true;                               // load, then init
 *     opt.manifest = WASMPLUG_PERMISSIONS("env.add"); // what the plugin asks for
 *     wasmplug_plugin *p;
 *     wasmplug_plugin_error err;
 *     char msg[1024];
 *     if (wasmplug_host_load_file(host, "words", "word-counter.wasm", &opt, &p, &err)) {
 *         wasmplug_plugin_error_format(&err, msg, sizeof msg);
 *         fprintf(stderr, "%s\n", msg);
 *         ...
 *     }
 *     wasmplug_buf out;
 *     const char *in = "{\"text\": \"a rose is a rose\"}";
 *     if (wasmplug_plugin_call(p, "count", (const uint8_t *)in, strlen(in), &out, &err) == 0)
 *         printf("%.*s\n", (int)out.len, (const char *)out.data);
 *     wasmplug_buf_free(&out);
 *     wasmplug_plugin_release(p);
 *     wasmplug_host_free(host);
 *
 * The README's minimal host is this as a complete program (built and run by
 * the test install.quickstarts).
 *
 * Permissions
 * -----------
 * A plugin may import a registered host function module.name only when its
 * manifest requests "module.name" (wasmplug_manifest.permissions) AND the
 * host policy grants it (wasmplug_host_grant); WASI directories and
 * environment variables likewise ("wasi.fs.read:/data", "wasi.env:HOME").
 * A plugin loaded without a manifest (opts.manifest == NULL, and no
 * embedded one) requests nothing, so it is granted nothing whatever the
 * policy: an import of a host function fails the load with
 * WASMPLUG_ERR_PERMISSION_DENIED ("... does not request permission
 * 'env.add' (it requests none ...)"), or links a stub that fails when
 * called under WASMPLUG_DENY_STUB, and WASI sees no directories and no
 * environment. To give such a plugin what it needs, request the permissions
 * in one line with WASMPLUG_PERMISSIONS (below) and allow them in the
 * policy.
 *
 * Objects and ownership
 * ---------------------
 *   wasmplug_host     owns an engine (or borrows the one in its config), a
 *                     registry of plugins by unique name, the registered host
 *                     functions, the permission policy and one timer thread
 *                     for call timeouts.
 *   wasmplug_plugin   one loaded plugin: its compiled module (compiled once,
 *                     shared by all its instances), manifest data, limits,
 *                     a pool of 1..N instances, metrics and error history.
 *                     Handles are reference counted: every function that
 *                     gives out a wasmplug_plugin* (wasmplug_host_load*,
 *                     wasmplug_host_get) adds a reference the caller drops
 *                     with wasmplug_plugin_release. A killed plugin's handle
 *                     stays valid (every call on it fails with
 *                     WASMPLUG_ERR_PLUGIN_STATE) until released.
 *   Strings and arrays passed in are copied unless a comment says otherwise.
 *   Memory handed out (wasmplug_buf, lists) is freed with wasmplug_buf_free
 *   or wasmplug_free.
 *
 * Lifecycle
 * ---------
 *   UNLOADED -> LOADING -> LOADED -> INITIALIZING -> READY -> DISPOSED
 *                  |                      |            ^
 *                  v                      v            |
 *                ERROR  <-----------------+--  (retry init from ERROR)
 *
 * Load decodes, validates and compiles the module and links its imports
 * (checking permissions); no plugin code runs. Init instantiates (running
 * the start section), then runs the optional exports _initialize (WASI
 * reactors) and wasmplug_init (ABI v1) or plugin_initialize (compatibility
 * ABI). Calls are accepted in READY only. Dispose runs wasmplug_dispose or
 * plugin_dispose in every live instance and moves to DISPOSED, which is
 * final (load the plugin again to use it). Kill removes a plugin from the
 * host at once, cancelling its running calls and running no plugin code.
 *
 * Threads
 * -------
 * Every function may be called from any thread. Calls into one instance are
 * serialized; a plugin loaded with pool_size N runs up to N calls in
 * parallel, each on its own instance. Callbacks (state, error, log, host
 * functions) run on the thread that caused them, never with a host lock
 * held, so they may call back into this API (but a host function must not
 * call the plugin that is calling it: that returns WASMPLUG_ERR_PLUGIN_STATE).
 *
 * Traps and instance state
 * ------------------------
 * After a call that traps or exceeds a limit, the instance it ran on is
 * discarded and the next call gets a fresh, freshly initialized instance,
 * so half-updated plugin state never leaks into later calls. Set
 * keep_instance_on_trap to keep it instead (an instance stopped by a
 * timeout or a cancel is always replaced).
 *
 * Errors
 * ------
 * Functions return wasmplug_status (WASMPLUG_OK = 0). The engine's codes
 * (<wasmplug/engine.h>) are extended below with host-level codes;
 * wasmplug_strerror describes any of them. Functions that can fail for a
 * plugin-related reason fill a wasmplug_plugin_error (may be NULL) naming
 * the plugin, the function, the phase, the trap kind and a wasm backtrace.
 * Every such failure is also added to the plugin's error history and
 * passed to the host's error callback.
 */
#ifndef WASMPLUG_H
#define WASMPLUG_H

#include <wasmplug/engine.h>
#include <wasmplug/wasi.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Status codes of the host layer                                           */
/* ------------------------------------------------------------------------ */


/* Status codes, wasmplug_strerror and wasmplug_status_name: see
 * <wasmplug/engine.h> (one table for the whole library). */

/* ------------------------------------------------------------------------ */
/* Basic types                                                              */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_host wasmplug_host;
typedef struct wasmplug_plugin wasmplug_plugin;
/** The context of one host-function call (see "Host functions"). */
typedef struct wasmplug_hostcall wasmplug_hostcall;

/** Longest plugin name, function name, id or version stored (bytes, incl. NUL). */
#define WASMPLUG_NAME_MAX 128

/** A byte buffer handed out by the library; free with wasmplug_buf_free. */
typedef struct wasmplug_buf {
    uint8_t *data; /* NUL-terminated for convenience (data[len] == 0); may be NULL if len == 0 */
    size_t len;
} wasmplug_buf;

/** Free a buffer's data and reset it to empty. NULL is fine. */
WASMPLUG_API void wasmplug_buf_free(wasmplug_buf *buf);
/** Free memory returned by this API (lists, metadata copies). NULL is fine. */
WASMPLUG_API void wasmplug_free(void *ptr);

/** A key/value string pair (metadata, config). */
typedef struct wasmplug_kv {
    const char *key;
    const char *value;
} wasmplug_kv;

/** Plugin lifecycle states. */
#define WASMPLUG_STATE_LIST(X)                                               \
    X(UNLOADED, "unloaded")                                                  \
    X(LOADING, "loading")                                                    \
    X(LOADED, "loaded")                                                      \
    X(INITIALIZING, "initializing")                                          \
    X(READY, "ready")                                                        \
    X(ERROR, "error")                                                        \
    X(DISPOSED, "disposed")

typedef enum wasmplug_plugin_state {
#define WASMPLUG_X_ENUM(name, msg) WASMPLUG_STATE_##name,
    WASMPLUG_STATE_LIST(WASMPLUG_X_ENUM)
#undef WASMPLUG_X_ENUM
    WASMPLUG_STATE_COUNT
} wasmplug_plugin_state;

/** "ready", "error", ... Never NULL. */
WASMPLUG_API const char *wasmplug_state_string(wasmplug_plugin_state state);

/** The plugin conventions a module follows, detected from its imports/exports. */
typedef enum wasmplug_abi {
    WASMPLUG_ABI_NONE = 0, /* plain exports only: typed calls */
    WASMPLUG_ABI_V1 = 1,   /* imports module "wasmplug" or exports wasmplug_init/dispose */
    WASMPLUG_ABI_COMPAT = 2, /* exports alloc, dealloc, plugin_handle_event, packed results */
    WASMPLUG_ABI_BINDGEN = 3, /* a Rust module built with wasm-bindgen (imports
                               * __wbindgen_placeholder__ or exports __wbindgen_malloc):
                               * init/cleanup hooks, wasmplug_plugin_bindgen_call */
    WASMPLUG_ABI_COMMAND = 4  /* exports initialize(ptr, len), handle_command(ptr, len),
                               * shutdown() (all -> u32 status) and alloc/dealloc:
                               * docs/ABI.md "Command plugins" */
} wasmplug_abi;

/**
 * The plugin ABI a module follows, as a load detects it (docs/ABI.md), for
 * tools that look at a module without loading it (wasmplug inspect): a
 * wasmplug_abi custom section, else the first import from module
 * "wasmplug" (V1) or from wasm-bindgen's modules (BINDGEN), else an export
 * __wbindgen_malloc (BINDGEN); the command ABI's initialize, handle_command
 * and shutdown with their types make it COMMAND; exports wasmplug_init or
 * wasmplug_dispose make it V1 whatever came before, else exports alloc,
 * dealloc and plugin_handle_event COMPAT. The other hooks' types are not
 * checked here (a load fails on a wrong one). NONE for NULL.
 */
WASMPLUG_API wasmplug_abi wasmplug_module_abi(const wasmplug_module *module);

/* The statuses of command plugins (WASMPLUG_ABI_COMMAND) the PDKs return;
 * any non-zero status is ERR_PLUGIN with plugin_code = the status. */
#define WASMPLUG_COMMAND_FAILED 1  /* the command (or initialize, shutdown) failed */
#define WASMPLUG_COMMAND_UNKNOWN 2 /* no such action */
#define WASMPLUG_COMMAND_INVALID 3 /* not a JSON object with an "action" string */

/** The ABI version this host implements (docs/ABI.md): major.minor. Minor
 *  versions only add imports (1.1: the service imports kv_*, db_*, notify,
 *  event_*, http_* when a service library provides them). */
#define WASMPLUG_ABI_VERSION 1
#define WASMPLUG_ABI_MINOR 1

/** The phase in which an error happened: the error hierarchy's top level. */
typedef enum wasmplug_phase {
    WASMPLUG_PHASE_NONE = 0,
    WASMPLUG_PHASE_LOAD,    /* decode/validate/link/permissions/manifest */
    WASMPLUG_PHASE_INIT,    /* instantiation, start, _initialize, wasmplug_init */
    WASMPLUG_PHASE_CALL,    /* a call: traps, limits, host functions, serialization */
    WASMPLUG_PHASE_DISPOSE  /* wasmplug_dispose / plugin_dispose */
} wasmplug_phase;

/** "load", "init", "call", "dispose" or "none". */
WASMPLUG_API const char *wasmplug_phase_string(wasmplug_phase phase);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * The one error type of the host API. Self-contained (no pointers), so it
 * can be copied and kept. Caller-allocated; functions taking a
 * wasmplug_plugin_error* accept NULL.
 *
 * code says what went wrong (WASMPLUG_ERR_TIMEOUT, ..._FUEL, ..._TRAP, ...);
 * phase says when; trap is the engine's trap kind when wasm code stopped
 * (TRAP_NONE otherwise); frames is the wasm backtrace at the trap, innermost
 * first, with names from the module's name section.
 */
typedef struct wasmplug_plugin_error {
    wasmplug_status code;
    wasmplug_phase phase;
    wasmplug_trap trap;
    char plugin[WASMPLUG_NAME_MAX];   /* plugin name, "" if none */
    char function[WASMPLUG_NAME_MAX]; /* export or host function involved, "" if none */
    char message[WASMPLUG_ERROR_MESSAGE_MAX]; /* specific, human-readable */
    uint64_t offset;        /* byte offset in the module for load errors, else UINT64_MAX */
    int32_t plugin_code;    /* non-zero return code of the plugin's function, or exit code */
    uint64_t timestamp_ms;  /* wall-clock time of the failure, ms since the Unix epoch */
    uint32_t frame_count;
    wasmplug_frame frames[WASMPLUG_ERROR_FRAMES_MAX];
} wasmplug_plugin_error;

/** Reset to "no error" (code WASMPLUG_OK). NULL is fine. */
WASMPLUG_API void wasmplug_plugin_error_clear(wasmplug_plugin_error *err);

/**
 * Write a one-paragraph description of err into buf (always NUL-terminated
 * when size > 0): "plugin 'p': call 'f': out of fuel: <message>" followed by
 * one line per backtrace frame. Returns the length the full text needs
 * (snprintf-style).
 */
WASMPLUG_API size_t wasmplug_plugin_error_format(const wasmplug_plugin_error *err, char *buf,
                                                 size_t size);

/* ------------------------------------------------------------------------ */
/* Limits and manifest                                                      */
/* ------------------------------------------------------------------------ */

#define WASMPLUG_NO_TIMEOUT UINT32_MAX

/**
 * Per-plugin resource limits. In the host config these are the defaults
 * (0 fields take the built-in defaults listed); in load options and in a
 * manifest's resources, 0 means "inherit". A manifest can only lower a
 * limit: the plugin gets min(host or load-option value, manifest value).
 */
typedef struct wasmplug_plugin_limits {
    uint32_t max_memory_pages;  /* 64 KiB pages per instance; default 1024 (64 MiB) */
    uint64_t fuel;              /* instructions per call; WASMPLUG_FUEL_UNLIMITED (default) */
    uint32_t timeout_ms;        /* wall clock per call; WASMPLUG_NO_TIMEOUT (default) */
    uint32_t max_call_depth;    /* nested wasm calls; default 10000 */
    uint32_t max_input_bytes;   /* default 64 MiB */
    uint32_t max_output_bytes;  /* default 64 MiB */
} wasmplug_plugin_limits;

/**
 * A plugin's manifest as a struct (parsing plugin.yaml is done elsewhere).
 * Every field is optional. Strings are copied at load.
 *
 * permissions lists what the plugin asks for. Host-function permissions are
 * "<module>.<name>" with "*" as a wildcard for a whole part ("env.*", "*").
 * The plugin gets the intersection of this list and the host policy
 * (wasmplug_host_grant). exports, if given, must all be exported functions
 * of the module (else the load fails with WASMPLUG_ERR_NOT_FOUND).
 */
typedef struct wasmplug_manifest {
    const char *id;
    const char *version;        /* semver 2.0 ("1.2.3", "1.0.0-rc.1+b5") */
    const char *name;
    const char *description;
    const wasmplug_kv *metadata;
    size_t metadata_count;
    const char *const *permissions;
    size_t permission_count;
    const char *const *exports;
    size_t export_count;
    const wasmplug_kv *config;  /* default config values (load options override) */
    size_t config_count;
    wasmplug_plugin_limits resources;
    /* Settings for service libraries ("kv.max_bytes" = "1048576", ...): read
     * with wasmplug_plugin_setting; the core host only stores them. */
    const wasmplug_kv *settings;
    size_t setting_count;
    /* Plugins this one needs: key = a manifest id, value = a version range
     * of it ("^1.2", see Semantic versions; "" or "*": any). See
     * "Dependencies" below. */
    const wasmplug_kv *dependencies;
    size_t dependency_count;
} wasmplug_manifest;

/**
 * A manifest that requests only the permissions given, for a plugin that has
 * none of its own:
 *
 *     wasmplug_host_grant(host, "words", "env.*");             // policy
 *     opt.manifest = WASMPLUG_PERMISSIONS("env.add", "env.log"); // request
 *
 * It points to a compound literal of block scope: use it in the block that
 * calls wasmplug_host_load*, which copies what it needs. C only (C99 and
 * later compound literals).
 */
#define WASMPLUG_PERMISSIONS(...)                                                          \
    (&(const wasmplug_manifest){                                                           \
        .permissions = (const char *const[]){__VA_ARGS__},                                 \
        .permission_count =                                                                \
            sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)})

/* ------------------------------------------------------------------------ */
/* Semantic versions                                                        */
/* ------------------------------------------------------------------------ */

/** Check that s is a semantic version (semver.org 2.0). */
WASMPLUG_API bool wasmplug_semver_valid(const char *s);

/** Compare two semantic versions by semver precedence (<0, 0, >0). */
WASMPLUG_API int wasmplug_semver_compare(const char *a, const char *b);

/*
 * Version ranges, as npm and Cargo write them (plugin dependencies, install
 * specs). A range is one or more alternatives separated by "||"; an
 * alternative is one or more comparators separated by spaces, all of which
 * must hold:
 *
 *   1.2.3  =1.2.3        exactly 1.2.3
 *   >1.2.3 >=1.2 <2 <=2.1  comparisons (missing parts are wildcards:
 *                        >1.2 means >=1.3.0, <=2.1 means <2.2.0)
 *   ^1.2.3               >=1.2.3 <2.0.0 (^0.2.3: <0.3.0; ^0.0.3: <0.0.4)
 *   ~1.2.3               >=1.2.3 <1.3.0 (~1: <2.0.0)
 *   1.x  1.2.x  1  1.2   x, X or * for any number in that place
 *   *  x  (or empty)     any version
 *
 * Pre-release versions (1.3.0-beta.1) match only a comparator that names a
 * pre-release of the same major.minor.patch, so "^1.2" never picks a
 * beta. Precedence is wasmplug_semver_compare's.
 */

/** Check a range's syntax: WASMPLUG_ERR_ARGUMENT with the offending part in msg. */
WASMPLUG_API wasmplug_status wasmplug_semver_range_check(const char *range, char *msg,
                                                        size_t msgsize);

/** Whether version (a valid semantic version) satisfies range (false if either is invalid). */
WASMPLUG_API bool wasmplug_semver_satisfies(const char *version, const char *range);

/* ------------------------------------------------------------------------ */
/* Host                                                                     */
/* ------------------------------------------------------------------------ */

/** What a load does with an import of a registered host function that the
 *  plugin is not granted. */
typedef enum wasmplug_deny_mode {
    WASMPLUG_DENY_FAIL_LOAD = 0, /* the load fails with ERR_PERMISSION_DENIED (default) */
    WASMPLUG_DENY_STUB           /* link a stub; calling it fails the call with
                                    ERR_PERMISSION_DENIED */
} wasmplug_deny_mode;

/** Called after every state change, on the thread that caused it. */
typedef void (*wasmplug_state_fn)(void *user, wasmplug_plugin *plugin, const char *name,
                                  wasmplug_plugin_state old_state,
                                  wasmplug_plugin_state new_state);
/** Called for every error recorded (load, init, call, dispose, denial). */
typedef void (*wasmplug_error_fn)(void *user, const wasmplug_plugin_error *err);
/** Log levels of wasmplug.log. */
typedef enum wasmplug_log_level {
    WASMPLUG_LOG_TRACE = 0,
    WASMPLUG_LOG_DEBUG,
    WASMPLUG_LOG_INFO,
    WASMPLUG_LOG_WARN,
    WASMPLUG_LOG_ERROR
} wasmplug_log_level;
/** Receives plugin log lines (msg is not NUL-terminated). */
typedef void (*wasmplug_log_fn)(void *user, wasmplug_plugin *plugin, const char *name,
                                wasmplug_log_level level, const char *msg, size_t len);

typedef struct wasmplug_host_config {
    wasmplug_engine *engine;        /* NULL: the host creates and owns one */
    wasmplug_bounds_mode bounds;    /* for an engine the host creates */
    wasmplug_plugin_limits limits;  /* defaults for every plugin */
    wasmplug_deny_mode deny_mode;
    uint32_t error_history;         /* errors kept per plugin; 0 = 32 */
    wasmplug_state_fn on_state;
    wasmplug_error_fn on_error;
    wasmplug_log_fn on_log;
    void *callback_user;            /* passed to the three callbacks */
} wasmplug_host_config;

/** Create a host. cfg may be NULL for defaults. */
WASMPLUG_API wasmplug_status wasmplug_host_new(const wasmplug_host_config *cfg,
                                               wasmplug_host **out);
/**
 * Free a host: kills every plugin (running calls are cancelled and waited
 * for), stops the timer thread, runs host-function finalizers and frees the
 * engine if the host created it. Plugin handles still held by the caller
 * must be released before this call.
 */
WASMPLUG_API void wasmplug_host_free(wasmplug_host *host);
/** The engine the host runs plugins on. */
WASMPLUG_API wasmplug_engine *wasmplug_host_engine(wasmplug_host *host);

/** Whether text matches pattern, in which '*' matches any run of characters
 *  (also none) and everything else itself: the matching of grants and
 *  policies ("env.*", "trusted-*"). false for NULL. */
WASMPLUG_API bool wasmplug_glob(const char *pattern, const char *text);

/**
 * Host policy: allow plugins whose name matches plugin_pattern to be granted
 * permissions matching permission_pattern ("*" matches any text, e.g.
 * ("*", "env.*"), ("trusted-*", "*")). Rules accumulate; none exist at
 * first, so by default no host function can be imported. Affects later loads.
 */
WASMPLUG_API wasmplug_status wasmplug_host_grant(wasmplug_host *host,
                                                 const char *plugin_pattern,
                                                 const char *permission_pattern);

/* ------------------------------------------------------------------------ */
/* Host functions                                                           */
/* ------------------------------------------------------------------------ */

/**
 * Typed host functions
 * --------------------
 * The signature is compact: "(params)results", with
 *   i = i32, I = i64, f = f32, F = f64, V = v128 (SIMD vector),
 *   p = a pointer/length pair: two i32 wasm parameters (address, length)
 *       that the host checks against the plugin's memory before the
 *       callback runs (the call fails with ERR_OUT_OF_BOUNDS otherwise).
 * "(ii)i" takes two i32 and returns one; "(p)" takes a byte range; "()I".
 * At most 16 parameter letters and 8 results.
 *
 * The callback gets one wasmplug_hostarg per letter and writes one slot per
 * result, two for a V (bytes 0-7, then 8-15, in wasm byte order). Return 0 on success; a non-zero return fails the plugin's call
 * (a trap) with ERR_HOST_FUNCTION and the message set with
 * wasmplug_hostcall_error (or a generic one).
 */
typedef struct wasmplug_hostarg {
    char kind;           /* 'i', 'I', 'f', 'F', 'V' or 'p' */
    wasmplug_slot value; /* numeric kinds (V: bytes 0-7) */
    wasmplug_slot value_hi; /* V: bytes 8-15 of the vector */
    uint8_t *ptr;        /* 'p': host address of the range (valid during the call), */
    uint32_t len;        /*      its length, */
    uint32_t addr;       /*      and its address in the plugin's memory */
} wasmplug_hostarg;

typedef int (*wasmplug_typed_fn)(wasmplug_hostcall *call, void *user,
                                 const wasmplug_hostarg *args, wasmplug_slot *results);

/**
 * Bytes host functions
 * --------------------
 * Imported with the wasm type (i32 in_ptr, i32 in_len, i32 out_ptr,
 * i32 out_cap) -> i32. The host checks the input range, passes the bytes to
 * the callback and appends what the callback writes (wasmplug_hostcall_write)
 * to the result. The first out_cap bytes of the result are copied to
 * out_ptr; the import returns the full result length, and the plugin can
 * read the whole result with wasmplug.result_read (docs/ABI.md).
 *
 * Return 0 on success. A positive return N is a soft error: the import
 * returns -N to the plugin (its result bytes, e.g. a message, are still
 * readable). A negative return fails the plugin's call with
 * ERR_HOST_FUNCTION.
 */
typedef int (*wasmplug_bytes_fn)(wasmplug_hostcall *call, void *user, const uint8_t *in,
                                 size_t in_len);

/**
 * Register a typed host function under module.name. user is passed to fn;
 * finalizer (may be NULL) is called with user when the host is freed.
 * Returns ERR_ARGUMENT for a bad signature or name, ERR_DUPLICATE if
 * module.name exists. The module "wasmplug" is reserved. Registration
 * affects plugins loaded afterwards.
 */
WASMPLUG_API wasmplug_status wasmplug_host_register(wasmplug_host *host, const char *module,
                                                    const char *name, const char *signature,
                                                    wasmplug_typed_fn fn, void *user,
                                                    void (*finalizer)(void *user));
/** Register a bytes-in/bytes-out host function (see wasmplug_bytes_fn). */
WASMPLUG_API wasmplug_status wasmplug_host_register_bytes(wasmplug_host *host,
                                                          const char *module, const char *name,
                                                          wasmplug_bytes_fn fn, void *user,
                                                          void (*finalizer)(void *user));
/** Whether module.name is registered. */
WASMPLUG_API bool wasmplug_host_has_function(wasmplug_host *host, const char *module,
                                             const char *name);

/** The calling plugin (borrowed; valid during the callback). */
WASMPLUG_API wasmplug_plugin *wasmplug_hostcall_plugin(wasmplug_hostcall *call);
/** The calling plugin's name (valid during the callback). */
WASMPLUG_API const char *wasmplug_hostcall_plugin_name(wasmplug_hostcall *call);
/** The calling plugin's manifest id ("" if none). */
WASMPLUG_API const char *wasmplug_hostcall_plugin_id(wasmplug_hostcall *call);
/** The user_data given in the calling plugin's load options. */
WASMPLUG_API void *wasmplug_hostcall_user_data(wasmplug_hostcall *call);
/** "module.name" of the host function being called. */
WASMPLUG_API const char *wasmplug_hostcall_function(wasmplug_hostcall *call);
/**
 * The calling instance's linear memory (base, size in *size), or NULL if it
 * has none. Valid until the plugin's memory grows (not during the callback).
 * Use it for ranges the signature could not describe, checking bounds.
 */
WASMPLUG_API uint8_t *wasmplug_hostcall_memory(wasmplug_hostcall *call, size_t *size);
/** Set the message of the failure the callback is about to return. */
WASMPLUG_API void wasmplug_hostcall_error(wasmplug_hostcall *call, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Bytes functions: append to the result. ERR_NOMEM, or ERR_OUTPUT_TOO_LARGE
 *  past the plugin's max_output_bytes. */
WASMPLUG_API wasmplug_status wasmplug_hostcall_write(wasmplug_hostcall *call,
                                                     const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Service libraries                                                        */
/* ------------------------------------------------------------------------ */

/**
 * Host services (key-value storage, SQL, notifications, events, HTTP) live
 * in libwasmplug_services (<wasmplug/services.h>); this section is the
 * contract between such a library and the core host, usable by any
 * embedder that writes its own service.
 *
 * A service is added to a host (wasmplug_host_add_service, before the
 * first plugin is loaded) and gets a small id. It then registers its
 * imports in the reserved module "wasmplug" (wasmplug_host_register_service_fn),
 * each with the grant a plugin needs to import it: "kv", "db", "notify",
 * or a pattern such as "events.publish:*" (any granted permission
 * matching the pattern will do; the service checks the exact permission
 * at run time with wasmplug_plugin_granted). Grants are permissions like
 * host functions': requested by the plugin's manifest (permissions) and
 * allowed by the host policy (wasmplug_host_grant). A plugin importing a
 * service function without its grant fails its load with
 * ERR_PERMISSION_DENIED naming the import and the grant (or links a stub
 * that fails the call, with WASMPLUG_DENY_STUB); an import that no
 * attached service provides fails with ERR_LINK.
 *
 * Per-call hooks: call_begin runs before plugin code of every call (bytes
 * and typed calls, init, dispose) on the thread of the call; call_end runs
 * after it with the call's final status (a trap, limit, cancel, failing
 * return code or output overflow is a failure), so a service can commit
 * or roll back what the call did. A call's state (one pointer per service
 * and call, NULL at the start) is reached from the service's imports with
 * wasmplug_hostcall_call_state; call_end receives it and it is reset to
 * NULL afterwards. A failing call_end (e.g. a commit that fails) turns a
 * successful call into a failed one with its status and message.
 *
 * Per-plugin state (one pointer per service and plugin) is kept with
 * wasmplug_plugin_service_state[_set]; plugin_free releases it when the
 * plugin is freed. finalizer runs when the host is freed, after its
 * plugins.
 */
#define WASMPLUG_SERVICES_MAX 16

typedef struct wasmplug_service_def {
    const char *name;  /* "kv", "events", ... (copied; used in messages) */
    void *user;        /* passed to every hook */
    /* Optional. *call_state is NULL on entry; may set it. */
    void (*call_begin)(void *user, wasmplug_plugin *plugin, void **call_state);
    /* Optional. Called after every call for which call_begin ran, with the
     * call's status (WASMPLUG_OK = success) and the call state. Return
     * WASMPLUG_OK, or a failure with a message in msg (msg_size bytes) to
     * fail a successful call (ignored for a call that failed already). */
    wasmplug_status (*call_end)(void *user, wasmplug_plugin *plugin, void *call_state,
                                wasmplug_status status, char *msg, size_t msg_size);
    /* Optional: the plugin is being freed (plugin_state non-NULL). */
    void (*plugin_free)(void *user, wasmplug_plugin *plugin, void *plugin_state);
    /* Optional: the host is being freed, after all of its plugins (services
     * are finalized in the reverse order of their adding). */
    void (*finalizer)(void *user);
} wasmplug_service_def;

/**
 * Add a service to the host; *id receives its id (0..WASMPLUG_SERVICES_MAX-1).
 * ERR_ARGUMENT (no name), ERR_DUPLICATE (a service of that name exists),
 * ERR_LIMIT (too many services), ERR_PLUGIN_STATE (plugins were loaded
 * already). The def is copied.
 */
WASMPLUG_API wasmplug_status wasmplug_host_add_service(wasmplug_host *host,
                                                       const wasmplug_service_def *def,
                                                       unsigned *id);
/** The id of the service called name, or ERR_NOT_FOUND. */
WASMPLUG_API wasmplug_status wasmplug_host_service_id(wasmplug_host *host, const char *name,
                                                      unsigned *id);
/** The user pointer of service id (its def.user), or NULL for a bad id. */
WASMPLUG_API void *wasmplug_host_service_user(wasmplug_host *host, unsigned id);
/**
 * Register a typed import "wasmplug.<name>" (signature as for
 * wasmplug_host_register) for service id, requiring grant (a permission or
 * a pattern with '*'). The callback may also write a result with
 * wasmplug_hostcall_write (the result buffer is emptied before each call),
 * which the plugin reads with wasmplug.result_read; and may fail the call
 * with a specific status (wasmplug_hostcall_fail). ERR_ARGUMENT for a bad
 * name, signature, grant or service id, or a name of the ABI itself;
 * ERR_DUPLICATE if the name is taken.
 */
WASMPLUG_API wasmplug_status wasmplug_host_register_service_fn(wasmplug_host *host,
                                                               unsigned service,
                                                               const char *name,
                                                               const char *signature,
                                                               const char *grant,
                                                               wasmplug_typed_fn fn, void *user);
/**
 * The grant that the import wasmplug.<name> needs, if a service attached to
 * the host provides it (valid while the host is); NULL otherwise.
 */
WASMPLUG_API const char *wasmplug_host_service_fn_grant(wasmplug_host *host, const char *name);

/** Inside a service import: the current call's state pointer for service
 *  (see wasmplug_service_def), or NULL for a bad id. */
WASMPLUG_API void **wasmplug_hostcall_call_state(wasmplug_hostcall *call, unsigned service);
/**
 * Inside a host function or service import: fail the plugin's call with
 * code (e.g. ERR_QUOTA, ERR_STORAGE, ERR_TIMEOUT) and this message when the
 * callback returns non-zero (default: ERR_HOST_FUNCTION).
 */
WASMPLUG_API void wasmplug_hostcall_fail(wasmplug_hostcall *call, wasmplug_status code,
                                         const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/**
 * Inside a host function or service import: record a denial without
 * failing the call (the import reports it to the plugin its own way, e.g.
 * an HTTP request to a URL not allowed). It goes to the plugin's and the
 * host's error history as ERR_PERMISSION_DENIED (phase call, function =
 * the import), is counted in the metrics' denials and passed to the error
 * callback.
 */
WASMPLUG_API void wasmplug_hostcall_deny(wasmplug_hostcall *call, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/**
 * Inside a host function: WASMPLUG_OK while the call may go on, else why it
 * must stop (ERR_TIMEOUT: its deadline passed; ERR_CANCELLED: cancelled or
 * the plugin killed). For long host-side work (an SQL statement's
 * progress handler).
 */
WASMPLUG_API wasmplug_status wasmplug_hostcall_check(wasmplug_hostcall *call);

/** A service's state for plugin (NULL until set). */
WASMPLUG_API void *wasmplug_plugin_service_state(wasmplug_plugin *plugin, unsigned service);
/**
 * Set it if it is still NULL; returns the state now in place (state, or the
 * one another thread set first: the caller then frees its own).
 */
WASMPLUG_API void *wasmplug_plugin_service_state_set(wasmplug_plugin *plugin, unsigned service,
                                                     void *state);
/** Whether plugin holds permission (requested by its manifest and allowed
 *  by the host policy), e.g. "events.publish:orders.created". */
WASMPLUG_API bool wasmplug_plugin_granted(wasmplug_plugin *plugin, const char *permission);
/** A manifest setting (wasmplug_manifest.settings), or NULL. Valid while the
 *  handle is; after a reload, the current version's. */
WASMPLUG_API const char *wasmplug_plugin_setting(wasmplug_plugin *plugin, const char *key);
/** The plugin's manifest id ("" if none; valid while the handle is; after
 *  a reload, the current version's). */
WASMPLUG_API const char *wasmplug_plugin_id(wasmplug_plugin *plugin);
/** The plugin's manifest version ("" if none; valid while the handle is;
 *  after a reload, the current version's). */
WASMPLUG_API const char *wasmplug_plugin_version(wasmplug_plugin *plugin);

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Which code runs a plugin's calls: the interpreter, which starts at once,
 * or native code made by the engine's native tier (<wasmplug/native.h>: the
 * module translated to C and compiled by the system C compiler; the same
 * semantics, limits and host API). A module the native tier cannot compile
 * (SIMD) runs in the interpreter; wasmplug_plugin_tier says why.
 */
typedef enum wasmplug_tiering {
    WASMPLUG_TIERING_DEFAULT = 0,   /* $WASMPLUG_TIER if set (interp, native, tiered,
                                       auto), else AUTO */
    WASMPLUG_TIERING_AUTO,          /* native code already attached to the module (e.g.
                                       from a cache, see wasmplug_load_options.module),
                                       else the interpreter */
    WASMPLUG_TIERING_INTERPRETER,   /* the interpreter only */
    WASMPLUG_TIERING_NATIVE,        /* compile at load (the load waits for the compiler) */
    WASMPLUG_TIERING_TIERED         /* the interpreter at once; native code compiled in
                                       the background, each call that starts after it is
                                       ready runs it (no call lost, same results) */
} wasmplug_tiering;

typedef struct wasmplug_load_options {
    const wasmplug_manifest *manifest; /* may be NULL: then no permissions (see Permissions) */
    const wasmplug_kv *config;         /* config values (override the manifest's) */
    size_t config_count;
    wasmplug_plugin_limits limits;     /* override the host defaults (0 = inherit) */
    uint32_t pool_size;                /* instances for parallel calls; 0 = 1 */
    bool init;                         /* run wasmplug_plugin_init after loading */
    bool keep_instance_on_trap;        /* keep (not replace) an instance after a trap */
    void *user_data;                   /* see wasmplug_plugin_user_data */
    /* WASI preview 1 for this plugin (docs/WASI.md): one context per
     * instance, with this configuration (copied at load; NULL = the
     * defaults of wasmplug_wasi_config_init: no args, no environment, no
     * directories, captured output) filtered by the plugin's permissions: a preopen needs
     * "wasi.fs.read:<guest path>" (read-only) or "wasi.fs.write:<guest path>"
     * (read-write; with only the read grant the directory is read-only),
     * an environment variable (explicit or inherited) "wasi.env:<NAME>";
     * what is not granted is left out (and recorded as a denial). Args,
     * stdin, clocks, random and stdout/stderr need no grant. With no
     * on_output, stdout/stderr are captured per call:
     * wasmplug_plugin_wasi_output. */
    const wasmplug_wasi_config *wasi;
    /* An already compiled module to load instead of the bytes (which may
     * then be NULL/0), e.g. from wasmplug_module_deserialize (a compiled-
     * module cache); it must come from the host's engine. The host takes
     * over this reference whether the load succeeds or fails. */
    wasmplug_module *module;
    /* Lazy loading: register the plugin now (its name, manifest id,
     * version, metadata, permissions and limits: found, listed and
     * described by wasmplug_plugin_get_info at once, in state UNLOADED)
     * and build it (read the file, compile, link, check, and init when
     * init is set) on its first use: a call, wasmplug_plugin_has_function
     * or _export_*, _init, _embedded_manifest, or wasmplug_plugin_build
     * (to build it ahead, e.g. from a background thread). A host with
     * hundreds of plugins starts without compiling any. A failed build
     * leaves the plugin in state ERROR with the load error recorded, and
     * every use returns that error. wasmplug_host_load_file reads the file
     * at the build too. */
    bool lazy;
    wasmplug_tiering tiering;          /* interpreter or native code (see wasmplug_tiering) */
    /* A module that imports its memory (any import of kind memory, e.g.
     * env.memory, as wasm-bindgen modules built with --import-memory have)
     * gets a new memory per instance from the host, never shared between
     * instances: this many 64 KiB pages initially (0 = 17, the size
     * browser plugin systems give), at least the import's minimum, at most
     * its maximum; it grows up to the import's maximum and the plugin's
     * max_memory_pages. */
    uint32_t imported_memory_pages;
} wasmplug_load_options;

/** The initial pages of an imported memory when imported_memory_pages is 0. */
#define WASMPLUG_IMPORTED_MEMORY_PAGES 17u

#define WASMPLUG_LOAD_OPTIONS_INIT \
    {NULL, NULL, 0, {0, 0, 0, 0, 0, 0}, 0, false, false, NULL, NULL, NULL, false,          \
     WASMPLUG_TIERING_DEFAULT, 0}

/**
 * Load a plugin from a binary module under a unique name (1..127 bytes).
 * The bytes are copied. The module is compiled once; every instance of the
 * plugin shares it. Imports are linked now: "wasmplug" (the ABI, docs/ABI.md),
 * "wasi_snapshot_preview1" (WASI preview 1 when opts->wasi is set, else
 * stubs returning ENOSYS; proc_exit ends the call either way) and
 * registered host functions the plugin is granted. Failures: ERR_ARGUMENT (bad name/options), ERR_DUPLICATE (name in
 * use), ERR_MANIFEST, ERR_MALFORMED / ERR_INVALID / ERR_UNSUPPORTED (module),
 * ERR_LINK (unknown import or type mismatch), ERR_PERMISSION_DENIED (an
 * import not granted; the message names the import and the missing grant),
 * ERR_ABI, ERR_NOT_FOUND (a manifest export is missing); with opts->init,
 * any init error (the plugin then stays loaded in state ERROR).
 * On success *out (may be NULL) gets a reference to release.
 * On a load failure nothing stays registered.
 */
WASMPLUG_API wasmplug_status wasmplug_host_load(wasmplug_host *host, const char *name,
                                                const uint8_t *wasm, size_t size,
                                                const wasmplug_load_options *opts,
                                                wasmplug_plugin **out,
                                                wasmplug_plugin_error *err);
/** Same, reading the module from a file (ERR_IO if it cannot be read). */
WASMPLUG_API wasmplug_status wasmplug_host_load_file(wasmplug_host *host, const char *name,
                                                     const char *path,
                                                     const wasmplug_load_options *opts,
                                                     wasmplug_plugin **out,
                                                     wasmplug_plugin_error *err);

/**
 * Build a plugin registered with opts.lazy now (see wasmplug_load_options):
 * WASMPLUG_OK once it is built (at once if it was, or was not lazy), else
 * its build error (the same on every later use). Several threads may call
 * it; one builds, the others wait for it.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_build(wasmplug_plugin *plugin,
                                                   wasmplug_plugin_error *err);

/** A new reference to the plugin called name, or ERR_NOT_FOUND. A plugin
 *  is found (and listed, and counted) once it is built: while its load is
 *  still compiling and linking it, its name is taken (another load of that
 *  name fails with ERR_DUPLICATE) but it is not found yet. */
WASMPLUG_API wasmplug_status wasmplug_host_get(wasmplug_host *host, const char *name,
                                               wasmplug_plugin **out);
/** Take another reference. */
WASMPLUG_API void wasmplug_plugin_retain(wasmplug_plugin *plugin);
/** Drop a reference; the plugin is freed after it is killed and unreferenced. */
WASMPLUG_API void wasmplug_plugin_release(wasmplug_plugin *plugin);

/**
 * The names of the plugins in the host, in load order: *names gets an
 * array of *count strings in one block freed with wasmplug_free.
 */
WASMPLUG_API wasmplug_status wasmplug_host_list(wasmplug_host *host, char ***names,
                                                size_t *count);
/** The number of plugins in the host. */
WASMPLUG_API size_t wasmplug_host_count(wasmplug_host *host);

/**
 * Kill the plugin called name: remove it from the host (the name becomes
 * free), cancel its running calls (they fail with ERR_CANCELLED) and move it
 * to DISPOSED without running plugin code. ERR_NOT_FOUND if no such plugin;
 * ERR_IN_USE if other live plugins depend on it (see Dependencies).
 */
WASMPLUG_API wasmplug_status wasmplug_host_kill(wasmplug_host *host, const char *name);
/** wasmplug_host_kill even if other plugins depend on it (they stay loaded). */
WASMPLUG_API wasmplug_status wasmplug_host_kill_forced(wasmplug_host *host, const char *name);
/** Kill every plugin (dependencies do not hold it back). */
WASMPLUG_API void wasmplug_host_kill_all(wasmplug_host *host);

/**
 * Host-wide error history: copies up to max of the most recent errors of
 * every plugin, including failed loads (oldest first) into out; returns how
 * many were copied.
 */
WASMPLUG_API size_t wasmplug_host_errors(wasmplug_host *host, wasmplug_plugin_error *out,
                                         size_t max);

/* ------------------------------------------------------------------------ */
/* Lifecycle                                                                */
/* ------------------------------------------------------------------------ */

/**
 * Initialize: LOADED (or ERROR, to retry) -> INITIALIZING -> READY, or
 * ERROR if instantiation, the start section, _initialize, wasmplug_init
 * (or plugin_initialize) traps, exceeds a limit or returns non-zero.
 * wasmplug_init receives the plugin's config as a JSON object of strings as
 * its input. Init runs with the plugin's call limits. In other states:
 * ERR_PLUGIN_STATE.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_init(wasmplug_plugin *plugin,
                                                  wasmplug_plugin_error *err);
/**
 * Dispose gracefully: waits for running calls, runs wasmplug_dispose (or
 * plugin_dispose) in every live instance, frees the instances and moves to
 * DISPOSED. The plugin stays listed (its info and errors readable) until
 * killed. A failing dispose export still disposes; its error is returned.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_dispose(wasmplug_plugin *plugin,
                                                     wasmplug_plugin_error *err);
/** wasmplug_plugin_dispose even if other plugins depend on it (see
 *  Dependencies; they stay loaded). */
WASMPLUG_API wasmplug_status wasmplug_plugin_dispose_forced(wasmplug_plugin *plugin,
                                                            wasmplug_plugin_error *err);

/*
 * Dependencies
 * ------------
 * A manifest's dependencies ({id: range}) name plugins that must be in the
 * host before this one loads. At a load (and a lazy registration, and a
 * reload) each is resolved to a plugin of the host whose manifest id is
 * that id and whose version satisfies the range (the first in load order;
 * disposed and killed plugins do not count): a dependency registered
 * lazily is built first, so a plugin loads only after what it depends on.
 * Failures name the plugin and the dependency: ERR_DEPENDENCY_MISSING (no
 * plugin with that id, or it failed to build), ERR_DEPENDENCY_VERSION (only
 * versions outside the range), ERR_DEPENDENCY_CYCLE (a plugin depending on
 * itself, directly or through others: "a -> b -> a"; a reload that would
 * close a cycle fails and the old version keeps serving). A reload whose
 * new version (id, version) falls outside the range of a plugin depending
 * on it fails with ERR_DEPENDENCY_VERSION likewise. While a live
 * plugin depends on another, wasmplug_host_kill and wasmplug_plugin_dispose
 * of that other fail with ERR_IN_USE naming its dependents, unless forced
 * (wasmplug_host_kill_forced, wasmplug_plugin_dispose_forced). A set of
 * plugin.yaml manifests is put in dependency order by the services
 * library (wasmplug/catalog.h).
 */

/** The current state. */
WASMPLUG_API wasmplug_plugin_state wasmplug_plugin_state_get(wasmplug_plugin *plugin);
/** The plugin's name (valid while the handle is). */
WASMPLUG_API const char *wasmplug_plugin_name(wasmplug_plugin *plugin);
/** The user_data from the load options. */
WASMPLUG_API void *wasmplug_plugin_user_data(wasmplug_plugin *plugin);

/* ------------------------------------------------------------------------ */
/* Calling                                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Call the export func with bytes in, bytes out. The function must be
 *  - ABI v1: () -> i32, reading input with wasmplug.input_* and writing
 *    output with wasmplug.output_write; 0 = success, else the call fails
 *    with ERR_PLUGIN (plugin_code = the value, message from error_set); or
 *  - compatibility ABI: (i32 ptr, i32 len) -> i64 packed (ptr << 32 | len),
 *    with alloc/dealloc exports (e.g. plugin_handle_event).
 * Other types give ERR_ABI. *out receives the output (free with
 * wasmplug_buf_free; empty on failure). Requires state READY.
 * Errors: ERR_NOT_FOUND (no such export), ERR_INPUT_TOO_LARGE,
 * ERR_OUTPUT_TOO_LARGE, ERR_TRAP, ERR_FUEL, ERR_TIMEOUT, ERR_CANCELLED,
 * ERR_MEMORY_LIMIT, ERR_CALL_DEPTH, ERR_HOST_FUNCTION, ERR_OUT_OF_BOUNDS,
 * ERR_PERMISSION_DENIED, ERR_PLUGIN, ERR_SERIALIZATION, ERR_PLUGIN_STATE.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_call(wasmplug_plugin *plugin, const char *func,
                                                  const uint8_t *in, size_t in_len,
                                                  wasmplug_buf *out,
                                                  wasmplug_plugin_error *err);
/** Limits of one call that can only lower the plugin's (0: the plugin's). */
typedef struct wasmplug_call_limits {
    uint32_t timeout_ms; /* wall clock of this call */
    uint64_t fuel;       /* instructions of this call */
} wasmplug_call_limits;

/**
 * wasmplug_plugin_call with limits for this call alone (limits may be NULL):
 * each given limit lower than the plugin's replaces it for the call (a
 * server lets a request ask for less time or fuel than the installed
 * plugin's, never more). Calls the plugin makes in turn (through host
 * functions) keep their own plugins' limits. Same errors; the timeout and
 * fuel messages name the limit the call ran with.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_call_limited(wasmplug_plugin *plugin,
                                                          const char *func, const uint8_t *in,
                                                          size_t in_len,
                                                          const wasmplug_call_limits *limits,
                                                          wasmplug_buf *out,
                                                          wasmplug_plugin_error *err);
/**
 * Call any exported function with typed values: counts and types must match
 * (ERR_ARGUMENT otherwise). Same limits and errors as wasmplug_plugin_call.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_call_typed(wasmplug_plugin *plugin,
                                                        const char *func,
                                                        const wasmplug_val *args,
                                                        size_t arg_count,
                                                        wasmplug_val *results,
                                                        size_t result_count,
                                                        wasmplug_plugin_error *err);
/* ------------------------------------------------------------------------ */
/* wasm-bindgen plugins                                                     */
/* ------------------------------------------------------------------------ */

/*
 * A Rust plugin built with wasm-bindgen (WASMPLUG_ABI_BINDGEN) is loaded as
 * rustc writes it, without the wasm-bindgen CLI and without JavaScript
 * (docs/ABI.md, "wasm-bindgen plugins"). The host provides the imports of
 * module __wbindgen_placeholder__ that make sense outside a browser
 * (__wbindgen_describe; __wbindgen_throw, which traps with the thrown
 * message); every other import of that module and of
 * __wbindgen_externref_xform__ (JavaScript values, closures, web APIs) links
 * to a stub that fails the call with ERR_UNSUPPORTED naming the import.
 * When the first instance is set up, the host runs each exported
 * __wbindgen_describe_<name> and decodes the descriptor into the signature
 * of <name>; each instance then runs the export init () -> () if there is
 * one, and dispose runs cleanup () -> () in every instance.
 */

/** The types of a described function's parameters and result. */
typedef enum wasmplug_bindgen_type {
    WASMPLUG_BINDGEN_UNSUPPORTED = 0, /* a type needing JavaScript (JsValue, Option, ...) */
    WASMPLUG_BINDGEN_UNIT,            /* () : a result of nothing */
    WASMPLUG_BINDGEN_BOOL,
    WASMPLUG_BINDGEN_I8,
    WASMPLUG_BINDGEN_U8,
    WASMPLUG_BINDGEN_I16,
    WASMPLUG_BINDGEN_U16,
    WASMPLUG_BINDGEN_I32,             /* also isize */
    WASMPLUG_BINDGEN_U32,             /* also usize */
    WASMPLUG_BINDGEN_I64,
    WASMPLUG_BINDGEN_U64,
    WASMPLUG_BINDGEN_F32,
    WASMPLUG_BINDGEN_F64,
    WASMPLUG_BINDGEN_CHAR,            /* a Unicode scalar value */
    WASMPLUG_BINDGEN_STR,             /* &str */
    WASMPLUG_BINDGEN_STRING           /* String */
} wasmplug_bindgen_type;

/** "i32", "&str", "String", "()", ... Never NULL. */
WASMPLUG_API const char *wasmplug_bindgen_type_name(wasmplug_bindgen_type type);

#define WASMPLUG_BINDGEN_PARAMS_MAX 16

/** A described function's signature. */
typedef struct wasmplug_bindgen_sig {
    uint32_t param_count;
    wasmplug_bindgen_type params[WASMPLUG_BINDGEN_PARAMS_MAX];
    wasmplug_bindgen_type result;
} wasmplug_bindgen_sig;

/**
 * The signature of the described function func of a wasm-bindgen plugin
 * (its current version). ERR_ABI if the plugin is not a wasm-bindgen
 * module, ERR_PLUGIN_STATE before its first init (the descriptors are read
 * then), ERR_NOT_FOUND if func has no descriptor, ERR_UNSUPPORTED (with
 * *sig filled, the unsupported positions WASMPLUG_BINDGEN_UNSUPPORTED) if a
 * type needs JavaScript or it has more than WASMPLUG_BINDGEN_PARAMS_MAX
 * parameters.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_bindgen_signature(wasmplug_plugin *plugin,
                                                               const char *func,
                                                               wasmplug_bindgen_sig *sig);

/** What a wasmplug_value holds. */
typedef enum wasmplug_value_kind {
    WASMPLUG_VALUE_NONE = 0, /* a unit result */
    WASMPLUG_VALUE_BOOL,
    WASMPLUG_VALUE_INT,      /* i8 ... i64, u8 ... u64 (up to INT64_MAX), char (code point) */
    WASMPLUG_VALUE_FLOAT,    /* f32, f64 */
    WASMPLUG_VALUE_STRING    /* UTF-8 bytes */
} wasmplug_value_kind;

/**
 * An argument or result of wasmplug_plugin_bindgen_call. As an argument,
 * str points to len bytes the caller owns (a string need not be
 * NUL-terminated). As a result, str is malloc'd by the host, NUL-terminated
 * after len bytes, and released with wasmplug_value_clear.
 */
typedef struct wasmplug_value {
    wasmplug_value_kind kind;
    bool b;
    int64_t i;
    double f;
    const char *str;
    size_t len;
} wasmplug_value;

/** Free a result's string and reset the value to NONE. NULL is allowed. */
WASMPLUG_API void wasmplug_value_clear(wasmplug_value *value);

/**
 * Call the described function func of a wasm-bindgen plugin with values
 * converted to its parameter types: BOOL for bool; INT for the integer
 * types (ERR_ARGUMENT if out of the type's range) and for f32/f64; FLOAT
 * for f32/f64, or for an integer type when it holds an integral number in
 * range; STRING for &str and String (copied into memory from the module's
 * __wbindgen_malloc, which the plugin then owns and frees) and for char
 * (exactly one UTF-8 character). A String result is read through a return
 * area from __wbindgen_malloc and released with __wbindgen_free. *result
 * gets NONE (unit), BOOL, INT, FLOAT or STRING (release with
 * wasmplug_value_clear); result may be NULL to drop it.
 * A wrong argument count or type is ERR_ARGUMENT naming the argument, its
 * position and the signature (nothing runs); a throw (wasm_bindgen::throw_str)
 * is ERR_TRAP with the thrown message; an import that needs JavaScript is
 * ERR_UNSUPPORTED; otherwise the errors of wasmplug_plugin_call_typed.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_bindgen_call(wasmplug_plugin *plugin,
                                                          const char *func,
                                                          const wasmplug_value *args,
                                                          size_t arg_count,
                                                          wasmplug_value *result,
                                                          wasmplug_plugin_error *err);
/**
 * wasmplug_plugin_bindgen_call with arguments given as text (a command
 * line's words), each converted by its described parameter type: "true" /
 * "false" (also 1 / 0) for bool, decimal (or 0x hex) integers, decimal
 * floats, the text itself for &str, String and char. ERR_ARGUMENT names an
 * argument that does not convert.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_bindgen_call_text(wasmplug_plugin *plugin,
                                                               const char *func,
                                                               const char *const *args,
                                                               size_t arg_count,
                                                               wasmplug_value *result,
                                                               wasmplug_plugin_error *err);

/** wasmplug_plugin_call on the plugin called name (looked up on each call). */
WASMPLUG_API wasmplug_status wasmplug_host_call(wasmplug_host *host, const char *name,
                                                const char *func, const uint8_t *in,
                                                size_t in_len, wasmplug_buf *out,
                                                wasmplug_plugin_error *err);
/**
 * Cancel the plugin's running calls from any thread: each stops at its next
 * check (function entry or loop back-edge) with ERR_CANCELLED. Calls that
 * start later are not affected. Returns how many calls were signalled.
 */
WASMPLUG_API size_t wasmplug_plugin_cancel(wasmplug_plugin *plugin);

/* ------------------------------------------------------------------------ */
/* Hot reload                                                               */
/* ------------------------------------------------------------------------ */

/*
 * A reload replaces the code of a running plugin under the same handle and
 * name. The new version is loaded, validated and initialized beside the one
 * serving calls; then new calls go to it at once (one pointer switch under
 * the handle's lock), calls already running finish on the old version, and
 * the old version is disposed (its dispose hook runs) right after its last
 * call, by the thread that ends it. No call fails or is dropped because of
 * a reload. If the new version cannot be loaded or initialized, nothing
 * changes: the old version keeps serving and the error is returned (and
 * recorded). One reload at a time per plugin (ERR_PLUGIN_STATE while one
 * runs).
 *
 * What follows the plugin across versions: the handle and name (the host
 * registry, event subscriptions, wasmplug_host_call), metrics and the error
 * history, service state (KV, SQL, ...: wasmplug_plugin_service_state of a
 * version is the handle's). What belongs to each version: module, exports,
 * instances, limits, manifest id/version and settings, config, WASI.
 * wasmplug_plugin_id, _version, _setting, _has_function, _export_count,
 * _export_at, _get_info, _permissions and _embedded_manifest on the handle
 * describe the current version (the one new calls go to); the strings they
 * return stay valid while the handle is, across reloads. The state
 * callback reports the handle only.
 * Dispose and kill of the handle dispose or kill every version.
 */

/** Options of a reload (zero = none). */
typedef struct wasmplug_reload_options {
    /* How to load the new version (manifest, config, limits, pool, WASI,
     * precompiled module). NULL: the defaults with the running version's
     * pool size. init is implied. */
    const wasmplug_load_options *load;
    /* Health gate: when health_calls > 0, the old version is kept (ready,
     * idle) until health_calls calls have ended on the new one; if more
     * than health_max_failure_percent of them failed, the handle switches
     * back to the old version (a rollback: counted, its reason recorded as
     * an error of phase LOAD, code ERR_PLUGIN) and the new one is disposed;
     * otherwise the old one is disposed. A reload while a gate runs ends it
     * (the gated version counts as accepted). */
    uint32_t health_calls;
    uint32_t health_max_failure_percent;
    /* State handover: the bytes of a call to state_save (a bytes export, ABI
     * v1 or compatibility) in the old version are the input of a call to
     * state_restore in the new one, before the switch. A failure of either
     * fails the reload. Calls still served by the old version after the
     * save are not part of the state handed over. NULL: no handover. */
    const char *state_save;
    const char *state_restore;
} wasmplug_reload_options;

/** The reload history of a plugin (wasmplug_plugin_reload_get_info). */
typedef struct wasmplug_reload_info {
    uint64_t generation;     /* switches so far (rollbacks included); 0: never reloaded */
    uint64_t reloads;        /* successful reloads */
    uint64_t failed;         /* reloads that failed (the old version kept serving) */
    uint64_t rollbacks;      /* health-gate rollbacks */
    bool gate_pending;       /* a health gate is still counting calls */
    char id[WASMPLUG_NAME_MAX];      /* manifest id of the current version */
    char version[WASMPLUG_NAME_MAX]; /* manifest version of the current version */
    /* Why the last reload failed or the last rollback happened ("" if none). */
    char last_failure[WASMPLUG_ERROR_MESSAGE_MAX];
} wasmplug_reload_info;

/**
 * Reload plugin from a new binary module (copied). opts may be NULL.
 * Failures: ERR_ARGUMENT, ERR_PLUGIN_STATE (another reload is running, or
 * the plugin is disposed, killed or being disposed), any load error of
 * wasmplug_host_load and any init error; then the running version is
 * unchanged.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_reload(wasmplug_plugin *plugin, const uint8_t *wasm,
                                                    size_t size,
                                                    const wasmplug_reload_options *opts,
                                                    wasmplug_plugin_error *err);
/** wasmplug_plugin_reload from a file (ERR_IO if it cannot be read). */
WASMPLUG_API wasmplug_status wasmplug_plugin_reload_file(wasmplug_plugin *plugin,
                                                         const char *path,
                                                         const wasmplug_reload_options *opts,
                                                         wasmplug_plugin_error *err);
/** Copy the reload history of plugin into out. */
WASMPLUG_API wasmplug_status wasmplug_plugin_reload_get_info(wasmplug_plugin *plugin,
                                                             wasmplug_reload_info *out);

/* ------------------------------------------------------------------------ */
/* Watching files                                                           */
/* ------------------------------------------------------------------------ */

/*
 * A watcher calls back when watched files change (Linux: inotify; on other
 * systems every function returns ERR_UNSUPPORTED). Changes are debounced:
 * a burst of changes to one watched path (an editor saving, a build
 * writing) gives one callback, debounce_ms after the last of them. A file
 * is watched through its directory, so a file replaced by a rename (what
 * editors, build tools and `wasmplug install` do) is seen, and one that
 * does not exist yet is seen when it appears; a directory is watched for
 * changes to any file in it (recursive: in its subdirectories too, new
 * ones included). Callbacks run on the watcher's own thread, one at a
 * time, with no lock held.
 */
typedef struct wasmplug_watcher wasmplug_watcher;
/** path: the file that changed (for a watched directory, the file in it). */
typedef void (*wasmplug_watch_fn)(void *user, const char *path);

/** Create a watcher and its thread. debounce_ms 0: 100 ms. ERR_ARGUMENT
 *  (no fn), ERR_LIMIT (no inotify instance left), ERR_IO, ERR_NOMEM. */
WASMPLUG_API wasmplug_status wasmplug_watcher_new(uint32_t debounce_ms, wasmplug_watch_fn fn,
                                                  void *user, wasmplug_watcher **out);
/** Watch path (a file or a directory that exists; paths up to 999 bytes).
 *  ERR_NOT_FOUND, ERR_LIMIT (inotify's watch limit), ERR_IO. */
WASMPLUG_API wasmplug_status wasmplug_watcher_add(wasmplug_watcher *watcher, const char *path,
                                                  bool recursive);
/** Ignore files and directories whose name matches pattern ('*' as in
 *  wasmplug_glob: "*.o", ".git", "target") under watched directories
 *  (subdirectories added from now on). */
WASMPLUG_API wasmplug_status wasmplug_watcher_ignore(wasmplug_watcher *watcher,
                                                     const char *pattern);
/** Stop the thread (waiting for a callback in progress) and free. NULL is fine. */
WASMPLUG_API void wasmplug_watcher_free(wasmplug_watcher *watcher);

/** Told the outcome of a reload made by a watch (on the watcher thread). */
typedef void (*wasmplug_reload_done_fn)(void *user, wasmplug_plugin *plugin,
                                        wasmplug_status status,
                                        const wasmplug_plugin_error *err);
/**
 * Reload plugin from path (wasmplug_plugin_reload_file with opts, which may
 * be NULL; opts and what it points to must stay valid while the watch is)
 * whenever that file changes, debounced, on the host's watcher thread
 * (started by the first watch); done (may be NULL) gets each outcome. A
 * failed reload leaves the running version serving, as always. The host
 * holds a reference on the plugin until wasmplug_plugin_unwatch or
 * wasmplug_host_free (which stops the watcher before anything else).
 * ERR_ARGUMENT, ERR_NOT_FOUND (path), ERR_UNSUPPORTED, ERR_LIMIT, ERR_IO.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_watch(wasmplug_plugin *plugin, const char *path,
                                                   const wasmplug_reload_options *opts,
                                                   wasmplug_reload_done_fn done, void *user);
/** Stop every watch of plugin (a reload in progress still completes). */
WASMPLUG_API void wasmplug_plugin_unwatch(wasmplug_plugin *plugin);

/* ------------------------------------------------------------------------ */
/* Lifecycle hooks and the error boundary                                   */
/* ------------------------------------------------------------------------ */

/** A lifecycle hook: runs on the thread doing the operation, no lock held. */
typedef void (*wasmplug_plugin_hook)(void *user, wasmplug_plugin *plugin);

/** Lifecycle hooks of a host (any may be NULL), beside the state callback. */
typedef struct wasmplug_lifecycle {
    /* The plugin is loaded (compiled, linked, exports checked), before init. */
    wasmplug_plugin_hook on_load;
    /* The plugin became ready: its init succeeded, or a reload switched it
     * to a new version (once per switch, rollbacks excepted). It may call
     * the plugin. */
    wasmplug_plugin_hook on_ready;
    /* The plugin is about to end: wasmplug_plugin_dispose (before its
     * dispose hooks; it may still call the plugin) or a kill (its calls are
     * already cancelled). Once per plugin. */
    wasmplug_plugin_hook before_dispose;
    void *user;
} wasmplug_lifecycle;

/** Set (or with NULL clear) the lifecycle hooks of host (copied). */
WASMPLUG_API wasmplug_status wasmplug_host_set_lifecycle(wasmplug_host *host,
                                                         const wasmplug_lifecycle *hooks);

/**
 * A fallback handler of the error boundary: called when a bytes call of
 * plugin failed (failure), it may set *out (data from malloc, freed by the
 * caller with wasmplug_buf_free) and return WASMPLUG_OK to answer the call;
 * any other status lets the failure through.
 */
typedef wasmplug_status (*wasmplug_fallback_fn)(void *user, wasmplug_plugin *plugin,
                                                const char *func, const uint8_t *in,
                                                size_t in_len,
                                                const wasmplug_plugin_error *failure,
                                                wasmplug_buf *out);
/**
 * The error boundary of plugin: when a bytes call (wasmplug_plugin_call,
 * wasmplug_host_call, async calls) fails for any reason but ERR_ARGUMENT,
 * fn (if set) or else the fixed output (copied; len 0 is an empty output)
 * answers it: the call returns WASMPLUG_OK with that output. The failure
 * is still recorded (error history, metrics.errors, the error callback) and
 * counted in metrics.fallbacks. Typed calls have no fallback. Pass
 * output NULL, len 0 and fn NULL to remove the boundary. ERR_NOMEM.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_set_fallback(wasmplug_plugin *plugin,
                                                          const uint8_t *output, size_t len,
                                                          wasmplug_fallback_fn fn, void *user);

/* ------------------------------------------------------------------------ */
/* Asynchronous calls                                                       */
/* ------------------------------------------------------------------------ */

/*
 * wasmplug_plugin_call_async queues a bytes call and returns at once with a
 * handle. A pool of worker threads per host (started on the first async
 * call; wasmplug_host_set_async_workers, default 4) runs queued calls as
 * wasmplug_plugin_call would, with the plugin's limits and instance pool.
 *
 * Ordering: calls start in the order they were queued (one queue per host);
 * with more than one worker or instance they may end in any order (one
 * worker: they run one after the other, in order).
 * Completion: the callback (if any) runs on the worker thread once, with the
 * status, output and error (valid during the callback only); then waiters
 * wake. It must not free the handle nor wait on it.
 * Cancellation: wasmplug_async_cancel on a queued call completes it with
 * ERR_CANCELLED without running it; on a running call it interrupts that
 * call alone (ERR_CANCELLED at its next check); on a finished call it does
 * nothing.
 * Shutdown: wasmplug_host_free completes every queued call with
 * ERR_CANCELLED (callbacks run), cancels running ones (as kill does), waits
 * for the workers to finish and stops them. Handles stay valid until freed
 * (after the host too: their results are kept).
 */
typedef struct wasmplug_async wasmplug_async;

/** Completion callback: status, output (NULL if none) and error of the call. */
typedef void (*wasmplug_async_fn)(void *user, wasmplug_async *call, wasmplug_status status,
                                  const wasmplug_buf *output, const wasmplug_plugin_error *err);

/**
 * Set the number of async worker threads of host (1..64) before its first
 * async call: ERR_ARGUMENT out of range, ERR_PLUGIN_STATE once started.
 */
WASMPLUG_API wasmplug_status wasmplug_host_set_async_workers(wasmplug_host *host,
                                                             uint32_t workers);
/**
 * Queue a call of func with a copy of in. done (may be NULL) runs when it
 * ends. *out gets a handle to free with wasmplug_async_free (out may be
 * NULL when done is set: fire and forget). ERR_ARGUMENT, ERR_NOMEM,
 * ERR_PLUGIN_STATE (the host is shutting down); the call's own errors come
 * through the handle or callback.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_call_async(wasmplug_plugin *plugin, const char *func,
                                                        const uint8_t *in, size_t in_len,
                                                        wasmplug_async_fn done, void *user,
                                                        wasmplug_async **out);
/** Whether the call has completed (never blocks). */
WASMPLUG_API bool wasmplug_async_poll(wasmplug_async *call);
/**
 * Wait up to timeout_ms (WASMPLUG_WAIT_FOREVER: no limit) for the call to
 * complete. Completed: returns its status; out (may be NULL) takes the
 * output (the first wait that asks for it gets it; later ones get an empty
 * buffer) and err its error. Not completed in time: ERR_TIMEOUT, and the
 * call goes on (wait again, or cancel).
 */
#define WASMPLUG_WAIT_FOREVER UINT32_MAX
WASMPLUG_API wasmplug_status wasmplug_async_wait(wasmplug_async *call, uint32_t timeout_ms,
                                                 wasmplug_buf *out, wasmplug_plugin_error *err);
/** Cancel the call (see above). Returns true if it had not completed yet. */
WASMPLUG_API bool wasmplug_async_cancel(wasmplug_async *call);
/** Free a handle. A call still queued or running goes on; its result is dropped. */
WASMPLUG_API void wasmplug_async_free(wasmplug_async *call);

/** Whether the module exports a function called name. */
WASMPLUG_API bool wasmplug_plugin_has_function(wasmplug_plugin *plugin, const char *name);
/** The number of exported functions. */
WASMPLUG_API uint32_t wasmplug_plugin_export_count(wasmplug_plugin *plugin);
/**
 * Exported function i: its name and type (owned by the plugin's module,
 * valid while the handle is). ERR_NOT_FOUND past the end.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_export_at(wasmplug_plugin *plugin, uint32_t i,
                                                       const char **name,
                                                       wasmplug_functype *type);

/* ------------------------------------------------------------------------ */
/* Information, metadata, metrics                                           */
/* ------------------------------------------------------------------------ */

/** Per-plugin counters since load. Latencies cover every call (failed too). */
typedef struct wasmplug_metrics {
    uint64_t calls;            /* calls attempted (bytes and typed) */
    uint64_t errors;           /* calls that failed */
    uint64_t total_ns;         /* sum of call latencies */
    uint64_t max_ns;           /* slowest call */
    uint64_t fuel_used;        /* instructions consumed (counted when fuel is limited) */
    uint64_t host_calls;       /* host functions called by the plugin (ABI imports included) */
    uint64_t bytes_in;         /* input bytes passed to calls */
    uint64_t bytes_out;        /* output bytes returned */
    uint64_t traps;            /* calls that stopped in a trap or limit */
    uint64_t denials;          /* permission denials (load or call) */
    uint64_t instances_created;
    uint32_t memory_pages;     /* pages of the most recently used instance */
    uint32_t memory_pages_max; /* largest memory seen */
    uint64_t fallbacks;        /* failed calls answered by the fallback (counted in errors too) */
    /* Latency quantiles of the calls counted, from a histogram
     * (wasmplug_latency_quantile: within 25%, never above max_ns); 0
     * before the first call. */
    uint64_t p50_ns, p90_ns, p99_ns;
} wasmplug_metrics;

/**
 * Latency histograms (a plugin's calls, the event bus's deliveries):
 * WASMPLUG_LATENCY_BUCKETS counters, four buckets per power of two of
 * nanoseconds up to 2^40 ns (18 minutes; longer ones count in the last).
 * wasmplug_latency_bucket gives the bucket of a latency;
 * wasmplug_latency_quantile the quantile per_mille (500: the median, 990:
 * p99) of a histogram as the top of the bucket it falls in (so within
 * 25%), at most max; 0 for an empty histogram.
 */
#define WASMPLUG_LATENCY_BUCKETS 160
WASMPLUG_API unsigned wasmplug_latency_bucket(uint64_t ns);
WASMPLUG_API uint64_t wasmplug_latency_quantile(const uint64_t *hist, unsigned per_mille,
                                                uint64_t max);

/** A snapshot of a plugin's state (self-contained copy). */
typedef struct wasmplug_plugin_info {
    char name[WASMPLUG_NAME_MAX];
    char id[WASMPLUG_NAME_MAX];      /* manifest id, or "" */
    char version[WASMPLUG_NAME_MAX]; /* manifest version, or "" */
    wasmplug_plugin_state state;
    wasmplug_abi abi;
    uint32_t export_count;
    uint32_t pool_size;
    uint32_t instances;              /* live instances */
    uint32_t running;                /* calls in progress */
    size_t metadata_count;
    size_t error_count;              /* errors in the history */
    wasmplug_plugin_limits limits;   /* effective limits */
    wasmplug_metrics metrics;
} wasmplug_plugin_info;

/** Fill *info. */
WASMPLUG_API wasmplug_status wasmplug_plugin_get_info(wasmplug_plugin *plugin,
                                                      wasmplug_plugin_info *info);
/**
 * Which code runs the plugin's next call: "native", "interpreter" or
 * "compiling" (the interpreter while native code is being made). For the
 * interpreter, why (may be NULL) says why when there is a reason: the
 * policy, a module the native tier cannot compile, a failed compile.
 */
WASMPLUG_API const char *wasmplug_plugin_tier(wasmplug_plugin *plugin, char *why,
                                              size_t why_size);

/** The metrics alone. */
WASMPLUG_API wasmplug_status wasmplug_plugin_get_metrics(wasmplug_plugin *plugin,
                                                         wasmplug_metrics *out);
/** Reset the counters to zero. */
WASMPLUG_API void wasmplug_plugin_reset_metrics(wasmplug_plugin *plugin);

/**
 * Update metadata: each item sets key to value; a NULL value removes the
 * key. With replace, existing metadata is dropped first. Keys must be
 * non-empty. Starts with the manifest's metadata.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_update_metadata(wasmplug_plugin *plugin,
                                                             const wasmplug_kv *items,
                                                             size_t count, bool replace);
/** A copy of one value (*value freed with wasmplug_free), or ERR_NOT_FOUND. */
WASMPLUG_API wasmplug_status wasmplug_plugin_metadata_get(wasmplug_plugin *plugin,
                                                          const char *key, char **value);
/** A copy of all metadata in one block (*items freed with wasmplug_free). */
WASMPLUG_API wasmplug_status wasmplug_plugin_metadata(wasmplug_plugin *plugin,
                                                      wasmplug_kv **items, size_t *count);
/** The permissions granted (request ∩ policy), one block freed with wasmplug_free. */
WASMPLUG_API wasmplug_status wasmplug_plugin_permissions(wasmplug_plugin *plugin,
                                                         char ***perms, size_t *count);

/**
 * The plugin's error history (bounded; oldest first): copies up to max
 * entries into out and returns how many. Includes permission denials.
 */
WASMPLUG_API size_t wasmplug_plugin_errors(wasmplug_plugin *plugin, wasmplug_plugin_error *out,
                                           size_t max);
/** The most recent error, or ERR_NOT_FOUND if the history is empty. */
WASMPLUG_API wasmplug_status wasmplug_plugin_last_error(wasmplug_plugin *plugin,
                                                        wasmplug_plugin_error *out);
/** Empty the error history. */
WASMPLUG_API void wasmplug_plugin_clear_errors(wasmplug_plugin *plugin);

/**
 * What a plugin (loaded without a WASI on_output callback) wrote to
 * stdout (fd 1) or stderr (fd 2) during the most recent call, init or
 * dispose that finished on it: a copy in *out, freed with
 * wasmplug_buf_free (empty if nothing was written). With a pool running
 * calls in parallel, "most recent" is the last to finish; use an
 * on_output callback to tell calls apart. ERR_ARGUMENT for another fd,
 * ERR_NOT_FOUND if its output goes to an on_output callback.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_wasi_output(wasmplug_plugin *plugin, int fd,
                                                         wasmplug_buf *out);

/**
 * Compatibility-ABI plugins: the bytes returned by plugin_get_manifest,
 * captured at init (a copy freed with wasmplug_buf_free). ERR_NOT_FOUND if
 * the plugin has none.
 */
WASMPLUG_API wasmplug_status wasmplug_plugin_embedded_manifest(wasmplug_plugin *plugin,
                                                               wasmplug_buf *out);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_H */
