/*
 * cmd_validate.c - `wasmplug validate PLUGIN`: the manifest against the
 * schema, the module (decode, validate, supported features), the exports
 * the manifest names, every import (ABI, WASI, or a requested host
 * function), and finally a trial load in a host. Each check is reported.
 */
#include "cli.h"
#include "run_opts.h"

#include <wasmplug/services.h>
#include <wasmplug/ui.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct report {
    json_t *checks;
    int failures;
    int warnings;
} report;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void check(report *r, const char *status, const char *what, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!strcmp(status, "fail"))
        r->failures++;
    else if (!strcmp(status, "warn"))
        r->warnings++;
    json_array_append_new(r->checks,
                          json_pack("{s:s, s:s, s:s}", "check", what, "status", status, "message", msg));
    if (!G.json) {
        const char *col = !strcmp(status, "ok")     ? cli_green()
                          : !strcmp(status, "fail") ? cli_red()
                                                    : cli_yellow();
        printf("  %s%-5s%s %-9s %s\n", col, !strcmp(status, "fail") ? "FAIL" : status,
               cli_reset(), what, term_field(msg)); /* msg quotes the plugin's names */
    }
}

static bool is_wasi_name(const char *name, size_t len)
{
#ifdef WASMPLUG_CLI_HAVE_WASI
    return wasmplug_wasi_function(name, len, NULL);
#else
    (void)name;
    (void)len;
    return true;
#endif
}

/* Whether the module exports a function called name. */
static bool exports_function(const wasmplug_module *m, const char *name)
{
    for (uint32_t j = 0; j < wasmplug_module_export_count(m); j++) {
        const char *n;
        size_t nlen;
        wasmplug_externtype t;
        wasmplug_module_export(m, j, &n, &nlen, &t);
        if (t.kind == WASMPLUG_EXTERN_FUNC && !strcmp(n, name))
            return true;
    }
    return false;
}

int cmd_validate(int argc, char **argv)
{
    const char *ref;
    cli_plugin p;
    int rc = cli_resolve_args(argc, argv, "validate",
                              "wasmplug validate PLUGIN [--manifest plugin.yaml]",
                              &ref, &p);
    if (rc != EXIT_OK)
        return rc; /* includes manifest errors with FILE:LINE:COLUMN */

    report r = {json_array(), 0, 0};
    int code = EXIT_OK;
    if (!G.json)
        printf("%svalidate%s %s\n", cli_bold(), cli_reset(), term_field(ref));
    const wasmplug_manifest_doc *d = p.doc;
    if (d)
        check(&r, "ok", "manifest", "%s %s (%s)", d->id, d->version, d->path);
    else
        check(&r, "warn", "manifest", "none: a bare module (no plugin.yaml, no embedded %s)",
              WASMPLUG_MANIFEST_SECTION);

    size_t len = 0;
    uint8_t *bytes = (uint8_t *)wps_read_file(p.module_path, &len);
    wasmplug_engine *eng = NULL;
    wasmplug_module *m = NULL;
    if (!bytes) {
        check(&r, "fail", "module", "cannot read %s: %s", p.module_path, strerror(errno));
        code = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO;
        goto done;
    }
    if (cli_engine(&eng) != WASMPLUG_OK) {
        code = EXIT_INTERNAL;
        goto done;
    }
    wasmplug_error err;
    wasmplug_status st = wasmplug_module_new(eng, bytes, len, &m, &err);
    if (st == WASMPLUG_ERR_UNSUPPORTED) {
        check(&r, "ok", "module", "%s (%zu bytes) decodes", p.module_path, len);
        check(&r, "fail", "features", "%s (at byte offset %llu)", err.message,
              (unsigned long long)err.offset);
        code = EXIT_INVALID;
        goto done;
    }
    if (st != WASMPLUG_OK) {
        check(&r, "fail", "module", "%s: %s: %s (at byte offset %llu)", p.module_path,
              wasmplug_strerror(st), err.message, (unsigned long long)err.offset);
        code = cli_exit_for(st);
        goto done;
    }
    check(&r, "ok", "module", "%s (%zu bytes) decodes and validates", p.module_path, len);
    {
        json_t *f = cli_module_features(m);
        char list[512] = "";
        size_t at = 0;
        for (size_t i = 0; i < json_array_size(f) && at < sizeof list; i++)
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%s", i ? ", " : "",
                                   json_string_value(json_array_get(f, i)));
        json_decref(f);
        check(&r, "ok", "features", "%s (all supported)", at ? list : "WebAssembly 1.0 (MVP) only");
    }

    /* Exports the manifest names, and the renders and handlers of its UI. */
    if (d) {
        for (size_t i = 0; i < d->exports.count; i++) {
            if (exports_function(m, d->exports.items[i]))
                check(&r, "ok", "export", "%s", d->exports.items[i]);
            else
                check(&r, "fail", "export",
                      "%s is listed in the manifest's exports but the module exports no such "
                      "function",
                      d->exports.items[i]);
        }
        for (size_t i = 0; i < d->ui_item_count; i++) {
            const wasmplug_manifest_ui_item *u = &d->ui_items[i];
            if (exports_function(m, u->export_name))
                check(&r, "ok", "ui", "%s %s: %s", wasmplug_ui_kind_string(u->kind), u->id,
                      u->export_name);
            else
                check(&r, "fail", "ui", "%s %s names the export %s, which the module does not "
                      "have", wasmplug_ui_kind_string(u->kind), u->id, u->export_name);
        }
    }

    /* The module's memory must start within the manifest's max_memory. */
    for (uint32_t j = 0; d && d->resources.max_memory_pages && j < wasmplug_module_export_count(m);
         j++) {
        const char *name;
        size_t nlen;
        wasmplug_externtype t;
        wasmplug_module_export(m, j, &name, &nlen, &t);
        if (t.kind == WASMPLUG_EXTERN_MEMORY && t.of.memory.min > d->resources.max_memory_pages)
            check(&r, "fail", "resources",
                  "the module's memory starts at %u pages (%u KiB) but resources.max_memory "
                  "allows %u pages",
                  t.of.memory.min, t.of.memory.min * 64, d->resources.max_memory_pages);
    }

    /* Imports. */
    bool external = false; /* needs a host function the CLI does not provide */
    for (uint32_t i = 0; i < wasmplug_module_import_count(m); i++) {
        const char *mod, *name;
        size_t ml, nl;
        wasmplug_externtype t;
        wasmplug_module_import(m, i, &mod, &ml, &name, &nl, &t);
        char full[600];
        snprintf(full, sizeof full, "%.*s.%.*s", (int)ml, mod, (int)nl, name);
        if (t.kind != WASMPLUG_EXTERN_FUNC) {
            check(&r, "fail", "import", "%s: plugins may import functions only", full);
            continue;
        }
        if (!strcmp(mod, "wasmplug")) {
            char nm[256];
            snprintf(nm, sizeof nm, "%.*s", (int)(nl < 255 ? nl : 255), name);
            const char *grant = wasmplug_services_import_grant(nm);
            bool granted = false;
            for (size_t k = 0; grant && d && k < d->permissions.count && !granted; k++)
                granted = cli_glob(d->permissions.items[k], grant) ||
                          cli_glob(grant, d->permissions.items[k]);
            if (!grant)
                check(&r, "ok", "import", "%s (plugin ABI)", full);
            else if (granted)
                check(&r, "ok", "import", "%s (service, grant '%s' requested)", full, grant);
            else
                check(&r, "fail", "import",
                      "%s needs grant '%s': the manifest must request it in permissions (%s)",
                      full, grant, cli_service_hint(grant));
            continue;
        }
        if (wasmplug_module_abi(m) == WASMPLUG_ABI_BINDGEN &&
            (!strcmp(mod, "__wbindgen_placeholder__") ||
             !strcmp(mod, "__wbindgen_externref_xform__"))) {
            check(&r, "ok", "import", "%s (wasm-bindgen: fails if called, unless describe or "
                  "throw)", full);
            continue;
        }
        if (!strcmp(mod, "wasi_snapshot_preview1")) {
            if (is_wasi_name(name, nl))
                check(&r, "ok", "import", "%s (WASI preview 1)", full);
            else
                check(&r, "fail", "import", "%s is not a WASI preview 1 function", full);
            continue;
        }
        bool requested = false;
        for (size_t k = 0; d && k < d->host_functions.count && !requested; k++)
            requested = cli_glob(d->host_functions.items[k], full);
        if (!requested) {
            check(&r, "fail", "import",
                  "%s is not granted: the manifest must request it in "
                  "permissions.host_functions",
                  full);
            continue;
        }
        if (cli_provides(mod, name))
            check(&r, "ok", "import", "%s (host function, requested)", full);
        else {
            external = true;
            check(&r, "warn", "import",
                  "%s is requested; the embedding host must provide it (the CLI does not)",
                  full);
        }
    }

    /* A trial load: ABI checks, exports, link, permissions. */
    if (r.failures == 0 && !external) {
        wasmplug_host_config hc;
        memset(&hc, 0, sizeof hc);
        hc.engine = eng;
        wasmplug_host *h = NULL;
        char svcmsg[512];
        /* Outbound HTTP as if the operator allowed every URL. */
        run_opts vo;
        memset(&vo, 0, sizeof vo);
        const char *any_url = "*";
        vo.http = &any_url;
        vo.http_count = 1;
        cli_http *http = NULL;
        if (wasmplug_host_new(&hc, &h) == WASMPLUG_OK && cli_register_host_functions(h) == WASMPLUG_OK &&
            cli_attach_services(h, svcmsg, sizeof svcmsg) == WASMPLUG_OK &&
            cli_http_attach(h, &vo, &http) == EXIT_OK) {
            wasmplug_manifest hm;
            wasmplug_load_options lo = WASMPLUG_LOAD_OPTIONS_INIT;
            if (d) {
                wasmplug_manifest_to_host(d, &hm);
                lo.manifest = &hm;
                for (size_t k = 0; k < d->permissions.count; k++)
                    wasmplug_host_grant(h, "*", d->permissions.items[k]);
            }
            wasmplug_plugin_error perr;
            wasmplug_plugin *pl = NULL;
            st = wasmplug_host_load(h, d ? d->id : "plugin", bytes, len, &lo, &pl, &perr);
            if (st == WASMPLUG_OK) {
                wasmplug_plugin_info info;
                wasmplug_plugin_get_info(pl, &info);
                /* A plugin may follow both conventions (compat exports plus
                 * wasmplug imports for logging): check what was declared. */
                bool has_compat = info.abi != WASMPLUG_ABI_COMMAND &&
                                  wasmplug_plugin_has_function(pl, "alloc") &&
                                  wasmplug_plugin_has_function(pl, "dealloc");
                bool abi_ok = !d || !d->abi_given || d->abi == WASMPLUG_ABI_NONE ||
                              d->abi == info.abi ||
                              (d->abi == WASMPLUG_ABI_COMPAT && has_compat);
                if (has_compat && info.abi == WASMPLUG_ABI_V1)
                    info.abi = d && d->abi_given ? d->abi : info.abi;
                if (!abi_ok)
                    check(&r, "fail", "abi",
                          "the manifest declares abi %s but the module follows %s",
                          wasmplug_abi_string(d->abi),
                          has_compat && info.abi == WASMPLUG_ABI_V1
                              ? "compat"
                              : wasmplug_abi_string(info.abi));
                else
                    check(&r, "ok", "load", "loads in a host (ABI %s)",
                          wasmplug_abi_string(info.abi));
                wasmplug_plugin_release(pl);
            } else {
                char text[2048];
                wasmplug_plugin_error_format(&perr, text, sizeof text);
                check(&r, "fail", "load", "%s", text);
                code = cli_exit_for(st);
            }
        }
        cli_detach_services();
        if (h)
            wasmplug_host_free(h);
        cli_http_free(http);
    }
    if (r.failures && code == EXIT_OK)
        code = EXIT_INVALID;
done:
    if (G.json)
        cli_json_print(json_pack("{s:s, s:b, s:o, s:i, s:i}", "plugin", ref, "valid",
                                 r.failures == 0 && code == EXIT_OK, "checks", r.checks,
                                 "problems", r.failures, "warnings", r.warnings));
    else {
        json_decref(r.checks);
        if (r.failures == 0 && code == EXIT_OK)
            printf("%svalid%s%s\n", cli_green(), cli_reset(),
                   r.warnings ? " (with warnings)" : "");
        else
            printf("%sinvalid%s: %d problem%s\n", cli_red(), cli_reset(),
                   r.failures ? r.failures : 1, r.failures == 1 || !r.failures ? "" : "s");
    }
    wasmplug_module_free(m);
    if (eng)
        wasmplug_engine_free(eng);
    free(bytes);
    cli_plugin_free(&p);
    return code;
}
