/*
 * slice: a borrowed, length-delimited view of bytes.
 *
 * The data path never copies header names, values or targets: parsers hand
 * out slices into the receive buffer (as picohttpparser's phr_header does)
 * and whoever holds a slice must not outlive the buffer it points into.
 * NUL-terminated strings appear only at the edges (config, logs).
 */
#ifndef PORTICO_CORE_SLICE_H
#define PORTICO_CORE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct slice {
	const char *ptr; /* borrowed */
	size_t len;
};

#define SLICE_LIT(s) ((struct slice){ (s), sizeof(s) - 1 })
#define SLICE_NULL ((struct slice){ NULL, 0 })

static inline struct slice slice_make(const char *ptr, size_t len)
{
	return (struct slice){ ptr, len };
}

static inline struct slice slice_from_cstr(const char *s)
{
	return (struct slice){ s, s ? strlen(s) : 0 };
}

static inline bool slice_eq(struct slice a, struct slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline char slice_ascii_lower(char c)
{
	/* NOLINTNEXTLINE(bugprone-narrowing-conversions): ?: promotes to int; the value is a char */
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* Case-insensitive ASCII comparison, as header names and tokens need. */
static inline bool slice_ieq(struct slice a, struct slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (slice_ascii_lower(a.ptr[i]) != slice_ascii_lower(b.ptr[i]))
			return false;
	return true;
}

static inline bool slice_ieq_cstr(struct slice a, const char *b)
{
	return slice_ieq(a, slice_from_cstr(b));
}

static inline bool slice_starts_with(struct slice s, struct slice prefix)
{
	return s.len >= prefix.len && memcmp(s.ptr, prefix.ptr, prefix.len) == 0;
}

static inline bool slice_starts_with_ci(struct slice s, struct slice prefix)
{
	return s.len >= prefix.len && slice_ieq(slice_make(s.ptr, prefix.len), prefix);
}

/* Removes leading and trailing spaces and tabs (HTTP's OWS). */
static inline struct slice slice_trim(struct slice s)
{
	while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
		s.ptr++;
		s.len--;
	}
	while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
		s.len--;
	return s;
}

#endif
