/*
 * compile.c - module-level validation (spec "Modules" validation rules) and
 * the entry point wp_validate_and_compile.
 *
 * The decoder has parsed everything; here the parts are checked against
 * each other: index spaces, limits, constant expressions, segments, exports
 * and the start function. Function bodies are validated and compiled by
 * compile_func.c, first, so that a binary-format error inside a body wins
 * over any validation error, as when the spec decodes the whole module
 * before validating it.
 */
#include "compile.h"

#include <stdlib.h>
#include <string.h>

#define INVALID(off, ...) wp_error(err, WASMPLUG_ERR_INVALID, (off), __VA_ARGS__)

/*
 * A constant expression of the expected type. As in the WebAssembly 2.0 test
 * suite, global.get may only name an imported, immutable global.
 * fallback_offset is used for expressions synthesized by the decoder.
 */
static wasmplug_status check_const(const wasmplug_module *m, wasmplug_error *err,
                                   wp_constexpr *ce, wasmplug_valtype expect,
                                   uint32_t fallback_offset, const char *what)
{
    uint64_t at = ce->size ? ce->offset : fallback_offset;
    wasmplug_valtype t;
    switch (ce->kind) {
    case WP_CONST_GLOBAL:
        if (ce->index >= m->num_imported_globals || ce->index >= m->nglobals)
            return INVALID(at, "unknown global %u in %s (constant expressions may only read "
                           "imported globals)", ce->index, what);
        if (m->globals[ce->index].mutable_)
            return INVALID(at, "constant expression required: global %u in %s is mutable",
                           ce->index, what);
        t = m->globals[ce->index].type;
        break;
    case WP_CONST_FUNC:
        if (ce->index >= m->nfuncs)
            return INVALID(at, "unknown function %u in %s", ce->index, what);
        t = WASMPLUG_FUNCREF;
        break;
    default:
        t = ce->type;
        break;
    }
    ce->type = t;
    if (t != expect)
        return INVALID(at, "type mismatch: %s is %s, expected %s", what, wasmplug_valtype_name(t),
                       wasmplug_valtype_name(expect));
    return WASMPLUG_OK;
}

static wasmplug_status check_limits(wasmplug_error *err, const wp_limits *l, const char *what,
                                    uint32_t index, bool memory, uint32_t offset)
{
    if (memory && (l->min > 65536u || (l->has_max && l->max > 65536u)))
        return INVALID(offset, "memory size must be at most 65536 pages (4GiB) "
                       "(memory %u)", index);
    if (l->has_max && l->min > l->max)
        return INVALID(offset, "size minimum must not be greater than maximum (%s %u: "
                       "min %u, max %u)", what, index, l->min, l->max);
    return WASMPLUG_OK;
}

static int cmp_export_names(const void *a, const void *b)
{
    const wp_export *x = *(const wp_export *const *)a;
    const wp_export *y = *(const wp_export *const *)b;
    uint32_t n = x->name.len < y->name.len ? x->name.len : y->name.len;
    int r = n ? memcmp(x->name.str, y->name.str, n) : 0;
    if (r)
        return r;
    return (x->name.len > y->name.len) - (x->name.len < y->name.len);
}

static wasmplug_status check_exports(wasmplug_module *m, wasmplug_error *err)
{
    static const char *const kinds[] = { "function", "table", "memory", "global" };
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        uint32_t limit = 0;
        switch (e->kind) {
        case WASMPLUG_EXTERN_FUNC: limit = m->nfuncs; break;
        case WASMPLUG_EXTERN_TABLE: limit = m->ntables; break;
        case WASMPLUG_EXTERN_MEMORY: limit = m->nmemories; break;
        case WASMPLUG_EXTERN_GLOBAL: limit = m->nglobals; break;
        }
        if (e->index >= limit)
            return INVALID(e->offset, "unknown %s %u (export \"%s\")",
                           kinds[e->kind & 3], e->index, e->name.str);
    }
    if (m->nexports < 2)
        return WASMPLUG_OK;
    /* Unique names: sort pointers by name, compare neighbours. */
    const wp_export **sorted = wp_calloc(m->engine, m->nexports, sizeof *sorted);
    if (!sorted)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, cmp_export_names);
    wasmplug_status st = WASMPLUG_OK;
    for (uint32_t i = 1; i < m->nexports; i++) {
        if (cmp_export_names(&sorted[i - 1], &sorted[i]) == 0) {
            st = INVALID(sorted[i]->offset, "duplicate export name \"%s\"", sorted[i]->name.str);
            break;
        }
    }
    wp_free(m->engine, sorted, m->nexports * sizeof *sorted);
    return st;
}

wasmplug_status wp_validate_module(wasmplug_module *m, wasmplug_error *err)
{
    wasmplug_status st;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wp_import *imp = &m->imports[i];
        if (imp->kind == WASMPLUG_EXTERN_FUNC && imp->index < m->nfuncs &&
            m->funcs[imp->index].type_index >= m->ntypes)
            return INVALID(imp->offset, "unknown type %u (import %u)",
                           m->funcs[imp->index].type_index, i);
    }
    for (uint32_t i = 0; i < m->ntables; i++)
        if ((st = check_limits(err, &m->tables[i].limits, "table", i, false,
                               m->tables[i].offset)) != WASMPLUG_OK)
            return st;
    if (m->nmemories > 1)
        return INVALID(m->memories[1].offset, "multiple memories (%u; WebAssembly 2.0 allows one)",
                       m->nmemories);
    for (uint32_t i = 0; i < m->nmemories; i++)
        if ((st = check_limits(err, &m->memories[i].limits, "memory", i, true,
                               m->memories[i].offset)) != WASMPLUG_OK)
            return st;

    for (uint32_t i = m->num_imported_globals; i < m->nglobals; i++) {
        wp_global *g = &m->globals[i];
        if ((st = check_const(m, err, &g->init, g->type, g->offset, "global initializer")) != WASMPLUG_OK)
            return st;
    }

    for (uint32_t i = 0; i < m->nelems; i++) {
        wp_elem *e = &m->elems[i];
        if (e->mode == WP_SEGMENT_ACTIVE) {
            if (e->table >= m->ntables)
                return INVALID(e->entry_offset, "unknown table %u (element segment %u)",
                               e->table, i);
            if ((st = check_const(m, err, &e->offset, WASMPLUG_I32, e->entry_offset,
                                  "element segment offset")) != WASMPLUG_OK)
                return st;
            if (m->tables[e->table].elem != e->type)
                return INVALID(e->entry_offset, "type mismatch: element segment %u of %s for "
                               "a table of %s", i, wasmplug_valtype_name(e->type),
                               wasmplug_valtype_name(m->tables[e->table].elem));
        }
        for (uint32_t k = 0; k < e->count; k++)
            if ((st = check_const(m, err, &e->items[k], e->type, e->entry_offset,
                                  "element segment item")) != WASMPLUG_OK)
                return st;
    }

    for (uint32_t i = 0; i < m->ndatas; i++) {
        wp_data *d = &m->datas[i];
        if (d->mode != WP_SEGMENT_ACTIVE)
            continue;
        if (d->memory >= m->nmemories)
            return INVALID(d->entry_offset, "unknown memory %u (data segment %u)", d->memory, i);
        if ((st = check_const(m, err, &d->offset, WASMPLUG_I32, d->entry_offset,
                              "data segment offset")) != WASMPLUG_OK)
            return st;
    }

    if (m->has_start) {
        if (m->start >= m->nfuncs)
            return INVALID(m->start_offset, "unknown function %u (start function)", m->start);
        const wp_functype *t = &m->types[m->funcs[m->start].type_index];
        if (t->nparams != 0 || t->nresults != 0)
            return INVALID(m->start_offset, "start function %u must have type [] -> []", m->start);
    }
    return check_exports(m, err);
}

wasmplug_status wp_validate_and_compile(wasmplug_module *m, wasmplug_error *err)
{
    wasmplug_status st = wp_compile_functions(m, err);
    if (st != WASMPLUG_OK)
        return st;
    return wp_validate_module(m, err);
}
