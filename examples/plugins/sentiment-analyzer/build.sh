#!/bin/sh
# build.sh - build sentiment-analyzer to sentiment-analyzer.wasm with
# AssemblyScript. RUNTIME=minimal (default: TLSF, the plugin calls
# collect() after each call), incremental (automatic GC) or stub (never
# frees: memory grows with every call); ASC overrides the
# compiler (default: the one scripts/install-toolchains.sh installs).
# @wasmplug/pdk comes from sdk/assemblyscript through asc --path.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../../../sdk}
asc=${ASC:-$sdk/../tests/toolchains/node_modules/.bin/asc}
[ -x "$asc" ] || asc=asc
out=${1:-$here/sentiment-analyzer.wasm}
mods=$(mktemp -d)
trap 'rm -rf "$mods"' EXIT
mkdir -p "$mods/@wasmplug"
ln -s "$(cd "$sdk/assemblyscript" && pwd)" "$mods/@wasmplug/pdk"
cd "$here"
"$asc" assembly/index.ts --path "$mods" --runtime "${RUNTIME:-minimal}" -O3 \
    --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o "$out"
echo "built $out ($(wc -c <"$out") bytes)"
