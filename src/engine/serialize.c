/*
 * serialize.c - save a compiled module to bytes and load it back without
 * validating and compiling again (the on-disk module cache builds on this).
 *
 * Format (all integers little-endian):
 *   header   "WPCM", u32 format version, u64 engine fingerprint (version
 *            string, a hash of the engine's sources taken at build time,
 *            cell size and the whole ops.h table: names, operand letters and
 *            descriptions), u32 bounds mode the code was
 *            compiled for, u64 payload size, u64 checksum of the payload
 *            (wp_serialized_checksum() below)
 *   payload  u32 wasm size + the original binary (decoding it again is cheap
 *            and rebuilds every decoded structure exactly), u32 features,
 *            u32 number of defined functions, then per function: u32
 *            nparams, nlocals, nresults, frame_size, func_index, ncells and
 *            the instructions: u16 operation number, then each operand
 *            (S/X/N as u32, I/R as u64) as the ops.h operand letters say.
 * Operation cells hold handler addresses in the threaded build, so they are
 * written as operation numbers and rebuilt with wp_op_cell_bounds on load.
 *
 * Loading treats the bytes as untrusted-but-checksummed: the checksum catches
 * accidents (truncation, bit flips); on top of it every length, operation,
 * slot, index and branch target is checked so that a damaged file gives an
 * error, never a crash, and every fuel cost and backward branch so that a
 * forged file cannot lift the fuel limit or skip interrupt checks (each
 * function starts with FUEL, loops cost fuel, no cost exceeds the body's
 * size). The module binary is validated again at module level
 * (wp_validate_module) and the compiled code is verified (verify.c): slot
 * kinds, so that nothing but a reference of the right type is ever used as
 * one, the types of tables, globals, calls and results, and that code never
 * runs past its end. What a forged file can still do is compute other
 * results than the wasm code would (different arithmetic on numbers), within
 * every limit and without touching anything outside its instance, as any
 * wasm module could.
 */
#include "module.h"
#include "runtime.h"
#include "verify.h"
#include "compile.h"
/* WP_ENGINE_SOURCE_HASH: a hash of the engine's sources (src/engine), made by
 * CMake at configure time. Any change to the compiler or the interpreter
 * could change what compiled code means, even with the same version and
 * instruction set. */
#include "wp_engine_key.h"

#include <stdlib.h>
#include <string.h>

#define WPCM_FORMAT 1u
#define WPCM_HEADER 36u /* 4 + 4 + 8 + 4 + 8 + 8 */

#define FAIL(...) wp_error(err, WASMPLUG_ERR_SERIALIZATION, WP_NO_OFFSET, __VA_ARGS__)

static const char *const op_names[] = {
#define WP_X_NAME(name, operands, doc) #name "\x1f" operands "\x1f" doc,
    WP_ALL_OPS(WP_X_NAME)
#undef WP_X_NAME
};
const char *const wp_op_operands[WP_OP_COUNT] = {
#define WP_X_OPERANDS(name, operands, doc) operands,
    WP_ALL_OPS(WP_X_OPERANDS)
#undef WP_X_OPERANDS
};

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV_INIT 0xcbf29ce484222325ull

/* The payload checksum: a multiply-xorshift hash over 8-byte words (several
 * times faster than byte-wise FNV on large modules). Words are read in the
 * machine's byte order: files are only meant for the machine that wrote them. */
uint64_t wp_serialized_checksum(const uint8_t *p, size_t n)
{
    uint64_t h = 0x243f6a8885a308d3ull ^ ((uint64_t)n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        w *= 0xff51afd7ed558ccdull;
        w ^= w >> 32;
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 29;
    }
    uint64_t t = 0;
    for (unsigned k = 0; i < n; i++, k++)
        t |= (uint64_t)p[i] << (8 * k);
    h = (h ^ t ^ 0x27d4eb2f165667c5ull) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* What must match between the engine that wrote a file and the one reading
 * it: any change to the engine's sources or the instruction set changes
 * this. */
static uint64_t fingerprint(void)
{
    uint64_t h = fnv1a(FNV_INIT, WASMPLUG_VERSION_STRING, sizeof WASMPLUG_VERSION_STRING);
    uint64_t sources = WP_ENGINE_SOURCE_HASH;
    h = fnv1a(h, &sources, sizeof sources);
    uint32_t cell = (uint32_t)sizeof(wp_cell), count = WP_OP_COUNT;
    h = fnv1a(h, &cell, sizeof cell);
    h = fnv1a(h, &count, sizeof count);
    for (size_t i = 0; i < sizeof op_names / sizeof op_names[0]; i++)
        h = fnv1a(h, op_names[i], strlen(op_names[i]) + 1);
    return h;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} wbuf;

static void put(wbuf *b, const void *data, size_t n)
{
    if (b->oom)
        return;
    if (b->cap - b->n < n) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap - b->n < n) {
            if (cap > SIZE_MAX / 2) {
                b->oom = true;
                return;
            }
            cap *= 2;
        }
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = true;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void put_le(wbuf *b, uint64_t v, unsigned bytes)
{
    uint8_t t[8];
    for (unsigned i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, bytes);
}

wasmplug_status wasmplug_module_serialize(const wasmplug_module *m, uint8_t **out, size_t *size,
                                          wasmplug_error *err)
{
    if (out)
        *out = NULL;
    if (size)
        *size = 0;
    if (!m || !out || !size)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_module_serialize: module, out and size are required");
    wp_opkey *k = malloc(WP_OP_COUNT * sizeof *k);
    if (!k)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    wasmplug_bounds_mode bounds = wp_engine_bounds(m->engine);
    wp_op_keys(k, bounds);

    wbuf b = { NULL, 0, 0, false };
    uint8_t zero[WPCM_HEADER];
    memset(zero, 0, sizeof zero);
    put(&b, zero, sizeof zero); /* header, filled in at the end */
    put_le(&b, m->size, 4);
    put(&b, m->bytes, m->size);
    put_le(&b, m->features, 4);
    uint32_t ndef = m->nfuncs - m->num_imported_funcs;
    put_le(&b, ndef, 4);
    wasmplug_status st = WASMPLUG_OK;
    for (uint32_t i = m->num_imported_funcs; i < m->nfuncs && st == WASMPLUG_OK; i++) {
        const wp_code *c = &m->funcs[i].code;
        put_le(&b, c->nparams, 4);
        put_le(&b, c->nlocals, 4);
        put_le(&b, c->nresults, 4);
        put_le(&b, c->frame_size, 4);
        put_le(&b, c->func_index, 4);
        put_le(&b, c->ncells, 4);
        uint32_t pc = 0;
        while (pc < c->ncells) {
            int op = wp_op_of_cell(k, c->cells[pc]);
            if (op < 0) {
                st = FAIL("function %u: unknown operation cell at %u", i, pc);
                break;
            }
            put_le(&b, (uint32_t)op, 2);
            const char *ops = wp_op_operands[op];
            uint32_t p = pc + 1, last = 0;
            for (const char *l = ops; *l && *l != '.' && p < c->ncells; l++, p++) {
                bool wide = *l == 'I' || *l == 'R';
                if (*l == 'N')
                    last = c->cells[p].u32;
                put_le(&b, wide ? c->cells[p].u64 : c->cells[p].u32, wide ? 8 : 4);
            }
            if (strstr(ops, "...")) { /* the last letter repeats: last + 1 in all */
                char rep = ops[strlen(ops) - 4];
                bool wide = rep == 'I' || rep == 'R';
                for (uint64_t r = 1; r < (uint64_t)last + 1 && p < c->ncells; r++, p++)
                    put_le(&b, wide ? c->cells[p].u64 : c->cells[p].u32, wide ? 8 : 4);
            }
            pc = p;
        }
    }
    free(k);
    if (st == WASMPLUG_OK && b.oom)
        st = wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    if (st != WASMPLUG_OK) {
        free(b.p);
        return st;
    }
    uint64_t payload = b.n - WPCM_HEADER;
    uint8_t *h = b.p;
    memcpy(h, "WPCM", 4);
    wbuf hb = { h + 4, 0, WPCM_HEADER - 4, false };
    put_le(&hb, WPCM_FORMAT, 4);
    put_le(&hb, fingerprint(), 8);
    put_le(&hb, (uint32_t)bounds, 4);
    put_le(&hb, payload, 8);
    put_le(&hb, wp_serialized_checksum(b.p + WPCM_HEADER, payload), 8);
    *out = b.p;
    *size = b.n;
    return WASMPLUG_OK;
}

void wasmplug_serialized_free(uint8_t *bytes) { free(bytes); }

/* ---- reading ------------------------------------------------------------ */

typedef struct rbuf {
    const uint8_t *p;
    size_t n, at;
    bool bad;
} rbuf;

static inline uint64_t get_le(rbuf *r, unsigned bytes)
{
    if (r->bad || r->n - r->at < bytes) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[r->at + i] << (8 * i);
    r->at += bytes;
    return v;
}

/* Operand layout of each operation, from op_operands, and the bound of each
 * X operand in this module (computed once per load). */
typedef struct opinfo {
    uint8_t fixed;     /* letters before any "..." */
    bool rep;          /* "...": the last letter repeats, count = the N before it */
    bool is_call;      /* N is a frame base */
    char l[8];
    uint32_t xlim[4];
} opinfo;

/* Bound for an X operand of op at position pos (0-based among its letters). */
static uint32_t index_limit(const wasmplug_module *m, wp_op op, unsigned pos)
{
    switch (op) {
    case WP_OP_CALL: return m->nfuncs;
    case WP_OP_CALL_IMPORT: return m->num_imported_funcs;
    case WP_OP_CALL_INDIRECT: return pos == 0 ? m->ntypes : m->ntables;
    case WP_OP_GLOBAL_GET: case WP_OP_GLOBAL_SET:
    case WP_OP_V128_GLOBAL_GET: case WP_OP_V128_GLOBAL_SET: return m->nglobals;
    case WP_OP_MEMORY_INIT: case WP_OP_DATA_DROP: return m->ndatas;
    case WP_OP_TABLE_INIT: return pos == 0 ? m->ntables : m->nelems;
    case WP_OP_ELEM_DROP: return m->nelems;
    case WP_OP_REF_FUNC: return m->nfuncs;
    case WP_OP_TABLE_GET: case WP_OP_TABLE_SET: case WP_OP_TABLE_SIZE: case WP_OP_TABLE_GROW:
    case WP_OP_TABLE_FILL: case WP_OP_TABLE_COPY: return m->ntables;
    default: { /* an operation added later: within the largest index space */
        uint32_t l = m->nfuncs;
        uint32_t o[] = { m->ntypes, m->ntables, m->nglobals, m->ndatas, m->nelems };
        for (size_t i = 0; i < sizeof o / sizeof o[0]; i++)
            if (o[i] > l)
                l = o[i];
        return l;
    }
    }
}

/* Read and check one function's code into c (cells in the module arena). */
static wasmplug_status read_code(wasmplug_module *m, rbuf *r, uint32_t fi, wp_code *c,
                                 const wp_cell *cells_for, const opinfo *info,
                                 wasmplug_error *err)
{
    const wp_functype *t = &m->types[m->funcs[fi].type_index];
    c->nparams = (uint32_t)get_le(r, 4);
    c->nlocals = (uint32_t)get_le(r, 4);
    c->nresults = (uint32_t)get_le(r, 4);
    c->frame_size = (uint32_t)get_le(r, 4);
    c->func_index = (uint32_t)get_le(r, 4);
    uint32_t ncells = (uint32_t)get_le(r, 4);
    if (r->bad)
        return FAIL("truncated data (function %u)", fi);
    if (c->func_index != fi || c->nparams != t->pslots || c->nresults != t->nresults ||
        c->frame_size == 0 || (uint64_t)c->nparams + c->nlocals > c->frame_size ||
        t->rslots > c->frame_size || c->frame_size > WP_DEFAULT_MAX_STACK_SLOTS)
        return FAIL("function %u: inconsistent frame description", fi);
    /* Each cell takes at least 2 bytes of input: bounds the allocation. */
    if (ncells == 0 || ncells > (r->n - r->at) / 2)
        return FAIL("function %u: bad code size %u", fi, ncells);
    c->cells = wp_arena_alloc(&m->arena, (size_t)ncells * sizeof(wp_cell));
    uint16_t *ops_at = calloc(ncells, sizeof *ops_at); /* operation + 1 at each start */
    if (!c->cells || !ops_at) {
        free(ops_at);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    c->ncells = ncells;
    uint32_t *targets = malloc((size_t)ncells * sizeof *targets);
    if (!targets) {
        free(ops_at);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    uint32_t ntargets = 0;
    uint32_t max_cost = m->funcs[fi].body_size;
    wasmplug_status st = WASMPLUG_OK;
    uint32_t pc = 0;
    while (pc < ncells && st == WASMPLUG_OK) {
        uint32_t op = (uint32_t)get_le(r, 2);
        if (r->bad || op >= WP_OP_COUNT) {
            st = FAIL("function %u: bad operation at cell %u", fi, pc);
            break;
        }
        /* Fuel and interrupts are counted at function entry (and loops). */
        if (pc == 0 && op != WP_OP_FUEL) {
            st = FAIL("function %u: does not start with a fuel check", fi);
            break;
        }
        /* Guard-page loads and stores are unchecked: without a memory they
         * would read through a null base. The compiler never emits them
         * then (validation refuses such code). */
        if (wp_is_memory_op(op) && m->nmemories == 0) {
            st = FAIL("function %u: memory access at cell %u in a module without memory",
                      fi, pc);
            break;
        }
        ops_at[pc] = (uint16_t)(op + 1);
        c->cells[pc] = cells_for[op];
        const opinfo *oi = &info[op];
        bool rep = oi->rep, is_call = oi->is_call;
        size_t fixed = oi->fixed;
        uint64_t total = fixed; /* grows by n for a repeated letter after count n */
        uint32_t p = pc + 1;
        unsigned xpos = 0;
        for (uint64_t j = 0; j < total && st == WASMPLUG_OK; j++, p++) {
            char l = oi->l[j < fixed ? j : fixed - 1];
            bool wide = l == 'I' || l == 'R';
            uint64_t v = get_le(r, wide ? 8 : 4);
            if (r->bad || p >= ncells) {
                st = FAIL("function %u: truncated instruction at cell %u", fi, pc);
                break;
            }
            c->cells[p].u64 = 0;
            if (wide)
                c->cells[p].u64 = v;
            else
                c->cells[p].u32 = (uint32_t)v;
            /* A memory access adds its offset to a u32 address; guard pages
             * cover exactly that range, so no offset may exceed 32 bits. The
             * last immediate of the scaled forms also holds a shift count
             * (0-31) above its 32 bits; their handlers use nothing more. */
            bool memory_op = wp_is_memory_op(op);
            uint64_t imm_max = j + 1 == fixed && wp_imm_packs_shift(op)
                                   ? (uint64_t)31 << 32 | UINT32_MAX
                                   : UINT32_MAX;
            /* SIMD operations may read two slots from any slot operand. */
            if ((l == 'S' && v + (op >= WP_OP_V128_CONST) >= c->frame_size) ||
                (l == 'X' && v >= oi->xlim[xpos & 3]) ||
                /* CALL runs a defined function's code: never an import's. */
                (l == 'X' && op == WP_OP_CALL && v < m->num_imported_funcs) ||
                (l == 'N' && is_call && v > c->frame_size) ||
                (l == 'I' && memory_op && v > imm_max))
                st = FAIL("function %u: operand out of range at cell %u", fi, pc);
            /* The compiler costs a region with its number of wasm
             * instructions, at most the body's size in bytes: a larger cost
             * (or a negative one, which would give fuel back) is forged. */
            if (l == 'I' && op == WP_OP_FUEL && v > max_cost)
                st = FAIL("function %u: fuel cost %llu at cell %u exceeds the body's %u bytes",
                          fi, (unsigned long long)v, pc, max_cost);
            xpos += l == 'X';
            if (l == 'R') {
                /* Offsets are two's complement: unsigned arithmetic wraps a
                 * target before the function's start to a huge value. */
                uint64_t target = (uint64_t)pc + v;
                if (target >= ncells)
                    st = FAIL("function %u: branch out of the function at cell %u", fi, pc);
                else if (target > pc)
                    targets[ntargets++] = (uint32_t)target; /* checked at the end */
                else if (ops_at[target] != WP_OP_FUEL + 1)
                    /* backward: already read; the interpreter counts fuel there */
                    st = FAIL("function %u: backward branch to cell %u, not a loop header",
                              fi, (uint32_t)target);
                else if (c->cells[target + 1].u64 == 0)
                    /* a loop holds at least its branch: a free loop runs forever */
                    st = FAIL("function %u: loop header at cell %u costs no fuel", fi,
                              (uint32_t)target);
            }
            if (rep && l == 'N' && j + 1 < fixed) { /* the count: n more of the last letter */
                total = fixed + v;
                if (total > (uint64_t)ncells)
                    st = FAIL("function %u: branch table too long at cell %u", fi, pc);
            }
        }
        pc = p;
    }
    if (st == WASMPLUG_OK && pc != ncells)
        st = FAIL("function %u: code does not end on an instruction boundary", fi);
    for (uint32_t i = 0; st == WASMPLUG_OK && i < ntargets; i++)
        if (!ops_at[targets[i]])
            st = FAIL("function %u: branch into the middle of an instruction", fi);
    /* The stream is well-formed: now what it does with each slot. */
    if (st == WASMPLUG_OK)
        st = wp_verify_code(m, fi, c, ops_at, err);
    free(targets);
    free(ops_at);
    return st;
}

/* The module as validation (compile.c) checks it, less the function bodies
 * (read_code and verify.c check the compiled code instead): a global of a
 * reference type initialized with a number would otherwise be trusted as a
 * pointer. */
static wasmplug_status restore_module_checks(wasmplug_module *m, wasmplug_error *err)
{
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].type_index >= m->ntypes)
            return FAIL("bad function type %u", i);
    wasmplug_error verr;
    if (wp_validate_module(m, &verr) != WASMPLUG_OK)
        return verr.status == WASMPLUG_ERR_NOMEM
                   ? wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory")
                   : FAIL("the module does not validate: %s", verr.message);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_module_deserialize(wasmplug_engine *e, const uint8_t *data, size_t size,
                                            wasmplug_module **out, wasmplug_error *err)
{
    if (out)
        *out = NULL;
    if (!e || !out || (!data && size))
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_module_deserialize: engine, out and data are required");
    rbuf r = { data, size, 0, false };
    if (size < WPCM_HEADER || memcmp(data, "WPCM", 4) != 0)
        return FAIL("not a compiled wasmplug module");
    r.at = 4;
    uint32_t format = (uint32_t)get_le(&r, 4);
    uint64_t fp = get_le(&r, 8);
    uint32_t bounds = (uint32_t)get_le(&r, 4);
    uint64_t payload = get_le(&r, 8);
    uint64_t sum = get_le(&r, 8);
    if (format != WPCM_FORMAT)
        return FAIL("compiled module format %u, this engine reads format %u", format, WPCM_FORMAT);
    if (fp != fingerprint())
        return FAIL("compiled by a different engine build (this is wasmplug %s)",
                    WASMPLUG_VERSION_STRING);
    if (bounds != (uint32_t)wp_engine_bounds(e))
        return FAIL("compiled for another bounds-check mode (%u, the engine uses %u)", bounds,
                    (unsigned)wp_engine_bounds(e));
    if (payload != size - WPCM_HEADER)
        return FAIL("size mismatch (truncated or extended file)");
    if (sum != wp_serialized_checksum(data + WPCM_HEADER, payload))
        return FAIL("checksum mismatch (corrupt file)");

    uint32_t wsize = (uint32_t)get_le(&r, 4);
    if (r.bad || wsize > size - r.at)
        return FAIL("truncated module binary");
    wasmplug_module *m = wp_calloc(e, 1, sizeof *m);
    if (!m)
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    atomic_init(&m->refcount, 1);
    m->engine = e;
    wp_arena_init(&m->arena, e);
    m->bytes = wp_malloc(e, wsize);
    if (!m->bytes) {
        wp_free(e, m, sizeof *m);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    if (wsize)
        memcpy(m->bytes, data + r.at, wsize);
    m->size = wsize;
    r.at += wsize;

    wasmplug_status st = wp_decode(m, err);
    if (st == WASMPLUG_OK)
        st = restore_module_checks(m, err);
    if (st == WASMPLUG_OK) {
        uint32_t features = (uint32_t)get_le(&r, 4);
        uint32_t ndef = (uint32_t)get_le(&r, 4);
        if (r.bad || ndef != m->nfuncs - m->num_imported_funcs || (features & m->features) != m->features)
            st = FAIL("function count or features do not match the module");
        m->features = features;
    }
    if (st == WASMPLUG_OK) {
        wp_cell cells_for[WP_OP_COUNT];
        for (uint32_t op = 0; op < WP_OP_COUNT; op++)
            cells_for[op] = wp_op_cell_bounds((wp_op)op, wp_engine_bounds(e));
        opinfo *info = calloc(WP_OP_COUNT, sizeof *info);
        if (!info)
            st = wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
        for (uint32_t op = 0; info && op < WP_OP_COUNT; op++) {
            const char *ops = wp_op_operands[op];
            size_t nl = strlen(ops);
            opinfo *oi = &info[op];
            oi->rep = nl >= 4 && !strcmp(ops + nl - 3, "...");
            oi->fixed = (uint8_t)(oi->rep ? nl - 3 : nl);
            oi->is_call = op == WP_OP_CALL || op == WP_OP_CALL_IMPORT || op == WP_OP_CALL_INDIRECT;
            if (oi->fixed > sizeof oi->l) { /* cannot happen with ops.h today */
                st = FAIL("operation %u has too many operands for this loader", op);
                break;
            }
            unsigned x = 0;
            for (size_t j = 0; j < oi->fixed; j++) {
                oi->l[j] = ops[j];
                if (ops[j] == 'X' && x < 4)
                    oi->xlim[x] = index_limit(m, (wp_op)op, x), x++;
                else if (ops[j] == 'X') /* more than 4 indices: nothing may pass */
                    oi->xlim[0] = oi->xlim[1] = oi->xlim[2] = oi->xlim[3] = 0;
            }
        }
        for (uint32_t i = m->num_imported_funcs; i < m->nfuncs && st == WASMPLUG_OK; i++)
            st = read_code(m, &r, i, &m->funcs[i].code, cells_for, info, err);
        free(info);
    }
    if (st == WASMPLUG_OK && r.at != size)
        st = FAIL("trailing bytes after the last function");
    if (st != WASMPLUG_OK) {
        wp_module_release(m);
        return st;
    }
    *out = m;
    return WASMPLUG_OK;
}
