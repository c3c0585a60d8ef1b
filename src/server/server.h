/*
 * server.h - the HTTP server of `wasmplug serve` (internal library
 * wasmplug_server, on libmicrohttpd; JSON through jansson).
 *
 * A server listens on one address (ADDR:PORT, loopback by default; port 0
 * picks a free port, reported by server_port) and answers requests from a
 * route table. Routes come in groups, one group per file src/server/api_*.c,
 * each a `const server_route[]` ending with a zeroed entry; the server takes
 * a NULL-terminated list of groups (see api.h for the list `wasmplug serve`
 * uses, and docs/ARCHITECTURE.md, "The server", for adding a group).
 *
 * What the server does for every route, before its handler runs:
 *   - matching: method and path ("/v1/plugins/{name}/call/{func}"; a
 *     pattern ending in "/{*}" matches the rest of the path, slashes
 *     included). An unknown path is 404, a known path with another method
 *     405 (with Allow).
 *   - authorization by the route's level (server_auth): the bearer token
 *     ("Authorization: Bearer TOKEN", compared in constant time) is checked
 *     before the body is read. 401 without or with a wrong token.
 *   - the body: at most the route's max_body bytes (Content-Length checked
 *     up front, chunked bodies as they arrive): 413 beyond it, before the
 *     handler runs.
 *   - CORS stays closed: no Access-Control-* headers are ever sent, and a
 *     request carrying an Origin header that is not the server's own is
 *     refused (403), so a web page elsewhere cannot drive the API through
 *     the browser of someone who can reach it.
 * Responses carry `Cache-Control: no-store` and `X-Content-Type-Options:
 * nosniff`. Every completed request is one line of the access log (JSON:
 * time, peer, method, path, status, bytes, microseconds).
 *
 * Threads: libmicrohttpd's internal thread pool, each thread with its own
 * epoll loop (server_config.threads). A handler runs on the pool thread that
 * read the request and must answer before it returns (server_respond*);
 * connections are served by events, so a slow client holds a connection
 * but never a thread, and idle connections close after
 * connection_timeout_s. Handlers of different requests run concurrently.
 *
 * Nothing here prints or exits: failures return a status and a message.
 */
#ifndef WASMPLUG_SERVER_H
#define WASMPLUG_SERVER_H

#include <wasmplug.h>

#include <jansson.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct server server;
/** One request being answered (valid during its handler only). */
typedef struct server_request server_request;

/** Who may call a route. */
typedef enum server_auth {
    SERVER_AUTH_NONE = 0, /* anyone (health and readiness) */
    SERVER_AUTH_READ,     /* the token, unless the server is public_read */
    SERVER_AUTH_WRITE     /* the token, always; refused (403) when the
                             server has no token */
} server_auth;

/** A route: handler answers requests matching method and pattern. */
typedef struct server_route {
    const char *method;  /* "GET", "POST", "PUT", "DELETE" */
    /* "/v1/plugins/{name}": {x} matches one path segment (server_param
     * "x", percent-decoded); a final "/{*}" matches the rest of the path
     * (server_param "*"). */
    const char *pattern;
    server_auth auth;
    size_t max_body;     /* largest body accepted; 0 = none (413 for any);
                            SERVER_BODY_CONFIGURED: server_config.max_body */
    void (*handler)(server_request *req);
} server_route;

/** A route's max_body taking the server's configured limit. */
#define SERVER_BODY_CONFIGURED ((size_t)-1)

/** Largest number of {x} parameters in one pattern. */
#define SERVER_PARAMS_MAX 4
/** Largest number of extra response headers a handler may add. */
#define SERVER_HEADERS_MAX 8

/** The access log: one call per completed request (from pool threads). */
typedef struct server_access {
    const char *peer;    /* client address */
    const char *method;
    const char *path;    /* as requested (untrusted; escape before printing) */
    const char *route;   /* the matched pattern, or NULL */
    unsigned status;
    uint64_t bytes;      /* response body bytes */
    uint64_t micros;     /* from the request's headers to its response queued */
} server_access;
typedef void (*server_access_fn)(void *user, const server_access *entry);

typedef struct server_config {
    const char *listen;       /* "ADDR:PORT", "[V6ADDR]:PORT"; NULL: "127.0.0.1:8080" */
    const char *token;        /* bearer token (copied); NULL: none */
    bool public_read;         /* AUTH_READ routes answer without the token */
    bool allow_remote_without_token; /* listen on a non-loopback address without
                                        a token (refused otherwise) */
    unsigned threads;         /* thread pool; 0: 2 per CPU, at least 2 */
    unsigned connection_timeout_s; /* idle connections closed after; 0: 15 */
    unsigned max_connections; /* open connections; 0: 1024 */
    unsigned per_ip_connections; /* per client address; 0: no limit */
    size_t max_header_bytes;  /* request line + headers per connection; 0: 16 KiB */
    size_t max_body;          /* for routes with SERVER_BODY_CONFIGURED; 0: 1 MiB */
    /* The route groups, NULL-terminated; each group ends with a zeroed entry. */
    const server_route *const *groups;
    void *app;                /* what handlers get from server_app() */
    server_access_fn on_access; /* NULL: no access log */
    void *access_user;
} server_config;

/** Defaults (every field zero/NULL). */
void server_config_init(server_config *cfg);

/**
 * Start listening and serving. ERR_ARGUMENT (bad address, a route table
 * error, a remote address without a token), ERR_IO (the address cannot be
 * bound: msg says why), ERR_NOMEM. *out is freed with server_free.
 */
wasmplug_status server_start(const server_config *cfg, server **out, char *msg, size_t msgsize);
/** The port listened on (the one picked when the config asked for 0). */
unsigned server_port(const server *s);
/** The address listened on, "127.0.0.1:PORT" / "[::1]:PORT". */
const char *server_address(const server *s);

/**
 * Drain: stop accepting connections (the listening socket is closed), answer
 * every later response with `Connection: close`, and wait up to deadline_ms
 * for the requests in progress to be answered. Once none is (or at the
 * deadline), requests read from then on are closed without an answer, as
 * in server_free, and those that began just before get the rest of the
 * deadline. Returns how many were still in progress at the deadline (0:
 * drained).
 */
size_t server_drain(server *s, uint32_t deadline_ms);
/** Whether server_drain has begun (handlers may refuse new work: 503). */
bool server_draining(const server *s);
/** Requests between their headers and their completion, now. */
size_t server_in_flight(const server *s);
/**
 * Stop and free: requests being answered finish (up to 2 s more), requests
 * read from then on are closed without an answer (the client got no byte,
 * so it may retry elsewhere; they are not in the access log), then every
 * connection closes. NULL is fine.
 */
void server_free(server *s);

/* ---- inside a handler -------------------------------------------------- */

/** The config's app pointer. */
void *server_app(server_request *req);
/** The server answering the request. */
server *server_of(server_request *req);
const char *server_method(server_request *req);
/** The path (without the query string). */
const char *server_path(server_request *req);
/** A {name} of the route's pattern ("*" for the rest), percent-decoded; NULL if none. */
const char *server_param(server_request *req, const char *name);
/** A query-string argument (decoded), or NULL. */
const char *server_query(server_request *req, const char *key);
/** A request header (case-insensitive name), or NULL. */
const char *server_header(server_request *req, const char *name);
/** The body (NUL-terminated; NULL with *len 0 when there is none). */
const uint8_t *server_body(server_request *req, size_t *len);

/**
 * Parse the body as JSON: the value, or NULL after answering 400 with the
 * parser's line:column (the handler then just returns). An empty body is
 * json_null() when allow_empty.
 */
json_t *server_body_json(server_request *req, bool allow_empty);

/** Add a response header for the response about to be made (copied;
 *  at most SERVER_HEADERS_MAX). */
void server_add_header(server_request *req, const char *name, const char *value);
/** Answer with data (copied). */
void server_respond(server_request *req, unsigned status, const char *content_type,
                    const void *data, size_t len);
/** Answer with data from malloc, which the server frees. */
void server_respond_owned(server_request *req, unsigned status, const char *content_type,
                          void *data, size_t len);
/** Answer with v as JSON (compact; the reference is taken, NULL = 500). */
void server_respond_json(server_request *req, unsigned status, json_t *v);
/**
 * Answer {"ok":false,"error":{"kind":KIND,"message":MESSAGE,"status":STATUS}}
 * (the CLI's --json error schema with the HTTP status); extra (may be NULL)
 * is merged into the error object (reference taken).
 */
void server_respond_error(server_request *req, unsigned status, const char *kind,
                          json_t *extra, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* ---- access log ------------------------------------------------------- */

/**
 * An access-log writer for server_config.on_access: one JSON object per
 * line on f ({"ts":..., "peer":..., "method":..., "path":..., "route":...,
 * "status":..., "bytes":..., "us":...}), written whole under the stream's
 * lock and flushed at most once a second (and by server_access_log_flush).
 */
void server_access_log_json(void *file, const server_access *entry);
void server_access_log_flush(FILE *f);

/* ---- metrics (server_metrics.c) ----------------------------------------- */

/** A growing text buffer (data NUL-terminated; free with free(data)). */
typedef struct server_text {
    char *data;
    size_t len, cap;
    bool failed; /* an allocation failed: the text is incomplete */
} server_text;

void server_text_append(server_text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/** Append s as a Prometheus label value (quotes not included): \\ \" \n escaped. */
void server_text_label(server_text *t, const char *s);
/**
 * Append a metric's HELP and TYPE lines and the start of its sample, up to
 * the brace opening its labels: the metric is PREFIX NAME, with "_total"
 * for a counter ("# HELP wasmplug_worker_read_total HELP.\n# TYPE ... counter\n
 * wasmplug_worker_read_total{"). The caller adds the labels and the value.
 */
void server_text_metric(server_text *t, const char *prefix, const char *name, bool gauge,
                        const char *help);

/**
 * Append the metrics of every plugin of host in the Prometheus text
 * exposition format (version 0.0.4): HELP and TYPE lines, then per plugin
 * (label plugin="NAME", and id/version when the manifest has them) the
 * counters wasmplug_plugin_calls_total, _errors_total, _traps_total,
 * _denials_total, _fallbacks_total, _fuel_used_total, _host_calls_total,
 * _input_bytes_total, _output_bytes_total, _instances_created_total, the
 * summary wasmplug_plugin_call_seconds (quantiles 0.5, 0.9, 0.99, _sum,
 * _count), and the gauges wasmplug_plugin_call_seconds_max,
 * _memory_bytes, _memory_max_bytes, _instances, _running_calls,
 * _pool_size, wasmplug_plugin_state{state="..."} (1 for the current state)
 * and wasmplug_plugins (count). Usable by any host (`wasmplug serve`,
 * `wasmplug worker`). Allocation failures set t->failed.
 */
void server_metrics_prometheus(wasmplug_host *host, server_text *t);

/** The content type of the Prometheus text format. */
#define SERVER_PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
