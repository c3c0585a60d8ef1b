/*
 * test_chaos.c - the host under threaded chaos: 8 threads call plugins with
 * pools of 1, 2, 4 and 8 instances (echo with checked output, a long loop,
 * a trap) while other threads kill plugins and load them again under the
 * same name, dispose them gracefully, and cancel their running calls. Every
 * call must end in a result that is right for what happened to it (its
 * output exact, or trapped, cancelled, refused for the plugin's state, or
 * the plugin gone), and at the end nothing is left behind. Run under ASan
 * and TSan (make tsan) it also checks memory and data races.
 *
 * Bounded in time: WASMPLUG_CHAOS_MS (default 1500) of chaos; prints the
 * number of calls and chaos actions.
 */
#include "host_test.h"

#include <stdatomic.h>

enum { CALLERS = 8, PLUGINS = 4 };
static const uint32_t pool_sizes[PLUGINS] = {1, 2, 4, 8};

static wasmplug_host *host;
static uint8_t *wasm;
static size_t wasm_size;
static atomic_bool stop;
static atomic_long calls, calls_ok, calls_trapped, calls_cancelled, calls_refused, calls_gone;
static atomic_long kills, reloads, disposes, cancels, inits_cancelled;
static atomic_int bad;

/* A per-thread random number generator (xorshift). */
static uint32_t next_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void plugin_name(char *buf, size_t size, uint32_t k)
{
    snprintf(buf, size, "chaos-%u", k);
}

/* Load plugin k. Fine too: ERR_DUPLICATE (another thread was first),
 * ERR_CANCELLED (the canceller cancelled wasmplug_init while it ran, or a
 * kill stopped it: the plugin stays in state ERROR, or is gone) and
 * ERR_PLUGIN_STATE (killed between being registered and init). */
static void load(uint32_t k)
{
    char name[32];
    plugin_name(name, sizeof name, k);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.pool_size = pool_sizes[k];
    o.limits.timeout_ms = 60000; /* a safety net: no call should get near it */
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_host_load(host, name, wasm, wasm_size, &o, NULL, &err);
    if (st == WASMPLUG_OK) {
        atomic_fetch_add(&reloads, 1);
    } else if (st == WASMPLUG_ERR_CANCELLED || st == WASMPLUG_ERR_PLUGIN_STATE) {
        atomic_fetch_add(&inits_cancelled, 1);
    } else if (st != WASMPLUG_ERR_DUPLICATE) {
        char text[512];
        wasmplug_plugin_error_format(&err, text, sizeof text);
        printf("FAIL: load %s: %s\n", name, text);
        atomic_fetch_add(&bad, 1);
    }
}

static void fail_call(const char *func, wasmplug_status st, const wasmplug_plugin_error *err,
                      const char *why)
{
    char text[512];
    wasmplug_plugin_error_format(err, text, sizeof text);
    printf("FAIL: %s: %s (%s): %s\n", func, why, wasmplug_status_name(st), text);
    atomic_fetch_add(&bad, 1);
}

static void *caller_main(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    uint8_t in[256];
    char name[32];
    while (!atomic_load(&stop)) {
        uint32_t r = next_rand(&seed);
        plugin_name(name, sizeof name, r % PLUGINS);
        wasmplug_plugin *p;
        if (wasmplug_host_get(host, name, &p) != WASMPLUG_OK) {
            atomic_fetch_add(&calls_gone, 1); /* killed, not loaded again yet */
            continue;
        }
        uint32_t what = (r >> 8) % 8; /* 0-5 echo, 6 spin, 7 trap */
        const char *func = what < 6 ? "echo" : what == 6 ? "spin" : "trap";
        size_t in_len = what < 6 ? 1 + (r >> 16) % sizeof in : 0;
        for (size_t i = 0; i < in_len; i++)
            in[i] = (uint8_t)next_rand(&seed);
        wasmplug_buf out;
        wasmplug_plugin_error err;
        wasmplug_status st = wasmplug_plugin_call(p, func, in, in_len, &out, &err);
        atomic_fetch_add(&calls, 1);
        switch (st) {
        case WASMPLUG_OK:
            atomic_fetch_add(&calls_ok, 1);
            if (what < 6 && (out.len != in_len || memcmp(out.data, in, in_len) != 0))
                fail_call(func, st, &err, "echo gave other bytes");
            else if (what == 6 && (out.len != 4 || memcmp(out.data, "done", 4) != 0))
                fail_call(func, st, &err, "spin gave another result");
            else if (what == 7)
                fail_call(func, st, &err, "trap returned");
            break;
        case WASMPLUG_ERR_TRAP:
            atomic_fetch_add(&calls_trapped, 1);
            if (what != 7)
                fail_call(func, st, &err, "trapped");
            break;
        case WASMPLUG_ERR_CANCELLED:
            atomic_fetch_add(&calls_cancelled, 1);
            break;
        case WASMPLUG_ERR_PLUGIN_STATE: /* disposed or killed meanwhile */
            atomic_fetch_add(&calls_refused, 1);
            break;
        default:
            fail_call(func, st, &err, "unexpected status");
        }
        wasmplug_buf_free(&out);
        wasmplug_plugin_release(p);
    }
    return NULL;
}

static void pause_briefly(uint32_t *seed)
{
    struct timespec ts = {0, (long)(200000 + next_rand(seed) % 800000)}; /* 0.2-1 ms */
    nanosleep(&ts, NULL);
}

/* Kill plugin k and load it again under the same name. */
static void kill_and_reload(uint32_t k, char *name, uint32_t *seed)
{
    if (wasmplug_host_kill(host, name) == WASMPLUG_OK)
        atomic_fetch_add(&kills, 1);
    pause_briefly(seed);
    load(k);
}

/* Dispose plugin k gracefully (waits for its calls), then replace it. */
static void dispose_and_replace(uint32_t k, char *name, uint32_t *seed)
{
    (void)seed;
    wasmplug_plugin *p;
    if (wasmplug_host_get(host, name, &p) != WASMPLUG_OK)
        return;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_plugin_dispose(p, &err);
    /* ERR_CANCELLED: wasmplug_dispose was cancelled or killed while it ran
     * (the plugin is disposed all the same). */
    if (st == WASMPLUG_OK || st == WASMPLUG_ERR_CANCELLED)
        atomic_fetch_add(&disposes, 1);
    else if (st != WASMPLUG_ERR_PLUGIN_STATE)
        fail_call("dispose", st, &err, "dispose failed");
    wasmplug_plugin_release(p);
    /* Killing by name may hit a copy the killer has just loaded: chaos
     * either way. */
    if (wasmplug_host_kill(host, name) == WASMPLUG_OK)
        atomic_fetch_add(&kills, 1);
    load(k);
}

/* Cancel the running calls of plugin k. */
static void cancel_calls(uint32_t k, char *name, uint32_t *seed)
{
    (void)k;
    (void)seed;
    wasmplug_plugin *p;
    if (wasmplug_host_get(host, name, &p) == WASMPLUG_OK) {
        atomic_fetch_add(&cancels, (long)wasmplug_plugin_cancel(p));
        wasmplug_plugin_release(p);
    }
}

typedef struct chaos_thread {
    void (*action)(uint32_t k, char *name, uint32_t *seed);
    uint32_t seed;
} chaos_thread;

/* Until stopped: the thread's action on a random plugin, then a pause. */
static void *chaos_main(void *arg)
{
    chaos_thread *c = arg;
    char name[32];
    while (!atomic_load(&stop)) {
        uint32_t k = next_rand(&c->seed) % PLUGINS;
        plugin_name(name, sizeof name, k);
        c->action(k, name, &c->seed);
        pause_briefly(&c->seed);
    }
    return NULL;
}

static long chaos_ms(void)
{
    const char *s = getenv("WASMPLUG_CHAOS_MS");
    long ms = s ? atol(s) : 1500;
    return ms > 0 ? ms : 1500;
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    host = host_test_new(NULL);
    wasm = host_test_plugin("chaos", &wasm_size);
    if (!wasm)
        return test_done();
    for (uint32_t k = 0; k < PLUGINS; k++)
        load(k);
    CHECK_EQ(wasmplug_host_count(host), PLUGINS);

    pthread_t t[CALLERS + 3];
    chaos_thread chaos[3] = {{kill_and_reload, 7}, {dispose_and_replace, 69069},
                             {cancel_calls, 12345}};
    int n = 0;
    for (int i = 0; i < CALLERS; i++)
        pthread_create(&t[n++], NULL, caller_main, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < 3; i++)
        pthread_create(&t[n++], NULL, chaos_main, &chaos[i]);
    /* chaos_ms at least, and on until every kind of call and chaos has
     * happened (a loaded machine may need longer for that), 60 s at most. */
    long ms = chaos_ms();
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
    for (int i = 0; i < 6000 && !(atomic_load(&calls_ok) && atomic_load(&calls_trapped) &&
                                  atomic_load(&kills) && atomic_load(&disposes));
         i++) {
        struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    atomic_store(&stop, true);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);

    printf("chaos: %ld ms, %ld calls (%ld ok, %ld trapped, %ld cancelled, %ld refused by "
           "state), %ld lookups of killed plugins; %ld kills, %ld loads, %ld disposes, "
           "%ld calls cancelled by cancel(), %ld loads whose init was cancelled or killed\n",
           ms, atomic_load(&calls), atomic_load(&calls_ok), atomic_load(&calls_trapped),
           atomic_load(&calls_cancelled), atomic_load(&calls_refused), atomic_load(&calls_gone),
           atomic_load(&kills), atomic_load(&reloads), atomic_load(&disposes),
           atomic_load(&cancels), atomic_load(&inits_cancelled));
    CHECK_EQ(atomic_load(&bad), 0);
    /* Every kind of call and chaos happened (the test is not vacuous). */
    CHECK(atomic_load(&calls_ok) > 0);
    CHECK(atomic_load(&calls_trapped) > 0);
    CHECK(atomic_load(&kills) > 0);
    CHECK(atomic_load(&disposes) > 0);
    /* What is left works, and goes away cleanly. */
    for (uint32_t k = 0; k < PLUGINS; k++)
        load(k);
    char name[32];
    for (uint32_t k = 0; k < PLUGINS; k++) {
        plugin_name(name, sizeof name, k);
        wasmplug_plugin *p;
        if (wasmplug_host_get(host, name, &p) != WASMPLUG_OK)
            continue;
        if (wasmplug_plugin_state_get(p) == WASMPLUG_STATE_READY)
            CHECK_CALL(p, "echo", "still here", "still here");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_kill_all(host);
    CHECK_EQ(wasmplug_host_count(host), 0);
    wasmplug_host_free(host);
    free(wasm);
    return test_done();
}
