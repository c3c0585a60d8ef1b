/*
 * test_http_plugin.c - wasmplug.http_request from real plugins (tests/http/
 * plugins/http_client.wat: ABI v1 and the compatibility ABI) against a
 * server started here on 127.0.0.1: allowed requests with binary bodies,
 * refusals recorded as denials, a plugin without the grant, the call's
 * timeout and a cancel stopping a slow transfer, and the HTTP metrics.
 */
#include "wasmplug.h"
#include "wasmplug/http.h"
#include "http_test.h"
#include "test.h"

#include <pthread.h>
#include <time.h>

#ifndef WP_HTTP_PLUGINS
#define WP_HTTP_PLUGINS "."
#endif

static test_server server;
static uint8_t *wasm;
static size_t wasm_size;

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A host with the HTTP service and the policy "net*" may reach the test
 * server's port (loopback allowed for 127.0.0.1). */
static wasmplug_host *make_host(wasmplug_http_policy **pol)
{
    wasmplug_host *h = NULL;
    CHECK_STATUS(wasmplug_host_new(NULL, &h), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_http_policy_new(NULL, pol), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_http_policy_allow_address(*pol, "127.0.0.1", "127.0.0.0/8", NULL, 0),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_http_attach(h, *pol, NULL), WASMPLUG_OK);
    char grant[128];
    snprintf(grant, sizeof grant, "http:http://127.0.0.1:%d/*", server.port);
    CHECK_STATUS(wasmplug_host_grant(h, "net*", grant), WASMPLUG_OK);
    return h;
}

/* Load http_client.wat as name, requesting the test server's /echo... paths. */
static wasmplug_status load(wasmplug_host *h, const char *name, uint32_t timeout_ms,
                            wasmplug_plugin **p, wasmplug_plugin_error *err)
{
    char perm[128];
    snprintf(perm, sizeof perm, "http:http://127.0.0.1:%d/*", server.port);
    const char *perms[] = {perm};
    wasmplug_manifest m = {0};
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.manifest = &m;
    opt.init = true;
    opt.limits.timeout_ms = timeout_ms;
    return wasmplug_host_load(h, name, wasm, wasm_size, &opt, p, err);
}

/* Call fetch with the wire request; *ret = the import's return value and
 * the result bytes in out (after the 4-byte return value). */
static wasmplug_status fetch(wasmplug_plugin *p, const char *req, size_t len, int32_t *ret,
                             wasmplug_buf *out, wasmplug_plugin_error *err)
{
    wasmplug_status st = wasmplug_plugin_call(p, "fetch", (const uint8_t *)req, len, out, err);
    *ret = 0;
    if (st == WASMPLUG_OK && out->len >= 4)
        memcpy(ret, out->data, 4);
    return st;
}

static void test_requests(void)
{
    wasmplug_http_policy *pol;
    wasmplug_host *h = make_host(&pol);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(load(h, "net1", WASMPLUG_NO_TIMEOUT, &p, &err), WASMPLUG_OK);
    if (!p)
        return;
    char req[512];
    int32_t ret;
    wasmplug_buf out;

    /* POST with a binary body; the response is longer than the 16 bytes
     * offered, the rest comes through result_read. */
    int n = snprintf(req, sizeof req, "POST http://127.0.0.1:%d/echo\nX-Test: 1\n\n", server.port);
    memcpy(req + n, "\0\1\2\r\n\xff", 6);
    CHECK_STATUS(fetch(p, req, (size_t)n + 6, &ret, &out, &err), WASMPLUG_OK);
    CHECK_EQ(ret, (int32_t)out.len - 4);
    CHECK(out.len > 20 && memcmp(out.data + 4, "200\n", 4) == 0);
    CHECK(out.len >= 10 && memcmp(out.data + out.len - 6, "\0\1\2\r\n\xff", 6) == 0);
    CHECK(memmem(out.data, out.len, "X-Method: POST\n", 15) != NULL);
    wasmplug_buf_free(&out);

    /* The compatibility ABI calls the same import. */
    n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/json\n\n", server.port);
    CHECK_STATUS(wasmplug_plugin_call(p, "plugin_handle_event", (const uint8_t *)req, (size_t)n,
                                      &out, &err),
                 WASMPLUG_OK);
    CHECK(out.len > 4 && memcmp(out.data, "200\n", 4) == 0);
    CHECK(memmem(out.data, out.len, "\"city\": \"Lyon\"", 14) != NULL);
    wasmplug_buf_free(&out);

    /* Refusals: a soft error (-code) with the message as the result, and
     * a denial in the plugin's history. */
    wasmplug_plugin_clear_errors(p);
    n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/echo\n\n", server.port + 1);
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_OK);
    CHECK_EQ(ret, -WASMPLUG_HTTP_URL_NOT_ALLOWED);
    CHECK(memmem(out.data, out.len, "is not allowed for plugin 'net1'", 32) != NULL);
    wasmplug_buf_free(&out);
    wasmplug_plugin_error last;
    CHECK_STATUS(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK);
    CHECK_EQ(last.code, WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(last.message, "URL_NOT_ALLOWED");
    CHECK_CONTAINS(last.function, "http_request");
    char port1[32];
    snprintf(port1, sizeof port1, ":%d/echo", server.port + 1);
    CHECK(strstr(last.message, port1) != NULL);

    n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/echo\nHost: evil\n\n", server.port);
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_OK);
    CHECK_EQ(ret, -WASMPLUG_HTTP_FORBIDDEN_HEADER);
    wasmplug_buf_free(&out);
    n = snprintf(req, sizeof req, "GET http://localhost:%d/echo\n\n", server.port);
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_OK);
    CHECK_EQ(ret, -WASMPLUG_HTTP_URL_NOT_ALLOWED);
    wasmplug_buf_free(&out);
    CHECK_STATUS(fetch(p, "garbage", 7, &ret, &out, &err), WASMPLUG_OK);
    CHECK_EQ(ret, -WASMPLUG_HTTP_BAD_REQUEST);
    wasmplug_buf_free(&out);

    wasmplug_metrics m;
    CHECK_STATUS(wasmplug_plugin_get_metrics(p, &m), WASMPLUG_OK);
    CHECK_EQ(m.denials, 3);
    wasmplug_http_metrics hm;
    CHECK_STATUS(wasmplug_http_plugin_metrics(h, p, &hm), WASMPLUG_OK);
    CHECK_EQ(hm.requests, 5); /* the malformed one never became a request */
    CHECK_EQ(hm.status[2], 2);
    CHECK_EQ(hm.refused, 3);
    CHECK(hm.bytes_received > 0 && hm.bytes_sent >= 6 && hm.total_ns > 0);

    char **grants;
    size_t ngrants;
    CHECK_STATUS(wasmplug_http_plugin_grants(p, &grants, &ngrants), WASMPLUG_OK);
    CHECK_EQ(ngrants, 1);
    CHECK(ngrants == 1 && strncmp(grants[0], "http://127.0.0.1:", 17) == 0);
    wasmplug_free(grants);

    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    wasmplug_http_policy_free(pol);
}

static void test_not_granted(void)
{
    wasmplug_http_policy *pol;
    wasmplug_host *h = make_host(&pol);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    int before = -1;
    /* "other" does not match the policy's "net*": no network at all. */
    CHECK_STATUS(load(h, "other", WASMPLUG_NO_TIMEOUT, &p, &err), WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "wasmplug.http_request");
    CHECK_CONTAINS(err.message, "http:*");
    CHECK(p == NULL);
    /* The server was never asked: its count is what a fresh plugin sees. */
    CHECK_STATUS(load(h, "net2", WASMPLUG_NO_TIMEOUT, &p, &err), WASMPLUG_OK);
    char req[128];
    int n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/count\n\n", server.port);
    int32_t ret;
    wasmplug_buf out;
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_OK);
    const char *body = out.len > 4 ? memmem(out.data + 4, out.len - 4, "\n\n", 2) : NULL;
    if (body)
        before = atoi(body + 2);
    CHECK(before >= 0);
    wasmplug_buf_free(&out);
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_OK);
    body = out.len > 4 ? memmem(out.data + 4, out.len - 4, "\n\n", 2) : NULL;
    CHECK(body && atoi(body + 2) == before + 1);
    wasmplug_buf_free(&out);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    wasmplug_http_policy_free(pol);
}

typedef struct cancel_arg {
    wasmplug_plugin *p;
    wasmplug_status st;
    wasmplug_plugin_error err;
    uint64_t done_at;
} cancel_arg;

static void *slow_call(void *user)
{
    cancel_arg *a = user;
    char req[128];
    int n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/slow\n\n", server.port);
    wasmplug_buf out;
    int32_t ret;
    a->st = fetch(a->p, req, (size_t)n, &ret, &out, &a->err);
    a->done_at = ms_now();
    wasmplug_buf_free(&out);
    return NULL;
}

static void test_timeout_and_cancel(void)
{
    wasmplug_http_policy *pol;
    wasmplug_host *h = make_host(&pol);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(load(h, "net3", 2000, &p, &err), WASMPLUG_OK);
    char req[128];
    int n = snprintf(req, sizeof req, "GET http://127.0.0.1:%d/slow\n\n", server.port);
    int32_t ret;
    wasmplug_buf out;
    /* One byte a second against the plugin's 2 s call timeout (long enough
     * for the transfer to have begun on a loaded machine). */
    uint64_t t0 = ms_now();
    CHECK_STATUS(fetch(p, req, (size_t)n, &ret, &out, &err), WASMPLUG_ERR_TIMEOUT);
    uint64_t took = ms_now() - t0;
    CHECK(took >= 1950 && took < 10000); /* the server needs 20 s */
    CHECK_CONTAINS(err.message, "timed out while the transfer was running");
    wasmplug_buf_free(&out);
    wasmplug_plugin_release(p);

    /* Cancelled mid-transfer from another thread. */
    CHECK_STATUS(load(h, "net4", WASMPLUG_NO_TIMEOUT, &p, &err), WASMPLUG_OK);
    cancel_arg a = {p, WASMPLUG_OK, {0}, 0};
    pthread_t th;
    pthread_create(&th, NULL, slow_call, &a);
    /* Until the transfer runs (up to 30 s), not a fixed time. */
    wasmplug_http_metrics hm = {0};
    for (int i = 0; i < 3000 && hm.in_flight == 0; i++) {
        struct timespec d = {0, 10000000};
        nanosleep(&d, NULL);
        wasmplug_http_plugin_metrics(h, p, &hm);
    }
    CHECK_EQ(hm.in_flight, 1);
    uint64_t cancelled_at = ms_now();
    CHECK_EQ(wasmplug_plugin_cancel(p), 1);
    pthread_join(th, NULL);
    CHECK_EQ(a.st, WASMPLUG_ERR_CANCELLED);
    CHECK(a.done_at - cancelled_at < 10000); /* the server needs 20 s */
    CHECK_CONTAINS(a.err.message, "cancelled while the transfer was running");
    CHECK_STATUS(wasmplug_http_plugin_metrics(h, p, &hm), WASMPLUG_OK);
    CHECK_EQ(hm.failed, 1);
    CHECK_EQ(hm.in_flight, 0);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    wasmplug_http_policy_free(pol);
}

int main(void)
{
    wasm = test_read_file(WP_HTTP_PLUGINS "/http_client.wasm", &wasm_size);
    if (!wasm || !test_server_start(&server, NULL, NULL)) {
        printf("FAIL: no test plugin or no test server\n");
        return 1;
    }
    test_requests();
    test_not_granted();
    test_timeout_and_cancel();
    test_server_stop(&server);
    free(wasm);
    return test_done();
}
