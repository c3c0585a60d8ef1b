/*
 * lifecycle.c - the embedder's lifecycle hooks (on_load, on_ready,
 * before_dispose) and the error boundary: a per-plugin fallback output or
 * handler answering failed bytes calls, counted in the plugin's metrics.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

wasmplug_status wasmplug_host_set_lifecycle(wasmplug_host *h, const wasmplug_lifecycle *hooks)
{
    if (!h)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&h->lock);
    if (hooks)
        h->lifecycle = *hooks;
    else
        memset(&h->lifecycle, 0, sizeof h->lifecycle);
    pthread_mutex_unlock(&h->lock);
    return WASMPLUG_OK;
}

void wph_lifecycle(wasmplug_plugin *p, int which)
{
    if (p->front)
        return; /* a version: the embedder knows the handle only */
    wasmplug_host *h = p->host;
    pthread_mutex_lock(&h->lock);
    wasmplug_lifecycle l = h->lifecycle;
    pthread_mutex_unlock(&h->lock);
    if (which == WPH_HOOK_DISPOSE) {
        pthread_mutex_lock(&p->lock);
        bool again = p->disposing_notified;
        p->disposing_notified = true;
        pthread_mutex_unlock(&p->lock);
        if (again)
            return;
    }
    wasmplug_plugin_hook fn = which == WPH_HOOK_LOAD    ? l.on_load
                              : which == WPH_HOOK_READY ? l.on_ready
                                                        : l.before_dispose;
    if (fn)
        fn(l.user, p);
}

wasmplug_status wasmplug_plugin_set_fallback(wasmplug_plugin *p, const uint8_t *output,
                                             size_t len, wasmplug_fallback_fn fn, void *user)
{
    if (!p || p->front || (!output && len))
        return WASMPLUG_ERR_ARGUMENT;
    uint8_t *copy = NULL;
    if (len) {
        copy = malloc(len);
        if (!copy)
            return WASMPLUG_ERR_NOMEM;
        memcpy(copy, output, len);
    }
    pthread_mutex_lock(&p->lock);
    free(p->fallback);
    p->fallback = copy;
    p->fallback_len = len;
    p->fallback_fn = fn;
    p->fallback_user = user;
    p->has_fallback = output || fn;
    pthread_mutex_unlock(&p->lock);
    return WASMPLUG_OK;
}

wasmplug_status wph_fallback(wasmplug_plugin *p, wasmplug_status st, const char *func,
                             const uint8_t *in, size_t in_len, wasmplug_buf *out,
                             wasmplug_plugin_error *err)
{
    if (st == WASMPLUG_OK || st == WASMPLUG_ERR_ARGUMENT)
        return st;
    pthread_mutex_lock(&p->lock);
    bool has = p->has_fallback;
    wasmplug_fallback_fn fn = p->fallback_fn;
    void *user = p->fallback_user;
    wasmplug_buf fixed = {NULL, 0};
    bool nomem = false;
    if (has && !fn && p->fallback_len) {
        fixed.data = malloc(p->fallback_len);
        nomem = !fixed.data;
        if (fixed.data) {
            memcpy(fixed.data, p->fallback, p->fallback_len);
            fixed.len = p->fallback_len;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!has || nomem)
        return st;
    wasmplug_buf answer = {NULL, 0};
    if (fn) {
        if (fn(user, p, func, in, in_len, err, &answer) != WASMPLUG_OK) {
            wasmplug_buf_free(&answer);
            return st;
        }
    } else {
        answer = fixed;
    }
    pthread_mutex_lock(&p->lock);
    p->metrics.fallbacks++;
    pthread_mutex_unlock(&p->lock);
    *out = answer;
    wasmplug_plugin_error_clear(err);
    return WASMPLUG_OK;
}
