/*
 * api_ui.c - the dashboard of `wasmplug serve` and the UI its plugins
 * contribute (<wasmplug/ui.h>):
 *
 *   GET  /  /dashboard.css  /dashboard.js   the dashboard: static files built
 *        into the program (src/server/dashboard/), no data; served to anyone
 *   GET  /v1/dashboard          what the dashboard shows, in one object:
 *        plugins (state, version, ABI, grants, metrics with latency
 *        quantiles), the host's recent errors with their wasm backtraces,
 *        the event bus (topics, queues) and the UI contributions
 *   GET  /v1/ui                 the contributions of the loaded plugins
 *   POST /v1/ui/frame           {"plugin", "id"} -> {"url"}: a one-time URL
 *        (valid FRAME_TTL_MS) under which a panel is rendered for a frame
 *   GET  /ui/frame/{ticket}     the panel's HTML, sandboxed by its CSP
 *   POST /v1/plugins/{name}/ui/render/{kind}/{id}   a panel or block type
 *        rendered (the body: its input or props), sandboxed by its CSP
 *   POST /v1/plugins/{name}/ui/command/{id}         a command run (token)
 *
 * A plugin's HTML is untrusted. It is only ever served with a
 * Content-Security-Policy whose `sandbox` directive gives the document an
 * opaque origin (so it cannot read the dashboard, its token or another
 * plugin's frame, even when opened on its own), with no network access
 * (default-src 'none'), inline styles, and scripts only for contributions
 * granted ui.scripts. The dashboard puts it in an <iframe sandbox> too.
 * An iframe cannot send the bearer token, so the dashboard asks for a
 * ticket (with the token) and the frame loads the ticket's URL: a ticket
 * names one panel, is random (128 bits), single-use and short-lived.
 *
 * Contributions are read per request from the installed manifests of the
 * loaded plugins (serve_app_entry: the version loaded), so reloads and
 * kills need no bookkeeping here; plugins without the grant "ui" have none.
 */
#include "api.h"
#include "dashboard_assets.h"
#include "serve_queue.h"

#include <wasmplug/manifest.h>
#include <wasmplug/ui.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define FRAME_TTL_MS 60000
#define FRAME_TICKETS 64
#define DASHBOARD_ERRORS 20

/* ---- contributions ------------------------------------------------------ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Register the contributions of the loaded plugin name, from its installed
 * manifest. Not granted "ui", no manifest, nothing to contribute: none. */
static void register_plugin(serve_app *app, wasmplug_ui_registry *reg, const char *name)
{
    serve_entry e;
    if (serve_app_entry(app, name, &e) != WASMPLUG_OK)
        return;
    size_t n = strlen(e.dir) + sizeof WASMPLUG_MANIFEST_FILE + 1;
    char *path = malloc(n);
    wasmplug_manifest_doc *doc = NULL;
    if (path) {
        snprintf(path, n, "%s/%s", e.dir, WASMPLUG_MANIFEST_FILE);
        if (wasmplug_manifest_load(path, &doc, NULL) == WASMPLUG_OK && doc->ui_item_count)
            wasmplug_ui_register(reg, name, doc, NULL, 0);
    }
    wasmplug_manifest_doc_free(doc);
    free(path);
    serve_entry_clear(&e);
}

/* A registry of the loaded plugins' contributions (only plugin's, when
 * given); NULL when out of memory. */
static wasmplug_ui_registry *registry_of(serve_app *app, const char *plugin)
{
    wasmplug_ui_registry *reg = NULL;
    if (wasmplug_ui_registry_new(app->host, NULL, &reg) != WASMPLUG_OK)
        return NULL;
    if (plugin) {
        register_plugin(app, reg, plugin);
        return reg;
    }
    char **names = NULL;
    size_t count = 0;
    if (wasmplug_host_list(app->host, &names, &count) == WASMPLUG_OK)
        for (size_t i = 0; i < count; i++)
            register_plugin(app, reg, names[i]);
    wasmplug_free(names);
    return reg;
}

static json_t *contributions_json(wasmplug_ui_registry *reg)
{
    wasmplug_ui_contribution *items = NULL;
    size_t n = 0;
    json_t *a = json_array();
    if (!a || wasmplug_ui_list(reg, NULL, &items, &n) != WASMPLUG_OK) {
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const wasmplug_ui_contribution *c = &items[i];
        json_t *data = json_array(), *props = json_object();
        for (size_t j = 0; j < c->data_count; j++)
            json_array_append_new(data, json_string(c->data[j]));
        for (size_t j = 0; j < c->prop_count; j++)
            json_object_set_new(props, c->props[j].key, json_string(c->props[j].value));
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:b}", "plugin", c->plugin,
                         "kind", wasmplug_ui_kind_string(c->kind), "id", c->id, "title", c->title,
                         "description", c->description, "export", c->export_name, "data", data,
                         "props", props, "scripts", c->scripts));
    }
    wasmplug_free(items);
    return a;
}

static void ui_list(server_request *req)
{
    wasmplug_ui_registry *reg = registry_of(server_app(req), NULL);
    json_t *a = reg ? contributions_json(reg) : NULL;
    wasmplug_ui_registry_free(reg);
    server_respond_json(req, a ? 200 : 500, a ? json_pack("{s:o}", "contributions", a) : NULL);
}

/* ---- plugin HTML --------------------------------------------------------- */

/* Answer with a plugin's HTML (or a failure as text) under the CSP that
 * sandboxes it; scripts only when the contribution was granted them. */
static void respond_sandboxed(server_request *req, unsigned status, const char *type,
                              void *body, size_t len, bool scripts)
{
    server_add_header(req, "Content-Security-Policy",
                      scripts ? "sandbox allow-scripts; default-src 'none'; "
                                "style-src 'unsafe-inline'; img-src data:; "
                                "script-src 'unsafe-inline'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'self'"
                              : "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                                "img-src data:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'self'");
    server_add_header(req, "Referrer-Policy", "no-referrer");
    server_respond_owned(req, status, type, body, len);
}

static void respond_sandboxed_error(server_request *req, wasmplug_status st,
                                    const wasmplug_plugin_error *err)
{
    char *text = malloc(WASMPLUG_ERROR_MESSAGE_MAX + 256);
    if (!text) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    int n = snprintf(text, WASMPLUG_ERROR_MESSAGE_MAX + 256, "%s: %s\n",
                     wasmplug_status_name(st), err->message);
    respond_sandboxed(req, serve_http_status(st), "text/plain; charset=utf-8", text,
                      n > 0 ? (size_t)n : 0, false);
}

/* Whether plugin's contribution kind/id runs scripts (granted ui.scripts);
 * false when it does not exist. */
static bool contribution_scripts(wasmplug_ui_registry *reg, const char *plugin,
                                 wasmplug_ui_kind kind, const char *id)
{
    wasmplug_ui_contribution *items = NULL;
    size_t n = 0;
    bool scripts = false;
    if (wasmplug_ui_list(reg, plugin, &items, &n) == WASMPLUG_OK)
        for (size_t i = 0; i < n; i++)
            if (items[i].kind == kind && !strcmp(items[i].id, id))
                scripts = items[i].scripts;
    wasmplug_free(items);
    return scripts;
}

/* Render plugin's kind/id with in and answer with it. */
static void render_and_respond(server_request *req, const char *plugin, wasmplug_ui_kind kind,
                               const char *id, const uint8_t *in, size_t len)
{
    wasmplug_ui_registry *reg = registry_of(server_app(req), plugin);
    if (!reg) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    wasmplug_buf html = {NULL, 0};
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_ui_render(reg, plugin, kind, id, in, len, &html, &err);
    bool scripts = st == WASMPLUG_OK && contribution_scripts(reg, plugin, kind, id);
    wasmplug_ui_registry_free(reg);
    if (st != WASMPLUG_OK) {
        respond_sandboxed_error(req, st, &err);
        return;
    }
    respond_sandboxed(req, 200, "text/html; charset=utf-8", html.data, html.len, scripts);
}

static bool parse_kind(server_request *req, wasmplug_ui_kind *kind)
{
    const char *s = server_param(req, "kind");
    if (wasmplug_ui_kind_parse(s, kind) && *kind != WASMPLUG_UI_COMMAND)
        return true;
    server_respond_error(req, 404, "not_found", NULL,
                         "'%s' does not render: the kinds are panel and block", s ? s : "");
    return false;
}

static void render(server_request *req)
{
    wasmplug_ui_kind kind;
    if (!parse_kind(req, &kind))
        return;
    size_t len;
    const uint8_t *in = server_body(req, &len);
    render_and_respond(req, server_param(req, "name"), kind, server_param(req, "id"),
                       len ? in : NULL, len);
}

static void command(server_request *req)
{
    const char *plugin = server_param(req, "name"), *id = server_param(req, "id");
    wasmplug_ui_registry *reg = registry_of(server_app(req), plugin);
    if (!reg) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    size_t len;
    const uint8_t *in = server_body(req, &len);
    wasmplug_buf out = {NULL, 0};
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_ui_command(reg, plugin, id, len ? in : NULL, len, &out, &err);
    wasmplug_ui_registry_free(reg);
    if (st != WASMPLUG_OK) {
        serve_api_fail(req, st, &err);
        return;
    }
    server_respond_owned(req, 200, "application/octet-stream", out.data, out.len);
}

/* ---- frame tickets ------------------------------------------------------- */

/* One-time URLs of panel frames. Process-wide on purpose: a ticket is
 * minted by one request and spent by another. Fixed size: when every slot
 * is live, the oldest is reused (its frame then fails with 404). */
typedef struct ticket {
    char key[33]; /* 32 hex digits; "" = free */
    char plugin[WASMPLUG_NAME_MAX];
    char id[WASMPLUG_NAME_MAX];
    uint64_t expires_ms;
} ticket;

static pthread_mutex_t tickets_lock = PTHREAD_MUTEX_INITIALIZER;
static ticket tickets[FRAME_TICKETS];

static bool ticket_mint(const char *plugin, const char *id, char key[33])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return false;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 2 * i, 3, "%02x", raw[i]);
    uint64_t now = now_ms();
    pthread_mutex_lock(&tickets_lock);
    ticket *slot = &tickets[0];
    for (size_t i = 0; i < FRAME_TICKETS; i++) {
        ticket *t = &tickets[i];
        if (!t->key[0] || t->expires_ms <= now) {
            slot = t;
            break;
        }
        if (t->expires_ms < slot->expires_ms)
            slot = t;
    }
    memcpy(slot->key, key, 33);
    snprintf(slot->plugin, sizeof slot->plugin, "%s", plugin);
    snprintf(slot->id, sizeof slot->id, "%s", id);
    slot->expires_ms = now + FRAME_TTL_MS;
    pthread_mutex_unlock(&tickets_lock);
    return true;
}

/* Spend a ticket: its panel, once. */
static bool ticket_spend(const char *key, char plugin[WASMPLUG_NAME_MAX],
                         char id[WASMPLUG_NAME_MAX])
{
    bool found = false;
    uint64_t now = now_ms();
    pthread_mutex_lock(&tickets_lock);
    for (size_t i = 0; i < FRAME_TICKETS && !found; i++) {
        ticket *t = &tickets[i];
        if (t->key[0] && strlen(key) == 32 && !strcmp(t->key, key)) {
            found = t->expires_ms > now;
            memcpy(plugin, t->plugin, WASMPLUG_NAME_MAX);
            memcpy(id, t->id, WASMPLUG_NAME_MAX);
            memset(t, 0, sizeof *t);
        }
    }
    pthread_mutex_unlock(&tickets_lock);
    return found;
}

static void frame_ticket(server_request *req)
{
    json_t *body = server_body_json(req, false);
    if (!body)
        return;
    const char *plugin = json_string_value(json_object_get(body, "plugin"));
    const char *id = json_string_value(json_object_get(body, "id"));
    const char *kind = json_string_value(json_object_get(body, "kind"));
    if (!plugin || !id || (kind && strcmp(kind, "panel"))) {
        server_respond_error(req, 400, "bad_request", NULL,
                             "expected {\"plugin\": NAME, \"id\": PANEL} (frames show panels)");
        json_decref(body);
        return;
    }
    wasmplug_ui_registry *reg = registry_of(server_app(req), plugin);
    wasmplug_ui_contribution *items = NULL;
    size_t n = 0;
    bool exists = false;
    if (reg && wasmplug_ui_list(reg, plugin, &items, &n) == WASMPLUG_OK)
        for (size_t i = 0; i < n; i++)
            exists = exists || (items[i].kind == WASMPLUG_UI_PANEL && !strcmp(items[i].id, id));
    wasmplug_free(items);
    wasmplug_ui_registry_free(reg);
    char key[33], url[64];
    if (!exists)
        server_respond_error(req, 404, "not_found", NULL,
                             "plugin '%s' has no panel '%s' (GET /v1/ui lists them)", plugin, id);
    else if (!ticket_mint(plugin, id, key))
        server_respond_error(req, 500, "internal", NULL, "no random bytes for a frame ticket");
    else {
        snprintf(url, sizeof url, "/ui/frame/%s", key);
        server_respond_json(req, 200, json_pack("{s:s, s:i}", "url", url, "expires_in_ms",
                                                FRAME_TTL_MS));
    }
    json_decref(body);
}

static void frame(server_request *req)
{
    char plugin[WASMPLUG_NAME_MAX], id[WASMPLUG_NAME_MAX];
    const char *key = server_param(req, "ticket");
    if (!key || !ticket_spend(key, plugin, id)) {
        wasmplug_plugin_error err;
        wasmplug_plugin_error_clear(&err);
        snprintf(err.message, sizeof err.message,
                 "this frame's ticket is unknown, used or expired: reload the dashboard");
        respond_sandboxed_error(req, WASMPLUG_ERR_NOT_FOUND, &err);
        return;
    }
    render_and_respond(req, plugin, WASMPLUG_UI_PANEL, id, NULL, 0);
}

/* ---- the dashboard -------------------------------------------------------- */

static json_t *metrics_json(const wasmplug_metrics *m)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f, s:f}",
                     "calls", (json_int_t)m->calls, "errors", (json_int_t)m->errors, "traps",
                     (json_int_t)m->traps, "fuel_used", (json_int_t)m->fuel_used, "memory_bytes",
                     (json_int_t)m->memory_pages * 65536, "memory_max_bytes",
                     (json_int_t)m->memory_pages_max * 65536, "bytes_in",
                     (json_int_t)m->bytes_in, "bytes_out", (json_int_t)m->bytes_out, "mean_us",
                     m->calls ? (double)m->total_ns / (double)m->calls / 1e3 : 0.0, "max_us",
                     (double)m->max_ns / 1e3, "p50_us", (double)m->p50_ns / 1e3, "p90_us",
                     (double)m->p90_ns / 1e3, "p99_us", (double)m->p99_ns / 1e3);
}

static json_t *plugin_json(wasmplug_plugin *p)
{
    wasmplug_plugin_info info;
    if (wasmplug_plugin_get_info(p, &info) != WASMPLUG_OK)
        return NULL;
    json_t *grants = json_array();
    char **perms = NULL;
    size_t n = 0;
    if (wasmplug_plugin_permissions(p, &perms, &n) == WASMPLUG_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(grants, json_string(perms[i]));
    wasmplug_free(perms);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:i, s:i, s:i, s:o}", "name", info.name, "id",
                     info.id, "version", info.version, "state",
                     wasmplug_state_string(info.state), "abi", wasmplug_abi_string(info.abi),
                     "grants", grants, "pool_size", (int)info.pool_size, "instances",
                     (int)info.instances, "running", (int)info.running, "metrics",
                     metrics_json(&info.metrics));
}

static json_t *plugins_json(wasmplug_host *host)
{
    json_t *a = json_array();
    char **names = NULL;
    size_t count = 0;
    if (!a || wasmplug_host_list(host, &names, &count) != WASMPLUG_OK) {
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) {
        wasmplug_plugin *p;
        if (wasmplug_host_get(host, names[i], &p) != WASMPLUG_OK)
            continue; /* killed in between */
        json_t *o = plugin_json(p);
        if (o)
            json_array_append_new(a, o);
        wasmplug_plugin_release(p);
    }
    wasmplug_free(names);
    return a;
}

static json_t *errors_json(wasmplug_host *host)
{
    wasmplug_plugin_error *errs = calloc(DASHBOARD_ERRORS, sizeof *errs);
    json_t *a = json_array();
    if (!errs || !a) {
        free(errs);
        json_decref(a);
        return NULL;
    }
    size_t n = wasmplug_host_errors(host, errs, DASHBOARD_ERRORS);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, serve_error_json(&errs[i]));
    free(errs);
    return a;
}

static json_t *bus_json(wasmplug_bus *bus)
{
    if (!bus)
        return json_null();
    wasmplug_bus_stats st;
    wasmplug_bus_get_stats(bus, &st);
    json_t *topics = json_array(), *subs = json_array();
    wasmplug_topic_stats *ts = NULL;
    wasmplug_subscription_stats *ss = NULL;
    size_t nt = 0, ns = 0;
    if (wasmplug_bus_list_topics(bus, &ts, &nt) == WASMPLUG_OK)
        for (size_t i = 0; i < nt; i++)
            json_array_append_new(topics, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "topic",
                                                    ts[i].topic, "published",
                                                    (json_int_t)ts[i].published, "delivered",
                                                    (json_int_t)ts[i].delivered, "dropped",
                                                    (json_int_t)ts[i].dropped, "failed",
                                                    (json_int_t)ts[i].failed, "unmatched",
                                                    (json_int_t)ts[i].unmatched));
    if (wasmplug_bus_list_subscriptions(bus, &ss, &ns) == WASMPLUG_OK)
        for (size_t i = 0; i < ns; i++)
            json_array_append_new(
                subs, json_pack("{s:I, s:s, s:s, s:i, s:i, s:I, s:I, s:I, s:f}", "id",
                                (json_int_t)ss[i].id, "pattern", ss[i].pattern, "subscriber",
                                ss[i].subscriber, "queue_depth", (int)ss[i].queue_depth,
                                "queue_max", (int)ss[i].queue_max, "delivered",
                                (json_int_t)ss[i].delivered, "dropped",
                                (json_int_t)(ss[i].dropped + ss[i].rejected), "failed",
                                (json_int_t)ss[i].failed, "p99_us",
                                (double)ss[i].latency_p99_ns / 1e3));
    wasmplug_free(ts);
    wasmplug_free(ss);
    return json_pack("{s:I, s:I, s:I, s:o, s:o}", "published", (json_int_t)st.published,
                     "publish_errors", (json_int_t)st.publish_errors, "dead_letters",
                     (json_int_t)st.dead_letters, "topics", topics, "subscriptions", subs);
}

static void dashboard_state(server_request *req)
{
    serve_app *app = server_app(req);
    wasmplug_ui_registry *reg = registry_of(app, NULL);
    json_t *ui = reg ? contributions_json(reg) : NULL;
    wasmplug_ui_registry_free(reg);
    json_t *plugins = plugins_json(app->host), *errors = errors_json(app->host);
    serve_api_mark_remote(app, plugins);
    if (!ui || !plugins || !errors) {
        json_decref(ui);
        json_decref(plugins);
        json_decref(errors);
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    server_respond_json(req, 200,
                        json_pack("{s:I, s:o, s:o, s:o, s:o, s:o}", "time_ms",
                                  (json_int_t)now_ms(), "plugins", plugins, "errors", errors,
                                  "bus", bus_json(app->bus), "ui", ui, "queue",
                                  app->queue ? serve_queue_json(app->queue) : json_null()));
}

/* The dashboard's own files: code, no data. Its CSP lets it load only
 * itself, talk only to this server and frame only this server's pages. */
static void asset(server_request *req)
{
    const char *path = server_path(req);
    for (unsigned long i = 0; i < dashboard_assets_count; i++) {
        const dashboard_assets_asset *a = &dashboard_assets[i];
        if (strcmp(a->path, path) != 0)
            continue;
        server_add_header(req, "Content-Security-Policy",
                          "default-src 'none'; script-src 'self'; style-src 'self'; "
                          "connect-src 'self'; img-src 'self' data:; frame-src 'self'; "
                          "base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
        server_add_header(req, "Referrer-Policy", "no-referrer");
        server_respond(req, 200, a->content_type, a->data, a->len);
        return;
    }
    server_respond_error(req, 404, "not_found", NULL, "no such file");
}

const server_route api_ui_routes[] = {
    {"GET", "/", SERVER_AUTH_NONE, 0, asset},
    {"GET", "/dashboard.css", SERVER_AUTH_NONE, 0, asset},
    {"GET", "/dashboard.js", SERVER_AUTH_NONE, 0, asset},
    {"GET", "/v1/dashboard", SERVER_AUTH_READ, 0, dashboard_state},
    {"GET", "/v1/ui", SERVER_AUTH_READ, 0, ui_list},
    {"POST", "/v1/ui/frame", SERVER_AUTH_READ, SERVE_CONTROL_BODY_MAX, frame_ticket},
    {"GET", "/ui/frame/{ticket}", SERVER_AUTH_NONE, 0, frame},
    {"POST", "/v1/plugins/{name}/ui/render/{kind}/{id}", SERVER_AUTH_READ,
     SERVER_BODY_CONFIGURED, render},
    {"POST", "/v1/plugins/{name}/ui/command/{id}", SERVER_AUTH_WRITE, SERVER_BODY_CONFIGURED,
     command},
    {0},
};
