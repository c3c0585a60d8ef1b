/*
 * share_test.h - what the tests of events and plugin data shared through
 * Redis across host processes use (tests/events/test_bridge.c,
 * tests/services/test_kv_shared.c): the test program runs itself again as
 * child processes ("--role NAME ARGS...") that talk over pipes - the child
 * prints lines, the parent waits for them; closing the child's stdin tells
 * it to stop - and one-shot commands to the test's redis-server to check
 * what is stored.
 *
 * Header-only (static inline), like test.h.
 */
#ifndef WASMPLUG_SHARE_TEST_H
#define WASMPLUG_SHARE_TEST_H

#include "redis_test.h"
#include "test.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>

typedef struct share_child {
    pid_t pid;
    FILE *out; /* its stdout (unbuffered, so that poll() tells the truth) */
    int in;    /* its stdin: closed to tell it to stop */
    char name[32];
} share_child;

static char share_self[4096];   /* this program */
static int share_redis_port;    /* of share_redis() */

/* In the parent, before any child: find this program. */
static inline bool share_init(void)
{
    ssize_t n = readlink("/proc/self/exe", share_self, sizeof share_self - 1);
    if (n <= 0) {
        printf("FAIL: readlink /proc/self/exe\n");
        return false;
    }
    share_self[n] = 0;
    signal(SIGPIPE, SIG_IGN);
    return true;
}

/* Run this program with --role args[0] args[1]... (NULL-terminated). */
static inline share_child share_spawn(const char *name, const char *const *args)
{
    share_child c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "%s", name);
    int out[2], in[2];
    /* Close-on-exec: later children must not hold this one's pipes open. */
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(in, O_CLOEXEC) != 0) {
        printf("FAIL: pipe\n");
        exit(1);
    }
    c.pid = fork();
    if (c.pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        const char *argv[24] = {share_self, "--role"};
        int n = 2;
        for (; args[n - 2] && n < 23; n++)
            argv[n] = args[n - 2];
        argv[n] = NULL;
        execv(share_self, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    c.out = fdopen(out[0], "r");
    setvbuf(c.out, NULL, _IONBF, 0);
    c.in = in[1];
    return c;
}

/* Read lines of c until one starts with prefix (copied to line), up to
 * timeout_ms. */
static inline bool share_expect(share_child *c, const char *prefix, char *line, size_t size,
                                unsigned timeout_ms)
{
    uint64_t deadline = test_now_ms() + timeout_ms;
    for (;;) {
        uint64_t now = test_now_ms();
        if (now >= deadline)
            break;
        struct pollfd p = {fileno(c->out), POLLIN, 0};
        if (poll(&p, 1, (int)(deadline - now)) <= 0)
            break;
        if (!fgets(line, (int)size, c->out))
            break;
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            return true;
    }
    printf("     %s: no \"%s\" line within %u ms\n", c->name, prefix, timeout_ms);
    return false;
}

/* Tell c to stop; everything it prints until it exits goes into out (up
 * to 30 s). Returns its exit status (-1: no clean exit). */
static inline int share_finish(share_child *c, char *out, size_t size)
{
    close(c->in);
    size_t len = 0;
    uint64_t deadline = test_now_ms() + 30000;
    char line[4096];
    out[0] = 0;
    bool eof = false;
    while (!eof && test_now_ms() < deadline) {
        struct pollfd p = {fileno(c->out), POLLIN, 0};
        if (poll(&p, 1, 1000) <= 0)
            continue;
        /* Long lines come in pieces of the buffer: appended as they are. */
        if (!fgets(line, sizeof line, c->out)) {
            eof = true;
            break;
        }
        size_t n = strlen(line);
        if (len + n < size) {
            memcpy(out + len, line, n + 1);
            len += n;
        }
    }
    int status = 0;
    while (waitpid(c->pid, &status, WNOHANG) == 0) {
        if (test_now_ms() >= deadline) {
            kill(c->pid, SIGKILL);
            waitpid(c->pid, &status, 0);
            printf("     %s: did not stop within 30 s\n", c->name);
            break;
        }
        redis_test_sleep_ms(5);
    }
    fclose(c->out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A crash: SIGKILL, then reap it. */
static inline void share_kill(share_child *c)
{
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    close(c->in);
    fclose(c->out);
}

/* The line of text starting with prefix, or "" (a static copy). */
static inline const char *share_line(const char *text, const char *prefix)
{
    static char line[65536];
    size_t plen = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, prefix, plen) == 0) {
            const char *end = strchr(p, '\n');
            size_t n = end ? (size_t)(end - p) : strlen(p);
            if (n >= sizeof line)
                n = sizeof line - 1;
            memcpy(line, p, n);
            line[n] = 0;
            return line;
        }
    line[0] = 0;
    return line;
}

/* In the parent: start the test's redis-server (append-only, every write
 * synced, so a restart keeps what was acknowledged), its URL into url, and
 * point share_redis() at it. */
static inline bool share_start_redis(redis_test_server *srv, char *url, size_t size)
{
    srv->appendonly = true;
    if (!redis_test_start(srv)) {
        printf("FAIL: no redis-server\n");
        return false;
    }
    share_redis_port = srv->port;
    redis_test_url(srv, url, size);
    return true;
}

/* One command to 127.0.0.1:share_redis_port on a connection of its own
 * (freeReplyObject the reply); NULL if Redis is not there. */
static inline redisReply *share_redis(const char *fmt, ...)
{
    redisContext *ctx = redisConnect("127.0.0.1", share_redis_port);
    if (!ctx || ctx->err) {
        redisFree(ctx);
        return NULL;
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    redisFree(ctx);
    return r;
}

#endif
