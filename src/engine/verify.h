/*
 * verify.h - the verifier of compiled code loaded from outside the process
 * (serialize.c reads it; verify.c checks it).
 */
#ifndef WP_VERIFY_H
#define WP_VERIFY_H

#include "module.h"

/* The operand letters of each operation (ops.h), indexed by wp_op. */
WP_INTERNAL extern const char *const wp_op_operands[WP_OP_COUNT];

/*
 * Check that the code of defined function fi of m, read from a serialized
 * module, can do nothing that code from the compiler could not do, whatever
 * the bytes were. serialize.c has already checked the instruction stream
 * (operations, operand ranges, slot and index bounds, branch targets on
 * instruction starts, fuel costs, loop headers); ops_at[pc] is the operation
 * number + 1 at each instruction start of c->cells and 0 inside
 * instructions.
 *
 * What this adds follows every path through the code, as validation
 * follows the stack, with the kind of value each slot holds: a number, a
 * function reference, an external reference, a zero (which is any of them:
 * zeroed locals, the null reference), or unknown (a callee's frame, paths
 * that disagree). It refuses:
 *   - a slot read as a reference that may hold anything else (a number
 *     stored into a table and called through, a forged host pointer), or
 *     read as a number while it may hold a reference (an address leaked to
 *     wasm code) or nothing written yet;
 *   - reference operations on tables, globals and segments of another
 *     element type, writes to immutable globals, calls through tables that
 *     do not hold functions;
 *   - arguments, results and returned values that do not match the callee's
 *     or the function's type;
 *   - memory operations in a module without memory, SIMD sub-operations of
 *     another form, lanes out of range;
 *   - code that runs past its last cell.
 * Functions too large to verify in bounded time and memory are refused as
 * well (the cache then compiles the module again). Fails with
 * WASMPLUG_ERR_SERIALIZATION naming the function, the cell and the slot.
 */
WP_INTERNAL wasmplug_status wp_verify_code(const wasmplug_module *m, uint32_t fi,
                                           const wp_code *c, const uint16_t *ops_at,
                                           wasmplug_error *err);

#endif
