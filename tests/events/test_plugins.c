/*
 * test_plugins.c - events delivered to plugins: the ABI v1 handler
 * (on_event) and the compatibility ABI (plugin_handle_event), batches as
 * JSON arrays, handler errors and traps retried then dead-lettered with the
 * plugin's message, a handler's output as a request's reply, a subscriber
 * that is not loaded, and a subscriber killed and loaded again.
 */
#include "events_test.h"

#include <stdlib.h>

#ifndef WP_EVENTS_PLUGINS
#define WP_EVENTS_PLUGINS "."
#endif

static wasmplug_bounds_mode bounds;

static wasmplug_host *new_host(void)
{
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bounds = bounds;
    wasmplug_host *host = NULL;
    CHECK_STATUS(wasmplug_host_new(&cfg, &host), WASMPLUG_OK);
    return host;
}

static bool load(wasmplug_host *host, const char *name, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", WP_EVENTS_PLUGINS, file);
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_host_load_file(host, name, path, &opt, NULL, &err);
    if (st)
        printf("     load %s: %s\n", path, err.message);
    return test_check(st == WASMPLUG_OK, __FILE__, __LINE__, "plugin loads");
}

/* The sink's counters: events, calls, batches, max hops. */
static bool sink_stats(wasmplug_host *host, const char *name, long v[4])
{
    wasmplug_buf out;
    if (wasmplug_host_call(host, name, "stats", NULL, 0, &out, NULL) != WASMPLUG_OK)
        return false;
    bool ok = sscanf((const char *)out.data, "%ld %ld %ld %ld", &v[0], &v[1], &v[2], &v[3]) == 4;
    wasmplug_buf_free(&out);
    return ok;
}

static void test_v1_and_compat(void)
{
    wasmplug_host *host = new_host();
    CHECK(load(host, "sink", "ev_sink"));
    CHECK(load(host, "compat", "ev_compat"));
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    uint64_t s_sink, s_compat, s_batch;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "content.*", NULL, "sink", NULL, &s_sink,
                                               NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "content.>", NULL, "compat", NULL,
                                               &s_compat, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 20; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "content.created", "{\"n\":1}", 7, NULL, NULL),
                     WASMPLUG_OK);
    CHECK(bus_wait_idle(bus, s_sink));
    CHECK(bus_wait_idle(bus, s_compat));
    long v[4] = {0};
    CHECK(sink_stats(host, "sink", v));
    CHECK_EQ(v[0], 20);
    CHECK_EQ(v[1], 20);
    CHECK_EQ(v[2], 0);
    wasmplug_val res;
    wasmplug_plugin *compat;
    CHECK_STATUS(wasmplug_host_get(host, "compat", &compat), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_plugin_call_typed(compat, "count", NULL, 0, &res, 1, NULL),
                 WASMPLUG_OK);
    CHECK_EQ(res.of.i32, 20);
    wasmplug_plugin_release(compat);

    /* Batched: one call per batch, a JSON array. */
    CHECK_STATUS(wasmplug_bus_unsubscribe(bus, s_sink, NULL), WASMPLUG_OK);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.batch_max = 16;
    o.batch_window_ms = 20;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "content.*", &o, "sink", "on_event",
                                               &s_batch, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 40; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "content.created", "[2]", 3, NULL, NULL),
                     WASMPLUG_OK);
    CHECK(bus_wait_idle(bus, s_batch));
    CHECK(sink_stats(host, "sink", v));
    CHECK_EQ(v[0], 60);
    CHECK(v[2] >= 3 && v[2] <= 40);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, s_batch, &st), WASMPLUG_OK);
    CHECK_EQ(st.delivered, 40);
    CHECK_EQ(st.deliveries, v[2]);

    /* Request/reply: the handler's output is the reply. */
    wasmplug_buf reply;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "ask.echo", NULL, "sink", NULL, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_request(bus, "ask.echo", "\"echo\"", 6, 5000, &reply, NULL),
                 WASMPLUG_OK);
    CHECK(reply.data && strstr((const char *)reply.data, "\"topic\":\"ask.echo\"") != NULL);
    CHECK(reply.data && strstr((const char *)reply.data, "\"reply_to\":\"_inbox.") != NULL);
    wasmplug_buf_free(&reply);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "ask.compat", NULL, "compat", NULL, NULL,
                                               NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_request(bus, "ask.compat", "1", 1, 5000, &reply, NULL),
                 WASMPLUG_OK);
    CHECK(reply.data && strstr((const char *)reply.data, "{\"handled\":") != NULL);
    wasmplug_buf_free(&reply);

    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
}

static void test_failures(void)
{
    wasmplug_host *host = new_host();
    CHECK(load(host, "sink", "ev_sink"));
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.retries = 1;
    uint64_t sub, missing, nohandler;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "f", &o, "sink", NULL, &sub, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "f", &o, "ghost", NULL, &missing, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "f", &o, "sink", "no_such_export",
                                               &nohandler, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_publish(bus, "f", "\"fail\"", 6, NULL, NULL), WASMPLUG_OK);
    CHECK(bus_wait_idle(bus, sub));
    CHECK_STATUS(wasmplug_bus_publish(bus, "f", "\"trap\"", 6, NULL, NULL), WASMPLUG_OK);
    CHECK(bus_wait_idle(bus, sub));
    CHECK(bus_wait_idle(bus, missing));
    CHECK(bus_wait_idle(bus, nohandler));
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.failed, 2);
    CHECK_EQ(st.retries, 2);
    CHECK_EQ(st.delivered, 0);

    wasmplug_dead_letter *dl;
    size_t n;
    CHECK_STATUS(wasmplug_bus_dead_letters(bus, false, &dl, &n), WASMPLUG_OK);
    CHECK_EQ(n, 6);
    int plugin_error = 0, trap = 0, not_loaded = 0, no_handler = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(dl[i].attempts, 2);
        if (dl[i].code == WASMPLUG_ERR_PLUGIN && strstr(dl[i].error, "asked to fail"))
            plugin_error++;
        if (dl[i].code == WASMPLUG_ERR_TRAP && strcmp(dl[i].subscriber, "sink") == 0)
            trap++;
        if (dl[i].code == WASMPLUG_ERR_NOT_FOUND && strstr(dl[i].error, "'ghost' is not loaded"))
            not_loaded++;
        if (dl[i].code == WASMPLUG_ERR_NOT_FOUND &&
            strstr(dl[i].error, "no event handler 'no_such_export'"))
            no_handler++;
    }
    CHECK_EQ(plugin_error, 1);
    CHECK_EQ(trap, 1);
    CHECK_EQ(not_loaded, 2);
    CHECK_EQ(no_handler, 2);
    wasmplug_bus_dead_letters_free(dl, n);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
}

static void test_kill_reload(void)
{
    wasmplug_host *host = new_host();
    CHECK(load(host, "sink", "ev_sink"));
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.retries = 50;
    o.retry_backoff_ms = 10;
    uint64_t sub;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(bus, "k", &o, "sink", NULL, &sub, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 10; i++)
        wasmplug_bus_publish(bus, "k", "1", 1, NULL, NULL);
    CHECK(bus_wait_idle(bus, sub));
    long v[4] = {0};
    CHECK(sink_stats(host, "sink", v));
    CHECK_EQ(v[0], 10);
    CHECK_STATUS(wasmplug_host_kill(host, "sink"), WASMPLUG_OK);
    for (int i = 0; i < 5; i++)
        wasmplug_bus_publish(bus, "k", "1", 1, NULL, NULL);
    ev_test_sleep_ms(30); /* deliveries fail and wait to be retried */
    CHECK(load(host, "sink", "ev_sink"));
    CHECK(bus_wait_idle(bus, sub));
    CHECK(sink_stats(host, "sink", v));
    CHECK_EQ(v[0], 5); /* the new instance got the five, in one piece */
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.delivered, 15);
    CHECK_EQ(st.failed, 0);
    CHECK(st.retries > 0);
    CHECK_EQ(wasmplug_bus_unsubscribe_plugin(bus, "sink"), 1);
    CHECK_EQ(wasmplug_bus_unsubscribe_plugin(bus, "sink"), 0);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    test_v1_and_compat();
    test_failures();
    test_kill_reload();
    return test_done();
}
