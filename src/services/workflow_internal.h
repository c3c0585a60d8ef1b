/*
 * workflow_internal.h - what the workflow files share: the loaded
 * workflow (workflow_load.c), validation (workflow_validate.c), the run
 * engine (workflow_run.c), built-in nodes and expressions
 * (workflow_builtin.c), the run log, trace replay and dot
 * (workflow_trace.c).
 */
#ifndef WASMPLUG_WORKFLOW_INTERNAL_H
#define WASMPLUG_WORKFLOW_INTERNAL_H

#include <wasmplug/workflow.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

typedef struct wf_loc {
    unsigned line, column;
} wf_loc;

typedef enum wf_kind {
    WF_PLUGIN,     /* a plugin node type or a plain export */
    WF_ROUTE,
    WF_TRANSFORM,
    WF_DELAY,
    WF_LOG,
    WF_SUBFLOW
} wf_kind;

/* A plugin a workflow loaded: one per (manifest, config, limits, pool). */
typedef struct wf_plugin {
    wasmplug_manifest_doc *doc; /* shared with the other entries of the same file */
    bool owns_doc;
    wasmplug_plugin *plugin;
    char *config_key;           /* config + limits as text: the sharing key */
    unsigned pool;
} wf_plugin;

typedef struct wf_node {
    char *name;
    char *type;
    wf_kind kind;
    json_t *config;              /* object (never NULL) */
    wf_loc loc, type_loc, config_loc, fallback_loc;
    unsigned retries;
    uint64_t wait_ms;
    char *fallback;
    size_t fallback_index;
    char *input, *output;        /* JSON pointers (may be NULL) */
    bool batch;
    unsigned parallel;
    wasmplug_plugin_limits limits;
    wasmplug_strlist final_actions;
    /* resolved */
    const wasmplug_manifest_node_type *node_type; /* NULL for a plain export */
    wasmplug_manifest_doc *doc;  /* the plugin's manifest */
    wf_plugin *plugin;
    char *prep_fn, *exec_fn, *post_fn; /* exports (prep/post NULL = built in) */
    wasmplug_flow *sub;          /* WF_SUBFLOW */
    size_t *outs;                /* indexes of its connections */
    size_t out_count;
} wf_node;

typedef struct wf_conn {
    char *from, *to, *action;
    size_t from_index, to_index;
    wf_loc loc, from_loc, to_loc;
} wf_conn;

struct wasmplug_flow {
    wasmplug_host *host;
    char *path, *dir, *name;
    char *start;
    size_t start_index;
    wf_loc start_loc;
    uint64_t max_steps;
    uint64_t timeout_ms;
    json_t *params;
    wasmplug_plugin_limits limits;
    wf_node *nodes;
    size_t node_count;
    wf_conn *conns;
    size_t conn_count;
    wasmplug_manifest_doc **docs; /* listed plugins' manifests */
    wf_loc *doc_locs;
    size_t doc_count;
    char **extra_plugins;         /* plugins the caller added (absolute paths) */
    size_t extra_plugin_count;
    wasmplug_flow_plugin_hook before_load; /* the caller's, or NULL */
    void *hook_user;
    wf_plugin **plugins;
    size_t plugin_count;
    unsigned depth;               /* sub-workflow nesting */
};

/* A run's shared cancellation and deadline state (a sub-workflow's run
 * shares its parent's). */
typedef struct wf_control {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    atomic_bool cancelled;
    atomic_bool timed_out;
    wasmplug_plugin *active[64]; /* plugins with calls running now */
    unsigned active_count[64];
    uint64_t deadline_ns;         /* 0 = none */
    bool watchdog_running, stop_watchdog;
    pthread_t watchdog;
} wf_control;

struct wasmplug_flow_run {
    const wasmplug_flow *flow;
    wasmplug_flow_run_options opts;
    wf_control *control;
    bool owns_control;
    bool used;
    json_t *log;                  /* the run log */
    json_t *steps;                /* log["steps"] */
};

/* Errors with a location, as the manifest parser reports them. */
void wf_diag(wasmplug_flow_diag *diag, const char *file, wf_loc at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* workflow_load.c */
wasmplug_status wf_load(wasmplug_host *host, const char *path, unsigned depth,
                        const wasmplug_flow_load_options *opts, wasmplug_flow **out,
                        wasmplug_flow_diag *diag);
size_t wf_node_index(const wasmplug_flow *flow, const char *name);

/* workflow_builtin.c */
json_t *wf_pointer_get(json_t *root, const char *pointer);
int wf_pointer_set(json_t *root, const char *pointer, json_t *value); /* steals value */
/* Evaluate an expression on the state: a JSON pointer (/a/b, "" for the
 * whole state is "/"), a JSON literal, or "A op B" with op one of
 * == != < <= > >= (and a leading "!" negation). NULL + *why on a syntax
 * error. */
json_t *wf_eval(json_t *state, const char *expr, const char **why);
bool wf_truthy(const json_t *v);
bool wf_check_expr(const char *expr, const char **why);
/* Run a built-in node: *updates (new reference, may be NULL) and *action. */
wasmplug_status wf_builtin_run(wasmplug_flow_run *run, const wf_node *node, json_t *state,
                               json_t **updates, const char **action, char *msg,
                               size_t msg_size, uint64_t step);
/* The actions a built-in node can return (NULL-terminated names into the
 * config; route's routes plus its default). */
size_t wf_builtin_actions(const wf_node *node, const char **out, size_t max);
/* Check a built-in node's config: false + diag entries when wrong. */
bool wf_builtin_check(const wasmplug_flow *flow, const wf_node *node, wasmplug_flow_diag *diag);
/* Wait ms on the run's control (true: the full time passed). */
bool wf_control_sleep(wf_control *control, uint64_t ms);

/* workflow_run.c */
uint64_t wf_now_ns(void);
wasmplug_status wf_run_sub(wasmplug_flow_run *parent, const wasmplug_flow *flow, json_t *state,
                           json_t **final_state, const char **last_action, char *msg,
                           size_t msg_size);
void wf_merge_patch(json_t *target, json_t *patch);
/* Output bytes as JSON when they parse, else as a string (*raw, may be NULL,
 * says which); an empty output is "". */
json_t *wf_as_json(const uint8_t *data, size_t len, bool *raw);
/* What prep and post get: {"state", "config", "params"} (new reference). */
json_t *wf_phase_input(const wasmplug_flow *flow, const wf_node *node, json_t *state);
/* One phase ("prep", "exec", "post") of a plugin node under the run's
 * control, as a run calls it (a batch node's exec runs over each item of
 * in, a JSON list); msg names the node, phase and export on failure. */
wasmplug_status wf_phase(wasmplug_flow_run *run, const wf_node *node, const char *phase,
                         const uint8_t *in, size_t len, wasmplug_buf *out, char *msg,
                         size_t msg_size);

#endif
