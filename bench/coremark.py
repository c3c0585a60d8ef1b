#!/usr/bin/env python3
"""coremark.py - EEMBC CoreMark natively and in wasmplug, side by side.

CoreMark is not in this repository (its licence asks that it be
distributed as EEMBC publishes it): point this script at a checkout of
https://github.com/eembc/coremark and it builds the same sources twice with
clang -O2, natively and as a WASI command (--target=wasm32-wasi, posix
port), runs them interleaved (native, wasmplug per tier, native, ...) with
a fixed iteration count, and reports medians of CPU time (user + system of
the child, from wait4: the machine may be shared) and the ratio, for each
engine tier asked (`wasmplug exec --tier interp|native`; each tier runs
once untimed first, so native code is compiled and cached before timing).

    bench/coremark.py --src ~/coremark --wasmplug build-bench/wasmplug
    bench/coremark.py --src DIR --wasmplug PATH --rounds 5 --iterations 2000 \
                      --tiers interp,native [-- EXEC_OPTIONS...]

Options after -- go to `wasmplug exec`. The CoreMark
figure printed is iterations per CPU second; CoreMark's own "Iterations/Sec"
uses elapsed time, which other jobs on a shared machine inflate, and it
calls runs shorter than 10 s invalid for publication (the CRCs are still
checked: every run must pass CoreMark's self-check). Exits
non-zero when either build fails CoreMark's self-check or the two runs'
checksums differ.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

SOURCES = ["core_list_join.c", "core_main.c", "core_matrix.c", "core_state.c",
           "core_util.c", "posix/core_portme.c"]


def build(src, out, wasm, clang):
    flags = ["-O2", "-I" + os.path.join(src, "posix"), "-I" + src,
             '-DFLAGS_STR="-O2"', "-DPERFORMANCE_RUN=1"]
    cmd = [clang] + flags + [os.path.join(src, s) for s in SOURCES] + ["-o", out]
    if wasm:
        cmd[1:1] = ["--target=wasm32-wasi", "-Wl,--strip-all"]
    subprocess.run(cmd, check=True)


def run(cmd):
    """Run cmd; returns (CPU seconds of the child, its stdout)."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        sys.exit("coremark.py: %s exited with %d:\n%s" % (cmd[0], proc.returncode, text))
    return usage.ru_utime + usage.ru_stime, text


def checksums(text, what):
    # A run shorter than CoreMark's 10 s minimum for reporting says "ERROR!
    # Must execute for at least 10 secs" and "Errors detected"; any other
    # ERROR! line is a failed self-check (a wrong list, matrix or state CRC).
    errors = [line for line in text.splitlines()
              if line.startswith("ERROR!") and "at least 10 secs" not in line]
    if errors or "seedcrc          : 0xe9f5" not in text:
        sys.exit("coremark.py: %s failed CoreMark's self-check:\n%s" % (what, text))
    # crcfinal depends on the iteration count, the others do not.
    return re.findall(r"^(?:seedcrc|\[\d+\]crc(?:list|matrix|state))\s*:\s*(0x[0-9a-f]+)", text, re.M)


def main():
    args = sys.argv[1:]
    extra = []
    if "--" in args:
        extra = args[args.index("--") + 1:]
        args = args[:args.index("--")]
    ap = argparse.ArgumentParser(description="CoreMark natively and in wasmplug")
    ap.add_argument("--src", default=os.environ.get("COREMARK_DIR"),
                    help="CoreMark checkout (default: $COREMARK_DIR)")
    ap.add_argument("--wasmplug", required=True, help="the wasmplug command")
    ap.add_argument("--clang", default=shutil.which("clang") or "clang")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=2000,
                    help="CoreMark iterations in wasmplug (native runs 10x as many)")
    ap.add_argument("--tiers", default="interp",
                    help="engine tiers to run, comma-separated (interp, native)")
    o = ap.parse_args(args)
    if not o.src or not os.path.isfile(os.path.join(o.src, "core_main.c")):
        sys.exit("coremark.py: no CoreMark sources (--src DIR or COREMARK_DIR: a checkout "
                 "of https://github.com/eembc/coremark)")
    work = tempfile.mkdtemp(prefix="wasmplug-coremark-")
    try:
        native, wasm = os.path.join(work, "coremark"), os.path.join(work, "coremark.wasm")
        build(o.src, native, False, o.clang)
        build(o.src, wasm, True, o.clang)
        # CoreMark's arguments: seeds 0,0,0x66 (its performance run), then
        # the iteration count.
        n_native, n_wasm = o.iterations * 10, o.iterations
        nat_cmd = [native, "0x0", "0x0", "0x66", str(n_native)]
        tiers = [t for t in o.tiers.split(",") if t]
        wasm_cmds = {t: [o.wasmplug, "exec", "--tier", t] + extra +
                     [wasm, "0x0", "0x0", "0x66", str(n_wasm)] for t in tiers}
        for t in tiers:
            run(wasm_cmds[t])  # untimed: native code compiled and cached
        nat, wp = [], {t: [] for t in tiers}
        for r in range(o.rounds):
            t, text = run(nat_cmd)
            nat_sums = checksums(text, "native")
            nat.append(t / n_native)
            for tier in tiers:
                t, text = run(wasm_cmds[tier])
                if checksums(text, "wasmplug --tier " + tier) != nat_sums:
                    sys.exit("coremark.py: checksums differ between native and wasmplug")
                wp[tier].append(t / n_wasm)
        n = statistics.median(nat)
        print("CoreMark, %d interleaved rounds, median CPU time per iteration" % o.rounds)
        print("| build | iterations | us/iteration | CoreMark (iterations per CPU s) | x native |")
        print("|---|---:|---:|---:|---:|")
        print("| native (clang -O2) | %d | %.2f | %.0f | 1.0 |" % (n_native, n * 1e6, 1 / n))
        for tier in tiers:
            w = statistics.median(wp[tier])
            print("| wasmplug --tier %s %s | %d | %.2f | %.0f | %.1f |"
                  % (tier, " ".join(extra), n_wasm, w * 1e6, 1 / w, w / n))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
