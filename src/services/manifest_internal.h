/*
 * manifest_internal.h - the manifest parser's walk (manifest.c), shared
 * with the files that read one section each (manifest_ui.c: `ui:`).
 *
 * A section reader gets the parse context and a YAML node; it records
 * every error with wpm_fail (file, line and column of the node, the form
 * expected) and goes on where it can, like manifest.c's own readers.
 * Readers return WASMPLUG_OK, WASMPLUG_ERR_MANIFEST (errors recorded) or
 * WASMPLUG_ERR_NOMEM (stop at once).
 */
#ifndef WPS_MANIFEST_INTERNAL_H
#define WPS_MANIFEST_INTERNAL_H

#include <wasmplug/manifest.h>

#include <yaml.h>

#include <stdbool.h>
#include <stddef.h>

typedef struct wpm_ctx {
    yaml_document_t ydoc;
    const char *file;
    wasmplug_manifest_diag *diag;
    wasmplug_manifest_doc *m;
    wasmplug_manifest_node_type *node; /* the node type being read (nodes:) */
    unsigned errors; /* found so far; the walk goes on after an error */
    wasmplug_manifest_subscription *sub; /* the subscription entry being read */
    wasmplug_manifest_ui_item *ui;       /* the ui entry being read (ui:) */
} wpm_ctx;

typedef wasmplug_status (*wpm_field_fn)(wpm_ctx *c, const char *key, const yaml_node_t *v);

/* A known key of a mapping and its reader; tables end with {NULL, NULL}. */
typedef struct wpm_field {
    const char *key;
    wpm_field_fn fn;
} wpm_field;

typedef bool (*wpm_item_check)(const char *s);

/* Record an error at node n (NULL: no position). Returns ERR_MANIFEST. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
wasmplug_status wpm_fail(wpm_ctx *c, const yaml_node_t *n, const char *fmt, ...);
/* Record "out of memory"; returns ERR_NOMEM. */
wasmplug_status wpm_nomem(wpm_ctx *c);
/* A scalar node's text. */
const char *wpm_sval(const yaml_node_t *n);
/* A plain scalar YAML reads as null ("", "~", "null"). */
bool wpm_is_null(const yaml_node_t *n);
/* "a mapping", "a list", "nothing (null)" or "a scalar", for messages. */
const char *wpm_kind_name(const yaml_node_t *n);
/* A string value (replacing *out). */
wasmplug_status wpm_get_string(wpm_ctx *c, const char *key, const yaml_node_t *n, char **out);
/* A list of strings (or one string when scalar_ok); check (may be NULL)
 * validates each item, described by form in messages. */
wasmplug_status wpm_get_strlist(wpm_ctx *c, const char *key, const yaml_node_t *n,
                                wasmplug_strlist *out, bool scalar_ok, wpm_item_check check,
                                const char *form);
/* A plain true/false (yes/no) scalar, without recording an error. */
bool wpm_plain_bool(const yaml_node_t *n, bool *out);
/* Walk mapping n: every key must be one of fields (unknown keys get a "did
 * you mean" hint), none repeated; each value goes to its field's reader. */
wasmplug_status wpm_walk_mapping(wpm_ctx *c, const char *what, const yaml_node_t *n,
                                 const wpm_field *fields);
/* A name of 1-127 characters of a-z A-Z 0-9 - _ . not starting with '.' or '-'. */
bool wpm_valid_id(const char *s);
/* A mapping of keys to type names (string, number, integer, boolean, list,
 * object, any), appended to *items; what names it in messages. */
wasmplug_status wpm_type_schema(wpm_ctx *c, const char *what, const yaml_node_t *n,
                                wasmplug_kv **items, size_t *count);

/* Append a copy of s to l. */
wasmplug_status wpm_strlist_add(wpm_ctx *c, wasmplug_strlist *l, const char *s);
/* A preopened directory (mode "ro", "rw" or NULL: read-only); at locates errors. */
wasmplug_status wpm_add_dir(wpm_ctx *c, const yaml_node_t *at, const char *host,
                            const char *guest, const char *mode);
/* An HTTP allow rule (<wasmplug/http.h> syntax). */
bool wpm_valid_http_rule(const char *s);

/* manifest_caps.c: permissions.capabilities (network, filesystem). */
wasmplug_status wpm_capabilities_section(wpm_ctx *c, const char *key, const yaml_node_t *n);

/* manifest_export.c: the text plugin_get_manifest() -> i64 answers, run
 * in a sandbox of its own (imports trap, small memory and fuel). *text is
 * malloc'd. ERR_NOT_FOUND when the module has no such export; other errors
 * with why. */
wasmplug_status wpm_manifest_from_export(const uint8_t *wasm, size_t size, char **text,
                                         size_t *text_len, char *why, size_t why_size);

/* manifest_ui.c: the `ui:` section, and freeing what it read. */
wasmplug_status wpm_ui_section(wpm_ctx *c, const char *key, const yaml_node_t *n);
void wpm_ui_items_free(wasmplug_manifest_ui_item *items, size_t count);

#endif
