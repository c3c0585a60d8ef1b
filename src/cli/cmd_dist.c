/*
 * cmd_dist.c - distribution commands on the services library's client
 * (wasmplug/registry.h): install from registries or packages, update,
 * outdated, rollback, search, registry and trust management, and the
 * terminal side of consent (permission lists, the y/N prompt) and
 * progress (a bar on a terminal only). Keys, signing and packing are in
 * cmd_sign.c.
 *
 * Built into the dynamically linked wasmplug-dist; the static wasmplug
 * forwards these commands to it (dist_forward.c, docs/ARCHITECTURE.md).
 */
#include "cli.h"
#include "cli_dist.h"
#include "consent.h"
#include "term.h"

#include <wasmplug/registry.h>
#include <wasmplug/semver.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_dist_fail(int st, const char *msg)
{
    return cli_fail_json(cli_exit_for((wasmplug_status)st), NULL, msg); /* escaped there */
}

/* ------------------------------------------------------------------------ */
/* Progress and consent on the terminal                                     */
/* ------------------------------------------------------------------------ */

static bool progress_drawn;
static int progress_last = -1; /* the percentage last drawn */

/* "12.3 MiB", "4.0 KiB" or "512 B". */
static const char *human(uint64_t n, char *buf, size_t size)
{
    if (n >= (1u << 20))
        snprintf(buf, size, "%.1f MiB", (double)n / (1u << 20));
    else if (n >= 1024)
        snprintf(buf, size, "%.1f KiB", (double)n / 1024);
    else
        snprintf(buf, size, "%llu B", (unsigned long long)n);
    return buf;
}

static void progress(void *user, const char *what, uint64_t now, uint64_t total)
{
    (void)user;
    const int width = 30;
    int pct = total ? (int)(now * 100 / total) : -1;
    if (total && pct == progress_last)
        return; /* redraw only when the bar moves */
    progress_last = pct;
    char a[32], b[32];
    const char *name = term_field(what);
    if (total) {
        int fill = pct * width / 100;
        if (fill > width)
            fill = width;
        fprintf(stderr, "\r  %-28s [%.*s%*s] %3d%% %s / %s", name, fill,
                "##############################", width - fill, "", pct,
                human(now, a, sizeof a), human(total, b, sizeof b));
    } else {
        fprintf(stderr, "\r  %-28s %s", name, human(now, a, sizeof a));
    }
    progress_drawn = true;
}

static void progress_end(void)
{
    if (progress_drawn)
        fprintf(stderr, "\r\033[K");
    progress_drawn = false;
    progress_last = -1;
}

/* One line per permission; privileged ones marked "!" (red and bold on a
 * terminal). */
static void print_permissions(const wasmplug_permission *p, size_t n, const char *indent)
{
    for (size_t i = 0; i < n; i++) {
        const char *buf = term_field(p[i].name);
        if (p[i].privileged)
            fprintf(stderr, "%s%s%s! %s  (privileged)%s\n", indent, cli_bold(), cli_red(), buf,
                    cli_reset());
        else
            fprintf(stderr, "%s%s\n", indent, buf);
    }
}

static bool ask_yes_no(const char *question)
{
    fprintf(stderr, "%s [y/N] ", question);
    fflush(stderr);
    char line[32];
    if (!fgets(line, sizeof line, stdin))
        return false;
    return line[0] == 'y' || line[0] == 'Y';
}

typedef struct consent_ctx {
    bool accept;             /* --yes / --accept-permissions */
    const char *grants[64];  /* --grant PATTERN */
    size_t grant_count;
    int rc;                  /* why a first install was refused (printed already) */
} consent_ctx;

/* First installs: the operator decides as for a local install (--grant,
 * --yes, or a confirmation on a terminal; consent.c). Updates that request
 * more: --accept-permissions, or a y/N on a terminal showing the difference. */
static bool consent(void *user, const wasmplug_consent_request *r)
{
    consent_ctx *cc = user;
    progress_end();
    if (!r->installed_version) {
        cli_consent_opts o = {cc->grants, cc->grant_count, cc->accept};
        wps_grants granted;
        cc->rc = cli_consent(r->manifest, &o, &granted, NULL);
        for (size_t i = 0; !cc->rc && i < r->requested_count; i++)
            r->grant[i] = wps_grants_has(&granted, r->requested[i].name);
        wps_grants_free(&granted);
        return cc->rc == EXIT_OK;
    }
    if (!G.json) {
        fprintf(stderr, "%s %s requests permissions %s was not granted:\n",
                term_field(r->id), term_field(r->version),
                term_field(r->installed_version));
        print_permissions(r->added, r->added_count, "  + ");
    }
    if (cc->accept)
        return true;
    if (isatty(0) && isatty(2) && !G.json)
        return ask_yes_no("Grant them and install the new version?");
    return false;
}

/* Options every client command shares. */
enum {
    O_ALLOW_UNSIGNED = 1,
    O_ACCEPT,
    O_LOCKED,
    O_PROJECT,
    O_NO_LOCK,
    O_PRIORITY,
    O_NAME,
    O_SENSITIVE,
    O_GRANT,
    O_KEY
};

typedef struct client {
    wasmplug_dist_options o;
    consent_ctx cc;
    const char *project;
    bool no_lock;
    const char *sensitive[32];
} client;

/* Handle a client option; false if id is not one. */
static bool client_opt(client *c, int id, const char *arg)
{
    switch (id) {
    case O_ALLOW_UNSIGNED:
        c->o.allow_unsigned = true;
        return true;
    case O_ACCEPT:
        c->cc.accept = c->o.accept_permissions = true;
        return true;
    case O_PROJECT:
        c->project = arg;
        return true;
    case O_NO_LOCK:
        c->no_lock = true;
        return true;
    case O_SENSITIVE:
        if (c->o.sensitive_count < sizeof c->sensitive / sizeof *c->sensitive)
            c->sensitive[c->o.sensitive_count++] = arg;
        return true;
    case O_GRANT:
        if (c->cc.grant_count < sizeof c->cc.grants / sizeof *c->cc.grants)
            c->cc.grants[c->cc.grant_count++] = arg;
        return true;
    default:
        return false;
    }
}

#define CLIENT_OPTS                                                                      \
    {"allow-unsigned", 0, false, O_ALLOW_UNSIGNED},                                      \
        {"accept-permissions", 0, false, O_ACCEPT}, {"yes", 'y', false, O_ACCEPT},      \
        {"grant", 'g', true, O_GRANT}, {"project", 0, true, O_PROJECT},                 \
        {"no-lock", 0, false, O_NO_LOCK}, {"sensitive", 0, true, O_SENSITIVE}

static int client_setup(client *c)
{
    int rc = cli_setup();
    if (rc || (rc = cli_need_store()))
        return rc;
    c->o.store = G.store;
    c->o.sensitive = c->sensitive;
    c->o.consent = consent;
    c->o.consent_user = &c->cc;
    if (isatty(2) && !G.quiet && !G.json)
        c->o.progress = progress;
    c->o.lock_dir = c->no_lock ? NULL : c->project ? c->project : ".";
    const char *retries = getenv("WASMPLUG_RETRIES");
    if (retries)
        c->o.retries = atoi(retries) ? atoi(retries) : -1;
    const char *backoff = getenv("WASMPLUG_BACKOFF_MS");
    if (backoff)
        c->o.backoff_ms = (unsigned)atoi(backoff);
    return EXIT_OK;
}

/* Parse a command taking the client options and at most one NAME (required
 * when need_name); then set up. Returns EXIT_OK or the exit code. */
static int client_args(int argc, char **argv, const char *cmd, bool need_name, client *c,
                       const char **name)
{
    static const cli_opt opts[] = {CLIENT_OPTS, {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *arg;
    int id;
    *name = NULL;
    while ((id = cli_next(&a, opts, cmd, &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (client_opt(c, id, arg))
            continue;
        if (*name) {
            cli_error("%s takes %s one plugin (got '%s' too)", cmd,
                      need_name ? "exactly" : "at most", arg);
            return EXIT_USAGE;
        }
        *name = arg;
    }
    if (need_name && !*name) {
        cli_error("usage: wasmplug %s NAME", cmd);
        return EXIT_USAGE;
    }
    return client_setup(c);
}

/* The end of a command's output: {key: value} on stdout with --json (value
 * is released either way). */
static void json_result(const char *key, json_t *value)
{
    if (G.json)
        cli_json_print(json_pack("{s:o}", key, value));
    else
        json_decref(value);
}

/* The output of a successful removal (registry remove, trust remove). */
static int report_removed(const char *what, const char *name)
{
    cli_note("removed %s %s", what, name);
    json_result("removed", json_string(name));
    return EXIT_OK;
}

static json_t *result_json(const wasmplug_dist_result *r)
{
    return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:b}", "id", r->id, "version", r->version,
                     "previous", r->previous, "registry", r->registry, "sha256", r->sha256,
                     "unchanged", r->unchanged);
}

static void result_note(const wasmplug_dist_result *r, const char *verb)
{
    /* cli_note escapes the whole line. */
    const char *id = r->id, *v = r->version, *p = r->previous ? r->previous : "",
               *reg = r->registry ? r->registry : "";
    if (r->unchanged)
        cli_note("%s %s is already installed%s", id, v, *verb == 'u' ? " (up to date)" : "");
    else if (r->previous && wasmplug_semver_compare(r->previous, r->version) < 0)
        cli_note("%s %s %s -> %s%s%s", verb, id, p, v, r->registry ? " from " : "", reg);
    else
        cli_note("%s %s %s%s%s", verb, id, v, r->registry ? " from " : "", reg);
}

/* ------------------------------------------------------------------------ */
/* install / update / outdated / rollback                                   */
/* ------------------------------------------------------------------------ */

int cmd_dist_install(int argc, char **argv)
{
    static const cli_opt opts[] = {CLIENT_OPTS, {"locked", 0, false, O_LOCKED},
                                   {NULL, 0, false, 0}};
    client c = {0};
    cli_args a = {argc, argv, 1, false};
    const char *spec = NULL, *arg;
    bool locked = false;
    int id;
    while ((id = cli_next(&a, opts, "install", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_LOCKED)
            locked = true;
        else if (client_opt(&c, id, arg))
            continue;
        else if (!spec)
            spec = arg;
        else {
            cli_error("install takes one plugin (got '%s' too)", arg);
            return EXIT_USAGE;
        }
    }
    if (!spec == !locked) {
        cli_error("usage: wasmplug install NAME[@RANGE] | PACKAGE.wasmplug | --locked");
        return EXIT_USAGE;
    }
    int rc = client_setup(&c);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_status st;
    if (locked) {
        wasmplug_dist_result *res = NULL;
        size_t n = 0;
        st = wasmplug_dist_install_locked(&c.o, c.project ? c.project : ".", &res, &n, msg,
                                          sizeof msg);
        progress_end();
        if (st) {
            wasmplug_dist_results_free(res, n);
            return c.cc.rc ? c.cc.rc : cli_dist_fail(st, msg);
        }
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            result_note(&res[i], "installed");
            json_array_append_new(list, result_json(&res[i]));
        }
        json_result("installed", list);
        wasmplug_dist_results_free(res, n);
        return EXIT_OK;
    }
    wasmplug_dist_result res;
    st = wasmplug_dist_install(&c.o, spec, &res, msg, sizeof msg);
    progress_end();
    if (st)
        return c.cc.rc ? c.cc.rc : cli_dist_fail(st, msg);
    result_note(&res, "installed");
    json_result("installed", result_json(&res));
    wasmplug_dist_result_clear(&res);
    return EXIT_OK;
}

int cmd_update(int argc, char **argv)
{
    client c = {0};
    const char *name;
    int rc = client_args(argc, argv, "update", false, &c, &name);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_dist_result *res = NULL;
    size_t n = 0;
    wasmplug_status st = wasmplug_dist_update(&c.o, name, &res, &n, msg, sizeof msg);
    progress_end();
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (!res[i].id)
            continue; /* the one that failed */
        result_note(&res[i], "updated");
        json_array_append_new(list, result_json(&res[i]));
    }
    wasmplug_dist_results_free(res, n);
    if (st) {
        json_decref(list);
        return cli_dist_fail(st, msg);
    }
    if (!n)
        cli_note("no plugins installed from a registry: nothing to update");
    json_result("updated", list);
    return EXIT_OK;
}

int cmd_outdated(int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *arg;
    int id;
    while ((id = cli_next(&a, opts, "outdated", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        cli_error("outdated takes no arguments (got '%s')", arg);
        return EXIT_USAGE;
    }
    client c = {0};
    c.no_lock = true;
    int rc = client_setup(&c);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_outdated_entry *e;
    size_t n;
    wasmplug_status st = wasmplug_dist_outdated(&c.o, &e, &n, msg, sizeof msg);
    if (st)
        return cli_dist_fail(st, msg);
    json_t *list = json_array();
    if (!G.json && n)
        printf("%-24s %-12s %-12s %-12s %s\n", "PLUGIN", "INSTALLED", "WANTED", "LATEST",
               "REGISTRY");
    for (size_t i = 0; i < n; i++) {
        if (!G.json)
            printf("%-24s %-12s %-12s %-12s %s\n", term_field(e[i].id),
                   term_field(e[i].installed), term_field(e[i].wanted),
                   term_field(e[i].latest), term_field(e[i].registry));
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", e[i].id,
                                              "installed", e[i].installed, "wanted", e[i].wanted,
                                              "latest", e[i].latest, "registry", e[i].registry));
    }
    if (!n)
        cli_note("every plugin installed from a registry is up to date");
    json_result("outdated", list);
    wasmplug_outdated_free(e, n);
    return EXIT_OK;
}

int cmd_rollback(int argc, char **argv)
{
    client c = {0};
    const char *name;
    int rc = client_args(argc, argv, "rollback", true, &c, &name);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_dist_result res;
    wasmplug_status st = wasmplug_dist_rollback(&c.o, name, &res, msg, sizeof msg);
    if (st)
        return cli_dist_fail(st, msg);
    cli_note("rolled back %s %s -> %s", res.id, res.previous, res.version);
    json_result("rolled_back", result_json(&res));
    wasmplug_dist_result_clear(&res);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* search                                                                   */
/* ------------------------------------------------------------------------ */

int cmd_search(int argc, char **argv)
{
    static const cli_opt opts[] = {{NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    char query[1024] = "";
    size_t used = 0;
    const char *arg;
    int id;
    while ((id = cli_next(&a, opts, "search", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        used += (size_t)snprintf(query + used, used < sizeof query ? sizeof query - used : 0,
                                 "%s%s", used ? " " : "", arg);
        if (used >= sizeof query) {
            cli_error("search: the query is too long");
            return EXIT_USAGE;
        }
    }
    client c = {0};
    c.no_lock = true;
    int rc = client_setup(&c);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_search_hit *hits;
    size_t n;
    wasmplug_status st = wasmplug_dist_search(&c.o, query, &hits, &n, msg, sizeof msg);
    if (st)
        return cli_dist_fail(st, msg);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        if (G.json) {
            json_t *kw = json_array();
            for (size_t k = 0; k < hits[i].keywords.count; k++)
                json_array_append_new(kw, json_string(hits[i].keywords.items[k]));
            json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:o, s:I}", "id",
                                                  hits[i].id, "version", hits[i].version,
                                                  "registry", hits[i].registry, "description",
                                                  hits[i].description, "keywords", kw, "size",
                                                  (json_int_t)hits[i].size));
        } else {
            printf("%s%s%s %s  %s  (%s)\n", cli_bold(), term_field(hits[i].id),
                   cli_reset(), term_field(hits[i].version),
                   term_field(hits[i].description),
                   term_field(hits[i].registry));
        }
    }
    if (!n && !G.json)
        cli_note("no plugin matches '%s'", query);
    json_result("results", list);
    wasmplug_search_hits_free(hits, n);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* registry and trust                                                       */
/* ------------------------------------------------------------------------ */

/* The positional arguments of a subcommand group (registry, trust). */
static int positionals(int argc, char **argv, const char *cmd, const cli_opt *opts,
                       const char **pos, int max, int *npos, int (*on_opt)(int, const char *,
                                                                          void *),
                       void *ud)
{
    cli_args a = {argc, argv, 1, false};
    const char *arg;
    int id;
    *npos = 0;
    while ((id = cli_next(&a, opts, cmd, &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id > 0) {
            int rc = on_opt(id, arg, ud);
            if (rc)
                return rc;
            continue;
        }
        if (*npos == max) {
            cli_error("%s: unexpected argument '%s'", cmd, arg);
            return EXIT_USAGE;
        }
        pos[(*npos)++] = arg;
    }
    int rc = cli_setup();
    return rc ? rc : cli_need_store();
}

typedef struct registry_flags {
    int priority;
    const char *key; /* --key KEY.pub */
} registry_flags;

static int registry_opt(int id, const char *arg, void *ud)
{
    registry_flags *f = ud;
    if (id == O_KEY) {
        f->key = arg;
        return EXIT_OK;
    }
    if (id != O_PRIORITY)
        return EXIT_OK;
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || v < -1000000 || v > 1000000) {
        cli_error("--priority takes an integer (got '%s')", arg);
        return EXIT_USAGE;
    }
    f->priority = (int)v;
    return EXIT_OK;
}

/* Read a public key file (or a base64 key given inline) into *key. */
static int read_pubkey(const char *arg, wasmplug_pubkey *key)
{
    size_t len;
    char *text = wps_read_file(arg, &len);
    if (!text) { /* not a file: the key's base64 line itself */
        text = strdup(arg);
        len = text ? strlen(text) : 0;
    }
    char msg[1024];
    wasmplug_status st = text ? wasmplug_pubkey_parse(text, len, key, msg, sizeof msg)
                              : WASMPLUG_ERR_NOMEM;
    free(text);
    if (st == WASMPLUG_ERR_NOMEM)
        snprintf(msg, sizeof msg, "out of memory");
    return st ? cli_dist_fail(st, msg) : EXIT_OK;
}

int cmd_registry(int argc, char **argv)
{
    static const cli_opt opts[] = {{"priority", 0, true, O_PRIORITY},
                                   {"key", 0, true, O_KEY},
                                   {NULL, 0, false, 0}};
    const char *pos[3];
    int n;
    registry_flags flags = {0, NULL};
    int rc = positionals(argc, argv, "registry", opts, pos, 3, &n, registry_opt, &flags);
    if (rc)
        return rc;
    int priority = flags.priority;
    char msg[2048];
    wasmplug_status st;
    const char *sub = n ? pos[0] : "list";
    if (!strcmp(sub, "add") && n == 3) {
        wasmplug_pubkey key;
        if (flags.key && (rc = read_pubkey(flags.key, &key)))
            return rc;
        if ((st = wasmplug_registry_add(G.store, pos[1], pos[2], priority,
                                        flags.key ? &key : NULL, msg, sizeof msg)))
            return cli_dist_fail(st, msg);
        cli_note("added registry %s (%s, priority %d)", pos[1], pos[2], priority);
        if (G.json)
            cli_json_print(json_pack("{s:{s:s, s:s, s:i}}", "added", "name", pos[1], "url",
                                     pos[2], "priority", priority));
        return EXIT_OK;
    }
    if (!strcmp(sub, "remove") && n == 2) {
        if ((st = wasmplug_registry_remove(G.store, pos[1], msg, sizeof msg)))
            return cli_dist_fail(st, msg);
        return report_removed("registry", pos[1]);
    }
    if (!strcmp(sub, "list") && n <= 1) {
        wasmplug_registry *r;
        size_t count;
        if ((st = wasmplug_registry_list(G.store, &r, &count, msg, sizeof msg)))
            return cli_dist_fail(st, msg);
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++) {
            char hex[17] = "";
            if (r[i].pinned)
                wasmplug_key_id_hex(r[i].index_key.id, hex, sizeof hex);
            if (!G.json)
                printf("%-16s %-6d %s (index version %llu%s%s)\n", r[i].name, r[i].priority,
                       term_field(r[i].url), (unsigned long long)r[i].seen_version,
                       *hex ? ", signed by key " : "", hex);
            json_array_append_new(list, json_pack("{s:s, s:s, s:i, s:I, s:s?}", "name",
                                                  r[i].name, "url", r[i].url, "priority",
                                                  r[i].priority, "seen_version",
                                                  (json_int_t)r[i].seen_version, "index_key",
                                                  *hex ? hex : NULL));
        }
        if (!count)
            cli_note("no registries (add one with `wasmplug registry add NAME URL`)");
        json_result("registries", list);
        wasmplug_registries_free(r, count);
        return EXIT_OK;
    }
    cli_error("usage: wasmplug registry add NAME URL [--priority N] [--key KEY.pub] | list | remove NAME");
    return EXIT_USAGE;
}

static int trust_opt(int id, const char *arg, void *ud)
{
    if (id == O_NAME)
        *(const char **)ud = arg;
    return EXIT_OK;
}

int cmd_trust(int argc, char **argv)
{
    static const cli_opt opts[] = {{"name", 0, true, O_NAME}, {NULL, 0, false, 0}};
    const char *pos[2], *name = NULL;
    int n;
    int rc = positionals(argc, argv, "trust", opts, pos, 2, &n, trust_opt, &name);
    if (rc)
        return rc;
    char msg[2048];
    wasmplug_status st;
    const char *sub = n ? pos[0] : "list";
    if (!strcmp(sub, "add") && n == 2) {
        size_t len;
        char *text = wps_read_file(pos[1], &len);
        if (!text) {
            /* Not a file: a key's base64 line given on the command line. */
            text = strdup(pos[1]);
            len = text ? strlen(text) : 0;
        }
        wasmplug_pubkey key;
        st = text ? wasmplug_trust_add(G.store, text, len, name, &key, msg, sizeof msg)
                  : WASMPLUG_ERR_NOMEM;
        free(text);
        if (st)
            return cli_dist_fail(st, msg);
        char hex[17];
        wasmplug_key_id_hex(key.id, hex, sizeof hex);
        cli_note("trusted key %s%s%s", hex, name ? " " : "", name ? name : "");
        if (G.json)
            cli_json_print(json_pack("{s:{s:s, s:s}}", "trusted", "id", hex, "name",
                                     name ? name : ""));
        return EXIT_OK;
    }
    if (!strcmp(sub, "remove") && n == 2) {
        if ((st = wasmplug_trust_remove(G.store, pos[1], msg, sizeof msg)))
            return cli_dist_fail(st, msg);
        return report_removed("trusted key", pos[1]);
    }
    if (!strcmp(sub, "list") && n <= 1) {
        wasmplug_trusted_key *k;
        size_t count;
        if ((st = wasmplug_trust_list(G.store, &k, &count, msg, sizeof msg)))
            return cli_dist_fail(st, msg);
        json_t *list = json_array();
        for (size_t i = 0; i < count; i++) {
            if (!G.json)
                printf("%s %s\n", k[i].id_hex, term_field(k[i].name));
            json_array_append_new(list,
                                  json_pack("{s:s, s:s}", "id", k[i].id_hex, "name", k[i].name));
        }
        if (!count)
            cli_note("no trusted keys (add one with `wasmplug trust add KEY.pub`)");
        json_result("keys", list);
        wasmplug_trusted_keys_free(k, count);
        return EXIT_OK;
    }
    cli_error("usage: wasmplug trust add KEY.pub [--name NAME] | list | remove ID|NAME");
    return EXIT_USAGE;
}
