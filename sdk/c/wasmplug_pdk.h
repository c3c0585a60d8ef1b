/*
 * wasmplug_pdk.h - the C plugin development kit for wasmplug (ABI v1,
 * docs/ABI.md). One header, no other files, for both kinds of C plugin:
 *
 *   freestanding:  clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry ...
 *   WASI reactor:  clang --target=wasm32-wasi -O2 -mexec-model=reactor ...
 *
 * What it gives a plugin (everything static inline; unused parts cost nothing):
 *   - WP_FN(name) { ... }   an exported ABI v1 function () -> i32
 *   - input:  wp_input_bytes, wp_input_string, wp_input_json
 *   - output: wp_output, wp_output_str, wp_output_buf, wp_output_json
 *   - errors: wp_fail(code, msg) sets the message and returns the code
 *   - logs:   wp_log(level, msg), wp_log_info(msg), ...
 *   - config: wp_config(key), wp_config_int(key, default, &value)
 *   - host functions: WP_HOST_IMPORT(module, name) for typed ones,
 *     WP_HOST_BYTES + wp_host_call for bytes ones, wp_result_read
 *   - a per-call arena allocator (wp_alloc), reset before each WP_FN call,
 *     and wp_alloc_persistent for state kept across calls
 *   - wp_buf: a growable byte buffer with string/number/JSON appenders
 *   - wp_json: a small JSON parser (tree in the arena) and writer helpers
 *   - host services (ABI 1.1, each with its grant): wp_kv_get/set/delete/
 *     list/cas, wp_db_exec/query, wp_notify
 *   - HTTP (with the host's http permission): wp_http_get, wp_http_post,
 *     wp_http_request, wp_http_header, wp_http_json, wp_http_post_json
 *   - events (ABI 1.1): wp_event_publish, wp_event_request, and the handler
 *     macros WP_ON_EVENT (one event at a time) and WP_ON_EVENT_BATCH
 *
 * Memory: freestanding builds take arena pages with memory.grow; WASI builds
 * (where malloc exists) take them from malloc. Either way, what a call
 * allocates is released when the next WP_FN call starts.
 *
 * Freestanding builds get weak memcpy/memmove/memset/memcmp (clang emits
 * calls to them); define WP_NO_MEM_FUNCTIONS to supply your own.
 */
#ifndef WASMPLUG_PDK_H
#define WASMPLUG_PDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__wasi__)
#include <stdlib.h>
#include <string.h>
#define WP_USE_MALLOC 1
#endif

/* ------------------------------------------------------------------------ */
/* Exports and the raw ABI v1 imports                                       */
/* ------------------------------------------------------------------------ */

/** Export a C function under `name` (any signature: typed calls). */
#define WP_EXPORT(name) __attribute__((export_name(name)))

#define WP_IMPORT_(name) __attribute__((import_module("wasmplug"), import_name(name)))
WP_IMPORT_("input_len") int32_t wp_raw_input_len(void);
WP_IMPORT_("input_read") int32_t wp_raw_input_read(void *ptr, int32_t len, int32_t offset);
WP_IMPORT_("output_write") int32_t wp_raw_output_write(const void *ptr, int32_t len);
WP_IMPORT_("error_set") void wp_raw_error_set(const void *ptr, int32_t len);
WP_IMPORT_("log") void wp_raw_log(int32_t level, const void *ptr, int32_t len);
WP_IMPORT_("config_get") int32_t wp_raw_config_get(const void *key, int32_t key_len, void *out,
                                                    int32_t out_cap);
WP_IMPORT_("result_read") int32_t wp_raw_result_read(void *ptr, int32_t len, int32_t offset);
WP_IMPORT_("abi_version") int32_t wp_raw_abi_version(void);
/* Imported only by plugins that call the HTTP helpers (needs the http permission). */
WP_IMPORT_("http_request") int32_t wp_raw_http_request(const void *req, int32_t req_len,
                                                        void *out, int32_t out_cap);

static inline void wp_arena_reset(void);

/**
 * Define an exported ABI v1 function: WP_FN(count) { ...; return 0; }
 * Return 0 for success, any other value to fail the call (see wp_fail).
 * The per-call arena is reset before the body runs.
 */
#define WP_FN(name)                                                                  \
    static int wp_fn_body_##name(void);                                              \
    WP_EXPORT(#name) int32_t name(void);                                             \
    int32_t name(void)                                                               \
    {                                                                                \
        wp_arena_reset();                                                            \
        return wp_fn_body_##name();                                                  \
    }                                                                                \
    static int wp_fn_body_##name(void)

/** Log levels of wasmplug.log. */
enum { WP_TRACE = 0, WP_DEBUG = 1, WP_INFO = 2, WP_WARN = 3, WP_ERROR = 4 };

/** The largest input wp_input_bytes accepts (override before including). */
#ifndef WP_MAX_INPUT
#define WP_MAX_INPUT (16u << 20)
#endif

/* ------------------------------------------------------------------------ */
/* Memory functions for freestanding builds                                 */
/* ------------------------------------------------------------------------ */

#if !defined(WP_USE_MALLOC) && !defined(WP_NO_MEM_FUNCTIONS)
/* Weak, so several translation units (or your own versions) may coexist;
 * no_builtin keeps clang from turning the loops back into calls to themselves. */
#define WP_MEMFN_ __attribute__((weak, no_builtin))
typedef uint32_t __attribute__((may_alias)) wp_word_;
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
WP_MEMFN_ void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    /* Word copies when both are aligned (build with -mbulk-memory to get
     * memory.copy instead). */
    if ((((uintptr_t)dp | (uintptr_t)sp) & 3) == 0) {
        for (; n >= 4; n -= 4, dp += 4, sp += 4)
            *(wp_word_ *)dp = *(const wp_word_ *)sp;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}
WP_MEMFN_ void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    const unsigned char *sp = (const unsigned char *)s;
    if (dp < sp) {
        while (n--)
            *dp++ = *sp++;
    } else {
        while (n--)
            dp[n] = sp[n];
    }
    return d;
}
WP_MEMFN_ void *memset(void *d, int c, size_t n)
{
    unsigned char *dp = (unsigned char *)d;
    if (((uintptr_t)dp & 3) == 0) {
        uint32_t w = (uint32_t)(unsigned char)c * 0x01010101u;
        for (; n >= 4; n -= 4, dp += 4)
            *(wp_word_ *)dp = w;
    }
    while (n--)
        *dp++ = (unsigned char)c;
    return d;
}
WP_MEMFN_ int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}
#undef WP_MEMFN_
#endif

/* ------------------------------------------------------------------------ */
/* Small string helpers (no libc needed)                                    */
/* ------------------------------------------------------------------------ */

static inline size_t wp_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/** Whether the n bytes at a equal the C string b. */
static inline bool wp_eqn(const char *a, size_t n, const char *b)
{
    size_t m = wp_strlen(b);
    return n == m && memcmp(a, b, n) == 0;
}

static inline char wp_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ------------------------------------------------------------------------ */
/* The per-call arena                                                       */
/* ------------------------------------------------------------------------ */

typedef struct wp_chunk_ {
    struct wp_chunk_ *next;
    size_t cap, used;
} wp_chunk_;

static wp_chunk_ *wp_arena_head_;  /* chunks in use (newest first) */
static wp_chunk_ *wp_arena_spare_; /* grow mode: chunks to reuse after a reset */

static inline wp_chunk_ *wp_chunk_new_(size_t need)
{
    size_t cap = need + sizeof(wp_chunk_);
    cap = cap < 65536 ? 65536 : (cap + 65535) & ~(size_t)65535;
#ifdef WP_USE_MALLOC
    wp_chunk_ *c = (wp_chunk_ *)malloc(cap);
    if (!c)
        return NULL;
#else
    /* Reuse a spare chunk that is large enough. */
    for (wp_chunk_ **pp = &wp_arena_spare_; *pp; pp = &(*pp)->next) {
        if ((*pp)->cap >= cap) {
            wp_chunk_ *c = *pp;
            *pp = c->next;
            c->used = 0;
            return c;
        }
    }
    size_t page = __builtin_wasm_memory_grow(0, cap / 65536);
    if (page == (size_t)-1)
        return NULL;
    wp_chunk_ *c = (wp_chunk_ *)(page * 65536);
#endif
    c->cap = cap;
    c->used = 0;
    return c;
}

/** Release everything allocated since the last reset (WP_FN does this). */
static inline void wp_arena_reset(void)
{
    while (wp_arena_head_) {
        wp_chunk_ *c = wp_arena_head_;
        wp_arena_head_ = c->next;
#ifdef WP_USE_MALLOC
        free(c);
#else
        c->next = wp_arena_spare_;
        wp_arena_spare_ = c;
#endif
    }
}

/** n bytes (8-aligned, uninitialized) from the per-call arena; NULL when
 *  memory is exhausted. */
static inline void *wp_alloc(size_t n)
{
    n = (n + 7) & ~(size_t)7;
    wp_chunk_ *c = wp_arena_head_;
    size_t hdr = (sizeof(wp_chunk_) + 7) & ~(size_t)7;
    if (!c || c->cap - hdr - c->used < n) {
        if (n > ((size_t)1 << 30))
            return NULL;
        c = wp_chunk_new_(n + hdr);
        if (!c)
            return NULL;
        c->next = wp_arena_head_;
        wp_arena_head_ = c;
    }
    void *p = (char *)c + hdr + c->used;
    c->used += n;
    return p;
}

/**
 * n bytes (8-aligned) that live as long as the instance: for state kept
 * across calls (caches built from config, which cannot change while an
 * instance lives). Never freed. NULL when memory is exhausted.
 */
static inline void *wp_alloc_persistent(size_t n)
{
    n = (n + 7) & ~(size_t)7;
#ifdef WP_USE_MALLOC
    return malloc(n ? n : 8);
#else
    static char *cur, *end;
    if ((size_t)(end - cur) < n) {
        size_t pages = (n + 65535) / 65536;
        size_t page = __builtin_wasm_memory_grow(0, pages);
        if (page == (size_t)-1)
            return NULL;
        cur = (char *)(page * 65536);
        end = cur + pages * 65536;
    }
    void *p = cur;
    cur += n;
    return p;
#endif
}

/** Grow an arena block from old_n to new_n bytes (copies). */
static inline void *wp_realloc(void *old, size_t old_n, size_t new_n)
{
    void *p = wp_alloc(new_n);
    if (p && old)
        memcpy(p, old, old_n < new_n ? old_n : new_n);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Errors and logs                                                          */
/* ------------------------------------------------------------------------ */

/** Set the call's error message and return code (return it from WP_FN). */
static inline int wp_fail(int code, const char *msg)
{
    wp_raw_error_set(msg, (int32_t)wp_strlen(msg));
    return code ? code : 1;
}

/** Set the error message without returning a code. */
static inline void wp_set_error(const char *msg, size_t len)
{
    wp_raw_error_set(msg, (int32_t)len);
}

static inline void wp_log(int level, const char *msg)
{
    wp_raw_log(level, msg, (int32_t)wp_strlen(msg));
}
static inline void wp_log_debug(const char *msg) { wp_log(WP_DEBUG, msg); }
static inline void wp_log_info(const char *msg) { wp_log(WP_INFO, msg); }
static inline void wp_log_warn(const char *msg) { wp_log(WP_WARN, msg); }
static inline void wp_log_error(const char *msg) { wp_log(WP_ERROR, msg); }

/* ------------------------------------------------------------------------ */
/* Byte buffer                                                              */
/* ------------------------------------------------------------------------ */

/** A growable buffer in the arena. Zero-initialize it: wp_buf b = {0}. */
typedef struct wp_buf {
    char *data;
    size_t len, cap;
    bool oom; /* an append failed for lack of memory */
} wp_buf;

static inline bool wp_buf_reserve(wp_buf *b, size_t extra)
{
    if (b->cap - b->len > extra)
        return true;
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap - b->len <= extra)
        cap *= 2;
    char *p = (char *)wp_realloc(b->data, b->len, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static inline void wp_buf_add(wp_buf *b, const void *data, size_t n)
{
    if (n && wp_buf_reserve(b, n)) {
        memcpy(b->data + b->len, data, n);
        b->len += n;
        b->data[b->len] = '\0';
    }
}
static inline void wp_buf_str(wp_buf *b, const char *s) { wp_buf_add(b, s, wp_strlen(s)); }
static inline void wp_buf_char(wp_buf *b, char c) { wp_buf_add(b, &c, 1); }

static inline void wp_buf_int(wp_buf *b, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    while (n)
        wp_buf_char(b, tmp[--n]);
}

/** A number as JSON: integers exactly, others with up to 6 decimals
 *  (trailing zeros dropped); NaN and infinities as null. */
static inline void wp_buf_double(wp_buf *b, double v)
{
    if (v != v || v > 1e300 || v < -1e300) {
        wp_buf_str(b, "null");
        return;
    }
    if (v < 0) {
        wp_buf_char(b, '-');
        v = -v;
    }
    if (v >= 9e15) { /* too large for the integer path: x.xxxxxxe+N */
        int e = 0;
        while (v >= 10) {
            v /= 10;
            e++;
        }
        wp_buf_double(b, v);
        wp_buf_str(b, "e+");
        wp_buf_int(b, e);
        return;
    }
    unsigned long long ip = (unsigned long long)v;
    double frac = v - (double)ip;
    unsigned long long f = (unsigned long long)(frac * 1e6 + 0.5);
    if (f >= 1000000) {
        ip++;
        f = 0;
    }
    wp_buf_int(b, (long long)ip);
    if (f) {
        char d[7];
        for (int i = 5; i >= 0; i--) {
            d[i] = (char)('0' + f % 10);
            f /= 10;
        }
        int n = 6;
        while (n > 0 && d[n - 1] == '0')
            n--;
        wp_buf_char(b, '.');
        wp_buf_add(b, d, (size_t)n);
    }
}

/** A JSON string literal (quotes and escapes) for n bytes of UTF-8. */
static inline void wp_buf_json_string(wp_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    wp_buf_char(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': wp_buf_str(b, "\\\""); break;
        case '\\': wp_buf_str(b, "\\\\"); break;
        case '\n': wp_buf_str(b, "\\n"); break;
        case '\r': wp_buf_str(b, "\\r"); break;
        case '\t': wp_buf_str(b, "\\t"); break;
        default:
            if (c < 0x20) {
                char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                wp_buf_add(b, e, 6);
            } else {
                wp_buf_char(b, (char)c);
            }
        }
    }
    wp_buf_char(b, '"');
}

/* ------------------------------------------------------------------------ */
/* Input and output                                                         */
/* ------------------------------------------------------------------------ */

/** The call's input length in bytes. */
static inline size_t wp_input_len(void) { return (size_t)wp_raw_input_len(); }

/**
 * The whole input in the arena, NUL-terminated (so it is also a C string
 * when it holds text). NULL on failure, with the call's error message set:
 * input larger than WP_MAX_INPUT, or out of memory.
 */
static inline const char *wp_input_bytes(size_t *len)
{
    size_t n = wp_input_len();
    if (len)
        *len = 0;
    if (n > WP_MAX_INPUT) {
        wp_fail(1, "input too large");
        return NULL;
    }
    char *p = (char *)wp_alloc(n + 1);
    if (!p) {
        wp_fail(1, "out of memory reading the input");
        return NULL;
    }
    size_t got = 0;
    while (got < n) {
        int32_t r = wp_raw_input_read(p + got, (int32_t)(n - got), (int32_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    p[got] = '\0';
    if (len)
        *len = got;
    return p;
}

/** The input as a NUL-terminated string (see wp_input_bytes). */
static inline const char *wp_input_string(void) { return wp_input_bytes(NULL); }

/** Append bytes to the call's output. */
static inline void wp_output(const void *data, size_t len)
{
    wp_raw_output_write(data, (int32_t)len);
}
static inline void wp_output_str(const char *s) { wp_output(s, wp_strlen(s)); }

/** Write a buffer as the output; fails the call if the buffer ran out of memory. */
static inline int wp_output_buf(const wp_buf *b)
{
    if (b->oom)
        return wp_fail(1, "out of memory building the output");
    wp_output(b->data, b->len);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Config                                                                   */
/* ------------------------------------------------------------------------ */

/** The config value for key (NUL-terminated, in the arena), or NULL if unset. */
static inline const char *wp_config(const char *key)
{
    char small[128];
    int32_t klen = (int32_t)wp_strlen(key);
    int32_t n = wp_raw_config_get(key, klen, small, (int32_t)sizeof small);
    if (n < 0)
        return NULL;
    char *p = (char *)wp_alloc((size_t)n + 1);
    if (!p)
        return NULL;
    if ((size_t)n <= sizeof small)
        memcpy(p, small, (size_t)n);
    else
        wp_raw_config_get(key, klen, p, n);
    p[n] = '\0';
    return p;
}

/** Parse a decimal integer (optional sign, surrounding spaces). */
static inline bool wp_parse_int(const char *s, long long *out)
{
    while (*s == ' ')
        s++;
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > 100000000000000000ull)
            return false;
        v = v * 10 + (unsigned)(*s++ - '0');
    }
    while (*s == ' ')
        s++;
    if (*s)
        return false;
    *out = neg ? -(long long)v : (long long)v;
    return true;
}

/**
 * An integer config value: *out = the value, or dflt when the key is unset.
 * Returns false (and sets the call's error "config KEY: not an integer")
 * when the value is set but not an integer.
 */
static inline bool wp_config_int(const char *key, long long dflt, long long *out)
{
    const char *v = wp_config(key);
    *out = dflt;
    if (!v)
        return true;
    if (wp_parse_int(v, out))
        return true;
    wp_buf m = {0};
    wp_buf_str(&m, "config ");
    wp_buf_str(&m, key);
    wp_buf_str(&m, ": not an integer: ");
    wp_buf_str(&m, v);
    if (m.data)
        wp_set_error(m.data, m.len);
    return false;
}

/** A boolean config value ("true"/"1"/"yes" or "false"/"0"/"no"); dflt when unset. */
static inline bool wp_config_bool(const char *key, bool dflt)
{
    const char *v = wp_config(key);
    if (!v)
        return dflt;
    if (wp_eqn(v, wp_strlen(v), "true") || wp_eqn(v, wp_strlen(v), "1") ||
        wp_eqn(v, wp_strlen(v), "yes"))
        return true;
    if (wp_eqn(v, wp_strlen(v), "false") || wp_eqn(v, wp_strlen(v), "0") ||
        wp_eqn(v, wp_strlen(v), "no"))
        return false;
    return dflt;
}

/* ------------------------------------------------------------------------ */
/* Host functions the embedder registered                                   */
/* ------------------------------------------------------------------------ */

/**
 * Import a host function module.name (registered with
 * wasmplug_host_register and granted to the plugin):
 *
 *     WP_HOST_IMPORT("env", "mul") int32_t env_mul(int32_t a, int32_t b);
 *
 * Typed host functions take and return i32/i64/f32/f64; a "p" parameter of
 * the signature is two i32s, a pointer and a length.
 */
#define WP_HOST_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))

/** The wasm type of a bytes host function (wasmplug_host_register_bytes). */
typedef int32_t (*wp_bytes_host_fn)(const void *in, int32_t in_len, void *out, int32_t out_cap);

/**
 * Import a bytes host function module.name as the C function `cname`:
 *
 *     WP_HOST_BYTES("env", "lookup", env_lookup);
 *     ...
 *     const uint8_t *res; size_t res_len;
 *     int32_t rc = wp_host_call(env_lookup, key, key_len, &res, &res_len);
 *
 * Call it through wp_host_call, which fetches a result of any length.
 */
#define WP_HOST_BYTES(module, name, cname)                                            \
    WP_HOST_IMPORT(module, name)                                                      \
    int32_t cname(const void *in, int32_t in_len, void *out, int32_t out_cap)

/**
 * Read `len` bytes of the last bytes host function's result, from `offset`,
 * into dst (wasmplug.result_read). Returns the number of bytes copied (0 at
 * the end).
 */
static inline size_t wp_result_read(void *dst, size_t len, size_t offset)
{
    int32_t n = wp_raw_result_read(dst, (int32_t)len, (int32_t)offset);
    return n > 0 ? (size_t)n : 0;
}

/**
 * Call a bytes host function with in[0..in_len) and get its whole result
 * (in the arena) in *out / *out_len, however long it is. Returns 0 on
 * success, or the host function's soft error N > 0, with *out then holding
 * the bytes it gave (e.g. a message). -1: out of memory.
 */
static inline int32_t wp_host_call(wp_bytes_host_fn fn, const void *in, size_t in_len,
                                   const uint8_t **out, size_t *out_len)
{
    enum { FIRST = 256 };
    *out = (const uint8_t *)"";
    *out_len = 0;
    uint8_t *buf = (uint8_t *)wp_alloc(FIRST);
    if (!buf)
        return -1;
    int32_t n = fn(in, (int32_t)in_len, buf, FIRST);
    if (n >= 0 && n <= FIRST) {
        *out = buf;
        *out_len = (size_t)n;
        return 0;
    }
    if (n > FIRST) { /* the rest with result_read */
        uint8_t *all = (uint8_t *)wp_alloc((size_t)n);
        if (!all)
            return -1;
        memcpy(all, buf, FIRST);
        wp_result_read(all + FIRST, (size_t)n - FIRST, FIRST);
        *out = all;
        *out_len = (size_t)n;
        return 0;
    }
    /* A soft error: the result bytes (of unknown length) hold its message. */
    wp_buf msg = {0};
    uint8_t chunk[128];
    size_t got;
    while ((got = wp_result_read(chunk, sizeof chunk, msg.len)) > 0)
        wp_buf_add(&msg, chunk, got);
    *out = (const uint8_t *)(msg.data ? msg.data : "");
    *out_len = msg.len;
    return -n;
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */
/* ------------------------------------------------------------------------ */

typedef enum wp_json_type {
    WP_JSON_NULL,
    WP_JSON_BOOL,
    WP_JSON_NUMBER,
    WP_JSON_STRING,
    WP_JSON_ARRAY,
    WP_JSON_OBJECT
} wp_json_type;

/** A parsed JSON value (in the arena). Arrays and objects hold `count`
 *  items; object items have keys. Strings are decoded UTF-8, NUL-terminated. */
typedef struct wp_json {
    wp_json_type type;
    bool boolean;
    double number;
    const char *str; /* strings: the text; */
    size_t len;      /*          its length */
    size_t count;
    const char **keys; /* objects: count keys (NUL-terminated) */
    struct wp_json **items;
} wp_json;

typedef struct wp_json_parser_ {
    const char *s, *end, *start;
    const char *err;
    int depth;
} wp_json_parser_;

static inline void wp_json_ws_(wp_json_parser_ *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static inline wp_json *wp_json_parse_value_(wp_json_parser_ *p);

static inline int wp_hex_(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = wp_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static inline void wp_utf8_(wp_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    wp_buf_add(b, u, n);
}

static inline bool wp_json_string_(wp_json_parser_ *p, const char **out, size_t *len)
{
    p->s++; /* opening quote */
    wp_buf b = {0};
    wp_buf_reserve(&b, 16);
    while (p->s < p->end && *p->s != '"') {
        unsigned char c = (unsigned char)*p->s;
        if (c < 0x20) {
            p->err = "control character in string";
            return false;
        }
        if (c != '\\') {
            wp_buf_char(&b, (char)c);
            p->s++;
            continue;
        }
        if (++p->s >= p->end)
            break;
        char e = *p->s++;
        switch (e) {
        case '"': wp_buf_char(&b, '"'); break;
        case '\\': wp_buf_char(&b, '\\'); break;
        case '/': wp_buf_char(&b, '/'); break;
        case 'b': wp_buf_char(&b, '\b'); break;
        case 'f': wp_buf_char(&b, '\f'); break;
        case 'n': wp_buf_char(&b, '\n'); break;
        case 'r': wp_buf_char(&b, '\r'); break;
        case 't': wp_buf_char(&b, '\t'); break;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = p->s < p->end ? wp_hex_(*p->s) : -1;
                if (h < 0) {
                    p->err = "bad \\u escape";
                    return false;
                }
                cp = cp * 16 + (uint32_t)h;
                p->s++;
            }
            if (cp >= 0xD800 && cp < 0xDC00 && p->end - p->s >= 6 && p->s[0] == '\\' &&
                p->s[1] == 'u') {
                uint32_t lo = 0;
                bool ok = true;
                for (int i = 2; i < 6; i++) {
                    int h = wp_hex_(p->s[i]);
                    ok = ok && h >= 0;
                    lo = lo * 16 + (uint32_t)(h < 0 ? 0 : h);
                }
                if (ok && lo >= 0xDC00 && lo < 0xE000) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p->s += 6;
                }
            }
            wp_utf8_(&b, cp);
            break;
        }
        default:
            p->err = "bad escape in string";
            return false;
        }
    }
    if (p->s >= p->end) {
        p->err = "unterminated string";
        return false;
    }
    p->s++; /* closing quote */
    if (b.oom) {
        p->err = "out of memory";
        return false;
    }
    *out = b.data;
    *len = b.len;
    return true;
}

static inline bool wp_json_number_(wp_json_parser_ *p, double *out)
{
    const char *s = p->s;
    bool neg = false;
    if (s < p->end && *s == '-') {
        neg = true;
        s++;
    }
    if (s >= p->end || *s < '0' || *s > '9') {
        p->err = "bad number";
        return false;
    }
    double v = 0;
    if (*s == '0') {
        s++;
    } else {
        while (s < p->end && *s >= '0' && *s <= '9')
            v = v * 10 + (*s++ - '0');
    }
    if (s < p->end && *s == '.') {
        s++;
        if (s >= p->end || *s < '0' || *s > '9') {
            p->err = "bad number";
            return false;
        }
        double scale = 0.1;
        while (s < p->end && *s >= '0' && *s <= '9') {
            v += (*s++ - '0') * scale;
            scale *= 0.1;
        }
    }
    if (s < p->end && (*s == 'e' || *s == 'E')) {
        s++;
        bool eneg = false;
        if (s < p->end && (*s == '+' || *s == '-'))
            eneg = *s++ == '-';
        if (s >= p->end || *s < '0' || *s > '9') {
            p->err = "bad number";
            return false;
        }
        int e = 0;
        while (s < p->end && *s >= '0' && *s <= '9') {
            if (e < 10000)
                e = e * 10 + (*s - '0');
            s++;
        }
        while (e-- > 0)
            v = eneg ? v / 10 : v * 10;
    }
    p->s = s;
    *out = neg ? -v : v;
    return true;
}

static inline wp_json *wp_json_new_(wp_json_parser_ *p, wp_json_type t)
{
    wp_json *j = (wp_json *)wp_alloc(sizeof *j);
    if (!j) {
        p->err = "out of memory";
        return NULL;
    }
    memset(j, 0, sizeof *j);
    j->type = t;
    return j;
}

static inline bool wp_json_push_(wp_json_parser_ *p, wp_json *j, size_t *cap, const char *key,
                                 wp_json *item)
{
    if (j->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        j->items = (wp_json **)wp_realloc(j->items, j->count * sizeof *j->items,
                                          nc * sizeof *j->items);
        if (j->type == WP_JSON_OBJECT)
            j->keys = (const char **)wp_realloc(j->keys, j->count * sizeof *j->keys,
                                                nc * sizeof *j->keys);
        if (!j->items || (j->type == WP_JSON_OBJECT && !j->keys)) {
            p->err = "out of memory";
            return false;
        }
        *cap = nc;
    }
    if (j->type == WP_JSON_OBJECT)
        j->keys[j->count] = key;
    j->items[j->count++] = item;
    return true;
}

static inline bool wp_json_lit_(wp_json_parser_ *p, const char *word)
{
    size_t n = wp_strlen(word);
    if ((size_t)(p->end - p->s) >= n && memcmp(p->s, word, n) == 0) {
        p->s += n;
        return true;
    }
    p->err = "unexpected character";
    return false;
}

static inline wp_json *wp_json_parse_value_(wp_json_parser_ *p)
{
    wp_json_ws_(p);
    if (p->s >= p->end) {
        p->err = "unexpected end of input";
        return NULL;
    }
    if (++p->depth > 200) {
        p->err = "nesting too deep";
        return NULL;
    }
    wp_json *j = NULL;
    char c = *p->s;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        char close = obj ? '}' : ']';
        j = wp_json_new_(p, obj ? WP_JSON_OBJECT : WP_JSON_ARRAY);
        if (!j)
            return NULL;
        size_t cap = 0;
        p->s++;
        wp_json_ws_(p);
        if (p->s < p->end && *p->s == close) {
            p->s++;
        } else {
            for (;;) {
                const char *key = NULL;
                size_t klen;
                wp_json_ws_(p);
                if (obj) {
                    if (p->s >= p->end || *p->s != '"') {
                        p->err = "expected a string key";
                        return NULL;
                    }
                    if (!wp_json_string_(p, &key, &klen))
                        return NULL;
                    wp_json_ws_(p);
                    if (p->s >= p->end || *p->s != ':') {
                        p->err = "expected ':'";
                        return NULL;
                    }
                    p->s++;
                }
                wp_json *item = wp_json_parse_value_(p);
                if (!item || !wp_json_push_(p, j, &cap, key, item))
                    return NULL;
                wp_json_ws_(p);
                if (p->s < p->end && *p->s == ',') {
                    p->s++;
                    continue;
                }
                if (p->s < p->end && *p->s == close) {
                    p->s++;
                    break;
                }
                p->err = obj ? "expected ',' or '}'" : "expected ',' or ']'";
                return NULL;
            }
        }
    } else if (c == '"') {
        j = wp_json_new_(p, WP_JSON_STRING);
        if (!j || !wp_json_string_(p, &j->str, &j->len))
            return NULL;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
        j = wp_json_new_(p, WP_JSON_NUMBER);
        if (!j || !wp_json_number_(p, &j->number))
            return NULL;
    } else if (c == 't' || c == 'f') {
        j = wp_json_new_(p, WP_JSON_BOOL);
        if (!j || !wp_json_lit_(p, c == 't' ? "true" : "false"))
            return NULL;
        j->boolean = c == 't';
    } else if (c == 'n') {
        j = wp_json_new_(p, WP_JSON_NULL);
        if (!j || !wp_json_lit_(p, "null"))
            return NULL;
    } else {
        p->err = "unexpected character";
        return NULL;
    }
    p->depth--;
    return j;
}

/**
 * Parse n bytes of JSON. On failure returns NULL and, if err is not NULL,
 * *err gets a static reason and *at the byte offset.
 */
static inline wp_json *wp_json_parse(const char *s, size_t n, const char **err, size_t *at)
{
    wp_json_parser_ p = {s, s + n, s, NULL, 0};
    wp_json *j = wp_json_parse_value_(&p);
    if (j) {
        wp_json_ws_(&p);
        if (p.s != p.end) {
            p.err = "trailing characters";
            j = NULL;
        }
    }
    if (!j) {
        if (err)
            *err = p.err ? p.err : "invalid JSON";
        if (at)
            *at = (size_t)(p.s - p.start);
    }
    return j;
}

/**
 * The input parsed as JSON. NULL on failure with the call's error set to
 * "invalid JSON input: <reason> at byte <N>" (or the input error).
 */
static inline wp_json *wp_input_json(void)
{
    size_t n;
    const char *s = wp_input_bytes(&n);
    if (!s)
        return NULL;
    const char *why;
    size_t at;
    wp_json *j = wp_json_parse(s, n, &why, &at);
    if (!j) {
        wp_buf m = {0};
        wp_buf_str(&m, "invalid JSON input: ");
        wp_buf_str(&m, why);
        wp_buf_str(&m, " at byte ");
        wp_buf_int(&m, (long long)at);
        if (m.data)
            wp_set_error(m.data, m.len);
    }
    return j;
}

/** Object member by key, or NULL (also for non-objects and NULL). */
static inline wp_json *wp_json_get(const wp_json *j, const char *key)
{
    if (!j || j->type != WP_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < j->count; i++)
        if (wp_eqn(j->keys[i], wp_strlen(j->keys[i]), key))
            return j->items[i];
    return NULL;
}

/** Array item i, or NULL. */
static inline wp_json *wp_json_at(const wp_json *j, size_t i)
{
    if (!j || (j->type != WP_JSON_ARRAY && j->type != WP_JSON_OBJECT) || i >= j->count)
        return NULL;
    return j->items[i];
}

/** A member's string, or NULL if missing or not a string. */
static inline const char *wp_json_get_string(const wp_json *j, const char *key)
{
    wp_json *v = wp_json_get(j, key);
    return v && v->type == WP_JSON_STRING ? v->str : NULL;
}

/** A member's number, or dflt if missing or not a number. */
static inline double wp_json_get_number(const wp_json *j, const char *key, double dflt)
{
    wp_json *v = wp_json_get(j, key);
    return v && v->type == WP_JSON_NUMBER ? v->number : dflt;
}

/** Serialize a value (compact). */
static inline void wp_json_write(wp_buf *b, const wp_json *j)
{
    if (!j) {
        wp_buf_str(b, "null");
        return;
    }
    switch (j->type) {
    case WP_JSON_NULL: wp_buf_str(b, "null"); break;
    case WP_JSON_BOOL: wp_buf_str(b, j->boolean ? "true" : "false"); break;
    case WP_JSON_NUMBER: wp_buf_double(b, j->number); break;
    case WP_JSON_STRING: wp_buf_json_string(b, j->str, j->len); break;
    case WP_JSON_ARRAY:
    case WP_JSON_OBJECT:
        wp_buf_char(b, j->type == WP_JSON_ARRAY ? '[' : '{');
        for (size_t i = 0; i < j->count; i++) {
            if (i)
                wp_buf_char(b, ',');
            if (j->type == WP_JSON_OBJECT) {
                wp_buf_json_string(b, j->keys[i], wp_strlen(j->keys[i]));
                wp_buf_char(b, ':');
            }
            wp_json_write(b, j->items[i]);
        }
        wp_buf_char(b, j->type == WP_JSON_ARRAY ? ']' : '}');
        break;
    }
}

/* ---- JSON writer: build output without hand-placing commas ---- */

/** A JSON writer over a wp_buf: wp_jw w = {0}; wp_jw_object(&w); ... */
typedef struct wp_jw {
    wp_buf buf;
    int depth;
    bool need_comma[64];
    bool after_key;
} wp_jw;

static inline void wp_jw_sep_(wp_jw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && w->depth < 64) {
        if (w->need_comma[w->depth])
            wp_buf_char(&w->buf, ',');
        w->need_comma[w->depth] = true;
    }
}
static inline void wp_jw_open_(wp_jw *w, char c)
{
    wp_jw_sep_(w);
    wp_buf_char(&w->buf, c);
    if (++w->depth < 64)
        w->need_comma[w->depth] = false;
}
static inline void wp_jw_object(wp_jw *w) { wp_jw_open_(w, '{'); }
static inline void wp_jw_array(wp_jw *w) { wp_jw_open_(w, '['); }
static inline void wp_jw_end_object(wp_jw *w)
{
    w->depth--;
    wp_buf_char(&w->buf, '}');
}
static inline void wp_jw_end_array(wp_jw *w)
{
    w->depth--;
    wp_buf_char(&w->buf, ']');
}
/** An object key; the next value written is its value. */
static inline void wp_jw_key(wp_jw *w, const char *key)
{
    wp_jw_sep_(w);
    wp_buf_json_string(&w->buf, key, wp_strlen(key));
    wp_buf_char(&w->buf, ':');
    w->after_key = true;
}
static inline void wp_jw_string(wp_jw *w, const char *s)
{
    wp_jw_sep_(w);
    wp_buf_json_string(&w->buf, s, wp_strlen(s));
}
static inline void wp_jw_stringn(wp_jw *w, const char *s, size_t n)
{
    wp_jw_sep_(w);
    wp_buf_json_string(&w->buf, s, n);
}
static inline void wp_jw_int(wp_jw *w, long long v)
{
    wp_jw_sep_(w);
    wp_buf_int(&w->buf, v);
}
static inline void wp_jw_number(wp_jw *w, double v)
{
    wp_jw_sep_(w);
    wp_buf_double(&w->buf, v);
}
static inline void wp_jw_bool(wp_jw *w, bool v)
{
    wp_jw_sep_(w);
    wp_buf_str(&w->buf, v ? "true" : "false");
}
static inline void wp_jw_null(wp_jw *w)
{
    wp_jw_sep_(w);
    wp_buf_str(&w->buf, "null");
}
static inline void wp_jw_value(wp_jw *w, const wp_json *j)
{
    wp_jw_sep_(w);
    wp_json_write(&w->buf, j);
}

/** Write the writer's JSON as the call's output (0, or a failure code). */
static inline int wp_output_json(const wp_jw *w)
{
    return wp_output_buf(&w->buf);
}

/* ------------------------------------------------------------------------ */
/* Host services (ABI 1.1): key-value storage, SQL, notifications          */
/* ------------------------------------------------------------------------ */
/*
 * Each needs its grant (docs/ABI.md): the manifest requests it under
 * permissions (storage: true -> kv, database: true -> db, notify: true ->
 * notify). Misuse (an empty or oversized key, a quota exceeded, forbidden
 * SQL) fails the whole call with a specific error, and a failed call's
 * writes are rolled back, so these wrappers only return what can happen
 * in a correct plugin. Results are in the call's arena.
 */
#define WP_SVC_(name) __attribute__((import_module("wasmplug"), import_name(name)))
WP_SVC_("kv_get") int32_t wp_raw_kv_get(const void *key, int32_t key_len, void *out, int32_t cap);
WP_SVC_("kv_set") int32_t wp_raw_kv_set(const void *key, int32_t key_len, const void *value,
                                        int32_t value_len);
WP_SVC_("kv_delete") int32_t wp_raw_kv_delete(const void *key, int32_t key_len);
WP_SVC_("kv_list") int32_t wp_raw_kv_list(const void *prefix, int32_t prefix_len,
                                          const void *after, int32_t after_len, int32_t limit,
                                          void *out, int32_t cap);
WP_SVC_("kv_cas") int32_t wp_raw_kv_cas(const void *key, int32_t key_len, const void *expected,
                                        int32_t expected_len, const void *value,
                                        int32_t value_len, int32_t flags);
WP_SVC_("db_exec") int32_t wp_raw_db_exec(const void *sql, int32_t sql_len, const void *params,
                                          int32_t params_len);
WP_SVC_("db_query") int32_t wp_raw_db_query(const void *sql, int32_t sql_len, const void *params,
                                            int32_t params_len, void *out, int32_t cap);
WP_SVC_("notify") int32_t wp_raw_notify(int32_t level, const void *title, int32_t title_len,
                                        const void *body, int32_t body_len);

/* The whole result of the last service call, into the arena (NUL-terminated). */
static inline char *wp_result_(int32_t n, const char *first, int32_t first_len)
{
    char *p = (char *)wp_alloc((size_t)n + 1);
    if (!p)
        return NULL;
    if (n <= first_len)
        memcpy(p, first, (size_t)n);
    else
        wp_raw_result_read(p, n, 0);
    p[n] = '\0';
    return p;
}

/** The value of key: its bytes (NUL-terminated) and length, or NULL if absent. */
static inline const char *wp_kv_get(const void *key, size_t key_len, size_t *value_len)
{
    char small[256];
    int32_t n = wp_raw_kv_get(key, (int32_t)key_len, small, (int32_t)sizeof small);
    if (value_len)
        *value_len = n < 0 ? 0 : (size_t)n;
    return n < 0 ? NULL : wp_result_(n, small, (int32_t)sizeof small);
}
/** Set key to value. */
static inline void wp_kv_set(const void *key, size_t key_len, const void *value, size_t value_len)
{
    wp_raw_kv_set(key, (int32_t)key_len, value, (int32_t)value_len);
}
/** Delete key: true if it existed. */
static inline bool wp_kv_delete(const void *key, size_t key_len)
{
    return wp_raw_kv_delete(key, (int32_t)key_len) == 1;
}
/** C-string forms. */
static inline const char *wp_kv_get_str(const char *key)
{
    return wp_kv_get(key, wp_strlen(key), NULL);
}
static inline void wp_kv_set_str(const char *key, const char *value)
{
    wp_kv_set(key, wp_strlen(key), value, wp_strlen(value));
}
/**
 * Compare-and-set: if key holds expected (NULL: if key is absent), set it
 * to value (NULL: delete it). True when it did.
 */
static inline bool wp_kv_cas(const void *key, size_t key_len, const void *expected,
                             size_t expected_len, const void *value, size_t value_len)
{
    int32_t flags = (expected ? 0 : 1) | (value ? 0 : 2);
    return wp_raw_kv_cas(key, (int32_t)key_len, expected ? expected : "",
                         expected ? (int32_t)expected_len : 0, value ? value : "",
                         value ? (int32_t)value_len : 0, flags) == 1;
}

/** A page of keys from wp_kv_list (each NUL-terminated, in the arena). */
typedef struct wp_kv_keys {
    size_t count;
    const char **keys;
    size_t *lens;
} wp_kv_keys;

/**
 * The keys starting with prefix, in byte order, after `after` (the last
 * key of the previous page; NULL for the first), at most limit (1..10000).
 * Fewer than limit keys means this was the last page.
 */
static inline bool wp_kv_list(const void *prefix, size_t prefix_len, const void *after,
                              size_t after_len, int32_t limit, wp_kv_keys *out)
{
    char small[1024];
    out->count = 0;
    int32_t n = wp_raw_kv_list(prefix ? prefix : "", (int32_t)prefix_len, after ? after : "",
                               after ? (int32_t)after_len : 0, limit, small,
                               (int32_t)sizeof small);
    const char *r = wp_result_(n, small, (int32_t)sizeof small);
    size_t cap = (size_t)limit;
    out->keys = (const char **)wp_alloc(cap * sizeof(char *));
    out->lens = (size_t *)wp_alloc(cap * sizeof(size_t));
    if (!r || !out->keys || !out->lens)
        return false;
    for (int32_t at = 0; at + 4 <= n && out->count < cap;) {
        const uint8_t *u = (const uint8_t *)r + at;
        size_t len = (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 | (size_t)u[3] << 24;
        char *k = (char *)wp_alloc(len + 1);
        if (!k)
            return false;
        memcpy(k, r + at + 4, len);
        k[len] = '\0';
        out->keys[out->count] = k;
        out->lens[out->count++] = len;
        at += 4 + (int32_t)len;
    }
    return true;
}

/**
 * Run SQL (one or more statements) with params a JSON array (?1, ?2...) or
 * object (:name) of scalars, or NULL; parameters are bound, never spliced.
 * The number of rows changed, or -1 on an SQL error (wp_db_error()).
 */
static inline int32_t wp_db_exec(const char *sql, const char *params_json)
{
    return wp_raw_db_exec(sql, (int32_t)wp_strlen(sql), params_json ? params_json : "",
                          params_json ? (int32_t)wp_strlen(params_json) : 0);
}
/** Run one query: its rows as a JSON array of objects (column name ->
 *  value), or NULL on an SQL error (wp_db_error()). */
static inline const char *wp_db_query(const char *sql, const char *params_json)
{
    char small[512];
    int32_t n = wp_raw_db_query(sql, (int32_t)wp_strlen(sql), params_json ? params_json : "",
                                params_json ? (int32_t)wp_strlen(params_json) : 0, small,
                                (int32_t)sizeof small);
    return n < 0 ? NULL : wp_result_(n, small, (int32_t)sizeof small);
}
/** The message of the last SQL error (after -1 / NULL from wp_db_*). */
static inline const char *wp_db_error(void)
{
    char *p = (char *)wp_alloc(512);
    if (!p)
        return "out of memory";
    int32_t n = wp_raw_result_read(p, 511, 0);
    p[n > 0 ? n : 0] = '\0';
    return p;
}

/** Notification levels. */
enum { WP_NOTIFY_INFO = 0, WP_NOTIFY_SUCCESS = 1, WP_NOTIFY_WARNING = 2, WP_NOTIFY_ERROR = 3 };
/** Show a notification (title up to 256 bytes, body up to 64 KiB, UTF-8). */
static inline void wp_notify(int level, const char *title, const char *body)
{
    wp_raw_notify(level, title, (int32_t)wp_strlen(title), body ? body : "",
                  body ? (int32_t)wp_strlen(body) : 0);
}

/* ------------------------------------------------------------------------ */
/* Outbound HTTP (docs/ABI.md "Outbound HTTP"; needs the http permission)   */
/* ------------------------------------------------------------------------ */

/** Why a request failed (wp_http_response.error): the host's codes. */
enum {
    WP_HTTP_NOT_GRANTED = 1, WP_HTTP_BAD_REQUEST, WP_HTTP_FORBIDDEN_HEADER,
    WP_HTTP_URL_NOT_ALLOWED, WP_HTTP_REDIRECT_NOT_ALLOWED, WP_HTTP_TOO_MANY_REDIRECTS,
    WP_HTTP_ADDRESS_NOT_ALLOWED, WP_HTTP_REQUEST_TOO_LARGE, WP_HTTP_RESPONSE_TOO_LARGE,
    WP_HTTP_TOO_MANY_REQUESTS, WP_HTTP_TIMEOUT, WP_HTTP_CANCELLED, WP_HTTP_DNS,
    WP_HTTP_CONNECT, WP_HTTP_TLS, WP_HTTP_NETWORK, WP_HTTP_NOMEM
};

/** A response, in the arena. error != 0: the request failed (no status),
 *  error_message says why. Any status (404, 500, ...) is a response. */
typedef struct wp_http_response {
    int status;
    int error;
    const char *error_message;
    const char *headers; /* "Name: value\n" lines, NUL-terminated */
    size_t headers_len;
    const char *body;    /* NUL-terminated; binary bodies: use body_len */
    size_t body_len;
} wp_http_response;

/**
 * Send a request. headers: "Name: value\n" lines (or NULL); body may be
 * NULL. Host, Content-Length, Transfer-Encoding and the like are set by the
 * host and refused here (WP_HTTP_FORBIDDEN_HEADER).
 */
static inline wp_http_response wp_http_request(const char *method, const char *url,
                                               const char *headers, const void *body,
                                               size_t body_len)
{
    wp_http_response r = {0, 0, "", "", 0, "", 0};
    wp_buf req = {0};
    wp_buf_str(&req, method);
    wp_buf_char(&req, ' ');
    wp_buf_str(&req, url);
    wp_buf_char(&req, '\n');
    if (headers && *headers) {
        wp_buf_str(&req, headers);
        if (req.data[req.len - 1] != '\n')
            wp_buf_char(&req, '\n');
    }
    wp_buf_char(&req, '\n');
    wp_buf_add(&req, body, body_len);
    char small[4096];
    int32_t n = req.oom ? -WP_HTTP_NOMEM
                        : wp_raw_http_request(req.data, (int32_t)req.len, small, sizeof small);
    size_t len = n < 0 ? 0 : (size_t)n;
    if (n < 0) { /* the message is the result: measure it */
        char probe[256];
        int32_t k;
        while ((k = wp_raw_result_read(probe, sizeof probe, (int32_t)len)) > 0)
            len += (size_t)k;
    }
    char *all = (char *)wp_alloc(len + 1);
    if (!all) {
        r.error = WP_HTTP_NOMEM;
        r.error_message = "out of memory";
        return r;
    }
    if (n >= 0 && len <= sizeof small)
        memcpy(all, small, len);
    else
        wp_raw_result_read(all, (int32_t)len, 0);
    all[len] = '\0';
    if (n < 0) {
        r.error = -n;
        r.error_message = all;
        return r;
    }
    /* "STATUS\n" headers "\n" body */
    size_t i = 0;
    while (i < len && all[i] >= '0' && all[i] <= '9')
        r.status = r.status * 10 + (all[i++] - '0');
    if (i < len)
        i++;
    size_t h = i;
    while (i < len && all[i] != '\n') { /* header lines end at an empty line */
        while (i < len && all[i] != '\n')
            i++;
        i++;
    }
    r.headers = all + h;
    r.headers_len = i > h ? i - h : 0;
    if (i < len) {
        all[i] = '\0'; /* the empty line */
        i++;
    }
    r.body = all + i;
    r.body_len = len - i;
    return r;
}

/** GET url. */
static inline wp_http_response wp_http_get(const char *url)
{
    return wp_http_request("GET", url, NULL, NULL, 0);
}

/** POST body to url, with optional header lines. */
static inline wp_http_response wp_http_post(const char *url, const void *body, size_t len,
                                            const char *headers)
{
    return wp_http_request("POST", url, headers, body, len);
}

/** POST a JSON writer's document (Content-Type: application/json). */
static inline wp_http_response wp_http_post_json(const char *url, const wp_jw *w)
{
    return wp_http_request("POST", url, "Content-Type: application/json\n", w->buf.data,
                           w->buf.len);
}

/** A response header's value (case-insensitive name; first match, in the
 *  arena), or NULL. */
static inline const char *wp_http_header(const wp_http_response *r, const char *name)
{
    size_t nl = wp_strlen(name);
    const char *p = r->headers, *end = r->headers + r->headers_len;
    while (p < end) {
        const char *eol = p;
        while (eol < end && *eol != '\n')
            eol++;
        size_t k = 0;
        while (k < nl && p + k < eol && wp_lower(p[k]) == wp_lower(name[k]))
            k++;
        if (k == nl && p + k < eol && p[k] == ':') {
            const char *v = p + k + 1;
            while (v < eol && *v == ' ')
                v++;
            char *out = (char *)wp_alloc((size_t)(eol - v) + 1);
            if (!out)
                return NULL;
            memcpy(out, v, (size_t)(eol - v));
            out[eol - v] = '\0';
            return out;
        }
        p = eol + 1;
    }
    return NULL;
}

/** The body parsed as JSON, or NULL (failed request or invalid JSON). */
static inline wp_json *wp_http_json(const wp_http_response *r)
{
    if (r->error)
        return NULL;
    return wp_json_parse(r->body, r->body_len, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* Workflow nodes (docs/ABI.md "Workflow nodes")                            */
/* ------------------------------------------------------------------------ */
/*
 * A node type's phases are WP_FN functions named in the manifest's
 * `nodes:` (prep gets {"state","config","params"}, exec prep's output, post
 * {"state","config","params","prep","exec"}: read them with wp_input_json).
 * A post finishes with wp_node_post.
 */

/** Output of a post phase: the next action (NULL: "default") and the state
 *  updates as the text of a JSON object (NULL: none), merged into the
 *  workflow's state (null values remove keys). Returns 0 (or the error of a
 *  failed output). */
static inline int wp_node_post(const char *action, const char *updates_json)
{
    wp_buf b = {0};
    wp_buf_str(&b, "{\"action\":");
    const char *a = action ? action : "default";
    wp_buf_json_string(&b, a, wp_strlen(a));
    if (updates_json) {
        wp_buf_str(&b, ",\"updates\":");
        wp_buf_str(&b, updates_json);
    }
    wp_buf_char(&b, '}');
    return wp_output_buf(&b);
}

/* ------------------------------------------------------------------------ */
/* Events (ABI 1.1: the host attaches an event bus; docs/ABI.md "Events")   */
/* ------------------------------------------------------------------------ */

/* Imported only by plugins that use them (an unused import is not linked). */
WP_IMPORT_("event_publish") int32_t wp_raw_event_publish(const void *topic, int32_t topic_len,
                                                         const void *payload,
                                                         int32_t payload_len);
WP_IMPORT_("event_request") int32_t wp_raw_event_request(const void *topic, int32_t topic_len,
                                                         const void *payload,
                                                         int32_t payload_len,
                                                         int32_t timeout_ms);

/** The result of the last service import (a reply, or the message of a
 *  failure), NUL-terminated in the arena; "" if none. */
static inline const char *wp_service_result(size_t *len)
{
    wp_buf b = {0};
    uint8_t chunk[256];
    size_t got;
    while ((got = wp_result_read(chunk, sizeof chunk, b.len)) > 0)
        wp_buf_add(&b, chunk, got);
    wp_buf_char(&b, '\0');
    if (len)
        *len = b.len ? b.len - 1 : 0;
    return b.data && !b.oom ? b.data : "";
}

/**
 * Publish payload (JSON text; NULL: null) on topic. The event is sent when
 * the current call returns success and dropped if it fails. Returns 0, or
 * -status (the host's wasmplug_status: bad topic, topic not granted,
 * payload not JSON or too large, hop limit); wp_service_result() tells why.
 * Needs a granted "events.publish:<pattern>" covering the topic.
 */
static inline int wp_event_publish_n(const char *topic, size_t topic_len, const char *payload,
                                     size_t payload_len)
{
    if (!payload) {
        payload = "null";
        payload_len = 4;
    }
    return wp_raw_event_publish(topic, (int32_t)topic_len, payload, (int32_t)payload_len);
}
static inline int wp_event_publish(const char *topic, const char *payload)
{
    return wp_event_publish_n(topic, wp_strlen(topic), payload, payload ? wp_strlen(payload) : 0);
}

/**
 * Request/reply: publish payload on topic and wait up to timeout_ms for the
 * first reply, returned (NUL-terminated, in the arena) in *reply. Returns
 * the reply's length, or -status (no subscriber, timeout, ...; *reply is
 * then the message). Sent at once, not at the end of the call.
 */
static inline int wp_event_request(const char *topic, const char *payload, int timeout_ms,
                                   const char **reply)
{
    if (!payload)
        payload = "null";
    int32_t rc = wp_raw_event_request(topic, (int32_t)wp_strlen(topic), payload,
                                      (int32_t)wp_strlen(payload), timeout_ms);
    if (reply)
        *reply = wp_service_result(NULL);
    return rc;
}

/** One event as a handler sees it (in the arena). */
typedef struct wp_event {
    const char *topic;
    double id;
    double time;            /* ms since the Unix epoch */
    const char *source;     /* "host" or the publishing plugin */
    int hops;
    const char *reply_to;   /* a request's inbox, or NULL */
    const wp_json *payload; /* never NULL (JSON null when absent) */
} wp_event;

/** Parse the handler's input: one event object or a JSON array of them
 *  (a batch). NULL with the call's error set if it is not that. */
static inline wp_event *wp_events_parse(size_t *count)
{
    *count = 0;
    wp_json *in = wp_input_json();
    if (!in)
        return NULL;
    size_t n = in->type == WP_JSON_ARRAY ? in->count : 1;
    wp_event *evs = (wp_event *)wp_alloc((n ? n : 1) * sizeof *evs);
    static const wp_json null_json = {WP_JSON_NULL, false, 0, NULL, 0, 0, NULL, NULL};
    for (size_t i = 0; evs && i < n; i++) {
        const wp_json *j = in->type == WP_JSON_ARRAY ? in->items[i] : in;
        const wp_json *pl = wp_json_get(j, "payload");
        evs[i].topic = wp_json_get_string(j, "topic");
        evs[i].id = wp_json_get_number(j, "id", 0);
        evs[i].time = wp_json_get_number(j, "time", 0);
        evs[i].source = wp_json_get_string(j, "source");
        evs[i].hops = (int)wp_json_get_number(j, "hops", 0);
        evs[i].reply_to = wp_json_get_string(j, "reply_to");
        evs[i].payload = pl ? pl : &null_json;
        if (!evs[i].topic) {
            wp_fail(1, "the input is not an event (no topic)");
            return NULL;
        }
    }
    if (!evs) {
        wp_fail(1, "out of memory parsing events");
        return NULL;
    }
    *count = n;
    return evs;
}

/** Answer a request event (single, unbatched delivery): the reply is the
 *  handler's output. */
static inline void wp_event_reply(const wp_event *ev, const char *json)
{
    if (ev && ev->reply_to)
        wp_output_str(json);
}

/**
 * Define the event handler (export on_event), called once per event, in
 * order, also for each event of a batch:
 *     WP_ON_EVENT(handle) { wp_log_info(ev->topic); return 0; }
 * A non-zero return fails the delivery (the bus retries it as configured).
 */
#define WP_ON_EVENT(name)                                                            \
    static int wp_event_body_##name(const wp_event *ev);                             \
    WP_FN(on_event)                                                                  \
    {                                                                                \
        size_t n;                                                                    \
        wp_event *evs = wp_events_parse(&n);                                         \
        if (!evs)                                                                    \
            return 1;                                                                \
        for (size_t i = 0; i < n; i++) {                                             \
            int rc = wp_event_body_##name(&evs[i]);                                  \
            if (rc)                                                                  \
                return rc;                                                           \
        }                                                                            \
        return 0;                                                                    \
    }                                                                                \
    static int wp_event_body_##name(const wp_event *ev)

/**
 * Define a batch handler (export on_event) receiving every event of one
 * delivery at once (handleEventBatch style; count is 1 when unbatched):
 *     WP_ON_EVENT_BATCH(handle) { for (size_t i = 0; i < count; i++) ...; return 0; }
 */
#define WP_ON_EVENT_BATCH(name)                                                      \
    static int wp_event_batch_##name(const wp_event *events, size_t count);          \
    WP_FN(on_event)                                                                  \
    {                                                                                \
        size_t n;                                                                    \
        wp_event *evs = wp_events_parse(&n);                                         \
        return evs ? wp_event_batch_##name(evs, n) : 1;                              \
    }                                                                                \
    static int wp_event_batch_##name(const wp_event *events, size_t count)

#endif /* WASMPLUG_PDK_H */
