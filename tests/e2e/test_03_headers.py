"""PRODUCT.md §3: headers toward the upstream and toward the client."""

import re

import pytest

from helpers import exchange, free_port, get, make_config, parse_responses

RID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


@pytest.fixture
def proxy(backend, start_portico):
    return start_portico(make_config(free_port(), {"app": [backend]}))


def seen(r):
    """Headers the backend received, from a /headers response: name -> [values]."""
    assert r.status == 200, r
    out = {}
    for k, v in r.json()["headers"]:
        out.setdefault(k.lower(), []).append(v)
    return out


def test_forwarded_headers(proxy):
    r = get(proxy.port, "/headers", host="app.example")
    h = seen(r)
    assert h["x-forwarded-for"] == ["127.0.0.1"]
    assert h["x-forwarded-proto"] == ["http"]
    assert h["x-forwarded-host"] == ["app.example"]
    assert h["host"] == ["app.example"]
    assert h["via"] == ["1.1 portico"]


def test_x_forwarded_for_is_appended(proxy):
    r = get(proxy.port, "/headers", headers=[("X-Forwarded-For", "10.1.2.3")])
    assert seen(r)["x-forwarded-for"] == ["10.1.2.3, 127.0.0.1"]
    r = get(proxy.port, "/headers",
            headers=[("X-Forwarded-For", "10.1.2.3, 10.4.5.6")])
    assert seen(r)["x-forwarded-for"] == ["10.1.2.3, 10.4.5.6, 127.0.0.1"]


def test_client_forwarded_proto_is_not_trusted(proxy):
    r = get(proxy.port, "/headers", headers=[("X-Forwarded-Proto", "https")])
    assert seen(r)["x-forwarded-proto"] == ["http"]


def test_request_id_generated_and_echoed(proxy):
    ids = set()
    for _ in range(3):
        r = get(proxy.port, "/headers")
        sent = seen(r)["x-request-id"]
        assert len(sent) == 1 and RID.match(sent[0]), sent
        assert r.header("X-Request-Id") == sent[0]
        ids.add(sent[0])
    assert len(ids) == 3, "request ids are not unique: %r" % ids


def test_request_id_kept_when_valid(proxy):
    for rid in ("abc-123.x_Y", "a", "Z" * 128):
        r = get(proxy.port, "/headers", headers=[("X-Request-Id", rid)])
        assert seen(r)["x-request-id"] == [rid]
        assert r.header("X-Request-Id") == rid


@pytest.mark.parametrize("bad", ["a" * 200, "Z" * 129, "bad id", "semi;colon",
                                 "slash/ed", "quote\"d"])
def test_request_id_replaced_when_invalid(proxy, bad):
    r = get(proxy.port, "/headers", headers=[("X-Request-Id", bad)])
    sent = seen(r)["x-request-id"]
    assert len(sent) == 1 and sent[0] != bad and RID.match(sent[0]), sent
    assert r.header("X-Request-Id") == sent[0]


def test_hop_by_hop_removed(proxy):
    r = get(proxy.port, "/headers", headers=[
        ("Connection", "keep-alive, X-Custom-Hop"),
        ("X-Custom-Hop", "secret"),
        ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"),
        ("Trailer", "X-Checksum"),
        ("Upgrade", "foo/1"),
        ("Proxy-Authorization", "Basic dXNlcjpwYXNz"),
        ("Proxy-Connection", "keep-alive"),
        ("X-Normal", "stays"),
    ])
    h = seen(r)
    for name in ("x-custom-hop", "keep-alive", "te", "trailer", "upgrade",
                 "proxy-authorization", "proxy-connection"):
        assert name not in h, "%s reached the backend: %r" % (name, h[name])
    for v in h.get("connection", []):
        assert "x-custom-hop" not in v.lower(), v
    assert h["x-normal"] == ["stays"]


def test_absolute_form_target(backends, start_portico):
    b1, b2, _ = backends
    p = start_portico(make_config(
        free_port(), {"abs": [b1], "other": [b2]},
        routes=[{"match": {"host": "abs.example"}, "upstream": "abs"},
                {"match": {"path_prefix": "/"}, "upstream": "other"}]))
    r = get(p.port, "http://abs.example:8080/headers?q=1", host="other.example")
    assert r.header("X-Backend") == "b1", "routed on Host instead of the target"
    d = r.json()
    assert d["target"] == "/headers?q=1"
    h = seen(r)
    assert h["host"] == ["abs.example:8080"]


def test_server_and_powered_by_hidden(proxy):
    r = get(proxy.port, "/")
    assert r.status == 200
    assert r.header_all("Server") == ["portico"]
    assert not r.has("X-Powered-By")
    assert r.header("X-Backend") == "b1"


def test_aspnet_version_hidden_by_default(proxy):
    r = get(proxy.port, "/respond-headers?X-AspNet-Version=4.0&X-Other=1")
    assert not r.has("X-AspNet-Version")
    assert r.header("X-Other") == "1"


def test_server_header_empty_removes_it(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  security={"server_header": ""}))
    r = get(p.port, "/")
    assert r.status == 200
    assert not r.has("Server"), r.headers
    assert not r.has("X-Powered-By")


def test_server_header_configured(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  security={"server_header": "edge/2"}))
    assert get(p.port, "/").header_all("Server") == ["edge/2"]


def test_hide_backend_headers_configured(backend, start_portico):
    p = start_portico(make_config(
        free_port(), {"app": [backend]},
        security={"hide_backend_headers": ["X-Backend", "X-Secret"]}))
    r = get(p.port, "/respond-headers?X-Secret=s&X-Visible=v")
    assert not r.has("X-Backend") and not r.has("X-Secret")
    assert r.header("X-Visible") == "v"
    assert r.header_all("Server") == ["portico"]


def test_error_responses_carry_request_id(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/api/"}, "upstream": "app"}]))
    r = get(p.port, "/nope", headers=[("X-Request-Id", "trace-1")])
    assert r.status == 404
    assert r.header("X-Request-Id") == "trace-1"


def test_connection_close_and_named_header(proxy):
    """Connection: close is honoured for the client and the header it names
    is not forwarded."""
    req = (b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: close, X-Gone\r\n"
           b"X-Gone: 1\r\n\r\n")
    out, closed = exchange(proxy.port, req)
    assert closed
    rs = parse_responses(out)
    assert len(rs) == 1
    assert "x-gone" not in seen(rs[0])


def test_hop_by_hop_removed_from_response(proxy):
    r = get(proxy.port, "/respond-headers?Connection=X-Secret&X-Secret=1"
                        "&Keep-Alive=timeout%3D99&X-Fine=yes")
    assert r.status == 200
    assert not r.has("X-Secret"), "header named by the backend's Connection relayed"
    assert "timeout=99" not in r.header_all("Keep-Alive")
    for v in r.header_all("Connection"):
        assert "x-secret" not in v.lower()
    assert r.header("X-Fine") == "yes"


def test_large_header_forwarded_intact(proxy):
    value = "".join(chr(0x21 + i % 90) for i in range(8000)).replace(",", ".")
    r = get(proxy.port, "/headers", headers=[("Cookie", value), ("X-Empty", "")])
    h = seen(r)
    assert h["cookie"] == [value]
    assert h.get("x-empty") == [""]


def test_repeated_headers_kept_apart(proxy):
    r = get(proxy.port, "/respond-headers?Set-Cookie=a%3D1%3B%20Path%3D%2F&Set-Cookie=b%3D2")
    assert r.header_all("Set-Cookie") == ["a=1; Path=/", "b=2"]
    r = get(proxy.port, "/headers", headers=[("X-Dup", "1"), ("X-Dup", "2")])
    assert seen(r)["x-dup"] in (["1", "2"], ["1, 2"])
