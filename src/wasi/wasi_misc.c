/*
 * wasi_misc.c - the WASI functions that touch no files: args and environ,
 * clocks (real, or virtual in deterministic mode), random bytes (getrandom,
 * or a seeded xoshiro256** stream), poll_oneoff, proc_exit / proc_raise,
 * sched_yield, and the socket functions, which are never available.
 */
#include "wasi/wasi_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* args, environ                                                            */
/* ------------------------------------------------------------------------ */

static int32_t strings_get(ww_env *e, char **list, size_t n, uint32_t ptrs, uint32_t buf)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(list[i]) + 1;
    uint8_t *pp = ww_mem(e, ptrs, (uint64_t)n * 4);
    uint8_t *bp = ww_mem(e, buf, total);
    if (!pp || !bp)
        return WE_FAULT;
    uint32_t at = buf;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        ww_st32(pp + 4 * i, at);
        memcpy(e->mem + at, list[i], len);
        at += (uint32_t)len;
    }
    return WE_SUCCESS;
}

static int32_t sizes_get(ww_env *e, char **list, size_t n, uint32_t count_ptr, uint32_t size_ptr)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += strlen(list[i]) + 1;
    if (!ww_mem(e, count_ptr, 4) || !ww_mem(e, size_ptr, 4))
        return WE_FAULT;
    ww_put32(e, count_ptr, (uint32_t)n);
    ww_put32(e, size_ptr, (uint32_t)total);
    return WE_SUCCESS;
}

int32_t ww_args_get(ww_env *e, const wasmplug_slot *a)
{
    return strings_get(e, e->ctx->args, e->ctx->nargs, a[0].u32, a[1].u32);
}
int32_t ww_args_sizes_get(ww_env *e, const wasmplug_slot *a)
{
    return sizes_get(e, e->ctx->args, e->ctx->nargs, a[0].u32, a[1].u32);
}
int32_t ww_environ_get(ww_env *e, const wasmplug_slot *a)
{
    return strings_get(e, e->ctx->env, e->ctx->nenv, a[0].u32, a[1].u32);
}
int32_t ww_environ_sizes_get(ww_env *e, const wasmplug_slot *a)
{
    return sizes_get(e, e->ctx->env, e->ctx->nenv, a[0].u32, a[1].u32);
}

/* ------------------------------------------------------------------------ */
/* Clocks                                                                   */
/* ------------------------------------------------------------------------ */

static bool clock_id(uint32_t id, clockid_t *out)
{
    switch (id) {
    case 0: *out = CLOCK_REALTIME; return true;
    case 1: *out = CLOCK_MONOTONIC; return true;
    case 2: *out = CLOCK_PROCESS_CPUTIME_ID; return true;
    case 3: *out = CLOCK_THREAD_CPUTIME_ID; return true;
    default: return false;
    }
}

int32_t ww_clock_now(wasmplug_wasi_ctx *c, uint32_t id, uint64_t *out)
{
    *out = 0; /* defined on every path, errors included */
    clockid_t cid;
    if (!clock_id(id, &cid))
        return WE_INVAL;
    if (c->deterministic) {
        *out = (id == 0 ? c->realtime0 : 0) + c->advanced;
        return WE_SUCCESS;
    }
    struct timespec ts;
    if (clock_gettime(cid, &ts) != 0)
        return ww_errno(errno);
    *out = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    return WE_SUCCESS;
}

int32_t ww_clock_res_get(ww_env *e, const wasmplug_slot *a)
{
    clockid_t cid;
    if (!clock_id(a[0].u32, &cid))
        return WE_INVAL;
    uint64_t res = 1000;
    if (!e->ctx->deterministic) {
        struct timespec ts;
        if (clock_getres(cid, &ts) != 0)
            return ww_errno(errno);
        res = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    }
    return ww_put64(e, a[1].u32, res) ? WE_SUCCESS : WE_FAULT;
}

int32_t ww_clock_time_get(ww_env *e, const wasmplug_slot *a)
{
    uint64_t now;
    int32_t r = ww_clock_now(e->ctx, a[0].u32, &now);
    if (r != WE_SUCCESS)
        return r;
    return ww_put64(e, a[2].u32, now) ? WE_SUCCESS : WE_FAULT;
}

/* ------------------------------------------------------------------------ */
/* Random                                                                   */
/* ------------------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro(uint64_t *s)
{
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

int32_t ww_random_get(ww_env *e, const wasmplug_slot *a)
{
    uint32_t len = a[1].u32;
    uint8_t *p = ww_mem(e, a[0].u32, len);
    if (!p)
        return WE_FAULT;
    if (e->ctx->deterministic) {
        for (uint32_t i = 0; i < len; i += 8) {
            uint64_t v = xoshiro(e->ctx->rng);
            for (uint32_t k = 0; k < 8 && i + k < len; k++)
                p[i + k] = (uint8_t)(v >> (8 * k));
        }
        return WE_SUCCESS;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ww_errno(errno);
        }
        done += (size_t)n;
    }
    return WE_SUCCESS;
}

/* ------------------------------------------------------------------------ */
/* proc, sched, sockets                                                     */
/* ------------------------------------------------------------------------ */

int32_t ww_proc_exit(ww_env *e, const wasmplug_slot *a)
{
    wasmplug_caller_trap(e->caller, WASMPLUG_TRAP_EXIT, a[0].i32);
    wasmplug_caller_set_error(e->caller, "proc_exit(%d)", (int)a[0].i32);
    return WW_EXIT;
}

int32_t ww_proc_raise(ww_env *e, const wasmplug_slot *a)
{
    (void)e;
    (void)a;
    return WE_NOSYS; /* signals do not exist for a plugin */
}

int32_t ww_sched_yield(ww_env *e, const wasmplug_slot *a)
{
    (void)e;
    (void)a;
    sched_yield();
    return WE_SUCCESS;
}

static int32_t no_sockets(ww_env *e, uint32_t fd)
{
    int32_t err;
    if (!ww_get(e, fd, &err))
        return err;
    return WE_NOTSOCK; /* no descriptor is ever a socket, as for POSIX accept/shutdown */
}

int32_t ww_sock_accept(ww_env *e, const wasmplug_slot *a) { return no_sockets(e, a[0].u32); }
int32_t ww_sock_recv(ww_env *e, const wasmplug_slot *a) { return no_sockets(e, a[0].u32); }
int32_t ww_sock_send(ww_env *e, const wasmplug_slot *a) { return no_sockets(e, a[0].u32); }
int32_t ww_sock_shutdown(ww_env *e, const wasmplug_slot *a) { return no_sockets(e, a[0].u32); }

/* ------------------------------------------------------------------------ */
/* poll_oneoff                                                              */
/* ------------------------------------------------------------------------ */

#define SUB_SIZE 48
#define EVENT_SIZE 32
#define MAX_SUBS 1024

/* Bytes ready to read on a descriptor that never blocks (a regular file or
 * stdin bytes); -1 when the host must be asked with poll(2). */
static int64_t ready_bytes(wasmplug_wasi_ctx *c, ww_fd *f)
{
    if (f->kind == WW_STDIN)
        return c->stdin_inherit ? -1 : (int64_t)(c->stdin_len - c->stdin_pos);
    if (f->kind == WW_OUTPUT || f->kind == WW_DIR)
        return 0;
    struct stat st;
    if (fstat(f->host, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t pos = lseek(f->host, 0, SEEK_CUR);
        return pos >= 0 && st.st_size > pos ? (int64_t)(st.st_size - pos) : 0;
    }
    return -1;
}

static void put_event(uint8_t *ev, uint64_t userdata, uint16_t error, uint8_t type,
                      uint64_t nbytes, uint16_t flags)
{
    memset(ev, 0, EVENT_SIZE);
    ww_st64(ev, userdata);
    ww_st16(ev + 8, error);
    ev[10] = type;
    ww_st64(ev + 16, nbytes);
    ww_st16(ev + 24, flags);
}

int32_t ww_poll_oneoff(ww_env *e, const wasmplug_slot *a)
{
    wasmplug_wasi_ctx *c = e->ctx;
    uint32_t n = a[2].u32;
    if (n == 0)
        return WE_INVAL;
    if (n > MAX_SUBS)
        return WE_NOTSUP;
    uint8_t *in = ww_mem(e, a[0].u32, (uint64_t)n * SUB_SIZE);
    uint8_t *out = ww_mem(e, a[1].u32, (uint64_t)n * EVENT_SIZE);
    if (!in || !out || !ww_mem(e, a[3].u32, 4))
        return WE_FAULT;
    /* Copy the subscriptions: in and out may overlap. */
    uint8_t subs[MAX_SUBS > 64 ? 64 * SUB_SIZE : 1];
    uint8_t *sub = n <= 64 ? subs : malloc((size_t)n * SUB_SIZE);
    if (!sub)
        return WE_NOMEM;
    memcpy(sub, in, (size_t)n * SUB_SIZE);

    struct pollfd pfd[64];
    uint32_t pidx[64];
    uint32_t npfd = 0, nevents = 0;
    bool have_timeout = false, immediate = false;
    uint64_t timeout = 0; /* ns, relative */
    uint32_t fd_ready[MAX_SUBS / 32];
    memset(fd_ready, 0, sizeof fd_ready);

    for (uint32_t i = 0; i < n; i++) {
        uint8_t *s = sub + (size_t)i * SUB_SIZE;
        uint8_t tag = s[8];
        if (tag == 0) {
            uint32_t id = ww_le32(s + 16);
            uint64_t t = ww_le64(s + 24), now = 0;
            uint16_t flags = (uint16_t)(s[40] | s[41] << 8);
            if (ww_clock_now(c, id, &now) != WE_SUCCESS) {
                immediate = true;
                continue;
            }
            uint64_t rel = (flags & 1) ? (t > now ? t - now : 0) : t;
            if (!have_timeout || rel < timeout)
                timeout = rel;
            have_timeout = true;
        } else if (tag == 1 || tag == 2) {
            int32_t err;
            ww_fd *f = ww_get(e, ww_le32(s + 16), &err);
            if (!f || (tag == 1 ? f->kind == WW_OUTPUT : f->kind == WW_STDIN)) {
                immediate = true;
                fd_ready[i / 32] |= 1u << (i % 32);
                continue;
            }
            int64_t r = tag == 1 ? ready_bytes(c, f) : 0;
            int host = f->kind == WW_STDIN ? 0 : f->host;
            if ((tag == 2 && f->kind != WW_FILE) || r >= 0 || npfd == 64) {
                immediate = true;
                fd_ready[i / 32] |= 1u << (i % 32);
                continue;
            }
            if (tag == 2) {
                struct stat st;
                if (fstat(host, &st) == 0 && S_ISREG(st.st_mode)) {
                    immediate = true;
                    fd_ready[i / 32] |= 1u << (i % 32);
                    continue;
                }
            }
            pfd[npfd].fd = host;
            pfd[npfd].events = tag == 1 ? POLLIN : POLLOUT;
            pfd[npfd].revents = 0;
            pidx[npfd++] = i;
        } else {
            immediate = true;
        }
    }

    /* Wait: for the host descriptors with poll(2), for time alone with a
     * sleep (or, deterministic, by advancing the virtual clocks). */
    bool clocks_fire = false;
    if (npfd) {
        struct timespec ts, *tsp = NULL;
        if (immediate) {
            ts.tv_sec = 0;
            ts.tv_nsec = 0;
            tsp = &ts;
        } else if (have_timeout) {
            ts.tv_sec = (time_t)(timeout / 1000000000ull);
            ts.tv_nsec = (long)(timeout % 1000000000ull);
            tsp = &ts;
        }
        int r = ppoll(pfd, npfd, tsp, NULL);
        if (r < 0 && errno != EINTR) {
            if (sub != subs)
                free(sub);
            return ww_errno(errno);
        }
        if (r <= 0 && !immediate && have_timeout) {
            clocks_fire = true;
            if (c->deterministic)
                c->advanced += timeout;
        }
    } else if (!immediate && have_timeout) {
        if (c->deterministic) {
            c->advanced += timeout;
        } else {
            struct timespec ts = {(time_t)(timeout / 1000000000ull),
                                  (long)(timeout % 1000000000ull)};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            }
        }
        clocks_fire = true;
    } else if (have_timeout && timeout == 0) {
        clocks_fire = true;
    }

    for (uint32_t i = 0; i < n; i++) {
        uint8_t *s = sub + (size_t)i * SUB_SIZE;
        uint64_t userdata = ww_le64(s);
        uint8_t tag = s[8];
        uint8_t *ev = out + (size_t)nevents * EVENT_SIZE;
        if (tag == 0) {
            uint32_t id = ww_le32(s + 16);
            uint64_t now;
            if (ww_clock_now(c, id, &now) != WE_SUCCESS) {
                put_event(ev, userdata, WE_INVAL, 0, 0, 0);
                nevents++;
                continue;
            }
            uint64_t t = ww_le64(s + 24);
            uint16_t flags = (uint16_t)(s[40] | s[41] << 8);
            uint64_t rel = (flags & 1) ? (t > now ? t - now : 0) : t;
            if (clocks_fire && (rel <= timeout || (flags & 1))) {
                put_event(ev, userdata, 0, 0, 0, 0);
                nevents++;
            }
        } else if (tag == 1 || tag == 2) {
            bool ready = (fd_ready[i / 32] >> (i % 32)) & 1;
            uint16_t flags = 0;
            int32_t err = 0;
            int64_t nbytes = 0;
            if (!ready) {
                for (uint32_t k = 0; k < npfd; k++)
                    if (pidx[k] == i && pfd[k].revents) {
                        ready = true;
                        if (pfd[k].revents & POLLHUP)
                            flags = 1;
                        if (pfd[k].revents & POLLNVAL)
                            err = WE_BADF;
                    }
            } else {
                ww_fd *f = ww_get(e, ww_le32(s + 16), &err);
                if (f && tag == 1 && f->kind != WW_STDIN && f->kind != WW_FILE &&
                    f->kind != WW_DIR)
                    err = WE_BADF;
                else if (f && tag == 2 && f->kind == WW_STDIN)
                    err = WE_BADF;
                else if (f && tag == 1)
                    nbytes = ready_bytes(c, f);
                if (nbytes < 0)
                    nbytes = 0;
            }
            if (ready) {
                put_event(ev, userdata, (uint16_t)err, tag, (uint64_t)nbytes, flags);
                nevents++;
            }
        } else {
            put_event(ev, userdata, WE_INVAL, tag, 0, 0);
            nevents++;
        }
    }
    if (sub != subs)
        free(sub);
    ww_put32(e, a[3].u32, nevents);
    return WE_SUCCESS;
}
