#!/bin/sh
# build.sh - build this C plugin to plugin.wasm (freestanding wasm32;
# -mbulk-memory: memcpy/memset become memory.copy/fill).
# WASMPLUG_SDK: the wasmplug sdk/ directory (default: the one `wasmplug new`
# created this project from, or the tree this template sits in).
# CLANG: clang with wasm32 (clang).
# Use TARGET=wasi for a WASI reactor (wasi-libc) instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../..}
[ -f "$sdk/c/wasmplug_pdk.h" ] || { echo "build.sh: set WASMPLUG_SDK to the wasmplug sdk/ directory" >&2; exit 1; }
out=${1:-$here/plugin.wasm}
if [ "${TARGET:-freestanding}" = wasi ]; then
    target="--target=wasm32-wasi -mexec-model=reactor"
else
    target="--target=wasm32 -nostdlib -Wl,--no-entry"
fi
# shellcheck disable=SC2086
"${CLANG:-clang}" $target -Os -mbulk-memory -Wall -Wextra -Werror -I"$sdk/c" -Wl,--strip-debug \
    -o "$out" "$here/plugin.c"
echo "built $out ($(wc -c <"$out") bytes)"
