/*
 * test_pdk_events.c - the event API of every PDK (tests/events/pdk/events_*):
 * each plugin, subscribed through wasmplug_bus_subscribe_manifest, echoes
 * the events it handles to pdk.echo (published with its PDK's publish,
 * committed with the call), answers a request through its PDK's reply,
 * makes a request itself, reports a refused publish, and handles a batch
 * one event at a time, in order. And file_watcher (examples/plugins/
 * file-watcher, Rust in the standard WASM module interface): its manifest
 * read from its plugin_get_manifest export (id, version, permissions in the
 * permissions.resources / capabilities layout), and events delivered in
 * batches of the size and window it asks for (handleEventBatch).
 *
 *   test_pdk_events [--bounds MODE] PLUGIN_DIR NAME...   (names events_*,
 *   file_watcher; others ignored)
 */
#include "events/events_test.h"
#include "host/host_test.h" /* CHECK_CODE */

#include <wasmplug/manifest.h>

static wasmplug_bounds_mode bounds;
static const char *plugin_dir;

static const char *lang_of(const char *name)
{
    if (strcmp(name, "events_c") == 0)
        return "c";
    if (strcmp(name, "events_as") == 0)
        return "as";
    if (strcmp(name, "events_rust") == 0)
        return "rust";
    if (strcmp(name, "events_zig") == 0)
        return "zig";
    return NULL;
}

/* The n of each echo, in order, from the collector's JSON texts. */
typedef struct echoes {
    pthread_mutex_t mu;
    char lang[16];
    int n[64];
    int count, bad;
} echoes;

static int on_echo(void *user, wasmplug_bus *bus, const wasmplug_event *events, size_t count,
                   const char **error)
{
    (void)bus;
    (void)error;
    echoes *e = user;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; i < count; i++) {
        json_error_t jerr;
        json_t *p = json_loadb(events[i].payload, events[i].payload_len, 0, &jerr);
        const char *lang = json_string_value(json_object_get(p, "lang"));
        const char *topic = json_string_value(json_object_get(p, "topic"));
        const char *source = json_string_value(json_object_get(p, "source"));
        if (!lang || strcmp(lang, e->lang) != 0 || !topic || strcmp(topic, "pdk.in") != 0 ||
            !source || strcmp(source, "host") != 0 ||
            json_number_value(json_object_get(p, "hops")) != 0 || events[i].hops != 1 || strcmp(events[i].source, "plugin") != 0)
            e->bad++;
        json_t *n = json_object_get(p, "n");
        if (e->count < 64)
            e->n[e->count] = (int)json_number_value(n);
        e->count++;
        json_decref(p);
    }
    pthread_mutex_unlock(&e->mu);
    return 0;
}

static int echo_count(echoes *e)
{
    pthread_mutex_lock(&e->mu);
    int n = e->count;
    pthread_mutex_unlock(&e->mu);
    return n;
}

static bool wait_echoes(echoes *e, int want)
{
    uint64_t end = test_now_ms() + 10000;
    while (echo_count(e) < want && test_now_ms() < end)
        ev_test_sleep_ms(1);
    return echo_count(e) >= want;
}

static void test_plugin(const char *name)
{
    const char *lang = lang_of(name);
    printf("-- %s\n", name);
    wasmplug_host *host = ev_test_host(bounds, "events.*");
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(bus, NULL), WASMPLUG_OK);

    static const char *const perms[] = {"events.publish:pdk.*", "events.subscribe:pdk.in"};
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", plugin_dir, name);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(ev_test_load(host, "plugin", path, perms, 2, &p, &err), WASMPLUG_OK, &err);
    if (!p) {
        wasmplug_bus_free(bus);
        wasmplug_host_free(host);
        return;
    }

    echoes e;
    memset(&e, 0, sizeof e);
    pthread_mutex_init(&e.mu, NULL);
    snprintf(e.lang, sizeof e.lang, "%s", lang);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "pdk.echo", NULL, on_echo, &e, NULL, NULL),
                 WASMPLUG_OK);
    collector svc;
    collector_init(&svc);
    svc.reply = true;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "pdk.service", NULL, collect, &svc, NULL, NULL),
                 WASMPLUG_OK);
    wasmplug_bus_plugin_sub sub;
    memset(&sub, 0, sizeof sub);
    sub.pattern = "pdk.in";
    CHECK_CODE(wasmplug_bus_subscribe_manifest(bus, p, &sub, 1, &err), WASMPLUG_OK, &err);

    /* One event at a time. */
    for (int i = 1; i <= 3; i++) {
        char payload[32];
        int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        CHECK_STATUS(wasmplug_bus_publish(bus, "pdk.in", payload, (size_t)n, NULL, NULL),
                     WASMPLUG_OK);
    }
    CHECK(wait_echoes(&e, 3));
    CHECK_EQ(e.bad, 0);
    CHECK(e.n[0] == 1 && e.n[1] == 2 && e.n[2] == 3);

    /* A request answered by the handler. */
    wasmplug_buf reply;
    CHECK_CODE(wasmplug_bus_request(bus, "pdk.in", "{\"n\":7}", 7, 5000, &reply, &err),
               WASMPLUG_OK, &err);
    char want[64];
    snprintf(want, sizeof want, "\"lang\":\"%s\"", lang);
    CHECK(reply.data && strstr((const char *)reply.data, want));
    CHECK(reply.data && strstr((const char *)reply.data, "\"n\":7"));
    wasmplug_buf_free(&reply);
    CHECK(wait_echoes(&e, 4));

    /* The plugin's own request, and a refused publish. */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "ask", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.data && strcmp((const char *)out.data, "pong") == 0);
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_plugin_call(p, "refused", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.data && strncmp((const char *)out.data, "refused: ", 9) == 0 &&
          strstr((const char *)out.data, "may not publish on 'forbidden.topic'"));
    if (out.data && !strstr((const char *)out.data, "may not publish"))
        printf("     got \"%s\"\n", (const char *)out.data);
    wasmplug_buf_free(&out);

    /* A batch: the handler still sees each event, in order. */
    CHECK_EQ(wasmplug_bus_unsubscribe_plugin(bus, "plugin"), 1);
    /* 5 events and batch_max 5: one call as soon as the fifth is queued
     * (the long window only matters if the machine is very slow). */
    sub.options.batch_max = 5;
    sub.options.batch_window_ms = 5000;
    CHECK_CODE(wasmplug_bus_subscribe_manifest(bus, p, &sub, 1, &err), WASMPLUG_OK, &err);
    for (int i = 10; i < 15; i++) {
        char payload[32];
        int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
        wasmplug_bus_publish(bus, "pdk.in", payload, (size_t)n, NULL, NULL);
    }
    CHECK(wait_echoes(&e, 9));
    for (int i = 0; i < 5; i++)
        CHECK_EQ(e.n[4 + i], 10 + i);
    wasmplug_subscription_stats *list;
    size_t n;
    CHECK_STATUS(wasmplug_bus_list_subscriptions(bus, &list, &n), WASMPLUG_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].subscriber, "plugin") == 0) {
            CHECK_EQ(list[i].delivered, 5);
            CHECK_EQ(list[i].deliveries, 1);
        }
    wasmplug_free(list);
    CHECK_EQ(e.bad, 0);

    wasmplug_plugin_release(p);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
    collector_destroy(&svc);
    pthread_mutex_destroy(&e.mu);
}


/* The plugin's answer to {"type":"stats"}: its counters. */
static json_t *watcher_stats(wasmplug_plugin *p)
{
    static const char q[] = "{\"type\":\"stats\"}";
    wasmplug_buf out;
    wasmplug_plugin_error err;
    json_t *j = NULL;
    if (wasmplug_plugin_call(p, "plugin_handle_event", (const uint8_t *)q, sizeof q - 1, &out,
                             &err) == WASMPLUG_OK)
        j = json_loadb((const char *)out.data, out.len, 0, NULL);
    else
        wasmplug_plugin_error_clear(&err);
    wasmplug_buf_free(&out);
    return j;
}

static json_int_t watcher_count(wasmplug_plugin *p, const char *key)
{
    json_t *j = watcher_stats(p);
    json_int_t v = j ? json_integer_value(json_object_get(j, key)) : -1;
    json_decref(j);
    return v;
}

static bool watcher_wait(wasmplug_plugin *p, json_int_t events)
{
    uint64_t end = test_now_ms() + 10000;
    while (watcher_count(p, "events") < events && test_now_ms() < end)
        ev_test_sleep_ms(5);
    return watcher_count(p, "events") == events;
}

static void test_standard_interface(const char *name)
{
    printf("-- %s\n", name);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", plugin_dir, name);
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    if (!fp)
        return;
    static uint8_t bytes[1 << 20];
    size_t len = fread(bytes, 1, sizeof bytes, fp);
    fclose(fp);

    /* The manifest comes from the module itself. */
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_diag diag;
    CHECK_STATUS(wasmplug_manifest_from_module(bytes, len, path, &doc, &diag), WASMPLUG_OK);
    if (!doc) {
        printf("     %s:%u:%u: %s\n", diag.file, diag.line, diag.column, diag.message);
        return;
    }
    CHECK(doc->id && !strcmp(doc->id, "file-watcher") && doc->version &&
          !strcmp(doc->version, "1.0.0"));
    CHECK(doc->host_functions.count == 1 &&
          !strcmp(doc->host_functions.items[0], "*.get_file_content"));
    CHECK_EQ(doc->resources.timeout_ms, 5000);
    CHECK_EQ(doc->resources.max_call_depth, 100);
    CHECK(doc->dir_count == 1 && doc->dirs[0].readonly && doc->http_hosts.count == 0);
    CHECK_EQ(doc->subscription_count, 1);
    if (doc->subscription_count != 1) {
        wasmplug_manifest_doc_free(doc);
        return;
    }
    const wasmplug_manifest_subscription *ms = &doc->subscriptions[0];
    CHECK(!strcmp(ms->topic, "file.*") && ms->handler && !strcmp(ms->handler, "plugin_handle_event"));
    CHECK(ms->batch_max == 4 && ms->batch_window_ms == 100);

    /* Loaded with what it asked for, subscribed as it asked. */
    wasmplug_host *host = ev_test_host(bounds, "events.subscribe:file.*");
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(bus, NULL), WASMPLUG_OK);
    wasmplug_manifest hm;
    CHECK_STATUS(wasmplug_manifest_to_host(doc, &hm), WASMPLUG_OK);
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    opt.manifest = &hm;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load_file(host, "watcher", path, &opt, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        wasmplug_plugin_info info;
        CHECK_STATUS(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK);
        CHECK_EQ(info.abi, WASMPLUG_ABI_COMPAT);
        wasmplug_bus_plugin_sub sub;
        memset(&sub, 0, sizeof sub);
        sub.pattern = ms->topic;
        sub.handler = ms->handler;
        sub.options.batch_max = ms->batch_max;
        sub.options.batch_window_ms = ms->batch_window_ms;
        CHECK_CODE(wasmplug_bus_subscribe_manifest(bus, p, &sub, 1, &err), WASMPLUG_OK, &err);
        json_t *st = watcher_stats(p);
        CHECK(json_is_true(json_object_get(st, "initialized"))); /* plugin_initialize ran */
        json_decref(st);

        /* 10 events at once: batches of at most 4, every event delivered */
        for (int i = 0; i < 10; i++) {
            char payload[32];
            int n = snprintf(payload, sizeof payload, "{\"n\":%d}", i);
            CHECK_STATUS(wasmplug_bus_publish(bus, "file.saved", payload, (size_t)n, NULL, NULL),
                         WASMPLUG_OK);
        }
        CHECK(watcher_wait(p, 10));
        CHECK(watcher_count(p, "batches") >= 3);
        CHECK(watcher_count(p, "largest") <= 4 && watcher_count(p, "largest") >= 1);
        CHECK_EQ(watcher_count(p, "single"), 0);
        /* one more, alone: the window closes on it */
        json_int_t batches = watcher_count(p, "batches");
        CHECK_STATUS(wasmplug_bus_publish(bus, "file.closed", "{}", 2, NULL, NULL), WASMPLUG_OK);
        CHECK(watcher_wait(p, 11));
        CHECK_EQ(watcher_count(p, "batches"), batches + 1);
        wasmplug_plugin_release(p);
    }
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
    wasmplug_manifest_doc_free(doc);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: test_pdk_events [--bounds MODE] PLUGIN_DIR NAME...\n");
        return 2;
    }
    plugin_dir = argv[1];
    int tested = 0;
    for (int i = 2; i < argc; i++)
        if (lang_of(argv[i])) {
            test_plugin(argv[i]);
            tested++;
        } else if (!strcmp(argv[i], "file_watcher")) {
            test_standard_interface(argv[i]);
            tested++;
        }
    printf("%d PDK event plugin(s) tested\n", tested);
    return test_done();
}
