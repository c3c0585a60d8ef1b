/*
 * serve_app.c - the plugins `wasmplug serve` runs: loaded from the store
 * only, with their recorded grants (WASI and HTTP too, as run loads them);
 * hot reloads and store syncs (SIGHUP); errors as JSON. Rules in
 * serve_app.h.
 */
#include "serve_app.h"
#include "serve_queue.h"

#include "services/grants.h"
#include "services/launch.h"
#include "services/store.h"

#include <wasmplug/manifest.h>
#include <wasmplug/services.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

wasmplug_status serve_app_new(const serve_app_config *cfg, serve_app **out, char *msg,
                              size_t msgsize)
{
    *out = NULL;
    serve_app *app = calloc(1, sizeof *app);
    if (!app || !(app->store = strdup(cfg->store)) ||
        (cfg->data_dir && !(app->data_dir = strdup(cfg->data_dir)))) {
        snprintf(msg, msgsize, "out of memory");
        serve_app_free(app);
        return WASMPLUG_ERR_NOMEM;
    }
    pthread_mutex_init(&app->lock, NULL);
    app->denies = calloc(cfg->deny_count + 1, sizeof *app->denies);
    for (size_t i = 0; app->denies && i < cfg->deny_count; i++)
        if ((app->denies[app->deny_count] = strdup(cfg->denies[i])) != NULL)
            app->deny_count++;
    if (!app->denies || app->deny_count < cfg->deny_count) {
        snprintf(msg, msgsize, "out of memory");
        serve_app_free(app);
        return WASMPLUG_ERR_NOMEM;
    }
    app->pool_size = cfg->pool_size ? cfg->pool_size : 4;
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = cfg->bounds;
    wasmplug_status st = wasmplug_host_new(&hc, &app->host);
    if (st != WASMPLUG_OK) {
        snprintf(msg, msgsize, "cannot create the plugin host: %s", wasmplug_strerror(st));
        serve_app_free(app);
        return st;
    }
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = app->data_dir;
    sc.enable &= ~WASMPLUG_SERVICE_HTTP; /* attached on its own, with its policy */
    if (cfg->http && (st = wasmplug_http_attach(app->host, cfg->http, NULL)) != WASMPLUG_OK) {
        snprintf(msg, msgsize, "cannot attach the HTTP service: %s", wasmplug_strerror(st));
        serve_app_free(app);
        return st;
    }
    if ((st = wasmplug_bus_new(app->host, NULL, &app->bus)) != WASMPLUG_OK) {
        snprintf(msg, msgsize, "cannot create the event bus: %s", wasmplug_strerror(st));
        serve_app_free(app);
        return st;
    }
    sc.bus = app->bus;
    if ((st = wasmplug_services_attach(app->host, &sc, NULL, msg, msgsize)) != WASMPLUG_OK) {
        serve_app_free(app);
        return st;
    }
    *out = app;
    return WASMPLUG_OK;
}

void serve_entry_clear(serve_entry *e)
{
    free(e->dir);
    free(e->grants_text);
    e->dir = e->grants_text = NULL;
}

void serve_app_free(serve_app *app)
{
    if (!app)
        return;
    if (app->bus)
        wasmplug_bus_shutdown(app->bus, WASMPLUG_BUS_DRAIN, 2000, NULL);
    if (app->host)
        wasmplug_host_kill_all(app->host);
    if (app->bus)
        wasmplug_bus_free(app->bus);
    wasmplug_host_free(app->host);
    for (size_t i = 0; i < app->nentries; i++)
        serve_entry_clear(&app->entries[i]);
    free(app->entries);
    free(app->store);
    free(app->data_dir);
    for (size_t i = 0; i < app->deny_count; i++)
        free(app->denies[i]);
    free(app->denies);
    pthread_mutex_destroy(&app->lock);
    free(app);
}

/* ------------------------------------------------------------------------ */
/* Loading from the store                                                   */
/* ------------------------------------------------------------------------ */

static serve_entry *entry_find(serve_app *app, const char *id)
{
    for (size_t i = 0; i < app->nentries; i++)
        if (!strcmp(app->entries[i].id, id))
            return &app->entries[i];
    return NULL;
}

static void entry_forget(serve_app *app, const char *id)
{
    serve_entry *e = entry_find(app, id);
    if (!e)
        return;
    serve_entry_clear(e);
    *e = app->entries[--app->nentries];
}

static wasmplug_status fail(wasmplug_plugin_error *err, wasmplug_status st, const char *plugin,
                            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static wasmplug_status fail(wasmplug_plugin_error *err, wasmplug_status st, const char *plugin,
                            const char *fmt, ...)
{
    if (err) {
        wasmplug_plugin_error_clear(err);
        err->code = st;
        err->phase = WASMPLUG_PHASE_LOAD;
        snprintf(err->plugin, sizeof err->plugin, "%.*s", (int)sizeof err->plugin - 1, plugin);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* What an installed plugin is loaded with: its manifest and what
 * services/launch.h makes of it with the grants recorded at install and the
 * operator's denials (the host policy grants exactly those permissions to
 * this name; the WASI environment and directories likewise). */
typedef struct load_plan {
    wps_entry found;
    wps_grants grants;
    wasmplug_manifest hm;
    wps_launch launch;
    char *module;
} load_plan;

static void plan_free(load_plan *p)
{
    wps_entry_clear(&p->found);
    wps_grants_free(&p->grants);
    wps_launch_free(&p->launch);
    free(p->module);
}

static wasmplug_status plan_make(serve_app *app, const char *ref, load_plan *p,
                                 wasmplug_plugin_error *err)
{
    memset(p, 0, sizeof *p);
    char msg[512];
    wasmplug_status st = wps_find(app->store, NULL, ref, &p->found, msg, sizeof msg);
    if (st != WASMPLUG_OK)
        return fail(err, st, ref, "%s", msg);
    if (p->found.source != WPS_STORE || !p->found.doc)
        return fail(err, WASMPLUG_ERR_MANIFEST, ref, "'%s' has no valid manifest in the store: %s",
                    ref, p->found.diag.message);
    st = wps_grants_load(p->found.dir, &p->grants, msg, sizeof msg);
    if (st != WASMPLUG_OK && st != WASMPLUG_ERR_NOT_FOUND)
        return fail(err, st, ref, "%s", msg);
    const wasmplug_manifest_doc *doc = p->found.doc;
    wasmplug_manifest_to_host(doc, &p->hm);
    wps_launch_opts lo = {.recorded = &p->grants,
                          .denies = (const char *const *)app->denies,
                          .deny_count = app->deny_count};
    p->module = wasmplug_manifest_module_path(doc);
    if (!p->module || wps_launch_make(doc, &lo, &p->launch) != WASMPLUG_OK)
        return fail(err, WASMPLUG_ERR_NOMEM, ref, "out of memory");
    for (size_t i = 0; i < p->launch.perm_count; i++)
        wasmplug_host_grant(app->host, doc->id, p->launch.perms[i]);
    p->hm.permissions = p->launch.perms;
    p->hm.permission_count = p->launch.perm_count;
    return WASMPLUG_OK;
}

static bool entry_record(serve_app *app, const load_plan *p)
{
    serve_entry *e = entry_find(app, p->found.doc->id);
    if (!e) {
        serve_entry *grown = realloc(app->entries, (app->nentries + 1) * sizeof *grown);
        if (!grown)
            return false;
        app->entries = grown;
        e = &app->entries[app->nentries++];
        memset(e, 0, sizeof *e);
    }
    serve_entry_clear(e);
    snprintf(e->id, sizeof e->id, "%s", p->found.doc->id);
    snprintf(e->version, sizeof e->version, "%s", p->found.doc->version);
    e->dir = strdup(p->found.dir);
    e->grants_text = wps_grants_text(&p->grants);
    struct stat sb;
    if (stat(p->found.dir, &sb) == 0) {
        e->dir_dev = sb.st_dev;
        e->dir_ino = sb.st_ino;
    }
    return e->dir && e->grants_text;
}

/* Whether the store holds another copy than the one e was loaded from: a
 * newer version, or the same one installed again. */
static bool entry_replaced(const serve_entry *e, const char *version, const char *dir)
{
    struct stat sb;
    return strcmp(e->version, version) != 0 || strcmp(e->dir, dir) != 0 ||
           (stat(dir, &sb) == 0 && (sb.st_dev != e->dir_dev || sb.st_ino != e->dir_ino));
}

static wasmplug_status load_locked(serve_app *app, const char *ref, uint32_t pool,
                                   wasmplug_plugin_error *err)
{
    load_plan p;
    wasmplug_status st = plan_make(app, ref, &p, err);
    if (st != WASMPLUG_OK) {
        plan_free(&p);
        return st;
    }
    wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
    lo.manifest = &p.hm;
    lo.wasi = &p.launch.wasi;
    lo.pool_size = pool ? pool : app->pool_size;
    lo.init = true;
    wasmplug_plugin *pl = NULL;
    st = wasmplug_host_load_file(app->host, p.found.doc->id, p.module, &lo, &pl, err);
    if (st == WASMPLUG_OK && p.found.doc->subscription_count)
        st = wasmplug_bus_subscribe_doc(app->bus, pl, p.found.doc, err);
    if (st != WASMPLUG_OK && pl) /* loaded but failed its init or subscriptions */
        wasmplug_host_kill(app->host, p.found.doc->id);
    if (st == WASMPLUG_OK && !entry_record(app, &p)) {
        wasmplug_host_kill(app->host, p.found.doc->id);
        st = fail(err, WASMPLUG_ERR_NOMEM, ref, "out of memory");
    }
    wasmplug_plugin_release(pl);
    plan_free(&p);
    return st;
}

wasmplug_status serve_app_load(serve_app *app, const char *ref, uint32_t pool_size,
                               wasmplug_plugin_error *err)
{
    pthread_mutex_lock(&app->lock);
    wasmplug_status st = load_locked(app, ref, pool_size, err);
    pthread_mutex_unlock(&app->lock);
    return st;
}

static wasmplug_status reload_locked(serve_app *app, const char *id, const char *version,
                                     wasmplug_plugin_error *err)
{
    wasmplug_plugin *pl;
    if (!entry_find(app, id) || wasmplug_host_get(app->host, id, &pl) != WASMPLUG_OK)
        return fail(err, WASMPLUG_ERR_NOT_FOUND, id, "plugin '%s' is not loaded", id);
    char ref[2 * WASMPLUG_NAME_MAX + 2];
    snprintf(ref, sizeof ref, "%s%s%s", id, version ? "@" : "", version ? version : "");
    load_plan p;
    wasmplug_status st = plan_make(app, ref, &p, err);
    if (st == WASMPLUG_OK && strcmp(p.found.doc->id, id) != 0)
        st = fail(err, WASMPLUG_ERR_MANIFEST, id, "the store's '%s' declares another id ('%s')",
                  id, p.found.doc->id);
    if (st == WASMPLUG_OK) {
        wasmplug_plugin_info info;
        wasmplug_plugin_get_info(pl, &info);
        wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
        lo.manifest = &p.hm;
        lo.wasi = &p.launch.wasi;
        lo.pool_size = info.pool_size;
        wasmplug_reload_options ro;
        memset(&ro, 0, sizeof ro);
        ro.load = &lo;
        st = wasmplug_plugin_reload_file(pl, p.module, &ro, err);
        if (st == WASMPLUG_OK && !entry_record(app, &p))
            st = fail(err, WASMPLUG_ERR_NOMEM, id, "out of memory");
    }
    plan_free(&p);
    wasmplug_plugin_release(pl);
    return st;
}

wasmplug_status serve_app_reload(serve_app *app, const char *id, const char *version,
                                 wasmplug_plugin_error *err)
{
    pthread_mutex_lock(&app->lock);
    wasmplug_status st = reload_locked(app, id, version, err);
    pthread_mutex_unlock(&app->lock);
    return st;
}

static wasmplug_status kill_locked(serve_app *app, const char *id)
{
    if (!entry_find(app, id))
        return WASMPLUG_ERR_NOT_FOUND;
    wasmplug_bus_unsubscribe_plugin(app->bus, id);
    wasmplug_status st = wasmplug_host_kill(app->host, id);
    entry_forget(app, id);
    return st;
}

wasmplug_status serve_app_kill(serve_app *app, const char *id)
{
    pthread_mutex_lock(&app->lock);
    wasmplug_status st = kill_locked(app, id);
    pthread_mutex_unlock(&app->lock);
    return st;
}

wasmplug_status serve_app_entry(serve_app *app, const char *id, serve_entry *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&app->lock);
    serve_entry *e = entry_find(app, id);
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    if (e) {
        *out = *e;
        out->dir = strdup(e->dir);
        out->grants_text = strdup(e->grants_text);
        st = out->dir && out->grants_text ? WASMPLUG_OK : WASMPLUG_ERR_NOMEM;
        if (st != WASMPLUG_OK)
            serve_entry_clear(out);
    }
    pthread_mutex_unlock(&app->lock);
    return st;
}

void serve_app_sync_store(serve_app *app, size_t *loaded, size_t *reloaded, size_t *killed,
                          size_t *failed)
{
    *loaded = *reloaded = *killed = *failed = 0;
    wps_entry *list = NULL;
    size_t count = 0;
    char msg[512];
    pthread_mutex_lock(&app->lock);
    if (wps_list(app->store, NULL, &list, &count, msg, sizeof msg) != WASMPLUG_OK) {
        (*failed)++;
        pthread_mutex_unlock(&app->lock);
        return;
    }
    /* The store lists each id's newest version first. */
    for (size_t i = 0; i < count; i++) {
        const wasmplug_manifest_doc *doc = list[i].doc;
        if (!doc || (i > 0 && list[i - 1].doc && !strcmp(list[i - 1].doc->id, doc->id)))
            continue;
        serve_entry *e = entry_find(app, doc->id);
        wasmplug_plugin_error err;
        if (!e && serve_queue_routes(app->queue, doc->id))
            continue; /* its calls go to the workers */
        if (!e) {
            if (load_locked(app, doc->id, 0, &err) == WASMPLUG_OK)
                (*loaded)++;
            else
                (*failed)++;
        } else if (entry_replaced(e, doc->version, list[i].dir)) {
            if (reload_locked(app, doc->id, NULL, &err) == WASMPLUG_OK)
                (*reloaded)++;
            else
                (*failed)++;
        }
    }
    /* Loaded plugins that are no longer installed. */
    for (size_t j = app->nentries; j-- > 0;) {
        bool installed = false;
        for (size_t i = 0; i < count && !installed; i++)
            installed = list[i].doc && !strcmp(list[i].doc->id, app->entries[j].id);
        if (!installed) {
            char id[WASMPLUG_NAME_MAX];
            snprintf(id, sizeof id, "%s", app->entries[j].id);
            kill_locked(app, id);
            (*killed)++;
        }
    }
    pthread_mutex_unlock(&app->lock);
    wps_entries_free(list, count);
}

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

json_t *serve_error_json(const wasmplug_plugin_error *err)
{
    json_t *frames = json_array();
    for (uint32_t i = 0; i < err->frame_count && frames; i++)
        json_array_append_new(frames, json_pack("{s:i, s:s}", "func_index",
                                                (int)err->frames[i].func_index, "function",
                                                err->frames[i].func_name));
    json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "kind",
                          wasmplug_status_name(err->code), "phase",
                          wasmplug_phase_string(err->phase), "plugin", err->plugin, "function",
                          err->function, "message", err->message, "time_ms",
                          (json_int_t)err->timestamp_ms, "backtrace",
                          frames ? frames : json_array());
    if (!e)
        return NULL;
    if (err->trap != WASMPLUG_TRAP_NONE)
        json_object_set_new(e, "trap", json_string(wasmplug_trap_string(err->trap)));
    if (err->plugin_code)
        json_object_set_new(e, "plugin_code", json_integer(err->plugin_code));
    if (err->offset != UINT64_MAX && err->phase == WASMPLUG_PHASE_LOAD)
        json_object_set_new(e, "offset", json_integer((json_int_t)err->offset));
    return e;
}

unsigned serve_http_status(wasmplug_status st)
{
    switch (st) {
    case WASMPLUG_OK:
        return 200;
    case WASMPLUG_ERR_NOT_FOUND:
        return 404;
    case WASMPLUG_ERR_ARGUMENT:
    case WASMPLUG_ERR_MANIFEST:
    case WASMPLUG_ERR_ABI:
        return 400;
    case WASMPLUG_ERR_PERMISSION_DENIED:
        return 403;
    case WASMPLUG_ERR_DUPLICATE:
    case WASMPLUG_ERR_PLUGIN_STATE:
        return 409;
    case WASMPLUG_ERR_INPUT_TOO_LARGE:
        return 413;
    case WASMPLUG_ERR_TIMEOUT:
        return 504;
    case WASMPLUG_ERR_CANCELLED:
        return 503;
    case WASMPLUG_ERR_NOMEM:
    case WASMPLUG_ERR_IO:
        return 500;
    default: /* the plugin failed: trap, limit, error return */
        return 422;
    }
}
