/*
 * events_plugin.c - the bus as a host service for plugins: the imports
 * wasmplug.event_publish and wasmplug.event_request (grant
 * "events.publish:<pattern>"), publishing committed at the end of a
 * successful call, and subscriptions a plugin's manifest asks for (grant
 * "events.subscribe:<pattern>").
 *
 * The host calls the service through a small link object that outlives
 * the bus (the host frees it), so a bus freed before its host leaves no
 * dangling pointer: the link's bus pointer is cleared and in-flight
 * imports are waited for.
 */
#include "events_internal.h"
#include "services_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ev_link {
    wps_base base;            /* first: the services framework's part (base.id) */
    _Atomic(wasmplug_bus *) bus;
    _Atomic uint32_t active; /* imports and call ends using bus now */
};

/* The events a call has published so far, sent when it succeeds. */
typedef struct ev_pending {
    ev_event **events;
    size_t count, cap;
} ev_pending;

/* The granted "events.publish:<pattern>" patterns of a plugin (cached as
 * its service state: grants do not change after load). */
typedef struct ev_grants {
    char **patterns;
    size_t count;
} ev_grants;

static wasmplug_bus *link_enter(ev_link *link)
{
    atomic_fetch_add(&link->active, 1);
    wasmplug_bus *bus = atomic_load(&link->bus);
    if (!bus)
        atomic_fetch_sub(&link->active, 1);
    return bus;
}

static void link_leave(ev_link *link)
{
    atomic_fetch_sub(&link->active, 1);
}

void ev_link_detach(wasmplug_bus *bus)
{
    ev_link *link = bus->link;
    if (!link)
        return;
    atomic_store(&link->bus, NULL);
    while (atomic_load(&link->active) > 0) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    bus->link = NULL;
}

static void grants_free(ev_grants *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->count; i++)
        free(g->patterns[i]);
    free(g->patterns);
    free(g);
}

static const char PUBLISH_GRANT[] = "events.publish:";

/* The plugin's publish patterns, computed on first use. */
static ev_grants *plugin_grants(ev_link *link, wasmplug_plugin *plugin)
{
    ev_grants *g = wasmplug_plugin_service_state(plugin, link->base.id);
    if (g)
        return g;
    g = calloc(1, sizeof *g);
    char **perms = NULL;
    size_t n = 0;
    if (!g || wasmplug_plugin_permissions(plugin, &perms, &n) != WASMPLUG_OK) {
        free(g);
        return NULL;
    }
    g->patterns = calloc(n ? n : 1, sizeof *g->patterns);
    size_t plen = strlen(PUBLISH_GRANT);
    for (size_t i = 0; g->patterns && i < n; i++) {
        const char *pat = perms[i] + plen;
        if (strncmp(perms[i], PUBLISH_GRANT, plen) == 0 &&
            wasmplug_topic_check(pat, strlen(pat), true, NULL, 0) == WASMPLUG_OK &&
            (g->patterns[g->count] = strdup(pat)) != NULL)
            g->count++;
    }
    wasmplug_free(perms);
    ev_grants *kept = wasmplug_plugin_service_state_set(plugin, link->base.id, g);
    if (kept != g)
        grants_free(g);
    return kept;
}

/* Whether the plugin may publish on topic (NUL-terminated, valid). */
static bool may_publish(ev_link *link, wasmplug_plugin *plugin, const char *topic)
{
    ev_grants *g = plugin_grants(link, plugin);
    for (size_t i = 0; g && i < g->count; i++)
        if (wasmplug_topic_matches(g->patterns[i], topic))
            return true;
    return false;
}

/* A soft failure: the import returns -code and the message is the
 * result (wasmplug.result_read). */
static int soft_error(wasmplug_hostcall *call, wasmplug_slot *results, wasmplug_status code,
                      const char *message)
{
    wasmplug_hostcall_write(call, message, strlen(message));
    results[0].i32 = -(int32_t)code;
    return 0;
}

/*
 * What both imports do first: reach the bus, check the topic and its grant,
 * and find the hop count. Returns the bus (the caller ends with
 * link_leave), or NULL with the import's soft error set.
 */
static wasmplug_bus *enter_publish(ev_link *link, wasmplug_hostcall *call,
                                   const wasmplug_hostarg *topic, wasmplug_slot *results,
                                   uint32_t *hops)
{
    wasmplug_bus *bus = link_enter(link);
    if (!bus) {
        soft_error(call, results, WASMPLUG_ERR_PLUGIN_STATE,
                   "no event bus: this host attached none, or freed it");
        return NULL;
    }
    const char *name = wasmplug_hostcall_plugin_name(call);
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    if (wasmplug_topic_check((const char *)topic->ptr, topic->len, false, msg, sizeof msg)) {
        soft_error(call, results, WASMPLUG_ERR_ARGUMENT, msg);
        link_leave(link);
        return NULL;
    }
    char t[WASMPLUG_TOPIC_MAX + 1];
    memcpy(t, topic->ptr, topic->len);
    t[topic->len] = 0;
    if (!ev_is_inbox(t, topic->len) && !may_publish(link, wasmplug_hostcall_plugin(call), t)) {
        wasmplug_plugin_error e;
        ev_fail(&e, WASMPLUG_ERR_PERMISSION_DENIED, name, "wasmplug.event_publish",
                "plugin '%.60s' may not publish on '%.100s': no granted "
                "'events.publish:<pattern>' permission matches it",
                name, t);
        ev_error_record(bus, &e);
        soft_error(call, results, e.code, e.message);
        link_leave(link);
        return NULL;
    }
    uint32_t h = 0;
    *hops = ev_current_delivery(bus, name, &h) ? h + 1 : 0;
    return bus;
}

/* Keep ev (the caller's reference) in the call's state until call_end. */
static bool hold_until_call_end(ev_link *link, wasmplug_hostcall *call, ev_event *ev)
{
    void **state = wasmplug_hostcall_call_state(call, link->base.id);
    ev_pending *p = state ? *state : NULL;
    if (state && !p && (p = calloc(1, sizeof *p)) != NULL)
        *state = p;
    if (p && p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        ev_event **grown = realloc(p->events, cap * sizeof *grown);
        if (grown) {
            p->events = grown;
            p->cap = cap;
        }
    }
    if (!p || p->count == p->cap)
        return false;
    p->events[p->count++] = ev;
    return true;
}

/* wasmplug.event_publish(topic_ptr, topic_len, payload_ptr, payload_len) -> i32 */
static int import_publish(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                          wasmplug_slot *results)
{
    ev_link *link = user;
    uint32_t hops;
    wasmplug_bus *bus = enter_publish(link, call, &args[0], results, &hops);
    if (!bus)
        return 0;
    const char *topic = (const char *)args[0].ptr, *payload = (const char *)args[1].ptr;
    wasmplug_status st = WASMPLUG_OK;
    wasmplug_plugin_error err;
    if (ev_is_inbox(topic, args[0].len)) {
        /* Replies go at once: the requester is waiting now. */
        ev_reply_to_inbox(bus, topic, args[0].len, payload, args[1].len);
    } else {
        ev_event *ev;
        st = ev_prepare(bus, wasmplug_hostcall_plugin_name(call), hops, topic, args[0].len,
                        payload, args[1].len, NULL, &ev, &err);
        if (st == WASMPLUG_OK && !hold_until_call_end(link, call, ev)) {
            ev_event_unref(ev);
            st = ev_fail(&err, WASMPLUG_ERR_NOMEM, "", "", "out of memory");
        }
    }
    link_leave(link);
    if (st)
        return soft_error(call, results, st, err.message);
    results[0].i32 = 0;
    return 0;
}

/* Whether the plugin's call must stop (its timeout, a cancel). */
static wasmplug_status call_stopped(void *call)
{
    return wasmplug_hostcall_check(call);
}

/* wasmplug.event_request(topic_ptr, topic_len, payload_ptr, payload_len,
 * timeout_ms) -> i32: the reply's length (the reply is the result). */
static int import_request(wasmplug_hostcall *call, void *user, const wasmplug_hostarg *args,
                          wasmplug_slot *results)
{
    ev_link *link = user;
    uint32_t hops;
    wasmplug_bus *bus = enter_publish(link, call, &args[0], results, &hops);
    if (!bus)
        return 0;
    wasmplug_plugin_error err;
    wasmplug_buf reply = {NULL, 0};
    wasmplug_status st = ev_request(bus, wasmplug_hostcall_plugin_name(call), hops,
                                    (const char *)args[0].ptr, args[0].len,
                                    (const char *)args[1].ptr, args[1].len,
                                    (uint32_t)args[2].value.i32, call_stopped, call, &reply, &err);
    link_leave(link);
    if ((st == WASMPLUG_ERR_TIMEOUT || st == WASMPLUG_ERR_CANCELLED) &&
        wasmplug_hostcall_check(call) != WASMPLUG_OK) {
        /* The call itself is over (its timeout, a cancel, a kill). */
        wasmplug_hostcall_fail(call, wasmplug_hostcall_check(call), "%s", err.message);
        return 1;
    }
    if (st)
        return soft_error(call, results, st, err.message);
    if (reply.len > INT32_MAX ||
        wasmplug_hostcall_write(call, reply.data, reply.len) != WASMPLUG_OK) {
        wasmplug_buf_free(&reply);
        return soft_error(call, results, WASMPLUG_ERR_OUTPUT_TOO_LARGE,
                          "the reply is larger than the plugin's max_output_bytes");
    }
    results[0].i32 = (int32_t)reply.len;
    wasmplug_buf_free(&reply);
    return 0;
}

/* After every call: send what a successful call published, drop the rest. */
static wasmplug_status call_end(void *user, wasmplug_plugin *plugin, void *call_state,
                                wasmplug_status status, char *msg, size_t msg_size)
{
    ev_link *link = user;
    ev_pending *p = call_state;
    if (!p)
        return WASMPLUG_OK;
    wasmplug_bus *bus = link_enter(link);
    size_t sent = 0;
    wasmplug_status st = WASMPLUG_OK;
    if (bus && status == WASMPLUG_OK &&
        ev_publish_enter(bus, wasmplug_plugin_name(plugin), NULL)) {
        while (sent < p->count) {
            wasmplug_plugin_error err;
            wasmplug_status one = ev_dispatch(bus, p->events[sent++], NULL, &err);
            if (one == WASMPLUG_ERR_IO) {
                /* A bridged event Redis did not take: the call fails, so
                 * no publisher is told an event was sent that is not. */
                atomic_fetch_add(&bus->publish_errors, 1);
                ev_error_record(bus, &err);
                snprintf(msg, msg_size, "%s (%zu later event(s) of the call not sent)",
                         err.message, p->count - sent);
                st = WASMPLUG_ERR_IO;
                break;
            }
            if (one != WASMPLUG_OK) {
                /* The call succeeded already: the refusal (a full queue) is
                 * recorded and counted, the other subscribers got it. */
                atomic_fetch_add(&bus->publish_errors, 1);
                ev_error_record(bus, &err);
            }
        }
        ev_publish_leave(bus, WASMPLUG_OK);
    }
    if (bus) {
        atomic_fetch_add(&bus->uncommitted, p->count - sent);
        link_leave(link);
    }
    for (size_t i = sent; i < p->count; i++)
        ev_event_unref(p->events[i]);
    free(p->events);
    free(p);
    return st;
}

static void plugin_free(void *user, wasmplug_plugin *plugin, void *plugin_state)
{
    (void)user;
    (void)plugin;
    grants_free(plugin_state);
}

static void link_free(void *user)
{
    free(user);
}

static const wps_import EVENT_IMPORTS[] = {
    {"event_publish", "(pp)i", "events.publish:*", import_publish},
    {"event_request", "(ppi)i", "events.publish:*", import_request},
    {NULL, NULL, NULL, NULL}};

/* A link to bus (may be NULL) as the user of the service def's hooks. */
static wasmplug_status link_new(wasmplug_bus *bus, wasmplug_host *host,
                                wasmplug_service_def *def, char *msg, size_t msg_size)
{
    if (bus && bus->link) {
        snprintf(msg, msg_size, "the event bus is attached already");
        return WASMPLUG_ERR_DUPLICATE;
    }
    if (bus && bus->host != host) {
        snprintf(msg, msg_size, "the event bus was created for another host");
        return WASMPLUG_ERR_ARGUMENT;
    }
    ev_link *link = calloc(1, sizeof *link);
    if (!link) {
        snprintf(msg, msg_size, "out of memory");
        return WASMPLUG_ERR_NOMEM;
    }
    atomic_init(&link->bus, bus);
    def->name = "events";
    def->user = link;
    def->call_end = call_end;
    def->plugin_free = plugin_free;
    def->finalizer = link_free;
    if (bus)
        bus->link = link;
    return WASMPLUG_OK;
}

static wasmplug_status events_module_attach(wasmplug_services *svc, wasmplug_service_def *def,
                                            char *msg, size_t msg_size)
{
    return link_new(svc->cfg.bus, svc->host, def, msg, msg_size);
}

const wps_module wps_events_module = {"events", WASMPLUG_SERVICE_EVENTS, false, EVENT_IMPORTS,
                                      events_module_attach};

wasmplug_status wasmplug_bus_attach(wasmplug_bus *bus, wasmplug_plugin_error *err)
{
    if (!bus || !bus->host)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "host", "events.attach",
                       "the bus has no host to attach to");
    wasmplug_service_def def;
    memset(&def, 0, sizeof def);
    char msg[WASMPLUG_ERROR_MESSAGE_MAX];
    wasmplug_status st = link_new(bus, bus->host, &def, msg, sizeof msg);
    if (st)
        return ev_fail(err, st, "host", "events.attach", "%s", msg);
    ev_link *link = def.user;
    st = wasmplug_host_add_service(bus->host, &def, &link->base.id);
    if (st) {
        bus->link = NULL;
        free(link);
        return ev_fail(err, st, "host", "events.attach", "%s",
                       st == WASMPLUG_ERR_PLUGIN_STATE
                           ? "attach the event bus before loading plugins into the host"
                       : st == WASMPLUG_ERR_DUPLICATE
                           ? "another event bus is attached to this host"
                           : "cannot add the events service to the host");
    }
    /* From here the host owns the link (link_free). */
    for (const wps_import *im = EVENT_IMPORTS; im->name; im++) {
        st = wasmplug_host_register_service_fn(bus->host, link->base.id, im->name,
                                               im->signature, im->grant, im->fn, link);
        if (st)
            return ev_fail(err, st, "host", "events.attach", "cannot register wasmplug.%s",
                           im->name);
    }
    return WASMPLUG_OK;
}

/* ------------------------------------------------------------------------ */
/* Subscriptions from a manifest                                            */
/* ------------------------------------------------------------------------ */

wasmplug_status wasmplug_bus_subscribe_manifest(wasmplug_bus *bus, wasmplug_plugin *plugin,
                                                const wasmplug_bus_plugin_sub *subs,
                                                size_t count, wasmplug_plugin_error *err)
{
    if (!bus || !plugin || (!subs && count))
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "", "events.subscribe",
                       "no bus, plugin or subscriptions given");
    const char *name = wasmplug_plugin_name(plugin);
    /* Check every grant first: all subscriptions or none. */
    for (size_t i = 0; i < count; i++) {
        char perm[WASMPLUG_TOPIC_MAX + 32];
        const char *pattern = subs[i].pattern ? subs[i].pattern : "";
        snprintf(perm, sizeof perm, "events.subscribe:%s", pattern);
        if (!wasmplug_plugin_granted(plugin, perm))
            return ev_fail(err, WASMPLUG_ERR_PERMISSION_DENIED, name, "events.subscribe",
                           "plugin '%.60s' may not subscribe to '%.100s': it needs the "
                           "permission '%.120s' (requested in its manifest and granted by "
                           "the host policy)",
                           name, pattern, perm);
    }
    uint64_t *ids = calloc(count ? count : 1, sizeof *ids);
    if (!ids)
        return ev_fail(err, WASMPLUG_ERR_NOMEM, name, "events.subscribe", "out of memory");
    wasmplug_status st = WASMPLUG_OK;
    size_t done = 0;
    for (; done < count && st == WASMPLUG_OK; done++)
        st = wasmplug_bus_subscribe_plugin(bus, subs[done].pattern, &subs[done].options, name,
                                           subs[done].handler, &ids[done], err);
    if (st)
        for (size_t i = 0; i + 1 < done; i++)
            wasmplug_bus_unsubscribe(bus, ids[i], NULL);
    free(ids);
    return st;
}

wasmplug_status wasmplug_bus_subscribe_doc(wasmplug_bus *bus, wasmplug_plugin *plugin,
                                           const wasmplug_manifest_doc *doc,
                                           wasmplug_plugin_error *err)
{
    if (!doc)
        return ev_fail(err, WASMPLUG_ERR_ARGUMENT, "", "events.subscribe", "no manifest given");
    size_t n = doc->subscription_count;
    wasmplug_bus_plugin_sub *subs = calloc(n ? n : 1, sizeof *subs);
    if (!subs)
        return ev_fail(err, WASMPLUG_ERR_NOMEM, "", "events.subscribe", "out of memory");
    for (size_t i = 0; i < n; i++) {
        const wasmplug_manifest_subscription *m = &doc->subscriptions[i];
        subs[i].pattern = m->topic;
        subs[i].handler = m->handler;
        subs[i].options.queue_size = m->queue;
        subs[i].options.on_full = (wasmplug_bus_full_policy)m->on_full;
        subs[i].options.block_timeout_ms = m->block_timeout_ms;
        subs[i].options.batch_max = m->batch_max;
        subs[i].options.batch_window_ms = m->batch_window_ms;
        subs[i].options.retries = m->retries;
        subs[i].options.retry_backoff_ms = m->retry_backoff_ms;
        subs[i].options.group = m->group;
    }
    wasmplug_status st = wasmplug_bus_subscribe_manifest(bus, plugin, subs, n, err);
    free(subs);
    return st;
}
