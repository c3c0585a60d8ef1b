/*
 * ui_widgets.c - renders and handlers for tests/services/test_ui.c (the UI
 * contribution registry): echo the input, return a given number of bytes,
 * bytes that are not UTF-8, and a trap.
 */
#include "wasmplug_pdk.h"

/* The input back as the output (renders of panels and blocks, commands). */
WP_FN(render_echo)
{
    size_t n;
    const char *in = wp_input_bytes(&n);
    wp_output(in, n);
    return 0;
}

WP_FN(run)
{
    size_t n;
    const char *in = wp_input_bytes(&n);
    wp_output(in, n);
    return 0;
}

/* As many bytes of "<p>" as the input number says. */
WP_FN(render_big)
{
    long long n = 0;
    wp_parse_int(wp_input_string(), &n);
    wp_buf b = {0};
    for (long long i = 0; i < n; i++)
        wp_buf_char(&b, 'a');
    return wp_output_buf(&b);
}

WP_FN(render_latin1)
{
    wp_output("caf\xe9", 4);
    return 0;
}

WP_FN(render_crash)
{
    __builtin_trap();
}
