"""PRODUCT.md §2 listeners[].http2: HTTP/2 to clients (h2c with prior knowledge,
h2 through ALPN on TLS), each stream proxied to the HTTP/1.1 upstream pool;
limits and the defences against known HTTP/2 abuse; GOAWAY on shutdown.
Clients: curl, nghttp, h2load, and the python3-h2 state machine on a raw
socket for what the others cannot send."""

import hashlib
import json
import socket
import ssl
import struct
import subprocess
import time

import h2.events
import h2.settings
import pytest

from backend import pattern
from h2client import H2Client, h2_config
from helpers import HOST, curl, free_port, make_config, rss_kib
from pki import Pki


def url(p, path="/"):
    return "http://%s:%d%s" % (HOST, p.port, path)


def goaway(events):
    return any(isinstance(e, h2.events.ConnectionTerminated) for e in events)


# --- plain use ---------------------------------------------------------------

def test_h2c_prior_knowledge_with_curl(backend, start_portico):
    p = start_portico(h2_config(backend))
    r = curl("--http2-prior-knowledge", "-w", "\n%{http_version}", url(p, "/headers?x=1"))
    assert r.returncode == 0, r.stderr
    body, version = r.stdout.rsplit(b"\n", 1)
    assert version == b"2"
    rec = json.loads(body)
    assert (rec["method"], rec["target"], rec["version"]) == ("GET", "/headers?x=1", "HTTP/1.1")
    headers = {k.lower(): v for k, v in rec["headers"]}
    assert headers["host"] == "%s:%d" % (HOST, p.port)
    assert headers["x-forwarded-proto"] == "http"
    time.sleep(0.3)
    line = json.loads(p.stdout().strip().splitlines()[-1])
    assert line["protocol"] == "HTTP/2.0" and line["status"] == 200


def test_without_http2_the_preface_is_refused(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    r = curl("--http2-prior-knowledge", url(p), timeout=5)
    assert r.returncode != 0
    assert backend.requests == []


def test_large_bodies_both_ways_hash_checked(backend, start_portico, tmp_path):
    p = start_portico(h2_config(backend))
    size = 20 << 20
    r = curl("--http2-prior-knowledge", url(p, "/bytes/%d" % size))
    assert hashlib.sha256(r.stdout).digest() == hashlib.sha256(pattern(size)).digest()
    r = curl("--http2-prior-knowledge", url(p, "/chunked/%d" % (3 << 20)))
    assert r.stdout == pattern(3 << 20)
    up = tmp_path / "up.bin"
    data = bytes(range(256)) * (24 << 10)  # 6 MiB
    up.write_bytes(data)
    r = curl("--http2-prior-knowledge", "--data-binary", "@%s" % up, url(p, "/upload"))
    assert json.loads(r.stdout)["sha256"] == hashlib.sha256(data).hexdigest()


def test_body_without_content_length_goes_chunked(backend, start_portico):
    p = start_portico(h2_config(backend))
    c = H2Client(p.port)
    sid = c.request("/upload", method="POST", end=False)
    data = bytes(range(256)) * 1000
    c.send_body(sid, data)
    status, _, body = c.response(sid)
    c.close()
    assert status == 200
    assert json.loads(body)["sha256"] == hashlib.sha256(data).hexdigest()
    rec = backend.requests[-1]
    headers = {k.lower(): v for k, v in rec["headers"]}
    assert headers["transfer-encoding"] == "chunked"


def test_body_buffered_while_queued_is_relayed_whole(backend, start_portico):
    """The stream's whole window of body arrives while the request waits
    for a free server connection; the relay must then read all of it, not
    stop when one read leaves bytes behind."""
    server = {"address": backend.address, "max_connections": 1}
    p = start_portico(h2_config(backend) | {"upstreams": {"app": {"servers": [server]}}})
    c = H2Client(p.port, timeout=10)
    slow = c.request("/slow/800")
    time.sleep(0.2)  # the slow request holds the only connection
    sid = c.request("/upload", method="POST", end=False)
    data = bytes(range(256)) * 1000
    c.send_body(sid, data)
    assert c.response(slow)[0] == 200
    status, _, body = c.response(sid)
    c.close()
    assert status == 200
    assert json.loads(body)["sha256"] == hashlib.sha256(data).hexdigest()


def test_cookie_crumbs_are_joined(backend, start_portico):
    p = start_portico(h2_config(backend))
    c = H2Client(p.port)
    sid = c.request("/headers", [("cookie", "a=1"), ("cookie", "b=2")])
    status, _, body = c.response(sid)
    c.close()
    assert status == 200
    cookies = [v for k, v in json.loads(body)["headers"] if k.lower() == "cookie"]
    assert cookies == ["a=1; b=2"]


def test_streams_run_concurrently(backend, start_portico):
    p = start_portico(h2_config(backend))
    c = H2Client(p.port, timeout=10)
    started = time.monotonic()
    sids = [c.request("/slow/400") for _ in range(40)]
    statuses = [c.response(s, 10)[0] for s in sids]
    c.close()
    assert statuses == [200] * 40
    assert time.monotonic() - started < 3  # 40 x 0.4 s one after another would be 16 s


def test_h2load_and_nghttp(backend, start_portico):
    p = start_portico(h2_config(backend))
    r = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "32", url(p, "/bytes/1024")],
                       capture_output=True, text=True, timeout=60)
    assert "2000 succeeded, 0 failed" in r.stdout, r.stdout
    assert "status codes: 2000 2xx" in r.stdout
    r = subprocess.run(["nghttp", "-n", "-s", url(p, "/bytes/5000")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr


def test_local_answers_and_routes_work_over_h2(backend, start_portico):
    cfg = h2_config(backend)
    cfg["routes"] = [{"match": {"path_exact": "/ok"}, "respond": {"status": 200, "body": "fine"}},
                     {"match": {"path_prefix": "/app/"}, "upstream": "app"}]
    p = start_portico(cfg)
    c = H2Client(p.port)
    ok, missing, proxied, head = (c.request("/ok"), c.request("/nothing"), c.request("/app/x"),
                                  c.request("/app/bytes/100", method="HEAD"))
    assert c.response(ok)[0::2] == (200, b"fine")
    assert c.response(missing)[0] == 404
    assert c.response(proxied)[0] == 200
    status, headers, body = c.response(head)
    c.close()
    assert (status, body) == (200, b"")  # HEAD: the backend's answer, no body


# --- TLS and ALPN ------------------------------------------------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pki = Pki(tmp_path_factory.mktemp("pki"))
    ca = pki.ca("H2 CA")
    return {"ca": ca, "leaf": pki.leaf(ca, "h2site", ["example.com"])}


def test_h2_over_tls_via_alpn(backend, site, start_portico):
    cfg = h2_config(backend)
    cfg["listeners"][0]["tls"] = {"certificates": [{"cert": site["leaf"]["cert"],
                                                    "key": site["leaf"]["key"]}]}
    p = start_portico(cfg)
    base = ["--cacert", site["ca"]["cert"], "--resolve", "example.com:%d:%s" % (p.port, HOST)]
    r = curl(*base, "--http2", "-w", "\n%{http_version}",
             "https://example.com:%d/headers" % p.port)
    body, version = r.stdout.rsplit(b"\n", 1)
    assert version == b"2", r.stderr
    headers = {k.lower(): v for k, v in json.loads(body)["headers"]}
    assert headers["x-forwarded-proto"] == "https"
    r = curl(*base, "--http1.1", "-o", "/dev/null", "-w", "%{http_version}",
             "https://example.com:%d/" % p.port)
    assert r.stdout == b"1.1"
    r = subprocess.run(["h2load", "-n", "1000", "-c", "2", "-m", "16",
                        "https://%s:%d/bytes/1024" % (HOST, p.port)],
                       capture_output=True, text=True, timeout=60)
    assert "1000 succeeded, 0 failed" in r.stdout, r.stdout
    ctx = ssl.create_default_context(cafile=site["ca"]["cert"])
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with ctx.wrap_socket(socket.create_connection((HOST, p.port), timeout=5),
                         server_hostname="example.com") as s:
        assert s.selected_alpn_protocol() == "h2"


# --- limits and abuse --------------------------------------------------------

def test_header_list_over_the_limit_gets_431(backend, start_portico):
    p = start_portico(h2_config(backend, limits={"max_header_size": "4k"}))
    c = H2Client(p.port)
    big = c.request("/", [("x-big", "a" * 3000), ("x-big2", "b" * 3000)])
    many = c.request("/", [("x-n%d" % i, "1") for i in range(150)])
    fine = c.request("/")
    assert c.response(big)[0] == 431
    assert c.response(many)[0] == 431
    assert c.response(fine)[0] == 200
    c.close()
    time.sleep(0.3)
    lines = [json.loads(x) for x in p.stdout().strip().splitlines()]
    assert sorted((x["protocol"], x["status"]) for x in lines) == [
        ("HTTP/2.0", 200), ("HTTP/2.0", 431), ("HTTP/2.0", 431)]
    assert len(backend.requests) == 1


def rapid_reset(port):
    """Opens and resets streams until the connection is cut; True if it was."""
    c = H2Client(port)
    try:
        for _ in range(1000):
            sid = c.request("/slow/1000")
            c.conn.reset_stream(sid)
            c.flush()
        c.pump(goaway, 5)
    except (BrokenPipeError, ConnectionResetError):
        c.closed = True  # cut while still sending
    c.close()
    return goaway(c.events) or c.closed


def test_rapid_reset_cuts_the_connection(backend, start_portico):
    p = start_portico(h2_config(backend))
    assert rapid_reset(p.port)
    assert len(backend.requests) < 1000
    assert curl("--http2-prior-knowledge", url(p)).stdout == b"b1\n"


def test_rapid_reset_memory_stays_flat(backend, start_portico):
    p = start_portico(h2_config(backend, workers=1))  # each worker warms up its own memory
    assert rapid_reset(p.port)
    before = rss_kib(p.proc.pid)  # after one attack: allocators warmed up
    for _ in range(3):
        assert rapid_reset(p.port)
    assert rss_kib(p.proc.pid) - before < 10000


def frame(kind, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", sid) + payload


def raw_h2(port):
    s = socket.create_connection((HOST, port), timeout=5)
    s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0))
    return s


def cut_within(s, seconds):
    """True if the peer ends the connection within seconds (reading all)."""
    deadline = time.monotonic() + seconds
    s.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            if not s.recv(65536):
                return True
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def test_continuation_flood_cuts_the_connection(backend, start_portico):
    p = start_portico(h2_config(backend))
    s = raw_h2(p.port)
    # HEADERS without END_HEADERS, then endless CONTINUATION frames
    s.sendall(frame(1, 0, 1, b"\x82\x84\x86"))  # :method GET, :path /, :scheme http
    try:
        for _ in range(2000):
            s.sendall(frame(9, 0, 1, b"\x40\x01a\x01b"))
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert cut_within(s, 5)
    s.close()
    assert backend.requests == []


def test_ping_and_settings_floods_cut_the_connection(backend, start_portico):
    p = start_portico(h2_config(backend))
    for kind, payload in ((6, b"12345678"), (4, b"")):
        s = raw_h2(p.port)
        try:
            s.sendall(frame(kind, 0, 0, payload) * 5000)
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert cut_within(s, 5), kind
        s.close()
    assert curl("--http2-prior-knowledge", url(p)).stdout == b"b1\n"


def test_zero_window_stall_is_cut_at_idle_timeout(backend, start_portico):
    p = start_portico(h2_config(backend, workers=1, limits={"idle_timeout": "1s"}))
    c = H2Client(p.port, settings={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 0})
    before = rss_kib(p.proc.pid)
    sid = c.request("/bytes/%d" % (50 << 20))
    started = time.monotonic()
    c.pump(lambda evs: any(isinstance(e, h2.events.StreamReset) and e.stream_id == sid
                           for e in evs), 6)
    assert 0.8 < time.monotonic() - started < 5
    assert rss_kib(p.proc.pid) - before < 10000
    c.close()


def test_slow_reader_is_back_pressured(backend, start_portico):
    p = start_portico(h2_config(backend, workers=1))
    c = H2Client(p.port)
    before = rss_kib(p.proc.pid)
    sid = c.request("/bytes/%d" % (200 << 20))
    c.pump(lambda evs: any(isinstance(e, h2.events.ResponseReceived) for e in evs))
    time.sleep(1.5)  # the client reads nothing more and opens no window
    grown = rss_kib(p.proc.pid) - before
    c.conn.reset_stream(sid)
    c.flush()
    c.close()
    assert grown < 10000, grown


def test_graceful_stop_sends_goaway_and_finishes_streams(backend, start_portico):
    p = start_portico(h2_config(backend))
    idle = H2Client(p.port, timeout=10)
    assert idle.response(idle.request("/"))[0] == 200
    slow = subprocess.Popen(["curl", "-sS", "--noproxy", "*", "--max-time", "10",
                             "--http2-prior-knowledge", url(p, "/slow/800")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    p.proc.send_signal(15)
    p.expect_exit = True
    out, err = slow.communicate(timeout=15)
    assert (slow.returncode, out) == (0, b"b1\n"), err
    idle.pump(goaway, 5)
    assert goaway(idle.events)
    idle.close()
    assert p.wait(10) == 0


def test_reload_sends_goaway_and_new_connections_use_the_new_config(backend, start_portico):
    from helpers import yaml_dump
    cfg = h2_config(backend)
    p = start_portico(cfg)
    c = H2Client(p.port)
    assert c.response(c.request("/"))[0::2] == (200, b"b1\n")
    cfg["routes"] = [{"match": {"path_prefix": "/"}, "respond": {"status": 200, "body": "new"}}]
    p.config_path.write_text(yaml_dump(cfg) + "\n")
    p.send_signal(1)
    c.pump(goaway, 5)
    assert goaway(c.events)
    c.pump(lambda evs: False, 2)  # then the connection closes
    assert c.closed
    c.close()
    assert curl("--http2-prior-knowledge", url(p)).stdout == b"new"


def test_quick_mode_http2(backend, tmp_path):
    from helpers import Portico
    port = free_port()
    p = Portico(["--listen", "%s:%d" % (HOST, port), "--upstream", backend.address, "--http2"],
                tmp_path, port)
    p.start()
    try:
        r = curl("--http2-prior-knowledge", "-w", "|%{http_version}", "http://%s:%d/" % (HOST, port))
        assert r.stdout == b"b1\n|2", r.stderr
    finally:
        assert p.stop() == (0, False)


def test_quick_mode_tls_and_http2(backend, site, tmp_path):
    from helpers import Portico
    port = free_port()
    p = Portico(["--listen", "%s:%d" % (HOST, port), "--upstream", backend.address,
                 "--tls-cert", site["leaf"]["cert"], "--tls-key", site["leaf"]["key"], "--http2"],
                tmp_path, port)
    p.start()
    try:
        r = curl("--cacert", site["ca"]["cert"], "--resolve", "example.com:%d:%s" % (port, HOST),
                 "--http2", "-w", "|%{http_version}", "https://example.com:%d/" % port)
        assert r.stdout == b"b1\n|2", r.stderr
    finally:
        assert p.stop() == (0, False)
