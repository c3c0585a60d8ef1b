/*
 * package.c - plugin packages: pack a plugin directory into a gzip'ed tar
 * (deterministic), read one into memory with every entry checked (paths,
 * types, sizes), all through libarchive. See wasmplug/package.h.
 */
#include <wasmplug/package.h>
#include "services/dist_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/store.h"

void wasmplug_sha256_hex(const uint8_t *data, size_t len, char hex[65])
{
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, len);
    sodium_bin2hex(hex, 65, h, sizeof h);
}

char *wasmplug_package_filename(const char *id, const char *version)
{
    size_t n = strlen(id) + strlen(version) + sizeof WASMPLUG_PACKAGE_EXT + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s-%s%s", id, version, WASMPLUG_PACKAGE_EXT);
    return s;
}

/* A relative path with no empty, "." or ".." component and no backslash. */
static bool safe_relative(const char *p)
{
    if (!*p || *p == '/')
        return false;
    const char *s = p;
    while (*s) {
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
            return false;
        s += n;
        if (*s == '/')
            s++;
    }
    return !strchr(p, '\\');
}

/* ------------------------------------------------------------------------ */
/* Packing                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct names {
    char **items;
    size_t count, cap;
} names;

static bool names_add(names *n, const char *s)
{
    for (size_t i = 0; i < n->count; i++)
        if (!strcmp(n->items[i], s))
            return true;
    if (n->count == n->cap) {
        size_t cap = n->cap ? 2 * n->cap : 16;
        char **p = realloc(n->items, cap * sizeof *p);
        if (!p)
            return false;
        n->items = p;
        n->cap = cap;
    }
    return (n->items[n->count++] = strdup(s)) != NULL;
}

static void names_free(names *n)
{
    for (size_t i = 0; i < n->count; i++)
        free(n->items[i]);
    free(n->items);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files under dir/rel, recursively (rel: "assets"). */
static bool collect_tree(const char *dir, const char *rel, names *out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT;
    bool ok = true;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char sub[PATH_MAX], full[2 * PATH_MAX + 2];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", rel, e->d_name) >= sizeof sub)
            continue;
        snprintf(full, sizeof full, "%s/%s", dir, sub);
        struct stat sb;
        if (lstat(full, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            ok = collect_tree(dir, sub, out);
        else if (S_ISREG(sb.st_mode))
            ok = names_add(out, sub);
    }
    closedir(d);
    return ok;
}

static wasmplug_status add_file(struct archive *a, const char *dir, const char *rel, char *msg,
                                size_t msgsize)
{
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", dir, rel);
    size_t len;
    char *data = wps_read_file(full, &len);
    if (!data)
        return wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot read %s: %s", full, strerror(errno));
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, rel);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_entry_set_mtime(e, 0, 0);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    wasmplug_status st = WASMPLUG_OK;
    if (archive_write_header(a, e) != ARCHIVE_OK ||
        (len && archive_write_data(a, data, len) != (la_ssize_t)len))
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot add %s to the package: %s", rel,
                  archive_error_string(a));
    archive_entry_free(e);
    free(data);
    return st;
}

wasmplug_status wasmplug_package_pack(const char *dir, const char *out, char **out_path,
                                      char *msg, size_t msgsize)
{
    if (out_path)
        *out_path = NULL;
    char mfpath[PATH_MAX];
    snprintf(mfpath, sizeof mfpath, "%s/%s", dir, WASMPLUG_MANIFEST_FILE);
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_diag diag;
    wasmplug_status st = wasmplug_manifest_load(mfpath, &doc, &diag);
    if (st) {
        if (diag.line)
            return wpd_fail(st, msg, msgsize, "%s:%u:%u: %s", diag.file, diag.line, diag.column,
                        diag.message);
        return wpd_fail(st, msg, msgsize, "%s", diag.message);
    }
    names files = {0};
    char *target = NULL, *tmp = NULL;
    struct archive *a = NULL;
    if (!safe_relative(doc->module)) {
        st = wpd_fail(WASMPLUG_ERR_MANIFEST, msg, msgsize,
                  "%s: the module path '%s' must stay inside the plugin directory", mfpath,
                  doc->module);
        goto out;
    }
    char modpath[PATH_MAX];
    snprintf(modpath, sizeof modpath, "%s/%s", dir, doc->module);
    if (access(modpath, R_OK) != 0) {
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize, "the module %s (named by %s) cannot be read: %s",
                  modpath, mfpath, strerror(errno));
        goto out;
    }
    /* plugin.yaml first (readers find it at once), then the rest sorted. */
    DIR *d = opendir(dir);
    struct dirent *e;
    names extra = {0};
    bool ok = names_add(&extra, doc->module);
    while (ok && d && (e = readdir(d))) {
        if (!strncmp(e->d_name, "README", 6) || !strncmp(e->d_name, "LICENSE", 7)) {
            char full[PATH_MAX];
            struct stat sb;
            snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
            if (lstat(full, &sb) == 0 && S_ISREG(sb.st_mode))
                ok = names_add(&extra, e->d_name);
        }
    }
    if (d)
        closedir(d);
    ok = ok && collect_tree(dir, "assets", &extra);
    ok = ok && names_add(&files, WASMPLUG_MANIFEST_FILE);
    if (ok)
        qsort(extra.items, extra.count, sizeof *extra.items, str_cmp);
    for (size_t i = 0; ok && i < extra.count; i++)
        ok = names_add(&files, extra.items[i]);
    names_free(&extra);
    if (!ok) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory listing %s", dir);
        goto out;
    }

    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        char *name = wasmplug_package_filename(doc->id, doc->version);
        size_t n = strlen(out) + (name ? strlen(name) : 0) + 2;
        target = name ? malloc(n) : NULL;
        if (target)
            snprintf(target, n, "%s/%s", out, name);
        free(name);
    } else {
        target = strdup(out);
    }
    size_t tn = target ? strlen(target) + 16 : 0;
    tmp = target ? malloc(tn) : NULL;
    if (!tmp) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    snprintf(tmp, tn, "%s.tmp.%ld", target, (long)getpid());
    a = archive_write_new();
    if (!a || archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
        archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
        archive_write_set_options(a, "gzip:!timestamp") != ARCHIVE_OK ||
        archive_write_open_filename(a, tmp) != ARCHIVE_OK) {
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot create %s: %s", tmp,
                  a ? archive_error_string(a) : "out of memory");
        goto out;
    }
    for (size_t i = 0; st == WASMPLUG_OK && i < files.count; i++)
        st = add_file(a, dir, files.items[i], msg, msgsize);
    if (archive_write_close(a) != ARCHIVE_OK && st == WASMPLUG_OK)
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot write %s: %s", tmp,
                  archive_error_string(a));
    if (st == WASMPLUG_OK && rename(tmp, target) != 0)
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot rename %s to %s: %s", tmp, target,
                  strerror(errno));
    if (st != WASMPLUG_OK)
        unlink(tmp);
    else if (out_path) {
        *out_path = target;
        target = NULL;
    }
out:
    if (a)
        archive_write_free(a);
    names_free(&files);
    free(target);
    free(tmp);
    wasmplug_manifest_doc_free(doc);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Reading                                                                  */
/* ------------------------------------------------------------------------ */

void wasmplug_package_free(wasmplug_package *pkg)
{
    if (!pkg)
        return;
    for (size_t i = 0; i < pkg->count; i++) {
        free(pkg->files[i].path);
        free(pkg->files[i].data);
    }
    free(pkg->files);
    wasmplug_manifest_doc_free(pkg->doc);
    free(pkg);
}

static const char *entry_kind(mode_t type)
{
    switch (type) {
    case AE_IFLNK:
        return "a symbolic link";
    case AE_IFCHR:
        return "a character device";
    case AE_IFBLK:
        return "a block device";
    case AE_IFIFO:
        return "a FIFO";
    case AE_IFSOCK:
        return "a socket";
    default:
        return "not a regular file";
    }
}

/* Read one entry's data, stopping once it exceeds the limits. */
static wasmplug_status read_entry(struct archive *a, const char *name, const char *path,
                                  uint64_t max_file, uint64_t *total, uint64_t max_total,
                                  wasmplug_package_file *f, char *msg, size_t msgsize)
{
    size_t cap = 0;
    for (;;) {
        const void *buf;
        size_t n;
        la_int64_t off;
        int r = archive_read_data_block(a, &buf, &n, &off);
        if (r == ARCHIVE_EOF)
            return WASMPLUG_OK;
        if (r != ARCHIVE_OK)
            return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s: cannot read '%s': %s", name,
                        path, archive_error_string(a));
        /* Sparse entries give offsets: refuse holes rather than track them. */
        if ((uint64_t)off != f->size)
            return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "%s: '%s' is a sparse file, which packages may not hold", name, path);
        if (f->size + n > max_file)
            return wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                        "%s: '%s' is larger than the limit of %llu bytes per file", name, path,
                        (unsigned long long)max_file);
        if (*total + n > max_total)
            return wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                        "%s: the contents exceed the limit of %llu bytes (at '%s')", name,
                        (unsigned long long)max_total, path);
        if (f->size + n > cap) {
            size_t nc = cap ? cap : 4096;
            while (nc < f->size + n)
                nc *= 2;
            uint8_t *p = realloc(f->data, nc);
            if (!p)
                return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory reading %s", path);
            f->data = p;
            cap = nc;
        }
        memcpy(f->data + f->size, buf, n);
        f->size += n;
        *total += n;
    }
}

wasmplug_status wasmplug_package_read(const uint8_t *data, size_t len, const char *name,
                                      const wasmplug_package_limits *limits,
                                      wasmplug_package **out, char *msg, size_t msgsize)
{
    *out = NULL;
    if (!name)
        name = "package";
    uint64_t max_file = limits && limits->max_file_size ? limits->max_file_size
                                                        : WASMPLUG_PACKAGE_MAX_FILE;
    uint64_t max_total = limits && limits->max_total_size ? limits->max_total_size
                                                          : WASMPLUG_PACKAGE_MAX_TOTAL;
    size_t max_entries = limits && limits->max_entries ? limits->max_entries
                                                       : WASMPLUG_PACKAGE_MAX_ENTRIES;
    wasmplug_package *pkg = calloc(1, sizeof *pkg);
    struct archive *a = archive_read_new();
    if (!pkg || !a) {
        free(pkg);
        if (a)
            archive_read_free(a);
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    wasmplug_status st = WASMPLUG_OK;
    archive_read_support_filter_gzip(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                  "%s is not a wasmplug package (a gzip-compressed tar archive): %s", name,
                  archive_error_string(a));
        goto out;
    }
    uint64_t total = 0;
    struct archive_entry *e;
    int r;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *path = archive_entry_pathname(e);
        if (!path)
            path = "";
        const char *p = path;
        while (p[0] == '.' && p[1] == '/') /* "./x" as tar -C writes it */
            p += 2;
        if (path[0] == '/' || !safe_relative(p)) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                      "%s: refusing the entry '%s': paths must be relative, without '..' or "
                      "empty components", name, path);
            goto out;
        }
        mode_t type = archive_entry_filetype(e);
        if (type == AE_IFDIR)
            continue;
        if (archive_entry_hardlink(e) || archive_entry_symlink(e)) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                      "%s: refusing the entry '%s': packages may not hold links", name, path);
            goto out;
        }
        if (type != AE_IFREG) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                      "%s: refusing the entry '%s': it is %s", name, path, entry_kind(type));
            goto out;
        }
        if (pkg->count == max_entries) {
            st = wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize, "%s: more than %zu entries", name,
                      max_entries);
            goto out;
        }
        for (size_t i = 0; i < pkg->count; i++) {
            if (!strcmp(pkg->files[i].path, p)) {
                st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s: '%s' appears twice", name, p);
                goto out;
            }
        }
        if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > max_file) {
            st = wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                      "%s: '%s' is larger than the limit of %llu bytes per file", name, p,
                      (unsigned long long)max_file);
            goto out;
        }
        wasmplug_package_file *files = realloc(pkg->files, (pkg->count + 1) * sizeof *files);
        if (!files) {
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
            goto out;
        }
        pkg->files = files;
        wasmplug_package_file *f = &files[pkg->count++];
        memset(f, 0, sizeof *f);
        if (!(f->path = strdup(p))) {
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
            goto out;
        }
        if ((st = read_entry(a, name, p, max_file, &total, max_total, f, msg, msgsize)))
            goto out;
    }
    if (r != ARCHIVE_EOF) {
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s is damaged or truncated: %s", name,
                  archive_error_string(a));
        goto out;
    }
    for (size_t i = 0; i < pkg->count; i++)
        if (!strcmp(pkg->files[i].path, WASMPLUG_MANIFEST_FILE))
            pkg->manifest = &pkg->files[i];
    if (!pkg->manifest) {
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s holds no %s", name,
                  WASMPLUG_MANIFEST_FILE);
        goto out;
    }
    wasmplug_manifest_diag diag;
    st = wasmplug_manifest_parse((const char *)pkg->manifest->data, pkg->manifest->size,
                                 WASMPLUG_MANIFEST_FILE, &pkg->doc, &diag);
    if (st) {
        wpd_fail(st, msg, msgsize, "%s: %s:%u:%u: %s", name, diag.file, diag.line, diag.column,
             diag.message);
        goto out;
    }
    for (size_t i = 0; i < pkg->count; i++)
        if (!strcmp(pkg->files[i].path, pkg->doc->module))
            pkg->module = &pkg->files[i];
    if (!pkg->module)
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                  "%s: the module '%s' named by the manifest is not in the package", name,
                  pkg->doc->module);
out:
    archive_read_free(a);
    if (st != WASMPLUG_OK)
        wasmplug_package_free(pkg);
    else
        *out = pkg;
    return st;
}
