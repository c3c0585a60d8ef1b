/*
 * plugin.c - a plugin's life: load (compile once, link, check the ABI and
 * manifest), init, calls (bytes and typed) on a pool of instances, dispose
 * and kill. Every failure of a plugin is recorded (history, callback) and
 * every state change notified, both outside the locks.
 *
 * Instances: slot i of the pool holds at most one instance, created and
 * initialized lazily (slot 0 at init). A slot is "busy" while a call, init
 * or dispose runs on it; the instance pointer of a busy slot is changed only
 * under p->lock so that cancel/kill can interrupt it safely. After a trap
 * (or any limit) the instance is discarded; the next call on that slot makes
 * a fresh one.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The calls running on this thread, innermost first (a host function may
 * call another plugin; calling its own plugin would deadlock). */
static _Thread_local wph_slot *tl_current;
/* The per-call limits of wasmplug_plugin_call_limited, taken by the call's
 * start (so calls the plugin makes in turn do not inherit them). */
static _Thread_local const wasmplug_call_limits *tl_request;

/* ------------------------------------------------------------------------ */
/* References                                                               */
/* ------------------------------------------------------------------------ */

/* What a lazily registered plugin is built from on first use. */
typedef struct wph_lazy {
    uint8_t *wasm;            /* a copy of the bytes, or */
    char *path;               /* the file to read, or */
    wasmplug_module *module;  /* a precompiled module */
    size_t size;
    char **exports;           /* the manifest's exports to check (one block) */
    size_t nexports;
    wasmplug_tiering tiering;
    bool init;
} wph_lazy;

static void lazy_free(wph_lazy *z)
{
    if (!z)
        return;
    free(z->wasm);
    free(z->path);
    wasmplug_module_free(z->module);
    free(z->exports);
    free(z);
}

static void plugin_destroy(wasmplug_plugin *p)
{
    wph_handle_views_free(p);
    lazy_free(p->lazy_src);
    free(p->lazy_err);
    wph_deps_free(p);
    /* A handle's references on its versions (normally dropped already by
     * dispose or kill). */
    if (p->current && p->current != p)
        wasmplug_plugin_release(p->current);
    if (p->previous && p->previous != p)
        wasmplug_plugin_release(p->previous);
    wph_services_plugin_free(p);
    wph_bindgen_free(p);
    for (uint32_t i = 0; p->slots && i < p->pool_size; i++) {
        wph_slot *s = &p->slots[i];
        if (s->inst)
            wasmplug_instance_free(s->inst);
        free(s->out);
        free(s->result);
        wasmplug_wasi_free(s->wasi); /* WASI: the slot's context */
    }
    free(p->slots);
    wph_wasi_free(p);
    free(p->imports);
    for (size_t i = 0; i < p->nowned; i++)
        wasmplug_func_free(p->owned[i]);
    free(p->owned);
    if (p->module)
        wasmplug_module_free(p->module);
    for (size_t i = 0; i < p->nrequested; i++)
        free(p->requested[i]);
    free(p->requested);
    free(p->func_exports);
    wph_kvs_clear(&p->metadata);
    wph_kvs_clear(&p->config);
    free(p->config_json);
    wph_ring_free(&p->errors);
    free(p->fallback);
    free(p->embedded);
    free(p->name);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void wasmplug_plugin_retain(wasmplug_plugin *p)
{
    if (p)
        atomic_fetch_add(&p->refs, 1);
}

void wasmplug_plugin_release(wasmplug_plugin *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        plugin_destroy(p);
}

/* Set the state under p->lock; returns the old one for wph_notify_state. */
static wasmplug_plugin_state set_state(wasmplug_plugin *p, wasmplug_plugin_state st)
{
    wasmplug_plugin_state old = p->state;
    p->state = st;
    pthread_cond_broadcast(&p->cond);
    return old;
}

static void change_state(wasmplug_plugin *p, wasmplug_plugin_state st)
{
    pthread_mutex_lock(&p->lock);
    wasmplug_plugin_state old = set_state(p, st);
    pthread_mutex_unlock(&p->lock);
    wph_notify_state(p, old, st);
}

/* Finish a public entry point: record a failure, copy it out. */
static wasmplug_status finish(wasmplug_plugin *p, wasmplug_status st,
                              const wasmplug_plugin_error *e, wasmplug_plugin_error *err)
{
    if (st == WASMPLUG_OK) {
        wasmplug_plugin_error_clear(err);
        return st;
    }
    if (st != WASMPLUG_ERR_ARGUMENT)
        wph_record(p->host, wph_handle(p), e);
    if (err)
        *err = *e;
    return st;
}

static bool in_own_call(wasmplug_plugin *p)
{
    for (wph_slot *c = tl_current; c; c = c->outer)
        if (c->plugin == p)
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Load                                                                     */
/* ------------------------------------------------------------------------ */

/* Find a lifecycle export; a wrong type fails the load with ERR_ABI. */
static wasmplug_status hook(wasmplug_plugin *p, const char *name, const char *params,
                            const char *results, const char *want, bool *found,
                            wasmplug_plugin_error *e)
{
    wasmplug_functype t;
    bool is_func = false;
    *found = false;
    if (!wph_export_type(p->module, name, &t, &is_func))
        return WASMPLUG_OK;
    if (!is_func || !wph_sig_is(&t, params, results))
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_LOAD, p->name, name,
                        "export %s must be a function %s", name, want);
    *found = true;
    return WASMPLUG_OK;
}

static wasmplug_status check_abi_section(wasmplug_plugin *p, wasmplug_plugin_error *e)
{
    const uint8_t *data;
    size_t size;
    if (wasmplug_module_custom_section(p->module, "wasmplug_abi", &data, &size) != WASMPLUG_OK)
        return WASMPLUG_OK;
    char text[32];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    unsigned major = 0, minor = 0;
    int got = sscanf(text, "%u.%u", &major, &minor);
    if (got < 1)
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_LOAD, p->name, "",
                        "custom section wasmplug_abi holds '%s', not a version like \"1\" or "
                        "\"1.0\"",
                        text);
    if (major != WASMPLUG_ABI_VERSION || minor > WASMPLUG_ABI_MINOR)
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_LOAD, p->name, "",
                        "the plugin needs plugin ABI %u.%u; this host implements %d.%d", major,
                        minor, WASMPLUG_ABI_VERSION, WASMPLUG_ABI_MINOR);
    return WASMPLUG_OK;
}

static wasmplug_status inspect_exports(wasmplug_plugin *p, const char *const *exports,
                                       size_t nexports, wasmplug_plugin_error *e)
{
    uint32_t n = wasmplug_module_export_count(p->module);
    p->func_exports = malloc((n ? n : 1) * sizeof *p->func_exports);
    if (!p->func_exports)
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, "", "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const char *en;
        size_t len;
        wasmplug_externtype et;
        if (wasmplug_module_export(p->module, i, &en, &len, &et) == WASMPLUG_OK &&
            et.kind == WASMPLUG_EXTERN_FUNC)
            p->func_exports[p->nfunc_exports++] = i;
    }
    wasmplug_status st;
    bool alloc_, dealloc_, handle, bg_malloc;
    if ((st = hook(p, "_initialize", "", "", "() -> ()", &p->hook_initialize, e)) ||
        (st = hook(p, "wasmplug_init", "", "i", "() -> i32", &p->hook_init, e)) ||
        (st = hook(p, "wasmplug_dispose", "", "i", "() -> i32", &p->hook_dispose, e)) ||
        (st = hook(p, "plugin_initialize", "", "i", "() -> i32", &p->hook_pinit, e)) ||
        (st = hook(p, "plugin_dispose", "", "i", "() -> i32", &p->hook_pdispose, e)) ||
        (st = hook(p, "plugin_get_manifest", "", "I", "() -> i64", &p->hook_pmanifest, e)) ||
        (st = hook(p, "alloc", "i", "i", "(i32) -> i32", &alloc_, e)) ||
        (st = hook(p, "dealloc", "ii", "", "(i32, i32) -> ()", &dealloc_, e)) ||
        (st = hook(p, "plugin_handle_event", "ii", "I", "(i32, i32) -> i64", &handle, e)) ||
        (st = hook(p, "__wbindgen_malloc", "i", "i", "(i32) -> i32", &bg_malloc, e)))
        return st;
    /* wasm-bindgen's init and cleanup are the plain names, so they are
     * hooks of such modules only. */
    if (p->abi == WASMPLUG_ABI_BINDGEN &&
        ((st = hook(p, "init", "", "", "() -> ()", &p->hook_bg_init, e)) ||
         (st = hook(p, "cleanup", "", "", "() -> ()", &p->hook_bg_cleanup, e))))
        return st;
    if (wph_command_exports(p->module) && (!alloc_ || !dealloc_))
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_LOAD, p->name, "handle_command",
                        "a command plugin (initialize, handle_command, shutdown) needs "
                        "exports alloc (i32) -> i32 and dealloc (i32, i32)");
    for (size_t i = 0; i < nexports; i++) {
        wasmplug_functype t;
        bool is_func = false;
        if (!wph_export_type(p->module, exports[i], &t, &is_func) || !is_func)
            return wph_fail(e, WASMPLUG_ERR_NOT_FOUND, WASMPLUG_PHASE_LOAD, p->name, exports[i],
                            "the manifest lists export '%s' but the module exports no such "
                            "function",
                            exports[i]);
    }
    return WASMPLUG_OK;
}

/* Build the plugin object from the options (nothing registered yet). */
static wasmplug_status plugin_new(wasmplug_host *h, const char *name,
                                  const wasmplug_load_options *o, wasmplug_plugin **out,
                                  wasmplug_plugin_error *e)
{
    const wasmplug_manifest *m = o->manifest;
    wasmplug_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, name, "", "out of memory");
    atomic_init(&p->refs, 1);
    p->host = h;
    p->state = WASMPLUG_STATE_UNLOADED;
    p->name = wph_strdup(name);
    p->current = p;
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p->name);
        free(p);
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, name, "", "out of memory");
    }
    if (pthread_cond_init(&p->cond, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        free(p->name);
        free(p);
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, name, "", "out of memory");
    }
    *out = p;
    p->limits = h->limits;
    wph_limits_override(&p->limits, &o->limits);
    if (m)
        wph_limits_cap(&p->limits, &m->resources);
    p->pool_size = o->pool_size ? o->pool_size : 1;
    p->keep_on_trap = o->keep_instance_on_trap;
    p->imported_memory_pages = o->imported_memory_pages;
    p->user_data = o->user_data;
    p->slots = calloc(p->pool_size, sizeof *p->slots);
    bool ok = p->name && p->slots;
    for (uint32_t i = 0; ok && i < p->pool_size; i++) {
        p->slots[i].plugin = p;
        p->slots[i].index = i;
        atomic_init(&p->slots[i].interrupted, 0);
    }
    if (m) {
        wph_copy_name(p->id, m->id);
        wph_copy_name(p->version, m->version);
        for (size_t i = 0; ok && i < m->metadata_count; i++)
            ok = wph_kvs_set(&p->metadata, m->metadata[i].key, m->metadata[i].value) == WASMPLUG_OK;
        for (size_t i = 0; ok && i < m->config_count; i++)
            ok = wph_kvs_set(&p->config, m->config[i].key, m->config[i].value) == WASMPLUG_OK;
        for (size_t i = 0; ok && i < m->setting_count; i++)
            ok = wph_kvs_set(&p->settings, m->settings[i].key, m->settings[i].value) ==
                 WASMPLUG_OK;
        if (ok && m->permission_count) {
            p->requested = calloc(m->permission_count, sizeof(char *));
            ok = p->requested != NULL;
            for (size_t i = 0; ok && i < m->permission_count; i++) {
                p->requested[i] = wph_strdup(m->permissions[i]);
                ok = p->requested[i] != NULL;
                p->nrequested = i + 1;
            }
        }
    }
    if (ok)
        ok = wph_deps_copy(p, m) == WASMPLUG_OK;
    for (size_t i = 0; ok && i < o->config_count; i++)
        ok = wph_kvs_set(&p->config, o->config[i].key, o->config[i].value) == WASMPLUG_OK;
    if (ok)
        ok = (p->config_json = wph_kvs_json(&p->config, &p->config_json_len)) != NULL;
    if (!ok)
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, name, "", "out of memory");
    return WASMPLUG_OK;
}

static wasmplug_status check_options(const char *name, const wasmplug_load_options *o,
                                     wasmplug_plugin_error *e)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    if (o->pool_size > WPH_MAX_POOL)
        return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, name, "",
                        "pool_size %u is over the maximum of %u", o->pool_size, WPH_MAX_POOL);
    if (o->config_count && !o->config)
        return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, name, "",
                        "config_count without config");
    for (size_t i = 0; i < o->config_count; i++)
        if (!o->config[i].key || !*o->config[i].key || !o->config[i].value)
            return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, name, "",
                            "config entry %zu has no key or value", i);
    wasmplug_status st = wph_manifest_check(o->manifest, msg, sizeof msg);
    if (st != WASMPLUG_OK)
        return wph_fail(e, st, WASMPLUG_PHASE_LOAD, name, "", "%s", msg);
    return WASMPLUG_OK;
}

/* Compile (unless given), check the ABI section, link and inspect the
 * exports of p (WASI prepared already): state LOADING, or ERROR with the
 * error recorded. */
static wasmplug_status build_module(wasmplug_plugin *p, const uint8_t *wasm, size_t size,
                                    wasmplug_module *given, const char *const *exports,
                                    size_t nexports, wasmplug_tiering tiering,
                                    wasmplug_plugin_error *e)
{
    change_state(p, WASMPLUG_STATE_LOADING);
    wasmplug_status st = WASMPLUG_OK;
    wasmplug_error ee;
    wasmplug_error_clear(&ee);
    if (given)
        p->module = given;
    else
        st = wasmplug_module_new(p->host->engine, wasm, size, &p->module, &ee);
    if (st != WASMPLUG_OK) {
        wph_fail(e, st, WASMPLUG_PHASE_LOAD, p->name, "", "%s", ee.message);
        e->offset = ee.offset;
    }
    if (st == WASMPLUG_OK)
        st = check_abi_section(p, e);
    if (st == WASMPLUG_OK)
        p->abi = wasmplug_module_abi(p->module);
    if (st == WASMPLUG_OK)
        st = wph_link_imports(p, e);
    if (st == WASMPLUG_OK)
        st = inspect_exports(p, exports, nexports, e);
    if (st == WASMPLUG_OK)
        wph_tier_load(p, tiering);
    if (st != WASMPLUG_OK) {
        change_state(p, WASMPLUG_STATE_ERROR);
        wph_record(p->host, wph_handle(p), e);
        return st;
    }
    return WASMPLUG_OK; /* the caller moves it to LOADED */
}

/* Keep what a lazy registration needs to build p later (path: read then). */
static wasmplug_status lazy_register(wasmplug_plugin *p, const uint8_t *wasm, size_t size,
                                     const char *path, const wasmplug_load_options *o,
                                     wasmplug_plugin_error *e)
{
    wph_lazy *z = calloc(1, sizeof *z);
    bool ok = z != NULL;
    if (ok) {
        z->init = o->init;
        z->tiering = o->tiering;
        z->module = o->module;
        if (path)
            ok = (z->path = wph_strdup(path)) != NULL;
        else if (!o->module && size)
            ok = (z->wasm = malloc(size)) != NULL;
        if (z->wasm)
            memcpy(z->wasm, wasm, size);
        z->size = size;
    }
    if (ok && o->manifest && o->manifest->export_count) {
        z->exports = wph_strings_block(o->manifest->exports, o->manifest->export_count);
        z->nexports = o->manifest->export_count;
        ok = z->exports != NULL;
    }
    if (!ok) {
        if (z)
            z->module = NULL; /* freed by the caller */
        lazy_free(z);
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, "", "out of memory");
    }
    p->lazy_src = z;
    p->lazy = WPH_LAZY_PENDING;
    return WASMPLUG_OK;
}

static wasmplug_status init_now(wasmplug_plugin *p, wasmplug_plugin_error *err);

/* Build p if it is still lazy; with init, initialize it too (before other
 * users waiting for the build go on). *built: this call did the build. */
static wasmplug_status lazy_build(wasmplug_plugin *p, bool init, bool *built,
                                  wasmplug_plugin_error *e)
{
    *built = false;
    if (p->front)
        return WASMPLUG_OK;
    pthread_mutex_lock(&p->lock);
    while (p->lazy == WPH_LAZY_BUILDING)
        pthread_cond_wait(&p->cond, &p->lock);
    if (p->lazy == WPH_LAZY_FAILED) {
        *e = *p->lazy_err;
        pthread_mutex_unlock(&p->lock);
        return e->code;
    }
    /* Built, not lazy, replaced by a reload, or ending: nothing to build. */
    if (p->lazy != WPH_LAZY_PENDING || p->closing || p->current != p) {
        pthread_mutex_unlock(&p->lock);
        return WASMPLUG_OK;
    }
    p->lazy = WPH_LAZY_BUILDING;
    wph_lazy *z = p->lazy_src;
    p->lazy_src = NULL;
    pthread_mutex_unlock(&p->lock);
    *built = true;

    wasmplug_status st = wph_deps_build(p, e); /* what it depends on loads first */
    if (st != WASMPLUG_OK) {
        change_state(p, WASMPLUG_STATE_ERROR);
        wph_record(p->host, p, e);
    } else if (z->path && !wph_read_file(z->path, &z->wasm, &z->size)) {
        st = wph_fail(e, WASMPLUG_ERR_IO, WASMPLUG_PHASE_LOAD, p->name, "", "cannot read '%.200s'",
                      z->path);
        change_state(p, WASMPLUG_STATE_ERROR);
        wph_record(p->host, p, e);
    }
    if (st == WASMPLUG_OK) {
        wasmplug_module *given = z->module;
        z->module = NULL; /* build_module takes it over */
        st = build_module(p, z->wasm, z->size, given, (const char *const *)z->exports,
                          z->nexports, z->tiering, e);
    }
    init = init || z->init;
    lazy_free(z);
    if (st == WASMPLUG_OK) {
        change_state(p, WASMPLUG_STATE_LOADED);
        wph_lifecycle(p, WPH_HOOK_LOAD);
        /* An init failure leaves the plugin in ERROR, as after an eager load. */
        wasmplug_status ist = init ? init_now(p, e) : WASMPLUG_OK;
        pthread_mutex_lock(&p->lock);
        p->lazy = WPH_LAZY_NONE;
        pthread_cond_broadcast(&p->cond);
        pthread_mutex_unlock(&p->lock);
        return ist;
    }
    wasmplug_plugin_error *keep = malloc(sizeof *keep);
    pthread_mutex_lock(&p->lock);
    if (keep) {
        *keep = *e;
        free(p->lazy_err);
        p->lazy_err = keep;
        p->lazy = WPH_LAZY_FAILED;
    } else {
        p->lazy = WPH_LAZY_NONE; /* no memory to keep the error: uses see state ERROR */
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return st;
}

wasmplug_status wph_lazy_build(wasmplug_plugin *p, wasmplug_plugin_error *e)
{
    bool built;
    return lazy_build(p, false, &built, e);
}

wasmplug_status wasmplug_plugin_build(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    if (!p)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, "", "", "no plugin");
    wasmplug_status st = wph_lazy_build(p, &e);
    if (err)
        *err = e;
    return st;
}

wasmplug_status wasmplug_host_load(wasmplug_host *h, const char *name, const uint8_t *wasm,
                                   size_t size, const wasmplug_load_options *opts,
                                   wasmplug_plugin **out, wasmplug_plugin_error *err)
{
    return wph_load(h, name, wasm, size, opts, NULL, out, err);
}

/* wph_load, or with path a lazy registration that reads the file later. */
static wasmplug_status load(wasmplug_host *h, const char *name, const uint8_t *wasm,
                            size_t size, const char *path, const wasmplug_load_options *opts,
                            wasmplug_plugin *front, wasmplug_plugin **out,
                            wasmplug_plugin_error *err)
{
    static const wasmplug_load_options defaults = WASMPLUG_LOAD_OPTIONS_INIT;
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    if (out)
        *out = NULL;
    /* A precompiled module (opts->module): ours from here on, used or not. */
    wasmplug_module *given = opts ? opts->module : NULL;
    if (!h || !wph_valid_name(name) || (!wasm && size)) {
        wasmplug_module_free(given);
        wph_fail(&e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, name && h ? name : "", "",
                 !h ? "no host" : (!wasm && size) ? "no module bytes"
                                 : "a plugin name must be 1-127 printable bytes without '/'");
        if (err)
            *err = e;
        return e.code;
    }
    const wasmplug_load_options *o = opts ? opts : &defaults;
    bool lazy = o->lazy && !front;
    wasmplug_plugin *p = NULL;
    wasmplug_status st = check_options(name, o, &e);
    if (st == WASMPLUG_OK)
        st = plugin_new(h, name, o, &p, &e);
    if (p)
        p->front = front;
    if (st == WASMPLUG_OK && !front && wph_registry_add(h, p) != WASMPLUG_OK)
        st = wph_fail(&e, WASMPLUG_ERR_DUPLICATE, WASMPLUG_PHASE_LOAD, name, "",
                      "a plugin called '%s' is already loaded", name);
    if (st == WASMPLUG_OK)
        st = wph_deps_resolve(p, &e);
    if (st == WASMPLUG_OK && !lazy) /* lazy dependencies: built before this one */
        st = wph_deps_build(p, &e);
    if (st == WASMPLUG_OK) /* WASI: the granted part of o->wasi, before linking */
        st = wph_wasi_prepare(p, o->wasi, &e);
    if (st == WASMPLUG_OK && lazy)
        st = lazy_register(p, wasm, size, path, o, &e);
    if (st != WASMPLUG_OK && p && !front)
        wph_registry_remove(h, p);
    if (st != WASMPLUG_OK) {
        wasmplug_module_free(given);
        if (st != WASMPLUG_ERR_ARGUMENT)
            wph_record(h, front, &e);
        if (p)
            wasmplug_plugin_release(p);
        if (err)
            *err = e;
        return st;
    }
    if (lazy) {
        wph_registry_publish(h, p);
        if (out)
            *out = p;
        else
            wasmplug_plugin_release(p);
        wasmplug_plugin_error_clear(err);
        return WASMPLUG_OK;
    }

    const wasmplug_manifest *m = o->manifest;
    st = build_module(p, wasm, size, given, m ? m->exports : NULL, m ? m->export_count : 0,
                      o->tiering, &e);
    if (st != WASMPLUG_OK) {
        if (!front)
            wph_registry_remove(h, p);
        wasmplug_plugin_release(p);
        if (err)
            *err = e;
        return st;
    }
    if (!front) /* built: other threads may find it by name from now on */
        wph_registry_publish(h, p);
    change_state(p, WASMPLUG_STATE_LOADED);
    wph_lifecycle(p, WPH_HOOK_LOAD);
    if (o->init) {
        st = wasmplug_plugin_init(p, &e);
        if (st != WASMPLUG_OK) {
            /* A handle stays registered, in state ERROR; a version is gone. */
            wasmplug_plugin_release(p);
            if (err)
                *err = e;
            return st;
        }
    }
    if (out)
        *out = p;
    else
        wasmplug_plugin_release(p);
    if (err)
        wasmplug_plugin_error_clear(err);
    return WASMPLUG_OK;
}

wasmplug_status wph_load(wasmplug_host *h, const char *name, const uint8_t *wasm, size_t size,
                         const wasmplug_load_options *opts, wasmplug_plugin *front,
                         wasmplug_plugin **out, wasmplug_plugin_error *err)
{
    return load(h, name, wasm, size, NULL, opts, front, out, err);
}

bool wph_read_file(const char *path, uint8_t **out, size_t *out_len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    bool ok = f != NULL;
    while (ok) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *d = realloc(data, cap);
            if (!d) {
                ok = false;
                break;
            }
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            ok = !ferror(f);
            break;
        }
    }
    if (f)
        fclose(f);
    if (!ok) {
        free(data);
        return false;
    }
    *out = data;
    *out_len = len;
    return true;
}

wasmplug_status wasmplug_host_load_file(wasmplug_host *h, const char *name, const char *path,
                                        const wasmplug_load_options *opts, wasmplug_plugin **out,
                                        wasmplug_plugin_error *err)
{
    if (out)
        *out = NULL;
    if (!path) {
        wasmplug_module_free(opts ? opts->module : NULL); /* taken over, as by host_load */
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, name ? name : "", "",
                        "no path");
    }
    if (opts && opts->lazy) /* read at the build */
        return load(h, name, NULL, 0, path, opts, NULL, out, err);
    uint8_t *data = NULL;
    size_t len = 0;
    bool ok = wph_read_file(path, &data, &len);
    if (!ok) {
        free(data);
        wasmplug_module_free(opts ? opts->module : NULL);
        wasmplug_plugin_error e;
        wph_fail(&e, WASMPLUG_ERR_IO, WASMPLUG_PHASE_LOAD, name && wph_valid_name(name) ? name : "",
                 "", "cannot read '%.200s'", path);
        if (h)
            wph_record(h, NULL, &e);
        if (err)
            *err = e;
        return WASMPLUG_ERR_IO;
    }
    wasmplug_status st = wasmplug_host_load(h, name, data, len, opts, out, err);
    free(data);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Instances                                                                */
/* ------------------------------------------------------------------------ */

static wasmplug_status run0(wph_slot *s, const char *fname, wasmplug_phase phase,
                            wasmplug_val *result, wasmplug_plugin_error *e)
{
    wasmplug_func *f = wasmplug_instance_func(s->inst, fname);
    wasmplug_error ee;
    wasmplug_error_clear(&ee);
    wasmplug_status st = wasmplug_func_call(f, NULL, 0, result, result ? 1 : 0, &ee);
    return wph_classify(s, st, &ee, phase, fname, e);
}

/* Run a () -> i32 hook; non-zero is ERR_PLUGIN with the error_set message. */
static wasmplug_status run_hook(wph_slot *s, const char *fname, wasmplug_phase phase,
                                wasmplug_plugin_error *e)
{
    wasmplug_val r;
    wasmplug_status st = run0(s, fname, phase, &r, e);
    if (st == WASMPLUG_OK && r.of.i32 != 0) {
        st = wph_fail(e, WASMPLUG_ERR_PLUGIN, phase, s->plugin->name, fname, "%s returned %d%s%s",
                      fname, (int)r.of.i32, s->err_set ? ": " : "", s->err_set ? s->errmsg : "");
        e->plugin_code = r.of.i32;
    }
    return st;
}

static void drop_instance(wph_slot *s)
{
    wasmplug_plugin *p = s->plugin;
    pthread_mutex_lock(&p->lock);
    wasmplug_instance *inst = s->inst;
    s->inst = NULL;
    pthread_mutex_unlock(&p->lock);
    if (inst)
        wasmplug_instance_free(inst);
}

/* Instantiate p's module for a slot; a module importing its memory gets a
 * new one (never shared with another instance). */
static wasmplug_status instantiate(wasmplug_plugin *p, const wasmplug_instance_config *cfg,
                                   wasmplug_instance **inst, wasmplug_error *ee)
{
    if (!p->has_memory_import)
        return wasmplug_instance_new(p->module, p->imports, p->nimports, cfg, inst, ee);
    wasmplug_limits want = p->memory_type, l;
    uint32_t max = p->limits.max_memory_pages;
    if (want.has_max && want.max < max)
        max = want.max;
    uint32_t pages = p->imported_memory_pages ? p->imported_memory_pages
                                              : WASMPLUG_IMPORTED_MEMORY_PAGES;
    l.min = pages < want.min ? want.min : pages > max ? max : pages;
    l.max = max;
    l.has_max = true;
    wasmplug_extern *imports = malloc(p->nimports * sizeof *imports);
    wasmplug_memory *mem = NULL;
    wasmplug_status st = imports ? wasmplug_memory_new(p->host->engine, l, &mem)
                                 : WASMPLUG_ERR_NOMEM;
    if (st == WASMPLUG_OK) {
        memcpy(imports, p->imports, p->nimports * sizeof *imports);
        imports[p->memory_import].of.memory = mem;
        st = wasmplug_instance_new(p->module, imports, p->nimports, cfg, inst, ee);
        wasmplug_memory_free(mem); /* the instance holds its own reference */
    } else {
        wasmplug_error_clear(ee);
        snprintf(ee->message, sizeof ee->message,
                 "cannot create the imported memory (%u pages, at most %u)", l.min, l.max);
    }
    free(imports);
    return st;
}

/* Create and initialize the instance of a busy slot: instantiate (start
 * section), _initialize, wasmplug_init(config) or plugin_initialize, and
 * capture plugin_get_manifest once. On failure the slot has no instance. */
static wasmplug_status instance_setup(wph_slot *s, wasmplug_plugin_error *e)
{
    wasmplug_plugin *p = s->plugin;
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_memory_pages = p->limits.max_memory_pages;
    cfg.max_call_depth = p->limits.max_call_depth;
    cfg.fuel = p->limits.fuel == WASMPLUG_FUEL_UNLIMITED ? 0 : p->limits.fuel;
    cfg.user = s;
    cfg.defer_start = true; /* run below, under the call timeout and cancel */
    s->pending = WASMPLUG_OK;
    s->err_set = false;
    s->in = (const uint8_t *)p->config_json;
    s->in_len = p->config_json_len;
    s->out_len = 0;
    s->outer = tl_current;
    tl_current = s;

    wasmplug_instance *inst = NULL;
    wasmplug_error ee;
    wasmplug_error_clear(&ee);
    wasmplug_status st = wph_wasi_slot_ctx(s, e); /* WASI: a fresh context per instance */
    if (st != WASMPLUG_OK) {
        tl_current = s->outer;
        return st;
    }
    wph_wasi_begin(s);
    st = instantiate(p, &cfg, &inst, &ee);
    if (st != WASMPLUG_OK) {
        wph_wasi_end(s);
        st = wph_classify(s, st, &ee, WASMPLUG_PHASE_INIT, "(start)", e);
        if (st == WASMPLUG_ERR_TRAP && e->trap != WASMPLUG_TRAP_NONE)
            snprintf(e->function, sizeof e->function, "(start)");
        tl_current = s->outer;
        return st;
    }
    wph_tier_instance(p, inst);
    pthread_mutex_lock(&p->lock);
    s->inst = inst;
    bool cancelled = atomic_load(&s->interrupted) != 0;
    pthread_mutex_unlock(&p->lock);
    wasmplug_plugin *h = wph_handle(p); /* metrics continue across reloads */
    pthread_mutex_lock(&h->lock);
    h->metrics.instances_created++;
    pthread_mutex_unlock(&h->lock);
    if (cancelled) /* a cancel or kill came while instantiating */
        wasmplug_instance_interrupt(inst);

    wph_exec_begin(s);
    s->in = (const uint8_t *)p->config_json;
    s->in_len = p->config_json_len;
    st = wasmplug_instance_start(inst, &ee);
    if (st != WASMPLUG_OK) {
        st = wph_classify(s, st, &ee, WASMPLUG_PHASE_INIT, "(start)", e);
        if (st == WASMPLUG_ERR_TRAP && e->trap != WASMPLUG_TRAP_NONE)
            snprintf(e->function, sizeof e->function, "(start)");
    }
    if (st == WASMPLUG_OK && p->hook_initialize)
        st = run0(s, "_initialize", WASMPLUG_PHASE_INIT, NULL, e);
    if (st == WASMPLUG_OK && p->abi == WASMPLUG_ABI_BINDGEN)
        st = wph_bindgen_setup(s, e); /* descriptors once, then init */
    if (st == WASMPLUG_OK && p->abi == WASMPLUG_ABI_COMMAND) /* with the config JSON */
        st = wph_command_call(s, wasmplug_instance_func(inst, "initialize"), "initialize",
                              (const uint8_t *)p->config_json, p->config_json_len,
                              WASMPLUG_PHASE_INIT, e);
    if (st == WASMPLUG_OK && p->hook_init)
        st = run_hook(s, "wasmplug_init", WASMPLUG_PHASE_INIT, e);
    else if (st == WASMPLUG_OK && p->hook_pinit)
        st = run_hook(s, "plugin_initialize", WASMPLUG_PHASE_INIT, e);
    if (st == WASMPLUG_OK && p->hook_pmanifest && !p->has_embedded)
        st = wph_compat_manifest(s, e);
    st = wph_services_end(s, st, e, WASMPLUG_PHASE_INIT, "(init)");
    wph_exec_end(s);
    wph_wasi_end(s);
    if (st == WASMPLUG_OK && atomic_load(&s->interrupted) != 0)
        st = wph_fail(e, (atomic_load(&s->interrupted) & WPH_INT_CANCEL) ? WASMPLUG_ERR_CANCELLED
                                                                        : WASMPLUG_ERR_TIMEOUT,
                      WASMPLUG_PHASE_INIT, p->name, "",
                      "the call was cancelled or timed out while its instance initialized");
    tl_current = s->outer;
    s->in = NULL;
    s->in_len = 0;
    s->out_len = 0;
    if (st != WASMPLUG_OK)
        drop_instance(s);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Init, dispose, kill                                                      */
/* ------------------------------------------------------------------------ */

/* Take every idle slot's instance (under p->lock) to free after unlocking. */
static size_t take_idle_instances(wasmplug_plugin *p, wasmplug_instance **list)
{
    size_t n = 0;
    for (uint32_t i = 0; i < p->pool_size; i++) {
        wph_slot *s = &p->slots[i];
        if (!s->busy && s->inst) {
            list[n++] = s->inst;
            s->inst = NULL;
        }
    }
    return n;
}

static void free_instances(wasmplug_instance **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wasmplug_instance_free(list[i]);
    free(list);
}

wasmplug_status wasmplug_plugin_init(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    if (!p)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_INIT, "", "", "no plugin");
    if (in_own_call(p))
        return finish(p, wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_INIT, p->name, "",
                                  "init called from inside the plugin's own call"),
                      &e, err);
    bool built;
    wasmplug_status lst = lazy_build(p, true, &built, &e); /* a lazy plugin: built, then init */
    if (lst != WASMPLUG_OK || built) {
        if (err)
            *err = e; /* recorded by the build */
        return lst;
    }
    return init_now(p, err);
}

/* wasmplug_plugin_init once p is built. */
static wasmplug_status init_now(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    wasmplug_instance **old = malloc(p->pool_size * sizeof *old);
    if (!old)
        return finish(p, wph_fail(&e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_INIT, p->name, "",
                                  "out of memory"),
                      &e, err);
    pthread_mutex_lock(&p->lock);
    if (p->closing || (p->state != WASMPLUG_STATE_LOADED && p->state != WASMPLUG_STATE_ERROR)) {
        wasmplug_plugin_state cur = p->state;
        pthread_mutex_unlock(&p->lock);
        free(old);
        return finish(p, wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_INIT, p->name, "",
                                  "plugin '%s' is %s%s; init needs loaded or error", p->name,
                                  wasmplug_state_string(cur), p->closing ? " (closing)" : ""),
                      &e, err);
    }
    wasmplug_plugin_state prev = set_state(p, WASMPLUG_STATE_INITIALIZING);
    while (p->running > 0) /* calls still finishing after an error */
        pthread_cond_wait(&p->cond, &p->lock);
    size_t nold = take_idle_instances(p, old);
    wph_slot *s = &p->slots[0];
    s->busy = true;
    p->running++;
    atomic_store(&s->interrupted, 0);
    pthread_mutex_unlock(&p->lock);
    free_instances(old, nold);
    wph_notify_state(p, prev, WASMPLUG_STATE_INITIALIZING);

    atomic_fetch_add(&p->host->active_calls, 1);
    wasmplug_status st = instance_setup(s, &e);
    atomic_fetch_sub(&p->host->active_calls, 1);

    pthread_mutex_lock(&p->lock);
    wasmplug_instance *discard = NULL;
    s->busy = false;
    p->running--;
    wasmplug_plugin_state from = p->state, to = from;
    if (p->killed) {
        discard = s->inst;
        s->inst = NULL;
        if (st == WASMPLUG_OK)
            st = wph_fail(&e, WASMPLUG_ERR_CANCELLED, WASMPLUG_PHASE_INIT, p->name, "",
                          "the plugin was killed during init");
    } else {
        to = st == WASMPLUG_OK ? WASMPLUG_STATE_READY : WASMPLUG_STATE_ERROR;
        set_state(p, to);
    }
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    if (discard)
        wasmplug_instance_free(discard);
    wph_notify_state(p, from, to);
    if (to == WASMPLUG_STATE_READY && from != to)
        wph_lifecycle(p, WPH_HOOK_READY);
    return finish(p, st, &e, err);
}

static wasmplug_status dispose(wasmplug_plugin *p, bool force, wasmplug_plugin_error *err);

wasmplug_status wasmplug_plugin_dispose(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    return dispose(p, false, err);
}

wasmplug_status wasmplug_plugin_dispose_forced(wasmplug_plugin *p, wasmplug_plugin_error *err)
{
    return dispose(p, true, err);
}

static wasmplug_status dispose(wasmplug_plugin *p, bool force, wasmplug_plugin_error *err)
{
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    if (!p)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_DISPOSE, "", "", "no plugin");
    if (in_own_call(p))
        return finish(p, wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_DISPOSE, p->name,
                                  "", "dispose called from inside the plugin's own call"),
                      &e, err);
    if (!force && !p->front && wph_dependents(p, WASMPLUG_PHASE_DISPOSE, &e) != WASMPLUG_OK)
        return finish(p, e.code, &e, err);
    pthread_mutex_lock(&p->lock);
    while (p->lazy == WPH_LAZY_BUILDING)
        pthread_cond_wait(&p->cond, &p->lock);
    /* A lazy plugin never used is disposed without being built. */
    wph_lazy *unbuilt = NULL;
    if (p->lazy == WPH_LAZY_PENDING && !p->closing) {
        unbuilt = p->lazy_src;
        p->lazy_src = NULL;
        p->lazy = WPH_LAZY_NONE;
    }
    bool live = !p->closing && (p->state == WASMPLUG_STATE_READY ||
                                p->state == WASMPLUG_STATE_LOADED ||
                                p->state == WASMPLUG_STATE_ERROR || unbuilt);
    pthread_mutex_unlock(&p->lock);
    lazy_free(unbuilt);
    if (live) /* the embedder's before_dispose, while the plugin still answers */
        wph_lifecycle(p, WPH_HOOK_DISPOSE);
    pthread_mutex_lock(&p->lock);
    if (p->closing || p->state == WASMPLUG_STATE_DISPOSED ||
        p->state == WASMPLUG_STATE_INITIALIZING || p->state == WASMPLUG_STATE_LOADING ||
        (p->state == WASMPLUG_STATE_UNLOADED && !unbuilt)) {
        wasmplug_plugin_state cur = p->state;
        pthread_mutex_unlock(&p->lock);
        return finish(p, wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_DISPOSE, p->name,
                                  "", "plugin '%s' is %s%s; it cannot be disposed", p->name,
                                  wasmplug_state_string(cur), p->closing ? " (closing)" : ""),
                      &e, err);
    }
    p->closing = true;
    pthread_mutex_unlock(&p->lock);
    wph_versions_drop(p, false);
    wasmplug_status st = wph_dispose_instances(p, &e);

    pthread_mutex_lock(&p->lock);
    wasmplug_plugin_state from = p->state, to = WASMPLUG_STATE_DISPOSED;
    set_state(p, to);
    pthread_mutex_unlock(&p->lock);
    wph_notify_state(p, from, to);
    return finish(p, st, &e, err);
}

/*
 * Mark slot s busy for a call or the dispose hook (p->lock held). It never
 * inherits an interrupt: one sent to whatever last ran on the instance (a
 * cancel that reached a call, init or dispose just after its last check)
 * would stop this run and pass for a timeout. Nothing can interrupt it
 * before the lock is released.
 */
static void claim_slot(wph_slot *s)
{
    s->busy = true;
    atomic_store(&s->interrupted, 0);
    if (s->inst)
        wasmplug_instance_clear_interrupt(s->inst);
}

wasmplug_status wph_dispose_instances(wasmplug_plugin *p, wasmplug_plugin_error *e)
{
    pthread_mutex_lock(&p->lock);
    while (p->running > 0)
        pthread_cond_wait(&p->cond, &p->lock);
    for (uint32_t i = 0; i < p->pool_size; i++)
        claim_slot(&p->slots[i]);
    pthread_mutex_unlock(&p->lock);

    wasmplug_status st = WASMPLUG_OK;
    const char *hookname = p->hook_dispose      ? "wasmplug_dispose"
                           : p->hook_pdispose   ? "plugin_dispose"
                           : p->hook_bg_cleanup ? "cleanup"
                           : p->abi == WASMPLUG_ABI_COMMAND ? "shutdown"
                                                : NULL;
    atomic_fetch_add(&p->host->active_calls, 1);
    for (uint32_t i = 0; i < p->pool_size; i++) {
        wph_slot *s = &p->slots[i];
        if (!s->inst)
            continue;
        if (hookname) {
            wasmplug_plugin_error he;
            s->outer = tl_current;
            tl_current = s;
            s->in = NULL;
            s->in_len = 0;
            s->out_len = 0;
            wph_exec_begin(s);
            wasmplug_status hs = p->hook_bg_cleanup && !p->hook_dispose && !p->hook_pdispose
                                     ? run0(s, hookname, WASMPLUG_PHASE_DISPOSE, NULL, &he)
                                     : run_hook(s, hookname, WASMPLUG_PHASE_DISPOSE, &he);
            hs = wph_services_end(s, hs, &he, WASMPLUG_PHASE_DISPOSE, hookname);
            wph_exec_end(s);
            tl_current = s->outer;
            if (hs != WASMPLUG_OK && st == WASMPLUG_OK) {
                st = hs;
                *e = he;
            }
        }
        drop_instance(s);
    }
    atomic_fetch_sub(&p->host->active_calls, 1);

    pthread_mutex_lock(&p->lock);
    for (uint32_t i = 0; i < p->pool_size; i++)
        p->slots[i].busy = false;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    return st;
}

/* Signal every busy slot (call with p->lock held). */
static size_t interrupt_busy(wasmplug_plugin *p)
{
    size_t n = 0;
    for (uint32_t i = 0; i < p->pool_size; i++) {
        wph_slot *s = &p->slots[i];
        if (!s->busy)
            continue;
        atomic_fetch_or(&s->interrupted, WPH_INT_CANCEL);
        if (s->inst)
            wasmplug_instance_interrupt(s->inst);
        n++;
    }
    return n;
}

size_t wasmplug_plugin_cancel(wasmplug_plugin *p)
{
    if (!p)
        return 0;
    pthread_mutex_lock(&p->lock);
    size_t n = interrupt_busy(p);
    pthread_mutex_unlock(&p->lock);
    return n;
}

void wph_plugin_kill(wasmplug_plugin *p)
{
    wasmplug_instance **list = malloc(p->pool_size * sizeof *list);
    pthread_mutex_lock(&p->lock);
    if (p->killed) {
        pthread_mutex_unlock(&p->lock);
        free(list);
        return;
    }
    p->killed = true;
    p->closing = true;
    interrupt_busy(p);
    size_t n = list ? take_idle_instances(p, list) : 0;
    wasmplug_plugin_state from = set_state(p, WASMPLUG_STATE_DISPOSED);
    pthread_mutex_unlock(&p->lock);
    wph_lifecycle(p, WPH_HOOK_DISPOSE);
    if (list)
        free_instances(list, n);
    wph_notify_state(p, from, WASMPLUG_STATE_DISPOSED);
    wph_versions_drop(p, true);
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/* Acquire a slot with a ready instance, or fail (error in e). */
static wasmplug_status call_begin(wasmplug_plugin *p, const char *func, wph_slot **out,
                                  wasmplug_plugin_error *e)
{
    if (in_own_call(p))
        return wph_fail(e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_CALL, p->name, func,
                        "re-entrant call into plugin '%s' from its own host function", p->name);
    pthread_mutex_lock(&p->lock);
    wph_slot *s = NULL;
    for (;;) {
        if (p->state != WASMPLUG_STATE_READY || p->closing) {
            wasmplug_plugin_state cur = p->state;
            bool closing = p->closing;
            pthread_mutex_unlock(&p->lock);
            return wph_fail(e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_CALL, p->name, func,
                            "plugin '%s' is %s%s, not ready", p->name,
                            wasmplug_state_string(cur),
                            closing && cur != WASMPLUG_STATE_DISPOSED ? " (being disposed)" : "");
        }
        for (uint32_t i = 0; i < p->pool_size; i++) {
            wph_slot *c = &p->slots[i];
            if (!c->busy && (c->inst || !s))
                s = c;
            if (s && s->inst)
                break;
        }
        if (s)
            break;
        pthread_cond_wait(&p->cond, &p->lock);
    }
    p->running++;
    claim_slot(s);
    pthread_mutex_unlock(&p->lock);
    atomic_fetch_add(&p->host->active_calls, 1);
    *out = s;
    if (s->inst)
        return WASMPLUG_OK;

    wasmplug_status st = instance_setup(s, e);
    if (st != WASMPLUG_OK && st != WASMPLUG_ERR_CANCELLED && st != WASMPLUG_ERR_TIMEOUT) {
        /* A fresh instance that cannot initialize: the plugin is broken. (A
         * cancel or timeout only ends this call.) */
        pthread_mutex_lock(&p->lock);
        wasmplug_plugin_state from = p->state;
        bool changed = from == WASMPLUG_STATE_READY && !p->killed;
        if (changed)
            set_state(p, WASMPLUG_STATE_ERROR);
        pthread_mutex_unlock(&p->lock);
        if (changed)
            wph_notify_state(p, from, WASMPLUG_STATE_ERROR);
    }
    return st;
}

/* Metrics belong to the handle (they continue across reloads). */
static void add_metrics(wasmplug_plugin *p, const wph_call_stats *cs)
{
    wasmplug_plugin *h = wph_handle(p);
    pthread_mutex_lock(&h->lock);
    wph_metrics_add(h, cs);
    pthread_mutex_unlock(&h->lock);
}

static void call_end(wasmplug_plugin *p, wph_slot *s, bool discard, const wph_call_stats *cs)
{
    pthread_mutex_lock(&p->lock);
    wasmplug_instance *drop = NULL;
    /* An interrupt we sent may still be pending in the instance. */
    if (discard || p->killed || p->state == WASMPLUG_STATE_DISPOSED ||
        atomic_load(&s->interrupted) != 0) {
        drop = s->inst;
        s->inst = NULL;
    }
    s->busy = false;
    p->running--;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->lock);
    add_metrics(p, cs);
    if (drop)
        wasmplug_instance_free(drop);
    atomic_fetch_sub(&p->host->active_calls, 1);
}

/* Failures after which the instance may hold half-updated state. */
static bool leaves_bad_state(wasmplug_status st, const wasmplug_plugin_error *e)
{
    if (st == WASMPLUG_OK || st == WASMPLUG_ERR_PLUGIN || st == WASMPLUG_ERR_NOT_FOUND ||
        st == WASMPLUG_ERR_ABI || st == WASMPLUG_ERR_ARGUMENT)
        return false;
    return e->trap != WASMPLUG_TRAP_NONE || st == WASMPLUG_ERR_SERIALIZATION ||
           st == WASMPLUG_ERR_OUTPUT_TOO_LARGE || st == WASMPLUG_ERR_TRAP;
}

static void gather(wph_slot *s, wph_call_stats *cs)
{
    cs->host_calls = s->host_calls;
    cs->denials = s->denials;
    if (s->inst) {
        if (s->fuel != WASMPLUG_FUEL_UNLIMITED)
            cs->fuel = wasmplug_instance_fuel_consumed(s->inst);
        wasmplug_memory *m = wasmplug_instance_memory(s->inst);
        if (m) {
            cs->pages = wasmplug_memory_pages(m);
            cs->has_pages = true;
        }
    }
}

static wasmplug_status start_call(wph_slot *s, const char *func, wasmplug_func **f,
                                  wasmplug_plugin_error *e)
{
    *f = wasmplug_instance_func(s->inst, func);
    if (!*f)
        return wph_fail(e, WASMPLUG_ERR_NOT_FOUND, WASMPLUG_PHASE_CALL, s->plugin->name, func,
                        "plugin '%s' exports no function '%s'", s->plugin->name, func);
    s->func = func;
    s->request = tl_request;
    tl_request = NULL;
    s->host_calls = 0;
    s->denials = 0;
    s->out_len = 0;
    s->outer = tl_current;
    tl_current = s;
    wph_wasi_begin(s);
    wph_exec_begin(s);
    wph_async_started(s);
    return WASMPLUG_OK;
}

static void stop_call(wph_slot *s)
{
    wph_async_stopped(s);
    wph_exec_end(s);
    wph_wasi_end(s);
    s->request = NULL;
    tl_current = s->outer;
}

wasmplug_status wph_version_call(wasmplug_plugin *p, const char *func, const uint8_t *in,
                                 size_t in_len, wasmplug_buf *out, wasmplug_plugin_error *err)
{
    if (out) {
        out->data = NULL;
        out->len = 0;
    }
    wasmplug_plugin_error e;
    e.code = WASMPLUG_OK; /* filled completely by wph_fail on failure */
    e.trap = WASMPLUG_TRAP_NONE;
    if (!p || !func || !out || (!in && in_len))
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p ? p->name : "",
                        func ? func : "", "invalid argument (plugin, func, out and in are needed)");
    uint64_t t0 = wph_now_ns();
    wph_call_stats cs;
    memset(&cs, 0, sizeof cs);
    cs.bytes_in = in_len;
    wph_slot *s = NULL;
    wasmplug_status st;
    if (in_len > p->limits.max_input_bytes) {
        st = wph_fail(&e, WASMPLUG_ERR_INPUT_TOO_LARGE, WASMPLUG_PHASE_CALL, p->name, func,
                      "input of %zu bytes exceeds max_input_bytes (%u)", in_len,
                      p->limits.max_input_bytes);
    } else {
        st = call_begin(p, func, &s, &e);
    }
    if (st == WASMPLUG_OK) {
        wasmplug_func *f;
        st = start_call(s, func, &f, &e);
        if (st == WASMPLUG_OK) {
            s->in = in;
            s->in_len = in_len;
            wasmplug_functype t = wasmplug_func_type(f);
            if (wph_sig_is(&t, "", "i")) {
                wasmplug_val r;
                wasmplug_error ee;
                wasmplug_error_clear(&ee);
                st = wasmplug_func_call(f, NULL, 0, &r, 1, &ee);
                st = wph_classify(s, st, &ee, WASMPLUG_PHASE_CALL, func, &e);
                if (st == WASMPLUG_OK && r.of.i32 != 0) {
                    st = wph_fail(&e, WASMPLUG_ERR_PLUGIN, WASMPLUG_PHASE_CALL, p->name, func,
                                  "%s returned %d%s%s", func, (int)r.of.i32,
                                  s->err_set ? ": " : "", s->err_set ? s->errmsg : "");
                    e.plugin_code = r.of.i32;
                }
            } else if (wph_sig_is(&t, "ii", "I")) {
                st = wph_compat_call(s, f, func, &e);
            } else if (p->abi == WASMPLUG_ABI_COMMAND && wph_sig_is(&t, "ii", "i")) {
                st = wph_command_call(s, f, func, in, in_len, WASMPLUG_PHASE_CALL, &e);
            } else {
                st = wph_fail(&e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_CALL, p->name, func,
                              "bytes calls need () -> i32 (ABI v1), (i32, i32) -> i64 "
                              "(compatibility ABI) or (i32, i32) -> i32 (command ABI); '%s' "
                              "has another type: use a typed call",
                              func);
            }
            /* Services commit (or roll back) what the call did. */
            st = wph_services_end(s, st, &e, WASMPLUG_PHASE_CALL, func);
            stop_call(s);
            s->in = NULL;
            s->in_len = 0;
            if (st == WASMPLUG_OK && s->out_len) {
                /* Hand the buffer over: no copy on the hot path. */
                out->data = s->out;
                out->len = s->out_len;
                s->out = NULL;
                s->out_cap = 0;
                s->out_len = 0;
                cs.bytes_out = out->len;
            }
        }
        gather(s, &cs);
    }
    cs.failed = st != WASMPLUG_OK;
    cs.trapped = e.trap != WASMPLUG_TRAP_NONE;
    cs.ns = wph_now_ns() - t0;
    if (s)
        call_end(p, s, leaves_bad_state(st, &e) && !p->keep_on_trap, &cs);
    else
        add_metrics(p, &cs);
    return finish(p, st, &e, err);
}

/* A call on one version whose work is done by run (typed calls, bindgen.c). */
static wasmplug_status version_run(wasmplug_plugin *p, const char *func, wph_run_fn run,
                                   void *ctx, wasmplug_plugin_error *err)
{
    wasmplug_plugin_error e;
    e.code = WASMPLUG_OK;
    e.trap = WASMPLUG_TRAP_NONE;
    if (!p || !func)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p ? p->name : "",
                        func ? func : "", "invalid argument");
    uint64_t t0 = wph_now_ns();
    wph_call_stats cs;
    memset(&cs, 0, sizeof cs);
    wph_slot *s = NULL;
    wasmplug_status st = call_begin(p, func, &s, &e);
    if (st == WASMPLUG_OK) {
        wasmplug_func *f;
        st = start_call(s, func, &f, &e);
        if (st == WASMPLUG_OK) {
            st = run(s, f, ctx, &e);
            st = wph_services_end(s, st, &e, WASMPLUG_PHASE_CALL, func);
            stop_call(s);
        }
        gather(s, &cs);
    }
    cs.failed = st != WASMPLUG_OK;
    cs.trapped = e.trap != WASMPLUG_TRAP_NONE;
    cs.ns = wph_now_ns() - t0;
    if (s)
        call_end(p, s, leaves_bad_state(st, &e) && !p->keep_on_trap, &cs);
    else
        add_metrics(p, &cs);
    return finish(p, st, &e, err);
}

wasmplug_status wph_plugin_run(wasmplug_plugin *p, const char *func, wph_run_fn run, void *ctx,
                               wasmplug_plugin_error *err)
{
    if (!p)
        return version_run(p, func, run, ctx, err);
    wasmplug_plugin_error e;
    wasmplug_status st = wph_lazy_build(p, &e); /* a lazy plugin: built by its first use */
    if (st != WASMPLUG_OK) {
        if (err)
            *err = e;
        return st;
    }
    wasmplug_plugin *v = wph_version_pin(p);
    st = version_run(v, func, run, ctx, err);
    wph_version_unpin(p, v, true, st != WASMPLUG_OK);
    return st;
}

typedef struct typed_call {
    const wasmplug_val *args;
    size_t arg_count;
    wasmplug_val *results;
    size_t result_count;
} typed_call;

static wasmplug_status run_typed(wph_slot *s, wasmplug_func *f, void *ctx,
                                 wasmplug_plugin_error *e)
{
    typed_call *c = ctx;
    return wph_run_func(s, f, s->func, c->args, c->arg_count, c->results, c->result_count, e);
}

/* The public calls run on the version current when they start. */
wasmplug_status wasmplug_plugin_call(wasmplug_plugin *p, const char *func, const uint8_t *in,
                                     size_t in_len, wasmplug_buf *out, wasmplug_plugin_error *err)
{
    if (!p)
        return wph_version_call(p, func, in, in_len, out, err);
    wasmplug_plugin_error e;
    wasmplug_status st = wph_lazy_build(p, &e);
    if (st == WASMPLUG_OK) {
        wasmplug_plugin *v = wph_version_pin(p);
        st = wph_version_call(v, func, in, in_len, out, &e);
        wph_version_unpin(p, v, true, st != WASMPLUG_OK);
    } else if (out) {
        out->data = NULL;
        out->len = 0;
    }
    if (out) /* the error boundary answers a failed call */
        st = wph_fallback(p, st, func, in, in_len, out, &e);
    if (err)
        *err = e;
    return st;
}

wasmplug_status wasmplug_plugin_call_limited(wasmplug_plugin *p, const char *func,
                                             const uint8_t *in, size_t in_len,
                                             const wasmplug_call_limits *limits,
                                             wasmplug_buf *out, wasmplug_plugin_error *err)
{
    tl_request = limits;
    wasmplug_status st = wasmplug_plugin_call(p, func, in, in_len, out, err);
    tl_request = NULL;
    return st;
}

wasmplug_status wasmplug_plugin_call_typed(wasmplug_plugin *p, const char *func,
                                           const wasmplug_val *args, size_t arg_count,
                                           wasmplug_val *results, size_t result_count,
                                           wasmplug_plugin_error *err)
{
    if ((!args && arg_count) || (!results && result_count))
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p ? p->name : "",
                        func ? func : "", "invalid argument");
    typed_call c = {args, arg_count, results, result_count};
    return wph_plugin_run(p, func, run_typed, &c, err);
}
