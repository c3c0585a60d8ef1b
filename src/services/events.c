/*
 * events.c - the event bus: subscriptions with bounded queues, publishing
 * (topic check, payload JSON check, the event envelope built once with
 * jansson and shared by every queue), worker threads that deliver to host
 * callbacks and plugins with batching and retries, request/reply, and
 * shutdown. Bookkeeping is in events_stats.c, topic syntax in
 * events_topic.c.
 *
 * Scheduling: a subscription with queued events is "owned" by exactly one
 * place at a time - the ready list, the delayed list (a batch waiting for
 * its window) or the worker delivering it - which is what keeps each
 * subscriber's events in publish order. The place that owns it holds one
 * reference to it.
 */
#include "events_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_WORKERS 2
#define DEFAULT_MAX_PAYLOAD (1u << 20)
#define DEFAULT_MAX_HOPS 8
#define DEFAULT_DEAD_LETTERS 256
#define DEFAULT_ERRORS 64
#define DEFAULT_QUEUE 1024
#define DEFAULT_BLOCK_MS 1000
#define MAX_QUEUE (1u << 24)

/* The delivery running on this thread, so that a plugin publishing from
 * its handler inherits the hop count, and a subscriber does not wait for
 * itself. */
static _Thread_local struct {
    wasmplug_bus *bus;
    ev_sub *sub;
    uint32_t hops;
} current;

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */

static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

static struct timespec abs_time(uint64_t ns)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    return ts;
}

static uint64_t deadline_after_ms(uint32_t ms)
{
    return ev_now_ns() + (uint64_t)ms * 1000000u;
}

static void event_unref(ev_event *ev)
{
    if (ev && atomic_fetch_sub(&ev->refs, 1) == 1)
        free(ev);
}

void ev_settle(ev_event *ev, ev_outcome outcome, uint32_t attempts, wasmplug_status code,
               const char *error)
{
    ev_done_fn done = ev->done;
    if (!done)
        return;
    /* An event with a done callback is in one queue only: no race here. */
    ev->done = NULL;
    done(ev->done_ctx, ev, outcome, attempts, code, error);
}

/* Drop every queued event of s (caller holds s->mu); returns how many. */
static uint64_t discard_queue(ev_sub *s)
{
    uint64_t n = s->count;
    uint32_t cap = s->opt.queue_size;
    for (uint32_t i = 0; i < s->count; i++) {
        ev_event *ev = s->ring[(s->head + i) % cap];
        atomic_fetch_add(&ev->stats->dropped, 1);
        ev_settle(ev, EV_DISCARDED, 0, WASMPLUG_ERR_CANCELLED, "discarded");
        event_unref(ev);
    }
    s->head = 0;
    s->count = 0;
    s->discarded += n;
    pthread_cond_broadcast(&s->not_full);
    return n;
}

void ev_sub_ref(ev_sub *s)
{
    atomic_fetch_add(&s->refs, 1);
}

static void sub_unref(ev_sub *s)
{
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    discard_queue(s);
    if (s->plugin)
        wasmplug_plugin_release(s->plugin);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->not_full);
    pthread_cond_destroy(&s->idle);
    free(s->ring);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Scheduler lists (caller holds bus->sched_mu)                             */
/* ------------------------------------------------------------------------ */

static void ready_push(wasmplug_bus *bus, ev_sub *s)
{
    s->list = EV_LIST_READY;
    s->next = NULL;
    if (bus->ready_tail)
        bus->ready_tail->next = s;
    else
        bus->ready_head = s;
    bus->ready_tail = s;
}

static ev_sub *ready_pop(wasmplug_bus *bus)
{
    ev_sub *s = bus->ready_head;
    if (s) {
        bus->ready_head = s->next;
        if (!bus->ready_head)
            bus->ready_tail = NULL;
        s->list = EV_LIST_NONE;
        s->next = NULL;
    }
    return s;
}

static void delayed_push(wasmplug_bus *bus, ev_sub *s, uint64_t deadline)
{
    s->list = EV_LIST_DELAYED;
    s->deadline_ns = deadline;
    s->prev = NULL;
    s->next = bus->delayed;
    if (bus->delayed)
        bus->delayed->prev = s;
    bus->delayed = s;
}

static void list_remove(wasmplug_bus *bus, ev_sub *s)
{
    if (s->list == EV_LIST_DELAYED) {
        if (s->prev)
            s->prev->next = s->next;
        else
            bus->delayed = s->next;
        if (s->next)
            s->next->prev = s->prev;
    } else if (s->list == EV_LIST_READY) {
        ev_sub **pp = &bus->ready_head, *prev = NULL;
        while (*pp && *pp != s) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        if (*pp) {
            *pp = s->next;
            if (bus->ready_tail == s)
                bus->ready_tail = prev;
        }
    }
    s->list = EV_LIST_NONE;
    s->next = s->prev = NULL;
}

static bool is_batched(const ev_sub *s)
{
    return s->opt.batch_max > 1;
}

/*
 * Hand s, which has queued events, to the scheduler (caller holds s->mu and
 * gives the scheduler its reference): ready at once, or delayed until the
 * oldest event's batch window ends.
 */
static void *worker_main(void *arg);

/* The workers start with the first event to deliver, so a bus that never
 * delivers (a command that only loads plugins) costs no threads. Caller
 * holds bus->sched_mu. */
static void start_workers(wasmplug_bus *bus)
{
    while (bus->worker_count < bus->cfg.workers &&
           pthread_create(&bus->workers[bus->worker_count], NULL, worker_main, bus) == 0)
        bus->worker_count++;
    if (bus->worker_count == 0) {
        wasmplug_plugin_error e;
        ev_fail(&e, WASMPLUG_ERR_NOMEM, "host", "events.deliver",
                "cannot start the bus's worker threads: events are queued, not delivered");
        ev_error_record(bus, &e);
    }
}

static void schedule(wasmplug_bus *bus, ev_sub *s)
{
    pthread_mutex_lock(&bus->sched_mu);
    if (bus->worker_count < bus->cfg.workers && !atomic_load(&bus->stop))
        start_workers(bus);
    ev_event *oldest = s->ring[s->head];
    if (!is_batched(s) || s->count >= s->opt.batch_max || s->opt.batch_window_ms == 0)
        ready_push(bus, s);
    else
        delayed_push(bus, s,
                     oldest->published_ns + (uint64_t)s->opt.batch_window_ms * 1000000u);
    pthread_cond_signal(&bus->work_cv);
    pthread_mutex_unlock(&bus->sched_mu);
}

/* ------------------------------------------------------------------------ */
/* Delivery                                                                 */
/* ------------------------------------------------------------------------ */

/* Sleep up to ms, or less if the bus stops. */
static void pause_ms(wasmplug_bus *bus, uint32_t ms)
{
    if (ms == 0)
        return;
    struct timespec ts = abs_time(deadline_after_ms(ms));
    pthread_mutex_lock(&bus->pause_mu);
    while (!bus->stop && ev_now_ns() < (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec)
        if (pthread_cond_timedwait(&bus->pause_cv, &bus->pause_mu, &ts) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&bus->pause_mu);
}

static void route_reply(wasmplug_bus *bus, const char *inbox_topic, const void *data,
                        size_t len);

/* The input of one delivery: one event's JSON, or a JSON array of them. */
static char *batch_json(ev_event **evs, size_t n, size_t *len)
{
    size_t total = 2 + n;
    for (size_t i = 0; i < n; i++)
        total += evs[i]->json_len;
    char *buf = malloc(total + 1);
    if (!buf)
        return NULL;
    size_t o = 0;
    buf[o++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf[o++] = ',';
        memcpy(buf + o, evs[i]->json, evs[i]->json_len);
        o += evs[i]->json_len;
    }
    buf[o++] = ']';
    buf[o] = 0;
    *len = o;
    return buf;
}

static void drop_plugin_handle(ev_sub *s)
{
    if (s->plugin)
        wasmplug_plugin_release(s->plugin);
    s->plugin = NULL;
    s->resolved_handler[0] = 0;
}

static bool deliver_plugin(wasmplug_bus *bus, ev_sub *s, ev_event **evs, size_t n,
                           wasmplug_status *code, char *msg, size_t msg_size)
{
    if (!s->plugin) {
        if (!bus->host || wasmplug_host_get(bus->host, s->subscriber, &s->plugin) != WASMPLUG_OK) {
            s->plugin = NULL;
            *code = WASMPLUG_ERR_NOT_FOUND;
            snprintf(msg, msg_size, "subscriber plugin '%s' is not loaded", s->subscriber);
            return false;
        }
        /* A plugin still loading or initializing is not there yet (and its
         * module may not be set: its exports are read only once READY). */
        wasmplug_plugin_state state = wasmplug_plugin_state_get(s->plugin);
        if (state != WASMPLUG_STATE_READY) {
            drop_plugin_handle(s);
            *code = WASMPLUG_ERR_PLUGIN_STATE;
            snprintf(msg, msg_size, "subscriber plugin '%s' is %s, not ready", s->subscriber,
                     wasmplug_state_string(state));
            return false;
        }
    }
    if (!s->resolved_handler[0]) {
        const char *h = s->handler[0] ? s->handler
                        : wasmplug_plugin_has_function(s->plugin, "on_event")
                            ? "on_event"
                            : "plugin_handle_event";
        if (!wasmplug_plugin_has_function(s->plugin, h)) {
            *code = WASMPLUG_ERR_NOT_FOUND;
            snprintf(msg, msg_size, "plugin '%.100s' exports no event handler '%.100s'", s->subscriber,
                     h);
            drop_plugin_handle(s);
            return false;
        }
        snprintf(s->resolved_handler, sizeof s->resolved_handler, "%s", h);
    }
    size_t in_len = evs[0]->json_len;
    char *in = evs[0]->json, *owned = NULL;
    if (is_batched(s)) {
        in = owned = batch_json(evs, n, &in_len);
        if (!in) {
            *code = WASMPLUG_ERR_NOMEM;
            snprintf(msg, msg_size, "out of memory building a batch of %zu events", n);
            return false;
        }
    }
    wasmplug_buf out = {NULL, 0};
    wasmplug_plugin_error perr;
    perr.message[0] = 0;
    wasmplug_status st = wasmplug_plugin_call(s->plugin, s->resolved_handler,
                                              (const uint8_t *)in, in_len, &out, &perr);
    free(owned);
    if (st != WASMPLUG_OK) {
        *code = st;
        snprintf(msg, msg_size, "%s", perr.message);
        /* Killed, disposed or cancelled: look the name up again next time
         * (the plugin may have been loaded again). */
        if (st == WASMPLUG_ERR_PLUGIN_STATE || st == WASMPLUG_ERR_CANCELLED ||
            st == WASMPLUG_ERR_NOT_FOUND)
            drop_plugin_handle(s);
        return false;
    }
    if (n == 1 && !is_batched(s) && evs[0]->reply_to && out.len > 0)
        route_reply(bus, evs[0]->reply_to, out.data, out.len);
    wasmplug_buf_free(&out);
    return true;
}

static bool deliver_host(wasmplug_bus *bus, ev_sub *s, ev_event **evs, size_t n,
                         wasmplug_status *code, char *msg, size_t msg_size)
{
    wasmplug_event local[EV_TAKE_MAX], *arr = n <= EV_TAKE_MAX ? local : malloc(n * sizeof *arr);
    if (!arr) {
        *code = WASMPLUG_ERR_NOMEM;
        snprintf(msg, msg_size, "out of memory delivering %zu events", n);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const ev_event *ev = evs[i];
        arr[i] = (wasmplug_event){ev->topic,   ev->id,          ev->time_ms, ev->source,
                                  ev->hops,    ev->reply_to,    ev->payload, ev->payload_len,
                                  ev->json,    ev->json_len};
    }
    const char *error = NULL;
    int rc = s->fn(s->user, bus, arr, n, &error);
    if (arr != local)
        free(arr);
    if (rc != 0) {
        *code = WASMPLUG_ERR_HOST_FUNCTION;
        snprintf(msg, msg_size, "host subscriber %llu ('%.80s') failed with %d: %.120s",
                 (unsigned long long)s->id, s->pattern, rc, error ? error : "(no message)");
        return false;
    }
    return true;
}

/* One delivery (an event, or a batch) with its retries. Returns attempts
 * made; *ok tells whether the last one succeeded. */
static uint32_t deliver(wasmplug_bus *bus, ev_sub *s, ev_event **evs, size_t n, bool *ok)
{
    uint32_t hops = 0;
    for (size_t i = 0; i < n; i++)
        if (evs[i]->hops > hops)
            hops = evs[i]->hops;
    wasmplug_status code = WASMPLUG_OK;
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    uint32_t attempts = 0;
    for (;;) {
        attempts++;
        current.bus = bus;
        current.sub = s;
        current.hops = hops;
        *ok = s->is_plugin ? deliver_plugin(bus, s, evs, n, &code, msg, sizeof msg)
                           : deliver_host(bus, s, evs, n, &code, msg, sizeof msg);
        current.bus = NULL;
        current.sub = NULL;
        current.hops = 0;
        if (*ok || attempts > s->opt.retries || atomic_load(&bus->stop) ||
            atomic_load_explicit(&s->removed, memory_order_relaxed))
            break;
        pause_ms(bus, s->opt.retry_backoff_ms);
    }
    for (size_t i = 0; *ok && i < n; i++)
        ev_settle(evs[i], EV_DELIVERED, attempts, WASMPLUG_OK, NULL);
    if (!*ok) {
        for (size_t i = 0; i < n; i++) {
            ev_dead_add(bus, s, evs[i], attempts, code, msg);
            atomic_fetch_add(&evs[i]->stats->failed, 1);
            ev_settle(evs[i], EV_FAILED, attempts, code, msg);
        }
        wasmplug_plugin_error e;
        ev_fail(&e, code, s->subscriber, s->is_plugin ? s->resolved_handler : "",
                "delivery of %zu event(s) on '%s' (first id %llu) to subscription %llu failed "
                "after %u attempt(s), dead-lettered: %s",
                n, evs[0]->topic, (unsigned long long)evs[0]->id, (unsigned long long)s->id,
                attempts, msg);
        ev_error_record(bus, &e);
    }
    return attempts;
}

/* Deliver what s has queued (a batch, or up to EV_TAKE_MAX single events),
 * then give s back to the scheduler or let it go idle. Consumes the
 * scheduler's reference. */
static void run_sub(wasmplug_bus *bus, ev_sub *s)
{
    ev_event *evs[EV_TAKE_MAX], **taken = evs;
    pthread_mutex_lock(&s->mu);
    size_t limit = is_batched(s) ? s->opt.batch_max : EV_TAKE_MAX;
    size_t n = s->count < limit ? s->count : limit;
    if (atomic_load(&s->removed) || n == 0 ||
        (n > EV_TAKE_MAX && !(taken = malloc(n * sizeof *taken)))) {
        s->owned = false;
        pthread_cond_broadcast(&s->idle);
        pthread_mutex_unlock(&s->mu);
        sub_unref(s);
        return;
    }
    uint32_t cap = s->opt.queue_size;
    for (size_t i = 0; i < n; i++)
        taken[i] = s->ring[(s->head + i) % cap];
    s->head = (uint32_t)((s->head + n) % cap);
    s->count -= (uint32_t)n;
    s->running = true;
    s->runner = pthread_self();
    pthread_cond_broadcast(&s->not_full);
    pthread_mutex_unlock(&s->mu);

    uint64_t delivered = 0, deliveries = 0, failed = 0, retries = 0, discarded = 0;
    uint64_t latency[EV_TAKE_MAX];
    size_t units = is_batched(s) ? 1 : n;
    size_t per_unit = is_batched(s) ? n : 1;
    for (size_t u = 0; u < units; u++) {
        ev_event **unit = taken + u * per_unit;
        if (atomic_load_explicit(&s->removed, memory_order_relaxed)) {
            discarded += per_unit;
            for (size_t i = 0; i < per_unit; i++) {
                atomic_fetch_add(&unit[i]->stats->dropped, 1);
                ev_settle(unit[i], EV_DISCARDED, 0, WASMPLUG_ERR_CANCELLED, "unsubscribed");
            }
            continue;
        }
        bool ok;
        retries += deliver(bus, s, unit, per_unit, &ok) - 1;
        if (ok) {
            deliveries++;
            delivered += per_unit;
            for (size_t i = 0; i < per_unit; i++)
                atomic_fetch_add(&unit[i]->stats->delivered, 1);
        } else {
            failed += per_unit;
        }
        if (!is_batched(s))
            latency[u] = ev_now_ns() - unit[0]->published_ns;
    }
    uint64_t done_ns = ev_now_ns();

    pthread_mutex_lock(&s->mu);
    s->delivered += delivered;
    s->deliveries += deliveries;
    s->failed += failed;
    s->retries += retries;
    s->discarded += discarded;
    for (size_t i = 0; i < n; i++)
        ev_sub_record_latency(s, is_batched(s) ? done_ns - taken[i]->published_ns : latency[i]);
    s->running = false;
    bool again = !atomic_load(&s->removed) && s->count > 0;
    if (again)
        schedule(bus, s); /* passes our reference on */
    else
        s->owned = false;
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);

    for (size_t i = 0; i < n; i++)
        event_unref(taken[i]);
    if (taken != evs)
        free(taken);
    if (!again)
        sub_unref(s);
}

static void *worker_main(void *arg)
{
    wasmplug_bus *bus = arg;
    pthread_mutex_lock(&bus->sched_mu);
    while (!atomic_load(&bus->stop)) {
        uint64_t now = ev_now_ns(), earliest = UINT64_MAX;
        for (ev_sub *s = bus->delayed, *next; s; s = next) {
            next = s->next;
            if (s->deadline_ns <= now || atomic_load(&bus->shutting)) {
                list_remove(bus, s);
                ready_push(bus, s);
            } else if (s->deadline_ns < earliest) {
                earliest = s->deadline_ns;
            }
        }
        ev_sub *s = ready_pop(bus);
        if (!s) {
            if (earliest == UINT64_MAX) {
                pthread_cond_wait(&bus->work_cv, &bus->sched_mu);
            } else {
                struct timespec ts = abs_time(earliest);
                pthread_cond_timedwait(&bus->work_cv, &bus->sched_mu, &ts);
            }
            continue;
        }
        pthread_mutex_unlock(&bus->sched_mu);
        run_sub(bus, s);
        pthread_mutex_lock(&bus->sched_mu);
    }
    pthread_mutex_unlock(&bus->sched_mu);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Bus lifecycle                                                            */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_bus_new(wasmplug_host *host, const wasmplug_bus_config *cfg,
                                 wasmplug_bus **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wasmplug_bus *bus = calloc(1, sizeof *bus);
    if (!bus)
        return WASMPLUG_ERR_NOMEM;
    bus->host = host;
    if (cfg)
        bus->cfg = *cfg;
    if (!bus->cfg.workers)
        bus->cfg.workers = DEFAULT_WORKERS;
    if (!bus->cfg.max_payload)
        bus->cfg.max_payload = DEFAULT_MAX_PAYLOAD;
    if (!bus->cfg.max_hops)
        bus->cfg.max_hops = DEFAULT_MAX_HOPS;
    if (!bus->cfg.dead_letter_max)
        bus->cfg.dead_letter_max = DEFAULT_DEAD_LETTERS;
    if (!bus->cfg.error_history)
        bus->cfg.error_history = DEFAULT_ERRORS;
    atomic_init(&bus->next_event_id, 1);
    atomic_init(&bus->next_sub_id, 1);
    atomic_init(&bus->next_inbox, 1);
    pthread_rwlock_init(&bus->subs_lock, NULL);
    pthread_rwlock_init(&bus->bridge_lock, NULL);
    pthread_mutex_init(&bus->sched_mu, NULL);
    cond_init_monotonic(&bus->work_cv);
    pthread_mutex_init(&bus->pause_mu, NULL);
    cond_init_monotonic(&bus->pause_cv);
    pthread_mutex_init(&bus->req_mu, NULL);
    pthread_mutex_init(&bus->topic_mu, NULL);
    pthread_mutex_init(&bus->dl_mu, NULL);
    pthread_mutex_init(&bus->err_mu, NULL);
    wasmplug_status st = ev_topics_init(bus);
    if (st == WASMPLUG_OK)
        st = ev_dead_init(bus);
    if (st == WASMPLUG_OK) {
        bus->workers = calloc(bus->cfg.workers, sizeof *bus->workers);
        if (!bus->workers)
            st = WASMPLUG_ERR_NOMEM;
    }
    if (st != WASMPLUG_OK) {
        wasmplug_bus_free(bus);
        return st;
    }
    *out = bus;
    return WASMPLUG_OK;
}

/* A snapshot of the subscriptions, each with a reference (caller unrefs). */
ev_sub **ev_subs_snapshot(wasmplug_bus *bus, size_t *count)
{
    pthread_rwlock_rdlock(&bus->subs_lock);
    ev_sub **list = malloc((bus->sub_count ? bus->sub_count : 1) * sizeof *list);
    size_t n = 0;
    if (list)
        for (; n < bus->sub_count; n++) {
            list[n] = bus->subs[n];
            atomic_fetch_add(&list[n]->refs, 1);
        }
    pthread_rwlock_unlock(&bus->subs_lock);
    *count = n;
    return list;
}

void ev_subs_release(ev_sub **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sub_unref(list[i]);
    free(list);
}

static void sum_counts(ev_sub **subs, size_t n, uint64_t *delivered, uint64_t *failed,
                       bool *busy)
{
    *delivered = *failed = 0;
    *busy = false;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&subs[i]->mu);
        *delivered += subs[i]->delivered;
        *failed += subs[i]->failed;
        if (subs[i]->count > 0 || subs[i]->running)
            *busy = true;
        pthread_mutex_unlock(&subs[i]->mu);
    }
}

wasmplug_status wasmplug_bus_shutdown(wasmplug_bus *bus, wasmplug_bus_shutdown_mode mode,
                                      uint32_t timeout_ms, wasmplug_bus_report *report)
{
    if (report)
        memset(report, 0, sizeof *report);
    if (!bus)
        return WASMPLUG_ERR_ARGUMENT;
    if (atomic_exchange(&bus->shutting, true))
        return WASMPLUG_ERR_PLUGIN_STATE;

    /* Wake blocked publishers and waiting requesters; wait for publishes in
     * progress to finish so nothing is queued behind our back. */
    size_t n;
    ev_sub **subs = ev_subs_snapshot(bus, &n);
    if (!subs)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&subs[i]->mu);
        pthread_cond_broadcast(&subs[i]->not_full);
        pthread_mutex_unlock(&subs[i]->mu);
    }
    pthread_mutex_lock(&bus->req_mu);
    for (ev_waiter *w = bus->waiters; w; w = w->next) {
        w->cancelled = true;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&bus->req_mu);
    while (atomic_load(&bus->active_publishers) > 0) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    /* Bridge reads in progress may still take entries from Redis; later ones
     * do not begin. A read blocks 100 ms; a Redis that stopped answering
     * fails it within the command timeout (10 s). */
    uint64_t reads_end = deadline_after_ms(12000);
    while (atomic_load(&bus->bridge_reads) > 0 && ev_now_ns() < reads_end) {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    /* Delayed batches go out now. */
    pthread_mutex_lock(&bus->sched_mu);
    pthread_cond_broadcast(&bus->work_cv);
    pthread_mutex_unlock(&bus->sched_mu);

    uint64_t delivered0, failed0, delivered1, failed1;
    bool busy;
    sum_counts(subs, n, &delivered0, &failed0, &busy);
    if (mode == WASMPLUG_BUS_DRAIN) {
        uint64_t deadline = timeout_ms == WASMPLUG_NO_TIMEOUT ? UINT64_MAX
                                                               : deadline_after_ms(timeout_ms);
        while (busy && ev_now_ns() < deadline) {
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
            sum_counts(subs, n, &delivered1, &failed1, &busy);
        }
        if (busy && report)
            report->timed_out = true;
    }
    uint64_t discarded = 0;
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&subs[i]->mu);
        discarded += discard_queue(subs[i]);
        pthread_mutex_unlock(&subs[i]->mu);
    }

    /* Stop the workers: each finishes the delivery it is in. */
    pthread_mutex_lock(&bus->sched_mu);
    atomic_store(&bus->stop, true);
    pthread_cond_broadcast(&bus->work_cv);
    pthread_mutex_unlock(&bus->sched_mu);
    pthread_mutex_lock(&bus->pause_mu);
    pthread_cond_broadcast(&bus->pause_cv);
    pthread_mutex_unlock(&bus->pause_mu);
    for (uint32_t i = 0; i < bus->worker_count; i++)
        pthread_join(bus->workers[i], NULL);
    bus->worker_count = 0;

    /* Subscriptions still in a scheduler list: their queues are empty. */
    pthread_mutex_lock(&bus->sched_mu);
    for (ev_sub *s; (s = ready_pop(bus)) != NULL;)
        sub_unref(s);
    while (bus->delayed) {
        ev_sub *s = bus->delayed;
        list_remove(bus, s);
        sub_unref(s);
    }
    pthread_mutex_unlock(&bus->sched_mu);

    sum_counts(subs, n, &delivered1, &failed1, &busy);
    if (report) {
        report->delivered = delivered1 - delivered0;
        report->failed = failed1 - failed0;
        report->discarded = discarded;
    }
    ev_subs_release(subs, n);
    bus->shut_down = true;
    return WASMPLUG_OK;
}

void wasmplug_bus_free(wasmplug_bus *bus)
{
    if (!bus)
        return;
    ev_link_detach(bus);
    if (!bus->shut_down) {
        atomic_store(&bus->shutting, false);
        wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DISCARD, 0, NULL);
    }
    for (size_t i = 0; i < bus->sub_count; i++)
        sub_unref(bus->subs[i]);
    free(bus->subs);
    free(bus->workers);
    ev_topics_free(bus);
    ev_dead_free(bus);
    pthread_rwlock_destroy(&bus->subs_lock);
    pthread_rwlock_destroy(&bus->bridge_lock);
    pthread_mutex_destroy(&bus->sched_mu);
    pthread_cond_destroy(&bus->work_cv);
    pthread_mutex_destroy(&bus->pause_mu);
    pthread_cond_destroy(&bus->pause_cv);
    pthread_mutex_destroy(&bus->req_mu);
    pthread_mutex_destroy(&bus->topic_mu);
    pthread_mutex_destroy(&bus->dl_mu);
    pthread_mutex_destroy(&bus->err_mu);
    free(bus);
}

/* ------------------------------------------------------------------------ */
/* Subscribing                                                              */
/* ------------------------------------------------------------------------ */

const char *wasmplug_bus_full_policy_string(wasmplug_bus_full_policy p)
{
    switch (p) {
    case WASMPLUG_FULL_DROP_OLDEST: return "drop_oldest";
    case WASMPLUG_FULL_REJECT: return "reject";
    case WASMPLUG_FULL_BLOCK: return "block";
    }
    return "unknown";
}

bool wasmplug_bus_full_policy_parse(const char *s, wasmplug_bus_full_policy *out)
{
    static const wasmplug_bus_full_policy all[] = {WASMPLUG_FULL_DROP_OLDEST,
                                                   WASMPLUG_FULL_REJECT, WASMPLUG_FULL_BLOCK};
    for (size_t i = 0; s && i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, wasmplug_bus_full_policy_string(all[i])) == 0) {
            if (out)
                *out = all[i];
            return true;
        }
    return false;
}

static wasmplug_status add_sub(wasmplug_bus *bus, const char *pattern,
                               const wasmplug_subscription_options *opts, const char *plugin,
                               const char *handler, wasmplug_event_fn fn, void *user,
                               uint64_t *id, wasmplug_plugin_error *err)
{
    const char *who = plugin ? plugin : "host";
    if (!bus)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe", "no bus given");
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    if (wasmplug_topic_check(pattern, pattern ? strlen(pattern) : 0, true, msg, sizeof msg))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe", "%s", msg);
    if (plugin && (!*plugin || strlen(plugin) >= WASMPLUG_NAME_MAX))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe",
                       "plugin name must be 1..%d bytes", WASMPLUG_NAME_MAX - 1);
    if (handler && strlen(handler) >= WASMPLUG_NAME_MAX)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe",
                       "handler name must be at most %d bytes", WASMPLUG_NAME_MAX - 1);
    wasmplug_subscription_options o = WASMPLUG_SUBSCRIPTION_OPTIONS_INIT;
    if (opts)
        o = *opts;
    if (!o.queue_size)
        o.queue_size = DEFAULT_QUEUE;
    if (!o.block_timeout_ms)
        o.block_timeout_ms = DEFAULT_BLOCK_MS;
    if (o.group && (strlen(o.group) >= WASMPLUG_NAME_MAX ||
                    wasmplug_topic_check(o.group, strlen(o.group), false, NULL, 0)))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe",
                       "subscription to '%s': a group name is 1..%d bytes written as a topic "
                       "(no spaces, '*' or '>')",
                       pattern, WASMPLUG_NAME_MAX - 1);
    if (o.queue_size > MAX_QUEUE || (uint32_t)o.on_full > WASMPLUG_FULL_BLOCK ||
        o.batch_max > o.queue_size)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, who, "events.subscribe",
                       "subscription to '%s': queue_size must be 1..%u, batch max at most the "
                       "queue size, on_full drop_oldest, reject or block",
                       pattern, MAX_QUEUE);
    if (atomic_load(&bus->shutting))
        return ev_fail(err, WASMPLUG_ERR_PLUGIN_STATE, who, "events.subscribe",
                       "the event bus is shutting down");

    ev_sub *s = calloc(1, sizeof *s);
    if (s)
        s->ring = calloc(o.queue_size, sizeof *s->ring);
    if (!s || !s->ring) {
        free(s);
        return ev_fail(err, WASMPLUG_ERR_NOMEM, who, "events.subscribe", "out of memory");
    }
    atomic_init(&s->refs, 1);
    s->id = atomic_fetch_add(&bus->next_sub_id, 1);
    snprintf(s->pattern, sizeof s->pattern, "%s", pattern);
    snprintf(s->subscriber, sizeof s->subscriber, "%s", who);
    snprintf(s->group, sizeof s->group, "%s", o.group && *o.group ? o.group : who);
    s->opt.group = NULL; /* the copy above is the subscription's */
    s->is_plugin = plugin != NULL;
    snprintf(s->handler, sizeof s->handler, "%s", handler ? handler : "");
    s->fn = fn;
    s->user = user;
    s->opt = o;
    pthread_mutex_init(&s->mu, NULL);
    cond_init_monotonic(&s->not_full);
    pthread_cond_init(&s->idle, NULL);

    pthread_rwlock_wrlock(&bus->subs_lock);
    if (bus->sub_count == bus->sub_cap) {
        size_t cap = bus->sub_cap ? bus->sub_cap * 2 : 8;
        ev_sub **grown = realloc(bus->subs, cap * sizeof *grown);
        if (!grown) {
            pthread_rwlock_unlock(&bus->subs_lock);
            sub_unref(s);
            return ev_fail(err, WASMPLUG_ERR_NOMEM, who, "events.subscribe", "out of memory");
        }
        bus->subs = grown;
        bus->sub_cap = cap;
    }
    bus->subs[bus->sub_count++] = s;
    pthread_rwlock_unlock(&bus->subs_lock);
    if (id)
        *id = s->id;
    pthread_rwlock_rdlock(&bus->bridge_lock);
    if (bus->bridge)
        ev_bridge_sub_added(bus->bridge, s);
    pthread_rwlock_unlock(&bus->bridge_lock);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_bus_subscribe(wasmplug_bus *bus, const char *pattern,
                                       const wasmplug_subscription_options *opts,
                                       wasmplug_event_fn fn, void *user, uint64_t *id,
                                       wasmplug_plugin_error *err)
{
    if (!fn)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.subscribe",
                       "no callback given");
    return add_sub(bus, pattern, opts, NULL, NULL, fn, user, id, err);
}

wasmplug_status wasmplug_bus_subscribe_plugin(wasmplug_bus *bus, const char *pattern,
                                              const wasmplug_subscription_options *opts,
                                              const char *plugin_name, const char *handler,
                                              uint64_t *id, wasmplug_plugin_error *err)
{
    if (!plugin_name)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "", "events.subscribe",
                       "no plugin name given");
    return add_sub(bus, pattern, opts, plugin_name, handler, NULL, NULL, id, err);
}

/* Remove s (already taken out of the bus's list, whose reference the
 * caller now holds and gives up here). */
static uint64_t retire_sub(wasmplug_bus *bus, ev_sub *s)
{
    /* Its bridge readers stop first: nothing more is queued from Redis. */
    pthread_rwlock_rdlock(&bus->bridge_lock);
    if (bus->bridge)
        ev_bridge_sub_removed(bus->bridge, s);
    pthread_rwlock_unlock(&bus->bridge_lock);
    pthread_mutex_lock(&s->mu);
    uint64_t before = s->discarded;
    atomic_store(&s->removed, true);
    discard_queue(s);
    /* The worker delivering discards what it still holds, then stops. */
    bool self = current.sub == s;
    while (s->running && !self)
        pthread_cond_wait(&s->idle, &s->mu);
    uint64_t discarded = s->discarded - before;
    pthread_mutex_unlock(&s->mu);
    pthread_mutex_lock(&bus->sched_mu);
    bool listed = s->list != EV_LIST_NONE;
    if (listed)
        list_remove(bus, s);
    pthread_mutex_unlock(&bus->sched_mu);
    if (listed)
        sub_unref(s);
    sub_unref(s);
    return discarded;
}

wasmplug_status wasmplug_bus_unsubscribe(wasmplug_bus *bus, uint64_t id, uint64_t *discarded)
{
    if (discarded)
        *discarded = 0;
    if (!bus)
        return WASMPLUG_ERR_ARGUMENT;
    ev_sub *found = NULL;
    pthread_rwlock_wrlock(&bus->subs_lock);
    for (size_t i = 0; i < bus->sub_count; i++)
        if (bus->subs[i]->id == id) {
            found = bus->subs[i];
            memmove(&bus->subs[i], &bus->subs[i + 1],
                    (bus->sub_count - i - 1) * sizeof *bus->subs);
            bus->sub_count--;
            break;
        }
    pthread_rwlock_unlock(&bus->subs_lock);
    if (!found)
        return WASMPLUG_ERR_NOT_FOUND;
    uint64_t n = retire_sub(bus, found);
    if (discarded)
        *discarded = n;
    return WASMPLUG_OK;
}

size_t wasmplug_bus_unsubscribe_plugin(wasmplug_bus *bus, const char *plugin_name)
{
    if (!bus || !plugin_name)
        return 0;
    size_t removed = 0;
    for (;;) {
        ev_sub *found = NULL;
        pthread_rwlock_wrlock(&bus->subs_lock);
        for (size_t i = 0; i < bus->sub_count; i++)
            if (bus->subs[i]->is_plugin && strcmp(bus->subs[i]->subscriber, plugin_name) == 0) {
                found = bus->subs[i];
                memmove(&bus->subs[i], &bus->subs[i + 1],
                        (bus->sub_count - i - 1) * sizeof *bus->subs);
                bus->sub_count--;
                break;
            }
        pthread_rwlock_unlock(&bus->subs_lock);
        if (!found)
            return removed;
        retire_sub(bus, found);
        removed++;
    }
}

/* ------------------------------------------------------------------------ */
/* Publishing                                                               */
/* ------------------------------------------------------------------------ */

/* Queue ev for s. Fails (other subscribers are unaffected) for a full
 * REJECT queue or a BLOCK queue that stayed full. */
static wasmplug_status enqueue(wasmplug_bus *bus, ev_sub *s, ev_event *ev,
                               wasmplug_plugin_error *err)
{
    ev_event *dropped = NULL;
    uint32_t cap = s->opt.queue_size;
    pthread_mutex_lock(&s->mu);
    if (atomic_load(&s->removed)) {
        ev_settle(ev, EV_DISCARDED, 0, WASMPLUG_ERR_CANCELLED, "unsubscribed");
        pthread_mutex_unlock(&s->mu);
        return WASMPLUG_OK;
    }
    if (s->count == cap) {
        wasmplug_bus_full_policy policy = s->opt.on_full;
        /* A subscriber publishing to itself from its own delivery would wait
         * for itself: it is refused at once instead. */
        if (policy == WASMPLUG_FULL_BLOCK && current.sub == s)
            policy = WASMPLUG_FULL_REJECT;
        if (policy == WASMPLUG_FULL_DROP_OLDEST) {
            dropped = s->ring[s->head];
            s->head = (s->head + 1) % cap;
            s->count--;
            s->dropped++;
            atomic_fetch_add(&dropped->stats->dropped, 1);
            ev_settle(dropped, EV_DISCARDED, 0, WASMPLUG_ERR_LIMIT, "dropped from a full queue");
        } else {
            struct timespec ts = abs_time(deadline_after_ms(s->opt.block_timeout_ms));
            bool timed_out = policy == WASMPLUG_FULL_REJECT;
            while (!timed_out && s->count == cap && !atomic_load(&s->removed) &&
                   !atomic_load(&bus->shutting))
                timed_out = pthread_cond_timedwait(&s->not_full, &s->mu, &ts) == ETIMEDOUT &&
                            s->count == cap;
            if (atomic_load(&s->removed)) {
                ev_settle(ev, EV_DISCARDED, 0, WASMPLUG_ERR_CANCELLED, "unsubscribed");
                pthread_mutex_unlock(&s->mu);
                return WASMPLUG_OK;
            }
            if (s->count == cap) {
                s->rejected++;
                atomic_fetch_add(&ev->stats->dropped, 1);
                pthread_mutex_unlock(&s->mu);
                if (policy == WASMPLUG_FULL_REJECT)
                    return ev_fail(err, WASMPLUG_ERR_LIMIT, ev->source, "events.publish",
                                   "event on '%s' refused by subscription %llu ('%s' of %s): "
                                   "its queue is full (%u events, on_full: reject)",
                                   ev->topic, (unsigned long long)s->id, s->pattern,
                                   s->subscriber, cap);
                if (atomic_load(&bus->shutting))
                    return ev_fail(err, WASMPLUG_ERR_PLUGIN_STATE, ev->source,
                                   "events.publish", "the event bus is shutting down");
                return ev_fail(err, WASMPLUG_ERR_TIMEOUT, ev->source, "events.publish",
                               "event on '%s' refused by subscription %llu ('%s' of %s): its "
                               "queue stayed full (%u events) for %u ms (on_full: block)",
                               ev->topic, (unsigned long long)s->id, s->pattern,
                               s->subscriber, cap, s->opt.block_timeout_ms);
            }
        }
    }
    s->ring[(s->head + s->count) % cap] = ev;
    atomic_fetch_add(&ev->refs, 1);
    s->count++;
    s->enqueued++;
    if (s->count > s->queue_max)
        s->queue_max = s->count;
    if (!s->owned) {
        s->owned = true;
        atomic_fetch_add(&s->refs, 1); /* the scheduler's */
        schedule(bus, s);
    } else if (is_batched(s) && s->count == s->opt.batch_max && !s->running) {
        pthread_mutex_lock(&bus->sched_mu);
        if (s->list == EV_LIST_DELAYED) {
            list_remove(bus, s);
            ready_push(bus, s);
            pthread_cond_signal(&bus->work_cv);
        }
        pthread_mutex_unlock(&bus->sched_mu);
    }
    pthread_mutex_unlock(&s->mu);
    event_unref(dropped);
    return WASMPLUG_OK;
}

/* A string as a JSON string (jansson escapes it); malloc'd, or NULL if
 * it is not UTF-8 or memory ran out. */
char *ev_json_string(const char *s, size_t len, size_t *out_len)
{
    json_t *j = json_stringn(s, len);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    if (text)
        *out_len = strlen(text);
    return text;
}

/*
 * Build the shared event in one block: copies of topic, source, reply_to
 * and payload, and the event JSON delivered to plugins. jansson checks the
 * payload and escapes the strings (the topic's escaped form is computed
 * once per topic, in its stats entry); the object around them is put
 * together here with the payload's bytes as published, so an event costs
 * one allocation besides the check.
 */
static wasmplug_status event_new(wasmplug_bus *bus, const char *source, uint32_t hops,
                                 const char *topic, size_t topic_len, const char *payload,
                                 size_t payload_len, const char *reply_to, ev_event **out,
                                 wasmplug_plugin_error *err)
{
    char shown[128];
    if (payload_len == 0) {
        payload = "null";
        payload_len = 4;
    }
    json_error_t jerr;
    json_t *value = json_loadb(payload, payload_len, JSON_DECODE_ANY, &jerr);
    if (!value) {
        ev_escape(shown, sizeof shown, topic, topic_len);
        return ev_fail(err, WASMPLUG_ERR_SERIALIZATION, source, "events.publish",
                       "payload of the event on '%s' is not JSON: line %d, column %d: %s",
                       shown, jerr.line, jerr.column, jerr.text);
    }
    json_decref(value);

    size_t src_len = strlen(source), reply_len = reply_to ? strlen(reply_to) : 0;
    size_t src_json_len = 6, topic_json_len = 0, reply_json_len = 0;
    char *src_json = NULL, *topic_json = NULL, *reply_json = NULL;
    if (strcmp(source, "host") != 0 &&
        !(src_json = ev_json_string(source, src_len, &src_json_len))) {
        ev_escape(shown, sizeof shown, source, src_len);
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, source, "events.publish",
                       "cannot encode the event: its source '%s' must be UTF-8", shown);
    }
    char topic_copy[WASMPLUG_TOPIC_MAX + 1];
    memcpy(topic_copy, topic, topic_len);
    topic_copy[topic_len] = 0;
    ev_topic *stats = ev_topic_stats(bus, topic_copy);
    const char *topic_enc = stats->json;
    if (topic_enc) {
        topic_json_len = stats->json_len;
    } else if ((topic_json = ev_json_string(topic, topic_len, &topic_json_len)) != NULL) {
        topic_enc = topic_json;
    }
    if (reply_to)
        reply_json = ev_json_string(reply_to, reply_len, &reply_json_len);
    /* The numbers take at most 20 digits each. */
    size_t json_max = sizeof "{\"topic\":,\"id\":,\"time\":,\"source\":,\"hops\":,"
                             "\"reply_to\":,\"payload\":}" +
                      topic_json_len + src_json_len + reply_json_len + payload_len + 3 * 20;
    ev_event *ev = NULL;
    if (topic_enc && (!reply_to || reply_json))
        ev = malloc(sizeof *ev + topic_len + 1 + src_len + 1 + (reply_to ? reply_len + 1 : 0) +
                    payload_len + 1 + json_max);
    if (!ev) {
        free(src_json);
        free(topic_json);
        free(reply_json);
        return ev_fail(err, WASMPLUG_ERR_NOMEM, source, "events.publish", "out of memory");
    }
    char *p = ev->data;
    memcpy(p, topic, topic_len);
    p[topic_len] = 0;
    ev->topic = p;
    p += topic_len + 1;
    memcpy(p, source, src_len + 1);
    ev->source = p;
    p += src_len + 1;
    ev->reply_to = NULL;
    if (reply_to) {
        memcpy(p, reply_to, reply_len + 1);
        ev->reply_to = p;
        p += reply_len + 1;
    }
    memcpy(p, payload, payload_len);
    p[payload_len] = 0;
    ev->payload = p;
    ev->payload_len = payload_len;
    p += payload_len + 1;
    atomic_init(&ev->refs, 1);
    ev->done = NULL;
    ev->done_ctx = NULL;
    ev->hops = hops;
    ev->id = atomic_fetch_add(&bus->next_event_id, 1);
    ev->time_ms = ev_wall_ms();
    ev->published_ns = ev_now_ns();
    ev->stats = stats;
    int n = snprintf(p, json_max, "{\"topic\":%s,\"id\":%llu,\"time\":%llu,\"source\":%s,"
                                  "\"hops\":%u%s%s,\"payload\":",
                     topic_enc, (unsigned long long)ev->id, (unsigned long long)ev->time_ms,
                     src_json ? src_json : "\"host\"", hops, reply_json ? ",\"reply_to\":" : "",
                     reply_json ? reply_json : "");
    memcpy(p + n, payload, payload_len);
    p[(size_t)n + payload_len] = '}';
    p[(size_t)n + payload_len + 1] = 0;
    ev->json = p;
    ev->json_len = (size_t)n + payload_len + 1;
    free(src_json);
    free(topic_json);
    free(reply_json);
    *out = ev;
    return WASMPLUG_OK;
}

bool ev_is_inbox(const char *topic, size_t topic_len)
{
    size_t prefix = strlen(WASMPLUG_BUS_INBOX_PREFIX);
    return topic_len > prefix && memcmp(topic, WASMPLUG_BUS_INBOX_PREFIX, prefix) == 0;
}

void ev_reply_to_inbox(wasmplug_bus *bus, const char *topic, size_t topic_len,
                       const void *data, size_t len)
{
    char inbox[WASMPLUG_TOPIC_MAX + 1];
    if (topic_len > WASMPLUG_TOPIC_MAX)
        return;
    memcpy(inbox, topic, topic_len);
    inbox[topic_len] = 0;
    route_reply(bus, inbox, data, len);
}

wasmplug_status ev_prepare(wasmplug_bus *bus, const char *source, uint32_t hops,
                           const char *topic, size_t topic_len, const char *payload,
                           size_t payload_len, const char *reply_to, ev_event **out,
                           wasmplug_plugin_error *err)
{
    const char *src = source && *source ? source : "host";
    char msg[WASMPLUG_ERROR_MESSAGE_MAX], shown[128];
    *out = NULL;
    if (wasmplug_topic_check(topic, topic_len, false, msg, sizeof msg))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, src, "events.publish", "%s", msg);
    if (hops > bus->cfg.max_hops) {
        atomic_fetch_add(&bus->hop_limited, 1);
        ev_escape(shown, sizeof shown, topic, topic_len);
        wasmplug_plugin_error e;
        ev_fail(&e, WASMPLUG_ERR_LIMIT, src, "events.publish",
                "event on '%s' from '%s' would be hop %u, over the limit of %u: "
                "plugins are publishing in a cycle",
                shown, src, hops, bus->cfg.max_hops);
        ev_error_record(bus, &e);
        if (err)
            *err = e;
        return WASMPLUG_ERR_LIMIT;
    }
    if (payload_len > bus->cfg.max_payload) {
        ev_escape(shown, sizeof shown, topic, topic_len);
        return ev_fail(err, WASMPLUG_ERR_INPUT_TOO_LARGE, src, "events.publish",
                       "payload of the event on '%s' is %zu bytes, over the bus limit of %u",
                       shown, payload_len, bus->cfg.max_payload);
    }
    ev_event *ev = NULL;
    wasmplug_status st = event_new(bus, src, hops, topic, topic_len, payload, payload_len,
                                   reply_to, &ev, err);
    if (st)
        return st;
    *out = ev;
    return WASMPLUG_OK;
}

void ev_event_unref(ev_event *ev)
{
    event_unref(ev);
}

void ev_sub_unref(ev_sub *s)
{
    sub_unref(s);
}

wasmplug_status ev_enqueue_one(wasmplug_bus *bus, ev_sub *s, ev_event *ev)
{
    wasmplug_status st = enqueue(bus, s, ev, NULL);
    if (st != WASMPLUG_OK)
        ev_settle(ev, EV_DISCARDED, 0, st, "refused by the subscription's queue");
    event_unref(ev);
    return st;
}

/* An event on a bridged topic goes to Redis only: every bus (this one
 * included) delivers it from its stream. Requests stay local. */
static bool dispatch_bridged(wasmplug_bus *bus, ev_event *ev, wasmplug_status *st,
                             wasmplug_plugin_error *err)
{
    if (ev->reply_to)
        return false;
    pthread_rwlock_rdlock(&bus->bridge_lock);
    bool routed = bus->bridge && ev_bridge_routes(bus->bridge, ev->topic);
    if (routed)
        *st = ev_bridge_publish(bus->bridge, ev, err);
    pthread_rwlock_unlock(&bus->bridge_lock);
    if (routed && *st == WASMPLUG_OK) {
        atomic_fetch_add(&ev->stats->published, 1);
        atomic_fetch_add(&bus->published, 1);
    }
    return routed;
}

wasmplug_status ev_dispatch(wasmplug_bus *bus, ev_event *ev, size_t *matched,
                            wasmplug_plugin_error *err)
{
    ev_sub *local[32], **targets = local;
    size_t n = 0;
    if (matched)
        *matched = 0;
    wasmplug_status bridged;
    if (dispatch_bridged(bus, ev, &bridged, err)) {
        event_unref(ev);
        return bridged;
    }
    pthread_rwlock_rdlock(&bus->subs_lock);
    if (bus->sub_count > 32 && !(targets = malloc(bus->sub_count * sizeof *targets))) {
        pthread_rwlock_unlock(&bus->subs_lock);
        event_unref(ev);
        return ev_fail(err, WASMPLUG_ERR_NOMEM, ev->source, "events.publish", "out of memory");
    }
    for (size_t i = 0; i < bus->sub_count; i++)
        if (wasmplug_topic_matches(bus->subs[i]->pattern, ev->topic)) {
            targets[n] = bus->subs[i];
            atomic_fetch_add(&targets[n]->refs, 1);
            n++;
        }
    pthread_rwlock_unlock(&bus->subs_lock);

    atomic_fetch_add(&ev->stats->published, 1);
    atomic_fetch_add(&bus->published, 1);
    if (n == 0)
        atomic_fetch_add(&ev->stats->unmatched, 1);
    wasmplug_status st = WASMPLUG_OK;
    for (size_t i = 0; i < n; i++) {
        wasmplug_status one = enqueue(bus, targets[i], ev, st ? NULL : err);
        if (one && !st)
            st = one;
        sub_unref(targets[i]);
    }
    if (targets != local)
        free(targets);
    if (matched)
        *matched = n;
    event_unref(ev);
    return st;
}

/* Publish and report how many subscriptions matched. */
static wasmplug_status publish(wasmplug_bus *bus, const char *source, uint32_t hops,
                               const char *topic, size_t topic_len, const char *payload,
                               size_t payload_len, const char *reply_to, size_t *matched,
                               uint64_t *id, wasmplug_plugin_error *err)
{
    if (matched)
        *matched = 0;
    bool inbox = topic && ev_is_inbox(topic, topic_len) && payload_len <= bus->cfg.max_payload;
    if (inbox && wasmplug_topic_check(topic, topic_len, false, NULL, 0) == WASMPLUG_OK) {
        ev_reply_to_inbox(bus, topic, topic_len, payload, payload_len);
        return WASMPLUG_OK;
    }
    ev_event *ev;
    wasmplug_status st = ev_prepare(bus, source, hops, topic, topic_len, payload, payload_len,
                                    reply_to, &ev, err);
    if (st)
        return st;
    if (id)
        *id = ev->id;
    return ev_dispatch(bus, ev, matched, err);
}

/* Count a publish in progress so that shutdown can wait for it. */
bool ev_publish_enter(wasmplug_bus *bus, const char *source, wasmplug_plugin_error *err)
{
    atomic_fetch_add(&bus->active_publishers, 1);
    if (atomic_load(&bus->shutting)) {
        atomic_fetch_sub(&bus->active_publishers, 1);
        ev_fail(err, WASMPLUG_ERR_PLUGIN_STATE, source && *source ? source : "host",
                "events.publish", "the event bus is shutting down");
        return false;
    }
    return true;
}

wasmplug_status ev_publish_leave(wasmplug_bus *bus, wasmplug_status st)
{
    if (st)
        atomic_fetch_add(&bus->publish_errors, 1);
    atomic_fetch_sub(&bus->active_publishers, 1);
    return st;
}

wasmplug_status wasmplug_bus_publish_from(wasmplug_bus *bus, const char *source, uint32_t hops,
                                          const char *topic, size_t topic_len,
                                          const char *payload, size_t payload_len,
                                          uint64_t *id, wasmplug_plugin_error *err)
{
    if (!bus || (!payload && payload_len))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, source, "events.publish",
                       "no bus, or a payload length without a payload");
    if (!ev_publish_enter(bus, source, err))
        return WASMPLUG_ERR_PLUGIN_STATE;
    return ev_publish_leave(bus, publish(bus, source, hops, topic, topic_len, payload, payload_len,
                                      NULL, NULL, id, err));
}

wasmplug_status wasmplug_bus_publish(wasmplug_bus *bus, const char *topic, const char *payload,
                                     size_t payload_len, uint64_t *id,
                                     wasmplug_plugin_error *err)
{
    return wasmplug_bus_publish_from(bus, "host", 0, topic, topic ? strlen(topic) : 0, payload,
                                     payload_len, id, err);
}

/* ------------------------------------------------------------------------ */
/* Request/reply                                                            */
/* ------------------------------------------------------------------------ */

static void route_reply(wasmplug_bus *bus, const char *inbox_topic, const void *data,
                        size_t len)
{
    const char *num = inbox_topic + strlen(WASMPLUG_BUS_INBOX_PREFIX);
    char *end;
    unsigned long long inbox = strtoull(num, &end, 10);
    if (*end || end == num)
        return;
    pthread_mutex_lock(&bus->req_mu);
    for (ev_waiter *w = bus->waiters; w; w = w->next)
        if (w->inbox == inbox && !w->done) {
            w->reply.data = malloc(len + 1);
            if (w->reply.data) {
                if (len)
                    memcpy(w->reply.data, data, len);
                w->reply.data[len] = 0;
                w->reply.len = len;
            }
            w->done = true;
            atomic_fetch_add(&bus->replies, 1);
            pthread_cond_broadcast(&w->cv);
            break;
        }
    pthread_mutex_unlock(&bus->req_mu);
}

wasmplug_status wasmplug_bus_reply(wasmplug_bus *bus, const wasmplug_event *event,
                                   const void *payload, size_t len)
{
    if (!bus || !event || !event->reply_to || (!payload && len))
        return WASMPLUG_ERR_ARGUMENT;
    uint64_t before = atomic_load(&bus->replies);
    route_reply(bus, event->reply_to, payload, len);
    return atomic_load(&bus->replies) != before ? WASMPLUG_OK : WASMPLUG_ERR_NOT_FOUND;
}

static void waiter_remove(wasmplug_bus *bus, ev_waiter *w)
{
    for (ev_waiter **pp = &bus->waiters; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
}

wasmplug_status wasmplug_bus_request_from(wasmplug_bus *bus, const char *source, uint32_t hops,
                                          const char *topic, size_t topic_len,
                                          const char *payload, size_t payload_len,
                                          uint32_t timeout_ms, wasmplug_buf *reply,
                                          wasmplug_plugin_error *err)
{
    return ev_request(bus, source, hops, topic, topic_len, payload, payload_len, timeout_ms,
                      NULL, NULL, reply, err);
}

wasmplug_status ev_request(wasmplug_bus *bus, const char *source, uint32_t hops,
                           const char *topic, size_t topic_len, const char *payload,
                           size_t payload_len, uint32_t timeout_ms,
                           wasmplug_status (*stop)(void *user), void *stop_user,
                           wasmplug_buf *reply, wasmplug_plugin_error *err)
{
    const char *src = source && *source ? source : "host";
    if (!bus || !reply || (!payload && payload_len))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, src, "events.request",
                       "no bus or reply buffer, or a payload length without a payload");
    reply->data = NULL;
    reply->len = 0;
    if (!ev_publish_enter(bus, src, err))
        return WASMPLUG_ERR_PLUGIN_STATE;
    ev_waiter w;
    memset(&w, 0, sizeof w);
    cond_init_monotonic(&w.cv);
    w.inbox = atomic_fetch_add(&bus->next_inbox, 1);
    char inbox[64];
    snprintf(inbox, sizeof inbox, "%s%llu", WASMPLUG_BUS_INBOX_PREFIX,
             (unsigned long long)w.inbox);
    pthread_mutex_lock(&bus->req_mu);
    w.next = bus->waiters;
    bus->waiters = &w;
    pthread_mutex_unlock(&bus->req_mu);
    atomic_fetch_add(&bus->requests, 1);

    size_t matched = 0;
    wasmplug_status st = publish(bus, src, hops, topic, topic_len, payload, payload_len, inbox,
                                 &matched, NULL, err);
    /* The publisher is done: shutdown may go on while we wait. */
    atomic_fetch_sub(&bus->active_publishers, 1);
    if (st == WASMPLUG_OK && matched == 0) {
        char shown[128];
        ev_escape(shown, sizeof shown, topic, topic_len);
        st = ev_fail(err, WASMPLUG_ERR_NOT_FOUND, src, "events.request",
                     "no subscriber for the request on '%s'", shown);
    }
    pthread_mutex_lock(&bus->req_mu);
    if (st == WASMPLUG_OK) {
        uint64_t deadline =
            timeout_ms == WASMPLUG_NO_TIMEOUT ? UINT64_MAX / 2 : deadline_after_ms(timeout_ms);
        bool timed_out = false;
        wasmplug_status stopped = WASMPLUG_OK;
        while (!w.done && !w.cancelled && !timed_out && !stopped) {
            uint64_t until = deadline;
            if (stop) { /* wake up to look at the calling plugin's call */
                uint64_t poll = deadline_after_ms(EV_REQUEST_POLL_MS);
                if (poll < until)
                    until = poll;
            }
            struct timespec ts = abs_time(until);
            timed_out = pthread_cond_timedwait(&w.cv, &bus->req_mu, &ts) == ETIMEDOUT &&
                        ev_now_ns() >= deadline;
            if (stop && !w.done)
                stopped = stop(stop_user);
        }
        if (w.done) {
            *reply = w.reply;
            if (!reply->data)
                st = ev_fail(err, WASMPLUG_ERR_NOMEM, src, "events.request", "out of memory");
        } else if (w.cancelled) {
            st = ev_fail(err, WASMPLUG_ERR_CANCELLED, src, "events.request",
                         "the event bus shut down while waiting for a reply on %s", inbox);
        } else if (stopped) {
            char shown[128];
            ev_escape(shown, sizeof shown, topic, topic_len);
            st = ev_fail(err, stopped, src, "events.request",
                         "the call %s while waiting for a reply to the request on '%s'",
                         stopped == WASMPLUG_ERR_TIMEOUT ? "timed out" : "was cancelled",
                         shown);
        } else {
            atomic_fetch_add(&bus->request_timeouts, 1);
            char shown[128];
            ev_escape(shown, sizeof shown, topic, topic_len);
            st = ev_fail(err, WASMPLUG_ERR_TIMEOUT, src, "events.request",
                         "no reply to the request on '%s' within %u ms", shown, timeout_ms);
        }
    }
    waiter_remove(bus, &w);
    pthread_mutex_unlock(&bus->req_mu);
    pthread_cond_destroy(&w.cv);
    if (st)
        atomic_fetch_add(&bus->publish_errors, 1);
    return st;
}

wasmplug_status wasmplug_bus_request(wasmplug_bus *bus, const char *topic, const char *payload,
                                     size_t payload_len, uint32_t timeout_ms,
                                     wasmplug_buf *reply, wasmplug_plugin_error *err)
{
    return wasmplug_bus_request_from(bus, "host", 0, topic, topic ? strlen(topic) : 0, payload,
                                     payload_len, timeout_ms, reply, err);
}

/* ------------------------------------------------------------------------ */
/* Subscription stats                                                       */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_bus_subscription_stats(wasmplug_bus *bus, uint64_t id,
                                                wasmplug_subscription_stats *out)
{
    if (!bus || !out)
        return WASMPLUG_ERR_ARGUMENT;
    size_t n;
    ev_sub **subs = ev_subs_snapshot(bus, &n);
    if (!subs)
        return WASMPLUG_ERR_NOMEM;
    wasmplug_status st = WASMPLUG_ERR_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        if (subs[i]->id == id) {
            pthread_mutex_lock(&subs[i]->mu);
            ev_sub_fill_stats(subs[i], out);
            pthread_mutex_unlock(&subs[i]->mu);
            st = WASMPLUG_OK;
        }
    ev_subs_release(subs, n);
    return st;
}

wasmplug_status wasmplug_bus_list_subscriptions(wasmplug_bus *bus,
                                                wasmplug_subscription_stats **out,
                                                size_t *count)
{
    if (!bus || !out || !count)
        return WASMPLUG_ERR_ARGUMENT;
    size_t n;
    ev_sub **subs = ev_subs_snapshot(bus, &n);
    wasmplug_subscription_stats *list = subs ? calloc(n ? n : 1, sizeof *list) : NULL;
    if (!list) {
        if (subs)
            ev_subs_release(subs, n);
        return WASMPLUG_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&subs[i]->mu);
        ev_sub_fill_stats(subs[i], &list[i]);
        pthread_mutex_unlock(&subs[i]->mu);
    }
    ev_subs_release(subs, n);
    *out = list;
    *count = n;
    return WASMPLUG_OK;
}

bool ev_current_delivery(wasmplug_bus *bus, const char *plugin, uint32_t *hops)
{
    if (current.bus != bus || !current.sub || !current.sub->is_plugin ||
        strcmp(current.sub->subscriber, plugin) != 0)
        return false;
    *hops = current.hops;
    return true;
}
