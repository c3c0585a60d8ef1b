/*
 * api_plugins.c - the plugins of `wasmplug serve`: list, info, the store's
 * plugins, load, reload, dispose, kill, metrics and error histories.
 * Loading takes a store id (never a path): the server runs only what the
 * store installed, with what the operator granted.
 */
#include "api.h"
#include "serve_queue.h"

#include "services/store.h"

#include <stdlib.h>
#include <string.h>

static json_t *limits_json(const wasmplug_plugin_limits *l)
{
    json_t *o = json_pack("{s:i, s:i, s:i, s:i}", "max_memory_pages", (int)l->max_memory_pages,
                          "max_call_depth", (int)l->max_call_depth, "max_input_bytes",
                          (json_int_t)l->max_input_bytes, "max_output_bytes",
                          (json_int_t)l->max_output_bytes);
    if (o) {
        json_object_set_new(o, "timeout_ms", l->timeout_ms == WASMPLUG_NO_TIMEOUT
                                                 ? json_null()
                                                 : json_integer(l->timeout_ms));
        json_object_set_new(o, "fuel", l->fuel == WASMPLUG_FUEL_UNLIMITED
                                           ? json_null()
                                           : json_integer((json_int_t)l->fuel));
    }
    return o;
}

static json_t *metrics_json(const wasmplug_metrics *m)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i, "
                     "s:I, s:I, s:I}",
                     "calls", (json_int_t)m->calls, "errors", (json_int_t)m->errors, "traps",
                     (json_int_t)m->traps, "denials", (json_int_t)m->denials, "fallbacks",
                     (json_int_t)m->fallbacks, "total_ns", (json_int_t)m->total_ns, "max_ns",
                     (json_int_t)m->max_ns, "fuel_used", (json_int_t)m->fuel_used, "host_calls",
                     (json_int_t)m->host_calls, "bytes_in", (json_int_t)m->bytes_in,
                     "bytes_out", (json_int_t)m->bytes_out, "instances_created",
                     (json_int_t)m->instances_created, "memory_pages", (int)m->memory_pages,
                     "memory_pages_max", (int)m->memory_pages_max, "p50_ns",
                     (json_int_t)m->p50_ns, "p90_ns", (json_int_t)m->p90_ns, "p99_ns",
                     (json_int_t)m->p99_ns);
}

/* The summary of a plugin (list) or, with detail, everything known. */
static json_t *plugin_json(serve_app *app, wasmplug_plugin *p, bool detail)
{
    wasmplug_plugin_info info;
    if (wasmplug_plugin_get_info(p, &info) != WASMPLUG_OK)
        return NULL;
    wasmplug_reload_info ri;
    wasmplug_plugin_reload_get_info(p, &ri);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:I, s:I}", "name",
                          info.name, "id", ri.id[0] ? ri.id : info.id, "version",
                          ri.version[0] ? ri.version : info.version, "state",
                          wasmplug_state_string(info.state), "abi", wasmplug_abi_string(info.abi),
                          "pool_size", (int)info.pool_size, "instances", (int)info.instances,
                          "running", (int)info.running, "calls",
                          (json_int_t)info.metrics.calls, "errors",
                          (json_int_t)info.metrics.errors);
    if (!o || !detail)
        return o;
    json_object_set_new(o, "limits", limits_json(&info.limits));
    json_object_set_new(o, "metrics", metrics_json(&info.metrics));
    json_object_set_new(o, "error_count", json_integer((json_int_t)info.error_count));
    json_object_set_new(o, "reloads",
                        json_pack("{s:I, s:I, s:I, s:I, s:s}", "generation",
                                  (json_int_t)ri.generation, "reloads", (json_int_t)ri.reloads,
                                  "failed", (json_int_t)ri.failed, "rollbacks",
                                  (json_int_t)ri.rollbacks, "last_failure", ri.last_failure));
    json_t *exports = json_array();
    for (uint32_t i = 0; i < wasmplug_plugin_export_count(p) && exports; i++) {
        const char *name;
        wasmplug_functype t;
        if (wasmplug_plugin_export_at(p, i, &name, &t) != WASMPLUG_OK)
            continue;
        json_t *params = json_array(), *results = json_array();
        for (uint32_t k = 0; k < t.param_count; k++)
            json_array_append_new(params, json_string(wasmplug_valtype_name(t.params[k])));
        for (uint32_t k = 0; k < t.result_count; k++)
            json_array_append_new(results, json_string(wasmplug_valtype_name(t.results[k])));
        json_array_append_new(exports, json_pack("{s:s, s:o, s:o}", "name", name, "params",
                                                 params, "results", results));
    }
    json_object_set_new(o, "exports", exports);
    char **perms = NULL;
    size_t nperm = 0;
    json_t *granted = json_array();
    if (wasmplug_plugin_permissions(p, &perms, &nperm) == WASMPLUG_OK)
        for (size_t i = 0; i < nperm; i++)
            json_array_append_new(granted, json_string(perms[i]));
    wasmplug_free(perms);
    json_object_set_new(o, "grants", granted);
    wasmplug_kv *meta = NULL;
    size_t nmeta = 0;
    json_t *metadata = json_object();
    if (wasmplug_plugin_metadata(p, &meta, &nmeta) == WASMPLUG_OK)
        for (size_t i = 0; i < nmeta; i++)
            json_object_set_new(metadata, meta[i].key, json_string(meta[i].value));
    wasmplug_free(meta);
    json_object_set_new(o, "metadata", metadata);
    serve_entry e;
    if (serve_app_entry(app, info.name, &e) == WASMPLUG_OK) {
        json_object_set_new(o, "installed_version", json_string(e.version));
        serve_entry_clear(&e);
    }
    return o;
}

static void list(server_request *req)
{
    serve_app *app = server_app(req);
    char **names = NULL;
    size_t count = 0;
    if (wasmplug_host_list(app->host, &names, &count) != WASMPLUG_OK) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        wasmplug_plugin *p;
        if (wasmplug_host_get(app->host, names[i], &p) != WASMPLUG_OK)
            continue;
        json_t *o = plugin_json(app, p, false);
        if (o)
            json_array_append_new(arr, o);
        wasmplug_plugin_release(p);
    }
    wasmplug_free(names);
    serve_api_mark_remote(app, arr);
    server_respond_json(req, 200, json_pack("{s:b, s:o, s:o}", "ok", 1, "plugins", arr, "queue",
                                            app->queue ? serve_queue_json(app->queue)
                                                       : json_null()));
}

void serve_api_mark_remote(serve_app *app, json_t *plugins)
{
    if (!app->queue || !plugins)
        return;
    size_t i;
    json_t *o;
    json_array_foreach(plugins, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        json_object_set_new(o, "mode", json_string(serve_queue_routes(app->queue, name)
                                                       ? "queue" : "local"));
    }
    wps_entry *entries = NULL;
    size_t count = 0;
    char msg[512];
    if (wps_list(app->store, NULL, &entries, &count, msg, sizeof msg) != WASMPLUG_OK)
        return; /* the local ones are listed; GET /v1/store says why */
    for (size_t k = 0; k < count; k++) {
        const wasmplug_manifest_doc *d = entries[k].doc;
        if (!d || !serve_queue_routes(app->queue, d->id) ||
            (k > 0 && entries[k - 1].doc && !strcmp(entries[k - 1].doc->id, d->id)))
            continue; /* invalid, local, or an older version */
        wasmplug_plugin *p = NULL;
        bool loaded = wasmplug_host_get(app->host, d->id, &p) == WASMPLUG_OK;
        wasmplug_plugin_release(p);
        if (!loaded)
            json_array_append_new(plugins, json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", d->id,
                                                     "id", d->id, "version", d->version,
                                                     "state", "remote", "mode", "queue"));
    }
    wps_entries_free(entries, count);
}

static void info(server_request *req)
{
    wasmplug_plugin *p = serve_api_plugin(req);
    if (!p)
        return;
    json_t *o = plugin_json(server_app(req), p, true);
    wasmplug_plugin_release(p);
    server_respond_json(req, 200, o ? json_pack("{s:b, s:o}", "ok", 1, "plugin", o) : NULL);
}

/* What the store has installed: id, versions (newest first), loaded or not. */
static void store(server_request *req)
{
    serve_app *app = server_app(req);
    wps_entry *entries = NULL;
    size_t count = 0;
    char msg[512];
    wasmplug_status st = wps_list(app->store, NULL, &entries, &count, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        server_respond_error(req, 500, wasmplug_status_name(st), NULL, "%s", msg);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < count; i++) {
        const wasmplug_manifest_doc *d = entries[i].doc;
        if (!d) {
            json_array_append_new(arr, json_pack("{s:b, s:s}", "valid", 0, "error",
                                                 entries[i].diag.message));
            continue;
        }
        wasmplug_plugin *p = NULL;
        bool loaded = wasmplug_host_get(app->host, d->id, &p) == WASMPLUG_OK;
        wasmplug_plugin_release(p);
        json_array_append_new(arr, json_pack("{s:b, s:s, s:s, s:s?, s:s?, s:b, s:s}", "valid", 1,
                                             "id", d->id, "version", d->version, "name", d->name,
                                             "description", d->description, "loaded", loaded,
                                             "mode", serve_queue_routes(app->queue, d->id)
                                                         ? "queue" : "local"));
    }
    wps_entries_free(entries, count);
    server_respond_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "installed", arr));
}

/* Optional fields of a control body: "version" (a string) and "pool_size"
 * (1..256). false after answering 400. */
static bool control_fields(server_request *req, json_t *body, const char **version,
                           uint32_t *pool)
{
    *version = NULL;
    if (pool)
        *pool = 0;
    if (json_is_null(body))
        return true;
    if (!json_is_object(body)) {
        server_respond_error(req, 400, "bad_request", NULL, "the body must be a JSON object");
        return false;
    }
    json_t *v = json_object_get(body, "version");
    if (v && !json_is_string(v)) {
        server_respond_error(req, 400, "bad_request", NULL, "\"version\" must be a string");
        return false;
    }
    *version = v ? json_string_value(v) : NULL;
    json_t *ps = json_object_get(body, "pool_size");
    if (ps && (!pool || !json_is_integer(ps) || json_integer_value(ps) < 1 ||
               json_integer_value(ps) > 256)) {
        server_respond_error(req, 400, "bad_request", NULL,
                             "\"pool_size\" must be an integer from 1 to 256%s",
                             pool ? "" : " (and is only taken by a load)");
        return false;
    }
    if (ps)
        *pool = (uint32_t)json_integer_value(ps);
    return true;
}

static void load(server_request *req)
{
    serve_app *app = server_app(req);
    json_t *body = server_body_json(req, false);
    if (!body)
        return;
    const char *version;
    uint32_t pool;
    json_t *id = json_object_get(body, "id");
    if (!control_fields(req, body, &version, &pool)) {
        json_decref(body);
        return;
    }
    if (!json_is_string(id) || !json_string_length(id) ||
        json_string_length(id) >= WASMPLUG_NAME_MAX || strchr(json_string_value(id), '@') ||
        strchr(json_string_value(id), '/')) {
        json_decref(body);
        server_respond_error(req, 400, "bad_request", NULL,
                             "the body needs \"id\": an installed plugin's id (see GET /v1/store)");
        return;
    }
    char ref[2 * WASMPLUG_NAME_MAX + 2];
    snprintf(ref, sizeof ref, "%s%s%s", json_string_value(id), version ? "@" : "",
             version ? version : "");
    json_decref(body);
    wasmplug_plugin_error err;
    wasmplug_status st = serve_app_load(app, ref, pool, &err);
    if (st != WASMPLUG_OK) {
        serve_api_fail(req, st, &err);
        return;
    }
    char *at = strchr(ref, '@');
    if (at)
        *at = '\0';
    wasmplug_plugin *p;
    json_t *o = NULL;
    if (wasmplug_host_get(app->host, ref, &p) == WASMPLUG_OK) {
        o = plugin_json(app, p, true);
        wasmplug_plugin_release(p);
    }
    server_respond_json(req, 201, o ? json_pack("{s:b, s:o}", "ok", 1, "plugin", o) : NULL);
}

static void reload(server_request *req)
{
    serve_app *app = server_app(req);
    json_t *body = server_body_json(req, true);
    if (!body)
        return;
    const char *version;
    if (!control_fields(req, body, &version, NULL)) {
        json_decref(body);
        return;
    }
    wasmplug_plugin_error err;
    wasmplug_status st = serve_app_reload(app, server_param(req, "name"), version, &err);
    json_decref(body);
    if (st != WASMPLUG_OK) {
        serve_api_fail(req, st, &err);
        return;
    }
    info(req);
}

static void dispose(server_request *req)
{
    wasmplug_plugin *p = serve_api_plugin(req);
    if (!p)
        return;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_plugin_dispose(p, &err);
    json_t *o = plugin_json(server_app(req), p, false);
    wasmplug_plugin_release(p);
    if (st != WASMPLUG_OK) {
        json_decref(o);
        serve_api_fail(req, st, &err);
        return;
    }
    server_respond_json(req, 200, json_pack("{s:b, s:o?}", "ok", 1, "plugin", o));
}

static void kill(server_request *req)
{
    serve_app *app = server_app(req);
    const char *name = server_param(req, "name");
    if (serve_app_kill(app, name) != WASMPLUG_OK) {
        server_respond_error(req, 404, "not_found", NULL, "no plugin '%s' is loaded", name);
        return;
    }
    server_respond_json(req, 200, json_pack("{s:b, s:s}", "ok", 1, "killed", name));
}

static void metrics(server_request *req)
{
    wasmplug_plugin *p = serve_api_plugin(req);
    if (!p)
        return;
    wasmplug_plugin_info info;
    wasmplug_plugin_get_info(p, &info);
    wasmplug_plugin_release(p);
    json_t *m = metrics_json(&info.metrics);
    if (m) {
        json_object_set_new(m, "instances", json_integer(info.instances));
        json_object_set_new(m, "running", json_integer(info.running));
        json_object_set_new(m, "state", json_string(wasmplug_state_string(info.state)));
    }
    server_respond_json(req, 200, m ? json_pack("{s:b, s:s, s:o}", "ok", 1, "plugin", info.name,
                                                "metrics", m)
                                    : NULL);
}

/* Error histories: ?limit=N (1..256, default 64) of the most recent. */
static size_t history_limit(server_request *req, bool *ok)
{
    const char *s = server_query(req, "limit");
    *ok = true;
    if (!s)
        return 64;
    char *end;
    unsigned long n = strtoul(s, &end, 10);
    if (*end || !*s || n < 1 || n > 256) {
        server_respond_error(req, 400, "bad_request", NULL,
                             "limit must be a number from 1 to 256 (got '%.40s')", s);
        *ok = false;
    }
    return n;
}

static void respond_errors(server_request *req, const wasmplug_plugin_error *errs, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = serve_error_json(&errs[i]);
        if (e)
            json_array_append_new(arr, e);
    }
    server_respond_json(req, 200, json_pack("{s:b, s:o}", "ok", 1, "errors", arr));
}

static void errors(server_request *req)
{
    bool ok;
    size_t limit = history_limit(req, &ok);
    if (!ok)
        return;
    wasmplug_plugin *p = serve_api_plugin(req);
    if (!p)
        return;
    wasmplug_plugin_error *errs = calloc(limit, sizeof *errs);
    size_t n = errs ? wasmplug_plugin_errors(p, errs, limit) : 0;
    wasmplug_plugin_release(p);
    respond_errors(req, errs, n);
    free(errs);
}

static void host_errors(server_request *req)
{
    bool ok;
    size_t limit = history_limit(req, &ok);
    if (!ok)
        return;
    serve_app *app = server_app(req);
    wasmplug_plugin_error *errs = calloc(limit, sizeof *errs);
    size_t n = errs ? wasmplug_host_errors(app->host, errs, limit) : 0;
    respond_errors(req, errs, n);
    free(errs);
}

const server_route api_plugins_routes[] = {
    {"GET", "/v1/plugins", SERVER_AUTH_READ, 0, list},
    {"POST", "/v1/plugins", SERVER_AUTH_WRITE, SERVE_CONTROL_BODY_MAX, load},
    {"GET", "/v1/store", SERVER_AUTH_READ, 0, store},
    {"GET", "/v1/errors", SERVER_AUTH_READ, 0, host_errors},
    {"GET", "/v1/plugins/{name}", SERVER_AUTH_READ, 0, info},
    {"DELETE", "/v1/plugins/{name}", SERVER_AUTH_WRITE, 0, kill},
    {"POST", "/v1/plugins/{name}/reload", SERVER_AUTH_WRITE, SERVE_CONTROL_BODY_MAX, reload},
    {"POST", "/v1/plugins/{name}/dispose", SERVER_AUTH_WRITE, 0, dispose},
    {"GET", "/v1/plugins/{name}/metrics", SERVER_AUTH_READ, 0, metrics},
    {"GET", "/v1/plugins/{name}/errors", SERVER_AUTH_READ, 0, errors},
    {0},
};
