/*
 * cmd_flow.c - `wasmplug flow run|validate|graph|replay`: workflows of
 * plugin nodes (<wasmplug/workflow.h>) from the command line. Node types
 * come from the workflow's own plugins, then --plugin directories, then the
 * project's ./plugins and the store (newest version of each); an installed
 * plugin gets what the operator granted it at install, --grant applies to
 * every plugin. Plugin names, node names and outputs are untrusted text:
 * escaped on terminals.
 */
#include "cli.h"
#include "interrupt.h"

#include <wasmplug/workflow.h>

#include "services/grants.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { F_INPUT = 1, F_INPUT_FILE, F_STATE_OUT, F_TRACE, F_GRANT, F_WORKFLOW, F_PLUGIN };

static const cli_opt FLOW_OPTS[] = {
    {"input", 'i', true, F_INPUT},         {"input-file", 0, true, F_INPUT_FILE},
    {"state-out", 0, true, F_STATE_OUT},   {"trace", 0, true, F_TRACE},
    {"grant", 'g', true, F_GRANT},         {"workflow", 'w', true, F_WORKFLOW},
    {"plugin", 'p', true, F_PLUGIN},
    {NULL, 0, false, 0}};

typedef struct flow_opts {
    const char *sub, *file, *input, *input_file, *state_out, *trace, *workflow;
    const char *grants[64];
    size_t grant_count;
    const char *plugins[64];
    size_t plugin_count;
} flow_opts;

static const char FLOW_USAGE[] =
    "flow run FILE [--input JSON | --input-file F] [--state-out F] [--trace F]\n"
    "       | validate FILE | graph FILE | replay TRACE [--workflow FILE]\n"
    "       (all: [--plugin DIR]... [--grant PERMISSION]...)";

static int parse(int argc, char **argv, flow_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_args a = {argc, argv, 1, false};
    const char *arg;
    int id;
    while ((id = cli_next(&a, FLOW_OPTS, "flow", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        switch (id) {
        case 0:
            if (!o->sub)
                o->sub = arg;
            else if (!o->file)
                o->file = arg;
            else {
                return cli_fail_json(EXIT_USAGE, "usage", "flow: too many arguments");
            }
            break;
        case F_INPUT: o->input = arg; break;
        case F_INPUT_FILE: o->input_file = arg; break;
        case F_STATE_OUT: o->state_out = arg; break;
        case F_TRACE: o->trace = arg; break;
        case F_WORKFLOW: o->workflow = arg; break;
        case F_PLUGIN:
            if (o->plugin_count == sizeof o->plugins / sizeof o->plugins[0])
                return cli_fail_json(EXIT_USAGE, "usage", "flow: too many --plugin options");
            o->plugins[o->plugin_count++] = arg;
            break;
        case F_GRANT:
            if (o->grant_count == sizeof o->grants / sizeof o->grants[0])
                return cli_fail_json(EXIT_USAGE, "usage", "flow: too many --grant options");
            o->grants[o->grant_count++] = arg;
            break;
        }
    }
    if (!o->sub || !o->file) {
        char msg[512];
        snprintf(msg, sizeof msg, "usage: wasmplug %s", FLOW_USAGE);
        return cli_fail_json(EXIT_USAGE, "usage", msg);
    }
    if (o->input && o->input_file)
        return cli_fail_json(EXIT_USAGE, "usage", "flow run: --input and --input-file exclude each other");
    return EXIT_OK;
}

static void on_log(void *user, wasmplug_plugin *plugin, const char *name,
                   wasmplug_log_level level,
                   const char *msg, size_t len)
{
    (void)user;
    (void)plugin;
    if (G.quiet || (int)level < G.log_level)
        return;
    fprintf(stderr, "[%s] %s\n", term_field(name), term_fieldn(msg, len));
}

static wasmplug_host *make_host(const flow_opts *o, int *rc)
{
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.on_log = on_log;
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(&hc, &h) != WASMPLUG_OK) {
        *rc = cli_fail_json(EXIT_INTERNAL, NULL, "cannot create the plugin host");
        return NULL;
    }
    char msg[512];
    wasmplug_status st = cli_attach_services(h, msg, sizeof msg);
    if (st) {
        *rc = cli_fail_json(cli_services_exit(st), NULL, msg);
        wasmplug_host_free(h);
        return NULL;
    }
    for (size_t i = 0; i < o->grant_count; i++)
        wasmplug_host_grant(h, "*", o->grants[i]);
    return h;
}

static void observe(void *user, const wasmplug_flow_event *ev)
{
    (void)user;
    if (G.quiet)
        return;
    if (ev->kind == WASMPLUG_FLOW_LOG)
        fprintf(stderr, "%s[%s]%s %s\n", cli_bold(), term_field(ev->node), cli_reset(),
                term_field(ev->message));
    else if (ev->kind == WASMPLUG_FLOW_RETRY && G.log_level <= (int)WASMPLUG_LOG_INFO)
        fprintf(stderr, "%s: retry %u: %s\n", term_field(ev->node), ev->retries,
                term_field(ev->message));
    else if (ev->kind == WASMPLUG_FLOW_NODE_END && G.log_level <= (int)WASMPLUG_LOG_DEBUG)
        fprintf(stderr, "step %llu: %s (%s) -> %s  [prep %.3f ms, exec %.3f ms, post %.3f ms%s]\n",
                (unsigned long long)ev->step, term_field(ev->node), term_field(ev->type),
                term_field(ev->action), ev->prep_ns / 1e6, ev->exec_ns / 1e6, ev->post_ns / 1e6,
                ev->retries ? ", retried" : "");
}

/* Ctrl-C cancels the running workflow (the watcher thread calls this). */
static wasmplug_flow_run *_Atomic current_run;
static atomic_bool interrupted_now;

static void cancel_current(void *user)
{
    (void)user;
    atomic_store(&interrupted_now, true);
    wasmplug_flow_run *run = atomic_load(&current_run);
    if (run)
        wasmplug_flow_run_cancel(run);
}

static bool write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp)
        return false;
    bool ok = fputs(text, fp) >= 0 && fputc('\n', fp) != EOF;
    return fclose(fp) == 0 && ok;
}

/* The store's plugins directory as a real path with a trailing '/', or "" . */
static char store_plugins[PATH_MAX + 16];

/* An installed plugin (its directory is in the store) gets exactly what the
 * operator granted it at install, under the name the workflow loads it as. */
static wasmplug_status grant_recorded(void *user, wasmplug_host *host,
                                      const wasmplug_manifest_doc *doc, const char *plugin_name,
                                      char *message, size_t message_size)
{
    (void)user;
    char dir[PATH_MAX];
    size_t n = strlen(store_plugins);
    if (!n || !doc->dir || !realpath(doc->dir, dir) || strncmp(dir, store_plugins, n))
        return WASMPLUG_OK;
    wps_grants granted = {NULL, 0};
    wasmplug_status st = wps_grants_load(dir, &granted, message, message_size);
    if (st == WASMPLUG_ERR_NOT_FOUND)
        return WASMPLUG_OK; /* installed with nothing granted */
    for (size_t i = 0; !st && i < granted.count; i++)
        st = wasmplug_host_grant(host, plugin_name, granted.items[i]);
    wps_grants_free(&granted);
    return st;
}

/* --plugin directories, then the project's plugins and the store's (the
 * newest version of each id; entries whose manifest is broken are left out:
 * `wasmplug list` reports them). *paths and *entries are freed by the caller. */
static bool plugin_dirs(const flow_opts *o, const char ***paths, size_t *count,
                        wps_entry **entries, size_t *entry_count)
{
    *entries = NULL;
    *entry_count = 0;
    store_plugins[0] = '\0';
    char cwd[PATH_MAX], msg[512], real[PATH_MAX];
    if (G.store && cli_store_usable() == EXIT_OK) {
        char root[PATH_MAX + 16];
        snprintf(root, sizeof root, "%s/plugins", G.store);
        if (realpath(root, real))
            snprintf(store_plugins, sizeof store_plugins, "%s/", real);
        wps_list(G.store, getcwd(cwd, sizeof cwd) ? cwd : NULL, entries, entry_count, msg,
                 sizeof msg);
    }
    *paths = calloc(o->plugin_count + *entry_count + 1, sizeof **paths);
    if (!*paths)
        return false;
    *count = 0;
    for (size_t i = 0; i < o->plugin_count; i++)
        (*paths)[(*count)++] = o->plugins[i];
    for (size_t i = 0; i < *entry_count; i++) {
        const wps_entry *e = &(*entries)[i], *prev = i ? &(*entries)[i - 1] : NULL;
        if (!e->doc || (prev && prev->doc && prev->source == e->source &&
                        !strcmp(prev->doc->id, e->doc->id)))
            continue;
        (*paths)[(*count)++] = e->dir;
    }
    return true;
}

static int load(const flow_opts *o, wasmplug_host *h, const char *file, wasmplug_flow **flow)
{
    wasmplug_flow_load_options lo;
    memset(&lo, 0, sizeof lo);
    wps_entry *entries;
    size_t entry_count;
    if (!plugin_dirs(o, (const char ***)&lo.plugins, &lo.plugin_count, &entries, &entry_count))
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    lo.before_load = grant_recorded;
    wasmplug_flow_diag d;
    wasmplug_status st = wasmplug_flow_load_opts(h, file, &lo, flow, &d);
    free((void *)lo.plugins);
    wps_entries_free(entries, entry_count);
    if (st == WASMPLUG_ERR_NOMEM)
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    return st ? cli_manifest_error(&d, st) : EXIT_OK;
}

static int flow_run(const flow_opts *o, wasmplug_host *h)
{
    wasmplug_flow *flow = NULL;
    int rc = load(o, h, o->file, &flow);
    if (rc)
        return rc;
    char *input = NULL;
    if (o->input_file) {
        size_t len;
        input = (char *)cli_read_input(o->input_file, &len);
        if (!input) {
            wasmplug_flow_free(flow);
            char msg[600];
            snprintf(msg, sizeof msg, "cannot read the input file %s", term_field(o->input_file));
            return cli_fail_json(EXIT_IO, NULL, msg);
        }
    }
    wasmplug_flow_run_options ro;
    memset(&ro, 0, sizeof ro);
    ro.observer = observe;
    ro.record_outputs = o->trace != NULL;
    wasmplug_flow_run *run = NULL;
    char *final = NULL, msg[1024];
    wasmplug_status st = wasmplug_flow_run_new(flow, &ro, &run);
    if (!st) {
        current_run = run;
        st = wasmplug_flow_run_exec(run, input ? input : o->input, &final, msg, sizeof msg);
        current_run = NULL;
        if (interrupted_now && st == WASMPLUG_ERR_CANCELLED)
            rc = EXIT_INTERRUPTED;
    } else {
        snprintf(msg, sizeof msg, "%s", wasmplug_strerror(st));
    }
    char *log = run ? wasmplug_flow_run_log(run) : NULL;
    if (o->trace && log && !write_file(o->trace, log)) {
        cli_error("cannot write the trace to %s", term_field(o->trace));
        rc = rc ? rc : EXIT_IO;
    }
    if (!st && o->state_out && !write_file(o->state_out, final)) {
        cli_error("cannot write the state to %s", term_field(o->state_out));
        rc = rc ? rc : EXIT_IO;
    }
    if (st) {
        if (!rc)
            rc = st == WASMPLUG_ERR_WORKFLOW ? EXIT_PLUGIN : cli_exit_for(st);
        cli_fail_json_line(rc, st == WASMPLUG_ERR_WORKFLOW ? "workflow" : NULL, msg);
    } else if (G.json) {
        /* The state may hold a plugin's output with NUL characters. */
        json_t *state = json_loads(final, JSON_ALLOW_NUL, NULL);
        json_t *lj = log ? json_loads(log, JSON_ALLOW_NUL, NULL) : NULL;
        cli_json_print(json_pack("{s:b, s:o, s:o}", "ok", 1, "state", state,
                                 "steps", lj ? json_incref(json_object_get(lj, "steps")) : json_array()));
        json_decref(lj);
    } else {
        json_t *state = json_loads(final, JSON_ALLOW_NUL, NULL);
        char *pretty = json_dumps(state, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        const char *shown = pretty ? pretty : final; /* as the library wrote it */
        term_stream ts;
        term_stream_init(&ts, stdout, TERM_TEXT);
        term_stream_write(&ts, shown, strlen(shown));
        fputc('\n', stdout);
        free(pretty);
        json_decref(state);
    }
    free(log);
    free(final);
    free(input);
    wasmplug_flow_run_free(run);
    wasmplug_flow_free(flow);
    return rc;
}

static int flow_validate(const flow_opts *o, wasmplug_host *h)
{
    wasmplug_flow *flow = NULL;
    int rc = load(o, h, o->file, &flow);
    if (rc)
        return rc;
    wasmplug_flow_diag d;
    wasmplug_status st = wasmplug_flow_validate(flow, &d);
    wasmplug_flow_free(flow);
    if (st)
        return cli_manifest_error(&d, st);
    if (G.json)
        cli_json_print(json_pack("{s:b, s:s}", "ok", 1, "file", o->file));
    else
        printf("%s: ok\n", term_field(o->file));
    return EXIT_OK;
}

static int flow_graph(const flow_opts *o, wasmplug_host *h)
{
    wasmplug_flow *flow = NULL;
    int rc = load(o, h, o->file, &flow);
    if (rc)
        return rc;
    char *dot = wasmplug_flow_dot(flow);
    wasmplug_flow_free(flow);
    if (!dot)
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    fputs(dot, stdout); /* escaped for dot; meant for a pipe to `dot` */
    free(dot);
    return EXIT_OK;
}

/* A replay report's differences, one block each; how says which replay
 * ("" the whole run, " alone" a phase fed its recorded input). */
static void print_differences(json_t *list, const char *how)
{
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d) {
        char *was = json_dumps(json_object_get(d, "trace"), JSON_ENCODE_ANY | JSON_COMPACT);
        char *now = json_dumps(json_object_get(d, "now"), JSON_ENCODE_ANY | JSON_COMPACT);
        printf("step %lld %s: %s%s differs\n  trace: %s\n  now:   %s\n",
               (long long)json_integer_value(json_object_get(d, "step")),
               term_field(json_string_value(json_object_get(d, "node"))),
               json_string_value(json_object_get(d, "what")), how, term_field(was ? was : "null"),
               term_field(now ? now : "null"));
        free(was);
        free(now);
    }
}

static int flow_replay(const flow_opts *o, wasmplug_host *h)
{
    size_t len;
    char *trace = (char *)cli_read_input(o->file, &len);
    if (!trace) {
        char msg[600];
        snprintf(msg, sizeof msg, "cannot read the trace %s", term_field(o->file));
        return cli_fail_json(EXIT_IO, NULL, msg);
    }
    json_t *tj = json_loads(trace, JSON_ALLOW_NUL, NULL);
    const char *wf = o->workflow ? o->workflow : json_string_value(json_object_get(tj, "workflow"));
    if (!wf) {
        json_decref(tj);
        free(trace);
        return cli_fail_json(EXIT_INVALID, NULL,
                             "the trace names no workflow file: give --workflow FILE");
    }
    wasmplug_flow *flow = NULL;
    int rc = load(o, h, wf, &flow);
    json_decref(tj);
    if (rc) {
        free(trace);
        return rc;
    }
    char *report = NULL, msg[1024];
    size_t diffs = 0;
    wasmplug_status st = wasmplug_flow_replay(flow, trace, &report, &diffs, msg, sizeof msg);
    free(trace);
    wasmplug_flow_free(flow);
    if (st)
        return cli_fail_json(cli_exit_for(st), NULL, msg);
    json_t *r = json_loads(report, JSON_ALLOW_NUL, NULL);
    free(report);
    if (G.json) {
        json_object_set_new(r, "ok", json_boolean(diffs == 0));
        cli_json_print(r);
    } else {
        print_differences(json_object_get(r, "differences"), "");
        print_differences(json_object_get(r, "phase_differences"), " alone");
        printf("%zu step(s) replayed, %zu phase(s) alone, %zu difference(s)%s\n",
               (size_t)json_integer_value(json_object_get(r, "steps")),
               (size_t)json_integer_value(json_object_get(r, "phases")), diffs,
               json_is_true(json_object_get(r, "state_equal")) ? ", same final state"
                                                               : ", final state differs");
        json_decref(r);
    }
    return diffs ? EXIT_PLUGIN : EXIT_OK;
}

int cmd_flow(int argc, char **argv)
{
    flow_opts o;
    int rc = parse(argc, argv, &o);
    if (rc || (rc = cli_setup()))
        return rc;
    int (*fn)(const flow_opts *, wasmplug_host *) =
        !strcmp(o.sub, "run")        ? flow_run
        : !strcmp(o.sub, "validate") ? flow_validate
        : !strcmp(o.sub, "graph")    ? flow_graph
        : !strcmp(o.sub, "replay")   ? flow_replay
                                     : NULL;
    if (!fn) {
        char msg[300];
        snprintf(msg, sizeof msg, "flow: unknown subcommand '%s' (run, validate, graph, replay)",
                 term_field(o.sub));
        return cli_fail_json(EXIT_USAGE, "usage", msg);
    }
    /* Before the host starts its timer thread, so that SIGINT is left to us. */
    bool watching = fn == flow_run && cli_interrupt_start(cancel_current, NULL);
    wasmplug_host *h = make_host(&o, &rc);
    if (h) {
        rc = fn(&o, h);
        wasmplug_host_free(h);
    }
    if (watching)
        cli_interrupt_stop();
    return rc;
}
