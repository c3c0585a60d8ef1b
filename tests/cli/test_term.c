/*
 * test_term.c - unit tests of the terminal escaping (src/cli/term.c): every
 * class of character term.h lists, in fields and in text, UTF-8 edge cases
 * (overlong forms, surrogates, beyond U+10FFFF, truncated sequences) and
 * streams whose sequences are split between writes. Prints
 * "N passed, N failed".
 */
#include "term.h"
#include "test.h"

/* The escaped form of a NUL-terminated string. */
static bool escapes_to(const char *in, term_mode mode, const char *want)
{
    char *got = term_escape(in, strlen(in), mode);
    bool ok = got && strcmp(got, want) == 0;
    if (!ok)
        printf("  '%s' escaped to '%s', expected '%s'\n", in, got ? got : "(null)", want);
    free(got);
    return ok;
}

/* What a stream makes of the pieces, written one after the other. */
static bool stream_gives(const char *const *pieces, size_t n, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return false;
    term_stream ts;
    term_stream_init(&ts, f, TERM_TEXT);
    for (size_t i = 0; i < n; i++)
        term_stream_write(&ts, pieces[i], strlen(pieces[i]));
    term_stream_finish(&ts);
    fclose(f);
    bool ok = strcmp(buf, want) == 0;
    if (!ok)
        printf("  stream gave '%s', expected '%s'\n", buf, want);
    free(buf);
    return ok;
}

int main(void)
{
    /* Printable text, including UTF-8, passes. */
    CHECK(escapes_to("plain text 123", TERM_FIELD, "plain text 123"));
    CHECK(escapes_to("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80", TERM_FIELD,
                     "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
    /* C0 controls, ESC, DEL. */
    CHECK(escapes_to("a\x1b[31mb", TERM_FIELD, "a\\e[31mb"));
    CHECK(escapes_to("1\n2\t3\r4", TERM_FIELD, "1\\n2\\t3\\r4"));
    CHECK(escapes_to("1\n2\t3\r4", TERM_TEXT, "1\n2\t3\\r4"));
    CHECK(escapes_to("\x01\x07\x08\x7f", TERM_TEXT, "\\x01\\x07\\x08\\x7f"));
    /* Backslashes: doubled in fields (unambiguous), kept in text. */
    CHECK(escapes_to("a\\e", TERM_FIELD, "a\\\\e"));
    CHECK(escapes_to("a\\e", TERM_TEXT, "a\\e"));
    /* C1 controls and bidirectional overrides. */
    CHECK(escapes_to("\xc2\x9b" "31m \xc2\x85 \xc2\xa0", TERM_TEXT, "\\u009b31m \\u0085 \xc2\xa0"));
    CHECK(escapes_to("\xe2\x80\xae" "abc\xe2\x81\xa6", TERM_TEXT, "\\u202eabc\\u2066"));
    CHECK(escapes_to("\xe2\x80\xa9", TERM_TEXT, "\xe2\x80\xa9")); /* not a bidi control */
    /* Invalid UTF-8: each byte of a bad sequence. */
    CHECK(escapes_to("\xff\xfe", TERM_TEXT, "\\xff\\xfe"));
    CHECK(escapes_to("\xc0\xaf", TERM_TEXT, "\\xc0\\xaf"));                 /* overlong '/' */
    CHECK(escapes_to("\xe0\x80\xaf", TERM_TEXT, "\\xe0\\x80\\xaf"));        /* overlong */
    CHECK(escapes_to("\xed\xa0\x80", TERM_TEXT, "\\xed\\xa0\\x80"));        /* surrogate */
    CHECK(escapes_to("\xf4\x90\x80\x80", TERM_TEXT, "\\xf4\\x90\\x80\\x80")); /* > U+10FFFF */
    CHECK(escapes_to("\x80x", TERM_TEXT, "\\x80x"));                        /* lone continuation */
    CHECK(escapes_to("a\xe2\x82", TERM_TEXT, "a\\xe2\\x82"));               /* truncated */
    /* Fields: NULL, embedded NUL through term_fieldn, the ring of buffers. */
    CHECK(strcmp(term_field(NULL), "") == 0);
    CHECK(strcmp(term_fieldn("a\0b", 3), "a\\x00b") == 0);
    const char *first = term_field("first\n");
    for (int i = 0; i < 7; i++)
        term_field("other");
    CHECK(strcmp(first, "first\\n") == 0); /* still valid after 7 more calls */
    /* Streams: sequences split between writes are recognised. */
    const char *split_c1[] = {"x\xc2", "\x9b" "y"};
    CHECK(stream_gives(split_c1, 2, "x\\u009by"));
    const char *split_euro[] = {"\xe2", "\x82", "\xac!"};
    CHECK(stream_gives(split_euro, 3, "\xe2\x82\xac!"));
    const char *split_bad[] = {"\xe2\x82", "z"};
    CHECK(stream_gives(split_bad, 2, "\\xe2\\x82z"));
    const char *truncated_end[] = {"ok\xf0\x9f"};
    CHECK(stream_gives(truncated_end, 1, "ok\\xf0\\x9f"));
    /* Longer than the stream's 1024-byte chunks, a sequence across the boundary. */
    char big[2100];
    memset(big, 'a', sizeof big);
    memcpy(big + 1023, "\xc2\x9b", 2);
    big[sizeof big - 1] = 0;
    char want[2200];
    memset(want, 'a', 1023);
    memcpy(want + 1023, "\\u009b", 6);
    memset(want + 1029, 'a', sizeof big - 1 - 1025);
    want[1029 + sizeof big - 1 - 1025] = 0;
    const char *big_piece[] = {big};
    CHECK(stream_gives(big_piece, 1, want));
    return test_done();
}
