/*
 * test_limits.c - the limits that keep a plugin from harming its host, on
 * the fixture limits.wat: fuel (an endless loop stops with OUT_OF_FUEL, fuel
 * left and consumed are readable), interrupts from another thread, call
 * depth, the per-instance memory page limit (a memory.grow loop gets -1 and
 * a grow bomb does not take the host's memory), and linear-memory bounds in
 * both bounds modes (guard pages and explicit checks). The instance must be
 * usable after each of these.
 */
#include "test.h"

#include <pthread.h>
#include <time.h>

static uint8_t *fixture;
static size_t fixture_size;

static wasmplug_instance *instantiate(wasmplug_engine *e, const wasmplug_instance_config *cfg,
                                      wasmplug_module **out_module)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_instance *inst = NULL;
    CHECK_STATUS(test_module_new(e, fixture, fixture_size, &m, &err), WASMPLUG_OK);
    if (!m)
        return NULL;
    CHECK_STATUS(wasmplug_instance_new(m, NULL, 0, cfg, &inst, &err), WASMPLUG_OK);
    if (out_module)
        *out_module = m;
    else
        wasmplug_module_free(m);
    return inst;
}

/* Call export name with up to two i32 arguments; returns the status. */
static wasmplug_status call(wasmplug_instance *inst, const char *name, int nargs, int32_t a,
                            int32_t b, wasmplug_val *result, wasmplug_error *err)
{
    wasmplug_func *f = wasmplug_instance_func(inst, name);
    if (!f)
        return WASMPLUG_ERR_NOT_FOUND;
    wasmplug_val args[2] = {test_i32(a), test_i32(b)};
    wasmplug_functype t = wasmplug_func_type(f);
    wasmplug_val res;
    return wasmplug_func_call(f, args, (size_t)nargs, result ? result : &res, t.result_count,
                              err);
}

static void test_fuel(wasmplug_engine *e)
{
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fuel = 1000000;
    wasmplug_instance *inst = instantiate(e, &cfg, NULL);
    if (!inst)
        return;
    wasmplug_error err;
    wasmplug_val res;
    CHECK_EQ(wasmplug_instance_fuel(inst), 1000000);
    CHECK_STATUS(call(inst, "spin", 0, 0, 0, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
    CHECK(wasmplug_instance_fuel(inst) < 1000);
    CHECK(wasmplug_instance_fuel_consumed(inst) > 999000 &&
          wasmplug_instance_fuel_consumed(inst) <= 1000000);

    /* Refuel: a bounded loop consumes about one unit per instruction. */
    wasmplug_instance_set_fuel(inst, 1000000);
    CHECK_EQ(wasmplug_instance_fuel_consumed(inst), 0);
    CHECK_STATUS(call(inst, "iterations", 0, 0, 0, &res, &err), WASMPLUG_OK);
    CHECK(res.of.i64 > 10000); /* the spin loop ran for a while */
    uint64_t before = wasmplug_instance_fuel_consumed(inst);
    CHECK_STATUS(call(inst, "count", 1, 1000, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 1000);
    uint64_t used = wasmplug_instance_fuel_consumed(inst) - before;
    CHECK(used >= 1000 && used < 100000);
    CHECK_EQ(wasmplug_instance_fuel(inst) + wasmplug_instance_fuel_consumed(inst), 1000000);

    /* Unlimited again. */
    wasmplug_instance_set_fuel(inst, WASMPLUG_FUEL_UNLIMITED);
    CHECK(wasmplug_instance_fuel(inst) == WASMPLUG_FUEL_UNLIMITED);
    CHECK_STATUS(call(inst, "count", 1, 100000, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 100000);
    wasmplug_instance_free(inst);
}

typedef struct spin_job {
    wasmplug_instance *inst;
    wasmplug_status status;
    wasmplug_error err;
    volatile int done;
} spin_job;

static void *spin_thread(void *arg)
{
    spin_job *job = arg;
    job->status = call(job->inst, "spin", 0, 0, 0, NULL, &job->err);
    job->done = 1;
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_interrupt(wasmplug_engine *e)
{
    wasmplug_instance *inst = instantiate(e, NULL, NULL);
    if (!inst)
        return;
    spin_job job;
    memset(&job, 0, sizeof job);
    job.inst = inst;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, spin_thread, &job) == 0);
    sleep_ms(100);
    CHECK(!job.done); /* really spinning */
    wasmplug_instance_interrupt(inst);
    for (int i = 0; i < 1000 && !job.done; i++)
        sleep_ms(10);
    if (!test_check(job.done, __FILE__, __LINE__, "interrupted call returns within 10 s")) {
        printf("     the call did not stop: giving up\n");
        exit(test_done() | 1);
    }
    pthread_join(t, NULL);
    CHECK_STATUS(job.status, WASMPLUG_ERR_TRAP);
    CHECK_EQ(job.err.trap, WASMPLUG_TRAP_INTERRUPTED);

    /* The interrupt was consumed: the next call runs. */
    wasmplug_error err;
    wasmplug_val res;
    CHECK_STATUS(call(inst, "count", 1, 10, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 10);

    /* An interrupt with nothing running stops the next call. */
    wasmplug_instance_interrupt(inst);
    CHECK_STATUS(call(inst, "count", 1, 10, 0, &res, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTERRUPTED);
    CHECK_STATUS(call(inst, "count", 1, 10, 0, &res, &err), WASMPLUG_OK);

    /* An interrupt withdrawn before any call acted on it stops nothing. */
    wasmplug_instance_interrupt(inst);
    wasmplug_instance_clear_interrupt(inst);
    CHECK_STATUS(call(inst, "count", 1, 10, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 10);
    wasmplug_instance_free(inst);
}

typedef struct start_job {
    wasmplug_instance *inst;
    wasmplug_status status;
    wasmplug_error err;
    volatile int done;
} start_job;

static void *start_thread(void *arg)
{
    start_job *job = arg;
    job->status = wasmplug_instance_start(job->inst, &job->err);
    job->done = 1;
    return NULL;
}

/* A start function that never returns: with defer_start the instance exists
 * before it runs, so another thread can interrupt it. */
static void test_deferred_start(wasmplug_engine *e)
{
    size_t size;
    uint8_t *bytes = test_fixture("start_spin", &size);
    if (!bytes)
        return;
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(test_module_new(e, bytes, size, &m, &err), WASMPLUG_OK);
    free(bytes);
    if (!m)
        return;
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.defer_start = true;
    wasmplug_instance *inst = NULL;
    CHECK_STATUS(wasmplug_instance_new(m, NULL, 0, &cfg, &inst, &err), WASMPLUG_OK);
    if (!inst) {
        wasmplug_module_free(m);
        return;
    }
    wasmplug_val res;
    wasmplug_func *started = wasmplug_instance_func(inst, "started");
    CHECK_STATUS(wasmplug_func_call(started, NULL, 0, &res, 1, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 0); /* start has not run yet */

    start_job job;
    memset(&job, 0, sizeof job);
    job.inst = inst;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, start_thread, &job) == 0);
    sleep_ms(50);
    CHECK(!job.done);
    wasmplug_instance_interrupt(inst);
    for (int i = 0; i < 1000 && !job.done; i++)
        sleep_ms(10);
    if (!test_check(job.done, __FILE__, __LINE__, "interrupted start returns within 10 s")) {
        printf("     the start function did not stop: giving up\n");
        exit(test_done() | 1);
    }
    pthread_join(t, NULL);
    CHECK_STATUS(job.status, WASMPLUG_ERR_TRAP);
    CHECK_EQ(job.err.trap, WASMPLUG_TRAP_INTERRUPTED);
    CHECK_STATUS(wasmplug_func_call(started, NULL, 0, &res, 1, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 1); /* it did run */
    /* It runs once: a second start is a no-op. */
    CHECK_STATUS(wasmplug_instance_start(inst, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_instance_start(NULL, &err), WASMPLUG_ERR_ARGUMENT);
    wasmplug_instance_free(inst);

    /* Without defer_start, fuel stops the same start inside instance_new. */
    memset(&cfg, 0, sizeof cfg);
    cfg.fuel = 10000;
    inst = NULL;
    CHECK_STATUS(wasmplug_instance_new(m, NULL, 0, &cfg, &inst, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
    CHECK(inst == NULL);
    wasmplug_module_free(m);
}

static void test_call_depth(wasmplug_engine *e)
{
    wasmplug_instance *inst = instantiate(e, NULL, NULL);
    if (!inst)
        return;
    wasmplug_error err;
    wasmplug_val res;
    CHECK_STATUS(call(inst, "recurse", 1, 0, 0, &res, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);
    CHECK_STATUS(call(inst, "depth", 1, 5000, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 5000);

    wasmplug_instance_set_limits(inst, 100, 0, 0);
    CHECK_STATUS(call(inst, "depth", 1, 50, 0, &res, &err), WASMPLUG_OK);
    CHECK_STATUS(call(inst, "depth", 1, 200, 0, &res, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);
    wasmplug_instance_free(inst);

    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_call_depth = 30;
    inst = instantiate(e, &cfg, NULL);
    if (!inst)
        return;
    CHECK_STATUS(call(inst, "depth", 1, 20, 0, &res, &err), WASMPLUG_OK);
    CHECK_STATUS(call(inst, "depth", 1, 40, 0, &res, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);
    wasmplug_instance_free(inst);
}

static void test_memory_limit(wasmplug_engine *e)
{
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.max_memory_pages = 10;
    wasmplug_instance *inst = instantiate(e, &cfg, NULL);
    if (!inst)
        return;
    wasmplug_error err;
    wasmplug_val res;
    CHECK_STATUS(call(inst, "grow_until_fail", 1, 1, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 10);
    CHECK_STATUS(call(inst, "grow", 1, 1, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, -1);
    CHECK_STATUS(call(inst, "grow", 1, 0, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 10);
    /* The last page is usable, the next byte is not. */
    CHECK_STATUS(call(inst, "store", 2, 10 * 65536 - 4, 7, NULL, &err), WASMPLUG_OK);
    CHECK_STATUS(call(inst, "load", 1, 10 * 65536 - 4, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 7);
    CHECK_STATUS(call(inst, "load", 1, 10 * 65536, 0, &res, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    wasmplug_instance_free(inst);

    /* A grow bomb against a 128 MiB limit: refused, and the host lives on. */
    cfg.max_memory_pages = 2048;
    inst = instantiate(e, &cfg, NULL);
    if (!inst)
        return;
    CHECK_STATUS(call(inst, "grow", 1, 65535, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, -1);
    CHECK_STATUS(call(inst, "grow", 1, -1, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, -1);
    CHECK_STATUS(call(inst, "grow_until_fail", 1, 100, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 2001);
    CHECK_STATUS(call(inst, "size", 0, 0, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 2001);

    /* Lowering the limit below the current size stops further growth only. */
    wasmplug_instance_set_limits(inst, 0, 0, 100);
    CHECK_STATUS(call(inst, "grow", 1, 1, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, -1);
    CHECK_STATUS(call(inst, "load", 1, 2000 * 65536, 0, &res, &err), WASMPLUG_OK);
    wasmplug_instance_free(inst);

    /* Without a configured limit, more than 4 GiB is never possible. */
    inst = instantiate(e, NULL, NULL);
    if (!inst)
        return;
    CHECK_STATUS(call(inst, "grow", 1, 65536, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, -1);
    wasmplug_instance_free(inst);
}

static void check_bounds_mode(wasmplug_bounds_mode mode)
{
    wasmplug_engine *e = test_engine_with(mode, NULL, NULL);
    wasmplug_instance *inst = instantiate(e, NULL, NULL);
    if (!inst) {
        wasmplug_engine_free(e);
        return;
    }
    printf("bounds mode %s\n", test_bounds_name(mode));
    wasmplug_error err;
    wasmplug_val res;
    static const struct {
        const char *func;
        int32_t addr;
        int traps;
    } accesses[] = {
        {"load", 0, 0},           {"load", 65532, 0},        {"load", 65533, 1},
        {"load", 65536, 1},       {"load", -1, 1},           {"load", -4, 1},
        {"load", 0x7fffffff, 1},  {"load8_off", 0, 0},       {"load8_off", 1, 1},
        {"load8_off", -65536, 1}, {"load8_off", 0x10000, 1},
    };
    for (size_t i = 0; i < sizeof accesses / sizeof accesses[0]; i++) {
        wasmplug_status st = call(inst, accesses[i].func, 1, accesses[i].addr, 0, &res, &err);
        int ok = accesses[i].traps ? st == WASMPLUG_ERR_TRAP &&
                                         err.trap == WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS
                                   : st == WASMPLUG_OK;
        if (!test_check(ok, __FILE__, __LINE__, accesses[i].func))
            printf("     %s(%d) in %s mode: got %s (%s)\n", accesses[i].func,
                   (int)accesses[i].addr, test_bounds_name(mode), wasmplug_strerror(st),
                   err.message);
    }
    /* Stores too, and nothing is written by a store that traps. */
    CHECK_STATUS(call(inst, "store", 2, 65532, 0x01020304, NULL, &err), WASMPLUG_OK);
    CHECK_STATUS(call(inst, "store", 2, 65534, -1, NULL, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK_STATUS(call(inst, "load", 1, 65532, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 0x01020304);
    /* After growing, the new page is in bounds. */
    CHECK_STATUS(call(inst, "grow", 1, 1, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 1);
    CHECK_STATUS(call(inst, "load", 1, 65536, 0, &res, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 0);
    CHECK_STATUS(call(inst, "load8_off", 1, 1, 0, &res, &err), WASMPLUG_OK);
    CHECK_STATUS(call(inst, "load", 1, 131072 - 3, 0, &res, &err), WASMPLUG_ERR_TRAP);

    /* Many traps in a row leave the instance (and the fault handler) working. */
    int all = 1;
    for (int i = 0; i < 1000; i++)
        all &= call(inst, "load", 1, -1, 0, &res, &err) == WASMPLUG_ERR_TRAP;
    CHECK(all);
    CHECK_STATUS(call(inst, "count", 1, 5, 0, &res, &err), WASMPLUG_OK);
    wasmplug_instance_free(inst);
    wasmplug_engine_free(e);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    fixture = test_fixture("limits", &fixture_size);
    if (!fixture)
        return test_done();
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    test_fuel(e);
    test_interrupt(e);
    test_deferred_start(e);
    test_call_depth(e);
    test_memory_limit(e);
    wasmplug_engine_free(e);

    check_bounds_mode(WASMPLUG_BOUNDS_GUARD_PAGES);
    check_bounds_mode(WASMPLUG_BOUNDS_EXPLICIT);
    check_bounds_mode(WASMPLUG_BOUNDS_AUTO);
    free(fixture);
    return test_done();
}
