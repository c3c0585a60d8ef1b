#!/bin/sh
# build.sh - build word-counter to word-counter.wasm: a WASI reactor
# (clang + wasi-libc), or freestanding with TARGET=freestanding.
#   ./build.sh [OUT.wasm]      (CLANG and WASMPLUG_SDK may be overridden)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../../../sdk}
out=${1:-$here/word-counter.wasm}
if [ "${TARGET:-wasi}" = freestanding ]; then
    target="--target=wasm32 -nostdlib -Wl,--no-entry"
else
    target="--target=wasm32-wasi -mexec-model=reactor"
fi
# shellcheck disable=SC2086
"${CLANG:-clang}" $target -Os -mbulk-memory -Wall -Wextra -Werror -Wshadow -I"$sdk/c" -Wl,--strip-debug \
    -o "$out" "$here/word_counter.c"
echo "built $out ($(wc -c <"$out") bytes)"
