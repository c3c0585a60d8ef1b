/*
 * compile_func.h - the function-body compiler's state and the helpers its
 * files share (internal): compile_func.c (the design, the driver and the
 * per-instruction dispatch), compile_emit.c (errors, code emission, the
 * compile-time operand stack, labels and branches), compile_decode.c
 * (instruction decoding, locals, the prescan), compile_control.c (blocks,
 * branches, calls, select, locals and globals), compile_numeric.c (memory,
 * numeric, bulk and table instructions with their fusions) and
 * compile_simd.c (0xFD instructions).
 */
#ifndef WP_COMPILE_FUNC_H
#define WP_COMPILE_FUNC_H

#include "compile.h"
#include "reader.h"
#include "simd.h"

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

static inline const char *type_name(uint8_t t)
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

static inline bool is_num(uint8_t t) { return t == T_I32 || t == T_I64 || t == T_F32 || t == T_F64 || t == T_ANY; }
/* Slots a value of type t occupies (v128: two; the Unknown type: one). */
static inline uint32_t width(uint8_t t) { return t == T_V128 ? 2u : 1u; }
static inline bool is_numvec(uint8_t t) { return is_num(t) || t == T_V128; }
static inline bool is_ref(uint8_t t) { return t == T_FUNCREF || t == T_EXTERNREF || t == T_ANY; }


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
    uint32_t result_cell;  /* a BR carrying its label's single value: the
                              destination cell of the instruction that wrote
                              it just before the BR (NONE: not known) */
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
    uint32_t moved_cell;   /* destination cell of the single-slot COPY or
                              retargeted instruction emitted last (NONE) */
    /* The block ended last, when every path into its end wrote its single
     * result with the instruction right before the jump or the end (the
     * cells of fixup result_cell in the list ren_fixups, and ren_fall for
     * the path falling into the end): a local.set of that result at
     * ren_at (no code since the end) renames the result slot ren_slot to
     * the local instead of copying it (compile_control.c). */
    uint32_t ren_at, ren_slot, ren_fixups, ren_fall;
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

/* Single-type block results point into this array (compile_emit.c). */
WP_INTERNAL extern const wasmplug_valtype wpc_single[];

/* A branch condition as it will be tested: a fused compare, or a slot. */
typedef struct cbranch {
    uint32_t cmp;          /* the compare (wp_op) fused into the branch, or NONE */
    bool invert;           /* no compare: the condition is a == 0 (fused i32.eqz) */
    uint32_t a;            /* the slot tested, or the compare's first operand */
    uint64_t b;            /* the compare's second operand: slot or immediate */
} cbranch;

#define TRY(x) do { if (!(x)) return false; } while (0)
#define LIVE (!c->dead)

/* Room for one more code cell (false: out of memory, recorded in c->nomem). */
WP_INTERNAL bool wpc_grow_code(cctx *c);

/* Canonical slot of the value at operand stack position pos. */
static inline uint32_t canon(const cctx *c, size_t pos) { return c->base + c->soff[pos]; }

static inline void emit_cell(cctx *c, wp_cell cell)
{
    if (WP_UNLIKELY(c->ncode == c->code_cap) && !wpc_grow_code(c))
        return;
    c->code[c->ncode++] = cell;
}

static inline void emit_u32(cctx *c, uint32_t v)
{
    wp_cell cell;
    cell.u64 = 0;
    cell.u32 = v;
    emit_cell(c, cell);
}

static inline void emit_u64(cctx *c, uint64_t v)
{
    wp_cell cell;
    cell.u64 = v;
    emit_cell(c, cell);
}

/* Destination operand of an instruction producing the top of the stack:
 * remembered for the local.set peephole. */
static inline void emit_dst(cctx *c, uint32_t slot)
{
    uint32_t at = (uint32_t)c->ncode;
    emit_u32(c, slot);
    c->last_dst = at;
}

/* A source operand. */
static inline void emit_src(cctx *c, uint32_t slot) { emit_u32(c, slot); }

static inline bool is_canonical(const cctx *c, size_t pos) { return c->vals[pos].slot == canon(c, pos); }

/* Bit of local slot x in a block's write mask (the last bit stands for all
 * locals from 63 on). */
static inline uint64_t local_bit(uint32_t x) { return (uint64_t)1 << (x < 63 ? x : 63); }

/* compile_emit.c */
WP_INTERNAL bool wpc_fail_at(cctx *c, wasmplug_status st, uint64_t offset, const char *fmt, ...);
WP_INTERNAL bool wpc_invalid(cctx *c, const char *fmt, ...);
WP_INTERNAL bool wpc_malformed(cctx *c, const uint8_t *at, const char *msg);
WP_INTERNAL bool wpc_unsupported(cctx *c, const uint8_t *at, const char *feature);
WP_INTERNAL bool wpc_reader_failed(cctx *c);
WP_INTERNAL bool wpc_nomem(cctx *c);
WP_INTERNAL bool wpc_grow(cctx *c, void *arr, size_t *cap, size_t need, size_t elem);
WP_INTERNAL uint32_t wpc_emit_op(cctx *c, wp_op op);
/* The first cell of the last instruction in the code when it is op, `cells`
 * cells long, and no label came after it (so it may be rewritten to fuse
 * with what follows); otherwise NONE. */
WP_INTERNAL uint32_t wpc_last_instr_is(const cctx *c, wp_op op, uint32_t cells);
/* Copy a value of type t (v128: both slots). */
WP_INTERNAL void wpc_emit_move(cctx *c, uint8_t t, uint32_t d, uint32_t a);
WP_INTERNAL void wpc_patch_rel(cctx *c, uint32_t instr, uint32_t cell, uint32_t target);
/*
 * The condition of br_if/if (popped from cond_pos): an i32.eqz or an
 * integer compare emitted last whose result nothing else reads is removed,
 * and the branch does its work (fuse_eqz; compare-and-branch operations).
 */
WP_INTERNAL cbranch wpc_take_cond(cctx *c, cval cond, size_t cond_pos);
/* Emit cb's branch, taken when the condition holds (on_false: when it does
 * not). Returns its operation cell; *rel receives the cell of its offset. */
WP_INTERNAL uint32_t wpc_emit_cbranch(cctx *c, const cbranch *cb, bool on_false, uint32_t *rel);
/*
 * An unconditional branch or return moving a single value v (at stack
 * position pos) to slot dst: when the instruction emitted last produced v,
 * let it write dst directly. Nothing runs between the two, and after the
 * branch no other value is read, so the earlier write cannot be observed.
 */
WP_INTERNAL void wpc_retarget_last(cctx *c, cval *v, size_t pos, uint32_t dst);
/* Whether op writes its destination after reading all its operands (a
 * destination that may be renamed). */
WP_INTERNAL bool wpc_writes_last(wp_op op);
/* The destination cell that wrote slot with the instruction emitted last
 * (a move or a retargeted producer), or NONE. */
WP_INTERNAL uint32_t wpc_result_cell(const cctx *c, uint32_t slot);
/* A code position control flow can reach from elsewhere: the peephole must
 * not fuse across it. */
WP_INTERNAL void wpc_place_label(cctx *c);
/* Copy the local a stack entry refers to into its canonical slot. */
WP_INTERNAL void wpc_materialize(cctx *c, uint32_t ref_index);
WP_INTERNAL void wpc_materialize_from(cctx *c, size_t pos);
WP_INTERNAL void wpc_materialize_local(cctx *c, uint32_t slot);
WP_INTERNAL bool wpc_local_referenced(const cctx *c, uint32_t slot);
/* Copy constant-slot entries at positions >= pos into their canonical
 * slots (constants need no protection from writes, only contiguity). */
WP_INTERNAL void wpc_materialize_consts_from(cctx *c, size_t pos);
WP_INTERNAL void wpc_truncate_stack(cctx *c, size_t height);
/* Push an entry whose value is at v.slot (canonical or a local). */
WP_INTERNAL bool wpc_push_entry(cctx *c, cval v);
/* Push a value of type t in its canonical slot; *slot receives it. */
WP_INTERNAL bool wpc_push(cctx *c, uint8_t t, uint32_t *slot);
/* The spec's pop_val(expect); expect T_ANY accepts anything. */
WP_INTERNAL bool wpc_pop_expect(cctx *c, uint8_t expect, cval *out);
/* The spec's pop_vals: types[0..n) with types[n-1] on top. The popped
 * entries go to c->scratch[0..n) in the same order; in reachable code they
 * sat at stack positions [c->nvals, c->nvals + n) afterwards. */
WP_INTERNAL bool wpc_pop_vals(cctx *c, const wasmplug_valtype *types, uint32_t n);
WP_INTERNAL bool wpc_push_types(cctx *c, const wasmplug_valtype *types, uint32_t n);
/* The rest of the current frame is unreachable. */
WP_INTERNAL void wpc_set_unreachable(cctx *c);
WP_INTERNAL bool wpc_push_ctrl(cctx *c, uint8_t kind, const wasmplug_valtype *params, uint32_t np, const wasmplug_valtype *results, uint32_t nr);
WP_INTERNAL void wpc_label_types(const cframe *f, const wasmplug_valtype **types, uint32_t *n);
WP_INTERNAL bool wpc_add_fixup(cctx *c, cframe *f, uint32_t instr, uint32_t cell);
/* Emit a branch-type instruction (BR: cond NONE, else BR_IF / BR_IF_NOT)
 * to frame f's label. */
WP_INTERNAL bool wpc_emit_jump(cctx *c, wp_op op, uint32_t cond, cframe *f);
/* A conditional branch (cb, see emit_cbranch) to frame f's label. */
WP_INTERNAL bool wpc_emit_cjump(cctx *c, const cbranch *cb, bool on_false, cframe *f);
/* Move n values (v[0..n), at stack positions [pos, pos+n)) to fp[0..) and
 * return; value i goes to slot o, the slots of the values before it. A
 * local below o would be overwritten by the earlier results, so such values
 * go through their (free) canonical slot first. Ascending copies are safe: a
 * canonical source of value i sits at or above slot o. */
WP_INTERNAL void wpc_emit_return(cctx *c, const cval *v, uint32_t n, size_t pos);
/* Does a branch to f need to move its values (v[0..n))? */
WP_INTERNAL bool wpc_needs_moves(const cctx *c, const cframe *f, const cval *v, uint32_t n);
/* Move a branch's values to f's label slots. Destinations lie at or below
 * the canonical sources and above every local, so ascending order is safe. */
WP_INTERNAL void wpc_emit_moves(cctx *c, const cframe *f, const cval *v, uint32_t n);
/* The complete taken path of a branch to f: moves, then BR or RETURN. */
WP_INTERNAL bool wpc_emit_branch_path(cctx *c, cframe *f, const cval *v, uint32_t n, size_t pos);
WP_INTERNAL bool wpc_get_label(cctx *c, uint32_t depth, cframe **out);
/* Resolve a block type into params and results. */
WP_INTERNAL bool wpc_block_type(cctx *c, int64_t bt, const wasmplug_valtype **params, uint32_t *np, const wasmplug_valtype **results, uint32_t *nr);

/* compile_decode.c */
/* The immediates of a 0xFD instruction (after the prefix byte at `at`). */
WP_INTERNAL bool wpc_read_simd(cctx *c, ins *in, const uint8_t *at);
/* Decode one instruction and its immediates (binary format only). */
WP_INTERNAL bool wpc_read_instr(cctx *c, ins *in);
/* Parse the locals declarations; the params come first in the runs. */
WP_INTERNAL bool wpc_read_locals(cctx *c);
WP_INTERNAL uint8_t wpc_local_type(const cctx *c, uint32_t x);
/* The (first) slot of local x. */
WP_INTERNAL uint32_t wpc_local_slot(const cctx *c, uint32_t x);
/*
 * Decode the body once, before compiling it, to collect
 *  - the distinct constants used inside loops, and which outermost loop
 *    uses which (they get slots, set when the loop nest is entered);
 *  - for every block, loop and if (in code order) the mask of locals
 *    written inside it: only references to those must be materialized when
 *    the construct is entered.
 * Leaves the reader where it was.
 */
WP_INTERNAL bool wpc_prescan(cctx *c);

/* compile_control.c */
WP_INTERNAL bool wpc_op_block(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_else(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_end(cctx *c);
WP_INTERNAL bool wpc_op_br(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_br_if(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_br_table(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_return(cctx *c);
WP_INTERNAL bool wpc_op_call(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_call_indirect(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_select(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_local(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_global(cctx *c, const ins *in);

/* compile_numeric.c */
WP_INTERNAL bool wpc_need_memory(cctx *c);
WP_INTERNAL bool wpc_op_memory(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_numeric(cctx *c, const wp_numop *no);
WP_INTERNAL bool wpc_op_const(cctx *c, uint8_t t, uint64_t bits);
WP_INTERNAL bool wpc_op_fc(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_table_get_set(cctx *c, const ins *in);
WP_INTERNAL bool wpc_op_ref(cctx *c, const ins *in);

/* compile_simd.c */
/* Validate and translate a 0xFD instruction (decoded by read_simd). */
WP_INTERNAL bool wpc_op_simd(cctx *c, const ins *in);

#endif
