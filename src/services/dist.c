/*
 * dist.c - the distribution client: search the registries, install a
 * version (resolve, download, check size and digest, verify the signature,
 * read the package, validate the module, consent, atomic install, lock
 * file), update, outdated, rollback and locked installs. See
 * wasmplug/registry.h.
 */
#include "services/dist_internal.h"
#include "services/grants.h"
#include "services/store.h"
#include "services/transfer.h"

#include <wasmplug/semver.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_MAX_DOWNLOAD (64ULL << 20)

/* Keys, registries and their indexes, loaded once per operation. */
typedef struct ctx {
    const wasmplug_dist_options *o;
    wasmplug_pubkey *keys;
    size_t nkeys;
    wpd_index *ix;
    size_t nix;
    bool loaded;
} ctx;

static void ctx_free(ctx *c)
{
    for (size_t i = 0; i < c->nix; i++)
        wpd_index_clear(&c->ix[i]);
    free(c->ix);
    free(c->keys);
    memset(c, 0, sizeof *c);
}

static wasmplug_status ctx_keys(ctx *c, char *msg, size_t msgsize)
{
    if (c->keys || c->nkeys)
        return WASMPLUG_OK;
    return wpd_trusted_pubkeys(c->o->store, &c->keys, &c->nkeys, msg, msgsize);
}

/* Load every registry's verified index (once). */
static wasmplug_status ctx_load(ctx *c, char *msg, size_t msgsize)
{
    if (c->loaded)
        return WASMPLUG_OK;
    wasmplug_status st = ctx_keys(c, msg, msgsize);
    wasmplug_registry *regs = NULL;
    size_t n = 0;
    if (st || (st = wasmplug_registry_list(c->o->store, &regs, &n, msg, msgsize)))
        return st;
    if (!n) {
        wasmplug_registries_free(regs, n);
        return wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                        "no registries configured: add one with `wasmplug registry add NAME "
                        "URL`");
    }
    c->ix = calloc(n, sizeof *c->ix);
    if (!c->ix)
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        st = wpd_index_load(c->o, &regs[i], c->keys, c->nkeys, &c->ix[i], msg, msgsize);
        if (!st)
            c->nix++;
    }
    wasmplug_registries_free(regs, n);
    c->loaded = st == WASMPLUG_OK;
    return st;
}

static wpd_index *ctx_registry(ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nix; i++)
        if (!strcmp(c->ix[i].reg.name, name))
            return &c->ix[i];
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Search                                                                   */
/* ------------------------------------------------------------------------ */

static bool contains_ci(const char *hay, const char *needle, size_t nlen)
{
    if (!hay)
        return false;
    for (; *hay; hay++)
        if (!strncasecmp(hay, needle, nlen))
            return true;
    return false;
}

/* Every word of query occurs in the id, the description or a keyword. */
static bool matches(const char *query, const char *id, json_t *plugin)
{
    const char *desc = json_string_value(json_object_get(plugin, "description"));
    json_t *kw = json_object_get(plugin, "keywords");
    const char *q = query ? query : "";
    for (;;) {
        while (*q && isspace((unsigned char)*q))
            q++;
        if (!*q)
            return true;
        size_t n = 0;
        while (q[n] && !isspace((unsigned char)q[n]))
            n++;
        bool found = contains_ci(id, q, n) || contains_ci(desc, q, n);
        size_t i;
        json_t *k;
        json_array_foreach(kw, i, k) {
            found = found || contains_ci(json_string_value(k), q, n);
        }
        if (!found)
            return false;
        q += n;
    }
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static int hit_cmp(const void *a, const void *b)
{
    return strcmp(((const wasmplug_search_hit *)a)->id, ((const wasmplug_search_hit *)b)->id);
}

wasmplug_status wasmplug_dist_search(const wasmplug_dist_options *o, const char *query,
                                     wasmplug_search_hit **hits, size_t *count, char *msg,
                                     size_t msgsize)
{
    *hits = NULL;
    *count = 0;
    ctx c = {.o = o};
    wasmplug_status st = ctx_load(&c, msg, msgsize);
    size_t cap = 0;
    for (size_t r = 0; !st && r < c.nix; r++) {
        const char *id;
        json_t *plugin;
        json_object_foreach(c.ix[r].plugins, id, plugin) {
            const char *newest = wpd_newest(plugin, NULL);
            if (!newest || !matches(query, id, plugin))
                continue;
            bool dup = false;
            for (size_t i = 0; i < *count && !dup; i++)
                dup = !strcmp((*hits)[i].id, id); /* a higher-priority registry has it */
            if (dup)
                continue;
            if (*count == cap) {
                cap = cap ? 2 * cap : 64;
                wasmplug_search_hit *g = realloc(*hits, cap * sizeof *g);
                if (!g) {
                    st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
                    break;
                }
                *hits = g;
            }
            wasmplug_search_hit *h = &(*hits)[(*count)++];
            memset(h, 0, sizeof *h);
            json_t *ver = json_object_get(json_object_get(plugin, "versions"), newest);
            h->registry = strdup(c.ix[r].reg.name);
            h->id = strdup(id);
            h->version = strdup(newest);
            h->description = dup_or_empty(json_string_value(json_object_get(plugin, "description")));
            h->size = (uint64_t)json_integer_value(json_object_get(ver, "size"));
            json_t *kw = json_object_get(plugin, "keywords");
            size_t nk = json_array_size(kw);
            h->keywords.items = nk ? calloc(nk, sizeof(char *)) : NULL;
            for (size_t k = 0; h->keywords.items && k < nk; k++)
                h->keywords.items[h->keywords.count++] =
                    dup_or_empty(json_string_value(json_array_get(kw, k)));
            if (!h->registry || !h->id || !h->version || !h->description) {
                st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
                break;
            }
        }
    }
    ctx_free(&c);
    if (st) {
        wasmplug_search_hits_free(*hits, *count);
        *hits = NULL;
        *count = 0;
    } else if (*count > 1) {
        qsort(*hits, *count, sizeof **hits, hit_cmp);
    }
    return st;
}

void wasmplug_search_hits_free(wasmplug_search_hit *hits, size_t count)
{
    for (size_t i = 0; hits && i < count; i++) {
        free(hits[i].registry);
        free(hits[i].id);
        free(hits[i].version);
        free(hits[i].description);
        for (size_t k = 0; k < hits[i].keywords.count; k++)
            free(hits[i].keywords.items[k]);
        free(hits[i].keywords.items);
    }
    free(hits);
}

/* ------------------------------------------------------------------------ */
/* Installed versions and their records                                     */
/* ------------------------------------------------------------------------ */

/* The installed versions of id, newest first (store only). */
typedef struct installed {
    char **versions;
    size_t count;
} installed;

static void installed_free(installed *in)
{
    for (size_t i = 0; i < in->count; i++)
        free(in->versions[i]);
    free(in->versions);
    memset(in, 0, sizeof *in);
}

static wasmplug_status list_installed(const char *store, const char *id, installed *out,
                                      char *msg, size_t msgsize)
{
    memset(out, 0, sizeof *out);
    wps_entry *all;
    size_t n;
    wasmplug_status st = wps_list(store, NULL, &all, &n, msg, msgsize);
    if (st)
        return st;
    out->versions = n ? calloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; out->versions && i < n; i++)
        if (all[i].doc && !strcmp(all[i].doc->id, id))
            out->versions[out->count++] = strdup(all[i].doc->version);
    wps_entries_free(all, n);
    return WASMPLUG_OK;
}

static json_t *read_record(const char *store, const char *id, const char *version)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/plugins/%s/%s/%s", store, id, version,
             WASMPLUG_INSTALL_RECORD);
    json_t *j = NULL;
    char ignored[64];
    wpd_read_json(path, &j, ignored, sizeof ignored);
    return j;
}

/* ------------------------------------------------------------------------ */
/* Lock file                                                                */
/* ------------------------------------------------------------------------ */

static int lock_cmp(const void *a, const void *b)
{
    json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
    const char *ix = json_string_value(json_object_get(x, "id"));
    const char *iy = json_string_value(json_object_get(y, "id"));
    return strcmp(ix ? ix : "", iy ? iy : "");
}

/* Set id's line of the lock file (version NULL: drop it). */
static wasmplug_status lock_set(const char *dir, const char *id, const char *version,
                                const char *sha, const char *registry, char *msg,
                                size_t msgsize)
{
    char *path = wpd_join(dir, WASMPLUG_LOCK_FILE);
    if (!path)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    json_t *lock = NULL;
    wasmplug_status st = wpd_read_json(path, &lock, msg, msgsize);
    if (!st && !lock)
        lock = json_pack("{s:i,s:[]}", "lockfile", 1, "plugins");
    json_t *list = json_object_get(lock, "plugins");
    if (!st && !json_is_array(list))
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                      "%s: expected {\"lockfile\": 1, \"plugins\": [...]}", path);
    if (!st) {
        for (size_t i = json_array_size(list); i-- > 0;) {
            const char *lid = json_string_value(json_object_get(json_array_get(list, i), "id"));
            if (lid && !strcmp(lid, id))
                json_array_remove(list, i);
        }
        if (version)
            json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s}", "id", id, "version",
                                                  version, "sha256", sha, "registry", registry));
        size_t n = json_array_size(list);
        json_t **items = malloc((n ? n : 1) * sizeof *items);
        if (!items) {
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        } else {
            for (size_t i = 0; i < n; i++)
                items[i] = json_incref(json_array_get(list, i));
            qsort(items, n, sizeof *items, lock_cmp);
            json_array_clear(list);
            for (size_t i = 0; i < n; i++)
                json_array_append_new(list, items[i]);
            free(items);
            st = wpd_write_json(path, lock, msg, msgsize);
        }
    }
    json_decref(lock);
    free(path);
    return st;
}

/* Point the lock file at the newest installed version of id (after a
 * rollback), from its install record. */
static wasmplug_status lock_from_record(const char *store, const char *dir, const char *id,
                                        const char *version, char *msg, size_t msgsize)
{
    json_t *rec = version ? read_record(store, id, version) : NULL;
    const char *reg = json_string_value(json_object_get(rec, "registry"));
    const char *sha = json_string_value(json_object_get(rec, "sha256"));
    wasmplug_status st = lock_set(dir, id, reg && sha ? version : NULL, sha, reg, msg, msgsize);
    json_decref(rec);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Installing one package                                                   */
/* ------------------------------------------------------------------------ */

/* Where the bytes came from and what they must be. */
typedef struct origin {
    const char *registry;     /* NULL: a local file */
    const char *range;        /* recorded for update */
    const char *id, *version; /* what the index lists (NULL: local) */
    const char *label;        /* for messages: URL or path */
} origin;

static wasmplug_status check_module(const wasmplug_package *pkg, const char *label, char *msg,
                                    size_t msgsize)
{
    wasmplug_engine *e = NULL;
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_engine_new(NULL, &e);
    if (st)
        return wpd_fail(st, msg, msgsize, "cannot create an engine: %s", wasmplug_strerror(st));
    st = wasmplug_module_new(e, pkg->module->data, pkg->module->size, &m, &err);
    if (st)
        wpd_fail(st, msg, msgsize, "%s: the module %s is not valid: %s (byte offset %llu)", label,
                 pkg->module->path, err.message, (unsigned long long)err.offset);
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
    return st;
}

/* The consent step: compare with the installed version's recorded grants;
 * *granted gets what the operator grants. */
static wasmplug_status consent(const wasmplug_dist_options *o, const wasmplug_package *pkg,
                               const char *installed_version, const wasmplug_permission *req,
                               size_t nreq, wps_grants *granted, char *msg, size_t msgsize)
{
    wps_grants prev = {NULL, 0};
    bool have_prev = false;
    if (installed_version) {
        char dir[4096], ignored[256];
        snprintf(dir, sizeof dir, "%s/plugins/%s/%s", o->store, pkg->doc->id, installed_version);
        have_prev = wps_grants_load(dir, &prev, ignored, sizeof ignored) == WASMPLUG_OK;
    }
    wasmplug_permission *added = calloc(nreq ? nreq : 1, sizeof *added);
    bool *grant = calloc(nreq ? nreq : 1, sizeof *grant);
    if (!added || !grant) {
        free(added);
        free(grant);
        wps_grants_free(&prev);
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    size_t nadded = 0;
    for (size_t i = 0; i < nreq; i++) {
        grant[i] = true;
        /* An installed version without recorded grants was granted nothing. */
        if (!installed_version || !have_prev || !wps_grants_has(&prev, req[i].name))
            added[nadded++] = req[i];
    }
    wps_grants_free(&prev);
    wasmplug_consent_request cr = {pkg->doc->id, pkg->doc->version, installed_version, pkg->doc,
                                   req, nreq, added, nadded, grant};
    bool update = installed_version != NULL;
    bool ok;
    if (!update)
        ok = o->consent ? o->consent(o->consent_user, &cr) : true;
    else if (!nadded)
        ok = true;
    else if (o->accept_permissions) {
        if (o->consent)
            o->consent(o->consent_user, &cr);
        ok = true;
    } else
        ok = o->consent && o->consent(o->consent_user, &cr);
    wasmplug_status st = WASMPLUG_OK;
    if (!ok) {
        char list[2048] = "";
        size_t used = 0;
        for (size_t i = 0; i < nadded && used + 4 < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s%s", i ? ", " : "",
                                     added[i].name, added[i].privileged ? " (privileged)" : "");
        st = update && nadded
                 ? wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                            "%s %s requests permissions that %s was not granted: %s; not "
                            "installed (use --accept-permissions to grant them)",
                            pkg->doc->id, pkg->doc->version, installed_version, list)
                 : wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                            "%s %s was not installed: its permissions were not granted",
                            pkg->doc->id, pkg->doc->version);
    }
    for (size_t i = 0; !st && i < nreq; i++)
        if ((update || grant[i]) && wps_grants_add(granted, req[i].name) != WASMPLUG_OK)
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    free(added);
    free(grant);
    return st;
}

static wasmplug_status set_result(wasmplug_dist_result *res, const wasmplug_package *pkg,
                                  const char *previous, const origin *from, const char *sha,
                                  bool unchanged, char *msg, size_t msgsize)
{
    wasmplug_dist_result_clear(res);
    res->id = strdup(pkg->doc->id);
    res->version = strdup(pkg->doc->version);
    res->previous = previous ? strdup(previous) : NULL;
    res->registry = from->registry ? strdup(from->registry) : NULL;
    res->sha256 = strdup(sha);
    res->unchanged = unchanged;
    if (!res->id || !res->version || !res->sha256 || (previous && !res->previous) ||
        (from->registry && !res->registry))
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    return WASMPLUG_OK;
}

/* Everything after the download: signature, package, module, consent,
 * install, lock file. data is the package, sig its signature (may be NULL). */
static wasmplug_status install_bytes(ctx *c, const uint8_t *data, size_t len, const char *sig,
                                     size_t siglen, const origin *from,
                                     wasmplug_dist_result *res, char *msg, size_t msgsize)
{
    const wasmplug_dist_options *o = c->o;
    char why[1024], signer[17] = "";
    wasmplug_status st = ctx_keys(c, msg, msgsize);
    if (st)
        return st;
    if (!sig && !o->allow_unsigned)
        return wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                        "%s is not signed (no %s next to it); refusing it (--allow-unsigned "
                        "installs unsigned packages)", from->label, WPD_SIG_EXT);
    if (sig) {
        size_t which = 0;
        st = wasmplug_verify(c->keys, c->nkeys, sig, siglen, data, len, NULL, &which, why,
                             sizeof why);
        bool untrusted_only = st == WASMPLUG_ERR_PERMISSION_DENIED && strstr(why, "not trusted");
        if (st && !(o->allow_unsigned && untrusted_only))
            return wpd_fail(st, msg, msgsize, "%s: %s", from->label, why);
        if (!st)
            wasmplug_key_id_hex(c->keys[which].id, signer, sizeof signer);
        st = WASMPLUG_OK;
    }
    wasmplug_package *pkg = NULL;
    wasmplug_package_limits limits = {0};
    if ((st = wasmplug_package_read(data, len, from->label, &limits, &pkg, msg, msgsize)))
        return st;
    char sha[65];
    wasmplug_sha256_hex(data, len, sha);
    installed in = {0};
    wasmplug_permission *req = NULL;
    size_t nreq = 0;
    wps_grants granted = {NULL, 0};
    json_t *rec = NULL;
    char *recjson = NULL, *grants_text = NULL;
    wps_file *files = NULL;
    if (from->id && (strcmp(pkg->doc->id, from->id) || strcmp(pkg->doc->version, from->version))) {
        st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                      "%s holds %s %s, but the registry lists it as %s %s; refusing it",
                      from->label, pkg->doc->id, pkg->doc->version, from->id, from->version);
        goto out;
    }
    if ((st = check_module(pkg, from->label, msg, msgsize)) ||
        (st = list_installed(o->store, pkg->doc->id, &in, msg, msgsize)))
        goto out;
    const char *newest = in.count ? in.versions[0] : NULL;
    for (size_t i = 0; i < in.count; i++) {
        if (strcmp(in.versions[i], pkg->doc->version) != 0)
            continue;
        /* Already there: the same bytes are nothing to do; others are refused. */
        json_t *old = read_record(o->store, pkg->doc->id, in.versions[i]);
        const char *old_sha = json_string_value(json_object_get(old, "sha256"));
        bool same = old_sha && !strcmp(old_sha, sha);
        json_decref(old);
        if (!same) {
            st = wpd_fail(WASMPLUG_ERR_DUPLICATE, msg, msgsize,
                          "%s %s is already installed with other contents; remove it first "
                          "(`wasmplug remove %s@%s`)", pkg->doc->id, pkg->doc->version,
                          pkg->doc->id, pkg->doc->version);
            goto out;
        }
        st = set_result(res, pkg, newest, from, sha, true, msg, msgsize);
        if (!st && o->lock_dir && from->registry)
            st = lock_set(o->lock_dir, pkg->doc->id, pkg->doc->version, sha, from->registry, msg,
                          msgsize);
        goto out;
    }
    if (wasmplug_manifest_permissions(pkg->doc, o->sensitive, o->sensitive_count, &req, &nreq)) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    if ((st = consent(o, pkg, newest, req, nreq, &granted, msg, msgsize)))
        goto out;
    char range[256];
    snprintf(range, sizeof range, "%s%s", from->range ? "" : "^",
             from->range ? from->range : pkg->doc->version);
    rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}", "id", pkg->doc->id, "version",
                    pkg->doc->version, "sha256", sha, "range", range, "signer", signer,
                    "installed_at", (json_int_t)time(NULL));
    if (rec)
        json_object_set_new(rec, "registry",
                            from->registry ? json_string(from->registry) : json_null());
    recjson = rec ? json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
    grants_text = wps_grants_text(&granted);
    files = calloc(pkg->count + 2, sizeof *files);
    if (!recjson || !grants_text || !files) {
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        goto out;
    }
    /* The module last: the store's crash test hook interrupts the last file. */
    size_t nf = 0;
    files[nf++] = (wps_file){WASMPLUG_INSTALL_RECORD, recjson, strlen(recjson)};
    files[nf++] = (wps_file){WPS_GRANTS_FILE, grants_text, strlen(grants_text)};
    for (size_t i = 0; i < pkg->count; i++)
        if (&pkg->files[i] != pkg->module) {
            if (!strcmp(pkg->files[i].path, WASMPLUG_INSTALL_RECORD) ||
                !strcmp(pkg->files[i].path, WPS_GRANTS_FILE))
                continue; /* a package cannot forge its record or its grants */
            files[nf++] = (wps_file){pkg->files[i].path, pkg->files[i].data, pkg->files[i].size};
        }
    files[nf++] = (wps_file){pkg->module->path, pkg->module->data, pkg->module->size};
    if ((st = wps_install_files(o->store, pkg->doc->id, pkg->doc->version, files, nf, false, NULL,
                                msg, msgsize)))
        goto out;
    st = set_result(res, pkg, newest, from, sha, false, msg, msgsize);
    if (!st && o->lock_dir && from->registry)
        st = lock_set(o->lock_dir, pkg->doc->id, pkg->doc->version, sha, from->registry, msg,
                      msgsize);
out:
    free(files);
    free(recjson);
    free(grants_text);
    json_decref(rec);
    wps_grants_free(&granted);
    wasmplug_permissions_free(req, nreq);
    installed_free(&in);
    wasmplug_package_free(pkg);
    return st;
}

/* A path inside the registry: relative, no "..", no scheme. */
static bool safe_registry_path(const char *p)
{
    if (!p || !*p || p[0] == '/' || strstr(p, "://") || strchr(p, '\\'))
        return false;
    for (const char *s = p; (s = strstr(s, "..")); s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '/' || !s[2]))
            return false;
    return true;
}

/* Download id@version from ix and install it. */
static wasmplug_status install_from(ctx *c, wpd_index *ix, const char *id, const char *version,
                                    const char *range, wasmplug_dist_result *res, char *msg,
                                    size_t msgsize)
{
    json_t *entry = json_object_get(
        json_object_get(json_object_get(ix->plugins, id), "versions"), version);
    const char *file = json_string_value(json_object_get(entry, "file"));
    const char *want = json_string_value(json_object_get(entry, "sha256"));
    json_int_t size = json_integer_value(json_object_get(entry, "size"));
    if (!safe_registry_path(file) || !want || strlen(want) != 64 || size <= 0)
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "registry '%s': the index entry of %s %s needs a relative \"file\", a "
                        "\"sha256\" and a \"size\"", ix->reg.name, id, version);
    uint64_t max = c->o->max_download ? c->o->max_download : DEFAULT_MAX_DOWNLOAD;
    if ((uint64_t)size > max)
        return wpd_fail(WASMPLUG_ERR_LIMIT, msg, msgsize,
                        "%s %s is %lld bytes, more than the download limit of %llu", id, version,
                        (long long)size, (unsigned long long)max);
    char *url = wps_url_join(ix->reg.url, file);
    char *sigurl = url ? malloc(strlen(url) + sizeof WPD_SIG_EXT) : NULL;
    if (!sigurl) {
        free(url);
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    sprintf(sigurl, "%s%s", url, WPD_SIG_EXT);
    wps_fetch_opts f;
    char what[300];
    snprintf(what, sizeof what, "%s %s", id, version);
    /* One byte more than the index says: a longer body is caught as such. */
    wpd_fetch_opts(c->o, what, (uint64_t)size + 1, &f);
    uint8_t *data = NULL, *sig = NULL;
    size_t len = 0, siglen = 0;
    char why[1024];
    wasmplug_status st = wps_fetch(url, &f, &data, &len, msg, msgsize);
    if (st == WASMPLUG_ERR_LIMIT)
        st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                      "%s: larger than the %lld bytes the index lists; refusing it", url,
                      (long long)size);
    if (!st && len != (size_t)size)
        st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                      "%s: got %zu bytes, the index lists %lld (truncated or replaced "
                      "download); refusing it", url, len, (long long)size);
    if (!st) {
        char sha[65];
        wasmplug_sha256_hex(data, len, sha);
        if (strcmp(sha, want) != 0)
            st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                          "%s: its SHA-256 %s differs from the index's %s; refusing it", url,
                          sha, want);
    }
    if (!st) {
        f.max_size = 4096;
        f.progress = NULL;
        wasmplug_status sst = wps_fetch(sigurl, &f, &sig, &siglen, why, sizeof why);
        if (sst && sst != WASMPLUG_ERR_NOT_FOUND)
            st = wpd_fail(sst, msg, msgsize, "cannot download the signature: %s", why);
    }
    if (!st) {
        origin from = {ix->reg.name, range, id, version, url};
        st = install_bytes(c, data, len, (const char *)sig, siglen, &from, res, msg, msgsize);
    }
    free(data);
    free(sig);
    free(url);
    free(sigurl);
    return st;
}

/* Find the highest-priority registry with a version of id in range. */
static wasmplug_status resolve(ctx *c, const char *id, const char *range, const char *only_reg,
                               wpd_index **ix, const char **version, char *msg, size_t msgsize)
{
    bool known = false;
    for (size_t i = 0; i < c->nix; i++) {
        if (only_reg && strcmp(c->ix[i].reg.name, only_reg) != 0)
            continue;
        json_t *plugin = json_object_get(c->ix[i].plugins, id);
        if (!plugin)
            continue;
        known = true;
        const char *v = wpd_newest(plugin, range);
        if (v) {
            *ix = &c->ix[i];
            *version = v;
            return WASMPLUG_OK;
        }
    }
    if (known)
        return wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                        "no version of %s matches '%s'%s%s", id, range ? range : "*",
                        only_reg ? " in registry " : "", only_reg ? only_reg : "");
    return wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize, "no plugin named '%s' in %s%s", id,
                    only_reg ? "registry " : "the registries", only_reg ? only_reg : "");
}

static bool is_package_path(const char *spec)
{
    size_t n = strlen(spec), e = strlen(WASMPLUG_PACKAGE_EXT);
    struct stat sb;
    return (n > e && !strcmp(spec + n - e, WASMPLUG_PACKAGE_EXT)) ||
           (strchr(spec, '/') && stat(spec, &sb) == 0 && S_ISREG(sb.st_mode));
}

wasmplug_status wasmplug_dist_install(const wasmplug_dist_options *o, const char *spec,
                                      wasmplug_dist_result *res, char *msg, size_t msgsize)
{
    memset(res, 0, sizeof *res);
    ctx c = {.o = o};
    wasmplug_status st;
    if (is_package_path(spec)) {
        size_t len = 0, siglen = 0;
        uint8_t *data = (uint8_t *)wps_read_file(spec, &len);
        if (!data)
            return wpd_fail(errno == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO, msg,
                            msgsize, "cannot read %s: %s", spec, strerror(errno));
        char *sigpath = malloc(strlen(spec) + sizeof WPD_SIG_EXT);
        char *sig = NULL;
        if (sigpath) {
            sprintf(sigpath, "%s%s", spec, WPD_SIG_EXT);
            sig = wps_read_file(sigpath, &siglen);
        }
        origin from = {NULL, NULL, NULL, NULL, spec};
        st = sigpath ? install_bytes(&c, data, len, sig, siglen, &from, res, msg, msgsize)
                     : wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        free(sig);
        free(sigpath);
        free(data);
        ctx_free(&c);
        return st;
    }
    char id[256];
    const char *at = strchr(spec, '@');
    size_t idlen = at ? (size_t)(at - spec) : strlen(spec);
    if (!idlen || idlen >= sizeof id)
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                        "'%s' is not NAME, NAME@RANGE or a .wasmplug file", spec);
    memcpy(id, spec, idlen);
    id[idlen] = '\0';
    const char *range = at ? at + 1 : NULL;
    if (range && (st = wasmplug_semver_range_check(range, msg, msgsize)))
        return st;
    wpd_index *ix;
    const char *version;
    if (!(st = ctx_load(&c, msg, msgsize)) &&
        !(st = resolve(&c, id, range, NULL, &ix, &version, msg, msgsize)))
        st = install_from(&c, ix, id, version, range, res, msg, msgsize);
    ctx_free(&c);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Update, outdated, rollback, locked installs                              */
/* ------------------------------------------------------------------------ */

/* Plugins installed from a registry: newest version of each, with its record. */
typedef struct tracked {
    char *id, *version, *registry, *range;
} tracked;

static void tracked_free(tracked *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].id);
        free(t[i].version);
        free(t[i].registry);
        free(t[i].range);
    }
    free(t);
}

static wasmplug_status list_tracked(const char *store, const char *only, tracked **out,
                                    size_t *count, char *msg, size_t msgsize)
{
    *out = NULL;
    *count = 0;
    wps_entry *all;
    size_t n;
    wasmplug_status st = wps_list(store, NULL, &all, &n, msg, msgsize);
    if (st)
        return st;
    *out = calloc(n ? n : 1, sizeof **out);
    bool only_seen = false;
    for (size_t i = 0; *out && i < n; i++) {
        const wasmplug_manifest_doc *d = all[i].doc;
        if (!d || (i > 0 && all[i - 1].doc && !strcmp(all[i - 1].doc->id, d->id)))
            continue; /* only the newest version of each id (listed first) */
        if (only && strcmp(only, d->id) != 0)
            continue;
        only_seen = true;
        json_t *rec = read_record(store, d->id, d->version);
        const char *reg = json_string_value(json_object_get(rec, "registry"));
        const char *range = json_string_value(json_object_get(rec, "range"));
        if (reg) {
            tracked *t = &(*out)[(*count)++];
            t->id = strdup(d->id);
            t->version = strdup(d->version);
            t->registry = strdup(reg);
            t->range = strdup(range ? range : "*");
        }
        json_decref(rec);
    }
    wps_entries_free(all, n);
    if (!*out)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    if (only && !only_seen)
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize, "plugin '%s' is not installed in %s",
                      only, store);
    else if (only && !*count)
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                      "plugin '%s' was not installed from a registry: nothing to update from",
                      only);
    if (st) {
        tracked_free(*out, *count);
        *out = NULL;
        *count = 0;
    }
    return st;
}

/* The plugins to update or check (id NULL: all) with every registry's
 * index loaded, and room for one result of elem bytes per plugin. */
static wasmplug_status tracked_begin(const wasmplug_dist_options *o, const char *id, ctx *c,
                                     tracked **t, size_t *n, void **results, size_t elem,
                                     char *msg, size_t msgsize)
{
    memset(c, 0, sizeof *c);
    c->o = o;
    *results = NULL;
    wasmplug_status st = list_tracked(o->store, id, t, n, msg, msgsize);
    if (st || !*n)
        return st;
    if (!(st = ctx_load(c, msg, msgsize)) && !(*results = calloc(*n, elem)))
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    return st;
}

wasmplug_status wasmplug_dist_update(const wasmplug_dist_options *o, const char *id,
                                     wasmplug_dist_result **res, size_t *count, char *msg,
                                     size_t msgsize)
{
    *count = 0;
    tracked *t = NULL;
    size_t n = 0;
    ctx c;
    void *results;
    wasmplug_status st = tracked_begin(o, id, &c, &t, &n, &results, sizeof **res, msg, msgsize);
    *res = results;
    for (size_t i = 0; !st && i < n; i++) {
        wpd_index *ix;
        const char *version;
        wasmplug_dist_result *r = &(*res)[(*count)++];
        st = resolve(&c, t[i].id, t[i].range, t[i].registry, &ix, &version, msg, msgsize);
        if (st)
            break;
        if (wasmplug_semver_compare(version, t[i].version) <= 0) {
            r->id = strdup(t[i].id);
            r->version = strdup(t[i].version);
            r->registry = strdup(t[i].registry);
            r->unchanged = true;
            if (!r->id || !r->version || !r->registry)
                st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
            continue;
        }
        st = install_from(&c, ix, t[i].id, version, t[i].range, r, msg, msgsize);
    }
    ctx_free(&c);
    tracked_free(t, n);
    return st;
}

wasmplug_status wasmplug_dist_outdated(const wasmplug_dist_options *o,
                                       wasmplug_outdated_entry **out, size_t *count, char *msg,
                                       size_t msgsize)
{
    *count = 0;
    tracked *t = NULL;
    size_t n = 0;
    ctx c;
    void *results;
    wasmplug_status st = tracked_begin(o, NULL, &c, &t, &n, &results, sizeof **out, msg, msgsize);
    *out = results;
    for (size_t i = 0; !st && i < n; i++) {
        wpd_index *ix = ctx_registry(&c, t[i].registry);
        json_t *plugin = ix ? json_object_get(ix->plugins, t[i].id) : NULL;
        const char *latest = plugin ? wpd_newest(plugin, NULL) : NULL;
        const char *wanted = plugin ? wpd_newest(plugin, t[i].range) : NULL;
        if (!latest || wasmplug_semver_compare(latest, t[i].version) <= 0)
            continue;
        wasmplug_outdated_entry *e = &(*out)[(*count)++];
        e->id = strdup(t[i].id);
        e->installed = strdup(t[i].version);
        e->wanted = strdup(wanted && wasmplug_semver_compare(wanted, t[i].version) > 0
                               ? wanted
                               : t[i].version);
        e->latest = strdup(latest);
        e->registry = strdup(t[i].registry);
        if (!e->id || !e->installed || !e->wanted || !e->latest || !e->registry)
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    ctx_free(&c);
    tracked_free(t, n);
    if (st) {
        wasmplug_outdated_free(*out, *count);
        *out = NULL;
        *count = 0;
    }
    return st;
}

void wasmplug_outdated_free(wasmplug_outdated_entry *e, size_t count)
{
    for (size_t i = 0; e && i < count; i++) {
        free(e[i].id);
        free(e[i].installed);
        free(e[i].wanted);
        free(e[i].latest);
        free(e[i].registry);
    }
    free(e);
}

wasmplug_status wasmplug_dist_rollback(const wasmplug_dist_options *o, const char *id,
                                       wasmplug_dist_result *res, char *msg, size_t msgsize)
{
    memset(res, 0, sizeof *res);
    installed in;
    wasmplug_status st = list_installed(o->store, id, &in, msg, msgsize);
    if (st)
        return st;
    if (in.count < 2) {
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                      in.count ? "%s has only one version installed (%s): nothing to roll "
                                 "back to"
                               : "%s is not installed%s",
                      id, in.count ? in.versions[0] : "");
        installed_free(&in);
        return st;
    }
    size_t removed = 0;
    st = wps_remove(o->store, id, in.versions[0], &removed, msg, msgsize);
    if (!st) {
        json_t *rec = read_record(o->store, id, in.versions[1]);
        const char *reg = json_string_value(json_object_get(rec, "registry"));
        const char *sha = json_string_value(json_object_get(rec, "sha256"));
        res->id = strdup(id);
        res->version = strdup(in.versions[1]);
        res->previous = strdup(in.versions[0]);
        res->registry = reg ? strdup(reg) : NULL;
        res->sha256 = sha ? strdup(sha) : NULL;
        json_decref(rec);
        if (!res->id || !res->version || !res->previous)
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        if (!st && o->lock_dir)
            st = lock_from_record(o->store, o->lock_dir, id, in.versions[1], msg, msgsize);
    }
    installed_free(&in);
    return st;
}

wasmplug_status wasmplug_dist_install_locked(const wasmplug_dist_options *o, const char *lock_dir,
                                             wasmplug_dist_result **res, size_t *count,
                                             char *msg, size_t msgsize)
{
    *res = NULL;
    *count = 0;
    char *path = wpd_join(lock_dir, WASMPLUG_LOCK_FILE);
    if (!path)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    json_t *lock = NULL;
    wasmplug_status st = wpd_read_json(path, &lock, msg, msgsize);
    json_t *list = json_object_get(lock, "plugins");
    if (!st && !lock)
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                      "%s does not exist (install or update writes it)", path);
    else if (!st && !json_is_array(list))
        st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                      "%s: expected {\"lockfile\": 1, \"plugins\": [...]}", path);
    size_t n = st ? 0 : json_array_size(list);
    ctx c = {.o = o};
    /* The lock file is replayed, not rewritten. */
    wasmplug_dist_options locked = *o;
    locked.lock_dir = NULL;
    c.o = &locked;
    if (n && !(st = ctx_load(&c, msg, msgsize)) && !(*res = calloc(n, sizeof **res)))
        st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    for (size_t i = 0; !st && i < n; i++) {
        json_t *e = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(e, "id"));
        const char *version = json_string_value(json_object_get(e, "version"));
        const char *sha = json_string_value(json_object_get(e, "sha256"));
        const char *reg = json_string_value(json_object_get(e, "registry"));
        if (!id || !version || !sha || !reg) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                          "%s: entry %zu needs id, version, sha256 and registry", path, i + 1);
            break;
        }
        wpd_index *ix = ctx_registry(&c, reg);
        json_t *entry = ix ? json_object_get(
                                 json_object_get(json_object_get(ix->plugins, id), "versions"),
                                 version)
                           : NULL;
        const char *isha = json_string_value(json_object_get(entry, "sha256"));
        if (!ix)
            st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                          "%s names registry '%s', which is not configured (`wasmplug registry "
                          "add`)", path, reg);
        else if (!entry)
            st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                          "%s %s (locked) is not in registry '%s'", id, version, reg);
        else if (!isha || strcmp(isha, sha) != 0)
            st = wpd_fail(WASMPLUG_ERR_PERMISSION_DENIED, msg, msgsize,
                          "%s %s in registry '%s' has SHA-256 %s, but %s locked %s; refusing it",
                          id, version, reg, isha ? isha : "(none)", path, sha);
        if (st)
            break;
        st = install_from(&c, ix, id, version, NULL, &(*res)[(*count)++], msg, msgsize);
    }
    ctx_free(&c);
    json_decref(lock);
    free(path);
    return st;
}

void wasmplug_dist_result_clear(wasmplug_dist_result *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->version);
    free(r->previous);
    free(r->registry);
    free(r->sha256);
    memset(r, 0, sizeof *r);
}

void wasmplug_dist_results_free(wasmplug_dist_result *r, size_t count)
{
    for (size_t i = 0; r && i < count; i++)
        wasmplug_dist_result_clear(&r[i]);
    free(r);
}
