/*
 * cidr: IPv4/IPv6 network prefixes, for trusted_proxies and access lists.
 * IPv4 addresses are kept as IPv4-mapped IPv6 so one comparison covers both.
 */
#ifndef PORTICO_CORE_CIDR_H
#define PORTICO_CORE_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cidr {
	uint8_t addr[16]; /* network address, IPv4 mapped into ::ffff:0:0/96 */
	uint8_t bits;     /* prefix length over the 128-bit form */
};

/* Parses "10.0.0.0/8", "::1/128", or a bare address (full length). 0 or -EINVAL. */
int cidr_parse(const char *text, struct cidr *out);

/* Converts a textual IP address to the 16-byte form. 0 or -EINVAL. */
int cidr_ip_parse(const char *text, size_t len, uint8_t out[16]);

bool cidr_contains(const struct cidr *net, const uint8_t ip[16]);

#endif
