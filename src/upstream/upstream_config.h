/*
 * upstream_config: one `upstreams:` entry of the configuration, as loaded.
 * Immutable once loaded; owned by the configuration snapshot.
 */
#ifndef PORTICO_UPSTREAM_UPSTREAM_CONFIG_H
#define PORTICO_UPSTREAM_UPSTREAM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/addr.h"

struct tls_client;

enum lb_algorithm {
	LB_ROUND_ROBIN,
	LB_LEAST_CONN,
	LB_P2C,
	LB_RANDOM,
	LB_IP_HASH,
	LB_HASH,
	LB_EWMA,
	LB_GEO,
};

/* Where `balance: hash` takes its key (hash_key). */
enum lb_key_source {
	LB_KEY_NONE,          /* hash_key not set */
	LB_KEY_HEADER,        /* "header:NAME" */
	LB_KEY_COOKIE,        /* "cookie:NAME" */
	LB_KEY_PATH,          /* "path": the request path without the query */
	LB_KEY_CLIENT_IP,     /* "client_ip" */
};

struct server_config {
	char *address;        /* owned; as written in the config */
	struct addr addr;
	uint32_t weight;      /* >= 1 */
	bool backup;
	uint32_t max_connections; /* 0 = unlimited */
};

/* Active checks: an HTTP GET per server at `interval` (PRODUCT.md §2). */
struct health_check_config {
	char *path;             /* owned */
	uint64_t interval_ms;
	uint64_t timeout_ms;
	int expect_min;         /* expect_status "200-399": a status in [min, max] is healthy */
	int expect_max;
	uint32_t healthy_threshold;   /* consecutive successes to come back up */
	uint32_t unhealthy_threshold; /* consecutive failures to go down */
};

/* Passive checks: outlier ejection from live traffic. */
struct passive_config {
	uint32_t max_fails;     /* consecutive connect errors, timeouts or 5xx; 0 = off */
	uint64_t fail_timeout_ms;
};

/* Retries beyond the first attempt, per second: at most ratio × requests,
 * but always min_per_second (PRODUCT.md §2 retry_budget). */
struct retry_budget_config {
	double ratio;
	uint32_t min_per_second;
};

/* Session affinity: a signed cookie names the client's server. */
struct sticky_config {
	char *cookie;           /* owned: the cookie's name */
	uint64_t ttl_ms;        /* Max-Age of the cookie and validity of its signature */
};

/* TLS to the servers (upstreams.*.tls); verified against `ca`, or the
 * system's store when it is NULL. */
struct upstream_tls_config {
	char *sni;              /* owned, may be NULL: the name sent in SNI and, with
				 * verify, checked against the certificate; `sni:` as
				 * written, else the host of `dns:`, else none */
	bool verify;            /* check the certificate chain (and sni) */
	char *ca;               /* owned, absolute path; NULL = the system's store */
};

struct upstream_config {
	char *name;           /* owned */
	enum lb_algorithm balance;
	char *hash_key;       /* owned, may be NULL; as written */
	enum lb_key_source hash_key_source; /* parsed from hash_key */
	const char *hash_key_name; /* borrowed from hash_key: the header or cookie name */
	struct server_config *servers; /* owned array */
	size_t num_servers;
	uint32_t keepalive;   /* idle pooled connections per server per worker */
	uint64_t connect_timeout_ms;
	uint64_t response_timeout_ms;
	uint32_t retries;
	struct health_check_config *health_check; /* owned; NULL = no active checks */
	struct passive_config passive;
	struct retry_budget_config retry_budget;
	uint64_t slow_start_ms;      /* 0 = off */
	struct sticky_config *sticky; /* owned; NULL = off */
	char *dns;                   /* owned "host:port"; servers come from resolving it */
	uint64_t dns_ttl_ms;
	struct upstream_tls_config *tls; /* owned; NULL = plain TCP */
	struct tls_client *tls_client;   /* owned: tls compiled (net/tls.h), NULL = plain */
};

#define UPSTREAM_CONFIG_DEFAULTS                                              \
	{ .balance = LB_ROUND_ROBIN, .keepalive = 32,                        \
	  .connect_timeout_ms = 3000, .response_timeout_ms = 60000,          \
	  .retries = 1, .passive = { .max_fails = 3, .fail_timeout_ms = 10000 },           \
	  .retry_budget = { .ratio = 0.2, .min_per_second = 10 },            \
	  .dns_ttl_ms = 30000 }

#endif
