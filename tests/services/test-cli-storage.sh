#!/bin/sh
# test-cli-storage.sh WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR - storage in
# the wasmplug command: `run` keeps a plugin's key-value data in
# --data-dir/<id>/ across runs and versions, a failed call leaves nothing,
# quotas give exit 6; `wasmplug kv` lists, gets, sets, deletes, exports and
# imports it; `remove` keeps the data unless --purge.
W=$1 PLUG=$2 SRC=$3 EXAMPLES=${4:-}
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR [EXAMPLES_SOURCE BUILT_EXAMPLES]" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") PLUG=$(abs "$PLUG") SRC=$(abs "$SRC")
[ -n "$EXAMPLES" ] && EXAMPLES=$(abs "$EXAMPLES") BUILT=$(abs "$5")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
export WASMPLUG_PLUGIN_DATA="$T/plugin-data"

mkdir -p kvp small sql
cp "$PLUG/kvplug.wasm" kvp/
cp "$PLUG/kvplug.wasm" small/
cp "$PLUG/sqlplug.wasm" sql/
cat >kvp/plugin.yaml <<YAML
id: kvp
version: 1.0.0
module: kvplug.wasm
permissions:
  storage: true
YAML
cat >small/plugin.yaml <<YAML
id: small
version: 1.0.0
module: kvplug.wasm
permissions:
  storage: {quota: 100}
YAML
cat >sql/plugin.yaml <<YAML
id: sqlp
version: 1.0.0
module: sqlplug.wasm
permissions:
  database: true
YAML

echo "# run keeps data between runs"
run "$W" run kvp set "color=blue"
expect "run: set" 0
run "$W" run kvp get color
expect "run: a later run reads it" 0 "blue"
check "  ... from --data-dir/<id>/kv.sqlite" test -f "$T/plugin-data/kvp/kv.sqlite"
run "$W" run kvp set_then_trap "color=red"
expect "run: a trapping call fails" 1
run "$W" run kvp get color
expect "  ... and its write is gone" 0 "blue"
run "$W" run small big 500
expect "run: over the quota is exit 6, naming plugin and quota" 6 \
    "plugin 'small' is over its key-value quota of 100 bytes"
run "$W" run sql exec "CREATE TABLE t(x); INSERT INTO t VALUES(42)"
expect "run: SQL" 0
run "$W" run sql query "SELECT x FROM t"
expect "  ... kept too" 0 '[{"x":42}]'
run "$W" run sql exec "ATTACH 'x' AS y"
expect "  ... forbidden SQL is exit 5" 5 "forbidden SQL: ATTACH"

echo "# wasmplug kv"
run "$W" kv kvp get color
expect "kv get" 0 "blue"
run "$W" kv kvp set size large
expect "kv set" 0
run "$W" run kvp get size
expect "  ... the plugin sees it" 0 "large"
run "$W" kv kvp list
expect "kv list" 0 "color" "size"
run "$W" kv kvp list --limit 1
check "kv list --limit 1: one key" test "$(cat "$T/out")" = "color"
run "$W" kv kvp list --after color
check "kv list --after: the next page" test "$(cat "$T/out")" = "size"
run "$W" kv kvp list si
check "kv list PREFIX" test "$(cat "$T/out")" = "size"
run "$W" --json kv kvp get color
expect "kv get --json" 0 '"value": "blue"'
run "$W" kv kvp export "$T/export.json"
expect "kv export" 0
check "  ... as JSON" grep -q '"format": "wasmplug-kv"' "$T/export.json"
run "$W" kv other import "$T/export.json"
expect "kv import into another id" 0
run "$W" kv other get size
expect "  ... has the data" 0 "large"
run "$W" kv kvp delete size
expect "kv delete" 0
run "$W" kv kvp delete size
expect "kv delete of a missing key: exit 3" 3 "has no such key"
run "$W" kv kvp import "$T/export.json" --replace
expect "kv import --replace" 0
run "$W" kv kvp get size
expect "  ... restores it" 0 "large"
printf '{"format": "wasmplug-kv", "entries": [{"key": ""}]}' >"$T/bad.json"
run "$W" kv kvp import "$T/bad.json"
expect "kv import of a bad file: exit 2, naming the entry" 2 "entry 0"
run "$W" kv nobody list
expect "kv of a plugin without data: exit 3" 3 "has no key-value data"
run "$W" kv kvp frobnicate
expect "kv with a bad action: usage" 2 "usage: wasmplug kv PLUGIN"
run "$W" kv kvp set k v extra
expect "kv with too many words: usage" 2 "usage: wasmplug kv PLUGIN"

echo "# remove keeps data unless --purge"
run "$W" install kvp --yes
expect "install" 0
run "$W" run kvp get color
expect "the installed plugin reads the data" 0 "blue"
run "$W" remove kvp
expect "remove" 0
check "  ... keeps the data" test -f "$T/plugin-data/kvp/kv.sqlite"
run "$W" install kvp --yes
run "$W" remove kvp@1.0.0 --purge
expect "remove ID@VERSION --purge is refused" 2 "versions share"
run "$W" remove kvp --purge
expect "remove --purge" 0 "and its data"
check "  ... deletes the data" test ! -e "$T/plugin-data/kvp"

if [ -n "$EXAMPLES" ] && [ -f "$BUILT/notes.wasm" ]; then
    echo "# the examples: notes (SQL) and content-indexer (key-value)"
    mkdir -p notes indexer
    cp "$EXAMPLES/notes/plugin.yaml" "$BUILT/notes.wasm" notes/
    cp "$EXAMPLES/content-indexer/plugin.yaml" "$BUILT/content_indexer.wasm" indexer/
    run "$W" run notes add "buy milk"
    expect "notes add" 0 '{"id":1}'
    run "$W" run notes add "call O'Brien'); DROP TABLE notes; --"
    expect "notes add (quotes are data)" 0 '{"id":2}'
    run "$W" run notes search milk
    expect "notes search, in a later run" 0 '"text":"buy milk"'
    run "$W" run notes list
    expect "notes list" 0 "DROP TABLE notes"
    run "$W" run notes remove 1
    expect "notes remove" 0 '{"removed":1}'
    run "$W" run indexer index "A cat. A dog, a CAT."
    expect "content-indexer index" 0 '{"words":6}'
    run "$W" run indexer index "the cat"
    run "$W" run indexer count cat
    expect "content-indexer count across runs" 0 '{"word":"cat","count":3}'
    run "$W" run indexer words c
    expect "content-indexer words" 0 '["cat"]'
    run "$W" kv content-indexer get w:a
    expect "  ... its counts in wasmplug kv" 0 "3"
fi

cli_done
