/*
 * test_foundation.c - how services attach to a host: service imports in
 * module "wasmplug" with their grants (load-time denial naming the import
 * and the grant, policy refusal, stubs, unknown service imports), per-call
 * begin/end hooks with the call's final status (success, trap, failing
 * return, a failing end hook), call and plugin state, manifest settings,
 * and the notify service with good and bad input.
 */
#include "host_test.h"

#include <wasmplug/services.h>

#include <stdlib.h>
#include <string.h>

/* ---- a test service: wasmplug.test_mark(i32) -> i32 (grant "test.mark") ---- */

typedef struct mark_log {
    unsigned id;
    int begins, ends;
    wasmplug_status last_status;
    intptr_t last_state;   /* the call state call_end saw: sum of marks + 1000 */
    int plugin_frees;
    bool fail_commit;
    bool finalized;
} mark_log;

static void mark_begin(void *user, wasmplug_plugin *plugin, void **state)
{
    (void)plugin;
    mark_log *log = user;
    log->begins++;
    CHECK(*state == NULL);
}

static wasmplug_status mark_end(void *user, wasmplug_plugin *plugin, void *state,
                                wasmplug_status status, char *msg, size_t size)
{
    (void)plugin;
    mark_log *log = user;
    log->ends++;
    log->last_status = status;
    log->last_state = (intptr_t)state;
    if (log->fail_commit && status == WASMPLUG_OK) {
        snprintf(msg, size, "commit refused by the test");
        return WASMPLUG_ERR_STORAGE;
    }
    return WASMPLUG_OK;
}

static void mark_plugin_free(void *user, wasmplug_plugin *plugin, void *state)
{
    (void)plugin;
    mark_log *log = user;
    CHECK_EQ((intptr_t)state, 77);
    log->plugin_frees++;
}

static void mark_finalize(void *user)
{
    ((mark_log *)user)->finalized = true;
}

static int imp_mark(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                    wasmplug_slot *results)
{
    mark_log *log = user;
    void **state = wasmplug_hostcall_call_state(call, log->id);
    intptr_t sum = *state ? (intptr_t)*state : 1000;
    *state = (void *)(sum + args[0].value.i32);
    wasmplug_plugin *p = wasmplug_hostcall_plugin(call);
    wasmplug_plugin_service_state_set(p, log->id, (void *)(intptr_t)77);
    if (args[0].value.i32 == 99) {
        wasmplug_hostcall_fail(call, WASMPLUG_ERR_QUOTA, "plugin '%s' is over its test quota",
                               wasmplug_plugin_name(p));
        return 1;
    }
    results[0].i32 = (int32_t)(sum + args[0].value.i32);
    return 0;
}

/* ---- notifications received ---- */

typedef struct notes {
    int count;
    wasmplug_notify_level level;
    char title[64], body[64];
} notes;

static void on_note(void *user, wasmplug_plugin *plugin, wasmplug_notify_level level,
                    const char *title, size_t tl, const char *body, size_t bl)
{
    (void)plugin;
    notes *n = user;
    n->count++;
    n->level = level;
    snprintf(n->title, sizeof n->title, "%.*s", (int)tl, title);
    snprintf(n->body, sizeof n->body, "%.*s", (int)bl, body);
}

static wasmplug_host *services_host(mark_log *log, notes *n, wasmplug_deny_mode deny)
{
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.deny_mode = deny;
    wasmplug_host *h = host_test_new(&hc);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.on_notify = on_note;
    sc.notify_user = n;
    char msg[256];
    wasmplug_services *svc = NULL;
    CHECK_CODE(wasmplug_services_attach(h, &sc, &svc, msg, sizeof msg), WASMPLUG_OK, NULL);
    CHECK(svc != NULL && wasmplug_services_of(h) == svc);
    /* A second attach is refused. */
    CHECK_CODE(wasmplug_services_attach(h, &sc, NULL, msg, sizeof msg), WASMPLUG_ERR_DUPLICATE,
               NULL);
    CHECK_CONTAINS(msg, "attached to this host already");
    wasmplug_service_def def = {"test", log, mark_begin, mark_end, mark_plugin_free,
                                mark_finalize};
    CHECK_CODE(wasmplug_host_add_service(h, &def, &log->id), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_add_service(h, &def, &log->id), WASMPLUG_ERR_DUPLICATE, NULL);
    unsigned again = 99;
    CHECK_CODE(wasmplug_host_service_id(h, "test", &again), WASMPLUG_OK, NULL);
    CHECK_EQ(again, log->id);
    CHECK(wasmplug_host_service_user(h, log->id) == log);
    CHECK_CODE(wasmplug_host_register_service_fn(h, log->id, "test_mark", "(i)i", "test.mark",
                                                 imp_mark, log),
               WASMPLUG_OK, NULL);
    /* Names of the ABI itself, bad ids and registering twice are refused. */
    CHECK_CODE(wasmplug_host_register_service_fn(h, log->id, "input_len", "()i", "x", imp_mark,
                                                 log),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register_service_fn(h, 15, "other", "()i", "x", imp_mark, log),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register_service_fn(h, log->id, "test_mark", "(i)i", "x", imp_mark,
                                                 log),
               WASMPLUG_ERR_DUPLICATE, NULL);
    CHECK_CODE(wasmplug_host_register(h, "wasmplug", "mine", "()i", imp_mark, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK(strcmp(wasmplug_host_service_fn_grant(h, "test_mark"), "test.mark") == 0);
    CHECK(strcmp(wasmplug_host_service_fn_grant(h, "notify"), "notify") == 0);
    CHECK(wasmplug_host_service_fn_grant(h, "input_len") == NULL);
    return h;
}

static wasmplug_status load(wasmplug_host *h, const char *name, const char *file,
                            const char *const *perms, size_t nperms, wasmplug_plugin **p,
                            wasmplug_plugin_error *err)
{
    char path[1024];
    host_test_path(path, sizeof path, file);
    static const wasmplug_kv settings[] = {{"kv.max_bytes", "4096"}};
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = name;
    m.version = "1.0.0";
    m.permissions = perms;
    m.permission_count = nperms;
    m.settings = settings;
    m.setting_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    return wasmplug_host_load_file(h, name, path, &o, p, err);
}

static void test_grants(void)
{
    mark_log log;
    memset(&log, 0, sizeof log);
    notes n;
    memset(&n, 0, sizeof n);
    wasmplug_host *h = services_host(&log, &n, WASMPLUG_DENY_FAIL_LOAD);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    static const char *const both[] = {"notify", "test.mark"};
    static const char *const mark_only[] = {"test.mark"};

    /* Not requested: the load fails naming the import and the grant. */
    CHECK_CODE(load(h, "a", "notifier", mark_only, 1, &p, &err), WASMPLUG_ERR_PERMISSION_DENIED,
               &err);
    CHECK_CONTAINS(err.message, "import wasmplug.notify denied");
    CHECK_CONTAINS(err.message, "does not request permission 'notify'");
    CHECK(strcmp(err.function, "wasmplug.notify") == 0);

    /* Requested, but the host policy does not allow it. */
    CHECK_CODE(load(h, "b", "notifier", both, 2, &p, &err), WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "the host policy does not grant 'notify' to plugin 'b'");

    /* Requested and allowed (a pattern grant covers it too). */
    CHECK_CODE(wasmplug_host_grant(h, "*", "notify"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "c*", "test.*"), WASMPLUG_OK, NULL);
    CHECK_CODE(load(h, "b", "notifier", both, 2, &p, &err), WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "'test.mark' to plugin 'b'");
    CHECK_CODE(load(h, "c", "notifier", both, 2, &p, &err), WASMPLUG_OK, &err);
    CHECK(wasmplug_plugin_granted(p, "notify"));
    CHECK(wasmplug_plugin_granted(p, "test.mark"));
    CHECK(!wasmplug_plugin_granted(p, "kv"));
    CHECK(strcmp(wasmplug_plugin_setting(p, "kv.max_bytes"), "4096") == 0);
    CHECK(wasmplug_plugin_setting(p, "kv.max_keys") == NULL);
    CHECK(strcmp(wasmplug_plugin_id(p), "c") == 0);
    CHECK(strcmp(wasmplug_plugin_version(p), "1.0.0") == 0);
    wasmplug_plugin_info info;
    wasmplug_plugin_get_info(p, &info);
    CHECK_EQ(info.abi, WASMPLUG_ABI_V1);
    wasmplug_plugin_release(p);

    /* Adding services after a load is refused. */
    unsigned id;
    wasmplug_service_def late = {"late", NULL, NULL, NULL, NULL, NULL};
    CHECK_CODE(wasmplug_host_add_service(h, &late, &id), WASMPLUG_ERR_PLUGIN_STATE, NULL);
    char msg[256];
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    wasmplug_host *h2 = host_test_new(NULL);
    CHECK_CODE(load(h2, "d", "notify_only", both, 1, &p, &err), WASMPLUG_ERR_LINK, &err);
    CHECK_CONTAINS(err.message, "no service attached to the host provides it");
    CHECK_CODE(wasmplug_services_attach(h2, &sc, NULL, msg, sizeof msg),
               WASMPLUG_ERR_PLUGIN_STATE, NULL);
    CHECK_CONTAINS(msg, "before loading plugins");
    wasmplug_host_free(h2);

    wasmplug_host_free(h);
    CHECK_EQ(log.plugin_frees, 0); /* no plugin called test_mark */
    CHECK(log.finalized);
}

static void test_stub_mode(void)
{
    mark_log log;
    memset(&log, 0, sizeof log);
    notes n;
    memset(&n, 0, sizeof n);
    wasmplug_host *h = services_host(&log, &n, WASMPLUG_DENY_STUB);
    static const char *const mark_only[] = {"test.mark"};
    CHECK_CODE(wasmplug_host_grant(h, "*", "test.mark"), WASMPLUG_OK, NULL);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(load(h, "s", "notifier", mark_only, 1, &p, &err), WASMPLUG_OK, &err);
    wasmplug_status st;
    free(host_test_call(p, "good", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "call of wasmplug.notify denied");
    CHECK_EQ(n.count, 0);
    CHECK_CALL(p, "mark_ok", "", "");
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_hooks(void)
{
    mark_log log;
    memset(&log, 0, sizeof log);
    notes n;
    memset(&n, 0, sizeof n);
    wasmplug_host *h = services_host(&log, &n, WASMPLUG_DENY_FAIL_LOAD);
    CHECK_CODE(wasmplug_host_grant(h, "*", "*"), WASMPLUG_OK, NULL);
    static const char *const both[] = {"notify", "test.mark"};
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(load(h, "hooks", "notifier", both, 2, &p, &err), WASMPLUG_OK, &err);
    /* init ran with the hooks too (no wasmplug_init export: still begin/end) */
    int base_begins = log.begins, base_ends = log.ends;
    CHECK_EQ(base_begins, base_ends);

    /* The call state is shared by the imports of one call and seen at the end. */
    CHECK_CALL(p, "mark_ok", "", "");
    CHECK_EQ(log.begins, base_begins + 1);
    CHECK_EQ(log.ends, base_ends + 1);
    CHECK_EQ(log.last_status, WASMPLUG_OK);
    CHECK_EQ(log.last_state, 1003);

    /* A trap: call_end sees the failure (with the call's own state). */
    wasmplug_status st;
    free(host_test_call(p, "mark_trap", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_TRAP, &err);
    CHECK_EQ(log.last_status, WASMPLUG_ERR_TRAP);
    CHECK_EQ(log.last_state, 1001);

    /* A failing return code. */
    free(host_test_call(p, "mark_fail", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(log.last_status, WASMPLUG_ERR_PLUGIN);

    /* An import failing with its own status. */
    wasmplug_val arg = test_i32(99), res;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "mark_typed", &arg, 1, &res, 1, &err),
               WASMPLUG_ERR_QUOTA, &err);
    CHECK_CONTAINS(err.message, "plugin 'hooks' is over its test quota");
    CHECK_EQ(log.last_status, WASMPLUG_ERR_QUOTA);

    /* Typed calls get the hooks; the state starts empty in every call. */
    arg = test_i32(5);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "mark_typed", &arg, 1, &res, 1, &err), WASMPLUG_OK,
               &err);
    CHECK_EQ(res.of.i32, 1005);
    CHECK_EQ(log.last_state, 1005);
    CHECK_EQ(log.last_status, WASMPLUG_OK);

    /* A call that touched nothing still gets begin/end, with no state. */
    CHECK_CALL(p, "nothing", "", "");
    CHECK_EQ(log.last_state, 0);

    /* A failing end hook fails a successful call with its status. */
    log.fail_commit = true;
    free(host_test_call(p, "mark_ok", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_STORAGE, &err);
    CHECK_CONTAINS(err.message, "service test: commit refused by the test");
    log.fail_commit = false;
    CHECK_EQ(log.begins - base_begins, log.ends - base_ends);

    /* Dispose runs plugin code: hooks again. */
    int before = log.ends;
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
    CHECK(log.ends >= before);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    CHECK_EQ(log.plugin_frees, 1);
}

static void test_notify(void)
{
    mark_log log;
    memset(&log, 0, sizeof log);
    notes n;
    memset(&n, 0, sizeof n);
    wasmplug_host *h = services_host(&log, &n, WASMPLUG_DENY_FAIL_LOAD);
    CHECK_CODE(wasmplug_host_grant(h, "*", "*"), WASMPLUG_OK, NULL);
    static const char *const both[] = {"notify", "test.mark"};
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(load(h, "n", "notifier", both, 2, &p, &err), WASMPLUG_OK, &err);
    CHECK_CALL(p, "good", "", "");
    CHECK_EQ(n.count, 1);
    CHECK_EQ(n.level, WASMPLUG_NOTIFY_INFO);
    CHECK(strcmp(n.title, "Hello") == 0);
    CHECK(strcmp(n.body, "world \x1b[31m") == 0); /* bytes as sent; the CLI escapes them */

    wasmplug_status st;
    free(host_test_call(p, "bad_level", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "level 7 is not 0 (info)");
    free(host_test_call(p, "bad_utf8", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "the title is not valid UTF-8");
    free(host_test_call(p, "bad_pointer", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_OUT_OF_BOUNDS, &err);
    CHECK_CONTAINS(err.message, "wasmplug.notify");
    free(host_test_call(p, "long_title", "", &st, &err));
    CHECK_CODE(st, WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "the title is 300 bytes; the most is 256");
    CHECK_EQ(n.count, 1);
    CHECK(strcmp(wasmplug_notify_level_string(WASMPLUG_NOTIFY_ERROR), "error") == 0);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_static_grants(void)
{
    CHECK(strcmp(wasmplug_services_import_grant("notify"), "notify") == 0);
    CHECK(wasmplug_services_import_grant("input_len") == NULL);
    CHECK(wasmplug_services_import_grant("nonsense") == NULL);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    test_grants();
    test_stub_mode();
    test_hooks();
    test_notify();
    test_static_grants();
    return test_done();
}
