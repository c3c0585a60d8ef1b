/*
 * hostfn.c - host functions registered by the embedder: compact signature
 * parsing ("(ip)I"), the trampolines the engine calls (which find the
 * calling plugin through the instance's user pointer, bounds-check
 * pointer/length arguments before the callback sees them, and turn a
 * callback's failure into the plugin's trap with a specific code), and the
 * wasmplug_hostcall_* accessors used inside callbacks.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wasmplug_hostcall {
    wph_slot *slot;
    wasmplug_instance *inst;      /* the calling instance */
    wph_hostfn *fn;
    wasmplug_caller *caller;
    bool has_msg;
    wasmplug_status write_failed;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wasmplug_status fail_code;    /* wasmplug_hostcall_fail, else ERR_HOST_FUNCTION */
};

/* Fail the running call from inside a host function: remember the host
 * code for wph_classify and make the engine trap with trap and the message. */
int wph_trap(wasmplug_caller *caller, wph_slot *s, wasmplug_status code, wasmplug_trap trap,
             const char *fn, const char *fmt, ...)
{
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s) {
        s->pending = code;
        snprintf(s->pending_msg, sizeof s->pending_msg, "%s", msg);
        wph_copy_name(s->pending_fn, fn);
    }
    wasmplug_caller_trap(caller, trap, 0);
    wasmplug_caller_set_error(caller, "%s", msg);
    return 1;
}

/* The slot of the plugin call this host function runs in, or NULL. */
wph_slot *wph_caller_slot(wasmplug_caller *caller)
{
    wasmplug_instance *inst = wasmplug_caller_instance(caller);
    return inst ? (wph_slot *)wasmplug_instance_user(inst) : NULL;
}

static int outside_call(wasmplug_caller *caller, const char *fn)
{
    wasmplug_caller_set_error(caller, "host function %s called outside a plugin call", fn);
    return 1;
}

static int callback_failed(wasmplug_hostcall *hc, int rc)
{
    if (hc->fail_code != WASMPLUG_OK) /* the service said exactly what went wrong */
        return wph_trap(hc->caller, hc->slot, hc->fail_code, WASMPLUG_TRAP_HOST_ERROR,
                        hc->fn->full, "%s: %s", hc->fn->full, hc->msg);
    if (hc->has_msg)
        return wph_trap(hc->caller, hc->slot, WASMPLUG_ERR_HOST_FUNCTION,
                        WASMPLUG_TRAP_HOST_ERROR, hc->fn->full, "host function %s failed: %s",
                        hc->fn->full, hc->msg);
    return wph_trap(hc->caller, hc->slot, WASMPLUG_ERR_HOST_FUNCTION, WASMPLUG_TRAP_HOST_ERROR,
                    hc->fn->full, "host function %s failed (returned %d)", hc->fn->full, rc);
}

static int out_of_bounds(wasmplug_caller *caller, wph_slot *s, const char *fn, unsigned arg,
                         uint32_t addr, uint32_t len)
{
    size_t size = 0;
    wasmplug_memory *m = wasmplug_instance_memory(wasmplug_caller_instance(caller));
    if (m)
        (void)wasmplug_memory_data(m, &size);
    return wph_trap(caller, s, WASMPLUG_ERR_OUT_OF_BOUNDS, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS, fn,
                    "host function %s: argument %u (address %u, length %u) is outside the "
                    "plugin's memory of %zu bytes",
                    fn, arg, addr, len, size);
}

static int typed_trampoline(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    wph_hostfn *fn = user;
    wph_slot *s = wph_caller_slot(caller);
    if (!s)
        return outside_call(caller, fn->full);
    s->host_calls++;
    wasmplug_instance *inst = wasmplug_caller_instance(caller);
    wasmplug_hostarg args[WPH_SIG_PARAMS];
    uint32_t k = 0;
    for (uint32_t i = 0; i < fn->nsig; i++) {
        memset(&args[i], 0, sizeof args[i]);
        args[i].kind = fn->sig[i];
        if (fn->sig[i] == 'p') {
            uint32_t addr = slots[k].u32, len = slots[k + 1].u32;
            uint8_t *ptr = wph_mem_range(inst, addr, len);
            if (!ptr)
                return out_of_bounds(caller, s, fn->full, i, addr, len);
            args[i].ptr = ptr;
            args[i].len = len;
            args[i].addr = addr;
            k += 2;
        } else {
            args[i].value = slots[k++];
            if (fn->sig[i] == 'V')
                args[i].value_hi = slots[k++];
        }
    }
    wasmplug_slot results[2 * WPH_SIG_RESULTS]; /* a V result takes two */
    memset(results, 0, sizeof results);
    if (fn->service)
        s->result_len = 0; /* service imports may write a result (result_read) */
    wasmplug_hostcall hc = {s, inst, fn, caller, false, WASMPLUG_OK, {0}, WASMPLUG_OK};
    int rc = fn->typed(&hc, fn->user, args, results);
    if (rc != 0)
        return callback_failed(&hc, rc);
    for (uint32_t j = 0, n = 0; j < fn->nresults; j++) {
        slots[n] = results[n];
        n++;
        if (fn->res[j] == 'V') {
            slots[n] = results[n];
            n++;
        }
    }
    return 0;
}

/* (in_ptr, in_len, out_ptr, out_cap) -> i32: see wasmplug_bytes_fn. */
static int bytes_trampoline(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    wph_hostfn *fn = user;
    wph_slot *s = wph_caller_slot(caller);
    if (!s)
        return outside_call(caller, fn->full);
    s->host_calls++;
    wasmplug_instance *inst = wasmplug_caller_instance(caller);
    uint32_t in_addr = slots[0].u32, in_len = slots[1].u32;
    uint32_t out_addr = slots[2].u32, out_cap = slots[3].u32;
    uint8_t *in = wph_mem_range(inst, in_addr, in_len);
    if (!in)
        return out_of_bounds(caller, s, fn->full, 0, in_addr, in_len);
    if (!wph_mem_range(inst, out_addr, out_cap))
        return out_of_bounds(caller, s, fn->full, 2, out_addr, out_cap);
    s->result_len = 0;
    wasmplug_hostcall hc = {s, inst, fn, caller, false, WASMPLUG_OK, {0}, WASMPLUG_OK};
    int rc = fn->bytesfn(&hc, fn->user, in, in_len);
    if (rc < 0)
        return callback_failed(&hc, rc);
    if (hc.write_failed != WASMPLUG_OK)
        return wph_trap(caller, s, hc.write_failed, WASMPLUG_TRAP_HOST_ERROR, fn->full,
                        "host function %s: result larger than max_output_bytes (%u)", fn->full,
                        s->plugin->limits.max_output_bytes);
    /* The callback cannot run wasm, so memory did not move; look again anyway. */
    size_t n = s->result_len < out_cap ? s->result_len : out_cap;
    uint8_t *out = wph_mem_range(inst, out_addr, (uint32_t)n);
    if (n && out)
        memcpy(out, s->result, n);
    if (rc > 0)
        slots[0].i32 = -rc;
    else
        slots[0].i32 = s->result_len > INT32_MAX ? INT32_MAX : (int32_t)s->result_len;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Registration                                                             */
/* ------------------------------------------------------------------------ */

static wasmplug_valtype letter_type(char c)
{
    switch (c) {
    case 'I': return WASMPLUG_I64;
    case 'f': return WASMPLUG_F32;
    case 'F': return WASMPLUG_F64;
    case 'V': return WASMPLUG_V128;
    default: return WASMPLUG_I32;
    }
}

static bool parse_signature(const char *sig, wph_hostfn *fn)
{
    if (!sig || *sig != '(')
        return false;
    const char *s = sig + 1;
    while (*s && *s != ')') {
        if (!strchr("iIfFVp", *s) || fn->nsig == WPH_SIG_PARAMS)
            return false;
        fn->sig[fn->nsig++] = *s++;
    }
    if (*s != ')')
        return false;
    s++;
    while (*s) {
        if (!strchr("iIfFV", *s) || fn->nresults == WPH_SIG_RESULTS)
            return false;
        fn->res[fn->nresults++] = *s++;
    }
    return true;
}

wph_hostfn *wph_hostfn_find(wasmplug_host *host, const char *module, size_t module_len,
                            const char *name, size_t name_len)
{
    for (wph_hostfn *f = host->hostfns; f; f = f->next)
        if (strlen(f->module) == module_len && memcmp(f->module, module, module_len) == 0 &&
            strlen(f->name) == name_len && memcmp(f->name, name, name_len) == 0)
            return f;
    return NULL;
}

static void hostfn_destroy(wph_hostfn *f)
{
    if (f->func)
        wasmplug_func_free(f->func);
    if (f->finalizer)
        f->finalizer(f->user);
    free(f->module);
    free(f->name);
    free(f->full);
    free(f->grant);
    free(f);
}

/* A service import (module "wasmplug"): service id and grant, else NULL. */
typedef struct service_fn_spec {
    unsigned id;
    const char *grant;
} service_fn_spec;

static wasmplug_status do_register(wasmplug_host *host, const char *module, const char *name,
                                   const char *signature, bool bytes, wasmplug_typed_fn typed,
                                   wasmplug_bytes_fn bfn, void *user, void (*finalizer)(void *),
                                   const service_fn_spec *svc)
{
    if (!host || !module || !*module || !name || !*name || (!typed && !bfn) ||
        strlen(module) + strlen(name) + 2 > WASMPLUG_NAME_MAX)
        return WASMPLUG_ERR_ARGUMENT;
    if (!svc && (strcmp(module, "wasmplug") == 0 || strcmp(module, "wasi_snapshot_preview1") == 0))
        return WASMPLUG_ERR_ARGUMENT; /* reserved for the ABI, services and WASI */
    wph_hostfn *f = calloc(1, sizeof *f);
    if (!f)
        return WASMPLUG_ERR_NOMEM;
    f->host = host;
    if (svc) {
        f->service = true;
        f->service_id = svc->id;
        if (!(f->grant = wph_strdup(svc->grant))) {
            free(f);
            return WASMPLUG_ERR_NOMEM;
        }
    }
    f->bytes = bytes;
    f->typed = typed;
    f->bytesfn = bfn;
    f->user = user;
    if (bytes) {
        f->nsig = 0;
        f->nresults = 0;
    } else if (!parse_signature(signature, f)) {
        free(f->grant);
        free(f);
        return WASMPLUG_ERR_ARGUMENT;
    }
    f->module = wph_strdup(module);
    f->name = wph_strdup(name);
    f->full = malloc(strlen(module) + strlen(name) + 2);
    if (!f->module || !f->name || !f->full) {
        hostfn_destroy(f);
        return WASMPLUG_ERR_NOMEM;
    }
    sprintf(f->full, "%s.%s", module, name);

    wasmplug_valtype params[2 * WPH_SIG_PARAMS], results[WPH_SIG_RESULTS];
    wasmplug_functype type = {0, 0, params, results};
    if (bytes) {
        for (int i = 0; i < 4; i++)
            params[i] = WASMPLUG_I32;
        results[0] = WASMPLUG_I32;
        type.param_count = 4;
        type.result_count = 1;
    } else {
        for (uint32_t i = 0; i < f->nsig; i++) {
            params[type.param_count++] = letter_type(f->sig[i]);
            if (f->sig[i] == 'p')
                params[type.param_count++] = WASMPLUG_I32;
        }
        for (uint32_t i = 0; i < f->nresults; i++)
            results[type.result_count++] = letter_type(f->res[i]);
    }
    wasmplug_status st = wasmplug_func_new_host(host->engine, &type,
                                                bytes ? bytes_trampoline : typed_trampoline, f,
                                                NULL, &f->func);
    if (st != WASMPLUG_OK) {
        hostfn_destroy(f);
        return st;
    }
    pthread_mutex_lock(&host->lock);
    if (wph_hostfn_find(host, module, strlen(module), name, strlen(name))) {
        pthread_mutex_unlock(&host->lock);
        f->finalizer = NULL; /* the caller keeps user on failure */
        hostfn_destroy(f);
        return WASMPLUG_ERR_DUPLICATE;
    }
    f->finalizer = finalizer;
    if (host->hostfns_last)
        host->hostfns_last->next = f;
    else
        host->hostfns = f;
    host->hostfns_last = f;
    pthread_mutex_unlock(&host->lock);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_host_register(wasmplug_host *host, const char *module, const char *name,
                                       const char *signature, wasmplug_typed_fn fn, void *user,
                                       void (*finalizer)(void *user))
{
    if (!fn)
        return WASMPLUG_ERR_ARGUMENT;
    return do_register(host, module, name, signature, false, fn, NULL, user, finalizer, NULL);
}

wasmplug_status wph_register_service_fn(wasmplug_host *host, unsigned service, const char *name,
                                        const char *signature, const char *grant,
                                        wasmplug_typed_fn fn, void *user)
{
    if (!fn || !grant || !*grant || !name || wph_abi_lookup(name, strlen(name)) >= 0)
        return WASMPLUG_ERR_ARGUMENT;
    service_fn_spec spec = {service, grant};
    return do_register(host, "wasmplug", name, signature, false, fn, NULL, user, NULL, &spec);
}

wasmplug_status wasmplug_host_register_bytes(wasmplug_host *host, const char *module,
                                             const char *name, wasmplug_bytes_fn fn, void *user,
                                             void (*finalizer)(void *user))
{
    if (!fn)
        return WASMPLUG_ERR_ARGUMENT;
    return do_register(host, module, name, NULL, true, NULL, fn, user, finalizer, NULL);
}

bool wasmplug_host_has_function(wasmplug_host *host, const char *module, const char *name)
{
    if (!host || !module || !name)
        return false;
    pthread_mutex_lock(&host->lock);
    bool found = wph_hostfn_find(host, module, strlen(module), name, strlen(name)) != NULL;
    pthread_mutex_unlock(&host->lock);
    return found;
}

void wph_hostfns_free(wasmplug_host *host)
{
    wph_hostfn *f = host->hostfns;
    while (f) {
        wph_hostfn *next = f->next;
        hostfn_destroy(f);
        f = next;
    }
    host->hostfns = host->hostfns_last = NULL;
}

/* ------------------------------------------------------------------------ */
/* Inside a host function                                                   */
/* ------------------------------------------------------------------------ */

wasmplug_plugin *wasmplug_hostcall_plugin(wasmplug_hostcall *call)
{
    return call ? call->slot->plugin : NULL;
}

const char *wasmplug_hostcall_plugin_name(wasmplug_hostcall *call)
{
    return call ? call->slot->plugin->name : "";
}

const char *wasmplug_hostcall_plugin_id(wasmplug_hostcall *call)
{
    return call ? call->slot->plugin->id : "";
}

void *wasmplug_hostcall_user_data(wasmplug_hostcall *call)
{
    return call ? call->slot->plugin->user_data : NULL;
}

const char *wasmplug_hostcall_function(wasmplug_hostcall *call)
{
    return call ? call->fn->full : "";
}

uint8_t *wasmplug_hostcall_memory(wasmplug_hostcall *call, size_t *size)
{
    if (size)
        *size = 0;
    if (!call)
        return NULL;
    wasmplug_memory *m = wasmplug_instance_memory(call->inst);
    if (!m)
        return NULL;
    size_t sz = 0;
    uint8_t *base = wasmplug_memory_data(m, &sz);
    if (size)
        *size = sz;
    return base;
}

void wasmplug_hostcall_error(wasmplug_hostcall *call, const char *fmt, ...)
{
    if (!call || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->msg, sizeof call->msg, fmt, ap);
    va_end(ap);
    call->has_msg = true;
}

wasmplug_status wasmplug_hostcall_write(wasmplug_hostcall *call, const void *data, size_t len)
{
    if (!call || (!data && len))
        return WASMPLUG_ERR_ARGUMENT;
    wph_slot *s = call->slot;
    wasmplug_status st = wph_buf_append(&s->result, &s->result_len, &s->result_cap, data, len,
                                        s->plugin->limits.max_output_bytes);
    if (st != WASMPLUG_OK && call->write_failed == WASMPLUG_OK)
        call->write_failed = st;
    return st;
}

void **wasmplug_hostcall_call_state(wasmplug_hostcall *call, unsigned service)
{
    if (!call || service >= WASMPLUG_SERVICES_MAX)
        return NULL;
    return &call->slot->svc_call[service];
}

void wasmplug_hostcall_fail(wasmplug_hostcall *call, wasmplug_status code, const char *fmt, ...)
{
    if (!call || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->msg, sizeof call->msg, fmt, ap);
    va_end(ap);
    call->has_msg = true;
    call->fail_code = code == WASMPLUG_OK ? WASMPLUG_ERR_HOST_FUNCTION : code;
}

void wasmplug_hostcall_deny(wasmplug_hostcall *call, const char *fmt, ...)
{
    if (!call || !fmt)
        return;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wasmplug_plugin *p = call->slot->plugin;
    wasmplug_plugin_error e;
    wph_fail(&e, WASMPLUG_ERR_PERMISSION_DENIED, WASMPLUG_PHASE_CALL, p->name, call->fn->full,
             "%s", msg);
    call->slot->denials++; /* counted with the call's metrics */
    wph_record(p->host, p, &e);
}

wasmplug_status wasmplug_hostcall_check(wasmplug_hostcall *call)
{
    if (!call)
        return WASMPLUG_ERR_ARGUMENT;
    int why = atomic_load(&call->slot->interrupted);
    if (why & WPH_INT_CANCEL)
        return WASMPLUG_ERR_CANCELLED;
    if (why & WPH_INT_TIMEOUT)
        return WASMPLUG_ERR_TIMEOUT;
    return WASMPLUG_OK;
}
