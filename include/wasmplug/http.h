/*
 * wasmplug/http.h - outbound HTTP for plugins (services layer,
 * libwasmplug_services, which uses libcurl).
 *
 * A plugin has no network unless the operator allows it. With this service
 * it may reach exactly the URLs that both its manifest asks for and the
 * host policy allows, and nothing else:
 *
 *     wasmplug_http_policy *pol;
 *     wasmplug_http_policy_new(NULL, &pol);                 // default limits
 *     wasmplug_http_policy_allow(pol, "weather", "GET https://api.example.com/v1/" "*", NULL, 0);
 *
 *     const char *wanted[] = {"api.example.com"};           // manifest http entries
 *     wasmplug_http_client *c;
 *     wasmplug_http_client_new(pol, "weather", wanted, 1, &c, NULL, 0);
 *
 *     wasmplug_http_request req = {"GET", "https://api.example.com/v1/today"};
 *     wasmplug_http_response resp;
 *     wasmplug_http_error err;
 *     if (wasmplug_http_perform(c, &req, NULL, &resp, &err) == WASMPLUG_HTTP_OK) {
 *         ... resp.status, resp.headers, resp.body ...
 *         wasmplug_http_response_free(&resp);
 *     }
 *     wasmplug_http_client_free(c);
 *     wasmplug_http_policy_free(pol);
 *
 * Rules (manifest entries and host policy rules share one syntax)
 * -----------------------------------------------------------------
 *     [METHOD[,METHOD...] ][SCHEME://]HOST[:PORT][/PATH]
 *
 *   METHOD   GET HEAD POST PUT PATCH DELETE OPTIONS; none = any of them
 *   SCHEME   http or https; none = either (only these two ever exist)
 *   HOST     a name (api.example.com), "*.example.org" (any name ending in
 *            ".example.org", not example.org itself), "*" (any host), an
 *            IPv4 address or an IPv6 address in brackets ([::1])
 *   PORT     a number or "*"; none = the scheme's default port (80, 443)
 *   PATH     a pattern in which '*' matches any text ("/v1/" followed by '*'),
 *            an exact path ("/status"), or none = any path
 *
 * A request is allowed when its URL (and method) matches at least one of
 * the plugin's requested entries AND at least one host-policy rule for the
 * plugin: the intersection of the two sets. Every redirect hop is checked
 * the same way.
 *
 * Addresses
 * ---------
 * The host name is resolved once (getaddrinfo) and every address checked;
 * the transfer then connects to exactly those addresses (no second
 * resolution, so DNS rebinding cannot switch them). Addresses in special
 * ranges are refused: loopback, RFC 1918 private, shared (100.64/10),
 * link-local (including the cloud metadata address 169.254.169.254),
 * multicast, unspecified, broadcast, "this network" (0/8), IETF protocol
 * assignments (192.0.0/24), documentation, benchmarking (198.18/15),
 * reserved (240/4), IPv6 loopback, unique-local (fc00::/7), link-local
 * (fe80::/10), site-local, IPv4-mapped, -compatible and -translated,
 * 6to4, Teredo, NAT64 and documentation prefixes. The host policy can allow
 * a range for the hosts matching a pattern with
 * wasmplug_http_policy_allow_address (tests reaching 127.0.0.1 do this).
 * A name resolving to both allowed and refused addresses is refused.
 *
 * Transfers
 * ---------
 * http and https only, also for redirects (followed by the service, never
 * by libcurl, at most max_redirects). TLS certificates and host names are
 * always verified; the operator may add a CA bundle. No proxy is taken
 * from the environment (only wasmplug_http_policy_set_proxy sets one).
 * Through a proxy the name is still resolved and checked here, and every
 * request (http too) tunnels with CONNECT to the checked address (the
 * first IPv4 one, else the first), so the proxy never resolves the name;
 * TLS is verified against the name inside the tunnel. Name resolution runs
 * in a thread of its own: a resolver that does not answer never holds a
 * request past its timeout, deadline or interrupt (the lookup finishes on
 * its own later). No
 * cookie is stored unless the policy enables per-plugin cookies, and then
 * they live in memory for one plugin only. Connections are kept alive per
 * plugin (never shared between plugins).
 *
 * Threads: a policy is configured first, then used read-only by any number
 * of clients on any threads. A client may run requests on several threads
 * at once (up to the limit max_concurrent).
 */
#ifndef WASMPLUG_HTTP_H
#define WASMPLUG_HTTP_H

#include <wasmplug.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Result codes                                                             */
/* ------------------------------------------------------------------------ */

/* X(name, value, message): the result of a request. Plugins see the value
 * negated as the return of wasmplug.http_request (docs/ABI.md); values
 * never change meaning. */
#define WASMPLUG_HTTP_CODE_LIST(X)                                                    \
    X(OK, 0, "ok")                                                                    \
    X(NOT_GRANTED, 1, "the plugin has no HTTP grant")                                 \
    X(BAD_REQUEST, 2, "malformed request")                                            \
    X(FORBIDDEN_HEADER, 3, "header the plugin may not set")                           \
    X(URL_NOT_ALLOWED, 4, "URL not allowed for this plugin")                          \
    X(REDIRECT_NOT_ALLOWED, 5, "redirect to a URL not allowed for this plugin")       \
    X(TOO_MANY_REDIRECTS, 6, "too many redirects")                                    \
    X(ADDRESS_NOT_ALLOWED, 7, "host resolves to an address not allowed")              \
    X(REQUEST_TOO_LARGE, 8, "request body too large")                                 \
    X(RESPONSE_TOO_LARGE, 9, "response too large")                                    \
    X(TOO_MANY_REQUESTS, 10, "too many concurrent requests")                          \
    X(TIMEOUT, 11, "request timed out")                                               \
    X(CANCELLED, 12, "request cancelled")                                             \
    X(DNS, 13, "host name could not be resolved")                                     \
    X(CONNECT, 14, "could not connect")                                               \
    X(TLS, 15, "TLS handshake or certificate verification failed")                    \
    X(NETWORK, 16, "transfer failed")                                                 \
    X(NOMEM, 17, "out of memory")

typedef enum wasmplug_http_code {
#define WASMPLUG_X_ENUM(name, value, msg) WASMPLUG_HTTP_##name = value,
    WASMPLUG_HTTP_CODE_LIST(WASMPLUG_X_ENUM)
#undef WASMPLUG_X_ENUM
    WASMPLUG_HTTP_CODE_COUNT
} wasmplug_http_code;

/** A static description ("response too large"). Never NULL. */
WASMPLUG_API const char *wasmplug_http_strerror(wasmplug_http_code code);
/** The code's name without prefix ("RESPONSE_TOO_LARGE"). Never NULL. */
WASMPLUG_API const char *wasmplug_http_code_name(wasmplug_http_code code);
/** Whether the code is a refusal by policy (not granted, URL, redirect,
 *  address, forbidden header): such requests never reach the network for
 *  the refused hop and are recorded as denials. */
WASMPLUG_API bool wasmplug_http_code_is_denial(wasmplug_http_code code);

/** A failed request: the code, a specific message and the URL involved
 *  (the redirect target for a refused redirect). Caller-allocated. */
typedef struct wasmplug_http_error {
    wasmplug_http_code code;
    char message[WASMPLUG_ERROR_MESSAGE_MAX];
    char url[512]; /* truncated if longer */
} wasmplug_http_error;

/* ------------------------------------------------------------------------ */
/* Host policy                                                              */
/* ------------------------------------------------------------------------ */

/** Limits of every plugin's requests (0 fields take the defaults listed). */
typedef struct wasmplug_http_limits {
    uint64_t max_request_bytes;  /* request body; default 1 MiB */
    uint64_t max_response_bytes; /* response headers + body; default 8 MiB */
    uint32_t max_concurrent;     /* requests in flight per plugin; default 4 */
    uint32_t timeout_ms;         /* per request (all hops); default 30000; never
                                    past the calling plugin call's deadline */
    uint32_t max_redirects;      /* default 5 */
} wasmplug_http_limits;

typedef struct wasmplug_http_policy wasmplug_http_policy;

/** A policy with no rules (nothing allowed). limits may be NULL. */
WASMPLUG_API wasmplug_status wasmplug_http_policy_new(const wasmplug_http_limits *limits,
                                                      wasmplug_http_policy **out);
/** Free a policy (after every client made from it). NULL is fine. */
WASMPLUG_API void wasmplug_http_policy_free(wasmplug_http_policy *pol);
/** The effective limits (defaults filled in). */
WASMPLUG_API void wasmplug_http_policy_limits(const wasmplug_http_policy *pol,
                                              wasmplug_http_limits *out);

/**
 * Allow plugins whose name (or manifest id) matches plugin_pattern ('*'
 * wildcards) to reach URLs matching rule (syntax above). ERR_ARGUMENT for
 * a malformed rule, with the reason in msg (may be NULL).
 */
WASMPLUG_API wasmplug_status wasmplug_http_policy_allow(wasmplug_http_policy *pol,
                                                        const char *plugin_pattern,
                                                        const char *rule, char *msg,
                                                        size_t msgsize);
/**
 * Let hosts whose name matches host_pattern ("localhost", "*.internal",
 * "127.0.0.1", "*") resolve to addresses in cidr ("127.0.0.0/8", "::1/128",
 * "10.0.0.0/8") although the range is special. ERR_ARGUMENT for a bad CIDR.
 */
WASMPLUG_API wasmplug_status wasmplug_http_policy_allow_address(wasmplug_http_policy *pol,
                                                                const char *host_pattern,
                                                                const char *cidr, char *msg,
                                                                size_t msgsize);
/** A PEM CA bundle trusted in addition to the system's CA directory. */
WASMPLUG_API wasmplug_status wasmplug_http_policy_set_ca_file(wasmplug_http_policy *pol,
                                                              const char *path);
/** A proxy for every request ("http://proxy:3128"); NULL or "" = none.
 *  Requests tunnel through it (CONNECT) to the address the policy checked:
 *  the proxy must allow CONNECT to port 80 as well as 443. */
WASMPLUG_API wasmplug_status wasmplug_http_policy_set_proxy(wasmplug_http_policy *pol,
                                                            const char *proxy);
/** Keep cookies between one plugin's requests (in memory, per plugin). Off
 *  by default: no cookie is ever stored. */
WASMPLUG_API void wasmplug_http_policy_set_cookies(wasmplug_http_policy *pol, bool keep);

/**
 * Check a rule's syntax without adding it: WASMPLUG_OK, or ERR_ARGUMENT
 * with the reason in msg ("'ftp://x': scheme must be http or https").
 * Manifest parsers use it for the plugin's entries.
 */
WASMPLUG_API wasmplug_status wasmplug_http_rule_check(const char *rule, char *msg,
                                                      size_t msgsize);

/* ------------------------------------------------------------------------ */
/* Clients: one plugin's HTTP access                                        */
/* ------------------------------------------------------------------------ */

typedef struct wasmplug_http_client wasmplug_http_client;

/** Called for every refused request (a denial): the URL refused, the code
 *  and the message. Runs on the requesting thread, no lock held. */
typedef void (*wasmplug_http_denial_fn)(void *user, const char *url, wasmplug_http_code code,
                                        const char *message);

/**
 * A client for the plugin called plugin_name (manifest id plugin_id, may be
 * NULL or ""), requesting the given entries (the manifest's http list;
 * copied). pol must outlive the client. ERR_ARGUMENT for a malformed entry
 * (reason in msg). A client with no entries, or none the policy can match,
 * refuses every request with WASMPLUG_HTTP_NOT_GRANTED.
 */
WASMPLUG_API wasmplug_status wasmplug_http_client_new(const wasmplug_http_policy *pol,
                                                      const char *plugin_name,
                                                      const char *plugin_id,
                                                      const char *const *entries,
                                                      size_t entry_count,
                                                      wasmplug_http_client **out, char *msg,
                                                      size_t msgsize);
/** Free a client (no request may be running). NULL is fine. */
WASMPLUG_API void wasmplug_http_client_free(wasmplug_http_client *client);
/** Receive refusals (see wasmplug_http_denial_fn). */
WASMPLUG_API void wasmplug_http_client_on_denial(wasmplug_http_client *client,
                                                 wasmplug_http_denial_fn fn, void *user);
/** Whether some requested entry has a policy rule for this plugin (the
 *  import is granted). Requests may still be refused URL by URL. */
WASMPLUG_API bool wasmplug_http_client_granted(const wasmplug_http_client *client);

/**
 * The client's grants, one line each: "GET https://api.example.com
 * (policy: *.example.com)" for every requested entry that at least one
 * policy rule overlaps, in one block freed with wasmplug_free.
 */
WASMPLUG_API wasmplug_status wasmplug_http_client_grants(const wasmplug_http_client *client,
                                                         char ***lines, size_t *count);

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/** A request. Header names and values are NUL-terminated; the body is
 *  binary (body_len bytes). Nothing is kept after the call. */
typedef struct wasmplug_http_request {
    const char *method; /* NULL = "GET" */
    const char *url;
    const wasmplug_kv *headers;
    size_t header_count;
    const uint8_t *body;
    size_t body_len;
} wasmplug_http_request;

/** A response: owned by the caller, freed with wasmplug_http_response_free. */
typedef struct wasmplug_http_response {
    int status;            /* 100..599 */
    wasmplug_kv *headers;  /* the final response's header fields, in order (one
                              block with their strings) */
    size_t header_count;
    uint8_t *body;         /* NUL-terminated for convenience; may be NULL if empty */
    size_t body_len;
    char *url;             /* the URL of the final response (after redirects) */
    uint32_t redirects;    /* redirects followed */
} wasmplug_http_response;

WASMPLUG_API void wasmplug_http_response_free(wasmplug_http_response *resp);

/**
 * How the caller bounds one request: the transfer stops at deadline_ns
 * (CLOCK_MONOTONIC nanoseconds, 0 = none; the policy's timeout applies
 * too) and whenever interrupted returns non-zero (WASMPLUG_HTTP_TIMEOUT or
 * WASMPLUG_HTTP_CANCELLED, the code the request then fails with). It is
 * polled at least every 10 ms while the request runs, so a cancelled
 * plugin call stops its transfer at once.
 */
typedef struct wasmplug_http_control {
    uint64_t deadline_ns;
    wasmplug_http_code (*interrupted)(void *user);
    void *user;
} wasmplug_http_control;

/**
 * Run one request (following allowed redirects). ctl may be NULL. On
 * WASMPLUG_HTTP_OK *resp is filled (any HTTP status, 4xx and 5xx included);
 * otherwise *resp is empty and err (may be NULL) says why. Forbidden
 * request headers: Host, Content-Length, Transfer-Encoding, Connection,
 * Keep-Alive, Upgrade, TE, Trailer, Expect and Proxy-*; also any name that
 * is not an HTTP token and any value with CR, LF or NUL.
 */
WASMPLUG_API wasmplug_http_code wasmplug_http_perform(wasmplug_http_client *client,
                                                      const wasmplug_http_request *req,
                                                      const wasmplug_http_control *ctl,
                                                      wasmplug_http_response *resp,
                                                      wasmplug_http_error *err);

/** Per-plugin counters since the client was made. */
typedef struct wasmplug_http_metrics {
    uint64_t requests;        /* requests asked for (refused ones included) */
    uint64_t refused;         /* refused by policy (denials) */
    uint64_t failed;          /* failed otherwise (limits, network, timeout) */
    uint64_t status[6];       /* responses by class: status[2] = 2xx ... status[5] = 5xx */
    uint64_t bytes_sent;      /* request bodies sent */
    uint64_t bytes_received;  /* response headers + bodies received */
    uint64_t total_ns;        /* latency of every request, summed */
    uint64_t max_ns;          /* slowest request */
    uint32_t in_flight;       /* requests running now */
} wasmplug_http_metrics;

WASMPLUG_API void wasmplug_http_client_metrics(wasmplug_http_client *client,
                                               wasmplug_http_metrics *out);

/* ------------------------------------------------------------------------ */
/* The service: wasmplug.http_request for a host's plugins                 */
/* ------------------------------------------------------------------------ */

/** A manifest entry E (permissions: http: [E]) is the permission "http:E". */
#define WASMPLUG_HTTP_GRANT_PREFIX "http:"
/** The service's name among the host's services. */
#define WASMPLUG_HTTP_SERVICE "http"

/**
 * Attach outbound HTTP to host (before its first plugin is loaded): the
 * import wasmplug.http_request (docs/ABI.md), which needs the grant
 * "http:*", i.e. some permission "http:<entry>" that the plugin requests
 * and the host policy allows (wasmplug_host_grant(host, "*",
 * "http:*.example.org")). The plugin's granted entries are its
 * allowlist; rules added to pol with wasmplug_http_policy_allow restrict
 * it further (with none, the grants alone decide). pol also gives the
 * limits, address exceptions, CA bundle, proxy and cookies; it is
 * borrowed and must outlive the host. *id (may be NULL) gets the service id.
 *
 * Each plugin gets its own client (connections, cookies, metrics) at its
 * first request. A refused request returns its code to the plugin and is
 * recorded as a denial (wasmplug_hostcall_deny: the plugin's error history
 * with the URL and the reason). A request stopped because the plugin's
 * call timed out or was cancelled fails the call with ERR_TIMEOUT or
 * ERR_CANCELLED at once.
 */
WASMPLUG_API wasmplug_status wasmplug_http_attach(wasmplug_host *host,
                                                  const wasmplug_http_policy *pol,
                                                  unsigned *id);
/** The HTTP metrics of a plugin of host (all zero before its first
 *  request). ERR_NOT_FOUND if the service is not attached. */
WASMPLUG_API wasmplug_status wasmplug_http_plugin_metrics(wasmplug_host *host,
                                                          wasmplug_plugin *plugin,
                                                          wasmplug_http_metrics *out);
/** The plugin's granted HTTP entries (its allowlist: the "http:<entry>"
 *  permissions it requested that the host policy allows), without the
 *  prefix, in one block freed with wasmplug_free. Needs no attached service. */
WASMPLUG_API wasmplug_status wasmplug_http_plugin_grants(wasmplug_plugin *plugin, char ***lines,
                                                         size_t *count);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_HTTP_H */
