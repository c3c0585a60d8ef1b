/*
 * manifest.c - the manifest's rules (names, ids, semver versions,
 * permissions) and the small string utilities the host uses: owned
 * key/value lists (metadata, config), their JSON form (the config handed to
 * wasmplug_init) and single-block copies handed out to callers.
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *wph_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *wph_strdup(const char *s)
{
    return s ? wph_strndup(s, strlen(s)) : NULL;
}

void wph_copy_name(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= WASMPLUG_NAME_MAX)
        n = WASMPLUG_NAME_MAX - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

uint64_t wph_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wph_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Plugin names: 1..127 bytes, printable, no '/' so they can name files. */
bool wph_valid_name(const char *s)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n >= WASMPLUG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7F || c == '/' || c == '\\')
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Key/value lists                                                          */
/* ------------------------------------------------------------------------ */

static size_t kvs_index(const wph_kvs *kv, const char *key, size_t keylen)
{
    for (size_t i = 0; i < kv->count; i++)
        if (strlen(kv->keys[i]) == keylen && memcmp(kv->keys[i], key, keylen) == 0)
            return i;
    return SIZE_MAX;
}

const char *wph_kvs_get(const wph_kvs *kv, const char *key, size_t keylen)
{
    size_t i = kvs_index(kv, key, keylen);
    return i == SIZE_MAX ? NULL : kv->values[i];
}

/* value NULL removes the key. Order of insertion is kept. */
wasmplug_status wph_kvs_set(wph_kvs *kv, const char *key, const char *value)
{
    size_t i = kvs_index(kv, key, strlen(key));
    if (!value) {
        if (i != SIZE_MAX) {
            free(kv->keys[i]);
            free(kv->values[i]);
            memmove(&kv->keys[i], &kv->keys[i + 1], (kv->count - i - 1) * sizeof(char *));
            memmove(&kv->values[i], &kv->values[i + 1], (kv->count - i - 1) * sizeof(char *));
            kv->count--;
        }
        return WASMPLUG_OK;
    }
    char *v = wph_strdup(value);
    if (!v)
        return WASMPLUG_ERR_NOMEM;
    if (i != SIZE_MAX) {
        free(kv->values[i]);
        kv->values[i] = v;
        return WASMPLUG_OK;
    }
    if (kv->count == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 8;
        char **k = realloc(kv->keys, cap * sizeof(char *));
        if (!k) {
            free(v);
            return WASMPLUG_ERR_NOMEM;
        }
        kv->keys = k;
        char **vv = realloc(kv->values, cap * sizeof(char *));
        if (!vv) {
            free(v);
            return WASMPLUG_ERR_NOMEM;
        }
        kv->values = vv;
        kv->cap = cap;
    }
    char *k = wph_strdup(key);
    if (!k) {
        free(v);
        return WASMPLUG_ERR_NOMEM;
    }
    kv->keys[kv->count] = k;
    kv->values[kv->count] = v;
    kv->count++;
    return WASMPLUG_OK;
}

void wph_kvs_clear(wph_kvs *kv)
{
    for (size_t i = 0; i < kv->count; i++) {
        free(kv->keys[i]);
        free(kv->values[i]);
    }
    free(kv->keys);
    free(kv->values);
    memset(kv, 0, sizeof *kv);
}

wasmplug_status wph_kvs_export(const wph_kvs *kv, wasmplug_kv **items, size_t *count)
{
    size_t bytes = kv->count * sizeof(wasmplug_kv);
    for (size_t i = 0; i < kv->count; i++)
        bytes += strlen(kv->keys[i]) + strlen(kv->values[i]) + 2;
    wasmplug_kv *arr = malloc(bytes ? bytes : 1);
    if (!arr)
        return WASMPLUG_ERR_NOMEM;
    char *text = (char *)(arr + kv->count);
    for (size_t i = 0; i < kv->count; i++) {
        size_t kl = strlen(kv->keys[i]) + 1, vl = strlen(kv->values[i]) + 1;
        memcpy(text, kv->keys[i], kl);
        arr[i].key = text;
        text += kl;
        memcpy(text, kv->values[i], vl);
        arr[i].value = text;
        text += vl;
    }
    *items = arr;
    *count = kv->count;
    return WASMPLUG_OK;
}

char **wph_strings_block(const char *const *s, size_t n)
{
    size_t bytes = n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(s[i]) + 1;
    char **arr = malloc(bytes ? bytes : 1);
    if (!arr)
        return NULL;
    char *text = (char *)(arr + n);
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(s[i]) + 1;
        memcpy(text, s[i], l);
        arr[i] = text;
        text += l;
    }
    return arr;
}

/* Append s as a JSON string literal; returns the new length (may exceed cap:
 * the caller measures first with buf == NULL). */
static size_t json_string(char *buf, size_t at, const char *s)
{
    static const char hex[] = "0123456789abcdef";
#define PUT(c) do { if (buf) buf[at] = (c); at++; } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else if (c == '\t') {
            PUT('\\');
            PUT('t');
        } else if (c == '\r') {
            PUT('\\');
            PUT('r');
        } else if (c < 0x20) {
            PUT('\\');
            PUT('u');
            PUT('0');
            PUT('0');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT((char)c);
        }
    }
    PUT('"');
#undef PUT
    return at;
}

static size_t kvs_json_into(const wph_kvs *kv, char *buf)
{
    size_t at = 0;
    if (buf)
        buf[at] = '{';
    at++;
    for (size_t i = 0; i < kv->count; i++) {
        if (i) {
            if (buf)
                buf[at] = ',';
            at++;
        }
        at = json_string(buf, at, kv->keys[i]);
        if (buf)
            buf[at] = ':';
        at++;
        at = json_string(buf, at, kv->values[i]);
    }
    if (buf)
        buf[at] = '}';
    return at + 1;
}

char *wph_kvs_json(const wph_kvs *kv, size_t *len)
{
    size_t n = kvs_json_into(kv, NULL);
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    kvs_json_into(kv, s);
    s[n] = '\0';
    *len = n;
    return s;
}

/* ------------------------------------------------------------------------ */
/* Semver and manifest checks                                               */
/* ------------------------------------------------------------------------ */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/* A numeric part: digits without a leading zero (except "0" itself). */
static const char *semver_number(const char *s)
{
    if (!is_digit(*s))
        return NULL;
    if (*s == '0' && is_digit(s[1]))
        return NULL;
    while (is_digit(*s))
        s++;
    return s;
}

/* Dot-separated identifiers; numeric ones (prerelease only) without leading zeros. */
static const char *semver_idents(const char *s, bool prerelease)
{
    for (;;) {
        const char *start = s;
        bool numeric = true;
        while (is_ident_char(*s)) {
            if (!is_digit(*s))
                numeric = false;
            s++;
        }
        if (s == start)
            return NULL;
        if (prerelease && numeric && *start == '0' && s - start > 1)
            return NULL;
        if (*s != '.')
            return s;
        s++;
    }
}

bool wasmplug_semver_valid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < 3; i++) {
        s = semver_number(s);
        if (!s)
            return false;
        if (i < 2) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    if (*s == '-') {
        s = semver_idents(s + 1, true);
        if (!s)
            return false;
    }
    if (*s == '+') {
        s = semver_idents(s + 1, false);
        if (!s)
            return false;
    }
    return *s == '\0';
}

static bool valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= WASMPLUG_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(is_ident_char(c) || c == '.' || c == '_'))
            return false;
    }
    return true;
}

wasmplug_status wph_manifest_check(const wasmplug_manifest *m, char *msg, size_t msgsize)
{
    if (!m)
        return WASMPLUG_OK;
    if (m->id && !valid_id(m->id)) {
        snprintf(msg, msgsize,
                 "manifest id '%.64s' is invalid (1-127 of A-Z a-z 0-9 . _ -)", m->id);
        return WASMPLUG_ERR_MANIFEST;
    }
    if (m->version && !wasmplug_semver_valid(m->version)) {
        snprintf(msg, msgsize, "manifest version '%.64s' is not a semantic version (e.g. 1.2.3)",
                 m->version);
        return WASMPLUG_ERR_MANIFEST;
    }
    if ((m->metadata_count && !m->metadata) || (m->permission_count && !m->permissions) ||
        (m->export_count && !m->exports) || (m->config_count && !m->config)) {
        snprintf(msg, msgsize, "manifest has a count without its array");
        return WASMPLUG_ERR_MANIFEST;
    }
    for (size_t i = 0; i < m->metadata_count; i++)
        if (!m->metadata[i].key || !*m->metadata[i].key || !m->metadata[i].value) {
            snprintf(msg, msgsize, "manifest metadata entry %zu has no key or value", i);
            return WASMPLUG_ERR_MANIFEST;
        }
    for (size_t i = 0; i < m->config_count; i++)
        if (!m->config[i].key || !*m->config[i].key || !m->config[i].value) {
            snprintf(msg, msgsize, "manifest config entry %zu has no key or value", i);
            return WASMPLUG_ERR_MANIFEST;
        }
    for (size_t i = 0; i < m->permission_count; i++) {
        const char *p = m->permissions[i];
        if (!p || !*p || strlen(p) > 255) {
            snprintf(msg, msgsize, "manifest permission %zu is empty or too long", i);
            return WASMPLUG_ERR_MANIFEST;
        }
    }
    for (size_t i = 0; i < m->export_count; i++)
        if (!m->exports[i] || !*m->exports[i]) {
            snprintf(msg, msgsize, "manifest export %zu is empty", i);
            return WASMPLUG_ERR_MANIFEST;
        }
    if (m->dependency_count && !m->dependencies) {
        snprintf(msg, msgsize, "manifest has a count without its array");
        return WASMPLUG_ERR_MANIFEST;
    }
    for (size_t i = 0; i < m->dependency_count; i++) {
        const wasmplug_kv *d = &m->dependencies[i];
        char why[128];
        if (!d->key || !valid_id(d->key)) {
            snprintf(msg, msgsize, "manifest dependency %zu: '%.64s' is not a plugin id", i,
                     d->key ? d->key : "");
            return WASMPLUG_ERR_MANIFEST;
        }
        if (d->value && wasmplug_semver_range_check(d->value, why, sizeof why) != WASMPLUG_OK) {
            snprintf(msg, msgsize, "manifest dependency '%.64s': %s", d->key, why);
            return WASMPLUG_ERR_MANIFEST;
        }
    }
    return WASMPLUG_OK;
}
