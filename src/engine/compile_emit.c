/*
 * compile_emit.c - errors, code emission and its peepholes (COPY2, retargeting),
 * the compile-time operand stack (local references, materialization),
 * control frames, labels and branch paths of the body compiler.
 * compile_func.c describes the design.
 */
#include "compile_func.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

const wasmplug_valtype wpc_single[] = {
    WASMPLUG_I32, WASMPLUG_I64, WASMPLUG_F32, WASMPLUG_F64, WASMPLUG_FUNCREF, WASMPLUG_EXTERNREF,
    WASMPLUG_V128,
};

bool wpc_fail_at(cctx *c, wasmplug_status st, uint64_t offset, const char *fmt, ...)
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
bool wpc_invalid(cctx *c, const char *fmt, ...)
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

bool wpc_malformed(cctx *c, const uint8_t *at, const char *msg)
{
    return wpc_fail_at(c, WASMPLUG_ERR_MALFORMED, (uint64_t)(at - c->r.base), "%s", msg);
}

bool wpc_unsupported(cctx *c, const uint8_t *at, const char *feature)
{
    return wpc_fail_at(c, WASMPLUG_ERR_UNSUPPORTED, (uint64_t)(at - c->r.base),
                   "unsupported feature: %s", feature);
}

bool wpc_reader_failed(cctx *c)
{
    return wpc_malformed(c, c->r.error_at, c->r.error ? c->r.error : "unexpected end");
}

bool wpc_nomem(cctx *c)
{
    c->nomem = true;
    return wpc_fail_at(c, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory compiling");
}

bool wpc_grow(cctx *c, void *arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    if (!wp_grow(c->e, (void **)arr, cap, need, elem))
        return wpc_nomem(c);
    return true;
}

/* ------------------------------------------------------------------------ */
/* Code emission                                                            */
/* ------------------------------------------------------------------------ */

bool wpc_grow_code(cctx *c)
{
    if (c->nomem || c->ncode >= (size_t)INT32_MAX ||
        !wp_grow(c->e, (void **)&c->code, &c->code_cap, c->ncode + 1, sizeof(wp_cell))) {
        c->nomem = true;
        return false;
    }
    return true;
}

uint32_t wpc_emit_op(cctx *c, wp_op op)
{
    c->last_dst = NONE;
    c->moved_cell = NONE;
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
uint32_t wpc_last_instr_is(const cctx *c, wp_op op, uint32_t cells)
{
    uint32_t n = c->nrecent;
    while (n && c->recent[n - 1] >= c->ncode) /* removed since */
        n--;
    uint32_t at = n ? c->recent[n - 1] : NONE;
    if (at == NONE || c->nomem || at + cells != c->ncode || c->code[at].u64 != c->opcells[op].u64)
        return NONE;
    return at;
}

static void emit_copy(cctx *c, uint32_t d, uint32_t a)
{
    if (d == a)
        return;
    /* Right after another COPY (no label between, as at the moves of a
     * loop's back edge): both become one COPY2, one dispatch instead of two. */
    uint32_t last = wpc_last_instr_is(c, WP_OP_COPY, 3);
    if (last != NONE) {
        c->code[last] = c->opcells[WP_OP_COPY2];
        c->last_op = WP_OP_COPY2;
    } else {
        wpc_emit_op(c, WP_OP_COPY);
    }
    /* (d is the pair's last write: a COPY2 may have it renamed as well) */
    c->moved_cell = (uint32_t)c->ncode;
    emit_u32(c, d);
    emit_src(c, a);
}

/* Copy a value of type t (v128: both slots). */
void wpc_emit_move(cctx *c, uint8_t t, uint32_t d, uint32_t a)
{
    if (t != T_V128) {
        emit_copy(c, d, a);
    } else if (d != a) {
        wpc_emit_op(c, WP_OP_V128_COPY);
        emit_u32(c, d);
        emit_src(c, a);
    }
}

void wpc_patch_rel(cctx *c, uint32_t instr, uint32_t cell, uint32_t target)
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

/*
 * The condition of br_if/if (popped from cond_pos): an i32.eqz or an
 * integer compare emitted last whose result nothing else reads is removed,
 * and the branch does its work (fuse_eqz; compare-and-branch operations).
 */
cbranch wpc_take_cond(cctx *c, cval cond, size_t cond_pos)
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
uint32_t wpc_emit_cbranch(cctx *c, const cbranch *cb, bool on_false, uint32_t *rel)
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
    uint32_t last = wp_fusions[op].add_br ? wpc_last_instr_is(c, WP_OP_I32_ADD_IMM, 4) : NONE;
    uint32_t instr;
    if (last != NONE && !c->dead && c->code[last + 1].u32 == cb->a) {
        uint32_t d = c->code[last + 1].u32, a = c->code[last + 2].u32;
        uint64_t imm = c->code[last + 3].u64;
        c->ncode = last;
        instr = wpc_emit_op(c, (wp_op)wp_fusions[op].add_br);
        emit_u32(c, d);
        emit_src(c, a);
        emit_u64(c, imm);
    } else {
        instr = wpc_emit_op(c, op);
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
void wpc_retarget_last(cctx *c, cval *v, size_t pos, uint32_t dst)
{
    if (c->dead || c->last_dst == NONE || c->nomem || v->slot != canon(c, pos) ||
        c->code[c->last_dst].u32 != v->slot)
        return;
    c->code[c->last_dst].u32 = dst;
    v->slot = dst;
    c->moved_cell = wpc_writes_last(c->last_op) ? c->last_dst : NONE;
    c->last_dst = NONE;
}

/*
 * Whether op, producing a value with its first (or, for the pairs, its
 * second) destination operand, writes it after reading every operand, so
 * that renaming that destination cannot change what the operation reads:
 * plain numeric operations and their _IMM forms, loads, constants, moves,
 * selects, global reads. Not branches (ADD_BR_IF... writes its sum before
 * the compare reads b), calls or SIMD operations.
 */
bool wpc_writes_last(wp_op op)
{
    switch (op) {
    case WP_OP_CONST: case WP_OP_COPY: case WP_OP_COPY2: case WP_OP_I32_ADD2:
    case WP_OP_F32_ADD2: case WP_OP_F64_ADD2: case WP_OP_I32_ADD_SHL: case WP_OP_SELECT:
    case WP_OP_GLOBAL_GET:
        return true;
    default:
        return wp_is_memory_op(op) || (op >= WP_OP_I32_EQZ && op <= WP_OP_I64_GE_U_IMM);
    }
}

/* The destination cell that wrote slot (the label slot of a single-value
 * branch or end) with the instruction emitted last, or NONE. */
uint32_t wpc_result_cell(const cctx *c, uint32_t slot)
{
    if (c->nomem || c->moved_cell == NONE || c->code[c->moved_cell].u32 != slot)
        return NONE;
    return c->moved_cell;
}

/* A code position control flow can reach from elsewhere: the peephole must
 * not fuse across it. */
void wpc_place_label(cctx *c)
{
    c->last_dst = NONE;
    c->nrecent = 0;
    c->ren_at = NONE;
}

/* ------------------------------------------------------------------------ */
/* Operand stack                                                            */
/* ------------------------------------------------------------------------ */

static void refs_remove_at(cctx *c, uint32_t i)
{
    memmove(&c->refs[i], &c->refs[i + 1], (c->nrefs - i - 1) * sizeof c->refs[0]);
    c->nrefs--;
}

/* Copy the local a stack entry refers to into its canonical slot. */
void wpc_materialize(cctx *c, uint32_t ref_index)
{
    uint32_t pos = c->refs[ref_index];
    wpc_emit_move(c, c->vals[pos].type, canon(c, pos), c->vals[pos].slot);
    c->vals[pos].slot = canon(c, pos);
    refs_remove_at(c, ref_index);
}

void wpc_materialize_from(cctx *c, size_t pos)
{
    while (c->nrefs && c->refs[c->nrefs - 1] >= pos)
        wpc_materialize(c, c->nrefs - 1);
}

void wpc_materialize_local(cctx *c, uint32_t slot)
{
    for (uint32_t i = c->nrefs; i-- > 0;)
        if (c->vals[c->refs[i]].slot == slot)
            wpc_materialize(c, i);
}

bool wpc_local_referenced(const cctx *c, uint32_t slot)
{
    for (uint32_t i = 0; i < c->nrefs; i++)
        if (c->vals[c->refs[i]].slot == slot)
            return true;
    return false;
}

/* Copy constant-slot entries at positions >= pos into their canonical
 * slots (constants need no protection from writes, only contiguity). */
void wpc_materialize_consts_from(cctx *c, size_t pos)
{
    for (size_t i = pos; i < c->nvals; i++) {
        if (c->vals[i].slot >= c->lslots && c->vals[i].slot < c->base) {
            emit_copy(c, canon(c, i), c->vals[i].slot);
            c->vals[i].slot = canon(c, i);
        }
    }
}

void wpc_truncate_stack(cctx *c, size_t height)
{
    c->nvals = height;
    while (c->nrefs && c->refs[c->nrefs - 1] >= height)
        c->nrefs--;
    c->last_dst = NONE;
}

/* Push an entry whose value is at v.slot (canonical or a local). */
bool wpc_push_entry(cctx *c, cval v)
{
    size_t pos = c->nvals;
    if (!wpc_grow(c, &c->vals, &c->vals_cap, pos + 1, sizeof(cval)) ||
        !wpc_grow(c, &c->soff, &c->soff_cap, pos + 2, sizeof(uint32_t)))
        return false;
    uint32_t top = c->soff[pos] + width(v.type);
    if ((uint64_t)c->base + top > WP_MAX_FRAME_SLOTS)
        return wpc_fail_at(c, WASMPLUG_ERR_LIMIT, c->cur.offset,
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
                wpc_emit_move(c, v.type, canon(c, pos), v.slot);
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
bool wpc_push(cctx *c, uint8_t t, uint32_t *slot)
{
    cval v;
    v.type = t;
    v.slot = canon(c, c->nvals);
    if (slot)
        *slot = v.slot;
    return wpc_push_entry(c, v);
}

/* The spec's pop_val(expect); expect T_ANY accepts anything. */
bool wpc_pop_expect(cctx *c, uint8_t expect, cval *out)
{
    const cframe *f = &c->ctrls[c->nctrls - 1];
    out->type = T_ANY;
    out->slot = NONE;
    if (c->nvals == f->height) {
        if (f->unreachable)
            return true; /* Unknown */
        if (expect == T_ANY)
            return wpc_invalid(c, "type mismatch: expected a value, but the stack is empty");
        return wpc_invalid(c, "type mismatch: expected %s, but the stack is empty",
                       type_name(expect));
    }
    size_t pos = c->nvals - 1;
    cval v = c->vals[pos];
    if (expect != T_ANY && v.type != T_ANY && v.type != expect)
        return wpc_invalid(c, "type mismatch: expected %s, got %s", type_name(expect),
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
bool wpc_pop_vals(cctx *c, const wasmplug_valtype *types, uint32_t n)
{
    if (!wpc_grow(c, &c->scratch, &c->scratch_cap, n, sizeof(cval)))
        return false;
    for (uint32_t i = n; i-- > 0;)
        if (!wpc_pop_expect(c, (uint8_t)types[i], &c->scratch[i]))
            return false;
    return true;
}

bool wpc_push_types(cctx *c, const wasmplug_valtype *types, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (!wpc_push(c, (uint8_t)types[i], NULL))
            return false;
    return true;
}

/* The rest of the current frame is unreachable. */
void wpc_set_unreachable(cctx *c)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    wpc_truncate_stack(c, f->height);
    f->unreachable = true;
    c->dead = true;
}

/* ------------------------------------------------------------------------ */
/* Control frames and branches                                              */
/* ------------------------------------------------------------------------ */

bool wpc_push_ctrl(cctx *c, uint8_t kind, const wasmplug_valtype *params, uint32_t np,
                      const wasmplug_valtype *results, uint32_t nr)
{
    if (!wpc_grow(c, &c->ctrls, &c->ctrls_cap, c->nctrls + 1, sizeof(cframe)))
        return false;
    c->ren_at = NONE; /* (a loop's params come from its back edges too) */
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
    return wpc_push_types(c, params, np);
}

void wpc_label_types(const cframe *f, const wasmplug_valtype **types, uint32_t *n)
{
    if (f->kind == FK_LOOP) {
        *types = f->params;
        *n = f->nparams;
    } else {
        *types = f->results;
        *n = f->nresults;
    }
}

bool wpc_add_fixup(cctx *c, cframe *f, uint32_t instr, uint32_t cell)
{
    if (!wpc_grow(c, &c->fixups, &c->fixups_cap, c->nfixups + 1, sizeof(fixup)))
        return false;
    fixup *x = &c->fixups[c->nfixups];
    x->instr = instr;
    x->cell = cell;
    x->next = f->fixups;
    x->result_cell = NONE;
    f->fixups = (uint32_t)c->nfixups++;
    f->reached = true;
    return true;
}

/* Emit a branch-type instruction (BR: cond NONE, else BR_IF / BR_IF_NOT)
 * to frame f's label. */
bool wpc_emit_jump(cctx *c, wp_op op, uint32_t cond, cframe *f)
{
    uint32_t result_cell = cond == NONE && f->kind != FK_LOOP && f->nresults == 1
                               ? wpc_result_cell(c, canon(c, f->height))
                               : NONE;
    uint32_t instr = wpc_emit_op(c, op);
    if (cond != NONE)
        emit_u32(c, cond);
    uint32_t cell = (uint32_t)c->ncode;
    emit_u64(c, 0);
    if (f->kind == FK_LOOP) {
        wpc_patch_rel(c, instr, cell, f->label);
        return true;
    }
    TRY(wpc_add_fixup(c, f, instr, cell));
    c->fixups[f->fixups].result_cell = result_cell;
    return true;
}

/* A conditional branch (cb, see emit_cbranch) to frame f's label. */
bool wpc_emit_cjump(cctx *c, const cbranch *cb, bool on_false, cframe *f)
{
    uint32_t cell;
    uint32_t instr = wpc_emit_cbranch(c, cb, on_false, &cell);
    if (f->kind == FK_LOOP) {
        wpc_patch_rel(c, instr, cell, f->label);
        return true;
    }
    return wpc_add_fixup(c, f, instr, cell);
}

/* Move n values (v[0..n), at stack positions [pos, pos+n)) to fp[0..) and
 * return; value i goes to slot o, the slots of the values before it. A
 * local below o would be overwritten by the earlier results, so such values
 * go through their (free) canonical slot first. Ascending copies are safe: a
 * canonical source of value i sits at or above slot o. */
void wpc_emit_return(cctx *c, const cval *v, uint32_t n, size_t pos)
{
    uint32_t o = 0;
    for (uint32_t i = 0; i < n; o += width(v[i].type), i++)
        if (v[i].slot < o)
            wpc_emit_move(c, v[i].type, canon(c, pos + i), v[i].slot);
    o = 0;
    for (uint32_t i = 0; i < n; o += width(v[i].type), i++)
        wpc_emit_move(c, v[i].type, o, v[i].slot < o ? canon(c, pos + i) : v[i].slot);
    wpc_emit_op(c, WP_OP_RETURN);
}

/* Does a branch to f need to move its values (v[0..n))? */
bool wpc_needs_moves(const cctx *c, const cframe *f, const cval *v, uint32_t n)
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
void wpc_emit_moves(cctx *c, const cframe *f, const cval *v, uint32_t n)
{
    uint32_t dst = canon(c, f->height);
    for (uint32_t i = 0; i < n; dst += width(v[i].type), i++)
        wpc_emit_move(c, v[i].type, dst, v[i].slot);
}

/* The complete taken path of a branch to f: moves, then BR or RETURN. */
bool wpc_emit_branch_path(cctx *c, cframe *f, const cval *v, uint32_t n, size_t pos)
{
    if (f->kind == FK_FUNC) {
        wpc_emit_return(c, v, n, pos);
        return true;
    }
    wpc_emit_moves(c, f, v, n);
    return wpc_emit_jump(c, WP_OP_BR, NONE, f);
}

bool wpc_get_label(cctx *c, uint32_t depth, cframe **out)
{
    *out = &c->ctrls[c->nctrls - 1];
    if (depth >= c->nctrls)
        return wpc_invalid(c, "unknown label %u", depth);
    *out = &c->ctrls[c->nctrls - 1 - depth];
    return true;
}

/* Resolve a block type into params and results. */
bool wpc_block_type(cctx *c, int64_t bt, const wasmplug_valtype **params, uint32_t *np,
                       const wasmplug_valtype **results, uint32_t *nr)
{
    *params = NULL;
    *np = 0;
    *results = NULL;
    *nr = 0;
    if (bt >= 0) {
        if ((uint64_t)bt >= c->m->ntypes)
            return wpc_invalid(c, "unknown type %llu", (unsigned long long)bt);
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
    for (size_t i = 0; i < sizeof wpc_single / sizeof wpc_single[0]; i++) {
        if (bt == (int64_t)wpc_single[i] - 0x80) {
            *results = &wpc_single[i];
            *nr = 1;
            return true;
        }
    }
    return false; /* read_instr only lets valid block types through */
}
