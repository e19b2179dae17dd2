"""Route actions with variables (PRODUCT.md §2 routes: redirect, respond,
set_request_headers, set_response_headers; $scheme $host $request_uri $uri
$args $client_ip $request_id)."""

import pytest

from helpers import free_port, get, make_config


def test_redirect_with_variables(start_portico):
    port = free_port()
    start_portico(make_config(port, routes=[
        {"match": {"path_prefix": "/old/"},
         "redirect": {"to": "https://$host/new$uri?from=$args", "status": 308}},
        {"match": {"path_prefix": "/"}, "redirect": {"to": "https://$host$request_uri"}}]))
    r = get(port, "/old/page?a=1&b=2", host="Example.COM:8080")
    assert r.status == 308
    assert r.header("Location") == "https://Example.COM/new/old/page?from=a=1&b=2"
    r = get(port, "/x?y", host="site.test")
    assert r.status == 301 and r.header("Location") == "https://site.test/x?y"


def test_respond_body_with_variables(start_portico):
    port = free_port()
    start_portico(make_config(port, routes=[
        {"match": {"path_prefix": "/"},
         "respond": {"status": 200, "body": "$scheme $client_ip $request_id $$ $unknown"}}]))
    r = get(port, "/", headers=[("X-Request-Id", "abc-123")])
    assert r.body == b"http 127.0.0.1 abc-123 $ $unknown"
    assert r.header("Content-Length") == str(len(r.body))


def test_set_headers_with_variables(start_portico, backend):
    port = free_port()
    start_portico(make_config(port, {"app": [backend]}, routes=[
        {"match": {"path_prefix": "/"}, "upstream": "app",
         "set_request_headers": {"X-Original-Uri": "$request_uri", "X-Client": "$client_ip"},
         "set_response_headers": {"X-Seen-Host": "$host", "X-Id": "$request_id"}}]))
    r = get(port, "/headers?q=1", host="h.test:81", headers=[("X-Request-Id", "rid-1")])
    assert r.header("X-Seen-Host") == "h.test" and r.header("X-Id") == "rid-1"
    seen = dict((k.lower(), v) for k, v in backend.requests[-1]["headers"])
    assert seen["x-original-uri"] == "/headers?q=1" and seen["x-client"] == "127.0.0.1"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_statuses(start_portico, status):
    port = free_port()
    start_portico(make_config(port, routes=[
        {"match": {"path_prefix": "/"}, "redirect": {"to": "/elsewhere", "status": status}}]))
    r = get(port, "/")
    assert r.status == status and r.header("Location") == "/elsewhere"
