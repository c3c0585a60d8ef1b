/*
 * cli_dist.h - the distribution commands (cmd_dist.c, cmd_sign.c) and how
 * the static wasmplug reaches them (dist_forward.c): they need libcurl,
 * libarchive and libsodium, so they live in the dynamically linked
 * wasmplug-dist, which a static wasmplug executes for them; so do serve,
 * worker and submit, runs with outbound HTTP, and any command given
 * --kv-redis or --events-redis (hiredis).
 */
#ifndef WASMPLUG_CLI_DIST_H
#define WASMPLUG_CLI_DIST_H

#include <stdbool.h>
#include <stddef.h>

/* Whether `install ARGS` is a distribution install (a .wasmplug package, a
 * NAME[@RANGE] that is not a local path, or --locked) rather than a local
 * directory or module. */
bool cli_dist_wants_install(int argc, char **argv);

#ifdef WASMPLUG_CLI_DIST
int cmd_dist_install(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_outdated(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_registry(int argc, char **argv);
int cmd_trust(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_submit(int argc, char **argv);
/* Print msg (made safe) as the error for st; returns the exit code. */
int cli_dist_fail(int st, const char *msg);
#define CLI_DIST(fn) fn
#else
/* Execute wasmplug-dist with this process's arguments; returns only on failure. */
int cli_dist_forward(int argc, char **argv);
/* The same, with why it failed in msg instead of printed. */
void cli_dist_exec(char *msg, size_t msg_size);
#define CLI_DIST(fn) cli_dist_forward
#endif

#endif
