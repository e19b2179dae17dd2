#!/usr/bin/env python3
"""Writes the seed corpora under tests/fuzz/corpus/. Run from anywhere; the
seeds are committed, so run it again only to change them on purpose."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

def put(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode('latin-1')
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)

R = '\r\n'
def req(line, *fields, body=''):
    return line + R + ''.join(f + R for f in fields) + R + body

requests = {
    'get': req('GET / HTTP/1.1', 'Host: example.com'),
    'get10': req('GET /index.html HTTP/1.0'),
    'get10_keepalive': req('GET / HTTP/1.0', 'Connection: keep-alive'),
    'close': req('GET /a?b=c HTTP/1.1', 'Host: a.example', 'Connection: close'),
    'post_cl': req('POST /api HTTP/1.1', 'Host: x', 'Content-Length: 5', body='hello'),
    'post_chunked': req('POST /up HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', body='5\r\nhello\r\n0\r\n\r\n'),
    'absolute': req('GET http://example.com:8080/p?q HTTP/1.1', 'Host: other'),
    'authority': req('CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443'),
    'options_star': req('OPTIONS * HTTP/1.1', 'Host: x'),
    'expect': req('PUT /f HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Content-Length: 3', body='abc'),
    'upgrade': req('GET /ws HTTP/1.1', 'Host: x', 'Connection: Upgrade', 'Upgrade: websocket'),
    'many_fields': req('GET / HTTP/1.1', 'Host: x', 'Accept: */*', 'User-Agent: fuzz/1.0', 'Accept-Encoding: gzip, br', 'X-Forwarded-For: 10.0.0.1, 10.0.0.2', 'X-Request-Id: abc-123', 'Cookie: a=b; c=d'),
    'leading_crlf': '\r\n\r\n' + req('GET / HTTP/1.1', 'Host: x'),
    'ows_value': req('GET / HTTP/1.1', 'Host:x', 'X-A: \t v \t', 'X-Empty:'),
    'obs_text': req('GET /caf\xc3\xa9 HTTP/1.1', 'Host: x', 'X-Utf8: \xc3\xa9'),
    'ipv6_host': req('GET / HTTP/1.1', 'Host: [::1]:8080'),
    'pipelined': req('GET /1 HTTP/1.1', 'Host: x') + req('GET /2 HTTP/1.1', 'Host: x'),
    'incomplete': 'GET / HTTP/1.1\r\nHost: x\r\n',
    # smuggling and refusals (PRODUCT.md 3)
    'cl_te': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: 4', 'Transfer-Encoding: chunked', body='0\r\n\r\n'),
    'te_cl': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 4', body='0\r\n\r\n'),
    'cl_twice': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: 3', 'Content-Length: 3', body='abc'),
    'cl_list': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: 3, 3', body='abc'),
    'cl_plus': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: +3', body='abc'),
    'cl_huge': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: 99999999999999999999'),
    'cl_hex': req('POST / HTTP/1.1', 'Host: x', 'Content-Length: 0x10'),
    'te_gzip_chunked': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: gzip, chunked', body='0\r\n\r\n'),
    'te_chunked_gzip': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, gzip'),
    'te_twice': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'),
    'te_chunked_chunked': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, chunked'),
    'te_case': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: ChUnKeD', body='0\r\n\r\n'),
    'te_http10': req('POST / HTTP/1.0', 'Transfer-Encoding: chunked', body='0\r\n\r\n'),
    'te_space_name': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding : chunked'),
    'te_tab_value': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding:\tchunked'),
    'te_xchunked': req('POST / HTTP/1.1', 'Host: x', 'Transfer-Encoding: xchunked'),
    'obs_fold': req('GET / HTTP/1.1', 'Host: x', 'X-A: a', ' continued'),
    'bare_lf': 'GET / HTTP/1.1\nHost: x\n\n',
    'bare_cr': 'GET / HTTP/1.1\rHost: x\r\n\r\n',
    'nul_value': req('GET / HTTP/1.1', 'Host: x', 'X-A: a\x00b'),
    'ctl_name': req('GET / HTTP/1.1', 'Host: x', 'X\x01A: a'),
    'two_spaces': req('GET  / HTTP/1.1', 'Host: x'),
    'http2_version': req('GET / HTTP/2.0', 'Host: x'),
    'http09': 'GET /\r\n\r\n',
    'no_host': req('GET / HTTP/1.1'),
    'two_hosts': req('GET / HTTP/1.1', 'Host: a', 'Host: b'),
    'bad_host': req('GET / HTTP/1.1', 'Host: a b'),
    'host_at': req('GET http://user@evil/ HTTP/1.1', 'Host: good'),
    'space_target': req('GET /a b HTTP/1.1', 'Host: x'),
    'lower_version': req('GET / http/1.1', 'Host: x'),
}
for name, r in requests.items():
    # the first byte picks max_head / capacity in fuzz_request
    put('fuzz_request', name, '\x00' + r)
put('fuzz_request', 'small_head', '\x01' + requests['many_fields'])
put('fuzz_request', 'few_fields', '\x10' + requests['many_fields'])
put('fuzz_request', 'no_fields', '\x08' + requests['get'])

def resp(line, *fields, body=''):
    return line + R + ''.join(f + R for f in fields) + R + body

responses = {
    'ok_cl': resp('HTTP/1.1 200 OK', 'Content-Length: 2', 'Content-Type: text/plain', body='ok'),
    'ok_chunked': resp('HTTP/1.1 200 OK', 'Transfer-Encoding: chunked', body='2\r\nok\r\n0\r\n\r\n'),
    'until_close': resp('HTTP/1.1 200 OK', 'Content-Type: text/html', body='<html>'),
    'http10': resp('HTTP/1.0 200 OK', 'Content-Length: 0'),
    'http10_keepalive': resp('HTTP/1.0 200 OK', 'Connection: keep-alive', 'Content-Length: 0'),
    'no_reason': 'HTTP/1.1 204\r\n\r\n',
    'empty_reason': 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n',
    'not_modified': resp('HTTP/1.1 304 Not Modified', 'ETag: "x"', 'Content-Length: 100'),
    'continue': resp('HTTP/1.1 100 Continue') + resp('HTTP/1.1 200 OK', 'Content-Length: 0'),
    'switching': resp('HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: websocket'),
    'cl_equal': resp('HTTP/1.1 200 OK', 'Content-Length: 3', 'Content-Length: 3', body='abc'),
    'cl_list': resp('HTTP/1.1 200 OK', 'Content-Length: 3, 3', body='abc'),
    'cl_differ': resp('HTTP/1.1 200 OK', 'Content-Length: 3', 'Content-Length: 4'),
    'cl_te': resp('HTTP/1.1 200 OK', 'Content-Length: 3', 'Transfer-Encoding: chunked'),
    'te_gzip': resp('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip'),
    'te_gzip_chunked': resp('HTTP/1.1 200 OK', 'Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'),
    'te_http10': resp('HTTP/1.0 200 OK', 'Transfer-Encoding: chunked'),
    'bad_status': resp('HTTP/1.1 20 OK'),
    'status_999': resp('HTTP/1.1 999 Weird', 'Content-Length: 0'),
    'status_099': resp('HTTP/1.1 099 Low'),
    'bad_version': resp('HTTP/1.2 200 OK'),
    'bare_lf': 'HTTP/1.1 200 OK\nContent-Length: 0\n\n',
    'obs_fold': resp('HTTP/1.1 200 OK', 'X-A: a', '\tb', 'Content-Length: 0'),
    'close': resp('HTTP/1.1 200 OK', 'Connection: close', 'Content-Length: 1', body='x'),
    'set_cookie': resp('HTTP/1.1 302 Found', 'Location: /x', 'Set-Cookie: a=b', 'Content-Length: 0'),
    'leading_crlf': '\r\n' + resp('HTTP/1.1 200 OK', 'Content-Length: 0'),
}
for name, r in responses.items():
    put('fuzz_response', name, '\x00' + r)
    put('fuzz_response', name + '_head', '\x01' + r)

chunked = {
    'simple': '5\r\nhello\r\n0\r\n\r\n',
    'two': '3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n',
    'ext': '5;name=value\r\nhello\r\n0;last\r\n\r\n',
    'ext_quoted': '5;a="b;c"\r\nhello\r\n0\r\n\r\n',
    'ws_after_size': '5 \t;x\r\nhello\r\n0 \r\n\r\n',
    'trailers': '1\r\nx\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n',
    'forbidden_trailer': '1\r\nx\r\n0\r\nContent-Length: 5\r\n\r\n',
    'trailer_host': '0\r\nHost: evil\r\n\r\n',
    'trailer_fold': '0\r\nX-A: a\r\n b\r\n\r\n',
    'upper_hex': 'A\r\n0123456789\r\n0\r\n\r\n',
    'leading_zeros': '0000000000000005\r\nhello\r\n0\r\n\r\n',
    'seventeen_digits': '00000000000000005\r\nhello\r\n0\r\n\r\n',
    'huge_size': '8000000000000000\r\n',
    'max_size': '7fffffffffffffff\r\nabc',
    'no_digit': '\r\n\r\n',
    'minus': '-1\r\n',
    'hex_prefix': '0x5\r\nhello\r\n0\r\n\r\n',
    'bare_lf': '5\nhello\n0\n\n',
    'no_crlf_after_data': '5\r\nhelloX\r\n0\r\n\r\n',
    'short': '5\r\nhel',
    'trailing_bytes': '0\r\n\r\nGET / HTTP/1.1\r\n',
    'space_before_size': ' 5\r\nhello\r\n0\r\n\r\n',
    'big_chunk': '400\r\n' + 'x' * 1024 + '\r\n0\r\n\r\n',
}
for name, c in chunked.items():
    put('fuzz_chunked', name, '\x00' + c)
put('fuzz_chunked', 'split_three', '\x03\x01\x02\x05' + chunked['trailers'])
put('fuzz_chunked', 'split_many', '\x0f' + ''.join(chr(i) for i in range(1, 16)) + chunked['two'])

# fuzz_downstream: flags byte, piece-size byte, client bytes [, MARK, upstream bytes]
MARK = '\x00UPSTREAM\x00'
def ds(name, client, flags=0, piece=0, upstream=None):
    data = chr(flags) + chr(piece) + client
    if upstream is not None:
        data += MARK + upstream
    put('fuzz_downstream', name, data)

H = 'Host: example.org'
ds('health', req('GET /healthz HTTP/1.1', 'Host: x'))
ds('health_json', req('GET /healthz HTTP/1.1', 'Host: x', 'Accept: application/json'))
ds('teapot_head', req('HEAD /tea HTTP/1.1', 'Host: x'))
ds('not_found', req('GET /nothing HTTP/1.1', 'Host: x'), flags=2)
ds('not_found_json', req('GET /nothing HTTP/1.1', 'Host: x', 'Accept: application/json'))
ds('proxied', req('GET /a/b?c=d HTTP/1.1', H, 'X-Request-Id: abc-123', 'X-Forwarded-For: 10.1.1.1, 192.0.2.1'))
ds('proxied_close', req('GET /a HTTP/1.1', H, 'Connection: close'), flags=4)
ds('proxied_10', req('GET /a HTTP/1.0', H), flags=2)
ds('proxied_api', req('GET /v1/users HTTP/1.1', 'Host: api.example.com', 'X-Canary: 1', 'Cookie: a=b'))
ds('post_cl', req('POST /a/up HTTP/1.1', H, 'Content-Length: 11', body='hello world'))
ds('post_chunked', req('POST /a/up HTTP/1.1', H, 'Transfer-Encoding: chunked', body='5\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n'))
ds('post_chunked_pieces', req('POST /a/up HTTP/1.1', H, 'Transfer-Encoding: chunked', body='5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'), piece=7)
ds('expect', req('PUT /a/f HTTP/1.1', H, 'Expect: 100-continue', 'Content-Length: 3'), flags=0)
ds('expect_body', req('PUT /a/f HTTP/1.1', H, 'Expect: 100-continue', 'Content-Length: 3', body='abc'), piece=40)
ds('body_too_big_small', req('POST /a HTTP/1.1', H, 'Content-Length: 40', body='x' * 40), flags=1)
ds('pipelined', req('GET /healthz HTTP/1.1', 'Host: x') + req('GET /a HTTP/1.1', H) + req('GET /nothing HTTP/1.1', 'Host: x'))
ds('pipelined_pieces', req('GET /a/1 HTTP/1.1', H) + req('GET /a/2 HTTP/1.1', H), piece=13)
ds('keepalive_two', req('GET /a/1 HTTP/1.1', H) + req('POST /a/2 HTTP/1.1', H, 'Content-Length: 2', body='hi'), piece=50)
ds('dead_upstream', req('GET /dead HTTP/1.1', 'Host: x'))
ds('dead_upstream_post', req('POST /dead HTTP/1.1', 'Host: x', 'Content-Length: 2', body='hi'))
ds('absolute_form', req('GET http://example.org/a HTTP/1.1', 'Host: other'))
ds('upgrade', req('GET /a/ws HTTP/1.1', H, 'Connection: Upgrade', 'Upgrade: websocket'),
   upstream='HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframes')
ds('hop_by_hop', req('GET /a HTTP/1.1', H, 'Connection: X-Secret, close', 'X-Secret: 1', 'Keep-Alive: 5', 'TE: trailers', 'Proxy-Authorization: x'))
ds('reload', req('GET /healthz HTTP/1.1', 'Host: x') + req('GET /a HTTP/1.1', H), flags=32, piece=20)
ds('drain', req('GET /a HTTP/1.1', H), flags=8)
ds('half_close_midhead', 'GET /a HTTP/1.1\r\nHo', flags=2)
# refusals (PRODUCT.md 3): 400 and close
for name in ('cl_te', 'te_cl', 'cl_twice', 'te_gzip_chunked', 'te_chunked_gzip', 'obs_fold', 'bare_lf', 'no_host', 'two_hosts', 'te_space_name', 'nul_value', 'http2_version'):
    ds('refuse_' + name, requests[name].replace('POST / ', 'POST /a ').replace('GET / ', 'GET /a '))
ds('smuggle_after_chunked', req('POST /a HTTP/1.1', H, 'Transfer-Encoding: chunked', body='0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'))
ds('bad_chunk_size', req('POST /a HTTP/1.1', H, 'Transfer-Encoding: chunked', body='zz\r\nhello\r\n0\r\n\r\n'))
ds('big_head_small', req('GET /a HTTP/1.1', H, 'X-Big: ' + 'y' * 1100), flags=1)
ds('many_fields_small', req('GET /a HTTP/1.1', H, *['X-F%d: v' % i for i in range(12)]), flags=1)
ds('uri_too_long_small', req('GET /' + 'a' * 1200 + ' HTTP/1.1', H), flags=1)
# upstream answers
ds('up_chunked', req('GET /a HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
ds('up_chunked_to_10', req('GET /a HTTP/1.0', H), upstream='HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')
ds('up_until_close', req('GET /a HTTP/1.1', H), flags=4, upstream='HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it')
ds('up_bad_status', req('GET /a HTTP/1.1', H), upstream='HTTP/1.1 2000 OK\r\n\r\n')
ds('up_cl_conflict', req('GET /a HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd')
ds('up_cl_te', req('GET /a HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
ds('up_continue', req('POST /a HTTP/1.1', H, 'Expect: 100-continue', 'Content-Length: 2', body='hi'), upstream='HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n')
ds('up_304', req('GET /a HTTP/1.1', H, 'If-None-Match: "x"'), upstream='HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 10\r\n\r\n')
ds('up_head', req('HEAD /a HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n')
ds('up_extra_bytes', req('GET /a HTTP/1.1', H) + req('GET /a/2 HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')
ds('up_split', req('GET /a HTTP/1.1', H), flags=16, upstream='HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello')
ds('up_short_body', req('GET /a HTTP/1.1', H), flags=4, upstream='HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort')
ds('up_bad_chunked', req('GET /a HTTP/1.1', H), upstream='HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n')
ds('up_http10', req('GET /a HTTP/1.1', H), flags=4, upstream='HTTP/1.0 200 OK\r\n\r\nbody')
ds('up_closes_at_once', req('GET /a HTTP/1.1', H), flags=4, upstream='')

# fuzz_config: YAML configurations (docs/config.md)
configs = {
    'minimal': 'listeners:\n  - name: web\n    address: ":8080"\n',
    'flow': 'listeners: [{name: web, address: "127.0.0.1:8080"}]\nupstreams: {app: {servers: [127.0.0.1:9001]}}\nroutes: [{upstream: app}]\n',
    'full': '''workers: 4
user: www-data
pid_file: run/portico.pid
limits:
  max_connections: 20000
  header_timeout: 5s
  idle_timeout: 1m30s
  body_timeout: 30s
  max_header_size: 32k
  max_headers: 100
  max_body_size: 50m
  drain_timeout: 15s
trusted_proxies: [10.0.0.0/8, "::1/128"]
listeners:
  - name: web
    address: ":8080"
  - name: internal
    address: "127.0.0.1:8081"
    limits: { max_body_size: 0, idle_timeout: 5m }
upstreams:
  app:
    balance: round_robin
    servers:
      - address: 127.0.0.1:9001
        weight: 3
      - address: 127.0.0.1:9002
      - unix:/run/app.sock
    keepalive: 64
    connect_timeout: 1s
    response_timeout: 30s
    retries: 2
  static:
    servers: [{ address: "[::1]:9100" }]
routes:
  - name: health
    match: { path_exact: /healthz }
    respond: { status: 200, body: "ok", content_type: text/plain }
  - name: api
    match:
      host: api.example.com
      path_prefix: /v1/
      methods: [GET, POST]
      headers: { X-Canary: "1" }
    upstream: app
    strip_prefix: /v1
    set_request_headers: { X-Env: prod, Cookie2: "" }
    set_response_headers: { Cache-Control: no-store }
  - match: { host: "*.static.example.com" }
    upstream: static
  - upstream: app
security:
  hide_backend_headers: [Server, X-Powered-By, X-AspNet-Version, X-Runtime]
  server_header: portico
access_log:
  path: logs/access.log
  format: combined
''',
    'typo_key': 'listner:\n  - name: web\n    address: ":8080"\n',
    'bad_duration': 'limits: { header_timeout: ten }\nlisteners: [{name: w, address: ":1"}]\n',
    'bare_number_duration': 'limits: { idle_timeout: 10 }\nlisteners: [{name: w, address: ":1"}]\n',
    'size_kb': 'limits: { max_header_size: 16kb }\nlisteners: [{name: w, address: ":1"}]\n',
    'size_range': 'limits: { max_header_size: 512, max_headers: 0 }\nlisteners: [{name: w, address: ":1"}]\n',
    'bool_yes': 'listeners: [{name: w, address: ":1", proxy_protocol: yes}]\n',
    'undefined_upstream': 'listeners: [{name: w, address: ":1"}]\nupstreams: {app: {servers: ["127.0.0.1:9"]}}\nroutes: [{upstream: ap}]\n',
    'two_actions': 'listeners: [{name: w, address: ":1"}]\nroutes: [{respond: {status: 204}, upstream: x}]\n',
    'respond_status_bad': 'listeners: [{name: w, address: ":1"}]\nroutes: [{respond: {status: 99}}]\n',
    'not_supported': 'listeners: [{name: w, address: ":1"}]\nupstreams: {app: {servers: ["127.0.0.1:9"], health_check: {path: /h}}}\n',
    'not_supported_default': 'listeners: [{name: w, address: ":1", http2: false}]\ncaches: {}\n',
    'dup_key': 'workers: 1\nworkers: 2\nlisteners: [{name: w, address: ":1"}]\n',
    'dup_listener': 'listeners: [{name: w, address: ":1"}, {name: w, address: ":1"}]\n',
    'anchor': 'listeners: &l [{name: w, address: ":1"}]\nx: *l\n',
    'merge': 'base: &b {address: ":1"}\nlisteners: [{<<: *b, name: w}]\n',
    'tabs': 'listeners:\n\t- name: w\n',
    'two_docs': 'listeners: [{name: w, address: ":1"}]\n---\nworkers: 1\n',
    'empty': '',
    'null_root': '~\n',
    'scalar_root': 'hello\n',
    'seq_root': '- a\n- b\n',
    'null_listeners': 'listeners:\n',
    'bad_port': 'listeners: [{name: w, address: "127.0.0.1:70000"}]\n',
    'ipv6_unquoted': 'listeners: [{name: w, address: [::1]:8080}]\n',
    'unix_long': 'listeners: [{name: w, address: "unix:/' + 'a' * 120 + '"}]\n',
    'cidr_bits': 'trusted_proxies: [10.1.2.3/8, 192.168.1.7, "::ffff:1.2.3.4/96", 1.2.3.4/33]\nlisteners: [{name: w, address: ":1"}]\n',
    'workers_auto': 'workers: auto\nlisteners: [{name: w, address: ":1"}]\n',
    'workers_range': 'workers: 1025\nlisteners: [{name: w, address: ":1"}]\n',
    'match_host_port': 'listeners: [{name: w, address: ":1"}]\nroutes: [{match: {host: "a.com:80"}, respond: {}}]\n',
    'path_both': 'listeners: [{name: w, address: ":1"}]\nroutes: [{match: {path_prefix: /a, path_exact: /a}, respond: {}}]\n',
    'methods_lower': 'listeners: [{name: w, address: ":1"}]\nroutes: [{match: {methods: [get, Post]}, respond: {body: "x"}}]\n',
    'route_names': 'listeners: [{name: w, address: ":1"}]\nroutes: [{name: a, respond: {}}, {name: a, respond: {}}]\n',
    'headers_null': 'listeners: [{name: w, address: ":1"}]\nroutes: [{set_request_headers: {X-A: ~, X-B: ""}, respond: {}}]\n',
    'quoted_numbers': 'workers: "2"\nlimits: {header_timeout: "10s", max_headers: "7"}\nlisteners: [{name: w, address: ":1"}]\n',
    'string_null': 'user: "null"\nlisteners: [{name: w, address: ":1"}]\n',
    'access_log_null': 'access_log: null\nlisteners: [{name: w, address: ":1"}]\n',
    'access_log_bad_format': 'access_log: {format: xml}\nlisteners: [{name: w, address: ":1"}]\n',
    'block_scalar': 'listeners: [{name: w, address: ":1"}]\nroutes:\n  - respond:\n      body: |\n        line one\n        line two\n',
    'bad_utf8': 'listeners: [{name: "w\xff", address: ":1"}]\n',
    'unclosed': 'listeners: [{name: w, address: ":1"\n',
    'weights': 'listeners: [{name: w, address: ":1"}]\nupstreams: {a: {servers: [{address: "127.0.0.1:1", weight: 0}, {address: "127.0.0.1:2", weight: 10001}]}}\n',
    'balance_unsupported': 'listeners: [{name: w, address: ":1"}]\nupstreams: {a: {servers: ["127.0.0.1:1"], balance: least_conn}}\n',
}
for name, c in configs.items():
    put('fuzz_config', name, c)

# HTTP/2 on the main listener (http2: true): prior-knowledge preface, then
# frames with HPACK literals (no indexing), enough for the fuzzer to build on.
import struct
PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
def frame(kind, flags, sid, payload=''):
    return struct.pack('>I', len(payload))[1:].decode('latin-1') + chr(kind) + chr(flags) + \
        struct.pack('>I', sid).decode('latin-1') + payload
def hpack(*fields):
    return ''.join('\x00' + chr(len(n)) + n + chr(len(v)) + v for n, v in fields)
def h2_headers(sid, path, method='GET', end=True, extra=()):
    block = hpack((':method', method), (':scheme', 'http'), (':authority', 'example.org'),
                  (':path', path), *extra)
    return frame(1, 4 | (1 if end else 0), sid, block)
SETTINGS = frame(4, 0, 0)
ds('h2_get', PREFACE + SETTINGS + h2_headers(1, '/healthz') + h2_headers(3, '/a/x'))
ds('h2_post_cl', PREFACE + SETTINGS + h2_headers(1, '/a/up', 'POST', False, (('content-length', '5'),)) +
   frame(0, 1, 1, 'hello'))
ds('h2_post_chunked', PREFACE + SETTINGS + h2_headers(1, '/a/up', 'POST', False) +
   frame(0, 0, 1, 'hel') + frame(0, 1, 1, 'lo'), piece=30)
ds('h2_reset', PREFACE + SETTINGS + h2_headers(1, '/a/slow') + frame(3, 0, 1, '\x00\x00\x00\x08') +
   frame(6, 0, 0, 'pingpong'))
ds('h2_continuation', PREFACE + SETTINGS + frame(1, 1, 1, hpack((':method', 'GET'))) +
   frame(9, 4, 1, hpack((':scheme', 'http'), (':path', '/healthz'))))
ds('h2_cookies_big', PREFACE + SETTINGS + h2_headers(1, '/a/c', extra=(('cookie', 'a=1'), ('cookie', 'b=2'), ('x-big', 'v' * 200))), flags=1)
