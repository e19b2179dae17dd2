"""Persistent connections: client keep-alive, pipelining, HTTP/1.0, idle
timeout, and the upstream connection pool."""

import time

import pytest

from backend import pattern
from helpers import Conn, curl, exchange, free_port, get, make_config, parse_responses


@pytest.fixture
def proxy(backend, start_portico):
    return start_portico(make_config(free_port(), {"app": [backend]}))


def test_several_requests_on_one_connection(proxy):
    with Conn(proxy.port) as c:
        for n in (1, 10, 100, 1000):
            r = c.roundtrip("GET", "/bytes/%d" % n)
            assert r.status == 200 and r.body == pattern(n)
        r = c.roundtrip("POST", "/upload", body=b"abc")
        assert r.json()["length"] == 3
        assert not c.closed(0.2)


def test_curl_reuses_the_connection(proxy):
    u = proxy.url
    r = curl("-o", "/dev/null", "-o", "/dev/null", "-o", "/dev/null",
             "-w", "%{http_code} %{num_connects}\n", u + "/a", u + "/b", u + "/c")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().split()
    assert lines[0::2] == ["200", "200", "200"]
    assert sum(int(x) for x in lines[1::2]) == 1, "curl had to reconnect: %r" % lines


def test_pipelining_in_order(proxy):
    data = (b"GET /slow/300 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /bytes/22 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nabcd"
            b"GET /bytes/33 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    out, closed = exchange(proxy.port, data, timeout=10)
    assert closed
    rs = parse_responses(out)
    assert [r.status for r in rs] == [200, 200, 200, 200], rs
    assert rs[0].body == b"b1\n"
    assert rs[1].body == pattern(22)
    assert rs[2].json()["length"] == 4
    assert rs[3].body == pattern(33)


def test_http10_closes_after_response(proxy, backend):
    out, closed = exchange(proxy.port, b"GET /bytes/10 HTTP/1.0\r\nHost: a\r\n\r\n")
    assert closed, "HTTP/1.0 connection left open"
    rs = parse_responses(out)
    assert len(rs) == 1 and rs[0].status == 200 and rs[0].body == pattern(10)
    assert backend.requests[-1]["version"] == "HTTP/1.1", "not HTTP/1.1 upstream"


def test_http10_without_host_is_accepted(proxy):
    out, closed = exchange(proxy.port, b"GET /bytes/10 HTTP/1.0\r\n\r\n")
    rs = parse_responses(out)
    assert rs[0].status == 200 and closed


def test_http10_keep_alive_requested(proxy):
    with Conn(proxy.port) as c:
        for _ in range(2):
            r = c.roundtrip("GET", "/bytes/10", version="HTTP/1.0",
                            headers=[("Connection", "keep-alive")])
            assert r.status == 200 and r.body == pattern(10)
            assert r.content_length == 10
        assert not c.closed(0.3)


def test_http11_connection_close(proxy):
    out, closed = exchange(proxy.port, b"GET / HTTP/1.1\r\nHost: a\r\n"
                                       b"Connection: close\r\n\r\n")
    assert closed
    rs = parse_responses(out)
    assert len(rs) == 1 and rs[0].status == 200


def test_idle_timeout_closes(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"idle_timeout": "1s"}))
    with Conn(p.port) as c:
        assert c.roundtrip().status == 200
        assert not c.closed(0.5)
        assert c.closed(3), "idle connection still open after idle_timeout"


def test_upstream_connections_are_reused(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    for i in range(50):
        assert get(p.port, "/x").status == 200   # a new client connection each
    assert len(backend.requests) == 50
    assert backend.connections <= 3, \
        "50 sequential requests opened %d upstream connections" % backend.connections


def test_upstream_keepalive_zero_disables_pool(backend, start_portico):
    p = start_portico(make_config(free_port(), {
        "app": {"servers": [{"address": backend.address}], "keepalive": 0}}))
    with Conn(p.port) as c:
        for i in range(10):
            assert c.roundtrip().status == 200
    assert backend.connections == 10


def test_upstream_close_delimited_then_next_request(proxy, backend):
    """An upstream connection that ended its response by closing is not
    reused; the next request still works."""
    with Conn(proxy.port) as c:
        r = c.roundtrip("GET", "/close/100")
        assert r.body == pattern(100)
        if r.close_delimited:
            return   # portico closed the client side too: acceptable
        for _ in range(3):
            assert c.roundtrip("GET", "/bytes/5").body == pattern(5)


def test_upstream_closing_idle_connection_is_survived(proxy, backend):
    """The backend forgets its idle keep-alive connections (as a server with
    a short timeout would); the next request must still succeed."""
    assert get(proxy.port, "/").status == 200
    with backend.lock:
        socks = list(backend._open)
    for s in socks:
        s.shutdown(2)
    time.sleep(0.2)
    for _ in range(3):
        assert get(proxy.port, "/").status == 200


def test_many_pipelined_requests(proxy):
    sizes = [(i * 37) % 500 for i in range(100)]
    data = b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % n for n in sizes)
    data += b"GET /bytes/1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    out, closed = exchange(proxy.port, data, timeout=15)
    assert closed
    rs = parse_responses(out)
    assert [len(r.body) for r in rs] == sizes + [1]
    assert all(r.body == pattern(len(r.body)) for r in rs)


def test_concurrent_clients(backends, start_portico):
    import threading
    p = start_portico(make_config(free_port(), {"app": backends}))
    errors = []

    def client(k):
        try:
            with Conn(p.port, timeout=10) as c:
                for i in range(10):
                    n = 1000 * k + i
                    r = c.roundtrip("GET", "/bytes/%d" % n)
                    if r.status != 200 or r.body != pattern(n):
                        errors.append((k, i, r.status))
        except Exception as e:  # noqa: BLE001
            errors.append((k, repr(e)))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors[:5]
    assert sum(len(b.requests) for b in backends) == 200
