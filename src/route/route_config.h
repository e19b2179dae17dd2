/*
 * route_config: one `routes:` entry of the configuration, as loaded.
 * Immutable once loaded; owned by the configuration snapshot.
 */
#ifndef PORTICO_ROUTE_ROUTE_CONFIG_H
#define PORTICO_ROUTE_ROUTE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct header_pair {
	char *name;  /* owned */
	char *value; /* owned; "" means remove */
};

struct route_respond {
	int status;
	char *body;          /* owned, may be "" */
	char *content_type;  /* owned */
};

struct route_config {
	char *name;          /* owned; "route-N" when not given */
	int line;            /* line of the entry in the config file, for explain */
	/* match */
	char *host;          /* owned; NULL = any; lower-case; may start with "*." */
	char *path_prefix;   /* owned, may be NULL */
	char *path_exact;    /* owned, may be NULL */
	char **methods;      /* owned array of owned strings */
	size_t num_methods;
	struct header_pair *match_headers; /* value "" = presence */
	size_t num_match_headers;
	/* action: exactly one of upstream / respond */
	char *upstream;      /* owned name */
	size_t upstream_index; /* index into the snapshot's upstreams */
	struct route_respond *respond; /* owned, may be NULL */
	char *strip_prefix;  /* owned, may be NULL */
	struct header_pair *set_request_headers;
	size_t num_set_request_headers;
	struct header_pair *set_response_headers;
	size_t num_set_response_headers;
};

#endif
