#!/bin/sh
# quickstart.sh - follow one quick start of docs/PLUGIN_GUIDE.md word for
# word: take the first ```sh block after the line "<!-- quickstart: LANG -->",
# run it with sh -eu in an empty directory, and compare the last line it
# prints with the first line of the block that follows it (what the guide
# says it prints).
#
#   tests/pdk/quickstart.sh WASMPLUG_ROOT BIN_DIR LANG
#
# The guide's quick starts assume the wasmplug command on PATH: BIN_DIR is
# put first (the build tree, or an installed prefix's bin/).
set -eu
[ $# -eq 3 ] || { echo "usage: $0 WASMPLUG_ROOT BIN_DIR LANG" >&2; exit 2; }
root=$(cd "$1" && pwd)
rundir=$(cd "$2" && pwd)
lang=$3
guide=$root/docs/PLUGIN_GUIDE.md

# Extract the commands and the expected output with awk: state 0 looks for
# the marker, 1 for the sh block, 2 inside it, 3 for the output block, 4
# inside it (first line only).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk -v lang="$lang" -v cmds="$work/commands.sh" -v want="$work/expected" '
    state == 0 && $0 == "<!-- quickstart: " lang " -->" { state = 1; next }
    state == 1 && /^```sh$/ { state = 2; next }
    state == 2 && /^```$/ { state = 3; next }
    state == 2 { print > cmds; next }
    state == 3 && /^```/ { state = 4; next }
    state == 4 { print > want; exit }
' "$guide"
if [ ! -s "$work/commands.sh" ] || [ ! -s "$work/expected" ]; then
    echo "quickstart.sh: no quick start for '$lang' in $guide"
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== quick start ($lang), from docs/PLUGIN_GUIDE.md:"
sed 's/^/    /' "$work/commands.sh"
mkdir "$work/run"
status=0
(cd "$work/run" && PATH=$rundir:$PATH sh -eu "$work/commands.sh") \
    >"$work/stdout" 2>"$work/stderr" || status=$?
echo "== output:"
cat "$work/stdout"
echo "== stderr:"
cat "$work/stderr"

got=$(tail -n 1 "$work/stdout")
want=$(cat "$work/expected")
if [ $status -eq 0 ] && [ "$got" = "$want" ]; then
    echo "quick start $lang: prints $want as the guide says"
    echo "1 passed, 0 failed"
else
    echo "FAIL quick start $lang: exit status $status, last line '$got', the guide says '$want'"
    echo "0 passed, 1 failed"
    exit 1
fi
