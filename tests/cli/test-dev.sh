#!/bin/sh
# test-dev.sh WASMPLUG TESTS_CLI_SOURCE_DIR - `wasmplug dev` end to end: a
# C project made by `wasmplug new` is built, loaded and called; editing its
# source rebuilds it, hot-reloads it and calls again with the new output; a
# source that does not compile leaves the running version (no call); a
# version that traps prints the error with its backtrace. Every wait is
# bounded (60 s); `--runs 3` ends the command after its third call.
W=$1 SRC=$2
if [ -z "$W" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"

# wait_for FILE TEXT: until TEXT is in FILE (60 s at most).
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 600 ]; then
            return 1
        fi
        sleep 0.1
    done
}
# edit SED-SCRIPT: change the project's plugin.c in one save (a new file
# renamed over the old one, as editors do).
edit() {
    sed "$1" hello/plugin.c >hello/plugin.c.new && mv hello/plugin.c.new hello/plugin.c
}

run "$W" new c hello
expect "new c hello" 0
"$W" dev hello greet '{"name":"Ada"}' --runs 3 >dev.out 2>dev.err </dev/null &
pid=$!
if wait_for dev.out 'Hello, Ada!'; then ok "first build and call"; else bad "first build and call"; fi
wait_for dev.err 'watching hello' || true

# A source that does not compile: the build fails, nothing is called.
edit 's|wp_buf msg = {0};|wp_buf msg = {0} oops;|'
if wait_for dev.err 'build failed'; then ok "a failing build is reported"; else bad "a failing build is reported"; fi
# Fixed, with a new ending: rebuilt, reloaded, called again.
edit 's|wp_buf msg = {0} oops;|wp_buf msg = {0};|; s|"!")|"!!")|'
if wait_for dev.out 'Hello, Ada!!'; then ok "edit: the new output"; else bad "edit: the new output"; fi
# A save that builds the same module: nothing reloaded, no call.
touch hello/plugin.c
if wait_for dev.err 'did not change'; then ok "an unchanged module is not reloaded"; else bad "an unchanged module is not reloaded"; fi
# A version that traps: the error and its backtrace (the function's name).
edit 's|wp_buf msg = {0};|wp_buf msg = {0}; if (name[0] == 0x41) __builtin_trap();|'
if wait_for dev.err 'unreachable'; then ok "a trap: the error"; else bad "a trap: the error"; fi
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 $pid 2>/dev/null; then
    kill $pid
    bad "--runs 3 ends the command"
else
    wait $pid
    rc=$?
    cp dev.out "$T/out"
    cp dev.err "$T/err"
    expect "--runs 3 ends the command" 0 "reloaded hello" "#0" "greet"
fi
check "two outputs on stdout" test "$(grep -c 'Ada!' dev.out)" -eq 2
check "the build output on stderr" grep -q 'built .*plugin.wasm' dev.err

run "$W" dev
expect "dev without a project" 2 "which plugin project"
run "$W" dev nowhere
expect "dev of a missing directory" 3 "not a directory"
cli_done
