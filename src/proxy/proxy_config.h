/*
 * proxy_config: the whole runtime configuration, one immutable snapshot.
 *
 * config/ builds it from YAML (or from quick-mode flags); app/ holds it
 * refcounted and hands it to each worker; everything below reads it and never
 * changes it. Module parts are defined by their modules.
 */
#ifndef PORTICO_PROXY_PROXY_CONFIG_H
#define PORTICO_PROXY_PROXY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cidr.h"
#include "http/http_limits.h"
#include "log/access_log_config.h"
#include "net/addr.h"
#include "net/tls.h"
#include "route/route_config.h"
#include "upstream/upstream_config.h"

struct health_table;
struct route_table;
struct tls_server;

/* listeners[].tls: file paths are owned and absolute */
struct listener_tls_config {
	struct tls_cert_files *certs; /* owned array, paths owned */
	size_t num_certs;
	int min_version;              /* 12 or 13 */
	char *client_ca;              /* owned, NULL = no mutual TLS */
};

struct listener_config {
	char *name;           /* owned */
	char *address;        /* owned, as written */
	struct addr addr;
	struct http_limits limits; /* top-level limits with this listener's overrides applied */
	bool proxy_protocol;
	bool http2;
	struct listener_tls_config *tls; /* owned, NULL = plain TCP */
	struct tls_server *tls_server;   /* owned: tls compiled (net/tls.h) */
};

/* What happens to a request field with "_" in its name: gateways that map
 * names to variables (CGI, WSGI) read X_Forwarded_For as X-Forwarded-For. */
enum underscores_policy {
	UNDERSCORES_DROP,     /* removed before anything reads the head; logged once per connection */
	UNDERSCORES_ALLOW,    /* forwarded like any field */
	UNDERSCORES_REJECT,   /* the request is answered 400 */
};

struct security_config {
	char **hide_backend_headers; /* owned array of owned names */
	size_t num_hide_backend_headers;
	char *server_header;  /* owned; "" = remove the header */
	enum underscores_policy underscores_in_headers;
};

struct proxy_config {
	char *path;           /* owned; the file loaded, or NULL in quick mode */
	unsigned workers;     /* resolved: never 0 ("auto" becomes the core count) */
	char *user;           /* owned, may be NULL */
	char *pid_file;       /* owned, may be NULL */
	struct http_limits limits;
	struct cidr *trusted_proxies;
	size_t num_trusted_proxies;
	struct listener_config *listeners;
	size_t num_listeners;
	struct upstream_config *upstreams;
	size_t num_upstreams;
	struct route_config *routes;
	size_t num_routes;
	/* owned: routes compiled for lookup (route/route_table.h); built by
	 * config/ with the routes, NULL when the file has no routes: key */
	struct route_table *route_table;
	struct security_config security;
	struct access_log_config access_log;
	char *resolver;       /* owned "IP:PORT" asked for `dns:` upstreams; NULL = the system's */
	/* What it was loaded from, so `dns:` upstreams can be re-resolved into a
	 * new snapshot of the same file. */
	char *source;         /* owned text */
	size_t source_len;
	char *source_name;    /* owned name used in messages */
	char *base_dir;       /* owned, may be NULL */
	/* Shared runtime health of every server: attached by the process that
	 * runs this snapshot (not by the loader), the one part of a snapshot
	 * that changes; NULL means every server counts as healthy. */
	struct health_table *health;
};

#endif
