/*
 * workflow_load.c - read a workflow.yaml with libyaml into a wasmplug_flow
 * (every error located at file:line:column, reported to the end like the
 * manifest parser), then bind it: read the listed plugins' manifests, load
 * one plugin per distinct config and limits into the host, resolve node
 * types to exports or built-ins, load sub-workflows, index connections.
 */
#include "workflow_internal.h"
#include "services_internal.h"
#include "store.h"

#include <yaml.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void wf_diag(wasmplug_flow_diag *d, const char *file, wf_loc at, const char *fmt, ...)
{
    if (!d)
        return;
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    d->error_count++;
    if (d->error_count == 1) {
        snprintf(d->file, sizeof d->file, "%s", file ? file : "");
        d->line = at.line;
        d->column = at.column;
        snprintf(d->message, sizeof d->message, "%s", msg);
        return;
    }
    size_t used = strlen(d->more);
    int n = snprintf(d->more + used, sizeof d->more - used, "%u:%u: %s\n", at.line, at.column,
                     msg);
    if (n < 0 || (size_t)n >= sizeof d->more - used)
        d->more[used] = '\0';
}

typedef struct rd {
    yaml_document_t doc;
    wasmplug_flow *flow;
    wasmplug_flow_diag *diag;
    unsigned errors;
} rd;

static wf_loc loc_of(const yaml_node_t *n)
{
    wf_loc l = {n ? (unsigned)n->start_mark.line + 1 : 0, n ? (unsigned)n->start_mark.column + 1 : 0};
    return l;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void err(rd *r, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->errors++;
    wf_diag(r->diag, r->flow->path, loc_of(n), "%s", msg);
}

static const char *sval(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
}

static bool plain(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static yaml_node_t *node_at(rd *r, int i)
{
    return yaml_document_get_node(&r->doc, i);
}

/* A YAML node as JSON: plain scalars that read as null, booleans or numbers
 * become those; everything else is a string. */
static json_t *to_json(rd *r, const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE) {
        json_t *o = json_object();
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++)
            json_object_set_new(o, sval(node_at(r, p->key)), to_json(r, node_at(r, p->value)));
        return o;
    }
    if (n->type == YAML_SEQUENCE_NODE) {
        json_t *a = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++)
            json_array_append_new(a, to_json(r, node_at(r, *it)));
        return a;
    }
    const char *s = sval(n);
    if (plain(n)) {
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null"))
            return json_null();
        if (!strcmp(s, "true"))
            return json_true();
        if (!strcmp(s, "false"))
            return json_false();
        char *end;
        errno = 0;
        long long i = strtoll(s, &end, 10);
        if (!*end && errno == 0)
            return json_integer(i);
        double d = strtod(s, &end);
        if (!*end && end != s)
            return json_real(d);
    }
    return json_string(s);
}

static bool get_str(rd *r, const yaml_node_t *v, const char *what, char **out)
{
    if (v->type != YAML_SCALAR_NODE || !*sval(v)) {
        err(r, v, "%s must be a non-empty string", what);
        return false;
    }
    free(*out);
    *out = strdup(sval(v));
    return *out != NULL;
}

/* "250ms", "2s", "1m" or a number of milliseconds. */
static bool get_duration(rd *r, const yaml_node_t *v, const char *what, uint64_t *ms)
{
    const char *s = sval(v);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    uint64_t mul = !*end || !strcmp(end, "ms") ? 1 : !strcmp(end, "s") ? 1000
                   : !strcmp(end, "m")          ? 60000
                                                : 0;
    if (v->type != YAML_SCALAR_NODE || end == s || *s == '-' || !mul || errno ||
        n > UINT32_MAX) {
        err(r, v, "%s must be a duration such as 250ms, 2s or 1m (got '%.60s')", what, s);
        return false;
    }
    *ms = n * mul;
    return true;
}

static bool get_count(rd *r, const yaml_node_t *v, const char *what, uint64_t max, uint64_t *out)
{
    const char *s = sval(v);
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (v->type != YAML_SCALAR_NODE || end == s || *end || *s == '-' || errno || n > max) {
        err(r, v, "%s must be a whole number up to %llu (got '%.60s')", what,
            (unsigned long long)max, s);
        return false;
    }
    *out = n;
    return true;
}

/* limits: {timeout, fuel, max_memory} */
static void get_limits(rd *r, const yaml_node_t *n, wasmplug_plugin_limits *l)
{
    if (n->type != YAML_MAPPING_NODE) {
        err(r, n, "'limits' must be a mapping such as {timeout: 1s, fuel: 1000000}");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(r, p->key), *v = node_at(r, p->value);
        const char *key = sval(k);
        uint64_t x;
        if (!strcmp(key, "timeout")) {
            if (get_duration(r, v, "limits.timeout", &x))
                l->timeout_ms = (uint32_t)x;
        } else if (!strcmp(key, "fuel")) {
            if (get_count(r, v, "limits.fuel", UINT64_MAX, &x))
                l->fuel = x;
        } else if (!strcmp(key, "max_memory")) {
            const char *s = sval(v);
            char *end;
            unsigned long long b = strtoull(s, &end, 10);
            uint64_t mul = !*end ? 1 : !strcmp(end, "KiB") ? 1024 : !strcmp(end, "MiB") ? 1 << 20
                                     : !strcmp(end, "GiB")  ? (uint64_t)1 << 30
                                                            : 0;
            if (end == s || !mul || b * mul / 65536 > UINT32_MAX || b * mul < 65536)
                err(r, v, "limits.max_memory must be a size of at least 64KiB, e.g. 16MiB "
                          "(got '%.60s')", s);
            else
                l->max_memory_pages = (uint32_t)(b * mul / 65536);
        } else {
            err(r, k, "unknown key '%.60s' in 'limits' (expected timeout, fuel, max_memory)", key);
        }
    }
}

static bool check_pointer(rd *r, const yaml_node_t *v, const char *what)
{
    if (v->type != YAML_SCALAR_NODE || sval(v)[0] != '/') {
        err(r, v, "%s must be a JSON pointer such as /text (got '%.60s')", what, sval(v));
        return false;
    }
    return true;
}

static void read_node(rd *r, const yaml_node_t *n, wf_node *node)
{
    node->loc = loc_of(n);
    node->config = json_object();
    node->fallback_index = SIZE_MAX;
    node->parallel = 1;
    if (n->type != YAML_MAPPING_NODE) {
        err(r, n, "a node must be a mapping with 'name' and 'type'");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(r, p->key), *v = node_at(r, p->value);
        const char *key = sval(k);
        uint64_t x;
        if (!strcmp(key, "name")) {
            get_str(r, v, "a node's 'name'", &node->name);
        } else if (!strcmp(key, "type")) {
            node->type_loc = loc_of(v);
            get_str(r, v, "a node's 'type'", &node->type);
        } else if (!strcmp(key, "config")) {
            node->config_loc = loc_of(v);
            if (v->type != YAML_MAPPING_NODE && !(plain(v) && !*sval(v))) {
                err(r, v, "a node's 'config' must be a mapping");
                continue;
            }
            json_decref(node->config);
            node->config = v->type == YAML_MAPPING_NODE ? to_json(r, v) : json_object();
        } else if (!strcmp(key, "retries")) {
            if (get_count(r, v, "'retries'", 1000, &x))
                node->retries = (unsigned)x;
        } else if (!strcmp(key, "wait")) {
            get_duration(r, v, "'wait'", &node->wait_ms);
        } else if (!strcmp(key, "fallback")) {
            node->fallback_loc = loc_of(v);
            get_str(r, v, "'fallback'", &node->fallback);
        } else if (!strcmp(key, "limits")) {
            get_limits(r, v, &node->limits);
        } else if (!strcmp(key, "input")) {
            if (check_pointer(r, v, "'input'"))
                get_str(r, v, "'input'", &node->input);
        } else if (!strcmp(key, "output")) {
            if (check_pointer(r, v, "'output'"))
                get_str(r, v, "'output'", &node->output);
        } else if (!strcmp(key, "batch")) {
            if (!plain(v) || (strcmp(sval(v), "true") && strcmp(sval(v), "false")))
                err(r, v, "'batch' must be true or false");
            node->batch = !strcmp(sval(v), "true");
        } else if (!strcmp(key, "parallel")) {
            if (get_count(r, v, "'parallel'", 64, &x))
                node->parallel = x ? (unsigned)x : 1;
        } else if (!strcmp(key, "final")) {
            if (v->type != YAML_SEQUENCE_NODE) {
                err(r, v, "'final' must be a list of actions, e.g. [done]");
                continue;
            }
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                char **items = realloc(node->final_actions.items,
                                       (node->final_actions.count + 1) * sizeof *items);
                if (!items)
                    return;
                node->final_actions.items = items;
                items[node->final_actions.count++] = strdup(sval(node_at(r, *it)));
            }
        } else {
            err(r, k,
                "unknown key '%.60s' in a node (expected name, type, config, retries, wait, "
                "fallback, limits, input, output, batch, parallel, final)",
                key);
        }
    }
    if (!node->name)
        err(r, n, "a node needs a 'name'");
    if (!node->type)
        err(r, n, "node '%s' needs a 'type'", node->name ? node->name : "?");
}

static void read_connection(rd *r, const yaml_node_t *n, wf_conn *c)
{
    c->loc = loc_of(n);
    c->from_index = c->to_index = SIZE_MAX;
    if (n->type != YAML_MAPPING_NODE) {
        err(r, n, "a connection must be a mapping {from, to, action}");
        return;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_at(r, p->key), *v = node_at(r, p->value);
        const char *key = sval(k);
        if (!strcmp(key, "from")) {
            c->from_loc = loc_of(v);
            get_str(r, v, "'from'", &c->from);
        } else if (!strcmp(key, "to")) {
            c->to_loc = loc_of(v);
            get_str(r, v, "'to'", &c->to);
        } else if (!strcmp(key, "action")) {
            get_str(r, v, "'action'", &c->action);
        } else {
            err(r, k, "unknown key '%.60s' in a connection (expected from, to, action)", key);
        }
    }
    if (!c->from || !c->to)
        err(r, n, "a connection needs 'from' and 'to'");
    if (!c->action)
        c->action = strdup("default");
}

static void read_top(rd *r, const yaml_node_t *root)
{
    wasmplug_flow *f = r->flow;
    if (root->type != YAML_MAPPING_NODE) {
        err(r, root, "a workflow must be a mapping with 'nodes' and 'connections'");
        return;
    }
    const yaml_node_t *nodes = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = node_at(r, p->key), *v = node_at(r, p->value);
        const char *key = sval(k);
        if (!strcmp(key, "name")) {
            get_str(r, v, "'name'", &f->name);
        } else if (!strcmp(key, "start")) {
            f->start_loc = loc_of(v);
            get_str(r, v, "'start'", &f->start);
        } else if (!strcmp(key, "max_steps")) {
            get_count(r, v, "'max_steps'", UINT32_MAX, &f->max_steps);
        } else if (!strcmp(key, "timeout")) {
            get_duration(r, v, "'timeout'", &f->timeout_ms);
        } else if (!strcmp(key, "params")) {
            json_decref(f->params);
            f->params = to_json(r, v);
        } else if (!strcmp(key, "limits")) {
            get_limits(r, v, &f->limits);
        } else if (!strcmp(key, "plugins")) {
            if (v->type != YAML_SEQUENCE_NODE) {
                err(r, v, "'plugins' must be a list of plugin directories");
                continue;
            }
            /* stored as paths for now (manifests read in bind) */
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *item = node_at(r, *it);
                wasmplug_manifest_doc **docs =
                    realloc(f->docs, (f->doc_count + 1) * sizeof *docs);
                wf_loc *locs = realloc(f->doc_locs, (f->doc_count + 1) * sizeof *locs);
                if (docs)
                    f->docs = docs;
                if (locs)
                    f->doc_locs = locs;
                if (!docs || !locs)
                    return;
                /* a placeholder doc carrying the path until bind reads it */
                wasmplug_manifest_doc *d = calloc(1, sizeof *d);
                if (!d)
                    return;
                d->path = strdup(sval(item));
                f->docs[f->doc_count] = d;
                f->doc_locs[f->doc_count++] = loc_of(item);
            }
        } else if (!strcmp(key, "nodes")) {
            nodes = v;
        } else if (!strcmp(key, "connections")) {
            if (v->type != YAML_SEQUENCE_NODE) {
                if (!(plain(v) && !*sval(v)))
                    err(r, v, "'connections' must be a list of {from, to, action}");
                continue;
            }
            size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
            f->conns = calloc(n ? n : 1, sizeof *f->conns);
            if (!f->conns)
                return;
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++)
                read_connection(r, node_at(r, *it), &f->conns[f->conn_count++]);
        } else {
            err(r, k,
                "unknown key '%.60s' in the workflow (expected name, plugins, start, "
                "max_steps, timeout, params, limits, nodes, connections)",
                key);
        }
    }
    if (!nodes || nodes->type != YAML_SEQUENCE_NODE ||
        nodes->data.sequence.items.top == nodes->data.sequence.items.start) {
        err(r, nodes ? nodes : root, "a workflow needs 'nodes': a non-empty list");
        return;
    }
    size_t n = (size_t)(nodes->data.sequence.items.top - nodes->data.sequence.items.start);
    f->nodes = calloc(n, sizeof *f->nodes);
    if (!f->nodes)
        return;
    for (yaml_node_item_t *it = nodes->data.sequence.items.start;
         it < nodes->data.sequence.items.top; it++) {
        wf_node *node = &f->nodes[f->node_count++];
        read_node(r, node_at(r, *it), node);
        for (size_t i = 0; node->name && i + 1 < f->node_count; i++)
            if (f->nodes[i].name && !strcmp(f->nodes[i].name, node->name))
                err(r, node_at(r, *it), "node name '%s' is used twice (first at line %u)",
                    node->name, f->nodes[i].loc.line);
    }
}

size_t wf_node_index(const wasmplug_flow *flow, const char *name)
{
    for (size_t i = 0; name && i < flow->node_count; i++)
        if (flow->nodes[i].name && !strcmp(flow->nodes[i].name, name))
            return i;
    return SIZE_MAX;
}

/* ------------------------------------------------------------------------ */
/* Binding                                                                  */
/* ------------------------------------------------------------------------ */

static char *join(const char *dir, const char *path)
{
    if (path[0] == '/' || !dir || !*dir)
        return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", dir, path);
    return s;
}

static void bind_err(wasmplug_flow *f, unsigned *errors, wasmplug_flow_diag *diag, wf_loc at,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
static void bind_err(wasmplug_flow *f, unsigned *errors, wasmplug_flow_diag *diag, wf_loc at,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    (*errors)++;
    wf_diag(diag, f->path, at, "%s", msg);
}

static wasmplug_status read_manifests(wasmplug_flow *f, unsigned *errors,
                                      wasmplug_flow_diag *diag)
{
    for (size_t i = 0; i < f->doc_count; i++) {
        wasmplug_manifest_doc *placeholder = f->docs[i];
        char *p = join(f->dir, placeholder->path);
        if (!p)
            return WASMPLUG_ERR_NOMEM;
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
            char *q = join(p, WASMPLUG_MANIFEST_FILE);
            free(p);
            if (!(p = q))
                return WASMPLUG_ERR_NOMEM;
        }
        wasmplug_manifest_diag md;
        memset(&md, 0, sizeof md);
        wasmplug_manifest_doc *doc = NULL;
        wasmplug_status s = wasmplug_manifest_load(p, &doc, &md);
        if (s) {
            if (s == WASMPLUG_ERR_NOT_FOUND || s == WASMPLUG_ERR_IO)
                bind_err(f, errors, diag, f->doc_locs[i], "plugin '%s': cannot read %s",
                         placeholder->path, p);
            else
                bind_err(f, errors, diag, f->doc_locs[i], "plugin '%s': %s:%u:%u: %s",
                         placeholder->path, md.file, md.line, md.column, md.message);
            free(p);
            continue;
        }
        free(p);
        wasmplug_manifest_doc_free(placeholder);
        f->docs[i] = doc;
    }
    return WASMPLUG_OK;
}

static bool is_real_doc(const wasmplug_manifest_doc *d)
{
    return d->id != NULL;
}

static char *default_export(const char *type, const char *phase)
{
    size_t n = strlen(type) + strlen(phase) + 2;
    char *s = malloc(n);
    if (!s)
        return NULL;
    snprintf(s, n, "%s_%s", type, phase);
    for (char *c = s; *c; c++)
        if (*c == '-' || *c == '.')
            *c = '_';
    return s;
}

static const char *const BUILTINS[] = {"route", "transform", "delay", "log", "workflow", NULL};

/* Find a plugin node type or export for type: "name" or "plugin-id/name". */
static bool resolve_type(wasmplug_flow *f, wf_node *node)
{
    const char *slash = strchr(node->type, '/');
    size_t idlen = slash ? (size_t)(slash - node->type) : 0;
    const char *name = slash ? slash + 1 : node->type;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < f->doc_count; i++) {
            wasmplug_manifest_doc *d = f->docs[i];
            if (!is_real_doc(d) ||
                (slash && (strlen(d->id) != idlen || strncmp(d->id, node->type, idlen))))
                continue;
            if (pass == 0) {
                for (size_t t = 0; t < d->node_type_count; t++)
                    if (!strcmp(d->node_types[t].name, name)) {
                        node->doc = d;
                        node->node_type = &d->node_types[t];
                        return true;
                    }
            } else {
                for (size_t e = 0; e < d->exports.count; e++)
                    if (!strcmp(d->exports.items[e], name)) {
                        node->doc = d;
                        return true;
                    }
            }
        }
    return false;
}

/* The closest known type name, for "did you mean". */
static const char *closest_type(const wasmplug_flow *f, const char *type)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; BUILTINS[i]; i++)
        if (wps_edit_distance(type, BUILTINS[i]) < bestd)
            bestd = wps_edit_distance(type, best = BUILTINS[i]);
    for (size_t i = 0; i < f->doc_count; i++) {
        const wasmplug_manifest_doc *d = f->docs[i];
        if (!is_real_doc(d))
            continue;
        for (size_t t = 0; t < d->node_type_count; t++)
            if (wps_edit_distance(type, d->node_types[t].name) < bestd)
                bestd = wps_edit_distance(type, best = d->node_types[t].name);
        for (size_t e = 0; e < d->exports.count; e++)
            if (wps_edit_distance(type, d->exports.items[e]) < bestd)
                bestd = wps_edit_distance(type, best = d->exports.items[e]);
    }
    return best;
}

/* Node config as the plugin's config (strings), limits and pool: the key
 * that decides which nodes share one loaded plugin. */
static char *plugin_key(const wasmplug_flow *f, const wf_node *node, wasmplug_plugin_limits *lim)
{
    *lim = f->limits;
    const wasmplug_plugin_limits *nl = &node->limits;
    if (nl->timeout_ms)
        lim->timeout_ms = nl->timeout_ms;
    if (nl->fuel)
        lim->fuel = nl->fuel;
    if (nl->max_memory_pages)
        lim->max_memory_pages = nl->max_memory_pages;
    char *cfg = json_dumps(node->config, JSON_SORT_KEYS | JSON_COMPACT);
    if (!cfg)
        return NULL;
    size_t n = strlen(cfg) + strlen(node->doc->path) + 96;
    char *key = malloc(n);
    if (key)
        snprintf(key, n, "%s|%s|%u|%llu|%u|%u", node->doc->path, cfg, lim->timeout_ms,
                 (unsigned long long)lim->fuel, lim->max_memory_pages, node->parallel);
    free(cfg);
    return key;
}

static atomic_uint plugin_serial;

static wasmplug_status load_plugin(wasmplug_flow *f, wf_node *node, unsigned *errors,
                                   wasmplug_flow_diag *diag)
{
    wasmplug_plugin_limits lim;
    char *key = plugin_key(f, node, &lim);
    if (!key)
        return WASMPLUG_ERR_NOMEM;
    for (size_t i = 0; i < f->plugin_count; i++)
        if (!strcmp(f->plugins[i]->config_key, key)) {
            node->plugin = f->plugins[i];
            free(key);
            return WASMPLUG_OK;
        }
    wf_plugin *wp = calloc(1, sizeof *wp);
    wf_plugin **list = realloc(f->plugins, (f->plugin_count + 1) * sizeof *list);
    if (!wp || !list) {
        free(wp);
        free(key);
        return WASMPLUG_ERR_NOMEM;
    }
    f->plugins = list;
    f->plugins[f->plugin_count++] = wp;
    wp->config_key = key;
    wp->doc = node->doc;
    wp->pool = node->parallel;
    node->plugin = wp;

    /* config values as strings (what plugins receive), over the manifest's */
    size_t n = json_object_size(node->config);
    wasmplug_kv *kv = calloc(n ? n : 1, sizeof *kv);
    char **owned = calloc(n ? n : 1, sizeof *owned);
    if (!kv || !owned) {
        free(kv);
        free(owned);
        return WASMPLUG_ERR_NOMEM;
    }
    size_t k = 0;
    const char *ck;
    json_t *cv;
    json_object_foreach(node->config, ck, cv) {
        kv[k].key = ck;
        owned[k] = json_is_string(cv) ? strdup(json_string_value(cv))
                                      : json_dumps(cv, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
        kv[k].value = owned[k] ? owned[k] : "";
        k++;
    }
    wasmplug_manifest man;
    wasmplug_status st = wasmplug_manifest_to_host(node->doc, &man);
    char *module = wasmplug_manifest_module_path(node->doc);
    if (st == WASMPLUG_OK && module) {
        wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
        o.manifest = &man;
        o.config = kv;
        o.config_count = k;
        o.limits = lim;
        o.pool_size = node->parallel;
        o.init = true;
        char name[WASMPLUG_NAME_MAX];
        snprintf(name, sizeof name, "flow.%.80s.%u", node->doc->id,
                 atomic_fetch_add(&plugin_serial, 1) + 1);
        wasmplug_plugin_error pe;
        memset(&pe, 0, sizeof pe);
        char why_not[400] = "";
        if (f->before_load &&
            (st = f->before_load(f->hook_user, f->host, node->doc, name, why_not,
                                 sizeof why_not)) != WASMPLUG_OK) {
            bind_err(f, errors, diag, node->type_loc, "node '%s': plugin '%s' (%s): %s",
                     node->name, node->doc->id, module,
                     why_not[0] ? why_not : wasmplug_strerror(st));
            if (st != WASMPLUG_ERR_NOMEM)
                st = WASMPLUG_OK; /* reported; go on */
        } else if ((st = wasmplug_host_load_file(f->host, name, module, &o, &wp->plugin, &pe))) {
            char why[400];
            wasmplug_plugin_error_format(&pe, why, sizeof why);
            bind_err(f, errors, diag, node->type_loc,
                     "node '%s': cannot load plugin '%s' (%s): %s", node->name, node->doc->id,
                     module, why);
            wasmplug_plugin_error_clear(&pe);
            wp->plugin = NULL;
            if (st != WASMPLUG_ERR_NOMEM)
                st = WASMPLUG_OK; /* reported; go on */
        }
    } else if (!module) {
        st = WASMPLUG_ERR_NOMEM;
    }
    free(module);
    for (size_t i = 0; i < k; i++)
        free(owned[i]);
    free(owned);
    free(kv);
    return st;
}

/* A plugin node's exports: from the node type (or its defaults) or the plain export. */
static wasmplug_status bind_exports(wasmplug_flow *f, wf_node *node, unsigned *errors,
                                    wasmplug_flow_diag *diag)
{
    wasmplug_plugin *p = node->plugin->plugin;
    const wasmplug_manifest_node_type *t = node->node_type;
    const char *base = strchr(node->type, '/') ? strchr(node->type, '/') + 1 : node->type;
    if (!t) {
        node->exec_fn = strdup(base);
        if (!node->exec_fn)
            return WASMPLUG_ERR_NOMEM;
    } else {
        const char *given[3] = {t->prep, t->exec, t->post};
        const char *phase[3] = {"prep", "exec", "post"};
        char **dest[3] = {&node->prep_fn, &node->exec_fn, &node->post_fn};
        for (int i = 0; i < 3; i++) {
            char *fn = given[i] ? strdup(given[i]) : default_export(t->name, phase[i]);
            if (!fn)
                return WASMPLUG_ERR_NOMEM;
            if (!wasmplug_plugin_has_function(p, fn) && (given[i] || i == 1)) {
                bind_err(f, errors, diag, node->type_loc,
                         "node '%s': plugin '%s' has no export '%s' for the %s phase of node "
                         "type '%s'",
                         node->name, node->doc->id, fn, phase[i], t->name);
                free(fn);
                fn = NULL;
            } else if (!wasmplug_plugin_has_function(p, fn)) {
                free(fn); /* optional phase: built in */
                fn = NULL;
            }
            *dest[i] = fn;
        }
        return WASMPLUG_OK;
    }
    if (!wasmplug_plugin_has_function(p, node->exec_fn))
        bind_err(f, errors, diag, node->type_loc, "node '%s': plugin '%s' has no export '%s'",
                 node->name, node->doc->id, node->exec_fn);
    return WASMPLUG_OK;
}

static wasmplug_status bind(wasmplug_flow *f, unsigned *errors, wasmplug_flow_diag *diag)
{
    wasmplug_status st = read_manifests(f, errors, diag);
    if (st)
        return st;
    for (size_t i = 0; i < f->node_count; i++) {
        wf_node *node = &f->nodes[i];
        if (!node->name || !node->type)
            continue;
        static const wf_kind kinds[] = {WF_ROUTE, WF_TRANSFORM, WF_DELAY, WF_LOG, WF_SUBFLOW};
        size_t b = 0;
        while (BUILTINS[b] && strcmp(BUILTINS[b], node->type))
            b++;
        if (BUILTINS[b]) {
            node->kind = kinds[b];
        } else if (resolve_type(f, node)) {
            node->kind = WF_PLUGIN;
        } else {
            const char *hint = closest_type(f, node->type);
            bind_err(f, errors, diag, node->type_loc,
                     "node '%s' has unknown type '%s'%s%s%s (types: route, transform, delay, "
                     "log, workflow, and the node types and exports of the listed plugins)",
                     node->name, node->type, hint ? " (did you mean '" : "", hint ? hint : "",
                     hint ? "'?)" : "");
            continue;
        }
        if (node->kind == WF_PLUGIN) {
            if ((st = load_plugin(f, node, errors, diag)))
                return st;
            if (node->plugin->plugin && (st = bind_exports(f, node, errors, diag)))
                return st;
        } else if (node->kind == WF_SUBFLOW) {
            json_t *file = json_object_get(node->config, "file");
            if (!json_is_string(file)) {
                bind_err(f, errors, diag, node->config_loc.line ? node->config_loc : node->loc,
                         "node '%s': a workflow node needs config {file: sub-workflow.yaml}",
                         node->name);
                continue;
            }
            if (f->depth + 1 >= WASMPLUG_FLOW_MAX_DEPTH) {
                bind_err(f, errors, diag, node->config_loc,
                         "node '%s': sub-workflows nest deeper than %d (a cycle?)", node->name,
                         WASMPLUG_FLOW_MAX_DEPTH);
                continue;
            }
            char *p = join(f->dir, json_string_value(file));
            if (!p)
                return WASMPLUG_ERR_NOMEM;
            wasmplug_flow_diag sd;
            memset(&sd, 0, sizeof sd);
            wasmplug_flow_load_options so = {(const char *const *)f->extra_plugins,
                                             f->extra_plugin_count, f->before_load,
                                             f->hook_user};
            st = wf_load(f->host, p, f->depth + 1, &so, &node->sub, &sd);
            if (st == WASMPLUG_ERR_NOMEM) {
                free(p);
                return st;
            }
            if (st)
                bind_err(f, errors, diag, node->config_loc,
                         "node '%s': sub-workflow %s:%u:%u: %s", node->name,
                         sd.file[0] ? sd.file : p, sd.line, sd.column,
                         sd.message[0] ? sd.message : wasmplug_strerror(st));
            free(p);
        }
        if (node->fallback &&
            (node->fallback_index = wf_node_index(f, node->fallback)) == SIZE_MAX)
            bind_err(f, errors, diag, node->fallback_loc,
                     "node '%s': fallback '%s' is not a node of this workflow", node->name,
                     node->fallback);
    }
    for (size_t i = 0; i < f->conn_count; i++) {
        wf_conn *c = &f->conns[i];
        if (!c->from || !c->to)
            continue;
        if ((c->from_index = wf_node_index(f, c->from)) == SIZE_MAX)
            bind_err(f, errors, diag, c->from_loc, "connection from unknown node '%s'", c->from);
        if ((c->to_index = wf_node_index(f, c->to)) == SIZE_MAX)
            bind_err(f, errors, diag, c->to_loc, "connection to unknown node '%s'", c->to);
        if (c->from_index == SIZE_MAX)
            continue;
        wf_node *from = &f->nodes[c->from_index];
        for (size_t j = 0; j < from->out_count; j++)
            if (!strcmp(f->conns[from->outs[j]].action, c->action))
                bind_err(f, errors, diag, c->loc,
                         "node '%s' already has a connection on action '%s' (line %u)",
                         c->from, c->action, f->conns[from->outs[j]].loc.line);
        size_t *outs = realloc(from->outs, (from->out_count + 1) * sizeof *outs);
        if (!outs)
            return WASMPLUG_ERR_NOMEM;
        from->outs = outs;
        outs[from->out_count++] = i;
    }
    f->start_index = f->start ? wf_node_index(f, f->start) : 0;
    if (f->start_index == SIZE_MAX)
        bind_err(f, errors, diag, f->start_loc, "start node '%s' is not a node of this workflow",
                 f->start);
    return WASMPLUG_OK;
}

/* Plugins given by the caller (relative to the current directory), after
 * the file's own. */
static bool add_extra_plugins(wasmplug_flow *f, const char *const *plugins, size_t count)
{
    if (count && !(f->extra_plugins = calloc(count, sizeof *f->extra_plugins)))
        return false;
    for (size_t i = 0; i < count; i++) {
        wasmplug_manifest_doc **docs = realloc(f->docs, (f->doc_count + 1) * sizeof *docs);
        if (docs)
            f->docs = docs;
        wf_loc *locs = realloc(f->doc_locs, (f->doc_count + 1) * sizeof *locs);
        if (locs)
            f->doc_locs = locs;
        wasmplug_manifest_doc *d = docs && locs ? calloc(1, sizeof *d) : NULL;
        if (!d)
            return false;
        char cwd[4096];
        if (plugins[i][0] == '/' || !getcwd(cwd, sizeof cwd))
            d->path = strdup(plugins[i]);
        else
            d->path = join(cwd, plugins[i]);
        f->docs[f->doc_count] = d;
        f->extra_plugins[f->extra_plugin_count++] = d->path ? strdup(d->path) : NULL;
        f->doc_locs[f->doc_count].line = 0;
        f->doc_locs[f->doc_count++].column = 0;
        if (!d->path)
            return false;
    }
    return true;
}

static wasmplug_status parse_text(wasmplug_host *host, const char *text, size_t len,
                                  const char *filename, const char *base_dir, unsigned depth,
                                  const wasmplug_flow_load_options *opts, wasmplug_flow **out,
                                  wasmplug_flow_diag *diag)
{
    *out = NULL;
    wasmplug_flow *f = calloc(1, sizeof *f);
    if (!f)
        return WASMPLUG_ERR_NOMEM;
    f->host = host;
    f->depth = depth;
    if (opts) {
        f->before_load = opts->before_load;
        f->hook_user = opts->hook_user;
    }
    f->max_steps = 10000;
    f->params = json_object();
    f->path = strdup(filename ? filename : "<string>");
    f->dir = strdup(base_dir ? base_dir : ".");
    if (!f->path || !f->dir || !f->params) {
        wasmplug_flow_free(f);
        return WASMPLUG_ERR_NOMEM;
    }
    rd r;
    memset(&r, 0, sizeof r);
    r.flow = f;
    r.diag = diag;
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &r.doc)) {
        wf_loc at = {(unsigned)parser.problem_mark.line + 1,
                     (unsigned)parser.problem_mark.column + 1};
        wf_diag(diag, f->path, at, "YAML: %s%s%s", parser.problem ? parser.problem : "syntax error",
                parser.context ? " " : "", parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        wasmplug_flow_free(f);
        return WASMPLUG_ERR_WORKFLOW;
    }
    yaml_parser_delete(&parser);
    yaml_node_t *root = yaml_document_get_root_node(&r.doc);
    if (!root)
        err(&r, NULL, "the workflow file is empty");
    else
        read_top(&r, root);
    yaml_document_delete(&r.doc);
    wasmplug_status st = WASMPLUG_OK;
    if (opts && !add_extra_plugins(f, opts->plugins, opts->plugin_count))
        st = WASMPLUG_ERR_NOMEM;
    if (!r.errors && !st)
        st = bind(f, &r.errors, diag);
    if (st || r.errors) {
        wasmplug_flow_free(f);
        return st ? st : WASMPLUG_ERR_WORKFLOW;
    }
    *out = f;
    return WASMPLUG_OK;
}

wasmplug_status wf_load(wasmplug_host *host, const char *path, unsigned depth,
                        const wasmplug_flow_load_options *opts, wasmplug_flow **out,
                        wasmplug_flow_diag *diag)
{
    size_t len;
    char *text = wps_read_file(path, &len);
    if (!text) {
        int e = errno;
        if (e == ENOMEM)
            return WASMPLUG_ERR_NOMEM;
        wf_loc none = {0, 0};
        wf_diag(diag, path, none, "cannot open the workflow file: %s", strerror(e));
        return e == ENOENT ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_IO;
    }
    char *dir = strdup(path);
    if (!dir) {
        free(text);
        return WASMPLUG_ERR_NOMEM;
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    wasmplug_status st =
        parse_text(host, text, len, path, slash ? (*dir ? dir : "/") : ".", depth, opts, out,
                   diag);
    free(dir);
    free(text);
    return st;
}

wasmplug_status wasmplug_flow_load_opts(wasmplug_host *host, const char *path,
                                        const wasmplug_flow_load_options *opts,
                                        wasmplug_flow **out, wasmplug_flow_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!host || !path || !out || (opts && opts->plugin_count && !opts->plugins))
        return WASMPLUG_ERR_ARGUMENT;
    return wf_load(host, path, 0, opts, out, diag);
}

wasmplug_status wasmplug_flow_load(wasmplug_host *host, const char *path, wasmplug_flow **out,
                                   wasmplug_flow_diag *diag)
{
    return wasmplug_flow_load_opts(host, path, NULL, out, diag);
}

wasmplug_status wasmplug_flow_load_with(wasmplug_host *host, const char *path,
                                        const char *const *plugins, size_t plugin_count,
                                        wasmplug_flow **out, wasmplug_flow_diag *diag)
{
    wasmplug_flow_load_options o = {plugins, plugin_count, NULL, NULL};
    return wasmplug_flow_load_opts(host, path, &o, out, diag);
}

wasmplug_status wasmplug_flow_parse(wasmplug_host *host, const char *text, size_t len,
                                    const char *filename, const char *base_dir,
                                    wasmplug_flow **out, wasmplug_flow_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!host || !text || !out)
        return WASMPLUG_ERR_ARGUMENT;
    return parse_text(host, text, len, filename, base_dir, 0, NULL, out, diag);
}

void wasmplug_flow_free(wasmplug_flow *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->node_count; i++) {
        wf_node *n = &f->nodes[i];
        free(n->name);
        free(n->type);
        json_decref(n->config);
        free(n->fallback);
        free(n->input);
        free(n->output);
        for (size_t j = 0; j < n->final_actions.count; j++)
            free(n->final_actions.items[j]);
        free(n->final_actions.items);
        free(n->prep_fn);
        free(n->exec_fn);
        free(n->post_fn);
        wasmplug_flow_free(n->sub);
        free(n->outs);
    }
    free(f->nodes);
    for (size_t i = 0; i < f->conn_count; i++) {
        free(f->conns[i].from);
        free(f->conns[i].to);
        free(f->conns[i].action);
    }
    free(f->conns);
    for (size_t i = 0; i < f->plugin_count; i++) {
        wf_plugin *p = f->plugins[i];
        if (p->plugin) {
            wasmplug_host_kill(f->host, wasmplug_plugin_name(p->plugin));
            wasmplug_plugin_release(p->plugin);
        }
        free(p->config_key);
        free(p);
    }
    free(f->plugins);
    for (size_t i = 0; i < f->doc_count; i++)
        wasmplug_manifest_doc_free(f->docs[i]);
    free(f->docs);
    free(f->doc_locs);
    for (size_t i = 0; i < f->extra_plugin_count; i++)
        free(f->extra_plugins[i]);
    free(f->extra_plugins);
    json_decref(f->params);
    free(f->path);
    free(f->dir);
    free(f->name);
    free(f->start);
    free(f);
}
