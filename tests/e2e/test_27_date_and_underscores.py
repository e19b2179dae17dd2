"""Two wire rules: every response carries a Date (RFC 9110 §6.6.1: a
recipient with a clock adds one the origin left out), and request fields
with "_" in their name are dropped, forwarded or refused as
security.underscores_in_headers says (PRODUCT.md §2), over HTTP/1.1 and
HTTP/2 alike."""

import email.utils
import json
import time

import pytest

from h2client import H2Client, h2_config
from helpers import Conn, free_port, get, make_config, run_portico

UNDERSCORED = [("X_Forwarded_For", "6.6.6.6"), ("Transfer_Encoding", "chunked"),
               ("X_Custom", "forged")]
UNDERSCORED_NAMES = {k.lower() for k, _ in UNDERSCORED}


def date_of(value):
    """Seconds since the epoch of an IMF-fixdate, checking its exact form."""
    assert value and value.endswith(" GMT") and len(value) == 29, value
    return email.utils.parsedate_to_datetime(value).timestamp()


def names_seen(record):
    return [k.lower() for k, _ in record["headers"]]


def dropped_lines(p):
    return [line for line in p.stderr().splitlines() if "dropped request field" in line]


# --- Date ----------------------------------------------------------------------

def test_proxied_response_without_date_gets_the_current_one(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    r = get(p.port, "/")
    assert r.status == 200 and r.header_all("Date") and len(r.header_all("Date")) == 1
    assert abs(date_of(r.header("Date")) - time.time()) < 3


def test_date_of_the_origin_is_relayed_as_sent(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    sent = "Mon, 01 Jan 2024 00:00:00 GMT"
    r = get(p.port, "/respond-headers?Date=" + sent.replace(" ", "%20"))
    assert r.header_all("Date") == [sent]


def test_date_moves_on_with_the_clock(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    with Conn(p.port) as c:
        first = date_of(c.roundtrip("GET", "/").header("Date"))
        time.sleep(1.2)
        second = date_of(c.roundtrip("GET", "/").header("Date"))
    assert 1 <= second - first <= 3


def test_local_responses_have_a_date(backend, start_portico):
    routes = [{"match": {"path_exact": "/ok"}, "respond": {"status": 200, "body": "ok"}},
              {"match": {"path_exact": "/moved"},
               "redirect": {"to": "/ok", "status": 301}}]
    p = start_portico(make_config(free_port(), {"app": [backend]}, routes))
    for path, status in (("/ok", 200), ("/moved", 301), ("/nothing", 404)):
        r = get(p.port, path)
        assert r.status == status
        assert len(r.header_all("Date")) == 1
        assert abs(date_of(r.header("Date")) - time.time()) < 3


def test_http2_responses_have_a_date(backend, start_portico):
    cfg = h2_config(backend)
    cfg["routes"] = [{"match": {"path_exact": "/ok"}, "respond": {"status": 200, "body": "ok"}},
                     {"match": {"path_prefix": "/"}, "upstream": "app"}]
    p = start_portico(cfg)
    c = H2Client(p.port)
    proxied, local = c.request("/"), c.request("/ok")
    for sid in (proxied, local):
        status, headers, _ = c.response(sid)
        assert status == 200
        assert abs(date_of(headers.get("date")) - time.time()) < 3
    c.close()


# --- underscores_in_headers ----------------------------------------------------

def test_underscored_fields_are_dropped_by_default_and_logged_once(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    with Conn(p.port) as c:
        for _ in range(2):
            r = c.roundtrip("GET", "/headers", UNDERSCORED + [("X-Kept", "yes")])
            assert r.status == 200
            seen = r.json()
            assert not UNDERSCORED_NAMES & set(names_seen(seen)), seen["headers"]
            assert ["X-Kept", "yes"] in seen["headers"]
            xff = [v for k, v in seen["headers"] if k.lower() == "x-forwarded-for"]
            assert xff == ["127.0.0.1"]
    assert len(dropped_lines(p)) == 1, p.stderr()
    get(p.port, "/headers", [("X_Other", "1")])  # a new connection: a new line
    deadline = time.monotonic() + 2
    while len(dropped_lines(p)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = dropped_lines(p)
    assert len(lines) == 2 and '"X_Other"' in lines[1], lines


def test_underscored_fields_are_forwarded_with_allow(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  security={"underscores_in_headers": "allow"}))
    r = get(p.port, "/headers", UNDERSCORED)
    assert r.status == 200
    got = [[k, v] for k, v in r.json()["headers"] if k.lower() in UNDERSCORED_NAMES]
    assert got == [list(h) for h in UNDERSCORED]
    assert dropped_lines(p) == []


def test_underscored_fields_are_refused_with_reject(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  security={"underscores_in_headers": "reject"}))
    assert get(p.port, "/headers", [("X-Fine", "1")]).status == 200
    with Conn(p.port) as c:
        r = c.roundtrip("GET", "/headers", [("X_Forwarded_For", "6.6.6.6")])
        assert r.status == 400
        assert c.closed()
    assert len(backend.requests) == 1


@pytest.mark.parametrize("policy", ["drop", "allow", "reject"])
def test_underscores_over_http2(backend, start_portico, policy):
    p = start_portico(h2_config(backend, security={"underscores_in_headers": policy}))
    c = H2Client(p.port)
    sid = c.request("/headers", [("x_forwarded_for", "6.6.6.6"), ("x-kept", "yes")])
    status, _, body = c.response(sid)
    c.close()
    if policy == "reject":
        assert status == 400 and len(backend.requests) == 0
        return
    assert status == 200
    seen = names_seen(json.loads(body))
    assert "x-kept" in seen
    assert ("x_forwarded_for" in seen) == (policy == "allow"), seen
    assert len(dropped_lines(p)) == (1 if policy == "drop" else 0)


def test_unknown_policy_is_a_config_error_with_a_hint(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("listeners:\n  - {name: web, address: \"127.0.0.1:1\"}\n"
                    "security:\n  underscores_in_headers: dorp\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 1
    assert "bad.yaml:4:27: expected drop, allow or reject, got \"dorp\"" \
        " (did you mean \"drop\"?)" in r.stderr, r.stderr
