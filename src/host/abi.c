/*
 * abi.c - the plugin ABI (docs/ABI.md). Version 1 is the import module
 * "wasmplug" (input_len, input_read, output_write, error_set, log,
 * config_get, result_read, abi_version), created once per host and shared
 * by every instance; each function finds its call through the instance's
 * user pointer. Also the compatibility ABI (alloc/dealloc): bytes calls through
 * alloc / f(ptr, len) -> packed u64 / dealloc, and plugin_get_manifest; and
 * which ABI a module follows (wasmplug_module_abi, for loads and tools).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

uint8_t *wph_mem_range(wasmplug_instance *inst, uint32_t addr, uint32_t len)
{
    static uint8_t empty[1];
    wasmplug_memory *m = inst ? wasmplug_instance_memory(inst) : NULL;
    if (!m)
        return addr == 0 && len == 0 ? empty : NULL;
    size_t size = 0;
    uint8_t *base = wasmplug_memory_data(m, &size);
    if ((uint64_t)addr + len > size)
        return NULL;
    if (!base)
        return len == 0 ? empty : NULL;
    return base + addr;
}

wasmplug_status wph_buf_append(uint8_t **buf, size_t *len, size_t *cap, const void *data,
                               size_t n, size_t max)
{
    if (n > max || *len > max - n)
        return WASMPLUG_ERR_OUTPUT_TOO_LARGE;
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1)
            c *= 2;
        uint8_t *p = realloc(*buf, c);
        if (!p)
            return WASMPLUG_ERR_NOMEM;
        *buf = p;
        *cap = c;
    }
    if (n)
        memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = 0;
    return WASMPLUG_OK;
}

static wasmplug_valtype letter(char c)
{
    switch (c) {
    case 'I': return WASMPLUG_I64;
    case 'f': return WASMPLUG_F32;
    case 'F': return WASMPLUG_F64;
    default: return WASMPLUG_I32;
    }
}

bool wph_sig_is(const wasmplug_functype *t, const char *params, const char *results)
{
    if (t->param_count != strlen(params) || t->result_count != strlen(results))
        return false;
    for (uint32_t i = 0; i < t->param_count; i++)
        if (t->params[i] != letter(params[i]))
            return false;
    for (uint32_t i = 0; i < t->result_count; i++)
        if (t->results[i] != letter(results[i]))
            return false;
    return true;
}

bool wph_type_is(const wasmplug_func *f, const char *params, const char *results)
{
    if (!f)
        return false;
    wasmplug_functype t = wasmplug_func_type(f);
    return wph_sig_is(&t, params, results);
}

bool wph_export_type(const wasmplug_module *m, const char *name, wasmplug_functype *t,
                     bool *is_func)
{
    uint32_t n = wasmplug_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        const char *en;
        size_t len;
        wasmplug_externtype et;
        if (wasmplug_module_export(m, i, &en, &len, &et) != WASMPLUG_OK)
            continue;
        if (len == strlen(name) && memcmp(en, name, len) == 0) {
            *is_func = et.kind == WASMPLUG_EXTERN_FUNC;
            if (*is_func)
                *t = et.of.func;
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Which ABI a module follows                                               */
/* ------------------------------------------------------------------------ */

static bool exports_func(const wasmplug_module *m, const char *name)
{
    wasmplug_functype t;
    bool is_func = false;
    return wph_export_type(m, name, &t, &is_func) && is_func;
}

static bool exports_sig(const wasmplug_module *m, const char *name, const char *params,
                        const char *results)
{
    wasmplug_functype t;
    bool is_func = false;
    return wph_export_type(m, name, &t, &is_func) && is_func && wph_sig_is(&t, params, results);
}

bool wph_command_exports(const wasmplug_module *m)
{
    /* All three with their types decide (a module may export one of these
     * names for other reasons). */
    return exports_sig(m, "initialize", "ii", "i") && exports_sig(m, "handle_command", "ii", "i") &&
           exports_sig(m, "shutdown", "", "i");
}

wasmplug_abi wasmplug_module_abi(const wasmplug_module *m)
{
    if (!m)
        return WASMPLUG_ABI_NONE;
    const uint8_t *data;
    size_t size;
    wasmplug_abi abi = WASMPLUG_ABI_NONE;
    if (wasmplug_module_custom_section(m, "wasmplug_abi", &data, &size) == WASMPLUG_OK)
        abi = WASMPLUG_ABI_V1;
    /* The first import from the plugin ABI's module or wasm-bindgen's. */
    uint32_t n = wasmplug_module_import_count(m);
    for (uint32_t i = 0; i < n && abi == WASMPLUG_ABI_NONE; i++) {
        const char *mod, *name;
        size_t modlen, namelen;
        wasmplug_externtype t;
        if (wasmplug_module_import(m, i, &mod, &modlen, &name, &namelen, &t) != WASMPLUG_OK)
            continue;
        if (modlen == 8 && memcmp(mod, "wasmplug", 8) == 0)
            abi = WASMPLUG_ABI_V1;
        else if (wph_bindgen_module(mod, modlen))
            abi = WASMPLUG_ABI_BINDGEN;
    }
    if (abi == WASMPLUG_ABI_NONE && exports_func(m, "__wbindgen_malloc"))
        abi = WASMPLUG_ABI_BINDGEN;
    if (wph_command_exports(m))
        abi = WASMPLUG_ABI_COMMAND;
    /* The v1 hooks decide first; otherwise the compatibility-ABI exports
     * mark a compatibility module even if it also imports wasmplug.log or
     * wasmplug.config_get (docs/ABI.md allows that). */
    if (exports_func(m, "wasmplug_init") || exports_func(m, "wasmplug_dispose"))
        abi = WASMPLUG_ABI_V1;
    else if (exports_func(m, "alloc") && exports_func(m, "dealloc") &&
             exports_func(m, "plugin_handle_event"))
        abi = WASMPLUG_ABI_COMPAT;
    return abi;
}

/* ------------------------------------------------------------------------ */
/* The "wasmplug" import module                                             */
/* ------------------------------------------------------------------------ */

#define ABI_PROLOGUE(fname)                                                          \
    wph_slot *s = wph_caller_slot(caller);                                          \
    (void)user;                                                                      \
    if (!s) {                                                                        \
        wasmplug_caller_set_error(caller, "wasmplug.%s called outside a plugin call", \
                                  fname);                                            \
        return 1;                                                                    \
    }                                                                                \
    s->host_calls++;                                                                 \
    /* The caller's instance, not s->inst: the start section runs before the   \
     * slot has its instance. */                                                 \
    wasmplug_instance *inst = wasmplug_caller_instance(caller);                     \
    (void)inst

static int bad_range(wasmplug_caller *caller, wph_slot *s, const char *fn, uint32_t addr,
                     uint32_t len)
{
    return wph_trap(caller, s, WASMPLUG_ERR_OUT_OF_BOUNDS, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS,
                    fn, "%s: range (address %u, length %u) is outside the plugin's memory", fn,
                    addr, len);
}

/* input_len() -> i32 */
static int abi_input_len(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("input_len");
    slots[0].i32 = s->in_len > INT32_MAX ? INT32_MAX : (int32_t)s->in_len;
    return 0;
}

/* input_read(ptr, len, offset) -> i32: bytes copied from input[offset..]. */
static int abi_input_read(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("input_read");
    uint32_t addr = slots[0].u32, len = slots[1].u32, off = slots[2].u32;
    uint8_t *dst = wph_mem_range(inst, addr, len);
    if (!dst)
        return bad_range(caller, s, "wasmplug.input_read", addr, len);
    size_t avail = off < s->in_len ? s->in_len - off : 0;
    size_t n = avail < len ? avail : len;
    if (n > INT32_MAX)
        n = INT32_MAX; /* the count must fit the i32 result */
    if (n)
        memcpy(dst, s->in + off, n);
    slots[0].i32 = (int32_t)n;
    return 0;
}

/* output_write(ptr, len) -> i32 (0): appends to the call's output. */
static int abi_output_write(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("output_write");
    uint32_t addr = slots[0].u32, len = slots[1].u32;
    uint8_t *src = wph_mem_range(inst, addr, len);
    if (!src)
        return bad_range(caller, s, "wasmplug.output_write", addr, len);
    wasmplug_status st = wph_buf_append(&s->out, &s->out_len, &s->out_cap, src, len,
                                        s->plugin->limits.max_output_bytes);
    if (st == WASMPLUG_ERR_OUTPUT_TOO_LARGE)
        return wph_trap(caller, s, st, WASMPLUG_TRAP_HOST_ERROR, "wasmplug.output_write",
                        "output exceeds max_output_bytes (%u): %zu bytes written, %u more",
                        s->plugin->limits.max_output_bytes, s->out_len, len);
    if (st != WASMPLUG_OK)
        return wph_trap(caller, s, st, WASMPLUG_TRAP_HOST_ERROR, "wasmplug.output_write",
                        "out of memory for the output");
    slots[0].i32 = 0;
    return 0;
}

/* error_set(ptr, len): the message of a failing return code. */
static int abi_error_set(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("error_set");
    uint32_t addr = slots[0].u32, len = slots[1].u32;
    uint8_t *src = wph_mem_range(inst, addr, len);
    if (!src)
        return bad_range(caller, s, "wasmplug.error_set", addr, len);
    size_t n = len < sizeof s->errmsg - 1 ? len : sizeof s->errmsg - 1;
    memcpy(s->errmsg, src, n);
    s->errmsg[n] = '\0';
    s->err_set = true;
    return 0;
}

/* log(level, ptr, len) */
static int abi_log(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("log");
    int32_t level = slots[0].i32;
    uint32_t addr = slots[1].u32, len = slots[2].u32;
    uint8_t *src = wph_mem_range(inst, addr, len);
    if (!src)
        return bad_range(caller, s, "wasmplug.log", addr, len);
    wasmplug_host *h = s->plugin->host;
    if (level < WASMPLUG_LOG_TRACE)
        level = WASMPLUG_LOG_TRACE;
    if (level > WASMPLUG_LOG_ERROR)
        level = WASMPLUG_LOG_ERROR;
    if (h->on_log)
        h->on_log(h->cb_user, s->plugin, s->plugin->name, (wasmplug_log_level)level,
                  (const char *)src, len);
    return 0;
}

/* config_get(key_ptr, key_len, out_ptr, out_cap) -> i32: value length or -1. */
static int abi_config_get(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("config_get");
    uint32_t kaddr = slots[0].u32, klen = slots[1].u32;
    uint32_t oaddr = slots[2].u32, ocap = slots[3].u32;
    uint8_t *key = wph_mem_range(inst, kaddr, klen);
    if (!key)
        return bad_range(caller, s, "wasmplug.config_get", kaddr, klen);
    uint8_t *out = wph_mem_range(inst, oaddr, ocap);
    if (!out)
        return bad_range(caller, s, "wasmplug.config_get", oaddr, ocap);
    /* Config is immutable after load, so no lock is needed. */
    const char *v = wph_kvs_get(&s->plugin->config, (const char *)key, klen);
    if (!v) {
        slots[0].i32 = -1;
        return 0;
    }
    size_t vl = strlen(v);
    memcpy(out, v, vl < ocap ? vl : ocap);
    slots[0].i32 = vl > INT32_MAX ? INT32_MAX : (int32_t)vl;
    return 0;
}

/* result_read(ptr, len, offset) -> i32: bytes of the last bytes host-function result. */
static int abi_result_read(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("result_read");
    uint32_t addr = slots[0].u32, len = slots[1].u32, off = slots[2].u32;
    uint8_t *dst = wph_mem_range(inst, addr, len);
    if (!dst)
        return bad_range(caller, s, "wasmplug.result_read", addr, len);
    size_t avail = off < s->result_len ? s->result_len - off : 0;
    size_t n = avail < len ? avail : len;
    if (n > INT32_MAX)
        n = INT32_MAX;
    if (n)
        memcpy(dst, s->result + off, n);
    slots[0].i32 = (int32_t)n;
    return 0;
}

/* abi_version() -> i32 */
static int abi_abi_version(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    ABI_PROLOGUE("abi_version");
    slots[0].i32 = WASMPLUG_ABI_VERSION;
    return 0;
}

static const struct {
    const char *name;
    uint8_t nparams, nresults;
    wasmplug_host_fn fn;
} abi_table[WPH_ABI_COUNT] = {
    [WPH_ABI_INPUT_LEN] = {"input_len", 0, 1, abi_input_len},
    [WPH_ABI_INPUT_READ] = {"input_read", 3, 1, abi_input_read},
    [WPH_ABI_OUTPUT_WRITE] = {"output_write", 2, 1, abi_output_write},
    [WPH_ABI_ERROR_SET] = {"error_set", 2, 0, abi_error_set},
    [WPH_ABI_LOG] = {"log", 3, 0, abi_log},
    [WPH_ABI_CONFIG_GET] = {"config_get", 4, 1, abi_config_get},
    [WPH_ABI_RESULT_READ] = {"result_read", 3, 1, abi_result_read},
    [WPH_ABI_ABI_VERSION] = {"abi_version", 0, 1, abi_abi_version},
};

wasmplug_status wph_abi_create(wasmplug_host *host)
{
    static const wasmplug_valtype i32s[4] = {WASMPLUG_I32, WASMPLUG_I32, WASMPLUG_I32,
                                             WASMPLUG_I32};
    for (int i = 0; i < WPH_ABI_COUNT; i++) {
        wasmplug_functype t = {abi_table[i].nparams, abi_table[i].nresults, i32s, i32s};
        wasmplug_status st =
            wasmplug_func_new_host(host->engine, &t, abi_table[i].fn, host, NULL, &host->abi[i]);
        if (st != WASMPLUG_OK)
            return st;
    }
    return WASMPLUG_OK;
}

void wph_abi_free(wasmplug_host *host)
{
    for (int i = 0; i < WPH_ABI_COUNT; i++) {
        if (host->abi[i])
            wasmplug_func_free(host->abi[i]);
        host->abi[i] = NULL;
    }
}

int wph_abi_lookup(const char *name, size_t len)
{
    for (int i = 0; i < WPH_ABI_COUNT; i++)
        if (strlen(abi_table[i].name) == len && memcmp(abi_table[i].name, name, len) == 0)
            return i;
    return -1;
}

const char *wph_abi_name(int i)
{
    return i >= 0 && i < WPH_ABI_COUNT ? abi_table[i].name : "";
}

/* ------------------------------------------------------------------------ */
/* Compatibility ABI (alloc/dealloc, packed results)                       */
/* ------------------------------------------------------------------------ */

wasmplug_status wph_run_func(wph_slot *s, wasmplug_func *f, const char *name,
                             const wasmplug_val *args, size_t nargs, wasmplug_val *res, size_t nres,
                             wasmplug_plugin_error *err)
{
    wasmplug_error e;
    wasmplug_error_clear(&e);
    wasmplug_status st = wasmplug_func_call(f, args, nargs, res, nres, &e);
    return wph_classify(s, st, &e, WASMPLUG_PHASE_CALL, name, err);
}

wasmplug_val wph_val_i32(uint32_t v)
{
    wasmplug_val r;
    r.type = WASMPLUG_I32;
    r.of.u64 = 0;
    r.of.u32 = v;
    return r;
}

/* Copy the packed (ptr << 32 | len) result into s->out, then dealloc it. */
static wasmplug_status take_packed(wph_slot *s, uint64_t packed, wasmplug_func *dealloc,
                                   const char *fname, wasmplug_phase phase,
                                   wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    uint32_t rptr = (uint32_t)(packed >> 32), rlen = (uint32_t)packed;
    if (rlen > p->limits.max_output_bytes)
        return wph_fail(err, WASMPLUG_ERR_OUTPUT_TOO_LARGE, phase, p->name, fname,
                        "result of %u bytes exceeds max_output_bytes (%u)", rlen,
                        p->limits.max_output_bytes);
    uint8_t *src = wph_mem_range(s->inst, rptr, rlen);
    if (!src)
        return wph_fail(err, WASMPLUG_ERR_SERIALIZATION, phase, p->name, fname,
                        "packed result (address %u, length %u) is outside the plugin's memory",
                        rptr, rlen);
    wasmplug_status st = wph_buf_append(&s->out, &s->out_len, &s->out_cap, src, rlen,
                                        p->limits.max_output_bytes);
    if (st != WASMPLUG_OK)
        return wph_fail(err, st, phase, p->name, fname, "cannot keep the result");
    if (dealloc && rlen) {
        wasmplug_val a[2] = {wph_val_i32(rptr), wph_val_i32(rlen)};
        st = wph_run_func(s, dealloc, "dealloc", a, 2, NULL, 0, err);
        if (st != WASMPLUG_OK) {
            if (err)
                err->phase = phase;
            return st;
        }
    }
    return WASMPLUG_OK;
}

wasmplug_status wph_compat_call(wph_slot *s, wasmplug_func *f, const char *fname,
                                wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    wasmplug_func *alloc = wasmplug_instance_func(s->inst, "alloc");
    wasmplug_func *dealloc = wasmplug_instance_func(s->inst, "dealloc");
    if (!wph_type_is(alloc, "i", "i") || !wph_type_is(dealloc, "ii", ""))
        return wph_fail(err, WASMPLUG_ERR_ABI, WASMPLUG_PHASE_CALL, p->name, fname,
                        "compatibility-ABI call of %s needs exports alloc (i32) -> i32 and "
                        "dealloc (i32, i32)",
                        fname);
    uint32_t len = (uint32_t)s->in_len;
    wasmplug_val a = wph_val_i32(len), r;
    wasmplug_status st = wph_run_func(s, alloc, "alloc", &a, 1, &r, 1, err);
    if (st != WASMPLUG_OK)
        return st;
    uint32_t ptr = r.of.u32;
    uint8_t *dst = wph_mem_range(s->inst, ptr, len);
    if (!dst)
        return wph_fail(err, WASMPLUG_ERR_SERIALIZATION, WASMPLUG_PHASE_CALL, p->name, fname,
                        "alloc(%u) returned address %u, outside the plugin's memory", len, ptr);
    if (len)
        memcpy(dst, s->in, len);
    wasmplug_val args[2] = {wph_val_i32(ptr), wph_val_i32(len)};
    st = wph_run_func(s, f, fname, args, 2, &r, 1, err);
    if (st != WASMPLUG_OK)
        return st;
    st = take_packed(s, r.of.u64, dealloc, fname, WASMPLUG_PHASE_CALL, err);
    if (st != WASMPLUG_OK)
        return st;
    return wph_run_func(s, dealloc, "dealloc", args, 2, NULL, 0, err);
}

wasmplug_status wph_compat_manifest(wph_slot *s, wasmplug_plugin_error *err)
{
    wasmplug_plugin *p = s->plugin;
    wasmplug_func *f = wasmplug_instance_func(s->inst, "plugin_get_manifest");
    if (!wph_type_is(f, "", "I"))
        return WASMPLUG_OK;
    wasmplug_val r;
    wasmplug_status st = wph_run_func(s, f, "plugin_get_manifest", NULL, 0, &r, 1, err);
    if (st == WASMPLUG_OK) {
        wasmplug_func *dealloc = wasmplug_instance_func(s->inst, "dealloc");
        s->out_len = 0;
        st = take_packed(s, r.of.u64, wph_type_is(dealloc, "ii", "") ? dealloc : NULL,
                         "plugin_get_manifest", WASMPLUG_PHASE_INIT, err);
    }
    if (st != WASMPLUG_OK) {
        if (err)
            err->phase = WASMPLUG_PHASE_INIT;
        return st;
    }
    pthread_mutex_lock(&p->lock);
    if (!p->has_embedded) {
        p->embedded = malloc(s->out_len + 1);
        if (p->embedded) {
            memcpy(p->embedded, s->out ? s->out : (const uint8_t *)"", s->out_len);
            p->embedded[s->out_len] = 0;
            p->embedded_len = s->out_len;
            p->has_embedded = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    s->out_len = 0;
    return WASMPLUG_OK;
}
