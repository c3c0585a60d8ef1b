/*
 * util.c - allocation through the engine's hook, the module arena, and
 * filling wasmplug_error. Every allocation the engine makes (outside
 * guard-page memory mappings) goes through here, so an embedder's allocator
 * sees and can limit all of it.
 */
#include "util.h"
#include "runtime.h"

#include <stdio.h>
#include <string.h>

void *wp_realloc(wasmplug_engine *e, void *p, size_t old_size, size_t new_size)
{
    return e->alloc(e->alloc_user, p, old_size, new_size);
}

void *wp_malloc(wasmplug_engine *e, size_t size)
{
    if (size == 0)
        size = 1; /* the hook treats 0 as "free": ask for a byte instead */
    return e->alloc(e->alloc_user, NULL, 0, size);
}

void *wp_calloc(wasmplug_engine *e, size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    size_t total = count * size;
    void *p = wp_malloc(e, total);
    if (p)
        memset(p, 0, total ? total : 1);
    return p;
}

void wp_free(wasmplug_engine *e, void *p, size_t size)
{
    if (p)
        e->alloc(e->alloc_user, p, size ? size : 1, 0);
}

bool wp_grow(wasmplug_engine *e, void **array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t new_cap = *cap ? *cap : 8;
    while (new_cap < need) {
        if (new_cap > SIZE_MAX / 2)
            return false;
        new_cap *= 2;
    }
    if (elem != 0 && new_cap > SIZE_MAX / elem)
        return false;
    void *p = *array ? wp_realloc(e, *array, *cap * elem, new_cap * elem)
                     : wp_malloc(e, new_cap * elem);
    if (!p)
        return false;
    *array = p;
    *cap = new_cap;
    return true;
}

/* Arena chunks: a header followed by the data. Large requests get a chunk of
 * their own so a few big arrays don't waste the rest of a standard chunk. */
struct wp_arena_chunk {
    wp_arena_chunk *next;
    size_t size;  /* data bytes */
    size_t used;
    _Alignas(16) unsigned char data[];
};

#define WP_ARENA_CHUNK 16384u

void wp_arena_init(wp_arena *a, wasmplug_engine *e)
{
    a->engine = e;
    a->chunks = NULL;
}

void *wp_arena_alloc(wp_arena *a, size_t size)
{
    size = (size + 15u) & ~(size_t)15u;
    if (size == 0)
        size = 16;
    wp_arena_chunk *c = a->chunks;
    if (!c || c->size - c->used < size) {
        size_t data_size = size > WP_ARENA_CHUNK / 4 ? size : WP_ARENA_CHUNK;
        if (data_size > SIZE_MAX - sizeof(wp_arena_chunk))
            return NULL;
        wp_arena_chunk *n = wp_malloc(a->engine, sizeof(wp_arena_chunk) + data_size);
        if (!n)
            return NULL;
        n->size = data_size;
        n->used = 0;
        if (c && data_size != WP_ARENA_CHUNK) {
            /* a dedicated chunk: keep the current one on top for small allocations */
            n->next = c->next;
            c->next = n;
        } else {
            n->next = c;
            a->chunks = n;
        }
        c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    memset(p, 0, size);
    return p;
}

char *wp_arena_strndup(wp_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return NULL;
    char *p = wp_arena_alloc(a, len + 1);
    if (p) {
        if (len)
            memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

void wp_arena_free(wp_arena *a)
{
    wp_arena_chunk *c = a->chunks;
    while (c) {
        wp_arena_chunk *next = c->next;
        wp_free(a->engine, c, sizeof(wp_arena_chunk) + c->size);
        c = next;
    }
    a->chunks = NULL;
}

wasmplug_status wp_verror(wasmplug_error *err, wasmplug_status status, uint64_t offset,
                          const char *fmt, va_list ap)
{
    if (err) {
        memset(err, 0, offsetof(wasmplug_error, frames));
        err->status = status;
        err->trap = WASMPLUG_TRAP_NONE;
        err->offset = offset;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return status;
}

wasmplug_status wp_error(wasmplug_error *err, wasmplug_status status, uint64_t offset,
                         const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wp_verror(err, status, offset, fmt, ap);
    va_end(ap);
    return status;
}
