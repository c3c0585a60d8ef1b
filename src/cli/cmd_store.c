/*
 * cmd_store.c - the store commands: list, install, remove, info; and the
 * JSON form of a manifest shared with other commands.
 */
#include "cli.h"
#include "services/cache.h"
#include "services/native_cache.h"

#include <wasmplug/native.h>
#include "consent.h"
#include "cli_dist.h"
#include "run_opts.h"

#include <wasmplug/ui.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *strlist_json(const wasmplug_strlist *l)
{
    json_t *a = json_array();
    for (size_t i = 0; i < l->count; i++)
        json_array_append_new(a, json_string(l->items[i]));
    return a;
}

static void set_str(json_t *o, const char *key, const char *v)
{
    json_object_set_new(o, key, v ? json_string(v) : json_null());
}

json_t *cli_doc_json(const wasmplug_manifest_doc *d)
{
    json_t *o = json_object();
    set_str(o, "id", d->id);
    set_str(o, "name", d->name);
    set_str(o, "version", d->version);
    set_str(o, "description", d->description);
    json_object_set_new(o, "authors", strlist_json(&d->authors));
    set_str(o, "license", d->license);
    set_str(o, "module", d->module);
    json_object_set_new(o, "abi",
                        d->abi_given ? json_string(wasmplug_abi_string(d->abi)) : json_null());
    json_object_set_new(o, "exports", strlist_json(&d->exports));
    json_t *cfg = json_object();
    for (size_t i = 0; i < d->config_count; i++)
        json_object_set_new(cfg, d->config[i].key, json_string(d->config[i].value));
    json_object_set_new(o, "config", cfg);
    json_t *perm = json_object();
    json_object_set_new(perm, "host_functions", strlist_json(&d->host_functions));
    json_object_set_new(perm, "env", strlist_json(&d->env));
    json_t *dirs = json_array();
    for (size_t i = 0; i < d->dir_count; i++)
        json_array_append_new(dirs, json_pack("{s:s, s:s, s:s}", "host", d->dirs[i].host, "guest",
                                              d->dirs[i].guest, "mode",
                                              d->dirs[i].readonly ? "ro" : "rw"));
    json_object_set_new(perm, "dirs", dirs);
    json_object_set_new(perm, "events",
                        json_pack("{s:o, s:o}", "publish", strlist_json(&d->events_publish),
                                  "subscribe", strlist_json(&d->events_subscribe)));
    json_object_set_new(perm, "storage",
                        d->storage ? json_pack("{s:I}", "quota", (json_int_t)d->storage_quota)
                                   : json_false());
    json_object_set_new(perm, "http", strlist_json(&d->http_hosts));
    json_object_set_new(o, "permissions", perm);
    const wasmplug_plugin_limits *r = &d->resources;
    json_t *res = json_object();
    if (r->max_memory_pages)
        json_object_set_new(res, "max_memory", json_integer((json_int_t)r->max_memory_pages * 65536));
    if (r->timeout_ms)
        json_object_set_new(res, "timeout_ms", json_integer(r->timeout_ms));
    if (r->fuel)
        json_object_set_new(res, "fuel", json_integer((json_int_t)r->fuel));
    if (r->max_call_depth)
        json_object_set_new(res, "max_call_depth", json_integer(r->max_call_depth));
    if (r->max_input_bytes)
        json_object_set_new(res, "max_input", json_integer(r->max_input_bytes));
    if (r->max_output_bytes)
        json_object_set_new(res, "max_output", json_integer(r->max_output_bytes));
    json_object_set_new(o, "resources", res);
    json_t *ui = json_array();
    for (size_t i = 0; i < d->ui_item_count; i++) {
        const wasmplug_manifest_ui_item *u = &d->ui_items[i];
        json_t *props = json_object();
        for (size_t j = 0; j < u->prop_count; j++)
            json_object_set_new(props, u->props[j].key, json_string(u->props[j].value));
        json_array_append_new(ui, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o, s:o, s:b}", "kind",
                                            wasmplug_ui_kind_string(u->kind), "id", u->id,
                                            "title", u->title, "description", u->description,
                                            "export", u->export_name, "data",
                                            strlist_json(&u->data), "props", props, "scripts",
                                            u->scripts));
    }
    json_object_set_new(o, "ui", ui);
    json_t *nodes = json_array();
    for (size_t i = 0; i < d->node_type_count; i++) {
        const wasmplug_manifest_node_type *t = &d->node_types[i];
        json_array_append_new(nodes, json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?, s:o}",
                                               "name", t->name, "description", t->description,
                                               "prep", t->prep, "exec", t->exec, "post", t->post,
                                               "input", t->input, "output", t->output,
                                               "actions", strlist_json(&t->actions)));
    }
    json_object_set_new(o, "nodes", nodes);
    return o;
}

const char *cli_functype_str(const wasmplug_functype *t, char *buf, size_t size)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, size - at, "(");
    for (uint32_t i = 0; i < t->param_count && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "",
                               wasmplug_valtype_name(t->params[i]));
    if (at < size)
        at += (size_t)snprintf(buf + at, size - at, ") -> ");
    if (t->result_count != 1 && at < size)
        at += (size_t)snprintf(buf + at, size - at, "(");
    for (uint32_t i = 0; i < t->result_count && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "",
                               wasmplug_valtype_name(t->results[i]));
    if (t->result_count != 1 && at < size)
        snprintf(buf + at, size - at, ")");
    return buf;
}

wasmplug_status cli_engine(wasmplug_engine **out)
{
    wasmplug_engine_config cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *b = getenv("WASMPLUG_BOUNDS");
    if (!b)
        b = getenv("WASMPLUG_TEST_BOUNDS");
    if (b && !strcmp(b, "explicit"))
        cfg.bounds = WASMPLUG_BOUNDS_EXPLICIT;
    else if (b && !strcmp(b, "guard"))
        cfg.bounds = WASMPLUG_BOUNDS_GUARD_PAGES;
    return wasmplug_engine_new(&cfg, out);
}

const char *cli_module_error(char *buf, size_t size, const char *file, wasmplug_status st,
                             const wasmplug_error *err)
{
    /* The status, unless the message starts with it ("unsupported feature:
     * threads" already says what UNSUPPORTED would). */
    const char *status = wasmplug_strerror(st);
    bool repeats = !strncmp(err->message, status, strlen(status));
    snprintf(buf, size, "%s: %s%s%s (at byte offset %llu)", term_field(file),
             repeats ? "" : status, repeats ? "" : ": ", term_field(err->message),
             (unsigned long long)err->offset);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* list                                                                     */
/* ------------------------------------------------------------------------ */

static const char *source_name(wps_source s)
{
    return s == WPS_STORE ? "store" : s == WPS_PROJECT ? "project" : "path";
}

enum { O_ALL = 1 };

int cmd_list(int argc, char **argv)
{
    static const cli_opt opts[] = {{"all", 'a', false, O_ALL}, {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    bool all = false;
    const char *arg;
    int id;
    while ((id = cli_next(&a, opts, "list", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_ALL)
            all = true;
        else {
            cli_error("list takes no arguments (got '%s')", arg);
            return EXIT_USAGE;
        }
    }
    int rc = cli_setup();
    if (rc || (rc = cli_store_usable()))
        return rc;
    char cwd[4096];
    const char *project = getcwd(cwd, sizeof cwd) ? cwd : NULL;
    wps_entry *es;
    size_t n;
    char msg[512];
    wps_list(G.store, project, &es, &n, msg, sizeof msg);

    json_t *arr = json_array();
    size_t shown = 0;
    for (size_t i = 0; i < n; i++) {
        wps_entry *e = &es[i];
        const char *eid = e->doc ? e->doc->id : NULL;
        /* Newest only: store/project entries come grouped, newest first. */
        if (!all && i > 0 && eid && es[i - 1].doc && es[i - 1].source == e->source &&
            strcmp(es[i - 1].doc->id, eid) == 0)
            continue;
        shown++;
        if (G.json) {
            json_t *o;
            if (e->doc) {
                o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:b}", "id", e->doc->id, "version",
                              e->doc->version, "name",
                              e->doc->name ? json_string(e->doc->name) : json_null(),
                              "description",
                              e->doc->description ? json_string(e->doc->description)
                                                  : json_null(),
                              "source", source_name(e->source), "path", e->dir, "valid", 1);
            } else {
                char err[1024];
                snprintf(err, sizeof err, "%s:%u:%u: %s", e->diag.file, e->diag.line,
                         e->diag.column, e->diag.message);
                o = json_pack("{s:s, s:s, s:b, s:s}", "source", source_name(e->source), "path",
                              e->dir, "valid", 0, "error", err);
            }
            json_array_append_new(arr, o);
            continue;
        }
        if (shown == 1)
            printf("%s%-24s %-12s %-8s %s%s\n", cli_bold(), "ID", "VERSION", "SOURCE",
                   "DESCRIPTION", cli_reset());
        if (e->doc) {
            const char *desc = e->doc->description ? e->doc->description
                               : e->doc->name      ? e->doc->name
                                                   : "";
            printf("%-24s %-12s %-8s %s\n", term_field(e->doc->id), term_field(e->doc->version),
                   source_name(e->source), term_field(desc));
        } else {
            printf("%-24s %-12s %-8s %sinvalid manifest: %s:%u:%u: %s%s\n", term_field(e->dir),
                   "?", source_name(e->source), cli_red(), term_field(e->diag.file),
                   e->diag.line, e->diag.column, term_field(e->diag.message), cli_reset());
        }
    }
    if (G.json)
        cli_json_print(json_pack("{s:o, s:o}", "store", G.store ? json_string(G.store) : json_null(),
                                 "plugins", arr));
    else {
        json_decref(arr);
        if (!shown)
            cli_note("no plugins installed (store: %s)", G.store ? G.store : "none: no $HOME");
    }
    wps_entries_free(es, n);
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* install                                                                  */
/* ------------------------------------------------------------------------ */

enum { O_MANIFEST = 1, O_FORCE, O_NO_VALIDATE, O_YES, O_GRANT };

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The module must decode, validate and export what the manifest names. */
static int check_module(const wasmplug_manifest_doc *doc, const char *module_path)
{
    size_t len;
    uint8_t *bytes = (uint8_t *)wps_read_file(module_path, &len);
    char msg[1024];
    if (!bytes) {
        snprintf(msg, sizeof msg, "cannot read the module %s: %s", module_path, strerror(errno));
        return cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
    }
    wasmplug_engine *eng;
    if (cli_engine(&eng) != WASMPLUG_OK) {
        free(bytes);
        return cli_fail_json(EXIT_INTERNAL, NULL, "cannot create an engine");
    }
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_status st = wasmplug_module_new(eng, bytes, len, &m, &err);
    int rc = EXIT_OK;
    if (st != WASMPLUG_OK) {
        if (st == WASMPLUG_ERR_UNSUPPORTED)
            snprintf(msg, sizeof msg, "%s: %s (at byte offset %llu)", module_path,
                     term_field(err.message), (unsigned long long)err.offset);
        else
            snprintf(msg, sizeof msg, "%s: %s: %s (at byte offset %llu)", module_path,
                     wasmplug_strerror(st), term_field(err.message),
                     (unsigned long long)err.offset);
        rc = cli_fail_json(cli_exit_for(st), st == WASMPLUG_ERR_UNSUPPORTED ? "unsupported" : "invalid_module", msg);
    } else {
        for (size_t i = 0; i < doc->exports.count && rc == EXIT_OK; i++) {
            bool found = false;
            for (uint32_t j = 0; j < wasmplug_module_export_count(m) && !found; j++) {
                const char *name;
                size_t nlen;
                wasmplug_externtype t;
                wasmplug_module_export(m, j, &name, &nlen, &t);
                found = t.kind == WASMPLUG_EXTERN_FUNC && strcmp(name, doc->exports.items[i]) == 0;
            }
            if (!found) {
                snprintf(msg, sizeof msg,
                         "the manifest lists export '%s' but %s exports no such function",
                         term_field(doc->exports.items[i]), module_path);
                rc = cli_fail_json(EXIT_INVALID, "invalid_module", msg);
            }
        }
        /* Native code now, where a C compiler exists, so that runs start
         * native ($WASMPLUG_INSTALL_NATIVE=0 skips it). */
        const char *want = getenv("WASMPLUG_INSTALL_NATIVE");
        if (rc == EXIT_OK && !(want && !strcmp(want, "0"))) {
            char *dir = wps_cache_dir(NULL);
            wps_native_info info;
            wps_native_attach(m, bytes, len, wasmplug_engine_bounds(eng), dir, true, &info);
            if (info.result == WPS_NATIVE_FAILED)
                cli_note("note: no native code (%s); it runs in the interpreter", info.note);
            free(dir);
        }
        wasmplug_module_free(m);
    }
    free(bytes);
    wasmplug_engine_free(eng);
    return rc;
}

int cmd_install(int argc, char **argv)
{
    /* Packages, registry names and lock files: the distribution client. */
    if (cli_dist_wants_install(argc, argv))
        return CLI_DIST(cmd_dist_install)(argc, argv);
    static const cli_opt opts[] = {{"manifest", 'm', true, O_MANIFEST},
                                   {"force", 'f', false, O_FORCE},
                                   {"no-validate", 0, false, O_NO_VALIDATE},
                                   {"yes", 'y', false, O_YES},
                                   {"grant", 'g', true, O_GRANT},
                                   {NULL, 0, false, 0}};
    cli_args a = {argc, argv, 1, false};
    const char *src = NULL, *manifest = NULL, *arg;
    bool force = false, validate = true;
    const char *grant_flags[64];
    cli_consent_opts consent = {grant_flags, 0, false};
    int id;
    while ((id = cli_next(&a, opts, "install", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == O_YES)
            consent.yes = true;
        else if (id == O_GRANT) {
            if (consent.grant_count == 64) {
                cli_error("install takes at most 64 --grant options");
                return EXIT_USAGE;
            }
            grant_flags[consent.grant_count++] = arg;
        } else if (id == O_MANIFEST)
            manifest = arg;
        else if (id == O_FORCE)
            force = true;
        else if (id == O_NO_VALIDATE)
            validate = false;
        else if (!src)
            src = arg;
        else {
            cli_error("install takes one plugin (got '%s' too)", arg);
            return EXIT_USAGE;
        }
    }
    if (!src) {
        cli_error("usage: wasmplug install DIR | FILE.wasm [--manifest plugin.yaml] [--force] "
                  "[--yes | --grant PERMISSION...]");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc || (rc = cli_need_store()))
        return rc;

    struct stat sb;
    if (stat(src, &sb) != 0) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", src, strerror(errno));
        return cli_fail_json(EXIT_NOT_FOUND, "not_found", msg);
    }
    char *text = NULL, *module_path = NULL, *mfpath = NULL;
    size_t textlen = 0;
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_diag diag;
    wasmplug_status st;
    char msg[1200];

    if (S_ISDIR(sb.st_mode) || ends_with(src, ".yaml") || ends_with(src, ".yml") || manifest) {
        if (manifest)
            mfpath = strdup(manifest);
        else if (S_ISDIR(sb.st_mode)) {
            size_t n = strlen(src) + sizeof WASMPLUG_MANIFEST_FILE + 2;
            mfpath = malloc(n);
            if (mfpath)
                snprintf(mfpath, n, "%s/%s", src, WASMPLUG_MANIFEST_FILE);
        } else
            mfpath = strdup(src);
        if (!mfpath)
            return EXIT_INTERNAL;
        text = wps_read_file(mfpath, &textlen);
        if (!text) {
            snprintf(msg, sizeof msg, "cannot read the manifest %s: %s", mfpath, strerror(errno));
            free(mfpath);
            return cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
        }
        st = wasmplug_manifest_parse(text, textlen, mfpath, &doc, &diag);
        if (st != WASMPLUG_OK) {
            free(text);
            free(mfpath);
            return cli_manifest_error(&diag, st);
        }
        /* The module: the .wasm given, or the manifest's path next to it. */
        if (S_ISREG(sb.st_mode) && !ends_with(src, ".yaml") && !ends_with(src, ".yml"))
            module_path = strdup(src);
        else {
            const char *slash = strrchr(mfpath, '/');
            size_t dl = slash ? (size_t)(slash - mfpath) : 1;
            size_t n = dl + strlen(doc->module) + 2;
            module_path = malloc(n);
            if (module_path)
                snprintf(module_path, n, "%.*s/%s", (int)dl, slash ? mfpath : ".", doc->module);
        }
    } else {
        /* A module with its manifest embedded. */
        size_t len;
        uint8_t *bytes = (uint8_t *)wps_read_file(src, &len);
        if (!bytes) {
            snprintf(msg, sizeof msg, "cannot read %s: %s", src, strerror(errno));
            return cli_fail_json(EXIT_IO, NULL, msg);
        }
        const uint8_t *sec;
        size_t seclen;
        st = wasmplug_binary_custom_section(bytes, len, WASMPLUG_MANIFEST_SECTION, &sec, &seclen);
        if (st != WASMPLUG_OK) {
            free(bytes);
            snprintf(msg, sizeof msg,
                     "%s has no embedded manifest (custom section \"%s\"): give one with "
                     "--manifest plugin.yaml, or install a plugin directory",
                     src, WASMPLUG_MANIFEST_SECTION);
            return cli_fail_json(EXIT_INVALID, "invalid_manifest", msg);
        }
        text = malloc(seclen + 1);
        if (text) {
            memcpy(text, sec, seclen);
            text[seclen] = 0;
            textlen = seclen;
        }
        free(bytes);
        char label[1200];
        snprintf(label, sizeof label, "%s[%s]", src, WASMPLUG_MANIFEST_SECTION);
        st = text ? wasmplug_manifest_parse(text, textlen, label, &doc, &diag) : WASMPLUG_ERR_NOMEM;
        if (st != WASMPLUG_OK) {
            free(text);
            return cli_manifest_error(&diag, st);
        }
        module_path = strdup(src);
    }
    free(mfpath);
    if (!module_path) {
        free(text);
        wasmplug_manifest_doc_free(doc);
        return EXIT_INTERNAL;
    }
    wps_grants grants = {NULL, 0};
    json_t *consent_report = NULL;
    if (validate && (rc = check_module(doc, module_path)) != EXIT_OK)
        goto out;
    /* The operator decides what it may do before anything is written. */
    if ((rc = cli_consent(doc, &consent, &grants, &consent_report)) != EXIT_OK)
        goto out;

    bool progress = !G.quiet && !G.json && isatty(2);
    if (progress)
        fprintf(stderr, "Installing %s %s ...", term_field(doc->id), term_field(doc->version));
    char *dest = NULL;
    st = wps_install(G.store, doc, text, textlen, module_path, force, &dest, msg, sizeof msg);
    if (progress)
        fprintf(stderr, "%s\n", st == WASMPLUG_OK ? " done" : " failed");
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(cli_exit_for(st),
                           st == WASMPLUG_ERR_DUPLICATE ? "already_installed" : NULL, msg);
        goto out;
    }
    /* Recorded after the rename: an install interrupted in between leaves a
     * plugin with no recorded grants, which is granted nothing. */
    st = wps_grants_save(dest, &grants, msg, sizeof msg);
    if (st != WASMPLUG_OK) {
        rc = cli_fail_json(EXIT_IO, NULL, msg);
        free(dest);
        goto out;
    }
    if (G.json) {
        json_t *inst = json_pack("{s:s, s:s, s:s}", "id", doc->id, "version", doc->version,
                                 "path", dest);
        json_object_update(inst, consent_report);
        cli_json_print(json_pack("{s:b, s:o}", "ok", 1, "installed", inst));
    } else {
        printf("%sinstalled%s %s %s -> %s\n", cli_green(), cli_reset(), term_field(doc->id),
               term_field(doc->version), term_field(dest));
        for (size_t i = 0; i < grants.count; i++)
            printf("  granted %s\n", term_field(grants.items[i]));
    }
    free(dest);
out:
    json_decref(consent_report);
    wps_grants_free(&grants);
    free(text);
    free(module_path);
    wasmplug_manifest_doc_free(doc);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* remove                                                                   */
/* ------------------------------------------------------------------------ */

enum { RM_PURGE = 1 };
static const cli_opt REMOVE_OPTS[] = {{"purge", 0, false, RM_PURGE}, {NULL, 0, false, 0}};

int cmd_remove(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    const char *ref = NULL, *arg;
    bool purge = false;
    int id;
    while ((id = cli_next(&a, REMOVE_OPTS, "remove", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == RM_PURGE) {
            purge = true;
            continue;
        }
        if (ref) {
            cli_error("remove takes one plugin (got '%s' too)", arg);
            return EXIT_USAGE;
        }
        ref = arg;
    }
    if (!ref) {
        cli_error("usage: wasmplug remove ID[@VERSION] [--purge]");
        return EXIT_USAGE;
    }
    if (purge && strchr(ref, '@')) {
        cli_error("--purge removes a plugin's data, which its versions share: remove every "
                  "version (wasmplug remove ID --purge)");
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc || (rc = cli_need_store()))
        return rc;
    char idbuf[512];
    snprintf(idbuf, sizeof idbuf, "%s", ref);
    char *at = strchr(idbuf, '@');
    const char *version = NULL;
    if (at) {
        *at = 0;
        version = at + 1;
    }
    size_t removed;
    char msg[1024];
    wasmplug_status st = wps_remove(G.store, idbuf, version, &removed, msg, sizeof msg);
    if (st != WASMPLUG_OK)
        return cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE : cli_exit_for(st), NULL,
                             msg);
    /* The plugin's data stays unless --purge (versions share it). */
    bool purged = false;
    if (purge && G.data_dir) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", G.data_dir, idbuf);
        if (access(path, F_OK) == 0) {
            int e = wps_rmtree(path);
            if (e != 0) {
                snprintf(msg, sizeof msg, "removed %.200s, but not its data %.600s: %s", idbuf, path,
                         strerror(e));
                return cli_fail_json(EXIT_IO, NULL, msg);
            }
            purged = true;
        }
    }
    if (G.json)
        cli_json_print(json_pack("{s:{s:s, s:o, s:i, s:b}}", "removed", "id", idbuf, "version",
                                 version ? json_string(version) : json_null(), "versions",
                                 (int)removed, "data_purged", purged));
    else
        printf("removed %s (%zu version%s)%s\n", term_field(ref), removed,
               removed == 1 ? "" : "s", purged ? ", and its data" : "");
    return EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* info                                                                     */
/* ------------------------------------------------------------------------ */

static void print_list(const char *label, const wasmplug_strlist *l)
{
    if (!l->count)
        return;
    printf("  %-16s", label);
    for (size_t i = 0; i < l->count; i++)
        printf("%s%s", i ? ", " : "", term_field(l->items[i]));
    printf("\n");
}

static void print_size(const char *label, uint64_t bytes)
{
    if (bytes % (1 << 20) == 0)
        printf("  %-16s%llu MiB\n", label, (unsigned long long)(bytes >> 20));
    else if (bytes % 1024 == 0)
        printf("  %-16s%llu KiB\n", label, (unsigned long long)(bytes >> 10));
    else
        printf("  %-16s%llu bytes\n", label, (unsigned long long)bytes);
}

/* The manifest's UI contributions, one line each:
 * "panel overview  Tally overview (render_overview; data: info, metrics)". */
static void print_ui(const wasmplug_manifest_doc *d)
{
    if (!d->ui_item_count)
        return;
    printf("%sUI%s (needs the grant ui)\n", cli_bold(), cli_reset());
    for (size_t i = 0; i < d->ui_item_count; i++) {
        const wasmplug_manifest_ui_item *u = &d->ui_items[i];
        char label[160];
        snprintf(label, sizeof label, "%s %s", wasmplug_ui_kind_string(u->kind), u->id);
        printf("  %-16s%s (%s", term_field(label), term_field(u->title),
               term_field(u->export_name));
        for (size_t j = 0; j < u->data.count; j++)
            printf("%s%s", j ? ", " : "; data: ", term_field(u->data.items[j]));
        for (size_t j = 0; j < u->prop_count; j++)
            printf("%s%s %s", j ? ", " : "; props: ", term_field(u->props[j].key),
                   term_field(u->props[j].value));
        printf("%s)\n", u->scripts ? "; scripts (grant ui.scripts)" : "");
    }
}

/* The manifest's workflow node types, one line each:
 * "sentiment       Scores the sentiment ... (exec: analyze)". */
static void print_nodes(const wasmplug_manifest_doc *d)
{
    if (!d->node_type_count)
        return;
    printf("%sWorkflow nodes%s (wasmplug flow)\n",
           cli_bold(), cli_reset());
    for (size_t i = 0; i < d->node_type_count; i++) {
        const wasmplug_manifest_node_type *t = &d->node_types[i];
        printf("  %-16s%s%s(", term_field(t->name), term_field(t->description),
               t->description ? " " : "");
        const char *phase[3] = {"prep", "exec", "post"}, *fn[3] = {t->prep, t->exec, t->post};
        bool any = false;
        for (int k = 0; k < 3; k++)
            if (fn[k]) {
                printf("%s%s: %s", any ? ", " : "", phase[k], term_field(fn[k]));
                any = true;
            }
        printf("%s)\n", any ? "" : "default exports");
    }
}

/* info's --allow-http PATTERN (repeatable), taken out of argv before the
 * common parser: what those patterns would grant the plugin. */
static bool take_http_flags(int *argc, char **argv, run_opts *o)
{
    int kept = 0;
    for (int i = 0; i < *argc; i++) {
        const char *v = NULL;
        if (!strcmp(argv[i], "--allow-http") && i + 1 < *argc)
            v = argv[++i];
        else if (!strncmp(argv[i], "--allow-http=", 13))
            v = argv[i] + 13;
        if (!v) {
            argv[kept++] = argv[i];
            continue;
        }
        const char **l = realloc((void *)o->http, (o->http_count + 1) * sizeof *l);
        if (!l)
            return false;
        l[o->http_count++] = v;
        o->http = l;
    }
    *argc = kept;
    return true;
}

int cmd_info(int argc, char **argv)
{
    const char *ref;
    cli_plugin p;
    run_opts ho;
    memset(&ho, 0, sizeof ho);
    if (!take_http_flags(&argc, argv, &ho))
        return cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
    if (ho.http_count && cli_http_continue() >= 0) /* returns only on failure */
        return EXIT_INTERNAL;
    int rc = cli_resolve_args(argc, argv, "info", "wasmplug info PLUGIN [--allow-http PATTERN]",
                              &ref, &p);
    if (rc != EXIT_OK) {
        free((void *)ho.http);
        return rc;
    }
    json_t *http_granted = cli_http_grants(p.doc, &ho);
    free((void *)ho.http);

    /* The module's exports, if it loads. */
    json_t *exports = json_array();
    char modmsg[512] = "";
    int modrc = EXIT_OK; /* info still shows the manifest, then fails */
    size_t modsize = 0;
    uint8_t *bytes = (uint8_t *)wps_read_file(p.module_path, &modsize);
    if (!bytes) {
        modrc = errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO;
        snprintf(modmsg, sizeof modmsg, "cannot read %s: %s", p.module_path, strerror(errno));
    }
    wasmplug_engine *eng = NULL;
    wasmplug_module *m = NULL;
    if (bytes && cli_engine(&eng) == WASMPLUG_OK) {
        wasmplug_error err;
        wasmplug_status st = wasmplug_module_new(eng, bytes, modsize, &m, &err);
        if (st != WASMPLUG_OK) {
            modrc = cli_exit_for(st);
            snprintf(modmsg, sizeof modmsg, "%s: %s", wasmplug_strerror(st),
                     term_field(err.message));
        }
        for (uint32_t i = 0; m && i < wasmplug_module_export_count(m); i++) {
            const char *name;
            size_t nlen;
            wasmplug_externtype t;
            wasmplug_module_export(m, i, &name, &nlen, &t);
            if (t.kind != WASMPLUG_EXTERN_FUNC)
                continue;
            char ty[256];
            json_array_append_new(exports, json_pack("{s:s, s:s}", "name", name, "type",
                                                     cli_functype_str(&t.of.func, ty, sizeof ty)));
        }
    }
    free(bytes);

    if (G.json) {
        json_t *o = p.doc ? cli_doc_json(p.doc) : json_object();
        json_object_set_new(o, "source", json_string(p.source));
        json_object_set_new(o, "path", p.dir ? json_string(p.dir) : json_null());
        json_object_set_new(o, "module_path", json_string(p.module_path));
        json_object_set_new(o, "module_size", json_integer((json_int_t)modsize));
        json_object_set_new(o, "module_exports", exports);
        if (!strcmp(p.source, "store"))
            json_object_set_new(o, "granted", cli_grants_json(p.dir));
        json_object_set_new(o, "http_granted", json_incref(http_granted));
        if (*modmsg)
            json_object_set_new(o, "module_error", json_string(modmsg));
        json_object_set_new(o, "ok", json_boolean(modrc == EXIT_OK));
        if (modrc != EXIT_OK)
            json_object_set_new(o, "error",
                                json_pack("{s:s, s:s, s:i}", "kind", "invalid_module", "message",
                                          modmsg, "exit_code", modrc));
        cli_json_print(o);
    } else {
        const wasmplug_manifest_doc *d = p.doc;
        if (d) {
            printf("%s%s%s %s\n", cli_bold(), term_field(d->name ? d->name : d->id), cli_reset(),
                   term_field(d->version));
            if (d->description)
                printf("  %s\n", term_field(d->description));
            printf("  %-16s%s\n", "id", term_field(d->id));
            print_list("authors", &d->authors);
            if (d->license)
                printf("  %-16s%s\n", "license", term_field(d->license));
            printf("  %-16s%s\n", "abi", d->abi_given ? wasmplug_abi_string(d->abi) : "(detected)");
            print_list("exports", &d->exports);
            for (size_t i = 0; i < d->config_count; i++)
                printf("  %-16s%s = %s\n", i ? "" : "config", term_field(d->config[i].key),
                       term_field(d->config[i].value));
            printf("%sPermissions%s\n", cli_bold(), cli_reset());
            if (!d->host_functions.count && !d->env.count && !d->dir_count &&
                !d->events_publish.count && !d->events_subscribe.count && !d->storage &&
                !d->http_hosts.count)
                printf("  none\n");
            print_list("host functions", &d->host_functions);
            print_list("env", &d->env);
            for (size_t i = 0; i < d->dir_count; i++)
                printf("  %-16s%s -> %s (%s)\n", i ? "" : "dirs", term_field(d->dirs[i].host),
                       term_field(d->dirs[i].guest),
                       d->dirs[i].readonly ? "read-only" : "read-write");
            print_list("publish", &d->events_publish);
            print_list("subscribe", &d->events_subscribe);
            if (d->storage) {
                if (d->storage_quota)
                    print_size("storage quota", d->storage_quota);
                else
                    printf("  %-16s%s\n", "storage", "yes");
            }
            print_list("http", &d->http_hosts);
            for (size_t i = 0; i < json_array_size(http_granted); i++)
                printf("  %-16s%s\n", i ? "" : "http granted",
                       json_string_value(json_array_get(http_granted, i)));
            if (!strcmp(p.source, "store"))
                cli_grants_print(p.dir);
            print_ui(d);
            print_nodes(d);
            const wasmplug_plugin_limits *r = &d->resources;
            printf("%sResources%s\n", cli_bold(), cli_reset());
            if (!r->max_memory_pages && !r->timeout_ms && !r->fuel && !r->max_call_depth &&
                !r->max_input_bytes && !r->max_output_bytes)
                printf("  host defaults\n");
            if (r->max_memory_pages)
                print_size("max memory", (uint64_t)r->max_memory_pages * 65536);
            if (r->timeout_ms)
                printf("  %-16s%u ms\n", "timeout", r->timeout_ms);
            if (r->fuel)
                printf("  %-16s%llu\n", "fuel", (unsigned long long)r->fuel);
            if (r->max_call_depth)
                printf("  %-16s%u\n", "max call depth", r->max_call_depth);
            if (r->max_input_bytes)
                print_size("max input", r->max_input_bytes);
            if (r->max_output_bytes)
                print_size("max output", r->max_output_bytes);
        } else {
            printf("%s%s%s (no manifest)\n", cli_bold(), term_field(p.module_path), cli_reset());
        }
        printf("%sModule%s\n  %-16s%s (%zu bytes)\n", cli_bold(), cli_reset(), "path",
               term_field(p.module_path), modsize);
        printf("  %-16s%s\n", "source", p.source);
        if (*modmsg)
            printf("  %-16s%s%s%s\n", "error", cli_red(), term_field(modmsg), cli_reset());
        size_t n = json_array_size(exports);
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(exports, i);
            printf("  %-16s%s %s\n", i ? "" : "functions",
                   term_field(json_string_value(json_object_get(e, "name"))),
                   json_string_value(json_object_get(e, "type")));
        }
        json_decref(exports);
    }
    wasmplug_module_free(m);
    if (eng)
        wasmplug_engine_free(eng);
    json_decref(http_granted);
    cli_plugin_free(&p);
    if (modrc != EXIT_OK && !G.json)
        cli_error("%s", modmsg);
    return modrc;
}
