#!/bin/sh
# test-native.sh - end-to-end tests of the native tier through the command
# (src/cli/cmd_compile.c, src/services/native_cache.c): `compile` makes and
# stores native code with its SHA-256 beside it, `run` uses it (--stats
# says which tier ran) with the same output and fuel as the interpreter; a
# tampered object, a missing or wrong digest, an object of another module
# put in its place, a symlink, and a directory others can write are all
# refused (never loaded): the entry is deleted and rebuilt with --tier
# native or by `compile`; --tier interp never loads native code.
#
#   test-native.sh WASMPLUG PLUGIN_DIR     (PLUGIN_DIR holds echo.wasm, empty.wasm, simd.wasm,
#                                          wasi_exit3.wasm)
W=$1
P=$2
if [ ! -x "$W" ] || [ ! -f "$P/echo.wasm" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR" >&2
    exit 2
fi
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$2"; then ok; else bad "$1"; fi; }

C=$T/cache
N=$C/native
export WASMPLUG_CACHE_DIR=$C
# run NAME [OPTIONS]: `run echo hello --stats` -> $T/NAME.out, .err, .rc
run() {
    name=$1; shift
    "$W" run "$P/echo.wasm" echo hello --stats "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}
tier_run() { # NAME TIER NATIVE-RESULT
    n=$1 tier=$2 res=$3
    check "$n: exit 0" '[ "$(cat "$T/$n.rc")" = 0 ]'
    check "$n: output" '[ "$(cat "$T/$n.out")" = hello ]'
    check "$n: tier $tier ($res)" 'grep -q "^tier: *$tier (native code: $res)\$" "$T/$n.err"'
}
fuel() { sed -n 's/^fuel used: *//p' "$T/$1.err"; }
obj() { ls "$N"/*.so 2>/dev/null | head -1; }
poke() { printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }

# 1. before compile: the interpreter; compile; then native, same output and fuel
run before; tier_run before interpreter missing
"$W" compile "$P/echo.wasm" >"$T/compile.out" 2>&1
check "compile: exit 0" '[ $? = 0 ]'
check "compile: reports time per MB" 'grep -q "compiled to native code in [0-9]* ms (.* s per MB of module)" "$T/compile.out"'
O=$(obj)
check "object stored" '[ -n "$O" ] && [ -s "$O" ]'
check "digest recorded beside it" '[ "$(cat "${O%.so}.sha256")" = "$(sha256sum "$O" | cut -d" " -f1)" ]'
check "directory private" '[ "$(stat -c %a "$N")" = 700 ]'
check "object private" '[ "$(stat -c %a "$O")" = 600 ]'
"$W" compile "$P/echo.wasm" >"$T/compile2.out" 2>&1
check "compile again: up to date" 'grep -q "native code up to date" "$T/compile2.out"'
run native; tier_run native native hit
check "same fuel in both tiers" '[ "$(fuel native)" = "$(fuel before)" ] && [ -n "$(fuel native)" ]'
run interp --tier interp; tier_run interp interpreter off
"$W" --json compile "$P/echo.wasm" >"$T/compile.json"
check "compile --json" 'grep -q "\"result\": \"hit\"" "$T/compile.json"'
cp "$O" "$T/good.so"
# SIMD: not compiled, the reason given; run stays in the interpreter
"$W" compile "$P/simd.wasm" >"$T/simd.out" 2>&1
check "simd: compile exit 4" '[ $? = 4 ]'
check "simd: reason" 'grep -q "uses SIMD (v128)" "$T/simd.out"'
# a module the engine refuses: the reason once, with its byte offset
"$W" compile "$P/threads.wasm" >"$T/threads.out" 2>&1
check "threads: compile exit 4" '[ $? = 4 ]'
check "threads: reason once, located" \
    'grep -q "threads.wasm: unsupported feature: threads (shared memory) (at byte offset [0-9]*)" "$T/threads.out"'

# 2. tampering: never loaded, deleted, rebuilt on demand
tamper() { # NAME: the damage was just applied
    t=$1
    run "$t"; tier_run "$t" interpreter missing
    check "$t: note says rejected" 'grep -q "note: native code: .*rejected" "$T/$t.err"'
    check "$t: entry deleted" '[ ! -e "$O" ]'
    run "$t-rebuild" --tier native; tier_run "$t-rebuild" native rebuilt_or_compiled
}
# tier_run's pattern: either result is right after a deletion
rebuilt_or_compiled='compiled'
tier_run() {
    n=$1 tier=$2 res=$3
    [ "$res" = rebuilt_or_compiled ] && res=compiled
    check "$n: exit 0" '[ "$(cat "$T/$n.rc")" = 0 ]'
    check "$n: output" '[ "$(cat "$T/$n.out")" = hello ]'
    check "$n: tier $tier ($res)" 'grep -q "^tier: *$tier (native code: $res)\$" "$T/$n.err"'
}
poke "$O" 3000 220; tamper flipped
echo 0000000000000000000000000000000000000000000000000000000000000000 >"${O%.so}.sha256"
tamper wrong-digest
rm -f "${O%.so}.sha256"; tamper no-digest
# another module's object under this module's name, with a matching digest
"$W" compile "$P/empty.wasm" >/dev/null 2>&1
OTHER=$(ls "$N"/*.so | grep -v "^$O\$" | head -1)
cp "$OTHER" "$O"; sha256sum "$O" | cut -d" " -f1 | tr -d '\n' >"${O%.so}.sha256"
tamper foreign
# a symlink to a good object is not followed
mv "$O" "$T/real.so"; ln -s "$T/real.so" "$O"
tamper symlink
# a cache directory others may write: not used at all
chmod 777 "$N"
run open-dir; tier_run open-dir interpreter off
check "open-dir: note names the reason" 'grep -q "writable by other users" "$T/open-dir.err"' || cat "$T/open-dir.err"
chmod 700 "$N"
run back; tier_run back native hit

# exec: a WASI command through the native tier keeps its exit status
"$W" exec --tier native --stats "$P/wasi_exit3.wasm" >"$T/exec.out" 2>"$T/exec.err"
check "exec native: the module's exit status" '[ $? = 3 ]'
check "exec native: tier" 'grep -q "^tier: *native (native code: compiled)$" "$T/exec.err"'
"$W" exec --stats "$P/wasi_exit3.wasm" >"$T/exec2.out" 2>"$T/exec2.err"
check "exec from the cache" 'grep -q "^tier: *native (native code: hit)$" "$T/exec2.err"'

# A first user: none of the cache's parent directories exist yet.
WASMPLUG_CACHE_DIR=$T/fresh/home/.cache/wasmplug/modules "$W" compile "$P/echo.wasm" \
    >"$T/fresh.out" 2>&1
check "compile into a cache whose parents do not exist: exit 0" '[ $? = 0 ]'
check "compile into a cache whose parents do not exist: the object" \
    'ls "$T"/fresh/home/.cache/wasmplug/modules/native/*.so >/dev/null 2>&1'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
