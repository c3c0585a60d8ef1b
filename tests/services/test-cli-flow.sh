#!/bin/sh
# test-cli-flow.sh WASMPLUG PLUGIN_DIR - `wasmplug flow` end to end with the
# test node plugin (flownodes.wasm): run (text, --json, --state-out,
# --trace), validate (ok, a located error: exit 4), graph, replay, usage
# errors (exit 2), `run PLUGIN NODE-TYPE` and Ctrl-C during a node (exit
# 130, promptly).
set -u
W=$1
PLUGINS=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wp-cli-flow.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
bad() { echo "FAIL: $1"; failed=$((failed + 1)); }
expect() { # expect WANT_RC DESCRIPTION CMD...
    want=$1 what=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what"; else bad "$what (exit $rc, want $want)"; cat "$T/err"; fi
}
mkdir -p "$T/nodes"
cp "$PLUGINS/flownodes.wasm" "$T/nodes/"
cat >"$T/nodes/plugin.yaml" <<'Y'
id: flownodes
version: 1.0.0
module: flownodes.wasm
abi: v1
exports: [echo, wrap, spin]
Y
cat >"$T/flow.yaml" <<'Y'
nodes:
  - {name: first, type: wrap}
  - {name: pick, type: route, config: {routes: [{when: '/first/got/n > 1', action: big}], default: small}}
  - {name: big, type: transform, config: {set: {/size: '"big"'}}}
  - {name: small, type: transform, config: {set: {/size: '"small"'}}}
connections:
  - {from: first, to: pick}
  - {from: pick, to: big, action: big}
  - {from: pick, to: small, action: small}
Y
P="--plugin $T/nodes"
# shellcheck disable=SC2086
expect 0 "flow validate" "$W" flow validate "$T/flow.yaml" $P
# shellcheck disable=SC2086
expect 0 "flow run" "$W" flow run "$T/flow.yaml" $P --input '{"n": 5}' --state-out "$T/state.json" --trace "$T/trace.json"
grep -q '"size": "big"' "$T/out" && ok "run prints the final state" || bad "run prints the final state"
grep -q '"size":"big"' "$T/state.json" && ok "--state-out writes it" || bad "--state-out writes it"
grep -q '"node":"pick"' "$T/trace.json" && ok "--trace writes the run log" || bad "--trace writes the run log"
# shellcheck disable=SC2086
expect 0 "flow run --json" "$W" --json flow run "$T/flow.yaml" $P --input '{"n": 0}'
grep -q '"size": "small"' "$T/out" && grep -q '"steps"' "$T/out" && ok "--json has state and steps" || bad "--json has state and steps"
# shellcheck disable=SC2086
expect 0 "flow replay" "$W" flow replay "$T/trace.json" $P
grep -q '1 phase(s) alone, 0 difference(s), same final state' "$T/out" && ok "replay finds no difference" || { bad "replay finds no difference"; cat "$T/out"; }
# a new version of the plugin whose wrap answers differently: the whole run
# and the phase alone both see it (exit 1)
sed 's/"got":{/"got":{"extra":1,/' "$T/trace.json" >"$T/trace2.json"
# shellcheck disable=SC2086
expect 1 "flow replay of a trace that differs" "$W" flow replay "$T/trace2.json" $P
grep -q 'step 1 first: exec alone differs' "$T/out" && grep -q 'step 1 first: exec differs' "$T/out" &&
    ok "replay names the step, node and phase" || { bad "replay names the step, node and phase"; cat "$T/out"; }
# shellcheck disable=SC2086
expect 0 "flow graph" "$W" flow graph "$T/flow.yaml" $P
grep -q '"pick" -> "big" \[label="big"\]' "$T/out" && ok "graph has the edges" || bad "graph has the edges"
sed 's/type: wrap/type: wrpa/' "$T/flow.yaml" >"$T/broken.yaml"
# shellcheck disable=SC2086
expect 4 "a located error" "$W" flow validate "$T/broken.yaml" $P
grep -q "broken.yaml:2:25: node 'first' has unknown type 'wrpa' (did you mean 'wrap'?)" "$T/err" &&
    ok "the error names line and column" || { bad "the error names line and column"; cat "$T/err"; }
expect 2 "usage: no file" "$W" flow run
expect 2 "usage: unknown subcommand" "$W" flow walk "$T/flow.yaml"
# Node types from the store: an installed plugin gets exactly what was
# granted at install (notify here), not what its manifest asks for (notify
# and storage, only storage granted for 'mute'); --grant adds to it.
export WASMPLUG_STORE="$T/store"
for id in asks mute; do
    mkdir -p "$T/$id"
    cp "$PLUGINS/notify_only.wasm" "$T/$id/n.wasm"
    printf 'id: %s\nversion: 1.0.0\nmodule: n.wasm\nexports: [run]\npermissions:\n  notify: true\n  storage: true\n' \
        "$id" >"$T/$id/plugin.yaml"
    printf 'nodes:\n  - {name: tell, type: %s/run}\n' "$id" >"$T/$id.yaml"
done
expect 0 "install asks granting notify" "$W" install "$T/asks" --grant notify
expect 0 "install mute granting storage only" "$W" install "$T/mute" --grant kv
rm -rf "$T/asks" "$T/mute" # only the installed copies remain
expect 0 "a node type of an installed plugin, with its recorded grants" "$W" flow run "$T/asks.yaml"
grep -q 'flow.asks.1: Done' "$T/err" && ok "  ... its notification is shown" || { bad "  ... its notification is shown"; cat "$T/err"; }
grep -q '"tell": ""' "$T/out" && ok "  ... an empty output is an empty string" || { bad "  ... an empty output is an empty string"; cat "$T/out"; }
expect 4 "an installed plugin without the grant is refused" "$W" flow run "$T/mute.yaml"
grep -q "mute.yaml:2:24: node 'tell': cannot load plugin 'mute'.*does not grant 'notify' to plugin 'flow.mute.1'" "$T/err" &&
    ok "  ... naming the node, the plugin and the permission" || { bad "  ... naming the node, the plugin and the permission"; cat "$T/err"; }
expect 0 "--grant adds to the recorded grants" "$W" flow run "$T/mute.yaml" --grant notify
# `wasmplug run PLUGIN NODE-TYPE STATE`: a node type with the built-in prep
# runs as its exec export on the state; one with a prep of its own does not.
mkdir -p "$T/typed"
cp "$PLUGINS/flownodes.wasm" "$T/typed/"
cat >"$T/typed/plugin.yaml" <<'Y'
id: typed
version: 1.0.0
module: flownodes.wasm
exports: [echo, wrap]
nodes:
  - {name: wrap-state, exec: wrap}
  - {name: prepped, prep: echo, exec: wrap}
Y
expect 0 "run a node type: its exec on the state" "$W" run "$T/typed" wrap-state '{"n": 5}'
cp "$T/out" "$T/node.out"
expect 0 "  ... the same as its export" "$W" run "$T/typed" wrap '{"n": 5}'
cmp -s "$T/out" "$T/node.out" && ok "  ... same output" || { bad "  ... same output"; cat "$T/node.out" "$T/out"; }
expect 3 "run a node type with a prep of its own: not a function" "$W" run "$T/typed" prepped '{}'
expect 0 "info lists the node types" "$W" info "$T/typed"
grep -q 'wrap-state *(exec: wrap)' "$T/out" && grep -q 'prepped *(prep: echo, exec: wrap)' "$T/out" &&
    ok "  ... with their phases' exports" || { bad "  ... with their phases' exports"; cat "$T/out"; }
expect 0 "info --json lists the node types" "$W" --json info "$T/typed"
[ "$(jq -r '[.nodes[].name] | join(",")' "$T/out")" = "wrap-state,prepped" ] &&
    ok "  ... as nodes" || { bad "  ... as nodes"; cat "$T/out"; }
# Ctrl-C while a node's exec spins: the run is cancelled, exit 130. (A
# background job of a script starts with SIGINT ignored: env restores it.)
printf 'nodes:\n  - {name: s, type: spin}\n' >"$T/spin.yaml"
# shellcheck disable=SC2086
env --default-signal=INT "$W" flow run "$T/spin.yaml" $P >"$T/out" 2>"$T/err" &
pid=$!
sleep 1
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$pid" 2>/dev/null # never left running, whatever happened
wait "$pid"
rc=$?
[ "$rc" -eq 130 ] && ok "Ctrl-C cancels the run (exit 130)" || { bad "Ctrl-C cancels the run (exit $rc)"; cat "$T/err"; }
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
