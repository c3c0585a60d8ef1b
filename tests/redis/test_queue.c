/*
 * test_queue.c - plugin calls through Redis with three `wasmplug worker`
 * processes: outputs and failures answered to the caller, per-call limits,
 * idempotency keys, calls spread over the workers, /metrics, a graceful
 * stop (SIGTERM) with every call in hand answered, and the API's errors.
 */
#include "queue_test.h"

static char msg[1024];

static bool call(wasmplug_queue *q, const char *function, const char *input, const char *key,
                 uint32_t timeout_ms, wasmplug_queue_result *res)
{
    wasmplug_queue_call c = qt_call(function, input);
    c.idempotency_key = key;
    c.timeout_ms = timeout_ms;
    wasmplug_status st = wasmplug_queue_run(q, &c, 20000, res, msg, sizeof msg);
    if (st != WASMPLUG_OK)
        printf("     run %s: %s\n", function, msg);
    return st == WASMPLUG_OK;
}

/* Run a shell command; its stdout into out, its exit status returned. */
static int cli_output(const char *cmd, char *out, size_t size)
{
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, size - 1, p) : 0;
    out[n] = '\0';
    int st = p ? pclose(p) : -1;
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* SIGHUP to workers 0-2, then wait (30 s at most) until each has logged
 * its sync number n ("store synced: ..."). */
static bool sync_workers(queue_test *t, int n)
{
    for (int i = 0; i < 3; i++)
        kill(t->workers[i], SIGHUP);
    char sh[2048];
    snprintf(sh, sizeof sh,
             "for i in $(seq 600); do synced=0; for f in %s/worker-[012].log; do "
             "[ $(grep -c 'store synced:' $f) -ge %d ] && synced=$((synced + 1)); done; "
             "[ $synced = 3 ] && exit 0; sleep 0.05; done; exit 1", t->dir, n);
    return qt_shell(sh);
}

int main(void)
{
    queue_test t;
    if (!CHECK(qt_setup(&t, false))) {
        qt_teardown(&t);
        return test_done();
    }
    char mport[16];
    int metrics_port = qt_metrics_port(mport, sizeof mport);
    const char *first[] = {"--concurrency", "2", "--metrics", mport, NULL};
    const char *others[] = {"--concurrency", "2", NULL};
    CHECK(qt_worker_start(&t, 0, first));
    CHECK(qt_worker_start(&t, 1, others));
    CHECK(qt_worker_start(&t, 2, others));
    wps_redis *r;
    wasmplug_queue *q;
    CHECK(qt_connect(&t, 3, &r, &q));

    wasmplug_queue_result res;

    /* Outputs, and failures as answers with the plugin's message. */
    if (CHECK(call(q, "echo", "hello", NULL, 0, &res))) {
        CHECK_STATUS(res.status, WASMPLUG_OK);
        CHECK(res.output.len == 5 && !memcmp(res.output.data, "hello", 5));
        CHECK_EQ(res.deliveries, 1);
        CHECK(!res.cached);
        CHECK(!strncmp(res.worker, "worker-", 7));
    }
    wasmplug_queue_result_free(&res);
    if (CHECK(call(q, "fail", "", NULL, 0, &res))) {
        CHECK_STATUS(res.status, WASMPLUG_ERR_PLUGIN);
        CHECK_CONTAINS(res.error, "something went wrong");
        CHECK_EQ(res.output.len, 0);
    }
    wasmplug_queue_result_free(&res);
    if (CHECK(call(q, "trap", "", NULL, 0, &res))) {
        CHECK_STATUS(res.status, WASMPLUG_ERR_TRAP);
        CHECK_CONTAINS(res.error, "unreachable");
    }
    wasmplug_queue_result_free(&res);
    if (CHECK(call(q, "nope", "", NULL, 0, &res))) {
        CHECK_STATUS(res.status, WASMPLUG_ERR_NOT_FOUND);
        CHECK_CONTAINS(res.error, "nope");
    }
    wasmplug_queue_result_free(&res);
    /* The request's limit: spin stops after 200 ms, not the manifest's 5 s. */
    if (CHECK(call(q, "spin", "", NULL, 200, &res))) {
        CHECK_STATUS(res.status, WASMPLUG_ERR_TIMEOUT);
        CHECK_CONTAINS(res.error, "200");
    }
    wasmplug_queue_result_free(&res);

    /* Idempotency: the second call with the key gets the first's result. */
    if (CHECK(call(q, "echo", "first", "order-17", 0, &res)))
        CHECK(!res.cached && res.output.len == 5 && !memcmp(res.output.data, "first", 5));
    wasmplug_queue_result_free(&res);
    if (CHECK(call(q, "echo", "second", "order-17", 0, &res)))
        CHECK(res.cached && res.output.len == 5 && !memcmp(res.output.data, "first", 5));
    wasmplug_queue_result_free(&res);

    /* A new version installed, SIGHUP: the workers reload it (hot) and
     * answer calls for ID@VERSION with it. A worker loads a plugin on its
     * first call: one that took none of the calls above (a loaded machine
     * may start it late) loads the new version instead of reloading. Each
     * is in the group, so past blocking its signals, before the SIGHUP. */
    CHECK(qt_wait_consumers(&t, r, 3));
    char sh[4096];
    snprintf(sh, sizeof sh,
             "mkdir -p %s/echo13 && sed 's/^version: 1.2.0/version: 1.3.0/' %s/echo/plugin.yaml "
             "> %s/echo13/plugin.yaml && cp %s/echo/echo.wasm %s/echo13/ && "
             "%s --store %s/store install %s/echo13 --yes >/dev/null",
             t.dir, t.dir, t.dir, t.dir, t.dir, WP_CLI, t.dir, t.dir);
    CHECK(qt_shell(sh));
    for (int i = 0; i < 3; i++)
        kill(t.workers[i], SIGHUP);
    snprintf(sh, sizeof sh, "for i in $(seq 600); do [ $(cat %s/worker-[012].log | grep -cE "
             "'store synced: (0 loaded, 1 reloaded|1 loaded, 0 reloaded)') = 3 ] && exit 0; "
             "sleep 0.05; done; exit 1",
             t.dir);
    CHECK(qt_shell(sh));
    /* Then a plugin whose error message holds an escape sequence and a
     * newline (tests/cli/plugins/hostile_node.wat), for `wasmplug submit`
     * below. */
    snprintf(sh, sizeof sh,
             "mkdir -p %s/hostile && cp %s/hostile_node.wasm %s/hostile/ && printf "
             "'id: hostile-node\\nversion: 1.0.0\\nmodule: hostile_node.wasm\\nexports: [fail]\\n' "
             ">%s/hostile/plugin.yaml && %s --store %s/store install %s/hostile --yes >/dev/null",
             t.dir, WP_ECHO_DIR, t.dir, t.dir, WP_CLI, t.dir, t.dir);
    CHECK(qt_shell(sh));
    CHECK(sync_workers(&t, 2));
    wasmplug_queue_call v13 = qt_call("echo", "new");
    v13.plugin = "echo-plugin@1.3.0";
    for (int i = 0; i < 6; i++) { /* whichever worker takes it */
        CHECK_STATUS(wasmplug_queue_run(q, &v13, 20000, &res, msg, sizeof msg), WASMPLUG_OK);
        CHECK_STATUS(res.status, WASMPLUG_OK);
        CHECK(res.output.len == 3 && !memcmp(res.output.data, "new", 3));
        wasmplug_queue_result_free(&res);
    }

    /* 600 calls submitted at once, answered in any order, spread over the
     * three workers. */
    enum { N = 600 };
    static char ids[N][WASMPLUG_QUEUE_ID_MAX];
    bool seen[3] = {false, false, false};
    int right = 0;
    for (int i = 0; i < N; i++) {
        char in[32];
        snprintf(in, sizeof in, "call %d", i);
        wasmplug_queue_call c = qt_call("echo", in);
        if (wasmplug_queue_submit(q, &c, ids[i], msg, sizeof msg) != WASMPLUG_OK)
            printf("     submit %d: %s\n", i, msg);
    }
    for (int i = N - 1; i >= 0; i--) {
        char in[32];
        snprintf(in, sizeof in, "call %d", i);
        if (wasmplug_queue_wait(q, ids[i], 20000, &res, msg, sizeof msg) == WASMPLUG_OK &&
            res.status == WASMPLUG_OK && res.output.len == strlen(in) &&
            !memcmp(res.output.data, in, res.output.len))
            right++;
        int w = res.worker[0] ? atoi(res.worker + 7) : -1;
        if (w >= 0 && w < 3)
            seen[w] = true;
        wasmplug_queue_result_free(&res);
    }
    CHECK_EQ(right, N);
    /* Every worker takes calls from the shared stream. Which ones it takes
     * is up to the scheduler: one a loaded machine held back may have
     * missed all 600, so more calls, one at a time, until each answered
     * one (30 s at most). */
    int extra = 0;
    for (uint64_t end = test_now_ms() + 30000;
         !(seen[0] && seen[1] && seen[2]) && test_now_ms() < end; extra++) {
        wasmplug_queue_call c = qt_call("echo", "more");
        if (wasmplug_queue_run(q, &c, 20000, &res, msg, sizeof msg) == WASMPLUG_OK) {
            int w = res.worker[0] ? atoi(res.worker + 7) : -1;
            if (w >= 0 && w < 3)
                seen[w] = true;
        }
        wasmplug_queue_result_free(&res);
    }
    if (extra)
        printf("note: %d more calls until every worker had answered one\n", extra);
    CHECK(seen[0] && seen[1] && seen[2]);
    /* The client trims the replies it read from its stream. */
    redisReply *keys = NULL;
    if (CHECK(wps_redis_command(r, &keys, msg, sizeof msg, "KEYS calls:reply:*") ==
                  WPS_REDIS_OK && keys->type == REDIS_REPLY_ARRAY && keys->elements == 1)) {
        redisReply *len = NULL;
        long long n = -1;
        if (wps_redis_command(r, &len, msg, sizeof msg, "XLEN %s", keys->element[0]->str) ==
            WPS_REDIS_OK)
            wps_redis_reply_int(len, &n);
        freeReplyObject(len);
        CHECK(n >= 0 && n < 300);
    }
    freeReplyObject(keys);
    /* Each call is answered once, and a returned call is not waited again. */
    CHECK_STATUS(wasmplug_queue_wait(q, ids[0], 10, &res, msg, sizeof msg),
                 WASMPLUG_ERR_NOT_FOUND);
    CHECK_STATUS(wasmplug_queue_wait(q, "someone-else-1", 10, &res, msg, sizeof msg),
                 WASMPLUG_ERR_NOT_FOUND);

    /* Nobody answers a call to a stream without workers: a timeout. */
    wasmplug_queue *lonely;
    CHECK_STATUS(wasmplug_queue_open(t.url, "nobody-home", NULL, &lonely, msg, sizeof msg),
                 WASMPLUG_OK);
    wasmplug_queue_call c = qt_call("echo", NULL);
    CHECK_STATUS(wasmplug_queue_run(lonely, &c, 300, &res, msg, sizeof msg),
                 WASMPLUG_ERR_TIMEOUT);
    CHECK_CONTAINS(msg, "no answer to call");
    c.function = NULL;
    char id[WASMPLUG_QUEUE_ID_MAX];
    CHECK_STATUS(wasmplug_queue_submit(lonely, &c, id, msg, sizeof msg), WASMPLUG_ERR_ARGUMENT);
    wasmplug_queue_free(lonely);
    CHECK_STATUS(wasmplug_queue_open("http://x", "calls", NULL, &lonely, msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_queue_open(t.url, "has space", NULL, &lonely, msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);

    /* The command line: wasmplug submit (through the static command's
     * forwarding when it is static), its exit codes and --json. */
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "%s --json submit --redis %s --stream calls echo-plugin echo "
             "'hi there' --idempotency-key cli-1", WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 0);
    CHECK_CONTAINS(out, "\"output\": \"hi there\"");
    CHECK_CONTAINS(out, "\"cached\": false");
    CHECK_EQ(cli_output(cmd, out, sizeof out), 0);
    CHECK_CONTAINS(out, "\"cached\": true");
    snprintf(cmd, sizeof cmd, "%s submit --redis %s --stream calls echo-plugin echo plain",
             WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 0);
    CHECK(!strcmp(out, "plain"));
    snprintf(cmd, sizeof cmd, "%s submit --redis %s --stream calls echo-plugin trap 2>&1",
             WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 1);
    CHECK_CONTAINS(out, "ERR_TRAP");
    /* The plugin's message on one line, escaped: it forges no line. */
    snprintf(cmd, sizeof cmd, "%s submit --redis %s --stream calls hostile-node fail 2>&1",
             WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 1);
    CHECK_CONTAINS(out, "fail returned 1: bad\\e]0;pwned\\x07\\n[fake] line");
    CHECK(!strstr(out, "\n[fake]"));
    /* --json: the worker's error object, as a local call's. */
    snprintf(cmd, sizeof cmd, "%s --json submit --redis %s --stream calls echo-plugin trap",
             WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 1);
    CHECK_CONTAINS(out, "\"kind\": \"ERR_TRAP\"");
    CHECK_CONTAINS(out, "\"trap\": \"unreachable\"");
    CHECK_CONTAINS(out, "\"function\": \"trap\"");
    CHECK_CONTAINS(out, "\"backtrace\": [");
    CHECK_CONTAINS(out, "\"exit_code\": 1");
    snprintf(cmd, sizeof cmd, "%s submit --redis %s --stream calls echo-plugin spin "
             "--call-timeout 100ms 2>&1", WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 6);
    snprintf(cmd, sizeof cmd, "%s submit --redis %s --stream nobody echo-plugin echo "
             "--timeout 200ms 2>&1", WP_CLI, t.url);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 6);
    CHECK_CONTAINS(out, "no answer to call");
    /* Redis unreachable: said once, and --timeout bounds the reconnecting
     * too (it took the default 30 s whatever --timeout said; 20 s is far
     * above 1 s on any load). A port just free: nothing listens there. */
    int closed = redis_test_free_port();
    snprintf(cmd, sizeof cmd, "%s submit --redis redis://127.0.0.1:%d --stream s p f "
             "--timeout 1s 2>&1", WP_CLI, closed);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 7);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    CHECK_CONTAINS(out, "cannot connect: Connection refused");
    CHECK(!strstr(out, "(after: "));
    CHECK(t1.tv_sec - t0.tv_sec < 20);
    /* A worker whose Redis does not answer says so, then waits for it. */
    snprintf(sh, sizeof sh,
             "%s --store %s/store worker --redis redis://127.0.0.1:%d --stream s --group g "
             "2>%s/unreachable.log & p=$!; for i in $(seq 200); do grep -q 'waiting for it' "
             "%s/unreachable.log && break; sleep 0.1; done; kill $p; wait $p; "
             "grep -q 'cannot connect: Connection refused; waiting for it' %s/unreachable.log",
             WP_CLI, t.dir, closed, t.dir, t.dir, t.dir);
    if (!CHECK(qt_shell(sh))) {
        snprintf(sh, sizeof sh, "sed 's/^/     /' %s/unreachable.log", t.dir);
        (void)!system(sh);
    }
    snprintf(cmd, sizeof cmd, "%s submit --redis rediss://h --stream s p f 2>&1", WP_CLI);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 2);
    CHECK_CONTAINS(out, "TLS is not supported");
    snprintf(cmd, sizeof cmd, "%s worker --stream s --group g 2>&1", WP_CLI);
    CHECK_EQ(cli_output(cmd, out, sizeof out), 2);
    CHECK_CONTAINS(out, "usage: wasmplug worker");

    /* The first worker's counters. */
    char text[8192];
    if (CHECK(qt_metrics(metrics_port, text, sizeof text))) {
        CHECK_CONTAINS(text, "# TYPE wasmplug_worker_processed_total counter");
        CHECK_CONTAINS(text, "consumer=\"worker-0\"");
        long long processed = qt_metric(text, "wasmplug_worker_processed_total{");
        CHECK(processed > 0 && processed <= N + 7 + extra);
        CHECK(qt_metric(text, "wasmplug_worker_in_flight{") >= 0);
        CHECK(qt_metric(text, "wasmplug_worker_lag{") >= 0);
        /* Its plugins' metrics too (the server library's writer). */
        CHECK(qt_metric(text, "wasmplug_plugin_calls_total{plugin=\"echo-plugin\"") > 0);
    }

    /* Graceful stop with calls in hand: submitted, then SIGTERM at once;
     * every call is answered (by the stopping workers or the last one). */
    const char *last[] = {"--concurrency", "2", "--claim-idle", "500ms", NULL};
    CHECK(qt_worker_start(&t, 3, last));
    CHECK(qt_wait_consumers(&t, r, 4));
    for (int i = 0; i < 200; i++) {
        wasmplug_queue_call s = qt_call("echo", "x");
        wasmplug_queue_submit(q, &s, ids[i], msg, sizeof msg);
    }
    for (int i = 0; i < 3; i++)
        CHECK_EQ(qt_worker_stop(&t, i, SIGTERM), 0);
    right = 0;
    for (int i = 0; i < 200; i++) {
        if (wasmplug_queue_wait(q, ids[i], 20000, &res, msg, sizeof msg) == WASMPLUG_OK &&
            res.status == WASMPLUG_OK)
            right++;
        wasmplug_queue_result_free(&res);
    }
    CHECK_EQ(right, 200);
    /* Nothing left pending or in the stream. */
    redisReply *rep;
    long long v = -1;
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "XLEN calls"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 0);
    freeReplyObject(rep);
    CHECK_EQ(qt_worker_stop(&t, 3, SIGTERM), 0);
    if (test_failed_count)
        for (int i = 0; i < 4; i++)
            qt_worker_log(&t, i);
    wasmplug_queue_free(q);
    wps_redis_free(r);
    qt_teardown(&t);
    return test_done();
}
