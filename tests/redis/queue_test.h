/*
 * queue_test.h - what the queue tests share: a temporary store with the
 * echo test plugin (tests/cli/plugins/echo.wat) installed by the real
 * wasmplug command, `wasmplug worker` processes started and stopped
 * (SIGTERM, or SIGKILL for a crash), a worker's /metrics read over HTTP, and
 * the client API's wait with a message on failure.
 *
 * WP_CLI is the wasmplug command, WP_ECHO_DIR the directory with echo.wasm,
 * WP_ECHO_YAML its manifest (set by tests/redis/CMakeLists.txt).
 */
#ifndef WASMPLUG_QUEUE_TEST_H
#define WASMPLUG_QUEUE_TEST_H

#include "redis_test.h"
#include "test.h"

#include <wasmplug/queue.h>

#include "services/queue_internal.h"

#include <fcntl.h>

#define QT_WORKERS_MAX 8

typedef struct queue_test {
    redis_test_server redis;
    char url[128];
    char dir[320];   /* the store, data and worker logs */
    pid_t workers[QT_WORKERS_MAX];
} queue_test;

static inline bool qt_shell(const char *cmd)
{
    int st = system(cmd);
    if (st != 0)
        printf("queue_test: '%s' failed (%d)\n", cmd, st);
    return st == 0;
}

/* Redis (appendonly when persist), a temporary directory, echo installed. */
static inline bool qt_setup(queue_test *t, bool persist)
{
    memset(t, 0, sizeof *t);
    t->redis.appendonly = persist;
    if (!redis_test_start(&t->redis))
        return false;
    redis_test_url(&t->redis, t->url, sizeof t->url);
    snprintf(t->dir, sizeof t->dir, "%s/w", t->redis.dir);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/echo && cp %s %s/echo/plugin.yaml && cp %s/echo.wasm %s/echo/ && "
             "%s --store %s/store install %s/echo --yes >/dev/null",
             t->dir, WP_ECHO_YAML, t->dir, WP_ECHO_DIR, t->dir, WP_CLI, t->dir, t->dir);
    return qt_shell(cmd);
}

/* Start worker i: `wasmplug worker` with the test's store and extra flags
 * (NULL-terminated), its stderr in DIR/worker-i.log. */
static inline bool qt_worker_start(queue_test *t, int i, const char *const *extra)
{
    char store[400], data[400], log[400], name[32];
    snprintf(store, sizeof store, "%s/store", t->dir);
    snprintf(data, sizeof data, "%s/data", t->dir);
    snprintf(log, sizeof log, "%s/worker-%d.log", t->dir, i);
    snprintf(name, sizeof name, "worker-%d", i);
    const char *argv[48] = {WP_CLI, "--store", store, "--data-dir", data, "worker",
                            "--redis", t->url, "--stream", "calls", "--group", "workers",
                            "--consumer", name};
    int n = 14;
    for (int k = 0; extra && extra[k] && n < 46; k++)
        argv[n++] = extra[k];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        execv(WP_CLI, (char *const *)argv);
        _exit(127);
    }
    t->workers[i] = pid;
    return true;
}

/* Stop worker i (SIGTERM: graceful; SIGKILL: a crash); its exit status, or
 * -1 if it had to be killed after 20 s. */
static inline int qt_worker_stop(queue_test *t, int i, int sig)
{
    pid_t pid = t->workers[i];
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    int status = 0;
    for (int k = 0; k < 2000; k++) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            t->workers[i] = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        redis_test_sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    t->workers[i] = 0;
    return -1;
}

/* Print a worker's log (when a check failed). */
static inline void qt_worker_log(queue_test *t, int i)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "sed 's/^/    worker-%d: /' %s/worker-%d.log | tail -20", i, t->dir,
             i);
    (void)!system(cmd);
}

static inline void qt_teardown(queue_test *t)
{
    for (int i = 0; i < QT_WORKERS_MAX; i++)
        if (t->workers[i] > 0)
            qt_worker_stop(t, i, SIGKILL);
    redis_test_stop(&t->redis);
}

/* GET http://127.0.0.1:port/metrics into buf; false if it did not answer. */
static inline bool qt_metrics(int port, char *buf, size_t size)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
        ssize_t n;
        while (got + 1 < size && (n = read(fd, buf + got, size - 1 - got)) > 0)
            got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    return got > 0;
}

/* The value of a metric line starting with name (e.g.
 * "wasmplug_worker_reconnects_total{"), or -1. */
static inline long long qt_metric(const char *text, const char *name)
{
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        if (p != text && p[-1] != '\n')
            continue;
        const char *sp = strchr(p, ' ');
        return sp ? atoll(sp + 1) : -1;
    }
    return -1;
}

/* Wait until `count` consumers joined the group (at most 30 s: a worker
 * under a sanitizer on a loaded machine is slow to start). */
static inline bool qt_wait_consumers(queue_test *t, wps_redis *r, size_t count)
{
    char msg[256];
    for (int k = 0; k < 3000; k++) {
        redisReply *rep = NULL;
        if (wps_redis_command(r, &rep, msg, sizeof msg, "XINFO CONSUMERS calls workers") ==
            WPS_REDIS_OK) {
            size_t n = rep->type == REDIS_REPLY_ARRAY ? rep->elements : 0;
            freeReplyObject(rep);
            if (n >= count)
                return true;
        }
        redis_test_sleep_ms(10);
    }
    (void)t;
    return false;
}

/* A call of the echo plugin's function with input (a C string, kept by
 * the caller). */
static inline wasmplug_queue_call qt_call(const char *function, const char *input)
{
    wasmplug_queue_call c = WASMPLUG_QUEUE_CALL_INIT;
    c.plugin = "echo-plugin";
    c.function = function;
    c.input = (const uint8_t *)input;
    c.input_len = input ? strlen(input) : 0;
    return c;
}

/* Submit call i of a run: echo of "payload i" (with idempotency key
 * "job-i" when keyed); false (printed) on failure. */
static inline bool qt_submit_payload(wasmplug_queue *q, int i, bool keyed, char *id)
{
    char in[32], key[32], msg[512];
    snprintf(in, sizeof in, "payload %d", i);
    snprintf(key, sizeof key, "job-%d", i);
    wasmplug_queue_call c = qt_call("echo", in);
    c.idempotency_key = keyed ? key : NULL;
    if (wasmplug_queue_submit(q, &c, id, msg, sizeof msg) == WASMPLUG_OK)
        return true;
    printf("     submit %d: %s\n", i, msg);
    return false;
}

/* Wait for call i of a run; true if answered OK with "payload i" (*cached,
 * if not NULL: from the idempotency cache). */
static inline bool qt_answered(wasmplug_queue *q, int i, const char *id, bool *cached)
{
    char in[32], msg[512];
    snprintf(in, sizeof in, "payload %d", i);
    wasmplug_queue_result res;
    bool ok = wasmplug_queue_wait(q, id, 60000, &res, msg, sizeof msg) == WASMPLUG_OK &&
              res.status == WASMPLUG_OK && res.output.len == strlen(in) &&
              !memcmp(res.output.data, in, res.output.len);
    if (!ok)
        printf("     call %d: %s %s\n", i, msg, res.error);
    if (cached)
        *cached = res.cached;
    wasmplug_queue_result_free(&res);
    return ok;
}

/* A free port for --metrics, as a string in buf; returns the port. */
static inline int qt_metrics_port(char *buf, size_t size)
{
    int port = redis_test_free_port();
    snprintf(buf, size, "%d", port);
    return port;
}

/* A plain connection for checks (*r) and a client of stream "calls" (*q),
 * once `consumers` workers joined the group; false (printed) otherwise. */
static inline bool qt_connect(queue_test *t, size_t consumers, wps_redis **r,
                              wasmplug_queue **q)
{
    char msg[512];
    *q = NULL;
    if (wps_redis_open(t->url, NULL, r, msg, sizeof msg) != WPS_REDIS_OK) {
        printf("queue_test: %s\n", msg);
        return false;
    }
    if (!qt_wait_consumers(t, *r, consumers)) {
        printf("queue_test: %zu workers did not join the group\n", consumers);
        return false;
    }
    if (wasmplug_queue_open(t->url, "calls", NULL, q, msg, sizeof msg) != WASMPLUG_OK) {
        printf("queue_test: %s\n", msg);
        return false;
    }
    return true;
}

#endif
