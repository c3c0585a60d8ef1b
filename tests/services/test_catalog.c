/*
 * test_catalog.c - a host's plugins from a plugin store on disk
 * (wasmplug/catalog.h): everything loaded in dependency order, a cycle and
 * what depends on it failing with their own status, recorded grants
 * applied; refresh reloads a plugin when a newer version is installed or
 * the same version is installed again (calls then reach the new code),
 * leaves unchanged ones alone, keeps a removed plugin that others need
 * (ERR_IN_USE) and kills it once they are gone; invalid manifests are
 * failed entries; lazily registered catalogs build on first use; a
 * watched catalog reloads and loads what installs change, by itself.
 */
#include "host_test.h"

#include <wasmplug/catalog.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef WP_HOST_TEST_PLUGINS
#define WP_HOST_TEST_PLUGINS "."
#endif

static char store[256];

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        test_check(0, __FILE__, __LINE__, cmd);
}

/* Install id@version as `wasmplug install` leaves it: a directory built
 * aside, then renamed into place (replacing an installed copy). module is
 * a host test plugin; extra is more manifest text; grants, if not NULL,
 * the recorded grants file. */
static void install(const char *id, const char *version, const char *module, const char *extra,
                    const char *grants)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; d=%s/plugins/%s/%s; t=%s/.tmp/new-%s; rm -rf \"$t\"; mkdir -p \"$t\" "
             "%s/plugins/%s; cp %s/%s.wasm \"$t\"/plugin.wasm; "
             "printf 'id: %s\\nversion: %s\\nmodule: plugin.wasm\\n%s' > \"$t\"/plugin.yaml; "
             "%s%s%s if [ -d \"$d\" ]; then mv \"$d\" \"$t.old\"; fi; mv \"$t\" \"$d\"; "
             "rm -rf \"$t.old\"",
             store, id, version, store, id, store, id, WP_HOST_TEST_PLUGINS, module, id, version,
             extra ? extra : "", grants ? "printf '" : "", grants ? grants : "",
             grants ? "\\n' > \"$t\"/grants;" : "");
    run(cmd);
}

static void uninstall(const char *id)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s/plugins/%s", store, id);
    run(cmd);
}

static bool entry(wasmplug_catalog *c, const char *id, wasmplug_catalog_entry *out)
{
    for (size_t i = 0; i < wasmplug_catalog_count(c); i++)
        if (wasmplug_catalog_entry_at(c, i, out) == WASMPLUG_OK && !strcmp(out->id, id))
            return true;
    memset(out, 0, sizeof *out);
    return false;
}

static void check_entry(wasmplug_catalog *c, const char *id, wasmplug_catalog_action action,
                        wasmplug_status status, const char *msg_part, int line)
{
    wasmplug_catalog_entry e;
    bool ok = entry(c, id, &e) && e.action == action && e.status == status &&
              (!msg_part || strstr(e.message, msg_part));
    if (!test_check(ok, __FILE__, line, id))
        printf("     %s: %s %s \"%s\"\n", id, wasmplug_catalog_action_string(e.action),
               wasmplug_status_name(e.status), e.message);
}
#define CHECK_ENTRY(c, id, action, status, msg) \
    check_entry((c), (id), WASMPLUG_CATALOG_##action, (status), (msg), __LINE__)

static char who(wasmplug_host *h, const char *name)
{
    wasmplug_buf out;
    wasmplug_plugin_error err;
    char c = 0;
    if (wasmplug_host_call(h, name, "who", NULL, 0, &out, &err) == WASMPLUG_OK && out.len == 1)
        c = (char)out.data[0];
    wasmplug_buf_free(&out);
    return c;
}

static void test_open_and_refresh(void)
{
    install("base", "1.0.0", "reload_a", NULL, NULL);
    install("app", "1.0.0", "reload_a", "dependencies: {base: ^1}\\n", NULL);
    install("c1", "1.0.0", "reload_a", "dependencies: {c2: x}\\n", NULL);
    install("c2", "1.0.0", "reload_a", "dependencies: {c1: x}\\n", NULL);
    install("needs-c1", "1.0.0", "reload_a", "dependencies: {c1: x}\\n", NULL);
    install("granted", "1.0.0", "denied", "permissions: {host_functions: [env.secret]}\\n",
            "env.secret");
    install("ungranted", "1.0.0", "denied", "permissions: {host_functions: [env.secret]}\\n",
            NULL);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/plugins/broken/1.0.0 && printf 'id: broken\\n' > "
                              "%s/plugins/broken/1.0.0/plugin.yaml",
             store, store);
    run(cmd);

    wasmplug_host *h = host_test_new(NULL);
    wasmplug_catalog_config cc;
    wasmplug_catalog_config_init(&cc);
    cc.store_root = store;
    wasmplug_catalog *c = NULL;
    char msg[512];
    CHECK_STATUS(wasmplug_catalog_open(h, &cc, &c, msg, sizeof msg), WASMPLUG_OK);
    if (!c) {
        wasmplug_host_free(h);
        return;
    }
    CHECK_CONTAINS(msg, "5 of 8 plugins failed");
    CHECK_STR(wasmplug_catalog_store(c), store);
    CHECK_ENTRY(c, "base", LOADED, WASMPLUG_OK, NULL);
    CHECK_ENTRY(c, "app", LOADED, WASMPLUG_OK, NULL);
    CHECK_ENTRY(c, "c1", FAILED, WASMPLUG_ERR_DEPENDENCY_CYCLE, "c1 -> c2 -> c1");
    CHECK_ENTRY(c, "c2", FAILED, WASMPLUG_ERR_DEPENDENCY_CYCLE, "c1 -> c2 -> c1");
    CHECK_ENTRY(c, "needs-c1", FAILED, WASMPLUG_ERR_DEPENDENCY_MISSING, "'c1'");
    CHECK_ENTRY(c, "granted", LOADED, WASMPLUG_OK, NULL);
    CHECK_ENTRY(c, "ungranted", FAILED, WASMPLUG_ERR_PERMISSION_DENIED, "env.secret");
    CHECK_ENTRY(c, "broken", FAILED, WASMPLUG_ERR_MANIFEST, "plugin.yaml:");
    /* Dependencies first: base is loaded before app. */
    wasmplug_catalog_entry e0, e1;
    size_t ib = 0, ia = 0;
    for (size_t i = 0; i < wasmplug_catalog_count(c); i++) {
        wasmplug_catalog_entry_at(c, i, &e0);
        if (!strcmp(e0.id, "base"))
            ib = i;
        if (!strcmp(e0.id, "app"))
            ia = i;
    }
    CHECK(ib < ia);
    CHECK_STATUS(wasmplug_catalog_entry_at(c, 99, &e1), WASMPLUG_ERR_NOT_FOUND);
    CHECK_EQ(who(h, "base"), 'A');

    /* Nothing changed: nothing reloaded. */
    size_t changed = 99;
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_EQ(changed, 0);
    CHECK_ENTRY(c, "base", UNCHANGED, WASMPLUG_OK, NULL);

    /* An update installs 1.1.0 beside 1.0.0: reloaded, calls reach B. */
    install("base", "1.1.0", "reload_b", NULL, NULL);
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_EQ(changed, 1);
    CHECK_ENTRY(c, "base", RELOADED, WASMPLUG_OK, NULL);
    CHECK_ENTRY(c, "app", UNCHANGED, WASMPLUG_OK, NULL);
    CHECK(entry(c, "base", &e0) && !strcmp(e0.version, "1.1.0"));
    CHECK_EQ(who(h, "base"), 'B');
    wasmplug_plugin *p = NULL;
    CHECK_STATUS(wasmplug_host_get(h, "base", &p), WASMPLUG_OK);
    CHECK_STR(wasmplug_plugin_version(p), "1.1.0");
    /* The same version installed again (install --force): reloaded. */
    install("base", "1.1.0", "reload_a", NULL, NULL);
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_ENTRY(c, "base", RELOADED, WASMPLUG_OK, NULL);
    CHECK_EQ(who(h, "base"), 'A');
    /* A new version outside what app needs: the reload is refused, the
     * running version keeps serving. */
    install("base", "2.0.0", "reload_b", NULL, NULL);
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_ENTRY(c, "base", FAILED, WASMPLUG_ERR_DEPENDENCY_VERSION, "'app'");
    CHECK_EQ(who(h, "base"), 'A');
    CHECK_STR(wasmplug_plugin_version(p), "1.1.0");
    wasmplug_plugin_release(p);

    /* Removed while app needs it: stays. Then app goes, and base with it. */
    uninstall("base");
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_ENTRY(c, "base", FAILED, WASMPLUG_ERR_IN_USE, "needed by 'app'");
    CHECK_EQ(who(h, "base"), 'A');
    uninstall("app");
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK_ENTRY(c, "app", REMOVED, WASMPLUG_OK, NULL);
    CHECK_ENTRY(c, "base", REMOVED, WASMPLUG_OK, NULL);
    CHECK_STATUS(wasmplug_host_get(h, "base", &p), WASMPLUG_ERR_NOT_FOUND);
    /* Removed entries are forgotten by the next refresh. */
    CHECK_STATUS(wasmplug_catalog_refresh(c, &changed, msg, sizeof msg), WASMPLUG_OK);
    CHECK(!entry(c, "base", &e0));
    wasmplug_catalog_free(c);
    wasmplug_host_free(h);
}

static void test_lazy(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_catalog_config cc;
    wasmplug_catalog_config_init(&cc);
    cc.store_root = store;
    cc.lazy = true;
    install("lazy-one", "1.0.0", "reload_b", NULL, NULL);
    wasmplug_catalog *c = NULL;
    char msg[512];
    CHECK_STATUS(wasmplug_catalog_open(h, &cc, &c, msg, sizeof msg), WASMPLUG_OK);
    CHECK_ENTRY(c, "lazy-one", LOADED, WASMPLUG_OK, NULL);
    wasmplug_plugin *p = NULL;
    CHECK_STATUS(wasmplug_host_get(h, "lazy-one", &p), WASMPLUG_OK);
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_UNLOADED);
    CHECK_EQ(who(h, "lazy-one"), 'B');
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);
    wasmplug_plugin_release(p);
    wasmplug_catalog_free(c);
    wasmplug_host_free(h);
}

static atomic_int watched_refreshes;

static void on_refresh(void *user, wasmplug_catalog *c, size_t changed)
{
    (void)user;
    (void)c;
    (void)changed;
    atomic_fetch_add(&watched_refreshes, 1);
}

/* Until name answers who with want (20 s at most). */
static bool wait_who(wasmplug_host *h, const char *name, char want)
{
    for (int i = 0; i < 2000; i++) {
        if (who(h, name) == want)
            return true;
        usleep(10000);
    }
    return false;
}

/* A watched catalog reloads what an install replaces, by itself. */
static void test_watch(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_catalog_config cc;
    wasmplug_catalog_config_init(&cc);
    cc.store_root = store;
    install("w1", "1.0.0", "reload_a", NULL, NULL);
    wasmplug_catalog *c = NULL;
    char msg[512];
    CHECK_STATUS(wasmplug_catalog_open(h, &cc, &c, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_catalog_watch(c, 100, on_refresh, NULL), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_catalog_watch(c, 100, on_refresh, NULL), WASMPLUG_ERR_PLUGIN_STATE);
    CHECK_EQ(who(h, "w1"), 'A');
    install("w1", "1.1.0", "reload_b", NULL, NULL);
    CHECK(wait_who(h, "w1", 'B'));
    install("w2", "1.0.0", "reload_a", NULL, NULL);
    CHECK(wait_who(h, "w2", 'A'));
    CHECK(atomic_load(&watched_refreshes) >= 2);
    wasmplug_catalog_free(c); /* stops watching */
    wasmplug_host_free(h);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    snprintf(store, sizeof store, "/tmp/wasmplug-catalog-XXXXXX");
    if (!mkdtemp(store)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    test_open_and_refresh();
    test_lazy();
    test_watch();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", store);
    run(cmd);
    return test_done();
}
