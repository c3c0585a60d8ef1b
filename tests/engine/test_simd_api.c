/*
 * test_simd_api.c - v128 values through the engine's public API: typed
 * calls (wasmplug_val.of / of_hi), the slot layout of host functions (a v128
 * takes two slots) and of wasmplug_func_call_slots, globals, and the
 * WASMPLUG_FEATURE_SIMD bit.
 */
#include "test.h"

#include <string.h>

/* twist(i32 a, v128 v, f64 x) -> (v with lane 2 = a * 100, a + (int)(x * 10)).
 * Slots on entry: a, v.lo, v.hi, x; on return: r.lo, r.hi, i32. */
static int twist(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    int *calls = user;
    int32_t a = slots[0].i32;
    wasmplug_slot lo = slots[1], hi = slots[2];
    double x = slots[3].f64;
    hi.u64 = (hi.u64 & 0xFFFFFFFF00000000u) | (uint32_t)(a * 100);
    slots[0] = lo;
    slots[1] = hi;
    slots[2].u64 = 0;
    slots[2].i32 = a + (int32_t)(x * 10);
    (*calls)++;
    return 0;
}

int main(void)
{
    wasmplug_engine *e = test_engine();
    size_t size = 0;
    uint8_t *bytes = test_fixture("simd_api", &size);
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_module *m = NULL;
    CHECK_STATUS(wasmplug_module_new(e, bytes, size, &m, &err), WASMPLUG_OK);
    free(bytes);
    if (!m)
        return test_done();
    CHECK(wasmplug_module_features(m) & WASMPLUG_FEATURE_SIMD);
    CHECK(strcmp(wasmplug_feature_name(WASMPLUG_FEATURE_SIMD), "fixed-width SIMD") == 0);

    int calls = 0;
    const wasmplug_valtype params[] = {WASMPLUG_I32, WASMPLUG_V128, WASMPLUG_F64};
    const wasmplug_valtype results[] = {WASMPLUG_V128, WASMPLUG_I32};
    wasmplug_functype ft = {3, 2, params, results};
    wasmplug_func *host = NULL;
    CHECK_STATUS(wasmplug_func_new_host(e, &ft, twist, &calls, NULL, &host), WASMPLUG_OK);
    wasmplug_extern imp = {.kind = WASMPLUG_EXTERN_FUNC, .of.func = host};
    wasmplug_instance *inst = NULL;
    CHECK_STATUS(wasmplug_instance_new(m, &imp, 1, NULL, &inst, &err), WASMPLUG_OK);
    if (!inst)
        return test_done();

    /* typed call: v128 and i64 in, v128 and i64 out */
    wasmplug_extern ext;
    CHECK_STATUS(wasmplug_instance_export(inst, "add_splat", &ext), WASMPLUG_OK);
    wasmplug_val args[2] = {test_v128(10, 20), test_i64(5)};
    wasmplug_val res[2];
    CHECK_STATUS(wasmplug_func_call(ext.of.func, args, 2, res, 2, &err), WASMPLUG_OK);
    CHECK(res[0].type == WASMPLUG_V128 && res[0].of.u64 == 15 && res[0].of_hi.u64 == 25);
    CHECK(res[1].type == WASMPLUG_I64 && res[1].of.i64 == 10);

    /* the same through slots: v128 = two slots */
    wasmplug_slot slots[3];
    slots[0].u64 = 1;
    slots[1].u64 = 2;
    slots[2].i64 = 100;
    CHECK_STATUS(wasmplug_func_call_slots(ext.of.func, slots, &err), WASMPLUG_OK);
    CHECK(slots[0].u64 == 101 && slots[1].u64 == 102 && slots[2].i64 == 200);

    /* a type mismatch is still an argument error */
    wasmplug_val wrong[2] = {test_i64(1), test_i64(5)};
    CHECK_STATUS(wasmplug_func_call(ext.of.func, wrong, 2, res, 2, &err), WASMPLUG_ERR_ARGUMENT);

    /* wasm -> host with a v128 between scalars, and back */
    CHECK_STATUS(wasmplug_instance_export(inst, "via_host", &ext), WASMPLUG_OK);
    wasmplug_val v = test_v128(0, 0x0000000900000000u);
    wasmplug_val r;
    CHECK_STATUS(wasmplug_func_call(ext.of.func, &v, 1, &r, 1, &err), WASMPLUG_OK);
    CHECK_EQ(r.of.i32, 700 + 12);
    CHECK_EQ(calls, 1);

    /* globals */
    CHECK_STATUS(wasmplug_instance_export(inst, "g", &ext), WASMPLUG_OK);
    wasmplug_val g = wasmplug_global_get(ext.of.global);
    CHECK(g.type == WASMPLUG_V128 && g.of.u64 == 0x0000000200000001u &&
          g.of_hi.u64 == 0x0000000400000003u);
    CHECK_STATUS(wasmplug_global_set(ext.of.global, test_v128(5, 6)), WASMPLUG_OK);
    wasmplug_extern bump;
    CHECK_STATUS(wasmplug_instance_export(inst, "bump", &bump), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_func_call(bump.of.func, NULL, 0, NULL, 0, &err), WASMPLUG_OK);
    g = wasmplug_global_get(ext.of.global);
    CHECK(g.of.u64 == 10 && g.of_hi.u64 == 12);

    /* a host-created v128 global */
    wasmplug_global *hg = NULL;
    CHECK_STATUS(wasmplug_global_new(e, test_v128(7, 8), false, &hg), WASMPLUG_OK);
    if (hg) {
        g = wasmplug_global_get(hg);
        CHECK(g.type == WASMPLUG_V128 && g.of.u64 == 7 && g.of_hi.u64 == 8);
        wasmplug_global_free(hg);
    }

    wasmplug_instance_free(inst);
    wasmplug_func_free(host);
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
    return test_done();
}
