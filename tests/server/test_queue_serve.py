#!/usr/bin/env python3
"""test_queue_serve.py WASMPLUG ECHO_WASM - `wasmplug serve --queue-redis`:
calls over HTTP forwarded to two `wasmplug worker` processes through a
redis-server of the test's own (127.0.0.1, free ports, a temporary
directory). Checks: answers, errors and traps in the local call's shapes
and statuses (a second plugin runs locally in the same server, for the
comparison), limits travelling with the call, Idempotency-Key answered
once (the workers' plugin call counters), the listings' "queue" mode, a
plugin (or version) not in the server's store answered 404 at once as
locally, /readyz not ready while Redis is away, a
worker SIGKILLed while it holds calls (every HTTP call still answered),
Redis stopped (503 with a reason and Retry-After, within the wait) and
back (calls succeed again), and the queue's counters on /metrics. Every
wait is a bounded poll of a condition."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Env, Server, check, done, wait_for  # noqa: E402

WASMPLUG, ECHO_WASM = sys.argv[1:3]


def manifest(pid, version="1.0.0"):
    return """id: %s
version: %s
module: echo.wasm
abi: v1
exports: [echo, fail, trap, spin, noop]
resources:
  timeout: 600ms
""" % (pid, version)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    """redis-server on 127.0.0.1, persisting every write (so a restart keeps
    the stream and its consumer group), restartable on the same port."""

    def __init__(self, d):
        self.dir = d
        self.port = free_port()
        self.proc = None

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        server = os.environ.get("WASMPLUG_REDIS_SERVER") or "redis-server"
        self.proc = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--logfile", os.path.join(self.dir, "redis.log"), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no",
             "--protected-mode", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(self.ping, 30):
            raise RuntimeError("redis-server did not answer on port %d" % self.port)

    def stop(self):
        stop_process(self.proc)


def stop_process(proc):
    """SIGTERM, then SIGKILL after 20 s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Worker:
    """wasmplug worker with its metrics on a free port."""

    def __init__(self, env, url, name, store):
        self.name = name
        self.errpath = os.path.join(env.dir, "worker-%s.err" % name)
        self.err = open(self.errpath, "w")
        self.proc = subprocess.Popen(
            [env.wasmplug, "worker", "--redis", url, "--stream", "calls", "--group", "workers",
             "--consumer", name, "--concurrency", "2", "--claim-idle", "1s",
             "--data-dir", env.data, "--store", store, "--metrics", "127.0.0.1:0"],
            env=env.env, stdout=subprocess.DEVNULL, stderr=self.err)
        self.port = None

        def metrics_port():
            with open(self.errpath) as f:
                m = re.search(r"metrics on http://127\.0\.0\.1:(\d+)/metrics", f.read())
            return m and int(m.group(1))
        self.port = wait_for(metrics_port, 30)
        if not self.port:
            raise RuntimeError("worker %s did not start: %s" % (name, open(self.errpath).read()))

    def metrics(self):
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            c.request("GET", "/metrics")
            text = c.getresponse().read().decode()
            c.close()
            return text
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc)


def metric(text, name, label=None):
    """The sum of the samples of metric name (whose labels contain label)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if label and label not in line:
                continue
            total += float(line.rsplit(" ", 1)[1])
    return total


env = Env(WASMPLUG)
redis = Redis(env.dir)
workers = []
try:
    env.install(manifest("echo-plugin"), ECHO_WASM, "echo.wasm")
    env.install(manifest("local-echo"), ECHO_WASM, "echo.wasm")
    # The workers' store: what the server's had so far. A version only the
    # server has is a call no worker can answer.
    worker_store = os.path.join(env.dir, "worker-store")
    shutil.copytree(env.store, worker_store)
    env.install(manifest("echo-plugin", "9.9.9"), ECHO_WASM, "echo.wasm")
    redis.start()
    url = "redis://127.0.0.1:%d" % redis.port
    workers = [Worker(env, url, "w1", worker_store), Worker(env, url, "w2", worker_store)]
    srv = Server(env, "--threads", "8", "--queue-redis", url, "--queue-stream", "calls",
                 "--queue-plugins", "echo-*", "--queue-timeout", "60s", "--drain-timeout", "1s")

    def call(name, func, body=b"", headers=None, query="", timeout=90):
        return srv.request("POST", "/v1/plugins/%s/call/%s%s" % (name, func, query), body,
                           headers=headers, timeout=timeout)

    def executions():
        """The workers' calls of echo-plugin (answers from the cache not counted)."""
        return sum(metric(w.metrics(), "wasmplug_plugin_calls_total", 'plugin="echo-plugin"')
                   for w in workers)

    # ---- answers in the local call's shapes ----------------------------------
    def both_warm():
        """Calls in parallel until each worker has loaded the plugin (a cold
        worker loads it inside the wait of the first call it takes, which a
        call with a short timeout_ms should not measure)."""
        batch = [threading.Thread(target=call, args=("echo-plugin", "noop")) for _ in range(4)]
        for t in batch:
            t.start()
        for t in batch:
            t.join(90)
        return all(metric(w.metrics(), "wasmplug_plugin_calls_total", 'plugin="echo-plugin"') > 0
                   for w in workers)
    check("both workers run the plugin", wait_for(both_warm, 60, step=0))
    st, h, body = call("echo-plugin", "echo", b"hello over the queue")
    check("a forwarded call is answered by a worker", st == 200 and body == b"hello over the queue",
          (st, body[:200]))
    check("the answer names its worker", h.get("x-wasmplug-worker") in ("w1", "w2")
          and h.get("x-wasmplug-deliveries") == "1" and h.get("x-wasmplug-cached") == "false", h)
    st, h, body = call("local-echo", "echo", b"here")
    check("a plugin outside --queue-plugins runs in the server",
          st == 200 and body == b"here" and "x-wasmplug-worker" not in h, (st, h))

    for func, query in (("fail", ""), ("trap", ""), ("spin", ""), ("spin", "?timeout_ms=300"),
                        ("spin", "?fuel=1000"), ("missing", "")):
        ls, _, lb = call("local-echo", func, query=query)
        qs, _, qb = call("echo-plugin", func, query=query)
        le, qe = json.loads(lb).get("error", {}), json.loads(qb).get("error", {})
        check("%s%s: forwarded like local (%d %s)" % (func, query, ls, le.get("kind")),
              ls == qs and ls >= 400 and le.get("kind") == qe.get("kind")
              and qe.get("plugin") == "echo-plugin" and qe.get("function") == func
              and qe.get("worker") in ("w1", "w2") and qe.get("status") == qs
              and qe.get("trap") == le.get("trap") and qe.get("phase") == le.get("phase"),
              (ls, lb[:300], qs, qb[:300]))
        if func in ("trap", "fail"):
            check("... %s: the worker's error object: message and backtrace as local" % func,
                  qe.get("message") == le.get("message", "").replace("local-echo",
                                                                      "echo-plugin")
                  and qe.get("backtrace") == le.get("backtrace")
                  and qe.get("plugin_code") == le.get("plugin_code"), (le, qe))
    st, _, body = call("echo-plugin", "trap")
    err = json.loads(body).get("error", {})
    frames = [f.get("function") for f in err.get("backtrace", [])]
    check("a forwarded trap has its trap kind and named backtrace frames",
          st == 422 and err.get("trap") == "unreachable" and "trap" in frames
          and all(frames) and "\n" not in err.get("message", "x\n"), (st, err))
    st, _, body = call("echo-plugin", "fail")
    check("the worker's message travels", b"something went wrong" in body, body[:300])
    st, _, body = call("echo-plugin", "spin", query="?timeout_ms=300")
    check("the request's timeout travels with the call",
          st == 504 and b"timeout of 300 ms" in body, body[:300])
    st, _, body = call("echo-plugin", "echo", query="?timeout_ms=abc")
    check("bad limits are refused before forwarding", st == 400, (st, body[:200]))

    # ---- plugins the server's store does not have ----------------------------
    ls, _, lb = call("nowhere", "echo", b"x")
    le = json.loads(lb).get("error", {})
    for name in ("echo-nowhere", "echo-plugin@8.0.0", "echo-plugin@..", "echo-plugin@"):
        t0 = time.time()
        qs, _, qb = call(name, "echo", b"x")
        took = time.time() - t0
        qe = json.loads(qb).get("error", {})
        check("%s: not in the store, 404 at once like a local call (%.2f s)" % (name, took),
              ls == 404 and qs == 404 and qe.get("kind") == le.get("kind") == "not_found"
              and qe.get("message") == le.get("message", "").replace("nowhere", name, 1)
              and "GET /v1/plugins lists them" in qe.get("message", "") and took < 30,
              (ls, lb[:300], qs, qb[:300]))

    # ---- Idempotency-Key -----------------------------------------------------
    before = executions()
    key = {"Idempotency-Key": "order-42"}
    s1, h1, b1 = call("echo-plugin", "echo", b"first", headers=key)
    s2, h2, b2 = call("echo-plugin", "echo", b"second", headers=key)
    after = wait_for(lambda: executions() >= before + 1 and executions(), 30)
    check("the same Idempotency-Key twice gets the first answer",
          s1 == 200 and s2 == 200 and b1 == b"first" and b2 == b"first"
          and h2.get("x-wasmplug-cached") == "true", (s1, b1, h1, s2, b2, h2))
    check("... and the plugin ran once", after == before + 1, (before, after))

    # ---- listings ------------------------------------------------------------
    st, lst = srv.json("GET", "/v1/plugins")
    by = {p["name"]: p for p in (lst or {}).get("plugins", [])}
    check("GET /v1/plugins lists the queue's plugins as remote",
          by.get("echo-plugin", {}).get("mode") == "queue"
          and by["echo-plugin"].get("state") == "remote"
          and by.get("local-echo", {}).get("mode") == "local"
          and lst.get("queue", {}).get("stream") == "calls"
          and lst["queue"].get("plugins") == "echo-*"
          and "127.0.0.1:%d" % redis.port in lst["queue"].get("redis", ""), lst)
    st, dash = srv.json("GET", "/v1/dashboard")
    check("the dashboard marks them too",
          st == 200 and (dash.get("queue") or {}).get("stream") == "calls"
          and any(p.get("mode") == "queue" for p in dash.get("plugins", [])), dash)

    # ---- a worker SIGKILLed while it holds calls -----------------------------
    results = []
    lock = threading.Lock()

    def client(n):
        for i in range(8):
            slow = i % 4 == 0
            payload = ("%d-%d" % (n, i)).encode()
            try:
                st, h, body = call("echo-plugin", "spin" if slow else "echo", payload,
                                   timeout=90)
            except OSError as e:
                st, h, body = 0, {}, repr(e).encode()
            if slow:
                err = json.loads(body).get("error", {}) if st else {}
                ok = st == 504 and err.get("kind") == "ERR_TIMEOUT"
                deliveries = err.get("deliveries", 0)
            else:
                ok = st == 200 and body == payload
                deliveries = int(h.get("x-wasmplug-deliveries", "0"))
            with lock:
                results.append((ok, deliveries, st, body[:200]))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    victim = workers[0]
    holding = wait_for(lambda: metric(victim.metrics(), "wasmplug_worker_in_flight") > 0, 30,
                       step=0.01)
    victim.proc.kill()
    victim.proc.wait()
    for t in threads:
        t.join(120)
    bad = [r for r in results if not r[0]]
    check("a worker killed holding calls (%s): all %d HTTP calls answered right"
          % ("seen" if holding else "not seen", len(results)),
          holding and len(results) == 64 and not bad, bad[:5])
    check("... its calls were redelivered to the other worker",
          any(r[1] >= 2 for r in results), [r[1] for r in results])
    workers = workers[1:]

    # ---- Redis away, then back -----------------------------------------------
    def retried():
        """How often the live worker left a call for another delivery. (Not the
        server's in-flight gauge: a request for /metrics may land on the
        server thread the waiting call holds, and wait with it.)"""
        return metric(workers[0].metrics(), "wasmplug_worker_retried_total")

    waiting = {}

    def unanswerable():
        """A call no worker answers (no worker runs that version)."""
        waiting["answer"] = call("echo-plugin@9.9.9", "echo", b"x")
        waiting["done"] = time.time()

    st, ready = srv.json("GET", "/readyz")
    check("/readyz: ready while Redis answers", st == 200 and ready.get("state") == "ready",
          (st, ready))
    before = retried()
    t = threading.Thread(target=unanswerable)
    t.start()
    seen = wait_for(lambda: retried() > before, 30)
    stopped = time.time()
    redis.stop()
    t.join(90)
    st, h, body = waiting.get("answer", (0, {}, b""))
    err = json.loads(body).get("error", {}) if body else {}
    took = waiting.get("done", stopped + 999) - stopped
    check("Redis stopped under a waiting call: 503 with Retry-After %.1f s later" % took,
          seen and st == 503 and err.get("kind") == "queue_unavailable"
          and h.get("retry-after") == "1" and took < 30, (seen, st, h, body[:300]))
    t0 = time.time()
    st, h, body = call("echo-plugin", "echo", b"no redis")
    took = time.time() - t0
    err = json.loads(body).get("error", {}) if body else {}
    check("Redis stopped: 503 with the reason and Retry-After, within %.1f s" % took,
          st == 503 and err.get("kind") == "queue_unavailable" and h.get("retry-after") == "1"
          and "redis 127.0.0.1:%d" % redis.port in err.get("message", "")
          and "within 2000 ms" in err.get("message", "") and took < 30,
          (st, h, body[:300]))
    t0 = time.time()
    st, _, body = call("echo-plugin", "echo", b"no redis", query="?timeout_ms=300")
    took = time.time() - t0
    check("... and one with timeout_ms=300 waits for Redis that long only (%.1f s)" % took,
          st == 503 and b"within 300 ms" in body and took < 30, (st, body[:300]))
    st, ready = srv.json("GET", "/readyz")
    check("/readyz while Redis is away: 503 queue_unavailable with the reason",
          st == 503 and ready.get("state") == "queue_unavailable" and ready.get("ok") is False
          and "127.0.0.1:%d" % redis.port in ready.get("reason", ""), (st, ready))
    redis.start()
    check("/readyz: ready again once Redis is back",
          wait_for(lambda: srv.json("GET", "/readyz")[0] == 200, 30, step=0.2))

    def answered_again():
        st, _, body = call("echo-plugin", "echo", b"back")
        return st == 200 and body == b"back"
    check("Redis back: calls succeed again", wait_for(answered_again, 30, step=0.2))

    # ---- no answer in time ---------------------------------------------------
    st, _, body = call("echo-plugin@9.9.9", "echo", b"x", query="?timeout_ms=100")
    err = json.loads(body).get("error", {}) if body else {}
    check("no worker can answer: 504 queue_timeout after the call's timeout + 2 s",
          st == 504 and err.get("kind") == "queue_timeout" and err.get("call_id"),
          (st, body[:300]))

    # ---- metrics -------------------------------------------------------------
    st, h, body = srv.request("GET", "/metrics")
    text = body.decode()
    m = {k: metric(text, "wasmplug_serve_queue_" + k, 'stream="calls"')
         for k in ("forwarded_total", "answered_total", "failed_total", "cached_total",
                   "timed_out_total", "redis_errors_total", "reconnects_total", "in_flight",
                   "clients")}
    check("/metrics has the queue's counters", st == 200 and m["forwarded_total"] >= 76
          and m["answered_total"] >= 74 and m["failed_total"] >= 10 and m["cached_total"] >= 1
          and m["timed_out_total"] >= 1 and m["redis_errors_total"] >= 3
          and m["reconnects_total"] >= 1 and m["in_flight"] == 0 and m["clients"] >= 1, m)
    check("... and the local plugin's metrics as before",
          metric(text, "wasmplug_plugin_calls_total", 'plugin="local-echo"') >= 5, text[:400])

    # ---- options -------------------------------------------------------------
    r = env.cli("serve", "--queue-stream", "x")
    check("--queue-stream without --queue-redis is a usage error",
          r.returncode == 2 and "--queue-redis" in r.stderr, r.stderr)
    r = env.cli("serve", "--queue-redis", "http://nope", "--listen", "127.0.0.1:0")
    check("a bad Redis URL is a usage error", r.returncode == 2 and "redis" in r.stderr.lower(),
          r.stderr)

    # ---- stopping while a forwarded call waits -------------------------------
    waiting = {}
    before = retried()
    t = threading.Thread(target=unanswerable)
    t.start()
    seen = wait_for(lambda: retried() > before, 30)
    stopped = time.time()
    srv.signal(signal.SIGTERM)
    t.join(30)
    st, _, body = waiting.get("answer", (0, {}, b""))
    err = json.loads(body).get("error", {}) if body else {}
    took = waiting.get("done", stopped + 999) - stopped
    check("SIGTERM: a waiting forwarded call is answered 503 cancelled after the drain "
          "deadline (%.1f s)" % took,
          seen and st == 503 and err.get("kind") == "cancelled" and took < 30,
          (seen, st, body[:300]))
    check("the server stops cleanly", srv.stop() == 0, srv.stderr()[-2000:])
finally:
    for w in workers:
        w.stop()
    redis.stop()
    env.cleanup()
done()
