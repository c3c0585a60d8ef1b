/*
 * noop_node.c - the trivial workflow node of wasmplug-bench-flow (C PDK,
 * freestanding): an exec that returns at once with an empty output.
 */
#include "wasmplug_pdk.h"

WP_FN(noop)
{
    return 0;
}
