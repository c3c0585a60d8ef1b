/*
 * http_policy.c - the HTTP allowlist: rule syntax, matching a URL against
 * a plugin's requested entries and the host policy, the policy object and
 * the description of a client's grants. No network code here.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static bool fail(char *msg, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static bool fail(char *msg, size_t size, const char *fmt, ...)
{
    if (msg && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static char *dup_lower(const char *s, size_t n)
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
            return fail(msg, size,
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
            return fail(msg, size, "'%s': scheme must be http or https (got '%.*s')", text,
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
            return fail(msg, size, "'%s': unterminated IPv6 address (write [::1])", text);
        memcpy(addr, p + 1, (size_t)(close - p - 1));
        addr[close - p - 1] = '\0';
        if (inet_pton(AF_INET6, addr, bytes) != 1)
            return fail(msg, size, "'%s': '%s' is not an IPv6 address", text, addr);
        hlen = (size_t)(close - p + 1);
    } else {
        hlen = strcspn(p, ":/");
        bool ok = (hlen == 1 && p[0] == '*') ||
                  (hlen > 2 && p[0] == '*' && p[1] == '.' && valid_name(p + 2, hlen - 2)) ||
                  valid_name(p, hlen);
        if (!ok)
            return fail(msg, size,
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
                return fail(msg, size, "'%s': port must be 1..65535 or '*' (got '%.*s')", text,
                            (int)n, p);
            r->port = (int)port;
        }
        p += n;
    }
    if (*p && *p != '/')
        return fail(msg, size, "'%s': unexpected '%s' after the host", text, p);
    if (*p) {
        if (strpbrk(p, "?# \t\r\n"))
            return fail(msg, size, "'%s': a path pattern has no query, fragment or spaces",
                        text);
        if (strcmp(p, "/*") != 0 && !(r->path = strdup(p)))
            return fail(msg, size, "out of memory");
    }
    r->host = dup_lower(host, hlen);
    r->text = strdup(text);
    if (!r->host || !r->text) {
        wsh_rule_free(r);
        return fail(msg, size, "out of memory");
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

bool wsh_glob(const char *pat, const char *s)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*pat == '*') {
            star = pat++;
            mark = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
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
    return !r->path || wsh_glob(r->path, t->path);
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
static bool rules_overlap(const wsh_rule *a, const wsh_rule *b)
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

/* ------------------------------------------------------------------------ */
/* Policy                                                                   */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_http_policy_new(const wasmplug_http_limits *limits,
                                         wasmplug_http_policy **out)
{
    if (!out)
        return WASMPLUG_ERR_ARGUMENT;
    wasmplug_http_policy *pol = calloc(1, sizeof *pol);
    if (!pol)
        return WASMPLUG_ERR_NOMEM;
    if (limits)
        pol->limits = *limits;
    wasmplug_http_limits *l = &pol->limits;
    if (!l->max_request_bytes)
        l->max_request_bytes = 1u << 20;
    if (!l->max_response_bytes)
        l->max_response_bytes = 8u << 20;
    if (!l->max_concurrent)
        l->max_concurrent = 4;
    if (!l->timeout_ms)
        l->timeout_ms = 30000;
    if (!l->max_redirects)
        l->max_redirects = 5;
    *out = pol;
    return WASMPLUG_OK;
}

void wasmplug_http_policy_free(wasmplug_http_policy *pol)
{
    if (!pol)
        return;
    for (size_t i = 0; i < pol->nrules; i++) {
        free(pol->rules[i].plugin_pat);
        wsh_rule_free(&pol->rules[i].rule);
    }
    for (size_t i = 0; i < pol->naddrs; i++)
        free(pol->addrs[i].host_pat);
    free(pol->rules);
    free(pol->addrs);
    free(pol->ca_file);
    free(pol->proxy);
    free(pol);
}

void wasmplug_http_policy_limits(const wasmplug_http_policy *pol, wasmplug_http_limits *out)
{
    *out = pol->limits;
}

/* Make room for one more element of size elem in *items (count, cap). */
static bool grow(void **items, size_t count, size_t *cap, size_t elem)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *n = realloc(*items, ncap * elem);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

wasmplug_status wasmplug_http_policy_allow(wasmplug_http_policy *pol, const char *plugin_pattern,
                                           const char *rule, char *msg, size_t msgsize)
{
    if (!pol || !plugin_pattern || !rule || !*plugin_pattern)
        return WASMPLUG_ERR_ARGUMENT;
    wsh_policy_rule pr = {0};
    if (!wsh_rule_parse(rule, &pr.rule, msg, msgsize))
        return WASMPLUG_ERR_ARGUMENT;
    if (!(pr.plugin_pat = strdup(plugin_pattern)) ||
        !grow((void **)&pol->rules, pol->nrules, &pol->caprules, sizeof *pol->rules)) {
        free(pr.plugin_pat);
        wsh_rule_free(&pr.rule);
        return WASMPLUG_ERR_NOMEM;
    }
    pol->rules[pol->nrules++] = pr;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_http_policy_allow_address(wasmplug_http_policy *pol,
                                                   const char *host_pattern, const char *cidr,
                                                   char *msg, size_t msgsize)
{
    if (!pol || !host_pattern || !cidr || !*host_pattern)
        return WASMPLUG_ERR_ARGUMENT;
    wsh_addr_allow a;
    if (!wsh_cidr_parse(cidr, &a.range)) {
        fail(msg, msgsize, "'%s' is not an address range (e.g. 127.0.0.0/8, ::1/128)", cidr);
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (!(a.host_pat = dup_lower(host_pattern, strlen(host_pattern))) ||
        !grow((void **)&pol->addrs, pol->naddrs, &pol->capaddrs, sizeof *pol->addrs)) {
        free(a.host_pat);
        return WASMPLUG_ERR_NOMEM;
    }
    pol->addrs[pol->naddrs++] = a;
    return WASMPLUG_OK;
}

static wasmplug_status set_string(char **dst, const char *value)
{
    char *copy = NULL;
    if (value && *value && !(copy = strdup(value)))
        return WASMPLUG_ERR_NOMEM;
    free(*dst);
    *dst = copy;
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_http_policy_set_ca_file(wasmplug_http_policy *pol, const char *path)
{
    return pol ? set_string(&pol->ca_file, path) : WASMPLUG_ERR_ARGUMENT;
}

wasmplug_status wasmplug_http_policy_set_proxy(wasmplug_http_policy *pol, const char *proxy)
{
    return pol ? set_string(&pol->proxy, proxy) : WASMPLUG_ERR_ARGUMENT;
}

void wasmplug_http_policy_set_cookies(wasmplug_http_policy *pol, bool keep)
{
    if (pol)
        pol->cookies = keep;
}

bool wsh_policy_address_allowed(const wasmplug_http_policy *pol, const char *host,
                                const struct sockaddr *sa)
{
    for (size_t i = 0; i < pol->naddrs; i++)
        if (wsh_host_match(pol->addrs[i].host_pat, host) &&
            wsh_cidr_contains(&pol->addrs[i].range, sa))
            return true;
    return false;
}

/* ------------------------------------------------------------------------ */
/* Clients: grants                                                          */
/* ------------------------------------------------------------------------ */

static bool plugin_matches(const char *pat, const wasmplug_http_client *c)
{
    return wsh_glob(pat, c->name) || (c->id && c->id[0] && wsh_glob(pat, c->id));
}

wasmplug_status wasmplug_http_client_new(const wasmplug_http_policy *pol, const char *plugin_name,
                                         const char *plugin_id, const char *const *entries,
                                         size_t entry_count, wasmplug_http_client **out,
                                         char *msg, size_t msgsize)
{
    return wsh_client_make(pol, plugin_name, plugin_id, entries, entry_count, false, out, msg,
                           msgsize);
}

wasmplug_status wsh_client_make(const wasmplug_http_policy *pol, const char *plugin_name,
                                const char *plugin_id, const char *const *entries,
                                size_t entry_count, bool granted, wasmplug_http_client **out,
                                char *msg, size_t msgsize)
{
    if (!pol || !plugin_name || !out || (entry_count && !entries))
        return WASMPLUG_ERR_ARGUMENT;
    *out = NULL;
    wasmplug_http_client *c = calloc(1, sizeof *c);
    if (!c)
        return WASMPLUG_ERR_NOMEM;
    c->pol = pol;
    atomic_init(&c->in_flight, 0);
    pthread_mutex_init(&c->lock, NULL);
    c->name = strdup(plugin_name);
    c->id = strdup(plugin_id ? plugin_id : "");
    c->entries = calloc(entry_count ? entry_count : 1, sizeof *c->entries);
    c->rules = calloc(pol->nrules ? pol->nrules : 1, sizeof *c->rules);
    if (!c->name || !c->id || !c->entries || !c->rules) {
        wasmplug_http_client_free(c);
        return WASMPLUG_ERR_NOMEM;
    }
    for (size_t i = 0; i < entry_count; i++) {
        if (!wsh_rule_parse(entries[i], &c->entries[i], msg, msgsize)) {
            wasmplug_http_client_free(c);
            return WASMPLUG_ERR_ARGUMENT;
        }
        c->nentries++;
    }
    for (size_t i = 0; i < pol->nrules; i++)
        if (plugin_matches(pol->rules[i].plugin_pat, c))
            c->rules[c->nrules++] = &pol->rules[i].rule;
    if (granted && pol->nrules == 0) { /* the host's grants alone decide */
        free(c->rules);
        if (!(c->rules = calloc(c->nentries ? c->nentries : 1, sizeof *c->rules))) {
            wasmplug_http_client_free(c);
            return WASMPLUG_ERR_NOMEM;
        }
        for (size_t i = 0; i < c->nentries; i++)
            c->rules[c->nrules++] = &c->entries[i];
    }
    *out = c;
    return WASMPLUG_OK;
}

void wasmplug_http_client_free(wasmplug_http_client *c)
{
    if (!c)
        return;
    wsh_conn_pool_free(c);
    wsh_share_free(c->share);
    for (size_t i = 0; i < c->nentries; i++)
        wsh_rule_free(&c->entries[i]);
    free(c->entries);
    free(c->rules);
    free(c->name);
    free(c->id);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void wasmplug_http_client_on_denial(wasmplug_http_client *c, wasmplug_http_denial_fn fn,
                                    void *user)
{
    if (c) {
        c->on_denial = fn;
        c->denial_user = user;
    }
}

bool wasmplug_http_client_granted(const wasmplug_http_client *c)
{
    for (size_t i = 0; c && i < c->nentries; i++)
        for (size_t j = 0; j < c->nrules; j++)
            if (rules_overlap(&c->entries[i], c->rules[j]))
                return true;
    return false;
}

bool wsh_client_allows(const wasmplug_http_client *c, const wsh_target *t)
{
    bool requested = false;
    for (size_t i = 0; i < c->nentries && !requested; i++)
        requested = wsh_rule_match(&c->entries[i], t);
    if (!requested)
        return false;
    for (size_t j = 0; j < c->nrules; j++)
        if (wsh_rule_match(c->rules[j], t))
            return true;
    return false;
}

wasmplug_status wasmplug_http_client_grants(const wasmplug_http_client *c, char ***lines,
                                            size_t *count)
{
    if (!c || !lines || !count)
        return WASMPLUG_ERR_ARGUMENT;
    /* Measure, then write the array and the text in one block. */
    size_t n = 0, text = 0;
    for (int pass = 0; pass < 2; pass++) {
        char **arr = pass ? *lines : NULL;
        char *w = pass ? (char *)(arr + n) : NULL;
        size_t k = 0;
        for (size_t i = 0; i < c->nentries; i++) {
            char line[1024];
            int len = snprintf(line, sizeof line, "%s (policy:", c->entries[i].text);
            bool any = false;
            for (size_t j = 0; j < c->nrules && len < (int)sizeof line; j++) {
                if (!rules_overlap(&c->entries[i], c->rules[j]))
                    continue;
                len += snprintf(line + len, sizeof line - (size_t)len, "%s %s", any ? "," : "",
                                c->rules[j]->text);
                any = true;
            }
            if (!any)
                continue;
            size_t l = strlen(line);
            if (l + 2 < sizeof line)
                memcpy(line + l, ")", 2);
            l = strlen(line);
            if (pass) {
                memcpy(w, line, l + 1);
                arr[k] = w;
                w += l + 1;
            } else {
                text += l + 1;
            }
            k++;
        }
        if (!pass) {
            n = k;
            *lines = malloc(n * sizeof(char *) + text + 1);
            if (!*lines)
                return WASMPLUG_ERR_NOMEM;
        }
    }
    *count = n;
    return WASMPLUG_OK;
}
