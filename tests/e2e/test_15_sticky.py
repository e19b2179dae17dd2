"""Session affinity (PRODUCT.md §2 `sticky: { cookie, ttl }`): a signed
cookie pins a client to a server; a forged or stale cookie, or a pinned
server that is down, falls back to the balancer and re-pins."""

from helpers import free_port, get, make_config


def cookie_of(r, name="srv"):
    for k, v in r.headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";")[0]
    return None


def sticky_config(port, servers, **extra):
    up = {"servers": [{"address": b.address if hasattr(b, "address") else b} for b in servers],
          "sticky": {"cookie": "srv", "ttl": "1h"}}
    up.update(extra)
    return make_config(port, {"app": up})


def test_cookie_pins_the_client(start_portico, backends):
    port = free_port()
    start_portico(sticky_config(port, backends))
    first = get(port, "/")
    cookie = cookie_of(first)
    assert cookie, first.headers
    set_cookie = [v for k, v in first.headers if k.lower() == "set-cookie"][0]
    assert "Max-Age=3600" in set_cookie and "Path=/" in set_cookie and "HttpOnly" in set_cookie
    pinned = first.header("X-Backend")
    for _ in range(12):
        r = get(port, "/", headers=[("Cookie", "a=1; " + cookie)])
        assert r.header("X-Backend") == pinned
        assert cookie_of(r) is None, "a valid cookie is not re-issued"
    # without the cookie, requests are balanced over every server
    assert len({get(port, "/").header("X-Backend") for _ in range(9)}) == 3


def test_forged_cookie_is_ignored(start_portico, backends):
    port = free_port()
    start_portico(sticky_config(port, backends))
    cookie = cookie_of(get(port, "/"))
    name, value = cookie.split("=", 1)
    ident, expiry, sig = value.split(".")
    forged = "%s=%s.%s.%s" % (name, ident, expiry, "0" if sig != "0" else "1")
    longer = "%s=%s.%x.%s" % (name, ident, int(expiry, 16) + 100000, sig)
    for bad in (forged, longer, "srv=garbage", "srv="):
        r = get(port, "/", headers=[("Cookie", bad)])
        assert r.status == 200 and cookie_of(r), "a bad cookie must be replaced: " + bad


def test_pinned_server_down_falls_back_and_repins(start_portico, start_backend):
    b1, b2 = start_backend("b1"), start_backend("b2")
    port = free_port()
    start_portico(sticky_config(port, [b1, b2]))
    r = get(port, "/")
    while r.header("X-Backend") != "b1":
        r = get(port, "/")
    cookie = cookie_of(r)
    b1.stop()
    r = get(port, "/", headers=[("Cookie", cookie)])
    assert r.status == 200 and r.header("X-Backend") == "b2"
    new = cookie_of(r)
    assert new and new != cookie
    r = get(port, "/", headers=[("Cookie", new)])
    assert r.header("X-Backend") == "b2" and cookie_of(r) is None
