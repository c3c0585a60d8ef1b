/*
 * cmd_queue.c - `wasmplug worker` and `wasmplug submit`: plugin calls
 * through Redis Streams (<wasmplug/queue.h>). In wasmplug-dist (hiredis is
 * linked there; the static wasmplug forwards these commands).
 *
 * The worker runs installed plugins only (the store, --store), each with
 * what the operator granted it at install less --deny, WASI and outbound
 * HTTP included (as `run` and `serve` do: the server library's serve_app;
 * --allow-http-address and --http-ca shape the HTTP policy), loaded on
 * first request with an instance
 * pool of --concurrency instances, in one host with the services (data
 * under --data-dir); a request's timeout and fuel only lower the plugin's.
 * Its counters and its plugins' metrics are served as Prometheus text on
 * --metrics ADDR:PORT/metrics.
 */
#include "cli.h"
#include "cli_dist.h"
#include "run_opts.h"
#include "worker_metrics.h"

#include "serve_app.h"
#include "serve_queue.h"

#include "services/redis_conn.h"

#include <wasmplug/queue.h>
#include <wasmplug/services.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    Q_REDIS = 1, Q_STREAM, Q_GROUP, Q_CONCURRENCY, Q_CONSUMER, Q_CLAIM_IDLE, Q_MAX_DELIVERIES,
    Q_IDEM_TTL, Q_METRICS, Q_BATCH, Q_TIMEOUT, Q_KEY, Q_INPUT_FILE, Q_FUEL
};

/* ---- plugins of the worker ----------------------------------------------- */

/* The worker's plugins: the server library's store-backed host (serve_app:
 * plugins from the store under their ids, with their recorded grants, the
 * services and a bus), loaded on their first request. */
typedef struct worker_ctx {
    serve_app *app;
    unsigned pool;
    bool quiet;
    /* First loads: a plugin is in the host (host_get finds it) while it
     * initializes, so threads wait here rather than call it half-ready. */
    pthread_mutex_t load_lock;
} worker_ctx;

/* The plugin for ref ("ID" or "ID@VERSION"), loaded on first use. Sets
 * *retry when this worker cannot have it now (not installed here, store
 * unreadable: another worker, or a later try, may). */
static wasmplug_status plugin_for(worker_ctx *c, const char *ref, wasmplug_plugin **out,
                                  bool *retry, char *msg, size_t msg_size)
{
    char id[WASMPLUG_NAME_MAX];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(ref, "@"), ref);
    const char *version = strchr(ref, '@');
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    wasmplug_status st = wasmplug_host_get(c->app->host, id, out);
    if (st == WASMPLUG_OK && wasmplug_plugin_state_get(*out) != WASMPLUG_STATE_READY) {
        wasmplug_plugin_release(*out);
        st = WASMPLUG_ERR_NOT_FOUND;
    }
    if (st == WASMPLUG_ERR_NOT_FOUND) {
        pthread_mutex_lock(&c->load_lock);
        st = wasmplug_host_get(c->app->host, id, out);
        if (st == WASMPLUG_ERR_NOT_FOUND) {
            st = serve_app_load(c->app, ref, c->pool, &err);
            if (st == WASMPLUG_OK)
                st = wasmplug_host_get(c->app->host, id, out);
            else
                wasmplug_plugin_error_format(&err, msg, msg_size);
        }
        pthread_mutex_unlock(&c->load_lock);
        if (st != WASMPLUG_OK) {
            *retry = st == WASMPLUG_ERR_NOT_FOUND || st == WASMPLUG_ERR_IO;
            return st;
        }
    }
    if (st != WASMPLUG_OK) {
        snprintf(msg, msg_size, "plugin '%s' is not loaded: %s", id, wasmplug_strerror(st));
        *retry = true;
        return st;
    }
    /* The version installed now (a SIGHUP may have reloaded it). */
    serve_entry e;
    if (version && serve_app_entry(c->app, id, &e) == WASMPLUG_OK) {
        bool other = strcmp(version + 1, e.version) != 0;
        if (other)
            snprintf(msg, msg_size, "this worker runs %s@%s, not %s", id, e.version, ref);
        serve_entry_clear(&e);
        if (other) {
            wasmplug_plugin_release(*out);
            *out = NULL;
            *retry = true; /* another worker may run that version */
            return WASMPLUG_ERR_NOT_FOUND;
        }
    }
    return WASMPLUG_OK;
}

static wasmplug_status run_request(void *user, unsigned thread, const wasmplug_queue_request *req,
                                   wasmplug_buf *out, bool *retry, char *msg, size_t msg_size)
{
    (void)thread;
    worker_ctx *c = user;
    wasmplug_plugin *p = NULL;
    wasmplug_status st = plugin_for(c, req->plugin, &p, retry, msg, msg_size);
    if (st != WASMPLUG_OK)
        return st;
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    wasmplug_call_limits limits = {req->timeout_ms, req->fuel};
    st = wasmplug_plugin_call_limited(p, req->function, req->input, req->input_len, &limits, out,
                                      &err);
    if (st != WASMPLUG_OK) {
        /* The message with the backtrace's lines, and the error object a
         * local call answers with (serve_error_json), as the detail. */
        wasmplug_plugin_error_format(&err, msg, msg_size);
        wasmplug_buf_free(out);
        json_t *e = serve_error_json(&err);
        char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
        if (text) {
            out->data = (uint8_t *)text;
            out->len = strlen(text);
        }
        json_decref(e);
    }
    wasmplug_plugin_release(p);
    return st;
}

/* ---- worker -------------------------------------------------------------- */

/* The worker runs on its own thread; the command's thread waits for
 * signals: SIGHUP syncs with the store, SIGTERM and SIGINT stop the worker,
 * SIGUSR1 says the worker stopped by itself. */
typedef struct worker_run {
    wasmplug_worker *w;
    pthread_t waiter;
    wasmplug_status st;
    char msg[1024];
} worker_run;

static void *run_worker(void *arg)
{
    worker_run *run = arg;
    run->st = wasmplug_worker_run(run->w, run->msg, sizeof run->msg);
    pthread_kill(run->waiter, SIGUSR1);
    return NULL;
}

/* One attempt to reach the worker's Redis: when it does not answer, say so
 * (the worker waits for it, retrying, without a word otherwise). */
static void report_unreachable(const char *url)
{
    wps_redis_options ro = {.connect_timeout_ms = 2000};
    wps_redis *r = NULL;
    char msg[512];
    if (wps_redis_open(url, &ro, &r, msg, sizeof msg) != WPS_REDIS_OK)
        return; /* a bad URL: the worker says so */
    if (wps_redis_connect(r, 0, msg, sizeof msg) != WPS_REDIS_OK)
        fprintf(stderr, "wasmplug worker: %s; waiting for it (Ctrl-C stops)\n", term_field(msg));
    wps_redis_free(r);
}

static void on_worker_log(void *user, const char *line)
{
    if (((worker_ctx *)user)->quiet)
        return;
    /* From worker threads: term_escape, not term_field's shared buffers. */
    char *safe = term_escape(line, strlen(line), TERM_FIELD);
    fprintf(stderr, "wasmplug worker: %s\n", safe ? safe : "?");
    free(safe);
}

static bool parse_count(const char *opt, const char *s, uint64_t max, uint64_t *v)
{
    if (cli_parse_u64(s, v) && *v >= 1 && *v <= max)
        return true;
    cli_error("%s takes a number from 1 to %" PRIu64 ", not '%s'", opt, max, s);
    return false;
}

static bool parse_ms(const char *opt, const char *s, uint32_t *ms)
{
    if (cli_parse_duration_ms(s, ms) && *ms > 0)
        return true;
    cli_error("%s takes a duration (500ms, 30s), not '%s'", opt, s);
    return false;
}

static const cli_opt WORKER_OPTS[] = {
    {"redis", 0, true, Q_REDIS}, {"stream", 0, true, Q_STREAM}, {"group", 0, true, Q_GROUP},
    {"concurrency", 'c', true, Q_CONCURRENCY}, {"consumer", 0, true, Q_CONSUMER},
    {"claim-idle", 0, true, Q_CLAIM_IDLE}, {"max-deliveries", 0, true, Q_MAX_DELIVERIES},
    {"idempotency-ttl", 0, true, Q_IDEM_TTL}, {"metrics", 0, true, Q_METRICS},
    {"batch", 0, true, Q_BATCH}, CLI_LAUNCH_OPTS, {NULL, 0, false, 0}};

static int worker(int argc, char **argv, run_opts *ro);

int cmd_worker(int argc, char **argv)
{
    return run_opts_scoped(worker, argc, argv);
}

/* ro: --deny and the HTTP policy's flags (freed by the caller). */
static int worker(int argc, char **argv, run_opts *ro)
{
    cli_args a = {argc, argv, 1, false};
    wasmplug_worker_config wc;
    memset(&wc, 0, sizeof wc);
    const char *arg, *metrics_addr = NULL;
    uint64_t n;
    int id, rc;
    while ((id = cli_next(&a, WORKER_OPTS, "worker", &arg)) != -1) {
        bool ok = id != -2;
        switch (id) {
        case 0:
            cli_error("worker takes no arguments ('%s'); see wasmplug worker --help", arg);
            ok = false;
            break;
        case Q_REDIS: wc.url = arg; break;
        case Q_STREAM: wc.stream = arg; break;
        case Q_GROUP: wc.group = arg; break;
        case Q_CONSUMER: wc.consumer = arg; break;
        case Q_METRICS: metrics_addr = arg; break;
        case Q_CONCURRENCY:
            ok = parse_count("--concurrency", arg, 256, &n), wc.concurrency = (unsigned)n;
            break;
        case Q_BATCH: ok = parse_count("--batch", arg, 1000, &n), wc.batch = (unsigned)n; break;
        case Q_MAX_DELIVERIES:
            ok = parse_count("--max-deliveries", arg, 1000000, &n), wc.max_deliveries = (uint32_t)n;
            break;
        case Q_CLAIM_IDLE: ok = parse_ms("--claim-idle", arg, &wc.claim_idle_ms); break;
        case Q_IDEM_TTL: ok = parse_ms("--idempotency-ttl", arg, &wc.idempotency_ttl_ms); break;
        default:
            ok = id < CLI_LAUNCH_OPT || run_opts_apply(ro, id - CLI_LAUNCH_OPT, arg);
            break;
        }
        if (!ok)
            return EXIT_USAGE;
    }
    if (!wc.url || !wc.stream || !wc.group) {
        cli_error("usage: wasmplug worker --redis URL --stream NAME --group GROUP [options] "
                  "(see wasmplug worker --help)");
        return EXIT_USAGE;
    }
    if ((rc = cli_setup()) != EXIT_OK || (rc = cli_need_store()) != EXIT_OK)
        return rc;

    worker_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.pool = wc.concurrency ? wc.concurrency : 1;
    ctx.quiet = G.quiet;
    pthread_mutex_init(&ctx.load_lock, NULL);
    wc.run = run_request;
    wc.user = &ctx;
    wc.on_log = on_worker_log;
    char msg[1024];
    wasmplug_worker *w = NULL;
    worker_metrics *metrics = NULL;
    wasmplug_http_policy *http = NULL;
    wasmplug_status st = WASMPLUG_OK;
    if ((rc = cli_http_policy(ro, &http)) != EXIT_OK)
        goto out;
    st = wasmplug_worker_new(&wc, &w, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE : EXIT_INTERNAL, "usage", msg);
        goto out;
    }
    /* Signals go to this thread's sigwait: blocked before any thread (host
     * timer, bus, metrics, workers) starts, so every thread inherits that. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Plugins get what was granted at install, less --deny; outbound HTTP
     * through the operator's policy (as serve). */
    serve_app_config ac = {G.store, G.data_dir, ctx.pool, WASMPLUG_BOUNDS_AUTO, http,
                           ro->denies, ro->deny_count};
    if ((st = serve_app_new(&ac, &ctx.app, msg, sizeof msg)) != WASMPLUG_OK) {
        rc = cli_fail_json(cli_exit_for(st), NULL, msg);
        goto out;
    }
    if (metrics_addr) {
        char where[128];
        if (!worker_metrics_start(metrics_addr, w, ctx.app->host, wc.stream, &metrics, where,
                                  sizeof where, msg, sizeof msg)) {
            rc = cli_fail_json(EXIT_USAGE, "usage", msg);
            goto out;
        }
        if (!G.quiet)
            fprintf(stderr, "wasmplug worker: metrics on http://%s/metrics\n", where);
    }
    if (!G.quiet)
        fprintf(stderr, "wasmplug worker: %s consuming %s (group %s)\n",
                term_field(wasmplug_worker_consumer(w)), term_field(wc.stream),
                term_field(wc.group));
    if (!G.quiet)
        report_unreachable(wc.url);
    worker_run run = {.w = w, .waiter = pthread_self()};
    pthread_t runner;
    if (pthread_create(&runner, NULL, run_worker, &run) != 0) {
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "cannot start the worker's thread");
        goto out;
    }
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        size_t loaded, reloaded, killed, failed;
        serve_app_sync_store(ctx.app, &loaded, &reloaded, &killed, &failed);
        if (!G.quiet)
            fprintf(stderr, "wasmplug worker: store synced: %zu loaded, %zu reloaded, %zu "
                    "killed, %zu failed\n", loaded, reloaded, killed, failed);
    }
    wasmplug_worker_stop(w);
    pthread_join(runner, NULL);
    st = run.st;
    snprintf(msg, sizeof msg, "%s", run.msg);
    wasmplug_worker_stats s;
    wasmplug_worker_stats_get(w, &s);
    if (!G.quiet)
        fprintf(stderr, "wasmplug worker: stopped: %" PRIu64 " answered (%" PRIu64 " failed, %"
                PRIu64 " cached), %" PRIu64 " claimed, %" PRIu64 " dead-lettered\n",
                s.processed, s.failed, s.cached, s.claimed, s.dead_lettered);
    rc = st == WASMPLUG_OK ? EXIT_OK : cli_fail_json(EXIT_IO, "io", msg);
out:
    worker_metrics_stop(metrics);
    serve_app_free(ctx.app);
    wasmplug_http_policy_free(http);
    wasmplug_worker_free(w);
    pthread_mutex_destroy(&ctx.load_lock);
    return rc;
}

/* ---- submit -------------------------------------------------------------- */

static const cli_opt SUBMIT_OPTS[] = {
    {"redis", 0, true, Q_REDIS}, {"stream", 0, true, Q_STREAM}, {"timeout", 0, true, Q_TIMEOUT},
    {"idempotency-key", 0, true, Q_KEY}, {"input-file", 0, true, Q_INPUT_FILE},
    {"fuel", 0, true, Q_FUEL},
    {"call-timeout", 0, true, Q_CLAIM_IDLE}, {NULL, 0, false, 0}};

int cmd_submit(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    const char *url = NULL, *stream = NULL, *pos[3] = {NULL, NULL, NULL}, *arg,
               *input_file = NULL;
    uint32_t wait_ms = 30000;
    wasmplug_queue_call call = WASMPLUG_QUEUE_CALL_INIT;
    int npos = 0, id, rc;
    while ((id = cli_next(&a, SUBMIT_OPTS, "submit", &arg)) != -1) {
        bool ok = id != -2;
        switch (id) {
        case 0:
            if (npos < 3)
                pos[npos++] = arg;
            else
                ok = false, cli_error("submit takes PLUGIN FUNCTION [INPUT], not '%s'", arg);
            break;
        case Q_REDIS: url = arg; break;
        case Q_STREAM: stream = arg; break;
        case Q_KEY: call.idempotency_key = arg; break;
        case Q_INPUT_FILE: input_file = arg; break;
        case Q_TIMEOUT: ok = parse_ms("--timeout", arg, &wait_ms); break;
        case Q_CLAIM_IDLE: ok = parse_ms("--call-timeout", arg, &call.timeout_ms); break;
        case Q_FUEL: ok = parse_count("--fuel", arg, UINT64_MAX >> 1, &call.fuel); break;
        default: break;
        }
        if (!ok)
            return EXIT_USAGE;
    }
    if (!url || !stream || npos < 2 || (input_file && npos > 2)) {
        cli_error("usage: wasmplug submit --redis URL --stream NAME PLUGIN FUNCTION "
                  "[INPUT | --input-file F] [options] (see wasmplug submit --help)");
        return EXIT_USAGE;
    }
    if ((rc = cli_setup()) != EXIT_OK)
        return rc;
    call.plugin = pos[0];
    call.function = pos[1];
    uint8_t *input = NULL;
    size_t inlen = 0;
    if (input_file) {
        if (!(input = cli_read_input(input_file, &inlen)))
            return cli_fail_json(EXIT_NOT_FOUND, "not_found", G.last_error);
    } else if (pos[2]) {
        inlen = strlen(pos[2]);
    }
    call.input = input ? input : (const uint8_t *)pos[2];
    call.input_len = inlen;

    char msg[1024];
    wasmplug_queue *q = NULL;
    wasmplug_queue_result res;
    memset(&res, 0, sizeof res);
    /* --timeout bounds the whole wait: reconnecting to an unreachable
     * Redis too. */
    wasmplug_queue_options qo = {.reconnect_ms = wait_ms};
    wasmplug_status st = wasmplug_queue_open(url, stream, &qo, &q, msg, sizeof msg);
    if (st == WASMPLUG_OK)
        st = wasmplug_queue_run(q, &call, wait_ms, &res, msg, sizeof msg);
    free(input);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE
                           : st == WASMPLUG_ERR_TIMEOUT ? EXIT_LIMIT : EXIT_IO,
                           st == WASMPLUG_ERR_TIMEOUT ? "timeout" : "io", msg);
    } else if (G.json) {
        json_t *o = json_object();
        json_object_set_new(o, "ok", json_boolean(res.status == WASMPLUG_OK));
        json_object_set_new(o, "status", json_string(wasmplug_status_name(res.status)));
        rc = res.status == WASMPLUG_OK ? EXIT_OK : cli_exit_for(res.status);
        if (res.status == WASMPLUG_OK) {
            json_object_set_new(o, "output", cli_json_bytes(res.output.data, res.output.len));
        } else {
            /* The error object of a local call (run --json, serve): kind,
             * message, trap, backtrace, ... and the exit code. */
            json_t *e = serve_queue_error_json(call.plugin, call.function, &res);
            if (e)
                json_object_set_new(e, "exit_code", json_integer(rc));
            json_object_set_new(o, "error", e);
        }
        json_object_set_new(o, "worker", cli_json_bytes((const uint8_t *)res.worker,
                                                        strlen(res.worker)));
        json_object_set_new(o, "deliveries", json_integer(res.deliveries));
        json_object_set_new(o, "cached", json_boolean(res.cached));
        cli_json_print(o);
    } else if (res.status == WASMPLUG_OK) {
        /* Plugin output: as it is into a pipe, escaped on a terminal. */
        if (term_is_tty(stdout)) {
            term_stream ts;
            term_stream_init(&ts, stdout, TERM_TEXT);
            term_stream_write(&ts, res.output.data, res.output.len);
            term_stream_finish(&ts);
            putchar('\n');
        } else {
            fwrite(res.output.data, 1, res.output.len, stdout);
        }
        rc = EXIT_OK;
    } else {
        /* The worker's name and the plugin's message are others' text:
         * each on one line. */
        cli_error("call failed on worker %s (%s): %s", term_field(res.worker),
                  wasmplug_status_name(res.status), term_field(res.error));
        rc = cli_exit_for(res.status);
    }
    wasmplug_queue_result_free(&res);
    wasmplug_queue_free(q);
    return rc;
}
