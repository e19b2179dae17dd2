/*
 * lb_key: the key a hashing balancer (`balance: ip_hash` / `hash`) places a
 * request by, reduced to 64 bits while the request head is still in the
 * client's buffer. The balancer (upstream/lb_hash.c) sees only the hash, so
 * it stays protocol-neutral.
 *
 * Keys: ip_hash and hash_key "client_ip" use the client IP (after trusted
 * proxies, proxy/client_ip.c); "header:NAME" the first NAME field's value;
 * "cookie:NAME" that cookie's value from any Cookie field; "path" the
 * request path without its query (before strip_prefix). A missing or empty
 * header or cookie falls back to the client IP: a client without the key
 * still sticks to one server, and a flood of key-less requests spreads
 * like ip_hash rather than all landing on hash("").
 */
#ifndef PORTICO_PROXY_LB_KEY_H
#define PORTICO_PROXY_LB_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/slice.h"
#include "http/h1_parser.h"
#include "upstream/upstream_config.h"

/*
 * The 64-bit hash of req's key under cfg's balance and hash_key. client_ip
 * is the resolved client address as text; path the request path. *has_key
 * is false (and 0 returned) when cfg does not balance by hash. Pure: any
 * thread, no allocation; req's slices are only read during the call.
 */
uint64_t lb_key_hash(const struct upstream_config *cfg, const struct h1_request *req,
		     const char *client_ip, struct slice path, bool *has_key);

/* The value of cookie name in a Cookie field value, or SLICE_NULL. */
struct slice lb_key_cookie(struct slice cookie_header, struct slice name);

#endif
