/*
 * workflow_run.c - the run engine: from the start node, each node's prep,
 * exec (with retries, waits, batches on an instance pool) and post, the
 * post's updates merged into the shared state, the next node chosen by the
 * action; fallbacks and `error` connections for failures; the step limit;
 * the workflow's timeout (a watchdog thread) and cancellation from any
 * thread (both cancel the plugin calls running at that moment).
 */
#include "workflow_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t wf_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* RFC 7386: objects merge recursively, null removes, anything else replaces. */
void wf_merge_patch(json_t *target, json_t *patch)
{
    const char *k;
    json_t *v;
    json_object_foreach(patch, k, v) {
        json_t *cur = json_object_get(target, k);
        if (json_is_null(v))
            json_object_del(target, k);
        else if (json_is_object(v) && json_is_object(cur))
            wf_merge_patch(cur, v);
        else if (json_is_object(v)) {
            json_t *fresh = json_object();
            wf_merge_patch(fresh, v);
            json_object_set_new(target, k, fresh);
        } else
            json_object_set(target, k, v);
    }
}

/* ------------------------------------------------------------------------ */
/* Control: cancellation, the workflow deadline                             */
/* ------------------------------------------------------------------------ */

static wf_control *control_new(void)
{
    wf_control *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    return c;
}

static void cancel_active_locked(wf_control *c)
{
    for (size_t i = 0; i < sizeof c->active / sizeof c->active[0]; i++)
        if (c->active[i])
            wasmplug_plugin_cancel(c->active[i]);
    pthread_cond_broadcast(&c->cond);
}

static void *watchdog(void *arg)
{
    wf_control *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop_watchdog) {
        uint64_t now = wf_now_ns();
        if (now >= c->deadline_ns || atomic_load(&c->cancelled)) {
            if (now >= c->deadline_ns)
                atomic_store(&c->timed_out, true);
            /* keep cancelling: a call that was about to start when the
             * first cancel went out must not escape it */
            cancel_active_locked(c);
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t wait = atomic_load(&c->timed_out) || atomic_load(&c->cancelled)
                            ? 10000000u
                            : c->deadline_ns - now;
        if (wait > 50000000u)
            wait = 50000000u;
        uint64_t ns = (uint64_t)ts.tv_nsec + wait;
        ts.tv_sec += (time_t)(ns / 1000000000u);
        ts.tv_nsec = (long)(ns % 1000000000u);
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static bool active_add(wf_control *c, wasmplug_plugin *p)
{
    pthread_mutex_lock(&c->lock);
    size_t free_slot = SIZE_MAX, i;
    for (i = 0; i < sizeof c->active / sizeof c->active[0]; i++) {
        if (c->active[i] == p)
            break;
        if (!c->active[i] && free_slot == SIZE_MAX)
            free_slot = i;
    }
    if (i == sizeof c->active / sizeof c->active[0])
        i = free_slot;
    if (i != SIZE_MAX) {
        c->active[i] = p;
        c->active_count[i]++;
    }
    bool go = !atomic_load(&c->cancelled) && !atomic_load(&c->timed_out);
    pthread_mutex_unlock(&c->lock);
    return go;
}

static void active_remove(wf_control *c, wasmplug_plugin *p)
{
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < sizeof c->active / sizeof c->active[0]; i++)
        if (c->active[i] == p && --c->active_count[i] == 0)
            c->active[i] = NULL;
    pthread_mutex_unlock(&c->lock);
}

void wasmplug_flow_run_cancel(wasmplug_flow_run *run)
{
    if (!run || !run->control)
        return;
    wf_control *c = run->control;
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->cancelled, true);
    cancel_active_locked(c);
    pthread_mutex_unlock(&c->lock);
}

static wasmplug_status stopped(const wf_control *c)
{
    if (atomic_load(&c->cancelled))
        return WASMPLUG_ERR_CANCELLED;
    if (atomic_load(&c->timed_out))
        return WASMPLUG_ERR_TIMEOUT;
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Runs                                                                     */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_flow_run_new(const wasmplug_flow *flow,
                                      const wasmplug_flow_run_options *opts,
                                      wasmplug_flow_run **out)
{
    if (!flow || !out)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_flow_run *r = calloc(1, sizeof *r);
    if (!r)
        return WASMPLUG_ERR_NOMEM;
    r->flow = flow;
    if (opts)
        r->opts = *opts;
    r->control = control_new();
    r->owns_control = true;
    r->log = json_object();
    r->steps = json_array();
    if (!r->control || !r->log || !r->steps) {
        wasmplug_flow_run_free(r);
        return WASMPLUG_ERR_NOMEM;
    }
    json_object_set_new(r->log, "workflow", json_string(flow->path));
    json_object_set(r->log, "steps", r->steps);
    *out = r;
    return WASMPLUG_OK;
}

void wasmplug_flow_run_free(wasmplug_flow_run *r)
{
    if (!r)
        return;
    if (r->owns_control && r->control) {
        pthread_mutex_destroy(&r->control->lock);
        pthread_cond_destroy(&r->control->cond);
        free(r->control);
    }
    json_decref(r->steps);
    json_decref(r->log);
    free(r);
}

char *wasmplug_flow_run_log(const wasmplug_flow_run *run)
{
    return run ? json_dumps(run->log, JSON_COMPACT) : NULL;
}

/* Bytes as JSON when they parse, else a string (invalid UTF-8 escaped by
 * jansson's refusal: then a placeholder naming the length). */
json_t *wf_as_json(const uint8_t *data, size_t len, bool *raw)
{
    if (raw)
        *raw = false;
    if (!len)
        return json_string(""); /* an empty output (data may be NULL) */
    json_t *v = json_loadb((const char *)data, len, JSON_DECODE_ANY, NULL);
    if (v)
        return v;
    if (raw)
        *raw = true;
    v = json_stringn((const char *)data, len);
    if (v)
        return v;
    char text[64];
    snprintf(text, sizeof text, "<%zu bytes, not UTF-8>", len);
    return json_string(text);
}

typedef struct phase_out {
    wasmplug_buf buf;
    uint64_t ns;
} phase_out;

/* One plugin call under the run's control; msg names node, phase, export. */
static wasmplug_status call(wasmplug_flow_run *run, const wf_node *node, const char *phase,
                            const char *fn, const uint8_t *in, size_t len, wasmplug_buf *out,
                            char *msg, size_t msg_size)
{
    wasmplug_plugin *p = node->plugin->plugin;
    wasmplug_status st;
    if (!active_add(run->control, p)) {
        active_remove(run->control, p);
        st = stopped(run->control);
        snprintf(msg, msg_size, "node '%s' (%s): stopped before %s", node->name, phase,
                 st == WASMPLUG_ERR_TIMEOUT ? "the workflow's timeout" : "it started");
        return st;
    }
    wasmplug_plugin_error pe;
    memset(&pe, 0, sizeof pe);
    st = wasmplug_plugin_call(p, fn, in, len, out, &pe);
    active_remove(run->control, p);
    if (st == WASMPLUG_ERR_CANCELLED && atomic_load(&run->control->timed_out))
        st = WASMPLUG_ERR_TIMEOUT;
    if (st) {
        char why[400];
        wasmplug_plugin_error_format(&pe, why, sizeof why);
        if (st == WASMPLUG_ERR_TIMEOUT && atomic_load(&run->control->timed_out))
            snprintf(why, sizeof why, "the workflow's timeout of %llu ms passed",
                     (unsigned long long)run->flow->timeout_ms);
        snprintf(msg, msg_size, "node '%s' %s (%s of plugin '%s'): %s", node->name, phase, fn,
                 node->doc->id, why);
    }
    wasmplug_plugin_error_clear(&pe);
    return st;
}

static bool run_stop_status(wasmplug_status st)
{
    return st == WASMPLUG_ERR_CANCELLED ||
           (st == WASMPLUG_ERR_TIMEOUT) || st == WASMPLUG_ERR_NOMEM;
}

typedef struct batch {
    wasmplug_flow_run *run;
    const wf_node *node;
    char **items;
    size_t count;
    wasmplug_buf *outs;
    atomic_size_t next;
    atomic_int failed;
    wasmplug_status status;
    char msg[1024];
    pthread_mutex_t lock;
} batch;

static void *batch_worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->count || atomic_load(&b->failed))
            break;
        char msg[900];
        wasmplug_status st = call(b->run, b->node, "exec", b->node->exec_fn,
                                  (const uint8_t *)b->items[i], strlen(b->items[i]), &b->outs[i],
                                  msg, sizeof msg);
        if (st) {
            pthread_mutex_lock(&b->lock);
            if (!atomic_load(&b->failed)) {
                b->status = st;
                snprintf(b->msg, sizeof b->msg, "item %zu: %.900s", i, msg);
            }
            atomic_store(&b->failed, 1);
            pthread_mutex_unlock(&b->lock);
        }
    }
    return NULL;
}

/* exec over each item of prep's list, `parallel` at a time; outputs in order. */
static wasmplug_status exec_batch(wasmplug_flow_run *run, const wf_node *node,
                                  const wasmplug_buf *prep, wasmplug_buf *out, char *msg,
                                  size_t msg_size)
{
    json_t *list = json_loadb((const char *)prep->data, prep->len, 0, NULL);
    if (!json_is_array(list)) {
        json_decref(list);
        snprintf(msg, msg_size, "node '%s' is a batch node but prep's output is not a JSON list",
                 node->name);
        return WASMPLUG_ERR_WORKFLOW;
    }
    batch b;
    memset(&b, 0, sizeof b);
    b.run = run;
    b.node = node;
    b.count = json_array_size(list);
    b.items = calloc(b.count ? b.count : 1, sizeof *b.items);
    b.outs = calloc(b.count ? b.count : 1, sizeof *b.outs);
    wasmplug_status st = WASMPLUG_OK;
    if (!b.items || !b.outs)
        st = WASMPLUG_ERR_NOMEM;
    for (size_t i = 0; !st && i < b.count; i++)
        if (!(b.items[i] = json_dumps(json_array_get(list, i), JSON_ENCODE_ANY | JSON_COMPACT)))
            st = WASMPLUG_ERR_NOMEM;
    json_decref(list);
    if (!st) {
        pthread_mutex_init(&b.lock, NULL);
        unsigned n = node->parallel < b.count ? node->parallel : (unsigned)b.count;
        pthread_t threads[64];
        unsigned started = 0;
        for (unsigned t = 1; t < n; t++)
            if (pthread_create(&threads[started], NULL, batch_worker, &b) == 0)
                started++;
        batch_worker(&b);
        for (unsigned t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
        pthread_mutex_destroy(&b.lock);
        if (atomic_load(&b.failed)) {
            st = b.status;
            snprintf(msg, msg_size, "%.1000s", b.msg);
        }
    }
    json_t *results = st ? NULL : json_array();
    for (size_t i = 0; i < b.count; i++) {
        if (results && b.outs)
            json_array_append_new(results, wf_as_json(b.outs[i].data, b.outs[i].len, NULL));
        if (b.outs)
            wasmplug_buf_free(&b.outs[i]);
        if (b.items)
            free(b.items[i]);
    }
    free(b.items);
    free(b.outs);
    if (results) {
        char *text = json_dumps(results, JSON_COMPACT);
        json_decref(results);
        if (!text)
            return WASMPLUG_ERR_NOMEM;
        out->data = (uint8_t *)text;
        out->len = strlen(text);
    }
    return st;
}

/* A JSON text in a wasmplug_buf-compatible malloc'd block. */
static wasmplug_status dump_to(json_t *v, wasmplug_buf *out)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text)
        return WASMPLUG_ERR_NOMEM;
    out->data = (uint8_t *)text;
    out->len = strlen(text);
    return WASMPLUG_OK;
}

/* Free what dump_to or the library allocated (the library's buffers come from
 * malloc too: wasmplug_buf_free is free). */
static void out_free(wasmplug_buf *b)
{
    wasmplug_buf_free(b);
}

typedef struct node_result {
    char action[128];
    json_t *updates;      /* merge patch, or NULL */
    bool replaced_state;  /* transform changed the state in place */
    unsigned retries;
    uint64_t prep_ns, exec_ns, post_ns;
    const char *failed_phase; /* set when a phase failed (routed) */
    char error[1024];
    wasmplug_status status;
} node_result;

json_t *wf_phase_input(const wasmplug_flow *flow, const wf_node *node, json_t *state)
{
    json_t *o = json_object();
    json_object_set(o, "state", state);
    json_object_set(o, "config", node->config);
    json_object_set(o, "params", flow->params);
    return o;
}

/* A phase's output in the run log; "<phase>_raw": true when it is not JSON
 * (then the text itself), so a replay can hand on the same bytes. */
static void record(wasmplug_flow_run *run, json_t *entry, const char *key, const wasmplug_buf *b)
{
    if (!run->opts.record_outputs)
        return;
    bool raw;
    json_object_set_new(entry, key, wf_as_json(b->data, b->len, &raw));
    if (raw) {
        char flag[32];
        snprintf(flag, sizeof flag, "%s_raw", key);
        json_object_set_new(entry, flag, json_true());
    }
}

static wasmplug_status run_plugin_node(wasmplug_flow_run *run, const wf_node *node,
                                       json_t *state, node_result *res, json_t *entry)
{
    const wasmplug_flow *flow = run->flow;
    wasmplug_buf prep = {0}, exec = {0}, post = {0};
    wasmplug_status st = WASMPLUG_OK;
    if (run->opts.record_outputs) /* what a replay of each phase starts from */
        json_object_set_new(entry, "state_in", json_deep_copy(state));
    uint64_t t0 = wf_now_ns();
    if (node->prep_fn) {
        json_t *in = wf_phase_input(flow, node, state);
        wasmplug_buf inb = {0};
        st = dump_to(in, &inb);
        json_decref(in);
        if (!st)
            st = call(run, node, "prep", node->prep_fn, inb.data, inb.len, &prep, res->error,
                      sizeof res->error);
        out_free(&inb);
    } else {
        json_t *v = node->input ? wf_pointer_get(state, node->input) : state;
        st = dump_to(v ? v : json_null(), &prep);
    }
    res->prep_ns = wf_now_ns() - t0;
    if (st) {
        res->failed_phase = "prep";
        goto done;
    }
    record(run, entry, "prep", &prep);

    t0 = wf_now_ns();
    for (unsigned attempt = 0;; attempt++) {
        out_free(&exec);
        st = node->batch ? exec_batch(run, node, &prep, &exec, res->error, sizeof res->error)
                         : call(run, node, "exec", node->exec_fn, prep.data, prep.len, &exec,
                                res->error, sizeof res->error);
        if (!st || stopped(run->control) || st == WASMPLUG_ERR_NOMEM || attempt >= node->retries)
            break;
        res->retries++;
        if (run->opts.observer) {
            wasmplug_flow_event ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = WASMPLUG_FLOW_RETRY;
            ev.node = node->name;
            ev.type = node->type;
            ev.retries = res->retries;
            ev.message = res->error;
            run->opts.observer(run->opts.observer_user, &ev);
        }
        if (node->wait_ms && !wf_control_sleep(run->control, node->wait_ms)) {
            st = stopped(run->control);
            break;
        }
    }
    res->exec_ns = wf_now_ns() - t0;
    if (st) {
        res->failed_phase = "exec";
        goto done;
    }
    record(run, entry, "exec", &exec);

    t0 = wf_now_ns();
    json_t *exec_json = wf_as_json(exec.data, exec.len, NULL);
    if (node->post_fn) {
        json_t *in = wf_phase_input(flow, node, state);
        json_object_set_new(in, "prep", wf_as_json(prep.data, prep.len, NULL));
        json_object_set_new(in, "exec", exec_json);
        wasmplug_buf inb = {0};
        st = dump_to(in, &inb);
        json_decref(in);
        if (!st)
            st = call(run, node, "post", node->post_fn, inb.data, inb.len, &post, res->error,
                      sizeof res->error);
        out_free(&inb);
        res->post_ns = wf_now_ns() - t0;
        if (st) {
            res->failed_phase = "post";
            goto done;
        }
        record(run, entry, "post", &post);
        json_error_t je;
        json_t *o = post.len ? json_loadb((const char *)post.data, post.len, 0, &je) : json_object();
        json_t *action = json_object_get(o, "action"), *updates = json_object_get(o, "updates");
        if (!json_is_object(o) || (action && !json_is_string(action)) ||
            (updates && !json_is_object(updates)) ||
            (action && json_string_length(action) >= sizeof res->action)) {
            snprintf(res->error, sizeof res->error,
                     "node '%s' post (%s of plugin '%s') must return {\"action\": \"name\", "
                     "\"updates\": {...}} (got %.120s)",
                     node->name, node->post_fn, node->doc->id, post.data ? (char *)post.data : "");
            json_decref(o);
            st = WASMPLUG_ERR_WORKFLOW;
            res->failed_phase = "post";
            goto done;
        }
        if (action)
            snprintf(res->action, sizeof res->action, "%s", json_string_value(action));
        res->updates = json_incref(updates);
        json_decref(o);
    } else {
        /* built-in post: the output at `output` (default /<node name>) */
        res->updates = json_object();
        char ptr[300];
        if (!node->output) {
            snprintf(ptr, sizeof ptr, "/%s", node->name);
            json_object_set(res->updates, node->name, exec_json);
        } else {
            json_t *patch = res->updates;
            /* build the nested patch the pointer names */
            const char *p = node->output + 1;
            for (;;) {
                const char *slash = strchr(p, '/');
                char key[256];
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (n >= sizeof key)
                    n = sizeof key - 1;
                memcpy(key, p, n);
                key[n] = '\0';
                if (!slash) {
                    json_object_set(patch, key, exec_json);
                    break;
                }
                json_t *next = json_object();
                json_object_set_new(patch, key, next);
                patch = next;
                p = slash + 1;
            }
        }
        json_decref(exec_json);
        res->post_ns = wf_now_ns() - t0;
    }
done:
    out_free(&prep);
    out_free(&exec);
    out_free(&post);
    return st;
}

wasmplug_status wf_phase(wasmplug_flow_run *run, const wf_node *node, const char *phase,
                         const uint8_t *in, size_t len, wasmplug_buf *out, char *msg,
                         size_t msg_size)
{
    if (!strcmp(phase, "exec")) {
        if (!node->batch)
            return call(run, node, "exec", node->exec_fn, in, len, out, msg, msg_size);
        wasmplug_buf items = {(uint8_t *)in, len};
        return exec_batch(run, node, &items, out, msg, msg_size);
    }
    const char *fn = !strcmp(phase, "prep") ? node->prep_fn : node->post_fn;
    return call(run, node, phase, fn, in, len, out, msg, msg_size);
}

/* Run a sub-workflow on a copy of the state, sharing the parent's control. */
wasmplug_status wf_run_sub(wasmplug_flow_run *parent, const wasmplug_flow *flow, json_t *state,
                           json_t **final_state, const char **last_action, char *msg,
                           size_t msg_size);

static wasmplug_status run_steps(wasmplug_flow_run *run, json_t *state, char *last_action,
                                 size_t last_action_size, char *msg, size_t msg_size);

static wasmplug_status exec_node(wasmplug_flow_run *run, const wf_node *node, json_t *state,
                                 node_result *res, json_t *entry, uint64_t step)
{
    snprintf(res->action, sizeof res->action, "default");
    if (node->kind == WF_PLUGIN)
        return run_plugin_node(run, node, state, res, entry);
    const char *action = "default";
    uint64_t t0 = wf_now_ns();
    wasmplug_status st = wf_builtin_run(run, node, state, &res->updates, &action, res->error,
                                        sizeof res->error, step);
    res->exec_ns = wf_now_ns() - t0;
    if (st)
        res->failed_phase = "exec";
    else
        snprintf(res->action, sizeof res->action, "%s", action);
    return st;
}

static size_t next_node(const wasmplug_flow *flow, const wf_node *node, const char *action)
{
    for (size_t i = 0; i < node->out_count; i++) {
        const wf_conn *c = &flow->conns[node->outs[i]];
        if (!strcmp(c->action, action))
            return c->to_index;
    }
    return SIZE_MAX;
}

static void notify(wasmplug_flow_run *run, wasmplug_flow_event_kind kind, uint64_t step,
                   const wf_node *node, const node_result *res)
{
    if (!run->opts.observer)
        return;
    wasmplug_flow_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = kind;
    ev.step = step;
    ev.node = node->name;
    ev.type = node->type;
    if (res) {
        ev.action = res->action;
        ev.retries = res->retries;
        ev.prep_ns = res->prep_ns;
        ev.exec_ns = res->exec_ns;
        ev.post_ns = res->post_ns;
        ev.message = res->failed_phase ? res->error : NULL;
    }
    run->opts.observer(run->opts.observer_user, &ev);
}

static wasmplug_status run_steps(wasmplug_flow_run *run, json_t *state, char *last_action,
                                 size_t last_action_size, char *msg, size_t msg_size)
{
    const wasmplug_flow *flow = run->flow;
    size_t cur = flow->start_index;
    uint64_t step = 0;
    snprintf(last_action, last_action_size, "default");
    while (cur != SIZE_MAX) {
        const wf_node *node = &flow->nodes[cur];
        wasmplug_status st = stopped(run->control);
        if (st) {
            snprintf(msg, msg_size, "%s before node '%s'",
                     st == WASMPLUG_ERR_TIMEOUT ? "the workflow's timeout passed" : "cancelled",
                     node->name);
            return st;
        }
        if (++step > flow->max_steps) {
            snprintf(msg, msg_size,
                     "%s: the step limit of %llu was reached at node '%s' (a loop without an "
                     "exit? raise max_steps if it is meant to run longer)",
                     flow->path, (unsigned long long)flow->max_steps, node->name);
            return WASMPLUG_ERR_WORKFLOW;
        }
        notify(run, WASMPLUG_FLOW_NODE_START, step, node, NULL);
        json_t *entry = json_object();
        node_result res;
        memset(&res, 0, sizeof res);
        st = exec_node(run, node, state, &res, entry, step);
        size_t next = SIZE_MAX;
        if (st && (run_stop_status(st) && (stopped(run->control) || st == WASMPLUG_ERR_NOMEM))) {
            snprintf(msg, msg_size, "%s", res.error);
            json_decref(entry);
            json_decref(res.updates);
            return st;
        }
        if (st) {
            /* a failed phase: fallback (exec only), else the error connection */
            json_t *e = json_object();
            json_object_set_new(e, "node", json_string(node->name));
            json_object_set_new(e, "phase", json_string(res.failed_phase));
            json_object_set_new(e, "message", json_string(res.error));
            json_object_set_new(state, "_error", e);
            json_object_set_new(entry, "error", json_string(res.error));
            snprintf(res.action, sizeof res.action, "error");
            if (!strcmp(res.failed_phase, "exec") && node->fallback_index != SIZE_MAX) {
                next = node->fallback_index;
                snprintf(res.action, sizeof res.action, "fallback");
            } else if ((next = next_node(flow, node, "error")) == SIZE_MAX) {
                snprintf(msg, msg_size, "%s", res.error);
                json_object_set_new(entry, "step", json_integer((json_int_t)step));
                json_object_set_new(entry, "node", json_string(node->name));
                json_array_append_new(run->steps, entry);
                json_decref(res.updates);
                return WASMPLUG_ERR_WORKFLOW;
            }
        } else {
            if (res.updates)
                wf_merge_patch(state, res.updates);
            next = next_node(flow, node, res.action);
        }
        if (run->opts.record_outputs && res.updates && node->kind != WF_PLUGIN)
            json_object_set(entry, "updates", res.updates);
        json_decref(res.updates);
        json_object_set_new(entry, "step", json_integer((json_int_t)step));
        json_object_set_new(entry, "node", json_string(node->name));
        json_object_set_new(entry, "type", json_string(node->type));
        json_object_set_new(entry, "action", json_string(res.action));
        json_object_set_new(entry, "retries", json_integer(res.retries));
        json_object_set_new(entry, "prep_ns", json_integer((json_int_t)res.prep_ns));
        json_object_set_new(entry, "exec_ns", json_integer((json_int_t)res.exec_ns));
        json_object_set_new(entry, "post_ns", json_integer((json_int_t)res.post_ns));
        json_array_append_new(run->steps, entry);
        notify(run, WASMPLUG_FLOW_NODE_END, step, node, &res);
        snprintf(last_action, last_action_size, "%s", res.action);
        cur = next;
    }
    return WASMPLUG_OK;
}

wasmplug_status wf_run_sub(wasmplug_flow_run *parent, const wasmplug_flow *flow, json_t *state,
                           json_t **final_state, const char **last_action, char *msg,
                           size_t msg_size)
{
    static _Thread_local char action[128];
    wasmplug_flow_run sub;
    memset(&sub, 0, sizeof sub);
    sub.flow = flow;
    sub.opts = parent->opts;
    sub.control = parent->control;
    sub.log = json_object();
    sub.steps = json_array();
    json_t *copy = json_deep_copy(state);
    wasmplug_status st = WASMPLUG_ERR_NOMEM;
    if (sub.log && sub.steps && copy)
        st = run_steps(&sub, copy, action, sizeof action, msg, msg_size);
    json_decref(sub.log);
    json_decref(sub.steps);
    if (st) {
        json_decref(copy);
        return st;
    }
    *final_state = copy;
    *last_action = action;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_flow_run_exec(wasmplug_flow_run *run, const char *input,
                                       char **final_state, char *message, size_t message_size)
{
    char scratch[8];
    if (!message || !message_size) {
        message = scratch;
        message_size = sizeof scratch;
    }
    message[0] = '\0';
    if (final_state)
        *final_state = NULL;
    if (!run || run->used)
        return WASMPLUG_ERR_ARGUMENT;
    run->used = true;
    json_error_t je;
    json_t *state = input && *input ? json_loads(input, JSON_DECODE_ANY, &je) : json_object();
    if (!json_is_object(state)) {
        if (state)
            snprintf(message, message_size, "the input must be a JSON object");
        else
            snprintf(message, message_size, "the input is not JSON: %s at line %d column %d",
                     je.text, je.line, je.column);
        json_decref(state);
        return WASMPLUG_ERR_ARGUMENT;
    }
    json_object_set_new(run->log, "input", json_deep_copy(state));
    wf_control *c = run->control;
    if (run->flow->timeout_ms) {
        c->deadline_ns = wf_now_ns() + run->flow->timeout_ms * 1000000u;
        c->watchdog_running = pthread_create(&c->watchdog, NULL, watchdog, c) == 0;
    }
    char last[128];
    wasmplug_status st = run_steps(run, state, last, sizeof last, message, message_size);
    if (c->watchdog_running) {
        pthread_mutex_lock(&c->lock);
        c->stop_watchdog = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        pthread_join(c->watchdog, NULL);
        c->watchdog_running = false;
    }
    json_object_set(run->log, "state", state);
    json_object_set_new(run->log, "status", json_string(wasmplug_status_name(st)));
    if (st)
        json_object_set_new(run->log, "error", json_string(message));
    if (!st && final_state && !(*final_state = json_dumps(state, JSON_COMPACT | JSON_REAL_PRECISION(15))))
        st = WASMPLUG_ERR_NOMEM;
    json_decref(state);
    return st;
}
