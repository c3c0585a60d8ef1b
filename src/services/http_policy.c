/*
 * http_policy.c - the HTTP policy object (rules per plugin, address
 * exceptions, CA bundle, proxy, cookies) and clients: one plugin's
 * entries intersected with the policy, and the description of its grants.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        wsh_fail_msg(msg, msgsize, "'%s' is not an address range (e.g. 127.0.0.0/8, ::1/128)", cidr);
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (!(a.host_pat = wsh_dup_lower(host_pattern, strlen(host_pattern))) ||
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
    return wasmplug_glob(pat, c->name) || (c->id && c->id[0] && wasmplug_glob(pat, c->id));
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
            if (wsh_rules_overlap(&c->entries[i], c->rules[j]))
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
                if (!wsh_rules_overlap(&c->entries[i], c->rules[j]))
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
