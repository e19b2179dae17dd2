/* Tests for route/normalize: the path routing sees. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "route/normalize.h"

static const char *norm(const char *in)
{
	static char out[256], text[256];
	struct slice r;
	int rc = normalize_path(slice_from_cstr(in), out, sizeof(out), &r);
	if (rc == -EINVAL)
		return "(refused)";
	cr_assert_eq(rc, 0);
	snprintf(text, sizeof(text), "%.*s", (int)r.len, r.ptr);
	return text;
}

Test(normalize, cases)
{
	static const char *const cases[][2] = {
		{ "/", "/" },
		{ "/a/b", "/a/b" },
		{ "/a/./b", "/a/b" },
		{ "/a//b", "/a/b" },
		{ "//a///b//", "/a/b/" },
		{ "/a/b/../c", "/a/c" },
		{ "/a/b/..", "/a/" },
		{ "/a/.", "/a/" },
		{ "/a/..", "/" },
		{ "/..a/...", "/..a/..." },
		{ "/%61pi/x", "/api/x" },
		{ "/%7Euser/%2D%2e%5F", "/~user/-._" },
		{ "/a%2Fb", "/a%2Fb" },          /* "/" stays encoded */
		{ "/a%20b%zz%4", "/a%20b%zz%4" }, /* others and broken escapes kept */
		{ "/a/%2e/b", "/a/b" },
		{ "/a/%2e%2E/b", "/b" },
		{ "/..", "(refused)" },
		{ "/../etc", "(refused)" },
		{ "/a/../../etc", "(refused)" },
		{ "/%2e%2e/etc", "(refused)" },
		{ "/a/%2E%2E/%2e%2e/x", "(refused)" },
		{ "/./../x", "(refused)" },
		{ "*", "*" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(norm(cases[i][0]), cases[i][1], "input %s", cases[i][0]);
}

Test(normalize, too_small_buffer)
{
	char out[2];
	struct slice r;
	cr_expect_eq(normalize_path(SLICE_LIT("/abc"), out, sizeof(out), &r), -ENOSPC);
}
