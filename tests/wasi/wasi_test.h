/*
 * wasi_test.h - helpers shared by the WASI tests: instantiate shim.wat (every
 * WASI function re-exported under its own name) with a context, call a WASI
 * function with raw argument values, read and write the shim's memory, and
 * make scratch directory trees.
 */
#ifndef WASMPLUG_WASI_TEST_H
#define WASMPLUG_WASI_TEST_H

#include "test.h"
#include "wasmplug/wasi.h"

#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

static wasmplug_engine *wt_engine;

typedef struct wt {
    wasmplug_wasi_ctx *ctx;
    wasmplug_instance *inst;
    wasmplug_error err; /* of the last call that failed */
} wt;

static inline wasmplug_module *wt_module(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_WASI_MODULES, name);
    size_t size;
    uint8_t *bytes = test_read_file(path, &size);
    if (!bytes) {
        printf("FAIL: cannot read %s\n", path);
        exit(1);
    }
    wasmplug_module *m = NULL;
    wasmplug_error err;
    if (wasmplug_module_new(wt_engine, bytes, size, &m, &err) != WASMPLUG_OK) {
        printf("FAIL: %s: %s\n", path, err.message);
        exit(1);
    }
    free(bytes);
    return m;
}

/* An instance of shim.wat bound to a new context made from cfg. */
static inline wt wt_new(const wasmplug_wasi_config *cfg)
{
    static wasmplug_module *shim;
    if (!shim)
        shim = wt_module("shim");
    wt t;
    memset(&t, 0, sizeof t);
    if (wasmplug_wasi_new(wt_engine, cfg, &t.ctx, &t.err) != WASMPLUG_OK) {
        printf("FAIL: wasmplug_wasi_new: %s\n", t.err.message);
        exit(1);
    }
    if (wasmplug_wasi_instantiate(t.ctx, shim, NULL, &t.inst, &t.err) != WASMPLUG_OK ||
        wasmplug_instance_start(t.inst, &t.err) != WASMPLUG_OK) {
        printf("FAIL: instantiate shim: %s\n", t.err.message);
        exit(1);
    }
    return t;
}

static inline void wt_free(wt *t)
{
    wasmplug_instance_free(t->inst);
    wasmplug_wasi_free(t->ctx);
}

static inline uint8_t *wt_mem(wt *t, size_t *size)
{
    return wasmplug_memory_data(wasmplug_instance_memory(t->inst), size);
}

/* Call WASI function name with n raw values (i32 or i64 as its type says).
 * Returns its errno, or -1 when the call trapped (t->err says why). */
static inline int32_t wt_callv(wt *t, const char *name, const uint64_t *args, size_t n)
{
    wasmplug_func *f = wasmplug_instance_func(t->inst, name);
    if (!f) {
        printf("FAIL: no export %s\n", name);
        return -2;
    }
    wasmplug_functype ft = wasmplug_func_type(f);
    wasmplug_val v[16], r;
    for (size_t i = 0; i < n && i < 16; i++) {
        v[i].type = ft.params[i];
        v[i].of.u64 = 0;
        if (ft.params[i] == WASMPLUG_I64)
            v[i].of.u64 = args[i];
        else
            v[i].of.u32 = (uint32_t)args[i];
    }
    wasmplug_status st = wasmplug_func_call(f, v, n, &r, ft.result_count, &t->err);
    if (st != WASMPLUG_OK)
        return -1;
    return ft.result_count ? r.of.i32 : 0;
}

#define WT_ARGS(...) ((const uint64_t[]){__VA_ARGS__})
#define W(t, name, ...) \
    wt_callv((t), (name), WT_ARGS(__VA_ARGS__), sizeof WT_ARGS(__VA_ARGS__) / sizeof(uint64_t))

/* Guest memory helpers (addresses below 128 KiB). */
static inline void wt_put(wt *t, uint32_t addr, const void *data, size_t len)
{
    size_t size;
    memcpy(wt_mem(t, &size) + addr, data, len);
}
static inline uint32_t wt_str(wt *t, uint32_t addr, const char *s)
{
    wt_put(t, addr, s, strlen(s));
    return (uint32_t)strlen(s);
}
static inline uint32_t wt_u32(wt *t, uint32_t addr)
{
    size_t size;
    uint32_t v;
    memcpy(&v, wt_mem(t, &size) + addr, 4);
    return v;
}
static inline uint64_t wt_u64(wt *t, uint32_t addr)
{
    size_t size;
    uint64_t v;
    memcpy(&v, wt_mem(t, &size) + addr, 8);
    return v;
}
static inline void wt_set32(wt *t, uint32_t addr, uint32_t v)
{
    wt_put(t, addr, &v, 4);
}
static inline void wt_set64(wt *t, uint32_t addr, uint64_t v)
{
    wt_put(t, addr, &v, 8);
}
/* One iovec {buf, len} at addr. */
static inline void wt_iov(wt *t, uint32_t addr, uint32_t buf, uint32_t len)
{
    wt_set32(t, addr, buf);
    wt_set32(t, addr + 4, len);
}

/* Host scratch files. */
static inline void wt_write_file(const char *dir, const char *name, const char *text)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}
static inline char *wt_read_text(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t size;
    uint8_t *d = test_read_file(p, &size);
    if (!d)
        return NULL;
    char *s = malloc(size + 1);
    memcpy(s, d, size);
    s[size] = 0;
    free(d);
    return s;
}
static inline bool wt_exists(const char *dir, const char *name)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return lstat(p, &st) == 0;
}
static inline void wt_rm_rf(const char *path)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    if (system(cmd) != 0)
        printf("warning: %s failed\n", cmd);
}

/* WASI constants the tests use. */
#define R_READ (1ull << 1)
#define R_SEEK (1ull << 2)
#define R_TELL (1ull << 5)
#define R_WRITE (1ull << 6)
#define R_ALL ((1ull << 30) - 1)
/* Every right a directory opens with (FD_WRITE would ask to write it: EISDIR). */
#define R_DIR (R_ALL & ~R_WRITE)
#define O_CREAT_ 1
#define O_DIR_ 2
#define O_EXCL_ 4
#define O_TRUNC_ 8
#define FOLLOW 1

#endif
