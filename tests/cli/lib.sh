# lib.sh - what the CLI test scripts share (sourced): a temporary directory
# $T with a temporary store, and the check helpers. Prints one line per
# check; finish with `cli_done`, which prints "N passed, N failed" and
# returns non-zero when a check failed.
T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-cli-test.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
export WASMPLUG_STORE="$T/store"
unset XDG_DATA_HOME WASMPLUG_TEMPLATES NO_COLOR
cd "$T" || exit 1

pass=0
fail=0
rc=0

# run CMD...: run it with stdin closed, keeping stdout, stderr and the exit code.
# (Per-command variables go through env(1): assignments before a shell
# function may persist in some shells.)
run() {
    "$@" >"$T/out" 2>"$T/err" </dev/null
    rc=$?
}
# run_in INPUT CMD...: the same with INPUT on stdin.
run_in() {
    input=$1
    shift
    printf '%s' "$input" | "$@" >"$T/out" 2>"$T/err"
    rc=$?
}
ok() {
    pass=$((pass + 1))
    echo "ok   $1"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL $1"
    sed 's/^/       out: /' "$T/out" | head -15
    sed 's/^/       err: /' "$T/err" | head -15
}
# expect NAME EXIT [TEXT...]: the exit code, and each TEXT in stdout or stderr.
expect() {
    name=$1
    want=$2
    shift 2
    if [ "$rc" != "$want" ]; then
        bad "$name (exit $rc, expected $want)"
        return
    fi
    for text in "$@"; do
        if ! cat "$T/out" "$T/err" | grep -qF -- "$text"; then
            bad "$name (missing: $text)"
            return
        fi
    done
    ok "$name"
}
# check NAME CONDITION...: a shell test.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# Plugin directories: fixture manifest + compiled module ($SRC: tests/cli,
# $PLUG: the compiled tests/cli/plugins).
mkplug() { # mkplug DIR FIXTURE WASM MODULE_NAME
    mkdir -p "$1"
    cp "$SRC/fixtures/$2/plugin.yaml" "$1/plugin.yaml"
    cp "$PLUG/$3.wasm" "$1/$4"
}
cli_done() {
    echo
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
