/*
 * ev_sink.c - an event subscriber for the bus tests (ABI v1, freestanding
 * C). on_event reads the event (or a JSON array of events) and counts it;
 * an event whose payload holds "fail" makes it return an error, "trap"
 * makes it trap, "echo" makes it answer with its input (a request's
 * reply). `stats` outputs "<events> <calls> <batches> <max hops>".
 */
#include "ev_plugin.h"

IMPORT("input_read") int32_t input_read(void *ptr, int32_t len, int32_t offset);
IMPORT("output_write") int32_t output_write(const void *ptr, int32_t len);
IMPORT("error_set") void error_set(const void *ptr, int32_t len);

static char buf[1 << 16];
static int32_t events, calls, batches, max_hops;

/* Occurrences of needle in buf[0..len). */
static int32_t count(int32_t len, const char *needle)
{
    int32_t n = 0, nl = 0;
    while (needle[nl])
        nl++;
    for (int32_t i = 0; i + nl <= len; i++) {
        int32_t k = 0;
        while (k < nl && buf[i + k] == needle[k])
            k++;
        if (k == nl)
            n++;
    }
    return n;
}

EXPORT("on_event") int32_t on_event(void)
{
    int32_t len = input_read(buf, sizeof buf, 0);
    calls++;
    if (len > 0 && buf[0] == '[')
        batches++;
    events += count(len, "\"topic\":");
    for (int32_t h = max_hops + 1; h < 10; h++) {
        char pat[] = "\"hops\":0";
        pat[7] = (char)('0' + h);
        if (count(len, pat))
            max_hops = h;
    }
    if (count(len, "\"fail\"")) {
        error_set("asked to fail", 13);
        return 3;
    }
    if (count(len, "\"trap\""))
        __builtin_trap();
    if (count(len, "\"echo\""))
        output_write(buf, len);
    return 0;
}

EXPORT("stats") int32_t stats(void)
{
    char out[64];
    int32_t o = put_int(out, events);
    out[o++] = ' ';
    o += put_int(out + o, calls);
    out[o++] = ' ';
    o += put_int(out + o, batches);
    out[o++] = ' ';
    o += put_int(out + o, max_hops);
    output_write(out, o);
    return 0;
}
