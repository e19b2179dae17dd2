/*
 * route_shadow: routes that can never match because an earlier route
 * matches every request they would (first match wins), for `portico -t`.
 *
 * Route M shadows a later route N when M has no narrowing condition
 * (no methods, no headers) and covers N's host and path:
 *   host: M has none; or both are the same; or M is "*.x" and N's host
 *         (or N's "*.y" suffix) ends with ".x";
 *   path: M has none; or M's prefix starts N's prefix or exact path; or
 *         both are the same exact path or the same regex text.
 * Anything else (regexes that happen to overlap, a method list that covers
 * every method N allows) is not detected: a warning must never be wrong.
 * Quadratic in the number of routes, which is fine once at -t.
 */
#ifndef PORTICO_ROUTE_ROUTE_SHADOW_H
#define PORTICO_ROUTE_ROUTE_SHADOW_H

#include <stddef.h>

#include "route/route_config.h"

struct route_shadow {
	size_t route; /* 0-based index of the route that can never match */
	size_t by;    /* 0-based index of the first earlier route covering it */
};

/*
 * The shadowed routes among routes[0..n), in file order: an owned array
 * (free() it) and its length in *count. NULL with *count 0 when there are
 * none, or when out of memory. Main thread.
 */
struct route_shadow *route_find_shadowed(const struct route_config *routes, size_t n,
					 size_t *count);

#endif
