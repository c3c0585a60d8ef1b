/*
 * wasmplug/ui.h - UI contributed by plugins (services layer,
 * libwasmplug_services).
 *
 * A plugin declares in its manifest's `ui:` section (<wasmplug/manifest.h>)
 * what it adds to a host's user interface:
 *
 *   panels    views of the plugin. The host calls the panel's render export
 *             with a JSON object of the data the panel asked for and shows
 *             the HTML it returns.
 *   blocks    block types (as in an editor's block registry). The host
 *             calls render with the block's props (a JSON object checked
 *             against the declared prop types) and shows the HTML.
 *   commands  actions a UI offers. The host calls the handler export with
 *             the command's input and gets its output.
 *
 * Renders and handlers are ordinary bytes calls (wasmplug_plugin_call) on
 * the plugin's instances, with its limits.
 *
 *     wasmplug_ui_registry *ui;
 *     wasmplug_ui_registry_new(host, NULL, &ui);
 *     wasmplug_host_grant(host, "*", "ui");           // host policy
 *     ... load a plugin with its manifest (wasmplug_manifest_to_host) ...
 *     wasmplug_ui_register(ui, "notes", doc, msg, sizeof msg);
 *     wasmplug_ui_contribution *list; size_t n;
 *     wasmplug_ui_list(ui, NULL, &list, &n);          // what there is
 *     wasmplug_buf html = {0};
 *     wasmplug_ui_render(ui, "notes", WASMPLUG_UI_PANEL, "overview", NULL, 0,
 *                        &html, &err);                // HTML bytes (UTF-8)
 *
 * Grants
 * ------
 * Contributions need the grant "ui" (requested by any `ui:` entry, allowed
 * by the host policy, like every other permission): a plugin without it
 * registers nothing. A panel or block type asking for `scripts: true` gets
 * scripts only with the grant "ui.scripts" as well; without it, it is
 * registered with scripts off.
 *
 * Showing plugin HTML safely
 * --------------------------
 * The HTML is the plugin's: untrusted. Show it where it cannot reach the
 * page around it or other plugins: an iframe with the `sandbox` attribute
 * (without allow-scripts unless the contribution's `scripts` is true, never
 * with allow-same-origin) and a strict Content-Security-Policy (no network:
 * default-src 'none'). `wasmplug serve`'s dashboard does this.
 *
 * Limits
 * ------
 * A render's HTML is at most max_html_bytes and must be UTF-8
 * (WASMPLUG_ERR_OUTPUT_TOO_LARGE, WASMPLUG_ERR_SERIALIZATION); a command's
 * output at most max_output_bytes; the input given to either at most
 * max_input_bytes (WASMPLUG_ERR_INPUT_TOO_LARGE). The call itself runs
 * within the plugin's own limits (fuel, timeout, memory).
 *
 * Threads and ownership
 * ---------------------
 * Every function may be called from any thread; calls into plugins run
 * with no registry lock held, so renders of different plugins (and of one
 * plugin with a pool) run in parallel. The registry does not own the host
 * and must be freed before it. Errors fill a wasmplug_plugin_error (may be
 * NULL) naming the plugin, the export and what failed; the library never
 * prints.
 */
#ifndef WASMPLUG_UI_H
#define WASMPLUG_UI_H

#include <wasmplug.h>
#include <wasmplug/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wasmplug_ui_registry wasmplug_ui_registry;

/** Registry limits; 0 fields take the defaults given. */
typedef struct wasmplug_ui_config {
    uint32_t max_html_bytes;   /* one render's HTML; default 256 KiB */
    uint32_t max_output_bytes; /* one command's output; default 1 MiB */
    uint32_t max_input_bytes;  /* the input of a render or command; default 64 KiB */
} wasmplug_ui_config;

/** A registered contribution (a copy: see wasmplug_ui_list). */
typedef struct wasmplug_ui_contribution {
    wasmplug_ui_kind kind;
    const char *plugin;      /* the plugin's name in the host */
    const char *id;
    const char *title;
    const char *description; /* NULL if none */
    const char *export_name; /* render or handler */
    const char *const *data; /* panels: "info", "metrics", "errors" */
    size_t data_count;
    const wasmplug_kv *props; /* blocks, commands: key -> type */
    size_t prop_count;
    bool scripts;            /* asked for and granted "ui.scripts" */
} wasmplug_ui_contribution;

/** "panel", "block" or "command". Never NULL. */
WASMPLUG_API const char *wasmplug_ui_kind_string(wasmplug_ui_kind kind);
/** Parse "panel", "block" or "command" (false for anything else). */
WASMPLUG_API bool wasmplug_ui_kind_parse(const char *s, wasmplug_ui_kind *out);

/** A registry for the plugins of host. cfg may be NULL (defaults).
 *  ERR_ARGUMENT, ERR_NOMEM. */
WASMPLUG_API wasmplug_status wasmplug_ui_registry_new(wasmplug_host *host,
                                                      const wasmplug_ui_config *cfg,
                                                      wasmplug_ui_registry **out);
/** Free the registry (not the host). NULL is fine. */
WASMPLUG_API void wasmplug_ui_registry_free(wasmplug_ui_registry *reg);

/**
 * Register the contributions doc declares for the plugin called plugin in
 * the host, replacing what that plugin had registered (call it again after
 * a reload). Checks: the plugin is loaded (ERR_NOT_FOUND), it holds the
 * grant "ui" when it contributes anything (ERR_PERMISSION_DENIED: nothing
 * is registered and its previous contributions are removed), every render
 * and handler is an exported function (ERR_NOT_FOUND naming it). A doc
 * without `ui:` just removes the plugin's contributions. msg (may be NULL)
 * says why a registration failed. ERR_NOMEM.
 */
WASMPLUG_API wasmplug_status wasmplug_ui_register(wasmplug_ui_registry *reg, const char *plugin,
                                                  const wasmplug_manifest_doc *doc, char *msg,
                                                  size_t msg_size);
/** Remove a plugin's contributions (after killing it); returns how many. */
WASMPLUG_API size_t wasmplug_ui_unregister(wasmplug_ui_registry *reg, const char *plugin);

/**
 * The registered contributions of plugin (NULL: of every plugin), in
 * registration order: *items gets *count entries in one block (strings
 * included) freed with wasmplug_free. ERR_NOMEM.
 */
WASMPLUG_API wasmplug_status wasmplug_ui_list(wasmplug_ui_registry *reg, const char *plugin,
                                              wasmplug_ui_contribution **items, size_t *count);

/**
 * The input a panel's render gets from the host: a JSON object with
 * "panel" (its id), "plugin" (the name) and the data it declared:
 * "info" {name, id, version, state, abi}, "metrics" {calls, errors, traps,
 * mean_us, max_us, fuel_used, memory_bytes, bytes_in, bytes_out},
 * "errors" [{code, function, message, time_ms}] (the last 10). *json freed
 * with wasmplug_buf_free. ERR_NOT_FOUND (no such plugin or panel), ERR_NOMEM.
 */
WASMPLUG_API wasmplug_status wasmplug_ui_panel_input(wasmplug_ui_registry *reg,
                                                     const char *plugin, const char *id,
                                                     wasmplug_buf *json,
                                                     wasmplug_plugin_error *err);

/**
 * Render a panel or block type to HTML (UTF-8 bytes in *html, freed with
 * wasmplug_buf_free; empty on failure).
 *
 * Panels: in NULL gives the render wasmplug_ui_panel_input's JSON; other
 * input is passed as it is. Blocks: in is the block's props, a JSON object
 * (NULL: {}); each declared prop present must have its type
 * (ERR_ARGUMENT names the prop; undeclared props are refused too).
 * The render gets {"block": id, "props": {...}} for blocks.
 *
 * ERR_NOT_FOUND (no such plugin or contribution; kind must be PANEL or
 * BLOCK: ERR_ARGUMENT), ERR_INPUT_TOO_LARGE, ERR_OUTPUT_TOO_LARGE (over
 * max_html_bytes), ERR_SERIALIZATION (not UTF-8), and any error of
 * wasmplug_plugin_call.
 */
WASMPLUG_API wasmplug_status wasmplug_ui_render(wasmplug_ui_registry *reg, const char *plugin,
                                                wasmplug_ui_kind kind, const char *id,
                                                const uint8_t *in, size_t in_len,
                                                wasmplug_buf *html, wasmplug_plugin_error *err);

/**
 * Run a command: the handler gets in (with declared props, a JSON object
 * checked like a block's props; NULL: {}) and its output comes back in
 * *out (at most max_output_bytes). Errors as wasmplug_ui_render.
 */
WASMPLUG_API wasmplug_status wasmplug_ui_command(wasmplug_ui_registry *reg, const char *plugin,
                                                 const char *id, const uint8_t *in,
                                                 size_t in_len, wasmplug_buf *out,
                                                 wasmplug_plugin_error *err);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_UI_H */
