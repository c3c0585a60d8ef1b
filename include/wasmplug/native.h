/*
 * wasmplug/native.h - the native tier: a module compiled ahead of time to
 * machine code by the system C compiler, run by the same engine.
 *
 * A validated module is translated to C (one C function per wasm function)
 * and compiled with `cc -O2` into a shared object, which
 * wasmplug_module_attach_native loads into the module. From then on every
 * call that enters one of the module's instances from C (wasmplug_func_call,
 * the plugin host's calls, start functions) runs native code; a call already
 * running finishes in the interpreter. The semantics are the interpreter's:
 * the same fuel per region (function entries and loop headers, checking the
 * interrupt flag there), call depth, memory limits, traps with backtraces,
 * guard-page or explicit bounds, host functions and imports.
 *
 * A shared object is code execution. The engine checks that a shared object
 * was made for this module (hash of its bytes), this engine build and its
 * bounds mode, but cannot tell a forged one: load only objects you made, kept
 * where no one else can write (the `wasmplug` command's cache records a
 * SHA-256 digest at compile time and checks it before loading).
 *
 * Modules using SIMD (v128) are not compiled: wasmplug_native_supported says
 * why, and they keep running in the interpreter.
 */
#ifndef WASMPLUG_NATIVE_H
#define WASMPLUG_NATIVE_H

#include "wasmplug/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How the C compiler is run. Every field may be NULL/zero for defaults. */
typedef struct wasmplug_native_options {
    const char *cc;      /* compiler command (words split at spaces); NULL: $WASMPLUG_CC,
                            else $CC, else "cc" */
    const char *cflags;  /* optimization flags; NULL: "-O2" (the flags the code needs,
                            -shared -fPIC -nostdlib ..., are always added) */
    const char *tmp_dir; /* where the C file is written; NULL: $TMPDIR, else /tmp */
} wasmplug_native_options;

/**
 * Whether the native tier can compile module; if not, why[] says why (e.g.
 * "the module uses SIMD (v128) ..."). why may be NULL.
 */
WASMPLUG_API bool wasmplug_native_supported(const wasmplug_module *module, char *why,
                                            size_t why_size);

/**
 * The C source for module (for the engine's bounds mode), in *c_source
 * (NUL-terminated, free with wasmplug_native_free), *size bytes (size may
 * be NULL). ERR_UNSUPPORTED when the tier cannot compile it.
 */
WASMPLUG_API wasmplug_status wasmplug_native_emit_c(const wasmplug_module *module,
                                                    char **c_source, size_t *size,
                                                    wasmplug_error *err);
WASMPLUG_API void wasmplug_native_free(char *c_source);

/**
 * Translate module to C and compile it into the shared object so_path
 * (written by the compiler; the caller picks a place only it can write).
 * ERR_UNSUPPORTED (see wasmplug_native_supported), ERR_IO when the compiler
 * cannot be run or fails (the message quotes its first output).
 */
WASMPLUG_API wasmplug_status wasmplug_native_compile(const wasmplug_module *module,
                                                     const char *so_path,
                                                     const wasmplug_native_options *options,
                                                     wasmplug_error *err);

/**
 * The compiler's identity for cache keys: the command, the first line of its
 * `--version`, the flags and the code's ABI version, in id (NUL-terminated).
 * ERR_NOT_FOUND when the compiler cannot be run.
 */
WASMPLUG_API wasmplug_status wasmplug_native_compiler_id(const wasmplug_native_options *options,
                                                         char *id, size_t id_size);

/** The bounds mode engine resolved (GUARD_PAGES or EXPLICIT, never AUTO):
 * native code is made for one, and cache keys include it. */
WASMPLUG_API wasmplug_bounds_mode wasmplug_engine_bounds(const wasmplug_engine *engine);

/** A key of this engine build (its sources and the native ABI) for cache keys. */
WASMPLUG_API uint64_t wasmplug_native_engine_key(void);

/**
 * Load the shared object so_path, made by wasmplug_native_compile for this
 * module on this engine build and bounds mode, and attach it: from now on
 * calls entering the module's instances from C run native code (instances
 * whose tier is WASMPLUG_TIER_AUTO). Thread-safe, also while instances are
 * serving calls (this is how a host tiers up in the background); a second
 * attach is a no-op. ERR_SERIALIZATION when the object belongs to another
 * module, engine build or bounds mode; ERR_IO when it cannot be loaded.
 */
WASMPLUG_API wasmplug_status wasmplug_module_attach_native(wasmplug_module *module,
                                                           const char *so_path,
                                                           wasmplug_error *err);
/**
 * Compile module (as wasmplug_native_compile, into a directory made for it
 * with mode 0700 under options->tmp_dir) and attach the code; the file is
 * removed once loaded. OK at once when native code is attached already.
 */
WASMPLUG_API wasmplug_status wasmplug_module_compile_native(wasmplug_module *module,
                                                            const wasmplug_native_options *options,
                                                            wasmplug_error *err);

/** Where a module's native code stands. */
typedef enum wasmplug_native_state {
    WASMPLUG_NATIVE_NONE = 0,     /* not compiled, no compile running */
    WASMPLUG_NATIVE_COMPILING,    /* a background compile runs */
    WASMPLUG_NATIVE_READY,        /* attached: new calls run native code */
    WASMPLUG_NATIVE_FAILED,       /* the background compile failed (why says why) */
    WASMPLUG_NATIVE_UNSUPPORTED   /* the tier cannot compile this module (why says why) */
} wasmplug_native_state;

/**
 * Tier up in the background: a thread compiles and attaches the module's
 * native code (wasmplug_module_compile_native) while its instances keep
 * serving calls in the interpreter; each call that starts after the code is
 * attached runs natively, none is lost or changes its result. Freeing the
 * module stops the compile and waits for its thread. OK when started (or already running or
 * done); ERR_UNSUPPORTED when the tier cannot compile the module.
 */
WASMPLUG_API wasmplug_status wasmplug_module_compile_native_async(
    wasmplug_module *module, const wasmplug_native_options *options);
/** The state of the module's native code, and for FAILED and UNSUPPORTED
 * why (why may be NULL). */
WASMPLUG_API wasmplug_native_state wasmplug_module_native_state(const wasmplug_module *module,
                                                                char *why, size_t why_size);
/** Wait for a background compile of module to end; with cancel, stop the
 * compiler first (the state becomes FAILED, "cancelled"). */
WASMPLUG_API void wasmplug_module_native_wait(wasmplug_module *module, bool cancel);

/** Whether native code is attached to module. */
WASMPLUG_API bool wasmplug_module_has_native(const wasmplug_module *module);

/** Which code an instance's calls run. */
typedef enum wasmplug_tier {
    WASMPLUG_TIER_AUTO = 0,       /* native code when attached, else the interpreter */
    WASMPLUG_TIER_INTERPRETER = 1 /* always the interpreter */
} wasmplug_tier;

/** Choose the tier of an instance's following calls. Thread-safe. */
WASMPLUG_API void wasmplug_instance_set_tier(wasmplug_instance *instance, wasmplug_tier tier);
/** How many calls from C into this instance ran native code (0: none did;
 * an instance whose memory has no guard pages while the code relies on them
 * runs in the interpreter). */
WASMPLUG_API uint64_t wasmplug_instance_native_calls(const wasmplug_instance *instance);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_NATIVE_H */
