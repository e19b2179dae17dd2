"""Routing (PRODUCT.md §2 routes:): path_regex, precedence across exact host,
wildcard host and any host (first match in file order), path normalisation
before matching (while the backend receives the original bytes), and the
-t warning for routes an earlier route shadows."""

import pytest

from helpers import free_port, get, make_config, run_portico, yaml_dump


def tagged(name, match, upstream="app"):
    return {"name": name, "match": match, "upstream": upstream,
            "set_response_headers": {"X-Route": name}}


ROUTES = [
    tagged("regex", {"path_regex": "^/v[0-9]+/users/[0-9]+$"}),
    tagged("wild-api", {"host": "*.example.com", "path_prefix": "/api/"}),
    tagged("www", {"host": "www.example.com"}),
    tagged("any-api", {"path_prefix": "/api/"}),
    tagged("exact-b", {"path_exact": "/a/b"}),
    tagged("exact-host-api", {"host": "www.example.com", "path_prefix": "/api/"}),
    tagged("rest", {"path_prefix": "/"}),
]


@pytest.fixture
def proxy(start_portico, backend):
    port = free_port()
    start_portico(make_config(port, {"app": [backend]}, routes=ROUTES))
    return port


@pytest.mark.parametrize("host,path,want", [
    ("x.test", "/v2/users/42", "regex"),
    ("x.test", "/v2/users/42/more", "rest"),
    ("www.example.com", "/api/x", "wild-api"),      # wildcard comes first in the file
    ("WWW.Example.com:8080", "/other", "www"),
    ("example.com", "/api/x", "any-api"),           # "*." needs a label before
    ("a.b.example.com", "/api/", "wild-api"),
    ("x.test", "/a/b", "exact-b"),
    ("x.test", "/a/b/", "rest"),
])
def test_precedence_and_regex(proxy, host, path, want):
    r = get(proxy, path, host=host)
    assert r.status == 200, r
    assert r.header("X-Route") == want


@pytest.mark.parametrize("path,want", [
    ("/a/./b", "exact-b"),
    ("/a//b", "exact-b"),
    ("/a/c/../b", "exact-b"),
    ("/%61pi/x", "any-api"),
    ("/%61%70%69/x", "any-api"),
    ("/a/%2e/b", "exact-b"),
])
def test_normalised_path_routes_and_original_bytes_are_forwarded(proxy, backend, path, want):
    r = get(proxy, path + "?q=%2e", host="x.test")
    assert r.status == 200, r
    assert r.header("X-Route") == want
    assert backend.requests[-1]["target"] == path + "?q=%2e"


@pytest.mark.parametrize("path", ["/../etc/passwd", "/a/../../etc", "/%2e%2e/etc",
                                  "/a/%2E%2e/%2e%2E/x", "/.."])
def test_paths_escaping_the_root_get_400(proxy, backend, path):
    r = get(proxy, path, host="x.test")
    assert r.status == 400, r
    assert backend.requests == []


def test_invalid_regex_is_a_config_error(tmp_path):
    cfg = make_config(free_port(), {"app": ["127.0.0.1:9"]},
                      routes=[{"match": {"path_regex": "^/a[0-9"}, "upstream": "app"}])
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode != 0
    assert "invalid path_regex" in r.stderr and "at offset 7" in r.stderr, r.stderr
    assert r.stderr.startswith(str(path) + ":")


def test_only_one_path_condition(tmp_path):
    cfg = make_config(free_port(), {"app": ["127.0.0.1:9"]},
                      routes=[{"match": {"path_regex": "^/a", "path_prefix": "/a"},
                               "upstream": "app"}])
    path = tmp_path / "two.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode != 0
    assert "only one of path_prefix, path_exact or path_regex" in r.stderr


def test_shadowed_route_is_a_warning(tmp_path):
    routes = [{"name": "api", "match": {"path_prefix": "/api/"}, "upstream": "app"},
              {"name": "users", "match": {"host": "a.test", "path_prefix": "/api/users"},
               "upstream": "app"},
              {"name": "get-only", "match": {"path_prefix": "/x", "methods": ["GET"]},
               "upstream": "app"},
              {"name": "x", "match": {"path_prefix": "/x/y"}, "upstream": "app"}]
    cfg = make_config(free_port(), {"app": ["127.0.0.1:9"]}, routes=routes)
    path = tmp_path / "shadow.yaml"
    path.write_text(yaml_dump(cfg) + "\n")
    r = run_portico("-t", "-c", path)
    assert r.returncode == 0, r.stderr
    assert "configuration ok" in r.stdout
    lines = [ln for ln in r.stderr.splitlines() if "warning" in ln]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(str(path) + ":")
    assert lines[0].endswith(": warning: route 2 (users) can never match: "
                             "route 1 (api) matches everything it does")
