/*
 * ui.c - the UI contribution registry (<wasmplug/ui.h>): what plugins'
 * manifests declare under `ui:`, registered when the plugin holds the
 * grant "ui", listed for hosts, and rendered or run through the plugin's
 * exports with bounded input and output.
 */
#include <wasmplug/ui.h>

#include "events_internal.h" /* ev_fail: a plugin error filled in */
#include "services_internal.h"

#include <jansson.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_HTML (256u << 10)
#define DEFAULT_MAX_OUTPUT (1u << 20)
#define DEFAULT_MAX_INPUT (64u << 10)
#define PANEL_ERRORS 10

typedef struct entry {
    wasmplug_ui_kind kind;
    char *plugin, *id, *title, *description, *export_name;
    char **data;
    size_t data_count;
    wasmplug_kv *props;
    size_t prop_count;
    bool scripts;
} entry;

struct wasmplug_ui_registry {
    wasmplug_host *host;
    wasmplug_ui_config cfg;
    pthread_mutex_t lock;
    entry *items;
    size_t count;
};

static const char *const KIND_NAMES[] = {"panel", "block", "command"};

const char *wasmplug_ui_kind_string(wasmplug_ui_kind kind)
{
    return (unsigned)kind < 3 ? KIND_NAMES[kind] : "unknown";
}

bool wasmplug_ui_kind_parse(const char *s, wasmplug_ui_kind *out)
{
    for (unsigned k = 0; s && k < 3; k++)
        if (!strcmp(s, KIND_NAMES[k])) {
            *out = (wasmplug_ui_kind)k;
            return true;
        }
    return false;
}

/* ---- registry ----------------------------------------------------------- */

wasmplug_status wasmplug_ui_registry_new(wasmplug_host *host, const wasmplug_ui_config *cfg,
                                         wasmplug_ui_registry **out)
{
    if (!host || !out)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_ui_registry *reg = calloc(1, sizeof *reg);
    if (!reg)
        return WASMPLUG_ERR_NOMEM;
    reg->host = host;
    if (cfg)
        reg->cfg = *cfg;
    reg->cfg.max_html_bytes = WPS_DEFAULT(reg->cfg.max_html_bytes, DEFAULT_MAX_HTML);
    reg->cfg.max_output_bytes = WPS_DEFAULT(reg->cfg.max_output_bytes, DEFAULT_MAX_OUTPUT);
    reg->cfg.max_input_bytes = WPS_DEFAULT(reg->cfg.max_input_bytes, DEFAULT_MAX_INPUT);
    if (pthread_mutex_init(&reg->lock, NULL) != 0) {
        free(reg);
        return WASMPLUG_ERR_NOMEM;
    }
    *out = reg;
    return WASMPLUG_OK;
}

static void entry_free(entry *e)
{
    char *strs[] = {e->plugin, e->id, e->title, e->description, e->export_name};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        free(strs[i]);
    for (size_t i = 0; i < e->data_count; i++)
        free(e->data[i]);
    free(e->data);
    for (size_t i = 0; i < e->prop_count; i++) {
        free((char *)e->props[i].key);
        free((char *)e->props[i].value);
    }
    free(e->props);
}

void wasmplug_ui_registry_free(wasmplug_ui_registry *reg)
{
    if (!reg)
        return;
    for (size_t i = 0; i < reg->count; i++)
        entry_free(&reg->items[i]);
    free(reg->items);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

/* An entry for item of plugin; false when out of memory (e is freed). */
static bool entry_make(entry *e, const char *plugin, const wasmplug_manifest_ui_item *item,
                       bool scripts)
{
    bool ok = true;
    memset(e, 0, sizeof *e);
    e->kind = item->kind;
    e->scripts = scripts;
    e->plugin = dup_or_null(plugin, &ok);
    e->id = dup_or_null(item->id, &ok);
    e->title = dup_or_null(item->title, &ok);
    e->description = dup_or_null(item->description, &ok);
    e->export_name = dup_or_null(item->export_name, &ok);
    if (ok && item->data.count && !(e->data = calloc(item->data.count, sizeof *e->data)))
        ok = false;
    for (size_t i = 0; ok && i < item->data.count; i++, e->data_count++)
        e->data[i] = dup_or_null(item->data.items[i], &ok);
    if (ok && item->prop_count && !(e->props = calloc(item->prop_count, sizeof *e->props)))
        ok = false;
    for (size_t i = 0; ok && i < item->prop_count; i++, e->prop_count++) {
        e->props[i].key = dup_or_null(item->props[i].key, &ok);
        e->props[i].value = dup_or_null(item->props[i].value, &ok);
    }
    if (!ok)
        entry_free(e);
    return ok;
}

/* Drop plugin's entries; returns how many. Lock held. */
static size_t remove_plugin(wasmplug_ui_registry *reg, const char *plugin)
{
    size_t kept = 0, removed = 0;
    for (size_t i = 0; i < reg->count; i++) {
        if (!strcmp(reg->items[i].plugin, plugin)) {
            entry_free(&reg->items[i]);
            removed++;
        } else {
            reg->items[kept++] = reg->items[i];
        }
    }
    reg->count = kept;
    return removed;
}

size_t wasmplug_ui_unregister(wasmplug_ui_registry *reg, const char *plugin)
{
    if (!reg || !plugin)
        return 0;
    pthread_mutex_lock(&reg->lock);
    size_t n = remove_plugin(reg, plugin);
    pthread_mutex_unlock(&reg->lock);
    return n;
}

wasmplug_status wasmplug_ui_register(wasmplug_ui_registry *reg, const char *plugin,
                                     const wasmplug_manifest_doc *doc, char *msg,
                                     size_t msg_size)
{
    char scratch[8];
    if (!msg) {
        msg = scratch;
        msg_size = sizeof scratch;
    }
    if (!reg || !plugin || !doc) {
        snprintf(msg, msg_size, "wasmplug_ui_register: registry, plugin and manifest needed");
        return WASMPLUG_ERR_ARGUMENT;
    }
    wasmplug_plugin *p;
    if (wasmplug_host_get(reg->host, plugin, &p) != WASMPLUG_OK) {
        snprintf(msg, msg_size, "plugin '%s' is not loaded", plugin);
        return WASMPLUG_ERR_NOT_FOUND;
    }
    wasmplug_status st = WASMPLUG_OK;
    bool granted = doc->ui_item_count && wasmplug_plugin_granted(p, "ui");
    bool scripts_granted = granted && wasmplug_plugin_granted(p, "ui.scripts");
    if (doc->ui_item_count && !granted) {
        snprintf(msg, msg_size,
                 "plugin '%s' contributes UI (%zu entr%s under 'ui:') but is not granted "
                 "'ui': allow it in the host policy",
                 plugin, doc->ui_item_count, doc->ui_item_count == 1 ? "y" : "ies");
        st = WASMPLUG_ERR_PERMISSION_DENIED;
    }
    for (size_t i = 0; st == WASMPLUG_OK && i < doc->ui_item_count; i++) {
        const wasmplug_manifest_ui_item *it = &doc->ui_items[i];
        if (!wasmplug_plugin_has_function(p, it->export_name)) {
            snprintf(msg, msg_size, "plugin '%s': %s '%s' names the export '%s', which the "
                     "module does not have",
                     plugin, wasmplug_ui_kind_string(it->kind), it->id, it->export_name);
            st = WASMPLUG_ERR_NOT_FOUND;
        }
    }
    entry *fresh = NULL;
    size_t made = 0;
    if (st == WASMPLUG_OK && doc->ui_item_count &&
        !(fresh = calloc(doc->ui_item_count, sizeof *fresh)))
        st = WASMPLUG_ERR_NOMEM;
    for (; st == WASMPLUG_OK && made < doc->ui_item_count; made++) {
        const wasmplug_manifest_ui_item *it = &doc->ui_items[made];
        if (!entry_make(&fresh[made], plugin, it, it->scripts && scripts_granted))
            st = WASMPLUG_ERR_NOMEM;
    }
    wasmplug_plugin_release(p);
    pthread_mutex_lock(&reg->lock);
    remove_plugin(reg, plugin);
    if (st == WASMPLUG_OK && made) {
        entry *items = realloc(reg->items, (reg->count + made) * sizeof *items);
        if (items) {
            reg->items = items;
            memcpy(items + reg->count, fresh, made * sizeof *items);
            reg->count += made;
            made = 0; /* moved */
        } else {
            st = WASMPLUG_ERR_NOMEM;
        }
    }
    pthread_mutex_unlock(&reg->lock);
    if (fresh) {
        for (size_t i = 0; i < made; i++)
            entry_free(&fresh[i]);
        free(fresh);
    }
    if (st == WASMPLUG_ERR_NOMEM)
        snprintf(msg, msg_size, "out of memory registering the UI of plugin '%s'", plugin);
    return st;
}

/* ---- listing ------------------------------------------------------------ */

/* Bytes a copy of e needs beyond its struct: strings, pointer and kv arrays. */
static size_t entry_extra(const entry *e)
{
    size_t n = 0;
    const char *strs[] = {e->plugin, e->id, e->title, e->description, e->export_name};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        n += strs[i] ? strlen(strs[i]) + 1 : 0;
    n += e->data_count * sizeof(char *) + e->prop_count * sizeof(wasmplug_kv);
    for (size_t i = 0; i < e->data_count; i++)
        n += strlen(e->data[i]) + 1;
    for (size_t i = 0; i < e->prop_count; i++)
        n += strlen(e->props[i].key) + strlen(e->props[i].value) + 2;
    return n;
}

static char *put_str(char **at, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = memcpy(*at, s, n);
    *at += n;
    return d;
}

wasmplug_status wasmplug_ui_list(wasmplug_ui_registry *reg, const char *plugin,
                                 wasmplug_ui_contribution **items, size_t *count)
{
    if (!reg || !items || !count)
        return WASMPLUG_ERR_ARGUMENT;
    *items = NULL;
    *count = 0;
    pthread_mutex_lock(&reg->lock);
    size_t n = 0, extra = 0;
    for (size_t i = 0; i < reg->count; i++)
        if (!plugin || !strcmp(reg->items[i].plugin, plugin)) {
            n++;
            extra += entry_extra(&reg->items[i]);
        }
    /* Pointer arrays first after the structs (alignment), then text. */
    wasmplug_ui_contribution *out = n ? malloc(n * sizeof *out + extra) : NULL;
    if (n && !out) {
        pthread_mutex_unlock(&reg->lock);
        return WASMPLUG_ERR_NOMEM;
    }
    char *arrays = (char *)(out + n), *text = arrays;
    for (size_t i = 0; i < reg->count; i++) {
        const entry *e = &reg->items[i];
        if (!plugin || !strcmp(e->plugin, plugin))
            text += e->data_count * sizeof(char *) + e->prop_count * sizeof(wasmplug_kv);
    }
    size_t k = 0;
    for (size_t i = 0; i < reg->count; i++) {
        const entry *e = &reg->items[i];
        if (plugin && strcmp(e->plugin, plugin))
            continue;
        wasmplug_ui_contribution *c = &out[k++];
        c->kind = e->kind;
        c->scripts = e->scripts;
        c->plugin = put_str(&text, e->plugin);
        c->id = put_str(&text, e->id);
        c->title = put_str(&text, e->title);
        c->description = put_str(&text, e->description);
        c->export_name = put_str(&text, e->export_name);
        wasmplug_kv *props = (wasmplug_kv *)arrays;
        arrays += e->prop_count * sizeof *props;
        const char **data = (const char **)arrays;
        arrays += e->data_count * sizeof *data;
        for (size_t j = 0; j < e->prop_count; j++) {
            props[j].key = put_str(&text, e->props[j].key);
            props[j].value = put_str(&text, e->props[j].value);
        }
        for (size_t j = 0; j < e->data_count; j++)
            data[j] = put_str(&text, e->data[j]);
        c->props = e->prop_count ? props : NULL;
        c->prop_count = e->prop_count;
        c->data = e->data_count ? data : NULL;
        c->data_count = e->data_count;
    }
    pthread_mutex_unlock(&reg->lock);
    *items = out;
    *count = n;
    return WASMPLUG_OK;
}

/* ---- calls -------------------------------------------------------------- */

/* What a call needs of an entry, copied out under the lock. */
typedef struct target {
    char export_name[WASMPLUG_NAME_MAX];
    bool data_info, data_metrics, data_errors;
    json_t *props; /* {key: type}, or NULL when none are declared */
} target;

static wasmplug_status find(wasmplug_ui_registry *reg, const char *plugin, wasmplug_ui_kind kind,
                            const char *id, target *t, wasmplug_plugin_error *err)
{
    memset(t, 0, sizeof *t);
    if (!reg || !plugin || !id)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, plugin, NULL, "registry, plugin and id needed");
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    pthread_mutex_lock(&reg->lock);
    for (size_t i = 0; i < reg->count && st == WASMPLUG_ERR_NOT_FOUND; i++) {
        const entry *e = &reg->items[i];
        if (e->kind != kind || strcmp(e->plugin, plugin) || strcmp(e->id, id))
            continue;
        st = WASMPLUG_OK;
        snprintf(t->export_name, sizeof t->export_name, "%s", e->export_name);
        for (size_t j = 0; j < e->data_count; j++) {
            t->data_info |= !strcmp(e->data[j], "info");
            t->data_metrics |= !strcmp(e->data[j], "metrics");
            t->data_errors |= !strcmp(e->data[j], "errors");
        }
        if (e->prop_count && !(t->props = json_object()))
            st = WASMPLUG_ERR_NOMEM;
        for (size_t j = 0; st == WASMPLUG_OK && j < e->prop_count; j++)
            if (json_object_set_new(t->props, e->props[j].key, json_string(e->props[j].value)))
                st = WASMPLUG_ERR_NOMEM;
    }
    pthread_mutex_unlock(&reg->lock);
    if (st == WASMPLUG_ERR_NOT_FOUND)
        return ev_fail(err, st, plugin, NULL, "plugin '%s' has no %s '%s' registered", plugin,
                    wasmplug_ui_kind_string(kind), id);
    if (st != WASMPLUG_OK) {
        json_decref(t->props);
        t->props = NULL;
        return ev_fail(err, st, plugin, NULL, "out of memory");
    }
    return st;
}

/* Parse in (NULL: {}) as a JSON object whose keys are declared props of the
 * declared types. *out owned by the caller. */
static wasmplug_status check_props(const char *plugin, const char *what, const char *id,
                                   const target *t, const uint8_t *in, size_t in_len,
                                   json_t **out, wasmplug_plugin_error *err)
{
    json_error_t je;
    json_t *v = in ? json_loadb((const char *)in, in_len, JSON_REJECT_DUPLICATES, &je)
                   : json_object();
    if (!v)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, plugin, t->export_name,
                    "the props of %s '%s' are not JSON: %s (line %d, column %d)", what, id,
                    je.text, je.line, je.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, plugin, t->export_name,
                    "the props of %s '%s' must be a JSON object", what, id);
    }
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value) {
        json_t *type = t->props ? json_object_get(t->props, key) : NULL;
        const char *ty = type ? json_string_value(type) : NULL;
        if (!ty || !wps_schema_match(ty, value)) {
            wasmplug_status st = ev_fail(
                err, WASMPLUG_ERR_ARGUMENT, plugin, t->export_name,
                ty ? "prop '%.80s' of %s '%s' must be of type %s"
                   : "prop '%.80s' is not one %s '%s' declares%s",
                key, what, id, ty ? ty : "");
            json_decref(v);
            return st;
        }
    }
    *out = v;
    return WASMPLUG_OK;
}

static json_t *info_json(const wasmplug_plugin_info *in)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", in->name, "id", in->id, "version",
                     in->version, "state", wasmplug_state_string(in->state), "abi",
                     wasmplug_abi_string(in->abi));
}

static json_t *metrics_json(const wasmplug_metrics *m)
{
    return json_pack("{s:I, s:I, s:I, s:f, s:f, s:I, s:I, s:I, s:I}", "calls",
                     (json_int_t)m->calls, "errors", (json_int_t)m->errors, "traps",
                     (json_int_t)m->traps, "mean_us",
                     m->calls ? (double)m->total_ns / (double)m->calls / 1000.0 : 0.0, "max_us",
                     (double)m->max_ns / 1000.0, "fuel_used", (json_int_t)m->fuel_used,
                     "memory_bytes", (json_int_t)m->memory_pages * 65536, "bytes_in",
                     (json_int_t)m->bytes_in, "bytes_out", (json_int_t)m->bytes_out);
}

static json_t *errors_json(wasmplug_plugin *p)
{
    wasmplug_plugin_error *errs = calloc(PANEL_ERRORS, sizeof *errs);
    json_t *a = json_array();
    if (!errs || !a) {
        free(errs);
        json_decref(a);
        return NULL;
    }
    size_t n = wasmplug_plugin_errors(p, errs, PANEL_ERRORS);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "code",
                                           wasmplug_status_name(errs[i].code), "function",
                                           errs[i].function, "message", errs[i].message,
                                           "time_ms", (json_int_t)errs[i].timestamp_ms));
    free(errs);
    return a;
}

static wasmplug_status dump(json_t *v, wasmplug_buf *out)
{
    char *s = json_dumps(v, JSON_COMPACT);
    if (!s)
        return WASMPLUG_ERR_NOMEM;
    out->len = strlen(s);
    out->data = (uint8_t *)s; /* json_dumps allocates with malloc */
    return WASMPLUG_OK;
}

static wasmplug_status panel_input(wasmplug_ui_registry *reg, const char *plugin, const char *id,
                                   const target *t, wasmplug_buf *json,
                                   wasmplug_plugin_error *err)
{
    wasmplug_plugin *p;
    if (wasmplug_host_get(reg->host, plugin, &p) != WASMPLUG_OK)
        return ev_fail(err, WASMPLUG_ERR_NOT_FOUND, plugin, NULL, "plugin '%s' is not loaded",
                    plugin);
    wasmplug_plugin_info info;
    wasmplug_status st = wasmplug_plugin_get_info(p, &info);
    json_t *o = json_pack("{s:s, s:s}", "panel", id, "plugin", plugin);
    if (st == WASMPLUG_OK && o) {
        if (t->data_info)
            json_object_set_new(o, "info", info_json(&info));
        if (t->data_metrics)
            json_object_set_new(o, "metrics", metrics_json(&info.metrics));
        if (t->data_errors)
            json_object_set_new(o, "errors", errors_json(p));
        st = dump(o, json);
    } else if (st == WASMPLUG_OK) {
        st = WASMPLUG_ERR_NOMEM;
    }
    json_decref(o);
    wasmplug_plugin_release(p);
    return st == WASMPLUG_OK ? st : ev_fail(err, st, plugin, NULL, "cannot read plugin '%s': %s",
                                          plugin, wasmplug_strerror(st));
}

wasmplug_status wasmplug_ui_panel_input(wasmplug_ui_registry *reg, const char *plugin,
                                        const char *id, wasmplug_buf *json,
                                        wasmplug_plugin_error *err)
{
    if (!json)
        return WASMPLUG_ERR_ARGUMENT;
    memset(json, 0, sizeof *json);
    target t;
    wasmplug_status st = find(reg, plugin, WASMPLUG_UI_PANEL, id, &t, err);
    if (st == WASMPLUG_OK)
        st = panel_input(reg, plugin, id, &t, json, err);
    json_decref(t.props);
    return st;
}

/* Call the target's export with in; the output at most max bytes (UTF-8
 * when utf8). */
static wasmplug_status call_bounded(wasmplug_ui_registry *reg, const char *plugin,
                                    const char *what, const char *id, const target *t,
                                    const uint8_t *in, size_t in_len, uint32_t max, bool utf8,
                                    wasmplug_buf *out, wasmplug_plugin_error *err)
{
    wasmplug_status st =
        wasmplug_host_call(reg->host, plugin, t->export_name, in, in_len, out, err);
    if (st != WASMPLUG_OK)
        return st;
    if (out->len > max) {
        size_t got = out->len;
        wasmplug_buf_free(out);
        return ev_fail(err, WASMPLUG_ERR_OUTPUT_TOO_LARGE, plugin, t->export_name,
                    "%s '%s' returned %zu bytes; the most is %u (wasmplug_ui_config)", what, id,
                    got, max);
    }
    if (utf8 && !wps_utf8_valid(out->data, out->len)) {
        wasmplug_buf_free(out);
        return ev_fail(err, WASMPLUG_ERR_SERIALIZATION, plugin, t->export_name,
                    "%s '%s' returned HTML that is not UTF-8 text", what, id);
    }
    return WASMPLUG_OK;
}

static wasmplug_status check_input_size(wasmplug_ui_registry *reg, const char *plugin,
                                        const target *t, size_t in_len,
                                        wasmplug_plugin_error *err)
{
    if (in_len <= reg->cfg.max_input_bytes)
        return WASMPLUG_OK;
    return ev_fail(err, WASMPLUG_ERR_INPUT_TOO_LARGE, plugin, t->export_name,
                "input of %zu bytes; the most is %u (wasmplug_ui_config.max_input_bytes)", in_len,
                reg->cfg.max_input_bytes);
}

wasmplug_status wasmplug_ui_render(wasmplug_ui_registry *reg, const char *plugin,
                                   wasmplug_ui_kind kind, const char *id, const uint8_t *in,
                                   size_t in_len, wasmplug_buf *html, wasmplug_plugin_error *err)
{
    if (!html)
        return WASMPLUG_ERR_ARGUMENT;
    memset(html, 0, sizeof *html);
    if (kind != WASMPLUG_UI_PANEL && kind != WASMPLUG_UI_BLOCK)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, plugin, NULL,
                    "only panels and blocks render (a command runs: wasmplug_ui_command)");
    target t;
    wasmplug_status st = find(reg, plugin, kind, id, &t, err);
    if (st == WASMPLUG_OK && in)
        st = check_input_size(reg, plugin, &t, in_len, err);
    wasmplug_buf input = {NULL, 0};
    if (st == WASMPLUG_OK && kind == WASMPLUG_UI_PANEL && !in) {
        st = panel_input(reg, plugin, id, &t, &input, err);
        in = input.data;
        in_len = input.len;
    } else if (st == WASMPLUG_OK && kind == WASMPLUG_UI_BLOCK) {
        json_t *props = NULL;
        st = check_props(plugin, "block", id, &t, in, in_len, &props, err);
        json_t *o = st == WASMPLUG_OK ? json_pack("{s:s, s:o}", "block", id, "props", props)
                                      : NULL;
        if (st == WASMPLUG_OK && (!o || dump(o, &input) != WASMPLUG_OK))
            st = ev_fail(err, WASMPLUG_ERR_NOMEM, plugin, t.export_name, "out of memory");
        json_decref(o);
        in = input.data;
        in_len = input.len;
    }
    if (st == WASMPLUG_OK)
        st = call_bounded(reg, plugin, kind == WASMPLUG_UI_PANEL ? "panel" : "block", id, &t, in,
                          in_len, reg->cfg.max_html_bytes, true, html, err);
    free(input.data);
    json_decref(t.props);
    return st;
}

wasmplug_status wasmplug_ui_command(wasmplug_ui_registry *reg, const char *plugin,
                                    const char *id, const uint8_t *in, size_t in_len,
                                    wasmplug_buf *out, wasmplug_plugin_error *err)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    target t;
    wasmplug_status st = find(reg, plugin, WASMPLUG_UI_COMMAND, id, &t, err);
    if (st == WASMPLUG_OK && in)
        st = check_input_size(reg, plugin, &t, in_len, err);
    if (st == WASMPLUG_OK && t.props) {
        json_t *props = NULL;
        st = check_props(plugin, "command", id, &t, in, in_len, &props, err);
        json_decref(props);
    }
    static const uint8_t empty_object[] = "{}";
    if (!in && t.props) {
        in = empty_object;
        in_len = 2;
    }
    if (st == WASMPLUG_OK)
        st = call_bounded(reg, plugin, "command", id, &t, in, in_len, reg->cfg.max_output_bytes,
                          false, out, err);
    json_decref(t.props);
    return st;
}
