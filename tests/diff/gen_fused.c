/*
 * gen_fused.c - a random module (WebAssembly text, on stdout) built from the
 * code shapes the compiler fuses into superinstructions (src/engine/
 * compile_tables.c wp_fusions, ops.h): binary operations with a constant
 * operand on either side and with two locals, compares feeding br_if and
 * if, loops counting with an add feeding the branch, loads and stores at
 * local + constant, local + local and local + (local << constant), f64 and
 * f32 add/sub/mul of a load (f32 also at local + (local << 2)) and the
 * a[i] op= x update,
 * local-to-local copies; plus divisions, conversions and accesses that may
 * trap. Constants come from edge values (0, -1, min, max, shift counts...).
 *
 *   gen_fused SEED > module.wat      (wat2wasm module.wat, then difftest.sh)
 *   gen_fused --bytes N SEED > input  N pseudo-random bytes, the input that
 *                                     binaryen's wasm-opt -ttf makes a module of
 *
 * Every function is exported, takes no parameters and returns a hash of
 * what it computed; the last export, "hash", hashes the memory, so stores
 * are compared too. Loops are bounded. NaN payloads, which the spec leaves
 * open, never make two correct engines differ: floats reach the results
 * through i64.trunc_sat (NaN gives 0), and f64 results reach memory only in
 * a region the hash reads as floats, NaN as 0.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static unsigned pick(unsigned n)
{
    return (unsigned)(next() % n);
}

static const int64_t edges[] = {0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 255, 256, 4095, 65535,
                                65536, -1, -2, -31, -32, -64, INT32_MAX, INT32_MIN, UINT32_MAX,
                                INT64_MAX, INT64_MIN, 0x7FFF, 0x8000, 0x12345678, -0x12345678};

static int64_t constant(void)
{
    return pick(3) ? edges[pick(sizeof edges / sizeof edges[0])] : (int64_t)next();
}

static const char *const binops[] = {"add", "sub", "mul", "and", "or", "xor", "shl", "shr_s",
                                     "shr_u", "rotl", "rotr", "eq", "ne", "lt_s", "lt_u",
                                     "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u"};
static const char *const cmps[] = {"eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u",
                                   "ge_s", "ge_u"};
static const char *const divs[] = {"div_s", "div_u", "rem_s", "rem_u"};
static const char *const loads[] = {"i32.load", "i64.load", "f32.load", "f64.load",
                                    "i32.load8_s", "i32.load8_u", "i32.load16_s",
                                    "i32.load16_u"};
static const char *const stores[] = {"i32.store", "i64.store", "f32.store", "f64.store",
                                     "i32.store8", "i32.store16"};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Locals: $a $b $c $i $g (i32), $x $y (i64), $s (f32), $d $e (f64), $acc (i64). */
static const char *i32_local(void) { return (const char *[]){"$a", "$b", "$c"}[pick(3)]; }
static const char *i64_local(void) { return pick(2) ? "$x" : "$y"; }

/* Fold an i32 or i64 expression into $acc. */
static void fold32(const char *fmt_expr)
{
    printf("    (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31))"
           " (i64.extend_i32_u %s)))\n", fmt_expr);
}

static void fold64(const char *expr)
{
    printf("    (local.set $acc (i64.add (i64.mul (local.get $acc) (i64.const 31)) %s))\n", expr);
}

static void binop_snippet(void)
{
    bool wide = pick(2);
    const char *op = binops[pick(N(binops))];
    char e[256], k[64];
    int64_t c = constant();
    if (wide)
        snprintf(k, sizeof k, "(i64.const %" PRId64 ")", c);
    else
        snprintf(k, sizeof k, "(i32.const %" PRId32 ")", (int32_t)c);
    const char *l1 = wide ? i64_local() : i32_local(), *l2 = wide ? i64_local() : i32_local();
    const char *t = wide ? "i64" : "i32";
    switch (pick(3)) {
    case 0: /* constant second: the _IMM form */
        snprintf(e, sizeof e, "(%s.%s (local.get %s) %s)", t, op, l1, k);
        break;
    case 1: /* constant first: swapped into the _IMM form */
        snprintf(e, sizeof e, "(%s.%s %s (local.get %s))", t, op, k, l1);
        break;
    default: /* two locals */
        snprintf(e, sizeof e, "(%s.%s (local.get %s) (local.get %s))", t, op, l1, l2);
    }
    /* Keep the result in a local too, so later snippets see varied values. */
    bool is_cmp = op[0] == 'e' || op[0] == 'n' || op[0] == 'l' || op[0] == 'g';
    if (wide && !is_cmp) {
        printf("    (local.set %s %s)\n", l1, e);
        char g[32];
        snprintf(g, sizeof g, "(local.get %s)", l1);
        fold64(g);
    } else if (!wide && !is_cmp) {
        printf("    (local.set %s %s)\n", l1, e);
        char g[32];
        snprintf(g, sizeof g, "(local.get %s)", l1);
        fold32(g);
    } else {
        fold32(e);
    }
}

/* A compare: locals, or a local and a constant. */
static void compare(char *e, size_t size)
{
    bool wide = pick(2);
    const char *op = cmps[pick(N(cmps))];
    int64_t c = constant();
    if (pick(2))
        snprintf(e, size, "(%s.%s (local.get %s) (local.get %s))", wide ? "i64" : "i32", op,
                 wide ? i64_local() : i32_local(), wide ? i64_local() : i32_local());
    else if (wide)
        snprintf(e, size, "(i64.%s (local.get %s) (i64.const %" PRId64 "))", op, i64_local(), c);
    else
        snprintf(e, size, "(i32.%s (local.get %s) (i32.const %" PRId32 "))", op, i32_local(),
                 (int32_t)c);
}

static void branch_snippet(void)
{
    char e[256];
    compare(e, sizeof e);
    if (pick(2)) {
        printf("    (local.set $c (i32.const 0))\n"
               "    (block $out (br_if $out %s) (local.set $c (i32.const 1)))\n", e);
    } else {
        printf("    (if %s (then (local.set $c (i32.const 7))) (else (local.set $c (i32.const 9))))\n",
               e);
    }
    fold32("(local.get $c)");
}

/* A loop whose branch tests the add that steps its counter (the ADD_BR_IF
 * forms): plain, negated, or compared with a constant or a local. A guard
 * counter bounds it whatever the compare. */
static void loop_snippet(void)
{
    int step = (int)pick(9) - 4, start = (int)pick(40) - 20;
    printf("    (local.set $i (i32.const %d))\n    (local.set $g (i32.const %d))\n"
           "    (block $out (loop $l\n"
           "      (br_if $out (i32.eqz (local.get $g)))\n"
           "      (local.set $g (i32.add (local.get $g) (i32.const -1)))\n"
           "      (local.set $a (i32.add (i32.mul (local.get $a) (i32.const 3)) (local.get $i)))\n",
           start, 1 + (int)pick(30));
    char add[96];
    snprintf(add, sizeof add, "(local.tee $i (i32.add (local.get $i) (i32.const %d)))", step);
    switch (pick(4)) {
    case 0:
        printf("      (br_if $l %s)))\n", add);
        break;
    case 1:
        printf("      (br_if $l (i32.eqz %s))))\n", add);
        break;
    case 2:
        printf("      (br_if $l (i32.%s %s (i32.const %d)))))\n", cmps[pick(N(cmps))], add,
               (int)pick(40) - 20);
        break;
    default:
        printf("      (br_if $l (i32.%s %s (local.get $b)))))\n", cmps[pick(N(cmps))], add);
    }
    fold32("(local.get $a)");
}

/* An address: mostly inside the one page, sometimes at its end or beyond. */
static int32_t address(void)
{
    switch (pick(40)) {
    case 0:
        return 65536 - (int32_t)pick(16);
    case 1:
        return (int32_t)constant();
    default:
        return (int32_t)pick(4096);
    }
}

static void memory_snippet(void)
{
    int32_t base = address(), k = (int32_t)pick(64);
    unsigned off = pick(4) ? 0 : pick(32);
    char addr[160];
    switch (pick(6)) {
    case 0:
    case 1:
        snprintf(addr, sizeof addr, "(i32.add (local.get $i) (i32.const %d))", k);
        break;
    case 2: /* base + index (wrapping when base is an edge value) */
        snprintf(addr, sizeof addr, "(i32.add (local.get $i) (local.get $g))");
        break;
    case 3: /* base + scaled index */
        snprintf(addr, sizeof addr,
                 "(i32.add (local.get $i) (i32.shl (local.get $g) (i32.const %u)))",
                 pick(4) ? pick(4) : 32 + pick(4));
        break;
    case 4: /* constant base + scaled index (an array at a fixed address) */
        snprintf(addr, sizeof addr,
                 "(i32.add (i32.shl (local.get $g) (i32.const %u)) (i32.const %d))", pick(4),
                 base);
        break;
    default:
        snprintf(addr, sizeof addr, "(local.get $i)");
    }
    printf("    (local.set $i (i32.const %d))\n", base);
    printf("    (local.set $g (i32.const %d))\n",
           pick(8) ? (int32_t)pick(64) : (int32_t)constant());
    if (pick(3) == 0) /* an add right before the address's: an I32_ADD2 pair to split */
        printf("    (local.set $c (i32.add (local.get $a) (local.get $b)))\n");
    if (pick(2)) {
        const char *ld = loads[pick(N(loads))];
        char e[256];
        if (ld[0] == 'f' && ld[1] == '3')
            snprintf(e, sizeof e, "(i64.trunc_sat_f32_s (%s offset=%u %s))", ld, off, addr);
        else if (ld[0] == 'f')
            snprintf(e, sizeof e, "(i64.trunc_sat_f64_s (%s offset=%u %s))", ld, off, addr);
        else if (ld[1] == '6')
            snprintf(e, sizeof e, "(%s offset=%u %s)", ld, off, addr);
        else
            snprintf(e, sizeof e, "(i64.extend_i32_u (%s offset=%u %s))", ld, off, addr);
        fold64(e);
    } else {
        const char *st = stores[pick(N(stores))];
        const char *v = st[0] == 'f' ? (st[1] == '3' ? "(local.get $s)" : "(local.get $d)")
                        : st[1] == '6' ? "(local.get $x)" : "(local.get $a)";
        printf("    (%s offset=%u %s %s)\n", st, off, addr, v);
    }
}

/* The float arithmetic on memory (and so any NaN it makes) stays in this
 * region, which the memory hash reads as floats with NaNs counted as 0: the
 * spec leaves a NaN result's bits open. Other accesses do not reach it
 * (their addresses are below 4096, or edge values, or beyond the memory). */
#define FLOAT_REGION 40960

static void float_snippet(void)
{
    static const char *const ops[] = {"add", "sub", "mul"};
    const char *op = ops[pick(3)];
    /* In the float region, or (rarely) across the end of memory: a trap. */
    int32_t base = (int32_t)(pick(40) == 0 ? 65536 - 4 + (int)pick(16)
                                           : FLOAT_REGION + 8 * (int)pick(512));
    printf("    (local.set $i (i32.const %d))\n", base);
    const char *addr = pick(2) ? "(local.get $i)" : "(i32.add (local.get $i) (i32.const 8))";
    if (pick(2)) { /* a[i] = a[i] op x, or x op a[i] */
        if (pick(2))
            printf("    (f64.store %s (f64.%s (f64.load %s) (local.get $d)))\n", addr, op, addr);
        else
            printf("    (f64.store %s (f64.%s (local.get $d) (f64.load %s)))\n", addr, op, addr);
    } else if (pick(2)) { /* x op a[i] */
        printf("    (local.set $e (f64.%s (local.get $d) (f64.load %s)))\n", op, addr);
        fold64("(i64.trunc_sat_f64_s (local.get $e))");
    } else { /* f32: x op a[i], or a[i] op x; a[i] also at base + (index << k) */
        printf("    (local.set $g (i32.const %u))\n", pick(64));
        const char *faddr = pick(3) ? addr : "(i32.add (local.get $i) (i32.shl (local.get $g) (i32.const 2)))";
        if (pick(2))
            printf("    (local.set $s (f32.%s (local.get $s) (f32.load offset=%u %s)))\n", op,
                   4 * pick(3), faddr);
        else
            printf("    (local.set $s (f32.%s (f32.load offset=%u %s) (local.get $s)))\n", op,
                   4 * pick(3), faddr);
        fold64("(i64.trunc_sat_f32_s (local.get $s))");
    }
}

static void trap_snippet(void)
{
    bool wide = pick(2);
    char e[256];
    if (pick(3)) {
        const char *op = divs[pick(N(divs))];
        if (wide)
            snprintf(e, sizeof e, "(i64.%s (local.get %s) (i64.const %" PRId64 "))", op,
                     i64_local(), pick(3) ? constant() : 0);
        else
            snprintf(e, sizeof e, "(i32.%s (local.get %s) (local.get %s))", op, i32_local(),
                     i32_local());
    } else {
        static const char *const cv[] = {"i32.trunc_f64_s", "i32.trunc_f64_u", "i64.trunc_f64_s",
                                         "i64.trunc_f64_u"};
        const char *c = cv[pick(4)];
        if (c[1] == '3')
            snprintf(e, sizeof e, "(i64.extend_i32_u (%s (local.get $d)))", c);
        else
            snprintf(e, sizeof e, "(%s (local.get $d))", c);
        wide = true;
    }
    if (wide)
        fold64(e);
    else
        fold32(e);
}

/* Two copies, or two adds of locals of one type, in a row (COPY2,
 * I32_ADD2, F32_ADD2, F64_ADD2; the f64 sums stay in $e, which only
 * reaches the results through i64.trunc_sat). */
static void copy_snippet(void)
{
    switch (pick(4)) {
    case 0:
        printf("    (local.set %s (local.get %s))\n    (local.set %s (local.get %s))\n",
               i32_local(), i32_local(), i64_local(), i64_local());
        break;
    case 1:
        printf("    (local.set %s (i32.add (local.get %s) (local.get %s)))\n"
               "    (local.set %s (i32.add (local.get %s) (local.get %s)))\n",
               i32_local(), i32_local(), i32_local(), i32_local(), i32_local(), i32_local());
        break;
    case 2: /* the second add reads the first one's sum */
        printf("    (local.set $s (f32.add (f32.add (local.get $s) (f32.convert_i32_s (local.get %s)))"
               " (local.get $s)))\n", i32_local());
        fold64("(i64.trunc_sat_f32_s (local.get $s))");
        break;
    default:
        printf("    (local.set $e (f64.add (local.get $d) (local.get $e)))\n"
               "    (local.set $e (f64.add (local.get $e) (local.get %s)))\n",
               pick(2) ? "$d" : "$e");
        fold64("(i64.trunc_sat_f64_s (local.get $e))");
    }
    fold64("(local.get $x)");
    fold32("(local.get $a)");
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--bytes") == 0) {
        rng = strtoull(argv[3], NULL, 0) * 0x9E3779B97F4A7C15ull + 1;
        for (long n = atol(argv[2]); n > 0; n--)
            putchar((int)(next() & 0xFF));
        return 0;
    }
    rng = argc > 1 ? strtoull(argv[1], NULL, 0) * 0x9E3779B97F4A7C15ull + 1 : 1;
    printf("(module\n  (memory 1)\n  (data (i32.const 0) \"");
    for (int i = 0; i < 512; i++)
        printf("\\%02x", (unsigned)(next() & 0xFF));
    printf("\")\n");
    int nfunc = 2 + (int)pick(6);
    for (int f = 0; f < nfunc; f++) {
        printf("  (func (export \"f%d\") (result i64)\n"
               "    (local $a i32) (local $b i32) (local $c i32) (local $i i32) (local $g i32)\n"
               "    (local $s f32)\n"
               "    (local $x i64) (local $y i64) (local $d f64) (local $e f64) (local $acc i64)\n",
               f);
        printf("    (local.set $a (i32.const %" PRId32 "))\n", (int32_t)constant());
        printf("    (local.set $b (i32.const %" PRId32 "))\n", (int32_t)constant());
        printf("    (local.set $x (i64.const %" PRId64 "))\n", constant());
        printf("    (local.set $y (i64.const %" PRId64 "))\n", constant());
        printf("    (local.set $d (f64.const %" PRId64 ".%u))\n", constant() % 100000, pick(1000));
        printf("    (local.set $s (f32.demote_f64 (local.get $d)))\n");
        int n = 5 + (int)pick(30);
        for (int s = 0; s < n; s++) {
            switch (pick(10)) {
            case 0: case 1: case 2: binop_snippet(); break;
            case 3: branch_snippet(); break;
            case 4: loop_snippet(); break;
            case 5: case 6: memory_snippet(); break;
            case 7: case 8: float_snippet(); break;
            default: copy_snippet();
            }
        }
        if (pick(2)) /* last: what comes after a trap would not run */
            trap_snippet();
        printf("    (local.get $acc))\n");
    }
    /* The memory's hash: stores are compared too (NaNs in the float region
     * count as 0). */
    printf("  (func (export \"hash\") (result i64)\n"
           "    (local $p i32) (local $h i64) (local $v i64) (local $f f64)\n"
           "    (loop $l\n"
           "      (local.set $v (i64.load (local.get $p)))\n"
           "      (if (i32.and (i32.ge_u (local.get $p) (i32.const %d))\n"
           "                   (i32.lt_u (local.get $p) (i32.const %d)))\n"
           "        (then (local.set $f (f64.load (local.get $p)))\n"
           "              (if (f64.ne (local.get $f) (local.get $f))\n"
           "                (then (local.set $v (i64.const 0))))))\n"
           "      (local.set $h (i64.add (i64.mul (local.get $h) (i64.const 1099511628211))\n"
           "                             (local.get $v)))\n"
           "      (br_if $l (i32.ne (local.tee $p (i32.add (local.get $p) (i32.const 8)))\n"
           "                        (i32.const 65536))))\n"
           "    (local.get $h)))\n", FLOAT_REGION, FLOAT_REGION + 4096 + 16);
    return 0;
}
