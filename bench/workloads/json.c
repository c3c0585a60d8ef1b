/*
 * json.c - a JSON parser: a generated 64 KiB document (an array of records
 * with nested objects and arrays, strings with escapes including \uXXXX,
 * integers, decimals with exponents, true/false/null) is parsed by a
 * validating recursive-descent parser into a tape of values (type, length,
 * payload), strings unescaped to UTF-8 into a string buffer and numbers
 * converted to int64 or double. Then one pass over the tape sums what a
 * plugin would read from it. Byte-at-a-time scanning, branches on character
 * classes, a switch per value, recursion - a config, API or log plugin.
 * One unit = parse the document once (a new document every 8 units).
 */
#include "workload.h"

#define DOC_CAP (64u * 1024u)
#define TAPE_CAP 32768u
#define STR_CAP (64u * 1024u)
#define MAX_DEPTH 64

enum { T_NULL, T_FALSE, T_TRUE, T_INT, T_DOUBLE, T_STRING, T_ARRAY, T_OBJECT, T_END };

typedef struct tape_entry {
    uint32_t type;
    uint32_t len; /* strings: bytes; arrays/objects: tape index after the end */
    uint64_t bits; /* int64, double bits, or string offset */
} tape_entry;

static char doc[DOC_CAP];
static uint32_t doc_len;
static tape_entry tape[TAPE_CAP];
static uint32_t tape_len;
static char strings[STR_CAP];
static uint32_t strings_len;

/* ---- document generator ---- */

static uint32_t gen_pos;
static uint64_t gen_seed;

static void put(char c)
{
    if (gen_pos < DOC_CAP - 1)
        doc[gen_pos++] = c;
}

static void puts_raw(const char *s)
{
    while (*s)
        put(*s++);
}

static void put_uint(uint64_t v)
{
    char digits[21];
    puts_raw(wl_utoa(digits, v));
}

static const char *const names[] = {"id", "name", "email", "tags", "score", "active",
                                    "address", "city", "zip", "history", "ratio", "note"};

static void gen_string(void)
{
    uint32_t r = wl_rand32(&gen_seed), len = 3 + r % 14;
    put('"');
    for (uint32_t i = 0; i < len; i++) {
        uint32_t c = wl_rand32(&gen_seed);
        switch (c % 23) {
        case 0: puts_raw("\\n"); break;
        case 1: puts_raw("\\\""); break;
        case 2: puts_raw("\\u00e9"); break;
        case 3: puts_raw("\\u20ac"); break;
        case 4: put(' '); break;
        default: put((char)('a' + (c >> 8) % 26));
        }
    }
    put('"');
}

static void gen_number(void)
{
    uint32_t r = wl_rand32(&gen_seed);
    if (r & 1)
        put('-');
    put_uint((r >> 1) % 100000u);
    if ((r >> 20) % 3 == 0) {
        put('.');
        put_uint((r >> 8) % 1000u);
        if ((r >> 24) % 4 == 0) {
            puts_raw((r >> 28) & 1 ? "e-" : "e+");
            put_uint((r >> 29) % 8);
        }
    }
}

static void gen_value(uint32_t depth);

static void gen_object(uint32_t depth)
{
    uint32_t n = 2 + wl_rand32(&gen_seed) % 6;
    put('{');
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            puts_raw(", ");
        put('"');
        puts_raw(names[wl_rand32(&gen_seed) % (sizeof names / sizeof names[0])]);
        puts_raw("\": ");
        gen_value(depth + 1);
    }
    put('}');
}

static void gen_value(uint32_t depth)
{
    uint32_t r = wl_rand32(&gen_seed) % (depth < 4 ? 10 : 7);
    switch (r) {
    case 0: case 1: gen_string(); break;
    case 2: case 3: gen_number(); break;
    case 4: puts_raw("true"); break;
    case 5: puts_raw("false"); break;
    case 6: puts_raw("null"); break;
    case 7: case 8: gen_object(depth); break;
    default: {
        uint32_t n = wl_rand32(&gen_seed) % 5;
        put('[');
        for (uint32_t i = 0; i < n; i++) {
            if (i)
                put(',');
            gen_value(depth + 1);
        }
        put(']');
    }
    }
}

static void make_doc(uint64_t seed)
{
    gen_seed = seed;
    gen_pos = 0;
    put('[');
    for (uint32_t i = 0; gen_pos < DOC_CAP - 2048; i++) {
        if (i)
            puts_raw(",\n  ");
        gen_object(0);
    }
    put(']');
    doc_len = gen_pos;
}

/* ---- parser ---- */

static uint32_t pos;
static int failed;

static const double pow10_table[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static void skip_ws(void)
{
    while (pos < doc_len) {
        char c = doc[pos];
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
            return;
        pos++;
    }
}

static uint32_t emit(uint32_t type, uint32_t len, uint64_t bits)
{
    if (tape_len == TAPE_CAP) {
        failed = 1;
        return tape_len - 1;
    }
    tape[tape_len] = (tape_entry){type, len, bits};
    return tape_len++;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(uint32_t cp)
{
    if (strings_len + 4 > STR_CAP) {
        failed = 1;
        return;
    }
    if (cp < 0x80) {
        strings[strings_len++] = (char)cp;
    } else if (cp < 0x800) {
        strings[strings_len++] = (char)(0xC0 | cp >> 6);
        strings[strings_len++] = (char)(0x80 | (cp & 0x3F));
    } else {
        strings[strings_len++] = (char)(0xE0 | cp >> 12);
        strings[strings_len++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        strings[strings_len++] = (char)(0x80 | (cp & 0x3F));
    }
}

static void parse_string(void)
{
    uint32_t start = strings_len;
    pos++; /* opening quote */
    for (;;) {
        if (pos >= doc_len) {
            failed = 1;
            return;
        }
        char c = doc[pos++];
        if (c == '"')
            break;
        if ((unsigned char)c < 0x20) {
            failed = 1;
            return;
        }
        if (c != '\\') {
            put_utf8((unsigned char)c);
            continue;
        }
        if (pos >= doc_len) {
            failed = 1;
            return;
        }
        c = doc[pos++];
        switch (c) {
        case '"': case '\\': case '/': put_utf8((unsigned char)c); break;
        case 'b': put_utf8('\b'); break;
        case 'f': put_utf8('\f'); break;
        case 'n': put_utf8('\n'); break;
        case 'r': put_utf8('\r'); break;
        case 't': put_utf8('\t'); break;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; i++) {
                int d = pos < doc_len ? hex_digit(doc[pos++]) : -1;
                if (d < 0) {
                    failed = 1;
                    return;
                }
                cp = cp << 4 | (uint32_t)d;
            }
            put_utf8(cp);
            break;
        }
        default: failed = 1; return;
        }
    }
    emit(T_STRING, strings_len - start, start);
}

static int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static void parse_number(void)
{
    int negative = 0;
    if (doc[pos] == '-') {
        negative = 1;
        pos++;
    }
    if (pos >= doc_len || !is_digit(doc[pos])) {
        failed = 1;
        return;
    }
    uint64_t mantissa = 0;
    uint32_t digits = 0;
    while (pos < doc_len && is_digit(doc[pos])) {
        mantissa = mantissa * 10 + (uint64_t)(doc[pos++] - '0');
        digits++;
    }
    int32_t exp10 = 0;
    int is_double = 0;
    if (pos < doc_len && doc[pos] == '.') {
        is_double = 1;
        pos++;
        if (pos >= doc_len || !is_digit(doc[pos])) {
            failed = 1;
            return;
        }
        while (pos < doc_len && is_digit(doc[pos])) {
            mantissa = mantissa * 10 + (uint64_t)(doc[pos++] - '0');
            exp10--;
            digits++;
        }
    }
    if (pos < doc_len && (doc[pos] == 'e' || doc[pos] == 'E')) {
        is_double = 1;
        pos++;
        int exp_negative = 0;
        if (pos < doc_len && (doc[pos] == '+' || doc[pos] == '-'))
            exp_negative = doc[pos++] == '-';
        if (pos >= doc_len || !is_digit(doc[pos])) {
            failed = 1;
            return;
        }
        int32_t e = 0;
        while (pos < doc_len && is_digit(doc[pos]))
            e = e * 10 + (doc[pos++] - '0');
        exp10 += exp_negative ? -e : e;
    }
    if (digits > 18) {
        failed = 1;
        return;
    }
    if (!is_double) {
        int64_t v = negative ? -(int64_t)mantissa : (int64_t)mantissa;
        emit(T_INT, 0, (uint64_t)v);
        return;
    }
    /* Exact for the generated numbers (mantissa < 2^53, |exp10| <= 22). */
    if (exp10 < -22 || exp10 > 22) {
        failed = 1;
        return;
    }
    double d = (double)mantissa;
    d = exp10 < 0 ? d / pow10_table[-exp10] : d * pow10_table[exp10];
    emit(T_DOUBLE, 0, wl_double_bits(negative ? -d : d));
}

static int literal(const char *word)
{
    uint32_t i = 0;
    for (; word[i]; i++)
        if (pos + i >= doc_len || doc[pos + i] != word[i])
            return 0;
    pos += i;
    return 1;
}

static void parse_value(uint32_t depth);

static void parse_container(uint32_t depth, char close, uint32_t type)
{
    uint32_t at = emit(type, 0, 0);
    pos++;
    skip_ws();
    if (pos < doc_len && doc[pos] == close) {
        pos++;
        tape[at].len = tape_len;
        return;
    }
    for (;;) {
        if (type == T_OBJECT) {
            if (pos >= doc_len || doc[pos] != '"') {
                failed = 1;
                return;
            }
            parse_string();
            skip_ws();
            if (pos >= doc_len || doc[pos] != ':') {
                failed = 1;
                return;
            }
            pos++;
        }
        parse_value(depth + 1);
        if (failed)
            return;
        skip_ws();
        if (pos < doc_len && doc[pos] == ',') {
            pos++;
            skip_ws();
            continue;
        }
        if (pos < doc_len && doc[pos] == close) {
            pos++;
            break;
        }
        failed = 1;
        return;
    }
    tape[at].len = tape_len;
}

static void parse_value(uint32_t depth)
{
    skip_ws();
    if (pos >= doc_len || depth > MAX_DEPTH) {
        failed = 1;
        return;
    }
    switch (doc[pos]) {
    case '{': parse_container(depth, '}', T_OBJECT); break;
    case '[': parse_container(depth, ']', T_ARRAY); break;
    case '"': parse_string(); break;
    case 't':
        if (literal("true"))
            emit(T_TRUE, 0, 1);
        else
            failed = 1;
        break;
    case 'f':
        if (literal("false"))
            emit(T_FALSE, 0, 0);
        else
            failed = 1;
        break;
    case 'n':
        if (literal("null"))
            emit(T_NULL, 0, 0);
        else
            failed = 1;
        break;
    default: parse_number();
    }
}

static uint64_t parse(void)
{
    pos = 0;
    failed = 0;
    tape_len = 0;
    strings_len = 0;
    parse_value(0);
    skip_ws();
    if (pos != doc_len)
        failed = 1;
    return !failed;
}

/* What a plugin reads back: counts per type, sums, a hash of the strings. */
static uint64_t walk(void)
{
    uint64_t counts[T_END] = {0}, int_sum = 0, string_hash = 1469598103934665603ULL;
    double double_sum = 0;
    for (uint32_t i = 0; i < tape_len; i++) {
        const tape_entry *e = &tape[i];
        counts[e->type]++;
        if (e->type == T_INT) {
            int_sum += e->bits;
        } else if (e->type == T_DOUBLE) {
            double d;
            __builtin_memcpy(&d, &e->bits, sizeof d);
            double_sum += d;
        } else if (e->type == T_STRING) {
            for (uint32_t k = 0; k < e->len; k++)
                string_hash = (string_hash ^ (uint8_t)strings[e->bits + k]) * 1099511628211ULL;
        } else if (e->type == T_ARRAY || e->type == T_OBJECT) {
            int_sum += e->len - i;
        }
    }
    uint64_t h = wl_mix(int_sum, wl_double_bits(double_sum));
    h = wl_mix(h, string_hash);
    for (uint32_t t = 0; t < T_END; t++)
        h = wl_mix(h, counts[t]);
    return h;
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t u = 0; u < n; u++) {
        if (u % 8 == 0)
            make_doc(wl_seed(u));
        sum = wl_mix(sum, parse());
        sum = wl_mix(sum, walk());
        sum = wl_mix(sum, doc_len);
    }
    return sum;
}

WL_ENTRY()
