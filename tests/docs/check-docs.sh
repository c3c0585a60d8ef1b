#!/bin/sh
# check-docs.sh SOURCE_DIR - the documentation tells the truth about what
# can be checked mechanically:
#   - the README opens with exactly the two commands `make demo` and
#     `make test`;
#   - the README names every Debian package the Makefile installs
#     (DEB_PACKAGES), and LICENSE and CHANGELOG.md exist;
#   - docs/ARCHITECTURE.md names as dependencies only libraries the build
#     really links (a library named there must appear in a CMakeLists.txt);
#   - the word "seed" (the name of the project's internal requirement
#     documents) appears in no user-facing text: README, docs, the man page,
#     the public headers, the SDK, the examples and the CLI's messages,
#     nor the names of the products those documents describe.
set -u
src=$(cd "$1" && pwd)
passed=0 failed=0
ok() { echo "ok: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }

first=$(awk 'NR == 1 { print } NR > 1 && NR <= 4 { print }' "$src/README.md")
want='```sh
make demo   # installs what is missing, builds, runs the example plugins through the CLI
make test   # installs what is missing, builds, runs every test
```'
if [ "$first" = "$want" ]; then ok "README opens with make demo and make test"
else fail "README does not open with exactly make demo and make test"; fi

pkgs=$(sed -n '/^DEB_PACKAGES *=/,/[^\\]$/p' "$src/Makefile" | sed 's/^DEB_PACKAGES *=//; s/\\$//')
missing=""
for p in $pkgs; do
    grep -qw -- "$p" "$src/README.md" || missing="$missing $p"
done
if [ -z "$missing" ]; then ok "README names every package of DEB_PACKAGES ($(echo $pkgs | wc -w))"
else fail "README does not name DEB_PACKAGES:$missing"; fi

for f in LICENSE CHANGELOG.md; do
    if [ -s "$src/$f" ]; then ok "$f exists"; else fail "no $f"; fi
done
grep -q "MIT License" "$src/LICENSE" 2>/dev/null && ok "LICENSE is MIT, as the manifests say" ||
    fail "LICENSE is not the MIT license"

# Dependencies ARCHITECTURE.md claims, checked against the build files.
cmake_files=$(find "$src" -name CMakeLists.txt -not -path '*/build*' -not -path '*/node_modules/*')
for lib in SQLite libcurl libsodium libarchive libmicrohttpd hiredis libyaml jansson; do
    if grep -qi "$lib" "$src/docs/ARCHITECTURE.md"; then
        key=$(echo "$lib" | sed 's/^lib//' | tr 'A-Z' 'a-z')
        # shellcheck disable=SC2086
        if cat $cmake_files | tr 'A-Z' 'a-z' | grep -q "$key"; then
            ok "ARCHITECTURE.md names $lib, which the build uses"
        else
            fail "ARCHITECTURE.md names $lib, which no CMakeLists.txt uses"
        fi
    fi
done

hits=$(cd "$src" && grep -rniw "seed[-_ ]*[0-9]*" README.md docs include sdk examples src/cli \
    --include='*.md' --include='*.1' --include='*.h' --include='*.c' --include='*.yaml' \
    --include='*.ts' --include='*.rs' --include='*.zig' 2>/dev/null | grep -vi "random_seed\|seeded\|seed = \|seed)\|seed;\|seeds\[" )
if [ -z "$hits" ]; then ok "no 'seed' in user-facing text"
else echo "$hits"; fail "'seed' in user-facing text"; fi

# Nor the names of the products those documents describe (their examples
# are ours now, under our name).
hits=$(cd "$src" && grep -rniw "pocket\|ideanet\|judicia\|nom core" README.md docs include sdk examples src \
    --include='*.md' --include='*.1' --include='*.h' --include='*.c' --include='*.yaml' \
    --include='*.ts' --include='*.rs' --include='*.zig' --include='*.sh' 2>/dev/null)
if [ -z "$hits" ]; then ok "no other product's name in user-facing text"
else echo "$hits"; fail "another product's name in user-facing text"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
