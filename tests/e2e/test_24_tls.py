"""PRODUCT.md §2 listeners[].tls: TLS termination — SNI among certificates,
ALPN, min_version, mutual TLS, session resumption, reload of certificates,
handshake timeout, quick mode; clients are curl and Python's ssl."""

import hashlib
import json
import signal
import socket
import ssl
import time

import pytest

from backend import pattern
from helpers import HOST, Conn, _Buf, curl, free_port, make_config, wait_port
from pki import Pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    ca = p.ca("Test CA")
    return {
        "pki": p,
        "ca": ca,
        "site": p.leaf(ca, "site", ["example.com", "www.example.com"]),
        "wild": p.leaf(ca, "wild", ["*.wild.test"]),
        "other": p.leaf(ca, "other", ["example.com"]),
        "client": p.leaf(ca, "client1", client=True),
        "rogue_ca": p.ca("Rogue CA"),
    }


def certs(*leaves):
    return [{"cert": x["cert"], "key": x["key"]} for x in leaves]


def tls_config(backend, pki, tls=None, **top):
    cfg = make_config(free_port(), {"app": [backend]}, **top)
    cfg["listeners"][0]["tls"] = tls or {"certificates": certs(pki["site"], pki["wild"])}
    return cfg


class TlsConn(Conn):
    """Conn over an established TLS socket."""

    def __init__(self, sock, timeout=5.0):
        self.timeout = timeout
        self.sock = sock
        self.b = _Buf(self._recv)


def client_context(pki, alpn=None, max_version=None, cert=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(pki["ca"]["cert"])
    ctx.check_hostname = False  # names are checked by serial below
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if max_version:
        ctx.maximum_version = max_version
    if cert:
        ctx.load_cert_chain(cert["cert"], cert["key"])
    return ctx


def handshake(port, ctx, server_name=None, session=None):
    raw = socket.create_connection((HOST, port), timeout=5)
    try:
        return ctx.wrap_socket(raw, server_hostname=server_name, session=session)
    except Exception:
        raw.close()
        raise


def served_serial(port, pki, server_name):
    with handshake(port, client_context(pki), server_name) as s:
        return int(s.getpeercert()["serialNumber"], 16)


def https_get(port, ctx, target="/headers", server_name="example.com"):
    with TlsConn(handshake(port, ctx, server_name)) as c:
        return c.roundtrip("GET", target)


def test_curl_over_tls_reaches_backend_with_https_proto(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    r = curl("--cacert", pki["ca"]["cert"], "--resolve", "example.com:%d:%s" % (p.port, HOST),
             "https://example.com:%d/headers" % p.port)
    assert r.returncode == 0, r.stderr
    rec = json.loads(r.stdout)
    headers = {k.lower(): v for k, v in rec["headers"]}
    assert headers["x-forwarded-proto"] == "https"
    assert headers["host"] == "example.com:%d" % p.port


def test_sni_picks_certificate_by_exact_and_wildcard_name(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    assert served_serial(p.port, pki, "www.example.com") == pki["site"]["serial"]
    assert served_serial(p.port, pki, "EXAMPLE.com") == pki["site"]["serial"]
    assert served_serial(p.port, pki, "a.wild.test") == pki["wild"]["serial"]
    # a wildcard covers one label only; unknown names and no SNI get the default
    assert served_serial(p.port, pki, "a.b.wild.test") == pki["site"]["serial"]
    assert served_serial(p.port, pki, "unknown.test") == pki["site"]["serial"]
    assert served_serial(p.port, pki, None) == pki["site"]["serial"]


def test_exact_name_beats_an_earlier_wildcard(backend, pki, start_portico):
    wild_com = pki["pki"].leaf(pki["ca"], "wildcom", ["*.example.com"])
    tls = {"certificates": certs(wild_com, pki["site"])}
    p = start_portico(tls_config(backend, pki, tls))
    assert served_serial(p.port, pki, "www.example.com") == pki["site"]["serial"]
    assert served_serial(p.port, pki, "api.example.com") == wild_com["serial"]


def test_keep_alive_requests_and_large_bodies(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    size = 4 << 20
    with TlsConn(handshake(p.port, client_context(pki), "example.com"), timeout=20) as c:
        for _ in range(3):
            r = c.roundtrip("GET", "/bytes/%d" % size)
            assert r.status == 200
            assert hashlib.sha256(r.body).digest() == hashlib.sha256(pattern(size)).digest()
        body = bytes(range(256)) * (12 << 10)  # 3 MiB
        r = c.roundtrip("POST", "/upload", body=body)
        assert r.status == 200
        assert r.json()["sha256"] == hashlib.sha256(body).hexdigest()
        r = c.roundtrip("GET", "/chunked/100000")
        assert r.body == pattern(100000)
    conns = [(x["target"], x["conn_id"]) for x in backend.requests]
    assert len({conn for _, conn in conns}) == 1, conns


def test_requests_in_records_of_one_segment_are_all_answered(backend, pki, start_portico):
    """Several TLS records reach portico in one TCP segment: OpenSSL reads
    them all at once, and each request is answered without a new edge."""
    p = start_portico(tls_config(backend, pki))
    s = handshake(p.port, client_context(pki), "example.com")
    with TlsConn(s) as c:
        c.roundtrip("GET", "/headers")
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        for i in range(5):  # one record each, held back by the cork
            c.request("GET", "/headers?n=%d" % i)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        statuses = [c.response().status for _ in range(5)]
    assert statuses == [200] * 5
    assert [x["target"] for x in backend.requests[-5:]] == ["/headers?n=%d" % i for i in range(5)]


def test_alpn_chooses_http11_without_http2(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    with handshake(p.port, client_context(pki, alpn=["h2", "http/1.1"])) as s:
        assert s.selected_alpn_protocol() == "http/1.1"
    r = curl("--http2", "-k", "-o", "/dev/null", "-w", "%{http_version}",
             "https://%s:%d/" % (HOST, p.port))
    assert r.stdout == b"1.1"


def test_min_version_default_accepts_12_and_13(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    for v, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        with handshake(p.port, client_context(pki, max_version=v)) as s:
            assert s.version() == name
    r = curl("-k", "--tls-max", "1.2", "-o", "/dev/null", "-w", "%{http_code}",
             "https://%s:%d/" % (HOST, p.port))
    assert r.stdout == b"200"


def test_min_version_13_refuses_12(backend, pki, start_portico):
    tls = {"certificates": certs(pki["site"]), "min_version": "1.3"}
    p = start_portico(tls_config(backend, pki, tls))
    with pytest.raises(ssl.SSLError):
        handshake(p.port, client_context(pki, max_version=ssl.TLSVersion.TLSv1_2)).close()
    r = curl("-k", "--tls-max", "1.2", "https://%s:%d/" % (HOST, p.port))
    assert r.returncode != 0
    assert https_get(p.port, client_context(pki)).status == 200


def test_mutual_tls_requires_a_client_certificate(backend, pki, start_portico):
    tls = {"certificates": certs(pki["site"]), "client_ca": pki["ca"]["cert"]}
    routes = [{"match": {"path_prefix": "/"}, "upstream": "app",
               "set_request_headers": {"X-Client-Subject": "$ssl_client_s_dn"}}]
    cfg = tls_config(backend, pki, tls)
    cfg["routes"] = routes
    p = start_portico(cfg)
    r = https_get(p.port, client_context(pki, cert=pki["client"]))
    assert r.status == 200
    headers = {k.lower(): v for k, v in r.json()["headers"]}
    assert headers["x-client-subject"] == "CN=client1,O=portico tests"
    # without a certificate (TLS 1.3 reports it at the first read)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(p.port, client_context(pki))
    # a certificate from another CA
    rogue = pki["pki"].leaf(pki["rogue_ca"], "rogue-client", client=True)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(p.port, client_context(pki, cert=rogue))
    assert len(backend.requests) == 1


def test_session_resumption_across_connections_and_reload(backend, pki, start_portico):
    cfg = tls_config(backend, pki, workers=2)
    p = start_portico(cfg)
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = client_context(pki, max_version=version)
        with TlsConn(handshake(p.port, ctx, "example.com")) as c:
            assert c.roundtrip("GET", "/").status == 200  # TLS 1.3 tickets come after
            session = c.sock.session
        reused = 0
        for _ in range(8):  # spread over both workers
            with TlsConn(handshake(p.port, ctx, "example.com", session)) as c:
                assert c.roundtrip("GET", "/").status == 200
                reused += c.sock.session_reused
        assert reused == 8, version
    # the ticket keys outlive a reload
    ctx = client_context(pki)
    with TlsConn(handshake(p.port, ctx, "example.com")) as c:
        c.roundtrip("GET", "/")
        session = c.sock.session
    p.send_signal(signal.SIGHUP)
    time.sleep(1.2)
    with handshake(p.port, ctx, "example.com", session) as s:
        assert s.session_reused


def test_reload_swaps_certificates(backend, pki, start_portico):
    cfg = tls_config(backend, pki, {"certificates": certs(pki["site"])})
    p = start_portico(cfg)
    assert served_serial(p.port, pki, "example.com") == pki["site"]["serial"]
    held = TlsConn(handshake(p.port, client_context(pki), "example.com"))
    cfg["listeners"][0]["tls"] = {"certificates": certs(pki["other"])}
    from helpers import yaml_dump
    p.config_path.write_text(yaml_dump(cfg) + "\n")
    p.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while served_serial(p.port, pki, "example.com") != pki["other"]["serial"]:
        assert time.monotonic() < deadline, "new certificate not served"
        time.sleep(0.1)
    with held:  # a connection made before the reload goes on
        assert held.roundtrip("GET", "/").status == 200


@pytest.mark.parametrize("what,expect", [
    ("missing-cert", "cannot read certificate"),
    ("missing-key", "cannot read key"),
    ("wrong-key", "the key does not match the certificate"),
    ("not-pem", "not a PEM certificate chain"),
    ("old-version", "TLS 1.1 is not offered"),
    ("no-certs", "at least one certificate is required"),
])
def test_bad_tls_settings_are_config_errors(pki, tmp_path, what, expect):
    site, other = pki["site"], pki["other"]
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    entry = {"cert": site["cert"], "key": site["key"]}
    tls = {"certificates": [entry]}
    if what == "missing-cert":
        entry["cert"] = str(tmp_path / "nope.pem")
    elif what == "missing-key":
        entry["key"] = str(tmp_path / "nope.key")
    elif what == "wrong-key":
        entry["key"] = other["key"]
    elif what == "not-pem":
        entry["cert"] = str(junk)
    elif what == "old-version":
        tls["min_version"] = "1.1"
    elif what == "no-certs":
        tls["certificates"] = []
    from helpers import run_portico, yaml_dump
    cfg = make_config(free_port(), {"app": ["127.0.0.1:9"]})
    cfg["listeners"][0]["tls"] = tls
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 1
    err = r.stderr
    assert expect in err, err
    assert err.startswith("%s:" % path)
    line = int(err.split(":")[1])
    text = path.read_text().splitlines()[line - 1]
    key = {"missing-cert": "cert", "not-pem": "cert", "missing-key": "key",
           "wrong-key": "key", "old-version": "min_version",
           "no-certs": "certificates"}[what]
    assert key in text, (text, err)


def test_handshake_timeout_and_garbage_close_silently(backend, pki, start_portico):
    cfg = tls_config(backend, pki, limits={"header_timeout": "1s"})
    p = start_portico(cfg)
    idle = socket.create_connection((HOST, p.port), timeout=5)
    junk = socket.create_connection((HOST, p.port), timeout=5)
    junk.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        answer = junk.recv(4096)
    except ConnectionResetError:
        answer = b""
    assert answer[:1] != b"H"  # at most a TLS alert, never HTTP
    started = time.monotonic()
    assert idle.recv(4096) == b""
    assert 0.5 < time.monotonic() - started < 4
    idle.close()
    junk.close()
    assert https_get(p.port, client_context(pki)).status == 200


def test_quick_mode_tls(backend, pki, tmp_path):
    from helpers import Portico
    port = free_port()
    p = Portico(["--listen", "%s:%d" % (HOST, port), "--upstream", backend.address,
                 "--tls-cert", pki["site"]["cert"], "--tls-key", pki["site"]["key"]],
                tmp_path, port)
    p.start()
    try:
        r = curl("--cacert", pki["ca"]["cert"], "--resolve",
                 "example.com:%d:%s" % (port, HOST), "https://example.com:%d/" % port)
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"b1\n"
    finally:
        assert p.stop() == (0, False)
    assert wait_port(port, 0.1) is False


def test_closing_sends_close_notify(backend, pki, start_portico):
    p = start_portico(tls_config(backend, pki))
    ctx = client_context(pki)
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Python sets it by default
    raw = socket.create_connection((HOST, p.port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="example.com", suppress_ragged_eofs=False)
    s.sendall(b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n")
    got = b""
    while True:
        chunk = s.recv(65536)  # SSLEOFError if the close was not announced
        if not chunk:
            break
        got += chunk
    s.close()
    assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"b1\n")
