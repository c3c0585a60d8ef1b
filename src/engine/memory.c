/*
 * memory.c - linear memory and the guard-page fault handler.
 *
 * Two strategies, chosen per engine (engine->bounds):
 *
 *   GUARD_PAGES  each memory reserves WP_GUARD_RESERVATION bytes of address
 *                space with PROT_NONE, and only the first size bytes are made
 *                read/write. Any wasm access is base + u32 address + u32
 *                offset + at most 8 bytes, which always stays inside the
 *                reservation, so the interpreter needs no bounds checks: an
 *                out-of-bounds access faults, and the SIGSEGV/SIGBUS handler
 *                below turns the fault into a MEMORY_OUT_OF_BOUNDS trap by
 *                jumping to exec->fault_jump. Growing never moves the memory.
 *
 *   EXPLICIT     a plain allocation through the engine's allocator; the
 *                interpreter checks every access. Growing may move the
 *                memory. Works on 32-bit targets and without mmap.
 *
 * Free guard reservations go to a small process-wide pool and are reused
 * (reservation_take/give), which makes instantiation cheap in this mode.
 *
 * The fault handler only converts faults that hit a registered guard
 * reservation while this thread runs guarded wasm code (fault_jump set);
 * everything else is passed to the handler installed before ours, so a
 * genuine crash of the embedding program still crashes normally.
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define WP_HAVE_MMAP 1
#else
#define WP_HAVE_MMAP 0
#endif

#if WP_HAVE_MMAP && UINTPTR_MAX > 0xFFFFFFFFu
#define WP_HAVE_GUARD 1
/* 2^32 (any u32 address) + 2^32 (any u32 offset) + one page covering the
 * widest access (8 bytes) past both. */
#define WP_GUARD_RESERVATION (((size_t)8 << 30) + (size_t)WP_PAGE_SIZE)
#else
#define WP_HAVE_GUARD 0
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* ------------------------------------------------------------------------ */
/* The current exec of this thread                                          */
/* ------------------------------------------------------------------------ */

static _Thread_local wp_exec *tls_current_exec;

wp_exec *wp_exec_current(void)
{
    return tls_current_exec;
}

wp_exec *wp_exec_swap_current(wp_exec *exec)
{
    wp_exec *old = tls_current_exec;
    tls_current_exec = exec;
    return old;
}

#if WP_HAVE_GUARD
/* ------------------------------------------------------------------------ */
/* Registry of guard reservations                                           */
/* ------------------------------------------------------------------------ */

/*
 * A fixed, lock-free table of reservation start addresses, so the signal
 * handler can tell a wasm guard-page hit from any other fault using only
 * atomic loads. 16384 entries x 8 GiB = 128 TiB, the whole x86-64 user
 * address space, so in practice it never fills; if it does, the memory still
 * works and `registry_overflow` makes the handler accept any fault taken
 * while guarded wasm code runs (the weaker, still correct check).
 */
#define WP_REGISTRY_SIZE 16384
static atomic_uintptr_t registry[WP_REGISTRY_SIZE];
static atomic_uint registry_overflow;

static void registry_add(uint8_t *base)
{
    uintptr_t start = (uintptr_t)base;
    for (size_t i = 0; i < WP_REGISTRY_SIZE; i++) {
        uintptr_t expected = 0;
        if (atomic_load_explicit(&registry[i], memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&registry[i], &expected, start))
            return;
    }
    atomic_fetch_add(&registry_overflow, 1);
}

static void registry_remove(uint8_t *base)
{
    uintptr_t start = (uintptr_t)base;
    for (size_t i = 0; i < WP_REGISTRY_SIZE; i++) {
        uintptr_t expected = start;
        /* A plain load first: only our own entry needs the locked CAS. */
        if (atomic_load_explicit(&registry[i], memory_order_relaxed) == start &&
            atomic_compare_exchange_strong(&registry[i], &expected, 0))
            return;
    }
    atomic_fetch_sub(&registry_overflow, 1);
}

/*
 * Free reservations kept for reuse (process-wide: they are all alike), so an
 * instance does not pay for mmap + munmap of 8 GiB of address space (and
 * the page-table teardown) each time. A pooled reservation stays registered;
 * its first `rw` bytes are still read/write, emptied with MADV_DONTNEED
 * (they read as zero again, and no longer count as resident).
 */
#define WP_POOL_MAX 64
typedef struct pooled {
    uint8_t *base;
    size_t rw;
} pooled;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pooled pool[WP_POOL_MAX];
static size_t pool_count;

/* A reservation whose first `bytes` are read/write and zero, or NULL. */
static uint8_t *reservation_take(size_t bytes)
{
    pooled r = { NULL, 0 };
    pthread_mutex_lock(&pool_lock);
    if (pool_count > 0)
        r = pool[--pool_count];
    pthread_mutex_unlock(&pool_lock);
    if (!r.base) {
        void *p = mmap(NULL, WP_GUARD_RESERVATION, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return NULL;
        r.base = p;
        registry_add(r.base);
    }
    bool ok = true;
    if (r.rw < bytes)
        ok = mprotect(r.base + r.rw, bytes - r.rw, PROT_READ | PROT_WRITE) == 0;
    else if (r.rw > bytes)
        ok = mprotect(r.base + bytes, r.rw - bytes, PROT_NONE) == 0;
    if (!ok) {
        registry_remove(r.base);
        munmap(r.base, WP_GUARD_RESERVATION);
        return NULL;
    }
    return r.base;
}

/* Give back a reservation whose first rw bytes are read/write. */
static void reservation_give(uint8_t *base, size_t rw)
{
    if (rw && madvise(base, rw, MADV_DONTNEED) != 0) {
        registry_remove(base);
        munmap(base, WP_GUARD_RESERVATION);
        return;
    }
    pthread_mutex_lock(&pool_lock);
    bool kept = pool_count < WP_POOL_MAX;
    if (kept)
        pool[pool_count++] = (pooled){ base, rw };
    pthread_mutex_unlock(&pool_lock);
    if (!kept) {
        registry_remove(base);
        munmap(base, WP_GUARD_RESERVATION);
    }
}

/* Async-signal-safe: atomic loads only. */
static bool registry_contains(uintptr_t addr)
{
    if (atomic_load_explicit(&registry_overflow, memory_order_relaxed) != 0)
        return true;
    for (size_t i = 0; i < WP_REGISTRY_SIZE; i++) {
        uintptr_t start = atomic_load_explicit(&registry[i], memory_order_relaxed);
        if (start != 0 && addr >= start && addr - start < WP_GUARD_RESERVATION)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Fault handler                                                            */
/* ------------------------------------------------------------------------ */

static struct sigaction old_segv, old_bus;
static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static wasmplug_status handler_status = WASMPLUG_OK;

static void fault_handler(int sig, siginfo_t *info, void *ucontext)
{
    /* The address check comes first so that unrelated faults never touch
     * the thread-local (whose first access may allocate in a dlopen'ed
     * library); a thread that runs wasm has set it already. */
    if (info && registry_contains((uintptr_t)info->si_addr)) {
        wp_exec *exec = tls_current_exec;
        if (exec && exec->fault_jump)
            siglongjmp(*exec->fault_jump, 1);
    }

    /* Not ours: behave as if we were never installed. */
    const struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction) {
            old->sa_sigaction(sig, info, ucontext);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* Default action (ignoring a fault would only repeat it): restore it and
     * return, so the faulting instruction runs again and kills the process
     * with the right signal. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
}

static void install_once(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &old_segv) != 0 || sigaction(SIGBUS, &sa, &old_bus) != 0) {
        handler_status = WASMPLUG_ERR_UNSUPPORTED;
        return;
    }
    /* Some runtimes (AddressSanitizer without allow_user_segv_handler=1)
     * silently keep their own SIGSEGV handler: check that ours is in place,
     * else guard pages cannot be used (AUTO then falls back to EXPLICIT). */
    struct sigaction cur;
    memset(&cur, 0, sizeof cur);
    if (sigaction(SIGSEGV, NULL, &cur) != 0 || !(cur.sa_flags & SA_SIGINFO) ||
        cur.sa_sigaction != fault_handler)
        handler_status = WASMPLUG_ERR_UNSUPPORTED;
}

wasmplug_status wp_fault_handler_install(void)
{
    if (pthread_once(&handler_once, install_once) != 0)
        return WASMPLUG_ERR_UNSUPPORTED;
    return handler_status;
}

#else /* !WP_HAVE_GUARD */

wasmplug_status wp_fault_handler_install(void)
{
    return WASMPLUG_ERR_UNSUPPORTED;
}

#endif

/* ------------------------------------------------------------------------ */
/* Memories                                                                 */
/* ------------------------------------------------------------------------ */

/* Bytes for pages, or false when it does not fit in size_t (32-bit hosts). */
static bool pages_to_bytes(uint32_t pages, size_t *bytes)
{
    uint64_t b = (uint64_t)pages * WP_PAGE_SIZE;
    if (b > SIZE_MAX)
        return false;
    *bytes = (size_t)b;
    return true;
}

wasmplug_status wp_memory_create(wasmplug_engine *e, wp_limits limits, wasmplug_memory **out)
{
    *out = NULL;
    if (limits.min > WP_MAX_PAGES || (limits.has_max && limits.max > WP_MAX_PAGES))
        return WASMPLUG_ERR_LIMIT;
    size_t bytes;
    if (!pages_to_bytes(limits.min, &bytes))
        return WASMPLUG_ERR_LIMIT;

    wasmplug_memory *m = wp_calloc(e, 1, sizeof *m);
    if (!m)
        return WASMPLUG_ERR_NOMEM;
    atomic_init(&m->obj.refcount, 1);
    m->obj.kind = WASMPLUG_EXTERN_MEMORY;
    m->obj.owner = NULL;
    m->obj.engine = e;
    m->limits = limits;
    m->pages = limits.min;
    m->size = (uint64_t)bytes;

    if (e->bounds == WASMPLUG_BOUNDS_GUARD_PAGES) {
#if WP_HAVE_GUARD
        wasmplug_status st = wp_fault_handler_install();
        if (st != WASMPLUG_OK) {
            wp_free(e, m, sizeof *m);
            return st;
        }
        uint8_t *p = reservation_take(bytes);
        if (!p) {
            wp_free(e, m, sizeof *m);
            return WASMPLUG_ERR_NOMEM;
        }
        m->base = p;
        m->reserved = WP_GUARD_RESERVATION;
        m->guarded = true;
#else
        wp_free(e, m, sizeof *m);
        return WASMPLUG_ERR_UNSUPPORTED;
#endif
    } else {
        /* reserved = bytes allocated (at least 1, so base is never NULL). */
        size_t alloc = bytes ? bytes : 1;
        m->base = wp_calloc(e, 1, alloc);
        if (!m->base) {
            wp_free(e, m, sizeof *m);
            return WASMPLUG_ERR_NOMEM;
        }
        m->reserved = alloc;
        m->guarded = false;
    }
    *out = m;
    return WASMPLUG_OK;
}

int32_t wp_memory_grow(wasmplug_memory *m, uint32_t delta, uint32_t limit_pages)
{
    uint32_t old = m->pages;
    if (delta == 0)
        return (int32_t)old;
    uint32_t max = m->limits.has_max ? m->limits.max : WP_MAX_PAGES;
    if (max > WP_MAX_PAGES)
        max = WP_MAX_PAGES;
    if (limit_pages < max)
        max = limit_pages;
    if (old > max || delta > max - old)
        return -1;
    uint32_t pages = old + delta;
    size_t old_bytes = (size_t)m->size;
    size_t new_bytes;
    if (!pages_to_bytes(pages, &new_bytes))
        return -1;

    if (m->guarded) {
#if WP_HAVE_GUARD
        /* The new pages come out of the reservation already zero. */
        if (mprotect(m->base + old_bytes, new_bytes - old_bytes, PROT_READ | PROT_WRITE) != 0)
            return -1;
#else
        return -1;
#endif
    } else {
        wasmplug_engine *e = m->obj.engine;
        uint8_t *p = wp_realloc(e, m->base, m->reserved, new_bytes);
        if (!p)
            return -1;
        memset(p + old_bytes, 0, new_bytes - old_bytes);
        m->base = p;
        m->reserved = new_bytes;
    }
    m->pages = pages;
    m->size = (uint64_t)new_bytes;
    /* The memory's current type: its min is its size (import matching). */
    m->limits.min = pages;
    return (int32_t)old;
}

void wp_memory_destroy(wasmplug_memory *m)
{
    if (!m)
        return;
    wasmplug_engine *e = m->obj.engine;
    if (m->guarded) {
#if WP_HAVE_GUARD
        reservation_give(m->base, (size_t)m->size);
#endif
    } else {
        wp_free(e, m->base, m->reserved);
    }
    wp_free(e, m, sizeof *m);
}
