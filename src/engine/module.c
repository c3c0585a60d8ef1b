/*
 * module.c - module objects: creation (copy, decode, validate, compile),
 * reference counting, and the public introspection API (imports, exports,
 * names, custom sections).
 *
 * A module is immutable once wasmplug_module_new returns, so these readers
 * need no locking; only the reference count is atomic.
 */
#include "module.h"
#include "runtime.h"
#include "aot.h"
#include "reader.h"

#include <string.h>

bool wp_functype_equal(const wp_functype *a, const wp_functype *b)
{
    if (a == b)
        return true;
    if (a->nparams != b->nparams || a->nresults != b->nresults)
        return false;
    size_t n = (size_t)a->nparams + a->nresults;
    for (size_t i = 0; i < n; i++)
        if (a->types[i] != b->types[i])
            return false;
    return true;
}

void wp_module_release_contents(wasmplug_module *m)
{
    wp_module_free_checked_code(m);
    wp_aot_module_release(m);
    wp_arena_free(&m->arena);
    if (m->bytes)
        wp_free(m->engine, m->bytes, m->size);
    m->bytes = NULL;
}

void wp_module_retain(wasmplug_module *m)
{
    atomic_fetch_add_explicit(&m->refcount, 1, memory_order_relaxed);
}

void wp_module_release(wasmplug_module *m)
{
    if (!m)
        return;
    if (atomic_fetch_sub_explicit(&m->refcount, 1, memory_order_acq_rel) != 1)
        return;
    wasmplug_engine *e = m->engine;
    wp_module_release_contents(m);
    wp_free(e, m, sizeof *m);
}

wasmplug_status wasmplug_module_new(wasmplug_engine *engine, const uint8_t *bytes, size_t size,
                                    wasmplug_module **out, wasmplug_error *err)
{
    if (out)
        *out = NULL;
    if (!engine || !out || (!bytes && size != 0))
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_module_new: engine, out and bytes (when size > 0) are required");
    if (size > UINT32_MAX)
        return wp_error(err, WASMPLUG_ERR_LIMIT, WP_NO_OFFSET,
                        "module binary too large (%zu bytes; at most 4 GiB)", size);
    wasmplug_module *m = wp_calloc(engine, 1, sizeof *m);
    if (!m)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    atomic_init(&m->refcount, 1);
    m->engine = engine;
    wp_arena_init(&m->arena, engine);
    m->bytes = wp_malloc(engine, size);
    if (!m->bytes) {
        wp_free(engine, m, sizeof *m);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    if (size)
        memcpy(m->bytes, bytes, size);
    m->size = size;

    wasmplug_status st = wp_decode(m, err);
    if (st == WASMPLUG_OK)
        st = wp_validate_and_compile(m, err);
    if (st != WASMPLUG_OK) {
        wp_module_release(m);
        return st;
    }
    *out = m;
    return WASMPLUG_OK;
}

void wasmplug_module_free(wasmplug_module *module) { wp_module_release(module); }

/* ---- introspection ----------------------------------------------------- */

static wasmplug_limits limits_out(wp_limits l)
{
    wasmplug_limits r;
    r.min = l.min;
    r.max = l.max;
    r.has_max = l.has_max;
    return r;
}

/* The type of entity `index` of `kind`. Indices were validated by the
 * compiler; the checks here only guard against misuse. */
static wasmplug_status extern_type(const wasmplug_module *m, wasmplug_extern_kind kind,
                                   uint32_t index, wasmplug_externtype *type)
{
    memset(type, 0, sizeof *type);
    type->kind = kind;
    switch (kind) {
    case WASMPLUG_EXTERN_FUNC: {
        if (index >= m->nfuncs || m->funcs[index].type_index >= m->ntypes)
            return WASMPLUG_ERR_ARGUMENT;
        const wp_functype *t = &m->types[m->funcs[index].type_index];
        type->of.func.param_count = t->nparams;
        type->of.func.result_count = t->nresults;
        type->of.func.params = wp_functype_params(t);
        type->of.func.results = wp_functype_results(t);
        return WASMPLUG_OK;
    }
    case WASMPLUG_EXTERN_TABLE:
        if (index >= m->ntables)
            return WASMPLUG_ERR_ARGUMENT;
        type->of.table.elem = m->tables[index].elem;
        type->of.table.limits = limits_out(m->tables[index].limits);
        return WASMPLUG_OK;
    case WASMPLUG_EXTERN_MEMORY:
        if (index >= m->nmemories)
            return WASMPLUG_ERR_ARGUMENT;
        type->of.memory = limits_out(m->memories[index].limits);
        return WASMPLUG_OK;
    case WASMPLUG_EXTERN_GLOBAL:
        if (index >= m->nglobals)
            return WASMPLUG_ERR_ARGUMENT;
        type->of.global.type = m->globals[index].type;
        type->of.global.mutable_ = m->globals[index].mutable_;
        return WASMPLUG_OK;
    }
    return WASMPLUG_ERR_ARGUMENT;
}

uint32_t wasmplug_module_import_count(const wasmplug_module *module)
{
    return module ? module->nimports : 0;
}

wasmplug_status wasmplug_module_import(const wasmplug_module *module, uint32_t i,
                                       const char **module_name, size_t *module_len,
                                       const char **name, size_t *name_len,
                                       wasmplug_externtype *type)
{
    if (!module || i >= module->nimports)
        return WASMPLUG_ERR_ARGUMENT;
    const wp_import *imp = &module->imports[i];
    if (module_name)
        *module_name = imp->module.str;
    if (module_len)
        *module_len = imp->module.len;
    if (name)
        *name = imp->name.str;
    if (name_len)
        *name_len = imp->name.len;
    if (type)
        return extern_type(module, imp->kind, imp->index, type);
    return WASMPLUG_OK;
}

uint32_t wasmplug_module_export_count(const wasmplug_module *module)
{
    return module ? module->nexports : 0;
}

wasmplug_status wasmplug_module_export(const wasmplug_module *module, uint32_t i,
                                       const char **name, size_t *name_len,
                                       wasmplug_externtype *type)
{
    if (!module || i >= module->nexports)
        return WASMPLUG_ERR_ARGUMENT;
    const wp_export *e = &module->exports[i];
    if (name)
        *name = e->name.str;
    if (name_len)
        *name_len = e->name.len;
    if (type)
        return extern_type(module, e->kind, e->index, type);
    return WASMPLUG_OK;
}

const char *wasmplug_module_func_name(const wasmplug_module *module, uint32_t func_index)
{
    if (!module || !module->func_names || func_index >= module->nfuncs)
        return NULL;
    return module->func_names[func_index];
}

wasmplug_status wasmplug_module_custom_section(const wasmplug_module *module, const char *name,
                                               const uint8_t **data, size_t *size)
{
    if (!module || !name)
        return WASMPLUG_ERR_ARGUMENT;
    size_t len = strlen(name);
    for (uint32_t i = 0; i < module->ncustoms; i++) {
        const wp_custom *c = &module->customs[i];
        if (c->name.len == len && memcmp(c->name.str, name, len) == 0) {
            if (data)
                *data = c->data;
            if (size)
                *size = c->size;
            return WASMPLUG_OK;
        }
    }
    return WASMPLUG_ERR_NOT_FOUND;
}

uint32_t wasmplug_module_features(const wasmplug_module *module)
{
    return module ? module->features : 0;
}

const char *wasmplug_feature_name(wasmplug_feature feature)
{
    switch (feature) {
    case WASMPLUG_FEATURE_SIGN_EXT: return "sign-extension";
    case WASMPLUG_FEATURE_SAT_CONV: return "non-trapping float-to-int";
    case WASMPLUG_FEATURE_MULTI_VALUE: return "multi-value";
    case WASMPLUG_FEATURE_BULK_MEMORY: return "bulk memory";
    case WASMPLUG_FEATURE_REFERENCE_TYPES: return "reference types";
    case WASMPLUG_FEATURE_MUTABLE_GLOBALS: return "mutable globals";
    case WASMPLUG_FEATURE_SIMD: return "fixed-width SIMD";
    }
    return "unknown feature";
}

wasmplug_status wasmplug_binary_next_section(const uint8_t *bytes, size_t size, size_t *cursor,
                                             wasmplug_section *section, wasmplug_error *err)
{
    if (!bytes || !cursor || !section)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_binary_next_section: bytes, cursor and section are required");
    if (*cursor == 0) {
        if (size < 8 || memcmp(bytes, "\0asm", 4) != 0)
            return wp_error(err, WASMPLUG_ERR_MALFORMED, 0, "magic header not detected");
        *cursor = 8;
    }
    if (*cursor >= size)
        return WASMPLUG_ERR_NOT_FOUND;
    wp_reader r = {bytes, bytes + *cursor, bytes + size, NULL, NULL};
    uint8_t id;
    uint32_t len;
    const uint8_t *content;
    if (!wp_read_u8(&r, &id) || !wp_read_u32(&r, &len) || !wp_read_bytes(&r, len, &content))
        return wp_error(err, WASMPLUG_ERR_MALFORMED, (uint64_t)(r.error_at - bytes),
                        "%s (section at offset %zu)", r.error, *cursor);
    memset(section, 0, sizeof *section);
    section->id = id;
    section->offset = *cursor;
    section->content = section->payload = content;
    section->content_size = section->payload_size = len;
    if (id == 0) {
        wp_reader nr = {bytes, content, content + len, NULL, NULL};
        uint32_t name_len;
        const uint8_t *name;
        if (!wp_read_u32(&nr, &name_len) || !wp_read_bytes(&nr, name_len, &name))
            return wp_error(err, WASMPLUG_ERR_MALFORMED, (uint64_t)(nr.error_at - bytes),
                            "%s (custom section name at offset %zu)", nr.error, *cursor);
        section->name = (const char *)name;
        section->name_len = name_len;
        section->payload = nr.p;
        section->payload_size = (size_t)(nr.end - nr.p);
    }
    *cursor = (size_t)(r.p - bytes);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_binary_custom_section(const uint8_t *bytes, size_t size,
                                               const char *name, const uint8_t **data,
                                               size_t *data_size)
{
    if (!bytes || !name || !data || !data_size)
        return WASMPLUG_ERR_ARGUMENT;
    size_t cursor = 0, want = strlen(name);
    wasmplug_section s;
    wasmplug_status st;
    while ((st = wasmplug_binary_next_section(bytes, size, &cursor, &s, NULL)) == WASMPLUG_OK) {
        if (s.id == 0 && s.name_len == want && memcmp(s.name, name, want) == 0) {
            *data = s.payload;
            *data_size = s.payload_size;
            return WASMPLUG_OK;
        }
    }
    return st;
}
