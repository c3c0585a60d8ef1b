/*
 * diff_run.c - run every exported function of a module in wasmplug and
 * print what happened in the words of wabt's reference interpreter
 * (`wasm-interp --run-all-exports --dummy-import-func`), so that the two
 * outputs can be compared line by line (tests/diff/difftest.sh).
 *
 *   diff_run [--bounds guard|explicit] [--roundtrip] FILE.wasm
 *   diff_run --coverage FILE.wasm...
 *
 * One instance; the exports without parameters are called in export
 * order, the state carrying over, as wasm-interp does. Imported functions
 * print "called host MOD.NAME(ARGS) =>" and return zeros. Values print as
 * wabt prints them (i32/i64 unsigned, f32/f64 with %f); a trap prints
 * "error: " and the kind. --roundtrip runs the module as serialized and
 * loaded back. Exit code 0, or 2 for a usage error, 3 for a module this
 * tool cannot run (imports other than functions), 1 when it does not load.
 *
 * --coverage compiles the modules and checks that their code, together,
 * holds every superinstruction the compiler can fuse (the targets of
 * wp_fusions, COPY2, I32_ADD2, F32_ADD2, F64_ADD2 and I32_ADD_SHL); it lists those never reached and exits 1
 * if there are any (gen_fused must reach them all).
 */
#include "test.h"
#include "engine/compile.h"
#include "engine/module.h"

#include <inttypes.h>

static const char *const op_names[WP_OP_COUNT] = {
#define WP_X_NAME(name, operands, doc) #name,
    WP_ALL_OPS(WP_X_NAME)
#undef WP_X_NAME
};

/* Mark the operations of every compiled function of m (read from the
 * listing wp_disasm makes: the second word of each instruction line). */
static void mark_ops(const wasmplug_module *m, bool *seen)
{
    static char listing[1 << 20];
    for (uint32_t f = m->num_imported_funcs; f < m->nfuncs; f++) {
        wp_disasm(&m->funcs[f].code, listing, sizeof listing);
        for (char *line = strchr(listing, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
            char name[64];
            unsigned at;
            if (sscanf(line + 1, " %u %63s", &at, name) != 2)
                continue;
            for (int op = 0; op < WP_OP_COUNT; op++)
                if (strcmp(op_names[op], name) == 0)
                    seen[op] = true;
        }
    }
}

static int coverage(wasmplug_engine *e, int n, char **paths)
{
    bool seen[WP_OP_COUNT] = {false}, fused[WP_OP_COUNT] = {false};
    for (int op = 0; op < WP_OP_COUNT; op++) {
        const wp_fusion *f = &wp_fusions[op];
        const uint16_t targets[] = {f->imm,    f->br,     f->addr_imm, f->load_op,
                                    f->update, f->add_br, f->addr_add};
        for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
            if (targets[i])
                fused[targets[i]] = true;
    }
    fused[WP_OP_COPY2] = fused[WP_OP_I32_ADD2] = fused[WP_OP_I32_ADD_SHL] = true;
    fused[WP_OP_F32_ADD2] = fused[WP_OP_F64_ADD2] = true;
    for (int i = 0; i < n; i++) {
        size_t size;
        uint8_t *bytes = test_read_file(paths[i], &size);
        wasmplug_module *m;
        wasmplug_error err;
        if (!bytes || wasmplug_module_new(e, bytes, size, &m, &err) != WASMPLUG_OK) {
            fprintf(stderr, "diff_run: %s does not load\n", paths[i]);
            return 1;
        }
        free(bytes);
        mark_ops(m, seen);
        wasmplug_module_free(m);
    }
    int total = 0, reached = 0;
    for (int op = 0; op < WP_OP_COUNT; op++) {
        if (!fused[op])
            continue;
        total++;
        if (seen[op])
            reached++;
        else
            printf("never reached: %s\n", op_names[op]);
    }
    printf("superinstructions reached: %d of %d\n", reached, total);
    return reached == total ? 0 : 1;
}

static void print_value(wasmplug_valtype t, const wasmplug_slot *v)
{
    switch (t) {
    case WASMPLUG_I32:
        printf("i32:%" PRIu32, v->u32);
        break;
    case WASMPLUG_I64:
        printf("i64:%" PRIu64, v->u64);
        break;
    case WASMPLUG_F32:
        printf("f32:%f", (double)v->f32);
        break;
    case WASMPLUG_F64:
        printf("f64:%f", v->f64);
        break;
    default:
        printf("%s:?", wasmplug_valtype_name(t));
    }
}

static void print_values(const wasmplug_valtype *types, uint32_t n, const wasmplug_slot *v)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            printf(", ");
        print_value(types[i], &v[i]);
    }
}

typedef struct import_fn {
    char name[256];
    wasmplug_functype type;
} import_fn;

static int dummy_import(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    const import_fn *f = user;
    printf("called host %s(", f->name);
    print_values(f->type.params, f->type.param_count, slots);
    printf(") =>");
    memset(slots, 0, f->type.result_count * sizeof *slots);
    if (f->type.result_count) {
        printf(" ");
        print_values(f->type.results, f->type.result_count, slots);
    }
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    if (argc > 2 && strcmp(argv[1], "--coverage") == 0) {
        wasmplug_engine *ce = test_engine_with(bounds, NULL, NULL);
        int rc = coverage(ce, argc - 2, argv + 2);
        wasmplug_engine_free(ce);
        return rc;
    }
    bool roundtrip = argc > 2 && strcmp(argv[1], "--roundtrip") == 0;
    const char *path = argv[argc - 1];
    if (argc != (roundtrip ? 3 : 2)) {
        fprintf(stderr, "usage: diff_run [--bounds guard|explicit] [--roundtrip] FILE.wasm\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    size_t size;
    uint8_t *bytes = test_read_file(path, &size);
    wasmplug_module *m = NULL;
    wasmplug_error err;
    if (!bytes || wasmplug_module_new(e, bytes, size, &m, &err) != WASMPLUG_OK) {
        printf("load failed: %s\n", bytes ? err.message : "cannot read the file");
        return 1;
    }
    free(bytes);
    if (roundtrip) {
        uint8_t *ser;
        size_t n;
        wasmplug_module *back = NULL;
        if (wasmplug_module_serialize(m, &ser, &n, &err) != WASMPLUG_OK ||
            wasmplug_module_deserialize(e, ser, n, &back, &err) != WASMPLUG_OK) {
            printf("serialization round trip failed: %s\n", err.message);
            return 1;
        }
        wasmplug_serialized_free(ser);
        wasmplug_module_free(m);
        m = back;
    }
    uint32_t nimp = wasmplug_module_import_count(m);
    wasmplug_extern *imports = calloc(nimp + 1, sizeof *imports);
    import_fn *fns = calloc(nimp + 1, sizeof *fns);
    for (uint32_t i = 0; i < nimp; i++) {
        const char *mod, *name;
        size_t ml, nl;
        wasmplug_externtype t;
        wasmplug_module_import(m, i, &mod, &ml, &name, &nl, &t);
        if (t.kind != WASMPLUG_EXTERN_FUNC) {
            fprintf(stderr, "diff_run: %s: imports a %s (only functions can be dummies)\n", path,
                    t.kind == WASMPLUG_EXTERN_MEMORY ? "memory" : "table or global");
            return 3;
        }
        snprintf(fns[i].name, sizeof fns[i].name, "%.*s.%.*s", (int)ml, mod, (int)nl, name);
        fns[i].type = t.of.func;
        imports[i].kind = WASMPLUG_EXTERN_FUNC;
        if (wasmplug_func_new_host(e, &t.of.func, dummy_import, &fns[i], NULL,
                                   &imports[i].of.func) != WASMPLUG_OK)
            return 1;
    }
    wasmplug_instance *inst;
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (wasmplug_instance_new(m, imports, nimp, &cfg, &inst, &err) != WASMPLUG_OK) {
        printf("error: %s\n", err.trap != WASMPLUG_TRAP_NONE ? wasmplug_trap_string(err.trap)
                                                             : err.message);
        return 0;
    }
    uint32_t nexp = wasmplug_module_export_count(m);
    for (uint32_t i = 0; i < nexp; i++) {
        const char *name;
        size_t len;
        wasmplug_externtype t;
        wasmplug_extern ext;
        if (wasmplug_module_export(m, i, &name, &len, &t) != WASMPLUG_OK ||
            t.kind != WASMPLUG_EXTERN_FUNC ||
            wasmplug_instance_export_n(inst, name, len, &ext) != WASMPLUG_OK)
            continue;
        const wasmplug_functype *ft = &t.of.func;
        wasmplug_slot slots[64];
        memset(slots, 0, sizeof slots);
        if (ft->param_count > 0 || ft->result_count > 32)
            continue; /* wasm-interp runs only the exports without parameters */
        /* The imports it calls print first: the line follows the call, as in
         * wasm-interp (the arguments are all zero). */
        wasmplug_status st = wasmplug_func_call_slots(ext.of.func, slots, &err);
        wasmplug_slot zeros[32];
        memset(zeros, 0, sizeof zeros);
        printf("%.*s(", (int)len, name);
        print_values(ft->params, ft->param_count, zeros);
        printf(") =>");
        if (st == WASMPLUG_OK) {
            if (ft->result_count)
                printf(" ");
            print_values(ft->results, ft->result_count, slots);
            printf("\n");
        } else {
            printf(" error: %s\n", err.trap != WASMPLUG_TRAP_NONE ? wasmplug_trap_string(err.trap)
                                                                 : err.message);
        }
    }
    fflush(stdout);
    wasmplug_instance_free(inst);
    for (uint32_t i = 0; i < nimp; i++)
        wasmplug_extern_release(imports[i]);
    free(imports);
    free(fns);
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
    return 0;
}
