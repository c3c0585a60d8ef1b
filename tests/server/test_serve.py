#!/usr/bin/env python3
"""test_serve.py WASMPLUG ECHO_WASM SINK_WASM - every endpoint of `wasmplug
serve` over real HTTP on 127.0.0.1, with good and bad requests: tokens,
malformed JSON, huge bodies, unknown plugins, per-request limits, load /
reload / dispose / kill, events and dead letters, metrics and error
histories, CORS and Host checks, slow and stalled clients, SIGHUP store
syncs, the access log and SIGTERM."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_lib import Env, Server, check, done, wait_for  # noqa: E402

WASMPLUG, ECHO_WASM, SINK_WASM = sys.argv[1:4]

ECHO = """id: echo-plugin
name: Echo
version: %s
module: echo.wasm
abi: v1
exports: [echo, greet, fail, trap, spin, grow, noop]
resources:
  max_memory: 4MiB
  timeout: 5s
"""
SINK = """id: sink
version: 1.0.0
module: ev_sink.wasm
abi: v1
permissions:
  events:
    subscribe:
      - {topic: "jobs.*", retries: 0}
"""

env = Env(WASMPLUG)
try:
    env.install(ECHO % "1.2.0", ECHO_WASM, "echo.wasm")
    env.install(SINK, SINK_WASM, "ev_sink.wasm")
    srv = Server(env, "--idle-timeout", "8s", "--threads", "4")
    R, J = srv.request, srv.json
    bad = "wrong-" + env.token

    # ---- health and tokens ------------------------------------------------
    st, body = J("GET", "/healthz", token=None)
    check("healthz answers without a token", st == 200 and body == {"ok": True}, body)
    st, body = J("GET", "/readyz", token=None)
    check("readyz: ready once the store is loaded", st == 200 and body["state"] == "ready", body)
    for path in ["/v1/plugins", "/v1/store", "/v1/errors", "/metrics", "/v1/events",
                 "/v1/dead-letters", "/v1/plugins/echo-plugin"]:
        st, h, _ = R("GET", path, token=None)
        st2, _, _ = R("GET", path, token=bad)
        check("GET %s needs the token (401 without, 401 wrong)" % path,
              st == 401 and st2 == 401 and h.get("www-authenticate") == "Bearer", (st, st2))
    st, _, _ = R("GET", "/v1/plugins", headers={"Authorization": "Basic " + env.token},
                 token=None)
    check("a token in another scheme is refused", st == 401, st)
    st, _, _ = R("POST", "/v1/plugins/echo-plugin/call/echo", b"x", token=None)
    check("calls need the token", st == 401, st)

    # ---- plugins ----------------------------------------------------------
    st, body = J("GET", "/v1/plugins")
    names = sorted(p["name"] for p in body["plugins"]) if st == 200 else []
    check("the store's plugins are loaded", names == ["echo-plugin", "sink"], body)
    st, body = J("GET", "/v1/plugins/echo-plugin")
    p = body.get("plugin", {}) if st == 200 else {}
    check("plugin info: state, version, ABI, exports, limits, grants",
          p.get("state") == "ready" and p.get("version") == "1.2.0" and p.get("abi") == "v1"
          and "echo" in [e["name"] for e in p.get("exports", [])]
          and p.get("limits", {}).get("timeout_ms") == 5000 and p.get("grants") == [], body)
    st, body = J("GET", "/v1/plugins/sink")
    check("grants recorded at install are the plugin's",
          st == 200 and body["plugin"]["grants"] == ["events.subscribe:jobs.*"], body)
    st, body = J("GET", "/v1/plugins/nope")
    check("unknown plugin: 404 naming it", st == 404 and "'nope'" in body["error"]["message"],
          body)
    st, body = J("GET", "/v1/store")
    check("the store's installed plugins, loaded or not",
          st == 200 and sorted(i["id"] for i in body["installed"]) == ["echo-plugin", "sink"]
          and all(i["loaded"] for i in body["installed"]), body)

    # ---- calls ------------------------------------------------------------
    st, h, out = R("POST", "/v1/plugins/echo-plugin/call/echo", b"hello")
    check("call: input in, output out", st == 200 and out == b"hello"
          and h.get("content-type") == "application/octet-stream", (st, out))
    binary = bytes(range(256)) * 4
    st, _, out = R("POST", "/v1/plugins/echo-plugin/call/echo", binary)
    check("call: binary input and output round trip", st == 200 and out == binary, st)
    st, _, out = R("POST", "/v1/plugins/echo-plugin/call/noop", b"")
    check("call: empty output", st == 200 and out == b"", (st, out))
    st, body = J("POST", "/v1/plugins/echo-plugin/call/trap", "x")
    e = body.get("error", {})
    check("a trap: 422, kind, trap and the wasm backtrace",
          st == 422 and e.get("kind") == "ERR_TRAP" and e.get("trap") == "unreachable"
          and e.get("backtrace", [{}])[0].get("function") == "trap" and e.get("phase") == "call",
          body)
    st, body = J("POST", "/v1/plugins/echo-plugin/call/fail", "x")
    e = body.get("error", {})
    check("an error return: 422 with the plugin's code and message",
          st == 422 and e.get("plugin_code") == 3 and "something went wrong" in e.get("message", ""),
          body)
    st, body = J("POST", "/v1/plugins/echo-plugin/call/missing", "x")
    check("unknown function: 404", st == 404 and body["error"]["kind"] == "ERR_NOT_FOUND", body)
    st, body = J("POST", "/v1/plugins/ghost/call/echo", "x")
    check("call of an unknown plugin: 404", st == 404, body)
    t0 = time.time()
    st, body = J("POST", "/v1/plugins/echo-plugin/call/spin?timeout_ms=200", "x")
    # The message names the limit that ended the call; the clock only tells
    # it from the installed 5 s (a loaded machine may be slow to answer).
    check("?timeout_ms lowers the plugin's timeout (504 after 200 ms)",
          st == 504 and "200 ms" in body["error"]["message"] and time.time() - t0 < 4.9,
          (body, time.time() - t0))
    st, body = J("POST", "/v1/plugins/echo-plugin/call/spin", "x",
                 headers={"X-Wasmplug-Fuel": "100000"})
    check("X-Wasmplug-Fuel lowers the fuel (unlimited when installed)",
          st == 422 and body["error"]["kind"] == "ERR_FUEL" and "100000" in body["error"]["message"],
          body)
    t0 = time.time()
    st, body = J("POST", "/v1/plugins/echo-plugin/call/spin?timeout_ms=60000", "x")
    check("a request cannot raise the installed timeout (5 s, not 60 s)",
          st == 504 and "5000 ms" in body["error"]["message"] and time.time() - t0 < 30, body)
    for q in ["timeout_ms=abc", "timeout_ms=0", "timeout_ms=-5", "fuel=99999999999999999999999"]:
        st, body = J("POST", "/v1/plugins/echo-plugin/call/echo?" + q, "x")
        check("bad limit %s: 400" % q, st == 400 and body["error"]["kind"] == "bad_request", body)

    # ---- bounded bodies ---------------------------------------------------
    def raw(head, body=b""):
        """Send head (and body) on a socket; the reply's first bytes."""
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            s.sendall(head.encode() + body)
            return s.recv(65536)
        except OSError as exc:
            return str(exc).encode()
        finally:
            s.close()
    reply = raw("POST /v1/plugins/echo-plugin/call/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Authorization: Bearer %s\r\nContent-Length: %d\r\n\r\n" % (env.token, 2 << 20),
                b"x" * 65536)
    check("a call body over --max-body (1MiB): 413 with the limit",
          reply.startswith(b"HTTP/1.1 413") and b"body_too_large" in reply
          and b"1048576 bytes" in reply, reply[:300])
    st, _, out = R("POST", "/v1/plugins/echo-plugin/call/echo", b"y" * 60000)
    check("a body under the limit is taken", st == 200 and out == b"y" * 60000, st)
    # Content-Length promises 1 GiB: refused from the headers, before any body.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(("POST /v1/plugins/echo-plugin/call/echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               "Authorization: Bearer %s\r\nContent-Length: 1073741824\r\n\r\n" % env.token)
              .encode())
    reply = s.recv(4096)
    s.close()
    check("a 1 GiB Content-Length is refused before its body is sent",
          reply.startswith(b"HTTP/1.1 413"), reply[:80])
    # Chunked, no length: refused once the chunks pass the limit.
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(("POST /v1/plugins HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" % env.token).encode())
    chunk = b"4000\r\n" + b"z" * 0x4000 + b"\r\n"
    try:
        for _ in range(4):
            s.sendall(chunk)
        s.sendall(b"0\r\n\r\n")  # the rest is read and dropped, not kept
        reply = s.recv(4096)
    except OSError as exc:
        reply = str(exc).encode()
    s.close()
    check("a chunked control body over 16 KiB is refused (413)", reply.startswith(b"HTTP/1.1 413"),
          reply[:80])
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
    try:
        reply = s.recv(4096)
    except OSError:
        reply = b""
    s.close()
    check("70 KB of headers is refused", not reply.startswith(b"HTTP/1.1 200"), reply[:60])
    st, _, _ = R("GET", "/healthz")
    check("the server still answers after the oversized requests", st == 200, st)
    st, body = J("GET", "/v1/plugins", "not allowed")
    check("a body where none is taken: 413", st == 413, st)

    # ---- load, reload, dispose, kill --------------------------------------
    st, body = J("POST", "/v1/plugins", '{"id": "echo-plugin",')
    check("malformed JSON: 400 with line:column",
          st == 400 and body["error"]["kind"] == "bad_json" and "1:" in body["error"]["message"],
          body)
    for doc, what in [("[1]", "not an object"), ('{"version": "1.0.0"}', "no id"),
                      ('{"id": 5}', "id not a string"), ('{"id": "../etc"}', "a path"),
                      ('{"id": "echo-plugin", "pool_size": 0}', "pool_size 0"),
                      ('{"id": "echo-plugin", "version": 2}', "version not a string")]:
        st, body = J("POST", "/v1/plugins", doc)
        check("load with %s: 400" % what, st == 400, (st, body))
    st, body = J("POST", "/v1/plugins", {"id": "not-installed"})
    check("load of a plugin the store does not have: 404", st == 404, body)
    st, body = J("POST", "/v1/plugins", {"id": "echo-plugin"})
    check("load of a loaded plugin: 409", st == 409 and body["error"]["kind"] == "ERR_DUPLICATE",
          body)
    st, body = J("POST", "/v1/plugins", {"id": "echo-plugin"}, token=None)
    check("load needs the token", st == 401, st)
    st, body = J("DELETE", "/v1/plugins/echo-plugin", token=bad)
    check("kill needs the right token", st == 401, st)
    st, body = J("DELETE", "/v1/plugins/echo-plugin")
    check("kill", st == 200 and body["killed"] == "echo-plugin", body)
    st, _, _ = R("POST", "/v1/plugins/echo-plugin/call/echo", b"x")
    check("a killed plugin is gone (404)", st == 404, st)
    st, body = J("DELETE", "/v1/plugins/echo-plugin")
    check("kill of an unknown plugin: 404", st == 404, body)
    st, body = J("POST", "/v1/plugins", {"id": "echo-plugin", "pool_size": 2})
    check("load from the store (201, pool_size taken)",
          st == 201 and body["plugin"]["pool_size"] == 2 and body["plugin"]["state"] == "ready",
          body)
    env.install(ECHO % "1.3.0", ECHO_WASM, "echo.wasm")
    st, body = J("POST", "/v1/plugins/echo-plugin/reload")
    check("reload takes the store's newest version",
          st == 200 and body["plugin"]["version"] == "1.3.0"
          and body["plugin"]["reloads"]["reloads"] == 1, body)
    st, body = J("POST", "/v1/plugins/echo-plugin/reload", {"version": "1.2.0"})
    check("reload to a given installed version",
          st == 200 and body["plugin"]["version"] == "1.2.0", body)
    st, body = J("POST", "/v1/plugins/echo-plugin/reload", {"version": "9.9.9"})
    check("reload to a version not installed: 404, the old one keeps serving",
          st == 404 and R("POST", "/v1/plugins/echo-plugin/call/echo", b"k")[2] == b"k", body)
    st, body = J("POST", "/v1/plugins/ghost/reload")
    check("reload of an unknown plugin: 404", st == 404, body)
    st, body = J("POST", "/v1/plugins/echo-plugin/dispose")
    check("dispose", st == 200 and body["plugin"]["state"] == "disposed", body)
    st, body = J("POST", "/v1/plugins/echo-plugin/call/echo", "x")
    check("a call of a disposed plugin: 409", st == 409
          and body["error"]["kind"] == "ERR_PLUGIN_STATE", body)
    J("DELETE", "/v1/plugins/echo-plugin")
    st, body = J("POST", "/v1/plugins", {"id": "echo-plugin", "version": "1.2.0"})
    check("load of a given version", st == 201 and body["plugin"]["version"] == "1.2.0", body)

    # ---- metrics and errors -----------------------------------------------
    def calls_metric():
        _, _, text = R("GET", "/metrics")
        for line in text.decode().splitlines():
            if line.startswith('wasmplug_plugin_calls_total{plugin="echo-plugin"'):
                return int(float(line.split()[-1]))
        return None
    before = calls_metric()
    for _ in range(3):
        R("POST", "/v1/plugins/echo-plugin/call/echo", b"m")
    st, h, text = R("GET", "/metrics")
    check("GET /metrics: Prometheus text with HELP/TYPE and per-plugin labels",
          st == 200 and h["content-type"].startswith("text/plain; version=0.0.4")
          and b"# TYPE wasmplug_plugin_calls_total counter" in text
          and b'wasmplug_plugin_state{plugin="sink",id="sink",version="1.0.0",state="ready"} 1'
          in text, text[:400])
    check("metrics count the calls made", before is not None and calls_metric() == before + 3,
          (before, calls_metric()))
    st, body = J("GET", "/v1/plugins/echo-plugin/metrics")
    m = body.get("metrics", {})
    check("plugin metrics as JSON (calls, latency quantiles, memory)",
          st == 200 and m.get("calls", 0) >= 3 and m.get("p99_ns", 0) >= m.get("p50_ns", 1) > 0
          and m.get("memory_pages") == 2, body)
    R("POST", "/v1/plugins/echo-plugin/call/trap", b"")
    st, body = J("GET", "/v1/plugins/echo-plugin/errors?limit=5")
    errs = body.get("errors", [])
    check("error history with the backtrace", st == 200 and errs and errs[-1]["function"] == "trap"
          and errs[-1]["backtrace"][0]["function"] == "trap", body)
    for q in ["0", "300", "x"]:
        st, body = J("GET", "/v1/plugins/echo-plugin/errors?limit=" + q)
        check("error history limit=%s: 400" % q, st == 400, body)
    st, body = J("GET", "/v1/errors")
    check("the host's error history holds every plugin's errors",
          st == 200 and any(e["plugin"] == "echo-plugin" and e["kind"] == "ERR_TRAP"
                            for e in body["errors"]), body)

    # ---- events -----------------------------------------------------------
    st, body = J("POST", "/v1/events/jobs.a", {"n": 1})
    check("publish: 202 with the event id", st == 202 and body["id"] > 0, body)
    st, body = J("POST", "/v1/events/jobs.b", {"fail": True})
    check("publish an event the subscriber fails on", st == 202, body)
    dl = wait_for(lambda: J("GET", "/v1/dead-letters")[1]["dead_letters"])
    check("the failed delivery is a dead letter (subscriber, topic, error, event)",
          dl and dl[0]["subscriber"] == "sink" and dl[0]["topic"] == "jobs.b"
          and dl[0]["event"]["payload"] == {"fail": True}, dl)
    st, body = J("GET", "/v1/events")
    topics = {t["topic"]: t for t in body.get("topics", [])}
    check("bus overview: topics and subscriptions",
          st == 200 and topics.get("jobs.a", {}).get("delivered") == 1
          and any(s["subscriber"] == "sink" for s in body["subscriptions"]), body)
    st, body = J("DELETE", "/v1/dead-letters", token=None)
    check("emptying the dead letters needs the token", st == 401, st)
    st, body = J("DELETE", "/v1/dead-letters")
    check("DELETE /v1/dead-letters returns and empties them",
          st == 200 and body["cleared"] and len(body["dead_letters"]) == 1
          and J("GET", "/v1/dead-letters")[1]["dead_letters"] == [], body)
    st, body = J("POST", "/v1/events/jobs..x", {"n": 1})
    check("publish to a malformed topic: 400", st == 400, body)
    st, body = J("POST", "/v1/events/jobs.a", "{not json")
    check("publish a payload that is not JSON: 400", st == 400, body)
    st, body = J("POST", "/v1/events/jobs.a", {"n": 1}, token=None)
    check("publish needs the token", st == 401, st)

    # ---- routing, CORS, Host ----------------------------------------------
    st, h, _ = R("PUT", "/v1/plugins")
    check("405 with Allow", st == 405 and "GET" in h.get("allow", "")
          and "POST" in h.get("allow", ""), (st, h))
    st, _, _ = R("GET", "/nothing/here")
    check("unknown path: 404", st == 404, st)
    st, h, _ = R("GET", "/v1/plugins", headers={"Origin": "http://evil.example"})
    check("a cross-origin request is refused, no CORS headers",
          st == 403 and not any(k.startswith("access-control") for k in h), (st, h))
    st, _, _ = R("GET", "/v1/plugins", headers={"Origin": "http://127.0.0.1:%d" % srv.port})
    check("a same-origin request is served", st == 200, st)
    st, _, _ = R("GET", "/healthz", headers={"Host": "rebound.example:%d" % srv.port})
    check("a Host that is not loopback is refused (DNS rebinding)", st == 403, st)
    st, h, _ = R("GET", "/healthz")
    check("responses are not cached or sniffed", h.get("cache-control") == "no-store"
          and h.get("x-content-type-options") == "nosniff", h)

    # ---- slow and stalled clients -----------------------------------------
    stalled = []
    for _ in range(40):  # ten times the server's threads
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        stalled.append(s)
    slow = socket.create_connection(("127.0.0.1", srv.port), timeout=20)
    slow_reply = []

    def dribble():
        req = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        try:
            for i in range(len(req)):
                slow.sendall(req[i:i + 1])
                time.sleep(0.05 if i < len(req) - 12 else 0.5)  # slowest at the end
            slow_reply.append(slow.recv(4096))
        except OSError as exc:
            slow_reply.append(str(exc).encode())
    t = threading.Thread(target=dribble)
    t.start()
    times = []
    for _ in range(50):
        t0 = time.time()
        st, _, out = R("POST", "/v1/plugins/echo-plugin/call/echo", b"fast", timeout=7)
        times.append((time.time() - t0, st, out))
    check("40 stalled and 1 slow client do not hold the 4 threads: 50 calls answered",
          all(st == 200 and out == b"fast" for _, st, out in times)
          and max(d for d, _, _ in times) < 7.0, max(times))  # held: 8 s and more
    t.join(30)
    check("the slow client (one byte at a time) is answered in the end",
          slow_reply and slow_reply[0].startswith(b"HTTP/1.1 200"), slow_reply)
    slow.close()
    t0 = time.time()
    closed = 0
    for s in stalled:
        try:
            s.settimeout(max(0.1, 25 - (time.time() - t0)))
            if s.recv(100) == b"":
                closed += 1
        except OSError:
            pass
        s.close()
    check("stalled connections are closed by the idle timeout (8 s)",
          closed == len(stalled) and time.time() - t0 < 25, (closed, time.time() - t0))

    # ---- SIGHUP: the store again ------------------------------------------
    env.install(ECHO.replace("echo-plugin", "echo-two") % "0.1.0", ECHO_WASM, "echo.wasm")
    env.install(ECHO % "1.4.0", ECHO_WASM, "echo.wasm")
    srv.signal(signal.SIGHUP)

    def synced():
        st, body = J("GET", "/v1/plugins")
        got = {p["name"]: p["version"] for p in body.get("plugins", [])}
        return got if got.get("echo-two") == "0.1.0" and got.get("echo-plugin") == "1.4.0" else None
    check("SIGHUP loads new plugins and reloads changed ones", wait_for(synced),
          J("GET", "/v1/plugins"))
    def generation():
        body = J("GET", "/v1/plugins/echo-plugin")[1]
        return body.get("plugin", {}).get("reloads", {}).get("generation", -1)
    before = generation()
    env.install(ECHO % "1.4.0", ECHO_WASM, "echo.wasm", "--force")
    srv.signal(signal.SIGHUP)
    check("SIGHUP reloads a version installed again (install --force)",
          wait_for(lambda: generation() > before), (before, generation()))
    r = env.cli("remove", "echo-two")
    srv.signal(signal.SIGHUP)
    gone = wait_for(lambda: "echo-two" not in [p["name"] for p in
                                               J("GET", "/v1/plugins")[1]["plugins"]])
    check("SIGHUP kills plugins removed from the store", r.returncode == 0 and gone, r.stderr)

    # ---- a server without a token is read-only ----------------------------
    ro = Server(env, "--no-load", token=False)
    st, _, _ = ro.request("GET", "/v1/plugins", token=None)
    st2, body = ro.json("POST", "/v1/plugins", {"id": "echo-plugin"}, token=None)
    check("without --token-file: reads open, changes refused (403)",
          st == 200 and st2 == 403 and "--token-file" in body["error"]["message"], (st, st2))
    ro.stop()
    r = env.cli("serve", "--listen", "0.0.0.0:0", "--no-load")
    check("no token: listening beyond loopback is refused (exit 2)",
          r.returncode == 2 and "not a loopback address" in r.stderr, r.stderr)
    r = env.cli("serve", "--listen", "127.0.0.1:99999")
    check("a bad port: exit 2", r.returncode == 2 and "0..65535" in r.stderr, r.stderr)
    r = env.cli("serve", "--listen", "127.0.0.1:%d" % srv.port, "--no-load")
    check("a port in use: exit 7 naming the address", r.returncode == 7
          and "cannot listen on 127.0.0.1:%d" % srv.port in r.stderr, r.stderr)
    v6 = subprocess.Popen([WASMPLUG, "serve", "--listen", "[::1]:0", "--no-load", "--access-log",
                           "off", "--data-dir", env.data], env=env.env, stdout=subprocess.PIPE,
                          stderr=subprocess.DEVNULL, text=True)
    line = v6.stdout.readline()
    v6_status = None
    if "listening on http://[::1]:" in line:
        c = http.client.HTTPConnection("::1", int(line.rsplit(":", 1)[1]), timeout=10)
        c.request("GET", "/healthz")
        v6_status = c.getresponse().status
        c.close()
    v6.terminate()
    check("IPv6 loopback: [::1]:0", v6_status == 200 and v6.wait(30) == 0, line)
    # One thread accepts, in the order the connections were made: with more,
    # the 4th could be counted before one of the three held before it.
    lim = Server(env, "--no-load", "--max-connections-per-ip", "3", "--threads", "1")
    held = [socket.create_connection(("127.0.0.1", lim.port), timeout=10) for _ in range(3)]
    try:
        st = lim.request("GET", "/healthz", timeout=5)[0]
    except (OSError, http.client.HTTPException):
        st = "refused"
    for s in held:
        s.close()
    def healthy():
        try:
            return lim.request("GET", "/healthz", timeout=5)[0] == 200
        except (OSError, http.client.HTTPException):
            return False  # the closed connections not yet noticed
    st2 = wait_for(healthy)
    check("--max-connections-per-ip: a 4th connection is refused, served again once one closes",
          st == "refused" and st2, st)
    lim.stop()
    os.chmod(env.token_file, 0o644)
    r = env.cli("serve", "--token-file", env.token_file)
    check("a token file others can read is refused", r.returncode == 2
          and "chmod 600" in r.stderr, r.stderr)
    os.chmod(env.token_file, 0o600)
    pub = Server(env, "--no-load", "--public-read")
    st, _, _ = pub.request("GET", "/v1/plugins", token=None)
    st2, _, _ = pub.request("POST", "/v1/plugins", b"{}", token=None)
    check("--public-read: reads without the token, changes still need it",
          st == 200 and st2 == 401, (st, st2))
    pub.stop()

    # ---- SIGTERM and the access log ---------------------------------------
    rc = srv.stop()
    check("SIGTERM stops the server with exit 0", rc == 0, (rc, srv.stderr()[-500:]))
    with open(srv.log) as f:
        lines = [json.loads(line) for line in f]
    check("the access log: one JSON object per request",
          len(lines) > 100 and all({"ts", "peer", "method", "path", "status", "bytes", "us"}
                                   <= set(e) for e in lines), len(lines))
    check("the access log records refused requests too",
          any(e["status"] == 401 for e in lines) and any(e["status"] == 413 for e in lines)
          and any(e.get("route") == "/v1/plugins/{name}/call/{func}" and e["status"] == 200
                  for e in lines), lines[:3])
finally:
    env.cleanup()
done()
