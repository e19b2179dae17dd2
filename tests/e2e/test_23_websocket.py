"""PRODUCT.md §2 `routes[].websocket`: a WebSocket handshake (HTTP/1.1 GET,
`Upgrade: websocket`, `Connection: upgrade`) is forwarded with its Upgrade,
and a 101 from the server turns both connections into a tunnel until either
side closes, `limits.idle_timeout` passes without a byte, or portico stops.
`websocket: false` refuses handshakes with 403; a 101 to anything but a
handshake is an invalid response (502).

The server is ws.py's scripted WebSocket server (and, once, the `websockets`
library's, with its client, to show a real implementation is content with
what portico forwards). Every wait is bounded."""

import asyncio
import hashlib
import json
import os
import signal
import threading
import time

import pytest

from backend import pattern_sha256
from helpers import Conn, free_port, get, make_config, rss_kib
from ws import OP_BINARY, OP_CLOSE, OP_TEXT, WsClient, WsServer, encode_frame, ws_request


@pytest.fixture
def ws_server():
    s = WsServer("ws1").start()
    yield s
    s.stop()


def start(start_portico, server, routes=None, **top):
    return start_portico(make_config(free_port(), {"ws": [server.address]}, routes=routes, **top))


def sha(data):
    return hashlib.sha256(data).hexdigest()


def read_log(path, want, timeout=3.0):
    """JSON access log records, once want(records) holds or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            recs = [json.loads(line) for line in path.read_text().splitlines()]
        except FileNotFoundError:
            recs = []
        if want(recs) or time.monotonic() > deadline:
            return recs
        time.sleep(0.05)


# --- the tunnel ------------------------------------------------------------------

def test_echo_text_and_a_1mib_binary_message(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port) as c:
        assert c.accepted(), (c.status, c.headers)
        c.send_text("hello")
        assert c.recv() == (OP_TEXT, b"hello")
        data = os.urandom(1 << 20)
        c.send_binary(data)
        op, got = c.recv()
        assert op == OP_BINARY and len(got) == len(data) and sha(got) == sha(data)
        for i in range(50):
            c.send_text("m%d" % i)
        assert [c.recv()[1] for _ in range(50)] == [b"m%d" % i for i in range(50)]


def test_handshake_fields_both_ways(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port, headers=[
            ("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Protocol", "chat, superchat"),
            ("Sec-WebSocket-Extensions", "x-test-ext"),
            ("X-Request-Id", "ws-rid-1")]) as c:
        assert c.accepted(), (c.status, c.headers)
        assert c.header("Upgrade").lower() == "websocket"
        assert c.header("Connection").lower() == "upgrade"
        assert c.header("Sec-WebSocket-Protocol") == "chat"
        assert c.header("Server") == "portico", "backend Server header hidden, portico's set"
        assert c.header("X-Request-Id") == "ws-rid-1"
        assert c.header("Content-Length") is None and c.header("Transfer-Encoding") is None
        seen = ws_server.requests[0]["headers"]
    names = [k.lower() for k, _ in seen]
    got = {k.lower(): v for k, v in seen}
    assert names.count("upgrade") == 1 and got["upgrade"] == "websocket"
    assert names.count("connection") == 1 and got["connection"] == "upgrade"
    assert got["sec-websocket-key"] == c.key and got["sec-websocket-version"] == "13"
    assert got["sec-websocket-protocol"] == "chat, superchat"
    assert got["sec-websocket-extensions"] == "x-test-ext"
    assert got["x-forwarded-for"] == "127.0.0.1" and got["x-request-id"] == "ws-rid-1"


def test_websocket_among_several_upgrade_tokens(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port, headers=[("Upgrade", "foo/2, websocket"),
                                           ("Connection", "Upgrade, keep-alive")]) as c:
        assert c.accepted(), (c.status, c.headers)
        c.send_text("x")
        assert c.recv() == (OP_TEXT, b"x")
    got = {k.lower(): v for k, v in ws_server.requests[0]["headers"]}
    assert got["upgrade"] == "websocket", "only the protocol portico tunnels goes on"


def test_bytes_sent_along_with_either_head_cross(ws_server, start_portico):
    """A client frame written with the handshake, and a server frame written
    with the 101, are not lost between the heads and the tunnel."""
    p = start(start_portico, ws_server)
    early = encode_frame(OP_TEXT, b"early bird", mask=True)
    with WsClient.connect(p.port, "/echo?greet", first=early) as c:
        assert c.accepted()
        assert c.recv() == (OP_TEXT, b"hello")
        assert c.recv() == (OP_TEXT, b"early bird")


def test_a_slow_reader_holds_back_the_server(ws_server, start_portico):
    """48 MiB from the server while the client reads nothing for a second:
    portico's memory stays flat (back-pressure), and every byte arrives."""
    p = start(start_portico, ws_server)
    n = 48 << 20
    with WsClient.connect(p.port, timeout=20) as c:
        assert c.accepted()
        c.send_text("x")
        assert c.recv() == (OP_TEXT, b"x")
        before = rss_kib(p.proc.pid)
        c.send_text("!flood %d" % n)
        time.sleep(1.0)
        grown = rss_kib(p.proc.pid) - before
        assert grown < 16 * 1024, "portico grew by %d KiB while the client did not read" % grown
        h = hashlib.sha256()
        got = 0
        while True:
            op, data = c.recv()
            if op == OP_TEXT:
                break
            h.update(data)
            got += len(data)
        assert data == b"flood done" and got == n and h.hexdigest() == pattern_sha256(n)


# --- how a tunnel ends ----------------------------------------------------------

def test_client_closing_closes_the_server_side(ws_server, start_portico):
    p = start(start_portico, ws_server)
    c = WsClient.connect(p.port)
    c.send_text("x")
    assert c.recv() == (OP_TEXT, b"x")
    c.close()
    (conn,) = ws_server.wait_conns(1)
    assert conn.ended.wait(5), "the server's connection stayed open after the client left"
    assert conn.how == "eof"


def test_close_handshake_started_by_the_client(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port) as c:
        c.send_frame(OP_CLOSE, (1000).to_bytes(2, "big"))
        assert c.recv() == (OP_CLOSE, (1000).to_bytes(2, "big"))
        assert c.closed(5), "the server closed after the close handshake: so must portico"
    (conn,) = ws_server.wait_conns(1)
    assert conn.how == "close-frame"


@pytest.mark.parametrize("command", ["!close", "!drop", "!reset"])
def test_server_closing_closes_the_client(ws_server, start_portico, command):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port) as c:
        assert c.accepted()
        c.send_text(command)
        t0 = time.monotonic()
        assert c.closed(5), "the client connection stayed open after the server left"
        assert time.monotonic() - t0 < 3


def test_idle_tunnel_is_closed_after_idle_timeout(ws_server, start_portico):
    p = start(start_portico, ws_server, limits={"idle_timeout": "1s"})
    with WsClient.connect(p.port) as c:
        assert c.accepted()
        # traffic keeps it open well past one idle_timeout
        for i in range(6):
            c.send_text("ping %d" % i)
            assert c.recv() == (OP_TEXT, b"ping %d" % i)
            time.sleep(0.4)
        t0 = time.monotonic()
        assert c.closed(5), "an idle tunnel outlived idle_timeout"
        idle = time.monotonic() - t0
        assert 0.4 <= idle <= 3.0, idle
    (conn,) = ws_server.wait_conns(1)
    assert conn.ended.wait(5) and conn.how == "eof"


def test_stopping_portico_ends_tunnels_at_once(ws_server, start_portico):
    """A tunnel has no end of its own: a graceful stop closes it instead of
    waiting for drain_timeout."""
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port) as c:
        assert c.accepted()
        t0 = time.monotonic()
        rc, killed = p.stop(signal.SIGTERM, timeout=10)
        assert (rc, killed) == (0, False)
        assert time.monotonic() - t0 < 3
        assert c.closed(2)


# --- what is not a tunnel ---------------------------------------------------------

def test_websocket_false_refuses_the_handshake_with_403(ws_server, start_portico):
    p = start(start_portico, ws_server, routes=[
        {"match": {"path_prefix": "/no/"}, "upstream": "ws", "websocket": False},
        {"match": {"path_prefix": "/"}, "upstream": "ws"}])
    with WsClient.connect(p.port, "/no/echo") as c:
        assert c.status == 403
    assert ws_server.requests == [], "a refused handshake reached the server"
    assert get(p.port, "/no/refuse").status == 200, "plain requests on the route still pass"
    with WsClient.connect(p.port, "/echo") as c:
        assert c.accepted(), "another route keeps the default (websocket: true)"


def test_101_to_a_plain_request_is_502(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    assert get(p.port, "/status/101").status == 502
    assert get(p.port, "/status/200").status == 200


def test_101_without_upgrade_websocket_is_502(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with WsClient.connect(p.port, "/bad-101") as c:
        assert c.status == 502


def test_non_101_answer_to_a_handshake_is_relayed(ws_server, start_portico):
    p = start(start_portico, ws_server)
    with Conn(p.port) as c:
        c.send(ws_request("/refuse")[0])
        r = c.response()
        assert r.status == 200 and r.body == b"no websocket here\n"
        assert r.header("Upgrade") is None
        r = c.roundtrip("GET", "/refuse")
        assert r.status == 200, "the connection serves the next request as usual"


@pytest.mark.parametrize("method,version", [("POST", "HTTP/1.1"), ("GET", "HTTP/1.0")])
def test_upgrade_is_removed_from_what_is_not_a_handshake(backend, start_portico, method, version):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    r = get(p.port, "/headers", method=method, version=version,
            body=b"" if method == "POST" else None,
            headers=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                     ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
    assert r.status == 200
    seen = {k.lower() for k, _ in r.json()["headers"]}
    assert "upgrade" not in seen and "connection" not in seen


# --- the access log ---------------------------------------------------------------

def test_access_log_line_when_the_tunnel_ends(ws_server, start_portico, tmp_path):
    log = tmp_path / "access.log"
    p = start(start_portico, ws_server, access_log={"path": str(log), "format": "json"})
    with WsClient.connect(p.port, headers=[("User-Agent", "ws-test")]) as c:
        c.send_text("hi")
        assert c.recv() == (OP_TEXT, b"hi")
        time.sleep(0.3)
        assert read_log(log, bool, 0.5) == [], "logged before the tunnel ended"
        c.send_text("!close")
        assert c.closed(5)
        received = c.r.received
    recs = read_log(log, bool)
    assert len(recs) == 1, recs
    rec = recs[0]
    assert rec["status"] == 101 and rec["method"] == "GET" and rec["path"] == "/echo"
    assert rec["bytes_sent"] == received, "bytes_sent counts the 101 head and every frame"
    assert rec["upstream"] == ws_server.address and rec["user_agent"] == "ws-test"
    assert rec["duration_ms"] >= 300


# --- a real implementation on both ends ---------------------------------------------

def test_websockets_library_client_and_server(start_portico):
    websockets = pytest.importorskip("websockets")
    ready = threading.Event()
    state = {}

    async def echo(ws, path=None):
        async for message in ws:
            await ws.send(message)

    async def serve():
        state["loop"] = asyncio.get_running_loop()
        state["stop"] = asyncio.Event()
        async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
            state["port"] = server.sockets[0].getsockname()[1]
            ready.set()
            await state["stop"].wait()

    t = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    t.start()
    assert ready.wait(5)
    try:
        p = start_portico(make_config(free_port(), {"ws": ["127.0.0.1:%d" % state["port"]]}))
        data = os.urandom(1 << 20)

        async def client():
            async with websockets.connect("ws://127.0.0.1:%d/chat" % p.port,
                                          max_size=None, open_timeout=5) as ws:
                await ws.send("hello")
                text = await asyncio.wait_for(ws.recv(), 5)
                await ws.send(data)
                back = await asyncio.wait_for(ws.recv(), 10)
                return text, back

        text, back = asyncio.run(asyncio.wait_for(client(), 20))
        assert text == "hello" and sha(back) == sha(data)
    finally:
        state["loop"].call_soon_threadsafe(state["stop"].set)
        t.join(5)
