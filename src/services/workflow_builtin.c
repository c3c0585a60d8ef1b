/*
 * workflow_builtin.c - the nodes a workflow has without a plugin: route
 * (conditional routing on the state), transform (set values from JSON
 * pointers or expressions), delay and log; and the small expression syntax
 * they share: a JSON pointer (RFC 6901), a JSON literal, or two of those
 * compared with == != < <= > >=, optionally negated with a leading '!'.
 */
#include "workflow_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One reference token of a pointer, unescaped (~1 -> /, ~0 -> ~). */
static size_t token(const char *p, char *out, size_t max)
{
    size_t n = 0, i = 0;
    while (p[i] && p[i] != '/') {
        char ch = p[i];
        if (ch == '~' && (p[i + 1] == '0' || p[i + 1] == '1')) {
            ch = p[i + 1] == '1' ? '/' : '~';
            i++;
        }
        if (n + 1 < max)
            out[n++] = ch;
        i++;
    }
    out[n] = '\0';
    return i;
}

static bool array_index(const char *tok, size_t size, size_t *out)
{
    if (!*tok || (tok[0] == '0' && tok[1]))
        return false;
    char *end;
    unsigned long long i = strtoull(tok, &end, 10);
    if (*end || i >= size)
        return false;
    *out = (size_t)i;
    return true;
}

json_t *wf_pointer_get(json_t *root, const char *pointer)
{
    if (!pointer || !*pointer || !strcmp(pointer, "/"))
        return root;
    const char *p = pointer;
    json_t *cur = root;
    char tok[256];
    while (*p == '/' && cur) {
        p++;
        p += token(p, tok, sizeof tok);
        size_t i;
        if (json_is_object(cur))
            cur = json_object_get(cur, tok);
        else if (json_is_array(cur) && array_index(tok, json_array_size(cur), &i))
            cur = json_array_get(cur, i);
        else
            cur = NULL;
    }
    return cur;
}

int wf_pointer_set(json_t *root, const char *pointer, json_t *value)
{
    if (!pointer || pointer[0] != '/' || !json_is_object(root)) {
        json_decref(value);
        return -1;
    }
    const char *p = pointer;
    json_t *cur = root;
    char tok[256];
    for (;;) {
        p++;
        p += token(p, tok, sizeof tok);
        size_t i;
        if (!*p) {
            if (json_is_object(cur))
                return json_object_set_new(cur, tok, value);
            if (json_is_array(cur) && !strcmp(tok, "-"))
                return json_array_append_new(cur, value);
            if (json_is_array(cur) && array_index(tok, json_array_size(cur), &i))
                return json_array_set_new(cur, i, value);
            json_decref(value);
            return -1;
        }
        json_t *next = NULL;
        if (json_is_object(cur)) {
            next = json_object_get(cur, tok);
            if (!next) {
                next = json_object();
                json_object_set_new(cur, tok, next);
            }
        } else if (json_is_array(cur) && array_index(tok, json_array_size(cur), &i)) {
            next = json_array_get(cur, i);
        }
        if (!next || !(json_is_object(next) || json_is_array(next))) {
            json_decref(value);
            return -1;
        }
        cur = next;
    }
}

bool wf_truthy(const json_t *v)
{
    if (!v || json_is_null(v) || json_is_false(v))
        return false;
    if (json_is_number(v))
        return json_number_value(v) != 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    if (json_is_array(v))
        return json_array_size(v) > 0;
    if (json_is_object(v))
        return json_object_size(v) > 0;
    return true;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* One operand: a pointer (up to the next space) or a JSON literal. New reference. */
static json_t *operand(json_t *state, const char *s, size_t len, const char **why)
{
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (!len) {
        *why = "an operand is missing";
        return NULL;
    }
    if (s[0] == '/') {
        char ptr[512];
        if (len >= sizeof ptr) {
            *why = "a pointer is too long";
            return NULL;
        }
        memcpy(ptr, s, len);
        ptr[len] = '\0';
        json_t *v = state ? wf_pointer_get(state, ptr) : NULL;
        return v ? json_incref(v) : json_null();
    }
    json_error_t e;
    json_t *v = json_loadb(s, len, JSON_DECODE_ANY, &e);
    if (!v)
        *why = "an operand is neither a JSON pointer (/a/b) nor a JSON value (1, \"x\", true, null)";
    return v;
}

static const char *const OPS[] = {"==", "!=", "<=", ">=", "<", ">", NULL};

/* Where the comparison operator is (outside strings), or NULL. */
static const char *find_op(const char *s, int *which)
{
    bool in_str = false;
    for (const char *p = s; *p; p++) {
        if (*p == '"' && (p == s || p[-1] != '\\'))
            in_str = !in_str;
        if (in_str)
            continue;
        for (int i = 0; OPS[i]; i++)
            if (!strncmp(p, OPS[i], strlen(OPS[i]))) {
                *which = i;
                return p;
            }
    }
    return NULL;
}

static int compare(const json_t *a, const json_t *b, bool *ordered)
{
    *ordered = true;
    if (json_is_number(a) && json_is_number(b)) {
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b))
        return strcmp(json_string_value(a), json_string_value(b));
    *ordered = false;
    return json_equal(a, b) ? 0 : 1;
}

json_t *wf_eval(json_t *state, const char *expr, const char **why)
{
    *why = NULL;
    const char *s = skip_ws(expr);
    bool negate = false;
    if (s[0] == '!' && s[1] != '=') {
        negate = true;
        s = skip_ws(s + 1);
    }
    int op = -1;
    const char *at = find_op(s, &op);
    json_t *result;
    if (!at) {
        result = operand(state, s, strlen(s), why);
    } else {
        json_t *a = operand(state, s, (size_t)(at - s), why);
        const char *rhs = skip_ws(at + strlen(OPS[op]));
        json_t *b = a ? operand(state, rhs, strlen(rhs), why) : NULL;
        if (!a || !b) {
            json_decref(a);
            return NULL;
        }
        bool ordered;
        int c = compare(a, b, &ordered);
        bool r;
        switch (op) {
        case 0: r = c == 0; break;
        case 1: r = c != 0; break;
        case 2: r = ordered && c <= 0; break;
        case 3: r = ordered && c >= 0; break;
        case 4: r = ordered && c < 0; break;
        default: r = ordered && c > 0; break;
        }
        json_decref(a);
        json_decref(b);
        result = json_boolean(r);
    }
    if (result && negate) {
        bool t = wf_truthy(result);
        json_decref(result);
        result = json_boolean(!t);
    }
    return result;
}

bool wf_check_expr(const char *expr, const char **why)
{
    json_t *v = wf_eval(NULL, expr, why);
    json_decref(v);
    return v != NULL;
}

bool wf_control_sleep(wf_control *c, uint64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (ms % 1000) * 1000000u;
    ts.tv_sec += (time_t)(ms / 1000 + ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    while (!atomic_load(&c->cancelled) && !atomic_load(&c->timed_out) && rc == 0)
        rc = pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    pthread_mutex_unlock(&c->lock);
    return !atomic_load(&c->cancelled) && !atomic_load(&c->timed_out);
}

static const char *str_or(const json_t *o, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

size_t wf_builtin_actions(const wf_node *node, const char **out, size_t max)
{
    size_t n = 0;
    if (node->kind != WF_ROUTE) {
        if (max)
            out[n++] = "default";
        return n;
    }
    json_t *routes = json_object_get(node->config, "routes");
    size_t i;
    json_t *r;
    json_array_foreach(routes, i, r) {
        const char *a = str_or(r, "action", NULL);
        bool seen = false;
        for (size_t j = 0; a && j < n; j++)
            seen |= !strcmp(out[j], a);
        if (a && !seen && n < max)
            out[n++] = a;
    }
    const char *d = str_or(node->config, "default", "default");
    bool seen = false;
    for (size_t j = 0; j < n; j++)
        seen |= !strcmp(out[j], d);
    if (!seen && n < max)
        out[n++] = d;
    return n;
}

#define CHECK_FAIL(...)                                                                      \
    do {                                                                                     \
        wf_diag(diag, flow->path, at, __VA_ARGS__);                                          \
        ok = false;                                                                          \
    } while (0)

/* Only these keys, for each built-in. */
static bool only_keys(const wasmplug_flow *flow, const wf_node *node, const char *const *keys,
                      wasmplug_flow_diag *diag)
{
    bool ok = true;
    wf_loc at = node->config_loc.line ? node->config_loc : node->loc;
    const char *k;
    json_t *v;
    json_object_foreach(node->config, k, v) {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], k))
            i++;
        if (!keys[i])
            CHECK_FAIL("node '%s': unknown config key '%s' for a %s node", node->name, k,
                       node->type);
    }
    return ok;
}

bool wf_builtin_check(const wasmplug_flow *flow, const wf_node *node, wasmplug_flow_diag *diag)
{
    bool ok = true;
    wf_loc at = node->config_loc.line ? node->config_loc : node->loc;
    const char *why;
    static const char *const route_keys[] = {"routes", "default", NULL};
    static const char *const transform_keys[] = {"set", "delete", NULL};
    static const char *const delay_keys[] = {"ms", NULL};
    static const char *const log_keys[] = {"message", "value", NULL};
    static const char *const sub_keys[] = {"file", NULL};
    switch (node->kind) {
    case WF_ROUTE: {
        ok = only_keys(flow, node, route_keys, diag);
        json_t *routes = json_object_get(node->config, "routes");
        if (!json_is_array(routes) || !json_array_size(routes)) {
            CHECK_FAIL("node '%s': a route node needs config 'routes': a list of "
                       "{when: EXPRESSION, action: NAME}", node->name);
            break;
        }
        size_t i;
        json_t *r;
        json_array_foreach(routes, i, r) {
            const char *when = str_or(r, "when", NULL), *action = str_or(r, "action", NULL);
            if (!when || !action || json_object_size(r) != 2)
                CHECK_FAIL("node '%s': route %zu must be {when: EXPRESSION, action: NAME}",
                           node->name, i + 1);
            else if (!wf_check_expr(when, &why))
                CHECK_FAIL("node '%s': route %zu: 'when: %s': %s", node->name, i + 1, when, why);
        }
        break;
    }
    case WF_TRANSFORM: {
        ok = only_keys(flow, node, transform_keys, diag);
        json_t *set = json_object_get(node->config, "set"), *del = json_object_get(node->config, "delete");
        if (!json_is_object(set) && !json_is_array(del))
            CHECK_FAIL("node '%s': a transform node needs 'set' {/pointer: EXPRESSION} "
                       "and/or 'delete' [/pointer]", node->name);
        const char *k;
        json_t *v;
        json_object_foreach(set, k, v) {
            if (k[0] != '/')
                CHECK_FAIL("node '%s': set target '%s' must be a JSON pointer (/a/b)", node->name, k);
            if (json_is_string(v) && !wf_check_expr(json_string_value(v), &why))
                CHECK_FAIL("node '%s': set %s: '%s': %s", node->name, k, json_string_value(v), why);
        }
        size_t i;
        json_array_foreach(del, i, v) {
            if (!json_is_string(v) || json_string_value(v)[0] != '/')
                CHECK_FAIL("node '%s': delete entries must be JSON pointers", node->name);
        }
        break;
    }
    case WF_DELAY: {
        ok = only_keys(flow, node, delay_keys, diag);
        json_t *ms = json_object_get(node->config, "ms");
        if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
            json_integer_value(ms) > 86400000)
            CHECK_FAIL("node '%s': a delay node needs config 'ms': milliseconds (0..86400000)",
                       node->name);
        break;
    }
    case WF_LOG:
        ok = only_keys(flow, node, log_keys, diag);
        if (!json_is_string(json_object_get(node->config, "message")))
            CHECK_FAIL("node '%s': a log node needs config 'message': text", node->name);
        break;
    case WF_SUBFLOW:
        ok = only_keys(flow, node, sub_keys, diag);
        break;
    case WF_PLUGIN:
        break;
    }
    return ok;
}

/* Remove the value at pointer (objects only). */
static void pointer_delete(json_t *root, const char *pointer)
{
    const char *slash = strrchr(pointer, '/');
    if (!slash)
        return;
    char parent[512], key[256];
    size_t plen = (size_t)(slash - pointer);
    if (plen >= sizeof parent)
        return;
    memcpy(parent, pointer, plen);
    parent[plen] = '\0';
    token(slash + 1, key, sizeof key);
    json_t *p = wf_pointer_get(root, plen ? parent : "");
    if (json_is_object(p))
        json_object_del(p, key);
}

wasmplug_status wf_builtin_run(wasmplug_flow_run *run, const wf_node *node, json_t *state,
                               json_t **updates, const char **action, char *msg,
                               size_t msg_size, uint64_t step)
{
    *updates = NULL;
    *action = "default";
    const char *why = NULL;
    switch (node->kind) {
    case WF_ROUTE: {
        json_t *routes = json_object_get(node->config, "routes");
        size_t i;
        json_t *r;
        *action = str_or(node->config, "default", "default");
        json_array_foreach(routes, i, r) {
            json_t *v = wf_eval(state, str_or(r, "when", ""), &why);
            bool t = wf_truthy(v);
            json_decref(v);
            if (t) {
                *action = str_or(r, "action", "default");
                break;
            }
        }
        return WASMPLUG_OK;
    }
    case WF_TRANSFORM: {
        /* evaluated on a copy so updates see the state before this node */
        json_t *next = json_deep_copy(state);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(node->config, "set"), k, v) {
            json_t *val = json_is_string(v) ? wf_eval(state, json_string_value(v), &why)
                                            : json_deep_copy(v);
            if (!val || wf_pointer_set(next, k, val)) {
                snprintf(msg, msg_size, "node '%s': cannot set %s%s%s", node->name, k,
                         why ? ": " : "", why ? why : "");
                json_decref(next);
                return WASMPLUG_ERR_WORKFLOW;
            }
        }
        size_t i;
        json_array_foreach(json_object_get(node->config, "delete"), i, v)
            pointer_delete(next, json_string_value(v));
        /* the new state replaces the old one: report it as a whole */
        json_object_clear(state);
        json_object_update(state, next);
        json_decref(next);
        return WASMPLUG_OK;
    }
    case WF_DELAY: {
        json_int_t ms = json_integer_value(json_object_get(node->config, "ms"));
        if (!wf_control_sleep(run->control, (uint64_t)ms)) {
            snprintf(msg, msg_size, "node '%s': the delay was interrupted", node->name);
            return atomic_load(&run->control->timed_out) ? WASMPLUG_ERR_TIMEOUT
                                                         : WASMPLUG_ERR_CANCELLED;
        }
        return WASMPLUG_OK;
    }
    case WF_LOG: {
        const char *text = str_or(node->config, "message", "");
        const json_t *vp = json_object_get(node->config, "value");
        char *line = NULL;
        if (json_is_string(vp)) {
            json_t *v = wf_eval(state, json_string_value(vp), &why);
            char *dump = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
            size_t n = strlen(text) + (dump ? strlen(dump) : 4) + 3;
            line = malloc(n);
            if (line)
                snprintf(line, n, "%s: %s", text, dump ? dump : "null");
            free(dump);
            json_decref(v);
        }
        if (run->opts.observer) {
            wasmplug_flow_event ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = WASMPLUG_FLOW_LOG;
            ev.step = step;
            ev.node = node->name;
            ev.type = node->type;
            ev.message = line ? line : text;
            run->opts.observer(run->opts.observer_user, &ev);
        }
        free(line);
        return WASMPLUG_OK;
    }
    case WF_SUBFLOW: {
        json_t *final_state = NULL;
        wasmplug_status st =
            wf_run_sub(run, node->sub, state, &final_state, action, msg, msg_size);
        if (st)
            return st;
        *updates = final_state;
        return WASMPLUG_OK;
    }
    case WF_PLUGIN:
        break;
    }
    return WASMPLUG_ERR_ARGUMENT;
}
