#include "proxy/vars.h"

static const struct {
	const char *name;
	size_t offset;
} table[] = {
	/* names are matched whole, up to a character that cannot be in one */
	{ "scheme", offsetof(struct vars, scheme) },
	{ "host", offsetof(struct vars, host) },
	{ "request_uri", offsetof(struct vars, request_uri) },
	{ "uri", offsetof(struct vars, uri) },
	{ "args", offsetof(struct vars, args) },
	{ "client_ip", offsetof(struct vars, client_ip) },
	{ "request_id", offsetof(struct vars, request_id) },
	{ "ssl_client_s_dn", offsetof(struct vars, ssl_client_s_dn) },
};

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* The variable named at p (after '$'), its name's length in *len. */
static const struct slice *lookup(const char *p, const struct vars *v, size_t *len)
{
	size_t n = 0;
	while (name_char(p[n]))
		n++;
	*len = n;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strlen(table[i].name) == n && memcmp(table[i].name, p, n) == 0)
			return (const struct slice *)(const void *)((const char *)v + table[i].offset);
	return NULL;
}

size_t vars_expand(const char *tmpl, const struct vars *v, char *out, size_t size)
{
	size_t o = 0;

	for (const char *p = tmpl; *p;) {
		struct slice piece = slice_make(p, 1);
		size_t skip = 1;
		if (*p == '$' && p[1] == '$') {
			skip = 2;
		} else if (*p == '$') {
			size_t len;
			const struct slice *val = lookup(p + 1, v, &len);
			if (val) {
				piece = *val;
				skip = 1 + len;
			}
		}
		if (o + piece.len + 1 > size)
			return (size_t)-1;
		if (piece.len)
			memcpy(out + o, piece.ptr, piece.len);
		o += piece.len;
		p += skip;
	}
	out[o] = '\0';
	return o;
}
