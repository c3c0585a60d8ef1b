#!/bin/sh
# build.sh - build weather-report to weather-report.wasm (freestanding C,
# clang with the wasm32 target; no libc needed).
#   ./build.sh [OUT.wasm]      (CLANG and WASMPLUG_SDK may be overridden)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../../../sdk}
out=${1:-$here/weather-report.wasm}
"${CLANG:-clang}" --target=wasm32 -nostdlib -Wl,--no-entry -Os -mbulk-memory -Wall -Wextra \
    -Werror -Wshadow -I"$sdk/c" -Wl,--strip-debug -o "$out" "$here/weather_report.c"
echo "built $out ($(wc -c <"$out") bytes)"
