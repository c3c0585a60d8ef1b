/*
 * wasmplug/semver.h - semantic version ranges (services layer,
 * libwasmplug_services), as npm and Cargo write them.
 *
 * A range is one or more alternatives separated by "||"; an alternative is
 * one or more comparators separated by spaces, all of which must hold:
 *
 *   1.2.3  =1.2.3        exactly 1.2.3
 *   >1.2.3 >=1.2 <2 <=2.1  comparisons (missing parts are wildcards:
 *                        >1.2 means >=1.3.0, <=2.1 means <2.2.0)
 *   ^1.2.3               >=1.2.3 <2.0.0 (^0.2.3: <0.3.0; ^0.0.3: <0.0.4)
 *   ~1.2.3               >=1.2.3 <1.3.0 (~1: <2.0.0)
 *   1.x  1.2.x  1  1.2   x, X or * for any number in that place
 *   *  x  (or empty)     any version
 *
 * Pre-release versions (1.3.0-beta.1) match only a comparator that names a
 * pre-release of the same major.minor.patch, so "^1.2" never picks a
 * beta. Precedence is wasmplug_semver_compare's.
 */
#ifndef WASMPLUG_SEMVER_H
#define WASMPLUG_SEMVER_H

#include <wasmplug/manifest.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Check a range's syntax: WASMPLUG_ERR_ARGUMENT with the offending part in msg. */
WASMPLUG_API wasmplug_status wasmplug_semver_range_check(const char *range, char *msg,
                                                        size_t msgsize);

/** Whether version (a valid semantic version) satisfies range (false if either is invalid). */
WASMPLUG_API bool wasmplug_semver_satisfies(const char *version, const char *range);

#ifdef __cplusplus
}
#endif
#endif /* WASMPLUG_SEMVER_H */
