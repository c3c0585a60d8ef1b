/*
 * services.c - the core host's side of service libraries (wasmplug.h,
 * "Service libraries"): the table of services added to a host, their
 * per-call begin/end hooks around every run of plugin code, per-plugin
 * service state and manifest settings. The imports themselves are host
 * functions of module "wasmplug" (hostfn.c); their grants are checked at
 * link time (permissions.c).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wasmplug_status wasmplug_host_add_service(wasmplug_host *h, const wasmplug_service_def *def,
                                          unsigned *id)
{
    if (!h || !def || !def->name || !*def->name || !id)
        return WASMPLUG_ERR_ARGUMENT;
    char *name = wph_strdup(def->name);
    if (!name)
        return WASMPLUG_ERR_NOMEM;
    wasmplug_status st = WASMPLUG_OK;
    pthread_mutex_lock(&h->lock);
    /* Calls read the table without the lock: it is fixed before any load. */
    if (h->loaded_any)
        st = WASMPLUG_ERR_PLUGIN_STATE;
    else if (h->nservices == WASMPLUG_SERVICES_MAX)
        st = WASMPLUG_ERR_LIMIT;
    for (unsigned i = 0; st == WASMPLUG_OK && i < h->nservices; i++)
        if (strcmp(h->services[i].name, name) == 0)
            st = WASMPLUG_ERR_DUPLICATE;
    if (st == WASMPLUG_OK) {
        wph_service *s = &h->services[h->nservices];
        s->name = name;
        s->def = *def;
        s->def.name = name;
        *id = h->nservices++;
    }
    pthread_mutex_unlock(&h->lock);
    if (st != WASMPLUG_OK)
        free(name);
    return st;
}

wasmplug_status wasmplug_host_service_id(wasmplug_host *h, const char *name, unsigned *id)
{
    if (!h || !name || !id)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    pthread_mutex_lock(&h->lock);
    for (unsigned i = 0; i < h->nservices; i++)
        if (strcmp(h->services[i].name, name) == 0) {
            *id = i;
            st = WASMPLUG_OK;
            break;
        }
    pthread_mutex_unlock(&h->lock);
    return st;
}

void *wasmplug_host_service_user(wasmplug_host *h, unsigned id)
{
    if (!h)
        return NULL;
    pthread_mutex_lock(&h->lock);
    void *user = id < h->nservices ? h->services[id].def.user : NULL;
    pthread_mutex_unlock(&h->lock);
    return user;
}

wasmplug_status wasmplug_host_register_service_fn(wasmplug_host *h, unsigned service,
                                                  const char *name, const char *signature,
                                                  const char *grant, wasmplug_typed_fn fn,
                                                  void *user)
{
    if (!h)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&h->lock);
    bool known = service < h->nservices;
    pthread_mutex_unlock(&h->lock);
    if (!known)
        return WASMPLUG_ERR_ARGUMENT;
    return wph_register_service_fn(h, service, name, signature, grant, fn, user);
}

const char *wasmplug_host_service_fn_grant(wasmplug_host *h, const char *name)
{
    if (!h || !name)
        return NULL;
    pthread_mutex_lock(&h->lock);
    wph_hostfn *f = wph_hostfn_find(h, "wasmplug", 8, name, strlen(name));
    const char *grant = f && f->service ? f->grant : NULL;
    pthread_mutex_unlock(&h->lock);
    return grant;
}

/* ------------------------------------------------------------------------ */
/* Around every run of plugin code                                          */
/* ------------------------------------------------------------------------ */

void wph_services_begin(wph_slot *s)
{
    wasmplug_host *h = s->plugin->host;
    s->svc_begun = h->nservices > 0;
    for (unsigned i = 0; i < h->nservices; i++) {
        s->svc_call[i] = NULL;
        if (h->services[i].def.call_begin)
            h->services[i].def.call_begin(h->services[i].def.user, s->plugin, &s->svc_call[i]);
    }
}

wasmplug_status wph_services_end(wph_slot *s, wasmplug_status st, wasmplug_plugin_error *e,
                                 wasmplug_phase phase, const char *function)
{
    if (!s->svc_begun)
        return st;
    s->svc_begun = false;
    wasmplug_host *h = s->plugin->host;
    for (unsigned i = 0; i < h->nservices; i++) {
        const wasmplug_service_def *d = &h->services[i].def;
        void *state = s->svc_call[i];
        s->svc_call[i] = NULL;
        if (!d->call_end)
            continue;
        char msg[WASMPLUG_ERROR_MESSAGE_MAX] = "";
        wasmplug_status r = d->call_end(d->user, s->plugin, state, st, msg, sizeof msg);
        if (r != WASMPLUG_OK && st == WASMPLUG_OK)
            st = wph_fail(e, r, phase, s->plugin->name, function, "service %s: %s",
                          h->services[i].name, msg[0] ? msg : wasmplug_strerror(r));
    }
    return st;
}

void wph_services_plugin_free(wasmplug_plugin *p)
{
    wasmplug_host *h = p->host;
    for (unsigned i = 0; i < h->nservices; i++) {
        const wasmplug_service_def *d = &h->services[i].def;
        if (p->svc_state[i] && d->plugin_free)
            d->plugin_free(d->user, p, p->svc_state[i]);
        p->svc_state[i] = NULL;
    }
    wph_kvs_clear(&p->settings);
}

void wph_services_free(wasmplug_host *h)
{
    /* Last added, first finalized: a service may rely on earlier ones. */
    for (unsigned i = h->nservices; i-- > 0;) {
        if (h->services[i].def.finalizer)
            h->services[i].def.finalizer(h->services[i].def.user);
        free(h->services[i].name);
    }
    h->nservices = 0;
}

/* ------------------------------------------------------------------------ */
/* Per-plugin state                                                         */
/* ------------------------------------------------------------------------ */

void *wasmplug_plugin_service_state(wasmplug_plugin *p, unsigned service)
{
    if (!p || service >= WASMPLUG_SERVICES_MAX)
        return NULL;
    p = wph_handle(p); /* service state follows the plugin across reloads */
    pthread_mutex_lock(&p->lock);
    void *state = p->svc_state[service];
    pthread_mutex_unlock(&p->lock);
    return state;
}

void *wasmplug_plugin_service_state_set(wasmplug_plugin *p, unsigned service, void *state)
{
    if (!p || service >= WASMPLUG_SERVICES_MAX)
        return NULL;
    p = wph_handle(p); /* service state follows the plugin across reloads */
    pthread_mutex_lock(&p->lock);
    if (!p->svc_state[service])
        p->svc_state[service] = state;
    void *now = p->svc_state[service];
    pthread_mutex_unlock(&p->lock);
    return now;
}

const char *wasmplug_plugin_setting(wasmplug_plugin *p, const char *key)
{
    if (!p || !key)
        return NULL;
    wasmplug_plugin *v = wph_version_pin(p); /* the current version's manifest */
    const char *value = wph_kvs_get(&v->settings, key, strlen(key));
    if (value && v != p) {
        /* The text lives in v, which a later reload frees: hand out the
         * handle's copy (or, out of memory, keep v as long as the handle). */
        pthread_mutex_lock(&p->lock);
        const char *kept = wph_keep_string(p, value);
        if (kept)
            value = kept;
        else
            wph_keep_version(p, v);
        pthread_mutex_unlock(&p->lock);
    }
    wph_version_unpin(p, v, false, false);
    return value;
}

