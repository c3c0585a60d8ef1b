/*
 * queue_bench.c - wasmplug-bench-queue: plugin calls through Redis
 * (<wasmplug/queue.h>, `wasmplug worker` processes) beside the same calls
 * made in-process, on this machine.
 *
 * A redis-server of its own (127.0.0.1, a free port, no persistence, a
 * temporary directory), the echo test plugin installed in a temporary store
 * by the wasmplug command, then per round, interleaved:
 *   in-process   wasmplug_plugin_call of echo in a loop (one thread)
 *   redis, W     W worker processes (--concurrency 1 each; W = 1, 2, 4):
 *                throughput: CLIENTS client threads submit CALLS calls in
 *                all, then wait for every answer (calls/s from the first
 *                submit to the last answer);
 *                latency: one call at a time (submit, wait), p50 and p99
 *                of the round trip.
 * Medians over the rounds. The input is 64 bytes; echo copies it back, so
 * the figures are the cost of the path, not of plugin work.
 *
 *   wasmplug-bench-queue [--rounds N] [--calls N] [--latency-calls N]
 *                        [--workers 1,2,4] [--clients N]
 */
#include "bench_stats.h"
#include "redis_test.h"

#include <wasmplug.h>
#include <wasmplug/queue.h>

#include <fcntl.h>
#include <pthread.h>

static int rounds = 3, calls = 20000, latency_calls = 2000, clients = 4;
static int worker_counts[8] = {1, 2, 4};
static int nworker_counts = 3;
static char url[128], store[400], data[400];
static const uint8_t INPUT[64] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

typedef struct figures {
    double calls_per_s, p50_us, p99_us;
} figures;

/* ---- in-process ---------------------------------------------------------- */

static figures run_inprocess(void)
{
    figures f = {0, 0, 0};
    wasmplug_host *h;
    wasmplug_plugin *p;
    wasmplug_plugin_error err;
    if (wasmplug_host_new(NULL, &h) != WASMPLUG_OK)
        return f;
    wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
    lo.init = true;
    if (wasmplug_host_load_file(h, "echo", BENCH_ECHO_WASM, &lo, &p, &err) != WASMPLUG_OK) {
        fprintf(stderr, "bench-queue: cannot load %s\n", BENCH_ECHO_WASM);
        wasmplug_host_free(h);
        return f;
    }
    double *lat = malloc(sizeof *lat * (size_t)calls);
    double t0 = bench_now_s();
    for (int i = 0; i < calls && lat; i++) {
        wasmplug_buf out;
        double a = bench_now_s();
        if (wasmplug_plugin_call(p, "echo", INPUT, sizeof INPUT, &out, &err) != WASMPLUG_OK ||
            out.len != sizeof INPUT)
            fprintf(stderr, "bench-queue: in-process call failed\n");
        lat[i] = bench_now_s() - a;
        wasmplug_buf_free(&out);
    }
    double t = bench_now_s() - t0;
    if (lat) {
        f.calls_per_s = calls / t;
        f.p50_us = bench_quantile(lat, calls, 0.50) * 1e6;
        f.p99_us = bench_quantile(lat, calls, 0.99) * 1e6;
    }
    free(lat);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    return f;
}

/* ---- through Redis ------------------------------------------------------- */

static pid_t start_worker(int i)
{
    char name[32];
    snprintf(name, sizeof name, "bench-%d", i);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 2);
        execl(BENCH_CLI, BENCH_CLI, "--store", store, "--data-dir", data, "-q", "worker",
              "--redis", url, "--stream", "bench", "--group", "workers", "--consumer", name,
              "--concurrency", "1", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void stop_worker(pid_t pid)
{
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
}

typedef struct client_job {
    int count;
    int failed;
} client_job;

static void *client_thread(void *arg)
{
    client_job *job = arg;
    char msg[512];
    wasmplug_queue *q;
    if (wasmplug_queue_open(url, "bench", NULL, &q, msg, sizeof msg) != WASMPLUG_OK) {
        job->failed = job->count;
        return NULL;
    }
    char (*ids)[WASMPLUG_QUEUE_ID_MAX] = malloc(sizeof *ids * (size_t)job->count);
    wasmplug_queue_call c = WASMPLUG_QUEUE_CALL_INIT;
    c.plugin = "echo-plugin";
    c.function = "echo";
    c.input = INPUT;
    c.input_len = sizeof INPUT;
    for (int i = 0; ids && i < job->count; i++)
        if (wasmplug_queue_submit(q, &c, ids[i], msg, sizeof msg) != WASMPLUG_OK)
            ids[i][0] = '\0';
    for (int i = 0; ids && i < job->count; i++) {
        wasmplug_queue_result res;
        if (!ids[i][0] || wasmplug_queue_wait(q, ids[i], 60000, &res, msg, sizeof msg) ||
            res.status != WASMPLUG_OK || res.output.len != sizeof INPUT)
            job->failed++;
        wasmplug_queue_result_free(&res);
    }
    free(ids);
    wasmplug_queue_free(q);
    return NULL;
}

static figures run_redis(int workers)
{
    figures f = {0, 0, 0};
    pid_t pids[16];
    for (int i = 0; i < workers; i++)
        pids[i] = start_worker(i);
    char msg[512];
    wasmplug_queue *q;
    if (wasmplug_queue_open(url, "bench", NULL, &q, msg, sizeof msg) != WASMPLUG_OK)
        goto out;
    /* Warm up: every worker loads the plugin. */
    wasmplug_queue_call c = WASMPLUG_QUEUE_CALL_INIT;
    c.plugin = "echo-plugin";
    c.function = "echo";
    c.input = INPUT;
    c.input_len = sizeof INPUT;
    for (int i = 0; i < 50 * workers; i++) {
        wasmplug_queue_result res;
        if (wasmplug_queue_run(q, &c, 30000, &res, msg, sizeof msg) != WASMPLUG_OK)
            fprintf(stderr, "bench-queue: warm-up: %s\n", msg);
        wasmplug_queue_result_free(&res);
    }
    /* Throughput: CLIENTS threads, every call in flight. */
    pthread_t tids[64];
    client_job jobs[64];
    double t0 = bench_now_s();
    for (int i = 0; i < clients; i++) {
        jobs[i] = (client_job){calls / clients, 0};
        pthread_create(&tids[i], NULL, client_thread, &jobs[i]);
    }
    int failed = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(tids[i], NULL);
        failed += jobs[i].failed;
    }
    double t = bench_now_s() - t0;
    if (failed)
        fprintf(stderr, "bench-queue: %d calls failed\n", failed);
    f.calls_per_s = (calls / clients) * clients / t;
    /* Latency: one call at a time. */
    double *lat = malloc(sizeof *lat * (size_t)latency_calls);
    for (int i = 0; lat && i < latency_calls; i++) {
        wasmplug_queue_result res;
        double a = bench_now_s();
        if (wasmplug_queue_run(q, &c, 30000, &res, msg, sizeof msg) != WASMPLUG_OK ||
            res.status != WASMPLUG_OK)
            fprintf(stderr, "bench-queue: call failed: %s\n", msg);
        lat[i] = bench_now_s() - a;
        wasmplug_queue_result_free(&res);
    }
    if (lat) {
        f.p50_us = bench_quantile(lat, latency_calls, 0.50) * 1e6;
        f.p99_us = bench_quantile(lat, latency_calls, 0.99) * 1e6;
    }
    free(lat);
    wasmplug_queue_free(q);
out:
    for (int i = 0; i < workers; i++)
        stop_worker(pids[i]);
    return f;
}

int main(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--calls"))
            calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--latency-calls"))
            latency_calls = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--clients"))
            clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--workers")) {
            nworker_counts = 0;
            for (char *s = argv[i + 1]; *s && nworker_counts < 8; s += *s == ',')
                worker_counts[nworker_counts++] = (int)strtol(s, &s, 10);
        } else {
            fprintf(stderr, "usage: wasmplug-bench-queue [--rounds N] [--calls N] "
                            "[--latency-calls N] [--workers 1,2,4] [--clients N]\n");
            return 2;
        }
    }
    if (rounds < 1 || calls < 1 || latency_calls < 1 || clients < 1 || clients > 64) {
        fprintf(stderr, "bench-queue: bad arguments\n");
        return 2;
    }
    redis_test_server srv = {.appendonly = false};
    if (!redis_test_start(&srv))
        return 1;
    redis_test_url(&srv, url, sizeof url);
    snprintf(store, sizeof store, "%s/store", srv.dir);
    snprintf(data, sizeof data, "%s/data", srv.dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/echo && cp %s %s/echo/plugin.yaml && cp %s %s/echo/ "
             "&& %s --store %s install %s/echo --yes >/dev/null", srv.dir, BENCH_ECHO_YAML,
             srv.dir, BENCH_ECHO_WASM, srv.dir, BENCH_CLI, store, srv.dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench-queue: cannot install the echo plugin\n");
        redis_test_stop(&srv);
        return 1;
    }
    int nconf = 1 + nworker_counts;
    double cps[9][32], p50[9][32], p99[9][32];
    for (int r = 0; r < rounds && r < 32; r++) {
        for (int k = 0; k < nconf; k++) {
            figures f = k == 0 ? run_inprocess() : run_redis(worker_counts[k - 1]);
            cps[k][r] = f.calls_per_s, p50[k][r] = f.p50_us, p99[k][r] = f.p99_us;
        }
    }
    if (rounds > 32)
        rounds = 32;
    printf("Plugin calls through Redis (echo, 64-byte input; %d calls from %d client threads "
           "for calls/s,\n%d sequential calls for latency; medians of %d interleaved rounds; "
           "%ld CPUs)\n\n", calls, clients, latency_calls, rounds, sysconf(_SC_NPROCESSORS_ONLN));
    printf("  %-22s %12s %12s %12s\n", "path", "calls/s", "p50 (us)", "p99 (us)");
    for (int k = 0; k < nconf; k++) {
        char label[64];
        if (k == 0)
            snprintf(label, sizeof label, "in-process");
        else
            snprintf(label, sizeof label, "redis, %d worker%s", worker_counts[k - 1],
                     worker_counts[k - 1] > 1 ? "s" : "");
        printf("  %-22s %12.0f %12.1f %12.1f\n", label, bench_median(cps[k], rounds),
               bench_median(p50[k], rounds), bench_median(p99[k], rounds));
    }
    redis_test_stop(&srv);
    return 0;
}
