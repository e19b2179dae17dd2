#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "config/values.h"

static uint64_t dur(const char *text)
{
	char err[256] = "";
	uint64_t ms = 12345;

	cr_assert_eq(value_duration(text, &ms, err, sizeof(err)), 0, "%s: %s", text, err);
	return ms;
}

static void dur_err(const char *text, const char *want)
{
	char err[256] = "";
	uint64_t ms = 7;

	cr_expect_eq(value_duration(text, &ms, err, sizeof(err)), -EINVAL, "%s accepted", text);
	cr_expect_str_eq(err, want);
	cr_expect_eq(ms, 7, "output written on error");
}

Test(values, durations)
{
	cr_expect_eq(dur("250ms"), 250);
	cr_expect_eq(dur("10s"), 10000);
	cr_expect_eq(dur("1m30s"), 90000);
	cr_expect_eq(dur("2h"), 7200000);
	cr_expect_eq(dur("1d"), 86400000);
	cr_expect_eq(dur("1d2h3m4s5ms"), 86400000 + 7200000 + 180000 + 4000 + 5);
	cr_expect_eq(dur("0"), 0);
	cr_expect_eq(dur("0s"), 0);
	cr_expect_eq(dur("90s"), 90000);
}

Test(values, duration_errors)
{
	dur_err("ten", "expected a duration like 10s, got \"ten\"");
	dur_err("10", "expected a duration like 10s, got \"10\" (add a unit: ms, s, m, h or d)");
	dur_err("10x", "expected a duration like 10s, got \"10x\" (units are ms, s, m, h and d)");
	dur_err("10S", "expected a duration like 10s, got \"10S\" (units are ms, s, m, h and d)");
	dur_err("30s1m", "expected a duration like 10s, got \"30s1m\" (largest unit first, each once, like 1m30s)");
	dur_err("1s1s", "expected a duration like 10s, got \"1s1s\" (largest unit first, each once, like 1m30s)");
	dur_err("", "expected a duration like 10s, got \"\"");
	dur_err("-1s", "expected a duration like 10s, got \"-1s\"");
	dur_err(" 1s", "expected a duration like 10s, got \" 1s\"");
	dur_err("1.5s", "expected a duration like 10s, got \"1.5s\" (units are ms, s, m, h and d)");
	dur_err("1s ", "expected a duration like 10s, got \"1s \"");
}

Test(values, duration_overflow_is_refused)
{
	dur_err("300000000000d", "duration \"300000000000d\" is too large");
	dur_err("99999999999999999999ms", "duration \"99999999999999999999ms\" is too large");
	dur_err("213503982d18446744073709551615ms", "duration \"213503982d18446744073709551615ms\" is too large");
	cr_expect_eq(dur("18446744073709551615ms"), UINT64_MAX);
}

static uint64_t size(const char *text)
{
	char err[256] = "";
	uint64_t b = 0;

	cr_assert_eq(value_size(text, &b, err, sizeof(err)), 0, "%s: %s", text, err);
	return b;
}

static void size_err(const char *text, const char *want)
{
	char err[256] = "";
	uint64_t b;

	cr_expect_eq(value_size(text, &b, err, sizeof(err)), -EINVAL, "%s accepted", text);
	cr_expect_str_eq(err, want);
}

Test(values, sizes)
{
	cr_expect_eq(size("0"), 0);
	cr_expect_eq(size("1024"), 1024);
	cr_expect_eq(size("16k"), 16384);
	cr_expect_eq(size("16K"), 16384);
	cr_expect_eq(size("10m"), 10u << 20);
	cr_expect_eq(size("10M"), 10u << 20);
	cr_expect_eq(size("1g"), 1u << 30);
	cr_expect_eq(size("2G"), 2ull << 30);
	size_err("16kb", "expected a size like 512k or 10m, got \"16kb\" (units are k, m and g, powers of 1024)");
	size_err("16t", "expected a size like 512k or 10m, got \"16t\" (units are k, m and g)");
	size_err("k", "expected a size like 512k or 10m, got \"k\"");
	size_err("", "expected a size like 512k or 10m, got \"\"");
	size_err("-1k", "expected a size like 512k or 10m, got \"-1k\"");
	size_err("1.5m", "expected a size like 512k or 10m, got \"1.5m\" (units are k, m and g)");
	size_err("17179869184g", "size \"17179869184g\" is too large");
	size_err("99999999999999999999", "size \"99999999999999999999\" is too large");
}

Test(values, rates)
{
	struct value_rate r;
	char err[256] = "";

	cr_assert_eq(value_rate("100/s", &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(r.count, 100);
	cr_expect_eq(r.period_ms, 1000);
	cr_assert_eq(value_rate("600/m", &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(r.count, 600);
	cr_expect_eq(r.period_ms, 60000);
	cr_assert_eq(value_rate("5/h", &r, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(r.period_ms, 3600000);

	cr_expect_eq(value_rate("100", &r, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected a rate like 100/s or 600/m, got \"100\"");
	cr_expect_eq(value_rate("100/d", &r, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected a rate like 100/s or 600/m, got \"100/d\" (per s, m or h)");
	cr_expect_eq(value_rate("0/s", &r, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "a rate must allow at least 1 request, got \"0/s\"");
	cr_expect_eq(value_rate("/s", &r, err, sizeof(err)), -EINVAL);
	cr_expect_eq(value_rate("10/sec", &r, err, sizeof(err)), -EINVAL);
}

Test(values, booleans)
{
	bool b = false;
	char err[256] = "";

	cr_expect_eq(value_bool("true", &b, err, sizeof(err)), 0);
	cr_expect(b);
	cr_expect_eq(value_bool("false", &b, err, sizeof(err)), 0);
	cr_expect_not(b);
	cr_expect_eq(value_bool("TRUE", &b, err, sizeof(err)), 0);
	cr_expect(b);
	static const char *const bad[] = { "yes", "no", "on", "off", "1", "0", "", "tru" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(value_bool(bad[i], &b, err, sizeof(err)), -EINVAL, "%s", bad[i]);
	value_bool("yes", &b, err, sizeof(err));
	cr_expect_str_eq(err, "expected true or false, got \"yes\"");
}

Test(values, integers_with_ranges)
{
	uint64_t v = 0;
	char err[256] = "";

	cr_expect_eq(value_uint("42", 0, 100, &v, err, sizeof(err)), 0);
	cr_expect_eq(v, 42);
	cr_expect_eq(value_uint("18446744073709551615", 0, UINT64_MAX, &v, err, sizeof(err)), 0);
	cr_expect_eq(v, UINT64_MAX);

	cr_expect_eq(value_uint("0", 1, 65535, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer between 1 and 65535, got 0");
	cr_expect_eq(value_uint("-1", 1, 65535, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer between 1 and 65535, got -1");
	cr_expect_eq(value_uint("0", 1, UINT64_MAX, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer of at least 1, got 0");
	cr_expect_eq(value_uint("12abc", 0, 10, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer, got \"12abc\"");
	cr_expect_eq(value_uint("", 0, 10, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer, got \"\"");
	cr_expect_eq(value_uint("+1", 0, 10, &v, err, sizeof(err)), -EINVAL);
	cr_expect_eq(value_uint("0x10", 0, 100, &v, err, sizeof(err)), -EINVAL);
	cr_expect_eq(value_uint("99999999999999999999", 0, 100, &v, err, sizeof(err)), -EINVAL);
	cr_expect_str_eq(err, "expected an integer between 0 and 100, got \"99999999999999999999\"");
	cr_expect_eq(v, UINT64_MAX, "output written on error");
}

Test(values, errors_fit_small_buffers)
{
	char err[16];
	uint64_t v;

	cr_expect_eq(value_duration("a-very-long-wrong-value", &v, err, sizeof(err)), -EINVAL);
	cr_expect_eq(strlen(err), sizeof(err) - 1);
	cr_expect_eq(value_duration("bad", &v, NULL, 0), -EINVAL);
}

Test(values, quote_escapes_and_shortens)
{
	char buf[128];
	char long_text[100];

	cr_expect_str_eq(value_quote("a\"b\\c\n", buf, sizeof(buf)), "\"a\\\"b\\\\c\\x0a\"");
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	value_quote(long_text, buf, sizeof(buf));
	cr_expect_eq(strlen(buf), 60 + 3 + 2);
	cr_expect(strstr(buf, "...\"") != NULL);
}

Test(values, did_you_mean)
{
	static const char *const keys[] = { "workers", "listeners", "upstreams", "routes", "limits" };

	cr_expect_eq(value_edit_distance("listner", "listeners"), 2);
	cr_expect_eq(value_edit_distance("", "abc"), 3);
	cr_expect_eq(value_edit_distance("ROUTES", "routes"), 0);
	cr_expect_str_eq(value_closest("listner", keys, 5), "listeners");
	cr_expect_str_eq(value_closest("upstream", keys, 5), "upstreams");
	cr_expect_str_eq(value_closest("Routes", keys, 5), "routes");
	cr_expect_str_eq(value_closest("limit", keys, 5), "limits");
	cr_expect_null(value_closest("cache", keys, 5));
	cr_expect_null(value_closest("x", keys, 5));
	cr_expect_null(value_closest("anything", keys, 0));
}
