#!/bin/sh
# demo.sh - a tour of the wasmplug command: installs the example plugins
# into a temporary store and runs them through the CLI, showing each
# command as it is typed and its output.
#
#   examples/demo.sh BUILD_DIR        (what `make demo` runs after building)
#
# Uses BUILD_DIR/wasmplug and the example plugins built in
# BUILD_DIR/examples/plugins (plugins not built there are built with their
# build.sh when the toolchain is available, else skipped). Nothing outside a
# temporary directory is touched. Exit status 0 when every step behaved as
# expected. WASMPLUG_DEMO_BUILD=0 skips building plugins that are not built
# (the CTest run does, to stay fast).
set -u
B=${1:-build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
W=$B/wasmplug
HERE=$(cd "$(dirname "$0")" && pwd)
EX=$HERE/plugins
if [ ! -x "$W" ]; then
    echo "demo: $W not found: build first (make build, or cmake --build $B)" >&2
    exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-demo.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
# Everything the command writes stays in $T: the store, the compiled-module
# cache, and whatever else would go under the XDG directories.
export WASMPLUG_STORE="$T/store" WASMPLUG_CACHE_DIR="$T/cache"
export XDG_DATA_HOME="$T/xdg-data" XDG_CACHE_HOME="$T/xdg-cache"
cd "$T" || exit 1

if [ -t 1 ]; then
    BOLD=$(printf '\033[1m') DIM=$(printf '\033[2m') RED=$(printf '\033[31m') OFF=$(printf '\033[0m')
else
    BOLD='' DIM='' RED='' OFF=''
fi
problems=0
step() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$OFF"; }
note() { printf '%s%s%s\n' "$DIM" "$*" "$OFF"; }
# show EXPECTED_EXIT ARGS...: print the command, run it, check its exit status.
show() {
    want=$1
    shift
    printf '%s$ wasmplug' "$BOLD"
    for a in "$@"; do
        case $a in
        *[\ \"\'\{\}\*]*) printf " '%s'" "$a" ;;
        *) printf ' %s' "$a" ;;
        esac
    done
    printf '%s\n' "$OFF"
    "$W" "$@" </dev/null
    rc=$?
    if [ "$rc" -ne 0 ]; then note "(exit status $rc)"; fi
    if [ "$rc" -ne "$want" ]; then
        printf '%sdemo: expected exit status %s%s\n' "$RED" "$want" "$OFF"
        problems=$((problems + 1))
    fi
}

step "wasmplug $("$W" --version | cut -d' ' -f2-)  (store: $WASMPLUG_STORE)"

# ---- hello: the freestanding C example, with a manifest written here ------
HELLO=$B/examples/plugins/hello.wasm
if [ -f "$HELLO" ]; then
    mkdir -p hello
    cp "$HELLO" hello/hello.wasm
    cat >hello/plugin.yaml <<'EOF'
id: hello
name: Hello
version: 1.0.0
description: Fibonacci numbers, and a greeting through two host functions
license: MIT
module: hello.wasm
exports: [fib, reverse, greet]
permissions:
  host_functions: [host.log, host.add]
resources:
  max_memory: 1MiB
  timeout: 2s
EOF
    step "Inspect a module: sections, imports, exports, features"
    show 0 inspect hello/hello.wasm
    step "Validate the plugin (manifest, module, exports, imports, trial load)"
    show 0 validate hello
    step "Install it into the store (atomically; --yes grants what it requests) and look at it"
    show 0 install hello --yes
    show 0 list
    show 0 info hello
    step "Call a function with typed arguments, with statistics"
    show 0 run hello fib 50 --stats
    show 0 --json run hello fib 10
    step "Limits: a call that needs more fuel than it is given fails on its own"
    show 6 run hello fib 100000000 --fuel 100000
    step "Permissions: refuse a host function the manifest asks for"
    show 5 run hello greet 0 --deny host.add
    step "A manifest mistake is reported with its line and column"
    sed 's/^version: 1.0.0/version: one/' hello/plugin.yaml >hello/broken.yaml
    show 4 validate hello/broken.yaml
else
    note "hello.wasm not built ($HELLO): skipping the hello tour"
fi

# ---- the PDK example plugins ------------------------------------------------
# demo_call NAME: the function and input shown for each known example.
demo_call() {
    case $1 in
    word-counter) set -- count '{"text":"The quick brown fox jumps over the lazy dog. The dog sleeps and the fox runs."}' ;;
    sentiment-analyzer) set -- analyze '{"text":"This is amazing, I love it! Not bad at all."}' ;;
    json-transformer) set -- apply '{"document":[{"name":"ada","age":36},{"name":"bob","age":12}],"operations":[{"op":"filter","field":"age","cmp":"gte","value":18},{"op":"map","field":"name","fn":"upper"}]}' ;;
    file-icons) set -- icons '{"names":["src/main.rs","Makefile","index.d.ts","README.md"]}' ;;
    event-counter-compat) set -- plugin_handle_event '{"type":"click"}' ;;
    *) return 1 ;;
    esac
    func=$1
    input=$2
}

for dir in "$EX"/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    [ "$name" = hello ] && continue
    if [ ! -f "$dir/plugin.yaml" ]; then
        note "$name: no plugin.yaml yet, skipped"
        continue
    fi
    module=$(sed -n 's/^module:[[:space:]]*//p' "$dir/plugin.yaml" | tr -d "\"'" | head -n 1)
    module=${module:-plugin.wasm}
    wasm=
    for c in "$B/examples/plugins/$name.wasm" "$B/examples/plugins/$name/$module" "$dir/$module"; do
        if [ -f "$c" ]; then wasm=$c; break; fi
    done
    if [ -z "$wasm" ] && [ -f "$dir/build.sh" ] && [ "${WASMPLUG_DEMO_BUILD:-1}" != 0 ]; then
        if sh "$dir/build.sh" "$T/$name.wasm" >"$T/build.log" 2>&1; then
            wasm=$T/$name.wasm
        fi
    fi
    if [ -z "$wasm" ]; then
        note "$name: not built and its toolchain is not available here, skipped"
        continue
    fi
    step "Example plugin: $name"
    show 0 install "$wasm" --manifest "$dir/plugin.yaml" --yes
    id=$(sed -n 's/^id:[[:space:]]*//p' "$dir/plugin.yaml" | tr -d "\"'" | head -n 1)
    show 0 validate "$id"
    if demo_call "$name"; then
        show 0 run "$id" "$func" "$input" --stats
    fi
done

# ---- exec: a WASI command, if wasi-libc is available ---------------------------
cat >"$T/hello_wasi.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    const char *who = getenv("WHO");
    printf("hello from a WASI command, %s! (%d arguments)\n", who ? who : "stranger", argc - 1);
    FILE *f = fopen("/data/note.txt", "r");
    char line[128];
    if (f && fgets(line, sizeof line, f))
        printf("/data/note.txt says: %s", line);
    return argc > 1 ? 3 : 0;
}
EOF
mkdir -p "$T/data"
echo "granted read-only" >"$T/data/note.txt"
if clang --target=wasm32-wasi -O2 -o "$T/hello_wasi.wasm" "$T/hello_wasi.c" >/dev/null 2>&1; then
    step "exec: run a WASI command with only what it is granted"
    show 0 exec hello_wasi.wasm
    show 3 exec --allow-env WHO=operator --dir "$T/data:/data:ro" hello_wasi.wasm one two
else
    note "clang with wasi-libc not available: skipping exec"
fi

# ---- workflows: the example plugins as nodes -----------------------------------
# flow_plugin NAME: a directory with the example's plugin.yaml and its module
# (built above), for --plugin.
flow_plugin() {
    module=$(sed -n 's/^module:[[:space:]]*//p' "$EX/$1/plugin.yaml" | tr -d "\"'" | head -n 1)
    for c in "$B/examples/plugins/$1.wasm" "$B/examples/plugins/$1/$module" "$EX/$1/$module" "$T/$1.wasm"; do
        if [ -f "$c" ]; then
            mkdir -p "flow-plugins/$1"
            cp "$EX/$1/plugin.yaml" "flow-plugins/$1/plugin.yaml"
            cp "$c" "flow-plugins/$1/$module"
            return 0
        fi
    done
    return 1
}
if flow_plugin sentiment-analyzer && flow_plugin word-counter; then
    FP="--plugin flow-plugins/sentiment-analyzer --plugin flow-plugins/word-counter"
    WF=$HERE/workflows
    step "Workflows: sentiment analysis, then word counting (connected on 'default')"
    # shellcheck disable=SC2086
    show 0 flow validate "$WF/sentiment-then-count.yaml" $FP
    # shellcheck disable=SC2086
    show 0 flow run "$WF/sentiment-then-count.yaml" $FP --input '{"text":"This is amazing, I love it! The fox runs."}'
    step "A branching workflow: route by sentiment (the run log with -v)"
    # shellcheck disable=SC2086
    show 0 flow graph "$WF/route-by-sentiment.yaml" $FP
    # shellcheck disable=SC2086
    show 0 -v flow run "$WF/route-by-sentiment.yaml" $FP --input '{"text":"This is terrible, I hate it."}'
    # shellcheck disable=SC2086
    show 0 flow run "$WF/route-by-sentiment.yaml" $FP --input '{"text":"I love it"}' --trace trace.json
    step "Replay the trace against the plugins as they are now"
    # shellcheck disable=SC2086
    show 0 flow replay trace.json $FP
    step "A workflow mistake is reported with its line and column"
    sed 's/type: word-count/type: word-cuont/' "$WF/sentiment-then-count.yaml" >broken-flow.yaml
    # shellcheck disable=SC2086
    show 4 flow validate broken-flow.yaml $FP
else
    note "sentiment-analyzer or word-counter not built: skipping the workflows"
fi

# ---- the event bus: events flowing from one plugin to another ------------
if [ -x "$B/examples/event_bus_demo" ] && [ -f "$B/examples/plugins/content_indexer.wasm" ] &&
    [ -f "$B/examples/plugins/index_stats.wasm" ]; then
    step "Event bus: content-indexer publishes what it indexed, index-stats adds it up in batches"
    note "(examples/hosts/event_bus_demo.c: the host publishes content.created, then asks stats.get)"
    printf '%s$ event_bus_demo%s\n' "$BOLD" "$OFF"
    "$B/examples/event_bus_demo" "$B/examples/plugins" "$EX" "$T/event-demo-data" </dev/null
    rc=$?
    if [ "$rc" -ne 0 ]; then
        printf '%sdemo: the event bus demo failed (exit status %s)%s\n' "$RED" "$rc" "$OFF"
        problems=$((problems + 1))
    fi
else
    note "event_bus_demo or its plugins not built: skipping the event bus"
fi

step "Clean up"
show 0 remove hello
show 0 list
if [ "$problems" -eq 0 ]; then
    printf '\n%sdemo finished: every step behaved as expected%s\n' "$BOLD" "$OFF"
else
    printf '\n%sdemo finished with %d unexpected results%s\n' "$RED" "$problems" "$OFF"
    exit 1
fi
