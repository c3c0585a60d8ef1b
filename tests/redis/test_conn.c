/*
 * test_conn.c - src/services/redis_conn.c against a real redis-server: URL
 * parsing, backoff, commands and pipelines, error replies as values, AUTH
 * and SELECT, Unix sockets, lost connections, reconnecting after a restart,
 * the stop flag and the command timeout.
 */
#include "test.h"
#include "redis_test.h"

#include "services/redis_conn.h"

#include <pthread.h>

static char msg[512];

static wps_redis_status parse(const char *url, wps_redis_url *u)
{
    msg[0] = '\0';
    return wps_redis_url_parse(url, u, msg, sizeof msg);
}

static void test_urls(void)
{
    wps_redis_url u;
    char label[300];
    CHECK_EQ(parse("redis://localhost", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.host, "localhost") && u.port == 6379 && u.db == 0 && !u.password[0]);
    CHECK(!strcmp(wps_redis_url_label(&u, label, sizeof label), "localhost:6379/0"));
    CHECK_EQ(parse("redis://:s%40cret@10.0.0.2:7000/5", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.host, "10.0.0.2") && u.port == 7000 && u.db == 5);
    CHECK(!strcmp(u.password, "s@cret") && !u.user[0]);
    CHECK_EQ(parse("redis://app:pw@h/2", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.user, "app") && !strcmp(u.password, "pw") && u.db == 2 && u.port == 6379);
    CHECK_EQ(parse("redis://[::1]:6380?db=3", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.host, "::1") && u.port == 6380 && u.db == 3);
    CHECK(!strcmp(wps_redis_url_label(&u, label, sizeof label), "[::1]:6380/3"));
    CHECK_EQ(parse("redis://h/", &u), WPS_REDIS_OK);
    CHECK_EQ(u.db, 0);
    CHECK_EQ(parse("unix:///run/redis/redis.sock?db=1", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.unix_path, "/run/redis/redis.sock") && u.db == 1);
    CHECK(!strcmp(wps_redis_url_label(&u, label, sizeof label), "unix:/run/redis/redis.sock/1"));
    CHECK_EQ(parse("redis+unix://:pw@/tmp/r.sock", &u), WPS_REDIS_OK);
    CHECK(!strcmp(u.unix_path, "/tmp/r.sock") && !strcmp(u.password, "pw"));

    /* Refused, each with its reason, never quoting the password. */
    CHECK_EQ(parse("rediss://:topsecret@h", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "TLS is not supported");
    CHECK(!strstr(msg, "topsecret"));
    CHECK_EQ(parse("http://h", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "unknown scheme");
    CHECK_EQ(parse("redis://:topsecret@h:99999", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "port must be a number from 1 to 65535");
    CHECK(!strstr(msg, "topsecret"));
    CHECK_EQ(parse("redis://h:", &u), WPS_REDIS_USAGE);
    CHECK_EQ(parse("redis://h:12x", &u), WPS_REDIS_USAGE);
    CHECK_EQ(parse("redis://h/db", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "database number");
    CHECK_EQ(parse("redis://h?timeout=1", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "only ?db=N");
    CHECK_EQ(parse("redis://", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "no host");
    CHECK_EQ(parse("redis://secret@h", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "':PASSWORD'");
    CHECK(!strstr(msg, "secret@"));
    CHECK_EQ(parse("redis://:bad%4@h", &u), WPS_REDIS_USAGE);
    CHECK_EQ(parse("redis://:nul%00@h", &u), WPS_REDIS_USAGE);
    CHECK_EQ(parse("redis://[::1", &u), WPS_REDIS_USAGE);
    CHECK_EQ(parse("unix://relative.sock", &u), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "absolute");
    CHECK_EQ(parse("", &u), WPS_REDIS_USAGE);
}

static void test_backoff(void)
{
    uint64_t seed = 42;
    for (unsigned attempt = 0; attempt < 12; attempt++) {
        uint32_t d = 50u << (attempt < 6 ? attempt : 6);
        if (d > 2000)
            d = 2000;
        uint32_t lo = UINT32_MAX, hi = 0;
        for (int i = 0; i < 200; i++) {
            uint32_t w = wps_redis_backoff_ms(50, 2000, attempt, &seed);
            lo = w < lo ? w : lo;
            hi = w > hi ? w : hi;
        }
        /* Within [d/2, d], and spread (jitter), not one value. */
        CHECK(lo >= d - d / 2 && hi <= d);
        CHECK(hi > lo);
    }
}

static void test_commands(redis_test_server *srv)
{
    char url[128];
    wps_redis *r;
    CHECK_EQ(wps_redis_open(redis_test_url(srv, url, sizeof url), NULL, &r, msg, sizeof msg),
             WPS_REDIS_OK);
    CHECK(!wps_redis_connected(r));
    redisReply *rep;
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "SET %s %b", "k", "v\0w", (size_t)3),
             WPS_REDIS_OK);
    CHECK(wps_redis_connected(r));
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "GET k"), WPS_REDIS_OK);
    CHECK(rep && rep->type == REDIS_REPLY_STRING && rep->len == 3 && !memcmp(rep->str, "v\0w", 3));
    freeReplyObject(rep);

    const char *incr[] = {"INCRBY", "n", "5"};
    long long v = 0;
    CHECK_EQ(wps_redis_commandv(r, &rep, msg, sizeof msg, 3, incr, NULL), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 5);
    freeReplyObject(rep);

    /* An error reply is a value with Redis's message and the command. */
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "INCR k"), WPS_REDIS_ERROR);
    CHECK(rep == NULL);
    CHECK_CONTAINS(msg, "INCR: ERR value is not an integer");
    CHECK_CONTAINS(msg, "127.0.0.1:");
    CHECK(wps_redis_connected(r)); /* still usable */
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "PING"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_is(rep, "PONG"));
    freeReplyObject(rep);

    /* A pipeline: three commands, the middle one failing alone. */
    const char *a[] = {"INCR", "n"}, *b[] = {"INCR", "k"}, *c[] = {"INCR", "n"};
    CHECK_EQ(wps_redis_append(r, msg, sizeof msg, 2, a, NULL), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_append(r, msg, sizeof msg, 2, b, NULL), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_append(r, msg, sizeof msg, 2, c, NULL), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_next(r, &rep, msg, sizeof msg), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 6);
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_next(r, &rep, msg, sizeof msg), WPS_REDIS_ERROR);
    CHECK_EQ(wps_redis_next(r, &rep, msg, sizeof msg), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 7);
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_next(r, &rep, msg, sizeof msg), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "no pipelined command");

    /* The command timeout: a blocking command longer than it. */
    wps_redis_set_command_timeout(r, 100);
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "BLPOP nothing 2"), WPS_REDIS_LOST);
    CHECK_CONTAINS(msg, "no answer within the command timeout");
    CHECK(!wps_redis_connected(r));
    wps_redis_set_command_timeout(r, 0);
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "PING"), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_reconnects(r), 1);

    /* Another database through the URL. */
    char url3[160];
    snprintf(url3, sizeof url3, "%s/3", url);
    wps_redis *r3;
    CHECK_EQ(wps_redis_open(url3, NULL, &r3, msg, sizeof msg), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r3, NULL, msg, sizeof msg, "SET only3 x"), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "EXISTS only3"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 0);
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_command(r3, &rep, msg, sizeof msg, "EXISTS only3"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 1);
    freeReplyObject(rep);
    wps_redis_free(r3);

    /* The Unix socket. */
    char unix_url[400];
    snprintf(unix_url, sizeof unix_url, "unix://%s/redis.sock", srv->dir);
    wps_redis *ru;
    CHECK_EQ(wps_redis_open(unix_url, NULL, &ru, msg, sizeof msg), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(ru, &rep, msg, sizeof msg, "GET n"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_int(rep, &v) && v == 7);
    freeReplyObject(rep);
    wps_redis_free(ru);
    wps_redis_free(r);
}

static void test_restart(redis_test_server *srv)
{
    char url[128];
    wps_redis_options opt = {.backoff_initial_ms = 10, .backoff_max_ms = 100};
    wps_redis *r;
    CHECK_EQ(wps_redis_open(redis_test_url(srv, url, sizeof url), &opt, &r, msg, sizeof msg),
             WPS_REDIS_OK);
    CHECK_EQ(wps_redis_connect(r, 0, msg, sizeof msg), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "SET kept yes"), WPS_REDIS_OK);

    redis_test_halt(srv, false);
    /* The connection is found broken by the next command. */
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "PING"), WPS_REDIS_LOST);
    CHECK_CONTAINS(msg, "PING");
    CHECK(!wps_redis_connected(r));
    /* Connecting with a deadline gives up with the last reason. */
    CHECK_EQ(wps_redis_connect(r, 150, msg, sizeof msg), WPS_REDIS_LOST);
    CHECK_CONTAINS(msg, "cannot connect");

    CHECK(redis_test_start(srv));
    CHECK_EQ(wps_redis_connect(r, 5000, msg, sizeof msg), WPS_REDIS_OK);
    redisReply *rep;
    CHECK_EQ(wps_redis_command(r, &rep, msg, sizeof msg, "GET kept"), WPS_REDIS_OK);
    CHECK(wps_redis_reply_is(rep, "yes")); /* appendonly: the data came back */
    freeReplyObject(rep);
    CHECK_EQ(wps_redis_reconnects(r), 1);
    wps_redis_free(r);
}

static atomic_bool stop_flag;

static void *set_stop(void *arg)
{
    (void)arg;
    redis_test_sleep_ms(100);
    atomic_store(&stop_flag, true);
    return NULL;
}

static void test_stop_flag(void)
{
    /* Nothing listens on this port: wait "forever" until stopped. */
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_test_free_port());
    wps_redis_options opt = {.backoff_initial_ms = 20, .backoff_max_ms = 40, .stop = &stop_flag};
    wps_redis *r;
    CHECK_EQ(wps_redis_open(url, &opt, &r, msg, sizeof msg), WPS_REDIS_OK);
    pthread_t t;
    pthread_create(&t, NULL, set_stop, NULL);
    CHECK_EQ(wps_redis_connect(r, UINT32_MAX, msg, sizeof msg), WPS_REDIS_STOPPED);
    CHECK_CONTAINS(msg, "stopped while connecting");
    pthread_join(t, NULL);
    wps_redis_free(r);
}

static void test_auth(void)
{
    redis_test_server srv = {.args = {"--requirepass", "pa ss"}, .nargs = 2};
    if (!CHECK(redis_test_start(&srv)))
        return;
    char url[160];
    wps_redis *r;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", srv.port);
    CHECK_EQ(wps_redis_open(url, NULL, &r, msg, sizeof msg), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "PING"), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "NOAUTH");
    wps_redis_free(r);

    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d", srv.port);
    CHECK_EQ(wps_redis_open(url, NULL, &r, msg, sizeof msg), WPS_REDIS_OK);
    /* A refused password is final: no waiting on it. */
    CHECK_EQ(wps_redis_connect(r, 60000, msg, sizeof msg), WPS_REDIS_USAGE);
    CHECK_CONTAINS(msg, "AUTH refused");
    CHECK(!strstr(msg, "wrong"));
    wps_redis_free(r);

    snprintf(url, sizeof url, "redis://:pa%%20ss@127.0.0.1:%d/1", srv.port);
    CHECK_EQ(wps_redis_open(url, NULL, &r, msg, sizeof msg), WPS_REDIS_OK);
    CHECK_EQ(wps_redis_command(r, NULL, msg, sizeof msg, "SET a b"), WPS_REDIS_OK);
    wps_redis_free(r);
    redis_test_stop(&srv);
}

int main(void)
{
    test_urls();
    test_backoff();
    test_stop_flag();
    redis_test_server srv = {.appendonly = true};
    if (CHECK(redis_test_start(&srv))) {
        test_commands(&srv);
        test_restart(&srv);
    }
    redis_test_stop(&srv);
    test_auth();
    return test_done();
}
