/*
 * workload.h - shared glue for the benchmark workloads in bench/workloads/.
 *
 * Every workload is one C file built three ways from the same source:
 *   native (clang -O2, linked into the bench driver):
 *       -DWL_NATIVE_NAME=wl_<name>   defines  uint64_t wl_<name>(uint32_t n)
 *   wasm32 for wasmplug (clang -O2 --target=wasm32, freestanding):
 *       exports  run(i32 n) -> i64
 *   wasm32 for wabt's wasm-interp, whose --run-all-exports passes no args:
 *       -DWL_BAKED_N=<n>             exports  bench_main() -> i64 = run(n)
 * A workload defines `static uint64_t workload(uint32_t n)` that does n units
 * of work (so time per unit is comparable across sizes), resets all of its
 * state first (run may be called repeatedly) and returns a checksum that
 * must be identical in every build. It ends with WL_ENTRY().
 *
 * Freestanding: no libc. memcpy/memset/memmove are compiler builtins; the
 * wasm builds use -mbulk-memory so they become memory.copy / memory.fill.
 */
#ifndef WL_WORKLOAD_H
#define WL_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

#define wl_memcpy(d, s, n) __builtin_memcpy((d), (s), (n))
#define wl_memmove(d, s, n) __builtin_memmove((d), (s), (n))
#define wl_memset(d, c, n) __builtin_memset((d), (c), (n))

/* Deterministic pseudo-random numbers (xorshift64*), same in every build. */
static inline uint64_t wl_rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t wl_rand32(uint64_t *state)
{
    return (uint32_t)(wl_rand64(state) >> 32);
}

/* Seeds must not be zero. */
static inline uint64_t wl_seed(uint64_t x)
{
    return (x + 1) * 0x9E3779B97F4A7C15ULL;
}

static inline uint64_t wl_mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
    return h;
}

static inline uint64_t wl_double_bits(double d)
{
    uint64_t u;
    __builtin_memcpy(&u, &d, sizeof u);
    return u;
}

/* The decimal digits of v in buf (21 bytes at least), NUL-terminated;
 * returns where they start. */
static inline const char *wl_utoa(char *buf, uint64_t v)
{
    char *p = buf + 20;
    *p = '\0';
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

#if defined(WL_NATIVE_NAME)
#define WL_ENTRY()                                                            \
    uint64_t WL_NATIVE_NAME(uint32_t n);                                      \
    uint64_t WL_NATIVE_NAME(uint32_t n) { return workload(n); }
#elif defined(WL_BAKED_N)
#define WL_ENTRY()                                                            \
    __attribute__((export_name("bench_main"))) int64_t bench_main(void);      \
    int64_t bench_main(void) { return (int64_t)workload(WL_BAKED_N); }
#else
#define WL_ENTRY()                                                            \
    __attribute__((export_name("run"))) int64_t run(int32_t n);               \
    int64_t run(int32_t n) { return (int64_t)workload((uint32_t)n); }
#endif

#endif
