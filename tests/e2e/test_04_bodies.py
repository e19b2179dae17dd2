"""PRODUCT.md §3: bodies in both directions, byte-exact; HEAD, 204, 304;
Expect: 100-continue; max_body_size."""

import hashlib
import json
import os
import time

import pytest

from backend import pattern, pattern_sha256
from helpers import Conn, curl, free_port, get, make_config, rss_kib

MiB = 1 << 20


@pytest.fixture
def proxy(backend, start_portico):
    return start_portico(make_config(free_port(), {"app": [backend]},
                                     limits={"max_body_size": "128m"}))


@pytest.fixture(scope="module")
def upload_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("upload") / "64m.bin"
    data = os.urandom(64 * MiB)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            h.update(block)
    return h.hexdigest()


@pytest.mark.parametrize("size", [MiB, 64 * MiB], ids=["1MiB", "64MiB"])
@pytest.mark.parametrize("kind", ["bytes", "chunked", "close"])
def test_download(proxy, tmp_path, kind, size):
    out = tmp_path / "body"
    r = curl("-o", out, "-w", "%{http_code} %{size_download}",
             "%s/%s/%d" % (proxy.url, kind, size))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode() == "200 %d" % size
    assert sha256_file(out) == pattern_sha256(size)


def test_download_raw_content_length_kept(proxy):
    r = get(proxy.port, "/bytes/100000")
    assert r.content_length == 100000
    assert r.body == pattern(100000)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_upload_64mib(proxy, backend, upload_file, chunked):
    path, digest = upload_file
    args = ["--data-binary", "@%s" % path, "-H", "Content-Type: application/octet-stream",
            "-H", "Expect:"]
    if chunked:
        args += ["-H", "Transfer-Encoding: chunked"]
    r = curl(*args, proxy.url + "/upload")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"backend": "b1", "length": 64 * MiB,
                                    "sha256": digest}


def test_small_uploads_on_one_connection(proxy):
    with Conn(proxy.port) as c:
        for n in (0, 1, 1000, 70000):
            body = pattern(n)
            r = c.roundtrip("POST", "/upload", body=body)
            assert r.json()["length"] == n
            assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()
        body = b"hello chunked world"
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5\r\nhello\r\ne;ext=1\r\n chunked world\r\n0\r\nX-Trailer: t\r\n\r\n")
        r = c.response()
        assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_head_has_headers_and_no_body(proxy):
    with Conn(proxy.port) as c:
        r = c.roundtrip("HEAD", "/bytes/5000")
        assert r.status == 200
        assert r.header("Content-Length") == "5000"
        # a body after the HEAD response would be parsed as the next response
        r = c.roundtrip("HEAD", "/chunked/5000")
        assert r.status == 200
        r = c.roundtrip("GET", "/bytes/10")
        assert r.body == pattern(10)


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(proxy, status):
    with Conn(proxy.port) as c:
        r = c.roundtrip("GET", "/status/%d" % status)
        assert r.status == status
        assert not r.has("Transfer-Encoding")
        r = c.roundtrip("GET", "/bytes/7")
        assert (r.status, r.body) == (200, pattern(7))


def test_expect_100_continue_curl(proxy, tmp_path):
    data = pattern(2 * MiB)
    f = tmp_path / "up.bin"
    f.write_bytes(data)
    t0 = time.monotonic()
    r = curl("--expect100-timeout", "10", "-H", "Expect: 100-continue",
             "--data-binary", "@%s" % f, proxy.url + "/upload")
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["sha256"] == hashlib.sha256(data).hexdigest()
    assert elapsed < 5, "curl waited for a 100 Continue that never came"


def test_expect_100_continue_raw(proxy):
    with Conn(proxy.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.response(interim=True)
        assert r.status == 100
        c.send(b"hello")
        r = c.response()
        assert r.status == 200 and r.json()["length"] == 5


@pytest.fixture
def limited(backend, start_portico):
    return start_portico(make_config(free_port(), {"app": [backend]},
                                     limits={"max_body_size": "64k"}))


def test_max_body_size_content_length(limited, backend):
    with Conn(limited.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n\r\n")
        r = c.response()
        assert r.status == 413
    assert not backend.requests, "an over-limit request reached the backend"
    r = get(limited.port, "/upload", method="POST", body=b"x" * 65536)
    assert r.status == 200, "a body of exactly max_body_size was refused"


def test_max_body_size_with_expect(limited, backend):
    with Conn(limited.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000000\r\n"
               b"Expect: 100-continue\r\n\r\n")
        r = c.response(interim=True)
        assert r.status == 413


def test_max_body_size_chunked(limited):
    with Conn(limited.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"4000\r\n" + b"y" * 0x4000 + b"\r\n"
        sent = 0
        try:
            while sent < 1 << 20 and not c.readable(0.02):
                c.send(chunk)
                sent += 0x4000
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert c.readable(5), "no answer to a chunked body past max_body_size"
        r = c.response()
        assert r.status == 413
        assert sent > 64 * 1024 - 0x4000


def test_slow_client_is_backpressured(proxy):
    """A client that does not read must not make portico buffer the whole
    64 MiB response in memory."""
    n = 64 * MiB
    with Conn(proxy.port, timeout=30) as c:
        assert c.roundtrip("GET", "/bytes/10").status == 200   # warm up
        before = rss_kib(proxy.proc.pid)
        c.request("GET", "/bytes/%d" % n)
        time.sleep(1.5)
        grown = rss_kib(proxy.proc.pid) - before
        assert grown < 24 * 1024, "portico grew by %d KiB for a stalled client" % grown
        r = c.response()
        assert len(r.body) == n
        assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(n)


def test_http10_client_gets_no_chunked(proxy):
    """A chunked upstream response is de-chunked for an HTTP/1.0 client."""
    with Conn(proxy.port) as c:
        r = c.roundtrip("GET", "/chunked/100000", version="HTTP/1.0")
        assert r.status == 200
        assert not r.has("Transfer-Encoding"), r.headers
        assert r.body == pattern(100000)


def test_response_timeout_covers_only_the_head(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": {
        "servers": [{"address": backend.address}], "response_timeout": "500ms"}}))
    r = get(p.port, "/drip/100000/1500", timeout=10)
    assert r.status == 200
    assert r.body == pattern(100000)


def test_upstream_interim_response(proxy):
    """A 1xx from the upstream (103 Early Hints) is not taken for the final
    response; relaying it or not is up to portico."""
    with Conn(proxy.port) as c:
        r = c.roundtrip("GET", "/interim")
        assert (r.status, r.body) == (200, b"b1\n")
        r = c.roundtrip("GET", "/bytes/9")
        assert (r.status, r.body) == (200, pattern(9))
