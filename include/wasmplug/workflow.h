/*
 * wasmplug/workflow.h - workflows: plugins as nodes with prep, exec and
 * post phases, wired by actions (services layer, libwasmplug_services,
 * which needs libyaml and jansson).
 *
 * A workflow file (workflow.yaml) lists nodes and connects them:
 *
 *     name: review                # optional
 *     plugins: [../plugins/sentiment-analyzer]   # plugin dirs (or plugin.yaml
 *                                 # files), relative to this file
 *     start: analyze-sentiment    # default: the first node
 *     max_steps: 1000             # loops are allowed; a run stops after this
 *                                 # many node executions (default 10000)
 *     timeout: 5s                 # the whole run (ms, s or m; default none)
 *     params: {lang: en}          # read-only values handed to every phase
 *     limits: {timeout: 1s, fuel: 100000000, max_memory: 16MiB}
 *                                 # every plugin node's limits (over the
 *                                 # manifest's resources)
 *     nodes:
 *       - name: analyze-sentiment
 *         type: analyze           # a node type, see below
 *         config: {threshold: 0.7}
 *         retries: 2              # exec attempts after the first (default 0)
 *         wait: 10ms              # between attempts
 *         fallback: neutral       # where an exec failure after the retries goes
 *         limits: {timeout: 200ms}  # this node's plugin limits
 *         input: /doc             # default prep: the state at this JSON pointer
 *         output: /sentiment      # default post: where exec's output goes
 *                                 # (default /<node name>)
 *         batch: true             # exec over each item of prep's list
 *         parallel: 4             # instances for a batch (default 1)
 *         final: [negative]       # actions that deliberately end the run
 *     connections:
 *       - {from: analyze-sentiment, to: count-words, action: default}
 *
 * Node types:
 *  - a node type a plugin's manifest declares (plugin.yaml `nodes:`, see
 *    <wasmplug/manifest.h> and docs/ABI.md "Workflow nodes"), with prep,
 *    exec and post exports;
 *  - an export of a listed plugin ("count" or "word-counter/count"): a plain
 *    function serves as the exec phase, with the built-in prep and post;
 *  - built-ins: route (conditional routing on the state), transform (set
 *    values from JSON pointers or expressions), delay, log, and workflow
 *    (a sub-workflow: config {file: sub.yaml}).
 *
 * Phases (bytes in, bytes out; JSON unless said otherwise):
 *  - prep gets {"state": S, "config": C, "params": P}; its output is exec's
 *    input. Built in: the state (or the state at `input`), as JSON.
 *  - exec gets prep's output, unchanged. Retried on failure (`retries`,
 *    `wait`); after the last failure the run goes to `fallback`, else
 *    follows the node's `error` action, else fails. In a batch node prep's
 *    output must be a JSON list: exec runs once per item (the item as JSON),
 *    on `parallel` instances, and post sees the outputs in the items' order.
 *  - post gets {"state": S, "config": C, "params": P, "prep": <prep output>,
 *    "exec": <exec output>} (outputs that are not JSON appear as strings) and
 *    returns {"action": "name", "updates": {...}}: the updates are merged
 *    into the state (RFC 7386 merge patch: null deletes) after post returns;
 *    a missing action is "default". Built in: the exec output at `output`.
 * The next node is the connection from this node on the action. An action
 * with no connection ends the run. A failed exec sets state._error to
 * {"node": ..., "phase": ..., "message": ...} before its fallback or error
 * connection runs.
 *
 * Errors in a workflow file name the file, line and column:
 * "flow.yaml:7:11: node 'count' has unknown type 'cuont' (did you mean 'count'?)".
 *
 * Thread safety: a loaded workflow is read-only and may be run by several
 * threads at once, each with its own run. wasmplug_flow_run_cancel may be
 * called from any thread while the run executes.
 */
#ifndef WASMPLUG_WORKFLOW_H
#define WASMPLUG_WORKFLOW_H

#include <wasmplug.h>
#include <wasmplug/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A loaded workflow (nodes, connections, its plugins bound to a host). */
typedef struct wasmplug_flow wasmplug_flow;
/** One run of a workflow. */
typedef struct wasmplug_flow_run wasmplug_flow_run;

/** Where a workflow error is: the same shape as a manifest's diagnostics
 *  (file, 1-based line and column, message, further errors in `more`). */
typedef wasmplug_manifest_diag wasmplug_flow_diag;

/** The deepest nesting of sub-workflows. */
#define WASMPLUG_FLOW_MAX_DEPTH 8

/**
 * Read a workflow file and bind it to host: each listed plugin's manifest is
 * read and its module loaded into host (named "flow.<id>.<n>", one plugin
 * per distinct config and limits), sub-workflows are loaded, node types are
 * resolved. Errors: ERR_NOT_FOUND / ERR_IO (the file), ERR_WORKFLOW (the
 * file's content: diag names line and column; every error found is
 * reported, like manifests), ERR_MANIFEST (a plugin's manifest), or a load
 * error of a plugin. *out is freed with wasmplug_flow_free, which unloads
 * the plugins; the host must outlive it.
 */
WASMPLUG_API wasmplug_status wasmplug_flow_load(wasmplug_host *host, const char *path,
                                                wasmplug_flow **out, wasmplug_flow_diag *diag);
/**
 * wasmplug_flow_load with more plugins than the file lists: plugin
 * directories (or plugin.yaml files), relative to the current directory,
 * searched after the file's own (sub-workflows see them too). A workflow can
 * so name node types without saying where the plugins are.
 */
WASMPLUG_API wasmplug_status wasmplug_flow_load_with(wasmplug_host *host, const char *path,
                                                     const char *const *plugins,
                                                     size_t plugin_count, wasmplug_flow **out,
                                                     wasmplug_flow_diag *diag);
/**
 * Called for each plugin a workflow is about to load, with its manifest and
 * the name it will have in the host ("flow.<id>.<n>"): the place to give
 * that plugin alone what it was granted (wasmplug_host_grant(host,
 * plugin_name, permission)), e.g. what an operator recorded when installing
 * it. Returning non-OK skips the plugin; message (NUL-terminated, may be
 * left empty) says why and is reported at the node that needed it.
 */
typedef wasmplug_status (*wasmplug_flow_plugin_hook)(void *user, wasmplug_host *host,
                                                     const wasmplug_manifest_doc *doc,
                                                     const char *plugin_name, char *message,
                                                     size_t message_size);

/** Options of wasmplug_flow_load_opts (zero = wasmplug_flow_load). */
typedef struct wasmplug_flow_load_options {
    /* plugin directories (or plugin.yaml files) searched after the file's
     * own, as wasmplug_flow_load_with; sub-workflows see them too */
    const char *const *plugins;
    size_t plugin_count;
    wasmplug_flow_plugin_hook before_load; /* may be NULL; sub-workflows use it too */
    void *hook_user;
} wasmplug_flow_load_options;

/** wasmplug_flow_load with options (opts NULL = none). */
WASMPLUG_API wasmplug_status wasmplug_flow_load_opts(wasmplug_host *host, const char *path,
                                                     const wasmplug_flow_load_options *opts,
                                                     wasmplug_flow **out,
                                                     wasmplug_flow_diag *diag);
/** The same from YAML text; relative paths are taken from base_dir (NULL = "."). */
WASMPLUG_API wasmplug_status wasmplug_flow_parse(wasmplug_host *host, const char *text,
                                                 size_t len, const char *filename,
                                                 const char *base_dir, wasmplug_flow **out,
                                                 wasmplug_flow_diag *diag);
WASMPLUG_API void wasmplug_flow_free(wasmplug_flow *flow);

/**
 * Check a loaded workflow: every action a node can return (the actions its
 * node type declares, route's actions, `error` when it has a fallback-less
 * retry policy connected) is connected or listed in its `final` (a node
 * with no outgoing connection at all is a final node), connections name
 * existing nodes, configs match their node types' schemas, the plugins'
 * granted permissions cover what their manifests request, and the start
 * node can reach every node. ERR_WORKFLOW with every problem in diag.
 */
WASMPLUG_API wasmplug_status wasmplug_flow_validate(const wasmplug_flow *flow,
                                                    wasmplug_flow_diag *diag);

/** What a run reports to its observer. */
typedef enum wasmplug_flow_event_kind {
    WASMPLUG_FLOW_NODE_START,  /* node begins (step, node, type) */
    WASMPLUG_FLOW_NODE_END,    /* node done: action, retries, phase durations */
    WASMPLUG_FLOW_RETRY,       /* exec failed and will be retried (message) */
    WASMPLUG_FLOW_LOG          /* a log node's message (message) */
} wasmplug_flow_event_kind;

typedef struct wasmplug_flow_event {
    wasmplug_flow_event_kind kind;
    uint64_t step;             /* 1-based */
    const char *node;          /* node name */
    const char *type;          /* its type */
    const char *action;        /* NODE_END: the action taken */
    unsigned retries;          /* NODE_END: exec attempts after the first */
    uint64_t prep_ns, exec_ns, post_ns; /* NODE_END: phase durations */
    const char *message;       /* RETRY: the failure; LOG: the text */
} wasmplug_flow_event;

typedef void (*wasmplug_flow_observer)(void *user, const wasmplug_flow_event *ev);

typedef struct wasmplug_flow_run_options {
    wasmplug_flow_observer observer; /* may be NULL; called on the running thread */
    void *observer_user;
    bool record_outputs;             /* keep every phase's input and output in the
                                        run log (needed for a trace) */
} wasmplug_flow_run_options;

/** A run of flow (not started). Free with wasmplug_flow_run_free after it ends. */
WASMPLUG_API wasmplug_status wasmplug_flow_run_new(const wasmplug_flow *flow,
                                                   const wasmplug_flow_run_options *opts,
                                                   wasmplug_flow_run **out);
/**
 * Run from the start node with input (JSON text; NULL or "" = {}) as the
 * initial state until an action with no connection. *final_state (may be
 * NULL) gets the final state as JSON text (free()). A run is executed once.
 * Errors: ERR_ARGUMENT (input not JSON), ERR_WORKFLOW (a phase failed with
 * no fallback or error connection, a post's output is malformed, the step
 * limit), ERR_TIMEOUT (the workflow's timeout), ERR_CANCELLED; message
 * (may be NULL) gets a sentence naming the node and phase.
 */
WASMPLUG_API wasmplug_status wasmplug_flow_run_exec(wasmplug_flow_run *run, const char *input,
                                                    char **final_state, char *message,
                                                    size_t message_size);
/** Stop a run from any thread: its running plugin calls end with ERR_CANCELLED,
 *  a delay ends now, and the run returns ERR_CANCELLED. */
WASMPLUG_API void wasmplug_flow_run_cancel(wasmplug_flow_run *run);
/**
 * The run log as JSON text (free()): {"workflow", "input", "steps": [{"step",
 * "node", "type", "action", "retries", "prep_ns", "exec_ns", "post_ns",
 * "error"?, and with record_outputs the "prep", "exec", "post" outputs
 * (JSON, or the text with "<phase>_raw": true when not JSON) and a plugin
 * node's "state_in", the state it started from}],
 * "state", "status"}. This is also the trace format of wasmplug_flow_replay.
 */
WASMPLUG_API char *wasmplug_flow_run_log(const wasmplug_flow_run *run);
WASMPLUG_API void wasmplug_flow_run_free(wasmplug_flow_run *run);

/** The workflow as a Graphviz dot graph (free()). */
WASMPLUG_API char *wasmplug_flow_dot(const wasmplug_flow *flow);

/**
 * Replay a trace (a run log with outputs) against flow (the same workflow,
 * possibly with new plugin versions), in two ways:
 *  - the whole run again from the trace's input, compared step by step:
 *    the node taken, each phase's output and the action (after the paths
 *    part, later steps are not compared), and the final state;
 *  - each recorded phase of each plugin node on its own, with the input it
 *    had in the trace (prep: the state the node started from, recorded as
 *    the step's "state_in"; exec: prep's recorded output; post: both), so a
 *    difference there is that phase's own, not one carried over from an
 *    earlier node.
 * *report (free()) gets JSON {"steps": N, "differences": [{"step", "node",
 * "what", "trace", "now"}], "state_equal": bool, "phases": N,
 * "phase_differences": [same shape; "now" is {"error": ...} when the
 * phase failed]}; *differences counts both lists. A run error of the
 * replay is a difference too ("what": "status").
 */
WASMPLUG_API wasmplug_status wasmplug_flow_replay(const wasmplug_flow *flow, const char *trace,
                                                  char **report, size_t *differences,
                                                  char *message, size_t message_size);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_WORKFLOW_H */
