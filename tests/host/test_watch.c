/*
 * test_watch.c - file watching: a plugin watched by its host is reloaded
 * when its module file is replaced (by a rename, as installs and builds
 * do), a replacement that is no module leaves the running version
 * serving, unwatch stops it; a watcher debounces a burst of writes into
 * one callback, sees files in new subdirectories of a recursive watch and
 * skips ignored names. Waits are bounded (20 s).
 */
#include "host_test.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

typedef struct reloads {
    pthread_mutex_t mu;
    int count;
    wasmplug_status last;
    char message[WASMPLUG_ERROR_MESSAGE_MAX];
} reloads;

static void on_reload(void *user, wasmplug_plugin *p, wasmplug_status st,
                      const wasmplug_plugin_error *err)
{
    (void)p;
    reloads *r = user;
    pthread_mutex_lock(&r->mu);
    r->count++;
    r->last = st;
    snprintf(r->message, sizeof r->message, "%s", st ? err->message : "");
    pthread_mutex_unlock(&r->mu);
}

static int reload_count(reloads *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->count;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Wait up to 20 s until *count reaches want. */
static bool wait_count(int (*get)(void *), void *arg, int want)
{
    for (int i = 0; i < 2000; i++) {
        if (get(arg) >= want)
            return true;
        usleep(10000);
    }
    return false;
}

static int get_reloads(void *r)
{
    return reload_count(r);
}

/* Write bytes to dir/name through a temporary file and a rename. */
static void replace_file(const char *name, const void *data, size_t len)
{
    char tmp[512], path[512];
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(tmp, "wb");
    CHECK(f && fwrite(data, 1, len, f) == len);
    if (f)
        fclose(f);
    CHECK(rename(tmp, path) == 0);
}

static char who(wasmplug_plugin *p)
{
    wasmplug_buf out;
    wasmplug_plugin_error err;
    char c = 0;
    if (wasmplug_plugin_call(p, "who", NULL, 0, &out, &err) == WASMPLUG_OK && out.len == 1)
        c = (char)out.data[0];
    wasmplug_buf_free(&out);
    return c;
}

static void test_plugin_watch(void)
{
    size_t na, nb;
    uint8_t *a = host_test_plugin("reload_a", &na), *b = host_test_plugin("reload_b", &nb);
    if (!a || !b)
        return;
    replace_file("plugin.wasm", a, na);
    char path[512];
    snprintf(path, sizeof path, "%s/plugin.wasm", dir);
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load_file(h, "watched", path, &o, &p, &err), WASMPLUG_OK, &err);
    reloads r = {PTHREAD_MUTEX_INITIALIZER, 0, WASMPLUG_OK, ""};
    CHECK_CODE(wasmplug_plugin_watch(p, path, NULL, on_reload, &r), WASMPLUG_OK, NULL);
    CHECK_EQ(who(p), 'A');

    replace_file("plugin.wasm", b, nb);
    CHECK(wait_count(get_reloads, &r, 1));
    CHECK_EQ(r.last, WASMPLUG_OK);
    CHECK_EQ(who(p), 'B');
    /* Not a module: the reload fails, B keeps serving. */
    replace_file("plugin.wasm", "junk", 4);
    CHECK(wait_count(get_reloads, &r, 2));
    CHECK_EQ(r.last, WASMPLUG_ERR_MALFORMED);
    CHECK_EQ(who(p), 'B');
    /* Another file of the directory changes nothing. */
    replace_file("other.wasm", a, na);
    replace_file("plugin.wasm", a, na);
    CHECK(wait_count(get_reloads, &r, 3));
    CHECK_EQ(reload_count(&r), 3);
    CHECK_EQ(who(p), 'A');

    /* Unwatched: a change is not picked up (seen by a second watch of
     * another plugin on the same file, which does reload). */
    wasmplug_plugin_unwatch(p);
    wasmplug_plugin *q = NULL;
    CHECK_CODE(wasmplug_host_load_file(h, "second", path, &o, &q, &err), WASMPLUG_OK, &err);
    reloads r2 = {PTHREAD_MUTEX_INITIALIZER, 0, WASMPLUG_OK, ""};
    CHECK_CODE(wasmplug_plugin_watch(q, path, NULL, on_reload, &r2), WASMPLUG_OK, NULL);
    replace_file("plugin.wasm", b, nb);
    CHECK(wait_count(get_reloads, &r2, 1));
    CHECK_EQ(who(q), 'B');
    CHECK_EQ(who(p), 'A');
    CHECK_EQ(reload_count(&r), 3);

    CHECK_CODE(wasmplug_plugin_watch(p, "/nonexistent/dir/x.wasm", NULL, NULL, NULL),
               WASMPLUG_ERR_NOT_FOUND, NULL);
    wasmplug_plugin_release(p);
    wasmplug_plugin_release(q);
    wasmplug_host_free(h); /* stops the watcher, drops its references */
    free(a);
    free(b);
}

typedef struct seen {
    pthread_mutex_t mu;
    int count;
    char last[1024];
} seen;

static void on_change(void *user, const char *path)
{
    seen *s = user;
    pthread_mutex_lock(&s->mu);
    s->count++;
    snprintf(s->last, sizeof s->last, "%s", path);
    pthread_mutex_unlock(&s->mu);
}

static int get_seen(void *s)
{
    seen *x = s;
    pthread_mutex_lock(&x->mu);
    int n = x->count;
    pthread_mutex_unlock(&x->mu);
    return n;
}

static void test_watcher(void)
{
    seen s = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
    wasmplug_watcher *w = NULL;
    CHECK_CODE(wasmplug_watcher_new(300, on_change, &s, &w), WASMPLUG_OK, NULL);
    if (!w)
        return;
    char tree[512], sub[600];
    snprintf(tree, sizeof tree, "%s/tree", dir);
    CHECK(mkdir(tree, 0700) == 0);
    CHECK_CODE(wasmplug_watcher_ignore(w, "*.o"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_watcher_add(w, tree, true), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_watcher_add(w, "/nonexistent/x", false), WASMPLUG_ERR_NOT_FOUND, NULL);

    /* A burst of writes: one callback, when the burst is shorter than the
     * debounce time (a loaded machine may stretch it). */
    char name[700];
    uint64_t burst_start = test_now_ms();
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "%s/f.txt", tree);
        FILE *f = fopen(name, "w");
        CHECK(f != NULL);
        if (f) {
            fprintf(f, "%d\n", i);
            fclose(f);
        }
    }
    uint64_t burst_ms = test_now_ms() - burst_start;
    CHECK(wait_count(get_seen, &s, 1));
    usleep(700000); /* twice the debounce time: the burst's callbacks are in */
    int settled = get_seen(&s);
    if (burst_ms < 300)
        CHECK_EQ(settled, 1);
    else
        printf("note: the burst took %d ms, longer than the debounce: %d callbacks\n",
               (int)burst_ms, settled);
    /* An ignored file gives no callback (none within twice the debounce
     * time), a file in a new subdirectory does. */
    snprintf(name, sizeof name, "%s/a.o", tree);
    FILE *f = fopen(name, "w");
    if (f)
        fclose(f);
    usleep(700000);
    CHECK_EQ(get_seen(&s), settled);
    /* The new directory's callback comes once its watch was added (on its
     * creation event): a file written after that is seen in it. */
    snprintf(sub, sizeof sub, "%s/src", tree);
    CHECK(mkdir(sub, 0700) == 0);
    CHECK(wait_count(get_seen, &s, settled + 1));
    pthread_mutex_lock(&s.mu);
    CHECK_CONTAINS(s.last, "/src");
    pthread_mutex_unlock(&s.mu);
    snprintf(name, sizeof name, "%s/src/x.c", tree);
    f = fopen(name, "w");
    if (f) {
        fputs("int x;\n", f);
        fclose(f);
    }
    CHECK(wait_count(get_seen, &s, settled + 2));
    pthread_mutex_lock(&s.mu);
    CHECK_CONTAINS(s.last, "/src/x.c");
    pthread_mutex_unlock(&s.mu);
    wasmplug_watcher_free(w);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    snprintf(dir, sizeof dir, "/tmp/wasmplug-watch-XXXXXX");
    if (!mkdtemp(dir)) {
        printf("FAIL: mkdtemp\n");
        return 1;
    }
    test_plugin_watch();
    test_watcher();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("warning: cannot remove %s\n", dir);
    return test_done();
}
