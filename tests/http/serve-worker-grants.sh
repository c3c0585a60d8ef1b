#!/bin/sh
# serve-worker-grants.sh - an installed plugin's recorded grants honoured by
# `wasmplug serve` and `wasmplug worker` as `run` honours them. HTTP: the
# weather-report example installed with its http grant fetches from
# tests/http/server.py on 127.0.0.1 through a served call and through a
# worker (Redis Streams, a redis-server of the test's own); a URL outside
# the grant is refused, loopback needs --allow-http-address, and --deny
# http:* takes the network away whatever was recorded. WASI: a plugin
# installed with a directory and a variable granted reads them when served
# or run by a worker; what was not granted stays out, and --deny wasi.fs.*
# takes the directory away. Every server binds 127.0.0.1 on a free port and
# is stopped on exit.
#
#   tests/http/serve-worker-grants.sh WASMPLUG_CLI WEATHER_REPORT.wasm WASI_PLUGIN.wasm
set -eu
set -f # patterns below contain '*'
[ $# -eq 3 ] || {
    echo "usage: $0 WASMPLUG_CLI WEATHER_REPORT.wasm WASI_PLUGIN.wasm" >&2
    exit 2
}
cli=$1
wasm=$2
wasi_wasm=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
pids=
# shellcheck source=tests/http/server-lib.sh
. "$here/server-lib.sh"
# shellcheck source=tests/http/check-lib.sh
. "$here/check-lib.sh"
# shellcheck source=tests/redis/redis-lib.sh
. "$root/tests/redis/redis-lib.sh"
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    for p in $pids; do wait "$p" 2>/dev/null || true; done
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT
start_server plain

export WASMPLUG_STORE="$work/store"
cp -r "$root/examples/plugins/weather-report" "$work/wr"
cp "$wasm" "$work/wr/weather-report.wasm"
url=http://127.0.0.1:$port/json
outside=http://127.0.0.1:$port/echo
loop="--allow-http-address 127.0.0.1=127.0.0.0/8"
token=t0k3n-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$token" >"$work/token"
chmod 600 "$work/token"
# wait_for FILE TEXT: until FILE holds TEXT (bounded: 60 s).
wait_for() {
    i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 1200 ]; then
            echo "FAIL: '$2' never appeared in $1:"
            cat "$1" "$1.err" 2>/dev/null || true
            exit 1
        fi
        sleep 0.05
    done
}

expect 0 "install with the http grant" "$cli" install "$work/wr" \
    --grant "http:GET http://127.0.0.1:*/json"
# A WASI plugin granted its directory and one of its two variables.
mkdir -p "$work/wasi" "$work/data"
echo "secret data" >"$work/data/x.txt"
cp "$wasi_wasm" "$work/wasi/wasi_plugin.wasm"
cat >"$work/wasi/plugin.yaml" <<YAML
id: wasi-reader
version: 1.0.0
module: wasi_plugin.wasm
exports: [env, readfile]
permissions:
  env: [FOO, "AWS_*"]
  filesystem:
    - $work/data:/data:ro
YAML
expect 0 "install with a directory and a variable granted" "$cli" install "$work/wasi" \
    --grant wasi.fs.read:/data --grant wasi.env:FOO
export FOO=from-host AWS_SECRET=s3cr3t

# ---- serve ----------------------------------------------------------------
# start_serve NAME FLAGS...: serve the store; $sport is its port.
start_serve() {
    name=$1
    shift
    # shellcheck disable=SC2086
    "$cli" serve --listen 127.0.0.1:0 --token-file "$work/token" --access-log off "$@" \
        >"$work/$name" 2>"$work/$name.err" &
    pids="$pids $!"
    wait_for "$work/$name" "listening on http://127.0.0.1:"
    sport=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$name")
}
# call PORT URL [PLUGIN FUNCTION]: POST URL (the input) to weather-report's
# summary, or to PLUGIN's FUNCTION; the body in $work/out, the HTTP status
# in $work/status.
call() {
    curl -sS -o "$work/out" -w '%{http_code}' -H "Authorization: Bearer $token" \
        --data-binary "$2" \
        "http://127.0.0.1:$1/v1/plugins/${3:-weather-report}/call/${4:-summary}" \
        >"$work/status" 2>"$work/err" || true
}

status_is() { # WANT DESCRIPTION
    if [ "$(cat "$work/status")" = "$1" ]; then
        ok
    else
        bad "$2: status $(cat "$work/status"), expected $1"
        cat "$work/out"
    fi
}

# shellcheck disable=SC2086
start_serve serve1 $loop
call "$sport" "$url"
status_is 200 "serve: the recorded grant reaches the test server"
contains "$work/out" "{\"city\":\"Lyon\",\"hours\":6,\"min\":10,\"max\":15,\"mean\":12.5,\"source\":\"$url\"}"
call "$sport" "$outside"
status_is 422 "serve: a URL outside the grant is refused"
contains "$work/out" "is not allowed for plugin 'weather-report'"

call "$sport" "" wasi-reader readfile
status_is 200 "serve: the granted directory is opened"
contains "$work/out" "secret data"
call "$sport" "" wasi-reader env
status_is 200 "serve: the environment"
contains "$work/out" "FOO=from-host"
lacks "$work/out" "AWS_SECRET"

start_serve serve2
call "$sport" "$url"
status_is 422 "serve: loopback refused without --allow-http-address"
contains "$work/out" "127.0.0.1, a loopback address"

# shellcheck disable=SC2086
start_serve serve3 $loop --deny 'http:*' --deny 'wasi.fs.*'
call "$sport" "$url"
status_is 404 "serve --deny http:*: the plugin is not loaded"
contains "$work/serve3.err" "wasmplug.http_request"
call "$sport" "" wasi-reader readfile
status_is 200 "serve --deny wasi.fs.*: the plugin runs"
contains "$work/out" "errno 08"
lacks "$work/out" "secret data"

# ---- worker ---------------------------------------------------------------
start_redis "$work"
pids="$pids $redis_pid"
redis=redis://127.0.0.1:$redis_port
# start_worker STREAM FLAGS...: a worker consuming STREAM.
start_worker() {
    stream=$1
    shift
    "$cli" worker --redis "$redis" --stream "$stream" --group workers "$@" \
        >"$work/$stream" 2>"$work/$stream.err" &
    pids="$pids $!"
    wait_for "$work/$stream.err" "consuming $stream"
}

# shellcheck disable=SC2086
start_worker calls $loop
expect 0 "worker: the recorded grant reaches the test server" \
    "$cli" submit --redis "$redis" --stream calls --timeout 30s weather-report summary "$url"
contains "$work/out" "\"city\":\"Lyon\""
expect 1 "worker: a URL outside the grant is refused" \
    "$cli" submit --redis "$redis" --stream calls --timeout 30s weather-report summary "$outside"
contains "$work/err" "is not allowed for plugin 'weather-report'"
expect 0 "worker: the granted directory is opened" \
    "$cli" submit --redis "$redis" --stream calls --timeout 30s wasi-reader readfile
contains "$work/out" "secret data"

# shellcheck disable=SC2086
start_worker denied $loop --deny 'http:*'
expect 5 "worker --deny http:*: the plugin is refused" \
    "$cli" submit --redis "$redis" --stream denied --timeout 30s weather-report summary "$url"
contains "$work/err" "wasmplug.http_request"

check_done
