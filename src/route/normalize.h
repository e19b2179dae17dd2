/*
 * normalize: the request path as routing sees it (docs/config.md,
 * "Path normalisation").
 *
 * Percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded,
 * every other escape is kept as written; runs of "/" become one; "." and
 * ".." segments are resolved. A path whose ".." would climb above the root
 * ("/../x", "/a/%2e%2e/%2E%2E/x") is refused, and the exchange answers 400.
 * Only routing uses the result: the request target forwarded upstream keeps
 * its original bytes. Rejected: decoding "%2F" (it would turn one segment
 * into two) and case-folding kept escapes (a prefix written "%2f" in the
 * file would stop matching).
 */
#ifndef PORTICO_ROUTE_NORMALIZE_H
#define PORTICO_ROUTE_NORMALIZE_H

#include <stddef.h>

#include "core/slice.h"

/*
 * Normalises path into out[0..cap) and points *result at it. A path that
 * does not start with "/" (e.g. "*" of OPTIONS) is returned unchanged
 * (*result = path). The result is never longer than path, so cap >=
 * path.len always suffices. Returns 0, -EINVAL when the path escapes the
 * root, -ENOSPC when cap is too small. No allocation; any thread.
 */
int normalize_path(struct slice path, char *out, size_t cap, struct slice *result);

#endif
