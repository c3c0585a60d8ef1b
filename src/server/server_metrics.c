/*
 * server_metrics.c - a host's plugin metrics in the Prometheus text format
 * (https://prometheus.io/docs/instrumenting/exposition_formats/), for
 * `GET /metrics` of `wasmplug serve` and of `wasmplug worker`. Rules in
 * server.h.
 */
#include "server.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void server_text_append(server_text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        size_t room = t->cap - t->len;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->data ? t->data + t->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if ((size_t)n < room) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap - t->len <= (size_t)n)
            cap *= 2;
        char *d = realloc(t->data, cap);
        if (!d) {
            t->failed = true;
            return;
        }
        t->data = d;
        t->cap = cap;
    }
}

void server_text_metric(server_text *t, const char *prefix, const char *name, bool gauge,
                        const char *help)
{
    const char *suffix = gauge ? "" : "_total";
    server_text_append(t, "# HELP %s%s%s %s.\n# TYPE %s%s%s %s\n%s%s%s{", prefix, name, suffix,
                       help, prefix, name, suffix, gauge ? "gauge" : "counter", prefix, name,
                       suffix);
}

void server_text_label(server_text *t, const char *s)
{
    /* Runs of safe bytes at once; the three escapes of the format. */
    while (*s) {
        size_t run = strcspn(s, "\\\"\n");
        if (run)
            server_text_append(t, "%.*s", (int)run, s);
        s += run;
        if (!*s)
            break;
        server_text_append(t, "%s", *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : "\\n");
        s++;
    }
}

/* One metric family: its name, type, help and how to read the value. */
typedef struct family {
    const char *name;
    const char *type;
    const char *help;
    double (*value)(const wasmplug_plugin_info *i);
} family;

#define COUNTER(field) static double v_##field(const wasmplug_plugin_info *i) \
    { return (double)i->metrics.field; }
COUNTER(calls)
COUNTER(errors)
COUNTER(traps)
COUNTER(denials)
COUNTER(fallbacks)
COUNTER(fuel_used)
COUNTER(host_calls)
COUNTER(bytes_in)
COUNTER(bytes_out)
COUNTER(instances_created)
#undef COUNTER
static double v_max(const wasmplug_plugin_info *i) { return (double)i->metrics.max_ns / 1e9; }
static double v_mem(const wasmplug_plugin_info *i)
{
    return (double)i->metrics.memory_pages * 65536.0;
}
static double v_mem_max(const wasmplug_plugin_info *i)
{
    return (double)i->metrics.memory_pages_max * 65536.0;
}
static double v_instances(const wasmplug_plugin_info *i) { return i->instances; }
static double v_running(const wasmplug_plugin_info *i) { return i->running; }
static double v_pool(const wasmplug_plugin_info *i) { return i->pool_size; }

static const family FAMILIES[] = {
    {"wasmplug_plugin_calls_total", "counter", "Calls attempted (bytes and typed).", v_calls},
    {"wasmplug_plugin_errors_total", "counter", "Calls that failed.", v_errors},
    {"wasmplug_plugin_traps_total", "counter", "Calls stopped by a trap or a limit.", v_traps},
    {"wasmplug_plugin_denials_total", "counter", "Permission denials (load or call).",
     v_denials},
    {"wasmplug_plugin_fallbacks_total", "counter", "Failed calls answered by the fallback.",
     v_fallbacks},
    {"wasmplug_plugin_fuel_used_total", "counter",
     "Instructions consumed (counted when fuel is limited).", v_fuel_used},
    {"wasmplug_plugin_host_calls_total", "counter", "Host functions called by the plugin.",
     v_host_calls},
    {"wasmplug_plugin_input_bytes_total", "counter", "Input bytes passed to calls.", v_bytes_in},
    {"wasmplug_plugin_output_bytes_total", "counter", "Output bytes returned by calls.",
     v_bytes_out},
    {"wasmplug_plugin_instances_created_total", "counter", "Instances created.",
     v_instances_created},
    {"wasmplug_plugin_call_seconds_max", "gauge", "The slowest call.", v_max},
    {"wasmplug_plugin_memory_bytes", "gauge", "Linear memory of the most recently used instance.",
     v_mem},
    {"wasmplug_plugin_memory_max_bytes", "gauge", "Largest linear memory seen.", v_mem_max},
    {"wasmplug_plugin_instances", "gauge", "Live instances.", v_instances},
    {"wasmplug_plugin_running_calls", "gauge", "Calls in progress.", v_running},
    {"wasmplug_plugin_pool_size", "gauge", "Instances the plugin may run in parallel.", v_pool},
};
#define NFAMILIES (sizeof FAMILIES / sizeof FAMILIES[0])

static void labels(server_text *t, const wasmplug_plugin_info *i)
{
    server_text_append(t, "plugin=\"");
    server_text_label(t, i->name);
    server_text_append(t, "\"");
    if (i->id[0]) {
        server_text_append(t, ",id=\"");
        server_text_label(t, i->id);
        server_text_append(t, "\"");
    }
    if (i->version[0]) {
        server_text_append(t, ",version=\"");
        server_text_label(t, i->version);
        server_text_append(t, "\"");
    }
}

void server_metrics_prometheus(wasmplug_host *host, server_text *t)
{
    char **names = NULL;
    size_t count = 0;
    if (wasmplug_host_list(host, &names, &count) != WASMPLUG_OK) {
        t->failed = true;
        return;
    }
    /* A snapshot of every plugin first, so each family lists them all. */
    wasmplug_plugin_info *infos = count ? calloc(count, sizeof *infos) : NULL;
    size_t n = 0;
    for (size_t i = 0; i < count && infos; i++) {
        wasmplug_plugin *p;
        if (wasmplug_host_get(host, names[i], &p) != WASMPLUG_OK)
            continue; /* killed meanwhile */
        if (wasmplug_plugin_get_info(p, &infos[n]) == WASMPLUG_OK)
            n++;
        wasmplug_plugin_release(p);
    }
    wasmplug_free(names);
    if (count && !infos) {
        t->failed = true;
        return;
    }
    server_text_append(t, "# HELP wasmplug_plugins Plugins loaded in the host.\n"
                          "# TYPE wasmplug_plugins gauge\nwasmplug_plugins %zu\n", n);
    for (size_t f = 0; f < NFAMILIES; f++) {
        server_text_append(t, "# HELP %s %s\n# TYPE %s %s\n", FAMILIES[f].name, FAMILIES[f].help,
                           FAMILIES[f].name, FAMILIES[f].type);
        for (size_t i = 0; i < n; i++) {
            server_text_append(t, "%s{", FAMILIES[f].name);
            labels(t, &infos[i]);
            server_text_append(t, "} %.17g\n", FAMILIES[f].value(&infos[i]));
        }
    }
    /* Call latency as a summary: quantiles from the host's histogram. */
    server_text_append(t, "# HELP wasmplug_plugin_call_seconds Call latency (quantiles within "
                          "25%%).\n# TYPE wasmplug_plugin_call_seconds summary\n");
    for (size_t i = 0; i < n; i++) {
        const wasmplug_metrics *m = &infos[i].metrics;
        const struct {
            const char *q;
            uint64_t ns;
        } qs[] = {{"0.5", m->p50_ns}, {"0.9", m->p90_ns}, {"0.99", m->p99_ns}};
        for (size_t k = 0; k < 3; k++) {
            server_text_append(t, "wasmplug_plugin_call_seconds{");
            labels(t, &infos[i]);
            server_text_append(t, ",quantile=\"%s\"} %.9g\n", qs[k].q, (double)qs[k].ns / 1e9);
        }
        server_text_append(t, "wasmplug_plugin_call_seconds_sum{");
        labels(t, &infos[i]);
        server_text_append(t, "} %.9g\nwasmplug_plugin_call_seconds_count{", (double)m->total_ns / 1e9);
        labels(t, &infos[i]);
        server_text_append(t, "} %llu\n", (unsigned long long)m->calls);
    }
    server_text_append(t, "# HELP wasmplug_plugin_state The plugin's lifecycle state (1 for "
                          "the current one).\n# TYPE wasmplug_plugin_state gauge\n");
    for (size_t i = 0; i < n; i++)
        for (int s = 0; s < WASMPLUG_STATE_COUNT; s++) {
            server_text_append(t, "wasmplug_plugin_state{");
            labels(t, &infos[i]);
            server_text_append(t, ",state=\"%s\"} %d\n",
                               wasmplug_state_string((wasmplug_plugin_state)s),
                               infos[i].state == (wasmplug_plugin_state)s);
        }
    free(infos);
}
