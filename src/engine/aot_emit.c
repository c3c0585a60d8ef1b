/*
 * aot_emit.c - a validated module as C, for the native tier.
 *
 * Each defined function becomes one C function with typed parameters and
 * results (several results: a struct). The operand stack exists only here:
 * stack position p of type t is the C variable s<t><p> (t: i = i32 as
 * uint32_t, j = i64 as uint64_t, f = f32, d = f64, r = a reference as
 * void *), locals are l<k>, so the C compiler sees plain scalar data flow
 * and allocates registers. Blocks and loops are labels and gotos; a branch
 * copies its values to the target's stack positions first.
 *
 * Semantics are the interpreter's (docs/ARCHITECTURE.md, "The native tier"):
 *  - fuel: the function entry and every loop header charge the number of
 *    wasm instructions of their region (nested loops excluded), exactly as
 *    compile_func.c costs its FUEL operations, and test the interrupt flag
 *    in the same subtraction; a counted loop charges whole chunks of
 *    iterations at once (counted_loop);
 *  - the call depth is counted against the instance's limit and the native
 *    stack against a limit aot.c sets from the thread's stack, both a
 *    CALL_STACK_EXHAUSTED trap; each frame records its function for
 *    backtraces in the exec's frame array;
 *  - guard-page code accesses memory unchecked (the fault handler turns a
 *    fault into a trap; keep_pending makes sure every load happens);
 *    explicit-bounds code checks every access;
 *  - everything that touches tables, segments or other instances calls the
 *    engine back (wp_aot_rt).
 * The module was validated by compile.c, so this file decodes without
 * re-checking.
 */
#include "aot.h"
#include "aot_abi.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Text buffer                                                              */
/* ------------------------------------------------------------------------ */

void wp_text_put(wp_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (!wp_grow(t->engine, (void **)&t->data, &t->cap, t->len + n + 1, 1)) {
        t->failed = true;
        return;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

void wp_text_printf(wp_text *t, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        wp_text_put(t, small, (size_t)n);
        return;
    }
    char *big = wp_malloc(t->engine, (size_t)n + 1);
    if (!big) {
        t->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    wp_text_put(t, big, (size_t)n);
    wp_free(t->engine, big, (size_t)n + 1);
}

void wp_text_free(wp_text *t)
{
    if (t->data)
        wp_free(t->engine, t->data, t->cap);
    t->data = NULL;
    t->len = t->cap = 0;
}

/* ------------------------------------------------------------------------ */
/* Types                                                                    */
/* ------------------------------------------------------------------------ */

/* The letter of a value type in variable names, its C type, its slot field. */
static char tletter(wasmplug_valtype t)
{
    switch (t) {
    case WASMPLUG_I32: return 'i';
    case WASMPLUG_I64: return 'j';
    case WASMPLUG_F32: return 'f';
    case WASMPLUG_F64: return 'd';
    default: return 'r';
    }
}
static const char *ctype(char l)
{
    switch (l) {
    case 'i': return "uint32_t";
    case 'j': return "uint64_t";
    case 'f': return "float";
    case 'd': return "double";
    default: return "void *";
    }
}
static const char *slotfield(char l)
{
    switch (l) {
    case 'i': return "u32";
    case 'j': return "u64";
    case 'f': return "f32";
    case 'd': return "f64";
    default: return "ref";
    }
}
static int tindex(char l)
{
    switch (l) {
    case 'i': return 0;
    case 'j': return 1;
    case 'f': return 2;
    case 'd': return 3;
    default: return 4;
    }
}
static const char tletters[5] = {'i', 'j', 'f', 'd', 'r'};

bool wp_aot_supported(const wasmplug_module *m, char *why, size_t why_size)
{
    bool simd = (m->features & WP_FEATURE_SIMD) != 0;
    for (uint32_t i = 0; !simd && i < m->ntypes; i++)
        for (uint32_t k = 0; k < m->types[i].nparams + m->types[i].nresults; k++)
            simd |= m->types[i].types[k] == WASMPLUG_V128;
    for (uint32_t i = 0; !simd && i < m->nglobals; i++)
        simd |= m->globals[i].type == WASMPLUG_V128;
    if (simd) {
        snprintf(why, why_size, "the module uses SIMD (v128), which the native tier does not "
                                "compile; it runs in the interpreter");
        return false;
    }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Per-function state                                                       */
/* ------------------------------------------------------------------------ */

enum { K_FUNC, K_BLOCK, K_LOOP, K_IF };

typedef struct frame {
    int kind;
    uint32_t id;          /* label number */
    uint32_t height;      /* stack height below the block's parameters */
    uint32_t np, nr;
    const wasmplug_valtype *params, *results; /* results NULL: the one below */
    wasmplug_valtype one; /* storage for a single-value block type */
    bool dead_outside;    /* the code around the block was unreachable (skipped block) */
    bool had_else;
    bool counted;         /* loop: a counted copy runs first and leaves at X<id> */
    uint32_t region;      /* loop: its fuel region number */
} frame;

typedef struct fctx {
    const wasmplug_module *m;
    wasmplug_bounds_mode bounds;
    wp_reader r;
    wp_text body;         /* the function's statements */
    wp_text decls;        /* extra declarations (saved if-parameters) */
    wp_text *out;
    char *stack;          /* type letters of the operand stack */
    uint32_t h, stack_cap;
    uint8_t *used[5];     /* used[t][p]: variable s<t><p> is referenced */
    uint8_t *pend;        /* pend[p]: position p holds a load's value nothing keeps yet */
    uint32_t used_cap;
    frame *ctrl;
    uint32_t nctrl, ctrl_cap;
    char *ltypes;         /* letters of params + locals */
    uint32_t nlocals;
    uint32_t next_label;
    bool dead;            /* current code unreachable */
    uint32_t dead_depth;  /* blocks opened inside unreachable code */
    uint64_t *costs;      /* fuel regions: [0] the function, then one per loop */
    uint32_t ncosts, costs_cap;
    uint32_t *regions;    /* stack of open regions */
    uint32_t nregions, regions_cap;
    bool nomem;
    bool counted;         /* translating a counted loop's unchecked copy */
} fctx;

static bool fgrow(fctx *c, void *arr, uint32_t *cap, uint32_t need, size_t elem)
{
    size_t cap_ = *cap;
    if (!wp_grow(c->m->engine, (void **)arr, &cap_, need, elem)) {
        c->nomem = true;
        return false;
    }
    *cap = (uint32_t)cap_;
    return true;
}

/* The variable name of stack position p (type from the stack). */
static const char *var(fctx *c, uint32_t p, char *buf)
{
    char l = c->stack[p];
    c->used[tindex(l)][p] = 1;
    snprintf(buf, 16, "s%c%u", l, p);
    return buf;
}

static void push(fctx *c, char l)
{
    if (c->h + 1 > c->stack_cap || c->h + 1 > c->used_cap) {
        uint32_t need = c->h + 16;
        if (!fgrow(c, &c->stack, &c->stack_cap, need, 1))
            return;
        size_t cap = c->used_cap;
        for (int t = 0; t < 6; t++) {
            uint8_t **arr = t < 5 ? &c->used[t] : &c->pend;
            size_t cap_t = cap;
            if (!wp_grow(c->m->engine, (void **)arr, &cap_t, need, 1)) {
                c->nomem = true;
                return;
            }
            memset(*arr + cap, 0, cap_t - cap);
            c->used_cap = (uint32_t)cap_t;
        }
    }
    c->pend[c->h] = 0;
    c->stack[c->h++] = l;
}

#define B(...) wp_text_printf(&c->body, __VA_ARGS__)

/* Guard-page code must perform a load whose value ends up unused (it may be
 * the access that traps), but an empty asm on every loaded value costs a
 * register transfer and keeps loops from vectorizing. So a loaded value is
 * marked pending (2: the raw value, 1: computed from one) and passes
 * through arithmetic, loads and selects as straight-line data flow; a store
 * of a computed value keeps it (the store stays). Anything else that takes
 * it - a local, a branch, a call, drop, the end of straight-line code - gets
 * WP_KEEP (the empty asm) on it first. A raw loaded value is kept before it
 * is stored too: the C compiler may delete a store of what was just loaded
 * from the same address, load included. Explicit-bounds code checks every
 * access itself and needs none of this. */
static void keep_pending(fctx *c)
{
    char v[16];
    for (uint32_t p = 0; p < c->h; p++)
        if (c->pend[p]) {
            char l = c->stack[p];
            B(" WP_KEEP%s(%s);", l == 'f' || l == 'd' ? "F" : "", var(c, p, v));
            c->pend[p] = 0;
        }
}

static bool numops_has(uint8_t op);

/* Straight-line instructions (memory.grow is not: it calls the engine).
 * Pending values flow through them. */
static bool straight(uint8_t op)
{
    return op == 0x01 || op == 0x1B || op == 0x1C || op == 0x20 || op == 0x23 ||
           (op >= 0x28 && op <= 0x44 && op != 0x40) || numops_has(op) || op == 0xD0 ||
           op == 0xD2;
}

/* Names of the top stack positions: T(0) is the top, T(1) the one below. */
#define VAR(p) var(c, (p), vbuf[vn++ & 3])

/* ------------------------------------------------------------------------ */
/* Branches                                                                 */
/* ------------------------------------------------------------------------ */

static void copy_values(fctx *c, uint32_t dst, uint32_t n)
{
    char a[16], b[16];
    uint32_t src = c->h - n;
    if (src == dst)
        return;
    for (uint32_t k = 0; k < n; k++) {
        c->stack[dst + k] = c->stack[src + k];
        B(" %s = %s;", var(c, dst + k, a), var(c, src + k, b));
    }
}

/* Jump to frame f (relative depth) with the values on top of the stack. */
static void branch(fctx *c, uint32_t depth)
{
    frame *f = &c->ctrl[c->nctrl - 1 - depth];
    uint32_t n = f->kind == K_LOOP ? f->np : f->nr;
    char save[64];
    uint32_t nsave = n < sizeof save ? n : (uint32_t)sizeof save;
    /* copy_values rewrites the letters at dst; keep the stack as it was */
    if (nsave)
        memcpy(save, c->stack + f->height, nsave);
    copy_values(c, f->height, n);
    if (f->kind == K_LOOP)
        B(" goto L%u;", f->id);
    else if (f->kind == K_FUNC)
        B(" goto R;");
    else
        B(" goto B%u;", f->id);
    if (nsave && f->height + nsave <= c->h)
        memcpy(c->stack + f->height, save, nsave);
}

/* ------------------------------------------------------------------------ */
/* Decoding helpers (the module is valid)                                   */
/* ------------------------------------------------------------------------ */

static uint32_t u32(fctx *c)
{
    uint32_t v = 0;
    (void)wp_read_u32(&c->r, &v);
    return v;
}

/* Block type: fill f's params/results. */
static void blocktype(fctx *c, frame *f)
{
    int64_t bt = 0;
    (void)wp_read_sleb(&c->r, 33, &bt);
    f->np = f->nr = 0;
    f->params = f->results = NULL;
    if (bt == -64)
        return;
    if (bt < 0) {
        f->one = (wasmplug_valtype)(bt + 0x80);
        f->results = &f->one;
        f->nr = 1;
        return;
    }
    const wp_functype *t = &c->m->types[bt];
    f->np = t->nparams;
    f->nr = t->nresults;
    f->params = wp_functype_params(t);
    f->results = wp_functype_results(t);
}

/* Skip the immediates of an instruction in unreachable code. */
static void skip_imm(fctx *c, uint8_t op)
{
    wp_reader *r = &c->r;
    uint64_t u;
    int64_t s;
    switch (op) {
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23:
    case 0x24: case 0x25: case 0x26: case 0xD2:
        (void)u32(c);
        break;
    case 0x0E: {
        uint32_t n = u32(c);
        for (uint32_t i = 0; i <= n; i++)
            (void)u32(c);
        break;
    }
    case 0x11: (void)u32(c); (void)u32(c); break;
    case 0x1C: { uint32_t n = u32(c); r->p += n; break; }
    case 0x3F: case 0x40: r->p++; break;
    case 0x41: (void)wp_read_sleb(r, 32, &s); break;
    case 0x42: (void)wp_read_sleb(r, 64, &s); break;
    case 0x43: r->p += 4; break;
    case 0x44: r->p += 8; break;
    case 0xD0: r->p++; break;
    case 0xFC: {
        uint32_t sub = u32(c);
        switch (sub) {
        case 8: (void)u32(c); r->p++; break;
        case 9: case 13: case 15: case 16: case 17: (void)u32(c); break;
        case 10: r->p += 2; break;
        case 11: r->p += 1; break;
        case 12: case 14: (void)u32(c); (void)u32(c); break;
        default: break;
        }
        break;
    }
    default:
        if (op >= 0x28 && op <= 0x3E) {
            (void)wp_read_uleb(r, 32, &u);
            (void)wp_read_uleb(r, 32, &u);
        }
        break;
    }
}

/* ------------------------------------------------------------------------ */
/* Numeric operations                                                       */
/* ------------------------------------------------------------------------ */

/* One numeric instruction: result letter, operand letter, arity, and the C
 * expression with $a and $b for the operands. */
typedef struct numop {
    char r, a;
    uint8_t n;
    const char *expr;
} numop;

#define I32_CMP(e) {'i', 'i', 2, e}
#define I64_CMP(e) {'i', 'j', 2, e}
#define F32_CMP(e) {'i', 'f', 2, e}
#define F64_CMP(e) {'i', 'd', 2, e}
static const numop numops[0xC5] = {
    [0x45] = {'i', 'i', 1, "$a == 0"},
    [0x46] = I32_CMP("$a == $b"), [0x47] = I32_CMP("$a != $b"),
    [0x48] = I32_CMP("(int32_t)$a < (int32_t)$b"), [0x49] = I32_CMP("$a < $b"),
    [0x4A] = I32_CMP("(int32_t)$a > (int32_t)$b"), [0x4B] = I32_CMP("$a > $b"),
    [0x4C] = I32_CMP("(int32_t)$a <= (int32_t)$b"), [0x4D] = I32_CMP("$a <= $b"),
    [0x4E] = I32_CMP("(int32_t)$a >= (int32_t)$b"), [0x4F] = I32_CMP("$a >= $b"),
    [0x50] = {'i', 'j', 1, "$a == 0"},
    [0x51] = I64_CMP("$a == $b"), [0x52] = I64_CMP("$a != $b"),
    [0x53] = I64_CMP("(int64_t)$a < (int64_t)$b"), [0x54] = I64_CMP("$a < $b"),
    [0x55] = I64_CMP("(int64_t)$a > (int64_t)$b"), [0x56] = I64_CMP("$a > $b"),
    [0x57] = I64_CMP("(int64_t)$a <= (int64_t)$b"), [0x58] = I64_CMP("$a <= $b"),
    [0x59] = I64_CMP("(int64_t)$a >= (int64_t)$b"), [0x5A] = I64_CMP("$a >= $b"),
    [0x5B] = F32_CMP("$a == $b"), [0x5C] = F32_CMP("$a != $b"), [0x5D] = F32_CMP("$a < $b"),
    [0x5E] = F32_CMP("$a > $b"), [0x5F] = F32_CMP("$a <= $b"), [0x60] = F32_CMP("$a >= $b"),
    [0x61] = F64_CMP("$a == $b"), [0x62] = F64_CMP("$a != $b"), [0x63] = F64_CMP("$a < $b"),
    [0x64] = F64_CMP("$a > $b"), [0x65] = F64_CMP("$a <= $b"), [0x66] = F64_CMP("$a >= $b"),
    [0x67] = {'i', 'i', 1, "wp_clz32($a)"}, [0x68] = {'i', 'i', 1, "wp_ctz32($a)"},
    [0x69] = {'i', 'i', 1, "(uint32_t)__builtin_popcount($a)"},
    [0x6A] = {'i', 'i', 2, "$a + $b"}, [0x6B] = {'i', 'i', 2, "$a - $b"},
    [0x6C] = {'i', 'i', 2, "$a * $b"},
    [0x6D] = {'i', 'i', 2, "WP_DIVS(32, int32_t, 0x80000000u, $a, $b)"},
    [0x6E] = {'i', 'i', 2, "WP_DIVU(32, $a, $b)"},
    [0x6F] = {'i', 'i', 2, "WP_REMS(32, int32_t, 0x80000000u, $a, $b)"},
    [0x70] = {'i', 'i', 2, "WP_REMU(32, $a, $b)"},
    [0x71] = {'i', 'i', 2, "$a & $b"}, [0x72] = {'i', 'i', 2, "$a | $b"},
    [0x73] = {'i', 'i', 2, "$a ^ $b"}, [0x74] = {'i', 'i', 2, "$a << ($b & 31)"},
    [0x75] = {'i', 'i', 2, "wp_sar32($a, $b)"}, [0x76] = {'i', 'i', 2, "$a >> ($b & 31)"},
    [0x77] = {'i', 'i', 2, "wp_rotl32($a, $b)"}, [0x78] = {'i', 'i', 2, "wp_rotr32($a, $b)"},
    [0x79] = {'j', 'j', 1, "wp_clz64($a)"}, [0x7A] = {'j', 'j', 1, "wp_ctz64($a)"},
    [0x7B] = {'j', 'j', 1, "(uint64_t)__builtin_popcountll($a)"},
    [0x7C] = {'j', 'j', 2, "$a + $b"}, [0x7D] = {'j', 'j', 2, "$a - $b"},
    [0x7E] = {'j', 'j', 2, "$a * $b"},
    [0x7F] = {'j', 'j', 2, "WP_DIVS(64, int64_t, 0x8000000000000000ull, $a, $b)"},
    [0x80] = {'j', 'j', 2, "WP_DIVU(64, $a, $b)"},
    [0x81] = {'j', 'j', 2, "WP_REMS(64, int64_t, 0x8000000000000000ull, $a, $b)"},
    [0x82] = {'j', 'j', 2, "WP_REMU(64, $a, $b)"},
    [0x83] = {'j', 'j', 2, "$a & $b"}, [0x84] = {'j', 'j', 2, "$a | $b"},
    [0x85] = {'j', 'j', 2, "$a ^ $b"}, [0x86] = {'j', 'j', 2, "$a << ($b & 63)"},
    [0x87] = {'j', 'j', 2, "wp_sar64($a, $b)"}, [0x88] = {'j', 'j', 2, "$a >> ($b & 63)"},
    [0x89] = {'j', 'j', 2, "wp_rotl64($a, $b)"}, [0x8A] = {'j', 'j', 2, "wp_rotr64($a, $b)"},
    [0x8B] = {'f', 'f', 1, "wp_f32(wp_b32($a) & 0x7FFFFFFFu)"},
    [0x8C] = {'f', 'f', 1, "wp_f32(wp_b32($a) ^ 0x80000000u)"},
    [0x8D] = {'f', 'f', 1, "WP_QUIET($a, ceilf)"}, [0x8E] = {'f', 'f', 1, "WP_QUIET($a, floorf)"},
    [0x8F] = {'f', 'f', 1, "WP_QUIET($a, truncf)"}, [0x90] = {'f', 'f', 1, "WP_QUIET($a, rintf)"},
    [0x91] = {'f', 'f', 1, "__builtin_sqrtf($a)"},
    [0x92] = {'f', 'f', 2, "$a + $b"}, [0x93] = {'f', 'f', 2, "$a - $b"},
    [0x94] = {'f', 'f', 2, "$a * $b"}, [0x95] = {'f', 'f', 2, "$a / $b"},
    [0x96] = {'f', 'f', 2, "wp_fminf($a, $b)"}, [0x97] = {'f', 'f', 2, "wp_fmaxf($a, $b)"},
    [0x98] = {'f', 'f', 2, "wp_f32((wp_b32($a) & 0x7FFFFFFFu) | (wp_b32($b) & 0x80000000u))"},
    [0x99] = {'d', 'd', 1, "wp_f64(wp_b64($a) & 0x7FFFFFFFFFFFFFFFull)"},
    [0x9A] = {'d', 'd', 1, "wp_f64(wp_b64($a) ^ 0x8000000000000000ull)"},
    [0x9B] = {'d', 'd', 1, "WP_QUIET($a, ceil)"}, [0x9C] = {'d', 'd', 1, "WP_QUIET($a, floor)"},
    [0x9D] = {'d', 'd', 1, "WP_QUIET($a, trunc)"}, [0x9E] = {'d', 'd', 1, "WP_QUIET($a, rint)"},
    [0x9F] = {'d', 'd', 1, "__builtin_sqrt($a)"},
    [0xA0] = {'d', 'd', 2, "$a + $b"}, [0xA1] = {'d', 'd', 2, "$a - $b"},
    [0xA2] = {'d', 'd', 2, "$a * $b"}, [0xA3] = {'d', 'd', 2, "$a / $b"},
    [0xA4] = {'d', 'd', 2, "wp_fmin($a, $b)"}, [0xA5] = {'d', 'd', 2, "wp_fmax($a, $b)"},
    [0xA6] = {'d', 'd', 2,
              "wp_f64((wp_b64($a) & 0x7FFFFFFFFFFFFFFFull) | (wp_b64($b) & 0x8000000000000000ull))"},
    [0xA7] = {'i', 'j', 1, "(uint32_t)$a"},
    [0xA8] = {'i', 'f', 1, "(uint32_t)WP_TRUNC(int32_t, $a, -2147483904.0f, 2147483648.0f)"},
    [0xA9] = {'i', 'f', 1, "WP_TRUNC(uint32_t, $a, -1.0f, 4294967296.0f)"},
    [0xAA] = {'i', 'd', 1, "(uint32_t)WP_TRUNC(int32_t, $a, -2147483649.0, 2147483648.0)"},
    [0xAB] = {'i', 'd', 1, "WP_TRUNC(uint32_t, $a, -1.0, 4294967296.0)"},
    [0xAC] = {'j', 'i', 1, "(uint64_t)(int64_t)(int32_t)$a"},
    [0xAD] = {'j', 'i', 1, "(uint64_t)$a"},
    [0xAE] = {'j', 'f', 1,
              "(uint64_t)WP_TRUNC(int64_t, $a, -9223373136366403584.0f, 9223372036854775808.0f)"},
    [0xAF] = {'j', 'f', 1, "WP_TRUNC(uint64_t, $a, -1.0f, 18446744073709551616.0f)"},
    [0xB0] = {'j', 'd', 1,
              "(uint64_t)WP_TRUNC(int64_t, $a, -9223372036854777856.0, 9223372036854775808.0)"},
    [0xB1] = {'j', 'd', 1, "WP_TRUNC(uint64_t, $a, -1.0, 18446744073709551616.0)"},
    [0xB2] = {'f', 'i', 1, "(float)(int32_t)$a"}, [0xB3] = {'f', 'i', 1, "(float)$a"},
    [0xB4] = {'f', 'j', 1, "(float)(int64_t)$a"}, [0xB5] = {'f', 'j', 1, "(float)$a"},
    [0xB6] = {'f', 'd', 1, "(float)$a"},
    [0xB7] = {'d', 'i', 1, "(double)(int32_t)$a"}, [0xB8] = {'d', 'i', 1, "(double)$a"},
    [0xB9] = {'d', 'j', 1, "(double)(int64_t)$a"}, [0xBA] = {'d', 'j', 1, "(double)$a"},
    [0xBB] = {'d', 'f', 1, "WP_PROMOTE($a)"},
    [0xBC] = {'i', 'f', 1, "wp_b32($a)"}, [0xBD] = {'j', 'd', 1, "wp_b64($a)"},
    [0xBE] = {'f', 'i', 1, "wp_f32($a)"}, [0xBF] = {'d', 'j', 1, "wp_f64($a)"},
    [0xC0] = {'i', 'i', 1, "wp_sext32($a, 8)"}, [0xC1] = {'i', 'i', 1, "wp_sext32($a, 16)"},
    [0xC2] = {'j', 'j', 1, "wp_sext64($a, 8)"}, [0xC3] = {'j', 'j', 1, "wp_sext64($a, 16)"},
    [0xC4] = {'j', 'j', 1, "wp_sext64($a, 32)"},
};

/* 0xFC 0-7: saturating truncations. */
static const numop satops[8] = {
    {'i', 'f', 1, "(uint32_t)WP_TRUNC_SAT(int32_t, $a, -2147483904.0f, 2147483648.0f, "
                  "INT32_MIN, INT32_MAX)"},
    {'i', 'f', 1, "WP_TRUNC_SAT(uint32_t, $a, -1.0f, 4294967296.0f, 0, UINT32_MAX)"},
    {'i', 'd', 1, "(uint32_t)WP_TRUNC_SAT(int32_t, $a, -2147483649.0, 2147483648.0, "
                  "INT32_MIN, INT32_MAX)"},
    {'i', 'd', 1, "WP_TRUNC_SAT(uint32_t, $a, -1.0, 4294967296.0, 0, UINT32_MAX)"},
    {'j', 'f', 1, "(uint64_t)WP_TRUNC_SAT(int64_t, $a, -9223373136366403584.0f, "
                  "9223372036854775808.0f, INT64_MIN, INT64_MAX)"},
    {'j', 'f', 1, "WP_TRUNC_SAT(uint64_t, $a, -1.0f, 18446744073709551616.0f, 0, UINT64_MAX)"},
    {'j', 'd', 1, "(uint64_t)WP_TRUNC_SAT(int64_t, $a, -9223372036854777856.0, "
                  "9223372036854775808.0, INT64_MIN, INT64_MAX)"},
    {'j', 'd', 1, "WP_TRUNC_SAT(uint64_t, $a, -1.0, 18446744073709551616.0, 0, UINT64_MAX)"},
};

static bool numops_has(uint8_t op)
{
    return op < sizeof numops / sizeof numops[0] && numops[op].expr;
}

static bool step(fctx *c);

static void numeric(fctx *c, const numop *o)
{
    char a[16], b[16], d[16];
    uint32_t pa = c->h - o->n;
    var(c, pa, a);
    uint8_t pending = c->pend[pa];
    if (o->n == 2) {
        var(c, pa + 1, b);
        pending |= c->pend[pa + 1];
    }
    c->h = pa;
    push(c, o->r);
    c->pend[pa] = pending != 0;
    var(c, pa, d);
    B(" %s = (%s)(", d, ctype(o->r));
    for (const char *p = o->expr; *p; p++) {
        if (p[0] == '$' && (p[1] == 'a' || p[1] == 'b')) {
            B("%s", p[1] == 'a' ? a : b);
            p++;
        } else {
            wp_text_put(&c->body, p, 1);
        }
    }
    B(");");
}

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* loads 0x28-0x35: result letter, C type loaded, conversion to the result */
static const struct memop {
    char l;
    const char *ctype;
    uint8_t size;
    const char *conv;
} memops[0x3F - 0x28] = {
    [0x28 - 0x28] = {'i', "uint32_t", 4, ""},
    [0x29 - 0x28] = {'j', "uint64_t", 8, ""},
    [0x2A - 0x28] = {'f', "uint32_t", 4, "wp_f32"},
    [0x2B - 0x28] = {'d', "uint64_t", 8, "wp_f64"},
    [0x2C - 0x28] = {'i', "int8_t", 1, "(uint32_t)(int32_t)"},
    [0x2D - 0x28] = {'i', "uint8_t", 1, "(uint32_t)"},
    [0x2E - 0x28] = {'i', "int16_t", 2, "(uint32_t)(int32_t)"},
    [0x2F - 0x28] = {'i', "uint16_t", 2, "(uint32_t)"},
    [0x30 - 0x28] = {'j', "int8_t", 1, "(uint64_t)(int64_t)"},
    [0x31 - 0x28] = {'j', "uint8_t", 1, "(uint64_t)"},
    [0x32 - 0x28] = {'j', "int16_t", 2, "(uint64_t)(int64_t)"},
    [0x33 - 0x28] = {'j', "uint16_t", 2, "(uint64_t)"},
    [0x34 - 0x28] = {'j', "int32_t", 4, "(uint64_t)(int64_t)"},
    [0x35 - 0x28] = {'j', "uint32_t", 4, "(uint64_t)"},
    /* stores: the C type stored, the conversion of the value */
    [0x36 - 0x28] = {'i', "uint32_t", 4, ""},
    [0x37 - 0x28] = {'j', "uint64_t", 8, ""},
    [0x38 - 0x28] = {'f', "uint32_t", 4, "wp_b32"},
    [0x39 - 0x28] = {'d', "uint64_t", 8, "wp_b64"},
    [0x3A - 0x28] = {'i', "uint8_t", 1, "(uint8_t)"},
    [0x3B - 0x28] = {'i', "uint16_t", 2, "(uint16_t)"},
    [0x3C - 0x28] = {'j', "uint8_t", 1, "(uint8_t)"},
    [0x3D - 0x28] = {'j', "uint16_t", 2, "(uint16_t)"},
    [0x3E - 0x28] = {'j', "uint32_t", 4, "(uint32_t)"},
};

/* The bounds check of an access of size bytes at addr + offset (explicit
 * mode only; guard-page code relies on the fault handler). */
static void check_access(fctx *c, const char *addr, uint64_t offset, unsigned size)
{
    if (c->bounds == WASMPLUG_BOUNDS_EXPLICIT)
        B(" if (WP_UNLIKELY((uint64_t)%s + %lluull > msz)) "
          "WP_TRAP(WP_TRAP_MEMORY_OUT_OF_BOUNDS);",
          addr, (unsigned long long)(offset + size));
}

static void memory_op(fctx *c, uint8_t op)
{
    uint64_t align = 0, offset = 0;
    (void)wp_read_uleb(&c->r, 32, &align);
    (void)wp_read_uleb(&c->r, 32, &offset);
    const struct memop *o = &memops[op - 0x28];
    char a[16], v[16];
    if (op <= 0x35) {
        var(c, c->h - 1, a);
        check_access(c, a, offset, o->size);
        c->h--;
        push(c, o->l);
        c->pend[c->h - 1] = c->bounds == WASMPLUG_BOUNDS_EXPLICIT ? 0 : 2;
        B(" %s = %s(WP_LOAD(%s, mem + (uint64_t)%s + %lluull));", var(c, c->h - 1, v), o->conv,
          o->ctype, a, (unsigned long long)offset);
    } else {
        var(c, c->h - 2, a);
        var(c, c->h - 1, v);
        if (c->pend[c->h - 1] == 2)
            B(" WP_KEEP%s(%s);", o->l == 'f' || o->l == 'd' ? "F" : "", v);
        check_access(c, a, offset, o->size);
        B(" WP_STORE(%s, mem + (uint64_t)%s + %lluull, %s(%s));", o->ctype, a,
          (unsigned long long)offset, o->conv, v);
        c->h -= 2;
    }
}

/* After anything that may grow or move memory (calls, memory.grow) or use
 * fuel (calls). */
static void reload_memory(fctx *c)
{
    B(" WP_RELOAD_FUEL();");
    if (c->m->nmemories == 0)
        return;
    B(" mem = *c->mem_base;");
    if (c->bounds == WASMPLUG_BOUNDS_EXPLICIT)
        B(" msz = *c->mem_size;");
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/* The C return type of functions of type t. */
static void ret_type(wp_text *t, const wp_functype *ft, uint32_t type_index)
{
    if (ft->nresults == 0)
        wp_text_printf(t, "void");
    else if (ft->nresults == 1)
        wp_text_printf(t, "%s", ctype(tletter(wp_functype_results(ft)[0])));
    else
        wp_text_printf(t, "struct wp_res%u", type_index);
}

/* The C function-pointer type of type t. */
static void fn_ptr_type(wp_text *t, const wp_functype *ft, uint32_t type_index)
{
    wp_text_printf(t, "(");
    ret_type(t, ft, type_index);
    wp_text_printf(t, " (*)(wp_aot_ctx *");
    for (uint32_t i = 0; i < ft->nparams; i++)
        wp_text_printf(t, ", %s", ctype(tletter(wp_functype_params(ft)[i])));
    wp_text_printf(t, "))");
}

/* The canonical type index of a type (the first structurally equal one), so
 * equal types share one result struct. */
static uint32_t canon_type(const wasmplug_module *m, uint32_t ti)
{
    for (uint32_t i = 0; i < ti; i++)
        if (wp_functype_equal(&m->types[i], &m->types[ti]))
            return i;
    return ti;
}

/* Arguments at the top of the stack, results pushed. callee: a C
 * expression of the function to call (NULL: a call through rt->call of the
 * wasmplug_func in fexpr). */
static void call(fctx *c, uint32_t type_index, const char *callee, const char *fexpr)
{
    const wp_functype *ft = &c->m->types[type_index];
    uint32_t ti = canon_type(c->m, type_index);
    uint32_t base = c->h - ft->nparams;
    char v[16];
    if (callee) {
        if (ft->nresults > 1)
            B(" { struct wp_res%u r_ =", ti);
        else if (ft->nresults == 1) {
            /* the result takes the first argument's place (computed first) */
            B(" { %s r_ =", ctype(tletter(wp_functype_results(ft)[0])));
        } else {
            B(" {");
        }
        B(" %s(c", callee);
        for (uint32_t i = 0; i < ft->nparams; i++)
            B(", %s", var(c, base + i, v));
        B(");");
        c->h = base;
        for (uint32_t i = 0; i < ft->nresults; i++) {
            push(c, tletter(wp_functype_results(ft)[i]));
            if (ft->nresults == 1)
                B(" %s = r_;", var(c, c->h - 1, v));
            else
                B(" %s = r_.r%u;", var(c, c->h - 1, v), i);
        }
        B(" }");
    } else {
        uint32_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
        B(" { wp_aot_slot a_[%u];", n ? n : 1);
        for (uint32_t i = 0; i < ft->nparams; i++) {
            char l = c->stack[base + i];
            B(" a_[%u].%s = %s;", i, slotfield(l), var(c, base + i, v));
        }
        B(" wp_rt->call(c, %s, a_);", fexpr);
        c->h = base;
        for (uint32_t i = 0; i < ft->nresults; i++) {
            char l = tletter(wp_functype_results(ft)[i]);
            push(c, l);
            B(" %s = a_[%u].%s;", var(c, c->h - 1, v), i, slotfield(l));
        }
        B(" }");
    }
    reload_memory(c);
}

static void call_indirect(fctx *c, uint32_t type_index, uint32_t table)
{
    char idx[16];
    var(c, c->h - 1, idx);
    c->h--;
    const wp_functype *ft = &c->m->types[type_index];
    uint32_t ti = canon_type(c->m, type_index);
    uint32_t base = c->h - ft->nparams;
    /* both branches leave the results at the same positions: save the
     * argument letters, emit one, restore, emit the other */
    char letters[256];
    uint32_t nl = ft->nparams < sizeof letters ? ft->nparams : (uint32_t)sizeof letters;
    if (nl)
        memcpy(letters, c->stack + base, nl);
    B(" { const void *f_ = 0; void *n_ = wp_rt->indirect(c, %u, %u, %s, &f_);"
      " if (WP_LIKELY(n_ != 0)) {", table, type_index, idx);
    wp_text fp = {c->m->engine, NULL, 0, 0, false};
    fn_ptr_type(&fp, ft, ti);
    wp_text callee = {c->m->engine, NULL, 0, 0, false};
    wp_text_printf(&callee, "(%s n_)", fp.data ? fp.data : "");
    if (fp.failed || callee.failed)
        c->nomem = true;
    call(c, type_index, callee.data ? callee.data : "", NULL);
    wp_text_free(&fp);
    wp_text_free(&callee);
    B(" } else {");
    c->h = base + ft->nparams;
    if (nl)
        memcpy(c->stack + base, letters, nl);
    call(c, type_index, NULL, "f_");
    B(" } }");
}

/* ------------------------------------------------------------------------ */
/* Control                                                                  */
/* ------------------------------------------------------------------------ */

static frame *push_frame(fctx *c, int kind)
{
    if (!fgrow(c, &c->ctrl, &c->ctrl_cap, c->nctrl + 1, sizeof(frame)))
        return NULL;
    frame *f = &c->ctrl[c->nctrl++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->id = c->next_label++;
    return f;
}

static void open_region(fctx *c)
{
    if (!fgrow(c, &c->costs, &c->costs_cap, c->ncosts + 1, sizeof(uint64_t)) ||
        !fgrow(c, &c->regions, &c->regions_cap, c->nregions + 1, sizeof(uint32_t)))
        return;
    c->costs[c->ncosts] = 0;
    c->regions[c->nregions++] = c->ncosts++;
}

/* Set the stack to a frame's height plus the given values' letters. */
static void set_stack(fctx *c, const frame *f, const wasmplug_valtype *types, uint32_t n)
{
    c->h = f->height;
    for (uint32_t i = 0; i < n; i++)
        push(c, tletter(types[i]));
}

/* ------------------------------------------------------------------------ */
/* Counted loops                                                            */
/* ------------------------------------------------------------------------ */

/* A loop whose trip count is known when it starts runs in chunks without a
 * check per iteration, which lets the C compiler vectorize and unroll it:
 * each chunk of n iterations charges n times the loop's fuel at once (only
 * when that much fuel remains, so running out happens exactly where the
 * interpreter's would) and tests the interrupt flag once (chunks are at
 * most about 65,536 instructions, so an interrupt is seen as soon). What
 * the chunks do not cover - fuel running low, an interrupt, a count that
 * cannot be computed - runs in the loop's checked form from where they
 * stopped. The recognised shape (what compilers emit for a for loop): the
 * loop ends in `local.get I; i32.const S; i32.add|sub; local.tee I (or
 * local.set I; local.get I); [i32.const B | local.get B; cmp]; br_if 0`
 * with cmp one of ne, lt_s, lt_u (S > 0), gt_s, gt_u (S < 0), or none
 * (I != 0); nothing else writes I or B, nothing else branches back to the
 * loop or out of it, and it has no calls, nested loops or memory.grow (so
 * nothing else uses fuel while a chunk runs). A trap inside a chunk leaves
 * the chunk's whole fuel charged, where the interpreter charges up to the
 * iteration that trapped (explicit traps are exact: WP_TRAP stores the
 * fuel left). */
typedef struct loop_shape {
    uint32_t ind;        /* induction local I */
    uint32_t step;       /* S as added (a sub adds -S) */
    bool bound_local;    /* B is local.get B (else a constant) */
    uint32_t bound;      /* the local's index or the constant */
    int cmp;             /* 0: ne, 1: less than, 2: greater than */
    bool is_signed;
    const uint8_t *brif; /* the final br_if */
} loop_shape;

typedef struct scanned {
    const uint8_t *at;
    uint8_t op;
    int64_t imm;
} scanned;

/* Read the loop body at c->r (after its block type) without translating;
 * true if it has the counted shape. */
static bool scan_loop(fctx *c, loop_shape *ls)
{
    enum { RING = 8, MAXW = 32 };
    scanned ring[RING];
    uint32_t nscanned = 0, depth = 0, nwritten = 0, backedges = 0;
    uint32_t written[MAXW];
    const wp_reader start = c->r;
    bool ok = true;
    while (ok) {
        if (c->r.p >= c->r.end) {
            ok = false;
            break;
        }
        scanned in = {c->r.p, 0, 0};
        (void)wp_read_u8(&c->r, &in.op);
        if (in.op == 0x0B && depth == 0)
            break;
        switch (in.op) {
        case 0x03: case 0x0F: case 0x10: case 0x11: case 0x40:
            ok = false; /* nested loop, return, call, memory.grow */
            break;
        case 0x02: case 0x04: {
            int64_t bt;
            (void)wp_read_sleb(&c->r, 33, &bt);
            depth++;
            break;
        }
        case 0x0B:
            depth--;
            break;
        case 0x0C: case 0x0D: {
            uint32_t l = u32(c);
            in.imm = l;
            if (l > depth || (l == depth && (in.op == 0x0C || depth != 0)))
                ok = false;
            backedges += l == depth;
            break;
        }
        case 0x0E: {
            uint32_t n = u32(c);
            for (uint32_t i = 0; i <= n; i++)
                if (u32(c) >= depth)
                    ok = false;
            break;
        }
        case 0x20: case 0x21: case 0x22: {
            uint32_t x = u32(c);
            in.imm = x;
            if (in.op != 0x20) {
                if (nwritten == MAXW)
                    ok = false;
                else
                    written[nwritten++] = x;
            }
            break;
        }
        case 0x41:
            (void)wp_read_sleb(&c->r, 32, &in.imm);
            break;
        default:
            skip_imm(c, in.op);
            break;
        }
        ring[nscanned++ % RING] = in;
    }
    c->r = start;
    if (!ok || backedges != 1)
        return false;
    /* the tail, last instruction first (0xFF: before the body's start) */
    const scanned none = {NULL, 0xFF, 0};
#define TAIL(k) ((k) < nscanned && (k) < RING ? ring[(nscanned - 1 - (k)) % RING] : none)
    if (TAIL(0).op != 0x0D || TAIL(0).imm != 0)
        return false;
    uint32_t k = 1;
    ls->brif = TAIL(0).at;
    ls->cmp = 0;
    ls->is_signed = false;
    ls->bound_local = false;
    ls->bound = 0;
    uint8_t cmp = TAIL(1).op;
    if (cmp >= 0x47 && cmp <= 0x4B) {
        ls->cmp = cmp == 0x47 ? 0 : cmp <= 0x49 ? 1 : 2;
        ls->is_signed = cmp == 0x48 || cmp == 0x4A;
        if (TAIL(2).op == 0x41) {
            ls->bound = (uint32_t)TAIL(2).imm;
        } else if (TAIL(2).op == 0x20) {
            ls->bound_local = true;
            ls->bound = (uint32_t)TAIL(2).imm;
        } else {
            return false;
        }
        k = 3;
    }
    /* local.tee I, or local.set I; local.get I */
    uint32_t ind;
    if (TAIL(k).op == 0x22) {
        ind = (uint32_t)TAIL(k).imm;
        k += 1;
    } else if (TAIL(k).op == 0x20 && TAIL(k + 1).op == 0x21 &&
               TAIL(k + 1).imm == TAIL(k).imm) {
        ind = (uint32_t)TAIL(k).imm;
        k += 2;
    } else {
        return false;
    }
    if ((TAIL(k).op != 0x6A && TAIL(k).op != 0x6B) || TAIL(k + 1).op != 0x41 ||
        TAIL(k + 2).op != 0x20 || TAIL(k + 2).imm != ind)
        return false;
    uint32_t sv = (uint32_t)TAIL(k + 1).imm;
    ls->step = TAIL(k).op == 0x6A ? sv : 0u - sv;
    ls->ind = ind;
#undef TAIL
    if (c->ltypes[ind] != 'i' || (ls->bound_local && (c->ltypes[ls->bound] != 'i' || ls->bound == ind)))
        return false;
    if (ls->step == 0 || (ls->cmp == 1 && (int32_t)ls->step < 0) ||
        (ls->cmp == 2 && (int32_t)ls->step > 0))
        return false;
    /* I is written once (the increment), B never */
    uint32_t writes = 0;
    for (uint32_t i = 0; i < nwritten; i++) {
        writes += written[i] == ind;
        if (ls->bound_local && written[i] == ls->bound)
            return false;
    }
    return writes == 1;
}

/* If the loop starting at c->r (label id, stack height h) is counted, write
 * its unchecked copy in chunks ahead of its checked form; the reader and
 * the stack are left where they were. */
static bool counted_loop(fctx *c, uint32_t id, uint32_t h)
{
    loop_shape ls;
    if (c->counted || !scan_loop(c, &ls))
        return false;
    uint32_t region = c->ncosts; /* the number open_region gives this loop next */
    const char *flip = ls.is_signed ? " ^ 0x80000000u" : "";
    char bound[32];
    if (ls.bound_local)
        snprintf(bound, sizeof bound, "l%u", ls.bound);
    else
        snprintf(bound, sizeof bound, "0x%xu", ls.bound);
    B("\n { uint64_t t%u = wp_trip(l%u%s, 0x%xu, %s%s, %d); const int o%u = t%u != 0;"
      " while (t%u) { uint32_t n_ = t%u < WP_CHUNK(K%u) ? (uint32_t)t%u : WP_CHUNK(K%u);"
      " if (WP_UNLIKELY(fuel_ < (int64_t)n_ * K%u || __atomic_load_n(intr_, __ATOMIC_RELAXED)))"
      " break; c->fuel = fuel_ - (int64_t)n_ * K%u; t%u -= n_; do { fuel_ -= K%u;",
      id, ls.ind, flip, ls.step, bound, flip, ls.cmp, id, id, id, id, region, id, region, region,
      region, id, region);
    /* the body once more, without the loop's fuel, up to the final br_if */
    const wp_reader start = c->r;
    const uint32_t nctrl = c->nctrl;
    frame *f = push_frame(c, K_LOOP);
    if (!f)
        return false;
    f->height = h;
    c->counted = true;
    while (!c->nomem && c->r.p < ls.brif)
        if (!step(c))
            break;
    keep_pending(c);
    c->counted = false;
    c->nctrl = nctrl;
    c->r = start;
    c->h = h;
    c->dead = false;
    B(" } while (--n_); } if (o%u && !t%u) goto X%u; }\n", id, id, id);
    return !c->nomem;
}

static void op_block(fctx *c, uint8_t op)
{
    if (c->dead) {
        /* unreachable: only the nesting (and loops' fuel regions) matter */
        frame *f = push_frame(c, op == 0x03 ? K_LOOP : op == 0x02 ? K_BLOCK : K_IF);
        if (!f)
            return;
        int64_t bt;
        (void)wp_read_sleb(&c->r, 33, &bt);
        f->dead_outside = true;
        if (op == 0x03)
            open_region(c);
        return;
    }
    frame tmp;
    blocktype(c, &tmp);
    char cond[16] = "";
    if (op == 0x04) {
        var(c, c->h - 1, cond);
        c->h--;
    }
    frame *f = push_frame(c, op == 0x03 ? K_LOOP : op == 0x02 ? K_BLOCK : K_IF);
    if (!f)
        return;
    f->np = tmp.np;
    f->nr = tmp.nr;
    f->one = tmp.one;
    f->params = tmp.params;
    /* A single-value type lives in the frame itself: kept as NULL and
     * resolved at the end, since the frame array moves as blocks nest. */
    f->results = tmp.results == &tmp.one ? NULL : tmp.results;
    f->height = c->h - f->np;
    if (op == 0x03) {
        bool counted = f->np == 0 && f->nr == 0 && counted_loop(c, f->id, f->height);
        f = &c->ctrl[c->nctrl - 1]; /* the copy's frames may have moved the array */
        f->counted = counted;
        open_region(c);
        f->region = c->regions[c->nregions - 1];
        B("\n L%u: WP_FUEL(K%u);", f->id, f->region);
    } else if (op == 0x04) {
        char v[16];
        for (uint32_t i = 0; i < f->np; i++) {
            char l = c->stack[f->height + i];
            wp_text_printf(&c->decls, " %s p%u_%u = 0;", ctype(l), f->id, i);
            B(" p%u_%u = %s;", f->id, i, var(c, f->height + i, v));
        }
        B(" if (!%s) goto E%u;", cond, f->id);
    }
}

static void op_else(fctx *c)
{
    frame *f = &c->ctrl[c->nctrl - 1];
    if (f->dead_outside)
        return;
    if (!c->dead)
        B(" goto B%u;", f->id);
    B("\n E%u:", f->id);
    f->had_else = true;
    c->dead = false;
    set_stack(c, f, f->params, f->np);
    char v[16];
    for (uint32_t i = 0; i < f->np; i++)
        B(" %s = p%u_%u;", var(c, f->height + i, v), f->id, i);
}

/* end of a block; returns false at the function's end. */
static bool op_end(fctx *c)
{
    frame *f = &c->ctrl[c->nctrl - 1];
    if (f->kind == K_LOOP)
        c->nregions--;
    if (f->dead_outside) {
        c->nctrl--;
        return true;
    }
    if (f->kind == K_FUNC) {
        if (!c->dead)
            copy_values(c, 0, f->nr);
        c->nctrl--;
        return false;
    }
    if (f->kind == K_IF && !f->had_else)
        B("\n E%u:", f->id);
    if (f->kind != K_LOOP)
        B("\n B%u:;", f->id);
    else if (f->counted)
        B("\n X%u:;", f->id);
    c->dead = false;
    set_stack(c, f, f->results ? f->results : &f->one, f->nr);
    c->nctrl--;
    return true;
}

/* After br, br_table, return, unreachable. */
static void set_dead(fctx *c)
{
    c->dead = true;
}

/* ------------------------------------------------------------------------ */
/* One instruction                                                          */
/* ------------------------------------------------------------------------ */

static void op_fc(fctx *c, uint32_t sub)
{
    char a[16], b[16], d[16];
    if (sub < 8) {
        numeric(c, &satops[sub]);
        return;
    }
    uint32_t x = 0, y = 0;
    switch (sub) {
    case 8: /* memory.init seg */
        x = u32(c);
        c->r.p++;
        B(" wp_rt->memory_init(c, %u, %s, %s, %s);", x, var(c, c->h - 3, a), var(c, c->h - 2, b),
          var(c, c->h - 1, d));
        c->h -= 3;
        return;
    case 9:
        B(" wp_rt->data_drop(c, %u);", u32(c));
        return;
    case 10: /* memory.copy: checked whole before anything moves */
        c->r.p += 2;
        var(c, c->h - 3, a);
        var(c, c->h - 2, b);
        var(c, c->h - 1, d);
        B(" if (WP_UNLIKELY((uint64_t)%s + %s > *c->mem_size || (uint64_t)%s + %s > *c->mem_size))"
          " WP_TRAP(WP_TRAP_MEMORY_OUT_OF_BOUNDS); wp_rt->memmove(mem + %s, mem + %s, %s);",
          a, d, b, d, a, b, d);
        c->h -= 3;
        return;
    case 11: /* memory.fill */
        c->r.p += 1;
        var(c, c->h - 3, a);
        var(c, c->h - 2, b);
        var(c, c->h - 1, d);
        B(" if (WP_UNLIKELY((uint64_t)%s + %s > *c->mem_size))"
          " WP_TRAP(WP_TRAP_MEMORY_OUT_OF_BOUNDS); wp_rt->memset(mem + %s, (int)(%s & 0xFF), %s);",
          a, d, a, b, d);
        c->h -= 3;
        return;
    case 12: /* table.init seg table */
        x = u32(c);
        y = u32(c);
        B(" wp_rt->table_init(c, %u, %u, %s, %s, %s);", y, x, var(c, c->h - 3, a),
          var(c, c->h - 2, b), var(c, c->h - 1, d));
        c->h -= 3;
        return;
    case 13:
        B(" wp_rt->elem_drop(c, %u);", u32(c));
        return;
    case 14: /* table.copy dst src */
        x = u32(c);
        y = u32(c);
        B(" wp_rt->table_copy(c, %u, %u, %s, %s, %s);", x, y, var(c, c->h - 3, a),
          var(c, c->h - 2, b), var(c, c->h - 1, d));
        c->h -= 3;
        return;
    case 15: /* table.grow: init n -> old */
        x = u32(c);
        var(c, c->h - 2, a);
        var(c, c->h - 1, b);
        c->h -= 2;
        push(c, 'i');
        B(" %s = (uint32_t)wp_rt->table_grow(c, %u, %s, %s);", var(c, c->h - 1, d), x, a, b);
        return;
    case 16:
        x = u32(c);
        push(c, 'i');
        B(" %s = wp_rt->table_size(c, %u);", var(c, c->h - 1, d), x);
        return;
    case 17: /* table.fill: i ref n */
        x = u32(c);
        B(" wp_rt->table_fill(c, %u, %s, %s, %s);", x, var(c, c->h - 3, a), var(c, c->h - 2, b),
          var(c, c->h - 1, d));
        c->h -= 3;
        return;
    default:
        return;
    }
}

/* Count the instruction in the open fuel region. */
static void count(fctx *c)
{
    if (c->nregions && !c->counted)
        c->costs[c->regions[c->nregions - 1]]++;
}

/* Translate one instruction; false after the function's end. */
static bool step(fctx *c)
{
    uint8_t op = 0;
    (void)wp_read_u8(&c->r, &op);
    count(c);
    if (c->dead) {
        switch (op) {
        case 0x02: case 0x03: case 0x04:
            op_block(c, op);
            return true;
        case 0x05:
            op_else(c);
            return true;
        case 0x0B:
            return op_end(c);
        default:
            skip_imm(c, op);
            return true;
        }
    }
    char a[16], b[16], d[16];
    if (!straight(op))
        keep_pending(c);
    switch (op) {
    case 0x00:
        B(" WP_TRAP(WP_TRAP_UNREACHABLE);");
        set_dead(c);
        return true;
    case 0x01:
        return true;
    case 0x02: case 0x03: case 0x04:
        op_block(c, op);
        return true;
    case 0x05:
        op_else(c);
        return true;
    case 0x0B:
        return op_end(c);
    case 0x0C:
        branch(c, u32(c));
        set_dead(c);
        return true;
    case 0x0D: {
        uint32_t depth = u32(c);
        B(" if (%s) {", var(c, c->h - 1, a));
        c->h--;
        branch(c, depth);
        B(" }");
        return true;
    }
    case 0x0E: {
        uint32_t n = u32(c);
        var(c, c->h - 1, a);
        c->h--;
        B(" switch (%s) {", a);
        for (uint32_t i = 0; i <= n; i++) {
            uint32_t depth = u32(c);
            if (i < n)
                B(" case %u:", i);
            else
                B(" default:");
            branch(c, depth);
        }
        B(" }");
        set_dead(c);
        return true;
    }
    case 0x0F:
        branch(c, c->nctrl - 1);
        set_dead(c);
        return true;
    case 0x10: {
        uint32_t f = u32(c);
        const wp_func *fn = &c->m->funcs[f];
        char callee[32], fexpr[32];
        if (fn->imported) {
            snprintf(fexpr, sizeof fexpr, "c->funcs[%u]", f);
            call(c, fn->type_index, NULL, fexpr);
        } else {
            snprintf(callee, sizeof callee, "f%u", f);
            call(c, fn->type_index, callee, NULL);
        }
        return true;
    }
    case 0x11: {
        uint32_t ti = u32(c), table = u32(c);
        call_indirect(c, ti, table);
        return true;
    }
    case 0x1A:
        c->h--;
        return true;
    case 0x1B: case 0x1C: {
        if (op == 0x1C)
            skip_imm(c, op);
        var(c, c->h - 3, a);
        var(c, c->h - 2, b);
        var(c, c->h - 1, d);
        B(" if (!%s) %s = %s;", d, a, b);
        c->pend[c->h - 3] = (c->pend[c->h - 3] | c->pend[c->h - 2] | c->pend[c->h - 1]) != 0;
        c->h -= 2;
        return true;
    }
    case 0x20: {
        uint32_t k = u32(c);
        push(c, c->ltypes[k]);
        B(" %s = l%u;", var(c, c->h - 1, a), k);
        return true;
    }
    case 0x21:
        B(" l%u = %s;", u32(c), var(c, c->h - 1, a));
        c->h--;
        return true;
    case 0x22:
        B(" l%u = %s;", u32(c), var(c, c->h - 1, a));
        return true;
    case 0x23: {
        uint32_t g = u32(c);
        char l = tletter(c->m->globals[g].type);
        push(c, l);
        B(" %s = c->globals[%u]->%s;", var(c, c->h - 1, a), g, slotfield(l));
        return true;
    }
    case 0x24: {
        uint32_t g = u32(c);
        char l = tletter(c->m->globals[g].type);
        B(" c->globals[%u]->%s = %s;", g, slotfield(l), var(c, c->h - 1, a));
        c->h--;
        return true;
    }
    case 0x25: {
        uint32_t t = u32(c);
        var(c, c->h - 1, a);
        c->h--;
        push(c, 'r');
        B(" %s = wp_rt->table_get(c, %u, %s);", var(c, c->h - 1, d), t, a);
        return true;
    }
    case 0x26: {
        uint32_t t = u32(c);
        B(" wp_rt->table_set(c, %u, %s, %s);", t, var(c, c->h - 2, a), var(c, c->h - 1, b));
        c->h -= 2;
        return true;
    }
    case 0x3F:
        c->r.p++;
        push(c, 'i');
        B(" %s = (uint32_t)(*c->mem_size >> 16);", var(c, c->h - 1, a));
        return true;
    case 0x40:
        c->r.p++;
        var(c, c->h - 1, a);
        B(" %s = (uint32_t)wp_rt->memory_grow(c, %s);", a, a);
        reload_memory(c);
        return true;
    case 0x41: {
        int64_t v = 0;
        (void)wp_read_sleb(&c->r, 32, &v);
        push(c, 'i');
        B(" %s = 0x%xu;", var(c, c->h - 1, a), (uint32_t)v);
        return true;
    }
    case 0x42: {
        int64_t v = 0;
        (void)wp_read_sleb(&c->r, 64, &v);
        push(c, 'j');
        B(" %s = 0x%llxull;", var(c, c->h - 1, a), (unsigned long long)(uint64_t)v);
        return true;
    }
    case 0x43: {
        uint32_t bits = 0;
        (void)wp_read_f32_bits(&c->r, &bits);
        push(c, 'f');
        B(" %s = wp_f32(WP_OPAQUE(0x%xu));", var(c, c->h - 1, a), bits);
        return true;
    }
    case 0x44: {
        uint64_t bits = 0;
        (void)wp_read_f64_bits(&c->r, &bits);
        push(c, 'd');
        B(" %s = wp_f64(WP_OPAQUE(0x%llxull));", var(c, c->h - 1, a), (unsigned long long)bits);
        return true;
    }
    case 0xD0:
        c->r.p++;
        push(c, 'r');
        B(" %s = 0;", var(c, c->h - 1, a));
        return true;
    case 0xD1:
        var(c, c->h - 1, a);
        c->h--;
        push(c, 'i');
        B(" %s = %s == 0;", var(c, c->h - 1, d), a);
        return true;
    case 0xD2: {
        uint32_t f = u32(c);
        push(c, 'r');
        B(" %s = (void *)c->funcs[%u];", var(c, c->h - 1, a), f);
        return true;
    }
    case 0xFC:
        op_fc(c, u32(c));
        return true;
    default:
        if (op >= 0x28 && op <= 0x3E) {
            memory_op(c, op);
            return true;
        }
        if (numops_has(op)) {
            numeric(c, &numops[op]);
            return true;
        }
        /* validated modules have no other opcode */
        c->nomem = true;
        (void)b;
        return false;
    }
}

/* ------------------------------------------------------------------------ */
/* Functions                                                                */
/* ------------------------------------------------------------------------ */

static void signature(wp_text *t, const wasmplug_module *m, uint32_t fi)
{
    const wp_func *fn = &m->funcs[fi];
    const wp_functype *ft = &m->types[fn->type_index];
    wp_text_printf(t, "static ");
    ret_type(t, ft, canon_type(m, fn->type_index));
    wp_text_printf(t, " f%u(wp_aot_ctx *c", fi);
    for (uint32_t i = 0; i < ft->nparams; i++)
        wp_text_printf(t, ", %s l%u", ctype(tletter(wp_functype_params(ft)[i])), i);
    wp_text_printf(t, ")");
}

static void fctx_free(fctx *c)
{
    wasmplug_engine *e = c->m->engine;
    wp_text_free(&c->body);
    wp_text_free(&c->decls);
    if (c->stack)
        wp_free(e, c->stack, c->stack_cap);
    for (int t = 0; t < 5; t++)
        if (c->used[t])
            wp_free(e, c->used[t], c->used_cap);
    if (c->pend)
        wp_free(e, c->pend, c->used_cap);
    if (c->ctrl)
        wp_free(e, c->ctrl, (size_t)c->ctrl_cap * sizeof(frame));
    if (c->ltypes)
        wp_free(e, c->ltypes, c->nlocals ? c->nlocals : 1);
    if (c->costs)
        wp_free(e, c->costs, (size_t)c->costs_cap * sizeof(uint64_t));
    if (c->regions)
        wp_free(e, c->regions, (size_t)c->regions_cap * sizeof(uint32_t));
}

static bool emit_function(const wasmplug_module *m, wasmplug_bounds_mode bounds, uint32_t fi,
                          wp_text *out)
{
    const wp_func *fn = &m->funcs[fi];
    const wp_functype *ft = &m->types[fn->type_index];
    fctx cx;
    memset(&cx, 0, sizeof cx);
    fctx *c = &cx;
    c->m = m;
    c->bounds = bounds;
    c->out = out;
    c->body.engine = c->decls.engine = m->engine;
    c->r.base = m->bytes;
    c->r.p = m->bytes + fn->body_offset;
    c->r.end = c->r.p + fn->body_size;

    /* locals: params, then the declared runs */
    uint32_t ndecl = u32(c);
    const uint8_t *save = c->r.p;
    uint64_t total = ft->nparams;
    for (uint32_t i = 0; i < ndecl; i++) {
        total += u32(c);
        c->r.p++;
    }
    c->nlocals = (uint32_t)total;
    c->ltypes = wp_malloc(m->engine, c->nlocals ? c->nlocals : 1);
    if (!c->ltypes) {
        fctx_free(c);
        return false;
    }
    for (uint32_t i = 0; i < ft->nparams; i++)
        c->ltypes[i] = tletter(wp_functype_params(ft)[i]);
    c->r.p = save;
    uint32_t k = ft->nparams;
    for (uint32_t i = 0; i < ndecl; i++) {
        uint32_t n = u32(c);
        uint8_t t = 0;
        (void)wp_read_u8(&c->r, &t);
        for (uint32_t j = 0; j < n; j++)
            c->ltypes[k++] = tletter((wasmplug_valtype)t);
    }

    frame *f = push_frame(c, K_FUNC);
    open_region(c);
    if (f) {
        f->nr = ft->nresults;
        f->results = wp_functype_results(ft);
        f->height = 0;
        /* R: returns s<t>0.., declared even when no path writes them */
        char v[16];
        for (uint32_t i = 0; i < ft->nresults; i++) {
            push(c, tletter(f->results[i]));
            var(c, i, v);
        }
        c->h = 0;
    }
    while (!c->nomem && c->nctrl > 0 && c->r.p < c->r.end)
        if (!step(c))
            break;

    /* head: signature, declarations, fuel costs, entry */
    signature(out, m, fi);
    wp_text_printf(out, "\n{\n");
    for (uint32_t i = ft->nparams; i < c->nlocals; i++)
        wp_text_printf(out, " %s l%u = 0;", ctype(c->ltypes[i]), i);
    for (int t = 0; t < 5; t++)
        for (uint32_t p = 0; p < c->used_cap; p++)
            if (c->used[t][p])
                wp_text_printf(out, " %s s%c%u = 0;", ctype(tletters[t]), tletters[t], p);
    if (c->decls.data)
        wp_text_put(out, c->decls.data, c->decls.len);
    wp_text_printf(out, "\n enum {");
    for (uint32_t i = 0; i < c->ncosts; i++)
        wp_text_printf(out, "%s K%u = %llu", i ? "," : "", i, (unsigned long long)c->costs[i]);
    wp_text_printf(out, " };\n");
    if (m->nmemories) {
        wp_text_printf(out, " uint8_t *mem = *c->mem_base; (void)mem;");
        if (bounds == WASMPLUG_BOUNDS_EXPLICIT)
            wp_text_printf(out, " uint64_t msz = *c->mem_size; (void)msz;");
    }
    wp_text_printf(out, " uint32_t d_ = c->depth; int64_t fuel_ = c->fuel;"
                        " const int *const intr_ = c->interrupt;\n WP_ENTER(%u); WP_FUEL(K0);\n",
                   fi);
    if (c->body.data)
        wp_text_put(out, c->body.data, c->body.len);
    wp_text_printf(out, "\n R: c->depth = d_;");
    if (ft->nresults == 1) {
        wp_text_printf(out, " return s%c0;", tletter(wp_functype_results(ft)[0]));
    } else if (ft->nresults > 1) {
        wp_text_printf(out, " { struct wp_res%u r_;", canon_type(m, fn->type_index));
        for (uint32_t i = 0; i < ft->nresults; i++)
            wp_text_printf(out, " r_.r%u = s%c%u;", i, tletter(wp_functype_results(ft)[i]), i);
        wp_text_printf(out, " return r_; }");
    }
    wp_text_printf(out, "\n}\n\n");
    bool ok = !c->nomem && !c->body.failed && !c->decls.failed;
    fctx_free(c);
    return ok;
}

/* The result variables named in R: must exist even when the body never
 * wrote them (a function ending in unreachable code). */
static void result_struct(wp_text *out, const wasmplug_module *m, uint32_t ti)
{
    const wp_functype *ft = &m->types[ti];
    wp_text_printf(out, "struct wp_res%u {", ti);
    for (uint32_t i = 0; i < ft->nresults; i++)
        wp_text_printf(out, " %s r%u;", ctype(tletter(wp_functype_results(ft)[i])), i);
    wp_text_printf(out, " };\n");
}

/* The entry from C of function fi: slots in, slots out. */
static void entry(wp_text *out, const wasmplug_module *m, uint32_t fi)
{
    const wp_functype *ft = &m->types[m->funcs[fi].type_index];
    wp_text_printf(out, "static void e%u(wp_aot_ctx *c, wp_aot_slot *s)\n{ ", fi);
    if (ft->nresults == 1)
        wp_text_printf(out, "%s r_ = ", ctype(tletter(wp_functype_results(ft)[0])));
    else if (ft->nresults > 1)
        wp_text_printf(out, "struct wp_res%u r_ = ", canon_type(m, m->funcs[fi].type_index));
    wp_text_printf(out, "f%u(c", fi);
    for (uint32_t i = 0; i < ft->nparams; i++)
        wp_text_printf(out, ", s[%u].%s", i, slotfield(tletter(wp_functype_params(ft)[i])));
    wp_text_printf(out, ");");
    for (uint32_t i = 0; i < ft->nresults; i++) {
        const char *field = slotfield(tletter(wp_functype_results(ft)[i]));
        if (ft->nresults == 1)
            wp_text_printf(out, " s[0].%s = r_;", field);
        else
            wp_text_printf(out, " s[%u].%s = r_.r%u;", i, field, i);
    }
    wp_text_printf(out, " }\n");
}

wasmplug_status wp_aot_emit(const wasmplug_module *m, wasmplug_bounds_mode bounds, wp_text *out,
                            wasmplug_error *err)
{
    char why[160];
    if (!wp_aot_supported(m, why, sizeof why))
        return wp_error(err, WASMPLUG_ERR_UNSUPPORTED, WP_NO_OFFSET, "%s", why);
#define WP_X_TRAPDEF(name, msg) wp_text_printf(out, "#define WP_TRAP_%s %d\n", #name, (int)WASMPLUG_TRAP_##name);
    WASMPLUG_TRAP_LIST(WP_X_TRAPDEF)
#undef WP_X_TRAPDEF
    wp_text_put(out, wp_aot_abi_text, strlen(wp_aot_abi_text));
    wp_text_put(out, wp_aot_prelude_text, strlen(wp_aot_prelude_text));
    wp_text_printf(out, "\n/* the module */\n");
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (m->types[i].nresults > 1 && canon_type(m, i) == i)
            result_struct(out, m, i);
    for (uint32_t fi = m->num_imported_funcs; fi < m->nfuncs; fi++) {
        signature(out, m, fi);
        wp_text_printf(out, ";\n");
    }
    for (uint32_t fi = m->num_imported_funcs; fi < m->nfuncs; fi++)
        if (!emit_function(m, bounds, fi, out))
            return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET,
                            "out of memory writing the C of function #%u", fi);
    for (uint32_t fi = m->num_imported_funcs; fi < m->nfuncs; fi++)
        entry(out, m, fi);
    uint32_t nd = m->nfuncs - m->num_imported_funcs;
    wp_text_printf(out, "static const wp_aot_entry entries_[%u] = {", nd ? nd : 1);
    for (uint32_t fi = m->num_imported_funcs; fi < m->nfuncs; fi++)
        wp_text_printf(out, "%se%u", fi > m->num_imported_funcs ? ", " : "", fi);
    wp_text_printf(out, "};\nstatic void *const natives_[%u] = {", nd ? nd : 1);
    for (uint32_t fi = m->num_imported_funcs; fi < m->nfuncs; fi++)
        wp_text_printf(out, "%s(void *)f%u", fi > m->num_imported_funcs ? ", " : "", fi);
    wp_text_printf(out, "};\nstatic void init_(const wp_aot_rt *rt) { wp_rt = rt; }\n");
    wp_text_printf(out,
                   "__attribute__((visibility(\"default\"))) const wp_aot_module_info wp_aot_module = "
                   "{%uu, %uu, 0x%llxull, 0x%llxull, %lluull, %uu, entries_, natives_, init_};\n",
                   WP_AOT_ABI_VERSION, (unsigned)bounds, (unsigned long long)wp_aot_engine_key(),
                   (unsigned long long)wp_aot_module_hash(m->bytes, m->size),
                   (unsigned long long)m->size, nd);
    if (out->failed)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory writing C");
    return WASMPLUG_OK;
}
