/*
 * limits.c - per-plugin limits: resolving defaults, load options and
 * manifest resources; setting fuel before a call; and the one timer thread
 * per host that enforces wall-clock timeouts by interrupting the running
 * instance (the engine checks the interrupt flag at function entries and
 * loop back-edges). A thread per call would cost far more than the call.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

void wph_limits_defaults(wasmplug_plugin_limits *l)
{
    l->max_memory_pages = WPH_DEFAULT_MAX_PAGES;
    l->fuel = WASMPLUG_FUEL_UNLIMITED;
    l->timeout_ms = WASMPLUG_NO_TIMEOUT;
    l->max_call_depth = WPH_DEFAULT_DEPTH;
    l->max_input_bytes = WPH_DEFAULT_IO_MAX;
    l->max_output_bytes = WPH_DEFAULT_IO_MAX;
}

void wph_limits_override(wasmplug_plugin_limits *l, const wasmplug_plugin_limits *o)
{
    if (o->max_memory_pages)
        l->max_memory_pages = o->max_memory_pages > 65536u ? 65536u : o->max_memory_pages;
    if (o->fuel)
        l->fuel = o->fuel;
    if (o->timeout_ms)
        l->timeout_ms = o->timeout_ms;
    if (o->max_call_depth)
        l->max_call_depth = o->max_call_depth;
    if (o->max_input_bytes)
        l->max_input_bytes = o->max_input_bytes;
    if (o->max_output_bytes)
        l->max_output_bytes = o->max_output_bytes;
}

#define LOWER(field)                                                                  \
    do {                                                                              \
        if (c->field && c->field < l->field)                                          \
            l->field = c->field;                                                      \
    } while (0)

void wph_limits_cap(wasmplug_plugin_limits *l, const wasmplug_plugin_limits *c)
{
    LOWER(max_memory_pages);
    LOWER(fuel);
    LOWER(timeout_ms);
    LOWER(max_call_depth);
    LOWER(max_input_bytes);
    LOWER(max_output_bytes);
}
#undef LOWER

/* ------------------------------------------------------------------------ */
/* Timer thread                                                             */
/* ------------------------------------------------------------------------ */

wasmplug_status wph_timer_init(wph_timer *t)
{
    memset(t, 0, sizeof *t);
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return WASMPLUG_ERR_NOMEM;
    /* Deadlines are monotonic: a wall-clock jump must not fire or delay them. */
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&t->cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return WASMPLUG_ERR_NOMEM;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        pthread_cond_destroy(&t->cond);
        return WASMPLUG_ERR_NOMEM;
    }
    return WASMPLUG_OK;
}

static void *timer_main(void *arg)
{
    wph_timer *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        wph_deadline *d = t->head;
        uint64_t now = wph_now_ns();
        if (!d) {
            /* Idle, but calls with deadlines keep coming: tick once a
             * second, so their arms need not wake us; after a second with
             * none, sleep until signalled. */
            if (t->arms == t->arms_seen) {
                t->wake_ns = UINT64_MAX;
                pthread_cond_wait(&t->cond, &t->lock);
            } else {
                t->arms_seen = t->arms;
                t->wake_ns = now + 1000000000u;
                struct timespec tick = {(time_t)(t->wake_ns / 1000000000u),
                                        (long)(t->wake_ns % 1000000000u)};
                pthread_cond_timedwait(&t->cond, &t->lock, &tick);
            }
            continue;
        }
        if (d->at_ns <= now) {
            /* Expired: unlink, then interrupt. The owner disarms under this
             * lock, so the instance is alive while we hold it. */
            t->head = d->next;
            if (t->head)
                t->head->prev = NULL;
            d->armed = false;
            atomic_fetch_or(d->flags, WPH_INT_TIMEOUT);
            wasmplug_instance_interrupt(d->inst);
            continue;
        }
        struct timespec ts;
        ts.tv_sec = (time_t)(d->at_ns / 1000000000u);
        ts.tv_nsec = (long)(d->at_ns % 1000000000u);
        t->wake_ns = d->at_ns;
        pthread_cond_timedwait(&t->cond, &t->lock, &ts);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

void wph_timer_destroy(wph_timer *t)
{
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_broadcast(&t->cond);
    bool started = t->started;
    pthread_mutex_unlock(&t->lock);
    if (started)
        pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->lock);
}

wasmplug_status wph_timer_arm(wph_timer *t, wph_deadline *d, uint32_t timeout_ms)
{
    d->at_ns = wph_now_ns() + (uint64_t)timeout_ms * 1000000u;
    pthread_mutex_lock(&t->lock);
    if (!t->started) {
        /* Started on first use: hosts that never set a timeout have no thread. */
        if (pthread_create(&t->thread, NULL, timer_main, t) != 0) {
            pthread_mutex_unlock(&t->lock);
            return WASMPLUG_ERR_NOMEM;
        }
        t->started = true;
    }
    /* Sorted insert; timeouts are mostly equal, so new ones go near the end. */
    wph_deadline *prev = NULL, *cur = t->head;
    while (cur && cur->at_ns <= d->at_ns) {
        prev = cur;
        cur = cur->next;
    }
    d->prev = prev;
    d->next = cur;
    if (cur)
        cur->prev = d;
    if (prev)
        prev->next = d;
    else
        t->head = d;
    d->armed = true;
    t->arms++;
    if (d->at_ns < t->wake_ns) /* else the thread wakes in time by itself */
        pthread_cond_signal(&t->cond);
    pthread_mutex_unlock(&t->lock);
    return WASMPLUG_OK;
}

void wph_timer_disarm(wph_timer *t, wph_deadline *d)
{
    pthread_mutex_lock(&t->lock);
    if (d->armed) {
        if (d->prev)
            d->prev->next = d->next;
        else
            t->head = d->next;
        if (d->next)
            d->next->prev = d->prev;
        d->armed = false;
    }
    pthread_mutex_unlock(&t->lock);
}

/* ------------------------------------------------------------------------ */
/* Running with limits                                                      */
/* ------------------------------------------------------------------------ */

/* Before wasm runs on s->inst: fresh per-call flags, the fuel budget, the
 * memory size (to tell a grow bomb) and the deadline. */
void wph_exec_begin(wph_slot *s)
{
    wasmplug_plugin *p = s->plugin;
    s->pending = WASMPLUG_OK;
    s->pending_msg[0] = '\0';
    s->pending_fn[0] = '\0';
    s->err_set = false;
    s->errmsg[0] = '\0';
    s->result_len = 0;
    s->timeout_ms = p->limits.timeout_ms;
    s->fuel = p->limits.fuel;
    if (s->request && s->request->timeout_ms && s->request->timeout_ms < s->timeout_ms)
        s->timeout_ms = s->request->timeout_ms;
    if (s->request && s->request->fuel && s->request->fuel < s->fuel)
        s->fuel = s->request->fuel;
    wasmplug_instance_set_fuel(s->inst, s->fuel);
    s->grows_refused_before = wasmplug_instance_grows_refused(s->inst);
    s->deadline.armed = false;
    if (s->timeout_ms != WASMPLUG_NO_TIMEOUT) {
        s->deadline.inst = s->inst;
        s->deadline.flags = &s->interrupted;
        /* If the timer cannot start the call runs without a timeout; fuel
         * and cancel still apply. */
        (void)wph_timer_arm(&p->host->timer, &s->deadline, s->timeout_ms);
    }
    wph_services_begin(s);
}

void wph_exec_end(wph_slot *s)
{
    /* Always through the lock: the timer thread may be firing right now. */
    if (s->timeout_ms != WASMPLUG_NO_TIMEOUT)
        wph_timer_disarm(&s->plugin->host->timer, &s->deadline);
}
