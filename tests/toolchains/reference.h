/*
 * reference.h - the AssemblyScript, Rust and Zig plugins' exports ported by
 * hand to C (from as/plugin.ts, rust/plugin.rs, zig/plugin.zig): the
 * expected values of test_toolchains.c, computed without our engine.
 * wabt-crosscheck.sh confirms them against wabt's interpreter.
 * Included once, by test_toolchains.c (after the C plugins' sources).
 */
#ifndef WP_TOOLCHAINS_REFERENCE_H
#define WP_TOOLCHAINS_REFERENCE_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rotl64(uint64_t x, unsigned r)
{
    return r == 0 ? x : (x << r) | (x >> (64 - r));
}

/* Arithmetic shift right of a two's complement i64 held in a uint64_t. */
static uint64_t sar64(uint64_t x, unsigned r)
{
    return (x >> 63) ? ~(~x >> r) : x >> r;
}

static uint32_t fnv1a_ascii(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 16777619u;
    }
    return h;
}

/* "item-0,item-1,...": the string AssemblyScript's joinHash/joinLength build. */
static char *ref_join(int32_t n)
{
    size_t cap = 16 + (size_t)(n > 0 ? n : 0) * 18, len = 0;
    char *s = malloc(cap);
    if (!s)
        abort();
    s[0] = '\0';
    for (int32_t i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "%sitem-%d", i ? "," : "", i);
    return s;
}

static uint32_t ref_as_join_hash(int32_t n)
{
    char *s = ref_join(n);
    uint32_t h = fnv1a_ascii(s);
    free(s);
    return h;
}

static int32_t ref_as_join_length(int32_t n)
{
    char *s = ref_join(n);
    int32_t len = (int32_t)strlen(s);
    free(s);
    return len;
}

/* Vowels (ASCII, any case) * 1000 + UTF-16 length of the string in vowels(). */
static int32_t ref_as_vowels(void)
{
    const char *s = "Größe, naïve café — AssemblyScript in a WebAssembly plugin";
    int32_t units = 0, vowels = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            units++; /* every code point here is in the BMP: one UTF-16 unit */
        if (*p < 0x80 && strchr("aeiouAEIOU", *p))
            vowels++;
    }
    return vowels * 1000 + units;
}

static double ref_as_sqrt_sum(int32_t n)
{
    double acc = 0.0;
    for (int32_t i = 0; i < n; i++)
        acc = acc + sqrt((double)i) * 0.5;
    return acc;
}

static double ref_as_geometry(double x, double y)
{
    return floor(sqrt(x * x + y * y) * 1000.0) / 1000.0 + trunc(x / 3.0);
}

static uint64_t ref_mulmod(uint64_t a, uint64_t b, uint64_t m)
{
    return (uint64_t)((unsigned __int128)a * b % m);
}

static uint32_t ref_rs_collatz(uint64_t n)
{
    uint32_t steps = 0;
    while (n > 1) {
        n = n % 2 == 0 ? n / 2 : n * 3 + 1;
        steps++;
    }
    return steps;
}

static uint64_t ref_rs_modpow(uint64_t b, uint64_t e, uint64_t m)
{
    if (m == 1)
        return 0;
    unsigned __int128 r = 1, bb = b % m;
    while (e > 0) {
        if (e & 1)
            r = r * bb % m;
        bb = bb * bb % m;
        e >>= 1;
    }
    return (uint64_t)r;
}

static uint64_t ref_rs_mix64(uint64_t a, uint64_t b)
{
    uint64_t x = (a * 0x9E3779B97F4A7C15ull) ^ b;
    uint64_t y = sar64(x, 7) + rotl64(x, 17);
    uint64_t abs_y = (y >> 63) ? 0 - y : y; /* wrapping_abs */
    uint64_t lz = b ? (uint64_t)__builtin_clzll(b) : 64;
    return abs_y ^ lz;
}

static uint32_t ref_rs_sieve(uint32_t n)
{
    if (n < 3)
        return 0;
    uint32_t count = 0;
    for (uint32_t i = 2; i < n; i++) {
        bool prime = true;
        for (uint32_t d = 2; d * d <= i; d++)
            if (i % d == 0) {
                prime = false;
                break;
            }
        count += prime;
    }
    return count;
}

static double ref_rs_stats(uint32_t n)
{
    if (n == 0)
        return 0.0;
    double sum = 0.0;
    for (uint32_t i = 1; i <= n; i++)
        sum += (double)i;
    double mean = sum / (double)n, var = 0.0;
    for (uint32_t i = 1; i <= n; i++)
        var += ((double)i - mean) * ((double)i - mean);
    var /= (double)n;
    return mean * 1000.0 + sqrt(var);
}

static uint32_t ref_rs_call_host(uint32_t x, int32_t n)
{
    uint32_t t = 0;
    for (int32_t i = 0; i < n; i++)
        t += (uint32_t)i + x;
    return t;
}

static int ref_rs_greet(char *buf, size_t cap, int32_t n)
{
    return snprintf(buf, cap, "hello from rust, n=%" PRId32 " sq=%" PRId64, n,
                    (int64_t)n * (int64_t)n);
}

/* Sign-extend the low `bits` bits of x. */
static int64_t sext(uint64_t x, unsigned bits)
{
    uint64_t m = 1ull << (bits - 1);
    x &= (m << 1) - 1;
    return x & m ? -(int64_t)((m << 1) - x) : (int64_t)x;
}

static int64_t ref_zig_narrow(uint64_t x)
{
    return sext(x, 8) * 1000000 + sext(x >> 8, 16) * 1000 + sext(x >> 16, 32);
}

static uint64_t ref_zig_factorial(uint32_t n)
{
    uint64_t r = 1;
    for (uint64_t i = 2; i <= n; i++)
        r *= i;
    return r;
}

static uint32_t ref_zig_popcount_sum(uint64_t x, uint64_t y)
{
    return (uint32_t)__builtin_popcountll(x) + (uint32_t)__builtin_popcountll(y) * 100 +
           (uint32_t)__builtin_clzll(x | 1) * 10000;
}

static uint32_t ref_zig_sat_add_u8(uint32_t a, uint32_t b)
{
    uint32_t s = (a & 255) + (b & 255);
    return s > 255 ? 255 : s;
}

static float ref_zig_dist(float x, float y)
{
    float s = x * x + y * y;
    return sqrtf(s);
}

static uint64_t ref_zig_squares_sum(uint32_t n)
{
    uint32_t len = n < 1024 ? n : 1024;
    uint64_t s = 0;
    for (uint32_t i = 0; i < len; i++)
        s += (uint32_t)(i * i * 2654435761u);
    return s;
}

static uint32_t ref_zig_host_sum(int32_t n)
{
    uint32_t t = 0;
    for (int32_t i = 0; i < n; i++)
        t += (uint32_t)i * 2;
    return t;
}

/* ---- the SIMD plugins (rust/simd.rs, as/simd.ts, zig/simd.zig) ---- */

/* The bytes rust/simd.rs and c/simd.c fill their buffer with. */
static uint8_t ref_simd_byte(uint32_t i)
{
    return (uint8_t)((i * 2654435761u) >> 24);
}

static uint32_t ref_rs_count_byte(uint32_t n, uint32_t needle)
{
    n = (n < 4096 ? n : 4096) & ~15u;
    uint32_t c = 0;
    for (uint32_t i = 0; i < n; i++)
        c += ref_simd_byte(i) == (uint8_t)needle;
    return c;
}

/* Lanes k: (x + (k + 1)) * y - min(x, y), summed left to right in f32. */
static float ref_rs_f32_lanes(float x, float y)
{
    float m = x < y ? x : y;
    float r[4];
    for (int k = 0; k < 4; k++)
        r[k] = (x + (float)(k + 1)) * y - m;
    return ((r[0] + r[1]) + r[2]) + r[3];
}

static int32_t ref_zig_lanes_sum(uint32_t n)
{
    uint32_t m = (n < 1024 ? n : 1024) & ~3u;
    uint32_t s = 0;
    for (uint32_t i = 0; i < m; i++) {
        int32_t w = (int32_t)((i * 40503u) & 0xFFFF) - 30000;
        s += (uint32_t)w * 3u - 7u;
    }
    return (int32_t)s;
}

static uint32_t ref_zig_sat_lanes(uint32_t a)
{
    uint32_t x = a & 0xFFFF, s = 0;
    for (uint32_t k = 0; k < 8; k++)
        s += x + 1000 * k > 65535 ? 65535 : x + 1000 * k;
    return s;
}

#endif /* WP_TOOLCHAINS_REFERENCE_H */
