/*
 * wasmplug/semver.h - semantic version ranges. They are part of the core
 * library since plugin dependencies use them: see "Semantic versions" in
 * <wasmplug.h> (wasmplug_semver_compare, wasmplug_semver_range_check,
 * wasmplug_semver_satisfies). This header stays for the programs that
 * include it.
 */
#ifndef WASMPLUG_SEMVER_H
#define WASMPLUG_SEMVER_H

#include <wasmplug.h>

#endif /* WASMPLUG_SEMVER_H */
