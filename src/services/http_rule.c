/*
 * http_rule.c - the HTTP allowlist's rule syntax ([METHODS ][SCHEME://]HOST
 * [:PORT][/PATH], wasmplug/http.h), matching a request against a rule, and
 * the result codes' names. No network code and no libcurl here, so the
 * manifest parser can check http entries in any build.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* Codes                                                                    */
/* ------------------------------------------------------------------------ */

static const struct {
    const char *name, *message;
} CODES[] = {
#define WSH_X_CODE(name, value, msg) [value] = {#name, msg},
    WASMPLUG_HTTP_CODE_LIST(WSH_X_CODE)
#undef WSH_X_CODE
};

const char *wasmplug_http_strerror(wasmplug_http_code code)
{
    if ((unsigned)code >= WASMPLUG_HTTP_CODE_COUNT)
        return "unknown HTTP result";
    return CODES[code].message;
}

const char *wasmplug_http_code_name(wasmplug_http_code code)
{
    if ((unsigned)code >= WASMPLUG_HTTP_CODE_COUNT)
        return "UNKNOWN";
    return CODES[code].name;
}

bool wasmplug_http_code_is_denial(wasmplug_http_code code)
{
    return code == WASMPLUG_HTTP_NOT_GRANTED || code == WASMPLUG_HTTP_FORBIDDEN_HEADER ||
           code == WASMPLUG_HTTP_URL_NOT_ALLOWED || code == WASMPLUG_HTTP_REDIRECT_NOT_ALLOWED ||
           code == WASMPLUG_HTTP_ADDRESS_NOT_ALLOWED;
}

unsigned wsh_method_bit(const char *name, size_t len)
{
    static const char *const names[] = {
#define WSH_X_NAME(m) #m,
        WSH_METHOD_LIST(WSH_X_NAME)
#undef WSH_X_NAME
    };
    for (unsigned i = 0; i < WSH_METHOD_COUNT; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Rules                                                                    */
/* ------------------------------------------------------------------------ */

bool wsh_fail_msg(char *msg, size_t size, const char *fmt, ...)
{
    if (msg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

char *wsh_dup_lower(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = (char)tolower((unsigned char)s[i]);
    d[n] = '\0';
    return d;
}

/* A DNS name or an IPv4 address: labels of letters, digits, '-' and '_'. */
static bool valid_name(const char *s, size_t n)
{
    if (n == 0 || n > 253 || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!(isalnum(ch) || ch == '-' || ch == '_' || ch == '.'))
            return false;
        if (ch == '.' && s[i + 1] == '.')
            return false;
    }
    return true;
}

static bool parse_methods(const char *s, size_t n, unsigned *bits, const char *text, char *msg,
                          size_t size)
{
    *bits = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        unsigned bit = wsh_method_bit(s + i, j - i);
        if (!bit)
            return wsh_fail_msg(msg, size,
                        "'%s': unknown method '%.*s' (GET, HEAD, POST, PUT, PATCH, DELETE or "
                        "OPTIONS, comma-separated)",
                        text, (int)(j - i), s + i);
        *bits |= bit;
        i = j + 1;
    }
    return true;
}

bool wsh_rule_parse(const char *text, wsh_rule *r, char *msg, size_t size)
{
    memset(r, 0, sizeof *r);
    r->port = WSH_PORT_DEFAULT;
    const char *p = text;
    const char *space = strchr(p, ' ');
    if (space) {
        if (!parse_methods(p, (size_t)(space - p), &r->methods, text, msg, size))
            return false;
        p = space + 1;
    }
    const char *sep = strstr(p, "://");
    if (sep) {
        size_t n = (size_t)(sep - p);
        if (n == 4 && strncasecmp(p, "http", 4) == 0)
            r->scheme = WSH_SCHEME_HTTP;
        else if (n == 5 && strncasecmp(p, "https", 5) == 0)
            r->scheme = WSH_SCHEME_HTTPS;
        else
            return wsh_fail_msg(msg, size, "'%s': scheme must be http or https (got '%.*s')", text,
                        (int)n, p);
        p = sep + 3;
    }
    /* host */
    const char *host = p;
    size_t hlen;
    if (*p == '[') {
        const char *close = strchr(p, ']');
        char addr[INET6_ADDRSTRLEN];
        uint8_t bytes[16];
        if (!close || (size_t)(close - p - 1) >= sizeof addr)
            return wsh_fail_msg(msg, size, "'%s': unterminated IPv6 address (write [::1])", text);
        memcpy(addr, p + 1, (size_t)(close - p - 1));
        addr[close - p - 1] = '\0';
        if (inet_pton(AF_INET6, addr, bytes) != 1)
            return wsh_fail_msg(msg, size, "'%s': '%s' is not an IPv6 address", text, addr);
        hlen = (size_t)(close - p + 1);
    } else {
        hlen = strcspn(p, ":/");
        bool ok = (hlen == 1 && p[0] == '*') ||
                  (hlen > 2 && p[0] == '*' && p[1] == '.' && valid_name(p + 2, hlen - 2)) ||
                  valid_name(p, hlen);
        if (!ok)
            return wsh_fail_msg(msg, size,
                        "'%s': host must be a name, '*.domain', '*' or an address (got '%.*s')",
                        text, (int)hlen, p);
    }
    p += hlen;
    if (*p == ':') {
        p++;
        size_t n = strcspn(p, "/");
        if (n == 1 && p[0] == '*') {
            r->port = WSH_PORT_ANY;
        } else {
            long port = 0;
            for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char)p[i]) || port > 65535)
                    break;
                port = port * 10 + (p[i] - '0');
            }
            if (n == 0 || n > 5 || strspn(p, "0123456789") < n || port < 1 || port > 65535)
                return wsh_fail_msg(msg, size, "'%s': port must be 1..65535 or '*' (got '%.*s')", text,
                            (int)n, p);
            r->port = (int)port;
        }
        p += n;
    }
    if (*p && *p != '/')
        return wsh_fail_msg(msg, size, "'%s': unexpected '%s' after the host", text, p);
    if (*p) {
        if (strpbrk(p, "?# \t\r\n"))
            return wsh_fail_msg(msg, size, "'%s': a path pattern has no query, fragment or spaces",
                        text);
        if (strcmp(p, "/*") != 0 && !(r->path = strdup(p)))
            return wsh_fail_msg(msg, size, "out of memory");
    }
    r->host = wsh_dup_lower(host, hlen);
    r->text = strdup(text);
    if (!r->host || !r->text) {
        wsh_rule_free(r);
        return wsh_fail_msg(msg, size, "out of memory");
    }
    return true;
}

void wsh_rule_free(wsh_rule *r)
{
    free(r->text);
    free(r->host);
    free(r->path);
    memset(r, 0, sizeof *r);
}

bool wsh_host_match(const char *pat, const char *host)
{
    if (strcmp(pat, "*") == 0)
        return true;
    if (pat[0] == '*' && pat[1] == '.') {
        size_t pl = strlen(pat + 1), hl = strlen(host); /* ".suffix" */
        return hl > pl && strcasecmp(host + hl - pl, pat + 1) == 0;
    }
    return strcasecmp(pat, host) == 0;
}

static int default_port(int scheme)
{
    return scheme == WSH_SCHEME_HTTPS ? 443 : 80;
}

bool wsh_rule_match(const wsh_rule *r, const wsh_target *t)
{
    if (r->methods && !(r->methods & t->method))
        return false;
    if (r->scheme != WSH_SCHEME_ANY && r->scheme != t->scheme)
        return false;
    if (!wsh_host_match(r->host, t->host))
        return false;
    if (r->port == WSH_PORT_DEFAULT ? t->port != default_port(t->scheme)
                                    : (r->port != WSH_PORT_ANY && r->port != t->port))
        return false;
    return !r->path || wasmplug_glob(r->path, t->path);
}

wasmplug_status wasmplug_http_rule_check(const char *rule, char *msg, size_t msgsize)
{
    wsh_rule r;
    if (!rule || !wsh_rule_parse(rule, &r, msg, msgsize))
        return WASMPLUG_ERR_ARGUMENT;
    wsh_rule_free(&r);
    return WASMPLUG_OK;
}

/* Whether two rules can match a common request (paths not compared: used
 * to describe grants, never to allow anything). */
bool wsh_rules_overlap(const wsh_rule *a, const wsh_rule *b)
{
    if (a->methods && b->methods && !(a->methods & b->methods))
        return false;
    if (a->scheme && b->scheme && a->scheme != b->scheme)
        return false;
    if (a->port != WSH_PORT_ANY && b->port != WSH_PORT_ANY && a->port != b->port)
        return false;
    const char *ha = a->host, *hb = b->host;
    bool wa = ha[0] == '*', wb = hb[0] == '*';
    if (wa && wb) /* "*", or one suffix inside the other */
        return strcmp(ha, "*") == 0 || strcmp(hb, "*") == 0 ||
               wsh_host_match(ha, hb + 2) || wsh_host_match(hb, ha + 2) ||
               strcasecmp(ha, hb) == 0;
    return wa ? wsh_host_match(ha, hb) : wsh_host_match(hb, ha);
}
