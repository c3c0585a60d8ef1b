#!/bin/sh
# fused-coverage.sh - gen_fused reaches every superinstruction: compiles the
# modules of seeds 1..N (default 150) and checks that their compiled code
# holds every fused operation (diff_run --coverage), in both bounds modes.
#   fused-coverage.sh DIFF_RUN GEN_FUSED [N]
set -eu
run=$1 gen=$2 n=${3:-150}
T=$(mktemp -d "${TMPDIR:-/tmp}/fused-coverage.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
s=1
while [ $s -le "$n" ]; do
    "$gen" $s >"$T/m.wat"
    wat2wasm "$T/m.wat" -o "$T/$s.wasm"
    s=$((s + 1))
done
"$run" --bounds guard --coverage "$T"/*.wasm
"$run" --bounds explicit --coverage "$T"/*.wasm
