/*
 * signals.c - the SIGSEGV/SIGBUS handler that turns guard-page hits of
 * running wasm code into MEMORY_OUT_OF_BOUNDS traps (memory.c describes the
 * guard-page reservations), and how it coexists with the host's handlers.
 *
 * A fault is ours when its address lies in a registered guard reservation
 * (wp_guard_contains) while this thread runs guarded wasm code (its exec has
 * a fault_jump): the handler jumps back into the interpreter. Any other
 * fault goes to the handler that was installed before ours ("chaining"), or
 * gets the default action, so a genuine crash of the host still crashes
 * normally and a host's crash reporter still sees it.
 *
 * Hosts may install their own handlers after the engine (crash reporters,
 * language runtimes, even signal(SIGSEGV, SIG_DFL)). The engine's signal
 * modes (wasmplug_signal_mode) deal with that:
 *   VERIFY        (default) every call that enters wasm from C checks that
 *                 our SIGSEGV handler (SIGBUS too where guard pages raise
 *                 it) is still installed: one sigaction() query (tens of
 *                 nanoseconds), skipped for functions that can never fault
 *                 (no load, store or call). If another one replaced it, ours is
 *                 installed again and the replacement becomes the handler
 *                 we chain to, so the host's handler still gets every fault
 *                 that is not ours.
 *   INSTALL_ONCE  install at first use and never check (the host promises
 *                 not to touch SIGSEGV/SIGBUS).
 *   HOST          never install anything: the host's own handler calls
 *                 wasmplug_handle_fault first (it does not return for a
 *                 fault that is ours).
 * When the handler cannot be installed at all (or a sanitizer keeps its own
 * in place), new memories fall back to explicit bounds checks (memory.c).
 */
#include "runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The current exec of this thread                                          */
/* ------------------------------------------------------------------------ */

static _Thread_local wp_exec *tls_current_exec;

wp_exec *wp_exec_current(void)
{
    return tls_current_exec;
}

wp_exec *wp_exec_swap_current(wp_exec *exec)
{
    wp_exec *old = tls_current_exec;
    tls_current_exec = exec;
    return old;
}

#if WP_HAVE_GUARD

/* The signals a guard-page hit raises: SIGSEGV on Linux, SIGBUS on some BSDs
 * and macOS. Both are handled; only the platform's own is verified per call
 * (the other one is checked whenever the first one is re-installed). */
#if defined(__APPLE__) || defined(__FreeBSD__)
#define WP_GUARD_SIGNAL SIGBUS
#else
#define WP_GUARD_SIGNAL SIGSEGV
#endif

static const int handled_signals[2] = { SIGSEGV, SIGBUS };

/*
 * The handlers we chain to, per signal. Re-installing (verify_slow) writes a
 * new pair into the other half and then publishes it with one atomic store,
 * so a handler running on another thread never reads a half-written entry.
 */
static struct sigaction chain[2][2]; /* [generation & 1][0 SIGSEGV, 1 SIGBUS] */
static atomic_uint chain_gen;
static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static bool installed;               /* under install_lock */
static bool install_failed;          /* under install_lock: sigaction refused, or
                                        a sanitizer kept its own handler */

static void fault_handler(int sig, siginfo_t *info, void *ucontext);

static bool is_ours(const struct sigaction *sa)
{
    return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == fault_handler;
}

/* Jump back into the interpreter when the fault is a guard-page hit of wasm
 * code running on this thread; return otherwise. Async-signal-safe. */
static void claim_fault(int sig, siginfo_t *info)
{
    /* The address check comes first so that unrelated faults never touch
     * the thread-local (whose first access may allocate in a dlopen'ed
     * library); a thread that runs wasm has set it already. */
    if (!info || !wp_guard_contains((uintptr_t)info->si_addr))
        return;
    wp_exec *exec = tls_current_exec;
    if (!exec || !exec->fault_jump)
        return;
    /* The jump does not restore the signal mask (sigsetjmp(jb, 0) saves
     * none): unblock the signal, which a handler installed without
     * SA_NODEFER (the host's, in HOST mode) leaves blocked. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    siglongjmp(*exec->fault_jump, 1);
}

static void fault_handler(int sig, siginfo_t *info, void *ucontext)
{
    claim_fault(sig, info);

    /* Not ours: behave as if we were never installed. */
    unsigned gen = atomic_load_explicit(&chain_gen, memory_order_acquire);
    const struct sigaction *old = &chain[gen & 1][sig == SIGBUS];
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction && old->sa_sigaction != fault_handler) {
            old->sa_sigaction(sig, info, ucontext);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* Default action (ignoring a fault would only repeat it): restore it and
     * return, so the faulting instruction runs again and kills the process
     * with the right signal; a signal sent with kill/raise is sent again. */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    if (info && info->si_code <= 0)
        raise(sig);
}

/*
 * Install ours for every handled signal not already ours, keeping what it
 * replaces as the handler to chain to. Called with install_lock held.
 */
static bool install_locked(void)
{
    unsigned gen = atomic_load_explicit(&chain_gen, memory_order_relaxed);
    unsigned next = gen + 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fault_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        memset(&cur, 0, sizeof cur);
        if (sigaction(handled_signals[i], NULL, &cur) != 0)
            return false;
        if (installed && is_ours(&cur)) {
            chain[next & 1][i] = chain[gen & 1][i];
            continue;
        }
        if (sigaction(handled_signals[i], &sa, NULL) != 0)
            return false;
        chain[next & 1][i] = cur;
    }
    atomic_store_explicit(&chain_gen, next, memory_order_release);
    installed = true;
    /* Some runtimes (AddressSanitizer without allow_user_segv_handler=1)
     * silently keep their own handler: check that ours is in place. */
    for (int i = 0; i < 2; i++) {
        struct sigaction cur;
        memset(&cur, 0, sizeof cur);
        if (sigaction(handled_signals[i], NULL, &cur) != 0 || !is_ours(&cur))
            return false;
    }
    return true;
}

wasmplug_status wp_fault_handler_install(void)
{
    pthread_mutex_lock(&install_lock);
    bool ok = !install_failed && (installed || install_locked());
    if (!ok)
        install_failed = true;
    pthread_mutex_unlock(&install_lock);
    return ok ? WASMPLUG_OK : WASMPLUG_ERR_UNSUPPORTED;
}

/* Slow path of wp_fault_handler_verify: someone replaced our handler. */
static bool verify_slow(void)
{
    pthread_mutex_lock(&install_lock);
    bool ok = !install_failed && install_locked();
    if (!ok)
        install_failed = true;
    pthread_mutex_unlock(&install_lock);
    return ok;
}

bool wp_fault_handler_verify(const wasmplug_engine *e, const wp_code *code)
{
    if (e->signals != WASMPLUG_SIGNALS_VERIFY || !wp_code_may_fault(code))
        return true;
    struct sigaction cur;
    if (sigaction(WP_GUARD_SIGNAL, NULL, &cur) == 0 && is_ours(&cur))
        return true;
    return verify_slow();
}

bool wasmplug_handle_fault(int sig, void *siginfo, void *ucontext)
{
    (void)ucontext;
    if (sig == SIGSEGV || sig == SIGBUS)
        claim_fault(sig, siginfo);
    return false;
}

#else /* !WP_HAVE_GUARD */

wasmplug_status wp_fault_handler_install(void)
{
    return WASMPLUG_ERR_UNSUPPORTED;
}

bool wp_fault_handler_verify(const wasmplug_engine *e, const wp_code *code)
{
    (void)e;
    (void)code;
    return true;
}

bool wasmplug_handle_fault(int sig, void *siginfo, void *ucontext)
{
    (void)sig;
    (void)siginfo;
    (void)ucontext;
    return false;
}

#endif
