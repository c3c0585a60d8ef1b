/*
 * test_kv_crash.c - a host process running a write-heavy plugin is killed
 * with SIGKILL at random moments, 100 times (WASMPLUG_CRASH_ROUNDS for a
 * longer run, WASMPLUG_CRASH_SEED to repeat one). The child loads kvplug
 * with storage and calls set_ten("c<N>") (ten keys of 100 bytes, one call,
 * one transaction) in a loop, reporting N on a pipe after each call that
 * returned success. After each kill the parent opens the database with
 * SQLite and checks: it opens cleanly (integrity_check ok); every reported
 * call is fully there; no call is partly there (a prefix has all ten keys
 * or none); the usage row matches the data.
 */
#include "host_test.h"

#include <wasmplug/services.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char data_dir[256];

/* The child: write until killed. */
static void child(int fd, int round)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = data_dir;
    char msg[256];
    if (wasmplug_services_attach(h, &sc, NULL, msg, sizeof msg) != WASMPLUG_OK ||
        wasmplug_host_grant(h, "*", "kv") != WASMPLUG_OK)
        _exit(2);
    static const char *const perms[] = {"kv"};
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = "crash";
    m.version = "1.0.0";
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    char path[1024];
    host_test_path(path, sizeof path, "kvplug");
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(h, "crash", path, &o, &p, &err) != WASMPLUG_OK)
        _exit(3);
    for (int n = 0;; n++) {
        char prefix[32];
        int len = snprintf(prefix, sizeof prefix, "c%d-%d", round, n);
        wasmplug_buf out;
        if (wasmplug_plugin_call(p, "set_ten", (const uint8_t *)prefix, (size_t)len, &out,
                                 &err) != WASMPLUG_OK)
            _exit(4);
        wasmplug_buf_free(&out);
        char line[40];
        int ll = snprintf(line, sizeof line, "%s\n", prefix);
        if (write(fd, line, (size_t)ll) != ll)
            _exit(5);
    }
}

/* The reported prefixes (one per line) of a round. */
static size_t read_reports(int fd, char ***out)
{
    size_t cap = 0, len = 0;
    char *text = NULL;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            text = realloc(text, cap);
        }
        ssize_t r = read(fd, text + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    size_t n = 0;
    char **lines = NULL;
    if (!text)
        return 0;
    text[len] = 0;
    /* A line cut by the kill has no newline: not a completed report. */
    char *save = NULL;
    char *end = strrchr(text, '\n');
    if (end)
        end[1] = 0;
    else
        text[0] = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n++] = strdup(l);
    }
    free(text);
    *out = lines;
    return n;
}

/* Check the database after a kill; returns false (printing why) on a failure. */
static bool verify(char **reported, size_t nrep, int round, size_t *total_calls)
{
    char path[400];
    snprintf(path, sizeof path, "%s/crash/kv.sqlite", data_dir);
    if (access(path, F_OK) != 0)
        return nrep == 0; /* killed before the first write */
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        printf("round %d: the database does not open: %s\n", round, sqlite3_errmsg(db));
        sqlite3_close(db);
        return false;
    }
    bool ok = true;
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok")) {
        printf("round %d: integrity_check failed\n", round);
        ok = false;
    }
    sqlite3_finalize(st);
    /* Killed while the schema was being created: nothing was written. */
    sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name IN ('kv', 'usage')",
                       -1, &st, NULL);
    int tables = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (ok && tables != 2) {
        sqlite3_close(db);
        if (nrep)
            printf("round %d: calls were reported but the schema is not there\n", round);
        return nrep == 0;
    }
    /* Every call is all or nothing: per prefix, 0 or 10 keys. */
    sqlite3_prepare_v2(db,
                       "SELECT substr(key, 1, instr(key, '/') - 1) AS p, count(*), "
                       "sum(length(value) = 100) FROM kv GROUP BY p",
                       -1, &st, NULL);
    size_t calls = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        calls++;
        if (sqlite3_column_int(st, 1) != 10 || sqlite3_column_int(st, 2) != 10) {
            printf("round %d: call %s is half there (%d keys)\n", round,
                   (const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1));
            ok = false;
        }
    }
    sqlite3_finalize(st);
    /* Every call that returned success is there. */
    sqlite3_prepare_v2(db, "SELECT count(*) FROM kv WHERE key >= ?1 AND key < ?2", -1, &st,
                       NULL);
    for (size_t i = 0; i < nrep && ok; i++) {
        char lo[48], hi[48];
        snprintf(lo, sizeof lo, "%s/", reported[i]);
        snprintf(hi, sizeof hi, "%s0", reported[i]); /* '0' follows '/' */
        sqlite3_bind_blob(st, 1, lo, (int)strlen(lo), SQLITE_STATIC); /* keys are blobs */
        sqlite3_bind_blob(st, 2, hi, (int)strlen(hi), SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 10) {
            printf("round %d: call %s returned success but is not there\n", round, reported[i]);
            ok = false;
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    /* The usage row agrees with the data. */
    sqlite3_prepare_v2(db,
                       "SELECT (SELECT keys FROM usage) = count(*), "
                       "(SELECT bytes FROM usage) = coalesce(sum(length(key) + length(value)), 0)"
                       " FROM kv",
                       -1, &st, NULL);
    if (sqlite3_step(st) != SQLITE_ROW || !sqlite3_column_int(st, 0) ||
        !sqlite3_column_int(st, 1)) {
        printf("round %d: the usage row disagrees with the data\n", round);
        ok = false;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    *total_calls = calls;
    return ok;
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    int rounds = getenv("WASMPLUG_CRASH_ROUNDS") ? atoi(getenv("WASMPLUG_CRASH_ROUNDS")) : 100;
    unsigned seed = getenv("WASMPLUG_CRASH_SEED") ? (unsigned)atoi(getenv("WASMPLUG_CRASH_SEED"))
                                                  : (unsigned)time(NULL);
    printf("%d rounds, seed %u (WASMPLUG_CRASH_SEED repeats it)\n", rounds, seed);
    srand(seed);
    snprintf(data_dir, sizeof data_dir, "%s/wasmplug-crash.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(data_dir)) {
        printf("FAIL: cannot create a temporary directory\n");
        return 1;
    }
    size_t reported_total = 0, calls = 0;
    int early = 0;
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(fds[1], round);
        }
        close(fds[1]);
        /* A random moment: from start-up (before any write) to some 30 ms in. */
        struct timespec ts = {0, (long)(rand() % 30000) * 1000L};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status)) {
            printf("round %d: the child exited by itself (status %d)\n", round,
                   WEXITSTATUS(status));
            test_failed_count++;
        }
        char **rep = NULL;
        size_t nrep = read_reports(fds[0], &rep);
        close(fds[0]);
        reported_total += nrep;
        if (nrep == 0)
            early++;
        if (!test_check(verify(rep, nrep, round, &calls), __FILE__, __LINE__,
                        "the database after a SIGKILL"))
            round = rounds; /* stop at the first failure: its state is the evidence */
        for (size_t i = 0; i < nrep; i++)
            free(rep[i]);
        free(rep);
    }
    printf("%zu calls reported successful, %zu calls in the database, %d kills before the "
           "first call returned\n",
           reported_total, calls, early);
    CHECK(calls >= reported_total);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", data_dir);
    return test_done();
}
