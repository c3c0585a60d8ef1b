/*
 * reactor.c - a C plugin built against wasi-libc as a WASI reactor
 * (clang --target=wasm32-wasi -mexec-model=reactor): exports _initialize
 * plus functions that use libc (snprintf, qsort, malloc, strlen, stdio).
 *
 * Compiled natively into tests/toolchains/test_toolchains.c too (with
 * WP_PLUGIN_NATIVE), so the expected strings and numbers come from the host
 * libc. Results avoid anything that differs between wasi-libc and glibc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef WP_PLUGIN_NATIVE
#define EXPORT(name) static __attribute__((unused))
#else
#define EXPORT(name) __attribute__((export_name(#name)))
#endif

static char rx_text[256];

/* Address of the text buffer the format_* functions write into. */
EXPORT(text_ptr) const char *rx_text_ptr(void)
{
    return rx_text;
}

/* snprintf with integers; returns the string length. */
EXPORT(format_int) int32_t rx_format_int(int32_t v)
{
    return snprintf(rx_text, sizeof rx_text, "v=%d hex=%#x oct=%o pad=[%6d] [%-5d]", v,
                    (unsigned)v, (unsigned)v, v % 1000, v % 100);
}

/* snprintf with doubles (fixed and exponent notation). */
EXPORT(format_double) int32_t rx_format_double(double v)
{
    return snprintf(rx_text, sizeof rx_text, "%.3f|%.6e|%g", v, v, v);
}

static uint32_t rx_seed;

static uint32_t rx_next(void)
{
    rx_seed ^= rx_seed << 13;
    rx_seed ^= rx_seed >> 17;
    rx_seed ^= rx_seed << 5;
    return rx_seed;
}

static int rx_cmp(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* malloc an array of n pseudo-random ints, qsort it, return a position-
 * weighted checksum of the sorted array (-1 if malloc fails). */
EXPORT(sort_checksum) int64_t rx_sort_checksum(uint32_t seed, int32_t n)
{
    if (n <= 0)
        return 0;
    int32_t *v = malloc((size_t)n * sizeof *v);
    if (!v)
        return -1;
    rx_seed = seed ? seed : 1;
    for (int32_t i = 0; i < n; i++)
        v[i] = (int32_t)(rx_next() % 2000001u) - 1000000;
    qsort(v, (size_t)n, sizeof *v, rx_cmp);
    uint64_t sum = 0;
    for (int32_t i = 0; i < n; i++)
        sum += (uint64_t)(int64_t)v[i] * (uint64_t)(i + 1);
    for (int32_t i = 1; i < n; i++) {
        if (v[i - 1] > v[i]) {
            free(v);
            return -2;
        }
    }
    free(v);
    return (int64_t)sum;
}

/* Many malloc/free calls (the allocator grows memory); returns a sum of
 * the lengths of strings built with strcat/strlen. */
EXPORT(string_work) int32_t rx_string_work(int32_t n)
{
    int32_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        size_t cap = 64 + (size_t)i * 3;
        char *s = malloc(cap);
        if (!s)
            return -1;
        s[0] = '\0';
        for (int32_t j = 0; j <= i % 7; j++) {
            char part[16];
            snprintf(part, sizeof part, "%d,", i * j);
            if (strlen(s) + strlen(part) < cap)
                strcat(s, part);
        }
        total += (int32_t)strlen(s);
        free(s);
    }
    return total;
}

/* Writes to stdout (fd_write in wasm); returns the number of characters. */
EXPORT(say_hello) int32_t rx_say_hello(int32_t n)
{
    int r = printf("hello from a wasi reactor, n=%d\n", n);
    fflush(stdout);
    return r;
}

/* Global constructor: runs from _initialize in the reactor. */
static int32_t rx_ctor_value;
static volatile int32_t rx_ctor_seed = 42; /* volatile: keep the ctor real */

__attribute__((constructor)) static void rx_ctor(void)
{
    rx_ctor_value = rx_ctor_seed * 101;
}

EXPORT(ctor_value) int32_t rx_get_ctor_value(void)
{
    return rx_ctor_value;
}
