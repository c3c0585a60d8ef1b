/*
 * test_dist_api.c - the distribution client as an application uses it,
 * without the CLI (wasmplug/registry.h): make a key, pack and publish two
 * versions into a registry directory, trust the key, add the registry,
 * search, install with progress and consent callbacks (the callback grants
 * less than requested, and the store records exactly that), update with
 * and without consent, roll back. Prints "N passed, N failed".
 */
#include <wasmplug/package.h>
#include <wasmplug/registry.h>

#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/wasmplug-dist-api.XXXXXX";
static char msg[2048];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A plugin directory with an empty module and these permission lines. */
static void make_plugin(const char *dir, const char *version, const char *permissions)
{
    mkdir(dir, 0755);
    char path[512], yaml[1024];
    snprintf(path, sizeof path, "%s/plugin.yaml", dir);
    snprintf(yaml, sizeof yaml,
             "id: api-demo\nversion: %s\ndescription: Shows the library API\n"
             "module: plugin.wasm\n%s",
             version, permissions);
    write_text(path, yaml);
    snprintf(path, sizeof path, "%s/plugin.wasm", dir);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite("\0asm\1\0\0\0", 1, 8, f);
        fclose(f);
    }
}

typedef struct seen {
    int progress_calls;
    int consent_calls;
    size_t last_added;
    bool answer;
} seen;

static void on_progress(void *user, const char *what, uint64_t now, uint64_t total)
{
    (void)what;
    (void)now;
    (void)total;
    ((seen *)user)->progress_calls++;
}

/* Grant everything but environment variables; answer updates with s->answer. */
static bool on_consent(void *user, const wasmplug_consent_request *r)
{
    seen *s = user;
    s->consent_calls++;
    s->last_added = r->added_count;
    if (r->installed_version)
        return s->answer;
    for (size_t i = 0; i < r->requested_count; i++)
        if (!strncmp(r->requested[i].name, "wasi.env:", 9))
            r->grant[i] = false;
    return true;
}

static bool file_has_line(const char *path, const char *line)
{
    size_t n;
    uint8_t *bytes = test_read_file(path, &n);
    char *text = bytes ? strndup((const char *)bytes, n) : NULL; /* not NUL-terminated */
    free(bytes);
    bool found = false;
    for (char *l = text ? strtok(text, "\n") : NULL; l && !found; l = strtok(NULL, "\n"))
        found = !strcmp(l, line);
    free(text);
    return found;
}

int main(void)
{
    if (!mkdtemp(tmp))
        return 1;
    char store[256], reg[256], src1[256], src2[256], path[512];
    snprintf(store, sizeof store, "%s/store", tmp);
    snprintf(reg, sizeof reg, "%s/registry", tmp);
    snprintf(src1, sizeof src1, "%s/v1", tmp);
    snprintf(src2, sizeof src2, "%s/v2", tmp);
    make_plugin(src1, "1.0.0", "permissions:\n  host_functions: [host.log]\n  env: [LANG]\n");
    make_plugin(src2, "1.1.0",
                "permissions:\n  host_functions: [host.log]\n  env: [LANG]\n  http: ['*']\n");

    wasmplug_pubkey pub;
    wasmplug_seckey sec;
    char *pubtext = NULL, *pkg1 = NULL, *pkg2 = NULL;
    CHECK_STATUS(wasmplug_key_generate(&pub, &sec, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_pubkey_format(&pub, &pubtext, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_package_pack(src1, tmp, &pkg1, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_package_pack(src2, tmp, &pkg2, msg, sizeof msg), WASMPLUG_OK);
    const char *first[] = {pkg1};
    CHECK_STATUS(wasmplug_registry_publish(reg, first, 1, &sec, NULL, 0, msg, sizeof msg),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_trust_add(store, pubtext, strlen(pubtext), "api", NULL, msg,
                                    sizeof msg),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_registry_add(store, "local", reg, 5, &pub, msg, sizeof msg), WASMPLUG_OK);

    seen s = {0};
    wasmplug_dist_options o = {.store = store,
                               .progress = on_progress,
                               .progress_user = &s,
                               .consent = on_consent,
                               .consent_user = &s};
    wasmplug_search_hit *hits = NULL;
    size_t n = 0;
    CHECK_STATUS(wasmplug_dist_search(&o, "library api", &hits, &n, msg, sizeof msg),
                 WASMPLUG_OK);
    CHECK(n == 1 && !strcmp(hits[0].id, "api-demo") && !strcmp(hits[0].version, "1.0.0") &&
          !strcmp(hits[0].registry, "local"));
    wasmplug_search_hits_free(hits, n);

    wasmplug_dist_result res;
    CHECK_STATUS(wasmplug_dist_install(&o, "api-demo@^1", &res, msg, sizeof msg), WASMPLUG_OK);
    CHECK(res.version && !strcmp(res.version, "1.0.0") && !res.previous && res.sha256);
    wasmplug_dist_result_clear(&res);
    CHECK(s.progress_calls > 0);
    CHECK(s.consent_calls == 1 && s.last_added == 2);
    snprintf(path, sizeof path, "%s/plugins/api-demo/1.0.0/grants", store);
    CHECK(file_has_line(path, "host.log"));
    CHECK(!file_has_line(path, "wasi.env:LANG")); /* the callback withheld it */

    /* 1.1.0 adds http:* (and env, never granted): the callback says no. */
    const char *second[] = {pkg2};
    CHECK_STATUS(wasmplug_registry_publish(reg, second, 1, &sec, NULL, 0, msg, sizeof msg),
                 WASMPLUG_OK);
    wasmplug_outdated_entry *out = NULL;
    CHECK_STATUS(wasmplug_dist_outdated(&o, &out, &n, msg, sizeof msg), WASMPLUG_OK);
    CHECK(n == 1 && !strcmp(out[0].latest, "1.1.0") && !strcmp(out[0].installed, "1.0.0"));
    wasmplug_outdated_free(out, n);
    wasmplug_dist_result *up = NULL;
    s.answer = false;
    CHECK_STATUS(wasmplug_dist_update(&o, NULL, &up, &n, msg, sizeof msg),
                 WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(msg, "http:* (privileged)");
    CHECK(s.last_added == 2);
    wasmplug_dist_results_free(up, n);
    s.answer = true;
    CHECK_STATUS(wasmplug_dist_update(&o, "api-demo", &up, &n, msg, sizeof msg), WASMPLUG_OK);
    CHECK(n == 1 && !strcmp(up[0].version, "1.1.0") && !strcmp(up[0].previous, "1.0.0"));
    wasmplug_dist_results_free(up, n);
    snprintf(path, sizeof path, "%s/plugins/api-demo/1.1.0/grants", store);
    CHECK(file_has_line(path, "http:*"));

    CHECK_STATUS(wasmplug_dist_rollback(&o, "api-demo", &res, msg, sizeof msg), WASMPLUG_OK);
    CHECK(!strcmp(res.version, "1.0.0") && !strcmp(res.previous, "1.1.0"));
    wasmplug_dist_result_clear(&res);
    CHECK_STATUS(wasmplug_dist_rollback(&o, "api-demo", &res, msg, sizeof msg),
                 WASMPLUG_ERR_NOT_FOUND);

    wasmplug_seckey_wipe(&sec);
    free(pubtext);
    free(pkg1);
    free(pkg2);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp);
    return test_done();
}
