#!/usr/bin/env python3
"""A static HTTP server for the distribution tests (tests/dist).

    server.py ROOT PORT_FILE [LIFETIME_SECONDS]

Serves ROOT on 127.0.0.1 at a free port (written to PORT_FILE), honours
"Range: bytes=N-" (so clients can resume), and can cut transfers short:
when ROOT/../cut-once holds a request path, the next GET of that path
announces the full length but sends only half of the body, then closes
(the file is then emptied). Exits by itself after LIFETIME_SECONDS
(default 300) so a failed test never leaves it running.
"""
import http.server
import os
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the test prints what matters
        pass

    def do_GET(self):
        root = self.server.root
        path = self.path.split("?", 1)[0]
        full = os.path.realpath(os.path.join(root, path.lstrip("/")))
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            self.send_error(404)
            return
        with open(full, "rb") as f:
            data = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        body = data[start:]
        cut_file = os.path.join(os.path.dirname(root), "cut-once")
        cut = False
        if os.path.exists(cut_file):
            with open(cut_file) as f:
                cut = f.read().strip() == path
            if cut:
                open(cut_file, "w").close()
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        if cut:
            self.send_header("Connection", "close")
        self.end_headers()
        if cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


def main():
    root = os.path.realpath(sys.argv[1])
    lifetime = float(sys.argv[3]) if len(sys.argv) > 3 else 300.0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.root = root
    server.daemon_threads = True
    tmp = sys.argv[2] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(tmp, sys.argv[2])
    threading.Timer(lifetime, server.shutdown).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
