"""PRODUCT.md §2-3: proxying, round robin, routes, respond, header rewriting."""

from collections import Counter
from itertools import groupby

from helpers import Conn, free_port, get, make_config


def names(port, n, target="/"):
    """Backend names answering n requests sent on one keep-alive connection."""
    out = []
    with Conn(port) as c:
        for _ in range(n):
            r = c.roundtrip("GET", target)
            assert r.status == 200, r
            out.append(r.header("X-Backend"))
    return out


def test_get_returns_backend_body(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    r = get(p.port, "/hello?q=1")
    assert r.status == 200
    assert r.body == b"b1\n"
    assert r.header("X-Backend") == "b1"
    assert r.header("Content-Type") == "text/plain"
    rec = backend.requests[-1]
    assert (rec["method"], rec["target"]) == ("GET", "/hello?q=1")


def test_round_robin_is_even(backends, start_portico):
    p = start_portico(make_config(free_port(), {"app": backends}))
    got = names(p.port, 300)
    assert Counter(got) == {"b1": 100, "b2": 100, "b3": 100}
    assert [len(b.requests) for b in backends] == [100, 100, 100]


def test_round_robin_across_connections(backends, start_portico):
    p = start_portico(make_config(free_port(), {"app": backends}))
    got = [get(p.port, "/").header("X-Backend") for _ in range(30)]
    assert Counter(got) == {"b1": 10, "b2": 10, "b3": 10}


def weighted_config(backends):
    servers = [{"address": b.address, "weight": w}
               for b, w in zip(backends, (1, 2, 3))]
    return make_config(free_port(), {"app": {"balance": "round_robin",
                                             "servers": servers}})


def test_weighted_round_robin_exact(backends, start_portico):
    p = start_portico(weighted_config(backends))
    got = names(p.port, 600)
    assert Counter(got) == {"b1": 100, "b2": 200, "b3": 300}


def test_weighted_round_robin_is_smooth(backends, start_portico):
    """Smooth WRR interleaves: every 6 consecutive picks hold 1/2/3 of each,
    and the heaviest server never gets 3 in a row."""
    p = start_portico(weighted_config(backends))
    got = names(p.port, 60)
    for i in range(0, 60 - 5):
        assert Counter(got[i:i + 6]) == {"b1": 1, "b2": 2, "b3": 3}, got
    longest = max(len(list(g)) for k, g in groupby(got) if k == "b3")
    assert longest <= 2, got


def routing_config(backends):
    b1, b2, b3 = backends
    return make_config(
        free_port(), {"api": [b1], "www": [b2], "wild": [b3]},
        routes=[
            {"match": {"host": "example.com", "path_prefix": "/api/"}, "upstream": "api"},
            {"match": {"host": "www.example.com"}, "upstream": "www"},
            {"match": {"host": "*.wild.test"}, "upstream": "wild"},
            {"match": {"path_prefix": "/static/"}, "upstream": "www"},
            {"match": {"path_prefix": "/api/"}, "upstream": "wild"},
        ])


def test_routes_host_and_path(backends, start_portico):
    p = start_portico(routing_config(backends))
    cases = [
        ("example.com", "/api/x", "b1"),
        ("EXAMPLE.COM", "/api/x", "b1"),          # host ignores case
        ("example.com:8080", "/api/x", "b1"),     # ... and the port
        ("Example.Com:1", "/api/", "b1"),
        ("www.example.com", "/anything", "b2"),
        ("a.wild.test", "/x", "b3"),
        ("b.c.wild.test:99", "/x", "b3"),
        ("example.com", "/static/a.css", "b2"),   # falls through to path route
        ("other.test", "/api/y", "b3"),           # first match wins
    ]
    for host, path, want in cases:
        r = get(p.port, path, host=host)
        assert (r.status, r.header("X-Backend")) == (200, want), (host, path, r)


def test_no_route_is_404(backends, start_portico):
    p = start_portico(routing_config(backends))
    for host, path in [("example.com", "/other"), ("other.test", "/"),
                       ("example.com", "/ap"), ("wild.test", "/x")]:
        r = get(p.port, path, host=host)
        assert r.status == 404, (host, path, r)
        assert r.header("X-Backend") is None
    assert all(not b.requests for b in backends)


def test_respond_route(backend, start_portico):
    cfg = make_config(free_port(), {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/healthz"},
         "respond": {"status": 200, "body": "ok", "content_type": "text/plain"}},
        {"match": {"path_prefix": "/teapot"},
         "respond": {"status": 418, "body": "short and stout",
                     "content_type": "application/x-tea"}},
        {"match": {"path_prefix": "/"}, "upstream": "app"},
    ])
    p = start_portico(cfg)
    r = get(p.port, "/healthz")
    assert (r.status, r.body) == (200, b"ok")
    assert r.header("Content-Type", "").startswith("text/plain")
    r = get(p.port, "/teapot/x")
    assert (r.status, r.body) == (418, b"short and stout")
    assert r.header("Content-Type") == "application/x-tea"
    r = get(p.port, "/healthz", method="HEAD")
    assert r.status == 200 and r.body == b""
    assert not backend.requests
    assert get(p.port, "/x").body == b"b1\n"


def test_set_request_and_response_headers(backend, start_portico):
    cfg = make_config(free_port(), {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/"}, "upstream": "app",
         "set_request_headers": {"X-Added": "yes", "X-Replace": "new",
                                 "User-Agent": ""},
         "set_response_headers": {"X-Resp": "1", "X-Backend": "",
                                  "Cache-Control": "no-store"}}])
    p = start_portico(cfg)
    r = get(p.port, "/headers", headers=[("User-Agent", "ua/1"),
                                         ("X-Replace", "old"), ("X-Keep", "k")])
    assert r.status == 200
    sent = r.json()["headers"]
    lower = [(k.lower(), v) for k, v in sent]
    assert ("x-added", "yes") in lower
    assert [v for k, v in lower if k == "x-replace"] == ["new"]
    assert not [v for k, v in lower if k == "user-agent"]
    assert ("x-keep", "k") in lower
    assert r.header("X-Resp") == "1"
    assert not r.has("X-Backend")
    assert r.header_all("Cache-Control") == ["no-store"]


def test_target_and_methods_preserved(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    target = "/a%20b/c%2Fd;p=1?x=%2F&y=%20&z"
    assert get(p.port, target).status == 200
    assert backend.requests[-1]["target"] == target
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "POST"):
        r = get(p.port, "/upload", method=method, body=b"data-" + method.encode())
        assert r.status == 200, (method, r)
        rec = backend.requests[-1]
        assert rec["method"] == method
        assert rec["body_length"] == 5 + len(method)
