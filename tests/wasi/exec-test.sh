#!/bin/sh
# exec-test.sh - exec_test (the minimal `wasmplug exec`) end to end: stdin and
# stdout/stderr pass through, the exit code is the module's, failures give 125.
#   exec-test.sh EXEC_TEST MODULE_DIR
set -u
exec_test=$1 dir=$2
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1"; fi; }
tmp=${TMPDIR:-/tmp}/wasi-exec-$$
mkdir -p "$tmp"

printf 'some input\nbytes' | "$exec_test" "$dir/cmd_cat.wasm" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "cat: exit code is the number of reads" '[ $rc -eq 1 ]'
check "cat: stdout passes through" '[ "$(cat "$tmp/out")" = "$(printf "some input\nbytes")" ]'
check "cat: stderr passes through" '[ "$(cat "$tmp/err")" = "!" ]'
"$exec_test" "$dir/cmd_cat.wasm" </dev/null >"$tmp/out" 2>/dev/null
rc=$?
check "cat: empty stdin" '[ $rc -eq 0 ] && [ ! -s "$tmp/out" ]'
"$exec_test" "$dir/cmd_exit.wasm" >"$tmp/out"
rc=$?
check "exit: proc_exit(42)" '[ $rc -eq 42 ] && [ "$(cat "$tmp/out")" = "hi" ]'
"$exec_test" "$dir/cmd_return.wasm"
rc=$?
check "return: exit 0" '[ $rc -eq 0 ]'
"$exec_test" --fuel 10000 "$dir/cmd_spin.wasm" 2>"$tmp/err"
rc=$?
check "spin: fuel limit gives 125" '[ $rc -eq 125 ] && grep -q "fuel" "$tmp/err"'
"$exec_test" "$dir/link_other.wasm" 2>"$tmp/err"
rc=$?
check "non-WASI import gives 125" '[ $rc -eq 125 ] && grep -q "env.thing" "$tmp/err"'
"$exec_test" "$dir/no-such-file.wasm" 2>/dev/null
rc=$?
check "missing module gives 125" '[ $rc -eq 125 ]'
"$exec_test" --dir /nonexistent/dir:/x "$dir/cmd_return.wasm" 2>"$tmp/err"
rc=$?
check "missing preopen gives 125" '[ $rc -eq 125 ] && grep -q "/nonexistent/dir" "$tmp/err"'
if [ -f "$dir/polltest.wasm" ]; then
    (sleep 0.2; echo hello) | "$exec_test" "$dir/polltest.wasm" >"$tmp/out"
    rc=$?
    check "poll: stdin becomes readable" '[ $rc -eq 0 ] && grep -q "^poll=1 " "$tmp/out" && grep -q "^read=6$" "$tmp/out"'
    check "poll: sleeps advance the clock" 'grep -q "^slept>=70: 1$" "$tmp/out"'
    "$exec_test" "$dir/polltest.wasm" </dev/null >"$tmp/out"
    check "poll: EOF is readable" 'grep -q "^poll=1 revents=1$" "$tmp/out" && grep -q "^read=0$" "$tmp/out"'
    "$exec_test" --deterministic "$dir/polltest.wasm" </dev/null >"$tmp/out"
    check "poll: deterministic sleeps" 'grep -q "^slept>=70: 1$" "$tmp/out"'
fi
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
