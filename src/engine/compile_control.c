/*
 * compile_control.c - validation and translation of control instructions
 * (block, loop, if, else, end, br, br_if, br_table, return, calls), select,
 * local and global accesses.
 * compile_func.c describes the design.
 */
#include "compile_func.h"

bool wpc_op_block(cctx *c, const ins *in)
{
    const wasmplug_valtype *params, *results;
    uint32_t np, nr;
    TRY(wpc_block_type(c, in->bt, &params, &np, &results, &nr));
    cval cond = { T_I32, NONE };
    cbranch cb = { NONE, false, NONE, 0 };
    if (in->op == 0x04) {
        TRY(wpc_pop_expect(c, T_I32, &cond));
        cb = wpc_take_cond(c, cond, c->nvals);
    }
    /* No reference to a local written inside may cross into the construct
     * (see the top); the params become canonical entries. */
    if (LIVE) {
        uint64_t written = c->block < c->nblocks ? c->wmask[c->block] : UINT64_MAX;
        for (uint32_t i = c->nrefs; i-- > 0;)
            if (written & local_bit(c->vals[c->refs[i]].slot))
                wpc_materialize(c, i);
        wpc_materialize_from(c, c->nvals >= np ? c->nvals - np : 0);
        wpc_materialize_consts_from(c, c->nvals >= np ? c->nvals - np : 0);
    }
    c->block++;
    TRY(wpc_pop_vals(c, params, np));
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
                wpc_emit_op(c, WP_OP_CONST);
                emit_u32(c, c->lslots + k);
                emit_u64(c, c->consts[k]);
            }
        }
        if (LIVE) {
            wpc_place_label(c);
            label = wpc_emit_op(c, WP_OP_FUEL);
            fuel_cell = (uint32_t)c->ncode;
            emit_u64(c, 0);
        }
    } else if (kind == FK_IF && LIVE) {
        else_instr = wpc_emit_cbranch(c, &cb, true, &else_cell);
    }
    TRY(wpc_push_ctrl(c, kind, params, np, results, nr));
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
    TRY(wpc_pop_vals(c, f->results, f->nresults));
    if (c->nvals != f->height)
        return wpc_invalid(c, "type mismatch: %zu extra value(s) at the end of the block",
                       c->nvals - f->height);
    return true;
}

bool wpc_op_else(cctx *c, const ins *in)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    if (f->kind != FK_IF)
        return wpc_malformed(c, c->r.base + in->offset, "END opcode expected (else without if)");
    TRY(close_arm(c, f));
    if (LIVE) {
        wpc_emit_moves(c, f, c->scratch, f->nresults);
        TRY(wpc_emit_jump(c, WP_OP_BR, NONE, f));
    }
    if (f->else_instr != NONE) {
        wpc_place_label(c);
        wpc_patch_rel(c, f->else_instr, f->else_cell, (uint32_t)c->ncode);
        f->else_instr = NONE;
    }
    f->kind = FK_ELSE;
    f->unreachable = false;
    c->dead = f->entry_dead;
    wpc_truncate_stack(c, f->height);
    return wpc_push_types(c, f->params, f->nparams);
}

/* A block's or if's end reached only by paths that each wrote its single
 * numeric result just before (fall: the path falling into the end, NONE
 * when there is none or it is unknown): remember them for op_local. */
static void note_renamable(cctx *c, const cframe *f, bool live_after, uint32_t fall)
{
    if (c->nomem || f->nresults != 1 || !is_num((uint8_t)f->results[0]) ||
        f->else_instr != NONE || (live_after && fall == NONE) ||
        !(live_after || f->reached))
        return;
    for (uint32_t i = f->fixups; i != NONE; i = c->fixups[i].next)
        if (c->fixups[i].result_cell == NONE)
            return;
    c->ren_at = (uint32_t)c->ncode;
    c->ren_slot = canon(c, f->height);
    c->ren_fixups = f->fixups;
    c->ren_fall = live_after ? fall : NONE;
}

bool wpc_op_end(cctx *c)
{
    cframe *f = &c->ctrls[c->nctrls - 1];
    c->ren_at = NONE;
    TRY(close_arm(c, f));
    if (f->kind == FK_IF) {
        /* if without else: the false edge carries the params as results */
        bool same = f->nparams == f->nresults;
        for (uint32_t i = 0; same && i < f->nparams; i++)
            same = f->params[i] == f->results[i];
        if (!same)
            return wpc_invalid(c, "type mismatch: if without else must have the same params "
                              "and results");
    }
    bool fallthrough = LIVE;
    switch (f->kind) {
    case FK_FUNC:
        if (fallthrough) {
            if (f->nresults == 1)
                wpc_retarget_last(c, &c->scratch[0], f->height, 0);
            wpc_emit_return(c, c->scratch, f->nresults, f->height);
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
        uint32_t fall = NONE; /* the cell that wrote the result on the fallthrough */
        if (fallthrough) {
            size_t before = c->ncode;
            if (f->nresults == 1 && c->last_dst != NONE && !c->nomem &&
                c->scratch[0].slot == canon(c, f->height) &&
                c->code[c->last_dst].u32 == c->scratch[0].slot && wpc_writes_last(c->last_op))
                fall = c->last_dst; /* computed in place by the last instruction */
            wpc_emit_moves(c, f, c->scratch, f->nresults);
            if (c->ncode != before)
                fall = f->nresults == 1 ? wpc_result_cell(c, canon(c, f->height)) : NONE;
        } else if (f->fixups != NONE && c->last_op == WP_OP_BR && !c->nomem &&
                   c->fixups[f->fixups].instr + 2 == c->ncode) {
            /* A BR to the very next instruction (its values already moved):
             * fall through instead. */
            fall = c->fixups[f->fixups].result_cell;
            c->ncode -= 2;
            f->fixups = c->fixups[f->fixups].next;
            c->last_op = WP_OP_COUNT;
            live_after = true;
        }
        if (f->else_instr != NONE) {
            wpc_patch_rel(c, f->else_instr, f->else_cell, (uint32_t)c->ncode);
            f->reached = true;
        }
        if (f->reached)
            wpc_place_label(c);
        for (uint32_t i = f->fixups; i != NONE; i = c->fixups[i].next)
            wpc_patch_rel(c, c->fixups[i].instr, c->fixups[i].cell, (uint32_t)c->ncode);
        note_renamable(c, f, live_after, fall);
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
        TRY(wpc_push_entry(c, v));
    }
    return true;
}

bool wpc_op_br(cctx *c, const ins *in)
{
    cframe *f;
    TRY(wpc_get_label(c, in->x, &f));
    const wasmplug_valtype *types;
    uint32_t n;
    wpc_label_types(f, &types, &n);
    TRY(wpc_pop_vals(c, types, n));
    if (LIVE) {
        if (n == 1)
            wpc_retarget_last(c, &c->scratch[0], c->nvals,
                          f->kind == FK_FUNC ? 0 : canon(c, f->height));
        TRY(wpc_emit_branch_path(c, f, c->scratch, n, c->nvals));
    }
    wpc_set_unreachable(c);
    return true;
}

bool wpc_op_br_if(cctx *c, const ins *in)
{
    cframe *f;
    TRY(wpc_get_label(c, in->x, &f));
    cval cond;
    TRY(wpc_pop_expect(c, T_I32, &cond));
    const wasmplug_valtype *types;
    uint32_t n;
    wpc_label_types(f, &types, &n);
    size_t cond_pos = c->nvals;
    TRY(wpc_pop_vals(c, types, n));
    size_t pos = c->nvals;
    if (LIVE) {
        cbranch cb = wpc_take_cond(c, cond, cond_pos);
        if (!wpc_needs_moves(c, f, c->scratch, n)) {
            TRY(wpc_emit_cjump(c, &cb, false, f));
        } else {
            uint32_t rel;
            uint32_t skip = wpc_emit_cbranch(c, &cb, true, &rel);
            TRY(wpc_emit_branch_path(c, f, c->scratch, n, pos));
            wpc_place_label(c);
            wpc_patch_rel(c, skip, rel, (uint32_t)c->ncode);
        }
    }
    /* push_vals(label types): same entries, types refined */
    for (uint32_t i = 0; i < n; i++) {
        cval v = c->scratch[i];
        v.type = (uint8_t)types[i];
        if (c->dead)
            v.slot = canon(c, c->nvals);
        TRY(wpc_push_entry(c, v));
    }
    return true;
}

bool wpc_op_br_table(cctx *c, const ins *in)
{
    uint32_t nt = in->n;
    cval index;
    TRY(wpc_pop_expect(c, T_I32, &index));
    cframe *dflt;
    TRY(wpc_get_label(c, c->targets[nt], &dflt));
    const wasmplug_valtype *types;
    uint32_t arity;
    wpc_label_types(dflt, &types, &arity);
    for (uint32_t i = 0; i < nt; i++) {
        cframe *f;
        TRY(wpc_get_label(c, c->targets[i], &f));
        const wasmplug_valtype *ft;
        uint32_t fn;
        wpc_label_types(f, &ft, &fn);
        if (fn != arity)
            return wpc_invalid(c, "type mismatch: br_table labels have %u and %u values", fn, arity);
        TRY(wpc_pop_vals(c, ft, fn));
        for (uint32_t k = 0; k < fn; k++) {
            cval v = c->scratch[k];
            if (c->dead)
                v.slot = canon(c, c->nvals);
            TRY(wpc_push_entry(c, v));
        }
    }
    TRY(wpc_pop_vals(c, types, arity));
    if (LIVE) {
        size_t pos = c->nvals;
        const cval *v = c->scratch;
        uint32_t instr = wpc_emit_op(c, WP_OP_BR_TABLE);
        emit_src(c, index.slot);
        emit_u32(c, nt);
        uint32_t first = (uint32_t)c->ncode;
        for (uint32_t i = 0; i <= nt; i++)
            emit_u64(c, 0);
        /* Direct jumps where no value moves, landing pads for the rest. */
        bool pads = false;
        for (uint32_t i = 0; i <= nt; i++) {
            cframe *f = &c->ctrls[c->nctrls - 1 - c->targets[i]];
            if (wpc_needs_moves(c, f, v, arity))
                pads = true;
            else if (f->kind == FK_LOOP)
                wpc_patch_rel(c, instr, first + i, f->label);
            else
                TRY(wpc_add_fixup(c, f, instr, first + i));
        }
        if (pads) {
            for (uint32_t i = 0; i <= nt; i++) {
                cframe *f = &c->ctrls[c->nctrls - 1 - c->targets[i]];
                if (!wpc_needs_moves(c, f, v, arity))
                    continue;
                if (f->pad == NONE) {
                    f->pad = (uint32_t)c->ncode;
                    TRY(wpc_emit_branch_path(c, f, v, arity, pos));
                }
                wpc_patch_rel(c, instr, first + i, f->pad);
            }
            for (uint32_t i = 0; i <= nt; i++)
                c->ctrls[c->nctrls - 1 - c->targets[i]].pad = NONE;
        }
    }
    wpc_set_unreachable(c);
    return true;
}

bool wpc_op_return(cctx *c)
{
    const wp_functype *t = c->ftype;
    TRY(wpc_pop_vals(c, wp_functype_results(t), t->nresults));
    if (LIVE) {
        if (t->nresults == 1)
            wpc_retarget_last(c, &c->scratch[0], c->nvals, 0);
        wpc_emit_return(c, c->scratch, t->nresults, c->nvals);
    }
    wpc_set_unreachable(c);
    return true;
}

/* Arguments are on the stack top; results replace them. */
static bool do_call(cctx *c, const wp_functype *t, wp_op op, uint32_t x, uint32_t y,
                    uint32_t index_slot)
{
    if (LIVE) {
        size_t first = c->nvals >= t->nparams ? c->nvals - t->nparams : 0;
        wpc_materialize_from(c, first);
        wpc_materialize_consts_from(c, first);
    }
    TRY(wpc_pop_vals(c, wp_functype_params(t), t->nparams));
    uint32_t base = canon(c, c->nvals);
    if (LIVE) {
        wpc_emit_op(c, op);
        emit_u32(c, x);
        if (op == WP_OP_CALL_INDIRECT) {
            emit_u32(c, y);
            emit_src(c, index_slot);
        }
        emit_u32(c, base);
    }
    return wpc_push_types(c, wp_functype_results(t), t->nresults);
}

bool wpc_op_call(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->x >= m->nfuncs)
        return wpc_invalid(c, "unknown function %u", in->x);
    uint32_t ti = m->funcs[in->x].type_index;
    if (ti >= m->ntypes)
        return wpc_invalid(c, "unknown type %u", ti);
    wp_op op = in->x < m->num_imported_funcs ? WP_OP_CALL_IMPORT : WP_OP_CALL;
    return do_call(c, &m->types[ti], op, in->x, 0, NONE);
}

bool wpc_op_call_indirect(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->y >= m->ntables)
        return wpc_invalid(c, "unknown table %u", in->y);
    if (in->x >= m->ntypes)
        return wpc_invalid(c, "unknown type %u", in->x);
    if (m->tables[in->y].elem != WASMPLUG_FUNCREF)
        return wpc_invalid(c, "type mismatch: call_indirect through a table of externref");
    if (in->y != 0)
        c->m->features |= WP_FEATURE_REFERENCE_TYPES;
    cval index;
    TRY(wpc_pop_expect(c, T_I32, &index));
    return do_call(c, &m->types[in->x], WP_OP_CALL_INDIRECT, in->x, in->y, index.slot);
}

bool wpc_op_select(cctx *c, const ins *in)
{
    cval cond, b, a;
    if (in->op == 0x1C && in->n != 1)
        return wpc_invalid(c, "invalid result arity %u", in->n);
    TRY(wpc_pop_expect(c, T_I32, &cond));
    uint8_t t;
    if (in->op == 0x1C) {
        c->m->features |= WP_FEATURE_REFERENCE_TYPES;
        t = in->t;
        TRY(wpc_pop_expect(c, t, &b));
        TRY(wpc_pop_expect(c, t, &a));
    } else {
        TRY(wpc_pop_expect(c, T_ANY, &b));
        TRY(wpc_pop_expect(c, T_ANY, &a));
        if (!is_numvec(a.type) || !is_numvec(b.type))
            return wpc_invalid(c, "type mismatch: select without a type needs numeric operands, "
                              "got %s and %s", type_name(a.type), type_name(b.type));
        if (a.type != b.type && a.type != T_ANY && b.type != T_ANY)
            return wpc_invalid(c, "type mismatch: select operands %s and %s", type_name(a.type),
                           type_name(b.type));
        t = a.type == T_ANY ? b.type : a.type;
    }
    uint32_t d;
    TRY(wpc_push(c, t, &d));
    if (LIVE) {
        wpc_emit_op(c, t == T_V128 ? WP_OP_V128_SELECT : WP_OP_SELECT);
        emit_dst(c, d);
        emit_src(c, cond.slot);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
    }
    return true;
}

bool wpc_op_local(cctx *c, const ins *in)
{
    uint32_t x = in->x;
    if (x >= c->nlocals)
        return wpc_invalid(c, "unknown local %u", x);
    uint8_t t = wpc_local_type(c, x);
    uint32_t ls = wpc_local_slot(c, x);
    if (in->op == 0x20) {
        cval v = { t, ls };
        return wpc_push_entry(c, v);
    }
    /* local.set / local.tee */
    size_t pos = c->nvals ? c->nvals - 1 : 0;
    bool fuse = LIVE && c->last_dst < c->ncode && c->nvals > c->ctrls[c->nctrls - 1].height &&
                is_canonical(c, pos) && c->code[c->last_dst].u32 == canon(c, pos) &&
                !wpc_local_referenced(c, ls);
    /* The result of the block that just ended, every path into its end
     * having written it right before the jump (or the end): those writes
     * go to the local instead (slot renaming), and no copy is needed. The
     * local is written a jump earlier than it would have been, with nothing
     * reading it in between; no stack entry may refer to it. */
    bool rename = LIVE && !fuse && c->ren_at == c->ncode && c->nvals > c->ctrls[c->nctrls - 1].height &&
                  canon(c, pos) == c->ren_slot && c->vals[pos].slot == c->ren_slot &&
                  t != T_V128 && !wpc_local_referenced(c, ls);
    cval v;
    TRY(wpc_pop_expect(c, t, &v));
    if (LIVE) {
        if (fuse) {
            /* the producing instruction writes the local directly */
            c->code[c->last_dst].u32 = ls;
            v.slot = ls;
        } else if (rename) {
            for (uint32_t i = c->ren_fixups; i != NONE; i = c->fixups[i].next)
                c->code[c->fixups[i].result_cell].u32 = ls;
            if (c->ren_fall != NONE)
                c->code[c->ren_fall].u32 = ls;
            c->ren_at = NONE;
            v.slot = ls;
        } else {
            wpc_materialize_local(c, ls);
            wpc_emit_move(c, t, ls, v.slot);
        }
    }
    c->last_dst = NONE;
    if (in->op == 0x22) {
        v.type = t;
        if (c->dead)
            v.slot = canon(c, c->nvals);
        return wpc_push_entry(c, v);
    }
    return true;
}

bool wpc_op_global(cctx *c, const ins *in)
{
    const wasmplug_module *m = c->m;
    if (in->x >= m->nglobals)
        return wpc_invalid(c, "unknown global %u", in->x);
    const wp_global *g = &m->globals[in->x];
    if (in->op == 0x23) {
        uint32_t d;
        TRY(wpc_push(c, (uint8_t)g->type, &d));
        if (LIVE) {
            wpc_emit_op(c, g->type == WASMPLUG_V128 ? WP_OP_V128_GLOBAL_GET : WP_OP_GLOBAL_GET);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
    if (!g->mutable_)
        return wpc_invalid(c, "global is immutable: global %u", in->x);
    cval v;
    TRY(wpc_pop_expect(c, (uint8_t)g->type, &v));
    if (LIVE) {
        wpc_emit_op(c, g->type == WASMPLUG_V128 ? WP_OP_V128_GLOBAL_SET : WP_OP_GLOBAL_SET);
        emit_u32(c, in->x);
        emit_src(c, v.slot);
    }
    return true;
}
