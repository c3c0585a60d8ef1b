/*
 * native_cache.h - the cache of native code (shared objects made by the
 * engine's native tier, wasmplug/native.h) used by `wasmplug compile`,
 * `run`, `exec` and `install`.
 *
 * A shared object is code execution, so the cache is strict:
 *  - its directory (<compiled-module cache>/native, see cache.h) is made
 *    0700 and must be a directory owned by the user and writable by no one
 *    else (else the cache is not used, and the note says why);
 *  - an entry is named by the SHA-256 of everything its code depends on:
 *    the module's bytes, the engine build (wasmplug_native_engine_key), the
 *    bounds mode, the compiler's identity and flags (the command, the file
 *    it resolves to with its size and time, "-O2": known without running it);
 *  - at compile time the SHA-256 of the object is recorded beside it
 *    (<key>.sha256); before loading, the object is opened (no symlinks),
 *    checked to be a regular file owned by the user and writable by no one
 *    else, hashed from that open descriptor and compared with the record,
 *    and dlopen'ed through that same descriptor (/proc/self/fd/N), so what
 *    was checked is what is loaded. Anything that fails a check is deleted
 *    and rebuilt (when compiling is allowed), never loaded.
 * The engine then checks that the object belongs to this module, engine
 * build and bounds mode.
 */
#ifndef WASMPLUG_SERVICES_NATIVE_CACHE_H
#define WASMPLUG_SERVICES_NATIVE_CACHE_H

#include <wasmplug/engine.h>

#include <stdbool.h>

typedef enum wps_native_result {
    WPS_NATIVE_OFF = 0,      /* no native code: not asked, or no usable cache */
    WPS_NATIVE_HIT,          /* found in the cache, verified and attached */
    WPS_NATIVE_COMPILED,     /* compiled now, stored and attached */
    WPS_NATIVE_REBUILT,      /* the entry failed a check: deleted, compiled, attached */
    WPS_NATIVE_MISSING,      /* not in the cache (and compiling was not asked for) */
    WPS_NATIVE_UNSUPPORTED,  /* the module cannot be compiled (note says why) */
    WPS_NATIVE_FAILED        /* compiling or loading failed (note says why) */
} wps_native_result;

typedef struct wps_native_info {
    wps_native_result result;
    char path[4096];        /* the entry's shared object */
    char note[1024];        /* why it was rebuilt, not used or failed ("" if none) */
    double compile_ms;      /* wall-clock time of the C compiler, when it ran */
    size_t object_size;     /* bytes of the shared object */
    bool rejected;          /* an entry failed a check and was deleted (note says why) */
} wps_native_info;

/** "hit", "compiled", "rebuilt", "missing", "unsupported", "failed", "off". */
const char *wps_native_result_name(wps_native_result r);

/**
 * Attach native code to module m (made from wasm[0..size) on an engine of
 * the given bounds mode: wasmplug_memory_bounds of its memories, or the
 * engine's configured mode) from the cache under cache_dir (the
 * compiled-module cache directory, cache.h; NULL: do nothing). When the
 * entry is missing or fails a check, compile it if compile is true. Never
 * fails the caller: info says what happened (m keeps running in the
 * interpreter when no native code could be attached).
 */
void wps_native_attach(wasmplug_module *m, const uint8_t *wasm, size_t size,
                       wasmplug_bounds_mode bounds, const char *cache_dir, bool compile,
                       wps_native_info *info);

#endif
