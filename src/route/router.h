/*
 * router: picks the route for a request — first match in file order.
 *
 * router_match scans the rules in order; each test is a few slice
 * comparisons (and the regex of a path_regex rule). The request path uses
 * the compiled table (route/route_table.h) instead, which finds the same
 * route without visiting every rule; router_match stays for `explain` and
 * as the reference the table is tested against. Both see the path already
 * normalised (route/normalize.h).
 */
#ifndef PORTICO_ROUTE_ROUTER_H
#define PORTICO_ROUTE_ROUTER_H

#include <stdbool.h>
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

/* True when route r matches req in every respect; host is req->host
 * without its port. The one predicate both the scan and the table use. */
bool router_route_matches(const struct route_config *r, const struct route_request *req,
			  struct slice host);

/* The host without its port: "Example.com:8080" -> "Example.com",
 * "[::1]:80" -> "[::1]". */
struct slice router_host_without_port(struct slice host);

#endif
