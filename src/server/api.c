/*
 * api.c - the list of route groups of `wasmplug serve` (api.h) and what
 * the route files share.
 */
#include "api.h"

#include <string.h>

static const server_route *const GROUPS[] = {
#define SERVE_API_LIST(group) api_##group##_routes,
    SERVE_API_GROUPS(SERVE_API_LIST)
#undef SERVE_API_LIST
    NULL};

const server_route *const *serve_api_groups(void)
{
    return GROUPS;
}

void serve_api_not_found(server_request *req, const char *name)
{
    server_respond_error(req, 404, "not_found", NULL,
                         "no plugin '%s' is loaded (GET /v1/plugins lists them)",
                         name ? name : "");
}

wasmplug_plugin *serve_api_plugin(server_request *req)
{
    serve_app *app = server_app(req);
    const char *name = server_param(req, "name");
    wasmplug_plugin *p = NULL;
    if (!name || wasmplug_host_get(app->host, name, &p) != WASMPLUG_OK) {
        serve_api_not_found(req, name);
        return NULL;
    }
    return p;
}

void serve_api_fail(server_request *req, wasmplug_status code, const wasmplug_plugin_error *err)
{
    json_t *e = serve_error_json(err);
    unsigned status = serve_http_status(code);
    if (!e) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    json_object_set_new(e, "status", json_integer(status));
    server_respond_json(req, status, json_pack("{s:b, s:o}", "ok", 0, "error", e));
}
