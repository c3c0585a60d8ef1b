#!/bin/sh
# run-programs.sh - run the file-processing command (tests/wasi/programs) built
# natively and as WASI modules (C/wasi-libc, Rust, AssemblyScript), each on a
# fresh copy of the same input directory, and require byte-identical stdout,
# stderr, exit code and resulting files.
#
#   run-programs.sh EXEC_TEST NATIVE_BIN WORKDIR MODULE.wasm...
# Ends with "N passed, N failed" like every test.
set -u
exec_test=$1 native=$2 work=$3
shift 3
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

rm -rf "$work" && mkdir -p "$work/tmpl/sub"
printf 'hello world\nsecond line here\n' >"$work/tmpl/a.txt"
printf 'zeta\n\n  spaced   words \tx\v\fend\r\n' >"$work/tmpl/b.md"
printf '\303\251t\303\251 caf\303\251 \000 binary\377\n' >"$work/tmpl/c.bin"
: >"$work/tmpl/empty"
i=0
while [ $i -lt 300 ]; do echo "line $i of a longer file with some words"; i=$((i + 1)); done >"$work/tmpl/long.txt"
ln -s a.txt "$work/tmpl/link-to-a"
echo inner >"$work/tmpl/sub/inner.txt"

# Native reference: run from WORK so that the directory argument is "data".
mkdir "$work/native" && cp -a "$work/tmpl" "$work/native/data"
# (The reference program does not free what it allocates: no leak checks for it
# in sanitizer builds.)
(cd "$work/native" && ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" GREETING="hi there" \
    "$native" data --exit 7 >../native.out 2>../native.err)
native_rc=$?
[ $native_rc -eq 7 ] && ok || bad "native exit code $native_rc"

for module in "$@"; do
    name=$(basename "$module" .wasm)
    dir="$work/$name"
    mkdir "$dir" && cp -a "$work/tmpl" "$dir/data"
    "$exec_test" --dir "$dir/data:data" --env "GREETING=hi there" "$module" data --exit 7 \
        >"$work/$name.out" 2>"$work/$name.err"
    rc=$?
    [ $rc -eq $native_rc ] && ok || bad "$name: exit code $rc, native $native_rc"
    cmp -s "$work/native.out" "$work/$name.out" && ok || { bad "$name: stdout differs"; diff "$work/native.out" "$work/$name.out" | head -20; }
    cmp -s "$work/native.err" "$work/$name.err" && ok || { bad "$name: stderr differs"; diff "$work/native.err" "$work/$name.err" | head -20; }
    diff -r "$work/native/data" "$dir/data" >/dev/null && ok || { bad "$name: output files differ"; diff -r "$work/native/data" "$dir/data" | head -20; }
    # The same run in deterministic mode gives the same results.
    rm -rf "$dir/data" && cp -a "$work/tmpl" "$dir/data"
    "$exec_test" --deterministic --dir "$dir/data:data" --env "GREETING=hi there" "$module" data --exit 7 \
        >"$work/$name.det.out" 2>/dev/null
    cmp -s "$work/native.out" "$work/$name.det.out" && ok || bad "$name: deterministic run differs"
    # Read-only grant: the program cannot create its output directory.
    rm -rf "$dir/data" && cp -a "$work/tmpl" "$dir/data"
    "$exec_test" --dir "$dir/data:data:ro" "$module" data >/dev/null 2>"$work/$name.ro.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "Read-only file system" "$work/$name.ro.err" && ok || { bad "$name: read-only run: exit $rc"; cat "$work/$name.ro.err"; }
    [ ! -e "$dir/data/out" ] && ok || bad "$name: read-only run created out/"
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
