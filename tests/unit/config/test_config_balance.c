/*
 * Tests for the `balance` and `hash_key` keys of config/config_upstreams.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"

#define NAME "t.yaml"
#define HEAD                                                                                     \
	"listeners: [{name: web, address: \":8080\"}]\n"                                          \
	"upstreams:\n"                                                                           \
	"  app:\n"                                                                               \
	"    servers: [\"127.0.0.1:9001\", \"127.0.0.1:9002\"]\n"

static struct proxy_config *load(const char *yaml, struct config_errors *errs)
{
	return config_load_buffer(NAME, yaml, strlen(yaml), "/etc/portico", errs);
}

static struct proxy_config *load_ok(const char *yaml)
{
	struct config_errors errs = { 0 };
	struct proxy_config *cfg = load(yaml, &errs);

	for (size_t i = 0; i < errs.count; i++)
		cr_log_error("%s", errs.messages[i]);
	cr_assert_not_null(cfg, "expected the configuration to load");
	config_errors_deinit(&errs);
	return cfg;
}

/* Loads yaml expecting exactly one error, which must contain want. */
static void expect_error(const char *yaml, const char *want)
{
	struct config_errors errs = { 0 };
	struct proxy_config *cfg = load(yaml, &errs);

	cr_expect_null(cfg);
	config_free(cfg);
	cr_expect_eq(errs.count, 1, "%zu errors, first: %s", errs.count,
		     errs.count ? errs.messages[0] : "-");
	if (errs.count)
		cr_expect(strstr(errs.messages[0], want) != NULL, "got: %s", errs.messages[0]);
	config_errors_deinit(&errs);
}

Test(config_balance, every_algorithm_but_geo_loads)
{
	static const struct {
		const char *name;
		enum lb_algorithm algorithm;
	} algos[] = {
		{ "round_robin", LB_ROUND_ROBIN }, { "least_conn", LB_LEAST_CONN },
		{ "p2c", LB_P2C },                 { "random", LB_RANDOM },
		{ "ip_hash", LB_IP_HASH },         { "ewma", LB_EWMA },
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(algos) / sizeof(algos[0]); i++) {
		snprintf(yaml, sizeof(yaml), HEAD "    balance: %s\n", algos[i].name);
		struct proxy_config *cfg = load_ok(yaml);
		cr_expect_eq(cfg->upstreams[0].balance, algos[i].algorithm, "%s", algos[i].name);
		cr_expect_null(cfg->upstreams[0].hash_key);
		cr_expect_eq(cfg->upstreams[0].hash_key_source, LB_KEY_NONE);
		config_free(cfg);
	}
}

Test(config_balance, geo_not_supported_yet)
{
	expect_error(HEAD "    balance: geo\n",
		     "t.yaml:5:14: balance \"geo\" is not supported yet by this version of portico");
}

Test(config_balance, unknown_balance_suggests)
{
	expect_error(HEAD "    balance: least_con\n", "unknown balance \"least_con\" (did you mean \"least_conn\"?)");
}

Test(config_balance, hash_keys_parse)
{
	static const struct {
		const char *key;
		enum lb_key_source source;
		const char *name;
	} keys[] = {
		{ "header:X-User", LB_KEY_HEADER, "X-User" },
		{ "cookie:sid", LB_KEY_COOKIE, "sid" },
		{ "path", LB_KEY_PATH, NULL },
		{ "client_ip", LB_KEY_CLIENT_IP, NULL },
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(yaml, sizeof(yaml), HEAD "    balance: hash\n    hash_key: \"%s\"\n",
			 keys[i].key);
		struct proxy_config *cfg = load_ok(yaml);
		const struct upstream_config *u = &cfg->upstreams[0];
		cr_expect_eq(u->balance, LB_HASH);
		cr_expect_str_eq(u->hash_key, keys[i].key);
		cr_expect_eq(u->hash_key_source, keys[i].source, "%s", keys[i].key);
		if (keys[i].name)
			cr_expect_str_eq(u->hash_key_name, keys[i].name);
		config_free(cfg);
	}
}

Test(config_balance, hash_needs_a_key)
{
	expect_error(HEAD "    balance: hash\n", "t.yaml:5:14: upstream \"app\": balance hash needs a hash_key");
	expect_error(HEAD "    balance: hash\n    hash_key: null\n", "balance hash needs a hash_key");
}

Test(config_balance, hash_key_only_with_hash)
{
	expect_error(HEAD "    balance: ip_hash\n    hash_key: path\n",
		     "t.yaml:6:15: upstream \"app\": hash_key is used only with balance: hash");
	expect_error(HEAD "    hash_key: path\n", "hash_key is used only with balance: hash");
}

Test(config_balance, bad_hash_keys_refused)
{
	static const char *const bad[] = {
		"header:", "header:X User", "cookie:", "cookie:a;b", "query:x", "Path", "header:X-U\\tx",
	};
	char yaml[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), HEAD "    balance: hash\n    hash_key: \"%s\"\n", bad[i]);
		expect_error(yaml, "invalid hash_key");
	}
}
