/*
 * verify.c - the verifier of loaded compiled code (verify.h).
 *
 * Slots are untyped 8-byte cells to the interpreter: it reads a reference
 * from a slot as a pointer (a wasmplug_func* it calls, a host's void*)
 * because the compiler only ever put one there. Code read from a cache file
 * carries no such promise, so this pass proves it instead, the way wasm
 * validation proves stack types: it follows every path from the function's
 * entry with a set of kinds per slot (which readings of its bits are sound)
 * and merges the sets where paths meet.
 *
 * A kind set is a bit mask; a merge is the intersection, so the analysis
 * only ever removes bits and ends. Code from the compiler always passes:
 * every value it reads was written on every path with the type validation
 * gave it, locals start at zero (a valid value of every type) and dead code
 * is never emitted. The state is kept at branch targets only, and the
 * targets are visited in code order until nothing changes (a loop adds one
 * round per nesting level).
 *
 * Soundness rests on one rule: a reference kind only ever comes from an
 * operation that produces a reference of that type (REF_FUNC, TABLE_GET,
 * GLOBAL_GET, a call's results, a zero) or a copy of a slot that has it;
 * every other write, including the writes of operations this file does not
 * know (the default case), leaves at most the number kind.
 */
#include "verify.h"
#include "simd.h"

#include <stdlib.h>
#include <string.h>

enum { K_NUM = 1, K_FUNC = 2, K_EXTERN = 4, K_ANY = 7 };

/* Verification state stays within this many bytes and visits this many
 * instructions per cell (generous for real code: rounds = loop depth). */
#define VERIFY_MAX_STATE (64u << 20)
#define VERIFY_VISITS_PER_CELL 64u

static const char *const op_name[] = {
#define WP_X_OPNAME(name, operands, doc) #name,
    WP_ALL_OPS(WP_X_OPNAME)
#undef WP_X_OPNAME
};

typedef struct verifier {
    const wasmplug_module *m;
    const wp_code *c;
    const uint16_t *ops_at;
    uint32_t fi, nslots, pc;
    uint8_t *cur;        /* kinds of each slot before the instruction at pc */
    uint32_t *target_of; /* per cell: its target number + 1; 0: not a target */
    uint32_t *target_pc;
    uint8_t *states;     /* per target: nslots kinds on entry */
    uint8_t *seen, *pending;
    uint32_t ntargets;
    uint64_t visits, max_visits;
    wasmplug_error *err;
} verifier;

#define FAIL(...) wp_error(v->err, WASMPLUG_ERR_SERIALIZATION, WP_NO_OFFSET, __VA_ARGS__)
#define TRY(x)                                                                  \
    do {                                                                        \
        wasmplug_status st_ = (x);                                              \
        if (st_ != WASMPLUG_OK)                                                 \
            return st_;                                                         \
    } while (0)

static uint8_t kind_of(wasmplug_valtype t)
{
    return t == WASMPLUG_FUNCREF ? K_FUNC : t == WASMPLUG_EXTERNREF ? K_EXTERN : K_NUM;
}

static const char *kinds_name(uint8_t k)
{
    switch (k) {
    case 0: return "no value known on every path";
    case K_NUM: return "a number";
    case K_FUNC: return "a function reference";
    case K_EXTERN: return "an external reference";
    case K_ANY: return "zero";
    default: return "values of different kinds";
    }
}

static const char *want_name(uint8_t k)
{
    return k == K_NUM ? "a number" : k == K_FUNC ? "a function reference"
           : k == K_EXTERN ? "an external reference" : "a reference";
}

/* Operand k (1-based) of the instruction at pc. */
static uint32_t opnd(const verifier *v, unsigned k) { return v->c->cells[v->pc + k].u32; }

static wasmplug_status need(verifier *v, uint32_t slot, uint8_t want)
{
    if (v->cur[slot] & want)
        return WASMPLUG_OK;
    return FAIL("function %u: %s at cell %u reads slot %u as %s, but it may hold %s", v->fi,
                op_name[v->ops_at[v->pc] - 1], v->pc, slot, want_name(want),
                kinds_name(v->cur[slot]));
}
static wasmplug_status need_v128(verifier *v, uint32_t slot)
{
    TRY(need(v, slot, K_NUM));
    return need(v, slot + 1, K_NUM);
}
static void set_v128(verifier *v, uint32_t slot) { v->cur[slot] = v->cur[slot + 1] = K_NUM; }

static wasmplug_status need_memory(verifier *v)
{
    if (v->m->nmemories)
        return WASMPLUG_OK;
    return FAIL("function %u: %s at cell %u in a module without memory", v->fi,
                op_name[v->ops_at[v->pc] - 1], v->pc);
}

/* Arguments in [base, base + params) of the right kinds; afterwards the
 * callee's frame, from base up, holds its results and nothing known. */
static wasmplug_status call(verifier *v, const wp_functype *t, uint32_t base)
{
    if ((uint64_t)base + t->pslots > v->nslots || (uint64_t)base + t->rslots > v->nslots)
        return FAIL("function %u: call at cell %u passes values beyond its frame", v->fi, v->pc);
    uint32_t s = base;
    for (uint32_t i = 0; i < t->nparams; i++)
        for (uint32_t n = wp_valtype_slots(t->types[i]); n; n--)
            TRY(need(v, s++, kind_of(t->types[i])));
    memset(v->cur + base, 0, v->nslots - base);
    s = base;
    for (uint32_t i = 0; i < t->nresults; i++) {
        wasmplug_valtype r = t->types[t->nparams + i];
        for (uint32_t n = wp_valtype_slots(r); n; n--)
            v->cur[s++] = kind_of(r);
    }
    return WASMPLUG_OK;
}

static wasmplug_status global_write(verifier *v, uint32_t x, bool v128)
{
    const wp_global *g = &v->m->globals[x];
    if (!g->mutable_ || (g->type == WASMPLUG_V128) != v128)
        return FAIL("function %u: cell %u writes global %u (%s%s)", v->fi, v->pc, x,
                    g->mutable_ ? "" : "immutable ", wasmplug_valtype_name(g->type));
    return WASMPLUG_OK;
}

/* The generic SIMD forms: sub-operation N of the expected form. */
static wasmplug_status simd_info(verifier *v, uint32_t sub, enum wp_simd_kind k1,
                                 enum wp_simd_kind k2, const wp_simd_info **out)
{
    if (sub >= WP_SIMD_COUNT || (wp_simd_table[sub].kind != k1 && wp_simd_table[sub].kind != k2))
        return FAIL("function %u: %s at cell %u names SIMD operation %u of another form", v->fi,
                    op_name[v->ops_at[v->pc] - 1], v->pc, sub);
    *out = &wp_simd_table[sub];
    return WASMPLUG_OK;
}
static wasmplug_status simd_lane(verifier *v, const wp_simd_info *si, uint32_t lane)
{
    if (lane < si->param)
        return WASMPLUG_OK;
    return FAIL("function %u: cell %u names lane %u of %u", v->fi, v->pc, lane, si->param);
}
static wasmplug_status simd_read(verifier *v, char type, uint32_t slot)
{
    return type == 'V' ? need_v128(v, slot) : need(v, slot, K_NUM);
}
/* A scalar result writes its first slot only (simd.c); a v128 both. */
static void simd_write(verifier *v, char type, uint32_t slot)
{
    if (type == 'V')
        set_v128(v, slot);
    else
        v->cur[slot] = K_NUM;
}

/* Operations with no destination among their slot operands. */
static bool no_destination(wp_op op)
{
    const char *n = op_name[op];
    return strstr(n, "STORE") || !strncmp(n, "BR_", 3);
}

/* Everything but control flow: check what the instruction reads, apply
 * what it writes to v->cur. */
static wasmplug_status step(verifier *v, wp_op op)
{
    const wasmplug_module *m = v->m;
    const wp_simd_info *si = NULL;
    uint8_t k;
    switch (op) {
    case WP_OP_UNREACHABLE: case WP_OP_BR: case WP_OP_FUEL:
    case WP_OP_DATA_DROP: case WP_OP_ELEM_DROP:
        return WASMPLUG_OK;
    case WP_OP_BR_IF: case WP_OP_BR_IF_NOT: case WP_OP_BR_TABLE:
        return need(v, opnd(v, 1), K_NUM);
    case WP_OP_RETURN: {
        const wp_functype *t = &m->types[m->funcs[v->fi].type_index];
        uint32_t s = 0;
        for (uint32_t i = 0; i < t->nresults; i++) {
            wasmplug_valtype r = t->types[t->nparams + i];
            for (uint32_t n = wp_valtype_slots(r); n; n--)
                TRY(need(v, s++, kind_of(r)));
        }
        return WASMPLUG_OK;
    }
    case WP_OP_CALL: case WP_OP_CALL_IMPORT:
        return call(v, &m->types[m->funcs[opnd(v, 1)].type_index], opnd(v, 2));
    case WP_OP_CALL_INDIRECT:
        if (m->tables[opnd(v, 2)].elem != WASMPLUG_FUNCREF)
            return FAIL("function %u: cell %u calls through table %u, which holds %s", v->fi,
                        v->pc, opnd(v, 2), wasmplug_valtype_name(m->tables[opnd(v, 2)].elem));
        TRY(need(v, opnd(v, 3), K_NUM));
        return call(v, &m->types[opnd(v, 1)], opnd(v, 4));
    case WP_OP_SELECT:
        TRY(need(v, opnd(v, 2), K_NUM));
        v->cur[opnd(v, 1)] = v->cur[opnd(v, 3)] & v->cur[opnd(v, 4)];
        return WASMPLUG_OK;
    case WP_OP_COPY:
        v->cur[opnd(v, 1)] = v->cur[opnd(v, 2)];
        return WASMPLUG_OK;
    case WP_OP_COPY2:
        v->cur[opnd(v, 1)] = v->cur[opnd(v, 2)];
        v->cur[opnd(v, 3)] = v->cur[opnd(v, 4)];
        return WASMPLUG_OK;
    case WP_OP_I32_ADD2: case WP_OP_F32_ADD2: case WP_OP_F64_ADD2:
        TRY(need(v, opnd(v, 2), K_NUM));
        TRY(need(v, opnd(v, 3), K_NUM));
        v->cur[opnd(v, 1)] = K_NUM;
        TRY(need(v, opnd(v, 5), K_NUM));
        TRY(need(v, opnd(v, 6), K_NUM));
        v->cur[opnd(v, 4)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_CONST: /* zero is also the null reference (ref.null) */
        v->cur[opnd(v, 1)] = v->c->cells[v->pc + 2].u64 == 0 ? K_ANY : K_NUM;
        return WASMPLUG_OK;
    case WP_OP_GLOBAL_GET:
        v->cur[opnd(v, 1)] = kind_of(m->globals[opnd(v, 2)].type);
        return WASMPLUG_OK;
    case WP_OP_GLOBAL_SET:
        TRY(global_write(v, opnd(v, 1), false));
        return need(v, opnd(v, 2), kind_of(m->globals[opnd(v, 1)].type));
    case WP_OP_MEMORY_SIZE:
        TRY(need_memory(v));
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_MEMORY_GROW:
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 2), K_NUM));
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_MEMORY_INIT:
        TRY(need_memory(v));
        for (unsigned i = 2; i <= 4; i++)
            TRY(need(v, opnd(v, i), K_NUM));
        return WASMPLUG_OK;
    case WP_OP_MEMORY_COPY: case WP_OP_MEMORY_FILL:
        TRY(need_memory(v));
        for (unsigned i = 1; i <= 3; i++)
            TRY(need(v, opnd(v, i), K_NUM));
        return WASMPLUG_OK;
    case WP_OP_TABLE_GET:
        k = kind_of(m->tables[opnd(v, 2)].elem);
        TRY(need(v, opnd(v, 3), K_NUM));
        v->cur[opnd(v, 1)] = k;
        return WASMPLUG_OK;
    case WP_OP_TABLE_SET:
        k = kind_of(m->tables[opnd(v, 1)].elem);
        TRY(need(v, opnd(v, 2), K_NUM));
        return need(v, opnd(v, 3), k);
    case WP_OP_TABLE_SIZE:
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_TABLE_GROW:
        k = kind_of(m->tables[opnd(v, 2)].elem);
        TRY(need(v, opnd(v, 3), k));
        TRY(need(v, opnd(v, 4), K_NUM));
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_TABLE_FILL:
        k = kind_of(m->tables[opnd(v, 1)].elem);
        TRY(need(v, opnd(v, 2), K_NUM));
        TRY(need(v, opnd(v, 3), k));
        return need(v, opnd(v, 4), K_NUM);
    case WP_OP_TABLE_COPY: case WP_OP_TABLE_INIT: {
        wasmplug_valtype to = m->tables[opnd(v, 1)].elem;
        wasmplug_valtype from = op == WP_OP_TABLE_COPY ? m->tables[opnd(v, 2)].elem
                                                       : m->elems[opnd(v, 2)].type;
        if (to != from)
            return FAIL("function %u: cell %u copies %s into table %u of %s", v->fi, v->pc,
                        wasmplug_valtype_name(from), opnd(v, 1), wasmplug_valtype_name(to));
        for (unsigned i = 3; i <= 5; i++)
            TRY(need(v, opnd(v, i), K_NUM));
        return WASMPLUG_OK;
    }
    case WP_OP_REF_IS_NULL:
        TRY(need(v, opnd(v, 2), K_FUNC | K_EXTERN));
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
    case WP_OP_REF_FUNC:
        v->cur[opnd(v, 1)] = K_FUNC;
        return WASMPLUG_OK;

    /* SIMD: v128 operands and results take two slots. */
    case WP_OP_V128_CONST:
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_V128_COPY: {
        uint8_t lo = v->cur[opnd(v, 2)], hi = v->cur[opnd(v, 2) + 1];
        v->cur[opnd(v, 1)] = lo;
        v->cur[opnd(v, 1) + 1] = hi;
        return WASMPLUG_OK;
    }
    case WP_OP_V128_SELECT: {
        TRY(need(v, opnd(v, 2), K_NUM));
        uint8_t lo = v->cur[opnd(v, 3)] & v->cur[opnd(v, 4)];
        uint8_t hi = v->cur[opnd(v, 3) + 1] & v->cur[opnd(v, 4) + 1];
        v->cur[opnd(v, 1)] = lo;
        v->cur[opnd(v, 1) + 1] = hi;
        return WASMPLUG_OK;
    }
    case WP_OP_V128_GLOBAL_GET:
        if (m->globals[opnd(v, 2)].type != WASMPLUG_V128)
            return FAIL("function %u: cell %u reads global %u (%s) as a v128", v->fi, v->pc,
                        opnd(v, 2), wasmplug_valtype_name(m->globals[opnd(v, 2)].type));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_V128_GLOBAL_SET:
        TRY(global_write(v, opnd(v, 1), true));
        return need_v128(v, opnd(v, 2));
    case WP_OP_SIMD1:
        TRY(simd_info(v, opnd(v, 3), WP_SK_UNARY, WP_SK_UNARY, &si));
        TRY(simd_read(v, si->a, opnd(v, 2)));
        simd_write(v, si->r, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD2:
        TRY(simd_info(v, opnd(v, 4), WP_SK_BINARY, WP_SK_BINARY, &si));
        TRY(simd_read(v, si->a, opnd(v, 2)));
        TRY(simd_read(v, si->b, opnd(v, 3)));
        simd_write(v, si->r, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD3:
        TRY(simd_info(v, opnd(v, 5), WP_SK_TERNARY, WP_SK_TERNARY, &si));
        for (unsigned i = 2; i <= 4; i++)
            TRY(need_v128(v, opnd(v, i)));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD_LANE:
        TRY(simd_info(v, opnd(v, 4), WP_SK_EXTRACT, WP_SK_REPLACE, &si));
        TRY(simd_lane(v, si, opnd(v, 5)));
        TRY(need_v128(v, opnd(v, 2)));
        if (si->kind == WP_SK_REPLACE)
            TRY(simd_read(v, si->b, opnd(v, 3)));
        simd_write(v, si->r, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD_SHUFFLE:
        TRY(need_v128(v, opnd(v, 2)));
        TRY(need_v128(v, opnd(v, 3)));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD_LOAD:
        TRY(simd_info(v, opnd(v, 4), WP_SK_LOAD, WP_SK_LOAD, &si));
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 2), K_NUM));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD_STORE:
        TRY(simd_info(v, opnd(v, 4), WP_SK_STORE, WP_SK_STORE, &si));
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 1), K_NUM));
        return need_v128(v, opnd(v, 2));
    case WP_OP_SIMD_LOAD_LANE:
        TRY(simd_info(v, opnd(v, 5), WP_SK_LOAD_LANE, WP_SK_LOAD_LANE, &si));
        TRY(simd_lane(v, si, opnd(v, 6)));
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 2), K_NUM));
        TRY(need_v128(v, opnd(v, 3)));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_SIMD_STORE_LANE:
        TRY(simd_info(v, opnd(v, 4), WP_SK_STORE_LANE, WP_SK_STORE_LANE, &si));
        TRY(simd_lane(v, si, opnd(v, 5)));
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 1), K_NUM));
        return need_v128(v, opnd(v, 2));
    case WP_OP_V128_LOAD:
#define WP_X_FAST_LOAD(name, sub, ST, VT) case WP_OP_##name:
    WP_SIMD_FAST_LOADS(WP_X_FAST_LOAD)
#undef WP_X_FAST_LOAD
        TRY(need_memory(v));
        TRY(need(v, opnd(v, 2), K_NUM));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_I32X4_SPLAT:
        TRY(need(v, opnd(v, 2), K_NUM));
        set_v128(v, opnd(v, 1));
        return WASMPLUG_OK;
    case WP_OP_I32X4_EXTRACT_LANE: /* reads slot a + lane / 2 */
        if (opnd(v, 3) >= 4)
            return FAIL("function %u: cell %u names lane %u of 4", v->fi, v->pc, opnd(v, 3));
        TRY(need_v128(v, opnd(v, 2)));
        v->cur[opnd(v, 1)] = K_NUM;
        return WASMPLUG_OK;
#define WP_X_FAST(name, sub, shape, VT, cop)                                    \
    case WP_OP_##name:                                                          \
        TRY(need_v128(v, opnd(v, 2)));                                          \
        TRY(simd_read(v, #shape[0] == 'S' ? 'i' : 'V', opnd(v, 3)));           \
        set_v128(v, opnd(v, 1));                                                \
        return WASMPLUG_OK;
    WP_SIMD_FAST(WP_X_FAST)
#undef WP_X_FAST
    default:
        break;
    }
    /* Everything else computes numbers from numbers: loads, stores,
     * unary/binary operations and their fused forms. The first slot is the
     * destination unless the operation has none; every slot operand is left
     * holding a number (over-approximating writes never lets a reference
     * through), and beside a SIMD operand its second slot may be written. */
    if (wp_is_memory_op(op))
        TRY(need_memory(v));
    const char *l = wp_op_operands[op];
    bool dest = !no_destination(op);
    for (unsigned i = 0, first = 1; l[i] && l[i] != '.'; i++) {
        if (l[i] != 'S')
            continue;
        if (!(first && dest))
            TRY(need(v, opnd(v, i + 1), K_NUM));
        first = 0;
    }
    for (unsigned i = 0; l[i] && l[i] != '.'; i++) {
        if (l[i] != 'S')
            continue;
        v->cur[opnd(v, i + 1)] = K_NUM;
        if (op >= WP_OP_V128_CONST)
            v->cur[opnd(v, i + 1) + 1] &= K_NUM;
    }
    return WASMPLUG_OK;
}

/* Operand letters of an instruction: fixed ones, then (after "...") the
 * last one repeated count times, count being the N before it. */
static uint32_t operand_count(const wp_code *c, uint32_t pc, wp_op op, uint32_t *fixed)
{
    const char *l = wp_op_operands[op];
    size_t n = strlen(l);
    bool rep = n >= 4 && !strcmp(l + n - 3, "...");
    *fixed = (uint32_t)(rep ? n - 3 : n);
    if (!rep)
        return *fixed;
    uint32_t count = 0;
    for (uint32_t j = 0; j < *fixed; j++)
        if (l[j] == 'N')
            count = c->cells[pc + 1 + j].u32;
    return *fixed + count;
}
static char letter(wp_op op, uint32_t j, uint32_t fixed)
{
    return wp_op_operands[op][j < fixed ? j : fixed - 1];
}

/* Merge the current state into the state at branch target pc. */
static void flow_to(verifier *v, uint32_t pc)
{
    uint32_t t = v->target_of[pc] - 1;
    uint8_t *s = v->states + (size_t)t * v->nslots;
    if (!v->seen[t]) {
        memcpy(s, v->cur, v->nslots);
        v->seen[t] = v->pending[t] = 1;
        return;
    }
    bool changed = false;
    for (uint32_t i = 0; i < v->nslots; i++) {
        uint8_t k = s[i] & v->cur[i];
        changed |= k != s[i];
        s[i] = k;
    }
    v->pending[t] |= changed;
}

/* Run from target t through the straight-line code after it. */
static wasmplug_status walk(verifier *v, uint32_t t)
{
    const wp_code *c = v->c;
    memcpy(v->cur, v->states + (size_t)t * v->nslots, v->nslots);
    uint32_t pc = v->target_pc[t];
    for (;;) {
        if (++v->visits > v->max_visits)
            return FAIL("function %u: too many paths to verify (%llu instruction visits); "
                        "compile the module again", v->fi, (unsigned long long)v->visits);
        wp_op op = (wp_op)(v->ops_at[pc] - 1);
        v->pc = pc;
        TRY(step(v, op));
        uint32_t fixed, n = operand_count(c, pc, op, &fixed);
        for (uint32_t j = 0; j < n; j++)
            if (letter(op, j, fixed) == 'R')
                flow_to(v, (uint32_t)((uint64_t)pc + (uint64_t)c->cells[pc + 1 + j].i64));
        if (op == WP_OP_BR || op == WP_OP_BR_TABLE || op == WP_OP_RETURN ||
            op == WP_OP_UNREACHABLE)
            return WASMPLUG_OK;
        pc += 1 + n;
        if (pc >= c->ncells)
            return FAIL("function %u: code runs past its end after cell %u", v->fi, v->pc);
        if (v->target_of[pc]) {
            flow_to(v, pc);
            return WASMPLUG_OK;
        }
    }
}

wasmplug_status wp_verify_code(const wasmplug_module *m, uint32_t fi, const wp_code *c,
                               const uint16_t *ops_at, wasmplug_error *err)
{
    verifier vv = { .m = m, .c = c, .ops_at = ops_at, .fi = fi, .nslots = c->frame_size,
                    .err = err };
    verifier *v = &vv;
    v->max_visits = (uint64_t)c->ncells * VERIFY_VISITS_PER_CELL + 4096;
    v->target_of = calloc(c->ncells, sizeof *v->target_of);
    if (!v->target_of)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    /* Targets: the entry and every branch target, numbered in code order. */
    v->target_of[0] = 1;
    for (uint32_t pc = 0; pc < c->ncells; pc++) {
        if (!ops_at[pc])
            continue;
        wp_op op = (wp_op)(ops_at[pc] - 1);
        uint32_t fixed, n = operand_count(c, pc, op, &fixed);
        for (uint32_t j = 0; j < n; j++)
            if (letter(op, j, fixed) == 'R')
                v->target_of[(uint64_t)pc + (uint64_t)c->cells[pc + 1 + j].i64] = 1;
    }
    for (uint32_t pc = 0; pc < c->ncells; pc++)
        if (v->target_of[pc])
            v->target_of[pc] = ++v->ntargets;
    wasmplug_status st = WASMPLUG_OK;
    if ((uint64_t)v->ntargets * v->nslots > VERIFY_MAX_STATE)
        st = FAIL("function %u: too large to verify (%u branch targets x %u slots); compile "
                  "the module again", fi, v->ntargets, v->nslots);
    if (st == WASMPLUG_OK) {
        v->target_pc = malloc((size_t)v->ntargets * sizeof *v->target_pc);
        v->states = malloc((size_t)v->ntargets * v->nslots);
        v->seen = calloc(v->ntargets, 1);
        v->pending = calloc(v->ntargets, 1);
        v->cur = malloc(v->nslots);
        if (!v->target_pc || !v->states || !v->seen || !v->pending || !v->cur)
            st = wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    if (st == WASMPLUG_OK) {
        for (uint32_t pc = 0; pc < c->ncells; pc++)
            if (v->target_of[pc])
                v->target_pc[v->target_of[pc] - 1] = pc;
        /* Entry: parameters of their types, zeroed locals, the rest unknown. */
        const wp_functype *t = &m->types[m->funcs[fi].type_index];
        memset(v->cur, 0, v->nslots);
        uint32_t s = 0;
        for (uint32_t i = 0; i < t->nparams; i++)
            for (uint32_t n = wp_valtype_slots(t->types[i]); n; n--)
                v->cur[s++] = kind_of(t->types[i]);
        memset(v->cur + c->nparams, K_ANY, c->nlocals);
        flow_to(v, 0);
        for (bool again = true; again && st == WASMPLUG_OK;) {
            again = false;
            for (uint32_t i = 0; i < v->ntargets && st == WASMPLUG_OK; i++)
                if (v->pending[i]) {
                    v->pending[i] = 0;
                    again = true;
                    st = walk(v, i);
                }
        }
    }
    free(v->cur);
    free(v->pending);
    free(v->seen);
    free(v->states);
    free(v->target_pc);
    free(v->target_of);
    return st;
}
