/*
 * host_test.h - helpers shared by the host API tests: plugin paths, a host
 * with the test bounds mode, the standard host functions the test plugins
 * import (env.add, env.upper, env.whoami, env.barrier, env.peek,
 * env.secret) and CHECK_CODE, which prints status names and the error.
 */
#ifndef WASMPLUG_HOST_TEST_H
#define WASMPLUG_HOST_TEST_H

#include "wasmplug.h"
#include "test.h"

#include <ctype.h>
#include <pthread.h>
#include <time.h>

#ifndef WP_HOST_PLUGINS
#define WP_HOST_PLUGINS "."
#endif

static wasmplug_bounds_mode host_test_bounds_mode;

/* CHECK_CODE(expr, want, err): a status, printing names and err's text. */
#define CHECK_CODE(expr, want, errp)                                                   \
    do {                                                                               \
        wasmplug_status test_s_ = (expr);                                              \
        if (!test_check(test_s_ == (want), __FILE__, __LINE__, #expr " == " #want)) {  \
            char test_buf_[1024] = "";                                                 \
            const wasmplug_plugin_error *test_e_ = (errp);                             \
            if (test_e_)                                                               \
                wasmplug_plugin_error_format(test_e_, test_buf_, sizeof test_buf_);    \
            printf("     got %s, expected %s\n     %s\n", wasmplug_status_name(test_s_), \
                   wasmplug_status_name(want), test_buf_);                             \
        }                                                                              \
    } while (0)

static inline void host_test_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s.wasm", WP_HOST_PLUGINS, name);
}

static inline uint8_t *host_test_plugin(const char *name, size_t *size)
{
    char path[1024];
    host_test_path(path, sizeof path, name);
    uint8_t *data = test_read_file(path, size);
    if (!data)
        test_check(0, __FILE__, __LINE__, path);
    return data;
}

/* ---- standard host functions ---- */

static inline int hf_add(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                  wasmplug_slot *results)
{
    (void)call;
    (void)user;
    if (args[0].value.i32 == 666) {
        wasmplug_hostcall_error(call, "the number of the beast");
        return 1;
    }
    results[0].i32 = (int32_t)((uint32_t)args[0].value.i32 + (uint32_t)args[1].value.i32);
    return 0;
}

static inline int hf_upper(wasmplug_hostcall *call, void *user, const uint8_t *in, size_t len)
{
    (void)user;
    if (len == 4 && memcmp(in, "soft", 4) == 0) {
        wasmplug_hostcall_write(call, "soft error", 10);
        return 5;
    }
    if (len == 4 && memcmp(in, "hard", 4) == 0) {
        wasmplug_hostcall_error(call, "refusing 'hard'");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        char c = (char)toupper(in[i]);
        if (wasmplug_hostcall_write(call, &c, 1) != WASMPLUG_OK)
            return -1;
    }
    return 0;
}

/* whoami(ptr, cap) -> len: writes "<plugin name>/<id>/<function>". */
static inline int hf_whoami(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                     wasmplug_slot *results)
{
    (void)user;
    char text[256];
    int n = snprintf(text, sizeof text, "%s/%s/%s", wasmplug_hostcall_plugin_name(call),
                     wasmplug_hostcall_plugin_id(call), wasmplug_hostcall_function(call));
    if (n < 0 || (uint32_t)n > args[0].len)
        n = (int)args[0].len;
    memcpy(args[0].ptr, text, (size_t)n);
    results[0].i32 = n;
    return 0;
}

/* peek(p) -> first byte: only reached with a valid range. */
static inline int hf_peek(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                   wasmplug_slot *results)
{
    (void)call;
    int *reached = user;
    if (reached)
        (*reached)++;
    results[0].i32 = args[0].len ? args[0].ptr[0] : -1;
    return 0;
}

static inline int hf_secret(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                     wasmplug_slot *results)
{
    (void)call;
    (void)user;
    (void)args;
    results[0].i32 = 42;
    return 0;
}

/* barrier() -> 1 when `parties` calls are inside it at once, 0 on timeout. */
typedef struct host_barrier {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int parties, arrived, generation;
} host_barrier;

static host_barrier host_test_barrier = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 4,
                                         0, 0};

static inline int hf_barrier(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                      wasmplug_slot *results)
{
    (void)call;
    (void)args;
    host_barrier *b = user;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&b->lock);
    int gen = b->generation, ok = 1;
    if (++b->arrived == b->parties) {
        b->arrived = 0;
        b->generation++;
        pthread_cond_broadcast(&b->cond);
    } else {
        while (gen == b->generation && ok)
            if (pthread_cond_timedwait(&b->cond, &b->lock, &ts) != 0)
                ok = 0;
        if (!ok)
            b->arrived--;
    }
    pthread_mutex_unlock(&b->lock);
    results[0].i32 = ok;
    return 0;
}

static int host_test_peek_reached;

/* A host with the test bounds mode, the standard functions registered and
 * the policy granting them to every plugin, except env.secret. */
static inline wasmplug_host *host_test_new(wasmplug_host_config *cfg)
{
    wasmplug_host_config c;
    if (!cfg) {
        memset(&c, 0, sizeof c);
        cfg = &c;
    }
    cfg->bounds = host_test_bounds_mode;
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(cfg, &h) != WASMPLUG_OK) {
        printf("FAIL: cannot create a host\n");
        exit(1);
    }
    int ok = wasmplug_host_register(h, "env", "add", "(ii)i", hf_add, NULL, NULL) == 0 &&
             wasmplug_host_register_bytes(h, "env", "upper", hf_upper, NULL, NULL) == 0 &&
             wasmplug_host_register(h, "env", "whoami", "(p)i", hf_whoami, NULL, NULL) == 0 &&
             wasmplug_host_register(h, "env", "barrier", "()i", hf_barrier, &host_test_barrier,
                                    NULL) == 0 &&
             wasmplug_host_register(h, "env", "peek", "(p)i", hf_peek, &host_test_peek_reached,
                                    NULL) == 0 &&
             wasmplug_host_register(h, "env", "secret", "()i", hf_secret, NULL, NULL) == 0 &&
             wasmplug_host_grant(h, "*", "env.add") == 0 &&
             wasmplug_host_grant(h, "*", "env.upper") == 0 &&
             wasmplug_host_grant(h, "*", "env.whoami") == 0 &&
             wasmplug_host_grant(h, "*", "env.barrier") == 0 &&
             wasmplug_host_grant(h, "*", "env.peek") == 0;
    if (!ok) {
        printf("FAIL: cannot register the test host functions\n");
        exit(1);
    }
    return h;
}

/* The permissions the good and hostile plugins ask for. */
static const char *const host_test_perms[] = {"env.add", "env.upper", "env.whoami",
                                              "env.barrier", "env.peek"};

static inline wasmplug_manifest host_test_manifest(const char *id)
{
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = id;
    m.version = "1.0.0";
    m.permissions = host_test_perms;
    m.permission_count = sizeof host_test_perms / sizeof host_test_perms[0];
    return m;
}

/* Load plugin file `file` as `name` with the standard manifest; NULL on failure. */
static inline wasmplug_plugin *host_test_load(wasmplug_host *h, const char *name,
                                              const char *file, wasmplug_load_options *opt)
{
    char path[1024];
    host_test_path(path, sizeof path, file);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    if (!opt) {
        o.init = true;
        opt = &o;
    }
    wasmplug_manifest m = host_test_manifest(name);
    if (!opt->manifest)
        opt->manifest = &m;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_host_load_file(h, name, path, opt, &p, &err);
    if (opt->manifest == &m)
        opt->manifest = NULL;
    if (st != WASMPLUG_OK) {
        char buf[1024];
        wasmplug_plugin_error_format(&err, buf, sizeof buf);
        printf("FAIL: cannot load %s: %s\n", file, buf);
        test_failed_count++;
        return NULL;
    }
    return p;
}

/* Call func with a string; the output as a malloc'd string ("" on failure). */
static inline char *host_test_call(wasmplug_plugin *p, const char *func, const char *in,
                                   wasmplug_status *st, wasmplug_plugin_error *err)
{
    wasmplug_buf out;
    wasmplug_status s = wasmplug_plugin_call(p, func, (const uint8_t *)in, in ? strlen(in) : 0,
                                             &out, err);
    if (st)
        *st = s;
    char *r = malloc(out.len + 1);
    if (out.len)
        memcpy(r, out.data, out.len);
    r[out.len] = '\0';
    wasmplug_buf_free(&out);
    return r;
}

/* Check that a call returns `want` exactly. */
#define CHECK_CALL(p, func, in, want)                                                  \
    do {                                                                               \
        wasmplug_status cs_;                                                           \
        wasmplug_plugin_error ce_;                                                     \
        char *co_ = host_test_call((p), (func), (in), &cs_, &ce_);                     \
        CHECK_CODE(cs_, WASMPLUG_OK, &ce_);                                            \
        if (!test_check(strcmp(co_, (want)) == 0, __FILE__, __LINE__,                  \
                        func "(" #in ") == " #want))                                   \
            printf("     got \"%s\"\n", co_);                                          \
        free(co_);                                                                     \
    } while (0)

static inline void host_test_init(int *argc, char **argv)
{
    host_test_bounds_mode = test_bounds(argc, argv);
    printf("bounds mode: %s\n", test_bounds_name(host_test_bounds_mode));
}

#endif
