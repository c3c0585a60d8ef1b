/*
 * test_api.c - the public engine API on the fixture api.wat: module
 * introspection and custom sections, linking (and link errors), typed and
 * slot calls with argument checking, host functions (user pointers, error
 * messages, exit traps, re-entrant calls), export lookup, globals, memories,
 * tables, and backtraces named from the name section.
 */
#include "test.h"

#include <math.h>

static wasmplug_instance *expected_instance;
static int host_calls;

/* env.scale(x) = x * *(int *)user */
static int h_scale(wasmplug_caller *c, void *user, wasmplug_slot *s)
{
    host_calls++;
    CHECK(wasmplug_caller_instance(c) == expected_instance);
    s[0].i32 = s[0].i32 * *(int *)user;
    return 0;
}

/* env.fail(code): fails with a message naming the code; 100 asks for exit(42). */
static int h_fail(wasmplug_caller *c, void *user, wasmplug_slot *s)
{
    (void)user;
    if (s[0].i32 == 100) {
        wasmplug_caller_trap(c, WASMPLUG_TRAP_EXIT, 42);
        return 1;
    }
    wasmplug_caller_set_error(c, "host refused %d", (int)s[0].i32);
    return 1;
}

/* env.reenter(x) = add(x, 10), calling back into the instance. */
static int h_reenter(wasmplug_caller *c, void *user, wasmplug_slot *s)
{
    (void)user;
    wasmplug_func *add = wasmplug_instance_func(wasmplug_caller_instance(c), "add");
    if (!add) {
        wasmplug_caller_set_error(c, "no add");
        return 1;
    }
    wasmplug_val args[2] = {test_i32(s[0].i32), test_i32(10)};
    wasmplug_val res;
    wasmplug_error err;
    if (wasmplug_func_call(add, args, 2, &res, 1, &err) != WASMPLUG_OK) {
        wasmplug_caller_set_error(c, "nested call failed: %s", err.message);
        return 1;
    }
    s[0].i32 = res.of.i32;
    return 0;
}

static int finalized;
static void finalizer(void *user)
{
    (void)user;
    finalized++;
}

static const wasmplug_valtype I32[] = {WASMPLUG_I32};

static wasmplug_func *host_func(wasmplug_engine *e, uint32_t np, uint32_t nr,
                                wasmplug_host_fn fn, void *user)
{
    wasmplug_functype t = {np, nr, I32, I32};
    wasmplug_func *f = NULL;
    CHECK_STATUS(wasmplug_func_new_host(e, &t, fn, user, finalizer, &f), WASMPLUG_OK);
    return f;
}

/* Append a custom section called name with payload to a module binary. */
static uint8_t *append_custom(const uint8_t *bytes, size_t size, const char *name,
                              const char *payload, size_t *out_size)
{
    size_t nlen = strlen(name), plen = strlen(payload);
    size_t content = 1 + nlen + plen; /* name length fits one LEB byte */
    uint8_t *out = malloc(size + 2 + content);
    memcpy(out, bytes, size);
    size_t at = size;
    out[at++] = 0;
    out[at++] = (uint8_t)content; /* < 128 */
    out[at++] = (uint8_t)nlen;
    memcpy(out + at, name, nlen);
    at += nlen;
    memcpy(out + at, payload, plen);
    at += plen;
    *out_size = at;
    return out;
}

static void test_strings(void)
{
    CHECK(strcmp(wasmplug_version(), WASMPLUG_VERSION_STRING) == 0);
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_OK), "ok") == 0);
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_ERR_LINK), "link error") == 0);
    CHECK(wasmplug_strerror((wasmplug_status)999) != NULL);
    CHECK(strcmp(wasmplug_trap_string(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS),
                 "out of bounds memory access") == 0);
    CHECK(wasmplug_trap_string((wasmplug_trap)999) != NULL);
    CHECK(strcmp(wasmplug_status_name(WASMPLUG_ERR_MALFORMED), "ERR_MALFORMED") == 0);
    CHECK(strcmp(wasmplug_status_name((wasmplug_status)999), "UNKNOWN") == 0);
    CHECK(strcmp(wasmplug_valtype_name(WASMPLUG_I64), "i64") == 0);
    CHECK(strcmp(wasmplug_valtype_name(WASMPLUG_EXTERNREF), "externref") == 0);
    CHECK(strcmp(wasmplug_valtype_name((wasmplug_valtype)0x11), "unknown type") == 0);
    wasmplug_error err;
    memset(&err, 0x5a, sizeof err);
    wasmplug_error_clear(&err);
    CHECK(err.status == WASMPLUG_OK && err.trap == WASMPLUG_TRAP_NONE && err.message[0] == 0 &&
          err.frame_count == 0);
}

static void test_introspection(wasmplug_module *m)
{
    CHECK_EQ(wasmplug_module_import_count(m), 3);
    const char *mod, *name;
    size_t mod_len, name_len;
    wasmplug_externtype t;
    CHECK_STATUS(wasmplug_module_import(m, 0, &mod, &mod_len, &name, &name_len, &t),
                 WASMPLUG_OK);
    CHECK(strcmp(mod, "env") == 0 && mod_len == 3 && strcmp(name, "scale") == 0 &&
          name_len == 5);
    CHECK(t.kind == WASMPLUG_EXTERN_FUNC && t.of.func.param_count == 1 &&
          t.of.func.result_count == 1 && t.of.func.params[0] == WASMPLUG_I32);
    CHECK(wasmplug_module_import(m, 3, &mod, &mod_len, &name, &name_len, &t) != WASMPLUG_OK);

    uint32_t n = wasmplug_module_export_count(m);
    CHECK(n >= 15);
    int seen = 0;
    for (uint32_t i = 0; i < n; i++) {
        CHECK_STATUS(wasmplug_module_export(m, i, &name, &name_len, &t), WASMPLUG_OK);
        if (strcmp(name, "mix") == 0) {
            seen |= 1;
            CHECK(t.kind == WASMPLUG_EXTERN_FUNC && t.of.func.param_count == 4 &&
                  t.of.func.result_count == 1);
            CHECK(t.of.func.params[1] == WASMPLUG_I64 && t.of.func.params[2] == WASMPLUG_F32 &&
                  t.of.func.results[0] == WASMPLUG_F64);
        } else if (strcmp(name, "memory") == 0) {
            seen |= 2;
            CHECK(t.kind == WASMPLUG_EXTERN_MEMORY && t.of.memory.min == 1 &&
                  t.of.memory.has_max && t.of.memory.max == 3);
        } else if (strcmp(name, "table") == 0) {
            seen |= 4;
            CHECK(t.kind == WASMPLUG_EXTERN_TABLE && t.of.table.elem == WASMPLUG_FUNCREF &&
                  t.of.table.limits.min == 2 && !t.of.table.limits.has_max);
        } else if (strcmp(name, "counter") == 0) {
            seen |= 8;
            CHECK(t.kind == WASMPLUG_EXTERN_GLOBAL && t.of.global.type == WASMPLUG_I32 &&
                  t.of.global.mutable_);
        } else if (strcmp(name, "pi") == 0) {
            seen |= 16;
            CHECK(t.kind == WASMPLUG_EXTERN_GLOBAL && t.of.global.type == WASMPLUG_F64 &&
                  !t.of.global.mutable_);
        } else if (strcmp(name, "pair") == 0) {
            seen |= 32;
            CHECK(t.of.func.result_count == 2 && t.of.func.results[0] == WASMPLUG_I64 &&
                  t.of.func.results[1] == WASMPLUG_I32);
        }
    }
    CHECK_EQ(seen, 63);
    CHECK(wasmplug_module_export(m, n, &name, &name_len, &t) != WASMPLUG_OK);

    /* Name section: imports and defined functions. */
    const char *fname = wasmplug_module_func_name(m, 0);
    CHECK(fname && strcmp(fname, "scale") == 0);
    fname = wasmplug_module_func_name(m, 15);
    CHECK(fname && strcmp(fname, "outer") == 0);
    CHECK(wasmplug_module_func_name(m, 1000) == NULL);

    const uint8_t *data;
    size_t size;
    CHECK_STATUS(wasmplug_module_custom_section(m, "name", &data, &size), WASMPLUG_OK);
    CHECK(size > 0);
    CHECK_STATUS(wasmplug_module_custom_section(m, "nope", &data, &size),
                 WASMPLUG_ERR_NOT_FOUND);
}

static void test_custom_section(wasmplug_engine *e, const uint8_t *bytes, size_t size)
{
    size_t n;
    uint8_t *with = append_custom(bytes, size, "wasmplug.meta", "hello", &n);
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, with, n, &m, &err), WASMPLUG_OK);
    memset(with, 0, n); /* the module keeps its own copy */
    free(with);
    if (!m)
        return;
    const uint8_t *data = NULL;
    size_t dsize = 0;
    CHECK_STATUS(wasmplug_module_custom_section(m, "wasmplug.meta", &data, &dsize), WASMPLUG_OK);
    CHECK(dsize == 5 && data && memcmp(data, "hello", 5) == 0);
    wasmplug_module_free(m);
}

/* The raw section walk: every section of a valid module in order, the custom
 * section found by name, and a broken layout reported with its offset. */
static void test_binary_sections(const uint8_t *bytes, size_t size)
{
    size_t n;
    uint8_t *with = append_custom(bytes, size, "wasmplug.meta", "hello", &n);
    size_t cursor = 0, count = 0;
    uint64_t last_offset = 0;
    int last_id = -1;
    wasmplug_section sec;
    wasmplug_error err;
    wasmplug_status st;
    while ((st = wasmplug_binary_next_section(with, n, &cursor, &sec, &err)) == WASMPLUG_OK) {
        CHECK(sec.offset >= 8 && sec.offset >= last_offset);
        CHECK(sec.content + sec.content_size <= with + n);
        last_offset = sec.offset;
        last_id = sec.id;
        count++;
    }
    CHECK_STATUS(st, WASMPLUG_ERR_NOT_FOUND);
    CHECK(count >= 3);
    CHECK_EQ(last_id, 0); /* the appended custom section comes last */
    CHECK(sec.name_len == 13 && memcmp(sec.name, "wasmplug.meta", 13) == 0);
    CHECK(sec.payload_size == 5 && memcmp(sec.payload, "hello", 5) == 0);

    const uint8_t *data;
    size_t dsize;
    CHECK_STATUS(wasmplug_binary_custom_section(with, n, "wasmplug.meta", &data, &dsize),
                 WASMPLUG_OK);
    CHECK(dsize == 5 && memcmp(data, "hello", 5) == 0);
    CHECK_STATUS(wasmplug_binary_custom_section(with, n, "absent", &data, &dsize),
                 WASMPLUG_ERR_NOT_FOUND);
    /* Cut inside the last section: its size no longer fits. */
    cursor = 0;
    while ((st = wasmplug_binary_next_section(with, n - 2, &cursor, &sec, &err)) == WASMPLUG_OK)
        ;
    CHECK_STATUS(st, WASMPLUG_ERR_MALFORMED);
    CHECK(err.offset >= last_offset && err.offset < n);
    CHECK_CONTAINS(err.message, "unexpected end");
    CHECK_STATUS(wasmplug_binary_custom_section(with, n - 2, "wasmplug.meta", &data, &dsize),
                 WASMPLUG_ERR_MALFORMED);
    cursor = 0;
    CHECK_STATUS(wasmplug_binary_next_section((const uint8_t *)"\0asX\1\0\0\0", 8, &cursor,
                                              &sec, &err),
                 WASMPLUG_ERR_MALFORMED);
    CHECK_CONTAINS(err.message, "magic header");
    free(with);
}

static void test_link_errors(wasmplug_engine *e, wasmplug_module *m, wasmplug_extern *imports)
{
    wasmplug_error err;
    wasmplug_instance *inst = NULL;
    wasmplug_extern bad[3] = {imports[0], imports[1], imports[2]};

    /* A function of the wrong type for env.scale. */
    wasmplug_functype t = {0, 0, NULL, NULL};
    wasmplug_func *wrong = NULL;
    CHECK_STATUS(wasmplug_func_new_host(e, &t, h_fail, NULL, NULL, &wrong), WASMPLUG_OK);
    bad[0].of.func = wrong;
    CHECK_STATUS(wasmplug_instance_new(m, bad, 3, NULL, &inst, &err), WASMPLUG_ERR_LINK);
    CHECK(inst == NULL);
    CHECK_CONTAINS(err.message, "scale");

    /* A memory where a function is expected. */
    wasmplug_limits l = {1, 1, true};
    wasmplug_memory *mem = NULL;
    CHECK_STATUS(wasmplug_memory_new(e, l, &mem), WASMPLUG_OK);
    bad[0].kind = WASMPLUG_EXTERN_MEMORY;
    bad[0].of.memory = mem;
    CHECK_STATUS(wasmplug_instance_new(m, bad, 3, NULL, &inst, &err), WASMPLUG_ERR_LINK);
    CHECK(inst == NULL);

    /* Too few imports. */
    CHECK(wasmplug_instance_new(m, imports, 2, NULL, &inst, &err) != WASMPLUG_OK);
    CHECK(inst == NULL);
    wasmplug_func_free(wrong);
    wasmplug_memory_free(mem);
}

static void test_calls(wasmplug_instance *inst)
{
    wasmplug_error err;
    wasmplug_val res[2];
    wasmplug_func *add = wasmplug_instance_func(inst, "add");
    CHECK(add != NULL);
    wasmplug_val args[4] = {test_i32(2), test_i32(3)};
    CHECK_STATUS(wasmplug_func_call(add, args, 2, res, 1, &err), WASMPLUG_OK);
    CHECK(res[0].type == WASMPLUG_I32 && res[0].of.i32 == 5);

    wasmplug_functype ft = wasmplug_func_type(add);
    CHECK(ft.param_count == 2 && ft.result_count == 1 && ft.params[0] == WASMPLUG_I32);

    /* Wrong argument types and counts. */
    args[0] = test_i64(2);
    CHECK_STATUS(wasmplug_func_call(add, args, 2, res, 1, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK(err.status == WASMPLUG_ERR_ARGUMENT && err.message[0] != 0);
    args[0] = test_i32(2);
    CHECK_STATUS(wasmplug_func_call(add, args, 1, res, 1, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_func_call(add, args, 3, res, 1, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_func_call(add, args, 2, res, 0, &err), WASMPLUG_ERR_ARGUMENT);

    /* Every value type. */
    wasmplug_func *mix = wasmplug_instance_func(inst, "mix");
    wasmplug_val margs[4] = {test_i32(1), test_i64(2), {.type = WASMPLUG_F32, .of = {.f32 = 3.5f}},
                             {.type = WASMPLUG_F64, .of = {.f64 = 4.25}}};
    CHECK_STATUS(wasmplug_func_call(mix, margs, 4, res, 1, &err), WASMPLUG_OK);
    CHECK(res[0].type == WASMPLUG_F64 && res[0].of.f64 == 10.75);

    wasmplug_func *pair = wasmplug_instance_func(inst, "pair");
    args[0] = test_i64(21);
    CHECK_STATUS(wasmplug_func_call(pair, args, 1, res, 2, &err), WASMPLUG_OK);
    CHECK(res[0].type == WASMPLUG_I64 && res[0].of.i64 == 42);
    CHECK(res[1].type == WASMPLUG_I32 && res[1].of.i32 == 21);

    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "nothing"), NULL, 0, NULL, 0,
                                    &err), WASMPLUG_OK);

    /* References. */
    int marker;
    wasmplug_val ref = {.type = WASMPLUG_EXTERNREF, .of = {.ref = &marker}};
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "ext_id"), &ref, 1, res, 1,
                                    &err), WASMPLUG_OK);
    CHECK(res[0].type == WASMPLUG_EXTERNREF && res[0].of.ref == &marker);
    wasmplug_val fref = {.type = WASMPLUG_FUNCREF, .of = {.ref = NULL}};
    wasmplug_func *is_null = wasmplug_instance_func(inst, "is_null_func");
    CHECK_STATUS(wasmplug_func_call(is_null, &fref, 1, res, 1, &err), WASMPLUG_OK);
    CHECK(res[0].of.i32 == 1);
    fref.of.ref = add;
    CHECK_STATUS(wasmplug_func_call(is_null, &fref, 1, res, 1, &err), WASMPLUG_OK);
    CHECK(res[0].of.i32 == 0);

    /* The slot fast path. */
    wasmplug_slot slots[2];
    slots[0].u64 = 0;
    slots[1].u64 = 0;
    slots[0].i32 = 40;
    slots[1].i32 = 2;
    CHECK_STATUS(wasmplug_func_call_slots(add, slots, &err), WASMPLUG_OK);
    CHECK_EQ(slots[0].i32, 42);
}

static void test_host_functions(wasmplug_instance *inst, int *factor)
{
    wasmplug_error err;
    wasmplug_val arg = test_i32(7), res;
    *factor = 3;
    host_calls = 0;
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "scaled"), &arg, 1, &res, 1,
                                    &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 21);
    CHECK_EQ(host_calls, 1);

    /* A failing host function: a HOST_ERROR trap with its message. */
    arg = test_i32(9);
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "call_fail"), &arg, 1, NULL, 0,
                                    &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_HOST_ERROR);
    CHECK_CONTAINS(err.message, "host refused 9");

    /* A host function asking to exit. */
    arg = test_i32(100);
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "call_fail"), &arg, 1, NULL, 0,
                                    &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_EXIT);
    CHECK_EQ(err.exit_code, 42);

    /* Re-entrant: the host calls back into the same instance. */
    arg = test_i32(5);
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "reentrant"), &arg, 1, &res, 1,
                                    &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 16);
}

static void test_backtrace(wasmplug_instance *inst)
{
    wasmplug_error err;
    wasmplug_val arg = test_i32(1), res;
    wasmplug_func *outer = wasmplug_instance_func(inst, "outer");
    CHECK_STATUS(wasmplug_func_call(outer, &arg, 1, &res, 1, &err), WASMPLUG_ERR_TRAP);
    CHECK_EQ(err.trap, WASMPLUG_TRAP_UNREACHABLE);
    CHECK(err.frame_count >= 3);
    if (err.frame_count >= 3) {
        CHECK_EQ(err.frames[0].func_index, 13);
        CHECK(strcmp(err.frames[0].func_name, "inner") == 0);
        CHECK_EQ(err.frames[1].func_index, 14);
        CHECK(strcmp(err.frames[1].func_name, "middle") == 0);
        CHECK_EQ(err.frames[2].func_index, 15);
        CHECK(strcmp(err.frames[2].func_name, "outer") == 0);
    }
    /* Still usable, and a clean call clears nothing it should not. */
    arg = test_i32(0);
    CHECK_STATUS(wasmplug_func_call(outer, &arg, 1, &res, 1, &err), WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 0);
}

static void test_exports(wasmplug_instance *inst, wasmplug_module *m)
{
    wasmplug_extern ext;
    CHECK(wasmplug_instance_module(inst) == m);
    CHECK_STATUS(wasmplug_instance_export(inst, "memory", &ext), WASMPLUG_OK);
    CHECK(ext.kind == WASMPLUG_EXTERN_MEMORY && ext.of.memory == wasmplug_instance_memory(inst));
    CHECK_STATUS(wasmplug_instance_export(inst, "nope", &ext), WASMPLUG_ERR_NOT_FOUND);
    CHECK_STATUS(wasmplug_instance_export_n(inst, "addx", 3, &ext), WASMPLUG_OK);
    CHECK(ext.kind == WASMPLUG_EXTERN_FUNC);
    CHECK_STATUS(wasmplug_instance_export_n(inst, "add", 2, &ext), WASMPLUG_ERR_NOT_FOUND);
    CHECK(wasmplug_instance_func(inst, "nope") == NULL);
    CHECK(wasmplug_instance_func(inst, "memory") == NULL);

    /* Globals. */
    wasmplug_error err;
    wasmplug_val v, res;
    CHECK_STATUS(wasmplug_instance_export(inst, "counter", &ext), WASMPLUG_OK);
    wasmplug_global *counter = ext.of.global;
    v = wasmplug_global_get(counter);
    CHECK(v.type == WASMPLUG_I32 && v.of.i32 == 5);
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "bump"), NULL, 0, &res, 1, &err),
                 WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 6);
    CHECK_STATUS(wasmplug_global_set(counter, test_i32(100)), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "bump"), NULL, 0, &res, 1, &err),
                 WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 101);
    CHECK_STATUS(wasmplug_global_set(counter, test_i64(1)), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_instance_export(inst, "pi", &ext), WASMPLUG_OK);
    v = wasmplug_global_get(ext.of.global);
    CHECK(v.type == WASMPLUG_F64 && fabs(v.of.f64 - 3.14159) < 1e-12);
    CHECK_STATUS(wasmplug_global_set(ext.of.global, v), WASMPLUG_ERR_ARGUMENT);

    /* Memory. */
    wasmplug_memory *mem = wasmplug_instance_memory(inst);
    size_t size = 0;
    uint8_t *data = wasmplug_memory_data(mem, &size);
    CHECK(data && size == 65536 && memcmp(data + 16, "wasmplug", 8) == 0);
    CHECK_EQ(wasmplug_memory_pages(mem), 1);
    uint32_t old = 0;
    CHECK_STATUS(wasmplug_memory_grow(mem, 1, &old), WASMPLUG_OK);
    CHECK_EQ(old, 1);
    CHECK_EQ(wasmplug_memory_pages(mem), 2);
    data = wasmplug_memory_data(mem, &size);
    CHECK(size == 2 * 65536 && data[65536 + 100] == 0);
    CHECK_STATUS(wasmplug_memory_grow(mem, 5, &old), WASMPLUG_ERR_LIMIT);
    CHECK_EQ(wasmplug_memory_pages(mem), 2);

    /* Table. */
    CHECK_STATUS(wasmplug_instance_export(inst, "table", &ext), WASMPLUG_OK);
    wasmplug_table *table = ext.of.table;
    CHECK_EQ(wasmplug_table_size(table), 2);
    void *ref = NULL;
    CHECK_STATUS(wasmplug_table_get(table, 0, &ref), WASMPLUG_OK);
    CHECK(ref != NULL);
    if (ref) {
        wasmplug_functype ft = wasmplug_func_type((wasmplug_func *)ref);
        CHECK(ft.param_count == 2 && ft.result_count == 1);
    }
    CHECK_STATUS(wasmplug_table_get(table, 1, &ref), WASMPLUG_OK);
    CHECK(ref == NULL);
    CHECK_STATUS(wasmplug_table_set(table, 1, wasmplug_instance_func(inst, "add")), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_table_get(table, 1, &ref), WASMPLUG_OK);
    CHECK(ref == wasmplug_instance_func(inst, "add"));
    CHECK(wasmplug_table_get(table, 2, &ref) != WASMPLUG_OK);
    CHECK(wasmplug_table_set(table, 2, NULL) != WASMPLUG_OK);
}

static void test_host_externs(wasmplug_engine *e)
{
    wasmplug_global *g = NULL;
    CHECK_STATUS(wasmplug_global_new(e, test_i64(-5), true, &g), WASMPLUG_OK);
    wasmplug_extern ext = {WASMPLUG_EXTERN_GLOBAL, {.global = g}};
    wasmplug_externtype t = wasmplug_extern_type(ext);
    CHECK(t.kind == WASMPLUG_EXTERN_GLOBAL && t.of.global.type == WASMPLUG_I64 &&
          t.of.global.mutable_);
    wasmplug_extern_retain(ext);
    wasmplug_global_free(g);                 /* one reference left */
    CHECK_EQ(wasmplug_global_get(g).of.i64, -5);
    wasmplug_extern_release(ext);

    wasmplug_limits l = {2, 8, true};
    wasmplug_table *tab = NULL;
    int marker;
    CHECK_STATUS(wasmplug_table_new(e, WASMPLUG_EXTERNREF, l, &marker, &tab), WASMPLUG_OK);
    void *ref = NULL;
    CHECK_STATUS(wasmplug_table_get(tab, 1, &ref), WASMPLUG_OK);
    CHECK(ref == &marker);
    wasmplug_table_free(tab);

    wasmplug_memory *mem = NULL;
    wasmplug_limits ml = {0, 0, false};
    CHECK_STATUS(wasmplug_memory_new(e, ml, &mem), WASMPLUG_OK);
    CHECK_EQ(wasmplug_memory_pages(mem), 0);
    wasmplug_memory_free(mem);

    int before = finalized;
    wasmplug_func *f = host_func(e, 1, 1, h_scale, NULL);
    wasmplug_func_free(f);
    CHECK_EQ(finalized, before + 1);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    test_strings();

    size_t size = 0;
    uint8_t *bytes = test_fixture("api", &size);
    if (!bytes)
        return test_done();
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, bytes, size, &m, &err), WASMPLUG_OK);
    if (!m) {
        printf("     %s\n", err.message);
        return test_done();
    }
    test_introspection(m);
    test_custom_section(e, bytes, size);
    test_binary_sections(bytes, size);

    int factor = 1;
    wasmplug_extern imports[3];
    imports[0].kind = imports[1].kind = imports[2].kind = WASMPLUG_EXTERN_FUNC;
    imports[0].of.func = host_func(e, 1, 1, h_scale, &factor);
    imports[1].of.func = host_func(e, 1, 0, h_fail, NULL);
    imports[2].of.func = host_func(e, 1, 1, h_reenter, NULL);
    test_link_errors(e, m, imports);

    int user_data;
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.user = &user_data;
    wasmplug_instance *inst = NULL;
    CHECK_STATUS(wasmplug_instance_new(m, imports, 3, &cfg, &inst, &err), WASMPLUG_OK);
    if (inst) {
        expected_instance = inst;
        CHECK(wasmplug_instance_user(inst) == &user_data);
        test_calls(inst);
        test_host_functions(inst, &factor);
        test_backtrace(inst);
        test_exports(inst, m);
    } else {
        printf("     %s\n", err.message);
    }
    test_host_externs(e);

    /* The instance keeps the module and the host functions alive. */
    wasmplug_module_free(m);
    int before = finalized;
    for (int i = 0; i < 3; i++)
        wasmplug_func_free(imports[i].of.func);
    CHECK_EQ(finalized, before);
    if (inst) {
        wasmplug_val arg = test_i32(2), res;
        CHECK_STATUS(wasmplug_func_call(wasmplug_instance_func(inst, "scaled"), &arg, 1, &res, 1,
                                        &err), WASMPLUG_OK);
        CHECK_EQ(res.of.i32, 6);
        wasmplug_instance_free(inst);
    }
    CHECK_EQ(finalized, before + 3);
    wasmplug_engine_free(e);
    free(bytes);
    return test_done();
}
