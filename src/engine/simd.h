/*
 * simd.h - the fixed-width SIMD instructions of WebAssembly 2.0 (opcode
 * prefix 0xFD): one table describing each instruction for the validator
 * (compile_func.c) and the lane semantics the interpreter runs (simd.c).
 *
 * A v128 value occupies two consecutive 8-byte slots (low lanes first, the
 * little-endian byte order of the wasm value), so scalar code and its slots
 * are unchanged. The interpreter's SIMD operations (ops.h WP_SIMD_OPS) carry
 * the instruction's sub-opcode and call into simd.c, which computes with the
 * compiler's vector extensions where they give the spec's exact result
 * (GCC/clang: SSE2 on x86-64, NEON on ARM) and lane by lane otherwise.
 */
#ifndef WP_SIMD_H
#define WP_SIMD_H

#include "util.h"

#include <stdint.h>

/* How an instruction is validated and compiled. */
enum wp_simd_kind {
    WP_SK_NONE = 0,  /* no such instruction */
    WP_SK_LOAD,      /* memarg; i32 -> v128 (param: natural alignment log2) */
    WP_SK_STORE,     /* memarg; i32 v128 -> */
    WP_SK_CONST,     /* 16 immediate bytes; -> v128 */
    WP_SK_SHUFFLE,   /* 16 lane indices < 32; v128 v128 -> v128 */
    WP_SK_UNARY,     /* a -> r */
    WP_SK_BINARY,    /* a b -> r */
    WP_SK_TERNARY,   /* v128 v128 v128 -> v128 */
    WP_SK_EXTRACT,   /* lane; v128 -> r (param: lane count) */
    WP_SK_REPLACE,   /* lane; v128 b -> v128 (param: lane count) */
    WP_SK_LOAD_LANE, /* memarg lane; i32 v128 -> v128 (param: lane count) */
    WP_SK_STORE_LANE /* memarg lane; i32 v128 -> (param: lane count) */
};

/* Operand/result types in the table: V v128, i i32, I i64, f f32, F f64,
 * '-' none. */
typedef struct wp_simd_info {
    uint8_t kind;    /* enum wp_simd_kind */
    char a, b, r;    /* first operand, second operand, result */
    uint8_t param;
    const char *name;
} wp_simd_info;

/* Instructions with an operation of their own (ops.h): X(OP, sub-opcode,
 * shape BIN (v128 v128) or SHIFT (v128 i32), lane vector type, C operator).
 * The interpreter computes them with the vector types below (GCC/clang) or
 * through wp_simd_exec. */
#define WP_SIMD_FAST(X) \
    X(I8X16_ADD, 0x6E, BIN, wp_vu8, +) \
    X(I8X16_SUB, 0x71, BIN, wp_vu8, -) \
    X(I16X8_ADD, 0x8E, BIN, wp_vu16, +) \
    X(I16X8_SUB, 0x91, BIN, wp_vu16, -) \
    X(I16X8_MUL, 0x95, BIN, wp_vu16, *) \
    X(I32X4_ADD, 0xAE, BIN, wp_vu32, +) \
    X(I32X4_SUB, 0xB1, BIN, wp_vu32, -) \
    X(I32X4_MUL, 0xB5, BIN, wp_vu32, *) \
    X(I64X2_ADD, 0xCE, BIN, wp_vu64, +) \
    X(I64X2_SUB, 0xD1, BIN, wp_vu64, -) \
    X(V128_AND, 0x4E, BIN, wp_vu64, &) \
    X(V128_OR, 0x50, BIN, wp_vu64, |) \
    X(V128_XOR, 0x51, BIN, wp_vu64, ^) \
    X(F32X4_ADD, 0xE4, BIN, wp_vf32, +) \
    X(F32X4_SUB, 0xE5, BIN, wp_vf32, -) \
    X(F32X4_MUL, 0xE6, BIN, wp_vf32, *) \
    X(F32X4_DIV, 0xE7, BIN, wp_vf32, /) \
    X(F64X2_ADD, 0xF0, BIN, wp_vf64, +) \
    X(F64X2_SUB, 0xF1, BIN, wp_vf64, -) \
    X(F64X2_MUL, 0xF2, BIN, wp_vf64, *) \
    X(F64X2_DIV, 0xF3, BIN, wp_vf64, /) \
    X(I16X8_SHL, 0x8B, SHIFT, wp_vu16, <<) \
    X(I16X8_SHR_U, 0x8D, SHIFT, wp_vu16, >>) \
    X(I16X8_SHR_S, 0x8C, SHIFT, wp_vi16, >>) \
    X(I32X4_SHL, 0xAB, SHIFT, wp_vu32, <<) \
    X(I32X4_SHR_U, 0xAD, SHIFT, wp_vu32, >>) \
    X(I32X4_SHR_S, 0xAC, SHIFT, wp_vi32, >>)

/* The extending loads with an operation of their own: X(OP, sub-opcode,
 * 8-byte source vector type, 16-byte result vector type). */
#define WP_SIMD_FAST_LOADS(X) \
    X(V128_LOAD8X8_S, 0x01, wp_vi8x8, wp_vi16) \
    X(V128_LOAD8X8_U, 0x02, wp_vu8x8, wp_vu16) \
    X(V128_LOAD16X4_S, 0x03, wp_vi16x4, wp_vi32) \
    X(V128_LOAD16X4_U, 0x04, wp_vu16x4, wp_vu32) \
    X(V128_LOAD32X2_S, 0x05, wp_vi32x2, wp_vi64) \
    X(V128_LOAD32X2_U, 0x06, wp_vu32x2, wp_vu64)

#if defined(__GNUC__)
typedef int8_t wp_vi8x8 __attribute__((vector_size(8)));
typedef uint8_t wp_vu8x8 __attribute__((vector_size(8)));
typedef int16_t wp_vi16x4 __attribute__((vector_size(8)));
typedef uint16_t wp_vu16x4 __attribute__((vector_size(8)));
typedef int32_t wp_vi32x2 __attribute__((vector_size(8)));
typedef uint32_t wp_vu32x2 __attribute__((vector_size(8)));
typedef int64_t wp_vi64 __attribute__((vector_size(16)));
typedef uint8_t wp_vu8 __attribute__((vector_size(16)));
typedef uint16_t wp_vu16 __attribute__((vector_size(16)));
typedef int16_t wp_vi16 __attribute__((vector_size(16)));
typedef uint32_t wp_vu32 __attribute__((vector_size(16)));
typedef int32_t wp_vi32 __attribute__((vector_size(16)));
typedef uint64_t wp_vu64 __attribute__((vector_size(16)));
typedef float wp_vf32 __attribute__((vector_size(16)));
typedef double wp_vf64 __attribute__((vector_size(16)));
#endif

/* Sub-opcodes 0 .. WP_SIMD_COUNT-1 (relaxed SIMD starts at 0x100). */
#define WP_SIMD_COUNT 256
WP_INTERNAL extern const wp_simd_info wp_simd_table[WP_SIMD_COUNT];

/* Bytes of linear memory a load/store sub-opcode reads or writes. */
WP_INTERNAL uint32_t wp_simd_access_size(uint32_t sub);

/*
 * The semantics. Every pointer is to a frame slot (v128 operands: the first
 * of two); d may alias the operands. lane is the lane immediate of extract
 * and replace (already validated). Scalar operands and results use the slot's
 * usual field (.i32, .i64, .f32_bits, ...).
 */
WP_INTERNAL void wp_simd_exec(uint32_t sub, uint32_t lane, wasmplug_slot *d,
                              const wasmplug_slot *a, const wasmplug_slot *b,
                              const wasmplug_slot *c);
/* A load form (WP_SK_LOAD, WP_SK_LOAD_LANE with v the vector to update):
 * d = the v128 built from the wp_simd_access_size(sub) bytes at p. */
WP_INTERNAL void wp_simd_load(uint32_t sub, uint32_t lane, wasmplug_slot *d,
                              const uint8_t *p, const wasmplug_slot *v);
/* A store form (v128.store, WP_SK_STORE_LANE): write v's bytes at p. */
WP_INTERNAL void wp_simd_store(uint32_t sub, uint32_t lane, uint8_t *p, const wasmplug_slot *v);
/* i8x16.shuffle: d = lanes idx[0..16) of the 32 bytes a ++ b (idx < 32). */
WP_INTERNAL void wp_simd_shuffle(wasmplug_slot *d, const wasmplug_slot *a,
                                 const wasmplug_slot *b, const uint8_t idx[16]);

#endif
