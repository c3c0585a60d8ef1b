/*
 * kvplug.c - the key-value test plugin (C PDK, freestanding). Inputs are
 * text: "KEY" or "KEY=VALUE"; each export is one case of
 * tests/services/test_kv.c, the crash test and the benchmark.
 */
#include "wasmplug_pdk.h"

/* Split "KEY=VALUE" in place (value NULL without '='). */
static const char *split(char *in, size_t len, size_t *klen, size_t *vlen)
{
    for (size_t i = 0; i < len; i++)
        if (in[i] == '=') {
            *klen = i;
            *vlen = len - i - 1;
            return in + i + 1;
        }
    *klen = len;
    *vlen = 0;
    return NULL;
}

/* set "K=V" */
WP_FN(set)
{
    size_t len, klen, vlen;
    char *in = (char *)wp_input_bytes(&len);
    const char *v = split(in, len, &klen, &vlen);
    wp_kv_set(in, klen, v ? v : "", vlen);
    return 0;
}

/* get "K": the value, or "<absent>" */
WP_FN(get)
{
    size_t len, vlen;
    const char *in = wp_input_bytes(&len);
    const char *v = wp_kv_get(in, len, &vlen);
    if (v)
        wp_output(v, vlen);
    else
        wp_output_str("<absent>");
    return 0;
}

/* get "K" through a 4-byte buffer, then the rest with result_read */
WP_FN(get_small)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    char four[4];
    int32_t n = wp_raw_kv_get(in, (int32_t)len, four, 4);
    if (n < 0)
        return wp_fail(1, "absent");
    wp_output(four, n < 4 ? (size_t)n : 4);
    if (n > 4) {
        char *rest = (char *)wp_alloc((size_t)n);
        wp_raw_result_read(rest, n - 4, 4);
        wp_output(rest, (size_t)n - 4);
    }
    return 0;
}

/* del "K": "1" or "0" */
WP_FN(del)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    wp_output_str(wp_kv_delete(in, len) ? "1" : "0");
    return 0;
}

/* list "PREFIX" or "PREFIX=AFTER", 3 per page: the keys, one per line, then
 * "more" when the page was full */
WP_FN(list)
{
    size_t len, plen, alen;
    char *in = (char *)wp_input_bytes(&len);
    const char *after = split(in, len, &plen, &alen);
    wp_kv_keys page;
    if (!wp_kv_list(in, plen, after, alen, 3, &page))
        return wp_fail(1, "out of memory");
    for (size_t i = 0; i < page.count; i++) {
        wp_output(page.keys[i], page.lens[i]);
        wp_output_str("\n");
    }
    if (page.count == 3)
        wp_output_str("more");
    return 0;
}

/* cas "K=OLD>NEW": OLD empty means absent, NEW "-" means delete; "1"/"0" */
WP_FN(cas)
{
    size_t len, klen, rlen;
    char *in = (char *)wp_input_bytes(&len);
    char *rest = (char *)split(in, len, &klen, &rlen);
    size_t olen = 0;
    while (olen < rlen && rest[olen] != '>')
        olen++;
    const char *nv = rest + olen + 1;
    size_t nlen = rlen - olen - 1;
    bool del = nlen == 1 && nv[0] == '-';
    wp_output_str(wp_kv_cas(in, klen, olen ? rest : NULL, olen, del ? NULL : nv, nlen) ? "1"
                                                                                      : "0");
    return 0;
}

/* set "K=V" then trap: the write must vanish */
WP_FN(set_then_trap)
{
    size_t len, klen, vlen;
    char *in = (char *)wp_input_bytes(&len);
    const char *v = split(in, len, &klen, &vlen);
    wp_kv_set(in, klen, v ? v : "", vlen);
    __builtin_trap();
}

/* set "K=V" then return a failure code: the write must vanish */
WP_FN(set_then_fail)
{
    size_t len, klen, vlen;
    char *in = (char *)wp_input_bytes(&len);
    const char *v = split(in, len, &klen, &vlen);
    wp_kv_set(in, klen, v ? v : "", vlen);
    return wp_fail(7, "failing after a write");
}

/* set "K=V", then spin until the call's timeout or cancel */
WP_FN(set_then_spin)
{
    size_t len, klen, vlen;
    char *in = (char *)wp_input_bytes(&len);
    const char *v = split(in, len, &klen, &vlen);
    wp_kv_set(in, klen, v ? v : "", vlen);
    volatile int32_t x = 0;
    for (;;)
        x++;
}

/* "PREFIX": ten keys PREFIX/0 .. PREFIX/9 of 100 bytes each (the crash test) */
WP_FN(set_ten)
{
    size_t len;
    const char *in = wp_input_bytes(&len);
    char key[300];
    char value[100];
    if (len > 280)
        return wp_fail(1, "prefix too long");
    memcpy(key, in, len);
    for (int i = 0; i < 10; i++) {
        key[len] = '/';
        key[len + 1] = (char)('0' + i);
        for (int j = 0; j < 100; j++)
            value[j] = (char)('a' + (i + j) % 26);
        wp_kv_set(key, len + 2, value, sizeof value);
    }
    return 0;
}

/* Bad input the host must refuse. */
WP_FN(empty_key)
{
    wp_raw_kv_set("", 0, "v", 1);
    return 0;
}

WP_FN(long_key)
{
    static char key[1025];
    wp_raw_kv_set(key, (int32_t)sizeof key, "v", 1);
    return 0;
}

WP_FN(bad_pointer)
{
    wp_raw_kv_set((const void *)0x7ffffff0, 64, "v", 1);
    return 0;
}

WP_FN(bad_flags)
{
    wp_raw_kv_cas("k", 1, "", 0, "", 0, 8);
    return 0;
}

WP_FN(bad_limit)
{
    char out[8];
    wp_raw_kv_list("", 0, "", 0, 0, out, 8);
    return 0;
}

/* big "N": a value of N bytes under key "big" */
WP_FN(big)
{
    long long n = 0;
    if (!wp_parse_int(wp_input_string(), &n) || n < 0)
        return wp_fail(1, "not a size");
    char *v = (char *)wp_alloc((size_t)n);
    if (!v)
        return wp_fail(1, "out of memory");
    memset(v, 'x', (size_t)n);
    wp_kv_set("big", 3, v, (size_t)n);
    return 0;
}

/* keys "N": N new keys k0 .. k(N-1) with value "v" */
WP_FN(keys)
{
    long long n = 0;
    if (!wp_parse_int(wp_input_string(), &n) || n < 0)
        return wp_fail(1, "not a count");
    for (long long i = 0; i < n; i++) {
        char key[24];
        int at = 0;
        key[at++] = 'k';
        char d[20];
        int nd = 0;
        long long v = i;
        do {
            d[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (nd)
            key[at++] = d[--nd];
        wp_kv_set(key, (size_t)at, "v", 1);
    }
    return 0;
}

/* Benchmarks: "bench_get" does 1000 gets of key "k" per call; "bench_set"
 * one set of key "k" per call. */
WP_FN(bench_get)
{
    char out[64];
    int32_t total = 0;
    for (int i = 0; i < 1000; i++)
        total += wp_raw_kv_get("k", 1, out, (int32_t)sizeof out);
    return total < 0 ? 1 : 0;
}

WP_FN(bench_set)
{
    static uint32_t n;
    n++;
    wp_raw_kv_set("k", 1, &n, 4);
    return 0;
}
