/*
 * aot_prelude.h - helpers of the C that aot_emit.c generates, copied into
 * every generated file after aot_abi.h (never compiled into the engine).
 * The semantics are the interpreter's (interp.c), operation for operation:
 * integers are computed unsigned (no signed overflow), abs/neg/copysign are
 * bit operations, rounding functions quiet a NaN before libm sees it,
 * trapping conversions use the same exact bounds.
 */
#define WP_LIKELY(x) __builtin_expect(!!(x), 1)
#define WP_UNLIKELY(x) __builtin_expect(!!(x), 0)

static const wp_aot_rt *wp_rt;

/* The code is linked without a C library: the compiler may still emit calls
 * to these three (struct copies, loops it recognizes). */
__attribute__((visibility("hidden"))) void *memcpy(void *d, const void *s, size_t n)
{
    return wp_rt->memmove(d, s, n);
}
__attribute__((visibility("hidden"))) void *memmove(void *d, const void *s, size_t n)
{
    return wp_rt->memmove(d, s, n);
}
__attribute__((visibility("hidden"))) void *memset(void *d, int v, size_t n)
{
    return wp_rt->memset(d, v, n);
}

/* A trap stores the fuel left first: inside a counted loop's chunk
 * (aot_emit.c) the local is ahead of the context. */
#define WP_TRAP(k) (c->fuel = fuel_, wp_rt->trap(c, (k)))

/* Fuel: one subtraction and one test covering an interrupt as well (the
 * flag is 0 or -1), as the interpreter's FUEL. The function keeps the fuel
 * in a local (fuel_, reloaded after calls: WP_RELOAD_FUEL) and stores it
 * into the context at every check, so a guard-page trap still accounts it
 * exactly; the stores aliasing linear memory cannot force a reload. */
#define WP_FUEL(cost)                                                           \
    do {                                                                        \
        fuel_ -= (int64_t)(cost);                                               \
        c->fuel = fuel_;                                                        \
        if (WP_UNLIKELY((fuel_ | (int64_t)__atomic_load_n(intr_, __ATOMIC_RELAXED)) < 0)) { \
            wp_rt->fuel(c);                                                     \
            fuel_ = c->fuel;                                                    \
        }                                                                       \
    } while (0)
#define WP_RELOAD_FUEL() (fuel_ = c->fuel)

/* Counted loops (aot_emit.c): iterations per chunk for a body of `cost`
 * instructions (a chunk runs at most about 65,536 between interrupt
 * checks), and the trip count of a loop whose induction variable starts at
 * v, adds s after each iteration and goes on while it is != b (cmp 0), < b
 * (1, s > 0) or > b (2, s < 0), compared unsigned (signed comparisons come
 * with v and b's sign bits flipped); 0 where the count is not simple (the
 * variable would wrap or never meet b): the loop runs checked. */
#define WP_CHUNK(cost) ((uint32_t)(65536u / ((uint32_t)(cost) + 1u)) + 1u)
static inline uint64_t wp_trip(uint32_t v, uint32_t s, uint32_t b, int cmp)
{
    if (cmp == 0) {
        uint32_t step = (int32_t)s > 0 ? s : 0u - s, d = (int32_t)s > 0 ? b - v : v - b;
        return d != 0 && d % step == 0 ? d / step : 0;
    }
    if (cmp == 1) {
        uint64_t v1 = (uint64_t)v + s;
        if (v1 > 0xFFFFFFFFull || (uint64_t)b + s > 0x100000000ull)
            return 0;
        return v1 >= b ? 1 : 1 + ((uint64_t)b - v1 + s - 1) / s;
    }
    uint32_t step = 0u - s;
    if (v < step || (uint64_t)b + 1 < step)
        return 0;
    uint64_t v1 = (uint64_t)v - step;
    return v1 <= b ? 1 : 1 + (v1 - b + step - 1) / step;
}

/* The stack pointer, for the native stack bound (one instruction where we
 * know it; __builtin_frame_address would force a frame pointer). */
#if defined(__x86_64__)
#define WP_SP() ({ const char *sp_; __asm__("mov %%rsp, %0" : "=r"(sp_)); sp_; })
#elif defined(__aarch64__)
#define WP_SP() ({ const char *sp_; __asm__("mov %0, sp" : "=r"(sp_)); sp_; })
#else
#define WP_SP() ((const char *)__builtin_frame_address(0))
#endif

/* Function entry: call depth and native stack bounded, the frame recorded
 * for backtraces. */
#define WP_ENTER(index)                                                         \
    do {                                                                        \
        if (WP_UNLIKELY(d_ >= c->max_depth || WP_SP() < c->stack_limit))        \
            WP_TRAP(WP_TRAP_CALL_STACK_EXHAUSTED);                              \
        c->frames[d_].func = c->funcs[index];                                   \
        c->depth = d_ + 1;                                                      \
    } while (0)

/* Float constants and promotions go through an empty asm the compiler
 * cannot see into: otherwise it folds x - 0.0, x * 1.0, x / -1.0 or
 * demote(promote(x)) to x, which keeps a signalling NaN the wasm operation
 * must quiet (the compiler's flags cannot forbid it everywhere: clang has no
 * -fsignaling-nans). */
#define WP_OPAQUE(v) ({ __typeof__(v) o_ = (v); __asm__("" : "+r"(o_)); o_; })
#define WP_PROMOTE(x) ({ double p_ = (double)(x); __asm__("" : "+g"(p_)); p_; })

static inline float wp_f32(uint32_t b) { union { uint32_t u; float f; } x; x.u = b; return x.f; }
static inline double wp_f64(uint64_t b) { union { uint64_t u; double f; } x; x.u = b; return x.f; }
static inline uint32_t wp_b32(float f) { union { uint32_t u; float f; } x; x.f = f; return x.u; }
static inline uint64_t wp_b64(double f) { union { uint64_t u; double f; } x; x.f = f; return x.u; }

/* Loads and stores (little-endian hosts). In guard-page code a load whose
 * value could end up unused must still happen (it may be the one that
 * traps): the emitter puts WP_KEEP on such values (an empty asm the
 * compiler must compute its operand for; floats stay in their registers). */
#define WP_LOAD(T, p) ({ T v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#if defined(__x86_64__)
#define WP_FREG "x"
#elif defined(__aarch64__)
#define WP_FREG "w"
#else
#define WP_FREG "g"
#endif
#define WP_KEEP(v) __asm__("" ::"r"(v))
#define WP_KEEPF(v) __asm__("" ::WP_FREG(v))
#define WP_STORE(T, p, v) do { T v_ = (T)(v); __builtin_memcpy((p), &v_, sizeof v_); } while (0)

static inline uint32_t wp_rotl32(uint32_t x, uint32_t n) { n &= 31; return (x << n) | (x >> ((32 - n) & 31)); }
static inline uint32_t wp_rotr32(uint32_t x, uint32_t n) { n &= 31; return (x >> n) | (x << ((32 - n) & 31)); }
static inline uint64_t wp_rotl64(uint64_t x, uint64_t n) { n &= 63; return (x << n) | (x >> ((64 - n) & 63)); }
static inline uint64_t wp_rotr64(uint64_t x, uint64_t n) { n &= 63; return (x >> n) | (x << ((64 - n) & 63)); }
static inline uint32_t wp_sar32(uint32_t x, uint32_t n)
{
    n &= 31;
    uint32_t sign = (uint32_t)0 - (x >> 31);
    return sign ^ ((x ^ sign) >> n);
}
static inline uint64_t wp_sar64(uint64_t x, uint64_t n)
{
    n &= 63;
    uint64_t sign = (uint64_t)0 - (x >> 63);
    return sign ^ ((x ^ sign) >> n);
}
static inline uint32_t wp_clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t wp_ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint64_t wp_clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t wp_ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }
static inline uint32_t wp_sext32(uint32_t x, unsigned bits)
{
    uint32_t m = (uint32_t)1 << (bits - 1);
    x &= (m << 1) - 1;
    return (x ^ m) - m;
}
static inline uint64_t wp_sext64(uint64_t x, unsigned bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    if (bits < 64)
        x &= (m << 1) - 1;
    return (x ^ m) - m;
}

/* Division: the spec's traps. */
#define WP_DIVS(W, ST, MIN, a, b)                                               \
    ({ uint##W##_t a_ = (a), b_ = (b);                                          \
       if (WP_UNLIKELY(b_ == 0)) WP_TRAP(WP_TRAP_INTEGER_DIVIDE_BY_ZERO);      \
       if (WP_UNLIKELY(a_ == (uint##W##_t)(MIN) && b_ == (uint##W##_t)-1))      \
           WP_TRAP(WP_TRAP_INTEGER_OVERFLOW);                                   \
       (uint##W##_t)((ST)a_ / (ST)b_); })
#define WP_DIVU(W, a, b)                                                        \
    ({ uint##W##_t a_ = (a), b_ = (b);                                          \
       if (WP_UNLIKELY(b_ == 0)) WP_TRAP(WP_TRAP_INTEGER_DIVIDE_BY_ZERO);      \
       a_ / b_; })
#define WP_REMS(W, ST, MIN, a, b)                                               \
    ({ uint##W##_t a_ = (a), b_ = (b);                                          \
       if (WP_UNLIKELY(b_ == 0)) WP_TRAP(WP_TRAP_INTEGER_DIVIDE_BY_ZERO);      \
       (a_ == (uint##W##_t)(MIN) && b_ == (uint##W##_t)-1) ? (uint##W##_t)0     \
                                                          : (uint##W##_t)((ST)a_ % (ST)b_); })
#define WP_REMU(W, a, b)                                                        \
    ({ uint##W##_t a_ = (a), b_ = (b);                                          \
       if (WP_UNLIKELY(b_ == 0)) WP_TRAP(WP_TRAP_INTEGER_DIVIDE_BY_ZERO);      \
       a_ % b_; })

/* min/max: NaN if either is NaN (a + b quiets it), -0 < +0. */
static inline float wp_fminf(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return wp_f32(wp_b32(a) | wp_b32(b));
    return a < b ? a : b;
}
static inline float wp_fmaxf(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return wp_f32(wp_b32(a) & wp_b32(b));
    return a > b ? a : b;
}
static inline double wp_fmin(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return wp_f64(wp_b64(a) | wp_b64(b));
    return a < b ? a : b;
}
static inline double wp_fmax(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b)
        return wp_f64(wp_b64(a) & wp_b64(b));
    return a > b ? a : b;
}
/* libm may return a signalling NaN unchanged: quiet it (x + x). */
#define WP_QUIET(x, fn) ({ __typeof__(x) q_ = (x); q_ != q_ ? q_ + q_ : wp_rt->fn(q_); })

/* Trapping float->int: valid iff lo < x < hi; NaN is an invalid conversion. */
#define WP_TRUNC(DT, x, lo, hi)                                                 \
    ({ __typeof__(x) x_ = (x);                                                  \
       if (WP_UNLIKELY(!(x_ > (lo) && x_ < (hi))))                             \
           WP_TRAP(x_ != x_ ? WP_TRAP_INVALID_CONVERSION : WP_TRAP_INTEGER_OVERFLOW); \
       (DT)x_; })
/* Saturating: clamp, NaN gives 0. */
#define WP_TRUNC_SAT(DT, x, lo, hi, minv, maxv)                                 \
    ({ __typeof__(x) x_ = (x);                                                  \
       x_ != x_ ? (DT)0 : !(x_ > (lo)) ? (DT)(minv) : !(x_ < (hi)) ? (DT)(maxv) : (DT)x_; })
