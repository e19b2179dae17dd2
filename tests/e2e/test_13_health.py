"""Health (PRODUCT.md §2 upstreams: health_check, passive, backup; §3):
active checks move a server down and up at the thresholds, passive checks
eject a failing server for fail_timeout then let one trial through, backup
servers serve only when every primary is down, and with every server down
the answer is 503 at once."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from helpers import free_port, get, make_config


class Switchable:
    """A backend whose health answer and normal answer can be changed."""

    def __init__(self, name):
        self.name = name
        self.health_status = 200
        self.status = 200
        self.hits = 0          # non-health requests
        self.checks = 0        # health check requests
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True   # head and body leave at once

            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    if self.path == "/healthz":
                        outer.checks += 1
                        status = outer.health_status
                    else:
                        outer.hits += 1
                        status = outer.status
                body = outer.name.encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Backend", outer.name)
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def servers(*names):
    return [Switchable(n) for n in names]


def who(port, n):
    return [get(port, "/").header("X-Backend") for _ in range(n)]


def wait_for(cond, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_active_checks_move_a_server_down_and_up(start_portico):
    a, b = servers("a", "b")
    port = free_port()
    up = {"servers": [{"address": a.address}, {"address": b.address}],
          "health_check": {"path": "/healthz", "interval": "100ms", "timeout": "500ms",
                           "healthy_threshold": 2, "unhealthy_threshold": 2}}
    start_portico(make_config(port, {"app": up}))
    assert sorted(set(who(port, 10))) == ["a", "b"]
    b.health_status = 503
    assert wait_for(lambda: set(who(port, 6)) == {"a"}, 3), "b still served after failing checks"
    hits = b.hits
    assert set(who(port, 20)) == {"a"} and b.hits == hits
    b.health_status = 200
    assert wait_for(lambda: "b" in who(port, 6), 3), "b not back after passing checks"
    assert a.checks > 0 and b.checks > 0
    a.stop(), b.stop()


def test_every_server_down_gives_503_at_once(start_portico):
    a, = servers("a")
    port = free_port()
    up = {"servers": [{"address": a.address}],
          "health_check": {"path": "/healthz", "interval": "100ms", "unhealthy_threshold": 1}}
    start_portico(make_config(port, {"app": up}))
    a.health_status = 500
    assert wait_for(lambda: get(port, "/").status == 503, 3)
    t = time.monotonic()
    r = get(port, "/")
    assert r.status == 503 and time.monotonic() - t < 0.5
    a.stop()


def test_passive_ejection_then_single_trial(start_portico):
    good, bad = servers("good", "bad")
    bad.status = 500
    port = free_port()
    up = {"servers": [{"address": good.address}, {"address": bad.address}],
          "passive": {"max_fails": 2, "fail_timeout": "2s"}, "retries": 0}
    start_portico(make_config(port, {"app": up}))
    statuses = [get(port, "/").status for _ in range(8)]
    assert statuses.count(500) == 2, statuses   # two failures, then ejected
    hits = bad.hits
    assert set(who(port, 20)) == {"good"} and bad.hits == hits
    time.sleep(2.1)
    for _ in range(10):
        get(port, "/")
    assert bad.hits == hits + 1, "after fail_timeout exactly one trial request"
    bad.status = 200
    time.sleep(2.1)
    assert wait_for(lambda: "bad" in who(port, 4), 2)
    assert set(who(port, 10)) == {"good", "bad"}, "a good trial brings the server back"
    good.stop(), bad.stop()


def test_backup_only_when_primaries_are_down(start_portico):
    a, spare = servers("a", "spare")
    port = free_port()
    up = {"servers": [{"address": a.address}, {"address": spare.address, "backup": True}],
          "health_check": {"path": "/healthz", "interval": "100ms",
                           "healthy_threshold": 1, "unhealthy_threshold": 1}}
    start_portico(make_config(port, {"app": up}))
    assert set(who(port, 10)) == {"a"} and spare.hits == 0
    a.health_status = 503
    assert wait_for(lambda: set(who(port, 4)) == {"spare"}, 3)
    a.health_status = 200
    assert wait_for(lambda: set(who(port, 4)) == {"a"}, 3)
    a.stop(), spare.stop()


def test_slow_start_ramps_a_recovered_server_up(start_portico):
    a, b = servers("a", "b")
    port = free_port()
    up = {"servers": [{"address": a.address}, {"address": b.address}],
          "slow_start": "3s",
          "health_check": {"path": "/healthz", "interval": "100ms",
                           "healthy_threshold": 1, "unhealthy_threshold": 1}}
    start_portico(make_config(port, {"app": up}))
    b.health_status = 503
    assert wait_for(lambda: set(who(port, 4)) == {"a"}, 3)
    b.health_status = 200
    assert wait_for(lambda: "b" in who(port, 10), 3)
    early = who(port, 100).count("b")
    time.sleep(3.2)
    late = who(port, 100).count("b")
    assert early < 30, "a server back from down got %d%% at once" % early
    assert 40 <= late <= 60, "after slow_start the share is the weight's: %d%%" % late
    a.stop(), b.stop()
