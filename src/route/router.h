/*
 * router: picks the route for a request — first match in file order.
 *
 * This version scans the rules in order; each test is a few slice
 * comparisons. The compiled table (hash on host, prefix trie) will replace
 * the scan without changing this interface.
 */
#ifndef PORTICO_ROUTE_ROUTER_H
#define PORTICO_ROUTE_ROUTER_H

#include <stddef.h>

#include "core/slice.h"
#include "http/h1_parser.h"
#include "route/route_config.h"

struct route_request {
	struct slice method;
	struct slice host;   /* as received: any case, may carry a port */
	struct slice path;   /* without the query */
	const struct http_header *headers;
	size_t num_headers;
};

/* Index of the first route matching req, or -1 when none does. */
int router_match(const struct route_config *routes, size_t num_routes,
		 const struct route_request *req);

/* The host without its port: "Example.com:8080" -> "Example.com",
 * "[::1]:80" -> "[::1]". */
struct slice router_host_without_port(struct slice host);

#endif
