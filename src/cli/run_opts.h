/*
 * run_opts.h - the flags shared by `run` and `exec`: grants (environment,
 * directories, host functions), limits, config values and --stats.
 */
#ifndef WASMPLUG_CLI_RUN_OPTS_H
#define WASMPLUG_CLI_RUN_OPTS_H

#include "cli.h"

enum {
    R_ALLOW_ENV = 1, R_DIR, R_TIMEOUT, R_FUEL, R_MAX_MEMORY, R_MAX_DEPTH, R_STATS,
    R_CONFIG, R_GRANT, R_DENY, R_INPUT_FILE, R_MANIFEST, R_NO_CACHE, R_CACHE_DIR,
    R_MAX_INPUT, R_MAX_OUTPUT
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
} run_opts;

extern const cli_opt RUN_COMMON_OPTS[];
bool run_opts_apply(run_opts *o, int id, const char *arg);
void run_opts_free(run_opts *o);
bool cli_glob(const char *pat, const char *s);
/* The CLI's host functions (module "host"): log, add, time_ms. */
wasmplug_status cli_register_host_functions(wasmplug_host *h);
bool cli_provides(const char *module, const char *name);

#endif
