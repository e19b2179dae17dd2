/*
 * values: hand-written scanners for durations, sizes, rates, booleans and
 * integers. strtoull was rejected: it accepts leading spaces, signs and
 * "0x", and its overflow reporting through errno is easy to get wrong; a
 * digit loop with explicit overflow checks says exactly what it accepts.
 */
#include "config/values.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VALUE_QUOTE_MAX 60

static int value_fail(char *err, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int value_fail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

const char *value_quote(const char *text, char *buf, size_t size)
{
	size_t o = 0, i;

	if (size < 8) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (i = 0; text[i] && o + 6 < size && i < VALUE_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (text[i] && o + 5 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* Reads decimal digits at *p; 0 with *out set, -ERANGE on overflow, -EINVAL if none. */
static int value_digits(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	int rc = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			rc = -ERANGE;
		else
			v = v * 10 + d;
	}
	*p = s;
	*out = v;
	return rc;
}

static bool value_all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

static const struct {
	const char *name;
	uint64_t ms;
} value_units[] = {
	{ "d", 86400000 }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
};

static int value_duration_unit(const char **p, size_t *index)
{
	const char *s = *p;
	size_t n = 0;

	while (s[n] >= 'a' && s[n] <= 'z')
		n++;
	for (size_t i = 0; i < sizeof(value_units) / sizeof(value_units[0]); i++) {
		if (strlen(value_units[i].name) == n && memcmp(value_units[i].name, s, n) == 0) {
			*index = i;
			*p = s + n;
			return 0;
		}
	}
	return -EINVAL;
}

int value_duration(const char *text, uint64_t *ms, char *err, size_t size)
{
	char q[VALUE_QUOTE_MAX + 8];
	const char *p = text;
	uint64_t total = 0;
	size_t next_unit = 0;
	bool overflow = false;

	value_quote(text, q, sizeof(q));
	if (strcmp(text, "0") == 0) {
		*ms = 0;
		return 0;
	}
	if (!*text)
		return value_fail(err, size, "expected a duration like 10s, got %s", q);
	if (value_all_digits(text))
		return value_fail(err, size, "expected a duration like 10s, got %s (add a unit: ms, s, m, h or d)", q);
	while (*p) {
		uint64_t n;
		size_t unit;
		int rc = value_digits(&p, &n);

		if (rc == -EINVAL)
			return value_fail(err, size, "expected a duration like 10s, got %s", q);
		overflow |= rc == -ERANGE;
		if (value_duration_unit(&p, &unit) < 0)
			return value_fail(err, size,
					  "expected a duration like 10s, got %s (units are ms, s, m, h and d)", q);
		if (unit < next_unit)
			return value_fail(err, size,
					  "expected a duration like 10s, got %s (largest unit first, each once, like 1m30s)",
					  q);
		next_unit = unit + 1;
		if (n > UINT64_MAX / value_units[unit].ms || total > UINT64_MAX - n * value_units[unit].ms)
			overflow = true;
		else
			total += n * value_units[unit].ms;
	}
	if (overflow)
		return value_fail(err, size, "duration %s is too large", q);
	*ms = total;
	return 0;
}

int value_size(const char *text, uint64_t *bytes, char *err, size_t size)
{
	char q[VALUE_QUOTE_MAX + 8];
	const char *p = text;
	unsigned shift = 0;
	uint64_t n;
	int rc;

	value_quote(text, q, sizeof(q));
	rc = value_digits(&p, &n);
	if (rc == -EINVAL)
		return value_fail(err, size, "expected a size like 512k or 10m, got %s", q);
	switch (*p) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	default:
		return value_fail(err, size, "expected a size like 512k or 10m, got %s (units are k, m and g)", q);
	}
	if (*p)
		return value_fail(err, size,
				  "expected a size like 512k or 10m, got %s (units are k, m and g, powers of 1024)", q);
	if (rc == -ERANGE || n > (UINT64_MAX >> shift))
		return value_fail(err, size, "size %s is too large", q);
	*bytes = n << shift;
	return 0;
}

int value_rate(const char *text, struct value_rate *out, char *err, size_t size)
{
	char q[VALUE_QUOTE_MAX + 8];
	const char *p = text;
	uint64_t n;
	int rc;

	value_quote(text, q, sizeof(q));
	rc = value_digits(&p, &n);
	if (rc == -EINVAL || *p != '/')
		return value_fail(err, size, "expected a rate like 100/s or 600/m, got %s", q);
	if (rc == -ERANGE)
		return value_fail(err, size, "rate %s is too large", q);
	if (strcmp(p, "/s") == 0)
		out->period_ms = 1000;
	else if (strcmp(p, "/m") == 0)
		out->period_ms = 60000;
	else if (strcmp(p, "/h") == 0)
		out->period_ms = 3600000;
	else
		return value_fail(err, size, "expected a rate like 100/s or 600/m, got %s (per s, m or h)", q);
	if (n == 0)
		return value_fail(err, size, "a rate must allow at least 1 request, got %s", q);
	out->count = n;
	return 0;
}

int value_bool(const char *text, bool *out, char *err, size_t size)
{
	char q[VALUE_QUOTE_MAX + 8];

	if (!strcmp(text, "true") || !strcmp(text, "True") || !strcmp(text, "TRUE")) {
		*out = true;
		return 0;
	}
	if (!strcmp(text, "false") || !strcmp(text, "False") || !strcmp(text, "FALSE")) {
		*out = false;
		return 0;
	}
	return value_fail(err, size, "expected true or false, got %s", value_quote(text, q, sizeof(q)));
}

static int value_range_fail(const char *shown, uint64_t min, uint64_t max, char *err, size_t size)
{
	if (max == UINT64_MAX)
		return value_fail(err, size, "expected an integer of at least %" PRIu64 ", got %s", min, shown);
	return value_fail(err, size, "expected an integer between %" PRIu64 " and %" PRIu64 ", got %s", min,
			  max, shown);
}

int value_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t size)
{
	char q[VALUE_QUOTE_MAX + 8];
	const char *p = text;
	uint64_t n;
	int rc;

	value_quote(text, q, sizeof(q));
	if (text[0] == '-' && value_all_digits(text + 1))
		return value_range_fail(text, min, max, err, size);
	rc = value_digits(&p, &n);
	if (rc == -EINVAL || *p)
		return value_fail(err, size, "expected an integer, got %s", q);
	if (rc == -ERANGE || n < min || n > max)
		return value_range_fail(rc == -ERANGE ? q : text, min, max, err, size);
	*out = n;
	return 0;
}

size_t value_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t prev[65], cur[65];

	if (la > 64 || lb > 64)
		return la > lb ? la : lb;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			char ca = a[i - 1], cb = b[j - 1];
			if (ca >= 'A' && ca <= 'Z')
				ca = (char)(ca - 'A' + 'a');
			if (cb >= 'A' && cb <= 'Z')
				cb = (char)(cb - 'A' + 'a');
			size_t best = prev[j - 1] + (ca != cb);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

const char *value_closest(const char *word, const char *const *candidates, size_t n)
{
	size_t len = strlen(word);
	size_t limit = 1 + len / 3;
	const char *best = NULL;
	size_t best_d = (size_t)-1;

	for (size_t i = 0; i < n; i++) {
		size_t d = value_edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (!best || best_d > limit || best_d >= len)
		return NULL;
	return best;
}
