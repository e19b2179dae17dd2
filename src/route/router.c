#include "route/router.h"

#include <string.h>

#include "route/regex.h"

struct slice router_host_without_port(struct slice host)
{
	if (host.len == 0)
		return host;
	if (host.ptr[0] == '[') {
		const char *close = memchr(host.ptr, ']', host.len);
		if (close)
			host.len = (size_t)(close - host.ptr) + 1;
		return host;
	}
	const char *colon = memchr(host.ptr, ':', host.len);
	if (colon)
		host.len = (size_t)(colon - host.ptr);
	return host;
}

bool router_host_matches(const char *pattern, struct slice host)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t suffix_len = strlen(pattern + 1); /* ".example.com" */
		if (host.len <= suffix_len)
			return false;
		struct slice tail = slice_make(host.ptr + host.len - suffix_len, suffix_len);
		return slice_ieq_cstr(tail, pattern + 1);
	}
	return slice_ieq_cstr(host, pattern);
}

bool router_methods_match(const struct route_config *r, struct slice method)
{
	if (r->num_methods == 0)
		return true;
	for (size_t i = 0; i < r->num_methods; i++)
		if (slice_eq(method, slice_from_cstr(r->methods[i])))
			return true;
	return false;
}

static bool headers_match(const struct route_config *r, const struct route_request *req)
{
	for (size_t i = 0; i < r->num_match_headers; i++) {
		const struct header_pair *want = &r->match_headers[i];
		struct slice got = h1_find_header(req->headers, req->num_headers, want->name);
		if (!got.ptr)
			return false;
		if (want->value[0] && !slice_eq(got, slice_from_cstr(want->value)))
			return false;
	}
	return true;
}

bool router_route_matches(const struct route_config *r, const struct route_request *req,
			  struct slice host)
{
	if (r->host && !router_host_matches(r->host, host))
		return false;
	if (r->path_exact && !slice_eq(req->path, slice_from_cstr(r->path_exact)))
		return false;
	if (r->path_prefix && !slice_starts_with(req->path, slice_from_cstr(r->path_prefix)))
		return false;
	if (r->path_re && regex_match(r->path_re, req->path, NULL, 0) <= 0)
		return false;
	return router_methods_match(r, req->method) && headers_match(r, req);
}
