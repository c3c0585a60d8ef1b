/*
 * api_health.c - liveness and readiness, open to anyone (no token): GET
 * /healthz answers while the process serves; GET /readyz answers 200 once
 * the store's plugins were loaded and until draining begins, 503 otherwise.
 */
#include "api.h"

static void healthz(server_request *req)
{
    server_respond_json(req, 200, json_pack("{s:b}", "ok", 1));
}

static void readyz(server_request *req)
{
    serve_app *app = server_app(req);
    bool draining = server_draining(server_of(req));
    bool ready = atomic_load(&app->ready) && !draining;
    server_respond_json(req, ready ? 200 : 503,
                        json_pack("{s:b, s:s}", "ok", ready, "state",
                                  draining ? "draining" : ready ? "ready" : "starting"));
}

const server_route api_health_routes[] = {
    {"GET", "/healthz", SERVER_AUTH_NONE, 0, healthz},
    {"GET", "/readyz", SERVER_AUTH_NONE, 0, readyz},
    {0},
};
