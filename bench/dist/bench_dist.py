#!/usr/bin/env python3
"""Distribution benchmark: a generated registry of N plugins (default 1,000)
served over HTTP on 127.0.0.1 (tests/dist/server.py), then, interleaved for
R rounds (default 21): `wasmplug search` of one plugin, `wasmplug search`
matching every plugin, and `wasmplug install` (resolve + download + verify
+ install) of one plugin into a store it was just removed from. Reports
the medians (the wall time of the whole command, as a user sees it: process
start-up, the exec of wasmplug-dist, the index download and signature check
included).

    bench_dist.py WASMPLUG EMPTY.wasm SOURCE_DIR [--plugins N] [--rounds R] [--keep]
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd, env, check=True):
    r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and r.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), r.stdout.decode(), r.stderr.decode()))
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wasmplug")
    ap.add_argument("module")
    ap.add_argument("source")
    ap.add_argument("--plugins", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    a = ap.parse_args()
    w = os.path.abspath(a.wasmplug)
    a.module = os.path.abspath(a.module)
    a.source = os.path.abspath(a.source)
    tmp = tempfile.mkdtemp(prefix="wasmplug-bench-dist.")
    server = None
    try:
        env = dict(os.environ, WASMPLUG_STORE=os.path.join(tmp, "store"))
        os.chdir(tmp)
        run([w, "keygen", "--unencrypted", "-p", "k.pub", "-s", "k.key"], env)
        t0 = time.perf_counter()
        pkgs = []
        os.makedirs("pkgs")
        words = ["text", "image", "audio", "json", "csv", "markdown", "search", "math"]
        for i in range(a.plugins):
            d = os.path.join(tmp, "src", "plugin-%04d" % i)
            os.makedirs(d)
            with open(os.path.join(d, "plugin.yaml"), "w") as f:
                f.write("id: plugin-%04d\nversion: 1.%d.0\nmodule: plugin.wasm\n"
                        "description: Benchmark plugin %d for %s and %s\n"
                        % (i, i % 7, i, words[i % 8], words[(i * 3) % 8]))
            shutil.copy(a.module, os.path.join(d, "plugin.wasm"))
            run([w, "pack", d, "-o", "pkgs"], env)
            pkgs.append(os.path.join("pkgs", "plugin-%04d-1.%d.0.wasmplug" % (i, i % 7)))
        t1 = time.perf_counter()
        run([w, "publish", "--registry", "reg", "-s", "k.key"] + pkgs, env)
        t2 = time.perf_counter()
        index_size = os.path.getsize(os.path.join("reg", "index.json"))
        print("registry: %d plugins, index.json %d KiB; pack %.1f s, publish (one index "
              "write) %.2f s" % (a.plugins, index_size >> 10, t1 - t0, t2 - t1))

        server = subprocess.Popen([sys.executable, os.path.join(a.source, "tests", "dist",
                                                                "server.py"), "reg", "port", "600"])
        for _ in range(100):
            if os.path.exists("port"):
                break
            time.sleep(0.1)
        url = "http://127.0.0.1:" + open("port").read()
        run([w, "trust", "add", "k.pub"], env)
        run([w, "registry", "add", "bench", url], env)
        target = "plugin-%04d" % (a.plugins // 2)
        store_plugins = os.path.join(tmp, "store", "plugins")
        # Wall time, and the CPU time (user + system) of the command, which a
        # loaded machine inflates far less.
        times = {"search one": ([], []), "search all": ([], []), "install one": ([], [])}

        def timed(name, cmd):
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            r = run(cmd, env)
            times[name][0].append(time.perf_counter() - t)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[name][1].append(c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime)
            return r

        for _ in range(a.rounds):
            r = timed("search one", [w, "search", target])
            assert target.encode() in r.stdout
            r = timed("search all", [w, "--json", "search", "benchmark"])
            assert r.stdout.count(b'"id"') == a.plugins
            shutil.rmtree(store_plugins, ignore_errors=True)
            timed("install one", [w, "install", target, "--yes", "--no-lock"])
        for name, (wall, cpu) in times.items():
            print("%-12s wall median %6.1f ms (min %6.1f, max %6.1f); cpu median %5.1f ms; "
                  "%d rounds" % (name, 1000 * statistics.median(wall), 1000 * min(wall),
                                 1000 * max(wall), 1000 * statistics.median(cpu), len(wall)))
        print("load average during the run: %.1f" % os.getloadavg()[0])
    finally:
        if server:
            server.kill()
            server.wait()
        if a.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
