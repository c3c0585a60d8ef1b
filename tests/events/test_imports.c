/*
 * test_imports.c - the bus as a service for plugins: wasmplug.event_publish
 * and wasmplug.event_request with good and bad input (bad pointers, empty,
 * malformed and non-UTF-8 topics, payloads that are not JSON or too large,
 * topics outside the grant), grants checked at load, publishing that
 * commits only with a successful call, a publish cycle stopped by the hop
 * limit, manifest subscriptions and their grants, attach rules.
 */
#include "events_test.h"

#include <wasmplug/services.h>

#include <stdlib.h>

#ifndef WP_EVENTS_PLUGINS
#define WP_EVENTS_PLUGINS "."
#endif

static wasmplug_bounds_mode bounds;

typedef struct fixture {
    wasmplug_host *host;
    wasmplug_bus *bus;
    wasmplug_plugin *pub;
    collector out;
    uint64_t out_sub;
} fixture;

static const char *const pub_perms[] = {"events.publish:out.*", "events.publish:cycle.>",
                                        "events.subscribe:cycle.*", "events.publish:ask.*"};

static wasmplug_status load_pub(wasmplug_host *host, const char *name, const char *const *perms,
                                size_t nperms, wasmplug_plugin **out, wasmplug_plugin_error *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ev_pub.wasm", WP_EVENTS_PLUGINS);
    return ev_test_load(host, name, path, perms, nperms, out, err);
}

static void fixture_init(fixture *f, uint32_t max_payload)
{
    memset(f, 0, sizeof *f);
    f->host = ev_test_host(bounds, "events.*");
    wasmplug_bus_config bc = {0};
    bc.max_payload = max_payload;
    CHECK_STATUS(wasmplug_bus_new(f->host, &bc, &f->bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(f->bus, NULL), WASMPLUG_OK);
    wasmplug_plugin_error err;
    CHECK_STATUS(load_pub(f->host, "pub", pub_perms, 4, &f->pub, &err), WASMPLUG_OK);
    collector_init(&f->out);
    CHECK_STATUS(wasmplug_bus_subscribe(f->bus, "out.>", NULL, collect, &f->out, &f->out_sub,
                                        NULL),
                 WASMPLUG_OK);
}

static void fixture_free(fixture *f)
{
    wasmplug_plugin_release(f->pub);
    wasmplug_bus_free(f->bus);
    wasmplug_host_free(f->host);
    collector_destroy(&f->out);
}

/* Call export fn of pub with input; *out gets its output text. */
static wasmplug_status call(fixture *f, const char *fn, const char *input, char *out,
                            size_t out_size, wasmplug_plugin_error *err)
{
    wasmplug_buf buf = {NULL, 0};
    wasmplug_status st = wasmplug_plugin_call(f->pub, fn, (const uint8_t *)input,
                                              input ? strlen(input) : 0, &buf, err);
    if (out)
        snprintf(out, out_size, "%s", buf.data ? (const char *)buf.data : "");
    wasmplug_buf_free(&buf);
    return st;
}

/* publish input and check the import's return code (0 or -status) and,
 * for errors, a part of the message. */
static void check_publish(fixture *f, const char *input, int want_rc, const char *want_msg)
{
    char out[1024], want[32];
    CHECK_STATUS(call(f, "publish", input, out, sizeof out, NULL), WASMPLUG_OK);
    snprintf(want, sizeof want, "%d", want_rc);
    bool ok = strncmp(out, want, strlen(want)) == 0 &&
              (out[strlen(want)] == 0 || out[strlen(want)] == ' ') &&
              (!want_msg || strstr(out, want_msg));
    if (!test_check(ok, __FILE__, __LINE__, "publish result"))
        printf("     input \"%s\": got \"%s\", expected %s ... %s\n", input, out, want,
               want_msg ? want_msg : "");
}

static void test_publish(void)
{
    fixture f;
    fixture_init(&f, 64);
    check_publish(&f, "out.created\n{\"title\":\"t\"}", 0, NULL);
    CHECK(collector_wait(&f.out, 1));
    CHECK_CONTAINS(f.out.last_json, "\"source\":\"pub\"");
    CHECK_CONTAINS(f.out.last_json, "\"payload\":{\"title\":\"t\"}");
    CHECK_CONTAINS(f.out.last_json, "\"hops\":0");

    int arg = -(int)WASMPLUG_ERR_ARGUMENT;
    check_publish(&f, "\n1", arg, "topic is empty");
    check_publish(&f, "out..x\n1", arg, "empty segment at byte 4");
    check_publish(&f, "out.\xff\n1", arg, "invalid UTF-8 at byte 4");
    check_publish(&f, "out.*\n1", arg, "only allowed in subscription patterns");
    check_publish(&f, "secret.x\n1", -(int)WASMPLUG_ERR_PERMISSION_DENIED,
                  "may not publish on 'secret.x'");
    check_publish(&f, "out.x\n{not json", -(int)WASMPLUG_ERR_SERIALIZATION, "is not JSON");
    char big[128];
    snprintf(big, sizeof big, "out.x\n\"%070d\"", 0);
    check_publish(&f, big, -(int)WASMPLUG_ERR_INPUT_TOO_LARGE, "over the bus limit of 64");
    /* The denial is recorded. */
    wasmplug_plugin_error errs[8];
    size_t ne = wasmplug_bus_errors(f.bus, errs, 8);
    CHECK(ne >= 1);
    if (ne)
        CHECK_CONTAINS(errs[0].message, "may not publish on 'secret.x'");

    /* A pointer outside memory stops the call. */
    wasmplug_plugin_error err;
    CHECK_STATUS(call(&f, "publish_bad_ptr", NULL, NULL, 0, &err), WASMPLUG_ERR_OUT_OF_BOUNDS);

    CHECK(bus_wait_idle(f.bus, f.out_sub));
    CHECK_EQ(collector_count(&f.out), 1);
    fixture_free(&f);
}

static void test_transactional(void)
{
    fixture f;
    fixture_init(&f, 0);
    wasmplug_plugin_error err;
    CHECK_STATUS(call(&f, "publish_fail", "out.a\n1", NULL, 0, &err), WASMPLUG_ERR_PLUGIN);
    CHECK_STATUS(call(&f, "publish_trap", "out.a\n2", NULL, 0, &err), WASMPLUG_ERR_TRAP);
    check_publish(&f, "out.a\n3", 0, NULL);
    CHECK(collector_wait(&f.out, 1));
    CHECK(bus_wait_idle(f.bus, f.out_sub));
    CHECK_EQ(collector_count(&f.out), 1);
    CHECK_CONTAINS(f.out.last_json, "\"payload\":3");
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(f.bus, &bs);
    CHECK_EQ(bs.uncommitted, 2);
    CHECK_EQ(bs.published, 1);
    wasmplug_topic_stats ts;
    CHECK_STATUS(wasmplug_bus_topic_stats(f.bus, "out.a", &ts), WASMPLUG_OK);
    CHECK_EQ(ts.published, 1);
    fixture_free(&f);
}

/* A request whose reply never comes ends with the plugin's call: its
 * timeout (not the request's 60 s) or a cancel stops the wait and fails
 * the call with that status. Bounded: 20 s would mean the wait ignored
 * them. */
typedef struct request_call {
    wasmplug_plugin *p;
    wasmplug_status st;
    wasmplug_plugin_error err;
} request_call;

static void *run_request(void *arg)
{
    request_call *rc = arg;
    const char *in = "ask.silent\n60000\n{}";
    wasmplug_buf out = {NULL, 0};
    rc->st = wasmplug_plugin_call(rc->p, "request", (const uint8_t *)in, strlen(in), &out,
                                  &rc->err);
    wasmplug_buf_free(&out);
    return NULL;
}

static void test_request_ends_with_call(void)
{
    fixture f;
    fixture_init(&f, 0);
    collector silent;
    collector_init(&silent);
    CHECK_STATUS(wasmplug_bus_subscribe(f.bus, "ask.silent", NULL, collect, &silent, NULL, NULL),
                 WASMPLUG_OK);
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = "asker";
    m.version = "1.0.0";
    m.permissions = pub_perms;
    m.permission_count = 4;
    m.resources.timeout_ms = 200;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    opt.manifest = &m;
    char path[1024];
    snprintf(path, sizeof path, "%s/ev_pub.wasm", WP_EVENTS_PLUGINS);
    request_call rc = {NULL, WASMPLUG_OK, {0}};
    CHECK_STATUS(wasmplug_host_load_file(f.host, "asker", path, &opt, &rc.p, &rc.err),
                 WASMPLUG_OK);
    uint64_t t0 = test_now_ms();
    run_request(&rc);
    CHECK_STATUS(rc.st, WASMPLUG_ERR_TIMEOUT);
    CHECK_CONTAINS(rc.err.message, "timed out while waiting for a reply");
    CHECK(test_now_ms() - t0 < 20000);

    /* Cancelled while waiting (no call timeout this time). */
    wasmplug_plugin_release(rc.p);
    CHECK_STATUS(wasmplug_host_kill(f.host, "asker"), WASMPLUG_OK);
    m.resources.timeout_ms = 0;
    CHECK_STATUS(wasmplug_host_load_file(f.host, "asker", path, &opt, &rc.p, &rc.err),
                 WASMPLUG_OK);
    pthread_t th;
    t0 = test_now_ms();
    pthread_create(&th, NULL, run_request, &rc);
    CHECK(collector_wait(&silent, 2)); /* the second request reached the subscriber */
    while (wasmplug_plugin_cancel(rc.p) == 0 && test_now_ms() - t0 < 20000)
        ev_test_sleep_ms(1);
    pthread_join(th, NULL);
    CHECK_STATUS(rc.st, WASMPLUG_ERR_CANCELLED);
    CHECK_CONTAINS(rc.err.message, "was cancelled while waiting for a reply");
    CHECK(test_now_ms() - t0 < 20000);
    wasmplug_plugin_release(rc.p);
    fixture_free(&f);
    collector_destroy(&silent);
}

static void test_request(void)
{
    fixture f;
    fixture_init(&f, 64);
    collector svc;
    collector_init(&svc);
    svc.reply = true;
    CHECK_STATUS(wasmplug_bus_subscribe(f.bus, "ask.ping", NULL, collect, &svc, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(f.bus, "ask.silent", NULL, collect, &f.out, NULL, NULL),
                 WASMPLUG_OK);
    char out[256];
    CHECK_STATUS(call(&f, "request", "ask.ping\n5000\n{}", out, sizeof out, NULL), WASMPLUG_OK);
    CHECK(strcmp(out, "4 pong") == 0);
    CHECK_STATUS(call(&f, "request", "ask.silent\n30\n{}", out, sizeof out, NULL), WASMPLUG_OK);
    char want[64];
    snprintf(want, sizeof want, "%d no reply", -(int)WASMPLUG_ERR_TIMEOUT);
    CHECK(strncmp(out, want, strlen(want)) == 0);
    CHECK_STATUS(call(&f, "request", "ask.nobody\n30\n{}", out, sizeof out, NULL), WASMPLUG_OK);
    snprintf(want, sizeof want, "%d no subscriber", -(int)WASMPLUG_ERR_NOT_FOUND);
    CHECK(strncmp(out, want, strlen(want)) == 0);
    CHECK_STATUS(call(&f, "request", "secret.x\n30\n{}", out, sizeof out, NULL), WASMPLUG_OK);
    snprintf(want, sizeof want, "%d plugin 'pub' may not publish",
             -(int)WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK(strncmp(out, want, strlen(want)) == 0);
    /* Bad input: topics, payloads, pointers. */
    static const struct {
        const char *input;
        wasmplug_status code;
        const char *msg;
    } bad[] = {
        {"\n30\n{}", WASMPLUG_ERR_ARGUMENT, "topic is empty"},
        {"ask..ping\n30\n{}", WASMPLUG_ERR_ARGUMENT, "empty segment at byte 4"},
        {"ask.\xc3\n30\n{}", WASMPLUG_ERR_ARGUMENT, "invalid UTF-8 at byte 4"},
        {"ask.ping\n30\n{oops", WASMPLUG_ERR_SERIALIZATION, "is not JSON"},
        {"ask.ping\n30\n\"0000000000000000000000000000000000000000000000000000000000000000\"",
         WASMPLUG_ERR_INPUT_TOO_LARGE, "66 bytes, over the bus limit of 64"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(call(&f, "request", bad[i].input, out, sizeof out, NULL), WASMPLUG_OK);
        snprintf(want, sizeof want, "%d ", -(int)bad[i].code);
        bool ok = strncmp(out, want, strlen(want)) == 0 && strstr(out, bad[i].msg);
        if (!test_check(ok, __FILE__, __LINE__, bad[i].msg))
            printf("     got \"%s\"\n", out);
    }
    wasmplug_plugin_error err;
    CHECK_STATUS(call(&f, "request_bad_ptr", NULL, NULL, 0, &err), WASMPLUG_ERR_OUT_OF_BOUNDS);
    fixture_free(&f);
    collector_destroy(&svc);
}

static void test_cycle_and_manifest(void)
{
    fixture f;
    fixture_init(&f, 0);
    wasmplug_bus_plugin_sub subs[2];
    memset(subs, 0, sizeof subs);
    subs[0].pattern = "cycle.*";
    subs[1].pattern = "other.*";
    wasmplug_plugin_error err;
    /* other.* is not requested: nothing is subscribed. */
    CHECK_STATUS(wasmplug_bus_subscribe_manifest(f.bus, f.pub, subs, 2, &err),
                 WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "'events.subscribe:other.*'");
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(f.bus, &bs);
    CHECK_EQ(bs.subscriptions, 1);
    CHECK_STATUS(wasmplug_bus_subscribe_manifest(f.bus, f.pub, subs, 1, &err), WASMPLUG_OK);
    /* pub republishes every cycle.* event on cycle.a: hops 0, 1, ... 8, then
     * the ninth republish is refused. */
    CHECK_STATUS(wasmplug_bus_publish(f.bus, "cycle.a", "0", 1, NULL, NULL), WASMPLUG_OK);
    uint64_t end = test_now_ms() + 10000;
    do {
        wasmplug_bus_get_stats(f.bus, &bs);
        if (bs.hop_limited)
            break;
        ev_test_sleep_ms(1);
    } while (test_now_ms() < end);
    CHECK_EQ(bs.hop_limited, 1);
    wasmplug_subscription_stats *list;
    size_t n;
    CHECK_STATUS(wasmplug_bus_list_subscriptions(f.bus, &list, &n), WASMPLUG_OK);
    CHECK_EQ(n, 2);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].subscriber, "pub") == 0) {
            CHECK_EQ(list[i].delivered, 9);
            CHECK_EQ(list[i].failed, 0);
        }
    wasmplug_free(list);
    wasmplug_plugin_error errs[8];
    size_t ne = wasmplug_bus_errors(f.bus, errs, 8);
    CHECK(ne >= 1);
    if (ne) {
        CHECK_CONTAINS(errs[ne - 1].message, "would be hop 9, over the limit of 8");
        CHECK(strcmp(errs[ne - 1].plugin, "pub") == 0);
    }
    CHECK_EQ(wasmplug_bus_unsubscribe_plugin(f.bus, "pub"), 1);
    fixture_free(&f);
}

static void test_grants_and_attach(void)
{
    wasmplug_host *host = ev_test_host(bounds, NULL);
    wasmplug_bus *bus, *second;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &second), WASMPLUG_OK);
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_attach(bus, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(bus, &err), WASMPLUG_ERR_DUPLICATE);
    CHECK_STATUS(wasmplug_bus_attach(second, &err), WASMPLUG_ERR_DUPLICATE);
    CHECK_CONTAINS(err.message, "another event bus");
    wasmplug_bus_free(second);

    /* Not requested: the load fails naming the import and the grant. */
    CHECK_STATUS(load_pub(host, "p1", NULL, 0, NULL, &err), WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "wasmplug.event_publish");
    CHECK_CONTAINS(err.message, "events.publish:*");
    /* Requested but not granted by the host policy. */
    static const char *const want[] = {"events.publish:out.*"};
    CHECK_STATUS(load_pub(host, "p2", want, 1, NULL, &err), WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "host policy");
    CHECK_STATUS(wasmplug_host_grant(host, "p3", "events.publish:*"), WASMPLUG_OK);
    wasmplug_plugin *p3;
    CHECK_STATUS(load_pub(host, "p3", want, 1, &p3, &err), WASMPLUG_OK);

    /* Too late to attach another service now. */
    wasmplug_bus *late;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &late), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(late, &err), WASMPLUG_ERR_PLUGIN_STATE);
    wasmplug_bus_free(late);

    /* The bus freed before the host: the imports say so, nothing breaks. */
    wasmplug_bus_free(bus);
    wasmplug_buf out;
    CHECK_STATUS(wasmplug_plugin_call(p3, "publish", (const uint8_t *)"out.x\n1", 7, &out, &err),
                 WASMPLUG_OK);
    char expect[64];
    snprintf(expect, sizeof expect, "%d no event bus: this host attached none, or freed it",
             -(int)WASMPLUG_ERR_PLUGIN_STATE);
    CHECK(out.data && strcmp((const char *)out.data, expect) == 0);
    wasmplug_buf_free(&out);
    wasmplug_plugin_release(p3);
    wasmplug_host_free(host);

    /* No bus attached: the import is unknown. */
    host = ev_test_host(bounds, "events.*");
    CHECK_STATUS(load_pub(host, "p4", want, 1, NULL, &err), WASMPLUG_ERR_LINK);
    CHECK_CONTAINS(err.message, "no service attached");
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(bus, &err), WASMPLUG_ERR_PLUGIN_STATE);
    CHECK_CONTAINS(err.message, "before loading plugins");
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
}

/* The bus attached through the services library (wasmplug_services_attach). */
static void test_services_attach(void)
{
    wasmplug_host *host = ev_test_host(bounds, "events.*");
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.bus = bus;
    char msg[256];
    CHECK_STATUS(wasmplug_services_attach(host, &sc, NULL, msg, sizeof msg), WASMPLUG_OK);
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_attach(bus, &err), WASMPLUG_ERR_DUPLICATE);
    CHECK(strcmp(wasmplug_services_import_grant("event_publish"), "events.publish:*") == 0);
    CHECK(strcmp(wasmplug_services_import_grant("event_request"), "events.publish:*") == 0);
    wasmplug_plugin *p;
    CHECK_STATUS(load_pub(host, "pub", pub_perms, 4, &p, &err), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "out.*", NULL, collect, &c, NULL, NULL), WASMPLUG_OK);
    wasmplug_buf out;
    CHECK_STATUS(wasmplug_plugin_call(p, "publish", (const uint8_t *)"out.x\n1", 7, &out, &err),
                 WASMPLUG_OK);
    CHECK(out.data && strcmp((const char *)out.data, "0") == 0);
    wasmplug_buf_free(&out);
    CHECK(collector_wait(&c, 1));
    wasmplug_plugin_release(p);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
    collector_destroy(&c);

    /* Services without a bus: event plugins load; publishing says why not. */
    host = ev_test_host(bounds, "events.*");
    wasmplug_services_config_init(&sc);
    CHECK_STATUS(wasmplug_services_attach(host, &sc, NULL, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(load_pub(host, "pub", pub_perms, 4, &p, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_plugin_call(p, "publish", (const uint8_t *)"out.x\n1", 7, &out, &err),
                 WASMPLUG_OK);
    char expect[64];
    snprintf(expect, sizeof expect, "%d no event bus", -(int)WASMPLUG_ERR_PLUGIN_STATE);
    CHECK(out.data && strncmp((const char *)out.data, expect, strlen(expect)) == 0);
    wasmplug_buf_free(&out);
    wasmplug_plugin_release(p);
    wasmplug_host_free(host);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    test_publish();
    test_transactional();
    test_request();
    test_request_ends_with_call();
    test_cycle_and_manifest();
    test_grants_and_attach();
    test_services_attach();
    return test_done();
}
