/*
 * test_queue_poison.c - entries that cannot be answered end in the
 * dead-letter stream: a call of a plugin no worker has (left unanswered on
 * each delivery, claimed again after the idle time, dead-lettered after
 * --max-deliveries with the last failure), and malformed entries (at once);
 * the callers get status ERR_LIMIT with the reason, the worker goes on.
 */
#include "queue_test.h"

static char msg[1024];

int main(void)
{
    queue_test t;
    if (!CHECK(qt_setup(&t, false))) {
        qt_teardown(&t);
        return test_done();
    }
    const char *flags[] = {"--max-deliveries", "3", "--claim-idle", "200ms", NULL};
    CHECK(qt_worker_start(&t, 0, flags));
    wps_redis *r;
    wasmplug_queue *q;
    CHECK(qt_connect(&t, 1, &r, &q));

    wasmplug_queue_call c = qt_call("echo", NULL);
    c.plugin = "ghost";
    wasmplug_queue_result res;
    CHECK_STATUS(wasmplug_queue_run(q, &c, 20000, &res, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(res.status, WASMPLUG_ERR_LIMIT);
    CHECK_CONTAINS(res.error, "moved to the dead-letter stream calls:dead");
    CHECK_CONTAINS(res.error, "delivered 4 times without an answer (max_deliveries 3)");
    CHECK_CONTAINS(res.error, "last failure:");
    CHECK_CONTAINS(res.error, "ghost");
    CHECK_EQ(res.deliveries, 4);
    wasmplug_queue_result_free(&res);

    /* Malformed entries: no function (with a reply stream to tell), and
     * garbage without one. */
    redisReply *rep = NULL;
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg,
                               "XADD calls * v 1 id x-1 plugin echo-plugin input abc "
                               "reply calls:reply:manual idem k"),
             WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "XADD calls * junk 1"), WPS_REDIS_OK);
    /* The good call after them is still served. */
    c = qt_call("echo", "fine");
    CHECK_STATUS(wasmplug_queue_run(q, &c, 20000, &res, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(res.status, WASMPLUG_OK);
    wasmplug_queue_result_free(&res);

    long long n = -1;
    for (int k = 0; k < 3000 && n < 3; k++) { /* up to 30 s */
        if (wps_redis_command(r, &rep, msg, sizeof msg, "XLEN calls:dead") == WPS_REDIS_OK)
            wps_redis_reply_int(rep, &n);
        freeReplyObject(rep);
        redis_test_sleep_ms(10);
    }
    CHECK_EQ(n, 3);
    /* Each dead letter keeps the request and says why. */
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "XRANGE calls:dead - +"),
             WPS_REDIS_OK);
    if (CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3)) {
        const redisReply *reason = wps_queue_field(rep->element[1]->element[1], "reason");
        CHECK(reason && strstr(reason->str, "no 'function' field"));
        CHECK(wps_queue_field(rep->element[1]->element[1], "input") != NULL);
        reason = wps_queue_field(rep->element[2]->element[1], "reason");
        CHECK(reason && strstr(reason->str, "malformed request"));
    }
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "XRANGE calls:reply:manual - +"),
             WPS_REDIS_OK);
    if (CHECK(rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 1)) {
        const redisReply *f = rep->element[0]->element[1];
        CHECK(wps_redis_reply_is(wps_queue_field(f, "status"), "ERR_LIMIT"));
        CHECK(wps_redis_reply_is(wps_queue_field(f, "id"), "x-1"));
    }
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "XLEN calls"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &n) && n == 0);
    freeReplyObject(rep);

    CHECK_EQ(qt_worker_stop(&t, 0, SIGTERM), 0);
    char grep[800];
    snprintf(grep, sizeof grep, "grep -q 'stopped: .* 3 dead-lettered' %s/worker-0.log", t.dir);
    CHECK(qt_shell(grep));
    if (test_failed_count)
        qt_worker_log(&t, 0);
    wasmplug_queue_free(q);
    wps_redis_free(r);
    qt_teardown(&t);
    return test_done();
}
