/*
 * hello.c - a small example plugin in freestanding C (no libc), built with
 * clang --target=wasm32. It shows the three things a plugin usually does:
 * compute on numbers (fib), work on bytes in its linear memory (reverse),
 * and call back into its host (greet, through the imports host.add and
 * host.log, which need a grant: wasmplug run ... --grant 'host.*').
 *
 * The host writes strings into the plugin's memory at the address returned
 * by buffer(), which is a static array here so the plugin needs no allocator.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))

/* Provided by the host: print len bytes at ptr in this plugin's memory. */
IMPORT("host", "log") void host_log(const char *ptr, uint32_t len);
/* Provided by the host: a + b (the wasmplug command's host.add). */
IMPORT("host", "add") int32_t host_add(int32_t a, int32_t b);

static char buf[4096];

EXPORT("buffer") char *buffer(void) { return buf; }
EXPORT("buffer_size") uint32_t buffer_size(void) { return sizeof buf; }

/* The n-th Fibonacci number, iteratively (fib(0) = 0, fib(1) = 1). */
EXPORT("fib") uint64_t fib(uint32_t n)
{
    uint64_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

/* Reverse the len bytes at ptr in place; returns len, or -1 if out of buf. */
EXPORT("reverse") int32_t reverse(char *ptr, uint32_t len)
{
    if (ptr < buf || len > sizeof buf || (uint32_t)(ptr - buf) > sizeof buf - len)
        return -1;
    for (uint32_t i = 0, j = len; i + 1 < j; i++, j--) {
        char t = ptr[i];
        ptr[i] = ptr[j - 1];
        ptr[j - 1] = t;
    }
    return (int32_t)len;
}

static uint32_t append(uint32_t at, const char *s)
{
    while (*s && at < sizeof buf)
        buf[at++] = *s++;
    return at;
}

/* Build "Hello, <name>! 2 + 3 = 5" in buf (name = the len bytes at buf) and
 * hand it to the host's log function; returns the host's sum. */
EXPORT("greet") int32_t greet(uint32_t len)
{
    static char name[64];
    if (len > sizeof name)
        len = sizeof name;
    for (uint32_t i = 0; i < len; i++)
        name[i] = buf[i];
    uint32_t at = append(0, "Hello, ");
    for (uint32_t i = 0; i < len && at < sizeof buf; i++)
        buf[at++] = name[i];
    at = append(at, "! 2 + 3 = ");
    int32_t sum = host_add(2, 3);
    char digits[12];
    uint32_t nd = 0;
    uint32_t v = sum < 0 ? (uint32_t)0 - (uint32_t)sum : (uint32_t)sum;
    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && nd < sizeof digits);
    if (sum < 0)
        at = append(at, "-");
    while (nd && at < sizeof buf)
        buf[at++] = digits[--nd];
    host_log(buf, at);
    return sum;
}
