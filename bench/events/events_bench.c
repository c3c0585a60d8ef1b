/*
 * events_bench.c - event bus throughput and latency: events delivered per
 * second to a trivial plugin (on_event returns 0) with 1, 4 and 16
 * subscribers (each its own plugin), unbatched and batched, and the
 * publish-to-delivery latency (p50/p99).
 *
 *   wasmplug-bench-events [--events N] [--rounds R] [--workers W] [--batch MAX]
 *                         [--window MS] [--plugin PATH] [--bounds MODE]
 *
 * Throughput: one thread publishes N events as fast as it can into queues
 * that block when full (nothing is dropped), and the clock stops when the
 * last delivery is done: delivered events (N x subscribers) / wall time.
 * Latency: a second run publishes at half the measured rate, so the
 * figure is the bus's own delay rather than time waiting in a full queue;
 * p50/p99 come from the bus's per-subscription histograms (within 25%).
 * Every configuration runs once per round, rounds interleaved; the table
 * gives medians over rounds.
 */
#include <wasmplug/events.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef BENCH_EVENTS_PLUGIN
#define BENCH_EVENTS_PLUGIN "ev_trivial.wasm"
#endif

#define MAX_SUBS 16

static const unsigned sub_counts[] = {1, 4, 16};
#define CONFIGS (2 * (sizeof sub_counts / sizeof sub_counts[0]))

typedef struct result {
    double rate;           /* delivered events per second */
    double p50_us, p99_us; /* latency at half rate */
} result;

static struct {
    long events;
    int rounds;
    uint32_t workers, batch, window_ms;
    const char *plugin;
    wasmplug_bounds_mode bounds;
} opt = {200000, 3, 2, 64, 1, BENCH_EVENTS_PLUGIN, WASMPLUG_BOUNDS_AUTO};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_until(double t)
{
    double d = t - now_s();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Wait until every subscription has delivered what it was given. */
static int wait_delivered(wasmplug_bus *bus, const uint64_t *ids, unsigned n, long want)
{
    double give_up = now_s() + 120;
    for (unsigned i = 0; i < n; i++) {
        wasmplug_subscription_stats st;
        for (;;) {
            if (wasmplug_bus_subscription_stats(bus, ids[i], &st) != WASMPLUG_OK)
                return -1;
            if ((long)(st.delivered + st.failed) >= want)
                break;
            if (now_s() > give_up) {
                fprintf(stderr, "events bench: subscription %u stuck at %llu of %ld\n", i,
                        (unsigned long long)st.delivered, want);
                return -1;
            }
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
        if (st.failed) {
            fprintf(stderr, "events bench: %llu deliveries failed\n",
                    (unsigned long long)st.failed);
            return -1;
        }
    }
    return 0;
}

/* One run: a fresh bus, subs subscriptions, events published (paced at
 * rate events/s if rate > 0). Returns the delivery rate; fills latency. */
static int run(wasmplug_host *host, unsigned subs, bool batched, long events, double rate,
               double *delivered_per_s, double *p50_us, double *p99_us)
{
    wasmplug_bus_config cfg = {0};
    cfg.workers = opt.workers;
    wasmplug_bus *bus;
    if (wasmplug_bus_new(host, &cfg, &bus) != WASMPLUG_OK)
        return -1;
    wasmplug_subscription_options so = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    so.queue_size = 4096;
    so.on_full = WASMPLUG_FULL_BLOCK;
    so.block_timeout_ms = 60000;
    if (batched) {
        so.batch_max = opt.batch;
        so.batch_window_ms = opt.window_ms;
    }
    uint64_t ids[MAX_SUBS];
    for (unsigned i = 0; i < subs; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%u", i);
        wasmplug_plugin_error err;
        if (wasmplug_bus_subscribe_plugin(bus, "bench.event", &so, name, NULL, &ids[i], &err)) {
            fprintf(stderr, "events bench: %s\n", err.message);
            wasmplug_bus_free(bus);
            return -1;
        }
    }
    char payload[64];
    double t0 = now_s();
    for (long i = 0; i < events; i++) {
        if (rate > 0 && i % 16 == 0)
            sleep_until(t0 + (double)i / rate);
        int n = snprintf(payload, sizeof payload, "{\"n\":%ld}", i);
        wasmplug_plugin_error err;
        if (wasmplug_bus_publish(bus, "bench.event", payload, (size_t)n, NULL, &err)) {
            fprintf(stderr, "events bench: publish: %s\n", err.message);
            wasmplug_bus_free(bus);
            return -1;
        }
    }
    int rc = wait_delivered(bus, ids, subs, events);
    double elapsed = now_s() - t0;
    *delivered_per_s = (double)events * subs / elapsed;
    /* Latency: the median over subscriptions of each one's quantiles. */
    double p50[MAX_SUBS], p99[MAX_SUBS];
    for (unsigned i = 0; i < subs; i++) {
        wasmplug_subscription_stats st;
        wasmplug_bus_subscription_stats(bus, ids[i], &st);
        p50[i] = (double)st.latency_p50_ns / 1000;
        p99[i] = (double)st.latency_p99_ns / 1000;
    }
    *p50_us = median(p50, (int)subs);
    *p99_us = median(p99, (int)subs);
    wasmplug_bus_free(bus);
    return rc;
}

static int parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "usage: wasmplug-bench-events [--events N] [--rounds R] "
                            "[--workers W] [--batch MAX] [--window MS] [--plugin PATH] "
                            "[--bounds auto|guard|explicit]\n");
            return -1;
        }
        i++;
        if (strcmp(a, "--events") == 0)
            opt.events = atol(v);
        else if (strcmp(a, "--rounds") == 0)
            opt.rounds = atoi(v);
        else if (strcmp(a, "--workers") == 0)
            opt.workers = (uint32_t)atoi(v);
        else if (strcmp(a, "--batch") == 0)
            opt.batch = (uint32_t)atoi(v);
        else if (strcmp(a, "--window") == 0)
            opt.window_ms = (uint32_t)atoi(v);
        else if (strcmp(a, "--plugin") == 0)
            opt.plugin = v;
        else if (strcmp(a, "--bounds") == 0)
            opt.bounds = strcmp(v, "explicit") == 0 ? WASMPLUG_BOUNDS_EXPLICIT
                         : strcmp(v, "guard") == 0  ? WASMPLUG_BOUNDS_GUARD_PAGES
                                                    : WASMPLUG_BOUNDS_AUTO;
        else {
            fprintf(stderr, "wasmplug-bench-events: unknown option %s\n", a);
            return -1;
        }
    }
    if (opt.events < 1 || opt.rounds < 1 || opt.rounds > 64 || opt.workers < 1 ||
        opt.batch < 2) {
        fprintf(stderr, "wasmplug-bench-events: events, rounds (1-64), workers must be "
                        "positive and batch at least 2\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv))
        return 2;
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = opt.bounds;
    wasmplug_host *host;
    if (wasmplug_host_new(&hc, &host) != WASMPLUG_OK)
        return 1;
    for (unsigned i = 0; i < MAX_SUBS; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%u", i);
        wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
        lo.init = true;
        wasmplug_plugin_error err;
        if (wasmplug_host_load_file(host, name, opt.plugin, &lo, NULL, &err)) {
            fprintf(stderr, "events bench: %s: %s\n", opt.plugin, err.message);
            wasmplug_host_free(host);
            return 1;
        }
    }

    double rate[CONFIGS][64], p50[CONFIGS][64], p99[CONFIGS][64];
    int status = 0;
    for (int r = 0; r < opt.rounds && !status; r++)
        for (unsigned c = 0; c < CONFIGS && !status; c++) {
            unsigned subs = sub_counts[c / 2];
            bool batched = c % 2;
            double ignored;
            /* Fewer events with more subscribers: each run delivers about
             * the same number of events. */
            long events = opt.events / subs > 1000 ? opt.events / subs : 1000;
            status = run(host, subs, batched, events, 0, &rate[c][r], &ignored, &ignored);
            if (!status)
                status = run(host, subs, batched, events / 2, rate[c][r] / subs / 2, &ignored,
                             &p50[c][r], &p99[c][r]);
        }
    if (!status) {
        printf("Event bus: delivered events/s to a trivial plugin (median of %d round%s, %u "
               "worker%s, batches of up to %u with a %u ms window)\n",
               opt.rounds, opt.rounds == 1 ? "" : "s", opt.workers,
               opt.workers == 1 ? "" : "s", opt.batch, opt.window_ms);
        printf("%-12s %-10s %14s %12s %12s\n", "subscribers", "delivery", "events/s",
               "p50 (us)", "p99 (us)");
        for (unsigned c = 0; c < CONFIGS; c++)
            printf("%-12u %-10s %14.0f %12.1f %12.1f\n", sub_counts[c / 2],
                   c % 2 ? "batched" : "single", median(rate[c], opt.rounds),
                   median(p50[c], opt.rounds), median(p99[c], opt.rounds));
        printf("(latency: publish to delivery done, measured at half the throughput)\n");
    }
    wasmplug_host_free(host);
    return status ? 1 : 0;
}
