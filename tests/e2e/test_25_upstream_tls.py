"""PRODUCT.md §2 upstreams.*.tls: portico talks TLS to the servers —
verified against `ca` and the `sni` name (or the `dns:` name), sent in SNI;
a handshake that fails is a connect error (502, retried on another server,
counted by passive health); pooled TLS connections are reused; active
health checks speak TLS too; bad settings are config errors at their line.
Backends are backend.py's, wrapped in Python's ssl."""

import contextlib
import hashlib
import time

import pytest

from backend import Backend, pattern_sha256
from helpers import Conn, free_port, get, make_config, run_portico, yaml_dump
from pki import Pki
from test_13_health import wait_for
from test_17_dns import dns  # noqa: F401 - the dnsmasq fixture

MiB = 1 << 20


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    p = Pki(tmp_path_factory.mktemp("pki"))
    ca = p.ca("Upstream CA")
    rogue_ca = p.ca("Rogue CA")
    return {
        "ca": ca,
        "rogue_ca": rogue_ca,
        "app": p.leaf(ca, "app", ["app.test", "www.app.test"]),
        "other": p.leaf(ca, "other", ["other.test"]),
        "rogue": p.leaf(rogue_ca, "rogue", ["app.test"]),
    }


@pytest.fixture
def start_tls_backend():
    """start_tls_backend(pki_leaf, name, port) -> a started HTTPS Backend,
    stopped at teardown."""
    with contextlib.ExitStack() as backends:
        yield lambda leaf, name="t1", port=0: backends.enter_context(
            Backend(name, port=port, tls=(leaf["cert"], leaf["key"])))


@pytest.fixture
def tls_backend(pki, start_tls_backend):
    return start_tls_backend(pki["app"])


def tls_upstream(servers, **tls):
    return {"servers": [{"address": s.address} for s in servers], "tls": tls}


def config(port, up, **top):
    return make_config(port, {"app": up}, **top)


def verified(pki, **more):
    return dict({"sni": "app.test", "verify": True, "ca": pki["ca"]["cert"]}, **more)


def nothing_alarming(p):
    err = p.stderr()
    assert " error: " not in err and "Sanitizer" not in err and "runtime error" not in err, err


def test_verified_tls_reaches_the_backend_with_sni(pki, tls_backend, start_portico):
    port = free_port()
    start_portico(config(port, tls_upstream([tls_backend], **verified(pki))))
    r = get(port, "/headers")
    assert r.status == 200, r
    rec = r.json()
    assert rec["tls"] is True
    assert rec["sni"] == "app.test"


def test_without_sni_the_chain_alone_is_verified(pki, tls_backend, start_portico):
    port = free_port()
    start_portico(config(port, tls_upstream([tls_backend], ca=pki["ca"]["cert"])))
    r = get(port, "/headers")
    assert r.status == 200, r
    assert r.json()["tls"] is True and r.json()["sni"] is None


@pytest.mark.parametrize("what", ["wrong-ca", "wrong-sni"])
def test_a_certificate_that_does_not_verify_is_502(pki, tls_backend, start_portico, what):
    port = free_port()
    tls = verified(pki)
    if what == "wrong-ca":
        tls["ca"] = pki["rogue_ca"]["cert"]
    else:
        tls["sni"] = "other.test"
    p = start_portico(config(port, tls_upstream([tls_backend], **tls)))
    for _ in range(3):
        r = get(port, "/")
        assert r.status == 502, r
    assert tls_backend.requests == []
    assert p.proc.poll() is None
    nothing_alarming(p)


def test_verify_false_accepts_any_certificate(pki, tls_backend, start_portico):
    port = free_port()
    tls = verified(pki, verify=False, ca=pki["rogue_ca"]["cert"], sni="other.test")
    start_portico(config(port, tls_upstream([tls_backend], **tls)))
    r = get(port, "/headers")
    assert r.status == 200, r
    assert r.json()["sni"] == "other.test"


def test_dns_name_is_the_default_sni(pki, tls_backend, start_portico, dns):  # noqa: F811
    dns.set("127.0.0.1")
    time.sleep(0.2)
    port = free_port()
    up = {"dns": "app.test:%d" % tls_backend.port, "tls": {"ca": pki["ca"]["cert"]}}
    start_portico(config(port, up, resolver=dns.address))
    r = get(port, "/headers")
    assert r.status == 200, r
    assert r.json()["sni"] == "app.test"


def test_dns_name_is_verified_against_the_certificate(pki, start_tls_backend, start_portico,
                                                      dns):  # noqa: F811
    b = start_tls_backend(pki["other"])
    dns.set("127.0.0.1")
    time.sleep(0.2)
    port = free_port()
    up = {"dns": "app.test:%d" % b.port, "tls": {"ca": pki["ca"]["cert"]}}
    start_portico(config(port, up, resolver=dns.address))
    assert get(port, "/").status == 502
    assert b.requests == []


def test_pooled_tls_connection_is_reused(pki, tls_backend, start_portico):
    port = free_port()
    start_portico(config(port, tls_upstream([tls_backend], **verified(pki)), workers=1))
    for _ in range(5):
        assert get(port, "/").status == 200
    with Conn(port) as c:
        for _ in range(5):
            assert c.roundtrip("GET", "/").status == 200
    assert len({rec["conn_id"] for rec in tls_backend.requests}) == 1
    assert tls_backend.connections == 1


def test_new_connections_resume_the_servers_session(pki, tls_backend, start_portico):
    """Without a pool every request connects anew: the first handshake is
    full, the next ones resume the session the server gave."""
    port = free_port()
    up = dict(tls_upstream([tls_backend], **verified(pki)), keepalive=0)
    start_portico(config(port, up, workers=1))
    for _ in range(4):
        assert get(port, "/").status == 200
    assert tls_backend.connections == 4
    assert [rec["tls_resumed"] for rec in tls_backend.requests] == [False, True, True, True]


def test_large_bodies_both_ways(pki, tls_backend, start_portico):
    port = free_port()
    start_portico(config(port, tls_upstream([tls_backend], **verified(pki))))
    size = 4 * MiB
    with Conn(port, timeout=30) as c:
        r = c.roundtrip("GET", "/bytes/%d" % size)
        assert r.status == 200
        assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(size)
        body = bytes(range(251)) * (size // 251 + 1)
        body = body[:size]
        r = c.roundtrip("POST", "/upload", body=body)
        assert r.status == 200
        assert r.json() == {"backend": "t1", "length": size,
                            "sha256": hashlib.sha256(body).hexdigest()}


def test_failed_handshake_retries_another_server_and_ejects(pki, start_tls_backend,
                                                            start_portico):
    good = start_tls_backend(pki["app"], "good")
    bad = start_tls_backend(pki["rogue"], "bad")
    port = free_port()
    up = tls_upstream([bad, good], **verified(pki))
    up.update(retries=1, passive={"max_fails": 1, "fail_timeout": "30s"})
    p = start_portico(config(port, up, workers=1))
    for _ in range(6):
        r = get(port, "/")
        assert r.status == 200, r
        assert r.header("X-Backend") == "good"
    assert bad.requests == []
    # ejected after its first failure: one handshake attempt, not six
    assert bad.connections == 1
    nothing_alarming(p)


def test_health_checks_speak_tls(pki, start_tls_backend, start_portico):
    b = start_tls_backend(pki["app"])
    port = free_port()
    up = tls_upstream([b], **verified(pki))
    up.update(retries=0, passive={"max_fails": 0},
              health_check={"path": "/healthz", "interval": "100ms", "timeout": "1s",
                            "healthy_threshold": 1, "unhealthy_threshold": 1})
    p = start_portico(config(port, up))
    assert wait_for(lambda: sum(r["target"] == "/healthz" for r in b.requests) >= 3, 3)
    checks = [r for r in b.requests if r["target"] == "/healthz"]
    assert all(r["tls"] and r["sni"] == "app.test" for r in checks)
    # each check connects anew and resumes the session the last one got
    assert [r["tls_resumed"] for r in checks[:3]] == [False, True, True]
    assert get(port, "/").status == 200
    b.stop()
    assert wait_for(lambda: "is down (health check" in p.stderr(), 3), p.stderr()
    assert get(port, "/").status == 503
    start_tls_backend(pki["app"], port=b.port)
    assert wait_for(lambda: "is up (health check)" in p.stderr(), 3), p.stderr()
    assert get(port, "/").status == 200


def test_health_check_fails_on_a_certificate_that_does_not_verify(pki, tls_backend,
                                                                  start_portico):
    port = free_port()
    up = tls_upstream([tls_backend], **verified(pki, ca=pki["rogue_ca"]["cert"]))
    up.update(passive={"max_fails": 0},
              health_check={"interval": "100ms", "unhealthy_threshold": 1})
    p = start_portico(config(port, up))
    assert wait_for(lambda: "health check: TLS handshake failed" in p.stderr(), 3), p.stderr()
    assert get(port, "/").status == 503
    assert tls_backend.requests == []


def test_good_settings_pass_the_check(pki, tmp_path):
    cfg = config(free_port(), {"servers": ["127.0.0.1:9"], "tls": verified(pki)})
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout


@pytest.mark.parametrize("what,key,expect", [
    ("missing-ca", "ca", "cannot read CA"),
    ("not-pem", "ca", "not a PEM CA bundle"),
    ("bad-sni", "sni", "sni must be a DNS name"),
    ("bad-verify", "verify", "expected true or false"),
    ("unknown-key", "cert", "unknown key"),
])
def test_bad_tls_settings_are_config_errors(pki, tmp_path, what, key, expect):
    junk = tmp_path / "junk.pem"
    junk.write_text("hello\n")
    tls = verified(pki)
    if what == "missing-ca":
        tls["ca"] = "nope/ca.pem"   # relative: resolved against the file's directory
    elif what == "not-pem":
        tls["ca"] = str(junk)
    elif what == "bad-sni":
        tls["sni"] = "app test:443"
    elif what == "bad-verify":
        tls["verify"] = "maybe"
    else:
        tls["cert"] = "client.pem"
    cfg = config(free_port(), {"servers": ["127.0.0.1:9"], "tls": tls})
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 1, r.stdout
    err = r.stderr
    assert expect in err, err
    assert err.startswith("%s:" % path)
    line = int(err.split(":")[1])
    assert path.read_text().splitlines()[line - 1].strip().startswith(key + ":"), err
    if what == "missing-ca":
        assert str(tmp_path / "nope" / "ca.pem") in err


def test_mirror_to_a_tls_upstream_speaks_tls(pki, backend, start_tls_backend, start_portico):
    shadow = start_tls_backend(pki["app"], "shadow")
    port = free_port()
    cfg = make_config(port, {"app": [backend], "shadow": tls_upstream([shadow], **verified(pki))},
                      routes=[{"match": {"path_prefix": "/"}, "upstream": "app",
                               "mirror": {"upstream": "shadow", "percent": 100}}])
    cfg["workers"] = 1
    start_portico(cfg)
    for i in range(3):  # one after another: each copy connects anew
        assert get(port, "/m%d" % i).status == 200
        deadline = time.monotonic() + 5
        while len(shadow.requests) <= i:
            assert time.monotonic() < deadline, "the shadow got nothing"
            time.sleep(0.05)
    rec = shadow.requests[0]
    assert (rec["target"], rec["tls"], rec["sni"]) == ("/m0", True, "app.test")
    # the first copy's handshake is full, the next ones resume its session
    assert [r["tls_resumed"] for r in shadow.requests] == [False, True, True]
