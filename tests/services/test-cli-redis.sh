#!/bin/sh
# test-cli-redis.sh WASMPLUG PLUGIN_DIR EVENTS_PLUGIN_DIR TESTS_CLI_SOURCE_DIR -
# the wasmplug command with Redis, on a redis-server of the test's own
# (127.0.0.1, a free port, files in the test's directory, stopped at the
# end): --kv-redis keeps key-value data in Redis (shared by runs with
# different data directories, nothing on disk, a trapping call leaves
# nothing, `wasmplug kv` reads it); --events-redis with --bridge writes a
# plugin's events to the topic's stream, and a run whose events Redis
# cannot take fails. The static wasmplug has no Redis client: these run in
# wasmplug-dist, whichever place the option has.
W=$1 PLUG=$2 EVPLUG=$3 SRC=$4
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$EVPLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR EVENTS_PLUGIN_DIR TESTS_CLI_SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W") PLUG=$(abs "$PLUG") EVPLUG=$(abs "$EVPLUG") SRC=$(abs "$SRC")
# shellcheck source=tests/cli/lib.sh
. "$SRC/lib.sh"

# shellcheck source=tests/redis/redis-lib.sh
. "$SRC/../redis/redis-lib.sh"
trap 'kill $redis_pid 2>/dev/null; wait $redis_pid 2>/dev/null; rm -rf "$T"' EXIT INT TERM
start_redis "$T"
PORT=$redis_port
RPID=$redis_pid
URL="redis://127.0.0.1:$PORT"

mkdir -p kvp pub
cp "$PLUG/kvplug.wasm" kvp/
cat >kvp/plugin.yaml <<YAML
id: kvp
version: 1.0.0
module: kvplug.wasm
permissions:
  storage: true
YAML
cp "$EVPLUG/ev_pub.wasm" pub/
cat >pub/plugin.yaml <<YAML
id: pub
version: 1.0.0
module: ev_pub.wasm
permissions:
  events:
    publish: [orders.>]
YAML

echo "# --kv-redis"
run "$W" --data-dir "$T/one" --kv-redis "$URL" run kvp set "color=blue"
expect "run: set on Redis" 0
run "$W" --data-dir "$T/two" --kv-redis "$URL" run kvp get color
expect "  ... another data directory reads it" 0 "blue"
run "$W" --data-dir "$T/two" run kvp get color --kv-redis "$URL"
expect "  ... the option after the command too (the static wasmplug: in wasmplug-dist)" 0 "blue"
check "  ... nothing on disk" test ! -e "$T/one/kvp/kv.sqlite"
check "  ... it is in Redis" test "$(redis-cli -p "$PORT" hget 'wasmplug:kv:{kvp}:data' color)" = blue
run "$W" --kv-redis "$URL" run kvp set_then_trap "color=red"
expect "run: a trapping call fails" 1
run "$W" --kv-redis "$URL" kv kvp get color
expect "  ... its write is not in Redis (wasmplug kv)" 0 "blue"
run "$W" --kv-redis "redis://127.0.0.1:notaport" run kvp get color
expect "run: a bad URL names the option" 4 "kv_redis_url"

echo "# --events-redis"
run "$W" --events-redis "$URL" --bridge 'orders.>' run pub publish "orders.created
{\"n\":7}"
expect "run: a bridged publish" 0 "0"
check "  ... is in the topic's stream" \
    test "$(redis-cli -p "$PORT" xlen 'wasmplug:events:orders.>')" = 1
check "  ... with its payload" sh -c "redis-cli -p $PORT xrange 'wasmplug:events:orders.>' - + | grep -qF '{\"n\":7}'"
kill $RPID
wait $RPID 2>/dev/null
run "$W" --events-redis "$URL" run pub publish "orders.created
{}"
expect "run: Redis gone, the bridge is refused" 7 "--events-redis" "cannot connect"

# The static wasmplug (with wasmplug-dist beside it) without its helper: a
# Redis option before or after the command is the same internal error
# (exit 8, as every forwarded command), with the same message.
if [ -x "$(dirname "$W")/wasmplug-dist" ]; then
    echo "# wasmplug-dist missing"
    NODIST="$T/no-such-wasmplug-dist"
    for place in before after; do
        if [ $place = before ]; then
            run env WASMPLUG_DIST_HELPER="$NODIST" "$W" --kv-redis "$URL" run kvp get color
        else
            run env WASMPLUG_DIST_HELPER="$NODIST" "$W" run kvp get color --kv-redis "$URL"
        fi
        expect "--kv-redis $place the command: exit 8" 8 \
            "this command needs wasmplug-dist, which was not found (tried $NODIST"
        if [ $place = before ]; then
            run env WASMPLUG_DIST_HELPER="$NODIST" "$W" --json --kv-redis "$URL" run kvp get color
        else
            run env WASMPLUG_DIST_HELPER="$NODIST" "$W" --json run kvp get color --kv-redis "$URL"
        fi
        expect "  ... --json: exit 8" 8
        check "  ... --json: the error document says internal, exit_code 8" \
            sh -c "grep -q '\"exit_code\": *8' '$T/out' && grep -q '\"kind\": *\"internal\"' '$T/out'"
    done
    run env WASMPLUG_DIST_HELPER="$NODIST" "$W" --events-redis "$URL" run pub publish x
    expect "--events-redis before the command: exit 8" 8 "needs wasmplug-dist"
    run env WASMPLUG_DIST_HELPER="$NODIST" "$W" kv kvp get color --kv-redis "$URL"
    expect "wasmplug kv, --kv-redis after the command: exit 8" 8 "needs wasmplug-dist"
fi

cli_done
