/*
 * runtime.h - run-time objects: the engine, externs (functions, memories,
 * tables, globals), instances and the execution state calls run on.
 *
 * Who uses what:
 *   instance.c   instantiation, exports, reference counting, public accessors
 *   memory.c     linear memory (guard-page reservations or explicit checks)
 *   signals.c    the fault handler that turns guard-page hits into traps
 *   bounds.c     explicit-check code for instances without guard pages
 *   interp.c     runs code (ops.h) on a wp_exec
 *   api.c        engine, host-created externs, wasmplug_func_call, errors
 */
#ifndef WP_RUNTIME_H
#define WP_RUNTIME_H

#include "module.h"
#include "util.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>

#if defined(__unix__) || defined(__APPLE__)
#define WP_HAVE_MMAP 1
#else
#define WP_HAVE_MMAP 0
#endif

#define WP_PAGE_SIZE 65536u
#if WP_HAVE_MMAP && UINTPTR_MAX > 0xFFFFFFFFu
#define WP_HAVE_GUARD 1
/* 2^32 (any u32 address) + 2^32 (any u32 offset) + one page covering the
 * widest access (8 bytes) past both. */
#define WP_GUARD_RESERVATION (((size_t)8 << 30) + (size_t)WP_PAGE_SIZE)
#else
#define WP_HAVE_GUARD 0
#endif
#define WP_MAX_PAGES 65536u
#define WP_DEFAULT_MAX_CALL_DEPTH 10000u
#define WP_DEFAULT_MAX_STACK_SLOTS (1u << 20)

struct wasmplug_engine {
    wasmplug_alloc_fn alloc;
    void *alloc_user;
    wasmplug_bounds_mode bounds; /* resolved: GUARD_PAGES or EXPLICIT, never AUTO */
    wasmplug_signal_mode signals; /* how the guard-page fault handler is kept (signals.c) */
    bool no_bounds_fallback;      /* guard mode: fail rather than make explicit memories */
    uint32_t max_pages;           /* default max_memory_pages of instances */
    pthread_mutex_t parked_lock;  /* guards parked */
    struct wp_parked *parked;     /* see wp_instance_free_parked */
};

/* Common header of reference-counted externs. owner != NULL means the extern
 * belongs to that instance and counting goes to the instance instead. */
typedef struct wp_object {
    atomic_uint refcount;
    wasmplug_extern_kind kind;
    wasmplug_instance *owner;
    wasmplug_engine *engine;
} wp_object;

struct wasmplug_func {
    wp_object obj;
    const wp_functype *type;
    /* wasm function: */
    wasmplug_instance *instance;  /* the instance whose module defines it */
    const wp_code *code;
    /* host function (code == NULL): */
    wasmplug_host_fn host;
    void *host_user;
    void (*finalizer)(void *user);
    wp_functype own_type;         /* host functions keep their own type copy */
};

struct wasmplug_memory {
    wp_object obj;
    uint8_t *base;        /* start of linear memory */
    uint64_t size;        /* bytes accessible: pages * WP_PAGE_SIZE */
    uint32_t pages;
    wp_limits limits;     /* the memory's type: min (current at creation) and max */
    size_t reserved;      /* bytes of address space reserved or mapped */
    bool guarded;         /* accesses beyond size hit PROT_NONE pages */
    bool mapped;          /* explicit checks, base is an mmap of reserved bytes
                             (else an allocation of the engine's allocator) */
};

struct wasmplug_table {
    wp_object obj;
    wasmplug_valtype elem;
    void **elems;         /* size entries; funcref: wasmplug_func*, externref: host void* */
    uint32_t size;
    uint32_t capacity;
    wp_limits limits;
};

struct wasmplug_global {
    wp_object obj;
    wasmplug_valtype type;
    bool mutable_;
    wasmplug_slot value;
    wasmplug_slot value_hi; /* v128: the high 8 bytes (value holds the low ones) */
};

/* One activation record, kept outside the value stack so backtraces and
 * returns never depend on wasm-writable memory. */
typedef struct wp_frame {
    const wp_cell *ret_ip;        /* where the caller resumes */
    wasmplug_slot *fp;            /* the callee's frame pointer */
    const wasmplug_func *func;    /* the function running in this frame */
} wp_frame;

/*
 * Execution state: one per instance, used by every call that enters wasm
 * through this instance (calls that cross into another instance's functions
 * keep running on the caller's state, so fuel and depth are the caller's).
 * Re-entrant: a host function may call back into wasm; the nested call uses
 * the stack above the current frame.
 */
typedef struct wp_exec {
    wasmplug_slot *stack;         /* value stack (lazily committed mapping) */
    size_t stack_slots;           /* capacity of stack */
    size_t stack_bytes;           /* bytes mapped, for unmapping */
    bool stack_used;              /* a call has run on this mapping since it was
                                     mapped or emptied (else it is still all
                                     zero and goes back to the pool as it is) */
    wasmplug_slot *stack_top;     /* first free slot (for re-entrant calls) */
    wp_frame *frames;             /* frames[0 .. depth) */
    uint32_t depth;
    uint32_t max_depth;
    uint32_t max_pages;           /* memory.grow limit for this instance's calls */
    uint64_t grows_refused;       /* memory.grow instructions that returned -1 */

    int64_t fuel;                 /* remaining; INT64_MAX when unlimited */
    bool fuel_limited;
    uint64_t fuel_start;          /* fuel when last set, for "consumed" */
    atomic_int interrupt;         /* -1 when wasmplug_instance_interrupt asked
                                     for a stop (FUEL tests its sign), else 0 */

    /* Trap being raised (read by the caller of wp_interp_call). */
    wasmplug_trap trap;
    int32_t exit_code;
    char trap_message[WASMPLUG_ERROR_MESSAGE_MAX];

    /* Guard-page faults jump here (memory.c); NULL when not running guarded code. */
    sigjmp_buf *fault_jump;
} wp_exec;

struct wasmplug_instance {
    atomic_uint refcount;
    wasmplug_engine *engine;
    wasmplug_module *module;
    void *user;

    wasmplug_func **funcs;        /* whole function index space */
    wasmplug_func *own_funcs;     /* defined functions, owned */
    wasmplug_table **tables;
    wasmplug_memory **memories;
    wasmplug_global **globals;
    wasmplug_extern *imports;     /* retained imports */
    uint32_t nimports;
    bool *elem_dropped;           /* per element segment */
    bool *data_dropped;           /* per data segment */
    bool start_pending;           /* defer_start: wasmplug_instance_start not run yet */
    _Atomic uint8_t tier;         /* wasmplug_tier of the following calls (aot.c) */
    struct wp_aot_inst *aot;      /* aot.c: native-tier state, made on the first native call */

    wp_exec exec;
};

/* The object passed to host functions. */
struct wasmplug_caller {
    wp_exec *exec;
    wasmplug_instance *instance;  /* calling instance, NULL when called from C */
    wasmplug_trap trap;           /* set by wasmplug_caller_trap, default HOST_ERROR */
    int32_t exit_code;
};

/* interp.c: run func with its arguments in args[0..nparams), leaving the
 * results in args[0..nresults). args must lie in exec's stack at or above
 * exec->stack_top. On a trap returns false with exec->trap and
 * exec->trap_message set and exec->frames still describing the stack at the
 * trap (for the backtrace); the caller resets depth afterwards. */
WP_INTERNAL bool wp_interp_call(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args);
/* interp.c: call host function f with caller_inst as its caller, arguments
 * and results in slots (in exec's stack), with the same trap reporting. */
WP_INTERNAL bool wp_interp_call_host(wp_exec *exec, wasmplug_func *f,
                                     wasmplug_instance *caller_inst, wasmplug_slot *slots);

/* api.c: run func from C on exec: sets up the stack, runs, builds err
 * (message + backtrace) on a trap. */
WP_INTERNAL wasmplug_status wp_exec_call(wp_exec *exec, wasmplug_func *func,
                                         wasmplug_slot *args_results, wasmplug_error *err);

/* memory.c: a memory of the engine's bounds mode (a guard-mode engine falls
 * back to an explicit-check memory when it must and may); on failure why
 * says which limit was hit. */
WP_INTERNAL wasmplug_status wp_memory_create(wasmplug_engine *e, wp_limits limits,
                                             wasmplug_memory **out, char *why, size_t why_size);
/* Grow by delta pages within limit_pages; returns old size or -1. */
WP_INTERNAL int32_t wp_memory_grow(wasmplug_memory *m, uint32_t delta, uint32_t limit_pages);
WP_INTERNAL void wp_memory_destroy(wasmplug_memory *m);
/* Whether addr lies in a guard-page reservation. Async-signal-safe. */
WP_INTERNAL bool wp_guard_contains(uintptr_t addr);
/* "<what> failed: <which limit>" for an mmap/mprotect that failed with errnum. */
WP_INTERNAL void wp_describe_map_failure(char *why, size_t why_size, const char *what,
                                         int errnum);

/* signals.c: install (once per process, again if replaced) the handler that
 * converts guard-page faults of running wasm code into MEMORY_OUT_OF_BOUNDS
 * traps. ERR_UNSUPPORTED when it cannot be installed. */
WP_INTERNAL wasmplug_status wp_fault_handler_install(void);
/* At a call entering guarded code: the handler is in place (re-installed if
 * the host replaced it, in VERIFY mode, when code can fault); false if it
 * cannot be. */
WP_INTERNAL bool wp_fault_handler_verify(const wasmplug_engine *e, const wp_code *code);
/* The exec running wasm on this thread (the fault handler's target). */
WP_INTERNAL wp_exec *wp_exec_current(void);
WP_INTERNAL wp_exec *wp_exec_swap_current(wp_exec *exec);

/* bounds.c: the operation of a code cell, by binary search in the cells of
 * every operation under a bounds mode (keys: WP_OP_COUNT entries sorted by
 * wp_op_keys). */
typedef struct wp_opkey {
    uintptr_t cell;
    uint32_t op;
} wp_opkey;
WP_INTERNAL void wp_op_keys(wp_opkey *keys, wasmplug_bounds_mode bounds);
/* The operation number, or -1 for a cell that is no operation's. */
WP_INTERNAL int wp_op_of_cell(const wp_opkey *keys, wp_cell cell);
/* bounds.c: whether running this code can fault on a guard page (see
 * wp_fault_handler_verify); computed by the scan on the first call and
 * cached in the code, so later calls only read the cached answer. */
WP_INTERNAL bool wp_code_may_fault_scan(const wp_code *c);
static inline bool wp_code_may_fault(const wp_code *c)
{
    uint8_t known = atomic_load_explicit(&c->fault_class, memory_order_relaxed);
    return known ? known == 2 : wp_code_may_fault_scan(c);
}
/* bounds.c: the module's code with explicit bounds checks, for instances of
 * a guard-mode engine whose memory has no guard pages (built on first use,
 * kept with the module); NULL when out of memory. */
WP_INTERNAL const wp_code *wp_module_checked_code(wasmplug_module *m);

/* instance.c */
WP_INTERNAL wasmplug_status wp_exec_init(wp_exec *exec, wasmplug_engine *e,
                                         const wasmplug_instance_config *cfg);
WP_INTERNAL void wp_exec_destroy(wp_exec *exec, wasmplug_engine *e);
WP_INTERNAL wasmplug_status wp_table_create(wasmplug_engine *e, wasmplug_valtype elem,
                                            wp_limits limits, void *init,
                                            wasmplug_table **out);
WP_INTERNAL int32_t wp_table_grow(wasmplug_table *t, uint32_t delta, void *init);
WP_INTERNAL void wp_table_destroy(wasmplug_table *t);
/* Free instances kept alive after a failed instantiation whose functions may
 * have been written into imported tables (spec 2.0 keeps those writes). */
WP_INTERNAL void wp_instance_free_parked(wasmplug_engine *e);

#endif
