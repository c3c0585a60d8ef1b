/*
 * host.c - the host object: creation and teardown, the registry of plugins
 * by unique name (a hash table plus a load-order list, under host->lock),
 * get / list / count / kill / kill-all, the host-wide error history and the
 * dispatch of state and error callbacks (always outside the locks).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void wasmplug_buf_free(wasmplug_buf *buf)
{
    if (!buf)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

void wasmplug_free(void *ptr)
{
    free(ptr);
}

wasmplug_status wasmplug_host_new(const wasmplug_host_config *cfg, wasmplug_host **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wasmplug_host *h = calloc(1, sizeof *h);
    if (!h)
        return WASMPLUG_ERR_NOMEM;
    wph_limits_defaults(&h->limits);
    h->history_cap = WPH_DEFAULT_HISTORY;
    if (cfg) {
        wph_limits_override(&h->limits, &cfg->limits);
        if (cfg->deny_mode != WASMPLUG_DENY_FAIL_LOAD && cfg->deny_mode != WASMPLUG_DENY_STUB) {
            free(h);
            return WASMPLUG_ERR_ARGUMENT;
        }
        h->deny_mode = cfg->deny_mode;
        if (cfg->error_history)
            h->history_cap = cfg->error_history;
        h->on_state = cfg->on_state;
        h->on_error = cfg->on_error;
        h->on_log = cfg->on_log;
        h->cb_user = cfg->callback_user;
        h->engine = cfg->engine;
    }
    wasmplug_status st = WASMPLUG_OK;
    if (!h->engine) {
        wasmplug_engine_config ecfg;
        memset(&ecfg, 0, sizeof ecfg);
        ecfg.bounds = cfg ? cfg->bounds : WASMPLUG_BOUNDS_AUTO;
        st = wasmplug_engine_new(&ecfg, &h->engine);
        if (st != WASMPLUG_OK) {
            free(h);
            return st;
        }
        h->own_engine = true;
    }
    h->nbuckets = 64;
    h->buckets = calloc(h->nbuckets, sizeof *h->buckets);
    if (!h->buckets || pthread_mutex_init(&h->lock, NULL) != 0) {
        st = WASMPLUG_ERR_NOMEM;
        goto fail_engine;
    }
    st = wph_timer_init(&h->timer);
    if (st != WASMPLUG_OK)
        goto fail_lock;
    st = wph_abi_create(h);
    if (st != WASMPLUG_OK) {
        wph_abi_free(h);
        wph_timer_destroy(&h->timer);
        goto fail_lock;
    }
    *out = h;
    return WASMPLUG_OK;

fail_lock:
    pthread_mutex_destroy(&h->lock);
fail_engine:
    free(h->buckets);
    if (h->own_engine)
        wasmplug_engine_free(h->engine);
    free(h);
    return st;
}

void wasmplug_host_free(wasmplug_host *h)
{
    if (!h)
        return;
    wph_watches_free(h); /* no reload starts from now on */
    wph_async_shutdown(h);
    wasmplug_host_kill_all(h);
    /* Killed calls stop at their next check; wait for them to leave. */
    while (atomic_load(&h->active_calls) > 0) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    wph_timer_destroy(&h->timer);
    wph_hostfns_free(h);
    wph_services_free(h);
    wph_abi_free(h);
    for (size_t i = 0; i < h->nrules; i++) {
        free(h->rules[i].plugin_pat);
        free(h->rules[i].perm_pat);
    }
    free(h->rules);
    wph_ring_free(&h->errors);
    free(h->buckets);
    pthread_mutex_destroy(&h->lock);
    if (h->own_engine)
        wasmplug_engine_free(h->engine);
    free(h);
}

wasmplug_engine *wasmplug_host_engine(wasmplug_host *h)
{
    return h ? h->engine : NULL;
}

/* ------------------------------------------------------------------------ */
/* Registry                                                                 */
/* ------------------------------------------------------------------------ */

static size_t name_hash(const char *s)
{
    uint64_t x = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++) {
        x ^= (unsigned char)*s;
        x *= 1099511628211u;
    }
    return (size_t)x;
}

/* Call with host->lock held. Finds reserved names too (a plugin being
 * built): use registry_find_visible for lookups. */
static wasmplug_plugin *registry_find(wasmplug_host *h, const char *name)
{
    for (wasmplug_plugin *p = h->buckets[name_hash(name) & (h->nbuckets - 1)]; p; p = p->hnext)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static wasmplug_plugin *registry_find_visible(wasmplug_host *h, const char *name)
{
    wasmplug_plugin *p = registry_find(h, name);
    return p && p->visible ? p : NULL;
}

static void registry_grow(wasmplug_host *h)
{
    size_t n = h->nbuckets * 2;
    wasmplug_plugin **b = calloc(n, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (wasmplug_plugin *p = h->first; p; p = p->next) {
        size_t i = name_hash(p->name) & (n - 1);
        p->hnext = b[i];
        b[i] = p;
    }
    free(h->buckets);
    h->buckets = b;
    h->nbuckets = n;
}

/* Insert p (the registry takes one reference) unless its name is taken. */
wasmplug_status wph_registry_add(wasmplug_host *h, wasmplug_plugin *p)
{
    pthread_mutex_lock(&h->lock);
    h->loaded_any = true; /* the service table is fixed from now on */
    if (registry_find(h, p->name)) {
        pthread_mutex_unlock(&h->lock);
        return WASMPLUG_ERR_DUPLICATE;
    }
    if (h->entries + 1 > h->nbuckets)
        registry_grow(h);
    size_t i = name_hash(p->name) & (h->nbuckets - 1);
    p->hnext = h->buckets[i];
    h->buckets[i] = p;
    p->prev = h->last;
    p->next = NULL;
    if (h->last)
        h->last->next = p;
    else
        h->first = p;
    h->last = p;
    h->entries++;
    p->registered = true;
    atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&h->lock);
    return WASMPLUG_OK;
}

/* Unlink p; the caller drops the registry's reference afterwards. Call with
 * host->lock held. */
static void registry_unlink(wasmplug_host *h, wasmplug_plugin *p)
{
    wasmplug_plugin **pp = &h->buckets[name_hash(p->name) & (h->nbuckets - 1)];
    while (*pp && *pp != p)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = p->hnext;
    if (p->prev)
        p->prev->next = p->next;
    else
        h->first = p->next;
    if (p->next)
        p->next->prev = p->prev;
    else
        h->last = p->prev;
    p->prev = p->next = p->hnext = NULL;
    if (p->visible)
        h->count--;
    h->entries--;
    p->registered = false;
    p->visible = false;
}

void wph_registry_publish(wasmplug_host *h, wasmplug_plugin *p)
{
    pthread_mutex_lock(&h->lock);
    if (p->registered && !p->visible) {
        p->visible = true;
        h->count++;
    }
    pthread_mutex_unlock(&h->lock);
}

void wph_registry_remove(wasmplug_host *h, wasmplug_plugin *p)
{
    pthread_mutex_lock(&h->lock);
    bool was = p->registered;
    if (was)
        registry_unlink(h, p);
    pthread_mutex_unlock(&h->lock);
    if (was)
        wasmplug_plugin_release(p);
}

wasmplug_status wasmplug_host_get(wasmplug_host *h, const char *name, wasmplug_plugin **out)
{
    if (!h || !name || !out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    pthread_mutex_lock(&h->lock);
    wasmplug_plugin *p = registry_find_visible(h, name);
    if (p)
        atomic_fetch_add(&p->refs, 1);
    pthread_mutex_unlock(&h->lock);
    if (!p)
        return WASMPLUG_ERR_NOT_FOUND;
    *out = p;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_host_list(wasmplug_host *h, char ***names, size_t *count)
{
    if (!h || !names || !count)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&h->lock);
    size_t n = h->count;
    const char **tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp) {
        pthread_mutex_unlock(&h->lock);
        return WASMPLUG_ERR_NOMEM;
    }
    size_t i = 0;
    for (wasmplug_plugin *p = h->first; p; p = p->next)
        if (p->visible)
            tmp[i++] = p->name;
    char **block = wph_strings_block(tmp, n);
    pthread_mutex_unlock(&h->lock);
    free(tmp);
    if (!block)
        return WASMPLUG_ERR_NOMEM;
    *names = block;
    *count = n;
    return WASMPLUG_OK;
}

size_t wasmplug_host_count(wasmplug_host *h)
{
    if (!h)
        return 0;
    pthread_mutex_lock(&h->lock);
    size_t n = h->count;
    pthread_mutex_unlock(&h->lock);
    return n;
}

static wasmplug_status host_kill(wasmplug_host *h, const char *name, bool force)
{
    if (!h || !name)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_plugin_error e;
    wasmplug_status st = WASMPLUG_OK;
    pthread_mutex_lock(&h->lock);
    wasmplug_plugin *p = registry_find_visible(h, name);
    if (p && !force) /* checked and unlinked under one lock: no new dependent between */
        st = wph_dependents_locked(p, WASMPLUG_PHASE_NONE, &e);
    if (p && st == WASMPLUG_OK)
        registry_unlink(h, p);
    pthread_mutex_unlock(&h->lock);
    if (st != WASMPLUG_OK) {
        wph_record(h, p, &e);
        return st;
    }
    if (!p)
        return WASMPLUG_ERR_NOT_FOUND;
    wph_plugin_kill(p);
    wasmplug_plugin_release(p); /* the registry's reference */
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_host_kill(wasmplug_host *h, const char *name)
{
    return host_kill(h, name, false);
}

wasmplug_status wasmplug_host_kill_forced(wasmplug_host *h, const char *name)
{
    return host_kill(h, name, true);
}

void wasmplug_host_kill_all(wasmplug_host *h)
{
    if (!h)
        return;
    for (;;) {
        pthread_mutex_lock(&h->lock);
        wasmplug_plugin *p = h->first;
        if (p)
            registry_unlink(h, p);
        pthread_mutex_unlock(&h->lock);
        if (!p)
            break;
        wph_plugin_kill(p);
        wasmplug_plugin_release(p);
    }
}

wasmplug_status wasmplug_host_call(wasmplug_host *h, const char *name, const char *func,
                                   const uint8_t *in, size_t in_len, wasmplug_buf *out,
                                   wasmplug_plugin_error *err)
{
    if (out) {
        out->data = NULL;
        out->len = 0;
    }
    wasmplug_plugin *p = NULL;
    wasmplug_status st = wasmplug_host_get(h, name, &p);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_CALL, name ? name : "", func ? func : "",
                        st == WASMPLUG_ERR_NOT_FOUND ? "no plugin called '%s' is loaded"
                                                     : "invalid argument%s",
                        st == WASMPLUG_ERR_NOT_FOUND ? name : "");
    st = wasmplug_plugin_call(p, func, in, in_len, out, err);
    wasmplug_plugin_release(p);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Errors and callbacks                                                     */
/* ------------------------------------------------------------------------ */

void wph_record(wasmplug_host *h, wasmplug_plugin *p, const wasmplug_plugin_error *e)
{
    if (p)
        p = wph_handle(p); /* a version's errors are its handle's */
    if (p) {
        pthread_mutex_lock(&p->lock);
        wph_ring_push(&p->errors, h->history_cap, e);
        /* Call-time denials are counted with the call's metrics. */
        if (e->code == WASMPLUG_ERR_PERMISSION_DENIED && e->phase == WASMPLUG_PHASE_LOAD)
            p->metrics.denials++;
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_lock(&h->lock);
    wph_ring_push(&h->errors, WPH_HOST_HISTORY, e);
    pthread_mutex_unlock(&h->lock);
    if (h->on_error)
        h->on_error(h->cb_user, e);
}

size_t wasmplug_host_errors(wasmplug_host *h, wasmplug_plugin_error *out, size_t max)
{
    if (!h || !out)
        return 0;
    pthread_mutex_lock(&h->lock);
    size_t n = wph_ring_copy(&h->errors, out, max);
    pthread_mutex_unlock(&h->lock);
    return n;
}

void wph_notify_state(wasmplug_plugin *p, wasmplug_plugin_state old_state,
                      wasmplug_plugin_state new_state)
{
    wasmplug_host *h = p->host;
    /* Versions are internal (reload.c): the embedder knows the handle. */
    if (h->on_state && old_state != new_state && !p->front)
        h->on_state(h->cb_user, p, p->name, old_state, new_state);
}
