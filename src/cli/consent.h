/*
 * consent.h - the operator's decision about a plugin's permissions
 * (install), and showing recorded grants (info). The grants themselves are
 * kept by src/services/grants.h.
 */
#ifndef WASMPLUG_CLI_CONSENT_H
#define WASMPLUG_CLI_CONSENT_H

#include "cli.h"
#include "services/grants.h"

/* How the operator decides: explicit --grant patterns, --yes, or (neither)
 * a confirmation on a terminal. */
typedef struct cli_consent_opts {
    const char **grants; /* --grant PATTERN ('*' wildcards), matched against requests */
    size_t grant_count;
    bool yes;            /* --yes: grant everything requested */
} cli_consent_opts;

/*
 * List what doc requests (wide requests highlighted; on stdout, or into
 * *report for --json) and decide what to grant: the requests matching a
 * --grant pattern; all of them with --yes; else, on a terminal, all of
 * them if the operator confirms. Off a terminal a plugin that requests
 * anything needs --yes or --grant. On success *out holds the grants (free
 * with wps_grants_free) and *report (may be NULL) the JSON
 * {"requested": [...], "granted": [...]}. Otherwise prints why and returns
 * the exit code (EXIT_USAGE: no decision or a --grant that matches no
 * request; EXIT_DENIED: the operator declined).
 */
int cli_consent(const wasmplug_manifest_doc *doc, const cli_consent_opts *o, wps_grants *out,
                json_t **report);
/* Recorded grants as JSON (an array), or null when none are recorded. */
json_t *cli_grants_json(const char *plugin_dir);
/* Print "granted" lines for info (or "nothing recorded"). */
void cli_grants_print(const char *plugin_dir);

#endif
