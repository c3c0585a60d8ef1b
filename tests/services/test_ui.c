/*
 * test_ui.c - UI contributions (<wasmplug/ui.h>): the manifest's `ui:`
 * section with located errors, the permissions and install requests it
 * adds, registration only with the grant "ui" (scripts only with
 * "ui.scripts"), listing, panel input, renders and commands with checked
 * props and bounded input and output (too large, not UTF-8, a trap), and
 * threads calling while the plugin is registered and unregistered.
 * Plugin: tests/services/plugins/ui_widgets.c.
 */
#include "host_test.h"

#include <wasmplug/manifest.h>
#include <wasmplug/ui.h>

#include "services/grants.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char WIDGETS_YAML[] =
    "id: widgets\n"
    "version: 1.0.0\n"
    "ui:\n"
    "  panels:\n"
    "    - {id: echo, title: Echo, render: render_echo, data: [info, metrics, errors]}\n"
    "    - {id: bare, title: Bare, render: render_echo}\n"
    "    - {id: big, title: Big, render: render_big}\n"
    "    - {id: latin1, title: Latin-1, render: render_latin1}\n"
    "    - {id: crash, title: Crash, render: render_crash}\n"
    "    - {id: live, title: Live, render: render_echo, scripts: true}\n"
    "  blocks:\n"
    "    - id: card\n"
    "      title: Card\n"
    "      render: render_echo\n"
    "      props: {text: string, n: integer, tags: list}\n"
    "  commands:\n"
    "    - {id: run, title: Run, props: {x: number}}\n"
    "    - {id: plain, title: Plain, handler: run}\n";

static wasmplug_manifest_doc *parse(const char *yaml, wasmplug_manifest_diag *diag)
{
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_parse(yaml, strlen(yaml), "plugin.yaml", &doc, diag);
    return doc;
}

static bool has_perm(const wasmplug_manifest_doc *d, const char *perm)
{
    for (size_t i = 0; i < d->permissions.count; i++)
        if (!strcmp(d->permissions.items[i], perm))
            return true;
    return false;
}

static void test_manifest(void)
{
    wasmplug_manifest_diag diag;
    wasmplug_manifest_doc *d = parse(WIDGETS_YAML, &diag);
    if (!CHECK(d != NULL)) {
        printf("     %u:%u: %s\n", diag.line, diag.column, diag.message);
        return;
    }
    CHECK_EQ(d->ui_item_count, 9);
    CHECK_EQ(d->ui_items[0].kind, WASMPLUG_UI_PANEL);
    CHECK_EQ(d->ui_items[0].data.count, 3);
    CHECK(!d->ui_items[0].scripts && d->ui_items[5].scripts);
    CHECK_EQ(d->ui_items[6].kind, WASMPLUG_UI_BLOCK);
    CHECK_EQ(d->ui_items[6].prop_count, 3);
    CHECK(!strcmp(d->ui_items[6].props[1].key, "n") &&
          !strcmp(d->ui_items[6].props[1].value, "integer"));
    CHECK_EQ(d->ui_items[7].kind, WASMPLUG_UI_COMMAND);
    CHECK(!strcmp(d->ui_items[7].export_name, "run")); /* the default: the id */
    CHECK(!strcmp(d->ui_items[8].export_name, "run"));
    CHECK(has_perm(d, "ui") && has_perm(d, "ui.scripts"));
    /* What the operator is asked at install. */
    wps_requests r;
    CHECK_STATUS(wps_requests_of(d, &r), WASMPLUG_OK);
    CHECK_EQ(r.count, 2);
    if (r.count == 2) {
        CHECK(!strcmp(r.items[0].permission, "ui") && r.items[0].kind == WPS_REQ_UI);
        CHECK_CONTAINS(r.items[0].what, "contribute UI: 6 panels, 1 block type, 2 commands");
        CHECK(!strcmp(r.items[1].permission, "ui.scripts") && r.items[1].wide != NULL);
    }
    wps_requests_free(&r);
    wasmplug_manifest_doc_free(d);

    /* Defaults: render_<id> with '-' as '_'; no scripts, no ui.scripts. */
    d = parse("id: a\nversion: 1.0.0\nui: {panels: [{id: word-cloud, title: Words}]}\n", &diag);
    if (CHECK(d != NULL)) {
        CHECK(!strcmp(d->ui_items[0].export_name, "render_word_cloud"));
        CHECK(has_perm(d, "ui") && !has_perm(d, "ui.scripts"));
        wasmplug_manifest_doc_free(d);
    }
    /* No ui: no permission. */
    d = parse("id: a\nversion: 1.0.0\n", &diag);
    if (CHECK(d != NULL)) {
        CHECK(!has_perm(d, "ui") && d->ui_item_count == 0);
        wasmplug_manifest_doc_free(d);
    }

    /* Errors, each at its line and column. */
    static const struct {
        const char *yaml;
        unsigned line, column;
        const char *message;
    } bad[] = {
        {"id: a\nversion: 1.0.0\nui:\n  panels:\n    - {id: p, title: P, rendr: x}\n", 5, 25,
         "unknown key 'rendr' in a panel: did you mean 'render'?"},
        {"id: a\nversion: 1.0.0\nui:\n  panels:\n    - {id: p}\n", 5, 7,
         "a panel needs an 'id' and a 'title'"},
        {"id: a\nversion: 1.0.0\nui:\n  blocks:\n    - {id: b, title: B}\n    - {id: b, title: C}\n",
         6, 7, "a block type 'b' is declared twice"},
        {"id: a\nversion: 1.0.0\nui:\n  panels:\n    - {id: p, title: P, data: [info, secrets]}\n",
         5, 38, "'ui.panels[].data' items must be one of info, metrics, errors (got 'secrets')"},
        {"id: a\nversion: 1.0.0\nui:\n  blocks:\n    - {id: b, title: B, props: {n: int}}\n", 5,
         36, "key 'n' of a 'ui' entry's 'props' must have a type"},
        {"id: a\nversion: 1.0.0\nui:\n  panels:\n    - {id: p, title: P, scripts: maybe}\n", 5, 34,
         "'scripts' must be true or false (got 'maybe')"},
        {"id: a\nversion: 1.0.0\nui:\n  commands:\n    - {id: c, title: C, scripts: true}\n", 5,
         25, "unknown key 'scripts' in a command"},
        {"id: a\nversion: 1.0.0\nui:\n  widgets: []\n", 4, 3,
         "unknown key 'widgets' in 'ui' (expected one of: panels, blocks, commands)"},
        {"id: a\nversion: 1.0.0\nui: [panel]\n", 3, 5, "'ui' must be a mapping"},
        {"id: a\nversion: 1.0.0\nui:\n  panels: {id: p}\n", 4, 11, "'ui.panels' must be a list"},
        {"id: a\nversion: 1.0.0\nui:\n  panels:\n    - {id: -p, title: P}\n", 5, 12,
         "'ui' ids are 1-127 characters"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = parse(bad[i].yaml, &diag);
        CHECK(d == NULL);
        wasmplug_manifest_doc_free(d);
        if (!CHECK(diag.line == bad[i].line && diag.column == bad[i].column))
            printf("     case %zu: got %u:%u: %s\n", i, diag.line, diag.column, diag.message);
        if (!CHECK(strstr(diag.message, bad[i].message)))
            printf("     case %zu: got \"%s\"\n", i, diag.message);
    }
}

/* Load ui_widgets.wasm as name with doc's permissions. */
static wasmplug_plugin *load(wasmplug_host *h, const char *name, const wasmplug_manifest_doc *doc)
{
    char path[1024];
    host_test_path(path, sizeof path, "ui_widgets");
    wasmplug_manifest m;
    CHECK_STATUS(wasmplug_manifest_to_host(doc, &m), WASMPLUG_OK);
    m.id = name;
    wasmplug_load_options o = WASMPLUG_LOAD_OPTIONS_INIT;
    o.init = true;
    o.manifest = &m;
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    CHECK_CODE(wasmplug_host_load_file(h, name, path, &o, &p, &err), WASMPLUG_OK, &err);
    return p;
}

/* Render and return the HTML as a malloc'd string ("" on failure). */
static char *render(wasmplug_ui_registry *ui, const char *plugin, wasmplug_ui_kind kind,
                    const char *id, const char *in, wasmplug_status *st,
                    wasmplug_plugin_error *err)
{
    wasmplug_buf html = {(uint8_t *)"stale", 5};
    *st = wasmplug_ui_render(ui, plugin, kind, id, (const uint8_t *)in, in ? strlen(in) : 0,
                             &html, err);
    if (*st != WASMPLUG_OK)
        CHECK(html.len == 0);
    char *s = strndup(html.data ? (const char *)html.data : "", html.len);
    wasmplug_buf_free(&html);
    return s;
}

static void test_registry(void)
{
    wasmplug_manifest_diag diag;
    wasmplug_manifest_doc *doc = parse(WIDGETS_YAML, &diag);
    if (!CHECK(doc != NULL))
        return;
    wasmplug_host *h = host_test_new(NULL);
    wasmplug_ui_config cfg = {1024, 2048, 4096};
    wasmplug_ui_registry *ui = NULL;
    CHECK_STATUS(wasmplug_ui_registry_new(h, &cfg, &ui), WASMPLUG_OK);
    char msg[512];

    /* Without the grant nothing is registered. */
    wasmplug_plugin *denied = load(h, "denied", doc);
    CHECK_STATUS(wasmplug_ui_register(ui, "denied", doc, msg, sizeof msg),
                 WASMPLUG_ERR_PERMISSION_DENIED);
    CHECK_CONTAINS(msg, "plugin 'denied' contributes UI (9 entries under 'ui:') but is not "
                        "granted 'ui'");
    CHECK_STATUS(wasmplug_ui_register(ui, "nobody", doc, msg, sizeof msg), WASMPLUG_ERR_NOT_FOUND);
    CHECK_CONTAINS(msg, "plugin 'nobody' is not loaded");

    /* "ui" for every plugin, "ui.scripts" for trusted-* only. */
    CHECK_STATUS(wasmplug_host_grant(h, "*", "ui"), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_host_grant(h, "trusted-*", "ui.scripts"), WASMPLUG_OK);
    wasmplug_plugin *w = load(h, "widgets", doc), *t = load(h, "trusted-w", doc);
    CHECK_STATUS(wasmplug_ui_register(ui, "widgets", doc, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_ui_register(ui, "trusted-w", doc, msg, sizeof msg), WASMPLUG_OK);
    wasmplug_ui_contribution *list = NULL;
    size_t n = 0;
    CHECK_STATUS(wasmplug_ui_list(ui, NULL, &list, &n), WASMPLUG_OK);
    CHECK_EQ(n, 18);
    wasmplug_free(list);
    CHECK_STATUS(wasmplug_ui_list(ui, "widgets", &list, &n), WASMPLUG_OK);
    CHECK_EQ(n, 9);
    if (n == 9) {
        CHECK(!strcmp(list[0].plugin, "widgets") && !strcmp(list[0].id, "echo") &&
              !strcmp(list[0].title, "Echo") && list[0].description == NULL);
        CHECK(list[0].data_count == 3 && !strcmp(list[0].data[2], "errors"));
        CHECK(!list[5].scripts); /* asked for, not granted */
        CHECK(list[6].kind == WASMPLUG_UI_BLOCK && list[6].prop_count == 3 &&
              !strcmp(list[6].props[2].key, "tags") && !strcmp(list[6].props[2].value, "list"));
        CHECK(!strcmp(list[7].export_name, "run"));
    }
    wasmplug_free(list);
    CHECK_STATUS(wasmplug_ui_list(ui, "trusted-w", &list, &n), WASMPLUG_OK);
    CHECK(n == 9 && list[5].scripts && !list[0].scripts);
    wasmplug_free(list);
    CHECK_STATUS(wasmplug_ui_list(ui, "denied", &list, &n), WASMPLUG_OK);
    CHECK(n == 0 && list == NULL);

    wasmplug_plugin_error err;
    wasmplug_status st;
    /* Panel input: the data asked for, nothing more. */
    char *s = render(ui, "widgets", WASMPLUG_UI_PANEL, "echo", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_OK, &err);
    CHECK_CONTAINS(s, "\"panel\":\"echo\"");
    CHECK_CONTAINS(s, "\"info\":{\"name\":\"widgets\",\"id\":\"widgets\",\"version\":\"1.0.0\","
                      "\"state\":\"ready\"");
    CHECK_CONTAINS(s, "\"metrics\":{\"calls\":0,");
    CHECK_CONTAINS(s, "\"errors\":[]");
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "echo", NULL, &st, &err);
    CHECK_CONTAINS(s, "\"calls\":1,"); /* the first render counted */
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "bare", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_OK, &err);
    CHECK(!strcmp(s, "{\"panel\":\"bare\",\"plugin\":\"widgets\"}"));
    free(s);
    /* Given input is passed as it is. */
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "bare", "<p>x</p>", &st, &err);
    CHECK(st == WASMPLUG_OK && !strcmp(s, "<p>x</p>"));
    free(s);

    /* Output bounds: at most 1024 bytes of HTML, UTF-8 only. */
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "big", "1024", &st, &err);
    CHECK_CODE(st, WASMPLUG_OK, &err);
    CHECK_EQ(strlen(s), 1024);
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "big", "1025", &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_OUTPUT_TOO_LARGE, &err);
    CHECK_CONTAINS(err.message, "panel 'big' returned 1025 bytes; the most is 1024");
    CHECK(!strcmp(err.plugin, "widgets") && !strcmp(err.function, "render_big"));
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "latin1", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_SERIALIZATION, &err);
    CHECK_CONTAINS(err.message, "panel 'latin1' returned HTML that is not UTF-8 text");
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "crash", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_TRAP, &err);
    if (!CHECK(err.frame_count >= 1 && !strcmp(err.function, "render_crash")))
        printf("     %u frames, function %s\n", err.frame_count, err.function);
    free(s);
    /* Input bound: 4096 bytes. */
    char *huge = malloc(5000);
    memset(huge, ' ', 4999);
    huge[4999] = '\0';
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "bare", huge, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_INPUT_TOO_LARGE, &err);
    CHECK_CONTAINS(err.message, "input of 4999 bytes; the most is 4096");
    free(s);
    free(huge);

    /* Blocks: props checked against their declared types. */
    s = render(ui, "widgets", WASMPLUG_UI_BLOCK, "card", "{\"text\":\"hi\",\"n\":3,\"tags\":[]}",
               &st, &err);
    CHECK_CODE(st, WASMPLUG_OK, &err);
    CHECK(!strcmp(s, "{\"block\":\"card\",\"props\":{\"text\":\"hi\",\"n\":3,\"tags\":[]}}"));
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_BLOCK, "card", NULL, &st, &err);
    CHECK(st == WASMPLUG_OK && !strcmp(s, "{\"block\":\"card\",\"props\":{}}"));
    free(s);
    static const struct {
        const char *in, *message;
    } bad_props[] = {
        {"{\"n\":1.5}", "prop 'n' of block 'card' must be of type integer"},
        {"{\"text\":3}", "prop 'text' of block 'card' must be of type string"},
        {"{\"color\":\"red\"}", "prop 'color' is not one block 'card' declares"},
        {"[1]", "the props of block 'card' must be a JSON object"},
        {"{\"n\":", "the props of block 'card' are not JSON"},
    };
    for (size_t i = 0; i < sizeof bad_props / sizeof bad_props[0]; i++) {
        s = render(ui, "widgets", WASMPLUG_UI_BLOCK, "card", bad_props[i].in, &st, &err);
        CHECK_CODE(st, WASMPLUG_ERR_ARGUMENT, &err);
        if (!CHECK(strstr(err.message, bad_props[i].message)))
            printf("     case %zu: got \"%s\"\n", i, err.message);
        free(s);
    }
    /* Unknown contributions and kinds. */
    s = render(ui, "widgets", WASMPLUG_UI_PANEL, "card", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "plugin 'widgets' has no panel 'card' registered");
    free(s);
    s = render(ui, "widgets", WASMPLUG_UI_COMMAND, "run", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_ARGUMENT, &err);
    free(s);
    s = render(ui, "denied", WASMPLUG_UI_PANEL, "echo", NULL, &st, &err);
    CHECK_CODE(st, WASMPLUG_ERR_NOT_FOUND, &err);
    free(s);

    /* Commands. */
    wasmplug_buf out;
    CHECK_CODE(wasmplug_ui_command(ui, "widgets", "run", (const uint8_t *)"{\"x\":2}", 7, &out,
                                   &err),
               WASMPLUG_OK, &err);
    CHECK(out.len == 7 && !memcmp(out.data, "{\"x\":2}", 7));
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_ui_command(ui, "widgets", "run", NULL, 0, &out, &err), WASMPLUG_OK, &err);
    CHECK(out.len == 2 && !memcmp(out.data, "{}", 2));
    wasmplug_buf_free(&out);
    CHECK_CODE(wasmplug_ui_command(ui, "widgets", "run", (const uint8_t *)"{\"x\":\"2\"}", 9,
                                   &out, &err),
               WASMPLUG_ERR_ARGUMENT, &err);
    CHECK_CONTAINS(err.message, "prop 'x' of command 'run' must be of type number");
    /* Without props the input is the handler's business. */
    CHECK_CODE(wasmplug_ui_command(ui, "widgets", "plain", (const uint8_t *)"\xff", 1, &out, &err),
               WASMPLUG_OK, &err);
    CHECK(out.len == 1);
    wasmplug_buf_free(&out);

    /* A missing export fails the registration and removes what was there. */
    wasmplug_manifest_doc *missing =
        parse("id: widgets\nversion: 1.0.0\nui: {panels: [{id: p, title: P, render: nope}]}\n",
              &diag);
    CHECK_STATUS(wasmplug_ui_register(ui, "widgets", missing, msg, sizeof msg),
                 WASMPLUG_ERR_NOT_FOUND);
    CHECK_CONTAINS(msg, "panel 'p' names the export 'nope', which the module does not have");
    CHECK_STATUS(wasmplug_ui_list(ui, "widgets", &list, &n), WASMPLUG_OK);
    CHECK_EQ(n, 0);
    wasmplug_manifest_doc_free(missing);

    /* Unregister; a killed plugin's panel input is not found. */
    CHECK_EQ(wasmplug_ui_unregister(ui, "trusted-w"), 9);
    CHECK_EQ(wasmplug_ui_unregister(ui, "trusted-w"), 0);
    CHECK_STATUS(wasmplug_ui_register(ui, "widgets", doc, msg, sizeof msg), WASMPLUG_OK);
    CHECK_STATUS(wasmplug_host_kill(h, "widgets"), WASMPLUG_OK);
    wasmplug_buf json;
    CHECK_CODE(wasmplug_ui_panel_input(ui, "widgets", "echo", &json, &err),
               WASMPLUG_ERR_NOT_FOUND, &err);
    CHECK_CONTAINS(err.message, "plugin 'widgets' is not loaded");

    wasmplug_plugin_release(w);
    wasmplug_plugin_release(t);
    wasmplug_plugin_release(denied);
    wasmplug_ui_registry_free(ui);
    wasmplug_host_free(h);
    wasmplug_manifest_doc_free(doc);
}

/* Threads rendering, listing and running commands while another registers
 * and unregisters the plugin over and over: every call either works or
 * finds the contribution gone (ERR_NOT_FOUND), nothing else; TSan and ASan
 * builds check the rest. */
typedef struct race {
    wasmplug_ui_registry *ui;
    const wasmplug_manifest_doc *doc;
    atomic_bool stop;
    atomic_int ok, gone, other;
} race;

static void *race_caller(void *arg)
{
    race *r = arg;
    for (int i = 0; i < 300 && !atomic_load(&r->stop); i++) {
        wasmplug_buf out;
        wasmplug_plugin_error err;
        wasmplug_status st =
            i % 3 == 0 ? wasmplug_ui_render(r->ui, "racer", WASMPLUG_UI_PANEL, "echo", NULL, 0,
                                            &out, &err)
            : i % 3 == 1
                ? wasmplug_ui_render(r->ui, "racer", WASMPLUG_UI_BLOCK, "card",
                                     (const uint8_t *)"{\"n\":1}", 7, &out, &err)
                : wasmplug_ui_command(r->ui, "racer", "plain", (const uint8_t *)"x", 1, &out,
                                      &err);
        wasmplug_buf_free(&out);
        atomic_fetch_add(st == WASMPLUG_OK ? &r->ok
                         : st == WASMPLUG_ERR_NOT_FOUND ? &r->gone
                                                        : &r->other,
                         1);
        wasmplug_ui_contribution *list;
        size_t n;
        if (wasmplug_ui_list(r->ui, NULL, &list, &n) == WASMPLUG_OK) {
            for (size_t j = 0; j < n; j++)
                if (strcmp(list[j].plugin, "racer") || !*list[j].title)
                    atomic_fetch_add(&r->other, 1);
            wasmplug_free(list);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    wasmplug_manifest_diag diag;
    wasmplug_manifest_doc *doc = parse(WIDGETS_YAML, &diag);
    if (!CHECK(doc != NULL))
        return;
    wasmplug_host *h = host_test_new(NULL);
    CHECK_STATUS(wasmplug_host_grant(h, "*", "ui"), WASMPLUG_OK);
    wasmplug_plugin *p = load(h, "racer", doc);
    race r = {.doc = doc};
    CHECK_STATUS(wasmplug_ui_registry_new(h, NULL, &r.ui), WASMPLUG_OK);
    pthread_t callers[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&callers[i], NULL, race_caller, &r);
    for (int i = 0; i < 200; i++) {
        CHECK_STATUS(wasmplug_ui_register(r.ui, "racer", doc, NULL, 0), WASMPLUG_OK);
        if (i % 2)
            wasmplug_ui_unregister(r.ui, "racer");
    }
    for (int i = 0; i < 4; i++)
        pthread_join(callers[i], NULL);
    CHECK_EQ(atomic_load(&r.other), 0);
    CHECK(atomic_load(&r.ok) + atomic_load(&r.gone) == 4 * 300);
    wasmplug_ui_registry_free(r.ui);
    wasmplug_plugin_release(p);
    wasmplug_host_free(h);
    wasmplug_manifest_doc_free(doc);
}

static void test_kinds(void)
{
    wasmplug_ui_kind k;
    CHECK(wasmplug_ui_kind_parse("block", &k) && k == WASMPLUG_UI_BLOCK);
    CHECK(!wasmplug_ui_kind_parse("Block", &k) && !wasmplug_ui_kind_parse(NULL, &k));
    CHECK(!strcmp(wasmplug_ui_kind_string(WASMPLUG_UI_COMMAND), "command"));
    CHECK(!strcmp(wasmplug_ui_kind_string((wasmplug_ui_kind)7), "unknown"));
}

int main(int argc, char **argv)
{
    host_test_init(&argc, argv);
    test_manifest();
    test_registry();
    test_threads();
    test_kinds();
    return test_done();
}
