/*
 * test_kv.c - the key-value service on real SQLite files in a temporary
 * data directory: every import with good and bad input (empty and
 * oversized keys, bad pointers, bad flags and limits, oversized values,
 * over-quota writes in bytes and keys, manifest ∩ policy, quotas changed by
 * a reload), a call's writes
 * as one transaction (a trap, a failing return, a timeout: nothing stays),
 * denied grants, the host API (get/set/delete/list/usage/export/import),
 * data surviving a new host, versions sharing data (or not), and parallel
 * calls of a pooled plugin. All of it twice: on SQLite (the default), then
 * on Redis (kv_redis_url) with a redis-server of its own.
 */
#include "host_test.h"
#include "redis/redis_test.h"

#include <wasmplug/services.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char data_dir[256];
static const char *redis_url; /* NULL: SQLite */

typedef struct kvtest {
    wasmplug_host *host;
    wasmplug_services *svc;
} kvtest;

static kvtest kv_host(const wasmplug_services_config *over)
{
    kvtest t;
    t.host = host_test_new(NULL);
    wasmplug_services_config sc;
    if (over)
        sc = *over;
    else
        wasmplug_services_config_init(&sc);
    sc.data_dir = data_dir;
    sc.kv_redis_url = redis_url;
    char msg[256];
    CHECK_CODE(wasmplug_services_attach(t.host, &sc, &t.svc, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK_CODE(wasmplug_host_grant(t.host, "*", "kv"), WASMPLUG_OK, NULL);
    return t;
}

/* The load options of kvplug as id@version with settings (in *m). */
static wasmplug_load_options kv_options(wasmplug_manifest *m, const char *id,
                                        const char *version, const wasmplug_kv *settings,
                                        size_t nsettings, bool with_kv)
{
    static const char *const perms[] = {"kv"};
    memset(m, 0, sizeof *m);
    m->id = id;
    m->version = version;
    m->permissions = perms;
    m->permission_count = with_kv ? 1 : 0;
    m->settings = settings;
    m->setting_count = nsettings;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = m;
    o.init = true;
    o.pool_size = 4;
    return o;
}

static wasmplug_plugin *kv_load(kvtest *t, const char *name, const char *id, const char *version,
                                const wasmplug_kv *settings, size_t nsettings, bool with_kv,
                                wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    wasmplug_load_options o = kv_options(&m, id, version, settings, nsettings, with_kv);
    char path[1024];
    host_test_path(path, sizeof path, "kvplug");
    wasmplug_plugin *p = NULL;
    wasmplug_host_load_file(t->host, name, path, &o, &p, err);
    return p;
}

/* Reload p (kvplug, granted kv) as version with settings. */
static wasmplug_status kv_reload(wasmplug_plugin *p, const char *version,
                                 const wasmplug_kv *settings, size_t nsettings,
                                 wasmplug_plugin_error *err)
{
    wasmplug_manifest m;
    wasmplug_load_options o =
        kv_options(&m, wasmplug_plugin_id(p), version, settings, nsettings, true);
    wasmplug_reload_options ro;
    memset(&ro, 0, sizeof ro);
    ro.load = &o;
    char path[1024];
    host_test_path(path, sizeof path, "kvplug");
    return wasmplug_plugin_reload_file(p, path, &ro, err);
}

/* Call func(in) expecting status want; the output in a static buffer. */
static const char *call(wasmplug_plugin *p, const char *func, const char *in,
                        wasmplug_status want, wasmplug_plugin_error *err, int line)
{
    static char out[4096];
    wasmplug_status st;
    char *o = host_test_call(p, func, in, &st, err);
    snprintf(out, sizeof out, "%s", o);
    free(o);
    if (!test_check(st == want, __FILE__, line, func)) {
        char buf[1024];
        wasmplug_plugin_error_format(err, buf, sizeof buf);
        printf("     %s(%s): got %s, expected %s: %s\n", func, in, wasmplug_status_name(st),
               wasmplug_status_name(want), buf);
    }
    return out;
}
#define CALL(p, f, in, want) call((p), (f), (in), (want), &err, __LINE__)

static void test_imports(void)
{
    kvtest t = kv_host(NULL);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = kv_load(&t, "notes", "notes", "1.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "set", "a=1", WASMPLUG_OK);
    CHECK_STR(CALL(p, "get", "a", WASMPLUG_OK), "1");
    CALL(p, "set", "a=hello world", WASMPLUG_OK);
    CHECK_STR(CALL(p, "get", "a", WASMPLUG_OK), "hello world");
    CHECK_STR(CALL(p, "get_small", "a", WASMPLUG_OK), "hello world");
    CHECK_STR(CALL(p, "get", "nope", WASMPLUG_OK), "<absent>");
    CALL(p, "set", "empty=", WASMPLUG_OK);
    CHECK_STR(CALL(p, "get", "empty", WASMPLUG_OK), "");
    CHECK_STR(CALL(p, "del", "a", WASMPLUG_OK), "1");
    CHECK_STR(CALL(p, "del", "a", WASMPLUG_OK), "0");
    CHECK_STR(CALL(p, "get", "a", WASMPLUG_OK), "<absent>");

    /* Listing by prefix, with pages of 3. */
    const char *keys[] = {"doc/1", "doc/2", "doc/3", "doc/4", "doc0", "dob", "other"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char in[64];
        snprintf(in, sizeof in, "%s=x", keys[i]);
        CALL(p, "set", in, WASMPLUG_OK);
    }
    CHECK_STR(CALL(p, "list", "doc/", WASMPLUG_OK), "doc/1\ndoc/2\ndoc/3\nmore");
    CHECK_STR(CALL(p, "list", "doc/=doc/3", WASMPLUG_OK), "doc/4\n");
    CHECK_STR(CALL(p, "list", "do=doc/4", WASMPLUG_OK), "doc0\n");
    CHECK_STR(CALL(p, "list", "zzz", WASMPLUG_OK), "");

    /* Compare-and-set. */
    CHECK_STR(CALL(p, "cas", "c=>one", WASMPLUG_OK), "1");   /* absent -> one */
    CHECK_STR(CALL(p, "cas", "c=>two", WASMPLUG_OK), "0");   /* not absent any more */
    CHECK_STR(CALL(p, "cas", "c=uno>two", WASMPLUG_OK), "0"); /* wrong expectation */
    CHECK_STR(CALL(p, "cas", "c=one>two", WASMPLUG_OK), "1");
    CHECK_STR(CALL(p, "get", "c", WASMPLUG_OK), "two");
    CHECK_STR(CALL(p, "cas", "c=two>-", WASMPLUG_OK), "1");  /* delete */
    CHECK_STR(CALL(p, "get", "c", WASMPLUG_OK), "<absent>");

    /* Bad input fails the call with a specific status. */
    CALL(p, "empty_key", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "a key must not be empty");
    CALL(p, "long_key", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "a key is at most 1024 bytes (this one has 1025)");
    CALL(p, "bad_pointer", "", WASMPLUG_ERR_OUT_OF_BOUNDS);
    CHECK_CONTAINS(err.message, "wasmplug.kv_set");
    CALL(p, "bad_flags", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "unknown flags 0x8");
    CALL(p, "bad_limit", "", WASMPLUG_ERR_ARGUMENT);
    CHECK_CONTAINS(err.message, "limit 0 is not between 1 and 10000");

    /* A failed call's writes vanish: a trap, a failing return, a timeout. */
    CALL(p, "set_then_trap", "t1=x", WASMPLUG_ERR_TRAP);
    CHECK_STR(CALL(p, "get", "t1", WASMPLUG_OK), "<absent>");
    CALL(p, "set_then_fail", "t2=x", WASMPLUG_ERR_PLUGIN);
    CHECK_STR(CALL(p, "get", "t2", WASMPLUG_OK), "<absent>");
    uint64_t bytes = 0, nkeys = 0;
    char msg[512];
    CHECK_CODE(wasmplug_kv_usage(t.svc, "notes", &bytes, &nkeys, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK_EQ(nkeys, 8); /* the seven listed keys and "empty" */
    wasmplug_plugin_release(p);
    wasmplug_host_free(t.host);
}

/* A call that times out while it holds the store's write lock. Only that
 * call has the short timeout: the plugin's others must not time out on a
 * loaded machine. */
static void test_timeout(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = data_dir;
    sc.kv_redis_url = redis_url;
    char msg[256];
    wasmplug_services *svc = NULL;
    CHECK_CODE(wasmplug_services_attach(h, &sc, &svc, msg, sizeof msg), WASMPLUG_OK, NULL);
    wasmplug_host_grant(h, "*", "kv");
    kvtest t = {h, svc};
    wasmplug_plugin_error err;
    wasmplug_plugin *p = kv_load(&t, "spin", "spin", "1.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        wasmplug_call_limits lim = {100, 0};
        wasmplug_buf out;
        CHECK_CODE(wasmplug_plugin_call_limited(p, "set_then_spin", (const uint8_t *)"s=1", 3,
                                                &lim, &out, &err),
                   WASMPLUG_ERR_TIMEOUT, &err);
        wasmplug_buf_free(&out);
        CHECK_STR(CALL(p, "get", "s", WASMPLUG_OK), "<absent>");
        /* The lock was released: the next write goes through. */
        CALL(p, "set", "s=2", WASMPLUG_OK);
        CHECK_STR(CALL(p, "get", "s", WASMPLUG_OK), "2");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

static void test_quotas(void)
{
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.kv_max_bytes = 1000;  /* policy */
    sc.kv_max_value_bytes = 600;
    kvtest t = kv_host(&sc);
    wasmplug_plugin_error err;
    /* The manifest asks for less bytes than the policy, and 5 keys. */
    static const wasmplug_kv small[] = {{"kv.max_bytes", "500"}, {"kv.max_keys", "5"}};
    wasmplug_plugin *p = kv_load(&t, "q", "quota", "1.0.0", small, 2, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "big", "400", WASMPLUG_OK);            /* 3 + 400 bytes */
    CALL(p, "big", "497", WASMPLUG_OK);            /* exactly 500 */
    CALL(p, "big", "498", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "plugin 'q' is over its key-value quota of 500 bytes");
    CHECK_CONTAINS(err.message, "storage.quota");
    CALL(p, "big", "700", WASMPLUG_ERR_QUOTA);     /* over the per-value limit */
    CHECK_CONTAINS(err.message, "a value of 700 bytes is over the host's limit of 600");
    CALL(p, "big", "10", WASMPLUG_OK);             /* shrinking is fine */
    CALL(p, "keys", "6", WASMPLUG_ERR_QUOTA);      /* "big" + 6 > 5 keys */
    CHECK_CONTAINS(err.message, "over its key-value quota of 5 keys");
    CHECK_STR(CALL(p, "get", "k0", WASMPLUG_OK), "<absent>"); /* the whole call vanished */
    CALL(p, "keys", "4", WASMPLUG_OK);
    uint64_t bytes = 0, nkeys = 0;
    char msg[512];
    CHECK_CODE(wasmplug_kv_usage(t.svc, "quota", &bytes, &nkeys, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK_EQ(nkeys, 5);
    CHECK_EQ(bytes, 13 + 4 * 3); /* "big" + 10, and k0..k3 with "v" */
    wasmplug_plugin_release(p);

    /* A manifest asking for more than the policy gets the policy. */
    static const wasmplug_kv greedy[] = {{"kv.max_bytes", "100000"}};
    p = kv_load(&t, "g", "greedy", "1.0.0", greedy, 1, true, &err);
    CHECK(p != NULL);
    if (p) {
        CALL(p, "big", "500", WASMPLUG_OK);
        CALL(p, "set", "more=12345678901234567890123456789012345678901234567890", WASMPLUG_OK);
        CALL(p, "keys", "200", WASMPLUG_ERR_QUOTA); /* 557 bytes + about 890 */
        CHECK_CONTAINS(err.message, "quota of 1000 bytes");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(t.host);
}

/* The quotas are the current version's: a reload that changes them (up,
 * down, or away to the policy's defaults) is in force for the next call. */
static void test_quota_reload(void)
{
    kvtest t = kv_host(NULL);
    wasmplug_plugin_error err;
    static const wasmplug_kv two[] = {{"kv.max_keys", "2"}};
    wasmplug_plugin *p = kv_load(&t, "rq", "requota", "1.0.0", two, 1, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    CALL(p, "keys", "3", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "quota of 2 keys");
    CALL(p, "keys", "2", WASMPLUG_OK);
    static const wasmplug_kv wider[] = {{"kv.max_keys", "6"}, {"kv.max_bytes", "100"}};
    CHECK_CODE(kv_reload(p, "1.1.0", wider, 2, &err), WASMPLUG_OK, &err);
    CALL(p, "keys", "5", WASMPLUG_OK);          /* k0..k4 with "v": 15 bytes */
    CALL(p, "keys", "7", WASMPLUG_ERR_QUOTA);
    CHECK_CONTAINS(err.message, "quota of 6 keys");
    CALL(p, "big", "90", WASMPLUG_ERR_QUOTA);   /* 15 + 3 + 90 bytes */
    CHECK_CONTAINS(err.message, "quota of 100 bytes");
    CALL(p, "big", "80", WASMPLUG_OK);          /* 98 bytes, 6 keys */
    CHECK_CODE(kv_reload(p, "1.2.0", two, 1, &err), WASMPLUG_OK, &err);
    CALL(p, "set", "x=1", WASMPLUG_ERR_QUOTA);  /* a 7th key, 2 allowed now */
    CHECK_CONTAINS(err.message, "quota of 2 keys");
    CHECK_CODE(kv_reload(p, "1.3.0", NULL, 0, &err), WASMPLUG_OK, &err);
    CALL(p, "set", "x=1", WASMPLUG_OK);         /* the policy's defaults again */
    CALL(p, "big", "2000", WASMPLUG_OK);
    wasmplug_plugin_release(p);
    wasmplug_host_free(t.host);
}

static void test_denied(void)
{
    kvtest t = kv_host(NULL);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = kv_load(&t, "nokv", "nokv", "1.0.0", NULL, 0, false, &err);
    CHECK(p == NULL);
    CHECK_EQ(err.code, WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(err.message, "import wasmplug.kv_");
    CHECK_CONTAINS(err.message, "does not request permission 'kv'");
    wasmplug_host_free(t.host);

    /* Without a data_dir the storage services are not attached at all. */
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    char msg[256];
    CHECK_CODE(wasmplug_services_attach(h, &sc, NULL, msg, sizeof msg), WASMPLUG_OK, NULL);
    CHECK(wasmplug_host_service_fn_grant(h, "kv_get") == NULL);
    wasmplug_host_free(h);
}

static void test_host_api(void)
{
    kvtest t = kv_host(NULL);
    char msg[512];
    wasmplug_buf v;
    CHECK_CODE(wasmplug_kv_get(t.svc, "hostapi", "x", 1, &v, msg, sizeof msg),
               WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CONTAINS(msg, "has no key-value data");
    const uint8_t bin_key[] = {0xff, 0x00, 0x01};
    CHECK_CODE(wasmplug_kv_set(t.svc, "hostapi", "name", 4, "Ada", 3, msg, sizeof msg),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_kv_set(t.svc, "hostapi", bin_key, 3, "\x00\x01", 2, msg, sizeof msg),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_kv_get(t.svc, "hostapi", "name", 4, &v, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK(v.len == 3 && memcmp(v.data, "Ada", 3) == 0);
    wasmplug_buf_free(&v);
    CHECK_CODE(wasmplug_kv_get(t.svc, "hostapi", "", 0, &v, msg, sizeof msg),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_kv_get(t.svc, "../etc", "x", 1, &v, msg, sizeof msg),
               WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_kv_entry *e = NULL;
    size_t n = 0;
    CHECK_CODE(wasmplug_kv_list(t.svc, "hostapi", NULL, 0, NULL, 0, 0, &e, &n, msg, sizeof msg),
               WASMPLUG_OK, NULL);
    CHECK(n == 2 && e && e[0].key_len == 4 && memcmp(e[0].key, "name", 4) == 0 &&
          e[0].value_len == 3 && e[1].key_len == 3 && e[1].key[0] == 0xff);
    wasmplug_kv_entries_free(e, n);

    /* Export, change, import with replace: back to the export. */
    wasmplug_buf exp;
    CHECK_CODE(wasmplug_kv_export(t.svc, "hostapi", &exp, msg, sizeof msg), WASMPLUG_OK, NULL);
    CHECK_CONTAINS((const char *)exp.data, "\"format\": \"wasmplug-kv\"");
    CHECK_CONTAINS((const char *)exp.data, "\"key_base64\": \"/wAB\"");
    CHECK_CONTAINS((const char *)exp.data, "\"value\": \"Ada\"");
    CHECK_CODE(wasmplug_kv_delete(t.svc, "hostapi", "name", 4, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK_CODE(wasmplug_kv_delete(t.svc, "hostapi", "name", 4, msg, sizeof msg),
               WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_kv_set(t.svc, "hostapi", "extra", 5, "1", 1, msg, sizeof msg),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_kv_import(t.svc, "hostapi", exp.data, exp.len, true, msg, sizeof msg),
               WASMPLUG_OK, NULL);
    uint64_t bytes, keys;
    CHECK_CODE(wasmplug_kv_usage(t.svc, "hostapi", &bytes, &keys, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK(keys == 2 && bytes == 4 + 3 + 3 + 2);
    CHECK_CODE(wasmplug_kv_get(t.svc, "hostapi", "extra", 5, &v, msg, sizeof msg),
               WASMPLUG_ERR_NOT_FOUND, NULL);
    /* A bad import changes nothing. */
    static const char bad[] = "{\"format\": \"wasmplug-kv\", \"entries\": [{\"key\": \"z\", "
                              "\"value\": \"1\"}, {\"key\": \"\"}]}";
    CHECK_CODE(wasmplug_kv_import(t.svc, "hostapi", bad, sizeof bad - 1, false, msg, sizeof msg),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CONTAINS(msg, "entry 1");
    CHECK_CODE(wasmplug_kv_get(t.svc, "hostapi", "z", 1, &v, msg, sizeof msg),
               WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_kv_import(t.svc, "hostapi", "[1]", 3, false, msg, sizeof msg),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CONTAINS(msg, "not a key-value export");
    CHECK_CODE(wasmplug_kv_import(t.svc, "hostapi", "{", 1, false, msg, sizeof msg),
               WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_buf_free(&exp);

    /* The plugin sees what the host wrote. */
    wasmplug_plugin_error err;
    wasmplug_plugin *p = kv_load(&t, "hostapi", "hostapi", "2.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(CALL(p, "get", "name", WASMPLUG_OK), "Ada");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(t.host);
}

static void test_persistence_and_versions(void)
{
    wasmplug_plugin_error err;
    kvtest t = kv_host(NULL);
    wasmplug_plugin *p = kv_load(&t, "v1", "shared", "1.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        CALL(p, "set", "kept=yes", WASMPLUG_OK);
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(t.host);

    /* A new host (a restart) and another version of the same id. */
    t = kv_host(NULL);
    p = kv_load(&t, "v2", "shared", "2.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(CALL(p, "get", "kept", WASMPLUG_OK), "yes");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(t.host);

    /* With data_per_version, each version has its own. */
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_per_version = true;
    t = kv_host(&sc);
    p = kv_load(&t, "v3", "shared", "3.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(CALL(p, "get", "kept", WASMPLUG_OK), "<absent>");
        wasmplug_plugin_release(p);
    }
    char *path = wasmplug_services_data_path(t.svc, "shared", "3.0.0");
    CHECK(path && strstr(path, "/shared@3.0.0"));
    free(path);
    wasmplug_host_free(t.host);
}

typedef struct worker {
    wasmplug_plugin *p;
    int id;
    int failures;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 100; i++) {
        char in[64];
        snprintf(in, sizeof in, "w%d-%d=%d", w->id, i, i);
        wasmplug_status st;
        wasmplug_plugin_error e;
        free(host_test_call(w->p, "set", in, &st, &e));
        if (st != WASMPLUG_OK)
            w->failures++;
    }
    return NULL;
}

static void test_parallel(void)
{
    kvtest t = kv_host(NULL);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = kv_load(&t, "par", "parallel", "1.0.0", NULL, 0, true, &err);
    CHECK(p != NULL);
    if (!p)
        return;
    pthread_t th[4];
    worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){p, i, 0};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(w[i].failures, 0);
    }
    uint64_t bytes, keys;
    char msg[256];
    CHECK_CODE(wasmplug_kv_usage(t.svc, "parallel", &bytes, &keys, msg, sizeof msg), WASMPLUG_OK,
               NULL);
    CHECK_EQ(keys, 400);
    CHECK_STR(CALL(p, "get", "w3-99", WASMPLUG_OK), "99");
    wasmplug_plugin_release(p);
    wasmplug_host_free(t.host);
}

static void run_all(const char *backend)
{
    printf("-- key-value on %s\n", backend);
    test_imports();
    test_timeout();
    test_quotas();
    test_quota_reload();
    test_denied();
    test_host_api();
    test_persistence_and_versions();
    test_parallel();
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    snprintf(data_dir, sizeof data_dir, "%s/wasmplug-kv-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(data_dir)) {
        printf("FAIL: cannot create a temporary directory\n");
        return 1;
    }
    char sqlite_dir[200];
    snprintf(sqlite_dir, sizeof sqlite_dir, "%.190s", data_dir);
    run_all("sqlite");
    /* The same on Redis, with a fresh data directory that must stay without
     * key-value files. */
    snprintf(data_dir, sizeof data_dir, "%s/redis-run", sqlite_dir);
    CHECK(mkdir(data_dir, 0700) == 0);
    redis_test_server srv;
    memset(&srv, 0, sizeof srv);
    char url[64];
    CHECK(redis_test_start(&srv));
    if (srv.pid > 0) {
        redis_url = redis_test_url(&srv, url, sizeof url);
        run_all("redis");
        redis_test_stop(&srv);
        char path[400];
        snprintf(path, sizeof path, "%s/notes/kv.sqlite", data_dir);
        CHECK(access(path, F_OK) != 0);
        snprintf(path, sizeof path, "%s/notes/kv.sqlite", sqlite_dir);
        CHECK(access(path, F_OK) == 0);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", sqlite_dir);
    if (system(cmd) != 0)
        printf("note: could not remove %s\n", data_dir);
    return test_done();
}
