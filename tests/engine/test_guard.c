/*
 * test_guard.c - bounds checks where the process gets in the way:
 *   - a host that installs its own SIGSEGV handler (or SIG_DFL) after the
 *     engine: plugins' out-of-bounds accesses still trap, and a fault that
 *     is not the engine's still reaches the host's handler;
 *   - a host that owns its handlers (WASMPLUG_SIGNALS_HOST) and passes
 *     faults to wasmplug_handle_fault;
 *   - address space running out (RLIMIT_AS): new instances fall back to
 *     explicit checks and still trap correctly, or fail naming the limit;
 *   - a 4 GiB minimum memory: refused by the default maximum, and with the
 *     maximum raised, instantiated without committing it.
 * Everything that changes signal handling or limits runs in a child
 * process (the parent creates no guard-page memory before forking).
 */
#include "test.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST_HANDLER_RAN 42

static uint8_t *oob_wasm, *huge_wasm, *import_wasm;
static size_t oob_size, huge_size, import_size;

static wasmplug_engine *engine_of(wasmplug_bounds_mode bounds, wasmplug_signal_mode signals,
                                  bool no_fallback, uint32_t max_pages)
{
    wasmplug_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bounds = bounds;
    cfg.signals = signals;
    cfg.no_bounds_fallback = no_fallback;
    cfg.max_memory_pages = max_pages;
    wasmplug_engine *e = NULL;
    return wasmplug_engine_new(&cfg, &e) == WASMPLUG_OK ? e : NULL;
}

/* An instance of wasm on e (with one memory import when mem is given). */
static wasmplug_status instantiate(wasmplug_engine *e, const uint8_t *wasm, size_t size,
                                   wasmplug_memory *mem, wasmplug_instance **out,
                                   wasmplug_error *err)
{
    *out = NULL;
    wasmplug_module *m = NULL;
    wasmplug_status st = wasmplug_module_new(e, wasm, size, &m, err);
    if (st != WASMPLUG_OK)
        return st;
    wasmplug_extern imp;
    imp.kind = WASMPLUG_EXTERN_MEMORY;
    imp.of.memory = mem;
    st = wasmplug_instance_new(m, mem ? &imp : NULL, mem ? 1 : 0, NULL, out, err);
    wasmplug_module_free(m);
    return st;
}

static wasmplug_status call2(wasmplug_instance *in, const char *name, uint32_t a, int32_t b,
                             int32_t *result, wasmplug_error *err)
{
    wasmplug_func *f = wasmplug_instance_func(in, name);
    if (!f)
        return WASMPLUG_ERR_NOT_FOUND;
    wasmplug_slot slots[2];
    slots[0].u64 = 0;
    slots[0].u32 = a;
    slots[1].u64 = 0;
    slots[1].i32 = b;
    wasmplug_status st = wasmplug_func_call_slots(f, slots, err);
    if (result)
        *result = slots[0].i32;
    return st;
}

/* A store and a load in bounds work, at the last word of a memory of
 * `bytes`; one past it traps MEMORY_OUT_OF_BOUNDS. Returns whether all
 * held (children report with their exit status). */
static bool bounds_behave(wasmplug_instance *in, uint64_t bytes)
{
    wasmplug_error err;
    int32_t v = 0;
    uint32_t last = (uint32_t)(bytes - 4);
    bool ok = call2(in, "store", last, 0x5eed, NULL, &err) == WASMPLUG_OK &&
              call2(in, "load", last, 0, &v, &err) == WASMPLUG_OK && v == 0x5eed;
    ok = ok && call2(in, "load", last + 2, 0, &v, &err) == WASMPLUG_ERR_TRAP &&
         err.trap == WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (bytes < ((uint64_t)1 << 32))
        ok = ok && call2(in, "store", 0xFFFFFFF0u, 1, NULL, &err) == WASMPLUG_ERR_TRAP &&
             err.trap == WASMPLUG_TRAP_MEMORY_OUT_OF_BOUNDS;
    if (!ok)
        printf("     bounds misbehave (last status: %s)\n", err.message);
    return ok;
}

/* Run fn in a child; its exit status must be `expect`. */
static void in_child(const char *what, int (*fn)(void), int expect)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int code = fn();
        fflush(stdout);
        _exit(code);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == expect;
    if (!test_check(ok, __FILE__, __LINE__, what)) {
        if (WIFSIGNALED(status))
            printf("     the child died of signal %d\n", WTERMSIG(status));
        else
            printf("     the child exited with %d, want %d\n", WEXITSTATUS(status), expect);
    }
}

/* A fault that is not a plugin's: a write to a page of our own that is
 * PROT_NONE. The host's handler must get it. */
static void genuine_fault(void)
{
    volatile int *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if ((void *)p != MAP_FAILED)
        *p = 1;
}

static void host_handler(int sig, siginfo_t *info, void *uc)
{
    (void)sig, (void)info, (void)uc;
    _exit(HOST_HANDLER_RAN);
}

static void install_host_handler(void (*fn)(int, siginfo_t *, void *), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

/* Default mode: the host replaces the engine's handler after creating the
 * engine and instance, twice (SIG_DFL, then its own handler). */
static int child_host_replaces_handler(void)
{
    wasmplug_engine *e = engine_of(WASMPLUG_BOUNDS_GUARD_PAGES, WASMPLUG_SIGNALS_VERIFY, true, 0);
    wasmplug_instance *in = NULL;
    wasmplug_error err;
    if (!e || instantiate(e, oob_wasm, oob_size, NULL, &in, &err) != WASMPLUG_OK)
        return 1;
    if (wasmplug_memory_bounds(wasmplug_instance_memory(in)) != WASMPLUG_BOUNDS_GUARD_PAGES)
        return 2;
    signal(SIGSEGV, SIG_DFL);
    signal(SIGBUS, SIG_DFL);
    if (!bounds_behave(in, 65536))
        return 3;
    install_host_handler(host_handler, 0);
    if (!bounds_behave(in, 65536))
        return 4;
    genuine_fault();
    return 5; /* the host's handler exits */
}

static void host_owned_handler(int sig, siginfo_t *info, void *uc)
{
    if (!wasmplug_handle_fault(sig, info, uc))
        _exit(HOST_HANDLER_RAN);
}

/* WASMPLUG_SIGNALS_HOST: the host's handler (without SA_NODEFER) passes
 * faults to the engine first; several traps in a row must work. */
static int child_host_owns_signals(void)
{
    install_host_handler(host_owned_handler, 0);
    wasmplug_engine *e = engine_of(WASMPLUG_BOUNDS_GUARD_PAGES, WASMPLUG_SIGNALS_HOST, true, 0);
    wasmplug_instance *in = NULL;
    wasmplug_error err;
    if (!e || instantiate(e, oob_wasm, oob_size, NULL, &in, &err) != WASMPLUG_OK)
        return 1;
    /* The engine installed nothing. */
    struct sigaction cur;
    sigaction(SIGSEGV, NULL, &cur);
    if (cur.sa_sigaction != host_owned_handler)
        return 2;
    if (wasmplug_memory_bounds(wasmplug_instance_memory(in)) != WASMPLUG_BOUNDS_GUARD_PAGES ||
        !bounds_behave(in, 65536) || !bounds_behave(in, 65536))
        return 3;
    genuine_fault();
    return 4;
}

/* Current virtual size of this process in bytes (Linux), or 0. */
static uint64_t vm_size(int field)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long v[2] = {0, 0};
    if (f) {
        if (fscanf(f, "%llu %llu", &v[0], &v[1]) != 2)
            v[0] = v[1] = 0;
        fclose(f);
    }
    return v[field] * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Address space for about three guard reservations, then fallbacks. */
static int child_address_space(void)
{
    uint64_t reservation = ((uint64_t)8 << 30) + 65536;
    struct rlimit rl;
    rl.rlim_cur = rl.rlim_max = (rlim_t)(vm_size(0) + 3 * reservation + (256u << 20));
    if (vm_size(0) == 0 || setrlimit(RLIMIT_AS, &rl) != 0)
        return 1;
    wasmplug_engine *e = engine_of(WASMPLUG_BOUNDS_GUARD_PAGES, WASMPLUG_SIGNALS_VERIFY, false, 0);
    wasmplug_engine *strict =
        engine_of(WASMPLUG_BOUNDS_GUARD_PAGES, WASMPLUG_SIGNALS_VERIFY, true, 0);
    if (!e || !strict)
        return 2;
    enum { N = 8 };
    wasmplug_instance *in[N];
    int guarded = 0, explicit_ = 0;
    wasmplug_error err;
    for (int i = 0; i < N; i++) {
        if (instantiate(e, oob_wasm, oob_size, NULL, &in[i], &err) != WASMPLUG_OK) {
            printf("     instance %d: %s\n", i, err.message);
            return 3;
        }
        if (wasmplug_memory_bounds(wasmplug_instance_memory(in[i])) == WASMPLUG_BOUNDS_GUARD_PAGES)
            guarded++;
        else
            explicit_++;
    }
    printf("     %d instances with guard pages, %d with explicit checks\n", guarded, explicit_);
    if (guarded < 1 || explicit_ < 1)
        return 4;
    for (int i = 0; i < N; i++)
        if (!bounds_behave(in[i], 65536))
            return 5;

    /* Without the fallback: an error that names the limit. */
    wasmplug_instance *failed = NULL;
    if (instantiate(strict, oob_wasm, oob_size, NULL, &failed, &err) != WASMPLUG_ERR_NOMEM ||
        !strstr(err.message, "RLIMIT_AS") || !strstr(err.message, "guard pages")) {
        printf("     without fallback: \"%s\"\n", err.message);
        return 6;
    }

    /* A memory without guard pages imported into a guard-page engine's
     * module: that instance runs the explicit-check code. */
    wasmplug_limits lim = {1, 1, true};
    wasmplug_memory *mem = NULL;
    wasmplug_instance *importer = NULL;
    if (wasmplug_memory_new(e, lim, &mem) != WASMPLUG_OK ||
        wasmplug_memory_bounds(mem) != WASMPLUG_BOUNDS_EXPLICIT ||
        instantiate(e, import_wasm, import_size, mem, &importer, &err) != WASMPLUG_OK ||
        !bounds_behave(importer, 65536))
        return 7;
    wasmplug_instance_free(importer);
    wasmplug_memory_free(mem);
    for (int i = 0; i < N; i++)
        wasmplug_instance_free(in[i]);
    wasmplug_engine_free(strict);
    wasmplug_engine_free(e);
    return 0;
}

/* A 4 GiB minimum: beyond the default maximum; within a raised one it
 * instantiates without committing the memory, in either mode. */
static void huge_minimum(wasmplug_bounds_mode bounds)
{
    wasmplug_engine *e = engine_of(bounds, WASMPLUG_SIGNALS_VERIFY, false, 0);
    CHECK(e != NULL);
    wasmplug_instance *in = NULL;
    wasmplug_error err;
    CHECK_STATUS(instantiate(e, huge_wasm, huge_size, NULL, &in, &err), WASMPLUG_ERR_LIMIT);
    CHECK(strstr(err.message, "65536 pages") && strstr(err.message, "16384"));
    wasmplug_engine_free(e);

    e = engine_of(bounds, WASMPLUG_SIGNALS_VERIFY, false, 65536);
    CHECK(e != NULL);
    uint64_t rss_before = vm_size(1);
    CHECK_STATUS(instantiate(e, huge_wasm, huge_size, NULL, &in, &err), WASMPLUG_OK);
    if (in) {
        uint64_t rss_after = vm_size(1);
        CHECK(rss_after < rss_before + (64u << 20));
        CHECK(bounds_behave(in, (uint64_t)65536 * 65536));
        CHECK(vm_size(1) < rss_before + (64u << 20));
        wasmplug_instance_free(in);
    }
    wasmplug_engine_free(e);
}

/* An explicit-check memory that grows from the allocator (1 page) into a
 * mapping (32 pages = 2 MiB) and on: contents kept, new pages zero. */
static void explicit_growth(void)
{
    wasmplug_engine *e = engine_of(WASMPLUG_BOUNDS_EXPLICIT, WASMPLUG_SIGNALS_VERIFY, false, 0);
    wasmplug_limits lim = {1, 64, true};
    wasmplug_memory *mem = NULL;
    CHECK(e && wasmplug_memory_new(e, lim, &mem) == WASMPLUG_OK);
    if (!mem)
        return;
    size_t size = 0;
    uint8_t *p = wasmplug_memory_data(mem, &size);
    CHECK(size == 65536);
    memset(p, 0xab, size);
    uint32_t old = 0;
    CHECK_STATUS(wasmplug_memory_grow(mem, 31, &old), WASMPLUG_OK); /* into a mapping */
    p = wasmplug_memory_data(mem, &size);
    CHECK(old == 1 && size == (size_t)32 * 65536);
    CHECK(p[0] == 0xab && p[65535] == 0xab && p[65536] == 0 && p[size - 1] == 0);
    memset(p + 65536, 0xcd, size - 65536);
    CHECK_STATUS(wasmplug_memory_grow(mem, 32, &old), WASMPLUG_OK); /* the mapping grows */
    p = wasmplug_memory_data(mem, &size);
    CHECK(old == 32 && size == (size_t)64 * 65536);
    CHECK(p[0] == 0xab && p[65536] == 0xcd && p[32 * 65536 - 1] == 0xcd);
    CHECK(p[32 * 65536] == 0 && p[size - 1] == 0);
    CHECK_STATUS(wasmplug_memory_grow(mem, 1, &old), WASMPLUG_ERR_LIMIT);
    wasmplug_instance *in = NULL;
    wasmplug_error err;
    CHECK_STATUS(instantiate(e, import_wasm, import_size, mem, &in, &err), WASMPLUG_OK);
    if (in) {
        CHECK(bounds_behave(in, size));
        wasmplug_instance_free(in);
    }
    wasmplug_memory_free(mem);
    wasmplug_engine_free(e);
}

int main(void)
{
    oob_wasm = test_fixture("oob", &oob_size);
    huge_wasm = test_fixture("huge_min", &huge_size);
    import_wasm = test_fixture("import_mem", &import_size);
    if (!oob_wasm || !huge_wasm || !import_wasm)
        return test_done();
    in_child("a host's handler installed after the engine's: traps, then chaining",
             child_host_replaces_handler, HOST_HANDLER_RAN);
    in_child("a host that owns its handlers and calls wasmplug_handle_fault",
             child_host_owns_signals, HOST_HANDLER_RAN);
    in_child("address space exhausted: fallback to explicit checks, or a named limit",
             child_address_space, 0);
    explicit_growth();
    huge_minimum(WASMPLUG_BOUNDS_EXPLICIT);
    huge_minimum(WASMPLUG_BOUNDS_GUARD_PAGES);
    free(oob_wasm);
    free(huge_wasm);
    free(import_wasm);
    return test_done();
}
