/*
 * micro.c - micro-benchmarks of the engine's fixed costs, the figures the
 * brief's performance targets name:
 *   - typed empty call host -> wasm (slots fast path and typed API)
 *   - host function call wasm -> host (a wasm loop calling an empty import)
 *   - a bytes-ABI call with 1 KiB in and out through host imports
 *   - instantiate + free a loaded module with a 1-page memory
 *   - load + validate + compile throughput on a large module (MB/s)
 *   - memory overhead per instance (RSS and engine heap, over 1000 instances)
 *   - 10,000 instances alive in one process
 *   - the CLI running an empty plugin, against a bare process
 * Each timing is the median of several batches, in thread CPU time (the
 * CLI runs: wall time, spawn to exit).
 *
 *   wasmplug-micro [--dir DIR] [--big PATH] [--cli PATH] [--bounds auto|guard|explicit]
 *                  [--signals verify|once]
 *
 * DIR holds micro.wasm, small.wasm and cli_empty.wasm (built by
 * bench/CMakeLists.txt); PATH is the large module (default DIR/big.wasm; any
 * .wasm without imports works); --cli the wasmplug command (default: the one
 * built with the benchmarks; none: that section is skipped). A section that
 * fails prints why and the program goes on; the exit status is 1 if any
 * failed.
 */
#include <wasmplug/engine.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#ifndef BENCH_WASM_DIR
#define BENCH_WASM_DIR "."
#endif

#define BATCHES 7

static int failures;
static wasmplug_bounds_mode bounds_mode = WASMPLUG_BOUNDS_AUTO;
/* verify: the default, a fault-handler check per call that can fault;
 * once: WASMPLUG_SIGNALS_INSTALL_ONCE, no check (what that check costs). */
static wasmplug_signal_mode signal_mode = WASMPLUG_SIGNALS_VERIFY;

/* CPU time of this thread (user + system, so mmap/munmap count): other jobs
 * on a shared machine disturb it less than elapsed time. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *size = len;
    return buf;
}

static void fail(const char *what, wasmplug_status st, const wasmplug_error *err)
{
    printf("  %-44s FAILED: %s%s%s\n", what, wasmplug_strerror(st),
           err && err->message[0] ? ": " : "", err ? err->message : "");
    failures++;
}

/* ------------------------------------------------------------------------ */
/* Counting allocator: the engine's heap in use                             */
/* ------------------------------------------------------------------------ */

static size_t heap_live;

static void *counting_alloc(void *user, void *ptr, size_t old_size, size_t new_size)
{
    (void)user;
    if (new_size == 0) {
        free(ptr);
        heap_live -= old_size;
        return NULL;
    }
    void *p = realloc(ptr, new_size);
    if (p)
        heap_live = heap_live - old_size + new_size;
    return p;
}

static wasmplug_engine *new_engine(int counting)
{
    wasmplug_engine_config cfg = {.alloc = counting ? counting_alloc : NULL,
                                  .alloc_user = NULL, .bounds = bounds_mode,
                                  .signals = signal_mode};
    wasmplug_engine *e = NULL;
    wasmplug_status st = wasmplug_engine_new(&cfg, &e);
    if (st != WASMPLUG_OK) {
        fail("engine_new", st, NULL);
        return NULL;
    }
    return e;
}

static wasmplug_module *load(wasmplug_engine *e, const char *path)
{
    size_t size = 0;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        printf("  cannot read %s: %s\n", path, strerror(errno));
        failures++;
        return NULL;
    }
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_module *m = NULL;
    wasmplug_status st = wasmplug_module_new(e, bytes, size, &m, &err);
    free(bytes);
    if (st != WASMPLUG_OK) {
        fail(path, st, &err);
        return NULL;
    }
    return m;
}

/* ------------------------------------------------------------------------ */
/* Host functions of micro.wasm                                             */
/* ------------------------------------------------------------------------ */

static uint8_t input_buf[1024], output_buf[1024];
static uint32_t input_size = sizeof input_buf, output_size;

static int host_nop(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    (void)slots;
    return 0;
}

static int host_input_len(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)caller;
    (void)user;
    slots[0].u64 = 0;
    slots[0].u32 = input_size;
    return 0;
}

/* The memory range [ptr, ptr+len) of the calling instance, or NULL. */
static uint8_t *guest_range(wasmplug_caller *caller, uint32_t ptr, uint32_t len)
{
    wasmplug_memory *mem = wasmplug_instance_memory(wasmplug_caller_instance(caller));
    size_t size = 0;
    uint8_t *base = mem ? wasmplug_memory_data(mem, &size) : NULL;
    if (!base || (uint64_t)ptr + len > size) {
        wasmplug_caller_set_error(caller, "range %u+%u out of bounds", ptr, len);
        return NULL;
    }
    return base + ptr;
}

static int host_input_read(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    uint32_t len = slots[1].u32 < input_size ? slots[1].u32 : input_size;
    uint8_t *p = guest_range(caller, slots[0].u32, len);
    if (!p)
        return 1;
    memcpy(p, input_buf, len);
    return 0;
}

static int host_output_write(wasmplug_caller *caller, void *user, wasmplug_slot *slots)
{
    (void)user;
    uint32_t len = slots[1].u32;
    if (len > sizeof output_buf) {
        wasmplug_caller_set_error(caller, "output too large");
        return 1;
    }
    uint8_t *p = guest_range(caller, slots[0].u32, len);
    if (!p)
        return 1;
    memcpy(output_buf, p, len);
    output_size = len;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Calls                                                                    */
/* ------------------------------------------------------------------------ */

/* Median ns per call of fn over BATCHES batches of n calls. */
#define TIME_PER_CALL(result, n, body)                                        \
    do {                                                                      \
        double t_[BATCHES];                                                   \
        for (int b_ = 0; b_ < BATCHES; b_++) {                                \
            double s_ = now_ns();                                             \
            for (uint32_t i_ = 0; i_ < (n); i_++) {                           \
                body;                                                         \
            }                                                                 \
            t_[b_] = (now_ns() - s_) / (n);                                   \
        }                                                                     \
        (result) = median(t_, BATCHES);                                       \
    } while (0)

static void bench_calls(const char *dir)
{
    printf("calls (micro.wasm)\n");
    wasmplug_engine *e = new_engine(0);
    if (!e)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/micro.wasm", dir);
    wasmplug_module *m = load(e, path);
    if (!m) {
        wasmplug_engine_free(e);
        return;
    }

    static const wasmplug_valtype i32x2[2] = {WASMPLUG_I32, WASMPLUG_I32};
    struct {
        const char *name;
        wasmplug_functype type;
        wasmplug_host_fn fn;
    } hosts[] = {
        {"nop", {0, 0, NULL, NULL}, host_nop},
        {"input_len", {0, 1, NULL, i32x2}, host_input_len},
        {"input_read", {2, 0, i32x2, NULL}, host_input_read},
        {"output_write", {2, 0, i32x2, NULL}, host_output_write},
    };
    wasmplug_extern imports[4];
    wasmplug_status st = WASMPLUG_OK;
    for (int i = 0; i < 4; i++) {
        imports[i].kind = WASMPLUG_EXTERN_FUNC;
        imports[i].of.func = NULL;
        if (st == WASMPLUG_OK)
            st = wasmplug_func_new_host(e, &hosts[i].type, hosts[i].fn, NULL, NULL,
                                        &imports[i].of.func);
    }
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_instance *inst = NULL;
    if (st == WASMPLUG_OK) {
        wasmplug_instance_config cfg = {0};
        cfg.fuel = UINT64_C(1) << 62; /* fuel checks on, as in the workload bench */
        st = wasmplug_instance_new(m, imports, 4, &cfg, &inst, &err);
    }
    if (st != WASMPLUG_OK) {
        fail("instantiate micro.wasm", st, &err);
        goto out;
    }
    wasmplug_func *empty = wasmplug_instance_func(inst, "empty");
    wasmplug_func *add = wasmplug_instance_func(inst, "add");
    wasmplug_func *call_host = wasmplug_instance_func(inst, "call_host");
    wasmplug_func *loop_only = wasmplug_instance_func(inst, "loop_only");
    wasmplug_func *echo = wasmplug_instance_func(inst, "echo");
    if (!empty || !add || !call_host || !loop_only || !echo) {
        printf("  missing exports\n");
        failures++;
        goto out;
    }

    /* Check once that each call works before timing it. */
    wasmplug_slot slots[2];
    slots[0].u64 = 0;
    slots[0].i32 = 2;
    slots[1].u64 = 0;
    slots[1].i32 = 40;
    st = wasmplug_func_call_slots(add, slots, &err);
    if (st != WASMPLUG_OK || slots[0].i32 != 42) {
        fail("add(2, 40)", st, &err);
        goto out;
    }

    const uint32_t n = 200000;
    double ns;
    int bad = 0;
    TIME_PER_CALL(ns, n, bad |= wasmplug_func_call_slots(empty, slots, NULL));
    printf("  %-44s %8.1f ns%s\n", "empty() via func_call_slots", ns, bad ? " (errors!)" : "");
    TIME_PER_CALL(ns, n, bad |= wasmplug_func_call(empty, NULL, 0, NULL, 0, NULL));
    printf("  %-44s %8.1f ns%s\n", "empty() via func_call (typed)", ns, bad ? " (errors!)" : "");
    TIME_PER_CALL(ns, n, {
        slots[0].i32 = (int32_t)i_;
        slots[1].i32 = 1;
        bad |= wasmplug_func_call_slots(add, slots, NULL);
    });
    printf("  %-44s %8.1f ns\n", "add(i32, i32) via func_call_slots", ns);
    {
        wasmplug_val args[2] = {{.type = WASMPLUG_I32, .of = {.i32 = 1}}, {.type = WASMPLUG_I32, .of = {.i32 = 2}}};
        wasmplug_val res[1];
        TIME_PER_CALL(ns, n, bad |= wasmplug_func_call(add, args, 2, res, 1, NULL));
        printf("  %-44s %8.1f ns\n", "add(i32, i32) via func_call (typed)", ns);
    }
    if (bad) {
        printf("  some calls failed\n");
        failures++;
    }

    /* wasm -> host: one call per loop iteration; the bare loop is subtracted. */
    const uint32_t iters = 2000000;
    double with_calls, bare;
    TIME_PER_CALL(with_calls, 1, {
        slots[0].u64 = 0;
        slots[0].u32 = iters;
        wasmplug_instance_set_fuel(inst, UINT64_C(1) << 62);
        bad |= wasmplug_func_call_slots(call_host, slots, &err);
    });
    TIME_PER_CALL(bare, 1, {
        slots[0].u64 = 0;
        slots[0].u32 = iters;
        wasmplug_instance_set_fuel(inst, UINT64_C(1) << 62);
        bad |= wasmplug_func_call_slots(loop_only, slots, &err);
    });
    if (bad) {
        fail("call_host loop", WASMPLUG_ERR_TRAP, &err);
    } else {
        printf("  %-44s %8.1f ns (loop iteration with call %.1f, bare %.1f)\n",
               "host function call from wasm", (with_calls - bare) / iters,
               with_calls / iters, bare / iters);
    }

    /* Bytes ABI: input_len + input_read (1 KiB in) + output_write (1 KiB out). */
    for (uint32_t i = 0; i < sizeof input_buf; i++)
        input_buf[i] = (uint8_t)(i * 7);
    slots[0].u64 = 0;
    st = wasmplug_func_call_slots(echo, slots, &err);
    if (st != WASMPLUG_OK || output_size != sizeof input_buf ||
        memcmp(input_buf, output_buf, sizeof input_buf) != 0) {
        fail("echo (1 KiB in/out)", st, &err);
    } else {
        TIME_PER_CALL(ns, n, bad |= wasmplug_func_call_slots(echo, slots, NULL));
        printf("  %-44s %8.1f ns\n", "bytes call, 1 KiB in + 1 KiB out (3 imports)", ns);
    }
out:
    if (inst)
        wasmplug_instance_free(inst);
    for (int i = 0; i < 4; i++)
        if (imports[i].of.func)
            wasmplug_func_free(imports[i].of.func);
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
}

/* ------------------------------------------------------------------------ */
/* Instances                                                                */
/* ------------------------------------------------------------------------ */

static void bench_instantiate(const char *path, const char *label, uint32_t n)
{
    wasmplug_engine *e = new_engine(0);
    if (!e)
        return;
    wasmplug_module *m = load(e, path);
    if (!m) {
        wasmplug_engine_free(e);
        return;
    }
    wasmplug_error err;
    wasmplug_error_clear(&err);
    double t[BATCHES];
    for (int b = 0; b < BATCHES; b++) {
        double s = now_ns();
        for (uint32_t i = 0; i < n; i++) {
            wasmplug_instance *inst = NULL;
            wasmplug_status st = wasmplug_instance_new(m, NULL, 0, NULL, &inst, &err);
            if (st != WASMPLUG_OK) {
                fail(label, st, &err);
                goto out;
            }
            wasmplug_instance_free(inst);
        }
        t[b] = (now_ns() - s) / n;
    }
    printf("  %-44s %8.2f us\n", label, median(t, BATCHES) / 1000);
out:
    wasmplug_module_free(m);
    wasmplug_engine_free(e);
}

/* Resident and virtual size of this process in bytes. */
static void proc_size(size_t *rss, size_t *vsz)
{
    *rss = *vsz = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return;
    unsigned long size = 0, resident = 0;
    if (fscanf(f, "%lu %lu", &size, &resident) == 2) {
        long page = sysconf(_SC_PAGESIZE);
        *rss = resident * (size_t)page;
        *vsz = size * (size_t)page;
    }
    fclose(f);
}

static void bench_overhead(const char *path, uint32_t n, int call_each)
{
    wasmplug_engine *e = new_engine(1);
    if (!e)
        return;
    wasmplug_module *m = load(e, path);
    wasmplug_instance **insts = calloc(n, sizeof *insts);
    if (!m || !insts)
        goto out;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    size_t rss0, vsz0, rss1, vsz1;
    size_t heap0 = heap_live;
    proc_size(&rss0, &vsz0);
    double s = now_ns();
    for (uint32_t i = 0; i < n; i++) {
        wasmplug_status st = wasmplug_instance_new(m, NULL, 0, NULL, &insts[i], &err);
        if (st == WASMPLUG_OK && call_each) {
            /* A call commits the value stack's first pages, as real use would. */
            wasmplug_func *f = wasmplug_instance_func(insts[i], "run");
            wasmplug_slot slot[1];
            st = f ? wasmplug_func_call_slots(f, slot, &err) : WASMPLUG_ERR_NOT_FOUND;
        }
        if (st != WASMPLUG_OK) {
            char what[96];
            snprintf(what, sizeof what, "instance %u of %u", i + 1, n);
            fail(what, st, &err);
            goto out;
        }
    }
    double elapsed = now_ns() - s;
    proc_size(&rss1, &vsz1);
    size_t heap1 = heap_live;
    printf("  %u instances%s: %.1f ms; per instance: RSS %.1f KiB, engine heap %.1f KiB, "
           "address space %.1f MiB\n",
           n, call_each ? " (each called once)" : "", elapsed / 1e6,
           ((double)rss1 - (double)rss0) / n / 1024, ((double)heap1 - (double)heap0) / n / 1024,
           ((double)vsz1 - (double)vsz0) / n / (1024 * 1024));
out:
    if (insts) {
        for (uint32_t i = 0; i < n; i++)
            if (insts[i])
                wasmplug_instance_free(insts[i]);
        free(insts);
    }
    if (m)
        wasmplug_module_free(m);
    wasmplug_engine_free(e);
}

/* ------------------------------------------------------------------------ */
/* Load throughput                                                          */
/* ------------------------------------------------------------------------ */

/* Size of the code section (id 10) of a binary module, 0 if not found. */
static size_t code_section_size(const uint8_t *b, size_t n)
{
    size_t p = 8;
    while (p < n) {
        uint8_t id = b[p++];
        uint64_t len = 0;
        unsigned shift = 0;
        while (p < n && shift < 35) {
            uint8_t c = b[p++];
            len |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        if (id == 10)
            return (size_t)len;
        p += (size_t)len;
    }
    return 0;
}

static void bench_load(const char *path)
{
    size_t size = 0;
    uint8_t *bytes = read_file(path, &size);
    if (!bytes) {
        printf("  cannot read %s: %s (build the bench_big_wasm target)\n", path, strerror(errno));
        failures++;
        return;
    }
    size_t code = code_section_size(bytes, size);
    wasmplug_engine *e = new_engine(1);
    if (!e) {
        free(bytes);
        return;
    }
    double t[5];
    size_t heap = 0;
    for (int r = 0; r < 5; r++) {
        wasmplug_error err;
        wasmplug_error_clear(&err);
        wasmplug_module *m = NULL;
        size_t heap0 = heap_live;
        double s = now_ns();
        wasmplug_status st = wasmplug_module_new(e, bytes, size, &m, &err);
        t[r] = now_ns() - s;
        if (st != WASMPLUG_OK) {
            fail("load big module", st, &err);
            goto out;
        }
        heap = heap_live - heap0;
        wasmplug_module_free(m);
    }
    double ns = median(t, 5);
    printf("  %-44s %8.1f ms\n", "load+validate+compile", ns / 1e6);
    printf("  %-44s %8.1f MB/s (module %.2f MB, code %.2f MB)\n", "throughput (code section)",
           (double)code / (ns / 1e9) / 1e6, (double)size / 1e6, (double)code / 1e6);
    printf("  %-44s %8.1f MB/s\n", "throughput (whole module)", (double)size / (ns / 1e9) / 1e6);
    printf("  %-44s %8.2f MB (%.1fx the code)\n", "compiled module heap", (double)heap / 1e6,
           code ? (double)heap / (double)code : 0.0);
out:
    wasmplug_engine_free(e);
    free(bytes);
}

/* ---- the CLI: start-up cost of running an empty plugin ------------------ */

static double wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Wall time in ms of one run of argv (spawn, run, wait), averaged over n
 * runs, stdout discarded; -1 if a run fails. */
static double spawn_ms(char *const argv[], int n, const posix_spawn_file_actions_t *fa)
{
    double t0 = wall_ns();
    for (int i = 0; i < n; i++) {
        pid_t pid;
        int status;
        if (posix_spawn(&pid, argv[0], fa, NULL, argv, environ) != 0 ||
            waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            return -1;
    }
    return (wall_ns() - t0) / n / 1e6;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* `wasmplug exec` of an empty _start and `wasmplug run` of a function that
 * does nothing, against `wasmplug --version` (the same binary starting and
 * exiting: the bare process the target compares with) and /bin/true. The
 * compiled-module cache goes to a temporary directory, warm after the first
 * run, as it is for an installed plugin. */
static void bench_cli(const char *cli, const char *dir)
{
    printf("CLI (wall time per run: spawn, run, exit)\n");
    char wasm[4096], cache[] = "/tmp/wasmplug-micro-cache-XXXXXX";
    snprintf(wasm, sizeof wasm, "%s/cli_empty.wasm", dir);
    if (!mkdtemp(cache) || setenv("WASMPLUG_CACHE_DIR", cache, 1) != 0) {
        printf("  FAILED: cannot make a cache directory: %s\n", strerror(errno));
        failures++;
        return;
    }
    char c_version[] = "--version", c_exec[] = "exec", c_run[] = "run", c_noop[] = "noop";
    char c_true[] = "/bin/true";
    char *clip = (char *)cli;
    char *const bare[] = {clip, c_version, NULL};
    char *const exec_empty[] = {clip, c_exec, wasm, NULL};
    char *const run_noop[] = {clip, c_run, wasm, c_noop, NULL};
    char *const truth[] = {c_true, NULL};
    /* Batches interleave the commands, so a slow phase of the machine
     * touches all of them alike; medians over the batches. */
    char *const *cmds[] = {bare, exec_empty, run_noop, truth};
    int ncmds = access(c_true, X_OK) == 0 ? 4 : 3;
    double t[4][BATCHES], med[4] = {-1, -1, -1, -1};
    posix_spawn_file_actions_t fa;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        printf("  FAILED: posix_spawn_file_actions_init\n");
        failures++;
        return;
    }
    bool ok = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0) == 0;
    for (int b = 0; ok && b < BATCHES; b++)
        for (int k = 0; ok && k < ncmds; k++)
            ok = (t[k][b] = spawn_ms(cmds[k], 20, &fa)) >= 0;
    for (int k = 0; ok && k < ncmds; k++)
        med[k] = median(t[k], BATCHES);
    posix_spawn_file_actions_destroy(&fa);
    nftw(cache, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    double t_bare = med[0], t_exec = med[1], t_run = med[2], t_true = med[3];
    if (!ok) {
        printf("  FAILED: %s did not run (exit status not 0)\n", cli);
        failures++;
        return;
    }
    if (t_true >= 0)
        printf("  /bin/true                                    %8.3f ms\n", t_true);
    printf("  wasmplug --version (bare process)            %8.3f ms\n", t_bare);
    printf("  wasmplug exec cli_empty.wasm (empty _start)  %8.3f ms (%+.3f ms)\n", t_exec,
           t_exec - t_bare);
    printf("  wasmplug run cli_empty.wasm noop             %8.3f ms (%+.3f ms)\n", t_run,
           t_run - t_bare);
}

int main(int argc, char **argv)
{
    const char *dir = BENCH_WASM_DIR;
    const char *big = NULL;
#ifdef BENCH_CLI
    const char *cli = BENCH_CLI;
#else
    const char *cli = NULL;
#endif
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
            dir = argv[++i];
        } else if (!strcmp(argv[i], "--cli") && i + 1 < argc) {
            cli = argv[++i];
        } else if (!strcmp(argv[i], "--big") && i + 1 < argc) {
            big = argv[++i];
        } else if (!strcmp(argv[i], "--bounds") && i + 1 < argc) {
            const char *v = argv[++i];
            bounds_mode = !strcmp(v, "explicit") ? WASMPLUG_BOUNDS_EXPLICIT
                          : !strcmp(v, "guard")  ? WASMPLUG_BOUNDS_GUARD_PAGES
                                                 : WASMPLUG_BOUNDS_AUTO;
        } else if (!strcmp(argv[i], "--signals") && i + 1 < argc) {
            signal_mode = !strcmp(argv[++i], "once") ? WASMPLUG_SIGNALS_INSTALL_ONCE
                                                     : WASMPLUG_SIGNALS_VERIFY;
        } else {
            fprintf(stderr, "usage: wasmplug-micro [--dir DIR] [--big PATH] [--cli PATH] "
                            "[--bounds auto|guard|explicit] [--signals verify|once]\n");
            return 2;
        }
    }
    char small[4096], sort[4096], bigpath[4096];
    snprintf(small, sizeof small, "%s/small.wasm", dir);
    snprintf(sort, sizeof sort, "%s/wordcount.wasm", dir);
    snprintf(bigpath, sizeof bigpath, "%s/big.wasm", dir);

    printf("wasmplug %s micro-benchmarks (median of %d batches)\n", wasmplug_version(), BATCHES);
    bench_calls(dir);
    printf("instantiate + free\n");
    bench_instantiate(small, "small.wasm (1-page memory)", 2000);
    bench_instantiate(sort, "wordcount.wasm (12 pages, data segments)", 500);
    printf("memory per instance (small.wasm)\n");
    bench_overhead(small, 1000, 0);
    bench_overhead(small, 1000, 1);
    bench_overhead(small, 10000, 1);
    printf("load (large module: %s)\n", big ? big : bigpath);
    bench_load(big ? big : bigpath);
    if (cli)
        bench_cli(cli, dir);
    else
        printf("CLI: skipped (no wasmplug command built; --cli PATH)\n");
    return failures ? 1 : 0;
}
