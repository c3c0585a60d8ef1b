/*
 * cmd_kv.c - `wasmplug kv PLUGIN list|get|set|delete|export|import`: a
 * plugin's key-value data (<data dir>/<plugin id>/kv.sqlite) through the
 * services library's host API, whether or not the plugin runs. PLUGIN is a
 * plugin id, or anything `run` accepts (its manifest's id is used). Values
 * and keys are the plugin's bytes: escaped on a terminal, raw in a pipe.
 */
#include "cli.h"

#include <wasmplug/services.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { K_LIMIT = 1, K_AFTER, K_REPLACE };

static const cli_opt KV_OPTS[] = {{"limit", 0, true, K_LIMIT},
                                  {"after", 0, true, K_AFTER},
                                  {"replace", 0, false, K_REPLACE},
                                  {NULL, 0, false, 0}};

static const char KV_USAGE[] =
    "usage: wasmplug kv PLUGIN list [PREFIX] [--limit N] [--after KEY] | get KEY | "
    "set KEY VALUE|- | delete KEY | export [FILE] | import FILE|- [--replace]";

/* The id whose data PLUGIN names: a bare id, or a plugin's manifest id. */
static int plugin_id(const char *ref, char *out, size_t size)
{
    if (!strchr(ref, '/') && !strstr(ref, ".wasm") && !strstr(ref, ".yaml")) {
        snprintf(out, size, "%s", ref);
        char *at = strchr(out, '@'); /* ID@VERSION: versions share their data */
        if (at)
            *at = 0;
        return EXIT_OK;
    }
    cli_plugin p;
    int rc = cli_resolve(ref, NULL, &p);
    if (rc != EXIT_OK)
        return rc;
    if (!p.doc) {
        cli_plugin_free(&p);
        return cli_fail_json(EXIT_USAGE, "usage",
                             "a module without a manifest has no plugin id: name the id");
    }
    snprintf(out, size, "%s", p.doc->id);
    cli_plugin_free(&p);
    return EXIT_OK;
}

/* Print untrusted bytes: raw into a pipe or file, escaped on a terminal. */
static void print_bytes(const void *data, size_t len)
{
    if (isatty(1))
        fputs(term_fieldn(data, len), stdout);
    else
        fwrite(data, 1, len, stdout);
}

static int fail(wasmplug_status st, const char *msg)
{
    return cli_fail_json(st == WASMPLUG_ERR_ARGUMENT ? EXIT_USAGE : cli_exit_for(st), NULL, msg);
}

static int do_list(wasmplug_services *svc, const char *id, const char *prefix, const char *after,
                   uint32_t limit)
{
    char msg[1024];
    wasmplug_kv_entry *e = NULL;
    size_t n = 0;
    wasmplug_status st = wasmplug_kv_list(svc, id, prefix, prefix ? strlen(prefix) : 0, after,
                                          after ? strlen(after) : 0, limit, &e, &n, msg,
                                          sizeof msg);
    if (st != WASMPLUG_OK)
        return fail(st, msg);
    if (G.json) {
        json_t *keys = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(keys, json_pack("{s:o, s:I}", "key",
                                                  cli_json_bytes(e[i].key, e[i].key_len),
                                                  "value_bytes", (json_int_t)e[i].value_len));
        cli_json_print(json_pack("{s:s, s:o}", "plugin", id, "keys", keys));
    } else {
        for (size_t i = 0; i < n; i++) {
            print_bytes(e[i].key, e[i].key_len);
            putchar('\n');
        }
    }
    wasmplug_kv_entries_free(e, n);
    return EXIT_OK;
}

/* Read FILE or "-" whole. */
static uint8_t *read_arg_file(const char *path, size_t *len, int *rc)
{
    uint8_t *data = cli_read_input(path, len);
    if (!data) {
        char msg[1200];
        snprintf(msg, sizeof msg, "cannot read %s: %s", path, strerror(errno));
        *rc = cli_fail_json(errno == ENOENT ? EXIT_NOT_FOUND : EXIT_IO, NULL, msg);
    }
    return data;
}

int cmd_kv(int argc, char **argv)
{
    cli_args a = {argc, argv, 1, false};
    const char *pos[4] = {NULL, NULL, NULL, NULL}, *arg, *after = NULL;
    size_t npos = 0;
    uint64_t limit = 0;
    bool replace = false;
    int id;
    while ((id = cli_next(&a, KV_OPTS, "kv", &arg)) != -1) {
        if (id == -2)
            return EXIT_USAGE;
        if (id == K_LIMIT && (!cli_parse_u64(arg, &limit) || limit == 0 || limit > UINT32_MAX)) {
            cli_error("--limit takes a positive number (got '%s')", arg);
            return EXIT_USAGE;
        } else if (id == K_AFTER) {
            after = arg;
        } else if (id == K_REPLACE) {
            replace = true;
        } else if (id == 0) {
            if (npos == 4) {
                cli_error("%s", KV_USAGE);
                return EXIT_USAGE;
            }
            pos[npos++] = arg;
        }
    }
    const char *action = pos[1];
    bool ok = action && ((!strcmp(action, "list") && npos <= 3) ||
                         ((!strcmp(action, "get") || !strcmp(action, "delete")) && npos == 3) ||
                         (!strcmp(action, "set") && npos == 4) ||
                         (!strcmp(action, "export") && npos <= 3) ||
                         (!strcmp(action, "import") && npos == 3));
    if (!ok) {
        cli_error("%s", KV_USAGE);
        return EXIT_USAGE;
    }
    int rc = cli_setup();
    if (rc)
        return rc;
    if (!G.data_dir)
        return cli_fail_json(EXIT_USAGE, "usage",
                             "cannot find the plugin data directory: set --data-dir, "
                             "$WASMPLUG_PLUGIN_DATA or $HOME");
    char pid[WASMPLUG_NAME_MAX];
    if ((rc = plugin_id(pos[0], pid, sizeof pid)) != EXIT_OK)
        return rc;
    wasmplug_host *h = NULL;
    char msg[1024];
    if (wasmplug_host_new(NULL, &h) != WASMPLUG_OK)
        return cli_fail_json(EXIT_INTERNAL, NULL, "cannot create the plugin host");
    wasmplug_status ast = cli_attach_services(h, msg, sizeof msg);
    if (ast != WASMPLUG_OK) {
        wasmplug_host_free(h);
        return cli_fail_json(cli_services_exit(ast), NULL, msg);
    }
    wasmplug_services *svc = wasmplug_services_of(h);
    wasmplug_status st = WASMPLUG_OK;
    if (!strcmp(action, "list")) {
        rc = do_list(svc, pid, pos[2], after, (uint32_t)limit);
    } else if (!strcmp(action, "get")) {
        wasmplug_buf v;
        st = wasmplug_kv_get(svc, pid, pos[2], strlen(pos[2]), &v, msg, sizeof msg);
        if (st == WASMPLUG_OK) {
            if (G.json)
                cli_json_print(json_pack("{s:o}", "value", cli_json_bytes(v.data, v.len)));
            else {
                print_bytes(v.data, v.len);
                if (isatty(1))
                    putchar('\n');
            }
            wasmplug_buf_free(&v);
        }
    } else if (!strcmp(action, "set")) {
        size_t len = 0;
        uint8_t *data = !strcmp(pos[3], "-") ? read_arg_file("-", &len, &rc)
                                             : (uint8_t *)strdup(pos[3]);
        if (data) {
            if (strcmp(pos[3], "-"))
                len = strlen(pos[3]);
            st = wasmplug_kv_set(svc, pid, pos[2], strlen(pos[2]), data, len, msg, sizeof msg);
            free(data);
        } else if (rc == EXIT_OK) {
            rc = cli_fail_json(EXIT_INTERNAL, NULL, "out of memory");
        }
    } else if (!strcmp(action, "delete")) {
        st = wasmplug_kv_delete(svc, pid, pos[2], strlen(pos[2]), msg, sizeof msg);
    } else if (!strcmp(action, "export")) {
        wasmplug_buf out;
        st = wasmplug_kv_export(svc, pid, &out, msg, sizeof msg);
        if (st == WASMPLUG_OK) {
            FILE *f = pos[2] && strcmp(pos[2], "-") ? fopen(pos[2], "w") : stdout;
            if (!f || fwrite(out.data, 1, out.len, f) != out.len || fputc('\n', f) == EOF ||
                (f != stdout && fclose(f) != 0)) {
                snprintf(msg, sizeof msg, "cannot write %s: %s", pos[2] ? pos[2] : "stdout",
                         strerror(errno));
                rc = cli_fail_json(EXIT_IO, NULL, msg);
            }
            wasmplug_buf_free(&out);
        }
    } else { /* import */
        size_t len = 0;
        uint8_t *data = read_arg_file(pos[2], &len, &rc);
        if (data) {
            st = wasmplug_kv_import(svc, pid, data, len, replace, msg, sizeof msg);
            free(data);
        }
    }
    wasmplug_host_free(h);
    if (st != WASMPLUG_OK)
        return fail(st, msg);
    if (rc == EXIT_OK && G.json && (!strcmp(action, "set") || !strcmp(action, "delete") ||
                                    !strcmp(action, "import")))
        cli_json_print(json_pack("{s:b, s:s, s:s}", "ok", 1, "plugin", pid, "done", action));
    return rc;
}
