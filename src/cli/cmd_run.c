/*
 * cmd_run.c - `wasmplug run` (call one plugin function through the plugin
 * host API, with grants and limits from flags and the manifest) and
 * `wasmplug validate` (every check a load would make, reported one by one).
 * Also the host functions the CLI offers plugins (module "host").
 */
#include "cli.h"
#include "interrupt.h"
#include "run_opts.h"

#include <wasmplug/services.h>
#include "services/cache.h"
#include "services/native_cache.h"

#include <wasmplug/native.h>
#include "services/grants.h"
#include "services/launch.h"
#include "services/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Shared run/exec flags                                                    */
/* ------------------------------------------------------------------------ */

static bool push(const char ***list, size_t *n, const char *s)
{
    const char **l = realloc((void *)*list, (*n + 1) * sizeof *l);
    if (!l)
        return false;
    l[(*n)++] = s;
    *list = l;
    return true;
}

const cli_opt RUN_COMMON_OPTS[] = {
    {"allow-env", 0, true, R_ALLOW_ENV},   {"env", 'e', true, R_ALLOW_ENV},
    {"dir", 0, true, R_DIR},               {"timeout", 't', true, R_TIMEOUT},
    {"fuel", 0, true, R_FUEL},             {"max-memory", 0, true, R_MAX_MEMORY},
    {"max-call-depth", 0, true, R_MAX_DEPTH}, {"stats", 's', false, R_STATS},
    {"config", 'c', true, R_CONFIG},       {"grant", 'g', true, R_GRANT},
    {"deny", 0, true, R_DENY},             {"input-file", 'i', true, R_INPUT_FILE},
    {"manifest", 'm', true, R_MANIFEST},   {"no-cache", 0, false, R_NO_CACHE},
    {"cache-dir", 0, true, R_CACHE_DIR},   {"tier", 0, true, R_TIER},   {"max-input", 0, true, R_MAX_INPUT},
    {"max-output", 0, true, R_MAX_OUTPUT}, {"allow-http", 0, true, R_ALLOW_HTTP},
    {"allow-http-address", 0, true, R_ALLOW_HTTP_ADDR},
    {"http-ca", 0, true, R_HTTP_CA},       {NULL, 0, false, 0}};

/* Returns false after printing a usage error. */
bool run_opts_apply(run_opts *o, int id, const char *arg)
{
    uint64_t v;
    switch (id) {
    case R_ALLOW_ENV:
        return push(&o->env, &o->env_count, arg);
    case R_DIR: {
        /* HOST:GUEST[:ro|:rw]; GUEST defaults to HOST. */
        char *s = strdup(arg);
        if (!s)
            return false;
        char *guest = strchr(s, ':'), *mode = NULL;
        if (guest) {
            *guest++ = 0;
            mode = strrchr(guest, ':');
            if (mode && (!strcmp(mode, ":ro") || !strcmp(mode, ":rw")))
                *mode++ = 0;
            else
                mode = NULL;
        }
        if (!*s || (guest && !*guest)) {
            free(s);
            cli_error("--dir takes HOST:GUEST[:ro|:rw] (got '%s')", arg);
            return false;
        }
        run_dir *d = realloc(o->dirs, (o->dir_count + 1) * sizeof *d);
        if (!d) {
            free(s);
            return false;
        }
        o->dirs = d;
        d[o->dir_count].host = s;
        d[o->dir_count].guest = guest ? guest : s;
        d[o->dir_count].readonly = mode && !strcmp(mode, "ro");
        o->dir_count++;
        return true;
    }
    case R_TIMEOUT:
        if (!cli_parse_duration_ms(arg, &o->limits.timeout_ms)) {
            cli_error("--timeout takes a duration such as 500ms, 2s or 1m (got '%s')", arg);
            return false;
        }
        return true;
    case R_FUEL:
        if (!cli_parse_u64(arg, &v) || v == 0 || v == UINT64_MAX) {
            cli_error("--fuel takes a positive number of instructions (got '%s')", arg);
            return false;
        }
        o->limits.fuel = v;
        return true;
    case R_MAX_MEMORY:
        if (!cli_parse_size(arg, &v) || v > (uint64_t)65536 * 65536) {
            cli_error("--max-memory takes a size such as 16MiB or 1GiB, at most 4GiB (got '%s')",
                      arg);
            return false;
        }
        o->limits.max_memory_pages = (uint32_t)((v + 65535) / 65536);
        return true;
    case R_MAX_INPUT:
    case R_MAX_OUTPUT:
        if (!cli_parse_size(arg, &v) || v >= UINT32_MAX) {
            cli_error("--%s takes a size such as 4096, 64KiB or 1MiB, below 4GiB (got '%s')",
                      id == R_MAX_INPUT ? "max-input" : "max-output", arg);
            return false;
        }
        *(id == R_MAX_INPUT ? &o->limits.max_input_bytes : &o->limits.max_output_bytes) =
            (uint32_t)v;
        return true;
    case R_MAX_DEPTH:
        if (!cli_parse_u64(arg, &v) || v == 0 || v > 1000000) {
            cli_error("--max-call-depth takes a number from 1 to 1000000 (got '%s')", arg);
            return false;
        }
        o->limits.max_call_depth = (uint32_t)v;
        return true;
    case R_STATS:
        o->stats = true;
        return true;
    case R_NO_CACHE:
        o->no_cache = true;
        return true;
    case R_CACHE_DIR:
        o->cache_dir = arg;
        return true;
    case R_TIER:
        if (!strcmp(arg, "auto"))
            o->tier = 0;
        else if (!strcmp(arg, "native"))
            o->tier = 1;
        else if (!strcmp(arg, "interp") || !strcmp(arg, "interpreter"))
            o->tier = 2;
        else {
            cli_error("--tier takes auto, native or interp (got '%s')", arg);
            return false;
        }
        return true;
    case R_CONFIG: {
        const char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
            cli_error("--config takes KEY=VALUE (got '%s')", arg);
            return false;
        }
        wasmplug_kv *kv = realloc(o->config, (o->config_count + 1) * sizeof *kv);
        if (!kv)
            return false;
        o->config = kv;
        kv[o->config_count].key = strndup(arg, (size_t)(eq - arg));
        kv[o->config_count].value = eq + 1;
        o->config_count++;
        return true;
    }
    case R_GRANT:
    case R_DENY:
        if (!*arg) {
            cli_error("--%s needs a permission such as host.log, wasi.env:HOME or "
                      "wasi.fs.read:/data (got an empty string)",
                      id == R_GRANT ? "grant" : "deny");
            return false;
        }
        return id == R_GRANT ? push(&o->grants, &o->grant_count, arg)
                             : push(&o->denies, &o->deny_count, arg);
    case R_INPUT_FILE:
        o->input_file = arg;
        return true;
    case R_MANIFEST:
        o->manifest = arg;
        return true;
    case R_ALLOW_HTTP:
        return push(&o->http, &o->http_count, arg);
    case R_ALLOW_HTTP_ADDR:
        return push(&o->http_addrs, &o->http_addr_count, arg);
    case R_HTTP_CA:
        o->http_ca = arg;
        return true;
    }
    return false;
}

void run_opts_free(run_opts *o)
{
    free((void *)o->env);
    for (size_t i = 0; i < o->dir_count; i++)
        free(o->dirs[i].host);
    free(o->dirs);
    for (size_t i = 0; i < o->config_count; i++)
        free((char *)o->config[i].key);
    free(o->config);
    free((void *)o->grants);
    free((void *)o->denies);
    free((void *)o->http);
    free((void *)o->http_addrs);
}

/* '*' matches any run of characters. */
int run_opts_scoped(int (*fn)(int, char **, run_opts *), int argc, char **argv)
{
    run_opts o;
    memset(&o, 0, sizeof o);
    int rc = fn(argc, argv, &o);
    run_opts_free(&o);
    return rc;
}

bool cli_glob(const char *pat, const char *s)
{
    if (*pat == '\0')
        return *s == '\0';
    if (*pat == '*')
        return cli_glob(pat + 1, s) || (*s && cli_glob(pat, s + 1));
    return *s == *pat && cli_glob(pat + 1, s + 1);
}

/* ------------------------------------------------------------------------ */
/* Host functions the CLI offers (module "host")                            */
/* ------------------------------------------------------------------------ */

static int h_log(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                 wasmplug_slot *results)
{
    (void)user;
    (void)results;
    if (G.quiet || G.log_level > WASMPLUG_LOG_INFO)
        return 0; /* a log line at level info */
    fflush(stdout);
    fprintf(stderr, "%s[%s]%s %s\n", cli_yellow(), term_field(wasmplug_hostcall_plugin_name(call)),
            cli_reset(), term_fieldn(args[0].ptr, args[0].len));
    return 0;
}

static int h_add(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                 wasmplug_slot *results)
{
    (void)call;
    (void)user;
    results[0].u32 = args[0].value.u32 + args[1].value.u32;
    return 0;
}

static int h_time(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                  wasmplug_slot *results)
{
    (void)call;
    (void)user;
    (void)args;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    results[0].i64 = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    return 0;
}

static void on_log(void *user, wasmplug_plugin *plugin, const char *name,
                   wasmplug_log_level level, const char *msg, size_t len)
{
    (void)user;
    (void)plugin;
    static const char *const names[] = {"trace", "debug", "info", "warn", "error"};
    if (G.quiet || (int)level < G.log_level)
        return;
    fflush(stdout);
    fprintf(stderr, "%s[%s %s]%s %s\n", level >= WASMPLUG_LOG_WARN ? cli_red() : cli_yellow(),
            term_field(name), names[level <= WASMPLUG_LOG_ERROR ? level : WASMPLUG_LOG_ERROR],
            cli_reset(), term_fieldn(msg, len));
}

wasmplug_status cli_register_host_functions(wasmplug_host *h)
{
    wasmplug_status st;
    if ((st = wasmplug_host_register(h, "host", "log", "(p)", h_log, NULL, NULL)) ||
        (st = wasmplug_host_register(h, "host", "add", "(ii)i", h_add, NULL, NULL)) ||
        (st = wasmplug_host_register(h, "host", "time_ms", "()I", h_time, NULL, NULL)))
        return st;
    return WASMPLUG_OK;
}

bool cli_provides(const char *module, const char *name)
{
    return !strcmp(module, "host") &&
           (!strcmp(name, "log") || !strcmp(name, "add") || !strcmp(name, "time_ms"));
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                  */
/* ------------------------------------------------------------------------ */

/* What run loads the plugin with (services/launch.h: the manifest's
 * requests, the grants recorded at install, the flags), and where the
 * plugin's stdout and stderr go. */
typedef struct wasi_setup {
    wps_launch launch;
    wasmplug_wasi_preopen *dirs; /* --dir */
    bool capture; /* --json: keep plugin stdout/stderr for the JSON result */
    char *cap[2];
    size_t caplen[2];
    bool escape;          /* stderr is a terminal: show the output escaped */
    term_stream shown[2]; /* plugin stdout, stderr on our stderr */
} wasi_setup;

static void wasi_output(void *user, int fd, const uint8_t *data, size_t len)
{
    wasi_setup *w = user;
    if (w->capture) {
        int k = fd == 2 ? 1 : 0;
        char *n = realloc(w->cap[k], w->caplen[k] + len + 1);
        if (!n)
            return;
        memcpy(n + w->caplen[k], data, len);
        w->caplen[k] += len;
        n[w->caplen[k]] = 0;
        w->cap[k] = n;
        return;
    }
    /* Plugin stdout and stderr go to stderr: stdout carries the call's output. */
    if (w->escape)
        term_stream_write(&w->shown[fd == 2 ? 1 : 0], data, len);
    else
        fwrite(data, 1, len, stderr);
    fflush(stderr);
}

/* The permissions granted: the manifest's requests (host functions,
 * services, http and WASI) minus --deny, plus what --grant, --allow-env and
 * --dir give. For an installed plugin (recorded != NULL) only the
 * manifest's requests the operator granted at install count; a plugin run
 * from a path gets what its manifest requests, since the operator runs it
 * by hand (http with --allow-http). The policy grants exactly the list; a
 * plugin importing anything else is denied. */
static bool wasi_build(wasi_setup *w, const wasmplug_manifest_doc *doc, const run_opts *o,
                       const wps_grants *recorded)
{
    memset(w, 0, sizeof *w);
    term_stream_init(&w->shown[0], stderr, TERM_TEXT);
    term_stream_init(&w->shown[1], stderr, TERM_TEXT);
    w->dirs = calloc(o->dir_count + 1, sizeof *w->dirs);
    if (!w->dirs)
        return false;
    for (size_t i = 0; i < o->dir_count; i++) {
        w->dirs[i].host_path = o->dirs[i].host;
        w->dirs[i].guest_path = o->dirs[i].guest;
        w->dirs[i].read_only = o->dirs[i].readonly;
    }
    wps_launch_opts lo = {recorded,   o->grants,    o->grant_count, o->denies, o->deny_count,
                          o->env,     o->env_count, w->dirs,        o->dir_count, o->http,
                          o->http_count};
    if (wps_launch_make(doc, &lo, &w->launch) != WASMPLUG_OK)
        return false;
    w->launch.wasi.on_output = wasi_output;
    w->launch.wasi.output_user = w;
    w->capture = G.json;
    w->escape = term_is_tty(stderr);
    return true;
}

static void wasi_free(wasi_setup *w)
{
    term_stream_finish(&w->shown[0]);
    term_stream_finish(&w->shown[1]);
    wps_launch_free(&w->launch);
    free(w->dirs);
    free(w->cap[0]);
    free(w->cap[1]);
}

/* What the compiled-module cache did for this run (for --stats). */
static wps_cache_info cache_info;
/* What the native-code cache did (--stats: which tier ran). */
static wps_native_info native_info;

/*
 * Load (and initialize) the plugin. The module comes from the compiled-module
 * cache (services/cache.c: keyed by the module's content hash and the engine
 * version) unless --no-cache: a hit skips validation and compilation; a
 * miss or an invalid entry compiles and (re)writes the entry.
 */
static wasmplug_status load_plugin(wasmplug_host *h, const cli_plugin *p, const run_opts *o,
                                   wasi_setup *w, wasmplug_manifest *hm, wasmplug_plugin **out,
                                   wasmplug_plugin_error *err, uint64_t *load_ns,
                                   uint64_t *init_ns)
{
    for (size_t i = 0; i < w->launch.perm_count; i++)
        wasmplug_host_grant(h, "*", w->launch.perms[i]);
    /* With --deny, the manifest's request must not include the denied
     * permission either: pass the filtered list. */
    hm->permissions = w->launch.perms;
    hm->permission_count = w->launch.perm_count;

    wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
    lo.manifest = hm;
    lo.config = o->config;
    lo.config_count = o->config_count;
    lo.limits = o->limits;
    lo.wasi = &w->launch.wasi;
    if (o->stats && !lo.limits.fuel)
        lo.limits.fuel = WASMPLUG_FUEL_UNLIMITED - 1; /* counted, never reached */
    /* The plugin's name: its id, or a bare module's file name. */
    char base[WASMPLUG_NAME_MAX];
    const char *slash = strrchr(p->module_path, '/');
    snprintf(base, sizeof base, "%s", slash ? slash + 1 : p->module_path);
    char *dot = strrchr(base, '.');
    if (dot && dot != base && !strcmp(dot, ".wasm"))
        *dot = 0;
    const char *name = p->doc ? p->doc->id : base;
    uint64_t t0 = now_ns();
    wasmplug_status st;
    char *dir = o->no_cache ? NULL : wps_cache_dir(o->cache_dir);
    size_t len = 0;
    uint8_t *wasm = dir ? (uint8_t *)wps_read_file(p->module_path, &len) : NULL;
    if (!wasm) { /* no cache (or unreadable file: the host reports it) */
        st = wasmplug_host_load_file(h, name, p->module_path, &lo, out, err);
    } else {
        wasmplug_error ee;
        wasmplug_error_clear(&ee);
        (void)wps_cache_load(wasmplug_host_engine(h), dir, wasm, len, &lo.module, &cache_info,
                             &ee);
        if (cache_info.note[0])
            cli_note("note: compiled-module cache: %s", cache_info.note);
        /* Native code from the cache (--tier native: compiled when missing). */
        if (lo.module && o->tier != 2) {
            wps_native_attach(lo.module, wasm, len,
                              wasmplug_engine_bounds(wasmplug_host_engine(h)), dir, o->tier == 1,
                              &native_info);
            /* quiet when there is simply nothing compiled (auto) */
            bool quiet = o->tier == 0 && !native_info.rejected &&
                         (native_info.result == WPS_NATIVE_MISSING ||
                          native_info.result == WPS_NATIVE_UNSUPPORTED);
            if (native_info.note[0] && !quiet)
                cli_note("note: native code: %s", native_info.note);
        }
        /* A module that does not compile: the host reports it as usual. */
        st = wasmplug_host_load(h, name, wasm, len, &lo, out, err);
    }
    free(wasm);
    free(dir);
    uint64_t t1 = now_ns();
    *load_ns = t1 - t0;
    if (st == WASMPLUG_OK) {
        st = wasmplug_plugin_init(*out, err);
        *init_ns = now_ns() - t1;
    }
    return st;
}

static int report_error(wasmplug_status st, const wasmplug_plugin_error *err)
{
    char text[4096];
    wasmplug_plugin_error_format(err, text, sizeof text);
    int code = cli_exit_for(st);
    cli_plugin_error(err);
    if (G.json) {
        json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "kind",
                              wasmplug_status_name(st), "message", err->message, "phase",
                              wasmplug_phase_string(err->phase), "function", err->function,
                              "text", text, "exit_code", code);
        if (err->trap != WASMPLUG_TRAP_NONE)
            json_object_set_new(e, "trap", json_string(wasmplug_trap_string(err->trap)));
        if (err->plugin_code)
            json_object_set_new(e, "plugin_code", json_integer(err->plugin_code));
        cli_json_print(json_pack("{s:b, s:o}", "ok", 0, "error", e));
    }
    return code;
}

/* ------------------------------------------------------------------------ */
/* Typed calls                                                              */
/* ------------------------------------------------------------------------ */

static bool parse_val(const char *s, wasmplug_valtype t, wasmplug_val *v)
{
    char *end;
    errno = 0;
    v->type = t;
    switch (t) {
    case WASMPLUG_I32: {
        long long x = strtoll(s, &end, 0);
        if (*end || errno || x < INT32_MIN || x > (long long)UINT32_MAX)
            return false;
        v->of.u32 = (uint32_t)x;
        return true;
    }
    case WASMPLUG_I64: {
        if (s[0] == '-') {
            long long x = strtoll(s, &end, 0);
            v->of.i64 = x;
        } else {
            unsigned long long x = strtoull(s, &end, 0);
            v->of.u64 = x;
        }
        return !*end && !errno;
    }
    case WASMPLUG_F32:
        v->of.f32 = strtof(s, &end);
        return !*end;
    case WASMPLUG_F64:
        v->of.f64 = strtod(s, &end);
        return !*end;
    default:
        return false;
    }
}

static json_t *val_json(const wasmplug_val *v)
{
    switch (v->type) {
    case WASMPLUG_I32:
        return json_integer(v->of.i32);
    case WASMPLUG_I64:
        return json_integer((json_int_t)v->of.i64);
    case WASMPLUG_F32:
        return json_real(v->of.f32);
    case WASMPLUG_F64:
        return json_real(v->of.f64);
    default:
        return json_null();
    }
}

static void print_val(const wasmplug_val *v)
{
    switch (v->type) {
    case WASMPLUG_I32:
        printf("%" PRId32 "\n", v->of.i32);
        break;
    case WASMPLUG_I64:
        printf("%" PRId64 "\n", v->of.i64);
        break;
    case WASMPLUG_F32:
        printf("%.9g\n", (double)v->of.f32);
        break;
    case WASMPLUG_F64:
        printf("%.17g\n", v->of.f64);
        break;
    default:
        printf("%s\n", v->of.ref ? "<ref>" : "null");
    }
}

/* ------------------------------------------------------------------------ */
/* run                                                                      */
/* ------------------------------------------------------------------------ */

static bool output_open_line; /* the output printed did not end with a newline */

/* The call's output on stdout: as it is for a pipe or a file, escaped on a
 * terminal (the bytes are the plugin's). */
static void write_output(const uint8_t *data, size_t len)
{
    if (!term_is_tty(stdout)) {
        fwrite(data ? data : (const uint8_t *)"", 1, len, stdout);
        return;
    }
    term_stream ts;
    term_stream_init(&ts, stdout, TERM_TEXT);
    term_stream_write(&ts, data ? data : (const uint8_t *)"", len);
    term_stream_finish(&ts);
}

static json_t *value_json(const wasmplug_value *v)
{
    switch (v->kind) {
    case WASMPLUG_VALUE_BOOL: return json_boolean(v->b);
    case WASMPLUG_VALUE_INT: return json_integer(v->i);
    case WASMPLUG_VALUE_FLOAT: return json_real(v->f);
    case WASMPLUG_VALUE_STRING: return cli_json_bytes((const uint8_t *)v->str, v->len);
    default: return json_null();
    }
}

/* A wasm-bindgen result: numbers and booleans as text, strings escaped. */
static void print_value(const wasmplug_value *v)
{
    switch (v->kind) {
    case WASMPLUG_VALUE_BOOL: printf("%s\n", v->b ? "true" : "false"); break;
    case WASMPLUG_VALUE_INT: printf("%lld\n", (long long)v->i); break;
    case WASMPLUG_VALUE_FLOAT: printf("%.17g\n", v->f); break;
    case WASMPLUG_VALUE_STRING:
        write_output((const uint8_t *)v->str, v->len);
        fputc('\n', stdout);
        break;
    default: break;
    }
}

static void print_stats(json_t *stats)
{
    if (output_open_line)
        fputc('\n', stderr); /* readable when stdout and stderr share a terminal */
    fprintf(stderr, "%s--- stats ---%s\n", cli_bold(), cli_reset());
    fprintf(stderr, "load+compile: %.3f ms\n",
            json_real_value(json_object_get(stats, "load_ms")));
    fprintf(stderr, "init:         %.3f ms\n",
            json_real_value(json_object_get(stats, "init_ms")));
    fprintf(stderr, "call:         %.3f ms\n",
            json_real_value(json_object_get(stats, "call_ms")));
    fprintf(stderr, "total:        %.3f ms\n",
            json_real_value(json_object_get(stats, "total_ms")));
    fprintf(stderr, "fuel used:    %" JSON_INTEGER_FORMAT "\n",
            json_integer_value(json_object_get(stats, "fuel_used")));
    fprintf(stderr, "memory:       %" JSON_INTEGER_FORMAT " bytes (peak)\n",
            json_integer_value(json_object_get(stats, "memory_bytes")));
    fprintf(stderr, "cache:        %s\n", json_string_value(json_object_get(stats, "cache")));
    fprintf(stderr, "tier:         %s (native code: %s)\n",
            json_string_value(json_object_get(stats, "tier")),
            json_string_value(json_object_get(stats, "native")));
    json_t *hs = json_object_get(stats, "http"), *st = json_object_get(hs, "status");
    if (hs)
        fprintf(stderr,
                "http:         %" JSON_INTEGER_FORMAT " requests (2xx %" JSON_INTEGER_FORMAT
                ", 3xx %" JSON_INTEGER_FORMAT ", 4xx %" JSON_INTEGER_FORMAT
                ", 5xx %" JSON_INTEGER_FORMAT ", refused %" JSON_INTEGER_FORMAT
                ", failed %" JSON_INTEGER_FORMAT "), %" JSON_INTEGER_FORMAT
                " bytes sent, %" JSON_INTEGER_FORMAT " received, %.3f ms\n",
                json_integer_value(json_object_get(hs, "requests")),
                json_integer_value(json_object_get(st, "2xx")),
                json_integer_value(json_object_get(st, "3xx")),
                json_integer_value(json_object_get(st, "4xx")),
                json_integer_value(json_object_get(st, "5xx")),
                json_integer_value(json_object_get(hs, "refused")),
                json_integer_value(json_object_get(hs, "failed")),
                json_integer_value(json_object_get(hs, "bytes_sent")),
                json_integer_value(json_object_get(hs, "bytes_received")),
                json_real_value(json_object_get(hs, "total_ms")));
}

/* A denied import: replace the host's message with the real cause and the
 * flag that fixes it (--deny given, not granted at install, no manifest, or
 * not requested by the manifest). */
static void explain_denial(const cli_plugin *p, const run_opts *o, const wps_grants *recorded,
                           wasmplug_plugin_error *err)
{
    const char *imp = err->function;
    if (!*imp)
        return;
    /* The permission that allows the import: a host function's own name, or
     * a service import's grant (wasmplug.notify needs "notify"). */
    const char *f = imp, *where = "permissions.host_functions";
    const char *grant = strncmp(imp, "wasmplug.", 9) == 0
                            ? wasmplug_services_import_grant(imp + 9) : NULL;
    if (grant) {
        f = grant;
        where = cli_service_hint(grant);
    }
    char text[1024];
    bool requested = false;
    for (size_t i = 0; p->doc && i < p->doc->permissions.count && !requested; i++)
        requested = cli_glob(p->doc->permissions.items[i], f);
    for (size_t i = 0; i < o->deny_count; i++)
        if (cli_glob(o->denies[i], f)) {
            snprintf(text, sizeof text,
                     "import %.100s denied by --deny %.100s (%s; drop that --deny to allow it)",
                     imp, o->denies[i],
                     requested ? "the manifest requests it" : "the manifest does not request it");
            goto done;
        }
    if (!strcmp(imp, "wasmplug.http_request") && !o->http_count) {
        snprintf(text, sizeof text,
                 "import wasmplug.http_request denied: outbound HTTP needs --allow-http PATTERN "
                 "(e.g. --allow-http api.example.com)%s%s",
                 p->doc && p->doc->http_hosts.count ? "; the manifest's permissions.http "
                                                      "entries that match it are granted"
                                                    : "",
                 recorded ? ", or http granted when the plugin is installed" : "");
        goto done;
    }
    if (recorded && requested && !wps_grants_has(recorded, f))
        snprintf(text, sizeof text,
                 "import %.100s was not granted when %.100s was installed: grant it for this run "
                 "with --grant %.100s, or install the plugin again with --grant %.100s",
                 imp, p->doc->id, f, f);
    else if (!p->doc)
        snprintf(text, sizeof text,
                 "import %.100s denied: a module without a manifest is granted nothing; run it "
                 "with --grant %.100s (or give it a manifest that requests it)",
                 imp, f);
    else if (!requested && grant)
        snprintf(text, sizeof text,
                 "import %.100s denied: the manifest of %.100s does not request '%.100s'; add "
                 "%s to its permissions, or grant it for this run with --grant %.100s",
                 imp, p->doc->id, f, where, f);
    else if (!requested)
        snprintf(text, sizeof text,
                 "import %.100s denied: the manifest of %.100s does not request it; add it to "
                 "%s, or grant it for this run with --grant %.100s",
                 imp, p->doc->id, where, f);
    else
        return;
done:;
    size_t n = strlen(text);
    if (n >= sizeof err->message)
        n = sizeof err->message - 1;
    memcpy(err->message, text, n);
    err->message[n] = 0;
}

/* After a call: if Ctrl-C cancelled it, say so (exit 130) and return true. */
static bool find_export(wasmplug_plugin *pl, const char *func, wasmplug_functype *ft)
{
    uint32_t nexp = wasmplug_plugin_export_count(pl);
    for (uint32_t i = 0; i < nexp; i++) {
        const char *name;
        if (wasmplug_plugin_export_at(pl, i, &name, ft) == WASMPLUG_OK && !strcmp(name, func))
            return true;
    }
    return false;
}

/* A workflow node type of the manifest (`nodes:`) whose prep is the
 * built-in one runs as its exec export, the input being the state: what
 * the node does in a workflow, from the command line. The export's name
 * into fn; false when name is no such node type. */
static bool node_exec(const wasmplug_manifest_doc *doc, wasmplug_plugin *pl, const char *name,
                      char *fn, size_t size)
{
    for (size_t i = 0; i < doc->node_type_count; i++) {
        const wasmplug_manifest_node_type *t = &doc->node_types[i];
        if (strcmp(t->name, name))
            continue;
        char prep[300];
        snprintf(prep, sizeof prep, "%s_prep", t->name);
        if (t->exec)
            snprintf(fn, size, "%s", t->exec);
        else
            snprintf(fn, size, "%s_exec", t->name);
        for (char *c = prep; *c; c++)
            *c = *c == '-' ? '_' : *c;
        for (char *c = fn; !t->exec && *c; c++)
            *c = *c == '-' ? '_' : *c;
        /* A prep of the plugin's own makes exec's input: not the state. */
        return !t->prep && !wasmplug_plugin_has_function(pl, prep);
    }
    return false;
}

static bool interrupted(wasmplug_status st, const char *func, int *rc)
{
    if (!cli_interrupt_stop())
        return false;
    char msg[512];
    snprintf(msg, sizeof msg, "interrupted (SIGINT): the call of %s was cancelled%s", func,
             st == WASMPLUG_OK ? " after it had finished; its output is dropped" : "");
    *rc = cli_fail_json(EXIT_INTERRUPTED, "interrupted", msg);
    return true;
}

/* The plugin Ctrl-C cancels (interrupt.h); NULL until it is loaded. */
static _Atomic(wasmplug_plugin *) running_plugin;

static void cancel_running(void *user)
{
    (void)user;
    wasmplug_plugin *p = atomic_load(&running_plugin);
    if (p)
        wasmplug_plugin_cancel(p);
}

int cmd_run(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    run_opts o;
    memset(&o, 0, sizeof o);
    const char *pos[3] = {NULL, NULL, NULL}, *arg;
    int npos = 0, id, rc;
    const char **extra = NULL;
    size_t nextra = 0;
    while ((id = cli_next(&a, RUN_COMMON_OPTS, "run", &arg)) != -1) {
        if (id == -2 || (id > 0 && !run_opts_apply(&o, id, arg))) {
            run_opts_free(&o);
            free((void *)extra);
            return EXIT_USAGE;
        }
        if (id == 0) {
            if (npos < 3)
                pos[npos++] = arg;
            else
                push(&extra, &nextra, arg); /* more typed arguments */
        }
    }
    if (npos < 2) {
        cli_error("usage: wasmplug run PLUGIN FUNCTION [INPUT] [options] (see wasmplug run --help)");
        run_opts_free(&o);
        free((void *)extra);
        return EXIT_USAGE;
    }
    if (o.input_file && npos > 2) {
        cli_error("run takes the input as INPUT ('%s') or from --input-file %s, not both", pos[2],
                  o.input_file);
        run_opts_free(&o);
        free((void *)extra);
        return EXIT_USAGE;
    }
    if ((rc = cli_setup()) != EXIT_OK) {
        run_opts_free(&o);
        return rc;
    }
    uint64_t t_start = now_ns();
    cli_plugin p;
    if ((rc = cli_resolve(pos[0], o.manifest, &p)) != EXIT_OK) {
        run_opts_free(&o);
        free((void *)extra);
        return rc;
    }
    const char *func = pos[1];

    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.on_log = on_log;
    const char *b = getenv("WASMPLUG_BOUNDS");
    if (!b)
        b = getenv("WASMPLUG_TEST_BOUNDS");
    hc.bounds = b && !strcmp(b, "explicit") ? WASMPLUG_BOUNDS_EXPLICIT
                : b && !strcmp(b, "guard")  ? WASMPLUG_BOUNDS_GUARD_PAGES
                                            : WASMPLUG_BOUNDS_AUTO;
    wasmplug_host *h = NULL;
    cli_http *http = NULL;
    wasmplug_plugin *pl = NULL;
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    uint8_t *input = NULL;
    size_t inlen = 0;
    wasmplug_buf out = {NULL, 0};
    wasmplug_manifest hm;
    memset(&hm, 0, sizeof hm);
    wasi_setup w;
    memset(&w, 0, sizeof w);
    if (p.doc)
        wasmplug_manifest_to_host(p.doc, &hm);
    /* The operator decides: a limit given as a flag replaces the manifest's
     * (which the host would otherwise take as a ceiling). */
    wasmplug_plugin_limits *mr = &hm.resources;
    const wasmplug_plugin_limits *fl = &o.limits;
    if (fl->max_memory_pages)
        mr->max_memory_pages = 0;
    if (fl->fuel)
        mr->fuel = 0;
    if (fl->timeout_ms)
        mr->timeout_ms = 0;
    if (fl->max_call_depth)
        mr->max_call_depth = 0;
    if (fl->max_input_bytes)
        mr->max_input_bytes = 0;
    if (fl->max_output_bytes)
        mr->max_output_bytes = 0;
    hm.permissions = NULL; /* load_plugin sets the filtered list */
    hm.permission_count = 0;
    /* Before the host starts its timer thread, so that it leaves SIGINT to us. */
    cli_interrupt_start(cancel_running, NULL);
    if (wasmplug_host_new(&hc, &h) != WASMPLUG_OK || cli_register_host_functions(h) != WASMPLUG_OK) {
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "cannot create the plugin host");
        goto out;
    }
    char svcmsg[512];
    wasmplug_status svcst = cli_attach_services(h, svcmsg, sizeof svcmsg);
    if (svcst != WASMPLUG_OK) {
        rc = cli_fail_json(cli_services_exit(svcst), NULL, svcmsg);
        goto out;
    }
    /* An installed plugin gets what the operator granted at install. */
    wps_grants recorded = {NULL, 0};
    bool installed = !strcmp(p.source, "store");
    if (installed) {
        char gmsg[512];
        wasmplug_status gs = wps_grants_load(p.dir, &recorded, gmsg, sizeof gmsg);
        if (gs != WASMPLUG_OK && gs != WASMPLUG_ERR_NOT_FOUND) {
            rc = cli_fail_json(EXIT_IO, NULL, gmsg);
            goto out;
        }
    }
    /* Outbound HTTP: in wasmplug-dist when this command has none. */
    if (cli_http_needed(&o, installed ? &recorded : NULL) && (rc = cli_http_continue()) >= 0) {
        wps_grants_free(&recorded);
        goto out;
    }
    if (!wasi_build(&w, p.doc, &o, installed ? &recorded : NULL)) {
        wps_grants_free(&recorded);
        rc = cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
        goto out;
    }
    if ((rc = cli_http_attach(h, &o, &http)) != EXIT_OK) {
        wps_grants_free(&recorded);
        goto out;
    }
    uint64_t load_ns = 0, init_ns = 0;
    wasmplug_status st = load_plugin(h, &p, &o, &w, &hm, &pl, &err, &load_ns, &init_ns);
    if (st == WASMPLUG_ERR_PERMISSION_DENIED)
        explain_denial(&p, &o, installed ? &recorded : NULL, &err);
    wps_grants_free(&recorded);
    if (st != WASMPLUG_OK) {
        rc = report_error(st, &err);
        goto out;
    }
    atomic_store(&running_plugin, pl);

    /* The function and how to call it. */
    wasmplug_functype ft;
    bool found = find_export(pl, func, &ft);
    char node_fn[300];
    if (!found && p.doc && node_exec(p.doc, pl, func, node_fn, sizeof node_fn)) {
        func = node_fn;
        found = find_export(pl, func, &ft);
    }
    uint32_t nexp = wasmplug_plugin_export_count(pl);
    if (!found) {
        char msg[2048];
        size_t at = (size_t)snprintf(msg, sizeof msg, "plugin '%s' has no function '%s' (exports:",
                                     term_field(wasmplug_plugin_name(pl)), term_field(func));
        for (uint32_t i = 0; i < nexp && at < sizeof msg; i++) {
            const char *name;
            wasmplug_functype t;
            wasmplug_plugin_export_at(pl, i, &name, &t);
            at += (size_t)snprintf(msg + at, sizeof msg - at, " %s", term_field(name));
        }
        if (at < sizeof msg)
            snprintf(msg + at, sizeof msg - at, ")");
        rc = cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
        goto out;
    }
    wasmplug_plugin_info info;
    wasmplug_plugin_get_info(pl, &info);
    bool v1 = ft.param_count == 0 && ft.result_count == 1 && ft.results[0] == WASMPLUG_I32;
    bool compat = ft.param_count == 2 && ft.params[0] == WASMPLUG_I32 &&
                  ft.params[1] == WASMPLUG_I32 && ft.result_count == 1 &&
                  ft.results[0] == WASMPLUG_I64;
    /* As the host decides per function: () -> i32 in an ABI v1 plugin,
     * (i32, i32) -> i64 with an allocator (compatibility ABI), or
     * (i32, i32) -> i32 in a command plugin; anything else, and plain
     * modules, get typed calls. */
    bool command = info.abi == WASMPLUG_ABI_COMMAND && ft.param_count == 2 &&
                   ft.result_count == 1 && ft.params[0] == WASMPLUG_I32 &&
                   ft.params[1] == WASMPLUG_I32 && ft.results[0] == WASMPLUG_I32;
    bool bytes_call = (v1 && info.abi != WASMPLUG_ABI_NONE) || command ||
                      (compat && (info.abi == WASMPLUG_ABI_COMPAT ||
                                  (wasmplug_plugin_has_function(pl, "alloc") &&
                                   wasmplug_plugin_has_function(pl, "dealloc"))));

    /* wasm-bindgen functions: arguments converted by their described types. */
    wasmplug_bindgen_sig bsig;
    bool bindgen = info.abi == WASMPLUG_ABI_BINDGEN &&
                   wasmplug_plugin_bindgen_signature(pl, func, &bsig) != WASMPLUG_ERR_NOT_FOUND;
    if (bindgen)
        bytes_call = false;

    json_t *result = json_object();
    uint64_t t_call = now_ns(), call_ns;
    if (bytes_call) {
        if (o.input_file) {
            input = cli_read_input(o.input_file, &inlen);
            if (!input) {
                char msg[1200];
                snprintf(msg, sizeof msg, "cannot read %s: %s", o.input_file, strerror(errno));
                json_decref(result);
                rc = cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
                goto out;
            }
        } else if (pos[2]) {
            inlen = strlen(pos[2]);
            input = (uint8_t *)strdup(pos[2]);
        } else if (!isatty(0)) {
            input = cli_read_input("-", &inlen);
        }
        t_call = now_ns();
        st = wasmplug_plugin_call(pl, func, input, inlen, &out, &err);
        call_ns = now_ns() - t_call;
        if (interrupted(st, func, &rc)) {
            json_decref(result);
            goto out;
        }
        if (st == WASMPLUG_OK) {
            if (G.json)
                json_object_set_new(result, "output", cli_json_bytes(out.data, out.len));
            else {
                write_output(out.data, out.len);
                if (isatty(1) && out.len && out.data[out.len - 1] != '\n')
                    fputc('\n', stdout);
                else
                    output_open_line = out.len && out.data[out.len - 1] != '\n';
            }
        }
    } else {
        /* Typed: the arguments are the INPUT words plus any further operands. */
        const char *words[64];
        size_t nw = 0;
        char *copy = pos[2] ? strdup(pos[2]) : NULL;
        for (char *tok = copy ? strtok(copy, " ,\t\n") : NULL; tok && nw < 64;
             tok = strtok(NULL, " ,\t\n"))
            words[nw++] = tok;
        for (size_t i = 0; i < nextra && nw < 64; i++)
            words[nw++] = extra[i];
        if (bindgen) {
            t_call = now_ns();
            wasmplug_value rv;
            st = wasmplug_plugin_bindgen_call_text(pl, func, words, nw, &rv, &err);
            call_ns = now_ns() - t_call;
            free(copy);
            if (interrupted(st, func, &rc)) {
                json_decref(result);
                goto out;
            }
            if (st == WASMPLUG_OK) {
                json_object_set_new(result, "result", value_json(&rv));
                if (!G.json)
                    print_value(&rv);
            }
            wasmplug_value_clear(&rv);
        } else {
            char ty[256];
            cli_functype_str(&ft, ty, sizeof ty);
            if (nw != ft.param_count) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s%s takes %u argument%s, got %zu", func, ty,
                         ft.param_count, ft.param_count == 1 ? "" : "s", nw);
                free(copy);
                json_decref(result);
                rc = cli_fail_json(EXIT_USAGE, "usage", msg);
                goto out;
            }
            wasmplug_val args[64], res[64];
            for (size_t i = 0; i < nw; i++)
                if (!parse_val(words[i], ft.params[i], &args[i])) {
                    char msg[1024];
                    snprintf(msg, sizeof msg, "argument %zu of %s%s: '%s' is not a valid %s", i + 1,
                             func, ty, words[i], wasmplug_valtype_name(ft.params[i]));
                    free(copy);
                    json_decref(result);
                    rc = cli_fail_json(EXIT_USAGE, "usage", msg);
                    goto out;
                }
            free(copy);
            if (ft.result_count > 64) {
                json_decref(result);
                rc = cli_fail_json(EXIT_USAGE, "usage", "too many results");
                goto out;
            }
            t_call = now_ns();
            st = wasmplug_plugin_call_typed(pl, func, args, nw, res, ft.result_count, &err);
            call_ns = now_ns() - t_call;
            if (interrupted(st, func, &rc)) {
                json_decref(result);
                goto out;
            }
            if (st == WASMPLUG_OK) {
                json_t *arr = json_array();
                for (uint32_t i = 0; i < ft.result_count; i++) {
                    res[i].type = ft.results[i];
                    if (G.json)
                        json_array_append_new(arr, val_json(&res[i]));
                    else
                        print_val(&res[i]);
                }
                json_object_set_new(result, "results", arr);
            }
        }
    }
    fflush(stdout);

    wasmplug_metrics mt;
    wasmplug_plugin_get_metrics(pl, &mt);
    json_t *stats = json_pack("{s:f, s:f, s:f, s:f, s:I, s:I}", "load_ms", load_ns / 1e6,
                              "init_ms", init_ns / 1e6, "call_ms", call_ns / 1e6, "total_ms",
                              (now_ns() - t_start) / 1e6, "fuel_used", (json_int_t)mt.fuel_used,
                              "memory_bytes", (json_int_t)mt.memory_pages_max * 65536);
    json_object_set_new(stats, "cache", json_string(wps_cache_result_name(cache_info.result)));
    bool native = native_info.result == WPS_NATIVE_HIT ||
                  native_info.result == WPS_NATIVE_COMPILED ||
                  native_info.result == WPS_NATIVE_REBUILT;
    json_object_set_new(stats, "tier", json_string(native ? "native" : "interpreter"));
    json_object_set_new(stats, "native", json_string(wps_native_result_name(native_info.result)));
    if (native_info.compile_ms > 0)
        json_object_set_new(stats, "native_compile_ms", json_real(native_info.compile_ms));
    json_t *http_stats = cli_http_stats(h, pl);
    if (http_stats)
        json_object_set_new(stats, "http", http_stats);
    if (w.capture) {
        json_object_set_new(result, "stdout", cli_json_bytes((const uint8_t *)w.cap[0], w.caplen[0]));
        json_object_set_new(result, "stderr", cli_json_bytes((const uint8_t *)w.cap[1], w.caplen[1]));
    }
    if (st != WASMPLUG_OK) {
        json_decref(result);
        if (o.stats && !G.json)
            print_stats(stats);
        json_decref(stats);
        rc = report_error(st, &err);
        goto out;
    }
    if (o.stats && !G.json)
        print_stats(stats);
    if (G.json) {
        json_object_set_new(result, "ok", json_true());
        json_object_set_new(result, "plugin", json_string(wasmplug_plugin_name(pl)));
        json_object_set_new(result, "function", json_string(func));
        if (o.stats)
            json_object_set_new(result, "stats", stats);
        else
            json_decref(stats);
        cli_json_print(result);
    } else {
        json_decref(stats);
        json_decref(result);
    }
    rc = EXIT_OK;
out:
    atomic_store(&running_plugin, NULL);
    cli_interrupt_stop();
    wasmplug_buf_free(&out);
    free(input);
    if (pl)
        wasmplug_plugin_release(pl);
    cli_detach_services();
    if (h)
        wasmplug_host_free(h);
    cli_http_free(http);
    wasi_free(&w);
    cli_plugin_free(&p);
    run_opts_free(&o);
    free((void *)extra);
    return rc;
}
