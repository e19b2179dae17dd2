"""Route actions `split` (a weighted canary, stable per client IP) and
`rewrite` (regex with $N captures), PRODUCT.md §2."""

import random

from helpers import free_port, get, make_config


def split_config(port, v1, v2, w1=90, w2=10):
    return make_config(
        port, {"v1": [v1], "v2": [v2]},
        routes=[{"match": {"path_prefix": "/"},
                 "split": [{"upstream": "v1", "weight": w1}, {"upstream": "v2", "weight": w2}]}],
        trusted_proxies=["127.0.0.1/32"])


def side(port, ip):
    return get(port, "/", headers=[("X-Forwarded-For", ip)]).header("X-Backend")


def test_split_proportions_over_many_clients(start_portico, start_backend):
    v1, v2 = start_backend("v1"), start_backend("v2")
    port = free_port()
    start_portico(split_config(port, v1, v2))
    rnd = random.Random(7)
    ips = ["10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255))
           for _ in range(2000)]
    got = [side(port, ip) for ip in ips]
    share = got.count("v2") / len(got)
    assert 0.05 <= share <= 0.15, "canary share %.3f, want 0.10 ± 0.05" % share


def test_a_client_stays_on_one_side(start_portico, start_backend):
    v1, v2 = start_backend("v1"), start_backend("v2")
    port = free_port()
    start_portico(split_config(port, v1, v2, 50, 50))
    for ip in ("192.0.2.1", "192.0.2.77", "198.51.100.9", "2001:db8::5"):
        first = side(port, ip)
        assert all(side(port, ip) == first for _ in range(10))


def test_rewrite_with_captures(start_portico, backend):
    port = free_port()
    start_portico(make_config(port, {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/old/"}, "upstream": "app",
         "rewrite": {"regex": "^/old/([a-z]+)/([0-9]+)$", "to": "/new/$2/$1"}},
        {"match": {"path_prefix": "/"}, "upstream": "app"}]))
    get(port, "/old/items/42?x=1")
    assert backend.requests[-1]["target"] == "/new/42/items?x=1"
    get(port, "/old/NOMATCH")
    assert backend.requests[-1]["target"] == "/old/NOMATCH"


def test_split_to_a_missing_upstream_is_a_config_error(tmp_path):
    from helpers import run_portico, yaml_dump
    cfg = make_config(free_port(), {"v1": ["127.0.0.1:9"]}, routes=[
        {"match": {"path_prefix": "/"},
         "split": [{"upstream": "v1", "weight": 1}, {"upstream": "v9", "weight": 1}]}])
    path = tmp_path / "p.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 1 and 'upstream "v9" is not defined' in r.stderr
