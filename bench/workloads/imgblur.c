/*
 * imgblur.c - image filtering, the kind of loop SIMD is for: a 256x256
 * 8-bit grayscale image blurred with the separable 1-2-1 kernel (a
 * horizontal and a vertical pass, 16-bit sums, rounding), then brightened
 * with saturation. The native build (clang vectorizes the C loops for the
 * host) and the scalar wasm32 build run the plain C; the SIMD wasm32 build
 * (-msimd128, bench/CMakeLists.txt: imgblur_simd) runs the same passes
 * written with wasm_simd128.h, as a plugin author would, 8 pixels at a time.
 * All three give the same checksum. One unit = one image filtered.
 */
#include "workload.h"

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define WL_SIMD 1
#else
#define WL_SIMD 0
#endif

#define W 256
#define H 256

static uint8_t img[H][W];
static uint16_t tmp[H][W];
static uint8_t out[H][W];

/* Horizontal pass: tmp = left + 2 * centre + right (edges clamp). */
static void blur_rows(void)
{
    for (int y = 0; y < H; y++) {
        const uint8_t *row = img[y];
        uint16_t *t = tmp[y];
        t[0] = (uint16_t)(3 * row[0] + row[1]);
        int x = 1;
#if WL_SIMD
        for (; x + 8 <= W - 1; x += 8) {
            v128_t l = wasm_u16x8_load8x8(row + x - 1), c = wasm_u16x8_load8x8(row + x),
                   r = wasm_u16x8_load8x8(row + x + 1);
            wasm_v128_store(t + x, wasm_i16x8_add(wasm_i16x8_add(l, r), wasm_i16x8_shl(c, 1)));
        }
#endif
        for (; x < W - 1; x++)
            t[x] = (uint16_t)(row[x - 1] + 2 * row[x] + row[x + 1]);
        t[W - 1] = (uint16_t)(row[W - 2] + 3 * row[W - 1]);
    }
}

/* Vertical pass on the sums (/16, rounded), then + 24 with saturation. */
static void blur_cols(void)
{
    for (int y = 0; y < H; y++) {
        const uint16_t *up = tmp[y > 0 ? y - 1 : 0];
        const uint16_t *mid = tmp[y];
        const uint16_t *down = tmp[y < H - 1 ? y + 1 : H - 1];
        uint8_t *o = out[y];
        int x = 0;
#if WL_SIMD
        const v128_t round = wasm_i16x8_splat(8), bright = wasm_i16x8_splat(24);
        for (; x + 8 <= W; x += 8) {
            v128_t v = wasm_i16x8_add(wasm_i16x8_add(wasm_v128_load(up + x), wasm_v128_load(down + x)),
                                      wasm_i16x8_shl(wasm_v128_load(mid + x), 1));
            v = wasm_i16x8_add(wasm_u16x8_shr(wasm_i16x8_add(v, round), 4), bright);
            wasm_v128_store64_lane(o + x, wasm_u8x16_narrow_i16x8(v, v), 0);
        }
#endif
        for (; x < W; x++) {
            uint16_t v = (uint16_t)((up[x] + 2 * mid[x] + down[x] + 8) >> 4);
            v = (uint16_t)(v + 24);
            o[x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

static uint64_t workload(uint32_t n)
{
    uint64_t seed = wl_seed(42);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img[y][x] = (uint8_t)((x * 3 + y * 5) ^ (wl_rand32(&seed) & 63));
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        blur_rows();
        blur_cols();
        /* feed the output back so every round filters a new image */
        uint64_t h = 0;
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x += 8) {
                uint64_t w8;
                wl_memcpy(&w8, &out[y][x], 8);
                h = wl_mix(h, w8);
            }
            wl_memcpy(img[y], out[y], W);
        }
        sum = wl_mix(sum, h);
    }
    return sum;
}

WL_ENTRY()
