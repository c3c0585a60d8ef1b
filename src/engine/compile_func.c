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
 * COPYs in a row become one COPY2, two I32_ADDs one I32_ADD2 (f32 and f64
 * adds likewise: F32_ADD2, F64_ADD2); an
 * I32_ADD_IMM whose result a branch tests right after becomes part of it
 * (ADD_BR_IF...). A local.set of a block's or if's single result right
 * after its end renames the result slot instead of copying it, when every
 * path into the end wrote the result with the instruction right before its
 * jump (or the end): those instructions write the local directly.
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
 *   - f64 add/sub/mul of an f64.load just emitted becomes F64_<op>_LOAD,
 *     f32 likewise (F32_<op>_LOAD, with the load's _ADDR_IMM or _ADDR_ADD
 *     address);
 *   - an F64_<op>_LOAD stored back to where it loaded from becomes
 *     F64_<op>_STORE (memory updated in place), and F64_MUL_ADD_STORE when
 *     the value added was an F64_MUL_LOAD emitted just before.
 *
 * Fuel: FUEL opens every function and every loop header, costed with the
 * number of wasm instructions of the region (nested loops excluded).
 *
 * Files: this one holds the per-instruction dispatch (step) and the driver;
 * compile_emit.c the code buffer, peepholes, operand stack and labels;
 * compile_decode.c decoding, locals and the prescan; compile_control.c,
 * compile_numeric.c and compile_simd.c the instructions by kind (the
 * fusions live with the instructions they apply to); compile_func.h the
 * state they share.
 */
#include "compile_func.h"

#include <string.h>

/* Decode, validate and translate one instruction. */
static bool step(cctx *c)
{
    ins *in = &c->cur;
    TRY(wpc_read_instr(c, in));
    c->fuel_count++;
    uint32_t op = in->op;
    if (op >= 0xFD00)
        return wpc_op_simd(c, in);
    if (op >= 0xFC00)
        return wpc_op_fc(c, in);
    if (wp_num_ops[op].r) {
        if (op >= 0xC0)
            c->m->features |= WP_FEATURE_SIGN_EXT;
        return wpc_op_numeric(c, &wp_num_ops[op]);
    }
    if (op >= 0x28 && op <= 0x3E)
        return wpc_op_memory(c, in);
    switch (op) {
    case 0x00: /* unreachable */
        if (LIVE)
            wpc_emit_op(c, WP_OP_UNREACHABLE);
        wpc_set_unreachable(c);
        return true;
    case 0x01: /* nop */
        return true;
    case 0x02: case 0x03: case 0x04:
        return wpc_op_block(c, in);
    case 0x05:
        return wpc_op_else(c, in);
    case 0x0B:
        return wpc_op_end(c);
    case 0x0C:
        return wpc_op_br(c, in);
    case 0x0D:
        return wpc_op_br_if(c, in);
    case 0x0E:
        return wpc_op_br_table(c, in);
    case 0x0F:
        return wpc_op_return(c);
    case 0x10:
        return wpc_op_call(c, in);
    case 0x11:
        return wpc_op_call_indirect(c, in);
    case 0x1A: { /* drop */
        cval v;
        TRY(wpc_pop_expect(c, T_ANY, &v));
        c->last_dst = NONE;
        return true;
    }
    case 0x1B: case 0x1C:
        return wpc_op_select(c, in);
    case 0x20: case 0x21: case 0x22:
        return wpc_op_local(c, in);
    case 0x23: case 0x24:
        return wpc_op_global(c, in);
    case 0x25: case 0x26:
        return wpc_op_table_get_set(c, in);
    case 0x3F: { /* memory.size */
        TRY(wpc_need_memory(c));
        uint32_t d;
        TRY(wpc_push(c, T_I32, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_MEMORY_SIZE);
            emit_dst(c, d);
        }
        return true;
    }
    case 0x40: { /* memory.grow */
        TRY(wpc_need_memory(c));
        cval a;
        TRY(wpc_pop_expect(c, T_I32, &a));
        uint32_t d;
        TRY(wpc_push(c, T_I32, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_MEMORY_GROW);
            emit_dst(c, d);
            emit_src(c, a.slot);
        }
        return true;
    }
    case 0x41: return wpc_op_const(c, T_I32, in->imm);
    case 0x42: return wpc_op_const(c, T_I64, in->imm);
    case 0x43: return wpc_op_const(c, T_F32, in->imm);
    case 0x44: return wpc_op_const(c, T_F64, in->imm);
    default: /* 0xD0..0xD2 */
        return wpc_op_ref(c, in);
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
        return wpc_fail_at(c, WASMPLUG_ERR_INVALID, f->body_offset, "unknown type %u",
                       f->type_index);
    }
    c->ftype = &m->types[f->type_index];
    const wp_functype *t = c->ftype;
    if (t->nresults > 1)
        m->features |= WP_FEATURE_MULTI_VALUE;
    TRY(wpc_read_locals(c));
    TRY(wpc_prescan(c));
    c->base = c->lslots + (uint32_t)c->nconsts;
    if (!wpc_grow(c, &c->soff, &c->soff_cap, 1, sizeof(uint32_t)))
        return false;
    c->soff[0] = 0;

    c->nvals = c->nctrls = c->nfixups = c->ncode = 0;
    c->nrefs = 0;
    c->dead = false;
    c->max_height = 0;
    c->v128 = c->lslots != c->nlocals;
    c->last_dst = NONE;
    c->moved_cell = NONE;
    c->ren_at = NONE;
    c->nrecent = 0;
    c->fuel_count = 0;
    c->nomem = false;

    wpc_emit_op(c, WP_OP_FUEL);
    emit_u64(c, 0);
    c->loop_depth = 0;
    TRY(wpc_push_ctrl(c, FK_FUNC, NULL, 0, wp_functype_results(t), t->nresults));
    c->started = true;
    while (c->nctrls > 0) {
        TRY(step(c));
        if (c->nomem)
            return wpc_nomem(c);
    }
    if (c->r.p != c->r.end)
        return wpc_malformed(c, c->r.p, "section size mismatch (bytes after the function's end)");
    if (c->ncode > 1)
        c->code[1].u64 = c->fuel_count;

    wp_code *code = &f->code;
    size_t bytes = c->ncode * sizeof(wp_cell);
    code->cells = wp_arena_alloc(&m->arena, bytes);
    if (!code->cells)
        return wpc_nomem(c);
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
        if (!wpc_read_instr(c, &in)) {
            ok = false;
            break;
        }
        if (in.op == 0x02 || in.op == 0x03 || in.op == 0x04) {
            if (n == cap) {
                uint8_t *p = wp_realloc(c->e, open, cap, cap * 2);
                if (!p) {
                    ok = wpc_nomem(c);
                    break;
                }
                open = p;
                cap *= 2;
            }
            open[n++] = in.op == 0x04;
        } else if (in.op == 0x05) {
            if (!open[n - 1])
                ok = wpc_malformed(c, c->r.base + in.offset, "END opcode expected (else without if)");
            open[n - 1] = 0;
        } else if (in.op == 0x0B) {
            n--;
        }
    }
    wp_free(c->e, open, cap);
    if (ok && c->r.p != c->r.end)
        ok = wpc_malformed(c, c->r.p, "section size mismatch (bytes after the function's end)");
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
        return wpc_nomem(c);
    for (size_t k = 0; k < n; k++)
        open[k] = c->ctrls[k].kind == FK_IF;
    if (!body_started) {
        if (!wpc_read_locals(c)) {
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
        /* A wpc_malformed (or unsupported) rest of the code section wins. */
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
