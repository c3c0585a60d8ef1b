/*
 * test_bus.c - the event bus with host publishers and subscribers: topic
 * syntax and matching, delivery and the event JSON, per-publisher order,
 * the three full-queue policies, batching, retries and dead letters, the
 * hop limit, request/reply, metrics, unsubscribe and shutdown.
 */
#include "events_test.h"

#include <string.h>

static void test_topic_syntax(void)
{
    char msg[256];
    static const char *good_topics[] = {"a", "content.created", "a.b.c.d", "caf\xc3\xa9.ouvert",
                                        "x-1_y:z", "\xf0\x9f\x93\xa6.box"};
    for (size_t i = 0; i < sizeof good_topics / sizeof good_topics[0]; i++)
        CHECK_STATUS(wasmplug_topic_check(good_topics[i], strlen(good_topics[i]), false, msg,
                                          sizeof msg),
                     WASMPLUG_OK);
    static const char *good_patterns[] = {"*", ">", "a.*", "a.>", "*.b.>", "a.*.c"};
    for (size_t i = 0; i < sizeof good_patterns / sizeof good_patterns[0]; i++)
        CHECK_STATUS(wasmplug_topic_check(good_patterns[i], strlen(good_patterns[i]), true,
                                          msg, sizeof msg),
                     WASMPLUG_OK);

    static const struct {
        const char *text;
        bool pattern;
        const char *want;
    } bad[] = {
        {"", false, "empty"},
        {"a..b", false, "empty segment at byte 2"},
        {".a", false, "empty segment at byte 0"},
        {"a.", false, "empty segment at byte 2"},
        {"a.\xff", false, "invalid UTF-8 at byte 2"},
        {"\xc0\xaf", false, "invalid UTF-8 at byte 0"},      /* overlong '/' */
        {"a\xed\xa0\x80", false, "invalid UTF-8 at byte 1"}, /* surrogate */
        {"a\xe2\x82", false, "invalid UTF-8 at byte 1"},     /* truncated */
        {"a.*", false, "only allowed in subscription patterns"},
        {"a.>", false, "only allowed in subscription patterns"},
        {"a.b*", true, "whole segment at byte 3"},
        {"a.>.b", true, "'>' must be the last segment at byte 2"},
        {"a b", false, "space at byte 1"},
        {"a\tb", false, "control character at byte 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_STATUS(wasmplug_topic_check(bad[i].text, strlen(bad[i].text), bad[i].pattern, msg,
                                          sizeof msg),
                     WASMPLUG_ERR_ARGUMENT);
        if (!test_check(strstr(msg, bad[i].want) != NULL, __FILE__, __LINE__, bad[i].want))
            printf("     got \"%s\"\n", msg);
    }
    /* Invalid bytes are escaped in the message, never echoed raw. */
    wasmplug_topic_check("a.\xff", 3, false, msg, sizeof msg);
    CHECK_CONTAINS(msg, "a.\\xff");

    char longest[WASMPLUG_TOPIC_MAX + 2];
    memset(longest, 'a', sizeof longest);
    CHECK_STATUS(wasmplug_topic_check(longest, WASMPLUG_TOPIC_MAX, false, msg, sizeof msg),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_topic_check(longest, WASMPLUG_TOPIC_MAX + 1, false, msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "at most 255");
    char many[80];
    size_t o = 0;
    for (int i = 0; i < WASMPLUG_TOPIC_SEGMENTS_MAX + 1; i++) {
        many[o++] = 'x';
        many[o++] = '.';
    }
    many[o - 1] = 0;
    CHECK_STATUS(wasmplug_topic_check(many, strlen(many), false, msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "more than 32 segments");
}

static void test_matching(void)
{
    static const struct {
        const char *pattern, *topic;
        bool match;
    } cases[] = {
        {"a.b", "a.b", true},       {"a.b", "a.c", false},     {"a.b", "a.b.c", false},
        {"a.b.c", "a.b", false},    {"a.*", "a.b", true},      {"a.*", "a", false},
        {"a.*", "a.b.c", false},    {"*.b", "a.b", true},      {"*", "a", true},
        {"*", "a.b", false},        {"a.>", "a.b", true},      {"a.>", "a.b.c.d", true},
        {"a.>", "a", false},        {">", "a", true},          {">", "a.b", true},
        {"a.*.c", "a.x.c", true},   {"a.*.c", "a.x.d", false}, {"ab", "a", false},
        {"a", "ab", false},         {"*.*", "a.b", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool got = wasmplug_topic_matches(cases[i].pattern, cases[i].topic);
        if (!test_check(got == cases[i].match, __FILE__, __LINE__, "topic match"))
            printf("     pattern '%s' topic '%s': got %d\n", cases[i].pattern, cases[i].topic,
                   got);
    }
}

static void test_deliver_json(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c, other;
    collector_init(&c);
    collector_init(&other);
    uint64_t sub, sub_other;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "content.*", NULL, collect, &c, &sub, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "index.>", NULL, collect, &other, &sub_other, NULL),
                 WASMPLUG_OK);
    uint64_t id = 0;
    const char *payload = "{\"title\":\"Hello\",\"n\":[1,2]}";
    CHECK_STATUS(wasmplug_bus_publish(bus, "content.created", payload, strlen(payload), &id,
                                      NULL),
                 WASMPLUG_OK);
    CHECK(id > 0);
    CHECK_STATUS(wasmplug_bus_publish(bus, "content.a.b", "1", 1, NULL, NULL), WASMPLUG_OK);
    CHECK(collector_wait(&c, 1));
    CHECK(bus_wait_idle(bus, sub));
    CHECK_EQ(collector_count(&c), 1);
    CHECK_EQ(collector_count(&other), 0);

    json_error_t jerr;
    json_t *ev = json_loads(c.last_json, 0, &jerr);
    CHECK(ev != NULL);
    if (ev) {
        CHECK(strcmp(json_string_value(json_object_get(ev, "topic")), "content.created") == 0);
        CHECK_EQ(json_integer_value(json_object_get(ev, "id")), id);
        CHECK(json_integer_value(json_object_get(ev, "time")) > 1600000000000LL);
        CHECK(strcmp(json_string_value(json_object_get(ev, "source")), "host") == 0);
        CHECK_EQ(json_integer_value(json_object_get(ev, "hops")), 0);
        json_t *pl = json_object_get(ev, "payload");
        CHECK(strcmp(json_string_value(json_object_get(pl, "title")), "Hello") == 0);
        CHECK_EQ(json_array_size(json_object_get(pl, "n")), 2);
        CHECK(json_object_get(ev, "reply_to") == NULL);
        json_decref(ev);
    }

    /* An empty payload is JSON null. */
    CHECK_STATUS(wasmplug_bus_publish(bus, "index.updated", NULL, 0, NULL, NULL), WASMPLUG_OK);
    CHECK(collector_wait(&other, 1));
    CHECK_CONTAINS(other.last_json, "\"payload\":null");

    /* Bad input. */
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_publish(bus, "content.created", "{oops", 5, NULL, &err),
                 WASMPLUG_ERR_SERIALIZATION);
    CHECK_CONTAINS(err.message, "not JSON: line 1");
    CHECK_STATUS(wasmplug_bus_publish(bus, "content..x", "1", 1, NULL, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "empty segment at byte 8");
    CHECK_STATUS(wasmplug_bus_publish(bus, "", "1", 1, NULL, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_bus_publish(bus, NULL, "1", 1, NULL, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_bus_publish(bus, "a", NULL, 3, NULL, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "a.b*", NULL, collect, &c, NULL, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "whole segment");
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "a", NULL, NULL, NULL, NULL, &err),
                 WASMPLUG_ERR_ARGUMENT);
    wasmplug_subscription_options bad = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    bad.queue_size = 4;
    bad.batch_max = 8;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "a", &bad, collect, &c, NULL, &err),
                 WASMPLUG_ERR_ARGUMENT);
    /* A source that is not UTF-8 cannot be put in the event JSON. */
    CHECK_STATUS(wasmplug_bus_publish_from(bus, "bad\xff", 0, "a", 1, "1", 1, NULL, &err),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "bad\\xff");

    wasmplug_bus_free(bus);
    collector_destroy(&c);
    collector_destroy(&other);

    /* Oversized payloads. */
    wasmplug_bus_config cfg = {0};
    cfg.max_payload = 16;
    CHECK_STATUS(wasmplug_bus_new(NULL, &cfg, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_publish(bus, "a", "\"0123456789abcd\"", 16, NULL, &err),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_publish(bus, "a", "\"0123456789abcde\"", 17, NULL, &err),
                 WASMPLUG_ERR_INPUT_TOO_LARGE);
    CHECK_CONTAINS(err.message, "17 bytes, over the bus limit of 16");
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(bus, &bs);
    CHECK_EQ(bs.published, 1);
    CHECK_EQ(bs.publish_errors, 1);
    wasmplug_bus_free(bus);
}

/* ---- order per publisher ---- */

#define ORDER_THREADS 4
#define ORDER_EVENTS 3000

typedef struct order_state {
    pthread_mutex_t mu;
    long next[ORDER_THREADS]; /* next sequence number expected per publisher */
    long received, out_of_order;
} order_state;

static int order_check(void *user, wasmplug_bus *bus, const wasmplug_event *events, size_t count,
                       const char **error)
{
    (void)bus;
    (void)error;
    order_state *o = user;
    pthread_mutex_lock(&o->mu);
    for (size_t i = 0; i < count; i++) {
        long thread = 0, seq = 0;
        if (sscanf(events[i].payload, "[%ld,%ld]", &thread, &seq) != 2 || thread < 0 ||
            thread >= ORDER_THREADS || seq != o->next[thread])
            o->out_of_order++;
        else
            o->next[thread]++;
        o->received++;
    }
    pthread_mutex_unlock(&o->mu);
    return 0;
}

typedef struct publisher_arg {
    wasmplug_bus *bus;
    int thread;
    int failures;
} publisher_arg;

static void *order_publisher(void *arg)
{
    publisher_arg *a = arg;
    char buf[64];
    for (int i = 0; i < ORDER_EVENTS; i++) {
        int n = snprintf(buf, sizeof buf, "[%d,%d]", a->thread, i);
        if (wasmplug_bus_publish(a->bus, "order.test", buf, (size_t)n, NULL, NULL))
            a->failures++;
    }
    return NULL;
}

static void test_order(void)
{
    wasmplug_bus_config cfg = {0};
    cfg.workers = 3;
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, &cfg, &bus), WASMPLUG_OK);
    order_state plain, batched;
    memset(&plain, 0, sizeof plain);
    memset(&batched, 0, sizeof batched);
    pthread_mutex_init(&plain.mu, NULL);
    pthread_mutex_init(&batched.mu, NULL);
    /* Small queues that block: publishers wait, nothing may be lost. */
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.queue_size = 16;
    o.on_full = WASMPLUG_FULL_BLOCK;
    o.block_timeout_ms = 30000;
    uint64_t s1, s2;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "order.*", &o, order_check, &plain, &s1, NULL),
                 WASMPLUG_OK);
    o.batch_max = 8;
    o.batch_window_ms = 2;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "order.>", &o, order_check, &batched, &s2, NULL),
                 WASMPLUG_OK);
    pthread_t t[ORDER_THREADS];
    publisher_arg args[ORDER_THREADS];
    for (int i = 0; i < ORDER_THREADS; i++) {
        args[i] = (publisher_arg){bus, i, 0};
        pthread_create(&t[i], NULL, order_publisher, &args[i]);
    }
    for (int i = 0; i < ORDER_THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(args[i].failures, 0);
    }
    CHECK(bus_wait_idle(bus, s1));
    CHECK(bus_wait_idle(bus, s2));
    CHECK_EQ(plain.received, ORDER_THREADS * ORDER_EVENTS);
    CHECK_EQ(plain.out_of_order, 0);
    CHECK_EQ(batched.received, ORDER_THREADS * ORDER_EVENTS);
    CHECK_EQ(batched.out_of_order, 0);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, s2, &st), WASMPLUG_OK);
    CHECK_EQ(st.dropped + st.rejected, 0);
    CHECK(st.deliveries < st.delivered); /* batches really were batches */
    CHECK(st.queue_max <= 16);
    wasmplug_bus_free(bus);
    pthread_mutex_destroy(&plain.mu);
    pthread_mutex_destroy(&batched.mu);
}

/* ---- full-queue policies ---- */

/* A subscription of queue size 4 whose callback is held in the gate with
 * one event (id first) in hand. */
static uint64_t held_subscription(wasmplug_bus *bus, collector *c,
                                  wasmplug_bus_full_policy policy, uint32_t block_ms,
                                  uint64_t *first)
{
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.queue_size = 4;
    o.on_full = policy;
    o.block_timeout_ms = block_ms;
    uint64_t sub = 0;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "q", &o, collect, c, &sub, NULL), WASMPLUG_OK);
    collector_gate(c, true);
    CHECK_STATUS(wasmplug_bus_publish(bus, "q", "0", 1, first, NULL), WASMPLUG_OK);
    CHECK(collector_wait_entered(c));
    return sub;
}

static void test_drop_oldest(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    uint64_t first, ids[9];
    uint64_t sub = held_subscription(bus, &c, WASMPLUG_FULL_DROP_OLDEST, 0, &first);
    for (int i = 0; i < 9; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "q", "1", 1, &ids[i], NULL), WASMPLUG_OK);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.queue_depth, 4);
    CHECK_EQ(st.dropped, 5);
    collector_gate(&c, false);
    CHECK(collector_wait(&c, 5));
    CHECK(bus_wait_idle(bus, sub));
    /* The first (in hand) and the four newest arrive, in order. */
    CHECK_EQ(collector_count(&c), 5);
    CHECK_EQ(c.ids[0], first);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(c.ids[1 + i], ids[5 + i]);
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.enqueued, 10);
    CHECK_EQ(st.delivered, 5);
    CHECK_EQ(st.dropped, 5);
    wasmplug_topic_stats ts;
    CHECK_STATUS(wasmplug_bus_topic_stats(bus, "q", &ts), WASMPLUG_OK);
    CHECK_EQ(ts.published, 10);
    CHECK_EQ(ts.delivered, 5);
    CHECK_EQ(ts.dropped, 5);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static void test_reject(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c, other;
    collector_init(&c);
    collector_init(&other);
    uint64_t first, other_sub;
    uint64_t sub = held_subscription(bus, &c, WASMPLUG_FULL_REJECT, 0, &first);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "q", NULL, collect, &other, &other_sub, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 4; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "q", "1", 1, NULL, NULL), WASMPLUG_OK);
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_publish(bus, "q", "2", 1, NULL, &err), WASMPLUG_ERR_LIMIT);
    CHECK_CONTAINS(err.message, "queue is full (4 events, on_full: reject)");
    CHECK_CONTAINS(err.plugin, "host");
    /* The other subscriber still got it. */
    CHECK(collector_wait(&other, 5));
    collector_gate(&c, false);
    CHECK(bus_wait_idle(bus, sub));
    CHECK_EQ(collector_count(&c), 5);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.rejected, 1);
    CHECK_EQ(st.dropped, 0);
    CHECK_EQ(st.delivered, 5);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
    collector_destroy(&other);
}

typedef struct opener_arg {
    collector *c;
    unsigned after_ms;
} opener_arg;

static void *open_gate_later(void *arg)
{
    opener_arg *a = arg;
    ev_test_sleep_ms(a->after_ms);
    collector_gate(a->c, false);
    return NULL;
}

static void test_block(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    uint64_t first;
    uint64_t sub = held_subscription(bus, &c, WASMPLUG_FULL_BLOCK, 60, &first);
    for (int i = 0; i < 4; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "q", "1", 1, NULL, NULL), WASMPLUG_OK);
    wasmplug_plugin_error err;
    uint64_t t0 = test_now_ms();
    CHECK_STATUS(wasmplug_bus_publish(bus, "q", "2", 1, NULL, &err), WASMPLUG_ERR_TIMEOUT);
    CHECK(test_now_ms() - t0 >= 55);
    CHECK_CONTAINS(err.message, "for 60 ms (on_full: block)");
    collector_gate(&c, false);
    CHECK(bus_wait_idle(bus, sub));
    CHECK_EQ(collector_count(&c), 5);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.rejected, 1);
    CHECK_EQ(st.delivered, 5);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

/* A blocked publisher goes on once the subscriber makes room. The block
 * timeout is far longer than the gate's delay, so a loaded machine that
 * runs the opener late cannot turn the wait into a timeout. */
static void test_block_released(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    uint64_t first;
    uint64_t sub = held_subscription(bus, &c, WASMPLUG_FULL_BLOCK, 30000, &first);
    for (int i = 0; i < 4; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "q", "1", 1, NULL, NULL), WASMPLUG_OK);
    pthread_t opener;
    opener_arg a = {&c, 20};
    pthread_create(&opener, NULL, open_gate_later, &a);
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_publish(bus, "q", "3", 1, NULL, &err), WASMPLUG_OK);
    /* It returned because the held delivery finished and made room. */
    CHECK(collector_count(&c) >= 1);
    pthread_join(opener, NULL);
    CHECK(bus_wait_idle(bus, sub));
    CHECK_EQ(collector_count(&c), 6);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.rejected, 0);
    CHECK_EQ(st.delivered, 6);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static void test_batching(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.batch_max = 10;
    /* Far longer than publishing ten events takes even on a loaded machine,
     * so the first batch is always the full ten. */
    o.batch_window_ms = 1000;
    uint64_t sub;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "b.*", &o, collect, &c, &sub, NULL), WASMPLUG_OK);
    collector_gate(&c, true); /* hold the first batch so the rest queue up */
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < 10; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "b.x", "1", 1, NULL, NULL), WASMPLUG_OK);
    CHECK(collector_wait_entered(&c));
    for (int i = 0; i < 15; i++)
        CHECK_STATUS(wasmplug_bus_publish(bus, "b.x", "1", 1, NULL, NULL), WASMPLUG_OK);
    collector_gate(&c, false);
    CHECK(collector_wait(&c, 25));
    /* 10 (full), 10 (full), then 5 after the window. */
    CHECK_EQ(c.calls, 3);
    CHECK_EQ(c.batch_sizes[0], 10);
    CHECK_EQ(c.batch_sizes[1], 10);
    CHECK_EQ(c.batch_sizes[2], 5);
    CHECK(test_now_ms() - t0 >= 990);
    /* A lone event waits for the window, then goes alone. */
    t0 = test_now_ms();
    CHECK_STATUS(wasmplug_bus_publish(bus, "b.y", "2", 1, NULL, NULL), WASMPLUG_OK);
    CHECK(collector_wait(&c, 26));
    CHECK(test_now_ms() - t0 >= 990);
    CHECK_EQ(c.batch_sizes[3], 1);
    wasmplug_subscription_stats st;
    CHECK(bus_wait_idle(bus, sub));
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.deliveries, 4);
    CHECK_EQ(st.delivered, 26);
    CHECK(st.latency_max_ns >= 75000000u);
    CHECK(st.latency_p50_ns > 0 && st.latency_p99_ns >= st.latency_p50_ns);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static void test_retry_dead_letter(void)
{
    wasmplug_bus_config cfg = {0};
    cfg.dead_letter_max = 2;
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, &cfg, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.retries = 2;
    o.retry_backoff_ms = 5;
    uint64_t sub;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "r", &o, collect, &c, &sub, NULL), WASMPLUG_OK);
    c.fail_next = 2; /* two failures, then the third attempt succeeds */
    CHECK_STATUS(wasmplug_bus_publish(bus, "r", "1", 1, NULL, NULL), WASMPLUG_OK);
    CHECK(collector_wait(&c, 1));
    CHECK(bus_wait_idle(bus, sub));
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.retries, 2);
    CHECK_EQ(st.delivered, 1);
    CHECK_EQ(st.failed, 0);

    /* Three failures: dead-lettered after 3 attempts, 3 times; the list
     * keeps the last 2. */
    uint64_t ids[3];
    for (int i = 0; i < 3; i++) {
        pthread_mutex_lock(&c.mu);
        c.fail_next = 3;
        pthread_mutex_unlock(&c.mu);
        CHECK_STATUS(wasmplug_bus_publish(bus, "r", "[1]", 3, &ids[i], NULL), WASMPLUG_OK);
        CHECK(bus_wait_idle(bus, sub));
    }
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sub, &st), WASMPLUG_OK);
    CHECK_EQ(st.failed, 3);
    CHECK_EQ(st.retries, 2 + 6);
    wasmplug_dead_letter *dl;
    size_t n;
    CHECK_STATUS(wasmplug_bus_dead_letters(bus, false, &dl, &n), WASMPLUG_OK);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(dl[0].event_id, ids[1]);
        CHECK_EQ(dl[1].event_id, ids[2]);
        CHECK_EQ(dl[1].attempts, 3);
        CHECK_EQ(dl[1].code, WASMPLUG_ERR_HOST_FUNCTION);
        CHECK_CONTAINS(dl[1].error, "failed with 7: told to fail");
        CHECK_CONTAINS(dl[1].json, "\"payload\":[1]");
        CHECK(strcmp(dl[1].topic, "r") == 0);
    }
    wasmplug_bus_dead_letters_free(dl, n);
    CHECK_STATUS(wasmplug_bus_dead_letters(bus, true, &dl, &n), WASMPLUG_OK);
    wasmplug_bus_dead_letters_free(dl, n);
    CHECK_STATUS(wasmplug_bus_dead_letters(bus, false, &dl, &n), WASMPLUG_OK);
    CHECK_EQ(n, 0);
    wasmplug_bus_dead_letters_free(dl, n);
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(bus, &bs);
    CHECK_EQ(bs.dead_letters, 3);
    CHECK_EQ(bs.dead_letters_evicted, 1);
    wasmplug_plugin_error errs[8];
    size_t ne = wasmplug_bus_errors(bus, errs, 8);
    CHECK_EQ(ne, 3);
    if (ne)
        CHECK_CONTAINS(errs[ne - 1].message, "after 3 attempt(s), dead-lettered");
    wasmplug_topic_stats ts;
    CHECK_STATUS(wasmplug_bus_topic_stats(bus, "r", &ts), WASMPLUG_OK);
    CHECK_EQ(ts.failed, 3);
    CHECK_EQ(ts.delivered, 1);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static void test_hops(void)
{
    wasmplug_bus_config cfg = {0};
    cfg.max_hops = 3;
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, &cfg, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "h", NULL, collect, &c, NULL, NULL), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_publish_from(bus, "relay", 3, "h", 1, "1", 1, NULL, NULL),
                 WASMPLUG_OK);
    CHECK(collector_wait(&c, 1));
    CHECK_CONTAINS(c.last_json, "\"hops\":3");
    CHECK_CONTAINS(c.last_json, "\"source\":\"relay\"");
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_publish_from(bus, "relay", 4, "h", 1, "1", 1, NULL, &err),
                 WASMPLUG_ERR_LIMIT);
    CHECK_CONTAINS(err.message, "hop 4, over the limit of 3");
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(bus, &bs);
    CHECK_EQ(bs.hop_limited, 1);
    wasmplug_plugin_error errs[4];
    CHECK_EQ(wasmplug_bus_errors(bus, errs, 4), 1);
    CHECK_CONTAINS(errs[0].message, "cycle");
    CHECK(strcmp(errs[0].plugin, "relay") == 0);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static int never_reply(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                       size_t count, const char **error)
{
    (void)user;
    (void)bus;
    (void)events;
    (void)count;
    (void)error;
    return 0;
}

/* Replies by publishing to the event's reply_to inbox, as a plugin would. */
static int reply_by_publish(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                            size_t count, const char **error)
{
    (void)user;
    (void)error;
    for (size_t i = 0; i < count; i++)
        if (events[i].reply_to)
            wasmplug_bus_publish(bus, events[i].reply_to, "{\"sum\":3}", 9, NULL, NULL);
    return 0;
}

static void test_request_reply(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    c.reply = true;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "svc.ping", NULL, collect, &c, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "svc.slow", NULL, never_reply, NULL, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "svc.add", NULL, reply_by_publish, NULL, NULL,
                                        NULL),
                 WASMPLUG_OK);
    wasmplug_buf reply;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_request(bus, "svc.ping", "{}", 2, 5000, &reply, &err),
                 WASMPLUG_OK);
    CHECK(reply.len == 4 && memcmp(reply.data, "pong", 4) == 0);
    wasmplug_buf_free(&reply);
    CHECK_CONTAINS(c.last_json, "\"reply_to\":\"_inbox.");
    CHECK_STATUS(wasmplug_bus_request(bus, "svc.add", "[1,2]", 5, 5000, &reply, &err),
                 WASMPLUG_OK);
    CHECK(reply.len == 9 && memcmp(reply.data, "{\"sum\":3}", 9) == 0);
    wasmplug_buf_free(&reply);

    uint64_t t0 = test_now_ms();
    CHECK_STATUS(wasmplug_bus_request(bus, "svc.slow", "{}", 2, 50, &reply, &err),
                 WASMPLUG_ERR_TIMEOUT);
    CHECK(test_now_ms() - t0 >= 45);
    CHECK_CONTAINS(err.message, "no reply to the request on 'svc.slow' within 50 ms");
    CHECK(reply.data == NULL);
    CHECK_STATUS(wasmplug_bus_request(bus, "svc.none", "{}", 2, 50, &reply, &err),
                 WASMPLUG_ERR_NOT_FOUND);
    CHECK_CONTAINS(err.message, "no subscriber");
    /* A late reply to an inbox nobody waits on is ignored. */
    CHECK_STATUS(wasmplug_bus_publish(bus, "_inbox.999999", "1", 1, NULL, NULL), WASMPLUG_OK);
    wasmplug_event fake = {0};
    fake.reply_to = "_inbox.999999";
    CHECK_STATUS(wasmplug_bus_reply(bus, &fake, "x", 1), WASMPLUG_ERR_NOT_FOUND);
    fake.reply_to = NULL;
    CHECK_STATUS(wasmplug_bus_reply(bus, &fake, "x", 1), WASMPLUG_ERR_ARGUMENT);
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(bus, &bs);
    CHECK_EQ(bs.requests, 4);
    CHECK_EQ(bs.replies, 2);
    CHECK_EQ(bs.request_timeouts, 1);
    wasmplug_bus_free(bus);
    collector_destroy(&c);
}

static void test_metrics_and_unsubscribe(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector a, b;
    collector_init(&a);
    collector_init(&b);
    uint64_t sa, sb;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "m.>", NULL, collect, &a, &sa, NULL), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "m.one", NULL, collect, &b, &sb, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 5; i++)
        wasmplug_bus_publish(bus, "m.one", "1", 1, NULL, NULL);
    wasmplug_bus_publish(bus, "m.two", "1", 1, NULL, NULL);
    wasmplug_bus_publish(bus, "nobody.listens", "1", 1, NULL, NULL);
    CHECK(collector_wait(&a, 6));
    CHECK(collector_wait(&b, 5));
    CHECK(bus_wait_idle(bus, sa));
    CHECK(bus_wait_idle(bus, sb));
    wasmplug_topic_stats ts;
    CHECK_STATUS(wasmplug_bus_topic_stats(bus, "m.one", &ts), WASMPLUG_OK);
    CHECK_EQ(ts.published, 5);
    CHECK_EQ(ts.delivered, 10);
    CHECK_STATUS(wasmplug_bus_topic_stats(bus, "nobody.listens", &ts), WASMPLUG_OK);
    CHECK_EQ(ts.unmatched, 1);
    CHECK_STATUS(wasmplug_bus_topic_stats(bus, "never", &ts), WASMPLUG_ERR_NOT_FOUND);
    wasmplug_topic_stats *topics;
    size_t nt;
    CHECK_STATUS(wasmplug_bus_list_topics(bus, &topics, &nt), WASMPLUG_OK);
    CHECK_EQ(nt, 3);
    wasmplug_free(topics);
    wasmplug_subscription_stats *subs;
    size_t ns;
    CHECK_STATUS(wasmplug_bus_list_subscriptions(bus, &subs, &ns), WASMPLUG_OK);
    CHECK_EQ(ns, 2);
    if (ns == 2) {
        CHECK(strcmp(subs[0].pattern, "m.>") == 0);
        CHECK(strcmp(subs[0].subscriber, "host") == 0);
        CHECK_EQ(subs[0].delivered, 6);
        CHECK(subs[0].latency_total_ns > 0);
    }
    wasmplug_free(subs);

    /* Unsubscribe: queued events are discarded and counted. */
    collector_gate(&b, true);
    wasmplug_bus_publish(bus, "m.one", "1", 1, NULL, NULL);
    CHECK(collector_wait_entered(&b));
    wasmplug_bus_publish(bus, "m.one", "1", 1, NULL, NULL);
    wasmplug_bus_publish(bus, "m.one", "1", 1, NULL, NULL);
    pthread_t opener;
    opener_arg oa = {&b, 30};
    pthread_create(&opener, NULL, open_gate_later, &oa);
    uint64_t discarded = 0;
    CHECK_STATUS(wasmplug_bus_unsubscribe(bus, sb, &discarded), WASMPLUG_OK);
    pthread_join(opener, NULL);
    CHECK_EQ(discarded, 2);
    CHECK_EQ(collector_count(&b), 6); /* the one in hand finished first */
    CHECK_STATUS(wasmplug_bus_unsubscribe(bus, sb, NULL), WASMPLUG_ERR_NOT_FOUND);
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sb, NULL), WASMPLUG_ERR_ARGUMENT);
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, sb, &st), WASMPLUG_ERR_NOT_FOUND);
    wasmplug_bus_publish(bus, "m.one", "1", 1, NULL, NULL);
    CHECK(collector_wait(&a, 10));
    CHECK_EQ(collector_count(&b), 6);
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(bus, &bs);
    CHECK_EQ(bs.subscriptions, 1);
    wasmplug_bus_free(bus);
    collector_destroy(&a);
    collector_destroy(&b);
}

static int slow_subscriber(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                           size_t count, const char **error)
{
    (void)bus;
    (void)events;
    (void)error;
    ev_test_sleep_ms(1);
    _Atomic size_t *n = user;
    atomic_fetch_add(n, count);
    return 0;
}

static void test_shutdown(void)
{
    /* Drain: everything queued is delivered. */
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    _Atomic size_t got = 0;
    uint64_t sub;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "s", NULL, slow_subscriber, &got, &sub, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 50; i++)
        wasmplug_bus_publish(bus, "s", "1", 1, NULL, NULL);
    wasmplug_bus_report rep;
    CHECK_STATUS(wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, WASMPLUG_NO_TIMEOUT, &rep),
                 WASMPLUG_OK);
    CHECK_EQ(atomic_load(&got), 50);
    CHECK(rep.delivered > 0 && rep.delivered <= 50);
    CHECK_EQ(rep.discarded, 0);
    CHECK(!rep.timed_out);
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_publish(bus, "s", "1", 1, NULL, &err), WASMPLUG_ERR_PLUGIN_STATE);
    CHECK_CONTAINS(err.message, "shutting down");
    CHECK_STATUS(wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, 0, &rep),
                 WASMPLUG_ERR_PLUGIN_STATE);
    wasmplug_bus_free(bus);

    /* Drain with a timeout too short: the rest is discarded, and counted. */
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    atomic_store(&got, 0);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "s", NULL, slow_subscriber, &got, &sub, NULL),
                 WASMPLUG_OK);
    for (int i = 0; i < 500; i++)
        wasmplug_bus_publish(bus, "s", "1", 1, NULL, NULL);
    CHECK_STATUS(wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, 20, &rep), WASMPLUG_OK);
    CHECK(rep.timed_out);
    CHECK(rep.discarded > 0);
    CHECK_EQ(atomic_load(&got) + rep.discarded, 500);
    wasmplug_bus_free(bus);

    /* Discard: held subscriber, queued events dropped at once and counted;
     * a request waiting is cancelled. */
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    collector c;
    collector_init(&c);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "d", NULL, collect, &c, &sub, NULL), WASMPLUG_OK);
    collector_gate(&c, true);
    wasmplug_bus_publish(bus, "d", "1", 1, NULL, NULL);
    CHECK(collector_wait_entered(&c));
    for (int i = 0; i < 30; i++)
        wasmplug_bus_publish(bus, "d", "1", 1, NULL, NULL);
    pthread_t opener;
    opener_arg oa = {&c, 30};
    pthread_create(&opener, NULL, open_gate_later, &oa);
    CHECK_STATUS(wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DISCARD, 0, &rep), WASMPLUG_OK);
    pthread_join(opener, NULL);
    CHECK_EQ(rep.discarded, 30);
    CHECK_EQ(collector_count(&c), 1);
    wasmplug_bus_free(bus);
    collector_destroy(&c);

    wasmplug_bus_free(NULL);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_topic_syntax();
    test_matching();
    test_deliver_json();
    test_order();
    test_drop_oldest();
    test_reject();
    test_block();
    test_block_released();
    test_batching();
    test_retry_dead_letter();
    test_hops();
    test_request_reply();
    test_metrics_and_unsubscribe();
    test_shutdown();
    return test_done();
}
