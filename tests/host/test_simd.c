/*
 * test_simd.c - v128 values through the plugin host: a typed host function
 * with V in its compact signature (argument bytes in value/value_hi, two
 * result slots) and typed plugin calls with v128 arguments and results.
 */
#include "host_test.h"

/* vmix(i32 k, v128 v) -> (each i32 lane of v times 2, k * 10). */
static int hf_vmix(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    (void)call;
    (*(int *)user)++;
    if (args[0].kind != 'i' || args[1].kind != 'V')
        return 1;
    uint32_t lanes[4] = {args[1].value.u32, (uint32_t)(args[1].value.u64 >> 32),
                         args[1].value_hi.u32, (uint32_t)(args[1].value_hi.u64 >> 32)};
    results[0].u64 = (uint64_t)(lanes[0] * 2) | (uint64_t)(lanes[1] * 2) << 32;
    results[1].u64 = (uint64_t)(lanes[2] * 2) | (uint64_t)(lanes[3] * 2) << 32;
    results[2].u64 = 0;
    results[2].i32 = args[0].value.i32 * 10;
    return 0;
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    int calls = 0;
    wasmplug_host *h = host_test_new(NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "vmix", "(iV)Vi", hf_vmix, &calls, NULL),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "bad", "(W)", hf_vmix, &calls, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "*", "env.vmix"), WASMPLUG_OK, NULL);

    char path[1024];
    host_test_path(path, sizeof path, "simd_host");
    static const char *const perms[] = {"env.vmix"};
    wasmplug_manifest m = host_test_manifest("simd");
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load_file(h, "simd", path, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        /* lanes (1, 2, 3, 4) -> (2, 4, 6, 8) + 30 */
        wasmplug_val arg = test_v128(0x0000000200000001u, 0x0000000400000003u), res;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "mix", &arg, 1, &res, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK(res.type == WASMPLUG_V128);
        CHECK(res.of.u64 == 0x0000002200000020u && res.of_hi.u64 == 0x0000002600000024u);
        CHECK_EQ(calls, 1);

        /* two v128 arguments, an i32 result: i16 lanes (1..8) . (2, 2, ...) = 72 */
        wasmplug_val two[2] = {test_v128(0x0004000300020001u, 0x0008000700060005u),
                               test_v128(0x0002000200020002u, 0x0002000200020002u)};
        CHECK_CODE(wasmplug_plugin_call_typed(p, "dot", two, 2, &res, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(res.of.i32, 72);
        /* wrong argument types are refused before the call */
        wasmplug_val wrong[2] = {test_i32(1), test_i32(2)};
        CHECK_CODE(wasmplug_plugin_call_typed(p, "dot", wrong, 2, &res, 1, &err),
                   WASMPLUG_ERR_ARGUMENT, &err);
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
    return test_done();
}
