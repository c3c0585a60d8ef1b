/*
 * redis_conn.c - URL parsing, connecting with backoff and commands over
 * hiredis (see redis_conn.h).
 */
#include "redis_conn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct wps_redis {
    wps_redis_url url;
    wps_redis_options opt;
    char label[WPS_REDIS_HOST_MAX + 32];
    redisContext *ctx;
    uint64_t connects;
    uint64_t seed;         /* jitter */
    uint32_t timeout_ms;   /* current command timeout */
    unsigned pending;      /* appended replies not yet read */
};

/* ---- URLs ----------------------------------------------------------------- */

static wps_redis_status url_fail(char *msg, size_t msg_size, const char *url, const char *why)
{
    /* The URL may hold a password: quote only its scheme. */
    const char *sep = strstr(url, "://");
    int scheme = sep ? (int)(sep - url) : 0;
    if (scheme > 16)
        scheme = 16;
    snprintf(msg, msg_size, "redis URL '%.*s%s': %s (expected redis://[[USER]:PASSWORD@]HOST"
             "[:PORT][/DB] or unix:///PATH[?db=N])", scheme, url, sep ? "://..." : "", why);
    return WPS_REDIS_USAGE;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out (NUL-terminated); false if malformed or
 * too long or decoding to a NUL byte. */
static bool decode(const char *s, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return false;
            int h = hex_digit(s[i + 1]), l = hex_digit(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return false;
            c = h * 16 + l;
            i += 2;
        }
        if (o + 1 >= size)
            return false;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return true;
}

static bool parse_int(const char *s, size_t n, long lo, long hi, long *out)
{
    if (n == 0 || n > 10)
        return false;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* USER:PASSWORD (either may be empty; the colon is required). */
static bool parse_userinfo(const char *s, size_t n, wps_redis_url *out)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return false;
    return decode(s, (size_t)(colon - s), out->user, sizeof out->user) &&
           decode(colon + 1, n - (size_t)(colon - s) - 1, out->password, sizeof out->password);
}

/* "?db=N" (the only parameter). */
static bool parse_query(const char *q, wps_redis_url *out)
{
    if (!*q)
        return true;
    if (strncmp(q, "?db=", 4) != 0)
        return false;
    long db;
    if (!parse_int(q + 4, strlen(q + 4), 0, 1L << 30, &db))
        return false;
    out->db = (int)db;
    return true;
}

wps_redis_status wps_redis_url_parse(const char *url, wps_redis_url *out, char *msg,
                                     size_t msg_size)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (!url || !*url)
        return url_fail(msg, msg_size, "", "empty");
    const char *rest;
    bool unix_socket = false;
    if (!strncmp(url, "redis://", 8)) {
        rest = url + 8;
    } else if (!strncmp(url, "unix://", 7)) {
        rest = url + 7, unix_socket = true;
    } else if (!strncmp(url, "redis+unix://", 13)) {
        rest = url + 13, unix_socket = true;
    } else if (!strncmp(url, "rediss://", 9)) {
        return url_fail(msg, msg_size, url,
                        "TLS is not supported (the system's hiredis has no TLS); reach Redis "
                        "through a TLS tunnel or a private network");
    } else {
        return url_fail(msg, msg_size, url, "unknown scheme");
    }

    if (unix_socket) {
        /* [USER:PASSWORD@]/PATH[?db=N] */
        const char *slash = strchr(rest, '/');
        const char *at = slash ? memchr(rest, '@', (size_t)(slash - rest)) : NULL;
        if (at && !parse_userinfo(rest, (size_t)(at - rest), out))
            return url_fail(msg, msg_size, url, "bad USER:PASSWORD before '@'");
        if (!slash || (!at && slash != rest) || (at && slash != at + 1))
            return url_fail(msg, msg_size, url, "the socket path must be absolute");
        const char *q = strchr(slash, '?');
        size_t n = q ? (size_t)(q - slash) : strlen(slash);
        if (!decode(slash, n, out->unix_path, sizeof out->unix_path) || n < 2)
            return url_fail(msg, msg_size, url, "bad or too long socket path");
        if (!parse_query(q ? q : "", out))
            return url_fail(msg, msg_size, url, "bad query (only ?db=N is known)");
        return WPS_REDIS_OK;
    }

    /* [USER:PASSWORD@]HOST[:PORT][/DB][?db=N] */
    size_t auth_len = strcspn(rest, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++)
        if (rest[i] == '@')
            at = rest + i;
    const char *hp = rest;
    if (at) {
        if (!parse_userinfo(rest, (size_t)(at - rest), out))
            return url_fail(msg, msg_size, url,
                            "bad USER:PASSWORD before '@' (a password alone is ':PASSWORD')");
        hp = at + 1;
    }
    const char *hp_end = rest + auth_len;
    const char *port = NULL;
    if (*hp == '[') {
        const char *close = memchr(hp, ']', (size_t)(hp_end - hp));
        if (!close || close == hp + 1)
            return url_fail(msg, msg_size, url, "unterminated or empty [IPv6] host");
        if ((size_t)(close - hp - 1) >= sizeof out->host)
            return url_fail(msg, msg_size, url, "host too long");
        memcpy(out->host, hp + 1, (size_t)(close - hp - 1));
        if (close + 1 < hp_end) {
            if (close[1] != ':')
                return url_fail(msg, msg_size, url, "junk after ']'");
            port = close + 2;
        }
    } else {
        const char *colon = memchr(hp, ':', (size_t)(hp_end - hp));
        const char *host_end = colon ? colon : hp_end;
        if (host_end == hp)
            return url_fail(msg, msg_size, url, "no host");
        if ((size_t)(host_end - hp) >= sizeof out->host)
            return url_fail(msg, msg_size, url, "host too long");
        memcpy(out->host, hp, (size_t)(host_end - hp));
        if (colon)
            port = colon + 1;
    }
    if (port) {
        long p;
        if (!parse_int(port, (size_t)(hp_end - port), 1, 65535, &p))
            return url_fail(msg, msg_size, url, "the port must be a number from 1 to 65535");
        out->port = (int)p;
    }
    const char *path = hp_end;
    if (*path == '#')
        return url_fail(msg, msg_size, url, "fragments are not allowed");
    if (*path == '/') {
        size_t n = strcspn(path + 1, "?#");
        long db;
        if (n > 0) {
            if (!parse_int(path + 1, n, 0, 1L << 30, &db))
                return url_fail(msg, msg_size, url, "the path must be a database number");
            out->db = (int)db;
        }
        path += 1 + n;
    }
    if (*path == '#' || !parse_query(path, out))
        return url_fail(msg, msg_size, url, "bad query (only ?db=N is known)");
    return WPS_REDIS_OK;
}

const char *wps_redis_url_label(const wps_redis_url *url, char *buf, size_t size)
{
    if (url->unix_path[0])
        snprintf(buf, size, "unix:%s/%d", url->unix_path, url->db);
    else if (strchr(url->host, ':'))
        snprintf(buf, size, "[%s]:%d/%d", url->host, url->port, url->db);
    else
        snprintf(buf, size, "%s:%d/%d", url->host, url->port, url->db);
    return buf;
}

/* ---- connections ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t next_random(uint64_t *seed)
{
    /* splitmix64: enough to spread reconnects of many workers apart. */
    uint64_t z = (*seed += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

uint32_t wps_redis_backoff_ms(uint32_t initial_ms, uint32_t max_ms, unsigned attempt,
                              uint64_t *seed)
{
    uint64_t d = initial_ms ? initial_ms : 1;
    for (unsigned i = 0; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    uint64_t half = d / 2;
    return (uint32_t)(d - half + next_random(seed) % (half + 1));
}

static struct timeval tv_ms(uint32_t ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (long)(ms % 1000) * 1000};
    return tv;
}

wps_redis *wps_redis_new(const wps_redis_url *url, const wps_redis_options *opts)
{
    wps_redis *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->url = *url;
    if (opts)
        r->opt = *opts;
    r->opt.connect_timeout_ms = r->opt.connect_timeout_ms ? r->opt.connect_timeout_ms : 2000;
    r->opt.command_timeout_ms = r->opt.command_timeout_ms ? r->opt.command_timeout_ms : 10000;
    r->opt.backoff_initial_ms = r->opt.backoff_initial_ms ? r->opt.backoff_initial_ms : 50;
    r->opt.backoff_max_ms = r->opt.backoff_max_ms ? r->opt.backoff_max_ms : 2000;
    if (r->opt.backoff_max_ms < r->opt.backoff_initial_ms)
        r->opt.backoff_max_ms = r->opt.backoff_initial_ms;
    r->timeout_ms = r->opt.command_timeout_ms;
    r->seed = now_ns() ^ (uint64_t)(uintptr_t)r;
    wps_redis_url_label(url, r->label, sizeof r->label);
    return r;
}

wps_redis_status wps_redis_open(const char *url, const wps_redis_options *opts, wps_redis **out,
                                char *msg, size_t msg_size)
{
    *out = NULL;
    wps_redis_url u;
    wps_redis_status st = wps_redis_url_parse(url, &u, msg, msg_size);
    if (st != WPS_REDIS_OK)
        return st;
    *out = wps_redis_new(&u, opts);
    if (!*out) {
        snprintf(msg, msg_size, "redis: out of memory");
        return WPS_REDIS_USAGE;
    }
    return WPS_REDIS_OK;
}

void wps_redis_disconnect(wps_redis *r)
{
    if (r && r->ctx) {
        redisFree(r->ctx);
        r->ctx = NULL;
    }
    if (r)
        r->pending = 0;
}

void wps_redis_free(wps_redis *r)
{
    if (!r)
        return;
    wps_redis_disconnect(r);
    explicit_bzero(r->url.password, sizeof r->url.password);
    free(r);
}

const char *wps_redis_label(const wps_redis *r) { return r->label; }
bool wps_redis_connected(const wps_redis *r) { return r->ctx != NULL; }
uint64_t wps_redis_reconnects(const wps_redis *r) { return r->connects ? r->connects - 1 : 0; }

void wps_redis_set_stop(wps_redis *r, const atomic_bool *stop) { r->opt.stop = stop; }

void wps_redis_set_command_timeout(wps_redis *r, uint32_t ms)
{
    uint32_t t = ms ? ms : r->opt.command_timeout_ms;
    if (t == r->timeout_ms)
        return; /* the connection has it (a connection takes timeout_ms when made) */
    r->timeout_ms = t;
    if (r->ctx)
        redisSetTimeout(r->ctx, tv_ms(r->timeout_ms));
}

/* Error replies that mean "not now" rather than "never": a server loading
 * its data after a restart, a replica without its master, a failover. */
static bool transient_error(const char *s)
{
    static const char *const prefixes[] = {"LOADING", "MASTERDOWN", "TRYAGAIN", "READONLY",
                                           "BUSY "};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++)
        if (!strncmp(s, prefixes[i], strlen(prefixes[i])))
            return true;
    return false;
}

static wps_redis_status lost(wps_redis *r, char *msg, size_t msg_size, const char *what)
{
    const char *why = r->ctx && r->ctx->err ? r->ctx->errstr : "connection closed";
    if (r->ctx && r->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK))
        why = "no answer within the command timeout";
    snprintf(msg, msg_size, "redis %s: %s: %s", r->label, what, why);
    wps_redis_disconnect(r);
    return WPS_REDIS_LOST;
}

/* Run a command during connection set-up (AUTH, SELECT). */
static wps_redis_status setup_command(wps_redis *r, char *msg, size_t msg_size, const char *what,
                                      int argc, const char **argv)
{
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, NULL);
    if (!reply)
        return lost(r, msg, msg_size, what);
    wps_redis_status st = WPS_REDIS_OK;
    if (reply->type == REDIS_REPLY_ERROR) {
        st = transient_error(reply->str) ? WPS_REDIS_LOST : WPS_REDIS_USAGE;
        snprintf(msg, msg_size, "redis %s: %s refused: %s", r->label, what, reply->str);
        wps_redis_disconnect(r);
    }
    freeReplyObject(reply);
    return st;
}

static wps_redis_status connect_once(wps_redis *r, char *msg, size_t msg_size)
{
    if (r->ctx)
        return WPS_REDIS_OK;
    struct timeval tv = tv_ms(r->opt.connect_timeout_ms);
    r->ctx = r->url.unix_path[0] ? redisConnectUnixWithTimeout(r->url.unix_path, tv)
                                 : redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->ctx) {
        snprintf(msg, msg_size, "redis %s: cannot connect: out of memory", r->label);
        return WPS_REDIS_LOST;
    }
    if (r->ctx->err) {
        snprintf(msg, msg_size, "redis %s: cannot connect: %s", r->label, r->ctx->errstr);
        wps_redis_disconnect(r);
        return WPS_REDIS_LOST;
    }
    redisSetTimeout(r->ctx, tv_ms(r->timeout_ms));
    if (!r->url.unix_path[0])
        redisEnableKeepAlive(r->ctx);
    wps_redis_status st = WPS_REDIS_OK;
    if (r->url.password[0] || r->url.user[0]) {
        const char *argv[3] = {"AUTH", r->url.user, r->url.password};
        st = r->url.user[0] ? setup_command(r, msg, msg_size, "AUTH", 3, argv)
                            : (argv[1] = r->url.password,
                               setup_command(r, msg, msg_size, "AUTH", 2, argv));
    }
    if (st == WPS_REDIS_OK && r->url.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", r->url.db);
        const char *argv[2] = {"SELECT", db};
        st = setup_command(r, msg, msg_size, "SELECT", 2, argv);
    }
    if (st == WPS_REDIS_OK) {
        /* A server still loading its data accepts AUTH and SELECT but
         * refuses the rest: wait for it here, where backoff applies. */
        const char *argv[1] = {"PING"};
        st = setup_command(r, msg, msg_size, "PING", 1, argv);
    }
    if (st == WPS_REDIS_OK)
        r->connects++;
    return st;
}

static bool stop_set(const wps_redis *r)
{
    return r->opt.stop && atomic_load(r->opt.stop);
}

wps_redis_status wps_redis_connect(wps_redis *r, uint32_t wait_ms, char *msg, size_t msg_size)
{
    uint64_t deadline = wait_ms == UINT32_MAX ? UINT64_MAX : now_ns() + (uint64_t)wait_ms * 1000000u;
    for (unsigned attempt = 0;; attempt++) {
        if (stop_set(r)) {
            snprintf(msg, msg_size, "redis %s: stopped while connecting", r->label);
            return WPS_REDIS_STOPPED;
        }
        wps_redis_status st = connect_once(r, msg, msg_size);
        if (st != WPS_REDIS_LOST || wait_ms == 0)
            return st;
        uint64_t wake = now_ns() + (uint64_t)wps_redis_backoff_ms(r->opt.backoff_initial_ms,
                                                                  r->opt.backoff_max_ms,
                                                                  attempt, &r->seed) * 1000000u;
        if (wake >= deadline)
            return st; /* msg says why the last attempt failed */
        /* Sleep in slices so that the stop flag is seen soon. */
        for (uint64_t t = now_ns(); t < wake && !stop_set(r); t = now_ns()) {
            uint64_t slice = wake - t < 20000000u ? wake - t : 20000000u;
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)slice};
            nanosleep(&ts, NULL);
        }
    }
}

static wps_redis_status take_reply(wps_redis *r, redisReply *reply, redisReply **out,
                                   const char *what, char *msg, size_t msg_size)
{
    if (!reply)
        return lost(r, msg, msg_size, what);
    if (reply->type == REDIS_REPLY_ERROR) {
        snprintf(msg, msg_size, "redis %s: %s: %s", r->label, what, reply->str);
        bool transient = transient_error(reply->str);
        freeReplyObject(reply);
        if (transient) {
            wps_redis_disconnect(r);
            return WPS_REDIS_LOST;
        }
        return WPS_REDIS_ERROR;
    }
    if (out)
        *out = reply;
    else
        freeReplyObject(reply);
    return WPS_REDIS_OK;
}

/* The command's name for messages (its first argument, bounded). */
static void command_name(char *buf, size_t size, const char *s, size_t n)
{
    size_t len = n < size - 1 ? n : size - 1;
    for (size_t i = 0; i < len; i++)
        buf[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32)
                 : (s[i] > ' ' && s[i] < 127) ? s[i] : '?';
    buf[len] = '\0';
}

wps_redis_status wps_redis_commandv(wps_redis *r, redisReply **reply, char *msg, size_t msg_size,
                                    int argc, const char **argv, const size_t *argvlen)
{
    if (reply)
        *reply = NULL;
    if (argc < 1) {
        snprintf(msg, msg_size, "redis %s: empty command", r->label);
        return WPS_REDIS_USAGE;
    }
    char name[32];
    command_name(name, sizeof name, argv[0], argvlen ? argvlen[0] : strlen(argv[0]));
    wps_redis_status st = connect_once(r, msg, msg_size);
    if (st != WPS_REDIS_OK)
        return st;
    redisReply *rep = redisCommandArgv(r->ctx, argc, argv, argvlen);
    return take_reply(r, rep, reply, name, msg, msg_size);
}

wps_redis_status wps_redis_command(wps_redis *r, redisReply **reply, char *msg, size_t msg_size,
                                   const char *fmt, ...)
{
    if (reply)
        *reply = NULL;
    char name[32];
    command_name(name, sizeof name, fmt, strcspn(fmt, " "));
    wps_redis_status st = connect_once(r, msg, msg_size);
    if (st != WPS_REDIS_OK)
        return st;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(r->ctx, fmt, ap);
    va_end(ap);
    return take_reply(r, rep, reply, name, msg, msg_size);
}

wps_redis_status wps_redis_append(wps_redis *r, char *msg, size_t msg_size, int argc,
                                  const char **argv, const size_t *argvlen)
{
    if (argc < 1) {
        snprintf(msg, msg_size, "redis %s: empty command", r->label);
        return WPS_REDIS_USAGE;
    }
    if (!r->ctx && r->pending == 0) {
        wps_redis_status st = connect_once(r, msg, msg_size);
        if (st != WPS_REDIS_OK)
            return st;
    }
    if (!r->ctx || redisAppendCommandArgv(r->ctx, argc, argv, argvlen) != REDIS_OK)
        return lost(r, msg, msg_size, "pipeline");
    r->pending++;
    return WPS_REDIS_OK;
}

wps_redis_status wps_redis_next(wps_redis *r, redisReply **reply, char *msg, size_t msg_size)
{
    if (reply)
        *reply = NULL;
    if (!r->ctx || r->pending == 0) {
        snprintf(msg, msg_size, "redis %s: no pipelined command to read a reply for", r->label);
        return r->ctx ? WPS_REDIS_USAGE : WPS_REDIS_LOST;
    }
    void *rep = NULL;
    if (redisGetReply(r->ctx, &rep) != REDIS_OK)
        return lost(r, msg, msg_size, "pipeline");
    r->pending--;
    return take_reply(r, rep, reply, "pipeline", msg, msg_size);
}

bool wps_redis_reply_int(const redisReply *reply, long long *out)
{
    if (!reply)
        return false;
    if (reply->type == REDIS_REPLY_INTEGER) {
        *out = reply->integer;
        return true;
    }
    if (reply->type != REDIS_REPLY_STRING || reply->len == 0 || reply->len > 20)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(reply->str, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

bool wps_redis_reply_is(const redisReply *reply, const char *s)
{
    return reply && (reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_STRING) &&
           reply->len == strlen(s) && memcmp(reply->str, s, reply->len) == 0;
}
