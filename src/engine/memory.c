/*
 * memory.c - linear memory: guard-page reservations and lazily committed
 * mappings.
 *
 * Two strategies, chosen per memory (wasmplug_memory.guarded):
 *
 *   GUARD_PAGES  each memory reserves WP_GUARD_RESERVATION bytes of address
 *                space with PROT_NONE, and only the first size bytes are made
 *                read/write. Any wasm access is base + u32 address + u32
 *                offset + at most 8 bytes, which always stays inside the
 *                reservation, so the interpreter needs no bounds checks: an
 *                out-of-bounds access faults, and the handler in signals.c
 *                turns the fault into a MEMORY_OUT_OF_BOUNDS trap. Growing
 *                never moves the memory.
 *
 *   EXPLICIT     the interpreter checks every access. Up to 1 MiB the
 *                memory is an allocation through the engine's allocator;
 *                larger, an anonymous mapping of exactly its size (pages
 *                are committed when first touched, so a large minimum costs
 *                nothing until used) that mremap grows. Growing may move it.
 *
 * A guard-mode engine makes guard-page memories, and falls back to explicit
 * ones (unless configured not to) when the reservation fails (address space
 * exhausted: about 16,000 per process on x86-64, or RLIMIT_AS) or the fault
 * handler cannot be installed. Instances with such a memory run the
 * module's explicit-check code (bounds.c).
 *
 * Free guard reservations go to a small process-wide pool and are reused
 * (reservation_take/give), which makes instantiation cheap in this mode.
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#if WP_HAVE_MMAP
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

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

/* Guard reservations mapped in this process (pooled ones included), for
 * the message when no more fit. */
static atomic_size_t reservations_live;

static void reservation_unmap(uint8_t *base)
{
    registry_remove(base);
    munmap(base, WP_GUARD_RESERVATION);
    atomic_fetch_sub(&reservations_live, 1);
}

/* A reservation whose first `bytes` are read/write and zero, or NULL with
 * the reason in why. */
static uint8_t *reservation_take(size_t bytes, char *why, size_t why_size)
{
    pooled r = { NULL, 0 };
    pthread_mutex_lock(&pool_lock);
    if (pool_count > 0)
        r = pool[--pool_count];
    pthread_mutex_unlock(&pool_lock);
    if (!r.base) {
        void *p = mmap(NULL, WP_GUARD_RESERVATION, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            int errnum = errno;
            char what[96];
            snprintf(what, sizeof what, "reserving 8 GiB of address space for guard pages "
                     "(%zu reservations held)", atomic_load(&reservations_live));
            wp_describe_map_failure(why, why_size, what, errnum);
            return NULL;
        }
        r.base = p;
        registry_add(r.base);
        atomic_fetch_add(&reservations_live, 1);
    }
    bool ok = true;
    if (r.rw < bytes)
        ok = mprotect(r.base + r.rw, bytes - r.rw, PROT_READ | PROT_WRITE) == 0;
    else if (r.rw > bytes)
        ok = mprotect(r.base + bytes, r.rw - bytes, PROT_NONE) == 0;
    if (!ok) {
        int errnum = errno;
        char what[96];
        snprintf(what, sizeof what, "making %zu bytes of a guard reservation read/write", bytes);
        wp_describe_map_failure(why, why_size, what, errnum);
        reservation_unmap(r.base);
        return NULL;
    }
    return r.base;
}

/* Give back a reservation whose first rw bytes are read/write. */
static void reservation_give(uint8_t *base, size_t rw)
{
    if (rw && madvise(base, rw, MADV_DONTNEED) != 0) {
        reservation_unmap(base);
        return;
    }
    pthread_mutex_lock(&pool_lock);
    bool kept = pool_count < WP_POOL_MAX;
    if (kept)
        pool[pool_count++] = (pooled){ base, rw };
    pthread_mutex_unlock(&pool_lock);
    if (!kept)
        reservation_unmap(base);
}

/* Async-signal-safe: atomic loads only. */
bool wp_guard_contains(uintptr_t addr)
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

#endif

#if WP_HAVE_MMAP
void wp_describe_map_failure(char *why, size_t why_size, const char *what, int errnum)
{
    if (errnum != ENOMEM) {
        snprintf(why, why_size, "%s failed (errno %d)", what, errnum);
        return;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(why, why_size, "%s failed: the process's address space limit (RLIMIT_AS, "
                 "ulimit -v) of %llu MiB is reached", what,
                 (unsigned long long)(rl.rlim_cur >> 20));
    else
        snprintf(why, why_size, "%s failed: the process's address space or its number of "
                 "mappings (vm.max_map_count) is exhausted, or the system is out of memory",
                 what);
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

/*
 * Explicit-check memories up to WP_SMALL_MEMORY come from the engine's
 * allocator (cheapest to create, and counted by its hook); larger ones are
 * an anonymous mapping of exactly their size, committed page by page as
 * they are touched, so a large minimum costs nothing until used. A small
 * memory that grows past the threshold moves into a mapping.
 */
#define WP_SMALL_MEMORY ((size_t)1 << 20)

#if WP_HAVE_MMAP
static uint8_t *lazy_map(size_t bytes, char *why, size_t why_size)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        if (why) {
            int errnum = errno;
            char what[96];
            snprintf(what, sizeof what, "mapping %zu bytes of linear memory", bytes);
            wp_describe_map_failure(why, why_size, what, errnum);
        }
        return NULL;
    }
    return p;
}
#endif

/* Grow an explicit-check memory to new_bytes (the new bytes read as zero);
 * false if the system refuses. */
static bool explicit_grow(wasmplug_memory *m, size_t new_bytes)
{
    size_t old_bytes = (size_t)m->size;
#if WP_HAVE_MMAP
    if (m->mapped) {
#if defined(MREMAP_MAYMOVE)
        void *p = mremap(m->base, m->reserved, new_bytes, MREMAP_MAYMOVE);
        if (p == MAP_FAILED)
            return false;
#else
        uint8_t *p = lazy_map(new_bytes, NULL, 0);
        if (!p)
            return false;
        memcpy(p, m->base, old_bytes);
        munmap(m->base, m->reserved);
#endif
        m->base = p;
        m->reserved = new_bytes;
        return true;
    }
    if (new_bytes > WP_SMALL_MEMORY) {
        uint8_t *p = lazy_map(new_bytes, NULL, 0);
        if (!p)
            return false;
        memcpy(p, m->base, old_bytes);
        wp_free(m->obj.engine, m->base, m->reserved);
        m->base = p;
        m->reserved = new_bytes;
        m->mapped = true;
        return true;
    }
#endif
    uint8_t *p = wp_realloc(m->obj.engine, m->base, m->reserved, new_bytes);
    if (!p)
        return false;
    memset(p + old_bytes, 0, new_bytes - old_bytes);
    m->base = p;
    m->reserved = new_bytes;
    return true;
}

/* A guard-page memory for m, or false with the reason in why. */
static bool create_guarded(wasmplug_engine *e, wasmplug_memory *m, size_t bytes, char *why,
                           size_t why_size)
{
#if WP_HAVE_GUARD
    if (e->signals != WASMPLUG_SIGNALS_HOST && wp_fault_handler_install() != WASMPLUG_OK) {
        snprintf(why, why_size, "the engine's SIGSEGV/SIGBUS handler cannot be installed "
                 "(a sanitizer or the host keeps its own)");
        return false;
    }
    uint8_t *p = reservation_take(bytes, why, why_size);
    if (!p)
        return false;
    m->base = p;
    m->reserved = WP_GUARD_RESERVATION;
    m->guarded = true;
    return true;
#else
    (void)e, (void)m, (void)bytes;
    snprintf(why, why_size, "guard pages are not supported on this system");
    return false;
#endif
}

/* An explicit-check memory for m, or false with the reason in why. */
static bool create_explicit(wasmplug_engine *e, wasmplug_memory *m, size_t bytes, char *why,
                            size_t why_size)
{
    m->guarded = false;
#if WP_HAVE_MMAP
    if (bytes > WP_SMALL_MEMORY) {
        m->base = lazy_map(bytes, why, why_size);
        m->reserved = bytes;
        m->mapped = true;
        return m->base != NULL;
    }
#endif
    /* reserved = bytes allocated (at least 1, so base is never NULL). */
    size_t alloc = bytes ? bytes : 1;
    m->base = wp_calloc(e, 1, alloc);
    m->reserved = alloc;
    if (!m->base)
        snprintf(why, why_size, "out of memory allocating %zu bytes of linear memory", bytes);
    return m->base != NULL;
}

wasmplug_status wp_memory_create(wasmplug_engine *e, wp_limits limits, wasmplug_memory **out,
                                 char *why, size_t why_size)
{
    *out = NULL;
    why[0] = '\0';
    size_t bytes;
    if (limits.min > WP_MAX_PAGES || (limits.has_max && limits.max > WP_MAX_PAGES) ||
        !pages_to_bytes(limits.min, &bytes)) {
        snprintf(why, why_size, "more than the %u pages a memory may have", WP_MAX_PAGES);
        return WASMPLUG_ERR_LIMIT;
    }

    wasmplug_memory *m = wp_calloc(e, 1, sizeof *m);
    if (!m) {
        snprintf(why, why_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    atomic_init(&m->obj.refcount, 1);
    m->obj.kind = WASMPLUG_EXTERN_MEMORY;
    m->obj.owner = NULL;
    m->obj.engine = e;
    m->limits = limits;
    m->pages = limits.min;
    m->size = (uint64_t)bytes;

    bool ok;
    if (e->bounds == WASMPLUG_BOUNDS_GUARD_PAGES) {
        ok = create_guarded(e, m, bytes, why, why_size);
        if (!ok && !e->no_bounds_fallback) {
            /* Explicit checks for this memory (and its instance's code). */
            char guard_why[WASMPLUG_ERROR_MESSAGE_MAX];
            snprintf(guard_why, sizeof guard_why, "%s", why);
            ok = create_explicit(e, m, bytes, why, why_size);
            if (!ok) {
                size_t n = strlen(why);
                snprintf(why + n, why_size - n, " (after %.100s)", guard_why);
            }
        }
    } else {
        ok = create_explicit(e, m, bytes, why, why_size);
    }
    if (!ok) {
        wp_free(e, m, sizeof *m);
        return WASMPLUG_ERR_NOMEM;
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
        if (!explicit_grow(m, new_bytes))
            return -1;
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
#if WP_HAVE_MMAP
        if (m->mapped)
            munmap(m->base, m->reserved);
        else
#endif
            wp_free(e, m->base, m->reserved);
    }
    wp_free(e, m, sizeof *m);
}
