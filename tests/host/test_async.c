/*
 * test_async.c - asynchronous calls (wasmplug_plugin_call_async): results
 * through handles (wait, poll) and callbacks, a wait that times out while
 * the call goes on, cancelling a queued call and one running call among
 * others, start order with one worker, and freeing the host with calls
 * running and queued (all complete as cancelled, callbacks run, handles
 * stay readable).
 */
#include "host_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *wasm;
static size_t wasm_size;

static wasmplug_plugin *load(wasmplug_host *h, const char *name, uint32_t pool)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.pool_size = pool;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(h, name, wasm, wasm_size, &o, &p, &err), WASMPLUG_OK, &err);
    return p;
}

/* Wait until n calls of p are running (30 s at most). */
static void wait_running(wasmplug_plugin *p, uint32_t n)
{
    for (int i = 0; i < 30000; i++) {
        wasmplug_plugin_info info;
        if (wasmplug_plugin_get_info(p, &info) == WASMPLUG_OK && info.running >= n)
            return;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    CHECK(!"the calls did not start");
}

static void test_wait_and_poll(wasmplug_host *h)
{
    wasmplug_plugin *p = load(h, "basic", 1);
    if (!p)
        return;
    wasmplug_async *a = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "echo", (const uint8_t *)"hello", 5, NULL, NULL, &a),
             WASMPLUG_OK);
    wasmplug_buf out;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_async_wait(a, WASMPLUG_WAIT_FOREVER, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 5 && memcmp(out.data, "hello", 5) == 0);
    wasmplug_buf_free(&out);
    CHECK(wasmplug_async_poll(a));
    CHECK(!wasmplug_async_cancel(a)); /* already complete */
    /* The output goes to the first wait that takes it. */
    CHECK_CODE(wasmplug_async_wait(a, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK_EQ(out.len, 0);
    wasmplug_async_free(a);

    /* A missing export: the call's error comes through the handle. */
    CHECK_EQ(wasmplug_plugin_call_async(p, "nope", NULL, 0, NULL, NULL, &a), WASMPLUG_OK);
    CHECK_CODE(wasmplug_async_wait(a, WASMPLUG_WAIT_FOREVER, NULL, &err), WASMPLUG_ERR_NOT_FOUND,
               &err);
    CHECK_CONTAINS(err.message, "nope");
    wasmplug_async_free(a);
    CHECK_EQ(wasmplug_plugin_call_async(p, "echo", NULL, 0, NULL, NULL, NULL),
             WASMPLUG_ERR_ARGUMENT); /* neither handle nor callback */
    CHECK_EQ(wasmplug_host_set_async_workers(h, 2), WASMPLUG_ERR_PLUGIN_STATE); /* started */
    wasmplug_plugin_release(p);
}

static void test_timeout_and_cancel(wasmplug_host *h)
{
    wasmplug_plugin *p = load(h, "cancel", 2);
    if (!p)
        return;
    wasmplug_async *x = NULL, *y = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "forever", NULL, 0, NULL, NULL, &x), WASMPLUG_OK);
    CHECK_EQ(wasmplug_plugin_call_async(p, "forever", NULL, 0, NULL, NULL, &y), WASMPLUG_OK);
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_async_wait(x, 30, NULL, &err), WASMPLUG_ERR_TIMEOUT, &err);
    CHECK_CONTAINS(err.message, "did not complete within 30 ms");
    CHECK(!wasmplug_async_poll(x));
    wait_running(p, 2);
    /* Cancelling x stops x only. */
    CHECK(wasmplug_async_cancel(x));
    CHECK_CODE(wasmplug_async_wait(x, WASMPLUG_WAIT_FOREVER, NULL, &err), WASMPLUG_ERR_CANCELLED,
               &err);
    CHECK_CODE(wasmplug_async_wait(y, 30, NULL, &err), WASMPLUG_ERR_TIMEOUT, &err);
    CHECK(wasmplug_async_cancel(y));
    CHECK_CODE(wasmplug_async_wait(y, WASMPLUG_WAIT_FOREVER, NULL, &err), WASMPLUG_ERR_CANCELLED,
               &err);
    wasmplug_async_free(x);
    wasmplug_async_free(y);
    /* The plugin still serves calls. */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "echo", (const uint8_t *)"ok", 2, &out, &err), WASMPLUG_OK,
               &err);
    wasmplug_buf_free(&out);
    wasmplug_plugin_release(p);
}

/* ---- one worker: queued calls, order ---- */

typedef struct order_log {
    pthread_mutex_t lock;
    int seen[16];
    int count;
    int cancelled;
} order_log;

static void log_done(void *user, wasmplug_async *call, wasmplug_status st,
                     const wasmplug_buf *out, const wasmplug_plugin_error *err)
{
    (void)call;
    (void)err;
    order_log *log = user;
    pthread_mutex_lock(&log->lock);
    if (st == WASMPLUG_OK && out && out->len == 1 && log->count < 16)
        log->seen[log->count++] = out->data[0];
    else if (st == WASMPLUG_ERR_CANCELLED)
        log->cancelled++;
    pthread_mutex_unlock(&log->lock);
}

static void test_one_worker(void)
{
    wasmplug_host *h = host_test_new(NULL);
    CHECK_EQ(wasmplug_host_set_async_workers(h, 0), WASMPLUG_ERR_ARGUMENT);
    CHECK_EQ(wasmplug_host_set_async_workers(h, 1), WASMPLUG_OK);
    wasmplug_plugin *p = load(h, "one", 1);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    order_log log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
    /* The worker is busy with `forever`; then a queued call is cancelled. */
    wasmplug_async *busy = NULL, *queued = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "forever", NULL, 0, NULL, NULL, &busy), WASMPLUG_OK);
    CHECK_EQ(wasmplug_plugin_call_async(p, "echo", (const uint8_t *)"q", 1, log_done, &log,
                                        &queued),
             WASMPLUG_OK);
    for (int i = 0; i < 10; i++) {
        uint8_t c = (uint8_t)('0' + i);
        CHECK_EQ(wasmplug_plugin_call_async(p, "echo", &c, 1, log_done, &log, NULL), WASMPLUG_OK);
    }
    wait_running(p, 1);
    CHECK(wasmplug_async_cancel(queued));
    CHECK(wasmplug_async_cancel(busy));
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_async_wait(queued, WASMPLUG_WAIT_FOREVER, NULL, &err),
               WASMPLUG_ERR_CANCELLED, &err);
    CHECK_CONTAINS(err.message, "before it started");
    CHECK_CODE(wasmplug_async_wait(busy, WASMPLUG_WAIT_FOREVER, NULL, &err),
               WASMPLUG_ERR_CANCELLED, &err);
    /* The ten echo calls ran after those, in the order they were queued. */
    wasmplug_async *last = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "echo", NULL, 0, NULL, NULL, &last), WASMPLUG_OK);
    CHECK_EQ(wasmplug_async_wait(last, WASMPLUG_WAIT_FOREVER, NULL, &err), WASMPLUG_OK);
    pthread_mutex_lock(&log.lock);
    CHECK_EQ(log.count, 10);
    CHECK_EQ(log.cancelled, 1);
    for (int i = 0; i < log.count; i++)
        CHECK_EQ(log.seen[i], '0' + i);
    pthread_mutex_unlock(&log.lock);
    wasmplug_async_free(busy);
    wasmplug_async_free(queued);
    wasmplug_async_free(last);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

/* Freeing the host with one call running and others queued. */
static void test_shutdown(void)
{
    wasmplug_host *h = host_test_new(NULL);
    CHECK_EQ(wasmplug_host_set_async_workers(h, 1), WASMPLUG_OK);
    wasmplug_plugin *p = load(h, "shutdown", 1);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    order_log log = {PTHREAD_MUTEX_INITIALIZER, {0}, 0, 0};
    wasmplug_async *running = NULL, *queued = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "forever", NULL, 0, log_done, &log, &running),
             WASMPLUG_OK);
    CHECK_EQ(wasmplug_plugin_call_async(p, "echo", (const uint8_t *)"x", 1, log_done, &log,
                                        &queued),
             WASMPLUG_OK);
    for (int i = 0; i < 3; i++)
        CHECK_EQ(wasmplug_plugin_call_async(p, "echo", (const uint8_t *)"y", 1, log_done, &log,
                                            NULL),
                 WASMPLUG_OK);
    wait_running(p, 1);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    /* Every call completed, as cancelled; the handles are still readable. */
    CHECK_EQ(log.cancelled, 5);
    CHECK_EQ(log.count, 0);
    CHECK(wasmplug_async_poll(running));
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_async_wait(running, 0, NULL, &err), WASMPLUG_ERR_CANCELLED, &err);
    CHECK_CODE(wasmplug_async_wait(queued, 0, NULL, &err), WASMPLUG_ERR_CANCELLED, &err);
    CHECK_CONTAINS(err.message, "host was freed");
    wasmplug_async_free(running);
    wasmplug_async_free(queued);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasm = host_test_plugin("async", &wasm_size);
    if (wasm) {
        wasmplug_host *h = host_test_new(NULL);
        test_wait_and_poll(h);
        test_timeout_and_cancel(h);
        wasmplug_host_free(h);
        test_one_worker();
        test_shutdown();
    }
    free(wasm);
    return test_done();
}
