/*
 * consumer_services.c - a program outside the project that uses an
 * installed libwasmplug_services: parses a manifest (wasmplug_manifest_parse
 * and wasmplug_manifest_load), maps it to the host API, attaches the
 * services to a host, checks the grant a service import needs and reads a
 * manifest's UI contributions into a UI registry (wasmplug/ui.h). Built by
 * test-install.sh with pkg-config and with find_package.
 */
#include <wasmplug/manifest.h>
#include <wasmplug/services.h>
#include <wasmplug/ui.h>

#include <stdio.h>
#include <string.h>

static const char YAML[] = "id: consumer\nversion: 1.0.0\npermissions:\n  notify: true\n"
                           "  storage: {quota: 1MiB}\n"
                           "ui: {panels: [{id: overview, title: Overview}]}\n";

int main(int argc, char **argv)
{
    wasmplug_manifest_doc *doc = NULL;
    wasmplug_manifest_diag diag;
    if (wasmplug_manifest_parse(YAML, sizeof YAML - 1, "consumer.yaml", &doc, &diag)) {
        fprintf(stderr, "consumer: %s:%u:%u: %s\n", diag.file, diag.line, diag.column,
                diag.message);
        return 1;
    }
    /* A missing file is reported as such, by the installed library. */
    wasmplug_manifest_doc *none = NULL;
    if (wasmplug_manifest_load(argc > 1 ? argv[1] : "/nonexistent/plugin.yaml", &none, &diag) !=
        WASMPLUG_ERR_NOT_FOUND) {
        fprintf(stderr, "consumer: loading a missing manifest did not fail with ERR_NOT_FOUND\n");
        return 1;
    }
    wasmplug_manifest hm;
    wasmplug_manifest_to_host(doc, &hm);
    wasmplug_host *host = NULL;
    if (wasmplug_host_new(NULL, &host))
        return 1;
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    char msg[256];
    wasmplug_services *svc = NULL;
    if (wasmplug_services_attach(host, &sc, &svc, msg, sizeof msg)) {
        fprintf(stderr, "consumer: services: %s\n", msg);
        return 1;
    }
    const char *grant = wasmplug_host_service_fn_grant(host, "notify");
    /* The UI registry: nothing registered for a plugin that is not loaded. */
    wasmplug_ui_registry *ui = NULL;
    wasmplug_ui_kind kind;
    int ui_ok = wasmplug_ui_registry_new(host, NULL, &ui) == WASMPLUG_OK &&
                wasmplug_ui_register(ui, "consumer", doc, msg, sizeof msg) ==
                    WASMPLUG_ERR_NOT_FOUND &&
                wasmplug_ui_kind_parse("panel", &kind) && kind == WASMPLUG_UI_PANEL &&
                doc->ui_item_count == 1 &&
                strcmp(doc->ui_items[0].export_name, "render_overview") == 0;
    wasmplug_ui_registry_free(ui);
    int ok = svc && grant && strcmp(grant, "notify") == 0 && hm.permission_count == 3 &&
             strcmp(hm.permissions[1], "notify") == 0 && strcmp(hm.permissions[2], "ui") == 0 &&
             ui_ok;
    printf("wasmplug services %s: %s requests %zu permissions (%s, %s, %s); notify needs '%s'\n",
           wasmplug_version(), doc->id, hm.permission_count, hm.permissions[0],
           hm.permissions[1], hm.permission_count > 2 ? hm.permissions[2] : "-",
           grant ? grant : "?");
    wasmplug_host_free(host);
    wasmplug_manifest_doc_free(doc);
    return ok ? 0 : 1;
}
