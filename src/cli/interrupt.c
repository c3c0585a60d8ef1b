/*
 * interrupt.c - SIGINT for run and exec (interrupt.h): the signal is blocked
 * in every thread and taken by a watcher thread with sigwait, so the cancel
 * callback may use locks (wasmplug_plugin_cancel does). SIGUSR2, blocked
 * too, tells the watcher to stop.
 */
#include "interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

static pthread_t watcher;
static bool running;
static atomic_bool fired, stopping;
static void (*cancel_fn)(void *);
static void *cancel_user;

/* After SIGINT, cancel again every 10 ms until stopped: a call that had not
 * begun yet (its plugin still loading) is cancelled as soon as it runs. */
static void *watch(void *arg)
{
    sigset_t *set = arg;
    for (;;) {
        int sig = 0;
        if (atomic_load(&fired)) {
            struct timespec tick = {0, 10 * 1000 * 1000};
            sig = sigtimedwait(set, NULL, &tick);
        } else if (sigwait(set, &sig) != 0) {
            return NULL;
        }
        if (atomic_load(&stopping))
            return NULL;
        if (sig == SIGINT)
            atomic_store(&fired, true);
        if (atomic_load(&fired))
            cancel_fn(cancel_user);
    }
}

bool cli_interrupt_start(void (*cancel)(void *user), void *user)
{
    struct sigaction old;
    if (sigaction(SIGINT, NULL, &old) != 0 || old.sa_handler == SIG_IGN)
        return false;
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGUSR2);
    cancel_fn = cancel;
    cancel_user = user;
    atomic_store(&fired, false);
    atomic_store(&stopping, false);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return false;
    running = pthread_create(&watcher, NULL, watch, &set) == 0;
    if (!running)
        pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return running;
}

bool cli_interrupt_stop(void)
{
    if (running) {
        atomic_store(&stopping, true);
        pthread_kill(watcher, SIGUSR2);
        pthread_join(watcher, NULL);
        running = false;
    }
    return atomic_load(&fired);
}
