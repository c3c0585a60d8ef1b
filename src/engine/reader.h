/*
 * reader.h - bounds-checked reading of the WebAssembly binary format.
 *
 * Shared by the decoder (sections) and the validator/compiler (function
 * bodies). Every read checks the end of its range; LEB128 follows the spec's
 * exact length and unused-bit rules. A failed read leaves r->error set to the
 * spec's wording and r->error_at at the offending byte.
 */
#ifndef WP_READER_H
#define WP_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct wp_reader {
    const uint8_t *base;  /* start of the module binary: offsets are relative to it */
    const uint8_t *p;     /* next byte */
    const uint8_t *end;   /* end of the current range */
    const char *error;    /* NULL, or what went wrong (static string) */
    const uint8_t *error_at;
} wp_reader;

static inline bool wp_reader_fail(wp_reader *r, const uint8_t *at, const char *why)
{
    if (!r->error) {
        r->error = why;
        r->error_at = at;
    }
    return false;
}

static inline uint64_t wp_reader_offset(const wp_reader *r) { return (uint64_t)(r->p - r->base); }
static inline bool wp_reader_eof(const wp_reader *r) { return r->p >= r->end; }

static inline bool wp_read_u8(wp_reader *r, uint8_t *out)
{
    if (r->p >= r->end)
        return wp_reader_fail(r, r->p, "unexpected end");
    *out = *r->p++;
    return true;
}

static inline bool wp_read_bytes(wp_reader *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n)
        return wp_reader_fail(r, r->p, "unexpected end");
    *out = r->p;
    r->p += n;
    return true;
}

/*
 * Unsigned LEB128 of at most `bits` bits (32 or 64). The last permitted byte
 * must not have its continuation bit set ("integer representation too long")
 * and its unused high bits must be zero ("integer too large").
 */
static inline bool wp_read_uleb(wp_reader *r, unsigned bits, uint64_t *out)
{
    const uint8_t *start = r->p;
    uint64_t result = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->p >= r->end)
            return wp_reader_fail(r, r->p, "unexpected end");
        uint8_t byte = *r->p++;
        if (shift + 7 >= bits) { /* last permitted byte */
            if (byte & 0x80)
                return wp_reader_fail(r, start, "integer representation too long");
            unsigned used = bits - shift;
            if (used < 7 && (byte >> used) != 0)
                return wp_reader_fail(r, start, "integer too large");
            result |= (uint64_t)byte << shift;
            break;
        }
        result |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80))
            break;
        shift += 7;
    }
    *out = result;
    return true;
}

/*
 * Signed LEB128 of at most `bits` bits (32, 33 or 64). In the last permitted
 * byte the unused high bits must all equal the sign bit.
 */
static inline bool wp_read_sleb(wp_reader *r, unsigned bits, int64_t *out)
{
    const uint8_t *start = r->p;
    uint64_t result = 0;
    unsigned shift = 0;
    uint8_t byte;
    for (;;) {
        if (r->p >= r->end)
            return wp_reader_fail(r, r->p, "unexpected end");
        byte = *r->p++;
        if (shift + 7 >= bits) { /* last permitted byte */
            if (byte & 0x80)
                return wp_reader_fail(r, start, "integer representation too long");
            unsigned used = bits - shift; /* value bits in this byte, sign bit included */
            if (used < 7) {
                uint8_t rest = (uint8_t)(byte >> (used - 1)); /* sign bit and unused bits */
                uint8_t all = (uint8_t)((1u << (7 - used + 1)) - 1);
                if (rest != 0 && rest != all)
                    return wp_reader_fail(r, start, "integer too large");
            }
            result |= (uint64_t)(byte & 0x7F) << shift;
            shift += 7;
            break;
        }
        result |= (uint64_t)(byte & 0x7F) << shift;
        shift += 7;
        if (!(byte & 0x80))
            break;
    }
    if (shift < 64 && (byte & 0x40))
        result |= ~(uint64_t)0 << shift;
    *out = (int64_t)result;
    return true;
}

static inline bool wp_read_u32(wp_reader *r, uint32_t *out)
{
    uint64_t v;
    if (!wp_read_uleb(r, 32, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

static inline bool wp_read_s32(wp_reader *r, int32_t *out)
{
    int64_t v;
    if (!wp_read_sleb(r, 32, &v))
        return false;
    *out = (int32_t)v;
    return true;
}

static inline bool wp_read_s64(wp_reader *r, int64_t *out) { return wp_read_sleb(r, 64, out); }

static inline bool wp_read_f32_bits(wp_reader *r, uint32_t *out)
{
    const uint8_t *b;
    if (!wp_read_bytes(r, 4, &b))
        return false;
    *out = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return true;
}

static inline bool wp_read_f64_bits(wp_reader *r, uint64_t *out)
{
    uint32_t lo, hi;
    if (!wp_read_f32_bits(r, &lo) || !wp_read_f32_bits(r, &hi))
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

#endif
