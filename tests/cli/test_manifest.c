/*
 * test_manifest.c - unit tests of the manifest parser and semver ordering
 * (include/wasmplug/manifest.h, src/services/manifest.c): every field of a
 * full manifest, the host API view, error positions and messages, the
 * embedded custom section, semver precedence. Prints "N passed, N failed".
 */
#include <wasmplug/manifest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (cond)                                                                        \
            passed++;                                                                    \
        else {                                                                           \
            failed++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
        }                                                                                \
    } while (0)

static const char FULL[] =
    "id: word-counter\n"
    "name: Word Counter\n"
    "version: 1.2.0-rc.1+build.5\n"
    "description: Counts words\n"
    "authors: [Ada, Bob]\n"
    "license: MIT\n"
    "module: build/wc.wasm\n"
    "abi: compat\n"
    "exports: [count, count_text]\n"
    "config:\n"
    "  min_length: 3\n"
    "  stop: \"a,b\"\n"
    "dependencies: {text-utils: ^1.2, tokenizer: \">=2 <3\", any-version: }\n"
    "permissions:\n"
    "  host_functions: [host.log, \"env.*\"]\n"
    "  env: [LANG, LC_*]\n"
    "  filesystem:\n"
    "    - ./data:/data\n"
    "    - {host: /tmp, guest: /scratch, mode: rw}\n"
    "  events: {publish: [words.*], subscribe: [text.in]}\n"
    "  storage: {quota: 2MiB}\n"
    "  http: [api.example.org]\n"
    "resources:\n"
    "  max_memory: 1MiB\n"
    "  timeout: 2s\n"
    "  fuel: 1_000_000\n"
    "  max_call_depth: 500\n"
    "  max_input: 4KiB\n"
    "  max_output: 1000\n";

static void test_full(void)
{
    wasmplug_manifest_doc *d;
    wasmplug_manifest_diag diag;
    CHECK(wasmplug_manifest_parse(FULL, strlen(FULL), "full.yaml", &d, &diag) == WASMPLUG_OK);
    if (!d)
        return;
    CHECK(!strcmp(d->id, "word-counter"));
    CHECK(!strcmp(d->name, "Word Counter"));
    CHECK(!strcmp(d->version, "1.2.0-rc.1+build.5"));
    CHECK(!strcmp(d->license, "MIT"));
    CHECK(!strcmp(d->module, "build/wc.wasm"));
    CHECK(d->abi == WASMPLUG_ABI_COMPAT && d->abi_given);
    CHECK(d->authors.count == 2 && !strcmp(d->authors.items[1], "Bob"));
    CHECK(d->exports.count == 2 && !strcmp(d->exports.items[1], "count_text"));
    CHECK(d->config_count == 2 && !strcmp(d->config[0].value, "3") &&
          !strcmp(d->config[1].value, "a,b"));
    CHECK(d->dependency_count == 3 && !strcmp(d->dependencies[0].key, "text-utils") &&
          !strcmp(d->dependencies[0].value, "^1.2") &&
          !strcmp(d->dependencies[1].value, ">=2 <3") && !strcmp(d->dependencies[2].value, ""));
    CHECK(d->host_functions.count == 2 && !strcmp(d->host_functions.items[1], "env.*"));
    CHECK(d->env.count == 2 && !strcmp(d->env.items[1], "LC_*"));
    CHECK(d->dir_count == 2);
    if (d->dir_count == 2) {
        CHECK(!strcmp(d->dirs[0].host, "./data") && !strcmp(d->dirs[0].guest, "/data") &&
              d->dirs[0].readonly);
        CHECK(!strcmp(d->dirs[1].guest, "/scratch") && !d->dirs[1].readonly);
    }
    CHECK(d->events_publish.count == 1 && d->events_subscribe.count == 1);
    CHECK(d->storage && d->storage_quota == 2u << 20);
    CHECK(d->http_hosts.count == 1);
    CHECK(d->resources.max_memory_pages == 16);
    CHECK(d->resources.timeout_ms == 2000);
    CHECK(d->resources.fuel == 1000000);
    CHECK(d->resources.max_call_depth == 500);
    CHECK(d->resources.max_input_bytes == 4096);
    CHECK(d->resources.max_output_bytes == 1000);

    wasmplug_manifest hm;
    CHECK(wasmplug_manifest_to_host(d, &hm) == WASMPLUG_OK);
    CHECK(!strcmp(hm.id, "word-counter") && hm.export_count == 2 && hm.config_count == 2 &&
          hm.resources.fuel == 1000000 && hm.dependency_count == 3 &&
          !strcmp(hm.dependencies[1].key, "tokenizer"));
    /* Every request in the host's vocabulary: host functions, then services. */
    static const char *const want_perms[] = {"host.log", "env.*", "kv",
                                             "events.publish:words.*",
                                             "events.subscribe:text.in",
                                             "http:api.example.org"};
    CHECK(hm.permission_count == sizeof want_perms / sizeof want_perms[0]);
    for (size_t i = 0; i < hm.permission_count && i < 6; i++)
        CHECK(!strcmp(hm.permissions[i], want_perms[i]));
    CHECK(hm.setting_count == 1 && !strcmp(hm.settings[0].key, "kv.max_bytes") &&
          !strcmp(hm.settings[0].value, "2097152"));
    bool license = false;
    for (size_t i = 0; i < hm.metadata_count; i++)
        license |= !strcmp(hm.metadata[i].key, "license") && !strcmp(hm.metadata[i].value, "MIT");
    CHECK(license);
    char *mp = wasmplug_manifest_module_path(d);
    CHECK(mp && !strcmp(mp, "./build/wc.wasm"));
    free(mp);
    wasmplug_manifest_doc_free(d);
}

/* The storage, database and notify services: their grants and settings. */
static void test_services(void)
{
    static const char text[] = "id: s\nversion: 1.0.0\npermissions:\n"
                               "  storage: {quota: 64KiB, keys: 100}\n"
                               "  database: {max_size: 1MiB}\n"
                               "  notify: true\n";
    wasmplug_manifest_doc *d = NULL;
    wasmplug_manifest_diag diag;
    CHECK(wasmplug_manifest_parse(text, sizeof text - 1, "s.yaml", &d, &diag) == WASMPLUG_OK);
    if (!d)
        return;
    CHECK(d->storage && d->storage_quota == 65536 && d->storage_keys == 100);
    CHECK(d->database && d->database_max_size == 1u << 20 && d->notify);
    wasmplug_manifest hm;
    CHECK(wasmplug_manifest_to_host(d, &hm) == WASMPLUG_OK);
    CHECK(hm.permission_count == 3 && !strcmp(hm.permissions[0], "kv") &&
          !strcmp(hm.permissions[1], "db") && !strcmp(hm.permissions[2], "notify"));
    CHECK(hm.setting_count == 3 && !strcmp(hm.settings[0].key, "kv.max_bytes") &&
          !strcmp(hm.settings[0].value, "65536") && !strcmp(hm.settings[1].key, "kv.max_keys") &&
          !strcmp(hm.settings[1].value, "100") && !strcmp(hm.settings[2].key, "db.max_bytes") &&
          !strcmp(hm.settings[2].value, "1048576"));
    wasmplug_manifest_doc_free(d);

    /* Switched off: no grant. */
    static const char off[] = "id: s\nversion: 1.0.0\npermissions:\n  storage: false\n"
                              "  database: false\n  notify: false\n";
    CHECK(wasmplug_manifest_parse(off, sizeof off - 1, "s.yaml", &d, &diag) == WASMPLUG_OK);
    if (d) {
        CHECK(d->permissions.count == 0 && d->setting_count == 0);
        wasmplug_manifest_doc_free(d);
    }
}

/* Every ABI name a manifest may declare, and what it declares. */
static void test_abi_names(void)
{
    static const struct {
        const char *text;
        wasmplug_abi abi;
    } cases[] = {{"v1", WASMPLUG_ABI_V1},
                 {"\"1.0\"", WASMPLUG_ABI_V1},
                 {"compat", WASMPLUG_ABI_COMPAT},
                 {"wasm-bindgen", WASMPLUG_ABI_BINDGEN},
                 {"command", WASMPLUG_ABI_COMMAND},
                 {"none", WASMPLUG_ABI_NONE}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "id: x\nversion: 1.0.0\nabi: %s\n", cases[i].text);
        wasmplug_manifest_doc *d = NULL;
        wasmplug_manifest_diag diag;
        CHECK(wasmplug_manifest_parse(text, strlen(text), "m.yaml", &d, &diag) == WASMPLUG_OK);
        CHECK(d && d->abi_given && d->abi == cases[i].abi);
        /* Handed to the host as metadata under the name it was declared by. */
        wasmplug_manifest hm;
        CHECK(d && wasmplug_manifest_to_host(d, &hm) == WASMPLUG_OK);
        bool meta = false;
        for (size_t k = 0; d && k < hm.metadata_count; k++)
            meta |= !strcmp(hm.metadata[k].key, "abi") &&
                    !strcmp(hm.metadata[k].value, wasmplug_abi_string(cases[i].abi));
        CHECK(meta);
        wasmplug_manifest_doc_free(d);
    }
}

/* text must fail at line:column with msg in the message. */
static void bad(const char *text, unsigned line, unsigned col, const char *msg)
{
    wasmplug_manifest_doc *d = NULL;
    wasmplug_manifest_diag diag;
    wasmplug_status st = wasmplug_manifest_parse(text, strlen(text), "m.yaml", &d, &diag);
    bool ok = st == WASMPLUG_ERR_MANIFEST && !d && diag.line == line && diag.column == col &&
              strstr(diag.message, msg) && !strcmp(diag.file, "m.yaml");
    if (!ok)
        fprintf(stderr, "  for %s  got %u:%u: %s\n", text, diag.line, diag.column, diag.message);
    CHECK(ok);
    wasmplug_manifest_doc_free(d);
}

static void test_errors(void)
{
    bad("id: x\nversion: 1.2\n", 2, 10, "semantic version");
    bad("id: x\nversion: 1.0.0\nnmae: y\n", 3, 1, "did you mean 'name'");
    bad("id: x\nversion: 1.0.0\nfoo: y\n", 3, 1, "expected one of: id, name");
    bad("id: x\nversion: 1.0.0\nid: y\n", 3, 1, "duplicate key 'id'");
    bad("id: -x\nversion: 1.0.0\n", 1, 5, "'id' must be");
    bad("id: [x]\nversion: 1.0.0\n", 1, 5, "'id' must be a string");
    bad("version: 1.0.0\n", 1, 1, "missing required key 'id'");
    bad("id: x\n", 1, 1, "missing required key 'version'");
    bad("id: x\nversion: 1.0.0\nmodule: ../evil.wasm\n", 3, 9, "relative path");
    bad("id: x\nversion: 1.0.0\nabi: v2\n", 3, 6,
        "'abi' must be one of v1, compat, wasm-bindgen, command, none (got 'v2')");
    bad("id: x\nversion: 1.0.0\nabi: bindgen\n", 3, 6, "(got 'bindgen')");
    bad("id: x\nversion: 1.0.0\nabi: [command]\n", 3, 6, "command, none (got a list)");
    bad("id: x\nversion: 1.0.0\nexports: count\n", 3, 10, "must be a list");
    bad("id: x\nversion: 1.0.0\nconfig: {a: [1]}\n", 3, 13, "'config.a'");
    bad("id: x\nversion: 1.0.0\ndependencies: [a]\n", 3, 15,
        "'dependencies' must be a mapping of plugin id: version range");
    bad("id: x\nversion: 1.0.0\ndependencies: {a: \"^^1\"}\n", 3, 19, "'dependencies.a':");
    bad("id: x\nversion: 1.0.0\ndependencies: {\"a b\": 1}\n", 3, 16,
        "'dependencies.a b': a dependency must be a plugin id");
    bad("id: x\nversion: 1.0.0\npermissions:\n  host_functions: [log.]\n", 4, 20, "module.name");
    bad("id: x\nversion: 1.0.0\npermissions:\n  env: [\"A B\"]\n", 4, 9, "environment variable");
    bad("id: x\nversion: 1.0.0\npermissions:\n  filesystem: [nocolon]\n", 4, 16, "host:guest");
    bad("id: x\nversion: 1.0.0\npermissions:\n  filesystem: [\"a:rel\"]\n", 4, 16, "absolute");
    bad("id: x\nversion: 1.0.0\npermissions:\n  storage: maybe\n", 4, 12, "true, false");
    bad("id: x\nversion: 1.0.0\npermissions:\n  storage: {keys: -1}\n", 4, 19, "storage.keys");
    bad("id: x\nversion: 1.0.0\npermissions:\n  database: {size: 1}\n", 4, 14,
        "unknown key 'size' in 'permissions.database' (expected one of: max_size)");
    bad("id: x\nversion: 1.0.0\npermissions:\n  database: [a]\n", 4, 13,
        "'permissions.database' must be true, false or {max_size: SIZE}");
    bad("id: x\nversion: 1.0.0\npermissions:\n  notify: {a: 1}\n", 4, 11,
        "'permissions.notify' must be true or false");
    bad("id: x\nversion: 1.0.0\nresources:\n  fuel: 0\n", 4, 9, "positive integer");
    bad("id: x\nversion: 1.0.0\nresources:\n  timeout: 5 parsecs\n", 4, 12, "duration");
    bad("id: x\nversion: 1.0.0\nresources:\n  max_memory: 5GiB\n", 4, 15, "too large");
    bad("id: x\nversion: 1.0.0\nresources:\n  fuel: 99999999999999999999999\n", 4, 9,
        "positive integer");
    bad("id: x\nversion: 1.0.0\nresources: 5\n", 3, 12, "must be a mapping");
    bad("- a\n- b\n", 1, 1, "the manifest must be a mapping");
    bad("id: x\n  version: [\n", 2, 10, "YAML syntax error");
    bad("", 1, 1, "empty");
    /* A manifest is one document of UTF-8 text indented with spaces. */
    bad("id: x\nversion: 1.0.0\n---\nid: y\n", 3, 1, "a second one starts here");
    bad("id: x\nversion: 1.0.0\ndescription: caf\xe9\n", 3, 17, "not UTF-8");
    bad("id: x\nversion: 1.0.0\ndescription: a \xff b\n", 3, 16, "not UTF-8");
    bad("id: x\nversion: 1.0.0\npermissions:\n\thost_functions: [a.b]\n", 4, 1,
        "a tab in the indentation");
    bad("id: x\nversion: 1.0.0\npermissions:\n  env: [A]\n  \thttp: [h]\n", 5, 3,
        "a tab in the indentation");
}

/* Every error, not only the first, up to WASMPLUG_MANIFEST_MAX_ERRORS. */
static void test_all_errors(void)
{
    const char *text = "id: -x\nversion: 1.2\nnmae: y\nfoo: 1\nexports: 3\n";
    wasmplug_manifest_doc *d = NULL;
    wasmplug_manifest_diag diag;
    CHECK(wasmplug_manifest_parse(text, strlen(text), "m.yaml", &d, &diag) ==
          WASMPLUG_ERR_MANIFEST);
    CHECK(!d && diag.error_count == 5);
    CHECK(diag.line == 1 && diag.column == 5 && strstr(diag.message, "'id' must be"));
    CHECK(strstr(diag.more, "2:10: 'version' must be a semantic version") != NULL);
    CHECK(strstr(diag.more, "3:1: unknown key 'nmae'") != NULL);
    CHECK(strstr(diag.more, "4:1: unknown key 'foo'") != NULL);
    CHECK(strstr(diag.more, "5:10: 'exports' must be a list") != NULL);
    /* Both missing keys, and a wrong id is not also "missing". */
    text = "name: n\n";
    CHECK(wasmplug_manifest_parse(text, strlen(text), "m.yaml", &d, &diag) ==
          WASMPLUG_ERR_MANIFEST);
    CHECK(diag.error_count == 2 && strstr(diag.message, "'id'") && strstr(diag.more, "'version'"));
    text = "id: [x]\nversion: 1.0.0\n";
    CHECK(wasmplug_manifest_parse(text, strlen(text), "m.yaml", &d, &diag) ==
          WASMPLUG_ERR_MANIFEST);
    CHECK(diag.error_count == 1 && diag.more[0] == 0);
    /* The walk stops at the limit. */
    char many[4096] = "id: x\nversion: 1.0.0\n";
    for (int i = 0; i < 40; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "bogus%d: 1\n", i);
    CHECK(wasmplug_manifest_parse(many, strlen(many), "m.yaml", &d, &diag) ==
          WASMPLUG_ERR_MANIFEST);
    CHECK(diag.error_count == WASMPLUG_MANIFEST_MAX_ERRORS);
}

static void test_embedded(void)
{
    /* A module: header, one custom section "wasmplug.manifest". */
    const char yaml[] = "id: emb\nversion: 0.0.1\n";
    const char name[] = WASMPLUG_MANIFEST_SECTION;
    uint8_t mod[128];
    size_t n = 0;
    memcpy(mod, "\0asm\1\0\0\0", 8);
    n = 8;
    mod[n++] = 0;
    mod[n++] = (uint8_t)(1 + strlen(name) + strlen(yaml));
    mod[n++] = (uint8_t)strlen(name);
    memcpy(mod + n, name, strlen(name));
    n += strlen(name);
    memcpy(mod + n, yaml, strlen(yaml));
    n += strlen(yaml);
    wasmplug_manifest_doc *d;
    wasmplug_manifest_diag diag;
    CHECK(wasmplug_manifest_from_module(mod, n, "m.wasm", &d, &diag) == WASMPLUG_OK);
    if (d) {
        CHECK(!strcmp(d->id, "emb") && !strcmp(d->module, WASMPLUG_MANIFEST_DEFAULT_MODULE));
        wasmplug_manifest_doc_free(d);
    }
    CHECK(wasmplug_manifest_from_module(mod, 8, "m.wasm", &d, &diag) == WASMPLUG_ERR_NOT_FOUND);
    mod[9] = 120; /* section larger than the module */
    CHECK(wasmplug_manifest_from_module(mod, n, "m.wasm", &d, &diag) == WASMPLUG_ERR_MALFORMED);
}

static void test_semver(void)
{
    /* semver.org's precedence example, in order. */
    const char *order[] = {"1.0.0-alpha",      "1.0.0-alpha.1", "1.0.0-alpha.beta",
                           "1.0.0-beta",       "1.0.0-beta.2",  "1.0.0-beta.11",
                           "1.0.0-rc.1",       "1.0.0",         "1.0.1",
                           "1.2.0",            "1.10.0",        "2.0.0"};
    size_t n = sizeof order / sizeof order[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = i < j ? -1 : i > j ? 1 : 0;
            int got = wasmplug_semver_compare(order[i], order[j]);
            if (got != want)
                fprintf(stderr, "  compare(%s, %s) = %d\n", order[i], order[j], got);
            CHECK(got == want);
        }
    CHECK(wasmplug_semver_compare("1.0.0+a", "1.0.0+b") == 0); /* build metadata ignored */
}

/* Limits and coarse capabilities under permissions, bare host function
 * names: the layout some manifests use, verbatim. */
static void test_capabilities(void)
{
    static const char text[] =
        "id: file-tools\n"
        "version: 1.0.0\n"
        "# plugin.yaml\n"
        "permissions:\n"
        "  host_functions:\n"
        "    - get_file_content      # \xe2\x9c\x85 Allowed\n"
        "    - open_file             # \xe2\x9c\x85 Allowed\n"
        "    # NOT listed =  Denied\n"
        "\n"
        "  resources:\n"
        "    max_execution_time: 5s\n"
        "    max_memory: 50MB\n"
        "    max_call_depth: 100\n"
        "\n"
        "  capabilities:\n"
        "    network: false          #  No network access\n"
        "    filesystem: read-only   # \xe2\x9c\x85 Read-only filesystem\n";
    wasmplug_manifest_doc *d = NULL;
    wasmplug_manifest_diag diag;
    CHECK(wasmplug_manifest_parse(text, sizeof text - 1, "f.yaml", &d, &diag) == WASMPLUG_OK);
    if (!d) {
        fprintf(stderr, "  %u:%u: %s\n", diag.line, diag.column, diag.message);
        return;
    }
    CHECK(d->host_functions.count == 2 && !strcmp(d->host_functions.items[0], "*.get_file_content") &&
          !strcmp(d->host_functions.items[1], "*.open_file"));
    CHECK(d->resources.timeout_ms == 5000);
    CHECK(d->resources.max_memory_pages == (50000000 + 65535) / 65536);
    CHECK(d->resources.max_call_depth == 100);
    CHECK(d->http_hosts.count == 0);
    CHECK(d->dir_count == 1 && !strcmp(d->dirs[0].host, ".") && !strcmp(d->dirs[0].guest, "/") &&
          d->dirs[0].readonly);
    wasmplug_manifest doc_view;
    CHECK(wasmplug_manifest_to_host(d, &doc_view) == WASMPLUG_OK);
    CHECK(doc_view.permission_count >= 2 && !strcmp(doc_view.permissions[0], "*.get_file_content"));
    wasmplug_manifest_doc_free(d);

    static const char open_net[] = "id: n\nversion: 1.0.0\npermissions:\n  capabilities:\n"
                                   "    network: true\n    filesystem: read-write\n";
    CHECK(wasmplug_manifest_parse(open_net, sizeof open_net - 1, "n.yaml", &d, &diag) == WASMPLUG_OK);
    if (d) {
        CHECK(d->http_hosts.count == 1 && !strcmp(d->http_hosts.items[0], "*"));
        CHECK(d->dir_count == 1 && !d->dirs[0].readonly);
        wasmplug_manifest_doc_free(d);
    }
    static const char some_net[] = "id: n\nversion: 1.0.0\npermissions:\n  capabilities:\n"
                                   "    network: [api.example.org]\n    filesystem: none\n";
    CHECK(wasmplug_manifest_parse(some_net, sizeof some_net - 1, "n.yaml", &d, &diag) == WASMPLUG_OK);
    if (d) {
        CHECK(d->http_hosts.count == 1 && !strcmp(d->http_hosts.items[0], "api.example.org"));
        CHECK(d->dir_count == 0);
        wasmplug_manifest_doc_free(d);
    }
    bad("id: x\nversion: 1.0.0\npermissions:\n  capabilities:\n    network: sometimes\n", 5, 14,
        "must be true, false or a list of hosts");
    bad("id: x\nversion: 1.0.0\npermissions:\n  capabilities:\n    filesystem: all\n", 5, 17,
        "must be read-only, read-write, none or false");
    bad("id: x\nversion: 1.0.0\npermissions:\n  capabilities:\n    gpu: true\n", 5, 5,
        "expected one of: network, filesystem");
    bad("id: x\nversion: 1.0.0\npermissions:\n  resources:\n    max_execution_time: soon\n", 5, 25,
        "duration");
}

int main(void)
{
    test_full();
    test_errors();
    test_abi_names();
    test_all_errors();
    test_services();
    test_capabilities();
    test_embedded();
    test_semver();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
