/*
 * sqlplug.c - the SQL test plugin (C PDK, freestanding). Input: the SQL,
 * optionally followed by a line of JSON parameters. exec and query print
 * the result, or "error: MESSAGE" for an SQL error; each export is one
 * case of tests/services/test_sql.c.
 */
#include "wasmplug_pdk.h"

/* Split "SQL\nPARAMS" in place; params NULL without a newline. */
static const char *split(char *in, size_t len)
{
    for (size_t i = len; i > 0; i--)
        if (in[i - 1] == '\n') {
            in[i - 1] = '\0';
            return in + i;
        }
    return NULL;
}

static void error_out(void)
{
    wp_output_str("error: ");
    wp_output_str(wp_db_error());
}

WP_FN(exec)
{
    size_t len;
    char *in = (char *)wp_input_bytes(&len);
    const char *params = split(in, len);
    int32_t n = wp_db_exec(in, params);
    if (n < 0) {
        error_out();
        return 0;
    }
    wp_buf b = {0};
    wp_buf_int(&b, n);
    return wp_output_buf(&b);
}

WP_FN(query)
{
    size_t len;
    char *in = (char *)wp_input_bytes(&len);
    const char *params = split(in, len);
    const char *rows = wp_db_query(in, params);
    if (!rows)
        error_out();
    else
        wp_output_str(rows);
    return 0;
}

/* exec, then trap: its changes must vanish */
WP_FN(exec_then_trap)
{
    size_t len;
    char *in = (char *)wp_input_bytes(&len);
    const char *params = split(in, len);
    wp_db_exec(in, params);
    __builtin_trap();
}

/* raw parameters that are not JSON */
WP_FN(bad_params)
{
    wp_raw_db_exec("SELECT ?1", 9, "{nope", 5);
    return 0;
}

WP_FN(empty_sql)
{
    wp_raw_db_exec("", 0, "", 0);
    return 0;
}

WP_FN(bad_pointer)
{
    wp_raw_db_exec((const void *)0x7ffffff0, 64, "", 0);
    return 0;
}
