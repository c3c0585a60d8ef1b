/*
 * wasmplug/wasi.h - WASI preview 1 (module "wasi_snapshot_preview1") for
 * modules run on the wasmplug engine, scoped by capability.
 *
 * A wasmplug_wasi_ctx holds what one running module may see: its arguments,
 * the environment variables it was given, stdin bytes, where its stdout and
 * stderr go, the directories it may use (each read-only or read-write) and
 * its clocks and random source (real, or fixed and seeded for tests and
 * replay). The module's WASI imports are host functions bound to a context:
 *
 *     wasmplug_wasi_config cfg;
 *     wasmplug_wasi_config_init(&cfg);
 *     const char *argv[] = {"prog", "in.txt"};
 *     wasmplug_wasi_preopen dirs[] = {{"/srv/data", "/data", true}};
 *     cfg.args = argv; cfg.arg_count = 2;
 *     cfg.preopens = dirs; cfg.preopen_count = 1;
 *     wasmplug_wasi_ctx *ctx;
 *     wasmplug_wasi_new(engine, &cfg, &ctx, &err);
 *     int32_t code;
 *     wasmplug_wasi_run_command(ctx, module, NULL, &code, &err);   // _start
 *     const uint8_t *out; size_t n;
 *     wasmplug_wasi_output(ctx, 1, &out, &n);                      // captured stdout
 *     wasmplug_wasi_free(ctx);
 *
 * Sandbox
 * -------
 * Guest paths are resolved one component at a time with openat(O_NOFOLLOW)
 * relative to the directory descriptor they are used with, never by string
 * prefix: "..", absolute paths and symbolic links (whose targets are
 * resolved the same way) can never leave that directory. A directory opened
 * through a preopen is a sandbox of its own. A symbolic link swapped in
 * between a check and a use is never followed by the kernel, so races
 * cannot escape either. Escapes fail with ENOTCAPABLE (76); writes in a
 * read-only preopen with EROFS (69). Sockets are not available (sock_accept
 * gives ENOTSUP, the others EBADF or ENOTSUP).
 *
 * Errors inside WASI functions are the spec's errno results, never traps:
 * a pointer outside the module's memory gives EFAULT (21), an unknown
 * descriptor EBADF (8). proc_exit(code) ends the call with a trap of kind
 * WASMPLUG_TRAP_EXIT and err->exit_code = code (wasmplug_wasi_start turns
 * it into a normal exit code).
 *
 * Threads: a context serves one running instance at a time (the WASI
 * functions bound to it keep its descriptor table and position in stdin).
 * Lifetime: a context must outlive every call into instances linked to it.
 */
#ifndef WASMPLUG_WASI_H
#define WASMPLUG_WASI_H

#include <wasmplug/engine.h>

#ifdef __cplusplus
extern "C" {
#endif

/* WASI preview 1 errno values used in this API's documentation. */
#define WASMPLUG_WASI_ESUCCESS 0
#define WASMPLUG_WASI_EBADF 8
#define WASMPLUG_WASI_EFAULT 21
#define WASMPLUG_WASI_EINVAL 28
#define WASMPLUG_WASI_ENOENT 44
#define WASMPLUG_WASI_ENOSYS 52
#define WASMPLUG_WASI_ENOTSUP 58
#define WASMPLUG_WASI_EROFS 69
#define WASMPLUG_WASI_ENOTCAPABLE 76

/** The import module name, "wasi_snapshot_preview1". */
#define WASMPLUG_WASI_MODULE "wasi_snapshot_preview1"

typedef struct wasmplug_wasi_ctx wasmplug_wasi_ctx;

/** A host directory made visible to the module under guest_path. */
typedef struct wasmplug_wasi_preopen {
    const char *host_path;  /* an existing directory on the host */
    const char *guest_path; /* the name the module sees ("/data", "."); NULL = host_path */
    bool read_only;         /* no creating, writing, renaming, removing or linking */
} wasmplug_wasi_preopen;

/**
 * Receives what the module writes to stdout (fd 1) or stderr (fd 2), in
 * order, on the thread running the module, during its fd_write call.
 */
typedef void (*wasmplug_wasi_output_fn)(void *user, int fd, const uint8_t *data, size_t len);

/**
 * What a context gives its module. Every pointer is copied by
 * wasmplug_wasi_new (nothing needs to outlive that call except output_user).
 * Zero-initialize (or use wasmplug_wasi_config_init) and set what you need:
 * the default is no arguments, no environment, empty stdin, captured
 * output, no directories, real clocks and real random bytes.
 */
typedef struct wasmplug_wasi_config {
    const char *const *args;      /* argv, args[0] is the program name by convention */
    size_t arg_count;
    const char *const *env;       /* "NAME=VALUE" entries given to the module as is */
    size_t env_count;
    const char *const *env_inherit; /* allowlist: names (or patterns with '*') of the
                                       host process's variables the module may see */
    size_t env_inherit_count;
    const wasmplug_wasi_preopen *preopens; /* become fds 3, 4, ... in this order */
    size_t preopen_count;
    const uint8_t *stdin_data;    /* stdin bytes (copied); read to the end, then EOF */
    size_t stdin_len;
    bool stdin_inherit;           /* read the host's fd 0 instead of stdin_data */
    wasmplug_wasi_output_fn on_output; /* NULL: stdout/stderr are captured in buffers */
    void *output_user;
    size_t max_capture;           /* bytes kept per captured stream; 0 = 16 MiB
                                     (beyond it, output is dropped and counted) */
    bool deterministic;           /* fixed clocks and seeded random (tests, replay) */
    uint64_t clock_start_ns;      /* deterministic: the realtime clock's value (ns since
                                     the epoch); monotonic starts at 0. Only sleeping
                                     (poll_oneoff) advances them. */
    uint64_t random_seed;         /* deterministic: random_get's seed */
} wasmplug_wasi_config;

/** Zero cfg (the defaults). */
WASMPLUG_API void wasmplug_wasi_config_init(wasmplug_wasi_config *cfg);

/**
 * Create a context: copies the configuration, opens every preopened
 * directory (ERR_IO naming the directory if one cannot be opened),
 * resolves the inherited environment now. ERR_ARGUMENT for a bad
 * configuration (NULL strings, an env entry without '=', a guest path
 * that is empty). *out is freed with wasmplug_wasi_free. err may be NULL.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_new(wasmplug_engine *engine,
                                               const wasmplug_wasi_config *cfg,
                                               wasmplug_wasi_ctx **out, wasmplug_error *err);
/**
 * Free a context: closes every descriptor the module opened and the
 * preopens, frees captured output and the functions made by
 * wasmplug_wasi_link / wasmplug_wasi_import that the context still owns.
 * No instance linked to it may be called afterwards. NULL is fine.
 */
WASMPLUG_API void wasmplug_wasi_free(wasmplug_wasi_ctx *ctx);

/**
 * Whether name (len bytes) is a function of wasi_snapshot_preview1 this
 * library implements; if so and type is not NULL, *type gets its wasm type
 * (arrays static, valid forever).
 */
WASMPLUG_API bool wasmplug_wasi_function(const char *name, size_t len,
                                         wasmplug_functype *type);

/**
 * A new host function implementing WASI function name, bound to ctx.
 * ERR_NOT_FOUND for an unknown name. The caller owns the reference
 * (wasmplug_func_free); the context must outlive it being called.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_import(wasmplug_wasi_ctx *ctx, const char *name,
                                                  size_t len, wasmplug_func **out);

/**
 * For hosts that reuse one set of imports across many instances (a pool):
 * a WASI function that finds its context at call time with resolve(caller,
 * user). A NULL context makes the function return ENOSYS (proc_exit still
 * exits). The caller owns the reference; finalizer (may be NULL) gets user
 * when the function is freed.
 */
typedef wasmplug_wasi_ctx *(*wasmplug_wasi_resolve_fn)(wasmplug_caller *caller, void *user);
WASMPLUG_API wasmplug_status wasmplug_wasi_import_resolved(wasmplug_engine *engine,
                                                           const char *name, size_t len,
                                                           wasmplug_wasi_resolve_fn resolve,
                                                           void *user,
                                                           void (*finalizer)(void *user),
                                                           wasmplug_func **out);

/**
 * Fill imports[i] for every import i of module from wasi_snapshot_preview1
 * (imports has wasmplug_module_import_count(module) entries); other entries
 * are left untouched. The functions are owned by ctx (the instance retains
 * what it uses). ERR_LINK naming the import if one is unknown or has
 * another type.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_link(wasmplug_wasi_ctx *ctx, wasmplug_module *module,
                                                wasmplug_extern *imports, wasmplug_error *err);

/**
 * Instantiate a WASI command or reactor whose only imports are WASI
 * functions (ERR_LINK otherwise). icfg may be NULL; its defer_start is
 * forced on, so the start section runs in wasmplug_wasi_start where it can
 * be interrupted. *out is freed with wasmplug_instance_free.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_instantiate(wasmplug_wasi_ctx *ctx,
                                                       wasmplug_module *module,
                                                       const wasmplug_instance_config *icfg,
                                                       wasmplug_instance **out,
                                                       wasmplug_error *err);
/**
 * Run a command instance: its start section, then "_start" (ERR_NOT_FOUND
 * if it exports none with type () -> ()). Returning from _start is exit
 * code 0; proc_exit(n) is exit code n with WASMPLUG_OK. Any other trap or
 * limit returns its error (ERR_TRAP, ERR_FUEL ...), *exit_code untouched.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_start(wasmplug_wasi_ctx *ctx,
                                                 wasmplug_instance *instance,
                                                 int32_t *exit_code, wasmplug_error *err);
/** wasmplug_wasi_instantiate + wasmplug_wasi_start + free the instance. */
WASMPLUG_API wasmplug_status wasmplug_wasi_run_command(wasmplug_wasi_ctx *ctx,
                                                       wasmplug_module *module,
                                                       const wasmplug_instance_config *icfg,
                                                       int32_t *exit_code,
                                                       wasmplug_error *err);

/**
 * The output captured for fd 1 (stdout) or 2 (stderr) so far (only when
 * the config had no on_output). *data points into the context (valid until
 * the next call into the module or wasmplug_wasi_output_clear); *dropped
 * (may be NULL) gets the bytes dropped past max_capture. ERR_ARGUMENT for
 * another fd.
 */
WASMPLUG_API wasmplug_status wasmplug_wasi_output(wasmplug_wasi_ctx *ctx, int fd,
                                                  const uint8_t **data, size_t *len,
                                                  uint64_t *dropped);
/** Empty both capture buffers (e.g. between calls). */
WASMPLUG_API void wasmplug_wasi_output_clear(wasmplug_wasi_ctx *ctx);

/** The name of a WASI errno ("EBADF", "ENOTCAPABLE"); "E?" if unknown. */
WASMPLUG_API const char *wasmplug_wasi_errno_name(uint32_t wasi_errno);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_WASI_H */
