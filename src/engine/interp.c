/*
 * interp.c - the interpreter: runs the compiled code of ops.h on a wp_exec.
 *
 * Design (for speed):
 *  - One loop function, run(), whose handlers are written once with OP(NAME)
 *    and expand either to labels of a direct-threaded loop (WP_THREADED=1,
 *    computed goto: every operation cell holds its handler's address) or to
 *    cases of a portable switch (WP_THREADED=0, cells hold operation numbers).
 *  - ip, fp, the memory base/size, the instance and the fuel live in locals;
 *    operands are slot indices read through S(k), so no value is ever pushed
 *    or popped at run time.
 *  - Linear-memory loads/stores exist twice (interp_mem.h included twice):
 *    explicit bounds checks (the cells wp_op_cell returns) and unchecked
 *    guard-page variants (wp_op_cell_bounds with WASMPLUG_BOUNDS_GUARD_PAGES),
 *    both inside the same loop so cells of either kind can run together.
 *    Guard-page faults come back as a siglongjmp to wp_interp_call.
 *  - Superinstructions (ops.h WP_IMM_OPS, WP_BRANCH_OPS, WP_ADD_BRANCH_OPS,
 *    COPY2, I32_ADD2, F32_ADD2, F64_ADD2, I32_ADD_SHL and the fused memory forms) are ordinary handlers, one
 *    explicit line each, written with the same shape macros (BINOP, BR_CMP,
 *    ADD_BR, LOAD_BITS...).
 *  - FUEL is one subtraction, a store of the fuel into exec and a single
 *    sign test covering both "out of fuel" and a pending interrupt. Taken
 *    backward branches (always to a loop header's FUEL) jump straight into
 *    it (JUMP).
 *  - Activation records live in exec->frames (not in wasm-writable slots);
 *    exec->depth is kept current at every call/return so a trap, even one
 *    raised by a guard-page fault, leaves an exact backtrace.
 */
#include "runtime.h"
#include "simd.h"

#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter stores wasm memory values with memcpy: little-endian hosts only"
#endif

_Static_assert(sizeof(wp_cell) == 8, "cells are 8 bytes");
_Static_assert(sizeof(wasmplug_slot) == 8, "slots are 8 bytes");

#ifndef WP_THREADED
#if defined(__GNUC__)
#define WP_THREADED 1
#else
#define WP_THREADED 0
#endif
#endif

#if defined(__GNUC__)
/* Keeps stores to exec (depth, frames, fuel) ahead of a load that may fault
 * on a guard page, so the fault handler sees a consistent state. Emits no
 * instruction. */
#define WP_BARRIER() __asm__ __volatile__("" ::: "memory")
#else
#define WP_BARRIER() ((void)0)
#endif

/* Extra operation numbers: the guard-page (unchecked) memory handlers. They
 * follow WP_OP_COUNT in the same order as WP_MEMORY_OPS. */
enum wp_xop {
    WP_XOP_BEFORE_GUARDED = WP_OP_COUNT - 1,
#define WP_X_GENUM(name, operands, doc) WP_GOP_##name,
    WP_MEMORY_OPS(WP_X_GENUM)
#undef WP_X_GENUM
    WP_XOP_COUNT
};

/* The cell for op under a bounds mode: with WASMPLUG_BOUNDS_GUARD_PAGES the
 * memory loads/stores get the unchecked handlers, which are only safe on a
 * guarded memory (every memory of a guard-mode engine). Meant for ops.h. */
WP_INTERNAL wp_cell wp_op_cell_bounds(wp_op op, wasmplug_bounds_mode bounds);

/* Stand-in memory for instances without one, so reloading base/size never
 * needs a NULL check (validation rejects memory ops without a memory). */
static wasmplug_memory wp_no_memory;

#if WP_THREADED
/* The handler addresses, published by run() called with a NULL exec. The
 * table itself is constant data inside run(); racing first calls store the
 * same pointer. */
static _Atomic(const void *const *) wp_labels;
#endif

#if defined(__GNUC__)
#define WP_NOINLINE __attribute__((noinline))
#else
#define WP_NOINLINE
#endif

/* Never inlined: its label addresses must exist exactly once. */
static WP_NOINLINE bool run(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args);

/* ------------------------------------------------------------------------ */
/* Traps                                                                    */
/* ------------------------------------------------------------------------ */

static void set_message(wp_exec *exec, const char *msg)
{
    size_t n = strlen(msg);
    if (n >= sizeof exec->trap_message)
        n = sizeof exec->trap_message - 1;
    memcpy(exec->trap_message, msg, n);
    exec->trap_message[n] = '\0';
}

static void set_trap(wp_exec *exec, wasmplug_trap kind)
{
    exec->trap = kind;
    exec->exit_code = 0;
    set_message(exec, wasmplug_trap_string(kind));
}

/*
 * Call a host function with its arguments/results in slots. caller_inst is
 * the calling wasm instance (NULL when called from C). The host may re-enter
 * wasm on exec; whatever it leaves in depth/stack_top is undone here.
 */
static bool call_host(wp_exec *exec, wasmplug_func *f, wasmplug_instance *caller_inst,
                      wasmplug_slot *slots)
{
    uint32_t np = f->type->pslots, nr = f->type->rslots;
    uint32_t depth = exec->depth;
    wasmplug_slot *saved_top = exec->stack_top;
    wasmplug_caller caller = {
        .exec = exec,
        .instance = caller_inst,
        .trap = WASMPLUG_TRAP_HOST_ERROR,
        .exit_code = 0,
    };
    exec->stack_top = slots + (np > nr ? np : nr);
    /* wasmplug_caller_set_error writes here; empty means "use the default". */
    exec->trap_message[0] = '\0';
    int rc = f->host(&caller, f->host_user, slots);
    exec->depth = depth;
    exec->stack_top = saved_top;
    if (WP_LIKELY(rc == 0))
        return true;
    exec->trap = caller.trap == WASMPLUG_TRAP_NONE ? WASMPLUG_TRAP_HOST_ERROR : caller.trap;
    exec->exit_code = caller.exit_code;
    if (exec->trap_message[0] == '\0')
        set_message(exec, wasmplug_trap_string(exec->trap));
    return false;
}

/* ------------------------------------------------------------------------ */
/* Numeric helpers                                                          */
/* ------------------------------------------------------------------------ */

/* min/max: NaN if either operand is NaN (a + b quiets and propagates it), and
 * -0 < +0, which the plain comparison does not see. */
static inline float f32_min(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        uint32_t ua, ub;
        memcpy(&ua, &a, 4);
        memcpy(&ub, &b, 4);
        ua |= ub;
        memcpy(&a, &ua, 4);
        return a;
    }
    return a < b ? a : b;
}

static inline float f32_max(float a, float b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        uint32_t ua, ub;
        memcpy(&ua, &a, 4);
        memcpy(&ub, &b, 4);
        ua &= ub;
        memcpy(&a, &ua, 4);
        return a;
    }
    return a > b ? a : b;
}

static inline double f64_min(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        uint64_t ua, ub;
        memcpy(&ua, &a, 8);
        memcpy(&ub, &b, 8);
        ua |= ub;
        memcpy(&a, &ua, 8);
        return a;
    }
    return a < b ? a : b;
}

static inline double f64_max(double a, double b)
{
    if (a != a || b != b)
        return a + b;
    if (a == b) {
        uint64_t ua, ub;
        memcpy(&ua, &a, 8);
        memcpy(&ub, &b, 8);
        ua &= ub;
        memcpy(&a, &ua, 8);
        return a;
    }
    return a > b ? a : b;
}

static inline uint32_t rotl32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x << n) | (x >> ((32 - n) & 31));
}
static inline uint32_t rotr32(uint32_t x, uint32_t n)
{
    n &= 31;
    return (x >> n) | (x << ((32 - n) & 31));
}
static inline uint64_t rotl64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x << n) | (x >> ((64 - n) & 63));
}
static inline uint64_t rotr64(uint64_t x, uint64_t n)
{
    n &= 63;
    return (x >> n) | (x << ((64 - n) & 63));
}

/* Arithmetic shift right without relying on implementation-defined >> of
 * negative values (compiles to sar). */
static inline uint32_t sar32(uint32_t x, uint32_t n)
{
    n &= 31;
    uint32_t sign = (uint32_t)0 - (x >> 31);
    return sign ^ ((x ^ sign) >> n);
}
static inline uint64_t sar64(uint64_t x, uint64_t n)
{
    n &= 63;
    uint64_t sign = (uint64_t)0 - (x >> 63);
    return sign ^ ((x ^ sign) >> n);
}

#if defined(__GNUC__)
static inline uint32_t clz32(uint32_t x) { return x ? (uint32_t)__builtin_clz(x) : 32; }
static inline uint32_t ctz32(uint32_t x) { return x ? (uint32_t)__builtin_ctz(x) : 32; }
static inline uint32_t popcnt32(uint32_t x) { return (uint32_t)__builtin_popcount(x); }
static inline uint64_t clz64(uint64_t x) { return x ? (uint64_t)__builtin_clzll(x) : 64; }
static inline uint64_t ctz64(uint64_t x) { return x ? (uint64_t)__builtin_ctzll(x) : 64; }
static inline uint64_t popcnt64(uint64_t x) { return (uint64_t)__builtin_popcountll(x); }
#else
static inline uint32_t clz32(uint32_t x)
{
    uint32_t n = 0;
    if (!x)
        return 32;
    while (!(x & 0x80000000u)) { x <<= 1; n++; }
    return n;
}
static inline uint32_t ctz32(uint32_t x)
{
    uint32_t n = 0;
    if (!x)
        return 32;
    while (!(x & 1)) { x >>= 1; n++; }
    return n;
}
static inline uint32_t popcnt32(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}
static inline uint64_t clz64(uint64_t x)
{
    uint64_t n = 0;
    if (!x)
        return 64;
    while (!(x & 0x8000000000000000ull)) { x <<= 1; n++; }
    return n;
}
static inline uint64_t ctz64(uint64_t x)
{
    uint64_t n = 0;
    if (!x)
        return 64;
    while (!(x & 1)) { x >>= 1; n++; }
    return n;
}
static inline uint64_t popcnt64(uint64_t x)
{
    uint64_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}
#endif

/* Sign extension through unsigned arithmetic (no implementation-defined
 * narrowing conversions). */
static inline uint32_t sext32(uint32_t x, unsigned bits)
{
    uint32_t m = (uint32_t)1 << (bits - 1);
    x &= (m << 1) - 1;
    return (x ^ m) - m;
}
static inline uint64_t sext64(uint64_t x, unsigned bits)
{
    uint64_t m = (uint64_t)1 << (bits - 1);
    if (bits < 64)
        x &= (m << 1) - 1;
    return (x ^ m) - m;
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */

#define S(k) (fp[ip[k].u32])
#define IDX(k) (ip[k].u32)
#define IMM(k) (ip[k].u64)

#if WP_THREADED
#define OP(name) L_##name:
#define GOP(name) LG_##name:
#define DISPATCH() goto *ip->handler
#else
#define OP(name) case WP_OP_##name:
#define GOP(name) case WP_GOP_##name:
#define DISPATCH() goto dispatch
#endif

#define NEXT(n)                                                                 \
    do {                                                                        \
        ip += (n);                                                              \
        DISPATCH();                                                             \
    } while (0)

#define TRAP(kind)                                                              \
    do {                                                                        \
        tk = (kind);                                                            \
        goto trap;                                                              \
    } while (0)

/* Handler shapes: d = op(a) and d = op(a, b), operands at cells 1, 2, 3. */
#define UNOP(name, df, expr)                                                    \
    OP(name) {                                                                  \
        S(1).df = (expr);                                                       \
        NEXT(3);                                                                \
    }
#define BINOP(name, df, expr)                                                   \
    OP(name) {                                                                  \
        S(1).df = (expr);                                                       \
        NEXT(4);                                                                \
    }
#define A_(f) (S(2).f)
#define QUIET(x, fn) ((x) != (x) ? (x) + (x) : fn(x))
#define B_(f) (S(3).f)
/* The immediate of an _IMM operation (cell 3; i32 forms use its low bits). */
#define I_(f) (ip[3].f)
/* Take a branch of rel cells. Backward branches go only to loops, and
 * every loop starts with FUEL (compile_func.c; serialize.c checks loaded
 * code for it): jump straight into its handler rather than dispatching. */
#define JUMP(rel)                                                               \
    do {                                                                        \
        int64_t r_ = (rel);                                                     \
        ip += r_;                                                               \
        if (r_ < 0)                                                             \
            goto fuel;                                                          \
        DISPATCH();                                                             \
    } while (0)
/* Compare and branch: (a, b or imm, rel); jump when cond holds. */
#define BR_CMP(name, cond)                                                      \
    OP(name) {                                                                  \
        if (cond)                                                               \
            JUMP(ip[3].i64);                                                    \
        ip += 4;                                                                \
        DISPATCH();                                                             \
    }

/* d = a + imm (cells 1-3), then jump to rel (cell relk) when cond on v_
 * (the sum, a slot value) holds; b or k in cell 4 for the compare forms. */
#define ADD_BR(name, cond, relk)                                                \
    OP(name) {                                                                  \
        wasmplug_slot v_;                                                       \
        v_.u64 = 0;                                                             \
        v_.u32 = S(2).u32 + ip[3].u32;                                          \
        S(1).u32 = v_.u32;                                                      \
        if (cond)                                                               \
            JUMP(ip[relk].i64);                                                 \
        ip += (relk) + 1;                                                       \
        DISPATCH();                                                             \
    }

/* Trapping float->int: valid iff lo < x < hi (exact bounds, computed so the
 * C conversion is defined); NaN is an invalid conversion. */
#define TRUNC_TRAP(name, sf, ft, df, dt, lo, hi)                                \
    OP(name) {                                                                  \
        ft x_ = S(2).sf;                                                        \
        if (WP_UNLIKELY(!(x_ > (lo) && x_ < (hi))))                             \
            TRAP(x_ != x_ ? WASMPLUG_TRAP_INVALID_CONVERSION                    \
                          : WASMPLUG_TRAP_INTEGER_OVERFLOW);                    \
        S(1).df = (dt)x_;                                                       \
        NEXT(3);                                                                \
    }
/* Saturating float->int: clamp, NaN gives 0. */
#define TRUNC_SAT(name, sf, ft, df, dt, lo, hi, minv, maxv)                     \
    OP(name) {                                                                  \
        ft x_ = S(2).sf;                                                        \
        dt r_;                                                                  \
        if (x_ != x_)                                                           \
            r_ = 0;                                                             \
        else if (!(x_ > (lo)))                                                  \
            r_ = (minv);                                                        \
        else if (!(x_ < (hi)))                                                  \
            r_ = (maxv);                                                        \
        else                                                                    \
            r_ = (dt)x_;                                                        \
        S(1).df = r_;                                                           \
        NEXT(3);                                                                \
    }

/* Switch to another instance's globals, functions and memory. */
#define SET_INSTANCE(ni)                                                        \
    do {                                                                        \
        inst = (ni);                                                            \
        mem = inst->module->nmemories ? inst->memories[0] : &wp_no_memory;      \
        base = mem->base;                                                       \
        msize = mem->size;                                                      \
    } while (0)

/* Push a frame for wasm function f_ (callee fp nfp_, resuming the caller at
 * ret_), zero its declared locals and jump to its code. */
#define ENTER(f_, nfp_, ret_)                                                   \
    do {                                                                        \
        const wp_code *code_ = (f_)->code;                                      \
        uint32_t dep_ = exec->depth;                                            \
        if (WP_UNLIKELY(dep_ >= exec->max_depth))                               \
            TRAP(WASMPLUG_TRAP_CALL_STACK_EXHAUSTED);                           \
        if (WP_UNLIKELY((size_t)(stack_end - (nfp_)) < code_->frame_size))      \
            TRAP(WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED);                          \
        wp_frame *fr_ = &exec->frames[dep_];                                    \
        fr_->ret_ip = (ret_);                                                   \
        fr_->fp = (nfp_);                                                       \
        fr_->func = (f_);                                                       \
        exec->depth = dep_ + 1;                                                 \
        WP_BARRIER();                                                           \
        for (uint32_t i_ = code_->nparams, e_ = i_ + code_->nlocals; i_ < e_; i_++) \
            (nfp_)[i_].u64 = 0;                                                 \
        fp = (nfp_);                                                            \
        ip = code_->cells;                                                      \
    } while (0)

/*
 * Run wasm function func with args (frame pointer of the entry frame).
 * Called with exec == NULL it only publishes the label table (threaded
 * build). Returns false on a trap with exec->trap* set.
 */
static WP_NOINLINE bool run(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args)
{
#if WP_THREADED
#define WP_X_LABEL(name, operands, doc) &&L_##name,
#define WP_X_GLABEL(name, operands, doc) &&LG_##name,
    static const void *const labels[WP_XOP_COUNT] = {
        WP_ALL_OPS(WP_X_LABEL) WP_MEMORY_OPS(WP_X_GLABEL)
    };
#undef WP_X_LABEL
#undef WP_X_GLABEL
    if (!exec) {
        atomic_store_explicit(&wp_labels, labels, memory_order_release);
        return true;
    }
#else
    if (!exec)
        return true;
#endif

    const wp_cell *ip;
    wasmplug_slot *fp;
    uint8_t *base;
    uint64_t msize;
    wasmplug_instance *inst;
    wasmplug_memory *mem;
    int64_t fuel = exec->fuel_limited ? exec->fuel : INT64_MAX;
    wasmplug_slot *stack_end = exec->stack + exec->stack_slots;
    wasmplug_trap tk;
    /* operands of the generic call path */
    wasmplug_func *callee;
    uint32_t cbase;
    const wp_cell *cnext;

    if (fuel < 0)
        fuel = 0;
    SET_INSTANCE(func->instance);
    ENTER(func, args, (const wp_cell *)NULL);

#if WP_THREADED
    DISPATCH();
#else
dispatch:
    switch (ip->op) {
#endif

    /* ---------------------------------------------------------------- */
    /* Control                                                          */
    /* ---------------------------------------------------------------- */
    OP(UNREACHABLE) { TRAP(WASMPLUG_TRAP_UNREACHABLE); }
    OP(BR) { JUMP(ip[1].i64); }
    OP(BR_IF) {
        if (S(1).i32)
            JUMP(ip[2].i64);
        ip += 3;
        DISPATCH();
    }
    OP(BR_IF_NOT) {
        if (!S(1).i32)
            JUMP(ip[2].i64);
        ip += 3;
        DISPATCH();
    }
    OP(BR_TABLE) {
        uint32_t i_ = S(1).u32, n_ = IDX(2);
        JUMP(ip[3 + (i_ < n_ ? i_ : n_)].i64);
    }
    OP(FUEL)
    fuel: {
        /* fuel >= 0 and the cost is at most the function's instruction
         * count, so this cannot overflow. One test covers running out and an
         * interrupt request (exec->interrupt is 0 or -1: the OR is negative
         * exactly when either is asked). */
        int64_t left_ = fuel - (int64_t)IMM(1);
        /* Kept current in exec so a guard-page trap still accounts it. */
        exec->fuel = left_;
        WP_BARRIER();
        if (WP_UNLIKELY((left_ | (int64_t)atomic_load_explicit(&exec->interrupt,
                                                               memory_order_relaxed)) < 0)) {
            if (left_ < 0) {
                fuel = 0;
                TRAP(WASMPLUG_TRAP_OUT_OF_FUEL);
            }
            fuel = left_;
            if (atomic_exchange_explicit(&exec->interrupt, 0, memory_order_relaxed))
                TRAP(WASMPLUG_TRAP_INTERRUPTED);
        }
        fuel = left_;
        NEXT(2);
    }
    OP(RETURN) {
        uint32_t dep_ = exec->depth - 1;
        const wp_frame *cf_ = &exec->frames[dep_];
        exec->depth = dep_;
        WP_BARRIER();
        if (WP_UNLIKELY(cf_->ret_ip == NULL))
            goto done;
        ip = cf_->ret_ip;
        fp = cf_[-1].fp;
        wasmplug_instance *ci_ = cf_[-1].func->instance;
        if (WP_UNLIKELY(ci_ != inst)) {
            SET_INSTANCE(ci_);
        } else {
            /* The callee may have grown the memory. */
            base = mem->base;
            msize = mem->size;
        }
        DISPATCH();
    }
    OP(CALL) {
        wasmplug_func *f_ = inst->funcs[IDX(1)];
        wasmplug_slot *nfp_ = fp + IDX(2);
        ENTER(f_, nfp_, ip + 3);
        DISPATCH();
    }
    OP(CALL_IMPORT) {
        callee = inst->funcs[IDX(1)];
        cbase = IDX(2);
        cnext = ip + 3;
        goto call_any;
    }
    OP(CALL_INDIRECT) {
        const wasmplug_table *t_ = inst->tables[IDX(2)];
        uint32_t i_ = S(3).u32;
        if (WP_UNLIKELY(i_ >= t_->size))
            TRAP(WASMPLUG_TRAP_UNDEFINED_ELEMENT);
        callee = (wasmplug_func *)t_->elems[i_];
        if (WP_UNLIKELY(callee == NULL))
            TRAP(WASMPLUG_TRAP_UNINITIALIZED_ELEMENT);
        const wp_functype *want_ = &inst->module->types[IDX(1)];
        if (WP_UNLIKELY(callee->type != want_) && !wp_functype_equal(callee->type, want_))
            TRAP(WASMPLUG_TRAP_INDIRECT_CALL_TYPE_MISMATCH);
        cbase = IDX(4);
        cnext = ip + 5;
        goto call_any;
    }
    OP(SELECT) {
        wasmplug_slot r_ = S(2).i32 ? S(3) : S(4);
        S(1) = r_;
        NEXT(5);
    }
    OP(COPY) {
        S(1) = S(2);
        NEXT(3);
    }
    OP(COPY2) {
        S(1) = S(2);
        S(3) = S(4);
        NEXT(5);
    }
    OP(I32_ADD2) {
        S(1).u32 = S(2).u32 + S(3).u32;
        S(4).u32 = S(5).u32 + S(6).u32;
        NEXT(7);
    }
    OP(F32_ADD2) {
        S(1).f32 = S(2).f32 + S(3).f32;
        S(4).f32 = S(5).f32 + S(6).f32;
        NEXT(7);
    }
    OP(F64_ADD2) {
        S(1).f64 = S(2).f64 + S(3).f64;
        S(4).f64 = S(5).f64 + S(6).f64;
        NEXT(7);
    }
    OP(I32_ADD_SHL) {
        S(1).u32 = S(2).u32 + (S(3).u32 << (ip[4].u32 & 31));
        NEXT(5);
    }
    OP(CONST) {
        S(1).u64 = IMM(2);
        NEXT(3);
    }
    OP(GLOBAL_GET) {
        S(1) = inst->globals[IDX(2)]->value;
        NEXT(3);
    }
    OP(GLOBAL_SET) {
        inst->globals[IDX(1)]->value = S(2);
        NEXT(3);
    }
    OP(MEMORY_SIZE) {
        S(1).u32 = mem->pages;
        NEXT(2);
    }
    OP(MEMORY_GROW) {
        uint32_t limit_ = exec->max_pages ? exec->max_pages : WP_MAX_PAGES;
        if (limit_ > WP_MAX_PAGES)
            limit_ = WP_MAX_PAGES;
        if (mem->limits.has_max && mem->limits.max < limit_)
            limit_ = mem->limits.max;
        int32_t r_ = wp_memory_grow(mem, S(2).u32, limit_);
        exec->grows_refused += r_ < 0;
        base = mem->base;
        msize = mem->size;
        S(1).i32 = r_;
        NEXT(3);
    }
    OP(MEMORY_INIT) {
        const wp_data *seg_ = &inst->module->datas[IDX(1)];
        uint64_t segsize_ = inst->data_dropped[IDX(1)] ? 0 : seg_->size;
        uint32_t d_ = S(2).u32, s_ = S(3).u32, n_ = S(4).u32;
        if (WP_UNLIKELY((uint64_t)s_ + n_ > segsize_ || (uint64_t)d_ + n_ > msize))
            TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (n_)
            memcpy(base + d_, seg_->bytes + s_, n_);
        NEXT(5);
    }
    OP(DATA_DROP) {
        inst->data_dropped[IDX(1)] = true;
        NEXT(2);
    }
    OP(MEMORY_COPY) {
        uint32_t d_ = S(1).u32, s_ = S(2).u32, n_ = S(3).u32;
        if (WP_UNLIKELY((uint64_t)s_ + n_ > msize || (uint64_t)d_ + n_ > msize))
            TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (n_)
            memmove(base + d_, base + s_, n_);
        NEXT(4);
    }
    OP(MEMORY_FILL) {
        uint32_t d_ = S(1).u32, v_ = S(2).u32, n_ = S(3).u32;
        if (WP_UNLIKELY((uint64_t)d_ + n_ > msize))
            TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
        if (n_)
            memset(base + d_, (int)(v_ & 0xFF), n_);
        NEXT(4);
    }
    OP(TABLE_GET) {
        const wasmplug_table *t_ = inst->tables[IDX(2)];
        uint32_t i_ = S(3).u32;
        if (WP_UNLIKELY(i_ >= t_->size))
            TRAP(WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
        S(1).ref = t_->elems[i_];
        NEXT(4);
    }
    OP(TABLE_SET) {
        wasmplug_table *t_ = inst->tables[IDX(1)];
        uint32_t i_ = S(2).u32;
        if (WP_UNLIKELY(i_ >= t_->size))
            TRAP(WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
        t_->elems[i_] = S(3).ref;
        NEXT(4);
    }
    OP(TABLE_SIZE) {
        S(1).u32 = inst->tables[IDX(2)]->size;
        NEXT(3);
    }
    OP(TABLE_GROW) {
        wasmplug_table *t_ = inst->tables[IDX(2)];
        void *init_ = S(3).ref;
        S(1).i32 = wp_table_grow(t_, S(4).u32, init_);
        NEXT(5);
    }
    OP(TABLE_FILL) {
        wasmplug_table *t_ = inst->tables[IDX(1)];
        uint32_t d_ = S(2).u32, n_ = S(4).u32;
        void *v_ = S(3).ref;
        if (WP_UNLIKELY((uint64_t)d_ + n_ > t_->size))
            TRAP(WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
        for (uint32_t i_ = 0; i_ < n_; i_++)
            t_->elems[d_ + i_] = v_;
        NEXT(5);
    }
    OP(TABLE_COPY) {
        wasmplug_table *td_ = inst->tables[IDX(1)];
        const wasmplug_table *ts_ = inst->tables[IDX(2)];
        uint32_t d_ = S(3).u32, s_ = S(4).u32, n_ = S(5).u32;
        if (WP_UNLIKELY((uint64_t)s_ + n_ > ts_->size || (uint64_t)d_ + n_ > td_->size))
            TRAP(WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
        if (n_)
            memmove(td_->elems + d_, ts_->elems + s_, (size_t)n_ * sizeof(void *));
        NEXT(6);
    }
    OP(TABLE_INIT) {
        wasmplug_table *t_ = inst->tables[IDX(1)];
        const wp_elem *seg_ = &inst->module->elems[IDX(2)];
        uint64_t segsize_ = inst->elem_dropped[IDX(2)] ? 0 : seg_->count;
        uint32_t d_ = S(3).u32, s_ = S(4).u32, n_ = S(5).u32;
        if (WP_UNLIKELY((uint64_t)s_ + n_ > segsize_ || (uint64_t)d_ + n_ > t_->size))
            TRAP(WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
        for (uint32_t i_ = 0; i_ < n_; i_++) {
            const wp_constexpr *item_ = &seg_->items[s_ + i_];
            void *ref_;
            if (item_->kind == WP_CONST_FUNC)
                ref_ = inst->funcs[item_->index];
            else if (item_->kind == WP_CONST_GLOBAL)
                ref_ = inst->globals[item_->index]->value.ref;
            else
                ref_ = item_->value.ref;
            t_->elems[d_ + i_] = ref_;
        }
        NEXT(6);
    }
    OP(ELEM_DROP) {
        inst->elem_dropped[IDX(1)] = true;
        NEXT(2);
    }
    OP(REF_IS_NULL) {
        S(1).u32 = S(2).ref == NULL;
        NEXT(3);
    }
    OP(REF_FUNC) {
        S(1).ref = inst->funcs[IDX(2)];
        NEXT(3);
    }

    /* ---------------------------------------------------------------- */
    /* SIMD: v128 values in slot pairs; lane semantics in simd.c         */
    /* ---------------------------------------------------------------- */
#define HI(k) (fp[ip[k].u32 + 1])
/* p_ = the n_ bytes at a + off, after an explicit bounds check (both bounds
 * modes: an offset beyond the memory also fails, so nothing wraps). */
#define SIMD_AT(addr, off, n)                                                   \
    uint64_t off_ = (off), ea_ = (uint64_t)(addr) + off_;                       \
    if (WP_UNLIKELY(off_ > msize || ea_ + (n) > msize))                         \
        TRAP(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);                               \
    uint8_t *p_ = base + ea_
    OP(V128_CONST) {
        S(1).u64 = IMM(2);
        HI(1).u64 = IMM(3);
        NEXT(4);
    }
    OP(V128_COPY) {
        wasmplug_slot lo_ = S(2), hi_ = HI(2);
        S(1) = lo_;
        HI(1) = hi_;
        NEXT(3);
    }
    OP(V128_SELECT) {
        uint32_t s_ = S(2).i32 ? IDX(3) : IDX(4);
        wasmplug_slot lo_ = fp[s_], hi_ = fp[s_ + 1];
        S(1) = lo_;
        HI(1) = hi_;
        NEXT(5);
    }
    OP(V128_GLOBAL_GET) {
        const wasmplug_global *g_ = inst->globals[IDX(2)];
        S(1) = g_->value;
        HI(1) = g_->value_hi;
        NEXT(3);
    }
    OP(V128_GLOBAL_SET) {
        wasmplug_global *g_ = inst->globals[IDX(1)];
        g_->value = S(2);
        g_->value_hi = HI(2);
        NEXT(3);
    }
    OP(SIMD1) {
        wp_simd_exec(IDX(3), 0, &S(1), &S(2), NULL, NULL);
        NEXT(4);
    }
    OP(SIMD2) {
        wp_simd_exec(IDX(4), 0, &S(1), &S(2), &S(3), NULL);
        NEXT(5);
    }
    OP(SIMD3) {
        wp_simd_exec(IDX(5), 0, &S(1), &S(2), &S(3), &S(4));
        NEXT(6);
    }
    OP(SIMD_LANE) {
        wp_simd_exec(IDX(4), IDX(5), &S(1), &S(2), &S(3), NULL);
        NEXT(6);
    }
    OP(SIMD_SHUFFLE) {
        uint8_t idx_[16];
        memcpy(idx_, &ip[4].u64, 8);
        memcpy(idx_ + 8, &ip[5].u64, 8);
        wp_simd_shuffle(&S(1), &S(2), &S(3), idx_);
        NEXT(6);
    }
    OP(SIMD_LOAD) {
        SIMD_AT(S(2).u32, IMM(3), wp_simd_access_size(IDX(4)));
        wp_simd_load(IDX(4), 0, &S(1), p_, NULL);
        NEXT(5);
    }
    OP(SIMD_STORE) {
        SIMD_AT(S(1).u32, IMM(3), 16);
        memcpy(p_, &S(2), 16);
        NEXT(5);
    }
    OP(V128_LOAD) {
        SIMD_AT(S(2).u32, IMM(3), 16);
        memcpy(&S(1), p_, 16);
        NEXT(4);
    }
#if defined(__GNUC__)
/* d = a op b on whole vectors; shift counts are taken modulo the lane width. */
#define SIMD_RHS_BIN(VT) memcpy(&y_, &S(3), 16)
#define SIMD_RHS_SHIFT(VT) y_ = (VT){0} + (__typeof__(y_[0]))(S(3).u32 & (8 * sizeof y_[0] - 1))
#define SIMD_FAST(name, sub, shape, VT, op)                                     \
    OP(name) {                                                                  \
        VT x_, y_;                                                              \
        memcpy(&x_, &S(2), 16);                                                 \
        SIMD_RHS_##shape(VT);                                                   \
        x_ = x_ op y_;                                                          \
        memcpy(&S(1), &x_, 16);                                                 \
        NEXT(4);                                                                \
    }
#else
#define SIMD_FAST(name, sub, shape, VT, op)                                     \
    OP(name) {                                                                  \
        wp_simd_exec(sub, 0, &S(1), &S(2), &S(3), NULL);                        \
        NEXT(4);                                                                \
    }
#endif
    WP_SIMD_FAST(SIMD_FAST)
#undef SIMD_FAST
#if defined(__GNUC__) && (defined(__clang__) || __GNUC__ >= 9)
#define SIMD_LOAD_EXT(name, sub, ST, VT)                                        \
    OP(name) {                                                                  \
        SIMD_AT(S(2).u32, IMM(3), 8);                                           \
        ST x_;                                                                  \
        memcpy(&x_, p_, 8);                                                     \
        VT y_ = __builtin_convertvector(x_, VT);                                \
        memcpy(&S(1), &y_, 16);                                                 \
        NEXT(4);                                                                \
    }
#else
#define SIMD_LOAD_EXT(name, sub, ST, VT)                                        \
    OP(name) {                                                                  \
        SIMD_AT(S(2).u32, IMM(3), 8);                                           \
        wp_simd_load(sub, 0, &S(1), p_, NULL);                                  \
        NEXT(4);                                                                \
    }
#endif
    WP_SIMD_FAST_LOADS(SIMD_LOAD_EXT)
#undef SIMD_LOAD_EXT
    OP(I32X4_SPLAT) {
        uint32_t v_ = S(2).u32;
        S(1).u64 = HI(1).u64 = (uint64_t)v_ << 32 | v_;
        NEXT(3);
    }
    OP(I32X4_EXTRACT_LANE) {
        uint32_t l_ = IDX(3);
        uint64_t w_ = fp[IDX(2) + (l_ >> 1)].u64;
        S(1).u64 = (uint32_t)(w_ >> (32 * (l_ & 1)));
        NEXT(4);
    }
#undef SIMD_RHS_BIN
#undef SIMD_RHS_SHIFT
    OP(SIMD_LOAD_LANE) {
        SIMD_AT(S(2).u32, IMM(4), wp_simd_access_size(IDX(5)));
        wp_simd_load(IDX(5), IDX(6), &S(1), p_, &S(3));
        NEXT(7);
    }
    OP(SIMD_STORE_LANE) {
        SIMD_AT(S(1).u32, IMM(3), wp_simd_access_size(IDX(4)));
        wp_simd_store(IDX(4), IDX(5), p_, &S(2));
        NEXT(6);
    }
#undef SIMD_AT
#undef HI

    /* ---------------------------------------------------------------- */
    /* Linear memory: explicit checks, then guard-page variants          */
    /* ---------------------------------------------------------------- */
#define WP_GUARDED 0
#include "interp_mem.h"
#undef WP_GUARDED
#define WP_GUARDED 1
#include "interp_mem.h"
#undef WP_GUARDED

    /* ---------------------------------------------------------------- */
    /* Unary                                                            */
    /* ---------------------------------------------------------------- */
    UNOP(I32_EQZ, u32, A_(u32) == 0)
    UNOP(I64_EQZ, u32, A_(u64) == 0)
    UNOP(I32_CLZ, u32, clz32(A_(u32)))
    UNOP(I32_CTZ, u32, ctz32(A_(u32)))
    UNOP(I32_POPCNT, u32, popcnt32(A_(u32)))
    UNOP(I64_CLZ, u64, clz64(A_(u64)))
    UNOP(I64_CTZ, u64, ctz64(A_(u64)))
    UNOP(I64_POPCNT, u64, popcnt64(A_(u64)))
    /* abs/neg/copysign are bit operations: they keep NaN payloads. */
    UNOP(F32_ABS, f32_bits, A_(f32_bits) & 0x7FFFFFFFu)
    UNOP(F32_NEG, f32_bits, A_(f32_bits) ^ 0x80000000u)
    /* libm may return a signalling NaN unchanged: quiet it (x + x). */
    UNOP(F32_CEIL, f32, QUIET(A_(f32), ceilf))
    UNOP(F32_FLOOR, f32, QUIET(A_(f32), floorf))
    UNOP(F32_TRUNC, f32, QUIET(A_(f32), truncf))
    UNOP(F32_NEAREST, f32, QUIET(A_(f32), rintf)) /* default mode: ties to even */
    UNOP(F32_SQRT, f32, sqrtf(A_(f32)))
    UNOP(F64_ABS, f64_bits, A_(f64_bits) & 0x7FFFFFFFFFFFFFFFull)
    UNOP(F64_NEG, f64_bits, A_(f64_bits) ^ 0x8000000000000000ull)
    UNOP(F64_CEIL, f64, QUIET(A_(f64), ceil))
    UNOP(F64_FLOOR, f64, QUIET(A_(f64), floor))
    UNOP(F64_TRUNC, f64, QUIET(A_(f64), trunc))
    UNOP(F64_NEAREST, f64, QUIET(A_(f64), rint))
    UNOP(F64_SQRT, f64, sqrt(A_(f64)))
    UNOP(I32_WRAP_I64, u32, (uint32_t)A_(u64))
    TRUNC_TRAP(I32_TRUNC_F32_S, f32, float, i32, int32_t, -2147483904.0f, 2147483648.0f)
    TRUNC_TRAP(I32_TRUNC_F32_U, f32, float, u32, uint32_t, -1.0f, 4294967296.0f)
    TRUNC_TRAP(I32_TRUNC_F64_S, f64, double, i32, int32_t, -2147483649.0, 2147483648.0)
    TRUNC_TRAP(I32_TRUNC_F64_U, f64, double, u32, uint32_t, -1.0, 4294967296.0)
    UNOP(I64_EXTEND_I32_S, i64, (int64_t)A_(i32))
    UNOP(I64_EXTEND_I32_U, u64, (uint64_t)A_(u32))
    TRUNC_TRAP(I64_TRUNC_F32_S, f32, float, i64, int64_t, -9223373136366403584.0f,
               9223372036854775808.0f)
    TRUNC_TRAP(I64_TRUNC_F32_U, f32, float, u64, uint64_t, -1.0f, 18446744073709551616.0f)
    TRUNC_TRAP(I64_TRUNC_F64_S, f64, double, i64, int64_t, -9223372036854777856.0,
               9223372036854775808.0)
    TRUNC_TRAP(I64_TRUNC_F64_U, f64, double, u64, uint64_t, -1.0, 18446744073709551616.0)
    UNOP(F32_CONVERT_I32_S, f32, (float)A_(i32))
    UNOP(F32_CONVERT_I32_U, f32, (float)A_(u32))
    UNOP(F32_CONVERT_I64_S, f32, (float)A_(i64))
    UNOP(F32_CONVERT_I64_U, f32, (float)A_(u64))
    UNOP(F32_DEMOTE_F64, f32, (float)A_(f64))
    UNOP(F64_CONVERT_I32_S, f64, (double)A_(i32))
    UNOP(F64_CONVERT_I32_U, f64, (double)A_(u32))
    UNOP(F64_CONVERT_I64_S, f64, (double)A_(i64))
    UNOP(F64_CONVERT_I64_U, f64, (double)A_(u64))
    UNOP(F64_PROMOTE_F32, f64, (double)A_(f32))
    UNOP(I32_EXTEND8_S, u32, sext32(A_(u32), 8))
    UNOP(I32_EXTEND16_S, u32, sext32(A_(u32), 16))
    UNOP(I64_EXTEND8_S, u64, sext64(A_(u64), 8))
    UNOP(I64_EXTEND16_S, u64, sext64(A_(u64), 16))
    UNOP(I64_EXTEND32_S, u64, sext64(A_(u64), 32))
    TRUNC_SAT(I32_TRUNC_SAT_F32_S, f32, float, i32, int32_t, -2147483904.0f, 2147483648.0f,
              INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F32_U, f32, float, u32, uint32_t, -1.0f, 4294967296.0f, 0,
              UINT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_S, f64, double, i32, int32_t, -2147483649.0, 2147483648.0,
              INT32_MIN, INT32_MAX)
    TRUNC_SAT(I32_TRUNC_SAT_F64_U, f64, double, u32, uint32_t, -1.0, 4294967296.0, 0,
              UINT32_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_S, f32, float, i64, int64_t, -9223373136366403584.0f,
              9223372036854775808.0f, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F32_U, f32, float, u64, uint64_t, -1.0f, 18446744073709551616.0f,
              0, UINT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_S, f64, double, i64, int64_t, -9223372036854777856.0,
              9223372036854775808.0, INT64_MIN, INT64_MAX)
    TRUNC_SAT(I64_TRUNC_SAT_F64_U, f64, double, u64, uint64_t, -1.0, 18446744073709551616.0,
              0, UINT64_MAX)

    /* ---------------------------------------------------------------- */
    /* Binary                                                           */
    /* ---------------------------------------------------------------- */
    BINOP(I32_EQ, u32, A_(u32) == B_(u32))
    BINOP(I32_NE, u32, A_(u32) != B_(u32))
    BINOP(I32_LT_S, u32, A_(i32) < B_(i32))
    BINOP(I32_LT_U, u32, A_(u32) < B_(u32))
    BINOP(I32_GT_S, u32, A_(i32) > B_(i32))
    BINOP(I32_GT_U, u32, A_(u32) > B_(u32))
    BINOP(I32_LE_S, u32, A_(i32) <= B_(i32))
    BINOP(I32_LE_U, u32, A_(u32) <= B_(u32))
    BINOP(I32_GE_S, u32, A_(i32) >= B_(i32))
    BINOP(I32_GE_U, u32, A_(u32) >= B_(u32))
    BINOP(I64_EQ, u32, A_(u64) == B_(u64))
    BINOP(I64_NE, u32, A_(u64) != B_(u64))
    BINOP(I64_LT_S, u32, A_(i64) < B_(i64))
    BINOP(I64_LT_U, u32, A_(u64) < B_(u64))
    BINOP(I64_GT_S, u32, A_(i64) > B_(i64))
    BINOP(I64_GT_U, u32, A_(u64) > B_(u64))
    BINOP(I64_LE_S, u32, A_(i64) <= B_(i64))
    BINOP(I64_LE_U, u32, A_(u64) <= B_(u64))
    BINOP(I64_GE_S, u32, A_(i64) >= B_(i64))
    BINOP(I64_GE_U, u32, A_(u64) >= B_(u64))
    BINOP(F32_EQ, u32, A_(f32) == B_(f32))
    BINOP(F32_NE, u32, A_(f32) != B_(f32))
    BINOP(F32_LT, u32, A_(f32) < B_(f32))
    BINOP(F32_GT, u32, A_(f32) > B_(f32))
    BINOP(F32_LE, u32, A_(f32) <= B_(f32))
    BINOP(F32_GE, u32, A_(f32) >= B_(f32))
    BINOP(F64_EQ, u32, A_(f64) == B_(f64))
    BINOP(F64_NE, u32, A_(f64) != B_(f64))
    BINOP(F64_LT, u32, A_(f64) < B_(f64))
    BINOP(F64_GT, u32, A_(f64) > B_(f64))
    BINOP(F64_LE, u32, A_(f64) <= B_(f64))
    BINOP(F64_GE, u32, A_(f64) >= B_(f64))

    BINOP(I32_ADD, u32, A_(u32) + B_(u32))
    BINOP(I32_SUB, u32, A_(u32) - B_(u32))
    BINOP(I32_MUL, u32, A_(u32) * B_(u32))
    OP(I32_DIV_S) {
        int32_t a_ = S(2).i32, b_ = S(3).i32;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        if (WP_UNLIKELY(a_ == INT32_MIN && b_ == -1))
            TRAP(WASMPLUG_TRAP_INTEGER_OVERFLOW);
        S(1).i32 = a_ / b_;
        NEXT(4);
    }
    OP(I32_DIV_U) {
        uint32_t a_ = S(2).u32, b_ = S(3).u32;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).u32 = a_ / b_;
        NEXT(4);
    }
    OP(I32_REM_S) {
        int32_t a_ = S(2).i32, b_ = S(3).i32;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).i32 = WP_UNLIKELY(b_ == -1) ? 0 : a_ % b_;
        NEXT(4);
    }
    OP(I32_REM_U) {
        uint32_t a_ = S(2).u32, b_ = S(3).u32;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).u32 = a_ % b_;
        NEXT(4);
    }
    BINOP(I32_AND, u32, A_(u32) & B_(u32))
    BINOP(I32_OR, u32, A_(u32) | B_(u32))
    BINOP(I32_XOR, u32, A_(u32) ^ B_(u32))
    BINOP(I32_SHL, u32, A_(u32) << (B_(u32) & 31))
    BINOP(I32_SHR_S, u32, sar32(A_(u32), B_(u32)))
    BINOP(I32_SHR_U, u32, A_(u32) >> (B_(u32) & 31))
    BINOP(I32_ROTL, u32, rotl32(A_(u32), B_(u32)))
    BINOP(I32_ROTR, u32, rotr32(A_(u32), B_(u32)))

    BINOP(I64_ADD, u64, A_(u64) + B_(u64))
    BINOP(I64_SUB, u64, A_(u64) - B_(u64))
    BINOP(I64_MUL, u64, A_(u64) * B_(u64))
    OP(I64_DIV_S) {
        int64_t a_ = S(2).i64, b_ = S(3).i64;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        if (WP_UNLIKELY(a_ == INT64_MIN && b_ == -1))
            TRAP(WASMPLUG_TRAP_INTEGER_OVERFLOW);
        S(1).i64 = a_ / b_;
        NEXT(4);
    }
    OP(I64_DIV_U) {
        uint64_t a_ = S(2).u64, b_ = S(3).u64;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).u64 = a_ / b_;
        NEXT(4);
    }
    OP(I64_REM_S) {
        int64_t a_ = S(2).i64, b_ = S(3).i64;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).i64 = WP_UNLIKELY(b_ == -1) ? 0 : a_ % b_;
        NEXT(4);
    }
    OP(I64_REM_U) {
        uint64_t a_ = S(2).u64, b_ = S(3).u64;
        if (WP_UNLIKELY(b_ == 0))
            TRAP(WASMPLUG_TRAP_INTEGER_DIVIDE_BY_ZERO);
        S(1).u64 = a_ % b_;
        NEXT(4);
    }
    BINOP(I64_AND, u64, A_(u64) & B_(u64))
    BINOP(I64_OR, u64, A_(u64) | B_(u64))
    BINOP(I64_XOR, u64, A_(u64) ^ B_(u64))
    BINOP(I64_SHL, u64, A_(u64) << (B_(u64) & 63))
    BINOP(I64_SHR_S, u64, sar64(A_(u64), B_(u64)))
    BINOP(I64_SHR_U, u64, A_(u64) >> (B_(u64) & 63))
    BINOP(I64_ROTL, u64, rotl64(A_(u64), B_(u64)))
    BINOP(I64_ROTR, u64, rotr64(A_(u64), B_(u64)))

    BINOP(F32_ADD, f32, A_(f32) + B_(f32))
    BINOP(F32_SUB, f32, A_(f32) - B_(f32))
    BINOP(F32_MUL, f32, A_(f32) * B_(f32))
    BINOP(F32_DIV, f32, A_(f32) / B_(f32))
    BINOP(F32_MIN, f32, f32_min(A_(f32), B_(f32)))
    BINOP(F32_MAX, f32, f32_max(A_(f32), B_(f32)))
    BINOP(F32_COPYSIGN, f32_bits, (A_(f32_bits) & 0x7FFFFFFFu) | (B_(f32_bits) & 0x80000000u))
    BINOP(F64_ADD, f64, A_(f64) + B_(f64))
    BINOP(F64_SUB, f64, A_(f64) - B_(f64))
    BINOP(F64_MUL, f64, A_(f64) * B_(f64))
    BINOP(F64_DIV, f64, A_(f64) / B_(f64))
    BINOP(F64_MIN, f64, f64_min(A_(f64), B_(f64)))
    BINOP(F64_MAX, f64, f64_max(A_(f64), B_(f64)))
    BINOP(F64_COPYSIGN, f64_bits,
          (A_(f64_bits) & 0x7FFFFFFFFFFFFFFFull) | (B_(f64_bits) & 0x8000000000000000ull))


    /* ---------------------------------------------------------------- */
    /* Superinstructions: binary operations with an immediate            */
    /* ---------------------------------------------------------------- */
    BINOP(I32_ADD_IMM, u32, A_(u32) + I_(u32))
    BINOP(I32_MUL_IMM, u32, A_(u32) * I_(u32))
    BINOP(I32_AND_IMM, u32, A_(u32) & I_(u32))
    BINOP(I32_OR_IMM, u32, A_(u32) | I_(u32))
    BINOP(I32_XOR_IMM, u32, A_(u32) ^ I_(u32))
    BINOP(I32_SHL_IMM, u32, A_(u32) << (I_(u32) & 31))
    BINOP(I32_SHR_S_IMM, u32, sar32(A_(u32), I_(u32)))
    BINOP(I32_SHR_U_IMM, u32, A_(u32) >> (I_(u32) & 31))
    BINOP(I32_ROTL_IMM, u32, rotl32(A_(u32), I_(u32)))
    BINOP(I32_ROTR_IMM, u32, rotr32(A_(u32), I_(u32)))
    BINOP(I32_EQ_IMM, u32, A_(u32) == I_(u32))
    BINOP(I32_NE_IMM, u32, A_(u32) != I_(u32))
    BINOP(I32_LT_S_IMM, u32, A_(i32) < I_(i32))
    BINOP(I32_LT_U_IMM, u32, A_(u32) < I_(u32))
    BINOP(I32_GT_S_IMM, u32, A_(i32) > I_(i32))
    BINOP(I32_GT_U_IMM, u32, A_(u32) > I_(u32))
    BINOP(I32_LE_S_IMM, u32, A_(i32) <= I_(i32))
    BINOP(I32_LE_U_IMM, u32, A_(u32) <= I_(u32))
    BINOP(I32_GE_S_IMM, u32, A_(i32) >= I_(i32))
    BINOP(I32_GE_U_IMM, u32, A_(u32) >= I_(u32))
    BINOP(I64_ADD_IMM, u64, A_(u64) + I_(u64))
    BINOP(I64_MUL_IMM, u64, A_(u64) * I_(u64))
    BINOP(I64_AND_IMM, u64, A_(u64) & I_(u64))
    BINOP(I64_OR_IMM, u64, A_(u64) | I_(u64))
    BINOP(I64_XOR_IMM, u64, A_(u64) ^ I_(u64))
    BINOP(I64_SHL_IMM, u64, A_(u64) << (I_(u64) & 63))
    BINOP(I64_SHR_S_IMM, u64, sar64(A_(u64), I_(u64)))
    BINOP(I64_SHR_U_IMM, u64, A_(u64) >> (I_(u64) & 63))
    BINOP(I64_ROTL_IMM, u64, rotl64(A_(u64), I_(u64)))
    BINOP(I64_ROTR_IMM, u64, rotr64(A_(u64), I_(u64)))
    BINOP(I64_EQ_IMM, u32, A_(u64) == I_(u64))
    BINOP(I64_NE_IMM, u32, A_(u64) != I_(u64))
    BINOP(I64_LT_S_IMM, u32, A_(i64) < I_(i64))
    BINOP(I64_LT_U_IMM, u32, A_(u64) < I_(u64))
    BINOP(I64_GT_S_IMM, u32, A_(i64) > I_(i64))
    BINOP(I64_GT_U_IMM, u32, A_(u64) > I_(u64))
    BINOP(I64_LE_S_IMM, u32, A_(i64) <= I_(i64))
    BINOP(I64_LE_U_IMM, u32, A_(u64) <= I_(u64))
    BINOP(I64_GE_S_IMM, u32, A_(i64) >= I_(i64))
    BINOP(I64_GE_U_IMM, u32, A_(u64) >= I_(u64))

    /* ---------------------------------------------------------------- */
    /* Superinstructions: compare and branch                            */
    /* ---------------------------------------------------------------- */
    BR_CMP(BR_IF_I32_EQ, S(1).u32 == S(2).u32)
    BR_CMP(BR_IF_I32_EQ_IMM, S(1).u32 == ip[2].u32)
    BR_CMP(BR_IF_I32_NE, S(1).u32 != S(2).u32)
    BR_CMP(BR_IF_I32_NE_IMM, S(1).u32 != ip[2].u32)
    BR_CMP(BR_IF_I32_LT_S, S(1).i32 < S(2).i32)
    BR_CMP(BR_IF_I32_LT_S_IMM, S(1).i32 < ip[2].i32)
    BR_CMP(BR_IF_I32_LT_U, S(1).u32 < S(2).u32)
    BR_CMP(BR_IF_I32_LT_U_IMM, S(1).u32 < ip[2].u32)
    BR_CMP(BR_IF_I32_GT_S, S(1).i32 > S(2).i32)
    BR_CMP(BR_IF_I32_GT_S_IMM, S(1).i32 > ip[2].i32)
    BR_CMP(BR_IF_I32_GT_U, S(1).u32 > S(2).u32)
    BR_CMP(BR_IF_I32_GT_U_IMM, S(1).u32 > ip[2].u32)
    BR_CMP(BR_IF_I32_LE_S, S(1).i32 <= S(2).i32)
    BR_CMP(BR_IF_I32_LE_S_IMM, S(1).i32 <= ip[2].i32)
    BR_CMP(BR_IF_I32_LE_U, S(1).u32 <= S(2).u32)
    BR_CMP(BR_IF_I32_LE_U_IMM, S(1).u32 <= ip[2].u32)
    BR_CMP(BR_IF_I32_GE_S, S(1).i32 >= S(2).i32)
    BR_CMP(BR_IF_I32_GE_S_IMM, S(1).i32 >= ip[2].i32)
    BR_CMP(BR_IF_I32_GE_U, S(1).u32 >= S(2).u32)
    BR_CMP(BR_IF_I32_GE_U_IMM, S(1).u32 >= ip[2].u32)
    BR_CMP(BR_IF_I64_EQ, S(1).u64 == S(2).u64)
    BR_CMP(BR_IF_I64_EQ_IMM, S(1).u64 == ip[2].u64)
    BR_CMP(BR_IF_I64_NE, S(1).u64 != S(2).u64)
    BR_CMP(BR_IF_I64_NE_IMM, S(1).u64 != ip[2].u64)
    BR_CMP(BR_IF_I64_LT_S, S(1).i64 < S(2).i64)
    BR_CMP(BR_IF_I64_LT_S_IMM, S(1).i64 < ip[2].i64)
    BR_CMP(BR_IF_I64_LT_U, S(1).u64 < S(2).u64)
    BR_CMP(BR_IF_I64_LT_U_IMM, S(1).u64 < ip[2].u64)
    BR_CMP(BR_IF_I64_GT_S, S(1).i64 > S(2).i64)
    BR_CMP(BR_IF_I64_GT_S_IMM, S(1).i64 > ip[2].i64)
    BR_CMP(BR_IF_I64_GT_U, S(1).u64 > S(2).u64)
    BR_CMP(BR_IF_I64_GT_U_IMM, S(1).u64 > ip[2].u64)
    BR_CMP(BR_IF_I64_LE_S, S(1).i64 <= S(2).i64)
    BR_CMP(BR_IF_I64_LE_S_IMM, S(1).i64 <= ip[2].i64)
    BR_CMP(BR_IF_I64_LE_U, S(1).u64 <= S(2).u64)
    BR_CMP(BR_IF_I64_LE_U_IMM, S(1).u64 <= ip[2].u64)
    BR_CMP(BR_IF_I64_GE_S, S(1).i64 >= S(2).i64)
    BR_CMP(BR_IF_I64_GE_S_IMM, S(1).i64 >= ip[2].i64)
    BR_CMP(BR_IF_I64_GE_U, S(1).u64 >= S(2).u64)
    BR_CMP(BR_IF_I64_GE_U_IMM, S(1).u64 >= ip[2].u64)

    /* ---------------------------------------------------------------- */
    /* Superinstructions: a loop's add and compare-and-branch           */
    /* ---------------------------------------------------------------- */
    ADD_BR(ADD_BR_IF, v_.u32 != 0, 4)
    ADD_BR(ADD_BR_IF_NOT, v_.u32 == 0, 4)
    ADD_BR(ADD_BR_IF_I32_EQ, v_.u32 == S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_EQ_IMM, v_.u32 == ip[4].u32, 5)
    ADD_BR(ADD_BR_IF_I32_NE, v_.u32 != S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_NE_IMM, v_.u32 != ip[4].u32, 5)
    ADD_BR(ADD_BR_IF_I32_LT_S, v_.i32 < S(4).i32, 5)
    ADD_BR(ADD_BR_IF_I32_LT_S_IMM, v_.i32 < ip[4].i32, 5)
    ADD_BR(ADD_BR_IF_I32_LT_U, v_.u32 < S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_LT_U_IMM, v_.u32 < ip[4].u32, 5)
    ADD_BR(ADD_BR_IF_I32_GT_S, v_.i32 > S(4).i32, 5)
    ADD_BR(ADD_BR_IF_I32_GT_S_IMM, v_.i32 > ip[4].i32, 5)
    ADD_BR(ADD_BR_IF_I32_GT_U, v_.u32 > S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_GT_U_IMM, v_.u32 > ip[4].u32, 5)
    ADD_BR(ADD_BR_IF_I32_LE_S, v_.i32 <= S(4).i32, 5)
    ADD_BR(ADD_BR_IF_I32_LE_S_IMM, v_.i32 <= ip[4].i32, 5)
    ADD_BR(ADD_BR_IF_I32_LE_U, v_.u32 <= S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_LE_U_IMM, v_.u32 <= ip[4].u32, 5)
    ADD_BR(ADD_BR_IF_I32_GE_S, v_.i32 >= S(4).i32, 5)
    ADD_BR(ADD_BR_IF_I32_GE_S_IMM, v_.i32 >= ip[4].i32, 5)
    ADD_BR(ADD_BR_IF_I32_GE_U, v_.u32 >= S(4).u32, 5)
    ADD_BR(ADD_BR_IF_I32_GE_U_IMM, v_.u32 >= ip[4].u32, 5)

#if !WP_THREADED
    default:
        TRAP(WASMPLUG_TRAP_UNREACHABLE);
    }
#endif

    /* Calls that may leave the instance or reach a host function. */
call_any:
    if (WP_LIKELY(callee->code != NULL)) {
        wasmplug_slot *nfp_ = fp + cbase;
        ENTER(callee, nfp_, cnext);
        if (callee->instance != inst)
            SET_INSTANCE(callee->instance);
        DISPATCH();
    } else {
        exec->fuel = exec->fuel_limited ? fuel : INT64_MAX;
        bool ok_ = call_host(exec, callee, inst, fp + cbase);
        /* The host may have changed fuel or limits, or grown the memory. */
        fuel = exec->fuel_limited ? exec->fuel : INT64_MAX;
        if (fuel < 0)
            fuel = 0;
        stack_end = exec->stack + exec->stack_slots;
        base = mem->base;
        msize = mem->size;
        if (WP_UNLIKELY(!ok_))
            goto trap_set;
        ip = cnext;
        DISPATCH();
    }

done:
    exec->fuel = exec->fuel_limited ? fuel : INT64_MAX;
    return true;

trap:
    set_trap(exec, tk);
trap_set:
    exec->fuel = exec->fuel_limited ? fuel : INT64_MAX;
    return false;
}

#undef S
#undef IDX
#undef IMM
#undef OP
#undef GOP
#undef DISPATCH
#undef NEXT
#undef TRAP
#undef JUMP

/* ------------------------------------------------------------------------ */
/* Entry points                                                             */
/* ------------------------------------------------------------------------ */

/* Guard-page mode: faults on the memory's guard pages jump back here. Only
 * values set before sigsetjmp and never changed afterwards are read after
 * the jump. */
static bool run_guarded(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args)
{
    sigjmp_buf jb;
    sigjmp_buf *const prev_jump = exec->fault_jump;
    /* Entering wasm from C: the host may have replaced the fault handler
     * (code that cannot fault does not need it). */
    if (!prev_jump && WP_UNLIKELY(!wp_fault_handler_verify(func->instance->engine, func->code))) {
        set_trap(exec, WASMPLUG_TRAP_HOST_ERROR);
        set_message(exec, "the SIGSEGV handler guard pages need was replaced and cannot be "
                          "restored (see wasmplug_signal_mode)");
        return false;
    }
    wp_exec *const prev_current = wp_exec_swap_current(exec);
    if (sigsetjmp(jb, 0)) {
        exec->fault_jump = prev_jump;
        wp_exec_swap_current(prev_current);
        set_trap(exec, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
        /* FUEL keeps exec->fuel current; restore the unlimited marker. */
        if (!exec->fuel_limited)
            exec->fuel = INT64_MAX;
        else if (exec->fuel < 0)
            exec->fuel = 0;
        return false;
    }
    exec->fault_jump = &jb;
    bool ok = run(exec, func, args);
    exec->fault_jump = prev_jump;
    wp_exec_swap_current(prev_current);
    return ok;
}

bool wp_interp_call(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args)
{
    wasmplug_slot *saved_top = exec->stack_top;
    bool ok;
    /* Code without loads, stores or calls never touches a guard page: it
     * needs neither the jump buffer nor the handler check. */
    if (func->code == NULL)
        ok = call_host(exec, func, NULL, args);
    else if (func->instance->engine->bounds == WASMPLUG_BOUNDS_GUARD_PAGES &&
             wp_code_may_fault(func->code))
        ok = run_guarded(exec, func, args);
    else
        ok = run(exec, func, args);
    exec->stack_top = saved_top;
    return ok;
}

bool wp_interp_call_host(wp_exec *exec, wasmplug_func *f, wasmplug_instance *caller_inst,
                         wasmplug_slot *slots)
{
    return call_host(exec, f, caller_inst, slots);
}

/* ------------------------------------------------------------------------ */
/* Operation cells                                                          */
/* ------------------------------------------------------------------------ */

#if WP_THREADED
static const void *const *labels_table(void)
{
    const void *const *t = atomic_load_explicit(&wp_labels, memory_order_acquire);
    if (!t) {
        run(NULL, NULL, NULL);
        t = atomic_load_explicit(&wp_labels, memory_order_acquire);
    }
    return t;
}
#endif

static wp_cell make_cell(unsigned xop)
{
    wp_cell c;
    c.u64 = 0;
#if WP_THREADED
    c.handler = labels_table()[xop];
#else
    c.op = xop;
#endif
    return c;
}

wp_cell wp_op_cell(wp_op op)
{
    return make_cell(op < WP_OP_COUNT ? (unsigned)op : (unsigned)WP_OP_UNREACHABLE);
}

wp_cell wp_op_cell_bounds(wp_op op, wasmplug_bounds_mode bounds)
{
    if (bounds == WASMPLUG_BOUNDS_GUARD_PAGES && wp_is_memory_op(op))
        return make_cell((unsigned)WP_GOP_I32_LOAD + (unsigned)(op - WP_OP_I32_LOAD));
    return wp_op_cell(op);
}

static wp_op xop_to_op(uintptr_t x)
{
    if (x < WP_OP_COUNT)
        return (wp_op)x;
    if (x < WP_XOP_COUNT)
        return (wp_op)(WP_OP_I32_LOAD + (x - WP_GOP_I32_LOAD));
    return WP_OP_COUNT;
}

wp_op wp_cell_op(wp_cell cell)
{
#if WP_THREADED
    const void *const *t = labels_table();
    for (uintptr_t i = 0; i < WP_XOP_COUNT; i++)
        if (t[i] == cell.handler)
            return xop_to_op(i);
    return WP_OP_COUNT;
#else
    return xop_to_op(cell.op);
#endif
}
