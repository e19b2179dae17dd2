/*
 * values: the scalar formats of PRODUCT.md §1, parsed with precise messages.
 *
 * Every parser takes the text as written, returns 0 or -EINVAL, and on error
 * writes a one-line message (no position; the caller adds FILE:LINE:COLUMN)
 * into err[0..size), for example `expected a duration like 10s, got "ten"`.
 * Nothing here allocates.
 *
 * Formats:
 *   duration  one or more INTEGER UNIT groups, units d h m s ms, largest
 *             first, each at most once ("250ms", "10s", "1m30s"); "0" alone
 *             is accepted; the result is in milliseconds; overflow refused.
 *   size      INTEGER with an optional k, m or g (either case, powers of
 *             1024); the result is in bytes; overflow refused.
 *   rate      INTEGER/UNIT with UNIT s, m or h ("100/s", "600/m"); INTEGER >= 1.
 *   bool      true or false (also True/TRUE/False/FALSE); yes/no/on/off refused.
 *   integer   decimal digits only, checked against [min, max].
 */
#ifndef PORTICO_CONFIG_VALUES_H
#define PORTICO_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct value_rate {
	uint64_t count;     /* requests... */
	uint64_t period_ms; /* ...per this many milliseconds: 1000, 60000 or 3600000 */
};

int value_duration(const char *text, uint64_t *ms, char *err, size_t size);
int value_size(const char *text, uint64_t *bytes, char *err, size_t size);
int value_rate(const char *text, struct value_rate *out, char *err, size_t size);
int value_bool(const char *text, bool *out, char *err, size_t size);
int value_uint(const char *text, uint64_t min, uint64_t max, uint64_t *out, char *err, size_t size);

/*
 * Writes text in double quotes into buf, escaping quotes, backslashes and
 * control characters and shortening it past 60 bytes with "...". Returns buf.
 */
const char *value_quote(const char *text, char *buf, size_t size);

/* Levenshtein distance over ASCII-lower-cased bytes (for "did you mean"). */
size_t value_edit_distance(const char *a, const char *b);

/*
 * The candidate closest to word, if close enough to be a likely typo
 * (distance at most 1 + strlen(word) / 3 and less than the word's length),
 * else NULL. Ties go to the earlier candidate.
 */
const char *value_closest(const char *word, const char *const *candidates, size_t n);

#endif
