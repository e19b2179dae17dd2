/*
 * forward: the heads portico writes — toward the upstream (a request with
 * X-Forwarded-*, X-Request-Id, Via, hop-by-hop fields removed) and toward the
 * client (a response with backend headers hidden, Server set, the request id
 * echoed and framing chosen for this client). PRODUCT.md §3 is the contract.
 */
#ifndef PORTICO_PROXY_FORWARD_H
#define PORTICO_PROXY_FORWARD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/slice.h"
#include "http/h1_parser.h"
#include "proxy/proxy_config.h"
#include "proxy/vars.h"

struct forward_request {
	struct slice method;
	struct slice target;     /* origin-form, after any strip_prefix */
	bool target_slash;       /* write "/" before target (a prefix was stripped) */
	struct slice host;       /* authority to send as Host */
	const struct http_header *headers;
	size_t num_headers;
	const struct h1_request_framing *framing;
	struct slice peer_ip;    /* appended to X-Forwarded-For */
	struct slice proto;      /* "http" or "https" */
	struct slice request_id;
	const struct route_config *route;
	const struct vars *vars;  /* for route field values with variables */
};

/* Writes the request head for the upstream. 0, or -1 when out is too small.
 * A WebSocket handshake (framing->websocket) keeps "Upgrade: websocket" and
 * "Connection: upgrade"; every other Upgrade is removed as hop-by-hop. */
int forward_request_head(struct buf *out, const struct forward_request *f);

struct forward_response {
	const struct h1_response *res;
	const struct h1_response_framing *framing;
	bool client_http10;      /* the client spoke HTTP/1.0 */
	bool keep_alive;         /* the client connection stays open after this */
	bool send_chunked;       /* body goes to the client chunked */
	struct slice request_id;
	const struct security_config *security;
	const struct route_config *route; /* may be NULL */
	struct slice extra_field;  /* a whole "Name: value" line without CRLF, or empty */
	struct slice date;         /* Date to send when the upstream sent none */
	const struct vars *vars;   /* for route field values with variables */
};

/* Writes the response head for the client. 0, or -1 when out is too small.
 * A response without a Date gets f->date (RFC 9110 §6.6.1: a recipient with
 * a clock adds it).
 * A 101 accepting a WebSocket handshake (framing->websocket) gets
 * "Upgrade: websocket" and "Connection: upgrade" instead of body framing. */
int forward_response_head(struct buf *out, const struct forward_response *f);

struct head_writer;

/* Writes one of portico's own fields (Host, Server, X-Request-Id, ...)
 * with value, unless the route's pairs replace it ("" removes it). Also
 * used for portico's own responses (local_response.c). */
void forward_own_field(struct head_writer *hw, const struct header_pair *pairs, size_t n,
		       struct slice name, struct slice value, const struct vars *vars);

/* Writes a route's set_response_headers, except the fields portico owns in
 * a response (written with forward_own_field) and framing fields. */
void forward_response_route_fields(struct head_writer *hw, const struct header_pair *pairs,
				   size_t n, const struct vars *vars);

/* Interim (1xx) response relayed as received, hop-by-hop fields removed. */
int forward_interim_head(struct buf *out, const struct h1_response *res);

/* Whether a client-supplied X-Request-Id is acceptable as is. */
bool forward_request_id_valid(struct slice id);

#endif
