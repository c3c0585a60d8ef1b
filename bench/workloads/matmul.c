/*
 * matmul.c - dense matrix multiply, 128x128 doubles, i-k-j loop order (the
 * native build vectorizes the inner loop; the order of additions per element
 * is the same in every build, and the values are multiples of 1/64 small
 * enough that every sum is exact anyway). One unit = one product.
 */
#include "workload.h"

#define M 128

static double A[M][M], B[M][M], C[M][M];

static void multiply(void)
{
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < M; j++)
            C[i][j] = 0;
        for (int k = 0; k < M; k++) {
            double a = A[i][k];
            for (int j = 0; j < M; j++)
                C[i][j] += a * B[k][j];
        }
    }
}

static uint64_t workload(uint32_t n)
{
    uint64_t seed = wl_seed(128);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < M; j++) {
            A[i][j] = (double)((int32_t)(wl_rand32(&seed) & 1023) - 512) / 64.0;
            B[i][j] = (double)((int32_t)(wl_rand32(&seed) & 1023) - 512) / 64.0;
        }
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        multiply();
        double trace = 0;
        for (int i = 0; i < M; i++)
            trace += C[i][i] + C[i][M - 1 - i];
        sum = wl_mix(sum, wl_double_bits(trace));
        A[u % M][(u * 7) % M] += 0.5; /* the next product differs */
    }
    return sum;
}

WL_ENTRY()
