/*
 * test_reload.c - hot reload (wasmplug_plugin_reload): the switch, a failed
 * reload keeping the old version, state handover, the health gate (rollback
 * and acceptance), dispose/kill after reloads, and the soak: 4 threads call
 * a plugin without pause while it is reloaded WASMPLUG_RELOAD_COUNT times
 * (default 1000; CI's TSan run uses fewer), alternating versions A and B with
 * every fifth reload to a version whose init fails. Every call must succeed
 * with "A" or "B"; each failed reload must leave the old version serving.
 * Also the handle's accessors after reloads (id, version, settings, exports,
 * ...), and settings read by 2 threads while the plugin is reloaded.
 */
#include "host_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static uint8_t *wasm_a, *wasm_b, *wasm_bad, *wasm_flaky;
static size_t size_a, size_b, size_bad, size_flaky;

/* "who" of p: 'A', 'B', or 0 with the status in *st. */
static char who(wasmplug_plugin *p, wasmplug_status *st)
{
    wasmplug_buf out;
    wasmplug_plugin_error err;
    *st = wasmplug_plugin_call(p, "who", NULL, 0, &out, &err);
    char c = *st == WASMPLUG_OK && out.len == 1 ? (char)out.data[0] : 0;
    wasmplug_buf_free(&out);
    return c;
}

static char who_ok(wasmplug_plugin *p)
{
    wasmplug_status st;
    char c = who(p, &st);
    CHECK_EQ(st, WASMPLUG_OK);
    return c;
}

static wasmplug_plugin *load_a(wasmplug_host *h, const char *name, uint32_t pool)
{
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.pool_size = pool;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(h, name, wasm_a, size_a, &o, &p, &err), WASMPLUG_OK, &err);
    return p;
}

static void test_switch_and_failures(wasmplug_host *h)
{
    wasmplug_plugin *p = load_a(h, "switch", 1);
    if (!p)
        return;
    wasmplug_plugin_error err;
    CHECK_EQ(who_ok(p), 'A');

    /* A version whose init fails: the reload fails, A keeps serving. */
    wasmplug_status st = wasmplug_plugin_reload(p, wasm_bad, size_bad, NULL, &err);
    CHECK(st != WASMPLUG_OK);
    CHECK_CONTAINS(err.message, "cannot start");
    CHECK_EQ(who_ok(p), 'A');
    /* Bytes that are no module: the load error, A keeps serving. */
    static const uint8_t junk[] = {0, 'a', 's', 'n', 9, 9};
    CHECK_CODE(wasmplug_plugin_reload(p, junk, sizeof junk, NULL, &err), WASMPLUG_ERR_MALFORMED,
               &err);
    CHECK_EQ(who_ok(p), 'A');
    CHECK_CODE(wasmplug_plugin_reload_file(p, "/nonexistent/x.wasm", NULL, &err), WASMPLUG_ERR_IO,
               &err);
    CHECK_EQ(who_ok(p), 'A');

    char path[1024];
    host_test_path(path, sizeof path, "reload_b");
    CHECK_CODE(wasmplug_plugin_reload_file(p, path, NULL, &err), WASMPLUG_OK, &err);
    CHECK_EQ(who_ok(p), 'B');
    /* By name, through the registry: the same handle, the new version. */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_host_call(h, "switch", "who", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 1 && out.data[0] == 'B');
    wasmplug_buf_free(&out);
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);

    wasmplug_reload_info info;
    CHECK_EQ(wasmplug_plugin_reload_get_info(p, &info), WASMPLUG_OK);
    CHECK_EQ(info.generation, 1);
    CHECK_EQ(info.reloads, 1);
    CHECK_EQ(info.failed, 3);
    CHECK_EQ(info.rollbacks, 0);
    CHECK_CONTAINS(info.last_failure, "cannot read");
    /* Metrics continue across versions: 6 calls of who (one by name). */
    wasmplug_metrics m;
    CHECK_EQ(wasmplug_plugin_get_metrics(p, &m), WASMPLUG_OK);
    CHECK_EQ(m.calls, 6);
    CHECK_EQ(m.errors, 0);
    /* The failures are in the plugin's error history. */
    wasmplug_plugin_error last;
    CHECK_EQ(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK);
    CHECK_EQ(last.code, WASMPLUG_ERR_IO);

    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_DISPOSED);
    wasmplug_status cs;
    CHECK_EQ(who(p, &cs), 0);
    CHECK_EQ(cs, WASMPLUG_ERR_PLUGIN_STATE);
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, NULL, &err), WASMPLUG_ERR_PLUGIN_STATE,
               &err);
    wasmplug_plugin_release(p);
    CHECK_EQ(wasmplug_host_kill(h, "switch"), WASMPLUG_OK);
}

static uint32_t count_of(wasmplug_plugin *p)
{
    wasmplug_buf out;
    wasmplug_plugin_error err;
    uint32_t n = 0;
    CHECK_CODE(wasmplug_plugin_call(p, "count", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    if (out.len == 4)
        memcpy(&n, out.data, 4);
    wasmplug_buf_free(&out);
    return n;
}

static void test_state_handover(wasmplug_host *h)
{
    wasmplug_plugin *p = load_a(h, "handover", 2);
    if (!p)
        return;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(who_ok(p), 'A');
    wasmplug_reload_options ro = {NULL, 0, 0, "state_save", "state_restore"};
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_b, size_b, &ro, &err), WASMPLUG_OK, &err);
    CHECK_EQ(count_of(p), 3);
    CHECK_EQ(who_ok(p), 'B');
    CHECK_EQ(count_of(p), 4);
    /* Without handover the new version starts from zero. */
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, NULL, &err), WASMPLUG_OK, &err);
    CHECK_EQ(count_of(p), 0);
    /* A restore export the new version lacks fails the reload. */
    wasmplug_reload_options bad = {NULL, 0, 0, "state_save", "no_such_export"};
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_b, size_b, &bad, &err), WASMPLUG_ERR_NOT_FOUND,
               &err);
    CHECK_EQ(who_ok(p), 'A');
    wasmplug_plugin_release(p);
    CHECK_EQ(wasmplug_host_kill(h, "handover"), WASMPLUG_OK);
}

static void test_health_gate(wasmplug_host *h)
{
    wasmplug_plugin *p = load_a(h, "gate", 1);
    if (!p)
        return;
    wasmplug_plugin_error err;
    /* Flaky: every who fails; 4 gated calls, at most 50% may fail. */
    wasmplug_reload_options ro = {NULL, 4, 50, NULL, NULL};
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_flaky, size_flaky, &ro, &err), WASMPLUG_OK, &err);
    wasmplug_reload_info info;
    CHECK_EQ(wasmplug_plugin_reload_get_info(p, &info), WASMPLUG_OK);
    CHECK(info.gate_pending);
    wasmplug_status st;
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(who(p, &st), 0);
        CHECK_EQ(st, WASMPLUG_ERR_PLUGIN);
    }
    /* Rolled back to A, with the reason recorded. */
    CHECK_EQ(who_ok(p), 'A');
    CHECK_EQ(wasmplug_plugin_reload_get_info(p, &info), WASMPLUG_OK);
    CHECK(!info.gate_pending);
    CHECK_EQ(info.rollbacks, 1);
    CHECK_EQ(info.generation, 2);
    CHECK_CONTAINS(info.last_failure, "4 of the first 4 calls");
    wasmplug_plugin_error last;
    CHECK_EQ(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK);
    CHECK_CONTAINS(last.message, "rolled back");

    /* B passes its gate of 2 calls: A is disposed, B stays. */
    ro.health_calls = 2;
    ro.health_max_failure_percent = 0;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_b, size_b, &ro, &err), WASMPLUG_OK, &err);
    CHECK_EQ(who_ok(p), 'B');
    CHECK_EQ(who_ok(p), 'B');
    CHECK_EQ(wasmplug_plugin_reload_get_info(p, &info), WASMPLUG_OK);
    CHECK(!info.gate_pending);
    CHECK_EQ(info.rollbacks, 1);
    CHECK_EQ(who_ok(p), 'B');

    /* A reload during a gate accepts the gated version; kill ends all. */
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_flaky, size_flaky, &ro, &err), WASMPLUG_OK, &err);
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, &ro, &err), WASMPLUG_OK, &err);
    CHECK_EQ(who_ok(p), 'A');
    wasmplug_plugin_release(p);
    CHECK_EQ(wasmplug_host_kill(h, "gate"), WASMPLUG_OK);
    CHECK_EQ(wasmplug_host_count(h), 0);
}

/* ---- the soak ---- */

enum { SOAK_CALLERS = 4 };
static atomic_bool soak_stop;
static atomic_long soak_a, soak_b, soak_bad;

static void *soak_caller(void *arg)
{
    wasmplug_plugin *p = arg;
    while (!atomic_load(&soak_stop)) {
        wasmplug_status st;
        char c = who(p, &st);
        if (c == 'A')
            atomic_fetch_add(&soak_a, 1);
        else if (c == 'B')
            atomic_fetch_add(&soak_b, 1);
        else {
            if (atomic_fetch_add(&soak_bad, 1) < 5)
                printf("FAIL: a call during reloads: %s\n", wasmplug_status_name(st));
        }
    }
    return NULL;
}

static long soak_count(void)
{
    const char *s = getenv("WASMPLUG_RELOAD_COUNT");
    long n = s ? strtol(s, NULL, 10) : 1000;
    return n > 0 ? n : 1000;
}

static void test_soak(wasmplug_host *h)
{
    wasmplug_plugin *p = load_a(h, "soak", 2);
    if (!p)
        return;
    pthread_t t[SOAK_CALLERS];
    for (int i = 0; i < SOAK_CALLERS; i++)
        pthread_create(&t[i], NULL, soak_caller, p);
    long reloads = soak_count(), ok = 0, refused = 0, wrong = 0;
    for (long i = 1; i <= reloads; i++) {
        wasmplug_plugin_error err;
        bool bad = i % 5 == 0;
        const uint8_t *w = bad ? wasm_bad : i % 2 ? wasm_b : wasm_a;
        size_t n = bad ? size_bad : i % 2 ? size_b : size_a;
        wasmplug_status st = wasmplug_plugin_reload(p, w, n, NULL, &err);
        if (st == WASMPLUG_OK && !bad)
            ok++;
        else if (st != WASMPLUG_OK && bad)
            refused++;
        else
            wrong++;
    }
    atomic_store(&soak_stop, true);
    for (int i = 0; i < SOAK_CALLERS; i++)
        pthread_join(t[i], NULL);
    long calls = atomic_load(&soak_a) + atomic_load(&soak_b) + atomic_load(&soak_bad);
    printf("     soak: %ld reloads (%ld switched, %ld refused), %ld calls (A %ld, B %ld), "
           "%ld failed\n",
           reloads, ok, refused, calls, atomic_load(&soak_a), atomic_load(&soak_b),
           atomic_load(&soak_bad));
    CHECK_EQ(wrong, 0);
    CHECK_EQ(atomic_load(&soak_bad), 0);
    CHECK_EQ(ok + refused, reloads);
    wasmplug_reload_info info;
    CHECK_EQ(wasmplug_plugin_reload_get_info(p, &info), WASMPLUG_OK);
    CHECK_EQ((long)info.reloads, ok);
    CHECK_EQ((long)info.failed, refused);
    /* Every call was counted once, on the one handle. */
    wasmplug_metrics m;
    CHECK_EQ(wasmplug_plugin_get_metrics(p, &m), WASMPLUG_OK);
    CHECK_EQ((long)m.calls, calls);
    /* The last successful reload went to A or B as the loop says. */
    CHECK_EQ(who_ok(p), reloads % 5 == 0 ? ((reloads - 1) % 2 ? 'B' : 'A')
                                         : (reloads % 2 ? 'B' : 'A'));
    wasmplug_plugin_release(p);
    CHECK_EQ(wasmplug_host_kill(h, "soak"), WASMPLUG_OK);
}

/* The handle's accessors describe the current version: id, version,
 * exports, info, permissions; strings handed out stay valid across
 * reloads (ASan checks). */
static void test_handle_follows_version(wasmplug_host *h)
{
    wasmplug_manifest ma = {0}, mf = {0};
    static const char *const perms_a[] = {"env.add"}, *const perms_f[] = {"env.upper"};
    static const wasmplug_kv settings_a[] = {{"kv.max_keys", "10"}, {"kv.max_bytes", "4096"}},
                             settings_f[] = {{"kv.max_keys", "20"}, {"db.max_bytes", "8192"}};
    ma.id = "alpha";
    ma.version = "1.0.0";
    ma.permissions = perms_a;
    ma.permission_count = 1;
    ma.settings = settings_a;
    ma.setting_count = 2;
    mf.id = "alpha-flaky";
    mf.version = "2.0.0";
    mf.permissions = perms_f;
    mf.permission_count = 1;
    mf.settings = settings_f;
    mf.setting_count = 2;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.manifest = &ma;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(h, "follow", wasm_a, size_a, &o, &p, &err), WASMPLUG_OK, &err);
    if (!p)
        return;
    const char *id1 = wasmplug_plugin_id(p), *v1 = wasmplug_plugin_version(p);
    CHECK_STR(id1, "alpha");
    CHECK_STR(v1, "1.0.0");
    CHECK(wasmplug_plugin_has_function(p, "state_save"));
    uint32_t n1 = wasmplug_plugin_export_count(p);
    CHECK(n1 >= 4);
    const char *name0 = NULL;
    CHECK_CODE(wasmplug_plugin_export_at(p, 0, &name0, NULL), WASMPLUG_OK, NULL);
    const char *keys1 = wasmplug_plugin_setting(p, "kv.max_keys");
    CHECK_STR(keys1, "10");
    CHECK_STR(wasmplug_plugin_setting(p, "kv.max_bytes"), "4096");
    CHECK(wasmplug_plugin_setting(p, "db.max_bytes") == NULL);

    wasmplug_load_options of = WASMPLUG_LOAD_OPTIONS_INIT;
    of.manifest = &mf;
    wasmplug_reload_options ro = {0};
    ro.load = &of;
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_flaky, size_flaky, &ro, &err), WASMPLUG_OK, &err);
    CHECK_STR(wasmplug_plugin_id(p), "alpha-flaky");
    CHECK_STR(wasmplug_plugin_version(p), "2.0.0");
    CHECK(!wasmplug_plugin_has_function(p, "state_save"));
    CHECK(wasmplug_plugin_has_function(p, "who"));
    CHECK_EQ(wasmplug_plugin_export_count(p), 2);
    const char *flaky0 = NULL;
    CHECK_CODE(wasmplug_plugin_export_at(p, 1, &flaky0, NULL), WASMPLUG_OK, NULL);
    CHECK_STR(flaky0, "who");
    wasmplug_plugin_info info;
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK_STR(info.id, "alpha-flaky");
    CHECK_STR(info.version, "2.0.0");
    CHECK_EQ(info.export_count, 2);
    /* The settings are the new manifest's: changed, added and gone. */
    const char *keys2 = wasmplug_plugin_setting(p, "kv.max_keys");
    CHECK_STR(keys2, "20");
    CHECK_STR(wasmplug_plugin_setting(p, "db.max_bytes"), "8192");
    CHECK(wasmplug_plugin_setting(p, "kv.max_bytes") == NULL);
    char **perms = NULL;
    size_t nperms = 0;
    CHECK_CODE(wasmplug_plugin_permissions(p, &perms, &nperms), WASMPLUG_OK, NULL);
    CHECK_EQ(nperms, 1);
    if (nperms == 1)
        CHECK_STR(perms[0], "env.upper");
    wasmplug_free(perms);
    /* The strings of the first version are still readable. */
    CHECK_STR(id1, "alpha");
    CHECK_STR(v1, "1.0.0");
    CHECK_STR(name0, "wasmplug_init");
    CHECK_STR(keys1, "10");

    /* Back to A (same id and version as at first), then to B: the name
     * handed out from the replaced version's module stays valid. */
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_a, size_a, NULL, &err), WASMPLUG_OK, &err);
    CHECK_STR(wasmplug_plugin_id(p), "");
    CHECK(wasmplug_plugin_setting(p, "kv.max_keys") == NULL); /* no manifest, no settings */
    CHECK_CODE(wasmplug_plugin_reload(p, wasm_b, size_b, NULL, &err), WASMPLUG_OK, &err);
    CHECK_STR(flaky0, "who");
    CHECK_STR(keys2, "20"); /* served from a version since freed */
    CHECK(wasmplug_plugin_has_function(p, "state_save"));
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill(h, "follow"), WASMPLUG_OK, NULL);
}

/* ---- settings read during reloads ---- */

enum { SETTING_READERS = 2 };
static atomic_bool readers_stop;
static atomic_long readers_seen, readers_wrong;

/* Each value read must be one of the two versions' and stay readable: the
 * first value seen is compared again at the end (TSan and ASan check). */
static void *setting_reader(void *arg)
{
    wasmplug_plugin *p = arg;
    const char *first = NULL;
    do { /* at least once, however late the thread starts */
        const char *v = wasmplug_plugin_setting(p, "label");
        if (!first)
            first = v;
        if (!v || (strcmp(v, "version-a") != 0 && strcmp(v, "version-b") != 0)) {
            if (atomic_fetch_add(&readers_wrong, 1) < 5)
                printf("FAIL: setting during reloads: %s\n", v ? v : "(null)");
        }
        atomic_fetch_add(&readers_seen, 1);
    } while (!atomic_load(&readers_stop));
    if (!first || strncmp(first, "version-", 8) != 0)
        atomic_fetch_add(&readers_wrong, 1);
    return NULL;
}

static void test_settings_during_reloads(wasmplug_host *h)
{
    static const wasmplug_kv label_a[] = {{"label", "version-a"}},
                             label_b[] = {{"label", "version-b"}};
    wasmplug_manifest ma = {0}, mb = {0};
    ma.id = mb.id = "labelled";
    ma.version = "1.0.0";
    mb.version = "2.0.0";
    ma.settings = label_a;
    mb.settings = label_b;
    ma.setting_count = mb.setting_count = 1;
    wasmplug_load_options oa = WASMPLUG_LOAD_OPTIONS_INIT, ob = WASMPLUG_LOAD_OPTIONS_INIT;
    oa.manifest = &ma;
    ob.manifest = &mb;
    oa.init = ob.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(h, "labelled", wasm_a, size_a, &oa, &p, &err), WASMPLUG_OK,
               &err);
    if (!p)
        return;
    pthread_t t[SETTING_READERS];
    for (int i = 0; i < SETTING_READERS; i++)
        pthread_create(&t[i], NULL, setting_reader, p);
    long reloads = soak_count() / 5 + 2, switched = 0;
    for (long i = 1; i <= reloads; i++) {
        wasmplug_reload_options ro = {0};
        ro.load = i % 2 ? &ob : &oa;
        if (wasmplug_plugin_reload(p, i % 2 ? wasm_b : wasm_a, i % 2 ? size_b : size_a, &ro,
                                   &err) == WASMPLUG_OK)
            switched++;
        /* The reloading thread sees the version it just put in place. */
        CHECK_STR(wasmplug_plugin_setting(p, "label"), i % 2 ? "version-b" : "version-a");
    }
    atomic_store(&readers_stop, true);
    for (int i = 0; i < SETTING_READERS; i++)
        pthread_join(t[i], NULL);
    printf("     settings: %ld reloads, %ld settings read by %d threads, %ld wrong\n", switched,
           atomic_load(&readers_seen), SETTING_READERS, atomic_load(&readers_wrong));
    CHECK_EQ(switched, reloads);
    CHECK_EQ(atomic_load(&readers_wrong), 0);
    CHECK(atomic_load(&readers_seen) >= SETTING_READERS);
    wasmplug_plugin_release(p);
    CHECK_CODE(wasmplug_host_kill(h, "labelled"), WASMPLUG_OK, NULL);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    wasm_a = host_test_plugin("reload_a", &size_a);
    wasm_b = host_test_plugin("reload_b", &size_b);
    wasm_bad = host_test_plugin("reload_bad", &size_bad);
    wasm_flaky = host_test_plugin("reload_flaky", &size_flaky);
    wasmplug_host *h = host_test_new(NULL);
    if (wasm_a && wasm_b && wasm_bad && wasm_flaky && h) {
        test_switch_and_failures(h);
        test_handle_follows_version(h);
        test_settings_during_reloads(h);
        test_state_handover(h);
        test_health_gate(h);
        test_soak(h);
    }
    wasmplug_host_free(h);
    free(wasm_a);
    free(wasm_b);
    free(wasm_bad);
    free(wasm_flaky);
    return test_done();
}
