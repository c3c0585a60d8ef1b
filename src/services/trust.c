/*
 * trust.c - the store's trusted publisher keys (trusted/<KEYID>.pub) and
 * its registries (registries.json), plus the small file helpers the
 * distribution client shares (atomic writes, JSON files).
 */
#include "services/dist_internal.h"
#include "services/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TRUST_COMMENT "untrusted comment: wasmplug trusted key"

wasmplug_status wpd_fail(wasmplug_status st, char *msg, size_t msgsize, const char *fmt, ...)
{
    if (msg && msgsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msgsize, fmt, ap);
        va_end(ap);
    }
    return st;
}

char *wpd_join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

int wpd_write_atomic(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    if (!tmp)
        return ENOMEM;
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0) {
        rc = errno;
        free(tmp);
        return rc;
    }
    const char *p = data;
    while (len && !rc) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno != EINTR)
            rc = errno;
        else if (w > 0)
            p += w, len -= (size_t)w;
    }
    if (!rc && fsync(fd) != 0)
        rc = errno;
    if (close(fd) != 0 && !rc)
        rc = errno;
    if (!rc && rename(tmp, path) != 0)
        rc = errno;
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

wasmplug_status wpd_write_json(const char *path, json_t *v, char *msg, size_t msgsize)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (!text)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    size_t len = strlen(text);
    text[len] = '\0';
    char *full = malloc(len + 2);
    int rc = ENOMEM;
    if (full) {
        memcpy(full, text, len);
        full[len] = '\n';
        rc = wpd_write_atomic(path, full, len + 1);
    }
    free(full);
    free(text);
    return rc ? wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot write %s: %s", path,
                         strerror(rc))
              : WASMPLUG_OK;
}

wasmplug_status wpd_read_json(const char *path, json_t **out, char *msg, size_t msgsize)
{
    *out = NULL;
    json_error_t err;
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return WASMPLUG_OK;
    *out = json_load_file(path, 0, &err);
    if (!*out)
        return wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "%s:%d:%d: %s", path, err.line,
                        err.column, err.text);
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Trusted keys                                                             */
/* ------------------------------------------------------------------------ */

static bool valid_label(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

wasmplug_status wasmplug_trust_add(const char *store, const char *key_text, size_t len,
                                   const char *name, wasmplug_pubkey *added, char *msg,
                                   size_t msgsize)
{
    wasmplug_pubkey key;
    wasmplug_status st = wasmplug_pubkey_parse(key_text, len, &key, msg, msgsize);
    if (st)
        return st;
    if (!name)
        name = "";
    if (strlen(name) > 200 || !valid_label(name))
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                        "a key name must be one line of at most 200 bytes");
    char *dir = wpd_join(store, WPD_TRUST_DIR);
    if (!dir)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    int rc = wps_mkdirs(dir, 0755);
    char hex[17], file[64];
    wasmplug_key_id_hex(key.id, hex, sizeof hex);
    snprintf(file, sizeof file, "%s.pub", hex);
    char *path = wpd_join(dir, file), *text = NULL;
    if (!rc && path && (st = wasmplug_pubkey_format(&key, &text, msg, msgsize)) == WASMPLUG_OK) {
        /* Replace the first line with our comment carrying the name. */
        const char *b64 = strchr(text, '\n');
        size_t n = strlen(TRUST_COMMENT) + strlen(name) + strlen(b64) + 4;
        char *out = malloc(n);
        if (out) {
            snprintf(out, n, "%s %s%s", TRUST_COMMENT, name, b64);
            rc = wpd_write_atomic(path, out, strlen(out));
            free(out);
        } else {
            rc = ENOMEM;
        }
    }
    if (!st && rc)
        st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot write the trusted key in %s: %s",
                      dir, strerror(rc));
    if (!st && added)
        *added = key;
    free(text);
    free(path);
    free(dir);
    return st;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const wasmplug_trusted_key *)a)->id_hex,
                  ((const wasmplug_trusted_key *)b)->id_hex);
}

wasmplug_status wasmplug_trust_list(const char *store, wasmplug_trusted_key **out, size_t *count,
                                    char *msg, size_t msgsize)
{
    *out = NULL;
    *count = 0;
    char *dir = wpd_join(store, WPD_TRUST_DIR);
    if (!dir)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return WASMPLUG_OK; /* no trusted keys yet */
    }
    wasmplug_status st = WASMPLUG_OK;
    struct dirent *e;
    while (!st && (e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 5 || strcmp(e->d_name + nl - 4, ".pub") != 0)
            continue;
        char *path = wpd_join(dir, e->d_name);
        size_t len = 0;
        char *text = path ? wps_read_file(path, &len) : NULL;
        wasmplug_trusted_key k = {0};
        char why[256];
        if (!text) {
            st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot read %s: %s",
                          path ? path : e->d_name, strerror(errno));
        } else if (wasmplug_pubkey_parse(text, len, &k.key, why, sizeof why) != WASMPLUG_OK) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize, "%s: %s", path, why);
        } else {
            wasmplug_key_id_hex(k.key.id, k.id_hex, sizeof k.id_hex);
            const char *nm = "";
            size_t nlen = 0;
            if (!strncmp(text, TRUST_COMMENT, strlen(TRUST_COMMENT))) {
                nm = text + strlen(TRUST_COMMENT);
                if (*nm == ' ')
                    nm++;
                nlen = strcspn(nm, "\n");
            }
            k.name = strndup(nm, nlen);
            wasmplug_trusted_key *grown = realloc(*out, (*count + 1) * sizeof *grown);
            if (!k.name || !grown) {
                free(k.name);
                if (grown)
                    *out = grown;
                st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
            } else {
                *out = grown;
                (*out)[(*count)++] = k;
            }
        }
        free(text);
        free(path);
    }
    closedir(d);
    free(dir);
    if (st) {
        wasmplug_trusted_keys_free(*out, *count);
        *out = NULL;
        *count = 0;
    } else if (*count) {
        qsort(*out, *count, sizeof **out, key_cmp);
    }
    return st;
}

void wasmplug_trusted_keys_free(wasmplug_trusted_key *keys, size_t count)
{
    for (size_t i = 0; keys && i < count; i++)
        free(keys[i].name);
    free(keys);
}

wasmplug_status wasmplug_trust_remove(const char *store, const char *id_or_name, char *msg,
                                      size_t msgsize)
{
    wasmplug_trusted_key *keys;
    size_t n;
    wasmplug_status st = wasmplug_trust_list(store, &keys, &n, msg, msgsize);
    if (st)
        return st;
    size_t removed = 0;
    for (size_t i = 0; i < n && !st; i++) {
        if (strcasecmp(keys[i].id_hex, id_or_name) != 0 &&
            (!*keys[i].name || strcmp(keys[i].name, id_or_name) != 0))
            continue;
        char file[PATH_MAX];
        snprintf(file, sizeof file, "%s/%s/%s.pub", store, WPD_TRUST_DIR, keys[i].id_hex);
        if (unlink(file) != 0)
            st = wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot remove %s: %s", file,
                          strerror(errno));
        else
            removed++;
    }
    wasmplug_trusted_keys_free(keys, n);
    if (!st && !removed)
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                      "no trusted key has the id or name '%s' (see `wasmplug trust list`)",
                      id_or_name);
    return st;
}

wasmplug_status wpd_trusted_pubkeys(const char *store, wasmplug_pubkey **keys, size_t *count,
                                    char *msg, size_t msgsize)
{
    wasmplug_trusted_key *t;
    size_t n;
    *keys = NULL;
    *count = 0;
    wasmplug_status st = wasmplug_trust_list(store, &t, &n, msg, msgsize);
    if (st)
        return st;
    if (n) {
        *keys = malloc(n * sizeof **keys);
        if (!*keys) {
            wasmplug_trusted_keys_free(t, n);
            return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
        }
        for (size_t i = 0; i < n; i++)
            (*keys)[i] = t[i].key;
    }
    *count = n;
    wasmplug_trusted_keys_free(t, n);
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Registries                                                               */
/* ------------------------------------------------------------------------ */

static wasmplug_status load_registries(const char *store, json_t **root, json_t **list,
                                       char **path, char *msg, size_t msgsize)
{
    *path = wpd_join(store, WPD_REGISTRIES_FILE);
    if (!*path)
        return wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    wasmplug_status st = wpd_read_json(*path, root, msg, msgsize);
    if (st)
        return st;
    if (!*root)
        *root = json_pack("{s:[]}", "registries");
    *list = *root ? json_object_get(*root, "registries") : NULL;
    if (!json_is_array(*list))
        return wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                        "%s: expected {\"registries\": [...]}", *path);
    return WASMPLUG_OK;
}

static const char *jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!(*s == '-' || *s == '_' || *s == '.' || (*s >= '0' && *s <= '9') ||
              (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    return true;
}

wasmplug_status wasmplug_registry_add(const char *store, const char *name, const char *url,
                                      int priority, const wasmplug_pubkey *index_key, char *msg,
                                      size_t msgsize)
{
    if (!valid_name(name))
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                        "a registry name is 1-64 letters, digits, '-', '_' or '.' (got '%s')",
                        name);
    if (!*url || strpbrk(url, "\r\n"))
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize, "the registry URL is empty or "
                                                              "spans lines");
    if (strstr(url, "://") && strncmp(url, "http://", 7) && strncmp(url, "https://", 8) &&
        strncmp(url, "file://", 7))
        return wpd_fail(WASMPLUG_ERR_ARGUMENT, msg, msgsize,
                        "unsupported registry URL '%s' (use http://, https://, file:// or a "
                        "directory)", url);
    json_t *root = NULL, *list;
    char *path = NULL;
    int rc = wps_mkdirs(store, 0755);
    wasmplug_status st = rc ? wpd_fail(WASMPLUG_ERR_IO, msg, msgsize, "cannot create %s: %s",
                                       store, strerror(rc))
                            : load_registries(store, &root, &list, &path, msg, msgsize);
    if (!st) {
        /* A directory is stored absolute, so the store works from anywhere. */
        char abs[PATH_MAX];
        if (!strstr(url, "://") && url[0] != '/' && realpath(url, abs))
            url = abs;
        json_t *entry = NULL;
        size_t i;
        json_t *r;
        json_array_foreach(list, i, r) {
            if (!strcmp(jstr(r, "name"), name))
                entry = r;
        }
        if (entry) {
            json_object_set_new(entry, "url", json_string(url));
            json_object_set_new(entry, "priority", json_integer(priority));
        } else {
            entry = json_pack("{s:s,s:s,s:i,s:i}", "name", name, "url", url, "priority",
                              priority, "seen_version", 0);
            json_array_append_new(list, entry);
        }
        char *keytext = NULL;
        json_object_del(entry, "index_key");
        if (index_key && !(st = wasmplug_pubkey_format(index_key, &keytext, msg, msgsize))) {
            const char *b64 = strchr(keytext, '\n') + 1; /* the base64 line */
            json_object_set_new(entry, "index_key", json_stringn(b64, strcspn(b64, "\n")));
        }
        free(keytext);
        if (!st)
            st = wpd_write_json(path, root, msg, msgsize);
    }
    json_decref(root);
    free(path);
    return st;
}

static int reg_cmp(const void *a, const void *b)
{
    const wasmplug_registry *x = a, *y = b;
    return x->priority != y->priority ? (x->priority > y->priority ? -1 : 1) : 0;
}

wasmplug_status wasmplug_registry_list(const char *store, wasmplug_registry **out, size_t *count,
                                       char *msg, size_t msgsize)
{
    *out = NULL;
    *count = 0;
    json_t *root = NULL, *list;
    char *path = NULL;
    wasmplug_status st = load_registries(store, &root, &list, &path, msg, msgsize);
    size_t n = st ? 0 : json_array_size(list);
    if (!st && n) {
        *out = calloc(n, sizeof **out);
        if (!*out)
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    for (size_t i = 0; !st && i < n; i++) {
        json_t *r = json_array_get(list, i);
        const char *name = json_string_value(json_object_get(r, "name"));
        const char *url = json_string_value(json_object_get(r, "url"));
        if (!name || !url) {
            st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                          "%s: registry %zu has no name or url", path, i + 1);
            break;
        }
        (*out)[i].name = strdup(name);
        (*out)[i].url = strdup(url);
        (*out)[i].priority = (int)json_integer_value(json_object_get(r, "priority"));
        (*out)[i].seen_version =
            (uint64_t)json_integer_value(json_object_get(r, "seen_version"));
        const char *key = json_string_value(json_object_get(r, "index_key"));
        if (key && !st) {
            char why[256];
            (*out)[i].pinned = true;
            if (wasmplug_pubkey_parse(key, strlen(key), &(*out)[i].index_key, why, sizeof why))
                st = wpd_fail(WASMPLUG_ERR_MALFORMED, msg, msgsize,
                              "%s: the index key of registry '%s': %s", path, name, why);
        }
        *count = i + 1;
        if (!(*out)[i].name || !(*out)[i].url)
            st = wpd_fail(WASMPLUG_ERR_NOMEM, msg, msgsize, "out of memory");
    }
    json_decref(root);
    free(path);
    if (st) {
        wasmplug_registries_free(*out, *count);
        *out = NULL;
        *count = 0;
    } else if (*count > 1) {
        /* Stable by priority: insertion sort keeps the order of addition. */
        for (size_t i = 1; i < *count; i++)
            for (size_t j = i; j > 0 && reg_cmp(&(*out)[j - 1], &(*out)[j]) > 0; j--) {
                wasmplug_registry t = (*out)[j];
                (*out)[j] = (*out)[j - 1];
                (*out)[j - 1] = t;
            }
    }
    return st;
}

void wasmplug_registries_free(wasmplug_registry *r, size_t count)
{
    for (size_t i = 0; r && i < count; i++) {
        free(r[i].name);
        free(r[i].url);
    }
    free(r);
}

/* Change registry name's entry: remove it (seen == 0 && remove) or raise
 * its seen version. */
static wasmplug_status edit_registry(const char *store, const char *name, bool remove,
                                     uint64_t seen, char *msg, size_t msgsize)
{
    json_t *root = NULL, *list;
    char *path = NULL;
    wasmplug_status st = load_registries(store, &root, &list, &path, msg, msgsize);
    bool found = false, changed = false;
    for (size_t i = 0; !st && i < json_array_size(list); i++) {
        json_t *r = json_array_get(list, i);
        if (strcmp(jstr(r, "name"), name) != 0)
            continue;
        found = true;
        if (remove) {
            json_array_remove(list, i);
            changed = true;
            break;
        }
        if ((uint64_t)json_integer_value(json_object_get(r, "seen_version")) < seen) {
            json_object_set_new(r, "seen_version", json_integer((json_int_t)seen));
            changed = true;
        }
    }
    if (!st && !found)
        st = wpd_fail(WASMPLUG_ERR_NOT_FOUND, msg, msgsize,
                      "no registry named '%s' (see `wasmplug registry list`)", name);
    if (!st && changed)
        st = wpd_write_json(path, root, msg, msgsize);
    json_decref(root);
    free(path);
    return st;
}

wasmplug_status wasmplug_registry_remove(const char *store, const char *name, char *msg,
                                         size_t msgsize)
{
    return edit_registry(store, name, true, 0, msg, msgsize);
}

wasmplug_status wpd_registry_seen(const char *store, const char *name, uint64_t v, char *msg,
                                  size_t msgsize)
{
    return edit_registry(store, name, false, v, msg, msgsize);
}
