#!/bin/sh
# build.sh - build block-renderer to block-renderer.wasm with Debian's rustc
# alone (no cargo): the PDK (sdk/rust) as an rlib, then the plugin.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../../../sdk}
out=${1:-$here/block-renderer.wasm}
rlibs=$(mktemp -d)
trap 'rm -rf "$rlibs"' EXIT
common="--edition 2021 --target wasm32-unknown-unknown -O -C panic=abort"
# shellcheck disable=SC2086
"${RUSTC:-/usr/bin/rustc}" $common --crate-type=rlib --crate-name wasmplug_pdk \
    -o "$rlibs/libwasmplug_pdk.rlib" "$sdk/rust/src/lib.rs"
# shellcheck disable=SC2086
"${RUSTC:-/usr/bin/rustc}" $common --crate-type=cdylib --crate-name block_renderer \
    -C strip=debuginfo --extern wasmplug_pdk="$rlibs/libwasmplug_pdk.rlib" -o "$out" \
    "$here/src/lib.rs"
echo "built $out ($(wc -c <"$out") bytes)"
