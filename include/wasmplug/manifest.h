/*
 * wasmplug/manifest.h - plugin.yaml manifests (services layer,
 * libwasmplug_services, which needs libyaml).
 *
 * A manifest describes one plugin: identity (id, name, semver version,
 * description, authors, license), where its module is, the ABI it follows,
 * the exports it offers, default config values, the permissions it requests
 * (host functions, WASI environment variables and directories, and the host
 * services: events, key-value storage, HTTP hosts) and its resource limits.
 *
 *     id: word-counter
 *     name: Word Counter
 *     version: 1.2.0
 *     description: Counts words
 *     authors: [Ada <ada@example.org>]
 *     license: MIT
 *     module: word_counter.wasm
 *     abi: v1                     # v1 | compat | wasm-bindgen | command | none
 *     exports: [count]
 *     config: {min_length: 3}
 *     dependencies: {text-utils: ^1.2}   # plugin id: version range (wasmplug.h)
 *     permissions:
 *       host_functions: [host.log]
 *       env: [LANG]
 *       filesystem: [{host: ./data, guest: /data, mode: ro}]  # or "./data:/data:ro"
 *                                 # ("dirs" is accepted as another name)
 *       events: {publish: [words.*], subscribe: [text.*]}   # or one list for both
 *                                 # subscribe entries may carry options:
 *                                 # {topic: text.*, batch: {max: 50, window_ms: 100}}
 *       storage: {quota: 1MiB, keys: 10000}             # or true (grant "kv")
 *       database: {max_size: 8MiB}                      # or true (grant "db")
 *       notify: true                                    # (grant "notify")
 *       http: [api.example.org]  # URL patterns (wasmplug/http.h), or {allow: [...]}
 *       resources: {...}          # the same as the top-level resources below
 *       capabilities:             # coarse capabilities, turned into requests:
 *         network: false          # true: http "*" (a wide request); or [hosts]
 *         filesystem: read-only   # the current directory as "/" (read-only;
 *                                 # read-write: writable; none/false: nothing)
 *                                 # host_functions may also list bare function
 *                                 # names: get_file_content means
 *                                 # "*.get_file_content" (any module)
 *     nodes:                      # workflow node types (wasmplug/workflow.h)
 *       - name: count-words
 *         description: Counts the words of the state's text
 *         exec: count             # exports; default <name>_prep, <name>_exec,
 *         prep: count_prep        # <name>_post with '-' as '_' (prep and
 *         post: count_post        # post optional: built in when missing)
 *         config: {min_word_length: integer, lang: string}
 *                                 # string|number|integer|boolean|list|object|any
 *         input: an object with a string "text"
 *         output: the word counts
 *         actions: [default, empty]   # what post may return (default [default])
 *     ui:                         # UI contributions (wasmplug/ui.h; grant "ui")
 *       panels:                   # views of the plugin, rendered to HTML
 *         - id: overview          # unique per kind; 1-127 of a-z A-Z 0-9 - _ .
 *           title: Word counts
 *           render: render_overview   # export; default render_<id> ('-' as '_')
 *           data: [info, metrics, errors] # what the host passes to render
 *           scripts: false        # true: scripts may run in its frame (grant "ui.scripts")
 *       blocks:                   # block types: render the props they are given
 *         - {id: word-badge, title: Word badge, render: render_badge,
 *            props: {text: string, max: integer}}
 *       commands:                 # actions a UI offers; handler runs one
 *         - {id: reset, title: Reset counts, handler: reset}  # default <id> ('-' as '_')
 *     resources:
 *       max_memory: 16MiB         # bytes with an optional KiB/MiB/GiB suffix
 *       timeout: 500ms            # ms, s or m (also called max_execution_time)
 *       fuel: 100000000
 *       max_call_depth: 1000
 *       max_input: 1MiB
 *       max_output: 1MiB
 *
 * Parse errors name the file, line and column (1-based) and the expected
 * form: "plugin.yaml:3:10: 'version' must be a semantic version such as
 * 1.2.3 (got '1.2')". Unknown keys are errors too. Every error is reported
 * (up to a limit), not only the first. A manifest is one YAML document of
 * UTF-8 text indented with spaces: a second document, bytes that are not
 * UTF-8 and tabs in the indentation are errors that say so, with their
 * line and column.
 *
 * A module may carry its manifest in a custom section named
 * "wasmplug.manifest" holding the same YAML text.
 */
#ifndef WASMPLUG_MANIFEST_H
#define WASMPLUG_MANIFEST_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The custom section that embeds a manifest in a module. */
#define WASMPLUG_MANIFEST_SECTION "wasmplug.manifest"
/** The manifest's file name in a plugin directory. */
#define WASMPLUG_MANIFEST_FILE "plugin.yaml"
/** The module path when the manifest names none. */
#define WASMPLUG_MANIFEST_DEFAULT_MODULE "plugin.wasm"

/** The most errors one parse reports (it stops looking after that many). */
#define WASMPLUG_MANIFEST_MAX_ERRORS 20

/**
 * Why a parse failed. line/column are 1-based; 0 when not known. The first
 * error is in line/column/message. A manifest is checked to the end (up to
 * WASMPLUG_MANIFEST_MAX_ERRORS errors, at most one per key), so error_count
 * may be larger than 1: the other errors are in `more`, one per line as
 * "LINE:COLUMN: message", as many as fit.
 */
typedef struct wasmplug_manifest_diag {
    char file[256];
    unsigned line;
    unsigned column;
    char message[512];
    unsigned error_count;  /* errors found, the first included */
    char more[2048];       /* the errors after the first, "L:C: message" lines */
} wasmplug_manifest_diag;

/** A directory the plugin asks to see through WASI. */
typedef struct wasmplug_manifest_dir {
    char *host;      /* host path (relative paths: to the current directory at run time) */
    char *guest;     /* path the plugin sees */
    bool readonly;
} wasmplug_manifest_dir;

/**
 * One entry of permissions.events.subscribe: a topic pattern alone, or a
 * mapping with the subscription's options (0 = the bus default):
 *
 *     subscribe:
 *       - content.created
 *       - topic: index.*
 *         handler: on_index          # export; default on_event / plugin_handle_event
 *         batch: {max: 50, window_ms: 100}
 *         queue: 1000
 *         on_full: block             # drop_oldest (default) | reject | block
 *         block_timeout_ms: 1000
 *         retries: 3
 *         retry_backoff_ms: 100
 */
typedef struct wasmplug_manifest_subscription {
    char *topic;               /* the pattern (also listed in events_subscribe) */
    char *handler;             /* NULL: the default handler */
    char *group;               /* subscriber group for bridged topics
                                  (<wasmplug/events_bridge.h>); NULL: the plugin's name */
    uint32_t queue;
    int on_full;               /* a wasmplug_bus_full_policy (<wasmplug/events.h>) */
    uint32_t block_timeout_ms;
    uint32_t batch_max;
    uint32_t batch_window_ms;
    uint32_t retries;
    uint32_t retry_backoff_ms;
} wasmplug_manifest_subscription;

/** A list of owned strings. */
typedef struct wasmplug_strlist {
    char **items;
    size_t count;
} wasmplug_strlist;

/** A workflow node type a plugin declares (manifest `nodes:`). */
typedef struct wasmplug_manifest_node_type {
    char *name;             /* required, unique in the manifest */
    char *description;
    char *input;            /* what exec takes, in words */
    char *output;           /* what it produces, in words */
    char *prep, *exec, *post; /* export names (NULL: the defaults above) */
    wasmplug_kv *config_schema; /* key -> type name; keys and values owned */
    size_t config_schema_count;
    wasmplug_strlist actions; /* actions post may return (empty: "default") */
} wasmplug_manifest_node_type;

/** The kinds of UI contribution (manifest `ui:`, <wasmplug/ui.h>). */
typedef enum wasmplug_ui_kind {
    WASMPLUG_UI_PANEL = 0, /* a view of the plugin: render() -> HTML */
    WASMPLUG_UI_BLOCK,     /* a block type: render(props) -> HTML */
    WASMPLUG_UI_COMMAND    /* an action: handler(input) -> output */
} wasmplug_ui_kind;

/** Panel data a host can pass to a render (the values of `data:`). */
#define WASMPLUG_UI_DATA_NAMES "info, metrics, errors"

/** One entry of the manifest's `ui:` section. Strings owned by the doc. */
typedef struct wasmplug_manifest_ui_item {
    wasmplug_ui_kind kind;
    char *id;            /* required, unique per kind in the manifest */
    char *title;         /* required */
    char *description;
    char *export_name;   /* render (panels, blocks) or handler (commands); the
                            default filled in: render_<id> / <id>, '-' as '_' */
    wasmplug_strlist data; /* panels: "info", "metrics", "errors" */
    wasmplug_kv *props;  /* blocks, commands: input key -> type name (as
                            node config: string|number|integer|boolean|list|object|any) */
    size_t prop_count;
    bool scripts;        /* panels, blocks: asks that scripts run in its frame */
} wasmplug_manifest_ui_item;

/** A parsed manifest. Every string is owned (freed by wasmplug_manifest_doc_free). */
typedef struct wasmplug_manifest_doc {
    char *path;              /* file it was read from, or "<module>" / "<string>" */
    char *dir;               /* directory of that file ("." if none): base of `module` */
    char *id;                /* required */
    char *name;
    char *version;           /* required, semver */
    char *description;
    char *license;
    char *module;            /* relative path; WASMPLUG_MANIFEST_DEFAULT_MODULE if absent */
    wasmplug_abi abi;        /* WASMPLUG_ABI_NONE if absent */
    bool abi_given;
    wasmplug_strlist authors;
    wasmplug_strlist exports;
    wasmplug_kv *config;     /* keys and values owned (cast away const to free) */
    size_t config_count;
    /* permissions */
    wasmplug_strlist host_functions;  /* "module.name" patterns */
    wasmplug_strlist env;             /* environment variable names (WASI) */
    wasmplug_manifest_dir *dirs;      /* preopened directories (WASI) */
    size_t dir_count;
    wasmplug_strlist events_publish;
    wasmplug_strlist events_subscribe;
    wasmplug_manifest_subscription *subscriptions; /* with options, in order */
    size_t subscription_count;
    bool storage;                     /* key-value storage requested (grant "kv") */
    uint64_t storage_quota;           /* bytes; 0 = host default */
    uint64_t storage_keys;            /* keys; 0 = host default */
    bool database;                    /* an SQL database requested (grant "db") */
    uint64_t database_max_size;       /* bytes; 0 = host default */
    bool notify;                      /* notifications requested (grant "notify") */
    wasmplug_strlist http_hosts;
    /* resources (0 = inherit) */
    wasmplug_plugin_limits resources;
    /* metadata handed to the host: license, authors, abi, module (owned) */
    wasmplug_kv *metadata;
    size_t metadata_count;
    /* Every permission requested, as the host checks them (wasmplug_host_grant):
     * host functions, "kv", "db", "notify", "events.publish:<pattern>",
     * "events.subscribe:<pattern>", "http:<host>", "ui", "ui.scripts". WASI permissions
     * (wasi.env:, wasi.fs.*:) come from the WASI configuration instead. */
    wasmplug_strlist permissions;
    /* Service settings (wasmplug_manifest.settings): "kv.max_bytes",
     * "kv.max_keys", "db.max_bytes" (decimal numbers), when given. */
    wasmplug_kv *settings;
    size_t setting_count;
    /* Workflow node types (manifest `nodes:`). */
    wasmplug_manifest_node_type *node_types;
    size_t node_type_count;
    /* UI contributions (manifest `ui:`), in manifest order.
     * Any entry adds the permission "ui"; one with scripts "ui.scripts". */
    wasmplug_manifest_ui_item *ui_items;
    size_t ui_item_count;
    /* Plugins this one needs: key = plugin id, value = version range ("" =
     * any); see Dependencies in <wasmplug.h>. Keys and values owned. */
    wasmplug_kv *dependencies;
    size_t dependency_count;
} wasmplug_manifest_doc;

/** Parse YAML text. filename is used in messages (may be NULL). */
WASMPLUG_API wasmplug_status wasmplug_manifest_parse(const char *text, size_t len,
                                                     const char *filename,
                                                     wasmplug_manifest_doc **out,
                                                     wasmplug_manifest_diag *diag);
/** Read and parse a plugin.yaml file (ERR_NOT_FOUND if it does not exist,
 *  ERR_IO if it cannot be read). */
WASMPLUG_API wasmplug_status wasmplug_manifest_load(const char *path,
                                                    wasmplug_manifest_doc **out,
                                                    wasmplug_manifest_diag *diag);
/**
 * Parse the manifest embedded in a module: its custom section
 * WASMPLUG_MANIFEST_SECTION, else the text its plugin_get_manifest() -> i64
 * export answers (the compatibility ABI: address << 32 | length), YAML or
 * JSON. For the export the module is instantiated on its own: every
 * imported function traps, memory is at most 64 MiB and the call has a
 * fuel budget, so nothing it is or isn't granted matters. ERR_NOT_FOUND
 * when the module has neither; ERR_MANIFEST when plugin_get_manifest fails
 * (diag says how) or its text is not a valid manifest.
 */
WASMPLUG_API wasmplug_status wasmplug_manifest_from_module(const uint8_t *wasm, size_t size,
                                                           const char *filename,
                                                           wasmplug_manifest_doc **out,
                                                           wasmplug_manifest_diag *diag);
WASMPLUG_API void wasmplug_manifest_doc_free(wasmplug_manifest_doc *doc);

/**
 * The host API's view of a manifest (for wasmplug_load_options.manifest):
 * id, version, name, description, exports, config, resources, the
 * permissions (doc->permissions: host functions and services), the service
 * settings, and metadata (license, authors, abi, module).
 * Pointers refer into doc, which must outlive the load.
 */
WASMPLUG_API wasmplug_status wasmplug_manifest_to_host(const wasmplug_manifest_doc *doc,
                                                       wasmplug_manifest *out);

/** The module's path: doc->dir joined with doc->module (malloc'd, free()). */
WASMPLUG_API char *wasmplug_manifest_module_path(const wasmplug_manifest_doc *doc);

/** "v1", "compat", "wasm-bindgen", "command" or "none" (what a manifest's
 *  abi: accepts). */
WASMPLUG_API const char *wasmplug_abi_string(wasmplug_abi abi);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_MANIFEST_H */
