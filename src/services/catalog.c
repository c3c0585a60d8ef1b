/*
 * catalog.c - a host's plugins from the plugin store (wasmplug/catalog.h).
 *
 * Open and refresh are one synchronization: list the store (store.c), pick
 * the newest version of each id (project plugins first), fingerprint it
 * (directory, and device, inode, size and modification time of its
 * manifest and module: an install or update renames a new directory into
 * place, so any replacement changes them), then load, reload or kill what
 * differs from what the catalog loaded before, in dependency order.
 */
#include <wasmplug/catalog.h>
#include <wasmplug/manifest.h>

#include "grants.h"
#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What identifies an installed version's files. */
typedef struct fingerprint {
    char dir[1024];
    struct stat manifest, module;
} fingerprint;

typedef struct cat_item {
    wasmplug_catalog_entry e;
    fingerprint fp;  /* of the version loaded */
    bool loaded;     /* in the host, loaded by the catalog */
} cat_item;

struct wasmplug_catalog {
    pthread_mutex_t lock;  /* every public function; refreshes never overlap */
    wasmplug_watcher *watcher;
    wasmplug_catalog_fn on_watch;
    void *watch_user;
    wasmplug_host *host;
    char *root;
    char *project;
    wasmplug_catalog_config cfg;
    cat_item *items;
    size_t count, cap;
};

/* One plugin wanted by the current listing. */
typedef struct wanted {
    wps_entry *entry;
    const char *id;
    fingerprint fp;
    int mark;              /* topological sort: 0 new, 1 on the path, 2 done */
    bool cycle;
    char cycle_text[WASMPLUG_ERROR_MESSAGE_MAX / 2];
} wanted;

void wasmplug_catalog_config_init(wasmplug_catalog_config *cfg)
{
    if (cfg)
        memset(cfg, 0, sizeof *cfg);
}

const char *wasmplug_catalog_action_string(wasmplug_catalog_action a)
{
    switch (a) {
    case WASMPLUG_CATALOG_LOADED:
        return "loaded";
    case WASMPLUG_CATALOG_RELOADED:
        return "reloaded";
    case WASMPLUG_CATALOG_REMOVED:
        return "removed";
    case WASMPLUG_CATALOG_FAILED:
        return "failed";
    default:
        return "unchanged";
    }
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(char *msg, size_t size, const char *fmt, ...)
{
    if (!msg || !size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void item_fail(cat_item *it, wasmplug_status st, const char *fmt, ...)
{
    it->e.action = WASMPLUG_CATALOG_FAILED;
    it->e.status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->e.message, sizeof it->e.message, fmt, ap);
    va_end(ap);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static bool same_version(const fingerprint *a, const fingerprint *b)
{
    return strcmp(a->dir, b->dir) == 0 && same_file(&a->manifest, &b->manifest) &&
           same_file(&a->module, &b->module);
}

static void take_fingerprint(const wps_entry *e, fingerprint *fp)
{
    memset(fp, 0, sizeof *fp);
    snprintf(fp->dir, sizeof fp->dir, "%s", e->dir);
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", e->dir, WASMPLUG_MANIFEST_FILE);
    stat(path, &fp->manifest); /* a missing file stays zeroed: a change all the same */
    char *module = e->doc ? wasmplug_manifest_module_path(e->doc) : NULL;
    if (module)
        stat(module, &fp->module);
    free(module);
}

static cat_item *find_item(wasmplug_catalog *c, const char *id)
{
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->items[i].e.id, id) == 0)
            return &c->items[i];
    return NULL;
}

static cat_item *add_item(wasmplug_catalog *c, const char *id)
{
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        cat_item *n = realloc(c->items, cap * sizeof *n);
        if (!n)
            return NULL;
        c->items = n;
        c->cap = cap;
    }
    cat_item *it = &c->items[c->count++];
    memset(it, 0, sizeof *it);
    snprintf(it->e.id, sizeof it->e.id, "%s", id);
    return it;
}

static wanted *find_wanted(wanted *w, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w[i].id, id) == 0)
            return &w[i];
    return NULL;
}

/* The newest valid-or-not entry of each id, project plugins first. */
static size_t pick_wanted(wps_entry *all, size_t n, wanted *w)
{
    size_t count = 0;
    const wps_source order[] = {WPS_PROJECT, WPS_STORE};
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            if (all[i].source != order[pass])
                continue;
            char buf[1024];
            const char *id = wps_entry_id(&all[i], buf, sizeof buf);
            if (!all[i].doc || find_wanted(w, count, id))
                continue; /* an invalid manifest, or an older version */
            w[count].entry = &all[i];
            w[count].id = all[i].doc->id;
            w[count].mark = 0;
            w[count].cycle = false;
            w[count].cycle_text[0] = '\0';
            take_fingerprint(&all[i], &w[count].fp);
            count++;
        }
    return count;
}

/* Depth-first: append x's dependencies (within the set), then x, to order;
 * a dependency cycle marks every plugin on it. path holds the ids being
 * visited. */
static void visit(wanted *w, size_t n, wanted *x, wanted **order, size_t *norder,
                  wanted **path, size_t depth)
{
    if (x->mark == 2)
        return;
    if (x->mark == 1) { /* back to a plugin on the path: a cycle from it */
        size_t from = 0;
        while (from < depth && path[from] != x)
            from++;
        char text[sizeof x->cycle_text] = "";
        for (size_t i = from; i < depth; i++) {
            size_t len = strlen(text);
            snprintf(text + len, sizeof text - len, "%s -> ", path[i]->id);
        }
        size_t len = strlen(text);
        snprintf(text + len, sizeof text - len, "%s", x->id);
        for (size_t i = from; i < depth; i++) {
            path[i]->cycle = true;
            memcpy(path[i]->cycle_text, text, sizeof text);
        }
        return;
    }
    x->mark = 1;
    path[depth] = x;
    const wasmplug_manifest_doc *d = x->entry->doc;
    for (size_t i = 0; i < d->dependency_count; i++) {
        wanted *dep = find_wanted(w, n, d->dependencies[i].key);
        if (dep)
            visit(w, n, dep, order, norder, path, depth + 1);
    }
    x->mark = 2;
    order[(*norder)++] = x;
}

/* Grant what was recorded at install (store plugins only). */
static wasmplug_status apply_grants(wasmplug_catalog *c, const wps_entry *e, char *msg,
                                    size_t msgsize)
{
    if (e->source != WPS_STORE)
        return WASMPLUG_OK;
    wps_grants g = {NULL, 0};
    wasmplug_status st = wps_grants_load(e->dir, &g, msg, msgsize);
    if (st == WASMPLUG_ERR_NOT_FOUND)
        return WASMPLUG_OK; /* granted nothing */
    for (size_t i = 0; st == WASMPLUG_OK && i < g.count; i++)
        st = wasmplug_host_grant(c->host, e->doc->id, g.items[i]);
    wps_grants_free(&g);
    return st;
}

/* Load (or with reload, replace) the plugin of w; fills the item. */
static void load_one(wasmplug_catalog *c, wanted *w, cat_item *it, bool reload)
{
    const wps_entry *e = w->entry;
    snprintf(it->e.version, sizeof it->e.version, "%s", e->doc->version);
    snprintf(it->e.dir, sizeof it->e.dir, "%s", e->dir);
    it->e.status = WASMPLUG_OK;
    it->e.message[0] = '\0';
    if (w->cycle) {
        item_fail(it, WASMPLUG_ERR_DEPENDENCY_CYCLE, "plugin '%s' is on a dependency cycle: %s",
                  w->id, w->cycle_text);
        return;
    }
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    wasmplug_status st = apply_grants(c, e, why, sizeof why);
    if (st != WASMPLUG_OK) {
        item_fail(it, st, "%s", why);
        return;
    }
    wasmplug_manifest m;
    wasmplug_manifest_to_host(e->doc, &m);
    char *module = wasmplug_manifest_module_path(e->doc);
    if (!module) {
        item_fail(it, WASMPLUG_ERR_NOMEM, "out of memory");
        return;
    }
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    o.limits = c->cfg.limits;
    o.pool_size = c->cfg.pool_size;
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    if (!reload) {
        o.lazy = c->cfg.lazy;
        st = wasmplug_host_load_file(c->host, w->id, module, &o, NULL, &err);
        /* Loaded, or left in the host in state ERROR by a failing init:
         * ours either way (a later refresh reloads it). */
        wasmplug_plugin *p = NULL;
        it->loaded = st != WASMPLUG_ERR_DUPLICATE &&
                     wasmplug_host_get(c->host, w->id, &p) == WASMPLUG_OK;
        wasmplug_plugin_release(p);
    } else {
        wasmplug_plugin *p = NULL;
        st = wasmplug_host_get(c->host, w->id, &p);
        if (st == WASMPLUG_OK) {
            wasmplug_reload_options ro = c->cfg.reload;
            ro.load = &o;
            st = wasmplug_plugin_reload_file(p, module, &ro, &err);
            wasmplug_plugin_release(p);
        } else {
            snprintf(err.message, sizeof err.message,
                     "plugin '%s' is no longer in the host: it cannot be reloaded", w->id);
        }
    }
    free(module);
    if (st != WASMPLUG_OK) {
        item_fail(it, st, "%s", err.message);
        return;
    }
    it->fp = w->fp;
    it->e.action = reload ? WASMPLUG_CATALOG_RELOADED : WASMPLUG_CATALOG_LOADED;
}

/* Kill a plugin the store no longer has (unless others depend on it). */
static void remove_one(wasmplug_catalog *c, cat_item *it)
{
    wasmplug_status st = wasmplug_host_kill(c->host, it->e.id);
    if (st == WASMPLUG_ERR_IN_USE) {
        wasmplug_plugin_error errs[1];
        wasmplug_plugin *p = NULL;
        wasmplug_host_get(c->host, it->e.id, &p);
        wasmplug_status last = p ? wasmplug_plugin_last_error(p, errs) : WASMPLUG_ERR_NOT_FOUND;
        wasmplug_plugin_release(p);
        item_fail(it, st, "plugin '%s' is no longer installed but stays loaded: %s", it->e.id,
                  last == WASMPLUG_OK ? errs[0].message : "others depend on it");
        return;
    }
    it->loaded = false;
    it->e.action = WASMPLUG_CATALOG_REMOVED;
    it->e.status = WASMPLUG_OK;
    it->e.message[0] = '\0';
}

static wasmplug_status sync_store(wasmplug_catalog *c, size_t *changed, char *msg,
                                  size_t msgsize)
{
    if (changed)
        *changed = 0;
    /* Entries removed at the last refresh are forgotten now. */
    size_t keep = 0;
    for (size_t i = 0; i < c->count; i++)
        if (c->items[i].e.action != WASMPLUG_CATALOG_REMOVED)
            c->items[keep++] = c->items[i];
    c->count = keep;
    for (size_t i = 0; i < c->count; i++) {
        c->items[i].e.action = WASMPLUG_CATALOG_UNCHANGED;
        c->items[i].e.status = WASMPLUG_OK;
        c->items[i].e.message[0] = '\0';
    }

    wps_entry *all = NULL;
    size_t n = 0;
    char lmsg[512] = "";
    wps_cleanup(c->root);
    wasmplug_status st = wps_list(c->root, c->project, &all, &n, lmsg, sizeof lmsg);
    if (st != WASMPLUG_OK) {
        say(msg, msgsize, "cannot list the plugin store %s: %s", c->root, lmsg);
        return st;
    }
    wanted *w = calloc(n ? n : 1, sizeof *w);
    wanted **order = calloc(n ? n : 1, sizeof *order), **path = calloc(n + 1, sizeof *path);
    if (!w || !order || !path) {
        free(w);
        free(order);
        free(path);
        wps_entries_free(all, n);
        say(msg, msgsize, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    size_t nw = pick_wanted(all, n, w), norder = 0;
    for (size_t i = 0; i < nw; i++)
        visit(w, nw, &w[i], order, &norder, path, 0);

    /* Invalid manifests of an id that has no valid version to load. */
    for (size_t i = 0; i < n; i++) {
        char buf[1024];
        const char *id = wps_entry_id(&all[i], buf, sizeof buf);
        if (all[i].doc || find_wanted(w, nw, id))
            continue;
        cat_item *it = find_item(c, id);
        if (!it && !(it = add_item(c, id)))
            continue;
        if (it->e.action != WASMPLUG_CATALOG_FAILED)
            item_fail(it, WASMPLUG_ERR_MANIFEST, "%s:%u:%u: %s", all[i].diag.file,
                      all[i].diag.line, all[i].diag.column, all[i].diag.message);
    }
    /* Load or reload, dependencies first. */
    for (size_t k = 0; k < norder; k++) {
        wanted *x = order[k];
        cat_item *it = find_item(c, x->id);
        bool fresh = !it || !it->loaded;
        if (!it && !(it = add_item(c, x->id)))
            continue;
        if (fresh)
            load_one(c, x, it, false);
        else if (!same_version(&it->fp, &x->fp))
            load_one(c, x, it, true);
    }
    /* What the store no longer has: removed, dependents first. */
    for (size_t pass = 0; pass < c->count; pass++) {
        bool progress = false;
        for (size_t i = 0; i < c->count; i++) {
            cat_item *it = &c->items[i];
            if (!it->loaded || find_wanted(w, nw, it->e.id))
                continue;
            remove_one(c, it);
            progress |= it->e.action == WASMPLUG_CATALOG_REMOVED;
        }
        if (!progress)
            break;
    }
    free(w);
    free(order);
    free(path);
    wps_entries_free(all, n);

    size_t failed = 0, moved = 0;
    char first[WASMPLUG_NAME_MAX + WASMPLUG_ERROR_MESSAGE_MAX + 4] = "";
    for (size_t i = 0; i < c->count; i++) {
        const wasmplug_catalog_entry *e = &c->items[i].e;
        if (e->action == WASMPLUG_CATALOG_FAILED && failed++ == 0)
            snprintf(first, sizeof first, "%s: %s", e->id, e->message);
        if (e->action == WASMPLUG_CATALOG_LOADED || e->action == WASMPLUG_CATALOG_RELOADED ||
            e->action == WASMPLUG_CATALOG_REMOVED)
            moved++;
    }
    if (changed)
        *changed = moved;
    if (failed)
        say(msg, msgsize, "%zu of %zu plugins failed: %s", failed, c->count, first);
    else
        say(msg, msgsize, "%zu plugins, %zu changed", c->count, moved);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_catalog_open(wasmplug_host *host, const wasmplug_catalog_config *cfg,
                                      wasmplug_catalog **out, char *msg, size_t msg_size)
{
    if (out)
        *out = NULL;
    if (!host || !out) {
        say(msg, msg_size, "no host or no place for the catalog");
        return WASMPLUG_ERR_ARGUMENT;
    }
    wasmplug_catalog *c = calloc(1, sizeof *c);
    if (!c || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        say(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    c->host = host;
    if (cfg)
        c->cfg = *cfg;
    c->cfg.reload.load = NULL;
    c->root = wps_store_root(c->cfg.store_root);
    c->project = c->cfg.project_dir ? strdup(c->cfg.project_dir) : NULL;
    c->cfg.store_root = c->root;
    c->cfg.project_dir = c->project;
    if (!c->root || (c->cfg.project_dir && !c->project)) {
        say(msg, msg_size, c->root ? "out of memory"
                                   : "no plugin store: set WASMPLUG_STORE or HOME");
        wasmplug_status st = c->root ? WASMPLUG_ERR_NOMEM : WASMPLUG_ERR_NOT_FOUND;
        wasmplug_catalog_free(c);
        return st;
    }
    wasmplug_status st = sync_store(c, NULL, msg, msg_size);
    if (st != WASMPLUG_OK) {
        wasmplug_catalog_free(c);
        return st;
    }
    *out = c;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_catalog_refresh(wasmplug_catalog *c, size_t *changed, char *msg,
                                         size_t msg_size)
{
    if (!c) {
        say(msg, msg_size, "no catalog");
        return WASMPLUG_ERR_ARGUMENT;
    }
    pthread_mutex_lock(&c->lock);
    wasmplug_status st = sync_store(c, changed, msg, msg_size);
    pthread_mutex_unlock(&c->lock);
    return st;
}

/* The watcher's callback: the store changed. */
static void store_changed(void *user, const char *path)
{
    (void)path;
    wasmplug_catalog *c = user;
    size_t changed = 0;
    char msg[512];
    wasmplug_catalog_refresh(c, &changed, msg, sizeof msg);
    if (c->on_watch)
        c->on_watch(c->watch_user, c, changed);
}

wasmplug_status wasmplug_catalog_watch(wasmplug_catalog *c, uint32_t debounce_ms,
                                       wasmplug_catalog_fn done, void *user)
{
    if (!c)
        return WASMPLUG_ERR_ARGUMENT;
    size_t len = strlen(c->root) + sizeof "/plugins";
    char *dir = malloc(len);
    if (!dir)
        return WASMPLUG_ERR_NOMEM;
    snprintf(dir, len, "%s/plugins", c->root);
    pthread_mutex_lock(&c->lock);
    wasmplug_status st = c->watcher ? WASMPLUG_ERR_PLUGIN_STATE : WASMPLUG_OK;
    if (st == WASMPLUG_OK) {
        c->on_watch = done;
        c->watch_user = user;
        st = wasmplug_watcher_new(debounce_ms ? debounce_ms : 300, store_changed, c,
                                  &c->watcher);
    }
    if (st == WASMPLUG_OK)
        st = wasmplug_watcher_add(c->watcher, dir, true);
    if (st != WASMPLUG_OK && st != WASMPLUG_ERR_PLUGIN_STATE) {
        wasmplug_watcher *w = c->watcher;
        c->watcher = NULL;
        pthread_mutex_unlock(&c->lock);
        wasmplug_watcher_free(w); /* no callback can have run: nothing is watched */
    } else {
        pthread_mutex_unlock(&c->lock);
    }
    free(dir);
    return st;
}

size_t wasmplug_catalog_count(wasmplug_catalog *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

wasmplug_status wasmplug_catalog_entry_at(wasmplug_catalog *c, size_t i,
                                          wasmplug_catalog_entry *out)
{
    if (!c || !out)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&c->lock);
    wasmplug_status st = i < c->count ? WASMPLUG_OK : WASMPLUG_ERR_NOT_FOUND;
    if (st == WASMPLUG_OK)
        *out = c->items[i].e;
    pthread_mutex_unlock(&c->lock);
    return st;
}

const char *wasmplug_catalog_store(wasmplug_catalog *c)
{
    return c ? c->root : "";
}

void wasmplug_catalog_free(wasmplug_catalog *c)
{
    if (!c)
        return;
    wasmplug_watcher_free(c->watcher); /* waits for a refresh in progress */
    free(c->items);
    free(c->root);
    free(c->project);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
