#!/bin/sh
# test-grants.sh WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR - permissions are
# the operator's decision: install lists what a plugin asks for (wide
# requests highlighted), records what is granted (--grant, --yes, or a
# confirmation on a terminal; neither off a terminal is refused), `run` of
# the installed plugin gets exactly that, and `info` shows it.
W=$1 PLUG=$2 SRC=$3
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") PLUG=$(abs "$PLUG") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"

mkdir -p "$T/data"
echo "secret data" >"$T/data/x.txt"
# A WASI plugin asking for a variable and for a directory outside its own
# data (an absolute path: wide).
mkplug wide wasi wasi_plugin wasi_plugin.wasm
cat >wide/plugin.yaml <<YAML
id: wide
version: 1.0.0
module: wasi_plugin.wasm
exports: [hello, env, readfile]
permissions:
  env: [FOO, "AWS_*"]
  filesystem:
    - $T/data:/data:ro
YAML

echo "# install asks"
run "$W" install wide
expect "install off a terminal without --yes or --grant: refused (exit 2)" 2 \
    "wide requests 3 permissions (wasi.env:FOO, wasi.env:AWS_*, wasi.fs.read:/data)" \
    "--yes to grant them all, or --grant PERMISSION"
check "  ... and lists every request" grep -q "read directory $T/data as /data" "$T/out"
check "  ... highlighting the wide ones" grep -q "wide: an absolute path outside the plugin's own data" "$T/out"
check "  ... a variable pattern is wide" grep -q "wide: a pattern: any environment variable" "$T/out"
run "$W" list
check "  ... and installs nothing" sh -c "! grep -q '^wide' '$T/out'"
run "$W" --json install wide
expect "install --json: the refusal in the error schema" 2 '"ok": false' '"kind": "consent_required"' '"exit_code": 2'
run "$W" install wide --grant 'http:*'
expect "install --grant matching no request: exit 2" 2 "--grant http:* matches nothing wide requests"
run "$W" install wide --yes --grant wasi.env:FOO
expect "install --yes with --grant: exit 2" 2 "not both"

echo "# install --grant records a subset"
run "$W" install wide --grant wasi.env:FOO
expect "install --grant wasi.env:FOO" 0 "installed wide 1.0.0" "granted wasi.env:FOO"
grants=$(ls "$WASMPLUG_STORE"/plugins/wide/1.0.0/grants 2>/dev/null)
check "  ... recorded next to the plugin" test -n "$grants"
check "  ... exactly what was granted" sh -c "grep -v '^#' '$grants' | grep -qx 'wasi.env:FOO' && [ \$(grep -vc '^#' '$grants') -eq 1 ]"
run "$W" info wide
expect "info shows the grants" 0 "Granted" "wasi.env:FOO"
run "$W" --json info wide
expect "info --json: granted" 0 '"granted": [' '"wasi.env:FOO"'
run env FOO=from-host AWS_SECRET=s3cr3t "$W" run wide env
expect "run: a granted variable is seen" 0 "FOO=from-host"
check "run: a requested but ungranted pattern is not" sh -c "! grep -q AWS_SECRET '$T/out'"
run "$W" run wide readfile
expect "run: the ungranted /etc-like directory is not opened (the manifest asks, the operator did not grant)" 0 "errno 08"
run "$W" run wide readfile --dir "$T/data:/data:ro"
expect "run: the operator can still grant it for one run with --dir" 0 "secret data"

echo "# install --yes grants everything requested"
run "$W" install wide --yes --force
expect "install --yes --force" 0 "granted wasi.fs.read:/data"
run "$W" run wide readfile
expect "run: granted at install, the directory is opened" 0 "secret data"

echo "# a host function"
mkplug needs needs_log needs_log needs_log.wasm
run "$W" install needs --grant 'host.*'
expect "install --grant with a pattern grants the matching requests" 0 "granted host.log"
run "$W" run needs-log run
expect "run: the granted host function links" 0
rm -f "$WASMPLUG_STORE"/plugins/needs-log/0.1.0/grants
run "$W" run needs-log run
expect "run: no recorded grants, nothing granted" 5 "host.log was not granted when needs-log was installed" "--grant host.log"
run "$W" info needs-log
expect "info: nothing recorded" 0 "nothing recorded"
run "$W" run needs-log run --grant host.log
expect "run --grant: the operator grants it for this run" 0

echo "# a plugin that requests nothing needs no decision"
mkplug quiet echo echo echo.wasm
run "$W" install quiet
expect "install: nothing requested, nothing to confirm" 0 "requests no permissions" "installed echo-plugin"

echo "# a confirmation on a terminal"
if command -v script >/dev/null 2>&1; then
    printf 'n\n' | script -qec "'$W' install needs --force" /dev/null >"$T/out" 2>&1; rc=$?
    : >"$T/err"
    expect "terminal: answering n installs nothing (exit 5)" 5 "Grant 1 permission? [y/N]" "not installed"
    printf 'y\n' | script -qec "'$W' install needs --force" /dev/null >"$T/out" 2>&1; rc=$?
    expect "terminal: answering y grants what it requests" 0 "granted host.log"
else
    echo "skip the terminal confirmation (no script(1))"
fi

cli_done
