#!/bin/sh
# check-help-man.sh WASMPLUG SOURCE_DIR - the command's help, its man page
# (docs/wasmplug.1) and the README describe the same command line:
#   - every command `wasmplug --help` lists answers `wasmplug CMD --help`
#     with its usage, has a line of its own in the man page's SYNOPSIS and
#     is named in the README (`wasmplug CMD` or `CMD` in backquotes);
#   - every option any --help names (--NAME) is described in the man page;
#   - every option the man page names is one some --help names (so a
#     removed or renamed option does not linger in the man page), except
#     the options of other programs the man page quotes (redis-server's).
set -u
W=$1
MAN=$2/docs/wasmplug.1
README=$2/README.md
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Options of other programs the man page quotes (redis-server's
# persistence settings in WORKERS).
foreign="--appendonly --appendfsync"

options() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

# The man page's source with roff's escaped hyphens and font changes undone.
sed 's/\\-/-/g; s/\\f[BIRP]//g' "$MAN" >"$tmp/man"
options <"$tmp/man" >"$tmp/man-options"

"$W" --help >"$tmp/help" 2>&1 || fail "wasmplug --help exits $?"
commands=$(awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' "$tmp/help")
[ -n "$commands" ] && ok "--help lists $(echo $commands | wc -w) commands" ||
    fail "--help lists no commands"
options <"$tmp/help" >"$tmp/help-options"

for c in $commands; do
    if "$W" "$c" --help >"$tmp/help-$c" 2>&1 && grep -q "^usage: wasmplug $c" "$tmp/help-$c"; then
        ok "$c --help shows its usage"
    else
        fail "$c --help does not show 'usage: wasmplug $c'"; cat "$tmp/help-$c"
    fi
    grep -q "^\.B wasmplug $c\$" "$tmp/man" || fail "the man page's SYNOPSIS has no line for $c"
    grep -q "wasmplug $c\b\|\`$c\`" "$README" || fail "the README does not name the command $c"
    options <"$tmp/help-$c" >>"$tmp/help-options"
    missing=$(options <"$tmp/help-$c" | comm -23 - "$tmp/man-options" | tr '\n' ' ')
    [ -z "$missing" ] && ok "every option of $c --help is in the man page" ||
        fail "$c --help names options the man page does not describe: $missing"
done

sort -u -o "$tmp/help-options" "$tmp/help-options"
stale=""
for o in $(comm -13 "$tmp/help-options" "$tmp/man-options"); do
    case " $foreign " in *" $o "*) ;; *) stale="$stale $o" ;; esac
done
[ -z "$stale" ] && ok "every option in the man page is in some --help" ||
    fail "the man page names options no --help names:$stale"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
