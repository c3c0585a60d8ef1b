#!/bin/sh
# test-cache.sh - end-to-end tests of the compiled-module cache of
# `wasmplug run` (src/services/cache.c): a miss then a hit; damaged entries
# (flipped bytes, truncation, wrong format version, another engine build,
# empty file) are detected, rebuilt, and the run's output stays right; an
# unwritable cache is skipped with a note; --no-cache, --cache-dir,
# $WASMPLUG_CACHE_DIR and $XDG_CACHE_HOME choose the directory.
#
#   test-cache.sh WASMPLUG PLUGIN_DIR     (PLUGIN_DIR holds echo.wasm, threads.wasm)
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
export WASMPLUG_CACHE_DIR=$C
unset XDG_CACHE_HOME
# run NAME: `run echo hello --stats` -> $T/NAME.out, $T/NAME.err
run() {
    name=$1; shift
    "$W" run "$P/echo.wasm" echo hello --stats "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}
good_run() { # NAME EXPECTED_CACHE_RESULT (check's eval sees $n, $want)
    n=$1 want=$2
    check "$n: exit 0" '[ "$(cat "$T/$n.rc")" = 0 ]'
    check "$n: output" '[ "$(cat "$T/$n.out")" = hello ]'
    check "$n: cache $want" 'grep -q "^cache: *$want\$" "$T/$n.err"'
}
entry() { ls "$C"/*.wpcm 2>/dev/null | head -1; }
size_of() { wc -c <"$1" | tr -d ' '; }
# poke FILE OFFSET BYTE_OCTAL: overwrite one byte in place
poke() { printf "\\$3" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }

# 1. miss, then hit, entry private to the user
run miss; good_run miss miss
E=$(entry)
check "entry written" '[ -n "$E" ] && [ -s "$E" ]'
check "entry name: content hash, size, version" \
    'basename "$E" | grep -Eq "^[0-9a-f]{32}-[0-9]+-[0-9.]+\.wpcm$"'
check "no temporary files left" '[ -z "$(ls -A "$C" | grep -v "\.wpcm$")" ]'
run hit; good_run hit hit
check "hit: no note" '! grep -q "note:" "$T/hit.err"'
cp "$E" "$T/good.wpcm"
SIZE=$(size_of "$E")

# 2. damage: each kind is detected, rebuilt (note + stats), then a hit again
damage() { # NAME WHAT-IN-NOTE: apply damage to $E first
    d=$1 why=$2
    run "$d"; good_run "$d" rebuilt
    check "$d: note on stderr" 'grep -q "note: compiled-module cache: invalid cache entry.*$why" "$T/$d.err"'
    check "$d: entry valid again" 'cmp -s "$E" "$T/good.wpcm"'
    run "$d-after"; good_run "$d-after" hit
}
for off in 50 $((SIZE / 2)) $((SIZE - 3)); do
    cp "$T/good.wpcm" "$E"; poke "$E" "$off" 252
    damage "flip$off" ""
done
cp "$T/good.wpcm" "$E"; poke "$E" 44 377; poke "$E" 45 1
damage flip-wasm ""
head -c $((SIZE / 3)) "$T/good.wpcm" >"$E"
damage truncated "truncated\|size mismatch\|another module"
head -c 20 "$T/good.wpcm" >"$E"
damage truncated-header "truncated"
cp "$T/good.wpcm" "$E"; cat "$T/good.wpcm" >>"$E"
damage extended "size mismatch\|another module"
: >"$E"
damage empty "truncated"
cp "$T/good.wpcm" "$E"; poke "$E" 4 7
damage format-version "format 7"
cp "$T/good.wpcm" "$E"; poke "$E" 9 125
damage engine-build "different engine build"
cp "$T/good.wpcm" "$E"; poke "$E" 0 130
damage magic "not a compiled wasmplug module"
rm -f "$E"; mkdir "$E"
run dir-entry
check "entry is a directory: run works" '[ "$(cat "$T/dir-entry.out")" = hello ]'
rmdir "$E"

# 3. an unwritable cache: the run works, with a note, and nothing cached
if [ "$(id -u)" = 0 ]; then
    : >"$T/file"; RO=$T/file/cache # root ignores modes: a file in the way
else
    mkdir -p "$T/ro"; chmod 555 "$T/ro"; RO=$T/ro/cache
fi
WASMPLUG_CACHE_DIR=$RO run readonly
good_run readonly miss
check "readonly: note on stderr" 'grep -q "note: compiled-module cache: cache not written" "$T/readonly.err"'
WASMPLUG_CACHE_DIR=$RO run readonly2
good_run readonly2 miss

# 4. --no-cache, --cache-dir, XDG_CACHE_HOME
rm -rf "$C"
run nocache --no-cache; good_run nocache off
check "--no-cache writes nothing" '[ ! -e "$C" ]'
run cachedir --cache-dir "$T/other"; good_run cachedir miss
check "--cache-dir used" '[ -n "$(ls "$T/other"/*.wpcm 2>/dev/null)" ] && [ ! -e "$C" ]'
run cachedir2 --cache-dir "$T/other"; good_run cachedir2 hit
(unset WASMPLUG_CACHE_DIR; XDG_CACHE_HOME=$T/xdg; export XDG_CACHE_HOME; run xdg)
good_run xdg miss
check "XDG_CACHE_HOME/wasmplug/modules used" '[ -n "$(ls "$T/xdg/wasmplug/modules"/*.wpcm 2>/dev/null)" ]'

# 5. a module that does not compile: reported as usual, nothing cached
rm -rf "$C"
"$W" run "$P/threads.wasm" run >"$T/threads.out" 2>"$T/threads.err"
check "unsupported module still fails" '[ $? -ne 0 ] && grep -q "unsupported feature" "$T/threads.err"'
check "unsupported module not cached" '[ -z "$(ls "$C" 2>/dev/null)" ]'

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
