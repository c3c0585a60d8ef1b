/*
 * aot.c - the native tier: compile a module's C (aot_emit.c) with the
 * system C compiler into a shared object, load it, attach it to the module,
 * and run calls on it with the interpreter's semantics.
 *
 * Calls: wp_exec_call (api.c) asks wp_aot_ready whether a function's module
 * has native code its instance may use, and if so runs wp_aot_call instead
 * of wp_interp_call, with the same contract: arguments and results in the
 * exec's value stack, false on a trap with exec->trap set and exec->frames
 * describing the stack for the backtrace. Native code keeps the exec's fuel,
 * depth and frames in wp_aot_ctx while it runs (aot_abi.h); everything it
 * cannot do inline comes back here through wp_aot_rt. Traps leave native
 * code by siglongjmp to the innermost wp_aot_call of the instance (as the
 * guard-page fault handler does for the interpreter); native code holds no
 * resources, so nothing is skipped.
 *
 * Tiers switch between calls only: an instance's state (memories, tables,
 * globals) is shared by both, so a module whose native code is attached
 * while its instances serve calls moves every new call from C to native
 * code, and calls already running finish in the interpreter.
 */
#include "aot.h"
#include "aot_abi.h"
#include "wasmplug/native.h"
#include "wp_engine_key.h"

#include <dlfcn.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The layouts aot_abi.h mirrors. */
_Static_assert(sizeof(wp_aot_slot) == sizeof(wasmplug_slot), "slot layout");
_Static_assert(sizeof(wp_aot_frame) == sizeof(wp_frame), "frame layout");
_Static_assert(offsetof(wp_aot_frame, func) == offsetof(wp_frame, func), "frame layout");
_Static_assert(sizeof(atomic_int) == sizeof(int), "interrupt flag layout");

/* Native code attached to a module. */
struct wp_aot {
    void *handle;
    const wp_aot_module_info *info;
};

/* A background compile of a module (wasmplug_module_compile_native_async). */
struct wp_aot_job {
    pthread_mutex_t lock;
    pthread_cond_t done;
    bool running;
    bool cancelled;
    bool joinable;                /* thread started and not joined yet */
    pthread_t thread;
    pid_t pid;                    /* the compiler while it runs, else 0 */
    wasmplug_native_state state;
    char message[WASMPLUG_ERROR_MESSAGE_MAX];
};

/* An instance's native state; ctx first (the run-time functions get it). */
typedef struct wp_aot_inst {
    wp_aot_ctx ctx;
    wasmplug_instance *inst;
    const wp_aot_module_info *info;
    sigjmp_buf *jump;             /* the innermost wp_aot_call's */
    wp_aot_slot **globals;
    uint64_t calls;               /* calls from C that ran native code */
} wp_aot_inst;

uint64_t wp_aot_engine_key(void)
{
    return WP_ENGINE_SOURCE_HASH ^ ((uint64_t)WP_AOT_ABI_VERSION << 56);
}

uint64_t wp_aot_module_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* ------------------------------------------------------------------------ */
/* Run-time services (wp_aot_rt)                                            */
/* ------------------------------------------------------------------------ */

static wp_aot_inst *ai_of(wp_aot_ctx *c)
{
    return (wp_aot_inst *)c;
}

static wp_exec *exec_of(wp_aot_ctx *c)
{
    return &ai_of(c)->inst->exec;
}

/* Leave native code with exec->trap already set (and exec->depth where the
 * backtrace should start). */
static WP_AOT_NORETURN void unwind(wp_aot_ctx *c)
{
    siglongjmp(*ai_of(c)->jump, 2);
}

static WP_AOT_NORETURN void rt_trap(wp_aot_ctx *c, uint32_t kind)
{
    wp_exec *exec = exec_of(c);
    exec->trap = (wasmplug_trap)kind;
    exec->exit_code = 0;
    snprintf(exec->trap_message, sizeof exec->trap_message, "%s",
             wasmplug_trap_string((wasmplug_trap)kind));
    exec->depth = c->depth;
    unwind(c);
}

static void rt_fuel(wp_aot_ctx *c)
{
    if (c->fuel < 0) {
        c->fuel = 0;
        rt_trap(c, WASMPLUG_TRAP_OUT_OF_FUEL);
    }
    if (atomic_exchange_explicit(&exec_of(c)->interrupt, 0, memory_order_relaxed))
        rt_trap(c, WASMPLUG_TRAP_INTERRUPTED);
}

/* An import, a host function or another instance's function: on the exec's
 * value stack, through the interpreter's entry (which calls host functions
 * with this instance as the caller). */
static void rt_call(wp_aot_ctx *c, const void *fv, wp_aot_slot *slots)
{
    wasmplug_func *f = (wasmplug_func *)(uintptr_t)fv;
    wp_exec *exec = exec_of(c);
    uint32_t np = f->type->pslots, nr = f->type->rslots, n = np > nr ? np : nr;
    wasmplug_slot *base = exec->stack_top;
    size_t used = (size_t)(base - exec->stack);
    if (used > exec->stack_slots || exec->stack_slots - used < n)
        rt_trap(c, WASMPLUG_TRAP_VALUE_STACK_EXHAUSTED);
    if (np)
        memcpy(base, slots, np * sizeof *base);
    exec->fuel = c->fuel;
    exec->depth = c->depth;
    bool ok = f->code ? wp_interp_call(exec, f, base)
                      : wp_interp_call_host(exec, f, ai_of(c)->inst, base);
    /* The callee may have changed fuel or limits. */
    c->fuel = exec->fuel_limited ? (exec->fuel < 0 ? 0 : exec->fuel) : INT64_MAX;
    c->max_depth = exec->max_depth;
    if (!ok)
        unwind(c);
    exec->depth = c->depth;
    if (nr)
        memcpy(slots, base, nr * sizeof *base);
}

static void *rt_indirect(wp_aot_ctx *c, uint32_t table, uint32_t type, uint32_t i,
                         const void **fout)
{
    wasmplug_instance *inst = ai_of(c)->inst;
    const wasmplug_table *t = inst->tables[table];
    if (i >= t->size)
        rt_trap(c, WASMPLUG_TRAP_UNDEFINED_ELEMENT);
    const wasmplug_func *f = (const wasmplug_func *)t->elems[i];
    if (!f)
        rt_trap(c, WASMPLUG_TRAP_UNINITIALIZED_ELEMENT);
    const wp_functype *want = &inst->module->types[type];
    if (f->type != want && !wp_functype_equal(f->type, want))
        rt_trap(c, WASMPLUG_TRAP_INDIRECT_CALL_TYPE_MISMATCH);
    if (f->instance == inst && f->code)
        return ai_of(c)->info->natives[f->code->func_index - inst->module->num_imported_funcs];
    *fout = f;
    return NULL;
}

static int32_t rt_memory_grow(wp_aot_ctx *c, uint32_t delta)
{
    wp_exec *exec = exec_of(c);
    wasmplug_memory *mem = ai_of(c)->inst->memories[0];
    uint32_t limit = exec->max_pages ? exec->max_pages : WP_MAX_PAGES;
    if (limit > WP_MAX_PAGES)
        limit = WP_MAX_PAGES;
    if (mem->limits.has_max && mem->limits.max < limit)
        limit = mem->limits.max;
    int32_t r = wp_memory_grow(mem, delta, limit);
    exec->grows_refused += r < 0;
    return r;
}

static void rt_memory_init(wp_aot_ctx *c, uint32_t seg, uint32_t d, uint32_t s, uint32_t n)
{
    wasmplug_instance *inst = ai_of(c)->inst;
    const wp_data *sd = &inst->module->datas[seg];
    uint64_t size = inst->data_dropped[seg] ? 0 : sd->size;
    wasmplug_memory *mem = inst->memories[0];
    if ((uint64_t)s + n > size || (uint64_t)d + n > mem->size)
        rt_trap(c, WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS);
    if (n)
        memcpy(mem->base + d, sd->bytes + s, n);
}

static void rt_data_drop(wp_aot_ctx *c, uint32_t seg)
{
    ai_of(c)->inst->data_dropped[seg] = true;
}

static void *rt_table_get(wp_aot_ctx *c, uint32_t t, uint32_t i)
{
    const wasmplug_table *tb = ai_of(c)->inst->tables[t];
    if (i >= tb->size)
        rt_trap(c, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
    return tb->elems[i];
}

static void rt_table_set(wp_aot_ctx *c, uint32_t t, uint32_t i, void *ref)
{
    wasmplug_table *tb = ai_of(c)->inst->tables[t];
    if (i >= tb->size)
        rt_trap(c, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
    tb->elems[i] = ref;
}

static uint32_t rt_table_size(wp_aot_ctx *c, uint32_t t)
{
    return ai_of(c)->inst->tables[t]->size;
}

static int32_t rt_table_grow(wp_aot_ctx *c, uint32_t t, void *init, uint32_t n)
{
    return wp_table_grow(ai_of(c)->inst->tables[t], n, init);
}

static void rt_table_fill(wp_aot_ctx *c, uint32_t t, uint32_t i, void *ref, uint32_t n)
{
    wasmplug_table *tb = ai_of(c)->inst->tables[t];
    if ((uint64_t)i + n > tb->size)
        rt_trap(c, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
    for (uint32_t k = 0; k < n; k++)
        tb->elems[i + k] = ref;
}

static void rt_table_copy(wp_aot_ctx *c, uint32_t dt, uint32_t st, uint32_t d, uint32_t s,
                          uint32_t n)
{
    wasmplug_instance *inst = ai_of(c)->inst;
    wasmplug_table *td = inst->tables[dt];
    const wasmplug_table *ts = inst->tables[st];
    if ((uint64_t)s + n > ts->size || (uint64_t)d + n > td->size)
        rt_trap(c, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
    if (n)
        memmove(td->elems + d, ts->elems + s, (size_t)n * sizeof(void *));
}

static void rt_table_init(wp_aot_ctx *c, uint32_t t, uint32_t seg, uint32_t d, uint32_t s,
                          uint32_t n)
{
    wasmplug_instance *inst = ai_of(c)->inst;
    wasmplug_table *tb = inst->tables[t];
    const wp_elem *se = &inst->module->elems[seg];
    uint64_t size = inst->elem_dropped[seg] ? 0 : se->count;
    if ((uint64_t)s + n > size || (uint64_t)d + n > tb->size)
        rt_trap(c, WASMPLUG_TRAP_TABLE_OUT_OF_BOUNDS);
    for (uint32_t k = 0; k < n; k++) {
        const wp_constexpr *item = &se->items[s + k];
        void *ref;
        if (item->kind == WP_CONST_FUNC)
            ref = inst->funcs[item->index];
        else if (item->kind == WP_CONST_GLOBAL)
            ref = inst->globals[item->index]->value.ref;
        else
            ref = item->value.ref;
        tb->elems[d + k] = ref;
    }
}

static void rt_elem_drop(wp_aot_ctx *c, uint32_t seg)
{
    ai_of(c)->inst->elem_dropped[seg] = true;
}

static const wp_aot_rt rt = {
    .trap = rt_trap,
    .fuel = rt_fuel,
    .call = rt_call,
    .indirect = rt_indirect,
    .memory_grow = rt_memory_grow,
    .memory_init = rt_memory_init,
    .data_drop = rt_data_drop,
    .table_get = rt_table_get,
    .table_set = rt_table_set,
    .table_size = rt_table_size,
    .table_grow = rt_table_grow,
    .table_fill = rt_table_fill,
    .table_copy = rt_table_copy,
    .table_init = rt_table_init,
    .elem_drop = rt_elem_drop,
    .memmove = memmove,
    .memset = memset,
    .ceilf = ceilf,
    .floorf = floorf,
    .truncf = truncf,
    .rintf = rintf,
    .ceil = ceil,
    .floor = floor,
    .trunc = trunc,
    .rint = rint,
};

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/* Room kept below the native stack limit for host functions called from
 * native code, the engine's own frames and the fault handler. */
#define WP_AOT_STACK_RESERVE ((size_t)256 << 10)

/* This thread's lowest usable native stack address (computed once per
 * thread). */
static _Thread_local const char *tls_stack_limit;

static const char *stack_limit(void)
{
    if (tls_stack_limit)
        return tls_stack_limit;
    char here;
    const char *limit = &here - ((size_t)1 << 20);
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0 && size > 2 * WP_AOT_STACK_RESERVE)
            limit = (const char *)addr + WP_AOT_STACK_RESERVE;
        pthread_attr_destroy(&attr);
    }
    tls_stack_limit = limit;
    return limit;
}

bool wp_aot_ready(const wasmplug_func *f)
{
    const wasmplug_instance *inst = f->instance;
    return atomic_load_explicit(&inst->module->aot, memory_order_acquire) != NULL &&
           atomic_load_explicit(&inst->tier, memory_order_relaxed) == WASMPLUG_TIER_AUTO;
}

/* The instance's native state, made on its first native call; NULL (and
 * the instance set to the interpreter) when its memory does not fit the
 * code's bounds mode or memory runs out. */
static wp_aot_inst *instance_state(wasmplug_instance *inst, const wp_aot_module_info *info)
{
    if (inst->aot)
        return inst->aot;
    const wasmplug_module *m = inst->module;
    wasmplug_engine *e = inst->engine;
    if (m->nmemories && info->bounds == WASMPLUG_BOUNDS_GUARD_PAGES &&
        !inst->memories[0]->guarded)
        return NULL; /* a fallback memory without guard pages: the interpreter checks it */
    wp_aot_inst *ai = wp_calloc(e, 1, sizeof *ai);
    if (!ai)
        return NULL;
    if (m->nglobals) {
        ai->globals = wp_calloc(e, m->nglobals, sizeof *ai->globals);
        if (!ai->globals) {
            wp_free(e, ai, sizeof *ai);
            return NULL;
        }
        for (uint32_t i = 0; i < m->nglobals; i++)
            ai->globals[i] = (wp_aot_slot *)(void *)&inst->globals[i]->value;
    }
    ai->inst = inst;
    ai->info = info;
    if (m->nmemories) {
        ai->ctx.mem_base = &inst->memories[0]->base;
        ai->ctx.mem_size = &inst->memories[0]->size;
    }
    ai->ctx.globals = ai->globals;
    ai->ctx.funcs = (const void *const *)(void *)inst->funcs;
    ai->ctx.frames = (wp_aot_frame *)(void *)inst->exec.frames;
    ai->ctx.interrupt = (int *)(void *)&inst->exec.interrupt;
    inst->aot = ai;
    return ai;
}

/* Run entry on the instance's native state; traps and guard-page faults
 * come back here by siglongjmp. Only the parameters (never changed) are
 * read after a jump. */
static bool run(wp_aot_inst *const ai, wp_exec *const exec, const wp_aot_entry entry,
                wasmplug_slot *const args, const bool guarded)
{
    sigjmp_buf jb;
    int jumped = sigsetjmp(jb, 0);
    if (jumped == 0) {
        ai->jump = &jb;
        if (guarded)
            exec->fault_jump = &jb;
        entry(&ai->ctx, (wp_aot_slot *)(void *)args);
        return true;
    }
    if (jumped == 1) { /* a guard-page fault */
        exec->trap = WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS;
        exec->exit_code = 0;
        snprintf(exec->trap_message, sizeof exec->trap_message, "%s",
                 wasmplug_trap_string(WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS));
        exec->depth = ai->ctx.depth;
    }
    return false;
}

bool wp_aot_call(wp_exec *exec, wasmplug_func *func, wasmplug_slot *args)
{
    wasmplug_instance *inst = func->instance;
    struct wp_aot *a = atomic_load_explicit(&inst->module->aot, memory_order_acquire);
    wp_aot_inst *ai = exec == &inst->exec ? instance_state(inst, a->info) : NULL;
    if (!ai) {
        atomic_store_explicit(&inst->tier, WASMPLUG_TIER_INTERPRETER, memory_order_relaxed);
        return wp_interp_call(exec, func, args);
    }
    bool guarded = a->info->bounds == WASMPLUG_BOUNDS_GUARD_PAGES && inst->module->nmemories;
    sigjmp_buf *const prev_fault = exec->fault_jump;
    if (guarded && !prev_fault && !wp_fault_handler_verify(inst->engine, func->code)) {
        exec->trap = WASMPLUG_TRAP_HOST_ERROR;
        snprintf(exec->trap_message, sizeof exec->trap_message, "%s",
                 "the SIGSEGV handler guard pages need was replaced and cannot be restored "
                 "(see wasmplug_signal_mode)");
        return false;
    }
    /* A host function may call back into this instance: keep the outer
     * call's native state. */
    wp_aot_ctx *c = &ai->ctx;
    const wp_aot_ctx saved = *c;
    sigjmp_buf *const saved_jump = ai->jump;
    wasmplug_slot *const saved_top = exec->stack_top;
    uint32_t n = func->type->pslots > func->type->rslots ? func->type->pslots : func->type->rslots;
    exec->stack_top = args + n;
    c->fuel = exec->fuel;
    c->depth = exec->depth;
    c->max_depth = exec->max_depth;
    c->frames = (wp_aot_frame *)(void *)exec->frames;
    c->stack_limit = stack_limit();
    ai->calls++;
    wp_exec *const prev_current = wp_exec_swap_current(exec);
    bool ok = run(ai, exec, a->info->entries[func->code->func_index -
                                             inst->module->num_imported_funcs],
                  args, guarded);
    exec->fault_jump = prev_fault;
    wp_exec_swap_current(prev_current);
    if (!exec->fuel_limited)
        exec->fuel = INT64_MAX;
    else
        exec->fuel = c->fuel < 0 ? 0 : c->fuel;
    *c = saved;
    ai->jump = saved_jump;
    exec->stack_top = saved_top;
    return ok;
}

void wp_aot_instance_release(wasmplug_instance *inst)
{
    wp_aot_inst *ai = inst->aot;
    if (!ai)
        return;
    if (ai->globals)
        wp_free(inst->engine, ai->globals, inst->module->nglobals * sizeof *ai->globals);
    wp_free(inst->engine, ai, sizeof *ai);
    inst->aot = NULL;
}

void wp_aot_module_release(wasmplug_module *m)
{
    /* a background compile reads the module: stop it first */
    wasmplug_module_native_wait(m, true);
    struct wp_aot_job *job = atomic_exchange(&m->aot_job, NULL);
    if (job) {
        pthread_mutex_destroy(&job->lock);
        pthread_cond_destroy(&job->done);
        wp_free(m->engine, job, sizeof *job);
    }
    struct wp_aot *a = atomic_exchange(&m->aot, NULL);
    if (!a)
        return;
    dlclose(a->handle);
    wp_free(m->engine, a, sizeof *a);
}

/* ------------------------------------------------------------------------ */
/* Compiling                                                                */
/* ------------------------------------------------------------------------ */

/* Flags the generated code needs whatever the user adds: position
 * independent, no C library (aot_abi.h), IEEE arithmetic as written (no
 * contraction into FMA, sqrt without errno), nothing else exported. */
static const char *const required_flags[] = {
    "-shared", "-fPIC", "-nostdlib", "-fno-stack-protector", "-fno-math-errno",
    "-ffp-contract=off", "-fsignaling-nans", "-fno-strict-aliasing", "-fvisibility=hidden",
    "-fno-asynchronous-unwind-tables", "-Wl,-z,defs", "-w", "-std=gnu11",
};
#define NREQUIRED (sizeof required_flags / sizeof required_flags[0])

static const char *compiler(const wasmplug_native_options *opt)
{
    if (opt && opt->cc && opt->cc[0])
        return opt->cc;
    const char *cc = getenv("WASMPLUG_CC");
    if (cc && cc[0])
        return cc;
    cc = getenv("CC");
    return cc && cc[0] ? cc : "cc";
}

static const char *user_flags(const wasmplug_native_options *opt)
{
    return opt && opt->cflags ? opt->cflags : "-O2";
}

static const char *temp_dir(const wasmplug_native_options *opt)
{
    if (opt && opt->tmp_dir && opt->tmp_dir[0])
        return opt->tmp_dir;
    const char *t = getenv("TMPDIR");
    return t && t[0] ? t : "/tmp";
}

/* Split s at spaces into argv (words are pointers into copy). */
static size_t split_words(char *copy, char **argv, size_t max)
{
    size_t n = 0;
    for (char *p = strtok(copy, " \t"); p && n < max; p = strtok(NULL, " \t"))
        argv[n++] = p;
    return n;
}


/* Run argv with stdout and stderr to log_fd; the exit status, or -1 with
 * errno when it could not start. With a job, its pid is published there
 * (so a cancel can stop it) and a cancelled job starts nothing. */
static int run_command(char *const *argv, int log_fd, struct wp_aot_job *job)
{
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0)
        return -1;
    posix_spawn_file_actions_adddup2(&fa, log_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, log_fd, 2);
    pid_t pid;
    if (job)
        pthread_mutex_lock(&job->lock);
    int rc = job && job->cancelled ? ECANCELED
                                   : posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    if (job) {
        if (rc == 0)
            job->pid = pid;
        pthread_mutex_unlock(&job->lock);
    }
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        errno = rc;
        return -1;
    }
    int status;
    int w;
    while ((w = (int)waitpid(pid, &status, 0)) < 0 && errno == EINTR)
        ;
    if (job) {
        pthread_mutex_lock(&job->lock);
        job->pid = 0;
        pthread_mutex_unlock(&job->lock);
    }
    if (w < 0)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The first line of what fd holds (from its start), without control
 * characters, into buf. */
static void first_lines(int fd, char *buf, size_t size)
{
    buf[0] = '\0';
    if (lseek(fd, 0, SEEK_SET) < 0)
        return;
    ssize_t n = read(fd, buf, size - 1);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20)
            buf[i] = buf[i] == '\n' && i == n - 1 ? '\0' : ' ';
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool wasmplug_native_supported(const wasmplug_module *m, char *why, size_t why_size)
{
    char tmp[8];
    if (!why || !why_size) {
        why = tmp;
        why_size = sizeof tmp;
    }
    why[0] = '\0';
    return m && wp_aot_supported(m, why, why_size);
}

wasmplug_status wasmplug_native_emit_c(const wasmplug_module *m, char **c_source, size_t *size,
                                       wasmplug_error *err)
{
    if (!m || !c_source)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_native_emit_c: module and c_source are required");
    *c_source = NULL;
    wp_text t = {m->engine, NULL, 0, 0, false};
    wasmplug_status st = wp_aot_emit(m, wp_engine_bounds(m->engine), &t, err);
    if (st != WASMPLUG_OK) {
        wp_text_free(&t);
        return st;
    }
    /* handed out in malloc'd memory (wasmplug_native_free) */
    char *copy = malloc(t.len + 1);
    if (!copy) {
        wp_text_free(&t);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    memcpy(copy, t.data, t.len + 1);
    if (size)
        *size = t.len;
    wp_text_free(&t);
    *c_source = copy;
    return WASMPLUG_OK;
}

void wasmplug_native_free(char *p)
{
    free(p);
}

static wasmplug_status compile_to(const wasmplug_module *m, const char *so_path,
                                  const wasmplug_native_options *opt, wasmplug_error *err,
                                  struct wp_aot_job *job)
{
    if (!m || !so_path)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_native_compile: module and so_path are required");
    wp_text t = {m->engine, NULL, 0, 0, false};
    wasmplug_status st = wp_aot_emit(m, wp_engine_bounds(m->engine), &t, err);
    if (st != WASMPLUG_OK) {
        wp_text_free(&t);
        return st;
    }
    char cpath[4096], logpath[4096];
    snprintf(cpath, sizeof cpath, "%s/wasmplug-native-XXXXXX.c", temp_dir(opt));
    snprintf(logpath, sizeof logpath, "%s/wasmplug-native-XXXXXX.log", temp_dir(opt));
    int cfd = mkstemps(cpath, 2);
    if (cfd < 0) {
        st = wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET, "cannot create %s: %s", cpath,
                      strerror(errno));
        wp_text_free(&t);
        return st;
    }
    bool written = write_all(cfd, t.data, t.len);
    close(cfd);
    wp_text_free(&t);
    int log_fd = mkstemps(logpath, 4);
    if (!written || log_fd < 0) {
        st = wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET, "cannot write %s: %s",
                      written ? logpath : cpath, strerror(errno));
        unlink(cpath);
        if (log_fd >= 0) {
            close(log_fd);
            unlink(logpath);
        }
        return st;
    }
    unlink(logpath); /* the descriptor is enough */

    char cc_copy[1024], flags_copy[1024];
    snprintf(cc_copy, sizeof cc_copy, "%s", compiler(opt));
    snprintf(flags_copy, sizeof flags_copy, "%s", user_flags(opt));
    char *argv[64 + NREQUIRED + 8];
    size_t argc = split_words(cc_copy, argv, 16);
    argc += split_words(flags_copy, argv + argc, 48);
    for (size_t i = 0; i < NREQUIRED; i++)
        argv[argc++] = (char *)(uintptr_t)required_flags[i];
    argv[argc++] = (char *)"-o";
    argv[argc++] = (char *)(uintptr_t)so_path;
    argv[argc++] = cpath;
    argv[argc++] = (char *)"-lgcc"; /* the compiler's own helpers (popcount, ...) */
    argv[argc] = NULL;
    int rc = argc > NREQUIRED + 3 ? run_command(argv, log_fd, job) : -1;
    char log[200];
    first_lines(log_fd, log, sizeof log);
    close(log_fd);
    if (!getenv("WASMPLUG_NATIVE_KEEP_C"))
        unlink(cpath);
    if (rc < 0)
        return wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET,
                        "cannot run the C compiler '%s': %s (set CC or WASMPLUG_CC)",
                        compiler(opt), strerror(errno));
    if (rc != 0) {
        unlink(so_path);
        return wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET,
                        "the C compiler '%s' failed (exit status %d): %s", compiler(opt), rc,
                        log[0] ? log : "(no output)");
    }
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_native_compile(const wasmplug_module *m, const char *so_path,
                                        const wasmplug_native_options *opt, wasmplug_error *err)
{
    return compile_to(m, so_path, opt, err, NULL);
}

/* Compile into a private directory (0700, made for this compile) and
 * attach; the object is unlinked once loaded (the mapping stays). */
static wasmplug_status compile_attach(wasmplug_module *m, const wasmplug_native_options *opt,
                                      wasmplug_error *err, struct wp_aot_job *job)
{
    char dir[4096], so[4200];
    snprintf(dir, sizeof dir, "%s/wasmplug-native-XXXXXX", temp_dir(opt));
    if (!mkdtemp(dir))
        return wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET, "cannot create a directory in %s: %s",
                        temp_dir(opt), strerror(errno));
    snprintf(so, sizeof so, "%s/module.so", dir);
    wasmplug_native_options o = opt ? *opt : (wasmplug_native_options){NULL, NULL, NULL};
    o.tmp_dir = dir;
    wasmplug_status st = compile_to(m, so, &o, err, job);
    if (st == WASMPLUG_OK)
        st = wasmplug_module_attach_native(m, so, err);
    unlink(so);
    rmdir(dir);
    return st;
}

wasmplug_status wasmplug_module_compile_native(wasmplug_module *m,
                                               const wasmplug_native_options *opt,
                                               wasmplug_error *err)
{
    if (!m)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_module_compile_native: module is required");
    if (wasmplug_module_has_native(m))
        return WASMPLUG_OK;
    return compile_attach(m, opt, err, NULL);
}

typedef struct job_start {
    wasmplug_module *m;
    wasmplug_native_options opt;
    char cc[1024], cflags[1024], tmp[1024];
} job_start;

static void *job_main(void *arg)
{
    job_start *js = arg;
    wasmplug_module *m = js->m;
    struct wp_aot_job *job = atomic_load(&m->aot_job);
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = compile_attach(m, &js->opt, &err, job);
    free(js);
    pthread_mutex_lock(&job->lock);
    if (st == WASMPLUG_OK)
        job->state = WASMPLUG_NATIVE_READY;
    else
        job->state = st == WASMPLUG_ERR_UNSUPPORTED ? WASMPLUG_NATIVE_UNSUPPORTED
                                                    : WASMPLUG_NATIVE_FAILED;
    if (st != WASMPLUG_OK)
        snprintf(job->message, sizeof job->message, "%s",
                 job->cancelled ? "cancelled" : err.message);
    job->running = false;
    pthread_cond_broadcast(&job->done);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

static struct wp_aot_job *module_job(wasmplug_module *m)
{
    struct wp_aot_job *job = atomic_load(&m->aot_job);
    if (job)
        return job;
    job = wp_calloc(m->engine, 1, sizeof *job);
    if (!job)
        return NULL;
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->done, NULL);
    struct wp_aot_job *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->aot_job, &expected, job)) {
        pthread_mutex_destroy(&job->lock);
        pthread_cond_destroy(&job->done);
        wp_free(m->engine, job, sizeof *job);
        return expected;
    }
    return job;
}

wasmplug_status wasmplug_module_compile_native_async(wasmplug_module *m,
                                                     const wasmplug_native_options *opt)
{
    if (!m)
        return WASMPLUG_ERR_ARGUMENT;
    struct wp_aot_job *job = module_job(m);
    if (!job)
        return WASMPLUG_ERR_NOMEM;
    pthread_mutex_lock(&job->lock);
    if (job->running || wasmplug_module_has_native(m)) {
        pthread_mutex_unlock(&job->lock);
        return WASMPLUG_OK;
    }
    char why[WASMPLUG_ERROR_MESSAGE_MAX];
    if (!wp_aot_supported(m, why, sizeof why)) {
        job->state = WASMPLUG_NATIVE_UNSUPPORTED;
        snprintf(job->message, sizeof job->message, "%s", why);
        pthread_mutex_unlock(&job->lock);
        return WASMPLUG_ERR_UNSUPPORTED;
    }
    job_start *js = calloc(1, sizeof *js);
    if (!js) {
        pthread_mutex_unlock(&job->lock);
        return WASMPLUG_ERR_NOMEM;
    }
    js->m = m;
    if (opt) { /* copied: the caller's strings need not outlive the call */
        snprintf(js->cc, sizeof js->cc, "%s", opt->cc ? opt->cc : "");
        snprintf(js->cflags, sizeof js->cflags, "%s", opt->cflags ? opt->cflags : "");
        snprintf(js->tmp, sizeof js->tmp, "%s", opt->tmp_dir ? opt->tmp_dir : "");
        js->opt.cc = opt->cc ? js->cc : NULL;
        js->opt.cflags = opt->cflags ? js->cflags : NULL;
        js->opt.tmp_dir = opt->tmp_dir ? js->tmp : NULL;
    }
    job->running = true;
    job->cancelled = false;
    job->state = WASMPLUG_NATIVE_COMPILING;
    job->message[0] = '\0';
    if (job->joinable) { /* an earlier compile's thread (it failed): reap it */
        job->joinable = false;
        pthread_join(job->thread, NULL);
    }
    int rc = pthread_create(&job->thread, NULL, job_main, js);
    if (rc != 0) {
        job->running = false;
        job->state = WASMPLUG_NATIVE_FAILED;
        snprintf(job->message, sizeof job->message, "cannot start a thread: %s", strerror(rc));
        pthread_mutex_unlock(&job->lock);
        free(js);
        return WASMPLUG_ERR_NOMEM;
    }
    job->joinable = true;
    pthread_mutex_unlock(&job->lock);
    return WASMPLUG_OK;
}

wasmplug_native_state wasmplug_module_native_state(const wasmplug_module *m, char *why,
                                                   size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    if (!m)
        return WASMPLUG_NATIVE_NONE;
    if (wasmplug_module_has_native(m))
        return WASMPLUG_NATIVE_READY;
    struct wp_aot_job *job = atomic_load(&((wasmplug_module *)(uintptr_t)m)->aot_job);
    if (!job) {
        if (!wp_aot_supported(m, why ? why : (char[8]){0}, why ? why_size : 8))
            return WASMPLUG_NATIVE_UNSUPPORTED;
        return WASMPLUG_NATIVE_NONE;
    }
    pthread_mutex_lock(&job->lock);
    wasmplug_native_state s = job->state;
    if (why && why_size)
        snprintf(why, why_size, "%s", job->message);
    pthread_mutex_unlock(&job->lock);
    return s;
}

void wasmplug_module_native_wait(wasmplug_module *m, bool cancel)
{
    struct wp_aot_job *job = m ? atomic_load(&m->aot_job) : NULL;
    if (!job)
        return;
    pthread_mutex_lock(&job->lock);
    if (cancel && job->running) {
        job->cancelled = true;
        if (job->pid > 0)
            kill(job->pid, SIGKILL);
    }
    while (job->running)
        pthread_cond_wait(&job->done, &job->lock);
    bool join = job->joinable;
    job->joinable = false;
    pthread_mutex_unlock(&job->lock);
    if (join)
        pthread_join(job->thread, NULL);
}

wasmplug_status wasmplug_native_compiler_id(const wasmplug_native_options *opt, char *id,
                                            size_t id_size)
{
    if (!id || !id_size)
        return WASMPLUG_ERR_ARGUMENT;
    id[0] = '\0';
    char logpath[4096];
    snprintf(logpath, sizeof logpath, "%s/wasmplug-cc-XXXXXX", temp_dir(opt));
    int fd = mkstemp(logpath);
    if (fd < 0)
        return WASMPLUG_ERR_IO;
    unlink(logpath);
    char cc_copy[1024];
    snprintf(cc_copy, sizeof cc_copy, "%s", compiler(opt));
    char *argv[20];
    size_t argc = split_words(cc_copy, argv, 16);
    argv[argc++] = (char *)"--version";
    argv[argc] = NULL;
    int rc = argc > 1 ? run_command(argv, fd, NULL) : -1;
    char line[200];
    first_lines(fd, line, sizeof line);
    close(fd);
    if (rc != 0)
        return WASMPLUG_ERR_NOT_FOUND;
    char *nl = strstr(line, "  ");
    if (nl)
        *nl = '\0';
    snprintf(id, id_size, "%s | %s | %s | abi %u", compiler(opt), line, user_flags(opt),
             WP_AOT_ABI_VERSION);
    return WASMPLUG_OK;
}

wasmplug_bounds_mode wasmplug_engine_bounds(const wasmplug_engine *engine)
{
    return wp_engine_bounds(engine);
}

uint64_t wasmplug_native_engine_key(void)
{
    return wp_aot_engine_key();
}

wasmplug_status wasmplug_module_attach_native(wasmplug_module *m, const char *so_path,
                                              wasmplug_error *err)
{
    if (!m || !so_path)
        return wp_error(err, WASMPLUG_ERR_ARGUMENT, WP_NO_OFFSET,
                        "wasmplug_module_attach_native: module and so_path are required");
    if (atomic_load(&m->aot))
        return WASMPLUG_OK;
    void *h = dlopen(so_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return wp_error(err, WASMPLUG_ERR_IO, WP_NO_OFFSET, "cannot load native code %s: %s",
                        so_path, why ? why : "dlopen failed");
    }
    const wp_aot_module_info *info = dlsym(h, "wp_aot_module");
    const char *mismatch = NULL;
    if (!info)
        mismatch = "it is not native code of wasmplug (no wp_aot_module)";
    else if (info->abi_version != WP_AOT_ABI_VERSION || info->engine_key != wp_aot_engine_key())
        mismatch = "it was made by another engine build";
    else if (info->bounds != (uint32_t)wp_engine_bounds(m->engine))
        mismatch = "it was made for another bounds-check mode";
    else if (info->module_size != m->size ||
             info->module_hash != wp_aot_module_hash(m->bytes, m->size))
        mismatch = "it was made from another module";
    else if (info->nfuncs != m->nfuncs - m->num_imported_funcs)
        mismatch = "its function count differs from the module's";
    if (mismatch) {
        dlclose(h);
        return wp_error(err, WASMPLUG_ERR_SERIALIZATION, WP_NO_OFFSET,
                        "native code %s does not belong here: %s", so_path, mismatch);
    }
    struct wp_aot *a = wp_malloc(m->engine, sizeof *a);
    if (!a) {
        dlclose(h);
        return wp_error(err, WASMPLUG_ERR_NOMEM, WP_NO_OFFSET, "out of memory");
    }
    a->handle = h;
    a->info = info;
    info->init(&rt);
    struct wp_aot *expected = NULL;
    if (!atomic_compare_exchange_strong(&m->aot, &expected, a)) {
        /* attached by another thread meanwhile */
        dlclose(h);
        wp_free(m->engine, a, sizeof *a);
    }
    return WASMPLUG_OK;
}

bool wasmplug_module_has_native(const wasmplug_module *m)
{
    return m && atomic_load_explicit(&m->aot, memory_order_acquire) != NULL;
}

void wasmplug_instance_set_tier(wasmplug_instance *inst, wasmplug_tier tier)
{
    if (inst)
        atomic_store_explicit(&inst->tier, (uint8_t)tier, memory_order_relaxed);
}

uint64_t wasmplug_instance_native_calls(const wasmplug_instance *inst)
{
    return inst && inst->aot ? inst->aot->calls : 0;
}
