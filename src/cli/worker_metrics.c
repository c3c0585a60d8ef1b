/*
 * worker_metrics.c - the worker's /metrics (worker_metrics.h) on the
 * server library.
 */
#include "worker_metrics.h"

#include "server.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct worker_metrics {
    server *srv;
    wasmplug_worker *w;
    wasmplug_host *host;
    char stream[256];
};

/* The worker's counters, then its plugins' metrics. */
static void metrics(server_request *req)
{
    static const struct {
        const char *name, *help;
        bool gauge;
        size_t offset;
    } M[] = {
#define C(f, g, h) {#f, h, g, offsetof(wasmplug_worker_stats, f)}
        C(read, false, "Entries read as new from the stream"),
        C(claimed, false, "Entries claimed from other consumers after the idle time"),
        C(processed, false, "Entries answered (successes and failures)"),
        C(failed, false, "Entries answered with a failure status"),
        C(redelivered, false, "Entries answered or dead-lettered on a later delivery"),
        C(cached, false, "Entries answered from the idempotency cache"),
        C(retried, false, "Entries left unanswered for a later delivery"),
        C(dead_lettered, false, "Entries moved to the dead-letter stream"),
        C(reconnects, false, "Connections to Redis made again after a loss"),
        C(in_flight, true, "Entries held by this worker now"),
        C(lag, true, "Entries in the stream not yet delivered to the group"),
        C(pending, true, "Entries delivered to the group and not yet answered"),
#undef C
    };
    worker_metrics *m = server_app(req);
    wasmplug_worker_stats s;
    wasmplug_worker_stats_get(m->w, &s);
    server_text t = {NULL, 0, 0, false};
    for (size_t i = 0; i < sizeof M / sizeof *M; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&s + M[i].offset, sizeof v);
        server_text_metric(&t, "wasmplug_worker_", M[i].name, M[i].gauge, M[i].help);
        server_text_append(&t, "stream=\"");
        server_text_label(&t, m->stream);
        server_text_append(&t, "\",consumer=\"");
        server_text_label(&t, wasmplug_worker_consumer(m->w));
        server_text_append(&t, "\"} %" PRIu64 "\n", v);
    }
    server_metrics_prometheus(m->host, &t);
    if (t.failed) {
        free(t.data);
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    server_respond_owned(req, 200, SERVER_PROMETHEUS_TYPE, t.data, t.len);
}

static const server_route ROUTES[] = {
    {"GET", "/metrics", SERVER_AUTH_NONE, 0, metrics},
    {0},
};

bool worker_metrics_start(const char *addr, wasmplug_worker *w, wasmplug_host *host,
                          const char *stream, worker_metrics **out, char *where,
                          size_t where_size, char *msg, size_t msg_size)
{
    *out = NULL;
    worker_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(msg, msg_size, "out of memory");
        return false;
    }
    m->w = w;
    m->host = host;
    snprintf(m->stream, sizeof m->stream, "%s", stream);
    char listen[300];
    snprintf(listen, sizeof listen, "%s%s", strchr(addr, ':') ? "" : "127.0.0.1:", addr);
    static const server_route *const groups[] = {ROUTES, NULL};
    server_config cfg;
    server_config_init(&cfg);
    cfg.listen = listen;
    cfg.threads = 1;
    cfg.groups = groups;
    cfg.app = m;
    char why[512];
    if (server_start(&cfg, &m->srv, why, sizeof why) != WASMPLUG_OK) {
        snprintf(msg, msg_size, "--metrics %s: %s", addr, why);
        free(m);
        return false;
    }
    snprintf(where, where_size, "%s", server_address(m->srv));
    *out = m;
    return true;
}

void worker_metrics_stop(worker_metrics *m)
{
    if (!m)
        return;
    server_free(m->srv);
    free(m);
}
