/*
 * c_checks.c - C PDK checks beyond the examples (freestanding and WASI):
 * JSON parse/serialize round trips, escapes and numbers, config helpers,
 * logs, the arena across calls, WP_MAX_INPUT, typed exports next to
 * ABI v1 ones, and host functions the embedder registered (typed and
 * bytes, with results longer than the first buffer and soft errors).
 */
#define WP_MAX_INPUT 65536 /* the PDK's own input limit, checked by the tests */
#include "wasmplug_pdk.h"

/* Parse the input and write it back compactly (round trip). */
WP_FN(roundtrip)
{
    wp_json *j = wp_input_json();
    if (!j)
        return 1;
    wp_buf b = {0};
    wp_json_write(&b, j);
    return wp_output_buf(&b);
}

/* Config helpers: {"int": <config n or 10>, "flag": <config flag>, "s": <config s or null>}. */
WP_FN(config)
{
    long long n;
    if (!wp_config_int("n", 10, &n))
        return 2;
    const char *s = wp_config("s");
    wp_jw w = {0};
    wp_jw_object(&w);
    wp_jw_key(&w, "int");
    wp_jw_int(&w, n);
    wp_jw_key(&w, "flag");
    wp_jw_bool(&w, wp_config_bool("flag", false));
    wp_jw_key(&w, "s");
    if (s)
        wp_jw_string(&w, s);
    else
        wp_jw_null(&w);
    wp_jw_key(&w, "num");
    wp_jw_number(&w, -2.5);
    wp_jw_end_object(&w);
    wp_log(WP_WARN, "config read");
    return wp_output_json(&w);
}

/* Allocate ~1 MiB per call: the arena must be reused, not grow forever. */
WP_FN(churn)
{
    for (int i = 0; i < 16; i++) {
        char *p = wp_alloc(65536);
        if (!p)
            return wp_fail(3, "out of memory");
        p[0] = (char)i;
    }
    wp_output_str("ok");
    return 0;
}

/* A typed export next to the ABI v1 ones. */
WP_EXPORT("add") int add(int a, int b)
{
    return a + b;
}

/* Host functions registered by the test host (tests/pdk/test_pdk.c). */
WP_HOST_IMPORT("env", "mul") int32_t env_mul(int32_t a, int32_t b);
WP_HOST_BYTES("env", "repeat", env_repeat);

/* "<6*7>:<env.repeat(input)>"; env.repeat fails softly (code 7) on "bad". */
WP_FN(host_calls)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    if (!in)
        return 1;
    const uint8_t *res;
    size_t res_len;
    int32_t rc = wp_host_call(env_repeat, in, len, &res, &res_len);
    if (rc) {
        wp_buf msg = {0};
        wp_buf_str(&msg, "env.repeat failed: ");
        wp_buf_add(&msg, res, res_len);
        wp_set_error(msg.data, msg.len);
        return rc;
    }
    wp_buf out = {0};
    wp_buf_int(&out, env_mul(6, 7));
    wp_buf_char(&out, ':');
    wp_buf_add(&out, res, res_len);
    return wp_output_buf(&out);
}
