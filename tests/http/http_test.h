/*
 * http_test.h - starting the test HTTP server (tests/http/server.py) from C:
 * a python3 child bound to 127.0.0.1 on a free port, stopped by closing its
 * stdin (and by its own lifetime limit if the test dies), plus the test CA.
 */
#ifndef WASMPLUG_HTTP_TEST_H
#define WASMPLUG_HTTP_TEST_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WP_HTTP_TEST_DIR
#define WP_HTTP_TEST_DIR "."
#endif

typedef struct test_server {
    pid_t pid;
    int stdin_fd;
    int port;
} test_server;

/* Start server.py (TLS when cert and key are given); false on failure. */
static inline int test_server_start(test_server *s, const char *cert, const char *key)
{
    int in[2], out[2];
    memset(s, 0, sizeof *s);
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC)) /* no other child keeps them */
        return 0;
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        const char *script = WP_HTTP_TEST_DIR "/server.py";
        if (cert)
            execlp("python3", "python3", script, "--tls", cert, key, "--lifetime", "300",
                   (char *)NULL);
        else
            execlp("python3", "python3", script, "--lifetime", "300", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    char line[32] = "";
    size_t n = 0;
    while (n + 1 < sizeof line && read(out[0], line + n, 1) == 1 && line[n] != '\n')
        n++;
    close(out[0]);
    line[n] = '\0';
    s->pid = pid;
    s->stdin_fd = in[1];
    s->port = atoi(line);
    return s->port > 0;
}

static inline void test_server_stop(test_server *s)
{
    if (s->pid > 0) {
        close(s->stdin_fd);
        int status;
        waitpid(s->pid, &status, 0);
        s->pid = 0;
    }
}

/* A fresh test CA and server certificate in dir (make-certs.sh). */
static inline int test_make_certs(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "sh '%s/make-certs.sh' '%s'", WP_HTTP_TEST_DIR, dir);
    return system(cmd) == 0;
}

#endif
