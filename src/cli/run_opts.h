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
    char **http_perms;             /* run: the "http:<entry>" requests (owned) */
    size_t http_perm_count;
} run_opts;

extern const cli_opt RUN_COMMON_OPTS[];
bool run_opts_apply(run_opts *o, int id, const char *arg);
void run_opts_free(run_opts *o);
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
/* The "http:<entry>" permissions to request (owned strings, *out freed
 * with its items); false for lack of memory. */
bool cli_http_requests(const wasmplug_manifest_doc *doc, const run_opts *o,
                       const struct wps_grants *recorded, char ***out, size_t *n);
/* Attach the HTTP service (a stub in the static command) from the flags. */
int cli_http_attach(wasmplug_host *h, const run_opts *o, cli_http **out);
void cli_http_free(cli_http *c);
/* The plugin's HTTP metrics for --stats, or NULL if it made no request. */
json_t *cli_http_stats(wasmplug_host *h, wasmplug_plugin *p);
/* info --allow-http: the manifest's entries the patterns grant. */
json_t *cli_http_grants(const wasmplug_manifest_doc *doc, const run_opts *o);

#endif
