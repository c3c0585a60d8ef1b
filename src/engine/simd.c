/*
 * simd.c - lane semantics of the WebAssembly 2.0 SIMD instructions (see
 * simd.h), exact to the spec: integer lanes wrap or saturate as named,
 * shifts take the count modulo the lane width, float lanes follow IEEE 754
 * (min/max order -0 below +0 and propagate NaN, pmin/pmax are the plain
 * comparisons, nearest rounds ties to even, trunc_sat clamps and maps NaN to
 * 0). Values are copied in and out of their slots with memcpy: slot pairs
 * are only 8-byte aligned and may alias.
 *
 * With GCC and clang the whole-vector operations use the compilers' vector
 * extensions (SSE2 on x86-64, NEON on ARM); every other compiler, and every
 * operation whose hardware form differs from the spec (float min/max,
 * conversions, saturation), runs the portable lane-by-lane code.
 */
#include "simd.h"

#include <math.h>
#include <string.h>

typedef union v128 {
    uint8_t u8[16];
    int8_t i8[16];
    uint16_t u16[8];
    int16_t i16[8];
    uint32_t u32[4];
    int32_t i32[4];
    uint64_t u64[2];
    int64_t i64[2];
    float f32[4];
    double f64[2];
} v128;

/* ------------------------------------------------------------------------ */
/* The instruction table                                                    */
/* ------------------------------------------------------------------------ */

#define L(k, a, b, r, p, n) { WP_SK_##k, a, b, r, p, n }
#define UN(n, a, r) L(UNARY, a, '-', r, 0, n)
#define VUN(n) UN(n, 'V', 'V')
#define VBIN(n) L(BINARY, 'V', 'V', 'V', 0, n)
#define SHIFT(n) L(BINARY, 'V', 'i', 'V', 0, n)

const wp_simd_info wp_simd_table[WP_SIMD_COUNT] = {
    [0x00] = L(LOAD, 'i', '-', 'V', 4, "v128.load"),
    [0x01] = L(LOAD, 'i', '-', 'V', 3, "v128.load8x8_s"),
    [0x02] = L(LOAD, 'i', '-', 'V', 3, "v128.load8x8_u"),
    [0x03] = L(LOAD, 'i', '-', 'V', 3, "v128.load16x4_s"),
    [0x04] = L(LOAD, 'i', '-', 'V', 3, "v128.load16x4_u"),
    [0x05] = L(LOAD, 'i', '-', 'V', 3, "v128.load32x2_s"),
    [0x06] = L(LOAD, 'i', '-', 'V', 3, "v128.load32x2_u"),
    [0x07] = L(LOAD, 'i', '-', 'V', 0, "v128.load8_splat"),
    [0x08] = L(LOAD, 'i', '-', 'V', 1, "v128.load16_splat"),
    [0x09] = L(LOAD, 'i', '-', 'V', 2, "v128.load32_splat"),
    [0x0A] = L(LOAD, 'i', '-', 'V', 3, "v128.load64_splat"),
    [0x0B] = L(STORE, 'i', 'V', '-', 4, "v128.store"),
    [0x0C] = L(CONST, '-', '-', 'V', 0, "v128.const"),
    [0x0D] = L(SHUFFLE, 'V', 'V', 'V', 0, "i8x16.shuffle"),
    [0x0E] = VBIN("i8x16.swizzle"),
    [0x0F] = UN("i8x16.splat", 'i', 'V'),
    [0x10] = UN("i16x8.splat", 'i', 'V'),
    [0x11] = UN("i32x4.splat", 'i', 'V'),
    [0x12] = UN("i64x2.splat", 'I', 'V'),
    [0x13] = UN("f32x4.splat", 'f', 'V'),
    [0x14] = UN("f64x2.splat", 'F', 'V'),
    [0x15] = L(EXTRACT, 'V', '-', 'i', 16, "i8x16.extract_lane_s"),
    [0x16] = L(EXTRACT, 'V', '-', 'i', 16, "i8x16.extract_lane_u"),
    [0x17] = L(REPLACE, 'V', 'i', 'V', 16, "i8x16.replace_lane"),
    [0x18] = L(EXTRACT, 'V', '-', 'i', 8, "i16x8.extract_lane_s"),
    [0x19] = L(EXTRACT, 'V', '-', 'i', 8, "i16x8.extract_lane_u"),
    [0x1A] = L(REPLACE, 'V', 'i', 'V', 8, "i16x8.replace_lane"),
    [0x1B] = L(EXTRACT, 'V', '-', 'i', 4, "i32x4.extract_lane"),
    [0x1C] = L(REPLACE, 'V', 'i', 'V', 4, "i32x4.replace_lane"),
    [0x1D] = L(EXTRACT, 'V', '-', 'I', 2, "i64x2.extract_lane"),
    [0x1E] = L(REPLACE, 'V', 'I', 'V', 2, "i64x2.replace_lane"),
    [0x1F] = L(EXTRACT, 'V', '-', 'f', 4, "f32x4.extract_lane"),
    [0x20] = L(REPLACE, 'V', 'f', 'V', 4, "f32x4.replace_lane"),
    [0x21] = L(EXTRACT, 'V', '-', 'F', 2, "f64x2.extract_lane"),
    [0x22] = L(REPLACE, 'V', 'F', 'V', 2, "f64x2.replace_lane"),
    [0x23] = VBIN("i8x16.eq"), [0x24] = VBIN("i8x16.ne"),
    [0x25] = VBIN("i8x16.lt_s"), [0x26] = VBIN("i8x16.lt_u"),
    [0x27] = VBIN("i8x16.gt_s"), [0x28] = VBIN("i8x16.gt_u"),
    [0x29] = VBIN("i8x16.le_s"), [0x2A] = VBIN("i8x16.le_u"),
    [0x2B] = VBIN("i8x16.ge_s"), [0x2C] = VBIN("i8x16.ge_u"),
    [0x2D] = VBIN("i16x8.eq"), [0x2E] = VBIN("i16x8.ne"),
    [0x2F] = VBIN("i16x8.lt_s"), [0x30] = VBIN("i16x8.lt_u"),
    [0x31] = VBIN("i16x8.gt_s"), [0x32] = VBIN("i16x8.gt_u"),
    [0x33] = VBIN("i16x8.le_s"), [0x34] = VBIN("i16x8.le_u"),
    [0x35] = VBIN("i16x8.ge_s"), [0x36] = VBIN("i16x8.ge_u"),
    [0x37] = VBIN("i32x4.eq"), [0x38] = VBIN("i32x4.ne"),
    [0x39] = VBIN("i32x4.lt_s"), [0x3A] = VBIN("i32x4.lt_u"),
    [0x3B] = VBIN("i32x4.gt_s"), [0x3C] = VBIN("i32x4.gt_u"),
    [0x3D] = VBIN("i32x4.le_s"), [0x3E] = VBIN("i32x4.le_u"),
    [0x3F] = VBIN("i32x4.ge_s"), [0x40] = VBIN("i32x4.ge_u"),
    [0x41] = VBIN("f32x4.eq"), [0x42] = VBIN("f32x4.ne"), [0x43] = VBIN("f32x4.lt"),
    [0x44] = VBIN("f32x4.gt"), [0x45] = VBIN("f32x4.le"), [0x46] = VBIN("f32x4.ge"),
    [0x47] = VBIN("f64x2.eq"), [0x48] = VBIN("f64x2.ne"), [0x49] = VBIN("f64x2.lt"),
    [0x4A] = VBIN("f64x2.gt"), [0x4B] = VBIN("f64x2.le"), [0x4C] = VBIN("f64x2.ge"),
    [0x4D] = VUN("v128.not"), [0x4E] = VBIN("v128.and"), [0x4F] = VBIN("v128.andnot"),
    [0x50] = VBIN("v128.or"), [0x51] = VBIN("v128.xor"),
    [0x52] = L(TERNARY, 'V', 'V', 'V', 0, "v128.bitselect"),
    [0x53] = UN("v128.any_true", 'V', 'i'),
    [0x54] = L(LOAD_LANE, 'i', 'V', 'V', 16, "v128.load8_lane"),
    [0x55] = L(LOAD_LANE, 'i', 'V', 'V', 8, "v128.load16_lane"),
    [0x56] = L(LOAD_LANE, 'i', 'V', 'V', 4, "v128.load32_lane"),
    [0x57] = L(LOAD_LANE, 'i', 'V', 'V', 2, "v128.load64_lane"),
    [0x58] = L(STORE_LANE, 'i', 'V', '-', 16, "v128.store8_lane"),
    [0x59] = L(STORE_LANE, 'i', 'V', '-', 8, "v128.store16_lane"),
    [0x5A] = L(STORE_LANE, 'i', 'V', '-', 4, "v128.store32_lane"),
    [0x5B] = L(STORE_LANE, 'i', 'V', '-', 2, "v128.store64_lane"),
    [0x5C] = L(LOAD, 'i', '-', 'V', 2, "v128.load32_zero"),
    [0x5D] = L(LOAD, 'i', '-', 'V', 3, "v128.load64_zero"),
    [0x5E] = VUN("f32x4.demote_f64x2_zero"), [0x5F] = VUN("f64x2.promote_low_f32x4"),
    [0x60] = VUN("i8x16.abs"), [0x61] = VUN("i8x16.neg"), [0x62] = VUN("i8x16.popcnt"),
    [0x63] = UN("i8x16.all_true", 'V', 'i'), [0x64] = UN("i8x16.bitmask", 'V', 'i'),
    [0x65] = VBIN("i8x16.narrow_i16x8_s"), [0x66] = VBIN("i8x16.narrow_i16x8_u"),
    [0x67] = VUN("f32x4.ceil"), [0x68] = VUN("f32x4.floor"), [0x69] = VUN("f32x4.trunc"),
    [0x6A] = VUN("f32x4.nearest"),
    [0x6B] = SHIFT("i8x16.shl"), [0x6C] = SHIFT("i8x16.shr_s"), [0x6D] = SHIFT("i8x16.shr_u"),
    [0x6E] = VBIN("i8x16.add"), [0x6F] = VBIN("i8x16.add_sat_s"),
    [0x70] = VBIN("i8x16.add_sat_u"), [0x71] = VBIN("i8x16.sub"),
    [0x72] = VBIN("i8x16.sub_sat_s"), [0x73] = VBIN("i8x16.sub_sat_u"),
    [0x74] = VUN("f64x2.ceil"), [0x75] = VUN("f64x2.floor"),
    [0x76] = VBIN("i8x16.min_s"), [0x77] = VBIN("i8x16.min_u"),
    [0x78] = VBIN("i8x16.max_s"), [0x79] = VBIN("i8x16.max_u"),
    [0x7A] = VUN("f64x2.trunc"), [0x7B] = VBIN("i8x16.avgr_u"),
    [0x7C] = VUN("i16x8.extadd_pairwise_i8x16_s"), [0x7D] = VUN("i16x8.extadd_pairwise_i8x16_u"),
    [0x7E] = VUN("i32x4.extadd_pairwise_i16x8_s"), [0x7F] = VUN("i32x4.extadd_pairwise_i16x8_u"),
    [0x80] = VUN("i16x8.abs"), [0x81] = VUN("i16x8.neg"), [0x82] = VBIN("i16x8.q15mulr_sat_s"),
    [0x83] = UN("i16x8.all_true", 'V', 'i'), [0x84] = UN("i16x8.bitmask", 'V', 'i'),
    [0x85] = VBIN("i16x8.narrow_i32x4_s"), [0x86] = VBIN("i16x8.narrow_i32x4_u"),
    [0x87] = VUN("i16x8.extend_low_i8x16_s"), [0x88] = VUN("i16x8.extend_high_i8x16_s"),
    [0x89] = VUN("i16x8.extend_low_i8x16_u"), [0x8A] = VUN("i16x8.extend_high_i8x16_u"),
    [0x8B] = SHIFT("i16x8.shl"), [0x8C] = SHIFT("i16x8.shr_s"), [0x8D] = SHIFT("i16x8.shr_u"),
    [0x8E] = VBIN("i16x8.add"), [0x8F] = VBIN("i16x8.add_sat_s"),
    [0x90] = VBIN("i16x8.add_sat_u"), [0x91] = VBIN("i16x8.sub"),
    [0x92] = VBIN("i16x8.sub_sat_s"), [0x93] = VBIN("i16x8.sub_sat_u"),
    [0x94] = VUN("f64x2.nearest"), [0x95] = VBIN("i16x8.mul"),
    [0x96] = VBIN("i16x8.min_s"), [0x97] = VBIN("i16x8.min_u"),
    [0x98] = VBIN("i16x8.max_s"), [0x99] = VBIN("i16x8.max_u"),
    [0x9B] = VBIN("i16x8.avgr_u"),
    [0x9C] = VBIN("i16x8.extmul_low_i8x16_s"), [0x9D] = VBIN("i16x8.extmul_high_i8x16_s"),
    [0x9E] = VBIN("i16x8.extmul_low_i8x16_u"), [0x9F] = VBIN("i16x8.extmul_high_i8x16_u"),
    [0xA0] = VUN("i32x4.abs"), [0xA1] = VUN("i32x4.neg"),
    [0xA3] = UN("i32x4.all_true", 'V', 'i'), [0xA4] = UN("i32x4.bitmask", 'V', 'i'),
    [0xA7] = VUN("i32x4.extend_low_i16x8_s"), [0xA8] = VUN("i32x4.extend_high_i16x8_s"),
    [0xA9] = VUN("i32x4.extend_low_i16x8_u"), [0xAA] = VUN("i32x4.extend_high_i16x8_u"),
    [0xAB] = SHIFT("i32x4.shl"), [0xAC] = SHIFT("i32x4.shr_s"), [0xAD] = SHIFT("i32x4.shr_u"),
    [0xAE] = VBIN("i32x4.add"), [0xB1] = VBIN("i32x4.sub"), [0xB5] = VBIN("i32x4.mul"),
    [0xB6] = VBIN("i32x4.min_s"), [0xB7] = VBIN("i32x4.min_u"),
    [0xB8] = VBIN("i32x4.max_s"), [0xB9] = VBIN("i32x4.max_u"),
    [0xBA] = VBIN("i32x4.dot_i16x8_s"),
    [0xBC] = VBIN("i32x4.extmul_low_i16x8_s"), [0xBD] = VBIN("i32x4.extmul_high_i16x8_s"),
    [0xBE] = VBIN("i32x4.extmul_low_i16x8_u"), [0xBF] = VBIN("i32x4.extmul_high_i16x8_u"),
    [0xC0] = VUN("i64x2.abs"), [0xC1] = VUN("i64x2.neg"),
    [0xC3] = UN("i64x2.all_true", 'V', 'i'), [0xC4] = UN("i64x2.bitmask", 'V', 'i'),
    [0xC7] = VUN("i64x2.extend_low_i32x4_s"), [0xC8] = VUN("i64x2.extend_high_i32x4_s"),
    [0xC9] = VUN("i64x2.extend_low_i32x4_u"), [0xCA] = VUN("i64x2.extend_high_i32x4_u"),
    [0xCB] = SHIFT("i64x2.shl"), [0xCC] = SHIFT("i64x2.shr_s"), [0xCD] = SHIFT("i64x2.shr_u"),
    [0xCE] = VBIN("i64x2.add"), [0xD1] = VBIN("i64x2.sub"), [0xD5] = VBIN("i64x2.mul"),
    [0xD6] = VBIN("i64x2.eq"), [0xD7] = VBIN("i64x2.ne"), [0xD8] = VBIN("i64x2.lt_s"),
    [0xD9] = VBIN("i64x2.gt_s"), [0xDA] = VBIN("i64x2.le_s"), [0xDB] = VBIN("i64x2.ge_s"),
    [0xDC] = VBIN("i64x2.extmul_low_i32x4_s"), [0xDD] = VBIN("i64x2.extmul_high_i32x4_s"),
    [0xDE] = VBIN("i64x2.extmul_low_i32x4_u"), [0xDF] = VBIN("i64x2.extmul_high_i32x4_u"),
    [0xE0] = VUN("f32x4.abs"), [0xE1] = VUN("f32x4.neg"), [0xE3] = VUN("f32x4.sqrt"),
    [0xE4] = VBIN("f32x4.add"), [0xE5] = VBIN("f32x4.sub"), [0xE6] = VBIN("f32x4.mul"),
    [0xE7] = VBIN("f32x4.div"), [0xE8] = VBIN("f32x4.min"), [0xE9] = VBIN("f32x4.max"),
    [0xEA] = VBIN("f32x4.pmin"), [0xEB] = VBIN("f32x4.pmax"),
    [0xEC] = VUN("f64x2.abs"), [0xED] = VUN("f64x2.neg"), [0xEF] = VUN("f64x2.sqrt"),
    [0xF0] = VBIN("f64x2.add"), [0xF1] = VBIN("f64x2.sub"), [0xF2] = VBIN("f64x2.mul"),
    [0xF3] = VBIN("f64x2.div"), [0xF4] = VBIN("f64x2.min"), [0xF5] = VBIN("f64x2.max"),
    [0xF6] = VBIN("f64x2.pmin"), [0xF7] = VBIN("f64x2.pmax"),
    [0xF8] = VUN("i32x4.trunc_sat_f32x4_s"), [0xF9] = VUN("i32x4.trunc_sat_f32x4_u"),
    [0xFA] = VUN("f32x4.convert_i32x4_s"), [0xFB] = VUN("f32x4.convert_i32x4_u"),
    [0xFC] = VUN("i32x4.trunc_sat_f64x2_s_zero"), [0xFD] = VUN("i32x4.trunc_sat_f64x2_u_zero"),
    [0xFE] = VUN("f64x2.convert_low_i32x4_s"), [0xFF] = VUN("f64x2.convert_low_i32x4_u"),
};

#undef L
#undef UN
#undef VUN
#undef VBIN
#undef SHIFT

uint32_t wp_simd_access_size(uint32_t sub)
{
    switch (sub) {
    case 0x00: case 0x0B: return 16;
    case 0x01: case 0x02: case 0x03: case 0x04: case 0x05: case 0x06:
    case 0x0A: case 0x5D: case 0x57: case 0x5B: return 8;
    case 0x07: case 0x54: case 0x58: return 1;
    case 0x08: case 0x55: case 0x59: return 2;
    case 0x09: case 0x5C: case 0x56: case 0x5A: return 4;
    default: return 16;
    }
}

/* ------------------------------------------------------------------------ */
/* Scalar lane helpers                                                      */
/* ------------------------------------------------------------------------ */

/* min/max: NaN if either is NaN (a + b quiets and propagates it); -0 < +0. */
static float fmin32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static float fmax32(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}
static double fmin64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}
static double fmax64(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

/* Rounding that keeps a NaN quiet (x + x) rather than relying on libm. */
#define FROUND(x, fn) ((x) != (x) ? (x) + (x) : fn(x))

static int32_t sat_i32_f64(double x)
{
    if (x != x)
        return 0;
    if (!(x > -2147483649.0))
        return INT32_MIN;
    if (!(x < 2147483648.0))
        return INT32_MAX;
    return (int32_t)x;
}
static uint32_t sat_u32_f64(double x)
{
    if (x != x || !(x > -1.0))
        return 0;
    if (!(x < 4294967296.0))
        return UINT32_MAX;
    return (uint32_t)x;
}

static uint8_t sat_s8(int32_t x) { return (uint8_t)(x < -128 ? -128 : x > 127 ? 127 : x); }
static uint8_t sat_u8(int32_t x) { return (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x); }
static uint16_t sat_s16(int32_t x) { return (uint16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x); }
static uint16_t sat_u16(int32_t x) { return (uint16_t)(x < 0 ? 0 : x > 65535 ? 65535 : x); }
static uint16_t nsat_s16(int64_t x) { return (uint16_t)(x < -32768 ? -32768 : x > 32767 ? 32767 : x); }
static uint16_t nsat_u16(int64_t x) { return (uint16_t)(x < 0 ? 0 : x > 65535 ? 65535 : x); }

/* Arithmetic shift right of a lane value through unsigned arithmetic. */
static uint64_t sar(uint64_t x, unsigned bits, unsigned n)
{
    uint64_t sign = (x >> (bits - 1)) & 1 ? ~(uint64_t)0 : 0;
    uint64_t mask = bits == 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
    x &= mask;
    return ((x >> n) | (n ? sign << (bits - n) : 0)) & mask;
}

/* ------------------------------------------------------------------------ */
/* Whole-vector forms                                                       */
/* ------------------------------------------------------------------------ */

#define LANES(n) for (unsigned i = 0; i < (n); i++)
/* Lane-wise maps: r.F[i] = expr of x = va.F[i] (and y = vb.F[i]). */
#define MAP1(F, n, expr) LANES(n) { __typeof__(va.F[0]) x = va.F[i]; r.F[i] = (expr); } break
#define MAP2(RF, F, n, expr) \
    LANES(n) { __typeof__(va.F[0]) x = va.F[i], y = vb.F[i]; r.RF[i] = (expr); } break
/* Compare: all ones where it holds (RF: the unsigned field of the lane width). */
#define CMP(RF, F, n, op) MAP2(RF, F, n, (x op y) ? (__typeof__(r.RF[0]))~0ull : 0)

#if defined(__GNUC__)
typedef uint8_t vu8 __attribute__((vector_size(16)));
typedef uint16_t vu16 __attribute__((vector_size(16)));
typedef uint32_t vu32 __attribute__((vector_size(16)));
typedef uint64_t vu64 __attribute__((vector_size(16)));
typedef float vf32 __attribute__((vector_size(16)));
typedef double vf64 __attribute__((vector_size(16)));
/* r = expr of vector values x and y (type VT), on the whole register. */
#define VEC2(VT, expr)                                                          \
    {                                                                           \
        VT x, y, z;                                                             \
        memcpy(&x, &va, 16);                                                    \
        memcpy(&y, &vb, 16);                                                    \
        z = (expr);                                                             \
        memcpy(&r, &z, 16);                                                     \
    }                                                                           \
    break
#define ADD2(VT, F, n) VEC2(VT, x + y)
#define SUB2(VT, F, n) VEC2(VT, x - y)
#define MUL2(VT, F, n) VEC2(VT, x * y)
#define FOP2(VT, F, n, op) VEC2(VT, x op y)
#else
#define ADD2(VT, F, n) MAP2(F, F, n, x + y)
#define SUB2(VT, F, n) MAP2(F, F, n, x - y)
#define MUL2(VT, F, n) MAP2(F, F, n, x * y)
#define FOP2(VT, F, n, op) MAP2(F, F, n, x op y)
#endif

#define TYPEOF __typeof__

void wp_simd_exec(uint32_t sub, uint32_t lane, wasmplug_slot *d, const wasmplug_slot *a,
                  const wasmplug_slot *b, const wasmplug_slot *c)
{
    /* Operands are read as 16 bytes whatever their type: a scalar operand's
     * second slot is still inside the frame (compile_func.c gives frames
     * using v128 a spare slot), and only v128 lanes are looked at. */
    v128 va, vb, r;
    memcpy(&va, a, 16);
    if (b)
        memcpy(&vb, b, 16);
    else
        vb = va;
    r.u64[0] = r.u64[1] = 0;
    switch (sub) {
    /* splat */
    case 0x0F: LANES(16) r.u8[i] = (uint8_t)a->u32; break;
    case 0x10: LANES(8) r.u16[i] = (uint16_t)a->u32; break;
    case 0x11: LANES(4) r.u32[i] = a->u32; break;
    case 0x12: LANES(2) r.u64[i] = a->u64; break;
    case 0x13: LANES(4) r.u32[i] = a->f32_bits; break;
    case 0x14: LANES(2) r.u64[i] = a->f64_bits; break;
    /* lanes */
    case 0x15: d->u64 = 0; d->i32 = va.i8[lane & 15]; return;
    case 0x16: d->u64 = 0; d->u32 = va.u8[lane & 15]; return;
    case 0x18: d->u64 = 0; d->i32 = va.i16[lane & 7]; return;
    case 0x19: d->u64 = 0; d->u32 = va.u16[lane & 7]; return;
    case 0x1B: d->u64 = 0; d->u32 = va.u32[lane & 3]; return;
    case 0x1D: d->u64 = va.u64[lane & 1]; return;
    case 0x1F: d->u64 = 0; d->f32_bits = va.u32[lane & 3]; return;
    case 0x21: d->f64_bits = va.u64[lane & 1]; return;
    case 0x17: r = va; r.u8[lane & 15] = (uint8_t)b->u32; break;
    case 0x1A: r = va; r.u16[lane & 7] = (uint16_t)b->u32; break;
    case 0x1C: r = va; r.u32[lane & 3] = b->u32; break;
    case 0x1E: r = va; r.u64[lane & 1] = b->u64; break;
    case 0x20: r = va; r.u32[lane & 3] = b->f32_bits; break;
    case 0x22: r = va; r.u64[lane & 1] = b->f64_bits; break;
    case 0x0E: LANES(16) r.u8[i] = vb.u8[i] < 16 ? va.u8[vb.u8[i]] : 0; break;
    /* compares */
    case 0x23: CMP(u8, u8, 16, ==);
    case 0x24: CMP(u8, u8, 16, !=);
    case 0x25: CMP(u8, i8, 16, <);
    case 0x26: CMP(u8, u8, 16, <);
    case 0x27: CMP(u8, i8, 16, >);
    case 0x28: CMP(u8, u8, 16, >);
    case 0x29: CMP(u8, i8, 16, <=);
    case 0x2A: CMP(u8, u8, 16, <=);
    case 0x2B: CMP(u8, i8, 16, >=);
    case 0x2C: CMP(u8, u8, 16, >=);
    case 0x2D: CMP(u16, u16, 8, ==);
    case 0x2E: CMP(u16, u16, 8, !=);
    case 0x2F: CMP(u16, i16, 8, <);
    case 0x30: CMP(u16, u16, 8, <);
    case 0x31: CMP(u16, i16, 8, >);
    case 0x32: CMP(u16, u16, 8, >);
    case 0x33: CMP(u16, i16, 8, <=);
    case 0x34: CMP(u16, u16, 8, <=);
    case 0x35: CMP(u16, i16, 8, >=);
    case 0x36: CMP(u16, u16, 8, >=);
    case 0x37: CMP(u32, u32, 4, ==);
    case 0x38: CMP(u32, u32, 4, !=);
    case 0x39: CMP(u32, i32, 4, <);
    case 0x3A: CMP(u32, u32, 4, <);
    case 0x3B: CMP(u32, i32, 4, >);
    case 0x3C: CMP(u32, u32, 4, >);
    case 0x3D: CMP(u32, i32, 4, <=);
    case 0x3E: CMP(u32, u32, 4, <=);
    case 0x3F: CMP(u32, i32, 4, >=);
    case 0x40: CMP(u32, u32, 4, >=);
    case 0x41: CMP(u32, f32, 4, ==);
    case 0x42: CMP(u32, f32, 4, !=);
    case 0x43: CMP(u32, f32, 4, <);
    case 0x44: CMP(u32, f32, 4, >);
    case 0x45: CMP(u32, f32, 4, <=);
    case 0x46: CMP(u32, f32, 4, >=);
    case 0x47: CMP(u64, f64, 2, ==);
    case 0x48: CMP(u64, f64, 2, !=);
    case 0x49: CMP(u64, f64, 2, <);
    case 0x4A: CMP(u64, f64, 2, >);
    case 0x4B: CMP(u64, f64, 2, <=);
    case 0x4C: CMP(u64, f64, 2, >=);
    case 0xD6: CMP(u64, u64, 2, ==);
    case 0xD7: CMP(u64, u64, 2, !=);
    case 0xD8: CMP(u64, i64, 2, <);
    case 0xD9: CMP(u64, i64, 2, >);
    case 0xDA: CMP(u64, i64, 2, <=);
    case 0xDB: CMP(u64, i64, 2, >=);
    /* bitwise */
    case 0x4D: MAP1(u64, 2, ~x);
    case 0x4E: MAP2(u64, u64, 2, x & y);
    case 0x4F: MAP2(u64, u64, 2, x & ~y);
    case 0x50: MAP2(u64, u64, 2, x | y);
    case 0x51: MAP2(u64, u64, 2, x ^ y);
    case 0x52: {
        v128 vc;
        memcpy(&vc, c, 16);
        LANES(2) r.u64[i] = (va.u64[i] & vc.u64[i]) | (vb.u64[i] & ~vc.u64[i]);
        break;
    }
    case 0x53: d->u64 = 0; d->u32 = (va.u64[0] | va.u64[1]) != 0; return;
    /* float conversions between shapes */
    case 0x5E: r.f32[0] = (float)va.f64[0]; r.f32[1] = (float)va.f64[1]; break;
    case 0x5F: r.f64[0] = va.f32[0]; r.f64[1] = va.f32[1]; break;
    /* i8x16 */
    case 0x60: MAP1(u8, 16, (uint8_t)(va.i8[i] < 0 ? 0u - x : x));
    case 0x61: MAP1(u8, 16, (uint8_t)(0u - x));
    case 0x62: MAP1(u8, 16, (uint8_t)__builtin_popcount(x));
    case 0x63: { unsigned all = 1; LANES(16) all &= va.u8[i] != 0; d->u64 = all; return; }
    case 0x64: { uint32_t m = 0; LANES(16) m |= (uint32_t)(va.u8[i] >> 7) << i; d->u64 = m; return; }
    case 0x65: LANES(8) { r.u8[i] = sat_s8(va.i16[i]); r.u8[i + 8] = sat_s8(vb.i16[i]); } break;
    case 0x66: LANES(8) { r.u8[i] = sat_u8(va.i16[i]); r.u8[i + 8] = sat_u8(vb.i16[i]); } break;
    case 0x6B: MAP1(u8, 16, (uint8_t)(x << (b->u32 & 7)));
    case 0x6C: MAP1(u8, 16, (uint8_t)sar(x, 8, b->u32 & 7));
    case 0x6D: MAP1(u8, 16, (uint8_t)(x >> (b->u32 & 7)));
    case 0x6E: ADD2(vu8, u8, 16);
    case 0x6F: MAP2(u8, i8, 16, sat_s8(x + y));
    case 0x70: MAP2(u8, u8, 16, sat_u8(x + y));
    case 0x71: SUB2(vu8, u8, 16);
    case 0x72: MAP2(u8, i8, 16, sat_s8(x - y));
    case 0x73: MAP2(u8, u8, 16, sat_u8(x - y));
    case 0x76: MAP2(u8, i8, 16, (uint8_t)(x < y ? x : y));
    case 0x77: MAP2(u8, u8, 16, x < y ? x : y);
    case 0x78: MAP2(u8, i8, 16, (uint8_t)(x > y ? x : y));
    case 0x79: MAP2(u8, u8, 16, x > y ? x : y);
    case 0x7B: MAP2(u8, u8, 16, (uint8_t)((x + y + 1) >> 1));
    /* i16x8 */
    case 0x7C: LANES(8) r.u16[i] = (uint16_t)(va.i8[2 * i] + va.i8[2 * i + 1]); break;
    case 0x7D: LANES(8) r.u16[i] = (uint16_t)(va.u8[2 * i] + va.u8[2 * i + 1]); break;
    case 0x80: MAP1(u16, 8, (uint16_t)(va.i16[i] < 0 ? 0u - x : x));
    case 0x81: MAP1(u16, 8, (uint16_t)(0u - x));
    case 0x82: MAP2(u16, i16, 8, sat_s16((x * y + 0x4000) >> 15));
    case 0x83: { unsigned all = 1; LANES(8) all &= va.u16[i] != 0; d->u64 = all; return; }
    case 0x84: { uint32_t m = 0; LANES(8) m |= (uint32_t)(va.u16[i] >> 15) << i; d->u64 = m; return; }
    case 0x85: LANES(4) { r.u16[i] = nsat_s16(va.i32[i]); r.u16[i + 4] = nsat_s16(vb.i32[i]); } break;
    case 0x86: LANES(4) { r.u16[i] = nsat_u16(va.i32[i]); r.u16[i + 4] = nsat_u16(vb.i32[i]); } break;
    case 0x87: LANES(8) r.u16[i] = (uint16_t)va.i8[i]; break;
    case 0x88: LANES(8) r.u16[i] = (uint16_t)va.i8[i + 8]; break;
    case 0x89: LANES(8) r.u16[i] = va.u8[i]; break;
    case 0x8A: LANES(8) r.u16[i] = va.u8[i + 8]; break;
    case 0x8B: MAP1(u16, 8, (uint16_t)(x << (b->u32 & 15)));
    case 0x8C: MAP1(u16, 8, (uint16_t)sar(x, 16, b->u32 & 15));
    case 0x8D: MAP1(u16, 8, (uint16_t)(x >> (b->u32 & 15)));
    case 0x8E: ADD2(vu16, u16, 8);
    case 0x8F: MAP2(u16, i16, 8, sat_s16(x + y));
    case 0x90: MAP2(u16, u16, 8, sat_u16(x + y));
    case 0x91: SUB2(vu16, u16, 8);
    case 0x92: MAP2(u16, i16, 8, sat_s16(x - y));
    case 0x93: MAP2(u16, u16, 8, sat_u16(x - y));
    case 0x95: MAP2(u16, u16, 8, (uint16_t)((uint32_t)x * y));
    case 0x96: MAP2(u16, i16, 8, (uint16_t)(x < y ? x : y));
    case 0x97: MAP2(u16, u16, 8, x < y ? x : y);
    case 0x98: MAP2(u16, i16, 8, (uint16_t)(x > y ? x : y));
    case 0x99: MAP2(u16, u16, 8, x > y ? x : y);
    case 0x9B: MAP2(u16, u16, 8, (uint16_t)((x + y + 1) >> 1));
    case 0x9C: LANES(8) r.u16[i] = (uint16_t)(va.i8[i] * vb.i8[i]); break;
    case 0x9D: LANES(8) r.u16[i] = (uint16_t)(va.i8[i + 8] * vb.i8[i + 8]); break;
    case 0x9E: LANES(8) r.u16[i] = (uint16_t)(va.u8[i] * vb.u8[i]); break;
    case 0x9F: LANES(8) r.u16[i] = (uint16_t)(va.u8[i + 8] * vb.u8[i + 8]); break;
    /* i32x4 */
    case 0x7E: LANES(4) r.u32[i] = (uint32_t)(va.i16[2 * i] + va.i16[2 * i + 1]); break;
    case 0x7F: LANES(4) r.u32[i] = (uint32_t)va.u16[2 * i] + va.u16[2 * i + 1]; break;
    case 0xA0: MAP1(u32, 4, va.i32[i] < 0 ? 0u - x : x);
    case 0xA1: MAP1(u32, 4, 0u - x);
    case 0xA3: { unsigned all = 1; LANES(4) all &= va.u32[i] != 0; d->u64 = all; return; }
    case 0xA4: { uint32_t m = 0; LANES(4) m |= (va.u32[i] >> 31) << i; d->u64 = m; return; }
    case 0xA7: LANES(4) r.u32[i] = (uint32_t)va.i16[i]; break;
    case 0xA8: LANES(4) r.u32[i] = (uint32_t)va.i16[i + 4]; break;
    case 0xA9: LANES(4) r.u32[i] = va.u16[i]; break;
    case 0xAA: LANES(4) r.u32[i] = va.u16[i + 4]; break;
    case 0xAB: MAP1(u32, 4, x << (b->u32 & 31));
    case 0xAC: MAP1(u32, 4, (uint32_t)sar(x, 32, b->u32 & 31));
    case 0xAD: MAP1(u32, 4, x >> (b->u32 & 31));
    case 0xAE: ADD2(vu32, u32, 4);
    case 0xB1: SUB2(vu32, u32, 4);
    case 0xB5: MUL2(vu32, u32, 4);
    case 0xB6: MAP2(u32, i32, 4, (uint32_t)(x < y ? x : y));
    case 0xB7: MAP2(u32, u32, 4, x < y ? x : y);
    case 0xB8: MAP2(u32, i32, 4, (uint32_t)(x > y ? x : y));
    case 0xB9: MAP2(u32, u32, 4, x > y ? x : y);
    case 0xBA:
        LANES(4) r.u32[i] = (uint32_t)((int64_t)va.i16[2 * i] * vb.i16[2 * i] +
                                       (int64_t)va.i16[2 * i + 1] * vb.i16[2 * i + 1]);
        break;
    case 0xBC: LANES(4) r.u32[i] = (uint32_t)(va.i16[i] * vb.i16[i]); break;
    case 0xBD: LANES(4) r.u32[i] = (uint32_t)(va.i16[i + 4] * vb.i16[i + 4]); break;
    case 0xBE: LANES(4) r.u32[i] = (uint32_t)va.u16[i] * vb.u16[i]; break;
    case 0xBF: LANES(4) r.u32[i] = (uint32_t)va.u16[i + 4] * vb.u16[i + 4]; break;
    /* i64x2 */
    case 0xC0: MAP1(u64, 2, va.i64[i] < 0 ? 0u - x : x);
    case 0xC1: MAP1(u64, 2, 0u - x);
    case 0xC3: d->u64 = va.u64[0] != 0 && va.u64[1] != 0; return;
    case 0xC4: d->u64 = (va.u64[0] >> 63) | ((va.u64[1] >> 63) << 1); return;
    case 0xC7: LANES(2) r.u64[i] = (uint64_t)(int64_t)va.i32[i]; break;
    case 0xC8: LANES(2) r.u64[i] = (uint64_t)(int64_t)va.i32[i + 2]; break;
    case 0xC9: LANES(2) r.u64[i] = va.u32[i]; break;
    case 0xCA: LANES(2) r.u64[i] = va.u32[i + 2]; break;
    case 0xCB: MAP1(u64, 2, x << (b->u32 & 63));
    case 0xCC: MAP1(u64, 2, sar(x, 64, b->u32 & 63));
    case 0xCD: MAP1(u64, 2, x >> (b->u32 & 63));
    case 0xCE: ADD2(vu64, u64, 2);
    case 0xD1: SUB2(vu64, u64, 2);
    case 0xD5: MUL2(vu64, u64, 2);
    case 0xDC: LANES(2) r.u64[i] = (uint64_t)((int64_t)va.i32[i] * vb.i32[i]); break;
    case 0xDD: LANES(2) r.u64[i] = (uint64_t)((int64_t)va.i32[i + 2] * vb.i32[i + 2]); break;
    case 0xDE: LANES(2) r.u64[i] = (uint64_t)va.u32[i] * vb.u32[i]; break;
    case 0xDF: LANES(2) r.u64[i] = (uint64_t)va.u32[i + 2] * vb.u32[i + 2]; break;
    /* f32x4 */
    case 0xE0: MAP1(u32, 4, x & 0x7FFFFFFFu);
    case 0xE1: MAP1(u32, 4, x ^ 0x80000000u);
    case 0xE3: MAP1(f32, 4, sqrtf(x));
    case 0xE4: FOP2(vf32, f32, 4, +);
    case 0xE5: FOP2(vf32, f32, 4, -);
    case 0xE6: FOP2(vf32, f32, 4, *);
    case 0xE7: FOP2(vf32, f32, 4, /);
    case 0xE8: MAP2(f32, f32, 4, fmin32(x, y));
    case 0xE9: MAP2(f32, f32, 4, fmax32(x, y));
    case 0xEA: MAP2(f32, f32, 4, y < x ? y : x);
    case 0xEB: MAP2(f32, f32, 4, x < y ? y : x);
    case 0x67: MAP1(f32, 4, FROUND(x, ceilf));
    case 0x68: MAP1(f32, 4, FROUND(x, floorf));
    case 0x69: MAP1(f32, 4, FROUND(x, truncf));
    case 0x6A: MAP1(f32, 4, FROUND(x, rintf));
    /* f64x2 */
    case 0xEC: MAP1(u64, 2, x & 0x7FFFFFFFFFFFFFFFull);
    case 0xED: MAP1(u64, 2, x ^ 0x8000000000000000ull);
    case 0xEF: MAP1(f64, 2, sqrt(x));
    case 0xF0: FOP2(vf64, f64, 2, +);
    case 0xF1: FOP2(vf64, f64, 2, -);
    case 0xF2: FOP2(vf64, f64, 2, *);
    case 0xF3: FOP2(vf64, f64, 2, /);
    case 0xF4: MAP2(f64, f64, 2, fmin64(x, y));
    case 0xF5: MAP2(f64, f64, 2, fmax64(x, y));
    case 0xF6: MAP2(f64, f64, 2, y < x ? y : x);
    case 0xF7: MAP2(f64, f64, 2, x < y ? y : x);
    case 0x74: MAP1(f64, 2, FROUND(x, ceil));
    case 0x75: MAP1(f64, 2, FROUND(x, floor));
    case 0x7A: MAP1(f64, 2, FROUND(x, trunc));
    case 0x94: MAP1(f64, 2, FROUND(x, rint));
    /* conversions */
    case 0xF8: LANES(4) r.u32[i] = (uint32_t)sat_i32_f64(va.f32[i]); break;
    case 0xF9: LANES(4) r.u32[i] = sat_u32_f64(va.f32[i]); break;
    case 0xFA: LANES(4) r.f32[i] = (float)va.i32[i]; break;
    case 0xFB: LANES(4) r.f32[i] = (float)va.u32[i]; break;
    case 0xFC: LANES(2) r.u32[i] = (uint32_t)sat_i32_f64(va.f64[i]); break;
    case 0xFD: LANES(2) r.u32[i] = sat_u32_f64(va.f64[i]); break;
    case 0xFE: LANES(2) r.f64[i] = va.i32[i]; break;
    case 0xFF: LANES(2) r.f64[i] = va.u32[i]; break;
    default:
        break;
    }
    memcpy(d, &r, 16);
}

void wp_simd_load(uint32_t sub, uint32_t lane, wasmplug_slot *d, const uint8_t *p,
                  const wasmplug_slot *v)
{
    v128 m, r;
    m.u64[0] = m.u64[1] = 0;
    r.u64[0] = r.u64[1] = 0;
    /* constant sizes, so each copy is one move */
    switch (wp_simd_access_size(sub)) {
    case 16: memcpy(&m, p, 16); break;
    case 8: memcpy(&m, p, 8); break;
    case 4: memcpy(&m, p, 4); break;
    case 2: memcpy(&m, p, 2); break;
    default: memcpy(&m, p, 1); break;
    }
    switch (sub) {
    case 0x00: case 0x5C: case 0x5D: r = m; break;
    case 0x01: LANES(8) r.u16[i] = (uint16_t)m.i8[i]; break;
    case 0x02: LANES(8) r.u16[i] = m.u8[i]; break;
    case 0x03: LANES(4) r.u32[i] = (uint32_t)m.i16[i]; break;
    case 0x04: LANES(4) r.u32[i] = m.u16[i]; break;
    case 0x05: LANES(2) r.u64[i] = (uint64_t)(int64_t)m.i32[i]; break;
    case 0x06: LANES(2) r.u64[i] = m.u32[i]; break;
    case 0x07: LANES(16) r.u8[i] = m.u8[0]; break;
    case 0x08: LANES(8) r.u16[i] = m.u16[0]; break;
    case 0x09: LANES(4) r.u32[i] = m.u32[0]; break;
    case 0x0A: LANES(2) r.u64[i] = m.u64[0]; break;
    case 0x54: memcpy(&r, v, 16); r.u8[lane & 15] = m.u8[0]; break;
    case 0x55: memcpy(&r, v, 16); r.u16[lane & 7] = m.u16[0]; break;
    case 0x56: memcpy(&r, v, 16); r.u32[lane & 3] = m.u32[0]; break;
    case 0x57: memcpy(&r, v, 16); r.u64[lane & 1] = m.u64[0]; break;
    default: break;
    }
    memcpy(d, &r, 16);
}

void wp_simd_store(uint32_t sub, uint32_t lane, uint8_t *p, const wasmplug_slot *v)
{
    v128 x;
    memcpy(&x, v, 16);
    switch (sub) {
    case 0x0B: memcpy(p, &x, 16); break;
    case 0x5B: memcpy(p, &x.u64[lane & 1], 8); break;
    case 0x5A: memcpy(p, &x.u32[lane & 3], 4); break;
    case 0x59: memcpy(p, &x.u16[lane & 7], 2); break;
    default: memcpy(p, &x.u8[lane & 15], 1); break;
    }
}

void wp_simd_shuffle(wasmplug_slot *d, const wasmplug_slot *a, const wasmplug_slot *b,
                     const uint8_t idx[16])
{
    uint8_t both[32], r[16];
    memcpy(both, a, 16);
    memcpy(both + 16, b, 16);
    LANES(16) r[i] = both[idx[i] & 31];
    memcpy(d, r, 16);
}
