/*
 * compile_tables.c - what the function-body compiler (compile_func.c)
 * knows about each opcode: the plain numeric instructions with their
 * operand and result types and interpreter operation (one table instead of
 * a switch case per instruction), loads and stores, and the names used in
 * error messages.
 */
#include "compile.h"
#include "simd.h"

#define T_I32 ((uint8_t)WASMPLUG_I32)
#define T_I64 ((uint8_t)WASMPLUG_I64)
#define T_F32 ((uint8_t)WASMPLUG_F32)
#define T_F64 ((uint8_t)WASMPLUG_F64)

#define UN(o, t, rt, nm) { WP_OP_##o, t, 0, rt, nm }
#define BI(o, t, rt, nm) { WP_OP_##o, t, t, rt, nm }
#define RE(t, rt, nm) { WP_NUM_REINTERPRET, t, 0, rt, nm }

const wp_numop wp_num_ops[256] = {
    [0x45] = UN(I32_EQZ, T_I32, T_I32, "i32.eqz"),
    [0x46] = BI(I32_EQ, T_I32, T_I32, "i32.eq"),
    [0x47] = BI(I32_NE, T_I32, T_I32, "i32.ne"),
    [0x48] = BI(I32_LT_S, T_I32, T_I32, "i32.lt_s"),
    [0x49] = BI(I32_LT_U, T_I32, T_I32, "i32.lt_u"),
    [0x4A] = BI(I32_GT_S, T_I32, T_I32, "i32.gt_s"),
    [0x4B] = BI(I32_GT_U, T_I32, T_I32, "i32.gt_u"),
    [0x4C] = BI(I32_LE_S, T_I32, T_I32, "i32.le_s"),
    [0x4D] = BI(I32_LE_U, T_I32, T_I32, "i32.le_u"),
    [0x4E] = BI(I32_GE_S, T_I32, T_I32, "i32.ge_s"),
    [0x4F] = BI(I32_GE_U, T_I32, T_I32, "i32.ge_u"),
    [0x50] = UN(I64_EQZ, T_I64, T_I32, "i64.eqz"),
    [0x51] = BI(I64_EQ, T_I64, T_I32, "i64.eq"),
    [0x52] = BI(I64_NE, T_I64, T_I32, "i64.ne"),
    [0x53] = BI(I64_LT_S, T_I64, T_I32, "i64.lt_s"),
    [0x54] = BI(I64_LT_U, T_I64, T_I32, "i64.lt_u"),
    [0x55] = BI(I64_GT_S, T_I64, T_I32, "i64.gt_s"),
    [0x56] = BI(I64_GT_U, T_I64, T_I32, "i64.gt_u"),
    [0x57] = BI(I64_LE_S, T_I64, T_I32, "i64.le_s"),
    [0x58] = BI(I64_LE_U, T_I64, T_I32, "i64.le_u"),
    [0x59] = BI(I64_GE_S, T_I64, T_I32, "i64.ge_s"),
    [0x5A] = BI(I64_GE_U, T_I64, T_I32, "i64.ge_u"),
    [0x5B] = BI(F32_EQ, T_F32, T_I32, "f32.eq"),
    [0x5C] = BI(F32_NE, T_F32, T_I32, "f32.ne"),
    [0x5D] = BI(F32_LT, T_F32, T_I32, "f32.lt"),
    [0x5E] = BI(F32_GT, T_F32, T_I32, "f32.gt"),
    [0x5F] = BI(F32_LE, T_F32, T_I32, "f32.le"),
    [0x60] = BI(F32_GE, T_F32, T_I32, "f32.ge"),
    [0x61] = BI(F64_EQ, T_F64, T_I32, "f64.eq"),
    [0x62] = BI(F64_NE, T_F64, T_I32, "f64.ne"),
    [0x63] = BI(F64_LT, T_F64, T_I32, "f64.lt"),
    [0x64] = BI(F64_GT, T_F64, T_I32, "f64.gt"),
    [0x65] = BI(F64_LE, T_F64, T_I32, "f64.le"),
    [0x66] = BI(F64_GE, T_F64, T_I32, "f64.ge"),
    [0x67] = UN(I32_CLZ, T_I32, T_I32, "i32.clz"),
    [0x68] = UN(I32_CTZ, T_I32, T_I32, "i32.ctz"),
    [0x69] = UN(I32_POPCNT, T_I32, T_I32, "i32.popcnt"),
    [0x6A] = BI(I32_ADD, T_I32, T_I32, "i32.add"),
    [0x6B] = BI(I32_SUB, T_I32, T_I32, "i32.sub"),
    [0x6C] = BI(I32_MUL, T_I32, T_I32, "i32.mul"),
    [0x6D] = BI(I32_DIV_S, T_I32, T_I32, "i32.div_s"),
    [0x6E] = BI(I32_DIV_U, T_I32, T_I32, "i32.div_u"),
    [0x6F] = BI(I32_REM_S, T_I32, T_I32, "i32.rem_s"),
    [0x70] = BI(I32_REM_U, T_I32, T_I32, "i32.rem_u"),
    [0x71] = BI(I32_AND, T_I32, T_I32, "i32.and"),
    [0x72] = BI(I32_OR, T_I32, T_I32, "i32.or"),
    [0x73] = BI(I32_XOR, T_I32, T_I32, "i32.xor"),
    [0x74] = BI(I32_SHL, T_I32, T_I32, "i32.shl"),
    [0x75] = BI(I32_SHR_S, T_I32, T_I32, "i32.shr_s"),
    [0x76] = BI(I32_SHR_U, T_I32, T_I32, "i32.shr_u"),
    [0x77] = BI(I32_ROTL, T_I32, T_I32, "i32.rotl"),
    [0x78] = BI(I32_ROTR, T_I32, T_I32, "i32.rotr"),
    [0x79] = UN(I64_CLZ, T_I64, T_I64, "i64.clz"),
    [0x7A] = UN(I64_CTZ, T_I64, T_I64, "i64.ctz"),
    [0x7B] = UN(I64_POPCNT, T_I64, T_I64, "i64.popcnt"),
    [0x7C] = BI(I64_ADD, T_I64, T_I64, "i64.add"),
    [0x7D] = BI(I64_SUB, T_I64, T_I64, "i64.sub"),
    [0x7E] = BI(I64_MUL, T_I64, T_I64, "i64.mul"),
    [0x7F] = BI(I64_DIV_S, T_I64, T_I64, "i64.div_s"),
    [0x80] = BI(I64_DIV_U, T_I64, T_I64, "i64.div_u"),
    [0x81] = BI(I64_REM_S, T_I64, T_I64, "i64.rem_s"),
    [0x82] = BI(I64_REM_U, T_I64, T_I64, "i64.rem_u"),
    [0x83] = BI(I64_AND, T_I64, T_I64, "i64.and"),
    [0x84] = BI(I64_OR, T_I64, T_I64, "i64.or"),
    [0x85] = BI(I64_XOR, T_I64, T_I64, "i64.xor"),
    [0x86] = BI(I64_SHL, T_I64, T_I64, "i64.shl"),
    [0x87] = BI(I64_SHR_S, T_I64, T_I64, "i64.shr_s"),
    [0x88] = BI(I64_SHR_U, T_I64, T_I64, "i64.shr_u"),
    [0x89] = BI(I64_ROTL, T_I64, T_I64, "i64.rotl"),
    [0x8A] = BI(I64_ROTR, T_I64, T_I64, "i64.rotr"),
    [0x8B] = UN(F32_ABS, T_F32, T_F32, "f32.abs"),
    [0x8C] = UN(F32_NEG, T_F32, T_F32, "f32.neg"),
    [0x8D] = UN(F32_CEIL, T_F32, T_F32, "f32.ceil"),
    [0x8E] = UN(F32_FLOOR, T_F32, T_F32, "f32.floor"),
    [0x8F] = UN(F32_TRUNC, T_F32, T_F32, "f32.trunc"),
    [0x90] = UN(F32_NEAREST, T_F32, T_F32, "f32.nearest"),
    [0x91] = UN(F32_SQRT, T_F32, T_F32, "f32.sqrt"),
    [0x92] = BI(F32_ADD, T_F32, T_F32, "f32.add"),
    [0x93] = BI(F32_SUB, T_F32, T_F32, "f32.sub"),
    [0x94] = BI(F32_MUL, T_F32, T_F32, "f32.mul"),
    [0x95] = BI(F32_DIV, T_F32, T_F32, "f32.div"),
    [0x96] = BI(F32_MIN, T_F32, T_F32, "f32.min"),
    [0x97] = BI(F32_MAX, T_F32, T_F32, "f32.max"),
    [0x98] = BI(F32_COPYSIGN, T_F32, T_F32, "f32.copysign"),
    [0x99] = UN(F64_ABS, T_F64, T_F64, "f64.abs"),
    [0x9A] = UN(F64_NEG, T_F64, T_F64, "f64.neg"),
    [0x9B] = UN(F64_CEIL, T_F64, T_F64, "f64.ceil"),
    [0x9C] = UN(F64_FLOOR, T_F64, T_F64, "f64.floor"),
    [0x9D] = UN(F64_TRUNC, T_F64, T_F64, "f64.trunc"),
    [0x9E] = UN(F64_NEAREST, T_F64, T_F64, "f64.nearest"),
    [0x9F] = UN(F64_SQRT, T_F64, T_F64, "f64.sqrt"),
    [0xA0] = BI(F64_ADD, T_F64, T_F64, "f64.add"),
    [0xA1] = BI(F64_SUB, T_F64, T_F64, "f64.sub"),
    [0xA2] = BI(F64_MUL, T_F64, T_F64, "f64.mul"),
    [0xA3] = BI(F64_DIV, T_F64, T_F64, "f64.div"),
    [0xA4] = BI(F64_MIN, T_F64, T_F64, "f64.min"),
    [0xA5] = BI(F64_MAX, T_F64, T_F64, "f64.max"),
    [0xA6] = BI(F64_COPYSIGN, T_F64, T_F64, "f64.copysign"),
    [0xA7] = UN(I32_WRAP_I64, T_I64, T_I32, "i32.wrap_i64"),
    [0xA8] = UN(I32_TRUNC_F32_S, T_F32, T_I32, "i32.trunc_f32_s"),
    [0xA9] = UN(I32_TRUNC_F32_U, T_F32, T_I32, "i32.trunc_f32_u"),
    [0xAA] = UN(I32_TRUNC_F64_S, T_F64, T_I32, "i32.trunc_f64_s"),
    [0xAB] = UN(I32_TRUNC_F64_U, T_F64, T_I32, "i32.trunc_f64_u"),
    [0xAC] = UN(I64_EXTEND_I32_S, T_I32, T_I64, "i64.extend_i32_s"),
    [0xAD] = UN(I64_EXTEND_I32_U, T_I32, T_I64, "i64.extend_i32_u"),
    [0xAE] = UN(I64_TRUNC_F32_S, T_F32, T_I64, "i64.trunc_f32_s"),
    [0xAF] = UN(I64_TRUNC_F32_U, T_F32, T_I64, "i64.trunc_f32_u"),
    [0xB0] = UN(I64_TRUNC_F64_S, T_F64, T_I64, "i64.trunc_f64_s"),
    [0xB1] = UN(I64_TRUNC_F64_U, T_F64, T_I64, "i64.trunc_f64_u"),
    [0xB2] = UN(F32_CONVERT_I32_S, T_I32, T_F32, "f32.convert_i32_s"),
    [0xB3] = UN(F32_CONVERT_I32_U, T_I32, T_F32, "f32.convert_i32_u"),
    [0xB4] = UN(F32_CONVERT_I64_S, T_I64, T_F32, "f32.convert_i64_s"),
    [0xB5] = UN(F32_CONVERT_I64_U, T_I64, T_F32, "f32.convert_i64_u"),
    [0xB6] = UN(F32_DEMOTE_F64, T_F64, T_F32, "f32.demote_f64"),
    [0xB7] = UN(F64_CONVERT_I32_S, T_I32, T_F64, "f64.convert_i32_s"),
    [0xB8] = UN(F64_CONVERT_I32_U, T_I32, T_F64, "f64.convert_i32_u"),
    [0xB9] = UN(F64_CONVERT_I64_S, T_I64, T_F64, "f64.convert_i64_s"),
    [0xBA] = UN(F64_CONVERT_I64_U, T_I64, T_F64, "f64.convert_i64_u"),
    [0xBB] = UN(F64_PROMOTE_F32, T_F32, T_F64, "f64.promote_f32"),
    [0xBC] = RE(T_F32, T_I32, "i32.reinterpret_f32"),
    [0xBD] = RE(T_F64, T_I64, "i64.reinterpret_f64"),
    [0xBE] = RE(T_I32, T_F32, "f32.reinterpret_i32"),
    [0xBF] = RE(T_I64, T_F64, "f64.reinterpret_i64"),
    [0xC0] = UN(I32_EXTEND8_S, T_I32, T_I32, "i32.extend8_s"),
    [0xC1] = UN(I32_EXTEND16_S, T_I32, T_I32, "i32.extend16_s"),
    [0xC2] = UN(I64_EXTEND8_S, T_I64, T_I64, "i64.extend8_s"),
    [0xC3] = UN(I64_EXTEND16_S, T_I64, T_I64, "i64.extend16_s"),
    [0xC4] = UN(I64_EXTEND32_S, T_I64, T_I64, "i64.extend32_s"),
};

/* 0xFC 0..7: non-trapping float-to-int conversions. */
const wp_numop wp_sat_ops[8] = {
    UN(I32_TRUNC_SAT_F32_S, T_F32, T_I32, "i32.trunc_sat_f32_s"),
    UN(I32_TRUNC_SAT_F32_U, T_F32, T_I32, "i32.trunc_sat_f32_u"),
    UN(I32_TRUNC_SAT_F64_S, T_F64, T_I32, "i32.trunc_sat_f64_s"),
    UN(I32_TRUNC_SAT_F64_U, T_F64, T_I32, "i32.trunc_sat_f64_u"),
    UN(I64_TRUNC_SAT_F32_S, T_F32, T_I64, "i64.trunc_sat_f32_s"),
    UN(I64_TRUNC_SAT_F32_U, T_F32, T_I64, "i64.trunc_sat_f32_u"),
    UN(I64_TRUNC_SAT_F64_S, T_F64, T_I64, "i64.trunc_sat_f64_s"),
    UN(I64_TRUNC_SAT_F64_U, T_F64, T_I64, "i64.trunc_sat_f64_u"),
};

#undef UN
#undef BI
#undef RE

/* Loads and stores, opcodes 0x28..0x3E. */

const wp_memop wp_mem_ops[0x3F - 0x28] = {
    { WP_OP_I32_LOAD, 2, T_I32, false, "i32.load" },
    { WP_OP_I64_LOAD, 3, T_I64, false, "i64.load" },
    { WP_OP_F32_LOAD, 2, T_F32, false, "f32.load" },
    { WP_OP_F64_LOAD, 3, T_F64, false, "f64.load" },
    { WP_OP_I32_LOAD8_S, 0, T_I32, false, "i32.load8_s" },
    { WP_OP_I32_LOAD8_U, 0, T_I32, false, "i32.load8_u" },
    { WP_OP_I32_LOAD16_S, 1, T_I32, false, "i32.load16_s" },
    { WP_OP_I32_LOAD16_U, 1, T_I32, false, "i32.load16_u" },
    { WP_OP_I64_LOAD8_S, 0, T_I64, false, "i64.load8_s" },
    { WP_OP_I64_LOAD8_U, 0, T_I64, false, "i64.load8_u" },
    { WP_OP_I64_LOAD16_S, 1, T_I64, false, "i64.load16_s" },
    { WP_OP_I64_LOAD16_U, 1, T_I64, false, "i64.load16_u" },
    { WP_OP_I64_LOAD32_S, 2, T_I64, false, "i64.load32_s" },
    { WP_OP_I64_LOAD32_U, 2, T_I64, false, "i64.load32_u" },
    { WP_OP_I32_STORE, 2, T_I32, true, "i32.store" },
    { WP_OP_I64_STORE, 3, T_I64, true, "i64.store" },
    { WP_OP_F32_STORE, 2, T_F32, true, "f32.store" },
    { WP_OP_F64_STORE, 3, T_F64, true, "f64.store" },
    { WP_OP_I32_STORE8, 0, T_I32, true, "i32.store8" },
    { WP_OP_I32_STORE16, 1, T_I32, true, "i32.store16" },
    { WP_OP_I64_STORE8, 0, T_I64, true, "i64.store8" },
    { WP_OP_I64_STORE16, 1, T_I64, true, "i64.store16" },
    { WP_OP_I64_STORE32, 2, T_I64, true, "i64.store32" },
};

/* Names of the remaining (control, variable, reference...) instructions;
 * NULL marks a byte that is no WebAssembly 2.0 opcode. */
const char *const wp_opcode_names[256] = {
    [0x00] = "unreachable", [0x01] = "nop", [0x02] = "block", [0x03] = "loop",
    [0x04] = "if", [0x05] = "else", [0x0B] = "end", [0x0C] = "br", [0x0D] = "br_if",
    [0x0E] = "br_table", [0x0F] = "return", [0x10] = "call", [0x11] = "call_indirect",
    [0x1A] = "drop", [0x1B] = "select", [0x1C] = "select", [0x20] = "local.get",
    [0x21] = "local.set", [0x22] = "local.tee", [0x23] = "global.get",
    [0x24] = "global.set", [0x25] = "table.get", [0x26] = "table.set",
    [0x3F] = "memory.size", [0x40] = "memory.grow", [0x41] = "i32.const",
    [0x42] = "i64.const", [0x43] = "f32.const", [0x44] = "f64.const",
    [0xD0] = "ref.null", [0xD1] = "ref.is_null", [0xD2] = "ref.func",
};

static const char *const fc_names[18] = {
    "i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s",
    "i32.trunc_sat_f64_u", "i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u",
    "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u", "memory.init", "data.drop",
    "memory.copy", "memory.fill", "table.init", "elem.drop", "table.copy",
    "table.grow", "table.size", "table.fill",
};

const char *wp_opcode_name(uint32_t op)
{
    if (op >= 0xFD00)
        return op - 0xFD00 < WP_SIMD_COUNT && wp_simd_table[op - 0xFD00].name
                   ? wp_simd_table[op - 0xFD00].name : "0xfd";
    if (op >= 0xFC00)
        return op - 0xFC00 < 18 ? fc_names[op - 0xFC00] : "0xfc";
    if (op >= 0x28 && op <= 0x3E)
        return wp_mem_ops[op - 0x28].name;
    if (wp_num_ops[op].r)
        return wp_num_ops[op].name;
    return wp_opcode_names[op] ? wp_opcode_names[op] : "?";
}


/* Superinstructions: for each operation, its fused forms (0: none).
 *   imm     the _IMM form (second operand a constant; for sub: ADD_IMM,
 *           and the compiler negates the constant)
 *   swap    the operation giving the same result with a and b exchanged
 *           (commutative: itself; compares: the mirrored compare), so a
 *           constant first operand can become the immediate
 *   br      a compare's compare-and-branch form
 *   negate  the compare that is its negation (for branches taken when the
 *           condition is false: if, and br_if around moves)
 *   addr    a load's or store's form taking the address as a + imm (an
 *           i32.add of a constant feeding an access with offset 0)
 *   load    f32/f64 add/sub/mul whose second operand is a load emitted
 *           just before (its _ADDR_IMM twin via addr; for f32 also the
 *           _ADDR_ADD twin via addr_add, the f32.load having taken a sum)
 *   update  an F64_<op>_LOAD whose result an f64.store writes back to the
 *           address it loaded from (a[i] += x)
 *   add_br  a branch testing the result of the I32_ADD_IMM emitted just
 *           before it (a loop's i += k; i != n)
 *   addr_add  a load's or store's form taking the address as a + b (an
 *           i32.add of two values feeding an access: base + index); not
 *           f64.load, whose fused forms are the arithmetic on it */
#define FU(op, imm, swap, br, negate) [WP_OP_##op] = { imm, swap, br, negate, 0, 0, 0, 0, 0 }
#define ADDR(op)                                                                                  \
    [WP_OP_##op] = { 0, 0, 0, 0, WP_OP_##op##_ADDR_IMM, 0, 0, 0, WP_OP_##op##_ADDR_ADD }
#define ADDR_IMM_ONLY(op) [WP_OP_##op] = { 0, 0, 0, 0, WP_OP_##op##_ADDR_IMM, 0, 0, 0, 0 }
#define LOADOP(op, swap) [WP_OP_##op] = { 0, swap, 0, 0, 0, WP_OP_##op##_LOAD, 0, 0, 0 }
#define UPDATE(op)                                                                                \
    [WP_OP_##op##_LOAD] = { 0, 0, 0, 0, WP_OP_##op##_LOAD_ADDR_IMM, 0, WP_OP_##op##_STORE, 0, 0 }
#define LOADF(op)                                                                                 \
    [WP_OP_##op##_LOAD] = { 0, 0, 0, 0, WP_OP_##op##_LOAD_ADDR_IMM, 0, 0, 0, WP_OP_##op##_LOAD_ADDR_ADD }
#define ADDBR(op) [WP_OP_##op] = { 0, 0, 0, 0, 0, 0, 0, WP_OP_ADD_##op, 0 }
const wp_fusion wp_fusions[WP_OP_COUNT] = {
    FU(I32_ADD, WP_OP_I32_ADD_IMM, WP_OP_I32_ADD, 0, 0),
    FU(I32_SUB, WP_OP_I32_ADD_IMM, 0, 0, 0),
    FU(I32_MUL, WP_OP_I32_MUL_IMM, WP_OP_I32_MUL, 0, 0),
    FU(I32_AND, WP_OP_I32_AND_IMM, WP_OP_I32_AND, 0, 0),
    FU(I32_OR, WP_OP_I32_OR_IMM, WP_OP_I32_OR, 0, 0),
    FU(I32_XOR, WP_OP_I32_XOR_IMM, WP_OP_I32_XOR, 0, 0),
    FU(I32_SHL, WP_OP_I32_SHL_IMM, 0, 0, 0),
    FU(I32_SHR_S, WP_OP_I32_SHR_S_IMM, 0, 0, 0),
    FU(I32_SHR_U, WP_OP_I32_SHR_U_IMM, 0, 0, 0),
    FU(I32_ROTL, WP_OP_I32_ROTL_IMM, 0, 0, 0),
    FU(I32_ROTR, WP_OP_I32_ROTR_IMM, 0, 0, 0),
    FU(I32_EQ, WP_OP_I32_EQ_IMM, WP_OP_I32_EQ, WP_OP_BR_IF_I32_EQ, WP_OP_I32_NE),
    FU(I32_NE, WP_OP_I32_NE_IMM, WP_OP_I32_NE, WP_OP_BR_IF_I32_NE, WP_OP_I32_EQ),
    FU(I32_LT_S, WP_OP_I32_LT_S_IMM, WP_OP_I32_GT_S, WP_OP_BR_IF_I32_LT_S, WP_OP_I32_GE_S),
    FU(I32_LT_U, WP_OP_I32_LT_U_IMM, WP_OP_I32_GT_U, WP_OP_BR_IF_I32_LT_U, WP_OP_I32_GE_U),
    FU(I32_GT_S, WP_OP_I32_GT_S_IMM, WP_OP_I32_LT_S, WP_OP_BR_IF_I32_GT_S, WP_OP_I32_LE_S),
    FU(I32_GT_U, WP_OP_I32_GT_U_IMM, WP_OP_I32_LT_U, WP_OP_BR_IF_I32_GT_U, WP_OP_I32_LE_U),
    FU(I32_LE_S, WP_OP_I32_LE_S_IMM, WP_OP_I32_GE_S, WP_OP_BR_IF_I32_LE_S, WP_OP_I32_GT_S),
    FU(I32_LE_U, WP_OP_I32_LE_U_IMM, WP_OP_I32_GE_U, WP_OP_BR_IF_I32_LE_U, WP_OP_I32_GT_U),
    FU(I32_GE_S, WP_OP_I32_GE_S_IMM, WP_OP_I32_LE_S, WP_OP_BR_IF_I32_GE_S, WP_OP_I32_LT_S),
    FU(I32_GE_U, WP_OP_I32_GE_U_IMM, WP_OP_I32_LE_U, WP_OP_BR_IF_I32_GE_U, WP_OP_I32_LT_U),
    FU(I32_EQ_IMM, 0, 0, WP_OP_BR_IF_I32_EQ_IMM, WP_OP_I32_NE_IMM),
    FU(I32_NE_IMM, 0, 0, WP_OP_BR_IF_I32_NE_IMM, WP_OP_I32_EQ_IMM),
    FU(I32_LT_S_IMM, 0, 0, WP_OP_BR_IF_I32_LT_S_IMM, WP_OP_I32_GE_S_IMM),
    FU(I32_LT_U_IMM, 0, 0, WP_OP_BR_IF_I32_LT_U_IMM, WP_OP_I32_GE_U_IMM),
    FU(I32_GT_S_IMM, 0, 0, WP_OP_BR_IF_I32_GT_S_IMM, WP_OP_I32_LE_S_IMM),
    FU(I32_GT_U_IMM, 0, 0, WP_OP_BR_IF_I32_GT_U_IMM, WP_OP_I32_LE_U_IMM),
    FU(I32_LE_S_IMM, 0, 0, WP_OP_BR_IF_I32_LE_S_IMM, WP_OP_I32_GT_S_IMM),
    FU(I32_LE_U_IMM, 0, 0, WP_OP_BR_IF_I32_LE_U_IMM, WP_OP_I32_GT_U_IMM),
    FU(I32_GE_S_IMM, 0, 0, WP_OP_BR_IF_I32_GE_S_IMM, WP_OP_I32_LT_S_IMM),
    FU(I32_GE_U_IMM, 0, 0, WP_OP_BR_IF_I32_GE_U_IMM, WP_OP_I32_LT_U_IMM),
    FU(I64_ADD, WP_OP_I64_ADD_IMM, WP_OP_I64_ADD, 0, 0),
    FU(I64_SUB, WP_OP_I64_ADD_IMM, 0, 0, 0),
    FU(I64_MUL, WP_OP_I64_MUL_IMM, WP_OP_I64_MUL, 0, 0),
    FU(I64_AND, WP_OP_I64_AND_IMM, WP_OP_I64_AND, 0, 0),
    FU(I64_OR, WP_OP_I64_OR_IMM, WP_OP_I64_OR, 0, 0),
    FU(I64_XOR, WP_OP_I64_XOR_IMM, WP_OP_I64_XOR, 0, 0),
    FU(I64_SHL, WP_OP_I64_SHL_IMM, 0, 0, 0),
    FU(I64_SHR_S, WP_OP_I64_SHR_S_IMM, 0, 0, 0),
    FU(I64_SHR_U, WP_OP_I64_SHR_U_IMM, 0, 0, 0),
    FU(I64_ROTL, WP_OP_I64_ROTL_IMM, 0, 0, 0),
    FU(I64_ROTR, WP_OP_I64_ROTR_IMM, 0, 0, 0),
    FU(I64_EQ, WP_OP_I64_EQ_IMM, WP_OP_I64_EQ, WP_OP_BR_IF_I64_EQ, WP_OP_I64_NE),
    FU(I64_NE, WP_OP_I64_NE_IMM, WP_OP_I64_NE, WP_OP_BR_IF_I64_NE, WP_OP_I64_EQ),
    FU(I64_LT_S, WP_OP_I64_LT_S_IMM, WP_OP_I64_GT_S, WP_OP_BR_IF_I64_LT_S, WP_OP_I64_GE_S),
    FU(I64_LT_U, WP_OP_I64_LT_U_IMM, WP_OP_I64_GT_U, WP_OP_BR_IF_I64_LT_U, WP_OP_I64_GE_U),
    FU(I64_GT_S, WP_OP_I64_GT_S_IMM, WP_OP_I64_LT_S, WP_OP_BR_IF_I64_GT_S, WP_OP_I64_LE_S),
    FU(I64_GT_U, WP_OP_I64_GT_U_IMM, WP_OP_I64_LT_U, WP_OP_BR_IF_I64_GT_U, WP_OP_I64_LE_U),
    FU(I64_LE_S, WP_OP_I64_LE_S_IMM, WP_OP_I64_GE_S, WP_OP_BR_IF_I64_LE_S, WP_OP_I64_GT_S),
    FU(I64_LE_U, WP_OP_I64_LE_U_IMM, WP_OP_I64_GE_U, WP_OP_BR_IF_I64_LE_U, WP_OP_I64_GT_U),
    FU(I64_GE_S, WP_OP_I64_GE_S_IMM, WP_OP_I64_LE_S, WP_OP_BR_IF_I64_GE_S, WP_OP_I64_LT_S),
    FU(I64_GE_U, WP_OP_I64_GE_U_IMM, WP_OP_I64_LE_U, WP_OP_BR_IF_I64_GE_U, WP_OP_I64_LT_U),
    FU(I64_EQ_IMM, 0, 0, WP_OP_BR_IF_I64_EQ_IMM, WP_OP_I64_NE_IMM),
    FU(I64_NE_IMM, 0, 0, WP_OP_BR_IF_I64_NE_IMM, WP_OP_I64_EQ_IMM),
    FU(I64_LT_S_IMM, 0, 0, WP_OP_BR_IF_I64_LT_S_IMM, WP_OP_I64_GE_S_IMM),
    FU(I64_LT_U_IMM, 0, 0, WP_OP_BR_IF_I64_LT_U_IMM, WP_OP_I64_GE_U_IMM),
    FU(I64_GT_S_IMM, 0, 0, WP_OP_BR_IF_I64_GT_S_IMM, WP_OP_I64_LE_S_IMM),
    FU(I64_GT_U_IMM, 0, 0, WP_OP_BR_IF_I64_GT_U_IMM, WP_OP_I64_LE_U_IMM),
    FU(I64_LE_S_IMM, 0, 0, WP_OP_BR_IF_I64_LE_S_IMM, WP_OP_I64_GT_S_IMM),
    FU(I64_LE_U_IMM, 0, 0, WP_OP_BR_IF_I64_LE_U_IMM, WP_OP_I64_GT_U_IMM),
    FU(I64_GE_S_IMM, 0, 0, WP_OP_BR_IF_I64_GE_S_IMM, WP_OP_I64_LT_S_IMM),
    FU(I64_GE_U_IMM, 0, 0, WP_OP_BR_IF_I64_GE_U_IMM, WP_OP_I64_LT_U_IMM),
    ADDR(I32_LOAD),
    ADDR(I64_LOAD),
    ADDR(F32_LOAD),
    ADDR_IMM_ONLY(F64_LOAD),
    ADDR(I32_LOAD8_S),
    ADDR(I32_LOAD8_U),
    ADDR(I32_LOAD16_S),
    ADDR(I32_LOAD16_U),
    ADDR(I32_STORE),
    ADDR(I64_STORE),
    ADDR(F32_STORE),
    ADDR(F64_STORE),
    ADDR(I32_STORE8),
    ADDR(I32_STORE16),
    UPDATE(F64_ADD),
    UPDATE(F64_SUB),
    UPDATE(F64_MUL),
    ADDBR(BR_IF),
    ADDBR(BR_IF_NOT),
    ADDBR(BR_IF_I32_EQ),
    ADDBR(BR_IF_I32_EQ_IMM),
    ADDBR(BR_IF_I32_NE),
    ADDBR(BR_IF_I32_NE_IMM),
    ADDBR(BR_IF_I32_LT_S),
    ADDBR(BR_IF_I32_LT_S_IMM),
    ADDBR(BR_IF_I32_LT_U),
    ADDBR(BR_IF_I32_LT_U_IMM),
    ADDBR(BR_IF_I32_GT_S),
    ADDBR(BR_IF_I32_GT_S_IMM),
    ADDBR(BR_IF_I32_GT_U),
    ADDBR(BR_IF_I32_GT_U_IMM),
    ADDBR(BR_IF_I32_LE_S),
    ADDBR(BR_IF_I32_LE_S_IMM),
    ADDBR(BR_IF_I32_LE_U),
    ADDBR(BR_IF_I32_LE_U_IMM),
    ADDBR(BR_IF_I32_GE_S),
    ADDBR(BR_IF_I32_GE_S_IMM),
    ADDBR(BR_IF_I32_GE_U),
    ADDBR(BR_IF_I32_GE_U_IMM),
    LOADOP(F64_ADD, WP_OP_F64_ADD),
    LOADOP(F64_SUB, 0),
    LOADOP(F64_MUL, WP_OP_F64_MUL),
    LOADOP(F32_ADD, WP_OP_F32_ADD),
    LOADOP(F32_SUB, 0),
    LOADOP(F32_MUL, WP_OP_F32_MUL),
    LOADF(F32_ADD),
    LOADF(F32_SUB),
    LOADF(F32_MUL),
};
#undef FU
#undef ADDR
#undef ADDR_IMM_ONLY
#undef LOADOP
#undef UPDATE
#undef LOADF
#undef ADDBR
