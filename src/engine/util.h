/*
 * util.h - internal helpers shared by the engine: visibility, allocation
 * through the engine's hook, an arena for module-lifetime data, and filling
 * wasmplug_error.
 *
 * Naming: public symbols are wasmplug_*, internal non-static ones wp_* and
 * marked WP_INTERNAL (hidden), everything else is static.
 */
#ifndef WP_UTIL_H
#define WP_UTIL_H

#include "wasmplug/engine.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define WP_INTERNAL __attribute__((visibility("hidden")))
#define WP_LIKELY(x) __builtin_expect(!!(x), 1)
#define WP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define WP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WP_INTERNAL
#define WP_LIKELY(x) (x)
#define WP_UNLIKELY(x) (x)
#define WP_PRINTF(a, b)
#endif

/* Allocation through the engine's hook. Sizes are passed back on free/realloc
 * because the hook is realloc-style with explicit sizes. */
WP_INTERNAL void *wp_malloc(wasmplug_engine *e, size_t size);
WP_INTERNAL void *wp_calloc(wasmplug_engine *e, size_t count, size_t size); /* NULL on overflow */
WP_INTERNAL void *wp_realloc(wasmplug_engine *e, void *p, size_t old_size, size_t new_size);
WP_INTERNAL void wp_free(wasmplug_engine *e, void *p, size_t size);

/*
 * Grow a dynamic array so that it holds at least `need` elements of `elem`
 * bytes. *cap is in elements. Returns false on overflow or out of memory
 * (the array is left as it was).
 */
WP_INTERNAL bool wp_grow(wasmplug_engine *e, void **array, size_t *cap, size_t need, size_t elem);

/* An arena: many allocations freed together (module-lifetime data). */
typedef struct wp_arena_chunk wp_arena_chunk;
typedef struct wp_arena {
    wasmplug_engine *engine;
    wp_arena_chunk *chunks;
} wp_arena;

WP_INTERNAL void wp_arena_init(wp_arena *a, wasmplug_engine *e);
/* 16-byte aligned, zeroed memory; NULL when out of memory. */
WP_INTERNAL void *wp_arena_alloc(wp_arena *a, size_t size);
/* A NUL-terminated copy of len bytes. */
WP_INTERNAL char *wp_arena_strndup(wp_arena *a, const char *s, size_t len);
WP_INTERNAL void wp_arena_free(wp_arena *a);

/* Fill err (if not NULL) and return status. offset: UINT64_MAX if unknown. */
WP_INTERNAL wasmplug_status wp_error(wasmplug_error *err, wasmplug_status status,
                                     uint64_t offset, const char *fmt, ...) WP_PRINTF(4, 5);
WP_INTERNAL wasmplug_status wp_verror(wasmplug_error *err, wasmplug_status status,
                                      uint64_t offset, const char *fmt, va_list ap);

#define WP_NO_OFFSET UINT64_MAX

#endif
