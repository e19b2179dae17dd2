"""`portico explain` (PRODUCT.md §1) tells what real routing does: for each
request below, the route explain names is the route that answers it."""

import re

import pytest

from helpers import free_port, get, make_config, run_portico, yaml_dump
from pki import Pki

ROUTES = [
    {"name": "health", "match": {"path_exact": "/healthz"},
     "respond": {"status": 200, "body": "ok"}},
    {"name": "admin", "match": {"host": "admin.example.com", "methods": ["GET"]},
     "upstream": "app", "set_response_headers": {"X-Route": "admin"}},
    {"name": "canary", "match": {"host": "*.example.com", "path_prefix": "/api/",
                                 "headers": {"X-Canary": "1"}},
     "upstream": "app", "set_response_headers": {"X-Route": "canary"}},
    {"name": "api", "match": {"path_prefix": "/api/"},
     "upstream": "app", "set_response_headers": {"X-Route": "api"}},
    {"name": "versioned", "match": {"path_regex": "^/v[0-9]+/items$"},
     "upstream": "app", "set_response_headers": {"X-Route": "versioned"}},
]

CASES = [
    ("GET", "admin.example.com", "/x", [], "admin"),
    ("POST", "admin.example.com", "/api/x", [], "api"),
    ("GET", "www.example.com", "/api/x", [("X-Canary", "1")], "canary"),
    ("GET", "www.example.com", "/api/x", [("X-Canary", "2")], "api"),
    ("GET", "example.com", "/api/x", [("X-Canary", "1")], "api"),
    ("GET", "a.example.com", "/healthz", [], "health"),
    ("GET", "a.example.com", "/nothing", [], None),
    ("GET", "x.test", "/v2/items", [], "versioned"),
    ("GET", "x.test", "/v2/items/3", [], None),
    ("GET", "x.test", "/a/../api//x", [], "api"),
]


@pytest.mark.parametrize("method,host,path,headers,want", CASES)
def test_explain_agrees_with_routing(tmp_path, start_portico, backend, method, host, path,
                                     headers, want):
    port = free_port()
    cfg = make_config(port, {"app": [backend]}, routes=ROUTES)
    p = start_portico(cfg)
    args = ["explain", "-c", p.config_path, method, "http://%s:%d%s" % (host, port, path)]
    for k, v in headers:
        args += ["-H", "%s: %s" % (k, v)]
    before = len(backend.requests)
    r = run_portico(*args)
    assert r.returncode == 0, r.stderr
    assert len(backend.requests) == before, "explain sent something"
    m = re.search(r"^route \d+ \(([^,]+), line \d+\): match$", r.stdout, re.M)
    named = m.group(1) if m else None
    assert named == want, r.stdout
    if want is None:
        assert "404" in r.stdout
    real = get(port, path, method=method, headers=headers, host=host,
               body=b"" if method == "POST" else None)
    if want is None:
        assert real.status == 404
    elif want == "health":
        assert real.body == b"ok"
    else:
        assert real.header("X-Route") == want
    # every earlier route says why it did not match
    assert len(re.findall(r"no match: \S", r.stdout)) == (
        ROUTES.index(next(x for x in ROUTES if x["name"] == want)) if want else len(ROUTES))


def test_explain_prints_upstream_servers_and_policies(tmp_path, backend):
    cfg = tmp_path / "p.yaml"
    cfg.write_text(yaml_dump(make_config(free_port(), {"app": [backend]})) + "\n")
    r = run_portico("explain", "-c", cfg, "GET", "/")
    assert r.returncode == 0
    for word in ("listener:", "upstream: app", backend.address, "cache:", "rate limit:",
                 "access list:", "waf:", "geo:"):
        assert word in r.stdout, word


def test_explain_bad_usage_exits_2(tmp_path):
    r = run_portico("explain", "-c", "x.yaml", "GET")
    assert r.returncode == 2


def test_explain_tells_tls_http2_and_websocket(tmp_path, backend):
    pki = Pki(tmp_path / "pki")
    ca = pki.ca("Explain CA")
    site = pki.leaf(ca, "site", ["example.com"])
    routes = [{"name": "live", "match": {"path_prefix": "/live"}, "upstream": "app"},
              {"name": "rest", "upstream": "app", "websocket": False}]
    cfg = make_config(free_port(), {"app": {"servers": [{"address": backend.address}],
                                            "tls": {"sni": "app.test", "ca": ca["cert"]}}},
                      routes)
    cert = {"cert": site["cert"], "key": site["key"]}
    cfg["listeners"][0].update(http2=True, tls={"certificates": [cert], "min_version": "1.3"})
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    handshake = ["-H", "Upgrade: websocket", "-H", "Connection: Upgrade"]

    r = run_portico("explain", "-c", path, "GET", "/live", *handshake)
    assert r.returncode == 0, r.stderr
    assert "TLS 1.3+, 1 certificate, HTTP/2)" in r.stdout
    assert "tls: sni app.test, verify on, ca %s" % ca["cert"] in r.stdout
    assert "websocket: the handshake goes to the upstream" in r.stdout

    r = run_portico("explain", "-c", path, "GET", "/other", *handshake)
    assert "WebSocket is off for this route: portico would answer 403" in r.stdout

    r = run_portico("explain", "-c", path, "GET", "/other")  # not a handshake
    assert "websocket" not in r.stdout.lower() and "upstream: app" in r.stdout
