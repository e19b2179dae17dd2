/*
 * Tests for route/route_table: the compiled table picks exactly the route
 * the old linear scan picks (kept below as the oracle) on random rule sets,
 * plus host interplay (exact, wildcard, any) and precedence by file order.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "route/regex.h"
#include "route/route_table.h"
#include "route/router.h"

/* The reference: the linear matcher as it was before the table. */
static bool oracle_host(const char *pattern, struct slice host)
{
	if (pattern[0] == '*' && pattern[1] == '.') {
		size_t n = strlen(pattern + 1);
		return host.len > n && slice_ieq_cstr(slice_make(host.ptr + host.len - n, n), pattern + 1);
	}
	return slice_ieq_cstr(host, pattern);
}

static int oracle_match(const struct route_config *routes, size_t n, const struct route_request *req)
{
	struct slice host = router_host_without_port(req->host);
	for (size_t i = 0; i < n; i++) {
		const struct route_config *r = &routes[i];
		if (r->host && !oracle_host(r->host, host))
			continue;
		if (r->path_exact && !slice_eq(req->path, slice_from_cstr(r->path_exact)))
			continue;
		if (r->path_prefix && !slice_starts_with(req->path, slice_from_cstr(r->path_prefix)))
			continue;
		if (r->path_re && regex_match(r->path_re, req->path, NULL, 0) <= 0)
			continue;
		bool ok = r->num_methods == 0;
		for (size_t m = 0; m < r->num_methods; m++)
			ok = ok || slice_eq(req->method, slice_from_cstr(r->methods[m]));
		for (size_t h = 0; ok && h < r->num_match_headers; h++) {
			struct slice got = h1_find_header(req->headers, req->num_headers, r->match_headers[h].name);
			ok = got.ptr && (!r->match_headers[h].value[0] ||
					 slice_eq(got, slice_from_cstr(r->match_headers[h].value)));
		}
		if (ok)
			return (int)i;
	}
	return -1;
}

static const char *const hosts[] = { NULL, NULL, "a.test", "b.a.test", "*.a.test", "*.test", "c.test", "[::1]" };
static const char *const prefixes[] = { "/", "/a", "/a/", "/a/b", "/b", "/ab", "/a/b/c", "/x/" };
static const char *const exacts[] = { "/", "/a", "/a/b", "/b/", "/x/y" };
static const char *const regexes[] = { "^/a/[0-9]+$", "b", "^/x/.*/z", "^/$" };
static char *get_method[] = { "GET" };
static char *post_method[] = { "POST", "PUT" };
static struct header_pair canary[] = { { "X-Canary", "1" } };
static struct header_pair present[] = { { "X-Any", "" } };

static const char *const req_hosts[] = { "a.test", "A.Test:8080", "b.a.test", "z.b.a.test", "c.test",
					 "test", ".test", "x.test", "[::1]:80", "", "other" };
static const char *const req_paths[] = { "/", "/a", "/a/", "/a/b", "/a/b/c", "/a/12", "/b", "/b/",
					 "/ab", "/x/y", "/x/q/z", "/zzz", "/a/bc" };

static unsigned long seed = 12345;
static unsigned pick(unsigned n)
{
	seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((seed >> 33) % n);
}
#define PICK(a) (a)[pick(sizeof(a) / sizeof((a)[0]))]

static struct regex *compiled[4];

static void random_route(struct route_config *r)
{
	memset(r, 0, sizeof(*r));
	r->host = (char *)PICK(hosts);
	switch (pick(5)) {
	case 0: break;
	case 1: case 2: r->path_prefix = (char *)PICK(prefixes); break;
	case 3: r->path_exact = (char *)PICK(exacts); break;
	default: {
		unsigned i = pick(4);
		r->path_regex = (char *)regexes[i];
		r->path_re = compiled[i];
	}
	}
	unsigned m = pick(8);
	if (m == 0) {
		r->methods = get_method;
		r->num_methods = 1;
	} else if (m == 1) {
		r->methods = post_method;
		r->num_methods = 2;
	}
	unsigned h = pick(8);
	if (h == 0) {
		r->match_headers = canary;
		r->num_match_headers = 1;
	} else if (h == 1) {
		r->match_headers = present;
		r->num_match_headers = 1;
	}
}

static void compare_random(size_t n, unsigned requests)
{
	struct route_config *routes = calloc(n, sizeof(*routes));
	struct http_header hdrs[2];
	char err[128];
	size_t off;

	for (size_t i = 0; i < 4; i++)
		cr_assert_not_null(compiled[i] = regex_new(regexes[i], err, sizeof(err), &off));
	for (size_t i = 0; i < n; i++)
		random_route(&routes[i]);
	struct route_table *t = route_table_new(routes, n);
	cr_assert_not_null(t);
	for (unsigned k = 0; k < requests; k++) {
		struct route_request req = {
			.method = slice_from_cstr(pick(2) ? "GET" : "POST"),
			.host = slice_from_cstr(PICK(req_hosts)),
			.path = slice_from_cstr(PICK(req_paths)),
			.headers = hdrs,
		};
		if (pick(3) == 0)
			hdrs[req.num_headers++] = (struct http_header){ SLICE_LIT("x-canary"), SLICE_LIT("1") };
		if (pick(3) == 0)
			hdrs[req.num_headers++] = (struct http_header){ SLICE_LIT("X-Any"), SLICE_LIT("v") };
		int want = oracle_match(routes, n, &req);
		int got = route_table_match(t, &req);
		cr_assert_eq(got, want, "n=%zu host=%.*s path=%.*s: table %d, scan %d", n,
			     (int)req.host.len, req.host.ptr, (int)req.path.len, req.path.ptr, got, want);
	}
	route_table_free(t);
	free(routes);
	for (size_t i = 0; i < 4; i++)
		regex_free(compiled[i]);
}

Test(route_table, random_rule_sets_agree_with_the_scan)
{
	static const size_t sizes[] = { 10, 11, 25, 50, 100, 300, 1000, 2000 };
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (unsigned round = 0; round < 20; round++)
			compare_random(sizes[s], sizes[s] >= 1000 ? 300 : 1000);
}

static struct route_request request(const char *host, const char *path)
{
	return (struct route_request){ .method = SLICE_LIT("GET"), .host = slice_from_cstr(host),
				       .path = slice_from_cstr(path) };
}

static int lookup(const struct route_config *routes, size_t n, const char *host, const char *path)
{
	struct route_table *t = route_table_new(routes, n);
	struct route_request req = request(host, path);
	int got = route_table_match(t, &req);
	route_table_free(t);
	return got;
}

Test(route_table, first_match_in_file_order_across_host_kinds)
{
	struct route_config r[] = {
		{ .host = "*.example.com", .path_prefix = "/api/" },
		{ .host = "www.example.com", .path_prefix = "/" },
		{ .path_prefix = "/" },
		{ .host = "www.example.com", .path_exact = "/api/x" },
	};
	cr_expect_eq(lookup(r, 4, "www.example.com", "/api/x"), 0); /* wildcard is first */
	cr_expect_eq(lookup(r, 4, "WWW.Example.COM:443", "/other"), 1);
	cr_expect_eq(lookup(r, 4, "example.com", "/api/x"), 2); /* "*." needs a label */
	cr_expect_eq(lookup(r, 4, "a.b.example.com", "/api/"), 0);
	cr_expect_eq(lookup(r, 4, "", "/api/"), 2);
}

Test(route_table, any_host_rule_before_exact_host_wins)
{
	struct route_config r[] = {
		{ .path_prefix = "/a" },
		{ .host = "h.test", .path_prefix = "/a/b" },
	};
	cr_expect_eq(lookup(r, 2, "h.test", "/a/b/c"), 0);
	cr_expect_eq(lookup(r, 2, "h.test", "/b"), -1);
}

Test(route_table, longer_prefix_later_does_not_win_over_earlier_shorter)
{
	struct route_config r[] = {
		{ .host = "h.test", .path_prefix = "/" },
		{ .host = "h.test", .path_prefix = "/api/" },
	};
	cr_expect_eq(lookup(r, 2, "h.test", "/api/x"), 0);
}

Test(route_table, same_key_falls_through_methods)
{
	static char *post[] = { "POST" };
	struct route_config r[] = {
		{ .path_prefix = "/a", .methods = post, .num_methods = 1 },
		{ .path_prefix = "/a" },
	};
	cr_expect_eq(lookup(r, 2, "x", "/a/b"), 1);
}

Test(route_table, regex_routes)
{
	char err[128];
	size_t off;
	struct regex *re = regex_new("^/v[0-9]+/users/[0-9]+$", err, sizeof(err), &off);
	cr_assert_not_null(re);
	struct route_config r[] = {
		{ .path_prefix = "/v1/users/admin" },
		{ .path_regex = "x", .path_re = re },
		{ .path_prefix = "/" },
	};
	cr_expect_eq(lookup(r, 3, "h", "/v2/users/42"), 1);
	cr_expect_eq(lookup(r, 3, "h", "/v2/users/42/x"), 2);
	cr_expect_eq(lookup(r, 3, "h", "/v1/users/admin"), 0);
	regex_free(re);
}

Test(route_table, empty_and_null)
{
	struct route_request req = request("h", "/");
	cr_expect_eq(route_table_match(NULL, &req), -1);
	struct route_table *t = route_table_new(NULL, 0);
	cr_assert_not_null(t);
	cr_expect_eq(route_table_match(t, &req), -1);
	route_table_free(t);
	route_table_free(NULL);
}
