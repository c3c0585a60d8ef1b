/*
 * compile_func.c - validation of function bodies fused with their
 * translation into the interpreter's slot-addressed code (ops.h).
 *
 * One pass per body, after a quick decode-only prescan (constants used in
 * loops, locals written per block). Each instruction is decoded with its
 * immediates (read_instr: every binary-format error is found here), checked
 * with the spec's validation algorithm (appendix "Validation Algorithm": an
 * operand stack of types with the polymorphic "Unknown" after unconditional
 * branches, and a control stack of frames), and translated.
 *
 * Translation. The operand stack exists only at compile time: the value at
 * height h has the canonical slot base+h (base = params + locals + constant
 * slots), and each compile-time stack entry records where its value is - its
 * canonical slot, or the slot of a local it was read from (local.get emits
 * nothing). Such a local reference must be "materialized" (copied into its
 * canonical slot) before the local is written, before calls (arguments must
 * be contiguous), and on entry to a block, loop or if that writes the local
 * somewhere inside (the prescan knows), because the copy made at the write
 * would only run on that one path, or only on a loop's first iteration.
 * References live in a short list (c->refs, at most MAX_REFS) so local.set
 * never scans the whole stack.
 *
 * Labels. Values a branch carries to a block or if go to the canonical slots
 * starting at the frame's height (its results), to a loop the same for its
 * params; to the function's outermost label they go to fp[0..) followed by
 * RETURN. Forward branches are patched when the frame ends. In unreachable
 * code nothing is emitted, but validation goes on.
 *
 * Constants: outside loops, i32.const etc. are a CONST into the canonical
 * slot. Constants used inside loops get slots of their own (between the
 * locals and the operand stack), written once before the outermost loop is
 * entered; the stack entry then refers to that slot like a local reference
 * (never written, so only calls and block params materialize it).
 *
 * Peepholes: local.set/tee of a value the previous instruction just
 * computed retargets that instruction's destination; a single value
 * returned or branched with br likewise; i32.eqz feeding br_if/if becomes
 * the opposite branch; a BR to the very next instruction is dropped; two
 * COPYs in a row become one COPY2, two I32_ADDs one I32_ADD2; an
 * I32_ADD_IMM whose result a branch tests right after becomes part of it
 * (ADD_BR_IF...).
 *
 * Superinstructions (ops.h WP_IMM_OPS, WP_BRANCH_OPS, the _ADDR_IMM
 * loads/stores; wp_fusions in compile_tables.c), all keyed on "the value was
 * produced by the instruction emitted last and is read by nothing else"
 * (canonical top-of-stack slot, no label in between), which lets the
 * compiler take that instruction back out of the code:
 *   - a binary operation with a constant operand (a CONST emitted last, or
 *     a constant slot) uses its _IMM form; constant first operands of
 *     commutative ops and compares are swapped; sub becomes ADD_IMM of -k;
 *   - i32.eqz of an integer compare becomes the opposite compare;
 *   - an integer compare feeding br_if/if becomes BR_IF_<cmp> (negated
 *     when the branch is taken on false);
 *   - an ADD_IMM feeding a load/store with offset 0 becomes its _ADDR_IMM
 *     form ((a + imm) wraps at 32 bits, so imm cannot become the offset);
 *   - an I32_ADD (alone or the second of an I32_ADD2) or I32_ADD_SHL
 *     feeding a load/store becomes its _ADDR_ADD form (base + index, or
 *     base + (index << k); any offset);
 *   - an I32_SHL_IMM feeding an i32.add becomes I32_ADD_SHL (scaled index);
 *   - f64 add/sub/mul of an f64.load just emitted becomes F64_<op>_LOAD;
 *   - an F64_<op>_LOAD stored back to where it loaded from becomes
 *     F64_<op>_STORE (memory updated in place), and F64_MUL_ADD_STORE when
 *     the value added was an F64_MUL_LOAD emitted just before.
 *
 * Fuel: FUEL opens every function and every loop header, costed with the
 * number of wasm instructions of the region (nested loops excluded).
 */
#include "compile.h"
#include "reader.h"
#include "simd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define T_ANY 0 /* the spec's Unknown (a value of the polymorphic stack) */
#define T_I32 ((uint8_t)WASMPLUG_I32)
#define T_I64 ((uint8_t)WASMPLUG_I64)
#define T_F32 ((uint8_t)WASMPLUG_F32)
#define T_F64 ((uint8_t)WASMPLUG_F64)
#define T_FUNCREF ((uint8_t)WASMPLUG_FUNCREF)
#define T_EXTERNREF ((uint8_t)WASMPLUG_EXTERNREF)
#define T_V128 ((uint8_t)WASMPLUG_V128)

#define NONE UINT32_MAX
/* MAX_REFS and MAX_CONSTS may be overridden (-D) to stress the fallbacks in
 * tests: -DMAX_REFS=1 -DMAX_CONSTS=2 must give the same results. */
#ifndef MAX_REFS
#define MAX_REFS 64
#endif
/* Constants used inside loops live in frame slots between the locals and the
 * operand stack, set before each outermost loop is entered, so that loops
 * do not re-run a CONST every iteration. At most this many per function. */
#ifndef MAX_CONSTS
#define MAX_CONSTS 256
#endif

/* ------------------------------------------------------------------------ */
/* Types (opcode tables: compile_tables.c)                                  */
/* ------------------------------------------------------------------------ */

#define FC(sub) (0xFC00u | (sub))
#define FD(sub) (0xFD00u | (sub)) /* sub < WP_SIMD_COUNT */

static const char *type_name(uint8_t t)
{
    switch (t) {
    case T_I32: return "i32";
    case T_I64: return "i64";
    case T_F32: return "f32";
    case T_F64: return "f64";
    case T_FUNCREF: return "funcref";
    case T_EXTERNREF: return "externref";
    case T_V128: return "v128";
    default: return "any";
    }
}

static bool is_num(uint8_t t) { return t == T_I32 || t == T_I64 || t == T_F32 || t == T_F64 || t == T_ANY; }
/* Slots a value of type t occupies (v128: two; the Unknown type: one). */
static uint32_t width(uint8_t t) { return t == T_V128 ? 2u : 1u; }
static bool is_numvec(uint8_t t) { return is_num(t) || t == T_V128; }
static bool is_ref(uint8_t t) { return t == T_FUNCREF || t == T_EXTERNREF || t == T_ANY; }

/* Single-type block results point into this array. */
static const wasmplug_valtype k_single[] = {
    WASMPLUG_I32, WASMPLUG_I64, WASMPLUG_F32, WASMPLUG_F64, WASMPLUG_FUNCREF, WASMPLUG_EXTERNREF,
    WASMPLUG_V128,
};

/* ------------------------------------------------------------------------ */
/* Compiler state                                                           */
/* ------------------------------------------------------------------------ */

/* A compile-time operand stack entry: the value's type and its slot. */
typedef struct cval {
    uint8_t type;
    uint32_t slot;
} cval;

enum { FK_FUNC, FK_BLOCK, FK_LOOP, FK_IF, FK_ELSE };

typedef struct cframe {
    uint8_t kind;
    bool unreachable;      /* the spec's flag: the rest of the frame is stack-polymorphic */
    bool entry_dead;       /* no code is emitted in this frame at all */
    bool reached;          /* a live branch (or if's false edge) targets the end */
    uint32_t height;       /* operand stack height at entry, params excluded */
    uint32_t nparams, nresults;
    const wasmplug_valtype *params, *results;
    uint32_t label;        /* loop: code index of the header */
    uint32_t fixups;       /* forward branches to the end: list head in c->fixups */
    uint32_t else_instr;   /* if: the branch to the else arm (NONE: none) */
    uint32_t else_cell;    /* if: that branch's offset cell */
    uint32_t fuel_cell;    /* loop: FUEL's immediate (NONE: not emitted) */
    uint64_t outer_fuel;   /* loop: instruction count of the enclosing region */
    uint32_t pad;          /* br_table: landing pad already emitted for this label */
} cframe;

typedef struct fixup {
    uint32_t instr;        /* operation cell of the branch */
    uint32_t cell;         /* its R operand */
    uint32_t next;
} fixup;

/* A decoded instruction. */
typedef struct ins {
    uint32_t op;           /* opcode byte, or FC(sub) */
    uint32_t offset;       /* of the opcode in the module binary */
    uint32_t x, y;         /* indices */
    uint64_t imm;          /* constant bits; memarg offset */
    uint32_t align;
    int64_t bt;            /* block type (s33) */
    uint32_t n;            /* br_table: labels without the default; select: type count */
    uint8_t t;             /* select / ref.null type */
    uint8_t v[16];         /* v128.const bytes, i8x16.shuffle lane indices */
} ins;

typedef struct lrun {
    uint32_t end;          /* locals [previous end, end) have type */
    uint32_t slot_end;     /* and occupy the slots up to slot_end */
    uint8_t type;
} lrun;

typedef struct cctx {
    wasmplug_module *m;
    wasmplug_engine *e;
    wasmplug_error *err;
    wasmplug_status status;
    wp_reader r;
    ins cur;
    uint32_t func_index;
    const wp_functype *ftype;

    lrun *runs; size_t nruns, runs_cap;
    uint32_t nlocals;      /* params + declared locals */
    uint32_t lslots;       /* the slots they occupy (a v128 takes two) */
    uint32_t base;         /* slot of stack height 0: lslots + nconsts */

    cval *vals; size_t nvals, vals_cap;
    uint32_t *soff; size_t soff_cap;       /* soff[pos]: slots below stack position pos */
    cframe *ctrls; size_t nctrls, ctrls_cap;
    fixup *fixups; size_t nfixups, fixups_cap;
    cval *scratch; size_t scratch_cap;     /* values popped by pop_vals */
    uint32_t *targets; size_t targets_cap; /* br_table labels */
    uint32_t refs[MAX_REFS];               /* stack positions holding local refs, ascending */
    uint32_t nrefs;

    wp_cell *code; size_t ncode, code_cap;
    wp_cell opcells[WP_OP_COUNT];          /* wp_op_cell of every operation */
    bool nomem;
    bool dead;             /* current code is unreachable: emit nothing */
    uint32_t max_height;
    uint32_t last_dst;     /* cell of the destination operand of the last emitted
                              instruction, when it produced the top of stack (peephole) */
    wp_op last_op;         /* the operation of that instruction */
    uint32_t recent[2];    /* first cells of the last instructions emitted since
                              the last label, oldest first (removed ones drop
                              out when code is emitted over them) */
    uint32_t nrecent;
    uint64_t fuel_count;
    uint32_t loop_depth;   /* enclosing loops: constants there get a slot */
    uint64_t *consts; size_t nconsts, consts_cap; /* values of slots lslots + k */
    uint8_t *kinds; size_t kinds_cap;             /* prescan: open constructs (loop?) */
    uint32_t *open; size_t open_cap;              /* prescan: their block numbers */
    uint64_t *wmask; size_t nblocks, wmask_cap;   /* locals written in block n (local_bit) */
    uint32_t block;        /* blocks, loops and ifs seen so far by the main pass */
    /* Outermost loop n (in code order) uses the constant slots
     * nest_consts[nest_start[n] .. nest_start[n + 1]). */
    uint16_t *nest_consts; size_t nnest_consts, nest_consts_cap;
    uint32_t *nest_start; size_t nnests, nest_start_cap;
    uint32_t nest;         /* outermost loops seen so far by the main pass */
    uint32_t stamp[MAX_CONSTS + 1]; /* prescan: the last nest (1-based) listing constant k */
    bool started;          /* the body's instructions are being compiled */
    bool v128;             /* a v128 value was pushed (the frame gets a spare slot) */
} cctx;

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

static bool fail_at(cctx *c, wasmplug_status st, uint64_t offset, const char *fmt, ...)
    WP_PRINTF(4, 5);
static bool fail_at(cctx *c, wasmplug_status st, uint64_t offset, const char *fmt, ...)
{
    if (c->status != WASMPLUG_OK)
        return false;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->status = st;
    wp_error(c->err, st, offset, "%s (function %u)", msg, c->func_index);
    return false;
}

/* Validation failure of the current instruction. */
static bool invalid(cctx *c, const char *fmt, ...) WP_PRINTF(2, 3);
static bool invalid(cctx *c, const char *fmt, ...)
{
    if (c->status != WASMPLUG_OK)
        return false;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->status = WASMPLUG_ERR_INVALID;
    wp_error(c->err, WASMPLUG_ERR_INVALID, c->cur.offset, "%s (%s in function %u)", msg,
             wp_opcode_name(c->cur.op), c->func_index);
    return false;
}

static bool malformed(cctx *c, const uint8_t *at, const char *msg)
{
    return fail_at(c, WASMPLUG_ERR_MALFORMED, (uint64_t)(at - c->r.base), "%s", msg);
}

static bool unsupported(cctx *c, const uint8_t *at, const char *feature)
{
    return fail_at(c, WASMPLUG_ERR_UNSUPPORTED, (uint64_t)(at - c->r.base),
                   "unsupported feature: %s", feature);
}

static bool reader_failed(cctx *c)
{
    return malformed(c, c->r.error_at, c->r.error ? c->r.error : "unexpected end");
}

static bool nomem(cctx *c)
{
    c->nomem = true;
    return fail_at(c, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory compiling");
}

static bool grow(cctx *c, void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    if (!wp_grow(c->e, (void **)arr, cap, need, elem))
        return nomem(c);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Code emission                                                            */
/* ------------------------------------------------------------------------ */

/* Canonical slot of the value at operand stack position pos. */
static uint32_t canon(const cctx *c, size_t pos) { return c->base + c->soff[pos]; }

static bool grow_code(cctx *c)
{
    if (c->nomem || c->ncode >= (size_t)INT32_MAX ||
        !wp_grow(c->e, (void **)&c->code, &c->code_cap, c->ncode + 1, sizeof(wp_cell))) {
        c->nomem = true;
        return false;
    }
    return true;
}

static inline void emit_cell(cctx *c, wp_cell cell)
{
    if (WP_UNLIKELY(c->ncode == c->code_cap) && !grow_code(c))
        return;
    c->code[c->ncode++] = cell;
}

static uint32_t emit_op(cctx *c, wp_op op)
{
    c->last_dst = NONE;
    c->last_op = op;
    uint32_t at = (uint32_t)c->ncode;
    while (c->nrecent && c->recent[c->nrecent - 1] >= at)
        c->nrecent--;
    if (c->nrecent == 2) {
        c->recent[0] = c->recent[1];
        c->nrecent = 1;
    }
    c->recent[c->nrecent++] = at;
    emit_cell(c, c->opcells[op]);
    return at;
}

/* The first cell of the last instruction in the code when it is op, `cells`
 * cells long, and no label came after it (so it may be rewritten to fuse
 * with what follows); otherwise NONE. */
static uint32_t last_instr_is(const cctx *c, wp_op op, uint32_t cells)
{
    uint32_t n = c->nrecent;
    while (n && c->recent[n - 1] >= c->ncode) /* removed since */
        n--;
    uint32_t at = n ? c->recent[n - 1] : NONE;
    if (at == NONE || c->nomem || at + cells != c->ncode || c->code[at].u64 != c->opcells[op].u64)
        return NONE;
    return at;
}

static void emit_u32(cctx *c, uint32_t v)
{
    wp_cell cell;
    cell.u64 = 0;
    cell.u32 = v;
    emit_cell(c, cell);
}

static void emit_u64(cctx *c, uint64_t v)
{
    wp_cell cell;
    cell.u64 = v;
    emit_cell(c, cell);
}

/* Destination operand of an instruction producing the top of the stack:
 * remembered for the local.set peephole. */
static void emit_dst(cctx *c, uint32_t slot)
{
    uint32_t at = (uint32_t)c->ncode;
    emit_u32(c, slot);
    c->last_dst = at;
}

/* A source operand. */
static void emit_src(cctx *c, uint32_t slot) { emit_u32(c, slot); }

static void emit_copy(cctx *c, uint32_t d, uint32_t a)
{
    if (d == a)
        return;
    /* Right after another COPY (no label between, as at the moves of a
     * loop's back edge): both become one COPY2, one dispatch instead of two. */
    uint32_t last = last_instr_is(c, WP_OP_COPY, 3);
    if (last != NONE) {
        c->code[last] = c->opcells[WP_OP_COPY2];
        c->last_op = WP_OP_COPY2;
        emit_u32(c, d);
        emit_src(c, a);
        return;
    }
    emit_op(c, WP_OP_COPY);
    emit_u32(c, d);
    emit_src(c, a);
}

/* Copy a value of type t (v128: both slots). */
static void emit_move(cctx *c, uint8_t t, uint32_t d, uint32_t a)
{
    if (t != T_V128) {
        emit_copy(c, d, a);
    } else if (d != a) {
        emit_op(c, WP_OP_V128_COPY);
        emit_u32(c, d);
        emit_src(c, a);
    }
}

static void patch_rel(cctx *c, uint32_t instr, uint32_t cell, uint32_t target)
{
    if (c->nomem || cell >= c->ncode)
        return;
    c->code[cell].i64 = (int64_t)target - (int64_t)instr;
}

/*
 * A branch condition that is the result of the i32.eqz emitted last (and
 * read by nothing else: it was just popped) is not computed at all: the
 * i32.eqz is removed and the branch tests its operand with the opposite
 * sense. Returns the slot to test; *invert tells whether the sense flips.
 */
static uint32_t fuse_eqz(cctx *c, cval cond, size_t cond_pos, bool *invert)
{
    *invert = false;
    if (c->dead || c->last_dst == NONE || c->last_op != WP_OP_I32_EQZ || c->nomem ||
        cond.slot != canon(c, cond_pos) || c->code[c->last_dst].u32 != cond.slot)
        return cond.slot;
    uint32_t a = c->code[c->last_dst + 1].u32;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    *invert = true;
    return a;
}

/* A branch condition as it will be tested: a fused compare, or a slot. */
typedef struct cbranch {
    uint32_t cmp;          /* the compare (wp_op) fused into the branch, or NONE */
    bool invert;           /* no compare: the condition is a == 0 (fused i32.eqz) */
    uint32_t a;            /* the slot tested, or the compare's first operand */
    uint64_t b;            /* the compare's second operand: slot or immediate */
} cbranch;

/*
 * The condition of br_if/if (popped from cond_pos): an i32.eqz or an
 * integer compare emitted last whose result nothing else reads is removed,
 * and the branch does its work (fuse_eqz; compare-and-branch operations).
 */
static cbranch take_cond(cctx *c, cval cond, size_t cond_pos)
{
    cbranch cb = { NONE, false, cond.slot, 0 };
    cb.a = fuse_eqz(c, cond, cond_pos, &cb.invert);
    if (cb.invert || c->dead || c->nomem || c->last_dst == NONE ||
        (unsigned)c->last_op >= WP_OP_COUNT || !wp_fusions[c->last_op].br ||
        cond.slot != canon(c, cond_pos) || c->code[c->last_dst].u32 != cond.slot)
        return cb;
    cb.cmp = (uint32_t)c->last_op;
    cb.a = c->code[c->last_dst + 1].u32;
    cb.b = c->code[c->last_dst + 2].u64;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
    return cb;
}

/* Emit cb's branch, taken when the condition holds (on_false: when it does
 * not). Returns its operation cell; *rel receives the cell of its offset. */
static uint32_t emit_cbranch(cctx *c, const cbranch *cb, bool on_false, uint32_t *rel)
{
    wp_op op;
    if (cb->cmp == NONE) {
        op = cb->invert != on_false ? WP_OP_BR_IF_NOT : WP_OP_BR_IF;
    } else {
        uint32_t k = on_false ? wp_fusions[cb->cmp].negate : cb->cmp;
        op = (wp_op)wp_fusions[k].br;
    }
    /* The tested value is the sum of the I32_ADD_IMM emitted just before
     * (no label between; a fused compare or i32.eqz in between is gone
     * already): one ADD_BR_IF... instruction does both. */
    uint32_t last = wp_fusions[op].add_br ? last_instr_is(c, WP_OP_I32_ADD_IMM, 4) : NONE;
    uint32_t instr;
    if (last != NONE && !c->dead && c->code[last + 1].u32 == cb->a) {
        uint32_t d = c->code[last + 1].u32, a = c->code[last + 2].u32;
        uint64_t imm = c->code[last + 3].u64;
        c->ncode = last;
        instr = emit_op(c, (wp_op)wp_fusions[op].add_br);
        emit_u32(c, d);
        emit_src(c, a);
        emit_u64(c, imm);
    } else {
        instr = emit_op(c, op);
        emit_src(c, cb->a);
    }
    if (cb->cmp != NONE)
        emit_u64(c, cb->b);
    *rel = (uint32_t)c->ncode;
    emit_u64(c, 0);
    return instr;
}

/*
 * An unconditional branch or return moving a single value v (at stack
 * position pos) to slot dst: when the instruction emitted last produced v,
 * let it write dst directly. Nothing runs between the two, and after the
 * branch no other value is read, so the earlier write cannot be observed.
 */
static void retarget_last(cctx *c, cval *v, size_t pos, uint32_t dst)
{
    if (c->dead || c->last_dst == NONE || c->nomem || v->slot != canon(c, pos) ||
        c->code[c->last_dst].u32 != v->slot)
        return;
    c->code[c->last_dst].u32 = dst;
    v->slot = dst;
    c->last_dst = NONE;
}

/* A code position control flow can reach from elsewhere: the peephole must
 * not fuse across it. */
static void place_label(cctx *c)
{
    c->last_dst = NONE;
    c->nrecent = 0;
}

/* ------------------------------------------------------------------------ */
/* Operand stack                                                            */
/* ------------------------------------------------------------------------ */

static bool is_canonical(const cctx *c, size_t pos) { return c->vals[pos].slot == canon(c, pos); }

static void refs_remove_at(cctx *c, uint32_t i)
{
    memmove(&c->refs[i], &c->refs[i + 1], (c->nrefs - i - 1) * sizeof c->refs[0]);
    c->nrefs--;
}

/* Copy the local a stack entry refers to into its canonical slot. */
static void materialize(cctx *c, uint32_t ref_index)
{
    uint32_t pos = c->refs[ref_index];
    emit_move(c, c->vals[pos].type, canon(c, pos), c->vals[pos].slot);
    c->vals[pos].slot = canon(c, pos);
    refs_remove_at(c, ref_index);
}

static void materialize_from(cctx *c, size_t pos)
{
    while (c->nrefs && c->refs[c->nrefs - 1] >= pos)
        materialize(c, c->nrefs - 1);
}

static void materialize_local(cctx *c, uint32_t slot)
{
    for (uint32_t i = c->nrefs; i-- > 0;)
        if (c->vals[c->refs[i]].slot == slot)
            materialize(c, i);
}

static bool local_referenced(const cctx *c, uint32_t slot)
{
    for (uint32_t i = 0; i < c->nrefs; i++)
        if (c->vals[c->refs[i]].slot == slot)
            return true;
    return false;
}

/* Copy constant-slot entries at positions >= pos into their canonical
 * slots (constants need no protection from writes, only contiguity). */
static void materialize_consts_from(cctx *c, size_t pos)
{
    for (size_t i = pos; i < c->nvals; i++) {
        if (c->vals[i].slot >= c->lslots && c->vals[i].slot < c->base) {
            emit_copy(c, canon(c, i), c->vals[i].slot);
            c->vals[i].slot = canon(c, i);
        }
    }
}

static void truncate_stack(cctx *c, size_t height)
{
    c->nvals = height;
    while (c->nrefs && c->refs[c->nrefs - 1] >= height)
        c->nrefs--;
    c->last_dst = NONE;
}

/* Push an entry whose value is at v.slot (canonical or a local). */
static bool push_entry(cctx *c, cval v)
{
    size_t pos = c->nvals;
    if (!grow(c, &c->vals, &c->vals_cap, pos + 1, sizeof(cval)) ||
        !grow(c, &c->soff, &c->soff_cap, pos + 2, sizeof(uint32_t)))
        return false;
    uint32_t top = c->soff[pos] + width(v.type);
    if ((uint64_t)c->base + top > WP_MAX_FRAME_SLOTS)
        return fail_at(c, WASMPLUG_ERR_LIMIT, c->cur.offset,
                       "function frame too large (more than %u slots)", WP_MAX_FRAME_SLOTS);
    c->soff[pos + 1] = top;
    c->v128 |= v.type == T_V128;
    if (c->dead) {
        v.slot = canon(c, pos);
    } else {
        if (top > c->max_height)
            c->max_height = top;
        if (v.slot < c->lslots) {
            if (c->nrefs == MAX_REFS) {
                emit_move(c, v.type, canon(c, pos), v.slot);
                v.slot = canon(c, pos);
            } else {
                c->refs[c->nrefs++] = (uint32_t)pos;
            }
        }
    }
    c->vals[c->nvals++] = v;
    return true;
}

/* Push a value of type t in its canonical slot; *slot receives it. */
static bool push(cctx *c, uint8_t t, uint32_t *slot)
{
    cval v;
    v.type = t;
    v.slot = canon(c, c->nvals);
    if (slot)
        *slot = v.slot;
    return push_entry(c, v);
}

/* The spec's pop_val(expect); expect T_ANY accepts anything. */
static bool pop_expect(cctx *c, uint8_t expect, cval *out)
{
    const cframe *f = &c->ctrls[c->nctrls - 1];
    out->type = T_ANY;
    out->slot = NONE;
    if (c->nvals == f->height) {
        if (f->unreachable)
            return true; /* Unknown */
        if (expect == T_ANY)
            return invalid(c, "type mismatch: expected a value, but the stack is empty");
        return invalid(c, "type mismatch: expected %s, but the stack is empty",
                       type_name(expect));
    }
    size_t pos = c->nvals - 1;
    cval v = c->vals[pos];
    if (expect != T_ANY && v.type != T_ANY && v.type != expect)
        return invalid(c, "type mismatch: expected %s, got %s", type_name(expect),
                       type_name(v.type));
    if (c->nrefs && c->refs[c->nrefs - 1] == pos)
        c->nrefs--;
    c->nvals = pos;
    *out = v;
    return true;
}

/* The spec's pop_vals: types[0..n) with types[n-1] on top. The popped
 * entries go to c->scratch[0..n) in the same order; in reachable code they
 * sat at stack positions [c->nvals, c->nvals + n) afterwards. */
static bool pop_vals(cctx *c, const wasmplug_valtype *types, uint32_t n)
{
    if (!grow(c, &c->scratch, &c->scratch_cap, n, sizeof(cval)))
        return false;
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(c, (uint8_t)types[i], &c->scratch[i]))
            return false;
    return true;
}

static bool push_types(cctx *c, const wasmplug_valtype *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!push(c, (uint8_t)types[i], NULL))
            return false;
    return true;
}

/* The rest of the current frame is unreachable. */
static void set_unreachable(cctx *c)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    truncate_stack(c, f->height);
    f->unreachable = true;
    c->dead = true;
}

/* ------------------------------------------------------------------------ */
/* Control frames and branches                                              */
/* ------------------------------------------------------------------------ */

static bool push_ctrl(cctx *c, uint8_t kind, const wasmplug_valtype *params, uint32_t np,
                      const wasmplug_valtype *results, uint32_t nr)
{
    if (!grow(c, &c->ctrls, &c->ctrls_cap, c->nctrls + 1, sizeof(cframe)))
        return false;
    cframe *f = &c->ctrls[c->nctrls++];
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->entry_dead = c->dead;
    f->height = (uint32_t)c->nvals;
    f->params = params;
    f->nparams = np;
    f->results = results;
    f->nresults = nr;
    f->label = NONE;
    f->fixups = NONE;
    f->else_instr = NONE;
    f->fuel_cell = NONE;
    f->pad = NONE;
    return push_types(c, params, np);
}

static void label_types(const cframe *f, const wasmplug_valtype **types, uint32_t *n)
{
    if (f->kind == FK_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

static bool add_fixup(cctx *c, cframe *f, uint32_t instr, uint32_t cell)
{
    if (!grow(c, &c->fixups, &c->fixups_cap, c->nfixups + 1, sizeof(fixup)))
        return false;
    fixup *x = &c->fixups[c->nfixups];
    x->instr = instr;
    x->cell = cell;
    x->next = f->fixups;
    f->fixups = (uint32_t)c->nfixups++;
    f->reached = true;
    return true;
}

/* Emit a branch-type instruction (BR: cond NONE, else BR_IF / BR_IF_NOT)
 * to frame f's label. */
static bool emit_jump(cctx *c, wp_op op, uint32_t cond, cframe *f)
{
    uint32_t instr = emit_op(c, op);
    if (cond != NONE)
        emit_u32(c, cond);
    uint32_t cell = (uint32_t)c->ncode;
    emit_u64(c, 0);
    if (f->kind == FK_LOOP) {
        patch_rel(c, instr, cell, f->label);
        return true;
    }
    return add_fixup(c, f, instr, cell);
}

/* A conditional branch (cb, see emit_cbranch) to frame f's label. */
static bool emit_cjump(cctx *c, const cbranch *cb, bool on_false, cframe *f)
{
    uint32_t cell;
    uint32_t instr = emit_cbranch(c, cb, on_false, &cell);
    if (f->kind == FK_LOOP) {
        patch_rel(c, instr, cell, f->label);
        return true;
    }
    return add_fixup(c, f, instr, cell);
}

/* Move n values (v[0..n), at stack positions [pos, pos+n)) to fp[0..) and
 * return; value i goes to slot o, the slots of the values before it. A
 * local below o would be overwritten by the earlier results, so such values
 * go through their (free) canonical slot first. Ascending copies are safe: a
 * canonical source of value i sits at or above slot o. */
static void emit_return(cctx *c, const cval *v, uint32_t n, size_t pos)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; o += width(v[i].type), i++)
        if (v[i].slot < o)
            emit_move(c, v[i].type, canon(c, pos + i), v[i].slot);
    o = 0;
    for (uint32_t i = 0; i < n; o += width(v[i].type), i++)
        emit_move(c, v[i].type, o, v[i].slot < o ? canon(c, pos + i) : v[i].slot);
    emit_op(c, WP_OP_RETURN);
}

/* Does a branch to f need to move its values (v[0..n))? */
static bool needs_moves(const cctx *c, const cframe *f, const cval *v, uint32_t n)
{
    if (f->kind == FK_FUNC)
        return true; /* the RETURN sequence */
    uint32_t dst = canon(c, f->height);
    for (uint32_t i = 0; i < n; dst += width(v[i].type), i++)
        if (v[i].slot != dst)
            return true;
    return false;
}

/* Move a branch's values to f's label slots. Destinations lie at or below
 * the canonical sources and above every local, so ascending order is safe. */
static void emit_moves(cctx *c, const cframe *f, const cval *v, uint32_t n)
{
    uint32_t dst = canon(c, f->height);
    for (uint32_t i = 0; i < n; dst += width(v[i].type), i++)
        emit_move(c, v[i].type, dst, v[i].slot);
}

/* The complete taken path of a branch to f: moves, then BR or RETURN. */
static bool emit_branch_path(cctx *c, cframe *f, const cval *v, uint32_t n, size_t pos)
{
    if (f->kind == FK_FUNC) {
        emit_return(c, v, n, pos);
        return true;
    }
    emit_moves(c, f, v, n);
    return emit_jump(c, WP_OP_BR, NONE, f);
}

static bool get_label(cctx *c, uint32_t depth, cframe **out)
{
    *out = &c->ctrls[c->nctrls - 1];
    if (depth >= c->nctrls)
        return invalid(c, "unknown label %u", depth);
    *out = &c->ctrls[c->nctrls - 1 - depth];
    return true;
}

/* Resolve a block type into params and results. */
static bool block_type(cctx *c, int64_t bt, const wasmplug_valtype **params, uint32_t *np,
                       const wasmplug_valtype **results, uint32_t *nr)
{
    *params = NULL;
    *np = 0;
    *results = NULL;
    *nr = 0;
    if (bt >= 0) {
        if ((uint64_t)bt >= c->m->ntypes)
            return invalid(c, "unknown type %llu", (unsigned long long)bt);
        const wp_functype *t = &c->m->types[bt];
        *params = wp_functype_params(t);
        *np = t->nparams;
        *results = wp_functype_results(t);
        *nr = t->nresults;
        if (t->nparams > 0 || t->nresults > 1)
            c->m->features |= WP_FEATURE_MULTI_VALUE;
        return true;
    }
    if (bt == -64)
        return true;
    for (size_t i = 0; i < sizeof k_single / sizeof k_single[0]; i++) {
        if (bt == (int64_t)k_single[i] - 0x80) {
            *results = &k_single[i];
            *nr = 1;
            return true;
        }
    }
    return false; /* read_instr only lets valid block types through */
}

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

static bool rd_u32(cctx *c, uint32_t *v) { return wp_read_u32(&c->r, v) || reader_failed(c); }

static bool rd_zero(cctx *c)
{
    const uint8_t *at = c->r.p;
    uint8_t b;
    if (!wp_read_u8(&c->r, &b))
        return reader_failed(c);
    if (b != 0)
        return malformed(c, at, "zero byte expected");
    return true;
}

static bool rd_valtype(cctx *c, uint8_t *out)
{
    const uint8_t *at = c->r.p;
    uint8_t b;
    if (!wp_read_u8(&c->r, &b))
        return reader_failed(c);
    switch (b) {
    case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x70: case 0x6F: case 0x7B:
        *out = b;
        return true;
    default:
        return malformed(c, at, "malformed value type");
    }
}

/* memory.init and data.drop need the data count section. Without any data
 * segment the instruction is invalid anyway ("unknown data segment"), which
 * is what the spec suite expects from binaries of modules without data. */
static bool need_datacount(cctx *c, const uint8_t *at)
{
    if (!c->m->has_datacount && c->m->ndatas > 0)
        return malformed(c, at, "data count section required");
    return true;
}

/* The immediates of a 0xFD instruction (after the prefix byte at `at`). */
static bool read_simd(cctx *c, ins *in, const uint8_t *at)
{
    wp_reader *r = &c->r;
    uint32_t sub;
    if (!rd_u32(c, &sub))
        return false;
    if (sub >= WP_SIMD_COUNT || wp_simd_table[sub].kind == WP_SK_NONE) {
        if (sub >= 0x100 && sub <= 0x113)
            return unsupported(c, at, "relaxed SIMD");
        char msg[48];
        snprintf(msg, sizeof msg, "illegal opcode 0xfd %u", sub);
        return malformed(c, at, msg);
    }
    in->op = FD(sub);
    uint8_t kind = wp_simd_table[sub].kind;
    bool memarg = kind == WP_SK_LOAD || kind == WP_SK_STORE || kind == WP_SK_LOAD_LANE ||
                  kind == WP_SK_STORE_LANE;
    if (memarg) {
        uint32_t offset;
        if (!rd_u32(c, &in->align) || !rd_u32(c, &offset))
            return false;
        in->imm = offset;
    }
    switch (kind) {
    case WP_SK_LOAD_LANE: case WP_SK_STORE_LANE: case WP_SK_EXTRACT: case WP_SK_REPLACE: {
        uint8_t lane;
        if (!wp_read_u8(r, &lane))
            return reader_failed(c);
        in->y = lane;
        return true;
    }
    case WP_SK_CONST: case WP_SK_SHUFFLE:
        if ((size_t)(r->end - r->p) < 16)
            return malformed(c, r->p, "unexpected end");
        memcpy(in->v, r->p, 16);
        r->p += 16;
        return true;
    default:
        return true;
    }
}

/* Decode one instruction and its immediates (binary format only). */
static bool read_instr(cctx *c, ins *in)
{
    wp_reader *r = &c->r;
    const uint8_t *at = r->p;
    in->offset = (uint32_t)(at - r->base);
    if (r->p >= r->end) {
        /* The body ended without its end opcode. Say what the spec's
         * decoder, which reads on past the body, reports. */
        const uint8_t *file_end = c->m->bytes + c->m->size;
        if (r->end >= file_end)
            return malformed(c, at, "unexpected end of section or function");
        if (*r->end == 0x0B)
            return malformed(c, at, "section size mismatch (function body without end)");
        return malformed(c, at, "END opcode expected");
    }
    uint8_t b = *r->p++;
    in->op = b;
    switch (b) {
    case 0x02: case 0x03: case 0x04: {
        const uint8_t *bat = r->p;
        if (!wp_read_sleb(r, 33, &in->bt))
            return reader_failed(c);
        if (in->bt >= 0 || in->bt == -64)
            return true;
        switch (in->bt + 0x80) {
        case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x70: case 0x6F: case 0x7B:
            return true;
        default:
            return malformed(c, bat, "malformed block type");
        }
    }
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23:
    case 0x24: case 0x25: case 0x26: case 0xD2:
        return rd_u32(c, &in->x);
    case 0x0E: {
        if (!rd_u32(c, &in->n))
            return false;
        if (in->n > (size_t)(r->end - r->p))
            return malformed(c, r->p, "unexpected end");
        if (!grow(c, &c->targets, &c->targets_cap, (size_t)in->n + 1, sizeof(uint32_t)))
            return false;
        for (uint32_t i = 0; i <= in->n; i++)
            if (!rd_u32(c, &c->targets[i]))
                return false;
        return true;
    }
    case 0x11:
        return rd_u32(c, &in->x) && rd_u32(c, &in->y);
    case 0x1C: {
        if (!rd_u32(c, &in->n))
            return false;
        in->t = T_ANY;
        for (uint32_t i = 0; i < in->n; i++) {
            uint8_t t = 0;
            if (!rd_valtype(c, &t))
                return false;
            if (i == 0)
                in->t = t;
        }
        return true;
    }
    case 0x3F: case 0x40:
        return rd_zero(c);
    case 0x41: {
        int32_t v;
        if (!wp_read_s32(r, &v))
            return reader_failed(c);
        in->imm = (uint64_t)(uint32_t)v;
        return true;
    }
    case 0x42: {
        int64_t v;
        if (!wp_read_s64(r, &v))
            return reader_failed(c);
        in->imm = (uint64_t)v;
        return true;
    }
    case 0x43: {
        uint32_t bits;
        if (!wp_read_f32_bits(r, &bits))
            return reader_failed(c);
        in->imm = bits;
        return true;
    }
    case 0x44:
        return wp_read_f64_bits(r, &in->imm) || reader_failed(c);
    case 0xD0: {
        const uint8_t *tat = r->p;
        uint8_t t;
        if (!wp_read_u8(r, &t))
            return reader_failed(c);
        if (t != T_FUNCREF && t != T_EXTERNREF)
            return malformed(c, tat, "malformed reference type");
        in->t = t;
        return true;
    }
    case 0xFC: {
        uint32_t sub;
        if (!rd_u32(c, &sub))
            return false;
        in->op = FC(sub);
        switch (sub) {
        case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
            return true;
        case 8:
            return rd_u32(c, &in->x) && need_datacount(c, at) && rd_zero(c);
        case 9:
            return rd_u32(c, &in->x) && need_datacount(c, at);
        case 10:
            return rd_zero(c) && rd_zero(c);
        case 11:
            return rd_zero(c);
        case 12: case 14:
            return rd_u32(c, &in->x) && rd_u32(c, &in->y);
        case 13: case 15: case 16: case 17:
            return rd_u32(c, &in->x);
        default: {
            char msg[48];
            snprintf(msg, sizeof msg, "illegal opcode 0xfc %u", sub);
            return malformed(c, at, msg);
        }
        }
    }
    case 0xFD:
        return read_simd(c, in, at);
    case 0xFE:
        return unsupported(c, at, "threads (atomics)");
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0A: case 0x18: case 0x19: case 0x1F:
        return unsupported(c, at, "exception handling");
    case 0x12: case 0x13:
        return unsupported(c, at, "tail calls");
    case 0x14: case 0x15: case 0xD3: case 0xD4: case 0xD5: case 0xD6:
        return unsupported(c, at, "typed function references");
    case 0xFB:
        return unsupported(c, at, "garbage collection");
    default:
        if (b >= 0x28 && b <= 0x3E) {
            uint32_t offset;
            if (!rd_u32(c, &in->align) || !rd_u32(c, &offset))
                return false;
            in->imm = offset;
            return true;
        }
        if (wp_opcode_names[b] || wp_num_ops[b].r)
            return true;
        {
            char msg[32];
            snprintf(msg, sizeof msg, "illegal opcode 0x%02x", b);
            return malformed(c, at, msg);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Locals                                                                   */
/* ------------------------------------------------------------------------ */

static bool add_run(cctx *c, uint32_t end, uint8_t type)
{
    uint32_t start = c->nruns ? c->runs[c->nruns - 1].end : 0;
    uint32_t slot_start = c->nruns ? c->runs[c->nruns - 1].slot_end : 0;
    uint32_t slot_end = slot_start + (end - start) * width(type);
    if (c->nruns && c->runs[c->nruns - 1].type == type) {
        c->runs[c->nruns - 1].end = end;
        c->runs[c->nruns - 1].slot_end = slot_end;
        return true;
    }
    if (!grow(c, &c->runs, &c->runs_cap, c->nruns + 1, sizeof(lrun)))
        return false;
    c->runs[c->nruns].end = end;
    c->runs[c->nruns].slot_end = slot_end;
    c->runs[c->nruns].type = type;
    c->nruns++;
    return true;
}

/* Parse the locals declarations; the params come first in the runs. */
static bool read_locals(cctx *c)
{
    c->nruns = 0;
    const wp_functype *t = c->ftype;
    for (uint32_t i = 0; t && i < t->nparams; i++)
        if (!add_run(c, i + 1, (uint8_t)t->types[i]))
            return false;
    uint32_t ndecl;
    if (!rd_u32(c, &ndecl))
        return false;
    uint64_t total = 0, slots = 0;
    uint32_t np = t ? t->nparams : 0, ps = t ? t->pslots : 0;
    for (uint32_t i = 0; i < ndecl; i++) {
        const uint8_t *at = c->r.p;
        uint32_t n;
        uint8_t type = 0;
        if (!rd_u32(c, &n) || !rd_valtype(c, &type))
            return false;
        total += n;
        if (total > UINT32_MAX)
            return malformed(c, at, "too many locals");
        slots += (uint64_t)n * width(type);
        if (n && ps + slots <= WP_MAX_FRAME_SLOTS && !add_run(c, (uint32_t)(np + total), type))
            return false;
    }
    if (ps + slots > WP_MAX_FRAME_SLOTS)
        return fail_at(c, WASMPLUG_ERR_LIMIT, (uint64_t)(c->r.p - c->r.base),
                       "function frame too large (%llu locals)",
                       (unsigned long long)(np + total));
    c->nlocals = (uint32_t)(np + total);
    c->lslots = c->nruns ? c->runs[c->nruns - 1].slot_end : 0;
    c->base = c->lslots;
    c->nconsts = 0;
    return true;
}

/* The run holding local x (x < nlocals). */
static const lrun *local_run(const cctx *c, uint32_t x)
{
    size_t lo = 0, hi = c->nruns;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->runs[mid].end <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return &c->runs[lo];
}

static uint8_t local_type(const cctx *c, uint32_t x) { return local_run(c, x)->type; }

/* The (first) slot of local x. */
static uint32_t local_slot(const cctx *c, uint32_t x)
{
    const lrun *r = local_run(c, x);
    return r->slot_end - (r->end - x) * width(r->type);
}

/* Bit of local slot x in a block's write mask (the last bit stands for all
 * locals from 63 on). */
static uint64_t local_bit(uint32_t x) { return (uint64_t)1 << (x < 63 ? x : 63); }

/*
 * Decode the body once, before compiling it, to collect
 *  - the distinct constants used inside loops, and which outermost loop
 *    uses which (they get slots, set when the loop nest is entered);
 *  - for every block, loop and if (in code order) the mask of locals
 *    written inside it: only references to those must be materialized when
 *    the construct is entered.
 * Leaves the reader where it was.
 */
static bool prescan(cctx *c)
{
    c->nconsts = 0;
    c->nnests = 0;
    c->nnest_consts = 0;
    c->nest = 0;
    c->nblocks = 0;
    c->block = 0;
    const uint8_t *start = c->r.p;
    size_t depth = 1, loops = 0;
    if (!grow(c, &c->kinds, &c->kinds_cap, 16, 1) ||
        !grow(c, &c->open, &c->open_cap, 16, sizeof(uint32_t)))
        return false;
    c->kinds[0] = 0;
    c->open[0] = NONE;
    while (depth > 0) {
        ins in;
        in.op = 0;
        if (!read_instr(c, &in))
            return false;
        switch (in.op) {
        case 0x21: case 0x22:
            if (depth > 1)
                c->wmask[c->open[depth - 1]] |= local_bit(in.x < c->nlocals ? local_slot(c, in.x) : 63);
            break;
        case 0x02: case 0x03: case 0x04:
            if (!grow(c, &c->kinds, &c->kinds_cap, depth + 1, 1) ||
                !grow(c, &c->open, &c->open_cap, depth + 1, sizeof(uint32_t)) ||
                !grow(c, &c->wmask, &c->wmask_cap, c->nblocks + 1, sizeof(uint64_t)))
                return false;
            c->wmask[c->nblocks] = 0;
            c->open[depth] = (uint32_t)c->nblocks++;
            if (in.op == 0x03 && loops == 0) { /* a new outermost loop */
                if (!grow(c, &c->nest_start, &c->nest_start_cap, c->nnests + 2,
                          sizeof(uint32_t)))
                    return false;
                c->nest_start[c->nnests++] = (uint32_t)c->nnest_consts;
            }
            c->kinds[depth++] = in.op == 0x03;
            loops += in.op == 0x03;
            break;
        case 0x0B:
            depth--;
            loops -= c->kinds[depth];
            if (depth > 1) /* the parent writes what its child writes */
                c->wmask[c->open[depth - 1]] |= c->wmask[c->open[depth]];
            break;
        case 0x41: case 0x42: case 0x43: case 0x44: case 0xD0: {
            uint64_t bits = in.op == 0xD0 ? 0 : in.imm;
            if (!loops)
                break;
            size_t k = 0;
            while (k < c->nconsts && c->consts[k] != bits)
                k++;
            if (k == c->nconsts) {
                if (k == MAX_CONSTS)
                    break; /* no slot: the main pass emits a CONST */
                if (!grow(c, &c->consts, &c->consts_cap, k + 1, sizeof(uint64_t)))
                    return false;
                c->consts[c->nconsts++] = bits;
                c->stamp[k] = 0;
            }
            if (c->stamp[k] != c->nnests) {
                if (!grow(c, &c->nest_consts, &c->nest_consts_cap, c->nnest_consts + 1,
                          sizeof(uint16_t)))
                    return false;
                c->nest_consts[c->nnest_consts++] = (uint16_t)k;
                c->stamp[k] = (uint32_t)c->nnests;
            }
            break;
        }
        default:
            break;
        }
    }
    if (c->nnests)
        c->nest_start[c->nnests] = (uint32_t)c->nnest_consts;
    c->r.p = start;
    return true;
}


/* ------------------------------------------------------------------------ */
/* Instructions                                                             */
/* ------------------------------------------------------------------------ */

#define TRY(x) do { if (!(x)) return false; } while (0)
#define LIVE (!c->dead)

static bool op_block(cctx *c, const ins *in)
{
    const wasmplug_valtype *params, *results;
    uint32_t np, nr;
    TRY(block_type(c, in->bt, &params, &np, &results, &nr));
    cval cond = { T_I32, NONE };
    cbranch cb = { NONE, false, NONE, 0 };
    if (in->op == 0x04) {
        TRY(pop_expect(c, T_I32, &cond));
        cb = take_cond(c, cond, c->nvals);
    }
    /* No reference to a local written inside may cross into the construct
     * (see the top); the params become canonical entries. */
    if (LIVE) {
        uint64_t written = c->block < c->nblocks ? c->wmask[c->block] : UINT64_MAX;
        for (uint32_t i = c->nrefs; i-- > 0;)
            if (written & local_bit(c->vals[c->refs[i]].slot))
                materialize(c, i);
        materialize_from(c, c->nvals >= np ? c->nvals - np : 0);
        materialize_consts_from(c, c->nvals >= np ? c->nvals - np : 0);
    }
    c->block++;
    TRY(pop_vals(c, params, np));
    uint8_t kind = in->op == 0x02 ? FK_BLOCK : in->op == 0x03 ? FK_LOOP : FK_IF;
    uint64_t outer_fuel = c->fuel_count;
    uint32_t label = NONE, fuel_cell = NONE, else_instr = NONE, else_cell = NONE;
    if (kind == FK_LOOP) {
        c->fuel_count = 0;
        if (c->loop_depth++ == 0 && c->nest < c->nnests) {
            /* entering a loop nest: set the constant slots it reads */
            uint32_t n = c->nest++;
            for (uint32_t i = c->nest_start[n]; LIVE && i < c->nest_start[n + 1]; i++) {
                uint32_t k = c->nest_consts[i];
                emit_op(c, WP_OP_CONST);
                emit_u32(c, c->lslots + k);
                emit_u64(c, c->consts[k]);
            }
        }
        if (LIVE) {
            place_label(c);
            label = emit_op(c, WP_OP_FUEL);
            fuel_cell = (uint32_t)c->ncode;
            emit_u64(c, 0);
        }
    } else if (kind == FK_IF && LIVE) {
        else_instr = emit_cbranch(c, &cb, true, &else_cell);
    }
    TRY(push_ctrl(c, kind, params, np, results, nr));
    cframe *f = &c->ctrls[c->nctrls - 1];
    f->label = label;
    f->fuel_cell = fuel_cell;
    f->outer_fuel = outer_fuel;
    f->else_instr = else_instr;
    f->else_cell = else_cell;
    return true;
}

/* At a frame's end (or else): pop its results (into c->scratch) and check
 * that nothing else is left. */
static bool close_arm(cctx *c, cframe *f)
{
    TRY(pop_vals(c, f->results, f->nresults));
    if (c->nvals != f->height)
        return invalid(c, "type mismatch: %zu extra value(s) at the end of the block",
                       c->nvals - f->height);
    return true;
}

static bool op_else(cctx *c, const ins *in)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    if (f->kind != FK_IF)
        return malformed(c, c->r.base + in->offset, "END opcode expected (else without if)");
    TRY(close_arm(c, f));
    if (LIVE) {
        emit_moves(c, f, c->scratch, f->nresults);
        TRY(emit_jump(c, WP_OP_BR, NONE, f));
    }
    if (f->else_instr != NONE) {
        place_label(c);
        patch_rel(c, f->else_instr, f->else_cell, (uint32_t)c->ncode);
        f->else_instr = NONE;
    }
    f->kind = FK_ELSE;
    f->unreachable = false;
    c->dead = f->entry_dead;
    truncate_stack(c, f->height);
    return push_types(c, f->params, f->nparams);
}

static bool op_end(cctx *c)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    TRY(close_arm(c, f));
    if (f->kind == FK_IF) {
        /* if without else: the false edge carries the params as results */
        bool same = f->nparams == f->nresults;
        for (uint32_t i = 0; same && i < f->nparams; i++)
            same = f->params[i] == f->results[i];
        if (!same)
            return invalid(c, "type mismatch: if without else must have the same params "
                              "and results");
    }
    bool fallthrough = LIVE;
    switch (f->kind) {
    case FK_FUNC:
        if (fallthrough) {
            if (f->nresults == 1)
                retarget_last(c, &c->scratch[0], f->height, 0);
            emit_return(c, c->scratch, f->nresults, f->height);
        }
        c->nctrls--;
        return true;
    case FK_LOOP:
        if (f->fuel_cell != NONE && !c->nomem)
            c->code[f->fuel_cell].u64 = c->fuel_count;
        c->fuel_count = f->outer_fuel;
        c->loop_depth--;
        break;
    default: {
        bool live_after = fallthrough;
        if (fallthrough) {
            emit_moves(c, f, c->scratch, f->nresults);
        } else if (f->fixups != NONE && c->last_op == WP_OP_BR && !c->nomem &&
                   c->fixups[f->fixups].instr + 2 == c->ncode) {
            /* A BR to the very next instruction (its values already moved):
             * fall through instead. */
            c->ncode -= 2;
            f->fixups = c->fixups[f->fixups].next;
            c->last_op = WP_OP_COUNT;
            live_after = true;
        }
        if (f->else_instr != NONE) {
            patch_rel(c, f->else_instr, f->else_cell, (uint32_t)c->ncode);
            f->reached = true;
        }
        if (f->reached)
            place_label(c);
        for (uint32_t i = f->fixups; i != NONE; i = c->fixups[i].next)
            patch_rel(c, c->fixups[i].instr, c->fixups[i].cell, (uint32_t)c->ncode);
        c->dead = !(live_after || f->reached);
        break;
    }
    }
    /* Results: a loop's stay where they are (only the fallthrough reaches
     * its end); a block's or if's are in their canonical slots. */
    uint8_t kind = f->kind;
    uint32_t nr = f->nresults;
    const wasmplug_valtype *results = f->results;
    c->nctrls--;
    for (uint32_t i = 0; i < nr; i++) {
        cval v;
        v.type = (uint8_t)results[i];
        v.slot = kind == FK_LOOP && fallthrough ? c->scratch[i].slot : canon(c, c->nvals);
        TRY(push_entry(c, v));
    }
    return true;
}

static bool op_br(cctx *c, const ins *in)
{
    cframe *f;
    TRY(get_label(c, in->x, &f));
    const wasmplug_valtype *types;
    uint32_t n;
    label_types(f, &types, &n);
    TRY(pop_vals(c, types, n));
    if (LIVE) {
        if (n == 1)
            retarget_last(c, &c->scratch[0], c->nvals,
                          f->kind == FK_FUNC ? 0 : canon(c, f->height));
        TRY(emit_branch_path(c, f, c->scratch, n, c->nvals));
    }
    set_unreachable(c);
    return true;
}

static bool op_br_if(cctx *c, const ins *in)
{
    cframe *f;
    TRY(get_label(c, in->x, &f));
    cval cond;
    TRY(pop_expect(c, T_I32, &cond));
    const wasmplug_valtype *types;
    uint32_t n;
    label_types(f, &types, &n);
    size_t cond_pos = c->nvals;
    TRY(pop_vals(c, types, n));
    size_t pos = c->nvals;
    if (LIVE) {
        cbranch cb = take_cond(c, cond, cond_pos);
        if (!needs_moves(c, f, c->scratch, n)) {
            TRY(emit_cjump(c, &cb, false, f));
        } else {
            uint32_t rel;
            uint32_t skip = emit_cbranch(c, &cb, true, &rel);
            TRY(emit_branch_path(c, f, c->scratch, n, pos));
            place_label(c);
            patch_rel(c, skip, rel, (uint32_t)c->ncode);
        }
    }
    /* push_vals(label types): same entries, types refined */
    for (uint32_t i = 0; i < n; i++) {
        cval v = c->scratch[i];
        v.type = (uint8_t)types[i];
        if (c->dead)
            v.slot = canon(c, c->nvals);
        TRY(push_entry(c, v));
    }
    return true;
}

static bool op_br_table(cctx *c, const ins *in)
{
    uint32_t nt = in->n;
    cval index;
    TRY(pop_expect(c, T_I32, &index));
    cframe *dflt;
    TRY(get_label(c, c->targets[nt], &dflt));
    const wasmplug_valtype *types;
    uint32_t arity;
    label_types(dflt, &types, &arity);
    for (uint32_t i = 0; i < nt; i++) {
        cframe *f;
        TRY(get_label(c, c->targets[i], &f));
        const wasmplug_valtype *ft;
        uint32_t fn;
        label_types(f, &ft, &fn);
        if (fn != arity)
            return invalid(c, "type mismatch: br_table labels have %u and %u values", fn, arity);
        TRY(pop_vals(c, ft, fn));
        for (uint32_t k = 0; k < fn; k++) {
            cval v = c->scratch[k];
            if (c->dead)
                v.slot = canon(c, c->nvals);
            TRY(push_entry(c, v));
        }
    }
    TRY(pop_vals(c, types, arity));
    if (LIVE) {
        size_t pos = c->nvals;
        const cval *v = c->scratch;
        uint32_t instr = emit_op(c, WP_OP_BR_TABLE);
        emit_src(c, index.slot);
        emit_u32(c, nt);
        uint32_t first = (uint32_t)c->ncode;
        for (uint32_t i = 0; i <= nt; i++)
            emit_u64(c, 0);
        /* Direct jumps where no value moves, landing pads for the rest. */
        bool pads = false;
        for (uint32_t i = 0; i <= nt; i++) {
            cframe *f = &c->ctrls[c->nctrls - 1 - c->targets[i]];
            if (needs_moves(c, f, v, arity))
                pads = true;
            else if (f->kind == FK_LOOP)
                patch_rel(c, instr, first + i, f->label);
            else
                TRY(add_fixup(c, f, instr, first + i));
        }
        if (pads) {
            for (uint32_t i = 0; i <= nt; i++) {
                cframe *f = &c->ctrls[c->nctrls - 1 - c->targets[i]];
                if (!needs_moves(c, f, v, arity))
                    continue;
                if (f->pad == NONE) {
                    f->pad = (uint32_t)c->ncode;
                    TRY(emit_branch_path(c, f, v, arity, pos));
                }
                patch_rel(c, instr, first + i, f->pad);
            }
            for (uint32_t i = 0; i <= nt; i++)
                c->ctrls[c->nctrls - 1 - c->targets[i]].pad = NONE;
        }
    }
    set_unreachable(c);
    return true;
}

static bool op_return(cctx *c)
{
    const wp_functype *t = c->ftype;
    TRY(pop_vals(c, wp_functype_results(t), t->nresults));
    if (LIVE) {
        if (t->nresults == 1)
            retarget_last(c, &c->scratch[0], c->nvals, 0);
        emit_return(c, c->scratch, t->nresults, c->nvals);
    }
    set_unreachable(c);
    return true;
}

/* Arguments are on the stack top; results replace them. */
static bool do_call(cctx *c, const wp_functype *t, wp_op op, uint32_t x, uint32_t y,
                    uint32_t index_slot)
{
    if (LIVE) {
        size_t first = c->nvals >= t->nparams ? c->nvals - t->nparams : 0;
        materialize_from(c, first);
        materialize_consts_from(c, first);
    }
    TRY(pop_vals(c, wp_functype_params(t), t->nparams));
    uint32_t base = canon(c, c->nvals);
    if (LIVE) {
        emit_op(c, op);
        emit_u32(c, x);
        if (op == WP_OP_CALL_INDIRECT) {
            emit_u32(c, y);
            emit_src(c, index_slot);
        }
        emit_u32(c, base);
    }
    return push_types(c, wp_functype_results(t), t->nresults);
}

static bool op_call(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->x >= m->nfuncs)
        return invalid(c, "unknown function %u", in->x);
    uint32_t ti = m->funcs[in->x].type_index;
    if (ti >= m->ntypes)
        return invalid(c, "unknown type %u", ti);
    wp_op op = in->x < m->num_imported_funcs ? WP_OP_CALL_IMPORT : WP_OP_CALL;
    return do_call(c, &m->types[ti], op, in->x, 0, NONE);
}

static bool op_call_indirect(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->y >= m->ntables)
        return invalid(c, "unknown table %u", in->y);
    if (in->x >= m->ntypes)
        return invalid(c, "unknown type %u", in->x);
    if (m->tables[in->y].elem != WASMPLUG_FUNCREF)
        return invalid(c, "type mismatch: call_indirect through a table of externref");
    if (in->y != 0)
        c->m->features |= WP_FEATURE_REFERENCE_TYPES;
    cval index;
    TRY(pop_expect(c, T_I32, &index));
    return do_call(c, &m->types[in->x], WP_OP_CALL_INDIRECT, in->x, in->y, index.slot);
}

static bool op_select(cctx *c, const ins *in)
{
    cval cond, b, a;
    if (in->op == 0x1C && in->n != 1)
        return invalid(c, "invalid result arity %u", in->n);
    TRY(pop_expect(c, T_I32, &cond));
    uint8_t t;
    if (in->op == 0x1C) {
        c->m->features |= WP_FEATURE_REFERENCE_TYPES;
        t = in->t;
        TRY(pop_expect(c, t, &b));
        TRY(pop_expect(c, t, &a));
    } else {
        TRY(pop_expect(c, T_ANY, &b));
        TRY(pop_expect(c, T_ANY, &a));
        if (!is_numvec(a.type) || !is_numvec(b.type))
            return invalid(c, "type mismatch: select without a type needs numeric operands, "
                              "got %s and %s", type_name(a.type), type_name(b.type));
        if (a.type != b.type && a.type != T_ANY && b.type != T_ANY)
            return invalid(c, "type mismatch: select operands %s and %s", type_name(a.type),
                           type_name(b.type));
        t = a.type == T_ANY ? b.type : a.type;
    }
    uint32_t d;
    TRY(push(c, t, &d));
    if (LIVE) {
        emit_op(c, t == T_V128 ? WP_OP_V128_SELECT : WP_OP_SELECT);
        emit_dst(c, d);
        emit_src(c, cond.slot);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
    }
    return true;
}

static bool op_local(cctx *c, const ins *in)
{
    uint32_t x = in->x;
    if (x >= c->nlocals)
        return invalid(c, "unknown local %u", x);
    uint8_t t = local_type(c, x);
    uint32_t ls = local_slot(c, x);
    if (in->op == 0x20) {
        cval v = { t, ls };
        return push_entry(c, v);
    }
    /* local.set / local.tee */
    size_t pos = c->nvals ? c->nvals - 1 : 0;
    bool fuse = LIVE && c->last_dst < c->ncode && c->nvals > c->ctrls[c->nctrls - 1].height &&
                is_canonical(c, pos) && c->code[c->last_dst].u32 == canon(c, pos) &&
                !local_referenced(c, ls);
    cval v;
    TRY(pop_expect(c, t, &v));
    if (LIVE) {
        if (fuse) {
            /* the producing instruction writes the local directly */
            c->code[c->last_dst].u32 = ls;
            v.slot = ls;
        } else {
            materialize_local(c, ls);
            emit_move(c, t, ls, v.slot);
        }
    }
    c->last_dst = NONE;
    if (in->op == 0x22) {
        v.type = t;
        if (c->dead)
            v.slot = canon(c, c->nvals);
        return push_entry(c, v);
    }
    return true;
}

static bool op_global(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->x >= m->nglobals)
        return invalid(c, "unknown global %u", in->x);
    const wp_global *g = &m->globals[in->x];
    if (in->op == 0x23) {
        uint32_t d;
        TRY(push(c, (uint8_t)g->type, &d));
        if (LIVE) {
            emit_op(c, g->type == WASMPLUG_V128 ? WP_OP_V128_GLOBAL_GET : WP_OP_GLOBAL_GET);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
    if (!g->mutable_)
        return invalid(c, "global is immutable: global %u", in->x);
    cval v;
    TRY(pop_expect(c, (uint8_t)g->type, &v));
    if (LIVE) {
        emit_op(c, g->type == WASMPLUG_V128 ? WP_OP_V128_GLOBAL_SET : WP_OP_GLOBAL_SET);
        emit_u32(c, in->x);
        emit_src(c, v.slot);
    }
    return true;
}

static bool need_memory(cctx *c)
{
    if (c->m->nmemories == 0)
        return invalid(c, "unknown memory 0");
    return true;
}

static bool need_table(cctx *c, uint32_t x)
{
    if (x >= c->m->ntables)
        return invalid(c, "unknown table %u", x);
    if (x != 0)
        c->m->features |= WP_FEATURE_REFERENCE_TYPES;
    return true;
}

/*
 * An access with offset 0 whose address (popped from pos) is the result of
 * the I32_ADD_IMM emitted last, read by nothing else: the add is removed and
 * the access becomes its _ADDR_IMM form addressing (a + imm) mod 2^32 (the
 * wrap is why imm cannot simply become the offset).
 */
static bool take_addr_add(cctx *c, cval *addr, size_t pos, wp_op *op, uint64_t *imm)
{
    if (*imm != 0 || !wp_fusions[*op].addr_imm || c->dead || c->nomem ||
        c->last_dst == NONE || c->last_op != WP_OP_I32_ADD_IMM ||
        addr->slot != canon(c, pos) || c->code[c->last_dst].u32 != addr->slot)
        return false;
    addr->slot = c->code[c->last_dst + 1].u32;
    *imm = c->code[c->last_dst + 2].u64 & UINT32_MAX; /* the add's i32 operand */
    *op = (wp_op)wp_fusions[*op].addr_imm;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
    return true;
}

/*
 * An access whose address (popped from pos) is the sum the I32_ADD or
 * I32_ADD_SHL emitted last computed, read by nothing else (base + index,
 * base + scaled index): the add is removed and the access becomes its
 * _ADDR_ADD form, which adds the two values itself ((a + (b << k)) mod
 * 2^32, then the offset). When that add was the second half of an
 * I32_ADD2, the pair goes back to a single I32_ADD.
 */
static bool take_addr_sum(cctx *c, cval addr, size_t pos, wp_op *op, uint32_t *a, uint32_t *b,
                          uint64_t *off)
{
    if (!wp_fusions[*op].addr_add || c->dead || c->nomem || c->last_dst == NONE ||
        (c->last_op != WP_OP_I32_ADD && c->last_op != WP_OP_I32_ADD2 &&
         c->last_op != WP_OP_I32_ADD_SHL) ||
        addr.slot != canon(c, pos) || c->code[c->last_dst].u32 != addr.slot)
        return false;
    *a = c->code[c->last_dst + 1].u32;
    *b = c->code[c->last_dst + 2].u32;
    /* a + (b << k): the shift packed above the 32-bit offset */
    if (c->last_op == WP_OP_I32_ADD_SHL)
        *off |= (c->code[c->last_dst + 3].u64 & 31) << 32;
    *op = (wp_op)wp_fusions[*op].addr_add;
    if (c->last_op == WP_OP_I32_ADD2) {
        /* [I32_ADD2 d1 a1 b1 d2 a2 b2]: keep [I32_ADD d1 a1 b1] */
        c->code[c->last_dst - 4] = c->opcells[WP_OP_I32_ADD];
        c->ncode = c->last_dst;
    } else {
        c->ncode = c->last_dst - 1;
    }
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
    return true;
}

/*
 * An f64.store of val (popped from pos) to addr + off where val is the
 * result of the F64_<op>_LOAD emitted last, read by nothing else, and that
 * instruction loaded from the same slot and offset (a[i] += x): both become
 * one F64_<op>_STORE updating memory in place. Same address, so the fused
 * access traps exactly when the load would have.
 *
 * When that was F64_ADD_LOAD and the value it added is the result of an
 * F64_MUL_LOAD emitted just before it (no label between: a[i] += k * b[j]),
 * all three become F64_MUL_ADD_STORE. Both accesses trap the same way, so
 * checking them in another order changes nothing.
 */
static bool take_update(cctx *c, cval addr, cval val, size_t pos, uint64_t off)
{
    if (c->dead || c->nomem || c->last_dst == NONE || (unsigned)c->last_op >= WP_OP_COUNT ||
        !wp_fusions[c->last_op].update || val.slot != canon(c, pos) ||
        c->code[c->last_dst].u32 != val.slot || c->code[c->last_dst + 2].u32 != addr.slot ||
        c->code[c->last_dst + 3].u64 != off)
        return false;
    wp_op op = (wp_op)wp_fusions[c->last_op].update;
    uint32_t x = c->code[c->last_dst + 1].u32;
    uint32_t start = c->last_dst - 1;
    if (op == WP_OP_F64_ADD_STORE && x == val.slot && c->nrecent == 2 &&
        c->recent[1] == start && c->recent[0] + 5 == start) {
        /* [F64_MUL_LOAD(_ADDR_IMM) x k b off2] [F64_ADD_LOAD x x addr off] */
        const wp_cell *mul = &c->code[c->recent[0]];
        bool by_imm = mul[0].u64 == c->opcells[WP_OP_F64_MUL_LOAD_ADDR_IMM].u64;
        if ((by_imm || mul[0].u64 == c->opcells[WP_OP_F64_MUL_LOAD].u64) && mul[1].u32 == x) {
            uint32_t k = mul[2].u32, b = mul[3].u32;
            uint64_t off2 = mul[4].u64;
            c->ncode = c->recent[0];
            emit_op(c, by_imm ? WP_OP_F64_MUL_ADD_STORE_ADDR_IMM : WP_OP_F64_MUL_ADD_STORE);
            emit_src(c, addr.slot);
            emit_u64(c, off);
            emit_src(c, k);
            emit_src(c, b);
            emit_u64(c, off2);
            return true;
        }
    }
    c->ncode = start;
    emit_op(c, op);
    emit_src(c, addr.slot);
    emit_src(c, x);
    emit_u64(c, off);
    return true;
}

static bool op_memory(cctx *c, const ins *in)
{
    const wp_memop *mo = &wp_mem_ops[in->op - 0x28];
    TRY(need_memory(c));
    if (in->align > mo->align)
        return invalid(c, "alignment must not be larger than natural (2^%u > %u bytes)",
                       in->align, 1u << mo->align);
    cval addr, val;
    wp_op op = (wp_op)mo->op;
    uint64_t imm = in->imm;
    if (mo->store) {
        TRY(pop_expect(c, mo->type, &val));
        TRY(pop_expect(c, T_I32, &addr));
        if (LIVE) {
            /* (the add can only be last when val needed no code: a local
             * or constant slot, read at the same point either way) */
            if (op == WP_OP_F64_STORE && take_update(c, addr, val, c->nvals + 1, imm))
                return true;
            uint32_t a, b;
            if (take_addr_sum(c, addr, c->nvals, &op, &a, &b, &imm)) {
                emit_op(c, op);
                emit_src(c, a);
                emit_src(c, b);
            } else {
                take_addr_add(c, &addr, c->nvals, &op, &imm);
                emit_op(c, op);
                emit_src(c, addr.slot);
            }
            emit_src(c, val.slot);
            emit_u64(c, imm);
        }
        return true;
    }
    TRY(pop_expect(c, T_I32, &addr));
    uint32_t a = NONE, b = NONE;
    if (LIVE && !take_addr_sum(c, addr, c->nvals, &op, &a, &b, &imm))
        take_addr_add(c, &addr, c->nvals, &op, &imm);
    uint32_t d;
    TRY(push(c, mo->type, &d));
    if (LIVE) {
        emit_op(c, op);
        emit_dst(c, d);
        if (a != NONE) {
            emit_src(c, a);
            emit_src(c, b);
        } else {
            emit_src(c, addr.slot);
        }
        emit_u64(c, imm);
    }
    return true;
}

/*
 * Is v (popped from stack position pos; NONE: not the top one) a known
 * constant? Either it refers to a constant slot, or it is the result of the
 * CONST emitted last (then only when it was the top of the stack: nothing
 * else reads it and take_const may remove that CONST).
 */
static bool const_value(const cctx *c, cval v, size_t pos, uint64_t *bits)
{
    if (v.slot >= c->lslots && v.slot < c->base && v.slot != NONE) {
        *bits = c->consts[v.slot - c->lslots];
        return true;
    }
    if (pos == NONE || c->dead || c->nomem || c->last_dst == NONE || c->last_op != WP_OP_CONST ||
        v.slot != canon(c, pos) || c->code[c->last_dst].u32 != v.slot)
        return false;
    *bits = c->code[c->last_dst + 1].u64;
    return true;
}

/* Drop the CONST that produced v when const_value found it there. */
static void take_const(cctx *c, cval v, size_t pos)
{
    if (v.slot >= c->lslots && v.slot < c->base)
        return; /* a constant slot: nothing was emitted for it */
    (void)pos;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
}

/*
 * f64 add/sub/mul (op) of a value the F64_LOAD or F64_LOAD_ADDR_IMM emitted
 * last just loaded (b, or a when op is commutative; each is read by nothing
 * else): the load is removed and *op becomes the F64_<op>_LOAD form, *a the
 * other operand, *addr and *imm the load's address operands.
 */
static bool take_f64_load(cctx *c, wp_op *op, cval *a, cval b, uint32_t *addr, uint64_t *imm)
{
    if (c->dead || c->nomem || c->last_dst == NONE ||
        (c->last_op != WP_OP_F64_LOAD && c->last_op != WP_OP_F64_LOAD_ADDR_IMM))
        return false;
    uint32_t loaded = c->code[c->last_dst].u32;
    bool is_b = b.slot == canon(c, c->nvals + 1) && loaded == b.slot;
    bool is_a = !is_b && wp_fusions[*op].swap && a->slot == canon(c, c->nvals) &&
                loaded == a->slot;
    if (!is_b && !is_a)
        return false;
    if (is_a)
        *a = b; /* (the load can only be last when b needed no code) */
    *addr = c->code[c->last_dst + 1].u32;
    *imm = c->code[c->last_dst + 2].u64;
    uint32_t f = wp_fusions[*op].load_op;
    if (c->last_op == WP_OP_F64_LOAD_ADDR_IMM)
        f = wp_fusions[f].addr_imm;
    *op = (wp_op)f;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
    return true;
}

/*
 * An i32.add one of whose operands (a, or b; each popped from pos, pos + 1)
 * is the result of the I32_SHL_IMM emitted last, read by nothing else (a
 * scaled index: base + (i << k)): the shift is removed and *a, *b, *k
 * become the I32_ADD_SHL operands (the add is commutative).
 */
static bool take_shifted(cctx *c, cval *a, cval *b, size_t pos, uint64_t *k)
{
    if (c->dead || c->nomem || c->last_dst == NONE || c->last_op != WP_OP_I32_SHL_IMM)
        return false;
    uint32_t shifted = c->code[c->last_dst].u32;
    bool is_b = b->slot == canon(c, pos + 1) && shifted == b->slot;
    /* (the shift can only be last for a when b needed no code) */
    bool is_a = !is_b && a->slot == canon(c, pos) && shifted == a->slot;
    if (!is_b && !is_a)
        return false;
    if (is_a)
        *a = *b;
    b->slot = c->code[c->last_dst + 1].u32;
    *k = c->code[c->last_dst + 2].u64 & 31;
    c->ncode = c->last_dst - 1;
    c->last_dst = NONE;
    c->last_op = WP_OP_COUNT;
    return true;
}

/*
 * An i32.add right after another I32_ADD (no label between: address
 * arithmetic, sums in hash rounds): that one becomes I32_ADD2 and the caller
 * appends this add's operands to it. The second add runs after the first, so
 * it may read what the first wrote.
 */
static bool take_add_pair(cctx *c)
{
    uint32_t last = last_instr_is(c, WP_OP_I32_ADD, 4);
    if (last == NONE)
        return false;
    c->code[last] = c->opcells[WP_OP_I32_ADD2];
    c->last_op = WP_OP_I32_ADD2;
    return true;
}

static bool op_numeric(cctx *c, const wp_numop *no)
{
    cval a, b = { T_ANY, NONE };
    if (no->b)
        TRY(pop_expect(c, no->b, &b));
    TRY(pop_expect(c, no->a, &a));
    if (no->op == WP_NUM_REINTERPRET) {
        /* slots hold bit patterns: only the type changes */
        a.type = no->r;
        return push_entry(c, a);
    }
    wp_op op = (wp_op)no->op;
    if (op == WP_OP_I32_EQZ && LIVE && !c->nomem && c->last_dst != NONE &&
        (unsigned)c->last_op < WP_OP_COUNT && wp_fusions[c->last_op].negate &&
        a.slot == canon(c, c->nvals) && c->code[c->last_dst].u32 == a.slot) {
        /* i32.eqz of a compare just computed: the opposite compare */
        c->last_op = (wp_op)wp_fusions[c->last_op].negate;
        c->code[c->last_dst - 1] = c->opcells[c->last_op];
        uint32_t last = c->last_dst;
        TRY(push(c, T_I32, NULL));
        c->last_dst = last;
        return true;
    }
    uint64_t imm = 0;
    bool has_imm = false;
    if (LIVE && no->b && wp_fusions[op].imm) {
        /* A constant operand becomes the immediate of the _IMM form. */
        if (!const_value(c, b, c->nvals + 1, &imm) && wp_fusions[op].swap &&
            const_value(c, a, c->nvals, &imm)) {
            /* (a CONST for a can only be last when b needed no code) */
            take_const(c, a, c->nvals);
            a = b;
            op = (wp_op)wp_fusions[op].swap;
            has_imm = true;
        } else if (const_value(c, b, c->nvals + 1, &imm)) {
            take_const(c, b, c->nvals + 1);
            has_imm = true;
        }
    }
    if (has_imm && (op == WP_OP_I32_SUB || op == WP_OP_I64_SUB))
        imm = 0 - imm; /* a - k == a + (-k) in both widths (i32 reads the low bits) */
    uint32_t addr;
    if (LIVE && wp_fusions[op].load_op && take_f64_load(c, &op, &a, b, &addr, &imm)) {
        uint32_t d;
        TRY(push(c, no->r, &d));
        emit_op(c, op);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, addr);
        emit_u64(c, imm);
        return true;
    }
    if (LIVE && !has_imm && op == WP_OP_I32_ADD && take_shifted(c, &a, &b, c->nvals, &imm)) {
        uint32_t d;
        TRY(push(c, no->r, &d));
        emit_op(c, WP_OP_I32_ADD_SHL);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        emit_u64(c, imm);
        return true;
    }
    uint32_t d;
    TRY(push(c, no->r, &d));
    if (LIVE && !has_imm && op == WP_OP_I32_ADD && take_add_pair(c)) {
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        return true;
    }
    if (LIVE) {
        emit_op(c, has_imm ? (wp_op)wp_fusions[op].imm : op);
        emit_dst(c, d);
        emit_src(c, a.slot);
        if (has_imm)
            emit_u64(c, imm);
        else if (no->b)
            emit_src(c, b.slot);
    }
    return true;
}

/* The constant slot holding bits, or NONE. */
static uint32_t const_slot(const cctx *c, uint64_t bits)
{
    for (size_t k = 0; k < c->nconsts; k++)
        if (c->consts[k] == bits)
            return c->lslots + (uint32_t)k;
    return NONE;
}

static bool op_const(cctx *c, uint8_t t, uint64_t bits)
{
    if (LIVE && c->loop_depth > 0) {
        cval v = { t, const_slot(c, bits) };
        if (v.slot != NONE)
            return push_entry(c, v);
    }
    uint32_t d;
    TRY(push(c, t, &d));
    if (LIVE) {
        emit_op(c, WP_OP_CONST);
        emit_dst(c, d);
        emit_u64(c, bits);
    }
    return true;
}

/* Pop n i32 operands (the last popped is the first operand) into s[]. */
static bool pop_i32s(cctx *c, uint32_t *s, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) {
        cval v;
        TRY(pop_expect(c, T_I32, &v));
        s[i] = v.slot;
    }
    return true;
}

static bool op_fc(cctx *c, const ins *in)
{
    wasmplug_module *m = c->m;
    uint32_t sub = in->op - 0xFC00;
    uint32_t ndatas = m->has_datacount ? m->datacount : m->ndatas;
    uint32_t s[3];
    if (sub < 8) {
        m->features |= WP_FEATURE_SAT_CONV;
        return op_numeric(c, &wp_sat_ops[sub]);
    }
    m->features |= sub >= 15 ? WP_FEATURE_REFERENCE_TYPES : WP_FEATURE_BULK_MEMORY;
    switch (sub) {
    case 8: /* memory.init */
        TRY(need_memory(c));
        if (in->x >= ndatas)
            return invalid(c, "unknown data segment %u", in->x);
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            emit_op(c, WP_OP_MEMORY_INIT);
            emit_u32(c, in->x);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 9: /* data.drop */
        if (in->x >= ndatas)
            return invalid(c, "unknown data segment %u", in->x);
        if (LIVE) {
            emit_op(c, WP_OP_DATA_DROP);
            emit_u32(c, in->x);
        }
        return true;
    case 10: /* memory.copy */
    case 11: /* memory.fill */
        TRY(need_memory(c));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            emit_op(c, sub == 10 ? WP_OP_MEMORY_COPY : WP_OP_MEMORY_FILL);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 12: /* table.init elem x, table y */
        TRY(need_table(c, in->y));
        if (in->x >= m->nelems)
            return invalid(c, "unknown elem segment %u", in->x);
        if (m->elems[in->x].type != m->tables[in->y].elem)
            return invalid(c, "type mismatch: element segment %u of %s into table of %s",
                           in->x, type_name((uint8_t)m->elems[in->x].type),
                           type_name((uint8_t)m->tables[in->y].elem));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_INIT);
            emit_u32(c, in->y);
            emit_u32(c, in->x);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 13: /* elem.drop */
        if (in->x >= m->nelems)
            return invalid(c, "unknown elem segment %u", in->x);
        if (LIVE) {
            emit_op(c, WP_OP_ELEM_DROP);
            emit_u32(c, in->x);
        }
        return true;
    case 14: /* table.copy dst x, src y */
        TRY(need_table(c, in->x));
        TRY(need_table(c, in->y));
        if (m->tables[in->x].elem != m->tables[in->y].elem)
            return invalid(c, "type mismatch: table.copy from %s to %s",
                           type_name((uint8_t)m->tables[in->y].elem),
                           type_name((uint8_t)m->tables[in->x].elem));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_COPY);
            emit_u32(c, in->x);
            emit_u32(c, in->y);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 15: { /* table.grow */
        TRY(need_table(c, in->x));
        cval n, init;
        TRY(pop_expect(c, T_I32, &n));
        TRY(pop_expect(c, (uint8_t)m->tables[in->x].elem, &init));
        uint32_t d;
        TRY(push(c, T_I32, &d));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_GROW);
            emit_dst(c, d);
            emit_u32(c, in->x);
            emit_src(c, init.slot);
            emit_src(c, n.slot);
        }
        return true;
    }
    case 16: { /* table.size */
        TRY(need_table(c, in->x));
        uint32_t d;
        TRY(push(c, T_I32, &d));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_SIZE);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
    default: { /* 17: table.fill */
        TRY(need_table(c, in->x));
        cval n, val, i;
        TRY(pop_expect(c, T_I32, &n));
        TRY(pop_expect(c, (uint8_t)m->tables[in->x].elem, &val));
        TRY(pop_expect(c, T_I32, &i));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_FILL);
            emit_u32(c, in->x);
            emit_src(c, i.slot);
            emit_src(c, val.slot);
            emit_src(c, n.slot);
        }
        return true;
    }
    }
}

static bool op_table_get_set(cctx *c, const ins *in)
{
    TRY(need_table(c, in->x));
    c->m->features |= WP_FEATURE_REFERENCE_TYPES;
    uint8_t t = (uint8_t)c->m->tables[in->x].elem;
    cval i, v;
    if (in->op == 0x25) {
        TRY(pop_expect(c, T_I32, &i));
        uint32_t d;
        TRY(push(c, t, &d));
        if (LIVE) {
            emit_op(c, WP_OP_TABLE_GET);
            emit_dst(c, d);
            emit_u32(c, in->x);
            emit_src(c, i.slot);
        }
        return true;
    }
    TRY(pop_expect(c, t, &v));
    TRY(pop_expect(c, T_I32, &i));
    if (LIVE) {
        emit_op(c, WP_OP_TABLE_SET);
        emit_u32(c, in->x);
        emit_src(c, i.slot);
        emit_src(c, v.slot);
    }
    return true;
}

static bool op_ref(cctx *c, const ins *in)
{
    wasmplug_module *m = c->m;
    m->features |= WP_FEATURE_REFERENCE_TYPES;
    uint32_t d;
    switch (in->op) {
    case 0xD0: /* ref.null */
        return op_const(c, in->t, 0);
    case 0xD1: { /* ref.is_null */
        cval v;
        TRY(pop_expect(c, T_ANY, &v));
        if (!is_ref(v.type))
            return invalid(c, "type mismatch: expected a reference, got %s", type_name(v.type));
        TRY(push(c, T_I32, &d));
        if (LIVE) {
            emit_op(c, WP_OP_REF_IS_NULL);
            emit_dst(c, d);
            emit_src(c, v.slot);
        }
        return true;
    }
    default: /* ref.func */
        if (in->x >= m->nfuncs)
            return invalid(c, "unknown function %u", in->x);
        if (!m->func_declared || !m->func_declared[in->x])
            return invalid(c, "undeclared function reference %u", in->x);
        TRY(push(c, T_FUNCREF, &d));
        if (LIVE) {
            emit_op(c, WP_OP_REF_FUNC);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
}

/* ------------------------------------------------------------------------ */
/* SIMD (simd.h: the table gives each instruction's shape and types)        */
/* ------------------------------------------------------------------------ */

static uint8_t simd_type(char l)
{
    switch (l) {
    case 'V': return T_V128;
    case 'i': return T_I32;
    case 'I': return T_I64;
    case 'f': return T_F32;
    default: return T_F64;
    }
}

/* The operation of its own a binary instruction has (simd.h WP_SIMD_FAST),
 * or WP_OP_COUNT. */
static wp_op simd_fast_op(uint32_t sub)
{
    switch (sub) {
#define WP_X_FAST(name, code, shape, vt, op) case code: return WP_OP_##name;
        WP_SIMD_FAST(WP_X_FAST)
#undef WP_X_FAST
    default: return WP_OP_COUNT;
    }
}

/* The operation a load form compiles to: one of its own, or SIMD_LOAD. */
static wp_op simd_fast_load(uint32_t sub)
{
    switch (sub) {
    case 0x00: return WP_OP_V128_LOAD;
#define WP_X_LOAD(name, code, st, vt) case code: return WP_OP_##name;
        WP_SIMD_FAST_LOADS(WP_X_LOAD)
#undef WP_X_LOAD
    default: return WP_OP_SIMD_LOAD;
    }
}

static bool simd_lane(cctx *c, const ins *in, uint32_t lanes)
{
    if (in->y >= lanes)
        return invalid(c, "invalid lane index %u (%u lanes)", in->y, lanes);
    return true;
}

/* Validate and translate a 0xFD instruction (decoded by read_simd). */
static bool op_simd(cctx *c, const ins *in)
{
    uint32_t sub = in->op & 0xFF;
    const wp_simd_info *si = &wp_simd_table[sub];
    c->m->features |= WP_FEATURE_SIMD;
    cval a, b, v3;
    uint32_t d = NONE;
    uint64_t lo, hi;
    switch (si->kind) {
    case WP_SK_LOAD: case WP_SK_STORE: case WP_SK_LOAD_LANE: case WP_SK_STORE_LANE: {
        TRY(need_memory(c));
        bool lane_form = si->kind == WP_SK_LOAD_LANE || si->kind == WP_SK_STORE_LANE;
        uint32_t max_align = si->param;
        if (lane_form)
            max_align = si->param == 16 ? 0 : si->param == 8 ? 1 : si->param == 4 ? 2 : 3;
        if (in->align > max_align)
            return invalid(c, "alignment must not be larger than natural (2^%u > %u bytes)",
                           in->align, 1u << max_align);
        if (lane_form)
            TRY(simd_lane(c, in, si->param));
        if (si->kind != WP_SK_LOAD)
            TRY(pop_expect(c, T_V128, &b));
        TRY(pop_expect(c, T_I32, &a));
        if (si->kind == WP_SK_LOAD || si->kind == WP_SK_LOAD_LANE)
            TRY(push(c, T_V128, &d));
        if (!LIVE)
            return true;
        switch (si->kind) {
        case WP_SK_LOAD: emit_op(c, simd_fast_load(sub)); break;
        case WP_SK_STORE: emit_op(c, WP_OP_SIMD_STORE); break;
        case WP_SK_LOAD_LANE: emit_op(c, WP_OP_SIMD_LOAD_LANE); break;
        default: emit_op(c, WP_OP_SIMD_STORE_LANE); break;
        }
        if (d != NONE)
            emit_dst(c, d);
        emit_src(c, a.slot);
        if (si->kind != WP_SK_LOAD)
            emit_src(c, b.slot);
        emit_u64(c, in->imm);
        if (si->kind != WP_SK_LOAD || simd_fast_load(sub) == WP_OP_SIMD_LOAD)
            emit_u32(c, sub);
        if (lane_form)
            emit_u32(c, in->y);
        return true;
    }
    case WP_SK_CONST:
        TRY(push(c, T_V128, &d));
        if (LIVE) {
            memcpy(&lo, in->v, 8);
            memcpy(&hi, in->v + 8, 8);
            emit_op(c, WP_OP_V128_CONST);
            emit_dst(c, d);
            emit_u64(c, lo);
            emit_u64(c, hi);
        }
        return true;
    case WP_SK_SHUFFLE:
        for (uint32_t i = 0; i < 16; i++)
            if (in->v[i] >= 32)
                return invalid(c, "invalid lane index %u (32 lanes)", in->v[i]);
        TRY(pop_expect(c, T_V128, &b));
        TRY(pop_expect(c, T_V128, &a));
        TRY(push(c, T_V128, &d));
        if (LIVE) {
            memcpy(&lo, in->v, 8);
            memcpy(&hi, in->v + 8, 8);
            emit_op(c, WP_OP_SIMD_SHUFFLE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_src(c, b.slot);
            emit_u64(c, lo);
            emit_u64(c, hi);
        }
        return true;
    case WP_SK_UNARY: {
        TRY(pop_expect(c, simd_type(si->a), &a));
        TRY(push(c, simd_type(si->r), &d));
        if (!LIVE)
            return true;
        bool splat32 = sub == 0x11 || sub == 0x13; /* i32x4.splat, f32x4.splat */
        emit_op(c, splat32 ? WP_OP_I32X4_SPLAT : WP_OP_SIMD1);
        emit_dst(c, d);
        emit_src(c, a.slot);
        if (!splat32)
            emit_u32(c, sub);
        return true;
    }
    case WP_SK_BINARY: {
        TRY(pop_expect(c, simd_type(si->b), &b));
        TRY(pop_expect(c, T_V128, &a));
        TRY(push(c, T_V128, &d));
        if (!LIVE)
            return true;
        wp_op fast = simd_fast_op(sub);
        emit_op(c, fast != WP_OP_COUNT ? fast : WP_OP_SIMD2);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        if (fast == WP_OP_COUNT)
            emit_u32(c, sub);
        return true;
    }
    case WP_SK_TERNARY:
        TRY(pop_expect(c, T_V128, &v3));
        TRY(pop_expect(c, T_V128, &b));
        TRY(pop_expect(c, T_V128, &a));
        TRY(push(c, T_V128, &d));
        if (LIVE) {
            emit_op(c, WP_OP_SIMD3);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_src(c, b.slot);
            emit_src(c, v3.slot);
            emit_u32(c, sub);
        }
        return true;
    default: /* extract_lane, replace_lane */
        TRY(simd_lane(c, in, si->param));
        if (si->kind == WP_SK_REPLACE)
            TRY(pop_expect(c, simd_type(si->b), &b));
        TRY(pop_expect(c, T_V128, &a));
        if (si->kind != WP_SK_REPLACE)
            b = a;
        TRY(push(c, simd_type(si->r), &d));
        if (LIVE && (sub == 0x1B || sub == 0x1F)) { /* i32x4/f32x4.extract_lane */
            emit_op(c, WP_OP_I32X4_EXTRACT_LANE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_u32(c, in->y);
        } else if (LIVE) {
            emit_op(c, WP_OP_SIMD_LANE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_src(c, b.slot);
            emit_u32(c, sub);
            emit_u32(c, in->y);
        }
        return true;
    }
}

/* Decode, validate and translate one instruction. */
static bool step(cctx *c)
{
    ins *in = &c->cur;
    TRY(read_instr(c, in));
    c->fuel_count++;
    uint32_t op = in->op;
    if (op >= 0xFD00)
        return op_simd(c, in);
    if (op >= 0xFC00)
        return op_fc(c, in);
    if (wp_num_ops[op].r) {
        if (op >= 0xC0)
            c->m->features |= WP_FEATURE_SIGN_EXT;
        return op_numeric(c, &wp_num_ops[op]);
    }
    if (op >= 0x28 && op <= 0x3E)
        return op_memory(c, in);
    switch (op) {
    case 0x00: /* unreachable */
        if (LIVE)
            emit_op(c, WP_OP_UNREACHABLE);
        set_unreachable(c);
        return true;
    case 0x01: /* nop */
        return true;
    case 0x02: case 0x03: case 0x04:
        return op_block(c, in);
    case 0x05:
        return op_else(c, in);
    case 0x0B:
        return op_end(c);
    case 0x0C:
        return op_br(c, in);
    case 0x0D:
        return op_br_if(c, in);
    case 0x0E:
        return op_br_table(c, in);
    case 0x0F:
        return op_return(c);
    case 0x10:
        return op_call(c, in);
    case 0x11:
        return op_call_indirect(c, in);
    case 0x1A: { /* drop */
        cval v;
        TRY(pop_expect(c, T_ANY, &v));
        c->last_dst = NONE;
        return true;
    }
    case 0x1B: case 0x1C:
        return op_select(c, in);
    case 0x20: case 0x21: case 0x22:
        return op_local(c, in);
    case 0x23: case 0x24:
        return op_global(c, in);
    case 0x25: case 0x26:
        return op_table_get_set(c, in);
    case 0x3F: { /* memory.size */
        TRY(need_memory(c));
        uint32_t d;
        TRY(push(c, T_I32, &d));
        if (LIVE) {
            emit_op(c, WP_OP_MEMORY_SIZE);
            emit_dst(c, d);
        }
        return true;
    }
    case 0x40: { /* memory.grow */
        TRY(need_memory(c));
        cval a;
        TRY(pop_expect(c, T_I32, &a));
        uint32_t d;
        TRY(push(c, T_I32, &d));
        if (LIVE) {
            emit_op(c, WP_OP_MEMORY_GROW);
            emit_dst(c, d);
            emit_src(c, a.slot);
        }
        return true;
    }
    case 0x41: return op_const(c, T_I32, in->imm);
    case 0x42: return op_const(c, T_I64, in->imm);
    case 0x43: return op_const(c, T_F32, in->imm);
    case 0x44: return op_const(c, T_F64, in->imm);
    default: /* 0xD0..0xD2 */
        return op_ref(c, in);
    }
}

/* ------------------------------------------------------------------------ */
/* Functions                                                                */
/* ------------------------------------------------------------------------ */

static void setup_reader(cctx *c, const wp_func *f)
{
    c->r.base = c->m->bytes;
    c->r.p = c->m->bytes + f->body_offset;
    c->r.end = c->r.p + f->body_size;
    c->r.error = NULL;
    c->r.error_at = NULL;
}

static bool compile_function(cctx *c, uint32_t fidx)
{
    wasmplug_module *m = c->m;
    wp_func *f = &m->funcs[fidx];
    c->func_index = fidx;
    c->started = false;
    memset(&c->cur, 0, sizeof c->cur);
    c->cur.offset = f->body_offset;
    c->cur.op = 0x0B;
    setup_reader(c, f);
    if (f->type_index >= m->ntypes) {
        c->ftype = NULL;
        return fail_at(c, WASMPLUG_ERR_INVALID, f->body_offset, "unknown type %u",
                       f->type_index);
    }
    c->ftype = &m->types[f->type_index];
    const wp_functype *t = c->ftype;
    if (t->nresults > 1)
        m->features |= WP_FEATURE_MULTI_VALUE;
    TRY(read_locals(c));
    TRY(prescan(c));
    c->base = c->lslots + (uint32_t)c->nconsts;
    if (!grow(c, &c->soff, &c->soff_cap, 1, sizeof(uint32_t)))
        return false;
    c->soff[0] = 0;

    c->nvals = c->nctrls = c->nfixups = c->ncode = 0;
    c->nrefs = 0;
    c->dead = false;
    c->max_height = 0;
    c->v128 = c->lslots != c->nlocals;
    c->last_dst = NONE;
    c->nrecent = 0;
    c->fuel_count = 0;
    c->nomem = false;

    emit_op(c, WP_OP_FUEL);
    emit_u64(c, 0);
    c->loop_depth = 0;
    TRY(push_ctrl(c, FK_FUNC, NULL, 0, wp_functype_results(t), t->nresults));
    c->started = true;
    while (c->nctrls > 0) {
        TRY(step(c));
        if (c->nomem)
            return nomem(c);
    }
    if (c->r.p != c->r.end)
        return malformed(c, c->r.p, "section size mismatch (bytes after the function's end)");
    if (c->ncode > 1)
        c->code[1].u64 = c->fuel_count;

    wp_code *code = &f->code;
    size_t bytes = c->ncode * sizeof(wp_cell);
    code->cells = wp_arena_alloc(&m->arena, bytes);
    if (!code->cells)
        return nomem(c);
    memcpy(code->cells, c->code, bytes);
    code->ncells = (uint32_t)c->ncode;
    code->nparams = t->pslots;
    code->nlocals = c->lslots - t->pslots;
    code->nresults = t->nresults;
    uint32_t frame = c->base + c->max_height;
    if (frame < t->rslots)
        frame = t->rslots;
    /* Slot operands of SIMD operations may name the first of two slots;
     * a spare slot keeps every such pair inside the frame (serialize.c
     * checks it on load). */
    frame += c->v128 || t->pslots != t->nparams || t->rslots != t->nresults;
    code->frame_size = frame ? frame : 1;
    code->func_index = fidx;
    return true;
}

/* After an invalid body: decode the rest of it for a binary-format error,
 * which the spec reports first (it decodes everything, then validates).
 * open[0..n) tells for each open construct whether it is an if still
 * expecting its else; the array is owned (and freed) here. */
static bool scan_rest(cctx *c, uint8_t *open, size_t n, size_t cap)
{
    bool ok = true;
    while (ok && n > 0) {
        ins in;
        in.op = 0;
        if (!read_instr(c, &in)) {
            ok = false;
            break;
        }
        if (in.op == 0x02 || in.op == 0x03 || in.op == 0x04) {
            if (n == cap) {
                uint8_t *p = wp_realloc(c->e, open, cap, cap * 2);
                if (!p) {
                    ok = nomem(c);
                    break;
                }
                open = p;
                cap *= 2;
            }
            open[n++] = in.op == 0x04;
        } else if (in.op == 0x05) {
            if (!open[n - 1])
                ok = malformed(c, c->r.base + in.offset, "END opcode expected (else without if)");
            open[n - 1] = 0;
        } else if (in.op == 0x0B) {
            n--;
        }
    }
    wp_free(c->e, open, cap);
    if (ok && c->r.p != c->r.end)
        ok = malformed(c, c->r.p, "section size mismatch (bytes after the function's end)");
    return ok;
}

/* Continue decoding the function whose validation failed (at instruction
 * c->cur, already decoded) and every function after it. */
static bool scan_after_invalid(cctx *c, bool body_started)
{
    size_t n = body_started ? c->nctrls : 0;
    size_t cap = n + 16;
    uint8_t *open = wp_malloc(c->e, cap);
    if (!open)
        return nomem(c);
    for (size_t k = 0; k < n; k++)
        open[k] = c->ctrls[k].kind == FK_IF;
    if (!body_started) {
        if (!read_locals(c)) {
            wp_free(c->e, open, cap);
            return false;
        }
        open[n++] = 0;
    } else {
        /* the failing instruction's own effect on the nesting */
        switch (c->cur.op) {
        case 0x02: case 0x03: case 0x04: open[n++] = c->cur.op == 0x04; break;
        case 0x05: open[n - 1] = 0; break;
        case 0x0B: n--; break;
        default: break;
        }
    }
    return scan_rest(c, open, n, cap);
}

static void free_ctx(cctx *c)
{
    wasmplug_engine *e = c->e;
    wp_free(e, c->runs, c->runs_cap * sizeof(lrun));
    wp_free(e, c->soff, c->soff_cap * sizeof(uint32_t));
    wp_free(e, c->vals, c->vals_cap * sizeof(cval));
    wp_free(e, c->ctrls, c->ctrls_cap * sizeof(cframe));
    wp_free(e, c->fixups, c->fixups_cap * sizeof(fixup));
    wp_free(e, c->scratch, c->scratch_cap * sizeof(cval));
    wp_free(e, c->targets, c->targets_cap * sizeof(uint32_t));
    wp_free(e, c->code, c->code_cap * sizeof(wp_cell));
    wp_free(e, c->consts, c->consts_cap * sizeof(uint64_t));
    wp_free(e, c->kinds, c->kinds_cap);
    wp_free(e, c->open, c->open_cap * sizeof(uint32_t));
    wp_free(e, c->wmask, c->wmask_cap * sizeof(uint64_t));
    wp_free(e, c->nest_consts, c->nest_consts_cap * sizeof(uint16_t));
    wp_free(e, c->nest_start, c->nest_start_cap * sizeof(uint32_t));
}

wasmplug_status wp_compile_functions(wasmplug_module *m, wasmplug_error *err)
{
    cctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.e = m->engine;
    c.err = err;
    for (int op = 0; op < WP_OP_COUNT; op++)
        c.opcells[op] = wp_op_cell_bounds((wp_op)op, wp_engine_bounds(m->engine));
    wasmplug_status st = WASMPLUG_OK;
    uint32_t i = m->num_imported_funcs;
    for (; i < m->nfuncs; i++) {
        if (!compile_function(&c, i)) {
            st = c.status;
            break;
        }
    }
    if (st == WASMPLUG_ERR_INVALID) {
        /* A malformed (or unsupported) rest of the code section wins. */
        wasmplug_error tmp;
        c.err = &tmp;
        c.status = WASMPLUG_OK;
        bool ok = scan_after_invalid(&c, c.started);
        for (uint32_t k = i + 1; ok && k < m->nfuncs; k++) {
            const wp_func *f = &m->funcs[k];
            c.func_index = k;
            setup_reader(&c, f);
            c.ftype = f->type_index < m->ntypes ? &m->types[f->type_index] : NULL;
            c.started = false;
            ok = scan_after_invalid(&c, false);
        }
        if (!ok && c.status != WASMPLUG_ERR_INVALID && c.status != WASMPLUG_ERR_LIMIT) {
            st = c.status;
            if (err)
                *err = tmp;
        }
    }
    free_ctx(&c);
    return st;
}
