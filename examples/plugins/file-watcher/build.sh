#!/bin/sh
# build.sh [OUT] - file-watcher.wasm with Debian's rustc (wasm32-unknown-unknown).
set -e
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/file-watcher.wasm}
"${RUSTC:-/usr/bin/rustc}" --edition 2021 --crate-type cdylib --crate-name file_watcher \
    --target wasm32-unknown-unknown -O -C panic=abort -C strip=debuginfo \
    -o "$out" "$here/file_watcher.rs"
