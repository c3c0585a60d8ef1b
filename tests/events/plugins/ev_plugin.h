/*
 * ev_plugin.h - what the freestanding C test plugins of the event bus tests
 * share: the import/export attributes and decimal formatting.
 */
#ifndef EV_PLUGIN_H
#define EV_PLUGIN_H

#include <stdint.h>

#define IMPORT(n) __attribute__((import_module("wasmplug"), import_name(n)))
#define EXPORT(n) __attribute__((export_name(n)))

/* Write v in decimal at p; returns the number of characters. */
static inline int32_t put_int(char *p, int32_t v)
{
    char tmp[12];
    int32_t n = 0, o = 0;
    if (v < 0) {
        p[o++] = '-';
        v = -v;
    }
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        p[o++] = tmp[--n];
    return o;
}

#endif
