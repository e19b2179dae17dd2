/*
 * config_upstreams: the `upstreams:` section — a mapping of names to pools of
 * servers. Server addresses are resolved here, once, at load time; a name that
 * does not resolve is a configuration error, not a runtime surprise.
 *
 * Every `balance` of PRODUCT.md §2 but geo is accepted (upstream/lb_*.c);
 * hash_key is parsed here once so the request path only compares an enum.
 * Keys not implemented yet are known and accepted at their default value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "config/values.h"
#include "core/bug.h"
#include "net/resolver.h"

static const char *const balance_names[] = {
	[LB_ROUND_ROBIN] = "round_robin", [LB_LEAST_CONN] = "least_conn", [LB_P2C] = "p2c",
	[LB_RANDOM] = "random",           [LB_IP_HASH] = "ip_hash",       [LB_HASH] = "hash",
	[LB_EWMA] = "ewma",               [LB_GEO] = "geo",
};

static void cfg_h_balance(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	const char *s = cfg_scalar(c, value, "a balance algorithm like round_robin");
	const char *hint;
	char q[128];

	if (!s)
		return;
	value_quote(s, q, sizeof(q));
	for (size_t i = 0; i < ARRAY_SIZE(balance_names); i++) {
		if (strcmp(s, balance_names[i]) != 0)
			continue;
		if (i == LB_GEO)
			cfg_error(c, value, "balance %s is not supported yet by this version of portico", q);
		else
			up->balance = (enum lb_algorithm)i;
		return;
	}
	hint = value_closest(s, balance_names, ARRAY_SIZE(balance_names));
	if (hint)
		cfg_error(c, value, "unknown balance %s (did you mean \"%s\"?)", q, hint);
	else
		cfg_error(c, value,
			  "unknown balance %s (expected round_robin, least_conn, p2c, random, ip_hash, hash, ewma or geo)",
			  q);
}

/* hash_key: "header:NAME" (a token), "cookie:NAME" (a token, RFC 6265
 * cookie-name), "path" or "client_ip". Checked against balance after the
 * walk (cfg_check_hash_key). */
static void cfg_h_hash_key(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			   const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	const char *s;

	if (ynode_is_null(value))
		return;
	if (!(s = cfg_scalar(c, value, "a hash key like \"header:X-User\"")))
		return;
	up->hash_key = cfg_strdup(s);
	if (strcmp(s, "path") == 0) {
		up->hash_key_source = LB_KEY_PATH;
	} else if (strcmp(s, "client_ip") == 0) {
		up->hash_key_source = LB_KEY_CLIENT_IP;
	} else if (strncmp(s, "header:", 7) == 0 && cfg_is_token(s + 7)) {
		up->hash_key_source = LB_KEY_HEADER;
		up->hash_key_name = up->hash_key + 7;
	} else if (strncmp(s, "cookie:", 7) == 0 && cfg_is_token(s + 7)) {
		up->hash_key_source = LB_KEY_COOKIE;
		up->hash_key_name = up->hash_key + 7;
	} else {
		cfg_error(c, value,
			  "invalid hash_key \"%s\" (expected \"header:NAME\", \"cookie:NAME\", \"path\" or \"client_ip\")",
			  s);
	}
}

/* hash_key belongs to balance: hash, which needs one. */
static void cfg_check_hash_key(struct cfg_ctx *c, const struct ynode *body,
			       const struct upstream_config *up)
{
	const struct ynode *hk = body->kind == YNODE_MAPPING ? ynode_get(body, "hash_key") : NULL;

	if (hk && ynode_is_null(hk))
		hk = NULL;
	if (up->balance == LB_HASH && !hk)
		cfg_error(c, ynode_get(body, "balance"),
			  "upstream \"%s\": balance hash needs a hash_key (e.g. \"header:X-User\", \"cookie:sid\", \"path\", \"client_ip\")",
			  up->name);
	else if (up->balance != LB_HASH && hk)
		cfg_error(c, hk, "upstream \"%s\": hash_key is used only with balance: hash", up->name);
}

static const struct cfg_key server_keys[] = {
	{ .name = "address", .handler = cfg_h_address, .offset = offsetof(struct server_config, address),
	  .offset2 = offsetof(struct server_config, addr), .required = true },
	CFG_RANGE("weight", cfg_h_u32, struct server_config, weight, 1, 10000),
	CFG_FIELD("backup", cfg_h_bool, struct server_config, backup),
	CFG_RANGE("max_connections", cfg_h_u32, struct server_config, max_connections, 0, 1000000),
};

/* expect_status: "200-399", or one status "200". */
static void cfg_h_expect_status(struct cfg_ctx *c, const struct cfg_key *k,
				const struct ynode *key, const struct ynode *value, void *obj)
{
	struct health_check_config *hc = obj;
	const char *s = cfg_scalar(c, value, "a status range like \"200-399\"");
	int lo, hi, n = 0;

	if (!s)
		return;
	/* %3d cannot overflow, and the whole string must match. */
	if (sscanf(s, "%3d-%3d%n", &lo, &hi, &n) == 2 && s[n] == '\0') { /* NOLINT(cert-err34-c) */
		/* a range */
	} else if (sscanf(s, "%3d%n", &lo, &n) == 1 && s[n] == '\0') { /* NOLINT(cert-err34-c) */
		hi = lo;
	} else {
		cfg_error(c, value, "expected a status range like \"200-399\", got \"%s\"", s);
		return;
	}
	if (lo < 100 || hi > 599 || lo > hi) {
		cfg_error(c, value, "status range \"%s\" must be within 100-599, low to high", s);
		return;
	}
	hc->expect_min = lo;
	hc->expect_max = hi;
}

static const struct cfg_key health_check_keys[] = {
	CFG_FIELD("path", cfg_h_string, struct health_check_config, path),
	CFG_RANGE("interval", cfg_h_duration, struct health_check_config, interval_ms, 10, 0),
	CFG_RANGE("timeout", cfg_h_duration, struct health_check_config, timeout_ms, 1, 0),
	CFG_KEY("expect_status", cfg_h_expect_status),
	CFG_RANGE("healthy_threshold", cfg_h_u32, struct health_check_config, healthy_threshold, 1, 100),
	CFG_RANGE("unhealthy_threshold", cfg_h_u32, struct health_check_config, unhealthy_threshold,
		  1, 100),
};

static void cfg_h_health_check(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			       const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	struct health_check_config *hc;

	if (ynode_is_null(value))
		return; /* absent = no active checks */
	hc = cfg_calloc(1, sizeof(*hc));
	*hc = (struct health_check_config){ .interval_ms = 5000, .timeout_ms = 2000,
					    .expect_min = 200, .expect_max = 399,
					    .healthy_threshold = 2, .unhealthy_threshold = 3 };
	up->health_check = hc;
	cfg_walk(c, value, health_check_keys, ARRAY_SIZE(health_check_keys), hc, "health_check");
	if (!hc->path)
		hc->path = cfg_strdup("/healthz");
	else if (hc->path[0] != '/' || cfg_has_ctl(hc->path) || strchr(hc->path, ' '))
		cfg_error(c, value, "health_check path must start with '/' and hold no spaces");
}

/* ratio: a decimal number from 0 to 1. */
static void cfg_h_ratio(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "a ratio like 0.2");
	char *end;

	if (!s)
		return;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= 0.0 && v <= 1.0)) {
		cfg_error(c, value, "expected a ratio from 0 to 1 like 0.2, got \"%s\"", s);
		return;
	}
	*(double *)(void *)((char *)obj + k->offset) = v;
}

static const struct cfg_key retry_budget_keys[] = {
	CFG_FIELD("ratio", cfg_h_ratio, struct retry_budget_config, ratio),
	CFG_RANGE("min_per_second", cfg_h_u32, struct retry_budget_config, min_per_second, 0,
		  1000000),
};

static void cfg_h_retry_budget(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			       const struct ynode *value, void *obj)
{
	cfg_walk(c, value, retry_budget_keys, ARRAY_SIZE(retry_budget_keys),
		 (char *)obj + k->offset, "retry_budget");
}

/* dns: "name:port" (the name is looked up at load time and every dns_ttl). */
static void cfg_h_dns(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		      const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	const char *s;

	if (ynode_is_null(value))
		return;
	s = cfg_scalar(c, value, "a name and port like \"app.internal:9000\"");
	if (!s)
		return;
	const char *colon = strrchr(s, ':');
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : 0;
	if (!colon || colon == s || *end || port < 1 || port > 65535) {
		cfg_error(c, value, "expected a name and port like \"app.internal:9000\", got \"%s\"", s);
		return;
	}
	free(up->dns);
	up->dns = cfg_strdup(s);
}

#define DNS_MAX_ADDRESSES 64
#define DNS_TIMEOUT_MS 2000

static void resolve_upstream(struct cfg_ctx *c, struct upstream_config *up, const struct ynode *at)
{
	struct addr addrs[DNS_MAX_ADDRESSES];
	const char *why = NULL;
	char *host = cfg_strdup(up->dns);
	char *colon = strrchr(host, ':');
	uint16_t port = (uint16_t)strtol(colon + 1, NULL, 10); /* checked when parsed */

	*colon = '\0';
	int n = resolver_lookup(host, port, c->cfg->resolver, DNS_TIMEOUT_MS, addrs,
				DNS_MAX_ADDRESSES, &why);
	if (n <= 0) {
		cfg_error(c, at, "upstream \"%s\": cannot resolve \"%s\": %s", up->name, host, why);
		free(host);
		return;
	}
	free(host);
	up->servers = cfg_calloc((size_t)n, sizeof(*up->servers));
	up->num_servers = (size_t)n;
	for (int i = 0; i < n; i++) {
		char text[64];
		addr_format(&addrs[i], text, sizeof(text));
		up->servers[i] = (struct server_config){ .address = cfg_strdup(text),
							 .addr = addrs[i], .weight = 1 };
	}
}

void cfg_resolve_dns(struct cfg_ctx *c, const struct ynode *root)
{
	const struct ynode *ups = ynode_get(root, "upstreams");

	for (size_t i = 0; i < c->cfg->num_upstreams; i++) {
		struct upstream_config *up = &c->cfg->upstreams[i];
		if (!up->dns)
			continue;
		const struct ynode *body = ynode_get(ups, up->name);
		const struct ynode *at = ynode_get(body, "dns");
		if (up->num_servers) {
			cfg_error(c, at, "upstream \"%s\": use servers or dns, not both", up->name);
			continue;
		}
		resolve_upstream(c, up, at);
	}
}

static const struct cfg_key sticky_keys[] = {
	CFG_FIELD("cookie", cfg_h_string, struct sticky_config, cookie),
	CFG_RANGE("ttl", cfg_h_duration, struct sticky_config, ttl_ms, 1000, 0),
};

static void cfg_h_sticky(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			 const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;

	if (ynode_is_null(value))
		return;
	up->sticky = cfg_calloc(1, sizeof(*up->sticky));
	up->sticky->ttl_ms = (uint64_t)3600 * 1000;
	cfg_walk(c, value, sticky_keys, ARRAY_SIZE(sticky_keys), up->sticky, "sticky");
	if (!up->sticky->cookie)
		cfg_error(c, value, "sticky needs a cookie name, e.g. { cookie: srv, ttl: 1h }");
	else if (!cfg_is_token(up->sticky->cookie))
		cfg_error(c, value, "sticky cookie name \"%s\" is not a valid cookie name",
			  up->sticky->cookie);
}

static const struct cfg_key passive_keys[] = {
	CFG_RANGE("max_fails", cfg_h_u32, struct passive_config, max_fails, 0, 1000),
	CFG_RANGE("fail_timeout", cfg_h_duration, struct passive_config, fail_timeout_ms, 1, 0),
};

static void cfg_h_passive(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	cfg_walk(c, value, passive_keys, ARRAY_SIZE(passive_keys), (char *)obj + k->offset,
		 "passive");
}

static void cfg_h_servers(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	struct upstream_config *up = obj;
	char what[160];

	if (!cfg_is_list(c, value, "a list of servers"))
		return;
	if (value->num_items == 0) {
		cfg_error(c, value, "upstream \"%s\": servers must list at least one server", up->name);
		return;
	}
	up->servers = cfg_calloc(value->num_items, sizeof(*up->servers));
	up->num_servers = value->num_items;
	for (size_t i = 0; i < value->num_items; i++) {
		const struct ynode *item = value->items[i];
		struct server_config *srv = &up->servers[i];

		srv->weight = 1;
		if (item->kind == YNODE_SCALAR && !ynode_is_null(item)) {
			/* shorthand: "- 127.0.0.1:9001" */
			cfg_h_address(c, &server_keys[0], item, item, srv);
			continue;
		}
		snprintf(what, sizeof(what), "upstream \"%s\" server %zu", up->name, i + 1);
		cfg_walk(c, item, server_keys, ARRAY_SIZE(server_keys), srv, what);
	}
}

static const struct cfg_key upstream_keys[] = {
	CFG_KEY("balance", cfg_h_balance),
	CFG_KEY("hash_key", cfg_h_hash_key),
	CFG_KEY("servers", cfg_h_servers),
	CFG_KEY("dns", cfg_h_dns),
	CFG_RANGE("dns_ttl", cfg_h_duration, struct upstream_config, dns_ttl_ms, 100, 0),
	CFG_RANGE("keepalive", cfg_h_u32, struct upstream_config, keepalive, 0, 10000),
	CFG_RANGE("connect_timeout", cfg_h_duration, struct upstream_config, connect_timeout_ms, 1, 0),
	CFG_RANGE("response_timeout", cfg_h_duration, struct upstream_config, response_timeout_ms, 1, 0),
	CFG_RANGE("retries", cfg_h_u32, struct upstream_config, retries, 0, 100),
	CFG_KEY("tls", cfg_h_upstream_tls), /* after dns: its host is the default sni */
	CFG_KEY("health_check", cfg_h_health_check),
	CFG_FIELD("passive", cfg_h_passive, struct upstream_config, passive),
	CFG_FIELD("slow_start", cfg_h_duration, struct upstream_config, slow_start_ms),
	CFG_FIELD("retry_budget", cfg_h_retry_budget, struct upstream_config, retry_budget),
	CFG_KEY("sticky", cfg_h_sticky),
	CFG_UNSUPPORTED("geo_pools", "[]"),
};

static bool cfg_upstream_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		char ch = *s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

static void cfg_load_upstream(struct cfg_ctx *c, const struct ynode *name, const struct ynode *body)
{
	struct upstream_config *up = &c->cfg->upstreams[c->cfg->num_upstreams++];
	const struct ynode *dns;
	char what[160];

	*up = (struct upstream_config)UPSTREAM_CONFIG_DEFAULTS;
	up->name = cfg_strdup(name->text);
	if (!cfg_upstream_name_ok(up->name))
		cfg_error(c, name, "invalid upstream name \"%s\": use letters, digits, '-', '_' and '.'",
			  up->name);
	snprintf(what, sizeof(what), "upstream \"%s\"", up->name);
	cfg_walk(c, body, upstream_keys, ARRAY_SIZE(upstream_keys), up, what);
	cfg_check_hash_key(c, body, up);
	dns = ynode_get(body, "dns");
	if (!ynode_get(body, "servers") && (!dns || ynode_is_null(dns)) &&
	    (body->kind == YNODE_MAPPING || ynode_is_null(body)))
		cfg_error(c, body, "upstream \"%s\": missing required key \"servers\"", up->name);
}

void cfg_load_upstreams(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	struct proxy_config *cfg = c->cfg;

	if (!cfg_is_map(c, value, "a mapping of upstream names to upstreams"))
		return;
	cfg->upstreams = cfg_calloc(value->num_pairs, sizeof(*cfg->upstreams));
	for (size_t i = 0; i < value->num_pairs; i++) {
		const struct ynode *name = value->pairs[i].key;

		if (name->kind != YNODE_SCALAR || ynode_is_null(name)) {
			cfg_error(c, name, "upstream names must be plain names, got %s", ynode_describe(name));
			continue;
		}
		if (cfg_key_repeated(c, value, i, false))
			continue;
		cfg_load_upstream(c, name, value->pairs[i].value);
	}
}

void cfg_free_upstreams(struct upstream_config *ups, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(ups[i].name);
		free(ups[i].hash_key);
		for (size_t j = 0; j < ups[i].num_servers; j++)
			free(ups[i].servers[j].address);
		free(ups[i].servers);
		if (ups[i].health_check)
			free(ups[i].health_check->path);
		free(ups[i].health_check);
		free(ups[i].dns);
		if (ups[i].sticky)
			free(ups[i].sticky->cookie);
		free(ups[i].sticky);
		cfg_free_upstream_tls(&ups[i]);
	}
	free(ups);
}
