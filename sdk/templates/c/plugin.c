/*
 * plugin.c - a wasmplug plugin in C (template). Export `greet`:
 * input {"name": "Ada"} -> {"message": "Hello, Ada!"}; config "greeting"
 * (default "Hello"). Build: ./build.sh (WASMPLUG_SDK = the SDK directory).
 */
#include "wasmplug_pdk.h"

WP_FN(greet)
{
    wp_json *in = wp_input_json();
    if (!in)
        return 1; /* the error message ("invalid JSON input: ...") is set */
    const char *name = wp_json_get_string(in, "name");
    if (!name)
        return wp_fail(1, "input needs a string \"name\"");
    const char *greeting = wp_config("greeting");

    wp_buf msg = {0};
    wp_buf_str(&msg, greeting ? greeting : "Hello");
    wp_buf_str(&msg, ", ");
    wp_buf_str(&msg, name);
    wp_buf_str(&msg, "!");

    wp_jw out = {0};
    wp_jw_object(&out);
    wp_jw_key(&out, "message");
    wp_jw_stringn(&out, msg.data, msg.len);
    wp_jw_end_object(&out);
    wp_log_info("greeted");
    return wp_output_json(&out);
}
