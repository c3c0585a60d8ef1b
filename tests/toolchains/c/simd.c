/*
 * simd.c - a C plugin built with clang --target=wasm32 -msimd128: explicit
 * SIMD through wasm_simd128.h, v128 parameters and results, and a plain loop
 * clang vectorizes by itself. Compiled natively into test_toolchains.c (with
 * WP_PLUGIN_NATIVE) the same functions run their scalar definitions, which
 * give the driver's expected values.
 */
#include <stdint.h>

#ifdef WP_PLUGIN_NATIVE
#define EXPORT(name) static __attribute__((unused))
#else
#define EXPORT(name) __attribute__((export_name(#name)))
#include <wasm_simd128.h>
#endif

#define SIMD_N 4096
static uint8_t sm_bytes[SIMD_N];
static int32_t sm_words[SIMD_N];

static void sm_fill(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        sm_bytes[i] = (uint8_t)((i * 2654435761u) >> 24);
        sm_words[i] = (int32_t)((i * 40503u) & 0xFFFF) - 30000;
    }
}

/* Sum of squares of n bytes (n <= 4096, a multiple of 16 in the SIMD path). */
EXPORT(sum_squares) int32_t sm_sum_squares(uint32_t n)
{
    if (n > SIMD_N)
        n = SIMD_N;
    sm_fill(n);
    uint32_t i = 0;
    int32_t sum = 0;
#ifndef WP_PLUGIN_NATIVE
    v128_t acc = wasm_i32x4_splat(0);
    for (; i + 16 <= n; i += 16) {
        v128_t b = wasm_v128_load(&sm_bytes[i]);
        v128_t lo = wasm_u16x8_extend_low_u8x16(b), hi = wasm_u16x8_extend_high_u8x16(b);
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(lo, lo));
        acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(hi, hi));
    }
    sum = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) +
          wasm_i32x4_extract_lane(acc, 2) + wasm_i32x4_extract_lane(acc, 3);
#endif
    for (; i < n; i++)
        sum += sm_bytes[i] * sm_bytes[i];
    return sum;
}

/* Largest byte, and the number of words below zero, in one i32: clang
 * vectorizes these loops itself (i8x16.max_u, i32x4.lt_s). */
EXPORT(max_and_negatives) int32_t sm_max_and_negatives(uint32_t n)
{
    if (n > SIMD_N)
        n = SIMD_N;
    sm_fill(n);
    uint8_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        m = sm_bytes[i] > m ? sm_bytes[i] : m;
    int32_t neg = 0;
    for (uint32_t i = 0; i < n; i++)
        neg += sm_words[i] < 0;
    return m * 100000 + neg;
}

/* Saturating i16 add of two words' halves, per lane: (a + b) clamped. */
EXPORT(sat_mix) int32_t sm_sat_mix(int32_t a, int32_t b)
{
#ifndef WP_PLUGIN_NATIVE
    v128_t r = wasm_i16x8_add_sat(wasm_i32x4_splat(a), wasm_i32x4_splat(b));
    return wasm_i32x4_extract_lane(r, 2);
#else
    int32_t lo = (int16_t)a + (int16_t)b, hi = (a >> 16) + (b >> 16);
    lo = lo < -32768 ? -32768 : lo > 32767 ? 32767 : lo;
    hi = hi < -32768 ? -32768 : hi > 32767 ? 32767 : hi;
    return (int32_t)(((uint32_t)hi << 16) | (uint16_t)lo);
#endif
}

#ifndef WP_PLUGIN_NATIVE
/* v128 in the signature: lanes of a + b * k (i32x4), and a lane shuffle. */
EXPORT(madd4) v128_t sm_madd4(v128_t a, v128_t b, int32_t k)
{
    return wasm_i32x4_add(a, wasm_i32x4_mul(b, wasm_i32x4_splat(k)));
}
EXPORT(reverse4) v128_t sm_reverse4(v128_t a)
{
    return wasm_i32x4_shuffle(a, a, 3, 2, 1, 0);
}
#endif
