/*
 * http_dns.c - name resolution that a request can abandon (wsh_resolve).
 *
 * getaddrinfo blocks for as long as the system's resolver waits (a DNS
 * server that never answers holds it for the resolver's whole timeout and
 * retries) and cannot be interrupted. So it runs in a thread of its own
 * while the request waits on a condition variable, looking at the caller's
 * deadline and interrupt every POLL_MS as the transfer loop does. A request
 * that stops waiting leaves the lookup behind: whichever of the two finishes
 * last frees it (a reference count of two), so the abandoned thread ends on
 * its own when the resolver returns and nothing outlives it.
 */
#include "http_internal.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_MS 10

typedef struct lookup {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    int refs;                /* the thread and the request */
    bool done;
    int rc;
    struct addrinfo *res;
    char name[];
} lookup;

static void lookup_release(lookup *l)
{
    pthread_mutex_lock(&l->lock);
    bool last = --l->refs == 0;
    pthread_mutex_unlock(&l->lock);
    if (!last)
        return;
    if (l->res)
        freeaddrinfo(l->res);
    pthread_cond_destroy(&l->done_cv);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

static void *lookup_run(void *arg)
{
    lookup *l = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(l->name, NULL, &hints, &res);
    pthread_mutex_lock(&l->lock);
    l->rc = rc;
    l->res = rc == 0 ? res : NULL;
    l->done = true;
    pthread_cond_signal(&l->done_cv);
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    return NULL;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int wsh_resolve(const char *name, const wasmplug_http_control *ctl, uint64_t deadline_ns,
                struct addrinfo **res, wasmplug_http_code *interrupted, bool *late)
{
    *res = NULL;
    *interrupted = WASMPLUG_HTTP_OK;
    *late = false;
    size_t n = strlen(name);
    lookup *l = calloc(1, sizeof *l + n + 1);
    if (!l)
        return EAI_MEMORY;
    memcpy(l->name, name, n + 1);
    l->refs = 2;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&l->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&l->lock, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int err = pthread_create(&th, &attr, lookup_run, l);
    pthread_attr_destroy(&attr);
    if (err) {
        l->refs = 1;
        lookup_release(l);
        return EAI_AGAIN;
    }
    int rc = EAI_AGAIN;
    pthread_mutex_lock(&l->lock);
    while (!l->done) {
        wasmplug_http_code stop = ctl && ctl->interrupted ? ctl->interrupted(ctl->user) : 0;
        uint64_t now = mono_ns();
        if (stop || now >= deadline_ns) {
            *interrupted = stop;
            *late = !stop;
            break;
        }
        uint64_t wake = deadline_ns - now < POLL_MS * 1000000ull ? deadline_ns
                                                                : now + POLL_MS * 1000000ull;
        struct timespec ts = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        pthread_cond_timedwait(&l->done_cv, &l->lock, &ts);
    }
    if (l->done) {
        rc = l->rc;
        *res = l->res;
        l->res = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    lookup_release(l);
    return rc;
}
