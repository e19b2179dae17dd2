/*
 * vars: the variables of PRODUCT.md §2 — $scheme $host $request_uri $uri
 * $args $client_ip $request_id, and $ssl_client_s_dn (the verified TLS
 * client certificate's subject, RFC 2253, "" without one) — in `redirect.to`, `respond.body` and the
 * values of set_request_headers / set_response_headers. $host is the host
 * without its port, $request_uri the target as received (path and query),
 * $uri its path, $args its query (without '?'). An unknown $name is kept
 * as written; "$$" is a literal '$'.
 */
#ifndef PORTICO_PROXY_VARS_H
#define PORTICO_PROXY_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/slice.h"

struct vars {
	struct slice scheme;
	struct slice host;
	struct slice request_uri;
	struct slice uri;
	struct slice args;
	struct slice client_ip;
	struct slice request_id;
	struct slice ssl_client_s_dn;
};

static inline bool vars_present(const char *tmpl)
{
	return strchr(tmpl, '$') != NULL;
}

/* Expands tmpl into out (NUL-terminated); returns the length, or
 * (size_t)-1 when out is too small. */
size_t vars_expand(const char *tmpl, const struct vars *v, char *out, size_t size);

#endif
