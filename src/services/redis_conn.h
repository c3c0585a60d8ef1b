/*
 * redis_conn.h - one connection to Redis over hiredis, for the services that
 * put work, events and plugin data on Redis (the queue worker and client,
 * the events bridge, the key-value backend).
 *
 * URLs (wps_redis_url_parse):
 *   redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]       (HOST may be [IPv6])
 *   unix://[[USER]:PASSWORD@]/PATH/TO/SOCKET[?db=N]   (also redis+unix://)
 * PORT defaults to 6379 and DB to 0; USER and PASSWORD are percent-decoded
 * (AUTH PASSWORD, or AUTH USER PASSWORD with Redis 6 ACLs). rediss:// (TLS)
 * is refused: Debian's hiredis is built without TLS.
 *
 * A wps_redis connects lazily (the first command) and after a lost
 * connection reconnects on the next command, each time with AUTH and
 * SELECT. wps_redis_connect waits for a connection with exponential backoff
 * and jitter (each wait drawn from [d/2, d], d doubling from
 * backoff_initial_ms up to backoff_max_ms) until it connects, a deadline
 * passes or a stop flag is set. A command is never resent by this layer:
 * after WPS_REDIS_LOST the caller does not know whether Redis applied it,
 * and decides (commands of the queue are safe to repeat; see queue.c).
 *
 * Errors are values: every function returns a wps_redis_status and writes
 * a message naming the server ("redis 127.0.0.1:6379/0: ...") and, for
 * command errors, the command and Redis's own reply. Passwords never appear
 * in messages.
 *
 * Threads: a wps_redis is used by one thread at a time (hiredis contexts
 * are not shared); open one per thread.
 */
#ifndef WPS_REDIS_CONN_H
#define WPS_REDIS_CONN_H

#include <hiredis/hiredis.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum wps_redis_status {
    WPS_REDIS_OK = 0,
    WPS_REDIS_LOST,    /* no connection, or it broke during the command */
    WPS_REDIS_ERROR,   /* Redis answered with an error reply (-ERR ...) */
    WPS_REDIS_STOPPED, /* the stop flag was set while waiting to connect */
    WPS_REDIS_USAGE    /* bad URL or arguments; retrying will not help */
} wps_redis_status;

#define WPS_REDIS_HOST_MAX 256
#define WPS_REDIS_SECRET_MAX 256

/* A parsed URL. unix_path non-empty means a Unix socket (host/port unused). */
typedef struct wps_redis_url {
    char host[WPS_REDIS_HOST_MAX];
    int port;
    char unix_path[WPS_REDIS_HOST_MAX];
    int db;
    char user[WPS_REDIS_SECRET_MAX];     /* empty: AUTH PASSWORD only */
    char password[WPS_REDIS_SECRET_MAX]; /* empty: no AUTH */
} wps_redis_url;

/* Parse url into *out. WPS_REDIS_USAGE with a message saying what is wrong
 * (and where) on failure. */
wps_redis_status wps_redis_url_parse(const char *url, wps_redis_url *out, char *msg,
                                     size_t msg_size);
/* "host:port/db" or "unix:/path/db" into buf (no credentials); returns buf. */
const char *wps_redis_url_label(const wps_redis_url *url, char *buf, size_t size);

typedef struct wps_redis_options {
    uint32_t connect_timeout_ms; /* per attempt; 0: 2000 */
    uint32_t command_timeout_ms; /* socket timeout of a command; 0: 10000 (a
                                    blocking command must block for less) */
    uint32_t backoff_initial_ms; /* 0: 50 */
    uint32_t backoff_max_ms;     /* 0: 2000 */
    /* Read while waiting in wps_redis_connect: set it to stop waiting (a
     * signal handler may set it). NULL: never. */
    const atomic_bool *stop;
} wps_redis_options;

typedef struct wps_redis wps_redis;

/* A connection to url with opts (NULL: defaults); nothing is connected yet.
 * NULL only when out of memory. */
wps_redis *wps_redis_new(const wps_redis_url *url, const wps_redis_options *opts);
/* Parse and create: WPS_REDIS_USAGE with msg for a bad URL. */
wps_redis_status wps_redis_open(const char *url, const wps_redis_options *opts, wps_redis **out,
                                char *msg, size_t msg_size);
void wps_redis_free(wps_redis *r);

/* The server's label (as wps_redis_url_label). */
const char *wps_redis_label(const wps_redis *r);
/* Whether a connection is up (as far as this side knows). */
bool wps_redis_connected(const wps_redis *r);
/* Connections made after the first (reconnects), for metrics and tests. */
uint64_t wps_redis_reconnects(const wps_redis *r);
/* Drop the connection (the next command connects again). */
void wps_redis_disconnect(wps_redis *r);

/* Connect if not connected: one attempt when wait_ms is 0, else attempts
 * with backoff and jitter until connected, wait_ms passed (UINT32_MAX:
 * forever) or the stop flag set (WPS_REDIS_STOPPED). AUTH or SELECT
 * refused gives WPS_REDIS_USAGE (wrong password or db: waiting will not
 * help). */
wps_redis_status wps_redis_connect(wps_redis *r, uint32_t wait_ms, char *msg, size_t msg_size);

/* One command of argc arguments (binary-safe, argvlen NULL for C strings),
 * connecting first if needed (one attempt). On WPS_REDIS_OK *reply (if not
 * NULL) is the reply, freed by the caller with freeReplyObject; an error
 * reply gives WPS_REDIS_ERROR with Redis's message and no *reply. */
wps_redis_status wps_redis_commandv(wps_redis *r, redisReply **reply, char *msg, size_t msg_size,
                                    int argc, const char **argv, const size_t *argvlen);
/* The same with a hiredis format ("SET %s %b", key, data, len). */
wps_redis_status wps_redis_command(wps_redis *r, redisReply **reply, char *msg, size_t msg_size,
                                   const char *fmt, ...);

/* Pipelining: queue commands with wps_redis_append (connecting first if
 * needed), then collect exactly that many replies with wps_redis_next, in
 * order. A failure of either leaves the connection dropped (the caller
 * starts over). An error reply to one command is WPS_REDIS_ERROR for that
 * reply only; the others are still collected. */
wps_redis_status wps_redis_append(wps_redis *r, char *msg, size_t msg_size, int argc,
                                  const char **argv, const size_t *argvlen);
wps_redis_status wps_redis_next(wps_redis *r, redisReply **reply, char *msg, size_t msg_size);

/* Replace the stop flag of opts (NULL: never stop waiting before the deadline). */
void wps_redis_set_stop(wps_redis *r, const atomic_bool *stop);

/* Set the socket timeout of the following commands (0: the option's). */
void wps_redis_set_command_timeout(wps_redis *r, uint32_t ms);

/* Reply helpers: an integer reply's value (or a bulk string holding one);
 * whether the reply is the status or string s. */
bool wps_redis_reply_int(const redisReply *reply, long long *out);
bool wps_redis_reply_is(const redisReply *reply, const char *s);

/* The backoff delay before attempt n (0-based) with jitter drawn from
 * *seed: in [d/2, d] where d = min(initial << n, max). For tests too. */
uint32_t wps_redis_backoff_ms(uint32_t initial_ms, uint32_t max_ms, unsigned attempt,
                              uint64_t *seed);

#endif
