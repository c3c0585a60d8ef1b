#!/bin/sh
# test-install.sh BUILD_DIR SOURCE_DIR CC CMAKE [EXTRA_CFLAGS]
# Installs the build into a temporary prefix, then builds and runs
# consumer.c against it with pkg-config (shared and static) and with
# CMake's find_package (shared and static targets).
set -eu
build=$1 src=$2 cc=$3 cmake=$4 extra=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in include/wasmplug/engine.h; do
    test -f "$prefix/$f" || { echo "missing $f in the installed tree"; exit 1; }
done
pcdir=$(dirname "$(find "$prefix" -name wasmplug.pc | head -n1)")
libdir=$(dirname "$(find "$prefix" -name 'libwasmplug.so.0' | head -n1)")
test -f "$libdir/libwasmplug.a" || { echo "missing libwasmplug.a"; exit 1; }
echo "installed into $prefix (pkg-config dir $pcdir)"

# pkg-config, shared
export PKG_CONFIG_PATH="$pcdir"
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -o "$tmp/pc_shared" "$src/consumer.c" \
    $(pkg-config --cflags wasmplug) $(pkg-config --libs wasmplug)
LD_LIBRARY_PATH="$libdir" "$tmp/pc_shared"
echo "pkg-config shared: ok"

# pkg-config, static (the archive by path, plus Libs.private)
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -o "$tmp/pc_static" "$src/consumer.c" \
    $(pkg-config --cflags wasmplug) "$libdir/libwasmplug.a" \
    $(pkg-config --static --libs-only-other --libs-only-l wasmplug | sed 's/-lwasmplug//')
"$tmp/pc_static"
echo "pkg-config static: ok"

# find_package
"$cmake" -S "$src" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" >"$tmp/cmake.log" \
    || { cat "$tmp/cmake.log"; exit 1; }
"$cmake" --build "$tmp/cmake" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
"$tmp/cmake/consumer_shared"
"$tmp/cmake/consumer_static"
echo "find_package shared + static: ok"
