/*
 * workflow_trace.c - a workflow as a Graphviz dot graph, and replaying a
 * trace (a run log with outputs) against the workflow as it is now: the
 * whole run again from the trace's input, compared step by step (node,
 * each phase's output, action, final state), and each recorded phase of
 * each plugin node on its own with the inputs it had in the trace.
 */
#include "workflow_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A dot string literal's content: quotes and backslashes escaped, control
 * characters dropped. */
static void dot_str(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', fp);
        if ((unsigned char)*s >= 0x20 && *s != 0x7f)
            fputc(*s, fp);
    }
}

char *wasmplug_flow_dot(const wasmplug_flow *f)
{
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (!fp)
        return NULL;
    fputs("digraph \"", fp);
    dot_str(fp, f->name ? f->name : f->path);
    fputs("\" {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", fp);
    for (size_t i = 0; i < f->node_count; i++) {
        const wf_node *n = &f->nodes[i];
        fputs("  \"", fp);
        dot_str(fp, n->name);
        fputs("\" [label=\"", fp);
        dot_str(fp, n->name);
        fputs("\\n", fp);
        dot_str(fp, n->type);
        fprintf(fp, "\"%s%s];\n", n->kind == WF_ROUTE ? ", shape=diamond" : "",
                i == f->start_index ? ", penwidth=2" : "");
    }
    for (size_t i = 0; i < f->conn_count; i++) {
        const wf_conn *c = &f->conns[i];
        fputs("  \"", fp);
        dot_str(fp, c->from);
        fputs("\" -> \"", fp);
        dot_str(fp, c->to);
        fputs("\" [label=\"", fp);
        dot_str(fp, c->action);
        fprintf(fp, "\"%s];\n", !strcmp(c->action, "error") ? ", color=red" : "");
    }
    for (size_t i = 0; i < f->node_count; i++) {
        const wf_node *n = &f->nodes[i];
        if (n->fallback_index == SIZE_MAX)
            continue;
        fputs("  \"", fp);
        dot_str(fp, n->name);
        fputs("\" -> \"", fp);
        dot_str(fp, n->fallback);
        fputs("\" [label=\"fallback\", style=dashed, color=red];\n", fp);
    }
    fputs("}\n", fp);
    if (fclose(fp) != 0) {
        free(text);
        return NULL;
    }
    return text;
}

static void differ(json_t *diffs, json_int_t step, const char *node, const char *what,
                   json_t *was, json_t *now)
{
    json_t *d = json_object();
    json_object_set_new(d, "step", json_integer(step));
    json_object_set_new(d, "node", json_string(node ? node : ""));
    json_object_set_new(d, "what", json_string(what));
    json_object_set(d, "trace", was ? was : json_null());
    json_object_set(d, "now", now ? now : json_null());
    json_array_append_new(diffs, d);
}

/* The bytes a phase produced, from its recorded output: the text itself
 * when it was not JSON ("<key>_raw"), else the value as compact JSON. */
static char *recorded_bytes(json_t *entry, const char *key)
{
    json_t *v = json_object_get(entry, key);
    char flag[32];
    snprintf(flag, sizeof flag, "%s_raw", key);
    if (json_is_true(json_object_get(entry, flag)) && json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/* One phase with the given input; its output (or {"error": why}) compared
 * with what the trace recorded under key. */
static wasmplug_status replay_phase(wasmplug_flow_run *run, const wf_node *node, json_t *entry,
                                    const char *key, const char *input, json_t *diffs,
                                    json_int_t step)
{
    wasmplug_buf out = {0};
    char msg[1024];
    wasmplug_status st = wf_phase(run, node, key, (const uint8_t *)input, strlen(input), &out,
                                  msg, sizeof msg);
    json_t *now = st ? json_pack("{s:s}", "error", msg) : wf_as_json(out.data, out.len, NULL);
    wasmplug_buf_free(&out);
    if (!now)
        return WASMPLUG_ERR_NOMEM;
    json_t *was = json_object_get(entry, key);
    if (!json_equal(was, now))
        differ(diffs, step, node->name, key, was, now);
    json_decref(now);
    return st == WASMPLUG_ERR_NOMEM ? st : WASMPLUG_OK;
}

/* Each recorded phase of each plugin node on its own, fed what it was fed
 * in the trace (prep the state the node started from, exec prep's recorded
 * output, post both): a difference found here is that phase's own, not
 * one carried over from an earlier node or from a path that parted. */
static wasmplug_status replay_phases(const wasmplug_flow *flow, json_t *old_steps,
                                     json_t *diffs, size_t *phases)
{
    wasmplug_flow_run *run;
    wasmplug_status st = wasmplug_flow_run_new(flow, NULL, &run);
    if (st)
        return st;
    size_t i;
    json_t *a;
    json_array_foreach(old_steps, i, a) {
        const char *name = json_string_value(json_object_get(a, "node"));
        size_t at = name ? wf_node_index(flow, name) : SIZE_MAX;
        json_t *state_in = json_object_get(a, "state_in");
        if (at == SIZE_MAX || !json_is_object(state_in))
            continue;
        const wf_node *node = &flow->nodes[at];
        if (node->kind != WF_PLUGIN || !node->plugin || !node->plugin->plugin)
            continue;
        json_int_t step = (json_int_t)i + 1;
        json_t *prep = json_object_get(a, "prep"), *exec = json_object_get(a, "exec");
        if (node->prep_fn && prep) {
            json_t *in = wf_phase_input(flow, node, state_in);
            char *text = json_dumps(in, JSON_COMPACT);
            json_decref(in);
            st = text ? replay_phase(run, node, a, "prep", text, diffs, step) : WASMPLUG_ERR_NOMEM;
            free(text);
            ++*phases;
        }
        if (!st && prep && exec) {
            char *text = recorded_bytes(a, "prep");
            st = text ? replay_phase(run, node, a, "exec", text, diffs, step) : WASMPLUG_ERR_NOMEM;
            free(text);
            ++*phases;
        }
        if (!st && node->post_fn && prep && exec && json_object_get(a, "post")) {
            json_t *in = wf_phase_input(flow, node, state_in);
            json_object_set(in, "prep", prep);
            json_object_set(in, "exec", exec);
            char *text = json_dumps(in, JSON_COMPACT);
            json_decref(in);
            st = text ? replay_phase(run, node, a, "post", text, diffs, step) : WASMPLUG_ERR_NOMEM;
            free(text);
            ++*phases;
        }
        if (st)
            break;
    }
    wasmplug_flow_run_free(run);
    return st;
}

wasmplug_status wasmplug_flow_replay(const wasmplug_flow *flow, const char *trace,
                                     char **report, size_t *differences, char *message,
                                     size_t message_size)
{
    char scratch[8];
    if (!message || !message_size) {
        message = scratch;
        message_size = sizeof scratch;
    }
    message[0] = '\0';
    if (report)
        *report = NULL;
    if (differences)
        *differences = 0;
    if (!flow || !trace)
        return WASMPLUG_ERR_ARGUMENT;
    json_error_t je;
    json_t *old = json_loads(trace, JSON_ALLOW_NUL, &je); /* outputs may hold NULs */
    json_t *old_steps = json_object_get(old, "steps");
    json_t *input = json_object_get(old, "input");
    if (!json_is_array(old_steps) || !json_is_object(input)) {
        snprintf(message, message_size,
                 "the trace is not a run log with \"input\" and \"steps\"%s%s",
                 old ? "" : ": ", old ? "" : je.text);
        json_decref(old);
        return WASMPLUG_ERR_ARGUMENT;
    }
    wasmplug_flow_run_options o;
    memset(&o, 0, sizeof o);
    o.record_outputs = true;
    wasmplug_flow_run *run;
    wasmplug_status st = wasmplug_flow_run_new(flow, &o, &run);
    if (st) {
        json_decref(old);
        return st;
    }
    char *in = json_dumps(input, JSON_COMPACT);
    char run_msg[1024];
    wasmplug_status rs = in ? wasmplug_flow_run_exec(run, in, NULL, run_msg, sizeof run_msg)
                            : WASMPLUG_ERR_NOMEM;
    free(in);
    json_t *diffs = json_array();
    json_t *new_steps = run->steps;
    size_t n = json_array_size(old_steps) > json_array_size(new_steps) ? json_array_size(old_steps)
                                                                       : json_array_size(new_steps);
    static const char *const fields[] = {"node", "prep", "exec", "post", "updates", "action", NULL};
    for (size_t i = 0; i < n; i++) {
        json_t *a = json_array_get(old_steps, i), *b = json_array_get(new_steps, i);
        const char *node = json_string_value(json_object_get(a ? a : b, "node"));
        if (!a || !b) {
            differ(diffs, (json_int_t)i + 1, node, "step", a, b);
            continue;
        }
        for (int f = 0; fields[f]; f++) {
            json_t *x = json_object_get(a, fields[f]), *y = json_object_get(b, fields[f]);
            if ((x || y) && !(x && y && json_equal(x, y)))
                differ(diffs, (json_int_t)i + 1, node, fields[f], x, y);
        }
        if (!json_equal(json_object_get(a, "node"), json_object_get(b, "node")))
            break; /* the paths parted: later steps are not comparable */
    }
    json_t *old_status = json_object_get(old, "status");
    json_t *now_status = json_string(wasmplug_status_name(rs));
    if (old_status && !json_equal(old_status, now_status))
        differ(diffs, 0, NULL, "status", old_status, now_status);
    json_decref(now_status);
    bool state_equal = json_equal(json_object_get(old, "state"), json_object_get(run->log, "state"));
    json_t *phase_diffs = json_array();
    size_t phases = 0;
    if (!st && rs != WASMPLUG_ERR_NOMEM)
        st = replay_phases(flow, old_steps, phase_diffs, &phases);
    if (differences)
        *differences = json_array_size(diffs) + json_array_size(phase_diffs);
    json_t *r = json_object();
    json_object_set_new(r, "steps", json_integer((json_int_t)json_array_size(new_steps)));
    json_object_set_new(r, "differences", diffs);
    json_object_set_new(r, "phases", json_integer((json_int_t)phases));
    json_object_set_new(r, "phase_differences", phase_diffs);
    json_object_set_new(r, "state_equal", json_boolean(state_equal));
    if (rs)
        json_object_set_new(r, "error", json_string(run_msg));
    if (report && !(*report = json_dumps(r, JSON_COMPACT)))
        st = WASMPLUG_ERR_NOMEM;
    json_decref(r);
    json_decref(old);
    wasmplug_flow_run_free(run);
    return st;
}
