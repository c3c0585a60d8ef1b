/*
 * store.c - the local plugin store: where it lives (XDG), discovery of
 * installed and project plugins, and atomic install/remove (write into a
 * temporary directory, fsync, rename into place) so that a crash never
 * leaves a half-installed plugin. See store.h for the layout.
 */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static wasmplug_status fail(wasmplug_status st, char *msg, size_t msgsize, const char *fmt, ...)
{
    if (msg && msgsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msgsize, fmt, ap);
        va_end(ap);
    }
    return st;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

/* A per-user directory: the explicit one, else $env_var, else
 * $xdg_var/wasmplug (absolute only, as the XDG spec says), else
 * $HOME/home_fallback. NULL without any of them. */
static char *user_dir(const char *explicit_root, const char *env_var, const char *xdg_var,
                      const char *home_fallback)
{
    if (explicit_root && *explicit_root)
        return strdup(explicit_root);
    const char *env = getenv(env_var);
    if (env && *env)
        return strdup(env);
    const char *xdg = getenv(xdg_var);
    if (xdg && xdg[0] == '/')
        return join(xdg, "wasmplug");
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    return join(home, home_fallback);
}

char *wps_store_root(const char *explicit_root)
{
    return user_dir(explicit_root, WPS_ENV_STORE, "XDG_DATA_HOME", ".local/share/wasmplug");
}

char *wps_plugin_data_root(const char *explicit_root)
{
    return user_dir(explicit_root, WPS_ENV_PLUGIN_DATA, "XDG_STATE_HOME",
                    ".local/state/wasmplug");
}

int wps_mkdirs(const char *path, mode_t mode)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return ENAMETOOLONG;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return errno;
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST)
        return errno;
    return 0;
}

int wps_rmtree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : errno;
    DIR *d = opendir(path);
    if (!d)
        return errno;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char *sub = join(path, e->d_name);
        if (!sub) {
            rc = ENOMEM;
            break;
        }
        int r = wps_rmtree(sub);
        if (r && !rc)
            rc = r;
        free(sub);
    }
    closedir(d);
    if (rmdir(path) != 0 && !rc)
        rc = errno;
    return rc;
}

char *wps_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = errno ? errno : EISDIR;
        close(fd);
        errno = S_ISDIR(st.st_mode) ? EISDIR : e;
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 1, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        ssize_t got = read(fd, buf + n, cap - 1 - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = errno;
            free(buf);
            buf = NULL;
            errno = e;
            break;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap - 1) { /* the file grew: read on */
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    close(fd);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Discovery                                                                */
/* ------------------------------------------------------------------------ */

void wps_entry_clear(wps_entry *e)
{
    if (!e)
        return;
    free(e->dir);
    wasmplug_manifest_doc_free(e->doc);
    memset(e, 0, sizeof *e);
}

void wps_entries_free(wps_entry *e, size_t count)
{
    for (size_t i = 0; i < count; i++)
        wps_entry_clear(&e[i]);
    free(e);
}

typedef struct list {
    wps_entry *items;
    size_t count, cap;
} list;

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Add dir if it holds a plugin.yaml. */
static wasmplug_status add_dir(list *l, const char *dir, wps_source src)
{
    char *mf = join(dir, WASMPLUG_MANIFEST_FILE);
    if (!mf)
        return WASMPLUG_ERR_NOMEM;
    if (!is_file(mf)) {
        free(mf);
        return WASMPLUG_ERR_NOT_FOUND;
    }
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        wps_entry *n = realloc(l->items, cap * sizeof *n);
        if (!n) {
            free(mf);
            return WASMPLUG_ERR_NOMEM;
        }
        l->items = n;
        l->cap = cap;
    }
    wps_entry *e = &l->items[l->count];
    memset(e, 0, sizeof *e);
    e->source = src;
    e->dir = strdup(dir);
    if (!e->dir) {
        free(mf);
        return WASMPLUG_ERR_NOMEM;
    }
    wasmplug_manifest_load(mf, &e->doc, &e->diag);
    free(mf);
    l->count++;
    return WASMPLUG_OK;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The visible subdirectory names of dir, sorted. */
static char **subdirs(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = join(dir, e->d_name);
        bool ok = p && is_dir(p);
        free(p);
        if (!ok)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        if (!(names[*n] = strdup(e->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (names)
        qsort(names, *n, sizeof *names, name_cmp);
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

const char *wps_entry_version(const wps_entry *e)
{
    if (e->doc)
        return e->doc->version;
    const char *slash = strrchr(e->dir, '/');
    return slash ? slash + 1 : e->dir;
}

/* The entry's id: the manifest's, or (for an invalid manifest, so the caller
 * can report why it is broken) the directory name: plugins/<id>/<version> in
 * the store, plugins/<name> in a project. */
const char *wps_entry_id(const wps_entry *e, char *buf, size_t size)
{
    if (e->doc)
        return e->doc->id;
    snprintf(buf, size, "%s", e->dir);
    char *s = strrchr(buf, '/');
    if (e->source == WPS_STORE && s) {
        *s = '\0';
        s = strrchr(buf, '/');
    }
    return s ? s + 1 : buf;
}

/* Newest version first within an id (store entries are already grouped). */
static int version_desc(const void *a, const void *b)
{
    const wps_entry *x = a, *y = b;
    const char *vx = wps_entry_version(x), *vy = wps_entry_version(y);
    bool sx = wasmplug_semver_valid(vx), sy = wasmplug_semver_valid(vy);
    if (sx && sy)
        return -wasmplug_semver_compare(vx, vy);
    return sx != sy ? (sx ? -1 : 1) : strcmp(vx, vy);
}

/* Add every <version> subdirectory of iddir, newest version first. */
static void add_versions(list *l, const char *iddir, wps_source source)
{
    size_t nv;
    char **vers = subdirs(iddir, &nv);
    size_t first = l->count;
    for (size_t j = 0; vers && j < nv; j++) {
        char *vdir = join(iddir, vers[j]);
        if (vdir)
            add_dir(l, vdir, source);
        free(vdir);
    }
    if (l->count > first)
        qsort(l->items + first, l->count - first, sizeof *l->items, version_desc);
    free_names(vers, vers ? nv : 0);
}

static wasmplug_status scan_store(list *l, const char *root)
{
    char *pdir = join(root, "plugins");
    if (!pdir)
        return WASMPLUG_ERR_NOMEM;
    size_t nids;
    char **ids = subdirs(pdir, &nids);
    for (size_t i = 0; i < nids; i++) {
        char *iddir = join(pdir, ids[i]);
        if (iddir)
            add_versions(l, iddir, WPS_STORE);
        free(iddir);
    }
    free_names(ids, ids ? nids : 0);
    free(pdir);
    return WASMPLUG_OK;
}

static wasmplug_status scan_project(list *l, const char *project_dir)
{
    char *pdir = join(project_dir, "plugins");
    if (!pdir)
        return WASMPLUG_ERR_NOMEM;
    size_t n;
    char **names = subdirs(pdir, &n);
    for (size_t i = 0; names && i < n; i++) {
        char *d = join(pdir, names[i]);
        if (d && add_dir(l, d, WPS_PROJECT) == WASMPLUG_ERR_NOT_FOUND) {
            /* ./plugins/<id>/<version>/plugin.yaml */
            add_versions(l, d, WPS_PROJECT);
        }
        free(d);
    }
    free_names(names, names ? n : 0);
    free(pdir);
    return WASMPLUG_OK;
}

wasmplug_status wps_list(const char *root, const char *project_dir, wps_entry **out,
                         size_t *count, char *msg, size_t msgsize)
{
    list l = {0};
    (void)msg;
    (void)msgsize;
    if (root)
        scan_store(&l, root);
    if (project_dir)
        scan_project(&l, project_dir);
    *out = l.items;
    *count = l.count;
    return WASMPLUG_OK;
}

wasmplug_status wps_find(const char *root, const char *project_dir, const char *ref,
                         wps_entry *out, char *msg, size_t msgsize)
{
    memset(out, 0, sizeof *out);
    char id[WASMPLUG_NAME_MAX * 2];
    snprintf(id, sizeof id, "%s", ref);
    char *at = strchr(id, '@');
    const char *version = NULL;
    if (at) {
        *at = '\0';
        version = at + 1;
    }
    wps_entry *all;
    size_t n;
    wps_list(root, project_dir, &all, &n, msg, msgsize);
    /* Project plugins first: a project pins what it uses. */
    const wps_source order[] = {WPS_PROJECT, WPS_STORE};
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            wps_entry *e = &all[i];
            char eid[PATH_MAX];
            if (e->source != order[pass] || strcmp(wps_entry_id(e, eid, sizeof eid), id) != 0)
                continue;
            if (version && strcmp(wps_entry_version(e), version) != 0)
                continue;
            *out = *e;
            memset(e, 0, sizeof *e);
            wps_entries_free(all, n);
            return WASMPLUG_OK;
        }
    wps_entries_free(all, n);
    if (version)
        return fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                    "plugin '%s' version %s is not installed (store %s%s)", id, version,
                    root ? root : "-", project_dir ? ", or ./plugins" : "");
    return fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                "plugin '%s' not found (looked in the store %s%s)", id, root ? root : "-",
                project_dir ? " and in ./plugins" : "");
}

bool wps_installed(const char *root, const char *ref)
{
    char id[WASMPLUG_NAME_MAX];
    size_t n = strcspn(ref, "@");
    if (!root || n == 0 || n >= sizeof id)
        return false;
    memcpy(id, ref, n);
    id[n] = '\0';
    const char *version = ref[n] ? ref + n + 1 : NULL;
    /* Names from a request: no way out of the store's directories. */
    if (strchr(id, '/') || id[0] == '.' ||
        (version && (!*version || strchr(version, '/') || version[0] == '.')))
        return false;
    char path[PATH_MAX];
    struct stat sb;
    if (version) {
        snprintf(path, sizeof path, "%s/plugins/%s/%s/plugin.yaml", root, id, version);
        return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    }
    snprintf(path, sizeof path, "%s/plugins/%s", root, id);
    size_t nv;
    char **vers = subdirs(path, &nv);
    bool found = false;
    for (size_t i = 0; vers && i < nv && !found; i++) {
        char yaml[PATH_MAX + 64];
        snprintf(yaml, sizeof yaml, "%s/%s/plugin.yaml", path, vers[i]);
        found = stat(yaml, &sb) == 0 && S_ISREG(sb.st_mode);
    }
    free_names(vers, vers ? nv : 0);
    return found;
}

/* ------------------------------------------------------------------------ */
/* Install / remove                                                         */
/* ------------------------------------------------------------------------ */

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return rc == EINVAL ? 0 : rc; /* some file systems cannot sync directories */
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write data to path and fsync it. crash_half: the test hook. */
static int write_file(const char *path, const char *data, size_t len, bool crash_half)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int rc;
    if (crash_half) {
        rc = write_all(fd, data, len / 2);
        fsync(fd);
        raise(SIGKILL); /* simulate a crash (power loss, kill -9) mid-copy */
    }
    rc = write_all(fd, data, len);
    if (!rc && fsync(fd) != 0)
        rc = errno;
    if (close(fd) != 0 && !rc)
        rc = errno;
    return rc;
}

/* A fresh directory under root/.tmp named <what>-<pid>-XXXXXX. */
static char *make_temp(const char *root, const char *what)
{
    char *tmp = join(root, ".tmp");
    if (!tmp || wps_mkdirs(tmp, 0755) != 0) {
        free(tmp);
        return NULL;
    }
    size_t n = strlen(tmp) + 64;
    char *t = malloc(n);
    if (t) {
        snprintf(t, n, "%s/%s-%ld-XXXXXX", tmp, what, (long)getpid());
        if (!mkdtemp(t)) {
            free(t);
            t = NULL;
        }
    }
    free(tmp);
    return t;
}

void wps_cleanup(const char *root)
{
    char *tmp = join(root, ".tmp");
    if (!tmp)
        return;
    DIR *d = opendir(tmp);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            const char *dash = strchr(e->d_name, '-');
            long pid = dash ? strtol(dash + 1, NULL, 10) : 0;
            /* Only leftovers of processes that are gone: a concurrent
             * install's directory is left alone. */
            if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0)
                continue;
            if (pid == (long)getpid())
                continue;
            char *p = join(tmp, e->d_name);
            if (p)
                wps_rmtree(p);
            free(p);
        }
        closedir(d);
    }
    free(tmp);
}

wasmplug_status wps_install(const char *root, const wasmplug_manifest_doc *doc,
                            const char *manifest_text, size_t manifest_len,
                            const char *module_path, bool force, char **dest, char *msg,
                            size_t msgsize)
{
    if (dest)
        *dest = NULL;
    size_t modlen = 0;
    char *modbytes = wps_read_file(module_path, &modlen);
    if (!modbytes)
        return fail(errno == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO, msg, msgsize,
                    "cannot read the module %s: %s", module_path, strerror(errno));
    wps_file files[2] = {{WASMPLUG_MANIFEST_FILE, manifest_text, manifest_len},
                         {doc->module, modbytes, modlen}};
    wasmplug_status st = wps_install_files(root, doc->id, doc->version, files, 2, force, dest,
                                           msg, msgsize);
    free(modbytes);
    return st;
}

wasmplug_status wps_install_files(const char *root, const char *id, const char *version,
                                  const wps_file *files, size_t count, bool force, char **dest,
                                  char *msg, size_t msgsize)
{
    if (dest)
        *dest = NULL;
    int rc = wps_mkdirs(root, 0755);
    if (rc)
        return fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot create the store %s: %s", root,
                    strerror(rc));
    wps_cleanup(root);

    wasmplug_status st = WASMPLUG_OK;
    char *tmp = make_temp(root, "install"), *iddir = NULL, *target = NULL, *old = NULL;
    if (!tmp) {
        st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot create a temporary directory in %s/.tmp: %s",
                  root, strerror(errno));
        goto out;
    }
    char pdir[PATH_MAX];
    snprintf(pdir, sizeof pdir, "%s/plugins", root);
    iddir = join(pdir, id);
    target = iddir ? join(iddir, version) : NULL;
    if (!iddir || !target) {
        st = fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    if (!force && is_dir(target)) {
        st = fail(WASMPLUG_ERR_DUPLICATE, msg, msgsize,
                  "%s %s is already installed (in %s); use --force to replace it", id,
                  version, target);
        goto out;
    }
    const char *crash = getenv(WPS_ENV_CRASH);
    bool crash_copy = crash && *crash && strcmp(crash, "0") != 0 && strcmp(crash, "rename") != 0;
    for (size_t i = 0; i < count; i++) {
        char *path = join(tmp, files[i].path);
        if (!path) {
            st = fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
            goto out;
        }
        /* Files may live in subdirectories of the plugin. */
        char *slash = strrchr(path, '/');
        rc = 0;
        if (slash > path + strlen(tmp)) {
            *slash = '\0';
            rc = wps_mkdirs(path, 0755);
            *slash = '/';
        }
        /* The crash hook fires while copying the last file (the module). */
        if (rc || (rc = write_file(path, files[i].data, files[i].size,
                                   crash_copy && i + 1 == count))) {
            st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot write %s: %s", path, strerror(rc));
            free(path);
            goto out;
        }
        free(path);
    }
    if ((rc = fsync_path(tmp, true)) || (rc = wps_mkdirs(iddir, 0755))) {
        st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot prepare %s: %s", iddir, strerror(rc));
        goto out;
    }
    chmod(tmp, 0755); /* mkdtemp made it 0700 */
    if (crash && !strcmp(crash, "rename"))
        raise(SIGKILL); /* test hook: everything written, not yet renamed */
    if (rename(tmp, target) != 0) {
        if (!(errno == ENOTEMPTY || errno == EEXIST) || !force) {
            if (errno == ENOTEMPTY || errno == EEXIST) /* another install won the race */
                st = fail(WASMPLUG_ERR_DUPLICATE, msg, msgsize,
                          "%s %s is already installed (in %s); use --force to replace it", id,
                          version, target);
            else
                st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot move the plugin into %s: %s",
                          target, strerror(errno));
            goto out;
        }
        /* Replace: swap the new version in atomically, then delete the old. */
#ifdef RENAME_EXCHANGE
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, target, RENAME_EXCHANGE) == 0) {
            old = tmp;
            tmp = NULL;
        } else
#endif
        {
            old = make_temp(root, "remove");
            if (!old || rmdir(old) != 0 || rename(target, old) != 0 ||
                rename(tmp, target) != 0) {
                st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot replace %s: %s", target,
                          strerror(errno));
                goto out;
            }
        }
    }
    fsync_path(iddir, true);
    fsync_path(pdir, true);
    if (dest)
        *dest = strdup(target);
out:
    if (tmp && st != WASMPLUG_OK)
        wps_rmtree(tmp);
    if (old)
        wps_rmtree(old);
    free(tmp);
    free(old);
    free(iddir);
    free(target);
    return st;
}

wasmplug_status wps_remove(const char *root, const char *id, const char *version,
                           size_t *removed, char *msg, size_t msgsize)
{
    *removed = 0;
    if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
        return fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize, "invalid plugin id '%s'", id ? id : "");
    if (version && (!*version || strchr(version, '/') || !strcmp(version, "..") ||
                    !strcmp(version, ".")))
        return fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                    "invalid version '%s' of plugin '%s' (a version such as 1.2.0, without '/')",
                    version, id);
    wps_cleanup(root);
    char iddir[PATH_MAX];
    snprintf(iddir, sizeof iddir, "%s/plugins/%s", root, id);
    size_t n;
    char **vers = subdirs(iddir, &n);
    if (!vers)
        n = 0;
    wasmplug_status st = WASMPLUG_OK;
    for (size_t i = 0; i < n; i++) {
        if (version && strcmp(vers[i], version) != 0)
            continue;
        char *vdir = join(iddir, vers[i]);
        char *trash = make_temp(root, "remove");
        /* Rename out of plugins/ first: the version disappears at once. */
        if (!vdir || !trash || rmdir(trash) != 0 || rename(vdir, trash) != 0) {
            st = fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot remove %s: %s", vdir ? vdir : id,
                      strerror(errno));
        } else {
            wps_rmtree(trash);
            (*removed)++;
        }
        free(vdir);
        free(trash);
    }
    free_names(vers, n);
    rmdir(iddir); /* only if empty */
    char pdir[PATH_MAX];
    snprintf(pdir, sizeof pdir, "%s/plugins", root);
    fsync_path(pdir, true);
    if (st == WASMPLUG_OK && *removed == 0)
        return fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize, "plugin '%s'%s%s is not installed in %s",
                    id, version ? " version " : "", version ? version : "", root);
    return st;
}
