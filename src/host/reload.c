/*
 * reload.c - hot reload: new versions of a plugin behind its handle.
 *
 * A handle (the plugin object the host registers) is also its first
 * version. A reload loads and initializes a new version (a plugin object
 * with front = the handle, never registered) and switches handle->current
 * to it under the handle's lock. Every call pins the version current when
 * it starts (pins++, a reference) and unpins it when it ends; a replaced
 * version is marked retired, and whoever drops its last pin (the reload
 * itself if no call runs on it) disposes it. So a call never meets a
 * version being disposed, and no call waits for a reload.
 *
 * The health gate keeps the replaced version as handle->previous until the
 * new one has ended health_calls calls, then either retires previous or
 * switches back to it (a rollback) and retires the new one.
 *
 * The handle itself as a replaced version keeps its object (registry,
 * metrics, errors, service state) but loses its instances: its dispose hook
 * runs and they are freed (wph_dispose_instances).
 *
 * Locking: the handle's lock guards current/previous/reloading/
 * reload_info and the pins, retired, reaped and gate fields of every
 * version; it is never held while plugin code runs or while a version's own
 * lock is taken.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Up to three versions can need disposing after one operation. */
typedef struct reap_list {
    wasmplug_plugin *items[3];
    size_t count;
} reap_list;

/* Under the handle's lock: queue v for disposal if it is retired and idle. */
static void reap_if_idle(wasmplug_plugin *v, reap_list *r)
{
    if (v->retired && v->pins == 0 && !v->reaped && r->count < 3) {
        v->reaped = true;
        r->items[r->count++] = v;
    }
}

/* Under the handle's lock: v no longer serves calls. */
static void retire(wasmplug_plugin *v, reap_list *r)
{
    v->retired = true;
    reap_if_idle(v, r);
}

/* Without locks: dispose the queued versions; the handle's reference on
 * each (a version's) is dropped. */
static void reap(wasmplug_plugin *h, reap_list *r)
{
    for (size_t i = 0; i < r->count; i++) {
        wasmplug_plugin *v = r->items[i];
        wasmplug_plugin_error e;
        if (v == h) {
            if (wph_dispose_instances(h, &e) != WASMPLUG_OK)
                wph_record(h->host, h, &e);
        } else {
            wasmplug_plugin_dispose(v, NULL); /* errors are recorded on the handle */
            wasmplug_plugin_release(v);
        }
    }
    r->count = 0;
}

/* One id/version pair a handle served (wasmplug_plugin_id/_version). */
struct wph_ident {
    struct wph_ident *next;
    char id[WASMPLUG_NAME_MAX];
    char version[WASMPLUG_NAME_MAX];
};

void wph_set_current(wasmplug_plugin *h, wasmplug_plugin *v)
{
    h->current = v;
    struct wph_ident *found = NULL;
    if (v != h) {
        for (found = h->idents; found; found = found->next)
            if (!strcmp(found->id, v->id) && !strcmp(found->version, v->version))
                break;
        if (!found && (found = malloc(sizeof *found)) != NULL) {
            memcpy(found->id, v->id, sizeof found->id);
            memcpy(found->version, v->version, sizeof found->version);
            found->next = h->idents;
            h->idents = found;
        }
        if (!found) /* out of memory: keep describing the previous pair */
            return;
    }
    atomic_store(&h->ident, found);
}

void wph_keep_version(wasmplug_plugin *h, wasmplug_plugin *v)
{
    if (v == h)
        return;
    for (size_t i = 0; i < h->nkept; i++)
        if (h->kept[i] == v)
            return;
    if (h->nkept == h->capkept) {
        size_t cap = h->capkept ? h->capkept * 2 : 4;
        wasmplug_plugin **k = realloc(h->kept, cap * sizeof *k);
        if (!k)
            return; /* the names stay valid until the version is replaced */
        h->kept = k;
        h->capkept = cap;
    }
    wasmplug_plugin_retain(v);
    h->kept[h->nkept++] = v;
}

/* A string a handle handed out from one of its later versions. */
struct wph_kept_string {
    struct wph_kept_string *next;
    char text[];
};

const char *wph_keep_string(wasmplug_plugin *h, const char *s)
{
    for (struct wph_kept_string *k = h->kept_strings; k; k = k->next)
        if (!strcmp(k->text, s))
            return k->text;
    size_t n = strlen(s) + 1;
    struct wph_kept_string *k = malloc(sizeof *k + n);
    if (!k)
        return NULL;
    memcpy(k->text, s, n);
    k->next = h->kept_strings;
    h->kept_strings = k;
    return k->text;
}

void wph_handle_views_free(wasmplug_plugin *h)
{
    while (h->kept_strings) {
        struct wph_kept_string *n = h->kept_strings->next;
        free(h->kept_strings);
        h->kept_strings = n;
    }
    while (h->idents) {
        struct wph_ident *n = h->idents->next;
        free(h->idents);
        h->idents = n;
    }
    for (size_t i = 0; i < h->nkept; i++)
        wasmplug_plugin_release(h->kept[i]);
    free(h->kept);
    h->kept = NULL;
    h->nkept = h->capkept = 0;
}

const char *wasmplug_plugin_id(wasmplug_plugin *p)
{
    if (!p)
        return "";
    struct wph_ident *i = p->front ? NULL : atomic_load(&p->ident);
    return i ? i->id : p->id;
}

const char *wasmplug_plugin_version(wasmplug_plugin *p)
{
    if (!p)
        return "";
    struct wph_ident *i = p->front ? NULL : atomic_load(&p->ident);
    return i ? i->version : p->version;
}

wasmplug_plugin *wph_version_pin(wasmplug_plugin *p)
{
    if (p->front)
        return p; /* already a version */
    pthread_mutex_lock(&p->lock);
    wasmplug_plugin *v = p->current;
    v->pins++;
    if (v != p)
        wasmplug_plugin_retain(v);
    pthread_mutex_unlock(&p->lock);
    return v;
}

/* Under the handle's lock: count a call that ended on the gated version;
 * when the gate is complete, keep it or roll back. Returns true (and the
 * reason in why) on a rollback. */
static bool gate_count(wasmplug_plugin *h, wasmplug_plugin *v, bool failed, reap_list *r,
                       char *why, size_t whysize)
{
    if (v != h->current || v->gate_left == 0)
        return false;
    v->gate_left--;
    v->gate_calls++;
    if (failed)
        v->gate_failed++;
    if (v->gate_left > 0)
        return false;
    h->reload_info.gate_pending = false;
    wasmplug_plugin *prev = h->previous;
    h->previous = NULL;
    /* More than max percent failed: failed * 100 > max * calls. */
    if ((uint64_t)v->gate_failed * 100u <= (uint64_t)v->gate_max_percent * v->gate_calls) {
        if (prev)
            retire(prev, r);
        return false;
    }
    snprintf(why, whysize,
             "rolled back: %u of the first %u calls after the reload failed (more than %u%%)",
             v->gate_failed, v->gate_calls, v->gate_max_percent);
    wph_set_current(h, prev);
    h->reload_info.rollbacks++;
    h->reload_info.generation++;
    memcpy(h->reload_info.last_failure, why, sizeof h->reload_info.last_failure);
    retire(v, r);
    return true;
}

void wph_version_unpin(wasmplug_plugin *p, wasmplug_plugin *v, bool call, bool failed)
{
    if (p->front)
        return;
    reap_list r = {{NULL}, 0};
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    pthread_mutex_lock(&p->lock);
    v->pins--;
    bool rolled_back = call && gate_count(p, v, failed, &r, why, sizeof why);
    reap_if_idle(v, &r);
    pthread_mutex_unlock(&p->lock);
    if (rolled_back) {
        wasmplug_plugin_error e;
        wph_fail(&e, WASMPLUG_ERR_PLUGIN, WASMPLUG_PHASE_LOAD, p->name, "", "%s", why);
        wph_record(p->host, p, &e);
    }
    reap(p, &r);
    if (v != p)
        wasmplug_plugin_release(v);
}

void wph_versions_drop(wasmplug_plugin *p, bool kill)
{
    if (p->front)
        return;
    wasmplug_plugin *drop[2];
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    wasmplug_plugin *versions[2] = {p->current, p->previous};
    for (size_t i = 0; i < 2; i++) {
        wasmplug_plugin *v = versions[i];
        if (!v || v == p)
            continue;
        v->retired = true;
        v->reaped = true; /* disposed here, not by its last call */
        drop[n++] = v;
    }
    wph_set_current(p, p);
    p->previous = NULL;
    p->reload_info.gate_pending = false;
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; i < n; i++) {
        if (kill)
            wph_plugin_kill(drop[i]);
        else
            wasmplug_plugin_dispose(drop[i], NULL);
        wasmplug_plugin_release(drop[i]);
    }
}

/* Hand the old version's state to the new one (opts' two exports). */
static wasmplug_status hand_over(wasmplug_plugin *old, wasmplug_plugin *nv,
                                 const wasmplug_reload_options *ro, wasmplug_plugin_error *e)
{
    if (!ro->state_save && !ro->state_restore)
        return WASMPLUG_OK;
    if (!ro->state_save || !ro->state_restore)
        return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, nv->name, "",
                        "state handover needs both state_save and state_restore");
    wasmplug_buf state;
    wasmplug_status st = wph_version_call(old, ro->state_save, NULL, 0, &state, e);
    if (st != WASMPLUG_OK)
        return st;
    wasmplug_buf ignored;
    st = wph_version_call(nv, ro->state_restore, state.data, state.len, &ignored, e);
    wasmplug_buf_free(&state);
    wasmplug_buf_free(&ignored);
    return st;
}

/* Record a failed reload (the old version keeps serving). */
static wasmplug_status reload_failed(wasmplug_plugin *p, wasmplug_status st,
                                     const wasmplug_plugin_error *e, wasmplug_plugin_error *err)
{
    pthread_mutex_lock(&p->lock);
    p->reload_info.failed++;
    snprintf(p->reload_info.last_failure, sizeof p->reload_info.last_failure, "%s", e->message);
    pthread_mutex_unlock(&p->lock);
    if (err)
        *err = *e;
    return st;
}

wasmplug_status wasmplug_plugin_reload(wasmplug_plugin *p, const uint8_t *wasm, size_t size,
                                       const wasmplug_reload_options *opts,
                                       wasmplug_plugin_error *err)
{
    static const wasmplug_reload_options none = {NULL, 0, 0, NULL, NULL};
    const wasmplug_reload_options *ro = opts ? opts : &none;
    wasmplug_plugin_error e;
    wasmplug_plugin_error_clear(&e);
    if (!p || p->front || (!wasm && size) || ro->health_max_failure_percent > 100)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, p ? p->name : "", "",
                        !p || p->front ? "no plugin handle"
                        : (!wasm && size) ? "no module bytes"
                                          : "health_max_failure_percent is over 100");
    pthread_mutex_lock(&p->lock);
    if (p->reloading || p->closing || p->killed || p->state == WASMPLUG_STATE_DISPOSED) {
        bool busy = p->reloading;
        pthread_mutex_unlock(&p->lock);
        wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_LOAD, p->name, "",
                 busy ? "plugin '%s' is already being reloaded"
                      : "plugin '%s' is disposed or being disposed; it cannot be reloaded",
                 p->name);
        wph_record(p->host, p, &e);
        return reload_failed(p, e.code, &e, err);
    }
    p->reloading = true;
    pthread_mutex_unlock(&p->lock);

    wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
    if (ro->load)
        lo = *ro->load;
    else
        lo.pool_size = p->pool_size;
    lo.init = true;
    wasmplug_plugin *nv = NULL;
    wasmplug_status st = wph_load(p->host, p->name, wasm, size, &lo, p, &nv, &e);
    if (st == WASMPLUG_OK) { /* what depends on the plugin must accept the new version */
        st = wph_deps_accept(p, nv, &e);
        if (st != WASMPLUG_OK) {
            wph_record(p->host, p, &e);
            wasmplug_plugin_dispose(nv, NULL);
            wasmplug_plugin_release(nv);
        }
    }
    if (st == WASMPLUG_OK && (ro->state_save || ro->state_restore)) {
        wasmplug_plugin *old = wph_version_pin(p);
        st = hand_over(old, nv, ro, &e);
        wph_version_unpin(p, old, false, false);
        if (st != WASMPLUG_OK) {
            wph_record(p->host, p, &e);
            wasmplug_plugin_dispose(nv, NULL);
            wasmplug_plugin_release(nv);
        }
    }

    reap_list r = {{NULL}, 0};
    pthread_mutex_lock(&p->lock);
    p->reloading = false;
    bool gone = p->closing || p->killed || p->state == WASMPLUG_STATE_DISPOSED;
    if (st == WASMPLUG_OK && !gone) {
        wasmplug_plugin *old = p->current;
        if (p->previous) /* a gate still running: its version counts as accepted */
            retire(p->previous, &r);
        p->previous = NULL;
        if (ro->health_calls) {
            p->previous = old;
            nv->gate_left = ro->health_calls;
            nv->gate_max_percent = ro->health_max_failure_percent;
        } else {
            retire(old, &r);
        }
        wph_set_current(p, nv); /* the handle's reference from wph_load */
        p->reload_info.generation++;
        p->reload_info.reloads++;
        p->reload_info.gate_pending = ro->health_calls > 0;
    }
    pthread_mutex_unlock(&p->lock);
    reap(p, &r);
    if (st == WASMPLUG_OK && gone) {
        wasmplug_plugin_dispose(nv, NULL);
        wasmplug_plugin_release(nv);
        st = wph_fail(&e, WASMPLUG_ERR_PLUGIN_STATE, WASMPLUG_PHASE_LOAD, p->name, "",
                      "plugin '%s' was disposed during the reload", p->name);
        wph_record(p->host, p, &e);
    }
    if (st != WASMPLUG_OK)
        return reload_failed(p, st, &e, err);
    wph_lifecycle(p, WPH_HOOK_READY);
    wasmplug_plugin_error_clear(err);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_plugin_reload_file(wasmplug_plugin *p, const char *path,
                                            const wasmplug_reload_options *opts,
                                            wasmplug_plugin_error *err)
{
    if (!p || !path) {
        if (opts && opts->load)
            wasmplug_module_free(opts->load->module); /* taken over, as by reload */
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_LOAD, p ? p->name : "", "",
                        !p ? "no plugin" : "no path");
    }
    uint8_t *data = NULL;
    size_t len = 0;
    if (!wph_read_file(path, &data, &len)) {
        if (opts && opts->load)
            wasmplug_module_free(opts->load->module);
        wasmplug_plugin_error e;
        wph_fail(&e, WASMPLUG_ERR_IO, WASMPLUG_PHASE_LOAD, p->name, "", "cannot read '%.200s'",
                 path);
        wph_record(p->host, p, &e);
        return reload_failed(p, WASMPLUG_ERR_IO, &e, err);
    }
    wasmplug_status st = wasmplug_plugin_reload(p, data, len, opts, err);
    free(data);
    return st;
}

wasmplug_status wasmplug_plugin_reload_get_info(wasmplug_plugin *p, wasmplug_reload_info *out)
{
    if (!p || !out || p->front)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&p->lock);
    *out = p->reload_info;
    wasmplug_plugin *v = p->current;
    memcpy(out->id, v->id, sizeof out->id); /* immutable after load */
    memcpy(out->version, v->version, sizeof out->version);
    pthread_mutex_unlock(&p->lock);
    return WASMPLUG_OK;
}
