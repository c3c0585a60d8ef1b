#!/bin/sh
# build.sh - build greeter-bindgen to greeter-bindgen.wasm: a cdylib for
# wasm32-unknown-unknown with Debian's cargo, rustc and wasm-bindgen crate
# (librust-wasm-bindgen-dev), offline. No wasm-bindgen CLI step: wasmplug
# loads the module rustc writes. Built in a scratch copy (no Cargo.lock or
# target/ in the source tree).
#   CARGO_TARGET_DIR  keep build artifacts there between builds
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/greeter-bindgen.wasm}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$here/src" "$here/Cargo.toml" "$scratch/"
mkdir "$scratch/home"
printf '%s\n' '[source.crates-io]' 'replace-with = "debian-registry"' \
    '[source.debian-registry]' 'directory = "/usr/share/cargo/registry"' \
    '[net]' 'offline = true' >"$scratch/home/config.toml"
targetdir=${CARGO_TARGET_DIR:-$scratch/target}
(cd "$scratch" && CARGO_HOME="$scratch/home" CARGO_TARGET_DIR="$targetdir" \
    RUSTC="${RUSTC:-/usr/bin/rustc}" "${CARGO:-/usr/bin/cargo}" build --quiet --release \
    --target wasm32-unknown-unknown)
cp "$targetdir/wasm32-unknown-unknown/release/greeter_bindgen.wasm" "$out"
echo "built $out ($(wc -c <"$out") bytes)"
