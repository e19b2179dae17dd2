"""
helpers: what the end-to-end tests share besides fixtures.

- free_port(): a free loopback TCP port (bind port 0, close, reuse).
- yaml_dump(obj): a block-style YAML rendering of dicts/lists/scalars, so tests
  can build configurations as Python data.
- Conn / Response / parse_responses / exchange / get: a raw-socket HTTP/1.1
  client that shows exactly what portico sent (status line, header pairs,
  framing, whether the connection was closed).
- Portico: one portico process with its stdout/stderr captured to files.
- curl(): runs curl with proxies disabled and a bounded time.

Every wait here is bounded.
"""

import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def portico_bin():
    p = Path(os.environ.get("PORTICO_BIN", "build/release/portico"))
    return p if p.is_absolute() else REPO / p


def test_workers():
    """Worker count for generated configs: $PORTICO_TEST_WORKERS, default 1."""
    return int(os.environ.get("PORTICO_TEST_WORKERS", "1"))


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- YAML --------------------------------------------------------------------

_PLAIN = re.compile(r"^[A-Za-z0-9_/][A-Za-z0-9_./:@+-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_NUMERIC = re.compile(r"^[-+]?[0-9._]+([eE][-+]?[0-9]+)?$")


def _scalar(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, (int, float)):
        return str(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _RESERVED and not _NUMERIC.match(s):
        return s
    return json.dumps(s)


def _key(k):
    k = str(k)
    return k if re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", k) else json.dumps(k)


def yaml_dump(obj, indent=0):
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:" % (pad, _key(k)))
                out.append(yaml_dump(v, indent + 2))
            elif isinstance(v, dict):
                out.append("%s%s: {}" % (pad, _key(k)))
            elif isinstance(v, list):
                out.append("%s%s: []" % (pad, _key(k)))
            else:
                out.append("%s%s: %s" % (pad, _key(k), _scalar(v)))
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                sub = yaml_dump(v, indent + 2)
                out.append(pad + "- " + sub[indent + 2:])
            else:
                out.append("%s- %s" % (pad, _scalar(v) if not isinstance(v, (dict, list))
                                       else ("{}" if isinstance(v, dict) else "[]")))
    else:
        out.append(pad + _scalar(obj))
    return "\n".join(out)


def make_config(port, upstreams=None, routes=None, **top):
    """A configuration dict: one listener on 127.0.0.1:port, workers 1 (or
    $PORTICO_TEST_WORKERS, which `make e2e-tsan` sets to 2).

    upstreams: {name: [Backend or "host:port" or {"address":..., "weight":...}]}
               or {name: {full upstream dict}}.
    routes: defaults to one catch-all route to the first upstream.
    Other keyword arguments become top-level keys (limits=..., security=...).
    """
    cfg = {"workers": test_workers(),
           "listeners": [{"name": "web", "address": "%s:%d" % (HOST, port)}]}
    ups = {}
    for name, spec in (upstreams or {}).items():
        if isinstance(spec, dict):
            ups[name] = spec
            continue
        servers = []
        for s in spec:
            if isinstance(s, dict):
                servers.append(s)
            elif isinstance(s, str):
                servers.append({"address": s})
            else:
                servers.append({"address": s.address})
        ups[name] = {"servers": servers}
    if ups:
        cfg["upstreams"] = ups
    if routes is None and ups:
        routes = [{"match": {"path_prefix": "/"}, "upstream": next(iter(ups))}]
    if routes:
        cfg["routes"] = routes
    cfg.update(top)
    return cfg


# --- raw HTTP ----------------------------------------------------------------

class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []      # [(name, value)] as received
        self.body = b""
        self.chunked = False   # framing used by the sender
        self.content_length = None
        self.close_delimited = False

    def header(self, name, default=None):
        """The first value of header `name` (case-insensitive), or default."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def json(self):
        return json.loads(self.body)

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %r headers=%r body=%r>" % (
            self.status, self.reason, self.headers, self.body[:200])


class Incomplete(Exception):
    pass


class _Buf:
    """Reads from a recv callable (returns b"" at EOF) with a deadline."""

    def __init__(self, recv, data=b""):
        self.recv = recv
        self.buf = bytearray(data)
        self.eof = False

    def fill(self):
        if self.eof:
            raise Incomplete("connection closed")
        d = self.recv()
        if not d:
            self.eof = True
            raise Incomplete("connection closed")
        self.buf += d

    def line(self):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return out
            self.fill()

    def read(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_all(self):
        while True:
            try:
                self.fill()
            except Incomplete:
                break
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _read_response(b, method="GET"):
    r = Response()
    line = b.line()
    m = re.match(rb"^(HTTP/\d\.\d) (\d{3})(?: ([^\r\n]*))?\r?\n$", line)
    if not m:
        raise ValueError("bad status line %r" % line)
    r.version = m.group(1).decode()
    r.status = int(m.group(2))
    r.reason = (m.group(3) or b"").decode("latin-1")
    while True:
        h = b.line()
        if h in (b"\r\n", b"\n"):
            break
        name, _, value = h.decode("latin-1").rstrip("\r\n").partition(":")
        r.headers.append((name, value.strip(" \t")))
    if method == "HEAD" or r.status < 200 or r.status in (204, 304):
        return r
    te = ",".join(r.header_all("transfer-encoding")).lower()
    if "chunked" in te:
        r.chunked = True
        parts = []
        while True:
            size = int(b.line().split(b";")[0].strip(), 16)
            if size == 0:
                while b.line() not in (b"\r\n", b"\n"):
                    pass
                break
            parts.append(b.read(size))
            b.line()
        r.body = b"".join(parts)
    elif r.has("content-length"):
        r.content_length = int(r.header("content-length"))
        r.body = b.read(r.content_length)
    else:
        r.close_delimited = True
        r.body = b.read_all()
    return r


def parse_responses(data, methods=None):
    """Parses every complete response in data (bytes read until close).

    methods: the request methods in order (to know which were HEAD).
    Interim 1xx responses are included in the list."""
    b = _Buf(lambda: b"", data)
    b.eof = True
    out = []
    i = 0
    while b.buf:
        if b.buf.lstrip(b"\r\n") == b"":
            break
        method = methods[i] if methods and i < len(methods) else "GET"
        try:
            r = _read_response(b, method)
        except Incomplete:
            break
        out.append(r)
        if r.status >= 200:
            i += 1
    return out


def build_request(method, target, headers=None, body=None, host="test.local",
                  version="HTTP/1.1"):
    """Request bytes. headers: list of pairs or dict; Host is added first unless
    host is None or headers has one; Content-Length is added for a body unless
    headers set Content-Length or Transfer-Encoding."""
    if isinstance(headers, dict):
        headers = list(headers.items())
    headers = list(headers or [])
    names = {k.lower() for k, _ in headers}
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None and "host" not in names:
        lines.append("Host: " + host)
    lines += ["%s: %s" % (k, v) for k, v in headers]
    if body is not None and not names & {"content-length", "transfer-encoding"}:
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return data + (body or b"")


class Conn:
    """One client connection to portico (or any server)."""

    def __init__(self, port, host=HOST, timeout=5.0):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.b = _Buf(self._recv)

    def _recv(self):
        try:
            return self.sock.recv(262144)
        except ConnectionResetError:
            return b""

    def send(self, data):
        self.sock.sendall(data)

    def request(self, method="GET", target="/", headers=None, body=None,
                host="test.local", version="HTTP/1.1"):
        self.send(build_request(method, target, headers, body, host, version))

    def response(self, method="GET", interim=False):
        """Reads one response. Skips 1xx interim responses unless interim."""
        while True:
            r = _read_response(self.b, method)
            if r.status >= 200 or interim:
                return r

    def roundtrip(self, method="GET", target="/", headers=None, body=None,
                  host="test.local", version="HTTP/1.1"):
        self.request(method, target, headers, body, host, version)
        return self.response(method)

    def closed(self, timeout=2.0):
        """True if the peer closes (EOF or reset) within timeout with no more
        data; False if it stays open. Raises if unexpected bytes arrive."""
        if self.b.buf:
            raise AssertionError("unexpected bytes: %r" % bytes(self.b.buf[:200]))
        self.sock.settimeout(timeout)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True
        finally:
            self.sock.settimeout(self.timeout)
        if d:
            raise AssertionError("unexpected bytes: %r" % d[:200])
        return True

    def read_until_close(self):
        """Everything until EOF (raises socket.timeout if it stays open)."""
        return self.b.read_all()

    def readable(self, timeout=0):
        return bool(self.b.buf) or bool(select.select([self.sock], [], [], timeout)[0])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def exchange(port, data, timeout=5.0, shut_wr=False):
    """Sends data on a new connection and reads until the peer closes or
    timeout. Returns (bytes, closed): closed is False on timeout."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    deadline = time.monotonic() + timeout
    out = bytearray()
    closed = False
    try:
        try:
            s.sendall(data)
            if shut_wr:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not d:
                closed = True
                break
            out += d
    finally:
        s.close()
    return bytes(out), closed


def get(port, target="/", headers=None, method="GET", body=None,
        host="test.local", timeout=5.0, version="HTTP/1.1"):
    """One request on a fresh connection; returns the Response."""
    with Conn(port, timeout=timeout) as c:
        return c.roundtrip(method, target, headers, body, host, version)


# --- processes ---------------------------------------------------------------

def clean_env():
    env = dict(os.environ)
    for k in list(env):
        if k.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            del env[k]
    return env


def curl(*args, timeout=60):
    """Runs curl quietly; returns CompletedProcess with bytes stdout/stderr."""
    cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(timeout)]
    cmd += [str(a) for a in args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout + 10,
                          env=clean_env())


def wait_port(port, timeout=10.0, proc=None):
    """Waits until HOST:port accepts connections. Returns True/False."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


class Portico:
    """One portico process, output captured to files in workdir."""

    _seq = 0

    def __init__(self, args, workdir, port=None):
        Portico._seq += 1
        self.args = [str(a) for a in args]
        self.workdir = Path(workdir)
        self.port = port
        n = Portico._seq
        self.stdout_path = self.workdir / ("portico-%d.stdout" % n)
        self.stderr_path = self.workdir / ("portico-%d.stderr" % n)
        self.proc = None
        self.expect_exit = False   # set when a test stops or expects an exit

    def start(self, wait=True, timeout=10.0):
        binary = portico_bin()
        if not binary.exists():
            raise AssertionError("portico binary not found: %s (set PORTICO_BIN)"
                                 % binary)
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen([str(binary)] + self.args, cwd=self.workdir,
                                     stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, env=clean_env())
        if wait and self.port is not None:
            if not wait_port(self.port, timeout, self.proc):
                rc = self.proc.poll()
                self.kill()
                raise AssertionError(
                    "portico did not accept on port %d within %.0fs (exit %r)\n"
                    "--- stderr ---\n%s\n--- stdout ---\n%s"
                    % (self.port, timeout, rc, self.stderr(), self.stdout()))
        return self

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.port)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Waits for exit; returns the exit code or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Signals and waits; SIGKILL after timeout. Returns (code, killed)."""
        self.expect_exit = True
        if self.proc.poll() is not None:
            return self.proc.returncode, False
        self.proc.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
            return self.proc.returncode, True
        return rc, False

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def stdout(self):
        try:
            return self.stdout_path.read_text(errors="replace")
        except OSError:
            return ""

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def close_files(self):
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f:
                f.close()


def run_portico(*args, timeout=10, cwd=None):
    """Runs portico to completion (for -t, --help, ...); CompletedProcess (text)."""
    return subprocess.run([str(portico_bin())] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=clean_env(), stdin=subprocess.DEVNULL)


# --- process and thread helpers ---------------------------------------------

def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def in_background(fn, *args, **kw):
    """Runs fn in a thread; returns (thread, result dict with "value"/"error")."""
    res = {}

    def run():
        try:
            res["value"] = fn(*args, **kw)
        except Exception as e:  # noqa: BLE001 - reported by the test
            res["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, res
