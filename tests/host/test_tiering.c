/*
 * test_tiering.c - a plugin's tiering policy (wasmplug_tiering): a tiered
 * plugin serves calls from four threads at once while its native code is
 * compiled in the background, and no call is lost or answered differently
 * before, during or after the switch; a native plugin runs native code from
 * its first call; an interpreter-only plugin never does; a SIMD module asked
 * to run natively runs in the interpreter with the reason; the plugin's
 * host functions, config and state work the same in both tiers; a host freed
 * while a background compile runs stops it.
 *
 * Needs a C compiler (cc, or $CC).
 */
#include "host_test.h"

#include <stdatomic.h>

typedef struct caller {
    wasmplug_plugin *p;
    atomic_int *native_seen_by_all;
    int id;
    long calls, before_native, after_native, failed, wrong;
} caller;

static void *serve(void *arg)
{
    caller *c = arg;
    char in[64];
    int after = 0;
    while (after < 20) {
        bool native = strcmp(wasmplug_plugin_tier(c->p, NULL, 0), "native") == 0;
        snprintf(in, sizeof in, "thread %d call %ld", c->id, c->calls);
        wasmplug_status st;
        wasmplug_plugin_error err;
        char *out = host_test_call(c->p, "echo", in, &st, &err);
        if (st != WASMPLUG_OK)
            c->failed++;
        else if (strcmp(out, in) != 0)
            c->wrong++;
        free(out);
        c->calls++;
        if (native) {
            c->after_native++;
            after++;
        } else {
            c->before_native++;
        }
        if (c->calls > 2000000)
            break; /* never ready: the checks below fail */
    }
    return NULL;
}

static void test_tiered(wasmplug_host *h)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.pool_size = 4;
    o.tiering = WASMPLUG_TIERING_TIERED;
    wasmplug_plugin *p = host_test_load(h, "tiered", "good", &o);
    if (!p)
        return;
    /* the interpreter serves at once */
    const char *tier = wasmplug_plugin_tier(p, NULL, 0);
    CHECK(strcmp(tier, "compiling") == 0 || strcmp(tier, "native") == 0);
    pthread_t t[4];
    caller c[4];
    for (int i = 0; i < 4; i++) {
        c[i] = (caller){p, NULL, i, 0, 0, 0, 0, 0};
        pthread_create(&t[i], NULL, serve, &c[i]);
    }
    long before = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(c[i].failed, 0);
        CHECK_EQ(c[i].wrong, 0);
        CHECK(c[i].after_native >= 20);
        before += c[i].before_native;
    }
    CHECK(before > 0); /* calls were served while the code was being compiled */
    CHECK(strcmp(wasmplug_plugin_tier(p, NULL, 0), "native") == 0);
    wasmplug_metrics m;
    wasmplug_plugin_get_metrics(p, &m);
    long total = 0;
    for (int i = 0; i < 4; i++)
        total += c[i].calls;
    CHECK_EQ(m.calls, (uint64_t)total);
    CHECK_EQ(m.errors, 0);
    wasmplug_plugin_release(p);
}

static void test_native_and_interpreter(wasmplug_host *h)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.limits.fuel = 1000000000; /* fuel counted */
    o.tiering = WASMPLUG_TIERING_NATIVE;
    wasmplug_plugin *n = host_test_load(h, "native", "good", &o);
    o.tiering = WASMPLUG_TIERING_INTERPRETER;
    wasmplug_plugin *i = host_test_load(h, "interp", "good", &o);
    if (!n || !i)
        return;
    char why[256];
    CHECK(strcmp(wasmplug_plugin_tier(n, why, sizeof why), "native") == 0);
    CHECK(strcmp(wasmplug_plugin_tier(i, why, sizeof why), "interpreter") == 0);
    CHECK_CONTAINS(why, "policy");
    /* the same answers, state, host functions and fuel in both */
    CHECK_CALL(n, "echo", "abc", "abc");
    CHECK_CALL(i, "echo", "abc", "abc");
    CHECK_CALL(n, "count", NULL, "1");
    CHECK_CALL(i, "count", NULL, "1");
    CHECK_CALL(n, "count", NULL, "2");
    CHECK_CALL(i, "count", NULL, "2");
    CHECK_CALL(n, "greet", "you", "Hi, you!");
    CHECK_CALL(i, "greet", "you", "Hi, you!");
    wasmplug_metrics mn, mi;
    wasmplug_plugin_get_metrics(n, &mn);
    wasmplug_plugin_get_metrics(i, &mi);
    CHECK(mn.fuel_used > 0);
    CHECK_EQ(mn.fuel_used, mi.fuel_used);
    wasmplug_plugin_release(n);
    wasmplug_plugin_release(i);
}

static int hf_vmix(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    (void)call;
    (void)user;
    (void)args;
    (void)results;
    return 0;
}

static void test_simd_stays_interpreted(wasmplug_host *h)
{
    CHECK_CODE(wasmplug_host_register(h, "env", "vmix", "(iV)Vi", hf_vmix, NULL, NULL),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "*", "env.vmix"), WASMPLUG_OK, NULL);
    static const char *const perms[] = {"env.vmix"};
    wasmplug_manifest m = host_test_manifest("simd");
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.tiering = WASMPLUG_TIERING_NATIVE;
    wasmplug_plugin *p = host_test_load(h, "simd", "simd_host", &o);
    if (!p)
        return;
    char why[256];
    CHECK(strcmp(wasmplug_plugin_tier(p, why, sizeof why), "interpreter") == 0);
    CHECK_CONTAINS(why, "SIMD");
    wasmplug_plugin_release(p);
}

/* A host freed while its tiered plugin compiles: the compile is stopped. */
static void test_free_while_compiling(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.tiering = WASMPLUG_TIERING_TIERED;
    wasmplug_plugin *p = host_test_load(h, "early", "good", &o);
    if (p) {
        CHECK_CALL(p, "echo", "x", "x");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasmplug_host *h = host_test_new(NULL);
    test_tiered(h);
    test_native_and_interpreter(h);
    test_simd_stays_interpreted(h);
    wasmplug_host_free(h);
    test_free_while_compiling();
    return test_done();
}
