/*
 * dist_internal.h - shared helpers of the distribution client (trust.c,
 * permissions.c, registry.c, dist.c): messages, atomic file writes,
 * store paths, verified registry indexes.
 */
#ifndef WASMPLUG_SERVICES_DIST_INTERNAL_H
#define WASMPLUG_SERVICES_DIST_INTERNAL_H

#include <wasmplug/package.h>
#include <wasmplug/registry.h>

#include <jansson.h>

#include <stdio.h>

#define WPD_REGISTRIES_FILE "registries.json"
#define WPD_TRUST_DIR "trusted"
#define WPD_INDEX_SIG WASMPLUG_INDEX_FILE ".minisig"
#define WPD_SIG_EXT ".minisig"
#define WPD_INDEX_FORMAT 1
#define WPD_INDEX_MAX (64ULL << 20)

/* Format msg (when msg/msgsize) and return st. */
wasmplug_status wpd_fail(wasmplug_status st, char *msg, size_t msgsize, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* a "/" b, malloc'd. */
char *wpd_join(const char *a, const char *b);
/* Write data to path through a temporary file, fsync and rename. 0 or errno. */
int wpd_write_atomic(const char *path, const void *data, size_t len);
/* Dump JSON (indented, sorted keys) atomically. */
wasmplug_status wpd_write_json(const char *path, json_t *v, char *msg, size_t msgsize);
/* Load a JSON file; *out NULL (and OK) when it does not exist. */
wasmplug_status wpd_read_json(const char *path, json_t **out, char *msg, size_t msgsize);

/* The trusted keys as a flat array (for wasmplug_verify). */
wasmplug_status wpd_trusted_pubkeys(const char *store, wasmplug_pubkey **keys, size_t *count,
                                    char *msg, size_t msgsize);

/* Record that registry name accepted index version v (only ever raises it). */
wasmplug_status wpd_registry_seen(const char *store, const char *name, uint64_t v, char *msg,
                                  size_t msgsize);

/* A registry's verified index (json owned). */
typedef struct wpd_index {
    wasmplug_registry reg;   /* copy (strings owned) */
    json_t *json;
    json_t *plugins;         /* borrowed from json: {"id": {...}} */
} wpd_index;

/* Fetch, verify and check one registry's index (rollback and freeze
 * protection; raises the registry's seen version). */
wasmplug_status wpd_index_load(const wasmplug_dist_options *o, const wasmplug_registry *reg,
                               const wasmplug_pubkey *keys, size_t nkeys, wpd_index *out,
                               char *msg, size_t msgsize);
void wpd_index_clear(wpd_index *ix);

/* The newest version of plugin id (a JSON object of the index) allowed by
 * range (NULL: any). NULL if none. */
const char *wpd_newest(json_t *plugin, const char *range);

/* Transfer options from the client options. */
struct wps_fetch_opts;
void wpd_fetch_opts(const wasmplug_dist_options *o, const char *what, uint64_t max,
                    struct wps_fetch_opts *f);

#endif
