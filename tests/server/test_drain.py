#!/usr/bin/env python3
"""test_drain.py WASMPLUG ECHO_WASM - SIGTERM in the middle of a load: 12
keep-alive clients call `wasmplug serve` (quick echo calls, and calls that
run 400 ms), SIGTERM arrives once the server has answered 60 of them (not
after a fixed time: a loaded machine serves fewer per second), and every
request the server accepted gets its complete, correct response. A request is accepted when the server read
it: the server's access log lists it. Requests refused at the door (the
listening socket closed, or an idle connection closed before the server
read what was sent on it) got no byte of a response, which a client may
retry; anything else (a cut response, a wrong body) is a failure."""

import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Env, Server, check, done, wait_for  # noqa: E402

WASMPLUG, ECHO_WASM = sys.argv[1:3]
ECHO = """id: echo-plugin
version: 1.0.0
module: echo.wasm
abi: v1
resources:
  timeout: 5s
"""

env = Env(WASMPLUG)
try:
    env.install(ECHO, ECHO_WASM, "echo.wasm")
    srv = Server(env, "--threads", "4", "--pool", "4", "--drain-timeout", "30s")
    auth = {"Authorization": "Bearer " + env.token}
    lock = threading.Lock()
    results = []  # (kind, sent, answered, detail)
    # Clients stop when the closed listener refuses them; stop_at only
    # bounds a server that never closes it (set at the signal).
    stop_at = float("inf")

    def client(n):
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        i = 0
        while time.time() < stop_at:
            i += 1
            slow = n % 4 == 0 and i % 2 == 0
            body = ("%d-%d" % (n, i)).encode()
            path = ("/v1/plugins/echo-plugin/call/spin?timeout_ms=400" if slow
                    else "/v1/plugins/echo-plugin/call/echo")
            sent = time.time()
            try:
                conn.request("POST", path, body=body, headers=auth)
                r = conn.getresponse()
            except ConnectionRefusedError:
                with lock:
                    results.append(("refused", sent, None, ""))
                return
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                with lock:
                    results.append(("not-accepted", sent, None, repr(e)))
                conn.close()
                continue
            try:
                data = r.read()
            except Exception as e:  # a response cut short
                with lock:
                    results.append(("cut", sent, time.time(), repr(e)))
                conn.close()
                continue
            ok = (r.status == 504 and json.loads(data)["error"]["kind"] == "ERR_TIMEOUT"
                  if slow else r.status == 200 and data == body)
            with lock:
                results.append(("ok" if ok else "wrong", sent, time.time(),
                                "%d %r" % (r.status, data[:200])))
            if r.will_close:
                conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()

    def answered_count():
        with lock:
            return sum(1 for r in results if r[0] == "ok")

    warmed = wait_for(lambda: answered_count() >= 60, seconds=60)
    t_term = time.time()
    stop_at = t_term + 45
    srv.signal(signal.SIGTERM)
    for t in threads:
        t.join(max(0.0, t_term + 90 - time.time()))
    check("every client ended", not any(t.is_alive() for t in threads))
    rc = srv.proc.wait(30)
    t_exit = time.time()

    kinds = {}
    for k, *_ in results:
        kinds[k] = kinds.get(k, 0) + 1
    print("results:", kinds, "stopped %.2f s after SIGTERM" % (t_exit - t_term))
    bad = [r for r in results if r[0] in ("cut", "wrong")]
    check("no response cut short or wrong", not bad, bad[:5])
    answered = [r for r in results if r[0] == "ok"]
    before = [r for r in answered if r[2] < t_term]
    check("the clients were served before the signal", warmed and len(before) >= 60,
          len(before))
    in_flight = [r for r in answered if r[1] < t_term < r[2]]
    check("requests in progress at SIGTERM got their complete responses", in_flight,
          len(in_flight))
    check("every client ended refused by the closed listener",
          kinds.get("refused", 0) == 12, kinds)
    check("exit 0 after draining", rc == 0, (rc, srv.stderr()[-400:]))
    with open(srv.log) as f:
        logged = [json.loads(line) for line in f]
    served = [e for e in logged if e["status"] in (200, 504)]
    check("every request the server accepted was answered to its client "
          "(access log %d, clients %d)" % (len(served), len(answered)),
          len(served) == len(answered) and len(logged) == len(served), kinds)
finally:
    env.cleanup()
done()
