/*
 * test_lifecycle.c - the embedder's lifecycle hooks (on_load, on_ready,
 * before_dispose: when they run, for which plugin, how often, and that
 * on_ready and before_dispose may call the plugin) and the error boundary
 * (a fixed fallback output, a handler that answers or declines, counting in
 * metrics, the failure still in the history, typed calls untouched, async
 * calls answered too).
 */
#include "host_test.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *wasm_a, *wasm_b, *wasm_flaky;
static size_t size_a, size_b, size_flaky;

static char events[256];
static char ready_answer;

static void note(const char *what, wasmplug_plugin *p)
{
    char line[64];
    snprintf(line, sizeof line, "%s:%s ", what, wasmplug_plugin_name(p));
    strncat(events, line, sizeof events - strlen(events) - 1);
}

static void on_load(void *user, wasmplug_plugin *p)
{
    CHECK_EQ(*(int *)user, 7);
    note("load", p);
}

static void on_ready(void *user, wasmplug_plugin *p)
{
    (void)user;
    note("ready", p);
    wasmplug_buf out;
    if (wasmplug_plugin_call(p, "who", NULL, 0, &out, NULL) == WASMPLUG_OK && out.len == 1)
        ready_answer = (char)out.data[0];
    wasmplug_buf_free(&out);
}

static void before_dispose(void *user, wasmplug_plugin *p)
{
    (void)user;
    note("dispose", p);
}

static wasmplug_plugin *load(wasmplug_host *h, const char *name, const uint8_t *w, size_t n)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(h, name, w, n, &o, &p, &err), WASMPLUG_OK, &err);
    return p;
}

static void test_hooks(wasmplug_host *h)
{
    int seven = 7;
    wasmplug_lifecycle l = {on_load, on_ready, before_dispose, &seven};
    CHECK_EQ(wasmplug_host_set_lifecycle(h, &l), WASMPLUG_OK);
    wasmplug_plugin *p = load(h, "hooks", wasm_a, size_a);
    if (!p)
        return;
    CHECK(strcmp(events, "load:hooks ready:hooks ") == 0);
    CHECK_EQ(ready_answer, 'A');
    /* A reload makes the plugin ready again (its new version answers). */
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_b, size_b, NULL, &err), WASMPLUG_OK, &err);
    CHECK(strcmp(events, "load:hooks ready:hooks ready:hooks ") == 0);
    CHECK_EQ(ready_answer, 'B');
    /* A failed reload runs no hook. */
    static const uint8_t junk[] = {1, 2, 3};
    CHECK(wasmplug_plugin_reload(p, junk, sizeof junk, NULL, &err) != WASMPLUG_OK);
    CHECK(strcmp(events, "load:hooks ready:hooks ready:hooks ") == 0);
    /* Dispose: once, before; a kill afterwards adds nothing. */
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_PLUGIN_STATE, &err);
    CHECK_EQ(wasmplug_host_kill(h, "hooks"), WASMPLUG_OK);
    CHECK(strcmp(events, "load:hooks ready:hooks ready:hooks dispose:hooks ") == 0);
    wasmplug_plugin_release(p);

    /* A kill of a live plugin runs before_dispose too; loading without
     * init runs on_load only. */
    events[0] = 0;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    CHECK_CODE(wasmplug_host_load(h, "killed", wasm_a, size_a, &o, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_EQ(wasmplug_host_kill(h, "killed"), WASMPLUG_OK);
    CHECK(strcmp(events, "load:killed dispose:killed ") == 0);
    CHECK_EQ(wasmplug_host_set_lifecycle(h, NULL), WASMPLUG_OK);
    events[0] = 0;
    CHECK_CODE(wasmplug_host_load(h, "quiet", wasm_a, size_a, &o, NULL, &err), WASMPLUG_OK, &err);
    CHECK_EQ(wasmplug_host_kill(h, "quiet"), WASMPLUG_OK);
    CHECK_EQ(events[0], 0);
}

static int handler_calls;

static wasmplug_status handler(void *user, wasmplug_plugin *p, const char *func,
                               const uint8_t *in, size_t in_len,
                               const wasmplug_plugin_error *failure, wasmplug_buf *out)
{
    (void)user;
    (void)p;
    handler_calls++;
    CHECK(strcmp(func, "who") == 0);
    CHECK_EQ(failure->code, WASMPLUG_ERR_PLUGIN);
    if (in_len == 1 && in[0] == 'n')
        return WASMPLUG_ERR_PLUGIN; /* declines */
    out->data = malloc(8);
    memcpy(out->data, "handled", 7);
    out->len = 7;
    return WASMPLUG_OK;
}

static void test_fallback(wasmplug_host *h)
{
    wasmplug_plugin *p = load(h, "boundary", wasm_flaky, size_flaky);
    if (!p)
        return;
    wasmplug_buf out;
    wasmplug_plugin_error err;
    /* No boundary: the failure comes through. */
    CHECK_CODE(wasmplug_plugin_call(p, "who", NULL, 0, &out, &err), WASMPLUG_ERR_PLUGIN, &err);

    CHECK_EQ(wasmplug_plugin_set_fallback(p, (const uint8_t *)"{}", 2, NULL, NULL), WASMPLUG_OK);
    CHECK_CODE(wasmplug_plugin_call(p, "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 2 && memcmp(out.data, "{}", 2) == 0);
    wasmplug_buf_free(&out);
    /* By name and asynchronously too. */
    CHECK_CODE(wasmplug_host_call(h, "boundary", "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK_EQ(out.len, 2);
    wasmplug_buf_free(&out);
    wasmplug_async *a = NULL;
    CHECK_EQ(wasmplug_plugin_call_async(p, "who", NULL, 0, NULL, NULL, &a), WASMPLUG_OK);
    CHECK_CODE(wasmplug_async_wait(a, WASMPLUG_WAIT_FOREVER, &out, &err), WASMPLUG_OK, &err);
    CHECK_EQ(out.len, 2);
    wasmplug_buf_free(&out);
    wasmplug_async_free(a);
    /* Typed calls have no boundary. */
    wasmplug_val r;
    CHECK_EQ(wasmplug_plugin_call_typed(p, "who", NULL, 0, &r, 1, &err), WASMPLUG_OK);
    CHECK_EQ(r.of.i32, 7);

    /* A handler answers, or declines. */
    CHECK_EQ(wasmplug_plugin_set_fallback(p, NULL, 0, handler, NULL), WASMPLUG_OK);
    CHECK_CODE(wasmplug_plugin_call(p, "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 7 && memcmp(out.data, "handled", 7) == 0);
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_plugin_call(p, "who", (const uint8_t *)"n", 1, &out, &err),
               WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(handler_calls, 2);
    /* Bad arguments never reach the boundary. */
    CHECK_EQ(wasmplug_plugin_call(p, NULL, NULL, 0, &out, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_EQ(handler_calls, 2);

    /* Counted: 6 bytes calls failed, 4 of them answered by the boundary. */
    wasmplug_metrics m;
    CHECK_EQ(wasmplug_plugin_get_metrics(p, &m), WASMPLUG_OK);
    CHECK_EQ(m.errors, 6);
    CHECK_EQ(m.fallbacks, 4);
    wasmplug_plugin_error last;
    CHECK_EQ(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK);
    CHECK_EQ(last.code, WASMPLUG_ERR_PLUGIN);

    /* Removed: failures come through again. */
    CHECK_EQ(wasmplug_plugin_set_fallback(p, NULL, 0, NULL, NULL), WASMPLUG_OK);
    CHECK_CODE(wasmplug_plugin_call(p, "who", NULL, 0, &out, &err), WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(wasmplug_plugin_set_fallback(p, NULL, 3, NULL, NULL), WASMPLUG_ERR_ARGUMENT);
    wasmplug_plugin_release(p);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasm_a = host_test_plugin("reload_a", &size_a);
    wasm_b = host_test_plugin("reload_b", &size_b);
    wasm_flaky = host_test_plugin("reload_flaky", &size_flaky);
    if (wasm_a && wasm_b && wasm_flaky) {
        wasmplug_host *h = host_test_new(NULL);
        test_hooks(h);
        test_fallback(h);
        wasmplug_host_free(h);
    }
    free(wasm_a);
    free(wasm_b);
    free(wasm_flaky);
    return test_done();
}
