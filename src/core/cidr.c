/*
 * cidr: IPv4/IPv6 prefixes in one 128-bit form.
 *
 * IPv4 addresses and prefixes are mapped into ::ffff:0:0/96, so a single
 * byte-wise prefix comparison serves both families and an IPv4 client seen
 * on a dual-stack socket (::ffff:a.b.c.d) matches an IPv4 prefix. Parsing is
 * delegated to inet_pton, which is strict (no leading zeros shorthand, no
 * "10/8"). Host bits set in a prefix ("10.0.0.1/8") are cleared rather than
 * refused, as nginx and HAProxy do.
 */
#include "core/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static void cidr_map_v4(const uint8_t v4[4], uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

/* Like cidr_ip_parse, and also says whether the text was IPv4. */
static int cidr_ip_parse_family(const char *text, size_t len, uint8_t out[16], bool *is_v4)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t v4[4];

	if (len == 0 || len >= sizeof(buf) || memchr(text, '\0', len))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, v4) == 1) {
		cidr_map_v4(v4, out);
		*is_v4 = true;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*is_v4 = false;
		return 0;
	}
	return -EINVAL;
}

int cidr_ip_parse(const char *text, size_t len, uint8_t out[16])
{
	bool is_v4;

	return cidr_ip_parse_family(text, len, out, &is_v4);
}

static int cidr_parse_bits(const char *s, unsigned max, unsigned *bits)
{
	unsigned v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return -EINVAL;
	*bits = v;
	return 0;
}

int cidr_parse(const char *text, struct cidr *out)
{
	const char *slash;
	size_t addr_len;
	unsigned bits;
	bool is_v4;

	if (!text)
		return -EINVAL;
	slash = strchr(text, '/');
	addr_len = slash ? (size_t)(slash - text) : strlen(text);
	if (cidr_ip_parse_family(text, addr_len, out->addr, &is_v4) < 0)
		return -EINVAL;
	if (!slash)
		bits = is_v4 ? 32 : 128;
	else if (cidr_parse_bits(slash + 1, is_v4 ? 32 : 128, &bits) < 0)
		return -EINVAL;
	out->bits = (uint8_t)(is_v4 ? bits + 96 : bits);

	/* clear host bits so cidr_contains compares networks only */
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		if (lo >= out->bits)
			out->addr[i] = 0;
		else if (lo + 8 > out->bits)
			out->addr[i] &= (uint8_t)(0xff << (8 - (out->bits - lo)));
	}
	return 0;
}

bool cidr_contains(const struct cidr *net, const uint8_t ip[16])
{
	unsigned full = net->bits / 8;
	unsigned rest = net->bits % 8;

	if (memcmp(net->addr, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (net->addr[full] & mask) == (ip[full] & mask);
}
