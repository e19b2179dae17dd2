/*
 * config_schema: the table-driven walk over YAML mappings, error recording,
 * and the handlers shared by every section (durations, sizes, integers,
 * booleans, strings, paths, addresses, not-yet-supported keys).
 *
 * Errors are collected with their position and sorted when loading ends, so
 * the order of the walk (which follows the schema tables, not the file) never
 * shows. Allocation failure aborts: the loader runs at startup or reload on
 * the main thread, where there is nothing sensible to fall back to (as H2O's
 * h2o_mem_alloc and Redis's zmalloc do).
 */
#include "config/config_schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/values.h"
#include "core/bug.h"
#include "net/addr.h"

#define CFG_MSG 256

void *cfg_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	BUG_ON(!p);
	return p;
}

char *cfg_strdup(const char *s)
{
	char *p = strdup(s);

	BUG_ON(!p);
	return p;
}

bool cfg_is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", ch)))
			return false;
	}
	return true;
}

bool cfg_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

void cfg_free_strings(char **strings, size_t n)
{
	for (size_t i = 0; i < n && strings; i++)
		free(strings[i]);
	free(strings);
}

void cfg_error(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
{
	struct cfg_error_rec *rec;
	char *body, *full;
	va_list ap;
	int line = at ? at->line : 1, column = at ? at->column : 1;

	va_start(ap, fmt);
	BUG_ON(vasprintf(&body, fmt, ap) < 0);
	va_end(ap);
	BUG_ON(asprintf(&full, "%s:%d:%d: %s", c->file, line, column, body) < 0);
	free(body);
	if (c->num_errors == c->cap_errors) {
		c->cap_errors = c->cap_errors ? c->cap_errors * 2 : 8;
		c->errors = realloc(c->errors, c->cap_errors * sizeof(*c->errors));
		BUG_ON(!c->errors);
	}
	rec = &c->errors[c->num_errors];
	*rec = (struct cfg_error_rec){ line, column, c->num_errors, full };
	c->num_errors++;
}

const char *cfg_scalar(struct cfg_ctx *c, const struct ynode *v, const char *expected)
{
	if (v->kind == YNODE_SCALAR && !ynode_is_null(v))
		return v->text;
	cfg_error(c, v, "expected %s, got %s", expected, ynode_describe(v));
	return NULL;
}

int cfg_choice(struct cfg_ctx *c, const struct ynode *v, const char *const *names, size_t n,
	       const char *expected)
{
	const char *s = cfg_scalar(c, v, expected);
	char q[128];

	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	const char *hint = value_closest(s, names, n);
	value_quote(s, q, sizeof(q));
	if (hint)
		cfg_error(c, v, "expected %s, got %s (did you mean \"%s\"?)", expected, q, hint);
	else
		cfg_error(c, v, "expected %s, got %s", expected, q);
	return -1;
}

bool cfg_is_list(struct cfg_ctx *c, const struct ynode *v, const char *expected)
{
	if (v->kind == YNODE_SEQUENCE || ynode_is_null(v))
		return true;
	cfg_error(c, v, "expected %s, got %s", expected, ynode_describe(v));
	return false;
}

bool cfg_is_map(struct cfg_ctx *c, const struct ynode *v, const char *expected)
{
	if (v->kind == YNODE_MAPPING || ynode_is_null(v))
		return true;
	cfg_error(c, v, "expected %s, got %s", expected, ynode_describe(v));
	return false;
}

bool cfg_key_repeated(struct cfg_ctx *c, const struct ynode *map, size_t i, bool icase)
{
	const struct ynode *key = map->pairs[i].key;

	if (key->kind != YNODE_SCALAR)
		return false;
	for (size_t j = 0; j < i; j++) {
		const struct ynode *prev = map->pairs[j].key;
		if (prev->kind != YNODE_SCALAR)
			continue;
		if (icase ? strcasecmp(prev->text, key->text) == 0 : strcmp(prev->text, key->text) == 0) {
			char q[CFG_MSG];
			cfg_error(c, key, "duplicate key %s (first set at line %d)",
				  value_quote(key->text, q, sizeof(q)), prev->line);
			return true;
		}
	}
	return false;
}

static void cfg_unknown_key(struct cfg_ctx *c, const struct ynode *key, const struct cfg_key *keys,
			    size_t n)
{
	const char *names[CFG_MAX_KEYS];
	const char *hint;
	char q[CFG_MSG];

	for (size_t i = 0; i < n; i++)
		names[i] = keys[i].name;
	hint = value_closest(key->text, names, n);
	value_quote(key->text, q, sizeof(q));
	if (hint)
		cfg_error(c, key, "unknown key %s (did you mean \"%s\"?)", q, hint);
	else
		cfg_error(c, key, "unknown key %s", q);
}

void cfg_walk(struct cfg_ctx *c, const struct ynode *map, const struct cfg_key *keys, size_t n,
	      void *obj, const char *what)
{
	const struct ynode *found_key[CFG_MAX_KEYS] = { 0 };
	const struct ynode *found_value[CFG_MAX_KEYS] = { 0 };
	const char *sep = what ? ": " : "";

	BUG_ON(n > CFG_MAX_KEYS);
	what = what ? what : "";
	if (map->kind != YNODE_MAPPING && !ynode_is_null(map)) {
		cfg_error(c, map, "%s%sexpected a mapping (key: value lines), got %s", what, sep,
			  ynode_describe(map));
		return;
	}
	for (size_t p = 0; p < map->num_pairs; p++) {
		const struct ynode *key = map->pairs[p].key;
		size_t i;

		if (key->kind != YNODE_SCALAR || ynode_is_null(key)) {
			cfg_error(c, key, "keys must be plain names, got %s", ynode_describe(key));
			continue;
		}
		for (i = 0; i < n && strcmp(keys[i].name, key->text) != 0; i++)
			;
		if (i == n) {
			cfg_unknown_key(c, key, keys, n);
		} else if (found_key[i]) {
			cfg_error(c, key, "duplicate key \"%s\" (first set at line %d)", keys[i].name,
				  found_key[i]->line);
		} else {
			found_key[i] = key;
			found_value[i] = map->pairs[p].value;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (found_key[i])
			keys[i].handler(c, &keys[i], found_key[i], found_value[i], obj);
		else if (keys[i].required)
			cfg_error(c, map, "%s%smissing required key \"%s\"", what, sep, keys[i].name);
	}
}

static void *cfg_field(void *obj, size_t offset)
{
	return (char *)obj + offset;
}

static void cfg_range_error(struct cfg_ctx *c, const struct ynode *v, const struct cfg_key *k,
			    const char *kind, const char *unit)
{
	if (k->max)
		cfg_error(c, v, "expected %s between %llu%s and %llu%s, got \"%s\"", kind,
			  (unsigned long long)k->min, unit, (unsigned long long)k->max, unit, v->text);
	else
		cfg_error(c, v, "expected %s of at least %llu%s, got \"%s\"", kind,
			  (unsigned long long)k->min, unit, v->text);
}

void cfg_h_duration(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		    const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "a duration like 10s");
	char err[CFG_MSG];
	uint64_t ms;

	if (!s)
		return;
	if (value_duration(s, &ms, err, sizeof(err)) < 0)
		cfg_error(c, value, "%s", err);
	else if (ms < k->min || (k->max && ms > k->max))
		cfg_range_error(c, value, k, "a duration", "ms");
	else
		*(uint64_t *)cfg_field(obj, k->offset) = ms;
}

void cfg_h_size(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "a size like 512k or 10m");
	char err[CFG_MSG];
	uint64_t bytes;

	if (!s)
		return;
	if (value_size(s, &bytes, err, sizeof(err)) < 0)
		cfg_error(c, value, "%s", err);
	else if (bytes < k->min || (k->max && bytes > k->max))
		cfg_range_error(c, value, k, "a size", " bytes");
	else
		*(uint64_t *)cfg_field(obj, k->offset) = bytes;
}

static bool cfg_uint(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *value,
		     uint64_t max, uint64_t *out)
{
	const char *s = cfg_scalar(c, value, "an integer");
	char err[CFG_MSG];

	if (!s)
		return false;
	if (value_uint(s, k->min, k->max ? k->max : max, out, err, sizeof(err)) < 0) {
		cfg_error(c, value, "%s", err);
		return false;
	}
	return true;
}

void cfg_h_u64(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
	       const struct ynode *value, void *obj)
{
	uint64_t v;

	if (cfg_uint(c, k, value, UINT64_MAX, &v))
		*(uint64_t *)cfg_field(obj, k->offset) = v;
}

void cfg_h_u32(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
	       const struct ynode *value, void *obj)
{
	uint64_t v;

	if (cfg_uint(c, k, value, UINT32_MAX, &v))
		*(uint32_t *)cfg_field(obj, k->offset) = (uint32_t)v;
}

void cfg_h_bool(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "true or false");
	char err[CFG_MSG];
	bool b;

	if (!s)
		return;
	if (value_bool(s, &b, err, sizeof(err)) < 0)
		cfg_error(c, value, "%s", err);
	else
		*(bool *)cfg_field(obj, k->offset) = b;
}

static void cfg_set_string(void *obj, size_t offset, char *s)
{
	char **field = cfg_field(obj, offset);

	free(*field);
	*field = s;
}

void cfg_h_string(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		  const struct ynode *value, void *obj)
{
	const char *s;

	if (!k->required && ynode_is_null(value)) {
		cfg_set_string(obj, k->offset, NULL);
		return;
	}
	if (!(s = cfg_scalar(c, value, "a string")))
		return;
	if (k->required && !*s) {
		cfg_error(c, value, "\"%s\" must not be empty", k->name);
		return;
	}
	cfg_set_string(obj, k->offset, cfg_strdup(s));
}

char *cfg_resolve_path(struct cfg_ctx *c, const char *path)
{
	char *full;

	if (path[0] == '/' || !c->base_dir || !c->base_dir[0])
		return cfg_strdup(path);
	BUG_ON(asprintf(&full, "%s/%s", c->base_dir, path) < 0);
	return full;
}

void cfg_h_path(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj)
{
	const char *s;

	if (ynode_is_null(value)) {
		cfg_set_string(obj, k->offset, NULL);
		return;
	}
	if (!(s = cfg_scalar(c, value, "a file path")))
		return;
	if (!*s) {
		cfg_error(c, value, "expected a file path, got \"\" (use null for none)");
		return;
	}
	cfg_set_string(obj, k->offset, cfg_resolve_path(c, s));
}

void cfg_h_address(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		   const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "an address like 127.0.0.1:8080");
	const char *why = "";
	char q[CFG_MSG];

	if (!s)
		return;
	if (addr_parse(s, cfg_field(obj, k->offset2), &why) < 0) {
		cfg_error(c, value, "invalid address %s: %s", value_quote(s, q, sizeof(q)), why);
		return;
	}
	cfg_set_string(obj, k->offset, cfg_strdup(s));
}

char **cfg_string_list(struct cfg_ctx *c, const struct ynode *v, size_t *count)
{
	char **out;

	*count = 0;
	if (!cfg_is_list(c, v, "a list of strings"))
		return NULL;
	out = cfg_calloc(v->num_items, sizeof(*out));
	for (size_t i = 0; i < v->num_items; i++) {
		const char *s = cfg_scalar(c, v->items[i], "a string");
		if (s)
			out[(*count)++] = cfg_strdup(s);
	}
	return out;
}

static bool cfg_scalar_equal(const char *a, const char *b)
{
	uint64_t x, y;
	bool p, q;
	char *ea, *eb;
	double da, db;

	if (strcmp(a, b) == 0)
		return true;
	if (value_duration(a, &x, NULL, 0) == 0 && value_duration(b, &y, NULL, 0) == 0)
		return x == y;
	if (value_bool(a, &p, NULL, 0) == 0 && value_bool(b, &q, NULL, 0) == 0)
		return p == q;
	da = strtod(a, &ea);
	db = strtod(b, &eb);
	return *a && *b && !*ea && !*eb && da == db;
}

static bool cfg_node_matches(const struct ynode *u, const struct ynode *d)
{
	if (ynode_is_null(u))
		return ynode_is_null(d) || (d->kind != YNODE_SCALAR && d->num_items == 0 && d->num_pairs == 0);
	if (ynode_is_null(d) || u->kind != d->kind)
		return false;
	switch (u->kind) {
	case YNODE_SCALAR:
		return cfg_scalar_equal(u->text, d->text);
	case YNODE_SEQUENCE:
		if (u->num_items != d->num_items)
			return false;
		for (size_t i = 0; i < u->num_items; i++)
			if (!cfg_node_matches(u->items[i], d->items[i]))
				return false;
		return true;
	case YNODE_MAPPING:
		for (size_t i = 0; i < u->num_pairs; i++) {
			const struct ynode *key = u->pairs[i].key;
			const struct ynode *dv = key->kind == YNODE_SCALAR ? ynode_get(d, key->text) : NULL;
			if (!dv || !cfg_node_matches(u->pairs[i].value, dv))
				return false;
		}
		return true;
	}
	return false;
}

bool cfg_matches_default(const struct ynode *value, const char *dflt_yaml)
{
	struct ynode *dflt;
	struct ynode_error err;
	bool same;

	BUG_ON(ynode_parse(dflt_yaml, strlen(dflt_yaml), &dflt, &err) < 0 || !dflt);
	same = cfg_node_matches(value, dflt);
	ynode_free(dflt);
	return same;
}

void cfg_h_unsupported(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		       const struct ynode *value, void *obj)
{
	if (!cfg_matches_default(value, k->dflt))
		cfg_error(c, key, "\"%s\" is not supported yet by this version of portico", k->name);
}
