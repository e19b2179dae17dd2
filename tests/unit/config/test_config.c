#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"

#define NAME "t.yaml"
#define BASE "/etc/portico"
/* A valid listener, so that error tests see only the error they are about. */
#define LISTENER "listeners: [{name: web, address: \":8080\"}]\n"

static struct proxy_config *load(const char *yaml, struct config_errors *errs)
{
	return config_load_buffer(NAME, yaml, strlen(yaml), BASE, errs);
}

static struct proxy_config *load_ok(const char *yaml)
{
	struct config_errors errs = { 0 };
	struct proxy_config *cfg = load(yaml, &errs);

	for (size_t i = 0; i < errs.count; i++)
		cr_log_error("%s", errs.messages[i]);
	cr_assert_not_null(cfg, "expected the configuration to load");
	cr_assert_eq(errs.count, 0);
	config_errors_deinit(&errs);
	return cfg;
}

static void check_errors(const char *yaml, const char *const *want, size_t n)
{
	struct config_errors errs = { 0 };
	struct proxy_config *cfg = load(yaml, &errs);

	cr_expect_null(cfg, "expected the configuration to be refused");
	config_free(cfg);
	if (errs.count != n)
		for (size_t i = 0; i < errs.count; i++)
			cr_log_error("got: %s", errs.messages[i]);
	cr_expect_eq(errs.count, n, "expected %zu errors, got %zu", n, errs.count);
	for (size_t i = 0; i < n && i < errs.count; i++)
		cr_expect_str_eq(errs.messages[i], want[i]);
	config_errors_deinit(&errs);
}

#define EXPECT_ERRORS(yaml, ...)                                                                 \
	do {                                                                                     \
		const char *const want_[] = { __VA_ARGS__ };                                     \
		check_errors((yaml), want_, sizeof(want_) / sizeof(want_[0]));                   \
	} while (0)

static void expect_addr(const struct addr *a, const char *want)
{
	char buf[128];

	addr_format(a, buf, sizeof(buf));
	cr_expect_str_eq(buf, want);
}

/* ---- a full valid file ---- */

static const char full_yaml[] =
	"workers: 3\n"                                             /* 1 */
	"user: nobody\n"
	"pid_file: run/portico.pid\n"
	"limits:\n"
	"  max_connections: 5000\n"                                /* 5 */
	"  header_timeout: 5s\n"
	"  idle_timeout: 1m30s\n"
	"  body_timeout: 250ms\n"
	"  max_header_size: 32k\n"
	"  max_headers: 50\n"                                      /* 10 */
	"  max_body_size: 1g\n"
	"  drain_timeout: 0s\n"
	"trusted_proxies: [10.0.0.0/8, \"::1/128\", 192.168.1.1]\n"
	"listeners:\n"
	"  - name: web\n"                                          /* 15 */
	"    address: \":8080\"\n"
	"    limits: { idle_timeout: 5s, max_headers: 20 }\n"
	"    proxy_protocol: false\n"
	"    http2: false\n"
	"    tls: null\n"                                          /* 20 */
	"  - name: local\n"
	"    address: \"[::1]:8443\"\n"
	"  - name: sock\n"
	"    address: unix:/tmp/portico-test.sock\n"
	"upstreams:\n"                                             /* 25 */
	"  app:\n"
	"    balance: round_robin\n"
	"    servers:\n"
	"      - address: 127.0.0.1:9001\n"
	"        weight: 3\n"                                      /* 30 */
	"        backup: false\n"
	"        max_connections: 0\n"
	"      - 127.0.0.1:9002\n"
	"      - address: localhost:9003\n"
	"    keepalive: 8\n"                                       /* 35 */
	"    connect_timeout: 1s\n"
	"    response_timeout: 30s\n"
	"    retries: 2\n"
	"    passive: { max_fails: 3, fail_timeout: 10s }\n"
	"    slow_start: 0s\n"                                     /* 40 */
	"    retry_budget: { ratio: 0.2, min_per_second: 10 }\n"
	"  static:\n"
	"    servers: [{address: \"[::1]:9100\"}]\n"
	"routes:\n"
	"  - name: api\n"                                          /* 45 */
	"    match:\n"
	"      host: API.Example.com\n"
	"      path_prefix: /api/\n"
	"      methods: [get, POST]\n"
	"      headers: { X-Canary: \"1\", X-Any: \"\" }\n"        /* 50 */
	"    upstream: static\n"
	"    strip_prefix: /api\n"
	"    set_request_headers: { X-From: portico, X-Remove: \"\" }\n"
	"    set_response_headers: { Cache-Control: no-store }\n"
	"    websocket: true\n"                                    /* 55 */
	"    compress: false\n"
	"  - match: { host: \"*.example.org\", path_exact: /health }\n"
	"    respond: { status: 204 }\n"
	"  - respond: { body: \"down\", content_type: application/json, status: 503 }\n"
	"  - upstream: app\n"                                      /* 60 */
	"security:\n"
	"  hide_backend_headers: [Server, X-Debug]\n"
	"  server_header: \"\"\n"
	"  underscores_in_headers: reject\n"
	"access_log:\n"                                           /* 65 */
	"  path: logs/access.log\n"
	"  format: combined\n";

Test(config, full_file_top_level)
{
	struct proxy_config *cfg = load_ok(full_yaml);
	uint8_t ip[16];

	cr_expect_null(cfg->path);
	cr_expect_eq(cfg->workers, 3);
	cr_expect_str_eq(cfg->user, "nobody");
	cr_expect_str_eq(cfg->pid_file, BASE "/run/portico.pid");
	cr_expect_eq(cfg->limits.max_connections, 5000);
	cr_expect_eq(cfg->limits.header_timeout_ms, 5000);
	cr_expect_eq(cfg->limits.idle_timeout_ms, 90000);
	cr_expect_eq(cfg->limits.body_timeout_ms, 250);
	cr_expect_eq(cfg->limits.max_header_size, 32768);
	cr_expect_eq(cfg->limits.max_headers, 50);
	cr_expect_eq(cfg->limits.max_body_size, 1ull << 30);
	cr_expect_eq(cfg->limits.drain_timeout_ms, 0);
	cr_assert_eq(cfg->num_trusted_proxies, 3);
	cr_assert_eq(cidr_ip_parse("10.9.8.7", 8, ip), 0);
	cr_expect(cidr_contains(&cfg->trusted_proxies[0], ip));
	cr_expect_not(cidr_contains(&cfg->trusted_proxies[1], ip));
	cr_assert_eq(cidr_ip_parse("192.168.1.1", 11, ip), 0);
	cr_expect(cidr_contains(&cfg->trusted_proxies[2], ip));
	cr_expect_eq(cfg->security.num_hide_backend_headers, 2);
	cr_expect_str_eq(cfg->security.hide_backend_headers[0], "Server");
	cr_expect_str_eq(cfg->security.hide_backend_headers[1], "X-Debug");
	cr_expect_str_eq(cfg->security.server_header, "");
	cr_expect_eq(cfg->security.underscores_in_headers, UNDERSCORES_REJECT);
	cr_expect_str_eq(cfg->access_log.path, BASE "/logs/access.log");
	cr_expect_eq(cfg->access_log.format, ACCESS_LOG_COMBINED);
	config_free(cfg);
}

Test(config, full_file_listeners)
{
	struct proxy_config *cfg = load_ok(full_yaml);
	const struct listener_config *l;

	cr_assert_eq(cfg->num_listeners, 3);
	l = &cfg->listeners[0];
	cr_expect_str_eq(l->name, "web");
	cr_expect_str_eq(l->address, ":8080");
	expect_addr(&l->addr, "0.0.0.0:8080");
	cr_expect_not(l->http2);
	cr_expect_not(l->proxy_protocol);
	/* listener overrides merged over the top-level limits */
	cr_expect_eq(l->limits.idle_timeout_ms, 5000);
	cr_expect_eq(l->limits.max_headers, 20);
	cr_expect_eq(l->limits.header_timeout_ms, 5000);
	cr_expect_eq(l->limits.max_connections, 5000);
	cr_expect_eq(l->limits.max_body_size, 1ull << 30);
	l = &cfg->listeners[1];
	cr_expect_str_eq(l->name, "local");
	expect_addr(&l->addr, "[::1]:8443");
	cr_expect_eq(l->limits.idle_timeout_ms, 90000);
	cr_expect_eq(l->limits.max_headers, 50);
	expect_addr(&cfg->listeners[2].addr, "unix:/tmp/portico-test.sock");
	config_free(cfg);
}

Test(config, full_file_upstreams)
{
	struct proxy_config *cfg = load_ok(full_yaml);
	const struct upstream_config *u;

	cr_assert_eq(cfg->num_upstreams, 2);
	u = &cfg->upstreams[0];
	cr_expect_str_eq(u->name, "app");
	cr_expect_eq(u->balance, LB_ROUND_ROBIN);
	cr_expect_null(u->hash_key);
	cr_assert_eq(u->num_servers, 3);
	cr_expect_str_eq(u->servers[0].address, "127.0.0.1:9001");
	expect_addr(&u->servers[0].addr, "127.0.0.1:9001");
	cr_expect_eq(u->servers[0].weight, 3);
	cr_expect_not(u->servers[0].backup);
	cr_expect_eq(u->servers[0].max_connections, 0);
	cr_expect_str_eq(u->servers[1].address, "127.0.0.1:9002");
	cr_expect_eq(u->servers[1].weight, 1);
	cr_expect_str_eq(u->servers[2].address, "localhost:9003");
	expect_addr(&u->servers[2].addr, "127.0.0.1:9003");
	cr_expect_eq(u->keepalive, 8);
	cr_expect_eq(u->connect_timeout_ms, 1000);
	cr_expect_eq(u->response_timeout_ms, 30000);
	cr_expect_eq(u->retries, 2);
	u = &cfg->upstreams[1];
	cr_expect_str_eq(u->name, "static");
	cr_assert_eq(u->num_servers, 1);
	expect_addr(&u->servers[0].addr, "[::1]:9100");
	cr_expect_eq(u->keepalive, 32);
	cr_expect_eq(u->connect_timeout_ms, 3000);
	cr_expect_eq(u->response_timeout_ms, 60000);
	cr_expect_eq(u->retries, 1);
	config_free(cfg);
}

Test(config, full_file_routes)
{
	struct proxy_config *cfg = load_ok(full_yaml);
	const struct route_config *r;

	cr_assert_eq(cfg->num_routes, 4);
	r = &cfg->routes[0];
	cr_expect_str_eq(r->name, "api");
	cr_expect_eq(r->line, 45);
	cr_expect_str_eq(r->host, "api.example.com");
	cr_expect_str_eq(r->path_prefix, "/api/");
	cr_expect_null(r->path_exact);
	cr_assert_eq(r->num_methods, 2);
	cr_expect_str_eq(r->methods[0], "GET");
	cr_expect_str_eq(r->methods[1], "POST");
	cr_assert_eq(r->num_match_headers, 2);
	cr_expect_str_eq(r->match_headers[0].name, "X-Canary");
	cr_expect_str_eq(r->match_headers[0].value, "1");
	cr_expect_str_eq(r->match_headers[1].name, "X-Any");
	cr_expect_str_eq(r->match_headers[1].value, "");
	cr_expect_str_eq(r->upstream, "static");
	cr_expect_eq(r->upstream_index, 1);
	cr_expect_null(r->respond);
	cr_expect_str_eq(r->strip_prefix, "/api");
	cr_assert_eq(r->num_set_request_headers, 2);
	cr_expect_str_eq(r->set_request_headers[0].name, "X-From");
	cr_expect_str_eq(r->set_request_headers[0].value, "portico");
	cr_expect_str_eq(r->set_request_headers[1].value, "");
	cr_assert_eq(r->num_set_response_headers, 1);
	cr_expect_str_eq(r->set_response_headers[0].name, "Cache-Control");
	cr_expect_str_eq(r->set_response_headers[0].value, "no-store");
	cr_expect(r->websocket);

	r = &cfg->routes[1];
	cr_expect_str_eq(r->name, "route-2");
	cr_expect_eq(r->line, 57);
	cr_expect_str_eq(r->host, "*.example.org");
	cr_expect_str_eq(r->path_exact, "/health");
	cr_expect_null(r->upstream);
	cr_assert_not_null(r->respond);
	cr_expect_eq(r->respond->status, 204);
	cr_expect_str_eq(r->respond->body, "");
	cr_expect_str_eq(r->respond->content_type, "text/plain");

	r = &cfg->routes[2];
	cr_expect_str_eq(r->name, "route-3");
	cr_expect_null(r->host);
	cr_assert_not_null(r->respond);
	cr_expect_eq(r->respond->status, 503);
	cr_expect_str_eq(r->respond->body, "down");
	cr_expect_str_eq(r->respond->content_type, "application/json");

	r = &cfg->routes[3];
	cr_expect_str_eq(r->name, "route-4");
	cr_expect_eq(r->line, 60);
	cr_expect_eq(r->upstream_index, 0);
	cr_expect_eq(r->num_methods, 0);
	config_free(cfg);
}

/* ---- defaults ---- */

Test(config, defaults)
{
	struct proxy_config *cfg = load_ok("listeners:\n  - name: web\n    address: 127.0.0.1:8080\n");
	const struct http_limits d = HTTP_LIMITS_DEFAULT;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	cr_expect_eq(cfg->workers, (unsigned)(cpus < 1 ? 1 : cpus));
	cr_expect_null(cfg->user);
	cr_expect_null(cfg->pid_file);
	cr_expect_eq(cfg->limits.max_connections, 100000);
	cr_expect_eq(cfg->limits.header_timeout_ms, 10000);
	cr_expect_eq(cfg->limits.idle_timeout_ms, 60000);
	cr_expect_eq(cfg->limits.body_timeout_ms, 60000);
	cr_expect_eq(cfg->limits.max_header_size, 16384);
	cr_expect_eq(cfg->limits.max_headers, 100);
	cr_expect_eq(cfg->limits.max_body_size, 10u << 20);
	cr_expect_eq(cfg->limits.drain_timeout_ms, 30000);
	cr_expect_eq(memcmp(&cfg->listeners[0].limits, &d, sizeof(d)), 0);
	cr_expect_eq(cfg->num_trusted_proxies, 0);
	cr_expect_eq(cfg->num_upstreams, 0);
	cr_expect_eq(cfg->num_routes, 0);
	cr_assert_eq(cfg->security.num_hide_backend_headers, 3);
	cr_expect_str_eq(cfg->security.hide_backend_headers[0], "Server");
	cr_expect_str_eq(cfg->security.hide_backend_headers[1], "X-Powered-By");
	cr_expect_str_eq(cfg->security.hide_backend_headers[2], "X-AspNet-Version");
	cr_expect_str_eq(cfg->security.server_header, "portico");
	cr_expect_eq(cfg->security.underscores_in_headers, UNDERSCORES_DROP);
	cr_expect_str_eq(cfg->access_log.path, "-");
	cr_expect_eq(cfg->access_log.format, ACCESS_LOG_JSON);
	config_free(cfg);
}

Test(config, workers_auto_and_access_log_off)
{
	struct proxy_config *cfg = load_ok(LISTENER "workers: auto\naccess_log: null\n");
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	cr_expect_eq(cfg->workers, (unsigned)(cpus < 1 ? 1 : cpus));
	cr_expect_null(cfg->access_log.path);
	config_free(cfg);
	cfg = load_ok(LISTENER "access_log: { path: null, format: json }\n");
	cr_expect_null(cfg->access_log.path);
	config_free(cfg);
	cfg = load_ok(LISTENER "access_log: { path: \"-\" }\npid_file: /run/p.pid\n");
	cr_expect_str_eq(cfg->access_log.path, "-");
	cr_expect_str_eq(cfg->pid_file, "/run/p.pid");
	config_free(cfg);
}

Test(config, listener_limits_merge_whatever_the_file_order)
{
	struct proxy_config *cfg = load_ok("listeners:\n"
					   "  - { name: a, address: \":8080\", limits: { max_headers: 7 } }\n"
					   "  - { name: b, address: \":8081\" }\n"
					   "limits: { max_headers: 9, idle_timeout: 2s }\n");

	cr_expect_eq(cfg->limits.max_headers, 9);
	cr_expect_eq(cfg->listeners[0].limits.max_headers, 7);
	cr_expect_eq(cfg->listeners[0].limits.idle_timeout_ms, 2000);
	cr_expect_eq(cfg->listeners[1].limits.max_headers, 9);
	cr_expect_eq(cfg->listeners[1].limits.header_timeout_ms, 10000);
	config_free(cfg);
}

Test(config, null_sections_are_empty)
{
	struct proxy_config *cfg = load_ok(LISTENER "limits:\nupstreams:\nroutes:\ntrusted_proxies:\nsecurity:\n");

	cr_expect_eq(cfg->limits.max_headers, 100);
	cr_expect_eq(cfg->num_routes, 0);
	cr_expect_eq(cfg->security.num_hide_backend_headers, 3);
	config_free(cfg);
}

Test(config, unsupported_keys_at_their_default_load)
{
	struct proxy_config *cfg = load_ok(
		"listeners:\n"
		"  - { name: web, address: \":8080\", http2: false, proxy_protocol: false, tls: ~ }\n"
		"upstreams:\n"
		"  app:\n"
		"    balance: round_robin\n"
		"    hash_key: null\n"
		"    servers: [{ address: \"127.0.0.1:9001\", backup: false, max_connections: 0 }]\n"
		"    dns: null\n"
		"    dns_ttl: 30000ms\n"
		"    tls: null\n"
		"    health_check: null\n"
		"    passive: { max_fails: 3 }\n"
		"    slow_start: 0ms\n"
		"    sticky: null\n"
		"    geo_pools: []\n"
		"    retry_budget: { ratio: 0.20, min_per_second: 10 }\n"
		"routes:\n"
		"  - upstream: app\n"
		"    match: { path_regex: null }\n"
		"    split: null\n"
		"    mirror: null\n"
		"    redirect: null\n"
		"    rewrite: null\n"
		"    cache: null\n"
		"    compress: false\n"
		"    rate_limit: null\n"
		"    access: null\n"
		"    waf: false\n"
		"    websocket: true\n"
		"caches: {}\n"
		"compression: { min_length: 256, level: { gzip: 5 } }\n"
		"rate_limits: {}\n"
		"access_lists:\n"
		"geo: { database: null, format: mmdb }\n"
		"redis: { address: \"127.0.0.1:6379\", timeout: 50ms }\n"
		"admin: { address: null, token: null }\n"
		"security: { waf: { rules: [], mode: block } }\n");

	config_free(cfg);
}

/* ---- errors ---- */

Test(config, unknown_key_with_hint)
{
	EXPECT_ERRORS(LISTENER "listner: []\n",
		      NAME ":2:1: unknown key \"listner\" (did you mean \"listeners\"?)");
	EXPECT_ERRORS(LISTENER "limits:\n  idle_timout: 5s\n  zzz: 1\n",
		      NAME ":3:3: unknown key \"idle_timout\" (did you mean \"idle_timeout\"?)",
		      NAME ":4:3: unknown key \"zzz\"");
	EXPECT_ERRORS(LISTENER "routes:\n  - respond: {}\n    mach: { host: a }\n",
		      NAME ":4:5: unknown key \"mach\" (did you mean \"match\"?)");
}

Test(config, wrong_types)
{
	EXPECT_ERRORS(LISTENER "limits:\n  header_timeout: ten\n",
		      NAME ":3:19: expected a duration like 10s, got \"ten\"");
	EXPECT_ERRORS(LISTENER "limits:\n  header_timeout: [1s]\n",
		      NAME ":3:19: expected a duration like 10s, got a list");
	EXPECT_ERRORS(LISTENER "limits:\n  max_body_size: 10mb\n",
		      NAME ":3:18: expected a size like 512k or 10m, got \"10mb\" (units are k, m and g, powers of 1024)");
	EXPECT_ERRORS(LISTENER "limits: 5\n",
		      NAME ":2:9: limits: expected a mapping (key: value lines), got a value");
	EXPECT_ERRORS(LISTENER "routes: { a: 1 }\n", NAME ":2:9: expected a list of routes, got a mapping");
	EXPECT_ERRORS(LISTENER "upstreams:\n  app:\n    servers: [127.0.0.1:9001]\n    retries: \"no\"\n",
		      NAME ":5:14: expected an integer, got \"no\"");
	EXPECT_ERRORS(LISTENER "workers: many\n",
		      NAME ":2:10: expected auto or an integer between 1 and 1024, got \"many\"");
	EXPECT_ERRORS(LISTENER "access_log: { format: jsn }\n",
		      NAME ":2:23: expected json or combined, got \"jsn\" (did you mean \"json\"?)");
	EXPECT_ERRORS(LISTENER "trusted_proxies: [10.0.0.0/33]\n",
		      NAME ":2:19: invalid CIDR \"10.0.0.0/33\": expected an address or prefix like 10.0.0.0/8 or ::1/128");
}

Test(config, out_of_range)
{
	EXPECT_ERRORS(LISTENER "limits:\n  max_headers: 0\n  max_header_size: 100\n  idle_timeout: 0s\n",
		      NAME ":3:16: expected an integer between 1 and 10000, got 0",
		      NAME ":4:20: expected a size between 1024 bytes and 67108864 bytes, got \"100\"",
		      NAME ":5:17: expected a duration of at least 1ms, got \"0s\"");
	EXPECT_ERRORS(LISTENER "workers: 0\n",
		      NAME ":2:10: expected auto or an integer between 1 and 1024, got \"0\"");
	EXPECT_ERRORS(LISTENER "routes:\n  - respond: { status: 99 }\n",
		      NAME ":3:24: expected an integer between 200 and 599, got 99");
}

Test(config, listener_errors)
{
	EXPECT_ERRORS("listeners:\n"
		      "  - name: web\n"
		      "    address: \":0\"\n"
		      "  - name: web\n"
		      "    address: \"127.0.0.1\"\n"
		      "  - address: \"[::1]:80\"\n"
		      "  - name: other\n"
		      "    address: \"[::1]:80\"\n",
		      NAME ":3:14: invalid address \":0\": port must be a number between 1 and 65535",
		      NAME ":4:11: duplicate listener name \"web\" (listener 1 has it)",
		      NAME ":5:14: invalid address \"127.0.0.1\": missing port: expected HOST:PORT, [IPv6]:PORT, :PORT or unix:/path",
		      NAME ":6:5: listener 3: missing required key \"name\"",
		      NAME ":8:14: address \"[::1]:80\" is already used by listener 3");
	EXPECT_ERRORS("listeners: []\n",
		      NAME ":1:12: at least one listener is required, like listeners: [{name: web, address: \":8080\"}]");
	EXPECT_ERRORS("workers: 2\n",
		      NAME ":1:1: at least one listener is required, like listeners: [{name: web, address: \":8080\"}]");
	EXPECT_ERRORS("",
		      NAME ":1:1: at least one listener is required, like listeners: [{name: web, address: \":8080\"}]");
}

Test(config, route_upstream_not_defined_with_hint)
{
	EXPECT_ERRORS(LISTENER
		      "upstreams:\n"
		      "  app: { servers: [\"127.0.0.1:9001\"] }\n"
		      "routes:\n"
		      "  - upstream: app\n"
		      "  - upstream: ap\n"
		      "  - upstream: zzzzzz\n",
		      NAME ":6:15: route 2: upstream \"ap\" is not defined (did you mean \"app\"?)",
		      NAME ":7:15: route 3: upstream \"zzzzzz\" is not defined under upstreams:");
}

Test(config, route_needs_exactly_one_action)
{
	EXPECT_ERRORS(LISTENER
		      "upstreams: { app: { servers: [\"127.0.0.1:9001\"] } }\n"
		      "routes:\n"
		      "  - match: { path_prefix: / }\n"
		      "  - upstream: app\n"
		      "    respond: { body: hi }\n"
		      "  - name: x\n"
		      "    upstream: null\n",
		      NAME ":4:5: route 1: needs one of upstream, respond, split or redirect",
		      NAME ":5:5: route 2: only one of upstream, respond, split or redirect may be set (found upstream and respond)",
		      NAME ":7:5: route 3: needs one of upstream, respond, split or redirect");
}

Test(config, route_value_errors)
{
	EXPECT_ERRORS(LISTENER
		      "routes:\n"
		      "  - name: a\n"
		      "    respond: {}\n"
		      "    match: { host: \"Example.COM:80\", path_prefix: api, methods: [\"G T\"] }\n"
		      "    set_request_headers: { \"Bad Name\": x }\n"
		      "  - name: a\n"
		      "    respond: {}\n"
		      "    match: { host: \"a*b.com\", path_prefix: /a, path_exact: /b }\n",
		      NAME ":5:20: invalid host \"Example.COM:80\": leave out the port (hosts match on any port)",
		      NAME ":5:51: expected a path starting with \"/\" like /api/, got \"api\"",
		      NAME ":5:66: invalid method \"G T\"",
		      NAME ":6:28: invalid header name \"Bad Name\"",
		      NAME ":7:11: route 2: name \"a\" is already used by route 1",
		      NAME ":9:12: match: use only one of path_prefix, path_exact or path_regex",
		      NAME ":9:20: invalid host \"a*b.com\": expected a name like example.com or *.example.com");
}

Test(config, route_websocket)
{
	struct proxy_config *cfg = load_ok(LISTENER
					   "upstreams: { app: { servers: [\"127.0.0.1:9001\"] } }\n"
					   "routes:\n"
					   "  - upstream: app\n"
					   "  - { upstream: app, websocket: true }\n"
					   "  - { upstream: app, websocket: false }\n"
					   "  - { respond: {}, websocket: false }\n");

	cr_assert_eq(cfg->num_routes, 4);
	cr_expect(cfg->routes[0].websocket, "tunnelling is on by default");
	cr_expect(cfg->routes[1].websocket);
	cr_expect(!cfg->routes[2].websocket);
	cr_expect(!cfg->routes[3].websocket);
	config_free(cfg);
	EXPECT_ERRORS(LISTENER "routes:\n  - { respond: {}, websocket: sometimes }\n",
		      NAME ":3:31: expected true or false, got \"sometimes\"");
}

Test(config, upstream_errors)
{
	EXPECT_ERRORS(LISTENER
		      "upstreams:\n"
		      "  a:\n"
		      "    keepalive: 4\n"
		      "  b:\n"
		      "    servers: []\n"
		      "  c:\n"
		      "    balance: round_robn\n"
		      "    servers: [{ weight: 2 }, \"10.0.0.1:99999\"]\n"
		      "  \"bad name\": { servers: [\"127.0.0.1:1\"] }\n",
		      NAME ":4:5: upstream \"a\": missing required key \"servers\"",
		      NAME ":6:14: upstream \"b\": servers must list at least one server",
		      NAME ":8:14: unknown balance \"round_robn\" (did you mean \"round_robin\"?)",
		      NAME ":9:15: upstream \"c\" server 1: missing required key \"address\"",
		      NAME ":9:30: invalid address \"10.0.0.1:99999\": port must be a number between 1 and 65535",
		      NAME ":10:3: invalid upstream name \"bad name\": use letters, digits, '-', '_' and '.'");
}

Test(config, duplicate_keys)
{
	EXPECT_ERRORS(LISTENER
		      "workers: 1\n"
		      "workers: 2\n"
		      "upstreams:\n"
		      "  app: { servers: [\"127.0.0.1:1\"] }\n"
		      "  app: { servers: [\"127.0.0.1:2\"] }\n",
		      NAME ":3:1: duplicate key \"workers\" (first set at line 2)",
		      NAME ":6:3: duplicate key \"app\" (first set at line 5)");
}

Test(config, unsupported_keys_are_refused)
{
	EXPECT_ERRORS("listeners:\n"
		      "  - name: web\n"
		      "    address: \":8080\"\n"
		      "upstreams:\n"
		      "  app:\n"
		      "    balance: geo\n"
		      "    health_check: { path: /healthz }\n"
		      "    passive: { max_fails: 5 }\n"
		      "    servers: [{ address: \"127.0.0.1:9001\", backup: true, max_connections: 10 }]\n"
		      "routes:\n"
		      "  - upstream: app\n"
		      "    cache: default\n"
		      "admin: { address: \"127.0.0.1:9901\" }\n"
		      "caches: { default: { memory: 256m } }\n",
		      NAME ":6:14: balance \"geo\" is not supported yet by this version of portico",
		      NAME ":12:5: \"cache\" is not supported yet by this version of portico",
		      NAME ":13:1: \"admin\" is not supported yet by this version of portico",
		      NAME ":14:1: \"caches\" is not supported yet by this version of portico");
}

Test(config, several_errors_in_file_order)
{
	/* routes come before upstreams in the file: errors still come out by line */
	EXPECT_ERRORS("routes:\n"
		      "  - upstream: ap\n"
		      "listeners:\n"
		      "  - name: web\n"
		      "    address: \"nope\"\n"
		      "limits: { header_timeout: 10 }\n"
		      "upstreams:\n"
		      "  app: { servers: [\"127.0.0.1:1\"], retries: 1000 }\n",
		      NAME ":2:15: route 1: upstream \"ap\" is not defined (did you mean \"app\"?)",
		      NAME ":5:14: invalid address \"nope\": missing port: expected HOST:PORT, [IPv6]:PORT, :PORT or unix:/path",
		      NAME ":6:27: expected a duration like 10s, got \"10\" (add a unit: ms, s, m, h or d)",
		      NAME ":8:45: expected an integer between 0 and 100, got 1000");
}

Test(config, yaml_syntax_errors)
{
	EXPECT_ERRORS("listeners:\n  - name: web\n    address: \":8080\n",
		      NAME ":4:1: found unexpected end of stream (while scanning a quoted scalar that starts at line 3)");
	EXPECT_ERRORS("listeners:\n  - name: web\n\taddress: x\n",
		      NAME ":3:1: tab character where YAML expects spaces (indent with spaces only)");
	EXPECT_ERRORS("a: 1\nb: [1, 2\nc: 3\n",  NAME ":3:2: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2)");
	EXPECT_ERRORS("- a\n- b\n", NAME ":1:1: the configuration: expected a mapping (key: value lines), got a list");
	EXPECT_ERRORS("x: 1\n---\ny: 2\n", NAME ":2:1: only one YAML document is allowed (found a second \"---\")");
}

Test(config, anchors_aliases_and_merge_keys_refused)
{
	EXPECT_ERRORS("limits: &l { max_headers: 5 }\n", NAME ":1:9: anchors (&l) are not supported; repeat the value instead");
	EXPECT_ERRORS(LISTENER "x: *y\n", NAME ":2:4: aliases (*y) are not supported; repeat the value instead");
	EXPECT_ERRORS(LISTENER "limits:\n  <<: { max_headers: 5 }\n",
		      NAME ":3:3: merge keys (<<) are not supported; write the keys out");
}

Test(config, quoted_null_is_a_string)
{
	struct proxy_config *cfg = load_ok(LISTENER "user: \"null\"\n");

	cr_expect_str_eq(cfg->user, "null");
	config_free(cfg);
	cfg = load_ok(LISTENER "user: null\n");
	cr_expect_null(cfg->user);
	config_free(cfg);
	cfg = load_ok(LISTENER "user: ~\n");
	cr_expect_null(cfg->user);
	config_free(cfg);
}

Test(config, errors_are_appended)
{
	struct config_errors errs = { 0 };

	cr_assert_null(load("workers: 0\n", &errs));
	cr_assert_eq(errs.count, 2);
	cr_assert_null(load(LISTENER "workers: x\n", &errs));
	cr_assert_eq(errs.count, 3);
	cr_expect_str_eq(errs.messages[2], NAME ":2:10: expected auto or an integer between 1 and 1024, got \"x\"");
	config_errors_deinit(&errs);
	cr_expect_eq(errs.count, 0);
	cr_expect_null(errs.messages);
	config_free(NULL);
}

/* ---- files ---- */

Test(config, load_file_resolves_relative_paths)
{
	char dir[] = "/tmp/portico-config-XXXXXX";
	char path[128], want[512];
	struct config_errors errs = { 0 };
	struct proxy_config *cfg;
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(LISTENER "pid_file: p.pid\naccess_log: { path: logs/a.log }\n", f);
	fclose(f);
	cfg = config_load_file(path, &errs);
	cr_assert_not_null(cfg, "%s", errs.count ? errs.messages[0] : "");
	cr_expect_str_eq(cfg->path, path);
	snprintf(want, sizeof(want), "%s/p.pid", dir);
	cr_expect_str_eq(cfg->pid_file, want);
	snprintf(want, sizeof(want), "%s/logs/a.log", dir);
	cr_expect_str_eq(cfg->access_log.path, want);
	config_free(cfg);

	f = fopen(path, "w");
	fputs("listeners: 5\n", f);
	fclose(f);
	cr_expect_null(config_load_file(path, &errs));
	cr_assert_eq(errs.count, 1);
	snprintf(want, sizeof(want), "%s:1:12: expected a list of listeners, got a value", path);
	cr_expect_str_eq(errs.messages[0], want);
	config_errors_deinit(&errs);
	unlink(path);
	rmdir(dir);

	cr_expect_null(config_load_file("/nonexistent/portico.yaml", &errs));
	cr_assert_eq(errs.count, 1);
	cr_expect_str_eq(errs.messages[0],
			 "/nonexistent/portico.yaml:1:1: cannot read the configuration: No such file or directory");
	config_errors_deinit(&errs);
}

/* ---- quick mode ---- */

static struct proxy_config *load_quick(const struct quick_options *q, struct config_errors *errs)
{
	char *yaml = config_quick_yaml(q);
	struct proxy_config *cfg;

	cr_assert_not_null(yaml);
	cfg = config_load_buffer("(command line)", yaml, strlen(yaml), NULL, errs);
	if (!cfg)
		cr_log_info("%s", yaml);
	free(yaml);
	return cfg;
}

Test(config, quick_mode_loads)
{
	struct quick_options q = {
		.listen = ":9090",
		.upstreams = "127.0.0.1:9001, 127.0.0.1:9002,,[::1]:9003",
		.balance = "round_robin",
		.workers = "2",
		.access_log = "-",
	};
	struct config_errors errs = { 0 };
	struct proxy_config *cfg = load_quick(&q, &errs);

	cr_assert_not_null(cfg, "%s", errs.count ? errs.messages[0] : "");
	cr_expect_eq(cfg->workers, 2);
	cr_assert_eq(cfg->num_listeners, 1);
	expect_addr(&cfg->listeners[0].addr, "0.0.0.0:9090");
	cr_assert_eq(cfg->num_upstreams, 1);
	cr_assert_eq(cfg->upstreams[0].num_servers, 3);
	cr_expect_str_eq(cfg->upstreams[0].servers[1].address, "127.0.0.1:9002");
	expect_addr(&cfg->upstreams[0].servers[2].addr, "[::1]:9003");
	cr_assert_eq(cfg->num_routes, 1);
	cr_expect_eq(cfg->routes[0].upstream_index, 0);
	cr_expect(cfg->routes[0].websocket);
	cr_expect_str_eq(cfg->access_log.path, "-");
	config_free(cfg);

	q = (struct quick_options){ .listen = "127.0.0.1:9090", .upstreams = "127.0.0.1:9001" };
	cfg = load_quick(&q, &errs);
	cr_assert_not_null(cfg);
	cr_expect_null(cfg->access_log.path);
	config_free(cfg);
}

Test(config, quick_mode_unsupported_flags_report_their_keys)
{
	struct quick_options q = {
		.listen = ":9090",
		.upstreams = "127.0.0.1:9001",
		.cache = "64m",
		.http2 = true, /* supported: no error of its own */
		.admin = "127.0.0.1:9901",
		.compress = true,
	};
	struct config_errors errs = { 0 };
	bool seen[3] = { false };

	cr_assert_null(load_quick(&q, &errs));
	cr_expect_eq(errs.count, 4); /* --cache: the route's cache and caches: */
	for (size_t i = 0; i < errs.count; i++) {
		seen[0] |= strstr(errs.messages[i], "\"cache") != NULL;
		seen[1] |= strstr(errs.messages[i], "\"admin\" is not supported yet") != NULL;
		seen[2] |= strstr(errs.messages[i], "\"compress\" is not supported yet") != NULL;
		cr_expect(strncmp(errs.messages[i], "(command line):", 15) == 0);
	}
	cr_expect(seen[0] && seen[1] && seen[2]);
	config_errors_deinit(&errs);
}

Test(config, quick_mode_values_cannot_inject_yaml)
{
	struct quick_options q = {
		.listen = ":9090\"\nworkers: 7\nx: \"",
		.upstreams = "127.0.0.1:9001",
	};
	struct config_errors errs = { 0 };

	cr_assert_null(load_quick(&q, &errs));
	cr_assert_eq(errs.count, 1);
	cr_expect(strstr(errs.messages[0], "invalid address") != NULL, "%s", errs.messages[0]);
	config_errors_deinit(&errs);
}
