/*
 * freestanding.c - a C plugin with no libc: clang --target=wasm32 -nostdlib
 * (and a -mbulk-memory variant). Exercises integer and float math, i64,
 * recursion, call_indirect, linear memory, memcpy/memset and traps.
 *
 * The same file is compiled natively into tests/toolchains/test_toolchains.c
 * (with WP_PLUGIN_NATIVE defined) so the driver's expected values come from
 * the host's C compiler, not from our engine. Keep it free of behaviour that
 * differs between wasm32 and x86-64 (no long, no pointer-sized arithmetic in
 * results, no float contraction-sensitive expressions).
 */
#include <stdint.h>

#ifdef WP_PLUGIN_NATIVE
#include <math.h>
#define EXPORT(name) static __attribute__((unused))
#define fs_sqrt(x) sqrt(x)
#define fs_sqrtf(x) sqrtf(x)
#else
#define EXPORT(name) __attribute__((export_name(#name)))
#define fs_sqrt(x) __builtin_sqrt(x)
#define fs_sqrtf(x) __builtin_sqrtf(x)

typedef __SIZE_TYPE__ size_t;

#ifndef __wasm_bulk_memory__
/* Without bulk memory, clang lowers struct copies and __builtin_memcpy to
 * calls to these. The volatile pointers stop clang from turning the loops
 * back into calls to themselves. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}
void *memset(void *dst, int c, size_t n)
{
    volatile unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}
#endif
#endif

/* ---- integer math ---- */

EXPORT(gcd) int32_t fs_gcd(int32_t a, int32_t b)
{
    uint32_t x = a < 0 ? 0u - (uint32_t)a : (uint32_t)a;
    uint32_t y = b < 0 ? 0u - (uint32_t)b : (uint32_t)b;
    while (y != 0) {
        uint32_t t = x % y;
        x = y;
        y = t;
    }
    return (int32_t)x;
}

/* fib(n) modulo 2^64 (wraps for n > 93). */
EXPORT(fib) uint64_t fs_fib(uint32_t n)
{
    uint64_t a = 0, b = 1;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    return a;
}

/* Deliberately recursive: exercises deep wasm call chains. */
EXPORT(fib_rec) uint32_t fs_fib_rec(uint32_t n)
{
    return n < 2 ? n : fs_fib_rec(n - 1) + fs_fib_rec(n - 2);
}

/* Counts primes below n with trial division (n small). */
EXPORT(count_primes) int32_t fs_count_primes(int32_t n)
{
    int32_t count = 0;
    for (int32_t i = 2; i < n; i++) {
        int prime = 1;
        for (int32_t d = 2; d * d <= i; d++) {
            if (i % d == 0) {
                prime = 0;
                break;
            }
        }
        count += prime;
    }
    return count;
}

/* i64 bit operations: popcount, leading and trailing zeros, rotates. */
EXPORT(bits64) uint64_t fs_bits64(uint64_t x)
{
    uint64_t pc = (uint64_t)__builtin_popcountll(x);
    uint64_t lz = x ? (uint64_t)__builtin_clzll(x) : 64;
    uint64_t tz = x ? (uint64_t)__builtin_ctzll(x) : 64;
    uint64_t rot = (x << 13) | (x >> 51);
    return (pc << 48) ^ (lz << 32) ^ (tz << 16) ^ rot;
}

EXPORT(div_s) int32_t fs_div_s(int32_t a, int32_t b)
{
    return a / b; /* traps in wasm when b == 0 or a == INT32_MIN, b == -1 */
}

EXPORT(rem_u64) uint64_t fs_rem_u64(uint64_t a, uint64_t b)
{
    return a % b;
}

/* ---- floating point ---- */

EXPORT(hypot2) double fs_hypot2(double x, double y)
{
    return fs_sqrt(x * x + y * y);
}

/* Newton iteration for sqrt: exercises f64 loops and comparisons. */
EXPORT(newton_sqrt) double fs_newton_sqrt(double v)
{
    if (!(v > 0.0))
        return 0.0;
    double x = v > 1.0 ? v : 1.0;
    for (int i = 0; i < 60; i++) {
        double nx = 0.5 * (x + v / x);
        if (nx == x)
            break;
        x = nx;
    }
    return x;
}

EXPORT(norm3f) float fs_norm3f(float x, float y, float z)
{
    float s = x * x;
    s += y * y;
    s += z * z;
    return fs_sqrtf(s);
}

/* Float to int with explicit clamping (no out-of-range casts). */
EXPORT(f64_to_i32_sat) int32_t fs_f64_to_i32_sat(double v)
{
    if (v != v)
        return 0;
    if (v >= 2147483647.0)
        return INT32_MAX;
    if (v <= -2147483648.0)
        return INT32_MIN;
    return (int32_t)v;
}

/* ---- call_indirect through a function pointer table ---- */

static int32_t op_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t op_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static int32_t op_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
static int32_t op_xor(int32_t a, int32_t b) { return a ^ b; }
static int32_t (*const volatile fs_ops[4])(int32_t, int32_t) = { op_add, op_sub, op_mul, op_xor };

EXPORT(apply) int32_t fs_apply(uint32_t op, int32_t a, int32_t b)
{
    return fs_ops[op & 3](a, b);
}

/* ---- linear memory ---- */

#define FS_BUF_SIZE 65536
static unsigned char fs_buf[FS_BUF_SIZE];

/* Where the host may write up to buf_size() bytes. */
EXPORT(buf_ptr) uint32_t fs_buf_ptr(void)
{
    return (uint32_t)(uintptr_t)fs_buf;
}

EXPORT(buf_size) uint32_t fs_buf_size(void)
{
    return FS_BUF_SIZE;
}

/* Adler-32 of len bytes at p (p is an address in the plugin's memory). */
EXPORT(checksum) uint32_t fs_checksum(const unsigned char *p, uint32_t len)
{
    uint32_t a = 1, b = 0;
    for (uint32_t i = 0; i < len; i++) {
        a = (a + p[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    return (b << 16) | a;
}

/* Fill the buffer with xorshift bytes, copy and clear parts of it with
 * memcpy/memset (memory.copy/fill in the bulk-memory build), checksum it. */
EXPORT(fill_checksum) uint32_t fs_fill_checksum(uint32_t seed, uint32_t len)
{
    if (len > FS_BUF_SIZE / 2)
        len = FS_BUF_SIZE / 2;
    uint32_t s = seed ? seed : 1;
    for (uint32_t i = 0; i < len; i++) {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        fs_buf[i] = (unsigned char)(s >> 24);
    }
    __builtin_memcpy(fs_buf + len, fs_buf, len);
    __builtin_memset(fs_buf + len / 2, 0x5a, len / 4);
    return fs_checksum(fs_buf, 2 * len);
}

struct fs_point {
    int32_t x, y;
    double w;
    uint8_t tag[20];
};

static struct fs_point fs_points[16];

/* Struct copies (memcpy-sized) and loads/stores of mixed widths. */
EXPORT(struct_mix) uint64_t fs_struct_mix(int32_t n)
{
    uint64_t acc = 0;
    struct fs_point p = { 0, 0, 0.0, { 0 } };
    for (int32_t i = 0; i < 16; i++) {
        p.x = (int32_t)((uint32_t)i * (uint32_t)n);
        p.y = (int32_t)((uint32_t)i ^ (uint32_t)n);
        p.w = (double)i * 0.25;
        for (int j = 0; j < 20; j++)
            p.tag[j] = (uint8_t)(i + j * n);
        fs_points[i] = p;
    }
    for (int32_t i = 15; i >= 0; i--) {
        struct fs_point q = fs_points[i];
        acc = acc * 31 + (uint64_t)(int64_t)q.x - (uint64_t)(int64_t)q.y + (uint64_t)(q.w * 4.0);
        for (int j = 0; j < 20; j++)
            acc += (uint64_t)(int64_t)(int8_t)q.tag[j]; /* sign-extending load */
    }
    return acc;
}

/* ---- traps ---- */

EXPORT(do_trap) void fs_do_trap(void)
{
    __builtin_trap();
}

/* Reads far outside the 2-page-ish memory: out-of-bounds trap in wasm.
 * Only ever called from wasm (never natively). */
EXPORT(load_at) uint32_t fs_load_at(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}
