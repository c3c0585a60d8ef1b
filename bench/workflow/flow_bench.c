/*
 * flow_bench.c - wasmplug-bench-flow: the workflow engine's overhead per
 * node transition. A workflow of N (default 1,000) trivial plugin nodes in
 * a chain (exec = an export that returns at once, built-in prep and post)
 * is run R times; interleaved with each run, the same N plugin calls with
 * the same input are made directly. The overhead per transition is
 * (run - direct calls) / N: what the engine adds (state as JSON, prep and
 * post, the next node, the run log) beyond the plugin calls themselves.
 * A chain of N built-in nodes (log, no observer) shows the engine alone.
 * Medians over the rounds.
 *
 *   wasmplug-bench-flow [--nodes N] [--rounds R]
 */
#include <wasmplug.h>
#include <wasmplug/workflow.h>

#include "bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


/* A chain of n nodes of the given type (and extra node keys). */
static char *chain(int n, const char *type, const char *extra)
{
    size_t cap = (size_t)n * 160 + 256, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    len += (size_t)snprintf(s + len, cap - len, "max_steps: %d\nnodes:\n", n + 1);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "  - {name: n%d, type: %s%s}\n", i, type, extra);
    len += (size_t)snprintf(s + len, cap - len, "connections:\n");
    for (int i = 0; i + 1 < n; i++)
        len += (size_t)snprintf(s + len, cap - len, "  - {from: n%d, to: n%d}\n", i, i + 1);
    return s;
}

static double run_once(wasmplug_flow *f)
{
    wasmplug_flow_run *run;
    if (wasmplug_flow_run_new(f, NULL, &run))
        return -1;
    char msg[512];
    double t0 = bench_now_s();
    wasmplug_status st = wasmplug_flow_run_exec(run, "{\"last\":\"\"}", NULL, msg, sizeof msg);
    double t = bench_now_s() - t0;
    wasmplug_flow_run_free(run);
    if (st) {
        fprintf(stderr, "run failed: %s\n", msg);
        return -1;
    }
    return t;
}

int main(int argc, char **argv)
{
    int nodes = 1000, rounds = 15;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--nodes"))
            nodes = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--rounds"))
            rounds = atoi(argv[i + 1]);
    }
    if (nodes < 2 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: wasmplug-bench-flow [--nodes N>=2] [--rounds 1..1000]\n");
        return 2;
    }
    char dir[] = "/tmp/wp-bench-flow-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[512], cmd[1200];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/noop.wasm'", BENCH_FLOW_PLUGIN, dir);
    if (system(cmd) != 0)
        return 1;
    snprintf(path, sizeof path, "%s/plugin.yaml", dir);
    FILE *fp = fopen(path, "w");
    if (!fp)
        return 1;
    fputs("id: noop\nversion: 1.0.0\nmodule: noop.wasm\nabi: v1\nexports: [noop]\n", fp);
    fclose(fp);

    wasmplug_host *host;
    if (wasmplug_host_new(NULL, &host))
        return 1;
    char *plugin_yaml = chain(nodes, "noop", ", output: /last");
    char *builtin_yaml = chain(nodes, "log", ", config: {message: x}");
    const char *plugins[] = {dir};
    char *full = malloc(strlen(plugin_yaml) + 64);
    sprintf(full, "%s", plugin_yaml);
    wasmplug_flow *fp_flow = NULL, *fb_flow = NULL;
    wasmplug_flow_diag d;
    snprintf(path, sizeof path, "%s/chain.yaml", dir);
    fp = fopen(path, "w");
    fputs(full, fp);
    fclose(fp);
    if (wasmplug_flow_load_with(host, path, plugins, 1, &fp_flow, &d) ||
        wasmplug_flow_parse(host, builtin_yaml, strlen(builtin_yaml), "builtin.yaml", dir,
                            &fb_flow, &d)) {
        fprintf(stderr, "load: %s:%u:%u: %s\n", d.file, d.line, d.column, d.message);
        return 1;
    }
    /* the plugin the workflow loaded, for the direct calls */
    char **names;
    size_t count;
    wasmplug_host_list(host, &names, &count);
    wasmplug_plugin *p = NULL;
    if (count != 1 || wasmplug_host_get(host, names[0], &p)) {
        fprintf(stderr, "expected the workflow's one plugin\n");
        return 1;
    }
    wasmplug_free(names);
    const char *input = "{\"last\":\"\"}"; /* what the built-in prep passes */

    double *flow_t = calloc((size_t)rounds, sizeof *flow_t);
    double *call_t = calloc((size_t)rounds, sizeof *call_t);
    double *builtin_t = calloc((size_t)rounds, sizeof *builtin_t);
    run_once(fp_flow); /* warm up */
    for (int r = 0; r < rounds; r++) {
        flow_t[r] = run_once(fp_flow);
        double t0 = bench_now_s();
        for (int i = 0; i < nodes; i++) {
            wasmplug_buf out = {0};
            if (wasmplug_plugin_call(p, "noop", (const uint8_t *)input, strlen(input), &out, NULL))
                return 1;
            wasmplug_buf_free(&out);
        }
        call_t[r] = bench_now_s() - t0;
        builtin_t[r] = run_once(fb_flow);
        if (flow_t[r] < 0 || builtin_t[r] < 0)
            return 1;
    }
    double overhead[1000];
    for (int r = 0; r < rounds; r++)
        overhead[r] = (flow_t[r] - call_t[r]) / nodes * 1e6;
    double mf = bench_median(flow_t, rounds), mc = bench_median(call_t, rounds),
           mb = bench_median(builtin_t, rounds), mo = bench_median(overhead, rounds);
    printf("workflow of %d plugin nodes: %.3f ms per run, %.2f us per node\n", nodes, mf * 1e3,
           mf / nodes * 1e6);
    printf("the same %d plugin calls made directly: %.3f ms, %.2f us per call\n", nodes, mc * 1e3,
           mc / nodes * 1e6);
    printf("overhead per node transition beyond the plugin call: %.2f us (median of %d "
           "interleaved rounds; target < 5 us)\n", mo, rounds);
    printf("workflow of %d built-in nodes (log, no observer): %.2f us per node\n", nodes,
           mb / nodes * 1e6);
    wasmplug_plugin_release(p);
    wasmplug_flow_free(fp_flow);
    wasmplug_flow_free(fb_flow);
    wasmplug_host_free(host);
    free(plugin_yaml);
    free(builtin_yaml);
    free(full);
    free(flow_t);
    free(call_t);
    free(builtin_t);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
