"""PRODUCT.md §3, request smuggling: every ambiguous framing is refused (400
and the connection closed; 501 for an unknown transfer coding), what portico
accepts reaches the backend framed exactly as portico read it, and nothing
hidden in a body or left over in a stream is ever executed or relayed.

Each case is sent raw, followed on the same connection by a pipelined
"GET /followup": a desynchronised proxy would forward it (or a request
hidden in the body) to the backend. The backend's request records are then
compared, as an exact list, with what must have reached it. To know that
everything portico was going to forward has arrived, a sentinel request is
sent on a fresh connection afterwards (one worker, so it is handled after
the case) and the records are read once the sentinel is there.

The accepted/refused decisions follow src/http/h1_parser.h: Transfer-Encoding
is matched case-insensitively ("Chunked" is chunked) and forwarded as
"Transfer-Encoding: chunked"; leading and trailing SP/HTAB around a field
value are allowed, any other control character is refused; several
Transfer-Encoding fields, "chunked" twice, or a last coding that is not
chunked are 400, other codings before a final chunked are 501; chunk sizes
have at most 16 hex digits (leading zeros count) and stay below 2^63, a size
line (extensions included) is at most 4096 bytes; trailers may not carry
Content-Length, Transfer-Encoding, Host, Trailer or Connection.
"""

import signal
import time

import pytest

from backend import Backend, pattern
from helpers import (Conn, Portico, exchange, free_port, get, make_config,
                     parse_responses, yaml_dump)

FOLLOWUP = b"GET /followup HTTP/1.1\r\nHost: a\r\n\r\n"
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One backend and one portico (one worker) for the whole module: the
    cases are many and each leaves nothing behind but closed connections.
    Teardown checks that portico neither crashed nor failed to stop."""
    workdir = tmp_path_factory.mktemp("smuggling")
    b = Backend("b1").start()
    port = free_port()
    path = workdir / "portico.yaml"
    path.write_text(yaml_dump(make_config(port, {"app": [b]})) + "\n")
    p = Portico(["-c", path], workdir, port)
    try:
        p.start()
        yield p, b
    finally:
        crashed = p.proc is not None and p.proc.poll() is not None
        rc, killed = p.stop(signal.SIGTERM, timeout=10) if p.proc else (0, False)
        p.close_files()
        b.stop()
        print("--- portico stderr ---\n" + p.stderr()[-20000:])
        assert not crashed, "portico exited during the module (%r)" % rc
        assert not killed and rc == 0, "portico stop: exit %r, killed %r" % (rc, killed)


@pytest.fixture
def proxy(shared):
    p, b = shared
    assert p.proc.poll() is None, "portico died in an earlier test:\n" + p.stderr()[-5000:]
    with b.lock:
        b.requests = []   # connection ids keep counting: they are compared
    return p


@pytest.fixture
def backend(shared):
    return shared[1]


def seen(backend, port):
    """The exact requests the backend received so far, as (method, target,
    body_length), once a sentinel sent afterwards has arrived; the sentinel
    itself is left out and the records are cleared."""
    assert get(port, "/sentinel", timeout=5).status == 200
    # the sentinel is recorded before it is answered, so it is there now
    time.sleep(0.05)   # a request forwarded on another connection is not later than this
    with backend.lock:
        recs = list(backend.requests)
        backend.requests = []
    return [(r["method"], r["target"], r["body_length"]) for r in recs
            if r["target"] != "/sentinel"]


def refused(port, data, status=400):
    """Sends data on a new connection; asserts exactly one response, with
    `status`, and that portico then closed the connection."""
    out, closed = exchange(port, data, timeout=5)
    rs = parse_responses(out)
    assert rs, "no response at all (closed=%r): %r" % (closed, out[:300])
    assert [r.status for r in rs] == [status], rs
    assert closed, "connection left open after %d" % status
    return rs[0]


def accepted(port, data, n):
    """Sends data (n requests, the last one asking to close); returns the
    responses, asserting there are exactly n."""
    out, closed = exchange(port, data, timeout=5)
    rs = parse_responses(out)
    assert len(rs) == n, "expected %d responses, got %r (closed=%r)" % (n, rs, closed)
    return rs


def post(te_or_cl_lines, body, target=b"/upload", version=b"HTTP/1.1"):
    """A POST head with the given raw framing lines (bytes, each ending in
    CRLF), then body."""
    return (b"POST " + target + b" " + version + b"\r\nHost: a\r\n" +
            te_or_cl_lines + b"\r\n" + body)


# --- refused requests --------------------------------------------------------

CHUNK5 = b"5\r\nhello\r\n0\r\n\r\n"
TE = b"Transfer-Encoding: chunked\r\n"

REFUSED_400 = {
    # CL.TE: a front end using Content-Length forwards the hidden request
    # inside the body; a back end using chunked executes it.
    "cl.te": post(b"Content-Length: %d\r\n" % len(b"0\r\n\r\n" + SMUGGLED) + TE,
                  b"0\r\n\r\n" + SMUGGLED),
    # TE.CL: the chunk holds the hidden request; Content-Length ends early.
    "te.cl": post(TE + b"Content-Length: 4\r\n",
                  b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"),
    "te.cl mixed case": post(b"transfer-encoding: CHUNKED\r\ncontent-length: 4\r\n",
                             b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n"),
    # Transfer-Encoding value and field syntax
    "te vertical tab before": post(b"Transfer-Encoding: \x0bchunked\r\n", CHUNK5),
    "te vertical tab after": post(b"Transfer-Encoding: chunked\x0b\r\n", CHUNK5),
    "te form feed": post(b"Transfer-Encoding:\x0cchunked\r\n", CHUNK5),
    "te NUL": post(b"Transfer-Encoding: chunked\x00\r\n", CHUNK5),
    "te CR inside": post(b"Transfer-Encoding: chu\rnked\r\n", CHUNK5),
    "te space before colon": post(b"Transfer-Encoding : chunked\r\n", CHUNK5),
    "te tab before colon": post(b"Transfer-Encoding\t: chunked\r\n", CHUNK5),
    "te obs-fold": post(b"Transfer-Encoding:\r\n chunked\r\n", CHUNK5),
    "te first line folded": b"POST /upload HTTP/1.1\r\n Transfer-Encoding: chunked\r\n"
                            b"Host: a\r\n\r\n" + CHUNK5,
    "te duplicated": post(TE + TE, CHUNK5),
    "te duplicated gzip then chunked": post(b"Transfer-Encoding: gzip\r\n" + TE, CHUNK5),
    "te chunked, chunked": post(b"Transfer-Encoding: chunked, chunked\r\n", CHUNK5),
    "te identity": post(b"Transfer-Encoding: identity\r\n", CHUNK5),
    "te chunked, identity": post(b"Transfer-Encoding: chunked, identity\r\n", CHUNK5),
    "te chunked, gzip": post(b"Transfer-Encoding: chunked, gzip\r\n", CHUNK5),
    "te empty": post(b"Transfer-Encoding: \r\n", CHUNK5),
    "te xchunked": post(b"Transfer-Encoding: xchunked\r\n", CHUNK5),
    "te in HTTP/1.0": post(TE, CHUNK5, version=b"HTTP/1.0"),
    # chunk framing
    "chunk size 17 digits with leading zeros": post(TE, b"00000000000000005\r\nhello\r\n0\r\n\r\n"),
    "chunk size zero with 17 digits": post(TE, b"5\r\nhello\r\n00000000000000000\r\n\r\n"),
    "chunk size overflow 2^64": post(TE, b"10000000000000000\r\nhello\r\n0\r\n\r\n"),
    "chunk size 2^63": post(TE, b"8000000000000000\r\nhello\r\n0\r\n\r\n"),
    "chunk size all f": post(TE, b"ffffffffffffffff\r\nhello\r\n0\r\n\r\n"),
    "chunk size 0x prefix": post(TE, b"0x5\r\nhello\r\n0\r\n\r\n"),
    "chunk size sign": post(TE, b"+5\r\nhello\r\n0\r\n\r\n"),
    "chunk size empty": post(TE, b"\r\nhello\r\n0\r\n\r\n"),
    "chunk extension huge": post(TE, b"5;" + b"x" * 5000 + b"\r\nhello\r\n0\r\n\r\n"),
    "chunk extension huge on last chunk": post(TE, b"5\r\nhello\r\n0;" + b"x" * 5000 +
                                           b"\r\n\r\n"),
    "chunk extension control char": post(TE, b"5;a=\x01\r\nhello\r\n0\r\n\r\n"),
    "missing final CRLF": post(TE, b"5\r\nhello\r\n0\r\n"),
    "missing CRLF after data": post(TE, b"5\r\nhello0\r\n\r\n"),
    "data longer than size": post(TE, b"3\r\nhello\r\n0\r\n\r\n"),
    "bare LF after size": post(TE, b"5\nhello\r\n0\r\n\r\n"),
    "bare LF after data": post(TE, b"5\r\nhello\n0\r\n\r\n"),
    "bare LF last chunk": post(TE, b"5\r\nhello\r\n0\n\r\n"),
    "bare LF final": post(TE, b"5\r\nhello\r\n0\r\n\n"),
    "bare CR after size": post(TE, b"5\rhello\r\n0\r\n\r\n"),
    # trailers
    "trailer content-length": post(TE, b"5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"),
    "trailer transfer-encoding": post(TE, b"5\r\nhello\r\n0\r\n"
                                      b"Transfer-Encoding: chunked\r\n\r\n"),
    "trailer host": post(TE, b"5\r\nhello\r\n0\r\nHost: evil\r\n\r\n"),
    "trailer host mixed case": post(TE, b"5\r\nhello\r\n0\r\nhOsT: evil\r\n\r\n"),
    "trailer connection": post(TE, b"5\r\nhello\r\n0\r\nConnection: close\r\n\r\n"),
    "trailer trailer": post(TE, b"5\r\nhello\r\n0\r\nTrailer: X\r\n\r\n"),
    "trailers over 16k": post(TE, b"5\r\nhello\r\n0\r\n" + b"".join(
        b"X-T%d: %s\r\n" % (i, b"t" * 1000) for i in range(17)) + b"\r\n"),
    "trailer obs-fold": post(TE, b"5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"),
    "trailer space before colon": post(TE, b"5\r\nhello\r\n0\r\nX-T : a\r\n\r\n"),
    # Host
    "two hosts": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "two hosts same": b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
    "host with space": b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    "absolute form with bad authority": b"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n",
    # NUL and lone CR
    "NUL in value": b"GET / HTTP/1.1\r\nHost: a\r\nX-V: a\x00b\r\n\r\n",
    "CR in value": b"GET / HTTP/1.1\r\nHost: a\r\nX-V: a\rb\r\n\r\n",
    "CR ending value": b"GET / HTTP/1.1\r\nHost: a\r\nX-V: ab\r\r\n\r\n",
    "NUL in name": b"GET / HTTP/1.1\r\nHost: a\r\nX-\x00V: ab\r\n\r\n",
    "CR in name": b"GET / HTTP/1.1\r\nHost: a\r\nX-\rV: ab\r\n\r\n",
    "NUL in target": b"GET /a\x00b HTTP/1.1\r\nHost: a\r\n\r\n",
    "CR in target": b"GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n",
    "NUL in method": b"G\x00ET / HTTP/1.1\r\nHost: a\r\n\r\n",
    "CR in request line end": b"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n",
    "CR in version": b"GET / HTTP/1\r.1\r\nHost: a\r\n\r\n",
    "NUL in host": b"GET / HTTP/1.1\r\nHost: a\x00.b\r\n\r\n",
    # request line shape
    "two spaces after method": b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    "two spaces before version": b"GET /  HTTP/1.1\r\nHost: a\r\n\r\n",
    "trailing space": b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
    "tab after method": b"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n",
    "tab before version": b"GET /\tHTTP/1.1\r\nHost: a\r\n\r\n",
    "leading space": b" GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    # Content-Length
    "cl plus": post(b"Content-Length: +5\r\n", b"hello" + SMUGGLED),
    "cl minus one": post(b"Content-Length: -1\r\n", SMUGGLED),
    "cl hex": post(b"Content-Length: 0x10\r\n", b"0123456789abcdef" + SMUGGLED),
    "cl space inside": post(b"Content-Length:  5 5\r\n", b"hello" + SMUGGLED),
    "cl list": post(b"Content-Length: 5,5\r\n", b"hello" + SMUGGLED),
    "cl empty": post(b"Content-Length: \r\n", SMUGGLED),
    "cl duplicated same": post(b"Content-Length: 5\r\nContent-Length: 5\r\n",
                               b"hello" + SMUGGLED),
    "cl duplicated different": post(b"Content-Length: 5\r\nContent-Length: 0\r\n",
                                    b"hello" + SMUGGLED),
    "cl duplicated different case": post(b"Content-Length: 0\r\ncontent-LENGTH: 37\r\n",
                                         SMUGGLED),
    "cl overflow": post(b"Content-Length: 18446744073709551621\r\n", b"hello"),
    "cl space before colon": post(b"Content-Length : 5\r\n", b"hello" + SMUGGLED),
    "cl vertical tab": post(b"Content-Length: 5\x0b\r\n", b"hello" + SMUGGLED),
    "cl obs-fold": post(b"Content-Length:\r\n 5\r\n", b"hello" + SMUGGLED),
    # obs-fold elsewhere
    "obs-fold space": b"GET / HTTP/1.1\r\nHost: a\r\nX-F: a\r\n b\r\n\r\n",
    "obs-fold tab": b"GET / HTTP/1.1\r\nHost: a\r\nX-F: a\r\n\tb\r\n\r\n",
    "obs-fold of host": b"GET / HTTP/1.1\r\nHost: a\r\n .evil\r\n\r\n",
}


@pytest.mark.parametrize("name", list(REFUSED_400))
def test_refused_400_and_nothing_reaches_backend(proxy, backend, name):
    refused(proxy.port, REFUSED_400[name] + FOLLOWUP, 400)
    assert seen(backend, proxy.port) == []


@pytest.mark.parametrize("te", [b"gzip, chunked", b"identity, chunked",
                                b"deflate,chunked", b"x-custom, CHUNKED"])
def test_unknown_transfer_coding_501(proxy, backend, te):
    refused(proxy.port, post(b"Transfer-Encoding: " + te + b"\r\n",
                             b"0\r\n\r\n" + SMUGGLED) + FOLLOWUP, 501)
    assert seen(backend, proxy.port) == []


def test_cl_te_body_holding_a_pipelined_request_is_not_split(proxy, backend):
    """CL.TE with a Content-Length that covers the whole hidden request and
    the follow-up: still one 400, and nothing at the backend."""
    body = b"0\r\n\r\n" + SMUGGLED + FOLLOWUP
    refused(proxy.port, post(b"Content-Length: %d\r\n" % len(body) + TE, body), 400)
    assert seen(backend, proxy.port) == []


# --- accepted framings: the backend sees exactly what portico parsed --------

ACCEPTED_TE = {
    "Chunked": b"Transfer-Encoding: Chunked\r\n",
    "CHUNKED": b"Transfer-Encoding: CHUNKED\r\n",
    "lower-case name": b"transfer-encoding: chunked\r\n",
    "leading and trailing spaces": b"Transfer-Encoding:   chunked   \r\n",
    "leading and trailing tabs": b"Transfer-Encoding:\tchunked\t\r\n",
    "no space": b"Transfer-Encoding:chunked\r\n",
}


@pytest.mark.parametrize("name", list(ACCEPTED_TE))
def test_accepted_transfer_encoding_is_normalised(proxy, backend, name):
    """The chunked body ends where chunked framing says; the pipelined request
    after it is a request of its own, at the backend too; the backend gets
    one framing only, exactly "Transfer-Encoding: chunked"."""
    data = post(ACCEPTED_TE[name], b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n") + FOLLOWUP + \
        b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    rs = accepted(proxy.port, data, 3)
    assert [r.status for r in rs] == [200, 200, 200]
    assert rs[0].json()["length"] == 11
    assert seen(backend, proxy.port) == [("POST", "/upload", 11), ("GET", "/followup", 0),
                                         ("GET", "/headers", 0)]


def test_forwarded_chunked_framing_headers(proxy, backend):
    with Conn(proxy.port) as c:
        c.send(post(b"Transfer-Encoding:  cHuNkEd \r\n", b"3\r\nabc\r\n0\r\n\r\n",
                    target=b"/headers"))
        r = c.response()
    assert r.status == 200
    h = r.json()["headers"]
    te = [v for k, v in h if k.lower() == "transfer-encoding"]
    cl = [v for k, v in h if k.lower() == "content-length"]
    assert te == ["chunked"] and cl == [], h
    assert r.json()["body_length"] == 3


def test_chunked_body_holding_a_request_is_only_a_body(proxy, backend):
    """A request inside a chunk is payload, never a request."""
    data = post(b"Transfer-Encoding: Chunked\r\n",
                b"%x\r\n" % len(SMUGGLED) + SMUGGLED + b"\r\n0\r\n\r\n") + FOLLOWUP
    rs = accepted(proxy.port, data + b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                  3)
    assert [r.status for r in rs] == [200, 200, 200]
    assert seen(backend, proxy.port) == [("POST", "/upload", len(SMUGGLED)),
                                         ("GET", "/followup", 0), ("GET", "/x", 0)]


def test_zero_chunk_then_pipelined_request(proxy, backend):
    """"0" ends a chunked body: what follows is the next request, both for
    portico and the backend (same framing on both sides)."""
    data = post(b"Transfer-Encoding: chunked\r\n", b"0\r\n\r\n") + \
        b"GET /second HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    rs = accepted(proxy.port, data, 2)
    assert [r.status for r in rs] == [200, 200]
    assert seen(backend, proxy.port) == [("POST", "/upload", 0), ("GET", "/second", 0)]


ACCEPTED_CHUNKS = {
    "16 digits with leading zeros": (b"0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n", 5),
    "upper-case hex": (b"A\r\n0123456789\r\n0\r\n\r\n", 10),
    "small extensions": (b"5;name=value;x=\"q\"\r\nhello\r\n0;last\r\n\r\n", 5),
    "extension near the limit": (b"5;" + b"e" * 4000 + b"\r\nhello\r\n0\r\n\r\n", 5),
    "space after size": (b"5 \r\nhello\r\n0\t;e\r\n\r\n", 5),
    "allowed trailer": (b"5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n", 5),
}


@pytest.mark.parametrize("name", list(ACCEPTED_CHUNKS))
def test_accepted_chunk_framing(proxy, backend, name):
    body, n = ACCEPTED_CHUNKS[name]
    rs = accepted(proxy.port, post(TE, body) + FOLLOWUP +
                  b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 3)
    assert [r.status for r in rs] == [200, 200, 200]
    assert rs[0].json()["length"] == n
    assert seen(backend, proxy.port) == [("POST", "/upload", n), ("GET", "/followup", 0),
                                         ("GET", "/last", 0)]


def test_whitespace_around_content_length_is_trimmed(proxy, backend):
    data = post(b"Content-Length:\t 5 \t\r\n", b"hello") + \
        b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    rs = accepted(proxy.port, data, 2)
    assert [r.status for r in rs] == [200, 200]
    assert seen(backend, proxy.port) == [("POST", "/upload", 5), ("GET", "/last", 0)]


def test_content_length_body_holding_a_request_is_only_a_body(proxy, backend):
    body = SMUGGLED
    data = post(b"Content-Length: %d\r\n" % len(body), body) + \
        b"GET /last HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    rs = accepted(proxy.port, data, 2)
    assert [r.status for r in rs] == [200, 200]
    assert seen(backend, proxy.port) == [("POST", "/upload", len(body)), ("GET", "/last", 0)]


# --- Host and the absolute form ---------------------------------------------

def test_absolute_form_wins_over_host(proxy, backend):
    with Conn(proxy.port) as c:
        c.send(b"GET http://target.example:8080/headers?q=1 HTTP/1.1\r\n"
               b"Host: other.example\r\n\r\n")
        r = c.response()
        assert r.status == 200
        rec = r.json()
        assert rec["target"] == "/headers?q=1"
        hosts = [v for k, v in rec["headers"] if k.lower() == "host"]
        assert hosts == ["target.example:8080"], rec["headers"]
        xfh = [v for k, v in rec["headers"] if k.lower() == "x-forwarded-host"]
        assert xfh == ["target.example:8080"], rec["headers"]
        # the connection stays usable and in sync
        r = c.roundtrip("GET", "/bytes/3")
        assert r.status == 200 and len(r.body) == 3
    assert seen(backend, proxy.port) == [("GET", "/headers?q=1", 0), ("GET", "/bytes/3", 0)]


def test_absolute_form_routes_by_target_authority(backends, start_portico):
    b1, b2, _ = backends
    p = start_portico(make_config(free_port(), {"one": [b1], "two": [b2]}, routes=[
        {"match": {"host": "one.example"}, "upstream": "one"},
        {"match": {"host": "two.example"}, "upstream": "two"}]))
    r = get(p.port, "http://two.example/headers", host="one.example")
    assert r.status == 200 and r.header("X-Backend") == "b2"
    assert r.json()["target"] == "/headers"
    r = get(p.port, "http://ONE.example:99/", host="two.example")
    assert r.status == 200 and r.header("X-Backend") == "b1"


def test_absolute_form_without_path(proxy, backend):
    r = get(proxy.port, "http://target.example", host="other.example")
    assert r.status == 200
    assert seen(backend, proxy.port) == [("GET", "/", 0)]


# --- HTTP/1.0 keep-alive -----------------------------------------------------

def test_http10_keep_alive_is_kept_and_works(proxy, backend):
    with Conn(proxy.port) as c:
        for i in range(3):
            c.send(b"GET /bytes/%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" % (10 + i))
            r = c.response()
            assert r.status == 200 and len(r.body) == 10 + i
            assert r.content_length == 10 + i, "HTTP/1.0 keep-alive needs a length"
            assert "close" not in (r.header("Connection") or "").lower(), r.headers
        assert not c.closed(0.3), "HTTP/1.0 keep-alive connection was closed"
        c.send(b"POST /upload HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n"
               b"\r\nabc")
        r = c.response()
        assert r.status == 200 and r.json()["length"] == 3
        c.send(b"GET /last HTTP/1.0\r\n\r\n")
        r = c.response()
        assert r.status == 200
        assert c.closed(2), "HTTP/1.0 without keep-alive must close"
    assert seen(backend, proxy.port) == [("GET", "/bytes/10", 0), ("GET", "/bytes/11", 0),
                                         ("GET", "/bytes/12", 0), ("POST", "/upload", 3),
                                         ("GET", "/last", 0)]


def test_http10_chunked_response_is_not_kept_out_of_sync(proxy, backend):
    """A chunked upstream answer to an HTTP/1.0 keep-alive client: de-chunked,
    so it must be close-delimited (or carry a length) — never a chunked body
    the client cannot frame."""
    with Conn(proxy.port) as c:
        c.send(b"GET /chunked/5000 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.response()
        assert r.status == 200 and not r.chunked and len(r.body) == 5000


# --- upstream side -----------------------------------------------------------

def test_upstream_cl_and_te_is_502(proxy, backend):
    with Conn(proxy.port) as c:
        c.send(b"GET /invalid/cl-te HTTP/1.1\r\nHost: a\r\n\r\n")
        r = c.response()
        assert r.status == 502, r
        assert b"hello" not in r.body
        try:
            r = c.roundtrip("GET", "/bytes/7")
            assert (r.status, len(r.body)) == (200, 7)
        except Exception:  # noqa: BLE001 - closing after a 502 is fine too
            assert c.b.eof or c.closed(1)
    assert get(proxy.port, "/").status == 200


def _no_leftover(r):
    assert not r.has("X-Smuggled"), "the upstream's leftover bytes reached the client: %r" % r
    assert r.body != b"smuggled", r


@pytest.mark.parametrize("path", ["/extra", "/extra/chunked"])
def test_upstream_longer_than_its_framing_never_reaches_client(proxy, backend, path):
    """/extra answers 200 "hello" (Content-Length, or chunked) followed by the
    bytes of a second response and keeps its connection open: those bytes
    must never be taken for the answer to a later request, on this client
    connection or another one."""
    with Conn(proxy.port) as c:
        r = c.roundtrip("GET", path)
        assert (r.status, r.body) == (200, b"hello"), r
        second = None
        try:
            c.request("GET", "/headers")
            second = c.response()
        except Exception:  # noqa: BLE001 - a close instead is acceptable
            assert c.b.eof, "neither a response nor a close"
        if second is not None:
            _no_leftover(second)
            assert second.status == 200 and second.json()["target"] == "/headers", second
            extra_conn = [x for x in backend.requests if x["target"] == path][0]["conn_id"]
            assert second.json()["conn_id"] != extra_conn, \
                "the upstream connection with leftover bytes was reused"
    for _ in range(3):
        r = get(proxy.port, "/headers")
        _no_leftover(r)
        assert r.status == 200 and r.json()["target"] == "/headers", r


def test_upstream_longer_than_content_length_pipelined(proxy, backend):
    data = (b"GET /extra HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /bytes/4 HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /headers HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    out, closed = exchange(proxy.port, data, timeout=5)
    assert b"smuggled" not in out and b"X-Smuggled" not in out, out
    rs = parse_responses(out)
    assert rs and (rs[0].status, rs[0].body) == (200, b"hello")
    if len(rs) > 1:
        assert (rs[1].status, rs[1].body) == (200, pattern(4)), rs[1]
    if len(rs) > 2:
        assert rs[2].json()["target"] == "/headers"


def test_upstream_shorter_than_content_length_closes_client(proxy, backend):
    """Content-Length 100, 5 bytes, close: the client connection must end
    before a 100-byte body, and the pipelined next request must not be
    answered on it (its bytes would be read as the rest of the body)."""
    data = (b"GET /invalid/truncated HTTP/1.1\r\nHost: a\r\n\r\n"
            b"GET /bytes/200 HTTP/1.1\r\nHost: a\r\n\r\n")
    out, closed = exchange(proxy.port, data, timeout=5)
    assert closed, "client connection left open after a truncated upstream body"
    head, sep, body = out.partition(b"\r\n\r\n")
    if not out or head.split(b" ")[1] == b"502":
        pass   # nothing relayed yet: a 502 is honest
    else:
        assert b"Content-Length: 100" in head, out
        assert body == b"short", "bytes after a truncated body: %r" % body
    # still serving
    assert get(proxy.port, "/bytes/5").status == 200


def test_upstream_shorter_then_next_request_on_new_connection(proxy, backend):
    with Conn(proxy.port) as c:
        c.request("GET", "/invalid/truncated")
        data = c.read_until_close()
        assert len(data.partition(b"\r\n\r\n")[2]) < 100
    r = get(proxy.port, "/headers")
    assert r.status == 200 and r.json()["target"] == "/headers"
