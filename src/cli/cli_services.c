/*
 * cli_services.c - the host services of the commands that run plugins
 * (run, validate): attached with the plugin data directory (--data-dir),
 * notifications printed on stderr with the plugin's text escaped (term.h),
 * and an event bus whose events (what the plugin publishes) are printed on
 * stderr too, escaped.
 */
#include "cli.h"

#include <wasmplug/events.h>
#include <wasmplug/services.h>

/* The event bus of the command's host (one host per command). */
static wasmplug_bus *cli_bus;

static int print_event(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                       size_t count, const char **error)
{
    (void)user;
    (void)bus;
    (void)error;
    for (size_t i = 0; i < count; i++) {
        fflush(stdout);
        fprintf(stderr, "%s[event %s]%s from %s: ", cli_green(), term_field(events[i].topic),
                cli_reset(), term_field(events[i].source));
        fprintf(stderr, "%s\n", term_fieldn(events[i].payload, events[i].payload_len));
    }
    return 0;
}

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
    /* Without a bus the event imports still link but refuse to publish. */
    if (wasmplug_bus_new(h, NULL, &cli_bus) == WASMPLUG_OK) {
        if (!G.quiet)
            wasmplug_bus_subscribe(cli_bus, ">", NULL, print_event, NULL, NULL, NULL);
        sc.bus = cli_bus;
    }
    return wasmplug_services_attach(h, &sc, NULL, msg, msg_size);
}

void cli_detach_services(void)
{
    if (!cli_bus)
        return;
    /* What the plugin published is printed before the command ends. */
    wasmplug_bus_shutdown(cli_bus, WASMPLUG_BUS_DRAIN, 2000, NULL);
    wasmplug_bus_free(cli_bus);
    cli_bus = NULL;
}
