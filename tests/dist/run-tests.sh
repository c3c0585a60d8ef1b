#!/bin/sh
# run-tests.sh - end-to-end tests of plugin distribution: keys and
# signatures against the real minisign, packages, a registry served by a
# real HTTP server on 127.0.0.1 (search, install, update, outdated,
# rollback, locked installs, consent), and the tampering matrix: every
# tampered input is refused with a clear error and the store is
# byte-identical before and after.
#
#   run-tests.sh WASMPLUG PLUGIN_DIR SOURCE_DIR
#
# PLUGIN_DIR holds the compiled tests/cli/plugins/*.wat. Everything runs in
# a temporary directory; the server stops with the test (or by itself
# after 300 s).

W=$1
PLUG=$2
SRC=$3
if [ -z "$W" ] || [ -z "$PLUG" ] || [ -z "$SRC" ]; then
    echo "usage: $0 WASMPLUG PLUGIN_DIR SOURCE_DIR" >&2
    exit 2
fi
abs() { case $1 in /*) echo "$1" ;; *) echo "$(pwd)/$1" ;; esac; }
W=$(abs "$W")
PLUG=$(abs "$PLUG")
SRC=$(abs "$SRC")
for tool in minisign python3; do
    command -v $tool >/dev/null || { echo "$tool is needed (apt-get install $tool)" >&2; exit 1; }
done

. "$SRC/tests/cli/lib.sh" # $T (the current directory), $WASMPLUG_STORE, run, expect, check
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
export WASMPLUG_BACKOFF_MS=20

# mkdistplug DIR ID VERSION WASM [YAML LINES...]: a plugin directory.
mkdistplug() {
    dir=$1 id=$2 version=$3 wasm=$4
    shift 4
    mkdir -p "$dir"
    {
        echo "id: $id"
        echo "version: $version"
        echo "description: $id, the test plugin number $version"
        echo "module: plugin.wasm"
        for line in "$@"; do echo "$line"; done
    } >"$dir/plugin.yaml"
    cp "$PLUG/$wasm.wasm" "$dir/plugin.wasm"
}
# store_hash: every path, type and file content under the store.
store_hash() {
    (cd "$WASMPLUG_STORE" && find . -printf '%y %p\n' | LC_ALL=C sort &&
        find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum
}
# refused NAME TEXT CMD...: the command fails, says TEXT, and the store is
# byte-identical before and after.
refused() {
    name=$1 text=$2
    shift 2
    before=$(store_hash)
    run "$@"
    after=$(store_hash)
    if [ "$rc" = 0 ]; then
        bad "$name (accepted)"
    elif ! grep -qF -- "$text" "$T/err"; then
        bad "$name (missing: $text)"
    elif [ "$before" != "$after" ]; then
        bad "$name (the store changed)"
    else
        ok "$name"
    fi
}

echo "# keys and signatures: interoperability with minisign"
echo "correct horse" >pass
run "$W" keygen -p pub.key -s sec.key --passphrase-file pass --fast-kdf
expect "keygen (encrypted)" 0 "public key pub.key"
check "the secret key file is minisign's encrypted format" \
    grep -q "^untrusted comment: minisign encrypted secret key" sec.key
echo "some data" >data.txt
run "$W" sign data.txt -s sec.key --passphrase-file pass -t "wasmplug signed this"
expect "sign with the encrypted key" 0 "data.txt.minisig"
run minisign -V -p pub.key -m data.txt
expect "minisign verifies our signature" 0 "wasmplug signed this"
echo "wrong" >wrongpass
run "$W" sign data.txt -s sec.key --passphrase-file wrongpass
expect "a wrong passphrase is refused" 5 "wrong passphrase"
run sh -c 'echo "correct horse" | minisign -S -s sec.key -m data.txt -t "minisign with our key"'
expect "minisign decrypts our secret key and signs" 0
run "$W" verify data.txt -p pub.key
expect "we verify minisign's signature made with our key" 0 "minisign with our key"
run minisign -G -W -p ms.pub -s ms.key
expect "minisign keygen (unencrypted)" 0
echo "other data" >other.txt
run minisign -S -s ms.key -m other.txt -t "made by minisign"
expect "minisign signs" 0
run "$W" verify other.txt -p ms.pub
expect "we verify minisign's signature" 0 "made by minisign"
run "$W" sign other.txt -s ms.key -t "ours, with minisign's key"
expect "we sign with minisign's unencrypted key" 0
run minisign -V -p ms.pub -m other.txt
expect "minisign verifies it" 0 "ours, with minisign's key"
echo "changed" >>other.txt
run "$W" verify other.txt -p ms.pub
expect "a modified file fails verification" 5 "does not match the data"
run minisign -V -p ms.pub -m other.txt
check "minisign agrees" test "$rc" != 0
sed 's/^trusted comment: .*/trusted comment: forged/' data.txt.minisig >forged.minisig
run "$W" verify data.txt -p pub.key -x forged.minisig
expect "a modified trusted comment fails" 5 "trusted comment"
run "$W" verify data.txt -p ms.pub
expect "another key's signature is refused" 5 "not trusted"
run "$W" keygen -p pub.key -s sec.key --unencrypted
expect "keygen refuses to overwrite" 7 "--force"

echo "# packages"
run "$W" keygen -p pub.key -s sec.key --unencrypted --force
expect "keygen --unencrypted" 0
run "$W" keygen -p rogue.pub -s rogue.key --unencrypted
mkdistplug src/echo1 echo-plugin 1.0.0 echo
echo "Read me" >src/echo1/README.md
mkdir -p src/echo1/assets/icons && echo "icon" >src/echo1/assets/icons/a.txt
mkdir -p pkgs
run "$W" pack src/echo1 -o pkgs
expect "pack" 0 "pkgs/echo-plugin-1.0.0.wasmplug"
run "$W" pack src/echo1 -o again.wasmplug
check "packing is deterministic" cmp -s pkgs/echo-plugin-1.0.0.wasmplug again.wasmplug
run tar -tzf pkgs/echo-plugin-1.0.0.wasmplug
expect "the package is a tar.gz with manifest, module, README and assets" 0 \
    plugin.yaml plugin.wasm README.md assets/icons/a.txt
mkdistplug src/echo11 echo-plugin 1.1.0 echo
mkdistplug src/echo12 echo-plugin 1.2.0 echo "permissions:" "  host_functions: [host.log]"
mkdistplug src/echo2 echo-plugin 2.0.0 echo "permissions:" "  env: ['*']" \
    "  filesystem: ['/:/host:ro']" "  http: ['*']"
mkdistplug src/words word-counter 0.3.0 empty
mkdistplug src/logger log-sink 1.0.0 needs_log "abi: v1" "permissions:" "  host_functions: [host.log]"
for d in echo11 echo12 echo2 words logger; do
    "$W" pack src/$d -o pkgs >/dev/null 2>&1 || echo "cannot pack $d"
done
run "$W" sign pkgs/echo-plugin-1.0.0.wasmplug -s sec.key
expect "sign a package" 0
run minisign -V -p pub.key -m pkgs/echo-plugin-1.0.0.wasmplug
expect "minisign verifies the package signature" 0

echo "# a registry over HTTP"
mkdir -p srv/reg
run "$W" publish pkgs/echo-plugin-1.0.0.wasmplug --registry srv/reg -s sec.key -k echo -k text
expect "publish" 0
run "$W" publish pkgs/word-counter-0.3.0.wasmplug pkgs/log-sink-1.0.0.wasmplug \
    --registry srv/reg -s sec.key -k words
expect "publish two packages at once" 0 "published pkgs/log-sink-1.0.0.wasmplug"
run minisign -V -p pub.key -m srv/reg/index.json
expect "minisign verifies the index" 0 "wasmplug index version 2"
mkdistplug src/tools tool-box 0.1.0 empty
run "$W" publish --plugin-manifest src/tools/plugin.yaml --registry srv/reg -s sec.key
expect "publish --plugin-manifest packs and publishes" 0 "tool-box-0.1.0.wasmplug"
check "its package is in the registry" test -f srv/reg/packages/tool-box-0.1.0.wasmplug
mkdistplug src/words-changed word-counter 0.3.0 echo
"$W" pack src/words-changed -o changed.wasmplug >/dev/null 2>&1
cp srv/reg/index.json index.before
run "$W" publish changed.wasmplug --registry srv/reg -s sec.key
expect "published versions are immutable" 7 "already published with other contents"
check "a refused publish leaves the index" cmp -s index.before srv/reg/index.json
python3 "$SRC/tests/dist/server.py" srv/reg port 300 &
server_pid=$!
i=0
while [ ! -s port ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
URL="http://127.0.0.1:$(cat port)"
run "$W" registry add main "$URL" --priority 10
expect "registry add" 0 "added registry main"
run "$W" search echo
expect "search without trusted keys is refused" 5 "no trusted keys"
run "$W" trust add pub.key --name release
expect "trust add" 0 "trusted key"
run "$W" trust list
expect "trust list" 0 "release"
run "$W" search echo
expect "search by name" 0 "echo-plugin 1.0.0"
run "$W" search words
expect "search by keyword" 0 "word-counter"
run "$W" search "test plugin number"
expect "search by description" 0 "echo-plugin" "word-counter" "log-sink" "tool-box"
run "$W" --json search text
check "search --json" python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["results"]
assert [h["id"] for h in r] == ["echo-plugin"], r
assert r[0]["keywords"] == ["echo", "text"] and r[0]["registry"] == "main"' "$T/out"
run "$W" search nothing-like-this
expect "search without hits" 0 "no plugin matches"
run "$W" registry list
expect "registry list shows the index version seen" 0 "index version 3"

mkdir proj
run "$W" install echo-plugin@^1.0 --project proj
expect "install NAME@RANGE" 0 "installed echo-plugin 1.0.0 from main" "no permissions"
check "installed with README and assets" test -f "$WASMPLUG_STORE/plugins/echo-plugin/1.0.0/README.md" \
    -a -f "$WASMPLUG_STORE/plugins/echo-plugin/1.0.0/assets/icons/a.txt"
check "the lock file records id, version, digest, registry" python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["plugins"]
assert [(e["id"], e["version"], e["registry"], len(e["sha256"])) for e in p] == \
    [("echo-plugin", "1.0.0", "main", 64)], p' proj/wasmplug.lock
run "$W" run echo-plugin noop
expect "the installed plugin runs" 0
refused "a first install that requests permissions needs a decision" "install it with --yes" \
    "$W" install log-sink --project proj
run "$W" install log-sink --yes --project proj
expect "install shows requested permissions" 0 "host.log" "installed log-sink 1.0.0"
check "the grant is recorded for run" grep -qx host.log "$WASMPLUG_STORE/plugins/log-sink/1.0.0/grants"
run "$W" run log-sink run
expect "run uses the recorded grant" 0
run "$W" install echo-plugin@^1.0 --project proj
expect "installing again is a no-op" 0 "already installed"
run "$W" install echo-plugin@^3
expect "no matching version" 3 "no version of echo-plugin matches '^3'"
run "$W" install no-such-plugin
expect "unknown plugin" 3 "no plugin named 'no-such-plugin'"
run "$W" install 'echo-plugin@>>1'
expect "a bad range" 4 "is not a version or comparison"
run "$W" outdated
expect "outdated: nothing" 0 "up to date"

run "$W" publish pkgs/echo-plugin-1.1.0.wasmplug --registry srv/reg -s sec.key
run "$W" outdated
expect "outdated lists the newer version" 0 "echo-plugin" "1.0.0" "1.1.0"
run "$W" update --project proj
expect "update" 0 "updated echo-plugin 1.0.0 -> 1.1.0"
check "the lock file follows the update" grep -q '"1.1.0"' proj/wasmplug.lock
run "$W" update echo-plugin --project proj
expect "update when up to date" 0 "up to date"
run "$W" rollback echo-plugin --project proj
expect "rollback" 0 "rolled back echo-plugin 1.1.0 -> 1.0.0"
run "$W" list
check "1.0.0 is the newest installed again" sh -c "grep echo-plugin '$T/out' | grep -q 1.0.0"
check "the lock file follows the rollback" grep -q '"1.0.0"' proj/wasmplug.lock
run "$W" rollback echo-plugin
expect "nothing left to roll back" 3 "only one version"
run "$W" update --project proj
expect "update again after the rollback" 0 "1.0.0 -> 1.1.0"

echo "# consent"
run "$W" publish pkgs/echo-plugin-1.2.0.wasmplug --registry srv/reg -s sec.key
run "$W" search echo # records the new index version before the store is compared
refused "an update requesting more permissions needs consent" "not granted: host.log" \
    "$W" update echo-plugin --project proj
run "$W" update echo-plugin --accept-permissions --project proj
expect "update --accept-permissions" 0 "+ host.log" "1.1.0 -> 1.2.0"
run "$W" publish pkgs/echo-plugin-2.0.0.wasmplug --registry srv/reg -s sec.key
run "$W" outdated
expect "outdated: wanted within ^1, latest 2.0.0" 0 "1.2.0        1.2.0        2.0.0"
refused "installing 2.0.0 over 1.2.0 asks for its new permissions" "(privileged)" \
    "$W" install echo-plugin@2
run "$W" install echo-plugin@2 -y --project proj
expect "privileged requests are highlighted" 0 "! wasi.env:*" "! wasi.fs.read:/host" "! http:*"
check "the new grants are recorded" grep -qx 'http:\*' "$WASMPLUG_STORE/plugins/echo-plugin/2.0.0/grants"

echo "# terminals: the progress bar and the y/N prompt"
# script(1) gives the command a pseudo-terminal; "y" answers the prompt.
run "$W" publish pkgs/echo-plugin-1.1.0.wasmplug --registry srv/reg -s sec.key
mkdistplug src/echo3 echo-plugin 3.0.0 echo "permissions:" "  env: [LANG]"
"$W" pack src/echo3 -o pkgs >/dev/null 2>&1
run "$W" publish pkgs/echo-plugin-3.0.0.wasmplug --registry srv/reg -s sec.key
run "$W" search echo
# on_tty ANSWER CMD...: run CMD on a pseudo-terminal, answering ANSWER to
# its [y/N] prompt; everything it printed ends up in $T/out.
on_tty() {
    python3 - "$@" >"$T/out" 2>"$T/err" <<'PY'
import os, pty, select, sys
answer, cmd = sys.argv[1].encode(), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cmd[0], cmd)
out, answered = b"", False
while select.select([fd], [], [], 20)[0]:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not answered and b"[y/N]" in out:
        os.write(fd, answer + b"\n")
        answered = True
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
PY
    rc=$?
}
before=$(store_hash)
on_tty n "$W" install echo-plugin@3 --no-lock
expect "on a terminal the prompt shows the difference; no refuses" 5 \
    "+ wasi.env:LANG" "[y/N]" "not granted: wasi.env:LANG"
check "answering no leaves the store unchanged" test "$before" = "$(store_hash)"
on_tty y "$W" install echo-plugin@3 --no-lock
expect "answering yes installs" 0 "installed echo-plugin 2.0.0 -> 3.0.0"
check "the progress bar is drawn on a terminal" grep -q "100%" "$T/out"
run "$W" install echo-plugin@3 --no-lock
check "no progress bar off a terminal" sh -c "! grep -q '100%' '$T/out' '$T/err'"
run "$W" rollback echo-plugin --project proj
expect "roll back to 2.0.0" 0 "3.0.0 -> 2.0.0"

echo "# several registries: priorities, file:// and directories"
mkdir -p srv/mirror
"$W" publish pkgs/word-counter-0.3.0.wasmplug --registry srv/mirror -s sec.key >/dev/null 2>&1
mkdistplug src/words9 word-counter 0.9.0 empty
"$W" pack src/words9 -o pkgs >/dev/null 2>&1
"$W" publish pkgs/word-counter-0.9.0.wasmplug --registry srv/mirror -s sec.key >/dev/null 2>&1
run "$W" registry add mirror "file://$T/srv/mirror" --priority 20
expect "registry add file://" 0
run "$W" registry add local srv/mirror --priority 1
expect "registry add DIR" 0
run "$W" registry list
expect "registries by priority" 0 "mirror" "main" "local"
check "the highest priority is listed first" sh -c "head -1 '$T/out' | grep -q '^mirror'"
run "$W" search word-counter
expect "search takes a plugin from the highest-priority registry" 0 "word-counter 0.9.0" "(mirror)"
run "$W" install word-counter@0.3 --no-lock
expect "install takes the first registry with a matching version" 0 "installed word-counter 0.3.0 from mirror"
"$W" remove word-counter >/dev/null 2>&1
run "$W" install log-sink --no-lock --yes
expect "a plugin only a lower-priority registry has" 0 "already installed"
"$W" registry remove mirror >/dev/null 2>&1
"$W" registry remove local >/dev/null 2>&1
run "$W" registry add pinned srv/mirror --key rogue.pub
expect "registry add --key pins the index key" 0
run "$W" registry list
expect "registry list names the pinned key" 0 "signed by key"
refused "a pinned registry refuses an index signed by another trusted key" \
    "registry 'pinned': refusing its index: signed by key" "$W" search word-counter
run "$W" registry add pinned srv/mirror --key pub.key
run "$W" search word-counter
expect "with the right pinned key its index is accepted" 0 "word-counter"
"$W" registry remove pinned >/dev/null 2>&1
mkdir -p srv/frozen
printf '{"wasmplug_index": 1, "version": 5, "expires": 1000, "plugins": {}}' >srv/frozen/index.json
"$W" sign srv/frozen/index.json -s sec.key -t "wasmplug index version 5" >/dev/null 2>&1
run "$W" registry add frozen srv/frozen
refused "an expired index (freeze attack)" "expired at 1000" "$W" search anything
"$W" registry remove frozen >/dev/null 2>&1

echo "# locked installs"
cp -r proj proj2
export WASMPLUG_STORE="$T/store2"
run "$W" trust add pub.key
run "$W" registry add main "$URL"
run "$W" install --locked --project proj2 --yes
expect "install --locked" 0 "installed echo-plugin 2.0.0" "installed log-sink 1.0.0"
check "exactly the locked versions" test -d "$T/store2/plugins/echo-plugin/2.0.0" -a \
    ! -d "$T/store2/plugins/echo-plugin/1.2.0" -a -d "$T/store2/plugins/log-sink/1.0.0"
sed 's/"sha256": "[0-9a-f]\{8\}/"sha256": "00000000/' proj2/wasmplug.lock >proj2/lock.new
mv proj2/lock.new proj2/wasmplug.lock
refused "a locked digest differing from the registry" "but proj2/wasmplug.lock locked" \
    "$W" install --locked --project proj2 --yes
export WASMPLUG_STORE="$T/store"

echo "# tampering matrix (each refused, the store unchanged)"
good=pkgs/word-counter-0.3.0.wasmplug
"$W" sign "$good" -s sec.key >/dev/null 2>&1
mkdir -p tamper
# modified module: same manifest, other module, the original signature
mkdistplug tamper/mod word-counter 0.3.0 echo
"$W" pack tamper/mod -o tamper/mod.wasmplug >/dev/null 2>&1
cp "$good.minisig" tamper/mod.wasmplug.minisig
refused "modified module" "does not match the data" "$W" install tamper/mod.wasmplug
# modified manifest
mkdistplug tamper/man word-counter 0.3.0 empty "permissions:" "  env: [HOME]"
"$W" pack tamper/man -o tamper/man.wasmplug >/dev/null 2>&1
cp "$good.minisig" tamper/man.wasmplug.minisig
refused "modified manifest" "does not match the data" "$W" install tamper/man.wasmplug
# signed by a key the store does not trust
cp "$good" tamper/rogue.wasmplug
"$W" sign tamper/rogue.wasmplug -s rogue.key >/dev/null 2>&1
refused "signature by an untrusted key" "which is not trusted" "$W" install tamper/rogue.wasmplug
# another package's (valid, trusted) signature
cp "$good" tamper/swap.wasmplug
"$W" sign pkgs/log-sink-1.0.0.wasmplug -s sec.key >/dev/null 2>&1
cp pkgs/log-sink-1.0.0.wasmplug.minisig tamper/swap.wasmplug.minisig
refused "another package's signature" "does not match the data" "$W" install tamper/swap.wasmplug
# unsigned
cp "$good" tamper/unsigned.wasmplug
refused "an unsigned package" "is not signed" "$W" install tamper/unsigned.wasmplug
# hostile archives, validly signed by the trusted key
python3 - tamper "$PLUG/empty.wasm" <<'EOF'
import io, sys, tarfile
out, wasm = sys.argv[1], open(sys.argv[2], "rb").read()
manifest = b"id: hostile\nversion: 1.0.0\nmodule: plugin.wasm\n"
def pack(name, extra):
    with tarfile.open("%s/%s.wasmplug" % (out, name), "w:gz") as t:
        for path, data in [("plugin.yaml", manifest), ("plugin.wasm", wasm)]:
            info = tarfile.TarInfo(path); info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        extra(t)
def file_entry(path):
    def add(t):
        info = tarfile.TarInfo(path); info.size = 4
        t.addfile(info, io.BytesIO(b"evil"))
    return add
def link_entry(kind):
    def add(t):
        info = tarfile.TarInfo("assets/link"); info.type = kind; info.linkname = "/etc/passwd"
        t.addfile(info)
    return add
class Zeros(io.RawIOBase):
    def readable(self):
        return True
    def readinto(self, b):
        b[:] = bytes(len(b)); return len(b)
def bomb(t):  # 3 x 60 MiB of zeros: each file under the per-file limit, the sum over the total
    for i in range(3):
        info = tarfile.TarInfo("assets/zeros%d" % i); info.size = 60 << 20
        t.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
pack("dotdot", file_entry("../escape.txt"))
pack("absolute", file_entry("/tmp/wasmplug-absolute.txt"))
pack("symlink", link_entry(tarfile.SYMTYPE))
pack("hardlink", link_entry(tarfile.LNKTYPE))
def device(t):
    info = tarfile.TarInfo("assets/null"); info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    t.addfile(info)
pack("device", device)
pack("bomb", bomb)
EOF
for name in dotdot absolute symlink hardlink device bomb; do
    "$W" sign tamper/$name.wasmplug -s sec.key >/dev/null 2>&1
done
refused "a package with ../" "refusing the entry '../escape.txt'" "$W" install tamper/dotdot.wasmplug
refused "a package with an absolute path" "paths must be relative" "$W" install tamper/absolute.wasmplug
refused "a package with a symbolic link" "may not hold links" "$W" install tamper/symlink.wasmplug
refused "a package with a hard link" "may not hold links" "$W" install tamper/hardlink.wasmplug
refused "a package with a device" "it is a character device" "$W" install tamper/device.wasmplug
refused "a decompression bomb stops at the limit" "exceed the limit of 134217728 bytes" \
    "$W" install tamper/bomb.wasmplug
check "nothing escaped the store" test ! -e escape.txt -a ! -e /tmp/wasmplug-absolute.txt
check "the bomb is small on disk" test "$(wc -c <tamper/bomb.wasmplug)" -lt 1000000

# through the registry: truncated, digest differing, rolled-back index
run "$W" install word-counter
expect "a good install through the registry" 0 "installed word-counter 0.3.0"
"$W" remove word-counter >/dev/null 2>&1
pkg=srv/reg/packages/word-counter-0.3.0.wasmplug
cp "$pkg" saved.wasmplug
head -c $(($(wc -c <saved.wasmplug) / 2)) saved.wasmplug >"$pkg"
refused "a truncated download" "the index lists" "$W" install word-counter
cp saved.wasmplug "$pkg"
python3 -c 'import sys; d = bytearray(open(sys.argv[1], "rb").read()); d[100] ^= 1; open(sys.argv[1], "wb").write(d)' "$pkg"
refused "a digest differing from the index" "differs from the index" "$W" install word-counter
cp saved.wasmplug "$pkg"
echo /packages/word-counter-0.3.0.wasmplug >srv/cut-once
refused "a cut transfer with retries off" "cut short" env WASMPLUG_RETRIES=0 "$W" install word-counter
echo /packages/word-counter-0.3.0.wasmplug >srv/cut-once
run "$W" install word-counter
expect "a cut transfer is resumed on retry" 0 "installed word-counter 0.3.0"
check "the cut happened" test ! -s srv/cut-once
"$W" remove word-counter >/dev/null 2>&1
cp srv/reg/index.json old-index.json
cp srv/reg/index.json.minisig old-index.json.minisig
run "$W" publish pkgs/echo-plugin-1.1.0.wasmplug --registry srv/reg -s sec.key -k again
run "$W" search echo
expect "the client sees the new index" 0 "echo-plugin"
cp old-index.json srv/reg/index.json
cp old-index.json.minisig srv/reg/index.json.minisig
refused "an index rolled back to an older signed version" "refusing a rolled-back index" \
    "$W" install word-counter
echo '{"wasmplug_index": 1, "version": 99, "plugins": {}}' >srv/reg/index.json
refused "an index not matching its signature" "refusing its index" "$W" search echo
"$W" trust remove release >/dev/null 2>&1
run "$W" trust list
expect "trust remove" 0 "no trusted keys"
run "$W" registry remove main
expect "registry remove" 0 "removed registry main"

cli_done
