/*
 * ev_pub.c - a plugin that publishes through the event bus imports (ABI v1,
 * freestanding C), for the import tests. Inputs are lines:
 *   publish          "topic\npayload" -> "<rc>" or "<rc> <message>"
 *   publish_fail     publishes, then fails the call (return 1)
 *   publish_trap     publishes, then traps
 *   publish_bad_ptr  passes a topic pointer outside memory
 *   request          "topic\ntimeout_ms\npayload" -> "<rc> <reply or message>"
 *   request_bad_ptr  passes a payload pointer outside memory
 *   on_event         republishes on cycle.a (a publish cycle when subscribed
 *                    to cycle.*), ignoring errors
 */
#include "ev_plugin.h"

IMPORT("input_read") int32_t input_read(void *ptr, int32_t len, int32_t offset);
IMPORT("output_write") int32_t output_write(const void *ptr, int32_t len);
IMPORT("result_read") int32_t result_read(void *ptr, int32_t len, int32_t offset);
IMPORT("event_publish") int32_t event_publish(const void *topic, int32_t topic_len,
                                              const void *payload, int32_t payload_len);
IMPORT("event_request") int32_t event_request(const void *topic, int32_t topic_len,
                                              const void *payload, int32_t payload_len,
                                              int32_t timeout_ms);

static char in[4096], out[4096];
static int32_t in_len;

static void read_input(void)
{
    in_len = input_read(in, sizeof in, 0);
}

/* The offset of the n-th line (0-based) of the input, its length in *len. */
static int32_t line(int32_t n, int32_t *len)
{
    int32_t start = 0;
    for (int32_t i = 0; i < in_len && n > 0; i++)
        if (in[i] == '\n') {
            start = i + 1;
            n--;
        }
    int32_t end = start;
    while (end < in_len && in[end] != '\n')
        end++;
    *len = end - start;
    return start;
}

/* The rest of the input from line n on. */
static int32_t rest(int32_t n, int32_t *len)
{
    int32_t start = line(n, len);
    *len = in_len - start;
    return start;
}

/* "<rc>", and " <result>" when there is one (a reply, or an error message). */
static void report(int32_t rc)
{
    int32_t o = put_int(out, rc);
    int32_t n = result_read(out + o + 1, (int32_t)sizeof out - o - 1, 0);
    if (n > 0) {
        out[o] = ' ';
        o += 1 + n;
    }
    output_write(out, o);
}

static int32_t publish_input(void)
{
    read_input();
    int32_t tl, pl;
    int32_t t = line(0, &tl), p = rest(1, &pl);
    return event_publish(in + t, tl, in + p, pl);
}

EXPORT("publish") int32_t publish(void)
{
    report(publish_input());
    return 0;
}

EXPORT("publish_fail") int32_t publish_fail(void)
{
    publish_input();
    return 1;
}

EXPORT("publish_trap") int32_t publish_trap(void)
{
    publish_input();
    __builtin_trap();
}

EXPORT("publish_bad_ptr") int32_t publish_bad_ptr(void)
{
    return event_publish((const void *)0xfffffff0u, 64, "1", 1);
}

EXPORT("request_bad_ptr") int32_t request_bad_ptr(void)
{
    return event_request("ask.ping", 8, (const void *)0xfffffff0u, 64, 100);
}

EXPORT("request") int32_t request(void)
{
    read_input();
    int32_t tl, ml, pl;
    int32_t t = line(0, &tl), m = line(1, &ml), p = rest(2, &pl);
    int32_t timeout = 0;
    for (int32_t i = 0; i < ml; i++)
        timeout = timeout * 10 + (in[m + i] - '0');
    report(event_request(in + t, tl, in + p, pl, timeout));
    return 0;
}

EXPORT("on_event") int32_t on_event(void)
{
    event_publish("cycle.a", 7, "1", 1);
    return 0;
}
