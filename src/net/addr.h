/*
 * addr: socket addresses as written in the configuration.
 *
 * Accepted forms (PRODUCT.md §1): "127.0.0.1:8080", "[::1]:8080", ":8080"
 * (every IPv4 interface, as nginx's "listen 8080"), "unix:/path", and for
 * upstream servers "localhost:9000" (resolved once, at load time).
 */
#ifndef PORTICO_NET_ADDR_H
#define PORTICO_NET_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parses text into out. Returns 0, or -EINVAL with *why set to a static hint. */
int addr_parse(const char *text, struct addr *out, const char **why);

/* Writes "ip:port", "[ip6]:port" or "unix:/path" into buf (NUL-terminated). */
void addr_format(const struct addr *a, char *buf, size_t size);

/* Writes only the IP part ("127.0.0.1", "::1", "unix") into buf. */
void addr_format_ip(const struct sockaddr *sa, char *buf, size_t size);

#endif
