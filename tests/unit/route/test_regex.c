/* Tests for route/regex: the PCRE2 adapter. */
#include <criterion/criterion.h>
#include <string.h>

#include "route/regex.h"

Test(regex, captures)
{
	char err[128];
	size_t off;
	struct regex *re = regex_new("^/old/([a-z]+)(/(\\d+))?", err, sizeof(err), &off);
	struct slice cap[4];
	cr_assert_not_null(re);
	int n = regex_match(re, SLICE_LIT("/old/abc/42/x"), cap, 4);
	cr_assert_eq(n, 4);
	cr_expect(slice_eq(cap[0], SLICE_LIT("/old/abc/42")));
	cr_expect(slice_eq(cap[1], SLICE_LIT("abc")));
	cr_expect(slice_eq(cap[3], SLICE_LIT("42")));
	n = regex_match(re, SLICE_LIT("/old/abc"), cap, 4);
	cr_assert_eq(n, 2); /* trailing unset groups are not counted */
	cr_expect_eq(regex_match(re, SLICE_LIT("/new/abc"), NULL, 0), 0);
	cr_expect_eq(regex_match(re, SLICE_LIT("/old/q"), NULL, 0), 1);
	regex_free(re);
	regex_free(NULL);
}

Test(regex, subject_is_not_nul_terminated)
{
	char err[128];
	size_t off;
	struct regex *re = regex_new("^/a$", err, sizeof(err), &off);
	cr_assert_not_null(re);
	cr_expect_eq(regex_match(re, slice_make("/abc", 2), NULL, 0), 1);
	regex_free(re);
}

Test(regex, compile_error_has_message_and_offset)
{
	char err[128];
	size_t off = 99;
	cr_expect_null(regex_new("^/a[0-9", err, sizeof(err), &off));
	cr_expect_eq(off, 7);
	cr_expect(strstr(err, "missing terminating ]") != NULL, "%s", err);
}
