/*
 * test_kv_shared.c - key-value data on Redis shared by host processes
 * (wasmplug_services_config.kv_redis_url), with a real redis-server
 * (append-only file in its temporary directory) and this program run
 * again as the hosts (share_test.h):
 *
 *   shared:  what one process's calls write, another reads; a call that
 *            traps or fails leaves nothing, in either process.
 *   quota:   two processes racing to add ten keys per call against a quota
 *            of 45 keys: exactly four calls succeed, the others fail with
 *            ERR_QUOTA and none of their keys exists; the stored usage is
 *            exact.
 *   restart: Redis killed (SIGKILL) and restarted while a process writes:
 *            every call that returned OK is in Redis afterwards.
 *   errors:  a bad URL fails the attach; Redis gone fails a call with
 *            ERR_STORAGE naming the server, and the plugin works again
 *            once it is back.
 */
#include "host_test.h"
#include "redis/share_test.h"

#include <wasmplug/services.h>

#include <stdlib.h>
#include <string.h>

static redis_test_server srv;
static char url[64];

/* A host whose key-value data is on Redis at url, with the kvplug plugin
 * as id (max_keys > 0: its manifest asks for that quota). */
static wasmplug_plugin *kv_plugin(const char *redis_url, const char *id, const char *max_keys,
                                  wasmplug_host **host, char *msg, size_t msg_size)
{
    *host = host_test_new(NULL);
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.kv_redis_url = redis_url; /* no data_dir: nothing on disk */
    if (wasmplug_services_attach(*host, &sc, NULL, msg, msg_size) != WASMPLUG_OK)
        return NULL;
    wasmplug_host_grant(*host, "*", "kv");
    static const char *const perms[] = {"kv"};
    wasmplug_kv settings[] = {{"kv.max_keys", max_keys}};
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.version = "1.0.0";
    m.permissions = perms;
    m.permission_count = 1;
    m.settings = settings;
    m.setting_count = atoi(max_keys) > 0 ? 1 : 0;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    char path[1024];
    host_test_path(path, sizeof path, "kvplug");
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(*host, id, path, &o, &p, &err) != WASMPLUG_OK)
        snprintf(msg, msg_size, "%s", err.message);
    return p;
}

/* ------------------------------------------------------------------------ */
/* Roles                                                                    */
/* ------------------------------------------------------------------------ */

/* A role's plugin (kv_plugin), or NULL with "load: why" printed. */
static wasmplug_plugin *role_plugin(const char *redis_url, const char *id, const char *max_keys,
                                    wasmplug_host **host)
{
    char msg[512] = "";
    wasmplug_plugin *p = kv_plugin(redis_url, id, max_keys, host, msg, sizeof msg);
    if (!p)
        printf("load: %s\n", msg);
    return p;
}

/* ops URL ID MAX_KEYS FUNC=INPUT...: "out STATUS OUTPUT" per call. */
static int role_ops(int argc, char **argv)
{
    wasmplug_host *host;
    wasmplug_plugin *p = role_plugin(argv[0], argv[1], argv[2], &host);
    if (!p)
        return 3;
    for (int i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        *eq = 0;
        wasmplug_status st;
        wasmplug_plugin_error err;
        char *out = host_test_call(p, argv[i], eq + 1, &st, &err);
        printf("out %s %s\n", wasmplug_status_name(st), st ? err.message : out);
        free(out);
    }
    fflush(stdout);
    wasmplug_plugin_release(p);
    wasmplug_host_free(host);
    return 0;
}

/* fill URL ID MAX_KEYS PREFIX N: N calls of set_ten "PREFIX<i>" (ten keys
 * each); "call I STATUS" per call, then "fill ok=.. quota=.. other=..". */
static int role_fill(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    wasmplug_host *host;
    wasmplug_plugin *p = role_plugin(argv[0], argv[1], argv[2], &host);
    if (!p)
        return 3;
    int n = atoi(argv[4]), ok = 0, quota = 0, other = 0;
    for (int i = 0; i < n; i++) {
        char in[64];
        snprintf(in, sizeof in, "%s%d", argv[3], i);
        wasmplug_status st;
        wasmplug_plugin_error err;
        free(host_test_call(p, "set_ten", in, &st, &err));
        printf("call %d %s\n", i, wasmplug_status_name(st));
        if (st == WASMPLUG_OK)
            ok++;
        else if (st == WASMPLUG_ERR_QUOTA)
            quota++;
        else
            other++;
    }
    printf("fill ok=%d quota=%d other=%d\n", ok, quota, other);
    fflush(stdout);
    wasmplug_plugin_release(p);
    wasmplug_host_free(host);
    return 0;
}

/* ticker URL ID COUNT PAUSE_MS: set "tick-I=I" COUNT times; "progress I"
 * every 50, "failed I: why" per failure; at the end "ticks ok=.. failed=.."
 * and "failures: I J ..". */
static int role_ticker(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    wasmplug_host *host;
    wasmplug_plugin *p = role_plugin(argv[0], argv[1], "0", &host);
    if (!p)
        return 3;
    int n = atoi(argv[2]), pause = atoi(argv[3]), ok = 0, failed = 0;
    char *failures = calloc((size_t)n, 8);
    for (int i = 0; i < n; i++) {
        char in[64];
        snprintf(in, sizeof in, "tick-%d=%d", i, i);
        wasmplug_status st;
        wasmplug_plugin_error err;
        free(host_test_call(p, "set", in, &st, &err));
        if (st == WASMPLUG_OK) {
            ok++;
        } else {
            failed++;
            printf("failed %d: %s\n", i, err.message);
            sprintf(failures + strlen(failures), " %d", i);
        }
        if ((i + 1) % 50 == 0)
            printf("progress %d\n", i + 1);
        fflush(stdout);
        redis_test_sleep_ms(pause);
    }
    printf("ticks ok=%d failed=%d\n", ok, failed);
    printf("failures:%s\n", failures);
    free(failures);
    fflush(stdout);
    wasmplug_plugin_release(p);
    wasmplug_host_free(host);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                    */
/* ------------------------------------------------------------------------ */

static char out_a[65536], out_b[65536];

static long long hlen(const char *id)
{
    redisReply *r = share_redis("HLEN wasmplug:kv:{%s}:data", id);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    return n;
}

static bool hexists(const char *id, const char *key)
{
    redisReply *r = share_redis("HEXISTS wasmplug:kv:{%s}:data %s", id, key);
    bool yes = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return yes;
}

/* The stored usage field ("bytes" or "keys"), -1 if absent. */
static long long usage(const char *id, const char *field)
{
    redisReply *r = share_redis("HGET wasmplug:kv:{%s}:usage %s", id, field);
    long long n = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    return n;
}

static void test_shared(void)
{
    const char *a_args[] = {"ops", url, "notes", "0", "set=greeting=hello", "set=empty=",
                            "set_then_trap=t1=x", "set_then_fail=t2=x", NULL};
    share_child a = share_spawn("writer", a_args);
    CHECK_EQ(share_finish(&a, out_a, sizeof out_a), 0);
    const char *b_args[] = {"ops", url, "notes", "0", "get=greeting", "get=empty", "get=t1",
                            "get=t2", "del=greeting", NULL};
    share_child b = share_spawn("reader", b_args);
    CHECK_EQ(share_finish(&b, out_b, sizeof out_b), 0);
    CHECK(strstr(out_a, "out OK \nout OK \nout ERR_TRAP") != NULL);
    CHECK_CONTAINS(out_a, "out ERR_PLUGIN");
    CHECK(strstr(out_b, "out OK hello\nout OK \nout OK <absent>\nout OK <absent>\nout OK 1\n") !=
          NULL);
    if (!strstr(out_b, "out OK hello"))
        printf("     writer:\n%s     reader:\n%s", out_a, out_b);
    CHECK_EQ(hlen("notes"), 1); /* "empty" is left */
    CHECK_EQ(usage("notes", "keys"), 1);
    CHECK_EQ(usage("notes", "bytes"), 5);
    /* Nothing is held: the lock went with each call. */
    redisReply *r = share_redis("EXISTS wasmplug:kv:{notes}:lock");
    CHECK(r && r->integer == 0);
    freeReplyObject(r);
}

static void test_quota(void)
{
    const char *a_args[] = {"fill", url, "quota", "45", "a", "5", NULL};
    const char *b_args[] = {"fill", url, "quota", "45", "b", "5", NULL};
    share_child a = share_spawn("fill-a", a_args), b = share_spawn("fill-b", b_args);
    CHECK_EQ(share_finish(&a, out_a, sizeof out_a), 0);
    CHECK_EQ(share_finish(&b, out_b, sizeof out_b), 0);
    int ok_a = 0, quota_a = 0, other_a = 0, ok_b = 0, quota_b = 0, other_b = 0;
    CHECK(sscanf(share_line(out_a, "fill "), "fill ok=%d quota=%d other=%d", &ok_a, &quota_a,
                 &other_a) == 3);
    CHECK(sscanf(share_line(out_b, "fill "), "fill ok=%d quota=%d other=%d", &ok_b, &quota_b,
                 &other_b) == 3);
    CHECK_EQ(ok_a + ok_b, 4);
    CHECK_EQ(quota_a + quota_b, 6);
    CHECK_EQ(other_a + other_b, 0);
    CHECK_EQ(hlen("quota"), 40);
    CHECK_EQ(usage("quota", "keys"), 40);
    CHECK_EQ(usage("quota", "bytes"), 40 * (4 + 100)); /* "a0/3" + 100 bytes */
    /* A call is all or nothing: each one's ten keys exist iff it succeeded. */
    for (int proc = 0; proc < 2; proc++)
        for (int i = 0; i < 5; i++) {
            char prefix[16], line[32], key[32];
            snprintf(prefix, sizeof prefix, "%c%d", proc ? 'b' : 'a', i);
            snprintf(line, sizeof line, "call %d ", i);
            bool ok = strcmp(share_line(proc ? out_b : out_a, line) + strlen(line), "OK") == 0;
            int present = 0;
            for (int k = 0; k < 10; k++) {
                snprintf(key, sizeof key, "%s/%d", prefix, k);
                present += hexists("quota", key);
            }
            CHECK_EQ(present, ok ? 10 : 0);
        }
}

static void test_restart(void)
{
    const char *args[] = {"ticker", url, "ticker", "200", "5", NULL};
    share_child t = share_spawn("ticker", args);
    char line[256];
    CHECK(share_expect(&t, "progress 50", line, sizeof line, 30000));
    redis_test_halt(&srv, true);
    redis_test_sleep_ms(500);
    CHECK(redis_test_start(&srv));
    CHECK_EQ(share_finish(&t, out_a, sizeof out_a), 0);
    int ok = 0, failed = 0;
    CHECK(sscanf(share_line(out_a, "ticks "), "ticks ok=%d failed=%d", &ok, &failed) == 2);
    /* Every call waited for Redis rather than fail... */
    CHECK_EQ(ok, 200);
    CHECK_EQ(failed, 0);
    /* ...and every one that succeeded is there. */
    int present = 0;
    char failures[8192];
    snprintf(failures, sizeof failures, "%s ", share_line(out_a, "failures:"));
    for (int i = 0; i < 200; i++) {
        char key[32], failed_i[32];
        snprintf(key, sizeof key, "tick-%d", i);
        snprintf(failed_i, sizeof failed_i, " %d ", i);
        if (!strstr(failures, failed_i))
            present += hexists("ticker", key);
    }
    CHECK_EQ(present, ok);
    CHECK_EQ(usage("ticker", "keys"), hlen("ticker"));
    printf("restart: %d calls succeeded, %d failed, %d present\n", ok, failed, present);
}

static void test_errors(void)
{
    wasmplug_host *host;
    char msg[512] = "";
    CHECK(kv_plugin("redis://127.0.0.1:notaport", "bad", "0", &host, msg, sizeof msg) == NULL);
    CHECK_CONTAINS(msg, "kv_redis_url");
    wasmplug_host_free(host);

    wasmplug_plugin *p = kv_plugin(url, "gone", "0", &host, msg, sizeof msg);
    CHECK(p != NULL);
    if (!p)
        return;
    wasmplug_status st;
    wasmplug_plugin_error err;
    free(host_test_call(p, "set", "k=1", &st, &err));
    CHECK_EQ(st, WASMPLUG_OK);
    /* Redis stopped for good: the call fails after the reconnect wait. */
    redis_test_halt(&srv, false);
    free(host_test_call(p, "get", "k", &st, &err));
    CHECK_EQ(st, WASMPLUG_ERR_STORAGE);
    CHECK_CONTAINS(err.message, "plugin 'gone'");
    char label[64];
    snprintf(label, sizeof label, "redis 127.0.0.1:%d", srv.port);
    CHECK(strstr(err.message, label) != NULL);
    CHECK(redis_test_start(&srv));
    char *out = host_test_call(p, "get", "k", &st, &err);
    CHECK_EQ(st, WASMPLUG_OK);
    CHECK(strcmp(out, "1") == 0);
    free(out);
    wasmplug_plugin_release(p);
    wasmplug_host_free(host);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--role") == 0) {
        host_test_bounds_mode = WASMPLUG_BOUNDS_AUTO;
        share_redis_port = atoi(strrchr(argv[3], ':') + 1);
        if (!strcmp(argv[2], "ops"))
            return role_ops(argc - 3, argv + 3);
        if (!strcmp(argv[2], "fill"))
            return role_fill(argc - 3, argv + 3);
        if (!strcmp(argv[2], "ticker"))
            return role_ticker(argc - 3, argv + 3);
        return 2;
    }
    host_test_init(&argc, argv);
    if (!share_init())
        return 1;
    if (!share_start_redis(&srv, url, sizeof url))
        return 1;
    test_shared();
    test_quota();
    test_restart();
    test_errors();
    redis_test_stop(&srv);
    return test_done();
}
