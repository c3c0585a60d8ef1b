/*
 * api_call.c - POST /v1/plugins/{name}/call/{func}: the request body is the
 * call's input, the response body its output (200, application/octet-
 * stream), or the error object with its wasm backtrace. The call runs on
 * the plugin's instance pool, on the server thread that read the request.
 *
 * Per-request limits, which can only lower the plugin's installed ones:
 * ?timeout_ms=N and ?fuel=N, or the headers X-Wasmplug-Timeout-Ms and
 * X-Wasmplug-Fuel. The input is bounded by the server's body limit
 * (--max-body) and the plugin's max_input_bytes.
 *
 * With --queue-redis, calls to the plugins it routes go to Redis workers
 * instead (serve_queue.c), answered in the same shapes; NAME may then be
 * ID@VERSION, the version the workers must run. A NAME (or version) not
 * installed in the server's store is answered 404 at once, as locally.
 */
#include "api.h"
#include "serve_queue.h"
#include "services/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* A limit from the query string or its header: false after answering 400. */
static bool limit_arg(server_request *req, const char *query, const char *header,
                      uint64_t max, uint64_t *out)
{
    const char *s = server_query(req, query);
    if (!s)
        s = server_header(req, header);
    *out = 0;
    if (!s)
        return true;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || v == 0 || v > max || *s == '-') {
        server_respond_error(req, 400, "bad_request", NULL,
                             "%s must be a whole number from 1 to %llu (got '%.40s')", query,
                             (unsigned long long)max, s);
        return false;
    }
    *out = v;
    return true;
}

static void call(server_request *req)
{
    wasmplug_call_limits lim = {0, 0};
    uint64_t timeout;
    if (!limit_arg(req, "timeout_ms", "X-Wasmplug-Timeout-Ms", UINT32_MAX - 1, &timeout) ||
        !limit_arg(req, "fuel", "X-Wasmplug-Fuel", UINT64_MAX - 1, &lim.fuel))
        return;
    lim.timeout_ms = (uint32_t)timeout;
    serve_app *app = server_app(req);
    const char *name = server_param(req, "name");
    if (serve_queue_routes(app->queue, name)) {
        /* Not installed here: no worker is expected to have it either
         * (the store is the deployment's list), so 404 now, not 504 later. */
        if (!wps_installed(app->store, name)) {
            serve_api_not_found(req, name);
            return;
        }
        size_t len;
        const uint8_t *in = server_body(req, &len);
        serve_queue_call(app->queue, req, name, server_param(req, "func"), &lim, in, len);
        return;
    }
    wasmplug_plugin *p = serve_api_plugin(req);
    if (!p)
        return;
    size_t len;
    const uint8_t *in = server_body(req, &len);
    wasmplug_buf out = {NULL, 0};
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_plugin_call_limited(p, server_param(req, "func"), in, len,
                                                      &lim, &out, &err);
    wasmplug_plugin_release(p);
    if (st != WASMPLUG_OK) {
        serve_api_fail(req, st, &err);
        return;
    }
    server_respond_owned(req, 200, "application/octet-stream", out.data, out.len);
}

const server_route api_call_routes[] = {
    {"POST", "/v1/plugins/{name}/call/{func}", SERVER_AUTH_WRITE, SERVER_BODY_CONFIGURED, call},
    {0},
};
