"""Reload (SIGHUP, PRODUCT.md §1): new requests use the new file within 1 s,
kept-alive connections switch at their next request, listeners come and go,
requests in flight and under load are never dropped, a bad file changes
nothing."""

import signal
import socket
import threading
import time

from helpers import Conn, free_port, get, make_config, yaml_dump


def respond_route(body):
    return [{"match": {"path_prefix": "/"}, "respond": {"status": 200, "body": body}}]


def reload_to(p, cfg):
    p.config_path.write_text(yaml_dump(cfg) + "\n")
    p.send_signal(signal.SIGHUP)


def wait_body(port, want, timeout=1.5):
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        try:
            body = get(port, "/").body
        except OSError:
            body = None
        if body == want:
            return True
        time.sleep(0.05)
    return False


def test_keepalive_connection_follows_reload(start_portico):
    port = free_port()
    p = start_portico(make_config(port, routes=respond_route("one")))
    with Conn(port) as c:
        assert c.roundtrip().body == b"one"
        reload_to(p, make_config(port, routes=respond_route("two")))
        assert wait_body(port, b"two")
        # the same client connection, next request: the new configuration
        assert c.roundtrip().body == b"two"


def test_reload_switches_upstream_servers(start_portico, start_backend):
    b1, b2 = start_backend("b1"), start_backend("b2")
    port = free_port()
    p = start_portico(make_config(port, {"app": [b1]}))
    assert get(port, "/").header("X-Backend") == "b1"
    reload_to(p, make_config(port, {"app": [b2]}))
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline and get(port, "/").header("X-Backend") != "b2":
        time.sleep(0.05)
    assert [get(port, "/").header("X-Backend") for _ in range(5)] == ["b2"] * 5


def test_reload_adds_and_removes_listeners(start_portico):
    port_a, port_b = free_port(), free_port()
    cfg = make_config(port_a, routes=respond_route("a"))
    p = start_portico(cfg)
    both = make_config(port_a, routes=respond_route("a"))
    both["listeners"].append({"name": "second", "address": "127.0.0.1:%d" % port_b})
    reload_to(p, both)
    assert wait_body(port_b, b"a"), "the new listener does not answer"
    assert get(port_a, "/").body == b"a"
    only_b = make_config(port_b, routes=respond_route("b"))
    reload_to(p, only_b)
    assert wait_body(port_b, b"b")
    deadline = time.monotonic() + 1.5
    refused = False
    while time.monotonic() < deadline and not refused:
        try:
            socket.create_connection(("127.0.0.1", port_a), timeout=0.5).close()
            time.sleep(0.05)
        except OSError:
            refused = True
    assert refused, "the removed listener still accepts connections"


def test_request_in_flight_survives_reload(start_portico, backend):
    port = free_port()
    p = start_portico(make_config(port, {"app": [backend]}))
    result = {}

    def slow():
        result["r"] = get(port, "/slow/700", timeout=5)

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.2)
    reload_to(p, make_config(port, routes=respond_route("new")))
    t.join(5)
    assert result["r"].status == 200 and result["r"].header("X-Backend") == "b1"
    assert wait_body(port, b"new")


def test_no_request_fails_during_reloads(start_portico, backend):
    port = free_port()
    cfg = make_config(port, {"app": [backend]}, workers=2)
    p = start_portico(cfg)
    failures, done = [], threading.Event()
    count = [0]

    def client(keepalive):
        conn = Conn(port) if keepalive else None
        while not done.is_set():
            try:
                r = conn.roundtrip() if conn else get(port, "/")
                if r.status != 200:
                    failures.append(r.status)
                count[0] += 1
                if conn and r.header("Connection", "").lower() == "close":
                    conn.close()
                    conn = Conn(port)
            except Exception as e:  # noqa: BLE001 - any failure counts
                failures.append(repr(e))
                if conn:
                    conn.close()
                    conn = Conn(port)
        if conn:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in (True, False)]
    for t in threads:
        t.start()
    for _ in range(5):
        time.sleep(0.2)
        p.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    done.set()
    for t in threads:
        t.join(5)
    assert count[0] > 50
    assert failures == []
