/*
 * test_unsupported.c - modules using proposals the engine does not
 * implement (relaxed SIMD, threads, memory64, exception handling, tail calls) must
 * be rejected with WASMPLUG_ERR_UNSUPPORTED and "unsupported feature: X",
 * never as malformed or invalid and never by crashing.
 */
#include "test.h"

#include <inttypes.h>

#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* type 0 = () -> (), function 0 of type 0 */
#define TYPE_AND_FUNC 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00

typedef struct unsupported_case {
    const char *name;
    const uint8_t *bytes;
    size_t size;
    const char *feature;   /* expected after "unsupported feature: " */
} unsupported_case;

#define CASE(name, feature, ...) \
    {name, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), feature}

static const unsupported_case cases[] = {
    CASE("shared memory", "threads", HEADER, 0x05, 0x04, 0x01, 0x03, 0x01, 0x02),
    CASE("64-bit memory", "memory64", HEADER, 0x05, 0x03, 0x01, 0x04, 0x01),
    CASE("tag section", "exception handling",
         HEADER, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x0d, 0x03, 0x01, 0x00, 0x00),
    CASE("i8x16.relaxed_swizzle", "relaxed SIMD",
         HEADER, TYPE_AND_FUNC, 0x0a, 0x07, 0x01, 0x05, 0x00, 0xfd, 0x80, 0x02, 0x0b),
    CASE("return_call", "tail calls",
         HEADER, TYPE_AND_FUNC, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x12, 0x00, 0x0b),
    CASE("atomic.fence", "threads",
         HEADER, TYPE_AND_FUNC, 0x0a, 0x07, 0x01, 0x05, 0x00, 0xfe, 0x03, 0x00, 0x0b),
    CASE("try block", "exception handling",
         HEADER, TYPE_AND_FUNC, 0x0a, 0x07, 0x01, 0x05, 0x00, 0x06, 0x40, 0x0b, 0x0b),
};

static void check(wasmplug_engine *e, const char *name, const uint8_t *bytes, size_t size,
                  const char *feature)
{
    wasmplug_module *m = NULL;
    wasmplug_error err;
    wasmplug_error_clear(&err);
    wasmplug_status st = wasmplug_module_new(e, bytes, size, &m, &err);
    char want[128];
    snprintf(want, sizeof want, "unsupported feature: %s", feature);
    int ok = st == WASMPLUG_ERR_UNSUPPORTED && err.status == WASMPLUG_ERR_UNSUPPORTED &&
             strstr(err.message, want) != NULL && err.offset < size && m == NULL;
    test_check(ok, __FILE__, __LINE__, name);
    if (!ok)
        printf("     %s: got %s at offset %" PRIu64 " \"%s\"; expected \"%s\"\n", name,
               wasmplug_strerror(st), err.offset, err.message, want);
    if (m)
        wasmplug_module_free(m);
}

int main(void)
{
    wasmplug_engine *e = test_engine();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(e, cases[i].name, cases[i].bytes, cases[i].size, cases[i].feature);

    wasmplug_engine_free(e);
    return test_done();
}
