"""Retries and failover (PRODUCT.md §2 retries, retry_budget, passive): a
dead server never shows to a user, a POST is never sent twice, and the
retry budget caps the extra load."""

import socket
import threading
import time

from backend import Backend
from helpers import Conn, free_port, get, make_config


def dead_address():
    return "127.0.0.1:%d" % free_port()   # nothing listens there


def resetting_server():
    """Accepts, reads a request, then resets the connection: no response."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    seen = []

    def run():
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                seen.append(c.recv(65536))
            except OSError:
                pass
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()

    threading.Thread(target=run, daemon=True).start()
    return ls, "127.0.0.1:%d" % ls.getsockname()[1], seen


def test_get_to_a_dead_server_is_retried_elsewhere(start_portico, backend):
    port = free_port()
    up = {"servers": [{"address": dead_address()}, {"address": backend.address}]}
    start_portico(make_config(port, {"app": up}))
    assert all(get(port, "/").status == 200 for _ in range(20))


def test_post_whose_connect_failed_is_retried(start_portico, backend):
    port = free_port()
    up = {"servers": [{"address": dead_address()}, {"address": backend.address}],
          "passive": {"max_fails": 0}}
    start_portico(make_config(port, {"app": up}))
    for _ in range(10):
        r = get(port, "/upload", method="POST", body=b"x" * 1000)
        assert r.status == 200
    assert len([q for q in backend.requests if q["method"] == "POST"]) == 10


def test_post_sent_then_reset_is_not_retried(start_portico, backend):
    ls, addr, seen = resetting_server()
    port = free_port()
    up = {"servers": [{"address": addr}, {"address": backend.address}],
          "passive": {"max_fails": 0}}
    start_portico(make_config(port, {"app": up}))
    statuses = [get(port, "/upload", method="POST", body=b"y" * 100).status for _ in range(6)]
    assert statuses.count(502) == 3 and statuses.count(200) == 3, statuses
    assert len([q for q in backend.requests if q["method"] == "POST"]) == 3
    # a GET reset the same way is replayed on the other server
    assert all(get(port, "/").status == 200 for _ in range(6))
    ls.close()


def test_retry_budget_caps_retries(start_portico, backend):
    port = free_port()
    up = {"servers": [{"address": dead_address()}, {"address": backend.address}],
          "passive": {"max_fails": 0},
          "retry_budget": {"ratio": 0, "min_per_second": 2}}
    start_portico(make_config(port, {"app": up}))
    statuses = [get(port, "/").status for _ in range(20)]
    # half the picks hit the dead server; only 2 of those may be retried
    assert statuses.count(502) == 8, statuses


def test_killed_backend_under_load_loses_no_request(start_portico, start_backend):
    bs = [start_backend("b%d" % i) for i in (1, 2, 3)]
    victim_port = bs[1].port
    port = free_port()
    up = {"servers": [{"address": b.address} for b in bs],
          "passive": {"max_fails": 1, "fail_timeout": "500ms"}}
    start_portico(make_config(port, {"app": up}, workers=2))
    failures, seen, done = [], set(), threading.Event()

    def client():
        while not done.is_set():
            try:
                with Conn(port) as c:
                    for _ in range(20):
                        r = c.roundtrip()
                        if r.status != 200:
                            failures.append(r.status)
                        seen.add(r.header("X-Backend"))
            except Exception as e:  # noqa: BLE001 - any failure counts
                failures.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    bs[1].stop()
    time.sleep(1.0)
    seen.clear()
    time.sleep(0.5)
    without = set(seen)
    revived = Backend("b2-again", port=victim_port).start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "b2-again" not in seen:
        time.sleep(0.1)
    done.set()
    for t in threads:
        t.join(10)
    revived.stop()
    assert failures == []
    assert without == {"b1", "b3"}
    assert "b2-again" in seen, "the restarted server did not rejoin"
