/*
 * bindgen.c - Rust plugins built with wasm-bindgen, loaded as rustc writes
 * them (no wasm-bindgen CLI, no JavaScript; docs/ABI.md "wasm-bindgen
 * plugins"): the imports of __wbindgen_placeholder__ that make sense
 * outside a browser, stubs for the rest, the function signatures read by
 * running each __wbindgen_describe_<name> export and decoding its
 * descriptor (the codes of wasm-bindgen's src/describe.rs, 0.2.x), init at
 * instance setup, and calls with numbers, booleans and strings.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESCRIBE_PREFIX "__wbindgen_describe_"
#define DESCRIBE_MAX_WORDS 4096u /* a descriptor longer than this is refused */

/* Descriptor codes (wasm-bindgen src/describe.rs, in order from 0). */
enum {
    D_I8, D_U8, D_I16, D_U16, D_I32, D_U32, D_I64, D_U64, D_F32, D_F64, D_BOOLEAN,
    D_FUNCTION, D_CLOSURE, D_CACHED_STRING, D_STRING, D_REF, D_REFMUT, D_SLICE, D_VECTOR,
    D_EXTERNREF, D_NAMED_EXTERNREF, D_ENUM, D_RUST_STRUCT, D_CHAR, D_OPTIONAL, D_RESULT,
    D_UNIT, D_CLAMPED
};

/* The words a describe function reports, in order. */
typedef struct wph_words {
    uint32_t *w;
    size_t n, cap;
    bool overflow;
} wph_words;

typedef struct bg_func {
    char *name;
    wasmplug_bindgen_sig sig;
    bool unsupported;           /* a type needing JavaScript, or too many parameters */
} bg_func;

struct wph_bindgen {
    bg_func *funcs;
    size_t count;
};

const char *wasmplug_bindgen_type_name(wasmplug_bindgen_type t)
{
    static const char *const names[] = {"(unsupported)", "()",  "bool", "i8",  "u8",  "i16",
                                        "u16",           "i32", "u32",  "i64", "u64", "f32",
                                        "f64",           "char", "&str", "String"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "(unknown)";
}

/* ------------------------------------------------------------------------ */
/* Imports                                                                  */
/* ------------------------------------------------------------------------ */

bool wph_bindgen_module(const char *mod, size_t len)
{
    return (len == 24 && memcmp(mod, "__wbindgen_placeholder__", 24) == 0) ||
           (len == 28 && memcmp(mod, "__wbindgen_externref_xform__", 28) == 0);
}

/* __wbindgen_describe(u32): one word of the descriptor being read. */
static int bg_describe(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    wph_slot *s = wph_caller_slot(caller);
    if (!s || !s->describe)
        return wph_trap(caller, s, WASMPLUG_ERR_ABI, WASMPLUG_TRAP_HOST_ERROR,
                        "__wbindgen_describe",
                        "__wbindgen_describe called outside a __wbindgen_describe_* export");
    wph_words *d = s->describe;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 32;
        uint32_t *w = cap <= DESCRIBE_MAX_WORDS ? realloc(d->w, cap * sizeof *w) : NULL;
        if (!w) {
            d->overflow = true;
            return 0;
        }
        d->w = w;
        d->cap = cap;
    }
    d->w[d->n++] = slots[0].u32;
    return 0;
}

/* __wbindgen_throw(ptr, len): wasm_bindgen::throw_str, a trap with the message. */
static int bg_throw(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    wph_slot *s = wph_caller_slot(caller);
    uint32_t addr = slots[0].u32, len = slots[1].u32;
    const uint8_t *msg = wph_mem_range(wasmplug_caller_instance(caller), addr, len);
    if (s)
        s->host_calls++;
    if (!msg)
        return wph_trap(caller, s, WASMPLUG_ERR_OUT_OF_BOUNDS,
                        WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS, "__wbindgen_throw",
                        "__wbindgen_throw: message (address %u, length %u) is outside the "
                        "plugin's memory",
                        addr, len);
    return wph_trap(caller, s, WASMPLUG_ERR_TRAP, WASMPLUG_TRAP_HOST_ERROR, "__wbindgen_throw",
                    "the plugin threw: %.*s", (int)(len > 200 ? 200 : len), (const char *)msg);
}

/* Any other wasm-bindgen import: what it does exists only in JavaScript. */
static int bg_needs_js(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)slots;
    const char *full = user;
    wph_slot *s = wph_caller_slot(caller);
    if (s)
        s->host_calls++;
    return wph_trap(caller, s, WASMPLUG_ERR_UNSUPPORTED, WASMPLUG_TRAP_HOST_ERROR, full,
                    "%s needs JavaScript (a wasm-bindgen import only a JavaScript host "
                    "provides: JsValue, closures, web APIs); wasmplug runs wasm-bindgen plugins "
                    "without JavaScript",
                    full);
}

static bool type_is(const wasmplug_functype *t, uint32_t nparams, uint32_t nresults)
{
    if (t->param_count != nparams || t->result_count != nresults)
        return false;
    for (uint32_t i = 0; i < nparams; i++)
        if (t->params[i] != WASMPLUG_I32)
            return false;
    return true;
}

wasmplug_status wph_bindgen_link(wasmplug_plugin *p, const char *name, size_t namelen,
                                 const char *full, const wasmplug_functype *type,
                                 wasmplug_extern *slot, wasmplug_plugin_error *err)
{
    wasmplug_host_fn fn = bg_needs_js;
    void *info = NULL;
    bool describe = namelen == 19 && memcmp(name, "__wbindgen_describe", 19) == 0;
    bool throw_ = namelen == 16 && memcmp(name, "__wbindgen_throw", 16) == 0;
    if ((describe && !type_is(type, 1, 0)) || (throw_ && !type_is(type, 2, 0)))
        return wph_fail(err, WASMPLUG_ERR_LINK, WASMPLUG_PHASE_LOAD, p->name, full,
                        "import %s must have type (i32%s) -> ()", full, throw_ ? ", i32" : "");
    if (describe)
        fn = bg_describe;
    else if (throw_)
        fn = bg_throw;
    else if (!(info = wph_strdup(full)))
        return wph_fail(err, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_LOAD, p->name, full,
                        "out of memory");
    wasmplug_status st = wph_own_func(p, type, fn, info, &slot->of.func);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, WASMPLUG_PHASE_LOAD, p->name, full, "cannot link %s", full);
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Descriptors                                                              */
/* ------------------------------------------------------------------------ */

typedef struct dreader {
    const uint32_t *w;
    size_t n, at;
    bool bad; /* ran past the end or met what it cannot skip */
} dreader;

static uint32_t next_word(dreader *r)
{
    if (r->at >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->w[r->at++];
}

static wasmplug_bindgen_type read_type(dreader *r, unsigned depth);

/* A function descriptor after its FUNCTION code: shim, arguments, result
 * and inner result. Fills sig (false: a type needs JavaScript). */
static bool read_function(dreader *r, unsigned depth, wasmplug_bindgen_sig *sig)
{
    bool ok = true;
    (void)next_word(r); /* shim index */
    uint32_t nargs = next_word(r);
    if (nargs > DESCRIBE_MAX_WORDS) {
        r->bad = true;
        return false;
    }
    sig->param_count = nargs;
    for (uint32_t i = 0; i < nargs && !r->bad; i++) {
        wasmplug_bindgen_type t = read_type(r, depth + 1);
        if (i < WASMPLUG_BINDGEN_PARAMS_MAX)
            sig->params[i] = t;
        ok = ok && i < WASMPLUG_BINDGEN_PARAMS_MAX && t != WASMPLUG_BINDGEN_UNSUPPORTED &&
             t != WASMPLUG_BINDGEN_UNIT;
    }
    sig->result = read_type(r, depth + 1);
    (void)read_type(r, depth + 1); /* the inner result (of a Result<T, E>) */
    return ok && sig->result != WASMPLUG_BINDGEN_UNSUPPORTED && sig->result != WASMPLUG_BINDGEN_STR;
}

static void skip_name(dreader *r)
{
    uint32_t len = next_word(r);
    if (len > r->n - (r->at < r->n ? r->at : r->n))
        r->bad = true;
    else
        r->at += len;
}

/* Read one type; UNSUPPORTED for the kinds that need JavaScript. */
static wasmplug_bindgen_type read_type(dreader *r, unsigned depth)
{
    static const wasmplug_bindgen_type simple[] = {
        [D_I8] = WASMPLUG_BINDGEN_I8,         [D_U8] = WASMPLUG_BINDGEN_U8,
        [D_I16] = WASMPLUG_BINDGEN_I16,       [D_U16] = WASMPLUG_BINDGEN_U16,
        [D_I32] = WASMPLUG_BINDGEN_I32,       [D_U32] = WASMPLUG_BINDGEN_U32,
        [D_I64] = WASMPLUG_BINDGEN_I64,       [D_U64] = WASMPLUG_BINDGEN_U64,
        [D_F32] = WASMPLUG_BINDGEN_F32,       [D_F64] = WASMPLUG_BINDGEN_F64,
        [D_BOOLEAN] = WASMPLUG_BINDGEN_BOOL,  [D_CACHED_STRING] = WASMPLUG_BINDGEN_STRING,
        [D_STRING] = WASMPLUG_BINDGEN_STRING, [D_CHAR] = WASMPLUG_BINDGEN_CHAR,
        [D_UNIT] = WASMPLUG_BINDGEN_UNIT,
    };
    if (depth > 32) {
        r->bad = true;
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    }
    uint32_t code = next_word(r);
    if (r->bad)
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    switch (code) {
    case D_REF:
    case D_REFMUT: {
        wasmplug_bindgen_type inner = read_type(r, depth + 1);
        bool str = code == D_REF && inner == WASMPLUG_BINDGEN_STRING;
        return str ? WASMPLUG_BINDGEN_STR : WASMPLUG_BINDGEN_UNSUPPORTED;
    }
    case D_SLICE:
    case D_VECTOR:
    case D_OPTIONAL:
    case D_RESULT:
    case D_CLAMPED:
        (void)read_type(r, depth + 1);
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    case D_NAMED_EXTERNREF:
    case D_RUST_STRUCT:
        skip_name(r);
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    case D_ENUM:
        (void)next_word(r); /* the hole value */
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    case D_FUNCTION: {
        wasmplug_bindgen_sig ignored;
        (void)read_function(r, depth, &ignored);
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    }
    case D_EXTERNREF:
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    default:
        if (code < sizeof simple / sizeof simple[0] && simple[code] != 0)
            return simple[code];
        r->bad = true; /* a closure, or a code this host does not know */
        return WASMPLUG_BINDGEN_UNSUPPORTED;
    }
}

/* Decode one export's descriptor into f (unsupported when it cannot). */
static void decode(const wph_words *d, bg_func *f)
{
    dreader r = {d->w, d->n, 0, d->overflow};
    memset(&f->sig, 0, sizeof f->sig);
    bool ok = !r.bad && next_word(&r) == D_FUNCTION && read_function(&r, 0, &f->sig);
    f->unsupported = !ok || r.bad || r.at != r.n;
}

static void bindgen_free(struct wph_bindgen *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++)
        free(b->funcs[i].name);
    free(b->funcs);
    free(b);
}

void wph_bindgen_free(wasmplug_plugin *p)
{
    bindgen_free(p->bindgen);
    p->bindgen = NULL;
}

/* Run every __wbindgen_describe_<name> whose <name> is an exported function. */
static wasmplug_status read_descriptors(wph_slot *s, struct wph_bindgen **out,
                                        wasmplug_plugin_error *e)
{
    wasmplug_plugin *p = s->plugin;
    struct wph_bindgen *b = calloc(1, sizeof *b);
    if (!b || !(b->funcs = calloc(p->nfunc_exports ? p->nfunc_exports : 1, sizeof *b->funcs))) {
        free(b);
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_INIT, p->name, "", "out of memory");
    }
    size_t plen = strlen(DESCRIBE_PREFIX);
    wasmplug_status st = WASMPLUG_OK;
    for (uint32_t i = 0; i < p->nfunc_exports && st == WASMPLUG_OK; i++) {
        const char *en;
        size_t len;
        wasmplug_externtype et;
        if (wasmplug_module_export(p->module, p->func_exports[i], &en, &len, &et) != WASMPLUG_OK ||
            len <= plen || len >= WASMPLUG_NAME_MAX || memcmp(en, DESCRIBE_PREFIX, plen) != 0 ||
            et.of.func.param_count || et.of.func.result_count)
            continue;
        char describer[WASMPLUG_NAME_MAX];
        memcpy(describer, en, len);
        describer[len] = '\0';
        const char *name = describer + plen;
        wasmplug_func *target = wasmplug_instance_func(s->inst, name);
        wasmplug_func *fn = wasmplug_instance_func(s->inst, describer);
        if (!target || !fn)
            continue; /* describes an import (a JavaScript function) */
        wph_words words = {NULL, 0, 0, false};
        s->describe = &words;
        st = wph_run_func(s, fn, describer, NULL, 0, NULL, 0, e);
        s->describe = NULL;
        bg_func *f = &b->funcs[b->count];
        if (st == WASMPLUG_OK && !(f->name = wph_strdup(name)))
            st = wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_INIT, p->name, "",
                          "out of memory");
        if (st == WASMPLUG_OK) {
            decode(&words, f);
            b->count++;
        }
        free(words.w);
    }
    if (st != WASMPLUG_OK) {
        e->phase = WASMPLUG_PHASE_INIT;
        bindgen_free(b);
        return st;
    }
    *out = b;
    return WASMPLUG_OK;
}

wasmplug_status wph_bindgen_setup(wph_slot *s, wasmplug_plugin_error *e)
{
    wasmplug_plugin *p = s->plugin;
    pthread_mutex_lock(&p->lock);
    bool described = p->bindgen != NULL;
    pthread_mutex_unlock(&p->lock);
    if (!described) {
        struct wph_bindgen *b = NULL;
        wasmplug_status st = read_descriptors(s, &b, e);
        if (st != WASMPLUG_OK)
            return st;
        pthread_mutex_lock(&p->lock);
        if (!p->bindgen) { /* another slot of the pool may have been first */
            p->bindgen = b;
            b = NULL;
        }
        pthread_mutex_unlock(&p->lock);
        bindgen_free(b);
    }
    if (!p->hook_bg_init)
        return WASMPLUG_OK;
    wasmplug_status st = wph_run_func(s, wasmplug_instance_func(s->inst, "init"), "init", NULL,
                                      0, NULL, 0, e);
    if (st != WASMPLUG_OK)
        e->phase = WASMPLUG_PHASE_INIT;
    return st;
}

/* The descriptor of func, or NULL (the descriptors never change once set). */
static const bg_func *find(wasmplug_plugin *p, const char *func)
{
    pthread_mutex_lock(&p->lock);
    struct wph_bindgen *b = p->bindgen;
    pthread_mutex_unlock(&p->lock);
    for (size_t i = 0; b && i < b->count; i++)
        if (!strcmp(b->funcs[i].name, func))
            return &b->funcs[i];
    return NULL;
}

static void sig_string(const char *func, const wasmplug_bindgen_sig *sig, char *buf, size_t size)
{
    size_t at = (size_t)snprintf(buf, size, "%s(", func);
    for (uint32_t i = 0; i < sig->param_count && i < WASMPLUG_BINDGEN_PARAMS_MAX && at < size;
         i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "",
                               wasmplug_bindgen_type_name(sig->params[i]));
    if (at < size)
        snprintf(buf + at, size - at, ") -> %s", wasmplug_bindgen_type_name(sig->result));
}

wasmplug_status wasmplug_plugin_bindgen_signature(wasmplug_plugin *p, const char *func,
                                                  wasmplug_bindgen_sig *sig)
{
    if (!p || !func || !sig)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_plugin *v = wph_version_pin(p);
    wasmplug_status st = WASMPLUG_OK;
    const bg_func *f = NULL;
    if (v->abi != WASMPLUG_ABI_BINDGEN)
        st = WASMPLUG_ERR_ABI;
    else if (!(f = find(v, func))) {
        pthread_mutex_lock(&v->lock);
        bool described = v->bindgen != NULL;
        pthread_mutex_unlock(&v->lock);
        st = described ? WASMPLUG_ERR_NOT_FOUND : WASMPLUG_ERR_PLUGIN_STATE;
    }
    if (f) {
        *sig = f->sig;
        if (f->unsupported)
            st = WASMPLUG_ERR_UNSUPPORTED;
    }
    wph_version_unpin(p, v, false, false);
    return st;
}

void wasmplug_value_clear(wasmplug_value *v)
{
    if (!v)
        return;
    if (v->kind == WASMPLUG_VALUE_STRING)
        free((void *)v->str);
    memset(v, 0, sizeof *v);
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct bg_call {
    const wasmplug_value *args; /* or texts */
    const char *const *texts;
    size_t count;
    wasmplug_value *result;
} bg_call;

static wasmplug_val val_of(wasmplug_valtype t, uint64_t bits)
{
    wasmplug_val v;
    memset(&v, 0, sizeof v);
    v.type = t;
    v.of.u64 = bits;
    return v;
}

/* The wasm type a described type travels as (STR and STRING: two i32). */
static wasmplug_valtype wasm_type(wasmplug_bindgen_type t)
{
    switch (t) {
    case WASMPLUG_BINDGEN_I64:
    case WASMPLUG_BINDGEN_U64: return WASMPLUG_I64;
    case WASMPLUG_BINDGEN_F32: return WASMPLUG_F32;
    case WASMPLUG_BINDGEN_F64: return WASMPLUG_F64;
    default: return WASMPLUG_I32;
    }
}

/* The code point of exactly one UTF-8 character, or -1. */
static int64_t one_char(const unsigned char *s, size_t len)
{
    if (len == 0)
        return -1;
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
               : (s[0] & 0xF8) == 0xF0                  ? 4
                                                         : 0;
    if (n == 0 || n != len)
        return -1;
    uint32_t c = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> n));
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return -1;
    return c;
}

/* A command-line word as a value of type t (false: it does not convert). */
static bool from_text(wasmplug_bindgen_type t, const char *text, wasmplug_value *v)
{
    memset(v, 0, sizeof *v);
    char *end = NULL;
    errno = 0;
    switch (t) {
    case WASMPLUG_BINDGEN_BOOL:
        v->kind = WASMPLUG_VALUE_BOOL;
        v->b = !strcmp(text, "true") || !strcmp(text, "1");
        return v->b || !strcmp(text, "false") || !strcmp(text, "0");
    case WASMPLUG_BINDGEN_F32:
    case WASMPLUG_BINDGEN_F64:
        v->kind = WASMPLUG_VALUE_FLOAT;
        v->f = strtod(text, &end);
        return *text && !*end;
    case WASMPLUG_BINDGEN_STR:
    case WASMPLUG_BINDGEN_STRING:
    case WASMPLUG_BINDGEN_CHAR:
        v->kind = WASMPLUG_VALUE_STRING;
        v->str = text;
        v->len = strlen(text);
        return true;
    default:
        if (t == WASMPLUG_BINDGEN_U64 && *text != '-') {
            /* the full u64 range, beyond INT64_MAX as a float */
            unsigned long long u = strtoull(text, &end, 0);
            v->kind = u > INT64_MAX ? WASMPLUG_VALUE_FLOAT : WASMPLUG_VALUE_INT;
            v->i = u > INT64_MAX ? 0 : (int64_t)u;
            v->f = (double)u;
            return *text && !*end && errno == 0;
        }
        v->kind = WASMPLUG_VALUE_INT;
        v->i = strtoll(text, &end, 0);
        return *text && !*end && errno == 0;
    }
}

/* Convert v to the bits of a parameter of type t; msg says why not. */
static bool to_bits(wasmplug_bindgen_type t, const wasmplug_value *v, uint64_t *bits,
                    char *msg, size_t size)
{
    static const struct { int64_t lo, hi; } range[] = {
        [WASMPLUG_BINDGEN_I8] = {INT8_MIN, INT8_MAX},   [WASMPLUG_BINDGEN_U8] = {0, UINT8_MAX},
        [WASMPLUG_BINDGEN_I16] = {INT16_MIN, INT16_MAX}, [WASMPLUG_BINDGEN_U16] = {0, UINT16_MAX},
        [WASMPLUG_BINDGEN_I32] = {INT32_MIN, INT32_MAX}, [WASMPLUG_BINDGEN_U32] = {0, UINT32_MAX},
        [WASMPLUG_BINDGEN_I64] = {INT64_MIN, INT64_MAX}, [WASMPLUG_BINDGEN_U64] = {0, INT64_MAX},
    };
    const char *tn = wasmplug_bindgen_type_name(t);
    switch (t) {
    case WASMPLUG_BINDGEN_BOOL:
        if (v->kind != WASMPLUG_VALUE_BOOL)
            break;
        *bits = v->b;
        return true;
    case WASMPLUG_BINDGEN_F32:
    case WASMPLUG_BINDGEN_F64: {
        if (v->kind != WASMPLUG_VALUE_FLOAT && v->kind != WASMPLUG_VALUE_INT)
            break;
        double d = v->kind == WASMPLUG_VALUE_INT ? (double)v->i : v->f;
        if (t == WASMPLUG_BINDGEN_F64) {
            memcpy(bits, &d, sizeof d);
        } else {
            float f = (float)d;
            uint32_t u;
            memcpy(&u, &f, sizeof u);
            *bits = u;
        }
        return true;
    }
    case WASMPLUG_BINDGEN_CHAR: {
        int64_t c = v->kind == WASMPLUG_VALUE_STRING
                        ? one_char((const unsigned char *)v->str, v->len)
                        : v->kind == WASMPLUG_VALUE_INT ? v->i : -1;
        if (c < 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
            snprintf(msg, size, "is not one character (char)");
            return false;
        }
        *bits = (uint64_t)c;
        return true;
    }
    case WASMPLUG_BINDGEN_STR:
    case WASMPLUG_BINDGEN_STRING:
        if (v->kind != WASMPLUG_VALUE_STRING || (!v->str && v->len))
            break;
        return true; /* copied into the plugin's memory later */
    default: {
        if (t == WASMPLUG_BINDGEN_U64 && v->kind == WASMPLUG_VALUE_FLOAT && v->f >= 0x1p63 &&
            v->f < 0x1p64 && v->f == floor(v->f)) {
            *bits = (uint64_t)v->f;
            return true;
        }
        int64_t i;
        if (v->kind == WASMPLUG_VALUE_INT)
            i = v->i;
        else if (v->kind == WASMPLUG_VALUE_FLOAT && v->f == floor(v->f) && v->f >= -0x1p63 &&
                 v->f < 0x1p63)
            i = (int64_t)v->f;
        else
            break;
        if (i < range[t].lo || i > range[t].hi) {
            snprintf(msg, size, "%" PRId64 " is out of range for %s", i, tn);
            return false;
        }
        *bits = (uint64_t)i;
        return true;
    }
    }
    static const char *const kinds[] = {"nothing", "a boolean", "an integer", "a number",
                                        "a string"};
    snprintf(msg, size, "is %s, not %s%s", kinds[v->kind <= WASMPLUG_VALUE_STRING ? v->kind : 0],
             t == WASMPLUG_BINDGEN_BOOL ? "a " : "", tn);
    return false;
}

/* Copy len bytes into memory from __wbindgen_malloc: their address. */
static wasmplug_status pass_bytes(wph_slot *s, wasmplug_func *malloc_fn, const char *data,
                                  size_t len, uint32_t *addr, wasmplug_plugin_error *e)
{
    wasmplug_plugin *p = s->plugin;
    if (len > p->limits.max_input_bytes)
        return wph_fail(e, WASMPLUG_ERR_INPUT_TOO_LARGE, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "a string argument of %zu bytes exceeds max_input_bytes (%u)", len,
                        p->limits.max_input_bytes);
    wasmplug_val a = val_of(WASMPLUG_I32, (uint32_t)len), r;
    wasmplug_status st = wph_run_func(s, malloc_fn, "__wbindgen_malloc", &a, 1, &r, 1, e);
    if (st != WASMPLUG_OK)
        return st;
    uint8_t *dst = wph_mem_range(s->inst, r.of.u32, (uint32_t)len);
    if (!dst)
        return wph_fail(e, WASMPLUG_ERR_SERIALIZATION, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "__wbindgen_malloc(%zu) returned address %u, outside the plugin's memory",
                        len, r.of.u32);
    if (len)
        memcpy(dst, data, len);
    *addr = r.of.u32;
    return WASMPLUG_OK;
}

/* Read the String a call left in its return area (ptr, len), then free both. */
static wasmplug_status take_string(wph_slot *s, wasmplug_func *free_fn, uint32_t retptr,
                                   wasmplug_value *out, wasmplug_plugin_error *e)
{
    wasmplug_plugin *p = s->plugin;
    const uint8_t *area = wph_mem_range(s->inst, retptr, 8);
    if (!area)
        return wph_fail(e, WASMPLUG_ERR_SERIALIZATION, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "return area at %u is outside the plugin's memory", retptr);
    uint32_t ptr = (uint32_t)area[0] | (uint32_t)area[1] << 8 | (uint32_t)area[2] << 16 |
                   (uint32_t)area[3] << 24;
    uint32_t len = (uint32_t)area[4] | (uint32_t)area[5] << 8 | (uint32_t)area[6] << 16 |
                   (uint32_t)area[7] << 24;
    if (len > p->limits.max_output_bytes)
        return wph_fail(e, WASMPLUG_ERR_OUTPUT_TOO_LARGE, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "a String result of %u bytes exceeds max_output_bytes (%u)", len,
                        p->limits.max_output_bytes);
    const uint8_t *src = wph_mem_range(s->inst, ptr, len);
    if (!src)
        return wph_fail(e, WASMPLUG_ERR_SERIALIZATION, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "String result (address %u, length %u) is outside the plugin's memory",
                        ptr, len);
    char *copy = malloc((size_t)len + 1);
    if (!copy)
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_CALL, p->name, s->func,
                        "out of memory for a String result of %u bytes", len);
    memcpy(copy, src, len);
    copy[len] = '\0';
    wasmplug_val fa[2] = {val_of(WASMPLUG_I32, ptr), val_of(WASMPLUG_I32, len)};
    wasmplug_status st = wph_run_func(s, free_fn, "__wbindgen_free", fa, 2, NULL, 0, e);
    if (st == WASMPLUG_OK) {
        fa[0] = val_of(WASMPLUG_I32, retptr);
        fa[1] = val_of(WASMPLUG_I32, 8);
        st = wph_run_func(s, free_fn, "__wbindgen_free", fa, 2, NULL, 0, e);
    }
    if (st != WASMPLUG_OK) {
        free(copy);
        return st;
    }
    out->kind = WASMPLUG_VALUE_STRING;
    out->str = copy;
    out->len = len;
    return WASMPLUG_OK;
}

static void from_bits(wasmplug_bindgen_type t, const wasmplug_val *r, wasmplug_value *out)
{
    memset(out, 0, sizeof *out);
    switch (t) {
    case WASMPLUG_BINDGEN_UNIT: return;
    case WASMPLUG_BINDGEN_BOOL:
        out->kind = WASMPLUG_VALUE_BOOL;
        out->b = r->of.u32 != 0;
        return;
    case WASMPLUG_BINDGEN_F32:
        out->kind = WASMPLUG_VALUE_FLOAT;
        out->f = r->of.f32;
        return;
    case WASMPLUG_BINDGEN_F64:
        out->kind = WASMPLUG_VALUE_FLOAT;
        out->f = r->of.f64;
        return;
    case WASMPLUG_BINDGEN_I64:
        out->kind = WASMPLUG_VALUE_INT;
        out->i = r->of.i64;
        return;
    case WASMPLUG_BINDGEN_U64:
        out->kind = r->of.u64 > INT64_MAX ? WASMPLUG_VALUE_FLOAT : WASMPLUG_VALUE_INT;
        out->i = r->of.u64 > INT64_MAX ? 0 : (int64_t)r->of.u64;
        out->f = (double)r->of.u64;
        return;
    case WASMPLUG_BINDGEN_U8: out->i = (uint8_t)r->of.u32; break;
    case WASMPLUG_BINDGEN_U16: out->i = (uint16_t)r->of.u32; break;
    case WASMPLUG_BINDGEN_U32:
    case WASMPLUG_BINDGEN_CHAR: out->i = r->of.u32; break;
    case WASMPLUG_BINDGEN_I8: out->i = (int8_t)r->of.u32; break;
    case WASMPLUG_BINDGEN_I16: out->i = (int16_t)r->of.u32; break;
    default: out->i = r->of.i32; break;
    }
    out->kind = WASMPLUG_VALUE_INT;
}

/* The UTF-8 text of a char result. */
static wasmplug_status char_string(wph_slot *s, int64_t c, wasmplug_value *out,
                                   wasmplug_plugin_error *e)
{
    char *t = malloc(5);
    if (!t)
        return wph_fail(e, WASMPLUG_ERR_NOMEM, WASMPLUG_PHASE_CALL, s->plugin->name, s->func,
                        "out of memory");
    uint32_t u = (uint32_t)c;
    size_t n = u < 0x80 ? 1 : u < 0x800 ? 2 : u < 0x10000 ? 3 : 4;
    static const uint8_t lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    for (size_t i = n - 1; i > 0; i--, u >>= 6)
        t[i] = (char)(0x80 | (u & 0x3F));
    t[0] = (char)(n == 1 ? u : (lead[n] | u));
    t[n] = '\0';
    out->kind = WASMPLUG_VALUE_STRING;
    out->str = t;
    out->len = n;
    return WASMPLUG_OK;
}

static wasmplug_status run_bindgen(wph_slot *s, wasmplug_func *f, void *ctx,
                                   wasmplug_plugin_error *e)
{
    bg_call *c = ctx;
    wasmplug_plugin *p = s->plugin;
    const char *func = s->func;
    char sigtext[512];
    if (p->abi != WASMPLUG_ABI_BINDGEN)
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_CALL, p->name, func,
                        "plugin '%s' is not a wasm-bindgen module: use a typed call", p->name);
    const bg_func *d = find(p, func);
    if (!d)
        return wph_fail(e, WASMPLUG_ERR_NOT_FOUND, WASMPLUG_PHASE_CALL, p->name, func,
                        "'%s' has no wasm-bindgen descriptor (not a #[wasm_bindgen] function)",
                        func);
    const wasmplug_bindgen_sig *sig = &d->sig;
    sig_string(func, sig, sigtext, sizeof sigtext);
    if (d->unsupported)
        return wph_fail(e, WASMPLUG_ERR_UNSUPPORTED, WASMPLUG_PHASE_CALL, p->name, func,
                        "%s: a parameter or result type needs JavaScript (only numbers, bool, "
                        "char, &str and String cross without it)",
                        sigtext);
    if (c->count != sig->param_count)
        return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p->name, func,
                        "%s takes %u argument%s, %zu given", sigtext, sig->param_count,
                        sig->param_count == 1 ? "" : "s", c->count);
    /* Convert every argument before anything runs. */
    wasmplug_value vals[WASMPLUG_BINDGEN_PARAMS_MAX];
    uint64_t bits[WASMPLUG_BINDGEN_PARAMS_MAX];
    bool strings = false;
    for (uint32_t i = 0; i < sig->param_count; i++) {
        char why[160];
        wasmplug_bindgen_type t = sig->params[i];
        if (c->texts && !from_text(t, c->texts[i], &vals[i]))
            return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p->name, func,
                            "argument %u of %s: '%.60s' is not a valid %s", i + 1, sigtext,
                            c->texts[i], wasmplug_bindgen_type_name(t));
        if (!c->texts)
            vals[i] = c->args[i];
        if (!to_bits(t, &vals[i], &bits[i], why, sizeof why))
            return wph_fail(e, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p->name, func,
                            "argument %u of %s %s", i + 1, sigtext, why);
        strings |= t == WASMPLUG_BINDGEN_STR || t == WASMPLUG_BINDGEN_STRING;
    }
    /* The export's wasm type must be what the descriptor implies. */
    bool ret_area = sig->result == WASMPLUG_BINDGEN_STRING;
    wasmplug_val wargs[2 * WASMPLUG_BINDGEN_PARAMS_MAX + 1];
    wasmplug_valtype want[2 * WASMPLUG_BINDGEN_PARAMS_MAX + 1];
    size_t nw = 0;
    if (ret_area)
        want[nw++] = WASMPLUG_I32;
    for (uint32_t i = 0; i < sig->param_count; i++) {
        bool str = sig->params[i] == WASMPLUG_BINDGEN_STR ||
                   sig->params[i] == WASMPLUG_BINDGEN_STRING;
        want[nw++] = wasm_type(sig->params[i]);
        if (str)
            want[nw++] = WASMPLUG_I32;
    }
    uint32_t nres = sig->result == WASMPLUG_BINDGEN_UNIT || ret_area ? 0 : 1;
    wasmplug_valtype rtype = wasm_type(sig->result);
    wasmplug_functype ft = wasmplug_func_type(f);
    bool match = ft.param_count == nw && ft.result_count == nres &&
                 (nres == 0 || ft.results[0] == rtype);
    for (size_t i = 0; match && i < nw; i++)
        match = ft.params[i] == want[i];
    if (!match)
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_CALL, p->name, func,
                        "the wasm type of %s does not match its descriptor %s", func, sigtext);
    wasmplug_func *malloc_fn = wasmplug_instance_func(s->inst, "__wbindgen_malloc");
    wasmplug_func *free_fn = wasmplug_instance_func(s->inst, "__wbindgen_free");
    if ((strings || ret_area) && (!wph_type_is(malloc_fn, "i", "i") ||
                                  (ret_area && !wph_type_is(free_fn, "ii", ""))))
        return wph_fail(e, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_CALL, p->name, func,
                        "%s passes strings but the module lacks __wbindgen_malloc (i32) -> i32 "
                        "or __wbindgen_free (i32, i32)",
                        sigtext);
    wasmplug_status st = WASMPLUG_OK;
    uint32_t retptr = 0;
    nw = 0;
    if (ret_area) {
        /* wasm-bindgen's allocator aligns to 4, as the (ptr, len) area needs. */
        st = pass_bytes(s, malloc_fn, "\0\0\0\0\0\0\0\0", 8, &retptr, e);
        wargs[nw++] = val_of(WASMPLUG_I32, retptr);
    }
    for (uint32_t i = 0; i < sig->param_count && st == WASMPLUG_OK; i++) {
        wasmplug_bindgen_type t = sig->params[i];
        if (t == WASMPLUG_BINDGEN_STR || t == WASMPLUG_BINDGEN_STRING) {
            /* The callee takes the bytes over (its Box<str> or String frees them). */
            uint32_t addr = 0;
            st = pass_bytes(s, malloc_fn, vals[i].str, vals[i].len, &addr, e);
            wargs[nw++] = val_of(WASMPLUG_I32, addr);
            wargs[nw++] = val_of(WASMPLUG_I32, (uint32_t)vals[i].len);
        } else {
            wargs[nw++] = val_of(wasm_type(t), bits[i]);
        }
    }
    wasmplug_val r = val_of(rtype, 0);
    if (st == WASMPLUG_OK)
        st = wph_run_func(s, f, func, wargs, nw, &r, nres, e);
    wasmplug_value out;
    memset(&out, 0, sizeof out);
    if (st == WASMPLUG_OK && ret_area)
        st = take_string(s, free_fn, retptr, &out, e);
    else if (st == WASMPLUG_OK && sig->result == WASMPLUG_BINDGEN_CHAR)
        st = char_string(s, r.of.u32, &out, e);
    else if (st == WASMPLUG_OK)
        from_bits(sig->result, &r, &out);
    if (st == WASMPLUG_OK && c->result)
        *c->result = out;
    else
        wasmplug_value_clear(&out);
    return st;
}

static wasmplug_status bindgen_call(wasmplug_plugin *p, const char *func, bg_call *c,
                                    wasmplug_plugin_error *err)
{
    if (c->result)
        memset(c->result, 0, sizeof *c->result);
    if (!p || !func || (c->count && !c->args && !c->texts))
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p ? p->name : "",
                        func ? func : "", "invalid argument (plugin, func and the arguments "
                                          "are needed)");
    for (size_t i = 0; c->texts && i < c->count; i++)
        if (!c->texts[i])
            return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, p->name, func,
                            "argument %zu is NULL", i + 1);
    return wph_plugin_run(p, func, run_bindgen, c, err);
}

wasmplug_status wasmplug_plugin_bindgen_call(wasmplug_plugin *p, const char *func,
                                             const wasmplug_value *args, size_t arg_count,
                                             wasmplug_value *result, wasmplug_plugin_error *err)
{
    bg_call c = {args, NULL, arg_count, result};
    return bindgen_call(p, func, &c, err);
}

wasmplug_status wasmplug_plugin_bindgen_call_text(wasmplug_plugin *p, const char *func,
                                                  const char *const *args, size_t arg_count,
                                                  wasmplug_value *result,
                                                  wasmplug_plugin_error *err)
{
    bg_call c = {NULL, args, arg_count, result};
    return bindgen_call(p, func, &c, err);
}
