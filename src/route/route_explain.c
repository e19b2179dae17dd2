#include "route/route_explain.h"

#include <stdio.h>
#include <string.h>

#include "route/regex.h"

static bool headers_ok(const struct route_config *r, const struct route_request *req,
		       char *why, size_t size)
{
	for (size_t i = 0; i < r->num_match_headers; i++) {
		const struct header_pair *want = &r->match_headers[i];
		struct slice got = h1_find_header(req->headers, req->num_headers, want->name);
		if (!got.ptr) {
			snprintf(why, size, "header %s is missing", want->name);
			return false;
		}
		if (want->value[0] && !slice_eq(got, slice_from_cstr(want->value))) {
			snprintf(why, size, "header %s is \"%.*s\", not \"%s\"", want->name,
				 (int)got.len, got.ptr, want->value);
			return false;
		}
	}
	return true;
}

bool route_explain_match(const struct route_config *r, const struct route_request *req,
			 char *why, size_t size)
{
	struct slice host = router_host_without_port(req->host);
	struct slice path = req->path;

	if (r->host && !router_host_matches(r->host, host)) {
		snprintf(why, size, "host \"%.*s\" is not %s", (int)host.len, host.ptr, r->host);
		return false;
	}
	if (r->path_exact && !slice_eq(path, slice_from_cstr(r->path_exact))) {
		snprintf(why, size, "path \"%.*s\" is not exactly %s", (int)path.len, path.ptr,
			 r->path_exact);
		return false;
	}
	if (r->path_prefix && !slice_starts_with(path, slice_from_cstr(r->path_prefix))) {
		snprintf(why, size, "path \"%.*s\" does not start with %s", (int)path.len, path.ptr,
			 r->path_prefix);
		return false;
	}
	if (r->path_re && regex_match(r->path_re, path, NULL, 0) <= 0) {
		snprintf(why, size, "path \"%.*s\" does not match %s", (int)path.len, path.ptr,
			 r->path_regex);
		return false;
	}
	if (!router_methods_match(r, req->method)) {
		snprintf(why, size, "method %.*s is not one of the route's methods",
			 (int)req->method.len, req->method.ptr);
		return false;
	}
	return headers_ok(r, req, why, size);
}
