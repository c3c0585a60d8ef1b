/*
 * cmd_exec.c - `wasmplug exec FILE.wasm [ARGS]`: run a WASI preview 1
 * command module on the engine with only the environment variables and
 * directories granted by flags, the limits given (a timer thread
 * interrupts the instance at the timeout), and the terminal's stdio.
 */
#include "cli.h"
#include "interrupt.h"
#include "run_opts.h"
#include "services/cache.h"
#include "services/native_cache.h"

#include <wasmplug/native.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef WASMPLUG_CLI_HAVE_WASI
#include <pthread.h>

static void interrupt_instance(void *inst)
{
    wasmplug_instance_interrupt(inst);
}

typedef struct timer {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done, fired;
    uint32_t ms;
    wasmplug_instance *inst;
} timer;

static void *timer_main(void *arg)
{
    timer *t = arg;
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += t->ms / 1000;
    dl.tv_nsec += (long)(t->ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&t->lock);
    while (!t->done) {
        if (pthread_cond_timedwait(&t->cond, &t->lock, &dl) == ETIMEDOUT) {
            if (!t->done) {
                t->fired = true;
                wasmplug_instance_interrupt(t->inst);
            }
            break;
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

/* The command's stdout and stderr: as they are for pipes and files, escaped
 * on a terminal (an untrusted program must not drive the terminal). */
typedef struct output {
    term_stream stream[2];
    bool escape[2];
} output;

static void on_output(void *user, int fd, const uint8_t *data, size_t len)
{
    output *o = user;
    int k = fd == 2 ? 1 : 0;
    if (o->escape[k])
        term_stream_write(&o->stream[k], data, len);
    else
        fwrite(data, 1, len, o->stream[k].out);
    if (fd == 2)
        fflush(stderr);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

int cmd_exec(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    run_opts o;
    memset(&o, 0, sizeof o);
    const char *file = NULL, *arg;
    const char **args = NULL;
    size_t nargs = 0;
    int id;
    /* Options before FILE are ours; everything after FILE goes to the module. */
    while (!file && (id = cli_next(&a, RUN_COMMON_OPTS, "exec", &arg)) != -1) {
        if (id == R_CONFIG || id == R_GRANT || id == R_DENY || id == R_INPUT_FILE ||
            id == R_MANIFEST || id == R_MAX_INPUT || id == R_MAX_OUTPUT || id == R_ALLOW_HTTP ||
            id == R_ALLOW_HTTP_ADDR || id == R_HTTP_CA) {
            cli_error("exec: that option is for `run` (exec takes --allow-env, --dir, "
                      "--timeout, --fuel, --max-memory, --max-call-depth, --stats, --tier, "
                      "--cache-dir, --no-cache)");
            run_opts_free(&o);
            return EXIT_USAGE;
        }
        if (id == -2 || (id > 0 && !run_opts_apply(&o, id, arg))) {
            run_opts_free(&o);
            return EXIT_USAGE;
        }
        if (id == 0)
            file = arg;
    }
    if (!file) {
        cli_error("usage: wasmplug exec [options] FILE.wasm [ARGS...]");
        run_opts_free(&o);
        return EXIT_USAGE;
    }
    if (G.json) {
        /* Its output is the module's own stdout, and its exit status the
         * module's: there is no result to put in JSON. */
        cli_error("exec does not take --json: the module's stdout and exit status are its "
                  "result (use run for JSON results)");
        run_opts_free(&o);
        return EXIT_USAGE;
    }
    args = malloc((size_t)(argc - a.i + 1) * sizeof *args);
    if (!args) {
        run_opts_free(&o);
        return EXIT_INTERNAL;
    }
    const char *slash = strrchr(file, '/');
    args[nargs++] = slash ? slash + 1 : file;
    for (int i = a.i; i < argc; i++) {
        if (!strcmp(argv[i], "--") && nargs == 1 && i == a.i)
            continue;
        args[nargs++] = argv[i];
    }
    int rc = cli_setup();
    if (rc) {
        free((void *)args);
        run_opts_free(&o);
        return rc;
    }
#ifndef WASMPLUG_CLI_HAVE_WASI
    (void)nargs;
    free((void *)args);
    run_opts_free(&o);
    return cli_fail_json(EXIT_INTERNAL, "not_available",
                         "exec is not available: this build of wasmplug has no WASI support");
#else
    uint64_t t0 = now_ns();
    size_t size;
    uint8_t *bytes = (uint8_t *)wps_read_file(file, &size);
    char msg[1400];
    wasmplug_engine *eng = NULL;
    wasmplug_module *m = NULL;
    wasmplug_wasi_ctx *ctx = NULL;
    wasmplug_instance *inst = NULL;
    const char **env = NULL, **inherit = NULL;
    wasmplug_wasi_preopen *pre = NULL;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    if (!bytes) {
        snprintf(msg, sizeof msg, "cannot read %s: %s", file, strerror(errno));
        rc = cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
        goto out;
    }
    if (cli_engine(&eng) != WASMPLUG_OK) {
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "cannot create an engine");
        goto out;
    }
    wasmplug_status st = wasmplug_module_new(eng, bytes, size, &m, &err);
    /* Native code from the cache, as for run (--tier native: compiled when
     * missing; interp: none). */
    wps_native_info native;
    memset(&native, 0, sizeof native);
    if (st == WASMPLUG_OK && o.tier != 2 && !o.no_cache) {
        char *dir = wps_cache_dir(o.cache_dir);
        wps_native_attach(m, bytes, size, wasmplug_engine_bounds(eng), dir, o.tier == 1,
                          &native);
        free(dir);
        if (native.note[0] && (native.rejected || native.result == WPS_NATIVE_FAILED ||
                               (o.tier == 1 && native.result != WPS_NATIVE_HIT)))
            cli_note("note: native code: %s", native.note);
    }
    if (st != WASMPLUG_OK) {
        cli_module_error(msg, sizeof msg, file, st, &err);
        rc = cli_fail_json(cli_exit_for(st), st == WASMPLUG_ERR_UNSUPPORTED ? "unsupported" : "invalid_module", msg);
        goto out;
    }
    /* Grants: NAME=VALUE sets a variable; NAME (or a NAME* pattern) passes
     * the host's value through. Nothing else is visible. */
    env = calloc(o.env_count + 1, sizeof *env);
    inherit = calloc(o.env_count + 1, sizeof *inherit);
    pre = calloc(o.dir_count + 1, sizeof *pre);
    if (!env || !inherit || !pre) {
        rc = EXIT_INTERNAL;
        goto out;
    }
    size_t nenv = 0, ninh = 0;
    for (size_t i = 0; i < o.env_count; i++) {
        if (strchr(o.env[i], '='))
            env[nenv++] = o.env[i];
        else
            inherit[ninh++] = o.env[i];
    }
    for (size_t i = 0; i < o.dir_count; i++) {
        pre[i].host_path = o.dirs[i].host;
        pre[i].guest_path = o.dirs[i].guest;
        pre[i].read_only = o.dirs[i].readonly;
    }
    wasmplug_wasi_config wc;
    wasmplug_wasi_config_init(&wc);
    wc.args = args;
    wc.arg_count = nargs;
    wc.env = env;
    wc.env_count = nenv;
    wc.env_inherit = inherit;
    wc.env_inherit_count = ninh;
    wc.preopens = pre;
    wc.preopen_count = o.dir_count;
    wc.stdin_inherit = true;
    output shown;
    term_stream_init(&shown.stream[0], stdout, TERM_TEXT);
    term_stream_init(&shown.stream[1], stderr, TERM_TEXT);
    shown.escape[0] = term_is_tty(stdout);
    shown.escape[1] = term_is_tty(stderr);
    wc.on_output = on_output;
    wc.output_user = &shown;
    st = wasmplug_wasi_new(eng, &wc, &ctx, &err);
    if (st != WASMPLUG_OK) {
        snprintf(msg, sizeof msg, "cannot set up WASI: %s", term_field(err.message));
        rc = cli_fail_json(cli_exit_for(st), NULL, msg);
        goto out;
    }
    wasmplug_instance_config ic;
    memset(&ic, 0, sizeof ic);
    ic.max_memory_pages = o.limits.max_memory_pages;
    ic.max_call_depth = o.limits.max_call_depth;
    ic.fuel = o.limits.fuel ? o.limits.fuel : o.stats ? WASMPLUG_FUEL_UNLIMITED - 1 : 0;
    st = wasmplug_wasi_instantiate(ctx, m, &ic, &inst, &err);
    if (st != WASMPLUG_OK) {
        snprintf(msg, sizeof msg, "%s: %s: %s", file, wasmplug_strerror(st),
                 term_field(err.message));
        rc = cli_fail_json(cli_exit_for(st), NULL, msg);
        goto out;
    }
    /* Ctrl-C interrupts the instance (before the timer thread starts, so
     * that it leaves SIGINT to the watcher). */
    cli_interrupt_start(interrupt_instance, inst);
    timer t;
    memset(&t, 0, sizeof t);
    pthread_t th;
    bool have_timer = false;
    if (o.limits.timeout_ms) {
        pthread_mutex_init(&t.lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&t.cond, &ca);
        pthread_condattr_destroy(&ca);
        t.ms = o.limits.timeout_ms;
        t.inst = inst;
        have_timer = pthread_create(&th, NULL, timer_main, &t) == 0;
    }
    int32_t code = 0;
    uint64_t t1 = now_ns();
    st = wasmplug_wasi_start(ctx, inst, &code, &err);
    uint64_t t2 = now_ns();
    term_stream_finish(&shown.stream[0]);
    term_stream_finish(&shown.stream[1]);
    if (have_timer) {
        pthread_mutex_lock(&t.lock);
        t.done = true;
        pthread_cond_signal(&t.cond);
        pthread_mutex_unlock(&t.lock);
        pthread_join(th, NULL);
        pthread_cond_destroy(&t.cond);
        pthread_mutex_destroy(&t.lock);
    }
    fflush(stdout);
    if (o.stats) {
        wasmplug_memory *mem = wasmplug_instance_memory(inst);
        fprintf(stderr, "%s--- stats ---%s\nload+instantiate: %.3f ms\nrun:          %.3f ms\n"
                        "fuel used:    %llu\nmemory:       %llu bytes\n"
                        "tier:         %s (native code: %s)\n",
                cli_bold(), cli_reset(), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                (unsigned long long)wasmplug_instance_fuel_consumed(inst),
                (unsigned long long)(mem ? (uint64_t)wasmplug_memory_pages(mem) * 65536 : 0),
                wasmplug_instance_native_calls(inst) ? "native" : "interpreter",
                wps_native_result_name(native.result));
    }
    if (cli_interrupt_stop()) {
        snprintf(msg, sizeof msg, "%s: interrupted (SIGINT): the module was stopped", file);
        rc = cli_fail_json(EXIT_INTERRUPTED, "interrupted", msg);
        goto out;
    }
    if (st == WASMPLUG_OK) {
        rc = code < 0 || code > 255 ? 255 : code;
        if (rc && !G.json)
            cli_note("wasmplug: %s exited with status %d (the module's own exit status)", file,
                     rc);
        goto out;
    }
    if (st == WASMPLUG_ERR_TRAP && err.trap == WASMPLUG_TRAP_INTERRUPTED && t.fired) {
        snprintf(msg, sizeof msg, "%s: timeout: stopped after %u ms", file, o.limits.timeout_ms);
        rc = cli_fail_json(EXIT_LIMIT, "ERR_TIMEOUT", msg);
    } else if ((st == WASMPLUG_ERR_TRAP && err.trap == WASMPLUG_TRAP_OUT_OF_FUEL) ||
               st == WASMPLUG_ERR_FUEL) {
        snprintf(msg, sizeof msg, "%s: out of fuel (limit %llu instructions)", file,
                 (unsigned long long)o.limits.fuel);
        rc = cli_fail_json(EXIT_LIMIT, "ERR_FUEL", msg);
    } else if (st == WASMPLUG_ERR_TRAP && err.trap == WASMPLUG_TRAP_CALL_STACK_EXHAUSTED &&
               o.limits.max_call_depth) {
        snprintf(msg, sizeof msg, "%s: call depth limit exceeded (%u)", file,
                 o.limits.max_call_depth);
        rc = cli_fail_json(EXIT_LIMIT, "ERR_CALL_DEPTH", msg);
    } else {
        size_t at = (size_t)snprintf(msg, sizeof msg, "%s: %s: %s", file, wasmplug_strerror(st),
                                     term_field(err.message));
        for (uint32_t i = 0; i < err.frame_count && at < sizeof msg; i++)
            at += (size_t)snprintf(msg + at, sizeof msg - at, "\n  #%u %s (func %u)", i,
                                   err.frames[i].func_name[0] ? term_field(err.frames[i].func_name)
                                                              : "?",
                                   err.frames[i].func_index);
        rc = cli_fail_json(cli_exit_for(st), wasmplug_status_name(st), msg);
    }
out:
    if (inst)
        wasmplug_instance_free(inst);
    wasmplug_wasi_free(ctx);
    wasmplug_module_free(m);
    if (eng)
        wasmplug_engine_free(eng);
    free(bytes);
    free((void *)env);
    free((void *)inherit);
    free(pre);
    free((void *)args);
    run_opts_free(&o);
    return rc;
#endif
}
