/*
 * compile_simd.c - validation and translation of 0xFD (SIMD) instructions.
 * compile_func.c describes the design.
 */
#include "compile_func.h"

#include <string.h>

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
        return wpc_invalid(c, "invalid lane index %u (%u lanes)", in->y, lanes);
    return true;
}

/* Validate and translate a 0xFD instruction (decoded by read_simd). */
bool wpc_op_simd(cctx *c, const ins *in)
{
    uint32_t sub = in->op & 0xFF;
    const wp_simd_info *si = &wp_simd_table[sub];
    c->m->features |= WP_FEATURE_SIMD;
    cval a, b, v3;
    uint32_t d = NONE;
    uint64_t lo, hi;
    switch (si->kind) {
    case WP_SK_LOAD: case WP_SK_STORE: case WP_SK_LOAD_LANE: case WP_SK_STORE_LANE: {
        TRY(wpc_need_memory(c));
        bool lane_form = si->kind == WP_SK_LOAD_LANE || si->kind == WP_SK_STORE_LANE;
        uint32_t max_align = si->param;
        if (lane_form)
            max_align = si->param == 16 ? 0 : si->param == 8 ? 1 : si->param == 4 ? 2 : 3;
        if (in->align > max_align)
            return wpc_invalid(c, "alignment must not be larger than natural (2^%u > %u bytes)",
                           in->align, 1u << max_align);
        if (lane_form)
            TRY(simd_lane(c, in, si->param));
        if (si->kind != WP_SK_LOAD)
            TRY(wpc_pop_expect(c, T_V128, &b));
        TRY(wpc_pop_expect(c, T_I32, &a));
        if (si->kind == WP_SK_LOAD || si->kind == WP_SK_LOAD_LANE)
            TRY(wpc_push(c, T_V128, &d));
        if (!LIVE)
            return true;
        switch (si->kind) {
        case WP_SK_LOAD: wpc_emit_op(c, simd_fast_load(sub)); break;
        case WP_SK_STORE: wpc_emit_op(c, WP_OP_SIMD_STORE); break;
        case WP_SK_LOAD_LANE: wpc_emit_op(c, WP_OP_SIMD_LOAD_LANE); break;
        default: wpc_emit_op(c, WP_OP_SIMD_STORE_LANE); break;
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
        TRY(wpc_push(c, T_V128, &d));
        if (LIVE) {
            memcpy(&lo, in->v, 8);
            memcpy(&hi, in->v + 8, 8);
            wpc_emit_op(c, WP_OP_V128_CONST);
            emit_dst(c, d);
            emit_u64(c, lo);
            emit_u64(c, hi);
        }
        return true;
    case WP_SK_SHUFFLE:
        for (uint32_t i = 0; i < 16; i++)
            if (in->v[i] >= 32)
                return wpc_invalid(c, "invalid lane index %u (32 lanes)", in->v[i]);
        TRY(wpc_pop_expect(c, T_V128, &b));
        TRY(wpc_pop_expect(c, T_V128, &a));
        TRY(wpc_push(c, T_V128, &d));
        if (LIVE) {
            memcpy(&lo, in->v, 8);
            memcpy(&hi, in->v + 8, 8);
            wpc_emit_op(c, WP_OP_SIMD_SHUFFLE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_src(c, b.slot);
            emit_u64(c, lo);
            emit_u64(c, hi);
        }
        return true;
    case WP_SK_UNARY: {
        TRY(wpc_pop_expect(c, simd_type(si->a), &a));
        TRY(wpc_push(c, simd_type(si->r), &d));
        if (!LIVE)
            return true;
        bool splat32 = sub == 0x11 || sub == 0x13; /* i32x4.splat, f32x4.splat */
        wpc_emit_op(c, splat32 ? WP_OP_I32X4_SPLAT : WP_OP_SIMD1);
        emit_dst(c, d);
        emit_src(c, a.slot);
        if (!splat32)
            emit_u32(c, sub);
        return true;
    }
    case WP_SK_BINARY: {
        TRY(wpc_pop_expect(c, simd_type(si->b), &b));
        TRY(wpc_pop_expect(c, T_V128, &a));
        TRY(wpc_push(c, T_V128, &d));
        if (!LIVE)
            return true;
        wp_op fast = simd_fast_op(sub);
        wpc_emit_op(c, fast != WP_OP_COUNT ? fast : WP_OP_SIMD2);
        emit_dst(c, d);
        emit_src(c, a.slot);
        emit_src(c, b.slot);
        if (fast == WP_OP_COUNT)
            emit_u32(c, sub);
        return true;
    }
    case WP_SK_TERNARY:
        TRY(wpc_pop_expect(c, T_V128, &v3));
        TRY(wpc_pop_expect(c, T_V128, &b));
        TRY(wpc_pop_expect(c, T_V128, &a));
        TRY(wpc_push(c, T_V128, &d));
        if (LIVE) {
            wpc_emit_op(c, WP_OP_SIMD3);
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
            TRY(wpc_pop_expect(c, simd_type(si->b), &b));
        TRY(wpc_pop_expect(c, T_V128, &a));
        if (si->kind != WP_SK_REPLACE)
            b = a;
        TRY(wpc_push(c, simd_type(si->r), &d));
        if (LIVE && (sub == 0x1B || sub == 0x1F)) { /* i32x4/f32x4.extract_lane */
            wpc_emit_op(c, WP_OP_I32X4_EXTRACT_LANE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_u32(c, in->y);
        } else if (LIVE) {
            wpc_emit_op(c, WP_OP_SIMD_LANE);
            emit_dst(c, d);
            emit_src(c, a.slot);
            emit_src(c, b.slot);
            emit_u32(c, sub);
            emit_u32(c, in->y);
        }
        return true;
    }
}
