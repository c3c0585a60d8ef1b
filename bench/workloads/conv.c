/*
 * conv.c - an image filter in floating point: a generated 192x192 f32
 * image (gradients, rings and noise) convolved with a general 5x5 kernel
 * (a Gaussian, weights from a table: no separable shortcut), then Sobel
 * gradients with the magnitude (sqrtf) and a 16-bin histogram of edge
 * strength. f32 loads, multiplies and adds in nested loops over a small
 * kernel, clamped borders - what a vision or photo plugin does before any
 * SIMD. Every build computes in the same order, so the sums are bit-exact.
 * One unit = one image filtered (a new image every 4 units).
 */
#include "workload.h"

#define W 192
#define H 192
#define K 5

static float img[H][W];
static float blurred[H][W];
static float edges[H][W];
static float kernel[K][K];

static void make_kernel(void)
{
    static const float row[K] = {1.0f, 4.0f, 6.0f, 4.0f, 1.0f};
    for (int y = 0; y < K; y++)
        for (int x = 0; x < K; x++)
            kernel[y][x] = row[y] * row[x] / 256.0f;
}

static void make_image(uint64_t seed)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int dx = x - W / 2, dy = y - H / 2;
            int ring = ((dx * dx + dy * dy) >> 6) & 7;
            float v = (float)(x + y) / (float)(W + H) + (float)ring * 0.125f;
            v += (float)(wl_rand32(&seed) & 255) / 1024.0f;
            img[y][x] = v;
        }
}

static int clamp(int v, int hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

static void gaussian(void)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            float acc = 0.0f;
            if (y >= 2 && y < H - 2 && x >= 2 && x < W - 2) {
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        acc += kernel[ky][kx] * img[y + ky - 2][x + kx - 2];
            } else {
                for (int ky = 0; ky < K; ky++)
                    for (int kx = 0; kx < K; kx++)
                        acc += kernel[ky][kx] *
                               img[clamp(y + ky - 2, H - 1)][clamp(x + kx - 2, W - 1)];
            }
            blurred[y][x] = acc;
        }
}

static uint32_t sobel(uint32_t histogram[16])
{
    uint32_t strong = 0;
    for (int y = 1; y < H - 1; y++)
        for (int x = 1; x < W - 1; x++) {
            const float *u = blurred[y - 1], *m = blurred[y], *d = blurred[y + 1];
            float gx = (u[x + 1] + 2.0f * m[x + 1] + d[x + 1]) - (u[x - 1] + 2.0f * m[x - 1] + d[x - 1]);
            float gy = (d[x - 1] + 2.0f * d[x] + d[x + 1]) - (u[x - 1] + 2.0f * u[x] + u[x + 1]);
            float g = __builtin_sqrtf(gx * gx + gy * gy);
            edges[y][x] = g;
            int bin = (int)(g * 8.0f);
            histogram[bin > 15 ? 15 : bin]++;
            strong += g > 0.5f;
        }
    return strong;
}

static uint64_t workload(uint32_t n)
{
    make_kernel();
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        if (u % 4 == 0)
            make_image(wl_seed(u));
        uint32_t histogram[16] = {0};
        gaussian();
        sum = wl_mix(sum, sobel(histogram));
        for (int i = 0; i < 16; i++)
            sum = wl_mix(sum, histogram[i]);
        float total = 0.0f;
        for (int y = 0; y < H; y += 7)
            for (int x = 0; x < W; x += 5)
                total += edges[y][x] + blurred[y][x];
        uint32_t bits;
        __builtin_memcpy(&bits, &total, sizeof bits);
        sum = wl_mix(sum, bits);
    }
    return sum;
}

WL_ENTRY()
