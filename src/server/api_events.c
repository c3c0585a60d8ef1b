/*
 * api_events.c - the event bus of `wasmplug serve`: publish as the host
 * (POST /v1/events/{topic}, body = the payload JSON), the bus's topics,
 * subscriptions and counters (GET /v1/events), and the dead letters (GET,
 * and DELETE to empty the list).
 */
#include "api.h"

#include <string.h>

/* Largest event payload accepted over HTTP (the bus's default max_payload). */
#define EVENT_BODY_MAX (1u << 20)

static void publish(server_request *req)
{
    serve_app *app = server_app(req);
    size_t len;
    const uint8_t *body = server_body(req, &len);
    uint64_t id = 0;
    wasmplug_plugin_error err;
    wasmplug_status st = wasmplug_bus_publish(app->bus, server_param(req, "topic"),
                                              (const char *)body, len, &id, &err);
    if (st != WASMPLUG_OK) {
        /* A malformed payload or topic is the request's fault. */
        if (st == WASMPLUG_ERR_SERIALIZATION || st == WASMPLUG_ERR_ARGUMENT)
            st = WASMPLUG_ERR_ARGUMENT;
        serve_api_fail(req, st, &err);
        return;
    }
    server_respond_json(req, 202, json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
}

static void overview(server_request *req)
{
    serve_app *app = server_app(req);
    wasmplug_bus_stats bs;
    wasmplug_bus_get_stats(app->bus, &bs);
    json_t *stats = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
                              "published", (json_int_t)bs.published, "publish_errors",
                              (json_int_t)bs.publish_errors, "hop_limited",
                              (json_int_t)bs.hop_limited, "requests", (json_int_t)bs.requests,
                              "replies", (json_int_t)bs.replies, "request_timeouts",
                              (json_int_t)bs.request_timeouts, "dead_letters",
                              (json_int_t)bs.dead_letters, "dead_letters_evicted",
                              (json_int_t)bs.dead_letters_evicted, "uncommitted",
                              (json_int_t)bs.uncommitted, "subscriptions", (int)bs.subscriptions,
                              "topics", (int)bs.topics);
    json_t *topics = json_array();
    wasmplug_topic_stats *ts = NULL;
    size_t nt = 0;
    if (wasmplug_bus_list_topics(app->bus, &ts, &nt) == WASMPLUG_OK)
        for (size_t i = 0; i < nt; i++)
            json_array_append_new(
                topics, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "topic", ts[i].topic,
                                  "published", (json_int_t)ts[i].published, "delivered",
                                  (json_int_t)ts[i].delivered, "dropped",
                                  (json_int_t)ts[i].dropped, "failed", (json_int_t)ts[i].failed,
                                  "unmatched", (json_int_t)ts[i].unmatched));
    wasmplug_free(ts);
    json_t *subs = json_array();
    wasmplug_subscription_stats *ss = NULL;
    size_t ns = 0;
    if (wasmplug_bus_list_subscriptions(app->bus, &ss, &ns) == WASMPLUG_OK)
        for (size_t i = 0; i < ns; i++)
            json_array_append_new(
                subs, json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:i, s:i, s:I, s:I}",
                                "id", (json_int_t)ss[i].id, "pattern", ss[i].pattern,
                                "subscriber", ss[i].subscriber, "enqueued",
                                (json_int_t)ss[i].enqueued, "delivered",
                                (json_int_t)ss[i].delivered, "dropped", (json_int_t)ss[i].dropped,
                                "rejected", (json_int_t)ss[i].rejected, "failed",
                                (json_int_t)ss[i].failed, "queue_depth", (int)ss[i].queue_depth,
                                "queue_max", (int)ss[i].queue_max, "latency_p50_ns",
                                (json_int_t)ss[i].latency_p50_ns, "latency_p99_ns",
                                (json_int_t)ss[i].latency_p99_ns));
    wasmplug_free(ss);
    server_respond_json(req, 200, json_pack("{s:b, s:o, s:o, s:o}", "ok", 1, "stats", stats,
                                            "topics", topics, "subscriptions", subs));
}

static void dead_letters(server_request *req)
{
    serve_app *app = server_app(req);
    bool clear = !strcmp(server_method(req), "DELETE");
    wasmplug_dead_letter *dl = NULL;
    size_t n = 0;
    if (wasmplug_bus_dead_letters(app->bus, clear, &dl, &n) != WASMPLUG_OK) {
        server_respond_error(req, 500, "internal", NULL, "out of memory");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_error_t je;
        json_t *event = dl[i].json ? json_loads(dl[i].json, JSON_DECODE_ANY, &je) : NULL;
        json_array_append_new(
            arr, json_pack("{s:I, s:s, s:s, s:I, s:I, s:i, s:s, s:s, s:o?}", "subscription",
                           (json_int_t)dl[i].subscription, "subscriber", dl[i].subscriber,
                           "topic", dl[i].topic, "event_id", (json_int_t)dl[i].event_id,
                           "time_ms", (json_int_t)dl[i].time_ms, "attempts", (int)dl[i].attempts,
                           "kind", wasmplug_status_name(dl[i].code), "error", dl[i].error,
                           "event", event));
    }
    wasmplug_bus_dead_letters_free(dl, n);
    server_respond_json(req, 200, json_pack("{s:b, s:b, s:o}", "ok", 1, "cleared", clear,
                                            "dead_letters", arr));
}

const server_route api_events_routes[] = {
    {"GET", "/v1/events", SERVER_AUTH_READ, 0, overview},
    {"POST", "/v1/events/{topic}", SERVER_AUTH_WRITE, EVENT_BODY_MAX, publish},
    {"GET", "/v1/dead-letters", SERVER_AUTH_READ, 0, dead_letters},
    {"DELETE", "/v1/dead-letters", SERVER_AUTH_WRITE, 0, dead_letters},
    {0},
};
