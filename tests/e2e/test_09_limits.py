"""PRODUCT.md §2 `limits:` — one test (at least) per key — and the resource
behaviour §3 promises: bounded memory for slow readers, upstreams that stall
or die mid-response, half-closed clients, and running out of descriptors.

Every wait is bounded; timeouts are set to about a second so the whole file
runs in a few tens of seconds.
"""

import hashlib
import os
import resource
import selectors
import signal
import socket
import threading
import time

import pytest

from backend import pattern
from helpers import HOST, Conn, exchange, free_port, get, make_config, parse_responses, rss_kib

MiB = 1 << 20


def limited(backend, start_portico, **limits):
    return start_portico(make_config(free_port(), {"app": [backend]}, limits=limits))


def status_of(port, data, timeout=5):
    """Sends data on a new connection; the status of the first response
    (0 if none came) and whether portico closed the connection."""
    out, closed = exchange(port, data, timeout=timeout)
    rs = parse_responses(out)
    return (rs[0].status if rs else 0), closed


def targets(backend):
    with backend.lock:
        return [r["target"] for r in backend.requests]


def wait_served(port, timeout=3.0, target="/"):
    """Polls until a request on a new connection gets 200 (bounded)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            r = get(port, target, timeout=1)
            if r.status == 200:
                return True
            last = r.status
        except Exception as e:  # noqa: BLE001
            last = e
        time.sleep(0.05)
    raise AssertionError("not served again within %.1fs (last: %r)" % (timeout, last))


def cpu_seconds(pid):
    """utime + stime of the whole process (all threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / float(os.sysconf("SC_CLK_TCK"))


# --- max_connections ---------------------------------------------------------

@pytest.mark.parametrize("workers", [1, 2])
def test_max_connections_over_limit_closed_at_once(backend, start_portico, workers):
    """The limit is per listener, whatever the number of workers."""
    cfg = make_config(free_port(), {"app": [backend]}, limits={"max_connections": 3})
    cfg["workers"] = workers
    p = start_portico(cfg)
    # the readiness probe's connection may not be reaped yet: retry, bounded
    deadline = time.monotonic() + 3
    while True:
        held = [Conn(p.port) for _ in range(3)]
        try:
            if all(c.roundtrip("GET", "/bytes/1").status == 200 for c in held):
                break
        except Exception:  # noqa: BLE001
            pass
        for c in held:
            c.close()
        assert time.monotonic() < deadline, "three connections not served"
        time.sleep(0.1)
    try:
        for _ in range(3):   # every extra connection, not just the first
            with Conn(p.port) as c:
                t0 = time.monotonic()
                try:
                    c.request("GET", "/over")
                except OSError:
                    pass
                assert c.closed(2), "a connection over max_connections was kept"
                assert time.monotonic() - t0 < 1.0, "not closed at once"
        # the held ones still work
        for c in held:
            assert c.roundtrip("GET", "/bytes/2").status == 200
        held.pop().close()
        wait_served(p.port)
    finally:
        for c in held:
            c.close()
    assert "/over" not in targets(backend)


# --- header_timeout: slowloris -----------------------------------------------

def test_slowloris_cut_at_header_timeout_while_normal_clients_are_served(
        backend, start_portico):
    """1,000 connections dribble header lines and never finish their head.
    Each is cut about header_timeout (1 s) after its first byte — with a 408
    where it can still be read — and a burst of normal requests made during
    the attack is served quickly."""
    p = limited(backend, start_portico, header_timeout="1s")
    assert get(p.port, "/warm").status == 200
    n_attack = 1000
    sel = selectors.DefaultSelector()
    state = {}
    for i in range(n_attack):
        s = socket.create_connection((HOST, p.port), timeout=3)
        s.setblocking(False)
        s.send(b"GET /loris/%d HTTP/1.1\r\nHost: a\r\n" % i)
        state[s] = {"first": time.monotonic(), "data": b"", "end": None, "how": None}
        sel.register(s, selectors.EVENT_READ)
    first_first = min(st["first"] for st in state.values())
    last_first = max(st["first"] for st in state.values())
    stop_at = last_first + 1.0 + 3.0

    def finish(s, st, how):
        st["end"], st["how"] = time.monotonic(), how
        sel.unregister(s)
        s.close()

    def attacker():
        next_drip = time.monotonic() + 0.25
        k = 0
        while time.monotonic() < stop_at and any(st["end"] is None for st in state.values()):
            for key, _ in sel.select(timeout=0.02):
                s = key.fileobj
                st = state[s]
                try:
                    d = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    finish(s, st, "reset")
                    continue
                if d:
                    st["data"] += d
                else:
                    finish(s, st, "eof")
            if time.monotonic() >= next_drip:
                k += 1
                for s, st in list(state.items()):
                    if st["end"] is None and not st["data"]:
                        try:
                            s.send(b"X-Drip-%d: v\r\n" % k)
                        except BlockingIOError:
                            pass
                        except OSError:
                            pass   # found closed: the reader side records it
                next_drip += 0.25

    t = threading.Thread(target=attacker, daemon=True)
    t.start()

    # bursts of normal requests, on fresh connections, for as long as the
    # attack is in full swing (until shortly before the first cut is due)
    lat = []
    normal = []
    burst_start = time.monotonic()
    while not normal or time.monotonic() < first_first + 0.8:
        for _ in range(10):
            target = "/normal/%d" % len(normal)
            t0 = time.monotonic()
            r = get(p.port, target, timeout=3)
            lat.append(time.monotonic() - t0)
            normal.append(target)
            assert r.status == 200, r
        time.sleep(0.02)
    burst_end = time.monotonic()
    alive_after_burst = sum(1 for st in state.values() if st["end"] is None)

    t.join(stop_at - time.monotonic() + 2)
    assert not t.is_alive(), "attacker thread did not finish"
    for s, st in state.items():
        if st["end"] is None:
            s.close()

    lat.sort()
    print("%d attack connections opened in %.3fs; %d normal requests over %.3fs: "
          "median %.4fs, max %.4fs; %d attack connections alive after them"
          % (n_attack, last_first - first_first, len(lat), burst_end - burst_start,
             lat[len(lat) // 2], lat[-1], alive_after_burst))
    assert alive_after_burst >= n_attack * 0.9, \
        "the bursts did not run during the attack (%d alive)" % alive_after_burst
    assert len(lat) >= 20, "attack connections opened too slowly to measure (%.2fs)" \
        % (last_first - first_first)
    assert lat[-1] < 0.5, "a normal request took %.3fs during the attack" % lat[-1]
    assert lat[len(lat) // 2] < 0.05, "normal requests slowed down: median %.3fs" \
        % lat[len(lat) // 2]

    hanging = [st for st in state.values() if st["end"] is None]
    assert not hanging, "%d slowloris connections still open %.1fs after header_timeout" \
        % (len(hanging), stop_at - last_first - 1.0)
    spans = sorted(st["end"] - st["first"] for st in state.values())
    assert spans[0] >= 0.85, "cut before header_timeout: %.3fs" % spans[0]
    assert spans[-1] <= 2.5, "cut long after header_timeout: %.3fs" % spans[-1]
    kinds = {"408": 0, "reset": 0}
    for st in state.values():
        if st["data"]:
            rs = parse_responses(st["data"])
            assert [r.status for r in rs] == [408], st["data"][:300]
            kinds["408"] += 1
        else:
            assert st["how"] == "reset", "closed without a 408 and without a reset"
            kinds["reset"] += 1
    print("slowloris outcomes: %r" % kinds)
    assert kinds["408"] >= n_attack // 2, kinds
    assert not [x for x in targets(backend) if x.startswith("/loris")]
    assert sorted(targets(backend)) == sorted(["/warm"] + normal)
    assert get(p.port, "/after").status == 200


def test_header_timeout_counts_from_first_byte_not_per_byte(backend, start_portico):
    p = limited(backend, start_portico, header_timeout="1s")
    with Conn(p.port, timeout=5) as c:
        t0 = time.monotonic()
        c.send(b"GET / HTTP/1.1\r\n")
        # a header line every 0.3 s: a deadline renewed per read would never fire
        for i in range(10):
            if c.readable(0.3):
                break
            try:
                c.send(b"X-%d: v\r\n" % i)
            except OSError:
                break
        assert c.readable(3), "no answer to a head that never completes"
        r = c.response()
        elapsed = time.monotonic() - t0
        assert r.status == 408 and 0.85 <= elapsed <= 1.6, (r.status, elapsed)
        assert c.closed(2)
    # a connection that never sends a byte is cut too
    with Conn(p.port, timeout=5) as c:
        t0 = time.monotonic()
        data = c.read_until_close()
        elapsed = time.monotonic() - t0
        assert 0.85 <= elapsed <= 2.0, elapsed
        rs = parse_responses(data)
        assert not rs or [r.status for r in rs] == [408], rs
    # a head completed within the timeout passes
    with Conn(p.port, timeout=5) as c:
        c.send(b"GET /ok HTTP/1.1\r\n")
        time.sleep(0.5)
        c.send(b"Host: a\r\n\r\n")
        assert c.response().status == 200
    assert targets(backend) == ["/ok"]


# --- idle_timeout ------------------------------------------------------------

def test_idle_timeout_closes_idle_keepalive_connection(backend, start_portico):
    p = limited(backend, start_portico, idle_timeout="1s")
    with Conn(p.port, timeout=5) as c:
        assert c.roundtrip("GET", "/a").status == 200
        t0 = time.monotonic()
        assert not c.closed(0.5), "closed before idle_timeout"
        assert c.roundtrip("GET", "/b").status == 200   # and a request resets it
        t0 = time.monotonic()
        assert c.closed(3), "idle keep-alive connection not closed"
        elapsed = time.monotonic() - t0
        assert 0.85 <= elapsed <= 2.0, elapsed
    assert targets(backend) == ["/a", "/b"]


# --- body_timeout ------------------------------------------------------------

def test_body_timeout_client_stops_mid_body(backend, start_portico):
    p = limited(backend, start_portico, body_timeout="1s")
    for framing, part in ((b"Content-Length: 100\r\n", b"x" * 10),
                          (b"Transfer-Encoding: chunked\r\n", b"64\r\n" + b"x" * 10)):
        with Conn(p.port, timeout=6) as c:
            t0 = time.monotonic()
            c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\n" + framing + b"\r\n" + part)
            data = c.read_until_close()
            elapsed = time.monotonic() - t0
        assert 0.85 <= elapsed <= 2.5, elapsed
        rs = parse_responses(data)
        assert not rs or [r.status for r in rs] == [408], rs
    assert targets(backend) == [], "a body that never completed reached the backend whole"


def test_body_timeout_is_a_gap_not_a_total(backend, start_portico):
    p = limited(backend, start_portico, body_timeout="1s")
    with Conn(p.port, timeout=6) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n")
        for _ in range(6):     # 6 × 0.35 s > body_timeout, each gap below it
            time.sleep(0.35)
            c.send(b"x")
        r = c.response()
        assert r.status == 200 and r.json()["length"] == 6


# --- max_header_size ---------------------------------------------------------

def head_of_size(n, target=b"/"):
    """A GET head of exactly n bytes (request line + fields + final CRLF)."""
    start = b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nX-Fill: "
    fill = n - len(start) - 4
    assert fill >= 0
    head = start + b"f" * fill + b"\r\n\r\n"
    assert len(head) == n
    return head


@pytest.mark.parametrize("limit,size", [("2k", 2048), (None, 16384)])
def test_max_header_size_exact_passes_one_over_431(backend, start_portico, limit, size):
    p = limited(backend, start_portico, **({"max_header_size": limit} if limit else {}))
    with Conn(p.port) as c:
        c.send(head_of_size(size, b"/exact"))
        r = c.response()
        assert r.status == 200, "a head of exactly max_header_size was refused: %r" % r
    st, _ = status_of(p.port, head_of_size(size + 1, b"/over"))
    assert st == 431
    # a head one byte over, sent in pieces, is refused the same way
    with Conn(p.port) as c:
        h = head_of_size(size + 1, b"/over2")
        c.send(h[:size // 2])
        time.sleep(0.05)
        c.send(h[size // 2:])
        assert c.response().status == 431
    assert targets(backend) == ["/exact"]


def test_max_header_size_exact_with_long_host_passes(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    start = b"GET /long-host HTTP/1.1\r\nHost: " + b"h" * 6000 + b"\r\nX-Fill: "
    head = start + b"f" * (16384 - len(start) - 4) + b"\r\n\r\n"
    assert len(head) == 16384
    st, _ = status_of(p.port, head)
    assert st == 200, "a head of exactly max_header_size (long Host) got %d" % st
    assert targets(backend) == ["/long-host"]


def test_max_header_size_uri_414_and_head_431(backend, start_portico):
    p = limited(backend, start_portico, max_header_size="2k")
    long_uri = b"/" + b"u" * 2100
    assert status_of(p.port, b"GET " + long_uri + b" HTTP/1.1\r\nHost: a\r\n\r\n")[0] == 414
    # request line fits, the fields push the head over: 431, not 414
    st, _ = status_of(p.port, b"GET /" + b"u" * 1500 + b" HTTP/1.1\r\nHost: a\r\nX-F: " +
                      b"v" * 600 + b"\r\n\r\n")
    assert st == 431
    # a long URI inside the limit passes
    r = get(p.port, "/" + "u" * 1900)
    assert r.status == 200
    assert targets(backend) == ["/" + "u" * 1900]


# --- max_headers -------------------------------------------------------------

def head_with_fields(count, target=b"/"):
    """A GET head with exactly `count` fields, Host included."""
    fields = b"Host: a\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(count - 1))
    return b"GET " + target + b" HTTP/1.1\r\n" + fields + b"\r\n"


@pytest.mark.parametrize("limit,n", [(10, 10), (None, 100)])
def test_max_headers_exact_passes_one_more_431(backend, start_portico, limit, n):
    p = limited(backend, start_portico, **({"max_headers": limit} if limit else {}))
    with Conn(p.port) as c:
        c.send(head_with_fields(n, b"/headers"))
        r = c.response()
        assert r.status == 200, "exactly max_headers fields were refused: %r" % r
        got = [k for k, _ in r.json()["headers"] if k.startswith("X-H")]
        assert len(got) == n - 1
    st, _ = status_of(p.port, head_with_fields(n + 1, b"/over"))
    assert st == 431
    assert targets(backend) == ["/headers"]


# --- max_body_size -----------------------------------------------------------

def chunked_body(total, pieces=3):
    out, left = b"", total
    step = -(-total // pieces)
    while left:
        k = min(step, left)
        out += b"%x\r\n" % k + b"b" * k + b"\r\n"
        left -= k
    return out + b"0\r\n\r\n"


def test_max_body_size_exact_and_one_over(backend, start_portico):
    p = limited(backend, start_portico, max_body_size=1000)
    # Content-Length
    r = get(p.port, "/upload", method="POST", body=b"c" * 1000)
    assert r.status == 200 and r.json()["length"] == 1000
    st, closed = status_of(p.port, b"POST /over-cl HTTP/1.1\r\nHost: a\r\n"
                           b"Content-Length: 1001\r\n\r\n" + b"c" * 1001)
    assert st == 413
    # chunked
    with Conn(p.port) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" +
               chunked_body(1000))
        r = c.response()
        assert r.status == 200 and r.json()["length"] == 1000
    st, closed = status_of(p.port, b"POST /over-chunked HTTP/1.1\r\nHost: a\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n" + chunked_body(1001))
    assert st == 413
    assert closed, "connection kept after an unread over-limit chunked body"
    assert targets(backend) == ["/upload", "/upload"], \
        "an over-limit body reached the backend whole"


def test_max_body_size_default_10m(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    n = 10 * MiB
    r = get(p.port, "/upload", method="POST", body=b"d" * n, timeout=20)
    assert r.status == 200 and r.json()["length"] == n
    # over it: refused from the head alone
    with Conn(p.port) as c:
        c.send(b"POST /over HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % (n + 1))
        assert c.response().status == 413
    assert targets(backend) == ["/upload"]


def test_max_body_size_zero_is_unlimited(backend, start_portico):
    p = limited(backend, start_portico, max_body_size=0)
    n = 11 * MiB
    body = b"z" * n
    r = get(p.port, "/upload", method="POST", body=body, timeout=20)
    assert r.status == 200 and r.json()["length"] == n
    with Conn(p.port, timeout=20) as c:
        c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(11):
            c.send(b"100000\r\n" + b"z" * MiB + b"\r\n")
        c.send(b"0\r\n\r\n")
        r = c.response()
        assert r.status == 200 and r.json()["length"] == n
        assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()


def test_listener_limits_override_top_level(backend, start_portico):
    port = free_port()
    cfg = make_config(port, {"app": [backend]}, limits={"max_body_size": "1m"})
    cfg["listeners"][0]["limits"] = {"max_body_size": 100}
    p = start_portico(cfg)
    assert get(p.port, "/upload", method="POST", body=b"x" * 100).status == 200
    assert get(p.port, "/upload", method="POST", body=b"x" * 101).status == 413


# --- drain_timeout -----------------------------------------------------------

def test_drain_timeout_bounds_exit_with_stuck_request(backend, start_portico):
    p = limited(backend, start_portico, drain_timeout="1s")
    c = Conn(p.port, timeout=10)
    try:
        c.request("GET", "/slow/20000")
        assert backend.wait_requests(1, 3), "the slow request did not reach the backend"
        p.expect_exit = True
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(4)
        elapsed = time.monotonic() - t0
        assert rc is not None, "portico still running 4 s after SIGTERM (drain_timeout 1s)"
        assert rc == 0, rc
        assert 0.8 <= elapsed <= 2.5, "exit %.2fs after SIGTERM, drain_timeout 1s" % elapsed
        # the stuck client is not left hanging
        c.sock.settimeout(2)
        try:
            data = c.read_until_close()
        except socket.timeout:
            raise AssertionError("client connection left open after portico exited")
        rs = parse_responses(data)
        assert not rs or rs[0].status >= 500, rs
    finally:
        c.close()


# --- slow reader: back-pressure, bounded memory -----------------------------

def test_slow_reader_of_200mb_does_not_grow_memory(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    n = 200 * MiB
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    s.settimeout(5)
    s.connect((HOST, p.port))
    try:
        # warm up the buffers and the upstream pool
        assert get(p.port, "/bytes/100000").status == 200
        base = rss_kib(p.proc.pid)
        s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: a\r\n\r\n" % n)
        got = bytearray()
        peak = base
        t_end = time.monotonic() + 2.5
        while time.monotonic() < t_end:
            got += s.recv(16384)
            time.sleep(0.01)
            peak = max(peak, rss_kib(p.proc.pid))
        head, _, body = bytes(got).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:100]
        assert body == pattern(len(body)), "relayed bytes differ from the upstream's"
        assert len(body) < n // 4, "the client read more than it asked for?"
        grown = peak - base
        print("read %d bytes slowly; RSS %d KiB -> peak %d KiB" % (len(body), base, peak))
        assert grown < 20 * 1024, "portico grew by %d KiB for a slow reader" % grown
    finally:
        s.close()
    # the abandoned transfer does not hurt others
    assert get(p.port, "/bytes/10").status == 200
    assert rss_kib(p.proc.pid) - base < 20 * 1024


# --- upstream stalls or dies mid-response -----------------------------------

def test_upstream_stall_mid_response_closes_client(backend, start_portico):
    """/drip sends its head at once and then one piece every 2 s: with a
    response_timeout of 500 ms as the read gap, the client connection must be
    closed soon, never left hanging, and never completed with a guess."""
    p = start_portico(make_config(free_port(), {"app": {
        "servers": [{"address": backend.address}], "response_timeout": "500ms"}}))
    with Conn(p.port, timeout=6) as c:
        t0 = time.monotonic()
        c.request("GET", "/drip/1000/20000")
        try:
            data = c.read_until_close()
        except socket.timeout:
            raise AssertionError("client left hanging on a stalled upstream")
        elapsed = time.monotonic() - t0
    assert elapsed < 2.5, "closed only after %.2fs" % elapsed
    head, _, body = data.partition(b"\r\n\r\n")
    if head:
        assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.1 504"), head
        if head.startswith(b"HTTP/1.1 200"):
            assert len(body) < 1000, "a stalled body was completed"
    assert get(p.port, "/bytes/10").status == 200


def test_upstream_dies_mid_response(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    with Conn(p.port, timeout=5) as c:
        c.request("GET", "/abort/1000000/5000")
        try:
            data = c.read_until_close()
        except socket.timeout:
            raise AssertionError("client left hanging after the upstream reset")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.1 502"), data[:200]
    if head.startswith(b"HTTP/1.1 200"):
        assert len(body) <= 5000 and body == pattern(len(body))
    # a keep-alive client pipelining behind it is not answered out of sync
    out, closed = exchange(p.port, b"GET /abort/100000/100 HTTP/1.1\r\nHost: a\r\n\r\n"
                           b"GET /bytes/10 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert closed
    assert len(out.partition(b"\r\n\r\n")[2]) <= 100
    # portico keeps serving others
    for _ in range(5):
        r = get(p.port, "/bytes/1000")
        assert r.status == 200 and r.body == pattern(1000)
    assert p.proc.poll() is None


# --- half-closed clients -----------------------------------------------------

@pytest.mark.parametrize("data,expect", [
    (b"GET /bytes/300000 HTTP/1.1\r\nHost: a\r\n\r\n", 300000),
    (b"GET /slow/300 HTTP/1.1\r\nHost: a\r\n\r\n", None),
    (b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", None),
    (b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", None),
    (b"GET /chunked/200000 HTTP/1.0\r\n\r\n", 200000),
    (b"GET /slow/200 HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/7 HTTP/1.1\r\nHost: a\r\n\r\n",
     None),
], ids=["download", "slow-upstream", "upload-cl", "upload-chunked", "http10", "pipelined"])
def test_half_closed_client_still_gets_response(backend, start_portico, data, expect):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    out, closed = exchange(p.port, data, timeout=5, shut_wr=True)
    rs = parse_responses(out)
    assert rs and rs[0].status == 200, out[:300]
    if expect:
        assert rs[0].body == pattern(expect)
    if data.startswith(b"POST"):
        assert rs[0].json()["length"] == 5
    if data.count(b"HTTP/1.1\r\n") == 2:
        assert [r.status for r in rs] == [200, 200] and rs[1].body == pattern(7), rs
    assert closed, "connection not closed after answering a half-closed client"


# --- out of file descriptors -------------------------------------------------

def test_out_of_file_descriptors_no_spin_and_recovers(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    assert get(p.port, "/before").status == 200
    resource.prlimit(p.proc.pid, resource.RLIMIT_NOFILE, (64, 64))
    conns = []
    try:
        for _ in range(120):     # more than 64: the rest wait in the backlog
            conns.append(socket.create_connection((HOST, p.port), timeout=2))
        time.sleep(0.3)
        c0 = cpu_seconds(p.proc.pid)
        t0 = time.monotonic()
        time.sleep(1.0)
        used = cpu_seconds(p.proc.pid) - c0
        wall = time.monotonic() - t0
        print("CPU %.3fs over %.3fs with descriptors exhausted" % (used, wall))
        assert used < 0.25 * wall, "portico spins while out of descriptors: %.2fs CPU in " \
            "%.2fs" % (used, wall)
        assert p.proc.poll() is None
    finally:
        for s in conns:
            s.close()
    wait_served(p.port, timeout=5, target="/after")
    for _ in range(5):
        assert get(p.port, "/after").status == 200
    assert p.proc.poll() is None
