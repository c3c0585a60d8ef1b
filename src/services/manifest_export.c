/*
 * manifest_export.c - a module's manifest from its plugin_get_manifest
 * export (the compatibility ABI's way of describing itself): the module is
 * instantiated on its own, with every imported function a stub that traps,
 * a small memory and fuel budget, and plugin_get_manifest() -> i64 is
 * called; the packed result (address << 32 | length) names the manifest's
 * text (YAML or JSON), which is parsed like a plugin.yaml.
 *
 * Nothing the plugin is granted is needed for this, and nothing it could
 * reach is reachable: a manifest that can only be produced by calling the
 * host (or by running past the budget) is refused with the reason.
 */
#include "manifest_internal.h"

#include <wasmplug.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT_NAME "plugin_get_manifest"
/* Enough for any manifest; a larger answer is refused as malformed. */
#define MAX_MANIFEST_BYTES (1u << 20)
#define FUEL_BUDGET 50000000u
#define MEMORY_PAGES 1024u

static int refuse_import(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)slots;
    wasmplug_caller_set_error(caller, "import %s called while reading the manifest",
                              (const char *)user);
    return 1;
}

/* Whether the module exports plugin_get_manifest () -> i64. */
static bool has_manifest_export(const wasmplug_module *m)
{
    for (uint32_t i = 0; i < wasmplug_module_export_count(m); i++) {
        const char *name;
        size_t len;
        wasmplug_externtype t;
        if (wasmplug_module_export(m, i, &name, &len, &t) == WASMPLUG_OK &&
            len == sizeof EXPORT_NAME - 1 && !memcmp(name, EXPORT_NAME, len))
            return t.kind == WASMPLUG_EXTERN_FUNC && t.of.func.param_count == 0 &&
                   t.of.func.result_count == 1 && t.of.func.results[0] == WASMPLUG_I64;
    }
    return false;
}

/* Every import satisfied: functions with refusing stubs, memories and
 * tables with fresh ones of the minimum size; globals can't be made up. */
static wasmplug_status link_stubs(wasmplug_engine *e, wasmplug_module *m, wasmplug_extern *ext,
                                  char (*names)[160], char *why, size_t why_size)
{
    uint32_t n = wasmplug_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        size_t ml, nl;
        wasmplug_externtype t;
        wasmplug_status st = wasmplug_module_import(m, i, &mod, &ml, &name, &nl, &t);
        if (st)
            return st;
        snprintf(names[i], sizeof names[i], "%.*s.%.*s", (int)(ml > 70 ? 70 : ml), mod,
                 (int)(nl > 80 ? 80 : nl), name);
        ext[i].kind = t.kind;
        if (t.kind == WASMPLUG_EXTERN_FUNC) {
            st = wasmplug_func_new_host(e, &t.of.func, refuse_import, names[i], NULL,
                                        &ext[i].of.func);
        } else if (t.kind == WASMPLUG_EXTERN_MEMORY) {
            wasmplug_limits l = t.of.memory;
            if (l.min > MEMORY_PAGES) {
                snprintf(why, why_size, "it imports a memory of %u pages (more than %u)", l.min,
                         MEMORY_PAGES);
                return WASMPLUG_ERR_LIMIT;
            }
            st = wasmplug_memory_new(e, l, &ext[i].of.memory);
        } else if (t.kind == WASMPLUG_EXTERN_TABLE) {
            st = wasmplug_table_new(e, t.of.table.elem, t.of.table.limits, NULL,
                                    &ext[i].of.table);
        } else {
            snprintf(why, why_size, "it imports the global %s", names[i]);
            return WASMPLUG_ERR_LINK;
        }
        if (st) {
            snprintf(why, why_size, "cannot provide its import %s", names[i]);
            return st;
        }
    }
    return WASMPLUG_OK;
}

/* The manifest's bytes: plugin_get_manifest's packed result in memory. */
static wasmplug_status call_export(wasmplug_instance *inst, char **text, size_t *len, char *why,
                                   size_t why_size)
{
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_instance_start(inst, &err);
    wasmplug_val r;
    memset(&r, 0, sizeof r);
    if (!st)
        st = wasmplug_func_call(wasmplug_instance_func(inst, EXPORT_NAME), NULL, 0, &r, 1, &err);
    if (st) {
        snprintf(why, why_size, "%s failed: %s", EXPORT_NAME,
                 err.message[0] ? err.message : wasmplug_strerror(st));
        return st;
    }
    uint64_t packed = r.of.u64;
    uint32_t ptr = (uint32_t)(packed >> 32), n = (uint32_t)packed;
    size_t size = 0;
    wasmplug_memory *mem = wasmplug_instance_memory(inst);
    const uint8_t *data = mem ? wasmplug_memory_data(mem, &size) : NULL;
    if (!data || (uint64_t)ptr + n > size || n > MAX_MANIFEST_BYTES) {
        snprintf(why, why_size,
                 "%s returned %u bytes at address %u, %s", EXPORT_NAME, n, ptr,
                 n > MAX_MANIFEST_BYTES ? "more than a manifest may have (1 MiB)"
                                        : "outside the plugin's memory");
        return WASMPLUG_ERR_SERIALIZATION;
    }
    if (!(*text = malloc(n + 1u)))
        return WASMPLUG_ERR_NOMEM;
    memcpy(*text, data + ptr, n);
    (*text)[n] = '\0';
    *len = n;
    return WASMPLUG_OK;
}

wasmplug_status wpm_manifest_from_export(const uint8_t *wasm, size_t size, char **text,
                                         size_t *text_len, char *why, size_t why_size)
{
    *text = NULL;
    why[0] = '\0';
    wasmplug_engine_config ec;
    memset(&ec, 0, sizeof ec);
    ec.bounds = WASMPLUG_BOUNDS_EXPLICIT; /* one short-lived memory: no reservation */
    ec.max_memory_pages = MEMORY_PAGES;
    wasmplug_engine *e = NULL;
    wasmplug_module *m = NULL;
    wasmplug_instance *inst = NULL;
    wasmplug_extern *ext = NULL;
    char(*names)[160] = NULL;
    uint32_t n = 0;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_engine_new(&ec, &e);
    if (!st && (st = wasmplug_module_new(e, wasm, size, &m, &err)))
        snprintf(why, why_size, "the module is not valid: %s",
                 err.message[0] ? err.message : wasmplug_strerror(st));
    if (!st && !has_manifest_export(m)) {
        st = WASMPLUG_ERR_NOT_FOUND;
        snprintf(why, why_size, "the module exports no %s() -> i64", EXPORT_NAME);
    }
    if (!st) {
        n = wasmplug_module_import_count(m);
        ext = calloc(n ? n : 1, sizeof *ext);
        names = calloc(n ? n : 1, sizeof *names);
        st = ext && names ? link_stubs(e, m, ext, names, why, why_size) : WASMPLUG_ERR_NOMEM;
    }
    if (!st) {
        wasmplug_instance_config ic;
        memset(&ic, 0, sizeof ic);
        ic.max_memory_pages = MEMORY_PAGES;
        ic.fuel = FUEL_BUDGET;
        ic.max_call_depth = 1000;
        ic.defer_start = true;
        if ((st = wasmplug_instance_new(m, ext, n, &ic, &inst, &err)))
            snprintf(why, why_size, "cannot instantiate it: %s",
                     err.message[0] ? err.message : wasmplug_strerror(st));
    }
    if (!st)
        st = call_export(inst, text, text_len, why, why_size);
    if (inst)
        wasmplug_instance_free(inst);
    for (uint32_t i = 0; ext && i < n; i++)
        if (ext[i].of.func) /* every kind's pointer shares the union's storage */
            wasmplug_extern_release(ext[i]);
    free(ext);
    free(names);
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
    return st;
}
