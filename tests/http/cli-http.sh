#!/bin/sh
# cli-http.sh - outbound HTTP through the wasmplug command: run with and
# without --allow-http, address exceptions, --stats, info --allow-http,
# HTTPS with --http-ca and a CA made here, and bad flags, against
# tests/http/server.py on 127.0.0.1 (plain and TLS; started here, stopped on
# exit).
#
#   tests/http/cli-http.sh WASMPLUG_CLI WEATHER_REPORT.wasm
set -eu
set -f # patterns below contain '*'
[ $# -eq 2 ] || { echo "usage: $0 WASMPLUG_CLI WEATHER_REPORT.wasm" >&2; exit 2; }
cli=$1
wasm=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
# shellcheck source=tests/http/server-lib.sh
. "$here/server-lib.sh"
# shellcheck source=tests/http/check-lib.sh
. "$here/check-lib.sh"
trap 'stop_servers; rm -rf "$work"' EXIT
start_server plain

cp -r "$root/examples/plugins/weather-report" "$work/wr"
cp "$wasm" "$work/wr/weather-report.wasm"
url=http://127.0.0.1:$port/json
allow="--allow-http http://127.0.0.1:*/json"
loop="--allow-http-address 127.0.0.1=127.0.0.0/8"
# No --allow-http: no network at all (the import is denied at load).
expect 5 "run without --allow-http" "$cli" run "$work/wr" summary "$url"
contains "$work/err" "wasmplug.http_request"
contains "$work/err" "--allow-http PATTERN"

# Allowed (loopback explicitly allowed for this host): the reshaped JSON.
# shellcheck disable=SC2086
expect 0 "allowed run" "$cli" run "$work/wr" summary "$url" $allow $loop --stats
contains "$work/out" "{\"city\":\"Lyon\",\"hours\":6,\"min\":10,\"max\":15,\"mean\":12.5,\"source\":\"$url\"}"
contains "$work/err" "http:         1 requests (2xx 1"

# Loopback is refused unless allowed; the plugin reports the host's reason.
# shellcheck disable=SC2086
expect 1 "loopback not allowed" "$cli" run "$work/wr" summary "$url" $allow
contains "$work/err" "127.0.0.1, a loopback address"
# localhost resolves to loopback too (the manifest allows only 127.0.0.1).
# shellcheck disable=SC2086
expect 1 "a name resolving to loopback" "$cli" run "$work/wr" summary \
    "http://localhost:$port/json" --allow-http 'localhost:*' $loop
contains "$work/err" "none of the plugin's requested http entries matches it"
# A URL the manifest does not ask for, though the operator's pattern is wide.
# shellcheck disable=SC2086
expect 1 "URL outside the manifest" "$cli" run "$work/wr" summary \
    "http://127.0.0.1:$port/echo" --allow-http '*' $loop
contains "$work/err" "is not allowed for plugin 'weather-report'"
# The operator's pattern narrower than the manifest's entry.
# shellcheck disable=SC2086
expect 1 "URL outside the operator's pattern" "$cli" run "$work/wr" summary "$url" \
    --allow-http 'http://127.0.0.1:1/json' $loop
contains "$work/err" "no host policy rule matches it"
# --deny wins over --allow-http.
# shellcheck disable=SC2086
expect 5 "--deny http:*" "$cli" run "$work/wr" summary "$url" $allow $loop --deny 'http:*'

# Installed with its http grant, the plugin needs no --allow-http: the
# recorded grant is the operator's policy (the run continues in
# wasmplug-dist); loopback still needs --allow-http-address, --deny wins.
export WASMPLUG_STORE="$work/store"
expect 0 "install granting http" "$cli" install "$work/wr" --grant "http:GET http://127.0.0.1:*/json"
# shellcheck disable=SC2086
expect 0 "installed run with the recorded grant" "$cli" run weather-report summary "$url" $loop
contains "$work/out" '"city":"Lyon"'
expect 1 "installed run, loopback not allowed" "$cli" run weather-report summary "$url"
contains "$work/err" "127.0.0.1, a loopback address"
# shellcheck disable=SC2086
expect 5 "installed run, --deny http:*" "$cli" run weather-report summary "$url" $loop \
    --deny 'http:*'

# --json: the error schema.
# shellcheck disable=SC2086
expect 1 "--json refusal" "$cli" --json run "$work/wr" summary "$url" $allow
contains "$work/out" '"ok": false'

# info shows what --allow-http grants.
expect 0 "info --allow-http" "$cli" info "$work/wr" --allow-http '127.0.0.1:*'
contains "$work/out" "http granted    GET http://127.0.0.1:*/json (policy: 127.0.0.1:*)"

# HTTPS with a CA made for this run: refused without --http-ca (verification
# is always on), accepted with it.
sh "$here/make-certs.sh" "$work/certs"
start_server tls --tls "$work/certs/server.pem" "$work/certs/server.key"
tls_port=$port
sed 's#GET http://127.0.0.1:\*/json#GET https://localhost:*/json#' "$work/wr/plugin.yaml" \
    >"$work/wr/tls.yaml"
tls_url=https://localhost:$tls_port/json
tls_flags="--manifest $work/wr/tls.yaml --allow-http https://localhost:* \
    --allow-http-address localhost=127.0.0.0/8 --allow-http-address localhost=::1/128"
# shellcheck disable=SC2086
expect 1 "https without the test CA" "$cli" run "$work/wr/weather-report.wasm" summary \
    "$tls_url" $tls_flags
contains "$work/err" "summary returned 15"
# shellcheck disable=SC2086
expect 0 "https with --http-ca" "$cli" run "$work/wr/weather-report.wasm" summary "$tls_url" \
    $tls_flags --http-ca "$work/certs/ca.pem"
contains "$work/out" "\"city\":\"Lyon\""

# Bad flags are usage errors naming the problem.
expect 2 "bad --allow-http" "$cli" run "$work/wr" summary "$url" --allow-http 'ftp://x'
contains "$work/err" "scheme must be http or https"
expect 2 "bad --allow-http-address" "$cli" run "$work/wr" summary "$url" $allow \
    --allow-http-address 127.0.0.1
contains "$work/err" "HOST=CIDR"
expect 2 "--allow-http on exec" "$cli" exec --allow-http x "$wasm"

check_done
