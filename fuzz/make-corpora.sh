#!/bin/sh
# make-corpora.sh - seed corpora for the fuzz targets, taken from the tests:
#   module       every .wasm the test suite builds or keeps (tests/wat,
#                fixtures, WASI and CLI test modules)
#   deserialize  the same modules compiled and serialized in both bounds
#                modes (fuzz/serialize_seeds)
#   manifest     every plugin.yaml of the tests, examples and SDK templates
#   wasi_path    the paths the WASI tests use (tests/wasi/test_*.c), each
#                with and without following links
#
#   fuzz/make-corpora.sh FUZZ_BUILD_DIR TEST_BUILD_DIR [OUT_DIR]
#
# FUZZ_BUILD_DIR is a -DWASMPLUG_FUZZ=ON build (for serialize_seeds);
# TEST_BUILD_DIR an ordinary build whose tests were built (the .wasm files).
# OUT_DIR defaults to FUZZ_BUILD_DIR/fuzz/corpus; each corpus is made anew.
set -eu
if [ $# -lt 2 ]; then
    echo "usage: $0 FUZZ_BUILD_DIR TEST_BUILD_DIR [OUT_DIR]" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
fuzz_build=$1 test_build=$2
out=${3:-$fuzz_build/fuzz/corpus}
for c in module deserialize manifest wasi_path; do
    rm -rf "${out:?}/$c"
    mkdir -p "$out/$c"
done

# Modules (file names made unique by their directory).
find "$test_build/tests" "$src/tests" -name '*.wasm' -not -path '*/node_modules/*' |
while read -r f; do
    name=$(echo "$f" | sed "s|^$test_build/||; s|^$src/||; s|/|_|g")
    cp "$f" "$out/module/$name"
done
"$fuzz_build/fuzz/serialize_seeds" "$out/deserialize" "$out"/module/*.wasm

# Manifests.
find "$src/tests" "$src/examples" "$src/sdk" -name '*.yaml' -not -path '*/node_modules/*' |
while read -r f; do
    name=$(echo "$f" | sed "s|^$src/||; s|/|_|g")
    cp "$f" "$out/manifest/$name"
done

# Paths: a flags byte (bit 0: follow links) and the path.
n=0
grep -ho '\(wt_str\|try_open\|open_at\)([^"]*"[^"]*"' "$src"/tests/wasi/test_*.c |
    sed 's/^[^"]*"//; s/"$//' | sort -u |
while IFS= read -r p; do
    n=$((n + 1))
    printf '\000%s' "$p" >"$out/wasi_path/path$n"
    printf '\001%s' "$p" >"$out/wasi_path/path$n-follow"
done
for c in module deserialize manifest wasi_path; do
    echo "make-corpora: $(ls "$out/$c" | wc -l) seeds in $out/$c"
done
