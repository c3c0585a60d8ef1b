/*
 * cmd_serve.c - `wasmplug serve`: the store's plugins behind an HTTP API
 * (src/server/: server.h, serve_app.h, api.h). Loads every installed plugin
 * with its recorded grants, listens (loopback by default), then waits for
 * signals: SIGHUP syncs with the store (new plugins loaded, changed ones
 * reloaded without dropping calls, removed ones killed), SIGTERM or SIGINT
 * drain (no new connections, requests in progress answered, up to
 * --drain-timeout; calls still running then are cancelled) and stop.
 * With --queue-redis URL, calls to the plugins --queue-plugins names go to
 * the workers of a Redis stream instead (src/server/serve_queue.h) and
 * those plugins are not loaded here.
 * Only in the dynamically linked program (libmicrohttpd): the static
 * wasmplug forwards here (dist_forward.c).
 */
#include "cli.h"
#include "cli_dist.h"
#include "run_opts.h"

#include "server/api.h"
#include "server/serve_app.h"
#include "server/serve_queue.h"
#include "server/server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { S_LISTEN = 1, S_TOKEN_FILE, S_THREADS, S_POOL, S_MAX_BODY, S_DRAIN, S_ACCESS_LOG,
       S_PUBLIC_READ, S_NO_LOAD, S_TIMEOUT, S_PER_IP, S_QUEUE_REDIS, S_QUEUE_STREAM,
       S_QUEUE_PLUGINS, S_QUEUE_TIMEOUT };

static const cli_opt SERVE_OPTS[] = {
    {"listen", 'l', true, S_LISTEN},          {"token-file", 0, true, S_TOKEN_FILE},
    {"threads", 0, true, S_THREADS},          {"pool", 0, true, S_POOL},
    {"max-body", 0, true, S_MAX_BODY},        {"drain-timeout", 0, true, S_DRAIN},
    {"access-log", 0, true, S_ACCESS_LOG},    {"public-read", 0, false, S_PUBLIC_READ},
    {"no-load", 0, false, S_NO_LOAD},         {"idle-timeout", 0, true, S_TIMEOUT},
    {"max-connections-per-ip", 0, true, S_PER_IP}, {"queue-redis", 0, true, S_QUEUE_REDIS},
    {"queue-stream", 0, true, S_QUEUE_STREAM},  {"queue-plugins", 0, true, S_QUEUE_PLUGINS},
    {"queue-timeout", 0, true, S_QUEUE_TIMEOUT}, CLI_LAUNCH_OPTS, {NULL, 0, false, 0}};

/* The token: the file's first line, at least 16 printable characters, in a
 * file only its owner can read. NULL after printing why. */
static char *read_token(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        cli_error("cannot read the token file %s: %s", path, strerror(errno));
        return NULL;
    }
    if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
        cli_error("the token file %s can be read by others (mode %03o): chmod 600 it", path,
                  (unsigned)(sb.st_mode & 0777));
        return NULL;
    }
    size_t len;
    char *text = wps_read_file(path, &len);
    if (!text) {
        cli_error("cannot read the token file %s: %s", path, strerror(errno));
        return NULL;
    }
    text[strcspn(text, "\r\n")] = '\0';
    size_t n = strlen(text);
    bool printable = n > 0;
    for (size_t i = 0; i < n && printable; i++)
        printable = text[i] > 0x20 && text[i] < 0x7f;
    if (n < 16 || !printable) {
        cli_error("the token in %s must be one line of at least 16 printable characters "
                  "without spaces (e.g. `openssl rand -hex 32 > %s`)", path, path);
        free(text);
        return NULL;
    }
    return text;
}

static bool parse_count(const char *flag, const char *s, unsigned max, unsigned *out)
{
    uint64_t v;
    if (!cli_parse_u64(s, &v) || v < 1 || v > max) {
        cli_error("%s takes a number from 1 to %u (got '%s')", flag, max, s);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

/* The store's plugins, newest versions, each with its grants; not those
 * whose calls go to the queue. */
static void load_store(serve_app *app)
{
    wps_entry *list = NULL;
    size_t count = 0;
    char msg[512];
    if (wps_list(app->store, NULL, &list, &count, msg, sizeof msg) != WASMPLUG_OK) {
        cli_error("%s", msg);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const wasmplug_manifest_doc *d = list[i].doc;
        if (!d) {
            cli_error("skipping %s: %s", list[i].dir, list[i].diag.message);
            continue;
        }
        if (i > 0 && list[i - 1].doc && !strcmp(list[i - 1].doc->id, d->id))
            continue; /* an older version */
        if (serve_queue_routes(app->queue, d->id)) {
            cli_note("%s %s: calls go to the queue", d->id, d->version);
            continue;
        }
        wasmplug_plugin_error err;
        if (serve_app_load(app, d->id, 0, &err) == WASMPLUG_OK)
            cli_note("loaded %s %s", d->id, d->version);
        else
            cli_plugin_error(&err);
    }
    wps_entries_free(list, count);
}

static wasmplug_bounds_mode bounds_from_env(void)
{
    const char *b = getenv("WASMPLUG_BOUNDS");
    if (!b)
        b = getenv("WASMPLUG_TEST_BOUNDS");
    return b && !strcmp(b, "explicit") ? WASMPLUG_BOUNDS_EXPLICIT
           : b && !strcmp(b, "guard")  ? WASMPLUG_BOUNDS_GUARD_PAGES
                                       : WASMPLUG_BOUNDS_AUTO;
}

/* Cancel every plugin's running calls (the drain's deadline passed). */
static void cancel_all(serve_app *app)
{
    char **names = NULL;
    size_t count = 0;
    if (wasmplug_host_list(app->host, &names, &count) != WASMPLUG_OK)
        return;
    for (size_t i = 0; i < count; i++) {
        wasmplug_plugin *p;
        if (wasmplug_host_get(app->host, names[i], &p) == WASMPLUG_OK) {
            wasmplug_plugin_cancel(p);
            wasmplug_plugin_release(p);
        }
    }
    wasmplug_free(names);
}

static int serve(int argc, char **argv, run_opts *ro);

int cmd_serve(int argc, char **argv)
{
    return run_opts_scoped(serve, argc, argv);
}

/* ro: --deny and the HTTP policy's flags (freed by the caller). */
static int serve(int argc, char **argv, run_opts *ro)
{
    cli_args a = {argc, argv, 1, false};
    const char *arg, *token_file = NULL, *access_log = NULL;
    server_config sc;
    server_config_init(&sc);
    sc.listen = "127.0.0.1:8080";
    uint32_t drain_ms = 10000, pool = 0, idle_ms = 15000;
    serve_queue_config qc = {NULL, NULL, NULL, 30000};
    bool no_load = false;
    int id;
    while ((id = cli_next(&a, SERVE_OPTS, "serve", &arg)) != -1) {
        uint64_t v;
        switch (id) {
        case -2:
            return EXIT_USAGE;
        case 0:
            cli_error("serve takes no arguments (got '%s'; see wasmplug serve --help)", arg);
            return EXIT_USAGE;
        case S_LISTEN:
            sc.listen = arg;
            break;
        case S_TOKEN_FILE:
            token_file = arg;
            break;
        case S_THREADS:
            if (!parse_count("--threads", arg, 256, &sc.threads))
                return EXIT_USAGE;
            break;
        case S_POOL:
            if (!parse_count("--pool", arg, 256, &pool))
                return EXIT_USAGE;
            break;
        case S_PER_IP:
            if (!parse_count("--max-connections-per-ip", arg, 65535, &sc.per_ip_connections))
                return EXIT_USAGE;
            break;
        case S_MAX_BODY:
            if (!cli_parse_size(arg, &v) || v < 1 || v > (uint64_t)1 << 30) {
                cli_error("--max-body takes a size from 1 byte to 1GiB (got '%s')", arg);
                return EXIT_USAGE;
            }
            sc.max_body = (size_t)v;
            break;
        case S_DRAIN:
            if (!cli_parse_duration_ms(arg, &drain_ms)) {
                cli_error("--drain-timeout takes a duration such as 500ms, 10s (got '%s')", arg);
                return EXIT_USAGE;
            }
            break;
        case S_TIMEOUT:
            if (!cli_parse_duration_ms(arg, &idle_ms) || idle_ms < 1000) {
                cli_error("--idle-timeout takes a duration of at least 1s (got '%s')", arg);
                return EXIT_USAGE;
            }
            break;
        case S_ACCESS_LOG:
            access_log = arg;
            break;
        case S_PUBLIC_READ:
            sc.public_read = true;
            break;
        case S_NO_LOAD:
            no_load = true;
            break;
        case S_QUEUE_REDIS:
            qc.url = arg;
            break;
        case S_QUEUE_STREAM:
            qc.stream = arg;
            break;
        case S_QUEUE_PLUGINS:
            qc.plugins = arg;
            break;
        case S_QUEUE_TIMEOUT:
            if (!cli_parse_duration_ms(arg, &qc.wait_ms) || qc.wait_ms < 1 ||
                qc.wait_ms > 3600000) {
                cli_error("--queue-timeout takes a duration from 1ms to 1h (got '%s')", arg);
                return EXIT_USAGE;
            }
            break;
        default:
            if (!run_opts_apply(ro, id - CLI_LAUNCH_OPT, arg))
                return EXIT_USAGE;
            break;
        }
    }
    if (!qc.url && (qc.stream || qc.plugins)) {
        cli_error("--queue-stream and --queue-plugins need --queue-redis URL");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc == EXIT_OK)
        rc = cli_need_store();
    if (rc != EXIT_OK)
        return rc;
    sc.connection_timeout_s = (idle_ms + 999) / 1000;
    char *token = NULL;
    if (token_file && !(token = read_token(token_file)))
        return EXIT_USAGE;
    sc.token = token;
    FILE *log = NULL;
    if (!access_log || !strcmp(access_log, "-")) {
        /* A stream of its own on stderr: buffered, apart from the notes. */
        int fd = dup(2);
        log = fd >= 0 ? fdopen(fd, "a") : NULL;
        if (!log && fd >= 0)
            close(fd);
    } else if (strcmp(access_log, "off") != 0) {
        log = fopen(access_log, "a");
        if (!log) {
            cli_error("cannot open the access log %s: %s", access_log, strerror(errno));
            free(token);
            return EXIT_IO;
        }
    }
    if (log) {
        static char logbuf[1 << 16];
        setvbuf(log, logbuf, _IOFBF, sizeof logbuf);
        sc.on_access = server_access_log_json;
        sc.access_user = log;
    }

    /* Signals go to the main thread's sigwait: blocked before any thread
     * (host timer, bus, server pool) starts, so every thread inherits it. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a Redis connection that broke is an error value */

    /* Plugins get what was granted at install, less --deny; outbound HTTP
     * through the operator's policy. */
    serve_app_config ac = {G.store, G.data_dir, pool, bounds_from_env(), NULL, ro->denies,
                           ro->deny_count};
    wasmplug_http_policy *http = NULL;
    serve_app *app = NULL;
    serve_queue *queue = NULL;
    server *srv = NULL;
    char msg[1024];
    wasmplug_status st = WASMPLUG_OK;
    if ((rc = cli_http_policy(ro, &http)) != EXIT_OK)
        goto out;
    ac.http = http;
    st = serve_app_new(&ac, &app, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(cli_exit_for(st), NULL, msg);
        goto out;
    }
    if (qc.url) {
        if ((st = serve_queue_new(&qc, &queue, msg, sizeof msg)) != WASMPLUG_OK) {
            rc = cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE : EXIT_INTERNAL, "usage",
                               msg);
            goto out;
        }
        app->queue = queue;
    }
    if (!no_load)
        load_store(app);
    sc.groups = serve_api_groups();
    sc.app = app;
    st = server_start(&sc, &srv, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE : EXIT_IO, NULL, msg);
        goto out;
    }
    app->srv = srv;
    atomic_store(&app->ready, true);
    printf("wasmplug serve: listening on http://%s\n", server_address(srv));
    fflush(stdout);

    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            size_t loaded, reloaded, killed, failed;
            serve_app_sync_store(app, &loaded, &reloaded, &killed, &failed);
            cli_note("store synced: %zu loaded, %zu reloaded, %zu killed, %zu failed "
                     "(GET /v1/errors has the failures)", loaded, reloaded, killed, failed);
            continue;
        }
        break;
    }
    cli_note("draining: %zu requests in progress, up to %u ms", server_in_flight(srv), drain_ms);
    size_t left = server_drain(srv, drain_ms);
    if (left) {
        /* Past the deadline: the calls still running end as cancelled, and
         * their requests get that answer before the server stops. */
        cancel_all(app);
        serve_queue_cancel(queue);
        left = server_drain(srv, 2000);
        cli_note("drain deadline passed: running calls cancelled (%zu requests unanswered)",
                 left);
    }
    rc = EXIT_OK;
out:
    server_free(srv);
    serve_app_free(app);
    serve_queue_free(queue);
    wasmplug_http_policy_free(http);
    if (log)
        fclose(log);
    free(token);
    return rc;
}
