/*
 * local_response: responses portico writes itself — its error pages and
 * `respond:` routes. Error pages are short HTML, or JSON for a client that
 * accepts only JSON.
 */
#ifndef PORTICO_PROXY_LOCAL_RESPONSE_H
#define PORTICO_PROXY_LOCAL_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/slice.h"
#include "http/h1_parser.h"
#include "proxy/proxy_config.h"
#include "proxy/vars.h"

struct local_response {
	int status;
	const char *content_type; /* NULL: an error page (HTML or JSON) */
	const char *body;         /* with content_type: the body to send */
	bool json;                /* error page as JSON */
	bool head_request;        /* headers only */
	bool keep_alive;
	bool client_http10;
	struct slice request_id;
	const struct security_config *security;
	const struct route_config *route; /* set_response_headers, may be NULL */
	struct slice date;        /* "Date" value */
	const char *location;     /* Location of a redirect, or NULL */
	const struct vars *vars;  /* for set_response_headers values, may be NULL */
};

/* Bytes local_response_write needs at most. */
size_t local_response_size(const struct local_response *lr);

/* Writes the whole response. 0, or -1 when out is too small. */
int local_response_write(struct buf *out, const struct local_response *lr);

/* Bytes of body local_response_write writes (0 for HEAD, 204, 304). */
size_t local_response_body_len(const struct local_response *lr);

/* Whether an Accept header value asks for JSON only (no HTML, no wildcard). */
bool local_response_wants_json(struct slice accept);

#endif
