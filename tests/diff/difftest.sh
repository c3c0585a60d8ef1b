#!/bin/sh
# difftest.sh - differential testing of the engine against wabt's reference
# interpreter. Each round makes a random valid module, runs every export in
# wabt (`wasm-interp --run-all-exports --dummy-import-func`) and in wasmplug
# (diff_run) with guard pages and with explicit bounds checks, each directly
# and through serialize/deserialize, and requires the same output: results,
# traps (by kind), and the calls made to imported functions with their
# arguments. Modules alternate between binaryen's `wasm-opt -ttf` (with
# --denan: NaN payloads are left open by the spec) and gen_fused (the code
# shapes of every superinstruction).
#
#   difftest.sh [-n ROUNDS] [-s FIRST_SEED] [-o FINDINGS_DIR] DIFF_RUN GEN_FUSED
#
# A difference keeps the module and both outputs in FINDINGS_DIR (default
# ./difftest-findings) and fails. After a "call stack exhausted" (where each
# interpreter stops depends on its own stack size) the rest of that module
# is not compared. Prints the number of modules and calls compared.
set -u
rounds=300 seed=1 findings=./difftest-findings
while getopts n:s:o: opt; do
    case $opt in
    n) rounds=$OPTARG ;;
    s) seed=$OPTARG ;;
    o) findings=$OPTARG ;;
    *) echo "usage: $0 [-n ROUNDS] [-s FIRST_SEED] [-o FINDINGS_DIR] DIFF_RUN GEN_FUSED" >&2
       exit 2 ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || { echo "usage: $0 [-n ROUNDS] [-s SEED] [-o DIR] DIFF_RUN GEN_FUSED" >&2; exit 2; }
run=$1 gen=$2
for tool in wasm-interp wasm-opt wat2wasm; do
    command -v $tool >/dev/null || { echo "difftest: $tool not found (make deps)" >&2; exit 2; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/difftest.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
# The features both interpreters have (wasm-opt's defaults would add more).
features="--mvp-features --enable-sign-ext --enable-nontrapping-float-to-int
          --enable-bulk-memory --enable-mutable-globals"

# wabt's words for traps, made the spec's (as diff_run prints them).
normalize_wabt() {
    sed -e 's/error: out of bounds memory access.*/error: out of bounds memory access/' \
        -e 's/error: out of bounds table access.*/error: out of bounds table access/' \
        -e 's/error: unreachable executed/error: unreachable/' \
        -e 's/error: undefined table index/error: undefined element/' \
        -e 's/error: uninitialized table element/error: uninitialized element/' \
        -e 's/error: indirect call signature mismatch/error: indirect call type mismatch/' \
        -e 's/-nan/nan/g'
}
normalize_ours() {
    sed -e 's/error: value stack exhausted/error: call stack exhausted/' -e 's/-nan/nan/g'
}
# cut_at_exhaustion A B: both files up to the first stack exhaustion in either.
cut_at_exhaustion() {
    a=$(grep -n 'stack exhausted' "$1" | head -1 | cut -d: -f1)
    b=$(grep -n 'stack exhausted' "$2" | head -1 | cut -d: -f1)
    cut=${a:-${b:-}}
    [ -n "$b" ] && [ -n "$a" ] && [ "$b" -lt "$a" ] && cut=$b
    if [ -n "$cut" ]; then
        for f in "$1" "$2"; do head -n $((cut - 1)) "$f" >"$f.cut" && mv "$f.cut" "$f"; done
    fi
}

modules=0 calls=0 skipped=0 failed=0
i=0
while [ $i -lt "$rounds" ]; do
    s=$((seed + i))
    i=$((i + 1))
    if [ $((s % 2)) -eq 0 ]; then
        kind=binaryen
        "$gen" --bytes 4096 "$s" >"$T/in.bin"
        # shellcheck disable=SC2086 # the features are words
        wasm-opt "$T/in.bin" -ttf --denan $features -o "$T/m.wasm" 2>/dev/null || {
            skipped=$((skipped + 1)); continue; }
    else
        kind=gen_fused
        "$gen" "$s" >"$T/m.wat" && wat2wasm "$T/m.wat" -o "$T/m.wasm" || {
            echo "difftest: gen_fused $s made an invalid module" >&2; failed=$((failed + 1)); continue; }
    fi
    if ! timeout 60 wasm-interp --run-all-exports --dummy-import-func "$T/m.wasm" \
            >"$T/wabt.raw" 2>&1; then
        skipped=$((skipped + 1)) # wabt cannot run it (not a difference of ours)
        continue
    fi
    normalize_wabt <"$T/wabt.raw" >"$T/wabt.out"
    modules=$((modules + 1))
    n=$(grep -c '^[^ ]*(.*) =>' "$T/wabt.out")
    for mode in "--bounds guard" "--bounds explicit" "--bounds guard --roundtrip" \
                "--bounds explicit --roundtrip"; do
        # shellcheck disable=SC2086 # mode is words
        timeout 60 "$run" $mode "$T/m.wasm" >"$T/ours.raw" 2>&1
        normalize_ours <"$T/ours.raw" >"$T/ours.out"
        cp "$T/wabt.out" "$T/want.out"
        cut_at_exhaustion "$T/want.out" "$T/ours.out"
        if ! cmp -s "$T/want.out" "$T/ours.out"; then
            failed=$((failed + 1))
            mkdir -p "$findings"
            cp "$T/m.wasm" "$findings/$kind-$s.wasm"
            cp "$T/wabt.raw" "$findings/$kind-$s.wabt.txt"
            cp "$T/ours.raw" "$findings/$kind-$s.wasmplug.txt"
            echo "DIFFERENCE $kind seed $s ($mode): $findings/$kind-$s.wasm"
            diff "$T/want.out" "$T/ours.out" | head -10
            break
        fi
        calls=$((calls + n))
    done
done
echo "difftest: $modules modules compared ($calls export calls over 4 modes), $skipped skipped, $failed with differences"
[ "$failed" -eq 0 ] && [ "$modules" -gt 0 ]
