/*
 * instance.c - instantiation (linking, allocation of memories, tables and
 * globals, element and data segments, the start function), instance
 * reference counting and exports, the execution state each instance owns,
 * and wasm tables.
 *
 * Instantiation follows the WebAssembly 2.0 order: link and allocate, then
 * element segments, then data segments, then the start function. A trap in
 * the last three fails instantiation, but writes already made to imported
 * tables and memories stay, as the spec requires.
 */
#include "runtime.h"
#include "aot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#if defined(__unix__) || defined(__APPLE__)
#include <sys/mman.h>
#include <unistd.h>
#define WP_EXEC_MMAP 1
#else
#define WP_EXEC_MMAP 0
#endif

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

/* Tables larger than this are refused (table.grow returns -1): the spec
 * allows 2^32-1 elements, but a host cannot usefully back that many. */
#define WP_TABLE_MAX_ELEMS 10000000u

/* ------------------------------------------------------------------------ */
/* Execution state                                                          */
/* ------------------------------------------------------------------------ */

/*
 * The frames array and the value stack share one mapping: frames first, the
 * stack right after, each rounded to whole pages. Pages are committed only
 * when touched, so a large default stack costs nothing until used. The frame
 * capacity is (stack - frames) / sizeof(wp_frame); stack_bytes is the size of
 * the whole mapping.
 */
static size_t page_size(void)
{
#if WP_EXEC_MMAP
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
#else
    return 16;
#endif
}

static bool round_up(size_t n, size_t to, size_t *out)
{
    if (n > SIZE_MAX - (to - 1))
        return false;
    *out = (n + to - 1) / to * to;
    return true;
}

#if WP_EXEC_MMAP
/*
 * Free execution-state mappings kept for reuse (process-wide, matched by
 * size), so instantiation does not pay for mmap + munmap. A pooled mapping
 * is emptied with MADV_DONTNEED: it reads as zero again and holds no
 * memory, like a fresh one. One no call ever ran on is still all zero and
 * needs no emptying (an instance created and freed unused).
 */
#define WP_EXEC_POOL_MAX 64
typedef struct exec_pooled {
    void *p;
    size_t bytes;
} exec_pooled;
static pthread_mutex_t exec_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static exec_pooled exec_pool[WP_EXEC_POOL_MAX];
static size_t exec_pool_count;

static void *exec_pool_take(size_t bytes)
{
    void *p = NULL;
    pthread_mutex_lock(&exec_pool_lock);
    for (size_t i = exec_pool_count; i-- > 0;) {
        if (exec_pool[i].bytes == bytes) {
            p = exec_pool[i].p;
            exec_pool[i] = exec_pool[--exec_pool_count];
            break;
        }
    }
    pthread_mutex_unlock(&exec_pool_lock);
    return p;
}

static void exec_pool_give(void *p, size_t bytes, bool used)
{
    if (!used || madvise(p, bytes, MADV_DONTNEED) == 0) {
        pthread_mutex_lock(&exec_pool_lock);
        bool kept = exec_pool_count < WP_EXEC_POOL_MAX;
        if (kept)
            exec_pool[exec_pool_count++] = (exec_pooled){ p, bytes };
        pthread_mutex_unlock(&exec_pool_lock);
        if (kept)
            return;
    }
    munmap(p, bytes);
}
#endif

static wasmplug_status exec_map(wp_exec *exec, wasmplug_engine *e, uint32_t depth, uint32_t slots)
{
    size_t pg = page_size();
    size_t fbytes, sbytes, total;
    if ((uint64_t)depth * sizeof(wp_frame) > SIZE_MAX || (uint64_t)slots * sizeof(wasmplug_slot) > SIZE_MAX)
        return WASMPLUG_ERR_LIMIT;
    if (!round_up((size_t)depth * sizeof(wp_frame), pg, &fbytes) ||
        !round_up((size_t)slots * sizeof(wasmplug_slot), pg, &sbytes) ||
        fbytes > SIZE_MAX - sbytes)
        return WASMPLUG_ERR_LIMIT;
    total = fbytes + sbytes;
    if (total == 0)
        total = pg;
#if WP_EXEC_MMAP
    (void)e;
    void *p = exec_pool_take(total);
    if (!p) {
        p = mmap(NULL, total, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            return WASMPLUG_ERR_NOMEM;
    }
#else
    void *p = wp_calloc(e, 1, total);
    if (!p)
        return WASMPLUG_ERR_NOMEM;
#endif
    exec->frames = p;
    exec->stack = (wasmplug_slot *)((char *)p + fbytes);
    exec->stack_bytes = total;
    exec->stack_slots = sbytes / sizeof(wasmplug_slot);
    exec->stack_top = exec->stack;
    exec->stack_used = false;
    exec->max_depth = depth;
    if (slots < exec->stack_slots)
        exec->stack_slots = slots; /* the limit, even if the mapping is bigger */
    return WASMPLUG_OK;
}

static void exec_unmap(wp_exec *exec, wasmplug_engine *e)
{
    if (!exec->frames)
        return;
#if WP_EXEC_MMAP
    (void)e;
    exec_pool_give(exec->frames, exec->stack_bytes, exec->stack_used);
#else
    wp_free(e, exec->frames, exec->stack_bytes);
#endif
    exec->frames = NULL;
    exec->stack = NULL;
    exec->stack_top = NULL;
}

static void exec_set_fuel(wp_exec *exec, uint64_t fuel)
{
    if (fuel == WASMPLUG_FUEL_UNLIMITED) {
        exec->fuel = INT64_MAX;
        exec->fuel_limited = false;
    } else {
        exec->fuel = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
        exec->fuel_limited = true;
    }
    exec->fuel_start = (uint64_t)exec->fuel;
}

wasmplug_status wp_exec_init(wp_exec *exec, wasmplug_engine *e, const wasmplug_instance_config *cfg)
{
    memset(exec, 0, sizeof *exec);
    uint32_t depth = cfg && cfg->max_call_depth ? cfg->max_call_depth : WP_DEFAULT_MAX_CALL_DEPTH;
    uint32_t slots = cfg && cfg->max_stack_slots ? cfg->max_stack_slots : WP_DEFAULT_MAX_STACK_SLOTS;
    wasmplug_status st = exec_map(exec, e, depth, slots);
    if (st != WASMPLUG_OK)
        return st;
    exec->depth = 0;
    exec->max_pages = cfg && cfg->max_memory_pages ? cfg->max_memory_pages : e->max_pages;
    if (exec->max_pages > WP_MAX_PAGES)
        exec->max_pages = WP_MAX_PAGES;
    exec_set_fuel(exec, cfg && cfg->fuel ? cfg->fuel : WASMPLUG_FUEL_UNLIMITED);
    atomic_init(&exec->interrupt, 0);
    exec->trap = WASMPLUG_TRAP_NONE;
    exec->fault_jump = NULL;
    return WASMPLUG_OK;
}

void wp_exec_destroy(wp_exec *exec, wasmplug_engine *e)
{
    exec_unmap(exec, e);
}

/* ------------------------------------------------------------------------ */
/* Tables                                                                   */
/* ------------------------------------------------------------------------ */

wasmplug_status wp_table_create(wasmplug_engine *e, wasmplug_valtype elem, wp_limits limits,
                                void *init, wasmplug_table **out)
{
    *out = NULL;
    if (limits.min > WP_TABLE_MAX_ELEMS)
        return WASMPLUG_ERR_LIMIT;
    wasmplug_table *t = wp_calloc(e, 1, sizeof *t);
    if (!t)
        return WASMPLUG_ERR_NOMEM;
    /* At least one element of capacity, so elems is never NULL (memcpy and
     * friends must not see NULL even for zero-length copies). */
    uint32_t cap = limits.min ? limits.min : 1;
    t->elems = wp_calloc(e, cap, sizeof(void *));
    if (!t->elems) {
        wp_free(e, t, sizeof *t);
        return WASMPLUG_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < limits.min; i++)
        t->elems[i] = init;
    atomic_init(&t->obj.refcount, 1);
    t->obj.kind = WASMPLUG_EXTERN_TABLE;
    t->obj.owner = NULL;
    t->obj.engine = e;
    t->elem = elem;
    t->size = limits.min;
    t->capacity = cap;
    t->limits = limits;
    *out = t;
    return WASMPLUG_OK;
}

int32_t wp_table_grow(wasmplug_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    uint64_t max = t->limits.has_max ? t->limits.max : UINT32_MAX;
    if (max > WP_TABLE_MAX_ELEMS)
        max = WP_TABLE_MAX_ELEMS;
    if ((uint64_t)old + delta > max)
        return -1;
    uint32_t size = old + delta;
    if (size > t->capacity) {
        uint64_t cap = (uint64_t)t->capacity * 2;
        if (cap < size)
            cap = size;
        if (cap > max)
            cap = max;
        void **p = wp_realloc(t->obj.engine, t->elems, (size_t)t->capacity * sizeof(void *),
                              (size_t)cap * sizeof(void *));
        if (!p)
            return -1;
        t->elems = p;
        t->capacity = (uint32_t)cap;
    }
    for (uint32_t i = old; i < size; i++)
        t->elems[i] = init;
    t->size = size;
    t->limits.min = size; /* the table's current type */
    return (int32_t)old;
}

void wp_table_destroy(wasmplug_table *t)
{
    if (!t)
        return;
    wasmplug_engine *e = t->obj.engine;
    wp_free(e, t->elems, (size_t)t->capacity * sizeof(void *));
    wp_free(e, t, sizeof *t);
}

/* ------------------------------------------------------------------------ */
/* Instances that must outlive a failed instantiation                       */
/* ------------------------------------------------------------------------ */

/*
 * When instantiation traps after element segments (or the start function)
 * stored this instance's functions into an imported table, the spec keeps
 * those writes, so the functions must stay callable although the caller
 * never gets the instance. Such instances are parked here and freed when
 * their engine is freed (wp_instance_free_parked, called from api.c).
 */
typedef struct wp_parked {
    struct wp_parked *next;
    wasmplug_instance *instance;
} parked;

static bool park(wasmplug_instance *inst)
{
    parked *p = wp_malloc(inst->engine, sizeof *p);
    if (!p)
        return false;
    p->instance = inst;
    pthread_mutex_lock(&inst->engine->parked_lock);
    p->next = inst->engine->parked;
    inst->engine->parked = p;
    pthread_mutex_unlock(&inst->engine->parked_lock);
    return true;
}

void wp_instance_free_parked(wasmplug_engine *e)
{
    for (;;) {
        wasmplug_instance *inst = NULL;
        pthread_mutex_lock(&e->parked_lock);
        parked *p = e->parked;
        if (p) {
            e->parked = p->next;
            inst = p->instance;
            wp_free(e, p, sizeof *p);
        }
        pthread_mutex_unlock(&e->parked_lock);
        if (!inst)
            return;
        /* Freeing may release imported instances, which never park, so the
         * list lock is not needed while doing it. */
        wasmplug_instance_free(inst);
    }
}

/* ------------------------------------------------------------------------ */
/* Instantiation                                                            */
/* ------------------------------------------------------------------------ */

static const char *kind_name(wasmplug_extern_kind k)
{
    switch (k) {
    case WASMPLUG_EXTERN_FUNC: return "func";
    case WASMPLUG_EXTERN_TABLE: return "table";
    case WASMPLUG_EXTERN_MEMORY: return "memory";
    case WASMPLUG_EXTERN_GLOBAL: return "global";
    }
    return "?";
}

/* "(i32, i64) -> (f32)" into buf. */
static void format_functype(char *buf, size_t size, const wp_functype *t)
{
    size_t n = 0;
    const char *sep = "";
#define APPEND(...)                                                             \
    do {                                                                        \
        if (n < size) {                                                         \
            int w_ = snprintf(buf + n, size - n, __VA_ARGS__);                  \
            n += w_ > 0 ? (size_t)w_ : 0;                                       \
        }                                                                       \
    } while (0)
    APPEND("(");
    for (uint32_t i = 0; i < t->nparams; i++, sep = ", ")
        APPEND("%s%s", sep, wasmplug_valtype_name(t->types[i]));
    APPEND(") -> (");
    sep = "";
    for (uint32_t i = 0; i < t->nresults; i++, sep = ", ")
        APPEND("%s%s", sep, wasmplug_valtype_name(t->types[t->nparams + i]));
    APPEND(")");
#undef APPEND
}

static void format_limits(char *buf, size_t size, uint32_t min, bool has_max, uint32_t max)
{
    if (has_max)
        snprintf(buf, size, "{min %u, max %u}", min, max);
    else
        snprintf(buf, size, "{min %u, no max}", min);
}

/* The spec's limits matching: given (current) limits within the declared. */
static bool limits_match(uint32_t gmin, bool ghas_max, uint32_t gmax, const wp_limits *want)
{
    if (gmin < want->min)
        return false;
    if (want->has_max && (!ghas_max || gmax > want->max))
        return false;
    return true;
}

static wasmplug_status link_error(wasmplug_error *err, const wp_import *imp, const char *what)
{
    return wp_error(err, WASMPLUG_ERR_LINK, imp->offset,
                    "incompatible import type for \"%s\".\"%s\": %s", imp->module.str,
                    imp->name.str, what);
}

/* Check that ext satisfies import imp of module m. */
static wasmplug_status check_import(const wasmplug_module *m, const wp_import *imp,
                                    wasmplug_extern ext, wasmplug_error *err)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX], a[96], b[96];
    if (ext.kind != imp->kind) {
        snprintf(msg, sizeof msg, "expected %s, got %s", kind_name(imp->kind), kind_name(ext.kind));
        return link_error(err, imp, msg);
    }
    if (!ext.of.func) /* any member: they share the storage */
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "import \"%s\".\"%s\" is NULL", imp->module.str, imp->name.str);
    switch (imp->kind) {
    case WASMPLUG_EXTERN_FUNC: {
        const wp_functype *want = &m->types[m->funcs[imp->index].type_index];
        const wp_functype *got = ext.of.func->type;
        if (!wp_functype_equal(want, got)) {
            format_functype(a, sizeof a, want);
            format_functype(b, sizeof b, got);
            snprintf(msg, sizeof msg, "expected func %s, got func %s", a, b);
            return link_error(err, imp, msg);
        }
        break;
    }
    case WASMPLUG_EXTERN_TABLE: {
        const wp_table *want = &m->tables[imp->index];
        const wasmplug_table *got = ext.of.table;
        if (want->elem != got->elem ||
            !limits_match(got->size, got->limits.has_max, got->limits.max, &want->limits)) {
            format_limits(a, sizeof a, want->limits.min, want->limits.has_max, want->limits.max);
            format_limits(b, sizeof b, got->size, got->limits.has_max, got->limits.max);
            snprintf(msg, sizeof msg, "expected table %s %s, got table %s %s",
                     wasmplug_valtype_name(want->elem), a, wasmplug_valtype_name(got->elem), b);
            return link_error(err, imp, msg);
        }
        break;
    }
    case WASMPLUG_EXTERN_MEMORY: {
        const wp_memory *want = &m->memories[imp->index];
        const wasmplug_memory *got = ext.of.memory;
        if (!limits_match(got->pages, got->limits.has_max, got->limits.max, &want->limits)) {
            format_limits(a, sizeof a, want->limits.min, want->limits.has_max, want->limits.max);
            format_limits(b, sizeof b, got->pages, got->limits.has_max, got->limits.max);
            snprintf(msg, sizeof msg, "expected memory %s, got memory %s", a, b);
            return link_error(err, imp, msg);
        }
        break;
    }
    case WASMPLUG_EXTERN_GLOBAL: {
        const wp_global *want = &m->globals[imp->index];
        const wasmplug_global *got = ext.of.global;
        if (want->type != got->type || want->mutable_ != got->mutable_) {
            snprintf(msg, sizeof msg, "expected global %s%s, got global %s%s",
                     want->mutable_ ? "mut " : "", wasmplug_valtype_name(want->type),
                     got->mutable_ ? "mut " : "", wasmplug_valtype_name(got->type));
            return link_error(err, imp, msg);
        }
        break;
    }
    }
    return WASMPLUG_OK;
}

/* Evaluate a (validated) constant expression in the instance. */
static wasmplug_slot eval_const(const wasmplug_instance *inst, const wp_constexpr *c)
{
    wasmplug_slot v;
    v.u64 = 0;
    switch (c->kind) {
    case WP_CONST_GLOBAL:
        v = inst->globals[c->index]->value;
        break;
    case WP_CONST_FUNC:
        v.ref = inst->funcs[c->index];
        break;
    default:
        v = c->value;
        break;
    }
    return v;
}

/* The high 8 bytes of a v128 constant expression (v128.const or global.get). */
static wasmplug_slot eval_const_hi(const wasmplug_instance *inst, const wp_constexpr *c)
{
    if (c->kind == WP_CONST_GLOBAL)
        return inst->globals[c->index]->value_hi;
    return c->value_hi;
}

/* Free everything an instance holds; works on partly built instances. */
static void instance_destroy(wasmplug_instance *inst)
{
    wasmplug_engine *e = inst->engine;
    wasmplug_module *m = inst->module;

    if (inst->tables) {
        for (uint32_t i = m->num_imported_tables; i < m->ntables; i++)
            wp_table_destroy(inst->tables[i]);
        wp_free(e, inst->tables, (size_t)m->ntables * sizeof *inst->tables);
    }
    if (inst->memories) {
        for (uint32_t i = m->num_imported_memories; i < m->nmemories; i++)
            wp_memory_destroy(inst->memories[i]);
        wp_free(e, inst->memories, (size_t)m->nmemories * sizeof *inst->memories);
    }
    if (inst->globals) {
        /* defined globals live in one block starting at the first of them */
        uint32_t ndef = m->nglobals - m->num_imported_globals;
        if (ndef)
            wp_free(e, inst->globals[m->num_imported_globals], (size_t)ndef * sizeof(wasmplug_global));
        wp_free(e, inst->globals, (size_t)m->nglobals * sizeof *inst->globals);
    }
    if (inst->funcs)
        wp_free(e, inst->funcs, (size_t)m->nfuncs * sizeof *inst->funcs);
    if (inst->own_funcs)
        wp_free(e, inst->own_funcs, (size_t)(m->nfuncs - m->num_imported_funcs) * sizeof *inst->own_funcs);
    wp_free(e, inst->elem_dropped, m->nelems);
    wp_free(e, inst->data_dropped, m->ndatas);
    for (uint32_t i = 0; i < inst->nimports; i++)
        wasmplug_extern_release(inst->imports[i]);
    wp_free(e, inst->imports, (size_t)m->nimports * sizeof *inst->imports);
    wp_aot_instance_release(inst);
    wp_exec_destroy(&inst->exec, e);
    wp_free(e, inst, sizeof *inst);
    wp_module_release(m);
}

/* Allocate the instance's own functions, tables, memories and globals. */
static wasmplug_status allocate(wasmplug_instance *inst, const wasmplug_extern *imports,
                                wasmplug_error *err)
{
    wasmplug_engine *e = inst->engine;
    wasmplug_module *m = inst->module;
    wasmplug_status st;

    inst->funcs = wp_calloc(e, m->nfuncs, sizeof *inst->funcs);
    inst->own_funcs = wp_calloc(e, m->nfuncs - m->num_imported_funcs, sizeof *inst->own_funcs);
    inst->tables = wp_calloc(e, m->ntables, sizeof *inst->tables);
    inst->memories = wp_calloc(e, m->nmemories, sizeof *inst->memories);
    inst->globals = wp_calloc(e, m->nglobals, sizeof *inst->globals);
    inst->elem_dropped = wp_calloc(e, m->nelems, 1);
    inst->data_dropped = wp_calloc(e, m->ndatas, 1);
    if (!inst->funcs || !inst->own_funcs || !inst->tables || !inst->memories || !inst->globals ||
        !inst->elem_dropped || !inst->data_dropped)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");

    /* Imports fill the start of each index space. */
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wp_import *imp = &m->imports[i];
        switch (imp->kind) {
        case WASMPLUG_EXTERN_FUNC: inst->funcs[imp->index] = imports[i].of.func; break;
        case WASMPLUG_EXTERN_TABLE: inst->tables[imp->index] = imports[i].of.table; break;
        case WASMPLUG_EXTERN_MEMORY: inst->memories[imp->index] = imports[i].of.memory; break;
        case WASMPLUG_EXTERN_GLOBAL: inst->globals[imp->index] = imports[i].of.global; break;
        }
    }

    for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++) {
        wasmplug_func *f = &inst->own_funcs[i - m->num_imported_funcs];
        atomic_init(&f->obj.refcount, 0);
        f->obj.kind = WASMPLUG_EXTERN_FUNC;
        f->obj.owner = inst;
        f->obj.engine = e;
        f->type = &m->types[m->funcs[i].type_index];
        f->instance = inst;
        f->code = &m->funcs[i].code;
        inst->funcs[i] = f;
    }

    for (uint32_t i = m->num_imported_tables; i < m->ntables; i++) {
        st = wp_table_create(e, m->tables[i].elem, m->tables[i].limits, NULL, &inst->tables[i]);
        if (st != WASMPLUG_OK)
            return wp_error(err, st, WP_NO_OFFSET, "cannot allocate table %u (%u elements)%s", i,
                            m->tables[i].limits.min,
                            st == WASMPLUG_ERR_LIMIT ? ": too large" : ": out of memory");
        inst->tables[i]->obj.owner = inst;
    }

    for (uint32_t i = m->num_imported_memories; i < m->nmemories; i++) {
        wp_limits lim = m->memories[i].limits;
        if (lim.min > inst->exec.max_pages)
            return wp_error(err, WASMPLUG_ERR_LIMIT, WP_NO_OFFSET,
                            "memory %u needs %u pages, the instance's limit is %u", i, lim.min,
                            inst->exec.max_pages);
        char why[WASMPLUG_ERROR_MESSAGE_MAX - 64];
        st = wp_memory_create(e, lim, &inst->memories[i], why, sizeof why);
        if (st != WASMPLUG_OK)
            return wp_error(err, st, WP_NO_OFFSET, "cannot allocate memory %u (%u pages): %s",
                            i, lim.min, why);
        inst->memories[i]->obj.owner = inst;
    }

    /* Code compiled for guard pages does no bounds checks: with a memory
     * that has none (a fallback, or an import from elsewhere), the instance
     * runs the module's explicit-check copy. */
    bool checked = false;
    for (uint32_t i = 0; i < m->nmemories; i++)
        checked |= !inst->memories[i]->guarded;
    if (checked && e->bounds == WASMPLUG_BOUNDS_GUARD_PAGES) {
        const wp_code *codes = wp_module_checked_code(m);
        if (!codes)
            return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
        for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++)
            inst->own_funcs[i - m->num_imported_funcs].code = &codes[i - m->num_imported_funcs];
    }

    uint32_t ndef = m->nglobals - m->num_imported_globals;
    if (ndef) {
        wasmplug_global *block = wp_calloc(e, ndef, sizeof *block);
        if (!block)
            return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
        for (uint32_t i = m->num_imported_globals; i < m->nglobals; i++) {
            wasmplug_global *g = &block[i - m->num_imported_globals];
            atomic_init(&g->obj.refcount, 0);
            g->obj.kind = WASMPLUG_EXTERN_GLOBAL;
            g->obj.owner = inst;
            g->obj.engine = e;
            g->type = m->globals[i].type;
            g->mutable_ = m->globals[i].mutable_;
            inst->globals[i] = g;
            /* Initializers may only read earlier globals, so in order is right. */
            g->value = eval_const(inst, &m->globals[i].init);
            g->value_hi = eval_const_hi(inst, &m->globals[i].init);
        }
    }
    return WASMPLUG_OK;
}

static wasmplug_status instantiation_trap(wasmplug_error *err, wasmplug_trap trap,
                                          const char *detail)
{
    wasmplug_status st = wp_error(err, WASMPLUG_ERR_TRAP, WP_NO_OFFSET, "%s (%s)",
                                  wasmplug_trap_string(trap), detail);
    if (err)
        err->trap = trap;
    return st;
}

/* Element segments, data segments (spec 2.0 order). Sets *shared_writes when
 * one of the instance's own functions went into a table it does not own. */
static wasmplug_status run_segments(wasmplug_instance *inst, wasmplug_error *err,
                                    bool *shared_writes)
{
    const wasmplug_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wp_elem *s = &m->elems[i];
        if (s->mode == WP_SEGMENT_ACTIVE) {
            wasmplug_table *t = inst->tables[s->table];
            uint32_t off = eval_const(inst, &s->offset).u32;
            if ((uint64_t)off + s->count > t->size) {
                char detail[128];
                snprintf(detail, sizeof detail,
                         "element segment %u: offset %u + %u elements > table size %u", i, off,
                         s->count, t->size);
                return instantiation_trap(err, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS, detail);
            }
            bool foreign = t->obj.owner != inst && s->type == WASMPLUG_FUNCREF;
            for (uint32_t k = 0; k < s->count; k++) {
                void *ref = eval_const(inst, &s->items[k]).ref;
                if (foreign && ref && ((wasmplug_func *)ref)->obj.owner == inst)
                    *shared_writes = true;
                t->elems[off + k] = ref;
            }
            inst->elem_dropped[i] = true;
        } else if (s->mode == WP_SEGMENT_DECLARATIVE) {
            inst->elem_dropped[i] = true;
        }
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wp_data *d = &m->datas[i];
        if (d->mode != WP_SEGMENT_ACTIVE)
            continue;
        wasmplug_memory *mem = inst->memories[d->memory];
        uint32_t off = eval_const(inst, &d->offset).u32;
        if ((uint64_t)off + d->size > mem->size) {
            char detail[128];
            snprintf(detail, sizeof detail,
                     "data segment %u: offset %u + %u bytes > memory size %llu", i, off, d->size,
                     (unsigned long long)mem->size);
            return instantiation_trap(err, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS, detail);
        }
        if (d->size)
            memcpy(mem->base + off, d->bytes, d->size);
        inst->data_dropped[i] = true;
    }
    return WASMPLUG_OK;
}

/* Could a failed start function have left this instance's functions where
 * others can reach them (imported tables or mutable reference globals)? */
static bool may_have_escaped(const wasmplug_instance *inst)
{
    const wasmplug_module *m = inst->module;
    if (m->nfuncs == m->num_imported_funcs)
        return false;
    if (m->num_imported_tables)
        return true;
    for (uint32_t i = 0; i < m->num_imported_globals; i++)
        if (m->globals[i].mutable_ && m->globals[i].type == WASMPLUG_FUNCREF)
            return true;
    return false;
}

wasmplug_status wasmplug_instance_new(wasmplug_module *module, const wasmplug_extern *imports,
                                      size_t import_count, const wasmplug_instance_config *cfg,
                                      wasmplug_instance **out, wasmplug_error *err)
{
    if (out)
        *out = NULL;
    if (!module || !out || (import_count && !imports))
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_instance_new: module and out are required (and imports when "
                        "import_count > 0)");
    if (import_count != module->nimports)
        return wp_error(err, WASMPLUG_ERR_LINK, WP_NO_OFFSET, "expected %u imports, got %zu",
                        module->nimports, import_count);
    for (uint32_t i = 0; i < module->nimports; i++) {
        wasmplug_status st = check_import(module, &module->imports[i], imports[i], err);
        if (st != WASMPLUG_OK)
            return st;
    }

    wasmplug_engine *e = module->engine;
    wasmplug_instance *inst = wp_calloc(e, 1, sizeof *inst);
    if (!inst)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    atomic_init(&inst->refcount, 1);
    inst->engine = e;
    inst->module = module;
    wp_module_retain(module);
    inst->user = cfg ? cfg->user : NULL;

    wasmplug_status st = wp_exec_init(&inst->exec, e, cfg);
    if (st != WASMPLUG_OK) {
        char why[WASMPLUG_ERROR_MESSAGE_MAX - 64] = " (limits too large)";
#if WP_HAVE_MMAP
        if (st == WASMPLUG_ERR_NOMEM) { /* say which limit the mapping hit */
            int errnum = errno;
            why[0] = ':';
            why[1] = ' ';
            wp_describe_map_failure(why + 2, sizeof why - 2, "mapping the value stack", errnum);
        }
#endif
        wp_error(err, st, WP_NO_OFFSET, "cannot allocate the execution stack%s",
                 st == WASMPLUG_ERR_LIMIT || WP_HAVE_MMAP ? why : "");
        instance_destroy(inst);
        return st;
    }

    if (module->nimports) {
        inst->imports = wp_calloc(e, module->nimports, sizeof *inst->imports);
        if (!inst->imports) {
            instance_destroy(inst);
            return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
        }
        for (uint32_t i = 0; i < module->nimports; i++) {
            inst->imports[i] = imports[i];
            wasmplug_extern_retain(imports[i]);
            inst->nimports = i + 1;
        }
    }

    st = allocate(inst, imports, err);
    if (st != WASMPLUG_OK) {
        instance_destroy(inst);
        return st;
    }

    bool escaped = false;
    st = run_segments(inst, err, &escaped);
    inst->start_pending = module->has_start;
    if (st == WASMPLUG_OK && !(cfg && cfg->defer_start)) {
        st = wasmplug_instance_start(inst, err);
        if (st != WASMPLUG_OK && may_have_escaped(inst))
            escaped = true;
    }
    if (st != WASMPLUG_OK) {
        /* Keep the instance if others may still call its functions. */
        if (!escaped || !park(inst))
            instance_destroy(inst);
        return st;
    }
    *out = inst;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_instance_start(wasmplug_instance *instance, wasmplug_error *err)
{
    if (!instance)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_instance_start: instance is NULL");
    if (!instance->start_pending)
        return WASMPLUG_OK;
    instance->start_pending = false;
    wasmplug_slot unused[1] = {{.u64 = 0}};
    return wp_exec_call(&instance->exec, instance->funcs[instance->module->start], unused, err);
}

void wasmplug_instance_free(wasmplug_instance *instance)
{
    if (!instance)
        return;
    if (atomic_fetch_sub_explicit(&instance->refcount, 1, memory_order_acq_rel) != 1)
        return;
    instance_destroy(instance);
}

/* ------------------------------------------------------------------------ */
/* Accessors                                                                */
/* ------------------------------------------------------------------------ */

wasmplug_module *wasmplug_instance_module(const wasmplug_instance *instance)
{
    return instance ? instance->module : NULL;
}

void *wasmplug_instance_user(const wasmplug_instance *instance)
{
    return instance ? instance->user : NULL;
}

wasmplug_status wasmplug_instance_export_n(wasmplug_instance *instance, const char *name,
                                           size_t len, wasmplug_extern *out)
{
    if (!instance || (!name && len) || !out)
        return WASMPLUG_ERR_ARGUMENT;
    const wasmplug_module *m = instance->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *x = &m->exports[i];
        if (x->name.len != len || (len && memcmp(x->name.str, name, len) != 0))
            continue;
        out->kind = x->kind;
        switch (x->kind) {
        case WASMPLUG_EXTERN_FUNC: out->of.func = instance->funcs[x->index]; break;
        case WASMPLUG_EXTERN_TABLE: out->of.table = instance->tables[x->index]; break;
        case WASMPLUG_EXTERN_MEMORY: out->of.memory = instance->memories[x->index]; break;
        case WASMPLUG_EXTERN_GLOBAL: out->of.global = instance->globals[x->index]; break;
        }
        return WASMPLUG_OK;
    }
    return WASMPLUG_ERR_NOT_FOUND;
}

wasmplug_status wasmplug_instance_export(wasmplug_instance *instance, const char *name,
                                         wasmplug_extern *out)
{
    if (!name)
        return WASMPLUG_ERR_ARGUMENT;
    return wasmplug_instance_export_n(instance, name, strlen(name), out);
}

wasmplug_func *wasmplug_instance_func(wasmplug_instance *instance, const char *name)
{
    wasmplug_extern ext;
    if (wasmplug_instance_export(instance, name, &ext) != WASMPLUG_OK ||
        ext.kind != WASMPLUG_EXTERN_FUNC)
        return NULL;
    return ext.of.func;
}

wasmplug_memory *wasmplug_instance_memory(wasmplug_instance *instance)
{
    if (!instance || instance->module->nmemories == 0)
        return NULL;
    return instance->memories[0];
}

void wasmplug_instance_set_fuel(wasmplug_instance *instance, uint64_t fuel)
{
    if (instance)
        exec_set_fuel(&instance->exec, fuel);
}

uint64_t wasmplug_instance_fuel(const wasmplug_instance *instance)
{
    if (!instance || !instance->exec.fuel_limited)
        return WASMPLUG_FUEL_UNLIMITED;
    return instance->exec.fuel > 0 ? (uint64_t)instance->exec.fuel : 0;
}

/* Counted from the fuel decrements, so it is meaningful for unlimited fuel
 * too as long as the interpreter decrements then (it starts at INT64_MAX). */
uint64_t wasmplug_instance_fuel_consumed(const wasmplug_instance *instance)
{
    if (!instance)
        return 0;
    uint64_t left = instance->exec.fuel > 0 ? (uint64_t)instance->exec.fuel : 0;
    return instance->exec.fuel_start >= left ? instance->exec.fuel_start - left : 0;
}

uint64_t wasmplug_instance_grows_refused(const wasmplug_instance *instance)
{
    return instance ? instance->exec.grows_refused : 0;
}

void wasmplug_instance_interrupt(wasmplug_instance *instance)
{
    if (instance)
        atomic_store(&instance->exec.interrupt, -1);
}

void wasmplug_instance_clear_interrupt(wasmplug_instance *instance)
{
    if (instance)
        atomic_store(&instance->exec.interrupt, 0);
}

void wasmplug_instance_set_limits(wasmplug_instance *instance, uint32_t max_call_depth,
                                  uint32_t max_stack_slots, uint32_t max_memory_pages)
{
    if (!instance)
        return;
    wp_exec *x = &instance->exec;
    uint32_t depth = max_call_depth ? max_call_depth : WP_DEFAULT_MAX_CALL_DEPTH;
    uint32_t slots = max_stack_slots ? max_stack_slots : WP_DEFAULT_MAX_STACK_SLOTS;
    size_t frame_cap = (size_t)((char *)x->stack - (char *)x->frames) / sizeof(wp_frame);
    size_t slot_cap = (x->stack_bytes - (size_t)((char *)x->stack - (char *)x->frames)) /
                      sizeof(wasmplug_slot);
    bool idle = x->depth == 0 && x->stack_top == x->stack;
    if ((depth > frame_cap || slots > slot_cap) && idle) {
        /* Bigger than the mapping: remap while nothing runs on it. */
        wp_exec fresh = *x;
        if (exec_map(&fresh, instance->engine, depth, slots) == WASMPLUG_OK) {
            exec_unmap(x, instance->engine);
            x->frames = fresh.frames;
            x->stack = fresh.stack;
            x->stack_top = fresh.stack_top;
            x->stack_bytes = fresh.stack_bytes;
            x->stack_used = false;
            frame_cap = depth;
            slot_cap = fresh.stack_slots;
        }
    }
    /* Within the mapping (a running call's mapping cannot move). */
    x->max_depth = depth < frame_cap ? depth : (uint32_t)frame_cap;
    x->stack_slots = slots < slot_cap ? slots : slot_cap;
    uint32_t pages = max_memory_pages ? max_memory_pages : WP_MAX_PAGES;
    x->max_pages = pages > WP_MAX_PAGES ? WP_MAX_PAGES : pages;
}
