/*
 * events_topic.c - topic and pattern syntax (UTF-8, segments, wildcards),
 * matching, and escaping untrusted topic text for messages.
 */
#include "events_internal.h"

#include <stdio.h>
#include <string.h>

void ev_escape(char *dst, size_t size, const char *text, size_t len)
{
    static const size_t shown_max = 80;
    size_t o = 0;
    for (size_t i = 0; i < len && i < shown_max; i++) {
        unsigned char c = (unsigned char)text[i];
        char tmp[5];
        size_t n;
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            tmp[0] = (char)c;
            n = 1;
        } else {
            n = (size_t)snprintf(tmp, sizeof tmp, "\\x%02x", c);
        }
        if (o + n + 1 > size)
            break;
        memcpy(dst + o, tmp, n);
        o += n;
    }
    if (len > shown_max && o + 4 <= size) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = 0;
}

/* The length of the UTF-8 sequence at s (at most avail bytes), or 0 if it
 * is not valid (overlong forms, surrogates and values past U+10FFFF too). */
static size_t utf8_sequence(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07u;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static wasmplug_status topic_error(char *msg, size_t msg_size, const char *kind,
                                   const char *topic, size_t len, size_t offset,
                                   const char *problem)
{
    if (msg && msg_size) {
        char shown[400];
        ev_escape(shown, sizeof shown, topic, len);
        snprintf(msg, msg_size, "%s '%s': %s at byte %zu", kind, shown, problem, offset);
    }
    return WASMPLUG_ERR_ARGUMENT;
}

wasmplug_status wasmplug_topic_check(const char *topic, size_t len, bool pattern, char *msg,
                                     size_t msg_size)
{
    const char *kind = pattern ? "pattern" : "topic";
    if (msg && msg_size)
        msg[0] = 0;
    if (!topic || len == 0) {
        if (msg && msg_size)
            snprintf(msg, msg_size, "%s is empty (expected dot-separated segments such "
                     "as 'content.created')", kind);
        return WASMPLUG_ERR_ARGUMENT;
    }
    if (len > WASMPLUG_TOPIC_MAX) {
        if (msg && msg_size)
            snprintf(msg, msg_size, "%s is %zu bytes long (at most %d)", kind, len,
                     WASMPLUG_TOPIC_MAX);
        return WASMPLUG_ERR_ARGUMENT;
    }
    const unsigned char *s = (const unsigned char *)topic;
    size_t segments = 1, seg_start = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '.') {
            if (i == seg_start)
                return topic_error(msg, msg_size, kind, topic, len, i, "empty segment");
            if (++segments > WASMPLUG_TOPIC_SEGMENTS_MAX) {
                if (msg && msg_size)
                    snprintf(msg, msg_size, "%s has more than %d segments", kind,
                             WASMPLUG_TOPIC_SEGMENTS_MAX);
                return WASMPLUG_ERR_ARGUMENT;
            }
            seg_start = i + 1;
            i++;
            continue;
        }
        if (c == '*' || c == '>') {
            if (!pattern)
                return topic_error(msg, msg_size, kind, topic, len, i,
                                   c == '*' ? "'*' is a wildcard, only allowed in "
                                              "subscription patterns"
                                            : "'>' is a wildcard, only allowed in "
                                              "subscription patterns");
            bool alone = i == seg_start && (i + 1 == len || s[i + 1] == '.');
            if (!alone)
                return topic_error(msg, msg_size, kind, topic, len, i,
                                   "a wildcard must be a whole segment");
            if (c == '>' && i + 1 != len)
                return topic_error(msg, msg_size, kind, topic, len, i,
                                   "'>' must be the last segment");
            i++;
            continue;
        }
        if (c < 0x20 || c == 0x7f || c == ' ')
            return topic_error(msg, msg_size, kind, topic, len, i,
                               c == ' ' ? "space" : "control character");
        size_t n = utf8_sequence(s + i, len - i);
        if (n == 0)
            return topic_error(msg, msg_size, kind, topic, len, i, "invalid UTF-8");
        i += n;
    }
    if (seg_start == len)
        return topic_error(msg, msg_size, kind, topic, len, len, "empty segment");
    return WASMPLUG_OK;
}

bool wasmplug_topic_matches(const char *pattern, const char *topic)
{
    const char *p = pattern, *t = topic;
    for (;;) {
        const char *pe = strchr(p, '.');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        if (pl == 1 && p[0] == '>')
            return *t != 0;
        if (*t == 0)
            return false;
        const char *te = strchr(t, '.');
        size_t tl = te ? (size_t)(te - t) : strlen(t);
        if (!(pl == 1 && p[0] == '*') && (pl != tl || memcmp(p, t, pl) != 0))
            return false;
        if (!pe || !te)
            return !pe && !te;
        p = pe + 1;
        t = te + 1;
    }
}
