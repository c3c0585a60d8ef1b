#!/bin/sh
# test-pdk-services.sh WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR - the host
# services (key-value, SQL, notify) through the AssemblyScript, Rust and Zig
# PDKs (the C PDK: tests/services/plugins/*.c): tests/services/pdk/visit.*
# built with each toolchain found (the ones `make deps` installs), then run
# twice by the CLI: the second run sees the first one's data.
W=$1 ROOT=$2 SRC=$3
if [ -z "$W" ] || [ -z "$ROOT" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG SOURCE_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") ROOT=$(abs "$ROOT") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"
export WASMPLUG_PLUGIN_DATA="$T/plugin-data"
P=$ROOT/tests/services/pdk
# shellcheck source=tests/services/pdk-lib.sh
. "$ROOT/tests/services/pdk-lib.sh"

mkplugin() { # mkplugin ID: a plugin directory asking for every storage service
    mkdir -p "$1"
    printf 'id: %s\nversion: 1.0.0\nmodule: p.wasm\npermissions:\n  storage: true\n  database: true\n  notify: true\n' \
        "$1" >"$1/plugin.yaml"
}
visit_twice() { # visit_twice ID LANG
    run "$W" run "$1" visit ada
    expect "$2: first visit (kv, db, notify)" 0 "[notify info] $1: first: ada" '[{"n":1}]'
    run "$W" run "$1" visit ada
    expect "$2: second visit sees the data" 0 "[notify info] $1: again: ada" '[{"n":2}]'
}
built=0
for lang in $(pdk_langs); do
    mkplugin $lang
    if pdk_build $lang "$P/visit" $lang/p.wasm; then
        visit_twice $lang "$(pdk_name $lang)"
        if [ $lang = rs ]; then
            run "$W" run rs visit bob
            expect "Rust: an SQL error comes back as the error's text" 0 'near "SELEC": syntax error'
        fi
        built=$((built + 1))
    else
        cat "$T/build.log"
        bad "$(pdk_name $lang): the PDK's services do not build"
    fi
done
echo "$built of 3 toolchains found"
cli_done
