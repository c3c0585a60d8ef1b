#!/bin/sh
# coldstart.sh - measure `wasmplug run` cold start for an empty plugin (a
# benchmark, not a test): wall time per process of
#   a bare process (/bin/true), `wasmplug --version` (the binary's own start
#   up), and `wasmplug run EMPTY.wasm run` (load, validate, compile,
#   instantiate, init, call, tear down),
# in ROUNDS rounds of N runs each, interleaved; the best round counts, which
# filters out other load on the machine. The run line is measured twice:
# with --no-cache (every run decodes, validates and compiles) and with a warm
# compiled-module cache (every run loads the compiled form; in a private
# cache directory, so the user's cache is left alone). Any module works in
# place of EMPTY.wasm, to see what the cache saves on a bigger one.
#
#   coldstart.sh WASMPLUG EMPTY.wasm [N] [ROUNDS] ["FUNCTION [INPUT]" (default run)]
W=$1
EMPTY=$2
N=${3:-200}
ROUNDS=${4:-5}
F=${5:-run}
if [ ! -x "$W" ] || [ ! -f "$EMPTY" ]; then
    echo "usage: $0 WASMPLUG EMPTY.wasm [N] [ROUNDS] [FUNCTION]" >&2
    exit 2
fi
CACHE=$(mktemp -d)
trap 'rm -rf "$CACHE"' EXIT
export WASMPLUG_CACHE_DIR="$CACHE"
"$W" run "$EMPTY" $F >/dev/null || { echo "coldstart: wasmplug run failed" >&2; exit 1; }
"$W" run "$EMPTY" $F --stats 2>&1 >/dev/null | grep -q "cache: *hit" ||
    { echo "coldstart: the compiled-module cache did not hit" >&2; exit 1; }

now_us() { date +%s%6N; }
# batch CMD...: average microseconds per run over N runs.
batch() {
    i=0
    t0=$(now_us)
    while [ $i -lt "$N" ]; do
        "$@" >/dev/null 2>&1
        i=$((i + 1))
    done
    t1=$(now_us)
    echo $(((t1 - t0) / N))
}
best_true=999999999 best_ver=999999999 best_run=999999999 best_hit=999999999
r=0
while [ $r -lt "$ROUNDS" ]; do
    t=$(batch /bin/true); [ "$t" -lt "$best_true" ] && best_true=$t
    t=$(batch "$W" --version); [ "$t" -lt "$best_ver" ] && best_ver=$t
    t=$(batch "$W" run "$EMPTY" $F --no-cache); [ "$t" -lt "$best_run" ] && best_run=$t
    t=$(batch "$W" run "$EMPTY" $F); [ "$t" -lt "$best_hit" ] && best_hit=$t
    r=$((r + 1))
done
ms() {
    v=$1 sign=
    if [ "$v" -lt 0 ]; then sign=-; v=$((-v)); fi
    printf '%s%d.%03d ms' "$sign" $((v / 1000)) $((v % 1000))
}
echo "cold start: best of $ROUNDS rounds of $N runs ($(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
printf '  %-32s %s\n' "bare process (/bin/true)" "$(ms "$best_true")"
printf '  %-32s %s\n' "wasmplug --version" "$(ms "$best_ver")"
printf '  %-32s %s\n' "wasmplug run --no-cache" "$(ms "$best_run")"
printf '  %-32s %s\n' "  over a bare process" "$(ms $((best_run - best_true)))"
printf '  %-32s %s\n' "  over wasmplug --version" "$(ms $((best_run - best_ver)))"
printf '  %-32s %s\n' "wasmplug run (cache hit)" "$(ms "$best_hit")"
printf '  %-32s %s\n' "  over a bare process" "$(ms $((best_hit - best_true)))"
printf '  %-32s %s\n' "  over wasmplug --version" "$(ms $((best_hit - best_ver)))"
printf '  %-32s %s\n' "cache hit vs --no-cache" "$(ms $((best_hit - best_run)))"
echo "  (module: $(basename "$EMPTY"), $(wc -c <"$EMPTY" | tr -d ' ') bytes)"
