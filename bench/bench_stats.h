/*
 * bench_stats.h - what the service benchmarks share: a monotonic clock in
 * seconds, sorting doubles, medians and quantiles of samples.
 * Header-only (static inline), like tests/test.h.
 */
#ifndef WASMPLUG_BENCH_STATS_H
#define WASMPLUG_BENCH_STATS_H

#include <stdlib.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of v[0..n) (sorts v). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The q quantile (0..1, nearest rank) of v[0..n) (sorts v). */
static inline double bench_quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[(int)(q * (n - 1) + 0.5)];
}

#endif
