/*
 * api_metrics.c - GET /metrics: the host's plugin metrics in the Prometheus
 * text format (server_metrics.c), plus the server's own gauges and, with
 * --queue-redis, the forwarded calls' counters (serve_queue.c).
 */
#include "api.h"
#include "serve_queue.h"

#include <stdlib.h>

static void metrics(server_request *req)
{
    serve_app *app = server_app(req);
    server_text t = {NULL, 0, 0, false};
    server_metrics_prometheus(app->host, &t);
    server_text_append(&t,
                       "# HELP wasmplug_serve_requests_in_flight Requests being answered.\n"
                       "# TYPE wasmplug_serve_requests_in_flight gauge\n"
                       "wasmplug_serve_requests_in_flight %zu\n",
                       server_in_flight(server_of(req)));
    if (app->queue)
        serve_queue_metrics(app->queue, &t);
    if (t.failed) {
        free(t.data);
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    server_respond_owned(req, 200, SERVER_PROMETHEUS_TYPE, t.data, t.len);
}

const server_route api_metrics_routes[] = {
    {"GET", "/metrics", SERVER_AUTH_READ, 0, metrics},
    {0},
};
