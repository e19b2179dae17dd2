/*
 * router: whether one route matches a request — a few slice comparisons
 * (and the regex of a path_regex rule). The compiled table
 * (route/route_table.h) finds the first matching route in file order
 * without visiting every rule, then confirms its candidates with
 * router_route_matches. Requests reach it with the path already normalised
 * (route/normalize.h).
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

/* True when route r matches req in every respect; host is req->host
 * without its port. The one predicate the table and `explain` use. */
bool router_route_matches(const struct route_config *r, const struct route_request *req,
			  struct slice host);

/* Parts of that predicate, for `explain` to say which one failed: host
 * (exact, or "*.example.com" for any subdomain; case ignored) and methods
 * (any when the route lists none). */
bool router_host_matches(const char *pattern, struct slice host);
bool router_methods_match(const struct route_config *r, struct slice method);

/* The host without its port: "Example.com:8080" -> "Example.com",
 * "[::1]:80" -> "[::1]". */
struct slice router_host_without_port(struct slice host);

#endif
