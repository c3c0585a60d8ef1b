/*
 * http.c - running a plugin's HTTP request with libcurl: checks (method,
 * headers, size, concurrency, allowlist), resolving the host once and
 * checking every address, pinning the connection to those addresses,
 * following redirects ourselves (each hop checked again), and a transfer
 * loop that polls the caller's deadline and interrupt every 10 ms.
 */
#include "http_internal.h"

#include <curl/curl.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How often a running transfer looks at the caller's interrupt. */
#define POLL_MS 10
/* Addresses of one host name the transfer may connect to. */
#define MAX_ADDRS 16

/* A pooled transfer: a multi handle (whose connection cache keeps the
 * plugin's connections alive) and one easy handle. */
/* A URL split by libcurl's parser; strings owned by the caller (curl_free)
 * unless borrowed from a connection's cache. */
typedef struct parsed_url {
    char *scheme, *host, *port, *path;
    wsh_target target;
    bool borrowed;
} parsed_url;

static void parsed_free(parsed_url *p)
{
    if (!p->borrowed) {
        curl_free(p->scheme);
        curl_free(p->host);
        curl_free(p->port);
        curl_free(p->path);
    }
    memset(p, 0, sizeof *p);
}

struct wsh_conn {
    CURLM *multi;
    CURL *easy;
    CURLU *url;                   /* the request's URL, parsed once: ours and libcurl's */
    /* The first hop's URL that url holds, as text and split: the next
     * request to the same URL (an API polled) is not parsed again. */
    char *url_text;
    parsed_url parsed;
    struct curl_slist *no_expect; /* "Expect:", for requests without headers */
    struct wsh_conn *next;
};

typedef struct wsh_share {
    CURLSH *share;
    pthread_mutex_t lock;
} wsh_share;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Handles                                                                  */
/* ------------------------------------------------------------------------ */

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
    (void)h, (void)data, (void)access;
    pthread_mutex_lock(&((wsh_share *)user)->lock);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
    (void)h, (void)data;
    pthread_mutex_unlock(&((wsh_share *)user)->lock);
}

void wsh_share_free(void *p)
{
    wsh_share *s = p;
    if (!s)
        return;
    curl_share_cleanup(s->share);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static void conn_free(struct wsh_conn *k)
{
    curl_slist_free_all(k->no_expect);
    curl_url_cleanup(k->url);
    free(k->url_text);
    parsed_free(&k->parsed);
    if (k->multi)
        curl_multi_cleanup(k->multi);
    if (k->easy)
        curl_easy_cleanup(k->easy);
    free(k);
}

void wsh_conn_pool_free(wasmplug_http_client *c)
{
    while (c->idle) {
        struct wsh_conn *k = c->idle;
        c->idle = k->next;
        conn_free(k);
    }
}

static size_t on_body(char *data, size_t size, size_t n, void *user);
static size_t on_header(char *line, size_t size, size_t n, void *user);
static curl_socket_t on_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a);

static struct wsh_conn *conn_take(wasmplug_http_client *c)
{
    pthread_once(&curl_once, curl_init_once);
    pthread_mutex_lock(&c->lock);
    struct wsh_conn *k = c->idle;
    if (k)
        c->idle = k->next;
    if (!k && c->pol->cookies && !c->share) {
        wsh_share *s = calloc(1, sizeof *s);
        if (s && (s->share = curl_share_init())) {
            pthread_mutex_init(&s->lock, NULL);
            curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
            curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
            curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
            curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE);
            c->share = s;
        } else {
            free(s);
        }
    }
    pthread_mutex_unlock(&c->lock);
    if (k)
        return k;
    if (!(k = calloc(1, sizeof *k)))
        return NULL;
    k->multi = curl_multi_init();
    k->easy = curl_easy_init();
    k->url = curl_url();
    k->no_expect = curl_slist_append(NULL, "Expect:");
    if (!k->multi || !k->easy || !k->url || !k->no_expect) {
        conn_free(k);
        return NULL;
    }
    /* What never changes between this client's requests, set once. */
    const wasmplug_http_policy *pol = c->pol;
    CURL *e = k->easy;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, pol->proxy ? pol->proxy : "");
    /* Through a proxy every request, http as well, tunnels to the checked
     * address (resolve() gives the connect-to entry). */
    curl_easy_setopt(e, CURLOPT_HTTPPROXYTUNNEL, pol->proxy ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (pol->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, pol->ca_file);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)pol->limits.max_response_bytes);
    if (c->share) {
        curl_easy_setopt(e, CURLOPT_SHARE, ((wsh_share *)c->share)->share);
        curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    }
    return k;
}

static void conn_give_back(wasmplug_http_client *c, struct wsh_conn *k)
{
    pthread_mutex_lock(&c->lock);
    k->next = c->idle;
    c->idle = k;
    pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------------------ */
/* One transfer's state                                                     */
/* ------------------------------------------------------------------------ */

typedef struct transfer {
    wasmplug_http_client *c;
    const wasmplug_http_control *ctl;
    wasmplug_http_error *err;
    const char *method;
    /* the response of the current hop */
    uint8_t *body;
    size_t body_len, body_cap;
    char *htext;          /* header fields: "name\0value\0" each */
    size_t hlen, hcap, nheaders;
    uint64_t received, max;  /* this hop's header + body bytes, and the limit */
    uint64_t total_received; /* every hop's */
    bool too_large, nomem;
    /* the addresses checked for the current hop */
    struct sockaddr_storage addrs[MAX_ADDRS];
    size_t naddrs;
    bool pinned;          /* connections must go to addrs */
    char unexpected[64];  /* an address libcurl tried that was not checked */
    uint64_t bytes_sent;
} transfer;

static wasmplug_http_code failf(transfer *t, wasmplug_http_code code, const char *url,
                                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static wasmplug_http_code failf(transfer *t, wasmplug_http_code code, const char *url,
                                const char *fmt, ...)
{
    if (t->err) {
        t->err->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->err->message, sizeof t->err->message, fmt, ap);
        va_end(ap);
        snprintf(t->err->url, sizeof t->err->url, "%s", url ? url : "");
    }
    return code;
}

static void headers_clear(transfer *t)
{
    t->hlen = 0;
    t->nheaders = 0;
}

/* Make room for need bytes in the growing buffer *buf of capacity *cap
 * (doubling from first); false (and the transfer out of memory) if not. */
static bool reserve(transfer *t, void **buf, size_t *cap, size_t need, size_t first)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : first;
    while (ncap < need)
        ncap *= 2;
    void *b = realloc(*buf, ncap);
    if (!b) {
        t->nomem = true;
        return false;
    }
    *buf = b;
    *cap = ncap;
    return true;
}

/* Append s[0..n) and a NUL to the header text. */
static bool htext_add(transfer *t, const char *str, size_t n)
{
    if (!reserve(t, (void **)&t->htext, &t->hcap, t->hlen + n + 1, 512))
        return false;
    memcpy(t->htext + t->hlen, str, n);
    t->htext[t->hlen + n] = '\0';
    t->hlen += n + 1;
    return true;
}

/* The header fields as one block: the wasmplug_kv array, then the text. */
static wasmplug_kv *headers_block(transfer *t)
{
    wasmplug_kv *kv = malloc(t->nheaders * sizeof *kv + t->hlen + 1);
    if (!kv)
        return NULL;
    char *text = (char *)(kv + t->nheaders);
    if (t->hlen)
        memcpy(text, t->htext, t->hlen);
    for (size_t i = 0; i < t->nheaders; i++) {
        kv[i].key = text;
        text += strlen(text) + 1;
        kv[i].value = text;
        text += strlen(text) + 1;
    }
    return kv;
}

static bool room(transfer *t, uint64_t n)
{
    t->received += n;
    t->total_received += n;
    if (t->received > t->max)
        t->too_large = true;
    return !t->too_large;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    transfer *t = user;
    size_t len = size * n;
    if (!room(t, len))
        return 0;
    if (!reserve(t, (void **)&t->body, &t->body_cap, t->body_len + len + 1, 256))
        return 0;
    memcpy(t->body + t->body_len, data, len);
    t->body_len += len;
    t->body[t->body_len] = 0;
    return len;
}

/* Header lines of the current hop; a status line starts a new response
 * (interim 1xx responses are dropped that way). */
static size_t on_header(char *line, size_t size, size_t n, void *user)
{
    transfer *t = user;
    size_t len = size * n;
    if (!room(t, len))
        return 0;
    if (len >= 5 && memcmp(line, "HTTP/", 5) == 0) {
        headers_clear(t);
        return len;
    }
    size_t end = len;
    while (end > 0 && (line[end - 1] == '\r' || line[end - 1] == '\n'))
        end--;
    if (end == 0)
        return len;
    if ((line[0] == ' ' || line[0] == '\t') && t->nheaders) { /* obsolete line folding */
        size_t st = 0;
        while (st < end && (line[st] == ' ' || line[st] == '\t'))
            st++;
        t->htext[t->hlen - 1] = ' '; /* the last value's NUL */
        t->hlen--;
        return htext_add(t, line + st, end - st) ? len : 0;
    }
    const char *colon = memchr(line, ':', end);
    if (!colon)
        return len;
    size_t vs = (size_t)(colon - line) + 1, ve = end;
    while (vs < ve && (line[vs] == ' ' || line[vs] == '\t'))
        vs++;
    while (ve > vs && (line[ve - 1] == ' ' || line[ve - 1] == '\t'))
        ve--;
    if (!htext_add(t, line, (size_t)(colon - line)) || !htext_add(t, line + vs, ve - vs))
        return 0;
    t->nheaders++;
    return len;
}

static bool same_address(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return memcmp(&((const struct sockaddr_in *)(const void *)a)->sin_addr,
                      &((const struct sockaddr_in *)(const void *)b)->sin_addr, 4) == 0;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
    return false;
}

/* libcurl is about to connect: only to an address this hop checked. */
static curl_socket_t on_open_socket(void *user, curlsocktype purpose, struct curl_sockaddr *a)
{
    transfer *t = user;
    (void)purpose;
    bool ok = !t->pinned;
    for (size_t i = 0; i < t->naddrs && !ok; i++)
        ok = same_address((const struct sockaddr *)&t->addrs[i], &a->addr);
    if (!ok) {
        wsh_addr_text(&a->addr, t->unexpected, sizeof t->unexpected);
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype, a->protocol);
}

/* ------------------------------------------------------------------------ */
/* Checks                                                                   */
/* ------------------------------------------------------------------------ */

static bool is_token(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
            return false;
    return true;
}

static bool forbidden_header(const char *name)
{
    static const char *const names[] = {"host",    "content-length", "transfer-encoding",
                                        "connection", "keep-alive",  "upgrade",
                                        "te",      "trailer",        "expect"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return true;
    return strncasecmp(name, "proxy-", 6) == 0;
}

static wasmplug_http_code check_headers(transfer *t, const wasmplug_http_request *req)
{
    for (size_t i = 0; i < req->header_count; i++) {
        const char *k = req->headers[i].key, *v = req->headers[i].value;
        if (!k || !v || !is_token(k))
            return failf(t, WASMPLUG_HTTP_BAD_REQUEST, req->url,
                         "header %zu: '%s' is not a valid header name", i + 1, k ? k : "(null)");
        if (forbidden_header(k))
            return failf(t, WASMPLUG_HTTP_FORBIDDEN_HEADER, req->url,
                         "header '%s' may not be set by a plugin (the HTTP service sets "
                         "Host, Content-Length, Transfer-Encoding, Connection, Keep-Alive, "
                         "Upgrade, TE, Trailer, Expect and Proxy-* itself)",
                         k);
        if (strpbrk(v, "\r\n"))
            return failf(t, WASMPLUG_HTTP_BAD_REQUEST, req->url,
                         "header '%s': the value contains CR or LF", k);
    }
    return WASMPLUG_HTTP_OK;
}

/* The header list for libcurl: the plugin's headers, minus credentials
 * after a redirect to another origin, plus "Expect:" (no 100-continue
 * round trip). */
static struct curl_slist *header_list(const wasmplug_http_request *req, bool cross_origin,
                                      bool *nomem)
{
    struct curl_slist *list = NULL, *n;
    *nomem = false;
    if (req->header_count == 0)
        return NULL; /* the connection's "Expect:" list */
    for (size_t i = 0; i < req->header_count; i++) {
        const char *k = req->headers[i].key, *v = req->headers[i].value;
        if (cross_origin && (strcasecmp(k, "authorization") == 0 || strcasecmp(k, "cookie") == 0))
            continue;
        size_t len = strlen(k) + strlen(v) + 3;
        char *line = malloc(len);
        if (!line)
            goto oom;
        /* "Name;" sends an empty value; "Name: " would remove the header. */
        if (*v)
            snprintf(line, len, "%s: %s", k, v);
        else
            snprintf(line, len, "%s;", k);
        n = curl_slist_append(list, line);
        free(line);
        if (!n)
            goto oom;
        list = n;
    }
    if ((n = curl_slist_append(list, "Expect:")))
        return n;
oom:
    curl_slist_free_all(list);
    *nomem = true;
    return NULL;
}


static wasmplug_http_code parse_url(transfer *t, CURLU *u, const char *url, unsigned method,
                                    bool redirect, parsed_url *p)
{
    memset(p, 0, sizeof *p);
    wasmplug_http_code deny =
        redirect ? WASMPLUG_HTTP_REDIRECT_NOT_ALLOWED : WASMPLUG_HTTP_URL_NOT_ALLOWED;
    CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK)
        return failf(t, redirect ? deny : WASMPLUG_HTTP_BAD_REQUEST, url,
                     "'%s' is not a valid absolute URL: %s", url, curl_url_strerror(uc));
    if (curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) == CURLUE_OK &&
        strcmp(p->scheme, "http") != 0 && strcmp(p->scheme, "https") != 0) {
        wasmplug_http_code code =
            failf(t, deny, url, "scheme '%s' is not allowed (http and https only)", p->scheme);
        parsed_free(p);
        return code;
    }
    if (!p->scheme || curl_url_get(u, CURLUPART_HOST, &p->host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &p->path, 0) != CURLUE_OK) {
        parsed_free(p);
        return failf(t, redirect ? deny : WASMPLUG_HTTP_BAD_REQUEST, url,
                     "'%s' has no host (an absolute http:// or https:// URL is needed)", url);
    }
    for (char *s = p->host; *s; s++)
        *s = (char)tolower((unsigned char)*s);
    p->target.scheme = strcmp(p->scheme, "https") == 0 ? WSH_SCHEME_HTTPS : WSH_SCHEME_HTTP;
    p->target.host = p->host;
    p->target.port = atoi(p->port);
    p->target.path = p->path;
    p->target.method = method;
    return WASMPLUG_HTTP_OK;
}

/* Resolve host once, check every address, and prepare what makes libcurl
 * connect to a checked address: its pinned resolve entries ("-host:port"
 * then "host:port:addr,addr"), or with a proxy a connect-to entry
 * ("host:port:addr:port") for the tunnel. */
static wasmplug_http_code resolve(transfer *t, const char *url, const parsed_url *p,
                                  struct curl_slist **pins, uint64_t deadline,
                                  bool call_deadline)
{
    char name[256];
    const char *host = p->host;
    size_t hl = strlen(host);
    bool literal = host[0] == '[';
    if (literal) {
        host++;
        hl -= 2;
    }
    if (hl >= sizeof name)
        return failf(t, WASMPLUG_HTTP_BAD_REQUEST, url, "host name too long");
    memcpy(name, host, hl);
    name[hl] = '\0';
    t->naddrs = 0;
    t->pinned = !t->c->pol->proxy;
    /* An address in the URL: checked as is; libcurl resolves nothing. */
    struct sockaddr_in *v4 = (struct sockaddr_in *)&t->addrs[0];
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&t->addrs[0];
    memset(&t->addrs[0], 0, sizeof t->addrs[0]);
    if (inet_pton(AF_INET, name, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (literal && inet_pton(AF_INET6, name, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    if (t->addrs[0].ss_family) {
        const struct sockaddr *sa = (const struct sockaddr *)&t->addrs[0];
        const char *why = wsh_addr_special(sa);
        char text[INET6_ADDRSTRLEN];
        if (why && !wsh_policy_address_allowed(t->c->pol, name, sa))
            return failf(t, WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED, url,
                         "host '%s' is %s, a %s address, which the host policy does not "
                         "allow for this host",
                         name, wsh_addr_text(sa, text, sizeof text), why);
        t->naddrs = 1;
        return WASMPLUG_HTTP_OK;
    }
    struct addrinfo *res = NULL;
    wasmplug_http_code stop;
    bool late;
    int rc = wsh_resolve(name, t->ctl, deadline, &res, &stop, &late);
    if (late)
        return failf(t, WASMPLUG_HTTP_TIMEOUT, url, "%s %s: '%s' not resolved before %s",
                     t->method, url, name,
                     call_deadline ? "the plugin call's deadline" : "the HTTP request timeout");
    if (stop)
        return failf(t, stop, url, "%s %s: %s while resolving '%s'", t->method, url,
                     stop == WASMPLUG_HTTP_TIMEOUT ? "the plugin call timed out"
                                                   : "the plugin call was cancelled",
                     name);
    if (rc != 0)
        return failf(t, WASMPLUG_HTTP_DNS, url, "could not resolve host '%s': %s", name,
                     gai_strerror(rc));
    char list[MAX_ADDRS * (INET6_ADDRSTRLEN + 3) + 1] = "";
    wasmplug_http_code code = WASMPLUG_HTTP_OK;
    for (struct addrinfo *ai = res; ai && t->naddrs < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        bool dup = false;
        for (size_t i = 0; i < t->naddrs && !dup; i++)
            dup = same_address((struct sockaddr *)&t->addrs[i], ai->ai_addr);
        if (dup)
            continue;
        char text[INET6_ADDRSTRLEN];
        wsh_addr_text(ai->ai_addr, text, sizeof text);
        const char *why = wsh_addr_special(ai->ai_addr);
        if (why && !wsh_policy_address_allowed(t->c->pol, name, ai->ai_addr)) {
            code = failf(t, WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED, url,
                         "host '%s' resolves to %s, a %s address, which the host policy does "
                         "not allow for this host",
                         name, text, why);
            break;
        }
        memcpy(&t->addrs[t->naddrs++], ai->ai_addr, ai->ai_addrlen);
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s",
                 used ? "," : "", text);
    }
    freeaddrinfo(res);
    if (code != WASMPLUG_HTTP_OK)
        return code;
    if (t->naddrs == 0)
        return failf(t, WASMPLUG_HTTP_DNS, url, "host '%s' has no IPv4 or IPv6 address", name);
    char entry[sizeof list + 300];
    struct curl_slist *a, *b;
    if (!t->pinned) {
        /* Through the operator's proxy: a tunnel (CONNECT) to one checked
         * address, so the proxy never resolves the name itself; the first
         * IPv4 one (proxies are often IPv4-only), else the first. */
        size_t pick = 0;
        while (pick < t->naddrs && t->addrs[pick].ss_family != AF_INET)
            pick++;
        if (pick == t->naddrs)
            pick = 0;
        char addr[INET6_ADDRSTRLEN];
        wsh_addr_text((const struct sockaddr *)&t->addrs[pick], addr, sizeof addr);
        snprintf(entry, sizeof entry, t->addrs[pick].ss_family == AF_INET6 ? "%s:%d:[%s]:%d"
                                                                            : "%s:%d:%s:%d",
                 name, p->target.port, addr, p->target.port);
        if (!(b = curl_slist_append(NULL, entry)))
            return failf(t, WASMPLUG_HTTP_NOMEM, url, "out of memory");
        *pins = b;
        return WASMPLUG_HTTP_OK;
    }
    snprintf(entry, sizeof entry, "-%s:%d", name, p->target.port);
    a = curl_slist_append(NULL, entry);
    snprintf(entry, sizeof entry, "%s:%d:%s", name, p->target.port, list);
    b = a ? curl_slist_append(a, entry) : NULL;
    if (!b) {
        curl_slist_free_all(a);
        return failf(t, WASMPLUG_HTTP_NOMEM, url, "out of memory");
    }
    *pins = b;
    return WASMPLUG_HTTP_OK;
}

/* ------------------------------------------------------------------------ */
/* One hop                                                                  */
/* ------------------------------------------------------------------------ */

static void set_method(CURL *e, const char *method, unsigned bit, const uint8_t *body,
                       size_t len)
{
    /* Back to a plain GET first: the handle keeps the previous request's. */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    if (bit == (1u << WSH_M_HEAD_BIT)) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        return;
    }
    if (bit == (1u << WSH_M_GET_BIT) && !len) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
        return;
    }
    if (len || bit != (1u << WSH_M_DELETE_BIT)) {
        /* libcurl reads body as binary when given its size. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, len ? (const char *)body : "");
    }
    if (bit != (1u << WSH_M_POST_BIT))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
}

static wasmplug_http_code map_curl(transfer *t, CURLcode rc, const char *url,
                                   const char *errbuf, uint64_t deadline, bool call_deadline)
{
    const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (t->nomem || rc == CURLE_OUT_OF_MEMORY)
        return failf(t, WASMPLUG_HTTP_NOMEM, url, "out of memory receiving the response");
    if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
        return failf(t, WASMPLUG_HTTP_RESPONSE_TOO_LARGE, url,
                     "%s %s: the response exceeds the limit of %llu bytes (headers + body)",
                     t->method, url, (unsigned long long)t->max);
    if (t->unexpected[0])
        return failf(t, WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED, url,
                     "libcurl tried to connect to %s, which was not the checked address",
                     t->unexpected);
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return failf(t, WASMPLUG_HTTP_TIMEOUT, url,
                     "%s %s: no complete response before %s", t->method, url,
                     call_deadline ? "the plugin call's deadline"
                                   : "the HTTP request timeout");
    case CURLE_COULDNT_RESOLVE_HOST:
        return failf(t, WASMPLUG_HTTP_DNS, url, "%s", detail);
    case CURLE_COULDNT_CONNECT:
        return failf(t, WASMPLUG_HTTP_CONNECT, url, "%s %s: %s", t->method, url, detail);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        return failf(t, WASMPLUG_HTTP_TLS, url, "%s %s: %s", t->method, url, detail);
    default:
        (void)deadline;
        return failf(t, WASMPLUG_HTTP_NETWORK, url, "%s %s: %s", t->method, url, detail);
    }
}

/* Run the configured easy handle on the multi handle until it finishes,
 * the deadline passes or the caller interrupts. */
static wasmplug_http_code run_transfer(transfer *t, struct wsh_conn *k, const char *url,
                                       uint64_t deadline, bool call_deadline, CURLcode *rc)
{
    const wasmplug_http_control *ctl = t->ctl;
    wasmplug_http_code code = WASMPLUG_HTTP_OK;
    *rc = CURLE_OK;
    if (curl_multi_add_handle(k->multi, k->easy) != CURLM_OK)
        return failf(t, WASMPLUG_HTTP_NOMEM, url, "could not start the transfer");
    for (;;) {
        wasmplug_http_code stop = ctl && ctl->interrupted ? ctl->interrupted(ctl->user) : 0;
        if (stop) {
            code = failf(t, stop, url, "%s %s: %s while the transfer was running", t->method,
                         url, stop == WASMPLUG_HTTP_TIMEOUT ? "the plugin call timed out"
                                                            : "the plugin call was cancelled");
            break;
        }
        uint64_t now = now_ns();
        if (now >= deadline) {
            code = failf(t, WASMPLUG_HTTP_TIMEOUT, url, "%s %s: no complete response before %s",
                         t->method, url,
                         call_deadline ? "the plugin call's deadline"
                                       : "the HTTP request timeout");
            break;
        }
        int running = 0;
        if (curl_multi_perform(k->multi, &running) != CURLM_OK) {
            code = failf(t, WASMPLUG_HTTP_NETWORK, url, "libcurl's transfer loop failed");
            break;
        }
        if (!running) {
            int left;
            CURLMsg *m;
            while ((m = curl_multi_info_read(k->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                    *rc = m->data.result;
            break;
        }
        uint64_t wait_ms = (deadline - now) / 1000000u + 1;
        curl_multi_poll(k->multi, NULL, 0, wait_ms < POLL_MS ? (int)wait_ms : POLL_MS, NULL);
    }
    curl_multi_remove_handle(k->multi, k->easy);
    return code;
}

static wasmplug_http_code hop(transfer *t, struct wsh_conn *k, const char *url,
                              const parsed_url *p, const wasmplug_http_request *req,
                              unsigned method_bit, const uint8_t *body, size_t body_len,
                              bool cross_origin, uint64_t deadline, bool call_deadline)
{
    struct curl_slist *pins = NULL, *headers = NULL;
    wasmplug_http_code code = resolve(t, url, p, &pins, deadline, call_deadline);
    if (code != WASMPLUG_HTTP_OK)
        return code;
    bool nomem;
    headers = header_list(req, cross_origin, &nomem);
    if (nomem) {
        curl_slist_free_all(pins);
        return failf(t, WASMPLUG_HTTP_NOMEM, url, "out of memory");
    }
    CURL *e = k->easy;
    char errbuf[CURL_ERROR_SIZE] = "";
    /* Per request only: the rest was set when the handle was made. */
    /* The URL as parsed by parse_url: libcurl does not parse it again. Its
     * string form is dropped, so libcurl takes the URL from the handle. */
    curl_easy_setopt(e, CURLOPT_URL, NULL);
    curl_easy_setopt(e, CURLOPT_CURLU, k->url);
    curl_easy_setopt(e, t->pinned ? CURLOPT_RESOLVE : CURLOPT_CONNECT_TO, pins);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers ? headers : k->no_expect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    /* No CURLOPT_TIMEOUT_MS: run_transfer enforces the deadline itself, and
     * libcurl's timer costs about 25 us per request on a local server. */
    set_method(e, t->method, method_bit, body, body_len);

    CURLcode rc;
    code = run_transfer(t, k, url, deadline, call_deadline, &rc);
    if (code == WASMPLUG_HTTP_OK && (rc != CURLE_OK || t->nomem || t->too_large))
        code = map_curl(t, rc, url, errbuf, deadline, call_deadline);
    curl_off_t up = 0;
    if (curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up) == CURLE_OK && up > 0)
        t->bytes_sent += (uint64_t)up;
    /* The lists must outlive the transfer; drop libcurl's pointers to them. */
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_RESOLVE, NULL);
    curl_easy_setopt(e, CURLOPT_CONNECT_TO, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(headers);
    curl_slist_free_all(pins);
    return code;
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

static void reset_response(transfer *t)
{
    headers_clear(t);
    t->body_len = 0;
    t->received = 0;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The refusal message names the side that does not allow the URL. */
static wasmplug_http_code not_allowed(transfer *t, const wsh_target *tg, const char *url,
                                      bool redirect)
{
    const wasmplug_http_client *c = t->c;
    bool requested = false;
    for (size_t i = 0; i < c->nentries && !requested; i++)
        requested = wsh_rule_match(&c->entries[i], tg);
    return failf(t,
                 redirect ? WASMPLUG_HTTP_REDIRECT_NOT_ALLOWED : WASMPLUG_HTTP_URL_NOT_ALLOWED,
                 url, "%s%s %s is not allowed for plugin '%s': %s", redirect ? "redirect to " : "",
                 t->method, url, c->name,
                 requested ? "no host policy rule matches it"
                           : "none of the plugin's requested http entries matches it");
}

static wasmplug_http_code perform(transfer *t, const wasmplug_http_request *req,
                                  wasmplug_http_response *resp)
{
    wasmplug_http_client *c = t->c;
    const wasmplug_http_limits *lim = &c->pol->limits;
    if (!req || !req->url)
        return failf(t, WASMPLUG_HTTP_BAD_REQUEST, "", "the request has no URL");
    if (c->nentries == 0 || c->nrules == 0)
        return failf(t, WASMPLUG_HTTP_NOT_GRANTED, req->url,
                     "plugin '%s' has no HTTP grant: %s", c->name,
                     c->nentries == 0 ? "its manifest requests no http access"
                                      : "the host policy allows it no http access");
    const char *method = req->method ? req->method : "GET";
    unsigned bit = wsh_method_bit(method, strlen(method));
    t->method = method;
    if (!bit)
        return failf(t, WASMPLUG_HTTP_BAD_REQUEST, req->url,
                     "method '%s' is not supported (GET, HEAD, POST, PUT, PATCH, DELETE, "
                     "OPTIONS)",
                     method);
    wasmplug_http_code code = check_headers(t, req);
    if (code != WASMPLUG_HTTP_OK)
        return code;
    if (req->body_len > lim->max_request_bytes)
        return failf(t, WASMPLUG_HTTP_REQUEST_TOO_LARGE, req->url,
                     "the request body of %zu bytes exceeds the limit of %llu bytes",
                     req->body_len, (unsigned long long)lim->max_request_bytes);
    if (req->body_len && bit == (1u << WSH_M_HEAD_BIT))
        return failf(t, WASMPLUG_HTTP_BAD_REQUEST, req->url, "a HEAD request has no body");

    uint64_t deadline = now_ns() + (uint64_t)lim->timeout_ms * 1000000u;
    bool call_deadline = false;
    if (t->ctl && t->ctl->deadline_ns && t->ctl->deadline_ns < deadline) {
        deadline = t->ctl->deadline_ns;
        call_deadline = true;
    }
    struct wsh_conn *k = conn_take(c);
    char *url = strdup(req->url);
    if (!k || !url) {
        if (k)
            conn_give_back(c, k);
        free(url);
        return failf(t, WASMPLUG_HTTP_NOMEM, req->url, "out of memory");
    }
    const uint8_t *body = req->body;
    size_t body_len = req->body_len;
    bool cross_origin = false;
    parsed_url origin; /* the first hop's URL, kept for comparing redirects to */
    memset(&origin, 0, sizeof origin);
    long status = 0;
    uint32_t redirects = 0;
    for (;;) {
        parsed_url p;
        if (!redirects && k->url_text && strcmp(k->url_text, url) == 0) {
            p = k->parsed;
            p.borrowed = true;
            p.target.method = bit;
        } else {
            if (origin.borrowed) { /* a redirect: the origin keeps the cached parts */
                origin.borrowed = false;
                memset(&k->parsed, 0, sizeof k->parsed);
            }
            free(k->url_text); /* k->url changes */
            k->url_text = NULL;
            parsed_free(&k->parsed);
            /* A first hop is parsed on its own, never relative to the
             * connection's previous URL. */
            if (!redirects)
                curl_url_set(k->url, CURLUPART_URL, NULL, 0);
            code = parse_url(t, k->url, url, bit, redirects > 0, &p);
            if (code != WASMPLUG_HTTP_OK)
                break;
            if (!redirects && (k->url_text = strdup(url))) {
                k->parsed = p;
                p.borrowed = true;
            }
        }
        if (!redirects)
            origin = p;
        else if (!cross_origin && (strcmp(origin.scheme, p.scheme) != 0 ||
                                   strcmp(origin.host, p.host) != 0 ||
                                   strcmp(origin.port, p.port) != 0))
            cross_origin = true;
        if (!wsh_client_allows(c, &p.target)) {
            code = not_allowed(t, &p.target, url, redirects > 0);
            if (redirects)
                parsed_free(&p);
            break;
        }
        reset_response(t);
        code = hop(t, k, url, &p, req, bit, body, body_len, cross_origin, deadline,
                   call_deadline);
        if (redirects)
            parsed_free(&p);
        if (code != WASMPLUG_HTTP_OK)
            break;
        char *next = NULL;
        curl_easy_getinfo(k->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(k->easy, CURLINFO_REDIRECT_URL, &next);
        if (!is_redirect(status) || !next)
            break;
        if (redirects == lim->max_redirects) {
            code = failf(t, WASMPLUG_HTTP_TOO_MANY_REDIRECTS, next,
                         "%s %s: more than %u redirects", t->method, req->url,
                         lim->max_redirects);
            break;
        }
        char *copy = strdup(next);
        if (!copy) {
            code = failf(t, WASMPLUG_HTTP_NOMEM, req->url, "out of memory");
            break;
        }
        free(url);
        url = copy;
        redirects++;
        /* 303, and 301/302 after a POST, continue as GET without a body. */
        bool to_get = status == 303 || ((status == 301 || status == 302) &&
                                        bit == (1u << WSH_M_POST_BIT));
        if (to_get && bit != (1u << WSH_M_HEAD_BIT)) {
            bit = 1u << WSH_M_GET_BIT;
            t->method = "GET";
            body = NULL;
            body_len = 0;
        }
    }
    if (code == WASMPLUG_HTTP_OK) {
        resp->status = (int)status;
        if (!(resp->headers = headers_block(t))) {
            code = failf(t, WASMPLUG_HTTP_NOMEM, req->url, "out of memory");
            goto done;
        }
        resp->header_count = t->nheaders;
        resp->body = t->body;
        resp->body_len = t->body_len;
        resp->url = url;
        resp->redirects = redirects;
        t->body = NULL;
        url = NULL;
    }
done:
    free(url);
    parsed_free(&origin);
    conn_give_back(c, k);
    return code;
}

wasmplug_http_code wasmplug_http_perform(wasmplug_http_client *c,
                                         const wasmplug_http_request *req,
                                         const wasmplug_http_control *ctl,
                                         wasmplug_http_response *resp,
                                         wasmplug_http_error *err)
{
    wasmplug_http_error local;
    if (!err)
        err = &local; /* the denial callback gets the message either way */
    err->code = WASMPLUG_HTTP_OK;
    err->message[0] = err->url[0] = '\0';
    if (resp)
        memset(resp, 0, sizeof *resp);
    /* Zero everything but the address array (2 KiB, filled as used). */
    transfer t;
    memset(&t, 0, offsetof(transfer, addrs));
    memset(&t.naddrs, 0, sizeof t - offsetof(transfer, naddrs));
    t.c = c;
    t.ctl = ctl;
    t.err = err;
    t.method = req && req->method ? req->method : "GET";
    if (!c || !resp)
        return failf(&t, WASMPLUG_HTTP_BAD_REQUEST, "", "no client or no response to fill");
    t.max = c->pol->limits.max_response_bytes;

    uint64_t start = now_ns();
    wasmplug_http_code code;
    unsigned limit = c->pol->limits.max_concurrent;
    if (atomic_fetch_add(&c->in_flight, 1) >= limit) {
        code = failf(&t, WASMPLUG_HTTP_TOO_MANY_REQUESTS, req ? req->url : "",
                     "plugin '%s' already has %u HTTP requests in flight (the limit)", c->name,
                     limit);
    } else {
        code = perform(&t, req, resp);
    }
    atomic_fetch_sub(&c->in_flight, 1);
    uint64_t ns = now_ns() - start;

    pthread_mutex_lock(&c->lock);
    wasmplug_http_metrics *m = &c->metrics;
    m->requests++;
    m->bytes_sent += t.bytes_sent;
    m->bytes_received += t.total_received;
    m->total_ns += ns;
    if (ns > m->max_ns)
        m->max_ns = ns;
    if (code == WASMPLUG_HTTP_OK && resp->status >= 100 && resp->status < 600)
        m->status[resp->status / 100]++;
    else if (wasmplug_http_code_is_denial(code))
        m->refused++;
    else if (code != WASMPLUG_HTTP_OK)
        m->failed++;
    pthread_mutex_unlock(&c->lock);

    free(t.htext);
    free(t.body);
    if (wasmplug_http_code_is_denial(code) && c->on_denial)
        c->on_denial(c->denial_user, err->url, code, err->message);
    return code;
}

void wasmplug_http_client_metrics(wasmplug_http_client *c, wasmplug_http_metrics *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->metrics;
    pthread_mutex_unlock(&c->lock);
    out->in_flight = atomic_load(&c->in_flight);
}

void wasmplug_http_response_free(wasmplug_http_response *resp)
{
    if (!resp)
        return;
    free(resp->headers); /* one block with its strings */
    free(resp->body);
    free(resp->url);
    memset(resp, 0, sizeof *resp);
}
