#!/bin/sh
# build.sh - build this AssemblyScript plugin to plugin.wasm.
# WASMPLUG_SDK: the wasmplug sdk/ directory (default: the one `wasmplug new`
# created this project from, or the tree this template sits in).
# ASC: the AssemblyScript compiler (default: the one
# scripts/install-toolchains.sh installed, as recorded in the SDK's
# toolchains.env, else asc on PATH).
# RUNTIME: stub (default; never frees, smallest) or incremental (GC).
# @wasmplug/pdk is used from the SDK directory through asc --path (no
# publishing; `npm install $WASMPLUG_SDK/assemblyscript` works too).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../..}
[ -f "$sdk/assemblyscript/index.ts" ] || { echo "build.sh: set WASMPLUG_SDK to the wasmplug sdk/ directory" >&2; exit 1; }
WASMPLUG_ASC=$sdk/../tests/toolchains/node_modules/.bin/asc
# An installed SDK records where the toolchains were when wasmplug was built.
[ ! -f "$sdk/toolchains.env" ] || . "$sdk/toolchains.env"
asc=${ASC:-$WASMPLUG_ASC}
[ -x "$asc" ] || asc=asc
out=${1:-$here/plugin.wasm}
# A node_modules-like directory holding @wasmplug/pdk -> the SDK.
mods=$(mktemp -d)
trap 'rm -rf "$mods"' EXIT
mkdir -p "$mods/@wasmplug"
ln -s "$(cd "$sdk/assemblyscript" && pwd)" "$mods/@wasmplug/pdk"
cd "$here"
# --debug keeps the "name" section (named backtraces); -O3 still optimizes.
"$asc" assembly/index.ts --path "$mods" --runtime "${RUNTIME:-stub}" -O3 --debug \
    --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o "$out"
echo "built $out ($(wc -c <"$out") bytes)"
