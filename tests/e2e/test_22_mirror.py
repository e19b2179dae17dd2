"""Route `mirror` (PRODUCT.md §2): a share of requests, bodies included, is
copied to a shadow upstream; the client sees only the primary's answer, and
a slow or dead shadow never slows or fails the real request."""

import time

from helpers import free_port, get, make_config


def mirror_config(port, primary, shadow, percent=100):
    ups = {"primary": [primary], "shadow": [shadow]}
    return make_config(port, ups, routes=[
        {"match": {"path_prefix": "/"}, "upstream": "primary",
         "mirror": {"upstream": "shadow", "percent": percent}}])


def wait_for(cond, timeout=3):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not cond():
        time.sleep(0.02)
    return cond()


def test_shadow_gets_a_copy_client_gets_the_primary(start_portico, start_backend):
    primary, shadow = start_backend("primary"), start_backend("shadow")
    port = free_port()
    start_portico(mirror_config(port, primary, shadow))
    r = get(port, "/thing?x=1", headers=[("X-Request-Id", "mirror-1")])
    assert r.header("X-Backend") == "primary"
    assert wait_for(lambda: len(shadow.requests) == 1)
    copy = shadow.requests[0]
    assert copy["target"] == "/thing?x=1"
    assert ("X-Request-Id", "mirror-1") in [tuple(h) for h in copy["headers"]]


def test_mirror_share(start_portico, start_backend):
    primary, shadow = start_backend("primary"), start_backend("shadow")
    port = free_port()
    start_portico(mirror_config(port, primary, shadow, percent=30))
    n = 1000  # the share's standard deviation is 1.4 points: the bounds are 3.4 of them
    for _ in range(n):
        get(port, "/")
    time.sleep(0.3)
    share = len(shadow.requests) / n
    assert 0.25 <= share <= 0.35, share
    assert len(primary.requests) == n


def test_slow_or_dead_shadow_does_not_slow_the_client(start_portico, start_backend):
    primary, shadow = start_backend("primary"), start_backend("shadow")
    shadow.delay_ms = 1000
    port = free_port()
    start_portico(mirror_config(port, primary, shadow))
    t = time.monotonic()
    for _ in range(5):
        assert get(port, "/").status == 200
    assert time.monotonic() - t < 0.8
    port2 = free_port()
    start_portico(mirror_config(port2, primary, "127.0.0.1:%d" % free_port()), name="p2.yaml")
    assert all(get(port2, "/").status == 200 for _ in range(5))


def test_request_bodies_are_mirrored(start_portico, start_backend):
    import hashlib
    import os
    primary, shadow = start_backend("primary"), start_backend("shadow")
    port = free_port()
    start_portico(mirror_config(port, primary, shadow))
    body = os.urandom(3 * 1024 * 1024)
    assert get(port, "/upload", method="POST", body=body, timeout=20).status == 200
    assert wait_for(lambda: len(shadow.requests) == 1, 5)
    assert shadow.requests[0]["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert shadow.requests[0]["body_length"] == len(body)
