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
    target="--target=wasm32-wasi" link="-mexec-model=reactor"
else
    target="--target=wasm32" link="-nostdlib -Wl,--no-entry"
fi
# Compiled and linked in two steps: clang runs wasm-opt (binaryen) on a
# link with -O, which drops the "name" section; without it backtraces
# name the plugin's functions ("#1 greet", not "func 9").
obj=$(mktemp)
trap 'rm -f "$obj"' EXIT
# shellcheck disable=SC2086
"${CLANG:-clang}" $target -c -Os -mbulk-memory -Wall -Wextra -Werror -I"$sdk/c" -o "$obj" \
    "$here/plugin.c"
# shellcheck disable=SC2086
"${CLANG:-clang}" $target $link -Wl,--strip-debug -o "$out" "$obj"
echo "built $out ($(wc -c <"$out") bytes)"
