/*
 * registry.c - registry indexes: fetching and verifying one (signature by a
 * trusted key, rollback and freeze protection), choosing versions from it,
 * and publishing a package into a registry directory (copy, sign, re-sign
 * the index). See wasmplug/registry.h for the layout.
 */
#include "services/dist_internal.h"
#include "services/store.h"
#include "services/transfer.h"

#include <wasmplug/semver.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define INDEX_COMMENT "wasmplug index version"
#define SIG_MAX 4096

void wpd_fetch_opts(const wasmplug_dist_options *o, const char *what, uint64_t max,
                    struct wps_fetch_opts *f)
{
    memset(f, 0, sizeof *f);
    f->max_size = max;
    f->retries = o->retries < 0 ? 0 : o->retries ? o->retries : 3;
    f->backoff_ms = o->backoff_ms;
    f->what = what;
    f->progress = o->progress;
    f->progress_ud = o->progress_user;
}

void wpd_index_clear(wpd_index *ix)
{
    free(ix->reg.name);
    free(ix->reg.url);
    json_decref(ix->json);
    memset(ix, 0, sizeof *ix);
}

/* Fetch the index and its signature and verify them (no JSON checks yet). */
static wasmplug_status fetch_verified(const wasmplug_dist_options *o, const wasmplug_registry *reg,
                                      const wasmplug_pubkey *keys, size_t nkeys, uint8_t **data,
                                      size_t *len, char *msg, size_t msgsize)
{
    char *url = wps_url_join(reg->url, WASMPLUG_INDEX_FILE);
    char *sigurl = wps_url_join(reg->url, WPD_INDEX_SIG);
    uint8_t *sig = NULL;
    size_t siglen = 0;
    wasmplug_status st = WASMPLUG_OK;
    if (!url || !sigurl) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    wps_fetch_opts f;
    char what[128], why[1024];
    snprintf(what, sizeof what, "%s index", reg->name);
    wpd_fetch_opts(o, what, WPD_INDEX_MAX, &f);
    f.progress = NULL; /* the index is small: no progress bar */
    if ((st = wps_fetch(url, &f, data, len, msg, msgsize)))
        goto out;
    f.max_size = SIG_MAX;
    if ((st = wps_fetch(sigurl, &f, &sig, &siglen, why, sizeof why))) {
        st = wpd_fail(st == WASMPLUG_ERR_NOT_FOUND ? WASMPLUG_ERR_PERMISSION_DENIED : st, msg,
                      msgsize, "registry '%s': the index has no signature: %s", reg->name, why);
        goto out;
    }
    if (reg->pinned) { /* only the registry's own key may sign its index */
        keys = &reg->index_key;
        nkeys = 1;
    }
    if (!nkeys) {
        st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                      "registry '%s': no trusted keys to verify its index with; add the "
                      "publisher's key with `wasmplug trust add KEY.pub`", reg->name);
        goto out;
    }
    st = wasmplug_verify(keys, nkeys, (const char *)sig, siglen, *data, *len, NULL, NULL, why,
                         sizeof why);
    if (st)
        wpd_fail(st, msg, msgsize, "registry '%s': refusing its index: %s", reg->name, why);
out:
    if (st) {
        free(*data);
        *data = NULL;
    }
    free(sig);
    free(url);
    free(sigurl);
    return st;
}

wasmplug_status wpd_index_load(const wasmplug_dist_options *o, const wasmplug_registry *reg,
                               const wasmplug_pubkey *keys, size_t nkeys, wpd_index *out,
                               char *msg, size_t msgsize)
{
    memset(out, 0, sizeof *out);
    uint8_t *data = NULL;
    size_t len = 0;
    wasmplug_status st = fetch_verified(o, reg, keys, nkeys, &data, &len, msg, msgsize);
    if (st == WASMPLUG_ERR_PERMISSION_DENIED && nkeys) {
        /* A publisher replaces the signature and then the index: a reader
         * between the two renames sees a mismatch. Look once more. */
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        st = fetch_verified(o, reg, keys, nkeys, &data, &len, msg, msgsize);
    }
    if (st)
        return st;
    json_error_t err;
    json_t *j = json_loadb((const char *)data, len, 0, &err);
    free(data);
    if (!j)
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "registry '%s': index.json:%d:%d: %s", reg->name, err.line, err.column,
                        err.text);
    json_t *fmt = json_object_get(j, "wasmplug_index"), *ver = json_object_get(j, "version");
    json_t *plugins = json_object_get(j, "plugins"), *exp = json_object_get(j, "expires");
    if (!json_is_integer(fmt) || json_integer_value(fmt) != WPD_INDEX_FORMAT ||
        !json_is_integer(ver) || json_integer_value(ver) < 1 || !json_is_object(plugins) ||
        (exp && !json_is_integer(exp))) {
        json_decref(j);
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "registry '%s': index.json is not a wasmplug index (format %d with an "
                        "integer version, plugins and expires)", reg->name, WPD_INDEX_FORMAT);
    }
    uint64_t v = (uint64_t)json_integer_value(ver);
    if (v < reg->seen_version) {
        json_decref(j);
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                        "registry '%s' served index version %llu, older than version %llu "
                        "accepted before: refusing a rolled-back index (a stale mirror or an "
                        "attack)", reg->name, (unsigned long long)v,
                        (unsigned long long)reg->seen_version);
    }
    long long expires = exp ? (long long)json_integer_value(exp) : 0;
    if (exp && expires < (long long)time(NULL)) {
        json_decref(j);
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                        "registry '%s': index version %llu expired at %lld (Unix time): "
                        "refusing a frozen index; the publisher must re-sign it",
                        reg->name, (unsigned long long)v, expires);
    }
    if (v > reg->seen_version) {
        st = wpd_registry_seen(o->store, reg->name, v, msg, msgsize);
        if (st) {
            json_decref(j);
            return st;
        }
    }
    out->json = j;
    out->plugins = plugins;
    out->reg.name = strdup(reg->name);
    out->reg.url = strdup(reg->url);
    out->reg.priority = reg->priority;
    out->reg.pinned = reg->pinned;
    out->reg.index_key = reg->index_key;
    out->reg.seen_version = v;
    if (!out->reg.name || !out->reg.url) {
        wpd_index_clear(out);
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    return WASMPLUG_OK;
}

const char *wpd_newest(json_t *plugin, const char *range)
{
    json_t *versions = json_object_get(plugin, "versions");
    const char *best = NULL, *v;
    json_t *entry;
    json_object_foreach(versions, v, entry) {
        if (!json_is_object(entry) || !wasmplug_semver_satisfies(v, range ? range : "*"))
            continue;
        if (!best || wasmplug_semver_compare(v, best) > 0)
            best = v;
    }
    return best;
}

/* ------------------------------------------------------------------------ */
/* Publishing                                                               */
/* ------------------------------------------------------------------------ */

static wasmplug_status write_or_fail(const char *path, const void *data, size_t len, char *msg,
                                     size_t msgsize)
{
    int rc = wpd_write_atomic(path, data, len);
    return rc ? wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot write %s: %s", path,
                         strerror(rc))
              : WASMPLUG_OK;
}

/* Add the package's entry to the index object. */
static wasmplug_status index_add(json_t *index, const wasmplug_package *pkg, const char *file,
                                 const char *sha, size_t size, const wasmplug_strlist *keywords,
                                 char *msg, size_t msgsize)
{
    json_t *plugins = json_object_get(index, "plugins");
    json_t *plugin = json_object_get(plugins, pkg->doc->id);
    if (!plugin) {
        plugin = json_pack("{s:s,s:[],s:{}}", "description", "", "keywords", "versions");
        json_object_set_new(plugins, pkg->doc->id, plugin);
    }
    json_t *versions = json_object_get(plugin, "versions");
    json_t *old = json_object_get(versions, pkg->doc->version);
    const char *old_sha = json_string_value(json_object_get(old, "sha256"));
    if (old_sha && strcmp(old_sha, sha) != 0)
        return wpd_fail(WASMPLUG_ERR_DUPLICATE, msg, msgsize,
                        "%s %s is already published with other contents (sha256 %s); "
                        "published versions are immutable: publish a new version",
                        pkg->doc->id, pkg->doc->version, old_sha);
    wasmplug_permission *perms;
    size_t np;
    if (wasmplug_manifest_permissions(pkg->doc, NULL, 0, &perms, &np))
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    json_t *pl = json_array();
    for (size_t i = 0; i < np; i++)
        json_array_append_new(pl, json_string(perms[i].name));
    wasmplug_permissions_free(perms, np);
    const char *desc = pkg->doc->description ? pkg->doc->description : "";
    json_object_set_new(versions, pkg->doc->version,
                        json_pack("{s:s,s:s,s:I,s:s,s:o}", "file", file, "sha256", sha, "size",
                                  (json_int_t)size, "description", desc, "permissions", pl));
    /* The plugin's description is its newest version's. */
    if (!strcmp(wpd_newest(plugin, NULL) ? wpd_newest(plugin, NULL) : "", pkg->doc->version))
        json_object_set_new(plugin, "description", json_string(desc));
    json_t *kw = json_object_get(plugin, "keywords");
    for (size_t i = 0; keywords && i < keywords->count; i++) {
        bool have = false;
        size_t k;
        json_t *x;
        json_array_foreach(kw, k, x) {
            have = have || !strcmp(json_string_value(x) ? json_string_value(x) : "",
                                   keywords->items[i]);
        }
        if (!have)
            json_array_append_new(kw, json_string(keywords->items[i]));
    }
    return WASMPLUG_OK;
}

/* Copy one package (and its signature, made with key when it has none)
 * into pkgdir and add it to the index. */
static wasmplug_status publish_one(json_t *index, const char *pkgdir, const char *package_path,
                                   const wasmplug_seckey *key, const wasmplug_strlist *keywords,
                                   char *msg, size_t msgsize)
{
    size_t len = 0, siglen = 0;
    uint8_t *data = (uint8_t *)wps_read_file(package_path, &len);
    if (!data)
        return wpd_fail(errno == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO, msg, msgsize,
                        "cannot read %s: %s", package_path, strerror(errno));
    wasmplug_package *pkg = NULL;
    char *sig = NULL, *name = NULL, *pkgfile = NULL, *sigpath = NULL;
    wasmplug_status st = wasmplug_package_read(data, len, package_path, NULL, &pkg, msg, msgsize);
    if (st)
        goto out;
    char sha[65];
    wasmplug_sha256_hex(data, len, sha);
    name = wasmplug_package_filename(pkg->doc->id, pkg->doc->version);
    pkgfile = name ? wpd_join(pkgdir, name) : NULL;
    size_t n = strlen(package_path) + (pkgfile ? strlen(pkgfile) : 0) + sizeof WPD_SIG_EXT;
    sigpath = pkgfile ? malloc(n) : NULL;
    if (!sigpath) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    snprintf(sigpath, n, "%s%s", package_path, WPD_SIG_EXT);
    sig = wps_read_file(sigpath, &siglen);
    if (!sig) {
        char tc[512];
        snprintf(tc, sizeof tc, "wasmplug package %s@%s sha256:%s", pkg->doc->id,
                 pkg->doc->version, sha);
        if ((st = wasmplug_sign(key, data, len, tc, NULL, &sig, msg, msgsize)))
            goto out;
        siglen = strlen(sig);
    }
    char rel[1024];
    snprintf(rel, sizeof rel, "packages/%s", name);
    if ((st = index_add(index, pkg, rel, sha, len, keywords, msg, msgsize)))
        goto out;
    snprintf(sigpath, n, "%s%s", pkgfile, WPD_SIG_EXT);
    if (!(st = write_or_fail(pkgfile, data, len, msg, msgsize)))
        st = write_or_fail(sigpath, sig, siglen, msg, msgsize);
out:
    wasmplug_package_free(pkg);
    free(data);
    free(sig);
    free(name);
    free(pkgfile);
    free(sigpath);
    return st;
}

wasmplug_status wasmplug_registry_publish(const char *dir, const char *const *package_paths,
                                          size_t count, const wasmplug_seckey *key,
                                          const wasmplug_strlist *keywords,
                                          unsigned expires_days, char *msg, size_t msgsize)
{
    char *pkgdir = wpd_join(dir, "packages");
    int rc = pkgdir ? wps_mkdirs(pkgdir, 0755) : ENOMEM;
    if (rc) {
        free(pkgdir);
        return wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot create %s/packages: %s", dir,
                        strerror(rc));
    }
    char *lockpath = wpd_join(dir, ".publish.lock");
    int lockfd = lockpath ? open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    wasmplug_status st = WASMPLUG_OK;
    char *idxpath = wpd_join(dir, WASMPLUG_INDEX_FILE), *idxsigpath = wpd_join(dir, WPD_INDEX_SIG),
         *idxtext = NULL, *idxsig = NULL;
    json_t *index = NULL;
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot lock %s: %s",
                      lockpath ? lockpath : dir, strerror(errno));
        goto out;
    }
    if (!idxpath || !idxsigpath) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    if ((st = wpd_read_json(idxpath, &index, msg, msgsize)))
        goto out;
    if (!index)
        index = json_pack("{s:i,s:i,s:{}}", "wasmplug_index", WPD_INDEX_FORMAT, "version", 0,
                          "plugins");
    if (!json_is_object(json_object_get(index, "plugins"))) {
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s is not a wasmplug index",
                      idxpath);
        goto out;
    }
    /* Packages first, then the index signature, then the index: a reader
     * never sees an index naming a package that is not there yet. */
    for (size_t i = 0; !st && i < count; i++)
        st = publish_one(index, pkgdir, package_paths[i], key, keywords, msg, msgsize);
    if (st)
        goto out;
    json_int_t version = json_integer_value(json_object_get(index, "version")) + 1;
    json_object_set_new(index, "version", json_integer(version));
    json_object_set_new(index, "expires",
                        json_integer((json_int_t)time(NULL) +
                                     86400 * (json_int_t)(expires_days ? expires_days : 30)));
    idxtext = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
    if (!idxtext) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    char tc[128];
    snprintf(tc, sizeof tc, "%s %lld", INDEX_COMMENT, (long long)version);
    if (!(st = wasmplug_sign(key, (const uint8_t *)idxtext, strlen(idxtext), tc, NULL, &idxsig,
                             msg, msgsize)) &&
        !(st = write_or_fail(idxsigpath, idxsig, strlen(idxsig), msg, msgsize)))
        st = write_or_fail(idxpath, idxtext, strlen(idxtext), msg, msgsize);
out:
    if (lockfd >= 0)
        close(lockfd);
    json_decref(index);
    free(idxpath);
    free(idxsigpath);
    free(idxtext);
    free(idxsig);
    free(pkgdir);
    free(lockpath);
    return st;
}
