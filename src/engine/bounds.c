/*
 * bounds.c - bounds checks chosen per instance.
 *
 * A guard-mode engine compiles every module for guard pages: its memory
 * loads and stores are the unchecked handlers. An instance whose memory has
 * no guard pages (the reservation failed and the engine fell back to an
 * explicit-check memory, or it imports such a memory) must run the same code
 * with the checked handlers instead. wp_module_checked_code makes that copy
 * once per module, on first need: the cells are copied and every memory
 * operation's cell is swapped for its checked twin (the interpreter holds
 * both sets of handlers, interp.c). Operands and branch offsets are
 * unchanged, so the copy behaves exactly like the original apart from the
 * checks. Instances pick their code when they are created (instance.c).
 */
#include "module.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

static const char *const op_operands[] = {
#define WP_X_OPERANDS(name, operands, doc) operands,
    WP_ALL_OPS(WP_X_OPERANDS)
#undef WP_X_OPERANDS
};

static int cmp_opkey(const void *a, const void *b)
{
    uintptr_t x = ((const wp_opkey *)a)->cell, y = ((const wp_opkey *)b)->cell;
    return (x > y) - (x < y);
}

void wp_op_keys(wp_opkey *keys, wasmplug_bounds_mode bounds)
{
    for (uint32_t op = 0; op < WP_OP_COUNT; op++) {
        keys[op].cell = wp_op_cell_bounds((wp_op)op, bounds).op;
        keys[op].op = op;
    }
    qsort(keys, WP_OP_COUNT, sizeof *keys, cmp_opkey);
}

int wp_op_of_cell(const wp_opkey *keys, wp_cell cell)
{
    wp_opkey key = { cell.op, 0 };
    const wp_opkey *f = bsearch(&key, keys, WP_OP_COUNT, sizeof *keys, cmp_opkey);
    return f ? (int)f->op : -1;
}

/* Cells of this many operands follow the operation cell at pc: the letters
 * of ops.h, a trailing "..." repeating the last letter as many more times
 * as the N operand before it says. */
static uint64_t operand_cells(uint32_t op, const wp_cell *cells, uint32_t pc, uint32_t ncells)
{
    const char *ops = op_operands[op];
    size_t nl = strlen(ops);
    if (nl < 4 || strcmp(ops + nl - 3, "...") != 0)
        return nl;
    size_t fixed = nl - 3;
    uint64_t count = 0;
    for (size_t j = 0; j < fixed; j++)
        if (ops[j] == 'N' && pc + 1 + j < ncells)
            count = cells[pc + 1 + j].u32;
    return fixed + count;
}

static void swap_memory_cells(wp_cell *cells, uint32_t ncells, const wp_opkey *keys,
                              const wp_cell *checked)
{
    uint32_t pc = 0;
    while (pc < ncells) {
        int op = wp_op_of_cell(keys, cells[pc]);
        if (op < 0) /* cannot happen: the compiler emitted these cells */
            return;
        if (wp_is_memory_op((wp_op)op))
            cells[pc] = checked[op];
        pc += 1 + (uint32_t)operand_cells((uint32_t)op, cells, pc, ncells);
    }
}

/* The cells of guard-mode code, sorted once per process. */
static wp_opkey guard_keys[WP_OP_COUNT];
static pthread_once_t guard_keys_once = PTHREAD_ONCE_INIT;

static void guard_keys_init(void)
{
    wp_op_keys(guard_keys, WASMPLUG_BOUNDS_GUARD_PAGES);
}

/* Whether running c can fault on a guard page: it has an unchecked load or
 * store, or calls anything (which might). Code that cannot needs no fault
 * handler, so calls into it skip the handler check (signals.c). Computed on
 * first use and cached in the code; racing threads store the same answer. */
bool wp_code_may_fault_scan(const wp_code *c)
{
    _Atomic uint8_t *cls = (_Atomic uint8_t *)&c->fault_class;
    pthread_once(&guard_keys_once, guard_keys_init);
    bool may = false;
    uint32_t pc = 0;
    while (pc < c->ncells && !may) {
        int op = wp_op_of_cell(guard_keys, c->cells[pc]);
        /* An unknown cell is a checked load/store (explicit-check code): it
         * cannot fault, but stop looking and assume the worst. */
        may = op < 0 || wp_is_memory_op((wp_op)op) || op == WP_OP_CALL ||
              op == WP_OP_CALL_IMPORT || op == WP_OP_CALL_INDIRECT;
        if (op >= 0)
            pc += 1 + (uint32_t)operand_cells((uint32_t)op, c->cells, pc, c->ncells);
    }
    atomic_store_explicit(cls, may ? 2 : 1, memory_order_relaxed);
    return may;
}

static pthread_mutex_t checked_lock = PTHREAD_MUTEX_INITIALIZER;

const wp_code *wp_module_checked_code(wasmplug_module *m)
{
    const wp_code *done = atomic_load_explicit(&m->checked_code, memory_order_acquire);
    if (done)
        return done;
    pthread_mutex_lock(&checked_lock);
    done = atomic_load_explicit(&m->checked_code, memory_order_acquire);
    if (done) {
        pthread_mutex_unlock(&checked_lock);
        return done;
    }
    uint32_t ndef = m->nfuncs - m->num_imported_funcs;
    size_t bytes = (size_t)(ndef ? ndef : 1) * sizeof(wp_code);
    for (uint32_t i = m->num_imported_funcs; i < m->nfuncs; i++)
        bytes += (size_t)m->funcs[i].code.ncells * sizeof(wp_cell);
    wp_code *codes = wp_malloc(m->engine, bytes);
    wp_opkey *keys = malloc(WP_OP_COUNT * sizeof *keys);
    wp_cell *checked = malloc(WP_OP_COUNT * sizeof *checked);
    if (codes && keys && checked) {
        wp_op_keys(keys, m->engine->bounds);
        for (uint32_t op = 0; op < WP_OP_COUNT; op++)
            checked[op] = wp_op_cell((wp_op)op);
        wp_cell *cells = (wp_cell *)(codes + (ndef ? ndef : 1));
        for (uint32_t i = 0; i < ndef; i++) {
            const wp_code *src = &m->funcs[m->num_imported_funcs + i].code;
            codes[i].cells = cells;
            codes[i].ncells = src->ncells;
            codes[i].nparams = src->nparams;
            codes[i].nlocals = src->nlocals;
            codes[i].nresults = src->nresults;
            codes[i].frame_size = src->frame_size;
            codes[i].func_index = src->func_index;
            atomic_init(&codes[i].fault_class, 0);
            memcpy(cells, src->cells, (size_t)src->ncells * sizeof(wp_cell));
            swap_memory_cells(cells, src->ncells, keys, checked);
            cells += src->ncells;
        }
        m->checked_bytes = bytes;
        atomic_store_explicit(&m->checked_code, codes, memory_order_release);
        done = codes;
    } else if (codes) {
        wp_free(m->engine, codes, bytes);
    }
    free(keys);
    free(checked);
    pthread_mutex_unlock(&checked_lock);
    return done;
}

void wp_module_free_checked_code(wasmplug_module *m)
{
    wp_code *codes = atomic_load_explicit(&m->checked_code, memory_order_relaxed);
    if (codes)
        wp_free(m->engine, codes, m->checked_bytes);
    atomic_store_explicit(&m->checked_code, NULL, memory_order_relaxed);
}
