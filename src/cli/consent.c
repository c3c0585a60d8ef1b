/*
 * consent.c - what an installed plugin may do is the operator's decision:
 * install lists the manifest's requests (highlighting wide ones), takes
 * --grant / --yes or asks on a terminal, and the decision is recorded next
 * to the plugin (services/grants.c); info shows it.
 */
#include "consent.h"
#include "run_opts.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *requests_json(const wps_requests *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->count; i++) {
        json_t *e = json_pack("{s:s, s:s, s:s}", "permission", r->items[i].permission, "kind",
                              wps_request_kind_name(r->items[i].kind), "what", r->items[i].what);
        if (r->items[i].wide)
            json_object_set_new(e, "wide", json_string(r->items[i].wide));
        json_array_append_new(arr, e);
    }
    return arr;
}

static void print_requests(const wasmplug_manifest_doc *doc, const wps_requests *r)
{
    if (!r->count) {
        printf("%s %s requests no permissions\n", term_field(doc->id), term_field(doc->version));
        return;
    }
    /* The manifest's strings, escaped: the operator decides on what is shown. */
    printf("%s %s requests:\n", term_field(doc->id), term_field(doc->version));
    for (size_t i = 0; i < r->count; i++) {
        const wps_request *q = &r->items[i];
        if (q->wide)
            printf("  %s! %s%s  (%s)\n      wide: %s\n", cli_red(), term_field(q->what),
                   cli_reset(), term_field(q->permission), term_field(q->wide));
        else
            printf("  - %s  (%s)\n", term_field(q->what), term_field(q->permission));
    }
    fflush(stdout);
}

/* y/yes on a line of stdin. */
static bool confirm(size_t count, size_t wide)
{
    fprintf(stderr, "Grant %s%zu permission%s%s%s? [y/N] ", wide ? cli_red() : "", count,
            count == 1 ? "" : "s", wide ? " (some wide)" : "", wide ? cli_reset() : "");
    fflush(stderr);
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return !strcmp(line, "y\n") || !strcmp(line, "Y\n") || !strcmp(line, "yes\n");
}

/* Record one granted permission; EXIT_OK or why not (printed). */
static int grant(wps_grants *out, const wasmplug_manifest_doc *doc, const char *permission)
{
    wasmplug_status st = wps_grants_add(out, permission);
    if (st == WASMPLUG_ERR_ARGUMENT) {
        /* The grants file has a permission per line: no control characters. */
        char msg[512];
        snprintf(msg, sizeof msg,
                 "%s requests permission '%s', which holds control characters: it cannot be "
                 "granted (fix the manifest)",
                 doc->id, term_field(permission));
        return cli_fail_json(EXIT_INVALID, "invalid_manifest", msg);
    }
    return st == WASMPLUG_OK ? EXIT_OK : cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
}

int cli_consent(const wasmplug_manifest_doc *doc, const cli_consent_opts *o, wps_grants *out,
                json_t **report)
{
    memset(out, 0, sizeof *out);
    if (report)
        *report = NULL;
    if (o->yes && o->grant_count) {
        cli_error("install takes --yes (grant everything requested) or --grant PERMISSION, "
                  "not both");
        return EXIT_USAGE;
    }
    wps_requests r;
    if (wps_requests_of(doc, &r) != WASMPLUG_OK)
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    size_t wide = 0;
    for (size_t i = 0; i < r.count; i++)
        wide += r.items[i].wide != NULL;
    if (!G.json && !G.quiet)
        print_requests(doc, &r);

    int rc = EXIT_OK;
    bool all = o->yes;
    if (!o->yes && !o->grant_count && r.count) {
        if (!G.json && isatty(0) && isatty(2)) {
            if (!confirm(r.count, wide)) {
                char msg[512];
                snprintf(msg, sizeof msg,
                         "%s was not installed: its permissions were not granted (grant some "
                         "with --grant PERMISSION)",
                         doc->id);
                rc = cli_fail_json(EXIT_DENIED, "denied", msg);
                goto out;
            }
            all = true;
        } else {
            char msg[1024];
            size_t at = (size_t)snprintf(msg, sizeof msg, "%s requests %zu permission%s (", doc->id,
                                         r.count, r.count == 1 ? "" : "s");
            for (size_t i = 0; i < r.count && at < sizeof msg; i++)
                at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s", i ? ", " : "",
                                       term_field(r.items[i].permission));
            if (at < sizeof msg)
                snprintf(msg + at, sizeof msg - at,
                         "): install it with --yes to grant them all, or --grant PERMISSION "
                         "for each one you grant");
            rc = cli_fail_json(EXIT_USAGE, "consent_required", msg);
            goto out;
        }
    }
    for (size_t g = 0; g < o->grant_count; g++) {
        bool matched = false;
        for (size_t i = 0; i < r.count; i++)
            if (cli_glob(o->grants[g], r.items[i].permission)) {
                matched = true;
                if ((rc = grant(out, doc, r.items[i].permission)) != EXIT_OK)
                    goto out;
            }
        if (!matched) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "--grant %s matches nothing %s requests (see the list above, or "
                     "wasmplug info on the plugin directory)",
                     o->grants[g], doc->id);
            rc = cli_fail_json(EXIT_USAGE, "usage", msg);
            goto out;
        }
    }
    for (size_t i = 0; all && i < r.count && rc == EXIT_OK; i++)
        rc = grant(out, doc, r.items[i].permission);
    if (rc == EXIT_OK && report) {
        json_t *granted = json_array();
        for (size_t i = 0; i < out->count; i++)
            json_array_append_new(granted, json_string(out->items[i]));
        *report = json_pack("{s:o, s:o}", "requested", requests_json(&r), "granted", granted);
    }
out:
    if (rc != EXIT_OK)
        wps_grants_free(out);
    wps_requests_free(&r);
    return rc;
}

json_t *cli_grants_json(const char *plugin_dir)
{
    wps_grants g;
    char msg[512];
    if (!plugin_dir || wps_grants_load(plugin_dir, &g, msg, sizeof msg) != WASMPLUG_OK)
        return json_null();
    json_t *arr = json_array();
    for (size_t i = 0; i < g.count; i++)
        json_array_append_new(arr, json_string(g.items[i]));
    wps_grants_free(&g);
    return arr;
}

void cli_grants_print(const char *plugin_dir)
{
    wps_grants g;
    char msg[512];
    wasmplug_status st = wps_grants_load(plugin_dir, &g, msg, sizeof msg);
    printf("%sGranted%s (at install)\n", cli_bold(), cli_reset());
    if (st == WASMPLUG_ERR_NOT_FOUND) {
        printf("  nothing recorded: nothing is granted (install it again to decide)\n");
        return;
    }
    if (st != WASMPLUG_OK) {
        printf("  %s%s%s\n", cli_red(), term_field(msg), cli_reset());
        return;
    }
    if (!g.count)
        printf("  nothing\n");
    for (size_t i = 0; i < g.count; i++)
        printf("  %s\n", term_field(g.items[i]));
    wps_grants_free(&g);
}
