/*
 * compile_decode.c - decoding of instructions and their immediates (every
 * binary-format error of a body is found here), the locals declarations
 * and the decode-only prescan (loop constants, locals written per block).
 * compile_func.c describes the design.
 */
#include "compile_func.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Decoding                                                                 */
/* ------------------------------------------------------------------------ */

static bool rd_u32(cctx *c, uint32_t *v) { return wp_read_u32(&c->r, v) || wpc_reader_failed(c); }

static bool rd_zero(cctx *c)
{
    const uint8_t *at = c->r.p;
    uint8_t b;
    if (!wp_read_u8(&c->r, &b))
        return wpc_reader_failed(c);
    if (b != 0)
        return wpc_malformed(c, at, "zero byte expected");
    return true;
}

static bool rd_valtype(cctx *c, uint8_t *out)
{
    const uint8_t *at = c->r.p;
    uint8_t b;
    if (!wp_read_u8(&c->r, &b))
        return wpc_reader_failed(c);
    switch (b) {
    case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x70: case 0x6F: case 0x7B:
        *out = b;
        return true;
    default:
        return wpc_malformed(c, at, "malformed value type");
    }
}

/* memory.init and data.drop need the data count section. Without any data
 * segment the instruction is invalid anyway ("unknown data segment"), which
 * is what the spec suite expects from binaries of modules without data. */
static bool need_datacount(cctx *c, const uint8_t *at)
{
    if (!c->m->has_datacount && c->m->ndatas > 0)
        return wpc_malformed(c, at, "data count section required");
    return true;
}

/* The immediates of a 0xFD instruction (after the prefix byte at `at`). */
bool wpc_read_simd(cctx *c, ins *in, const uint8_t *at)
{
    wp_reader *r = &c->r;
    uint32_t sub;
    if (!rd_u32(c, &sub))
        return false;
    if (sub >= WP_SIMD_COUNT || wp_simd_table[sub].kind == WP_SK_NONE) {
        if (sub >= 0x100 && sub <= 0x113)
            return wpc_unsupported(c, at, "relaxed SIMD");
        char msg[48];
        snprintf(msg, sizeof msg, "illegal opcode 0xfd %u", sub);
        return wpc_malformed(c, at, msg);
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
            return wpc_reader_failed(c);
        in->y = lane;
        return true;
    }
    case WP_SK_CONST: case WP_SK_SHUFFLE:
        if ((size_t)(r->end - r->p) < 16)
            return wpc_malformed(c, r->p, "unexpected end");
        memcpy(in->v, r->p, 16);
        r->p += 16;
        return true;
    default:
        return true;
    }
}

/* Decode one instruction and its immediates (binary format only). */
bool wpc_read_instr(cctx *c, ins *in)
{
    wp_reader *r = &c->r;
    const uint8_t *at = r->p;
    in->offset = (uint32_t)(at - r->base);
    if (r->p >= r->end) {
        /* The body ended without its end opcode. Say what the spec's
         * decoder, which reads on past the body, reports. */
        const uint8_t *file_end = c->m->bytes + c->m->size;
        if (r->end >= file_end)
            return wpc_malformed(c, at, "unexpected end of section or function");
        if (*r->end == 0x0B)
            return wpc_malformed(c, at, "section size mismatch (function body without end)");
        return wpc_malformed(c, at, "END opcode expected");
    }
    uint8_t b = *r->p++;
    in->op = b;
    switch (b) {
    case 0x02: case 0x03: case 0x04: {
        const uint8_t *bat = r->p;
        if (!wp_read_sleb(r, 33, &in->bt))
            return wpc_reader_failed(c);
        if (in->bt >= 0 || in->bt == -64)
            return true;
        switch (in->bt + 0x80) {
        case 0x7F: case 0x7E: case 0x7D: case 0x7C: case 0x70: case 0x6F: case 0x7B:
            return true;
        default:
            return wpc_malformed(c, bat, "malformed block type");
        }
    }
    case 0x0C: case 0x0D: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23:
    case 0x24: case 0x25: case 0x26: case 0xD2:
        return rd_u32(c, &in->x);
    case 0x0E: {
        if (!rd_u32(c, &in->n))
            return false;
        if (in->n > (size_t)(r->end - r->p))
            return wpc_malformed(c, r->p, "unexpected end");
        if (!wpc_grow(c, &c->targets, &c->targets_cap, (size_t)in->n + 1, sizeof(uint32_t)))
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
            return wpc_reader_failed(c);
        in->imm = (uint64_t)(uint32_t)v;
        return true;
    }
    case 0x42: {
        int64_t v;
        if (!wp_read_s64(r, &v))
            return wpc_reader_failed(c);
        in->imm = (uint64_t)v;
        return true;
    }
    case 0x43: {
        uint32_t bits;
        if (!wp_read_f32_bits(r, &bits))
            return wpc_reader_failed(c);
        in->imm = bits;
        return true;
    }
    case 0x44:
        return wp_read_f64_bits(r, &in->imm) || wpc_reader_failed(c);
    case 0xD0: {
        const uint8_t *tat = r->p;
        uint8_t t;
        if (!wp_read_u8(r, &t))
            return wpc_reader_failed(c);
        if (t != T_FUNCREF && t != T_EXTERNREF)
            return wpc_malformed(c, tat, "malformed reference type");
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
            return wpc_malformed(c, at, msg);
        }
        }
    }
    case 0xFD:
        return wpc_read_simd(c, in, at);
    case 0xFE:
        return wpc_unsupported(c, at, "threads (atomics)");
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0A: case 0x18: case 0x19: case 0x1F:
        return wpc_unsupported(c, at, "exception handling");
    case 0x12: case 0x13:
        return wpc_unsupported(c, at, "tail calls");
    case 0x14: case 0x15: case 0xD3: case 0xD4: case 0xD5: case 0xD6:
        return wpc_unsupported(c, at, "typed function references");
    case 0xFB:
        return wpc_unsupported(c, at, "garbage collection");
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
            return wpc_malformed(c, at, msg);
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
    if (!wpc_grow(c, &c->runs, &c->runs_cap, c->nruns + 1, sizeof(lrun)))
        return false;
    c->runs[c->nruns].end = end;
    c->runs[c->nruns].slot_end = slot_end;
    c->runs[c->nruns].type = type;
    c->nruns++;
    return true;
}

/* Parse the locals declarations; the params come first in the runs. */
bool wpc_read_locals(cctx *c)
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
            return wpc_malformed(c, at, "too many locals");
        slots += (uint64_t)n * width(type);
        if (n && ps + slots <= WP_MAX_FRAME_SLOTS && !add_run(c, (uint32_t)(np + total), type))
            return false;
    }
    if (ps + slots > WP_MAX_FRAME_SLOTS)
        return wpc_fail_at(c, WASMPLUG_ERR_LIMIT, (uint64_t)(c->r.p - c->r.base),
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

uint8_t wpc_local_type(const cctx *c, uint32_t x)
{ return local_run(c, x)->type; }

/* The (first) slot of local x. */
uint32_t wpc_local_slot(const cctx *c, uint32_t x)
{
    const lrun *r = local_run(c, x);
    return r->slot_end - (r->end - x) * width(r->type);
}

/*
 * Decode the body once, before compiling it, to collect
 *  - the distinct constants used inside loops, and which outermost loop
 *    uses which (they get slots, set when the loop nest is entered);
 *  - for every block, loop and if (in code order) the mask of locals
 *    written inside it: only references to those must be materialized when
 *    the construct is entered.
 * Leaves the reader where it was.
 */
bool wpc_prescan(cctx *c)
{
    c->nconsts = 0;
    c->nnests = 0;
    c->nnest_consts = 0;
    c->nest = 0;
    c->nblocks = 0;
    c->block = 0;
    const uint8_t *start = c->r.p;
    size_t depth = 1, loops = 0;
    if (!wpc_grow(c, &c->kinds, &c->kinds_cap, 16, 1) ||
        !wpc_grow(c, &c->open, &c->open_cap, 16, sizeof(uint32_t)))
        return false;
    c->kinds[0] = 0;
    c->open[0] = NONE;
    while (depth > 0) {
        ins in;
        in.op = 0;
        if (!wpc_read_instr(c, &in))
            return false;
        switch (in.op) {
        case 0x21: case 0x22:
            if (depth > 1)
                c->wmask[c->open[depth - 1]] |= local_bit(in.x < c->nlocals ? wpc_local_slot(c, in.x) : 63);
            break;
        case 0x02: case 0x03: case 0x04:
            if (!wpc_grow(c, &c->kinds, &c->kinds_cap, depth + 1, 1) ||
                !wpc_grow(c, &c->open, &c->open_cap, depth + 1, sizeof(uint32_t)) ||
                !wpc_grow(c, &c->wmask, &c->wmask_cap, c->nblocks + 1, sizeof(uint64_t)))
                return false;
            c->wmask[c->nblocks] = 0;
            c->open[depth] = (uint32_t)c->nblocks++;
            if (in.op == 0x03 && loops == 0) { /* a new outermost loop */
                if (!wpc_grow(c, &c->nest_start, &c->nest_start_cap, c->nnests + 2,
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
                if (!wpc_grow(c, &c->consts, &c->consts_cap, k + 1, sizeof(uint64_t)))
                    return false;
                c->consts[c->nconsts++] = bits;
                c->stamp[k] = 0;
            }
            if (c->stamp[k] != c->nnests) {
                if (!wpc_grow(c, &c->nest_consts, &c->nest_consts_cap, c->nnest_consts + 1,
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
