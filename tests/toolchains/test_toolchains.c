/*
 * test_toolchains.c - loads the plugins built by every supported toolchain
 * (C freestanding and bulk-memory, C WASI reactor, AssemblyScript, Rust,
 * Zig; see build-plugin.sh) into our engine through the public API only,
 * satisfies their imports with small host functions and checks each
 * export's results.
 *
 * Expected values never come from our engine: the C plugins' sources are
 * compiled natively into this file, and the other plugins' functions are
 * ported to C below (ref_*). `--wabt-json` writes the same expectations as
 * spectest JSON so that wabt's interpreter confirms the ports
 * (wabt-crosscheck.sh).
 *
 * usage: test_toolchains [--bounds auto|guard|explicit] [--wabt-json]
 *                        PLUGIN_DIR [PLUGIN...]
 * Ends with "N passed, N failed"; exit status 1 if anything failed.
 */
#include "wasmplug/engine.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The C plugins, compiled natively: the reference for their exports. */
#define WP_PLUGIN_NATIVE 1
#include "c/freestanding.c"
#undef EXPORT
#include "c/reactor.c"
#undef EXPORT
#include "c/simd.c"
#undef EXPORT
/* The other plugins' exports, ported to C. */
#include "reference.h"

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

static unsigned n_passed, n_failed;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(ok ? "ok   " : "FAIL ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    if (ok)
        n_passed++;
    else
        n_failed++;
}

static void describe_error(const wasmplug_error *err)
{
    printf("       status %s, trap %s: %s\n", wasmplug_strerror(err->status),
           wasmplug_trap_string(err->trap), err->message);
    for (uint32_t i = 0; i < err->frame_count && i < WASMPLUG_ERROR_FRAMES_MAX; i++)
        printf("         #%" PRIu32 " func %" PRIu32 " %s\n", i, err->frames[i].func_index,
               err->frames[i].func_name);
}

/* ------------------------------------------------------------------------ */
/* Test cases: export, typed arguments, expected results or trap            */
/* ------------------------------------------------------------------------ */

#define I32(v) ((wasmplug_val){ .type = WASMPLUG_I32, .of.u32 = (uint32_t)(v) })
#define I64(v) ((wasmplug_val){ .type = WASMPLUG_I64, .of.u64 = (uint64_t)(v) })
#define F32(v) ((wasmplug_val){ .type = WASMPLUG_F32, .of.f32 = (float)(v) })
#define F64(v) ((wasmplug_val){ .type = WASMPLUG_F64, .of.f64 = (double)(v) })
/* A v128 of four i32 lanes (lane 0 first). */
#define V128(l0, l1, l2, l3)                                                               \
    ((wasmplug_val){ .type = WASMPLUG_V128,                                              \
                     .of.u64 = (uint32_t)(l0) | (uint64_t)(uint32_t)(l1) << 32,          \
                     .of_hi.u64 = (uint32_t)(l2) | (uint64_t)(uint32_t)(l3) << 32 })
#define VALS(...)                                                                        \
    (const wasmplug_val[]){ __VA_ARGS__ },                                                 \
        (uint32_t)(sizeof((const wasmplug_val[]){ __VA_ARGS__ }) / sizeof(wasmplug_val))
#define NONE NULL, 0u

#define MAX_VALS 8
#define MAX_CASES 256

typedef struct tcase {
    const char *plugin;
    const char *func;
    uint32_t nargs, nres;
    wasmplug_val args[MAX_VALS];
    wasmplug_val res[MAX_VALS];
    wasmplug_trap trap;      /* TRAP_NONE: expect res */
    const char *msg;         /* a substring the trap message must contain, or NULL */
} tcase;

static tcase cases[MAX_CASES];
static size_t n_cases;

static tcase *add_case(const char *plugin, const char *func, const wasmplug_val *args,
                       uint32_t nargs)
{
    if (n_cases == MAX_CASES || nargs > MAX_VALS) {
        fprintf(stderr, "test_toolchains: too many cases or arguments\n");
        exit(2);
    }
    tcase *c = &cases[n_cases++];
    memset(c, 0, sizeof *c);
    c->plugin = plugin;
    c->func = func;
    c->nargs = nargs;
    if (nargs)
        memcpy(c->args, args, nargs * sizeof *args);
    return c;
}

/* func(args) must return res. */
static void expect(const char *plugin, const char *func, const wasmplug_val *args,
                   uint32_t nargs, const wasmplug_val *res, uint32_t nres)
{
    tcase *c = add_case(plugin, func, args, nargs);
    if (nres > MAX_VALS)
        exit(2);
    c->nres = nres;
    if (nres)
        memcpy(c->res, res, nres * sizeof *res);
}

/* func(args) must trap with kind trap (and a message containing msg). */
static void expect_trap(const char *plugin, const char *func, const wasmplug_val *args,
                        uint32_t nargs, wasmplug_trap trap, const char *msg)
{
    tcase *c = add_case(plugin, func, args, nargs);
    c->trap = trap;
    c->msg = msg;
}

static void cases_c_freestanding(const char *p)
{
    static const int32_t gcd_in[][2] = { { 48, 18 }, { 1071, 462 }, { -84, 36 },
                                         { 17, 0 }, { 0, 0 }, { 2147483647, 1 } };
    for (size_t i = 0; i < sizeof gcd_in / sizeof gcd_in[0]; i++)
        expect(p, "gcd", VALS(I32(gcd_in[i][0]), I32(gcd_in[i][1])),
               VALS(I32(fs_gcd(gcd_in[i][0], gcd_in[i][1]))));
    static const uint32_t fib_in[] = { 0, 1, 2, 10, 50, 93, 94, 300 };
    for (size_t i = 0; i < sizeof fib_in / sizeof fib_in[0]; i++)
        expect(p, "fib", VALS(I32(fib_in[i])), VALS(I64(fs_fib(fib_in[i]))));
    expect(p, "fib_rec", VALS(I32(0)), VALS(I32(0)));
    expect(p, "fib_rec", VALS(I32(24)), VALS(I32(fs_fib_rec(24))));
    expect(p, "count_primes", VALS(I32(1000)), VALS(I32(fs_count_primes(1000))));
    expect(p, "count_primes", VALS(I32(20000)), VALS(I32(fs_count_primes(20000))));
    static const uint64_t bits_in[] = { 0, 1, 0x8000000000000000ull, 0xF0F0F0F00000FF00ull,
                                        UINT64_MAX };
    for (size_t i = 0; i < sizeof bits_in / sizeof bits_in[0]; i++)
        expect(p, "bits64", VALS(I64(bits_in[i])), VALS(I64(fs_bits64(bits_in[i]))));
    expect(p, "div_s", VALS(I32(-7), I32(2)), VALS(I32(fs_div_s(-7, 2))));
    expect(p, "div_s", VALS(I32(INT32_MIN), I32(1)), VALS(I32(INT32_MIN)));
    expect(p, "rem_u64", VALS(I64(UINT64_MAX), I64(1000000007)),
           VALS(I64(fs_rem_u64(UINT64_MAX, 1000000007))));
    expect(p, "hypot2", VALS(F64(3.0), F64(4.0)), VALS(F64(fs_hypot2(3.0, 4.0))));
    expect(p, "hypot2", VALS(F64(1e-3), F64(-2.5e7)), VALS(F64(fs_hypot2(1e-3, -2.5e7))));
    expect(p, "hypot2", VALS(F64(INFINITY), F64(1.0)), VALS(F64(INFINITY)));
    static const double sq_in[] = { 2.0, 0.25, 1e10, 12345.678, -1.0 };
    for (size_t i = 0; i < sizeof sq_in / sizeof sq_in[0]; i++)
        expect(p, "newton_sqrt", VALS(F64(sq_in[i])), VALS(F64(fs_newton_sqrt(sq_in[i]))));
    expect(p, "norm3f", VALS(F32(1.0f), F32(2.0f), F32(2.0f)), VALS(F32(3.0f)));
    expect(p, "norm3f", VALS(F32(0.1f), F32(-7.25f), F32(1e3f)),
           VALS(F32(fs_norm3f(0.1f, -7.25f, 1e3f))));
    static const double sat_in[] = { 1.9, -1.9, 3e9, -3e9, 2147483646.5, NAN };
    for (size_t i = 0; i < sizeof sat_in / sizeof sat_in[0]; i++)
        expect(p, "f64_to_i32_sat", VALS(F64(sat_in[i])),
               VALS(I32(fs_f64_to_i32_sat(sat_in[i]))));
    for (uint32_t op = 0; op < 5; op++)
        expect(p, "apply", VALS(I32(op), I32(123456789), I32(-987654321)),
               VALS(I32(fs_apply(op, 123456789, -987654321))));
    expect(p, "fill_checksum", VALS(I32(12345), I32(1000)), VALS(I32(fs_fill_checksum(12345, 1000))));
    expect(p, "fill_checksum", VALS(I32(7), I32(40000)), VALS(I32(fs_fill_checksum(7, 40000))));
    expect(p, "struct_mix", VALS(I32(3)), VALS(I64(fs_struct_mix(3))));
    expect(p, "struct_mix", VALS(I32(-1000001)), VALS(I64(fs_struct_mix(-1000001))));
    /* Traps; the instance must stay usable after each (checked by the calls after). */
    expect_trap(p, "div_s", VALS(I32(1), I32(0)), WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO, NULL);
    expect_trap(p, "div_s", VALS(I32(INT32_MIN), I32(-1)), WASMPLUG_TRAP_INTEGER_OVERFLOW, NULL);
    expect_trap(p, "rem_u64", VALS(I64(5), I64(0)), WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO, NULL);
    expect_trap(p, "do_trap", NONE, WASMPLUG_TRAP_UNREACHABLE, NULL);
    expect_trap(p, "load_at", VALS(I32(0xFFFFFFF0u)), WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS, NULL);
    expect_trap(p, "fib_rec", VALS(I32(100000)), WASMPLUG_TRAP_CALL_STACK_EXHAUSTED, NULL);
    expect(p, "gcd", VALS(I32(12), I32(8)), VALS(I32(4)));
}

static void cases_c_reactor(const char *p)
{
    expect(p, "ctor_value", NONE, VALS(I32(rx_get_ctor_value())));
    static const int32_t n_in[] = { 0, 1, 5, 1000, 20000 };
    static const uint32_t seeds[] = { 1, 2463534242u, 99 };
    for (size_t i = 0; i < sizeof n_in / sizeof n_in[0]; i++)
        expect(p, "sort_checksum", VALS(I32(seeds[i % 3]), I32(n_in[i])),
               VALS(I64(rx_sort_checksum(seeds[i % 3], n_in[i]))));
    expect(p, "string_work", VALS(I32(10)), VALS(I32(rx_string_work(10))));
    expect(p, "string_work", VALS(I32(3000)), VALS(I32(rx_string_work(3000))));
    static const int32_t fmt_in[] = { 0, -1, 42, INT32_MIN, 1234567 };
    for (size_t i = 0; i < sizeof fmt_in / sizeof fmt_in[0]; i++)
        expect(p, "format_int", VALS(I32(fmt_in[i])), VALS(I32(rx_format_int(fmt_in[i]))));
    static const double fd_in[] = { 0.0, -1.5, 3.14159265358979, 1e-7, 6.02214076e23 };
    for (size_t i = 0; i < sizeof fd_in / sizeof fd_in[0]; i++)
        expect(p, "format_double", VALS(F64(fd_in[i])),
               VALS(I32(rx_format_double(fd_in[i]))));
}

static void cases_as(const char *p)
{
    static const int32_t fib_in[] = { 0, 1, 10, 64, 92, 100 };
    for (size_t i = 0; i < sizeof fib_in / sizeof fib_in[0]; i++)
        expect(p, "fib", VALS(I32(fib_in[i])), VALS(I64(fs_fib((uint32_t)fib_in[i]))));
    static const int32_t join_in[] = { 0, 1, 3, 250 };
    for (size_t i = 0; i < sizeof join_in / sizeof join_in[0]; i++) {
        expect(p, "joinHash", VALS(I32(join_in[i])), VALS(I32(ref_as_join_hash(join_in[i]))));
        expect(p, "joinLength", VALS(I32(join_in[i])),
               VALS(I32(ref_as_join_length(join_in[i]))));
    }
    expect(p, "vowels", NONE, VALS(I32(ref_as_vowels())));
    expect(p, "sqrtSum", VALS(I32(0)), VALS(F64(0.0)));
    expect(p, "sqrtSum", VALS(I32(1000)), VALS(F64(ref_as_sqrt_sum(1000))));
    expect(p, "geometry", VALS(F64(3.0), F64(4.0)), VALS(F64(ref_as_geometry(3.0, 4.0))));
    expect(p, "geometry", VALS(F64(-10.7), F64(2.2)), VALS(F64(ref_as_geometry(-10.7, 2.2))));
    expect(p, "sortChecksum", VALS(I32(1), I32(1)), VALS(I64(rx_sort_checksum(1, 1))));
    expect(p, "sortChecksum", VALS(I32(99), I32(5000)), VALS(I64(rx_sort_checksum(99, 5000))));
    expect(p, "mulmod", VALS(I64(123456789012345ull), I64(987654321098765ull),
                             I64(1000000000000000003ull)),
           VALS(I64(ref_mulmod(123456789012345ull, 987654321098765ull,
                               1000000000000000003ull))));
    expect(p, "mulmod", VALS(I64(UINT64_MAX - 1), I64(UINT64_MAX - 2), I64(UINT64_MAX)),
           VALS(I64(ref_mulmod(UINT64_MAX - 1, UINT64_MAX - 2, UINT64_MAX))));
    expect(p, "checkedDiv", VALS(I32(-100), I32(7)), VALS(I32(-14)));
    expect_trap(p, "checkedDiv", VALS(I32(1), I32(0)), WASMPLUG_TRAP_HOST_ERROR,
                "division by zero");
    /* AssemblyScript's own float formatting (always a ".0" on integers):
     * lengths of "0.1", "-2.5", "100.0", "1e+21", "123.456". */
    static const struct { double x; int32_t len; } strs[] = {
        { 0.1, 3 }, { -2.5, 4 }, { 100.0, 5 }, { 1e21, 5 }, { 123.456, 7 } };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        expect(p, "f64StrLen", VALS(F64(strs[i].x)), VALS(I32(strs[i].len)));
}

static void cases_rust(const char *p)
{
    static const uint64_t col_in[] = { 1, 6, 27, 837799, 9780657630ull };
    for (size_t i = 0; i < sizeof col_in / sizeof col_in[0]; i++)
        expect(p, "collatz_steps", VALS(I64(col_in[i])), VALS(I32(ref_rs_collatz(col_in[i]))));
    expect(p, "modpow", VALS(I64(2), I64(10), I64(1000)), VALS(I64(24)));
    expect(p, "modpow", VALS(I64(0xDEADBEEFCAFEull), I64(0x123456789ull),
                             I64(0xFFFFFFFFFFFFFFC5ull)),
           VALS(I64(ref_rs_modpow(0xDEADBEEFCAFEull, 0x123456789ull, 0xFFFFFFFFFFFFFFC5ull))));
    expect(p, "modpow", VALS(I64(5), I64(3), I64(1)), VALS(I64(0)));
    static const uint64_t mix_in[][2] = { { 0, 0 }, { 1, 2 }, { (uint64_t)-1, 77 },
                                          { 0x8000000000000000ull, 1ull << 40 } };
    for (size_t i = 0; i < sizeof mix_in / sizeof mix_in[0]; i++)
        expect(p, "mix64", VALS(I64(mix_in[i][0]), I64(mix_in[i][1])),
               VALS(I64(ref_rs_mix64(mix_in[i][0], mix_in[i][1]))));
    static const uint32_t sieve_in[] = { 0, 3, 100, 100000 };
    for (size_t i = 0; i < sizeof sieve_in / sizeof sieve_in[0]; i++)
        expect(p, "sieve_count", VALS(I32(sieve_in[i])), VALS(I32(ref_rs_sieve(sieve_in[i]))));
    expect(p, "vec_sort_checksum", VALS(I32(1), I32(0)), VALS(I64(0)));
    expect(p, "vec_sort_checksum", VALS(I32(2463534242u), I32(20000)),
           VALS(I64(rx_sort_checksum(2463534242u, 20000))));
    expect(p, "stats", VALS(I32(0)), VALS(F64(0.0)));
    expect(p, "stats", VALS(I32(10)), VALS(F64(ref_rs_stats(10))));
    expect(p, "stats", VALS(I32(100000)), VALS(F64(ref_rs_stats(100000))));
    expect(p, "call_host", VALS(I32(5), I32(100)), VALS(I32(ref_rs_call_host(5, 100))));
    expect(p, "scale_twice", VALS(F64(1.2)), VALS(F64(1.2 * 2.5 * 2.5 + 1.0)));
    char buf[128];
    expect(p, "greet", VALS(I32(12)), VALS(I32(ref_rs_greet(buf, sizeof buf, 12))));
    expect(p, "checked_index", VALS(I32(2)), VALS(I32(30)));
    expect_trap(p, "checked_index", VALS(I32(7)), WASMPLUG_TRAP_UNREACHABLE, NULL);
    expect(p, "checked_index", VALS(I32(3)), VALS(I32(40)));
}

/* The SIMD plugins. Their exports with v128 in the signature also check
 * the engine's typed calls and slot layout for vectors. */
static void cases_c_simd(const char *p)
{
    static const uint32_t n_in[] = { 0, 16, 100, 4096 };
    for (size_t i = 0; i < sizeof n_in / sizeof n_in[0]; i++) {
        expect(p, "sum_squares", VALS(I32(n_in[i])), VALS(I32(sm_sum_squares(n_in[i]))));
        expect(p, "max_and_negatives", VALS(I32(n_in[i])),
               VALS(I32(sm_max_and_negatives(n_in[i]))));
    }
    static const int32_t sat_in[][2] = { { 0x7FFF0001, 0x00010002 }, { (int32_t)0x80008000, -1 },
                                         { 1234567, 7654321 } };
    for (size_t i = 0; i < sizeof sat_in / sizeof sat_in[0]; i++)
        expect(p, "sat_mix", VALS(I32(sat_in[i][0]), I32(sat_in[i][1])),
               VALS(I32(sm_sat_mix(sat_in[i][0], sat_in[i][1]))));
    expect(p, "madd4", VALS(V128(1, 2, 3, 4), V128(10, 20, 30, -40), I32(3)),
           VALS(V128(31, 62, 93, -116)));
    expect(p, "reverse4", VALS(V128(1, 2, 3, 0x80000000u)), VALS(V128(0x80000000u, 3, 2, 1)));
}

static void cases_rust_simd(const char *p)
{
    static const uint32_t n_in[] = { 0, 17, 1000, 4096, 9999 };
    for (size_t i = 0; i < sizeof n_in / sizeof n_in[0]; i++)
        expect(p, "sum_squares", VALS(I32(n_in[i])), VALS(I32(sm_sum_squares(n_in[i]))));
    expect(p, "f32_lanes", VALS(F32(1.5f), F32(2.25f)), VALS(F32(ref_rs_f32_lanes(1.5f, 2.25f))));
    expect(p, "f32_lanes", VALS(F32(-3.0f), F32(0.5f)), VALS(F32(ref_rs_f32_lanes(-3.0f, 0.5f))));
    expect(p, "count_byte", VALS(I32(4096), I32(7)), VALS(I32(ref_rs_count_byte(4096, 7))));
    expect(p, "count_byte", VALS(I32(1000), I32(200)), VALS(I32(ref_rs_count_byte(1000, 200))));
}

static void cases_as_simd(const char *p)
{
    expect(p, "madd4", VALS(V128(1, 2, 3, 4), V128(10, 20, 30, -40), I32(-2)),
           VALS(V128(-22, -44, -66, 72)));
    expect(p, "reverse4", VALS(V128(5, 6, 7, 8)), VALS(V128(8, 7, 6, 5)));
    static const int32_t n_in[] = { 0, 1, 7, 1000 };
    for (size_t i = 0; i < sizeof n_in / sizeof n_in[0]; i++)
        expect(p, "sumHalves", VALS(I32(n_in[i])),
               VALS(F64(0.25 * (double)n_in[i] * (double)(n_in[i] - 1) + 0.0)));
}

static void cases_zig_simd(const char *p)
{
    static const uint32_t n_in[] = { 0, 4, 1000, 5000 };
    for (size_t i = 0; i < sizeof n_in / sizeof n_in[0]; i++)
        expect(p, "lanes_sum", VALS(I32(n_in[i])), VALS(I32(ref_zig_lanes_sum(n_in[i]))));
    static const uint32_t a_in[] = { 0, 60000, 0x1FFFF };
    for (size_t i = 0; i < sizeof a_in / sizeof a_in[0]; i++)
        expect(p, "sat_lanes", VALS(I32(a_in[i])), VALS(I32(ref_zig_sat_lanes(a_in[i]))));
}

static void cases_zig(const char *p)
{
    expect(p, "add3", VALS(I32(1), I32(2), I32(3)), VALS(I32(6)));
    expect(p, "add3", VALS(I32(INT32_MAX), I32(1), I32(1)),
           VALS(I32((uint32_t)INT32_MAX + 2u)));
    static const uint64_t narrow_in[] = { 0, 0x7F, 0x80, 0x123456789ABCDEF0ull,
                                          0xFFFFFFFFFFFFFFFFull, 0x00007FFF8000FF7Full };
    for (size_t i = 0; i < sizeof narrow_in / sizeof narrow_in[0]; i++)
        expect(p, "narrow", VALS(I64(narrow_in[i])), VALS(I64(ref_zig_narrow(narrow_in[i]))));
    static const uint32_t fact_in[] = { 0, 1, 5, 20, 21, 30 };
    for (size_t i = 0; i < sizeof fact_in / sizeof fact_in[0]; i++)
        expect(p, "factorial", VALS(I32(fact_in[i])), VALS(I64(ref_zig_factorial(fact_in[i]))));
    expect(p, "popcount_sum", VALS(I64(0), I64(UINT64_MAX)),
           VALS(I32(ref_zig_popcount_sum(0, UINT64_MAX))));
    expect(p, "popcount_sum", VALS(I64(0x00F0000000000001ull), I64(0x5555ull)),
           VALS(I32(ref_zig_popcount_sum(0x00F0000000000001ull, 0x5555ull))));
    expect(p, "sat_add_u8", VALS(I32(100), I32(100)), VALS(I32(200)));
    expect(p, "sat_add_u8", VALS(I32(200), I32(0x1FF)), VALS(I32(ref_zig_sat_add_u8(200, 0x1FF))));
    expect(p, "dist_f32", VALS(F32(3.0f), F32(4.0f)), VALS(F32(5.0f)));
    expect(p, "dist_f32", VALS(F32(1.1f), F32(-0.3f)), VALS(F32(ref_zig_dist(1.1f, -0.3f))));
    expect(p, "lerp", VALS(F64(1.0), F64(3.0), F64(0.25)), VALS(F64(1.5)));
    expect(p, "lerp", VALS(F64(-7.1), F64(1e6), F64(0.3)),
           VALS(F64(-7.1 + (1e6 - -7.1) * 0.3)));
    static const uint32_t sq_in[] = { 0, 10, 1024, 5000 };
    for (size_t i = 0; i < sizeof sq_in / sizeof sq_in[0]; i++)
        expect(p, "squares_sum", VALS(I32(sq_in[i])), VALS(I64(ref_zig_squares_sum(sq_in[i]))));
    expect(p, "host_sum", VALS(I32(1000)), VALS(I32(ref_zig_host_sum(1000))));
}

/* ------------------------------------------------------------------------ */
/* Host functions                                                           */
/* ------------------------------------------------------------------------ */

/* What the host functions saw (reset before each plugin). */
static struct {
    char out[4096];      /* fd 1 and 2 via fd_write */
    size_t out_len;
    char log[1024];      /* host.log */
    size_t log_len;
    uint32_t add_calls;  /* host.add */
} seen;

/* len bytes of the calling instance's memory at ptr, or NULL if out of range. */
static uint8_t *caller_mem(wasmplug_caller *caller, uint32_t ptr, uint32_t len)
{
    wasmplug_instance *inst = wasmplug_caller_instance(caller);
    wasmplug_memory *mem = inst ? wasmplug_instance_memory(inst) : NULL;
    if (!mem)
        return NULL;
    size_t size = 0;
    uint8_t *base = wasmplug_memory_data(mem, &size);
    if (!base || (uint64_t)ptr + len > size)
        return NULL;
    return base + ptr;
}

static uint32_t load_u32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_u32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void append(char *buf, size_t cap, size_t *len, const void *data, size_t n)
{
    if (n > cap - 1 - *len)
        n = cap - 1 - *len;
    memcpy(buf + *len, data, n);
    *len += n;
    buf[*len] = '\0';
}

/* AssemblyScript env.abort(msg, file, line, col): msg and file are UTF-16
 * strings whose byte length is stored 4 bytes before the data. Traps. */
static void as_string(wasmplug_caller *caller, uint32_t ptr, char *out, size_t cap)
{
    out[0] = '\0';
    uint8_t *hdr = ptr >= 4 ? caller_mem(caller, ptr - 4, 4) : NULL;
    if (!hdr)
        return;
    uint32_t bytes = load_u32le(hdr);
    uint8_t *s = caller_mem(caller, ptr, bytes);
    if (!s)
        return;
    size_t n = 0;
    for (uint32_t i = 0; i + 1 < bytes && n + 1 < cap; i += 2) {
        unsigned cu = (unsigned)s[i] | (unsigned)s[i + 1] << 8;
        out[n++] = cu < 0x80 ? (char)cu : '?';
    }
    out[n] = '\0';
}

static int host_abort(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    char msg[128], file[128];
    as_string(caller, slots[0].u32, msg, sizeof msg);
    as_string(caller, slots[1].u32, file, sizeof file);
    wasmplug_caller_set_error(caller, "abort: %s at %s:%" PRIu32 ":%" PRIu32, msg, file,
                              slots[2].u32, slots[3].u32);
    return 1;
}

static int host_add(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    seen.add_calls++;
    slots[0].u32 = slots[0].u32 + slots[1].u32;
    return 0;
}

static int host_scale(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    slots[0].f64 = slots[0].f64 * 2.5;
    return 0;
}

static int host_log(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    uint8_t *p = caller_mem(caller, slots[0].u32, slots[1].u32);
    if (!p) {
        wasmplug_caller_set_error(caller, "host.log: bad pointer");
        return 1;
    }
    append(seen.log, sizeof seen.log, &seen.log_len, p, slots[1].u32);
    return 0;
}

/* Minimal WASI preview 1 (errno values from the WASI spec). */
enum { WASI_ESUCCESS = 0, WASI_EBADF = 8, WASI_EFAULT = 21, WASI_ESPIPE = 70 };

static int wasi_fd_write(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    uint32_t fd = slots[0].u32, iovs = slots[1].u32, n = slots[2].u32, out = slots[3].u32;
    if (fd != 1 && fd != 2) {
        slots[0].u32 = WASI_EBADF;
        return 0;
    }
    uint32_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *iov = caller_mem(caller, iovs + 8 * i, 8);
        uint8_t *buf = iov ? caller_mem(caller, load_u32le(iov), load_u32le(iov + 4)) : NULL;
        if (!buf) {
            slots[0].u32 = WASI_EFAULT;
            return 0;
        }
        append(seen.out, sizeof seen.out, &seen.out_len, buf, load_u32le(iov + 4));
        total += load_u32le(iov + 4);
    }
    uint8_t *pn = caller_mem(caller, out, 4);
    if (!pn) {
        slots[0].u32 = WASI_EFAULT;
        return 0;
    }
    store_u32le(pn, total);
    slots[0].u32 = WASI_ESUCCESS;
    return 0;
}

static int wasi_fd_fdstat_get(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    uint32_t fd = slots[0].u32;
    uint8_t *st = caller_mem(caller, slots[1].u32, 24);
    if (fd > 2) {
        slots[0].u32 = WASI_EBADF;
        return 0;
    }
    if (!st) {
        slots[0].u32 = WASI_EFAULT;
        return 0;
    }
    memset(st, 0, 24);
    st[0] = 2;                /* filetype: character device */
    st[8] = fd ? 1u << 6 : 0; /* rights: fd_write on stdout/stderr */
    slots[0].u32 = WASI_ESUCCESS;
    return 0;
}

static int wasi_fd_seek(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    slots[0].u32 = WASI_ESPIPE;
    return 0;
}

static int wasi_fd_close(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    slots[0].u32 = WASI_ESUCCESS;
    return 0;
}

/* Any other import: traps if the plugin ever calls it. */
static int host_missing(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)slots;
    wasmplug_caller_set_error(caller, "import %s is not provided by test_toolchains",
                              (const char *)user);
    return 1;
}

static const wasmplug_valtype T_I32x4[] = { WASMPLUG_I32, WASMPLUG_I32, WASMPLUG_I32,
                                            WASMPLUG_I32 };
static const wasmplug_valtype T_I32[] = { WASMPLUG_I32 };
static const wasmplug_valtype T_F64[] = { WASMPLUG_F64 };
static const wasmplug_valtype T_SEEK[] = { WASMPLUG_I32, WASMPLUG_I64, WASMPLUG_I32,
                                           WASMPLUG_I32 };

#define FT(np, p, nr, r) { np, nr, p, r }

static const struct host_def {
    const char *module, *name;
    wasmplug_functype type;
    wasmplug_host_fn fn;
} host_defs[] = {
    { "env", "abort", FT(4, T_I32x4, 0, NULL), host_abort },
    { "host", "add", FT(2, T_I32x4, 1, T_I32), host_add },
    { "host", "scale", FT(1, T_F64, 1, T_F64), host_scale },
    { "host", "log", FT(2, T_I32x4, 0, NULL), host_log },
    { "wasi_snapshot_preview1", "fd_write", FT(4, T_I32x4, 1, T_I32), wasi_fd_write },
    { "wasi_snapshot_preview1", "fd_fdstat_get", FT(2, T_I32x4, 1, T_I32), wasi_fd_fdstat_get },
    { "wasi_snapshot_preview1", "fd_seek", FT(4, T_SEEK, 1, T_I32), wasi_fd_seek },
    { "wasi_snapshot_preview1", "fd_close", FT(1, T_I32x4, 1, T_I32), wasi_fd_close },
};

/* ------------------------------------------------------------------------ */
/* Running a plugin                                                         */
/* ------------------------------------------------------------------------ */

typedef struct plugin_run {
    const char *name;
    wasmplug_engine *engine;
    wasmplug_module *module;
    wasmplug_instance *inst;
    wasmplug_extern imports[16];
    uint32_t import_count;
    char missing[16][96]; /* names of imports bound to host_missing */
} plugin_run;

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    *size = len;
    return buf;
}

static bool link_imports(plugin_run *r)
{
    uint32_t n = wasmplug_module_import_count(r->module);
    if (n > 16) {
        check(false, "%s: %" PRIu32 " imports (driver handles 16)", r->name, n);
        return false;
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name;
        size_t mod_len, name_len;
        wasmplug_externtype type;
        if (wasmplug_module_import(r->module, i, &mod, &mod_len, &name, &name_len, &type) !=
            WASMPLUG_OK) {
            check(false, "%s: describe import %" PRIu32, r->name, i);
            return false;
        }
        if (type.kind != WASMPLUG_EXTERN_FUNC) {
            check(false, "%s: import %s.%s is not a function (kind %d)", r->name, mod, name,
                  (int)type.kind);
            return false;
        }
        const struct host_def *def = NULL;
        for (size_t d = 0; d < sizeof host_defs / sizeof host_defs[0]; d++)
            if (!strcmp(host_defs[d].module, mod) && !strcmp(host_defs[d].name, name))
                def = &host_defs[d];
        wasmplug_status st;
        r->imports[i].kind = WASMPLUG_EXTERN_FUNC;
        if (def) {
            st = wasmplug_func_new_host(r->engine, &def->type, def->fn, NULL, NULL,
                                        &r->imports[i].of.func);
        } else {
            snprintf(r->missing[i], sizeof r->missing[i], "%s.%s", mod, name);
            printf("note %s: import %s bound to a trapping stub\n", r->name, r->missing[i]);
            st = wasmplug_func_new_host(r->engine, &type.of.func, host_missing, r->missing[i],
                                        NULL, &r->imports[i].of.func);
        }
        if (st != WASMPLUG_OK) {
            check(false, "%s: create host function %s.%s: %s", r->name, mod, name,
                  wasmplug_strerror(st));
            return false;
        }
        r->import_count = i + 1;
    }
    return true;
}

static void plugin_close(plugin_run *r)
{
    if (r->inst)
        wasmplug_instance_free(r->inst);
    for (uint32_t i = 0; i < r->import_count; i++)
        wasmplug_func_free(r->imports[i].of.func);
    if (r->module)
        wasmplug_module_free(r->module);
    r->inst = NULL;
    r->module = NULL;
    r->import_count = 0;
}

/* Load dir/name.wasm, link and instantiate it. */
static bool plugin_open(plugin_run *r, wasmplug_engine *engine, const char *dir,
                        const char *name)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->engine = engine;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", dir, name);
    size_t size = 0;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        check(false, "%s: read %s", name, path);
        return false;
    }
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_module_new(engine, bytes, size, &r->module, &err);
    free(bytes);
    check(st == WASMPLUG_OK, "%s: load %s (%zu bytes)", name, path, size);
    if (st != WASMPLUG_OK) {
        describe_error(&err);
        if (err.offset != UINT64_MAX)
            printf("       at byte offset %" PRIu64 " (0x%" PRIx64 ")\n", err.offset, err.offset);
        return false;
    }
    if (!link_imports(r))
        return false;
    wasmplug_error_clear(&err);
    st = wasmplug_instance_new(r->module, r->imports, r->import_count, NULL, &r->inst, &err);
    check(st == WASMPLUG_OK, "%s: instantiate with %" PRIu32 " host imports", name,
          r->import_count);
    if (st != WASMPLUG_OK) {
        describe_error(&err);
        return false;
    }
    return true;
}

/* b: the value's slots (two for a v128). */
static bool val_equal(const wasmplug_val *a, const wasmplug_slot *b)
{
    switch (a->type) {
    case WASMPLUG_V128:
        return a->of.u64 == b[0].u64 && a->of_hi.u64 == b[1].u64;
    case WASMPLUG_I32:
    case WASMPLUG_F32:
        return a->of.u32 == b->u32;
    case WASMPLUG_I64:
    case WASMPLUG_F64:
        return a->of.u64 == b->u64;
    default:
        return false;
    }
}

static void format_val(char *buf, size_t cap, wasmplug_valtype type, const wasmplug_slot *v)
{
    switch (type) {
    case WASMPLUG_I32:
        snprintf(buf, cap, "i32:%" PRId32, v->i32);
        break;
    case WASMPLUG_I64:
        snprintf(buf, cap, "i64:%" PRId64, v->i64);
        break;
    case WASMPLUG_F32:
        snprintf(buf, cap, "f32:%.9g(0x%08" PRIx32 ")", (double)v->f32, v->f32_bits);
        break;
    case WASMPLUG_F64:
        snprintf(buf, cap, "f64:%.17g(0x%016" PRIx64 ")", v->f64, v->f64_bits);
        break;
    case WASMPLUG_V128:
        snprintf(buf, cap, "v128:%08" PRIx32 " %08" PRIx32 " %08" PRIx32 " %08" PRIx32,
                 v[0].u32, (uint32_t)(v[0].u64 >> 32), v[1].u32, (uint32_t)(v[1].u64 >> 32));
        break;
    default:
        snprintf(buf, cap, "type 0x%x", (unsigned)type);
    }
}

static void format_vals(char *buf, size_t cap, const wasmplug_val *vals, uint32_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && len < cap; i++) {
        char one[64];
        wasmplug_slot two[2] = { vals[i].of, vals[i].of_hi };
        format_val(one, sizeof one, vals[i].type, two);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", one);
    }
}

static bool type_matches(const wasmplug_functype *ft, const tcase *c)
{
    if (ft->param_count != c->nargs)
        return false;
    for (uint32_t i = 0; i < c->nargs; i++)
        if (ft->params[i] != c->args[i].type)
            return false;
    if (c->trap != WASMPLUG_TRAP_NONE)
        return true;
    if (ft->result_count != c->nres)
        return false;
    for (uint32_t i = 0; i < c->nres; i++)
        if (ft->results[i] != c->res[i].type)
            return false;
    return true;
}

static void run_case(plugin_run *r, const tcase *c)
{
    char args[256], want[256], got[256];
    format_vals(args, sizeof args, c->args, c->nargs);
    wasmplug_func *f = wasmplug_instance_func(r->inst, c->func);
    if (!f) {
        check(false, "%s: export %s not found", r->name, c->func);
        return;
    }
    wasmplug_functype ft = wasmplug_func_type(f);
    if (!type_matches(&ft, c)) {
        check(false, "%s: %s has %" PRIu32 " params/%" PRIu32 " results, not the expected type",
              r->name, c->func, ft.param_count, ft.result_count);
        return;
    }
    wasmplug_val res[MAX_VALS];
    memset(res, 0, sizeof res);
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_func_call(f, c->args, c->nargs, res, ft.result_count, &err);
    if (c->trap != WASMPLUG_TRAP_NONE) {
        bool ok = st == WASMPLUG_ERR_TRAP && err.trap == c->trap &&
                  (!c->msg || strstr(err.message, c->msg));
        check(ok, "%s: %s(%s) traps: %s%s%s", r->name, c->func, args,
              wasmplug_trap_string(c->trap), c->msg ? ", message has " : "",
              c->msg ? c->msg : "");
        if (!ok)
            describe_error(&err);
        return;
    }
    format_vals(want, sizeof want, c->res, c->nres);
    if (st != WASMPLUG_OK) {
        check(false, "%s: %s(%s) = %s", r->name, c->func, args, want);
        describe_error(&err);
        return;
    }
    bool ok = true;
    for (uint32_t i = 0; i < c->nres; i++) {
        wasmplug_slot two[2] = { res[i].of, res[i].of_hi };
        ok = ok && res[i].type == c->res[i].type && val_equal(&c->res[i], two);
    }
    format_vals(got, sizeof got, res, c->nres);
    check(ok, "%s: %s(%s) = %s%s%s", r->name, c->func, args, want, ok ? "" : "; got ",
          ok ? "" : got);

    /* The same call through the untyped fast path (a v128 takes two slots). */
    wasmplug_slot slots[2 * MAX_VALS];
    memset(slots, 0, sizeof slots);
    for (uint32_t i = 0, k = 0; i < c->nargs; i++) {
        slots[k++] = c->args[i].of;
        if (c->args[i].type == WASMPLUG_V128)
            slots[k++] = c->args[i].of_hi;
    }
    wasmplug_error_clear(&err);
    st = wasmplug_func_call_slots(f, slots, &err);
    ok = st == WASMPLUG_OK;
    for (uint32_t i = 0, k = 0; ok && i < c->nres; i++) {
        ok = val_equal(&c->res[i], &slots[k]);
        k += c->res[i].type == WASMPLUG_V128 ? 2 : 1;
    }
    if (!ok) {
        check(false, "%s: %s(%s) via wasmplug_func_call_slots = %s", r->name, c->func, args,
              want);
        if (st != WASMPLUG_OK)
            describe_error(&err);
    }
}

static bool call_i32(plugin_run *r, const char *func, const wasmplug_val *args, uint32_t n,
                     int32_t *out)
{
    wasmplug_func *f = wasmplug_instance_func(r->inst, func);
    wasmplug_val res[1];
    wasmplug_error err;
    wasmplug_error_clear(&err);
    if (!f) {
        check(false, "%s: export %s not found", r->name, func);
        return false;
    }
    wasmplug_status st = wasmplug_func_call(f, args, n, res, 1, &err);
    if (st != WASMPLUG_OK) {
        check(false, "%s: call %s", r->name, func);
        describe_error(&err);
        return false;
    }
    *out = res[0].of.i32;
    return true;
}

/* The memory range [ptr, ptr+len) of the instance's memory, or NULL. */
static uint8_t *inst_mem(plugin_run *r, uint32_t ptr, uint32_t len)
{
    wasmplug_memory *m = wasmplug_instance_memory(r->inst);
    size_t size = 0;
    uint8_t *base = m ? wasmplug_memory_data(m, &size) : NULL;
    if (!base || (uint64_t)ptr + len > size)
        return NULL;
    return base + ptr;
}

/* ---- plugin-specific checks (memory, strings, host effects) ---- */

static void extra_c_freestanding(plugin_run *r)
{
    int32_t ptr = 0, size = 0, sum = 0;
    if (!call_i32(r, "buf_ptr", NULL, 0, &ptr) || !call_i32(r, "buf_size", NULL, 0, &size))
        return;
    static unsigned char data[5000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 5));
    uint8_t *m = inst_mem(r, (uint32_t)ptr, (uint32_t)sizeof data);
    check(m != NULL && size >= (int32_t)sizeof data, "%s: buffer at %" PRId32
          " (%" PRId32 " bytes) inside memory", r->name, ptr, size);
    if (!m)
        return;
    memcpy(m, data, sizeof data);
    if (call_i32(r, "checksum", VALS(I32(ptr), I32(sizeof data)), &sum))
        check((uint32_t)sum == fs_checksum(data, sizeof data),
              "%s: checksum of 5000 host-written bytes = %" PRIu32, r->name,
              fs_checksum(data, sizeof data));

    /* Fuel: a long loop stops with OUT_OF_FUEL; the instance goes on. */
    wasmplug_instance_set_fuel(r->inst, 1000);
    wasmplug_func *f = wasmplug_instance_func(r->inst, "count_primes");
    wasmplug_val res[1];
    wasmplug_error ferr;
    wasmplug_error_clear(&ferr);
    wasmplug_status fst = f ? wasmplug_func_call(f, VALS(I32(20000)), res, 1, &ferr)
                            : WASMPLUG_ERR_NOT_FOUND;
    check(fst == WASMPLUG_ERR_TRAP && ferr.trap == WASMPLUG_TRAP_OUT_OF_FUEL,
          "%s: count_primes(20000) with 1000 fuel runs out of fuel", r->name);
    if (fst != WASMPLUG_ERR_TRAP || ferr.trap != WASMPLUG_TRAP_OUT_OF_FUEL)
        describe_error(&ferr);
    wasmplug_instance_set_fuel(r->inst, WASMPLUG_FUEL_UNLIMITED);
    if (call_i32(r, "count_primes", VALS(I32(100)), &sum))
        check(sum == 25, "%s: count_primes(100) = 25 after refuelling", r->name);

    /* A second instance of the same module has its own memory. */
    plugin_run r2 = *r;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    r2.inst = NULL;
    wasmplug_status st =
        wasmplug_instance_new(r->module, r->imports, r->import_count, NULL, &r2.inst, &err);
    check(st == WASMPLUG_OK, "%s: second instance", r->name);
    if (st != WASMPLUG_OK) {
        describe_error(&err);
        return;
    }
    uint8_t *m2 = inst_mem(&r2, (uint32_t)ptr, (uint32_t)sizeof data);
    check(m2 && m2 != m && m2[100] == 0 && m[100] == data[100],
          "%s: second instance's memory is separate and zeroed", r->name);
    if (call_i32(&r2, "checksum", VALS(I32(ptr), I32(10)), &sum))
        check(sum == ((10 << 16) | 1), "%s: checksum of 10 zero bytes in instance 2 = 0x%x",
              r->name, 10 << 16 | 1);
    wasmplug_instance_free(r2.inst);
}

static void check_text(plugin_run *r, const char *func, const wasmplug_val *args,
                       uint32_t nargs, int32_t (*native)(void), const char *what)
{
    int32_t ptr = 0, len = 0;
    int32_t want_len = native();
    if (!call_i32(r, func, args, nargs, &len) || !call_i32(r, "text_ptr", NULL, 0, &ptr))
        return;
    uint8_t *m = len >= 0 ? inst_mem(r, (uint32_t)ptr, (uint32_t)len + 1) : NULL;
    bool ok = m && len == want_len && !memcmp(m, rx_text, (size_t)len + 1);
    check(ok, "%s: %s(%s) wrote \"%s\"", r->name, func, what, rx_text);
    if (!ok && m)
        printf("       got %" PRId32 " bytes: \"%.*s\"\n", len, (int)len, (const char *)m);
}

static int32_t native_fmt_int(void) { return rx_format_int(-123456); }
static int32_t native_fmt_dbl(void) { return rx_format_double(-2718.281828459045); }

static void extra_c_reactor(plugin_run *r)
{
    check_text(r, "format_int", VALS(I32(-123456)), native_fmt_int, "-123456");
    check_text(r, "format_double", VALS(F64(-2718.281828459045)), native_fmt_dbl,
               "-2718.281828459045");
    int32_t n = 0;
    const char *want = "hello from a wasi reactor, n=7\n";
    if (call_i32(r, "say_hello", VALS(I32(7)), &n)) {
        bool ok = n == (int32_t)strlen(want) && !strcmp(seen.out, want);
        check(ok, "%s: say_hello(7) printed \"hello from a wasi reactor, n=7\\n\" through "
              "fd_write", r->name);
        if (!ok)
            printf("       returned %" PRId32 ", captured %zu bytes: \"%s\"\n", n, seen.out_len,
                   seen.out);
    }
}

static void extra_as(plugin_run *r)
{
    /* env.abort got the message, file name and position as AssemblyScript
     * strings in the plugin's memory (decoded by host_abort). */
    wasmplug_func *f = wasmplug_instance_func(r->inst, "checkedDiv");
    wasmplug_val res[1];
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = f ? wasmplug_func_call(f, VALS(I32(5), I32(0)), res, 1, &err)
                           : WASMPLUG_ERR_NOT_FOUND;
    check(st == WASMPLUG_ERR_TRAP && strstr(err.message, "abort: division by zero at ") &&
              strstr(err.message, "plugin.ts:"),
          "%s: abort message decoded from the plugin's memory: \"%s\"", r->name, err.message);
}

static void extra_rust(plugin_run *r)
{
    char want[128];
    int want_len = ref_rs_greet(want, sizeof want, 5);
    seen.log_len = 0;
    seen.log[0] = '\0';
    int32_t n = 0;
    if (call_i32(r, "greet", VALS(I32(5)), &n))
        check(n == want_len && !strcmp(seen.log, want), "%s: greet(5) logged \"%s\" (got \"%s\")",
              r->name, want, seen.log);
    seen.add_calls = 0;
    if (call_i32(r, "call_host", VALS(I32(1), I32(250)), &n))
        check(seen.add_calls == 250 && (uint32_t)n == ref_rs_call_host(1, 250),
              "%s: call_host(1, 250) called host.add 250 times (%" PRIu32 ")", r->name,
              seen.add_calls);
}

static void extra_zig(plugin_run *r)
{
    seen.add_calls = 0;
    int32_t n = 0;
    if (call_i32(r, "host_sum", VALS(I32(17)), &n))
        check(seen.add_calls == 17 && (uint32_t)n == ref_zig_host_sum(17),
              "%s: host_sum(17) called host.add 17 times (%" PRIu32 ")", r->name, seen.add_calls);
}

/* ------------------------------------------------------------------------ */
/* Plugins                                                                  */
/* ------------------------------------------------------------------------ */

/* The SIMD plugins need no checks beyond their cases. */
static void no_extra(plugin_run *r)
{
    (void)r;
}

static const struct plugin_def {
    const char *name;
    void (*cases)(const char *name);
    void (*extra)(plugin_run *r);
    const char *init;     /* export to call first (WASI reactor), or NULL */
    const char *stubs[2]; /* import modules the wabt cross-check registers */
} plugins[] = {
    { "c_freestanding", cases_c_freestanding, extra_c_freestanding, NULL, { NULL, NULL } },
    { "c_freestanding_bulk", cases_c_freestanding, extra_c_freestanding, NULL, { NULL, NULL } },
    { "c_reactor", cases_c_reactor, extra_c_reactor, "_initialize",
      { "wasi_snapshot_preview1", NULL } },
    { "as_plugin", cases_as, extra_as, NULL, { "env", NULL } },
    { "rust_plugin", cases_rust, extra_rust, NULL, { "host", NULL } },
    { "zig_plugin", cases_zig, extra_zig, NULL, { "host", NULL } },
    { "c_simd", cases_c_simd, no_extra, NULL, { NULL, NULL } },
    { "rust_simd", cases_rust_simd, no_extra, NULL, { NULL, NULL } },
    { "as_simd", cases_as_simd, no_extra, NULL, { "env", NULL } },
    { "zig_simd", cases_zig_simd, no_extra, NULL, { NULL, NULL } },
};

static const struct plugin_def *find_plugin(const char *name)
{
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
        if (!strcmp(plugins[i].name, name))
            return &plugins[i];
    return NULL;
}

static void run_plugin(wasmplug_engine *engine, const char *dir, const struct plugin_def *p)
{
    printf("# %s\n", p->name);
    memset(&seen, 0, sizeof seen);
    size_t first = n_cases;
    p->cases(p->name);
    plugin_run r;
    if (!plugin_open(&r, engine, dir, p->name)) {
        check(false, "%s: %zu cases not run", p->name, n_cases - first);
        plugin_close(&r);
        return;
    }
    if (p->init) {
        wasmplug_func *f = wasmplug_instance_func(r.inst, p->init);
        wasmplug_error err;
        wasmplug_error_clear(&err);
        wasmplug_status st = f ? wasmplug_func_call(f, NULL, 0, NULL, 0, &err) : WASMPLUG_ERR_NOT_FOUND;
        check(st == WASMPLUG_OK, "%s: %s()", p->name, p->init);
        if (st != WASMPLUG_OK)
            describe_error(&err);
    }
    for (size_t i = first; i < n_cases; i++)
        run_case(&r, &cases[i]);
    p->extra(&r);
    plugin_close(&r);
}

/* ------------------------------------------------------------------------ */
/* --wabt-json: the same expectations as spectest JSON for spectest-interp  */
/* ------------------------------------------------------------------------ */

static const char *wabt_type(wasmplug_valtype t)
{
    switch (t) {
    case WASMPLUG_I32: return "i32";
    case WASMPLUG_I64: return "i64";
    case WASMPLUG_F32: return "f32";
    case WASMPLUG_V128: return "v128";
    default: return "f64";
    }
}

static void wabt_vals(FILE *f, const wasmplug_val *v, uint32_t n)
{
    fputc('[', f);
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].type == WASMPLUG_V128) {
            fprintf(f, "%s{\"type\":\"v128\",\"lane_type\":\"i32\",\"value\":[\"%" PRIu32
                       "\",\"%" PRIu32 "\",\"%" PRIu32 "\",\"%" PRIu32 "\"]}",
                    i ? "," : "", v[i].of.u32, (uint32_t)(v[i].of.u64 >> 32), v[i].of_hi.u32,
                    (uint32_t)(v[i].of_hi.u64 >> 32));
            continue;
        }
        bool wide = v[i].type == WASMPLUG_I64 || v[i].type == WASMPLUG_F64;
        fprintf(f, "%s{\"type\":\"%s\",\"value\":\"%" PRIu64 "\"}", i ? "," : "",
                wabt_type(v[i].type), wide ? v[i].of.u64 : (uint64_t)v[i].of.u32);
    }
    fputc(']', f);
}

static int write_wabt_json(const char *dir, const struct plugin_def *p)
{
    size_t first = n_cases;
    p->cases(p->name);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wabt.json", dir, p->name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "test_toolchains: cannot write %s\n", path);
        return 1;
    }
    int line = 1;
    fprintf(f, "{\"source_filename\":\"%s.wasm\",\"commands\":[\n", p->name);
    for (int i = 0; i < 2 && p->stubs[i]; i++) {
        const char *file = !strcmp(p->stubs[i], "wasi_snapshot_preview1") ? "wasi" : p->stubs[i];
        fprintf(f, "{\"type\":\"module\",\"line\":%d,\"filename\":\"stub_%s.wasm\"},\n", line++,
                file);
        fprintf(f, "{\"type\":\"register\",\"line\":%d,\"as\":\"%s\"},\n", line++, p->stubs[i]);
    }
    fprintf(f, "{\"type\":\"module\",\"line\":%d,\"filename\":\"%s.wasm\"}", line++, p->name);
    if (p->init)
        fprintf(f, ",\n{\"type\":\"action\",\"line\":%d,\"action\":{\"type\":\"invoke\","
                   "\"field\":\"%s\",\"args\":[]},\"expected\":[]}", line++, p->init);
    for (size_t i = first; i < n_cases; i++) {
        const tcase *c = &cases[i];
        bool trap = c->trap != WASMPLUG_TRAP_NONE;
        fprintf(f, ",\n{\"type\":\"%s\",\"line\":%d,\"action\":{\"type\":\"invoke\","
                   "\"field\":\"%s\",\"args\":", trap ? "assert_trap" : "assert_return",
                line++, c->func);
        wabt_vals(f, c->args, c->nargs);
        fputs("}", f);
        if (trap)
            fprintf(f, ",\"text\":\"%s\",\"expected\":[]}", wasmplug_trap_string(c->trap));
        else {
            fputs(",\"expected\":", f);
            wabt_vals(f, c->res, c->nres);
            fputs("}", f);
        }
    }
    fputs("\n]}\n", f);
    fclose(f);
    printf("wrote %s (%zu cases)\n", path, n_cases - first);
    return 0;
}

/* ------------------------------------------------------------------------ */

static bool parse_bounds(const char *m, wasmplug_bounds_mode *out)
{
    if (!strcmp(m, "auto"))
        *out = WASMPLUG_BOUNDS_AUTO;
    else if (!strcmp(m, "guard"))
        *out = WASMPLUG_BOUNDS_GUARD_PAGES;
    else if (!strcmp(m, "explicit"))
        *out = WASMPLUG_BOUNDS_EXPLICIT;
    else
        return false;
    return true;
}

static int usage(void)
{
    fprintf(stderr, "usage: test_toolchains [--bounds auto|guard|explicit] [--wabt-json] "
                    "PLUGIN_DIR [PLUGIN...]\nplugins:");
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++)
        fprintf(stderr, " %s", plugins[i].name);
    fputc('\n', stderr);
    return 2;
}

int main(int argc, char **argv)
{
    wasmplug_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    /* The build's default mode (CMake's WASMPLUG_BOUNDS); --bounds overrides. */
    const char *env_bounds = getenv("WASMPLUG_TEST_BOUNDS");
    if (env_bounds && *env_bounds && !parse_bounds(env_bounds, &cfg.bounds))
        return usage();
    bool wabt = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--wabt-json")) {
            wabt = true;
        } else if (!strcmp(argv[i], "--bounds") && i + 1 < argc) {
            if (!parse_bounds(argv[++i], &cfg.bounds))
                return usage();
        } else {
            return usage();
        }
    }
    if (i >= argc)
        return usage();
    const char *dir = argv[i++];
    const struct plugin_def *list[sizeof plugins / sizeof plugins[0]];
    size_t count = 0;
    if (i == argc) {
        for (size_t k = 0; k < sizeof plugins / sizeof plugins[0]; k++)
            list[count++] = &plugins[k];
    }
    for (; i < argc; i++) {
        const struct plugin_def *p = find_plugin(argv[i]);
        if (!p || count == sizeof list / sizeof list[0])
            return usage();
        list[count++] = p;
    }

    if (wabt) {
        int rc = 0;
        for (size_t k = 0; k < count; k++)
            rc |= write_wabt_json(dir, list[k]);
        return rc;
    }

    wasmplug_engine *engine = NULL;
    wasmplug_status st = wasmplug_engine_new(&cfg, &engine);
    if (st != WASMPLUG_OK) {
        printf("FAIL engine: %s\n0 passed, 1 failed\n", wasmplug_strerror(st));
        return 1;
    }
    static const char *const mode_names[] = { "auto", "guard pages", "explicit" };
    printf("# wasmplug %s, bounds: %s\n", wasmplug_version(),
           (unsigned)cfg.bounds < 3 ? mode_names[cfg.bounds] : "?");
    for (size_t k = 0; k < count; k++)
        run_plugin(engine, dir, list[k]);
    wasmplug_engine_free(engine);
    printf("%u passed, %u failed\n", n_passed, n_failed);
    return n_failed ? 1 : 0;
}
