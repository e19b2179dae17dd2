"""The harness itself: backend.py and the raw-socket client, without portico.

If these fail, every other result is meaningless."""

import hashlib
import json
import subprocess
import sys

import pytest

from backend import pattern, pattern_sha256
from helpers import (REPO, Conn, curl, exchange, free_port, get, make_config,
                     parse_responses, wait_port, yaml_dump)


def test_default_answer_names_backend(backend):
    r = get(backend.port, "/anything?x=1")
    assert r.status == 200
    assert r.body == b"b1\n"
    assert r.header("X-Backend") == "b1"
    assert r.header("Server") == "secret-backend"
    assert r.header("X-Powered-By") == "php"
    rec = backend.requests[-1]
    assert rec["method"] == "GET" and rec["target"] == "/anything?x=1"
    assert ["Host", "test.local"] in rec["headers"]


@pytest.mark.parametrize("kind", ["bytes", "chunked", "close"])
def test_bodies(backend, kind):
    n = 1_000_003
    r = get(backend.port, "/%s/%d" % (kind, n))
    assert r.status == 200
    assert len(r.body) == n
    assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(n)
    assert r.chunked == (kind == "chunked")
    assert r.close_delimited == (kind == "close")


def test_pattern_is_not_periodic_on_small_blocks():
    p = pattern(200_000)
    assert p[:65536] != p[65536:131072]


def test_upload_content_length_and_chunked(backend):
    body = bytes(range(256)) * 1000
    r = get(backend.port, "/upload", method="POST", body=body)
    assert r.json() == {"backend": "b1", "length": len(body),
                        "sha256": hashlib.sha256(body).hexdigest()}
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7000]), body[i:i + 7000])
                       for i in range(0, len(body), 7000)) + b"0\r\n\r\n"
    r = get(backend.port, "/upload", method="POST", body=chunked,
            headers=[("Transfer-Encoding", "chunked")])
    assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_head_204_304_keep_framing(backend):
    with Conn(backend.port) as c:
        r = c.roundtrip("HEAD", "/bytes/1234")
        assert r.status == 200 and r.header("Content-Length") == "1234"
        assert r.body == b""
        assert c.roundtrip("GET", "/status/204").status == 204
        assert c.roundtrip("GET", "/status/304").status == 304
        r = c.roundtrip("GET", "/bytes/10")
        assert r.body == pattern(10)
    assert backend.connections == 1


def test_pipelining_and_close(backend):
    data = b"".join(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\n\r\n" % n for n in (1, 2))
    data += b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    out, closed = exchange(backend.port, data)
    assert closed
    assert [len(r.body) for r in parse_responses(out)] == [1, 2, 3]


def test_http10_closes(backend):
    out, closed = exchange(backend.port, b"GET / HTTP/1.0\r\n\r\n")
    assert closed and parse_responses(out)[0].status == 200


def test_expect_100(backend):
    with Conn(backend.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
               b"Expect: 100-continue\r\n\r\n")
        assert c.response(interim=True).status == 100
        c.send(b"abc")
        assert c.response().json()["length"] == 3


def test_invalid_responses(backend):
    out, closed = exchange(backend.port, b"GET /invalid/status HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and out.startswith(b"HTTP/1.1 2x0")


def test_counters_and_headers_endpoint(backend):
    for _ in range(3):
        get(backend.port, "/")
    r = get(backend.port, "/conns")
    assert r.json()["connections"] == 4
    r = get(backend.port, "/headers", headers=[("X-A", "1"), ("x-a", "2")])
    d = r.json()
    assert ["X-A", "1"] in d["headers"] and ["x-a", "2"] in d["headers"]
    r = get(backend.port, "/respond-headers?X-Foo=bar&Set-Cookie=a%3Db")
    assert r.header("X-Foo") == "bar" and r.header("Set-Cookie") == "a=b"


def test_curl_and_script_mode(tmp_path):
    port = free_port()
    p = subprocess.Popen([sys.executable, str(REPO / "examples/demo-backend.py"),
                          "--port", str(port), "--name", "b9"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_port(port, 10, p)
        r = curl("-i", "http://127.0.0.1:%d/" % port)
        assert r.returncode == 0, r.stderr
        assert b"X-Backend: b9" in r.stdout and r.stdout.endswith(b"b9\n")
    finally:
        p.terminate()
        p.wait(5)


def test_yaml_dump_roundtrip():
    yaml = pytest.importorskip("yaml")
    cfg = make_config(8080, {"app": ["127.0.0.1:1", {"address": "127.0.0.1:2",
                                                       "weight": 3}]},
                      security={"server_header": "", "hide_backend_headers": []},
                      limits={"header_timeout": "1s", "max_body_size": 0},
                      routes=[{"match": {"host": "*.example.com"}, "respond":
                               {"status": 200, "body": "ok: yes"}},
                              {"upstream": "app", "set_request_headers": {"X-A": ""}}])
    assert yaml.safe_load(yaml_dump(cfg)) == json.loads(json.dumps(cfg))


def test_drip_and_broken_bodies(backend):
    r = get(backend.port, "/drip/1000/100")
    assert r.body == pattern(1000)
    out, closed = exchange(backend.port, b"GET /invalid/truncated HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed and not parse_responses(out)
