/*
 * test_bridge.c - the event bus across processes on Redis Streams
 * (<wasmplug/events_bridge.h>), with a real redis-server (redis_test.h,
 * append-only file in its temporary directory) and real host processes:
 * this program runs itself with --role for each of them.
 *
 *   groups:   two subscriber processes, one publisher (host publishes and a
 *             plugin's transactional ones): each subscriber group gets every
 *             event exactly once across the processes; poison events fail,
 *             are retried, then dead-lettered in Redis with their error.
 *   crash:    a subscriber SIGKILLed in its handler: another process of the
 *             group claims the unacknowledged entries and delivers them;
 *             with max_deliveries exceeded they are dead-lettered instead.
 *   restart:  Redis killed and restarted while events are published and
 *             delivered: every publish acknowledged, every event delivered.
 *   api:      bad configurations, an unreachable Redis, local topics, a
 *             plugin call failing when Redis does not take its events, a bus
 *             shutting down leaving new entries to the group's next reader.
 */
#include "events_test.h"
#include "redis/share_test.h"
#include "wasmplug/events_bridge.h"
#include "wasmplug/services.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "wasmplug:events:"
static const char *const BRIDGED[] = {"orders.>", "jobs.*", "ticks.*"};

static redis_test_server srv;

/* Entries pending in a group (-1 if it does not exist). */
static long long pending(const char *stream, const char *group)
{
    redisReply *r = share_redis("XPENDING %s %s", stream, group);
    long long n = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 ? r->element[0]->integer
                                                                       : -1;
    freeReplyObject(r);
    return n;
}

static long long xlen(const char *stream)
{
    redisReply *r = share_redis("XLEN %s", stream);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return n;
}

/* A field of the XINFO GROUPS entry of group on stream, or "" (static). */
static const char *group_info(const char *stream, const char *group, const char *name)
{
    static char value[128];
    value[0] = 0;
    redisReply *r = share_redis("XINFO GROUPS %s", stream);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *g = r->element[i];
        bool mine = false;
        for (size_t j = 0; j + 1 < g->elements; j += 2)
            if (!strcmp(g->element[j]->str, "name"))
                mine = !strcmp(g->element[j + 1]->str, group);
        for (size_t j = 0; mine && j + 1 < g->elements; j += 2)
            if (!strcmp(g->element[j]->str, name) && g->element[j + 1]->type == REDIS_REPLY_STRING)
                snprintf(value, sizeof value, "%s", g->element[j + 1]->str);
            else if (!strcmp(g->element[j]->str, name))
                snprintf(value, sizeof value, "%lld", g->element[j + 1]->integer);
        if (mine && !value[0])
            snprintf(value, sizeof value, "?");
    }
    freeReplyObject(r);
    return value;
}

static bool group_exists(const char *stream, const char *group)
{
    return group_info(stream, group, "name")[0] != 0;
}

/* The id of the stream's last entry ("" if none). */
static void last_id(const char *stream, char *out, size_t size)
{
    redisReply *r = share_redis("XREVRANGE %s + - COUNT 1", stream);
    out[0] = 0;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
        snprintf(out, size, "%s", r->element[0]->element[0]->str);
    freeReplyObject(r);
}

/* Wait until the groups have read every entry and have nothing pending. */
static bool wait_drained(const char *stream, const char *const *groups, size_t n,
                         unsigned timeout_ms)
{
    uint64_t deadline = test_now_ms() + timeout_ms;
    while (test_now_ms() < deadline) {
        bool all = true;
        char last[64];
        last_id(stream, last, sizeof last);
        /* Nothing pending, and everything read. */
        for (size_t i = 0; i < n; i++)
            if (pending(stream, groups[i]) != 0 ||
                strcmp(group_info(stream, groups[i], "last-delivered-id"), last) != 0)
                all = false;
        if (all)
            return true;
        ev_test_sleep_ms(20);
    }
    return false;
}

/* The dead letters of a group: how many, and one's fields in *error,
 * *attempts (of the last). */
static size_t dead_letters(const char *group, char *error, size_t esize, char *attempts,
                           size_t asize)
{
    redisReply *r = share_redis("XRANGE " PREFIX "dead - +");
    size_t n = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        bool mine = false;
        const char *err = "", *att = "";
        for (size_t j = 0; j + 1 < f->elements; j += 2) {
            if (!strcmp(f->element[j]->str, "group"))
                mine = !strcmp(f->element[j + 1]->str, group);
            if (!strcmp(f->element[j]->str, "error"))
                err = f->element[j + 1]->str;
            if (!strcmp(f->element[j]->str, "attempts"))
                att = f->element[j + 1]->str;
        }
        if (mine) {
            n++;
            snprintf(error, esize, "%s", err);
            snprintf(attempts, asize, "%s", att);
        }
    }
    freeReplyObject(r);
    return n;
}

/* ------------------------------------------------------------------------ */
/* Roles                                                                    */
/* ------------------------------------------------------------------------ */

enum { OK_HANDLER, POISON_HANDLER, HANG_HANDLER };

#define SEEN_MAX 4096
typedef struct role_sub {
    pthread_mutex_t mu;
    char group[200], pattern[200];
    int behavior;
    long seen[SEEN_MAX];
    size_t nseen;
    size_t poison_calls;
} role_sub;

static long payload_n(const wasmplug_event *e)
{
    const char *p = strstr(e->payload, "\"n\":");
    return p ? strtol(p + 4, NULL, 10) : -1;
}

static int on_event(void *user, wasmplug_bus *bus, const wasmplug_event *events, size_t count,
                    const char **error)
{
    (void)bus;
    role_sub *s = user;
    for (size_t i = 0; i < count; i++) {
        long n = payload_n(&events[i]);
        if (s->behavior == HANG_HANDLER) {
            printf("entered %ld\n", n);
            fflush(stdout);
            for (;;)
                pause(); /* killed here */
        }
        pthread_mutex_lock(&s->mu);
        bool poison = strstr(events[i].payload, "poison") != NULL;
        if (poison && s->behavior == POISON_HANDLER) {
            s->poison_calls++;
            pthread_mutex_unlock(&s->mu);
            *error = "poison payload refused";
            return 3;
        }
        if (s->nseen < SEEN_MAX)
            s->seen[s->nseen++] = n;
        pthread_mutex_unlock(&s->mu);
    }
    return 0;
}

static wasmplug_bridge_config bridge_config(const char *url)
{
    wasmplug_bridge_config bc;
    wasmplug_bridge_config_init(&bc);
    bc.redis_url = url;
    bc.topics = BRIDGED;
    bc.topic_count = sizeof BRIDGED / sizeof *BRIDGED;
    bc.publish_timeout_ms = 30000;
    return bc;
}

/* sub URL CONSUMER CLAIM_IDLE_MS MAX_DELIVERIES GROUP:PATTERN:BEHAVIOR... :
 * subscribes, says "ready" once Redis has its groups, runs until stdin
 * closes, then prints "got GROUP n n n..." per subscription and "stats". */
static int role_sub_main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    const char *url = argv[0];
    share_redis_port = atoi(strrchr(url, ':') + 1);
    wasmplug_bus *bus;
    if (wasmplug_bus_new(NULL, NULL, &bus) != WASMPLUG_OK)
        return 3;
    size_t nsubs = (size_t)argc - 4;
    role_sub *subs = calloc(nsubs, sizeof *subs);
    for (size_t i = 0; i < nsubs; i++) {
        char spec[200], *behavior;
        snprintf(spec, sizeof spec, "%s", argv[4 + i]);
        char *pattern = strchr(spec, ':');
        *pattern++ = 0;
        behavior = strchr(pattern, ':');
        *behavior++ = 0;
        pthread_mutex_init(&subs[i].mu, NULL);
        snprintf(subs[i].group, sizeof subs[i].group, "%s", spec);
        snprintf(subs[i].pattern, sizeof subs[i].pattern, "%s", pattern);
        subs[i].behavior = !strcmp(behavior, "poison") ? POISON_HANDLER
                           : !strcmp(behavior, "hang") ? HANG_HANDLER
                                                       : OK_HANDLER;
        wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
        o.group = subs[i].group;
        o.retries = 2;
        o.retry_backoff_ms = 5;
        wasmplug_plugin_error err;
        if (wasmplug_bus_subscribe(bus, pattern, &o, on_event, &subs[i], NULL, &err)) {
            printf("subscribe: %s\n", err.message);
            return 4;
        }
    }
    wasmplug_bridge_config bc = bridge_config(url);
    bc.consumer = argv[1];
    bc.claim_idle_ms = (uint32_t)atoi(argv[2]);
    bc.max_deliveries = (uint32_t)atoi(argv[3]);
    wasmplug_bus_bridge *bridge;
    wasmplug_plugin_error err;
    if (wasmplug_bus_bridge_new(bus, &bc, &bridge, &err)) {
        printf("bridge: %s\n", err.message);
        return 5;
    }
    /* Ready when Redis has every group (the readers create them). */
    for (size_t i = 0; i < nsubs; i++) {
        char group[420];
        snprintf(group, sizeof group, "%s|%s", subs[i].group, subs[i].pattern);
        const char *stream = !strncmp(subs[i].pattern, "orders", 6) ? PREFIX "orders.>"
                             : !strncmp(subs[i].pattern, "jobs", 4) ? PREFIX "jobs.*"
                                                                    : PREFIX "ticks.*";
        for (int t = 0; t < 1000 && !group_exists(stream, group); t++)
            ev_test_sleep_ms(10);
    }
    printf("ready\n");
    fflush(stdout);
    char buf[64];
    while (fgets(buf, sizeof buf, stdin))
        ;
    wasmplug_bridge_stats st;
    wasmplug_bus_bridge_get_stats(bridge, &st);
    wasmplug_bus_bridge_free(bridge, 5000);
    wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, 5000, NULL);
    for (size_t i = 0; i < nsubs; i++) {
        printf("got %s", subs[i].group);
        for (size_t j = 0; j < subs[i].nseen; j++)
            printf(" %ld", subs[i].seen[j]);
        printf("\n");
        printf("poison %s %zu\n", subs[i].group, subs[i].poison_calls);
    }
    printf("stats received=%llu acknowledged=%llu dead=%llu claimed=%llu\n",
           (unsigned long long)st.received, (unsigned long long)st.acknowledged,
           (unsigned long long)st.dead_lettered, (unsigned long long)st.claimed);
    fflush(stdout);
    wasmplug_bus_free(bus);
    for (size_t i = 0; i < nsubs; i++)
        pthread_mutex_destroy(&subs[i].mu);
    free(subs);
    return 0;
}

/* The ev_pub test plugin, granted to publish on orders.>. */
static wasmplug_status load_publisher(wasmplug_host *host, wasmplug_plugin **p,
                                      wasmplug_plugin_error *err)
{
    static const char *const perms[] = {"events.publish:orders.>"};
    wasmplug_host_grant(host, "*", "events.publish:orders.>");
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.permissions = perms;
    m.permission_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    return wasmplug_host_load_file(host, "publisher", WP_EVENTS_PLUGINS "/ev_pub.wasm", &o, p,
                                   err);
}

/* pub URL TOPIC FROM COUNT POISON PAUSE_MS PLUGIN_COUNT: publishes {"n":FROM..} as the host,
 * then PLUGIN_COUNT more through a plugin's event_publish, then POISON
 * events {"n":1000+i,"poison":true}; prints "progress K" every 50 and
 * "published OK FAILED". */
static int role_pub_main(int argc, char **argv)
{
    if (argc < 7)
        return 2;
    const char *url = argv[0], *topic = argv[1];
    long from = atol(argv[2]), count = atol(argv[3]), poison = atol(argv[4]);
    unsigned pause = (unsigned)atoi(argv[5]);
    long plugin_count = atol(argv[6]);
    wasmplug_host *host = NULL;
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    if (wasmplug_host_new(&hc, &host) != WASMPLUG_OK)
        return 3;
    wasmplug_bus *bus;
    wasmplug_plugin_error err;
    if (wasmplug_bus_new(host, NULL, &bus) != WASMPLUG_OK || wasmplug_bus_attach(bus, &err))
        return 3;
    wasmplug_bridge_config bc = bridge_config(url);
    wasmplug_bus_bridge *bridge;
    if (wasmplug_bus_bridge_new(bus, &bc, &bridge, &err)) {
        printf("bridge: %s\n", err.message);
        return 5;
    }
    long ok = 0, failed = 0;
    for (long i = 0; i < count; i++) {
        char payload[64];
        int len = snprintf(payload, sizeof payload, "{\"n\":%ld}", from + i);
        if (wasmplug_bus_publish(bus, topic, payload, (size_t)len, NULL, &err) == WASMPLUG_OK)
            ok++;
        else {
            failed++;
            printf("publish failed: %s\n", err.message);
        }
        if ((i + 1) % 50 == 0) {
            printf("progress %ld\n", i + 1);
            fflush(stdout);
        }
        if (pause)
            ev_test_sleep_ms(pause);
    }
    if (plugin_count > 0) {
        wasmplug_plugin *p = NULL;
        if (load_publisher(host, &p, &err) != WASMPLUG_OK) {
            printf("load: %s\n", err.message);
            return 6;
        }
        for (long i = 0; i < plugin_count; i++) {
            char in[128];
            int len = snprintf(in, sizeof in, "%s\n{\"n\":%ld}", topic, from + count + i);
            wasmplug_buf out;
            if (wasmplug_plugin_call(p, "publish", (const uint8_t *)in, (size_t)len, &out,
                                     &err) == WASMPLUG_OK &&
                out.len == 1 && out.data[0] == '0')
                ok++;
            else
                failed++;
            wasmplug_buf_free(&out);
        }
        wasmplug_plugin_release(p);
    }
    for (long i = 0; i < poison; i++) {
        char payload[64];
        int len = snprintf(payload, sizeof payload, "{\"n\":%ld,\"poison\":true}", 1000 + i);
        if (wasmplug_bus_publish(bus, topic, payload, (size_t)len, NULL, &err) == WASMPLUG_OK)
            ok++;
        else
            failed++;
    }
    printf("published %ld %ld\n", ok, failed);
    fflush(stdout);
    wasmplug_bus_bridge_free(bridge, 1000);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checks in the parent                                                     */
/* ------------------------------------------------------------------------ */

/* Parse "got GROUP n n n" into counts[n] (n < max). */
static void count_got(const char *line, unsigned *counts, long max, long *out_of_range)
{
    const char *p = strchr(line + 4, ' ');
    while (p && *p == ' ') {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end == p + 1)
            break;
        if (n >= 0 && n < max)
            counts[n]++;
        else
            (*out_of_range)++;
        p = end;
    }
}

static char url[64];

static char out_a[131072], out_b[131072], out_p[8192];

static void test_groups(void)
{
    /* A: billing (poison fails) and audit; B: billing. */
    const char *a_args[] = {"sub", url, "a", "30000", "5", "billing:orders.*:poison",
                            "audit:orders.>:ok", NULL};
    const char *b_args[] = {"sub", url, "b", "30000", "5", "billing:orders.*:poison", NULL};
    share_child a = share_spawn("sub-a", a_args), b = share_spawn("sub-b", b_args);
    char line[256];
    CHECK(share_expect(&a, "ready", line, sizeof line, 20000));
    CHECK(share_expect(&b, "ready", line, sizeof line, 20000));
    /* 100 host publishes, 20 from a plugin, 3 poison. */
    const char *p_args[] = {"pub", url, "orders.created", "0", "100", "3", "0", "20", NULL};
    share_child p = share_spawn("pub", p_args);
    CHECK_EQ(share_finish(&p, out_p, sizeof out_p), 0);
    CHECK(strcmp(share_line(out_p, "published"), "published 123 0") == 0);

    static const char *const groups[] = {"billing|orders.*", "audit|orders.>"};
    CHECK(wait_drained(PREFIX "orders.>", groups, 2, 30000));
    char error[256] = "", attempts[16] = "";
    CHECK_EQ(dead_letters("billing|orders.*", error, sizeof error, attempts, sizeof attempts), 3);
    CHECK_CONTAINS(error, "poison payload refused");
    CHECK(strcmp(attempts, "3") == 0); /* 1 + 2 retries */
    CHECK_EQ(dead_letters("audit|orders.>", error, sizeof error, attempts, sizeof attempts), 0);

    CHECK_EQ(share_finish(&a, out_a, sizeof out_a), 0);
    CHECK_EQ(share_finish(&b, out_b, sizeof out_b), 0);
    unsigned billing[1100] = {0}, audit[1100] = {0};
    long odd = 0;
    count_got(share_line(out_a, "got billing"), billing, 1100, &odd);
    count_got(share_line(out_b, "got billing"), billing, 1100, &odd);
    count_got(share_line(out_a, "got audit"), audit, 1100, &odd);
    CHECK_EQ(odd, 0);
    /* Every event once per group across A and B; poison never delivered to
     * billing, but to audit, whose handler takes it. */
    size_t billing_once = 0, audit_once = 0;
    for (long n = 0; n < 120; n++) {
        billing_once += billing[n] == 1;
        audit_once += audit[n] == 1;
    }
    CHECK_EQ(billing_once, 120);
    CHECK_EQ(audit_once, 120);
    for (long n = 1000; n < 1003; n++) {
        CHECK_EQ(billing[n], 0);
        CHECK_EQ(audit[n], 1);
    }
    /* Each poison event was tried three times, in A or B. */
    long poison = atol(share_line(out_a, "poison billing") + 15) +
                  atol(share_line(out_b, "poison billing") + 15);
    CHECK_EQ(poison, 9);
    printf("groups: A %s\n", share_line(out_a, "stats"));
    printf("        B %s\n", share_line(out_b, "stats"));
}

/* A subscriber killed inside its handler: the group's entries it held are
 * claimed by another process and delivered; past max_deliveries they are
 * dead-lettered instead. */
static void test_crash(void)
{
    char line[256];
    static const char *const groups[] = {"work|jobs.*"};
    for (int round = 0; round < 2; round++) {
        const char *c_args[] = {"sub", url, round ? "c2" : "c1", "300", "5", "work:jobs.*:hang",
                                NULL};
        share_child c = share_spawn("sub-hang", c_args);
        CHECK(share_expect(&c, "ready", line, sizeof line, 20000));
        /* Round 0: jobs 1 and 2; round 1: job 3. */
        const char *p_args[] = {"pub", url, "jobs.run", round ? "3" : "1", round ? "1" : "2",
                                "0", "0", "0", NULL};
        share_child p = share_spawn("pub", p_args);
        CHECK_EQ(share_finish(&p, out_p, sizeof out_p), 0);
        CHECK(share_expect(&c, round ? "entered 3" : "entered 1", line, sizeof line, 20000));
        /* The hanging process holds every job (job 2 may come in a second
         * read) when it dies. */
        long long want = round ? 1 : 2;
        for (int i = 0; i < 1000 && pending(PREFIX "jobs.*", "work|jobs.*") != want; i++)
            ev_test_sleep_ms(10);
        share_kill(&c);
        CHECK_EQ(pending(PREFIX "jobs.*", "work|jobs.*"), want);
        /* Round 1 allows one hand-out: the claim would be the second. */
        const char *d_args[] = {"sub", url, round ? "d2" : "d1", "300", round ? "1" : "5",
                                "work:jobs.*:ok", NULL};
        share_child d = share_spawn("sub-ok", d_args);
        CHECK(share_expect(&d, "ready", line, sizeof line, 20000));
        CHECK(wait_drained(PREFIX "jobs.*", groups, 1, 30000));
        CHECK_EQ(share_finish(&d, out_b, sizeof out_b), 0);
        unsigned got[8] = {0};
        long odd = 0;
        count_got(share_line(out_b, "got work"), got, 8, &odd);
        CHECK_EQ(odd, 0);
        char error[256] = "", attempts[16] = "";
        size_t dead = dead_letters("work|jobs.*", error, sizeof error, attempts, sizeof attempts);
        if (round == 0) {
            CHECK(got[1] == 1 && got[2] == 1); /* delivered again, once each */
            CHECK_EQ(dead, 0);
            CHECK_CONTAINS(share_line(out_b, "stats"), "claimed=2");
        } else {
            CHECK_EQ(got[3], 0);
            CHECK_EQ(dead, 1);
            CHECK_CONTAINS(error, "handed out 2 times without an acknowledgement");
        }
    }
}

/* Redis killed (SIGKILL) and restarted while a publisher publishes and a
 * subscriber consumes: every publish is acknowledged, every event arrives. */
static void test_restart(void)
{
    char line[256];
    const char *r_args[] = {"sub", url, "r", "2000", "100", "tick:ticks.*:ok", NULL};
    share_child r = share_spawn("sub-r", r_args);
    CHECK(share_expect(&r, "ready", line, sizeof line, 20000));
    const char *p_args[] = {"pub", url, "ticks.t", "0", "200", "0", "10", "0", NULL};
    share_child p = share_spawn("pub", p_args);
    CHECK(share_expect(&p, "progress 50", line, sizeof line, 30000));
    redis_test_halt(&srv, true);
    ev_test_sleep_ms(500);
    CHECK(redis_test_start(&srv));
    CHECK_EQ(share_finish(&p, out_p, sizeof out_p), 0);
    CHECK(strcmp(share_line(out_p, "published"), "published 200 0") == 0);
    static const char *const groups[] = {"tick|ticks.*"};
    CHECK(wait_drained(PREFIX "ticks.*", groups, 1, 30000));
    CHECK_EQ(share_finish(&r, out_a, sizeof out_a), 0);
    unsigned got[200] = {0};
    long odd = 0;
    count_got(share_line(out_a, "got tick"), got, 200, &odd);
    size_t seen = 0, twice = 0;
    for (int n = 0; n < 200; n++) {
        seen += got[n] > 0;
        twice += got[n] > 1;
    }
    CHECK_EQ(seen, 200);
    CHECK_EQ(odd, 0);
    printf("restart: %zu of 200 delivered, %zu more than once; %s\n", seen, twice,
           share_line(out_a, "stats"));
}

static int reply_pong(void *user, wasmplug_bus *bus, const wasmplug_event *events, size_t count,
                      const char **error)
{
    (void)error;
    atomic_fetch_add((atomic_int *)user, (int)count);
    for (size_t i = 0; i < count; i++)
        if (events[i].reply_to)
            wasmplug_bus_reply(bus, &events[i], "pong", 4);
    return 0;
}

/* Configuration errors, an unreachable Redis, what stays local. */
static void test_api(void)
{
    wasmplug_bus *bus;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &bus), WASMPLUG_OK);
    wasmplug_bridge_config bc = bridge_config("http://x");
    wasmplug_bus_bridge *b = NULL;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "redis_url");
    bc = bridge_config(url);
    bc.topic_count = 0;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_ERR_ARGUMENT);
    static const char *const bad[] = {"orders..x"};
    bc.topics = bad;
    bc.topic_count = 1;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "bridged topic 0");
    char nowhere[64];
    snprintf(nowhere, sizeof nowhere, "redis://127.0.0.1:%d", redis_test_free_port());
    bc = bridge_config(nowhere);
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_ERR_IO);
    CHECK_CONTAINS(err.message, "cannot connect");
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.group = "bad group";
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "orders.*", &o, reply_pong, NULL, NULL, &err),
               WASMPLUG_ERR_ARGUMENT);

    bc = bridge_config(url);
    bc.publish_timeout_ms = 300;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_OK);
    wasmplug_bus_bridge *again = NULL;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &again, &err), WASMPLUG_ERR_DUPLICATE);
    /* A local topic and a request on a bridged one stay in the process. */
    atomic_int local = 0, req = 0;
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "local.*", NULL, reply_pong, &local, NULL, &err),
               WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(bus, "orders.ask", NULL, reply_pong, &req, NULL, &err),
               WASMPLUG_OK);
    long long before = xlen(PREFIX "orders.>");
    CHECK_STATUS(wasmplug_bus_publish(bus, "local.x", "1", 1, NULL, &err), WASMPLUG_OK);
    wasmplug_buf reply;
    CHECK_STATUS(wasmplug_bus_request(bus, "orders.ask", "2", 1, 5000, &reply, &err), WASMPLUG_OK);
    CHECK(reply.len == 4 && memcmp(reply.data, "pong", 4) == 0);
    wasmplug_buf_free(&reply);
    for (int i = 0; i < 3000 && atomic_load(&local) == 0; i++)
        ev_test_sleep_ms(10);
    CHECK_EQ(atomic_load(&local), 1);
    CHECK_EQ(xlen(PREFIX "orders.>"), before);
    /* A bridged publish reaches Redis; with Redis gone it fails in time. */
    CHECK_STATUS(wasmplug_bus_publish(bus, "orders.ask", "3", 1, NULL, &err), WASMPLUG_OK);
    CHECK_EQ(xlen(PREFIX "orders.>"), before + 1);
    for (int i = 0; i < 3000 && atomic_load(&req) < 2; i++)
        ev_test_sleep_ms(10);
    CHECK_EQ(atomic_load(&req), 2); /* the request, then the bridged event */
    redis_test_halt(&srv, false);
    uint64_t t0 = test_now_ms();
    CHECK_STATUS(wasmplug_bus_publish(bus, "orders.ask", "4", 1, NULL, &err), WASMPLUG_ERR_IO);
    CHECK(test_now_ms() - t0 < 5000);
    CHECK_CONTAINS(err.message, "not published to Redis stream 'wasmplug:events:orders.>'");
    wasmplug_bridge_stats st;
    wasmplug_bus_bridge_get_stats(b, &st);
    CHECK_EQ(st.publish_failures, 1);
    CHECK(st.readers >= 1);
    wasmplug_bus_bridge_free(b, 100);
    /* Detached: the topic is local again. */
    CHECK_STATUS(wasmplug_bus_publish(bus, "orders.ask", "5", 1, NULL, &err), WASMPLUG_OK);
    for (int i = 0; i < 3000 && atomic_load(&req) < 3; i++)
        ev_test_sleep_ms(10);
    CHECK_EQ(atomic_load(&req), 3);
    wasmplug_bus_free(bus);
    CHECK(redis_test_start(&srv));
}

/* A plugin call whose bridged events Redis does not take fails (ERR_IO):
 * no plugin is told an event went out that did not. */
static void test_plugin_refused(void)
{
    wasmplug_host *host = NULL;
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    CHECK_STATUS(wasmplug_host_new(&hc, &host), WASMPLUG_OK);
    wasmplug_bus *bus;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_new(host, NULL, &bus), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_attach(bus, &err), WASMPLUG_OK);
    wasmplug_bridge_config bc = bridge_config(url);
    bc.publish_timeout_ms = 300;
    wasmplug_bus_bridge *b = NULL;
    CHECK_STATUS(wasmplug_bus_bridge_new(bus, &bc, &b, &err), WASMPLUG_OK);
    wasmplug_plugin *p = NULL;
    CHECK_STATUS(load_publisher(host, &p, &err), WASMPLUG_OK);
    static const char in[] = "orders.created\n{\"n\":1}";
    wasmplug_buf out;
    if (p) {
        CHECK_STATUS(wasmplug_plugin_call(p, "publish", (const uint8_t *)in, sizeof in - 1, &out,
                                          &err),
                     WASMPLUG_OK);
        wasmplug_buf_free(&out);
        redis_test_halt(&srv, false);
        CHECK_STATUS(wasmplug_plugin_call(p, "publish", (const uint8_t *)in, sizeof in - 1, &out,
                                          &err),
                     WASMPLUG_ERR_IO);
        CHECK_CONTAINS(err.message, "service events");
        CHECK_CONTAINS(err.message, "not published to Redis stream");
        wasmplug_buf_free(&out);
        wasmplug_plugin_release(p);
        CHECK(redis_test_start(&srv));
    }
    wasmplug_bus_bridge_free(b, 100);
    wasmplug_bus_free(bus);
    wasmplug_host_free(host);
}

static int count_events(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                        size_t count, const char **error)
{
    (void)bus;
    (void)events;
    (void)error;
    atomic_fetch_add((atomic_int *)user, (int)count);
    return 0;
}

/* A bus shutting down takes no more entries: they stay in Redis for the
 * next subscriber of the group. */
static void test_shutdown_leaves_entries(void)
{
    wasmplug_bus *a, *b;
    wasmplug_plugin_error err;
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &a), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_new(NULL, NULL, &b), WASMPLUG_OK);
    wasmplug_bridge_config bc = bridge_config(url);
    wasmplug_bus_bridge *ba = NULL, *bb = NULL;
    CHECK_STATUS(wasmplug_bus_bridge_new(a, &bc, &ba, &err), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_bridge_new(b, &bc, &bb, &err), WASMPLUG_OK);
    atomic_int got_a = 0, got_b = 0;
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    o.group = "late";
    CHECK_STATUS(wasmplug_bus_subscribe(a, "orders.late", &o, count_events, &got_a, NULL, &err),
                 WASMPLUG_OK);
    /* Shutdown returns once no read of a's is in progress (a read blocking
     * in Redis when it began could have taken an entry). */
    CHECK_STATUS(wasmplug_bus_shutdown(a, WASMPLUG_BUS_DRAIN, 1000, NULL), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_publish(b, "orders.late", "1", 1, NULL, &err), WASMPLUG_OK);
    ev_test_sleep_ms(500); /* time for a wrong read to happen */
    CHECK_EQ(pending(PREFIX "orders.>", "late|orders.late"), 0); /* not read */
    wasmplug_bus_bridge_free(ba, 100);
    wasmplug_bus_free(a);
    /* The group's next subscriber gets it. */
    CHECK_STATUS(wasmplug_bus_subscribe(b, "orders.late", &o, count_events, &got_b, NULL, &err),
                 WASMPLUG_OK);
    for (int i = 0; i < 3000 && atomic_load(&got_b) == 0; i++)
        ev_test_sleep_ms(10);
    CHECK_EQ(atomic_load(&got_b), 1);
    CHECK_EQ(atomic_load(&got_a), 0);
    wasmplug_bus_bridge_free(bb, 1000);
    wasmplug_bus_free(b);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--role") == 0) {
        if (!strcmp(argv[2], "sub"))
            return role_sub_main(argc - 3, argv + 3);
        if (!strcmp(argv[2], "pub"))
            return role_pub_main(argc - 3, argv + 3);
        return 2;
    }
    if (!share_init())
        return 1;
    if (!share_start_redis(&srv, url, sizeof url))
        return 1;
    test_groups();
    test_crash();
    test_restart();
    test_api();
    test_plugin_refused();
    test_shutdown_leaves_entries();
    redis_test_stop(&srv);
    return test_done();
}
