/*
 * ops.h - the interpreter's instruction set: the contract between the
 * compiler (compile.c, which emits it) and the interpreter (interp.c, which
 * runs it). One table, one line per operation.
 *
 * Model
 * -----
 * Each function runs in a frame of 8-byte slots (wasmplug_slot) addressed
 * from the frame pointer fp:
 *   fp[0 .. nparams)                        parameters
 *   fp[nparams .. nparams+nlocals)          declared locals (zeroed on entry)
 *   fp[nparams+nlocals .. frame_size)       the operand stack: the wasm value
 *                                           at stack height h lives in slot
 *                                           nparams+nlocals+h
 * Operations name their operands by slot index, so no value is pushed or
 * popped at run time; the compiler knows every stack height statically. An
 * operand may also name a local's slot directly (local.get emits nothing).
 *
 * Code is an array of cells. An instruction is its operation cell followed by
 * its operand cells, one cell per operand, in the order the table gives:
 *   S  slot index          cell.u32
 *   I  64-bit immediate    cell.u64 / cell.i64 (constants, memory offsets)
 *   X  index               cell.u32 (function, type, table, global, segment)
 *   R  branch offset       cell.i64: target = address of this instruction's
 *                          operation cell + R cells
 *   N  count               cell.u32
 * Operand letters in the descriptions: d = destination slot, a/b/c = source
 * slots, imm, off (memory offset, added to the u32 address as a u64), x, rel.
 * Reads of i32 operands use .i32/.u32, i64 .i64/.u64, f32 .f32, f64 .f64,
 * references .ref; COPY/SELECT move the whole 8-byte slot.
 *
 * Calls: the caller places the arguments in its slots [base, base+nparams)
 * (the current stack top), the callee's fp is fp+base, and on return the
 * results are in [base, base+nresults) of the caller's frame. A function
 * returns with RETURN after the compiler has moved its results to fp[0..).
 *
 * Superinstructions (WP_IMM_OPS, WP_BRANCH_OPS, WP_ADD_BRANCH_OPS, COPY2,
 * I32_ADD2, F32_ADD2, F64_ADD2, I32_ADD_SHL, the _ADDR_IMM, _ADDR_ADD, F64_<op>_LOAD,
 * F64_<op>_STORE, F64_MUL_ADD_STORE and F32_<op>_LOAD lines of
 * WP_MEMORY_OPS) are ordinary
 * table lines: the compiler emits them in place of a CONST + binary
 * operation, a compare + BR_IF/BR_IF_NOT, an I32_ADD_IMM + branch, an
 * I32_ADD_IMM or I32_ADD + load/store, an I32_SHL_IMM + I32_ADD, an F64_LOAD
 * + f64 add/sub/mul (f32 likewise, also from a base + index address), such
 * a load-and-compute + a store back to the same
 * address, or two COPYs / adds of one type in a row, when the first result is read
 * only by the second (compile_tables.c: wp_fusions maps each operation
 * to its fused forms; compile_func.c describes each fusion).
 *
 * Fuel and interrupts are checked by FUEL, which the compiler emits at the
 * start of every function and at every loop header (the back-edge target),
 * with the number of wasm instructions of the region as its cost.
 *
 * The operation cell holds, depending on the build, the address of the
 * handler (computed-goto build) or the operation number (portable switch
 * build); compile.c gets it from wp_op_cell() and never looks inside.
 */
#ifndef WP_OPS_H
#define WP_OPS_H

#include "util.h"

#include <stdint.h>

typedef union wp_cell {
    const void *handler; /* computed-goto build */
    uintptr_t op;        /* switch build */
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
} wp_cell;

/* X(NAME, operands, description) */
#define WP_CONTROL_OPS(X)                                                                 \
    X(UNREACHABLE, "", "trap UNREACHABLE")                                                \
    X(BR, "R", "jump to rel")                                                             \
    X(BR_IF, "SR", "if a.i32 != 0 jump to rel")                                           \
    X(BR_IF_NOT, "SR", "if a.i32 == 0 jump to rel")                                       \
    X(BR_TABLE, "SNR...", "i = a.u32; jump to rel[i < n ? i : n] (n+1 offsets follow)")   \
    X(FUEL, "I", "fuel -= imm; trap OUT_OF_FUEL if it goes below 0; trap INTERRUPTED if asked") \
    X(RETURN, "", "return to the caller (results already in fp[0..nresults))")           \
    X(CALL, "XN", "call defined function x with callee fp = fp + base(N)")               \
    X(CALL_IMPORT, "XN", "call imported function x with callee fp = fp + base(N)")       \
    X(CALL_INDIRECT, "XXSN", "call table[x2][a.u32] checked against type x1; fp + base(N)") \
    X(SELECT, "SSSS", "d = c.i32 ? a : b (d, c, a, b)")                                   \
    X(COPY, "SS", "d = a (8 bytes)")                                                      \
    X(COPY2, "SSSS", "d1 = a1, then d2 = a2: two COPYs in a row (d1, a1, d2, a2)")     \
    X(I32_ADD2, "SSSSSS", "d1 = a1 + b1, then d2 = a2 + b2 (i32): two adds in a row")  \
    X(F32_ADD2, "SSSSSS", "d1 = a1 + b1, then d2 = a2 + b2 (f32): two adds in a row")  \
    X(F64_ADD2, "SSSSSS", "d1 = a1 + b1, then d2 = a2 + b2 (f64): two adds in a row")  \
    X(I32_ADD_SHL, "SSSI", "d.i32 = a + (b << imm): an i32.shl by a constant feeding an add") \
    X(CONST, "SI", "d.u64 = imm")                                                         \
    X(GLOBAL_GET, "SX", "d = global x")                                                   \
    X(GLOBAL_SET, "XS", "global x = a")                                                   \
    X(MEMORY_SIZE, "S", "d.i32 = memory 0 size in pages")                                 \
    X(MEMORY_GROW, "SS", "d.i32 = grow memory 0 by a.u32 pages (old size or -1)")         \
    X(MEMORY_INIT, "XSSS", "copy c bytes of data segment x from b to memory at a")        \
    X(DATA_DROP, "X", "drop data segment x")                                              \
    X(MEMORY_COPY, "SSS", "copy c bytes from b to a (memmove)")                           \
    X(MEMORY_FILL, "SSS", "fill c bytes at a with byte b")                                \
    X(TABLE_GET, "SXS", "d.ref = table x [a.u32]")                                        \
    X(TABLE_SET, "XSS", "table x [a.u32] = b.ref")                                        \
    X(TABLE_SIZE, "SX", "d.i32 = size of table x")                                        \
    X(TABLE_GROW, "SXSS", "d.i32 = grow table x by b.u32 elements set to a.ref (old size or -1)") \
    X(TABLE_FILL, "XSSS", "table x [a .. a+c) = b.ref")                                   \
    X(TABLE_COPY, "XXSSS", "copy c elements of table x2 from b to table x1 at a")         \
    X(TABLE_INIT, "XXSSS", "copy c elements of element segment x2 from b to table x1 at a") \
    X(ELEM_DROP, "X", "drop element segment x")                                           \
    X(REF_IS_NULL, "SS", "d.i32 = a.ref == NULL")                                         \
    X(REF_FUNC, "SX", "d.ref = the instance's function x")

/* Loads: d = memory[a.u32 + off]; stores: memory[a.u32 + off] = b. This
 * group stays contiguous with I32_LOAD first (wp_is_memory_op; interp.c
 * gives each a guard-page twin). */
#define WP_MEMORY_OPS(X)                                                  \
    X(I32_LOAD, "SSI", "d.i32 = load 4 bytes")                            \
    X(I64_LOAD, "SSI", "d.i64 = load 8 bytes")                            \
    X(F32_LOAD, "SSI", "d.f32 = load 4 bytes")                            \
    X(F64_LOAD, "SSI", "d.f64 = load 8 bytes")                            \
    X(I32_LOAD8_S, "SSI", "d.i32 = sign-extended byte")                   \
    X(I32_LOAD8_U, "SSI", "d.i32 = zero-extended byte")                   \
    X(I32_LOAD16_S, "SSI", "d.i32 = sign-extended 16 bits")               \
    X(I32_LOAD16_U, "SSI", "d.i32 = zero-extended 16 bits")               \
    X(I64_LOAD8_S, "SSI", "d.i64 = sign-extended byte")                   \
    X(I64_LOAD8_U, "SSI", "d.i64 = zero-extended byte")                   \
    X(I64_LOAD16_S, "SSI", "d.i64 = sign-extended 16 bits")               \
    X(I64_LOAD16_U, "SSI", "d.i64 = zero-extended 16 bits")               \
    X(I64_LOAD32_S, "SSI", "d.i64 = sign-extended 32 bits")               \
    X(I64_LOAD32_U, "SSI", "d.i64 = zero-extended 32 bits")               \
    X(I32_STORE, "SSI", "store b.i32 (a = address, b = value)")           \
    X(I64_STORE, "SSI", "store b.i64")                                    \
    X(F32_STORE, "SSI", "store b.f32 bits")                               \
    X(F64_STORE, "SSI", "store b.f64 bits")                               \
    X(I32_STORE8, "SSI", "store low byte of b.i32")                       \
    X(I32_STORE16, "SSI", "store low 16 bits of b.i32")                   \
    X(I64_STORE8, "SSI", "store low byte of b.i64")                       \
    X(I64_STORE16, "SSI", "store low 16 bits of b.i64")                   \
    X(I64_STORE32, "SSI", "store low 32 bits of b.i64")                   \
    /* Address a.u32 + imm (32-bit wrap), offset 0: an i32.add of a constant \
     * feeding the access (compile_func.c fuses them). */                    \
    X(I32_LOAD_ADDR_IMM, "SSI", "d.i32 = load 4 bytes at a + imm")        \
    X(I64_LOAD_ADDR_IMM, "SSI", "d.i64 = load 8 bytes at a + imm")        \
    X(F32_LOAD_ADDR_IMM, "SSI", "d.f32 = load 4 bytes at a + imm")        \
    X(F64_LOAD_ADDR_IMM, "SSI", "d.f64 = load 8 bytes at a + imm")        \
    X(I32_LOAD8_S_ADDR_IMM, "SSI", "d.i32 = sign-extended byte at a + imm") \
    X(I32_LOAD8_U_ADDR_IMM, "SSI", "d.i32 = zero-extended byte at a + imm") \
    X(I32_LOAD16_S_ADDR_IMM, "SSI", "d.i32 = sign-extended 16 bits at a + imm") \
    X(I32_LOAD16_U_ADDR_IMM, "SSI", "d.i32 = zero-extended 16 bits at a + imm") \
    X(I32_STORE_ADDR_IMM, "SSI", "store b.i32 at a + imm")                \
    X(I64_STORE_ADDR_IMM, "SSI", "store b.i64 at a + imm")                \
    X(F32_STORE_ADDR_IMM, "SSI", "store b.f32 bits at a + imm")           \
    X(F64_STORE_ADDR_IMM, "SSI", "store b.f64 bits at a + imm")           \
    X(I32_STORE8_ADDR_IMM, "SSI", "store low byte of b.i32 at a + imm")   \
    X(I32_STORE16_ADDR_IMM, "SSI", "store low 16 bits of b.i32 at a + imm") \
    /* f64 arithmetic on a value loaded just before (d, a, addr, off/imm):  \
     * d = a op m, m the f64 at addr + off, or at (addr + imm) mod 2^32. */ \
    X(F64_ADD_LOAD, "SSSI", "d.f64 = a.f64 + f64 at b + off")            \
    X(F64_SUB_LOAD, "SSSI", "d.f64 = a.f64 - f64 at b + off")            \
    X(F64_MUL_LOAD, "SSSI", "d.f64 = a.f64 * f64 at b + off")            \
    X(F64_ADD_LOAD_ADDR_IMM, "SSSI", "d.f64 = a.f64 + f64 at b + imm")   \
    X(F64_SUB_LOAD_ADDR_IMM, "SSSI", "d.f64 = a.f64 - f64 at b + imm")   \
    X(F64_MUL_LOAD_ADDR_IMM, "SSSI", "d.f64 = a.f64 * f64 at b + imm")   \
    /* The same for f32 (d = a op m, m the f32 at addr + off / + imm). */   \
    X(F32_ADD_LOAD, "SSSI", "d.f32 = a.f32 + f32 at b + off")            \
    X(F32_SUB_LOAD, "SSSI", "d.f32 = a.f32 - f32 at b + off")            \
    X(F32_MUL_LOAD, "SSSI", "d.f32 = a.f32 * f32 at b + off")            \
    X(F32_ADD_LOAD_ADDR_IMM, "SSSI", "d.f32 = a.f32 + f32 at b + imm")   \
    X(F32_SUB_LOAD_ADDR_IMM, "SSSI", "d.f32 = a.f32 - f32 at b + imm")   \
    X(F32_MUL_LOAD_ADDR_IMM, "SSSI", "d.f32 = a.f32 * f32 at b + imm")   \
    /* Read-modify-write: an F64_<op>_LOAD whose result is stored back to \
     * the address it loaded from (a[i] += x): m = f64 at a + off,         \
     * then f64 at a + off = b.f64 op m. */                                 \
    X(F64_ADD_STORE, "SSI", "f64 at a + off = b.f64 + f64 at a + off")    \
    X(F64_SUB_STORE, "SSI", "f64 at a + off = b.f64 - f64 at a + off")    \
    X(F64_MUL_STORE, "SSI", "f64 at a + off = b.f64 * f64 at a + off")    \
    /* a[i] += k * b[j] (a, off, k, b, off2 / imm): f64 at a + off =      \
     * k.f64 * (f64 at b + off2, or at (b + imm) mod 2^32) + f64 at a + off. */ \
    X(F64_MUL_ADD_STORE, "SISSI", "f64 at a + off += k.f64 * f64 at b + off2") \
    X(F64_MUL_ADD_STORE_ADDR_IMM, "SISSI", "f64 at a + off += k.f64 * f64 at b + imm") \
    /* Address (a.u32 + b.u32) mod 2^32 + off: an i32.add of two values     \
     * feeding the access (loads d, a, b, off; stores a, b, value, off).    \
     * The off cell holds the 32-bit offset; bits 32-36 a shift k of b      \
     * (from an I32_ADD_SHL): ((a + (b << k)) mod 2^32) + off. No f64.load  \
     * form: that one fuses with the arithmetic after it. */                \
    X(I32_LOAD_ADDR_ADD, "SSSI", "d.i32 = load 4 bytes at a + b + off")   \
    X(I64_LOAD_ADDR_ADD, "SSSI", "d.i64 = load 8 bytes at a + b + off")   \
    X(F32_LOAD_ADDR_ADD, "SSSI", "d.f32 = load 4 bytes at a + b + off")   \
    X(I32_LOAD8_S_ADDR_ADD, "SSSI", "d.i32 = sign-extended byte at a + b + off") \
    X(I32_LOAD8_U_ADDR_ADD, "SSSI", "d.i32 = zero-extended byte at a + b + off") \
    X(I32_LOAD16_S_ADDR_ADD, "SSSI", "d.i32 = sign-extended 16 bits at a + b + off") \
    X(I32_LOAD16_U_ADDR_ADD, "SSSI", "d.i32 = zero-extended 16 bits at a + b + off") \
    X(I32_STORE_ADDR_ADD, "SSSI", "store c.i32 at a + b + off")           \
    X(I64_STORE_ADDR_ADD, "SSSI", "store c.i64 at a + b + off")           \
    X(F32_STORE_ADDR_ADD, "SSSI", "store c.f32 bits at a + b + off")      \
    X(F64_STORE_ADDR_ADD, "SSSI", "store c.f64 bits at a + b + off")      \
    X(I32_STORE8_ADDR_ADD, "SSSI", "store low byte of c.i32 at a + b + off") \
    X(I32_STORE16_ADDR_ADD, "SSSI", "store low 16 bits of c.i32 at a + b + off") \
    /* f32 arithmetic on a value loaded just before from a sum (d, a, base, \
     * index, off as in the _ADDR_ADD loads): d = a op m, m the f32 at      \
     * ((base + (index << k)) mod 2^32) + off. */                           \
    X(F32_ADD_LOAD_ADDR_ADD, "SSSSI", "d.f32 = a.f32 + f32 at b + c + off") \
    X(F32_SUB_LOAD_ADDR_ADD, "SSSSI", "d.f32 = a.f32 - f32 at b + c + off") \
    X(F32_MUL_LOAD_ADDR_ADD, "SSSSI", "d.f32 = a.f32 * f32 at b + c + off")

/* Unary numeric operations: d = op(a). Semantics are the wasm instruction's
 * of the same name (I32_WRAP_I64 is i32.wrap_i64, and so on). */
#define WP_UNARY_OPS(X)                                                        \
    X(I32_EQZ, "SS", "i32.eqz") X(I64_EQZ, "SS", "i64.eqz")                     \
    X(I32_CLZ, "SS", "i32.clz") X(I32_CTZ, "SS", "i32.ctz")                     \
    X(I32_POPCNT, "SS", "i32.popcnt")                                          \
    X(I64_CLZ, "SS", "i64.clz") X(I64_CTZ, "SS", "i64.ctz")                     \
    X(I64_POPCNT, "SS", "i64.popcnt")                                          \
    X(F32_ABS, "SS", "f32.abs") X(F32_NEG, "SS", "f32.neg")                     \
    X(F32_CEIL, "SS", "f32.ceil") X(F32_FLOOR, "SS", "f32.floor")               \
    X(F32_TRUNC, "SS", "f32.trunc") X(F32_NEAREST, "SS", "f32.nearest")         \
    X(F32_SQRT, "SS", "f32.sqrt")                                              \
    X(F64_ABS, "SS", "f64.abs") X(F64_NEG, "SS", "f64.neg")                     \
    X(F64_CEIL, "SS", "f64.ceil") X(F64_FLOOR, "SS", "f64.floor")               \
    X(F64_TRUNC, "SS", "f64.trunc") X(F64_NEAREST, "SS", "f64.nearest")         \
    X(F64_SQRT, "SS", "f64.sqrt")                                              \
    X(I32_WRAP_I64, "SS", "i32.wrap_i64")                                      \
    X(I32_TRUNC_F32_S, "SS", "i32.trunc_f32_s (traps)")                         \
    X(I32_TRUNC_F32_U, "SS", "i32.trunc_f32_u (traps)")                         \
    X(I32_TRUNC_F64_S, "SS", "i32.trunc_f64_s (traps)")                         \
    X(I32_TRUNC_F64_U, "SS", "i32.trunc_f64_u (traps)")                         \
    X(I64_EXTEND_I32_S, "SS", "i64.extend_i32_s")                               \
    X(I64_EXTEND_I32_U, "SS", "i64.extend_i32_u")                               \
    X(I64_TRUNC_F32_S, "SS", "i64.trunc_f32_s (traps)")                         \
    X(I64_TRUNC_F32_U, "SS", "i64.trunc_f32_u (traps)")                         \
    X(I64_TRUNC_F64_S, "SS", "i64.trunc_f64_s (traps)")                         \
    X(I64_TRUNC_F64_U, "SS", "i64.trunc_f64_u (traps)")                         \
    X(F32_CONVERT_I32_S, "SS", "f32.convert_i32_s")                             \
    X(F32_CONVERT_I32_U, "SS", "f32.convert_i32_u")                             \
    X(F32_CONVERT_I64_S, "SS", "f32.convert_i64_s")                             \
    X(F32_CONVERT_I64_U, "SS", "f32.convert_i64_u")                             \
    X(F32_DEMOTE_F64, "SS", "f32.demote_f64")                                   \
    X(F64_CONVERT_I32_S, "SS", "f64.convert_i32_s")                             \
    X(F64_CONVERT_I32_U, "SS", "f64.convert_i32_u")                             \
    X(F64_CONVERT_I64_S, "SS", "f64.convert_i64_s")                             \
    X(F64_CONVERT_I64_U, "SS", "f64.convert_i64_u")                             \
    X(F64_PROMOTE_F32, "SS", "f64.promote_f32")                                 \
    X(I32_EXTEND8_S, "SS", "i32.extend8_s") X(I32_EXTEND16_S, "SS", "i32.extend16_s") \
    X(I64_EXTEND8_S, "SS", "i64.extend8_s") X(I64_EXTEND16_S, "SS", "i64.extend16_s") \
    X(I64_EXTEND32_S, "SS", "i64.extend32_s")                                   \
    X(I32_TRUNC_SAT_F32_S, "SS", "i32.trunc_sat_f32_s")                         \
    X(I32_TRUNC_SAT_F32_U, "SS", "i32.trunc_sat_f32_u")                         \
    X(I32_TRUNC_SAT_F64_S, "SS", "i32.trunc_sat_f64_s")                         \
    X(I32_TRUNC_SAT_F64_U, "SS", "i32.trunc_sat_f64_u")                         \
    X(I64_TRUNC_SAT_F32_S, "SS", "i64.trunc_sat_f32_s")                         \
    X(I64_TRUNC_SAT_F32_U, "SS", "i64.trunc_sat_f32_u")                         \
    X(I64_TRUNC_SAT_F64_S, "SS", "i64.trunc_sat_f64_s")                         \
    X(I64_TRUNC_SAT_F64_U, "SS", "i64.trunc_sat_f64_u")
/* Reinterpretations are plain COPYs: slots hold bit patterns. */

/* Binary numeric operations: d = op(a, b). */
#define WP_BINARY_OPS(X)                                                              \
    X(I32_EQ, "SSS", "i32.eq") X(I32_NE, "SSS", "i32.ne")                              \
    X(I32_LT_S, "SSS", "i32.lt_s") X(I32_LT_U, "SSS", "i32.lt_u")                      \
    X(I32_GT_S, "SSS", "i32.gt_s") X(I32_GT_U, "SSS", "i32.gt_u")                      \
    X(I32_LE_S, "SSS", "i32.le_s") X(I32_LE_U, "SSS", "i32.le_u")                      \
    X(I32_GE_S, "SSS", "i32.ge_s") X(I32_GE_U, "SSS", "i32.ge_u")                      \
    X(I64_EQ, "SSS", "i64.eq") X(I64_NE, "SSS", "i64.ne")                              \
    X(I64_LT_S, "SSS", "i64.lt_s") X(I64_LT_U, "SSS", "i64.lt_u")                      \
    X(I64_GT_S, "SSS", "i64.gt_s") X(I64_GT_U, "SSS", "i64.gt_u")                      \
    X(I64_LE_S, "SSS", "i64.le_s") X(I64_LE_U, "SSS", "i64.le_u")                      \
    X(I64_GE_S, "SSS", "i64.ge_s") X(I64_GE_U, "SSS", "i64.ge_u")                      \
    X(F32_EQ, "SSS", "f32.eq") X(F32_NE, "SSS", "f32.ne") X(F32_LT, "SSS", "f32.lt")   \
    X(F32_GT, "SSS", "f32.gt") X(F32_LE, "SSS", "f32.le") X(F32_GE, "SSS", "f32.ge")   \
    X(F64_EQ, "SSS", "f64.eq") X(F64_NE, "SSS", "f64.ne") X(F64_LT, "SSS", "f64.lt")   \
    X(F64_GT, "SSS", "f64.gt") X(F64_LE, "SSS", "f64.le") X(F64_GE, "SSS", "f64.ge")   \
    X(I32_ADD, "SSS", "i32.add") X(I32_SUB, "SSS", "i32.sub") X(I32_MUL, "SSS", "i32.mul") \
    X(I32_DIV_S, "SSS", "i32.div_s (traps)") X(I32_DIV_U, "SSS", "i32.div_u (traps)")  \
    X(I32_REM_S, "SSS", "i32.rem_s (traps)") X(I32_REM_U, "SSS", "i32.rem_u (traps)")  \
    X(I32_AND, "SSS", "i32.and") X(I32_OR, "SSS", "i32.or") X(I32_XOR, "SSS", "i32.xor") \
    X(I32_SHL, "SSS", "i32.shl") X(I32_SHR_S, "SSS", "i32.shr_s")                      \
    X(I32_SHR_U, "SSS", "i32.shr_u") X(I32_ROTL, "SSS", "i32.rotl")                    \
    X(I32_ROTR, "SSS", "i32.rotr")                                                     \
    X(I64_ADD, "SSS", "i64.add") X(I64_SUB, "SSS", "i64.sub") X(I64_MUL, "SSS", "i64.mul") \
    X(I64_DIV_S, "SSS", "i64.div_s (traps)") X(I64_DIV_U, "SSS", "i64.div_u (traps)")  \
    X(I64_REM_S, "SSS", "i64.rem_s (traps)") X(I64_REM_U, "SSS", "i64.rem_u (traps)")  \
    X(I64_AND, "SSS", "i64.and") X(I64_OR, "SSS", "i64.or") X(I64_XOR, "SSS", "i64.xor") \
    X(I64_SHL, "SSS", "i64.shl") X(I64_SHR_S, "SSS", "i64.shr_s")                      \
    X(I64_SHR_U, "SSS", "i64.shr_u") X(I64_ROTL, "SSS", "i64.rotl")                    \
    X(I64_ROTR, "SSS", "i64.rotr")                                                     \
    X(F32_ADD, "SSS", "f32.add") X(F32_SUB, "SSS", "f32.sub") X(F32_MUL, "SSS", "f32.mul") \
    X(F32_DIV, "SSS", "f32.div") X(F32_MIN, "SSS", "f32.min") X(F32_MAX, "SSS", "f32.max") \
    X(F32_COPYSIGN, "SSS", "f32.copysign")                                             \
    X(F64_ADD, "SSS", "f64.add") X(F64_SUB, "SSS", "f64.sub") X(F64_MUL, "SSS", "f64.mul") \
    X(F64_DIV, "SSS", "f64.div") X(F64_MIN, "SSS", "f64.min") X(F64_MAX, "SSS", "f64.max") \
    X(F64_COPYSIGN, "SSS", "f64.copysign")

/* Superinstructions (compile_func.c fuses them; each is one dispatch).
 * Binary operations with a constant second operand: d = op(a, imm); i32
 * forms read the low 32 bits of imm. (sub of a constant is ADD_IMM of its
 * negation, so the _ADDR_IMM loads/stores below see it as well.) */
#define WP_IMM_OPS(X)                                                 \
    X(I32_ADD_IMM, "SSI", "i32.add with b = imm")                             \
    X(I32_MUL_IMM, "SSI", "i32.mul with b = imm")                             \
    X(I32_AND_IMM, "SSI", "i32.and with b = imm")                             \
    X(I32_OR_IMM, "SSI", "i32.or with b = imm")                               \
    X(I32_XOR_IMM, "SSI", "i32.xor with b = imm")                             \
    X(I32_SHL_IMM, "SSI", "i32.shl with b = imm")                             \
    X(I32_SHR_S_IMM, "SSI", "i32.shr_s with b = imm")                         \
    X(I32_SHR_U_IMM, "SSI", "i32.shr_u with b = imm")                         \
    X(I32_ROTL_IMM, "SSI", "i32.rotl with b = imm")                           \
    X(I32_ROTR_IMM, "SSI", "i32.rotr with b = imm")                           \
    X(I32_EQ_IMM, "SSI", "i32.eq with b = imm")                               \
    X(I32_NE_IMM, "SSI", "i32.ne with b = imm")                               \
    X(I32_LT_S_IMM, "SSI", "i32.lt_s with b = imm")                           \
    X(I32_LT_U_IMM, "SSI", "i32.lt_u with b = imm")                           \
    X(I32_GT_S_IMM, "SSI", "i32.gt_s with b = imm")                           \
    X(I32_GT_U_IMM, "SSI", "i32.gt_u with b = imm")                           \
    X(I32_LE_S_IMM, "SSI", "i32.le_s with b = imm")                           \
    X(I32_LE_U_IMM, "SSI", "i32.le_u with b = imm")                           \
    X(I32_GE_S_IMM, "SSI", "i32.ge_s with b = imm")                           \
    X(I32_GE_U_IMM, "SSI", "i32.ge_u with b = imm")                           \
    X(I64_ADD_IMM, "SSI", "i64.add with b = imm")                             \
    X(I64_MUL_IMM, "SSI", "i64.mul with b = imm")                             \
    X(I64_AND_IMM, "SSI", "i64.and with b = imm")                             \
    X(I64_OR_IMM, "SSI", "i64.or with b = imm")                               \
    X(I64_XOR_IMM, "SSI", "i64.xor with b = imm")                             \
    X(I64_SHL_IMM, "SSI", "i64.shl with b = imm")                             \
    X(I64_SHR_S_IMM, "SSI", "i64.shr_s with b = imm")                         \
    X(I64_SHR_U_IMM, "SSI", "i64.shr_u with b = imm")                         \
    X(I64_ROTL_IMM, "SSI", "i64.rotl with b = imm")                           \
    X(I64_ROTR_IMM, "SSI", "i64.rotr with b = imm")                           \
    X(I64_EQ_IMM, "SSI", "i64.eq with b = imm")                               \
    X(I64_NE_IMM, "SSI", "i64.ne with b = imm")                               \
    X(I64_LT_S_IMM, "SSI", "i64.lt_s with b = imm")                           \
    X(I64_LT_U_IMM, "SSI", "i64.lt_u with b = imm")                           \
    X(I64_GT_S_IMM, "SSI", "i64.gt_s with b = imm")                           \
    X(I64_GT_U_IMM, "SSI", "i64.gt_u with b = imm")                           \
    X(I64_LE_S_IMM, "SSI", "i64.le_s with b = imm")                           \
    X(I64_LE_U_IMM, "SSI", "i64.le_u with b = imm")                           \
    X(I64_GE_S_IMM, "SSI", "i64.ge_s with b = imm")                           \
    X(I64_GE_U_IMM, "SSI", "i64.ge_u with b = imm")

/* Compare-and-branch: jump to rel if the comparison holds (a br_if or if
 * whose condition is the compare emitted just before it). _IMM: b = imm. */
#define WP_BRANCH_OPS(X)                                              \
    X(BR_IF_I32_EQ, "SSR", "if a.i32 == b jump to rel")                       \
    X(BR_IF_I32_EQ_IMM, "SIR", "if a.i32 == imm jump to rel")                 \
    X(BR_IF_I32_NE, "SSR", "if a.i32 != b jump to rel")                       \
    X(BR_IF_I32_NE_IMM, "SIR", "if a.i32 != imm jump to rel")                 \
    X(BR_IF_I32_LT_S, "SSR", "if a.i32 < (signed) b jump to rel")             \
    X(BR_IF_I32_LT_S_IMM, "SIR", "if a.i32 < (signed) imm jump to rel")       \
    X(BR_IF_I32_LT_U, "SSR", "if a.i32 < (unsigned) b jump to rel")           \
    X(BR_IF_I32_LT_U_IMM, "SIR", "if a.i32 < (unsigned) imm jump to rel")     \
    X(BR_IF_I32_GT_S, "SSR", "if a.i32 > (signed) b jump to rel")             \
    X(BR_IF_I32_GT_S_IMM, "SIR", "if a.i32 > (signed) imm jump to rel")       \
    X(BR_IF_I32_GT_U, "SSR", "if a.i32 > (unsigned) b jump to rel")           \
    X(BR_IF_I32_GT_U_IMM, "SIR", "if a.i32 > (unsigned) imm jump to rel")     \
    X(BR_IF_I32_LE_S, "SSR", "if a.i32 <= (signed) b jump to rel")            \
    X(BR_IF_I32_LE_S_IMM, "SIR", "if a.i32 <= (signed) imm jump to rel")      \
    X(BR_IF_I32_LE_U, "SSR", "if a.i32 <= (unsigned) b jump to rel")          \
    X(BR_IF_I32_LE_U_IMM, "SIR", "if a.i32 <= (unsigned) imm jump to rel")    \
    X(BR_IF_I32_GE_S, "SSR", "if a.i32 >= (signed) b jump to rel")            \
    X(BR_IF_I32_GE_S_IMM, "SIR", "if a.i32 >= (signed) imm jump to rel")      \
    X(BR_IF_I32_GE_U, "SSR", "if a.i32 >= (unsigned) b jump to rel")          \
    X(BR_IF_I32_GE_U_IMM, "SIR", "if a.i32 >= (unsigned) imm jump to rel")    \
    X(BR_IF_I64_EQ, "SSR", "if a.i64 == b jump to rel")                       \
    X(BR_IF_I64_EQ_IMM, "SIR", "if a.i64 == imm jump to rel")                 \
    X(BR_IF_I64_NE, "SSR", "if a.i64 != b jump to rel")                       \
    X(BR_IF_I64_NE_IMM, "SIR", "if a.i64 != imm jump to rel")                 \
    X(BR_IF_I64_LT_S, "SSR", "if a.i64 < (signed) b jump to rel")             \
    X(BR_IF_I64_LT_S_IMM, "SIR", "if a.i64 < (signed) imm jump to rel")       \
    X(BR_IF_I64_LT_U, "SSR", "if a.i64 < (unsigned) b jump to rel")           \
    X(BR_IF_I64_LT_U_IMM, "SIR", "if a.i64 < (unsigned) imm jump to rel")     \
    X(BR_IF_I64_GT_S, "SSR", "if a.i64 > (signed) b jump to rel")             \
    X(BR_IF_I64_GT_S_IMM, "SIR", "if a.i64 > (signed) imm jump to rel")       \
    X(BR_IF_I64_GT_U, "SSR", "if a.i64 > (unsigned) b jump to rel")           \
    X(BR_IF_I64_GT_U_IMM, "SIR", "if a.i64 > (unsigned) imm jump to rel")     \
    X(BR_IF_I64_LE_S, "SSR", "if a.i64 <= (signed) b jump to rel")            \
    X(BR_IF_I64_LE_S_IMM, "SIR", "if a.i64 <= (signed) imm jump to rel")      \
    X(BR_IF_I64_LE_U, "SSR", "if a.i64 <= (unsigned) b jump to rel")          \
    X(BR_IF_I64_LE_U_IMM, "SIR", "if a.i64 <= (unsigned) imm jump to rel")    \
    X(BR_IF_I64_GE_S, "SSR", "if a.i64 >= (signed) b jump to rel")            \
    X(BR_IF_I64_GE_S_IMM, "SIR", "if a.i64 >= (signed) imm jump to rel")      \
    X(BR_IF_I64_GE_U, "SSR", "if a.i64 >= (unsigned) b jump to rel")          \
    X(BR_IF_I64_GE_U_IMM, "SIR", "if a.i64 >= (unsigned) imm jump to rel")

/* A loop's closing step: an I32_ADD_IMM (d = a + imm, d usually the
 * counter itself) followed by a branch testing d, as one instruction: the
 * BR_IF/BR_IF_NOT and i32 compare-and-branch forms with the add in front
 * (operands d, a, imm, then the branch's b or k and rel). */
#define WP_ADD_BRANCH_OPS(X) \
    X(ADD_BR_IF, "SSIR", "d.i32 = a + imm; if d != 0 jump to rel") \
    X(ADD_BR_IF_NOT, "SSIR", "d.i32 = a + imm; if d == 0 jump to rel") \
    X(ADD_BR_IF_I32_EQ, "SSISR", "d.i32 = a + imm; if d == b jump to rel") \
    X(ADD_BR_IF_I32_EQ_IMM, "SSIIR", "d.i32 = a + imm; if d == k jump to rel") \
    X(ADD_BR_IF_I32_NE, "SSISR", "d.i32 = a + imm; if d != b jump to rel") \
    X(ADD_BR_IF_I32_NE_IMM, "SSIIR", "d.i32 = a + imm; if d != k jump to rel") \
    X(ADD_BR_IF_I32_LT_S, "SSISR", "d.i32 = a + imm; if d < (signed) b jump to rel") \
    X(ADD_BR_IF_I32_LT_S_IMM, "SSIIR", "d.i32 = a + imm; if d < (signed) k jump to rel") \
    X(ADD_BR_IF_I32_LT_U, "SSISR", "d.i32 = a + imm; if d < (unsigned) b jump to rel") \
    X(ADD_BR_IF_I32_LT_U_IMM, "SSIIR", "d.i32 = a + imm; if d < (unsigned) k jump to rel") \
    X(ADD_BR_IF_I32_GT_S, "SSISR", "d.i32 = a + imm; if d > (signed) b jump to rel") \
    X(ADD_BR_IF_I32_GT_S_IMM, "SSIIR", "d.i32 = a + imm; if d > (signed) k jump to rel") \
    X(ADD_BR_IF_I32_GT_U, "SSISR", "d.i32 = a + imm; if d > (unsigned) b jump to rel") \
    X(ADD_BR_IF_I32_GT_U_IMM, "SSIIR", "d.i32 = a + imm; if d > (unsigned) k jump to rel") \
    X(ADD_BR_IF_I32_LE_S, "SSISR", "d.i32 = a + imm; if d <= (signed) b jump to rel") \
    X(ADD_BR_IF_I32_LE_S_IMM, "SSIIR", "d.i32 = a + imm; if d <= (signed) k jump to rel") \
    X(ADD_BR_IF_I32_LE_U, "SSISR", "d.i32 = a + imm; if d <= (unsigned) b jump to rel") \
    X(ADD_BR_IF_I32_LE_U_IMM, "SSIIR", "d.i32 = a + imm; if d <= (unsigned) k jump to rel") \
    X(ADD_BR_IF_I32_GE_S, "SSISR", "d.i32 = a + imm; if d >= (signed) b jump to rel") \
    X(ADD_BR_IF_I32_GE_S_IMM, "SSIIR", "d.i32 = a + imm; if d >= (signed) k jump to rel") \
    X(ADD_BR_IF_I32_GE_U, "SSISR", "d.i32 = a + imm; if d >= (unsigned) b jump to rel") \
    X(ADD_BR_IF_I32_GE_U_IMM, "SSIIR", "d.i32 = a + imm; if d >= (unsigned) k jump to rel")

/* SIMD (WebAssembly 2.0, 0xFD prefix; simd.h). A v128 value occupies two
 * consecutive slots (d, a, b, c name the first; low 8 bytes first). N is the
 * instruction's sub-opcode (the generic forms call simd.c), L a lane index.
 * SIMD memory accesses check bounds explicitly in both bounds modes (the
 * effective address a.u32 + off plus the access size must fit the memory). */
#define WP_SIMD_OPS(X)                                                                    \
    X(V128_CONST, "SII", "d = the v128 whose low 8 bytes are imm1, high 8 bytes imm2")    \
    X(V128_COPY, "SS", "d = a (16 bytes: two slots)")                                     \
    X(V128_SELECT, "SSSS", "d = c.i32 ? a : b, v128 operands (d, c, a, b)")               \
    X(V128_GLOBAL_GET, "SX", "d = global x (v128)")                                       \
    X(V128_GLOBAL_SET, "XS", "global x = a (v128)")                                       \
    X(SIMD1, "SSN", "d = op N (a): unary, splat, any_true/all_true/bitmask")              \
    X(SIMD2, "SSSN", "d = op N (a, b): binary, compare, shift (b i32)")                   \
    X(SIMD3, "SSSSN", "d = op N (a, b, c): v128.bitselect")                               \
    X(SIMD_LANE, "SSSNN", "d = op N (a, b) on lane L: extract_lane (b unused), replace_lane") \
    X(SIMD_SHUFFLE, "SSSII", "d = i8x16.shuffle a b; lane indices: bytes of imm1, imm2")  \
    X(SIMD_LOAD, "SSIN", "d = load form N (load, extend, splat, zero) at a + off")        \
    X(SIMD_STORE, "SSIN", "store v128 b at a + off (N = v128.store)")                     \
    X(SIMD_LOAD_LANE, "SSSINN", "d = v128 b with lane L loaded (form N) from a + off (d, a, b, off, N, L)") \
    X(SIMD_STORE_LANE, "SSINN", "store lane L (form N) of v128 b at a + off (a, b, off, N, L)") \
    /* The most used instructions as operations of their own (one dispatch, \
     * no call: simd.h WP_SIMD_FAST lists them with their sub-opcodes). */ \
    X(V128_LOAD, "SSI", "v128.load: d = 16 bytes at a + off") \
    X(V128_LOAD8X8_S, "SSI", "v128.load8x8_s at a + off") \
    X(V128_LOAD8X8_U, "SSI", "v128.load8x8_u at a + off") \
    X(V128_LOAD16X4_S, "SSI", "v128.load16x4_s at a + off") \
    X(V128_LOAD16X4_U, "SSI", "v128.load16x4_u at a + off") \
    X(V128_LOAD32X2_S, "SSI", "v128.load32x2_s at a + off") \
    X(V128_LOAD32X2_U, "SSI", "v128.load32x2_u at a + off") \
    X(I32X4_SPLAT, "SS", "i32x4.splat (also f32x4.splat: the same bits)") \
    X(I32X4_EXTRACT_LANE, "SSN", "i32x4.extract_lane L (also f32x4's): d = lane L of a") \
    X(I8X16_ADD, "SSS", "i8x16.add: d = a op b") \
    X(I8X16_SUB, "SSS", "i8x16.sub: d = a op b") \
    X(I16X8_ADD, "SSS", "i16x8.add: d = a op b") \
    X(I16X8_SUB, "SSS", "i16x8.sub: d = a op b") \
    X(I16X8_MUL, "SSS", "i16x8.mul: d = a op b") \
    X(I32X4_ADD, "SSS", "i32x4.add: d = a op b") \
    X(I32X4_SUB, "SSS", "i32x4.sub: d = a op b") \
    X(I32X4_MUL, "SSS", "i32x4.mul: d = a op b") \
    X(I64X2_ADD, "SSS", "i64x2.add: d = a op b") \
    X(I64X2_SUB, "SSS", "i64x2.sub: d = a op b") \
    X(V128_AND, "SSS", "v128.and: d = a op b") \
    X(V128_OR, "SSS", "v128.or: d = a op b") \
    X(V128_XOR, "SSS", "v128.xor: d = a op b") \
    X(F32X4_ADD, "SSS", "f32x4.add: d = a op b") \
    X(F32X4_SUB, "SSS", "f32x4.sub: d = a op b") \
    X(F32X4_MUL, "SSS", "f32x4.mul: d = a op b") \
    X(F32X4_DIV, "SSS", "f32x4.div: d = a op b") \
    X(F64X2_ADD, "SSS", "f64x2.add: d = a op b") \
    X(F64X2_SUB, "SSS", "f64x2.sub: d = a op b") \
    X(F64X2_MUL, "SSS", "f64x2.mul: d = a op b") \
    X(F64X2_DIV, "SSS", "f64x2.div: d = a op b") \
    X(I16X8_SHL, "SSS", "i16x8.shl: d = a op b (b: i32 count)") \
    X(I16X8_SHR_U, "SSS", "i16x8.shr_u: d = a op b (b: i32 count)") \
    X(I16X8_SHR_S, "SSS", "i16x8.shr_s: d = a op b (b: i32 count)") \
    X(I32X4_SHL, "SSS", "i32x4.shl: d = a op b (b: i32 count)") \
    X(I32X4_SHR_U, "SSS", "i32x4.shr_u: d = a op b (b: i32 count)") \
    X(I32X4_SHR_S, "SSS", "i32x4.shr_s: d = a op b (b: i32 count)")

#define WP_ALL_OPS(X)                                                           \
    WP_CONTROL_OPS(X) WP_MEMORY_OPS(X) WP_UNARY_OPS(X) WP_BINARY_OPS(X) WP_IMM_OPS(X) \
    WP_BRANCH_OPS(X) WP_ADD_BRANCH_OPS(X) WP_SIMD_OPS(X)

typedef enum wp_op {
#define WP_X_ENUM(name, operands, doc) WP_OP_##name,
    WP_ALL_OPS(WP_X_ENUM)
#undef WP_X_ENUM
    WP_OP_COUNT
} wp_op;

enum {
#define WP_X_ONE(name, operands, doc) +1
    WP_MEMORY_OP_COUNT = 0 WP_MEMORY_OPS(WP_X_ONE)
#undef WP_X_ONE
};

/* Is op one of WP_MEMORY_OPS (the operations touching linear memory)? */
static inline bool wp_is_memory_op(wp_op op)
{
    return op >= WP_OP_I32_LOAD && op < WP_OP_I32_LOAD + WP_MEMORY_OP_COUNT;
}

/* Whether op's last I operand packs a shift count (bits 32-36) above its
 * 32-bit offset: the _ADDR_ADD forms. */
static inline bool wp_imm_packs_shift(wp_op op)
{
    return op >= WP_OP_I32_LOAD_ADDR_ADD && op <= WP_OP_F32_MUL_LOAD_ADDR_ADD;
}

/* interp.c: the operation cell for op in this build (handler address or number). */
WP_INTERNAL wp_cell wp_op_cell(wp_op op);
/* interp.c: the operation cell for op when memory accesses use the given
 * bounds mode (guard pages: unchecked loads/stores; explicit: checked). The
 * compiler uses this one; wp_op_cell gives the explicit-check form. */
WP_INTERNAL wp_cell wp_op_cell_bounds(wp_op op, wasmplug_bounds_mode bounds);
/* interp.c: the operation a cell holds (for disassembly and tests). */
WP_INTERNAL wp_op wp_cell_op(wp_cell cell);

#endif
