/*
 * lz.c - a compression codec: an LZ77 compressor in the LZ4 block format's
 * spirit (a token byte with literal and match lengths, 255-extended
 * lengths, 16-bit offsets) with a hash-chain match finder (4-byte hashes,
 * up to 16 candidates, greedy with one step of lazy matching), and its
 * decompressor. The input is 64 KiB of generated log-like text (repeated
 * phrases, numbers, random identifiers), a different buffer every unit.
 * Byte loads and compares, hashing, table updates, short copies - what a
 * compressing plugin (archives, caches, network payloads) does.
 * One unit = compress + decompress 64 KiB and compare the result.
 */
#include "workload.h"

#define IN_SIZE (64u * 1024u)
#define OUT_CAP (IN_SIZE + IN_SIZE / 255u + 64u)
#define HASH_BITS 14
#define WINDOW 65535u
#define MAX_CHAIN 16
#define MIN_MATCH 4

static uint8_t input[IN_SIZE];
static uint8_t packed[OUT_CAP];
static uint8_t unpacked[IN_SIZE];
static int32_t head[1u << HASH_BITS];
static int32_t chain[IN_SIZE];

static const char *const words[] = {
    "GET",     "POST",    "/api/v1/users", "/api/v1/orders", "/static/app.js", "status=",
    "200",     "404",     "500",           "latency_ms=",    "user=",          "session=",
    "INFO",    "WARN",    "ERROR",         "request",        "completed",      "failed",
    "timeout", "retry",   "cache hit",     "cache miss",     "bytes=",         "client=",
};

static uint32_t append(uint32_t pos, const char *s)
{
    while (*s && pos < IN_SIZE)
        input[pos++] = (uint8_t)*s++;
    return pos;
}

static void make_input(uint64_t seed)
{
    uint32_t pos = 0;
    while (pos < IN_SIZE) {
        uint32_t r = wl_rand32(&seed);
        uint32_t kind = r & 7;
        if (kind < 5) {
            pos = append(pos, words[(r >> 3) % (sizeof words / sizeof words[0])]);
        } else if (kind < 7) {
            char digits[21];
            pos = append(pos, wl_utoa(digits, (r >> 8) % 100000u));
        } else {
            for (uint32_t i = 0; i < 6 && pos < IN_SIZE; i++)
                input[pos++] = (uint8_t)('a' + ((r >> (i * 4 + 8)) & 15));
        }
        if (pos < IN_SIZE)
            input[pos++] = (uint8_t)((r >> 28) == 0 ? '\n' : ' ');
    }
}

static uint32_t load32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t hash4(const uint8_t *p)
{
    return (load32(p) * 2654435761u) >> (32 - HASH_BITS);
}

static void insert(uint32_t pos)
{
    uint32_t h = hash4(input + pos);
    chain[pos] = head[h];
    head[h] = (int32_t)pos;
}

/* The longest match for pos among the chain's candidates: length, and its
 * offset in *offset (0 when shorter than MIN_MATCH). */
static uint32_t find_match(uint32_t pos, uint32_t end, uint32_t *offset)
{
    uint32_t best = 0, limit = end - pos;
    int32_t cand = head[hash4(input + pos)];
    *offset = 0;
    for (uint32_t tries = 0; cand >= 0 && tries < MAX_CHAIN; tries++) {
        uint32_t c = (uint32_t)cand;
        if (pos - c > WINDOW)
            break;
        if (input[c + best] == input[pos + best] && load32(input + c) == load32(input + pos)) {
            uint32_t len = 4;
            while (len < limit && input[c + len] == input[pos + len])
                len++;
            if (len > best) {
                best = len;
                *offset = pos - c;
                if (len == limit)
                    break;
            }
        }
        cand = chain[c];
    }
    return best >= MIN_MATCH ? best : 0;
}

static uint32_t put_length(uint8_t *out, uint32_t o, uint32_t len)
{
    while (len >= 255) {
        out[o++] = 255;
        len -= 255;
    }
    out[o++] = (uint8_t)len;
    return o;
}

/* One sequence: literals [lit, lit + nlit), then a match (len 0: none). */
static uint32_t put_sequence(uint32_t o, uint32_t lit, uint32_t nlit, uint32_t len,
                             uint32_t offset)
{
    uint32_t ml = len ? len - MIN_MATCH : 0;
    uint32_t token = (nlit < 15 ? nlit : 15) << 4 | (ml < 15 ? ml : 15);
    packed[o++] = (uint8_t)token;
    if (nlit >= 15)
        o = put_length(packed, o, nlit - 15);
    for (uint32_t i = 0; i < nlit; i++)
        packed[o++] = input[lit + i];
    if (len) {
        packed[o++] = (uint8_t)offset;
        packed[o++] = (uint8_t)(offset >> 8);
        if (ml >= 15)
            o = put_length(packed, o, ml - 15);
    }
    return o;
}

static uint32_t compress(uint32_t size)
{
    for (uint32_t i = 0; i < (1u << HASH_BITS); i++)
        head[i] = -1;
    uint32_t pos = 0, lit = 0, o = 0;
    uint32_t end = size - MIN_MATCH; /* hashes read 4 bytes */
    while (pos < end) {
        uint32_t offset, len = find_match(pos, end, &offset);
        if (len && pos + 1 < end) {
            /* Lazy step: a longer match one byte later wins. */
            insert(pos);
            uint32_t offset2, len2 = find_match(pos + 1, end, &offset2);
            if (len2 > len + 1) {
                pos++;
                len = len2;
                offset = offset2;
            }
        } else if (len) {
            insert(pos);
        }
        if (!len) {
            insert(pos);
            pos++;
            continue;
        }
        o = put_sequence(o, lit, pos - lit, len, offset);
        for (uint32_t i = 1; i < len && pos + i < end; i++)
            insert(pos + i);
        pos += len;
        lit = pos;
    }
    return put_sequence(o, lit, size - lit, 0, 0);
}

static uint32_t get_length(uint32_t *i, uint32_t len)
{
    if (len == 15) {
        uint8_t b;
        do {
            b = packed[(*i)++];
            len += b;
        } while (b == 255);
    }
    return len;
}

static uint32_t decompress(uint32_t n)
{
    uint32_t i = 0, o = 0;
    while (i < n) {
        uint32_t token = packed[i++];
        uint32_t nlit = get_length(&i, token >> 4);
        for (uint32_t k = 0; k < nlit; k++)
            unpacked[o + k] = packed[i + k];
        i += nlit;
        o += nlit;
        if (i >= n)
            break;
        uint32_t offset = (uint32_t)packed[i] | (uint32_t)packed[i + 1] << 8;
        i += 2;
        uint32_t len = get_length(&i, token & 15) + MIN_MATCH;
        /* Byte by byte: overlapping matches repeat the last bytes. */
        for (uint32_t k = 0; k < len; k++)
            unpacked[o + k] = unpacked[o - offset + k];
        o += len;
    }
    return o;
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        make_input(wl_seed(u));
        uint32_t packed_size = compress(IN_SIZE);
        uint32_t size = decompress(packed_size);
        uint32_t same = size == IN_SIZE;
        uint32_t h = 2166136261u;
        for (uint32_t i = 0; i < packed_size; i++)
            h = (h ^ packed[i]) * 16777619u;
        for (uint32_t i = 0; same && i < IN_SIZE; i++)
            same = unpacked[i] == input[i];
        sum = wl_mix(sum, packed_size);
        sum = wl_mix(sum, h);
        sum = wl_mix(sum, same);
    }
    return sum;
}

WL_ENTRY()
