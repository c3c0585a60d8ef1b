/*
 * manifest_ui.c - the manifest's `ui:` section: the panels, block types and
 * commands a plugin contributes (wasmplug_manifest_ui_item,
 * <wasmplug/manifest.h>), read with the manifest parser's walk so every
 * error names its line and column. <wasmplug/ui.h> registers and calls
 * them.
 */
#include "manifest_internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const KIND_KEYS[] = {"panels", "blocks", "commands"};
static const char *const KIND_WORDS[] = {"a panel", "a block type", "a command"};

static wasmplug_status f_id(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->ui->id);
    if (st == WASMPLUG_OK && !wpm_valid_id(c->ui->id))
        return wpm_fail(c, v,
                        "'ui' ids are 1-127 characters of a-z A-Z 0-9 - _ . not starting "
                        "with '.' or '-', e.g. overview (got '%.80s')",
                        c->ui->id);
    return st;
}

static wasmplug_status f_title(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->ui->title);
    if (st == WASMPLUG_OK && (!*c->ui->title || strlen(c->ui->title) > 200))
        return wpm_fail(c, v, "a 'ui' title must be 1-200 bytes");
    return st;
}

static wasmplug_status f_description(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    return wpm_get_string(c, key, v, &c->ui->description);
}

static wasmplug_status f_export(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    wasmplug_status st = wpm_get_string(c, key, v, &c->ui->export_name);
    if (st == WASMPLUG_OK &&
        (!*c->ui->export_name || strlen(c->ui->export_name) >= WASMPLUG_NAME_MAX))
        return wpm_fail(c, v, "'%s' must be an export name of 1..%d bytes", key,
                        WASMPLUG_NAME_MAX - 1);
    return st;
}

static bool valid_data(const char *s)
{
    return !strcmp(s, "info") || !strcmp(s, "metrics") || !strcmp(s, "errors");
}

static wasmplug_status f_data(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_get_strlist(c, "ui.panels[].data", v, &c->ui->data, false, valid_data,
                           "one of " WASMPLUG_UI_DATA_NAMES);
}

static wasmplug_status f_props(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return wpm_type_schema(c, "a 'ui' entry's 'props'", v, &c->ui->props, &c->ui->prop_count);
}

static wasmplug_status f_scripts(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    if (!wpm_plain_bool(v, &c->ui->scripts))
        return wpm_fail(c, v, "'scripts' must be true or false (got %s%.80s%s)",
                        v->type == YAML_SCALAR_NODE ? "'" : wpm_kind_name(v),
                        v->type == YAML_SCALAR_NODE ? wpm_sval(v) : "",
                        v->type == YAML_SCALAR_NODE ? "'" : "");
    return WASMPLUG_OK;
}

static const wpm_field PANEL_FIELDS[] = {
    {"id", f_id},         {"title", f_title}, {"description", f_description},
    {"render", f_export}, {"data", f_data},   {"scripts", f_scripts},
    {NULL, NULL}};
static const wpm_field BLOCK_FIELDS[] = {
    {"id", f_id},         {"title", f_title}, {"description", f_description},
    {"render", f_export}, {"props", f_props}, {"scripts", f_scripts},
    {NULL, NULL}};
static const wpm_field COMMAND_FIELDS[] = {
    {"id", f_id},          {"title", f_title}, {"description", f_description},
    {"handler", f_export}, {"props", f_props}, {NULL, NULL}};

/* The export when the manifest names none: render_<id> or <id>, '-' as '_'. */
static char *default_export(wasmplug_ui_kind kind, const char *id)
{
    const char *prefix = kind == WASMPLUG_UI_COMMAND ? "" : "render_";
    size_t n = strlen(prefix) + strlen(id) + 1;
    if (n > WASMPLUG_NAME_MAX)
        return NULL;
    char *s = malloc(n);
    if (!s)
        return NULL;
    strcpy(s, prefix);
    strcat(s, id);
    for (char *p = s; *p; p++)
        if (*p == '-' || *p == '.')
            *p = '_';
    return s;
}

static wasmplug_status read_list(wpm_ctx *c, wasmplug_ui_kind kind, const yaml_node_t *n)
{
    static const wpm_field *const fields[] = {PANEL_FIELDS, BLOCK_FIELDS, COMMAND_FIELDS};
    if (n->type != YAML_SEQUENCE_NODE)
        return wpm_fail(c, n, "'ui.%s' must be a list of {id: ..., title: ...} entries (got %s)",
                        KIND_KEYS[kind], wpm_kind_name(n));
    wasmplug_manifest_doc *m = c->m;
    wasmplug_status result = WASMPLUG_OK;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&c->ydoc, *it);
        wasmplug_manifest_ui_item *items =
            realloc(m->ui_items, (m->ui_item_count + 1) * sizeof *items);
        if (!items)
            return wpm_nomem(c);
        m->ui_items = items;
        c->ui = &items[m->ui_item_count++];
        memset(c->ui, 0, sizeof *c->ui);
        c->ui->kind = kind;
        wasmplug_status st = wpm_walk_mapping(c, KIND_WORDS[kind], item, fields[kind]);
        if (st == WASMPLUG_ERR_NOMEM)
            return st;
        if (st) {
            result = st;
            continue;
        }
        if (!c->ui->id || !c->ui->title) {
            result = wpm_fail(c, item, "%s needs an 'id' and a 'title'", KIND_WORDS[kind]);
            continue;
        }
        for (size_t i = 0; i + 1 < m->ui_item_count; i++)
            if (items[i].kind == kind && items[i].id && !strcmp(items[i].id, c->ui->id))
                result = wpm_fail(c, item, "%s '%.80s' is declared twice", KIND_WORDS[kind],
                                  c->ui->id);
        if (!c->ui->export_name && !(c->ui->export_name = default_export(kind, c->ui->id)))
            result = wpm_fail(c, item, "%s's default export name is too long: name it with '%s'",
                              KIND_WORDS[kind], kind == WASMPLUG_UI_COMMAND ? "handler" : "render");
    }
    return result;
}

static wasmplug_status f_panels(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return read_list(c, WASMPLUG_UI_PANEL, v);
}

static wasmplug_status f_blocks(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return read_list(c, WASMPLUG_UI_BLOCK, v);
}

static wasmplug_status f_commands(wpm_ctx *c, const char *key, const yaml_node_t *v)
{
    (void)key;
    return read_list(c, WASMPLUG_UI_COMMAND, v);
}

static const wpm_field UI_FIELDS[] = {
    {"panels", f_panels}, {"blocks", f_blocks}, {"commands", f_commands}, {NULL, NULL}};

wasmplug_status wpm_ui_section(wpm_ctx *c, const char *key, const yaml_node_t *n)
{
    (void)key;
    wasmplug_status st = wpm_walk_mapping(c, "'ui'", n, UI_FIELDS);
    c->ui = NULL;
    return st;
}

void wpm_ui_items_free(wasmplug_manifest_ui_item *items, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        wasmplug_manifest_ui_item *u = &items[i];
        free(u->id);
        free(u->title);
        free(u->description);
        free(u->export_name);
        for (size_t j = 0; j < u->data.count; j++)
            free(u->data.items[j]);
        free(u->data.items);
        for (size_t j = 0; j < u->prop_count; j++) {
            free((char *)u->props[j].key);
            free((char *)u->props[j].value);
        }
        free(u->props);
    }
    free(items);
}
