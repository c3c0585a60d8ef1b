/*
 * test_serialize.c - compiled-module serialization (src/engine/serialize.c):
 * a round trip of the fixture serialize.wat (and of every other valid
 * fixture) gives a module that behaves like the freshly compiled one; a
 * serialized module is refused by an engine with another bounds mode; and
 * damage - every byte flipped, every truncation, and flips behind a repaired
 * checksum (which exercise the structural checks) - is always an error,
 * never a crash (CI runs this under ASan+UBSan).
 */
#include "engine/module.h"
#include "test.h"

#include <dirent.h>

static wasmplug_module *roundtrip(wasmplug_engine *e, wasmplug_module *m, uint8_t **bytes,
                                  size_t *size)
{
    wasmplug_error err;
    wasmplug_module *m2 = NULL;
    CHECK_STATUS(wasmplug_module_serialize(m, bytes, size, &err), WASMPLUG_OK);
    if (!*bytes)
        return NULL;
    wasmplug_status st = wasmplug_module_deserialize(e, *bytes, *size, &m2, &err);
    CHECK_STATUS(st, WASMPLUG_OK);
    if (st != WASMPLUG_OK)
        printf("     %s\n", err.message);
    return m2;
}

/* Call name(args) on an instance; the results (or the error) as text. */
static void call_text(wasmplug_instance *in, const char *name, const wasmplug_val *args,
                      size_t nargs, size_t nres, char *out, size_t cap)
{
    wasmplug_val res[4];
    wasmplug_error err;
    wasmplug_func *f = wasmplug_instance_func(in, name);
    if (!f) {
        snprintf(out, cap, "no function %s", name);
        return;
    }
    wasmplug_status st = wasmplug_func_call(f, args, nargs, res, nres, &err);
    if (st != WASMPLUG_OK) {
        snprintf(out, cap, "error %s: %.150s", wasmplug_status_name(st), err.message);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < nres && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%llx ", (unsigned long long)res[i].of.u64);
}

static wasmplug_val f64v(double d)
{
    wasmplug_val v;
    v.type = WASMPLUG_F64;
    v.of.f64 = d;
    return v;
}

/* Same calls on both modules, same answers. */
static void compare_behaviour(wasmplug_module *a, wasmplug_module *b)
{
    wasmplug_instance *ia = NULL, *ib = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_instance_new(a, NULL, 0, NULL, &ia, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_instance_new(b, NULL, 0, NULL, &ib, &err), WASMPLUG_OK);
    if (!ia || !ib)
        goto out;
    struct {
        const char *name;
        wasmplug_val args[3];
        size_t nargs, nres;
    } calls[] = {
        { "indirect", { test_i32(0), test_i32(5), test_i32(3) }, 3, 1 },
        { "indirect", { test_i32(1), test_i32(5), test_i32(3) }, 3, 1 },
        { "indirect", { test_i32(2), test_i32(5), test_i32(3) }, 3, 1 },
        { "indirect", { test_i32(3), test_i32(5), test_i32(3) }, 3, 1 }, /* null entry: trap */
        { "fib", { test_i32(50) }, 1, 1 },
        { "switch", { test_i32(0) }, 1, 1 },
        { "switch", { test_i32(2) }, 1, 1 },
        { "switch", { test_i32(99) }, 1, 1 },
        { "mem", { test_i32(0) }, 1, 1 },
        { "mem", { test_i32(2) }, 1, 1 },
        { "mem", { test_i32(70000) }, 1, 1 }, /* out of bounds: trap */
        { "misc", { test_i32(6) }, 1, 1 },
        { "multi", { test_i32(12) }, 1, 2 },
        { "fdiv", { f64v(1.0), f64v(3.0) }, 2, 1 },
        { "select", { test_i32(1), test_i32(2), test_i32(0) }, 3, 1 },
        { "reffunc", { test_i32(0) }, 0, 1 },
        { "trap", { test_i32(0) }, 1, 1 },
        { "trap", { test_i32(1) }, 1, 1 },
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        char ta[256], tb[256];
        call_text(ia, calls[i].name, calls[i].args, calls[i].nargs, calls[i].nres, ta, sizeof ta);
        call_text(ib, calls[i].name, calls[i].args, calls[i].nargs, calls[i].nres, tb, sizeof tb);
        if (!CHECK(strcmp(ta, tb) == 0))
            printf("     %s: compiled \"%s\", deserialized \"%s\"\n", calls[i].name, ta, tb);
        CHECK(strncmp(ta, "no function", 11) != 0);
    }
out:
    wasmplug_instance_free(ia);
    wasmplug_instance_free(ib);
}

/* The checksum at header offset 28 covers bytes 36..end (serialize.c). */
static void fix_checksum(uint8_t *b, size_t n)
{
    uint64_t h = wp_serialized_checksum(b + 36, n - 36);
    for (int i = 0; i < 8; i++)
        b[28 + i] = (uint8_t)(h >> (8 * i));
}

/*
 * A forged entry (valid checksum): compile wasm, serialize it, take the last
 * place whose len bytes are `pattern`, check that the untouched entry loads,
 * then overwrite those bytes with `replacement`: the load must fail with a
 * message containing msg.
 */
static void forged_bytes(wasmplug_engine *e, const uint8_t *wasm, size_t size,
                         const uint8_t *pattern, const uint8_t *replacement, size_t len,
                         const char *msg)
{
    wasmplug_module *m = NULL, *m2 = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, wasm, size, &m, &err), WASMPLUG_OK);
    uint8_t *b = NULL;
    size_t n = 0;
    if (m)
        CHECK_STATUS(wasmplug_module_serialize(m, &b, &n, &err), WASMPLUG_OK);
    size_t at = n;
    for (size_t i = 36; b && i + len <= n; i++)
        if (memcmp(b + i, pattern, len) == 0)
            at = i;
    CHECK(at < n);
    if (at < n) {
        CHECK_STATUS(wasmplug_module_deserialize(e, b, n, &m2, &err), WASMPLUG_OK);
        wasmplug_module_free(m2);
        m2 = NULL;
        memcpy(b + at, replacement, len);
        fix_checksum(b, n);
        CHECK_STATUS(wasmplug_module_deserialize(e, b, n, &m2, &err),
                     WASMPLUG_ERR_SERIALIZATION);
        CHECK(m2 == NULL);
        if (!test_check(strstr(err.message, msg) != NULL, __FILE__, __LINE__,
                        "the error names what is broken"))
            printf("     got \"%s\", want \"%s\"\n", err.message, msg);
    }
    wasmplug_serialized_free(b);
    wasmplug_module_free(m);
}

/* A load offset beyond 32 bits would reach past the guard-page reservation.
 * The module is (func (param i32) (result i32) (i32.load offset=0xFFFFFFFF
 * (local.get 0))); the offset becomes 0x1FFFFFFFF. */
/* The same for one 8-byte operand. */
static void forged_operand(wasmplug_engine *e, const uint8_t *wasm, size_t size,
                           const uint8_t pattern[8], const uint8_t replacement[8],
                           const char *msg)
{
    forged_bytes(e, wasm, size, pattern, replacement, 8, msg);
}

static void forged_offset(wasmplug_engine *e)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* header */
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,             /* (i32) -> i32 */
        0x03, 0x02, 0x01, 0x00,                                     /* one function */
        0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory 1 */
        0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,                    /* export "f" */
        0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00,                   /* local.get 0 */
        0x28, 0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b};            /* i32.load, end */
    static const uint8_t offset[8] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    static const uint8_t too_far[8] = {0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0};
    forged_operand(e, wasm, sizeof wasm, offset, too_far, "operand out of range");
}

/* Backward branches go to loop headers (FUEL), and the interpreter counts
 * fuel there without looking: one branching backward anywhere else, here to
 * itself, must be refused. The module is (func (param i32) (loop $l (br_if
 * $l (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))), whose one
 * backward offset is -2 cells. */
static void forged_loop(wasmplug_engine *e)
{
    static const uint8_t wasm[] = {
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* header */
        0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,                   /* (i32) -> () */
        0x03, 0x02, 0x01, 0x00,                                     /* one function */
        0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,                    /* export "f" */
        0x0a, 0x10, 0x01, 0x0e, 0x00, 0x03, 0x40, 0x20, 0x00, 0x41, /* loop, local.get */
        0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b};            /* sub, tee, br_if */
    static const uint8_t back[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t self[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    forged_operand(e, wasm, sizeof wasm, back, self, "not a loop header");
}

/* The function of forged_loop: its loop header's FUEL costs 6 (local.get,
 * i32.const, i32.sub, local.tee, br_if, end). */
static const uint8_t loop_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* header */
    0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,                   /* (i32) -> () */
    0x03, 0x02, 0x01, 0x00,                                     /* one function */
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,                    /* export "f" */
    0x0a, 0x10, 0x01, 0x0e, 0x00, 0x03, 0x40, 0x20, 0x00, 0x41, /* loop, local.get */
    0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b};            /* sub, tee, br_if */

/* A forged fuel cost must not lift the fuel limit: a negative cost would
 * give fuel back (and overflow the interpreter's subtraction), a loop that
 * costs nothing would run forever, and so would code without its entry
 * FUEL. A branch offset near INT64_MAX must not overflow the loader's
 * target arithmetic. */
static void forged_fuel(wasmplug_engine *e)
{
    uint8_t fuel_op[2] = {(uint8_t)WP_OP_FUEL, (uint8_t)(WP_OP_FUEL >> 8)};
    uint8_t br_op[2] = {(uint8_t)WP_OP_BR, (uint8_t)(WP_OP_BR >> 8)};
    uint8_t cost6[10] = {fuel_op[0], fuel_op[1], 6, 0, 0, 0, 0, 0, 0, 0};
    uint8_t negative[10] = {fuel_op[0], fuel_op[1], 0xfa, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0xff};
    forged_bytes(e, loop_wasm, sizeof loop_wasm, cost6, negative, 10, "fuel cost");
    uint8_t free_loop[10] = {fuel_op[0], fuel_op[1], 0, 0, 0, 0, 0, 0, 0, 0};
    forged_bytes(e, loop_wasm, sizeof loop_wasm, cost6, free_loop, 10, "costs no fuel");

    /* The entry FUEL (cost 2: loop and the final end) replaced with a
     * branch to the next instruction. */
    uint8_t entry[10] = {fuel_op[0], fuel_op[1], 2, 0, 0, 0, 0, 0, 0, 0};
    uint8_t skip[10] = {br_op[0], br_op[1], 2, 0, 0, 0, 0, 0, 0, 0};
    forged_bytes(e, loop_wasm, sizeof loop_wasm, entry, skip, 10, "fuel check");

    static const uint8_t back[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t huge[8] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
    forged_operand(e, loop_wasm, sizeof loop_wasm, back, huge, "branch out of the function");
}

/* (module (import "env" "f" (func)) (func (export "g") call 2) (func)):
 * CALL of a defined function forged to name the import, whose function has
 * no code (found by fuzz_deserialize: a null code pointer in the
 * interpreter). */
static const uint8_t call_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00,
    0x03, 0x03, 0x02, 0x00, 0x00,
    0x07, 0x05, 0x01, 0x01, 'g', 0x00, 0x01,
    0x0a, 0x09, 0x02, 0x04, 0x00, 0x10, 0x02, 0x0b, 0x02, 0x00, 0x0b,
};

static void forged_call(wasmplug_engine *e)
{
    uint8_t lo = (uint8_t)WP_OP_CALL, hi = (uint8_t)(WP_OP_CALL >> 8);
    uint8_t defined[6] = {lo, hi, 2, 0, 0, 0};
    uint8_t import[6] = {lo, hi, 0, 0, 0, 0};
    forged_bytes(e, call_wasm, sizeof call_wasm, defined, import, 6, "operand out of range");
}

/* (module (func (export "f") (param i32) (result i32) local.get 0
 * i32.const 5 i32.add)): its I32_ADD_IMM forged into an I32_LOAD (the same
 * operand layout) in a module without memory (found by fuzz_deserialize: a
 * load through a null base in guard-page mode). */
static const uint8_t add_imm_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x41, 0x05, 0x6a, 0x0b,
};

static void forged_memory_op(wasmplug_engine *e)
{
    uint8_t add[2] = {(uint8_t)WP_OP_I32_ADD_IMM, (uint8_t)(WP_OP_I32_ADD_IMM >> 8)};
    uint8_t load[2] = {(uint8_t)WP_OP_I32_LOAD, (uint8_t)(WP_OP_I32_LOAD >> 8)};
    forged_bytes(e, add_imm_wasm, sizeof add_imm_wasm, add, load, 2, "without memory");
}

static void corruption(wasmplug_engine *e, const uint8_t *good, size_t size)
{
    uint8_t *b = malloc(size);
    wasmplug_module *m = NULL;
    wasmplug_error err;
    size_t step = size > 2000 ? size / 2000 : 1;
    int rejected = 0, tried = 0;
    for (size_t i = 0; i < size; i += step) {
        memcpy(b, good, size);
        b[i] ^= 0x5a;
        wasmplug_status st = wasmplug_module_deserialize(e, b, size, &m, &err);
        tried++;
        rejected += st == WASMPLUG_ERR_SERIALIZATION && m == NULL;
        wasmplug_module_free(m);
        m = NULL;
    }
    CHECK_EQ(rejected, tried);
    rejected = tried = 0;
    for (size_t n = 0; n < size; n += (n < 64 ? 1 : step)) {
        wasmplug_status st = wasmplug_module_deserialize(e, good, n, &m, &err);
        tried++;
        rejected += st == WASMPLUG_ERR_SERIALIZATION && m == NULL;
        wasmplug_module_free(m);
        m = NULL;
    }
    CHECK_EQ(rejected, tried);
    /* Damage behind a valid checksum: the structural checks must hold (the
     * result may load, if the damage is harmless, but must not crash). */
    rejected = tried = 0;
    for (size_t i = 36; i < size; i += step) {
        for (int bit = 0; bit < 8; bit += 3) {
            memcpy(b, good, size);
            b[i] ^= (uint8_t)(1u << bit);
            fix_checksum(b, size);
            tried++;
            if (wasmplug_module_deserialize(e, b, size, &m, &err) == WASMPLUG_OK)
                wasmplug_module_free(m);
            else
                rejected++;
            m = NULL;
        }
    }
    printf("damage behind a repaired checksum: %d of %d rejected by the structural checks\n",
           rejected, tried);
    CHECK(rejected > tried / 2);
    /* And truncated ones with a repaired size and checksum. */
    for (size_t n = 37; n < size; n += step) {
        memcpy(b, good, n);
        uint64_t payload = n - 36;
        for (int i = 0; i < 8; i++)
            b[20 + i] = (uint8_t)(payload >> (8 * i));
        fix_checksum(b, n);
        CHECK(wasmplug_module_deserialize(e, b, n, &m, &err) != WASMPLUG_OK);
        wasmplug_module_free(m);
        m = NULL;
    }
    free(b);
}

/* Every valid fixture survives a round trip (and serializes identically). */
static void all_fixtures(wasmplug_engine *e)
{
    DIR *d = opendir(WP_TEST_FIXTURES);
    if (!CHECK(d != NULL))
        return;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".wasm") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", WP_TEST_FIXTURES, de->d_name);
        size_t size;
        uint8_t *wasm = test_read_file(path, &size);
        wasmplug_module *m = NULL, *m2 = NULL;
        wasmplug_error err;
        if (!wasm || wasmplug_module_new(e, wasm, size, &m, &err) != WASMPLUG_OK) {
            free(wasm);
            continue; /* the invalid_* fixtures */
        }
        uint8_t *s1 = NULL, *s2 = NULL;
        size_t n1 = 0, n2 = 0;
        m2 = roundtrip(e, m, &s1, &n1);
        if (m2) {
            CHECK_STATUS(wasmplug_module_serialize(m2, &s2, &n2, &err), WASMPLUG_OK);
            CHECK(n1 == n2 && s2 && memcmp(s1, s2, n1) == 0);
            CHECK_EQ(wasmplug_module_features(m2), wasmplug_module_features(m));
            CHECK_EQ(wasmplug_module_export_count(m2), wasmplug_module_export_count(m));
        }
        n++;
        wasmplug_serialized_free(s1);
        wasmplug_serialized_free(s2);
        wasmplug_module_free(m2);
        wasmplug_module_free(m);
        free(wasm);
    }
    closedir(d);
    CHECK(n >= 2);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    wasmplug_engine *e = test_engine_with(bounds, NULL, NULL);
    size_t size;
    uint8_t *wasm = test_fixture("serialize", &size);
    wasmplug_module *m = NULL, *m2 = NULL;
    wasmplug_error err;
    if (!wasm || wasmplug_module_new(e, wasm, size, &m, &err) != WASMPLUG_OK) {
        printf("FAIL: cannot compile serialize.wasm\n");
        return 1;
    }
    uint8_t *bytes = NULL;
    size_t nbytes = 0;
    m2 = roundtrip(e, m, &bytes, &nbytes);
    if (m2)
        compare_behaviour(m, m2);
    forged_offset(e);
    forged_loop(e);
    forged_fuel(e);
    forged_call(e);
    forged_memory_op(e);
    if (bytes) {
        corruption(e, bytes, nbytes);

        /* Another bounds mode: refused, with a clear message. */
        wasmplug_engine *other = test_engine_with(
            bounds == WASMPLUG_BOUNDS_EXPLICIT ? WASMPLUG_BOUNDS_GUARD_PAGES
                                               : WASMPLUG_BOUNDS_EXPLICIT, NULL, NULL);
        wasmplug_module *m3 = NULL;
        wasmplug_status st = wasmplug_module_deserialize(other, bytes, nbytes, &m3, &err);
        if (st == WASMPLUG_OK) { /* AUTO may have resolved to the same mode */
            wasmplug_module_free(m3);
        } else {
            CHECK_STATUS(st, WASMPLUG_ERR_SERIALIZATION);
            CHECK_CONTAINS(err.message, "bounds");
        }
        wasmplug_engine_free(other);

        /* Arguments. */
        CHECK_STATUS(wasmplug_module_deserialize(NULL, bytes, nbytes, &m3, &err),
                     WASMPLUG_ERR_ARGUMENT);
        uint8_t *none = NULL;
        size_t nnone = 0;
        CHECK_STATUS(wasmplug_module_serialize(NULL, &none, &nnone, &err),
                     WASMPLUG_ERR_ARGUMENT);
        CHECK(none == NULL);
    }
    all_fixtures(e);
    wasmplug_serialized_free(bytes);
    wasmplug_module_free(m2);
    wasmplug_module_free(m);
    free(wasm);
    wasmplug_engine_free(e);
    return test_done();
}
