#!/bin/sh
# serve_load.sh - the load test of `wasmplug serve` (docs/PERFORMANCE.md,
# "Serving over HTTP"): 64 keep-alive clients (wrk, 2 threads) call a
# trivial plugin (echo.wasm's noop: ABI v1, no input, no output) for 30 s.
# Reports throughput, latency p50/p99, errors (wrk's socket errors and
# non-2xx answers, and the plugin's failed calls from /metrics), the
# server's RSS at start and end, the load average around the run, and the
# CPU time per call of the server and of wrk: on a machine shared with other
# jobs the throughput follows their load, the CPU per call does not (the
# calls/s the two cores could serve is about 2 s / (server + wrk CPU)).
#
#   bench/serve/serve_load.sh WASMPLUG ECHO_WASM [SECONDS] [--access-log]
#                             [--queue WORKERS]
#
# WASMPLUG is the wasmplug command (build-bench/wasmplug after
# `bench/run.sh`), ECHO_WASM the CLI tests' plugin (build-bench/tests/cli/
# plugins/echo.wasm). --access-log writes the access log to a file (the
# default run has it off, measuring the request path alone). --queue W
# forwards the calls to W `wasmplug worker` processes (--concurrency 2
# each) through a redis-server of its own (a Unix socket in the temporary
# directory, no persistence): serve --queue-redis with --threads 64, so
# each of the 64 connections can wait for its answer.
# Exit status: non-zero on any error or a failed call.
set -eu
wasmplug=$1
echo_wasm=$2
secs=${3:-30}
shift 2
[ $# -gt 0 ] && shift
log=off
workers=0
while [ $# -gt 0 ]; do
    case $1 in
    --access-log) log="file" ;;
    --queue) workers=$2; shift ;;
    *) echo "serve_load.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
command -v wrk >/dev/null || { echo "serve_load.sh: wrk is needed (apt-get install wrk)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-serve-bench.XXXXXX")
pid=
others=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    for p in $others; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
export WASMPLUG_STORE="$T/store"
mkdir "$T/echo"
cp "$echo_wasm" "$T/echo/echo.wasm"
printf 'id: bench-echo\nversion: 1.0.0\nmodule: echo.wasm\nabi: v1\n' >"$T/echo/plugin.yaml"
"$wasmplug" install "$T/echo" --yes >/dev/null
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$T/token"
chmod 600 "$T/token"
[ $log = file ] && access="$T/access.log" || access=off
queue_args=
if [ "$workers" -gt 0 ]; then
    command -v redis-server >/dev/null || { echo "serve_load.sh: redis-server is needed" >&2; exit 1; }
    redis-server --port 0 --unixsocket "$T/redis.sock" --unixsocketperm 700 --dir "$T" \
        --save "" --appendonly no --daemonize no --logfile "$T/redis.log" &
    others="$others $!"
    redis="unix://$T/redis.sock"
    w=0
    while [ $w -lt "$workers" ]; do
        w=$((w + 1))
        "$wasmplug" -q worker --redis "$redis" --stream calls --group workers \
            --consumer "w$w" --concurrency 2 --data-dir "$T/data" 2>"$T/worker$w.err" &
        others="$others $!"
    done
    queue_args="--queue-redis $redis --threads 64"
fi
# shellcheck disable=SC2086 # queue_args: options without spaces
"$wasmplug" serve --listen 127.0.0.1:0 --token-file "$T/token" --access-log "$access" \
    --data-dir "$T/data" $queue_args >"$T/out" 2>"$T/err" &
pid=$!
i=0
until grep -q "listening on" "$T/out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && { cat "$T/err" >&2; echo "serve_load.sh: the server did not start" >&2; exit 1; }
    sleep 0.1
done
url=$(sed -n 's/.*listening on //p' "$T/out")
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
# CPU ticks: the server's (utime + stime), and this shell's waited children (wrk).
cpu_server() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
cpu_children() { awk '{ print $16 + $17 }' "/proc/$$/stat"; }
# Redis and the workers (--queue), still running: their own CPU ticks.
cpu_others() {
    n=0
    for p in $others; do n=$((n + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
    echo $n
}
cat >"$T/call.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $(cat "$T/token")"
LUA
# Warm up (instances of the pool created, pages touched), then measure.
wrk -t2 -c64 -d2s -s "$T/call.lua" "$url/v1/plugins/bench-echo/call/noop" >/dev/null
rss_start=$(rss)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
srv0=$(cpu_server)
wrk0=$(cpu_children)
oth0=$(cpu_others)
wrk -t2 -c64 -d"${secs}s" --latency -s "$T/call.lua" "$url/v1/plugins/bench-echo/call/noop" \
    >"$T/wrk.txt"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
srv1=$(cpu_server)
wrk1=$(cpu_children)
oth1=$(cpu_others)
rss_end=$(rss)
metrics=$(curl -s -H "Authorization: Bearer $(cat "$T/token")" "$url/metrics")
if [ "$workers" -gt 0 ]; then
    # Failed, timed out or refused (Redis) forwarded calls.
    failed=$(echo "$metrics" | awk '/^wasmplug_serve_queue_(failed|timed_out|redis_errors)_total/ {
        n += $2 } END { print n + 0 }')
    calls=$(echo "$metrics" | awk '/^wasmplug_serve_queue_forwarded_total/ { print $2 }')
    mode="forwarded to $workers worker(s) through Redis"
else
    failed=$(echo "$metrics" | awk '/^wasmplug_plugin_errors_total\{plugin="bench-echo"/ { print $2 }')
    calls=$(echo "$metrics" | awk '/^wasmplug_plugin_calls_total\{plugin="bench-echo"/ { print $2 }')
    mode="in the server"
fi
rps=$(awk '/^Requests\/sec/ { print $2 }' "$T/wrk.txt")
reqs=$(awk '/requests in/ { print $1 }' "$T/wrk.txt")
p50=$(awk '$1 == "50%" { print $2 }' "$T/wrk.txt")
p99=$(awk '$1 == "99%" { print $2 }' "$T/wrk.txt")
sock=$(awk '/Socket errors/ { print }' "$T/wrk.txt")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.txt")
echo "wasmplug serve: 64 keep-alive clients (wrk -t2 -c64), ${secs} s, trivial call ${mode}, access log ${log}"
printf '  throughput   %s calls/s (%s requests)\n' "$rps" "$reqs"
printf '  latency      p50 %s, p99 %s\n' "$p50" "$p99"
printf '  errors       %s non-2xx, %s, %s failed calls of %s (server metrics)\n' \
    "${non2xx:-0}" "${sock:-no socket errors}" "${failed:-?}" "${calls:-?}"
hz=$(getconf CLK_TCK)
awk -v s=$((srv1 - srv0)) -v w=$((wrk1 - wrk0)) -v o=$((oth1 - oth0)) -v n="$reqs" \
    -v hz="$hz" 'BEGIN {
    su = s / hz * 1e6 / n; wu = w / hz * 1e6 / n; ou = o / hz * 1e6 / n
    printf "  CPU per call %.1f us server, %.1f us wrk", su, wu
    if (o > 0) printf ", %.1f us Redis and workers", ou
    printf " (2 cores: ~%.0f calls/s if alone)\n", 2e6 / (su + wu + ou) }'
printf '  RSS          %s KiB at start, %s KiB at end\n' "$rss_start" "$rss_end"
printf '  load average %s before, %s after (%s CPUs)\n' "$load_before" "$load_after" "$(nproc)"
[ -z "$non2xx" ] && [ -z "$sock" ] && [ "${failed:-1}" = 0 ]
