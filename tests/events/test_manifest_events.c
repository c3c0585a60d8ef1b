/*
 * test_manifest_events.c - permissions.events in plugin.yaml: subscribe
 * entries as patterns or mappings with options (batch, queue, on_full,
 * retries, handler, group), their errors with line and column, and a plugin
 * subscribed from its parsed manifest (wasmplug_bus_subscribe_doc) getting
 * the batches its manifest asked for.
 */
#include "events_test.h"

#ifndef WP_EVENTS_PLUGINS
#define WP_EVENTS_PLUGINS "."
#endif

static const char good[] =
    "id: indexer\n"
    "version: 1.0.0\n"
    "permissions:\n"
    "  events:\n"
    "    publish: [index.updated, 'index.>']\n"
    "    subscribe:\n"
    "      - content.created\n"
    "      - topic: 'batch.*'\n"
    "        handler: on_event\n"
    "        group: indexers\n"
    "        batch: {max: 16, window_ms: 5s}\n"
    "        queue: 64\n"
    "        on_full: block\n"
    "        block_timeout_ms: 2s\n"
    "        retries: 3\n"
    "        retry_backoff_ms: 10\n";

static wasmplug_manifest_doc *parse(const char *text, wasmplug_manifest_diag *diag)
{
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_parse(text, strlen(text), "plugin.yaml", &doc, diag);
    return doc;
}

static void test_parse(void)
{
    wasmplug_manifest_diag diag;
    wasmplug_manifest_doc *doc = parse(good, &diag);
    CHECK(doc != NULL);
    if (!doc) {
        printf("     %s:%u:%u: %s\n", diag.file, diag.line, diag.column, diag.message);
        return;
    }
    CHECK_EQ(doc->subscription_count, 2);
    CHECK_EQ(doc->events_subscribe.count, 2);
    CHECK_EQ(doc->events_publish.count, 2);
    if (doc->subscription_count == 2) {
        const wasmplug_manifest_subscription *a = &doc->subscriptions[0], *b = &doc->subscriptions[1];
        CHECK(strcmp(a->topic, "content.created") == 0);
        CHECK(a->handler == NULL && a->group == NULL && a->batch_max == 0 && a->queue == 0);
        CHECK(b->group && strcmp(b->group, "indexers") == 0);
        CHECK(strcmp(b->topic, "batch.*") == 0);
        CHECK(b->handler && strcmp(b->handler, "on_event") == 0);
        CHECK_EQ(b->batch_max, 16);
        CHECK_EQ(b->batch_window_ms, 5000);
        CHECK_EQ(b->queue, 64);
        CHECK_EQ(b->on_full, WASMPLUG_FULL_BLOCK);
        CHECK_EQ(b->block_timeout_ms, 2000);
        CHECK_EQ(b->retries, 3);
        CHECK_EQ(b->retry_backoff_ms, 10);
    }
    wasmplug_manifest_doc_free(doc);

    /* One list for both directions. */
    doc = parse("id: x\nversion: 1.0.0\npermissions:\n  events: [a.*, b]\n", &diag);
    CHECK(doc && doc->subscription_count == 2 && doc->events_publish.count == 2);
    wasmplug_manifest_doc_free(doc);

    static const struct {
        const char *yaml, *want;
        unsigned line, column;
    } bad[] = {
        {"    subscribe: ['a..b']\n", "pattern 'a..b': empty segment at byte 2", 6, 17},
        {"    subscribe: [{batch: {max: 2}}]\n", "needs 'topic'", 6, 17},
        {"    subscribe: [{topic: a, on_full: drop}]\n",
         "must be drop_oldest, reject or block (got 'drop')", 6, 37},
        {"    subscribe: [{topic: a, bach: {max: 2}}]\n", "did you mean 'batch'?", 6, 28},
        {"    subscribe: [{topic: a, batch: {max: 8}, queue: 4}]\n",
         "batch.max (8) is larger than queue (4)", 6, 17},
        {"    subscribe: [{topic: a, batch: {max: x}}]\n", "'permissions.events.subscribe.batch.max'", 6, 41},
        {"    subscribe: [[a]]\n", "items must be topic patterns or mappings", 6, 17},
        {"    subscribe: [{topic: a, group: 'x y'}]\n",
         "'permissions.events.subscribe.group' is written as a topic", 6, 35},
        {"    publish: ['a.>.b']\n", "topic patterns such as words.*", 6, 15},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "id: x\nversion: 1.0.0\nabi: v1\npermissions:\n  events:\n%s",
                 bad[i].yaml);
        doc = parse(text, &diag);
        CHECK(doc == NULL);
        bool ok = !doc && strstr(diag.message, bad[i].want) && diag.line == bad[i].line &&
                  diag.column == bad[i].column;
        if (!test_check(ok, __FILE__, __LINE__, bad[i].want))
            printf("     got %u:%u: %s\n", diag.line, diag.column, diag.message);
        wasmplug_manifest_doc_free(doc);
    }
}

static void test_subscribe_doc(wasmplug_bounds_mode bounds)
{
    wasmplug_host *host = ev_test_host(bounds, "events.subscribe:*");
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    wasmplug_manifest_diag diag;
    wasmplug_manifest_doc *doc = parse(good, &diag);
    if (!doc)
        return;
    /* The subscribe permissions the manifest requests. */
    char perms[2][WASMPLUG_TOPIC_MAX + 32];
    const char *perm_list[2];
    for (size_t i = 0; i < 2 && i < doc->events_subscribe.count; i++) {
        snprintf(perms[i], sizeof perms[i], "events.subscribe:%s", doc->events_subscribe.items[i]);
        perm_list[i] = perms[i];
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/ev_sink.wasm", WP_EVENTS_PLUGINS);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(ev_test_load(host, "sink", path, perm_list, 2, &p, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_doc(bus, p, doc, &err), WASMPLUG_OK);
    for (int i = 0; i < 16; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "batch.x", "1", 1, NULL, NULL), WASMPLUG_OK);
    wasmplug_subscription_stats *list;
    size_t n;
    CHECK_STATUS(wasmplug_bus_list_subscriptions(bus, &list, &n), WASMPLUG_OK);
    CHECK_EQ(n, 2);
    uint64_t batch_id = 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].pattern, "batch.*") == 0)
            batch_id = list[i].id;
    wasmplug_free(list);
    CHECK(bus_wait_idle(bus, batch_id));
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, batch_id, &st), WASMPLUG_OK);
    CHECK_EQ(st.delivered, 16);
    CHECK_EQ(st.deliveries, 1); /* 16 = batch.max: one call */
    wasmplug_plugin_release(p);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
    wasmplug_manifest_doc_free(doc);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    test_parse();
    test_subscribe_doc(bounds);
    return test_done();
}
