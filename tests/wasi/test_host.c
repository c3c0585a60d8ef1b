/*
 * test_host.c - WASI inside the plugin host: a wasi-libc reactor plugin
 * (programs/hostio.c) loaded with load options' wasi config. Checks that
 * preopens and environment variables reach the plugin only when granted
 * (request in the manifest and host policy), that a read grant makes a
 * read-write directory read-only, that stdout/stderr are captured per call,
 * that proc_exit ends a call with its code, and that a plugin without WASI
 * config still loads (stubs).
 */
#include "test.h"
#include "wasmplug.h"

#include <sys/stat.h>
#include <unistd.h>

static char dir[256], other[300];

static wasmplug_plugin *load(wasmplug_host *h, const char *name, const char *const *perms,
                             size_t nperms, const wasmplug_wasi_config *wasi)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/hostio.wasm", WP_WASI_MODULES);
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.permissions = perms;
    m.permission_count = nperms;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    o.wasi = wasi;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(h, name, path, &o, &p, &err) != WASMPLUG_OK)
        printf("FAIL load %s: %s\n", name, err.message);
    CHECK(p != NULL);
    return p;
}

static int32_t call(wasmplug_plugin *p, const char *f, wasmplug_plugin_error *err)
{
    wasmplug_val r;
    r.of.i32 = -999;
    if (wasmplug_plugin_call_typed(p, f, NULL, 0, &r, 1, err) != WASMPLUG_OK)
        return -999;
    return r.of.i32;
}

static bool output_is(wasmplug_plugin *p, int fd, const char *want)
{
    wasmplug_buf b;
    if (wasmplug_plugin_wasi_output(p, fd, &b) != WASMPLUG_OK)
        return false;
    bool ok = b.len == strlen(want) && (b.len == 0 || memcmp(b.data, want, b.len) == 0);
    if (!ok)
        printf("     output %d: '%.*s'\n", fd, (int)b.len, b.data ? (char *)b.data : "");
    wasmplug_buf_free(&b);
    return ok;
}

int main(int argc, char **argv)
{
    wasmplug_host_config hc;
    memset(&hc, 0, sizeof hc);
    hc.bounds = test_bounds(&argc, argv);
    wasmplug_host *h;
    if (wasmplug_host_new(&hc, &h) != WASMPLUG_OK)
        return 1;
    wasmplug_host_grant(h, "*", "wasi.*");
    snprintf(dir, sizeof dir, "/tmp/wasi-host-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(other, sizeof other, "%s-other", dir);
    mkdir(other, 0755);
    FILE *f = fopen(strcat(strcpy((char[400]){0}, dir), "/one.txt"), "w");
    fputs("1", f);
    fclose(f);

    setenv("WASI_HOST_INHERITED", "x", 1);
    const char *args[] = {"hostio", "a", "b"};
    const char *env[] = {"ALLOWED=1", "SECRET=2"};
    const char *inherit[] = {"WASI_HOST_*"};
    wasmplug_wasi_preopen pre[] = {{dir, "/data", false}, {other, "/other", false}};
    wasmplug_wasi_config cfg;
    wasmplug_wasi_config_init(&cfg);
    cfg.args = args;
    cfg.arg_count = 3;
    cfg.env = env;
    cfg.env_count = 2;
    cfg.env_inherit = inherit;
    cfg.env_inherit_count = 1;
    cfg.preopens = pre;
    cfg.preopen_count = 2;
    wasmplug_plugin_error err;

    /* Granted: /data read-write, ALLOWED. Not granted: /other, SECRET. */
    const char *perms[] = {"wasi.fs.write:/data", "wasi.env:ALLOWED"};
    wasmplug_plugin *p = load(h, "full", perms, 2, &cfg);
    if (p) {
        CHECK_EQ(call(p, "hello", &err), 0);
        CHECK(output_is(p, 1, "hello from wasi\n"));
        CHECK(output_is(p, 2, "warn\n"));
        CHECK_EQ(call(p, "count_data", &err), 1);
        CHECK(output_is(p, 1, "")); /* per call */
        CHECK_EQ(call(p, "count_other", &err), -76); /* ENOTCAPABLE: no such preopen */
        CHECK_EQ(call(p, "write_data", &err), 0);
        CHECK(access(strcat(strcpy((char[400]){0}, dir), "/written.txt"), F_OK) == 0);
        CHECK_EQ(call(p, "env_mask", &err), 1);
        CHECK_EQ(call(p, "arg_count", &err), 3);
        /* exit ends the call with its code */
        CHECK_EQ(call(p, "quit", &err), -999);
        CHECK_STATUS(err.code, WASMPLUG_ERR_TRAP);
        CHECK_EQ(err.trap, WASMPLUG_TRAP_EXIT);
        CHECK_EQ(err.plugin_code, 5);
        /* the next call gets a fresh instance and context */
        CHECK_EQ(call(p, "count_data", &err), 2);
        wasmplug_metrics mt;
        wasmplug_plugin_get_metrics(p, &mt);
        CHECK(mt.host_calls > 0);
        /* denials were recorded */
        wasmplug_plugin_error hist[16];
        size_t n = wasmplug_plugin_errors(p, hist, 16);
        int denials = 0;
        for (size_t i = 0; i < n; i++)
            if (hist[i].code == WASMPLUG_ERR_PERMISSION_DENIED)
                denials++;
        CHECK_EQ(denials, 2); /* /other and SECRET */
        wasmplug_plugin_release(p);
    }

    /* Read grant only: /data becomes read-only; the inherited variable is
     * visible only with its own grant. */
    unlink(strcat(strcpy((char[400]){0}, dir), "/written.txt"));
    const char *ro_perms[] = {"wasi.fs.read:/data", "wasi.env:WASI_HOST_INHERITED"};
    p = load(h, "readonly", ro_perms, 2, &cfg);
    if (p) {
        CHECK_EQ(call(p, "count_data", &err), 1);
        CHECK_EQ(call(p, "write_data", &err), 69); /* EROFS */
        CHECK_EQ(call(p, "env_mask", &err), 0);
        wasmplug_plugin_release(p);
    }
    CHECK(access(strcat(strcpy((char[400]){0}, dir), "/written.txt"), F_OK) != 0);

    /* No grants at all: no directories, no variables; output still captured. */
    p = load(h, "nothing", NULL, 0, &cfg);
    if (p) {
        CHECK_EQ(call(p, "count_data", &err), -76);
        CHECK_EQ(call(p, "env_mask", &err), 0);
        CHECK_EQ(call(p, "hello", &err), 0);
        CHECK(output_is(p, 1, "hello from wasi\n"));
        wasmplug_plugin_release(p);
    }

    /* Host policy matters too: grant nothing to "strict-*". */
    wasmplug_host *h2;
    wasmplug_host_new(&hc, &h2);
    wasmplug_host_grant(h2, "other-*", "wasi.*");
    const char *perms2[] = {"wasi.fs.write:/data"};
    char path[1024];
    snprintf(path, sizeof path, "%s/hostio.wasm", WP_WASI_MODULES);
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.permissions = perms2;
    m.permission_count = 1;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.init = true;
    o.wasi = &cfg;
    CHECK_STATUS(wasmplug_host_load_file(h2, "strict-1", path, &o, &p, &err), WASMPLUG_OK);
    if (p) {
        CHECK_EQ(call(p, "count_data", &err), -76);
        wasmplug_plugin_release(p);
    }
    /* Without a WASI config the plugin gets WASI with no capabilities:
     * wasi-libc's start-up code runs, the data directory is not there. */
    o.wasi = NULL;
    CHECK_STATUS(wasmplug_host_load_file(h2, "plain", path, &o, &p, &err), WASMPLUG_OK);
    if (p) {
        CHECK_EQ(call(p, "count_data", &err), -76);
        wasmplug_buf b;
        CHECK_STATUS(wasmplug_plugin_wasi_output(p, 1, &b), WASMPLUG_OK);
        wasmplug_buf_free(&b);
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h2);
    wasmplug_host_free(h);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, other);
    if (system(cmd) != 0)
        printf("warning: cleanup failed\n");
    return test_done();
}
