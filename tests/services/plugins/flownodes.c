/*
 * flownodes.c - workflow node phases for tests/services/test_workflow.c and
 * the workflow benchmark (C PDK, freestanding). Its manifest
 * (written by the test) declares node types that combine these exports.
 */
#include "wasmplug_pdk.h"

/* prep/exec: the input, unchanged */
WP_FN(echo)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    wp_output(in, len);
    return 0;
}

/* exec: {"got": INPUT} (INPUT is JSON) */
WP_FN(wrap)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    wp_output_str("{\"got\":");
    wp_output(in, len);
    wp_output_str("}");
    return 0;
}

/* post: {"action": "default", "updates": {"seen": INPUT}} */
WP_FN(post_seen)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    wp_output_str("{\"action\":\"default\",\"updates\":{\"seen\":");
    wp_output(in, len);
    wp_output_str("}}");
    return 0;
}

/* post: the action named by state.next ({"state": {"next": "x"}}) */
WP_FN(post_next)
{
    wp_json *in = wp_input_json();
    if (!in)
        return 1;
    return wp_node_post(wp_json_get_string(wp_json_get(in, "state"), "next"), NULL);
}

/* post: counts state.n up; "again" below config limit, then "done" */
WP_FN(post_count)
{
    wp_json *in = wp_input_json();
    if (!in)
        return 1;
    double n = wp_json_get_number(wp_json_get(in, "state"), "n", 0) + 1;
    double limit = wp_json_get_number(wp_json_get(in, "config"), "limit", 3);
    wp_buf b = {0};
    wp_buf_str(&b, "{\"action\":\"");
    wp_buf_str(&b, n < limit ? "again" : "done");
    wp_buf_str(&b, "\",\"updates\":{\"n\":");
    wp_buf_int(&b, (long long)n);
    wp_buf_str(&b, "}}");
    return wp_output_buf(&b);
}

/* post: not JSON */
WP_FN(post_garbage)
{
    wp_output_str("not json");
    return 0;
}

static int calls;

/* exec: fails twice, then succeeds with the number of calls */
WP_FN(flaky)
{
    calls++;
    if (calls <= 2)
        return wp_fail(7, "flaky: not yet");
    wp_buf b = {0};
    wp_buf_int(&b, calls);
    return wp_output_buf(&b);
}

/* exec: always fails */
WP_FN(broken)
{
    return wp_fail(3, "broken: always fails");
}

/* any phase: traps */
WP_FN(trap)
{
    __builtin_trap();
}

/* exec: never returns (stopped by a timeout or a cancel) */
WP_FN(spin)
{
    volatile unsigned x = 0;
    for (;;)
        x++;
    return 0;
}

/* exec on a batch item N (a number): spins longer for larger N, outputs N*10 */
WP_FN(slow_item)
{
    wp_json *in = wp_input_json();
    if (!in)
        return 1;
    long long n = (long long)in->number;
    volatile unsigned x = 0;
    for (long long i = 0; i < n * 200000; i++)
        x++;
    wp_buf b = {0};
    wp_buf_int(&b, n * 10);
    return wp_output_buf(&b);
}

/* exec for the benchmark: empty output */
WP_FN(noop)
{
    return 0;
}
