/*
 * services_internal.h - how the services of libwasmplug_services plug into
 * services.c (<wasmplug/services.h>).
 *
 * Each service is one wps_module (kv.c, sql.c, notify.c, events.c, ...):
 * its name and WASMPLUG_SERVICE_* flag, the imports it adds to module
 * "wasmplug" (each with its grant), and an attach function that creates the
 * service's state and fills its host hooks (wasmplug_service_def: per-call
 * begin/end, per-plugin free, finalizer). A service's state starts with a
 * wps_base, which services.c fills once the host gave the service an id;
 * the state is the user pointer of its hooks and imports. To add a service,
 * define its wps_module and list it in MODULES in services.c.
 */
#ifndef WPS_SERVICES_INTERNAL_H
#define WPS_SERVICES_INTERNAL_H

#include <wasmplug/services.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first member of every service's state. */
typedef struct wps_base {
    wasmplug_services *svc;
    unsigned id; /* the host's service id (wasmplug_hostcall_call_state, ...) */
} wps_base;

typedef struct wps_import {
    const char *name;      /* import name in module "wasmplug" */
    const char *signature; /* as for wasmplug_host_register: "(pp)i" */
    const char *grant;     /* permission (or pattern) the plugin needs */
    wasmplug_typed_fn fn;
} wps_import;

typedef struct wps_module {
    const char *name;        /* the service's name ("kv") */
    uint32_t flag;           /* WASMPLUG_SERVICE_* */
    bool needs_data_dir;     /* not attached without cfg.data_dir */
    const wps_import *imports; /* terminated by {NULL} */
    /* Create the state (starting with a wps_base) as def->user and set the
     * hooks; def->finalizer must free the state. On failure write msg. */
    wasmplug_status (*attach)(wasmplug_services *svc, wasmplug_service_def *def, char *msg,
                              size_t msg_size);
} wps_module;

struct wasmplug_services {
    wasmplug_host *host;
    wasmplug_services_config cfg; /* data_dir points to data_dir below */
    char *data_dir;               /* owned copy, or NULL */
};

/* The built-in default of a policy value that is 0. */
#define WPS_DEFAULT(v, d) ((v) ? (v) : (d))

/* The directory of a plugin's data ("<data_dir>/<id or name>[@version]"),
 * created (with its parents) if missing; malloc'd. NULL with msg on failure. */
char *wps_plugin_dir(wasmplug_services *svc, wasmplug_plugin *plugin, char *msg,
                     size_t msg_size);
/* The name a plugin's data goes by: "<id>" or, with data_per_version,
 * "<id>@<version>" (the directory under data_dir, the Redis key part);
 * malloc'd, NULL for an id or version that cannot be a directory name. */
char *wps_data_name(wasmplug_services *svc, const char *id, const char *version);
/* The same for a loaded plugin (its manifest id, or its name without one). */
char *wps_plugin_data_name(wasmplug_services *svc, wasmplug_plugin *plugin);
/* A manifest setting as a number, or 0 if absent or not a number. */
uint64_t wps_setting_u64(wasmplug_plugin *plugin, const char *key);
/* min(requested (0 = default_value), policy). */
uint64_t wps_effective(uint64_t requested, uint64_t default_value, uint64_t policy);
/* Whether data[0..len) is valid UTF-8. */
bool wps_utf8_valid(const uint8_t *data, size_t len);

/* The services (each file's module). */
extern const wps_module wps_notify_module;
extern const wps_module wps_kv_module;
extern const wps_module wps_sql_module;
extern const wps_module wps_events_module; /* events_plugin.c */

/* workflow_validate.c: whether JSON value v has the type of a manifest
 * schema (node configs, UI props): string, number, integer, boolean, list,
 * object or any. */
struct json_t;
bool wps_schema_match(const char *type, const struct json_t *v);

/* manifest.c: Levenshtein distance of two short strings (99 when either is
 * longer than 40 bytes), for "did you mean" hints. */
size_t wps_edit_distance(const char *a, const char *b);

#endif
