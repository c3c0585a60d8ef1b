/*
 * test_hostile.c - hostile plugins in one host next to a well-behaved one:
 * an infinite loop (timeout, fuel), a recursion bomb, a memory.grow bomb, an
 * output bomb, oversized input, out-of-bounds pointers passed to host
 * functions and ABI imports, and a trap in every lifecycle phase (start,
 * _initialize, wasmplug_init, call, dispose). Each must fail with its own
 * error while the good plugin keeps answering correctly, and no state of
 * a trapped call may leak into later calls.
 */
#include "host_test.h"

#include <signal.h>

static wasmplug_plugin *good;

#define GOOD_STILL_OK() CHECK_CALL(good, "echo", "still here", "still here")

/* Load `file` as `name` with limits; init; returns the handle or NULL, and
 * the load status in *st (when st is given, failures are expected). */
static wasmplug_plugin *load(wasmplug_host *h, const char *name, const char *file,
                             const wasmplug_plugin_limits *lim, wasmplug_status *st,
                             wasmplug_plugin_error *err)
{
    char path[1024];
    host_test_path(path, sizeof path, file);
    wasmplug_manifest m = host_test_manifest(name);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    if (lim)
        o.limits = *lim;
    wasmplug_plugin *p = NULL;
    wasmplug_status s = wasmplug_host_load_file(h, name, path, &o, &p, err);
    if (st)
        *st = s;
    else
        CHECK_CODE(s, WASMPLUG_OK, err);
    return p;
}

static void test_call_bombs(wasmplug_host *h)
{
    wasmplug_plugin_limits lim;
    memset(&lim, 0, sizeof lim);
    /* Generous for the bombs that must hit their own limit first (a loaded
     * machine may hold a call for a while); the loop gets 200 ms. */
    lim.timeout_ms = 60000;
    lim.max_memory_pages = 16;
    lim.max_output_bytes = 1 << 20;
    lim.max_input_bytes = 1024;
    lim.max_call_depth = 500;
    wasmplug_plugin_error err;
    wasmplug_plugin *p = load(h, "hostile", "hostile", &lim, NULL, &err);
    if (!p)
        return;
    wasmplug_val r;

    /* Infinite loop: stopped by the wall-clock timeout. */
    uint64_t t0 = (uint64_t)time(NULL);
    wasmplug_call_limits loop_limit = {200, 0};
    wasmplug_buf loop_out;
    CHECK_CODE(wasmplug_plugin_call_limited(p, "loop", NULL, 0, &loop_limit, &loop_out, &err),
               WASMPLUG_ERR_TIMEOUT, &err);
    wasmplug_buf_free(&loop_out);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTERRUPTED);
    CHECK_CONTAINS(err.message, "timeout of 200 ms");
    CHECK(strcmp(err.function, "loop") == 0);
    CHECK((uint64_t)time(NULL) - t0 < 30);
    GOOD_STILL_OK();

    /* Recursion bomb: the call-depth limit. */
    CHECK_CODE(wasmplug_plugin_call_typed(p, "recurse", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_CALL_DEPTH, &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);
    CHECK(err.frame_count > 0 && strcmp(err.frames[0].func_name, "rec") == 0);
    GOOD_STILL_OK();

    /* memory.grow bomb: grows to 16 pages, then traps. */
    CHECK_CODE(wasmplug_plugin_call_typed(p, "grow", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_MEMORY_LIMIT, &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK_CONTAINS(err.message, "limit of 16 pages");
    wasmplug_metrics mt;
    wasmplug_plugin_get_metrics(p, &mt);
    CHECK_EQ(mt.memory_pages_max, 16);
    GOOD_STILL_OK();

    /* Output bomb. */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "outbomb", NULL, 0, &out, &err),
               WASMPLUG_ERR_OUTPUT_TOO_LARGE, &err);
    CHECK(out.data == NULL && out.len == 0);
    CHECK_CONTAINS(err.message, "max_output_bytes (1048576)");
    GOOD_STILL_OK();

    /* Oversized input: refused before the plugin runs. */
    uint8_t big[2000];
    memset(big, 'x', sizeof big);
    CHECK_CODE(wasmplug_plugin_call(p, "loop", big, sizeof big, &out, &err),
               WASMPLUG_ERR_INPUT_TOO_LARGE, &err);
    CHECK_CONTAINS(err.message, "2000 bytes exceeds max_input_bytes (1024)");

    /* Out-of-bounds pointers: the host function never sees them. */
    int reached = host_test_peek_reached;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "badptr", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_OUT_OF_BOUNDS, &err);
    CHECK_EQ(host_test_peek_reached, reached);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    CHECK_CONTAINS(err.message, "env.peek: argument 0 (address 4294967280, length 100)");
    CHECK_CODE(wasmplug_plugin_call_typed(p, "peek_ok", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(host_test_peek_reached, reached + 1);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "badout", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_OUT_OF_BOUNDS, &err);
    CHECK_CONTAINS(err.message, "wasmplug.output_write");
    CHECK_CODE(wasmplug_plugin_call_typed(p, "badin", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_OUT_OF_BOUNDS, &err);
    CHECK_CONTAINS(err.message, "wasmplug.input_read");
    CHECK_CODE(wasmplug_plugin_call_typed(p, "badbytes", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_OUT_OF_BOUNDS, &err);
    CHECK_CONTAINS(err.message, "env.upper: argument 2");
    GOOD_STILL_OK();

    /* A plain trap, with a named backtrace. */
    CHECK_CODE(wasmplug_plugin_call_typed(p, "trap", NULL, 0, &r, 1, &err), WASMPLUG_ERR_TRAP,
               &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
    CHECK(err.frame_count >= 3);
    if (err.frame_count >= 3) {
        CHECK(strcmp(err.frames[0].func_name, "inner") == 0);
        CHECK(strcmp(err.frames[1].func_name, "outer") == 0);
    }
    char text[2048];
    wasmplug_plugin_error_format(&err, text, sizeof text);
    CHECK_CONTAINS(text, "plugin 'hostile': call 'trap': trap: integer divide by zero");
    CHECK_CONTAINS(text, "#0 inner");

    /* No state leaks from a trapped call: a fresh instance follows. */
    CHECK_CODE(wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(r.of.i32, 1);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(r.of.i32, 2);
    wasmplug_plugin_call_typed(p, "trap", NULL, 0, &r, 1, NULL);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(r.of.i32, 1);

    wasmplug_plugin_get_metrics(p, &mt);
    CHECK(mt.traps >= 9);
    CHECK(mt.errors >= 10);
    wasmplug_plugin_release(p);

    /* The same plugin with a fuel budget and no timeout: out of fuel. */
    memset(&lim, 0, sizeof lim);
    lim.fuel = 1000000;
    p = load(h, "hostile_fuel", "hostile", &lim, NULL, &err);
    if (p) {
        CHECK_CODE(wasmplug_plugin_call_typed(p, "loop", NULL, 0, &r, 1, &err), WASMPLUG_ERR_FUEL,
                   &err);
        CHECK_EQ(err.trap, WASMPLUG_TRAP_OUT_OF_FUEL);
        CHECK_CONTAINS(err.message, "1000000 instructions");
        wasmplug_plugin_get_metrics(p, &mt);
        CHECK(mt.fuel_used >= 1000000);
        /* Fuel is per call: the next call has the whole budget again. */
        CHECK_CODE(wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        wasmplug_plugin_release(p);
    }
    GOOD_STILL_OK();

    /* keep_instance_on_trap: the state survives the trap. */
    char path[1024];
    host_test_path(path, sizeof path, "hostile");
    wasmplug_manifest m = host_test_manifest("keep");
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    o.keep_instance_on_trap = true;
    CHECK_CODE(wasmplug_host_load_file(h, "keep", path, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, NULL);
        wasmplug_plugin_call_typed(p, "trap", NULL, 0, &r, 1, NULL);
        CHECK_CODE(wasmplug_plugin_call_typed(p, "calls", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(r.of.i32, 2);
        wasmplug_plugin_get_metrics(p, &mt);
        CHECK_EQ(mt.instances_created, 1);
        wasmplug_plugin_release(p);
    }
}

/* The good plugin's own trap: the +100 of the trapped call must not leak. */
/* A memory at its limit from the start: a trap is the memory limit only
 * when a memory.grow was refused in that call. */
static void test_memory_limit_attribution(wasmplug_host *h)
{
    wasmplug_plugin_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_memory_pages = 16;
    wasmplug_plugin_error err;
    wasmplug_plugin *p = load(h, "at_limit", "at_limit", &lim, NULL, &err);
    if (!p)
        return;
    wasmplug_val r;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "boom", NULL, 0, &r, 1, &err), WASMPLUG_ERR_TRAP,
               &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK(strstr(err.message, "memory") == NULL);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "refused", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_MEMORY_LIMIT, &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK_CONTAINS(err.message, "memory.grow was refused (16 pages in use, limit of 16 pages)");
    /* The refusal belongs to that call only. */
    CHECK_CODE(wasmplug_plugin_call_typed(p, "boom", NULL, 0, &r, 1, &err), WASMPLUG_ERR_TRAP,
               &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    wasmplug_plugin_release(p);
    GOOD_STILL_OK();
}

/* A host that resets SIGSEGV/SIGBUS handling after creating its engine (as
 * crash reporters and language runtimes do): a plugin's out-of-bounds
 * access must still be a trap, not the end of the process. */
static void test_host_resets_signals(wasmplug_host *h)
{
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = load(h, "after_reset", "trap_call", NULL, NULL, &err);
    if (!p)
        return;
    wasmplug_val r;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err), WASMPLUG_ERR_TRAP, &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    wasmplug_plugin_release(p);
    GOOD_STILL_OK();
}

static void test_good_trap(void)
{
    CHECK_CALL(good, "count", "", "1");
    CHECK_CALL(good, "count", "", "2");
    wasmplug_plugin_error err;
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(good, "count_then_trap", NULL, 0, &out, &err),
               WASMPLUG_ERR_TRAP, &err);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK_CALL(good, "count", "", "1");
    /* The fresh instance was initialized again (its config is back). */
    CHECK_CALL(good, "greet", "again", "Hi, again!");
    wasmplug_val r;
    CHECK_CODE(wasmplug_plugin_call_typed(good, "inits", NULL, 0, &r, 1, &err), WASMPLUG_OK,
               &err);
    CHECK_EQ(r.of.i32, 1);
}

static void test_lifecycle_traps(wasmplug_host *h)
{
    wasmplug_plugin_error err;
    wasmplug_status st;
    wasmplug_plugin *p;
    wasmplug_plugin_limits lim;
    memset(&lim, 0, sizeof lim);

    /* Start function. */
    p = load(h, "trap_start", "trap_start", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TRAP, &err);
    CHECK(p == NULL);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_INIT);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK(strcmp(err.function, "(start)") == 0);
    /* It stays loaded, in state ERROR; calls are refused; init can be retried. */
    CHECK_CODE(wasmplug_host_get(h, "trap_start", &p), WASMPLUG_OK, NULL);
    if (p) {
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_ERROR);
        wasmplug_val r;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err),
                   WASMPLUG_ERR_PLUGIN_STATE, &err);
        CHECK_CONTAINS(err.message, "is error, not ready");
        CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_ERR_TRAP, &err);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_ERROR);
        wasmplug_plugin_error last;
        CHECK_CODE(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK, NULL);
        CHECK_EQ(last.phase, WASMPLUG_PHASE_INIT);
        wasmplug_plugin_release(p);
    }
    GOOD_STILL_OK();

    p = load(h, "trap_initialize", "trap_initialize", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TRAP, &err);
    CHECK(strcmp(err.function, "_initialize") == 0);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_INIT);

    p = load(h, "trap_init", "trap_init", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TRAP, &err);
    CHECK(strcmp(err.function, "wasmplug_init") == 0);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);

    p = load(h, "init_error", "init_error", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(err.plugin_code, 2);
    CHECK_CONTAINS(err.message, "wasmplug_init returned 2: no config given");
    GOOD_STILL_OK();

    lim.timeout_ms = 100;
    p = load(h, "loop_init", "loop_init", &lim, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TIMEOUT, &err);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_INIT);

    /* A start function that never returns is stopped by the timeout too. */
    p = load(h, "loop_start", "loop_start", &lim, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TIMEOUT, &err);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_INIT);
    CHECK(strcmp(err.function, "(start)") == 0);
    GOOD_STILL_OK();

    lim.timeout_ms = 0;
    lim.max_memory_pages = 16;
    p = load(h, "big_memory", "big_memory", &lim, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_MEMORY_LIMIT, &err);
    CHECK_CONTAINS(err.message, "100 pages");
    GOOD_STILL_OK();

    /* A start function may already use the ABI and host functions. */
    p = load(h, "start_calls", "start_calls", NULL, NULL, &err);
    if (p) {
        wasmplug_val r;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "first", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(r.of.i32, 's');
        wasmplug_plugin_release(p);
    }

    /* A trap in every call. */
    p = load(h, "trap_call", "trap_call", NULL, NULL, &err);
    if (p) {
        wasmplug_val r;
        for (int i = 0; i < 3; i++) {
            CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err),
                       WASMPLUG_ERR_TRAP, &err);
            CHECK_EQ(err.trap, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
        }
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);
        wasmplug_plugin_release(p);
    }

    /* Dispose traps: the plugin is disposed anyway and the error returned. */
    p = load(h, "trap_dispose", "trap_dispose", NULL, NULL, &err);
    if (p) {
        wasmplug_val r;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
        CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_TRAP, &err);
        CHECK_EQ(err.phase, WASMPLUG_PHASE_DISPOSE);
        CHECK(strcmp(err.function, "wasmplug_dispose") == 0);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_DISPOSED);
        CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err),
                   WASMPLUG_ERR_PLUGIN_STATE, &err);
        wasmplug_plugin_release(p);
    }
    GOOD_STILL_OK();

    /* WASI without options: no capabilities, but output, EFAULT for bad
     * pointers (not a trap), no directories, proc_exit ends the call. */
    p = load(h, "wasi", "wasi", NULL, NULL, &err);
    if (p) {
        wasmplug_val r;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "write", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(r.of.i32, 0);
        CHECK_CODE(wasmplug_plugin_call_typed(p, "written", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(r.of.i32, 3);
        CHECK_CODE(wasmplug_plugin_call_typed(p, "write_bad", NULL, 0, &r, 1, &err),
                   WASMPLUG_OK, &err);
        CHECK_EQ(r.of.i32, 21); /* EFAULT */
        CHECK_CODE(wasmplug_plugin_call_typed(p, "open", NULL, 0, &r, 1, &err), WASMPLUG_OK,
                   &err);
        CHECK_EQ(r.of.i32, 8); /* EBADF: fd 3 is no preopen, none was granted */
        CHECK_CODE(wasmplug_plugin_call_typed(p, "exit", NULL, 0, &r, 1, &err), WASMPLUG_ERR_TRAP,
                   &err);
        CHECK_EQ(err.trap, WASMPLUG_TRAP_EXIT);
        CHECK_EQ(err.plugin_code, 3);
        CHECK_CONTAINS(err.message, "exited with code 3");
        wasmplug_plugin_release(p);
    }
    wasmplug_status wst;
    p = load(h, "wasi_unknown", "wasi_unknown", NULL, &wst, &err);
    CHECK_CODE(wst, WASMPLUG_ERR_LINK, &err);
    CHECK(p == NULL);
    CHECK_CONTAINS(err.message, "wasi_snapshot_preview1.sock_magic is not a WASI preview 1");
    GOOD_STILL_OK();

    /* Malformed bytes in the same host. */
    static const uint8_t junk[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
    CHECK_CODE(wasmplug_host_load(h, "junk", junk, sizeof junk, NULL, NULL, &err),
               WASMPLUG_ERR_MALFORMED, &err);
    GOOD_STILL_OK();
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasmplug_host *h = host_test_new(NULL);
    good = host_test_load(h, "good", "good", NULL);
    if (!good) {
        wasmplug_host_free(h);
        return test_done();
    }
    GOOD_STILL_OK();
    test_call_bombs(h);
    test_memory_limit_attribution(h);
    test_host_resets_signals(h);
    test_good_trap();
    test_lifecycle_traps(h);

    /* The good plugin saw only its own (deliberate) trap. */
    wasmplug_metrics mt;
    wasmplug_plugin_get_metrics(good, &mt);
    CHECK_EQ(mt.errors, 1);
    CHECK_EQ(mt.traps, 1);
    wasmplug_plugin_release(good);
    wasmplug_host_free(h);
    return test_done();
}
