/*
 * config_schema: the machinery shared by the config/ loader files.
 *
 * Each mapping level of the file is described by a table of struct cfg_key
 * (name, handler, where the value goes). cfg_walk checks a mapping against
 * its table — unknown keys (with a "did you mean"), duplicate keys, missing
 * required keys — then calls each present key's handler in table order, so
 * a table can say "limits before listeners" whatever order the file uses.
 * Handlers report problems with cfg_error and never stop the walk: the aim is
 * to report every error in one pass.
 *
 * Private to src/config/.
 */
#ifndef PORTICO_CONFIG_CONFIG_SCHEMA_H
#define PORTICO_CONFIG_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "config/yaml.h"

#define CFG_MAX_KEYS 32

struct cfg_error_rec {
	int line;
	int column;
	size_t seq;     /* order of discovery, to keep the sort stable */
	char *message;  /* owned, with the FILE:LINE:COLUMN: prefix */
};

struct cfg_ctx {
	const char *file;      /* borrowed; the name used in messages */
	const char *base_dir;  /* borrowed; NULL = leave relative paths alone */
	struct proxy_config *cfg; /* the snapshot being built */
	struct cfg_error_rec *errors; /* owned */
	size_t num_errors;
	size_t cap_errors;
};

struct cfg_key;

/* Called for a key present in the mapping; key and value are never NULL. */
typedef void (*cfg_handler)(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			    const struct ynode *value, void *obj);

struct cfg_key {
	const char *name;
	cfg_handler handler;
	size_t offset;      /* of the target field in obj, for the generic handlers */
	size_t offset2;     /* cfg_h_address: of the struct addr */
	uint64_t min;       /* integers, durations (ms) and sizes: allowed range; */
	uint64_t max;       /* max 0 = no upper bound */
	const char *dflt;   /* cfg_h_unsupported: the default value, as YAML */
	bool required;
};

/* Records "FILE:LINE:COLUMN: message" at the node's position (1:1 if NULL). */
void cfg_error(struct cfg_ctx *c, const struct ynode *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Walks map (a null scalar counts as an empty mapping) against keys[0..n).
 * what ("listener 2", may be NULL) prefixes structural messages.
 */
void cfg_walk(struct cfg_ctx *c, const struct ynode *map, const struct cfg_key *keys, size_t n,
	      void *obj, const char *what);

/* The scalar text of v, or NULL after reporting `expected EXPECTED, got ...`. */
const char *cfg_scalar(struct cfg_ctx *c, const struct ynode *v, const char *expected);

/* The index of v's text in names[0..n), or -1 after reporting `expected
 * EXPECTED, got ...` with a "did you mean" when one is close. */
int cfg_choice(struct cfg_ctx *c, const struct ynode *v, const char *const *names, size_t n,
	       const char *expected);

/* True if v is a list, or null (an empty list); else reports and returns false. */
bool cfg_is_list(struct cfg_ctx *c, const struct ynode *v, const char *expected);

/* True if v is a mapping, or null (an empty one); else reports and returns false. */
bool cfg_is_map(struct cfg_ctx *c, const struct ynode *v, const char *expected);

/* If the i-th key of map repeats an earlier one (case-insensitively if icase), reports it. */
bool cfg_key_repeated(struct cfg_ctx *c, const struct ynode *map, size_t i, bool icase);

/* True for a non-empty HTTP token (RFC 9110 tchar), as header names and methods are. */
bool cfg_is_token(const char *s);

/* True if s holds a C0 control character (CR, LF, tab, ...) or DEL. */
bool cfg_has_ctl(const char *s);

/* Allocation helpers: abort on out-of-memory, like the rest of startup. */
void *cfg_calloc(size_t n, size_t size);
char *cfg_strdup(const char *s);

/* path made absolute against c->base_dir when relative; owned. */
char *cfg_resolve_path(struct cfg_ctx *c, const char *path);

/* Owned array of owned strings from a list of scalars; errors reported. */
char **cfg_string_list(struct cfg_ctx *c, const struct ynode *v, size_t *count);

/* Frees an array of n owned strings. */
void cfg_free_strings(char **strings, size_t n);

/* Generic handlers; the target field is at k->offset in obj. */
void cfg_h_duration(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		    const struct ynode *value, void *obj); /* uint64_t ms */
void cfg_h_size(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj);     /* uint64_t bytes */
void cfg_h_u64(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
	       const struct ynode *value, void *obj);
void cfg_h_u32(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
	       const struct ynode *value, void *obj);
void cfg_h_bool(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj);
/* char *, owned; null -> NULL unless k->required ("" refused too then). */
void cfg_h_string(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		  const struct ynode *value, void *obj);
/* char *, owned, resolved with cfg_resolve_path; null -> NULL. */
void cfg_h_path(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		const struct ynode *value, void *obj);
/* char * at offset and struct addr at offset2. */
void cfg_h_address(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		   const struct ynode *value, void *obj);
/* A known key this version does not implement: only its default (k->dflt) is accepted. */
void cfg_h_unsupported(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		       const struct ynode *value, void *obj);

/* True if value equals the default given as YAML text (durations, numbers, booleans compared by value). */
bool cfg_matches_default(const struct ynode *value, const char *dflt_yaml);

/* Section loaders, each the handler of its top-level key. */
void cfg_load_upstreams(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj);
void cfg_load_routes(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		     const struct ynode *value, void *obj);
void cfg_free_upstreams(struct upstream_config *ups, size_t n);
/* Resolves every `dns:` upstream into its servers (after the whole walk, so
 * `resolver:` is known wherever it is in the file). */
void cfg_resolve_dns(struct cfg_ctx *c, const struct ynode *root);
void cfg_free_routes(struct route_config *routes, size_t n);
/* listeners[].tls, compiled into listener->tls_server (config_tls.c). */
void cfg_h_listener_tls(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj);
void cfg_free_listener_tls(struct listener_config *l);
/* upstreams.*.tls, compiled into upstream->tls_client (config_tls.c). */
void cfg_h_upstream_tls(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj);
void cfg_free_upstream_tls(struct upstream_config *up);

/* Table entry builders. */
#define CFG_KEY(key, fn) { .name = (key), .handler = (fn) }
#define CFG_FIELD(key, fn, type, field) { .name = (key), .handler = (fn), .offset = offsetof(type, field) }
#define CFG_RANGE(key, fn, type, field, lo, hi)                                                  \
	{ .name = (key), .handler = (fn), .offset = offsetof(type, field), .min = (lo), .max = (hi) }
#define CFG_FIELDS(key, fn, type, field, field2)                                                 \
	{ .name = (key), .handler = (fn), .offset = offsetof(type, field),                       \
	  .offset2 = offsetof(type, field2) }
#define CFG_UNSUPPORTED(key, dflt_yaml) { .name = (key), .handler = cfg_h_unsupported, .dflt = (dflt_yaml) }

#endif
