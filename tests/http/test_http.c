/*
 * test_http.c - the HTTP service (include/wasmplug/http.h) against real
 * servers started here on 127.0.0.1 (tests/http/server.py, plain and TLS
 * with a CA made by openssl for this run): rule syntax, address ranges,
 * allowed requests with binary bodies, and every refusal with its specific
 * code, checking that the refused server was never reached; a proxy; and a
 * resolver that never answers.
 */
#include "wasmplug/http.h"
#include "http_internal.h" /* address ranges */
#include "http_test.h"
#include "test.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

static test_server plain, other, tls;
static char certs[256];

static uint64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A control whose call deadline is ms milliseconds from now. */
static wasmplug_http_control deadline_in(unsigned ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    wasmplug_http_control ctl = {
        (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + ms * 1000000ull, NULL, NULL};
    return ctl;
}

/* A client for plugin "p" whose manifest entries and policy rules are the
 * same list, with loopback allowed for the hosts in loopback_hosts. */
static wasmplug_http_policy *make_policy(const wasmplug_http_limits *lim,
                                         const char *const *rules, size_t n,
                                         const char *loopback_host)
{
    wasmplug_http_policy *pol;
    CHECK_STATUS(wasmplug_http_policy_new(lim, &pol), WASMPLUG_OK);
    for (size_t i = 0; i < n; i++) {
        char msg[256] = "";
        CHECK_STATUS(wasmplug_http_policy_allow(pol, "p*", rules[i], msg, sizeof msg),
                     WASMPLUG_OK);
    }
    if (loopback_host) {
        CHECK_STATUS(wasmplug_http_policy_allow_address(pol, loopback_host, "127.0.0.0/8",
                                                        NULL, 0),
                     WASMPLUG_OK);
        CHECK_STATUS(wasmplug_http_policy_allow_address(pol, loopback_host, "::1", NULL, 0),
                     WASMPLUG_OK);
    }
    return pol;
}

static wasmplug_http_client *make_client(wasmplug_http_policy *pol, const char *const *entries,
                                         size_t n)
{
    wasmplug_http_client *c = NULL;
    char msg[256] = "";
    CHECK_STATUS(wasmplug_http_client_new(pol, "p1", NULL, entries, n, &c, msg, sizeof msg),
                 WASMPLUG_OK);
    return c;
}

/* A policy and a client that both allow exactly the rule fmt % port (and
 * loopback for 127.0.0.1): the usual setup of one test. */
static wasmplug_http_client *plain_client(const char *fmt, int port,
                                          const wasmplug_http_limits *lim,
                                          wasmplug_http_policy **pol)
{
    char rule[160];
    snprintf(rule, sizeof rule, fmt, port);
    const char *rules[] = {rule};
    *pol = make_policy(lim, rules, 1, "127.0.0.1");
    return make_client(*pol, rules, 1);
}

static void client_done(wasmplug_http_client *c, wasmplug_http_policy *pol)
{
    wasmplug_http_client_free(c);
    wasmplug_http_policy_free(pol);
}

/* GET path from the server on port (an unrestricted client), the body as
 * text in out ("" on failure). */
static void server_text(int port, const char *path, char *out, size_t cap)
{
    const char *all[] = {"http://127.0.0.1:*"};
    wasmplug_http_policy *pol = make_policy(NULL, all, 1, "127.0.0.1");
    wasmplug_http_client *c = make_client(pol, all, 1);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    wasmplug_http_response resp;
    out[0] = '\0';
    if (wasmplug_http_perform(c, &req, NULL, &resp, NULL) == WASMPLUG_HTTP_OK) {
        snprintf(out, cap, "%.*s", (int)resp.body_len, (const char *)resp.body);
        wasmplug_http_response_free(&resp);
    }
    client_done(c, pol);
}

/* How many requests the server on port saw. */
static int server_count(int port)
{
    char n[32];
    server_text(port, "/count", n, sizeof n);
    return n[0] ? atoi(n) : -1;
}

#define CHECK_CODE(expr, want)                                                         \
    do {                                                                               \
        wasmplug_http_code got_ = (expr);                                              \
        if (!test_check(got_ == (want), __FILE__, __LINE__, #expr " == " #want))       \
            printf("     got %s: %s\n", wasmplug_http_code_name(got_), err.message);   \
    } while (0)

static void test_rules(void)
{
    char msg[256];
    const char *good[] = {"api.example.com", "*.example.org", "https://host:8443/path/*",
                          "GET,POST https://api.example.com/v1/*", "http://[::1]:8080",
                          "*", "http://127.0.0.1:*/echo"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_STATUS(wasmplug_http_rule_check(good[i], msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_http_rule_check("ftp://example.com", msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "scheme must be http or https");
    CHECK_STATUS(wasmplug_http_rule_check("FETCH example.com", msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "unknown method 'FETCH'");
    CHECK_STATUS(wasmplug_http_rule_check("http://example.com:99999", msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "port must be 1..65535");
    CHECK_STATUS(wasmplug_http_rule_check("api.*.com", msg, sizeof msg), WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(msg, "host must be a name");
    CHECK_STATUS(wasmplug_http_rule_check("example.com/a?b", msg, sizeof msg),
                 WASMPLUG_ERR_ARGUMENT);
    CHECK_STATUS(wasmplug_http_rule_check("http://[::1", msg, sizeof msg), WASMPLUG_ERR_ARGUMENT);
    CHECK_EQ(wasmplug_http_code_is_denial(WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED), 1);
    CHECK_EQ(wasmplug_http_code_is_denial(WASMPLUG_HTTP_TIMEOUT), 0);
    CHECK(strcmp(wasmplug_http_code_name(WASMPLUG_HTTP_RESPONSE_TOO_LARGE),
                 "RESPONSE_TOO_LARGE") == 0);
}

/* The range name of a literal address, or "" for ordinary public ones. */
static const char *range_of(const char *text)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, text, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    const char *why = wsh_addr_special((struct sockaddr *)&ss);
    return why ? why : "";
}

static void test_addresses(void)
{
    const struct {
        const char *addr, *range;
    } cases[] = {
        {"127.0.0.1", "loopback"},        {"127.255.1.2", "loopback"},
        {"10.1.2.3", "private"},          {"172.31.255.255", "private"},
        {"192.168.1.1", "private"},       {"100.64.0.1", "carrier-grade NAT"},
        {"169.254.169.254", "metadata"},  {"169.254.3.4", "link-local"},
        {"224.0.0.1", "multicast"},       {"0.0.0.0", "unspecified"},
        {"255.255.255.255", "broadcast"}, {"192.0.2.7", "documentation"},
        {"198.18.0.1", "benchmarking"},   {"240.0.0.1", "reserved"},
        {"::1", "loopback"},              {"::", "unspecified"},
        {"::ffff:127.0.0.1", "IPv4-mapped"}, {"::127.0.0.1", "IPv4-compatible"},
        {"fc00::1", "unique local"},      {"fd12:3456::1", "unique local"},
        {"fe80::1", "link-local"},        {"ff02::1", "multicast"},
        {"2001:db8::1", "documentation"}, {"64:ff9b::7f00:1", "NAT64"},
        {"2002:7f00:1::", "6to4"},        {"4000::1", "outside global unicast"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!CHECK(strstr(range_of(cases[i].addr), cases[i].range) != NULL))
            printf("     %s: got '%s', expected '%s'\n", cases[i].addr,
                   range_of(cases[i].addr), cases[i].range);
    CHECK(strcmp(range_of("93.184.216.34"), "") == 0);
    CHECK(strcmp(range_of("172.32.0.1"), "") == 0);
    CHECK(strcmp(range_of("2606:4700::1111"), "") == 0);
    wsh_cidr r;
    CHECK(wsh_cidr_parse("10.0.0.0/8", &r) && r.prefix == 8);
    CHECK(!wsh_cidr_parse("10.0.0.0/33", &r));
    CHECK(!wsh_cidr_parse("::1/129", &r));
    CHECK(!wsh_cidr_parse("localhost", &r));
}

static bool collect(void *user, const void *data, size_t len)
{
    char *buf = user;
    size_t used = strlen(buf);
    if (used + len >= 512)
        return false;
    memcpy(buf + used, data, len);
    buf[used + len] = '\0';
    return true;
}

static void test_wire(void)
{
    char msg[256];
    wsh_wire_request w;
    const char good[] = "POST http://h/x\nX-A: 1\r\nX-B:two words\n\n\0body\n";
    CHECK_EQ(wsh_wire_parse((const uint8_t *)good, sizeof good - 1, &w, msg, sizeof msg),
             WASMPLUG_HTTP_OK);
    CHECK(strcmp(w.req.method, "POST") == 0 && strcmp(w.req.url, "http://h/x") == 0);
    CHECK_EQ(w.req.header_count, 2);
    CHECK(strcmp(w.req.headers[1].key, "X-B") == 0 && strcmp(w.req.headers[1].value, "two words") == 0);
    CHECK_EQ(w.req.body_len, 6);
    CHECK(memcmp(w.req.body, "\0body\n", 6) == 0);
    wsh_wire_free(&w);
    const char *bad[] = {"GET http://h/x\n", "GEThttp://h\n\n", "GET http://h\nNoColon\n\n",
                         "\n\n", "GET a b\n\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(wsh_wire_parse((const uint8_t *)bad[i], strlen(bad[i]), &w, msg, sizeof msg),
                 WASMPLUG_HTTP_BAD_REQUEST);
    wasmplug_kv h[] = {{"Content-Type", "text/plain"}};
    wasmplug_http_response r = {201, h, 1, (uint8_t *)"ok", 2, NULL, 0};
    char out[512] = "";
    CHECK(wsh_wire_response(&r, collect, out));
    CHECK(strcmp(out, "201\nContent-Type: text/plain\n\nok") == 0);
}

static void test_not_granted(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", plain.port);
    const char *rule[] = {url};
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    int before = server_count(plain.port);

    /* The manifest asks for nothing: no network at all. */
    wasmplug_http_policy *pol = make_policy(NULL, rule, 1, "127.0.0.1");
    wasmplug_http_client *c = make_client(pol, NULL, 0);
    CHECK_EQ(wasmplug_http_client_granted(c), 0);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_NOT_GRANTED);
    CHECK_CONTAINS(err.message, "requests no http access");
    client_done(c, pol);

    /* The manifest asks, the policy allows nothing. */
    pol = make_policy(NULL, NULL, 0, NULL);
    c = make_client(pol, rule, 1);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_NOT_GRANTED);
    CHECK_CONTAINS(err.message, "the host policy allows it no http access");
    client_done(c, pol);
    /* +1: server_count's own request */
    CHECK_EQ(server_count(plain.port), before + 1);
}

static void test_get_post_binary(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo?x=1", plain.port);
    wasmplug_http_policy *pol;
    wasmplug_http_client *c = plain_client("GET,HEAD,POST,PUT http://127.0.0.1:%d/echo", plain.port, NULL, &pol);
    CHECK_EQ(wasmplug_http_client_granted(c), 1);

    uint8_t body[1000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7); /* NULs, CR, LF, high bytes */
    wasmplug_kv hdrs[] = {{"X-Test", "yes"}, {"Authorization", "Bearer t0k"}, {"X-Empty", ""}};
    wasmplug_http_request req = {"POST", url, hdrs, 3, body, sizeof body};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.status, 200);
    CHECK_EQ(resp.body_len, sizeof body);
    CHECK(resp.body && memcmp(resp.body, body, sizeof body) == 0);
    const char *method = NULL, *seen = NULL;
    for (size_t i = 0; i < resp.header_count; i++) {
        if (strcasecmp(resp.headers[i].key, "X-Method") == 0)
            method = resp.headers[i].value;
        if (strcasecmp(resp.headers[i].key, "X-Headers") == 0)
            seen = resp.headers[i].value;
    }
    CHECK(method && strcmp(method, "POST") == 0);
    CHECK_CONTAINS(seen, "\"x-test\": \"yes\"");
    CHECK_CONTAINS(seen, "\"x-empty\": \"\"");
    CHECK(seen && !strstr(seen, "expect"));
    CHECK_EQ(resp.redirects, 0);
    wasmplug_http_response_free(&resp);

    req.method = "GET";
    req.body = NULL;
    req.body_len = 0;
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.status, 200);
    CHECK_EQ(resp.body_len, 0);
    wasmplug_http_response_free(&resp);

    /* HEAD then GET on the same handle: no body, then the method is reset. */
    req.method = "HEAD";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.status, 200);
    CHECK_EQ(resp.body_len, 0);
    wasmplug_http_response_free(&resp);
    req.method = "PUT";
    req.body = body;
    req.body_len = 10;
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.body_len, 10);
    CHECK(wasmplug_http_code_is_denial(WASMPLUG_HTTP_OK) == 0);
    method = NULL;
    for (size_t i = 0; i < resp.header_count; i++)
        if (strcasecmp(resp.headers[i].key, "X-Method") == 0)
            method = resp.headers[i].value;
    CHECK(method && strcmp(method, "PUT") == 0);
    wasmplug_http_response_free(&resp);
    req.body = NULL;
    req.body_len = 0;
    req.method = "GET";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.body_len, 0);
    for (size_t i = 0; i < resp.header_count; i++)
        if (strcasecmp(resp.headers[i].key, "X-Method") == 0)
            CHECK(strcmp(resp.headers[i].value, "GET") == 0);
    wasmplug_http_response_free(&resp);

    /* DELETE is not in the rule's methods. */
    req.method = "DELETE";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_URL_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "DELETE");
    req.method = "BREW";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_BAD_REQUEST);

    wasmplug_http_metrics m;
    wasmplug_http_client_metrics(c, &m);
    CHECK_EQ(m.requests, 7);
    CHECK_EQ(m.status[2], 5);
    CHECK_EQ(m.refused, 1);
    CHECK_EQ(m.failed, 1);
    CHECK(m.bytes_sent >= sizeof body);
    CHECK(m.bytes_received >= sizeof body);
    CHECK(m.total_ns > 0 && m.max_ns > 0);
    client_done(c, pol);
}

typedef struct denial_log {
    int count;
    char url[256];
    wasmplug_http_code code;
} denial_log;

static void on_denial(void *user, const char *url, wasmplug_http_code code, const char *msg)
{
    denial_log *d = user;
    (void)msg;
    d->count++;
    snprintf(d->url, sizeof d->url, "%s", url);
    d->code = code;
}

static void test_refusals(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char a_echo[128], b_any[128], url[512];
    snprintf(a_echo, sizeof a_echo, "http://127.0.0.1:%d/*", plain.port);
    snprintf(b_any, sizeof b_any, "http://localhost:%d/*", plain.port);
    const char *rules[] = {a_echo, b_any};
    wasmplug_http_policy *pol = make_policy(NULL, rules, 2, "127.0.0.1");
    wasmplug_http_client *c = make_client(pol, rules, 2);
    denial_log log = {0};
    wasmplug_http_client_on_denial(c, on_denial, &log);
    int other_before = server_count(other.port);

    /* A URL off the list (the other server's port). */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", other.port);
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_URL_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "none of the plugin's requested http entries");
    CHECK_EQ(log.count, 1);
    CHECK(strcmp(log.url, url) == 0);
    CHECK_EQ(log.code, WASMPLUG_HTTP_URL_NOT_ALLOWED);

    /* Schemes other than http and https. */
    req.url = "file:///etc/passwd";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_URL_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "scheme 'file'");
    req.url = "not a url";
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_BAD_REQUEST);

    /* A redirect to a host not on the list. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?to=http://127.0.0.1:%d/echo",
             plain.port, other.port);
    req.url = url;
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_REDIRECT_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "redirect to GET");
    CHECK(strstr(err.url, "/echo") != NULL);

    /* A name resolving to loopback, which only 127.0.0.1 may use. */
    snprintf(url, sizeof url, "http://localhost:%d/echo", plain.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "loopback");
    CHECK_CONTAINS(err.message, "'localhost'");
    client_done(c, pol);

    /* A redirect to 127.0.0.1 when loopback is allowed for "localhost" only. */
    snprintf(a_echo, sizeof a_echo, "http://localhost:%d/*", plain.port);
    snprintf(b_any, sizeof b_any, "http://127.0.0.1:%d/*", other.port);
    pol = make_policy(NULL, rules, 2, "localhost");
    c = make_client(pol, rules, 2);
    snprintf(url, sizeof url, "http://localhost:%d/redirect?to=http://127.0.0.1:%d/echo",
             plain.port, other.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED);
    CHECK_CONTAINS(err.message, "127.0.0.1");
    CHECK_CONTAINS(err.message, "loopback");
    /* ...while the first hop itself was allowed: */
    snprintf(url, sizeof url, "http://localhost:%d/echo", plain.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    wasmplug_http_response_free(&resp);

    /* Forbidden headers: refused before anything is sent. */
    const char *forbidden[] = {"Host", "content-length", "Transfer-Encoding", "Connection",
                               "Proxy-Authorization", "Expect"};
    for (size_t i = 0; i < sizeof forbidden / sizeof forbidden[0]; i++) {
        wasmplug_kv h = {forbidden[i], "x"};
        wasmplug_http_request hr = {NULL, url, &h, 1, NULL, 0};
        CHECK_CODE(wasmplug_http_perform(c, &hr, NULL, &resp, &err),
                   WASMPLUG_HTTP_FORBIDDEN_HEADER);
        CHECK(strstr(err.message, forbidden[i]) != NULL);
    }
    wasmplug_kv bad = {"X-Evil", "a\r\nHost: evil"};
    wasmplug_http_request br = {NULL, url, &bad, 1, NULL, 0};
    CHECK_CODE(wasmplug_http_perform(c, &br, NULL, &resp, &err), WASMPLUG_HTTP_BAD_REQUEST);
    CHECK_CONTAINS(err.message, "CR or LF");
    wasmplug_kv badname = {"X Evil", "a"};
    br.headers = &badname;
    CHECK_CODE(wasmplug_http_perform(c, &br, NULL, &resp, &err), WASMPLUG_HTTP_BAD_REQUEST);
    client_done(c, pol);

    /* The other server saw only server_count's requests. */
    CHECK_EQ(server_count(other.port), other_before + 1);
}

static void test_redirects(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[512];
    wasmplug_http_limits lim = {0};
    lim.max_redirects = 3;
    wasmplug_http_policy *pol;
    wasmplug_http_client *c = plain_client("http://127.0.0.1:%d", plain.port, &lim, &pol);

    /* POST then 303: the next hop is a GET without a body. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?code=303&to=/echo", plain.port);
    wasmplug_http_request req = {"POST", url, NULL, 0, (const uint8_t *)"abc", 3};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.status, 200);
    CHECK_EQ(resp.redirects, 1);
    CHECK(resp.url && strstr(resp.url, "/echo") != NULL);
    CHECK_EQ(resp.body_len, 0);
    wasmplug_http_response_free(&resp);

    /* 307 keeps the method and the body; the same URL again (its parse
     * cached by the connection, which the redirect moved on) is redirected
     * again, and so is it after a request to another URL. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect?code=307&to=/echo", plain.port);
    for (int i = 0; i < 3; i++) {
        CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
        CHECK_EQ(resp.body_len, 3);
        CHECK_EQ(resp.redirects, 1);
        CHECK(resp.url && strstr(resp.url, "/echo") != NULL);
        wasmplug_http_response_free(&resp);
        if (i == 1) {
            char other_url[128];
            snprintf(other_url, sizeof other_url, "http://127.0.0.1:%d/count", plain.port);
            wasmplug_http_request count = {NULL, other_url, NULL, 0, NULL, 0};
            CHECK_CODE(wasmplug_http_perform(c, &count, NULL, &resp, &err), WASMPLUG_HTTP_OK);
            CHECK_EQ(resp.redirects, 0);
            wasmplug_http_response_free(&resp);
        }
    }

    snprintf(url, sizeof url, "http://127.0.0.1:%d/loop", plain.port);
    req.method = "GET";
    req.body_len = 0;
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_TOO_MANY_REDIRECTS);
    CHECK_CONTAINS(err.message, "more than 3 redirects");
    client_done(c, pol);
}

static void test_limits(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[256];
    wasmplug_http_limits lim = {0};
    lim.max_response_bytes = 100000;
    lim.max_request_bytes = 1000;
    wasmplug_http_policy *pol;
    wasmplug_http_client *c = plain_client("http://127.0.0.1:%d", plain.port, &lim, &pol);

    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes?n=50000", plain.port);
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.body_len, 50000);
    CHECK_EQ(resp.body[250], 250 % 251);
    wasmplug_http_response_free(&resp);

    /* Larger than the limit, with and without Content-Length. */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes?n=300000", plain.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_RESPONSE_TOO_LARGE);
    CHECK_CONTAINS(err.message, "limit of 100000 bytes");
    CHECK(resp.body == NULL && resp.body_len == 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/bytes?n=300000&chunked=1", plain.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_RESPONSE_TOO_LARGE);

    static uint8_t big[2000];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", plain.port);
    wasmplug_http_request post = {"POST", url, NULL, 0, big, sizeof big};
    CHECK_CODE(wasmplug_http_perform(c, &post, NULL, &resp, &err),
               WASMPLUG_HTTP_REQUEST_TOO_LARGE);
    CHECK_CONTAINS(err.message, "2000 bytes exceeds the limit of 1000");

    client_done(c, pol);

    /* One byte a second against a policy's 1.5 s timeout (only here: the
     * requests above must not time out on a loaded machine)... */
    lim.timeout_ms = 1500;
    c = plain_client("http://127.0.0.1:%d", plain.port, &lim, &pol);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", plain.port);
    uint64_t t0 = ms_now();
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_TIMEOUT);
    uint64_t took = ms_now() - t0;
    CHECK(took >= 1400 && took < 6000); /* the server needs 20 s */
    CHECK_CONTAINS(err.message, "the HTTP request timeout");
    /* ...and against a call deadline shorter than that. */
    wasmplug_http_control ctl = deadline_in(400);
    t0 = ms_now();
    CHECK_CODE(wasmplug_http_perform(c, &req, &ctl, &resp, &err), WASMPLUG_HTTP_TIMEOUT);
    took = ms_now() - t0;
    CHECK(took >= 350 && took < 5000);
    CHECK_CONTAINS(err.message, "call's deadline");
    client_done(c, pol);
}

typedef struct cancel_arg {
    wasmplug_http_client *c;
    const char *url;
    atomic_int cancel;
    wasmplug_http_code code;
    uint64_t took_after_cancel;
    uint64_t cancelled_at;
} cancel_arg;

static wasmplug_http_code poll_cancel(void *user)
{
    cancel_arg *a = user;
    return atomic_load(&a->cancel) ? WASMPLUG_HTTP_CANCELLED : WASMPLUG_HTTP_OK;
}

static void *slow_request(void *p)
{
    cancel_arg *a = p;
    wasmplug_http_request req = {NULL, a->url, NULL, 0, NULL, 0};
    wasmplug_http_control ctl = {0, poll_cancel, a};
    wasmplug_http_response resp;
    a->code = wasmplug_http_perform(a->c, &req, &ctl, &resp, NULL);
    a->took_after_cancel = ms_now() - a->cancelled_at;
    wasmplug_http_response_free(&resp);
    return NULL;
}

static void test_cancel_and_concurrency(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", plain.port);
    wasmplug_http_limits lim = {0};
    lim.max_concurrent = 1;
    wasmplug_http_policy *pol;
    wasmplug_http_client *c = plain_client("http://127.0.0.1:%d", plain.port, &lim, &pol);
    cancel_arg a = {c, url, 0, WASMPLUG_HTTP_OK, 0, UINT64_MAX / 2};
    pthread_t th;
    pthread_create(&th, NULL, slow_request, &a);
    /* Wait until the slow request is in flight, then a second one is refused. */
    wasmplug_http_metrics m = {0};
    for (int i = 0; i < 6000 && m.in_flight == 0; i++) { /* up to 30 s */
        struct timespec d = {0, 5000000};
        nanosleep(&d, NULL);
        wasmplug_http_client_metrics(c, &m);
    }
    CHECK_EQ(m.in_flight, 1);
    struct timespec d = {0, 300000000};
    nanosleep(&d, NULL);
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_TOO_MANY_REQUESTS);
    CHECK_CONTAINS(err.message, "1 HTTP requests in flight");
    a.cancelled_at = ms_now();
    atomic_store(&a.cancel, 1);
    pthread_join(th, NULL);
    CHECK_EQ(a.code, WASMPLUG_HTTP_CANCELLED);
    CHECK(a.took_after_cancel < 10000); /* the transfer would take 20 s */
    client_done(c, pol);
}

static void test_tls(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char rule[128], url[256], ca[300];
    snprintf(rule, sizeof rule, "https://localhost:%d", tls.port);
    snprintf(url, sizeof url, "https://localhost:%d/echo", tls.port);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    const char *rules[] = {rule};
    wasmplug_http_request req = {"POST", url, NULL, 0, (const uint8_t *)"\0\1\2", 3};

    /* Verification is always on: the test CA is unknown to the system. */
    wasmplug_http_policy *pol = make_policy(NULL, rules, 1, "localhost");
    wasmplug_http_client *c = make_client(pol, rules, 1);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_TLS);
    wasmplug_http_client_free(c);

    /* The operator adds the CA bundle. */
    CHECK_STATUS(wasmplug_http_policy_set_ca_file(pol, ca), WASMPLUG_OK);
    c = make_client(pol, rules, 1);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    CHECK_EQ(resp.status, 200);
    CHECK(resp.body_len == 3 && memcmp(resp.body, "\0\1\2", 3) == 0);
    wasmplug_http_response_free(&resp);
    /* Plain http to the TLS-only rule is not on the list. */
    snprintf(url, sizeof url, "http://localhost:%d/echo", tls.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_URL_NOT_ALLOWED);
    client_done(c, pol);
}

/* The environment's proxy is ignored: requests still go straight to the server. */
static void test_no_env_proxy(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/echo", plain.port);
    setenv("http_proxy", "http://127.0.0.1:1", 1);
    setenv("HTTPS_PROXY", "http://127.0.0.1:1", 1);
    wasmplug_http_policy *pol;
    wasmplug_http_client *c = plain_client("http://127.0.0.1:%d", plain.port, NULL, &pol);
    wasmplug_http_request req = {NULL, url, NULL, 0, NULL, 0};
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
    wasmplug_http_response_free(&resp);
    unsetenv("http_proxy");
    unsetenv("HTTPS_PROXY");
    client_done(c, pol);
}

/* A proxy set by the operator: each request tunnels (CONNECT) to the
 * address the policy checked, never to the name (server.py, as a proxy,
 * refuses names), for http and https (verified against the name); a name
 * resolving to loopback without the exception is refused before the proxy
 * is asked. */
static void test_proxy(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    char url[256], proxy[64], ca[300], seen[1024], want[64];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", other.port);
    snprintf(ca, sizeof ca, "%s/ca.pem", certs);
    const char *rules[] = {"localhost:*"};
    wasmplug_http_policy *pol = make_policy(NULL, rules, 1, "localhost");
    CHECK_STATUS(wasmplug_http_policy_set_proxy(pol, proxy), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_http_policy_set_ca_file(pol, ca), WASMPLUG_OK);
    wasmplug_http_client *c = make_client(pol, rules, 1);
    wasmplug_http_request req = {"POST", url, NULL, 0, (const uint8_t *)"via", 3};
    int ports[] = {plain.port, tls.port};
    for (int i = 0; i < 2; i++) {
        snprintf(url, sizeof url, "%s://localhost:%d/echo", i ? "https" : "http", ports[i]);
        CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_OK);
        CHECK_EQ(resp.status, 200);
        CHECK(resp.body_len == 3 && memcmp(resp.body, "via", 3) == 0);
        wasmplug_http_response_free(&resp);
    }
    client_done(c, pol);
    server_text(other.port, "/connects", seen, sizeof seen);
    for (int i = 0; i < 2; i++) {
        snprintf(want, sizeof want, "\"127.0.0.1:%d\"", ports[i]);
        if (!CHECK(strstr(seen, want) != NULL))
            printf("     the proxy saw %s, not %s\n", seen, want);
    }
    CHECK(strstr(seen, "localhost") == NULL);

    pol = make_policy(NULL, rules, 1, NULL);
    CHECK_STATUS(wasmplug_http_policy_set_proxy(pol, proxy), WASMPLUG_OK);
    c = make_client(pol, rules, 1);
    snprintf(url, sizeof url, "http://localhost:%d/echo", plain.port);
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err),
               WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED);
    client_done(c, pol);
    char again[1024];
    server_text(other.port, "/connects", again, sizeof again);
    CHECK(strcmp(seen, again) == 0);
}

/* A resolver that never answers, for names ending in ".hang.test": this
 * program's getaddrinfo takes the place of libc's (its definition wins over
 * the shared library's; other names go on to libc's) and blocks, as
 * getaddrinfo does while a DNS server does not answer, until the test
 * releases it (or 60 s pass). */
static int (*libc_getaddrinfo)(const char *, const char *, const struct addrinfo *,
                               struct addrinfo **);
static atomic_int hang_release, hang_waiting;

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    size_t n = node ? strlen(node) : 0;
    if (n > 10 && strcmp(node + n - 10, ".hang.test") == 0) {
        atomic_fetch_add(&hang_waiting, 1);
        for (int i = 0; i < 6000 && !atomic_load(&hang_release); i++) {
            struct timespec d = {0, 10000000};
            nanosleep(&d, NULL);
        }
        atomic_fetch_sub(&hang_waiting, 1);
        return EAI_AGAIN;
    }
    return libc_getaddrinfo(node, service, hints, res);
}

static wasmplug_http_code cancel_at(void *user)
{
    return ms_now() >= *(const uint64_t *)user ? WASMPLUG_HTTP_CANCELLED : WASMPLUG_HTTP_OK;
}

/* Resolution is abandoned at once when the call is cancelled, its deadline
 * passes or the request times out, though the resolver never returns. */
static void test_dns_abandoned(void)
{
    wasmplug_http_error err;
    wasmplug_http_response resp;
    const char *rules[] = {"x.hang.test:*"};
    wasmplug_http_limits lim = {0};
    /* Far from the 100 ms cancel and deadline below, so a loaded machine
     * cannot turn either into the timeout; the resolver never returns, so
     * any bound under its 60 s shows the lookup was abandoned. */
    lim.timeout_ms = 1500;
    wasmplug_http_policy *pol = make_policy(&lim, rules, 1, NULL);
    wasmplug_http_client *c = make_client(pol, rules, 1);
    wasmplug_http_request req = {NULL, "http://x.hang.test/", NULL, 0, NULL, 0};

    uint64_t t0 = ms_now(), at = t0 + 100;
    wasmplug_http_control cancel = {0, cancel_at, &at};
    CHECK_CODE(wasmplug_http_perform(c, &req, &cancel, &resp, &err), WASMPLUG_HTTP_CANCELLED);
    CHECK_CONTAINS(err.message, "cancelled while resolving 'x.hang.test'");
    CHECK(ms_now() - t0 < 10000);

    t0 = ms_now();
    CHECK_CODE(wasmplug_http_perform(c, &req, NULL, &resp, &err), WASMPLUG_HTTP_TIMEOUT);
    CHECK_CONTAINS(err.message, "'x.hang.test' not resolved before the HTTP request timeout");
    CHECK(ms_now() - t0 < 10000);

    wasmplug_http_control deadline = deadline_in(100);
    t0 = ms_now();
    CHECK_CODE(wasmplug_http_perform(c, &req, &deadline, &resp, &err), WASMPLUG_HTTP_TIMEOUT);
    CHECK_CONTAINS(err.message, "not resolved before the plugin call's deadline");
    CHECK(ms_now() - t0 < 10000);
    client_done(c, pol);

    /* The abandoned lookups end on their own once the resolver returns.
     * Each reaches the resolver in its own thread, which a loaded machine
     * may start after the request gave up on it: wait for all three. */
    for (int i = 0; i < 3000 && atomic_load(&hang_waiting) < 3; i++) {
        struct timespec d = {0, 10000000};
        nanosleep(&d, NULL);
    }
    CHECK_EQ(atomic_load(&hang_waiting), 3);
    atomic_store(&hang_release, 1);
    for (int i = 0; i < 3000 && atomic_load(&hang_waiting); i++) {
        struct timespec d = {0, 10000000};
        nanosleep(&d, NULL);
    }
    CHECK_EQ(atomic_load(&hang_waiting), 0);
    struct timespec d = {0, 50000000}; /* the threads free their lookups */
    nanosleep(&d, NULL);
}

int main(void)
{
    *(void **)&libc_getaddrinfo = dlsym(RTLD_NEXT, "getaddrinfo");
    if (!libc_getaddrinfo) {
        printf("FAIL: libc's getaddrinfo not found\n");
        return 1;
    }
    snprintf(certs, sizeof certs, "/tmp/wasmplug-http-test-%d", (int)getpid());
    if (!test_make_certs(certs) || !test_server_start(&plain, NULL, NULL) ||
        !test_server_start(&other, NULL, NULL)) {
        printf("FAIL: could not start the test servers\n");
        return 1;
    }
    char cert[300], key[300];
    snprintf(cert, sizeof cert, "%s/server.pem", certs);
    snprintf(key, sizeof key, "%s/server.key", certs);
    if (!test_server_start(&tls, cert, key)) {
        printf("FAIL: could not start the TLS test server\n");
        return 1;
    }
    test_rules();
    test_addresses();
    test_wire();
    test_not_granted();
    test_get_post_binary();
    test_refusals();
    test_redirects();
    test_limits();
    test_cancel_and_concurrency();
    test_tls();
    test_no_env_proxy();
    test_proxy();
    test_dns_abandoned();
    test_server_stop(&plain);
    test_server_stop(&other);
    test_server_stop(&tls);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", certs);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", certs);
    return test_done();
}
