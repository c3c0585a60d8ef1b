/*
 * compile_numeric.c - validation and translation of memory, numeric,
 * constant, bulk-memory, table and reference instructions, with the
 * superinstruction fusions that apply to them.
 * compile_func.c describes the design.
 */
#include "compile_func.h"

bool wpc_need_memory(cctx *c)
{
    if (c->m->nmemories == 0)
        return wpc_invalid(c, "unknown memory 0");
    return true;
}

static bool need_table(cctx *c, uint32_t x)
{
    if (x >= c->m->ntables)
        return wpc_invalid(c, "unknown table %u", x);
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
            wpc_emit_op(c, by_imm ? WP_OP_F64_MUL_ADD_STORE_ADDR_IMM : WP_OP_F64_MUL_ADD_STORE);
            emit_src(c, addr.slot);
            emit_u64(c, off);
            emit_src(c, k);
            emit_src(c, b);
            emit_u64(c, off2);
            return true;
        }
    }
    c->ncode = start;
    wpc_emit_op(c, op);
    emit_src(c, addr.slot);
    emit_src(c, x);
    emit_u64(c, off);
    return true;
}

bool wpc_op_memory(cctx *c, const ins *in)
{
    const wp_memop *mo = &wp_mem_ops[in->op - 0x28];
    TRY(wpc_need_memory(c));
    if (in->align > mo->align)
        return wpc_invalid(c, "alignment must not be larger than natural (2^%u > %u bytes)",
                       in->align, 1u << mo->align);
    cval addr, val;
    wp_op op = (wp_op)mo->op;
    uint64_t imm = in->imm;
    if (mo->store) {
        TRY(wpc_pop_expect(c, mo->type, &val));
        TRY(wpc_pop_expect(c, T_I32, &addr));
        if (LIVE) {
            /* (the add can only be last when val needed no code: a local
             * or constant slot, read at the same point either way) */
            if (op == WP_OP_F64_STORE && take_update(c, addr, val, c->nvals + 1, imm))
                return true;
            uint32_t a, b;
            if (take_addr_sum(c, addr, c->nvals, &op, &a, &b, &imm)) {
                wpc_emit_op(c, op);
                emit_src(c, a);
                emit_src(c, b);
            } else {
                take_addr_add(c, &addr, c->nvals, &op, &imm);
                wpc_emit_op(c, op);
                emit_src(c, addr.slot);
            }
            emit_src(c, val.slot);
            emit_u64(c, imm);
        }
        return true;
    }
    TRY(wpc_pop_expect(c, T_I32, &addr));
    uint32_t a = NONE, b = NONE;
    if (LIVE && !take_addr_sum(c, addr, c->nvals, &op, &a, &b, &imm))
        take_addr_add(c, &addr, c->nvals, &op, &imm);
    uint32_t d;
    TRY(wpc_push(c, mo->type, &d));
    if (LIVE) {
        wpc_emit_op(c, op);
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
 * f32/f64 add/sub/mul (op) of a value the load of that type emitted last
 * just loaded (F64_LOAD, F32_LOAD, or their _ADDR_IMM forms, or
 * F32_LOAD_ADDR_ADD; b, or a when op is commutative; each is read by nothing
 * else): the load is removed and *op becomes the <op>_LOAD form of the same
 * addressing, *a the other operand, *addr, *index (NONE unless the address
 * is a sum) and *imm the load's address operands.
 */
static bool take_load(cctx *c, wp_op *op, cval *a, cval b, uint32_t *addr, uint32_t *index,
                      uint64_t *imm)
{
    if (c->dead || c->nomem || c->last_dst == NONE)
        return false;
    bool f32 = *op == WP_OP_F32_ADD || *op == WP_OP_F32_SUB || *op == WP_OP_F32_MUL;
    wp_op l = c->last_op;
    bool by_imm = l == WP_OP_F64_LOAD_ADDR_IMM || l == WP_OP_F32_LOAD_ADDR_IMM;
    bool by_sum = l == WP_OP_F32_LOAD_ADDR_ADD;
    if (f32 ? l != WP_OP_F32_LOAD && l != WP_OP_F32_LOAD_ADDR_IMM && !by_sum
            : l != WP_OP_F64_LOAD && l != WP_OP_F64_LOAD_ADDR_IMM)
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
    *index = by_sum ? c->code[c->last_dst + 2].u32 : NONE;
    *imm = c->code[c->last_dst + 2 + by_sum].u64;
    uint32_t f = wp_fusions[*op].load_op;
    if (by_imm)
        f = wp_fusions[f].addr_imm;
    else if (by_sum)
        f = wp_fusions[f].addr_add;
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

/* The operation running two adds of op's type in a row, or WP_OP_COUNT. */
static wp_op add_pair(wp_op op)
{
    switch (op) {
    case WP_OP_I32_ADD: return WP_OP_I32_ADD2;
    case WP_OP_F32_ADD: return WP_OP_F32_ADD2;
    case WP_OP_F64_ADD: return WP_OP_F64_ADD2;
    default: return WP_OP_COUNT;
    }
}

/*
 * An add (op: i32, f32 or f64) right after another add of its type (no
 * label between: address arithmetic, sums in hash rounds, the sum of a
 * dot product or a filter's taps): that one becomes the pair form
 * (I32_ADD2...) and the caller appends this add's operands to it. The
 * second add runs after the first, so it may read what the first wrote.
 */
static bool take_add_pair(cctx *c, wp_op op)
{
    wp_op pair = add_pair(op);
    uint32_t last = pair == WP_OP_COUNT ? NONE : wpc_last_instr_is(c, op, 4);
    if (last == NONE)
        return false;
    c->code[last] = c->opcells[pair];
    c->last_op = pair;
    return true;
}

bool wpc_op_numeric(cctx *c, const wp_numop *no)
{
    cval a, b = { T_ANY, NONE };
    if (no->b)
        TRY(wpc_pop_expect(c, no->b, &b));
    TRY(wpc_pop_expect(c, no->a, &a));
    if (no->op == WP_NUM_REINTERPRET) {
        /* slots hold bit patterns: only the type changes */
        a.type = no->r;
        return wpc_push_entry(c, a);
    }
    wp_op op = (wp_op)no->op;
    if (op == WP_OP_I32_EQZ && LIVE && !c->nomem && c->last_dst != NONE &&
        (unsigned)c->last_op < WP_OP_COUNT && wp_fusions[c->last_op].negate &&
        a.slot == canon(c, c->nvals) && c->code[c->last_dst].u32 == a.slot) {
        /* i32.eqz of a compare just computed: the opposite compare */
        c->last_op = (wp_op)wp_fusions[c->last_op].negate;
        c->code[c->last_dst - 1] = c->opcells[c->last_op];
        uint32_t last = c->last_dst;
        TRY(wpc_push(c, T_I32, NULL));
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
    uint32_t addr, index;
    if (LIVE && wp_fusions[op].load_op && take_load(c, &op, &a, b, &addr, &index, &imm)) {
        uint32_t d;
        TRY(wpc_push(c, no->r, &d));
        wpc_emit_op(c, op);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, addr);
        if (index != NONE)
            emit_src(c, index);
        emit_u64(c, imm);
        return true;
    }
    if (LIVE && !has_imm && op == WP_OP_I32_ADD && take_shifted(c, &a, &b, c->nvals, &imm)) {
        uint32_t d;
        TRY(wpc_push(c, no->r, &d));
        wpc_emit_op(c, WP_OP_I32_ADD_SHL);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        emit_u64(c, imm);
        return true;
    }
    uint32_t d;
    TRY(wpc_push(c, no->r, &d));
    if (LIVE && !has_imm && take_add_pair(c, op)) {
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        return true;
    }
    if (LIVE) {
        wpc_emit_op(c, has_imm ? (wp_op)wp_fusions[op].imm : op);
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

bool wpc_op_const(cctx *c, uint8_t t, uint64_t bits)
{
    if (LIVE && c->loop_depth > 0) {
        cval v = { t, const_slot(c, bits) };
        if (v.slot != NONE)
            return wpc_push_entry(c, v);
    }
    uint32_t d;
    TRY(wpc_push(c, t, &d));
    if (LIVE) {
        wpc_emit_op(c, WP_OP_CONST);
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
        TRY(wpc_pop_expect(c, T_I32, &v));
        s[i] = v.slot;
    }
    return true;
}

bool wpc_op_fc(cctx *c, const ins *in)
{
    wasmplug_module *m = c->m;
    uint32_t sub = in->op - 0xFC00;
    uint32_t ndatas = m->has_datacount ? m->datacount : m->ndatas;
    uint32_t s[3];
    if (sub < 8) {
        m->features |= WP_FEATURE_SAT_CONV;
        return wpc_op_numeric(c, &wp_sat_ops[sub]);
    }
    m->features |= sub >= 15 ? WP_FEATURE_REFERENCE_TYPES : WP_FEATURE_BULK_MEMORY;
    switch (sub) {
    case 8: /* memory.init */
        TRY(wpc_need_memory(c));
        if (in->x >= ndatas)
            return wpc_invalid(c, "unknown data segment %u", in->x);
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_MEMORY_INIT);
            emit_u32(c, in->x);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 9: /* data.drop */
        if (in->x >= ndatas)
            return wpc_invalid(c, "unknown data segment %u", in->x);
        if (LIVE) {
            wpc_emit_op(c, WP_OP_DATA_DROP);
            emit_u32(c, in->x);
        }
        return true;
    case 10: /* memory.copy */
    case 11: /* memory.fill */
        TRY(wpc_need_memory(c));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            wpc_emit_op(c, sub == 10 ? WP_OP_MEMORY_COPY : WP_OP_MEMORY_FILL);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 12: /* table.init elem x, table y */
        TRY(need_table(c, in->y));
        if (in->x >= m->nelems)
            return wpc_invalid(c, "unknown elem segment %u", in->x);
        if (m->elems[in->x].type != m->tables[in->y].elem)
            return wpc_invalid(c, "type mismatch: element segment %u of %s into table of %s",
                           in->x, type_name((uint8_t)m->elems[in->x].type),
                           type_name((uint8_t)m->tables[in->y].elem));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_INIT);
            emit_u32(c, in->y);
            emit_u32(c, in->x);
            emit_src(c, s[0]);
            emit_src(c, s[1]);
            emit_src(c, s[2]);
        }
        return true;
    case 13: /* elem.drop */
        if (in->x >= m->nelems)
            return wpc_invalid(c, "unknown elem segment %u", in->x);
        if (LIVE) {
            wpc_emit_op(c, WP_OP_ELEM_DROP);
            emit_u32(c, in->x);
        }
        return true;
    case 14: /* table.copy dst x, src y */
        TRY(need_table(c, in->x));
        TRY(need_table(c, in->y));
        if (m->tables[in->x].elem != m->tables[in->y].elem)
            return wpc_invalid(c, "type mismatch: table.copy from %s to %s",
                           type_name((uint8_t)m->tables[in->y].elem),
                           type_name((uint8_t)m->tables[in->x].elem));
        TRY(pop_i32s(c, s, 3));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_COPY);
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
        TRY(wpc_pop_expect(c, T_I32, &n));
        TRY(wpc_pop_expect(c, (uint8_t)m->tables[in->x].elem, &init));
        uint32_t d;
        TRY(wpc_push(c, T_I32, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_GROW);
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
        TRY(wpc_push(c, T_I32, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_SIZE);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
    default: { /* 17: table.fill */
        TRY(need_table(c, in->x));
        cval n, val, i;
        TRY(wpc_pop_expect(c, T_I32, &n));
        TRY(wpc_pop_expect(c, (uint8_t)m->tables[in->x].elem, &val));
        TRY(wpc_pop_expect(c, T_I32, &i));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_FILL);
            emit_u32(c, in->x);
            emit_src(c, i.slot);
            emit_src(c, val.slot);
            emit_src(c, n.slot);
        }
        return true;
    }
    }
}

bool wpc_op_table_get_set(cctx *c, const ins *in)
{
    TRY(need_table(c, in->x));
    c->m->features |= WP_FEATURE_REFERENCE_TYPES;
    uint8_t t = (uint8_t)c->m->tables[in->x].elem;
    cval i, v;
    if (in->op == 0x25) {
        TRY(wpc_pop_expect(c, T_I32, &i));
        uint32_t d;
        TRY(wpc_push(c, t, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_TABLE_GET);
            emit_dst(c, d);
            emit_u32(c, in->x);
            emit_src(c, i.slot);
        }
        return true;
    }
    TRY(wpc_pop_expect(c, t, &v));
    TRY(wpc_pop_expect(c, T_I32, &i));
    if (LIVE) {
        wpc_emit_op(c, WP_OP_TABLE_SET);
        emit_u32(c, in->x);
        emit_src(c, i.slot);
        emit_src(c, v.slot);
    }
    return true;
}

bool wpc_op_ref(cctx *c, const ins *in)
{
    wasmplug_module *m = c->m;
    m->features |= WP_FEATURE_REFERENCE_TYPES;
    uint32_t d;
    switch (in->op) {
    case 0xD0: /* ref.null */
        return wpc_op_const(c, in->t, 0);
    case 0xD1: { /* ref.is_null */
        cval v;
        TRY(wpc_pop_expect(c, T_ANY, &v));
        if (!is_ref(v.type))
            return wpc_invalid(c, "type mismatch: expected a reference, got %s", type_name(v.type));
        TRY(wpc_push(c, T_I32, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_REF_IS_NULL);
            emit_dst(c, d);
            emit_src(c, v.slot);
        }
        return true;
    }
    default: /* ref.func */
        if (in->x >= m->nfuncs)
            return wpc_invalid(c, "unknown function %u", in->x);
        if (!m->func_declared || !m->func_declared[in->x])
            return wpc_invalid(c, "undeclared function reference %u", in->x);
        TRY(wpc_push(c, T_FUNCREF, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_REF_FUNC);
            emit_dst(c, d);
            emit_u32(c, in->x);
        }
        return true;
    }
}
