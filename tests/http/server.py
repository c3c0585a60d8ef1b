#!/usr/bin/env python3
"""A small HTTP/1.1 test server for the HTTP service's tests and benchmark.

Binds 127.0.0.1 on a free port, prints the port on stdout, serves until its
stdin closes or --lifetime seconds pass (it never outlives its test).

    server.py [--tls CERT KEY] [--lifetime SECONDS]

Paths:
  /echo        200, body = request body; X-Method, X-Headers (JSON of the
               request headers, lower-case names), X-Requests (count so far)
  /bytes?n=N   200 with N bytes (pattern i % 251); &chunked=1: no length
  /redirect?to=URL[&code=302]   redirect to URL
  /loop        302 to /loop
  /slow        Content-Length 20, then one byte per second
  /json        a JSON document for the example plugin
  /count       the number of requests served before this one
  /hello       200 "hello" (the benchmark)
  /connects    the CONNECT targets asked so far (JSON list)
CONNECT ADDR:PORT  a tunnel, as a proxy (loopback addresses only; a host
               name is refused with 403: the client must have resolved it)
"""
import ipaddress
import json
import os
import selectors
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count_lock = threading.Lock()
count = 0
connects = []


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        global count
        with count_lock:
            seen = count
            count += 1
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/hello":
            return self.send(200, b"hello")
        if url.path == "/connects":
            with count_lock:
                return self.send(200, json.dumps(connects).encode())
        if url.path == "/count":
            return self.send(200, str(seen).encode())
        if url.path == "/echo":
            hdrs = {k.lower(): v for k, v in self.headers.items()}
            return self.send(200, body, [("X-Method", self.command),
                                         ("X-Headers", json.dumps(hdrs, sort_keys=True)),
                                         ("X-Requests", str(seen))])
        if url.path == "/bytes":
            n = int(q.get("n", "0"))
            data = bytes(i % 251 for i in range(n))
            if q.get("chunked"):
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(0, n, 65536):
                    part = data[i:i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.write(b"0\r\n\r\n")
                return None
            return self.send(200, data)
        if url.path == "/redirect":
            return self.send(int(q.get("code", "302")), b"", [("Location", q["to"])])
        if url.path == "/loop":
            return self.send(302, b"", [("Location", "/loop")])
        if url.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "20")
            self.end_headers()
            try:
                for _ in range(20):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
            return None
        if url.path == "/json":
            doc = {"city": "Lyon", "readings": [{"hour": h, "celsius": 10 + h % 7}
                                                  for h in range(6)]}
            return self.send(200, json.dumps(doc).encode(),
                             [("Content-Type", "application/json")])
        return self.send(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def do_CONNECT(self):
        with count_lock:
            connects.append(self.path)
        host, _, port = self.path.rpartition(":")
        try:
            addr = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return self.send(403, b"a name: the proxy would resolve it")
        if not addr.is_loopback:
            return self.send(403, b"not a loopback address")
        try:
            upstream = socket.create_connection((str(addr), int(port)), timeout=10)
        except OSError:
            return self.send(502, b"cannot connect")
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        sel = selectors.DefaultSelector()
        sel.register(self.connection, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, self.connection)
        with upstream:
            while True:
                events = sel.select(timeout=30)
                if not events:
                    return
                for key, _ in events:
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up (cancelled transfers) are expected


def main():
    args = sys.argv[1:]
    lifetime = 120.0
    tls = None
    while args:
        a = args.pop(0)
        if a == "--tls":
            tls = (args.pop(0), args.pop(0))
        elif a == "--lifetime":
            lifetime = float(args.pop(0))
    server = Server(("127.0.0.1", 0), Handler)
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    time.sleep(lifetime)
    os._exit(0)


if __name__ == "__main__":
    main()
