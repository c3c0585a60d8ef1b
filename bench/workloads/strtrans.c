/*
 * strtrans.c - a string/memcpy-heavy transform, like a json-transformer or
 * log-rewriting plugin: build a 32 KiB document of "key=value;" records
 * (number formatting, copies of variable-length words), rewrite it (";" ->
 * ", ", "=" -> ": ", runs copied with memcpy), upper-case it, reverse every
 * line, base64-encode it, rotate the result with memmove and hash it.
 * One unit = one document.
 */
#include "workload.h"

#define DOC_SIZE (32u * 1024u)

static char doc[DOC_SIZE + 256];
static char out[DOC_SIZE * 2 + 256];
static char b64[DOC_SIZE * 3 + 256];

static const char *const words[] = {
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
};
static const uint8_t word_len[] = {5, 5, 7, 5, 4, 7, 4, 5, 5, 7, 4, 4, 4, 8, 5, 4};

static uint32_t put(char *dst, uint32_t pos, const char *s, uint32_t len)
{
    wl_memcpy(dst + pos, s, len);
    return pos + len;
}

static uint32_t put_uint(char *dst, uint32_t pos, uint32_t v)
{
    char tmp[10];
    uint32_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        dst[pos++] = tmp[--n];
    return pos;
}

static uint32_t build(uint64_t seed)
{
    uint32_t pos = 0;
    while (pos < DOC_SIZE) {
        uint32_t r = wl_rand32(&seed);
        const char *w1 = words[r & 15], *w2 = words[(r >> 4) & 15], *w3 = words[(r >> 8) & 15];
        pos = put(doc, pos, "id=", 3);
        pos = put_uint(doc, pos, wl_rand32(&seed));
        pos = put(doc, pos, ";name=", 6);
        pos = put(doc, pos, w1, word_len[r & 15]);
        pos = put(doc, pos, ";path=/usr/share/", 17);
        pos = put(doc, pos, w2, word_len[(r >> 4) & 15]);
        doc[pos++] = '/';
        pos = put(doc, pos, w3, word_len[(r >> 8) & 15]);
        pos = put(doc, pos, ".txt;size=", 10);
        pos = put_uint(doc, pos, r >> 12);
        doc[pos++] = '\n';
    }
    return pos;
}

/* Copy runs between separators with memcpy, expanding ';' and '='. */
static uint32_t rewrite(uint32_t len)
{
    uint32_t o = 0, start = 0;
    for (uint32_t i = 0; i < len; i++) {
        char c = doc[i];
        if (c != ';' && c != '=')
            continue;
        o = put(out, o, doc + start, i - start);
        out[o++] = c == ';' ? ',' : ':';
        out[o++] = ' ';
        start = i + 1;
    }
    return put(out, o, doc + start, len - start);
}

static void upper_and_reverse_lines(uint32_t len)
{
    uint32_t start = 0;
    for (uint32_t i = 0; i <= len; i++) {
        if (i < len && out[i] != '\n') {
            uint8_t c = (uint8_t)out[i];
            if ((uint8_t)(c - 'a') < 26)
                out[i] = (char)(c - 32);
            continue;
        }
        for (uint32_t a = start, b = i; a + 1 < b; a++, b--) {
            char t = out[a];
            out[a] = out[b - 1];
            out[b - 1] = t;
        }
        start = i + 1;
    }
}

static uint32_t base64(uint32_t len)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)(uint8_t)out[i] << 16 | (uint32_t)(uint8_t)out[i + 1] << 8 |
                     (uint8_t)out[i + 2];
        b64[o++] = tab[v >> 18];
        b64[o++] = tab[(v >> 12) & 63];
        b64[o++] = tab[(v >> 6) & 63];
        b64[o++] = tab[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)(uint8_t)out[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)(uint8_t)out[i + 1] << 8;
        b64[o++] = tab[v >> 18];
        b64[o++] = tab[(v >> 12) & 63];
        b64[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        b64[o++] = '=';
    }
    return o;
}

/* Rotate b64[0..len) left by k with overlapping moves through a scratch area. */
static void rotate(uint32_t len, uint32_t k)
{
    char *scratch = doc; /* free again at this point */
    wl_memcpy(scratch, b64, k);
    wl_memmove(b64, b64 + k, len - k);
    wl_memcpy(b64 + len - k, scratch, k);
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        uint32_t len = build(wl_seed(u));
        len = rewrite(len);
        upper_and_reverse_lines(len);
        len = base64(len);
        rotate(len, 1 + (u * 977u) % (DOC_SIZE - 1));
        uint32_t h = 2166136261u;
        for (uint32_t i = 0; i < len; i++)
            h = (h ^ (uint8_t)b64[i]) * 16777619u;
        sum = wl_mix(sum, (uint64_t)h << 32 | len);
    }
    return sum;
}

WL_ENTRY()
