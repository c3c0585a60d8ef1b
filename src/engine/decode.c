/*
 * decode.c - the binary-format decoder: turns the module's copy of the
 * binary into the wp_module tables (types, imports, functions, tables,
 * memories, globals, exports, start, segments, custom sections, names).
 *
 * Only binary-format rules are checked here (ERR_MALFORMED, with the spec
 * test suite's wording first in each message so prefix matching works), plus
 * the shape of constant expressions. Everything that needs context (index
 * ranges, types of initializers, limits ranges) is validation: compile.c.
 * Function bodies are kept as byte ranges for the compiler.
 *
 * Robustness: every count is checked against the bytes left before anything
 * is allocated (each element needs at least one byte), so allocations stay
 * proportional to the input size.
 */
#include "module.h"
#include "reader.h"

#include <stdio.h>
#include <string.h>

/* Section ids, and their required order (datacount sits between element
 * and code). */
enum {
    SEC_CUSTOM = 0, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY, SEC_GLOBAL,
    SEC_EXPORT, SEC_START, SEC_ELEMENT, SEC_CODE, SEC_DATA, SEC_DATACOUNT, SEC_TAG
};

static const char *const section_names[] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count",
};

static const uint8_t section_rank[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10};

typedef struct dec {
    wasmplug_module *m;
    wasmplug_error *err;
    wp_reader r;
    const uint8_t *file_end;
    const char *section;      /* name of the section being read, or NULL */
    uint32_t ndefined_funcs;  /* from the function section */
    bool has_code;
    uint32_t ncode;
    const uint8_t *name_section; /* contents of the first "name" custom section */
    const uint8_t *name_section_end;
    uint32_t customs_cap;
    /* First validation error found in a constant expression: reported only
     * if the whole binary turns out to be well-formed (malformed wins). */
    wasmplug_status deferred;
    uint64_t deferred_at;
    const char *deferred_msg;
    const char *deferred_section;
} dec;

#define TRY(x)                                                                             \
    do {                                                                                   \
        wasmplug_status s_ = (x);                                                          \
        if (s_ != WASMPLUG_OK)                                                             \
            return s_;                                                                     \
    } while (0)

static uint64_t off(const dec *d, const uint8_t *at) { return (uint64_t)(at - d->r.base); }

/* Fail with the spec's wording first, then where. */
static wasmplug_status fail(dec *d, wasmplug_status status, const uint8_t *at, const char *msg)
{
    if (d->section)
        return wp_error(d->err, status, off(d, at), "%s (in %s section)", msg, d->section);
    return wp_error(d->err, status, off(d, at), "%s", msg);
}

static wasmplug_status unsupported(dec *d, const uint8_t *at, const char *feature)
{
    return wp_error(d->err, WASMPLUG_ERR_UNSUPPORTED, off(d, at), "unsupported feature: %s",
                    feature);
}

/* Turn a failed read into an error. Running out of bytes inside a section
 * is the spec's "unexpected end of section or function" (which also matches
 * the suite's plain "unexpected end" by prefix); in the header or a section
 * header, plain "unexpected end". */
static wasmplug_status rfail(dec *d)
{
    const char *msg = d->r.error ? d->r.error : "unexpected end";
    const uint8_t *at = d->r.error_at ? d->r.error_at : d->r.p;
    if (d->section && strcmp(msg, "unexpected end") == 0)
        msg = "unexpected end of section or function";
    return fail(d, WASMPLUG_ERR_MALFORMED, at, msg);
}

static wasmplug_status nomem(dec *d)
{
    return wp_error(d->err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory while decoding");
}

static size_t remaining(const dec *d) { return (size_t)(d->r.end - d->r.p); }

/* *out is always written so compilers can see no path reads it unset. */
static wasmplug_status read_u8(dec *d, uint8_t *out)
{
    if (wp_read_u8(&d->r, out))
        return WASMPLUG_OK;
    *out = 0;
    return rfail(d);
}

static wasmplug_status read_u32(dec *d, uint32_t *out)
{
    if (wp_read_u32(&d->r, out))
        return WASMPLUG_OK;
    *out = 0;
    return rfail(d);
}

/* A vector length: each element takes at least one byte, so a count larger
 * than what is left can never be satisfied; fail before allocating. */
static wasmplug_status read_count(dec *d, uint32_t *out)
{
    const uint8_t *at = d->r.p;
    TRY(read_u32(d, out));
    if (*out > remaining(d))
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "unexpected end of section or function");
    return WASMPLUG_OK;
}

/* Arena array of n elements (n may be 0). */
static void *alloc_array(dec *d, size_t n, size_t elem)
{
    if (n != 0 && n > SIZE_MAX / elem)
        return NULL;
    return wp_arena_alloc(&d->m->arena, n * elem);
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF). */
static bool utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1Fu;
            min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0Fu;
            min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07u;
            min = 0x10000;
        } else {
            return false;
        }
        if (len - i - 1 < n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            uint8_t cc = s[i + k];
            if ((cc & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* A name: u32 length, UTF-8 bytes. */
static wasmplug_status read_name(dec *d, wp_name *out)
{
    const uint8_t *at = d->r.p;
    uint32_t len;
    TRY(read_u32(d, &len));
    if (len > remaining(d))
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "length out of bounds");
    const uint8_t *s = d->r.p;
    d->r.p += len;
    if (!utf8_valid(s, len))
        return fail(d, WASMPLUG_ERR_MALFORMED, s, "malformed UTF-8 encoding");
    char *copy = wp_arena_strndup(&d->m->arena, (const char *)s, len);
    if (!copy)
        return nomem(d);
    out->str = copy;
    out->len = len;
    return WASMPLUG_OK;
}

/* Value types are one byte in WebAssembly 2.0; the reference interpreter
 * reads them as 7-bit signed LEB128, hence the "too long" wording. */
static wasmplug_status read_valtype(dec *d, wasmplug_valtype *out)
{
    const uint8_t *at = d->r.p;
    uint8_t b;
    TRY(read_u8(d, &b));
    switch (b) {
    case WASMPLUG_I32:
    case WASMPLUG_I64:
    case WASMPLUG_F32:
    case WASMPLUG_F64:
        break;
    case WASMPLUG_FUNCREF:
    case WASMPLUG_EXTERNREF:
        d->m->features |= WP_FEATURE_REFERENCE_TYPES;
        break;
    case WASMPLUG_V128:
        d->m->features |= WP_FEATURE_SIMD;
        break;
    default:
        if (b & 0x80)
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "integer representation too long");
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed value type");
    }
    *out = (wasmplug_valtype)b;
    return WASMPLUG_OK;
}

static wasmplug_status read_reftype(dec *d, wasmplug_valtype *out)
{
    const uint8_t *at = d->r.p;
    uint8_t b;
    TRY(read_u8(d, &b));
    if (b == WASMPLUG_FUNCREF || b == WASMPLUG_EXTERNREF) {
        if (b == WASMPLUG_EXTERNREF)
            d->m->features |= WP_FEATURE_REFERENCE_TYPES;
        *out = (wasmplug_valtype)b;
        return WASMPLUG_OK;
    }
    if (b & 0x80)
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "integer representation too long");
    return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed reference type");
}

/* Limits. The flags are a 1-bit LEB128 in 2.0; shared (threads) and 64-bit
 * (memory64) forms are recognised to reject them as unsupported. */
static wasmplug_status read_limits(dec *d, wp_limits *out, bool memory)
{
    const uint8_t *at = d->r.p;
    uint8_t flags;
    TRY(read_u8(d, &flags));
    if (flags & 0x80)
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "integer representation too long");
    if (memory && flags == 0x03)
        return unsupported(d, at, "threads (shared memory)");
    if ((memory && flags >= 0x04 && flags <= 0x07) || (!memory && (flags == 0x04 || flags == 0x05)))
        return unsupported(d, at, "memory64");
    if (flags > 1) /* includes 0x02: "shared" without a maximum is malformed even there */
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "integer too large: malformed limits flags");
    out->has_max = flags == 1;
    TRY(read_u32(d, &out->min));
    out->max = 0;
    if (out->has_max)
        TRY(read_u32(d, &out->max));
    return WASMPLUG_OK;
}

static wasmplug_status read_mutability(dec *d, bool *out)
{
    const uint8_t *at = d->r.p;
    uint8_t b;
    TRY(read_u8(d, &b));
    if (b > 1)
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed mutability");
    *out = b == 1;
    return WASMPLUG_OK;
}

/* Opcodes of WebAssembly 2.0 (single byte, plus the 0xFC prefix): used to
 * tell a non-constant instruction (invalid) from a byte that is no
 * instruction at all (malformed). */
static bool known_opcode(uint8_t op)
{
    return op <= 0x05 || (op >= 0x0B && op <= 0x11) || (op >= 0x1A && op <= 0x1C) ||
           (op >= 0x20 && op <= 0x26) || (op >= 0x28 && op <= 0xC4) ||
           (op >= 0xD0 && op <= 0xD2) || op == 0xFC;
}

static void defer_invalid(dec *d, const uint8_t *at, const char *msg)
{
    if (d->deferred == WASMPLUG_OK) {
        d->deferred = WASMPLUG_ERR_INVALID;
        d->deferred_at = off(d, at);
        d->deferred_msg = msg;
        d->deferred_section = d->section;
    }
}

/* A constant expression: exactly one constant instruction, then end. */
static wasmplug_status read_constexpr(dec *d, wp_constexpr *ce)
{
    wasmplug_module *m = d->m;
    const uint8_t *start = d->r.p;
    unsigned n = 0;
    memset(ce, 0, sizeof *ce);
    for (;;) {
        const uint8_t *at = d->r.p;
        uint8_t op;
        TRY(read_u8(d, &op));
        if (op == 0x0B)
            break;
        wp_constexpr c;
        memset(&c, 0, sizeof c);
        c.kind = WP_CONST_VALUE;
        switch (op) {
        case 0x41: {
            int32_t v;
            if (!wp_read_s32(&d->r, &v))
                return rfail(d);
            c.type = WASMPLUG_I32;
            c.value.i32 = v;
            break;
        }
        case 0x42: {
            int64_t v;
            if (!wp_read_s64(&d->r, &v))
                return rfail(d);
            c.type = WASMPLUG_I64;
            c.value.i64 = v;
            break;
        }
        case 0x43: {
            uint32_t bits;
            if (!wp_read_f32_bits(&d->r, &bits))
                return rfail(d);
            c.type = WASMPLUG_F32;
            c.value.f32_bits = bits;
            break;
        }
        case 0x44: {
            uint64_t bits;
            if (!wp_read_f64_bits(&d->r, &bits))
                return rfail(d);
            c.type = WASMPLUG_F64;
            c.value.f64_bits = bits;
            break;
        }
        case 0xD0:
            TRY(read_reftype(d, &c.type));
            c.value.ref = NULL;
            m->features |= WP_FEATURE_REFERENCE_TYPES;
            break;
        case 0xD2:
            TRY(read_u32(d, &c.index));
            c.kind = WP_CONST_FUNC;
            c.type = WASMPLUG_FUNCREF;
            m->features |= WP_FEATURE_REFERENCE_TYPES;
            break;
        case 0x23:
            TRY(read_u32(d, &c.index));
            c.kind = WP_CONST_GLOBAL;
            if (c.index < m->nglobals)
                c.type = m->globals[c.index].type;
            break;
        case 0xFD: {
            uint32_t sub;
            TRY(read_u32(d, &sub));
            if (sub != 12) /* v128.const is the only constant SIMD instruction */
                return fail(d, WASMPLUG_ERR_INVALID, at, "constant expression required");
            if ((size_t)(d->r.end - d->r.p) < 16)
                return fail(d, WASMPLUG_ERR_MALFORMED, d->r.p, "unexpected end");
            c.type = WASMPLUG_V128;
            memcpy(&c.value.u64, d->r.p, 8);
            memcpy(&c.value_hi.u64, d->r.p + 8, 8);
            d->r.p += 16;
            break;
        }
        case 0xFE:
            return unsupported(d, at, "threads (atomics)");
        case 0x12:
        case 0x13:
            return unsupported(d, at, "tail calls");
        case 0x06: case 0x07: case 0x08: case 0x09: case 0x0A: case 0x18: case 0x19:
            return unsupported(d, at, "exception handling");
        default:
            if (!known_opcode(op)) {
                char msg[64];
                snprintf(msg, sizeof msg, "illegal opcode 0x%02x", op);
                return fail(d, WASMPLUG_ERR_MALFORMED, at, msg);
            }
            /* A real instruction we cannot skip without decoding its
             * immediates: report now. */
            return fail(d, WASMPLUG_ERR_INVALID, at, "constant expression required");
        }
        if (n == 0)
            *ce = c;
        n++;
    }
    if (n != 1)
        defer_invalid(d, start, "type mismatch");
    ce->offset = (uint32_t)(start - d->r.base);
    ce->size = (uint32_t)(d->r.p - start);
    return WASMPLUG_OK;
}

/* Grow an index space kept in the arena (imports first, then definitions). */
static void *extend(dec *d, void *old, size_t old_n, size_t add, size_t elem)
{
    if (add > SIZE_MAX - old_n)
        return NULL;
    void *p = alloc_array(d, old_n + add, elem);
    if (p && old_n)
        memcpy(p, old, old_n * elem);
    return p;
}

static wasmplug_status check_space(dec *d, const uint8_t *at, uint32_t have, uint32_t add,
                                   const char *what)
{
    if ((uint64_t)have + add > UINT32_MAX) {
        char msg[64];
        snprintf(msg, sizeof msg, "too many %s", what);
        return fail(d, WASMPLUG_ERR_MALFORMED, at, msg);
    }
    return WASMPLUG_OK;
}

/* ---- sections ---------------------------------------------------------- */

static wasmplug_status sec_type(dec *d)
{
    wasmplug_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->types = alloc_array(d, n, sizeof *m->types);
    if (!m->types)
        return nomem(d);
    m->ntypes = n;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *at = d->r.p;
        uint8_t form;
        TRY(read_u8(d, &form));
        if (form != 0x60) {
            if (form & 0x80)
                return fail(d, WASMPLUG_ERR_MALFORMED, at, "integer representation too long");
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed function type");
        }
        /* Value types are one byte each: read both vectors in place, then copy. */
        uint32_t np, nr;
        TRY(read_count(d, &np));
        const uint8_t *params = d->r.p;
        wasmplug_valtype t;
        for (uint32_t k = 0; k < np; k++)
            TRY(read_valtype(d, &t));
        TRY(read_count(d, &nr));
        const uint8_t *results = d->r.p;
        for (uint32_t k = 0; k < nr; k++)
            TRY(read_valtype(d, &t));
        wp_functype *ft = &m->types[i];
        ft->nparams = np;
        ft->nresults = nr;
        ft->pslots = wp_valtypes_slots(params, np);
        ft->rslots = wp_valtypes_slots(results, nr);
        ft->types = alloc_array(d, (size_t)np + nr, sizeof *ft->types);
        if (!ft->types)
            return nomem(d);
        for (uint32_t k = 0; k < np; k++)
            ft->types[k] = (wasmplug_valtype)params[k];
        for (uint32_t k = 0; k < nr; k++)
            ft->types[np + k] = (wasmplug_valtype)results[k];
        if (nr > 1)
            m->features |= WP_FEATURE_MULTI_VALUE;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_import(dec *d)
{
    wasmplug_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->imports = alloc_array(d, n, sizeof *m->imports);
    /* Upper bounds: every import could be of any kind. */
    m->funcs = alloc_array(d, n, sizeof *m->funcs);
    m->tables = alloc_array(d, n, sizeof *m->tables);
    m->memories = alloc_array(d, n, sizeof *m->memories);
    m->globals = alloc_array(d, n, sizeof *m->globals);
    if (!m->imports || !m->funcs || !m->tables || !m->memories || !m->globals)
        return nomem(d);
    m->nimports = n;
    for (uint32_t i = 0; i < n; i++) {
        wp_import *imp = &m->imports[i];
        imp->offset = (uint32_t)(d->r.p - d->r.base);
        TRY(read_name(d, &imp->module));
        TRY(read_name(d, &imp->name));
        const uint8_t *at = d->r.p;
        uint8_t kind;
        TRY(read_u8(d, &kind));
        switch (kind) {
        case 0x00: {
            wp_func *f = &m->funcs[m->nfuncs];
            f->offset = (uint32_t)wp_reader_offset(&d->r);
            TRY(read_u32(d, &f->type_index));
            f->imported = true;
            imp->index = m->nfuncs++;
            break;
        }
        case 0x01: {
            wp_table *t = &m->tables[m->ntables];
            t->offset = (uint32_t)wp_reader_offset(&d->r);
            TRY(read_reftype(d, &t->elem));
            TRY(read_limits(d, &t->limits, false));
            t->imported = true;
            imp->index = m->ntables++;
            break;
        }
        case 0x02: {
            wp_memory *mem = &m->memories[m->nmemories];
            mem->offset = (uint32_t)wp_reader_offset(&d->r);
            TRY(read_limits(d, &mem->limits, true));
            mem->imported = true;
            imp->index = m->nmemories++;
            break;
        }
        case 0x03: {
            wp_global *g = &m->globals[m->nglobals];
            g->offset = (uint32_t)wp_reader_offset(&d->r);
            TRY(read_valtype(d, &g->type));
            TRY(read_mutability(d, &g->mutable_));
            g->imported = true;
            if (g->mutable_)
                m->features |= WP_FEATURE_MUTABLE_GLOBALS;
            imp->index = m->nglobals++;
            break;
        }
        case 0x04: {
            /* A tag (exception handling) when well-formed; malformed otherwise. */
            uint8_t attr;
            uint32_t typeidx;
            if (wp_read_u8(&d->r, &attr) && attr == 0 && wp_read_u32(&d->r, &typeidx))
                return unsupported(d, at, "exception handling");
            d->r.error = NULL;
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed import kind");
        }
        default:
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed import kind");
        }
        imp->kind = (wasmplug_extern_kind)kind;
    }
    m->num_imported_funcs = m->nfuncs;
    m->num_imported_tables = m->ntables;
    m->num_imported_memories = m->nmemories;
    m->num_imported_globals = m->nglobals;
    return WASMPLUG_OK;
}

static wasmplug_status sec_function(dec *d)
{
    wasmplug_module *m = d->m;
    const uint8_t *at = d->r.p;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(check_space(d, at, m->nfuncs, n, "functions"));
    wp_func *funcs = extend(d, m->funcs, m->nfuncs, n, sizeof *funcs);
    if (!funcs)
        return nomem(d);
    m->funcs = funcs;
    for (uint32_t i = 0; i < n; i++) {
        funcs[m->nfuncs + i].offset = (uint32_t)wp_reader_offset(&d->r);
        TRY(read_u32(d, &funcs[m->nfuncs + i].type_index));
    }
    m->nfuncs += n;
    d->ndefined_funcs = n;
    return WASMPLUG_OK;
}

static wasmplug_status sec_table(dec *d)
{
    wasmplug_module *m = d->m;
    const uint8_t *at = d->r.p;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(check_space(d, at, m->ntables, n, "tables"));
    wp_table *tables = extend(d, m->tables, m->ntables, n, sizeof *tables);
    if (!tables)
        return nomem(d);
    m->tables = tables;
    for (uint32_t i = 0; i < n; i++) {
        wp_table *t = &tables[m->ntables];
        t->offset = (uint32_t)wp_reader_offset(&d->r);
        TRY(read_reftype(d, &t->elem));
        TRY(read_limits(d, &t->limits, false));
        m->ntables++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_memory(dec *d)
{
    wasmplug_module *m = d->m;
    const uint8_t *at = d->r.p;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(check_space(d, at, m->nmemories, n, "memories"));
    wp_memory *mems = extend(d, m->memories, m->nmemories, n, sizeof *mems);
    if (!mems)
        return nomem(d);
    m->memories = mems;
    for (uint32_t i = 0; i < n; i++) {
        mems[m->nmemories].offset = (uint32_t)wp_reader_offset(&d->r);
        TRY(read_limits(d, &mems[m->nmemories].limits, true));
        m->nmemories++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_global(dec *d)
{
    wasmplug_module *m = d->m;
    const uint8_t *at = d->r.p;
    uint32_t n;
    TRY(read_count(d, &n));
    TRY(check_space(d, at, m->nglobals, n, "globals"));
    wp_global *globals = extend(d, m->globals, m->nglobals, n, sizeof *globals);
    if (!globals)
        return nomem(d);
    m->globals = globals;
    for (uint32_t i = 0; i < n; i++) {
        wp_global *g = &globals[m->nglobals];
        g->offset = (uint32_t)wp_reader_offset(&d->r);
        TRY(read_valtype(d, &g->type));
        TRY(read_mutability(d, &g->mutable_));
        /* nglobals is not yet counting g: global.get may only see earlier ones. */
        TRY(read_constexpr(d, &g->init));
        m->nglobals++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_export(dec *d)
{
    wasmplug_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->exports = alloc_array(d, n, sizeof *m->exports);
    if (!m->exports)
        return nomem(d);
    for (uint32_t i = 0; i < n; i++) {
        wp_export *e = &m->exports[i];
        e->offset = (uint32_t)wp_reader_offset(&d->r);
        TRY(read_name(d, &e->name));
        const uint8_t *at = d->r.p;
        uint8_t kind;
        TRY(read_u8(d, &kind));
        if (kind == 0x04)
            return unsupported(d, at, "exception handling");
        if (kind > 0x03)
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed export kind");
        e->kind = (wasmplug_extern_kind)kind;
        TRY(read_u32(d, &e->index));
        m->nexports++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_start(dec *d)
{
    d->m->start_offset = (uint32_t)wp_reader_offset(&d->r);
    TRY(read_u32(d, &d->m->start));
    d->m->has_start = true;
    return WASMPLUG_OK;
}

/* The element kind byte of the legacy forms: only 0x00 (funcref). */
static wasmplug_status read_elemkind(dec *d)
{
    const uint8_t *at = d->r.p;
    uint8_t b;
    TRY(read_u8(d, &b));
    if (b != 0x00)
        return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed elements segment kind");
    return WASMPLUG_OK;
}

static wasmplug_status sec_element(dec *d)
{
    wasmplug_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->elems = alloc_array(d, n, sizeof *m->elems);
    if (!m->elems)
        return nomem(d);
    for (uint32_t i = 0; i < n; i++) {
        wp_elem *e = &m->elems[i];
        const uint8_t *at = d->r.p;
        e->entry_offset = (uint32_t)(at - d->r.base);
        uint32_t flags;
        TRY(read_u32(d, &flags));
        if (flags > 7)
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed elements segment kind");
        /* bit 0: passive or declarative; bit 1: explicit table index (active)
         * or declarative; bit 2: items are expressions with a reftype. */
        bool active = (flags & 1) == 0;
        bool exprs = (flags & 4) != 0;
        e->mode = active ? WP_SEGMENT_ACTIVE
                         : (flags & 2) ? WP_SEGMENT_DECLARATIVE : WP_SEGMENT_PASSIVE;
        if (!active)
            m->features |= WP_FEATURE_BULK_MEMORY;
        e->type = WASMPLUG_FUNCREF;
        if (active) {
            if (flags & 2) {
                TRY(read_u32(d, &e->table));
                if (e->table != 0)
                    m->features |= WP_FEATURE_REFERENCE_TYPES;
            }
            TRY(read_constexpr(d, &e->offset));
        }
        if (flags & 3) { /* forms with an explicit element kind / reftype */
            if (exprs)
                TRY(read_reftype(d, &e->type));
            else
                TRY(read_elemkind(d));
        }
        uint32_t count;
        TRY(read_count(d, &count));
        e->items = alloc_array(d, count, sizeof *e->items);
        if (!e->items)
            return nomem(d);
        for (uint32_t k = 0; k < count; k++) {
            wp_constexpr *it = &e->items[k];
            if (exprs) {
                TRY(read_constexpr(d, it));
            } else {
                TRY(read_u32(d, &it->index));
                it->kind = WP_CONST_FUNC;
                it->type = WASMPLUG_FUNCREF;
            }
        }
        e->count = count;
        m->nelems++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_datacount(dec *d)
{
    TRY(read_u32(d, &d->m->datacount));
    d->m->has_datacount = true;
    d->m->features |= WP_FEATURE_BULK_MEMORY;
    return WASMPLUG_OK;
}

static wasmplug_status sec_code(dec *d)
{
    wasmplug_module *m = d->m;
    const uint8_t *at = d->r.p;
    uint32_t n;
    TRY(read_count(d, &n));
    if (n != d->ndefined_funcs)
        return fail(d, WASMPLUG_ERR_MALFORMED, at,
                    "function and code section have inconsistent lengths");
    for (uint32_t i = 0; i < n; i++) {
        wp_func *f = &m->funcs[m->num_imported_funcs + i];
        uint32_t size;
        TRY(read_u32(d, &size));
        if (size > remaining(d))
            return fail(d, WASMPLUG_ERR_MALFORMED, d->r.p, "unexpected end of section or function");
        f->body_offset = (uint32_t)(d->r.p - d->r.base);
        f->body_size = size;
        d->r.p += size;
    }
    d->has_code = true;
    d->ncode = n;
    return WASMPLUG_OK;
}

static wasmplug_status sec_data(dec *d)
{
    wasmplug_module *m = d->m;
    uint32_t n;
    TRY(read_count(d, &n));
    m->datas = alloc_array(d, n, sizeof *m->datas);
    if (!m->datas)
        return nomem(d);
    for (uint32_t i = 0; i < n; i++) {
        wp_data *seg = &m->datas[i];
        const uint8_t *at = d->r.p;
        seg->entry_offset = (uint32_t)(at - d->r.base);
        uint32_t flags;
        TRY(read_u32(d, &flags));
        if (flags > 2)
            return fail(d, WASMPLUG_ERR_MALFORMED, at, "malformed data segment kind");
        if (flags == 1) {
            seg->mode = WP_SEGMENT_PASSIVE;
            m->features |= WP_FEATURE_BULK_MEMORY;
        } else {
            seg->mode = WP_SEGMENT_ACTIVE;
            if (flags == 2)
                TRY(read_u32(d, &seg->memory));
            TRY(read_constexpr(d, &seg->offset));
        }
        uint32_t size;
        TRY(read_u32(d, &size));
        if (size > remaining(d))
            return fail(d, WASMPLUG_ERR_MALFORMED, d->r.p, "unexpected end of section or function");
        seg->bytes = d->r.p;
        seg->size = size;
        d->r.p += size;
        m->ndatas++;
    }
    return WASMPLUG_OK;
}

static wasmplug_status sec_custom(dec *d, const uint8_t *section_start)
{
    wasmplug_module *m = d->m;
    wp_name name;
    TRY(read_name(d, &name));
    if (m->ncustoms == d->customs_cap) {
        uint32_t cap = d->customs_cap ? d->customs_cap * 2 : 4;
        wp_custom *c = extend(d, m->customs, m->ncustoms, cap - m->ncustoms, sizeof *c);
        if (!c)
            return nomem(d);
        m->customs = c;
        d->customs_cap = cap;
    }
    wp_custom *c = &m->customs[m->ncustoms++];
    c->name = name;
    c->data = d->r.p;
    c->size = (uint32_t)remaining(d);
    c->offset = (uint32_t)(section_start - d->r.base);
    if (!d->name_section && name.len == 4 && memcmp(name.str, "name", 4) == 0) {
        d->name_section = d->r.p;
        d->name_section_end = d->r.end;
    }
    d->r.p = d->r.end; /* contents are not checked */
    return WASMPLUG_OK;
}

/* ---- name section (best effort: never fails the module) ----------------- */

static bool name_read(wp_reader *r, wp_arena *a, const char **out)
{
    uint32_t len;
    const uint8_t *s;
    if (!wp_read_u32(r, &len) || !wp_read_bytes(r, len, &s) || !utf8_valid(s, len))
        return false;
    *out = wp_arena_strndup(a, (const char *)s, len);
    return *out != NULL;
}

static void parse_names(dec *d)
{
    wasmplug_module *m = d->m;
    wp_reader r = {d->r.base, d->name_section, d->name_section_end, NULL, NULL};
    while (!wp_reader_eof(&r)) {
        uint8_t id;
        uint32_t size;
        const uint8_t *body;
        if (!wp_read_u8(&r, &id) || !wp_read_u32(&r, &size) || !wp_read_bytes(&r, size, &body))
            return;
        wp_reader sub = {r.base, body, body + size, NULL, NULL};
        if (id == 0) {
            const char *name;
            if (!m->module_name && name_read(&sub, &m->arena, &name))
                m->module_name = name;
        } else if (id == 1 && !m->func_names) {
            uint32_t count;
            if (!wp_read_u32(&sub, &count) || m->nfuncs == 0)
                continue;
            const char **names = alloc_array(d, m->nfuncs, sizeof *names);
            if (!names)
                return;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t idx;
                const char *name;
                if (!wp_read_u32(&sub, &idx) || !name_read(&sub, &m->arena, &name))
                    break;
                if (idx < m->nfuncs)
                    names[idx] = name;
            }
            m->func_names = names;
        }
    }
}

/* ---- after all sections ------------------------------------------------- */

static void declare(wasmplug_module *m, const wp_constexpr *c)
{
    if (c->kind == WP_CONST_FUNC && c->index < m->nfuncs)
        m->func_declared[c->index] = true;
}

static wasmplug_status finish(dec *d)
{
    wasmplug_module *m = d->m;
    m->func_declared = alloc_array(d, m->nfuncs, sizeof *m->func_declared);
    if (!m->func_declared)
        return nomem(d);
    for (uint32_t i = m->num_imported_globals; i < m->nglobals; i++)
        declare(m, &m->globals[i].init);
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wp_elem *e = &m->elems[i];
        if (e->mode == WP_SEGMENT_ACTIVE)
            declare(m, &e->offset);
        for (uint32_t k = 0; k < e->count; k++)
            declare(m, &e->items[k]);
    }
    for (uint32_t i = 0; i < m->ndatas; i++)
        if (m->datas[i].mode == WP_SEGMENT_ACTIVE)
            declare(m, &m->datas[i].offset);
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wp_export *e = &m->exports[i];
        if (e->kind == WASMPLUG_EXTERN_FUNC && e->index < m->nfuncs)
            m->func_declared[e->index] = true;
        if (e->kind == WASMPLUG_EXTERN_GLOBAL && e->index < m->nglobals &&
            m->globals[e->index].mutable_)
            m->features |= WP_FEATURE_MUTABLE_GLOBALS;
    }
    if (m->ntables > 1)
        m->features |= WP_FEATURE_REFERENCE_TYPES;
    if (d->name_section)
        parse_names(d);
    return WASMPLUG_OK;
}

wasmplug_status wp_decode(wasmplug_module *m, wasmplug_error *err)
{
    static const uint8_t empty[1];
    dec d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.err = err;
    const uint8_t *base = m->bytes ? m->bytes : empty;
    size_t size = m->bytes ? m->size : 0;
    d.r.base = base;
    d.r.p = base;
    d.r.end = base + size;
    d.file_end = d.r.end;

    const uint8_t *magic, *version;
    if (!wp_read_bytes(&d.r, 4, &magic))
        return rfail(&d);
    if (memcmp(magic, "\0asm", 4) != 0)
        return fail(&d, WASMPLUG_ERR_MALFORMED, magic, "magic header not detected");
    if (!wp_read_bytes(&d.r, 4, &version))
        return rfail(&d);
    if (memcmp(version, "\1\0\0\0", 4) != 0)
        return fail(&d, WASMPLUG_ERR_MALFORMED, version, "unknown binary version");

    unsigned last_rank = 0;
    while (!wp_reader_eof(&d.r)) {
        const uint8_t *start = d.r.p;
        uint8_t id;
        TRY(read_u8(&d, &id));
        const uint8_t *size_at = d.r.p;
        uint32_t sec_size;
        TRY(read_u32(&d, &sec_size));
        if (sec_size > remaining(&d))
            return fail(&d, WASMPLUG_ERR_MALFORMED, size_at, "length out of bounds");
        if (id == SEC_TAG && sec_size > 0)
            return unsupported(&d, start, "exception handling");
        if (id > SEC_DATACOUNT)
            return fail(&d, WASMPLUG_ERR_MALFORMED, start, "malformed section id");
        if (id != SEC_CUSTOM) {
            if (section_rank[id] <= last_rank) {
                char msg[96];
                snprintf(msg, sizeof msg, "unexpected content after last section (%s section)",
                         section_names[id]);
                return wp_error(err, WASMPLUG_ERR_MALFORMED, off(&d, start), "%s", msg);
            }
            last_rank = section_rank[id];
        }
        d.section = section_names[id];
        const uint8_t *sec_end = d.r.p + sec_size;
        /* Like the reference interpreter, entries are read up to the end of
         * the file and the section's extent is checked afterwards, so an
         * entry that spills over is reported for what is wrong in it (e.g. a
         * LEB128 too long) or as "section size mismatch". Custom sections
         * are bounded: their contents are the rest of the section. */
        if (id == SEC_CUSTOM)
            d.r.end = sec_end;
        wasmplug_status st = WASMPLUG_OK;
        switch (id) {
        case SEC_CUSTOM: st = sec_custom(&d, start); break;
        case SEC_TYPE: st = sec_type(&d); break;
        case SEC_IMPORT: st = sec_import(&d); break;
        case SEC_FUNCTION: st = sec_function(&d); break;
        case SEC_TABLE: st = sec_table(&d); break;
        case SEC_MEMORY: st = sec_memory(&d); break;
        case SEC_GLOBAL: st = sec_global(&d); break;
        case SEC_EXPORT: st = sec_export(&d); break;
        case SEC_START: st = sec_start(&d); break;
        case SEC_ELEMENT: st = sec_element(&d); break;
        case SEC_CODE: st = sec_code(&d); break;
        case SEC_DATA: st = sec_data(&d); break;
        case SEC_DATACOUNT: st = sec_datacount(&d); break;
        }
        if (st != WASMPLUG_OK)
            return st;
        if (d.r.p != sec_end)
            return fail(&d, WASMPLUG_ERR_MALFORMED, d.r.p < sec_end ? d.r.p : sec_end,
                        "section size mismatch");
        d.section = NULL;
        d.r.end = d.file_end;
    }

    if (d.ndefined_funcs != d.ncode)
        return wp_error(err, WASMPLUG_ERR_MALFORMED, off(&d, d.r.p),
                        "function and code section have inconsistent lengths (%u functions, "
                        "%u bodies)", d.ndefined_funcs, d.ncode);
    if (m->has_datacount && m->datacount != m->ndatas)
        return wp_error(err, WASMPLUG_ERR_MALFORMED, off(&d, d.r.p),
                        "data count and data section have inconsistent lengths (%u declared, "
                        "%u segments)", m->datacount, m->ndatas);
    if (d.deferred != WASMPLUG_OK)
        return wp_error(err, d.deferred, d.deferred_at, "%s (in %s section)", d.deferred_msg,
                        d.deferred_section ? d.deferred_section : "?");
    return finish(&d);
}
