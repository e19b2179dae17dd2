"""PRODUCT.md §3: malformed requests and smuggling attempts, limits, upstream
failures, error page formats."""

import json
import time

import pytest

from helpers import Conn, exchange, free_port, get, make_config, parse_responses


@pytest.fixture
def proxy(backend, start_portico):
    return start_portico(make_config(free_port(), {"app": [backend]}))


def refused(port, data, status):
    """Sends data; asserts the first response has `status` and that portico
    then closes the connection. Returns the response."""
    out, closed = exchange(port, data, timeout=5)
    rs = parse_responses(out)
    assert rs, "no response at all (closed=%r): %r" % (closed, out[:300])
    assert rs[0].status == status, rs[0]
    assert len(rs) == 1, "more than one response: %r" % rs
    assert closed, "connection left open after %d" % status
    return rs[0]


H = b"Host: a\r\n"
MALFORMED = {
    "garbage request line": b"GARBAGE\r\n\r\n",
    "missing version": b"GET /\r\n" + H + b"\r\n",
    "bad version": b"GET / HTTX/1.1\r\n" + H + b"\r\n",
    "two spaces": b"GET  / HTTP/1.1\r\n" + H + b"\r\n",
    "space in target": b"GET /a b HTTP/1.1\r\n" + H + b"\r\n",
    "cl and te": b"POST /upload HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "te and cl": b"POST /upload HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
                 b"Content-Length: 5\r\n\r\n0\r\n\r\n",
    "duplicate cl differing": b"POST /upload HTTP/1.1\r\n" + H +
                              b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "duplicate cl same": b"POST /upload HTTP/1.1\r\n" + H +
                         b"Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    "cl list": b"POST /upload HTTP/1.1\r\n" + H + b"Content-Length: 5, 5\r\n\r\nhello",
    "cl not a number": b"POST /upload HTTP/1.1\r\n" + H + b"Content-Length: abc\r\n\r\n",
    "cl negative": b"POST /upload HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\n",
    "cl plus sign": b"POST /upload HTTP/1.1\r\n" + H + b"Content-Length: +5\r\n\r\nhello",
    "cl huge": b"POST /upload HTTP/1.1\r\n" + H +
               b"Content-Length: 99999999999999999999999\r\n\r\n",
    "te chunked not last": b"POST /upload HTTP/1.1\r\n" + H +
                           b"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
    "te chunked twice": b"POST /upload HTTP/1.1\r\n" + H +
                        b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
                        b"\r\n0\r\n\r\n",
    "bad chunk size": b"POST /upload HTTP/1.1\r\n" + H +
                      b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "chunk size overflow": b"POST /upload HTTP/1.1\r\n" + H +
                           b"Transfer-Encoding: chunked\r\n\r\n"
                           b"10000000000000000001\r\nhello\r\n0\r\n\r\n",
    "chunk data overruns size": b"POST /upload HTTP/1.1\r\n" + H +
                                b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
    "negative chunk size": b"POST /upload HTTP/1.1\r\n" + H +
                           b"Transfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
    "bare LF in chunked body": b"POST /upload HTTP/1.1\r\n" + H +
                               b"Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n",
    "obs-fold": b"GET / HTTP/1.1\r\n" + H + b"X-Folded: a\r\n  b\r\n\r\n",
    "space before colon": b"GET / HTTP/1.1\r\n" + H + b"X-Foo : a\r\n\r\n",
    "tab before colon": b"GET / HTTP/1.1\r\n" + H + b"X-Foo\t: a\r\n\r\n",
    "bare LF head": b"GET / HTTP/1.1\nHost: a\n\n",
    "bare LF inside": b"GET / HTTP/1.1\r\nHost: a\nX-Foo: b\r\n\r\n",
    "bare CR": b"GET / HTTP/1.1\r\nHost: a\rX-Foo: b\r\n\r\n",
    "control char in value": b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x01b\r\n\r\n",
    "NUL in value": b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x00b\r\n\r\n",
    "DEL in value": b"GET / HTTP/1.1\r\n" + H + b"X-Foo: a\x7fb\r\n\r\n",
    "control char in name": b"GET / HTTP/1.1\r\n" + H + b"X-F\x01oo: a\r\n\r\n",
    "no colon": b"GET / HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n",
    "empty name": b"GET / HTTP/1.1\r\n" + H + b": value\r\n\r\n",
    "missing host": b"GET / HTTP/1.1\r\n\r\n",
    "two hosts": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_request_400_and_close(proxy, backend, name):
    refused(proxy.port, MALFORMED[name], 400)
    assert not backend.requests, "a malformed request reached the backend"


def test_malformed_after_good_request_on_same_connection(proxy):
    data = b"GET /bytes/3 HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nX-Foo : b\r\n\r\n"
    out, closed = exchange(proxy.port, data)
    rs = parse_responses(out)
    assert [r.status for r in rs] == [200, 400]
    assert closed


@pytest.mark.parametrize("te", [b"gzip, chunked", b"deflate, chunked"])
def test_unknown_transfer_coding_501(proxy, backend, te):
    refused(proxy.port, b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: " + te +
            b"\r\n\r\n0\r\n\r\n", 501)
    assert not backend.requests


def test_smuggled_request_never_reaches_backend(proxy, backend):
    """The classic CL.TE attack: the hidden request must not be executed."""
    body = b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"
    data = (b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" % len(body)) + body
    exchange(proxy.port, data, timeout=2)
    time.sleep(0.2)
    assert not [r for r in backend.requests if "smuggled" in r["target"]]


def test_header_too_large_431(proxy):
    big = b"".join(b"X-Big-%d: %s\r\n" % (i, b"v" * 4000) for i in range(5))
    r = refused_or_closed(proxy.port, b"GET / HTTP/1.1\r\nHost: a\r\n" + big + b"\r\n")
    assert r.status == 431


def test_too_many_headers_431(proxy):
    many = b"".join(b"X-H-%d: v\r\n" % i for i in range(120))
    r = refused_or_closed(proxy.port, b"GET / HTTP/1.1\r\nHost: a\r\n" + many + b"\r\n")
    assert r.status == 431


def test_headers_under_limits_accepted(proxy):
    many = [("X-H-%d" % i, "v" * 100) for i in range(90)]
    assert get(proxy.port, "/", headers=many).status == 200


def test_uri_too_long_414(proxy):
    r = refused_or_closed(proxy.port, b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: a\r\n\r\n")
    assert r.status == 414


def refused_or_closed(port, data):
    """For limit errors: a response must come; the connection may stay open."""
    out, _ = exchange(port, data, timeout=5)
    rs = parse_responses(out)
    assert rs, "no response: %r" % out[:300]
    return rs[0]


def test_configured_header_limits(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"max_header_size": "2k", "max_headers": 10}))
    assert get(p.port, "/", headers=[("X-A", "v" * 1500)]).status == 200
    assert refused_or_closed(p.port, b"GET / HTTP/1.1\r\nHost: a\r\nX-A: " + b"v" * 3000 +
                             b"\r\n\r\n").status == 431
    assert get(p.port, "/", headers=[("X-%d" % i, "v") for i in range(8)]).status == 200
    many = b"".join(b"X-%d: v\r\n" % i for i in range(15))
    assert refused_or_closed(p.port, b"GET / HTTP/1.1\r\nHost: a\r\n" + many +
                             b"\r\n").status == 431
    assert refused_or_closed(p.port, b"GET /" + b"u" * 3000 +
                             b" HTTP/1.1\r\nHost: a\r\n\r\n").status == 414


def test_header_timeout_408(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"header_timeout": "1s"}))
    with Conn(p.port, timeout=6) as c:
        t0 = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
        time.sleep(0.5)
        c.send(b"X-Slow: 1\r\n")   # trickling does not extend the deadline
        r = c.response()
        elapsed = time.monotonic() - t0
        assert r.status == 408
        assert 0.8 <= elapsed <= 3, elapsed
        assert c.closed(2)
    assert not backend.requests


def test_upstream_down_502(start_portico):
    dead = free_port()
    p = start_portico(make_config(free_port(), {"app": ["127.0.0.1:%d" % dead]}))
    t0 = time.monotonic()
    r = get(p.port, "/")
    assert r.status == 502
    assert time.monotonic() - t0 < 3


def test_upstream_slow_504(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": {
        "servers": [{"address": backend.address}], "response_timeout": "500ms"}}))
    t0 = time.monotonic()
    r = get(p.port, "/slow/3000", timeout=6)
    elapsed = time.monotonic() - t0
    assert r.status == 504
    assert 0.4 <= elapsed < 2.5, elapsed
    # a fast request still works afterwards
    assert get(p.port, "/").status == 200


@pytest.mark.parametrize("kind", ["status", "garbage", "cl-conflict", "cl-bad"])
def test_invalid_upstream_response_502(proxy, kind):
    r = get(proxy.port, "/invalid/" + kind)
    assert r.status == 502, r
    assert get(proxy.port, "/").status == 200


def test_error_page_html_by_default(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/api/"}, "upstream": "app"}]))
    r = get(p.port, "/nowhere", headers=[("Accept", "text/html,*/*")])
    assert r.status == 404
    assert r.header("Content-Type", "").startswith("text/html")
    assert b"404" in r.body
    r = get(p.port, "/nowhere")
    assert r.header("Content-Type", "").startswith("text/html")


def test_error_page_json_when_asked(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/api/"}, "upstream": "app"}]))
    r = get(p.port, "/nowhere", headers=[("Accept", "application/json")])
    assert r.status == 404
    assert r.header("Content-Type", "").startswith("application/json")
    assert isinstance(json.loads(r.body), dict)
    assert "404" in r.text()
    r = refused(p.port, b"GET / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\n"
                b"X-Bad : x\r\n\r\n", 400)
    assert r.header("Content-Type", "").startswith("application/json")
    json.loads(r.body)


def test_502_page_json(start_portico):
    p = start_portico(make_config(free_port(), {"app": ["127.0.0.1:%d" % free_port()]}))
    r = get(p.port, "/", headers=[("Accept", "application/json")])
    assert r.status == 502
    assert r.header("Content-Type", "").startswith("application/json")
    json.loads(r.body)


def test_retry_get_on_connect_error_to_other_server(backend, start_portico):
    dead = "127.0.0.1:%d" % free_port()
    p = start_portico(make_config(free_port(), {"app": [dead, backend]}))
    got = [get(p.port, "/").status for _ in range(10)]
    assert got == [200] * 10, "an idempotent request was not retried on another server"


@pytest.mark.parametrize("kind", ["bad-chunk", "truncated"])
def test_broken_upstream_body_is_not_relayed_as_complete(proxy, kind):
    """Once the head was relayed, a broken upstream body must end the client
    connection without a clean end of message (or be a 502 if nothing was
    relayed yet): never a relayed guess."""
    out, closed = exchange(proxy.port, b"GET /invalid/%s HTTP/1.1\r\nHost: a\r\n\r\n"
                           % kind.encode())
    assert closed, "client connection kept open after a broken upstream body"
    rs = parse_responses(out)
    assert not rs or rs[0].status == 502, "a broken body relayed as complete: %r" % rs


def test_max_connections(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"max_connections": 2}))
    # the readiness probe's connection may not be reaped yet: retry, bounded
    deadline = time.monotonic() + 3
    while True:
        a, b = Conn(p.port), Conn(p.port)
        try:
            if a.roundtrip().status == 200 and b.roundtrip().status == 200:
                break
        except Exception:  # noqa: BLE001
            pass
        a.close()
        b.close()
        assert time.monotonic() < deadline, "two connections not served"
        time.sleep(0.1)
    try:
        with Conn(p.port) as c:
            try:
                c.request()
            except OSError:
                pass
            assert c.closed(3), "a connection over max_connections was served"
        b.close()
        deadline = time.monotonic() + 3
        while True:
            try:
                if get(p.port, "/").status == 200:
                    break
            except Exception:  # noqa: BLE001
                pass
            assert time.monotonic() < deadline, "no connection accepted after one closed"
            time.sleep(0.1)
    finally:
        a.close()
        b.close()


def test_client_aborts_do_not_hurt(proxy, backend):
    """Clients that vanish mid-request or mid-response leave portico serving."""
    import socket
    # mid-head, mid-body, mid-response download, during a slow upstream
    for data, wait in [(b"GET / HTTP/1.1\r\nHost: a\r\nX-Part", 0),
                       (b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
                        b"\r\n" + b"x" * 1000, 0.1),
                       (b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % (32 << 20), 0.2),
                       (b"GET /slow/500 HTTP/1.1\r\nHost: a\r\n\r\n", 0.1)]:
        s = socket.create_connection(("127.0.0.1", proxy.port))
        s.sendall(data)
        time.sleep(wait)
        if data.startswith(b"GET /bytes"):
            s.recv(1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()   # with an RST
    time.sleep(0.7)
    for _ in range(5):
        assert get(proxy.port, "/bytes/100").status == 200
    assert proxy.proc.poll() is None


def test_body_timeout_closes(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"body_timeout": "1s"}))
    with Conn(p.port, timeout=6) as c:
        t0 = time.monotonic()
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
        data = c.read_until_close()
        elapsed = time.monotonic() - t0
    assert 0.8 <= elapsed <= 3.5, elapsed
    rs = parse_responses(data)
    assert not rs or rs[0].status == 408, rs
    assert not backend.requests
