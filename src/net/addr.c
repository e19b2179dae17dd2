/*
 * addr: the address forms of PRODUCT.md §1 parsed into sockaddr_storage.
 *
 * Literal IPs are parsed with inet_pton; anything else left of the last ':'
 * is a host name resolved once with getaddrinfo (IPv4 preferred, like most
 * proxies' resolvers when both families answer). Re-resolution belongs to an
 * upstream's `dns:` option, not here. The port is checked before any name is
 * resolved so a typo never costs a DNS round trip. Errors come back as a
 * static hint the configuration loader appends to its message.
 */
#include "net/addr.h"
#include "net/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#define ADDR_FORMS "expected HOST:PORT, [IPv6]:PORT, :PORT or unix:/path"

static int addr_fail(const char **why, const char *hint)
{
	if (why)
		*why = hint;
	return -EINVAL;
}

static int addr_parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n;

	for (n = 0; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 6)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int addr_parse_unix(const char *path, struct addr *out, const char **why)
{
	struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
	size_t len = strlen(path);

	if (len == 0)
		return addr_fail(why, "unix: needs a socket path, like unix:/run/app.sock");
	if (len >= sizeof(sun->sun_path))
		return addr_fail(why, "unix socket path is too long (at most 107 bytes)");
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len + 1);
	out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

static void addr_set_v4(struct addr *out, const struct in_addr *ip, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&out->ss;

	sin->sin_family = AF_INET;
	sin->sin_addr = *ip;
	sin->sin_port = htons(port);
	out->len = sizeof(*sin);
}

static void addr_set_v6(struct addr *out, const struct in6_addr *ip, uint16_t port)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = *ip;
	sin6->sin6_port = htons(port);
	out->len = sizeof(*sin6);
}

static bool addr_is_hostname(const char *host)
{
	for (const char *p = host; *p; p++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return *host != '\0';
}

static int addr_resolve(const char *host, uint16_t port, struct addr *out, const char **why)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *pick = NULL;

	if (!addr_is_hostname(host))
		return addr_fail(why, "invalid host: " ADDR_FORMS);
	if (!resolver_enabled())
		return addr_fail(why, "host name could not be resolved (resolution is disabled)");
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		return addr_fail(why, "host name could not be resolved");
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (ai->ai_family == AF_INET6 && !pick)
			pick = ai;
	}
	if (pick && pick->ai_family == AF_INET)
		addr_set_v4(out, &((struct sockaddr_in *)pick->ai_addr)->sin_addr, port);
	else if (pick)
		addr_set_v6(out, &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, port);
	freeaddrinfo(res);
	return pick ? 0 : addr_fail(why, "host name has no IPv4 or IPv6 address");
}

static int addr_parse_v6(const char *text, struct addr *out, const char **why)
{
	char host[INET6_ADDRSTRLEN];
	const char *end = strchr(text, ']');
	struct in6_addr ip;
	uint16_t port;
	size_t len;

	if (!end)
		return addr_fail(why, "missing ']' after the IPv6 address, like [::1]:8080");
	len = (size_t)(end - text - 1);
	if (len == 0 || len >= sizeof(host))
		return addr_fail(why, "invalid IPv6 address inside [ ]");
	memcpy(host, text + 1, len);
	host[len] = '\0';
	if (inet_pton(AF_INET6, host, &ip) != 1)
		return addr_fail(why, "invalid IPv6 address inside [ ]");
	if (end[1] != ':')
		return addr_fail(why, "missing port after ], like [::1]:8080");
	if (addr_parse_port(end + 2, &port) < 0)
		return addr_fail(why, "port must be a number between 1 and 65535");
	addr_set_v6(out, &ip, port);
	return 0;
}

int addr_parse(const char *text, struct addr *out, const char **why)
{
	char host[256];
	const char *colon;
	struct in_addr ip4;
	uint16_t port;
	size_t host_len;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return addr_fail(why, "empty address: " ADDR_FORMS);
	if (strncmp(text, "unix:", 5) == 0)
		return addr_parse_unix(text + 5, out, why);
	if (text[0] == '[')
		return addr_parse_v6(text, out, why);
	colon = strrchr(text, ':');
	if (!colon)
		return addr_fail(why, "missing port: " ADDR_FORMS);
	if (colon != strchr(text, ':'))
		return addr_fail(why, "IPv6 addresses need brackets, like [::1]:8080");
	if (addr_parse_port(colon + 1, &port) < 0)
		return addr_fail(why, "port must be a number between 1 and 65535");
	host_len = (size_t)(colon - text);
	if (host_len >= sizeof(host))
		return addr_fail(why, "host name is too long");
	memcpy(host, text, host_len);
	host[host_len] = '\0';
	if (host_len == 0) {
		ip4.s_addr = htonl(INADDR_ANY);
		addr_set_v4(out, &ip4, port);
		return 0;
	}
	if (inet_pton(AF_INET, host, &ip4) == 1) {
		addr_set_v4(out, &ip4, port);
		return 0;
	}
	if (strspn(host, "0123456789.") == host_len)
		return addr_fail(why, "invalid IPv4 address");
	return addr_resolve(host, port, out, why);
}

void addr_format_ip(const struct sockaddr *sa, char *buf, size_t size)
{
	if (size == 0)
		return;
	buf[0] = '\0';
	if (sa->sa_family == AF_INET) {
		if (!inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)size))
			buf[0] = '\0';
	} else if (sa->sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)size))
			buf[0] = '\0';
	} else if (sa->sa_family == AF_UNIX) {
		snprintf(buf, size, "unix");
	}
}

void addr_format(const struct addr *a, char *buf, size_t size)
{
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	char ip[INET6_ADDRSTRLEN];

	if (size == 0)
		return;
	switch (sa->sa_family) {
	case AF_INET:
		addr_format_ip(sa, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(((const struct sockaddr_in *)sa)->sin_port));
		break;
	case AF_INET6:
		addr_format_ip(sa, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(((const struct sockaddr_in6 *)sa)->sin6_port));
		break;
	case AF_UNIX:
		snprintf(buf, size, "unix:%s", ((const struct sockaddr_un *)sa)->sun_path);
		break;
	default:
		snprintf(buf, size, "(none)");
		break;
	}
}
