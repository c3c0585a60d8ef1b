/*
 * cli_services.c - the host services of the commands that run plugins
 * (run, validate): attached with the plugin data directory (--data-dir),
 * notifications printed on stderr with the plugin's text escaped (term.h).
 */
#include "cli.h"

#include <wasmplug/services.h>

#include <string.h>

static void on_notify(void *user, wasmplug_plugin *plugin, wasmplug_notify_level level,
                      const char *title, size_t title_len, const char *body, size_t body_len)
{
    (void)user;
    fflush(stdout);
    fprintf(stderr, "%s[notify %s]%s %s: ",
            level >= WASMPLUG_NOTIFY_WARNING ? cli_red() : cli_green(),
            wasmplug_notify_level_string(level), cli_reset(),
            term_field(wasmplug_plugin_name(plugin)));
    fprintf(stderr, "%s", term_fieldn(title, title_len));
    if (body_len)
        fprintf(stderr, ": %s", term_fieldn(body, body_len));
    fputc('\n', stderr);
}

const char *cli_service_hint(const char *grant)
{
    if (!strcmp(grant, "kv"))
        return "storage: true";
    if (!strcmp(grant, "db"))
        return "database: true";
    if (!strcmp(grant, "notify"))
        return "notify: true";
    if (!strncmp(grant, "events.", 7))
        return "events: {publish: [...], subscribe: [...]}";
    if (!strncmp(grant, "http", 4))
        return "http: [hosts]";
    return "the service's key (docs/ABI.md)";
}

wasmplug_status cli_attach_services(wasmplug_host *h, char *msg, size_t msg_size)
{
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = G.data_dir;
    sc.on_notify = on_notify;
    return wasmplug_services_attach(h, &sc, NULL, msg, msg_size);
}
