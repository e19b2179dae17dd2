#include "proxy/client_ip.h"

#include <string.h>

static bool trusted(const struct proxy_config *cfg, const uint8_t ip[16])
{
	for (size_t i = 0; i < cfg->num_trusted_proxies; i++)
		if (cidr_contains(&cfg->trusted_proxies[i], ip))
			return true;
	return false;
}

static void copy_text(char *out, size_t size, const char *p, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

/* Walks one X-Forwarded-For value right to left; true when it settled the
 * answer in out. */
static bool walk_value(const struct proxy_config *cfg, struct slice v, char *out, size_t size)
{
	size_t end = v.len;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && v.ptr[start - 1] != ',')
			start--;
		struct slice item = slice_trim(slice_make(v.ptr + start, end - start));
		uint8_t ip[16];
		if (item.len && cidr_ip_parse(item.ptr, item.len, ip) == 0) {
			copy_text(out, size, item.ptr, item.len);
			if (!trusted(cfg, ip))
				return true;
		} else if (item.len) {
			return true; /* garbage: stop at the last trustworthy hop */
		}
		end = start ? start - 1 : 0;
	}
	return false;
}

void client_ip_resolve(const struct proxy_config *cfg, const uint8_t peer_ip[16],
		       const char *peer_text, const struct http_header *headers,
		       size_t num_headers, char *out, size_t out_size)
{
	copy_text(out, out_size, peer_text, strlen(peer_text));
	if (cfg->num_trusted_proxies == 0 || !trusted(cfg, peer_ip))
		return;
	/* Later header lines are closer to us: walk them last to first. */
	for (size_t i = num_headers; i-- > 0;)
		if (slice_ieq_cstr(headers[i].name, "x-forwarded-for") &&
		    walk_value(cfg, headers[i].value, out, out_size))
			return;
}
