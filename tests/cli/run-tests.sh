#!/bin/sh
# run-tests.sh - end-to-end tests of the wasmplug command, every command
# with good and bad input. Prints one line per check and "N passed, N failed".
#
#   run-tests.sh WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR [EXAMPLE_PLUGIN_DIR]
#
# PLUGIN_DIR holds the compiled tests/cli/plugins/*.wat; the optional
# EXAMPLE_PLUGIN_DIR the example plugins (hello.wasm). Everything runs in a
# temporary directory with a temporary store.

W=$1
PLUG=$2
SRC=$3
EXAMPLES=${4:-}
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR [EXAMPLE_PLUGIN_DIR]" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; '') ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W")
PLUG=$(abs "$PLUG")
SRC=$(abs "$SRC")
EXAMPLES=$(abs "$EXAMPLES")

# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"

mkplug p/echo echo echo echo.wasm
mkplug p/needs_log needs_log needs_log needs_log.wasm
mkplug p/denied denied needs_log needs_log.wasm
mkplug p/simd simd simd simd.wasm
mkplug p/threads threads threads threads.wasm
mkplug p/missing_export missing_export echo echo.wasm
mkplug p/wasi wasi wasi_plugin wasi_plugin.wasm
BAD="$SRC/fixtures/bad"

echo "# general"
run "$W" --version
expect "--version" 0 "wasmplug "
run "$W" --help
expect "--help lists commands and exit codes" 0 "install" "inspect" "Exit codes"
for c in list install remove info validate run exec inspect new; do
    run "$W" "$c" --help
    expect "$c --help" 0 "usage: wasmplug $c"
done
run "$W" frobnicate
expect "unknown command: exit 2" 2 "unknown command"
run "$W" list --bogus
expect "unknown option: exit 2" 2 "unknown option"
run "$W"
expect "no command: exit 2" 2 "usage"

echo "# inspect"
run "$W" inspect "$PLUG/echo.wasm"
expect "inspect: sections, imports, exports" 0 "Sections" "wasmplug.input_read" "echo () -> i32" "Features"
run "$W" inspect --json "$PLUG/echo.wasm"
expect "inspect --json" 0 '"exports"' '"sections"' '"features"' '"sizes"'
# The plugin ABI a load would detect, text and --json.
for abi in v1:echo command:abi_command wasm-bindgen:abi_bindgen; do
    run "$W" inspect "$PLUG/${abi#*:}.wasm"
    grep -A1 "^Plugin ABI" "$T/out" >"$T/abi"
    check "inspect: ${abi#*:} follows ABI ${abi%%:*}" grep -qx "  ${abi%%:*}" "$T/abi"
    run "$W" inspect --json "$PLUG/${abi#*:}.wasm"
    expect "inspect --json: ${abi#*:} follows ABI ${abi%%:*}" 0 "\"abi\": \"${abi%%:*}\""
done
run "$W" inspect "$PLUG/threads.wasm"
expect "inspect: unsupported feature named" 4 "threads" "NOT supported"
run "$W" inspect "$PLUG/simd.wasm"
expect "inspect: SIMD supported" 0 "fixed-width SIMD (supported)"
run "$W" inspect "$T/nope.wasm"
expect "inspect: missing file: exit 3" 3 "nope.wasm"
printf 'not wasm' >"$T/junk.wasm"
run "$W" inspect "$T/junk.wasm"
expect "inspect: not a module: exit 4" 4 "not a WebAssembly"
run "$W" inspect "$PLUG/echo.wasm"
check "no colour when not a terminal" sh -c "! grep -q \"$(printf '\033')\" \"$T/out\" \"$T/err\""
run "$W" --color=always inspect "$PLUG/threads.wasm"
check "--color=always colours" grep -q "$(printf '\033')\[" "$T/out"

echo "# validate"
run "$W" validate p/echo
expect "validate: good plugin" 0 "valid" "echo-plugin 1.2.0"
run "$W" validate --json p/echo
expect "validate --json" 0 '"valid": true' '"checks"'
run "$W" validate "$BAD/bad_version.yaml"
expect "validate: bad version with line:column" 4 "bad_version.yaml:3:10:" "semantic version"
run "$W" validate "$BAD/unknown_key.yaml"
expect "validate: unknown key with line:column" 4 "unknown_key.yaml:3:1:" "did you mean 'description'"
run "$W" validate "$BAD/wrong_type.yaml"
expect "validate: wrong type with line:column" 4 "wrong_type.yaml:4:3:" "must be a list"
run "$W" validate "$BAD/bad_size.yaml"
expect "validate: bad size with line:column" 4 "bad_size.yaml:4:15:" "16MiB"
run "$W" validate "$BAD/syntax.yaml"
expect "validate: YAML syntax error with line:column" 4 "syntax.yaml:4:1:" "YAML syntax error"
run "$W" validate "$BAD/missing_id.yaml"
expect "validate: missing id" 4 "missing required key 'id'"
run "$W" validate "$BAD/bad_dir.yaml"
expect "validate: bad dir mode at its column" 4 "bad_dir.yaml:7:13:" "ro or rw"
run "$W" validate "$BAD/nested_perm.yaml"
expect "validate: unknown permission" 4 "nested_perm.yaml:5:3:" "sockets"
run "$W" --json validate "$BAD/bad_version.yaml"
expect "validate --json: line and column fields" 4 '"line": 3' '"column": 10'
run "$W" validate p/threads
expect "validate: unsupported feature" 4 "unsupported feature" "threads"
run "$W" validate p/missing_export
expect "validate: missing export" 4 "nope" "no such"
run "$W" validate p/denied
expect "validate: import not granted" 4 "host.log is not granted"
run "$W" validate p/needs_log
expect "validate: requested host function" 0 "host.log (host function, requested)"
mkdir -p p/wrong_abi
cp p/echo/echo.wasm p/wrong_abi/
sed 's/^abi: v1/abi: compat/' p/echo/plugin.yaml >p/wrong_abi/plugin.yaml
run "$W" validate p/wrong_abi
expect "validate: declared ABI differs from the module's" 4 "declares abi compat but the module follows v1"
# The newer ABIs declared in a manifest: checked against the module's.
mkdir -p p/command p/bindgen
cp "$PLUG/abi_command.wasm" p/command/
cp "$PLUG/abi_bindgen.wasm" p/bindgen/
printf 'id: command-plugin\nversion: 1.0.0\nmodule: abi_command.wasm\nabi: command\n' \
    >p/command/plugin.yaml
printf 'id: bindgen-plugin\nversion: 1.0.0\nmodule: abi_bindgen.wasm\nabi: wasm-bindgen\n' \
    >p/bindgen/plugin.yaml
run "$W" validate p/command
expect "validate: declared abi command" 0 "loads in a host (ABI command)"
run "$W" validate p/bindgen
expect "validate: declared abi wasm-bindgen" 0 "loads in a host (ABI wasm-bindgen)"
sed -i 's/^abi: command/abi: wasm-bindgen/' p/command/plugin.yaml
run "$W" validate p/command
expect "validate: abi wasm-bindgen declared for a command module" 4 \
    "declares abi wasm-bindgen but the module follows command"
sed -i 's/^abi: wasm-bindgen/abi: bindgen/' p/command/plugin.yaml
run "$W" validate p/command
expect "validate: an unknown abi, located" 4 "plugin.yaml:4:6:" \
    "'abi' must be one of v1, compat, wasm-bindgen, command, none (got 'bindgen')"
mkdir -p p/small_memory
cp p/echo/echo.wasm p/small_memory/
sed 's/^  max_memory: 4MiB/  max_memory: 64KiB/' p/echo/plugin.yaml >p/small_memory/plugin.yaml
run "$W" validate p/small_memory
expect "validate: memory larger than resources.max_memory" 4 "starts at 2 pages"
run "$W" validate "$PLUG/echo.wasm"
expect "validate: bare module (warning)" 0 "valid" "bare module"
run "$W" validate no-such-plugin
expect "validate: missing plugin: exit 3" 3 "not found"

echo "# install / list / info / remove"
run "$W" list
expect "list: empty store" 0 "no plugins installed"
run "$W" install p/echo
expect "install a directory" 0 "installed echo-plugin 1.2.0"
check "installed files" test -f "$WASMPLUG_STORE/plugins/echo-plugin/1.2.0/plugin.yaml" -a \
    -f "$WASMPLUG_STORE/plugins/echo-plugin/1.2.0/echo.wasm"
run "$W" list
expect "list shows it" 0 "echo-plugin" "1.2.0" "store"
run "$W" list --json
expect "list --json" 0 '"id": "echo-plugin"' '"version": "1.2.0"'
run "$W" install p/echo
expect "install again: already installed (exit 7)" 7 "already installed" "--force"
run "$W" install --force p/echo
expect "install --force replaces" 0 "installed echo-plugin"
for v in 1.10.0 1.2.0-rc.1; do
    cp -r p/echo "$T/v$v"
    sed "s/^version: 1.2.0/version: $v/" p/echo/plugin.yaml >"$T/v$v/plugin.yaml"
    run "$W" install "$T/v$v"
    expect "install version $v" 0 "installed echo-plugin $v"
done
run "$W" list
expect "list: newest version only (semver order)" 0 "1.10.0"
check "list: older versions hidden" sh -c "! grep -q '1.2.0' '$T/out'"
run "$W" list --all
expect "list --all: every version" 0 "1.10.0" "1.2.0" "1.2.0-rc.1"
check "list --all: newest first" sh -c "grep -o '1\.[0-9.rc-]*' '$T/out' | tr '\n' ' ' | grep -q '^1.10.0 1.2.0 1.2.0-rc.1'"
run "$W" info --json echo-plugin
expect "an id resolves to the newest version" 0 '"version": "1.10.0"'
run "$W" info --json echo-plugin@1.2.0
expect "ID@VERSION picks a version" 0 '"version": "1.2.0"'
run "$W" remove echo-plugin@1.10.0
expect "remove one version" 0 "1 version"
run "$W" remove echo-plugin@1.2.0-rc.1
expect "remove another version" 0 "1 version"
run "$W" info echo-plugin
expect "info" 0 "Echo" "1.2.0" "MIT" "max memory" "4 MiB" "timeout" "greet () -> i32"
run "$W" info --json echo-plugin
expect "info --json" 0 '"id": "echo-plugin"' '"module_exports"' '"timeout_ms": 5000'
run "$W" info nothing-here
expect "info: missing plugin: exit 3" 3 "not found"
run "$W" install "$PLUG/needs_log.wasm" --manifest p/needs_log/plugin.yaml --grant host.log
expect "install a .wasm plus manifest" 0 "installed needs-log 0.1.0"
run "$W" install "$PLUG/echo.wasm"
expect "install a .wasm without a manifest: exit 4" 4 "no embedded manifest"
# A module with its manifest in a "wasmplug.manifest" custom section.
yaml='id: embedded
version: 2.0.0
exports: [echo]
'
ylen=$(printf '%s' "$yaml" | wc -c)
name=wasmplug.manifest
slen=$((1 + ${#name} + ylen))
cp "$PLUG/echo.wasm" "$T/embedded.wasm"
# one-byte LEB128 sizes (the section is shorter than 128 bytes)
printf "\\000\\$(printf '%03o' "$slen")\\$(printf '%03o' ${#name})%s%s" "$name" "$yaml" >>"$T/embedded.wasm"
run "$W" inspect "$T/embedded.wasm"
expect "inspect: embedded manifest and ABI" 0 "Embedded manifest" "embedded 2.0.0" "Plugin ABI" "wasmplug.manifest"
run "$W" install "$T/embedded.wasm"
expect "install a .wasm with an embedded manifest" 0 "installed embedded 2.0.0"
run "$W" run embedded echo hi
expect "run the embedded-manifest plugin" 0 "hi"
run "$W" install p/threads
expect "install: unsupported feature refused" 4 "unsupported feature"
run "$W" install "$BAD/bad_version.yaml"
expect "install: invalid manifest refused" 4 "bad_version.yaml:3:10:"
check "nothing installed for refused plugins" test ! -e "$WASMPLUG_STORE/plugins/threads-plugin" -a \
    ! -e "$WASMPLUG_STORE/plugins/bad-version"
run "$W" --store "$T/other" list --json
expect "--store overrides the environment" 0 '"plugins": []' "$T/other"
run env XDG_DATA_HOME="$T/xdg" WASMPLUG_STORE='' "$W" install p/echo
expect "XDG_DATA_HOME store" 0 "$T/xdg/wasmplug/plugins/echo-plugin"

echo "# run"
run "$W" run echo-plugin echo "hello world"
expect "run: argument input" 0 "hello world"
run_in "from stdin" "$W" run echo-plugin echo
expect "run: stdin input" 0 "from stdin"
printf 'from a file' >"$T/input.txt"
run "$W" run echo-plugin echo --input-file "$T/input.txt"
expect "run: --input-file" 0 "from a file"
run "$W" run echo-plugin greet World
expect "run: manifest default config" 0 "Hello, World"
run "$W" run echo-plugin greet World --config "greeting=Bye, "
expect "run: --config overrides" 0 "Bye, World"
run "$W" run --json echo-plugin echo abc
expect "run --json" 0 '"output": "abc"' '"ok": true'
run "$W" run echo-plugin noop --stats
expect "run --stats" 0 "load+compile" "fuel used" "memory"
run "$W" run p/echo echo "from a directory"
expect "run a plugin directory" 0 "from a directory"
mkdir -p "$T/proj/plugins"
cp -r p/echo "$T/proj/plugins/echo"
sed 's/^version: 1.2.0/version: 9.9.9/' p/echo/plugin.yaml >"$T/proj/plugins/echo/plugin.yaml"
(cd "$T/proj" && "$W" list >"$T/out" 2>"$T/err"); rc=$?
expect "list: project ./plugins" 0 "9.9.9" "project"
(cd "$T/proj" && "$W" info --json echo-plugin >"$T/out" 2>"$T/err"); rc=$?
expect "project plugin takes precedence" 0 '"version": "9.9.9"' '"source": "project"'
run "$W" run missing-plugin echo x
expect "run: missing plugin: exit 3" 3 "plugin 'missing-plugin' not found"
run "$W" run echo-plugin nosuchfunc
expect "run: missing function: exit 3" 3 "no function 'nosuchfunc'" "echo"
run "$W" run echo-plugin fail
expect "run: plugin error: exit 1" 1 "something went wrong"
run "$W" run echo-plugin trap
expect "run: trap with backtrace: exit 1" 1 "unreachable" "#0"
run "$W" run echo-plugin spin --timeout 200ms
expect "run: timeout: exit 6" 6 "timeout"
run "$W" run echo-plugin spin --fuel 100000
expect "run: fuel exhausted: exit 6" 6 "out of fuel"
run "$W" run echo-plugin grow --max-memory 1MiB
expect "run: memory limit: exit 6" 6 "memory limit"
run "$W" run echo-plugin grow
expect "run: manifest's max_memory applies" 6 "memory limit"
run "$W" --json run echo-plugin spin --fuel 1000
expect "run --json error" 6 '"kind": "ERR_FUEL"' '"ok": false'
run "$W" run needs-log run
expect "run: granted host function" 0 "logged" "[needs-log]"
run "$W" run needs-log run --deny host.log
expect "run: --deny: permission denied (exit 5)" 5 "permission denied" "host.log"
run "$W" run p/denied run
expect "run: not requested: permission denied (exit 5)" 5 "permission denied" "host.log"
run "$W" run p/denied run --grant host.log
expect "run: --grant" 0 "logged"
run "$W" run p/threads run
expect "run: unsupported feature: exit 4" 4 "unsupported feature"
run "$W" run p/simd run
expect "run: a SIMD plugin" 0 "ABCDEFGHIJKLMNOP"
run "$W" run echo-plugin spin --timeout soon
expect "run: bad --timeout: exit 2" 2 "--timeout"
run "$W" run echo-plugin
expect "run: missing FUNCTION: exit 2" 2 "usage"
# A broken manifest in the store names its line and column.
mkdir -p "$WASMPLUG_STORE/plugins/broken/1.0.0"
printf 'id: broken\nversion: 1.0.0\nresources:\n  fuel: -5\n' >"$WASMPLUG_STORE/plugins/broken/1.0.0/plugin.yaml"
run "$W" run broken f
expect "run: invalid manifest in the store: exit 4" 4 "plugin.yaml:4:9:"
run "$W" list
expect "list flags the broken manifest" 0 "invalid manifest" "plugin.yaml:4:9"
rm -rf "$WASMPLUG_STORE/plugins/broken"
if [ -n "$EXAMPLES" ] && [ -f "$EXAMPLES/hello.wasm" ]; then
    run "$W" run "$EXAMPLES/hello.wasm" fib 10 --grant 'host.*'
    expect "run: typed call (hello fib 10)" 0 "55"
    run "$W" run "$EXAMPLES/hello.wasm" fib abc --grant 'host.*'
    expect "run: bad typed argument: exit 2" 2 "not a valid i32"
fi

echo "# run: WASI grants"
mkdir -p "$T/data"
echo "secret data" >"$T/data/x.txt"
run "$W" run p/wasi hello
if grep -qF "errno" "$T/out"; then
    echo "skip run with WASI (the host links WASI stubs in this build)"
else
    expect "run: plugin stdout/stderr shown (on stderr)" 0 "ok" "plugin stdout" "plugin stderr"
    check "run: the call's output alone on stdout" test "$(cat "$T/out")" = "ok"
    run "$W" --json run p/wasi hello
    expect "run --json: plugin stdout/stderr captured" 0 '"stdout": "plugin stdout\n"' '"stderr": "plugin stderr\n"'
    run env FOO=from-host SECRET=hidden "$W" run p/wasi env --allow-env BAR=2
    expect "run: manifest env + --allow-env" 0 "FOO=from-host" "BAR=2"
    check "run: ungranted variables stay hidden" sh -c "! grep -q SECRET '$T/out'"
    run env FOO=x "$W" run p/wasi env --deny wasi.env:FOO
    check "run: --deny drops a variable" sh -c "! grep -q FOO= '$T/out'"
    run "$W" run p/wasi readfile
    expect "run: manifest filesystem grant (relative to the current directory)" 0 "secret data"
    run "$W" run "$PLUG/wasi_plugin.wasm" readfile
    expect "run: no directory granted" 0 "errno 08"
    run "$W" run "$PLUG/wasi_plugin.wasm" readfile --dir "$T/data:/data:ro"
    expect "run: --dir" 0 "secret data"
    run "$W" run p/wasi readfile --deny 'wasi.fs.*'
    expect "run: --deny drops a directory" 0 "errno 08"
fi

echo "# interrupted install"
cp -r p/echo "$T/crash"
sed 's/^id: echo-plugin/id: crashy/' p/echo/plugin.yaml >"$T/crash/plugin.yaml"
run env WASMPLUG_TEST_CRASH_INSTALL=1 "$W" install "$T/crash"
check "install killed mid-copy" test "$rc" -ne 0 -a "$rc" -ne 7
check "nothing half-installed in plugins/" test ! -e "$WASMPLUG_STORE/plugins/crashy"
check "the partial copy is only under .tmp" sh -c "ls '$WASMPLUG_STORE/.tmp' | grep -q '^install-'"
run "$W" list
check "list does not show it" sh -c "! grep -q crashy '$T/out'"
run "$W" run crashy echo x
expect "run: not installed (exit 3)" 3 "not found"
run "$W" install "$T/crash"
expect "re-install after the crash" 0 "installed crashy 1.2.0"
check "leftovers cleaned" sh -c "! ls '$WASMPLUG_STORE/.tmp' | grep -q '^install-'"
run "$W" run crashy echo works
expect "run the re-installed plugin" 0 "works"
sed 's/^version: 1.2.0/version: 1.3.0/' "$T/crash/plugin.yaml" >"$T/crash/p2.yaml"
mv "$T/crash/p2.yaml" "$T/crash/plugin.yaml"
run env WASMPLUG_TEST_CRASH_INSTALL=rename "$W" install "$T/crash"
check "install killed just before the rename" test "$rc" -ne 0 -a "$rc" -ne 7
check "the complete copy is not installed" test ! -e "$WASMPLUG_STORE/plugins/crashy/1.3.0"
run "$W" info --json crashy
expect "the previous version is still the one found" 0 '"version": "1.2.0"'
# Replacing an installed version (--force) and crashing half-way.
sed 's/^version: 1.3.0/version: 1.2.0/' "$T/crash/plugin.yaml" >"$T/crash/p2.yaml"
mv "$T/crash/p2.yaml" "$T/crash/plugin.yaml"
run env WASMPLUG_TEST_CRASH_INSTALL=1 "$W" install --force "$T/crash"
check "--force install killed mid-copy" test "$rc" -ne 0 -a "$rc" -ne 7
run "$W" run crashy@1.2.0 echo "still intact"
expect "a crashed --force install leaves the installed version working" 0 "still intact"

echo "# remove"
run "$W" remove needs-log
expect "remove" 0 "removed needs-log"
check "its directory is gone" test ! -e "$WASMPLUG_STORE/plugins/needs-log"
run "$W" remove needs-log
expect "remove again: exit 3" 3 "not installed"
run "$W" remove echo-plugin@0.0.1
expect "remove a missing version: exit 3" 3 "not installed"
run "$W" --json remove echo-plugin@1.2.0
expect "remove ID@VERSION --json" 0 '"versions": 1'
run "$W" remove ../etc
expect "remove: path-like id refused" 2 "invalid plugin id"

echo "# exec"
run "$W" exec "$PLUG/wasi_hello.wasm" a b
if grep -qF "not available" "$T/err"; then
    echo "skip exec (this build has no WASI)"
else
    expect "exec: output and exit code" 7 "hello from wasi" "to stderr"
    run env FOO=bar SECRET=hidden "$W" exec --allow-env FOO --allow-env X=1 "$PLUG/wasi_env.wasm"
    expect "exec: --allow-env" 0 "FOO=bar" "X=1"
    check "exec: other variables stay hidden" sh -c "! grep -q SECRET '$T/out'"
    run "$W" exec --timeout 200ms "$PLUG/wasi_spin.wasm"
    expect "exec: timeout (exit 6)" 6 "timeout"
    run "$W" exec --fuel 10000 "$PLUG/wasi_spin.wasm"
    expect "exec: fuel (exit 6)" 6 "out of fuel"
    run "$W" exec "$PLUG/threads.wasm"
    expect "exec: unsupported feature (exit 4)" 4 "unsupported feature"
    check "exec: the feature named once" sh -c "! grep -q 'unsupported feature: unsupported' '$T/out' '$T/err'"
    run "$W" exec "$T/none.wasm"
    expect "exec: missing file (exit 3)" 3 "none.wasm"
    run "$W" exec --grant host.log "$PLUG/wasi_hello.wasm"
    expect "exec: run-only option refused (exit 2)" 2 "for \`run\`"
fi

echo "# new"
mkdir -p "$T/templates/c/src"
printf '#include "wasmplug_pdk.h"\n/* {{name}} ({{name_snake}}) */\n' >"$T/templates/c/src/__name_snake__.c"
printf 'id: {{name}}\nversion: {{version}}\nmodule: {{name_snake}}.wasm\n' >"$T/templates/c/plugin.yaml"
run env WASMPLUG_TEMPLATES="$T/templates" "$W" new c my-plugin
expect "new c my-plugin" 0 "created my-plugin"
check "template copied with the name substituted" grep -q "my-plugin (my_plugin)" "$T/my-plugin/src/my_plugin.c"
run "$W" validate "$T/my-plugin/plugin.yaml"
check "its manifest parses" grep -q "my-plugin 0.1.0" "$T/out"
run env WASMPLUG_TEMPLATES="$T/templates" "$W" new c my-plugin
expect "new: existing directory refused" 7 "already exists"
run env WASMPLUG_TEMPLATES="$T/templates" "$W" new cobol x
expect "new: unknown language: exit 3" 3 "no template for language 'cobol'"
run "$W" new c "bad name"
expect "new: bad name: exit 2" 2 "NAME must be"
run "$W" new c my.plugin
expect "new: a name some toolchain refuses ('.') is refused with a suggestion" 2 "try 'my-plugin'"
run "$W" new c MyPlugin
expect "new: an upper-case name is refused (npm)" 2 "try 'myplugin'"
run env WASMPLUG_TEMPLATES="$T/templates" "$W" new c nested --dir deep/er/nested
expect "new --dir a/b/c creates the parents" 0 "created deep/er/nested"
check "new --dir: the project is there" test -f deep/er/nested/plugin.yaml
run "$W" new --list
expect "new --list" 0
# The PDK templates in the source tree, whichever exist.
for lang in $("$W" new --list | awk '{print $1}'); do
    run "$W" new "$lang" "tpl-$lang"
    expect "new $lang (PDK template)" 0 "created tpl-$lang"
    run "$W" validate "tpl-$lang/plugin.yaml"
    check "new $lang: manifest names the plugin" grep -q "tpl-$lang 0.1.0" "$T/out"
    check "new $lang: the manifest's name: is filled" grep -qx "name: tpl-$lang" "tpl-$lang/plugin.yaml"
    check "new $lang: the project has a README naming it" grep -q "^# tpl-$lang" "tpl-$lang/README.md"
    check "new $lang: build.sh is executable" test -x "tpl-$lang/build.sh"
    check "new $lang: build.sh finds the SDK without WASMPLUG_SDK" \
        grep -q '^sdk=${WASMPLUG_SDK:-/' "tpl-$lang/build.sh"
done
if [ -d tpl-rust ]; then
    pdk=$(sed -n 's/^wasmplug-pdk = { path = "\(.*\)" }$/\1/p' tpl-rust/Cargo.toml)
    check "new rust: Cargo.toml points at the PDK it came from ($pdk)" test -f "$pdk/src/lib.rs"
fi
# The C template builds and runs (freestanding C needs only clang + wasm-ld),
# word for word as `wasmplug new` says.
if [ -d tpl-c ] && command -v clang >/dev/null 2>&1 && command -v wasm-ld >/dev/null 2>&1; then
    (cd tpl-c && ./build.sh >"$T/out" 2>"$T/err"); rc=$?
    expect "new c: the project builds" 0 "built"
    run "$W" run tpl-c greet '{"name":"Ada"}'
    expect "new c: the plugin runs" 0 "Hello, Ada!"
else
    echo "skip building the C template (no C template, clang or wasm-ld)"
fi

echo "# compiled-module cache"
echo "skip corrupt cache entry (the compiled-module cache is not implemented yet)"

cli_done
