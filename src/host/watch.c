/*
 * watch.c - file watching (Linux inotify) with debouncing, and plugins
 * reloaded when their module file changes.
 *
 * A watcher has one thread polling its inotify descriptor and a pipe (to
 * stop it). A file is watched through its directory (editors and build
 * tools replace files by renaming, which a watch on the file itself would
 * miss); a directory through itself and, recursively, its subdirectories
 * (new ones are added as they appear). Each watched path has its own
 * deadline: an event pushes it debounce_ms into the future, and when it
 * passes the callback runs once, on the watcher thread, with no lock held.
 *
 * Locking: w->lock guards the list of watches and their deadlines; the
 * host's watch list (plugin watches) is under host->lock and the host's
 * watcher is created once, under it.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#define WPH_HAVE_INOTIFY 1
#endif

#define WPH_WATCH_DEBOUNCE_MS 100u
#define WPH_WATCH_MASK                                                                         \
    (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY |        \
     IN_ATTRIB)

/* One inotify watch descriptor and the watched path it serves. */
typedef struct wph_wd {
    int wd;
    char *dir;          /* the directory watched */
    char *file;         /* the file in it that matters, or NULL: any */
    size_t target;      /* index of the watched path (w->paths) */
} wph_wd;

/* A path given to wasmplug_watcher_add. */
typedef struct wph_wpath {
    char *path;
    bool recursive;
    uint64_t due_ns;    /* 0: nothing pending */
    char last[1024];    /* the last file that changed under it */
} wph_wpath;

struct wasmplug_watcher {
    pthread_mutex_t lock;
    pthread_t thread;
    bool started;
    int fd;             /* inotify */
    int wake[2];        /* a byte written stops the thread */
    uint32_t debounce_ms;
    wasmplug_watch_fn fn;
    void *user;
    wph_wd *wds;
    size_t nwds, capwds;
    wph_wpath *paths;
    size_t npaths, cappaths;
    char **ignore;
    size_t nignore;
};

#if WPH_HAVE_INOTIFY

static bool ignored(wasmplug_watcher *w, const char *name)
{
    for (size_t i = 0; i < w->nignore; i++)
        if (wph_glob(w->ignore[i], name, strlen(name)))
            return true;
    return false;
}

/* Under w->lock: watch dir for path target (file: the name that matters). */
static wasmplug_status add_wd(wasmplug_watcher *w, const char *dir, const char *file,
                              size_t target)
{
    int wd = inotify_add_watch(w->fd, dir, WPH_WATCH_MASK | IN_ONLYDIR);
    if (wd < 0)
        return errno == ENOENT || errno == ENOTDIR ? WASMPLUG_ERR_NOT_FOUND
               : errno == ENOSPC                    ? WASMPLUG_ERR_LIMIT
                                                    : WASMPLUG_ERR_IO;
    if (w->nwds == w->capwds) {
        size_t cap = w->capwds ? w->capwds * 2 : 8;
        wph_wd *n = realloc(w->wds, cap * sizeof *n);
        if (!n)
            return WASMPLUG_ERR_NOMEM;
        w->wds = n;
        w->capwds = cap;
    }
    wph_wd *x = &w->wds[w->nwds];
    x->wd = wd;
    x->target = target;
    x->dir = wph_strdup(dir);
    x->file = file ? wph_strdup(file) : NULL;
    if (!x->dir || (file && !x->file)) {
        free(x->dir);
        free(x->file);
        return WASMPLUG_ERR_NOMEM;
    }
    w->nwds++;
    return WASMPLUG_OK;
}

/* Under w->lock: dir and (recursive) every subdirectory not ignored. */
static wasmplug_status add_tree(wasmplug_watcher *w, const char *dir, size_t target, int depth)
{
    wasmplug_status st = add_wd(w, dir, NULL, target);
    if (st != WASMPLUG_OK || !w->paths[target].recursive || depth > 32)
        return st;
    DIR *d = opendir(dir);
    if (!d)
        return WASMPLUG_OK;
    struct dirent *de;
    while (st == WASMPLUG_OK && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || ignored(w, de->d_name))
            continue;
        char sub[1024];
        struct stat sb;
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= sizeof sub ||
            lstat(sub, &sb) != 0 || !S_ISDIR(sb.st_mode))
            continue;
        st = add_tree(w, sub, target, depth + 1);
    }
    closedir(d);
    return st;
}

/* Under w->lock: one inotify event. */
static void on_event(wasmplug_watcher *w, const struct inotify_event *ev, uint64_t now)
{
    for (size_t i = 0; i < w->nwds; i++) {
        wph_wd *x = &w->wds[i];
        if (x->wd != ev->wd)
            continue;
        const char *name = ev->len ? ev->name : "";
        if (x->file ? strcmp(name, x->file) != 0 : (*name && ignored(w, name)))
            continue;
        wph_wpath *p = &w->paths[x->target];
        if (!x->file && p->recursive && (ev->mask & IN_ISDIR) &&
            (ev->mask & (IN_CREATE | IN_MOVED_TO))) {
            char sub[1024];
            if ((size_t)snprintf(sub, sizeof sub, "%s/%s", x->dir, name) < sizeof sub)
                add_tree(w, sub, x->target, 1); /* may move w->wds: x is stale below */
        }
        p->due_ns = now + (uint64_t)w->debounce_ms * 1000000u;
        snprintf(p->last, sizeof p->last, "%s%s%s", w->wds[i].dir, *name ? "/" : "", name);
    }
}

static void *watch_thread(void *arg)
{
    wasmplug_watcher *w = arg;
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (;;) {
        uint64_t now = wph_now_ns(), next = 0;
        /* Callbacks whose time came, run without the lock. */
        pthread_mutex_lock(&w->lock);
        for (size_t i = 0; i < w->npaths; i++) {
            wph_wpath *p = &w->paths[i];
            if (p->due_ns && p->due_ns <= now) {
                p->due_ns = 0;
                char path[1024];
                memcpy(path, p->last, sizeof path);
                pthread_mutex_unlock(&w->lock);
                w->fn(w->user, path);
                pthread_mutex_lock(&w->lock);
                now = wph_now_ns();
            }
        }
        for (size_t i = 0; i < w->npaths; i++)
            if (w->paths[i].due_ns && (!next || w->paths[i].due_ns < next))
                next = w->paths[i].due_ns;
        pthread_mutex_unlock(&w->lock);
        int timeout = -1;
        if (next)
            timeout = next <= now ? 0 : (int)((next - now) / 1000000u) + 1;
        struct pollfd fds[2] = {{w->fd, POLLIN, 0}, {w->wake[0], POLLIN, 0}};
        int n = poll(fds, 2, timeout);
        if (n < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break; /* stop */
        if (n > 0 && (fds[0].revents & POLLIN)) {
            ssize_t len;
            while ((len = read(w->fd, buf, sizeof buf)) > 0) {
                now = wph_now_ns();
                pthread_mutex_lock(&w->lock);
                for (char *q = buf; q < buf + len;) {
                    const struct inotify_event *ev = (const struct inotify_event *)q;
                    on_event(w, ev, now);
                    q += sizeof *ev + ev->len;
                }
                pthread_mutex_unlock(&w->lock);
            }
        }
    }
    return NULL;
}

wasmplug_status wasmplug_watcher_new(uint32_t debounce_ms, wasmplug_watch_fn fn, void *user,
                                     wasmplug_watcher **out)
{
    if (!out || !fn)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wasmplug_watcher *w = calloc(1, sizeof *w);
    if (!w)
        return WASMPLUG_ERR_NOMEM;
    w->debounce_ms = debounce_ms ? debounce_ms : WPH_WATCH_DEBOUNCE_MS;
    w->fn = fn;
    w->user = user;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    w->wake[0] = w->wake[1] = -1;
    if (w->fd < 0 || pipe2(w->wake, O_CLOEXEC) != 0 ||
        pthread_mutex_init(&w->lock, NULL) != 0) {
        wasmplug_status st = w->fd < 0 && (errno == EMFILE || errno == ENFILE)
                                 ? WASMPLUG_ERR_LIMIT
                                 : WASMPLUG_ERR_IO;
        if (w->fd >= 0)
            close(w->fd);
        if (w->wake[0] >= 0) {
            close(w->wake[0]);
            close(w->wake[1]);
        }
        free(w);
        return st;
    }
    if (pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
        close(w->fd);
        close(w->wake[0]);
        close(w->wake[1]);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return WASMPLUG_ERR_NOMEM;
    }
    w->started = true;
    *out = w;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_watcher_ignore(wasmplug_watcher *w, const char *pattern)
{
    if (!w || !pattern || !*pattern)
        return WASMPLUG_ERR_ARGUMENT;
    char *copy = wph_strdup(pattern);
    pthread_mutex_lock(&w->lock);
    char **n = copy ? realloc(w->ignore, (w->nignore + 1) * sizeof *n) : NULL;
    if (n) {
        w->ignore = n;
        w->ignore[w->nignore++] = copy;
    }
    pthread_mutex_unlock(&w->lock);
    if (!n) {
        free(copy);
        return WASMPLUG_ERR_NOMEM;
    }
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_watcher_add(wasmplug_watcher *w, const char *path, bool recursive)
{
    if (!w || !path || !*path || strlen(path) >= 1000)
        return WASMPLUG_ERR_ARGUMENT;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return WASMPLUG_ERR_NOT_FOUND;
    pthread_mutex_lock(&w->lock);
    wasmplug_status st = WASMPLUG_OK;
    if (w->npaths == w->cappaths) {
        size_t cap = w->cappaths ? w->cappaths * 2 : 4;
        wph_wpath *n = realloc(w->paths, cap * sizeof *n);
        if (n) {
            w->paths = n;
            w->cappaths = cap;
        } else {
            st = WASMPLUG_ERR_NOMEM;
        }
    }
    wph_wpath *p = st == WASMPLUG_OK ? &w->paths[w->npaths] : NULL;
    if (p) {
        memset(p, 0, sizeof *p);
        p->recursive = recursive;
        if (!(p->path = wph_strdup(path)))
            st = WASMPLUG_ERR_NOMEM;
    }
    if (st == WASMPLUG_OK) {
        size_t target = w->npaths++;
        if (S_ISDIR(sb.st_mode)) {
            st = add_tree(w, path, target, 0);
        } else { /* the file through its directory */
            char dir[1024];
            snprintf(dir, sizeof dir, "%s", path);
            char *slash = strrchr(dir, '/');
            const char *file = slash ? slash + 1 : path;
            if (slash == dir)
                dir[1] = '\0';
            else if (slash)
                *slash = '\0';
            else
                snprintf(dir, sizeof dir, ".");
            st = add_wd(w, dir, file, target);
        }
        /* On failure the path stays listed, with no descriptor left to
         * wake it: harmless until the watcher is freed. */
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

void wasmplug_watcher_free(wasmplug_watcher *w)
{
    if (!w)
        return;
    if (w->started) {
        char b = 1;
        while (write(w->wake[1], &b, 1) < 0 && errno == EINTR)
            ;
        pthread_join(w->thread, NULL);
    }
    close(w->fd);
    close(w->wake[0]);
    close(w->wake[1]);
    for (size_t i = 0; i < w->nwds; i++) {
        free(w->wds[i].dir);
        free(w->wds[i].file);
    }
    free(w->wds);
    for (size_t i = 0; i < w->npaths; i++)
        free(w->paths[i].path);
    free(w->paths);
    for (size_t i = 0; i < w->nignore; i++)
        free(w->ignore[i]);
    free(w->ignore);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

#else /* no inotify: watching is not available */

wasmplug_status wasmplug_watcher_new(uint32_t debounce_ms, wasmplug_watch_fn fn, void *user,
                                     wasmplug_watcher **out)
{
    (void)debounce_ms;
    (void)fn;
    (void)user;
    if (out)
        *out = NULL;
    return WASMPLUG_ERR_UNSUPPORTED;
}

wasmplug_status wasmplug_watcher_ignore(wasmplug_watcher *w, const char *pattern)
{
    (void)w;
    (void)pattern;
    return WASMPLUG_ERR_UNSUPPORTED;
}

wasmplug_status wasmplug_watcher_add(wasmplug_watcher *w, const char *path, bool recursive)
{
    (void)w;
    (void)path;
    (void)recursive;
    return WASMPLUG_ERR_UNSUPPORTED;
}

void wasmplug_watcher_free(wasmplug_watcher *w)
{
    (void)w;
}

#endif

/* ------------------------------------------------------------------------ */
/* Plugins reloaded when their file changes                                 */
/* ------------------------------------------------------------------------ */

/* One plugin watch of a host (host->watches, under host->lock; kept until
 * the host is freed, so the watcher thread's pointers stay valid). */
typedef struct wph_pwatch {
    struct wph_pwatch *next;
    wasmplug_plugin *plugin; /* referenced; NULL once unwatched */
    char *path;
    const wasmplug_reload_options *opts;
    wasmplug_reload_done_fn done;
    void *user;
    bool dirty;              /* its file changed: reload it */
} wph_pwatch;

/* The host watcher's callback (one per changed path, debounced): reload
 * the plugins watching that path, one after the other. */
static void reload_watched(void *user, const char *changed)
{
    wasmplug_host *h = user;
    pthread_mutex_lock(&h->lock);
    for (wph_pwatch *x = h->watches; x; x = x->next)
        if (x->plugin && !strcmp(x->path, changed))
            x->dirty = true;
    pthread_mutex_unlock(&h->lock);
    for (;;) {
        wasmplug_plugin *p = NULL;
        wph_pwatch *todo = NULL;
        pthread_mutex_lock(&h->lock);
        for (wph_pwatch *x = h->watches; x && !todo; x = x->next)
            if (x->dirty) {
                x->dirty = false;
                if ((p = x->plugin) != NULL) {
                    todo = x;
                    wasmplug_plugin_retain(p);
                }
            }
        pthread_mutex_unlock(&h->lock);
        if (!todo)
            return;
        /* path, opts, done and user never change after the watch is made. */
        wasmplug_plugin_error err;
        wasmplug_status st = wasmplug_plugin_reload_file(p, todo->path, todo->opts, &err);
        if (todo->done)
            todo->done(todo->user, p, st, &err);
        wasmplug_plugin_release(p);
    }
}

wasmplug_status wasmplug_plugin_watch(wasmplug_plugin *p, const char *path,
                                      const wasmplug_reload_options *opts,
                                      wasmplug_reload_done_fn done, void *user)
{
    if (!p || p->front || !path || !*path)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_host *h = p->host;
    wph_pwatch *x = calloc(1, sizeof *x);
    if (!x || !(x->path = wph_strdup(path))) {
        free(x);
        return WASMPLUG_ERR_NOMEM;
    }
    x->opts = opts;
    x->done = done;
    x->user = user;
    pthread_mutex_lock(&h->lock);
    wasmplug_status st = WASMPLUG_OK;
    if (!h->watcher)
        st = wasmplug_watcher_new(0, reload_watched, h, &h->watcher);
    wasmplug_watcher *w = h->watcher;
    if (st == WASMPLUG_OK) {
        x->next = h->watches;
        h->watches = x;
    }
    pthread_mutex_unlock(&h->lock);
    if (st != WASMPLUG_OK) {
        free(x->path);
        free(x);
        return st;
    }
    st = wasmplug_watcher_add(w, path, false);
    if (st == WASMPLUG_OK) {
        wasmplug_plugin_retain(p);
        pthread_mutex_lock(&h->lock);
        x->plugin = p;
        pthread_mutex_unlock(&h->lock);
    }
    return st;
}

void wasmplug_plugin_unwatch(wasmplug_plugin *p)
{
    if (!p || p->front)
        return;
    wasmplug_host *h = p->host;
    for (;;) {
        wasmplug_plugin *drop = NULL;
        pthread_mutex_lock(&h->lock);
        for (wph_pwatch *x = h->watches; x && !drop; x = x->next)
            if (x->plugin == p) {
                drop = p;
                x->plugin = NULL;
            }
        pthread_mutex_unlock(&h->lock);
        if (!drop)
            return;
        wasmplug_plugin_release(drop);
    }
}

void wph_watches_free(wasmplug_host *h)
{
    wasmplug_watcher_free(h->watcher); /* waits for a reload in progress */
    h->watcher = NULL;
    while (h->watches) {
        wph_pwatch *x = h->watches;
        h->watches = x->next;
        wasmplug_plugin_release(x->plugin);
        free(x->path);
        free(x);
    }
}
