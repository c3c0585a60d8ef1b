#!/bin/sh
# fetch-wasi-testsuite.sh - make a local copy of the official WASI test
# suite's prebuilt wasm32-wasip1 tests (C, Rust, AssemblyScript) for
# `make wasi-testsuite` and the CTest test wasi.testsuite. The copy is never
# committed (wasi-testsuite/ is gitignored).
#
#   scripts/fetch-wasi-testsuite.sh [DIR]     fetch from GitHub (needs network)
#   WASI_TESTSUITE_GIT=CLONE scripts/fetch-wasi-testsuite.sh [DIR]
#                                             take it from an existing clone
#
# DIR defaults to wasi-testsuite/ at the top of the source tree. The tests
# are those of the branch prod/testsuite-base at the commit below (the one
# wasmplug passes 72 of 72 of); set WASI_TESTSUITE_COMMIT to try another.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/wasi-testsuite}
commit=${WASI_TESTSUITE_COMMIT:-9f80ca35444cfd9e63100725615140a346652e6c}
url=https://github.com/WebAssembly/wasi-testsuite
paths="tests/c/testsuite/wasm32-wasip1 tests/rust/testsuite/wasm32-wasip1
       tests/assemblyscript/testsuite/wasm32-wasip1"

if [ -n "${WASI_TESTSUITE_GIT:-}" ]; then
    git_dir=$WASI_TESTSUITE_GIT
else
    git_dir=$(mktemp -d "${TMPDIR:-/tmp}/wasi-testsuite-git.XXXXXX")
    trap 'rm -rf "$git_dir"' EXIT
    git init -q --bare "$git_dir"
    git --git-dir="$git_dir" fetch -q --depth 1 "$url" "$commit"
fi
rm -rf "$dest"
mkdir -p "$dest"
# shellcheck disable=SC2086 # the paths are words
git --git-dir="$git_dir" archive "$commit" $paths | tar -x -C "$dest"
echo "fetch-wasi-testsuite: $(find "$dest" -name '*.wasm' | wc -l) tests in $dest"
