/*
 * client_ip: who the client is. The peer address, unless the peer is a
 * trusted proxy: then the rightmost X-Forwarded-For address that is not
 * itself trusted (PRODUCT.md §3), so a client cannot forge its address by
 * sending its own X-Forwarded-For through a trusted proxy.
 */
#ifndef PORTICO_PROXY_CLIENT_IP_H
#define PORTICO_PROXY_CLIENT_IP_H

#include <stddef.h>
#include <stdint.h>

#include "http/h1_parser.h"
#include "proxy/proxy_config.h"

void client_ip_resolve(const struct proxy_config *cfg, const uint8_t peer_ip[16],
		       const char *peer_text, const struct http_header *headers,
		       size_t num_headers, char *out, size_t out_size);

#endif
