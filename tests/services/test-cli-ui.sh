#!/bin/sh
# test-cli-ui.sh WASMPLUG TESTS_CLI_SOURCE_DIR EXAMPLES_SOURCE BUILT_EXAMPLES -
# UI contributions in the wasmplug command: `info` lists a plugin's panels,
# block types and commands (text and --json), `validate` checks their
# exports, manifest errors under `ui:` are located, and `install` asks for
# the grants ui and ui.scripts (the latter highlighted) and records them.
W=$1 SRC=$2 EXAMPLES=$3 BUILT=$4
if [ -z "$W" ] || [ -z "$SRC" ] || [ -z "$EXAMPLES" ] || [ -z "$BUILT" ]; then
    echo "usage: $0 WASMPLUG TESTS_CLI_SOURCE_DIR EXAMPLES_SOURCE BUILT_EXAMPLES" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") SRC=$(abs "$SRC") EXAMPLES=$(abs "$EXAMPLES") BUILT=$(abs "$BUILT")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
export WASMPLUG_STORE="$T/store"

mkdir -p tally
cp "$EXAMPLES/tally/plugin.yaml" "$BUILT/tally.wasm" tally/

echo "# info"
run "$W" info tally
expect "info lists the contributions" 0 "UI (needs the grant ui)" \
    "panel overview  Tally overview (render_overview; data: info, metrics, errors)" \
    "panel clock     Clock (render_clock; scripts (grant ui.scripts))" \
    "block badge     Badge (render_badge; props: label string, value number)" \
    "command reset   Reset the total (reset)"
run "$W" info --json tally
expect "info --json has them" 0 '"kind": "block"' '"id": "badge"' '"label": "string"' \
    '"export": "render_clock"' '"scripts": true'

echo "# validate"
run "$W" validate tally
expect "validate checks each render and handler" 0 "ui        panel overview: render_overview" \
    "command reset: reset"
sed 's/render: render_badge/render: render_missing/' tally/plugin.yaml >tally/plugin.tmp &&
    mv tally/plugin.tmp tally/plugin.yaml
run "$W" validate tally
expect "  ... and fails on a missing one (exit 4)" 4 "block badge names the export render_missing, which the module does not have"
cp "$EXAMPLES/tally/plugin.yaml" tally/

echo "# manifest errors"
mkdir -p broken
cp "$BUILT/tally.wasm" broken/
printf 'id: broken\nversion: 1.0.0\nmodule: tally.wasm\nui:\n  panels:\n    - {id: p, titel: P}\n' \
    >broken/plugin.yaml
run "$W" info broken
expect "a misspelt key is located, with a hint (exit 4)" 4 "plugin.yaml:6:15: unknown key 'titel' in a panel: did you mean 'title'?"

echo "# install asks for ui and ui.scripts"
run "$W" install tally
expect "install lists the UI requests" 2 "tally requests 3 permissions (kv, ui, ui.scripts)" \
    "contribute UI: 2 panels, 1 block type, 1 command" \
    "wide: scripts in its frames"
run "$W" install tally --grant kv --grant ui
expect "install --grant ui" 0
run "$W" info tally
expect "info shows the grant" 0 "Granted (at install)"
check "  ... recorded in the store" grep -qx "ui" "$T/store/plugins/tally/1.0.0/grants"
check "  ... without ui.scripts" sh -c "! grep -qx ui.scripts '$T/store/plugins/tally/1.0.0/grants'"

cli_done
