/*
 * aot_abi.h - the contract between the engine and the native code of the
 * ahead-of-time tier (aot_emit.c writes C, aot.c compiles, loads and runs it).
 *
 * This file is compiled into the engine AND copied verbatim at the head of
 * every generated C file (CMake embeds its text as wp_aot_abi_text), so both
 * sides agree on every layout by construction. It is self-contained: only
 * <stdint.h> and <stddef.h>, no engine types. The shared object is linked
 * with -nostdlib and depends on nothing: what it needs from the C library
 * (memmove, memset, floor, ...) comes through wp_aot_rt, so it loads as well
 * into the statically linked `wasmplug` command.
 */
#ifndef WP_AOT_ABI_H
#define WP_AOT_ABI_H

#include <stddef.h>
#include <stdint.h>

/* Raised when the layouts below or the generated code's conventions change. */
#define WP_AOT_ABI_VERSION 1u

/* The engine's value slot (wasmplug_slot) and frame (wp_frame). */
typedef union wp_aot_slot {
    int32_t i32;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
    float f32;
    double f64;
    void *ref;
} wp_aot_slot;

typedef struct wp_aot_frame {
    const void *ret_ip;
    void *fp;
    const void *func;
} wp_aot_frame;

typedef struct wp_aot_ctx wp_aot_ctx;

#if defined(__GNUC__)
#define WP_AOT_NORETURN __attribute__((noreturn))
#else
#define WP_AOT_NORETURN
#endif

/* What native code calls back into the engine for (aot.c). Functions that
 * can trap do not return when they do. func arguments are wasmplug_func
 * pointers (from wp_aot_ctx.funcs or a table). */
typedef struct wp_aot_rt {
    WP_AOT_NORETURN void (*trap)(wp_aot_ctx *c, uint32_t kind);
    /* A fuel check's slow path: out of fuel or an interrupt (traps), or a
     * stale interrupt flag already cleared (returns). */
    void (*fuel)(wp_aot_ctx *c);
    /* Call a function that is not this module's native code (an import, a
     * host function, another instance's function): arguments in slots,
     * results written back there. */
    void (*call)(wp_aot_ctx *c, const void *func, wp_aot_slot *slots);
    /* call_indirect: check table[i] against type index `type`; returns the
     * native entry of this instance's function (same type), or NULL with
     * *func set for rt->call. Traps on a bad index, null or wrong type. */
    void *(*indirect)(wp_aot_ctx *c, uint32_t table, uint32_t type, uint32_t i,
                      const void **func);
    int32_t (*memory_grow)(wp_aot_ctx *c, uint32_t delta);
    void (*memory_init)(wp_aot_ctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n);
    void (*data_drop)(wp_aot_ctx *c, uint32_t seg);
    void *(*table_get)(wp_aot_ctx *c, uint32_t t, uint32_t i);
    void (*table_set)(wp_aot_ctx *c, uint32_t t, uint32_t i, void *ref);
    uint32_t (*table_size)(wp_aot_ctx *c, uint32_t t);
    int32_t (*table_grow)(wp_aot_ctx *c, uint32_t t, void *init, uint32_t n);
    void (*table_fill)(wp_aot_ctx *c, uint32_t t, uint32_t i, void *ref, uint32_t n);
    void (*table_copy)(wp_aot_ctx *c, uint32_t dt, uint32_t st, uint32_t d, uint32_t s,
                       uint32_t n);
    void (*table_init)(wp_aot_ctx *c, uint32_t t, uint32_t seg, uint32_t d, uint32_t s,
                       uint32_t n);
    void (*elem_drop)(wp_aot_ctx *c, uint32_t seg);
    /* The C library's, for code linked without it. */
    void *(*memmove)(void *d, const void *s, size_t n);
    void *(*memset)(void *d, int v, size_t n);
    float (*ceilf)(float), (*floorf)(float), (*truncf)(float), (*rintf)(float);
    double (*ceil)(double), (*floor)(double), (*trunc)(double), (*rint)(double);
} wp_aot_rt;

/* Per-instance state native code runs on (made by aot.c on an instance's
 * first native call, refreshed at every entry from C). */
struct wp_aot_ctx {
    uint8_t *const *mem_base;     /* &memory0->base (NULL: no memory) */
    const uint64_t *mem_size;     /* &memory0->size, bytes */
    wp_aot_slot *const *globals;  /* &global->value of every global */
    const void *const *funcs;     /* wasmplug_func of every function index */
    wp_aot_frame *frames;         /* the exec's frames (backtraces) */
    int64_t fuel;                 /* the exec's fuel while native code runs */
    int *interrupt;               /* the exec's interrupt flag (0 or -1) */
    uint32_t depth;               /* the exec's call depth */
    uint32_t max_depth;
    const char *stack_limit;      /* lowest native stack address code may use */
};

/* One native function's entry from C: arguments in slots (a v128 never
 * occurs), results written back from slots[0]. */
typedef void (*wp_aot_entry)(wp_aot_ctx *c, wp_aot_slot *slots);

/* What a shared object exports (symbol wp_aot_module). */
typedef struct wp_aot_module_info {
    uint32_t abi_version;         /* WP_AOT_ABI_VERSION */
    uint32_t bounds;              /* wasmplug_bounds_mode the code was made for */
    uint64_t engine_key;          /* the engine's source hash (WP_ENGINE_SOURCE_HASH) */
    uint64_t module_hash;         /* wp_aot_module_hash of the module's bytes */
    uint64_t module_size;
    uint32_t nfuncs;              /* defined functions */
    const wp_aot_entry *entries;  /* nfuncs entries, by defined-function index */
    void *const *natives;         /* nfuncs typed functions (call_indirect targets) */
    void (*init)(const wp_aot_rt *rt);
} wp_aot_module_info;

#endif
