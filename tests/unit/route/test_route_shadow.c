/* Tests for route/route_shadow: -t warnings for routes that can never match. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "route/route_shadow.h"

static size_t shadowed(const struct route_config *r, size_t n, size_t *route, size_t *by)
{
	size_t count;
	struct route_shadow *s = route_find_shadowed(r, n, &count);
	if (count) {
		*route = s[0].route;
		*by = s[0].by;
	}
	free(s);
	return count;
}

Test(route_shadow, detected)
{
	static char *get[] = { "GET" };
	size_t route = 0, by = 0;
	struct route_config a[] = { { .path_prefix = "/api/" }, { .host = "x.test", .path_prefix = "/api/v1" } };
	cr_expect_eq(shadowed(a, 2, &route, &by), 1);
	cr_expect_eq(route, 1);
	cr_expect_eq(by, 0);
	struct route_config b[] = { { .host = "*.test" }, { .host = "*.a.test", .path_exact = "/x" } };
	cr_expect_eq(shadowed(b, 2, &route, &by), 1);
	struct route_config c[] = { { 0 }, { .path_regex = "^/x", .methods = get, .num_methods = 1 } };
	cr_expect_eq(shadowed(c, 2, &route, &by), 1);
	struct route_config d[] = { { .path_exact = "/x" }, { .path_exact = "/x", .host = "h" } };
	cr_expect_eq(shadowed(d, 2, &route, &by), 1);
}

Test(route_shadow, not_detected)
{
	static char *get[] = { "GET" };
	static struct header_pair h[] = { { "X", "1" } };
	size_t route, by;
	struct route_config a[] = { { .path_prefix = "/api/v1" }, { .path_prefix = "/api/" } };
	cr_expect_eq(shadowed(a, 2, &route, &by), 0);
	struct route_config b[] = { { .path_prefix = "/", .methods = get, .num_methods = 1 }, { 0 } };
	cr_expect_eq(shadowed(b, 2, &route, &by), 0);
	struct route_config c[] = { { .match_headers = h, .num_match_headers = 1 }, { 0 } };
	cr_expect_eq(shadowed(c, 2, &route, &by), 0);
	struct route_config d[] = { { .host = "*.test" }, { .host = "test" } };
	cr_expect_eq(shadowed(d, 2, &route, &by), 0);
	struct route_config e[] = { { .host = "a.test" }, { .host = "*.a.test" } };
	cr_expect_eq(shadowed(e, 2, &route, &by), 0);
	struct route_config f[] = { { .path_regex = "^/a" }, { .path_prefix = "/a" } };
	cr_expect_eq(shadowed(f, 2, &route, &by), 0);
	struct route_config g[] = { { .path_prefix = "/a" } };
	cr_expect_eq(shadowed(g, 1, &route, &by), 0);
}
