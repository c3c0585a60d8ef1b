#!/bin/sh
# test-install.sh BUILD_DIR SOURCE_DIR CC CMAKE [EXTRA_CFLAGS]
# Installs the build into a temporary prefix, then builds and runs
# consumer.c (libwasmplug) and consumer_services.c (libwasmplug_services)
# against it with pkg-config (shared and static) and with CMake's
# find_package (shared and static targets).
set -eu
build=$1 src=$2 cc=$3 cmake=$4 extra=${5:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in include/wasmplug/engine.h include/wasmplug/services.h include/wasmplug/manifest.h \
    include/wasmplug/ui.h; do
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

# The services library, pkg-config shared and static.
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -o "$tmp/svc_shared" "$src/consumer_services.c" \
    $(pkg-config --cflags wasmplug-services) $(pkg-config --libs wasmplug-services)
LD_LIBRARY_PATH="$libdir" "$tmp/svc_shared"
test -f "$libdir/libwasmplug_services.a" || { echo "missing libwasmplug_services.a"; exit 1; }
# The archives, with the system libraries they need linked as usual (their
# own static closure - libcurl's TLS, LDAP, ... - is not installed).
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -o "$tmp/svc_static" "$src/consumer_services.c" \
    $(pkg-config --cflags wasmplug-services) "$libdir/libwasmplug_services.a" \
    "$libdir/libwasmplug.a" \
    $(pkg-config --libs $(pkg-config --print-requires-private wasmplug-services)) -lm -pthread
"$tmp/svc_static"
echo "pkg-config services shared + static: ok"

# find_package
"$cmake" -S "$src" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_C_FLAGS="$extra" >"$tmp/cmake.log" \
    || { cat "$tmp/cmake.log"; exit 1; }
"$cmake" --build "$tmp/cmake" >"$tmp/build.log" || { cat "$tmp/build.log"; exit 1; }
"$tmp/cmake/consumer_shared"
"$tmp/cmake/consumer_static"
LD_LIBRARY_PATH="$libdir" "$tmp/cmake/consumer_services_shared"
"$tmp/cmake/consumer_services_static"
echo "find_package shared + static (core and services): ok"
