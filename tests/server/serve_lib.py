"""serve_lib.py - what the `wasmplug serve` tests share: a temporary store
with plugins installed through the CLI, a token file, a server started on a
free port of 127.0.0.1 (stopped at exit, bounded in time), an HTTP client
and the check helpers. Prints one line per check."""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

passed = 0
failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok   " + name)
    else:
        failed += 1
        print("FAIL " + name + ((": " + str(detail)[:600]) if detail else ""))
    sys.stdout.flush()
    return cond


def done():
    print("\n%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


class Env:
    """A temporary directory with a store, a data directory and a token."""

    def __init__(self, wasmplug):
        self.wasmplug = wasmplug
        self.dir = tempfile.mkdtemp(prefix="wasmplug-serve-test.")
        self.store = os.path.join(self.dir, "store")
        self.data = os.path.join(self.dir, "data")
        self.env = dict(os.environ)
        self.env["WASMPLUG_STORE"] = self.store
        self.env.pop("XDG_DATA_HOME", None)
        self.token = "t0k3n-" + os.urandom(16).hex()
        self.token_file = os.path.join(self.dir, "token")
        with open(self.token_file, "w") as f:
            f.write(self.token + "\n")
        os.chmod(self.token_file, 0o600)
        self.servers = []

    def cli(self, *args):
        return subprocess.run([self.wasmplug, *args], env=self.env, capture_output=True,
                              text=True, timeout=60)

    def install(self, manifest_text, wasm_path, module_name, *flags):
        """Install a plugin directory made of manifest_text and a module."""
        d = tempfile.mkdtemp(dir=self.dir)
        with open(os.path.join(d, "plugin.yaml"), "w") as f:
            f.write(manifest_text)
        shutil.copy(wasm_path, os.path.join(d, module_name))
        r = self.cli("install", d, "--yes", *flags)
        if r.returncode != 0:
            raise RuntimeError("install failed: " + r.stderr)
        return r

    def cleanup(self):
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Server:
    """wasmplug serve on 127.0.0.1 with a free port."""

    def __init__(self, env, *args, token=True, wait=True):
        self.env = env
        self.log = os.path.join(env.dir, "access-%d.log" % len(env.servers))
        self.errfile = open(os.path.join(env.dir, "stderr-%d" % len(env.servers)), "w+")
        cmd = [env.wasmplug, "serve", "--listen", "127.0.0.1:0", "--data-dir", env.data,
               "--access-log", self.log, *args]
        if token:
            cmd += ["--token-file", env.token_file]
        self.proc = subprocess.Popen(cmd, env=env.env, stdout=subprocess.PIPE,
                                     stderr=self.errfile, text=True)
        env.servers.append(self)
        self.port = None
        if wait:
            line = self.proc.stdout.readline()  # bounded by the test's CTest timeout
            if "listening on http://127.0.0.1:" not in line:
                raise RuntimeError("server did not start: %r %s" % (line, self.stderr()))
            self.port = int(line.rsplit(":", 1)[1])

    def stderr(self):
        self.errfile.flush()
        self.errfile.seek(0)
        return self.errfile.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def request(self, method, path, body=None, headers=None, token=True, timeout=30):
        """One request on a fresh connection: (status, headers dict, body bytes)."""
        h = dict(headers or {})
        if token is True:
            h["Authorization"] = "Bearer " + self.env.token
        elif token:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, str):
            body = body.encode()
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def json(self, method, path, body=None, **kw):
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        status, headers, data = self.request(method, path, body, **kw)
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, {"unparsed": data[:300]}


def wait_for(pred, seconds=30.0, step=0.05):
    end = time.time() + seconds
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()
