# check-lib.sh - the checks of the HTTP test scripts (sourced; $work: the
# caller's temporary directory). Each check counts in $passed or $failed;
# a failure prints what it saw. End with check_done.
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; cat "$work/err" 2>/dev/null || true; }
# expect CODE "description" command... : the exit code must be CODE (output
# in $work/out and $work/err).
expect() {
    want=$1 what=$2
    shift 2
    set +e
    "$@" >"$work/out" 2>"$work/err"
    got=$?
    set -e
    if [ "$got" = "$want" ]; then ok; else bad "$what: exit $got, expected $want"; fi
}
contains() { # FILE TEXT
    if grep -qF -- "$2" "$1"; then ok; else bad "$1 lacks '$2'"; fi
}
lacks() { # FILE TEXT
    if grep -qF -- "$2" "$1"; then bad "$1 has '$2'"; else ok; fi
}
check_done() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
