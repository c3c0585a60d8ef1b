/*
 * term.c - escaping untrusted text for a terminal (see term.h): a UTF-8
 * decoder that copies what is safe and writes visible escapes for the rest.
 */
#include "term.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Output never grows past 4 bytes per input byte ("\xNN"); a 2-byte C1
 * control becomes 6 ("\u0085"), a 3-byte override 6 too. */
#define GROWTH 4

static const char HEX[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (n bytes available): 1..4; 0 if
 * it is invalid; -1 if the n bytes are a valid but incomplete start. */
static int utf8_length(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    int need;
    unsigned char lo = 0x80, hi = 0xBF; /* the range of the second byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        need = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 3;
        if (b == 0xE0)
            lo = 0xA0; /* no overlong forms */
        else if (b == 0xED)
            hi = 0x9F; /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 4;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    for (int k = 1; k < need; k++) {
        if ((size_t)k >= n)
            return -1;
        unsigned char c = s[k];
        if (k == 1 ? (c < lo || c > hi) : (c & 0xC0) != 0x80)
            return 0;
    }
    return need;
}

static uint32_t utf8_decode(const unsigned char *s, int len)
{
    if (len == 1)
        return s[0];
    uint32_t cp = s[0] & (0x7F >> len);
    for (int k = 1; k < len; k++)
        cp = (cp << 6) | (s[k] & 0x3F);
    return cp;
}

static bool is_bidi_control(uint32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

static char *put_byte_escape(char *o, unsigned char b)
{
    *o++ = '\\';
    *o++ = 'x';
    *o++ = HEX[b >> 4];
    *o++ = HEX[b & 15];
    return o;
}

/* Escape s[0..len) into out (room for GROWTH * len bytes); returns the end.
 * Unless final, an incomplete sequence at the end is left for the next
 * call: *used says how many bytes were consumed. */
static char *escape_into(char *o, const unsigned char *s, size_t len, term_mode mode, bool final,
                         size_t *used)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        if (b >= 0x20 && b < 0x7F) { /* printable ASCII: the common case */
            if (b == '\\' && mode == TERM_FIELD)
                *o++ = '\\';
            *o++ = (char)b;
            i++;
            continue;
        }
        if (b < 0x80) { /* C0 control or DEL */
            if ((b == '\n' || b == '\t') && mode == TERM_TEXT) {
                *o++ = (char)b;
            } else if (b == '\n' || b == '\r' || b == '\t' || b == 0x1B) {
                *o++ = '\\';
                *o++ = b == '\n' ? 'n' : b == '\r' ? 'r' : b == '\t' ? 't' : 'e';
            } else {
                o = put_byte_escape(o, b);
            }
            i++;
            continue;
        }
        int n = utf8_length(s + i, len - i);
        if (n < 0 && !final)
            break; /* the rest arrives with the next write */
        if (n <= 0) {
            o = put_byte_escape(o, b);
            i++;
            continue;
        }
        uint32_t cp = utf8_decode(s + i, n);
        if ((cp >= 0x80 && cp <= 0x9F) || is_bidi_control(cp)) {
            *o++ = '\\';
            *o++ = 'u';
            for (int shift = 12; shift >= 0; shift -= 4)
                *o++ = HEX[(cp >> shift) & 15];
        } else {
            memcpy(o, s + i, (size_t)n);
            o += n;
        }
        i += (size_t)n;
    }
    *used = i;
    return o;
}

char *term_escape(const void *s, size_t len, term_mode mode)
{
    if (len > (SIZE_MAX - 1) / GROWTH)
        return NULL;
    char *out = malloc(len * GROWTH + 1);
    if (!out)
        return NULL;
    size_t used;
    char *end = escape_into(out, s ? s : "", len, mode, true, &used);
    *end = 0;
    return out;
}

const char *term_fieldn(const void *s, size_t len)
{
    static char *ring[8];
    static unsigned next;
    char *e = term_escape(s, s ? len : 0, TERM_FIELD);
    if (!e)
        return "?";
    unsigned k = next++ % 8;
    free(ring[k]);
    ring[k] = e;
    return e;
}

const char *term_field(const char *s)
{
    return term_fieldn(s, s ? strlen(s) : 0);
}

void term_stream_init(term_stream *ts, FILE *out, term_mode mode)
{
    ts->out = out;
    ts->mode = mode;
    ts->nheld = 0;
}

void term_stream_write(term_stream *ts, const void *data, size_t len)
{
    const unsigned char *p = data;
    /* Complete a held sequence first (it needs at most 3 more bytes). */
    while (ts->nheld && len) {
        ts->held[ts->nheld++] = *p++;
        len--;
        char buf[4 * GROWTH];
        size_t used;
        char *end = escape_into(buf, ts->held, ts->nheld, ts->mode, false, &used);
        fwrite(buf, 1, (size_t)(end - buf), ts->out);
        memmove(ts->held, ts->held + used, ts->nheld - used);
        ts->nheld -= used;
    }
    char buf[1024 * GROWTH];
    while (len) {
        size_t take = len < 1024 ? len : 1024, used;
        char *end = escape_into(buf, p, take, ts->mode, false, &used);
        fwrite(buf, 1, (size_t)(end - buf), ts->out);
        if (used < take && take == len) { /* an incomplete sequence at the very end */
            ts->nheld = take - used;
            memcpy(ts->held, p + used, ts->nheld);
            return;
        }
        /* An incomplete sequence cut by the chunk boundary starts the next chunk. */
        p += used;
        len -= used;
    }
}

void term_stream_finish(term_stream *ts)
{
    if (!ts->nheld)
        return;
    char buf[4 * GROWTH];
    size_t used;
    char *end = escape_into(buf, ts->held, ts->nheld, ts->mode, true, &used);
    fwrite(buf, 1, (size_t)(end - buf), ts->out);
    ts->nheld = 0;
}

bool term_is_tty(FILE *f)
{
    return isatty(fileno(f)) == 1;
}
