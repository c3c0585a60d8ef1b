/*
 * test_queue_kill.c - 10,000 calls through three workers, one of them
 * killed with SIGKILL in the middle of the run: every call is answered with
 * its own output, none is lost, each request entry is answered exactly once
 * (the reply stream holds one reply per entry) although entries the dead
 * worker held run again on the others (at least once), and calls submitted
 * again with the same idempotency keys get the cached results.
 */
#include "queue_test.h"

enum { N = 10000, AGAIN = 300 };

static char msg[1024];
static char ids[N][WASMPLUG_QUEUE_ID_MAX];

static long long redis_int(wps_redis *r, const char *cmd)
{
    redisReply *rep = NULL;
    long long v = -1;
    if (wps_redis_command(r, &rep, msg, sizeof msg, cmd) == WPS_REDIS_OK)
        wps_redis_reply_int(rep, &v);
    freeReplyObject(rep);
    return v;
}

/* How many entries consumer holds (delivered, not acknowledged). */
static long long pending_of(wps_redis *r, const char *consumer)
{
    redisReply *rep = NULL;
    long long n = -1;
    if (wps_redis_command(r, &rep, msg, sizeof msg, "XPENDING calls workers - + 1000 %s",
                          consumer) == WPS_REDIS_OK)
        n = rep->type == REDIS_REPLY_ARRAY ? (long long)rep->elements : 0;
    freeReplyObject(rep);
    return n;
}

int main(void)
{
    queue_test t;
    if (!CHECK(qt_setup(&t, false))) {
        qt_teardown(&t);
        return test_done();
    }
    /* Batches of 16 per thread: the killed worker holds entries when it dies. */
    const char *flags[] = {"--concurrency", "2", "--batch", "16", "--claim-idle", "1s", NULL};
    for (int i = 0; i < 3; i++)
        CHECK(qt_worker_start(&t, i, flags));
    wps_redis *r;
    wasmplug_queue *q;
    CHECK(qt_connect(&t, 3, &r, &q));

    /* From call 2,000 on, SIGKILL worker-1 as soon as it holds entries
     * (delivered to it, not answered yet); the other calls follow. If what
     * it held was answered just before the signal landed, it starts again
     * and the next try follows. */
    int right = 0, next = 0, killed_at = -1, tries = 0;
    long long held = 0, unanswered = 0;
    for (int i = 0; i < N; i++) {
        qt_submit_payload(q, i, true, ids[i]);
        if (killed_at >= 0 || i < 2000 || i > N - 2000 || i % 4)
            continue;
        if (pending_of(r, "worker-1") <= 0)
            continue;
        CHECK_EQ(qt_worker_stop(&t, 1, SIGKILL), 128 + SIGKILL);
        tries++;
        held = pending_of(r, "worker-1"); /* settled: it is dead */
        if (held > 0) {
            killed_at = i + 1;
            unanswered = redis_int(r, "XLEN calls");
        } else {
            CHECK(qt_worker_start(&t, 1, flags));
        }
    }
    CHECK(held > 0 && killed_at < N);
    printf("killed worker-1 (try %d) holding %lld entries, %lld entries unanswered, %d of %d "
           "calls submitted\n", tries, held, unanswered, killed_at, N);
    for (; next < N; next++)
        right += qt_answered(q, next, ids[next], NULL);
    CHECK_EQ(right, N);

    /* Exactly one reply per entry in this client's reply stream. */
    CHECK_EQ(redis_int(r, "XLEN calls"), 0);
    const char *count_keys[] = {"EVAL", "return #redis.call('KEYS', 'calls:idem:*')", "0"};
    long long keys = -1;
    redisReply *rep = NULL;
    if (wps_redis_commandv(r, &rep, msg, sizeof msg, 3, count_keys, NULL) == WPS_REDIS_OK)
        wps_redis_reply_int(rep, &keys);
    freeReplyObject(rep);
    CHECK_EQ(keys, N);
    /* Replies ever added to the client's stream (the client trims what it
     * read, so not its length): one per entry. */
    long long replies = -1;
    if (wps_redis_command(r, &rep, msg, sizeof msg, "KEYS calls:reply:*") == WPS_REDIS_OK &&
        rep->type == REDIS_REPLY_ARRAY && rep->elements == 1) {
        redisReply *info = NULL;
        if (wps_redis_command(r, &info, msg, sizeof msg, "XINFO STREAM %s",
                              rep->element[0]->str) == WPS_REDIS_OK)
            for (size_t i = 0; i + 1 < info->elements; i += 2)
                if (wps_redis_reply_is(info->element[i], "entries-added"))
                    wps_redis_reply_int(info->element[i + 1], &replies);
        freeReplyObject(info);
    }
    freeReplyObject(rep);
    CHECK_EQ(replies, N);

    /* The same jobs submitted again (a client retrying): cached answers. */
    int cached = 0;
    for (int i = 0; i < AGAIN; i++)
        qt_submit_payload(q, i * (N / AGAIN), true, ids[i]);
    for (int i = 0; i < AGAIN; i++) {
        bool c = false;
        CHECK(qt_answered(q, i * (N / AGAIN), ids[i], &c));
        cached += c;
    }
    CHECK_EQ(cached, AGAIN);

    /* The dead worker's consumer is forgotten once it holds nothing and
     * its liveness key expired (3 s with --claim-idle 1s); the others stay. */
    bool forgotten = false;
    for (int k = 0; k < 600 && !forgotten; k++) { /* up to 30 s */
        redisReply *c = NULL;
        if (wps_redis_command(r, &c, msg, sizeof msg, "XINFO CONSUMERS calls workers") ==
                WPS_REDIS_OK &&
            c->type == REDIS_REPLY_ARRAY) {
            bool one = false;
            for (size_t i = 0; i < c->elements; i++)
                for (size_t j = 0; j + 1 < c->element[i]->elements; j += 2)
                    if (wps_redis_reply_is(c->element[i]->element[j], "name") &&
                        wps_redis_reply_is(c->element[i]->element[j + 1], "worker-1"))
                        one = true;
            forgotten = !one && c->elements == 2;
        }
        freeReplyObject(c);
        if (!forgotten)
            redis_test_sleep_ms(50);
    }
    CHECK(forgotten);

    /* The survivors stop cleanly; their counters show the claims. */
    CHECK_EQ(qt_worker_stop(&t, 0, SIGTERM), 0);
    CHECK_EQ(qt_worker_stop(&t, 2, SIGTERM), 0);
    if (held > 0) {
        char grep[800];
        snprintf(grep, sizeof grep,
                 "grep -h 'stopped:' %s/worker-0.log %s/worker-2.log | grep -qv ' 0 claimed'",
                 t.dir, t.dir);
        CHECK(qt_shell(grep));
    }
    if (test_failed_count)
        for (int i = 0; i < 3; i++)
            qt_worker_log(&t, i);
    else
        for (int i = 0; i < 3; i += 2)
            qt_worker_log(&t, i);
    wasmplug_queue_free(q);
    wps_redis_free(r);
    qt_teardown(&t);
    return test_done();
}
