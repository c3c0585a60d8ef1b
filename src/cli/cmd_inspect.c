/*
 * cmd_inspect.c - `wasmplug inspect FILE.wasm`: the module's sections (with
 * offsets and sizes), custom sections, imports, exports with their types,
 * memories, the features it uses and whether the engine supports them, the
 * plugin ABI it follows (v1, compat, wasm-bindgen, command or none) and an
 * embedded manifest.
 *
 * The section table is read here directly (top-level headers only) so a
 * module the engine rejects can still be described. The features come from
 * the engine (wasmplug_module_features).
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

json_t *cli_module_features(const wasmplug_module *m)
{
    json_t *a = json_array();
    uint32_t features = wasmplug_module_features(m);
    for (uint32_t bit = 1; bit != 0 && bit <= features; bit <<= 1)
        if (features & bit)
            json_array_append_new(a, json_string(wasmplug_feature_name((wasmplug_feature)bit)));
    return a;
}

static const char *section_name(uint8_t id)
{
    static const char *const n[] = {"custom", "type",    "import", "function", "table",
                                    "memory", "global",  "export", "start",    "element",
                                    "code",   "data",    "datacount", "tag"};
    return id < sizeof n / sizeof n[0] ? n[id] : "unknown";
}

static const char *kind_name(wasmplug_extern_kind k)
{
    return k == WASMPLUG_EXTERN_FUNC     ? "func"
           : k == WASMPLUG_EXTERN_TABLE  ? "table"
           : k == WASMPLUG_EXTERN_MEMORY ? "memory"
                                         : "global";
}

static const char *type_str(const wasmplug_externtype *t, char *buf, size_t size)
{
    switch (t->kind) {
    case WASMPLUG_EXTERN_FUNC:
        return cli_functype_str(&t->of.func, buf, size);
    case WASMPLUG_EXTERN_MEMORY:
        if (t->of.memory.has_max)
            snprintf(buf, size, "%u..%u pages", t->of.memory.min, t->of.memory.max);
        else
            snprintf(buf, size, "%u.. pages", t->of.memory.min);
        return buf;
    case WASMPLUG_EXTERN_TABLE:
        snprintf(buf, size, "%s %u%s", wasmplug_valtype_name(t->of.table.elem),
                 t->of.table.limits.min, t->of.table.limits.has_max ? "" : "..");
        return buf;
    default:
        snprintf(buf, size, "%s%s", t->of.global.mutable_ ? "mut " : "",
                 wasmplug_valtype_name(t->of.global.type));
        return buf;
    }
}

/* A string of the report for the text output: escaped (module names are
 * untrusted), "" when absent. */
static const char *shown(const json_t *v)
{
    return term_field(json_string_value(v));
}

int cmd_inspect(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    const char *file = NULL, *arg;
    int id;
    while ((id = cli_next(&a, NULL, "inspect", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (file) {
            cli_error("inspect takes one file (got '%s' too)", arg);
            return EXIT_USAGE;
        }
        file = arg;
    }
    if (!file) {
        cli_error("usage: wasmplug inspect FILE.wasm");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    size_t size;
    uint8_t *bytes = (uint8_t *)wps_read_file(file, &size);
    char msg[1200];
    if (!bytes) {
        snprintf(msg, sizeof msg, "cannot read %s: %s", file, strerror(errno));
        return cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
    }
    if (size < 4 || memcmp(bytes, "\0asm", 4) != 0) {
        free(bytes);
        snprintf(msg, sizeof msg, "%s is not a WebAssembly binary module (no \\0asm header)", file);
        return cli_fail_json(EXIT_INVALID, "invalid_module", msg);
    }
    if (size < 8) {
        free(bytes);
        snprintf(msg, sizeof msg,
                 "%s: the version field is missing: the module ends after %zu bytes, the "
                 "\\0asm header is followed by a 4-byte version (01 00 00 00)",
                 file, size);
        return cli_fail_json(EXIT_INVALID, "invalid_module", msg);
    }

    json_t *out = json_object();
    json_object_set_new(out, "file", json_string(file));
    json_object_set_new(out, "size", json_integer((json_int_t)size));
    uint32_t version = (uint32_t)bytes[4] | (uint32_t)bytes[5] << 8 | (uint32_t)bytes[6] << 16 |
                       (uint32_t)bytes[7] << 24;
    json_object_set_new(out, "version", json_integer(version));

    /* Sections. */
    json_t *secs = json_array(), *customs = json_array();
    uint64_t code_size = 0, data_size = 0, custom_size = 0;
    bool layout_ok = true;
    size_t cursor = 0;
    wasmplug_section sec;
    wasmplug_status walk;
    while ((walk = wasmplug_binary_next_section(bytes, size, &cursor, &sec, NULL)) ==
           WASMPLUG_OK) {
        json_t *s = json_pack("{s:s, s:i, s:I, s:I}", "name", section_name(sec.id), "id", sec.id,
                              "offset", (json_int_t)sec.offset, "size",
                              (json_int_t)sec.content_size);
        if (sec.id == 0) {
            json_t *cn = cli_json_bytes((const uint8_t *)sec.name, sec.name_len);
            json_object_set(s, "custom_name", cn);
            json_array_append_new(customs, json_pack("{s:o, s:I, s:I}", "name", cn, "offset",
                                                     (json_int_t)sec.offset, "size",
                                                     (json_int_t)sec.payload_size));
            custom_size += sec.content_size;
        } else if (sec.id == 10)
            code_size = sec.content_size;
        else if (sec.id == 11)
            data_size = sec.content_size;
        json_array_append_new(secs, s);
    }
    if (walk != WASMPLUG_ERR_NOT_FOUND)
        layout_ok = false;
    json_object_set_new(out, "sections", secs);
    json_object_set_new(out, "custom_sections", customs);
    json_object_set_new(out, "sizes",
                        json_pack("{s:I, s:I, s:I, s:I}", "total", (json_int_t)size, "code",
                                  (json_int_t)code_size, "data", (json_int_t)data_size, "custom",
                                  (json_int_t)custom_size));

    /* Imports, exports, features: from the engine. */
    wasmplug_engine *eng = NULL;
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_status st = WASMPLUG_ERR_NOMEM;
    if (cli_engine(&eng) == WASMPLUG_OK)
        st = wasmplug_module_new(eng, bytes, size, &m, &err);
    json_t *imports = json_array(), *exports = json_array(), *features = json_array();
    if (m) {
        for (uint32_t i = 0; i < wasmplug_module_import_count(m); i++) {
            const char *mod, *name;
            size_t ml, nl;
            wasmplug_externtype t;
            char ty[256];
            wasmplug_module_import(m, i, &mod, &ml, &name, &nl, &t);
            json_array_append_new(imports,
                                  json_pack("{s:o, s:o, s:s, s:s}", "module",
                                            cli_json_bytes((const uint8_t *)mod, ml), "name",
                                            cli_json_bytes((const uint8_t *)name, nl), "kind",
                                            kind_name(t.kind), "type",
                                            type_str(&t, ty, sizeof ty)));
        }
        for (uint32_t i = 0; i < wasmplug_module_export_count(m); i++) {
            const char *name;
            size_t nl;
            wasmplug_externtype t;
            char ty[256];
            wasmplug_module_export(m, i, &name, &nl, &t);
            json_array_append_new(exports,
                                  json_pack("{s:o, s:s, s:s}", "name",
                                            cli_json_bytes((const uint8_t *)name, nl), "kind",
                                            kind_name(t.kind), "type",
                                            type_str(&t, ty, sizeof ty)));
        }
        json_t *names = cli_module_features(m), *fn;
        size_t k;
        json_array_foreach(names, k, fn)
            json_array_append_new(features, json_pack("{s:O, s:b}", "name", fn, "supported", 1));
        json_decref(names);
        json_object_set_new(out, "valid", json_true());
        json_object_set_new(out, "supported", json_true());
    } else {
        json_object_set_new(out, "valid", st == WASMPLUG_ERR_UNSUPPORTED ? json_null() : json_false());
        json_object_set_new(out, "supported", json_boolean(st != WASMPLUG_ERR_UNSUPPORTED));
        snprintf(msg, sizeof msg, "%s: %s (at byte offset %llu)", wasmplug_strerror(st),
                 err.message, (unsigned long long)err.offset);
        json_object_set_new(out, "error", json_string(msg));
        if (st == WASMPLUG_ERR_UNSUPPORTED) {
            const char *f = strstr(err.message, "unsupported feature: ");
            json_array_append_new(features,
                                  json_pack("{s:s, s:b}", "name",
                                            f ? f + strlen("unsupported feature: ") : err.message,
                                            "supported", 0));
        }
    }
    json_object_set_new(out, "imports", imports);
    json_object_set_new(out, "exports", exports);
    json_object_set_new(out, "features", features);

    /* Plugin conventions: the ABI a load would detect (wasmplug_module_abi),
     * and an embedded manifest. */
    json_object_set_new(out, "abi", m ? json_string(wasmplug_abi_string(wasmplug_module_abi(m)))
                                      : json_null());
    wasmplug_manifest_doc *emb = NULL;
    wasmplug_manifest_diag ediag;
    wasmplug_status est = wasmplug_manifest_from_module(bytes, size, file, &emb, &ediag);
    if (est == WASMPLUG_OK)
        json_object_set_new(out, "embedded_manifest", cli_doc_json(emb));
    else if (est == WASMPLUG_ERR_MANIFEST) {
        char em[1024];
        snprintf(em, sizeof em, "%s:%u:%u: %s", ediag.file, ediag.line, ediag.column,
                 ediag.message);
        json_object_set_new(out, "embedded_manifest_error", json_string(em));
    }
    wasmplug_manifest_doc_free(emb);
    wasmplug_module_free(m);
    if (eng)
        wasmplug_engine_free(eng);
    free(bytes);

    int code = !layout_ok ? EXIT_INVALID : st == WASMPLUG_OK ? EXIT_OK : cli_exit_for(st);
    if (G.json) {
        if (!layout_ok)
            json_object_set_new(out, "error", json_string("malformed section layout"));
        cli_json_print(out);
        return code;
    }
    /* Text. */
    printf("%s%s%s: WebAssembly version %u, %zu bytes\n", cli_bold(), term_field(file),
           cli_reset(), version, size);
    if (json_object_get(out, "error"))
        printf("  %s%s%s\n", cli_red(), shown(json_object_get(out, "error")),
               cli_reset());
    printf("%sSections%s\n", cli_bold(), cli_reset());
    json_t *s;
    size_t i;
    json_array_foreach(json_object_get(out, "sections"), i, s)
    {
        const char *cn = shown(json_object_get(s, "custom_name"));
        printf("  %-10s %-24s offset %-8" JSON_INTEGER_FORMAT " size %" JSON_INTEGER_FORMAT "\n",
               shown(json_object_get(s, "name")), cn,
               json_integer_value(json_object_get(s, "offset")),
               json_integer_value(json_object_get(s, "size")));
    }
    printf("%sSizes%s\n  code %llu, data %llu, custom %llu, total %zu bytes\n", cli_bold(),
           cli_reset(), (unsigned long long)code_size, (unsigned long long)data_size,
           (unsigned long long)custom_size, size);
    printf("%sImports%s (%zu)\n", cli_bold(), cli_reset(), json_array_size(imports));
    json_array_foreach(imports, i, s)
        printf("  %-6s %s.%s %s\n", shown(json_object_get(s, "kind")),
               shown(json_object_get(s, "module")),
               shown(json_object_get(s, "name")),
               shown(json_object_get(s, "type")));
    printf("%sExports%s (%zu)\n", cli_bold(), cli_reset(), json_array_size(exports));
    json_array_foreach(exports, i, s)
        printf("  %-6s %s %s\n", shown(json_object_get(s, "kind")),
               shown(json_object_get(s, "name")),
               shown(json_object_get(s, "type")));
    if (json_is_string(json_object_get(out, "abi")))
        printf("%sPlugin ABI%s\n  %s\n", cli_bold(), cli_reset(),
               shown(json_object_get(out, "abi")));
    json_t *em = json_object_get(out, "embedded_manifest");
    if (em)
        printf("%sEmbedded manifest%s\n  %s %s\n", cli_bold(), cli_reset(),
               shown(json_object_get(em, "id")),
               shown(json_object_get(em, "version")));
    if (json_object_get(out, "embedded_manifest_error"))
        printf("%sEmbedded manifest%s\n  %sinvalid: %s%s\n", cli_bold(), cli_reset(), cli_red(),
               shown(json_object_get(out, "embedded_manifest_error")), cli_reset());
    printf("%sFeatures%s\n", cli_bold(), cli_reset());
    if (!json_array_size(features))
        printf("  WebAssembly 1.0 (MVP) only\n");
    json_array_foreach(features, i, s)
    {
        if (json_is_true(json_object_get(s, "supported")))
            printf("  %s (supported)\n", shown(json_object_get(s, "name")));
        else
            printf("  %s%s (NOT supported)%s\n", cli_red(),
                   shown(json_object_get(s, "name")), cli_reset());
    }
    json_decref(out);
    return code;
}
