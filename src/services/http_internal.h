/*
 * http_internal.h - shared pieces of the HTTP service (src/services/http*.c):
 * parsed allowlist rules, the policy and client structures, address
 * classification. Nothing here depends on libcurl except the client's
 * connection pool, which is opaque (struct wsh_conn).
 */
#ifndef WSH_HTTP_INTERNAL_H
#define WSH_HTTP_INTERNAL_H

#include "wasmplug/http.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#if defined(__GNUC__)
#define WSH_INTERNAL __attribute__((visibility("hidden")))
#else
#define WSH_INTERNAL
#endif

/* Methods a rule may name, as bits of wsh_rule.methods. */
#define WSH_METHOD_LIST(X) X(GET) X(HEAD) X(POST) X(PUT) X(PATCH) X(DELETE) X(OPTIONS)
enum {
#define WSH_X_BIT(m) WSH_M_##m##_BIT,
    WSH_METHOD_LIST(WSH_X_BIT)
#undef WSH_X_BIT
    WSH_METHOD_COUNT
};
/* The bit of a method name (exact, upper case), or 0 if it is not one. */
WSH_INTERNAL unsigned wsh_method_bit(const char *name, size_t len);

enum { WSH_SCHEME_ANY = 0, WSH_SCHEME_HTTP, WSH_SCHEME_HTTPS };
#define WSH_PORT_DEFAULT (-1)
#define WSH_PORT_ANY 0

/* One allowlist rule: [METHODS ][SCHEME://]HOST[:PORT][/PATH]. */
typedef struct wsh_rule {
    char *text;       /* as written */
    unsigned methods; /* bits; 0 = any */
    int scheme;       /* WSH_SCHEME_* */
    char *host;       /* lower case; "*", "*.suffix", a name or an address ("[::1]") */
    int port;         /* WSH_PORT_DEFAULT, WSH_PORT_ANY or 1..65535 */
    char *path;       /* NULL = any path; else a pattern with '*' */
} wsh_rule;

/* Parse text into r (owned strings): false with the reason in msg. */
WSH_INTERNAL bool wsh_rule_parse(const char *text, wsh_rule *r, char *msg, size_t msgsize);
WSH_INTERNAL void wsh_rule_free(wsh_rule *r);

/* A URL split by libcurl's parser (lower-case scheme and host). */
typedef struct wsh_target {
    int scheme;       /* WSH_SCHEME_HTTP or _HTTPS */
    const char *host; /* as in URLs: IPv6 in brackets */
    int port;         /* explicit or the scheme's default */
    const char *path; /* "/..." without the query */
    unsigned method;  /* bit */
} wsh_target;

WSH_INTERNAL bool wsh_rule_match(const wsh_rule *r, const wsh_target *t);
/* Whether two rules can match a common request (paths not compared: used
 * to describe grants, never to allow anything). */
WSH_INTERNAL bool wsh_rules_overlap(const wsh_rule *a, const wsh_rule *b);
/* A lower-case copy of s[0..n) (malloc'd). */
WSH_INTERNAL char *wsh_dup_lower(const char *s, size_t n);
/* Format into msg (if not NULL); returns false. */
WSH_INTERNAL bool wsh_fail_msg(char *msg, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Host name patterns: "*", "*.suffix" or an exact name (ASCII case-insensitive). */
WSH_INTERNAL bool wsh_host_match(const char *pat, const char *host);

/* ---- addresses (http_addr.c) ---- */

/* An address or a range: family AF_INET (bytes[0..3]) or AF_INET6. */
typedef struct wsh_cidr {
    int family;
    uint8_t bytes[16];
    unsigned prefix; /* bits; 32 or 128 for one address */
} wsh_cidr;

/* "10.0.0.0/8", "::1/128", or one address ("127.0.0.1" = /32). */
WSH_INTERNAL bool wsh_cidr_parse(const char *text, wsh_cidr *out);
/* Whether the socket address lies in the range. */
WSH_INTERNAL bool wsh_cidr_contains(const wsh_cidr *range, const struct sockaddr *sa);
/* The name of the special range sa lies in ("loopback", "private (RFC 1918)",
 * ...), or NULL for an ordinary public unicast address. */
WSH_INTERNAL const char *wsh_addr_special(const struct sockaddr *sa);
/* sa as text ("127.0.0.1", "::1"), into buf. */
WSH_INTERNAL const char *wsh_addr_text(const struct sockaddr *sa, char *buf, size_t size);

/* ---- policy and client (http_policy.c) ---- */

typedef struct wsh_policy_rule {
    char *plugin_pat;
    wsh_rule rule;
} wsh_policy_rule;

typedef struct wsh_addr_allow {
    char *host_pat;
    wsh_cidr range;
} wsh_addr_allow;

struct wasmplug_http_policy {
    wasmplug_http_limits limits;
    wsh_policy_rule *rules;
    size_t nrules, caprules;
    wsh_addr_allow *addrs;
    size_t naddrs, capaddrs;
    char *ca_file;
    char *proxy;
    bool cookies;
};

/* Whether the policy lets host resolve to sa (a special address). */
WSH_INTERNAL bool wsh_policy_address_allowed(const wasmplug_http_policy *pol, const char *host,
                                             const struct sockaddr *sa);

struct wsh_conn; /* a pooled libcurl transfer handle (http.c) */

struct wasmplug_http_client {
    const wasmplug_http_policy *pol;
    char *name, *id;
    wsh_rule *entries;               /* the plugin's requested entries */
    size_t nentries;
    const wsh_rule **rules;          /* the policy's rules for this plugin */
    size_t nrules;
    wasmplug_http_denial_fn on_denial;
    void *denial_user;

    pthread_mutex_t lock;            /* metrics, pool */
    wasmplug_http_metrics metrics;
    atomic_uint in_flight;
    struct wsh_conn *idle;           /* pooled handles (keep-alive connections) */
    void *share;                     /* CURLSH for per-plugin cookies, or NULL */
};

/* wasmplug_http_client_new; with granted, the entries were granted by the
 * host already (request ∩ host policy): a policy without rules then adds
 * no restriction of its own. */
WSH_INTERNAL wasmplug_status wsh_client_make(const wasmplug_http_policy *pol,
                                             const char *plugin_name, const char *plugin_id,
                                             const char *const *entries, size_t entry_count,
                                             bool granted, wasmplug_http_client **out,
                                             char *msg, size_t msgsize);
/* Whether t is allowed: a requested entry and a policy rule both match. */
WSH_INTERNAL bool wsh_client_allows(const wasmplug_http_client *c, const wsh_target *t);

/* ---- the import's bytes (http_wire.c) ---- */
#define WSH_WIRE_MAX_HEADERS 64
/* A request parsed from a plugin's bytes: strings in text (owned), the body
 * points into the input. */
typedef struct wsh_wire_request {
    wasmplug_http_request req;
    char *text;
    wasmplug_kv headers[WSH_WIRE_MAX_HEADERS];
} wsh_wire_request;
WSH_INTERNAL wasmplug_http_code wsh_wire_parse(const uint8_t *in, size_t len,
                                               wsh_wire_request *out, char *msg, size_t size);
WSH_INTERNAL void wsh_wire_free(wsh_wire_request *r);
typedef bool (*wsh_wire_write_fn)(void *user, const void *data, size_t len);
/* Write resp in the wire format through write (false if a write failed). */
WSH_INTERNAL bool wsh_wire_response(const wasmplug_http_response *resp, wsh_wire_write_fn write,
                                    void *user);

/* ---- transport (http.c) ---- */
WSH_INTERNAL void wsh_conn_pool_free(wasmplug_http_client *c);
WSH_INTERNAL void wsh_share_free(void *share);

/*
 * http_dns.c: getaddrinfo(name) for SOCK_STREAM that the request can
 * abandon: it runs in a thread of its own while this waits, returning when
 * the deadline (CLOCK_MONOTONIC ns) passes or ctl->interrupted says so.
 * Returns getaddrinfo's code with *res to freeaddrinfo on 0. When it stopped
 * waiting, *interrupted is the interrupt's code or *late is true (the
 * deadline passed); the lookup then finishes on its own, freeing what it
 * got.
 */
struct addrinfo;
WSH_INTERNAL int wsh_resolve(const char *name, const wasmplug_http_control *ctl,
                             uint64_t deadline_ns, struct addrinfo **res,
                             wasmplug_http_code *interrupted, bool *late);

#endif
