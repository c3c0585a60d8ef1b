/*
 * events_test.h - helpers shared by the event bus tests: a collector that
 * host subscribers append to (thread-safe, waitable), a gate that holds a
 * subscriber inside its callback, and waiting with a bound.
 */
#ifndef WASMPLUG_EVENTS_TEST_H
#define WASMPLUG_EVENTS_TEST_H

#include "wasmplug/events.h"
#include "test.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static inline void ev_test_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What a host subscriber received. */
#define COLLECT_MAX 4096
typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t count;             /* events received */
    size_t calls;             /* callback invocations */
    size_t batch_sizes[64];   /* sizes of the first 64 calls */
    uint64_t ids[COLLECT_MAX];
    char last_json[1024];
    char last_topic[WASMPLUG_TOPIC_MAX + 1];
    int fail_next;            /* fail this many calls */
    bool reply;               /* answer requests with "pong" */
    /* gate: when closed, the callback waits in it (entered is set) */
    bool gate_closed;
    bool entered;
} collector;

static inline void collector_init(collector *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
}

static inline void collector_destroy(collector *c)
{
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
}

static inline int collect(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                          size_t count, const char **error)
{
    collector *c = user;
    pthread_mutex_lock(&c->mu);
    c->entered = true;
    pthread_cond_broadcast(&c->cv);
    while (c->gate_closed)
        pthread_cond_wait(&c->cv, &c->mu);
    if (c->fail_next > 0) {
        c->fail_next--;
        *error = "told to fail";
        pthread_mutex_unlock(&c->mu);
        return 7;
    }
    if (c->calls < 64)
        c->batch_sizes[c->calls] = count;
    c->calls++;
    for (size_t i = 0; i < count; i++) {
        if (c->count < COLLECT_MAX)
            c->ids[c->count] = events[i].id;
        c->count++;
        snprintf(c->last_json, sizeof c->last_json, "%s", events[i].json);
        snprintf(c->last_topic, sizeof c->last_topic, "%s", events[i].topic);
        if (c->reply && events[i].reply_to)
            wasmplug_bus_reply(bus, &events[i], "pong", 4);
    }
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return 0;
}

/* Wait (at most 30 s) until c has received want events. */
static inline bool collector_wait(collector *c, size_t want)
{
    uint64_t end = test_now_ms() + 30000;
    pthread_mutex_lock(&c->mu);
    while (c->count < want && test_now_ms() < end) {
        pthread_mutex_unlock(&c->mu);
        ev_test_sleep_ms(1);
        pthread_mutex_lock(&c->mu);
    }
    bool ok = c->count >= want;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

/* Wait until the callback is inside the closed gate. */
static inline bool collector_wait_entered(collector *c)
{
    uint64_t end = test_now_ms() + 30000;
    pthread_mutex_lock(&c->mu);
    while (!c->entered && test_now_ms() < end) {
        pthread_mutex_unlock(&c->mu);
        ev_test_sleep_ms(1);
        pthread_mutex_lock(&c->mu);
    }
    bool ok = c->entered;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

static inline void collector_gate(collector *c, bool closed)
{
    pthread_mutex_lock(&c->mu);
    c->gate_closed = closed;
    if (closed)
        c->entered = false;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static inline size_t collector_count(collector *c)
{
    pthread_mutex_lock(&c->mu);
    size_t n = c->count;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Wait (at most 30 s) until subscription id has nothing queued or running. */
static inline bool bus_wait_idle(wasmplug_bus *bus, uint64_t id)
{
    uint64_t end = test_now_ms() + 30000;
    wasmplug_subscription_stats st;
    while (test_now_ms() < end) {
        if (wasmplug_bus_subscription_stats(bus, id, &st) != WASMPLUG_OK)
            return false;
        if (st.queue_depth == 0 &&
            st.delivered + st.failed + st.dropped + st.discarded >= st.enqueued)
            return true;
        ev_test_sleep_ms(1);
    }
    return false;
}

/* A host in the given bounds mode whose policy grants policy (NULL: none). */
static inline wasmplug_host *ev_test_host(wasmplug_bounds_mode bounds, const char *policy)
{
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = bounds;
    wasmplug_host *host = NULL;
    CHECK_STATUS(wasmplug_host_new(&hc, &host), WASMPLUG_OK);
    if (host && policy)
        CHECK_STATUS(wasmplug_host_grant(host, "*", policy), WASMPLUG_OK);
    return host;
}

/* Load and init the module at path as name, requesting perms. */
static inline wasmplug_status ev_test_load(wasmplug_host *host, const char *name,
                                           const char *path, const char *const *perms,
                                           size_t nperms, wasmplug_plugin **out,
                                           wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = name;
    m.version = "1.0.0";
    m.permissions = perms;
    m.permission_count = nperms;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.init = true;
    opt.manifest = &m;
    return wasmplug_host_load_file(host, name, path, &opt, out, err);
}

#endif /* WASMPLUG_EVENTS_TEST_H */
