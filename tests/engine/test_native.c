/*
 * test_native.c - the native tier (wasmplug/native.h) against the
 * interpreter on the fixture native.wat: the same results and the same fuel
 * consumed per call, out of fuel, interrupts from another thread, the call
 * depth limit with a backtrace, memory bounds (both bounds modes), the memory
 * page limit, tables and host imports (directly and through call_indirect),
 * multi-value results; shared objects made for another module refused; and a
 * tier-up while four threads keep calling (no call lost or wrong).
 *
 * Needs a C compiler (cc, or $CC); without one the test says so and fails.
 */
#include "test.h"
#include "wasmplug/native.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

static uint8_t *fixture;
static size_t fixture_size;
static char so_dir[] = "/tmp/wasmplug-test-native-XXXXXX";
static unsigned so_seq;

static int host_add(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    slots[0].u32 = slots[0].u32 + slots[1].u32;
    return 0;
}

static wasmplug_func *host_fn(wasmplug_engine *e)
{
    static const wasmplug_valtype p[2] = {WASMPLUG_I32, WASMPLUG_I32}, r[1] = {WASMPLUG_I32};
    wasmplug_functype t = {2, 1, p, r};
    wasmplug_func *f = NULL;
    CHECK_STATUS(wasmplug_func_new_host(e, &t, host_add, NULL, NULL, &f), WASMPLUG_OK);
    return f;
}

/* Compile m into a fresh shared object and attach it. */
static wasmplug_status attach(wasmplug_module *m, wasmplug_error *err)
{
    char so[128];
    snprintf(so, sizeof so, "%s/m%u.so", so_dir, ++so_seq);
    wasmplug_status st = wasmplug_native_compile(m, so, NULL, err);
    if (st == WASMPLUG_OK)
        st = wasmplug_module_attach_native(m, so, err);
    unlink(so);
    return st;
}

static wasmplug_instance *instantiate(wasmplug_module *m, wasmplug_func *hadd, uint64_t fuel)
{
    wasmplug_extern imp = {.kind = WASMPLUG_EXTERN_FUNC, .of.func = hadd};
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fuel = fuel;
    cfg.max_memory_pages = 2;
    cfg.max_call_depth = 500;
    wasmplug_instance *inst = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_instance_new(m, &imp, 1, &cfg, &inst, &err), WASMPLUG_OK);
    return inst;
}

static wasmplug_status call2(wasmplug_instance *inst, const char *name, int nargs, int32_t a,
                             int32_t b, int32_t *result, wasmplug_error *err)
{
    wasmplug_func *f = wasmplug_instance_func(inst, name);
    if (!f)
        return WASMPLUG_ERR_NOT_FOUND;
    wasmplug_val args[2] = {test_i32(a), test_i32(b)};
    wasmplug_val res = test_i32(0);
    wasmplug_functype t = wasmplug_func_type(f);
    wasmplug_status st = wasmplug_func_call(f, args, (size_t)nargs, &res, t.result_count, err);
    if (result)
        *result = res.of.i32;
    return st;
}

/* Both tiers side by side: results, fuel, traps. */
static void test_equivalence(wasmplug_engine *e)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, fixture, fixture_size, &m, &err), WASMPLUG_OK);
    if (!m)
        return;
    CHECK(wasmplug_native_supported(m, NULL, 0));
    CHECK(!wasmplug_module_has_native(m));
    CHECK_STATUS(attach(m, &err), WASMPLUG_OK);
    if (!wasmplug_module_has_native(m)) {
        printf("FAIL: no native code: %s\n", err.message);
        wasmplug_module_free(m);
        return;
    }
    wasmplug_func *hadd = host_fn(e);
    wasmplug_instance *nat = instantiate(m, hadd, 1000000);
    wasmplug_instance *itp = instantiate(m, hadd, 1000000);
    if (!nat || !itp)
        return;
    wasmplug_instance_set_tier(itp, WASMPLUG_TIER_INTERPRETER);

    int32_t rn = 0, ri = 0;
    CHECK_STATUS(call2(nat, "count", 1, 1000, 0, &rn, &err), WASMPLUG_OK);
    CHECK_STATUS(call2(itp, "count", 1, 1000, 0, &ri, &err), WASMPLUG_OK);
    CHECK_EQ(rn, ri);
    CHECK_EQ(rn, 332833500 + 499500);
    /* fuel is costed per region exactly as the interpreter does */
    CHECK(wasmplug_instance_fuel_consumed(nat) > 1000);
    CHECK_EQ(wasmplug_instance_fuel_consumed(nat), wasmplug_instance_fuel_consumed(itp));
    CHECK(wasmplug_instance_native_calls(nat) >= 1);
    CHECK_EQ(wasmplug_instance_native_calls(itp), 0);

    /* out of fuel: both stop at the same point */
    CHECK_STATUS(call2(nat, "spin", 0, 0, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
    CHECK_STATUS(call2(itp, "spin", 0, 0, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
    CHECK_EQ(wasmplug_instance_fuel(nat), 0);
    CHECK_EQ(wasmplug_instance_fuel_consumed(nat), wasmplug_instance_fuel_consumed(itp));
    wasmplug_instance_set_fuel(nat, WASMPLUG_FUEL_UNLIMITED);
    wasmplug_instance_set_fuel(itp, WASMPLUG_FUEL_UNLIMITED);

    /* call depth: a trap with the function's name in the backtrace */
    CHECK_STATUS(call2(nat, "recurse", 1, 0, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);
    CHECK(err.frame_count > 1);
    CHECK_CONTAINS(err.frames[0].func_name, "recurse");
    CHECK_CONTAINS(err.message, "recurse");

    /* memory bounds and traps, then the instance still works */
    CHECK_STATUS(call2(nat, "load", 1, 65533, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK_CONTAINS(err.message, "load");
    CHECK_STATUS(call2(nat, "load", 1, 65532, 0, &rn, &err), WASMPLUG_OK);
    CHECK_STATUS(call2(nat, "div", 2, 7, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
    CHECK_STATUS(call2(nat, "div", 2, INT32_MIN, -1, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTEGER_OVERFLOW);
    CHECK_STATUS(call2(nat, "div", 2, -7, 2, &rn, &err), WASMPLUG_OK);
    CHECK_EQ(rn, -3);

    /* memory limit: 2 pages for this instance */
    CHECK_STATUS(call2(nat, "grow", 1, 1, 0, &rn, &err), WASMPLUG_OK);
    CHECK_EQ(rn, 1);
    CHECK_STATUS(call2(nat, "grow", 1, 1, 0, &rn, &err), WASMPLUG_OK);
    CHECK_EQ(rn, -1);
    CHECK_EQ(wasmplug_instance_grows_refused(nat), 1);
    CHECK_STATUS(call2(nat, "load", 1, 65536 * 2 - 4, 0, &rn, &err), WASMPLUG_OK);

    /* tables: native target, host import target, bad index */
    CHECK_STATUS(call2(nat, "indirect", 2, 0, 9, &rn, &err), WASMPLUG_OK);
    CHECK_EQ(rn, 81);
    CHECK_STATUS(call2(nat, "indirect", 2, 1, 9, &rn, &err), WASMPLUG_OK);
    CHECK_EQ(rn, 10);
    CHECK_STATUS(call2(nat, "indirect", 2, 2, 9, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNDEFINED_ELEMENT);

    /* two results */
    wasmplug_func *pair = wasmplug_instance_func(nat, "pair");
    wasmplug_val arg = test_i64(-5), res[2];
    CHECK_STATUS(wasmplug_func_call(pair, &arg, 1, res, 2, &err), WASMPLUG_OK);
    CHECK_EQ(res[0].of.i64, -5);
    CHECK(res[1].of.f64 == -5.0);

    wasmplug_instance_free(nat);
    wasmplug_instance_free(itp);
    wasmplug_func_free(hadd);
    wasmplug_module_free(m);
}

/* Counted loops run in chunks: the same fuel as the interpreter, running
 * out at the same point, traps inside a chunk, odd trip counts. */
static void test_counted_loops(wasmplug_engine *e)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, fixture, fixture_size, &m, &err), WASMPLUG_OK);
    if (!m || attach(m, &err) != WASMPLUG_OK)
        return;
    wasmplug_func *hadd = host_fn(e);
    wasmplug_instance *nat = instantiate(m, hadd, 100000000);
    wasmplug_instance *itp = instantiate(m, hadd, 100000000);
    if (!nat || !itp)
        return;
    wasmplug_instance_set_tier(itp, WASMPLUG_TIER_INTERPRETER);
    /* bytes to sum: fill the first page through the count function's store */
    int32_t rn = 0, ri = 0;
    CHECK_STATUS(call2(nat, "count", 1, 300, 0, &rn, &err), WASMPLUG_OK);
    CHECK_STATUS(call2(itp, "count", 1, 300, 0, &ri, &err), WASMPLUG_OK);
    /* trip counts from 1 to several chunks (a chunk is about 65,536
     * instructions), and a start past the bound (the count wraps: checked) */
    static const int32_t ns[] = {1, 2, 3, 17, 5000, 70001, 300000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        CHECK_STATUS(call2(nat, "csum", 1, ns[i], 0, &rn, &err), WASMPLUG_OK);
        CHECK_STATUS(call2(itp, "csum", 1, ns[i], 0, &ri, &err), WASMPLUG_OK);
        CHECK_EQ(rn, ri);
        CHECK_EQ(wasmplug_instance_fuel_consumed(nat), wasmplug_instance_fuel_consumed(itp));
    }
    static const int32_t ranges[][2] = {{0, 1}, {0, 3}, {5, 4}, {1, 9000}, {-10, 60000},
                                        {65000, 65535}};
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        int32_t from = ranges[i][0] < 0 ? 0 : ranges[i][0];
        CHECK_STATUS(call2(nat, "crange", 2, from, ranges[i][1], &rn, &err), WASMPLUG_OK);
        CHECK_STATUS(call2(itp, "crange", 2, from, ranges[i][1], &ri, &err), WASMPLUG_OK);
        CHECK_EQ(rn, ri);
        CHECK_EQ(wasmplug_instance_fuel_consumed(nat), wasmplug_instance_fuel_consumed(itp));
    }
    /* a load past the memory (2 pages) inside a chunk traps */
    CHECK_STATUS(call2(nat, "crange", 2, 0, 3 * 65536, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK_STATUS(call2(itp, "crange", 2, 0, 3 * 65536, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* fuel running out in the middle of a long counted loop: the chunks
     * stop and the checked loop traps where the interpreter does */
    static const uint64_t fuels[] = {50, 1000, 123457, 1000003};
    for (size_t i = 0; i < sizeof fuels / sizeof fuels[0]; i++) {
        wasmplug_instance_set_fuel(nat, fuels[i]);
        wasmplug_instance_set_fuel(itp, fuels[i]);
        CHECK_STATUS(call2(nat, "csum", 1, 2000000, 0, NULL, &err), WASMPLUG_ERR_TRAP);
        CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
        CHECK_STATUS(call2(itp, "csum", 1, 2000000, 0, NULL, &err), WASMPLUG_ERR_TRAP);
        CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
        CHECK_EQ(wasmplug_instance_fuel_consumed(nat), wasmplug_instance_fuel_consumed(itp));
        CHECK_EQ(wasmplug_instance_fuel(nat), 0);
    }
    wasmplug_instance_free(nat);
    wasmplug_instance_free(itp);
    wasmplug_func_free(hadd);
    wasmplug_module_free(m);
}

static void *interrupt_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    wasmplug_instance_interrupt(arg);
    return NULL;
}

static void test_interrupt(wasmplug_engine *e)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, fixture, fixture_size, &m, &err), WASMPLUG_OK);
    if (!m || attach(m, &err) != WASMPLUG_OK)
        return;
    wasmplug_func *hadd = host_fn(e);
    wasmplug_instance *inst = instantiate(m, hadd, 0);
    pthread_t t;
    pthread_create(&t, NULL, interrupt_later, inst);
    CHECK_STATUS(call2(inst, "spin", 0, 0, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTERRUPTED);
    pthread_join(t, NULL);
    /* a counted loop of 2^32 - 1 iterations (seconds of work) is
     * interrupted between its chunks */
    pthread_create(&t, NULL, interrupt_later, inst);
    CHECK_STATUS(call2(inst, "csum", 1, -1, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTERRUPTED);
    pthread_join(t, NULL);
    CHECK(wasmplug_instance_native_calls(inst) >= 1);
    int32_t r = 0;
    CHECK_STATUS(call2(inst, "count", 1, 10, 0, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r, 285 + 45);
    wasmplug_instance_free(inst);
    wasmplug_func_free(hadd);
    wasmplug_module_free(m);
}

/* A shared object made from another module is refused. */
static void test_foreign_object(wasmplug_engine *e)
{
    static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    wasmplug_module *a = NULL, *b = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, fixture, fixture_size, &a, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_module_new(e, empty, sizeof empty, &b, &err), WASMPLUG_OK);
    if (!a || !b)
        return;
    char so[128];
    snprintf(so, sizeof so, "%s/foreign.so", so_dir);
    CHECK_STATUS(wasmplug_native_compile(b, so, NULL, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_module_attach_native(a, so, &err), WASMPLUG_ERR_SERIALIZATION);
    CHECK_CONTAINS(err.message, "another module");
    CHECK(!wasmplug_module_has_native(a));
    CHECK_STATUS(wasmplug_module_attach_native(a, "/nonexistent/x.so", &err), WASMPLUG_ERR_IO);
    unlink(so);
    wasmplug_native_options bad = {.cc = "/nonexistent/cc"};
    CHECK_STATUS(wasmplug_native_compile(a, so, &bad, &err), WASMPLUG_ERR_IO);
    CHECK_CONTAINS(err.message, "/nonexistent/cc");
    wasmplug_module_free(a);
    wasmplug_module_free(b);
}

/* Tier-up under load: four threads call their own instance while the
 * module gets its native code; every call returns the right value. */
typedef struct worker {
    wasmplug_instance *inst;
    _Atomic int *stop;
    long calls, wrong, failed;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    while (!atomic_load(w->stop) || wasmplug_instance_native_calls(w->inst) < 3) {
        int32_t r = 0;
        wasmplug_error err;
        if (call2(w->inst, "count", 1, 200, 0, &r, &err) != WASMPLUG_OK)
            w->failed++;
        else if ((uint32_t)r != 2646700u + 19900u * (uint32_t)(w->calls + 1))
            w->wrong++;
        w->calls++;
    }
    return NULL;
}

static void test_tier_up(wasmplug_engine *e)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, fixture, fixture_size, &m, &err), WASMPLUG_OK);
    if (!m)
        return;
    wasmplug_func *hadd = host_fn(e);
    _Atomic int stop = 0;
    worker w[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){instantiate(m, hadd, 0), &stop, 0, 0, 0};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    CHECK_STATUS(attach(m, &err), WASMPLUG_OK);
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].calls > 3);
        CHECK_EQ(w[i].wrong, 0);
        CHECK_EQ(w[i].failed, 0);
        CHECK(wasmplug_instance_native_calls(w[i].inst) >= 3);
        CHECK(wasmplug_instance_native_calls(w[i].inst) < (uint64_t)w[i].calls);
        wasmplug_instance_free(w[i].inst);
    }
    wasmplug_func_free(hadd);
    wasmplug_module_free(m);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fixture = test_fixture("native", &fixture_size);
    if (!mkdtemp(so_dir)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    wasmplug_bounds_mode modes[2] = {WASMPLUG_BOUNDS_AUTO, WASMPLUG_BOUNDS_EXPLICIT};
    for (int i = 0; i < 2; i++) {
        wasmplug_engine *e = test_engine_with(modes[i], NULL, NULL);
        test_equivalence(e);
        test_counted_loops(e);
        test_interrupt(e);
        wasmplug_engine_free(e);
    }
    wasmplug_engine *e = test_engine();
    test_foreign_object(e);
    test_tier_up(e);
    wasmplug_engine_free(e);
    rmdir(so_dir);
    free(fixture);
    return test_done();
}
