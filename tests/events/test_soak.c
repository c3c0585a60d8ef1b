/*
 * test_soak.c - the bus under load: 8 threads publish while plugins
 * subscribe with each full-queue policy, and a ninth thread keeps killing
 * and reloading the subscriber plugins. At the end every subscription's
 * books must balance (enqueued = delivered + dropped + failed + discarded),
 * a blocking subscription with retries must have lost nothing, a
 * drop-oldest one may only have lost what it counted, every rejection must
 * have reached a publisher as an error, and a host subscriber must have
 * seen each publisher's events in order.
 *
 * Short by default (CI); WASMPLUG_SOAK_EVENTS=N sets the events per
 * publisher thread (e.g. 200000 for a long run). Run it under ASan (make
 * asan) and TSan (a -fsanitize=thread build) as well.
 */
#include "events_test.h"

#include <stdlib.h>

#ifndef WP_EVENTS_PLUGINS
#define WP_EVENTS_PLUGINS "."
#endif

#define PUBLISHERS 8
#define PLUGINS 3

static wasmplug_bounds_mode bounds;
static long events_per_thread = 1500;

typedef struct soak {
    wasmplug_host *host;
    wasmplug_bus *bus;
    _Atomic bool publishing;
    _Atomic long published_a, published_b, limit_errors, other_errors, kills, reloads;
    pthread_mutex_t order_mu;
    long next[PUBLISHERS];
    long received, out_of_order;
} soak;

typedef struct pub_arg {
    soak *s;
    int thread;
} pub_arg;

static bool load_sink(wasmplug_host *host, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/ev_sink.wasm", WP_EVENTS_PLUGINS);
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_host_load_file(host, name, path, &opt, NULL, &err);
    if (st)
        printf("     load %s: %s\n", name, err.message);
    return st == WASMPLUG_OK;
}

static void *publisher(void *arg)
{
    pub_arg *a = arg;
    soak *s = a->s;
    char buf[64];
    for (long i = 0; i < events_per_thread; i++) {
        const char *topic = (i % 3 == 0) ? "soak.a" : "soak.b";
        int n = snprintf(buf, sizeof buf, "[%d,%ld]", a->thread, i);
        wasmplug_plugin_error err;
        wasmplug_status st = wasmplug_bus_publish(s->bus, topic, buf, (size_t)n, NULL, &err);
        if (st == WASMPLUG_ERR_LIMIT)
            atomic_fetch_add(&s->limit_errors, 1);
        else if (st != WASMPLUG_OK)
            atomic_fetch_add(&s->other_errors, 1);
        /* A rejected event was still published to the other subscribers. */
        if (st == WASMPLUG_OK || st == WASMPLUG_ERR_LIMIT)
            atomic_fetch_add(topic[5] == 'a' ? &s->published_a : &s->published_b, 1);
    }
    return NULL;
}

static void *killer(void *arg)
{
    soak *s = arg;
    unsigned seed = 12345;
    while (atomic_load(&s->publishing)) {
        char name[16];
        snprintf(name, sizeof name, "sink%u", rand_r(&seed) % PLUGINS);
        if (wasmplug_host_kill(s->host, name) == WASMPLUG_OK)
            atomic_fetch_add(&s->kills, 1);
        ev_test_sleep_ms(1 + rand_r(&seed) % 3);
        if (load_sink(s->host, name))
            atomic_fetch_add(&s->reloads, 1);
        ev_test_sleep_ms(2 + rand_r(&seed) % 5);
    }
    return NULL;
}

static int order_subscriber(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                           size_t count, const char **error)
{
    (void)bus;
    (void)error;
    soak *s = user;
    pthread_mutex_lock(&s->order_mu);
    for (size_t i = 0; i < count; i++) {
        int thread = -1;
        long seq = -1;
        if (sscanf(events[i].payload, "[%d,%ld]", &thread, &seq) != 2 || thread < 0 ||
            thread >= PUBLISHERS || seq < s->next[thread])
            s->out_of_order++;
        else
            s->next[thread] = seq + 1;
        s->received++;
    }
    pthread_mutex_unlock(&s->order_mu);
    return 0;
}

static void check_books(wasmplug_bus *bus, uint64_t id, const char *what)
{
    wasmplug_subscription_stats st;
    CHECK_STATUS(wasmplug_bus_subscription_stats(bus, id, &st), WASMPLUG_OK);
    uint64_t accounted = st.delivered + st.dropped + st.failed + st.discarded + st.queue_depth;
    if (!test_check(accounted == st.enqueued, __FILE__, __LINE__, what))
        printf("     enqueued %llu, delivered %llu, dropped %llu, failed %llu, discarded "
               "%llu, queued %u\n",
               (unsigned long long)st.enqueued, (unsigned long long)st.delivered,
               (unsigned long long)st.dropped, (unsigned long long)st.failed,
               (unsigned long long)st.discarded, st.queue_depth);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    const char *env = getenv("WASMPLUG_SOAK_EVENTS");
    if (env && atol(env) > 0)
        events_per_thread = atol(env);

    soak s;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.order_mu, NULL);
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = bounds;
    CHECK_STATUS(wasmplug_host_new(&hc, &s.host), WASMPLUG_OK);
    for (int i = 0; i < PLUGINS; i++) {
        char name[16];
        snprintf(name, sizeof name, "sink%d", i);
        CHECK(load_sink(s.host, name));
    }
    wasmplug_bus_config bc = {0};
    bc.workers = 3;
    CHECK_STATUS(wasmplug_bus_new(s.host, &bc, &s.bus), WASMPLUG_OK);

    /* sink0: blocks when full and retries until its plugin is back: keeps all. */
    wasmplug_subscription_options keep = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    keep.queue_size = 64;
    keep.on_full = WASMPLUG_FULL_BLOCK;
    keep.block_timeout_ms = 60000;
    keep.retries = 1000000;
    keep.retry_backoff_ms = 1;
    /* sink1: batches, drops the oldest when full. */
    wasmplug_subscription_options lossy = keep;
    lossy.queue_size = 128;
    lossy.on_full = WASMPLUG_FULL_DROP_OLDEST;
    lossy.batch_max = 32;
    lossy.batch_window_ms = 2;
    /* sink2: refuses publishers when full. */
    wasmplug_subscription_options refuse = keep;
    refuse.queue_size = 32;
    refuse.on_full = WASMPLUG_FULL_REJECT;
    /* the host: blocks, checks order. */
    wasmplug_subscription_options ordered = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    ordered.queue_size = 256;
    ordered.on_full = WASMPLUG_FULL_BLOCK;
    ordered.block_timeout_ms = 60000;
    uint64_t s_keep, s_lossy, s_refuse, s_order;
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(s.bus, "soak.*", &keep, "sink0", NULL, &s_keep,
                                               NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(s.bus, "soak.>", &lossy, "sink1", NULL, &s_lossy,
                                               NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe_plugin(s.bus, "soak.a", &refuse, "sink2", NULL,
                                               &s_refuse, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscribe(s.bus, "soak.*", &ordered, order_subscriber, &s,
                                        &s_order, NULL),
                 WASMPLUG_OK);

    atomic_store(&s.publishing, true);
    pthread_t kill_thread, pubs[PUBLISHERS];
    pub_arg args[PUBLISHERS];
    pthread_create(&kill_thread, NULL, killer, &s);
    uint64_t t0 = test_now_ms();
    for (int i = 0; i < PUBLISHERS; i++) {
        args[i] = (pub_arg){&s, i};
        pthread_create(&pubs[i], NULL, publisher, &args[i]);
    }
    for (int i = 0; i < PUBLISHERS; i++)
        pthread_join(pubs[i], NULL);
    atomic_store(&s.publishing, false);
    pthread_join(kill_thread, NULL);
    /* Every sink is loaded again by now (the killer reloads before it stops). */
    CHECK(bus_wait_idle(s.bus, s_keep));
    CHECK(bus_wait_idle(s.bus, s_lossy));
    CHECK(bus_wait_idle(s.bus, s_refuse));
    CHECK(bus_wait_idle(s.bus, s_order));
    uint64_t elapsed = test_now_ms() - t0;

    long total = PUBLISHERS * events_per_thread;
    long pa = atomic_load(&s.published_a), pb = atomic_load(&s.published_b);
    CHECK_EQ(pa + pb, total);
    CHECK_EQ(atomic_load(&s.other_errors), 0);
    CHECK(atomic_load(&s.kills) > 0);

    wasmplug_subscription_stats k, l, r;
    CHECK_STATUS(wasmplug_bus_subscription_stats(s.bus, s_keep, &k), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscription_stats(s.bus, s_lossy, &l), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_subscription_stats(s.bus, s_refuse, &r), WASMPLUG_OK);
    check_books(s.bus, s_keep, "books of the blocking subscription");
    check_books(s.bus, s_lossy, "books of the drop-oldest subscription");
    check_books(s.bus, s_refuse, "books of the rejecting subscription");
    check_books(s.bus, s_order, "books of the host subscription");
    /* Blocking + retries: everything arrived. */
    CHECK_EQ(k.enqueued, total);
    CHECK_EQ(k.delivered, total);
    CHECK_EQ(k.dropped + k.rejected + k.failed, 0);
    /* Drop-oldest: everything arrived or was counted as dropped. */
    CHECK_EQ(l.enqueued, total);
    CHECK_EQ(l.delivered + l.dropped, total);
    CHECK_EQ(l.failed, 0);
    /* Reject: each refusal reached a publisher. */
    CHECK_EQ(r.rejected, atomic_load(&s.limit_errors));
    CHECK_EQ(r.enqueued + r.rejected, pa);
    CHECK_EQ(r.delivered, r.enqueued);
    /* The host subscriber saw all, each publisher in order. */
    CHECK_EQ(s.received, total);
    CHECK_EQ(s.out_of_order, 0);
    wasmplug_topic_stats ta, tb;
    CHECK_STATUS(wasmplug_bus_topic_stats(s.bus, "soak.a", &ta), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_bus_topic_stats(s.bus, "soak.b", &tb), WASMPLUG_OK);
    CHECK_EQ(ta.published, pa);
    CHECK_EQ(tb.published, pb);
    CHECK_EQ(ta.delivered + tb.delivered, k.delivered + l.delivered + r.delivered + s.received);

    printf("soak: %ld events from %d threads in %llu ms; %ld kills, %ld reloads; "
           "drop-oldest dropped %llu, reject refused %llu, retries %llu\n",
           total, PUBLISHERS, (unsigned long long)elapsed, atomic_load(&s.kills),
           atomic_load(&s.reloads), (unsigned long long)l.dropped,
           (unsigned long long)r.rejected, (unsigned long long)(k.retries + l.retries + r.retries));

    wasmplug_bus_report rep;
    CHECK_STATUS(wasmplug_bus_shutdown(s.bus, WASMPLUG_BUS_DRAIN, 10000, &rep), WASMPLUG_OK);
    CHECK_EQ(rep.discarded, 0);
    wasmplug_bus_free(s.bus);
    wasmplug_host_free(s.host);
    pthread_mutex_destroy(&s.order_mu);
    return test_done();
}
