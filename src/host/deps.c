/*
 * deps.c - plugin dependencies (a manifest's {id: version range}).
 *
 * Each version of a plugin keeps its manifest's dependencies; when it is
 * loaded (or registered lazily, or reloaded) each is resolved to a handle
 * of the host (manifest id, a version in the range, live), which it
 * references from then on. Resolution, the cycle check and the search for
 * dependents run under host->lock (taking plugin locks inside it, the
 * documented order), so a plugin cannot be killed between the check that
 * nobody depends on it and its removal, nor resolved to while it goes.
 * Lazy dependencies are built outside every lock, before the dependent.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The plugins on the way from a dependency back to the plugin loading. */
#define DEP_DEPTH_MAX 64
typedef struct dep_path {
    wasmplug_plugin *nodes[DEP_DEPTH_MAX + 2];
    size_t count;
} dep_path;

/* "a -> b -> c" into text. */
static void path_text(const dep_path *path, char *text, size_t size)
{
    size_t len = 0;
    text[0] = '\0';
    for (size_t i = 0; i < path->count && len < size; i++) {
        int n = snprintf(text + len, size - len, "%s%s", i ? " -> " : "", path->nodes[i]->name);
        len += n > 0 ? (size_t)n : 0;
    }
}

wasmplug_status wph_deps_copy(wasmplug_plugin *p, const wasmplug_manifest *m)
{
    if (!m || !m->dependency_count)
        return WASMPLUG_OK;
    p->deps = calloc(m->dependency_count, sizeof *p->deps);
    if (!p->deps)
        return WASMPLUG_ERR_NOMEM;
    p->ndeps = m->dependency_count;
    for (size_t i = 0; i < p->ndeps; i++) {
        const char *range = m->dependencies[i].value;
        p->deps[i].id = wph_strdup(m->dependencies[i].key);
        p->deps[i].range = wph_strdup(range && *range ? range : "*");
        if (!p->deps[i].id || !p->deps[i].range)
            return WASMPLUG_ERR_NOMEM;
    }
    return WASMPLUG_OK;
}

void wph_deps_free(wasmplug_plugin *p)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        free(p->deps[i].id);
        free(p->deps[i].range);
        if (p->deps[i].target)
            wasmplug_plugin_release(p->deps[i].target);
    }
    free(p->deps);
    p->deps = NULL;
    p->ndeps = 0;
}

/* Under host->lock: the resolved targets of handle x's current version (a
 * malloc'd copy; NULL with *n == 0 if none). */
static wasmplug_plugin **current_targets(wasmplug_plugin *x, size_t *n)
{
    pthread_mutex_lock(&x->lock);
    wasmplug_plugin *v = x->current;
    wasmplug_plugin **t = v->ndeps ? malloc(v->ndeps * sizeof *t) : NULL;
    *n = 0;
    for (size_t i = 0; t && i < v->ndeps; i++)
        if (v->deps[i].target)
            t[(*n)++] = v->deps[i].target;
    pthread_mutex_unlock(&x->lock);
    return t;
}

/* Under host->lock: whether handle goal is reachable from handle x through
 * dependencies; if so, path holds the way from x to goal. */
static bool reaches(wasmplug_plugin *x, wasmplug_plugin *goal, dep_path *path)
{
    if (path->count > DEP_DEPTH_MAX) /* deeper than any real chain */
        return false;
    path->nodes[path->count++] = x;
    if (x == goal)
        return true;
    size_t n;
    wasmplug_plugin **t = current_targets(x, &n);
    bool found = false;
    for (size_t i = 0; i < n && !found; i++)
        found = reaches(t[i], goal, path);
    free(t);
    if (!found)
        path->count--;
    return found;
}

/* Under host->lock: a live handle whose current version has manifest id
 * id and a version in range (*seen gets the version of one outside it). */
static wasmplug_plugin *find_provider(wasmplug_host *h, wasmplug_plugin *self, const char *id,
                                      const char *range, char *seen, char *seen_name)
{
    bool any = strcmp(range, "*") == 0;
    for (wasmplug_plugin *q = h->first; q; q = q->next) {
        if (q == self || !q->visible)
            continue;
        pthread_mutex_lock(&q->lock);
        bool live = !q->closing && !q->killed && q->state != WASMPLUG_STATE_DISPOSED;
        wasmplug_plugin *v = q->current;
        bool match = live && strcmp(v->id, id) == 0;
        bool fits = match && (any || wasmplug_semver_satisfies(v->version, range));
        if (match && !fits) {
            wph_copy_name(seen, v->version[0] ? v->version : "(no version)");
            wph_copy_name(seen_name, q->name);
        }
        pthread_mutex_unlock(&q->lock);
        if (fits)
            return q;
    }
    return NULL;
}

wasmplug_status wph_deps_resolve(wasmplug_plugin *p, wasmplug_plugin_error *e)
{
    if (!p->ndeps)
        return WASMPLUG_OK;
    wasmplug_host *h = p->host;
    wasmplug_plugin *self = wph_handle(p);
    wasmplug_status st = WASMPLUG_OK;
    pthread_mutex_lock(&h->lock);
    for (size_t i = 0; i < p->ndeps && st == WASMPLUG_OK; i++) {
        wph_dep *d = &p->deps[i];
        if (p->id[0] && strcmp(d->id, p->id) == 0) {
            st = wph_fail(e, WASMPLUG_ERR_DEPENDENCY_CYCLE, WASMPLUG_PHASE_LOAD, p->name, "",
                          "plugin '%s' (%s) depends on itself", p->name, p->id);
            break;
        }
        char seen[WASMPLUG_NAME_MAX] = "", seen_name[WASMPLUG_NAME_MAX] = "";
        wasmplug_plugin *q = find_provider(h, self, d->id, d->range, seen, seen_name);
        if (!q && seen[0]) {
            st = wph_fail(e, WASMPLUG_ERR_DEPENDENCY_VERSION, WASMPLUG_PHASE_LOAD, p->name, "",
                          "plugin '%s' depends on '%s' %s, but '%s' is version %s (plugin '%s')",
                          p->name, d->id, d->range, d->id, seen, seen_name);
            break;
        }
        if (!q) {
            st = wph_fail(e, WASMPLUG_ERR_DEPENDENCY_MISSING, WASMPLUG_PHASE_LOAD, p->name, "",
                          "plugin '%s' depends on '%s' %s, which is not loaded: load it first",
                          p->name, d->id, d->range);
            break;
        }
        dep_path path = {{NULL}, 0};
        if (reaches(q, self, &path)) {
            char text[WASMPLUG_ERROR_MESSAGE_MAX / 2];
            path_text(&path, text, sizeof text);
            st = wph_fail(e, WASMPLUG_ERR_DEPENDENCY_CYCLE, WASMPLUG_PHASE_LOAD, p->name, "",
                          "plugin '%s' would depend on itself: %s -> %s", p->name, self->name,
                          text);
            break;
        }
        wasmplug_plugin_retain(q);
        d->target = q;
    }
    pthread_mutex_unlock(&h->lock);
    return st;
}

wasmplug_status wph_deps_build(wasmplug_plugin *p, wasmplug_plugin_error *e)
{
    for (size_t i = 0; i < p->ndeps; i++) {
        wasmplug_plugin *t = p->deps[i].target;
        wasmplug_plugin_error de;
        if (t && wph_lazy_build(t, &de) != WASMPLUG_OK)
            return wph_fail(e, WASMPLUG_ERR_DEPENDENCY_MISSING, WASMPLUG_PHASE_LOAD, p->name, "",
                            "plugin '%s' depends on '%s', whose plugin '%s' failed to load: %s",
                            p->name, p->deps[i].id, t->name, de.message);
    }
    return WASMPLUG_OK;
}

wasmplug_status wph_dependents(wasmplug_plugin *p, wasmplug_phase phase,
                               wasmplug_plugin_error *e)
{
    pthread_mutex_lock(&p->host->lock);
    wasmplug_status st = wph_dependents_locked(p, phase, e);
    pthread_mutex_unlock(&p->host->lock);
    return st;
}

wasmplug_status wph_dependents_locked(wasmplug_plugin *p, wasmplug_phase phase,
                                      wasmplug_plugin_error *e)
{
    if (p->front)
        return WASMPLUG_OK;
    char names[WASMPLUG_ERROR_MESSAGE_MAX / 2] = "";
    size_t count = 0, len = 0;
    wasmplug_host *h = p->host;
    for (wasmplug_plugin *q = h->first; q; q = q->next) {
        if (q == p)
            continue;
        pthread_mutex_lock(&q->lock);
        bool live = !q->closing && !q->killed && q->state != WASMPLUG_STATE_DISPOSED;
        wasmplug_plugin *v = q->current;
        bool needs = false;
        for (size_t i = 0; live && i < v->ndeps && !needs; i++)
            needs = v->deps[i].target == p;
        pthread_mutex_unlock(&q->lock);
        if (!needs)
            continue;
        if (len < sizeof names) {
            int n = snprintf(names + len, sizeof names - len, "%s'%s'", count ? ", " : "",
                             q->name);
            len += n > 0 ? (size_t)n : 0;
        }
        count++;
    }
    if (!count)
        return WASMPLUG_OK;
    return wph_fail(e, WASMPLUG_ERR_IN_USE, phase, p->name, "",
                    "plugin '%s' is needed by %s (%s on it): stop %s first, or force it",
                    p->name, names, count > 1 ? "they depend" : "it depends",
                    count > 1 ? "them" : "it");
}

wasmplug_status wph_deps_accept(wasmplug_plugin *h, wasmplug_plugin *nv, wasmplug_plugin_error *e)
{
    wasmplug_status st = WASMPLUG_OK;
    pthread_mutex_lock(&h->host->lock);
    for (wasmplug_plugin *q = h->host->first; q && st == WASMPLUG_OK; q = q->next) {
        if (q == h)
            continue;
        pthread_mutex_lock(&q->lock);
        bool live = !q->closing && !q->killed && q->state != WASMPLUG_STATE_DISPOSED;
        wasmplug_plugin *v = q->current;
        for (size_t i = 0; live && i < v->ndeps && st == WASMPLUG_OK; i++) {
            const wph_dep *d = &v->deps[i];
            if (d->target != h)
                continue;
            bool fits = strcmp(d->id, nv->id) == 0 &&
                        (strcmp(d->range, "*") == 0 ||
                         wasmplug_semver_satisfies(nv->version, d->range));
            if (!fits)
                st = wph_fail(e, WASMPLUG_ERR_DEPENDENCY_VERSION, WASMPLUG_PHASE_LOAD, h->name,
                              "",
                              "plugin '%s' depends on '%s' %s; the new version (%s %s) does "
                              "not satisfy it",
                              q->name, d->id, d->range, nv->id[0] ? nv->id : "no id",
                              nv->version[0] ? nv->version : "(no version)");
        }
        pthread_mutex_unlock(&q->lock);
    }
    pthread_mutex_unlock(&h->host->lock);
    return st;
}
