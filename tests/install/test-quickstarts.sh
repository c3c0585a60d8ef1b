#!/bin/sh
# test-quickstarts.sh BUILD_DIR SOURCE_DIR CC CMAKE EXTRA_CFLAGS [LANG...]
# What a new user does with an installed wasmplug, from the installed
# prefix only (the build tree is not on PATH and no file of the source
# tree is named): install into a temporary prefix, then
#   - check the installed command's version against the library's and the
#     pkg-config file's;
#   - run every quick start of docs/PLUGIN_GUIDE.md for LANG... word for
#     word with the installed `wasmplug` (`wasmplug new LANG NAME`,
#     `./build.sh`, `wasmplug run`), through tests/pdk/quickstart.sh;
#   - build the README's hosts (the C blocks after "<!-- minimal-host -->"
#     and "<!-- manifest-host -->") against the installed libraries with
#     pkg-config (wasmplug, and wasmplug-services for the manifest parser),
#     run each as its comment says, and compare what it prints with what the
#     README says it prints.
set -eu
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd) cc=$3 cmake=$4 extra=$5
shift 5
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wasmplug-quickstarts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
failed=0 passed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libwasmplug.so' | head -n1)")
export PKG_CONFIG_PATH="$libdir/pkgconfig"

# One version everywhere: the command, the library and pkg-config.
got=$("$prefix/bin/wasmplug" --version)
pc=$(pkg-config --modversion wasmplug)
case $got in
"wasmplug $pc "*) ok "wasmplug --version ($got) matches pkg-config ($pc)" ;;
*) fail "wasmplug --version says '$got', pkg-config '$pc'" ;;
esac
if [ -e "$libdir/libwasmplug.so.${pc%%.*}" ]; then
    ok "the shared library's SONAME carries major version ${pc%%.*}"
else
    fail "no $libdir/libwasmplug.so.${pc%%.*} for version $pc"
fi
for f in "$prefix"/share/wasmplug/sdk/templates/*/build.sh; do
    [ -x "$f" ] || fail "$f is installed without its execute bit"
done

# The guide's quick starts, with the installed command first on PATH.
for lang in "$@"; do
    if sh "$src/tests/pdk/quickstart.sh" "$src" "$prefix/bin" "$lang" >"$tmp/qs-$lang.log" 2>&1
    then
        ok "quick start $lang from the installed prefix"
    else
        cat "$tmp/qs-$lang.log"
        fail "quick start $lang from the installed prefix"
    fi
done

# The README's hosts: each C block after "<!-- NAME -->", built against the
# installed libraries (pkg-config PACKAGE), run as its comment says (from a
# directory where examples/ and build/ are the source's and the build's),
# printing what the README says it prints.
mkdir -p "$tmp/cwd"
ln -s "$src/examples" "$tmp/cwd/examples"
ln -s "$build" "$tmp/cwd/build"
readme_host() { # NAME PACKAGE
    name=$1 pkg=$2
    awk -v marker="<!-- $name -->" '
        $0 == marker { state = 1; next }
        state == 1 && /^```c$/ { state = 2; next }
        state == 2 && /^```$/ { state = 3; next }
        state == 2 { print; next }
        state == 3 && /^```$/ { state = 4; next }
        state == 4 { print > "/dev/stderr"; exit }
    ' "$src/README.md" >"$tmp/$name.c" 2>"$tmp/$name.expected"
    prog=$(echo "$name" | tr - _)
    run=$(sed -n "s#^ \\*   \\./$prog ##p" "$tmp/$name.c")
    if [ ! -s "$tmp/$name.c" ] || [ -z "$run" ]; then
        fail "no $name (or no run line in its comment) in README.md"
        return
    fi
    # shellcheck disable=SC2046,SC2086
    if ! "$cc" $extra -std=c11 -Wall -Wextra -Werror -o "$tmp/$prog" "$tmp/$name.c" \
        $(pkg-config --cflags --libs "$pkg") -Wl,-rpath,"$libdir" 2>"$tmp/cc.log"; then
        cat "$tmp/cc.log"
        fail "README $name does not compile against the installed $pkg"
        return
    fi
    eval "set -- $run"
    if (cd "$tmp/cwd" && "$tmp/$prog" "$@") >"$tmp/out" 2>"$tmp/err" &&
        cmp -s "$tmp/out" "$tmp/$name.expected"; then
        ok "README $name ($pkg) prints $(cat "$tmp/out")"
    else
        fail "README $name printed '$(cat "$tmp/out")' ($(cat "$tmp/err")), the README says '$(cat "$tmp/$name.expected")'"
    fi
}
readme_host minimal-host wasmplug
readme_host manifest-host wasmplug-services
# It reports a failure instead of printing nothing.
if [ -x "$tmp/minimal_host" ]; then
    if "$tmp/minimal_host" "$tmp/missing.wasm" '{}' >/dev/null 2>"$tmp/err"; then
        fail "README minimal host succeeds on a missing file"
    elif grep -q "missing.wasm" "$tmp/err"; then
        ok "README minimal host reports a missing plugin: $(cat "$tmp/err")"
    else
        fail "README minimal host is silent about a missing plugin"
    fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
