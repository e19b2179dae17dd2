#include "proxy/lb_key.h"

#include <string.h>

#include "core/hash.h"

#define LB_KEY_SEED 0x706f727469636f00ULL /* "portico" */

struct slice lb_key_cookie(struct slice cookie_header, struct slice name)
{
	const char *p = cookie_header.ptr, *end = p + cookie_header.len;

	while (p && p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		struct slice pair = slice_trim(slice_make(p, (size_t)((semi ? semi : end) - p)));
		const char *eq = memchr(pair.ptr, '=', pair.len);
		if (eq && slice_eq(slice_make(pair.ptr, (size_t)(eq - pair.ptr)), name))
			return slice_make(eq + 1, pair.len - (size_t)(eq + 1 - pair.ptr));
		p = semi ? semi + 1 : NULL;
	}
	return SLICE_NULL;
}

static struct slice find_cookie(const struct h1_request *req, const char *name)
{
	struct slice want = slice_from_cstr(name);

	for (size_t i = 0; i < req->num_headers; i++) {
		if (!slice_ieq_cstr(req->headers[i].name, "cookie"))
			continue;
		struct slice v = lb_key_cookie(req->headers[i].value, want);
		if (v.ptr)
			return v;
	}
	return SLICE_NULL;
}

uint64_t lb_key_hash(const struct upstream_config *cfg, const struct h1_request *req,
		     const char *client_ip, struct slice path, bool *has_key)
{
	struct slice key = SLICE_NULL;
	enum lb_key_source source = cfg->balance == LB_IP_HASH ? LB_KEY_CLIENT_IP : cfg->hash_key_source;

	*has_key = cfg->balance == LB_IP_HASH || cfg->balance == LB_HASH;
	if (!*has_key)
		return 0;
	switch (source) {
	case LB_KEY_HEADER:
		key = h1_find_header(req->headers, req->num_headers, cfg->hash_key_name);
		break;
	case LB_KEY_COOKIE:
		key = find_cookie(req, cfg->hash_key_name);
		break;
	case LB_KEY_PATH:
		key = path;
		break;
	default:
		break;
	}
	if (!key.ptr || key.len == 0)
		key = slice_from_cstr(client_ip);
	return hash_bytes(key.ptr, key.len, LB_KEY_SEED);
}
