/*
 * http_limits: the per-listener limits of PRODUCT.md §2 `limits:`.
 * Durations are in milliseconds, sizes in bytes; 0 for max_body_size means
 * unlimited.
 */
#ifndef PORTICO_HTTP_HTTP_LIMITS_H
#define PORTICO_HTTP_HTTP_LIMITS_H

#include <stdint.h>

struct http_limits {
	uint64_t max_connections;
	uint64_t header_timeout_ms;
	uint64_t idle_timeout_ms;
	uint64_t body_timeout_ms;
	uint64_t max_header_size;
	uint64_t max_headers;
	uint64_t max_body_size;
	uint64_t drain_timeout_ms;
};

#define HTTP_LIMITS_DEFAULT                                                   \
	((struct http_limits){                                                \
		.max_connections = 100000,                                    \
		.header_timeout_ms = 10000,                                   \
		.idle_timeout_ms = 60000,                                     \
		.body_timeout_ms = 60000,                                     \
		.max_header_size = 16384,                                     \
		.max_headers = 100,                                           \
		.max_body_size = 10u << 20,                                   \
		.drain_timeout_ms = 30000,                                    \
	})

#endif
