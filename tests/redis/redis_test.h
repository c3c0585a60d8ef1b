/*
 * redis_test.h - a real redis-server for a test: started on 127.0.0.1 on a
 * free port, its files (log, append-only file, socket) in a fresh temporary
 * directory, stopped (and the directory removed) by redis_test_stop, killed
 * with the test process if that dies first (PR_SET_PDEATHSIG). Restartable
 * on the same port and directory, so a test can take Redis away under its
 * clients and bring it back with its data.
 *
 * The server is $WASMPLUG_REDIS_SERVER, else redis-server on the PATH
 * (Debian's redis-server, installed by `make deps`).
 *
 * Header-only (static inline), like test.h.
 */
#ifndef WASMPLUG_REDIS_TEST_H
#define WASMPLUG_REDIS_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REDIS_TEST_ARGS_MAX 16

typedef struct redis_test_server {
    char dir[256];
    int port;
    pid_t pid;
    /* Extra arguments for redis-server ("--requirepass", "x", ...), kept
     * across restarts; set before redis_test_start. */
    const char *args[REDIS_TEST_ARGS_MAX];
    int nargs;
    bool appendonly; /* persist every write (appendfsync always) */
} redis_test_server;

static inline void redis_test_sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline int redis_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Whether something accepts connections on 127.0.0.1:port and answers PING. */
static inline bool redis_test_ping(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool ok = false;
    char buf[64];
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "PING\r\n", 6) == 6) {
        ssize_t n = read(fd, buf, sizeof buf - 1);
        /* +PONG, or -NOAUTH when a password is required: either way up. */
        ok = n > 0 && (buf[0] == '+' || (buf[0] == '-' && strncmp(buf, "-LOADING", 8) != 0));
    }
    close(fd);
    return ok;
}

/* Start (or restart) the server on srv->port (0: pick a free one) in
 * srv->dir (empty: a new temporary directory). false with a message on
 * stdout when it does not answer within 10 s. */
static inline bool redis_test_start(redis_test_server *srv)
{
    if (!srv->dir[0]) {
        snprintf(srv->dir, sizeof srv->dir, "/tmp/wasmplug-redis-XXXXXX");
        if (!mkdtemp(srv->dir)) {
            printf("redis_test: mkdtemp: %s\n", strerror(errno));
            srv->dir[0] = '\0';
            return false;
        }
    }
    bool fixed_port = srv->port != 0;
    for (int attempt = 0; attempt < 5; attempt++) {
        if (!fixed_port)
            srv->port = redis_test_free_port();
        char port[16], log[300], sock[300];
        snprintf(port, sizeof port, "%d", srv->port);
        snprintf(log, sizeof log, "%s/redis.log", srv->dir);
        snprintf(sock, sizeof sock, "%s/redis.sock", srv->dir);
        const char *server = getenv("WASMPLUG_REDIS_SERVER");
        if (!server || !*server)
            server = "redis-server";
        const char *argv[32 + REDIS_TEST_ARGS_MAX] = {
            server, "--port", port, "--bind", "127.0.0.1", "--dir", srv->dir,
            "--logfile", log, "--unixsocket", sock, "--unixsocketperm", "700",
            "--save", "", "--daemonize", "no", "--protected-mode", "no",
            "--appendonly", srv->appendonly ? "yes" : "no",
            "--appendfsync", "always"};
        int n = 0;
        while (argv[n])
            n++;
        for (int i = 0; i < srv->nargs && i < REDIS_TEST_ARGS_MAX; i++)
            argv[n++] = srv->args[i];
        argv[n] = NULL;
        pid_t pid = fork();
        if (pid < 0) {
            printf("redis_test: fork: %s\n", strerror(errno));
            return false;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            execvp(server, (char *const *)argv);
            _exit(127);
        }
        srv->pid = pid;
        for (int i = 0; i < 1000; i++) {
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                srv->pid = 0;
                if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                    printf("redis_test: cannot run %s (install redis-server: make deps)\n",
                           server);
                    return false;
                }
                break; /* port taken between choosing and binding: again */
            }
            if (redis_test_ping(srv->port))
                return true;
            redis_test_sleep_ms(10);
        }
        if (srv->pid) {
            kill(srv->pid, SIGKILL);
            waitpid(srv->pid, NULL, 0);
            srv->pid = 0;
        }
        if (fixed_port)
            redis_test_sleep_ms(200); /* the old server's socket: retry */
    }
    printf("redis_test: redis-server did not start (see %s/redis.log)\n", srv->dir);
    return false;
}

/* Stop the server (SIGTERM, SIGKILL after 5 s); keeps the directory. With
 * hard: SIGKILL at once (a crash: no final save). */
static inline void redis_test_halt(redis_test_server *srv, bool hard)
{
    if (srv->pid <= 0)
        return;
    kill(srv->pid, hard ? SIGKILL : SIGTERM);
    for (int i = 0; i < 500; i++) {
        if (waitpid(srv->pid, NULL, WNOHANG) == srv->pid) {
            srv->pid = 0;
            return;
        }
        redis_test_sleep_ms(10);
    }
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    srv->pid = 0;
}

static inline int redis_test_rm_entry(const char *path, const struct stat *sb, int flag,
                                      struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Stop the server and remove its directory. */
static inline void redis_test_stop(redis_test_server *srv)
{
    redis_test_halt(srv, false);
    if (srv->dir[0])
        nftw(srv->dir, redis_test_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    srv->dir[0] = '\0';
}

/* redis://127.0.0.1:PORT[/db] into buf. */
static inline const char *redis_test_url(const redis_test_server *srv, char *buf, size_t size)
{
    snprintf(buf, size, "redis://127.0.0.1:%d", srv->port);
    return buf;
}

#endif
