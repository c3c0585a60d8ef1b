/*
 * run_opts.h - the flags shared by `run` and `exec`: grants (environment,
 * directories, host functions), limits, config values and --stats.
 */
#ifndef WASMPLUG_CLI_RUN_OPTS_H
#define WASMPLUG_CLI_RUN_OPTS_H

#include "cli.h"

enum {
    R_ALLOW_ENV = 1, R_DIR, R_TIMEOUT, R_FUEL, R_MAX_MEMORY, R_MAX_DEPTH, R_STATS,
    R_CONFIG, R_GRANT, R_DENY, R_INPUT_FILE, R_MANIFEST, R_NO_CACHE, R_CACHE_DIR, R_TIER,
    R_MAX_INPUT, R_MAX_OUTPUT, R_ALLOW_HTTP, R_ALLOW_HTTP_ADDR, R_HTTP_CA
};

typedef struct run_dir {
    char *host;        /* owned; guest may point into it */
    const char *guest;
    bool readonly;
} run_dir;

typedef struct run_opts {
    const char **env;  /* --allow-env NAME or NAME=VALUE */
    size_t env_count;
    run_dir *dirs;
    size_t dir_count;
    wasmplug_plugin_limits limits; /* 0 = inherit */
    bool stats;
    wasmplug_kv *config;           /* keys owned */
    size_t config_count;
    const char **grants;
    size_t grant_count;
    const char **denies;
    size_t deny_count;
    const char *input_file;
    const char *manifest;
    bool no_cache;                 /* run: --no-cache (compiled-module cache off) */
    const char *cache_dir;         /* run: --cache-dir DIR */
    int tier;                      /* run: --tier: 0 auto (native code from the cache),
                                      1 native (compile when missing), 2 interpreter */
    const char **http;             /* run, info: --allow-http PATTERN */
    size_t http_count;
    const char **http_addrs;       /* run: --allow-http-address HOST=CIDR */
    size_t http_addr_count;
    const char *http_ca;           /* run: --http-ca FILE */
} run_opts;

extern const cli_opt RUN_COMMON_OPTS[];
/* The options serve and worker share with run, for the plugins they load
 * from the store: --deny (whatever was recorded at install) and the HTTP
 * policy (--allow-http, --allow-http-address, --http-ca). Their ids are
 * CLI_LAUNCH_OPT + R_*: run_opts_apply(o, id - CLI_LAUNCH_OPT, arg). */
#define CLI_LAUNCH_OPT 1000
#define CLI_LAUNCH_OPTS                                                     \
    {"deny", 0, true, CLI_LAUNCH_OPT + R_DENY},                             \
        {"allow-http", 0, true, CLI_LAUNCH_OPT + R_ALLOW_HTTP},             \
        {"allow-http-address", 0, true, CLI_LAUNCH_OPT + R_ALLOW_HTTP_ADDR}, \
        {"http-ca", 0, true, CLI_LAUNCH_OPT + R_HTTP_CA}
bool run_opts_apply(run_opts *o, int id, const char *arg);
void run_opts_free(run_opts *o);
/* fn(argc, argv, o) with o zeroed first and freed after (serve, worker). */
int run_opts_scoped(int (*fn)(int, char **, run_opts *), int argc, char **argv);
bool cli_glob(const char *pat, const char *s);
/* The CLI's host functions (module "host"): log, add, time_ms. */
wasmplug_status cli_register_host_functions(wasmplug_host *h);
bool cli_provides(const char *module, const char *name);

/* ---- outbound HTTP (cli_http.c) ---- */
struct wps_grants;
typedef struct cli_http cli_http;
/* Whether the run needs HTTP: --allow-http, or recorded http grants. */
bool cli_http_needed(const run_opts *o, const struct wps_grants *recorded);
/* In the static command: continue in wasmplug-dist (returns only on
 * failure, with an exit code); -1 where this command has HTTP itself. */
int cli_http_continue(void);
#ifdef WASMPLUG_CLI_DIST
struct wasmplug_http_policy;
/* The HTTP policy of --allow-http, --allow-http-address and --http-ca (an
 * exit code after printing why; *out, set even then, freed by the caller
 * with wasmplug_http_policy_free). With no --allow-http the policy has no
 * rules: the grants alone decide. */
int cli_http_policy(const run_opts *o, struct wasmplug_http_policy **out);
#endif
/* Attach the HTTP service (a stub in the static command) from the flags. */
int cli_http_attach(wasmplug_host *h, const run_opts *o, cli_http **out);
void cli_http_free(cli_http *c);
/* The plugin's HTTP metrics for --stats, or NULL if it made no request. */
json_t *cli_http_stats(wasmplug_host *h, wasmplug_plugin *p);
/* info --allow-http: the manifest's entries the patterns grant. */
json_t *cli_http_grants(const wasmplug_manifest_doc *doc, const run_opts *o);

#endif
