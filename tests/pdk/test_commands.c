/*
 * test_commands.c - the command ABI through the example block-renderer
 * (examples/plugins/block-renderer, Rust PDK's command::Plugin, built from
 * source): initialize with the config at init, known commands and their
 * JSON responses, an unknown command, malformed commands, shutdown at
 * dispose (its log line, a failing shutdown), a refused initialize.
 *
 *   test_commands [--bounds MODE] PLUGIN_DIR
 */
#include "test.h"

#include "wasmplug.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char last_log[512];
static int logs;

static void on_log(void *user, wasmplug_plugin *plugin, const char *name,
                   wasmplug_log_level level, const char *msg, size_t len)
{
    (void)user;
    (void)plugin;
    (void)name;
    (void)level;
    snprintf(last_log, sizeof last_log, "%.*s", (int)len, msg);
    logs++;
}

/* Send a command; out gets the response (NUL-terminated) or "". */
static wasmplug_status command(wasmplug_plugin *p, const char *json, char *out, size_t size,
                               wasmplug_plugin_error *err)
{
    wasmplug_buf b = {NULL, 0};
    wasmplug_status st =
        wasmplug_plugin_call(p, "handle_command", (const uint8_t *)json, strlen(json), &b, err);
    snprintf(out, size, "%.*s", (int)b.len, b.data ? (const char *)b.data : "");
    wasmplug_buf_free(&b);
    return st;
}

static wasmplug_plugin *load(wasmplug_host *h, const char *name, const char *path,
                             const wasmplug_kv *config, size_t nconfig, wasmplug_status want,
                             wasmplug_plugin_error *err)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.config = config;
    o.config_count = nconfig;
    wasmplug_plugin *p = NULL;
    CHECK_STATUS(wasmplug_host_load_file(h, name, path, &o, &p, err), want);
    return p;
}

static void test_commands(wasmplug_host *h, const char *path)
{
    char out[1024];
    wasmplug_plugin_error err;
    const wasmplug_kv config[] = {{"class", "card"}};
    wasmplug_plugin *p = load(h, "blocks", path, config, 1, WASMPLUG_OK, &err);
    if (!p)
        return;
    wasmplug_plugin_info info;
    CHECK_STATUS(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK);
    CHECK_EQ(info.abi, WASMPLUG_ABI_COMMAND);

    /* initialize ran (with the config) before the first command. */
    CHECK_STATUS(command(p, "{\"action\":\"status\"}", out, sizeof out, &err), WASMPLUG_OK);
    CHECK_CONTAINS(out, "\"initialized\":true");
    CHECK_CONTAINS(out, "\"handled\":1");

    CHECK_STATUS(command(p,
                         "{\"action\":\"render_block\",\"payload\":{\"title\":\"Hi <you>\","
                         "\"body\":\"Ünïcode & more\"}}",
                         out, sizeof out, &err),
                 WASMPLUG_OK);
    CHECK_CONTAINS(out, "<div class=\\\"card\\\"><h2>Hi &lt;you&gt;</h2>");
    CHECK_CONTAINS(out, "<p>Ünïcode &amp; more</p>");
    CHECK_STATUS(command(p, "{\"action\":\"process_data\",\"payload\":{\"numbers\":[1,2,3.5]}}",
                         out, sizeof out, &err),
                 WASMPLUG_OK);
    CHECK_CONTAINS(out, "\"count\":3");
    CHECK_CONTAINS(out, "\"sum\":6.5");

    /* A command's own failure, an unknown action, malformed commands. */
    CHECK_STATUS(command(p, "{\"action\":\"render_block\",\"payload\":{}}", out, sizeof out, &err),
                 WASMPLUG_ERR_PLUGIN);
    CHECK_EQ(err.plugin_code, 1);
    CHECK_CONTAINS(err.message, "handle_command returned 1 (failed): render_block needs a \"title\"");
    CHECK_STATUS(command(p, "{\"action\":\"frobnicate\"}", out, sizeof out, &err),
                 WASMPLUG_ERR_PLUGIN);
    CHECK_EQ(err.plugin_code, 2);
    CHECK_CONTAINS(err.message,
                   "handle_command returned 2 (unknown command): unknown command 'frobnicate'");
    CHECK_STATUS(command(p, "{\"action\": \"status\"", out, sizeof out, &err), WASMPLUG_ERR_PLUGIN);
    CHECK_EQ(err.plugin_code, 3);
    CHECK_CONTAINS(err.message, "(invalid command): invalid command: not JSON");
    CHECK_STATUS(command(p, "{\"payload\":1}", out, sizeof out, &err), WASMPLUG_ERR_PLUGIN);
    CHECK_EQ(err.plugin_code, 3);
    CHECK_CONTAINS(err.message, "an object with an \"action\" string");
    CHECK_STATUS(command(p, "", out, sizeof out, &err), WASMPLUG_ERR_PLUGIN);
    CHECK_EQ(err.plugin_code, 3);
    CHECK_STATUS(command(p, "\xff\xfe", out, sizeof out, &err), WASMPLUG_ERR_PLUGIN);
    CHECK_CONTAINS(err.message, "not UTF-8");

    /* The same instance answered everything: its state kept counting. */
    CHECK_STATUS(command(p, "{\"action\":\"status\"}", out, sizeof out, &err), WASMPLUG_OK);
    CHECK_CONTAINS(out, "\"handled\":6"); /* the malformed ones never reached it */

    /* shutdown runs at dispose. */
    logs = 0;
    CHECK_STATUS(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK);
    CHECK_EQ(logs, 1);
    CHECK_CONTAINS(last_log, "shutdown after 6 commands");
    wasmplug_plugin_release(p);

    /* A failing shutdown is the dispose's error. */
    p = load(h, "blocks2", path, NULL, 0, WASMPLUG_OK, &err);
    if (p) {
        CHECK_STATUS(command(p, "{\"action\":\"fail_shutdown\"}", out, sizeof out, &err),
                     WASMPLUG_OK);
        CHECK(strcmp(out, "null") == 0);
        CHECK_STATUS(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_PLUGIN);
        CHECK_EQ(err.phase, WASMPLUG_PHASE_DISPOSE);
        CHECK_CONTAINS(err.message, "shutdown returned 1: shutdown failed as asked");
        wasmplug_plugin_release(p);
    }

    /* A failing initialize fails the init, with its message. */
    const wasmplug_kv refuse[] = {{"refuse", "yes"}};
    p = load(h, "blocks3", path, refuse, 1, WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_INIT);
    CHECK_EQ(err.plugin_code, 1);
    CHECK_CONTAINS(err.message, "initialize returned 1 (failed): initialize refused");
    if (p)
        wasmplug_plugin_release(p);
}

int main(int argc, char **argv)
{
    wasmplug_bounds_mode bounds = test_bounds(&argc, argv);
    if (argc != 2) {
        fprintf(stderr, "usage: test_commands [--bounds MODE] PLUGIN_DIR\n");
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/block_renderer.wasm", argv[1]);
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = bounds;
    hc.on_log = on_log;
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(&hc, &h) != WASMPLUG_OK)
        return 1;
    test_commands(h, path);
    wasmplug_host_free(h);
    return test_done();
}
