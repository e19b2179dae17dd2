"""PRODUCT.md §1: command line, -t, exit codes, quick mode."""

import re
import socket

from helpers import (Portico, free_port, get, make_config, run_portico,
                     yaml_dump)


def test_version_exits_0_and_names_libraries():
    r = run_portico("--version")
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    assert re.search(r"\d+\.\d+", out), out
    assert "yaml" in out.lower(), "linked libraries (libyaml) not listed: %r" % out


def test_help_exits_0():
    r = run_portico("--help")
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for flag in ("-c", "-t", "--listen", "--upstream"):
        assert flag in out, "%s missing from --help" % flag


def test_check_good_config(tmp_path, backend):
    cfg = tmp_path / "good.yaml"
    cfg.write_text(yaml_dump(make_config(free_port(), {"app": [backend]})) + "\n")
    r = run_portico("-t", "-c", cfg)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout


BAD = """\
listner:
  - name: old
listeners:
  - name: web
    address: "127.0.0.1:{port}"
limits:
  header_timeout: tenseconds
upstreams:
  app:
    servers:
      - address: 127.0.0.1:9
routes:
  - match: {{path_prefix: /}}
    upstream: nope
"""


def _errors(text, path):
    """FILE:LINE:COLUMN: message lines for path, as (line, col, message)."""
    out = []
    for m in re.finditer(re.escape(str(path)) + r":(\d+):(\d+): ?(.*)", text):
        out.append((int(m.group(1)), int(m.group(2)), m.group(3)))
    return out


def test_check_reports_every_error_with_position(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(BAD.format(port=free_port()))
    r = run_portico("-t", "-c", cfg)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "configuration ok" not in r.stdout
    errs = _errors(r.stderr, cfg)
    assert errs, "no FILE:LINE:COLUMN: errors in stderr: %r" % r.stderr
    by_line = {line: (col, msg) for line, col, msg in errs}
    # unknown key with a suggestion
    assert 1 in by_line, errs
    col, msg = by_line[1]
    assert col == 1
    assert "listner" in msg and "did you mean" in msg.lower() and "listeners" in msg, msg
    # a bad duration
    assert 7 in by_line, "bad duration on line 7 not reported: %r" % errs
    # a route naming a missing upstream: all three reported, not just the first
    nope = [e for e in errs if e[0] in (13, 14) and "nope" in e[2]]
    assert nope, "missing upstream (route on line 13-14) not reported: %r" % errs


def test_run_with_bad_config_exits_1(tmp_path):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(BAD.format(port=free_port()))
    r = run_portico("-c", cfg)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert _errors(r.stderr, cfg)


def test_yaml_syntax_error_has_position(tmp_path):
    cfg = tmp_path / "syntax.yaml"
    cfg.write_text("listeners:\n  - name: web\n    address: [unclosed\n")
    r = run_portico("-t", "-c", cfg)
    assert r.returncode == 1
    assert _errors(r.stderr, cfg), r.stderr


def test_bad_command_line_exits_2():
    r = run_portico("--no-such-flag")
    assert r.returncode == 2, (r.stdout, r.stderr)
    r = run_portico("-c")
    assert r.returncode == 2, (r.stdout, r.stderr)


def test_port_in_use_exits_3(tmp_path, backend):
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    try:
        cfg = tmp_path / "p.yaml"
        cfg.write_text(yaml_dump(make_config(port, {"app": [backend]})) + "\n")
        r = run_portico("-c", cfg, timeout=15)
        assert r.returncode == 3, (r.stdout, r.stderr)
    finally:
        blocker.close()


def test_quick_mode_proxies(tmp_path, start_backend):
    a, b = start_backend("qa"), start_backend("qb")
    port = free_port()
    p = Portico(["--listen", "127.0.0.1:%d" % port,
                 "--upstream", "%s,%s" % (a.address, b.address),
                 "--workers", "1"], tmp_path, port)
    p.start()
    try:
        names = [get(port, "/").body for _ in range(4)]
        assert sorted(names) == [b"qa\n", b"qa\n", b"qb\n", b"qb\n"]
        rc, killed = p.stop()
        assert (rc, killed) == (0, False), p.stderr()
    finally:
        p.kill()
        p.close_files()


GOOD_UNITS = """\
workers: 1
limits:
  max_connections: 1000
  header_timeout: 250ms
  idle_timeout: 1m30s
  body_timeout: 1h
  max_header_size: 16K
  max_headers: 50
  max_body_size: 10m
  drain_timeout: 2s
listeners:
  - name: web
    address: "127.0.0.1:{port}"
    limits: {{max_body_size: 1g}}
  - name: all
    address: ":{port2}"
upstreams:
  app:
    balance: round_robin
    servers:
      - {{address: "127.0.0.1:9001", weight: 2}}
      - {{address: "[::1]:9002"}}
    keepalive: 8
    connect_timeout: 3s
    response_timeout: 1d
    retries: 0
routes:
  - name: api
    match: {{host: "*.example.com", path_prefix: /api/}}
    upstream: app
    set_request_headers: {{X-A: "1", X-B: ""}}
    set_response_headers: {{X-C: "2"}}
  - match: {{path_prefix: /}}
    respond: {{status: 200, body: "ok", content_type: text/plain}}
security:
  hide_backend_headers: [Server, X-Powered-By]
  server_header: ""
access_log: {{path: access.log, format: combined}}
"""


def test_check_accepts_every_unit_form(tmp_path):
    cfg = tmp_path / "units.yaml"
    cfg.write_text(GOOD_UNITS.format(port=free_port(), port2=free_port()))
    r = run_portico("-t", "-c", cfg)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout


def test_check_default_config_path(tmp_path, backend):
    (tmp_path / "portico.yaml").write_text(
        yaml_dump(make_config(free_port(), {"app": [backend]})) + "\n")
    r = run_portico("-t", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout


def test_explain(tmp_path, backend):
    cfg = tmp_path / "x.yaml"
    cfg.write_text(yaml_dump(make_config(free_port(), {"app": [backend]}, routes=[
        {"name": "api-route", "match": {"host": "example.com", "path_prefix": "/api/"},
         "upstream": "app"}])) + "\n")
    r = run_portico("explain", "-c", cfg, "GET", "http://example.com/api/x",
                    "-H", "X-Test: 1", "--client-ip", "10.0.0.1")
    assert r.returncode == 0, r.stderr
    assert "api-route" in r.stdout and "app" in r.stdout
    assert backend.address in r.stdout
    r = run_portico("explain", "-c", cfg, "GET", "http://other.example/")
    assert r.returncode == 0, r.stderr
    assert "404" in r.stdout
    assert not backend.requests, "explain must not send anything"
