#!/bin/sh
# build.sh - build event-counter-compat to event-counter-compat.wasm
# (freestanding C, compatibility ABI).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../../../sdk}
out=${1:-$here/event-counter-compat.wasm}
"${CLANG:-clang}" --target=wasm32 -nostdlib -Wl,--no-entry -Os -mbulk-memory -Wall -Wextra -Werror \
    -I"$sdk/c" -Wl,--strip-debug -o "$out" "$here/event_counter.c"
echo "built $out ($(wc -c <"$out") bytes)"
