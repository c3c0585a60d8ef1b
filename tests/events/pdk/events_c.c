/*
 * events_c.c - the C PDK's event API, driven by tests/pdk/test_pdk_events.c
 * (the same behaviour in every PDK: events_as.ts, events_rust.rs,
 * events_zig.zig):
 *   on_event  per event: publish pdk.echo {"lang","topic","n","hops","source"};
 *             a request is answered with {"lang","n"}
 *   ask       request pdk.service and output the reply
 *   refused   publish on forbidden.topic (not granted): output the refusal
 */
#include "wasmplug_pdk.h"

WP_ON_EVENT(echo)
{
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "lang");
    wp_jw_string(&w, "c");
    wp_jw_key(&w, "topic");
    wp_jw_string(&w, ev->topic);
    wp_jw_key(&w, "n");
    wp_jw_number(&w, wp_json_get_number(ev->payload, "n", -1));
    wp_jw_key(&w, "hops");
    wp_jw_int(&w, ev->hops);
    wp_jw_key(&w, "source");
    wp_jw_string(&w, ev->source ? ev->source : "");
    wp_jw_end_object(&w);
    int rc = wp_event_publish_n("pdk.echo", 8, w.buf.data, w.buf.len);
    if (rc < 0)
        return wp_fail(1, wp_service_result(NULL));
    if (ev->reply_to) {
        wp_jw r = {0};
        wp_jw_object(&r);
        wp_jw_key(&r, "lang");
        wp_jw_string(&r, "c");
        wp_jw_key(&r, "n");
        wp_jw_number(&r, wp_json_get_number(ev->payload, "n", -1));
        wp_jw_end_object(&r);
        wp_buf_char(&r.buf, '\0');
        wp_event_reply(ev, r.buf.data);
    }
    return 0;
}

WP_FN(ask)
{
    const char *reply;
    if (wp_event_request("pdk.service", "{\"q\":1}", 2000, &reply) < 0)
        return wp_fail(1, reply);
    wp_output_str(reply);
    return 0;
}

WP_FN(refused)
{
    int rc = wp_event_publish("forbidden.topic", "1");
    wp_output_str(rc < 0 ? "refused: " : "published");
    if (rc < 0)
        wp_output_str(wp_service_result(NULL));
    return 0;
}
