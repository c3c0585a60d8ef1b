/*
 * permissions.c - the permissions a manifest requests, as grant names,
 * with the privileged ones marked (what install shows and an update's
 * consent compares). See wasmplug_manifest_permissions in
 * wasmplug/registry.h.
 */
#include "services/dist_internal.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

typedef struct perms {
    wasmplug_permission *items;
    size_t count;
    bool oom;
} perms;

static void add(perms *p, const char *prefix, const char *value, const char *suffix,
                bool privileged)
{
    if (p->oom)
        return;
    size_t n = strlen(prefix) + strlen(value) + strlen(suffix) + 1;
    char *name = malloc(n);
    wasmplug_permission *grown = realloc(p->items, (p->count + 1) * sizeof *grown);
    if (!name || !grown) {
        free(name);
        if (grown)
            p->items = grown;
        p->oom = true;
        return;
    }
    snprintf(name, n, "%s%s%s", prefix, value, suffix);
    p->items = grown;
    for (size_t i = 0; i < p->count; i++) {
        if (!strcmp(p->items[i].name, name)) { /* listed twice in the manifest */
            free(name);
            return;
        }
    }
    p->items[p->count].name = name;
    p->items[p->count].privileged = privileged;
    p->count++;
}

/* A host directory that exposes much of the machine: the root, a home
 * directory, a top-level system directory, or anything above the current
 * directory. */
static bool wide_dir(const char *host)
{
    if (!strcmp(host, "/") || !strcmp(host, "~") || !strcmp(host, "$HOME") ||
        !strncmp(host, "..", 2))
        return true;
    if (!strncmp(host, "~/", 2)) /* a directory right under the home directory */
        return strchr(host + 2, '/') == NULL;
    if (host[0] != '/')
        return false;
    const char *second = strchr(host + 1, '/');
    if (!second || !second[1]) /* /etc, /usr, /home */
        return true;
    if (!strncmp(host, "/home/", 6)) /* /home/NAME: a whole home directory */
        return strchr(host + 6, '/') == NULL;
    return !strncmp(host, "/root", 5);
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static bool has_wildcard(const char *s)
{
    return strpbrk(s, "*?[") != NULL;
}

wasmplug_status wasmplug_manifest_permissions(const wasmplug_manifest_doc *doc,
                                              const char *const *sensitive, size_t n,
                                              wasmplug_permission **out, size_t *count)
{
    perms p = {0};
    for (size_t i = 0; i < doc->host_functions.count; i++) {
        const char *f = doc->host_functions.items[i];
        bool priv = has_wildcard(f);
        for (size_t k = 0; k < n && !priv; k++)
            priv = fnmatch(sensitive[k], f, 0) == 0 || fnmatch(f, sensitive[k], 0) == 0;
        add(&p, "", f, "", priv);
    }
    for (size_t i = 0; i < doc->env.count; i++)
        add(&p, "wasi.env:", doc->env.items[i], "", has_wildcard(doc->env.items[i]));
    for (size_t i = 0; i < doc->dir_count; i++) {
        const wasmplug_manifest_dir *d = &doc->dirs[i];
        char suffix[1024];
        snprintf(suffix, sizeof suffix, "=%s", d->host);
        add(&p, d->readonly ? "wasi.fs.read:" : "wasi.fs.write:", d->guest, suffix,
            wide_dir(d->host));
    }
    if (doc->storage)
        add(&p, "kv", "", "", false);
    for (size_t i = 0; i < doc->events_publish.count; i++)
        add(&p, "events.publish:", doc->events_publish.items[i], "", false);
    for (size_t i = 0; i < doc->events_subscribe.count; i++)
        add(&p, "events.subscribe:", doc->events_subscribe.items[i], "", false);
    for (size_t i = 0; i < doc->http_hosts.count; i++) {
        const char *h = doc->http_hosts.items[i];
        /* "*" or "*.com" reach (nearly) any host; "*.example.org" does not. */
        add(&p, "http:", h, "", has_wildcard(h) && count_char(h, '.') < 2);
    }
    if (p.oom) {
        wasmplug_permissions_free(p.items, p.count);
        *out = NULL;
        *count = 0;
        return WASMPLUG_ERR_NOMEM;
    }
    *out = p.items;
    *count = p.count;
    return WASMPLUG_OK;
}

void wasmplug_permissions_free(wasmplug_permission *p, size_t count)
{
    for (size_t i = 0; p && i < count; i++)
        free(p[i].name);
    free(p);
}
