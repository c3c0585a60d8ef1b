/*
 * workflow_validate.c - what `flow validate` checks on a loaded workflow:
 * every action a node can return is connected or deliberately final,
 * configs match their node types' schemas, built-in configs are well
 * formed, grants cover what the plugins request, every node is reachable.
 */
#include "workflow_internal.h"
#include "services_internal.h"

#include <stdlib.h>
#include <string.h>

bool wps_schema_match(const char *type, const json_t *v)
{
    if (!strcmp(type, "any"))
        return true;
    if (!strcmp(type, "string"))
        return json_is_string(v);
    if (!strcmp(type, "number"))
        return json_is_number(v);
    if (!strcmp(type, "integer"))
        return json_is_integer(v);
    if (!strcmp(type, "boolean"))
        return json_is_boolean(v);
    if (!strcmp(type, "list"))
        return json_is_array(v);
    if (!strcmp(type, "object"))
        return json_is_object(v);
    return false;
}

static bool check_config(const wasmplug_flow *f, const wf_node *n, wasmplug_flow_diag *diag)
{
    const wasmplug_manifest_node_type *t = n->node_type;
    if (!t)
        return true; /* a plain export declares no schema */
    bool ok = true;
    wf_loc at = n->config_loc.line ? n->config_loc : n->loc;
    const char *k;
    json_t *v;
    json_object_foreach(n->config, k, v) {
        size_t i = 0;
        while (i < t->config_schema_count && strcmp(t->config_schema[i].key, k))
            i++;
        if (i == t->config_schema_count) {
            wf_diag(diag, f->path, at, "node '%s': config key '%s' is not in node type '%s''s "
                    "schema", n->name, k, t->name);
            ok = false;
        } else if (!wps_schema_match(t->config_schema[i].value, v)) {
            wf_diag(diag, f->path, at, "node '%s': config '%s' must be %s %s", n->name, k,
                    t->config_schema[i].value[0] == 'i' ? "an" : "a", t->config_schema[i].value);
            ok = false;
        }
    }
    return ok;
}

static bool is_final(const wf_node *n, const char *action)
{
    for (size_t i = 0; i < n->final_actions.count; i++)
        if (!strcmp(n->final_actions.items[i], action))
            return true;
    return false;
}

static bool connected(const wasmplug_flow *f, const wf_node *n, const char *action)
{
    for (size_t i = 0; i < n->out_count; i++)
        if (!strcmp(f->conns[n->outs[i]].action, action))
            return true;
    return false;
}

/* Every action n can return: connected, or final. A node with no outgoing
 * connection at all ends the workflow whatever it returns. */
static bool check_actions(const wasmplug_flow *f, const wf_node *n, wasmplug_flow_diag *diag)
{
    if (!n->out_count)
        return true;
    const char *actions[64];
    size_t count = 0;
    if (n->kind == WF_PLUGIN && n->node_type && n->node_type->actions.count) {
        for (size_t i = 0; i < n->node_type->actions.count && count < 64; i++)
            actions[count++] = n->node_type->actions.items[i];
    } else if (n->kind == WF_SUBFLOW || n->kind == WF_PLUGIN) {
        actions[count++] = "default";
    } else {
        count = wf_builtin_actions(n, actions, 64);
    }
    bool ok = true;
    for (size_t i = 0; i < count; i++)
        if (!connected(f, n, actions[i]) && !is_final(n, actions[i])) {
            wf_diag(diag, f->path, n->loc,
                    "node '%s' can return action '%s' but it is not connected (add a "
                    "connection, or list it in the node's 'final' to end the run there)",
                    n->name, actions[i]);
            ok = false;
        }
    /* and connections on actions the node never returns */
    for (size_t i = 0; i < n->out_count; i++) {
        const wf_conn *c = &f->conns[n->outs[i]];
        bool known = !strcmp(c->action, "error");
        for (size_t j = 0; j < count && !known; j++)
            known = !strcmp(actions[j], c->action);
        if (!known) {
            wf_diag(diag, f->path, c->loc,
                    "node '%s' never returns action '%s' (it returns:%s%s%s%s)", n->name,
                    c->action, count > 0 ? " " : "", count > 0 ? actions[0] : "",
                    count > 1 ? ", ..." : "", count ? "" : " nothing");
            ok = false;
        }
    }
    return ok;
}

static bool check_grants(const wasmplug_flow *f, const wf_node *n, wasmplug_flow_diag *diag)
{
    if (n->kind != WF_PLUGIN || !n->plugin || !n->plugin->plugin)
        return true;
    bool ok = true;
    for (size_t i = 0; i < n->doc->permissions.count; i++) {
        const char *perm = n->doc->permissions.items[i];
        if (!wasmplug_plugin_granted(n->plugin->plugin, perm)) {
            wf_diag(diag, f->path, n->type_loc,
                    "node '%s': plugin '%s' requests '%s', which the host does not grant",
                    n->name, n->doc->id, perm);
            ok = false;
        }
    }
    return ok;
}

static void mark(const wasmplug_flow *f, size_t i, bool *seen)
{
    if (i == SIZE_MAX || seen[i])
        return;
    seen[i] = true;
    const wf_node *n = &f->nodes[i];
    for (size_t j = 0; j < n->out_count; j++)
        mark(f, f->conns[n->outs[j]].to_index, seen);
    mark(f, n->fallback_index, seen);
}

wasmplug_status wasmplug_flow_validate(const wasmplug_flow *f, wasmplug_flow_diag *diag)
{
    if (diag)
        memset(diag, 0, sizeof *diag);
    if (!f)
        return WASMPLUG_ERR_ARGUMENT;
    bool ok = true;
    for (size_t i = 0; i < f->node_count; i++) {
        const wf_node *n = &f->nodes[i];
        ok &= check_config(f, n, diag);
        if (n->kind != WF_PLUGIN)
            ok &= wf_builtin_check(f, n, diag);
        ok &= check_actions(f, n, diag);
        ok &= check_grants(f, n, diag);
        if (n->kind == WF_SUBFLOW && n->sub) {
            wasmplug_flow_diag sd;
            if (wasmplug_flow_validate(n->sub, &sd)) {
                wf_diag(diag, f->path, n->config_loc, "node '%s': sub-workflow %s:%u:%u: %s",
                        n->name, sd.file, sd.line, sd.column, sd.message);
                ok = false;
            }
        }
        if (n->batch && n->kind != WF_PLUGIN) {
            wf_diag(diag, f->path, n->loc, "node '%s': only plugin nodes can be batch nodes",
                    n->name);
            ok = false;
        }
    }
    bool *seen = calloc(f->node_count, sizeof *seen);
    if (!seen)
        return WASMPLUG_ERR_NOMEM;
    mark(f, f->start_index, seen);
    for (size_t i = 0; i < f->node_count; i++)
        if (!seen[i]) {
            wf_diag(diag, f->path, f->nodes[i].loc,
                    "node '%s' cannot be reached from the start node '%s'", f->nodes[i].name,
                    f->nodes[f->start_index].name);
            ok = false;
        }
    free(seen);
    return ok ? WASMPLUG_OK : WASMPLUG_ERR_WORKFLOW;
}
