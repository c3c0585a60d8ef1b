/*
 * launch.h - what a plugin is loaded with (services layer): its manifest's
 * requests as the permissions the host policy grants and as a WASI
 * configuration (environment variables, preopened directories), narrowed
 * to what the operator granted when installing it (grants.h) and by deny
 * patterns, widened by what the operator adds for one run. `wasmplug run`,
 * `serve` and `worker` load plugins through it, so an installed plugin
 * gets the same things wherever it runs.
 *
 * The rules:
 *   - The manifest's permissions (host functions, services, events, ui),
 *     environment variables and directories: for an installed plugin
 *     (opts.recorded set) the ones recorded at install; run from a path,
 *     all of them (the operator runs it by hand).
 *   - Its http entries ("http:<entry>"): installed, the ones recorded; from
 *     a path, all of them when the operator allows HTTP (opts.http
 *     patterns given). A manifest without http entries requests the
 *     operator's patterns instead.
 *   - The operator's grants, environment variables and directories are
 *     added as given (opts.grants, .env, .dirs).
 *   - A deny pattern (opts.denies, wasmplug_glob) removes every permission
 *     it matches but the operator's explicit grants; a host-function or
 *     service request that is itself a pattern covering a denied name is
 *     removed too ("env.*" when "env.add" is denied).
 * Environment variables and directories not granted stay in the WASI
 * configuration: the host leaves them out at load and records the denial.
 *
 * Nothing here prints or exits.
 */
#ifndef WASMPLUG_SERVICES_LAUNCH_H
#define WASMPLUG_SERVICES_LAUNCH_H

#include "grants.h"

#include <wasmplug.h>
#include <wasmplug/manifest.h>

/** What the operator decided for this load. Every field may be empty. */
typedef struct wps_launch_opts {
    const wps_grants *recorded;  /* installed: the grants recorded at install;
                                    NULL: run from a path */
    const char *const *grants;   /* more permissions (run --grant) */
    size_t grant_count;
    const char *const *denies;   /* permission patterns denied (--deny) */
    size_t deny_count;
    const char *const *env;      /* more variables: NAME (inherited) or NAME=VALUE */
    size_t env_count;
    const wasmplug_wasi_preopen *dirs; /* more directories */
    size_t dir_count;
    const char *const *http;     /* the operator's HTTP patterns (run --allow-http) */
    size_t http_count;
} wps_launch_opts;

/** The result. perms and wasi point into the struct's own storage. */
typedef struct wps_launch {
    /* What the host policy grants this plugin, and what its manifest
     * request becomes (wasmplug_manifest.permissions). */
    const char **perms;
    size_t perm_count;
    /* WASI: env, env_inherit and preopens set; the rest as
     * wasmplug_wasi_config_init leaves it (output captured), for the caller
     * to change. */
    wasmplug_wasi_config wasi;
    /* storage */
    const char **env, **inherit;
    size_t nenv, ninherit;
    wasmplug_wasi_preopen *pre;
    size_t npre;
    char **owned; /* the permission strings made here */
    size_t nowned;
} wps_launch;

/** Fill *out (zeroed first; free with wps_launch_free even on failure).
 *  ERR_NOMEM only. doc may be NULL (a bare module: the operator's only). */
wasmplug_status wps_launch_make(const wasmplug_manifest_doc *doc, const wps_launch_opts *opts,
                                wps_launch *out);
void wps_launch_free(wps_launch *l);

/**
 * The "http:<entry>" permissions a plugin requests (the http rule of the
 * list above): *out a malloc'd array of malloc'd strings (free each, then
 * the array). recorded NULL: run from a path. ERR_NOMEM only.
 */
wasmplug_status wps_launch_http_requests(const wasmplug_manifest_doc *doc,
                                         const wps_grants *recorded, const char *const *http,
                                         size_t http_count, char ***out, size_t *n);

#endif
