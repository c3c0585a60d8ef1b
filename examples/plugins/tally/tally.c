/*
 * tally.c - the tally example plugin (C, wasmplug C PDK): a running total
 * that contributes UI (plugin.yaml `ui:`): a dashboard panel with the
 * total, the plugin's metrics and recent errors, a clock panel that needs
 * scripts, a "badge" block type and a "reset" command.
 *
 * The total is kept in the plugin's key-value storage (grant kv).
 * Exports:
 *   add     input a number: adds it to the total, outputs the new total
 *   split   input a number n: outputs total / n, an integer division, so
 *           n = 0 traps (integer divide by zero) with a wasm backtrace
 *   total   outputs the total
 *   render_overview, render_clock, render_badge   HTML for the host's UI
 *   reset   sets the total to 0
 * Renders escape every text they did not write themselves.
 */
#include "wasmplug_pdk.h"

/* The total lives in the plugin's key-value storage (grant kv), so every
 * instance of a pool and every version of the plugin sees the same one. */
static long long stored_total(void)
{
    long long n = 0;
    const char *v = wp_kv_get_str("total");
    if (v)
        wp_parse_int(v, &n);
    return n;
}

static long long input_number(void)
{
    long long n = 0;
    wp_parse_int(wp_input_string(), &n);
    return n;
}

static int output_number(long long n)
{
    wp_buf b = {0};
    wp_buf_int(&b, n);
    return wp_output_buf(&b);
}

/* Compare-and-set, so adds running at once on several instances all count. */
WP_FN(add)
{
    long long add = input_number();
    for (;;) {
        size_t old_len;
        const char *old = wp_kv_get("total", 5, &old_len);
        long long n = 0;
        if (old)
            wp_parse_int(old, &n);
        wp_buf b = {0};
        wp_buf_int(&b, n + add);
        if (wp_kv_cas("total", 5, old, old_len, b.data, b.len))
            return output_number(n + add);
    }
}

/* Not inlined, so a trap here shows two frames: share_of, split. */
__attribute__((noinline)) static int share_of(int amount, int parts)
{
    return amount / parts;
}

WP_FN(split)
{
    wp_buf b = {0};
    wp_buf_int(&b, share_of((int)stored_total(), (int)input_number()));
    return wp_output_buf(&b);
}

WP_FN(total)
{
    return output_number(stored_total());
}

WP_FN(reset)
{
    wp_kv_delete("total", 5);
    return output_number(0);
}

/* ---- HTML --------------------------------------------------------------- */

static void html_text(wp_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '<': wp_buf_str(b, "&lt;"); break;
        case '>': wp_buf_str(b, "&gt;"); break;
        case '&': wp_buf_str(b, "&amp;"); break;
        case '"': wp_buf_str(b, "&quot;"); break;
        case '\'': wp_buf_str(b, "&#39;"); break;
        default: wp_buf_char(b, s[i]);
        }
    }
}

static void html_json_string(wp_buf *b, const wp_json *obj, const char *key)
{
    const wp_json *v = wp_json_get(obj, key);
    if (v && v->type == WP_JSON_STRING)
        html_text(b, v->str, v->len);
}

static void row(wp_buf *b, const char *label, const wp_json *obj, const char *key)
{
    wp_buf_str(b, "<tr><th scope=\"row\">");
    wp_buf_str(b, label);
    wp_buf_str(b, "</th><td>");
    wp_buf_double(b, wp_json_get_number(obj, key, 0));
    wp_buf_str(b, "</td></tr>");
}

static const char STYLE[] =
    "<style>body{font:15px/1.4 system-ui,sans-serif;margin:8px;color:#1a1a1a}"
    "table{border-collapse:collapse}th,td{padding:2px 10px 2px 0;text-align:left}"
    "th{font-weight:600}.total{font-size:28px;font-weight:700}"
    "li{font-family:monospace}</style>";

/* The panel's input: {"panel", "plugin", "info", "metrics", "errors"}. */
WP_FN(render_overview)
{
    wp_json *in = wp_input_json();
    if (!in)
        return wp_fail(1, "render_overview: the input is not JSON");
    wp_buf b = {0};
    wp_buf_str(&b, STYLE);
    wp_buf_str(&b, "<p>Total: <span class=\"total\" id=\"total\">");
    wp_buf_int(&b, stored_total());
    wp_buf_str(&b, "</span></p><p id=\"scripts\">scripts are off</p>"
                   "<script>document.getElementById('scripts').textContent='scripts are on'"
                   "</script>");
    const wp_json *info = wp_json_get(in, "info");
    if (info) {
        wp_buf_str(&b, "<p>");
        html_json_string(&b, info, "id");
        wp_buf_str(&b, " ");
        html_json_string(&b, info, "version");
        wp_buf_str(&b, " is ");
        html_json_string(&b, info, "state");
        wp_buf_str(&b, "</p>");
    }
    const wp_json *m = wp_json_get(in, "metrics");
    if (m) {
        wp_buf_str(&b, "<table><caption>Metrics</caption>");
        row(&b, "calls", m, "calls");
        row(&b, "errors", m, "errors");
        row(&b, "mean (us)", m, "mean_us");
        row(&b, "memory (bytes)", m, "memory_bytes");
        wp_buf_str(&b, "</table>");
    }
    const wp_json *errs = wp_json_get(in, "errors");
    if (errs && errs->count) {
        wp_buf_str(&b, "<h2>Recent errors</h2><ul>");
        for (size_t i = 0; i < errs->count; i++) {
            wp_buf_str(&b, "<li>");
            html_json_string(&b, errs->items[i], "function");
            wp_buf_str(&b, ": ");
            html_json_string(&b, errs->items[i], "message");
            wp_buf_str(&b, "</li>");
        }
        wp_buf_str(&b, "</ul>");
    }
    return wp_output_buf(&b);
}

/* Needs scripts (scripts: true, grant ui.scripts). Also shows that a
 * plugin's frame is kept apart from the page showing it: reaching the
 * parent document throws. */
WP_FN(render_clock)
{
    wp_buf b = {0};
    wp_buf_str(&b, STYLE);
    wp_buf_str(&b,
               "<p class=\"total\" id=\"clock\">--:--:--</p><p id=\"isolation\">isolation: "
               "unknown</p><script>"
               "function tick(){document.getElementById('clock').textContent="
               "new Date().toTimeString().slice(0,8)}tick();setInterval(tick,1000);"
               "var r;try{parent.document.title='changed by a plugin';r='not isolated'}"
               "catch(e){r='isolated'}"
               "document.getElementById('isolation').textContent='isolation: '+r;"
               "</script>");
    return wp_output_buf(&b);
}

/* A block: {"block": "badge", "props": {"label": "...", "value": N}}. */
WP_FN(render_badge)
{
    wp_json *in = wp_input_json();
    const wp_json *props = in ? wp_json_get(in, "props") : NULL;
    if (!props)
        return wp_fail(1, "render_badge: expected {\"props\": {...}}");
    wp_buf b = {0};
    wp_buf_str(&b, STYLE);
    wp_buf_str(&b, "<p><strong>");
    html_json_string(&b, props, "label");
    wp_buf_str(&b, "</strong> <span class=\"total\">");
    wp_buf_double(&b, wp_json_get_number(props, "value", 0));
    wp_buf_str(&b, "</span></p>");
    return wp_output_buf(&b);
}
