#include "route/route_shadow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static bool host_covers(const char *m, const char *n)
{
	if (!m)
		return true;
	if (!n)
		return false;
	if (strcmp(m, n) == 0)
		return true;
	if (m[0] != '*' || m[1] != '.')
		return false;
	/* "*.x" covers "a.x" (some byte before ".x") and "*.y.x" */
	const char *name = n[0] == '*' && n[1] == '.' ? n + 1 : n;
	return strlen(name) > strlen(m + 1) && ends_with(name, m + 1);
}

static bool path_covers(const struct route_config *m, const struct route_config *n)
{
	if (m->path_prefix) {
		const char *p = n->path_prefix ? n->path_prefix : n->path_exact;
		return p && strncmp(p, m->path_prefix, strlen(m->path_prefix)) == 0;
	}
	if (m->path_exact)
		return n->path_exact && strcmp(m->path_exact, n->path_exact) == 0;
	if (m->path_regex)
		return n->path_regex && strcmp(m->path_regex, n->path_regex) == 0;
	return true;
}

static bool covers(const struct route_config *m, const struct route_config *n)
{
	return m->num_methods == 0 && m->num_match_headers == 0 && host_covers(m->host, n->host) &&
	       path_covers(m, n);
}

struct route_shadow *route_find_shadowed(const struct route_config *routes, size_t n,
					 size_t *count)
{
	struct route_shadow *out = NULL;
	size_t num = 0;

	*count = 0;
	for (size_t j = 1; j < n; j++) {
		for (size_t i = 0; i < j; i++) {
			if (!covers(&routes[i], &routes[j]))
				continue;
			if (!out && !(out = malloc(n * sizeof(*out))))
				return NULL;
			out[num++] = (struct route_shadow){ .route = j, .by = i };
			break;
		}
	}
	*count = num;
	return out;
}
