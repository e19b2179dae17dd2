/*
 * config: the public loader and the top-level sections (workers, limits,
 * trusted_proxies, listeners, security, access_log). Upstreams and routes
 * live in config_upstreams.c and config_routes.c, the table machinery in
 * config_schema.c, quick mode in config_quick.c.
 *
 * A snapshot starts filled with the defaults of PRODUCT.md §2; each key
 * present in the file overwrites its field. The top-level table is ordered so
 * that what a later section needs is read first (limits before listeners,
 * upstreams before routes), whatever order the file uses.
 */
#include "config/config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_schema.h"
#include "config/values.h"
#include "core/bug.h"
#include "route/route_table.h"

#define CONFIG_MAX_FILE_SIZE (16u << 20)

static const char *const default_hidden_headers[] = { "Server", "X-Powered-By", "X-AspNet-Version" };

/* ---- limits ---- */

static const struct cfg_key limits_keys[] = {
	CFG_RANGE("max_connections", cfg_h_u64, struct http_limits, max_connections, 1, 100000000),
	CFG_RANGE("header_timeout", cfg_h_duration, struct http_limits, header_timeout_ms, 1, 0),
	CFG_RANGE("idle_timeout", cfg_h_duration, struct http_limits, idle_timeout_ms, 1, 0),
	CFG_RANGE("body_timeout", cfg_h_duration, struct http_limits, body_timeout_ms, 1, 0),
	CFG_RANGE("max_header_size", cfg_h_size, struct http_limits, max_header_size, 1024, 64u << 20),
	CFG_RANGE("max_headers", cfg_h_u64, struct http_limits, max_headers, 1, 10000),
	CFG_FIELD("max_body_size", cfg_h_size, struct http_limits, max_body_size),
	CFG_FIELD("drain_timeout", cfg_h_duration, struct http_limits, drain_timeout_ms),
};

/* Walks limits over the struct http_limits at k->offset, which already holds the base values. */
static void cfg_h_limits(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			 const struct ynode *value, void *obj)
{
	cfg_walk(c, value, limits_keys, ARRAY_SIZE(limits_keys), (char *)obj + k->offset, "limits");
}

/* ---- workers, trusted_proxies ---- */

static unsigned cfg_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
}

static void cfg_h_workers(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	const char *s = cfg_scalar(c, value, "auto or a number of worker threads");
	char q[128];
	uint64_t n;

	if (!s)
		return;
	if (strcmp(s, "auto") == 0)
		c->cfg->workers = cfg_online_cpus();
	else if (value_uint(s, 1, 1024, &n, NULL, 0) == 0)
		c->cfg->workers = (unsigned)n;
	else
		cfg_error(c, value, "expected auto or an integer between 1 and 1024, got %s",
			  value_quote(s, q, sizeof(q)));
}

static void cfg_h_trusted_proxies(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
				  const struct ynode *value, void *obj)
{
	struct proxy_config *cfg = c->cfg;
	char q[128];

	if (!cfg_is_list(c, value, "a list of addresses or CIDR prefixes"))
		return;
	cfg->trusted_proxies = cfg_calloc(value->num_items, sizeof(*cfg->trusted_proxies));
	for (size_t i = 0; i < value->num_items; i++) {
		const struct ynode *item = value->items[i];
		const char *s = cfg_scalar(c, item, "an address or CIDR prefix like 10.0.0.0/8");
		if (!s)
			continue;
		if (cidr_parse(s, &cfg->trusted_proxies[cfg->num_trusted_proxies]) < 0)
			cfg_error(c, item, "invalid CIDR %s: expected an address or prefix like 10.0.0.0/8 or ::1/128",
				  value_quote(s, q, sizeof(q)));
		else
			cfg->num_trusted_proxies++;
	}
}

/* ---- listeners ---- */

static const struct cfg_key listener_keys[] = {
	{ .name = "name", .handler = cfg_h_string, .offset = offsetof(struct listener_config, name),
	  .required = true },
	{ .name = "address", .handler = cfg_h_address, .offset = offsetof(struct listener_config, address),
	  .offset2 = offsetof(struct listener_config, addr), .required = true },
	CFG_FIELD("limits", cfg_h_limits, struct listener_config, limits),
	CFG_UNSUPPORTED("proxy_protocol", "false"),
	CFG_FIELD("http2", cfg_h_bool, struct listener_config, http2),
	CFG_KEY("tls", cfg_h_listener_tls), /* after http2: ALPN depends on it */
};

static const struct ynode *cfg_item_key(const struct ynode *item, const char *name)
{
	const struct ynode *v = ynode_get(item, name);

	return v ? v : item;
}

static void cfg_check_listeners(struct cfg_ctx *c, const struct ynode *list)
{
	const struct proxy_config *cfg = c->cfg;

	for (size_t j = 0; j < cfg->num_listeners; j++) {
		const struct listener_config *b = &cfg->listeners[j];
		for (size_t i = 0; i < j; i++) {
			const struct listener_config *a = &cfg->listeners[i];
			if (a->name && b->name && strcmp(a->name, b->name) == 0)
				cfg_error(c, cfg_item_key(list->items[j], "name"),
					  "duplicate listener name \"%s\" (listener %zu has it)", b->name, i + 1);
			if (a->address && b->address && a->addr.len == b->addr.len &&
			    memcmp(&a->addr.ss, &b->addr.ss, a->addr.len) == 0)
				cfg_error(c, cfg_item_key(list->items[j], "address"),
					  "address \"%s\" is already used by listener %zu", b->address, i + 1);
		}
	}
}

static void cfg_h_listeners(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			    const struct ynode *value, void *obj)
{
	struct proxy_config *cfg = c->cfg;
	char what[64];

	if (!cfg_is_list(c, value, "a list of listeners"))
		return;
	cfg->listeners = cfg_calloc(value->num_items, sizeof(*cfg->listeners));
	cfg->num_listeners = value->num_items;
	for (size_t i = 0; i < value->num_items; i++) {
		cfg->listeners[i].limits = cfg->limits;
		snprintf(what, sizeof(what), "listener %zu", i + 1);
		cfg_walk(c, value->items[i], listener_keys, ARRAY_SIZE(listener_keys), &cfg->listeners[i],
			 what);
	}
	cfg_check_listeners(c, value);
}

/* ---- security ---- */

static void cfg_h_hide_headers(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			       const struct ynode *value, void *obj)
{
	struct security_config *sec = obj;
	char **names;
	size_t n;

	names = cfg_string_list(c, value, &n);
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		if (!cfg_is_token(names[i]))
			cfg_error(c, value->items[i], "invalid header name \"%s\"", names[i]);
	cfg_free_strings(sec->hide_backend_headers, sec->num_hide_backend_headers);
	sec->hide_backend_headers = names;
	sec->num_hide_backend_headers = n;
}

static void cfg_h_server_header(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
				const struct ynode *value, void *obj)
{
	struct security_config *sec = obj;
	const char *s = ynode_is_null(value) ? "" : cfg_scalar(c, value, "a string");

	if (!s)
		return;
	if (cfg_has_ctl(s)) {
		cfg_error(c, value, "server_header must not contain control characters");
		return;
	}
	free(sec->server_header);
	sec->server_header = cfg_strdup(s);
}

static void cfg_h_underscores(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			      const struct ynode *value, void *obj)
{
	static const char *const policies[] = {
		[UNDERSCORES_DROP] = "drop", [UNDERSCORES_ALLOW] = "allow", [UNDERSCORES_REJECT] = "reject",
	};
	struct security_config *sec = obj;
	int i = cfg_choice(c, value, policies, ARRAY_SIZE(policies), "drop, allow or reject");

	if (i >= 0)
		sec->underscores_in_headers = (enum underscores_policy)i;
}

static const struct cfg_key security_keys[] = {
	CFG_KEY("hide_backend_headers", cfg_h_hide_headers),
	CFG_KEY("server_header", cfg_h_server_header),
	CFG_KEY("underscores_in_headers", cfg_h_underscores),
	CFG_UNSUPPORTED("waf", "{ rules: [], mode: block }"),
};

static void cfg_h_security(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			   const struct ynode *value, void *obj)
{
	cfg_walk(c, value, security_keys, ARRAY_SIZE(security_keys), &c->cfg->security, "security");
}

/* ---- access_log ---- */

static void cfg_h_log_path(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			   const struct ynode *value, void *obj)
{
	struct access_log_config *log = obj;
	const char *s = ynode_is_null(value) ? NULL : cfg_scalar(c, value, "a file path, \"-\" or null");

	if (!s && !ynode_is_null(value))
		return;
	if (s && !*s) {
		cfg_error(c, value, "expected a file path, \"-\" or null, got \"\"");
		return;
	}
	free(log->path);
	log->path = !s ? NULL : strcmp(s, "-") == 0 ? cfg_strdup("-") : cfg_resolve_path(c, s);
}

static void cfg_h_log_format(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			     const struct ynode *value, void *obj)
{
	static const char *const formats[] = {
		[ACCESS_LOG_JSON] = "json", [ACCESS_LOG_COMBINED] = "combined",
	};
	struct access_log_config *log = obj;
	int i = cfg_choice(c, value, formats, ARRAY_SIZE(formats), "json or combined");

	if (i >= 0)
		log->format = (enum access_log_format)i;
}

static const struct cfg_key access_log_keys[] = {
	CFG_KEY("path", cfg_h_log_path),
	CFG_KEY("format", cfg_h_log_format),
};

static void cfg_h_access_log(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			     const struct ynode *value, void *obj)
{
	struct access_log_config *log = &c->cfg->access_log;

	if (ynode_is_null(value)) {
		free(log->path);
		log->path = NULL;
		return;
	}
	cfg_walk(c, value, access_log_keys, ARRAY_SIZE(access_log_keys), log, "access_log");
}

/* ---- the file ---- */

static const struct cfg_key top_keys[] = {
	CFG_KEY("workers", cfg_h_workers),
	CFG_FIELD("user", cfg_h_string, struct proxy_config, user),
	CFG_FIELD("pid_file", cfg_h_path, struct proxy_config, pid_file),
	CFG_FIELD("limits", cfg_h_limits, struct proxy_config, limits),
	CFG_KEY("trusted_proxies", cfg_h_trusted_proxies),
	CFG_KEY("upstreams", cfg_load_upstreams),
	CFG_KEY("listeners", cfg_h_listeners),
	CFG_KEY("routes", cfg_load_routes),
	CFG_KEY("security", cfg_h_security),
	CFG_KEY("access_log", cfg_h_access_log),
	CFG_FIELD("resolver", cfg_h_string, struct proxy_config, resolver),
	CFG_UNSUPPORTED("caches", "{}"),
	CFG_UNSUPPORTED("compression",
			"{ min_length: 256, types: [text/*, application/json, application/javascript,"
			" image/svg+xml], level: { gzip: 5, br: 4, zstd: 3 } }"),
	CFG_UNSUPPORTED("rate_limits", "{}"),
	CFG_UNSUPPORTED("access_lists", "{}"),
	CFG_UNSUPPORTED("geo", "{ database: null, format: mmdb }"),
	CFG_UNSUPPORTED("redis", "{ address: 127.0.0.1:6379, timeout: 50ms }"),
	CFG_UNSUPPORTED("admin", "{ address: null, token: null }"),
};

static struct proxy_config *cfg_new_default(void)
{
	struct proxy_config *cfg = cfg_calloc(1, sizeof(*cfg));
	size_t n = ARRAY_SIZE(default_hidden_headers);

	cfg->workers = cfg_online_cpus();
	cfg->limits = HTTP_LIMITS_DEFAULT;
	cfg->security.hide_backend_headers = cfg_calloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		cfg->security.hide_backend_headers[i] = cfg_strdup(default_hidden_headers[i]);
	cfg->security.num_hide_backend_headers = n;
	cfg->security.server_header = cfg_strdup("portico");
	cfg->security.underscores_in_headers = UNDERSCORES_DROP;
	cfg->access_log.path = cfg_strdup("-");
	cfg->access_log.format = ACCESS_LOG_JSON;
	return cfg;
}

void config_free(struct proxy_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->user);
	free(cfg->pid_file);
	free(cfg->trusted_proxies);
	for (size_t i = 0; i < cfg->num_listeners; i++) {
		free(cfg->listeners[i].name);
		free(cfg->listeners[i].address);
		cfg_free_listener_tls(&cfg->listeners[i]);
	}
	free(cfg->listeners);
	cfg_free_upstreams(cfg->upstreams, cfg->num_upstreams);
	route_table_free(cfg->route_table);
	cfg_free_routes(cfg->routes, cfg->num_routes);
	cfg_free_strings(cfg->security.hide_backend_headers, cfg->security.num_hide_backend_headers);
	free(cfg->security.server_header);
	free(cfg->access_log.path);
	free(cfg->resolver);
	free(cfg->source);
	free(cfg->source_name);
	free(cfg->base_dir);
	free(cfg);
}

void config_errors_deinit(struct config_errors *errs)
{
	if (!errs)
		return;
	cfg_free_strings(errs->messages, errs->count);
	errs->messages = NULL;
	errs->count = 0;
}

static int cfg_error_order(const void *pa, const void *pb)
{
	const struct cfg_error_rec *a = pa, *b = pb;

	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	if (a->column != b->column)
		return a->column < b->column ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Hands the snapshot over, or on errors frees it and moves the sorted messages into errs. */
static struct proxy_config *cfg_finish(struct cfg_ctx *c, struct config_errors *errs)
{
	struct proxy_config *cfg = c->cfg;

	if (c->num_errors) {
		qsort(c->errors, c->num_errors, sizeof(*c->errors), cfg_error_order);
		if (errs) {
			errs->messages = realloc(errs->messages, (errs->count + c->num_errors) * sizeof(char *));
			BUG_ON(!errs->messages);
		}
		for (size_t i = 0; i < c->num_errors; i++) {
			if (errs)
				errs->messages[errs->count++] = c->errors[i].message;
			else
				free(c->errors[i].message);
		}
		config_free(cfg);
		cfg = NULL;
	}
	free(c->errors);
	c->errors = NULL;
	return cfg;
}

struct proxy_config *config_reload_source(const struct proxy_config *cfg,
					  struct config_errors *errs)
{
	struct proxy_config *fresh = config_load_buffer(cfg->source_name, cfg->source,
							cfg->source_len, cfg->base_dir, errs);
	if (fresh && cfg->path)
		fresh->path = cfg_strdup(cfg->path);
	return fresh;
}

struct proxy_config *config_load_buffer(const char *name, const char *text, size_t len,
					const char *base_dir, struct config_errors *errs)
{
	struct cfg_ctx c = { .file = name ? name : "(config)", .base_dir = base_dir };
	struct ynode *root = NULL;
	const struct ynode *listeners;
	struct ynode_error yerr;

	c.cfg = cfg_new_default();
	if (ynode_parse(text, len, &root, &yerr) < 0) {
		struct ynode at = { .line = yerr.line, .column = yerr.column };
		cfg_error(&c, &at, "%s", yerr.message);
		return cfg_finish(&c, errs);
	}
	if (root)
		cfg_walk(&c, root, top_keys, ARRAY_SIZE(top_keys), c.cfg, "the configuration");
	if (c.num_errors == 0)
		cfg_resolve_dns(&c, root);
	c.cfg->source = cfg_calloc(1, len + 1);
	memcpy(c.cfg->source, text, len);
	c.cfg->source_len = len;
	c.cfg->source_name = cfg_strdup(c.file);
	c.cfg->base_dir = base_dir ? cfg_strdup(base_dir) : NULL;
	/* an empty listeners list or none at all; a mistyped one was reported already */
	listeners = ynode_get(root, "listeners");
	if (c.cfg->num_listeners == 0 && (!root || root->kind == YNODE_MAPPING || ynode_is_null(root)) &&
	    (!listeners || listeners->kind == YNODE_SEQUENCE || ynode_is_null(listeners))) {
		cfg_error(&c, listeners ? listeners : root,
			  "at least one listener is required, like listeners: [{name: web, address: \":8080\"}]");
	}
	ynode_free(root);
	return cfg_finish(&c, errs);
}

static void cfg_file_error(struct config_errors *errs, const char *path, const char *why)
{
	char *msg;

	if (!errs)
		return;
	BUG_ON(asprintf(&msg, "%s:1:1: cannot read the configuration: %s", path, why) < 0);
	errs->messages = realloc(errs->messages, (errs->count + 1) * sizeof(char *));
	BUG_ON(!errs->messages);
	errs->messages[errs->count++] = msg;
}

/* Reads the whole file; returns an owned buffer or NULL with errno set. */
static char *cfg_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > CONFIG_MAX_FILE_SIZE) {
				errno = EFBIG;
				break;
			}
			char *grown = realloc(buf, cap);
			BUG_ON(!grown);
			buf = grown;
		}
		errno = 0;
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0) {
			if (!ferror(f)) {
				fclose(f);
				*len = n;
				return buf;
			}
			errno = errno ? errno : EIO;
			break;
		}
	}
	int saved = errno;
	fclose(f);
	free(buf);
	errno = saved;
	return NULL;
}

struct proxy_config *config_load_file(const char *path, struct config_errors *errs)
{
	struct proxy_config *cfg;
	char *text, *real, *dir_copy;
	size_t len;

	text = cfg_read_file(path, &len);
	if (!text) {
		cfg_file_error(errs, path, strerror(errno));
		return NULL;
	}
	real = realpath(path, NULL);
	dir_copy = cfg_strdup(real ? real : path);
	cfg = config_load_buffer(path, text, len, dirname(dir_copy), errs);
	free(dir_copy);
	free(text);
	if (cfg)
		cfg->path = real ? real : cfg_strdup(path);
	else
		free(real);
	return cfg;
}
