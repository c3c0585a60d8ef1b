/*
 * grants.c - a manifest's permission requests (with the wide ones marked)
 * and the grants the operator recorded for an installed plugin
 * (grants.h describes the vocabulary and the file).
 */
#include "grants.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- requests ----------------------------------------------------------- */

const char *wps_request_kind_name(wps_request_kind kind)
{
    static const char *const names[] = {"host function", "environment",  "read directory",
                                        "write directory", "publish events", "subscribe to events",
                                        "key-value storage", "HTTP", "SQL database",
                                        "notifications", "user interface", "UI scripts"};
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : "permission";
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s", a, b);
    return s;
}

static bool add_request(wps_requests *r, wps_request_kind kind, const char *prefix,
                        const char *value, const char *what, const char *wide)
{
    wps_request *items = realloc(r->items, (r->count + 1) * sizeof *items);
    if (!items)
        return false;
    r->items = items;
    wps_request *q = &items[r->count];
    q->kind = kind;
    q->permission = join(prefix, value);
    q->what = strdup(what);
    q->wide = wide;
    if (!q->permission || !q->what) {
        free(q->permission);
        free(q->what);
        return false;
    }
    r->count++;
    return true;
}

/* A host directory outside the plugin's own data: absolute, or climbing out. */
static const char *wide_dir(const char *host)
{
    if (host[0] == '/')
        return "an absolute path outside the plugin's own data";
    for (const char *p = host; *p;) {
        if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == 0))
            return "a path that climbs out of the plugin's own data";
        const char *slash = strchr(p, '/');
        p = slash ? slash + 1 : p + strlen(p);
    }
    return NULL;
}

static const char *wide_pattern(const char *pattern, const char *why)
{
    return strchr(pattern, '*') ? why : NULL;
}

static bool add_list(wps_requests *r, const wasmplug_strlist *l, wps_request_kind kind,
                     const char *prefix, const char *what_prefix, const char *why_wide)
{
    for (size_t i = 0; i < l->count; i++) {
        char *what = join(what_prefix, l->items[i]);
        bool ok = what && add_request(r, kind, prefix, l->items[i], what,
                                      wide_pattern(l->items[i], why_wide));
        free(what);
        if (!ok)
            return false;
    }
    return true;
}

/* "ui" (what it contributes, counted by kind) and "ui.scripts". */
static bool add_ui_requests(wps_requests *r, const wasmplug_manifest_doc *doc)
{
    static const char *const kinds[] = {"panel", "block type", "command"};
    size_t counts[3] = {0, 0, 0};
    bool scripts = false;
    for (size_t i = 0; i < doc->ui_item_count; i++) {
        counts[doc->ui_items[i].kind]++;
        scripts = scripts || doc->ui_items[i].scripts;
    }
    if (!doc->ui_item_count)
        return true;
    char what[160] = "contribute UI:";
    size_t at = strlen(what);
    for (size_t k = 0; k < 3; k++)
        if (counts[k])
            at += (size_t)snprintf(what + at, sizeof what - at, "%s %zu %s%s",
                                   at > 14 ? "," : "", counts[k], kinds[k],
                                   counts[k] == 1 ? "" : "s");
    return add_request(r, WPS_REQ_UI, "", "ui", what, NULL) &&
           (!scripts || add_request(r, WPS_REQ_UI_SCRIPTS, "", "ui.scripts",
                                    "run scripts in its UI frames",
                                    "scripts in its frames (sandboxed apart from the page, "
                                    "but they run)"));
}

wasmplug_status wps_requests_of(const wasmplug_manifest_doc *doc, wps_requests *out)
{
    memset(out, 0, sizeof *out);
    bool ok = add_list(out, &doc->host_functions, WPS_REQ_HOST_FUNCTION, "", "call host function ",
                       "a pattern: every host function it matches") &&
              add_list(out, &doc->env, WPS_REQ_ENV, "wasi.env:", "read environment variable ",
                       "a pattern: any environment variable it matches");
    for (size_t i = 0; ok && i < doc->dir_count; i++) {
        const wasmplug_manifest_dir *d = &doc->dirs[i];
        size_t n = strlen(d->host) + strlen(d->guest) + 64;
        char *what = malloc(n);
        ok = what != NULL;
        if (ok) {
            snprintf(what, n, "%s directory %s as %s", d->readonly ? "read" : "read and write",
                     d->host, d->guest);
            ok = add_request(out, d->readonly ? WPS_REQ_FS_READ : WPS_REQ_FS_WRITE,
                             d->readonly ? "wasi.fs.read:" : "wasi.fs.write:", d->guest, what,
                             wide_dir(d->host));
        }
        free(what);
    }
    ok = ok &&
         add_list(out, &doc->events_publish, WPS_REQ_EVENTS_PUBLISH, "events.publish:",
                  "publish events ", NULL) &&
         add_list(out, &doc->events_subscribe, WPS_REQ_EVENTS_SUBSCRIBE, "events.subscribe:",
                  "subscribe to events ", NULL) &&
         (!doc->storage || add_request(out, WPS_REQ_STORAGE, "", "kv", "key-value storage", NULL)) &&
         (!doc->database || add_request(out, WPS_REQ_DB, "", "db", "its own SQL database", NULL)) &&
         (!doc->notify || add_request(out, WPS_REQ_NOTIFY, "", "notify", "show notifications", NULL)) &&
         add_list(out, &doc->http_hosts, WPS_REQ_HTTP, "http:", "HTTP requests to ",
                  "a pattern: any host it matches") &&
         add_ui_requests(out, doc);
    if (!ok) {
        wps_requests_free(out);
        return WASMPLUG_ERR_NOMEM;
    }
    return WASMPLUG_OK;
}

void wps_requests_free(wps_requests *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].permission);
        free(r->items[i].what);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* ---- grants ------------------------------------------------------------- */

bool wps_grants_has(const wps_grants *g, const char *permission)
{
    for (size_t i = 0; i < g->count; i++)
        if (strcmp(g->items[i], permission) == 0)
            return true;
    return false;
}

wasmplug_status wps_grants_add(wps_grants *g, const char *permission)
{
    if (!permission || !*permission)
        return WASMPLUG_ERR_ARGUMENT;
    for (const unsigned char *p = (const unsigned char *)permission; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return WASMPLUG_ERR_ARGUMENT;
    if (wps_grants_has(g, permission))
        return WASMPLUG_OK;
    char **items = realloc(g->items, (g->count + 1) * sizeof *items);
    if (!items)
        return WASMPLUG_ERR_NOMEM;
    g->items = items;
    if (!(items[g->count] = strdup(permission)))
        return WASMPLUG_ERR_NOMEM;
    g->count++;
    return WASMPLUG_OK;
}

void wps_grants_free(wps_grants *g)
{
    for (size_t i = 0; i < g->count; i++)
        free(g->items[i]);
    free(g->items);
    memset(g, 0, sizeof *g);
}

static char *grants_path(const char *dir, const char *suffix)
{
    size_t n = strlen(dir) + sizeof WPS_GRANTS_FILE + strlen(suffix) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s%s", dir, WPS_GRANTS_FILE, suffix);
    return p;
}

wasmplug_status wps_grants_load(const char *plugin_dir, wps_grants *out, char *msg,
                                size_t msgsize)
{
    memset(out, 0, sizeof *out);
    char *path = grants_path(plugin_dir, "");
    if (!path)
        return WASMPLUG_ERR_NOMEM;
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(msg, msgsize, "%s: %s", path, strerror(e));
        free(path);
        return e == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO;
    }
    wasmplug_status st = WASMPLUG_OK;
    char line[1024];
    unsigned lineno = 0;
    while (st == WASMPLUG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            snprintf(msg, msgsize, "%s:%u: line longer than %zu bytes", path, lineno,
                     sizeof line - 2);
            st = WASMPLUG_ERR_MANIFEST;
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (!n || line[0] == '#')
            continue;
        st = wps_grants_add(out, line);
        if (st == WASMPLUG_ERR_ARGUMENT) {
            snprintf(msg, msgsize, "%s:%u: not a permission (control characters)", path, lineno);
            st = WASMPLUG_ERR_MANIFEST;
        }
    }
    if (st == WASMPLUG_OK && ferror(f)) {
        snprintf(msg, msgsize, "%s: read error", path);
        st = WASMPLUG_ERR_IO;
    }
    fclose(f);
    free(path);
    if (st != WASMPLUG_OK)
        wps_grants_free(out);
    return st;
}

char *wps_grants_text(const wps_grants *g)
{
    static const char header[] =
        "# The permissions the operator granted this plugin (wasmplug install),\n"
        "# one per line; `wasmplug run` grants exactly these.\n";
    size_t n = sizeof header;
    for (size_t i = 0; i < g->count; i++)
        n += strlen(g->items[i]) + 1;
    char *text = malloc(n);
    if (!text)
        return NULL;
    size_t at = sizeof header - 1;
    memcpy(text, header, at);
    for (size_t i = 0; i < g->count; i++) {
        size_t len = strlen(g->items[i]);
        memcpy(text + at, g->items[i], len);
        text[at + len] = '\n';
        at += len + 1;
    }
    text[at] = '\0';
    return text;
}

wasmplug_status wps_grants_save(const char *plugin_dir, const wps_grants *g, char *msg,
                                size_t msgsize)
{
    char *path = grants_path(plugin_dir, ""), *tmp = grants_path(plugin_dir, ".tmp");
    wasmplug_status st = WASMPLUG_ERR_NOMEM;
    if (!path || !tmp)
        goto out;
    st = WASMPLUG_ERR_IO;
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(msg, msgsize, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    char *text = wps_grants_text(g);
    bool ok = text && fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
    free(text);
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok || rename(tmp, path) != 0) {
        snprintf(msg, msgsize, "cannot write %s: %s", path, strerror(ok ? errno : e));
        unlink(tmp);
        goto out;
    }
    int dfd = open(plugin_dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    st = WASMPLUG_OK;
out:
    free(path);
    free(tmp);
    return st;
}
