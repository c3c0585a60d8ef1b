#!/bin/sh
# build.sh - build this Rust plugin to plugin.wasm with Debian's rustc alone
# (no cargo, no crates): the PDK as an rlib, then the plugin as a cdylib.
# WASMPLUG_SDK: the wasmplug sdk/ directory (default: the one `wasmplug new`
# created this project from, or the tree this template sits in).
# RUSTC: rustc with the wasm32 std (/usr/bin/rustc).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=${WASMPLUG_SDK:-$here/../..}
[ -f "$sdk/rust/src/lib.rs" ] || { echo "build.sh: set WASMPLUG_SDK to the wasmplug sdk/ directory" >&2; exit 1; }
rustc=${RUSTC:-/usr/bin/rustc}
out=${1:-$here/plugin.wasm}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
flags="--edition 2021 --target wasm32-unknown-unknown -O -C panic=abort"
# shellcheck disable=SC2086
"$rustc" $flags --crate-type=rlib --crate-name wasmplug_pdk \
    -o "$tmp/libwasmplug_pdk.rlib" "$sdk/rust/src/lib.rs"
# shellcheck disable=SC2086
"$rustc" $flags --crate-type=cdylib --crate-name plugin -C strip=debuginfo \
    --extern wasmplug_pdk="$tmp/libwasmplug_pdk.rlib" -o "$out" "$here/src/lib.rs"
echo "built $out ($(wc -c <"$out") bytes)"
