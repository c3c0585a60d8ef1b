/*
 * test_deps.c - plugin dependencies (wasmplug_manifest.dependencies): a
 * plugin loads when what it depends on is loaded in a fitting version;
 * missing, unsatisfiable and cyclic dependencies (itself, or a reload that
 * would close a cycle) fail with their own status naming them; kill and
 * dispose of a plugin others depend on are refused unless forced; lazy
 * dependencies are built before their dependent, and a failing one fails
 * it; bad dependency entries are manifest errors.
 */
#include "host_test.h"

#include <stdlib.h>
#include <string.h>

static uint8_t *wasm_a;
static size_t size_a;
static char order[256]; /* names of the plugins built, in order */

static void record_load(void *user, wasmplug_plugin *p)
{
    (void)user;
    size_t n = strlen(order);
    snprintf(order + n, sizeof order - n, "%s ", wasmplug_plugin_name(p));
}

/* Load reload_a.wasm as name with manifest id/version and one dependency
 * (dep_id NULL: none). */
static wasmplug_status load(wasmplug_host *h, const char *name, const char *id,
                            const char *version, const char *dep_id, const char *dep_range,
                            bool lazy, const char *path, wasmplug_plugin_error *err)
{
    wasmplug_kv dep = {dep_id, dep_range};
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.version = version;
    m.dependencies = dep_id ? &dep : NULL;
    m.dependency_count = dep_id ? 1 : 0;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.lazy = lazy;
    o.manifest = &m;
    if (path)
        return wasmplug_host_load_file(h, name, path, &o, NULL, err);
    return wasmplug_host_load(h, name, wasm_a, size_a, &o, NULL, err);
}

static void test_failures(wasmplug_host *h)
{
    wasmplug_plugin_error err;
    CHECK_CODE(load(h, "base", "base", "1.4.0", NULL, NULL, false, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(load(h, "app", "app", "1.0.0", "base", "^1.2", false, NULL, &err), WASMPLUG_OK,
               &err);

    CHECK_CODE(load(h, "app2", "app2", "1.0.0", "base", "^2.0", false, NULL, &err),
               WASMPLUG_ERR_DEPENDENCY_VERSION, &err);
    CHECK_CONTAINS(err.message, "depends on 'base' ^2.0, but 'base' is version 1.4.0");
    CHECK_CODE(load(h, "app3", "app3", "1.0.0", "nowhere", "1.x", false, NULL, &err),
               WASMPLUG_ERR_DEPENDENCY_MISSING, &err);
    CHECK_CONTAINS(err.message, "depends on 'nowhere' 1.x, which is not loaded");
    CHECK_CODE(load(h, "selfish", "selfish", "1.0.0", "selfish", "*", false, NULL, &err),
               WASMPLUG_ERR_DEPENDENCY_CYCLE, &err);
    CHECK_CONTAINS(err.message, "depends on itself");
    wasmplug_plugin *p = NULL;
    CHECK_CODE(wasmplug_host_get(h, "app2", &p), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_host_get(h, "selfish", &p), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_EQ(wasmplug_host_count(h), 2);

    /* A reload of base that would depend on app (which depends on base). */
    CHECK_CODE(wasmplug_host_get(h, "base", &p), WASMPLUG_OK, NULL);
    wasmplug_kv dep = {"app", "*"};
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = "base";
    m.version = "1.5.0";
    m.dependencies = &dep;
    m.dependency_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    wasmplug_reload_options ro = {0};
    ro.load = &o;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, &ro, &err),
               WASMPLUG_ERR_DEPENDENCY_CYCLE, &err);
    CHECK_CONTAINS(err.message, "base -> app -> base");
    CHECK_STR(wasmplug_plugin_version(p), "1.4.0"); /* the old version serves */
    /* Without the cycle the reload works, and app still depends on base. */
    m.dependencies = NULL;
    m.dependency_count = 0;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, &ro, &err), WASMPLUG_OK, &err);
    CHECK_STR(wasmplug_plugin_version(p), "1.5.0");

    /* Kill and dispose of base are refused while app depends on it. */
    CHECK_CODE(wasmplug_host_kill(h, "base"), WASMPLUG_ERR_IN_USE, NULL);
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_IN_USE, &err);
    CHECK_CONTAINS(err.message, "plugin 'base' is needed by 'app' (it depends on it)");
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    wasmplug_buf_free(&out);
    /* Once app is gone, base goes too. */
    CHECK_CODE(wasmplug_host_kill(h, "app"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill(h, "base"), WASMPLUG_OK, NULL);

    /* Forced. */
    CHECK_CODE(load(h, "core", "core", "2.0.0", NULL, NULL, false, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(load(h, "ext", "ext", "1.0.0", "core", ">=2 <3", false, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(wasmplug_host_get(h, "core", &p), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_plugin_dispose_forced(p, &err), WASMPLUG_OK, &err);
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill_forced(h, "core"), WASMPLUG_OK, NULL);
    /* A disposed or killed plugin satisfies nothing. */
    CHECK_CODE(load(h, "ext2", "ext2", "1.0.0", "core", "*", false, NULL, &err),
               WASMPLUG_ERR_DEPENDENCY_MISSING, &err);
    wasmplug_host_kill_all(h);
}

static void test_lazy_dependencies(wasmplug_host *h)
{
    char path[1024];
    host_test_path(path, sizeof path, "reload_a");
    wasmplug_plugin_error err;
    order[0] = 0;
    CHECK_CODE(load(h, "lib", "lib", "0.3.1", NULL, NULL, true, path, &err), WASMPLUG_OK, &err);
    CHECK_CODE(load(h, "user", "user", "1.0.0", "lib", "~0.3", true, path, &err), WASMPLUG_OK,
               &err);
    CHECK_STR(order, ""); /* nothing built yet */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_host_call(h, "user", "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    wasmplug_buf_free(&out);
    CHECK_STR(order, "lib user ");
    /* An eager load builds its lazy dependency first too. */
    order[0] = 0;
    CHECK_CODE(load(h, "lib2", "lib2", "1.0.0", NULL, NULL, true, path, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(load(h, "user2", "user2", "1.0.0", "lib2", "1", false, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_STR(order, "lib2 user2 ");
    /* A dependency that fails to build fails its dependent. */
    CHECK_CODE(load(h, "broken", "broken", "1.0.0", NULL, NULL, true, "/nonexistent/x.wasm",
                    &err),
               WASMPLUG_OK, &err);
    CHECK_CODE(load(h, "user3", "user3", "1.0.0", "broken", "*", false, NULL, &err),
               WASMPLUG_ERR_DEPENDENCY_MISSING, &err);
    CHECK_CONTAINS(err.message, "whose plugin 'broken' failed to load: cannot read");
    /* Lazily registered: the dependency's failure comes with the first use. */
    CHECK_CODE(load(h, "user4", "user4", "1.0.0", "broken", "*", true, path, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(wasmplug_host_call(h, "user4", "who", NULL, 0, &out, &err),
               WASMPLUG_ERR_DEPENDENCY_MISSING, &err);
    wasmplug_host_kill_all(h);
}

static void test_manifest_errors(wasmplug_host *h)
{
    wasmplug_plugin_error err;
    CHECK_CODE(load(h, "bad", "bad", "1.0.0", "x", "^^1", false, NULL, &err),
               WASMPLUG_ERR_MANIFEST, &err);
    CHECK_CONTAINS(err.message, "manifest dependency 'x'");
    CHECK_CODE(load(h, "bad", "bad", "1.0.0", "no/such id", "1", false, NULL, &err),
               WASMPLUG_ERR_MANIFEST, &err);
    CHECK_CONTAINS(err.message, "is not a plugin id");
    CHECK_STR(wasmplug_status_name(WASMPLUG_ERR_IN_USE), "ERR_IN_USE");
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasm_a = host_test_plugin("reload_a", &size_a);
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_lifecycle l = {record_load, NULL, NULL, NULL};
    CHECK_EQ(wasmplug_host_set_lifecycle(h, &l), WASMPLUG_OK);
    if (wasm_a) {
        test_failures(h);
        test_lazy_dependencies(h);
        test_manifest_errors(h);
    }
    wasmplug_host_free(h);
    free(wasm_a);
    return test_done();
}
