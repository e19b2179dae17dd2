"""
ws: a minimal WebSocket (RFC 6455) server and client on raw sockets, standard
library only, for the end-to-end tests of portico's tunnelling.

WsServer(name).start() runs on threads in the test process (a Backend whose
connections speak WebSocket). The last segment
of the request's path picks what it does (/echo, /a/echo and /a/echo?greet
all echo):
    /echo...       accepts (101 with Sec-WebSocket-Accept; the first offered
                   Sec-WebSocket-Protocol is chosen) and echoes every data
                   message with its opcode; answers ping with pong and a close
                   frame with the same close frame, then closes. Text commands:
                     "!close"  send a close frame (1000), then close the socket
                     "!drop"   close the socket without a close frame
                     "!reset"  reset the connection (RST)
                     "!flood N" send backend.pattern(N) in 64 KiB binary
                               messages, then one text message "flood done"
                   With ?greet in the target, a text message "hello" follows
                   the 101 in the same write.
    /refuse        200 text/plain "no websocket here\\n" (Content-Length), and
                   the connection stays open for further requests
    /bad-101       101 Switching Protocols without Upgrade nor Connection
    anything else  404
Every handshake request is recorded in .requests as {"target", "headers":
[(name, value)]}; every accepted connection in .conns as a WsServerConn whose
.ended (a threading.Event) is set once the connection is over for the server,
and .how says why: "eof" (the peer closed), "reset", "close-frame" (the peer
sent a close frame), or "server" (the server closed it on a command).

WsClient.connect(port, target, headers=...) does the handshake on a raw
socket (a helpers.Conn; masked frames, as a client must) and keeps the
answer's status and headers;
ws_request() sends a handshake without waiting for anything.
Every wait is bounded by the socket timeout.
"""

import base64
import hashlib
import os
import socket
import threading
import time

from backend import Backend, iter_pattern
from helpers import Conn, Incomplete, _Buf

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def apply_mask(data, key):
    n = len(data)
    if n == 0:
        return b""
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def encode_frame(opcode, payload, mask, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    m = 0x80 if mask else 0
    n = len(payload)
    if n < 126:
        head = bytes([b0, m | n])
    elif n < 65536:
        head = bytes([b0, m | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([b0, m | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + apply_mask(payload, key)


Closed = Incomplete  # the peer closed the connection (EOF, or a reset)


class _Reader(_Buf):
    """helpers' buffered reader on a socket, counting what it reads and
    noting a reset, plus the heads and frames of a WebSocket connection."""

    def __init__(self, sock):
        super().__init__(self._recv)
        self.sock = sock
        self.received = 0  # bytes read from the socket in all
        self.reset = False

    def _recv(self):
        try:
            d = self.sock.recv(262144)
        except ConnectionResetError:
            self.reset = True
            return b""
        self.received += len(d)
        return d

    def head(self):
        """Bytes up to and including the blank line ending an HTTP head."""
        while b"\r\n\r\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\r\n\r\n") + 4
        out = bytes(self.buf[:i])
        del self.buf[:i]
        return out

    def frame(self):
        """(fin, opcode, payload) of the next frame, unmasked."""
        b0, b1 = self.read(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(self.read(2), "big")
        elif n == 127:
            n = int.from_bytes(self.read(8), "big")
        key = self.read(4) if b1 & 0x80 else None
        payload = self.read(n)
        return bool(b0 & 0x80), b0 & 0x0F, apply_mask(payload, key) if key else payload

    def message(self):
        """(opcode, payload) of the next whole message or control frame."""
        fin, op, data = self.frame()
        parts = [data]
        while not fin:
            fin, _, data = self.frame()
            parts.append(data)
        return op, b"".join(parts)


def parse_head(raw):
    """(first line, [(name, value)]) of an HTTP head."""
    lines = raw.decode("latin-1").split("\r\n")
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name, value.strip()))
    return lines[0], headers


def header(headers, name, default=None):
    for k, v in headers:
        if k.lower() == name.lower():
            return v
    return default


# --- server ------------------------------------------------------------------

class WsServerConn:
    def __init__(self, sock):
        self.sock = sock
        self.ended = threading.Event()
        self.how = None

    def end(self, how):
        if self.how is None:
            self.how = how
        try:
            self.sock.close()
        except OSError:
            pass
        self.ended.set()


class WsServer(Backend):
    """Backend's listener, threads and stop(); its connections speak the
    endpoints above instead of Backend's."""

    def __init__(self, name="ws", host="127.0.0.1"):
        super().__init__(name, host)
        self.conns = []

    def stop(self):
        super().stop()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            c.end(c.how or "stopped")

    def wait_conns(self, n, timeout=5.0):
        """The first n accepted WebSocket connections (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.conns) >= n or time.monotonic() > deadline:
                    return list(self.conns[:n])
            time.sleep(0.02)

    def _serve(self, sock, conn_id):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(30)
        r = _Reader(sock)
        try:
            while self._http(sock, r):
                pass
        except (Closed, OSError):
            sock.close()
        finally:
            with self.lock:
                self._open.discard(sock)

    def _http(self, sock, r):
        """Serves one request; True when the connection serves another."""
        line, headers = parse_head(r.head())
        target = line.split(" ")[1]
        with self.lock:
            self.requests.append({"target": target, "headers": headers})
        endpoint = target.split("?")[0].rsplit("/", 1)[-1]
        if endpoint == "echo":
            self._accept(sock, r, headers, target)
            return False
        if endpoint == "refuse":
            body = b"no websocket here\n"
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"X-Backend: " + self.name.encode() +
                         b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            return True
        if endpoint == "bad-101":
            sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            sock.close()
            return False
        sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True

    def _accept(self, sock, r, headers, target):
        lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket",
                 "Connection: Upgrade", "Server: secret-ws",
                 "X-Backend: " + self.name,
                 "Sec-WebSocket-Accept: " + accept_key(header(headers, "Sec-WebSocket-Key", ""))]
        offered = header(headers, "Sec-WebSocket-Protocol")
        if offered:
            lines.append("Sec-WebSocket-Protocol: " + offered.split(",")[0].strip())
        out = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if "greet" in target:
            out += encode_frame(OP_TEXT, b"hello", mask=False)
        conn = WsServerConn(sock)
        with self.lock:
            self.conns.append(conn)
        sock.sendall(out)
        try:
            self._echo(conn, r)
        except Closed:
            conn.end("reset" if r.reset else "eof")
        except OSError:
            conn.end("reset")

    def _echo(self, conn, r):
        sock = conn.sock
        while True:
            op, data = r.message()
            if op == OP_CLOSE:
                conn.how = "close-frame"
                sock.sendall(encode_frame(OP_CLOSE, data, mask=False))
                conn.end("close-frame")
                return
            if op == OP_PING:
                sock.sendall(encode_frame(OP_PONG, data, mask=False))
            elif op == OP_TEXT and data.startswith(b"!"):
                if self._command(conn, data.decode()):
                    return
            elif op in (OP_TEXT, OP_BINARY):
                sock.sendall(encode_frame(op, data, mask=False))

    def _command(self, conn, cmd):
        """Runs a "!..." command; True when the connection is over."""
        sock = conn.sock
        if cmd == "!close":
            sock.sendall(encode_frame(OP_CLOSE, (1000).to_bytes(2, "big"), mask=False))
            conn.end("server")
            return True
        if cmd == "!drop":
            conn.end("server")
            return True
        if cmd == "!reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            conn.end("server")
            return True
        if cmd.startswith("!flood "):
            for piece in iter_pattern(int(cmd.split()[1]), 65536):
                sock.sendall(encode_frame(OP_BINARY, piece, mask=False))
            sock.sendall(encode_frame(OP_TEXT, b"flood done", mask=False))
        return False


# --- client ------------------------------------------------------------------

def ws_request(target="/echo", host="test.local", headers=(), key=None):
    """The bytes of a WebSocket handshake (GET, Upgrade, Connection, key)."""
    key = key or base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % target, "Host: " + host]
    names = {k.lower() for k, _ in headers}
    if "upgrade" not in names:
        lines.append("Upgrade: websocket")
    if "connection" not in names:
        lines.append("Connection: Upgrade")
    lines += ["Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
    lines += ["%s: %s" % kv for kv in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


class WsClient(Conn):
    """A helpers.Conn that speaks WebSocket once connect() did the handshake."""

    def __init__(self, port, timeout=5.0):
        super().__init__(port, timeout=timeout)
        self.r = _Reader(self.sock)
        self.status, self.headers, self.key = 0, [], None

    @classmethod
    def connect(cls, port, target="/echo", headers=(), timeout=5.0, first=b""):
        """Handshake through port; first: bytes sent in the same write as the
        handshake (e.g. a frame before the 101 arrived). The handshake's
        answer is in .status/.headers whatever it is."""
        c = cls(port, timeout)
        req, c.key = ws_request(target, headers=headers)
        c.send(req + first)
        line, c.headers = parse_head(c.r.head())
        c.status = int(line.split(" ")[1])
        return c

    def header(self, name, default=None):
        return header(self.headers, name, default)

    def accepted(self):
        return (self.status == 101 and
                self.header("Sec-WebSocket-Accept") == accept_key(self.key))

    def send_frame(self, op, data):
        self.send(encode_frame(op, data, mask=True))

    def send_text(self, text):
        self.send_frame(OP_TEXT, text.encode())

    def send_binary(self, data):
        self.send_frame(OP_BINARY, data)

    def recv(self):
        """(opcode, payload) of the next message; raises Closed at EOF."""
        return self.r.message()

    def closed(self, timeout=5.0):
        """True if the connection ends (EOF or reset) within timeout with
        nothing more than close frames; raises if data arrives."""
        self.sock.settimeout(timeout)
        try:
            while True:
                op, data = self.r.message()
                if op != OP_CLOSE:
                    raise AssertionError("unexpected message %r %r" % (op, data[:100]))
        except Closed:
            return True
        except socket.timeout:
            return False
