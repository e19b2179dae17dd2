/*
 * sticky: session affinity (PRODUCT.md §2 `sticky: { cookie, ttl }`).
 *
 * The cookie's value names a server by a hash of its address (stable across
 * reloads and reorderings), an expiry, and a keyed hash of both with a
 * secret drawn at process start, so a client cannot pick a server by
 * forging the cookie; the cookie carries no secret. A cookie that is
 * missing, expired, forged, or names a server that is gone or down falls
 * back to the balancer, and the response then sets a new cookie.
 * The signature is a keyed 64-bit hash, not a MAC: enough against guessing,
 * not a cryptographic guarantee; cookies from before a restart are
 * re-issued.
 */
#ifndef PORTICO_PROXY_STICKY_H
#define PORTICO_PROXY_STICKY_H

#include <stddef.h>
#include <stdint.h>

#include "http/h1_parser.h"
#include "upstream/upstream.h"

/* The index of the server the request's cookie validly names, or -1. */
int sticky_server(const struct upstream_rt *u, const struct h1_request *req, uint64_t now_s);

/* Writes "Set-Cookie: NAME=VALUE; Path=/; Max-Age=TTL; HttpOnly" (no CRLF)
 * pinning server s; returns its length, or 0 if it does not fit. */
size_t sticky_set_cookie(const struct upstream_rt *u, const struct server_rt *s, uint64_t now_s,
			 char *out, size_t size);

#endif
