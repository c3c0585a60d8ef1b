/*
 * http_service.c - outbound HTTP as a host service: the import
 * wasmplug.http_request (grant "http:*"), one client per plugin built from
 * its granted "http:<entry>" permissions, denials recorded in the plugin's
 * history, and the call's timeout and cancel stopping a transfer.
 */
#include "http_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct http_service {
    const wasmplug_http_policy *pol;
    unsigned id;
} http_service;

static void service_plugin_free(void *user, wasmplug_plugin *plugin, void *state)
{
    (void)user, (void)plugin;
    wasmplug_http_client_free(state);
}

static void service_free(void *user)
{
    free(user);
}

/* The plugin's client, made at its first use from its granted entries. */
static wasmplug_http_client *plugin_client(http_service *svc, wasmplug_plugin *p, char *msg,
                                           size_t size)
{
    wasmplug_http_client *c = wasmplug_plugin_service_state(p, svc->id);
    if (c)
        return c;
    char **perms = NULL;
    size_t n = 0;
    if (wasmplug_plugin_permissions(p, &perms, &n) != WASMPLUG_OK) {
        snprintf(msg, size, "out of memory");
        return NULL;
    }
    const char **entries = calloc(n ? n : 1, sizeof *entries);
    size_t k = 0, plen = strlen(WASMPLUG_HTTP_GRANT_PREFIX);
    for (size_t i = 0; entries && i < n; i++)
        if (strncmp(perms[i], WASMPLUG_HTTP_GRANT_PREFIX, plen) == 0 &&
            wasmplug_http_rule_check(perms[i] + plen, NULL, 0) == WASMPLUG_OK)
            entries[k++] = perms[i] + plen;
    if (entries)
        wsh_client_make(svc->pol, wasmplug_plugin_name(p), wasmplug_plugin_id(p), entries, k,
                        true, &c, msg, size);
    free(entries);
    wasmplug_free(perms);
    if (!c)
        return NULL;
    wasmplug_http_client *now = wasmplug_plugin_service_state_set(p, svc->id, c);
    if (now != c)
        wasmplug_http_client_free(c);
    return now;
}

/* The plugin's call was interrupted: the transfer stops with its reason. */
static wasmplug_http_code call_interrupted(void *user)
{
    switch (wasmplug_hostcall_check(user)) {
    case WASMPLUG_OK:
        return WASMPLUG_HTTP_OK;
    case WASMPLUG_ERR_TIMEOUT:
        return WASMPLUG_HTTP_TIMEOUT;
    default:
        return WASMPLUG_HTTP_CANCELLED;
    }
}

/* The import's result as it is written: appended for wasmplug.result_read
 * and copied into the plugin's buffer while there is room. */
typedef struct result_writer {
    wasmplug_hostcall *call;
    const wasmplug_hostarg *out;
    size_t len;
    bool too_large;
} result_writer;

static bool result_add(void *user, const void *data, size_t n)
{
    result_writer *w = user;
    if (wasmplug_hostcall_write(w->call, data, n) != WASMPLUG_OK) {
        w->too_large = true;
        return false;
    }
    if (w->len < w->out->len)
        memcpy(w->out->ptr + w->len, data, n < w->out->len - w->len ? n : w->out->len - w->len);
    w->len += n;
    return true;
}

/* The import returns the result's full length, or -code for a failed
 * request (whose result is then the message). */
static int give_result(result_writer *w, int code, wasmplug_slot *results)
{
    if (w->too_large) {
        wasmplug_hostcall_fail(w->call, WASMPLUG_ERR_OUTPUT_TOO_LARGE,
                               "the HTTP response (more than %zu bytes) exceeds the plugin's "
                               "max_output_bytes",
                               w->len);
        return 1;
    }
    results[0].i32 = code ? -code : (int32_t)w->len;
    return 0;
}

/* wasmplug.http_request(req_ptr, req_len, out_ptr, out_cap) -> i32 */
static int import_http_request(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                               wasmplug_slot *results)
{
    http_service *svc = user;
    wasmplug_plugin *p = wasmplug_hostcall_plugin(call);
    wasmplug_http_error err = {WASMPLUG_HTTP_OK, "", ""};
    wasmplug_http_code code;
    wasmplug_http_client *c = plugin_client(svc, p, err.message, sizeof err.message);
    wsh_wire_request req;
    wasmplug_http_response resp;
    memset(&resp, 0, sizeof resp);
    if (!c) {
        code = WASMPLUG_HTTP_NOMEM;
    } else if ((code = wsh_wire_parse(args[0].ptr, args[0].len, &req, err.message,
                                      sizeof err.message)) == WASMPLUG_HTTP_OK) {
        wasmplug_http_control ctl = {0, call_interrupted, call};
        code = wasmplug_http_perform(c, &req.req, &ctl, &resp, &err);
        wsh_wire_free(&req);
    }
    if (wasmplug_http_code_is_denial(code))
        wasmplug_hostcall_deny(call, "HTTP request refused (%s): %s",
                               wasmplug_http_code_name(code), err.message);
    wasmplug_status stop = wasmplug_hostcall_check(call);
    if ((code == WASMPLUG_HTTP_TIMEOUT || code == WASMPLUG_HTTP_CANCELLED) && stop) {
        wasmplug_hostcall_fail(call, stop, "%s", err.message);
        return 1;
    }
    result_writer w = {call, &args[1], 0, false};
    if (code != WASMPLUG_HTTP_OK) {
        result_add(&w, err.message, strlen(err.message));
        return give_result(&w, (int)code, results);
    }
    wsh_wire_response(&resp, result_add, &w);
    wasmplug_http_response_free(&resp);
    return give_result(&w, 0, results);
}

wasmplug_status wasmplug_http_attach(wasmplug_host *host, const wasmplug_http_policy *pol,
                                     unsigned *id)
{
    if (!host || !pol)
        return WASMPLUG_ERR_ARGUMENT;
    http_service *svc = calloc(1, sizeof *svc);
    if (!svc)
        return WASMPLUG_ERR_NOMEM;
    svc->pol = pol;
    wasmplug_service_def def = {WASMPLUG_HTTP_SERVICE, svc,  NULL, NULL, service_plugin_free,
                                service_free};
    wasmplug_status st = wasmplug_host_add_service(host, &def, &svc->id);
    if (st != WASMPLUG_OK) {
        free(svc);
        return st;
    }
    /* From here the host owns svc (its finalizer frees it). */
    st = wasmplug_host_register_service_fn(host, svc->id, "http_request", "(pp)i",
                                           WASMPLUG_HTTP_GRANT_PREFIX "*", import_http_request,
                                           svc);
    if (st == WASMPLUG_OK && id)
        *id = svc->id;
    return st;
}

static wasmplug_status find_service(wasmplug_host *host, unsigned *id)
{
    return host ? wasmplug_host_service_id(host, WASMPLUG_HTTP_SERVICE, id)
                : WASMPLUG_ERR_ARGUMENT;
}

wasmplug_status wasmplug_http_plugin_metrics(wasmplug_host *host, wasmplug_plugin *plugin,
                                             wasmplug_http_metrics *out)
{
    unsigned id;
    wasmplug_status st = find_service(host, &id);
    if (st != WASMPLUG_OK || !plugin || !out)
        return st ? st : WASMPLUG_ERR_ARGUMENT;
    memset(out, 0, sizeof *out);
    wasmplug_http_client *c = wasmplug_plugin_service_state(plugin, id);
    if (c)
        wasmplug_http_client_metrics(c, out);
    return WASMPLUG_OK;
}

wasmplug_status wasmplug_http_plugin_grants(wasmplug_plugin *plugin, char ***lines,
                                            size_t *count)
{
    if (!plugin || !lines || !count)
        return WASMPLUG_ERR_ARGUMENT;
    char **perms = NULL;
    size_t n = 0, k = 0, plen = strlen(WASMPLUG_HTTP_GRANT_PREFIX);
    wasmplug_status st = wasmplug_plugin_permissions(plugin, &perms, &n);
    if (st != WASMPLUG_OK)
        return st;
    /* Keep the http entries, without their prefix, in the same block. */
    for (size_t i = 0; i < n; i++)
        if (strncmp(perms[i], WASMPLUG_HTTP_GRANT_PREFIX, plen) == 0)
            perms[k++] = perms[i] + plen;
    *lines = perms;
    *count = k;
    return WASMPLUG_OK;
}
