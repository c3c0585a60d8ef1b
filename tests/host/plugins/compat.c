/*
 * compat.c - a plugin in the compatibility ABI (freestanding C):
 * alloc/dealloc (a bump allocator with a free count), plugin_get_manifest,
 * plugin_initialize, plugin_handle_event(ptr, len) -> packed u64 (reverses
 * the event bytes) and plugin_dispose.
 */
#include <stdint.h>

#define EXPORT(n) __attribute__((export_name(n)))

static unsigned char heap[1 << 16];
static uint32_t top;
static int32_t live, initialized;

EXPORT("alloc") uint8_t *alloc(uint32_t size)
{
    uint32_t at = (top + 7u) & ~7u;
    if (size > sizeof heap - at)
        return 0;
    top = at + size;
    live++;
    return heap + at;
}

EXPORT("dealloc") void dealloc(uint8_t *ptr, uint32_t size)
{
    (void)ptr;
    (void)size;
    if (--live == 0)
        top = 0;
}

static uint64_t pack(const uint8_t *p, uint32_t len)
{
    return ((uint64_t)(uintptr_t)p << 32) | len;
}

EXPORT("plugin_get_manifest") uint64_t get_manifest(void)
{
    static const char m[] = "{\"id\":\"compat\",\"version\":\"1.0.0\"}";
    uint8_t *p = alloc(sizeof m - 1);
    for (uint32_t i = 0; i < sizeof m - 1; i++)
        p[i] = (uint8_t)m[i];
    return pack(p, sizeof m - 1);
}

EXPORT("plugin_initialize") int32_t initialize(void)
{
    initialized = 1;
    return 0;
}

EXPORT("plugin_handle_event") uint64_t handle_event(const uint8_t *ptr, uint32_t len)
{
    uint8_t *out = alloc(len + 1);
    out[0] = initialized ? '+' : '-';
    for (uint32_t i = 0; i < len; i++)
        out[1 + i] = ptr[len - 1 - i];
    return pack(out, len + 1);
}

/* Returns a result pointer outside memory: the host must refuse it. */
EXPORT("bad_result") uint64_t bad_result(const uint8_t *ptr, uint32_t len)
{
    (void)ptr;
    (void)len;
    return ((uint64_t)0xFFFFFF00u << 32) | 512u;
}

EXPORT("live") int32_t get_live(void)
{
    return live;
}

EXPORT("plugin_dispose") int32_t dispose(void)
{
    return 0;
}
