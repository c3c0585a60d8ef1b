#!/bin/sh
# test-terminal.sh - untrusted text never reaches the terminal raw: export
# names, name-section names, manifest strings, plugin logs, plugin output
# and errors holding escape sequences, newlines, C1 controls and bytes that
# are not UTF-8 are shown escaped in text output, stay exact in --json
# output, and plugin output stays byte-exact on a pipe; workflow errors
# and states with such text or NUL characters. Terminals are real:
# script(1) runs the command on a pseudo-terminal.
#
#   test-terminal.sh WASMPLUG PLUGIN_DIR
#
# PLUGIN_DIR holds the compiled tests/cli/plugins (hostile_text.wasm,
# hostile_command.wasm, hostile_node.wasm).
set -u
W=$1
PLUG=$2
T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-term-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
export WASMPLUG_STORE="$T/store"
unset NO_COLOR
pass=0 fail=0
ESC=$(printf '\033')

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    od -c "$T/out" | head -20 | sed 's/^/       /'
}
# clean FILE: nothing but printable ASCII, spaces, tabs and newlines.
clean() { [ "$(LC_ALL=C tr -d '\t\n\040-\176' <"$1" | wc -c)" -eq 0 ]; }
# has FILE TEXT: TEXT appears in FILE.
has() { LC_ALL=C grep -qF -- "$2" "$1"; }
# check NAME CONDITION...
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
# on_tty CMD...: run CMD on a pseudo-terminal, its output (stdout and
# stderr together) in $T/out with the terminal's CR LF turned back into LF.
on_tty() {
    cmd=""
    for arg in "$@"; do cmd="$cmd '$arg'"; done
    script -qec "$cmd" /dev/null </dev/null | sed 's/\r$//' >"$T/out"
}

# The module: the name-section name of the crashing function becomes an
# escape sequence, a newline, a C0 control and an 8-bit CSI
# (16 bytes, as the placeholder).
perl -0777 -pe 's/QQQQQQQQQQQQQQQQ/\e[2J\nfak\x01\xc2\x9bname!/' \
    "$PLUG/hostile_text.wasm" >"$T/hostile.wasm"
check "the name section was patched" has "$T/hostile.wasm" "fak"

# inspect: export names escaped in text, exact in JSON.
"$W" inspect "$T/hostile.wasm" >"$T/out" 2>&1
check "inspect: no raw control bytes" clean "$T/out"
check "inspect: export name shown escaped" has "$T/out" 'crash\e[31m\nforged\u009b'
"$W" --json inspect "$T/hostile.wasm" >"$T/out" 2>&1
check "inspect --json: exact name" \
    test "$(jq -r '.exports[] | select(.name | startswith("crash")) | .name' "$T/out")" = \
         "$(printf 'crash\033[31m\nforged\302\233')"

# run: a trap in the function with the hostile names; the backtrace shows
# the name-section name escaped, on one line.
"$W" run --grant host.log "$T/hostile.wasm" "$(printf 'crash\033[31m\nforged\302\233')" >"$T/out" 2>&1
check "trap: no raw control bytes" clean "$T/out"
check "trap: backtrace name escaped" has "$T/out" '\e[2J\nfak\x01\u009bname!'
check "trap: no forged line" sh -c "! grep -q '^fak' '$T/out'"
"$W" run --grant host.log "$T/hostile.wasm" "no$(printf '\033')[5mpe" >"$T/out" 2>&1
check "unknown function: no raw control bytes" clean "$T/out"
check "unknown function: exports listed escaped" has "$T/out" 'crash\e[31m\nforged\u009b'

# A manifest with hostile strings, granting host.log.
mkdir -p "$T/plugin"
cp "$T/hostile.wasm" "$T/plugin/hostile.wasm"
cat >"$T/plugin/plugin.yaml" <<'EOF'
id: hostile
version: 1.0.0
name: "Evil\e]0;pwned\a"
description: "line one\nFAKE: line two \e[2J"
module: hostile.wasm
exports: [run]
license: "MIT\r\e[8m"
config:
  "key\e[1m": "value\nforged"
permissions:
  host_functions: [host.log]
EOF
"$W" info "$T/plugin" >"$T/out" 2>&1
check "info: no raw control bytes" clean "$T/out"
check "info: name escaped" has "$T/out" 'Evil\e]0;pwned\x07'
check "info: description escaped" has "$T/out" 'line one\nFAKE: line two \e[2J'
check "info: config escaped" has "$T/out" 'key\e[1m = value\nforged'
check "info: no forged line" sh -c "! grep -q '^FAKE' '$T/out'"
"$W" --json info "$T/plugin" >"$T/out" 2>&1
check "info --json: exact description" \
    test "$(jq -r .description "$T/out")" = "$(printf 'line one\nFAKE: line two \033[2J')"
"$W" -q install --yes "$T/plugin" >/dev/null 2>&1
"$W" list >"$T/out" 2>&1
check "list: no raw control bytes" clean "$T/out"
check "list: description escaped" has "$T/out" 'line one\nFAKE: line two \e[2J'
"$W" validate "$T/plugin" >"$T/out" 2>&1
check "validate: no raw control bytes" clean "$T/out"

# install lists the requested permissions for the operator to decide on:
# a directory named to forge the list is shown escaped, and refused (the
# grants file holds one permission per line).
mkdir -p "$T/plugin2"
cp "$T/hostile.wasm" "$T/plugin2/hostile.wasm"
cat >"$T/plugin2/plugin.yaml" <<'EOF'
id: hostile-dirs
version: 1.0.0
module: hostile.wasm
exports: [run]
permissions:
  dirs:
    - {host: "/tmp/x\e[8m", guest: "/data\n  - nothing else  (none)"}
EOF
"$W" install "$T/plugin2" >"$T/out" 2>&1
check "install: consent list without raw control bytes" clean "$T/out"
check "install: directory shown escaped" has "$T/out" 'read directory /tmp/x\e[8m as /data\n  - nothing else'
check "install: no forged request line" sh -c "! grep -q '^  - nothing else' '$T/out'"
"$W" install --yes "$T/plugin2" >"$T/out" 2>&1
rc=$?
check "install --yes: refused with a reason" \
    sh -c "[ $rc -eq 4 ] && grep -q 'holds control characters' '$T/out'"

# Logs (host.log and the ABI's log) are escaped, each on one line; the
# call's output is exact on a pipe and escaped on a terminal.
"$W" run "$T/plugin" run >"$T/stdout" 2>"$T/out"
check "logs: no raw control bytes" clean "$T/out"
check "logs: host.log line escaped" has "$T/out" '[hostile] log\e]0;pwned\x07\n[fake] line\u009b31m'
check "logs: ABI log line escaped" has "$T/out" '[hostile info] log\e]0;pwned\x07\n[fake] line'
check "logs: no forged line" sh -c "! grep -q '^\[fake\]' '$T/out'"
check "output on a pipe: exact bytes" \
    test "$(od -An -c "$T/stdout" | tr -d ' \n')" = 'out033[2J\r377done'
on_tty "$W" --color never run "$T/plugin" run
check "output on a terminal: no raw control bytes" clean "$T/out"
check "output on a terminal: escaped" has "$T/out" 'out\e[2J\r\xff done'
"$W" --json run "$T/plugin" run >"$T/out" 2>/dev/null
check "run --json: valid JSON" jq -e .ok "$T/out"

# exec: the command's stdout and stderr, exact on pipes, escaped on a
# terminal (a UTF-8 sequence split between two writes is still one).
"$W" exec "$PLUG/hostile_command.wasm" >"$T/stdout" 2>"$T/stderr"
check "exec on pipes: exact stdout" has "$T/stdout" "cmd${ESC}]0;pwned"
check "exec on pipes: exact stderr" has "$T/stderr" "cmd${ESC}]0;pwned"
on_tty "$W" --color never exec "$PLUG/hostile_command.wasm"
check "exec on a terminal: no raw control bytes" clean "$T/out"
check "exec on a terminal: escaped" has "$T/out" 'cmd\e]0;pwned\x07\e[2J\rover\xff\u009b31m tail'
check "exec on a terminal: both streams" test "$(grep -c '^cmd' "$T/out")" -eq 2

# flow: a node's error message is shown on one line, whatever it holds;
# output with NUL characters is kept in the state as a string, and printed,
# in JSON and replayed.
mkdir -p "$T/node"
cp "$PLUG/hostile_node.wasm" "$T/node/"
printf 'id: hostile-node\nversion: 1.0.0\nmodule: hostile_node.wasm\nexports: [fail, nul]\n' \
    >"$T/node/plugin.yaml"
printf 'nodes:\n  - name: n\n    type: fail\n' >"$T/fail.yaml"
printf 'nodes:\n  - name: n\n    type: nul\n' >"$T/nul.yaml"
on_tty "$W" --color never flow run "$T/fail.yaml" --plugin "$T/node"
check "flow error: no raw control bytes" clean "$T/out"
check "flow error: message escaped" has "$T/out" 'bad\e]0;pwned\x07\n[fake] line'
check "flow error: no forged line" sh -c "! grep -q '^\[fake\]' '$T/out'"
"$W" --json flow run "$T/fail.yaml" --plugin "$T/node" >"$T/out" 2>/dev/null
check "flow error --json: exact message" \
    sh -c "jq -r .error.message '$T/out' | grep -q '^\[fake\] line'"
on_tty "$W" --color never flow run "$T/nul.yaml" --plugin "$T/node" --trace "$T/nul-trace.json"
check "flow state with NULs: printed, escaped" has "$T/out" '"n": "{\"k\":1}\u0000\u0000\u001B[2J"'
check "flow state with NULs: no raw control bytes" clean "$T/out"
"$W" --json flow run "$T/nul.yaml" --plugin "$T/node" >"$T/out" 2>&1
check "flow state with NULs --json: exact" \
    test "$(jq -r .state.n "$T/out" | od -An -c | tr -d ' \n')" = '{"k":1}\0\0033[2J\n'
"$W" flow replay "$T/nul-trace.json" --plugin "$T/node" >"$T/out" 2>&1
check "flow replay of a trace with NULs" has "$T/out" "0 difference(s), same final state"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
