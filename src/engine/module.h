/*
 * module.h - the in-memory form of a decoded, validated and compiled module.
 *
 * Pipeline: decode.c fills a wp_module from the binary (sections, types,
 * imports, exports, segments, names; function bodies kept as byte ranges),
 * then compile.c validates every constant expression and function body and
 * translates each body into the interpreter's code (ops.h). Once
 * wasmplug_module_new returns, the module is immutable and shared by all its
 * instances and threads.
 *
 * Index spaces (functions, tables, memories, globals) start with the imports,
 * as in the spec: funcs[0..num_imported_funcs) are imports.
 */
#ifndef WP_MODULE_H
#define WP_MODULE_H

#include "wasmplug/engine.h"
#include "ops.h"
#include "util.h"

#include <stdatomic.h>

/* A name from the binary: NUL-terminated copy owned by the module; len may be
 * shorter than strlen would say when the name contains U+0000. */
typedef struct wp_name {
    const char *str;
    uint32_t len;
} wp_name;

/* A function type. types[0..nparams) are the params, then the results. */
typedef struct wp_functype {
    uint32_t nparams;
    uint32_t nresults;
    wasmplug_valtype *types;
    uint32_t pslots, rslots; /* frame slots of the params / results (a v128 takes two) */
} wp_functype;

/* Frame slots a value of type t occupies: 2 for v128, else 1. */
static inline uint32_t wp_valtype_slots(wasmplug_valtype t) { return t == WASMPLUG_V128 ? 2u : 1u; }
/* Slots of n value types given as bytes (binary) or as wasmplug_valtype. */
static inline uint32_t wp_valtypes_slots(const uint8_t *types, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += wp_valtype_slots((wasmplug_valtype)types[i]);
    return s;
}
static inline uint32_t wp_types_slots(const wasmplug_valtype *types, uint32_t n)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i < n; i++)
        s += wp_valtype_slots(types[i]);
    return s;
}

static inline const wasmplug_valtype *wp_functype_params(const wp_functype *t) { return t->types; }
static inline const wasmplug_valtype *wp_functype_results(const wp_functype *t) { return t->types + t->nparams; }
/* Structural equality (the spec's function type matching). */
WP_INTERNAL bool wp_functype_equal(const wp_functype *a, const wp_functype *b);

typedef struct wp_limits {
    uint32_t min;
    uint32_t max;
    bool has_max;
} wp_limits;

/* Constant expression (WebAssembly 2.0: one constant instruction). The
 * decoder parses it and fills every field; validation (compile.c) checks the
 * type, index and mutability against the module. */
enum wp_constexpr_kind {
    WP_CONST_VALUE = 0, /* value: i32/i64/f32/f64 const or ref.null (NULL ref) */
    WP_CONST_GLOBAL,    /* global.get index */
    WP_CONST_FUNC       /* ref.func index */
};
typedef struct wp_constexpr {
    uint32_t offset;       /* byte range in the binary, `end` included; size 0 when
                              synthesized (element segments given as function indices) */
    uint32_t size;
    uint8_t kind;          /* enum wp_constexpr_kind */
    wasmplug_valtype type; /* result type, set by validation */
    uint32_t index;
    wasmplug_slot value;
    wasmplug_slot value_hi; /* v128.const: the high 8 bytes */
} wp_constexpr;

typedef struct wp_import {
    wp_name module;
    wp_name name;
    wasmplug_extern_kind kind;
    uint32_t index;        /* index in the kind's index space */
    uint32_t offset;       /* byte offset of the import entry, for link errors */
} wp_import;

typedef struct wp_export {
    wp_name name;
    wasmplug_extern_kind kind;
    uint32_t index;
    uint32_t offset;       /* byte offset of the entry, for validation errors */
} wp_export;

/* Compiled code of one defined function (filled by compile.c). */
typedef struct wp_code {
    wp_cell *cells;        /* the instruction stream (ops.h) */
    uint32_t ncells;
    uint32_t nparams;
    uint32_t nlocals;      /* declared locals, not counting params */
    uint32_t nresults;
    uint32_t frame_size;   /* slots: params + locals + deepest operand stack,
                              and at least nresults */
    uint32_t func_index;   /* index in the function space */
    _Atomic uint8_t fault_class; /* bounds.c: 0 not known yet, 1 cannot fault on a
                                    guard page, 2 may (loads, stores or calls) */
} wp_code;

typedef struct wp_func {
    uint32_t type_index;
    bool imported;
    uint32_t offset;       /* byte offset of the type index (function or import section) */
    /* defined functions only: */
    uint32_t body_offset;  /* byte range of the body (locals + expr), from the code section */
    uint32_t body_size;
    wp_code code;
} wp_func;

typedef struct wp_table {
    wasmplug_valtype elem;
    wp_limits limits;
    bool imported;
    uint32_t offset;       /* byte offset of the table type */
} wp_table;

typedef struct wp_memory {
    wp_limits limits;
    bool imported;
    uint32_t offset;       /* byte offset of the memory type */
} wp_memory;

typedef struct wp_global {
    wasmplug_valtype type;
    bool mutable_;
    bool imported;
    uint32_t offset;       /* byte offset of the global type */
    wp_constexpr init;     /* defined globals only */
} wp_global;

enum wp_segment_mode { WP_SEGMENT_ACTIVE = 0, WP_SEGMENT_PASSIVE, WP_SEGMENT_DECLARATIVE };

typedef struct wp_elem {
    uint8_t mode;          /* enum wp_segment_mode */
    uint32_t table;        /* active only */
    wp_constexpr offset;   /* active only */
    wasmplug_valtype type; /* funcref or externref */
    uint32_t count;
    wp_constexpr *items;   /* count items: ref.func / ref.null / global.get */
    uint32_t entry_offset; /* byte offset of the segment, for errors */
} wp_elem;

typedef struct wp_data {
    uint8_t mode;          /* ACTIVE or PASSIVE */
    uint32_t memory;       /* active only */
    wp_constexpr offset;   /* active only */
    const uint8_t *bytes;  /* points into the module's copy of the binary */
    uint32_t size;
    uint32_t entry_offset;
} wp_data;

typedef struct wp_custom {
    wp_name name;
    const uint8_t *data;   /* into the module's copy of the binary */
    uint32_t size;
    uint32_t offset;
} wp_custom;

/* Features a module uses: the public wasmplug_feature bits. */
enum wp_feature {
    WP_FEATURE_SIGN_EXT = WASMPLUG_FEATURE_SIGN_EXT,
    WP_FEATURE_SAT_CONV = WASMPLUG_FEATURE_SAT_CONV,
    WP_FEATURE_MULTI_VALUE = WASMPLUG_FEATURE_MULTI_VALUE,
    WP_FEATURE_BULK_MEMORY = WASMPLUG_FEATURE_BULK_MEMORY,
    WP_FEATURE_REFERENCE_TYPES = WASMPLUG_FEATURE_REFERENCE_TYPES,
    WP_FEATURE_MUTABLE_GLOBALS = WASMPLUG_FEATURE_MUTABLE_GLOBALS,
    WP_FEATURE_SIMD = WASMPLUG_FEATURE_SIMD
};

struct wasmplug_module {
    atomic_uint refcount;
    wasmplug_engine *engine;

    uint8_t *bytes;        /* owned copy of the binary */
    size_t size;

    wp_functype *types;    uint32_t ntypes;
    wp_import *imports;    uint32_t nimports;
    wp_func *funcs;        uint32_t nfuncs;   uint32_t num_imported_funcs;
    wp_table *tables;      uint32_t ntables;  uint32_t num_imported_tables;
    wp_memory *memories;   uint32_t nmemories; uint32_t num_imported_memories;
    wp_global *globals;    uint32_t nglobals; uint32_t num_imported_globals;
    wp_export *exports;    uint32_t nexports;
    wp_elem *elems;        uint32_t nelems;
    wp_data *datas;        uint32_t ndatas;
    wp_custom *customs;    uint32_t ncustoms;

    bool has_start;        uint32_t start;    uint32_t start_offset;
    bool has_datacount;    uint32_t datacount;

    /* Functions whose index appears in ref.func outside function bodies (in
     * globals, exports, element segments): the only ones ref.func may name
     * inside bodies. Indexed by function index. */
    bool *func_declared;

    /* Name section (absent names are NULL). */
    const char *module_name;
    const char **func_names; /* nfuncs entries, or NULL when no function names */

    uint32_t features;       /* enum wp_feature bits */
    wp_arena arena;          /* names, type arrays, segment items, compiled code */

    /* bounds.c: the code with explicit bounds checks (one wp_code per
     * defined function, then their cells, in one block of checked_bytes),
     * made on first need by a guard-mode engine; NULL until then. */
    _Atomic(wp_code *) checked_code;
    size_t checked_bytes;

    /* aot.c: native code attached (wasmplug_module_attach_native), or NULL. */
    _Atomic(struct wp_aot *) aot;
    _Atomic(struct wp_aot_job *) aot_job; /* a background compile, made on first use */
};

/* api.c: how the engine checks memory accesses (GUARD_PAGES or EXPLICIT),
 * which decides the load/store operations the compiler emits. */
WP_INTERNAL wasmplug_bounds_mode wp_engine_bounds(const wasmplug_engine *e);

/* serialize.c: the checksum over a serialized module's payload (the tests
 * use it to forge damaged entries that reach the structural checks). */
WP_INTERNAL uint64_t wp_serialized_checksum(const uint8_t *p, size_t n);

/* decode.c: parse the binary (already copied into m->bytes) into m. Returns
 * WASMPLUG_ERR_MALFORMED / ERR_UNSUPPORTED / ERR_NOMEM with err filled. */
WP_INTERNAL wasmplug_status wp_decode(wasmplug_module *m, wasmplug_error *err);
/* compile.c: validate constant expressions, segments, exports, the start
 * function and every function body, and compile the bodies. */
WP_INTERNAL wasmplug_status wp_validate_and_compile(wasmplug_module *m, wasmplug_error *err);
/* bounds.c: free the explicit-check copy of the code, if one was made. */
WP_INTERNAL void wp_module_free_checked_code(wasmplug_module *m);
/* Free what wp_decode and wp_validate_and_compile allocated (not m itself). */
WP_INTERNAL void wp_module_release_contents(wasmplug_module *m);
/* module.c: reference counting (instances retain their module); the last
 * release frees the module. */
WP_INTERNAL void wp_module_retain(wasmplug_module *m);
WP_INTERNAL void wp_module_release(wasmplug_module *m);

#endif
