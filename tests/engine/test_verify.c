/*
 * test_verify.c - forged compiled-module cache entries are refused
 * (src/engine/verify.c, the verifier of loaded code, and the module-level
 * validation serialize.c runs again).
 *
 * Each case compiles a fixture (tests/engine/fixtures/verify*.wat), forges
 * one instruction of one function's compiled code in memory, serializes it
 * (the checksum is then valid: only a forger can produce such an entry) and
 * loads it: the load must fail naming what is wrong. Without the verifier
 * each of these entries loaded, and running it crashed or corrupted memory
 * (a number called as a function, a table of host pointers called through,
 * a shared static memory grown, a lane read outside the frame).
 */
#include "engine/module.h"
#include "engine/verify.h"
#include "test.h"

#include <string.h>

static wasmplug_bounds_mode bounds;

static uint32_t export_func(const wasmplug_module *m, const char *name)
{
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WASMPLUG_EXTERN_FUNC && !strcmp(m->exports[i].name.str, name))
            return m->exports[i].index;
    return UINT32_MAX;
}

/* The operation cell of the nth (from 0) op in c (operands follow it), or
 * NULL. */
static wp_cell *find_nth_op(wp_code *c, wp_op op, unsigned nth)
{
    for (uint32_t pc = 0; pc < c->ncells;) {
        wp_op o = wp_cell_op(c->cells[pc]);
        if (o == op && nth-- == 0)
            return &c->cells[pc];
        const char *l = wp_op_operands[o];
        uint32_t n = (uint32_t)strlen(l);
        if (n >= 4 && !strcmp(l + n - 3, "...")) /* BR_TABLE: n + 1 offsets */
            n = n - 3 + c->cells[pc + 2].u32;
        pc += 1 + n;
    }
    return NULL;
}
static wp_cell *find_op(wp_code *c, wp_op op) { return find_nth_op(c, op, 0); }

typedef void (*forge_fn)(wp_code *c);

/* Compile fixture, forge function `func` with edit, serialize and load: the
 * load must fail with a message containing msg. The same entry unforged
 * must load (the case tests the forgery, not the fixture). */
static void forged(const char *fixture, const char *func, forge_fn edit, const char *msg)
{
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    size_t size = 0;
    uint8_t *wasm = test_fixture(fixture, &size);
    wasmplug_module *m = NULL, *m2 = NULL;
    wasmplug_error err;
    memset(&err, 0, sizeof err);
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK_STATUS(wasmplug_module_new(e, wasm, size, &m, &err), WASMPLUG_OK);
    if (m) {
        CHECK_STATUS(wasmplug_module_serialize(m, &b, &n, &err), WASMPLUG_OK);
        CHECK_STATUS(wasmplug_module_deserialize(e, b, n, &m2, &err), WASMPLUG_OK);
        wasmplug_module_free(m2);
        m2 = NULL;
        wasmplug_serialized_free(b);
        b = NULL;
        uint32_t fi = export_func(m, func);
        CHECK(fi < m->nfuncs);
        if (fi < m->nfuncs) {
            edit(&m->funcs[fi].code);
            CHECK_STATUS(wasmplug_module_serialize(m, &b, &n, &err), WASMPLUG_OK);
            CHECK_STATUS(wasmplug_module_deserialize(e, b, n, &m2, &err),
                         WASMPLUG_ERR_SERIALIZATION);
            CHECK(m2 == NULL);
            if (!test_check(strstr(err.message, msg) != NULL, __FILE__, __LINE__,
                            "the error names what is forged"))
                printf("     %s: got \"%s\", want \"%s\"\n", func, err.message, msg);
        }
    }
    wasmplug_module_free(m2);
    wasmplug_serialized_free(b);
    wasmplug_module_free(m);
    free(wasm);
    wasmplug_engine_free(e);
}

/* ref.null (a CONST of 0) forged into a number: stored into a funcref
 * table and called through, it would be called as a wasmplug_func*. */
static void int_into_table(wp_code *c)
{
    for (unsigned i = 0; find_nth_op(c, WP_OP_CONST, i); i++) {
        wp_cell *k = find_nth_op(c, WP_OP_CONST, i);
        if (k[2].u64 == 0) {
            k[2].u64 = 0x41414141;
            return;
        }
    }
    CHECK(!"the fixture has a ref.null constant");
}

/* table.copy within the funcref table forged to copy from the externref
 * table: host pointers would become callable. */
static void extern_into_funcref(wp_code *c)
{
    wp_cell *k = find_op(c, WP_OP_TABLE_COPY);
    CHECK(k != NULL);
    if (k)
        k[2].u32 = 1; /* source table $e */
}

/* global.set $g forged to write the immutable global $k. */
static void immutable_global(wp_code *c)
{
    wp_cell *k = find_op(c, WP_OP_GLOBAL_SET);
    CHECK(k != NULL);
    if (k)
        k[1].u32 = 0;
}

/* ref.func forged into global.get of the i32 global: the function would
 * return a number as its funcref result, to a host that may call it. */
static void number_as_result(wp_code *c)
{
    wp_cell *k = find_op(c, WP_OP_REF_FUNC);
    CHECK(k != NULL);
    if (k) {
        k[0] = wp_op_cell_bounds(WP_OP_GLOBAL_GET, bounds);
        k[2].u32 = 0;
    }
}

/* i32x4.extract_lane 1 forged to lane 0x10000: the interpreter reads slot
 * a + lane / 2, far outside the frame. */
static void lane_out_of_range(wp_code *c)
{
    wp_cell *k = find_op(c, WP_OP_I32X4_EXTRACT_LANE);
    CHECK(k != NULL);
    if (k)
        k[3].u32 = 0x10000;
}

/* i32.eqz forged into memory.grow (the same operands) in a module without
 * memory: it would grow the interpreter's shared empty memory. */
static void grow_without_memory(wp_code *c)
{
    wp_cell *k = find_op(c, WP_OP_I32_EQZ);
    CHECK(k != NULL);
    if (k)
        k[0] = wp_op_cell_bounds(WP_OP_MEMORY_GROW, bounds);
}

/* The final RETURN cut off: the interpreter would run past the code. */
static void runs_past_end(wp_code *c)
{
    CHECK(wp_cell_op(c->cells[c->ncells - 1]) == WP_OP_RETURN);
    c->ncells--;
}

/* The module binary inside the entry forged: the funcref global's
 * initializer ref.null func (d0 70) made i32.const 5 (41 05). Module-level
 * validation runs on load, or the global would hold the pointer 5. */
static void forged_global_init(void)
{
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    size_t size = 0;
    uint8_t *wasm = test_fixture("verify", &size);
    wasmplug_module *m = NULL, *m2 = NULL;
    wasmplug_error err;
    uint8_t *b = NULL;
    size_t n = 0;
    CHECK_STATUS(wasmplug_module_new(e, wasm, size, &m, &err), WASMPLUG_OK);
    if (m)
        CHECK_STATUS(wasmplug_module_serialize(m, &b, &n, &err), WASMPLUG_OK);
    static const uint8_t init[] = {0x70, 0x01, 0xd0, 0x70, 0x0b};
    size_t at = n;
    for (size_t i = 36; b && i + sizeof init <= n; i++)
        if (!memcmp(b + i, init, sizeof init))
            at = i;
    CHECK(at < n);
    if (at < n) {
        b[at + 2] = 0x41;
        b[at + 3] = 0x05;
        uint64_t h = wp_serialized_checksum(b + 36, n - 36);
        for (int i = 0; i < 8; i++)
            b[28 + i] = (uint8_t)(h >> (8 * i));
        CHECK_STATUS(wasmplug_module_deserialize(e, b, n, &m2, &err), WASMPLUG_ERR_SERIALIZATION);
        CHECK_CONTAINS(err.message, "type mismatch");
    }
    wasmplug_module_free(m2);
    wasmplug_serialized_free(b);
    wasmplug_module_free(m);
    free(wasm);
    wasmplug_engine_free(e);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    forged("verify", "store_call", int_into_table, "as a function reference");
    forged("verify", "copy", extern_into_funcref, "copies externref into table 0");
    forged("verify", "set_global", immutable_global, "immutable");
    forged("verify", "get_ref", number_as_result, "as a function reference");
    forged("verify", "lane", lane_out_of_range, "lane 65536");
    forged("verify", "eqz", runs_past_end, "runs past its end");
    forged("verify_nomem", "eqz", grow_without_memory, "without memory");
    forged_global_init();
    return test_done();
}
