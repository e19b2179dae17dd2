/*
 * route_explain: why a route does or does not match a request, in words,
 * for `portico explain`. Uses the same rules as the router; a test checks
 * that explain and real routing agree.
 */
#ifndef PORTICO_ROUTE_ROUTE_EXPLAIN_H
#define PORTICO_ROUTE_ROUTE_EXPLAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "route/route_config.h"
#include "route/router.h"

/* True when r matches req; otherwise writes the first reason it does not
 * into why (NUL-terminated). */
bool route_explain_match(const struct route_config *r, const struct route_request *req,
			 char *why, size_t size);

#endif
