/*
 * kv_plugin.c - the plugin of the key-value benchmark (C PDK, freestanding):
 * get_1000 reads key "k" 1000 times in one call; set_one writes a counter
 * (key "s") once per call, so every call is one committed transaction.
 */
#include "wasmplug_pdk.h"

WP_FN(get_1000)
{
    char out[64];
    int32_t total = 0;
    for (int i = 0; i < 1000; i++)
        total += wp_raw_kv_get("k", 1, out, (int32_t)sizeof out);
    return total == 16000 ? 0 : wp_fail(1, "key k does not hold 16 bytes");
}

WP_FN(set_one)
{
    static uint32_t n;
    n++;
    wp_raw_kv_set("s", 1, &n, 4);
    return 0;
}
