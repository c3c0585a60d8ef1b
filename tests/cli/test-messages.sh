#!/bin/sh
# test-messages.sh WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR EXAMPLE_PLUGIN_DIR
# What the command says and how it exits when things go wrong, as a new
# user meets it: limit flags against the manifest, denied imports, --json
# errors (usage errors included), inputs given twice, broken modules and
# missing manifests, the install race, log levels, Ctrl-C, the store
# option, and the demo keeping to its temporary directory.
W=$1 PLUG=$2 SRC=$3 EXAMPLES=${4:-}
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR [EXAMPLE_PLUGIN_DIR]" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; '') ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") PLUG=$(abs "$PLUG") SRC=$(abs "$SRC") EXAMPLES=$(abs "$EXAMPLES")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
mkplug p/echo echo echo echo.wasm
mkplug p/needs_log needs_log needs_log needs_log.wasm
mkplug p/denied denied needs_log needs_log.wasm

echo "# limits: the operator's flags against the manifest"
if [ -f "$EXAMPLES/hello.wasm" ]; then
    mkdir -p fib
    cp "$EXAMPLES/hello.wasm" fib/
    printf 'id: fib\nversion: 1.0.0\nmodule: hello.wasm\npermissions:\n  host_functions: [host.log, host.add]\nresources:\n  fuel: 1000\n' >fib/plugin.yaml
    run "$W" run ./fib fib 100000
    expect "the manifest's fuel applies without a flag (exit 6)" 6 "fuel"
    run "$W" run ./fib fib 100000 --fuel 100000000
    expect "--fuel raises the manifest's limit" 0
    run "$W" run ./fib fib 100000 --fuel 2000
    expect "the error quotes the flag's value, not the manifest's" 6 "2000"
else
    echo "skip --fuel over the manifest (no example hello.wasm)"
fi
run "$W" run p/echo echo "hello world" --max-input 4
expect "--max-input (exit 6)" 6 "input"
run "$W" run p/echo echo "hello world" --max-output 4
expect "--max-output (exit 6)" 6 "output"
run "$W" run p/echo echo "hi" --max-input 4
expect "--max-input: a small input passes" 0 "hi"
run "$W" run p/echo echo "hi" --max-input lots
expect "--max-input: a bad size (exit 2)" 2 "--max-input takes a size"
run "$W" exec --max-input 4 "$PLUG/wasi_exit3.wasm"
expect "exec refuses --max-input (run only)" 2 "for \`run\`"

echo "# denied imports name the cause and the flag"
run "$W" run p/needs_log run --deny host.log
expect "--deny of a requested function blames --deny" 5 "denied by --deny host.log" "the manifest requests it"
check "  ... and not the manifest" sh -c "! grep -q 'does not request' '$T/err'"
run "$W" run "$PLUG/needs_log.wasm" run
expect "a bare .wasm needing a grant: names --grant" 5 "without a manifest" "--grant host.log"
run "$W" run p/denied run
expect "a manifest not requesting it: names the key and --grant" 5 "does not request it" "permissions.host_functions" "--grant host.log"
run "$W" run p/denied run --grant host.log
expect "  ... and --grant fixes it" 0
run "$W" run p/needs_log run --grant ''
expect "--grant '' is a usage error, not the manifest's fault" 2 "--grant needs a permission" "empty string"

echo "# --json: one error schema, usage errors included"
json_error() { # NAME EXIT: stdout is {"ok": false, "error": {kind, message, exit_code}}
    if [ "$rc" = "$2" ] && grep -q '"ok": false' "$T/out" && grep -q '"kind": "' "$T/out" &&
        grep -q '"message": "' "$T/out" && grep -q "\"exit_code\": $2" "$T/out"; then
        ok "$1"
    else
        bad "$1 (exit $rc, expected $2 and the error schema on stdout)"
    fi
}
run "$W" --json frobnicate
json_error "--json: unknown command" 2
run "$W" run --bogus --json
json_error "--json after a bad option: still JSON" 2
run "$W" --json run
json_error "--json: missing arguments" 2
run "$W" --json run p/echo echo x --input-file /dev/null
json_error "--json: INPUT and --input-file" 2
run "$W" --json run nothing-here f
json_error "--json: not found" 3
run "$W" --json run p/needs_log run --deny host.log
json_error "--json: permission denied" 5
run "$W" --json exec "$PLUG/wasi_exit3.wasm"
json_error "--json: exec refuses it (its result is the module's own output)" 2
run "$W" --json new c
json_error "--json: new without NAME" 2
run "$W" --json --store '' list
json_error "--json: --store ''" 2
run "$W" run p/echo echo "from-arg" --input-file /dev/null
expect "INPUT together with --input-file is an error" 2 "not both"

echo "# broken modules, missing manifests, the store"
mkdir -p broken
printf 'id: broken\nversion: 1.0.0\nmodule: plugin.wasm\n' >broken/plugin.yaml
printf '\0asm\1\0\0\0\1\377' >broken/plugin.wasm
run "$W" info ./broken
expect "info on a broken module exits non-zero (4) after showing it" 4 "broken 1.0.0"
printf '\0asm' >four.wasm
run "$W" inspect four.wasm
expect "inspect: \\\\0asm alone: the version field is missing" 4 "the version field is missing"
mkdir -p emptydir
run "$W" validate emptydir
expect "validate DIR without plugin.yaml says so" 3 "emptydir is a directory without emptydir/plugin.yaml"
run "$W" validate ./emptydir
expect "validate ./DIR without plugin.yaml says so" 3 "without ./emptydir/plugin.yaml"
run "$W" remove 'echo-plugin@../../x'
expect "remove ID@../../x blames the version" 2 "invalid version '../../x'"
for i in 1 2 3 4; do
    ("$W" install p/echo >"$T/race$i.out" 2>&1; echo $? >"$T/race$i.rc") &
done
wait
wins=0 losses=0
for i in 1 2 3 4; do
    case $(cat "$T/race$i.rc") in
    0) wins=$((wins + 1)) ;;
    7) grep -q "already installed" "$T/race$i.out" && losses=$((losses + 1)) ;;
    esac
done
check "concurrent installs: one wins, the others say 'already installed' ($wins/$losses)" \
    test "$wins" -eq 1 -a "$losses" -eq 3
run "$W" --store '' list
expect "--store '' is a usage error" 2 "--store needs a directory"
run "$W" --store /dev/null list
expect "--store /dev/null: not a directory (exit 7)" 7 "/dev/null is not a directory"
run "$W" --store /dev/null install p/echo
expect "--store /dev/null: install says so too" 7 "/dev/null is not a directory"

echo "# manifests: every error, one document, UTF-8, spaces"
printf 'id: -x\nversion: 1.2\nnmae: y\n' >many.yaml
run "$W" validate many.yaml
expect "every manifest error is reported, not only the first" 4 \
    "many.yaml:1:5: 'id' must be" "many.yaml:2:10: 'version' must be" "many.yaml:3:1: unknown key 'nmae'"
run "$W" --json validate many.yaml
expect "  ... and listed in --json" 4 '"errors": [' '"error_count": 3'
printf 'id: x\nversion: 1.0.0\n---\nid: y\n' >multi.yaml
run "$W" validate multi.yaml
expect "a multi-document manifest is an error" 4 "multi.yaml:3:1: a manifest is one YAML document"
printf 'id: x\nversion: 1.0.0\ndescription: a \377 b\n' >latin.yaml
run "$W" validate latin.yaml
expect "bytes that are not UTF-8: line and column" 4 "latin.yaml:3:16:" "not UTF-8"
printf 'id: x\nversion: 1.0.0\npermissions:\n\thost_functions: [a.b]\n' >tab.yaml
run "$W" validate tab.yaml
expect "a tab in the indentation is named" 4 "tab.yaml:4:1: a tab in the indentation"

echo "# backtraces without a name section"
if command -v wasm-strip >/dev/null 2>&1; then
    cp "$PLUG/echo.wasm" stripped.wasm
    wasm-strip stripped.wasm
    run "$W" run stripped.wasm trap
    expect "a trap in an exported function is named from the export table" 1 "in function trap"
else
    echo "skip the export-name fallback (no wasm-strip)"
fi

echo "# output control: plugin log levels"
run "$W" run "$PLUG/log_levels.wasm" run
expect "default: info and above" 0 "line-info" "line-warn" "line-error"
check "  ... no debug or trace lines by default" sh -c "! grep -q 'line-debug\\|line-trace' '$T/err'"
run "$W" run "$PLUG/log_levels.wasm" run -v
expect "-v: debug lines" 0 "line-debug" "line-info"
check "  ... still no trace" sh -c "! grep -q line-trace '$T/err'"
run "$W" --log-level trace run "$PLUG/log_levels.wasm" run
expect "--log-level trace: everything" 0 "line-trace" "line-debug"
run "$W" run "$PLUG/log_levels.wasm" run --log-level warn
expect "--log-level warn" 0 "line-warn" "line-error"
check "  ... nothing below warn" sh -c "! grep -q 'line-info' '$T/err'"
run "$W" -q run "$PLUG/log_levels.wasm" run
expect "-q: the output alone" 0 "done"
check "  ... no log lines" test ! -s "$T/err"
run "$W" run "$PLUG/log_levels.wasm" run --log-level loud
expect "--log-level with a bad level (exit 2)" 2 "--log-level takes trace, debug, info, warn or error"
run "$W" exec "$PLUG/wasi_exit3.wasm"
expect "exec: the module's own exit status, said so" 3 "exited with status 3 (the module's own exit status)"

echo "# Ctrl-C"
# interrupt ARGS...: wasmplug ARGS in the background (SIGINT at its default
# action, as in a terminal: env restores it for a background job), SIGINT
# once its main thread blocks SIGINT (its Ctrl-C watcher runs from then on;
# a fixed delay could reach a process still starting on a loaded machine),
# then its exit status in rc. Bounded: 30 s to get there, 60 s to exit.
interrupt() {
    env --default-signal=INT "$W" "$@" >"$T/out" 2>"$T/err" </dev/null &
    pid=$!
    i=0
    while [ $i -lt 300 ]; do
        blk=$(sed -n 's/^SigBlk:[[:space:]]*//p' "/proc/$pid/status" 2>/dev/null)
        [ -n "$blk" ] || break # exited already
        blk=${blk#????????}    # the low 32 signals
        [ $((0x$blk & 2)) -ne 0 ] && break
        sleep 0.1
        i=$((i + 1))
    done
    kill -INT "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    kill -KILL "$pid" 2>/dev/null # never left running, whatever happened
    wait "$pid"
    rc=$?
}
interrupt run p/echo spin
expect "run: SIGINT cancels the call, says so, exits 130" 130 "interrupted (SIGINT): the call of spin was cancelled"
interrupt exec "$PLUG/wasi_spin.wasm"
expect "exec: SIGINT stops the module, says so, exits 130" 130 "interrupted (SIGINT)"
interrupt --json run p/echo spin
json_error "run --json: SIGINT in the error schema" 130

echo "# make demo keeps to its temporary directory"
DEMO=$SRC/../../examples/demo.sh
if [ -f "$DEMO" ] && [ -n "$EXAMPLES" ]; then
    mkdir -p "$T/home"
    run env -u WASMPLUG_CACHE_DIR -u WASMPLUG_STORE -u XDG_CACHE_HOME -u XDG_DATA_HOME \
        HOME="$T/home" WASMPLUG_DEMO_BUILD=0 sh "$DEMO" "$(dirname "$W")"
    expect "the demo runs" 0
    check "  ... and leaves \$HOME untouched (no store, no module cache)" \
        test -z "$(ls -A "$T/home")"
fi

echo "# a module's own manifest (plugin_get_manifest)"
run "$W" info "$PLUG/getman_ok.wasm"
expect "info reads the manifest its export answers" 0 "self-described 2.1.0" "*.get_file_content" \
    "timeout         5000 ms"
run "$W" run "$PLUG/getman_ok.wasm" answer
expect "  ... and run loads it with it" 0
run "$W" info "$PLUG/getman_oob.wasm"
expect "an answer outside memory is refused, saying so (exit 4)" 4 \
    "plugin_get_manifest returned 100 bytes at address 65530, outside the plugin's memory"
run "$W" info "$PLUG/getman_spin.wasm"
expect "an export that never returns runs out of fuel (exit 4)" 4 "plugin_get_manifest failed" "fuel"
run "$W" info "$PLUG/getman_import.wasm"
expect "an export calling the host is refused (exit 4)" 4 \
    "import env.get_file_content called while reading the manifest"

cli_done
