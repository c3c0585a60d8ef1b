#!/usr/bin/env bash
# run-wasi-testsuite.sh - run the official WASI test suite's prebuilt
# wasm32-wasip1 tests (github.com/WebAssembly/wasi-testsuite, branch
# prod/testsuite-base) through `wasmplug exec` and compare exit codes,
# and, where the test's .json specification gives them, stdout and stderr.
#
#   run-wasi-testsuite.sh WASMPLUG SUITE_DIR [NAME_PATTERN]
#
# SUITE_DIR is searched for */wasm32-wasip1/*.wasm (a checkout, or the copy
# scripts/fetch-wasi-testsuite.sh makes). NAME_PATTERN (a grep -E pattern)
# selects tests by path. Each run works on a fresh copy of the directories
# the tests preopen, so the suite's files are never modified. Prints a line
# per failure and the total; exits 0 when every test passed, 1 otherwise,
# and 77 (CTest's skip code) when SUITE_DIR holds no tests.
# The JSON specifications are read with jq.
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 WASMPLUG SUITE_DIR [NAME_PATTERN]" >&2
    exit 2
fi
wasmplug=$1 suite=$2 pattern=${3:-}

if [ ! -d "$suite" ]; then
    echo "SKIPPED: no WASI test suite at '$suite'; fetch one with" \
         "scripts/fetch-wasi-testsuite.sh (or set WASI_TESTSUITE_DIR)" >&2
    exit 77
fi
mapfile -t tests < <(find "$suite" -path '*/wasm32-wasip1/*.wasm' | sort)
if [ -n "$pattern" ]; then
    mapfile -t tests < <(printf '%s\n' "${tests[@]}" | grep -E -- "$pattern")
fi
if [ ${#tests[@]} -eq 0 ]; then
    echo "SKIPPED: no wasm32-wasip1 tests under '$suite'" >&2
    exit 77
fi
command -v jq >/dev/null || { echo "jq not found (apt-get install jq, or make deps)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/wasi-testsuite.XXXXXX")
trap 'rm -rf "$work"' EXIT
pass=0 fail=0

# check_stream NAME: compare output stream NAME (stdout, stderr) with the
# specification's field of that name, when it has one.
check_stream() {
    [ "$spec" != /dev/null ] && [ "$(jq "has(\"$1\")" "$spec")" = true ] || return 0
    jq -j ".$1" "$spec" >"$run_dir/want-$1"
    cmp -s "$run_dir/want-$1" "$run_dir/$1" || why="${why:+$why; }$1 differs"
}

for wasm in "${tests[@]}"; do
    dir=$(dirname "$wasm") name=$(basename "$wasm" .wasm)
    spec="$dir/$name.json"
    [ -f "$spec" ] || spec=/dev/null
    opts=() args=() env=()
    if [ "$spec" != /dev/null ]; then
        mapfile -d '' args < <(jq -j '(.args // [])[] | ., "\u0000"' "$spec")
        mapfile -d '' env < <(jq -j '(.env // {}) | to_entries[] | "\(.key)=\(.value)", "\u0000"' "$spec")
        root=$(jq -r '.root // ""' "$spec")
        want_exit=$(jq -r '.exit_code // 0' "$spec")
    else
        root="" want_exit=0
    fi
    for e in "${env[@]}"; do opts+=(--allow-env "$e"); done
    run_dir="$work/$name"
    mkdir -p "$run_dir"
    if [ -n "$root" ]; then
        # A fresh copy of the root, as the suite expects it before each test.
        cp -R "$dir/$root" "$run_dir/root"
        find "$run_dir/root" -name '*.cleanup' -exec rm -rf {} +
        opts+=(--dir "$run_dir/root:/")
    fi
    "$wasmplug" -q exec "${opts[@]}" "$wasm" -- "${args[@]}" \
        >"$run_dir/stdout" 2>"$run_dir/stderr" </dev/null
    rc=$?
    why=""
    [ "$rc" = "$want_exit" ] || why="exit code $rc, expected $want_exit"
    check_stream stdout
    check_stream stderr
    rel=${wasm#"$suite"/}
    if [ -z "$why" ]; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL $rel: $why"
        sed 's/^/    stderr: /' "$run_dir/stderr" | head -5
    fi
done
echo "wasi-testsuite: $pass passed, $fail failed (of ${#tests[@]})"
[ "$fail" -eq 0 ]
