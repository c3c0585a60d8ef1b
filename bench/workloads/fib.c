/*
 * fib.c - recursive calls: naive doubly recursive Fibonacci. Measures call
 * and return overhead (frame setup, argument passing), the part of plugin
 * code made of many small functions. One unit = fib(24) or fib(25).
 */
#include "workload.h"

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static uint64_t workload(uint32_t n)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum = wl_mix(sum, fib(24 + (i & 1)));
    return sum;
}

WL_ENTRY()
