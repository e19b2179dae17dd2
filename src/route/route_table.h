/*
 * route_table: the routes of one configuration snapshot compiled for lookup,
 * so choosing a route costs about the same with 10 rules as with 10,000,
 * and gives the same answer as a scan in file order would.
 *
 * Built once by config/ when the routes are loaded and owned by the snapshot
 * (struct proxy_config.route_table); immutable, so every worker reads it
 * without locks. Approach:
 *   - hosts: rules are grouped into buckets — one per exact host (hashed,
 *     lower-case), one per wildcard suffix ("*.example.com" is found by
 *     hashing each ".suffix" of the request host) and one for host-less rules;
 *   - paths: inside a bucket, path_exact and path_prefix rules sit in one
 *     hash keyed by (bucket, kind, bytes); a lookup hashes the request path
 *     incrementally and probes only at the prefix lengths the bucket uses.
 *     Rules with no path condition are prefix "" ; path_regex rules are a
 *     short list per bucket, tried only when they could still win;
 *   - a key holds its rules in file order; candidates from every bucket that
 *     applies are checked with router_route_matches (methods, headers, regex,
 *     and host and path again) and the smallest rule index wins, which is
 *     "first match in file order".
 * Rejected: a byte trie per bucket (more memory and pointer chasing for the
 * same probes), a DFA over all rules (does not fit methods/headers/regex).
 * Lookups allocate nothing.
 */
#ifndef PORTICO_ROUTE_ROUTE_TABLE_H
#define PORTICO_ROUTE_ROUTE_TABLE_H

#include <stddef.h>

#include "route/route_config.h"
#include "route/router.h"

struct route_table;

/*
 * Compiles routes[0..n) (borrowed: they must outlive the table). Returns an
 * owned table, or NULL when out of memory. Main thread, at load.
 */
struct route_table *route_table_new(const struct route_config *routes, size_t n);

/* Frees t. NULL is a no-op. */
void route_table_free(struct route_table *t);

/*
 * Index of the first route (in file order) matching req, or -1 when none
 * does or t is NULL. req->path should already be normalised. Any thread.
 */
int route_table_match(const struct route_table *t, const struct route_request *req);

#endif
