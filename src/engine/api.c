/*
 * api.c - the engine object, status and trap strings, host-created externs
 * (functions, memories, tables, globals) and their reference counting, the
 * call entry points from C (wasmplug_func_call*, wp_exec_call, which turns
 * a trap into a wasmplug_error with a backtrace), the caller API used inside
 * host functions, and the memory/table/global accessors.
 */
#include "runtime.h"
#include "aot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* instance.c: frees instances kept alive after a failed instantiation. */

/* ------------------------------------------------------------------------ */
/* Version, strings, errors                                                 */
/* ------------------------------------------------------------------------ */

const char *wasmplug_version(void)
{
    return WASMPLUG_VERSION_STRING;
}

const char *wasmplug_strerror(wasmplug_status status)
{
    static const char *const strings[] = {
#define WASMPLUG_X_STR(name, msg) msg,
        WASMPLUG_STATUS_LIST(WASMPLUG_X_STR)
#undef WASMPLUG_X_STR
    };
    if ((unsigned)status >= sizeof strings / sizeof strings[0])
        return "unknown status";
    return strings[status];
}

const char *wasmplug_status_name(wasmplug_status status)
{
    static const char *const names[] = {
#define WASMPLUG_X_STR(name, msg) #name,
        WASMPLUG_STATUS_LIST(WASMPLUG_X_STR)
#undef WASMPLUG_X_STR
    };
    if ((unsigned)status >= sizeof names / sizeof names[0])
        return "UNKNOWN";
    return names[status];
}

const char *wasmplug_trap_string(wasmplug_trap trap)
{
    static const char *const strings[] = {
#define WASMPLUG_X_STR(name, msg) msg,
        WASMPLUG_TRAP_LIST(WASMPLUG_X_STR)
#undef WASMPLUG_X_STR
    };
    if ((unsigned)trap >= sizeof strings / sizeof strings[0])
        return "unknown trap";
    return strings[trap];
}

const char *wasmplug_valtype_name(wasmplug_valtype t)
{
    switch (t) {
    case WASMPLUG_I32: return "i32";
    case WASMPLUG_I64: return "i64";
    case WASMPLUG_F32: return "f32";
    case WASMPLUG_F64: return "f64";
    case WASMPLUG_V128: return "v128";
    case WASMPLUG_FUNCREF: return "funcref";
    case WASMPLUG_EXTERNREF: return "externref";
    }
    return "unknown type";
}

void wasmplug_error_clear(wasmplug_error *err)
{
    if (!err)
        return;
    err->status = WASMPLUG_OK;
    err->trap = WASMPLUG_TRAP_NONE;
    err->offset = UINT64_MAX;
    err->exit_code = 0;
    err->message[0] = '\0';
    err->frame_count = 0;
}

/* ------------------------------------------------------------------------ */
/* Engine                                                                   */
/* ------------------------------------------------------------------------ */

static void *default_alloc(void *user, void *ptr, size_t old_size, size_t new_size)
{
    (void)user;
    (void)old_size;
    if (new_size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, new_size);
}

wasmplug_status wasmplug_engine_new(const wasmplug_engine_config *cfg, wasmplug_engine **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wasmplug_alloc_fn alloc = cfg && cfg->alloc ? cfg->alloc : default_alloc;
    void *user = cfg && cfg->alloc ? cfg->alloc_user : NULL;
    wasmplug_bounds_mode mode = cfg ? cfg->bounds : WASMPLUG_BOUNDS_AUTO;
    wasmplug_signal_mode signals = cfg ? cfg->signals : WASMPLUG_SIGNALS_VERIFY;
    if ((unsigned)signals > WASMPLUG_SIGNALS_HOST)
        return WASMPLUG_ERR_ARGUMENT;
    uint32_t max_pages = cfg && cfg->max_memory_pages ? cfg->max_memory_pages
                                                      : WASMPLUG_DEFAULT_MAX_MEMORY_PAGES;
    if (max_pages > WP_MAX_PAGES)
        max_pages = WP_MAX_PAGES;
    /* In HOST mode the host's handler calls wasmplug_handle_fault: nothing
     * to install, guard pages are always usable. */
    bool handler_ok = mode != WASMPLUG_BOUNDS_EXPLICIT && WP_HAVE_GUARD &&
                      (signals == WASMPLUG_SIGNALS_HOST ||
                       wp_fault_handler_install() == WASMPLUG_OK);

    switch (mode) {
    case WASMPLUG_BOUNDS_AUTO:
        /* Guard pages where the fault handler can be installed (64-bit
         * POSIX, and not displaced by a sanitizer's handler). */
        mode = handler_ok ? WASMPLUG_BOUNDS_GUARD_PAGES : WASMPLUG_BOUNDS_EXPLICIT;
        break;
    case WASMPLUG_BOUNDS_GUARD_PAGES:
        if (!handler_ok)
            return WASMPLUG_ERR_UNSUPPORTED;
        break;
    case WASMPLUG_BOUNDS_EXPLICIT:
        break;
    default:
        return WASMPLUG_ERR_ARGUMENT;
    }

    wasmplug_engine *e = alloc(user, NULL, 0, sizeof *e);
    if (!e)
        return WASMPLUG_ERR_NOMEM;
    memset(e, 0, sizeof *e);
    if (pthread_mutex_init(&e->parked_lock, NULL) != 0) {
        alloc(user, e, sizeof *e, 0);
        return WASMPLUG_ERR_NOMEM;
    }
    e->alloc = alloc;
    e->alloc_user = user;
    e->bounds = mode;
    e->signals = signals;
    e->no_bounds_fallback = cfg && cfg->no_bounds_fallback;
    e->max_pages = max_pages;
    *out = e;
    return WASMPLUG_OK;
}

wasmplug_bounds_mode wp_engine_bounds(const wasmplug_engine *e)
{
    return e->bounds;
}

void wasmplug_engine_free(wasmplug_engine *engine)
{
    if (!engine)
        return;
    wp_instance_free_parked(engine);
    pthread_mutex_destroy(&engine->parked_lock);
    engine->alloc(engine->alloc_user, engine, sizeof *engine, 0);
}

/* ------------------------------------------------------------------------ */
/* Host-created externs and reference counting                              */
/* ------------------------------------------------------------------------ */

static bool valtype_ok(wasmplug_valtype t)
{
    switch (t) {
    case WASMPLUG_I32:
    case WASMPLUG_I64:
    case WASMPLUG_F32:
    case WASMPLUG_F64:
    case WASMPLUG_FUNCREF:
    case WASMPLUG_EXTERNREF:
    case WASMPLUG_V128:
        return true;
    default:
        return false;
    }
}

static void init_object(wp_object *o, wasmplug_engine *e, wasmplug_extern_kind kind)
{
    atomic_init(&o->refcount, 1);
    o->kind = kind;
    o->owner = NULL;
    o->engine = e;
}

wasmplug_status wasmplug_func_new_host(wasmplug_engine *engine, const wasmplug_functype *type,
                                       wasmplug_host_fn fn, void *user,
                                       void (*finalizer)(void *user), wasmplug_func **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    if (!engine || !type || !fn || (type->param_count && !type->params) ||
        (type->result_count && !type->results))
        return WASMPLUG_ERR_ARGUMENT;
    size_t n = (size_t)type->param_count + type->result_count;
    for (uint32_t i = 0; i < type->param_count; i++)
        if (!valtype_ok(type->params[i]))
            return WASMPLUG_ERR_ARGUMENT;
    for (uint32_t i = 0; i < type->result_count; i++)
        if (!valtype_ok(type->results[i]))
            return WASMPLUG_ERR_ARGUMENT;

    wasmplug_func *f = wp_calloc(engine, 1, sizeof *f);
    wasmplug_valtype *types = wp_calloc(engine, n ? n : 1, sizeof *types);
    if (!f || !types) {
        wp_free(engine, f, sizeof *f);
        wp_free(engine, types, (n ? n : 1) * sizeof *types);
        return WASMPLUG_ERR_NOMEM;
    }
    if (type->param_count)
        memcpy(types, type->params, type->param_count * sizeof *types);
    if (type->result_count)
        memcpy(types + type->param_count, type->results, type->result_count * sizeof *types);
    init_object(&f->obj, engine, WASMPLUG_EXTERN_FUNC);
    f->own_type.nparams = type->param_count;
    f->own_type.nresults = type->result_count;
    f->own_type.pslots = wp_types_slots(types, type->param_count);
    f->own_type.rslots = wp_types_slots(types + type->param_count, type->result_count);
    f->own_type.types = types;
    f->type = &f->own_type;
    f->instance = NULL;
    f->code = NULL;
    f->host = fn;
    f->host_user = user;
    f->finalizer = finalizer;
    *out = f;
    return WASMPLUG_OK;
}

static bool limits_in(wasmplug_limits l, wp_limits *out)
{
    if (l.has_max && l.max < l.min)
        return false;
    out->min = l.min;
    out->max = l.has_max ? l.max : 0;
    out->has_max = l.has_max;
    return true;
}

wasmplug_status wasmplug_memory_new(wasmplug_engine *engine, wasmplug_limits limits,
                                    wasmplug_memory **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wp_limits l;
    if (!engine || !limits_in(limits, &l))
        return WASMPLUG_ERR_ARGUMENT;
    if (l.min > WP_MAX_PAGES || (l.has_max && l.max > WP_MAX_PAGES))
        return WASMPLUG_ERR_LIMIT;
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    return wp_memory_create(engine, l, out, why, sizeof why);
}

wasmplug_bounds_mode wasmplug_memory_bounds(const wasmplug_memory *memory)
{
    return memory && memory->guarded ? WASMPLUG_BOUNDS_GUARD_PAGES : WASMPLUG_BOUNDS_EXPLICIT;
}

wasmplug_status wasmplug_table_new(wasmplug_engine *engine, wasmplug_valtype elem,
                                   wasmplug_limits limits, void *init, wasmplug_table **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wp_limits l;
    if (!engine || (elem != WASMPLUG_FUNCREF && elem != WASMPLUG_EXTERNREF) ||
        !limits_in(limits, &l))
        return WASMPLUG_ERR_ARGUMENT;
    return wp_table_create(engine, elem, l, init, out);
}

wasmplug_status wasmplug_global_new(wasmplug_engine *engine, wasmplug_val value, bool mutable_,
                                    wasmplug_global **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    if (!engine || !valtype_ok(value.type))
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_global *g = wp_calloc(engine, 1, sizeof *g);
    if (!g)
        return WASMPLUG_ERR_NOMEM;
    init_object(&g->obj, engine, WASMPLUG_EXTERN_GLOBAL);
    g->type = value.type;
    g->mutable_ = mutable_;
    g->value = value.of;
    g->value_hi = value.of_hi;
    *out = g;
    return WASMPLUG_OK;
}

static wp_object *object_of(wasmplug_extern ext)
{
    switch (ext.kind) {
    case WASMPLUG_EXTERN_FUNC: return ext.of.func ? &ext.of.func->obj : NULL;
    case WASMPLUG_EXTERN_TABLE: return ext.of.table ? &ext.of.table->obj : NULL;
    case WASMPLUG_EXTERN_MEMORY: return ext.of.memory ? &ext.of.memory->obj : NULL;
    case WASMPLUG_EXTERN_GLOBAL: return ext.of.global ? &ext.of.global->obj : NULL;
    }
    return NULL;
}

static void destroy_host_extern(wasmplug_extern ext)
{
    switch (ext.kind) {
    case WASMPLUG_EXTERN_FUNC: {
        wasmplug_func *f = ext.of.func;
        wasmplug_engine *e = f->obj.engine;
        if (f->finalizer)
            f->finalizer(f->host_user);
        size_t n = (size_t)f->own_type.nparams + f->own_type.nresults;
        wp_free(e, f->own_type.types, (n ? n : 1) * sizeof *f->own_type.types);
        wp_free(e, f, sizeof *f);
        break;
    }
    case WASMPLUG_EXTERN_TABLE:
        wp_table_destroy(ext.of.table);
        break;
    case WASMPLUG_EXTERN_MEMORY:
        wp_memory_destroy(ext.of.memory);
        break;
    case WASMPLUG_EXTERN_GLOBAL:
        wp_free(ext.of.global->obj.engine, ext.of.global, sizeof *ext.of.global);
        break;
    }
}

void wasmplug_extern_retain(wasmplug_extern ext)
{
    wp_object *o = object_of(ext);
    if (!o)
        return;
    if (o->owner)
        atomic_fetch_add_explicit(&o->owner->refcount, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&o->refcount, 1, memory_order_relaxed);
}

void wasmplug_extern_release(wasmplug_extern ext)
{
    wp_object *o = object_of(ext);
    if (!o)
        return;
    if (o->owner)
        wasmplug_instance_free(o->owner);
    else if (atomic_fetch_sub_explicit(&o->refcount, 1, memory_order_acq_rel) == 1)
        destroy_host_extern(ext);
}

/* The _free functions drop the reference wasmplug_*_new gave. On an extern
 * owned by an instance (an export) they do nothing: the caller never got a
 * reference of its own unless it called wasmplug_extern_retain, which is
 * undone with wasmplug_extern_release. */
static void free_if_host(wasmplug_extern ext)
{
    wp_object *o = object_of(ext);
    if (o && !o->owner)
        wasmplug_extern_release(ext);
}

void wasmplug_func_free(wasmplug_func *func)
{
    wasmplug_extern x = {.kind = WASMPLUG_EXTERN_FUNC, .of.func = func};
    free_if_host(x);
}

void wasmplug_memory_free(wasmplug_memory *memory)
{
    wasmplug_extern x = {.kind = WASMPLUG_EXTERN_MEMORY, .of.memory = memory};
    free_if_host(x);
}

void wasmplug_table_free(wasmplug_table *table)
{
    wasmplug_extern x = {.kind = WASMPLUG_EXTERN_TABLE, .of.table = table};
    free_if_host(x);
}

void wasmplug_global_free(wasmplug_global *global)
{
    wasmplug_extern x = {.kind = WASMPLUG_EXTERN_GLOBAL, .of.global = global};
    free_if_host(x);
}

static wasmplug_limits limits_out(uint32_t min, const wp_limits *l)
{
    wasmplug_limits r;
    r.min = min;
    r.max = l->has_max ? l->max : 0;
    r.has_max = l->has_max;
    return r;
}

wasmplug_functype wasmplug_func_type(const wasmplug_func *func)
{
    wasmplug_functype t;
    memset(&t, 0, sizeof t);
    if (!func)
        return t;
    t.param_count = func->type->nparams;
    t.result_count = func->type->nresults;
    t.params = wp_functype_params(func->type);
    t.results = wp_functype_results(func->type);
    return t;
}

wasmplug_externtype wasmplug_extern_type(wasmplug_extern ext)
{
    wasmplug_externtype t;
    memset(&t, 0, sizeof t);
    t.kind = ext.kind;
    if (!object_of(ext))
        return t;
    switch (ext.kind) {
    case WASMPLUG_EXTERN_FUNC:
        t.of.func = wasmplug_func_type(ext.of.func);
        break;
    case WASMPLUG_EXTERN_TABLE:
        t.of.table.elem = ext.of.table->elem;
        t.of.table.limits = limits_out(ext.of.table->size, &ext.of.table->limits);
        break;
    case WASMPLUG_EXTERN_MEMORY:
        t.of.memory = limits_out(ext.of.memory->pages, &ext.of.memory->limits);
        break;
    case WASMPLUG_EXTERN_GLOBAL:
        t.of.global.type = ext.of.global->type;
        t.of.global.mutable_ = ext.of.global->mutable_;
        break;
    }
    return t;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

static void copy_name(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > WASMPLUG_ERROR_NAME_MAX - 1)
        n = WASMPLUG_ERROR_NAME_MAX - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Function index and name (or NULL) of a function: from the name section,
 * else the function's first export name (optimizing toolchains often drop
 * the name section; exported functions keep a name in backtraces). */
static uint32_t func_ident(const wasmplug_func *f, const char **name)
{
    *name = NULL;
    if (!f || !f->code || !f->instance)
        return UINT32_MAX;
    uint32_t index = f->code->func_index;
    const wasmplug_module *m = f->instance->module;
    if (m->func_names && index < m->nfuncs)
        *name = m->func_names[index];
    for (uint32_t i = 0; !(*name && **name) && i < m->nexports; i++)
        if (m->exports[i].kind == WASMPLUG_EXTERN_FUNC && m->exports[i].index == index)
            *name = m->exports[i].name.str;
    return index;
}

/* Fill err for a trap: "<message> in function <name>" plus the backtrace of
 * frames [depth0, depth) innermost first. */
static wasmplug_status trap_error(wasmplug_error *err, const wp_exec *exec, uint32_t depth0,
                                  const wasmplug_func *entry, wasmplug_trap trap, int32_t exit_code,
                                  const char *message)
{
    if (!err)
        return WASMPLUG_ERR_TRAP;
    if (trap == WASMPLUG_TRAP_NONE)
        trap = WASMPLUG_TRAP_HOST_ERROR;
    const char *text = message && message[0] ? message : wasmplug_trap_string(trap);
    const wasmplug_func *inner = exec && exec->depth > depth0 ? exec->frames[exec->depth - 1].func
                                                              : entry;
    const char *name;
    uint32_t index = func_ident(inner, &name);
    if (name && name[0])
        wp_error(err, WASMPLUG_ERR_TRAP, WP_NO_OFFSET, "%s in function %s", text, name);
    else if (index != UINT32_MAX)
        wp_error(err, WASMPLUG_ERR_TRAP, WP_NO_OFFSET, "%s in function #%u", text, index);
    else
        wp_error(err, WASMPLUG_ERR_TRAP, WP_NO_OFFSET, "%s in a host function", text);
    err->trap = trap;
    err->exit_code = exit_code;
    err->frame_count = 0;
    if (exec) {
        for (uint32_t d = exec->depth; d > depth0 && err->frame_count < WASMPLUG_ERROR_FRAMES_MAX; d--) {
            wasmplug_frame *fr = &err->frames[err->frame_count++];
            fr->func_index = func_ident(exec->frames[d - 1].func, &name);
            copy_name(fr->func_name, name);
        }
    }
    if (err->frame_count == 0 && entry && entry->code) {
        wasmplug_frame *fr = &err->frames[err->frame_count++];
        fr->func_index = func_ident(entry, &name);
        copy_name(fr->func_name, name);
    }
    return WASMPLUG_ERR_TRAP;
}

/* Call a host function with slots as its argument/result array. */
static wasmplug_status call_host(wp_exec *exec, wasmplug_instance *caller_instance,
                                 wasmplug_func *func, wasmplug_slot *slots, wasmplug_error *err)
{
    wasmplug_caller caller;
    caller.exec = exec;
    caller.instance = caller_instance;
    caller.trap = WASMPLUG_TRAP_HOST_ERROR;
    caller.exit_code = 0;
    exec->trap_message[0] = '\0';
    if (func->host(&caller, func->host_user, slots) == 0)
        return WASMPLUG_OK;
    return trap_error(err, NULL, 0, func, caller.trap, caller.exit_code, exec->trap_message);
}

wasmplug_status wp_exec_call(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args_results,
                             wasmplug_error *err)
{
    const wp_functype *t = func->type;
    if (!func->code) {
        /* A host function as start function (or called on an instance's
         * state): its caller is the instance owning exec. */
        wasmplug_instance *inst =
            (wasmplug_instance *)((char *)exec - offsetof(wasmplug_instance, exec));
        return call_host(exec, inst, func, args_results, err);
    }

    size_t n = t->pslots > t->rslots ? t->pslots : t->rslots;
    wasmplug_slot *base = exec->stack_top;
    uint32_t depth0 = exec->depth;
    size_t used = (size_t)(base - exec->stack);
    if (used > exec->stack_slots || exec->stack_slots - used < n) {
        if (err) {
            wp_error(err, WASMPLUG_ERR_TRAP, WP_NO_OFFSET, "%s",
                     wasmplug_trap_string(WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED));
            err->trap = WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED;
        }
        return WASMPLUG_ERR_TRAP;
    }
    exec->stack_used = true;
    if (t->pslots)
        memcpy(base, args_results, t->pslots * sizeof *base);
    exec->trap = WASMPLUG_TRAP_NONE;
    exec->exit_code = 0;
    exec->trap_message[0] = '\0';

    wasmplug_status st = WASMPLUG_OK;
    if (wp_aot_ready(func) ? wp_aot_call(exec, func, base) : wp_interp_call(exec, func, base)) {
        if (t->rslots)
            memcpy(args_results, base, t->rslots * sizeof *base);
    } else {
        st = trap_error(err, exec, depth0, func, exec->trap, exec->exit_code, exec->trap_message);
    }
    /* Nested calls (host -> wasm) return to the outer call's state. */
    exec->depth = depth0;
    exec->stack_top = base;
    return st;
}

wasmplug_status wasmplug_func_call_slots(wasmplug_func *func, wasmplug_slot *slots,
                                         wasmplug_error *err)
{
    if (!func || (!slots && (func->type->nparams || func->type->nresults)))
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_func_call_slots: func and slots are required");
    wasmplug_slot dummy[1];
    if (!slots) {
        dummy[0].u64 = 0;
        slots = dummy;
    }
    if (!func->code) {
        /* A host function called from C: no instance, a scratch state for
         * wasmplug_caller_set_error. */
        wp_exec scratch;
        memset(&scratch, 0, sizeof scratch);
        return call_host(&scratch, NULL, func, slots, err);
    }
    return wp_exec_call(&func->instance->exec, func, slots, err);
}


wasmplug_status wasmplug_func_call(wasmplug_func *func, const wasmplug_val *args, size_t arg_count,
                                   wasmplug_val *results, size_t result_count, wasmplug_error *err)
{
    if (!func || (arg_count && !args) || (result_count && !results))
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_func_call: func (and args/results when counts > 0) required");
    const wp_functype *t = func->type;
    if (arg_count != t->nparams)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wrong number of arguments: the function takes %u, got %zu", t->nparams,
                        arg_count);
    if (result_count != t->nresults)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wrong number of results: the function returns %u, room for %zu given",
                        t->nresults, result_count);
    const wasmplug_valtype *params = wp_functype_params(t);
    for (size_t i = 0; i < arg_count; i++)
        if (args[i].type != params[i])
            return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                            "argument %zu has type %s, the function expects %s", i,
                            wasmplug_valtype_name(args[i].type),
                            wasmplug_valtype_name(params[i]));

    size_t n = t->pslots > t->rslots ? t->pslots : t->rslots;
    wasmplug_slot local[16];
    wasmplug_slot *slots = local;
    wasmplug_engine *e = func->obj.engine;
    if (n > sizeof local / sizeof local[0]) {
        slots = wp_calloc(e, n, sizeof *slots);
        if (!slots)
            return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    for (size_t i = 0, k = 0; i < arg_count; i++) {
        slots[k++] = args[i].of;
        if (args[i].type == WASMPLUG_V128)
            slots[k++] = args[i].of_hi;
    }
    if (n == 0)
        slots[0].u64 = 0;
    wasmplug_status st = func->code ? wp_exec_call(&func->instance->exec, func, slots, err)
                                    : wasmplug_func_call_slots(func, slots, err);
    if (st == WASMPLUG_OK) {
        const wasmplug_valtype *rt = wp_functype_results(t);
        for (size_t i = 0, k = 0; i < result_count; i++) {
            results[i].type = rt[i];
            results[i].of = slots[k++];
            results[i].of_hi.u64 = 0;
            if (rt[i] == WASMPLUG_V128)
                results[i].of_hi = slots[k++];
        }
    }
    if (slots != local)
        wp_free(e, slots, n * sizeof *slots);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Inside host functions                                                    */
/* ------------------------------------------------------------------------ */

wasmplug_instance *wasmplug_caller_instance(wasmplug_caller *caller)
{
    return caller ? caller->instance : NULL;
}

void wasmplug_caller_set_error(wasmplug_caller *caller, const char *fmt, ...)
{
    if (!caller || !caller->exec || !fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(caller->exec->trap_message, sizeof caller->exec->trap_message, fmt, ap);
    va_end(ap);
}

void wasmplug_caller_trap(wasmplug_caller *caller, wasmplug_trap trap, int32_t exit_code)
{
    if (!caller)
        return;
    caller->trap = trap;
    caller->exit_code = exit_code;
}

/* ------------------------------------------------------------------------ */
/* Memories, tables, globals                                                */
/* ------------------------------------------------------------------------ */

uint8_t *wasmplug_memory_data(wasmplug_memory *memory, size_t *size)
{
    if (!memory) {
        if (size)
            *size = 0;
        return NULL;
    }
    if (size)
        *size = (size_t)memory->size;
    return memory->base;
}

uint32_t wasmplug_memory_pages(const wasmplug_memory *memory)
{
    return memory ? memory->pages : 0;
}

wasmplug_status wasmplug_memory_grow(wasmplug_memory *memory, uint32_t delta, uint32_t *old_pages)
{
    if (!memory)
        return WASMPLUG_ERR_ARGUMENT;
    /* An instance's memory also obeys the instance's page limit. */
    uint32_t limit = memory->obj.owner ? memory->obj.owner->exec.max_pages : WP_MAX_PAGES;
    int32_t r = wp_memory_grow(memory, delta, limit);
    if (r < 0)
        return WASMPLUG_ERR_LIMIT;
    if (old_pages)
        *old_pages = (uint32_t)r;
    return WASMPLUG_OK;
}

uint32_t wasmplug_table_size(const wasmplug_table *table)
{
    return table ? table->size : 0;
}

wasmplug_status wasmplug_table_get(const wasmplug_table *table, uint32_t i, void **ref)
{
    if (!table || !ref || i >= table->size)
        return WASMPLUG_ERR_ARGUMENT;
    *ref = table->elems[i];
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_table_set(wasmplug_table *table, uint32_t i, void *ref)
{
    if (!table || i >= table->size)
        return WASMPLUG_ERR_ARGUMENT;
    table->elems[i] = ref;
    return WASMPLUG_OK;
}

wasmplug_val wasmplug_global_get(const wasmplug_global *global)
{
    wasmplug_val v;
    memset(&v, 0, sizeof v);
    if (!global) {
        v.type = WASMPLUG_I32;
        return v;
    }
    v.type = global->type;
    v.of = global->value;
    if (global->type == WASMPLUG_V128)
        v.of_hi = global->value_hi;
    return v;
}

wasmplug_status wasmplug_global_set(wasmplug_global *global, wasmplug_val value)
{
    if (!global || !global->mutable_ || value.type != global->type)
        return WASMPLUG_ERR_ARGUMENT;
    global->value = value.of;
    global->value_hi = value.of_hi;
    return WASMPLUG_OK;
}
