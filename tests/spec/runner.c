/*
 * runner.c - wasmplug-spectest: runs the official WebAssembly spec test
 * suite, as converted by wabt's wast2json, against the engine.
 *
 *   wasmplug-spectest [--bounds auto|guard|explicit] [--fuel N] [--no-fork]
 *                     [--timeout SECONDS] [-v] FILE.json [FILE.json...]
 *
 * Every command type of wast2json's output is handled: module, register,
 * action, assert_return, assert_trap, assert_exhaustion, assert_invalid,
 * assert_malformed, assert_unlinkable, assert_uninstantiable. Modules in text
 * form (module_type "text") are counted as skipped, as are modules the
 * engine rejects as unsupported (and the commands that use them). v128
 * values are given lane by lane ("lane_type" and one string per lane; float
 * lanes may be nan:canonical / nan:arithmetic).
 *
 * Output: one line per failure (file:line: command: expected ..., got ...),
 * then "file.json: P passed, F failed, S skipped" per file and, for several
 * files, the total "P passed, F failed, S skipped". Each file runs in a
 * child process (unless --no-fork) so that a crash or hang in one file is
 * reported as a failure of that file and the others still run. The exit
 * status is 1 when anything failed.
 *
 * Values in the JSON are the unsigned decimal bit patterns; externref N is
 * the host pointer (void *)(uintptr_t)(N + 1), so that ref.extern 0 is not
 * null.
 */
#define _POSIX_C_SOURCE 200809L /* fork, pipe, strdup, strsignal */

#include "wasmplug/engine.h"
#include "wasmplug/native.h"

#include <jansson.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct counts {
    long passed, failed, skipped;
} counts;

typedef struct named_instance {
    char *name;                 /* "$M" for named modules, "M" for registered ones */
    wasmplug_instance *inst;
} named_instance;

/* --roundtrip: every module goes through serialize + deserialize. */
static int roundtrip_modules;
/* --native: every module the native tier can compile runs native code. */
static int native_modules;


typedef struct options {
    wasmplug_bounds_mode bounds;
    uint64_t fuel;
    int verbose;
    int fork;
    unsigned timeout;
} options;

/* Everything one JSON file's commands share. */
typedef struct run {
    const options *opt;
    const char *file;           /* as printed: the JSON file's base name */
    char dir[4096];             /* the JSON file's directory, for module files */
    wasmplug_engine *engine;
    counts n;

    named_instance *names;      /* named modules and registrations */
    size_t nnames, cap_names;
    wasmplug_instance **all;    /* every instance, freed at the end */
    size_t nall, cap_all;
    wasmplug_instance *current; /* the last module defined */
    int current_unsupported;    /* it was skipped as unsupported */

    /* The "spectest" module. */
    struct {
        const char *name;
        wasmplug_extern ext;
    } spectest[16];
    size_t nspectest;
} run;

/* ------------------------------------------------------------------------ */
/* Reporting                                                                */
/* ------------------------------------------------------------------------ */

static void pass(run *r, long line, const char *cmd)
{
    r->n.passed++;
    if (r->opt->verbose)
        printf("%s:%ld: %s: ok\n", r->file, line, cmd);
}

static void skip(run *r, long line, const char *cmd, const char *why)
{
    r->n.skipped++;
    if (r->opt->verbose)
        printf("%s:%ld: %s: skipped (%s)\n", r->file, line, cmd, why);
}

static void fail(run *r, long line, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(run *r, long line, const char *cmd, const char *fmt, ...)
{
    r->n.failed++;
    printf("%s:%ld: %s: ", r->file, line, cmd);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

static const char *err_text(wasmplug_status st, const wasmplug_error *err)
{
    static char buf[WASMPLUG_ERROR_MESSAGE_MAX + 64];
    if (st == WASMPLUG_OK)
        return "ok";
    if (st == WASMPLUG_ERR_TRAP)
        snprintf(buf, sizeof buf, "trap \"%s\" (%s)", wasmplug_trap_string(err->trap),
                 err->message);
    else
        snprintf(buf, sizeof buf, "%s (%s)", wasmplug_strerror(st), err->message);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                   */
/* ------------------------------------------------------------------------ */

enum { NAN_NONE, NAN_CANONICAL, NAN_ARITHMETIC, REF_ANY };

typedef struct json_val {
    wasmplug_val v;
    int special;                /* NAN_* for floats, REF_ANY for "any non-null" */
    int v128;                   /* unused (kept 0: every value type is supported) */
    unsigned lane_bits;         /* v128: lane width (8..64), 0 for other types */
    int float_lanes;            /* v128: the lanes are f32/f64 */
    int lane_special[16];       /* v128: NAN_* per lane */
} json_val;

/* The 16 bytes of a v128 value. */
static void v128_bytes(const wasmplug_val *v, uint8_t out[16])
{
    memcpy(out, &v->of.u64, 8);
    memcpy(out + 8, &v->of_hi.u64, 8);
}

/* Parse a v128 given lane by lane. */
static int parse_v128(json_t *j, json_t *jv, json_val *out)
{
    const char *lt = json_string_value(json_object_get(j, "lane_type"));
    static const struct { const char *name; unsigned bits; int fl; } kinds[] = {
        {"i8", 8, 0}, {"i16", 16, 0}, {"i32", 32, 0}, {"i64", 64, 0}, {"f32", 32, 1}, {"f64", 64, 1},
    };
    for (size_t k = 0; lt && k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(lt, kinds[k].name) == 0) {
            out->lane_bits = kinds[k].bits;
            out->float_lanes = kinds[k].fl;
        }
    size_t n = out->lane_bits ? 128 / out->lane_bits : 0;
    if (n == 0 || json_array_size(jv) != n)
        return -1;
    uint8_t bytes[16];
    for (size_t i = 0; i < n; i++) {
        const char *lane = json_string_value(json_array_get(jv, i));
        if (!lane)
            return -1;
        uint64_t bits = 0;
        if (strcmp(lane, "nan:canonical") == 0)
            out->lane_special[i] = NAN_CANONICAL;
        else if (strcmp(lane, "nan:arithmetic") == 0)
            out->lane_special[i] = NAN_ARITHMETIC;
        else
            bits = strtoull(lane, NULL, 10);
        for (unsigned b = 0; b < out->lane_bits / 8; b++)
            bytes[i * (out->lane_bits / 8) + b] = (uint8_t)(bits >> (8 * b));
    }
    memcpy(&out->v.of.u64, bytes, 8);
    memcpy(&out->v.of_hi.u64, bytes + 8, 8);
    return 0;
}

/* Does float lane bits (of `bits` width) satisfy the NaN pattern `special`? */
static int nan_matches(int special, uint64_t lane, unsigned bits)
{
    uint64_t quiet = bits == 32 ? 0x7fc00000u : 0x7ff8000000000000u;
    uint64_t abs = bits == 32 ? 0x7fffffffu : 0x7fffffffffffffffu;
    if (special == NAN_CANONICAL)
        return (lane & abs) == quiet;
    return (lane & quiet) == quiet;
}

static int type_from_name(const char *s, wasmplug_valtype *t)
{
    static const struct { const char *name; wasmplug_valtype type; } types[] = {
        {"i32", WASMPLUG_I32}, {"i64", WASMPLUG_I64}, {"f32", WASMPLUG_F32},
        {"f64", WASMPLUG_F64}, {"funcref", WASMPLUG_FUNCREF},
        {"externref", WASMPLUG_EXTERNREF}, {"v128", WASMPLUG_V128},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *t = types[i].type;
            return 0;
        }
    }
    return -1;
}

/* Parse {"type": T, "value": V}. Returns -1 on a format error. */
static int parse_value(json_t *j, json_val *out)
{
    memset(out, 0, sizeof *out);
    const char *type = json_string_value(json_object_get(j, "type"));
    json_t *jv = json_object_get(j, "value");
    const char *value = json_string_value(jv);
    if (!type || type_from_name(type, &out->v.type) != 0)
        return -1;
    if (out->v.type == WASMPLUG_V128)
        return parse_v128(j, jv, out);
    if (out->v.type == WASMPLUG_FUNCREF || out->v.type == WASMPLUG_EXTERNREF) {
        if (!value) {
            out->special = REF_ANY;
        } else if (strcmp(value, "null") == 0) {
            out->v.of.ref = NULL;
        } else {
            uint64_t n = strtoull(value, NULL, 10);
            out->v.of.ref = (void *)(uintptr_t)(n + 1);
        }
        return 0;
    }
    if (!value)
        return -1;
    if (strcmp(value, "nan:canonical") == 0) {
        out->special = NAN_CANONICAL;
        return 0;
    }
    if (strcmp(value, "nan:arithmetic") == 0) {
        out->special = NAN_ARITHMETIC;
        return 0;
    }
    errno = 0;
    uint64_t bits = strtoull(value, NULL, 10);
    if (errno)
        return -1;
    switch (out->v.type) {
    case WASMPLUG_I32: out->v.of.u64 = 0; out->v.of.u32 = (uint32_t)bits; break;
    case WASMPLUG_F32: out->v.of.u64 = 0; out->v.of.f32_bits = (uint32_t)bits; break;
    default: out->v.of.u64 = bits; break;
    }
    return 0;
}

static void format_value(char *buf, size_t size, const wasmplug_val *v)
{
    switch (v->type) {
    case WASMPLUG_I32:
        snprintf(buf, size, "i32:%" PRIu32 " (%" PRId32 ")", v->of.u32, v->of.i32);
        break;
    case WASMPLUG_I64:
        snprintf(buf, size, "i64:%" PRIu64 " (%" PRId64 ")", v->of.u64, v->of.i64);
        break;
    case WASMPLUG_F32: {
        float f;
        memcpy(&f, &v->of.f32_bits, sizeof f);
        snprintf(buf, size, "f32:0x%08" PRIx32 " (%.9g)", v->of.f32_bits, (double)f);
        break;
    }
    case WASMPLUG_F64: {
        double d;
        memcpy(&d, &v->of.f64_bits, sizeof d);
        snprintf(buf, size, "f64:0x%016" PRIx64 " (%.17g)", v->of.f64_bits, d);
        break;
    }
    case WASMPLUG_FUNCREF:
        snprintf(buf, size, "funcref:%p", v->of.ref);
        break;
    case WASMPLUG_EXTERNREF:
        if (v->of.ref)
            snprintf(buf, size, "externref:%" PRIuPTR, (uintptr_t)v->of.ref - 1);
        else
            snprintf(buf, size, "externref:null");
        break;
    case WASMPLUG_V128: {
        uint8_t b[16];
        v128_bytes(v, b);
        int n = snprintf(buf, size, "v128:");
        for (int i = 0; i < 16 && n > 0 && (size_t)n < size; i++)
            n += snprintf(buf + n, size - (size_t)n, "%02x%s", b[i], i % 4 == 3 && i < 15 ? "_" : "");
        break;
    }
    default:
        snprintf(buf, size, "type 0x%x", (unsigned)v->type);
    }
}

static void format_expected(char *buf, size_t size, const json_val *e)
{
    if (e->special == NAN_CANONICAL || e->special == NAN_ARITHMETIC)
        snprintf(buf, size, "%s:%s", e->v.type == WASMPLUG_F32 ? "f32" : "f64",
                 e->special == NAN_CANONICAL ? "nan:canonical" : "nan:arithmetic");
    else if (e->special == REF_ANY)
        snprintf(buf, size, "%s:non-null",
                 e->v.type == WASMPLUG_FUNCREF ? "funcref" : "externref");
    else
        format_value(buf, size, &e->v);
}

static int value_matches(const json_val *e, const wasmplug_val *got)
{
    if (e->v.type != got->type)
        return 0;
    switch (got->type) {
    case WASMPLUG_I32:
        return e->v.of.u32 == got->of.u32;
    case WASMPLUG_I64:
        return e->v.of.u64 == got->of.u64;
    case WASMPLUG_F32:
        if (e->special == NAN_CANONICAL)
            return (got->of.f32_bits & 0x7fffffffu) == 0x7fc00000u;
        if (e->special == NAN_ARITHMETIC)
            return (got->of.f32_bits & 0x7fc00000u) == 0x7fc00000u;
        return e->v.of.f32_bits == got->of.f32_bits;
    case WASMPLUG_F64:
        if (e->special == NAN_CANONICAL)
            return (got->of.f64_bits & 0x7fffffffffffffffu) == 0x7ff8000000000000u;
        if (e->special == NAN_ARITHMETIC)
            return (got->of.f64_bits & 0x7ff8000000000000u) == 0x7ff8000000000000u;
        return e->v.of.f64_bits == got->of.f64_bits;
    case WASMPLUG_FUNCREF:
    case WASMPLUG_EXTERNREF:
        if (e->special == REF_ANY)
            return got->of.ref != NULL;
        return e->v.of.ref == got->of.ref;
    case WASMPLUG_V128: {
        uint8_t want[16], have[16];
        v128_bytes(&e->v, want);
        v128_bytes(got, have);
        unsigned w = e->lane_bits / 8;
        for (unsigned i = 0; i < 16 / w; i++) {
            uint64_t lane = 0;
            for (unsigned b = 0; b < w; b++)
                lane |= (uint64_t)have[i * w + b] << (8 * b);
            if (e->lane_special[i] != NAN_NONE) {
                if (!nan_matches(e->lane_special[i], lane, e->lane_bits))
                    return 0;
            } else if (memcmp(want + i * w, have + i * w, w) != 0) {
                return 0;
            }
        }
        return 1;
    }
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------------ */
/* The spectest module and instance bookkeeping                             */
/* ------------------------------------------------------------------------ */

static int print_fn(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    (void)slots;
    return 0;
}

static int add_spectest_func(run *r, const char *name, uint32_t np,
                             const wasmplug_valtype *params)
{
    wasmplug_functype t = {np, 0, params, NULL};
    wasmplug_extern *ext = &r->spectest[r->nspectest].ext;
    ext->kind = WASMPLUG_EXTERN_FUNC;
    if (wasmplug_func_new_host(r->engine, &t, print_fn, NULL, NULL, &ext->of.func))
        return -1;
    r->spectest[r->nspectest++].name = name;
    return 0;
}

static int add_spectest_global(run *r, const char *name, wasmplug_valtype type,
                               uint64_t bits)
{
    wasmplug_val v;
    v.type = type;
    v.of.u64 = bits;
    wasmplug_extern *ext = &r->spectest[r->nspectest].ext;
    ext->kind = WASMPLUG_EXTERN_GLOBAL;
    if (wasmplug_global_new(r->engine, v, false, &ext->of.global))
        return -1;
    r->spectest[r->nspectest++].name = name;
    return 0;
}

static int make_spectest(run *r)
{
    static const wasmplug_valtype i32[] = {WASMPLUG_I32};
    static const wasmplug_valtype i64[] = {WASMPLUG_I64};
    static const wasmplug_valtype f32[] = {WASMPLUG_F32};
    static const wasmplug_valtype f64[] = {WASMPLUG_F64};
    static const wasmplug_valtype i32_f32[] = {WASMPLUG_I32, WASMPLUG_F32};
    static const wasmplug_valtype f64_f64[] = {WASMPLUG_F64, WASMPLUG_F64};
    float f32_666 = 666.6f;
    double f64_666 = 666.6;
    uint32_t f32_bits;
    uint64_t f64_bits;
    memcpy(&f32_bits, &f32_666, sizeof f32_bits);
    memcpy(&f64_bits, &f64_666, sizeof f64_bits);

    if (add_spectest_func(r, "print", 0, NULL) || add_spectest_func(r, "print_i32", 1, i32) ||
        add_spectest_func(r, "print_i64", 1, i64) || add_spectest_func(r, "print_f32", 1, f32) ||
        add_spectest_func(r, "print_f64", 1, f64) ||
        add_spectest_func(r, "print_i32_f32", 2, i32_f32) ||
        add_spectest_func(r, "print_f64_f64", 2, f64_f64) ||
        add_spectest_global(r, "global_i32", WASMPLUG_I32, 666) ||
        add_spectest_global(r, "global_i64", WASMPLUG_I64, 666) ||
        add_spectest_global(r, "global_f32", WASMPLUG_F32, f32_bits) ||
        add_spectest_global(r, "global_f64", WASMPLUG_F64, f64_bits))
        return -1;
    wasmplug_limits tl = {10, 20, true};
    wasmplug_extern *ext = &r->spectest[r->nspectest].ext;
    ext->kind = WASMPLUG_EXTERN_TABLE;
    if (wasmplug_table_new(r->engine, WASMPLUG_FUNCREF, tl, NULL, &ext->of.table))
        return -1;
    r->spectest[r->nspectest++].name = "table";
    wasmplug_limits ml = {1, 2, true};
    ext = &r->spectest[r->nspectest].ext;
    ext->kind = WASMPLUG_EXTERN_MEMORY;
    if (wasmplug_memory_new(r->engine, ml, &ext->of.memory))
        return -1;
    r->spectest[r->nspectest++].name = "memory";
    return 0;
}

static void free_extern(wasmplug_extern ext)
{
    switch (ext.kind) {
    case WASMPLUG_EXTERN_FUNC: wasmplug_func_free(ext.of.func); break;
    case WASMPLUG_EXTERN_TABLE: wasmplug_table_free(ext.of.table); break;
    case WASMPLUG_EXTERN_MEMORY: wasmplug_memory_free(ext.of.memory); break;
    case WASMPLUG_EXTERN_GLOBAL: wasmplug_global_free(ext.of.global); break;
    }
}

static void *grow_array(void *array, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return array;
    size_t n = *cap ? *cap * 2 : 16;
    void *p = realloc(array, n * elem);
    if (!p) {
        fprintf(stderr, "wasmplug-spectest: out of memory\n");
        exit(2);
    }
    *cap = n;
    return p;
}

static void keep_instance(run *r, wasmplug_instance *inst)
{
    r->all = grow_array(r->all, &r->cap_all, r->nall + 1, sizeof *r->all);
    r->all[r->nall++] = inst;
}

static void set_name(run *r, const char *name, wasmplug_instance *inst)
{
    for (size_t i = 0; i < r->nnames; i++) {
        if (strcmp(r->names[i].name, name) == 0) {
            r->names[i].inst = inst;
            return;
        }
    }
    r->names = grow_array(r->names, &r->cap_names, r->nnames + 1, sizeof *r->names);
    r->names[r->nnames].name = strdup(name);
    r->names[r->nnames++].inst = inst;
}

/* The instance a name refers to; NULL name: the current module. */
static wasmplug_instance *find_instance(run *r, const char *name)
{
    if (!name)
        return r->current;
    for (size_t i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i].name, name) == 0)
            return r->names[i].inst;
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Modules                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct loaded {
    wasmplug_status status;     /* of the first step that failed, or OK */
    int stage;                  /* 0 load, 1 link (runner), 2 instantiate */
    wasmplug_error err;
    wasmplug_instance *inst;
} loaded;

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        data = grow_array(data, &cap, len + 4096, 1);
        size_t n = fread(data + len, 1, cap - len, f);
        if (n == 0)
            break;
        len += n;
    }
    fclose(f);
    *size = len;
    return data;
}

/* Resolve import i of module against the registered instances. */
static int resolve_import(run *r, wasmplug_module *m, uint32_t i, wasmplug_extern *out,
                          char *why, size_t why_size)
{
    const char *mod, *name;
    size_t mod_len, name_len;
    wasmplug_externtype type;
    if (wasmplug_module_import(m, i, &mod, &mod_len, &name, &name_len, &type) != WASMPLUG_OK) {
        snprintf(why, why_size, "cannot describe import %" PRIu32, i);
        return -1;
    }
    if (mod_len == 8 && memcmp(mod, "spectest", 8) == 0) {
        for (size_t k = 0; k < r->nspectest; k++) {
            if (strlen(r->spectest[k].name) == name_len &&
                memcmp(r->spectest[k].name, name, name_len) == 0) {
                *out = r->spectest[k].ext;
                return 0;
            }
        }
    } else {
        for (size_t k = r->nnames; k-- > 0;) {
            if (strlen(r->names[k].name) == mod_len &&
                memcmp(r->names[k].name, mod, mod_len) == 0 && r->names[k].name[0] != '$') {
                if (r->names[k].inst &&
                    wasmplug_instance_export_n(r->names[k].inst, name, name_len, out) ==
                    WASMPLUG_OK)
                    return 0;
                break;
            }
        }
    }
    snprintf(why, why_size, "unknown import \"%.*s\".\"%.*s\"", (int)mod_len, mod,
             (int)name_len, name);
    return -1;
}

static loaded load_module(run *r, const char *filename)
{
    loaded l;
    memset(&l, 0, sizeof l);
    wasmplug_error_clear(&l.err);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", r->dir, filename);
    size_t size = 0;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        l.status = WASMPLUG_ERR_IO;
        snprintf(l.err.message, sizeof l.err.message, "cannot read %.200s", path);
        return l;
    }
    wasmplug_module *m = NULL;
    l.status = wasmplug_module_new(r->engine, bytes, size, &m, &l.err);
    free(bytes);
    if (l.status != WASMPLUG_OK)
        return l;
    if (roundtrip_modules) { /* --roundtrip: run the serialized-and-reloaded module */
        uint8_t *ser = NULL;
        size_t nser = 0;
        wasmplug_module *m2 = NULL;
        l.status = wasmplug_module_serialize(m, &ser, &nser, &l.err);
        if (l.status == WASMPLUG_OK)
            l.status = wasmplug_module_deserialize(r->engine, ser, nser, &m2, &l.err);
        wasmplug_serialized_free(ser);
        wasmplug_module_free(m);
        if (l.status != WASMPLUG_OK)
            return l;
        m = m2;
    }
    if (native_modules) { /* --native: compile with cc, attach, run native code */
        if (!wasmplug_native_supported(m, NULL, 0)) {
            ; /* SIMD: stays in the interpreter */
        } else {
            /* a path per module: dlopen hands out an already loaded path again */
            static unsigned long seq;
            char so[96];
            snprintf(so, sizeof so, "/tmp/wasmplug-spectest-%ld-%lu.so", (long)getpid(), ++seq);
            l.status = wasmplug_native_compile(m, so, NULL, &l.err);
            if (l.status == WASMPLUG_OK)
                l.status = wasmplug_module_attach_native(m, so, &l.err);
            unlink(so);
            if (l.status != WASMPLUG_OK) {
                fprintf(stderr, "native tier: %s: %s\n", filename, l.err.message);
                wasmplug_module_free(m);
                return l;
            }

        }
    }

    l.stage = 1;
    uint32_t n = wasmplug_module_import_count(m);
    wasmplug_extern *imports = calloc(n ? n : 1, sizeof *imports);
    for (uint32_t i = 0; i < n; i++) {
        if (resolve_import(r, m, i, &imports[i], l.err.message, sizeof l.err.message) != 0) {
            l.status = WASMPLUG_ERR_LINK;
            l.err.status = WASMPLUG_ERR_LINK;
            free(imports);
            wasmplug_module_free(m);
            return l;
        }
    }
    l.stage = 2;
    wasmplug_instance_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.fuel = r->opt->fuel;
    l.status = wasmplug_instance_new(m, imports, n, &cfg, &l.inst, &l.err);
    free(imports);
    wasmplug_module_free(m);
    if (l.status == WASMPLUG_OK)
        keep_instance(r, l.inst);
    return l;
}

/* ------------------------------------------------------------------------ */
/* Actions                                                                  */
/* ------------------------------------------------------------------------ */

#define MAX_VALUES 64

typedef struct action_result {
    wasmplug_status status;     /* OK, ERR_TRAP, ... */
    wasmplug_error err;
    wasmplug_val results[MAX_VALUES];
    size_t nresults;
    int skipped;                /* v128 or unsupported module */
    char problem[256];          /* runner-level failure (bad JSON, no export) */
} action_result;

static action_result do_action(run *r, json_t *action)
{
    action_result a;
    memset(&a, 0, sizeof a);
    wasmplug_error_clear(&a.err);
    const char *type = json_string_value(json_object_get(action, "type"));
    const char *modname = json_string_value(json_object_get(action, "module"));
    json_t *jfield = json_object_get(action, "field");
    const char *field = json_string_value(jfield);
    if (!type || !field) {
        snprintf(a.problem, sizeof a.problem, "malformed action");
        return a;
    }
    wasmplug_instance *inst = find_instance(r, modname);
    if (!inst) {
        if (!modname && r->current_unsupported)
            a.skipped = 1;
        else
            snprintf(a.problem, sizeof a.problem, "no module %s", modname ? modname : "");
        return a;
    }
    wasmplug_extern ext;
    if (wasmplug_instance_export_n(inst, field, json_string_length(jfield), &ext) !=
        WASMPLUG_OK) {
        snprintf(a.problem, sizeof a.problem, "no export \"%s\"", field);
        return a;
    }

    if (strcmp(type, "get") == 0) {
        if (ext.kind != WASMPLUG_EXTERN_GLOBAL) {
            snprintf(a.problem, sizeof a.problem, "export \"%s\" is not a global", field);
            return a;
        }
        a.results[0] = wasmplug_global_get(ext.of.global);
        a.nresults = 1;
        a.status = WASMPLUG_OK;
        return a;
    }
    if (strcmp(type, "invoke") != 0) {
        snprintf(a.problem, sizeof a.problem, "unknown action type %s", type);
        return a;
    }
    if (ext.kind != WASMPLUG_EXTERN_FUNC) {
        snprintf(a.problem, sizeof a.problem, "export \"%s\" is not a function", field);
        return a;
    }
    json_t *jargs = json_object_get(action, "args");
    size_t nargs = json_array_size(jargs);
    wasmplug_val args[MAX_VALUES];
    if (nargs > MAX_VALUES) {
        snprintf(a.problem, sizeof a.problem, "too many arguments");
        return a;
    }
    for (size_t i = 0; i < nargs; i++) {
        json_val v;
        if (parse_value(json_array_get(jargs, i), &v) != 0 || v.special) {
            snprintf(a.problem, sizeof a.problem, "bad argument %zu", i);
            return a;
        }
        if (v.v128) {
            a.skipped = 1;
            return a;
        }
        args[i] = v.v;
    }
    wasmplug_functype ft = wasmplug_func_type(ext.of.func);
    if (ft.result_count > MAX_VALUES) {
        snprintf(a.problem, sizeof a.problem, "too many results");
        return a;
    }

    if (r->opt->fuel)
        wasmplug_instance_set_fuel(inst, r->opt->fuel);
    a.nresults = ft.result_count;
    a.status = wasmplug_func_call(ext.of.func, args, nargs, a.results, a.nresults, &a.err);
    return a;
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

static int texts_match(const char *expected, const char *got)
{
    size_t ne = strlen(expected), ng = strlen(got);
    size_t n = ne < ng ? ne : ng;
    return n > 0 && strncmp(expected, got, n) == 0;
}

static void cmd_module(run *r, json_t *c, long line)
{
    const char *filename = json_string_value(json_object_get(c, "filename"));
    const char *name = json_string_value(json_object_get(c, "name"));
    const char *mtype = json_string_value(json_object_get(c, "module_type"));
    r->current = NULL;
    r->current_unsupported = 0;
    if (mtype && strcmp(mtype, "binary") != 0) {
        r->current_unsupported = 1;
        skip(r, line, "module", "text module");
        return;
    }
    if (!filename) {
        fail(r, line, "module", "no filename");
        return;
    }
    loaded l = load_module(r, filename);
    if (l.status == WASMPLUG_ERR_UNSUPPORTED) {
        r->current_unsupported = 1;
        if (name)
            set_name(r, name, NULL);
        skip(r, line, "module", l.err.message);
        return;
    }
    if (l.status != WASMPLUG_OK) {
        fail(r, line, "module", "%s: expected to load, got %s", filename,
             err_text(l.status, &l.err));
        if (name)
            set_name(r, name, NULL);
        return;
    }
    r->current = l.inst;
    if (name)
        set_name(r, name, l.inst);
    pass(r, line, "module");
}

static void cmd_register(run *r, json_t *c, long line)
{
    const char *as = json_string_value(json_object_get(c, "as"));
    const char *name = json_string_value(json_object_get(c, "name"));
    wasmplug_instance *inst = find_instance(r, name);
    if (!as) {
        fail(r, line, "register", "no \"as\"");
        return;
    }
    if (!inst) {
        if (!name && r->current_unsupported)
            skip(r, line, "register", "module unsupported");
        else
            fail(r, line, "register", "no module to register as \"%s\"", as);
        return;
    }
    set_name(r, as, inst);
    pass(r, line, "register");
}

static void cmd_return(run *r, json_t *c, long line, const char *cmd)
{
    action_result a = do_action(r, json_object_get(c, "action"));
    if (a.skipped) {
        skip(r, line, cmd, "v128 or unsupported module");
        return;
    }
    if (a.problem[0]) {
        fail(r, line, cmd, "%s", a.problem);
        return;
    }
    if (a.status != WASMPLUG_OK) {
        fail(r, line, cmd, "expected results, got %s", err_text(a.status, &a.err));
        return;
    }
    if (strcmp(cmd, "action") == 0) { /* a bare invoke only has to succeed */
        pass(r, line, cmd);
        return;
    }
    json_t *jexp = json_object_get(c, "expected");
    size_t nexp = json_array_size(jexp);
    if (nexp != a.nresults) {
        fail(r, line, cmd, "expected %zu results, got %zu", nexp, a.nresults);
        return;
    }
    for (size_t i = 0; i < nexp; i++) {
        json_val e;
        if (parse_value(json_array_get(jexp, i), &e) != 0) {
            fail(r, line, cmd, "bad expected value %zu", i);
            return;
        }
        if (e.v128) {
            skip(r, line, cmd, "v128");
            return;
        }
        if (!value_matches(&e, &a.results[i])) {
            char want[128], got[128];
            format_expected(want, sizeof want, &e);
            format_value(got, sizeof got, &a.results[i]);
            fail(r, line, cmd, "result %zu: expected %s, got %s", i, want, got);
            return;
        }
    }
    pass(r, line, cmd);
}

static void cmd_trap(run *r, json_t *c, long line, const char *cmd, int exhaustion)
{
    const char *text = json_string_value(json_object_get(c, "text"));
    action_result a = do_action(r, json_object_get(c, "action"));
    if (a.skipped) {
        skip(r, line, cmd, "v128 or unsupported module");
        return;
    }
    if (a.problem[0]) {
        fail(r, line, cmd, "%s", a.problem);
        return;
    }
    int ok = a.status == WASMPLUG_ERR_TRAP;
    if (ok && exhaustion)
        ok = a.err.trap == WASMPLUG_TRAP_CALL_STACK_EXHAUSTED ||
             a.err.trap == WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED;
    else if (ok && text)
        ok = texts_match(text, wasmplug_trap_string(a.err.trap));
    if (ok)
        pass(r, line, cmd);
    else
        fail(r, line, cmd, "expected trap \"%s\", got %s", text ? text : "",
             err_text(a.status, &a.err));
}

/* assert_invalid / assert_malformed / assert_unlinkable / assert_uninstantiable */
static void cmd_bad_module(run *r, json_t *c, long line, const char *cmd)
{
    const char *filename = json_string_value(json_object_get(c, "filename"));
    const char *mtype = json_string_value(json_object_get(c, "module_type"));
    const char *text = json_string_value(json_object_get(c, "text"));
    if (mtype && strcmp(mtype, "binary") != 0) {
        skip(r, line, cmd, "text module");
        return;
    }
    if (!filename) {
        fail(r, line, cmd, "no filename");
        return;
    }
    loaded l = load_module(r, filename);
    wasmplug_status want;
    if (strcmp(cmd, "assert_malformed") == 0)
        want = WASMPLUG_ERR_MALFORMED;
    else if (strcmp(cmd, "assert_invalid") == 0)
        want = WASMPLUG_ERR_INVALID;
    else if (strcmp(cmd, "assert_unlinkable") == 0)
        want = WASMPLUG_ERR_LINK;
    else
        want = WASMPLUG_ERR_TRAP;
    int ok = l.status == want;
    if (ok && want == WASMPLUG_ERR_TRAP && text)
        ok = texts_match(text, wasmplug_trap_string(l.err.trap));
    if (ok) {
        pass(r, line, cmd);
    } else if (l.status == WASMPLUG_ERR_UNSUPPORTED) {
        skip(r, line, cmd, l.err.message);
    } else {
        char where[64] = "";
        if (l.status != WASMPLUG_OK && l.err.offset != UINT64_MAX)
            snprintf(where, sizeof where, " at offset %" PRIu64, l.err.offset);
        fail(r, line, cmd, "%s: expected %s (\"%s\"), got %s%s", filename,
             wasmplug_strerror(want), text ? text : "", err_text(l.status, &l.err),
             where);
    }
    /* An instance that did get created (wrongly) stays owned by r->all. */
}

static void run_command(run *r, json_t *c)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    long line = (long)json_integer_value(json_object_get(c, "line"));
    if (!type) {
        fail(r, line, "?", "command without a type");
        return;
    }
    if (strcmp(type, "module") == 0)
        cmd_module(r, c, line);
    else if (strcmp(type, "register") == 0)
        cmd_register(r, c, line);
    else if (strcmp(type, "action") == 0 || strcmp(type, "assert_return") == 0)
        cmd_return(r, c, line, type);
    else if (strcmp(type, "assert_trap") == 0)
        cmd_trap(r, c, line, type, 0);
    else if (strcmp(type, "assert_exhaustion") == 0)
        cmd_trap(r, c, line, type, 1);
    else if (strcmp(type, "assert_invalid") == 0 || strcmp(type, "assert_malformed") == 0 ||
             strcmp(type, "assert_unlinkable") == 0 ||
             strcmp(type, "assert_uninstantiable") == 0)
        cmd_bad_module(r, c, line, type);
    else
        skip(r, line, type, "unknown command");
}

/* ------------------------------------------------------------------------ */
/* Files                                                                    */
/* ------------------------------------------------------------------------ */

static counts run_file(const options *opt, const char *path)
{
    run r;
    memset(&r, 0, sizeof r);
    r.opt = opt;
    const char *slash = strrchr(path, '/');
    r.file = slash ? slash + 1 : path;
    if (slash)
        snprintf(r.dir, sizeof r.dir, "%.*s", (int)(slash - path), path);
    else
        snprintf(r.dir, sizeof r.dir, ".");
    if (slash == path)
        snprintf(r.dir, sizeof r.dir, "/");

    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_ALLOW_NUL, &jerr);
    if (!root) {
        fail(&r, jerr.line, "json", "cannot parse %s: %s", path, jerr.text);
        return r.n;
    }
    wasmplug_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bounds = opt->bounds;
    cfg.max_memory_pages = 65536; /* the spec's own limit, not the engine's default */
    if (wasmplug_engine_new(&cfg, &r.engine) != WASMPLUG_OK) {
        fail(&r, 0, "engine", "cannot create an engine");
        json_decref(root);
        return r.n;
    }
    if (make_spectest(&r) != 0) {
        fail(&r, 0, "spectest", "cannot create the spectest module");
    } else {
        json_t *cmds = json_object_get(root, "commands");
        for (size_t i = 0; i < json_array_size(cmds); i++)
            run_command(&r, json_array_get(cmds, i));
    }

    for (size_t i = 0; i < r.nall; i++)
        wasmplug_instance_free(r.all[i]);
    for (size_t i = 0; i < r.nspectest; i++)
        free_extern(r.spectest[i].ext);
    for (size_t i = 0; i < r.nnames; i++)
        free(r.names[i].name);
    free(r.all);
    free(r.names);
    wasmplug_engine_free(r.engine);
    json_decref(root);
    return r.n;
}

static void print_counts(const char *file, counts n)
{
    printf("%s: %ld passed, %ld failed, %ld skipped\n", file, n.passed, n.failed, n.skipped);
}

/* Run one file in a child process; a crash or timeout counts as one failure. */
static counts run_file_isolated(const options *opt, const char *path)
{
    counts n = {0, 0, 0};
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int fds[2];
    fflush(stdout);
    if (pipe(fds) != 0) {
        n = run_file(opt, path);
        print_counts(base, n);
        return n;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        n = run_file(opt, path);
        print_counts(base, n);
        return n;
    }
    if (pid == 0) {
        close(fds[0]);
        if (opt->timeout)
            alarm(opt->timeout);
        counts c = run_file(opt, path);
        print_counts(base, c);
        fflush(stdout);
        char buf[128];
        int len = snprintf(buf, sizeof buf, "%ld %ld %ld\n", c.passed, c.failed, c.skipped);
        if (write(fds[1], buf, (size_t)len) != len)
            _exit(3);
        /* exit, not _exit: LeakSanitizer checks at exit in sanitizer builds. */
        exit(0);
    }
    close(fds[1]);
    char buf[128];
    size_t got = 0;
    for (;;) {
        ssize_t k = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    buf[got] = '\0';
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (got && sscanf(buf, "%ld %ld %ld", &n.passed, &n.failed, &n.skipped) == 3 &&
        WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return n;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        printf("%s: timed out after %u s\n", base, opt->timeout);
    else if (WIFSIGNALED(status))
        printf("%s: crashed (signal %d: %s)\n", base, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
    else
        printf("%s: child exited with status %d (see stderr)\n", base, WEXITSTATUS(status));
    n.passed = n.skipped = 0;
    n.failed = 1;
    print_counts(base, n);
    return n;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: wasmplug-spectest [--bounds auto|guard|explicit] [--fuel N] [--no-fork]\n"
            "                         [--timeout SECONDS] [--roundtrip] [--native] [-v] FILE.json...\n"
            "  --native     compile every module with the native tier (cc) and run it natively\n"
            "  --roundtrip  run every module through wasmplug_module_serialize/_deserialize\n");
}

int main(int argc, char **argv)
{
    options opt = {WASMPLUG_BOUNDS_AUTO, 0, 0, 1, 600};
    int first_file = argc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            opt.verbose = 1;
        } else if (strcmp(argv[i], "--native") == 0) {
            native_modules = 1;
        } else if (strcmp(argv[i], "--roundtrip") == 0) {
            roundtrip_modules = 1;
        } else if (strcmp(argv[i], "--no-fork") == 0) {
            opt.fork = 0;
        } else if (strcmp(argv[i], "--bounds") == 0 && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "explicit") == 0) {
                opt.bounds = WASMPLUG_BOUNDS_EXPLICIT;
            } else if (strcmp(m, "guard") == 0) {
                opt.bounds = WASMPLUG_BOUNDS_GUARD_PAGES;
            } else if (strcmp(m, "auto") == 0) {
                opt.bounds = WASMPLUG_BOUNDS_AUTO;
            } else {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--fuel") == 0 && i + 1 < argc) {
            opt.fuel = strtoull(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            opt.timeout = (unsigned)strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            usage();
            return 2;
        } else {
            first_file = i;
            break;
        }
    }
    if (first_file >= argc) {
        usage();
        return 2;
    }
    const char *env = getenv("WASMPLUG_TEST_BOUNDS");
    if (opt.bounds == WASMPLUG_BOUNDS_AUTO && env && strcmp(env, "explicit") == 0)
        opt.bounds = WASMPLUG_BOUNDS_EXPLICIT;

    counts total = {0, 0, 0};
    int nfiles = argc - first_file;
    for (int i = first_file; i < argc; i++) {
        counts n;
        if (opt.fork) {
            n = run_file_isolated(&opt, argv[i]);
        } else {
            n = run_file(&opt, argv[i]);
            const char *slash = strrchr(argv[i], '/');
            print_counts(slash ? slash + 1 : argv[i], n);
        }
        total.passed += n.passed;
        total.failed += n.failed;
        total.skipped += n.skipped;
        fflush(stdout);
    }
    if (nfiles > 1)
        printf("%ld passed, %ld failed, %ld skipped\n", total.passed, total.failed,
               total.skipped);
    return total.failed ? 1 : 0;
}
