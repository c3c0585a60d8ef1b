/*
 * interrupt.h - Ctrl-C during `run` and `exec`: SIGINT cancels the running
 * call instead of killing the process, so the command can say what happened
 * and exit with 130 (128 + SIGINT), as shells expect.
 */
#ifndef WASMPLUG_CLI_INTERRUPT_H
#define WASMPLUG_CLI_INTERRUPT_H

#include <stdbool.h>

#define EXIT_INTERRUPTED 130

/*
 * From now on SIGINT (unless it was ignored when wasmplug started, as for a
 * background job) calls cancel(user) on a watcher thread, and again every
 * 10 ms until cli_interrupt_stop (what was about to start when SIGINT came
 * is cancelled too: cancel must be harmless when repeated). Call before
 * creating any other thread, so that all of them leave SIGINT to the
 * watcher. Returns false if the watcher could not start (SIGINT then keeps
 * its default action).
 */
bool cli_interrupt_start(void (*cancel)(void *user), void *user);
/* Stop the watcher; true if SIGINT arrived since cli_interrupt_start. */
bool cli_interrupt_stop(void);

#endif
