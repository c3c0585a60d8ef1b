/*
 * cli_http.c - outbound HTTP in `run`, `exec` and `info`: the flags
 * --allow-http PATTERN, --allow-http-address HOST=CIDR and --http-ca FILE
 * become an HTTP policy (include/wasmplug/http.h) and the service attached
 * to the host; --stats reports the plugin's requests.
 *
 * The wasmplug command is linked statically where it can be, for its
 * start-up time (about 0.01 ms over a bare process), and libcurl cannot be
 * linked statically on Debian (its dependencies ship no static archives);
 * linking it dynamically would cost every run about 2 ms of dynamic
 * loading. So the static command has no HTTP: a run that needs it (an
 * --allow-http flag, or an installed plugin granted http at install)
 * continues in wasmplug-dist (dist_forward.c), the same command linked
 * dynamically with libcurl, as the distribution commands do. Builds with
 * libcurl (WASMPLUG_CLI_DIST: wasmplug-dist, or a wasmplug that is not
 * static) have the real service; the static one a stub.
 */
#include "run_opts.h"

#include "services/grants.h"
#include "services/launch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_dist.h"

#ifdef WASMPLUG_CLI_DIST
#include "wasmplug/http.h"
#endif

#define HTTP_PREFIX "http:"

bool cli_http_needed(const run_opts *o, const wps_grants *recorded)
{
    if (o->http_count)
        return true;
    for (size_t i = 0; recorded && i < recorded->count; i++)
        if (!strncmp(recorded->items[i], HTTP_PREFIX, strlen(HTTP_PREFIX)))
            return true;
    return false;
}

int cli_http_continue(void)
{
#ifdef WASMPLUG_CLI_DIST
    return -1; /* this command has HTTP itself */
#else
    return cli_dist_forward(0, NULL); /* returns only on failure */
#endif
}

#ifdef WASMPLUG_CLI_DIST

struct cli_http {
    wasmplug_http_policy *pol;
};

int cli_http_policy(const run_opts *o, wasmplug_http_policy **out)
{
    wasmplug_http_policy *pol = NULL;
    if (wasmplug_http_policy_new(NULL, &pol) != WASMPLUG_OK)
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    *out = pol;
    char msg[512];
    for (size_t i = 0; i < o->http_count; i++)
        if (wasmplug_http_policy_allow(pol, "*", o->http[i], msg, sizeof msg) != WASMPLUG_OK) {
            cli_error("--allow-http: %s", msg);
            return EXIT_USAGE;
        }
    for (size_t i = 0; i < o->http_addr_count; i++) {
        const char *arg = o->http_addrs[i], *eq = strchr(arg, '=');
        char host[256];
        if (!eq || eq == arg || (size_t)(eq - arg) >= sizeof host) {
            cli_error("--allow-http-address takes HOST=CIDR, e.g. localhost=127.0.0.0/8 (got '%s')",
                      arg);
            return EXIT_USAGE;
        }
        memcpy(host, arg, (size_t)(eq - arg));
        host[eq - arg] = '\0';
        if (wasmplug_http_policy_allow_address(pol, host, eq + 1, msg, sizeof msg) !=
            WASMPLUG_OK) {
            cli_error("--allow-http-address: %s", msg);
            return EXIT_USAGE;
        }
    }
    if (o->http_ca) {
        if (access(o->http_ca, R_OK) != 0) {
            cli_error("--http-ca: cannot read %s: %s", o->http_ca, strerror(errno));
            return EXIT_USAGE;
        }
        wasmplug_http_policy_set_ca_file(pol, o->http_ca);
    }
    return EXIT_OK;
}

int cli_http_attach(wasmplug_host *h, const run_opts *o, cli_http **out)
{
    *out = NULL;
    cli_http *c = calloc(1, sizeof *c);
    if (!c)
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    *out = c;
    int rc = cli_http_policy(o, &c->pol);
    if (rc != EXIT_OK)
        return rc;
    if (wasmplug_http_attach(h, c->pol, NULL) != WASMPLUG_OK)
        return cli_fail_json(EXIT_INTERNAL, NULL, "cannot attach the HTTP service");
    return EXIT_OK;
}

void cli_http_free(cli_http *c)
{
    if (c) {
        wasmplug_http_policy_free(c->pol);
        free(c);
    }
}

json_t *cli_http_stats(wasmplug_host *h, wasmplug_plugin *p)
{
    wasmplug_http_metrics m;
    if (!p || wasmplug_http_plugin_metrics(h, p, &m) != WASMPLUG_OK || !m.requests)
        return NULL;
    return json_pack("{s:I, s:I, s:I, s:{s:I, s:I, s:I, s:I, s:I}, s:I, s:I, s:f, s:f}",
                     "requests", (json_int_t)m.requests, "refused", (json_int_t)m.refused,
                     "failed", (json_int_t)m.failed, "status", "1xx", (json_int_t)m.status[1],
                     "2xx", (json_int_t)m.status[2], "3xx", (json_int_t)m.status[3], "4xx",
                     (json_int_t)m.status[4], "5xx", (json_int_t)m.status[5], "bytes_sent",
                     (json_int_t)m.bytes_sent, "bytes_received", (json_int_t)m.bytes_received,
                     "total_ms", m.total_ns / 1e6, "max_ms", m.max_ns / 1e6);
}

json_t *cli_http_grants(const wasmplug_manifest_doc *doc, const run_opts *o)
{
    json_t *arr = json_array();
    if (!o->http_count)
        return arr;
    wasmplug_http_policy *pol = NULL;
    wasmplug_http_client *c = NULL;
    char **perms = NULL, **lines = NULL;
    size_t n = 0, nlines = 0;
    if (wasmplug_http_policy_new(NULL, &pol) != WASMPLUG_OK ||
        wps_launch_http_requests(doc, NULL, o->http, o->http_count, &perms, &n) != WASMPLUG_OK)
        goto out;
    for (size_t i = 0; i < o->http_count; i++)
        wasmplug_http_policy_allow(pol, "*", o->http[i], NULL, 0);
    const char **entries = calloc(n ? n : 1, sizeof *entries);
    for (size_t i = 0; entries && i < n; i++)
        entries[i] = perms[i] + strlen(HTTP_PREFIX);
    if (entries && wasmplug_http_client_new(pol, doc ? doc->id : "plugin", NULL, entries, n, &c,
                                            NULL, 0) == WASMPLUG_OK &&
        wasmplug_http_client_grants(c, &lines, &nlines) == WASMPLUG_OK)
        for (size_t i = 0; i < nlines; i++)
            json_array_append_new(arr, json_string(lines[i]));
    free(entries);
out:
    wasmplug_free(lines);
    wasmplug_http_client_free(c);
    wasmplug_http_policy_free(pol);
    for (size_t i = 0; i < n; i++)
        free(perms[i]);
    free(perms);
    return arr;
}

#else /* the static command: no libcurl */

struct cli_http {
    int unused;
};

/* Unreachable in practice: a plugin gets the import's grant only from
 * --allow-http or recorded grants, and both continue in wasmplug-dist. */
static int http_unavailable(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                            wasmplug_slot *results)
{
    (void)user, (void)args, (void)results;
    wasmplug_hostcall_fail(call, WASMPLUG_ERR_PERMISSION_DENIED,
                           "outbound HTTP is not available in this command");
    return 1;
}

/* The import exists (so a plugin using it without the grant is denied
 * with the grant's name, as with the real service), nothing more. */
int cli_http_attach(wasmplug_host *h, const run_opts *o, cli_http **out)
{
    (void)o;
    *out = NULL;
    wasmplug_service_def def = {"http", NULL, NULL, NULL, NULL, NULL};
    unsigned id;
    if (wasmplug_host_add_service(h, &def, &id) != WASMPLUG_OK ||
        wasmplug_host_register_service_fn(h, id, "http_request", "(pp)i", HTTP_PREFIX "*",
                                          http_unavailable, NULL) != WASMPLUG_OK)
        return cli_fail_json(EXIT_INTERNAL, NULL, "cannot create the plugin host");
    return EXIT_OK;
}

void cli_http_free(cli_http *c)
{
    (void)c;
}

json_t *cli_http_stats(wasmplug_host *h, wasmplug_plugin *p)
{
    (void)h, (void)p;
    return NULL;
}

json_t *cli_http_grants(const wasmplug_manifest_doc *doc, const run_opts *o)
{
    (void)doc, (void)o;
    return json_array();
}

#endif
