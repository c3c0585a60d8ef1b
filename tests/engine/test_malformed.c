/*
 * test_malformed.c - hand-written malformed binaries: each must be rejected
 * with WASMPLUG_ERR_MALFORMED, the spec's wording in the message and the
 * byte offset of the offending input. Offsets follow the decoder's rules:
 * the start of a bad field, the end of the input for a truncated one.
 */
#include "test.h"

#include <inttypes.h>

#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

typedef struct malformed_case {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    uint64_t offset;
    const char *message;   /* must appear in err.message */
} malformed_case;

#define CASE(name, offset, message, ...)                                            \
    {name, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), \
     offset, message}

static const malformed_case cases[] = {
    CASE("bad magic", 0, "magic header not detected",
         0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00),
    CASE("wasm text instead of binary", 0, "magic header not detected",
         '(', 'm', 'o', 'd', 'u', 'l', 'e', ')'),
    CASE("bad version", 4, "unknown binary version",
         0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00),
    CASE("truncated header", 0, "unexpected end", 0x00, 0x61, 0x73),
    CASE("truncated version", 4, "unexpected end", 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00),
    /* Section size LEB128 ends in the middle. */
    CASE("truncated LEB128", 10, "unexpected end", HEADER, 0x01, 0x80),
    /* Section size in six bytes: too long for a u32. */
    CASE("LEB128 too long", 9, "integer representation too long",
         HEADER, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00),
    /* Fifth byte with bits above 32 set. */
    CASE("LEB128 too large", 9, "integer too large",
         HEADER, 0x01, 0xff, 0xff, 0xff, 0xff, 0x7f),
    CASE("section larger than the file", 9, "length out of bounds",
         HEADER, 0x01, 0x05, 0x00),
    /* Type section of 2 bytes whose content (count 0) is 1 byte. */
    CASE("section size mismatch", 11, "section size mismatch",
         HEADER, 0x01, 0x02, 0x00, 0x00),
    CASE("unknown section id", 8, "malformed section id", HEADER, 0x0e, 0x00),
    /* Function section then type section. */
    CASE("sections out of order", 11, "unexpected content after last section",
         HEADER, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00),
    /* Custom section whose name is the byte 0xff. */
    CASE("bad UTF-8 in a custom section name", 11, "malformed UTF-8 encoding",
         HEADER, 0x00, 0x02, 0x01, 0xff),
    /* Export name "\xc0\x80": an overlong encoding of U+0000. */
    CASE("overlong UTF-8 in an export name", 22, "malformed UTF-8 encoding",
         HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
         0x07, 0x06, 0x01, 0x02, 0xc0, 0x80, 0x00, 0x00,
         0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b),
    /* One function declared, no code section. */
    CASE("function without a body", 18, "function and code section have inconsistent lengths",
         HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00),
    /* A custom section whose name length runs past the section. */
    CASE("custom section name too long", 10, "length out of bounds",
         HEADER, 0x00, 0x01, 0x05),
};

int main(void)
{
    wasmplug_engine *e = test_engine();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const malformed_case *c = &cases[i];
        wasmplug_module *m = NULL;
        wasmplug_error err;
        wasmplug_error_clear(&err);
        wasmplug_status st = wasmplug_module_new(e, c->bytes, c->size, &m, &err);
        int ok_status = st == WASMPLUG_ERR_MALFORMED && err.status == WASMPLUG_ERR_MALFORMED;
        int ok_offset = err.offset == c->offset;
        int ok_message = strstr(err.message, c->message) != NULL;
        test_check(ok_status, __FILE__, __LINE__, c->name);
        test_check(ok_offset, __FILE__, __LINE__, c->name);
        test_check(ok_message, __FILE__, __LINE__, c->name);
        if (!ok_status || !ok_offset || !ok_message)
            printf("     %s: got %s at offset %" PRIu64 " \"%s\"; expected malformed at "
                   "offset %" PRIu64 " \"%s\"\n",
                   c->name, wasmplug_strerror(st), err.offset, err.message, c->offset,
                   c->message);
        CHECK(m == NULL);
        if (m)
            wasmplug_module_free(m);
    }

    /* The empty input and a NULL pointer with size 0. */
    wasmplug_module *m = NULL;
    wasmplug_error err;
    CHECK_STATUS(wasmplug_module_new(e, (const uint8_t *)"", 0, &m, &err),
                 WASMPLUG_ERR_MALFORMED);
    CHECK_EQ(err.offset, 0);
    CHECK(m == NULL);
    CHECK(wasmplug_module_new(e, NULL, 0, &m, &err) != WASMPLUG_OK);
    CHECK(m == NULL);

    /* The smallest valid module, to show the cases fail for their reason. */
    static const uint8_t empty_module[] = {HEADER};
    CHECK_STATUS(wasmplug_module_new(e, empty_module, sizeof empty_module, &m, &err),
                 WASMPLUG_OK);
    if (m)
        wasmplug_module_free(m);
    wasmplug_engine_free(e);
    return test_done();
}
