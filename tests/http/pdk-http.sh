#!/bin/sh
# pdk-http.sh WASMPLUG_CLI PLUGIN_DIR NAME... - the HTTP helpers of the
# AssemblyScript, Rust and Zig PDKs (tests/http/pdk/fetch.*, built by
# tests/pdk/build-plugin.sh as http_as, http_rust, http_zig; the C PDK's are
# tested by http.cli) run by the wasmplug command against tests/http/server.py
# on 127.0.0.1: http.get and the JSON of the response, http.post with a
# header, postJson, and a URL the manifest does not ask for (refused with
# code 4, url not allowed).
[ $# -ge 3 ] || { echo "usage: $0 WASMPLUG_CLI PLUGIN_DIR NAME..." >&2; exit 2; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$1") DIR=$(abs "$2")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/cli/lib.sh
. "$here/../cli/lib.sh"
work=$T
# shellcheck source=tests/http/server-lib.sh
. "$here/server-lib.sh"
trap 'stop_servers; rm -rf "$T"' EXIT INT TERM
start_server plain
base=http://127.0.0.1:$port
for name in "$@"; do
    id=$(echo "$name" | tr _ -)
    mkdir -p "$id"
    cp "$DIR/$name.wasm" "$id/p.wasm"
    printf '%s\n' "id: $id" 'version: 1.0.0' 'module: p.wasm' 'exports:' '  - fetch' \
        'permissions:' '  http:' '    - GET http://127.0.0.1:*/json' \
        '    - POST http://127.0.0.1:*/echo' >"$id/plugin.yaml"
    run "$W" run "$id" fetch "$base" --allow-http '127.0.0.1:*' \
        --allow-http-address 127.0.0.1=127.0.0.0/8
    expect "$name: get + json, post, postJson, a refused URL" 0 \
        "city=Lyon readings=6 post=200 POST ping json=1 refused=4"
done
cli_done
