/*
 * api_health.c - liveness and readiness, open to anyone (no token): GET
 * /healthz answers while the process serves; GET /readyz answers 200 once
 * the store's plugins were loaded and until draining begins, 503 otherwise;
 * with --queue-redis also 503 ("queue_unavailable", with the reason) while
 * Redis does not answer a PING (the forwarded calls could not be queued).
 */
#include "api.h"
#include "serve_queue.h"

static void healthz(server_request *req)
{
    server_respond_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void readyz(server_request *req)
{
    serve_app *app = server_app(req);
    bool draining = server_draining(server_of(req));
    bool ready = atomic_load(&app->ready) && !draining;
    char reason[512];
    if (ready && app->queue && !serve_queue_reachable(app->queue, reason, sizeof reason)) {
        server_respond_json(req, 503, json_pack("{s:b, s:s, s:s}", "ok", 0, "state",
                                                "queue_unavailable", "reason", reason));
        return;
    }
    server_respond_json(req, ready ? 200 : 503,
                        json_pack("{s:b, s:s}", "ok", ready, "state",
                                  draining ? "draining" : ready ? "ready" : "starting"));
}

const server_route api_health_routes[] = {
    {"GET", "/healthz", SERVER_AUTH_NONE, 0, healthz},
    {"GET", "/readyz", SERVER_AUTH_NONE, 0, readyz},
    {0},
};
