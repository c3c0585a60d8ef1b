/*
 * test_workflow.c - workflows (<wasmplug/workflow.h>): the phase contract
 * of plugin nodes, plain exports as exec, routing (route built-in, post
 * actions, unconnected actions), retries and fallbacks, error connections,
 * loops and the step limit, batch order, node and workflow timeouts,
 * cancellation mid-node, traps in each phase, invalid workflow files (each
 * error located), validation, built-ins, sub-workflows, trace and replay,
 * dot. The node plugin is tests/services/plugins/flownodes.c; its manifests
 * are written here into a temporary directory.
 */
#include "test.h"

#include <wasmplug.h>
#include <wasmplug/workflow.h>

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char dir[256];
static wasmplug_host *host;

static void put(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) {
        perror(path);
        exit(1);
    }
    fputs(text, fp);
    fclose(fp);
}

static void copy_plugin(const char *sub)
{
    char src[300], dst[300], cmd[1200];
    snprintf(src, sizeof src, "%s/flownodes.wasm", WP_HOST_PLUGINS);
    snprintf(dst, sizeof dst, "%s/%s", dir, sub);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s' '%s/flownodes.wasm'", dst, src, dst);
    if (system(cmd) != 0)
        exit(1);
}

#define NODES_MANIFEST(EXEC_OF_CONTRACT)                                                    \
    "id: flownodes\n"                                                                       \
    "version: 1.0.0\n"                                                                      \
    "module: flownodes.wasm\n"                                                              \
    "abi: v1\n"                                                                             \
    "exports: [echo, wrap, flaky, broken, spin, slow_item, noop]\n"                         \
    "nodes:\n"                                                                              \
    "  - name: contract\n"                                                                  \
    "    description: the phase contract\n"                                                 \
    "    prep: echo\n"                                                                      \
    "    exec: " EXEC_OF_CONTRACT "\n"                                                      \
    "    post: post_seen\n"                                                                 \
    "    config: {k: integer}\n"                                                            \
    "  - {name: trap-prep, prep: trap, exec: echo}\n"                                       \
    "  - {name: trap-exec, exec: trap}\n"                                                   \
    "  - {name: trap-post, exec: echo, post: trap}\n"                                       \
    "  - {name: chooser, exec: echo, post: post_next, actions: [left, right, default]}\n"   \
    "  - {name: counter, exec: echo, post: post_count, config: {limit: integer},\n"         \
    "     actions: [again, done]}\n"                                                        \
    "  - {name: garbage, exec: echo, post: post_garbage}\n"

typedef struct result {
    wasmplug_status load, run;
    json_t *state;
    char msg[1024];
    wasmplug_flow_diag diag;
    char *log;
} result;

static void result_free(result *r)
{
    json_decref(r->state);
    free(r->log);
}

/* Parse, (validate when asked) and run a workflow text. */
static result run_text(const char *yaml, const char *input)
{
    result r;
    memset(&r, 0, sizeof r);
    wasmplug_flow *f = NULL;
    r.load = wasmplug_flow_parse(host, yaml, strlen(yaml), "test.yaml", dir, &f, &r.diag);
    if (r.load)
        return r;
    wasmplug_flow_run_options o;
    memset(&o, 0, sizeof o);
    o.record_outputs = true;
    wasmplug_flow_run *run;
    if (wasmplug_flow_run_new(f, &o, &run) == WASMPLUG_OK) {
        char *final = NULL;
        r.run = wasmplug_flow_run_exec(run, input, &final, r.msg, sizeof r.msg);
        if (final)
            r.state = json_loads(final, 0, NULL);
        free(final);
        r.log = wasmplug_flow_run_log(run);
        wasmplug_flow_run_free(run);
    }
    wasmplug_flow_free(f);
    return r;
}

static json_t *at(json_t *root, const char *path)
{
    /* a tiny pointer walk for objects */
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = root;
    for (char *tok = strtok(buf, "/"); tok && cur; tok = strtok(NULL, "/"))
        cur = json_object_get(cur, tok);
    return cur;
}

static void check_json(json_t *got, const char *want_text, int line)
{
    json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
    bool ok = got && want && json_equal(got, want);
    test_check(ok, __FILE__, line, want_text);
    if (!ok) {
        char *g = got ? json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        printf("     got %s\n", g ? g : "(nothing)");
        free(g);
    }
    json_decref(want);
}
#define CHECK_JSON(got, want) check_json((got), (want), __LINE__)

/* ---------------------------------------------------------------------- */

static void test_phase_contract(void)
{
    result r = run_text("plugins: [nodes]\n"
                        "params: {p: x}\n"
                        "nodes:\n"
                        "  - {name: c, type: contract, config: {k: 1}}\n",
                        "{\"a\": 1}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    /* prep got state, config and params */
    CHECK_JSON(at(r.state, "seen/prep"), "{\"state\":{\"a\":1},\"config\":{\"k\":1},\"params\":{\"p\":\"x\"}}");
    /* exec got prep's output unchanged */
    CHECK_JSON(at(r.state, "seen/exec/got"), "{\"state\":{\"a\":1},\"config\":{\"k\":1},\"params\":{\"p\":\"x\"}}");
    /* post got the state (before its updates), config and params too */
    CHECK_JSON(at(r.state, "seen/state"), "{\"a\":1}");
    CHECK_JSON(at(r.state, "seen/config"), "{\"k\":1}");
    /* the updates were merged into the state; the rest kept */
    CHECK_JSON(at(r.state, "a"), "1");
    result_free(&r);

    /* a plain export as exec with the built-in prep (input) and post (output) */
    r = run_text("plugins: [nodes]\n"
                 "nodes:\n"
                 "  - {name: e, type: echo, input: /doc, output: /copy/here}\n"
                 "  - {name: w, type: flownodes/wrap}\n"
                 "connections: [{from: e, to: w}]\n",
                 "{\"doc\": {\"text\": \"hi\"}}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "copy/here"), "{\"text\":\"hi\"}");
    /* the default output is /<node name>, with exec's output as JSON */
    CHECK_JSON(at(r.state, "w/got/doc"), "{\"text\":\"hi\"}");
    result_free(&r);

    /* a post that does not return {"action", "updates"} */
    r = run_text("plugins: [nodes]\nnodes:\n  - {name: g, type: garbage}\n", NULL);
    CHECK_STATUS(r.run, WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(r.msg, "node 'g' post (post_garbage of plugin 'flownodes') must return");
    result_free(&r);
}

static void test_routing(void)
{
    const char *flow = "plugins: [nodes]\n"
                       "nodes:\n"
                       "  - name: r\n"
                       "    type: route\n"
                       "    config:\n"
                       "      routes:\n"
                       "        - {when: '/x == 1', action: one}\n"
                       "        - {when: '/x > 5', action: big}\n"
                       "        - {when: '!/x', action: none}\n"
                       "      default: other\n"
                       "  - {name: n1, type: transform, config: {set: {/went: '\"one\"'}}}\n"
                       "  - {name: nb, type: transform, config: {set: {/went: '\"big\"'}}}\n"
                       "  - {name: no, type: transform, config: {set: {/went: '\"other\"'}}}\n"
                       "  - {name: nn, type: transform, config: {set: {/went: '\"none\"'}}}\n"
                       "connections:\n"
                       "  - {from: r, to: n1, action: one}\n"
                       "  - {from: r, to: nb, action: big}\n"
                       "  - {from: r, to: no, action: other}\n"
                       "  - {from: r, to: nn, action: none}\n";
    const char *inputs[] = {"{\"x\":1}", "{\"x\":9}", "{\"x\":3}", "{\"x\":0}"};
    const char *want[] = {"\"one\"", "\"big\"", "\"other\"", "\"none\""};
    for (int i = 0; i < 4; i++) {
        result r = run_text(flow, inputs[i]);
        CHECK_STATUS(r.run, WASMPLUG_OK);
        CHECK_JSON(at(r.state, "went"), want[i]);
        result_free(&r);
    }
    /* a plugin's post picks the action; an action without a connection ends the run */
    const char *chooser = "plugins: [nodes]\n"
                          "nodes:\n"
                          "  - {name: c, type: chooser, final: [default]}\n"
                          "  - {name: L, type: transform, config: {set: {/went: '\"left\"'}}}\n"
                          "  - {name: R, type: transform, config: {set: {/went: '\"right\"'}}}\n"
                          "connections:\n"
                          "  - {from: c, to: L, action: left}\n"
                          "  - {from: c, to: R, action: right}\n";
    result r = run_text(chooser, "{\"next\":\"right\"}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "went"), "\"right\"");
    result_free(&r);
    r = run_text(chooser, "{\"next\":\"left\"}");
    CHECK_JSON(at(r.state, "went"), "\"left\"");
    result_free(&r);
    r = run_text(chooser, "{\"next\":\"elsewhere\"}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK(at(r.state, "went") == NULL);
    CHECK_CONTAINS(r.log, "\"action\":\"elsewhere\"");
    result_free(&r);
}

static void test_retries_and_fallback(void)
{
    /* fails twice, then succeeds: two retries are enough */
    result r = run_text("plugins: [nodes]\nnodes:\n  - {name: f, type: flaky, retries: 2, wait: 1ms}\n", NULL);
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "f"), "3");
    CHECK_CONTAINS(r.log, "\"retries\":2");
    result_free(&r);
    /* one retry is not: the fallback runs, with _error in the state */
    r = run_text("plugins: [nodes]\n"
                 "nodes:\n"
                 "  - {name: f, type: flaky, retries: 1, fallback: fb}\n"
                 "  - {name: fb, type: transform, config: {set: {/rescued: /_error/node}}}\n"
                 "  - {name: next, type: log, config: {message: never}}\n"
                 "connections: [{from: f, to: next}]\n",
                 NULL);
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "rescued"), "\"f\"");
    CHECK_JSON(at(r.state, "_error/phase"), "\"exec\"");
    CHECK_CONTAINS(json_string_value(at(r.state, "_error/message")), "flaky: not yet");
    CHECK(strstr(r.log, "\"node\":\"next\"") == NULL);
    result_free(&r);
    /* no fallback: the error connection */
    r = run_text("plugins: [nodes]\n"
                 "nodes:\n"
                 "  - {name: b, type: broken}\n"
                 "  - {name: handler, type: transform, config: {set: {/handled: true}}}\n"
                 "connections: [{from: b, to: handler, action: error}]\n",
                 NULL);
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "handled"), "true");
    result_free(&r);
    /* neither: the run fails naming node, export and the plugin's message */
    r = run_text("plugins: [nodes]\nnodes:\n  - {name: b, type: broken, retries: 1}\n", NULL);
    CHECK_STATUS(r.run, WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(r.msg, "node 'b' exec (broken of plugin 'flownodes')");
    CHECK_CONTAINS(r.msg, "broken: always fails");
    result_free(&r);
}

static void test_loops(void)
{
    result r = run_text("plugins: [nodes]\n"
                        "nodes:\n"
                        "  - {name: c, type: counter, config: {limit: 4}, final: [done]}\n"
                        "connections: [{from: c, to: c, action: again}]\n",
                        "{\"n\": 0}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "n"), "4");
    result_free(&r);
    r = run_text("max_steps: 5\n"
                 "nodes:\n"
                 "  - {name: spin, type: route, config: {routes: [{when: 'true', action: again}]}}\n"
                 "connections: [{from: spin, to: spin, action: again}]\n",
                 NULL);
    CHECK_STATUS(r.run, WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(r.msg, "the step limit of 5 was reached at node 'spin'");
    result_free(&r);
}

static void test_batch(void)
{
    result r = run_text("plugins: [nodes]\n"
                        "nodes:\n"
                        "  - {name: b, type: slow_item, batch: true, parallel: 4, input: /items}\n",
                        "{\"items\": [5, 1, 4, 2, 3, 0, 6]}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "b"), "[50, 10, 40, 20, 30, 0, 60]");
    result_free(&r);
    /* prep's output must be a list */
    r = run_text("plugins: [nodes]\nnodes:\n  - {name: b, type: slow_item, batch: true}\n", "{}");
    CHECK_STATUS(r.run, WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(r.msg, "is a batch node but prep's output is not a JSON list");
    result_free(&r);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

typedef struct canceller {
    wasmplug_flow_run *run;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started;
    bool in_call; /* cancel once a plugin call runs, not only once the node began */
} canceller;

/* Calls in progress across the host's plugins. */
static uint32_t host_running_calls(void)
{
    char **names = NULL;
    size_t n = 0;
    uint32_t running = 0;
    if (wasmplug_host_list(host, &names, &n) != WASMPLUG_OK)
        return 0;
    for (size_t i = 0; i < n; i++) {
        wasmplug_plugin *p = NULL;
        wasmplug_plugin_info info;
        if (wasmplug_host_get(host, names[i], &p) != WASMPLUG_OK)
            continue;
        if (wasmplug_plugin_get_info(p, &info) == WASMPLUG_OK)
            running += info.running;
        wasmplug_plugin_release(p);
    }
    wasmplug_free(names);
    return running;
}

static void on_event(void *user, const wasmplug_flow_event *ev)
{
    canceller *c = user;
    if (ev->kind == WASMPLUG_FLOW_NODE_START && !strcmp(ev->node, "s")) {
        pthread_mutex_lock(&c->lock);
        c->started = true;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
}

static void *cancel_thread(void *arg)
{
    canceller *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->started)
        pthread_cond_wait(&c->cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    /* The node began; its exec call may not have yet (a loaded machine):
     * wait for it, up to 30 s (the run is checked to end cancelled, in
     * exec, so a cancel without the call would fail that check). */
    for (int i = 0; c->in_call && i < 3000 && !host_running_calls(); i++)
        usleep(10 * 1000);
    wasmplug_flow_run_cancel(c->run);
    return NULL;
}

static void test_timeouts_and_cancel(void)
{
    /* a node's timeout (its plugin's limit): a failure like any other */
    uint64_t t0 = now_ms();
    result r = run_text("plugins: [nodes]\n"
                        "nodes:\n"
                        "  - {name: s, type: spin, limits: {timeout: 100ms}}\n"
                        "  - {name: h, type: transform, config: {set: {/timed_out: /_error/node}}}\n"
                        "connections: [{from: s, to: h, action: error}]\n",
                        NULL);
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "timed_out"), "\"s\"");
    CHECK_CONTAINS(json_string_value(at(r.state, "_error/message")), "timeout");
    CHECK(now_ms() - t0 < 10000);
    result_free(&r);
    /* the workflow's timeout stops the run, whatever the node's connections */
    t0 = now_ms();
    r = run_text("plugins: [nodes]\n"
                 "timeout: 150ms\n"
                 "nodes:\n"
                 "  - {name: s, type: spin}\n"
                 "  - {name: h, type: log, config: {message: handled}}\n"
                 "connections: [{from: s, to: h, action: error}]\n",
                 NULL);
    CHECK_STATUS(r.run, WASMPLUG_ERR_TIMEOUT);
    CHECK_CONTAINS(r.msg, "the workflow's timeout of 150 ms passed");
    CHECK(now_ms() - t0 < 10000);
    result_free(&r);
    /* and a delay node is cut short by it */
    r = run_text("timeout: 100ms\nnodes:\n  - {name: d, type: delay, config: {ms: 60000}}\n", NULL);
    CHECK_STATUS(r.run, WASMPLUG_ERR_TIMEOUT);
    result_free(&r);

    /* cancel from another thread while the node's exec runs */
    const char *yaml = "plugins: [nodes]\nnodes:\n  - {name: s, type: spin}\n";
    wasmplug_flow *f = NULL;
    CHECK_STATUS(wasmplug_flow_parse(host, yaml, strlen(yaml), "c.yaml", dir, &f, NULL), WASMPLUG_OK);
    canceller c;
    memset(&c, 0, sizeof c);
    c.in_call = true;
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.cond, NULL);
    wasmplug_flow_run_options o;
    memset(&o, 0, sizeof o);
    o.observer = on_event;
    o.observer_user = &c;
    CHECK_STATUS(wasmplug_flow_run_new(f, &o, &c.run), WASMPLUG_OK);
    pthread_t t;
    pthread_create(&t, NULL, cancel_thread, &c);
    char msg[512];
    t0 = now_ms();
    CHECK_STATUS(wasmplug_flow_run_exec(c.run, NULL, NULL, msg, sizeof msg), WASMPLUG_ERR_CANCELLED);
    CHECK(now_ms() - t0 < 10000);
    CHECK_CONTAINS(msg, "node 's' exec");
    pthread_join(t, NULL);
    char *log = wasmplug_flow_run_log(c.run);
    CHECK_CONTAINS(log, "\"status\":\"ERR_CANCELLED\"");
    free(log);
    /* a run executes once */
    CHECK_STATUS(wasmplug_flow_run_exec(c.run, NULL, NULL, NULL, 0), WASMPLUG_ERR_ARGUMENT);
    wasmplug_flow_run_free(c.run);
    /* a delay is cancelled too */
    const char *dy = "nodes:\n  - {name: s, type: delay, config: {ms: 60000}}\n";
    wasmplug_flow *fd = NULL;
    CHECK_STATUS(wasmplug_flow_parse(host, dy, strlen(dy), "d.yaml", dir, &fd, NULL), WASMPLUG_OK);
    c.started = false;
    c.in_call = false; /* a cancel before the delay began ends it all the same */
    CHECK_STATUS(wasmplug_flow_run_new(fd, &o, &c.run), WASMPLUG_OK);
    pthread_create(&t, NULL, cancel_thread, &c);
    t0 = now_ms();
    CHECK_STATUS(wasmplug_flow_run_exec(c.run, NULL, NULL, NULL, 0), WASMPLUG_ERR_CANCELLED);
    CHECK(now_ms() - t0 < 10000);
    pthread_join(t, NULL);
    wasmplug_flow_run_free(c.run);
    wasmplug_flow_free(fd);
    wasmplug_flow_free(f);
    pthread_mutex_destroy(&c.lock);
    pthread_cond_destroy(&c.cond);
}

static void test_traps(void)
{
    const char *types[] = {"trap-prep", "trap-exec", "trap-post"};
    const char *phases[] = {"\"prep\"", "\"exec\"", "\"post\""};
    const char *words[] = {"node 't' prep (trap of plugin", "node 't' exec (trap of plugin",
                           "node 't' post (trap of plugin"};
    for (int i = 0; i < 3; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "plugins: [nodes]\nnodes:\n  - {name: t, type: %s}\n", types[i]);
        result r = run_text(yaml, NULL);
        CHECK_STATUS(r.run, WASMPLUG_ERR_WORKFLOW);
        CHECK(strstr(r.msg, words[i]) != NULL);
        CHECK_CONTAINS(r.msg, "unreachable");
        result_free(&r);
        /* with an error connection the handler runs, knowing the phase */
        snprintf(yaml, sizeof yaml,
                 "plugins: [nodes]\nnodes:\n  - {name: t, type: %s}\n"
                 "  - {name: h, type: transform, config: {set: {/phase: /_error/phase}}}\n"
                 "connections: [{from: t, to: h, action: error}]\n",
                 types[i]);
        r = run_text(yaml, NULL);
        CHECK_STATUS(r.run, WASMPLUG_OK);
        CHECK_JSON(at(r.state, "phase"), phases[i]);
        result_free(&r);
    }
}

typedef struct bad_case {
    const char *yaml;
    unsigned line, column;
    const char *words;
} bad_case;

static void test_invalid_files(void)
{
    const bad_case cases[] = {
        {"nodes:\n  - {name: a, type: route\n", 3, 1, "YAML"},
        {"plugins: [count-plugin]\nnodes:\n  - name: a\n    type: cuont\n", 4, 11,
         "node 'a' has unknown type 'cuont' (did you mean 'count"},
        {"plugins: [nodes]\nnodes:\n  - name: a\n    type: ehco\n", 4, 11, "(did you mean 'echo'?)"},
        {"nodes:\n  - {name: a, type: log, config: {message: x}, colour: red}\n", 2, 48,
         "unknown key 'colour' in a node"},
        {"nodes:\n  - {name: a, type: log, config: {message: x}}\n"
         "  - {name: a, type: log, config: {message: y}}\n", 3, 5, "node name 'a' is used twice"},
        {"nodes:\n  - {name: a, type: log, config: {message: x}}\n"
         "connections:\n  - {from: a, to: b}\n", 4, 19, "connection to unknown node 'b'"},
        {"nodes:\n  - {name: a, type: log, wait: soon}\n", 2, 32, "'wait' must be a duration"},
        {"start: z\nnodes:\n  - {name: a, type: log}\n", 1, 8, "start node 'z'"},
        {"nodes:\n  - {name: a, type: delay, fallback: nope}\n", 2, 38, "fallback 'nope'"},
        {"nodes: []\n", 1, 8, "a workflow needs 'nodes'"},
        {"plugins: [missing]\nnodes:\n  - {name: a, type: log}\n", 1, 11, "plugin 'missing': cannot read"},
        {"nodes:\n  - {name: a, type: workflow, config: {file: nothere.yaml}}\n", 2, 39,
         "sub-workflow"},
        {"nodes:\n  - {name: a, type: log}\ntimeuot: 1s\n", 3, 1,
         "unknown key 'timeuot' in the workflow"},
    };
    copy_plugin("count-plugin");
    put("count-plugin/plugin.yaml", "id: counter\nversion: 1.0.0\nmodule: flownodes.wasm\nabi: v1\nexports: [echo]\n"
                                    "nodes:\n  - {name: count, exec: echo}\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r = run_text(cases[i].yaml, NULL);
        CHECK_STATUS(r.load, WASMPLUG_ERR_WORKFLOW);
        CHECK_EQ(r.diag.line, cases[i].line);
        CHECK_EQ(r.diag.column, cases[i].column);
        if (!strstr(r.diag.message, cases[i].words))
            printf("case %zu: %s\n", i, r.diag.message);
        CHECK(strstr(r.diag.message, cases[i].words) != NULL);
        CHECK_CONTAINS(r.diag.file, "test.yaml");
        result_free(&r);
    }
    /* every error, not only the first */
    result r = run_text("nodes:\n  - {name: a, type: lgo}\n  - {name: b, type: dealy}\n", NULL);
    CHECK_STATUS(r.load, WASMPLUG_ERR_WORKFLOW);
    CHECK_EQ(r.diag.error_count, 2);
    CHECK_CONTAINS(r.diag.message, "did you mean 'log'");
    CHECK_CONTAINS(r.diag.more, "3:21: node 'b' has unknown type 'dealy' (did you mean 'delay'?)");
    result_free(&r);
}

static wasmplug_status validate_text(const char *yaml, wasmplug_flow_diag *d)
{
    wasmplug_flow *f = NULL;
    wasmplug_status st = wasmplug_flow_parse(host, yaml, strlen(yaml), "v.yaml", dir, &f, d);
    if (st)
        return st;
    st = wasmplug_flow_validate(f, d);
    wasmplug_flow_free(f);
    return st;
}

static void test_validate(void)
{
    wasmplug_flow_diag d;
    /* the seed-style chain: the last node has no connection at all (final) */
    CHECK_STATUS(validate_text("plugins: [nodes]\nnodes:\n  - {name: a, type: echo}\n"
                               "  - {name: b, type: contract, config: {k: 2}}\n"
                               "connections: [{from: a, to: b, action: default}]\n", &d),
                 WASMPLUG_OK);
    /* an action the node can return that goes nowhere */
    CHECK_STATUS(validate_text("plugins: [nodes]\nnodes:\n  - {name: c, type: chooser}\n"
                               "  - {name: L, type: echo}\n"
                               "connections: [{from: c, to: L, action: left}]\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "node 'c' can return action 'right' but it is not connected");
    CHECK_EQ(d.line, 3);
    CHECK_EQ(d.error_count, 2); /* right and default */
    /* final makes it deliberate */
    CHECK_STATUS(validate_text("plugins: [nodes]\nnodes:\n  - {name: c, type: chooser, final: [right, default]}\n"
                               "  - {name: L, type: echo}\n"
                               "connections: [{from: c, to: L, action: left}]\n", &d),
                 WASMPLUG_OK);
    /* a connection on an action the node never returns */
    CHECK_STATUS(validate_text("plugins: [nodes]\nnodes:\n  - {name: a, type: echo}\n"
                               "  - {name: b, type: echo}\n"
                               "connections: [{from: a, to: b, action: sideways}]\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "node 'a' can return action 'default' but it is not connected");
    CHECK_CONTAINS(d.more, "5:15: node 'a' never returns action 'sideways'");
    /* config against the node type's schema */
    CHECK_STATUS(validate_text("plugins: [nodes]\nnodes:\n  - {name: b, type: contract, config: {k: many, z: 1}}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    char both[4096];
    snprintf(both, sizeof both, "%s\n%s", d.message, d.more);
    CHECK_CONTAINS(both, "node 'b': config key 'z' is not in node type 'contract''s schema");
    CHECK_CONTAINS(both, "node 'b': config 'k' must be an integer");
    CHECK_EQ(d.line, 3);
    /* built-in configs */
    CHECK_STATUS(validate_text("nodes:\n  - {name: r, type: route, config: {routes: [{when: '/a ==', action: x}]}}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "route 1: 'when: /a ==': an operand is missing");
    CHECK_STATUS(validate_text("nodes:\n  - {name: d, type: delay, config: {ms: -1}}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "a delay node needs config 'ms'");
    /* unreachable nodes */
    CHECK_STATUS(validate_text("nodes:\n  - {name: a, type: log, config: {message: x}}\n"
                               "  - {name: b, type: log, config: {message: y}}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "node 'b' cannot be reached from the start node 'a'");
    /* grants: a plugin requesting what the host does not grant */
    copy_plugin("needy");
    put("needy/plugin.yaml", "id: needy\nversion: 1.0.0\nmodule: flownodes.wasm\nabi: v1\n"
                             "exports: [echo]\npermissions: {host_functions: [env.secret]}\n");
    CHECK_STATUS(validate_text("plugins: [needy]\nnodes:\n  - {name: n, type: echo}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "node 'n': plugin 'needy' requests 'env.secret', which the host does not grant");
    /* manifest node types with a missing export are refused at load */
    copy_plugin("lacking");
    put("lacking/plugin.yaml", "id: lacking\nversion: 1.0.0\nmodule: flownodes.wasm\nabi: v1\n"
                               "nodes:\n  - {name: t, exec: nothere}\n");
    CHECK_STATUS(validate_text("plugins: [lacking]\nnodes:\n  - {name: n, type: t}\n", &d),
                 WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "plugin 'lacking' has no export 'nothere' for the exec phase");
}

static void test_builtins_and_subflows(void)
{
    put("sub.yaml", "nodes:\n  - {name: s1, type: transform, config: {set: {/sub/ran: true, /sub/x: /x}}}\n");
    result r = run_text("nodes:\n"
                        "  - {name: t, type: transform, config: {set: {/y: /x, /big: '/x >= 2', /lit: {a: 1}}, delete: [/gone]}}\n"
                        "  - {name: d, type: delay, config: {ms: 1}}\n"
                        "  - {name: l, type: log, config: {message: y is, value: /y}}\n"
                        "  - {name: s, type: workflow, config: {file: sub.yaml}}\n"
                        "connections: [{from: t, to: d}, {from: d, to: l}, {from: l, to: s}]\n",
                        "{\"x\": 2, \"gone\": 1}");
    CHECK_STATUS(r.run, WASMPLUG_OK);
    CHECK_JSON(at(r.state, "y"), "2");
    CHECK_JSON(at(r.state, "big"), "true");
    CHECK_JSON(at(r.state, "lit"), "{\"a\":1}");
    CHECK(at(r.state, "gone") == NULL);
    CHECK_JSON(at(r.state, "sub"), "{\"ran\":true,\"x\":2}");
    result_free(&r);
}

static void test_trace_replay_dot(void)
{
    const char *a = "plugins: [nodes]\nnodes:\n  - {name: c, type: contract}\n  - {name: e, type: echo}\n"
                    "connections: [{from: c, to: e}]\n";
    put("a.yaml", a);
    put("b.yaml", "plugins: [nodes2]\nnodes:\n  - {name: c, type: contract}\n  - {name: e, type: echo}\n"
                  "connections: [{from: c, to: e}]\n");
    char path[512];
    snprintf(path, sizeof path, "%s/a.yaml", dir);
    wasmplug_flow *fa = NULL, *fb = NULL;
    CHECK_STATUS(wasmplug_flow_load(host, path, &fa, NULL), WASMPLUG_OK);
    snprintf(path, sizeof path, "%s/b.yaml", dir);
    CHECK_STATUS(wasmplug_flow_load(host, path, &fb, NULL), WASMPLUG_OK);
    wasmplug_flow_run_options o;
    memset(&o, 0, sizeof o);
    o.record_outputs = true;
    wasmplug_flow_run *run;
    CHECK_STATUS(wasmplug_flow_run_new(fa, &o, &run), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_flow_run_exec(run, "{\"v\":1}", NULL, NULL, 0), WASMPLUG_OK);
    char *trace = wasmplug_flow_run_log(run);
    wasmplug_flow_run_free(run);
    CHECK_CONTAINS(trace, "\"prep_ns\":");
    CHECK_CONTAINS(trace, "\"action\":\"default\"");
    char *report = NULL;
    size_t diffs = 99;
    /* the same plugins: no difference */
    CHECK_STATUS(wasmplug_flow_replay(fa, trace, &report, &diffs, NULL, 0), WASMPLUG_OK);
    CHECK_EQ(diffs, 0);
    CHECK_CONTAINS(report, "\"state_equal\":true");
    free(report);
    /* a "new version" whose contract exec echoes instead of wrapping */
    CHECK_STATUS(wasmplug_flow_replay(fb, trace, &report, &diffs, NULL, 0), WASMPLUG_OK);
    CHECK(diffs >= 2); /* exec and post of step 1, then e's outputs */
    CHECK_CONTAINS(report, "{\"step\":1,\"node\":\"c\",\"what\":\"exec\"");
    CHECK_CONTAINS(report, "\"state_equal\":false");
    /* phase by phase, only c's exec differs: post and e get their recorded
     * inputs, so the changed exec does not spill into them */
    json_t *rj = json_loads(report, 0, NULL);
    json_t *pd = json_object_get(rj, "phase_differences");
    CHECK_EQ(json_array_size(pd), 1);
    CHECK_JSON(json_object_get(json_array_get(pd, 0), "what"), "\"exec\"");
    CHECK_JSON(json_object_get(json_array_get(pd, 0), "node"), "\"c\"");
    /* the new exec echoes prep's recorded output (prep echoes its input) */
    CHECK_JSON(json_object_get(json_array_get(pd, 0), "now"),
               "{\"state\":{\"v\":1},\"config\":{},\"params\":{}}");
    CHECK_JSON(json_object_get(rj, "phases"), "4"); /* c: prep, exec, post; e: exec */
    json_decref(rj);
    free(report);
    CHECK_STATUS(wasmplug_flow_replay(fa, "{}", &report, &diffs, NULL, 0), WASMPLUG_ERR_ARGUMENT);
    free(trace);
    char *dot = wasmplug_flow_dot(fa);
    CHECK_CONTAINS(dot, "\"c\" -> \"e\" [label=\"default\"]");
    CHECK_CONTAINS(dot, "digraph");
    free(dot);
    wasmplug_flow_free(fa);
    wasmplug_flow_free(fb);
}


typedef struct hook_log {
    unsigned calls;
    char last_name[128];
    bool refuse;
} hook_log;

static wasmplug_status hook(void *user, wasmplug_host *h, const wasmplug_manifest_doc *doc,
                            const char *plugin_name, char *message, size_t message_size)
{
    hook_log *l = user;
    l->calls++;
    snprintf(l->last_name, sizeof l->last_name, "%s", plugin_name);
    CHECK(h == host);
    CHECK(doc->id && !strcmp(doc->id, "flownodes"));
    if (l->refuse) {
        snprintf(message, message_size, "refused by the test's hook");
        return WASMPLUG_ERR_PERMISSION_DENIED;
    }
    return WASMPLUG_OK;
}

/* Load options: plugins searched after the file's own (sub-workflows too),
 * and the hook that sees each plugin before it loads, under its host name. */
static void test_load_options(void)
{
    put("outer.yaml", "nodes:\n  - {name: w, type: wrap}\n  - {name: s, type: workflow, config: {file: inner.yaml}}\n"
                      "connections: [{from: w, to: s}]\n");
    put("inner.yaml", "nodes:\n  - {name: e, type: echo, config: {k: 1}}\n");
    char path[512], nodes[300];
    snprintf(path, sizeof path, "%s/outer.yaml", dir);
    snprintf(nodes, sizeof nodes, "%s/nodes", dir);
    const char *plugins[] = {nodes};
    hook_log l;
    memset(&l, 0, sizeof l);
    wasmplug_flow_load_options o = {plugins, 1, hook, &l};
    wasmplug_flow *f = NULL;
    wasmplug_flow_diag d;
    CHECK_STATUS(wasmplug_flow_load_opts(host, path, &o, &f, &d), WASMPLUG_OK);
    CHECK_EQ(l.calls, 2); /* the outer node's plugin and the inner one (another config) */
    CHECK(strncmp(l.last_name, "flow.flownodes.", 15) == 0);
    wasmplug_plugin *p = NULL;
    CHECK_STATUS(wasmplug_host_get(host, l.last_name, &p), WASMPLUG_OK); /* the name it loaded as */
    if (p)
        wasmplug_plugin_release(p);
    wasmplug_flow_free(f);
    /* without the options the types are unknown */
    CHECK_STATUS(wasmplug_flow_load_opts(host, path, NULL, &f, &d), WASMPLUG_ERR_WORKFLOW);
    CHECK_CONTAINS(d.message, "unknown type 'wrap'");
    /* a refusal is reported at the node, with the hook's reason */
    memset(&l, 0, sizeof l);
    l.refuse = true;
    CHECK_STATUS(wasmplug_flow_load_opts(host, path, &o, &f, &d), WASMPLUG_ERR_WORKFLOW);
    CHECK(f == NULL);
    CHECK_EQ(d.line, 2);
    CHECK_CONTAINS(d.message, "node 'w': plugin 'flownodes'");
    CHECK_CONTAINS(d.message, "refused by the test's hook");
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/wp-flow-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return 1;
    copy_plugin("nodes");
    copy_plugin("nodes2");
    put("nodes/plugin.yaml", NODES_MANIFEST("wrap"));
    put("nodes2/plugin.yaml", NODES_MANIFEST("echo"));
    CHECK_STATUS(wasmplug_host_new(NULL, &host), WASMPLUG_OK);

    test_phase_contract();
    test_routing();
    test_retries_and_fallback();
    test_loops();
    test_batch();
    test_timeouts_and_cancel();
    test_traps();
    test_invalid_files();
    test_validate();
    test_builtins_and_subflows();
    test_trace_replay_dot();
    test_load_options();

    wasmplug_host_free(host);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("could not remove %s\n", dir);
    return test_done();
}
