/*
 * config_upstreams: the `upstreams:` section — a mapping of names to pools of
 * servers. Server addresses are resolved here, once, at load time; a name that
 * does not resolve is a configuration error, not a runtime surprise.
 *
 * This version balances round robin only (weighted); the other keys of
 * PRODUCT.md §2 are known and accepted at their default value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_schema.h"
#include "config/values.h"
#include "core/bug.h"

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
		if (i != LB_ROUND_ROBIN)
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

static const struct cfg_key server_keys[] = {
	{ .name = "address", .handler = cfg_h_address, .offset = offsetof(struct server_config, address),
	  .offset2 = offsetof(struct server_config, addr), .required = true },
	CFG_RANGE("weight", cfg_h_u32, struct server_config, weight, 1, 10000),
	CFG_UNSUPPORTED("backup", "false"),
	CFG_UNSUPPORTED("max_connections", "0"),
};

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
	CFG_UNSUPPORTED("hash_key", "null"),
	CFG_KEY("servers", cfg_h_servers),
	CFG_UNSUPPORTED("dns", "null"),
	CFG_UNSUPPORTED("dns_ttl", "30s"),
	CFG_RANGE("keepalive", cfg_h_u32, struct upstream_config, keepalive, 0, 10000),
	CFG_RANGE("connect_timeout", cfg_h_duration, struct upstream_config, connect_timeout_ms, 1, 0),
	CFG_RANGE("response_timeout", cfg_h_duration, struct upstream_config, response_timeout_ms, 1, 0),
	CFG_RANGE("retries", cfg_h_u32, struct upstream_config, retries, 0, 100),
	CFG_UNSUPPORTED("tls", "null"),
	CFG_UNSUPPORTED("health_check", "null"),
	CFG_UNSUPPORTED("passive", "{ max_fails: 3, fail_timeout: 10s }"),
	CFG_UNSUPPORTED("slow_start", "0s"),
	CFG_UNSUPPORTED("retry_budget", "{ ratio: 0.2, min_per_second: 10 }"),
	CFG_UNSUPPORTED("sticky", "null"),
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
	}
	free(ups);
}
