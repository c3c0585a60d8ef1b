/*
 * fuzz_run.h - what the engine fuzz targets do with a module that loaded:
 * instantiate it (every import satisfied by a trapping host function or a
 * fresh extern) and call each exported function without parameters under
 * a small fuel budget. Header-only: each target is one .c file.
 */
#ifndef WASMPLUG_FUZZ_RUN_H
#define WASMPLUG_FUZZ_RUN_H

#include "wasmplug/engine.h"

#include <stdbool.h>
#include <string.h>

static int fuzz_trap_host(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    (void)slots;
    wasmplug_caller_set_error(caller, "fuzz import called");
    return 1;
}

static bool fuzz_make_import(wasmplug_engine *engine, const wasmplug_externtype *type,
                             wasmplug_extern *out)
{
    out->kind = type->kind;
    switch (type->kind) {
    case WASMPLUG_EXTERN_FUNC:
        return wasmplug_func_new_host(engine, &type->of.func, fuzz_trap_host, NULL, NULL,
                                      &out->of.func) == WASMPLUG_OK;
    case WASMPLUG_EXTERN_TABLE:
        return wasmplug_table_new(engine, type->of.table.elem, type->of.table.limits, NULL,
                                  &out->of.table) == WASMPLUG_OK;
    case WASMPLUG_EXTERN_MEMORY: {
        wasmplug_limits limits = type->of.memory;
        if (limits.min > 16) /* keep the fuzzer's memory use small */
            return false;
        return wasmplug_memory_new(engine, limits, &out->of.memory) == WASMPLUG_OK;
    }
    case WASMPLUG_EXTERN_GLOBAL: {
        wasmplug_val v;
        memset(&v, 0, sizeof v);
        v.type = type->of.global.type;
        return wasmplug_global_new(engine, v, type->of.global.mutable_, &out->of.global) ==
               WASMPLUG_OK;
    }
    }
    return false;
}

/* Instantiate module and call its exports; errors and traps are expected. */
static void fuzz_run_module(wasmplug_engine *engine, wasmplug_module *module)
{
    wasmplug_error err;
    uint32_t n = wasmplug_module_import_count(module);
    wasmplug_extern imports[64];
    uint32_t made = 0;
    bool ok = n <= 64;
    for (uint32_t i = 0; ok && i < n; i++) {
        const char *mod, *name;
        size_t mod_len, name_len;
        wasmplug_externtype type;
        ok = wasmplug_module_import(module, i, &mod, &mod_len, &name, &name_len, &type) ==
                 WASMPLUG_OK &&
             fuzz_make_import(engine, &type, &imports[i]);
        if (ok)
            made++;
    }
    wasmplug_instance *inst = NULL;
    wasmplug_instance_config cfg = {.max_memory_pages = 256, .fuel = 100000};
    if (ok && wasmplug_instance_new(module, imports, n, &cfg, &inst, &err) == WASMPLUG_OK) {
        uint32_t ne = wasmplug_module_export_count(module);
        for (uint32_t i = 0; i < ne; i++) {
            const char *name;
            size_t len;
            wasmplug_externtype type;
            if (wasmplug_module_export(module, i, &name, &len, &type) != WASMPLUG_OK ||
                type.kind != WASMPLUG_EXTERN_FUNC || type.of.func.param_count != 0 ||
                type.of.func.result_count > 16)
                continue;
            wasmplug_extern ext;
            if (wasmplug_instance_export_n(inst, name, len, &ext) != WASMPLUG_OK)
                continue;
            wasmplug_slot slots[16];
            wasmplug_instance_set_fuel(inst, 100000);
            (void)wasmplug_func_call_slots(ext.of.func, slots, &err);
        }
        wasmplug_instance_free(inst);
    }
    for (uint32_t i = 0; i < made; i++)
        wasmplug_extern_release(imports[i]);
}

#endif
