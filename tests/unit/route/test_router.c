/*
 * Tests for route/router: first match in file order over host (exact,
 * case-insensitive, port ignored, "*." wildcard), path prefix / exact,
 * methods and header conditions.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "route/route_table.h"
#include "route/router.h"

static struct http_header hdrs[8];

static struct route_request request(const char *method, const char *host, const char *path)
{
	return (struct route_request){
		.method = slice_from_cstr(method),
		.host = slice_from_cstr(host),
		.path = slice_from_cstr(path),
		.headers = hdrs,
		.num_headers = 0,
	};
}

static void add_header(struct route_request *r, const char *name, const char *value)
{
	cr_assert_lt(r->num_headers, 8);
	hdrs[r->num_headers].name = slice_from_cstr(name);
	hdrs[r->num_headers].value = slice_from_cstr(value);
	r->num_headers++;
}

/* The route the request path's compiled table picks among routes[0..n). */
static int route_of(const struct route_config *routes, size_t n, const struct route_request *req)
{
	struct route_table *t = route_table_new(routes, n);
	cr_assert(t != NULL);
	int i = route_table_match(t, req);
	route_table_free(t);
	return i;
}

static int match1(const struct route_config *route, const struct route_request *req)
{
	return route_of(route, 1, req);
}

static bool host_hits(const char *pattern, const char *host)
{
	struct route_config r = { .host = (char *)pattern };
	struct route_request req = request("GET", host, "/");

	return match1(&r, &req) == 0;
}

Test(router, empty_route_matches_everything)
{
	struct route_config r = { 0 };
	struct route_request req = request("DELETE", "whatever.test", "/x/y");

	cr_expect_eq(match1(&r, &req), 0);
}

Test(router, no_routes_gives_minus_one)
{
	struct route_request req = request("GET", "a.test", "/");

	cr_expect_eq(route_of(NULL, 0, &req), -1);
}

Test(router, no_match_gives_minus_one)
{
	struct route_config routes[2] = {
		{ .host = "a.test" },
		{ .path_prefix = "/api" },
	};
	struct route_request req = request("GET", "b.test", "/web");

	cr_expect_eq(route_of(routes, 2, &req), -1);
}

Test(router, first_match_wins)
{
	struct route_config routes[3] = {
		{ .path_prefix = "/api/v2" },
		{ .path_prefix = "/api" },
		{ 0 },
	};
	struct route_request v2 = request("GET", "h", "/api/v2/users");
	struct route_request v1 = request("GET", "h", "/api/v1/users");
	struct route_request other = request("GET", "h", "/");

	cr_expect_eq(route_of(routes, 3, &v2), 0);
	cr_expect_eq(route_of(routes, 3, &v1), 1);
	cr_expect_eq(route_of(routes, 3, &other), 2);

	/* Order matters: a catch-all first shadows everything after it. */
	struct route_config shadowed[2] = { { 0 }, { .path_prefix = "/api" } };
	cr_expect_eq(route_of(shadowed, 2, &v1), 0);
}

Test(router, host_exact_is_case_insensitive)
{
	cr_expect(host_hits("example.com", "example.com"));
	cr_expect(host_hits("example.com", "EXAMPLE.com"));
	cr_expect(host_hits("example.com", "Example.Com"));
	cr_expect_not(host_hits("example.com", "example.org"));
	cr_expect_not(host_hits("example.com", "www.example.com"));
	cr_expect_not(host_hits("example.com", "example.co"));
	cr_expect_not(host_hits("example.com", "example.com.evil"));
	cr_expect_not(host_hits("example.com", ""));
}

Test(router, host_port_is_ignored)
{
	cr_expect(host_hits("example.com", "example.com:8080"));
	cr_expect(host_hits("example.com", "Example.COM:80"));
	cr_expect(host_hits("example.com", "example.com:"));
	cr_expect_not(host_hits("example.com", "example.org:8080"));
}

Test(router, ipv6_literal_with_port)
{
	cr_expect(host_hits("[::1]", "[::1]"));
	cr_expect(host_hits("[::1]", "[::1]:8080"));
	cr_expect(host_hits("[2001:db8::a]", "[2001:DB8::A]:443"));
	cr_expect_not(host_hits("[::1]", "[::2]:8080"));
	cr_expect_not(host_hits("[::1]", "[::1"), "unterminated literal is not the literal");
}

Test(router, host_without_port_helper)
{
	struct slice s;

	s = router_host_without_port(SLICE_LIT("Example.com:8080"));
	cr_expect(slice_eq(s, SLICE_LIT("Example.com")));
	s = router_host_without_port(SLICE_LIT("[::1]:80"));
	cr_expect(slice_eq(s, SLICE_LIT("[::1]")));
	s = router_host_without_port(SLICE_LIT("[::1]"));
	cr_expect(slice_eq(s, SLICE_LIT("[::1]")));
	s = router_host_without_port(SLICE_LIT("plain"));
	cr_expect(slice_eq(s, SLICE_LIT("plain")));
	s = router_host_without_port(SLICE_LIT(""));
	cr_expect_eq(s.len, 0);
}

Test(router, wildcard_matches_subdomains_at_any_depth)
{
	cr_expect(host_hits("*.example.com", "a.example.com"));
	cr_expect(host_hits("*.example.com", "a.b.example.com"));
	cr_expect(host_hits("*.example.com", "A.Example.COM"));
	cr_expect(host_hits("*.example.com", "a.example.com:8443"));
}

Test(router, wildcard_does_not_match_the_apex_or_lookalikes)
{
	cr_expect_not(host_hits("*.example.com", "example.com"));
	cr_expect_not(host_hits("*.example.com", "example.com:80"));
	cr_expect_not(host_hits("*.example.com", ".example.com"));
	cr_expect_not(host_hits("*.example.com", "badexample.com"));
	cr_expect_not(host_hits("*.example.com", "a.example.org"));
	cr_expect_not(host_hits("*.example.com", "a.example.com.evil"));
	cr_expect_not(host_hits("*.example.com", ""));
}

Test(router, path_prefix)
{
	struct route_config r = { .path_prefix = "/api/" };
	struct route_request hit = request("GET", "h", "/api/users");
	struct route_request exact = request("GET", "h", "/api/");
	struct route_request miss = request("GET", "h", "/ap");
	struct route_request other = request("GET", "h", "/web/api/");
	struct route_request upper = request("GET", "h", "/API/users");

	cr_expect_eq(match1(&r, &hit), 0);
	cr_expect_eq(match1(&r, &exact), 0);
	cr_expect_eq(match1(&r, &miss), -1);
	cr_expect_eq(match1(&r, &other), -1);
	cr_expect_eq(match1(&r, &upper), -1, "paths are case-sensitive");
}

Test(router, path_exact)
{
	struct route_config r = { .path_exact = "/health" };
	struct route_request hit = request("GET", "h", "/health");
	struct route_request longer = request("GET", "h", "/health/x");
	struct route_request shorter = request("GET", "h", "/healt");
	struct route_request slash = request("GET", "h", "/health/");

	cr_expect_eq(match1(&r, &hit), 0);
	cr_expect_eq(match1(&r, &longer), -1);
	cr_expect_eq(match1(&r, &shorter), -1);
	cr_expect_eq(match1(&r, &slash), -1);
}

Test(router, methods)
{
	char *methods[] = { "GET", "HEAD" };
	struct route_config r = { .methods = methods, .num_methods = 2 };
	struct route_request get = request("GET", "h", "/");
	struct route_request head = request("HEAD", "h", "/");
	struct route_request post = request("POST", "h", "/");
	struct route_request lower = request("get", "h", "/");
	struct route_request prefix = request("GE", "h", "/");

	cr_expect_eq(match1(&r, &get), 0);
	cr_expect_eq(match1(&r, &head), 0);
	cr_expect_eq(match1(&r, &post), -1);
	cr_expect_eq(match1(&r, &lower), -1, "methods are case-sensitive");
	cr_expect_eq(match1(&r, &prefix), -1);
}

Test(router, header_exact_value)
{
	struct header_pair want[] = { { .name = "X-Canary", .value = "1" } };
	struct route_config r = { .match_headers = want, .num_match_headers = 1 };
	struct route_request req = request("GET", "h", "/");

	cr_expect_eq(match1(&r, &req), -1, "header absent");
	add_header(&req, "Accept", "*/*");
	add_header(&req, "x-canary", "1");
	cr_expect_eq(match1(&r, &req), 0, "name matched case-insensitively");
	hdrs[1].value = SLICE_LIT("0");
	cr_expect_eq(match1(&r, &req), -1, "wrong value");
	hdrs[1].value = SLICE_LIT("11");
	cr_expect_eq(match1(&r, &req), -1, "value is exact, not a prefix");
	hdrs[1].value = SLICE_LIT("");
	cr_expect_eq(match1(&r, &req), -1, "empty value is not \"1\"");
}

Test(router, header_presence)
{
	struct header_pair want[] = { { .name = "Authorization", .value = "" } };
	struct route_config r = { .match_headers = want, .num_match_headers = 1 };
	struct route_request req = request("GET", "h", "/");

	add_header(&req, "Cookie", "a=b");
	cr_expect_eq(match1(&r, &req), -1);
	add_header(&req, "AUTHORIZATION", "Bearer x");
	cr_expect_eq(match1(&r, &req), 0);
	hdrs[1].value = SLICE_LIT("");
	cr_expect_eq(match1(&r, &req), 0, "present with an empty value still counts");
}

Test(router, all_headers_must_match)
{
	struct header_pair want[] = {
		{ .name = "X-A", .value = "1" },
		{ .name = "X-B", .value = "" },
	};
	struct route_config r = { .match_headers = want, .num_match_headers = 2 };
	struct route_request req = request("GET", "h", "/");

	add_header(&req, "X-A", "1");
	cr_expect_eq(match1(&r, &req), -1);
	add_header(&req, "X-B", "anything");
	cr_expect_eq(match1(&r, &req), 0);
}

Test(router, all_conditions_combine)
{
	char *methods[] = { "POST" };
	struct header_pair want[] = { { .name = "X-Env", .value = "prod" } };
	struct route_config routes[2] = {
		{ .host = "*.example.com", .path_prefix = "/api", .methods = methods,
		  .num_methods = 1, .match_headers = want, .num_match_headers = 1 },
		{ .host = "api.example.com" },
	};
	struct route_request req = request("POST", "Api.Example.com:443", "/api/x");

	add_header(&req, "X-Env", "prod");
	cr_expect_eq(route_of(routes, 2, &req), 0);
	req.method = SLICE_LIT("GET");
	cr_expect_eq(route_of(routes, 2, &req), 1, "falls through to the next route");
	req.method = SLICE_LIT("POST");
	req.path = SLICE_LIT("/web");
	cr_expect_eq(route_of(routes, 2, &req), 1);
	req.path = SLICE_LIT("/api/x");
	hdrs[0].value = SLICE_LIT("dev");
	cr_expect_eq(route_of(routes, 2, &req), 1);
	req.host = SLICE_LIT("www.example.com");
	cr_expect_eq(route_of(routes, 2, &req), -1);
}
