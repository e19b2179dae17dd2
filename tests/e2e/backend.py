#!/usr/bin/python3
"""
backend.py: a scripted HTTP/1.1 origin server for portico's end-to-end tests
and demo.

Usable as a module (Backend(name).start() runs it on threads in the calling
process; tests read .requests and .connections directly) or as a script:

    /usr/bin/python3 tests/e2e/backend.py --port 9001 --name b1

It is written on raw sockets, so it controls every byte it sends (including
deliberately invalid responses). One thread per connection; keep-alive and
pipelining are supported; HTTP/1.0 clients get the connection closed unless
they ask for keep-alive. Request bodies are always read (Content-Length or
chunked) before the response is written; "Expect: 100-continue" is answered
with an interim 100 first.

Every request is recorded, before its response is sent, as a dict:
    {"backend", "conn_id", "method", "target", "version",
     "headers": [[name, value], ...], "body_length", "body_sha256",
     "tls", "sni", "tls_resumed"}

Backend(name, tls=(certfile, keyfile)) serves HTTPS instead: accepted
connections are wrapped with ssl (a failed handshake just closes the
connection); records then say "tls": true, "sni": the server name the
client sent (None without SNI) and "tls_resumed": whether the handshake
resumed an earlier session. Plain backends record "tls": false.

Setting .delay_ms makes every response of this backend wait that long
first (on top of /slow/MS): a slow server for balancing tests.

Every response carries "X-Backend: NAME", "Server: secret-backend" and
"X-Powered-By: php" (to test header hiding), and Content-Length unless the
endpoint says otherwise.

Endpoints (the query string is ignored unless noted; any method):
    /headers            200 JSON of the request record (what reached us)
    /bytes/N            N deterministic bytes (see pattern()), Content-Length
    /chunked/N          the same N bytes, Transfer-Encoding: chunked, chunks of
                        varied sizes
    /close/N            the same N bytes, no Content-Length nor
                        Transfer-Encoding: delimited by closing the connection
    /upload             200 JSON {"backend", "length", "sha256"} of the body
    /status/N           status N; body "status N\\n" except for 1xx, 204, 304
                        (no body, no Content-Length)
    /slow/MS            sleeps MS milliseconds, then the default answer
    /drip/N/MS          head at once (Content-Length N), then the N bytes of
                        pattern() in 10 pieces spread over MS milliseconds
    /interim            an interim "103 Early Hints", then the default answer
    /respond-headers?A=1&B=2
                        200, with the query's pairs added as response headers
    /conns              200 JSON {"backend", "connections", "requests"}:
                        TCP connections accepted and requests seen
    /requests           200 JSON list of every request record so far
    /reset              forgets the records and counters (answers 200)
    /invalid/status     invalid status line ("HTTP/1.1 2x0 OK"), then close
    /invalid/garbage    not HTTP at all, then close
    /invalid/cl-conflict  two different Content-Length values, then close
    /invalid/cl-bad     Content-Length: abc, then close
    /invalid/bad-chunk  a chunked 200 whose second chunk size is "zz", then close
    /invalid/truncated  Content-Length: 100 but 5 bytes, then close
    /invalid/cl-te      a 200 with both Content-Length and Transfer-Encoding,
                        then close
    /extra              a valid 200 (Content-Length: 5, "hello") immediately
                        followed, in the same write, by the bytes of a whole
                        second response nobody asked for ("X-Smuggled: 1",
                        body "smuggled"); the connection stays open and
                        serves the next request as usual
    /extra/chunked      the same with a chunked "hello" before the extra bytes
    /abort/N/K          head with Content-Length N, the first K bytes of
                        pattern(N), then the connection is reset (RST)
    anything else       200 text/plain "NAME\\n"
HEAD gets the headers GET would get (same Content-Length or
Transfer-Encoding) and no body.
"""

import argparse
import hashlib
import json
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

__all__ = ["Backend", "pattern", "iter_pattern", "pattern_sha256"]

# --- deterministic body bytes -------------------------------------------------

_BLOCK_LEN = 65521  # prime, so a shifted or reordered piece changes the hash
_BLOCK = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest()
                  for i in range(_BLOCK_LEN // 32 + 1))[:_BLOCK_LEN]
_PIECE = 1 << 20
_WIDE = _BLOCK * (_PIECE // _BLOCK_LEN + 2)  # any PIECE-long window of the cycle


def iter_pattern(n, piece=_PIECE):
    """Yields the n deterministic bytes in pieces of at most `piece` bytes."""
    piece = min(piece, _PIECE)
    off = 0
    while off < n:
        k = min(piece, n - off)
        s = off % _BLOCK_LEN
        yield _WIDE[s:s + k]
        off += k


def pattern(n):
    """The n deterministic bytes that /bytes/N, /chunked/N and /close/N send."""
    return b"".join(iter_pattern(n))


_sha_cache = {}


def pattern_sha256(n):
    """Hex sha256 of pattern(n)."""
    if n not in _sha_cache:
        h = hashlib.sha256()
        for p in iter_pattern(n):
            h.update(p)
        _sha_cache[n] = h.hexdigest()
    return _sha_cache[n]


_CHUNK_SIZES = (1, 1000, 65536, 7, 300000, 4096)

_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 304: "Not Modified",
    400: "Bad Request", 404: "Not Found", 418: "I'm a teapot",
    500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


class _Closed(Exception):
    pass


def _server_tls_context(certfile, keyfile):
    """A server context that notes the SNI name on the connection."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)

    def on_sni(conn, name, _ctx):
        conn.sni_name = name

    ctx.sni_callback = on_sni
    return ctx


class _Reader:
    """Buffered reads from a socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise _Closed()
        self.buf += data

    def line(self, limit=1 << 20):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                out = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return out
            if len(self.buf) > limit:
                raise _Closed()
            self._fill()

    def read_into(self, n, sink):
        """Reads exactly n bytes, passing them to sink(bytes)."""
        while n > 0:
            if not self.buf:
                self._fill()
            k = min(n, len(self.buf))
            sink(bytes(self.buf[:k]))
            del self.buf[:k]
            n -= k


class Backend:
    """One backend server. start() returns self; stop() closes everything."""

    def __init__(self, name="b1", host="127.0.0.1", port=0, tls=None):
        self.name = name
        self.host = host
        self.port = port
        self.tls = tls          # (certfile, keyfile): serve HTTPS
        self._tls_context = None
        self.requests = []      # request records, in arrival order
        self.max_records = None # keep only the last N (long runs), None = all
        self.connections = 0    # TCP connections accepted
        self.delay_ms = 0       # added before every response (a slow server)
        self.lock = threading.Lock()
        self._listener = None
        self._open = set()
        self._stopping = False
        self._thread = None

    # -- control --

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def start(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(512)
        self.port = s.getsockname()[1]
        self._listener = s
        if self.tls:
            self._tls_context = _server_tls_context(*self.tls)
        self._thread = threading.Thread(target=self._accept_loop,
                                        name="backend-" + self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping = True
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
        with self.lock:
            socks = list(self._open)
        for c in socks:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)

    def reset(self):
        with self.lock:
            self.requests = []
            self.connections = 0

    def wait_requests(self, n, timeout=5.0):
        """Waits until at least n requests were recorded; returns the records."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.01)
        with self.lock:
            return list(self.requests)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- serving --

    def _accept_loop(self):
        while not self._stopping:
            try:
                c, _ = self._listener.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                conn_id = self.connections
                self._open.add(c)
            threading.Thread(target=self._serve, args=(c, conn_id),
                             daemon=True).start()

    def _secure(self, sock):
        """Wraps an accepted socket in TLS when this backend serves HTTPS;
        returns the socket to use and what records say about it."""
        if self._tls_context is None:
            return sock, {"tls": False, "sni": None, "tls_resumed": False}
        sock.settimeout(10)  # a client that never finishes the handshake
        tls_sock = self._tls_context.wrap_socket(sock, server_side=True)
        tls_sock.settimeout(None)
        with self.lock:
            self._open.discard(sock)
            self._open.add(tls_sock)
        return tls_sock, {"tls": True, "sni": getattr(tls_sock, "sni_name", None),
                          "tls_resumed": tls_sock.session_reused}

    def _serve(self, sock, conn_id):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock, conn_info = self._secure(sock)
            r = _Reader(sock)
            while not self._stopping:
                if not self._one(sock, r, conn_id, conn_info):
                    break
        except (_Closed, OSError, ValueError):
            pass
        finally:
            with self.lock:
                self._open.discard(sock)
            try:
                sock.close()
            except OSError:
                pass

    def _one(self, sock, r, conn_id, conn_info):
        """Serves one request; returns False when the connection must close."""
        line = r.line()
        while line in (b"\r\n", b"\n"):
            line = r.line()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3:
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
            return False
        method, target, version = parts
        headers = []
        while True:
            h = r.line().decode("latin-1").rstrip("\r\n")
            if h == "":
                break
            name, _, value = h.partition(":")
            headers.append([name, value.strip(" \t")])

        def get(n):
            n = n.lower()
            return [v for k, v in headers if k.lower() == n]

        conn_tokens = {t.strip().lower() for v in get("connection")
                       for t in v.split(",")}
        if version == "HTTP/1.0":
            keep = "keep-alive" in conn_tokens
        else:
            keep = "close" not in conn_tokens

        # body
        if [v for v in get("expect") if v.lower() == "100-continue"]:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        h = hashlib.sha256()
        length = [0]

        def sink(b):
            h.update(b)
            length[0] += len(b)

        te = ",".join(get("transfer-encoding")).lower()
        if "chunked" in te:
            while True:
                size_line = r.line().decode("latin-1").strip()
                size = int(size_line.split(";")[0], 16)
                if size == 0:
                    while r.line() not in (b"\r\n", b"\n"):
                        pass  # trailers
                    break
                r.read_into(size, sink)
                r.line()
        elif get("content-length"):
            r.read_into(int(get("content-length")[0]), sink)

        rec = {"backend": self.name, "conn_id": conn_id, "method": method,
               "target": target, "version": version, "headers": headers,
               "body_length": length[0], "body_sha256": h.hexdigest()}
        rec.update(conn_info)
        with self.lock:
            self.requests.append(rec)
            if self.max_records and len(self.requests) > self.max_records:
                del self.requests[:len(self.requests) - self.max_records]
        return self._respond(sock, rec, keep)

    def _head(self, status, extra, keep, framing):
        reason = _REASONS.get(status, "Status")
        lines = ["HTTP/1.1 %d %s" % (status, reason),
                 "Server: secret-backend", "X-Powered-By: php",
                 "X-Backend: " + self.name]
        lines += ["%s: %s" % kv for kv in extra]
        lines += framing
        if not keep:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _send(self, sock, rec, keep, status=200, body=b"",
              ctype="text/plain", extra=()):
        extra = list(extra)
        if ctype:
            extra.append(("Content-Type", ctype))
        nobody = status < 200 or status in (204, 304)
        framing = [] if nobody else ["Content-Length: %d" % len(body)]
        head = self._head(status, extra, keep, framing)
        if rec["method"] == "HEAD" or nobody:
            body = b""
        sock.sendall(head + body)
        return keep

    def _respond(self, sock, rec, keep):
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000.0)
        url = urllib.parse.urlsplit(rec["target"])
        path = url.path
        seg = path.strip("/").split("/")
        head_only = rec["method"] == "HEAD"

        def num(i):
            return int(seg[i]) if len(seg) > i and seg[i].isdigit() else 0

        if path == "/headers":
            return self._send(sock, rec, keep, body=json.dumps(rec).encode(),
                              ctype="application/json")
        if path == "/upload":
            body = json.dumps({"backend": self.name,
                               "length": rec["body_length"],
                               "sha256": rec["body_sha256"]}).encode()
            return self._send(sock, rec, keep, body=body,
                              ctype="application/json")
        if seg[0] == "bytes":
            n = num(1)
            sock.sendall(self._head(200, [("Content-Type",
                                           "application/octet-stream")],
                                    keep, ["Content-Length: %d" % n]))
            if not head_only:
                for p in iter_pattern(n):
                    sock.sendall(p)
            return keep
        if seg[0] == "chunked":
            n = num(1)
            sock.sendall(self._head(200, [("Content-Type",
                                           "application/octet-stream")],
                                    keep, ["Transfer-Encoding: chunked"]))
            if not head_only:
                data = memoryview(pattern(n))
                off, i = 0, 0
                while off < n:
                    k = min(_CHUNK_SIZES[i % len(_CHUNK_SIZES)], n - off)
                    sock.sendall(b"%x\r\n" % k + data[off:off + k] + b"\r\n")
                    off += k
                    i += 1
                sock.sendall(b"0\r\n\r\n")
            return keep
        if seg[0] == "close":
            n = num(1)
            sock.sendall(self._head(200, [("Content-Type",
                                           "application/octet-stream")],
                                    False, []))
            if not head_only:
                for p in iter_pattern(n):
                    sock.sendall(p)
            sock.shutdown(socket.SHUT_WR)
            return False
        if seg[0] == "status":
            st = num(1) or 200
            return self._send(sock, rec, keep, status=st,
                              body=b"status %d\n" % st)
        if seg[0] == "slow":
            time.sleep(num(1) / 1000.0)
            return self._send(sock, rec, keep,
                              body=(self.name + "\n").encode())
        if seg[0] == "drip":
            n, ms = num(1), num(2)
            sock.sendall(self._head(200, [("Content-Type",
                                           "application/octet-stream")],
                                    keep, ["Content-Length: %d" % n]))
            if not head_only:
                data = pattern(n)
                step = -(-n // 10) or 1
                for off in range(0, n, step):
                    time.sleep(ms / 10000.0)
                    sock.sendall(data[off:off + step])
            return keep
        if path == "/interim":
            sock.sendall(b"HTTP/1.1 103 Early Hints\r\n"
                         b"Link: </style.css>; rel=preload\r\n\r\n")
            return self._send(sock, rec, keep,
                              body=(self.name + "\n").encode())
        if path == "/respond-headers":
            pairs = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
            return self._send(sock, rec, keep, extra=pairs,
                              body=(self.name + "\n").encode())
        if path == "/conns":
            with self.lock:
                d = {"backend": self.name, "connections": self.connections,
                     "requests": len(self.requests)}
            return self._send(sock, rec, keep, body=json.dumps(d).encode(),
                              ctype="application/json")
        if path == "/requests":
            with self.lock:
                body = json.dumps(self.requests).encode()
            return self._send(sock, rec, keep, body=body,
                              ctype="application/json")
        if path == "/reset":
            self.reset()
            return self._send(sock, rec, keep, body=b"reset\n")
        if seg[0] == "invalid":
            kind = seg[1] if len(seg) > 1 else ""
            raw = {
                "status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nhi",
                "garbage": b"THIS IS NOT HTTP\r\n\r\n",
                "cl-conflict": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                               b"Content-Length: 6\r\n\r\nhello!",
                "cl-bad": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nhi",
                "bad-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n",
                "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
                "cl-te": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                         b"Transfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n",
            }.get(kind, b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
            return False
        if path in ("/extra", "/extra/chunked"):
            fake = (b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n"
                    b"X-Smuggled: 1\r\n\r\nsmuggled")
            if path == "/extra":
                framing, body = ["Content-Length: 5"], b"hello"
            else:
                framing = ["Transfer-Encoding: chunked"]
                body = b"5\r\nhello\r\n0\r\n\r\n"
            head = self._head(200, [("Content-Type", "text/plain")], keep,
                              framing)
            sock.sendall(head + (b"" if head_only else body) + fake)
            return keep
        if seg[0] == "abort":
            n, k = num(1), num(2)
            sock.sendall(self._head(200, [("Content-Type",
                                           "application/octet-stream")],
                                    keep, ["Content-Length: %d" % n]))
            if not head_only:
                sock.sendall(pattern(n)[:k])
            time.sleep(0.05)  # let the bytes leave before the reset
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
            return False      # closed by _serve: an RST with linger 0
        return self._send(sock, rec, keep, body=(self.name + "\n").encode())


def main(argv=None):
    ap = argparse.ArgumentParser(description="scripted HTTP/1.1 backend")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--name", default="b1")
    args = ap.parse_args(argv)
    b = Backend(args.name, args.host, args.port)
    b.max_records = 1000  # a long-running script must not grow without bound
    b.start()
    print("backend %s listening on %s" % (b.name, b.address), flush=True)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    while not done.wait(3600):
        pass
    b.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
