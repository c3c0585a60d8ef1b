/*
 * test_bindgen.c - the wasm-bindgen example plugin (examples/plugins/
 * greeter-bindgen, built from source by cargo with Debian's wasm-bindgen
 * crate) through the host: detection, signatures from the descriptors,
 * numbers, booleans and strings (UTF-8, empty) in and out, init and
 * cleanup, a panic and a throw as traps with their messages, wrong
 * arguments, imports that need JavaScript.
 *
 *   test_bindgen [--bounds MODE] PLUGIN_DIR
 */
#include "test.h"

#include "wasmplug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wasmplug_value str(const char *s)
{
    wasmplug_value v = {WASMPLUG_VALUE_STRING, false, 0, 0, s, strlen(s)};
    return v;
}

static wasmplug_value num(int64_t i)
{
    wasmplug_value v = {WASMPLUG_VALUE_INT, false, i, 0, NULL, 0};
    return v;
}

/* Call func with text arguments; the result's string (or "") is copied to out. */
static wasmplug_status call_text(wasmplug_plugin *p, const char *func, const char *const *args,
                                 size_t n, wasmplug_value *res, wasmplug_plugin_error *err)
{
    wasmplug_status st = wasmplug_plugin_bindgen_call_text(p, func, args, n, res, err);
    if (st != WASMPLUG_OK)
        printf("     %s: %s\n", func, err->message);
    return st;
}

static void test_calls(wasmplug_plugin *p)
{
    wasmplug_plugin_error err;
    wasmplug_value r;
    wasmplug_value args[3];

    wasmplug_plugin_info info;
    CHECK_STATUS(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK);
    CHECK_EQ(info.abi, WASMPLUG_ABI_BINDGEN);

    /* Signatures from the descriptors. */
    wasmplug_bindgen_sig sig;
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "greet", &sig), WASMPLUG_OK);
    CHECK_EQ(sig.param_count, 1);
    CHECK_EQ(sig.params[0], WASMPLUG_BINDGEN_STR);
    CHECK_EQ(sig.result, WASMPLUG_BINDGEN_STRING);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "shout", &sig), WASMPLUG_OK);
    CHECK_EQ(sig.params[0], WASMPLUG_BINDGEN_STRING);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "add", &sig), WASMPLUG_OK);
    CHECK(sig.param_count == 2 && sig.params[0] == WASMPLUG_BINDGEN_I32 &&
          sig.params[1] == WASMPLUG_BINDGEN_I32 && sig.result == WASMPLUG_BINDGEN_I32);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "is_even", &sig), WASMPLUG_OK);
    CHECK(sig.params[0] == WASMPLUG_BINDGEN_I64 && sig.result == WASMPLUG_BINDGEN_BOOL);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "cleanup", &sig), WASMPLUG_OK);
    CHECK(sig.param_count == 0 && sig.result == WASMPLUG_BINDGEN_UNIT);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "__wbindgen_malloc", &sig),
                 WASMPLUG_ERR_NOT_FOUND);

    /* init ran before the first call. */
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "ready", NULL, 0, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_BOOL && r.b);

    /* Numbers. */
    args[0] = num(2);
    args[1] = num(3);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "add", args, 2, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_INT && r.i == 5);
    args[0] = num(-7);
    args[1] = num(INT32_MAX);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "add", args, 2, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, INT32_MAX - 7);
    args[0].kind = WASMPLUG_VALUE_FLOAT;
    args[0].f = 1.5;
    args[1] = num(4);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "scale", args, 2, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_FLOAT && r.f == 6.0);
    args[0] = num(INT64_MIN + 1);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "is_even", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_BOOL && !r.b);
    args[0] = num(INT64_MAX - 1);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "is_even", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.b);

    /* Strings: ASCII, UTF-8, empty, owned. */
    args[0] = str("ada");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greet", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_STRING && r.len == 11 && !strcmp(r.str, "Hello, ada!"));
    wasmplug_value_clear(&r);
    CHECK_EQ(r.kind, WASMPLUG_VALUE_NONE);
    args[0] = str("Łukasz 🦀");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greet", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.str && !strcmp(r.str, "Hello, Łukasz 🦀!"));
    wasmplug_value_clear(&r);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "length", args, 1, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 8); /* characters, not the 12 bytes */
    args[0] = str("");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greet", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.str && !strcmp(r.str, "Hello!"));
    wasmplug_value_clear(&r);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "shout", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.kind == WASMPLUG_VALUE_STRING && r.len == 0 && r.str && r.str[0] == '\0');
    wasmplug_value_clear(&r);
    args[0] = str("straße");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "shout", args, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.str && !strcmp(r.str, "STRASSE"));
    wasmplug_value_clear(&r);
    /* A string with a NUL inside crosses whole (a length, not a C string). */
    args[0].str = "a\0b";
    args[0].len = 3;
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "length", args, 1, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 3);

    /* Many calls: the strings passed and returned are freed (the memory stays). */
    wasmplug_metrics before, after;
    wasmplug_plugin_get_metrics(p, &before);
    args[0] = str("a somewhat longer name, to allocate more than a few bytes each time");
    for (int i = 0; i < 2000; i++) {
        if (wasmplug_plugin_bindgen_call(p, "greet", args, 1, &r, &err) != WASMPLUG_OK)
            break;
        wasmplug_value_clear(&r);
    }
    wasmplug_plugin_get_metrics(p, &after);
    CHECK_EQ(after.calls - before.calls, 2000);
    CHECK_EQ(after.errors, before.errors);
    CHECK(after.memory_pages_max <= 18);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greeted", NULL, 0, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 2003);

    /* Text arguments converted by the described types. */
    const char *two[] = {"2", "40"};
    CHECK_STATUS(call_text(p, "add", two, 2, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 42);
    const char *name[] = {"grace"};
    CHECK_STATUS(call_text(p, "greet", name, 1, &r, &err), WASMPLUG_OK);
    CHECK(r.str && !strcmp(r.str, "Hello, grace!"));
    wasmplug_value_clear(&r);
    const char *yes[] = {"true"};
    CHECK_STATUS(call_text(p, "fail_cleanup", yes, 1, NULL, &err), WASMPLUG_OK);
    const char *no[] = {"false"};
    CHECK_STATUS(call_text(p, "fail_cleanup", no, 1, NULL, &err), WASMPLUG_OK);
}

static void test_errors(wasmplug_plugin *p)
{
    wasmplug_plugin_error err;
    wasmplug_value r, args[3];
    wasmplug_metrics m0, m1;
    wasmplug_plugin_get_metrics(p, &m0);

    /* Wrong count and types: specific errors, nothing runs. */
    args[0] = num(1);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "add", args, 1, &r, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "add(i32, i32) -> i32 takes 2 arguments, 1 given");
    args[1] = str("three");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "add", args, 2, &r, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "argument 2 of add(i32, i32) -> i32 is a string, not i32");
    args[1] = num(1LL << 40);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "add", args, 2, &r, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "1099511627776 is out of range for i32");
    args[0] = num(5);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greet", args, 1, &r, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "argument 1 of greet(&str) -> String is an integer, not &str");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "fail_cleanup", args, 1, &r, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "is an integer, not a bool");
    const char *bad[] = {"2", "x"};
    CHECK_STATUS(wasmplug_plugin_bindgen_call_text(p, "add", bad, 2, &r, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "argument 2 of add(i32, i32) -> i32: 'x' is not a valid i32");
    const char *maybe[] = {"maybe"};
    CHECK_STATUS(wasmplug_plugin_bindgen_call_text(p, "fail_cleanup", maybe, 1, &r, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "nope", NULL, 0, &r, &err),
                 WASMPLUG_ERR_NOT_FOUND);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "__wbindgen_malloc", args, 1, &r, &err),
                 WASMPLUG_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "has no wasm-bindgen descriptor");
    /* None of them ran plugin code: no greeting was counted, no instance replaced. */
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "greeted", NULL, 0, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 2004); /* the 2003 above and grace */
    wasmplug_plugin_get_metrics(p, &m1);
    CHECK_EQ(m1.instances_created, m0.instances_created);

    /* A panic and a throw: traps with their messages. */
    args[0] = num(7);
    args[1] = num(0);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "divide", args, 2, &r, &err), WASMPLUG_ERR_TRAP);
    CHECK_CONTAINS(err.message, "the plugin threw: panicked at");
    CHECK_CONTAINS(err.message, "division of 7 by zero");
    CHECK_EQ(err.trap, WASMPLUG_TRAP_HOST_ERROR);
    CHECK(err.frame_count > 0);
    args[0] = str("no, thank you");
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "reject", args, 1, &r, &err), WASMPLUG_ERR_TRAP);
    CHECK_CONTAINS(err.message, "the plugin threw: no, thank you");
    CHECK_EQ(r.kind, WASMPLUG_VALUE_NONE);
    /* The instance was replaced: the next one ran init again. */
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "ready", NULL, 0, &r, &err), WASMPLUG_OK);
    CHECK(r.b);
    args[0] = num(9);
    args[1] = num(3);
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "divide", args, 2, &r, &err), WASMPLUG_OK);
    CHECK_EQ(r.i, 3);
}

/* dispose runs cleanup in every instance: a failing cleanup is the dispose's error. */
static void test_cleanup(wasmplug_host *h, const char *path)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_host_load_file(h, "cleanup", path, &o, &p, &err), WASMPLUG_OK);
    if (!p)
        return;
    wasmplug_value yes = {WASMPLUG_VALUE_BOOL, true, 0, 0, NULL, 0};
    CHECK_STATUS(wasmplug_plugin_bindgen_call(p, "fail_cleanup", &yes, 1, NULL, &err),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_DISPOSE);
    CHECK_CONTAINS(err.function, "cleanup");
    CHECK_CONTAINS(err.message, "the plugin threw: cleanup failed as asked");
    wasmplug_plugin_release(p);

    /* Without the flag it disposes cleanly. */
    CHECK_STATUS(wasmplug_host_load_file(h, "cleanup2", path, &o, &p, &err), WASMPLUG_OK);
    if (p) {
        CHECK_STATUS(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK);
        wasmplug_plugin_release(p);
    }
}

/* Before init there are no descriptors yet. */
static void test_before_init(wasmplug_host *h, const char *path)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_host_load_file(h, "lazy", path, &o, &p, &err), WASMPLUG_OK);
    if (!p)
        return;
    wasmplug_bindgen_sig sig;
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "add", &sig), WASMPLUG_ERR_PLUGIN_STATE);
    CHECK_STATUS(wasmplug_plugin_init(p, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_plugin_bindgen_signature(p, "add", &sig), WASMPLUG_OK);
    wasmplug_plugin_release(p);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    if (argc != 2) {
        fprintf(stderr, "usage: test_bindgen [--bounds MODE] PLUGIN_DIR\n");
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/greeter_bindgen.wasm", argv[1]);
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = bounds;
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(&hc, &h) != WASMPLUG_OK)
        return 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_host_load_file(h, "greeter", path, &o, &p, &err), WASMPLUG_OK);
    if (p) {
        test_calls(p);
        test_errors(p);
        wasmplug_plugin_release(p);
    }
    test_cleanup(h, path);
    test_before_init(h, path);
    wasmplug_host_free(h);
    return test_done();
}
