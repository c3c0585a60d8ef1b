/*
 * event_bus_demo.c - a host that wires plugins together through the event
 * bus (include/wasmplug/events.h):
 *
 *   host "editor" --content.created--> content-indexer --index.updated--> index-stats
 *                                                        \--> host (prints it)
 *   host --stats.get (request)--> index-stats --reply--> host
 *
 * Each plugin is loaded with its plugin.yaml, which asks for its topics
 * (permissions.events), for index-stats a batched subscription, and for
 * content-indexer key-value storage, where it keeps its word counts; the
 * host attaches the services (with the bus) and its policy grants events.*
 * and kv. At the end: the subscriptions' metrics and a draining shutdown.
 *
 *   event_bus_demo PLUGIN_DIR EXAMPLES_DIR DATA_DIR
 *
 * PLUGIN_DIR holds the modules the plugin.yaml files of EXAMPLES_DIR
 * (examples/plugins) name; DATA_DIR is where plugin data is kept. Exit
 * status 0 when the statistics show every document.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <wasmplug.h>
#include <wasmplug/events.h>
#include <wasmplug/manifest.h>
#include <wasmplug/services.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const plugins[] = {"content-indexer", "index-stats"};
#define PLUGINS (sizeof plugins / sizeof plugins[0])

static const char *const documents[][2] = {
    {"doc-1", "The quick brown fox jumps over the lazy dog. The dog sleeps."},
    {"doc-2", "Plugins publish events; other plugins subscribe to events."},
    {"doc-3", "A bus carries events from one plugin to another plugin, in order."},
};
#define DOCUMENTS (sizeof documents / sizeof documents[0])

/* Plugin text on the terminal: printable ASCII as it is, other bytes as
 * \xNN (so a plugin cannot send terminal control sequences). */
static void print_untrusted(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            putchar(c);
        else
            printf("\\x%02x", c);
    }
}

/* The host's own subscriber: prints what content-indexer publishes. */
static int print_index(void *user, wasmplug_bus *bus, const wasmplug_event *events,
                       size_t count, const char **error)
{
    (void)user;
    (void)bus;
    (void)error;
    for (size_t i = 0; i < count; i++) {
        printf("  [host] %s from %s (hop %u): ", events[i].topic, events[i].source,
               events[i].hops);
        print_untrusted(events[i].payload, events[i].payload_len);
        putchar('\n');
    }
    fflush(stdout);
    return 0;
}

static wasmplug_plugin *load(wasmplug_host *host, wasmplug_bus *bus, const char *plugin_dir,
                             const char *examples_dir, const char *name,
                             wasmplug_manifest_doc **doc)
{
    char path[1024];
    wasmplug_manifest_diag diag;
    snprintf(path, sizeof path, "%s/%s/plugin.yaml", examples_dir, name);
    if (wasmplug_manifest_load(path, doc, &diag) != WASMPLUG_OK) {
        fprintf(stderr, "%s:%u:%u: %s\n", diag.file, diag.line, diag.column, diag.message);
        return NULL;
    }
    wasmplug_manifest m;
    wasmplug_manifest_to_host(*doc, &m);
    wasmplug_load_options opt = WASMPLUG_LOAD_OPTIONS_INIT;
    opt.manifest = &m;
    opt.init = true;
    snprintf(path, sizeof path, "%s/%s", plugin_dir, (*doc)->module);
    wasmplug_plugin *p = NULL;
    wasmplug_plugin_error err;
    if (wasmplug_host_load_file(host, name, path, &opt, &p, &err) != WASMPLUG_OK ||
        wasmplug_bus_subscribe_doc(bus, p, *doc, &err) != WASMPLUG_OK) {
        char text[2048];
        wasmplug_plugin_error_format(&err, text, sizeof text);
        fprintf(stderr, "%s\n", text);
        wasmplug_plugin_release(p);
        return NULL;
    }
    printf("loaded %s: subscribes to", name);
    for (size_t i = 0; i < (*doc)->subscription_count; i++)
        printf(" %s%s", (*doc)->subscriptions[i].topic,
               (*doc)->subscriptions[i].batch_max > 1 ? " (batched)" : "");
    printf("\n");
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: event_bus_demo PLUGIN_DIR EXAMPLES_DIR DATA_DIR\n");
        return 2;
    }
    wasmplug_host *host;
    wasmplug_bus *bus;
    wasmplug_plugin_error err;
    if (wasmplug_host_new(NULL, &host) != WASMPLUG_OK || wasmplug_bus_new(host, NULL, &bus))
        return 1;
    /* The services, with the bus, attached before any plugin is loaded so
     * that plugins can import wasmplug.event_publish and wasmplug.kv_*;
     * then the host policy. */
    wasmplug_services_config sc;
    wasmplug_services_config_init(&sc);
    sc.bus = bus;
    sc.data_dir = argv[3];
    char msg[256];
    if (wasmplug_services_attach(host, &sc, NULL, msg, sizeof msg) != WASMPLUG_OK) {
        fprintf(stderr, "services: %s\n", msg);
        return 1;
    }
    wasmplug_host_grant(host, "*", "events.*");
    wasmplug_host_grant(host, "*", "kv");

    wasmplug_plugin *loaded[PLUGINS] = {NULL};
    wasmplug_manifest_doc *docs[PLUGINS] = {NULL};
    int status = 0;
    for (size_t i = 0; i < PLUGINS && !status; i++)
        if (!(loaded[i] = load(host, bus, argv[1], argv[2], plugins[i], &docs[i])))
            status = 1;
    uint64_t watch = 0;
    if (!status)
        wasmplug_bus_subscribe(bus, "index.updated", NULL, print_index, NULL, &watch, NULL);

    /* The "editor" saves three documents. */
    for (size_t i = 0; i < DOCUMENTS && !status; i++) {
        char payload[256];
        int n = snprintf(payload, sizeof payload, "{\"id\":\"%s\",\"text\":\"%s\"}",
                         documents[i][0], documents[i][1]);
        printf("[editor] content.created %s\n", documents[i][0]);
        if (wasmplug_bus_publish(bus, "content.created", payload, (size_t)n, NULL, &err)) {
            fprintf(stderr, "publish: %s\n", err.message);
            status = 1;
        }
    }

    /* Ask index-stats until its batch has arrived (it waits up to 200 ms
     * for a fuller batch). */
    long long seen = -1;
    for (int attempt = 0; attempt < 100 && !status && seen < (long long)DOCUMENTS; attempt++) {
        wasmplug_buf reply;
        if (wasmplug_bus_request(bus, "stats.get", "{}", 2, 2000, &reply, &err)) {
            fprintf(stderr, "request: %s\n", err.message);
            status = 1;
            break;
        }
        const char *d = strstr((const char *)reply.data, "\"documents\":");
        seen = d ? atoll(d + 12) : -1;
        if (seen >= (long long)DOCUMENTS) {
            printf("[host] stats.get -> ");
            print_untrusted((const char *)reply.data, reply.len);
            putchar('\n');
        }
        wasmplug_buf_free(&reply);
        if (seen < (long long)DOCUMENTS) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (!status && seen != (long long)DOCUMENTS) {
        fprintf(stderr, "index-stats counted %lld documents, expected %zu\n", seen, DOCUMENTS);
        status = 1;
    }

    /* content-indexer keeps its counts in key-value storage (DATA_DIR): they
     * add up over runs. */
    if (!status) {
        wasmplug_buf out;
        if (wasmplug_plugin_call(loaded[0], "count", (const uint8_t *)"plugin", 6, &out, &err) ==
            WASMPLUG_OK) {
            printf("[host] content-indexer count plugin -> ");
            print_untrusted((const char *)out.data, out.len);
            putchar('\n');
            wasmplug_buf_free(&out);
        }
    }

    /* Metrics per subscription. */
    wasmplug_subscription_stats *subs;
    size_t count;
    if (wasmplug_bus_list_subscriptions(bus, &subs, &count) == WASMPLUG_OK) {
        printf("\n%-16s %-16s %9s %10s %8s %7s %9s %9s\n", "subscriber", "pattern", "delivered",
               "deliveries", "dropped", "failed", "p50 (us)", "p99 (us)");
        for (size_t i = 0; i < count; i++)
            printf("%-16s %-16s %9llu %10llu %8llu %7llu %9.0f %9.0f\n", subs[i].subscriber,
                   subs[i].pattern, (unsigned long long)subs[i].delivered,
                   (unsigned long long)subs[i].deliveries,
                   (unsigned long long)(subs[i].dropped + subs[i].rejected),
                   (unsigned long long)subs[i].failed, subs[i].latency_p50_ns / 1e3,
                   subs[i].latency_p99_ns / 1e3);
        wasmplug_free(subs);
    }
    wasmplug_bus_report report;
    wasmplug_bus_shutdown(bus, WASMPLUG_BUS_DRAIN, 5000, &report);
    printf("\nshutdown: drained %llu, discarded %llu, failed %llu\n",
           (unsigned long long)report.delivered, (unsigned long long)report.discarded,
           (unsigned long long)report.failed);

    for (size_t i = 0; i < PLUGINS; i++)
        wasmplug_plugin_release(loaded[i]);
    wasmplug_bus_free(bus); /* before the host: it holds plugin handles */
    wasmplug_host_free(host);
    for (size_t i = 0; i < PLUGINS; i++)
        wasmplug_manifest_doc_free(docs[i]);
    return status;
}
