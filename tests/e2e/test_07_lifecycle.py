"""PRODUCT.md §1 signals, §5 access log."""

import json
import re
import signal
import socket
import time

import pytest

from helpers import Conn, free_port, get, in_background, make_config, yaml_dump


def refused_within(port, timeout):
    """True once a connection to port is refused, polling up to timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except ConnectionRefusedError:
            return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def test_sigterm_finishes_in_flight_then_exits_0(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    t, res = in_background(get, p.port, "/slow/1500", timeout=10)
    assert backend.wait_requests(1, 3), "slow request did not reach the backend"
    t0 = time.monotonic()
    p.expect_exit = True
    p.send_signal(signal.SIGTERM)
    assert refused_within(p.port, 1.0), "still accepting connections after SIGTERM"
    assert p.proc.poll() is None, "exited before the in-flight request finished"
    t.join(10)
    assert "error" not in res, res.get("error")
    r = res["value"]
    assert r.status == 200 and r.body == b"b1\n"
    rc = p.wait(10)
    assert rc == 0, p.stderr()
    assert time.monotonic() - t0 < 5


def test_sigterm_does_not_wait_for_idle_keepalive(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    with Conn(p.port) as c:
        assert c.roundtrip().status == 200
        p.expect_exit = True
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(5)
        assert rc == 0, "idle keep-alive connection held the drain (rc=%r)" % rc
        assert time.monotonic() - t0 < 3
        assert c.closed(1)


def test_drain_timeout_bounds_shutdown(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  limits={"drain_timeout": "1s"}))
    t, res = in_background(get, p.port, "/slow/6000", timeout=10)
    assert backend.wait_requests(1, 3)
    t0 = time.monotonic()
    p.expect_exit = True
    p.send_signal(signal.SIGTERM)
    rc = p.wait(5)
    elapsed = time.monotonic() - t0
    assert rc == 0
    assert 0.8 <= elapsed < 3, elapsed
    t.join(10)


def test_sigint_is_graceful(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    assert get(p.port, "/").status == 200
    p.expect_exit = True
    p.send_signal(signal.SIGINT)
    assert p.wait(5) == 0


def test_sigquit_exits_at_once(backend, start_portico):
    p = start_portico(make_config(free_port(), {"app": [backend]}))
    t, res = in_background(get, p.port, "/slow/5000", timeout=10)
    assert backend.wait_requests(1, 3)
    t0 = time.monotonic()
    p.expect_exit = True
    p.send_signal(signal.SIGQUIT)
    rc = p.wait(3)
    assert rc is not None, "SIGQUIT did not stop portico"
    assert time.monotonic() - t0 < 1.5
    t.join(10)
    assert "value" not in res or res["value"].status != 200


def read_lines(path, n, timeout):
    """Waits until path has at least n complete lines; returns them."""
    deadline = time.monotonic() + timeout
    lines = []
    while True:
        try:
            text = path.read_text()
            lines = text.split("\n")[:-1] if "\n" in text else []
        except FileNotFoundError:
            lines = []
        if len(lines) >= n or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


LOG_KEYS = {"time", "client_ip", "method", "host", "path", "protocol", "status",
            "bytes_sent", "duration_ms", "upstream", "upstream_ms", "cache",
            "request_id", "user_agent", "route"}
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$")


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def log_config(port, backend, path, fmt):
    return make_config(port, {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/ping"}, "respond": {"status": 200, "body": "pong"}},
        {"name": "health", "match": {"path_prefix": "/healthz"},
         "respond": {"status": 200, "body": "ok"}},
        {"name": "main", "match": {"path_prefix": "/"}, "upstream": "app"},
    ], access_log={"path": str(path), "format": fmt})


def test_access_log_json(backend, start_portico, tmp_path):
    log = tmp_path / "access.log"
    p = start_portico(log_config(free_port(), backend, log, "json"))
    r = get(p.port, "/bytes/123", host="logtest.example",
            headers=[("User-Agent", "e2e-agent/1.0"), ("X-Request-Id", "req-abc")])
    assert r.status == 200
    get(p.port, "/healthz", host="logtest.example")
    get(p.port, "/ping")
    t_done = time.monotonic()
    lines = read_lines(log, 3, 1.5)
    assert len(lines) == 3, "access log lines within ~1 s: %r" % lines
    assert time.monotonic() - t_done < 1.5
    recs = [json.loads(line) for line in lines]
    for rec in recs:
        assert LOG_KEYS <= set(rec), "missing keys: %s" % (LOG_KEYS - set(rec))
        assert RFC3339_MS.match(rec["time"]), rec["time"]
        assert rec["client_ip"] == "127.0.0.1"
        assert rec["method"] == "GET"
        assert rec["protocol"] == "HTTP/1.1"
        assert rec["status"] == 200 and is_num(rec["status"])
        assert is_num(rec["bytes_sent"]) and is_num(rec["duration_ms"])
        assert rec["duration_ms"] >= 0
        assert rec["cache"] is None
        assert isinstance(rec["request_id"], str) and rec["request_id"]
    a, h, ping = recs
    assert a["host"] == "logtest.example"
    assert a["path"] == "/bytes/123"
    assert a["bytes_sent"] >= 123
    assert a["upstream"] == backend.address
    assert is_num(a["upstream_ms"]) and a["upstream_ms"] >= 0
    assert a["request_id"] == "req-abc"
    assert a["user_agent"] == "e2e-agent/1.0"
    assert a["route"] == "main"
    assert h["route"] == "health" and h["path"] == "/healthz"
    assert h["upstream"] is None and h["upstream_ms"] is None
    assert h["user_agent"] is None
    assert ping["route"] == "route-1"
    assert r.header("X-Request-Id") == "req-abc"


def test_access_log_logs_errors_too(backend, start_portico, tmp_path):
    log = tmp_path / "access.log"
    dead = "127.0.0.1:%d" % free_port()
    p = start_portico(make_config(free_port(), {"app": [dead]}, routes=[
        {"match": {"path_prefix": "/api/"}, "upstream": "app"}],
        access_log={"path": str(log), "format": "json"}))
    assert get(p.port, "/nothing").status == 404
    assert get(p.port, "/api/x").status == 502
    lines = read_lines(log, 2, 1.5)
    recs = [json.loads(line) for line in lines]
    assert [r["status"] for r in recs] == [404, 502]


COMBINED = re.compile(
    r'^127\.0\.0\.1 - \S+ \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
    r'"GET /bytes/10\?q=1 HTTP/1\.1" 200 (\d+) "http://ref\.example/" '
    r'"e2e-agent/1\.0"')


def test_access_log_combined(backend, start_portico, tmp_path):
    log = tmp_path / "combined.log"
    p = start_portico(log_config(free_port(), backend, log, "combined"))
    get(p.port, "/bytes/10?q=1", headers=[("User-Agent", "e2e-agent/1.0"),
                                          ("Referer", "http://ref.example/")])
    lines = read_lines(log, 1, 1.5)
    assert len(lines) == 1, lines
    m = COMBINED.match(lines[0])
    assert m, lines[0]
    assert m.group(1) == "10", "combined %b is the body size, not the whole response"


def test_access_log_to_stdout(backend, start_portico):
    port = free_port()
    cfg = log_config(port, backend, "-", "json")
    p = start_portico(cfg)
    get(p.port, "/bytes/5", headers=[("X-Request-Id", "stdout-check")])
    deadline = time.monotonic() + 1.5
    found = []
    while time.monotonic() < deadline and not found:
        found = [line for line in p.stdout().splitlines() if "stdout-check" in line]
        time.sleep(0.05)
    assert found, "access log line not on stdout within ~1 s"
    assert json.loads(found[0])["path"] == "/bytes/5"


def respond_config(port, body):
    return make_config(port, routes=[
        {"match": {"path_prefix": "/"}, "respond": {"status": 200, "body": body}}])


def test_sighup_reload(start_portico):
    port = free_port()
    p = start_portico(respond_config(port, "one"))
    assert get(port, "/").body == b"one"
    with Conn(port) as c:   # a connection opened before the reload
        assert c.roundtrip().body == b"one"
        p.config_path.write_text(yaml_dump(respond_config(port, "two")) + "\n")
        p.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 1.5
        body = b""
        while time.monotonic() < deadline:
            body = get(port, "/").body
            if body == b"two":
                break
            time.sleep(0.05)
        assert body == b"two", "reload not in effect within ~1 s"
        # the old connection still works (old or new config, both acceptable)
        assert c.roundtrip().status == 200

    p.config_path.write_text("listeners: [\n  broken\n")
    err_before = len(p.stderr())
    p.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert p.proc.poll() is None, "a bad reload stopped portico"
    assert get(port, "/").body == b"two", "bad reload replaced the running config"
    logged = p.stderr()[err_before:] + p.stdout()
    assert str(p.config_path) in logged or "portico.yaml" in logged, \
        "refused reload not logged"


@pytest.mark.parametrize("workers", [2])
def test_multiple_workers_proxy(backends, start_portico, workers):
    cfg = make_config(free_port(), {"app": backends})
    cfg["workers"] = workers
    p = start_portico(cfg)
    got = [get(p.port, "/").status for _ in range(30)]
    assert got == [200] * 30
    assert sum(len(b.requests) for b in backends) == 30
    assert all(b.requests for b in backends)


def test_client_ip_from_trusted_proxy(backend, start_portico, tmp_path):
    log = tmp_path / "access.log"
    cfg = make_config(free_port(), {"app": [backend]},
                      access_log={"path": str(log), "format": "json"},
                      trusted_proxies=["127.0.0.0/8", "10.0.0.0/8"])
    p = start_portico(cfg)
    r = get(p.port, "/headers",
            headers=[("X-Forwarded-For", "198.51.100.1, 203.0.113.9, 10.1.1.1")])
    xff = [v for k, v in r.json()["headers"] if k.lower() == "x-forwarded-for"]
    assert xff == ["198.51.100.1, 203.0.113.9, 10.1.1.1, 127.0.0.1"]
    lines = read_lines(log, 1, 1.5)
    assert json.loads(lines[0])["client_ip"] == "203.0.113.9"


def test_untrusted_peer_xff_ignored_for_client_ip(backend, start_portico, tmp_path):
    log = tmp_path / "access.log"
    p = start_portico(make_config(free_port(), {"app": [backend]},
                                  access_log={"path": str(log), "format": "json"}))
    get(p.port, "/", headers=[("X-Forwarded-For", "203.0.113.9")])
    lines = read_lines(log, 1, 1.5)
    assert json.loads(lines[0])["client_ip"] == "127.0.0.1"


def test_relative_paths_resolved_against_config_dir(backend, start_portico, tmp_path):
    """portico runs with cwd = tmp_path; the config lives in tmp_path/conf."""
    cfg = make_config(free_port(), {"app": [backend]},
                      access_log={"path": "logs/access.log", "format": "json"},
                      pid_file="portico.pid")
    (tmp_path / "conf" / "logs").mkdir(parents=True)
    p = start_portico(cfg, name="conf/portico.yaml")
    assert get(p.port, "/").status == 200
    lines = read_lines(tmp_path / "conf" / "logs" / "access.log", 1, 1.5)
    assert len(lines) == 1
    pid = (tmp_path / "conf" / "portico.pid").read_text().strip()
    assert pid == str(p.proc.pid)
