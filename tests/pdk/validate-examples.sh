#!/bin/sh
# validate-examples.sh - check each example's plugin.yaml with the wasmplug
# CLI: copy the example directory, put the module built by the tests where
# the manifest's `module` says, run `wasmplug validate` on it, then run one
# function through `wasmplug run` (the manifest's config defaults apply).
#
#   tests/pdk/validate-examples.sh WASMPLUG_CLI PLUGIN_DIR EXAMPLES_DIR
set -eu
[ $# -eq 3 ] || { echo "usage: $0 WASMPLUG_CLI PLUGIN_DIR EXAMPLES_DIR" >&2; exit 2; }
cli=$1
plugins=$2
examples=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

# example-dir built-plugin function input expected-output
check() {
    dir=$1 built=$2 func=$3 input=$4 want=$5
    if [ ! -f "$plugins/$built.wasm" ]; then
        echo "skip $dir: $built.wasm not built"
        return
    fi
    cp -r "$examples/$dir" "$work/$dir"
    module=$(sed -n 's/^module: *//p' "$work/$dir/plugin.yaml")
    cp "$plugins/$built.wasm" "$work/$dir/$module"
    if "$cli" validate "$work/$dir" >"$work/out" 2>&1; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL wasmplug validate $dir:"
        cat "$work/out"
    fi
    got=$("$cli" run "$work/$dir" "$func" "$input" 2>"$work/err" || true)
    if [ "$got" = "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL wasmplug run $dir $func: got '$got', want '$want'"
        cat "$work/err"
    fi
}

check word-counter word_counter count '{"text":"The quick brown fox and the fox"}' \
    '{"words":4,"unique":3,"filtered":3,"top":[{"word":"fox","count":2},{"word":"quick","count":1},{"word":"brown","count":1}]}'
check sentiment-analyzer sentiment_analyzer analyze '{"text":"I like it"}' \
    '{"sentiment":"positive","score":2,"normalized":0.4588,"threshold":0.3,"words":3,"positive":["like"],"negative":[]}'
check json-transformer json_transformer apply '{"document":{"a":1},"operations":[{"op":"rename","from":"a","to":"b"}]}' \
    '{"b":1}'
check file-icons file_icons icon '{"name":"main.zig"}' \
    '{"name":"main.zig","icon":"zig","color":"#ec915c"}'
check event-counter-compat event_counter_compat plugin_handle_event '{"type":"x"}' \
    '{"ok":true,"type":"x","count":1,"total":1}'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
