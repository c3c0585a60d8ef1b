#!/bin/sh
# build.sh - build json-transformer to json-transformer.wasm with cargo,
# offline (Debian's rustc and cargo; the only dependency is the PDK by
# path). The crate is copied to a scratch directory so the source tree
# stays untouched (no Cargo.lock, no target/).
#   CARGO_TARGET_DIR  keep build artifacts there between builds
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sdk=$(cd "${WASMPLUG_SDK:-$here/../../../sdk}" && pwd)
out=${1:-$here/json-transformer.wasm}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$here/src" "$work/"
sed "s#path = \"../../../sdk/rust\"#path = \"$sdk/rust\"#" "$here/Cargo.toml" >"$work/Cargo.toml"
# A private CARGO_HOME: offline, crates.io replaced by Debian's crates.
mkdir -p "$work/cargo-home"
cat >"$work/cargo-home/config.toml" <<EOT
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "/usr/share/cargo/registry"
[net]
offline = true
EOT
target=${CARGO_TARGET_DIR:-$work/target}
(cd "$work" && CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$target" \
    RUSTC="${RUSTC:-/usr/bin/rustc}" "${CARGO:-/usr/bin/cargo}" build --quiet --release \
    --target wasm32-unknown-unknown)
cp "$target/wasm32-unknown-unknown/release/json_transformer.wasm" "$out"
echo "built $out ($(wc -c <"$out") bytes)"
