/*
 * test_lazy.c - lazy loading (wasmplug_load_options.lazy): a plugin
 * registered lazily is found, listed and described (id, version, limits,
 * state UNLOADED) before its first use and built by it; failing builds
 * (missing file, bytes that are no module) report their error on every use
 * and are recorded once; 8 threads using a lazy plugin at once build it
 * once; wasmplug_plugin_build builds ahead; an unused lazy plugin is
 * disposed or reloaded without being built; 300 registrations.
 */
#include "host_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int loads; /* on_load hooks run: one per build */

static void count_load(void *user, wasmplug_plugin *p)
{
    (void)user;
    (void)p;
    atomic_fetch_add(&loads, 1);
}

static wasmplug_status register_lazy(wasmplug_host *h, const char *name, const char *path,
                                     bool init, wasmplug_plugin **out, wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = "lazy-one";
    m.version = "3.1.4";
    m.resources.timeout_ms = 5000;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.lazy = true;
    o.init = init;
    o.manifest = &m;
    return wasmplug_host_load_file(h, name, path, &o, out, err);
}

static char who(wasmplug_plugin *p, wasmplug_status *st, wasmplug_plugin_error *err)
{
    wasmplug_buf out;
    *st = wasmplug_plugin_call(p, "who", NULL, 0, &out, err);
    char c = *st == WASMPLUG_OK && out.len == 1 ? (char)out.data[0] : 0;
    wasmplug_buf_free(&out);
    return c;
}

static void test_before_and_after_first_use(wasmplug_host *h)
{
    char path[1024];
    host_test_path(path, sizeof path, "reload_a");
    int loads0 = atomic_load(&loads);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(register_lazy(h, "lz", path, true, &p, &err), WASMPLUG_OK, &err);
    if (!p)
        return;
    CHECK_EQ(atomic_load(&loads), loads0); /* nothing built yet */
    /* Found, listed, described. */
    wasmplug_plugin *found = NULL;
    CHECK_CODE(wasmplug_host_get(h, "lz", &found), WASMPLUG_OK, NULL);
    CHECK(found == p);
    wasmplug_plugin_release(found);
    char **names = NULL;
    size_t n = 0;
    CHECK_CODE(wasmplug_host_list(h, &names, &n), WASMPLUG_OK, NULL);
    CHECK(n >= 1 && strcmp(names[n - 1], "lz") == 0);
    wasmplug_free(names);
    wasmplug_plugin_info info;
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK_STR(info.id, "lazy-one");
    CHECK_STR(info.version, "3.1.4");
    CHECK_EQ(info.state, WASMPLUG_STATE_UNLOADED);
    CHECK_EQ(info.export_count, 0);
    CHECK_EQ(info.instances, 0);
    CHECK_EQ(info.limits.timeout_ms, 5000);
    CHECK_STR(wasmplug_plugin_id(p), "lazy-one");
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_UNLOADED);
    CHECK_EQ(atomic_load(&loads), loads0);

    /* The first call builds and initializes it. */
    wasmplug_status st;
    CHECK_EQ(who(p, &st, &err), 'A');
    CHECK_CODE(st, WASMPLUG_OK, &err);
    CHECK_EQ(atomic_load(&loads), loads0 + 1);
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK(info.export_count >= 4);
    CHECK(wasmplug_plugin_has_function(p, "state_save"));
    CHECK_CODE(wasmplug_plugin_build(p, &err), WASMPLUG_OK, &err); /* built already */
    CHECK_EQ(atomic_load(&loads), loads0 + 1);
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill(h, "lz"), WASMPLUG_OK, NULL);
}

static void test_failed_builds(wasmplug_host *h)
{
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    /* The file is read at the build: registering a missing one works. */
    CHECK_CODE(register_lazy(h, "lz-missing", "/nonexistent/lazy.wasm", true, &p, &err),
               WASMPLUG_OK, &err);
    if (p) {
        wasmplug_status st;
        CHECK_EQ(who(p, &st, &err), 0);
        CHECK_CODE(st, WASMPLUG_ERR_IO, &err);
        CHECK_CONTAINS(err.message, "cannot read '/nonexistent/lazy.wasm'");
        CHECK_EQ(who(p, &st, &err), 0); /* the same error again, not built again */
        CHECK_CODE(st, WASMPLUG_ERR_IO, &err);
        CHECK_CODE(wasmplug_plugin_build(p, &err), WASMPLUG_ERR_IO, &err);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_ERROR);
        CHECK_EQ(wasmplug_plugin_errors(p, &err, 1), 1); /* recorded once */
        CHECK(!wasmplug_plugin_has_function(p, "who"));
        wasmplug_plugin_release(p);
        CHECK_CODE(wasmplug_host_kill(h, "lz-missing"), WASMPLUG_OK, NULL);
    }
    /* Bytes that are no module: the decoder's error at the first use. */
    static const uint8_t junk[] = {0, 'a', 's', 'm', 9, 9, 9, 9};
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.lazy = true;
    CHECK_CODE(wasmplug_host_load(h, "lz-junk", junk, sizeof junk, &o, &p, &err), WASMPLUG_OK,
               &err);
    if (p) {
        wasmplug_val r;
        CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err),
                   WASMPLUG_ERR_MALFORMED, &err);
        CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_ERR_MALFORMED, &err);
        wasmplug_plugin_release(p);
    }
    /* A bad name or option fails the registration itself. */
    CHECK_CODE(wasmplug_host_load(h, "lz-junk", junk, sizeof junk, &o, NULL, &err),
               WASMPLUG_ERR_DUPLICATE, &err);
    CHECK_CODE(wasmplug_host_kill(h, "lz-junk"), WASMPLUG_OK, NULL);
}

typedef struct racer {
    wasmplug_plugin *p;
    char got;
} racer;

static void *race_first_use(void *arg)
{
    racer *r = arg;
    wasmplug_status st;
    wasmplug_plugin_error err;
    r->got = who(r->p, &st, &err);
    return NULL;
}

static void test_concurrent_first_use(wasmplug_host *h)
{
    char path[1024];
    host_test_path(path, sizeof path, "reload_b");
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(register_lazy(h, "lz-race", path, true, &p, &err), WASMPLUG_OK, &err);
    if (!p)
        return;
    int loads0 = atomic_load(&loads);
    pthread_t th[8];
    racer r[8];
    for (int i = 0; i < 8; i++) {
        r[i].p = p;
        r[i].got = 0;
        pthread_create(&th[i], NULL, race_first_use, &r[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(r[i].got, 'B');
    }
    CHECK_EQ(atomic_load(&loads), loads0 + 1);
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill(h, "lz-race"), WASMPLUG_OK, NULL);
}

static void *build_ahead(void *arg)
{
    wasmplug_plugin_error err;
    if (wasmplug_plugin_build(arg, &err) != WASMPLUG_OK)
        test_check(0, __FILE__, __LINE__, err.message);
    return NULL;
}

static void test_build_dispose_reload(wasmplug_host *h)
{
    char path[1024];
    host_test_path(path, sizeof path, "reload_a");
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    int loads0 = atomic_load(&loads);

    /* Built ahead from a background thread, initialized by its first call
     * (registered without init, so that call fails: not ready). */
    CHECK_CODE(register_lazy(h, "lz-ahead", path, false, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        pthread_t th;
        pthread_create(&th, NULL, build_ahead, p);
        pthread_join(th, NULL);
        CHECK_EQ(atomic_load(&loads), loads0 + 1);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_LOADED);
        CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_OK, &err);
        wasmplug_status st;
        CHECK_EQ(who(p, &st, &err), 'A');
        wasmplug_plugin_release(p);
        CHECK_CODE(wasmplug_host_kill(h, "lz-ahead"), WASMPLUG_OK, NULL);
    }
    /* Init on a lazy plugin builds and initializes it. */
    CHECK_CODE(register_lazy(h, "lz-init", path, false, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_OK, &err);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);
        wasmplug_plugin_release(p);
        CHECK_CODE(wasmplug_host_kill(h, "lz-init"), WASMPLUG_OK, NULL);
    }
    loads0 = atomic_load(&loads);
    /* Never used: disposed without a build. */
    CHECK_CODE(register_lazy(h, "lz-unused", path, true, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
        CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_DISPOSED);
        wasmplug_status st;
        CHECK_EQ(who(p, &st, &err), 0);
        CHECK_CODE(st, WASMPLUG_ERR_PLUGIN_STATE, &err);
        CHECK_EQ(atomic_load(&loads), loads0);
        wasmplug_plugin_release(p);
        CHECK_CODE(wasmplug_host_kill(h, "lz-unused"), WASMPLUG_OK, NULL);
    }
    /* Reloaded before its first use: the new version serves, the lazy
     * source is never built. */
    CHECK_CODE(register_lazy(h, "lz-reload", path, true, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        char bpath[1024];
        host_test_path(bpath, sizeof bpath, "reload_b");
        CHECK_CODE(wasmplug_plugin_reload_file(p, bpath, NULL, &err), WASMPLUG_OK, &err);
        wasmplug_status st;
        CHECK_EQ(who(p, &st, &err), 'B');
        CHECK_EQ(atomic_load(&loads), loads0);
        CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
        wasmplug_plugin_release(p);
        CHECK_CODE(wasmplug_host_kill(h, "lz-reload"), WASMPLUG_OK, NULL);
    }
}

/* Hundreds of registrations: all listed at once, none built until used. */
static void test_many(wasmplug_host *h)
{
    char path[1024];
    host_test_path(path, sizeof path, "reload_a");
    int loads0 = atomic_load(&loads);
    size_t before = wasmplug_host_count(h);
    for (int i = 0; i < 300; i++) {
        char name[32];
        snprintf(name, sizeof name, "many-%03d", i);
        wasmplug_plugin_error err;
        CHECK_CODE(register_lazy(h, name, path, true, NULL, &err), WASMPLUG_OK, &err);
    }
    CHECK_EQ(wasmplug_host_count(h), before + 300);
    CHECK_EQ(atomic_load(&loads), loads0);
    wasmplug_buf out;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_call(h, "many-123", "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 1 && out.data[0] == 'A');
    wasmplug_buf_free(&out);
    CHECK_EQ(atomic_load(&loads), loads0 + 1);
    wasmplug_host_kill_all(h);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_lifecycle l = {count_load, NULL, NULL, NULL};
    CHECK_EQ(wasmplug_host_set_lifecycle(h, &l), WASMPLUG_OK);
    test_before_and_after_first_use(h);
    test_failed_builds(h);
    test_concurrent_first_use(h);
    test_build_dispose_reload(h);
    test_many(h);
    wasmplug_host_free(h);
    return test_done();
}
