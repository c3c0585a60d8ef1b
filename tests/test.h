/*
 * test.h - the tiny helper every C test program uses: CHECK macros that
 * count passes and failures and print each failure with its location,
 * test_done() that prints the closing "N passed, N failed" line and gives
 * the exit code, plus reading files and fixtures and choosing the engine's
 * bounds mode (--bounds MODE or WASMPLUG_TEST_BOUNDS=auto|guard|explicit).
 *
 * Header-only (static inline) so each test is a single .c file.
 */
#ifndef WASMPLUG_TEST_H
#define WASMPLUG_TEST_H

#include "wasmplug/engine.h"
#include "wasmplug/native.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int test_passed_count, test_failed_count;

static inline int test_check(int ok, const char *file, int line, const char *what)
{
    if (ok) {
        test_passed_count++;
    } else {
        test_failed_count++;
        printf("FAIL %s:%d: %s\n", file, line, what);
        fflush(stdout);
    }
    return ok;
}

/* CHECK(cond): counts one check; on failure prints the condition. */
#define CHECK(cond) test_check(!!(cond), __FILE__, __LINE__, #cond)

/* CHECK_EQ(a, b): integers, printing both values on failure. */
#define CHECK_EQ(a, b)                                                                 \
    do {                                                                               \
        long long test_a_ = (long long)(a), test_b_ = (long long)(b);                  \
        if (!test_check(test_a_ == test_b_, __FILE__, __LINE__, #a " == " #b))         \
            printf("     got %lld, expected %lld\n", test_a_, test_b_);                \
    } while (0)

/* CHECK_STATUS(expr, want): a wasmplug_status, printing names on failure. */
#define CHECK_STATUS(expr, want)                                                       \
    do {                                                                               \
        wasmplug_status test_s_ = (expr);                                              \
        if (!test_check(test_s_ == (want), __FILE__, __LINE__, #expr " == " #want))    \
            printf("     got %s, expected %s\n", wasmplug_strerror(test_s_),      \
                   wasmplug_strerror(want));                                      \
    } while (0)

/* CHECK_STR(a, b): strings, printing both on failure. */
#define CHECK_STR(a, b)                                                                \
    do {                                                                               \
        const char *test_sa_ = (a), *test_sb_ = (b);                                   \
        if (!test_check(test_sa_ && strcmp(test_sa_, test_sb_) == 0, __FILE__,         \
                        __LINE__, #a " == " #b))                                       \
            printf("     got \"%s\", expected \"%s\"\n", test_sa_ ? test_sa_ : "(null)", \
                   test_sb_);                                                          \
    } while (0)

/* CHECK_STR_CONTAINS(haystack, needle) */
#define CHECK_CONTAINS(hay, needle)                                                    \
    do {                                                                               \
        const char *test_h_ = (hay);                                                   \
        if (!test_check(test_h_ && strstr(test_h_, (needle)) != NULL, __FILE__,        \
                        __LINE__, #hay " contains \"" needle "\""))                     \
            printf("     got \"%s\"\n", test_h_ ? test_h_ : "(null)");                  \
    } while (0)

/* Print the summary line and return the process exit code. */
static inline int test_done(void)
{
    printf("%d passed, %d failed\n", test_passed_count, test_failed_count);
    return test_failed_count ? 1 : 0;
}

/* Milliseconds of a monotonic clock: how long something really took, so a
 * test can tell a limit that fired on a loaded machine (the call did run
 * that long) from one that fired early. */
static inline uint64_t test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The bounds mode from "--bounds MODE" in argv (removed from argv) or the
 * WASMPLUG_TEST_BOUNDS environment variable; AUTO when neither is given. */
static inline wasmplug_bounds_mode test_parse_bounds(const char *s)
{
    if (s && strcmp(s, "explicit") == 0)
        return WASMPLUG_BOUNDS_EXPLICIT;
    if (s && strcmp(s, "guard") == 0)
        return WASMPLUG_BOUNDS_GUARD_PAGES;
    return WASMPLUG_BOUNDS_AUTO;
}

static inline wasmplug_bounds_mode test_bounds(int *argc, char **argv)
{
    const char *mode = getenv("WASMPLUG_TEST_BOUNDS");
    for (int i = 1; argc && i < *argc; i++) {
        if (strcmp(argv[i], "--bounds") == 0 && i + 1 < *argc) {
            mode = argv[i + 1];
            memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 1) * sizeof *argv);
            *argc -= 2;
            break;
        }
    }
    return test_parse_bounds(mode);
}

static inline const char *test_bounds_name(wasmplug_bounds_mode m)
{
    return m == WASMPLUG_BOUNDS_EXPLICIT ? "explicit"
           : m == WASMPLUG_BOUNDS_GUARD_PAGES ? "guard" : "auto";
}

/* Read a whole file (malloc'd), or NULL. */
static inline uint8_t *test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *p = (uint8_t *)realloc(data, cap);
            if (!p) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = p;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    *size = len;
    return data;
}

#ifdef WP_TEST_FIXTURES
/* A fixture compiled at build time: tests/engine/fixtures/NAME.wat. Counts a
 * failed check when it is missing. */
static inline uint8_t *test_fixture(const char *name, size_t *size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_TEST_FIXTURES, name);
    uint8_t *data = test_read_file(path, size);
    if (!data)
        test_check(0, __FILE__, __LINE__, path);
    return data;
}
#endif

/* An engine with the chosen bounds mode and an optional allocator. */
static inline wasmplug_engine *test_engine_with(wasmplug_bounds_mode bounds,
                                                wasmplug_alloc_fn alloc, void *user)
{
    wasmplug_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bounds = bounds;
    cfg.alloc = alloc;
    cfg.alloc_user = user;
    wasmplug_engine *e = NULL;
    if (wasmplug_engine_new(&cfg, &e) != WASMPLUG_OK) {
        printf("FAIL: cannot create an engine\n");
        exit(1);
    }
    return e;
}

static inline wasmplug_engine *test_engine(void)
{
    return test_engine_with(test_parse_bounds(getenv("WASMPLUG_TEST_BOUNDS")), NULL, NULL);
}

static inline wasmplug_val test_i32(int32_t v)
{
    wasmplug_val r;
    r.type = WASMPLUG_I32;
    r.of.u64 = 0;
    r.of.i32 = v;
    return r;
}

static inline wasmplug_val test_i64(int64_t v)
{
    wasmplug_val r;
    r.type = WASMPLUG_I64;
    r.of.i64 = v;
    return r;
}

/* A v128 from its low and high 8 bytes (wasm byte order). */
static inline wasmplug_val test_v128(uint64_t lo, uint64_t hi)
{
    wasmplug_val r;
    r.type = WASMPLUG_V128;
    r.of.u64 = lo;
    r.of_hi.u64 = hi;
    return r;
}

/* wasmplug_module_new, and with WASMPLUG_TEST_TIER=native the module's
 * native code compiled and attached (a module the native tier cannot
 * compile stays interpreted), so a test runs through the native tier. */
static inline wasmplug_status test_module_new(wasmplug_engine *e, const uint8_t *bytes,
                                              size_t size, wasmplug_module **out,
                                              wasmplug_error *err)
{
    wasmplug_status st = wasmplug_module_new(e, bytes, size, out, err);
    const char *tier = getenv("WASMPLUG_TEST_TIER");
    if (st == WASMPLUG_OK && tier && !strcmp(tier, "native") &&
        wasmplug_native_supported(*out, NULL, 0)) {
        wasmplug_error cerr;
        if (wasmplug_module_compile_native(*out, NULL, &cerr) != WASMPLUG_OK) {
            printf("FAIL: native tier: %s\n", cerr.message);
            test_failed_count++;
        }
    }
    return st;
}

#endif
