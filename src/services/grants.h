/*
 * grants.h - what a plugin asks for and what the operator granted it
 * (services layer).
 *
 * A manifest's permissions become requests, each with the permission string
 * the host checks (the host policy's vocabulary, wasmplug_host_grant):
 *
 *     host_functions: [host.log]        -> "host.log"
 *     env: [LANG]                       -> "wasi.env:LANG"
 *     filesystem: ["data:/data:ro"]     -> "wasi.fs.read:/data"  ("wasi.fs.write:" for rw)
 *     events: {publish: [a.*]}          -> "events.publish:a.*"  (subscribe likewise)
 *     storage: true                     -> "kv"
 *     database: true                    -> "db"
 *     notify: true                      -> "notify"
 *     http: [api.example.org]           -> "http:api.example.org"
 *     ui: {panels: [...], ...}          -> "ui"  (and "ui.scripts" when an entry
 *                                                 has scripts: true)
 *
 * Some requests are wide and are highlighted to the operator: a directory
 * outside the plugin's own data (an absolute host path, or one that climbs
 * out with ".."), an environment-variable pattern (any variable: "*",
 * "AWS_*"), any host ("*" in an http pattern) and a host-function pattern
 * for a whole module or everything ("*", "env.*"), and scripts in UI frames.
 *
 * The operator's decision is recorded at install time in the file "grants"
 * in the plugin's version directory of the store
 * (plugins/<id>/<version>/grants): UTF-8 text, one granted permission per
 * line, lines starting with '#' and blank lines ignored, written atomically
 * (temporary file, fsync, rename). A plugin without the file was granted
 * nothing. `wasmplug run` of an installed plugin uses exactly these grants
 * (as the host policy), `wasmplug info` shows them.
 *
 * Nothing here prints or exits; failures return a status and a message.
 */
#ifndef WASMPLUG_SERVICES_GRANTS_H
#define WASMPLUG_SERVICES_GRANTS_H

#include <wasmplug/manifest.h>

#include <stdbool.h>
#include <stddef.h>

/** The file name of recorded grants in a plugin's store directory. */
#define WPS_GRANTS_FILE "grants"

typedef enum wps_request_kind {
    WPS_REQ_HOST_FUNCTION,
    WPS_REQ_ENV,
    WPS_REQ_FS_READ,
    WPS_REQ_FS_WRITE,
    WPS_REQ_EVENTS_PUBLISH,
    WPS_REQ_EVENTS_SUBSCRIBE,
    WPS_REQ_STORAGE,
    WPS_REQ_HTTP,
    WPS_REQ_DB,
    WPS_REQ_NOTIFY,
    WPS_REQ_UI,
    WPS_REQ_UI_SCRIPTS
} wps_request_kind;

/** One permission a manifest requests. Strings owned by the list. */
typedef struct wps_request {
    wps_request_kind kind;
    char *permission; /* what the host checks, e.g. "wasi.fs.read:/data" */
    char *what;       /* for people, e.g. "read directory ./data as /data" */
    const char *wide; /* why it is wide (static text), or NULL */
} wps_request;

typedef struct wps_requests {
    wps_request *items;
    size_t count;
} wps_requests;

/** The requests of a manifest, in manifest order. ERR_NOMEM only. */
wasmplug_status wps_requests_of(const wasmplug_manifest_doc *doc, wps_requests *out);
void wps_requests_free(wps_requests *r);
/** The name of a request kind ("host function", "environment", ...). */
const char *wps_request_kind_name(wps_request_kind kind);

/** A set of granted permissions (owned strings, insertion order). */
typedef struct wps_grants {
    char **items;
    size_t count;
} wps_grants;

/** Add a permission (no duplicates). ERR_ARGUMENT for an empty string or
 *  one holding a control character (it could not be recorded), ERR_NOMEM. */
wasmplug_status wps_grants_add(wps_grants *g, const char *permission);
/** True when the grants hold exactly this permission. */
bool wps_grants_has(const wps_grants *g, const char *permission);
void wps_grants_free(wps_grants *g);

/**
 * Read plugin_dir/grants into *out (empty first). ERR_NOT_FOUND when the
 * plugin has no recorded grants, ERR_IO when the file cannot be read,
 * ERR_MANIFEST when a line is not a permission (msg names FILE:LINE).
 */
wasmplug_status wps_grants_load(const char *plugin_dir, wps_grants *out, char *msg,
                                size_t msgsize);
/** The grants file's text (malloc'd; NULL when out of memory), for
 *  writers that place the file themselves (the distribution client writes
 *  it with the rest of an install, atomically). */
char *wps_grants_text(const wps_grants *g);
/** Write plugin_dir/grants atomically. ERR_IO with msg on failure. */
wasmplug_status wps_grants_save(const char *plugin_dir, const wps_grants *g, char *msg,
                                size_t msgsize);

#endif
