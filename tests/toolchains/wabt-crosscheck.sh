#!/bin/sh
# wabt-crosscheck.sh - confirm test_toolchains' expected values with wabt's
# interpreter, independently of our engine: the driver writes its cases as
# spectest JSON (--wabt-json) next to the plugins, and spectest-interp runs
# them against the same .wasm files (imports satisfied by stubs/*.wat,
# compiled to PLUGIN_DIR/stub_*.wasm).
#
#   wabt-crosscheck.sh DRIVER PLUGIN_DIR SPECTEST_INTERP [PLUGIN...]
set -u

[ $# -ge 3 ] || { echo "usage: $0 DRIVER PLUGIN_DIR SPECTEST_INTERP [PLUGIN...]" >&2; exit 2; }
driver=$1 dir=$2 interp=$3
shift 3
[ $# -gt 0 ] || set -- c_freestanding c_freestanding_bulk c_reactor as_plugin rust_plugin zig_plugin

"$driver" --wabt-json "$dir" "$@" || exit 1
passed=0 failed=0
for p in "$@"; do
    if "$interp" "$dir/$p.wabt.json" >"$dir/$p.wabt.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   $p: $(tail -n 1 "$dir/$p.wabt.log")"
    else
        failed=$((failed + 1))
        echo "FAIL $p (wabt disagrees with the driver's expectations):"
        sed 's/^/       /' "$dir/$p.wabt.log"
    fi
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
