/*
 * route_config: one `routes:` entry of the configuration, as loaded.
 * Immutable once loaded; owned by the configuration snapshot.
 */
#ifndef PORTICO_ROUTE_ROUTE_CONFIG_H
#define PORTICO_ROUTE_ROUTE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct regex;

struct header_pair {
	char *name;  /* owned */
	char *value; /* owned; "" means remove */
};

struct route_respond {
	int status;
	char *body;          /* owned, may be "" */
	char *content_type;  /* owned */
};

struct route_redirect {
	char *to;            /* owned; may hold variables */
	int status;          /* 301, 302, 303, 307 or 308 */
};

/* One side of a canary split. */
struct route_split {
	char *upstream;        /* owned name */
	size_t upstream_index; /* into the snapshot's upstreams */
	uint32_t weight;
};

/* rewrite: { regex, to } — the path is replaced when the regex matches;
 * $1..$9 in `to` are the regex's groups, $0 the whole match. */
struct route_rewrite {
	char *regex;           /* owned source */
	struct regex *re;      /* owned, compiled */
	char *to;              /* owned */
};

/* mirror: a copy of a share of the requests goes to a shadow upstream. */
struct route_mirror {
	char *upstream;        /* owned name */
	size_t upstream_index;
	uint32_t percent;      /* 0-100 */
};

struct regex;

struct route_config {
	char *name;          /* owned; "route-N" when not given */
	int line;            /* line of the entry in the config file, for explain */
	int column;          /* its column, for -t warnings */
	/* match */
	char *host;          /* owned; NULL = any; lower-case; may start with "*." */
	char *path_prefix;   /* owned, may be NULL */
	char *path_exact;    /* owned, may be NULL */
	char *path_regex;    /* owned source text, may be NULL */
	struct regex *path_re; /* owned, compiled path_regex (route/regex.h) */
	char **methods;      /* owned array of owned strings */
	size_t num_methods;
	struct header_pair *match_headers; /* value "" = presence */
	size_t num_match_headers;
	/* action: exactly one of upstream / respond / redirect */
	char *upstream;      /* owned name */
	size_t upstream_index; /* index into the snapshot's upstreams */
	struct route_respond *respond; /* owned, may be NULL */
	struct route_redirect *redirect; /* owned, may be NULL */
	struct route_split *split;     /* owned array, NULL = no split */
	size_t num_split;
	uint32_t split_total;          /* sum of the split weights */
	struct route_rewrite *rewrite; /* owned, may be NULL */
	struct route_mirror *mirror;   /* owned, may be NULL */
	char *strip_prefix;  /* owned, may be NULL */
	struct header_pair *set_request_headers;
	size_t num_set_request_headers;
	struct header_pair *set_response_headers;
	size_t num_set_response_headers;
	bool websocket;      /* WebSocket handshakes are tunnelled (default), else 403 */
};

#endif
