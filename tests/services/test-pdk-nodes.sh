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
# shellcheck source=tests/services/pdk-lib.sh
. "$ROOT/tests/services/pdk-lib.sh"

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
lang_key() { case $1 in as) echo assemblyscript ;; zg) echo zig ;; rs) echo rust ;; esac; }
for lang in $(pdk_langs); do
    mkplugin $lang
    if pdk_build $lang "$P/tally" $lang/p.wasm; then
        check_routes $lang "$(pdk_name $lang)" "$(lang_key $lang)"
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "$(pdk_name $lang): the node plugin does not build"
    fi
done
echo "$built of 3 toolchains found"
cli_done
