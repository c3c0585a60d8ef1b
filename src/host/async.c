/*
 * async.c - asynchronous calls: a queue and a pool of worker threads per
 * host (started by the first async call), handles to poll, wait on (with a
 * timeout) and cancel, and completion callbacks. The rules (ordering,
 * cancellation, shutdown) are in <wasmplug.h>.
 *
 * Cancelling one running call: the worker marks its call as the thread's
 * async call (tl_async); start_call/stop_call in plugin.c report the slot
 * the call runs on (wph_async_started/stopped), and cancel interrupts that
 * slot's instance alone, under the handle's lock so the slot cannot be
 * handed to another call meanwhile.
 *
 * Locking: pool->lock (queue, stopping) and a handle's lock are never held
 * together, nor while plugin code or a callback runs.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WPH_ASYNC_DEFAULT_WORKERS 4u
#define WPH_ASYNC_MAX_WORKERS 64u

struct wasmplug_async {
    atomic_uint refs;             /* the caller's handle + the queue/worker */
    wasmplug_plugin *plugin;      /* released when the call ends */
    char *func;
    uint8_t *in;
    size_t in_len;
    wasmplug_async_fn done;
    void *user;
    wasmplug_async *next;         /* queue link (pool->lock) */

    pthread_mutex_t lock;
    pthread_cond_t cond;          /* completed (CLOCK_MONOTONIC) */
    bool completed, cancelled, output_taken;
    wph_slot *slot;               /* the running call's slot, or NULL */
    unsigned depth;               /* nested plugin calls on the worker */
    wasmplug_status status;
    wasmplug_buf out;
    wasmplug_plugin_error err;
};

struct wph_async_pool {
    pthread_mutex_t lock;
    pthread_cond_t cond;          /* work queued or stopping */
    pthread_t *threads;
    uint32_t nthreads;
    bool stopping;
    wasmplug_async *head, *tail;
};

static _Thread_local wasmplug_async *tl_async;

static void async_release(wasmplug_async *a)
{
    if (atomic_fetch_sub(&a->refs, 1) != 1)
        return;
    wasmplug_plugin_release(a->plugin);
    free(a->func);
    free(a->in);
    wasmplug_buf_free(&a->out);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* The queue's reference ends here: the callback, then the waiters. */
static void complete(wasmplug_async *a, wasmplug_status st, wasmplug_buf *out,
                     const wasmplug_plugin_error *err)
{
    wasmplug_plugin_release(a->plugin); /* no plugin reference outlives the call */
    a->plugin = NULL;
    if (a->done)
        a->done(a->user, a, st, out->data ? out : NULL, err);
    pthread_mutex_lock(&a->lock);
    a->status = st;
    a->out = *out;
    a->err = *err;
    a->completed = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    async_release(a);
}

static void complete_cancelled(wasmplug_async *a, const char *why)
{
    wasmplug_plugin_error err;
    wasmplug_buf none = {NULL, 0};
    wph_fail(&err, WASMPLUG_ERR_CANCELLED, WASMPLUG_PHASE_CALL, wasmplug_plugin_name(a->plugin),
             a->func, "%s", why);
    complete(a, WASMPLUG_ERR_CANCELLED, &none, &err);
}

static void run(wasmplug_async *a)
{
    pthread_mutex_lock(&a->lock);
    bool cancelled = a->cancelled;
    pthread_mutex_unlock(&a->lock);
    if (cancelled) {
        complete_cancelled(a, "the async call was cancelled before it started");
        return;
    }
    wasmplug_buf out;
    wasmplug_plugin_error err;
    wasmplug_plugin_error_clear(&err);
    tl_async = a;
    wasmplug_status st = wasmplug_plugin_call(a->plugin, a->func, a->in, a->in_len, &out, &err);
    tl_async = NULL;
    complete(a, st, &out, &err);
}

static void *worker_main(void *arg)
{
    struct wph_async_pool *pool = arg;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        while (!pool->head && !pool->stopping)
            pthread_cond_wait(&pool->cond, &pool->lock);
        wasmplug_async *a = pool->head;
        if (!a)
            break; /* stopping, nothing queued */
        pool->head = a->next;
        if (!pool->head)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        run(a);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

void wph_async_started(wph_slot *s)
{
    wasmplug_async *a = tl_async;
    if (!a || a->depth++ > 0)
        return;
    pthread_mutex_lock(&a->lock);
    a->slot = s;
    if (a->cancelled) { /* cancelled while waiting for an instance */
        atomic_fetch_or(&s->interrupted, WPH_INT_CANCEL);
        wasmplug_instance_interrupt(s->inst);
    }
    pthread_mutex_unlock(&a->lock);
}

void wph_async_stopped(wph_slot *s)
{
    (void)s;
    wasmplug_async *a = tl_async;
    if (!a || --a->depth > 0)
        return;
    pthread_mutex_lock(&a->lock);
    a->slot = NULL;
    pthread_mutex_unlock(&a->lock);
}

wasmplug_status wasmplug_host_set_async_workers(wasmplug_host *h, uint32_t workers)
{
    if (!h || workers == 0 || workers > WPH_ASYNC_MAX_WORKERS)
        return WASMPLUG_ERR_ARGUMENT;
    pthread_mutex_lock(&h->lock);
    bool started = h->async != NULL;
    if (!started)
        h->async_workers = workers;
    pthread_mutex_unlock(&h->lock);
    return started ? WASMPLUG_ERR_PLUGIN_STATE : WASMPLUG_OK;
}

/* Under h->lock: the pool, started now if needed (NULL: out of resources). */
static struct wph_async_pool *pool_get(wasmplug_host *h)
{
    if (h->async)
        return h->async;
    struct wph_async_pool *pool = calloc(1, sizeof *pool);
    uint32_t n = h->async_workers ? h->async_workers : WPH_ASYNC_DEFAULT_WORKERS;
    if (!pool)
        return NULL;
    pool->threads = calloc(n, sizeof *pool->threads);
    if (!pool->threads || pthread_mutex_init(&pool->lock, NULL) != 0) {
        free(pool->threads);
        free(pool);
        return NULL;
    }
    if (pthread_cond_init(&pool->cond, NULL) != 0) {
        pthread_mutex_destroy(&pool->lock);
        free(pool->threads);
        free(pool);
        return NULL;
    }
    for (; pool->nthreads < n; pool->nthreads++)
        if (pthread_create(&pool->threads[pool->nthreads], NULL, worker_main, pool) != 0)
            break;
    if (pool->nthreads == 0) {
        pthread_cond_destroy(&pool->cond);
        pthread_mutex_destroy(&pool->lock);
        free(pool->threads);
        free(pool);
        return NULL;
    }
    h->async = pool;
    return pool;
}

static wasmplug_async *async_new(wasmplug_plugin *p, const char *func, const uint8_t *in,
                                 size_t in_len)
{
    wasmplug_async *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    pthread_condattr_t attr;
    bool ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&a->cond, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (ok && pthread_mutex_init(&a->lock, NULL) != 0) {
        pthread_cond_destroy(&a->cond);
        ok = false;
    }
    if (!ok) {
        free(a);
        return NULL;
    }
    atomic_init(&a->refs, 2);
    a->func = wph_strdup(func);
    a->in = malloc(in_len ? in_len : 1);
    if (!a->func || !a->in) {
        atomic_init(&a->refs, 1);
        async_release(a);
        return NULL;
    }
    if (in_len)
        memcpy(a->in, in, in_len);
    a->in_len = in_len;
    wasmplug_plugin_retain(p);
    a->plugin = p;
    return a;
}

wasmplug_status wasmplug_plugin_call_async(wasmplug_plugin *p, const char *func,
                                           const uint8_t *in, size_t in_len,
                                           wasmplug_async_fn done, void *user,
                                           wasmplug_async **out)
{
    if (out)
        *out = NULL;
    if (!p || !func || (!in && in_len) || (!out && !done))
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_host *h = p->host;
    pthread_mutex_lock(&h->lock);
    struct wph_async_pool *pool = h->async_closed ? NULL : pool_get(h);
    bool closed = h->async_closed;
    pthread_mutex_unlock(&h->lock);
    if (!pool)
        return closed ? WASMPLUG_ERR_PLUGIN_STATE : WASMPLUG_ERR_NOMEM;
    wasmplug_async *a = async_new(p, func, in, in_len);
    if (!a)
        return WASMPLUG_ERR_NOMEM;
    a->done = done;
    a->user = user;
    if (!out)
        atomic_fetch_sub(&a->refs, 1); /* fire and forget: no handle */
    pthread_mutex_lock(&pool->lock);
    bool stopping = pool->stopping;
    if (!stopping) {
        if (pool->tail)
            pool->tail->next = a;
        else
            pool->head = a;
        pool->tail = a;
        pthread_cond_signal(&pool->cond);
    }
    pthread_mutex_unlock(&pool->lock);
    if (stopping) {
        if (out)
            atomic_fetch_sub(&a->refs, 1);
        a->done = NULL;
        async_release(a); /* refused: no callback */
        return WASMPLUG_ERR_PLUGIN_STATE;
    }
    if (out)
        *out = a;
    return WASMPLUG_OK;
}

bool wasmplug_async_poll(wasmplug_async *a)
{
    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    bool done = a->completed;
    pthread_mutex_unlock(&a->lock);
    return done;
}

wasmplug_status wasmplug_async_wait(wasmplug_async *a, uint32_t timeout_ms, wasmplug_buf *out,
                                    wasmplug_plugin_error *err)
{
    if (out) {
        out->data = NULL;
        out->len = 0;
    }
    if (!a)
        return wph_fail(err, WASMPLUG_ERR_ARGUMENT, WASMPLUG_PHASE_CALL, "", "", "no async call");
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&a->lock);
    while (!a->completed) {
        if (timeout_ms == WASMPLUG_WAIT_FOREVER)
            pthread_cond_wait(&a->cond, &a->lock);
        else if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
            break;
    }
    if (!a->completed) {
        pthread_mutex_unlock(&a->lock);
        return wph_fail(err, WASMPLUG_ERR_TIMEOUT, WASMPLUG_PHASE_CALL, "", a->func,
                        "the async call of '%s' did not complete within %u ms (it goes on)",
                        a->func, timeout_ms);
    }
    wasmplug_status st = a->status;
    if (err)
        *err = a->err;
    if (out && !a->output_taken) {
        *out = a->out;
        a->out.data = NULL;
        a->out.len = 0;
        a->output_taken = true;
    }
    pthread_mutex_unlock(&a->lock);
    return st;
}

bool wasmplug_async_cancel(wasmplug_async *a)
{
    if (!a)
        return false;
    pthread_mutex_lock(&a->lock);
    bool pending = !a->completed;
    if (pending && !a->cancelled) {
        a->cancelled = true;
        if (a->slot) {
            atomic_fetch_or(&a->slot->interrupted, WPH_INT_CANCEL);
            wasmplug_instance_interrupt(a->slot->inst);
        }
    }
    pthread_mutex_unlock(&a->lock);
    return pending;
}

void wasmplug_async_free(wasmplug_async *a)
{
    if (a)
        async_release(a);
}

void wph_async_shutdown(wasmplug_host *h)
{
    pthread_mutex_lock(&h->lock);
    h->async_closed = true;
    struct wph_async_pool *pool = h->async;
    h->async = NULL;
    pthread_mutex_unlock(&h->lock);
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    wasmplug_async *queued = pool->head;
    pool->head = pool->tail = NULL;
    pthread_cond_broadcast(&pool->cond);
    pthread_mutex_unlock(&pool->lock);
    while (queued) {
        wasmplug_async *next = queued->next;
        complete_cancelled(queued, "the host was freed before the async call started");
        queued = next;
    }
    /* Running calls are cancelled (kill), then the workers end. */
    wasmplug_host_kill_all(h);
    for (uint32_t i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pthread_cond_destroy(&pool->cond);
    pthread_mutex_destroy(&pool->lock);
    free(pool->threads);
    free(pool);
}
