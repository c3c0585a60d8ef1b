/*
 * server.c - the HTTP server on libmicrohttpd: the listening socket, the
 * thread pool, route matching, the bearer token, Host/Origin checks, body
 * limits, responses, draining and the access log. Rules in server.h.
 */
#include "server.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    unsigned port;
    bool loopback;
    char address[96];
    char *token;
    size_t token_len;
    bool public_read;
    size_t max_body;
    const server_route *const *groups;
    void *app;
    server_access_fn on_access;
    void *access_user;
    atomic_size_t in_flight;
    atomic_bool draining;
    /* Set before the daemon stops: requests read from then on are closed
     * unanswered (and unlogged) instead of answered on a socket about to
     * close. With in_flight, a handshake: a request counts itself first,
     * then looks; the stopping thread sets this, then waits for zero. */
    atomic_bool closing;
};

typedef struct response_header {
    char *name, *value;
} response_header;

struct server_request {
    server *s;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    const server_route *route;
    size_t max_body;
    char *params[SERVER_PARAMS_MAX];
    const char *param_names[SERVER_PARAMS_MAX];
    size_t nparams;
    uint8_t *body;
    size_t body_len, body_cap;
    bool answered;
    bool too_large; /* a body over max_body: dropped, answered 413 at its end */
    unsigned status;
    uint64_t bytes;
    uint64_t t0_ns;
    response_header headers[SERVER_HEADERS_MAX];
    size_t nheaders;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void server_config_init(server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

/* ------------------------------------------------------------------------ */
/* Routes                                                                   */
/* ------------------------------------------------------------------------ */

/* Compare one pattern with a path; on a match, fill the request's params.
 * Segments are compared between slashes; "{x}" takes one non-empty segment,
 * a final "{*}" the rest (possibly empty). */
static bool route_match(const char *pattern, const char *path, server_request *r)
{
    size_t n = 0;
    const char *names[SERVER_PARAMS_MAX];
    const char *vals[SERVER_PARAMS_MAX];
    size_t lens[SERVER_PARAMS_MAX];
    const char *p = pattern, *q = path;
    while (*p && *q) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close || n == SERVER_PARAMS_MAX)
                return false;
            bool rest = close == p + 2 && p[1] == '*';
            size_t len = rest ? strlen(q) : strcspn(q, "/");
            if (!len && !rest)
                return false;
            names[n] = p + 1; /* up to '}' */
            vals[n] = q;
            lens[n] = len;
            n++;
            p = close + 1;
            q += len;
            continue;
        }
        if (*p != *q)
            return false;
        p++;
        q++;
    }
    /* "/x/{*}" also matches "/x" with an empty rest. */
    if (!*q && !strcmp(p, "/{*}") && n < SERVER_PARAMS_MAX) {
        names[n] = "*}";
        vals[n] = q;
        lens[n] = 0;
        n++;
        p += 4;
    }
    if (*p || *q)
        return false;
    if (!r)
        return true;
    for (size_t i = 0; i < n; i++) {
        r->params[i] = strndup(vals[i], lens[i]);
        r->param_names[i] = names[i];
    }
    r->nparams = n;
    return true;
}

/* The route for method and path; *path_known tells 405 from 404. */
static const server_route *route_find(const server *s, const char *method, const char *path,
                                      bool *path_known, char *allow, size_t allow_size)
{
    *path_known = false;
    if (allow_size)
        allow[0] = '\0';
    for (const server_route *const *g = s->groups; g && *g; g++)
        for (const server_route *rt = *g; rt->pattern; rt++) {
            if (!route_match(rt->pattern, path, NULL))
                continue;
            if (!strcmp(rt->method, method))
                return rt;
            *path_known = true;
            size_t used = strlen(allow);
            if (!strstr(allow, rt->method))
                snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", rt->method);
        }
    return NULL;
}

static bool routes_valid(const server_route *const *groups, char *msg, size_t msgsize)
{
    for (const server_route *const *g = groups; g && *g; g++)
        for (const server_route *rt = *g; rt->pattern; rt++)
            if (!rt->method || !rt->handler || rt->pattern[0] != '/') {
                snprintf(msg, msgsize, "route '%s': a method, a handler and a pattern "
                         "starting with '/' are needed", rt->pattern);
                return false;
            }
    return true;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

void *server_app(server_request *req) { return req->s->app; }
server *server_of(server_request *req) { return req->s; }
const char *server_method(server_request *req) { return req->method; }
const char *server_path(server_request *req) { return req->path; }

const char *server_param(server_request *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->nparams; i++)
        if (!strncmp(req->param_names[i], name, len) && req->param_names[i][len] == '}')
            return req->params[i];
    return NULL;
}

const char *server_query(server_request *req, const char *key)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *server_header(server_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const uint8_t *server_body(server_request *req, size_t *len)
{
    *len = req->body_len;
    return req->body;
}

json_t *server_body_json(server_request *req, bool allow_empty)
{
    if (!req->body_len) {
        if (allow_empty)
            return json_null();
        server_respond_error(req, 400, "bad_request", NULL, "a JSON body is needed");
        return NULL;
    }
    json_error_t je;
    json_t *v = json_loadb((const char *)req->body, req->body_len,
                           JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
    if (!v)
        server_respond_error(req, 400, "bad_json", NULL, "malformed JSON body at %d:%d: %s",
                             je.line, je.column, je.text);
    return v;
}

void server_add_header(server_request *req, const char *name, const char *value)
{
    if (req->nheaders == SERVER_HEADERS_MAX)
        return;
    char *n = strdup(name), *v = strdup(value);
    if (!n || !v) {
        free(n);
        free(v);
        return;
    }
    req->headers[req->nheaders++] = (response_header){n, v};
}

static void queue(server_request *req, unsigned status, struct MHD_Response *resp, size_t len,
                  const char *content_type)
{
    if (req->answered) { /* a handler answering twice: keep the first */
        if (resp)
            MHD_destroy_response(resp);
        return;
    }
    req->answered = true;
    if (!resp) {
        static const char oom[] = "{\"ok\":false,\"error\":{\"kind\":\"internal\","
                                  "\"message\":\"out of memory\",\"status\":500}}";
        resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                               MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return; /* libmicrohttpd closes the connection */
        status = 500;
        len = sizeof oom - 1;
        content_type = "application/json";
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < req->nheaders; i++)
        MHD_add_response_header(resp, req->headers[i].name, req->headers[i].value);
    if (atomic_load(&req->s->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    req->status = status;
    req->bytes = len;
    MHD_queue_response(req->conn, status, resp);
    MHD_destroy_response(resp);
}

void server_respond(server_request *req, unsigned status, const char *content_type,
                    const void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    queue(req, status, resp, len, content_type);
}

void server_respond_owned(server_request *req, unsigned status, const char *content_type,
                          void *data, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        free(data);
    queue(req, status, resp, len, content_type);
}

void server_respond_json(server_request *req, unsigned status, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    if (!text) {
        queue(req, 500, NULL, 0, NULL);
        return;
    }
    server_respond_owned(req, status, "application/json", text, strlen(text));
}

void server_respond_error(server_request *req, unsigned status, const char *kind,
                          json_t *extra, const char *fmt, ...)
{
    char message[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    json_t *e = json_pack("{s:s, s:s%, s:i}", "kind", kind, "message", message,
                          strnlen(message, sizeof message), "status", (int)status);
    if (e && extra)
        json_object_update(e, extra);
    json_decref(extra);
    server_respond_json(req, status, e ? json_pack("{s:b, s:o}", "ok", 0, "error", e) : NULL);
}

/* ------------------------------------------------------------------------ */
/* Checks before the handler                                                */
/* ------------------------------------------------------------------------ */

static bool token_ok(const server *s, const char *auth)
{
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return false;
    const char *given = auth + 7;
    size_t len = strlen(given);
    /* Constant time in the token's length: every byte is compared. */
    unsigned char diff = len != s->token_len;
    for (size_t i = 0; i < s->token_len; i++)
        diff |= (unsigned char)(s->token[i] ^ (i < len ? given[i] : 0));
    return diff == 0;
}

/* A Host header naming this machine's loopback (with any port). */
static bool host_is_loopback(const char *host)
{
    char name[256];
    size_t n = strlen(host);
    if (n >= sizeof name)
        return false;
    memcpy(name, host, n + 1);
    if (name[0] == '[') {
        char *close = strchr(name, ']');
        if (!close)
            return false;
        *close = '\0';
        return !strcmp(name + 1, "::1");
    }
    char *colon = strrchr(name, ':');
    if (colon)
        *colon = '\0';
    if (!strcasecmp(name, "localhost"))
        return true;
    struct in_addr a;
    return inet_pton(AF_INET, name, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* Host and Origin: a loopback server answers only requests addressed to a
 * loopback name (a page whose DNS name was rebound to 127.0.0.1 sends its
 * own name), and a request from a browser page (Origin) only when the page
 * is the server's own. */
static bool origin_refused(server_request *req, char *why, size_t size)
{
    const char *host = server_header(req, MHD_HTTP_HEADER_HOST);
    if (host && req->s->loopback && !host_is_loopback(host)) {
        snprintf(why, size, "Host '%.200s' is not this server's loopback address", host);
        return true;
    }
    const char *origin = server_header(req, "Origin");
    if (!origin)
        return false;
    if (host && !strncmp(origin, "http://", 7) && !strcmp(origin + 7, host))
        return false;
    snprintf(why, size, "cross-origin requests are refused (Origin '%.200s')", origin);
    return true;
}

/* The first callback of a request: route, checks, body size. false when the
 * request has been answered already. */
static bool admit(server_request *req)
{
    server *s = req->s;
    bool known;
    char allow[64];
    req->route = route_find(s, req->method, req->path, &known, allow, sizeof allow);
    if (!req->route) {
        if (known) {
            server_add_header(req, MHD_HTTP_HEADER_ALLOW, allow);
            server_respond_error(req, 405, "method_not_allowed", NULL,
                                 "%s is not allowed on %s (allowed: %s)", req->method,
                                 req->path, allow);
        } else {
            server_respond_error(req, 404, "not_found", NULL, "no endpoint %s %s", req->method,
                                 req->path);
        }
        return false;
    }
    route_match(req->route->pattern, req->path, req);
    req->max_body = req->route->max_body == SERVER_BODY_CONFIGURED ? s->max_body
                                                                   : req->route->max_body;
    char why[512];
    if (origin_refused(req, why, sizeof why)) {
        server_respond_error(req, 403, "forbidden", NULL, "%s", why);
        return false;
    }
    server_auth need = req->route->auth;
    if (need == SERVER_AUTH_READ && (s->public_read || !s->token))
        need = SERVER_AUTH_NONE;
    if (need == SERVER_AUTH_WRITE && !s->token) {
        server_respond_error(req, 403, "forbidden", NULL,
                             "%s %s changes the server, and this server has no token "
                             "(start it with --token-file)", req->method, req->path);
        return false;
    }
    if (need != SERVER_AUTH_NONE &&
        !token_ok(s, server_header(req, MHD_HTTP_HEADER_AUTHORIZATION))) {
        server_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        server_respond_error(req, 401, "unauthorized", NULL,
                             "%s %s needs the server's token (Authorization: Bearer TOKEN)",
                             req->method, req->path);
        return false;
    }
    const char *cl = server_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl) {
        char *end;
        errno = 0;
        unsigned long long n = strtoull(cl, &end, 10);
        if (*end || errno || n > req->max_body) {
            server_respond_error(req, 413, "body_too_large", NULL,
                                 "a body of %s bytes is over the limit of %zu bytes for %s %s",
                                 cl, req->max_body, req->method, req->route->pattern);
            return false;
        }
    }
    return true;
}

static bool body_expected(server_request *req)
{
    const char *cl = server_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl)
        return strcmp(cl, "0") != 0;
    return server_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static void run_handler(server_request *req)
{
    req->route->handler(req);
    if (!req->answered)
        server_respond_error(req, 500, "internal", NULL, "the handler of %s %s did not answer",
                             req->method, req->route->pattern);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    (void)version;
    server *s = cls;
    server_request *req = *req_cls;
    if (!req) {
        atomic_fetch_add(&s->in_flight, 1);
        if (atomic_load(&s->closing) || !(req = calloc(1, sizeof *req))) {
            atomic_fetch_sub(&s->in_flight, 1);
            return MHD_NO; /* the connection is closed without an answer */
        }
        req->s = s;
        req->conn = conn;
        req->method = method;
        req->path = url;
        req->t0_ns = now_ns();
        *req_cls = req;
        if (admit(req) && !body_expected(req))
            run_handler(req);
        return MHD_YES;
    }
    if (req->answered) { /* answered early: the rest of the body is dropped */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (req->too_large || n > req->max_body - req->body_len) {
            /* Read and dropped: libmicrohttpd answers once the body ends. */
            req->too_large = true;
            return MHD_YES;
        }
        if (req->body_len + n + 1 > req->body_cap) {
            size_t cap = req->body_cap ? req->body_cap : 256;
            while (cap < req->body_len + n + 1)
                cap *= 2;
            uint8_t *b = realloc(req->body, cap);
            if (!b) {
                queue(req, 500, NULL, 0, NULL);
                return MHD_YES;
            }
            req->body = b;
            req->body_cap = cap;
        }
        memcpy(req->body + req->body_len, upload, n);
        req->body_len += n;
        req->body[req->body_len] = 0;
        return MHD_YES;
    }
    if (req->too_large)
        server_respond_error(req, 413, "body_too_large", NULL,
                             "the body is over the limit of %zu bytes for %s %s", req->max_body,
                             req->method, req->route->pattern);
    else
        run_handler(req);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    server *s = cls;
    server_request *req = *req_cls;
    if (!req)
        return;
    *req_cls = NULL;
    if (s->on_access) {
        char peer[INET6_ADDRSTRLEN + 8] = "?";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer,
                          sizeof peer);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, peer,
                          sizeof peer);
        }
        server_access e = {peer, req->method, req->path,
                           req->route ? req->route->pattern : NULL, req->status, req->bytes,
                           (now_ns() - req->t0_ns) / 1000};
        s->on_access(s->access_user, &e);
    }
    for (size_t i = 0; i < req->nparams; i++)
        free(req->params[i]);
    for (size_t i = 0; i < req->nheaders; i++) {
        free(req->headers[i].name);
        free(req->headers[i].value);
    }
    free(req->body);
    atomic_fetch_sub(&s->in_flight, 1);
    free(req);
}

/* ------------------------------------------------------------------------ */
/* Listening                                                                */
/* ------------------------------------------------------------------------ */

/* "ADDR:PORT" or "[V6]:PORT" into a bound, listening socket. */
static wasmplug_status listen_on(server *s, const char *spec, char *msg, size_t msgsize)
{
    char host[256];
    const char *port;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':' || (size_t)(close - spec - 1) >= sizeof host) {
            snprintf(msg, msgsize, "listen address '%s': expected [IPV6]:PORT", spec);
            return WASMPLUG_ERR_ARGUMENT;
        }
        memcpy(host, spec + 1, (size_t)(close - spec - 1));
        host[close - spec - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(spec, ':');
        if (!colon || (size_t)(colon - spec) >= sizeof host) {
            snprintf(msg, msgsize, "listen address '%s': expected ADDR:PORT (e.g. 127.0.0.1:8080)",
                     spec);
            return WASMPLUG_ERR_ARGUMENT;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        port = colon + 1;
    }
    char *end;
    unsigned long pn = strtoul(port, &end, 10);
    if (!*port || *end || pn > 65535) {
        snprintf(msg, msgsize, "listen address '%s': the port must be 0..65535 (0: any free port)",
                 spec);
        return WASMPLUG_ERR_ARGUMENT;
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(msg, msgsize, "listen address '%s': '%s' is not a numeric IPv4 or IPv6 address",
                 spec, host);
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (ai->ai_family == AF_INET)
        s->loopback = (ntohl(((struct sockaddr_in *)ai->ai_addr)->sin_addr.s_addr) >> 24) == 127;
    else
        s->loopback = IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        snprintf(msg, msgsize, "cannot listen on %s: %s", spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return WASMPLUG_ERR_IO;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    char text[INET6_ADDRSTRLEN];
    if (bound.ss_family == AF_INET6) {
        s->port = ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&bound)->sin6_addr, text, sizeof text);
        snprintf(s->address, sizeof s->address, "[%s]:%u", text, s->port);
    } else {
        s->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
        inet_ntop(AF_INET, &((struct sockaddr_in *)&bound)->sin_addr, text, sizeof text);
        snprintf(s->address, sizeof s->address, "%s:%u", text, s->port);
    }
    freeaddrinfo(ai);
    s->listen_fd = fd;
    return WASMPLUG_OK;
}

wasmplug_status server_start(const server_config *cfg, server **out, char *msg, size_t msgsize)
{
    *out = NULL;
    if (!routes_valid(cfg->groups, msg, msgsize))
        return WASMPLUG_ERR_ARGUMENT;
    server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, msgsize, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    s->listen_fd = -1;
    s->groups = cfg->groups;
    s->app = cfg->app;
    s->on_access = cfg->on_access;
    s->access_user = cfg->access_user;
    s->public_read = cfg->public_read;
    s->max_body = cfg->max_body ? cfg->max_body : (size_t)1 << 20;
    if (cfg->token && *cfg->token) {
        s->token = strdup(cfg->token);
        s->token_len = strlen(cfg->token);
        if (!s->token) {
            free(s);
            snprintf(msg, msgsize, "out of memory");
            return WASMPLUG_ERR_NOMEM;
        }
    }
    wasmplug_status st = listen_on(s, cfg->listen ? cfg->listen : "127.0.0.1:8080", msg, msgsize);
    if (st == WASMPLUG_OK && !s->loopback && !s->token && !cfg->allow_remote_without_token) {
        snprintf(msg, msgsize, "%s is not a loopback address: give the server a token "
                 "(--token-file) before listening there", cfg->listen);
        st = WASMPLUG_ERR_ARGUMENT;
    }
    if (st != WASMPLUG_OK) {
        server_free(s);
        return st;
    }
    unsigned threads = cfg->threads;
    if (!threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus > 1 ? 2 * (unsigned)cpus : 2;
    }
    s->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO, 0, NULL, NULL, on_request,
        s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->connection_timeout_s ? cfg->connection_timeout_s : 15u,
        MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections ? cfg->max_connections : 1024u,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip_connections,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        cfg->max_header_bytes ? cfg->max_header_bytes : (size_t)16 * 1024,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(msg, msgsize, "cannot start the HTTP server on %s (libmicrohttpd refused "
                 "the configuration: %u threads)", s->address, threads);
        server_free(s);
        return WASMPLUG_ERR_IO;
    }
    *out = s;
    return WASMPLUG_OK;
}

unsigned server_port(const server *s) { return s->port; }
const char *server_address(const server *s) { return s->address; }
bool server_draining(const server *s) { return atomic_load(&s->draining); }
size_t server_in_flight(const server *s) { return atomic_load(&s->in_flight); }

/* Until no request is in progress or the clock passes end_ns. */
static void wait_in_flight(server *s, uint64_t end_ns)
{
    while (atomic_load(&s->in_flight) && now_ns() < end_ns) {
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

size_t server_drain(server *s, uint32_t deadline_ms)
{
    if (!atomic_exchange(&s->draining, true) && s->daemon) {
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd != MHD_INVALID_SOCKET) {
            close(fd);
            s->listen_fd = -1;
        }
    }
    uint64_t end = now_ns() + (uint64_t)deadline_ms * 1000000u;
    wait_in_flight(s, end);
    /* Drained (or past the deadline): a keep-alive connection's next
     * request, read from now on, is closed unanswered. One that counted
     * itself before this (the handshake with on_request) gets the rest of
     * this deadline, not only server_free's shorter wait. */
    atomic_store(&s->closing, true);
    wait_in_flight(s, end);
    return atomic_load(&s->in_flight);
}

void server_free(server *s)
{
    if (!s)
        return;
    if (s->daemon) {
        /* Requests already being answered finish first (their answers are
         * sent before the sockets close); later ones are refused. */
        atomic_store(&s->closing, true);
        wait_in_flight(s, now_ns() + 2000000000u);
        MHD_stop_daemon(s->daemon);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s->token);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Access log                                                               */
/* ------------------------------------------------------------------------ */

static atomic_uint_fast64_t last_flush_ns;

void server_access_log_json(void *file, const server_access *e)
{
    FILE *f = file;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[40];
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%03ldZ", ts.tv_nsec / 1000000);
    json_t *line = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:i, s:I, s:I}", "ts", when, "peer",
                             e->peer, "method", e->method, "path", e->path, "route", e->route,
                             "status", (int)e->status, "bytes", (json_int_t)e->bytes, "us",
                             (json_int_t)e->micros);
    char buf[1024];
    size_t n = line ? json_dumpb(line, buf, sizeof buf - 1, JSON_COMPACT) : 0;
    char *text = buf;
    if (n >= sizeof buf - 1) {
        text = json_dumps(line, JSON_COMPACT);
        n = text ? strlen(text) : 0;
    }
    json_decref(line);
    if (!n)
        return;
    text[n++] = '\n';
    flockfile(f);
    fwrite_unlocked(text, 1, n, f);
    uint64_t now = now_ns();
    if (now - atomic_load(&last_flush_ns) > 1000000000u) {
        atomic_store(&last_flush_ns, now);
        fflush_unlocked(f);
    }
    funlockfile(f);
    if (text != buf)
        free(text);
}

void server_access_log_flush(FILE *f)
{
    fflush(f);
}
