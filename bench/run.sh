#!/bin/sh
# run.sh - build (Release) and run the benchmark suite: the workloads
# (wasmplug-bench: native vs wasmplug vs wabt's wasm-interp) and the
# micro-benchmarks (wasmplug-micro), the event bus (wasmplug-bench-events),
# the key-value service (wasmplug-bench-kv), distribution
# (bench/dist/bench_dist.py: a registry of 1,000 plugins over HTTP: search,
# resolve + install), outbound HTTP (wasmplug-bench-http), `wasmplug
# serve` under 64 keep-alive clients, its calls run in the server and forwarded
# to 1 and 2 workers through Redis (bench/serve/serve_load.sh, with wrk),
# plugin calls through Redis with 1, 2 and 4 workers (wasmplug-bench-queue),
# the start of a host with 300 plugins, eager and lazy (wasmplug-bench-start),
# and CoreMark when COREMARK_DIR names a checkout of it (bench/coremark.py).
# See docs/PERFORMANCE.md.
#
#   bench/run.sh [--build-dir DIR] [--no-build] [--no-micro] [--quick] [-- BENCH_ARGS...]
#
#   --build-dir DIR  CMake build tree (default: build-bench in the source tree)
#   --no-build       use the binaries already in DIR
#   --no-micro       only the workloads
#   --quick          1 round, a tenth of the size, no wasm-interp (a smoke test)
#   BENCH_ARGS       passed to wasmplug-bench, e.g. --rounds 9 --only fib,sort
#                    --bounds explicit --no-interp
# Exit status: non-zero if a workload failed or a checksum differed.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build-bench"
do_build=1
micro=1
quick=0
while [ $# -gt 0 ]; do
    case $1 in
    --build-dir) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --no-micro) micro=0; shift ;;
    --quick) quick=1; shift ;;
    --) shift; break ;;
    *) break ;;
    esac
done

if [ $do_build = 1 ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" \
        --target wasmplug-bench wasmplug-micro bench_big_wasm wasmplug-bench-events \
        wasmplug_cli cli_test_plugins wasmplug-bench-kv wasmplug-bench-http wasmplug-bench-flow \
        wasmplug-bench-queue wasmplug-bench-start
fi

bin="$build/bench"
[ -x "$bin/wasmplug-bench" ] || { echo "run.sh: $bin/wasmplug-bench not built" >&2; exit 1; }
command -v wasm-interp >/dev/null 2>&1 || set -- --no-interp "$@"
[ $quick = 1 ] && set -- --rounds 1 --scale 0.1 --no-interp "$@"

# The micro-benchmarks first: they report absolute times, which minutes of
# sustained load can inflate on a shared VM (the workload table does not
# care: each wasmplug round is timed next to a native round).
status=0
if [ $micro = 1 ]; then
    "$bin/wasmplug-micro" || status=1
    echo
fi
"$bin/wasmplug-bench" "$@" || status=1
if [ -n "${COREMARK_DIR:-}" ] && [ -x "$build/wasmplug" ]; then
    # CoreMark from a checkout outside the repository (bench/coremark.py).
    echo
    if [ $quick = 1 ]; then
        python3 "$root/bench/coremark.py" --wasmplug "$build/wasmplug" --rounds 1 \
            --iterations 100 || status=1
    else
        python3 "$root/bench/coremark.py" --wasmplug "$build/wasmplug" || status=1
    fi
fi
if [ -x "$bin/wasmplug-bench-events" ]; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-events" --rounds 1 --events 20000 || status=1
    else
        "$bin/wasmplug-bench-events" || status=1
    fi
fi
if [ -x "$bin/wasmplug-bench-kv" ]; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-kv" --rounds 1 --calls 2000 || status=1
    else
        "$bin/wasmplug-bench-kv" || status=1
    fi
fi
if [ -x "$bin/wasmplug-bench-flow" ]; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-flow" --rounds 3 || status=1
    else
        "$bin/wasmplug-bench-flow" || status=1
    fi
fi
if [ -x "$bin/wasmplug-bench-start" ]; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-start" --rounds 1 --count 30 || status=1
    else
        "$bin/wasmplug-bench-start" || status=1
    fi
fi
if [ -x "$build/wasmplug" ] && [ -f "$build/tests/cli/plugins/empty.wasm" ] &&
    command -v python3 >/dev/null 2>&1; then
    echo
    if [ $quick = 1 ]; then
        set -- --plugins 100 --rounds 3
    else
        set --
    fi
    python3 "$root/bench/dist/bench_dist.py" "$build/wasmplug" \
        "$build/tests/cli/plugins/empty.wasm" "$root" "$@" || status=1
fi
if [ -x "$bin/wasmplug-bench-http" ]; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-http" --rounds 1 --requests 300 || status=1
    else
        "$bin/wasmplug-bench-http" || status=1
    fi
fi
if [ -x "$build/wasmplug" ] && [ -f "$build/tests/cli/plugins/echo.wasm" ] &&
    command -v wrk >/dev/null 2>&1; then
    echo
    secs=30
    [ $quick = 1 ] && secs=3
    sh "$root/bench/serve/serve_load.sh" "$build/wasmplug" \
        "$build/tests/cli/plugins/echo.wasm" $secs || status=1
    # The same calls forwarded by serve to 1 and 2 workers through Redis.
    if command -v redis-server >/dev/null 2>&1; then
        for w in 1 2; do
            echo
            sh "$root/bench/serve/serve_load.sh" "$build/wasmplug" \
                "$build/tests/cli/plugins/echo.wasm" $secs --queue $w || status=1
        done
    fi
fi
if [ -x "$bin/wasmplug-bench-queue" ] && command -v redis-server >/dev/null 2>&1; then
    echo
    if [ $quick = 1 ]; then
        "$bin/wasmplug-bench-queue" --rounds 1 --calls 2000 --latency-calls 200 || status=1
    else
        "$bin/wasmplug-bench-queue" || status=1
    fi
fi
exit $status
