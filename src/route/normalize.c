#include "route/normalize.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Copies path to out, decoding escapes of unreserved characters; returns the length. */
static size_t decode_unreserved(struct slice path, char *out)
{
	size_t w = 0;

	for (size_t i = 0; i < path.len; i++) {
		if (path.ptr[i] == '%' && i + 2 < path.len) {
			int hi = hex_value(path.ptr[i + 1]), lo = hex_value(path.ptr[i + 2]);
			if (hi >= 0 && lo >= 0 && unreserved(hi * 16 + lo)) {
				out[w++] = (char)(hi * 16 + lo);
				i += 2;
				continue;
			}
		}
		out[w++] = path.ptr[i];
	}
	return w;
}

/*
 * Resolves empty, "." and ".." segments of p[0..len) in place (p[0] is
 * "/"); the write position never passes the read position. Returns the new
 * length, or 0 when ".." climbs above the root.
 */
static size_t resolve_segments(char *p, size_t len)
{
	size_t w = 1, i = 1;

	while (i <= len) {
		const char *slash = i < len ? memchr(p + i, '/', len - i) : NULL;
		size_t end = slash ? (size_t)(slash - p) : len;
		size_t seg = end - i;
		bool more = end < len;

		if (seg == 0 || (seg == 1 && p[i] == '.')) {
			/* "//" or "/./": nothing to write; "/a/." keeps its "/" */
		} else if (seg == 2 && p[i] == '.' && p[i + 1] == '.') {
			if (w == 1)
				return 0;
			w--; /* drop the "/" ending the last segment, then the segment */
			while (p[w - 1] != '/')
				w--;
		} else {
			memmove(p + w, p + i, seg);
			w += seg;
			if (more)
				p[w++] = '/';
		}
		i = end + 1;
	}
	return w;
}

int normalize_path(struct slice path, char *out, size_t cap, struct slice *result)
{
	if (path.len == 0 || path.ptr[0] != '/') {
		*result = path;
		return 0;
	}
	if (cap < path.len)
		return -ENOSPC;
	size_t len = resolve_segments(out, decode_unreserved(path, out));
	if (len == 0)
		return -EINVAL;
	*result = slice_make(out, len);
	return 0;
}
