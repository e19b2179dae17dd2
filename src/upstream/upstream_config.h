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

struct server_config {
	char *address;        /* owned; as written in the config */
	struct addr addr;
	uint32_t weight;      /* >= 1 */
	bool backup;
	uint32_t max_connections; /* 0 = unlimited */
};

struct upstream_config {
	char *name;           /* owned */
	enum lb_algorithm balance;
	char *hash_key;       /* owned, may be NULL */
	struct server_config *servers; /* owned array */
	size_t num_servers;
	uint32_t keepalive;   /* idle pooled connections per server per worker */
	uint64_t connect_timeout_ms;
	uint64_t response_timeout_ms;
	uint32_t retries;
};

#define UPSTREAM_CONFIG_DEFAULTS                                              \
	{ .balance = LB_ROUND_ROBIN, .keepalive = 32,                        \
	  .connect_timeout_ms = 3000, .response_timeout_ms = 60000,          \
	  .retries = 1 }

#endif
