/*
 * run_wat.c - the driver for the tests written in WebAssembly text
 * (tests/wat/NAME.wat, compiled to .wasm with wat2wasm at build time).
 *
 *   run_wat [--bounds auto|guard|explicit] [--roundtrip] [-v] FILE.wasm
 *
 * --roundtrip runs the module as serialized and loaded back
 * (wasmplug_module_serialize / _deserialize), as the compiled-module cache
 * would give it.
 *
 * It instantiates the module with the "host" import module below, then
 * calls, in export order:
 *   test_*              () -> i32: must return 1
 *   trap_<kind>_*       any type, called with zero arguments: must trap with
 *                       that kind, e.g. trap_integer_divide_by_zero_div_s;
 *                       the instance must stay usable afterwards
 * trap_out_of_fuel_* run with a small fuel budget; everything else unlimited.
 *
 * The "host" module (imports are matched by name; a missing name fails):
 *   add (i32 i32) -> i32        a + b
 *   log_i32 (i32)               prints with -v, and counts calls
 *   log (i32 ptr, i32 len)      prints bytes of the caller's memory with -v
 *   calls () -> i32             how many times log_i32 and log were called
 *   fail ()                     fails with the message "host says no"
 *   memory                      memory 1 page, max 4
 *   table                       funcref table 4, max 16
 *   global_i32                  immutable i32 42
 *   global_mut_i64              mutable i64 100
 *   global_f64                  immutable f64 2.5
 */
#include "test.h"

#include <inttypes.h>

static int verbose;
static int log_calls;

static int h_add(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)c;
    (void)u;
    s[0].i32 = (int32_t)((uint32_t)s[0].i32 + (uint32_t)s[1].i32);
    return 0;
}

static int h_log_i32(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)c;
    (void)u;
    log_calls++;
    if (verbose)
        printf("  log_i32: %" PRId32 "\n", s[0].i32);
    return 0;
}

static int h_log(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)u;
    log_calls++;
    wasmplug_instance *inst = wasmplug_caller_instance(c);
    wasmplug_memory *mem = inst ? wasmplug_instance_memory(inst) : NULL;
    size_t size = 0;
    uint8_t *base = mem ? wasmplug_memory_data(mem, &size) : NULL;
    uint32_t ptr = s[0].u32, len = s[1].u32;
    if (!base || ptr > size || len > size - ptr) {
        wasmplug_caller_set_error(c, "log: out of bounds");
        return 1;
    }
    if (verbose)
        printf("  log: %.*s\n", (int)len, (const char *)base + ptr);
    return 0;
}

static int h_calls(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)c;
    (void)u;
    s[0].i32 = log_calls;
    return 0;
}

static int h_fail(wasmplug_caller *c, void *u, wasmplug_slot *s)
{
    (void)u;
    (void)s;
    wasmplug_caller_set_error(c, "host says no");
    return 1;
}

static const wasmplug_valtype T_I32[] = {WASMPLUG_I32, WASMPLUG_I32};

typedef struct host_import {
    const char *name;
    wasmplug_extern ext;
} host_import;

enum { NHOST = 10 };
static host_import host[NHOST];

static int make_host(wasmplug_engine *e)
{
    static const struct {
        const char *name;
        wasmplug_host_fn fn;
        uint32_t np, nr;
    } fns[] = {
        {"add", h_add, 2, 1}, {"log_i32", h_log_i32, 1, 0}, {"log", h_log, 2, 0},
        {"calls", h_calls, 0, 1}, {"fail", h_fail, 0, 0},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        wasmplug_functype t = {fns[i].np, fns[i].nr, T_I32, T_I32};
        host[n].name = fns[i].name;
        host[n].ext.kind = WASMPLUG_EXTERN_FUNC;
        if (wasmplug_func_new_host(e, &t, fns[i].fn, NULL, NULL, &host[n].ext.of.func))
            return -1;
        n++;
    }
    wasmplug_limits mem_limits = {1, 4, true};
    host[n].name = "memory";
    host[n].ext.kind = WASMPLUG_EXTERN_MEMORY;
    if (wasmplug_memory_new(e, mem_limits, &host[n++].ext.of.memory))
        return -1;
    wasmplug_limits tab_limits = {4, 16, true};
    host[n].name = "table";
    host[n].ext.kind = WASMPLUG_EXTERN_TABLE;
    if (wasmplug_table_new(e, WASMPLUG_FUNCREF, tab_limits, NULL, &host[n++].ext.of.table))
        return -1;
    wasmplug_val v = test_i32(42);
    host[n].name = "global_i32";
    host[n].ext.kind = WASMPLUG_EXTERN_GLOBAL;
    if (wasmplug_global_new(e, v, false, &host[n++].ext.of.global))
        return -1;
    v = test_i64(100);
    host[n].name = "global_mut_i64";
    host[n].ext.kind = WASMPLUG_EXTERN_GLOBAL;
    if (wasmplug_global_new(e, v, true, &host[n++].ext.of.global))
        return -1;
    v.type = WASMPLUG_F64;
    v.of.f64 = 2.5;
    host[n].name = "global_f64";
    host[n].ext.kind = WASMPLUG_EXTERN_GLOBAL;
    if (wasmplug_global_new(e, v, false, &host[n++].ext.of.global))
        return -1;
    return n;
}

static const char *const trap_kinds[] = {
#define X(name, msg) #name,
    WASMPLUG_TRAP_LIST(X)
#undef X
};

/* The trap kind named after "trap_" in an export name, or -1. */
static int trap_kind_of(const char *name)
{
    int best = -1;
    size_t best_len = 0;
    for (int k = 1; k < WASMPLUG_TRAP_COUNT; k++) {
        char lower[64];
        size_t n = strlen(trap_kinds[k]);
        for (size_t i = 0; i <= n; i++)
            lower[i] = (char)(trap_kinds[k][i] >= 'A' && trap_kinds[k][i] <= 'Z'
                                  ? trap_kinds[k][i] - 'A' + 'a'
                                  : trap_kinds[k][i]);
        if (strncmp(name, lower, n) == 0 && (name[n] == '_' || name[n] == '\0') &&
            n > best_len) {
            best = k;
            best_len = n;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    const char *path = NULL;
    int roundtrip = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "--roundtrip") == 0)
            roundtrip = 1;
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr,
                "usage: run_wat [--bounds auto|guard|explicit] [--roundtrip] [-v] FILE.wasm\n");
        return 2;
    }
    size_t size = 0;
    uint8_t *bytes = test_read_file(path, &size);
    if (!bytes) {
        printf("FAIL: cannot read %s\n", path);
        return 1;
    }
    printf("%s (bounds: %s%s)\n", path, test_bounds_name(bounds),
           roundtrip ? ", serialized round trip" : "");

    wasmplug_engine *engine = test_engine_with(bounds, NULL, NULL);
    int nhost = make_host(engine);
    CHECK(nhost == NHOST);
    if (nhost != NHOST)
        return test_done();

    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_module *module = NULL;
    wasmplug_status st = test_module_new(engine, bytes, size, &module, &err);
    if (!test_check(st == WASMPLUG_OK, __FILE__, __LINE__, "module loads")) {
        printf("     %s at offset %" PRIu64 ": %s\n", wasmplug_strerror(st), err.offset,
               err.message);
        return test_done();
    }
    if (roundtrip) {
        uint8_t *data = NULL;
        size_t n = 0;
        wasmplug_module *loaded = NULL;
        st = wasmplug_module_serialize(module, &data, &n, &err);
        if (st == WASMPLUG_OK)
            st = wasmplug_module_deserialize(engine, data, n, &loaded, &err);
        wasmplug_serialized_free(data);
        if (!test_check(st == WASMPLUG_OK, __FILE__, __LINE__, "module survives a round trip")) {
            printf("     %s: %s\n", wasmplug_strerror(st), err.message);
            return test_done();
        }
        wasmplug_module_free(module);
        module = loaded;
    }

    uint32_t nimports = wasmplug_module_import_count(module);
    wasmplug_extern *imports = calloc(nimports ? nimports : 1, sizeof *imports);
    for (uint32_t i = 0; i < nimports; i++) {
        const char *mod, *name;
        size_t mod_len, name_len;
        wasmplug_externtype type;
        wasmplug_module_import(module, i, &mod, &mod_len, &name, &name_len, &type);
        int found = 0;
        for (int h = 0; h < nhost && strcmp(mod, "host") == 0; h++) {
            if (strcmp(host[h].name, name) == 0) {
                imports[i] = host[h].ext;
                found = 1;
            }
        }
        if (!test_check(found, __FILE__, __LINE__, "import is provided"))
            printf("     unknown import %s.%s\n", mod, name);
    }

    wasmplug_instance *inst = NULL;
    st = wasmplug_instance_new(module, imports, nimports, NULL, &inst, &err);
    if (!test_check(st == WASMPLUG_OK, __FILE__, __LINE__, "module instantiates")) {
        printf("     %s: %s\n", wasmplug_strerror(st), err.message);
        goto out;
    }

    uint32_t nexports = wasmplug_module_export_count(module);
    for (uint32_t i = 0; i < nexports; i++) {
        const char *name;
        size_t name_len;
        wasmplug_externtype type;
        wasmplug_module_export(module, i, &name, &name_len, &type);
        int is_test = strncmp(name, "test_", 5) == 0;
        int is_trap = strncmp(name, "trap_", 5) == 0;
        if (type.kind != WASMPLUG_EXTERN_FUNC || !(is_test || is_trap))
            continue;
        wasmplug_func *f = wasmplug_instance_func(inst, name);
        wasmplug_functype ft = wasmplug_func_type(f);
        wasmplug_val results[16];
        wasmplug_error_clear(&err);
        if (is_test) {
            if (ft.param_count != 0 || ft.result_count != 1 ||
                ft.results[0] != WASMPLUG_I32) {
                test_check(0, __FILE__, __LINE__, name);
                printf("     %s must have type () -> i32\n", name);
                continue;
            }
            st = wasmplug_func_call(f, NULL, 0, results, 1, &err);
            int ok = st == WASMPLUG_OK && results[0].of.i32 == 1;
            if (verbose || !ok)
                printf("%s %s", ok ? "ok  " : "FAIL", name);
            if (!ok && st == WASMPLUG_OK)
                printf(": returned %" PRId32 ", expected 1", results[0].of.i32);
            else if (!ok)
                printf(": %s: %s", wasmplug_strerror(st), err.message);
            if (verbose || !ok)
                printf("\n");
            ok ? test_passed_count++ : test_failed_count++;
        } else {
            int kind = trap_kind_of(name + 5);
            if (kind < 0 || ft.param_count != 0 || ft.result_count > 16) {
                test_check(0, __FILE__, __LINE__, name);
                printf("     %s: unknown trap kind or has parameters\n", name);
                continue;
            }
            if (kind == WASMPLUG_TRAP_OUT_OF_FUEL)
                wasmplug_instance_set_fuel(inst, 100000);
            st = wasmplug_func_call(f, NULL, 0, results, ft.result_count, &err);
            if (kind == WASMPLUG_TRAP_OUT_OF_FUEL)
                wasmplug_instance_set_fuel(inst, WASMPLUG_FUEL_UNLIMITED);
            int ok = st == WASMPLUG_ERR_TRAP && err.trap == (wasmplug_trap)kind;
            if (verbose || !ok)
                printf("%s %s", ok ? "ok  " : "FAIL", name);
            if (!ok && st == WASMPLUG_OK)
                printf(": returned normally, expected trap \"%s\"",
                       wasmplug_trap_string((wasmplug_trap)kind));
            else if (!ok)
                printf(": %s (%s): %s, expected trap \"%s\"", wasmplug_strerror(st),
                       wasmplug_trap_string(err.trap), err.message,
                       wasmplug_trap_string((wasmplug_trap)kind));
            else if (verbose)
                printf(": %s", err.message);
            if (verbose || !ok)
                printf("\n");
            ok ? test_passed_count++ : test_failed_count++;
        }
    }

out:
    if (inst)
        wasmplug_instance_free(inst);
    free(imports);
    wasmplug_module_free(module);
    for (int h = 0; h < nhost; h++) {
        switch (host[h].ext.kind) {
        case WASMPLUG_EXTERN_FUNC: wasmplug_func_free(host[h].ext.of.func); break;
        case WASMPLUG_EXTERN_MEMORY: wasmplug_memory_free(host[h].ext.of.memory); break;
        case WASMPLUG_EXTERN_TABLE: wasmplug_table_free(host[h].ext.of.table); break;
        case WASMPLUG_EXTERN_GLOBAL: wasmplug_global_free(host[h].ext.of.global); break;
        }
    }
    wasmplug_engine_free(engine);
    free(bytes);
    return test_done();
}
