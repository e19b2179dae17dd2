/*
 * regex: PCRE2 behind one small interface — the only file that includes
 * pcre2.h (STYLE: one adapter per library).
 *
 * A pattern is compiled once per configuration load, with JIT when the
 * platform has it (the interpreter is used otherwise; results are the same).
 * Patterns are byte-oriented (no UTF mode) and unanchored: write "^" to
 * anchor. Matching allocates nothing: each thread owns one pcre2_match_data
 * with room for REGEX_MAX_CAPTURES pairs, created on the thread's first match
 * and freed when the thread exits (a pthread key destructor). A per-regex
 * match data was rejected because workers match the same regex at once.
 */
#ifndef PORTICO_ROUTE_REGEX_H
#define PORTICO_ROUTE_REGEX_H

#include <stddef.h>

#include "core/slice.h"

#define REGEX_MAX_CAPTURES 32 /* $0 (whole match) .. $31 */

struct regex;

/*
 * Compiles pattern (NUL-terminated). Returns an owned regex (free with
 * regex_free), or NULL with PCRE2's message in err[0..err_size) and the
 * offset in the pattern where it stopped in *err_offset. Main thread, at load.
 */
struct regex *regex_new(const char *pattern, char *err, size_t err_size, size_t *err_offset);

/* Frees re. NULL is a no-op. */
void regex_free(struct regex *re);

/*
 * Matches subject against re. On a match returns a positive number: the
 * capture slots filled (1 + the groups, at most max_captures and
 * REGEX_MAX_CAPTURES; 1 when max_captures is 0), and sets captures[i] to group i ($0 is the whole match; a group that did
 * not take part is SLICE_NULL); captures may be NULL when max_captures is 0.
 * Returns 0 when there is no match, a negative PCRE2 error code on failure
 * (e.g. the match limit). Slices point into subject. Any thread.
 */
int regex_match(const struct regex *re, struct slice subject, struct slice *captures,
		size_t max_captures);

#endif
