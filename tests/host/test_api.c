/*
 * test_api.c - every public function of <wasmplug.h>, with good and bad
 * input: host lifecycle, host functions and hostcall accessors, loading
 * (bytes, files, manifests, bad names, duplicates, malformed wasm, denied
 * and unknown imports, ABI checks), init/dispose/kill, bytes and typed
 * calls, the compatibility ABI, info/metadata/metrics/errors, callbacks.
 */
#include "host_test.h"

/* ---- callbacks ---- */

typedef struct events {
    int states[64][2];
    int nstates;
    int errors;
    wasmplug_status last_error;
    char log[256];
    int logs;
} events;

static void on_state(void *user, wasmplug_plugin *p, const char *name,
                     wasmplug_plugin_state from, wasmplug_plugin_state to)
{
    (void)p;
    events *ev = user;
    if (strcmp(name, "cb") == 0 && ev->nstates < 64) {
        ev->states[ev->nstates][0] = (int)from;
        ev->states[ev->nstates][1] = (int)to;
        ev->nstates++;
    }
}

static void on_error(void *user, const wasmplug_plugin_error *e)
{
    events *ev = user;
    ev->errors++;
    ev->last_error = e->code;
}

static void on_log(void *user, wasmplug_plugin *p, const char *name, wasmplug_log_level level,
                   const char *msg, size_t len)
{
    (void)p;
    (void)name;
    events *ev = user;
    ev->logs++;
    snprintf(ev->log, sizeof ev->log, "%d:%.*s", (int)level, (int)len, msg);
}

static void test_strings(void)
{
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_OK), "ok") == 0);
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_ERR_TRAP), "trap") == 0);
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_ERR_PERMISSION_DENIED), "permission denied") == 0);
    CHECK(strcmp(wasmplug_strerror(WASMPLUG_ERR_ABI), "plugin ABI mismatch") == 0);
    CHECK(strcmp(wasmplug_strerror((wasmplug_status)9999), "unknown status") == 0);
    CHECK(strcmp(wasmplug_strerror((wasmplug_status)-1), "unknown status") == 0);
    CHECK(strcmp(wasmplug_status_name(WASMPLUG_ERR_TIMEOUT), "ERR_TIMEOUT") == 0);
    CHECK(strcmp(wasmplug_status_name(WASMPLUG_ERR_NOMEM), "ERR_NOMEM") == 0);
    CHECK(strcmp(wasmplug_status_name((wasmplug_status)9999), "UNKNOWN") == 0);
    CHECK((int)WASMPLUG_ERR_ABI < (int)WASMPLUG_STATUS_COUNT); /* one table for all codes */
    CHECK(strcmp(wasmplug_state_string(WASMPLUG_STATE_READY), "ready") == 0);
    CHECK(strcmp(wasmplug_state_string((wasmplug_plugin_state)99), "unknown") == 0);
    CHECK(strcmp(wasmplug_phase_string(WASMPLUG_PHASE_INIT), "init") == 0);
    CHECK(strcmp(wasmplug_phase_string((wasmplug_phase)99), "none") == 0);

    CHECK(wasmplug_semver_valid("1.2.3"));
    CHECK(wasmplug_semver_valid("0.0.0"));
    CHECK(wasmplug_semver_valid("1.0.0-rc.1+build.5"));
    CHECK(wasmplug_semver_valid("1.0.0-alpha-1"));
    CHECK(!wasmplug_semver_valid("1.2"));
    CHECK(!wasmplug_semver_valid("01.2.3"));
    CHECK(!wasmplug_semver_valid("1.2.3-01"));
    CHECK(!wasmplug_semver_valid("1.2.3-"));
    CHECK(!wasmplug_semver_valid("1.2.3+"));
    CHECK(!wasmplug_semver_valid("v1.2.3"));
    CHECK(!wasmplug_semver_valid(NULL));

    wasmplug_plugin_error e;
    memset(&e, 0x5a, sizeof e);
    wasmplug_plugin_error_clear(&e);
    CHECK_EQ(e.code, WASMPLUG_OK);
    CHECK_EQ(e.frame_count, 0);
    CHECK(e.offset == UINT64_MAX);
    wasmplug_plugin_error_clear(NULL);
    e.code = WASMPLUG_ERR_FUEL;
    e.phase = WASMPLUG_PHASE_CALL;
    strcpy(e.plugin, "p");
    strcpy(e.function, "f");
    strcpy(e.message, "boom");
    e.frame_count = 1;
    e.frames[0].func_index = 3;
    strcpy(e.frames[0].func_name, "inner");
    char buf[256];
    size_t n = wasmplug_plugin_error_format(&e, buf, sizeof buf);
    CHECK_EQ(n, strlen(buf));
    CHECK_CONTAINS(buf, "plugin 'p': call 'f': out of fuel: boom");
    CHECK_CONTAINS(buf, "#0 inner (func 3)");
    char tiny[8];
    size_t need = wasmplug_plugin_error_format(&e, tiny, sizeof tiny);
    CHECK_EQ(need, n);
    CHECK_EQ(strlen(tiny), 7);
    CHECK_EQ(wasmplug_plugin_error_format(&e, NULL, 0), n);
    CHECK_EQ(wasmplug_plugin_error_format(NULL, buf, sizeof buf), 0);
    /* A message that already starts with the status text isn't repeated. */
    e.code = WASMPLUG_ERR_UNSUPPORTED;
    e.frame_count = 0;
    strcpy(e.message, "unsupported feature: SIMD");
    wasmplug_plugin_error_format(&e, buf, sizeof buf);
    CHECK(strcmp(buf, "plugin 'p': call 'f': unsupported feature: SIMD") == 0);

    wasmplug_buf b = {NULL, 0};
    wasmplug_buf_free(&b);
    wasmplug_buf_free(NULL);
    wasmplug_free(NULL);
}

static void test_host_object(void)
{
    CHECK_CODE(wasmplug_host_new(NULL, NULL), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_host_config bad;
    memset(&bad, 0, sizeof bad);
    bad.deny_mode = (wasmplug_deny_mode)7;
    wasmplug_host *h = NULL;
    CHECK_CODE(wasmplug_host_new(&bad, &h), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK(h == NULL);

    /* A host on the caller's engine does not free it. */
    wasmplug_engine *eng = test_engine_with(host_test_bounds_mode, NULL, NULL);
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.engine = eng;
    CHECK_CODE(wasmplug_host_new(&cfg, &h), WASMPLUG_OK, NULL);
    CHECK(wasmplug_host_engine(h) == eng);
    CHECK(wasmplug_host_engine(NULL) == NULL);
    CHECK_EQ(wasmplug_host_count(h), 0);
    CHECK_EQ(wasmplug_host_count(NULL), 0);
    wasmplug_host_free(h);
    wasmplug_host_free(NULL);
    wasmplug_engine_free(eng);

    /* Own engine; policy rules. */
    CHECK_CODE(wasmplug_host_new(NULL, &h), WASMPLUG_OK, NULL);
    CHECK(wasmplug_host_engine(h) != NULL);
    CHECK_CODE(wasmplug_host_grant(h, "*", "env.*"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "", "env.*"), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_grant(h, "*", NULL), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_grant(NULL, "*", "x"), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_host_free(h);
}

static int finalized;

static void finalize(void *user)
{
    (*(int *)user)++;
}

static void test_register(void)
{
    wasmplug_host *h = NULL;
    CHECK_CODE(wasmplug_host_new(NULL, &h), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "add", "(ii)i", hf_add, NULL, NULL), WASMPLUG_OK,
               NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "add", "(ii)i", hf_add, NULL, NULL),
               WASMPLUG_ERR_DUPLICATE, NULL);
    CHECK_CODE(wasmplug_host_register_bytes(h, "env", "add", hf_upper, NULL, NULL),
               WASMPLUG_ERR_DUPLICATE, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "ii)i", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "(q)", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "(i)p", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "(i", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", NULL, hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "(iiiiiiiiiiiiiiiii)", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "()iiiiiiiii", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "x", "(pIfF)iIfF", hf_add, NULL, NULL),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_register(h, "wasmplug", "x", "()", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "wasi_snapshot_preview1", "x", "()", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "", "x", "()", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "", "()", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(h, "env", "y", "()", NULL, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register_bytes(h, "env", "y", NULL, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register(NULL, "env", "y", "()", hf_add, NULL, NULL),
               WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_register_bytes(h, "env", "up", hf_upper, NULL, NULL), WASMPLUG_OK,
               NULL);
    CHECK(wasmplug_host_has_function(h, "env", "add"));
    CHECK(wasmplug_host_has_function(h, "env", "up"));
    CHECK(!wasmplug_host_has_function(h, "env", "nope"));
    CHECK(!wasmplug_host_has_function(h, "other", "add"));
    CHECK(!wasmplug_host_has_function(NULL, "env", "add"));
    CHECK(!wasmplug_host_has_function(h, NULL, "add"));

    /* Finalizers run when the host goes (and not for a failed registration). */
    finalized = 0;
    CHECK_CODE(wasmplug_host_register(h, "fin", "a", "()", hf_add, &finalized, finalize),
               WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_register(h, "fin", "a", "()", hf_add, &finalized, finalize),
               WASMPLUG_ERR_DUPLICATE, NULL);
    CHECK_EQ(finalized, 0);
    wasmplug_host_free(h);
    CHECK_EQ(finalized, 1);
}

/* A minimal module ("\0asm" v1) with one custom section name=payload. */
static size_t module_with_custom(uint8_t *out, const char *name, const char *payload)
{
    static const uint8_t head[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
    size_t nl = strlen(name), pl = strlen(payload), at = 0;
    memcpy(out, head, sizeof head);
    at = sizeof head;
    out[at++] = 0;
    out[at++] = (uint8_t)(1 + nl + pl);
    out[at++] = (uint8_t)nl;
    memcpy(out + at, name, nl);
    at += nl;
    memcpy(out + at, payload, pl);
    return at + pl;
}

static void test_load_errors(void)
{
    events ev;
    memset(&ev, 0, sizeof ev);
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_error = on_error;
    cfg.callback_user = &ev;
    wasmplug_host *h = host_test_new(&cfg);
    wasmplug_plugin_error err;
    wasmplug_plugin *p = (wasmplug_plugin *)1;
    size_t size = 0;
    uint8_t *good = host_test_plugin("good", &size);
    wasmplug_manifest m = host_test_manifest("good");
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;

    /* Bad arguments. */
    CHECK_CODE(wasmplug_host_load(NULL, "x", good, size, &o, &p, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK(p == NULL);
    CHECK_CODE(wasmplug_host_load(h, NULL, good, size, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK_CODE(wasmplug_host_load(h, "", good, size, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK_CODE(wasmplug_host_load(h, "a/b", good, size, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_CODE(wasmplug_host_load(h, longname, good, size, &o, NULL, &err),
               WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CODE(wasmplug_host_load(h, "x", NULL, 10, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT, &err);
    o.pool_size = 100000;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    o.pool_size = 0;
    wasmplug_kv badcfg = {"", "v"};
    o.config = &badcfg;
    o.config_count = 1;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    o.config = NULL;
    o.config_count = 0;
    CHECK_EQ(wasmplug_host_count(h), 0);

    /* Manifest checks. */
    m.version = "1.0";
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_MANIFEST,
               &err);
    CHECK_CONTAINS(err.message, "not a semantic version");
    m.version = "1.0.0";
    m.id = "bad id!";
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_MANIFEST,
               &err);
    m.id = "good";
    const char *empty_perm[] = {""};
    m.permissions = empty_perm;
    m.permission_count = 1;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_MANIFEST,
               &err);
    m = host_test_manifest("good");
    wasmplug_kv nokey = {NULL, "v"};
    m.metadata = &nokey;
    m.metadata_count = 1;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_MANIFEST,
               &err);
    m = host_test_manifest("good");

    /* Missing exports named by the manifest. */
    const char *exports[] = {"echo", "process"};
    m.exports = exports;
    m.export_count = 2;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_ERR_NOT_FOUND,
               &err);
    CHECK_CONTAINS(err.message, "'process'");
    CHECK(strcmp(err.function, "process") == 0);
    m.export_count = 1;
    CHECK_CODE(wasmplug_host_load(h, "x", good, size, &o, NULL, &err), WASMPLUG_OK, &err);
    CHECK_CODE(wasmplug_host_kill(h, "x"), WASMPLUG_OK, NULL);
    m = host_test_manifest("good");

    /* Malformed wasm. */
    static const uint8_t junk[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 1, 5, 0xff};
    CHECK_CODE(wasmplug_host_load(h, "junk", junk, sizeof junk, &o, &p, &err),
               WASMPLUG_ERR_MALFORMED, &err);
    CHECK(p == NULL);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_LOAD);
    CHECK(strcmp(err.plugin, "junk") == 0);
    CHECK(err.offset != UINT64_MAX);
    static const uint8_t text[] = "(module)";
    CHECK_CODE(wasmplug_host_load(h, "junk", text, sizeof text, &o, &p, &err),
               WASMPLUG_ERR_MALFORMED, &err);
    CHECK_CODE(wasmplug_host_load(h, "empty", text, 0, &o, &p, &err), WASMPLUG_ERR_MALFORMED,
               &err);
    CHECK_EQ(wasmplug_host_count(h), 0);
    CHECK(ev.errors > 0);
    CHECK_EQ(ev.last_error, WASMPLUG_ERR_MALFORMED);

    /* A file that does not exist. */
    CHECK_CODE(wasmplug_host_load_file(h, "nofile", "/nonexistent/x.wasm", &o, &p, &err),
               WASMPLUG_ERR_IO, &err);
    CHECK_CONTAINS(err.message, "/nonexistent/x.wasm");
    CHECK_CODE(wasmplug_host_load_file(h, "nofile", NULL, &o, &p, &err), WASMPLUG_ERR_ARGUMENT,
               &err);

    /* Linking: denied, unknown, ABI names and types, memory imports. */
    char path[1024];
    host_test_path(path, sizeof path, "denied");
    CHECK_CODE(wasmplug_host_load_file(h, "denied", path, &o, &p, &err),
               WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "env.secret");
    CHECK_CONTAINS(err.message, "does not request permission 'env.secret'");
    CHECK(strcmp(err.function, "env.secret") == 0);
    /* Requested but not granted by the policy. */
    const char *secret_perm[] = {"env.secret"};
    m.permissions = secret_perm;
    m.permission_count = 1;
    CHECK_CODE(wasmplug_host_load_file(h, "denied", path, &o, &p, &err),
               WASMPLUG_ERR_PERMISSION_DENIED, &err);
    m = host_test_manifest("good");
    CHECK_CONTAINS(err.message, "env.secret");
    /* Every denial is in the host's history. */
    wasmplug_plugin_error hist[8];
    size_t nh = wasmplug_host_errors(h, hist, 8);
    CHECK(nh > 0 && hist[nh - 1].code == WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(hist[nh - 1].message, "the host policy does not grant 'env.secret'");
    CHECK_EQ(wasmplug_host_errors(h, NULL, 8), 0);
    CHECK_EQ(wasmplug_host_errors(NULL, hist, 8), 0);

    host_test_path(path, sizeof path, "unknown_import");
    CHECK_CODE(wasmplug_host_load_file(h, "u", path, &o, &p, &err), WASMPLUG_ERR_LINK, &err);
    CHECK_CONTAINS(err.message, "env.nope");
    host_test_path(path, sizeof path, "bad_abi_import");
    CHECK_CODE(wasmplug_host_load_file(h, "u", path, &o, &p, &err), WASMPLUG_ERR_LINK, &err);
    CHECK_CONTAINS(err.message, "wasmplug.frobnicate is not part of plugin ABI v1");
    host_test_path(path, sizeof path, "bad_abi_type");
    CHECK_CODE(wasmplug_host_load_file(h, "u", path, &o, &p, &err), WASMPLUG_ERR_LINK, &err);
    CHECK_CONTAINS(err.message, "has type (i32) -> (i32) but the host provides () -> (i32)");
    host_test_path(path, sizeof path, "bad_hook");
    CHECK_CODE(wasmplug_host_load_file(h, "u", path, &o, &p, &err), WASMPLUG_ERR_ABI, &err);
    CHECK_CONTAINS(err.message, "wasmplug_init must be a function () -> i32");

    /* ABI version from the custom section. */
    uint8_t mod[64];
    size_t ml = module_with_custom(mod, "wasmplug_abi", "2");
    CHECK_CODE(wasmplug_host_load(h, "v2", mod, ml, &o, &p, &err), WASMPLUG_ERR_ABI, &err);
    CHECK_CONTAINS(err.message, "needs plugin ABI 2.0");
    ml = module_with_custom(mod, "wasmplug_abi", "1.7");
    CHECK_CODE(wasmplug_host_load(h, "v2", mod, ml, &o, &p, &err), WASMPLUG_ERR_ABI, &err);
    ml = module_with_custom(mod, "wasmplug_abi", "one");
    CHECK_CODE(wasmplug_host_load(h, "v2", mod, ml, &o, &p, &err), WASMPLUG_ERR_ABI, &err);
    ml = module_with_custom(mod, "wasmplug_abi", "1");
    CHECK_CODE(wasmplug_host_load(h, "v1", mod, ml, &o, &p, &err), WASMPLUG_OK, &err);
    wasmplug_plugin_info info;
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK_EQ(info.abi, WASMPLUG_ABI_V1);
    CHECK_EQ(info.state, WASMPLUG_STATE_LOADED);
    wasmplug_plugin_release(p);

    /* Duplicate names; the name is free again after a kill. */
    CHECK_CODE(wasmplug_host_load(h, "dup", good, size, &o, NULL, &err), WASMPLUG_OK, &err);
    CHECK_CODE(wasmplug_host_load(h, "dup", good, size, &o, &p, &err), WASMPLUG_ERR_DUPLICATE,
               &err);
    CHECK_CONTAINS(err.message, "already loaded");
    CHECK(p == NULL);
    CHECK_CODE(wasmplug_host_kill(h, "dup"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_load(h, "dup", good, size, &o, NULL, &err), WASMPLUG_OK, &err);
    CHECK_EQ(wasmplug_host_count(h), 2);

    /* Failed loads leave nothing registered. */
    char **names;
    size_t count;
    CHECK_CODE(wasmplug_host_list(h, &names, &count), WASMPLUG_OK, NULL);
    CHECK_EQ(count, 2);
    CHECK(count == 2 && strcmp(names[0], "v1") == 0 && strcmp(names[1], "dup") == 0);
    wasmplug_free(names);
    CHECK_CODE(wasmplug_host_list(h, NULL, &count), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_list(NULL, &names, &count), WASMPLUG_ERR_ARGUMENT, NULL);
    free(good);
    wasmplug_host_free(h);
}

/* Deny mode STUB: the load succeeds, the call fails with PERMISSION_DENIED. */
/* Without a manifest nothing is requested, so nothing is granted; one line
 * (WASMPLUG_PERMISSIONS) requests what the policy then grants. */
static int32_t call_i32(wasmplug_plugin *p, const char *func, int32_t arg, bool has_arg,
                        wasmplug_status want)
{
    wasmplug_plugin_error err;
    wasmplug_val a = {.type = WASMPLUG_I32, .of = {.i32 = arg}};
    wasmplug_val r = {.type = WASMPLUG_I32, .of = {.i32 = -1}};
    bool result = strcmp(func, "poke") != 0 && strcmp(func, "crash") != 0;
    CHECK_CODE(wasmplug_plugin_call_typed(p, func, &a, has_arg, &r, result, &err), want, &err);
    return r.of.i32;
}

/* A module importing its memory gets a new one per instance. */
static void test_memory_import(void)
{
    wasmplug_host *h = host_test_new(NULL);
    char path[1024], maxpath[1024];
    host_test_path(path, sizeof path, "memory_import");
    host_test_path(maxpath, sizeof maxpath, "memory_import_max");
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load_file(h, "mem", path, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_EQ(call_i32(p, "pages", 0, false, WASMPLUG_OK), WASMPLUG_IMPORTED_MEMORY_PAGES);
        call_i32(p, "poke", 42, true, WASMPLUG_OK);
        CHECK_EQ(call_i32(p, "peek", 0, false, WASMPLUG_OK), 42);
        /* After a trap the next instance has a memory of its own, fresh. */
        call_i32(p, "crash", 0, false, WASMPLUG_ERR_TRAP);
        CHECK_EQ(call_i32(p, "peek", 0, false, WASMPLUG_OK), 0);
        wasmplug_plugin_release(p);
    }
    o.imported_memory_pages = 20;
    CHECK_CODE(wasmplug_host_load_file(h, "mem20", path, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_EQ(call_i32(p, "pages", 0, false, WASMPLUG_OK), 20);
        wasmplug_plugin_release(p);
    }
    /* Within the import's limits: 2 to 4 pages, growth up to its maximum. */
    o.imported_memory_pages = 0;
    CHECK_CODE(wasmplug_host_load_file(h, "max", maxpath, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_EQ(call_i32(p, "pages", 0, false, WASMPLUG_OK), 4);
        CHECK_EQ(call_i32(p, "grow", 0, false, WASMPLUG_OK), -1);
        wasmplug_plugin_release(p);
    }
    o.imported_memory_pages = 1;
    CHECK_CODE(wasmplug_host_load_file(h, "min", maxpath, &o, &p, &err), WASMPLUG_OK, &err);
    if (p) {
        CHECK_EQ(call_i32(p, "pages", 0, false, WASMPLUG_OK), 2);
        CHECK_EQ(call_i32(p, "grow", 0, false, WASMPLUG_OK), 2);
        wasmplug_plugin_release(p);
    }
    /* An import needing more than max_memory_pages does not load. */
    o.limits.max_memory_pages = 1;
    CHECK_CODE(wasmplug_host_load_file(h, "big", maxpath, &o, &p, &err),
               WASMPLUG_ERR_MEMORY_LIMIT, &err);
    CHECK_CONTAINS(err.message, "import env.memory needs at least 2 pages");
    wasmplug_host_free(h);
}

static void test_no_manifest(void)
{
    wasmplug_host *h = host_test_new(NULL);
    char path[1024];
    host_test_path(path, sizeof path, "denied");
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_grant(h, "bare", "env.secret"), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_host_load_file(h, "bare", path, &o, &p, &err),
               WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "does not request permission 'env.secret' (it requests none");
    o.manifest = WASMPLUG_PERMISSIONS("env.secret");
    o.init = true;
    CHECK_CODE(wasmplug_host_load_file(h, "bare", path, &o, &p, &err), WASMPLUG_OK, &err);
    wasmplug_val r = {.type = WASMPLUG_I32, .of = {.i32 = 0}};
    if (p) {
        CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
        CHECK_EQ(r.of.i32, 42);
        wasmplug_plugin_release(p);
    }
    /* The request alone is not enough: the policy must grant it too. */
    o.manifest = WASMPLUG_PERMISSIONS("env.secret", "env.add");
    CHECK_CODE(wasmplug_host_load_file(h, "other", path, &o, &p, &err),
               WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "the host policy does not grant 'env.secret'");
    wasmplug_host_free(h);
}

static void test_deny_stub(void)
{
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.deny_mode = WASMPLUG_DENY_STUB;
    wasmplug_host *h = host_test_new(&cfg);
    wasmplug_plugin *p = host_test_load(h, "stubbed", "denied", NULL);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    wasmplug_plugin_error err;
    wasmplug_val r;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "f", NULL, 0, &r, 1, &err),
               WASMPLUG_ERR_PERMISSION_DENIED, &err);
    CHECK_CONTAINS(err.message, "call of env.secret denied");
    wasmplug_metrics mt;
    CHECK_CODE(wasmplug_plugin_get_metrics(p, &mt), WASMPLUG_OK, NULL);
    CHECK_EQ(mt.denials, 2); /* the load-time denial and the call */
    wasmplug_plugin_error hist[4];
    size_t n = wasmplug_plugin_errors(p, hist, 4);
    CHECK_EQ(n, 2);
    CHECK(n == 2 && hist[0].code == WASMPLUG_ERR_PERMISSION_DENIED &&
          hist[0].phase == WASMPLUG_PHASE_LOAD && hist[1].phase == WASMPLUG_PHASE_CALL);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_calls(void)
{
    events ev;
    memset(&ev, 0, sizeof ev);
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_log = on_log;
    cfg.callback_user = &ev;
    wasmplug_host *h = host_test_new(&cfg);
    wasmplug_kv conf[] = {{"greeting", "Hello"}};
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.config = conf;
    o.config_count = 1;
    o.user_data = &ev;
    wasmplug_plugin *p = host_test_load(h, "good", "good", &o);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    CHECK(wasmplug_plugin_user_data(p) == &ev);
    CHECK(strcmp(wasmplug_plugin_name(p), "good") == 0);
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_READY);

    CHECK_CALL(p, "echo", "hello", "hello");
    CHECK_CALL(p, "echo", "", "");
    CHECK_CALL(p, "greet", "world", "Hello, world!");
    CHECK_CALL(p, "count", "", "1");
    CHECK_CALL(p, "count", "", "2");
    CHECK_CALL(p, "upper", "abc", "ABC");
    CHECK_CALL(p, "upper", "a long text over sixteen bytes", "A LONG TEXT OVER SIXTEEN BYTES");
    CHECK_CALL(p, "whoami", "", "good/good/env.whoami");
    CHECK_CALL(p, "log", "a message", "");
    CHECK_EQ(ev.logs, 1);
    CHECK(strcmp(ev.log, "2:a message") == 0);

    /* Large input and output through chunked reads. */
    size_t big = 300000;
    uint8_t *in = malloc(big);
    for (size_t i = 0; i < big; i++)
        in[i] = (uint8_t)(i * 7);
    wasmplug_buf out;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_plugin_call(p, "echo", in, big, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == big && memcmp(out.data, in, big) == 0);
    CHECK(out.data[out.len] == 0);
    wasmplug_buf_free(&out);
    CHECK(out.data == NULL && out.len == 0);
    free(in);

    /* Plugin-reported errors (function returns non-zero). */
    CHECK_CODE(wasmplug_plugin_call(p, "fail", NULL, 0, &out, &err), WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(err.plugin_code, 7);
    CHECK_CONTAINS(err.message, "bad input");
    CHECK(out.data == NULL && out.len == 0);
    CHECK_EQ(err.phase, WASMPLUG_PHASE_CALL);
    CHECK(strcmp(err.function, "fail") == 0);
    CHECK(strcmp(err.plugin, "good") == 0);

    /* Unknown function; wrong type for a bytes call. */
    CHECK_CODE(wasmplug_plugin_call(p, "nope", NULL, 0, &out, &err), WASMPLUG_ERR_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "exports no function 'nope'");
    CHECK_CODE(wasmplug_plugin_call(p, "add", NULL, 0, &out, &err), WASMPLUG_ERR_ABI, &err);
    CHECK_CODE(wasmplug_plugin_call(p, NULL, NULL, 0, &out, &err), WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CODE(wasmplug_plugin_call(p, "echo", NULL, 5, &out, &err), WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CODE(wasmplug_plugin_call(p, "echo", NULL, 0, NULL, &err), WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CODE(wasmplug_plugin_call(NULL, "echo", NULL, 0, &out, &err), WASMPLUG_ERR_ARGUMENT,
               &err);

    /* Host functions: soft error, hard error, failing typed function. */
    CHECK_CODE(wasmplug_plugin_call(p, "upper", (const uint8_t *)"soft", 4, &out, &err),
               WASMPLUG_ERR_PLUGIN, &err);
    CHECK_EQ(err.plugin_code, 5);
    CHECK_CODE(wasmplug_plugin_call(p, "upper", (const uint8_t *)"hard", 4, &out, &err),
               WASMPLUG_ERR_HOST_FUNCTION, &err);
    CHECK_CONTAINS(err.message, "env.upper failed: refusing 'hard'");
    CHECK_EQ(err.trap, WASMPLUG_TRAP_HOST_ERROR);
    wasmplug_val args[2] = {test_i32(666), test_i32(1)}, res[1];
    CHECK_CODE(wasmplug_plugin_call_typed(p, "hadd", args, 2, res, 1, &err),
               WASMPLUG_ERR_HOST_FUNCTION, &err);
    CHECK_CONTAINS(err.message, "the number of the beast");
    CHECK(strcmp(err.function, "hadd") == 0);

    /* Typed calls. */
    args[0] = test_i32(40);
    args[1] = test_i32(2);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "add", args, 2, res, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(res[0].of.i32, 42);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "hadd", args, 2, res, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(res[0].of.i32, 42);
    wasmplug_val a64[2] = {test_i64(1LL << 40), test_i64(3)};
    CHECK_CODE(wasmplug_plugin_call_typed(p, "mul64", a64, 2, res, 1, &err), WASMPLUG_OK, &err);
    CHECK(res[0].of.i64 == 3LL << 40);
    wasmplug_val af[2];
    af[0].type = af[1].type = WASMPLUG_F64;
    af[0].of.f64 = 1.0;
    af[1].of.f64 = 4.0;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "fdiv", af, 2, res, 1, &err), WASMPLUG_OK, &err);
    CHECK(res[0].of.f64 == 0.25);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "version", NULL, 0, res, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(res[0].of.i32, WASMPLUG_ABI_VERSION);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "add", args, 1, res, 1, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "add", a64, 2, res, 1, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "nope", NULL, 0, NULL, 0, &err),
               WASMPLUG_ERR_NOT_FOUND, &err);
    CHECK_CODE(wasmplug_plugin_call_typed(p, "add", NULL, 2, res, 1, &err), WASMPLUG_ERR_ARGUMENT,
               &err);
    CHECK_CODE(wasmplug_plugin_call_typed(NULL, "add", args, 2, res, 1, &err),
               WASMPLUG_ERR_ARGUMENT, &err);
    /* The host-function failures trapped: the instance was replaced, so the
     * counter starts again. */
    CHECK_CALL(p, "count", "", "1");

    /* By name through the host. */
    CHECK_CODE(wasmplug_host_call(h, "good", "echo", (const uint8_t *)"x", 1, &out, &err),
               WASMPLUG_OK, &err);
    CHECK(out.len == 1 && out.data[0] == 'x');
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_host_call(h, "missing", "echo", NULL, 0, &out, &err),
               WASMPLUG_ERR_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "no plugin called 'missing'");
    CHECK_CODE(wasmplug_host_call(h, NULL, "echo", NULL, 0, &out, &err), WASMPLUG_ERR_ARGUMENT,
               &err);

    /* Exports. */
    CHECK(wasmplug_plugin_has_function(p, "echo"));
    CHECK(!wasmplug_plugin_has_function(p, "memory"));
    CHECK(!wasmplug_plugin_has_function(p, "nope"));
    CHECK(!wasmplug_plugin_has_function(NULL, "echo"));
    CHECK(!wasmplug_plugin_has_function(p, NULL));
    uint32_t ne = wasmplug_plugin_export_count(p);
    CHECK(ne >= 18);
    CHECK_EQ(wasmplug_plugin_export_count(NULL), 0);
    bool saw_add = false;
    for (uint32_t i = 0; i < ne; i++) {
        const char *name;
        wasmplug_functype t;
        CHECK_CODE(wasmplug_plugin_export_at(p, i, &name, &t), WASMPLUG_OK, NULL);
        if (strcmp(name, "add") == 0)
            saw_add = t.param_count == 2 && t.result_count == 1 && t.params[0] == WASMPLUG_I32;
    }
    CHECK(saw_add);
    CHECK_CODE(wasmplug_plugin_export_at(p, ne, NULL, NULL), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_plugin_export_at(NULL, 0, NULL, NULL), WASMPLUG_ERR_ARGUMENT, NULL);

    /* Metrics. */
    wasmplug_metrics mt;
    CHECK_CODE(wasmplug_plugin_get_metrics(p, &mt), WASMPLUG_OK, NULL);
    CHECK(mt.calls >= 20);
    CHECK(mt.errors >= 8);
    CHECK(mt.bytes_in >= big);
    CHECK(mt.bytes_out >= big);
    CHECK(mt.host_calls > 0);
    CHECK(mt.total_ns > 0 && mt.max_ns > 0 && mt.max_ns <= mt.total_ns);
    CHECK(mt.memory_pages >= 2 && mt.memory_pages_max >= mt.memory_pages);
    CHECK_EQ(mt.instances_created, 3); /* first, after "hard", after 666 */
    CHECK_EQ(mt.fuel_used, 0); /* fuel unlimited: not counted */
    /* Quantiles from the latency histogram: ordered, never above the max. */
    CHECK(mt.p50_ns > 0 && mt.p50_ns <= mt.p90_ns && mt.p90_ns <= mt.p99_ns &&
          mt.p99_ns <= mt.max_ns);
    CHECK_CODE(wasmplug_plugin_get_metrics(p, NULL), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_plugin_get_metrics(NULL, &mt), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_plugin_reset_metrics(p);
    wasmplug_plugin_reset_metrics(NULL);
    CHECK_CODE(wasmplug_plugin_get_metrics(p, &mt), WASMPLUG_OK, NULL);
    CHECK_EQ(mt.calls, 0);
    CHECK(mt.p50_ns == 0 && mt.p99_ns == 0); /* the histogram is reset too */

    /* Error history: bounded, oldest first, clearable. */
    wasmplug_plugin_error hist[64], last;
    size_t n = wasmplug_plugin_errors(p, hist, 64);
    CHECK_EQ(n, 7); /* fail, nope, add, soft, hard, 666, nope (bad arguments are not kept) */
    CHECK_CODE(wasmplug_plugin_last_error(p, &last), WASMPLUG_OK, NULL);
    CHECK(n > 0 && last.code == hist[n - 1].code &&
          strcmp(last.message, hist[n - 1].message) == 0);
    CHECK_EQ(wasmplug_plugin_errors(p, hist, 1), 1);
    CHECK(hist[0].code == last.code);
    CHECK_EQ(wasmplug_plugin_errors(NULL, hist, 1), 0);
    CHECK_CODE(wasmplug_plugin_last_error(NULL, &last), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_plugin_clear_errors(p);
    wasmplug_plugin_clear_errors(NULL);
    CHECK_EQ(wasmplug_plugin_errors(p, hist, 64), 0);
    CHECK_CODE(wasmplug_plugin_last_error(p, &last), WASMPLUG_ERR_NOT_FOUND, NULL);

    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_history_bound(void)
{
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.error_history = 4;
    wasmplug_host *h = host_test_new(&cfg);
    wasmplug_plugin *p = host_test_load(h, "good", "good", NULL);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    wasmplug_buf out;
    for (int i = 0; i < 10; i++)
        wasmplug_plugin_call(p, i == 9 ? "last" : "nope", NULL, 0, &out, NULL);
    wasmplug_plugin_error hist[10];
    CHECK_EQ(wasmplug_plugin_errors(p, hist, 10), 4);
    CHECK(strcmp(hist[3].function, "last") == 0);
    wasmplug_plugin_info info;
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK_EQ(info.error_count, 4);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_info_metadata(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_manifest m = host_test_manifest("org.example.good");
    m.version = "2.1.0-beta.1";
    wasmplug_kv meta[] = {{"author", "me"}, {"license", "MIT"}};
    m.metadata = meta;
    m.metadata_count = 2;
    m.resources.max_memory_pages = 64;
    m.resources.fuel = 1000000000;
    const char *perms[] = {"env.add", "env.upper", "env.whoami", "env.barrier", "env.peek",
                           "net.http"};
    m.permissions = perms;
    m.permission_count = 6;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.manifest = &m;
    o.limits.max_memory_pages = 128;  /* the manifest lowers it to 64 */
    o.limits.max_output_bytes = 4096;
    o.pool_size = 3;
    wasmplug_plugin *p = host_test_load(h, "info", "good", &o);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    wasmplug_plugin_info info;
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK(strcmp(info.name, "info") == 0);
    CHECK(strcmp(info.id, "org.example.good") == 0);
    CHECK(strcmp(info.version, "2.1.0-beta.1") == 0);
    CHECK_EQ(info.state, WASMPLUG_STATE_LOADED);
    CHECK_EQ(info.abi, WASMPLUG_ABI_V1);
    CHECK_EQ(info.pool_size, 3);
    CHECK_EQ(info.instances, 0);
    CHECK_EQ(info.metadata_count, 2);
    CHECK_EQ(info.limits.max_memory_pages, 64);
    CHECK(info.limits.fuel == 1000000000);
    CHECK_EQ(info.limits.max_output_bytes, 4096);
    CHECK_EQ(info.limits.timeout_ms, WASMPLUG_NO_TIMEOUT);
    CHECK_EQ(info.export_count, wasmplug_plugin_export_count(p));
    CHECK_CODE(wasmplug_plugin_get_info(p, NULL), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_plugin_get_info(NULL, &info), WASMPLUG_ERR_ARGUMENT, NULL);

    /* Not initialized: calls are refused. */
    wasmplug_plugin_error err;
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "echo", NULL, 0, &out, &err), WASMPLUG_ERR_PLUGIN_STATE,
               &err);
    CHECK_CONTAINS(err.message, "is loaded, not ready");
    CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_OK, &err);
    CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_ERR_PLUGIN_STATE, &err);
    CHECK_CODE(wasmplug_plugin_init(NULL, &err), WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CODE(wasmplug_plugin_get_info(p, &info), WASMPLUG_OK, NULL);
    CHECK_EQ(info.instances, 1);
    CHECK_EQ(info.state, WASMPLUG_STATE_READY);

    /* Fuel is limited here, so it is counted. */
    CHECK_CALL(p, "count", "", "1");
    wasmplug_metrics mt;
    wasmplug_plugin_get_metrics(p, &mt);
    CHECK(mt.fuel_used > 0);

    /* Output limit of 4096 bytes. */
    CHECK_CODE(wasmplug_plugin_call(p, "big", (const uint8_t *)"4096", 4, &out, &err),
               WASMPLUG_OK, &err);
    CHECK_EQ(out.len, 4096);
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_plugin_call(p, "big", (const uint8_t *)"4097", 4, &out, &err),
               WASMPLUG_ERR_OUTPUT_TOO_LARGE, &err);
    CHECK(out.data == NULL);

    /* Permissions granted: the request ∩ policy (net.http is not granted). */
    char **perm;
    size_t np;
    CHECK_CODE(wasmplug_plugin_permissions(p, &perm, &np), WASMPLUG_OK, NULL);
    CHECK_EQ(np, 5);
    CHECK(np == 5 && strcmp(perm[0], "env.add") == 0 && strcmp(perm[4], "env.peek") == 0);
    wasmplug_free(perm);
    CHECK_CODE(wasmplug_plugin_permissions(NULL, &perm, &np), WASMPLUG_ERR_ARGUMENT, NULL);

    /* Metadata. */
    char *v;
    CHECK_CODE(wasmplug_plugin_metadata_get(p, "author", &v), WASMPLUG_OK, NULL);
    CHECK(v && strcmp(v, "me") == 0);
    wasmplug_free(v);
    CHECK_CODE(wasmplug_plugin_metadata_get(p, "nope", &v), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK(v == NULL);
    CHECK_CODE(wasmplug_plugin_metadata_get(p, NULL, &v), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_kv upd[] = {{"author", "you"}, {"license", NULL}, {"homepage", "x.org"}};
    CHECK_CODE(wasmplug_plugin_update_metadata(p, upd, 3, false), WASMPLUG_OK, NULL);
    wasmplug_kv *items;
    size_t ni;
    CHECK_CODE(wasmplug_plugin_metadata(p, &items, &ni), WASMPLUG_OK, NULL);
    CHECK_EQ(ni, 2);
    CHECK(ni == 2 && strcmp(items[0].key, "author") == 0 && strcmp(items[0].value, "you") == 0 &&
          strcmp(items[1].key, "homepage") == 0 && strcmp(items[1].value, "x.org") == 0);
    wasmplug_free(items);
    wasmplug_kv repl[] = {{"only", "one"}};
    CHECK_CODE(wasmplug_plugin_update_metadata(p, repl, 1, true), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_plugin_metadata(p, &items, &ni), WASMPLUG_OK, NULL);
    CHECK(ni == 1 && strcmp(items[0].key, "only") == 0);
    wasmplug_free(items);
    wasmplug_kv badkey[] = {{"", "x"}};
    CHECK_CODE(wasmplug_plugin_update_metadata(p, badkey, 1, false), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_plugin_update_metadata(p, NULL, 1, false), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_plugin_update_metadata(NULL, repl, 1, false), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_plugin_update_metadata(p, NULL, 0, true), WASMPLUG_OK, NULL);
    CHECK_CODE(wasmplug_plugin_metadata(p, &items, &ni), WASMPLUG_OK, NULL);
    CHECK_EQ(ni, 0);
    wasmplug_free(items);
    CHECK_CODE(wasmplug_plugin_metadata(NULL, &items, &ni), WASMPLUG_ERR_ARGUMENT, NULL);

    /* No embedded manifest in an ABI v1 plugin. */
    wasmplug_buf em;
    CHECK_CODE(wasmplug_plugin_embedded_manifest(p, &em), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_plugin_embedded_manifest(NULL, &em), WASMPLUG_ERR_ARGUMENT, NULL);

    /* Get, retain, release. */
    wasmplug_plugin *q;
    CHECK_CODE(wasmplug_host_get(h, "info", &q), WASMPLUG_OK, NULL);
    CHECK(q == p);
    wasmplug_plugin_retain(q);
    wasmplug_plugin_release(q);
    wasmplug_plugin_release(q);
    wasmplug_plugin_retain(NULL);
    wasmplug_plugin_release(NULL);
    CHECK_CODE(wasmplug_host_get(h, "nope", &q), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK(q == NULL);
    CHECK_CODE(wasmplug_host_get(h, NULL, &q), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_get(NULL, "info", &q), WASMPLUG_ERR_ARGUMENT, NULL);

    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_compat(void)
{
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_plugin *p = host_test_load(h, "compat", "compat", NULL);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    wasmplug_plugin_info info;
    wasmplug_plugin_get_info(p, &info);
    CHECK_EQ(info.abi, WASMPLUG_ABI_COMPAT);
    CHECK_CALL(p, "plugin_handle_event", "abc", "+cba");
    CHECK_CALL(p, "plugin_handle_event", "", "+");
    wasmplug_val r;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_plugin_call_typed(p, "live", NULL, 0, &r, 1, &err), WASMPLUG_OK, &err);
    CHECK_EQ(r.of.i32, 0); /* every alloc was deallocated */
    wasmplug_buf em;
    CHECK_CODE(wasmplug_plugin_embedded_manifest(p, &em), WASMPLUG_OK, NULL);
    CHECK(em.data && strcmp((const char *)em.data, "{\"id\":\"compat\",\"version\":\"1.0.0\"}") == 0);
    wasmplug_buf_free(&em);
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "bad_result", (const uint8_t *)"x", 1, &out, &err),
               WASMPLUG_ERR_SERIALIZATION, &err);
    CHECK_CONTAINS(err.message, "outside the plugin's memory");
    CHECK_CALL(p, "plugin_handle_event", "xy", "+yx");
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
}

static void test_lifecycle(void)
{
    events ev;
    memset(&ev, 0, sizeof ev);
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_state = on_state;
    cfg.on_log = on_log;
    cfg.callback_user = &ev;
    wasmplug_host *h = host_test_new(&cfg);
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    wasmplug_plugin *p = host_test_load(h, "cb", "good", &o);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err); /* LOADED -> DISPOSED */
    CHECK_EQ(wasmplug_plugin_state_get(p), WASMPLUG_STATE_DISPOSED);
    CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_ERR_PLUGIN_STATE, &err);
    CHECK_CODE(wasmplug_plugin_init(p, &err), WASMPLUG_ERR_PLUGIN_STATE, &err);
    wasmplug_buf out;
    CHECK_CODE(wasmplug_plugin_call(p, "echo", NULL, 0, &out, &err), WASMPLUG_ERR_PLUGIN_STATE,
               &err);
    CHECK_CONTAINS(err.message, "is disposed, not ready");
    CHECK_CODE(wasmplug_plugin_dispose(NULL, &err), WASMPLUG_ERR_ARGUMENT, &err);
    /* Disposed plugins stay listed until killed. */
    CHECK_EQ(wasmplug_host_count(h), 1);
    CHECK_CODE(wasmplug_host_kill(h, "cb"), WASMPLUG_OK, NULL);
    CHECK_EQ(wasmplug_host_count(h), 0);
    CHECK_CODE(wasmplug_host_kill(h, "cb"), WASMPLUG_ERR_NOT_FOUND, NULL);
    CHECK_CODE(wasmplug_host_kill(h, NULL), WASMPLUG_ERR_ARGUMENT, NULL);
    CHECK_CODE(wasmplug_host_kill(NULL, "cb"), WASMPLUG_ERR_ARGUMENT, NULL);
    wasmplug_plugin_release(p);
    static const int expect1[][2] = {
        {WASMPLUG_STATE_UNLOADED, WASMPLUG_STATE_LOADING},
        {WASMPLUG_STATE_LOADING, WASMPLUG_STATE_LOADED},
        {WASMPLUG_STATE_LOADED, WASMPLUG_STATE_DISPOSED},
    };
    CHECK_EQ(ev.nstates, 3);
    for (int i = 0; i < 3 && i < ev.nstates; i++)
        CHECK(ev.states[i][0] == expect1[i][0] && ev.states[i][1] == expect1[i][1]);

    /* The full path with init, dispose hook (it logs) and a kill. */
    ev.nstates = 0;
    ev.logs = 0;
    o.init = true;
    p = host_test_load(h, "cb", "good", &o);
    if (p) {
        CHECK_CALL(p, "count", "", "1");
        CHECK_CODE(wasmplug_plugin_dispose(p, &err), WASMPLUG_OK, &err);
        CHECK_EQ(ev.logs, 1);
        CHECK(strcmp(ev.log, "2:disposed") == 0);
        wasmplug_plugin_info info;
        wasmplug_plugin_get_info(p, &info);
        CHECK_EQ(info.instances, 0);
        wasmplug_plugin_release(p);
    }
    static const int expect2[][2] = {
        {WASMPLUG_STATE_UNLOADED, WASMPLUG_STATE_LOADING},
        {WASMPLUG_STATE_LOADING, WASMPLUG_STATE_LOADED},
        {WASMPLUG_STATE_LOADED, WASMPLUG_STATE_INITIALIZING},
        {WASMPLUG_STATE_INITIALIZING, WASMPLUG_STATE_READY},
        {WASMPLUG_STATE_READY, WASMPLUG_STATE_DISPOSED},
    };
    CHECK_EQ(ev.nstates, 5);
    for (int i = 0; i < 5 && i < ev.nstates; i++)
        CHECK(ev.states[i][0] == expect2[i][0] && ev.states[i][1] == expect2[i][1]);

    /* kill_all; killed handles fail cleanly until released. */
    wasmplug_host_kill_all(h);
    CHECK_EQ(wasmplug_host_count(h), 0);
    wasmplug_plugin *a = host_test_load(h, "a", "good", NULL);
    wasmplug_plugin *b = host_test_load(h, "b", "good", NULL);
    CHECK_EQ(wasmplug_host_count(h), 2);
    wasmplug_host_kill_all(h);
    wasmplug_host_kill_all(NULL);
    CHECK_EQ(wasmplug_host_count(h), 0);
    if (a && b) {
        CHECK_EQ(wasmplug_plugin_state_get(a), WASMPLUG_STATE_DISPOSED);
        CHECK_CODE(wasmplug_plugin_call(b, "echo", NULL, 0, &out, &err),
                   WASMPLUG_ERR_PLUGIN_STATE, &err);
    }
    wasmplug_plugin_release(a);
    wasmplug_plugin_release(b);
    CHECK_EQ(wasmplug_plugin_state_get(NULL), WASMPLUG_STATE_UNLOADED);
    CHECK(strcmp(wasmplug_plugin_name(NULL), "") == 0);
    CHECK(wasmplug_plugin_user_data(NULL) == NULL);
    CHECK_EQ(wasmplug_plugin_cancel(NULL), 0);
    wasmplug_host_free(h);
}

/* Host functions called outside a plugin call (through the engine) fail. */
static void test_hostcall_null(void)
{
    CHECK(wasmplug_hostcall_plugin(NULL) == NULL);
    CHECK(strcmp(wasmplug_hostcall_plugin_name(NULL), "") == 0);
    CHECK(strcmp(wasmplug_hostcall_plugin_id(NULL), "") == 0);
    CHECK(wasmplug_hostcall_user_data(NULL) == NULL);
    CHECK(strcmp(wasmplug_hostcall_function(NULL), "") == 0);
    size_t sz = 7;
    CHECK(wasmplug_hostcall_memory(NULL, &sz) == NULL && sz == 0);
    wasmplug_hostcall_error(NULL, "x");
    CHECK_CODE(wasmplug_hostcall_write(NULL, "x", 1), WASMPLUG_ERR_ARGUMENT, NULL);
}

/* The latency histogram: four buckets per power of two, quantiles as the
 * top of their bucket (within 25%), capped at max. */
static void test_latency_histogram(void)
{
    CHECK_EQ(wasmplug_latency_bucket(0), 0);
    CHECK_EQ(wasmplug_latency_bucket(3), 3);
    CHECK_EQ(wasmplug_latency_bucket(4), 8);    /* 2^2: bucket 2*4 + 0 */
    CHECK_EQ(wasmplug_latency_bucket(7), 11);   /* 2^2 + 3: its last quarter */
    CHECK_EQ(wasmplug_latency_bucket(1000), 39); /* 2^9 = 512, quarters of 128: 1000 in the 4th */
    CHECK_EQ(wasmplug_latency_bucket(UINT64_MAX), WASMPLUG_LATENCY_BUCKETS - 1);
    uint64_t hist[WASMPLUG_LATENCY_BUCKETS] = {0};
    CHECK_EQ(wasmplug_latency_quantile(hist, 500, 100), 0);
    /* 90 calls of 1000 ns, 10 of 1,000,000 ns. */
    hist[wasmplug_latency_bucket(1000)] += 90;
    hist[wasmplug_latency_bucket(1000000)] += 10;
    uint64_t p50 = wasmplug_latency_quantile(hist, 500, 1000000);
    uint64_t p99 = wasmplug_latency_quantile(hist, 990, 1000000);
    CHECK(p50 >= 1000 && p50 < 1250);
    CHECK_EQ(p99, 1000000); /* the bucket's top, capped at the max */
    CHECK_EQ(wasmplug_latency_quantile(hist, 900, 1000000), p50);
    CHECK(wasmplug_latency_quantile(hist, 910, 2000000) >= 1000000);
}

/* What another thread sees of a plugin whose load is still building it:
 * its name is taken, but it is neither found, listed nor counted (a
 * handle is never visible half-built). Looked at from the state callback,
 * which runs on the loading thread at each step. */
typedef struct building_probe {
    wasmplug_host *host;
    int loading_seen, loaded_seen;
    wasmplug_status get_loading, dup_loading, get_loaded;
    size_t count_loading;
} building_probe;

static void probe_state(void *user, wasmplug_plugin *plugin, const char *name,
                        wasmplug_plugin_state from, wasmplug_plugin_state to)
{
    (void)plugin;
    (void)from;
    building_probe *b = user;
    if (strcmp(name, "building") != 0)
        return;
    wasmplug_plugin *found = NULL;
    if (to == WASMPLUG_STATE_LOADING) {
        b->loading_seen++;
        b->get_loading = wasmplug_host_get(b->host, name, &found);
        b->count_loading = wasmplug_host_count(b->host);
        size_t size;
        uint8_t *wasm = host_test_plugin("reload_a", &size);
        b->dup_loading = wasmplug_host_load(b->host, name, wasm, size, NULL, NULL, NULL);
        free(wasm);
    } else if (to == WASMPLUG_STATE_LOADED) {
        b->loaded_seen++;
        b->get_loaded = wasmplug_host_get(b->host, name, &found);
    }
    wasmplug_plugin_release(found);
}

static void test_not_found_while_building(void)
{
    building_probe b;
    memset(&b, 0, sizeof b);
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.on_state = probe_state;
    cfg.callback_user = &b;
    b.host = host_test_new(&cfg);
    size_t size;
    uint8_t *wasm = host_test_plugin("reload_a", &size);
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load(b.host, "other", wasm, size, NULL, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_CODE(wasmplug_host_load(b.host, "building", wasm, size, NULL, NULL, &err), WASMPLUG_OK,
               &err);
    CHECK_EQ(b.loading_seen, 1);
    CHECK_EQ(b.loaded_seen, 1);
    CHECK_EQ(b.get_loading, WASMPLUG_ERR_NOT_FOUND);
    CHECK_EQ(b.count_loading, 1);
    CHECK_EQ(b.dup_loading, WASMPLUG_ERR_DUPLICATE);
    CHECK_EQ(b.get_loaded, WASMPLUG_OK);
    CHECK_EQ(wasmplug_host_count(b.host), 2);
    char **names = NULL;
    size_t n = 0;
    CHECK_CODE(wasmplug_host_list(b.host, &names, &n), WASMPLUG_OK, NULL);
    CHECK_EQ(n, 2);
    wasmplug_free(names);
    free(wasm);
    wasmplug_host_free(b.host);
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    test_strings();
    test_latency_histogram();
    test_host_object();
    test_register();
    test_load_errors();
    test_no_manifest();
    test_memory_import();
    test_deny_stub();
    test_calls();
    test_history_bound();
    test_info_metadata();
    test_compat();
    test_lifecycle();
    test_hostcall_null();
    test_not_found_while_building();
    return test_done();
}
