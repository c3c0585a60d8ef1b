/*
 * api.h - the route groups of `wasmplug serve`, one per file api_<group>.c,
 * each defining `const server_route api_<group>_routes[]` (ending with a
 * zeroed entry). To add a group: write api_<group>.c and add X(<group>) to
 * SERVE_API_GROUPS below; serve_api_groups() then lists it. Handlers reach
 * the plugins with `serve_app *app = server_app(req)` (serve_app.h).
 *
 * Endpoints (wasmplug(1), SERVE, has the details):
 *   health    GET /healthz, GET /readyz
 *   plugins   GET /v1/plugins, GET /v1/store, POST /v1/plugins (load),
 *             GET /v1/plugins/{name}, POST /v1/plugins/{name}/reload,
 *             POST /v1/plugins/{name}/dispose, DELETE /v1/plugins/{name} (kill),
 *             GET /v1/plugins/{name}/metrics, GET /v1/plugins/{name}/errors,
 *             GET /v1/errors
 *   call      POST /v1/plugins/{name}/call/{func}
 *   events    POST /v1/events/{topic}, GET /v1/events,
 *             GET /v1/dead-letters, DELETE /v1/dead-letters
 *   metrics   GET /metrics (Prometheus text)
 *   ui        GET / (the dashboard), GET /v1/dashboard, GET /v1/ui,
 *             POST /v1/ui/frame, GET /ui/frame/{ticket},
 *             POST /v1/plugins/{name}/ui/render/{kind}/{id},
 *             POST /v1/plugins/{name}/ui/command/{id}
 */
#ifndef WASMPLUG_SERVE_API_H
#define WASMPLUG_SERVE_API_H

#include "serve_app.h"
#include "server.h"

#define SERVE_API_GROUPS(X) X(health) X(plugins) X(call) X(events) X(metrics) X(ui)

#define SERVE_API_DECLARE(group) extern const server_route api_##group##_routes[];
SERVE_API_GROUPS(SERVE_API_DECLARE)
#undef SERVE_API_DECLARE

/** The groups above, NULL-terminated, for server_config.groups. */
const server_route *const *serve_api_groups(void);

/** Largest JSON body of the control endpoints (load, reload, ...). */
#define SERVE_CONTROL_BODY_MAX (16u * 1024)

/** The plugin called by the route's {name}, or NULL after answering 404. A
 *  reference: release it with wasmplug_plugin_release. */
wasmplug_plugin *serve_api_plugin(server_request *req);
/** Answer 404: no plugin name (what serve_api_plugin answers; also a
 *  forwarded call to a plugin the store does not have). */
void serve_api_not_found(server_request *req, const char *name);

/** Answer with a failed operation's error: the status for code, the
 *  error object with its backtrace. */
void serve_api_fail(server_request *req, wasmplug_status code, const wasmplug_plugin_error *err);

/**
 * With --queue-redis (app->queue): append to plugins (the listing of
 * GET /v1/plugins or of the dashboard) the store's plugins whose calls go
 * to the queue and that are not loaded here, {name, id, version, state:
 * "remote", mode: "queue"}, newest versions only; and set "mode" ("local"
 * or "queue") on the listed ones. Nothing without a queue.
 */
void serve_api_mark_remote(serve_app *app, json_t *plugins);

#endif
