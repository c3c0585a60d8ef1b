/*
 * ev_compat.c - an event subscriber in the compatibility ABI (seed 004):
 * plugin_handle_event(ptr, len) counts events and answers
 * {"handled":N}; `count` (typed, () -> i32) returns N.
 */
#include <stdint.h>

#define EXPORT(n) __attribute__((export_name(n)))

static unsigned char heap[1 << 17];
static uint32_t top;
static int32_t live, handled;

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
    if (live > 0 && --live == 0)
        top = 0;
}

EXPORT("plugin_handle_event") uint64_t handle_event(const uint8_t *ptr, uint32_t len)
{
    (void)ptr;
    (void)len;
    handled++;
    static const char text[] = "{\"handled\":";
    uint8_t *out = alloc(32);
    uint32_t o = 0;
    for (; text[o]; o++)
        out[o] = (uint8_t)text[o];
    char digits[12];
    int32_t n = 0, v = handled;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        out[o++] = (uint8_t)digits[--n];
    out[o++] = '}';
    return ((uint64_t)(uintptr_t)out << 32) | o;
}

EXPORT("count") int32_t count(void)
{
    return handled;
}
