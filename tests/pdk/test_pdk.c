/*
 * test_pdk.c - the PDKs, example plugins and templates through the host
 * library (include/wasmplug.h): real outputs, error paths (invalid JSON
 * input, missing or bad config, oversized input, traps), the manifest
 * given as a struct, and a closing table of plugin sizes and mean call
 * latencies (printed, never asserted).
 *
 *   test_pdk [--bounds MODE] PLUGIN_DIR NAME...
 *
 * NAME: the plugins built (tests/pdk/build-plugin.sh); checks of plugins
 * not listed are skipped (WASMPLUG_TOOLCHAIN_TESTS=AUTO).
 */
#include "wasmplug.h"
#include "test.h"

#include <stdarg.h>
#include <time.h>

static const char *plugin_dir;
static int have_count;
static char **have_names;
static wasmplug_bounds_mode bounds;

/* Log lines captured from plugins (the last few). */
static char last_log[512];
static wasmplug_log_level last_log_level;
static int log_lines;

static void on_log(void *user, wasmplug_plugin *plugin, const char *name,
                   wasmplug_log_level level, const char *msg, size_t len)
{
    (void)user;
    (void)plugin;
    (void)name;
    snprintf(last_log, sizeof last_log, "%.*s", (int)len, msg);
    last_log_level = level;
    log_lines++;
}

static bool have(const char *name)
{
    for (int i = 0; i < have_count; i++)
        if (strcmp(have_names[i], name) == 0)
            return true;
    return false;
}

static wasmplug_host *new_host(void)
{
    wasmplug_host_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bounds = bounds;
    cfg.on_log = on_log;
    wasmplug_host *h = NULL;
    if (wasmplug_host_new(&cfg, &h) != WASMPLUG_OK) {
        printf("FAIL: cannot create a host\n");
        exit(1);
    }
    return h;
}

/* What a test loads: file, exports, config defaults (manifest), config
 * overrides (load options), limits. */
typedef struct spec {
    const char *file;
    const char *const *exports;
    size_t export_count;
    const wasmplug_kv *defaults;
    size_t default_count;
    const wasmplug_kv *config;
    size_t config_count;
    uint32_t max_input;
} spec;

static wasmplug_plugin *load(wasmplug_host *h, const char *name, const spec *s)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", plugin_dir, s->file);
    wasmplug_manifest m;
    memset(&m, 0, sizeof m);
    m.id = s->file;
    m.version = "1.0.0";
    m.name = name;
    m.exports = s->exports;
    m.export_count = s->export_count;
    m.config = s->defaults;
    m.config_count = s->default_count;
    m.resources.max_memory_pages = 256; /* 16 MiB, as the plugin.yaml files ask */
    /* What c_checks imports; granted only where a test's host policy says so. */
    static const char *const host_functions[] = {"env.*"};
    m.permissions = host_functions;
    m.permission_count = 1;
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.manifest = &m;
    opt.init = true;
    opt.config = s->config;
    opt.config_count = s->config_count;
    opt.limits.max_input_bytes = s->max_input;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(h, name, path, &opt, &p, &err) != WASMPLUG_OK) {
        char buf[1024];
        wasmplug_plugin_error_format(&err, buf, sizeof buf);
        printf("FAIL: cannot load %s: %s\n", path, buf);
        test_failed_count++;
        return NULL;
    }
    test_passed_count++;
    return p;
}

/* Call and return the output (malloc'd, "" on failure); *st, *err filled. */
static char *call(wasmplug_plugin *p, const char *func, const char *in, wasmplug_status *st,
                  wasmplug_plugin_error *err)
{
    wasmplug_buf out;
    wasmplug_status s = wasmplug_plugin_call(p, func, (const uint8_t *)in, strlen(in), &out, err);
    if (st)
        *st = s;
    char *r = malloc(out.len + 1);
    if (out.len)
        memcpy(r, out.data, out.len);
    r[out.len] = '\0';
    wasmplug_buf_free(&out);
    return r;
}

/* The call must succeed with exactly `want`. */
#define EXPECT_OUT(p, func, in, want)                                                  \
    do {                                                                               \
        wasmplug_status s_;                                                            \
        wasmplug_plugin_error e_;                                                      \
        char *o_ = call((p), (func), (in), &s_, &e_);                                  \
        if (!test_check(s_ == WASMPLUG_OK && strcmp(o_, (want)) == 0, __FILE__,        \
                        __LINE__, func "(" #in ") == " #want)) {                       \
            char b_[1024] = "";                                                        \
            if (s_ != WASMPLUG_OK)                                                     \
                wasmplug_plugin_error_format(&e_, b_, sizeof b_);                      \
            printf("     got %s \"%s\" %s\n", wasmplug_status_name(s_), o_, b_);       \
        }                                                                              \
        free(o_);                                                                      \
    } while (0)

/* The call must fail with status `code` and a message containing `msg`. */
#define EXPECT_ERR(p, func, in, code, msg)                                             \
    do {                                                                               \
        wasmplug_status s_;                                                            \
        wasmplug_plugin_error e_;                                                      \
        char *o_ = call((p), (func), (in), &s_, &e_);                                  \
        if (!test_check(s_ == (code) && strstr(e_.message, (msg)) != NULL, __FILE__,   \
                        __LINE__, func "(" #in ") fails: " #code " " #msg))            \
            printf("     got %s \"%s\" (output \"%s\")\n", wasmplug_status_name(s_),   \
                   s_ == WASMPLUG_OK ? "" : e_.message, o_);                           \
        free(o_);                                                                      \
    } while (0)

/* ---- size and latency table ---- */

typedef struct perf_row {
    char name[64];
    long size;
    double mean_us;
} perf_row;
static perf_row perf[32];
static int perf_count;

static long file_size(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", plugin_dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Mean latency of `n` calls (after one warm-up call), into the table. */
static void measure(wasmplug_plugin *p, const char *file, const char *func, const char *in, int n)
{
    wasmplug_buf out;
    if (wasmplug_plugin_call(p, func, (const uint8_t *)in, strlen(in), &out, NULL) != WASMPLUG_OK)
        return;
    wasmplug_buf_free(&out);
    double t0 = now_us();
    int ok = 0;
    for (int i = 0; i < n; i++) {
        if (wasmplug_plugin_call(p, func, (const uint8_t *)in, strlen(in), &out, NULL) ==
            WASMPLUG_OK)
            ok++;
        wasmplug_buf_free(&out);
    }
    double t = now_us() - t0;
    CHECK_EQ(ok, n);
    if (perf_count < 32) {
        perf_row *r = &perf[perf_count++];
        snprintf(r->name, sizeof r->name, "%s.%s", file, func);
        r->size = file_size(file);
        r->mean_us = t / n;
    }
}

/* ------------------------------------------------------------------------ */
/* word-counter (C)                                                         */
/* ------------------------------------------------------------------------ */

static const char *const wc_exports[] = {"count", "count_text"};

static void test_word_counter(const char *file)
{
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    static const wasmplug_kv defaults[] = {{"min_word_length", "3"}};
    spec s = {file, wc_exports, 2, defaults, 1, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "wc", &s);
    if (!p) {
        wasmplug_host_free(h);
        return;
    }
    /* min_word_length 3 from the manifest defaults; English stop words. */
    EXPECT_OUT(p, "count",
               "{\"text\":\"The quick brown fox jumps over the lazy dog. The fox! Don't a b\"}",
               "{\"words\":9,\"unique\":8,\"filtered\":5,\"top\":[{\"word\":\"fox\",\"count\":2},"
               "{\"word\":\"quick\",\"count\":1},{\"word\":\"brown\",\"count\":1},"
               "{\"word\":\"jumps\",\"count\":1},{\"word\":\"over\",\"count\":1}]}");
    /* ASCII letters are lower-cased, other bytes kept as they are. */
    EXPECT_OUT(p, "count_text", "Zoë zoë ZOË naïve 'quoted' it's",
               "{\"words\":6,\"unique\":5,\"filtered\":0,\"top\":[{\"word\":\"zoë\",\"count\":2},"
               "{\"word\":\"zoË\",\"count\":1},{\"word\":\"naïve\",\"count\":1},"
               "{\"word\":\"quoted\",\"count\":1},{\"word\":\"it's\",\"count\":1}]}");
    EXPECT_OUT(p, "count", "{\"text\":\"\"}", "{\"words\":0,\"unique\":0,\"filtered\":0,\"top\":[]}");
    EXPECT_OUT(p, "count", "{\"text\":\"a\\nb\\tc \\u0041BC abc\"}",
               "{\"words\":2,\"unique\":1,\"filtered\":3,\"top\":[{\"word\":\"abc\",\"count\":2}]}");
    /* A large input read in one go: 20000 x "alpha beta " (220 KB). */
    {
        size_t n = 20000, len = strlen("alpha beta ");
        char *big = malloc(n * len + 16);
        strcpy(big, "{\"text\":\"");
        for (size_t i = 0; i < n; i++)
            memcpy(big + 9 + i * len, "alpha beta ", len);
        strcpy(big + 9 + n * len, "\"}");
        EXPECT_OUT(p, "count", big,
                   "{\"words\":40000,\"unique\":2,\"filtered\":0,\"top\":[{\"word\":\"alpha\","
                   "\"count\":20000},{\"word\":\"beta\",\"count\":20000}]}");
        free(big);
    }
    /* Error paths. */
    EXPECT_ERR(p, "count", "{\"text\": oops}", WASMPLUG_ERR_PLUGIN,
               "invalid JSON input: unexpected character at byte 9");
    EXPECT_ERR(p, "count", "{\"text\":\"a\"", WASMPLUG_ERR_PLUGIN, "invalid JSON input");
    EXPECT_ERR(p, "count", "{\"txt\":\"a\"}", WASMPLUG_ERR_PLUGIN, "string field \"text\"");
    measure(p, file, "count", "{\"text\":\"The quick brown fox jumps over the lazy dog\"}", 2000);
    wasmplug_plugin_release(p);

    /* Config: custom stop words, min length 1, top 2; then bad values. */
    static const wasmplug_kv cfg[] = {{"min_word_length", "1"}, {"stop_words", " Fox , dog"},
                                      {"top", "2"}};
    s.config = cfg;
    s.config_count = 3;
    p = load(h, "wc-config", &s);
    if (p) {
        EXPECT_OUT(p, "count_text", "the fox and the dog and a cat",
                   "{\"words\":6,\"unique\":4,\"filtered\":2,\"top\":[{\"word\":\"the\",\"count\":2},"
                   "{\"word\":\"and\",\"count\":2}]}");
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv nofilter[] = {{"filter_stop_words", "false"}, {"top", "0"}};
    s.config = nofilter;
    s.config_count = 2;
    p = load(h, "wc-nofilter", &s);
    if (p) {
        EXPECT_OUT(p, "count_text", "the fox and the dog",
                   "{\"words\":5,\"unique\":4,\"filtered\":0,\"top\":[]}");
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv bad[] = {{"min_word_length", "three"}};
    s.config = bad;
    s.config_count = 1;
    p = load(h, "wc-bad", &s);
    if (p) {
        EXPECT_ERR(p, "count_text", "x", WASMPLUG_ERR_PLUGIN,
                   "config min_word_length: not an integer: three");
        wasmplug_plugin_error e;
        CHECK(wasmplug_plugin_last_error(p, &e) == WASMPLUG_OK && e.plugin_code == 2);
        wasmplug_plugin_release(p);
    }
    /* Oversized input: the host refuses it before the plugin runs. */
    s.config = NULL;
    s.config_count = 0;
    s.max_input = 64;
    p = load(h, "wc-small", &s);
    if (p) {
        char in[101];
        memset(in, 'a', 100);
        in[100] = '\0';
        EXPECT_ERR(p, "count_text", in, WASMPLUG_ERR_INPUT_TOO_LARGE, "");
        EXPECT_OUT(p, "count_text", "tiny input here",
                   "{\"words\":3,\"unique\":3,\"filtered\":0,\"top\":[{\"word\":\"tiny\",\"count\":1},"
                   "{\"word\":\"input\",\"count\":1},{\"word\":\"here\",\"count\":1}]}");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* sentiment-analyzer (AssemblyScript)                                      */
/* ------------------------------------------------------------------------ */

static const char *const sa_exports[] = {"analyze"};

static void test_sentiment(const char *file, int calls)
{
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    static const wasmplug_kv seed_cfg[] = {{"threshold", "0.7"}};
    spec s = {file, sa_exports, 1, NULL, 0, seed_cfg, 1, 0};
    wasmplug_plugin *p = load(h, "sa", &s);
    if (p) {
        EXPECT_OUT(p, "analyze", "{\"text\":\"This is amazing!\"}",
                   "{\"sentiment\":\"positive\",\"score\":4,\"normalized\":0.7184,\"threshold\":0.7,"
                   "\"words\":3,\"positive\":[\"amazing\"],\"negative\":[]}");
        EXPECT_OUT(p, "analyze", "{\"text\":\"This is not good. Very bad, really terrible.\"}",
                   "{\"sentiment\":\"negative\",\"score\":-12,\"normalized\":-0.9517,"
                   "\"threshold\":0.7,\"words\":8,\"positive\":[],"
                   "\"negative\":[\"good\",\"bad\",\"terrible\"]}");
        /* 0.4588 < 0.7: neutral with this threshold. */
        EXPECT_OUT(p, "analyze", "{\"text\":\"I like it\"}",
                   "{\"sentiment\":\"neutral\",\"score\":2,\"normalized\":0.4588,\"threshold\":0.7,"
                   "\"words\":3,\"positive\":[\"like\"],\"negative\":[]}");
        EXPECT_ERR(p, "analyze", "{\"text\":", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: unexpected end of input at 8");
        EXPECT_ERR(p, "analyze", "[1,2]", WASMPLUG_ERR_PLUGIN, "string field \"text\"");
        /* Many calls: minimal (collect() per call) and incremental stay
         * bounded; stub never frees, so it gets fewer calls. */
        for (int i = 0; i < calls; i++) {
            wasmplug_buf out;
            static const char in[] = "{\"text\":\"great fun, no bugs, really wonderful\"}";
            if (wasmplug_plugin_call(p, "analyze", (const uint8_t *)in, sizeof in - 1, &out,
                                     NULL) != WASMPLUG_OK) {
                CHECK(!"repeated calls succeed");
                break;
            }
            wasmplug_buf_free(&out);
        }
        measure(p, file, "analyze", "{\"text\":\"This is amazing, really great fun!\"}",
                calls);
        wasmplug_metrics mt;
        CHECK(wasmplug_plugin_get_metrics(p, &mt) == WASMPLUG_OK);
        printf("   %s: %u pages of memory after %d calls\n", file, mt.memory_pages, 2 * calls + 5);
        if (strcmp(file, "sentiment_analyzer_stub") != 0)
            CHECK(mt.memory_pages <= 4);
        wasmplug_plugin_release(p);
    }
    /* Default threshold (0.3): "I like it" is positive. */
    s.config = NULL;
    s.config_count = 0;
    p = load(h, "sa-default", &s);
    if (p) {
        EXPECT_OUT(p, "analyze", "{\"text\":\"I like it\"}",
                   "{\"sentiment\":\"positive\",\"score\":2,\"normalized\":0.4588,\"threshold\":0.3,"
                   "\"words\":3,\"positive\":[\"like\"],\"negative\":[]}");
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv bad[] = {{"threshold", "high"}};
    s.config = bad;
    s.config_count = 1;
    p = load(h, "sa-bad", &s);
    if (p) {
        EXPECT_ERR(p, "analyze", "{\"text\":\"x\"}", WASMPLUG_ERR_PLUGIN,
                   "config threshold: not a number: high");
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv range[] = {{"threshold", "1.5"}};
    s.config = range;
    p = load(h, "sa-range", &s);
    if (p) {
        EXPECT_ERR(p, "analyze", "{\"text\":\"x\"}", WASMPLUG_ERR_PLUGIN, "between 0 and 1");
        wasmplug_plugin_release(p);
    }
    s.config = NULL;
    s.config_count = 0;
    s.max_input = 32;
    p = load(h, "sa-small", &s);
    if (p) {
        EXPECT_ERR(p, "analyze", "{\"text\":\"this input is longer than 32 bytes\"}",
                   WASMPLUG_ERR_INPUT_TOO_LARGE, "");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* json-transformer (Rust)                                                  */
/* ------------------------------------------------------------------------ */

static const char *const jt_exports[] = {"transform", "apply"};

static void test_json_transformer(void)
{
    const char *file = "json_transformer";
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    spec s = {file, jt_exports, 2, NULL, 0, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "jt", &s);
    if (p) {
        static const char people[] =
            "{\"document\":[{\"name\":\" Ann \",\"age\":31,\"city\":\"Oslo\",\"tags\":[\"a\",\"b\"]},"
            "{\"name\":\"bob\",\"age\":17,\"city\":\"Rome\",\"tags\":[]},"
            "{\"name\":\"Cy\",\"age\":45,\"city\":\"Lima\",\"tags\":[\"b\"]}],"
            "\"operations\":[{\"op\":\"filter\",\"field\":\"age\",\"cmp\":\"gte\",\"value\":18},"
            "{\"op\":\"map\",\"field\":\"name\",\"fn\":\"trim\"},"
            "{\"op\":\"map\",\"field\":\"name\",\"fn\":\"upper\"},"
            "{\"op\":\"map\",\"field\":\"tags\",\"fn\":\"length\"},"
            "{\"op\":\"rename\",\"from\":\"city\",\"to\":\"town\"},"
            "{\"op\":\"pick\",\"fields\":[\"name\",\"town\",\"tags\"]}]}";
        EXPECT_OUT(p, "apply", people,
                   "[{\"name\":\"ANN\",\"town\":\"Oslo\",\"tags\":2},"
                   "{\"name\":\"CY\",\"town\":\"Lima\",\"tags\":1}]");
        EXPECT_OUT(p, "apply",
                   "{\"document\":{\"id\":7,\"user\":{\"name\":\"x\",\"pw\":\"s\"},\"n\":\"2.5\"},"
                   "\"operations\":[{\"op\":\"pick\",\"fields\":[\"id\",\"user.name\",\"n\"]},"
                   "{\"op\":\"map\",\"field\":\"n\",\"fn\":\"number\"},"
                   "{\"op\":\"rename\",\"fields\":{\"id\":\"key\"}}]}",
                   "{\"key\":7,\"user\":{\"name\":\"x\"},\"n\":2.5}");
        EXPECT_OUT(p, "apply",
                   "{\"document\":[{\"t\":\"a wasm plugin\"},{\"t\":\"native\"}],"
                   "\"operations\":[{\"op\":\"filter\",\"field\":\"t\",\"cmp\":\"contains\","
                   "\"value\":\"wasm\"}]}",
                   "[{\"t\":\"a wasm plugin\"}]");
        EXPECT_OUT(p, "apply", "{\"document\":{\"a\":\"\\u00e9\\n\"}}", "{\"a\":\"é\\n\"}");
        /* Error paths. */
        EXPECT_ERR(p, "transform", "{\"a\":1}", WASMPLUG_ERR_PLUGIN, "missing config: operations");
        EXPECT_ERR(p, "apply", "{\"document\":", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: unexpected end of input at byte 12");
        EXPECT_ERR(p, "apply", "{\"operations\":[]}", WASMPLUG_ERR_PLUGIN,
                   "input must have a \"document\"");
        EXPECT_ERR(p, "apply", "{\"document\":{},\"operations\":[{\"op\":\"explode\"}]}",
                   WASMPLUG_ERR_PLUGIN, "operation 0: unknown op 'explode'");
        EXPECT_ERR(p, "apply",
                   "{\"document\":{\"a\":1},\"operations\":[{\"op\":\"filter\",\"field\":\"a\"}]}",
                   WASMPLUG_ERR_PLUGIN, "filter needs an array document, got object");
        EXPECT_ERR(p, "apply",
                   "{\"document\":{\"a\":1},\"operations\":[{\"op\":\"map\",\"field\":\"a\","
                   "\"fn\":\"upper\"}]}",
                   WASMPLUG_ERR_PLUGIN, "map upper does not apply to number field \"a\"");
        wasmplug_plugin_error e;
        CHECK(wasmplug_plugin_last_error(p, &e) == WASMPLUG_OK && e.plugin_code == 2);
        measure(p, file, "apply", people, 2000);
        wasmplug_plugin_release(p);
    }
    /* Operations from config. */
    static const wasmplug_kv ops[] = {
        {"operations", "[{\"op\":\"rename\",\"from\":\"a\",\"to\":\"b\"},"
                       "{\"op\":\"map\",\"field\":\"b\",\"fn\":\"negate\"}]"}};
    s.config = ops;
    s.config_count = 1;
    p = load(h, "jt-config", &s);
    if (p) {
        EXPECT_OUT(p, "transform", "{\"a\":1,\"c\":true}", "{\"b\":-1,\"c\":true}");
        EXPECT_OUT(p, "transform", "[{\"a\":2},{\"x\":0}]", "[{\"b\":-2},{\"x\":0}]");
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv badops[] = {{"operations", "[{\"op\":"}};
    s.config = badops;
    p = load(h, "jt-badconfig", &s);
    if (p) {
        EXPECT_ERR(p, "transform", "{}", WASMPLUG_ERR_PLUGIN, "config operations: invalid JSON");
        wasmplug_plugin_release(p);
    }
    s.config = NULL;
    s.config_count = 0;
    s.max_input = 16;
    p = load(h, "jt-small", &s);
    if (p) {
        EXPECT_ERR(p, "apply", "{\"document\":[1,2,3,4,5]}", WASMPLUG_ERR_INPUT_TOO_LARGE, "");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* file-icons (Zig)                                                         */
/* ------------------------------------------------------------------------ */

static const char *const fi_exports[] = {"icon", "icons"};

static void test_file_icons(void)
{
    const char *file = "file_icons";
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    spec s = {file, fi_exports, 2, NULL, 0, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "fi", &s);
    if (p) {
        EXPECT_OUT(p, "icon", "{\"name\":\"src/main.rs\"}",
                   "{\"name\":\"src/main.rs\",\"icon\":\"rust\",\"color\":\"#dea584\"}");
        EXPECT_OUT(p, "icon", "{\"name\":\"types/Index.D.TS\"}",
                   "{\"name\":\"types/Index.D.TS\",\"icon\":\"typescript-def\",\"color\":\"#3178c6\"}");
        EXPECT_OUT(p, "icon", "{\"name\":\"Makefile\"}",
                   "{\"name\":\"Makefile\",\"icon\":\"makefile\",\"color\":\"#e37933\"}");
        EXPECT_OUT(p, "icon", "{\"name\":\"a/b/tests/\",\"directory\":true}",
                   "{\"name\":\"a/b/tests/\",\"icon\":\"folder-test\",\"color\":\"#ff7043\"}");
        EXPECT_OUT(p, "icon", "{\"name\":\".bashrc\"}",
                   "{\"name\":\".bashrc\",\"icon\":\"file\",\"color\":\"#9da5b4\"}");
        EXPECT_OUT(p, "icons", "{\"names\":[\"a.C\",\"lib/\",\"plugin.yaml\",\"x.tar.lock\"]}",
                   "{\"icons\":[{\"name\":\"a.C\",\"icon\":\"c\",\"color\":\"#555555\"},"
                   "{\"name\":\"lib/\",\"icon\":\"folder\",\"color\":\"#dcb67a\"},"
                   "{\"name\":\"plugin.yaml\",\"icon\":\"wasmplug\",\"color\":\"#654ff0\"},"
                   "{\"name\":\"x.tar.lock\",\"icon\":\"lock\",\"color\":\"#9da5b4\"}]}");
        EXPECT_ERR(p, "icon", "{\"nam\":1}", WASMPLUG_ERR_PLUGIN, "input needs \"name\"");
        EXPECT_ERR(p, "icon", "{\"name\":", WASMPLUG_ERR_PLUGIN, "invalid JSON input");
        EXPECT_ERR(p, "icons", "{\"names\":[1]}", WASMPLUG_ERR_PLUGIN,
                   "\"names\" must be an array of strings");
        measure(p, file, "icon", "{\"name\":\"src/main.rs\"}", 2000);
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv cfg[] = {{"default_icon", "blank"}, {"folder_color", "#000000"}};
    s.config = cfg;
    s.config_count = 2;
    p = load(h, "fi-config", &s);
    if (p) {
        EXPECT_OUT(p, "icons", "{\"names\":[\"weird\",\"dir/\"]}",
                   "{\"icons\":[{\"name\":\"weird\",\"icon\":\"blank\",\"color\":\"#9da5b4\"},"
                   "{\"name\":\"dir/\",\"icon\":\"folder\",\"color\":\"#000000\"}]}");
        wasmplug_plugin_release(p);
    }
    s.config = NULL;
    s.config_count = 0;
    s.max_input = 8;
    p = load(h, "fi-small", &s);
    if (p) {
        EXPECT_ERR(p, "icon", "{\"name\":\"long-name.rs\"}", WASMPLUG_ERR_INPUT_TOO_LARGE, "");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* event-counter-compat (compatibility ABI)                                 */
/* ------------------------------------------------------------------------ */

static void test_event_counter(void)
{
    const char *file = "event_counter_compat";
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    static const wasmplug_kv cfg[] = {{"prefix", "editor."}};
    static const char *const exports[] = {"plugin_handle_event"};
    spec s = {file, exports, 1, NULL, 0, cfg, 1, 0};
    log_lines = 0;
    wasmplug_plugin *p = load(h, "ec", &s);
    if (p) {
        wasmplug_plugin_info info;
        CHECK(wasmplug_plugin_get_info(p, &info) == WASMPLUG_OK);
        /* A compatibility module that also imports wasmplug.log is still
         * reported as the compatibility ABI. */
        CHECK(info.abi == WASMPLUG_ABI_COMPAT);
        CHECK(log_lines >= 1 && strcmp(last_log, "event-counter: initialized") == 0);
        wasmplug_buf m;
        CHECK_STATUS(wasmplug_plugin_embedded_manifest(p, &m), WASMPLUG_OK);
        CHECK(m.data && strstr((char *)m.data, "\"id\":\"event-counter-compat\"") != NULL);
        wasmplug_buf_free(&m);
        EXPECT_OUT(p, "plugin_handle_event", "{\"type\":\"file.saved\"}",
                   "{\"ok\":true,\"type\":\"editor.file.saved\",\"count\":1,\"total\":1}");
        EXPECT_OUT(p, "plugin_handle_event", "{\"type\":\"file.opened\",\"data\":{\"path\":\"a\"}}",
                   "{\"ok\":true,\"type\":\"editor.file.opened\",\"count\":1,\"total\":2}");
        EXPECT_OUT(p, "plugin_handle_event", "{\"type\":\"file.saved\"}",
                   "{\"ok\":true,\"type\":\"editor.file.saved\",\"count\":2,\"total\":3}");
        EXPECT_OUT(p, "plugin_handle_event", "not json",
                   "{\"ok\":false,\"error\":\"invalid JSON event\"}");
        EXPECT_OUT(p, "plugin_handle_event", "{\"kind\":1}",
                   "{\"ok\":false,\"error\":\"event needs a string \\\"type\\\"\"}");
        measure(p, file, "plugin_handle_event", "{\"type\":\"file.saved\"}", 2000);
        CHECK_STATUS(wasmplug_plugin_dispose(p, NULL), WASMPLUG_OK);
        CHECK(strcmp(last_log, "event-counter: disposed") == 0);
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* Rust serde feature, C and AssemblyScript PDK checks                      */
/* ------------------------------------------------------------------------ */

static void test_serde(void)
{
    printf("-- serde_plugin\n");
    wasmplug_host *h = new_host();
    static const char *const exports[] = {"stats", "panics"};
    spec s = {"serde_plugin", exports, 2, NULL, 0, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "serde", &s);
    if (p) {
        EXPECT_OUT(p, "stats", "{\"values\":[1,2.5,7,\"x\"]}", "{\"count\":3,\"max\":7.0,\"sum\":10.5}");
        EXPECT_OUT(p, "stats", "{\"values\":[]}", "{\"count\":0,\"max\":null,\"sum\":0.0}");
        EXPECT_ERR(p, "stats", "{\"values\":", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: EOF while parsing");
        EXPECT_ERR(p, "stats", "{}", WASMPLUG_ERR_PLUGIN, "\"values\" must be an array");
        /* A panic: the hook logs "panic: ..." at level error, then the call traps. */
        EXPECT_ERR(p, "panics", "", WASMPLUG_ERR_TRAP, "unreachable");
        CHECK(last_log_level == WASMPLUG_LOG_ERROR && strstr(last_log, "panic: ") == last_log &&
              strstr(last_log, "index 3 of 0") != NULL);
        EXPECT_OUT(p, "stats", "{\"values\":[2]}", "{\"count\":1,\"max\":2.0,\"sum\":2.0}");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* Host functions for c_checks: env.mul (typed) and env.repeat (bytes: the
 * input 100 times, or a soft error 7 with a message for "bad"). */
static int hf_mul(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                  wasmplug_slot *results)
{
    (void)call;
    (void)user;
    results[0].i32 = args[0].value.i32 * args[1].value.i32;
    return 0;
}

static int hf_repeat(wasmplug_hostcall *call, void *user, const uint8_t *in, size_t len)
{
    (void)user;
    if (len == 3 && memcmp(in, "bad", 3) == 0) {
        static const char msg[] = "bad input, a message longer than one chunk of 128 bytes: "
                                  "0123456789012345678901234567890123456789012345678901234567890123456789";
        wasmplug_hostcall_write(call, msg, sizeof msg - 1);
        return 7;
    }
    for (int i = 0; i < 100; i++)
        if (wasmplug_hostcall_write(call, in, len) != WASMPLUG_OK)
            return -1;
    return 0;
}

static void test_c_checks(const char *file)
{
    printf("-- %s\n", file);
    wasmplug_host *h = new_host();
    CHECK_STATUS(wasmplug_host_register(h, "env", "mul", "(ii)i", hf_mul, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_host_register_bytes(h, "env", "repeat", hf_repeat, NULL, NULL),
                 WASMPLUG_OK);
    CHECK_STATUS(wasmplug_host_grant(h, "*", "env.*"), WASMPLUG_OK);
    static const char *const exports[] = {"roundtrip", "config", "churn", "add", "host_calls"};
    static const wasmplug_kv cfg[] = {{"n", "-42"}, {"flag", "yes"}, {"s", "tab\there"}};
    spec s = {file, exports, 5, NULL, 0, cfg, 3, 0};
    wasmplug_plugin *p = load(h, "cc", &s);
    if (p) {
        /* Host functions: typed, and bytes with a 300-byte result (more than
         * the PDK's first 256-byte buffer: the rest through result_read). */
        char want[400] = "42:";
        for (int i = 0; i < 100; i++)
            strcat(want, "abc");
        EXPECT_OUT(p, "host_calls", "abc", want);
        char small[120] = "42:"; /* 100 bytes: within the first buffer */
        for (int i = 0; i < 100; i++)
            strcat(small, "x");
        EXPECT_OUT(p, "host_calls", "x", small);
        EXPECT_ERR(p, "host_calls", "bad", WASMPLUG_ERR_PLUGIN,
                   "env.repeat failed: bad input, a message longer than one chunk of 128 bytes: "
                   "0123456789012345678901234567890123456789012345678901234567890123456789");
        EXPECT_OUT(p, "roundtrip",
                   " {\"a\" : [1, -2.5, 1e3, 0.125, \"\\u00e9\\ud83d\\ude00\\n\\\"\\/\", true, "
                   "null, {}], \"b\":{\"c\":[]}} ",
                   "{\"a\":[1,-2.5,1000,0.125,\"é😀\\n\\\"/\",true,null,{}],\"b\":{\"c\":[]}}");
        EXPECT_ERR(p, "roundtrip", "[1,]", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: unexpected character at byte 3");
        EXPECT_ERR(p, "roundtrip", "{\"a\":1} x", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: trailing characters at byte 8");
        EXPECT_ERR(p, "roundtrip", "\"\\q\"", WASMPLUG_ERR_PLUGIN, "bad escape in string");
        /* Over the PDK's WP_MAX_INPUT (64 KiB here), under the host's limit. */
        {
            char *big = malloc(70001);
            memset(big, ' ', 70000);
            big[0] = '1';
            big[70000] = '\0';
            EXPECT_ERR(p, "roundtrip", big, WASMPLUG_ERR_PLUGIN, "input too large");
            big[65535] = '\0';
            EXPECT_OUT(p, "roundtrip", big, "1");
            free(big);
        }
        EXPECT_OUT(p, "config", "",
                   "{\"int\":-42,\"flag\":true,\"s\":\"tab\\there\",\"num\":-2.5}");
        CHECK(last_log_level == WASMPLUG_LOG_WARN && strcmp(last_log, "config read") == 0);
        /* 1 MiB of arena per call, 64 calls: memory must stay bounded. */
        for (int i = 0; i < 64; i++)
            EXPECT_OUT(p, "churn", "", "ok");
        wasmplug_metrics mt;
        CHECK(wasmplug_plugin_get_metrics(p, &mt) == WASMPLUG_OK && mt.memory_pages_max < 64);
        wasmplug_val args[2] = {{.type = WASMPLUG_I32, .of = {.i32 = 40}}, {.type = WASMPLUG_I32, .of = {.i32 = 2}}};
        wasmplug_val res[1];
        CHECK_STATUS(wasmplug_plugin_call_typed(p, "add", args, 2, res, 1, NULL), WASMPLUG_OK);
        CHECK_EQ(res[0].of.i32, 42);
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv bad[] = {{"n", "12abc"}};
    s.config = bad;
    s.config_count = 1;
    p = load(h, "cc-bad", &s);
    if (p) {
        EXPECT_ERR(p, "config", "", WASMPLUG_ERR_PLUGIN, "config n: not an integer: 12abc");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

static void test_as_checks(void)
{
    printf("-- as_checks\n");
    wasmplug_host *h = new_host();
    static const char *const exports[] = {"echo", "reverse", "failing", "boom"};
    static const wasmplug_kv defaults[] = {{"greeting", "hello"}};
    spec s = {"as_checks", exports, 4, defaults, 1, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "asc", &s);
    if (p) {
        EXPECT_OUT(p, "echo", "{\"a\":[1,2.5,-3e2,\"x\\u00e9\\n\\\"\"],\"b\":{\"c\":null,\"d\":true}}",
                   "{\"in\":{\"a\":[1,2.5,-300,\"xé\\n\\\"\"],\"b\":{\"c\":null,\"d\":true}},"
                   "\"greeting\":\"hello\",\"abi\":1}");
        CHECK(last_log_level == WASMPLUG_LOG_WARN && strcmp(last_log, "echo called") == 0);
        EXPECT_OUT(p, "reverse", "héllo", "olléh");
        EXPECT_ERR(p, "echo", "{\"a\" 1}", WASMPLUG_ERR_PLUGIN,
                   "invalid JSON input: expected ':' at 5");
        EXPECT_ERR(p, "failing", "", WASMPLUG_ERR_PLUGIN, "custom failure");
        wasmplug_plugin_error e;
        CHECK(wasmplug_plugin_last_error(p, &e) == WASMPLUG_OK && e.plugin_code == 7);
        /* assert -> env.abort replaced by wasmplugAbort: error log + trap. */
        EXPECT_ERR(p, "boom", "", WASMPLUG_ERR_TRAP, "unreachable");
        CHECK(last_log_level == WASMPLUG_LOG_ERROR &&
              strstr(last_log, "abort: kaboom at as_checks.ts:") != NULL);
        /* The instance was replaced after the trap; calls go on. */
        EXPECT_OUT(p, "reverse", "ab", "ba");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

/* ------------------------------------------------------------------------ */
/* Templates                                                                */
/* ------------------------------------------------------------------------ */

/* Whether the plugin file has a "name" section (named backtraces). */
static bool has_name_section(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.wasm", plugin_dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    static uint8_t buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const uint8_t *sec;
    size_t len;
    return wasmplug_binary_custom_section(buf, n, "name", &sec, &len) == WASMPLUG_OK && len > 0;
}

static void test_template(const char *file)
{
    printf("-- %s\n", file);
    /* Release builds keep function names for backtraces (docs/ABI.md). */
    CHECK(has_name_section(file));
    wasmplug_host *h = new_host();
    static const char *const exports[] = {"greet"};
    static const wasmplug_kv defaults[] = {{"greeting", "Hello"}};
    spec s = {file, exports, 1, defaults, 1, NULL, 0, 0};
    wasmplug_plugin *p = load(h, "tpl", &s);
    if (p) {
        EXPECT_OUT(p, "greet", "{\"name\":\"Ada\"}", "{\"message\":\"Hello, Ada!\"}");
        CHECK(strcmp(last_log, "greeted") == 0 && last_log_level == WASMPLUG_LOG_INFO);
        EXPECT_OUT(p, "greet", "{\"name\":\"Zoë \\\"Z\\\"\"}",
                   "{\"message\":\"Hello, Zoë \\\"Z\\\"!\"}");
        EXPECT_ERR(p, "greet", "{\"nom\":\"Ada\"}", WASMPLUG_ERR_PLUGIN,
                   "input needs a string \"name\"");
        EXPECT_ERR(p, "greet", "{name}", WASMPLUG_ERR_PLUGIN, "invalid JSON input");
        measure(p, file, "greet", "{\"name\":\"Ada\"}", 2000);
        wasmplug_plugin_release(p);
    }
    static const wasmplug_kv cfg[] = {{"greeting", "Hi"}};
    s.config = cfg;
    s.config_count = 1;
    p = load(h, "tpl-hi", &s);
    if (p) {
        EXPECT_OUT(p, "greet", "{\"name\":\"Ada\"}", "{\"message\":\"Hi, Ada!\"}");
        wasmplug_plugin_release(p);
    }
    wasmplug_host_free(h);
}

int main(int argc, char **argv)
{
    bounds = test_bounds(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: test_pdk [--bounds MODE] PLUGIN_DIR NAME...\n");
        return 2;
    }
    plugin_dir = argv[1];
    have_names = argv + 2;
    have_count = argc - 2;
    printf("bounds mode: %s\n", test_bounds_name(bounds));

    if (have("word_counter"))
        test_word_counter("word_counter");
    if (have("word_counter_freestanding"))
        test_word_counter("word_counter_freestanding");
    if (have("sentiment_analyzer"))
        test_sentiment("sentiment_analyzer", 3000);
    if (have("sentiment_analyzer_incremental"))
        test_sentiment("sentiment_analyzer_incremental", 3000);
    if (have("sentiment_analyzer_stub"))
        test_sentiment("sentiment_analyzer_stub", 500);
    if (have("json_transformer"))
        test_json_transformer();
    if (have("file_icons"))
        test_file_icons();
    if (have("event_counter_compat"))
        test_event_counter();
    if (have("serde_plugin"))
        test_serde();
    if (have("c_checks"))
        test_c_checks("c_checks");
    if (have("c_checks_wasi"))
        test_c_checks("c_checks_wasi");
    if (have("as_checks"))
        test_as_checks();
    static const char *const templates[] = {"tpl_c", "tpl_c_wasi", "tpl_assemblyscript",
                                            "tpl_rust", "tpl_zig"};
    for (size_t i = 0; i < sizeof templates / sizeof *templates; i++)
        if (have(templates[i]))
            test_template(templates[i]);

    printf("\n%-44s %10s %14s\n", "plugin.function", "size (B)", "mean call (us)");
    for (int i = 0; i < perf_count; i++)
        printf("%-44s %10ld %14.2f\n", perf[i].name, perf[i].size, perf[i].mean_us);
    printf("\n");
    return test_done();
}
