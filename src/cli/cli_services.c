/*
 * cli_services.c - the host services of the commands that run plugins
 * (run, validate): attached with the plugin data directory (--data-dir),
 * notifications printed on stderr with the plugin's text escaped (term.h),
 * and an event bus whose events (what the plugin publishes) are printed on
 * stderr too, escaped. With --kv-redis the key-value data is on Redis; with
 * --events-redis the bus is bridged to Redis Streams for the --bridge
 * topics (then what the plugin publishes there goes to Redis, and is not
 * printed: other hosts receive it). Both need hiredis, which only
 * wasmplug-dist links: the static command continues there.
 */
#include "cli.h"
#include "cli_dist.h"

#include <wasmplug/events.h>
#include <wasmplug/events_bridge.h>
#include <wasmplug/services.h>

#include <stdlib.h>

/* The event bus of the command's host (one host per command), and its
 * bridge to Redis (--events-redis). */
static wasmplug_bus *cli_bus;
#ifdef WASMPLUG_CLI_DIST
static wasmplug_bus_bridge *cli_bridge;
#endif

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

#ifdef WASMPLUG_CLI_DIST
/* Bridge cli_bus to --events-redis for the --bridge patterns. */
static wasmplug_status attach_bridge(char *msg, size_t msg_size)
{
    char *patterns = strdup(G.bridge && *G.bridge ? G.bridge : ">");
    const char *topics[64];
    size_t n = 0;
    for (char *save = NULL, *t = patterns ? strtok_r(patterns, ",", &save) : NULL; t && n < 64;
         t = strtok_r(NULL, ",", &save))
        topics[n++] = t;
    wasmplug_bridge_config bc;
    wasmplug_bridge_config_init(&bc);
    bc.redis_url = G.events_redis;
    bc.topics = topics;
    bc.topic_count = n;
    wasmplug_plugin_error err;
    wasmplug_status st = patterns ? wasmplug_bus_bridge_new(cli_bus, &bc, &cli_bridge, &err)
                                  : WASMPLUG_ERR_NOMEM;
    if (st != WASMPLUG_OK)
        snprintf(msg, msg_size, "--events-redis: %s",
                 patterns ? err.message : "out of memory");
    free(patterns);
    return st;
}
#endif

/* Set when cli_attach_services could not continue in wasmplug-dist. */
static bool dist_missing;

int cli_services_exit(wasmplug_status st)
{
    return dist_missing ? EXIT_INTERNAL : cli_exit_for(st);
}

wasmplug_status cli_attach_services(wasmplug_host *h, char *msg, size_t msg_size)
{
#ifndef WASMPLUG_CLI_DIST
    /* The static command has no Redis (hiredis: src/cli/CMakeLists.txt):
     * continue in wasmplug-dist (returns only when that fails, with why). */
    if (G.kv_redis || G.events_redis) {
        cli_dist_exec(msg, msg_size);
        dist_missing = true;
        return WASMPLUG_ERR_UNSUPPORTED;
    }
#endif
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.data_dir = G.data_dir;
    sc.kv_redis_url = G.kv_redis;
    sc.on_notify = on_notify;
    /* Without a bus the event imports still link but refuse to publish. */
    if (wasmplug_bus_new(h, NULL, &cli_bus) == WASMPLUG_OK) {
        /* Bridged, a catch-all subscription would read every stream. */
        if (!G.quiet && !G.events_redis)
            wasmplug_bus_subscribe(cli_bus, ">", NULL, print_event, NULL, NULL, NULL);
        sc.bus = cli_bus;
    }
#ifdef WASMPLUG_CLI_DIST
    if (cli_bus && G.events_redis) {
        wasmplug_status st = attach_bridge(msg, msg_size);
        if (st != WASMPLUG_OK)
            return st;
    }
#endif
    return wasmplug_services_attach(h, &sc, NULL, msg, msg_size);
}

void cli_detach_services(void)
{
    if (!cli_bus)
        return;
#ifdef WASMPLUG_CLI_DIST
    wasmplug_bus_bridge_free(cli_bridge, 2000);
    cli_bridge = NULL;
#endif
    /* What the plugin published is printed before the command ends. */
    wasmplug_bus_shutdown(cli_bus, WASMPLUG_BUS_DRAIN, 2000, NULL);
    wasmplug_bus_free(cli_bus);
    cli_bus = NULL;
}
