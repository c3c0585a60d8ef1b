/*
 * test_queue_restart.c - Redis restarted in the middle of a run: two
 * workers and the client lose their connections, reconnect with backoff
 * when Redis is back (with its data: appendonly) and finish; every call is
 * answered once, and the workers count their reconnects on /metrics.
 */
#include "queue_test.h"

enum { N = 3000 };

static char ids[N][WASMPLUG_QUEUE_ID_MAX];

int main(void)
{
    queue_test t;
    if (!CHECK(qt_setup(&t, true))) {
        qt_teardown(&t);
        return test_done();
    }
    char mport[16];
    int port = qt_metrics_port(mport, sizeof mport);
    const char *first[] = {"--concurrency", "2", "--claim-idle", "1s", "--metrics", mport, NULL};
    const char *second[] = {"--concurrency", "2", "--claim-idle", "1s", NULL};
    CHECK(qt_worker_start(&t, 0, first));
    CHECK(qt_worker_start(&t, 1, second));
    wps_redis *r;
    wasmplug_queue *q;
    CHECK(qt_connect(&t, 2, &r, &q));

    int submitted = 0, right = 0;
    for (int i = 0; i < N; i++) {
        if (i == N / 2) {
            /* Away for 1.5 s, back with its data on the same port. */
            redis_test_halt(&t.redis, false);
            redis_test_sleep_ms(1500);
            CHECK(redis_test_start(&t.redis));
        }
        submitted += qt_submit_payload(q, i, false, ids[i]);
    }
    CHECK_EQ(submitted, N);
    for (int i = 0; i < N; i++)
        right += qt_answered(q, i, ids[i], NULL);
    CHECK_EQ(right, N);

    /* The other worker may have answered the rest while this one still
     * waits out its backoff (up to 2 s): wait for its reconnect, bounded. */
    char text[8192];
    long long reconnects = -1;
    for (int waited = 0; waited < 10000 && reconnects < 1; waited += 50) {
        if (!qt_metrics(port, text, sizeof text))
            break;
        reconnects = qt_metric(text, "wasmplug_worker_reconnects_total{");
        if (reconnects < 1)
            redis_test_sleep_ms(50);
    }
    CHECK(reconnects >= 1);
    /* Both log their reconnect (worker-1 may also still be backing off). */
    char grep[800];
    snprintf(grep, sizeof grep,
             "for i in $(seq 200); do grep -q 'reconnected to redis' %s/worker-1.log && exit 0; "
             "sleep 0.05; done; exit 1", t.dir);
    CHECK(qt_shell(grep));
    CHECK_EQ(qt_worker_stop(&t, 0, SIGTERM), 0);
    CHECK_EQ(qt_worker_stop(&t, 1, SIGTERM), 0);
    for (int i = 0; i < 2; i++) {
        snprintf(grep, sizeof grep, "grep -q 'reconnected to redis' %s/worker-%d.log", t.dir, i);
        CHECK(qt_shell(grep));
    }
    if (test_failed_count)
        for (int i = 0; i < 2; i++)
            qt_worker_log(&t, i);
    wasmplug_queue_free(q);
    wps_redis_free(r);
    qt_teardown(&t);
    return test_done();
}
