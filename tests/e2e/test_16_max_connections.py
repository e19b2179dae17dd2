"""max_connections per server (PRODUCT.md §2): over it requests wait for a
free slot, and get 503 when none frees up in time (connect_timeout)."""

import threading
import time

from helpers import free_port, get, make_config


def concurrent_gets(port, n, target):
    results = [None] * n

    def one(i):
        results[i] = get(port, target, timeout=10).status

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return results, time.monotonic() - start


def test_requests_over_the_limit_wait_their_turn(start_portico, backend):
    port = free_port()
    up = {"servers": [{"address": backend.address, "max_connections": 1}],
          "connect_timeout": "5s"}
    start_portico(make_config(port, {"app": up}, workers=2))
    statuses, took = concurrent_gets(port, 4, "/slow/250")
    assert statuses == [200] * 4
    assert took >= 0.95, "4 requests of 250 ms through 1 slot took only %.2f s" % took


def test_waiting_too_long_gets_503(start_portico, backend):
    port = free_port()
    up = {"servers": [{"address": backend.address, "max_connections": 1}],
          "connect_timeout": "300ms"}
    start_portico(make_config(port, {"app": up}))
    statuses, _ = concurrent_gets(port, 3, "/slow/1000")
    assert sorted(statuses) == [200, 503, 503], statuses
