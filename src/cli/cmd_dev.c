/*
 * cmd_dev.c - `wasmplug dev DIR [FUNCTION [INPUT]]`: the edit, build, run
 * loop of a plugin project (one made by `wasmplug new`, or any directory
 * with a plugin.yaml and a build.sh).
 *
 * It builds the project with its build.sh, loads the plugin (with what its
 * manifest requests, as `run` does for a project: host functions and
 * services, no HTTP, no WASI directories), calls FUNCTION with INPUT and
 * prints the output (escaped on a terminal: the bytes are the plugin's) or
 * the error with its backtrace. Then it watches DIR (recursively; build
 * products and hidden files ignored) and on every change builds again,
 * hot-reloads the plugin (wasmplug_plugin_reload_file: a build that fails
 * or a version that does not load leaves the running one in place) and
 * calls again. Status lines go to stderr, results to stdout. Ctrl-C ends
 * it (exit 0); --runs N ends it after N calls (for scripts).
 */
#include "cli.h"
#include "interrupt.h"
#include "run_opts.h"
#include "services/store.h"
#include "term.h"

#include <pthread.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct dev_loop {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned changes; /* source changes not handled yet */
    bool stop;
} dev_loop;

static void on_change(void *user, const char *path)
{
    (void)path;
    dev_loop *d = user;
    pthread_mutex_lock(&d->mu);
    d->changes++;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

static void on_interrupt(void *user)
{
    dev_loop *d = user;
    pthread_mutex_lock(&d->mu);
    d->stop = true;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

/* Run DIR/build.sh with DIR as its working directory, its output on our
 * stderr (stdout carries results only). true if it succeeded or there is
 * no build script (the module is used as it is). */
static bool build(const char *dir)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/build.sh", dir);
    if (access(script, F_OK) != 0)
        return true;
    cli_note("building: sh %s", script);
    fflush(stdout);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 2, 1);
    char *argv[] = {"sh", "build.sh", NULL};
    pid_t pid;
    char cwd[4096];
    bool ok = getcwd(cwd, sizeof cwd) && chdir(dir) == 0;
    int err = ok ? posix_spawnp(&pid, "sh", &fa, NULL, argv, environ) : -1;
    if (ok && chdir(cwd) != 0)
        err = -1;
    posix_spawn_file_actions_destroy(&fa);
    int status = 0;
    if (err == 0)
        while (waitpid(pid, &status, 0) < 0)
            ;
    if (err != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        cli_error("build failed (%s): the running version stays loaded",
                  err ? "cannot run sh" : "build.sh exited with an error");
        return false;
    }
    return true;
}

/* The plugin's manifest, as the host API wants it (permissions: what it
 * requests but HTTP, granted to it by the host policy). */
static bool plugin_options(wasmplug_host *h, const cli_plugin *p, wasmplug_manifest *hm,
                           const char ***perms)
{
    memset(hm, 0, sizeof *hm);
    *perms = NULL;
    if (!p->doc)
        return true;
    wasmplug_manifest_to_host(p->doc, hm);
    *perms = calloc(p->doc->permissions.count + 1, sizeof **perms);
    if (!*perms)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < p->doc->permissions.count; i++) {
        const char *perm = p->doc->permissions.items[i];
        if (strncmp(perm, "http:", 5) == 0)
            continue;
        (*perms)[n++] = perm;
        wasmplug_host_grant(h, p->doc->id, perm);
    }
    hm->permissions = *perms;
    hm->permission_count = n;
    return true;
}

/* Call func and print what came of it; counts the run. */
static void run_call(wasmplug_plugin *pl, const char *func, const char *input, unsigned *runs)
{
    if (!func)
        return;
    wasmplug_buf out;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_plugin_call(pl, func, (const uint8_t *)input,
                                              input ? strlen(input) : 0, &out, &err);
    (*runs)++;
    if (st == WASMPLUG_OK) {
        if (term_is_tty(stdout)) {
            term_stream ts;
            term_stream_init(&ts, stdout, TERM_TEXT);
            term_stream_write(&ts, out.data ? out.data : (const uint8_t *)"", out.len);
            term_stream_finish(&ts);
        } else {
            fwrite(out.data ? out.data : (const uint8_t *)"", 1, out.len, stdout);
        }
        if (!out.len || out.data[out.len - 1] != '\n')
            fputc('\n', stdout);
        fflush(stdout);
    } else {
        cli_plugin_error(&err);
    }
    wasmplug_buf_free(&out);
}

enum { DEV_RUNS = 1, DEV_DEBOUNCE };
static const cli_opt DEV_OPTS[] = {{"runs", 0, true, DEV_RUNS},
                                   {"debounce", 0, true, DEV_DEBOUNCE},
                                   {NULL, 0, false, 0}};

/* Build products and editor files: changes to them start no build. */
static const char *const IGNORED[] = {".*", "*.wasm", "*.o", "*.tmp", "*~", "target",
                                      "build", "node_modules", "zig-out", "zig-cache"};

int cmd_dev(int argc, char **argv)
{
    const char *usage = "usage: wasmplug dev DIR [FUNCTION [INPUT]] [--runs N] [--debounce MS]";
    cli_args a = {argc, argv, 1, false};
    const char *pos[3] = {NULL, NULL, NULL}, *arg;
    size_t npos = 0;
    uint64_t max_runs = 0, debounce = 150;
    int id;
    while ((id = cli_next(&a, DEV_OPTS, "dev", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == DEV_RUNS && (!cli_parse_u64(arg, &max_runs) || !max_runs)) {
            cli_error("dev: --runs needs a positive number (got '%s')", arg);
            return EXIT_USAGE;
        }
        if (id == DEV_DEBOUNCE && (!cli_parse_u64(arg, &debounce) || debounce > 60000)) {
            cli_error("dev: --debounce needs milliseconds up to 60000 (got '%s')",
                      arg);
            return EXIT_USAGE;
        }
        if (id == 0) {
            if (npos == 3) {
                cli_error("dev: too many arguments\n%s", usage);
                return EXIT_USAGE;
            }
            pos[npos++] = arg;
        }
    }
    if (!npos) {
        cli_error("dev: which plugin project?\n%s", usage);
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc != EXIT_OK)
        return rc;
    const char *dir = pos[0], *func = pos[1], *input = pos[2];
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        cli_error("dev: '%s' is not a directory (a plugin project, with plugin.yaml)",
                  dir);
        return EXIT_NOT_FOUND;
    }

    dev_loop d = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false};
    /* Before any thread starts, so that they all leave SIGINT to us. */
    cli_interrupt_start(on_interrupt, &d);
    build(dir);
    cli_plugin p;
    if ((rc = cli_resolve(dir, NULL, &p)) != EXIT_OK) {
        cli_interrupt_stop();
        return rc;
    }
    wasmplug_host *h = NULL;
    wasmplug_watcher *w = NULL;
    wasmplug_plugin *pl = NULL;
    char *loaded = NULL; /* the running version's module bytes */
    size_t loaded_len = 0;
    const char **perms = NULL;
    wasmplug_manifest hm;
    char msg[512];
    if (wasmplug_host_new(NULL, &h) != WASMPLUG_OK ||
        cli_register_host_functions(h) != WASMPLUG_OK) {
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "cannot create the plugin host");
        goto out;
    }
    wasmplug_status st = cli_attach_services(h, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(cli_services_exit(st), NULL, msg);
        goto out;
    }
    if (!plugin_options(h, &p, &hm, &perms)) {
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
        goto out;
    }
    wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
    lo.manifest = p.doc ? &hm : NULL;
    lo.init = true;
    wasmplug_plugin_error err;
    const char *name = p.doc ? p.doc->id : "plugin";
    st = wasmplug_host_load_file(h, name, p.module_path, &lo, &pl, &err);
    if (st != WASMPLUG_OK && !pl) { /* not loaded at all: nothing to reload into */
        cli_plugin_error(&err);
        rc = cli_exit_for(st);
        goto out;
    }
    if (st != WASMPLUG_OK)
        cli_plugin_error(&err); /* loaded, its init failed: a fix reloads it */
    unsigned runs = 0;
    run_call(pl, func, input, &runs);
    /* What the running version was built from: a change that builds the
     * same module (an editor's temporary file, a touched source) reloads
     * and calls nothing. */
    loaded = wps_read_file(p.module_path, &loaded_len);

    if ((st = wasmplug_watcher_new((uint32_t)debounce, on_change, &d, &w)) != WASMPLUG_OK) {
        rc = cli_fail_json(cli_exit_for(st), NULL, "cannot watch files on this system");
        goto out;
    }
    for (size_t i = 0; i < sizeof IGNORED / sizeof IGNORED[0]; i++)
        wasmplug_watcher_ignore(w, IGNORED[i]);
    if ((st = wasmplug_watcher_add(w, dir, true)) != WASMPLUG_OK) {
        rc = cli_fail_json(cli_exit_for(st), NULL, "cannot watch the project directory");
        goto out;
    }
    cli_note("watching %s for changes (Ctrl-C to stop)", dir);
    while (!max_runs || runs < max_runs) {
        pthread_mutex_lock(&d.mu);
        while (!d.changes && !d.stop)
            pthread_cond_wait(&d.cv, &d.mu);
        bool stop = d.stop;
        d.changes = 0;
        pthread_mutex_unlock(&d.mu);
        if (stop)
            break;
        if (!build(dir))
            continue;
        size_t built_len = 0;
        char *built = wps_read_file(p.module_path, &built_len);
        if (built && loaded && built_len == loaded_len && !memcmp(built, loaded, built_len)) {
            cli_note("the module did not change: %s not reloaded", name);
            free(built);
            continue;
        }
        wasmplug_reload_options ro;
        memset(&ro, 0, sizeof ro);
        ro.load = &lo;
        st = wasmplug_plugin_reload_file(pl, p.module_path, &ro, &err);
        if (st != WASMPLUG_OK) {
            cli_plugin_error(&err);
            cli_note("the running version stays loaded");
            free(built);
            continue;
        }
        cli_note("reloaded %s", name);
        free(loaded);
        loaded = built;
        loaded_len = built_len;
        run_call(pl, func, input, &runs);
    }
    rc = EXIT_OK;
out:
    free(loaded);
    wasmplug_watcher_free(w);
    wasmplug_plugin_release(pl);
    cli_detach_services(); /* the event bus goes before its host */
    wasmplug_host_free(h);
    free(perms);
    cli_plugin_free(&p);
    cli_interrupt_stop();
    return rc;
}
