/*
 * config_routes: the `routes:` section — an ordered list, first match wins.
 *
 * Each entry is read with the route table, then checked as a whole: exactly
 * one action (upstream / respond / split / redirect), its upstream resolved to
 * an index into the snapshot's upstreams (read before routes, see config.c),
 * a default name "route-N", and names unique across routes (they label
 * metrics). Hosts are stored lower-case and methods upper-case, so the
 * request path compares bytes without folding.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_schema.h"
#include "config/values.h"
#include "core/bug.h"
#include "route/regex.h"
#include "route/route_table.h"

static const char *const route_actions[] = { "upstream", "respond", "split", "redirect" };

static void cfg_set_str(char **field, char *s)
{
	free(*field);
	*field = s;
}

static void cfg_h_host(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		       const struct ynode *value, void *obj)
{
	struct route_config *r = obj;
	const char *s = cfg_scalar(c, value, "a host name like example.com");
	char *host, *p;
	char q[128];

	if (!s)
		return;
	value_quote(s, q, sizeof(q));
	host = cfg_strdup(s);
	for (p = host; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	p = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
	if (host[0] == '[' ? host[strlen(host) - 1] != ']' : strchr(host, ':') != NULL) {
		cfg_error(c, value, "invalid host %s: leave out the port (hosts match on any port)", q);
	} else if (host[0] != '[' && (!*p || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-._") != strlen(p))) {
		cfg_error(c, value, "invalid host %s: expected a name like example.com or *.example.com", q);
	} else {
		cfg_set_str(&r->host, host);
		return;
	}
	free(host);
}

/* char * at k->offset: a URL path ("/api/"). */
static void cfg_h_url_path(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			   const struct ynode *value, void *obj)
{
	char **field = (char **)((char *)obj + k->offset);
	const char *s;
	char q[128];

	if (ynode_is_null(value)) {
		cfg_set_str(field, NULL);
		return;
	}
	if (!(s = cfg_scalar(c, value, "a path like /api/")))
		return;
	if (s[0] != '/' || strpbrk(s, " \t") || cfg_has_ctl(s)) {
		cfg_error(c, value, "expected a path starting with \"/\" like /api/, got %s",
			  value_quote(s, q, sizeof(q)));
		return;
	}
	cfg_set_str(field, cfg_strdup(s));
}

/* match.path_regex: compiled here, once per load, so a bad pattern is a config error. */
static void cfg_h_path_regex(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			     const struct ynode *value, void *obj)
{
	struct route_config *r = obj;
	const char *s;
	char err[256], q[128];
	size_t offset = 0;

	if (ynode_is_null(value))
		return;
	if (!(s = cfg_scalar(c, value, "a PCRE2 regular expression like ^/api/v[0-9]+/")))
		return;
	struct regex *re = regex_new(s, err, sizeof(err), &offset);
	if (!re) {
		cfg_error(c, value, "invalid path_regex %s: %s at offset %zu",
			  value_quote(s, q, sizeof(q)), err, offset);
		return;
	}
	regex_free(r->path_re);
	r->path_re = re;
	cfg_set_str(&r->path_regex, cfg_strdup(s));
}

static void cfg_h_methods(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	struct route_config *r = obj;
	char **methods;
	size_t n;

	methods = cfg_string_list(c, value, &n);
	if (!methods)
		return;
	for (size_t i = 0; i < n; i++) {
		if (!cfg_is_token(methods[i]))
			cfg_error(c, value->items[i], "invalid method \"%s\"", methods[i]);
		for (char *p = methods[i]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	}
	cfg_free_strings(r->methods, r->num_methods);
	r->methods = methods;
	r->num_methods = n;
}

static void cfg_free_headers(struct header_pair *h, size_t n)
{
	for (size_t i = 0; i < n && h; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

/* Fields portico frames or owns per hop: a route setting them would make the
 * two sides disagree on where a message ends. */
static bool header_reserved(const char *name)
{
	static const char *const reserved[] = {
		"content-length", "transfer-encoding", "connection", "keep-alive", "te",
		"trailer", "upgrade", "expect",
	};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcasecmp(name, reserved[i]) == 0)
			return true;
	return strncasecmp(name, "proxy-", 6) == 0;
}

/* struct header_pair * at k->offset, its count (size_t) at k->offset2. */
static void cfg_h_header_map(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			     const struct ynode *value, void *obj)
{
	struct header_pair **field = (struct header_pair **)((char *)obj + k->offset);
	size_t *count = (size_t *)((char *)obj + k->offset2);
	struct header_pair *h;
	size_t n = 0;

	if (!cfg_is_map(c, value, "a mapping of header names to values"))
		return;
	h = cfg_calloc(value->num_pairs, sizeof(*h));
	for (size_t i = 0; i < value->num_pairs; i++) {
		const struct ynode *name = value->pairs[i].key, *v = value->pairs[i].value;
		const char *text = ynode_is_null(v) ? "" : cfg_scalar(c, v, "a header value");

		char q[128];

		if (name->kind != YNODE_SCALAR) {
			cfg_error(c, name, "expected a header name, got %s", ynode_describe(name));
			continue;
		}
		if (!cfg_is_token(name->text)) {
			cfg_error(c, name, "invalid header name %s", value_quote(name->text, q, sizeof(q)));
			continue;
		}
		if (strncmp(k->name, "set_", 4) == 0 && header_reserved(name->text)) {
			cfg_error(c, name, "%s is managed by portico and cannot be set by a route",
				  value_quote(name->text, q, sizeof(q)));
			continue;
		}
		if (!text || cfg_key_repeated(c, value, i, true))
			continue;
		if (cfg_has_ctl(text)) {
			cfg_error(c, v, "header values must not contain control characters");
			continue;
		}
		h[n].name = cfg_strdup(name->text);
		h[n].value = cfg_strdup(text);
		n++;
	}
	cfg_free_headers(*field, *count);
	*field = h;
	*count = n;
}

static const struct cfg_key match_keys[] = {
	CFG_KEY("host", cfg_h_host),
	CFG_FIELD("path_prefix", cfg_h_url_path, struct route_config, path_prefix),
	CFG_FIELD("path_exact", cfg_h_url_path, struct route_config, path_exact),
	CFG_KEY("path_regex", cfg_h_path_regex),
	CFG_KEY("methods", cfg_h_methods),
	CFG_FIELDS("headers", cfg_h_header_map, struct route_config, match_headers, num_match_headers),
};

static void cfg_h_match(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	struct route_config *r = obj;

	cfg_walk(c, value, match_keys, ARRAY_SIZE(match_keys), r, "match");
	if (!!r->path_prefix + !!r->path_exact + !!r->path_regex > 1)
		cfg_error(c, value, "match: use only one of path_prefix, path_exact or path_regex");
}

static void cfg_h_status(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			 const struct ynode *value, void *obj)
{
	struct route_respond *resp = obj;
	const char *s = cfg_scalar(c, value, "an HTTP status like 200");
	char err[128];
	uint64_t v;

	if (!s)
		return;
	if (value_uint(s, 200, 599, &v, err, sizeof(err)) < 0)
		cfg_error(c, value, "%s", err);
	else
		resp->status = (int)v;
}

static const struct cfg_key respond_keys[] = {
	CFG_KEY("status", cfg_h_status),
	CFG_FIELD("body", cfg_h_string, struct route_respond, body),
	CFG_FIELD("content_type", cfg_h_string, struct route_respond, content_type),
};

static void cfg_h_respond(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	struct route_config *r = obj;
	struct route_respond *resp;

	if (ynode_is_null(value))
		return;
	resp = cfg_calloc(1, sizeof(*resp));
	resp->status = 200;
	r->respond = resp;
	cfg_walk(c, value, respond_keys, ARRAY_SIZE(respond_keys), resp, "respond");
	if (!resp->body)
		resp->body = cfg_strdup("");
	if (!resp->content_type || !*resp->content_type)
		cfg_set_str(&resp->content_type, cfg_strdup("text/plain"));
	if (cfg_has_ctl(resp->content_type))
		cfg_error(c, value, "respond: content_type must not contain control characters");
}

static void cfg_h_redirect_status(struct cfg_ctx *c, const struct cfg_key *k,
				  const struct ynode *key, const struct ynode *value, void *obj)
{
	struct route_redirect *rd = obj;
	const char *s = cfg_scalar(c, value, "a redirect status: 301, 302, 303, 307 or 308");
	int v = s ? (int)strtol(s, NULL, 10) : 0;

	if (!s)
		return;
	if (v != 301 && v != 302 && v != 303 && v != 307 && v != 308)
		cfg_error(c, value, "redirect status must be 301, 302, 303, 307 or 308, got \"%s\"", s);
	else
		rd->status = v;
}

static const struct cfg_key redirect_keys[] = {
	CFG_FIELD("to", cfg_h_string, struct route_redirect, to),
	CFG_KEY("status", cfg_h_redirect_status),
};

static void cfg_h_redirect(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			   const struct ynode *value, void *obj)
{
	struct route_config *r = obj;

	if (ynode_is_null(value))
		return;
	r->redirect = cfg_calloc(1, sizeof(*r->redirect));
	r->redirect->status = 301;
	cfg_walk(c, value, redirect_keys, ARRAY_SIZE(redirect_keys), r->redirect, "redirect");
	if (!r->redirect->to || !*r->redirect->to)
		cfg_error(c, value, "redirect needs a target, e.g. { to: \"https://$host$request_uri\" }");
	else if (cfg_has_ctl(r->redirect->to))
		cfg_error(c, value, "redirect target must not contain control characters");
}

static const struct cfg_key split_keys[] = {
	CFG_FIELD("upstream", cfg_h_string, struct route_split, upstream),
	CFG_RANGE("weight", cfg_h_u32, struct route_split, weight, 0, 1000000),
};

/* split: [{ upstream: v1, weight: 90 }, { upstream: v2, weight: 10 }] */
static void cfg_h_split(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			const struct ynode *value, void *obj)
{
	struct route_config *r = obj;

	if (ynode_is_null(value) || !cfg_is_list(c, value, "a list of { upstream, weight }"))
		return;
	if (value->num_items < 1) {
		cfg_error(c, value, "split needs at least one { upstream, weight }");
		return;
	}
	r->split = cfg_calloc(value->num_items, sizeof(*r->split));
	r->num_split = value->num_items;
	for (size_t i = 0; i < value->num_items; i++) {
		r->split[i].weight = 1;
		cfg_walk(c, value->items[i], split_keys, ARRAY_SIZE(split_keys), &r->split[i], "split");
		if (!r->split[i].upstream)
			cfg_error(c, value->items[i], "each split entry needs an upstream");
		r->split_total += r->split[i].weight;
	}
	if (r->split_total == 0)
		cfg_error(c, value, "split weights must not all be 0");
}

static const struct cfg_key mirror_keys[] = {
	CFG_FIELD("upstream", cfg_h_string, struct route_mirror, upstream),
	CFG_RANGE("percent", cfg_h_u32, struct route_mirror, percent, 0, 100),
};

/* mirror: { upstream: shadow, percent: 10 } */
static void cfg_h_mirror(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			 const struct ynode *value, void *obj)
{
	struct route_config *r = obj;

	if (ynode_is_null(value))
		return;
	r->mirror = cfg_calloc(1, sizeof(*r->mirror));
	r->mirror->percent = 100;
	cfg_walk(c, value, mirror_keys, ARRAY_SIZE(mirror_keys), r->mirror, "mirror");
	if (!r->mirror->upstream)
		cfg_error(c, value, "mirror needs an upstream, e.g. { upstream: shadow, percent: 10 }");
}

static const struct cfg_key rewrite_keys[] = {
	CFG_FIELD("regex", cfg_h_string, struct route_rewrite, regex),
	CFG_FIELD("to", cfg_h_string, struct route_rewrite, to),
};

/* rewrite: { regex: "^/old/(.*)", to: "/new/$1" } */
static void cfg_h_rewrite(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
			  const struct ynode *value, void *obj)
{
	struct route_config *r = obj;
	char err[256];
	size_t offset = 0;

	if (ynode_is_null(value))
		return;
	r->rewrite = cfg_calloc(1, sizeof(*r->rewrite));
	cfg_walk(c, value, rewrite_keys, ARRAY_SIZE(rewrite_keys), r->rewrite, "rewrite");
	if (!r->rewrite->regex || !r->rewrite->to) {
		cfg_error(c, value, "rewrite needs regex and to, e.g. { regex: \"^/old/(.*)\", to: \"/new/$1\" }");
		return;
	}
	if (r->rewrite->to[0] != '/' || cfg_has_ctl(r->rewrite->to) || strchr(r->rewrite->to, ' '))
		cfg_error(c, ynode_get(value, "to"), "rewrite target must start with '/' and hold no spaces");
	r->rewrite->re = regex_new(r->rewrite->regex, err, sizeof(err), &offset);
	if (!r->rewrite->re)
		cfg_error(c, ynode_get(value, "regex"), "invalid rewrite regex: %s at offset %zu", err,
			  offset);
}

static const struct cfg_key route_keys[] = {
	CFG_FIELD("name", cfg_h_string, struct route_config, name),
	CFG_KEY("match", cfg_h_match),
	CFG_FIELD("upstream", cfg_h_string, struct route_config, upstream),
	CFG_KEY("split", cfg_h_split),
	CFG_KEY("mirror", cfg_h_mirror),
	CFG_KEY("redirect", cfg_h_redirect),
	CFG_KEY("respond", cfg_h_respond),
	CFG_FIELD("strip_prefix", cfg_h_url_path, struct route_config, strip_prefix),
	CFG_KEY("rewrite", cfg_h_rewrite),
	CFG_FIELDS("set_request_headers", cfg_h_header_map, struct route_config, set_request_headers,
		   num_set_request_headers),
	CFG_FIELDS("set_response_headers", cfg_h_header_map, struct route_config, set_response_headers,
		   num_set_response_headers),
	CFG_UNSUPPORTED("cache", "null"),
	CFG_UNSUPPORTED("compress", "false"),
	CFG_UNSUPPORTED("rate_limit", "null"),
	CFG_UNSUPPORTED("access", "null"),
	CFG_UNSUPPORTED("waf", "false"),
	CFG_FIELD("websocket", cfg_h_bool, struct route_config, websocket),
};

static void cfg_route_upstream(struct cfg_ctx *c, const char *name, size_t *index, size_t num,
			       const struct ynode *at)
{
	const struct proxy_config *cfg = c->cfg;
	const char **names = cfg_calloc(cfg->num_upstreams, sizeof(*names));
	const char *hint;

	for (size_t i = 0; i < cfg->num_upstreams; i++) {
		names[i] = cfg->upstreams[i].name;
		if (strcmp(names[i], name) == 0) {
			*index = i;
			free(names);
			return;
		}
	}
	hint = value_closest(name, names, cfg->num_upstreams);
	if (hint)
		cfg_error(c, at, "route %zu: upstream \"%s\" is not defined (did you mean \"%s\"?)", num,
			  name, hint);
	else
		cfg_error(c, at, "route %zu: upstream \"%s\" is not defined under upstreams:", num,
			  name);
	free(names);
}

/* Whole-entry checks once every key of route num (1-based) is read. */
static void cfg_route_finish(struct cfg_ctx *c, struct route_config *r, size_t num,
			     const struct ynode *item)
{
	const char *set[ARRAY_SIZE(route_actions)];
	size_t n = 0;

	if (!r->name)
		BUG_ON(asprintf(&r->name, "route-%zu", num) < 0);
	else if (!*r->name)
		cfg_error(c, ynode_get(item, "name"), "route %zu: name must not be empty", num);
	if (item->kind != YNODE_MAPPING && !ynode_is_null(item))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(route_actions); i++) {
		const struct ynode *v = ynode_get(item, route_actions[i]);
		if (v && !ynode_is_null(v))
			set[n++] = route_actions[i];
	}
	if (n == 0)
		cfg_error(c, item, "route %zu: needs one of upstream, respond, split or redirect", num);
	else if (n > 1)
		cfg_error(c, item,
			  "route %zu: only one of upstream, respond, split or redirect may be set (found %s and %s)",
			  num, set[0], set[1]);
	if (r->upstream)
		cfg_route_upstream(c, r->upstream, &r->upstream_index, num, ynode_get(item, "upstream"));
	if (r->mirror && r->mirror->upstream)
		cfg_route_upstream(c, r->mirror->upstream, &r->mirror->upstream_index, num,
				   ynode_get(ynode_get(item, "mirror"), "upstream"));
	for (size_t i = 0; i < r->num_split; i++)
		if (r->split[i].upstream)
			cfg_route_upstream(c, r->split[i].upstream, &r->split[i].upstream_index, num,
					   ynode_get(ynode_get(item, "split")->items[i], "upstream"));
}

static void cfg_check_route_names(struct cfg_ctx *c, const struct ynode *list)
{
	const struct proxy_config *cfg = c->cfg;

	for (size_t j = 0; j < cfg->num_routes; j++) {
		const struct ynode *at = ynode_get(list->items[j], "name");
		for (size_t i = 0; i < j; i++) {
			if (cfg->routes[i].name && cfg->routes[j].name && *cfg->routes[j].name &&
			    strcmp(cfg->routes[i].name, cfg->routes[j].name) == 0) {
				cfg_error(c, at ? at : list->items[j], "route %zu: name \"%s\" is already used by route %zu",
					  j + 1, cfg->routes[j].name, i + 1);
				break;
			}
		}
	}
}

void cfg_load_routes(struct cfg_ctx *c, const struct cfg_key *k, const struct ynode *key,
		     const struct ynode *value, void *obj)
{
	struct proxy_config *cfg = c->cfg;
	char what[64];

	if (!cfg_is_list(c, value, "a list of routes"))
		return;
	cfg->routes = cfg_calloc(value->num_items, sizeof(*cfg->routes));
	cfg->num_routes = value->num_items;
	for (size_t i = 0; i < value->num_items; i++) {
		struct route_config *r = &cfg->routes[i];
		const struct ynode *item = value->items[i];

		r->line = item->line;
		r->column = item->column;
		r->websocket = true;
		snprintf(what, sizeof(what), "route %zu", i + 1);
		cfg_walk(c, item, route_keys, ARRAY_SIZE(route_keys), r, what);
		cfg_route_finish(c, r, i + 1, item);
	}
	cfg_check_route_names(c, value);
	cfg->route_table = route_table_new(cfg->routes, cfg->num_routes);
	BUG_ON(!cfg->route_table);
}

void cfg_free_routes(struct route_config *routes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct route_config *r = &routes[i];
		free(r->name);
		free(r->host);
		free(r->path_prefix);
		free(r->path_exact);
		free(r->path_regex);
		regex_free(r->path_re);
		cfg_free_strings(r->methods, r->num_methods);
		cfg_free_headers(r->match_headers, r->num_match_headers);
		free(r->upstream);
		if (r->redirect)
			free(r->redirect->to);
		free(r->redirect);
		for (size_t j = 0; j < r->num_split; j++)
			free(r->split[j].upstream);
		free(r->split);
		if (r->rewrite) {
			free(r->rewrite->regex);
			free(r->rewrite->to);
			regex_free(r->rewrite->re);
		}
		free(r->rewrite);
		if (r->mirror)
			free(r->mirror->upstream);
		free(r->mirror);
		if (r->respond) {
			free(r->respond->body);
			free(r->respond->content_type);
			free(r->respond);
		}
		free(r->strip_prefix);
		cfg_free_headers(r->set_request_headers, r->num_set_request_headers);
		cfg_free_headers(r->set_response_headers, r->num_set_response_headers);
	}
	free(routes);
}
