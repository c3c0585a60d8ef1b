/*
 * launch.c - what a plugin is loaded with: its manifest's requests, the
 * grants recorded at install, the operator's additions and denials, as
 * permissions and a WASI configuration. Rules in launch.h.
 */
#include "launch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_PREFIX "http:"

static char *joined(const char *prefix, const char *s, size_t slen)
{
    size_t n = strlen(prefix) + slen + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%.*s", prefix, (int)slen, s);
    return p;
}

/* Keep s (malloc'd) in l's storage; NULL (s freed) when out of memory. */
static char *keep(wps_launch *l, char *s)
{
    if (!s)
        return NULL;
    char **o = realloc(l->owned, (l->nowned + 1) * sizeof *o);
    if (!o) {
        free(s);
        return NULL;
    }
    l->owned = o;
    o[l->nowned++] = s;
    return s;
}

static bool grant(wps_launch *l, const char *perm)
{
    const char **p = realloc(l->perms, (l->perm_count + 1) * sizeof *p);
    if (!p)
        return false;
    l->perms = p;
    p[l->perm_count++] = perm;
    return true;
}

/* Whether a deny pattern matches perm (both_ways: or perm, a request
 * pattern, covers a denied name). */
static bool denied(const wps_launch_opts *o, const char *perm, bool both_ways)
{
    for (size_t j = 0; j < o->deny_count; j++)
        if (wasmplug_glob(o->denies[j], perm) ||
            (both_ways && wasmplug_glob(perm, o->denies[j])))
            return true;
    return false;
}

/* A WASI permission: the manifest's needs the recorded grant when
 * installed; a deny pattern removes any. */
static bool wasi_grant(wps_launch *l, const wps_launch_opts *o, const char *perm, bool manifest)
{
    if ((manifest && o->recorded && !wps_grants_has(o->recorded, perm)) || denied(o, perm, false))
        return true;
    return grant(l, perm);
}

static bool add_env(wps_launch *l, const wps_launch_opts *o, const char *spec, bool manifest)
{
    const char *eq = strchr(spec, '=');
    if (eq)
        l->env[l->nenv++] = spec;
    else
        l->inherit[l->ninherit++] = spec;
    const char *perm = keep(l, joined("wasi.env:", spec, eq ? (size_t)(eq - spec) : strlen(spec)));
    return perm && wasi_grant(l, o, perm, manifest);
}

static bool add_dir(wps_launch *l, const wps_launch_opts *o, const char *host, const char *guest,
                    bool readonly, bool manifest)
{
    wasmplug_wasi_preopen *d = &l->pre[l->npre++];
    d->host_path = host;
    d->guest_path = guest;
    d->read_only = readonly;
    const char *perm =
        keep(l, joined(readonly ? "wasi.fs.read:" : "wasi.fs.write:", guest, strlen(guest)));
    return perm && wasi_grant(l, o, perm, manifest);
}

wasmplug_status wps_launch_http_requests(const wasmplug_manifest_doc *doc,
                                         const wps_grants *recorded, const char *const *http,
                                         size_t http_count, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t mcount = doc ? doc->http_hosts.count : 0;
    size_t total = mcount ? mcount : http_count;
    if (!total)
        return WASMPLUG_OK;
    char **list = calloc(total, sizeof *list);
    if (!list)
        return WASMPLUG_ERR_NOMEM;
    for (size_t i = 0; i < total; i++) {
        const char *entry = mcount ? doc->http_hosts.items[i] : http[i];
        char *perm = joined(HTTP_PREFIX, entry, strlen(entry));
        if (!perm) {
            while (*n)
                free(list[--*n]);
            free(list);
            return WASMPLUG_ERR_NOMEM;
        }
        /* Run from a path, the manifest's request needs the operator's
         * patterns too; installed, what was granted at install. */
        if (recorded ? wps_grants_has(recorded, perm) : http_count > 0)
            list[(*n)++] = perm;
        else
            free(perm);
    }
    *out = list;
    return WASMPLUG_OK;
}

wasmplug_status wps_launch_make(const wasmplug_manifest_doc *doc, const wps_launch_opts *o,
                                wps_launch *l)
{
    memset(l, 0, sizeof *l);
    wasmplug_wasi_config_init(&l->wasi);
    size_t menv = doc ? doc->env.count : 0, mdirs = doc ? doc->dir_count : 0;
    l->env = calloc(menv + o->env_count + 1, sizeof *l->env);
    l->inherit = calloc(menv + o->env_count + 1, sizeof *l->inherit);
    l->pre = calloc(mdirs + o->dir_count + 1, sizeof *l->pre);
    if (!l->env || !l->inherit || !l->pre)
        return WASMPLUG_ERR_NOMEM;
    bool ok = true;
    /* Host functions and services: http entries come below. */
    size_t mcount = doc ? doc->permissions.count : 0;
    for (size_t i = 0; ok && i < mcount; i++) {
        const char *p = doc->permissions.items[i];
        if (strncmp(p, HTTP_PREFIX, strlen(HTTP_PREFIX)) != 0 &&
            !(o->recorded && !wps_grants_has(o->recorded, p)) && !denied(o, p, true))
            ok = grant(l, p);
    }
    for (size_t i = 0; ok && i < o->grant_count; i++)
        ok = grant(l, o->grants[i]);
    char **http = NULL;
    size_t nhttp = 0;
    if (ok && wps_launch_http_requests(doc, o->recorded, o->http, o->http_count, &http, &nhttp) !=
                  WASMPLUG_OK)
        ok = false;
    for (size_t i = 0; i < nhttp; i++) {
        const char *perm = ok ? keep(l, http[i]) : (free(http[i]), NULL);
        ok = perm && (denied(o, perm, false) || grant(l, perm));
    }
    free(http);
    for (size_t i = 0; ok && i < menv; i++)
        ok = add_env(l, o, doc->env.items[i], true);
    for (size_t i = 0; ok && i < o->env_count; i++)
        ok = add_env(l, o, o->env[i], false);
    for (size_t i = 0; ok && i < mdirs; i++)
        ok = add_dir(l, o, doc->dirs[i].host, doc->dirs[i].guest, doc->dirs[i].readonly, true);
    for (size_t i = 0; ok && i < o->dir_count; i++)
        ok = add_dir(l, o, o->dirs[i].host_path, o->dirs[i].guest_path, o->dirs[i].read_only,
                     false);
    l->wasi.env = l->env;
    l->wasi.env_count = l->nenv;
    l->wasi.env_inherit = l->inherit;
    l->wasi.env_inherit_count = l->ninherit;
    l->wasi.preopens = l->pre;
    l->wasi.preopen_count = l->npre;
    return ok ? WASMPLUG_OK : WASMPLUG_ERR_NOMEM;
}

void wps_launch_free(wps_launch *l)
{
    free(l->perms);
    free((void *)l->env);
    free((void *)l->inherit);
    free(l->pre);
    for (size_t i = 0; i < l->nowned; i++)
        free(l->owned[i]);
    free(l->owned);
    memset(l, 0, sizeof *l);
}
