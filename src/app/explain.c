#include "app/explain.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/server.h"
#include "config/config.h"
#include "core/bug.h"
#include "http/h1_parser.h"
#include "net/addr.h"
#include "route/route_explain.h"
#include "route/normalize.h"
#include "route/route_table.h"
#include "route/router.h"

#define EXPLAIN_MAX_HEADERS 64

static const char usage[] =
	"usage: portico explain -c FILE METHOD URL [-H 'Name: value']... [--client-ip IP]\n";

struct explain_request {
	const char *config_path;
	const char *method;
	const char *url;
	const char *client_ip;
	struct http_header headers[EXPLAIN_MAX_HEADERS];
	size_t num_headers;
	struct slice host;
	struct slice path;
	unsigned port;   /* from the URL, 0 if none */
};

static int bad(const char *what)
{
	fprintf(stderr, "portico explain: %s\n%s", what, usage);
	return EXIT_BAD_USAGE;
}

static bool add_header(struct explain_request *er, const char *arg)
{
	const char *colon = strchr(arg, ':');
	if (!colon || colon == arg || er->num_headers == EXPLAIN_MAX_HEADERS)
		return false;
	er->headers[er->num_headers].name = slice_make(arg, (size_t)(colon - arg));
	er->headers[er->num_headers].value = slice_trim(slice_from_cstr(colon + 1));
	er->num_headers++;
	return true;
}

/* http://host[:port]/path?query, or a bare /path (host from -H Host). */
static bool split_url(struct explain_request *er)
{
	const char *u = er->url;
	const char *rest = u;
	if (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) {
		const char *auth = strchr(u, '/') + 2;
		size_t n = strcspn(auth, "/?");
		er->host = slice_make(auth, n);
		const char *colon = memchr(auth, ':', n);
		if (colon)
			er->port = (unsigned)strtoul(colon + 1, NULL, 10);
		rest = auth + n;
	} else if (u[0] != '/') {
		return false;
	}
	if (!er->host.len)
		er->host = h1_find_header(er->headers, er->num_headers, "host");
	if (!er->host.ptr)
		er->host = SLICE_LIT("");
	er->path = slice_make(rest[0] ? rest : "/", rest[0] ? strcspn(rest, "?") : 1);
	return true;
}

static int parse_args(int argc, char **argv, struct explain_request *er)
{
	static const struct option opts[] = {
		{ "client-ip", required_argument, NULL, 'i' }, { NULL, 0, NULL, 0 },
	};
	int opt;

	/* glibc's getopt moves METHOD and URL after the options, wherever
	 * they were given. */
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "c:H:", opts, NULL)) != -1) {
		if (opt == 'c')
			er->config_path = optarg;
		else if (opt == 'H' && !add_header(er, optarg))
			return bad("-H takes 'Name: value'");
		else if (opt == 'i')
			er->client_ip = optarg;
		else if (opt != 'H')
			return bad("unknown option or missing value");
	}
	if (argc - optind != 2)
		return bad("expected METHOD URL");
	er->method = argv[optind];
	er->url = argv[optind + 1];
	if (!split_url(er))
		return bad("URL must be http://host/path or /path");
	return -1;
}

static const struct listener_config *pick_listener(const struct proxy_config *cfg, unsigned port)
{
	for (size_t i = 0; port && i < cfg->num_listeners; i++) {
		char text[64];
		addr_format(&cfg->listeners[i].addr, text, sizeof(text));
		const char *colon = strrchr(text, ':');
		if (colon && strtoul(colon + 1, NULL, 10) == port)
			return &cfg->listeners[i];
	}
	return &cfg->listeners[0];
}

static void print_listener(const struct listener_config *l)
{
	const struct listener_tls_config *tls = l->tls;

	printf("listener: %s (%s", l->name, l->address);
	if (tls)
		printf(", TLS %s+, %zu certificate%s%s", tls->min_version == 13 ? "1.3" : "1.2",
		       tls->num_certs, tls->num_certs == 1 ? "" : "s",
		       tls->client_ca ? ", client certificates required" : "");
	printf("%s)\n", l->http2 ? ", HTTP/2" : "");
}

struct wanted_token {
	const char *token;
	bool found;
};

static bool visit_token(struct slice token, void *arg)
{
	struct wanted_token *w = arg;
	if (slice_ieq_cstr(token, w->token))
		w->found = true;
	return true;
}

/* Whether a field `name` of the request lists token. */
static bool lists(const struct explain_request *er, const char *name, const char *token)
{
	struct wanted_token w = { token, false };

	for (size_t i = 0; i < er->num_headers; i++)
		if (slice_ieq_cstr(er->headers[i].name, name))
			h1_each_token(er->headers[i].value, visit_token, &w);
	return w.found;
}

/* A WebSocket handshake, as the proxy tells one (GET, Upgrade: websocket,
 * Connection: upgrade). */
static bool asks_websocket(const struct explain_request *er)
{
	return strcmp(er->method, "GET") == 0 && lists(er, "upgrade", "websocket") &&
	       lists(er, "connection", "upgrade");
}

static void print_upstream(const struct upstream_config *up)
{
	static const char *const balance[] = { "round_robin", "least_conn", "p2c", "random",
					       "ip_hash", "hash", "ewma", "geo" };
	printf("upstream: %s (balance %s, retries %u, connect_timeout %llums, "
	       "response_timeout %llums)\n",
	       up->name, balance[up->balance], up->retries,
	       (unsigned long long)up->connect_timeout_ms, (unsigned long long)up->response_timeout_ms);
	if (up->tls)
		printf("  tls: sni %s, verify %s%s%s\n", up->tls->sni ? up->tls->sni : "(none)",
		       up->tls->verify ? "on" : "off", up->tls->verify && up->tls->ca ? ", ca " : "",
		       up->tls->verify && up->tls->ca ? up->tls->ca : "");
	if (up->dns)
		printf("  servers from dns %s, every %llums; at load time:\n", up->dns,
		       (unsigned long long)up->dns_ttl_ms);
	for (size_t i = 0; i < up->num_servers; i++)
		printf("  server %s weight %u%s\n", up->servers[i].address, up->servers[i].weight,
		       up->servers[i].backup ? " (backup)" : "");
	if (up->health_check)
		printf("  health check: GET %s every %llums\n", up->health_check->path,
		       (unsigned long long)up->health_check->interval_ms);
	if (up->sticky)
		printf("  sticky: cookie %s\n", up->sticky->cookie);
}

static void print_action(const struct proxy_config *cfg, const struct route_config *r)
{
	if (r->respond) {
		printf("action: portico answers %d (%s) itself\n", r->respond->status,
		       r->respond->content_type);
		return;
	}
	print_upstream(&cfg->upstreams[r->upstream_index]);
	if (r->strip_prefix)
		printf("strip_prefix: %s\n", r->strip_prefix);
	for (size_t i = 0; i < r->num_set_request_headers; i++)
		printf("set request header: %s: %s\n", r->set_request_headers[i].name,
		       r->set_request_headers[i].value[0] ? r->set_request_headers[i].value
							  : "(removed)");
	for (size_t i = 0; i < r->num_set_response_headers; i++)
		printf("set response header: %s: %s\n", r->set_response_headers[i].name,
		       r->set_response_headers[i].value[0] ? r->set_response_headers[i].value
							   : "(removed)");
}

static void print_policies(void)
{
	printf("cache: none\ncompression: none\nrate limit: none\naccess list: none (all allowed)\n"
	       "waf: off\ngeo: none\n");
}

static int explain(const struct proxy_config *cfg, const struct explain_request *er)
{
	struct route_request rr = {
		.method = slice_from_cstr(er->method),
		.host = er->host,
		.path = er->path,
		.headers = er->headers,
		.num_headers = er->num_headers,
	};
	const struct listener_config *l = pick_listener(cfg, er->port);
	char why[512];
	char normal[4096];

	printf("request: %s %s (host \"%.*s\", path \"%.*s\", client %s)\n", er->method, er->url,
	       (int)er->host.len, er->host.ptr, (int)er->path.len, er->path.ptr,
	       er->client_ip ? er->client_ip : "127.0.0.1");
	print_listener(l);
	/* Routing sees the normalised path, as a real request would. */
	int rc = normalize_path(er->path, normal, sizeof(normal), &rr.path);
	if (rc == -EINVAL) {
		printf("result: the path escapes the root: portico would answer 400\n");
		return EXIT_OK;
	}
	if (rc != 0)
		rr.path = er->path;
	if (!slice_eq(rr.path, er->path))
		printf("normalised path: \"%.*s\"\n", (int)rr.path.len, rr.path.ptr);
	int chosen = route_table_match(cfg->route_table, &rr);
	for (int i = 0; i < (int)cfg->num_routes && (chosen < 0 || i < chosen); i++) {
		route_explain_match(&cfg->routes[i], &rr, why, sizeof(why));
		printf("route %d (%s, line %d): no match: %s\n", i + 1, cfg->routes[i].name,
		       cfg->routes[i].line, why);
	}
	if (chosen < 0) {
		printf("result: no route matches: portico would answer 404\n");
		return EXIT_OK;
	}
	const struct route_config *r = &cfg->routes[chosen];
	printf("route %d (%s, line %d): match\n", chosen + 1, r->name, r->line);
	if (asks_websocket(er) && !r->respond && !r->redirect) {
		if (!r->websocket) {
			printf("result: WebSocket is off for this route: portico would answer 403\n");
			return EXIT_OK;
		}
		printf("websocket: the handshake goes to the upstream; after its 101 the "
		       "connection is a tunnel\n");
	}
	print_action(cfg, r);
	print_policies();
	return EXIT_OK;
}

int explain_main(int argc, char **argv)
{
	struct explain_request er = { 0 };
	struct config_errors errs = { 0 };

	int rc = parse_args(argc, argv, &er);
	if (rc >= 0)
		return rc;
	struct proxy_config *cfg =
		config_load_file(er.config_path ? er.config_path : "portico.yaml", &errs);
	if (!cfg) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.messages[i]);
		config_errors_deinit(&errs);
		return EXIT_BAD_CONFIG;
	}
	rc = explain(cfg, &er);
	config_free(cfg);
	return rc;
}
