/*
 * manifest.c - plugin.yaml: parse a manifest with libyaml into a
 * wasmplug_manifest_doc, checking it against the schema as it goes so
 * every error can name the file, line and column of the offending node and
 * say what form was expected. Also: the manifest embedded in a module's
 * custom section, the host API's view of a manifest, semver precedence.
 */
#include <wasmplug/events.h>
#include <wasmplug/http.h>
#include <wasmplug/manifest.h>

#include "manifest_internal.h"
#include "services_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef wpm_ctx ctx;
typedef wpm_field field;

/* Record an error at line:column (1-based; 0 = unknown): the first in the
 * diag's message, the others as lines of diag->more. */
static void record(ctx *c, unsigned line, unsigned column, const char *fmt, va_list ap)
{
    c->errors++;
    wasmplug_manifest_diag *d = c->diag;
    if (!d)
        return;
    d->error_count = c->errors;
    if (c->errors == 1) {
        snprintf(d->file, sizeof d->file, "%s", c->file);
        d->line = line;
        d->column = column;
        vsnprintf(d->message, sizeof d->message, fmt, ap);
        return;
    }
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t at = strlen(d->more);
    int n = snprintf(d->more + at, sizeof d->more - at, "%u:%u: %s\n", line, column, msg);
    if (n < 0 || (size_t)n >= sizeof d->more - at)
        d->more[at] = '\0'; /* only whole lines */
}

wasmplug_status wpm_fail(ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(c, n ? (unsigned)n->start_mark.line + 1 : 0, n ? (unsigned)n->start_mark.column + 1 : 0,
           fmt, ap);
    va_end(ap);
    return WASMPLUG_ERR_MANIFEST;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static wasmplug_status fail_at(ctx *c, unsigned line, unsigned column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(c, line, column, fmt, ap);
    va_end(ap);
    return WASMPLUG_ERR_MANIFEST;
}

wasmplug_status wpm_nomem(ctx *c)
{
    wpm_fail(c, NULL, "out of memory");
    return WASMPLUG_ERR_NOMEM;
}

const char *wpm_sval(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

/* A plain scalar that YAML reads as null: "", "~", "null". */
bool wpm_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = wpm_sval(n);
    return !*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

const char *wpm_kind_name(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (wpm_is_null(n))
        return "nothing (null)";
    return "a scalar";
}

/* ------------------------------------------------------------------------ */
/* Typed readers                                                            */
/* ------------------------------------------------------------------------ */

wasmplug_status wpm_get_string(ctx *c, const char *key, const yaml_node_t *n, char **out)
{
    if (n->type != YAML_SCALAR_NODE || wpm_is_null(n))
        return wpm_fail(c, n, "'%s' must be a string (got %s)", key, wpm_kind_name(n));
    if (strlen(wpm_sval(n)) != n->data.scalar.length)
        return wpm_fail(c, n, "'%s' must not contain NUL characters", key);
    free(*out);
    *out = strdup(wpm_sval(n));
    return *out ? WASMPLUG_OK : wpm_nomem(c);
}

wasmplug_status wpm_strlist_add(ctx *c, wasmplug_strlist *l, const char *s)
{
    char **items = realloc(l->items, (l->count + 1) * sizeof *items);
    if (!items)
        return wpm_nomem(c);
    l->items = items;
    if (!(items[l->count] = strdup(s)))
        return wpm_nomem(c);
    l->count++;
    return WASMPLUG_OK;
}


/* A list of strings; check (may be NULL) validates each, described by form. */
wasmplug_status wpm_get_strlist(ctx *c, const char *key, const yaml_node_t *n,
                                   wasmplug_strlist *out, bool scalar_ok, wpm_item_check check,
                                   const char *form)
{
    if (scalar_ok && n->type == YAML_SCALAR_NODE && !wpm_is_null(n)) {
        if (check && !check(wpm_sval(n)))
            return wpm_fail(c, n, "'%s' items must be %s (got '%.80s')", key, form, wpm_sval(n));
        return wpm_strlist_add(c, out, wpm_sval(n));
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return wpm_fail(c, n, "'%s' must be a list of strings, e.g. [a, b] (got %s)", key,
                    wpm_kind_name(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&c->ydoc, *it);
        if (item->type != YAML_SCALAR_NODE || wpm_is_null(item))
            return wpm_fail(c, item, "'%s' items must be strings (got %s)", key, wpm_kind_name(item));
        if (check && !check(wpm_sval(item)))
            return wpm_fail(c, item, "'%s' items must be %s (got '%.80s')", key, form, wpm_sval(item));
        wasmplug_status st = wpm_strlist_add(c, out, wpm_sval(item));
        if (st)
            return st;
    }
    return WASMPLUG_OK;
}

/* Digits, then an optional unit from units[] (name, multiplier). */
typedef struct unit {
    const char *name;
    uint64_t mul;
} unit;

static bool parse_number(const char *s, const unit *units, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    while ((*p >= '0' && *p <= '9') || (*p == '_' && p[1] >= '0' && p[1] <= '9')) {
        if (*p != '_') {
            uint64_t d = (uint64_t)(*p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return false;
            v = v * 10 + d;
        }
        p++;
    }
    while (*p == ' ')
        p++;
    if (!*p) {
        *out = v;
        return true;
    }
    for (const unit *u = units; u && u->name; u++)
        if (strcmp(p, u->name) == 0) {
            if (u->mul && v > UINT64_MAX / u->mul)
                return false;
            *out = v * u->mul;
            return true;
        }
    return false;
}

static const unit SIZE_UNITS[] = {
    {"B", 1},         {"K", 1024},          {"KB", 1000},          {"KiB", 1024},
    {"M", 1 << 20},   {"MB", 1000000},      {"MiB", 1 << 20},      {"G", 1 << 30},
    {"GB", 1000000000}, {"GiB", 1 << 30},   {NULL, 0}};
static const unit TIME_UNITS[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000},
                                  {NULL, 0}};

typedef enum numkind { NUM_PLAIN, NUM_SIZE, NUM_TIME } numkind;

static wasmplug_status get_number(ctx *c, const char *key, const yaml_node_t *n, numkind kind,
                                  uint64_t max, uint64_t *out)
{
    static const char *const forms[] = {
        "a positive integer, e.g. 1000000",
        "a positive size in bytes with an optional unit (KiB, MiB, GiB), e.g. 16MiB",
        "a positive duration in ms with an optional unit (ms, s, m), e.g. 500ms or 2s"};
    const unit *units = kind == NUM_SIZE ? SIZE_UNITS : kind == NUM_TIME ? TIME_UNITS : NULL;
    uint64_t v;
    if (n->type != YAML_SCALAR_NODE || wpm_is_null(n))
        return wpm_fail(c, n, "'%s' must be %s (got %s)", key, forms[kind], wpm_kind_name(n));
    if (!parse_number(wpm_sval(n), units, &v) || v == 0)
        return wpm_fail(c, n, "'%s' must be %s (got '%.80s')", key, forms[kind], wpm_sval(n));
    if (v > max)
        return wpm_fail(c, n, "'%s' is too large (at most %llu%s)", key, (unsigned long long)max,
                    kind == NUM_SIZE ? " bytes" : kind == NUM_TIME ? " ms" : "");
    *out = v;
    return WASMPLUG_OK;
}

/* A plain true/false (yes/no) scalar, without recording an error. */
bool wpm_plain_bool(const yaml_node_t *n, bool *out)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *s = wpm_sval(n);
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes"))
        *out = true;
    else if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no"))
        *out = false;
    else
        return false;
    return true;
}

/* ------------------------------------------------------------------------ */
/* Mappings against a list of known keys                                    */
/* ------------------------------------------------------------------------ */

/* Edit distance (small strings), for "did you mean" hints (manifests and
 * workflow files). */
size_t wps_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t row[41];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cur = row[j];
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            prev = cur;
        }
    }
    return row[lb];
}

/* Walk mapping n: every key must be a known, non-repeated string. */
/* Check every key of a mapping against fields, going on after an error
 * (one per key) until WASMPLUG_MANIFEST_MAX_ERRORS: ERR_MANIFEST if any
 * key of this mapping failed, ERR_NOMEM at once. */
wasmplug_status wpm_walk_mapping(ctx *c, const char *what, const yaml_node_t *n,
                                    const field *fields)
{
    if (n->type != YAML_MAPPING_NODE)
        return wpm_fail(c, n, "%s must be a mapping of key: value (got %s)", what, wpm_kind_name(n));
    unsigned before = c->errors;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
         p < n->data.mapping.pairs.top && c->errors < WASMPLUG_MANIFEST_MAX_ERRORS; p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        yaml_node_t *v = yaml_document_get_node(&c->ydoc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            wpm_fail(c, k, "keys of %s must be strings", what);
            continue;
        }
        bool dup = false;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p && !dup; q++) {
            yaml_node_t *k2 = yaml_document_get_node(&c->ydoc, q->key);
            if (k2->type == YAML_SCALAR_NODE && strcmp(wpm_sval(k2), wpm_sval(k)) == 0) {
                wpm_fail(c, k, "duplicate key '%.80s' in %s (first at line %u)", wpm_sval(k), what,
                     (unsigned)k2->start_mark.line + 1);
                dup = true;
            }
        }
        if (dup)
            continue;
        const field *f = fields;
        while (f->key && strcmp(f->key, wpm_sval(k)) != 0)
            f++;
        if (!f->key) {
            char expected[512];
            size_t at = 0;
            expected[0] = '\0';
            for (const field *g = fields; g->key && at < sizeof expected; g++)
                at += (size_t)snprintf(expected + at, sizeof expected - at, "%s%s",
                                       g == fields ? "" : ", ", g->key);
            const field *best = NULL;
            size_t bestd = 3;
            for (const field *g = fields; g->key; g++) {
                size_t dd = wps_edit_distance(wpm_sval(k), g->key);
                if (dd < bestd) {
                    bestd = dd;
                    best = g;
                }
            }
            if (best)
                wpm_fail(c, k, "unknown key '%.80s' in %s: did you mean '%s'? (expected one of: %s)",
                     wpm_sval(k), what, best->key, expected);
            else
                wpm_fail(c, k, "unknown key '%.80s' in %s (expected one of: %s)", wpm_sval(k), what,
                     expected);
            continue;
        }
        wasmplug_status st = f->fn(c, f->key, v);
        if (st == WASMPLUG_ERR_NOMEM)
            return st;
    }
    return c->errors > before ? WASMPLUG_ERR_MANIFEST : WASMPLUG_OK;
}

static bool id_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_' || ch == '.';
}

bool wpm_valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= WASMPLUG_NAME_MAX || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

/* "module.name" with '*' wildcards, "*", or a bare function name (any
 * module's function of that name: "*.name"). */
static bool valid_hostfn(const char *s)
{
    if (strcmp(s, "*") == 0)
        return true;
    const char *dot = strchr(s, '.');
    if ((dot && (dot == s || !dot[1])) || !*s || strlen(s) > 255)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static bool valid_env(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == '_' || (ch == '*' && !p[1]);
        if (!ok)
            return false;
    }
    return true;
}

static bool valid_topic_pattern(const char *s)
{
    return wasmplug_topic_check(s, strlen(s), true, NULL, 0) == WASMPLUG_OK;
}

/* Relative path without "..", so it stays inside the plugin's directory. */
static bool valid_relpath(const char *s)
{
    if (!*s || s[0] == '/' || strlen(s) > 1024)
        return false;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return false;
        p += n;
        if (*p == '/')
            p++;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Fields                                                                   */
/* ------------------------------------------------------------------------ */

static wasmplug_status f_id(ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->m->id);
    if (st == WASMPLUG_OK && !wpm_valid_id(c->m->id))
        return wpm_fail(c, v,
                    "'id' must be 1-127 characters of a-z A-Z 0-9 - _ . not starting with "
                    "'.' or '-', e.g. word-counter (got '%.80s')",
                    c->m->id);
    return st;
}

static wasmplug_status f_name(ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_string(c, key, v, &c->m->name);
}

static wasmplug_status f_version(ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->m->version);
    if (st == WASMPLUG_OK &&
        (!wasmplug_semver_valid(c->m->version) || strlen(c->m->version) >= WASMPLUG_NAME_MAX))
        return wpm_fail(c, v,
                    "'version' must be a semantic version such as 1.2.3 or 1.0.0-rc.1 "
                    "(got '%.80s')",
                    c->m->version);
    return st;
}

static wasmplug_status f_description(ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_string(c, key, v, &c->m->description);
}

static wasmplug_status f_license(ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_string(c, key, v, &c->m->license);
}

static wasmplug_status f_module(ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->m->module);
    if (st == WASMPLUG_OK && !valid_relpath(c->m->module))
        return wpm_fail(c, v,
                    "'module' must be a relative path inside the plugin's directory, "
                    "e.g. plugin.wasm (got '%.80s')",
                    c->m->module);
    return st;
}

static wasmplug_status f_abi(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    if (v->type == YAML_SCALAR_NODE) {
        const char *s = wpm_sval(v);
        c->m->abi_given = true;
        if (!strcmp(s, "1") || !strcmp(s, "1.0")) {
            c->m->abi = WASMPLUG_ABI_V1;
            return WASMPLUG_OK;
        }
        for (wasmplug_abi a = WASMPLUG_ABI_NONE; a <= WASMPLUG_ABI_COMMAND; a++)
            if (!strcmp(s, wasmplug_abi_string(a))) {
                c->m->abi = a;
                return WASMPLUG_OK;
            }
    }
    return wpm_fail(c, v,
                    "'abi' must be one of v1, compat, wasm-bindgen, command, none (got %s%.80s%s)",
                    v->type == YAML_SCALAR_NODE ? "'" : wpm_kind_name(v),
                    v->type == YAML_SCALAR_NODE ? wpm_sval(v) : "",
                    v->type == YAML_SCALAR_NODE ? "'" : "");
}

static wasmplug_status f_authors(ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_strlist(c, key, v, &c->m->authors, true, NULL, NULL);
}

static bool valid_export(const char *s)
{
    return *s != '\0';
}

static wasmplug_status f_exports(ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_strlist(c, key, v, &c->m->exports, false, valid_export, "non-empty names");
}

/* Checks a value of a scalar map: NULL if fine, else what it must be. */
typedef const char *(*map_value_check)(const char *key, const char *value, char *why,
                                       size_t whysize);

/* A mapping of scalars (config, dependencies) appended to *items. */
static wasmplug_status get_scalar_map(ctx *c, const char *name, const yaml_node_t *n,
                                      const char *shape, const char *hint, wasmplug_kv **items,
                                      size_t *count, map_value_check check)
{
    if (n->type != YAML_MAPPING_NODE)
        return wpm_fail(c, n, "'%s' must be a mapping of %s (got %s)", name, shape,
                        wpm_kind_name(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        yaml_node_t *v = yaml_document_get_node(&c->ydoc, p->value);
        if (k->type != YAML_SCALAR_NODE || wpm_is_null(k))
            return wpm_fail(c, k, "'%s' keys must be strings", name);
        for (size_t i = 0; i < *count; i++)
            if (strcmp((*items)[i].key, wpm_sval(k)) == 0)
                return wpm_fail(c, k, "duplicate key '%.80s' in '%s'", wpm_sval(k), name);
        if (v->type != YAML_SCALAR_NODE)
            return wpm_fail(c, v, "'%s.%.80s' must be a string, number or boolean (got %s)%s",
                            name, wpm_sval(k), wpm_kind_name(v), hint);
        char why[256];
        const char *value = wpm_is_null(v) ? "" : wpm_sval(v);
        const char *bad = check ? check(wpm_sval(k), value, why, sizeof why) : NULL;
        if (bad)
            return wpm_fail(c, bad == why ? v : k, "'%s.%.80s': %s", name, wpm_sval(k), bad);
        wasmplug_kv *kv = realloc(*items, (*count + 1) * sizeof *kv);
        if (!kv)
            return wpm_nomem(c);
        *items = kv;
        char *ks = strdup(wpm_sval(k)), *vs = strdup(value);
        if (!ks || !vs) {
            free(ks);
            free(vs);
            return wpm_nomem(c);
        }
        kv[*count].key = ks;
        kv[*count].value = vs;
        (*count)++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status f_config(ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    return get_scalar_map(c, "config", n, "key: value",
                          "; plugins receive config values as strings", &c->m->config,
                          &c->m->config_count, NULL);
}

/* A dependency: a plugin id and a version range (empty: any version). */
static const char *check_dependency(const char *id, const char *range, char *why,
                                    size_t whysize)
{
    if (!wpm_valid_id(id))
        return "a dependency must be a plugin id (A-Z a-z 0-9 . _ -)";
    if (wasmplug_semver_range_check(range, why, whysize) != WASMPLUG_OK)
        return why;
    return NULL;
}

static wasmplug_status f_dependencies(ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    return get_scalar_map(c, "dependencies", n,
                          "plugin id: version range (e.g. {text-utils: ^1.2})", "",
                          &c->m->dependencies, &c->m->dependency_count, check_dependency);
}

/* permissions.* */

static wasmplug_status f_host_functions(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    wasmplug_strlist *l = &c->m->host_functions;
    size_t before = l->count;
    wasmplug_status st =
        wpm_get_strlist(c, "permissions.host_functions", v, l, false, valid_hostfn,
                        "'module.name' patterns such as host.log or env.*, or function names");
    /* A bare name asks for that function from whichever module the host
     * registers it in, as manifests that list plain function names mean. */
    for (size_t i = before; !st && i < l->count; i++) {
        if (strchr(l->items[i], '.') || !strcmp(l->items[i], "*"))
            continue;
        size_t n = strlen(l->items[i]) + 3;
        char *any = malloc(n);
        if (!any)
            return wpm_nomem(c);
        snprintf(any, n, "*.%s", l->items[i]);
        free(l->items[i]);
        l->items[i] = any;
    }
    return st;
}

static wasmplug_status f_env(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_get_strlist(c, "permissions.env", v, &c->m->env, false, valid_env,
                       "environment variable names such as LANG (optionally ending in *)");
}

wasmplug_status wpm_add_dir(ctx *c, const yaml_node_t *at, const char *host, const char *guest,
                            const char *mode)
{
    if (!*host || !*guest)
        return wpm_fail(c, at, "'permissions.filesystem' entries need a host and a guest path");
    if (guest[0] != '/')
        return wpm_fail(c, at, "'permissions.filesystem' guest paths must be absolute, e.g. /data "
                           "(got '%.80s')", guest);
    /* Read-only unless asked otherwise: the safer default. */
    bool ro = true;
    if (mode && !strcmp(mode, "rw"))
        ro = false;
    else if (mode && strcmp(mode, "ro") != 0)
        return wpm_fail(c, at, "'permissions.filesystem' mode must be ro or rw (got '%.40s')", mode);
    wasmplug_manifest_dir *d = realloc(c->m->dirs, (c->m->dir_count + 1) * sizeof *d);
    if (!d)
        return wpm_nomem(c);
    c->m->dirs = d;
    d += c->m->dir_count;
    d->host = strdup(host);
    d->guest = strdup(guest);
    d->readonly = ro;
    if (!d->host || !d->guest) {
        free(d->host);
        free(d->guest);
        return wpm_nomem(c);
    }
    c->m->dir_count++;
    return WASMPLUG_OK;
}

static wasmplug_status dir_entry(ctx *c, const yaml_node_t *n)
{
    static const char *form =
        "'permissions.filesystem' entries must be \"host:guest[:ro|:rw]\" or a mapping "
        "{host: PATH, guest: PATH, mode: ro|rw}";
    if (n->type == YAML_SCALAR_NODE && !wpm_is_null(n)) {
        char buf[2048];
        snprintf(buf, sizeof buf, "%s", wpm_sval(n));
        char *colon = strchr(buf, ':');
        if (!colon)
            return wpm_fail(c, n, "%s (got '%.80s')", form, wpm_sval(n));
        *colon = '\0';
        char *guest = colon + 1, *mode = strchr(guest, ':');
        if (mode)
            *mode++ = '\0';
        return wpm_add_dir(c, n, buf, guest, mode);
    }
    if (n->type != YAML_MAPPING_NODE)
        return wpm_fail(c, n, "%s (got %s)", form, wpm_kind_name(n));
    const char *host = NULL, *guest = NULL, *mode = NULL;
    const yaml_node_t *mode_node = n;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        yaml_node_t *v = yaml_document_get_node(&c->ydoc, p->value);
        const char *ks = k->type == YAML_SCALAR_NODE ? wpm_sval(k) : "";
        const char **slot = !strcmp(ks, "host")    ? &host
                            : !strcmp(ks, "guest") ? &guest
                            : !strcmp(ks, "mode")  ? &mode
                                                   : NULL;
        if (!slot)
            return wpm_fail(c, k,
                        "unknown key '%.80s' in a 'permissions.filesystem' entry (expected one of: "
                        "host, guest, mode)",
                        ks);
        if (v->type != YAML_SCALAR_NODE || wpm_is_null(v))
            return wpm_fail(c, v, "'permissions.filesystem' %s must be a string (got %s)", ks,
                        wpm_kind_name(v));
        *slot = wpm_sval(v);
        if (slot == &mode)
            mode_node = v;
    }
    if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
        return wpm_fail(c, mode_node, "'permissions.filesystem' mode must be ro or rw (got '%.40s')", mode);
    if (!host || !guest)
        return wpm_fail(c, n, "a 'permissions.filesystem' entry needs both host and guest");
    return wpm_add_dir(c, n, host, guest, mode);
}

static wasmplug_status f_dirs(ctx *c, const char *key, const yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE)
        return wpm_fail(c, n, "'permissions.%s' must be a list (got %s)", key, wpm_kind_name(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        wasmplug_status st = dir_entry(c, yaml_document_get_node(&c->ydoc, *it));
        if (st)
            return st;
    }
    return WASMPLUG_OK;
}

static wasmplug_status f_publish(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_get_strlist(c, "permissions.events.publish", v, &c->m->events_publish, false,
                       valid_topic_pattern,
                       "topic patterns such as words.* (dot-separated, '*' one segment, "
                       "'>' the rest)");
}

/* permissions.events.subscribe: each entry a topic pattern, or a mapping
 * with the subscription's options (see wasmplug_manifest_subscription). */

static wasmplug_status add_subscription(ctx *c, const yaml_node_t *n, const char *topic)
{
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (wasmplug_topic_check(topic, strlen(topic), true, why, sizeof why))
        return wpm_fail(c, n, "'permissions.events.subscribe': %s", why);
    wasmplug_manifest_doc *m = c->m;
    wasmplug_manifest_subscription *grown =
        realloc(m->subscriptions, (m->subscription_count + 1) * sizeof *grown);
    if (!grown)
        return wpm_nomem(c);
    m->subscriptions = grown;
    c->sub = &grown[m->subscription_count];
    memset(c->sub, 0, sizeof *c->sub);
    if (!(c->sub->topic = strdup(topic)))
        return wpm_nomem(c);
    m->subscription_count++;
    return wpm_strlist_add(c, &m->events_subscribe, topic);
}

static wasmplug_status f_sub_topic(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)c;
    (void)key;
    (void)v;
    return WASMPLUG_OK; /* read first, by f_subscribe_entry */
}

/* A subscription's name-like string (handler, group): 1..NAME_MAX-1 bytes. */
static wasmplug_status sub_name(ctx *c, const char *key, const yaml_node_t *v, char **out,
                                const char *what)
{
    wasmplug_status st = wpm_get_string(c, key, v, out);
    if (st == WASMPLUG_OK && (!**out || strlen(*out) >= WASMPLUG_NAME_MAX))
        return wpm_fail(c, v, "'%s' must be %s of 1..%d bytes", key, what,
                        WASMPLUG_NAME_MAX - 1);
    return st;
}

static wasmplug_status f_sub_handler(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return sub_name(c, "permissions.events.subscribe.handler", v, &c->sub->handler,
                    "an export name");
}

static wasmplug_status f_sub_group(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    wasmplug_status st = sub_name(c, "permissions.events.subscribe.group", v, &c->sub->group,
                                  "a group name");
    if (st == WASMPLUG_OK &&
        wasmplug_topic_check(c->sub->group, strlen(c->sub->group), false, NULL, 0) != WASMPLUG_OK)
        return wpm_fail(c, v, "'permissions.events.subscribe.group' is written as a topic "
                              "(no spaces, '*' or '>')");
    return st;
}

/* A count or a duration where 0 is allowed. */
static wasmplug_status get_count(ctx *c, const char *key, const yaml_node_t *n, numkind kind,
                                 uint64_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (n->type == YAML_SCALAR_NODE && strcmp(wpm_sval(n), "0") == 0) {
        *out = 0;
        return WASMPLUG_OK;
    }
    wasmplug_status st = get_number(c, key, n, kind, max, &v);
    if (st == WASMPLUG_OK)
        *out = (uint32_t)v;
    return st;
}

static wasmplug_status f_sub_queue(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.queue", v, NUM_PLAIN, 1u << 24,
                     &c->sub->queue);
}

static wasmplug_status f_sub_on_full(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    wasmplug_bus_full_policy policy;
    if (v->type != YAML_SCALAR_NODE || !wasmplug_bus_full_policy_parse(wpm_sval(v), &policy))
        return wpm_fail(c, v, "'permissions.events.subscribe.on_full' must be drop_oldest, reject "
                          "or block (got '%.80s')",
                    v->type == YAML_SCALAR_NODE ? wpm_sval(v) : wpm_kind_name(v));
    c->sub->on_full = (int)policy;
    return WASMPLUG_OK;
}

static wasmplug_status f_sub_block_timeout(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.block_timeout_ms", v, NUM_TIME,
                     UINT32_MAX - 1, &c->sub->block_timeout_ms);
}

static wasmplug_status f_sub_retries(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.retries", v, NUM_PLAIN, 1000000,
                     &c->sub->retries);
}

static wasmplug_status f_sub_retry_backoff(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.retry_backoff_ms", v, NUM_TIME, 3600000,
                     &c->sub->retry_backoff_ms);
}

static wasmplug_status f_batch_max(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.batch.max", v, NUM_PLAIN, 1u << 24,
                     &c->sub->batch_max);
}

static wasmplug_status f_batch_window(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_count(c, "permissions.events.subscribe.batch.window_ms", v, NUM_TIME, 3600000,
                     &c->sub->batch_window_ms);
}

static const field BATCH_FIELDS[] = {{"max", f_batch_max}, {"window_ms", f_batch_window},
                                     {NULL, NULL}};

static wasmplug_status f_sub_batch(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_walk_mapping(c, "'permissions.events.subscribe.batch'", v, BATCH_FIELDS);
}

static const field SUBSCRIPTION_FIELDS[] = {
    {"topic", f_sub_topic},       {"handler", f_sub_handler}, {"group", f_sub_group},
    {"queue", f_sub_queue},       {"on_full", f_sub_on_full},
    {"block_timeout_ms", f_sub_block_timeout}, {"retries", f_sub_retries},
    {"retry_backoff_ms", f_sub_retry_backoff}, {"batch", f_sub_batch},
    {NULL, NULL}};

static wasmplug_status f_subscribe_entry(ctx *c, const yaml_node_t *item)
{
    if (item->type == YAML_SCALAR_NODE && !wpm_is_null(item))
        return add_subscription(c, item, wpm_sval(item));
    if (item->type != YAML_MAPPING_NODE)
        return wpm_fail(c, item,
                    "'permissions.events.subscribe' items must be topic patterns or mappings "
                    "{topic: ..., batch: {max: N, window_ms: N}, ...} (got %s)",
                    wpm_kind_name(item));
    const yaml_node_t *topic = NULL;
    for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(wpm_sval(k), "topic") == 0)
            topic = yaml_document_get_node(&c->ydoc, p->value);
    }
    if (!topic)
        return wpm_fail(c, item, "a 'permissions.events.subscribe' mapping needs 'topic' (a topic "
                             "pattern such as content.*)");
    if (topic->type != YAML_SCALAR_NODE || wpm_is_null(topic))
        return wpm_fail(c, topic, "'permissions.events.subscribe.topic' must be a string (got %s)",
                    wpm_kind_name(topic));
    wasmplug_status st = add_subscription(c, topic, wpm_sval(topic));
    if (st == WASMPLUG_OK)
        st = wpm_walk_mapping(c, "a 'permissions.events.subscribe' entry", item,
                          SUBSCRIPTION_FIELDS);
    if (st == WASMPLUG_OK && c->sub->batch_max > 1 && c->sub->queue &&
        c->sub->batch_max > c->sub->queue)
        return wpm_fail(c, item, "'permissions.events.subscribe': batch.max (%u) is larger than "
                             "queue (%u)",
                    c->sub->batch_max, c->sub->queue);
    return st;
}

static wasmplug_status f_subscribe(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    if (v->type != YAML_SEQUENCE_NODE)
        return wpm_fail(c, v, "'permissions.events.subscribe' must be a list of topic patterns or "
                          "{topic: ..., ...} mappings (got %s)",
                    wpm_kind_name(v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        wasmplug_status st = f_subscribe_entry(c, yaml_document_get_node(&c->ydoc, *it));
        if (st)
            return st;
    }
    return WASMPLUG_OK;
}

static const field EVENT_FIELDS[] = {{"publish", f_publish}, {"subscribe", f_subscribe},
                                     {NULL, NULL}};

/* {publish: [...], subscribe: [...]}, or one list for both directions. */
static wasmplug_status f_events(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    if (v->type == YAML_SEQUENCE_NODE) {
        wasmplug_status st = wpm_get_strlist(c, "permissions.events", v, &c->m->events_publish, false,
                                         valid_topic_pattern, "topic patterns such as words.*");
        for (yaml_node_item_t *it = v->data.sequence.items.start;
             st == WASMPLUG_OK && it < v->data.sequence.items.top; it++) {
            yaml_node_t *item = yaml_document_get_node(&c->ydoc, *it);
            st = add_subscription(c, item, wpm_sval(item));
        }
        return st;
    }
    if (v->type != YAML_MAPPING_NODE)
        return wpm_fail(c, v,
                    "'permissions.events' must be a list of topic patterns or a mapping "
                    "{publish: [...], subscribe: [...]} (got %s)",
                    wpm_kind_name(v));
    return wpm_walk_mapping(c, "'permissions.events'", v, EVENT_FIELDS);
}

static wasmplug_status f_quota(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    c->m->storage = true;
    return get_number(c, "permissions.storage.quota", v, NUM_SIZE, UINT64_MAX / 2,
                      &c->m->storage_quota);
}

static wasmplug_status f_keys(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_number(c, "permissions.storage.keys", v, NUM_PLAIN, UINT64_MAX / 2,
                      &c->m->storage_keys);
}

static const field STORAGE_FIELDS[] = {{"quota", f_quota}, {"keys", f_keys}, {NULL, NULL}};

/* A service switched on with true/false or with a mapping of its settings. */
static wasmplug_status service_switch(ctx *c, const char *key, const yaml_node_t *v,
                                      const field *fields, bool *on, const char *form)
{
    char what[64];
    snprintf(what, sizeof what, "'permissions.%s'", key);
    if (v->type == YAML_MAPPING_NODE && fields) {
        *on = true;
        return wpm_walk_mapping(c, what, v, fields);
    }
    bool b = false;
    if (wpm_plain_bool(v, &b)) {
        *on = b;
        return WASMPLUG_OK;
    }
    return wpm_fail(c, v, "%s must be %s (got %s)", what, form, wpm_kind_name(v));
}

static wasmplug_status f_storage(ctx *c, const char *key, const yaml_node_t *v)
{
    return service_switch(c, key, v, STORAGE_FIELDS, &c->m->storage,
                          "true, false or {quota: SIZE, keys: N}");
}

static wasmplug_status f_db_max_size(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    c->m->database = true;
    return get_number(c, "permissions.database.max_size", v, NUM_SIZE, UINT64_MAX / 2,
                      &c->m->database_max_size);
}

static const field DATABASE_FIELDS[] = {{"max_size", f_db_max_size}, {NULL, NULL}};

static wasmplug_status f_database(ctx *c, const char *key, const yaml_node_t *v)
{
    return service_switch(c, key, v, DATABASE_FIELDS, &c->m->database,
                          "true, false or {max_size: SIZE}");
}

static wasmplug_status f_notify(ctx *c, const char *key, const yaml_node_t *v)
{
    return service_switch(c, key, v, NULL, &c->m->notify, "true or false");
}

/* The HTTP service's rule syntax (wasmplug/http.h): "api.example.org",
 * "*.example.org", "GET,POST https://host:8443/v1/" followed by '*'. */
bool wpm_valid_http_rule(const char *s)
{
    return wasmplug_http_rule_check(s, NULL, 0) == WASMPLUG_OK;
}

#define HTTP_FORM                                                                          \
    "URL patterns such as api.example.org, *.example.org or 'GET https://host:8443/path/*'"

static wasmplug_status f_http_allow(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_get_strlist(c, "permissions.http.allow", v, &c->m->http_hosts, false,
                       wpm_valid_http_rule, HTTP_FORM);
}

static const field HTTP_FIELDS[] = {{"allow", f_http_allow}, {NULL, NULL}};

/* A list of URL patterns, or {allow: [...]}. */
static wasmplug_status f_http(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    if (v->type == YAML_MAPPING_NODE)
        return wpm_walk_mapping(c, "'permissions.http'", v, HTTP_FIELDS);
    return wpm_get_strlist(c, "permissions.http", v, &c->m->http_hosts, false,
                           wpm_valid_http_rule, HTTP_FORM);
}

static wasmplug_status f_resources(ctx *c, const char *key, const yaml_node_t *v);

/* "resources" and "capabilities" under permissions: the layout of manifests
 * that keep limits and coarse capabilities with the permissions. */
static const field PERMISSION_FIELDS[] = {
    {"host_functions", f_host_functions}, {"env", f_env},         {"filesystem", f_dirs},
    {"dirs", f_dirs},
    {"events", f_events},                 {"storage", f_storage}, {"http", f_http},
    {"database", f_database},             {"notify", f_notify},   {"resources", f_resources},
    {"capabilities", wpm_capabilities_section},
    {NULL, NULL}};

static wasmplug_status f_permissions(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_walk_mapping(c, "'permissions'", v, PERMISSION_FIELDS);
}

/* resources.* */

static wasmplug_status f_max_memory(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    uint64_t bytes;
    wasmplug_status st =
        get_number(c, "resources.max_memory", v, NUM_SIZE, (uint64_t)65536 * 65536, &bytes);
    if (st == WASMPLUG_OK)
        c->m->resources.max_memory_pages = (uint32_t)((bytes + 65535) / 65536);
    return st;
}

static wasmplug_status f_timeout(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    uint64_t ms;
    wasmplug_status st = get_number(c, "resources.timeout", v, NUM_TIME, UINT32_MAX - 1, &ms);
    if (st == WASMPLUG_OK)
        c->m->resources.timeout_ms = (uint32_t)ms;
    return st;
}

static wasmplug_status f_fuel(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return get_number(c, "resources.fuel", v, NUM_PLAIN, UINT64_MAX - 1, &c->m->resources.fuel);
}

static wasmplug_status f_depth(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    uint64_t n;
    wasmplug_status st = get_number(c, "resources.max_call_depth", v, NUM_PLAIN, 1000000, &n);
    if (st == WASMPLUG_OK)
        c->m->resources.max_call_depth = (uint32_t)n;
    return st;
}

static wasmplug_status f_max_input(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    uint64_t n;
    wasmplug_status st = get_number(c, "resources.max_input", v, NUM_SIZE, UINT32_MAX, &n);
    if (st == WASMPLUG_OK)
        c->m->resources.max_input_bytes = (uint32_t)n;
    return st;
}

static wasmplug_status f_max_output(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    uint64_t n;
    wasmplug_status st = get_number(c, "resources.max_output", v, NUM_SIZE, UINT32_MAX, &n);
    if (st == WASMPLUG_OK)
        c->m->resources.max_output_bytes = (uint32_t)n;
    return st;
}

static const field RESOURCE_FIELDS[] = {
    {"max_memory", f_max_memory}, {"timeout", f_timeout},       {"fuel", f_fuel},
    {"max_call_depth", f_depth},  {"max_input", f_max_input},   {"max_output", f_max_output},
    {"max_execution_time", f_timeout}, /* another name for timeout */
    {NULL, NULL}};

static wasmplug_status f_resources(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_walk_mapping(c, "'resources'", v, RESOURCE_FIELDS);
}

/* nodes: workflow node types */
static wasmplug_status node_string(ctx *c, const char *key, const yaml_node_t *v, char **out)
{
    (void)key;
    return wpm_get_string(c, "nodes[].*", v, out);
}
static wasmplug_status f_node_name(ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = node_string(c, key, v, &c->node->name);
    if (st == WASMPLUG_OK && !wpm_valid_id(c->node->name))
        return wpm_fail(c, v, "node type names are 1-127 characters of a-z A-Z 0-9 - _ . "
                          "(got '%.80s')", c->node->name);
    return st;
}
static wasmplug_status f_node_description(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->description);
}
static wasmplug_status f_node_input(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->input);
}
static wasmplug_status f_node_output(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->output);
}
static wasmplug_status f_node_prep(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->prep);
}
static wasmplug_status f_node_exec(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->exec);
}
static wasmplug_status f_node_post(ctx *c, const char *key, const yaml_node_t *v)
{
    return node_string(c, key, v, &c->node->post);
}
static wasmplug_status f_node_actions(ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_get_strlist(c, "nodes[].actions", v, &c->node->actions, false, valid_export,
                       "non-empty names");
}

static const char *const SCHEMA_TYPES[] = {"string", "number", "integer", "boolean",
                                           "list",   "object", "any",     NULL};

wasmplug_status wpm_type_schema(ctx *c, const char *what, const yaml_node_t *n,
                                wasmplug_kv **items, size_t *count)
{
    if (n->type != YAML_MAPPING_NODE)
        return wpm_fail(c, n, "%s must map keys to types, e.g. {threshold: number} (got %s)",
                        what, wpm_kind_name(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        yaml_node_t *v = yaml_document_get_node(&c->ydoc, p->value);
        if (k->type != YAML_SCALAR_NODE || wpm_is_null(k))
            return wpm_fail(c, k, "the keys of %s must be strings", what);
        size_t i = 0;
        while (v->type == YAML_SCALAR_NODE && SCHEMA_TYPES[i] && strcmp(SCHEMA_TYPES[i], wpm_sval(v)))
            i++;
        if (v->type != YAML_SCALAR_NODE || !SCHEMA_TYPES[i])
            return wpm_fail(c, v, "key '%.80s' of %s must have a type: string, number, integer, "
                                  "boolean, list, object or any", wpm_sval(k), what);
        wasmplug_kv *kv = realloc(*items, (*count + 1) * sizeof *kv);
        if (!kv)
            return wpm_nomem(c);
        *items = kv;
        kv[*count].key = strdup(wpm_sval(k));
        kv[*count].value = strdup(wpm_sval(v));
        (*count)++;
        if (!kv[*count - 1].key || !kv[*count - 1].value)
            return wpm_nomem(c);
    }
    return WASMPLUG_OK;
}

static wasmplug_status f_node_config(ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    return wpm_type_schema(c, "a node type's 'config'", n, &c->node->config_schema,
                           &c->node->config_schema_count);
}

static const field NODE_FIELDS[] = {
    {"name", f_node_name},       {"description", f_node_description},
    {"input", f_node_input},     {"output", f_node_output},
    {"prep", f_node_prep},       {"exec", f_node_exec},
    {"post", f_node_post},       {"config", f_node_config},
    {"actions", f_node_actions}, {NULL, NULL}};

static wasmplug_status f_nodes(ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    if (n->type != YAML_SEQUENCE_NODE)
        return wpm_fail(c, n, "'nodes' must be a list of node types (got %s)", wpm_kind_name(n));
    wasmplug_status result = WASMPLUG_OK;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&c->ydoc, *it);
        wasmplug_manifest_node_type *types =
            realloc(c->m->node_types, (c->m->node_type_count + 1) * sizeof *types);
        if (!types)
            return wpm_nomem(c);
        c->m->node_types = types;
        c->node = &types[c->m->node_type_count++];
        memset(c->node, 0, sizeof *c->node);
        wasmplug_status st = wpm_walk_mapping(c, "a node type", item, NODE_FIELDS);
        if (st == WASMPLUG_ERR_NOMEM)
            return st;
        if (st)
            result = st;
        else if (!c->node->name)
            result = wpm_fail(c, item, "a node type needs a 'name'");
        for (size_t i = 0; c->node->name && i + 1 < c->m->node_type_count; i++)
            if (types[i].name && strcmp(types[i].name, c->node->name) == 0)
                result = wpm_fail(c, item, "node type '%.80s' is declared twice", c->node->name);
    }
    return result;
}

static const field TOP_FIELDS[] = {
    {"id", f_id},           {"name", f_name},       {"version", f_version},
    {"description", f_description}, {"authors", f_authors}, {"license", f_license},
    {"module", f_module},   {"abi", f_abi},         {"exports", f_exports},
    {"config", f_config},   {"permissions", f_permissions}, {"resources", f_resources},
    {"nodes", f_nodes},     {"ui", wpm_ui_section}, {"dependencies", f_dependencies},
    {NULL, NULL}};

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

void wasmplug_manifest_doc_free(wasmplug_manifest_doc *m)
{
    if (!m)
        return;
    wasmplug_strlist *lists[] = {&m->authors,        &m->exports,        &m->host_functions,
                                 &m->env,            &m->events_publish, &m->events_subscribe,
                                 &m->http_hosts,     &m->permissions};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        for (size_t j = 0; j < lists[i]->count; j++)
            free(lists[i]->items[j]);
        free(lists[i]->items);
    }
    for (size_t i = 0; i < m->config_count; i++) {
        free((char *)m->config[i].key);
        free((char *)m->config[i].value);
    }
    free(m->config);
    for (size_t i = 0; i < m->dependency_count; i++) {
        free((char *)m->dependencies[i].key);
        free((char *)m->dependencies[i].value);
    }
    free(m->dependencies);
    for (size_t i = 0; i < m->metadata_count; i++) {
        free((char *)m->metadata[i].key);
        free((char *)m->metadata[i].value);
    }
    free(m->metadata);
    for (size_t i = 0; i < m->setting_count; i++) {
        free((char *)m->settings[i].key);
        free((char *)m->settings[i].value);
    }
    free(m->settings);
    for (size_t i = 0; i < m->node_type_count; i++) {
        wasmplug_manifest_node_type *t = &m->node_types[i];
        char *strs[] = {t->name, t->description, t->input, t->output, t->prep, t->exec, t->post};
        for (size_t j = 0; j < sizeof strs / sizeof strs[0]; j++)
            free(strs[j]);
        for (size_t j = 0; j < t->config_schema_count; j++) {
            free((char *)t->config_schema[j].key);
            free((char *)t->config_schema[j].value);
        }
        free(t->config_schema);
        for (size_t j = 0; j < t->actions.count; j++)
            free(t->actions.items[j]);
        free(t->actions.items);
    }
    free(m->node_types);
    wpm_ui_items_free(m->ui_items, m->ui_item_count);
    for (size_t i = 0; i < m->dir_count; i++) {
        free(m->dirs[i].host);
        free(m->dirs[i].guest);
    }
    free(m->dirs);
    for (size_t i = 0; i < m->subscription_count; i++) {
        free(m->subscriptions[i].topic);
        free(m->subscriptions[i].handler);
        free(m->subscriptions[i].group);
    }
    free(m->subscriptions);
    free(m->path);
    free(m->dir);
    free(m->id);
    free(m->name);
    free(m->version);
    free(m->description);
    free(m->license);
    free(m->module);
    free(m);
}

const char *wasmplug_abi_string(wasmplug_abi abi)
{
    return abi == WASMPLUG_ABI_V1        ? "v1"
           : abi == WASMPLUG_ABI_COMPAT  ? "compat"
           : abi == WASMPLUG_ABI_BINDGEN ? "wasm-bindgen"
           : abi == WASMPLUG_ABI_COMMAND ? "command"
                                         : "none";
}

/* Append a copy of key = value (nothing when value is NULL). */
static wasmplug_status add_kv(ctx *c, wasmplug_kv **items, size_t *count, const char *key,
                              const char *value)
{
    if (!value)
        return WASMPLUG_OK;
    wasmplug_kv *kv = realloc(*items, (*count + 1) * sizeof *kv);
    if (!kv)
        return wpm_nomem(c);
    *items = kv;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return wpm_nomem(c);
    }
    kv[*count].key = k;
    kv[*count].value = v;
    (*count)++;
    return WASMPLUG_OK;
}

static bool has_key(ctx *c, const yaml_node_t *map, const char *key)
{
    if (map->type != YAML_MAPPING_NODE)
        return false;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&c->ydoc, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(wpm_sval(k), key) == 0)
            return true;
    }
    return false;
}

static wasmplug_status add_meta(ctx *c, const char *key, const char *value)
{
    return add_kv(c, &c->m->metadata, &c->m->metadata_count, key, value);
}

static wasmplug_status add_setting(ctx *c, const char *key, uint64_t value)
{
    if (!value)
        return WASMPLUG_OK;
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    return add_kv(c, &c->m->settings, &c->m->setting_count, key, text);
}

/* Every permission the manifest requests, in the host's vocabulary (host
 * functions, then kv, db, notify, events.publish:P, events.subscribe:P,
 * http:H, ui, ui.scripts), and the service settings (quotas). */
static wasmplug_status add_permissions(ctx *c)
{
    wasmplug_manifest_doc *m = c->m;
    wasmplug_status st = WASMPLUG_OK;
    for (size_t i = 0; st == WASMPLUG_OK && i < m->host_functions.count; i++)
        st = wpm_strlist_add(c, &m->permissions, m->host_functions.items[i]);
    if (st == WASMPLUG_OK && m->storage)
        st = wpm_strlist_add(c, &m->permissions, "kv");
    if (st == WASMPLUG_OK && m->database)
        st = wpm_strlist_add(c, &m->permissions, "db");
    if (st == WASMPLUG_OK && m->notify)
        st = wpm_strlist_add(c, &m->permissions, "notify");
    const struct {
        const char *prefix;
        const wasmplug_strlist *list;
    } prefixed[] = {{"events.publish:", &m->events_publish},
                    {"events.subscribe:", &m->events_subscribe},
                    {"http:", &m->http_hosts}};
    for (size_t k = 0; k < sizeof prefixed / sizeof prefixed[0]; k++)
        for (size_t i = 0; st == WASMPLUG_OK && i < prefixed[k].list->count; i++) {
            char perm[600];
            snprintf(perm, sizeof perm, "%s%s", prefixed[k].prefix, prefixed[k].list->items[i]);
            st = wpm_strlist_add(c, &m->permissions, perm);
        }
    bool scripts = false;
    for (size_t i = 0; i < m->ui_item_count; i++)
        scripts = scripts || m->ui_items[i].scripts;
    if (st == WASMPLUG_OK && m->ui_item_count)
        st = wpm_strlist_add(c, &m->permissions, "ui");
    if (st == WASMPLUG_OK && scripts)
        st = wpm_strlist_add(c, &m->permissions, "ui.scripts");
    if (st == WASMPLUG_OK && m->storage)
        st = add_setting(c, "kv.max_bytes", m->storage_quota);
    if (st == WASMPLUG_OK && m->storage)
        st = add_setting(c, "kv.max_keys", m->storage_keys);
    if (st == WASMPLUG_OK && m->database)
        st = add_setting(c, "db.max_bytes", m->database_max_size);
    return st;
}

/* After the walk: required fields, defaults, metadata. */
static wasmplug_status finish(ctx *c, const yaml_node_t *root)
{
    wasmplug_manifest_doc *m = c->m;
    /* Missing, not merely wrong (a wrong value has its own error). */
    if (!m->id && !has_key(c, root, "id"))
        wpm_fail(c, root, "missing required key 'id' (e.g. id: word-counter)");
    if (!m->version && !has_key(c, root, "version"))
        wpm_fail(c, root, "missing required key 'version' (a semantic version, e.g. "
                      "version: 1.0.0)");
    if (c->errors)
        return WASMPLUG_ERR_MANIFEST;
    if (!m->module && !(m->module = strdup(WASMPLUG_MANIFEST_DEFAULT_MODULE)))
        return wpm_nomem(c);
    char authors[1024] = "";
    size_t at = 0;
    for (size_t i = 0; i < m->authors.count && at < sizeof authors; i++)
        at += (size_t)snprintf(authors + at, sizeof authors - at, "%s%s", i ? ", " : "",
                               m->authors.items[i]);
    wasmplug_status st;
    if ((st = add_meta(c, "license", m->license)) ||
        (st = add_meta(c, "authors", m->authors.count ? authors : NULL)) ||
        (st = add_meta(c, "abi", m->abi_given ? wasmplug_abi_string(m->abi) : NULL)) ||
        (st = add_meta(c, "module", m->module)))
        return st;
    return add_permissions(c);
}

/* The line (1-based) and byte column (1-based) of a byte offset. */
static void locate(const char *text, size_t len, size_t offset, unsigned *line, unsigned *col)
{
    size_t start = 0;
    *line = 1;
    for (size_t i = 0; i < offset && i < len; i++)
        if (text[i] == '\n') {
            (*line)++;
            start = i + 1;
        }
    *col = (unsigned)(offset - start) + 1;
}

/* A YAML syntax error, named plainly where libyaml's words would puzzle:
 * bytes that are not UTF-8, and tabs in the indentation. */
static void syntax_error(ctx *c, const yaml_parser_t *parser, const char *text, size_t len)
{
    unsigned line, col;
    if (parser->error == YAML_READER_ERROR) {
        locate(text, len, parser->problem_offset, &line, &col);
        if (parser->problem_value >= 0 && parser->problem_offset < len)
            fail_at(c, line, col,
                    "byte 0x%02x is not UTF-8 text (%s): a manifest is UTF-8; check the file's "
                    "encoding",
                    (unsigned char)text[parser->problem_offset],
                    parser->problem ? parser->problem : "invalid");
        else
            fail_at(c, line, col, "the manifest is not UTF-8 text: %s",
                    parser->problem ? parser->problem : "invalid");
        return;
    }
    const yaml_mark_t *mk =
        parser->problem_mark.line || parser->problem_mark.column || !parser->context_mark.line
            ? &parser->problem_mark
            : &parser->context_mark;
    line = (unsigned)mk->line + 1;
    col = (unsigned)mk->column + 1;
    /* The indentation of the problem line (and the one before: libyaml may
     * notice a tab a line late). */
    size_t starts[2] = {0, 0};
    unsigned l = 1;
    for (size_t i = 0; i < len && l < line; i++)
        if (text[i] == '\n') {
            l++;
            starts[0] = starts[1];
            starts[1] = i + 1;
        }
    for (int k = 1; k >= 0; k--) {
        if (k == 0 && line < 2)
            break;
        size_t s = starts[k];
        for (size_t i = s; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
            if (text[i] == '\t') {
                fail_at(c, k ? line : line - 1, (unsigned)(i - s) + 1,
                        "a tab in the indentation: YAML indents with spaces only");
                return;
            }
    }
    fail_at(c, line, col, "YAML syntax error: %s%s%s",
            parser->problem ? parser->problem : "cannot parse", parser->context ? " " : "",
            parser->context ? parser->context : "");
}

static char *dir_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static wasmplug_status parse_doc(const char *text, size_t len, const char *filename,
                                 const char *path_for_dir, wasmplug_manifest_doc **out,
                                 wasmplug_manifest_diag *diag)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.file = filename ? filename : "<manifest>";
    c.diag = diag;
    if (diag)
        memset(diag, 0, sizeof *diag);
    *out = NULL;

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return wpm_nomem(&c);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &c.ydoc)) {
        syntax_error(&c, &parser, text, len);
        yaml_parser_delete(&parser);
        return WASMPLUG_ERR_MANIFEST;
    }
    /* One document only: a second one (after "---") would be ignored. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        syntax_error(&c, &parser, text, len);
        yaml_parser_delete(&parser);
        yaml_document_delete(&c.ydoc);
        return WASMPLUG_ERR_MANIFEST;
    }
    yaml_node_t *next_root = yaml_document_get_root_node(&next);
    if (next_root)
        fail_at(&c, (unsigned)next.start_mark.line + 1, (unsigned)next.start_mark.column + 1,
                "a manifest is one YAML document, but a second one starts here: put every key "
                "in the first (and drop the '---')");
    yaml_document_delete(&next);
    yaml_parser_delete(&parser);
    if (next_root) {
        yaml_document_delete(&c.ydoc);
        return WASMPLUG_ERR_MANIFEST;
    }

    wasmplug_status st;
    yaml_node_t *root = yaml_document_get_root_node(&c.ydoc);
    c.m = calloc(1, sizeof *c.m);
    if (!c.m) {
        st = wpm_nomem(&c);
        goto out;
    }
    c.m->path = strdup(c.file);
    c.m->dir = dir_of(path_for_dir);
    if (!c.m->path || !c.m->dir) {
        st = wpm_nomem(&c);
        goto out;
    }
    if (!root) {
        st = wpm_fail(&c, NULL, "the manifest is empty (expected a mapping with at least id and "
                            "version)");
        if (diag)
            diag->line = diag->column = 1;
        goto out;
    }
    st = wpm_walk_mapping(&c, "the manifest", root, TOP_FIELDS);
    if (st != WASMPLUG_ERR_NOMEM && root->type == YAML_MAPPING_NODE)
        st = finish(&c, root);
out:
    yaml_document_delete(&c.ydoc);
    if (st != WASMPLUG_OK) {
        wasmplug_manifest_doc_free(c.m);
        return st;
    }
    *out = c.m;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_manifest_parse(const char *text, size_t len, const char *filename,
                                        wasmplug_manifest_doc **out,
                                        wasmplug_manifest_diag *diag)
{
    if (!text || !out)
        return WASMPLUG_ERR_ARGUMENT;
    return parse_doc(text, len, filename ? filename : "<string>", NULL, out, diag);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        if (cap > (64u << 20)) { /* a manifest is small; refuse huge files */
            free(buf);
            buf = NULL;
            errno = EFBIG;
            break;
        }
        char *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        *len = n;
    return buf;
}

wasmplug_status wasmplug_manifest_load(const char *path, wasmplug_manifest_doc **out,
                                       wasmplug_manifest_diag *diag)
{
    if (!path || !out)
        return WASMPLUG_ERR_ARGUMENT;
    size_t len = 0;
    char *text = read_all(path, &len);
    if (!text) {
        if (diag) {
            memset(diag, 0, sizeof *diag);
            snprintf(diag->file, sizeof diag->file, "%s", path);
            snprintf(diag->message, sizeof diag->message, "cannot read: %s", strerror(errno));
        }
        *out = NULL;
        return errno == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO;
    }
    wasmplug_status st = parse_doc(text, len, path, path, out, diag);
    free(text);
    return st;
}

wasmplug_status wasmplug_manifest_from_module(const uint8_t *wasm, size_t size,
                                              const char *filename,
                                              wasmplug_manifest_doc **out,
                                              wasmplug_manifest_diag *diag)
{
    const uint8_t *data;
    size_t len;
    wasmplug_status st = wasmplug_binary_custom_section(wasm, size, WASMPLUG_MANIFEST_SECTION,
                                                        &data, &len);
    if (st == WASMPLUG_ERR_NOT_FOUND) {
        /* No section: what its plugin_get_manifest export answers, if any. */
        char *text = NULL, why[400];
        st = wpm_manifest_from_export(wasm, size, &text, &len, why, sizeof why);
        if (st == WASMPLUG_OK) {
            char label[300];
            snprintf(label, sizeof label, "%s[plugin_get_manifest]",
                     filename ? filename : "<module>");
            st = parse_doc(text, len, label, filename, out, diag);
            free(text);
            return st;
        }
        if (st != WASMPLUG_ERR_NOT_FOUND) {
            if (diag) {
                memset(diag, 0, sizeof *diag);
                snprintf(diag->file, sizeof diag->file, "%s", filename ? filename : "<module>");
                snprintf(diag->message, sizeof diag->message,
                         "cannot read the manifest from its plugin_get_manifest export: %s", why);
            }
            *out = NULL;
            return st == WASMPLUG_ERR_NOMEM ? st : WASMPLUG_ERR_MANIFEST;
        }
    }
    if (st != WASMPLUG_OK) {
        if (diag) {
            memset(diag, 0, sizeof *diag);
            snprintf(diag->file, sizeof diag->file, "%s", filename ? filename : "<module>");
            snprintf(diag->message, sizeof diag->message, "%s",
                     st == WASMPLUG_ERR_NOT_FOUND
                         ? "the module has no " WASMPLUG_MANIFEST_SECTION
                           " custom section and no plugin_get_manifest export"
                         : "not a WebAssembly module (bad section layout)");
        }
        *out = NULL;
        return st;
    }
    char label[300];
    snprintf(label, sizeof label, "%s[" WASMPLUG_MANIFEST_SECTION "]",
             filename ? filename : "<module>");
    return parse_doc((const char *)data, len, label, filename, out, diag);
}

wasmplug_status wasmplug_manifest_to_host(const wasmplug_manifest_doc *doc, wasmplug_manifest *out)
{
    if (!doc || !out)
        return WASMPLUG_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    out->id = doc->id;
    out->version = doc->version;
    out->name = doc->name;
    out->description = doc->description;
    out->metadata = doc->metadata;
    out->metadata_count = doc->metadata_count;
    out->permissions = (const char *const *)doc->permissions.items;
    out->permission_count = doc->permissions.count;
    out->settings = doc->settings;
    out->setting_count = doc->setting_count;
    out->exports = (const char *const *)doc->exports.items;
    out->export_count = doc->exports.count;
    out->config = doc->config;
    out->config_count = doc->config_count;
    out->resources = doc->resources;
    out->dependencies = doc->dependencies;
    out->dependency_count = doc->dependency_count;
    return WASMPLUG_OK;
}

char *wasmplug_manifest_module_path(const wasmplug_manifest_doc *doc)
{
    const char *mod = doc->module ? doc->module : WASMPLUG_MANIFEST_DEFAULT_MODULE;
    const char *dir = doc->dir ? doc->dir : ".";
    size_t n = strlen(dir) + strlen(mod) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, mod);
    return p;
}
