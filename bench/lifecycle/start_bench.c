/*
 * start_bench.c - the start of a host with many plugins, eager against lazy
 * loading (wasmplug_load_options.lazy): the wall time from creating the
 * host to the answer of a first call into one plugin, with N plugins
 * registered from the same module file (each compiled on its own, as
 * distinct plugins would be), then the time of that first call alone (a
 * lazy plugin is built by it). Eager and lazy runs alternate; medians.
 *
 *   wasmplug-bench-start [--count N] [--rounds R] [--module PATH] [--func F]
 *
 * Defaults: 300 plugins, 7 rounds, BENCH_WASM_DIR/strtrans.wasm, calling
 * its typed export run(1).
 */
#include <wasmplug.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_WASM_DIR
#define BENCH_WASM_DIR "."
#endif

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One start: *start_ms to the first call's answer, *first_ms that call. */
static int one_start(const char *path, const char *func, int count, bool lazy, double *start_ms,
                     double *first_ms)
{
    double t0 = now_ms();
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(NULL, &h) != WASMPLUG_OK)
        return -1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.lazy = lazy;
    o.init = true;
    wasmplug_plugin_error err;
    for (int i = 0; i < count; i++) {
        char name[32];
        snprintf(name, sizeof name, "plugin-%04d", i);
        if (wasmplug_host_load_file(h, name, path, &o, NULL, &err) != WASMPLUG_OK) {
            fprintf(stderr, "start_bench: %s: %s\n", name, err.message);
            wasmplug_host_free(h);
            return -1;
        }
    }
    double t1 = now_ms();
    wasmplug_plugin *p = NULL;
    char last[32];
    snprintf(last, sizeof last, "plugin-%04d", count / 2);
    wasmplug_val arg = {.type = WASMPLUG_I32, .of.i32 = 1}, res[1];
    int rc = wasmplug_host_get(h, last, &p) == WASMPLUG_OK &&
                     wasmplug_plugin_call_typed(p, func, &arg, 1, res, 1, &err) == WASMPLUG_OK
                 ? 0
                 : -1;
    if (rc)
        fprintf(stderr, "start_bench: call %s: %s\n", func, err.message);
    double t2 = now_ms();
    *start_ms = t2 - t0;
    *first_ms = t2 - t1;
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    return rc;
}

int main(int argc, char **argv)
{
    int count = 300, rounds = 7;
    const char *path = BENCH_WASM_DIR "/strtrans.wasm", *func = "run";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--module") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--func") && i + 1 < argc)
            func = argv[++i];
        else {
            fprintf(stderr,
                    "usage: wasmplug-bench-start [--count N] [--rounds R] [--module PATH] "
                    "[--func F]\n");
            return 2;
        }
    }
    if (count < 1 || rounds < 1 || rounds > 99)
        return 2;
    double eager[99], lazy[99], eager_first[99], lazy_first[99];
    for (int r = 0; r < rounds; r++) /* interleaved: eager, lazy, eager, ... */
        if (one_start(path, func, count, false, &eager[r], &eager_first[r]) ||
            one_start(path, func, count, true, &lazy[r], &lazy_first[r]))
            return 1;
    printf("host start with %d plugins (%s), median of %d interleaved rounds:\n", count, path,
           rounds);
    printf("  eager: %9.2f ms to the first answer (first call %.3f ms)\n", median(eager, rounds),
           median(eager_first, rounds));
    printf("  lazy:  %9.2f ms to the first answer (first call, which builds its plugin, %.3f ms)\n",
           median(lazy, rounds), median(lazy_first, rounds));
    return 0;
}
