/*
 * cache.h - the on-disk compiled-module cache (services layer, used by
 * `wasmplug run`): repeated runs of the same module skip validation and
 * compilation by loading the engine's serialized form
 * (wasmplug_module_serialize / _deserialize).
 *
 * Directory: an explicit one (--cache-dir), else $WASMPLUG_CACHE_DIR, else
 * $XDG_CACHE_HOME/wasmplug/modules, else ~/.cache/wasmplug/modules.
 * Entry: <128-bit content hash of the wasm bytes>-<size>-<engine version>
 * .wpcm; an engine build whose instruction set or bounds-check mode differs
 * is caught by the fingerprint inside the entry (then rebuilt). Entries are
 * written atomically (temporary file + rename). A damaged, truncated or
 * foreign entry is detected (checksum + structural checks), deleted, and
 * rebuilt from the wasm; a cache that cannot be written is skipped with a
 * note. The cache directory must not be writable by untrusted users (the
 * checksum detects accidents, not forgeries).
 */
#ifndef WASMPLUG_SERVICES_CACHE_H
#define WASMPLUG_SERVICES_CACHE_H

#include <wasmplug/engine.h>

#define WPS_ENV_CACHE_DIR "WASMPLUG_CACHE_DIR"

typedef enum wps_cache_result {
    WPS_CACHE_OFF = 0,  /* no cache used */
    WPS_CACHE_HIT,      /* loaded from the cache */
    WPS_CACHE_MISS,     /* compiled (and stored, unless note says otherwise) */
    WPS_CACHE_REBUILT   /* the entry was invalid: deleted, compiled, stored again */
} wps_cache_result;

typedef struct wps_cache_info {
    wps_cache_result result;
    char path[4096];   /* the entry's file */
    char note[1024];    /* why an entry was rebuilt, or why it was not written ("" if none) */
} wps_cache_info;

/** The cache directory (malloc'd), from override or the environment; NULL
 *  when none can be determined. */
char *wps_cache_dir(const char *override);

/** "hit", "miss", "rebuilt" or "off". */
const char *wps_cache_result_name(wps_cache_result r);

/**
 * The compiled module for wasm[0..size) on engine e: from the cache in dir
 * (NULL: no cache, plain wasmplug_module_new), else compiled and stored.
 * Returns the status of wasmplug_module_new when the module itself is
 * broken; cache problems never fail the call (info->note says what
 * happened).
 */
wasmplug_status wps_cache_load(wasmplug_engine *e, const char *dir, const uint8_t *wasm,
                               size_t size, wasmplug_module **out, wps_cache_info *info,
                               wasmplug_error *err);

#endif
