#!/bin/sh
# test-cli-services.sh WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR - the host
# services in the wasmplug command: a plugin gets a service only when its
# manifest requests the grant (validate and run say which grant is
# missing), --grant/--deny change that, and notifications are printed on
# stderr with the plugin's text escaped.
W=$1 PLUG=$2 SRC=$3
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") PLUG=$(abs "$PLUG") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
export WASMPLUG_PLUGIN_DATA="$T/plugin-data"

mkdir -p asks silent
cp "$PLUG/notify_only.wasm" asks/
cp "$PLUG/notify_only.wasm" silent/
cat >asks/plugin.yaml <<YAML
id: asks
version: 1.0.0
module: notify_only.wasm
permissions:
  notify: true
YAML
cat >silent/plugin.yaml <<YAML
id: silent
version: 1.0.0
module: notify_only.wasm
YAML

echo "# notify"
run "$W" run asks run
expect "run: a notification on stderr" 0 "[notify success] asks: Done"
run "$W" run asks escape
expect "run: the plugin's control characters are escaped" 0 \
    '[notify error] asks: Done: red \e[31m\nnext'
check "  ... no raw escape reaches the terminal" sh -c "! grep -q \"$(printf '\033')\" '$T/err'"
run "$W" validate asks
expect "validate: the grant is requested" 0 "wasmplug.notify (service, grant 'notify' requested)"

echo "# not requested"
run "$W" validate silent
expect "validate: the missing grant is named" 4 \
    "wasmplug.notify needs grant 'notify': the manifest must request it in permissions (notify: true)"
run "$W" run silent run
expect "run: denied, naming the import, the grant and the fix" 5 \
    "import wasmplug.notify denied: the manifest of silent does not request 'notify'; add notify: true to its permissions, or grant it for this run with --grant notify"
run "$W" run silent run --grant notify
expect "run --grant notify: allowed" 0 "[notify success] silent: Done"
run "$W" run asks run --deny notify
expect "run --deny notify: denied" 5 "import wasmplug.notify denied"
check "no data directory for a plugin without storage" test ! -e "$T/plugin-data"

cli_done
