/*
 * main: the command line (PRODUCT.md §1). Parses flags, loads the
 * configuration (a file, or quick-mode flags turned into the same YAML),
 * and either checks it (-t) or runs the server. Exit codes: 0 clean stop,
 * 1 bad configuration, 2 bad command line, 3 could not bind or start.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/explain.h"
#include "app/server.h"
#include "config/config.h"
#include "log/log.h"
#include "http/h2_server.h"
#include "net/resolver.h"
#include "net/tls.h"
#include "route/route_shadow.h"

#define PORTICO_VERSION "0.1.0"

static const char usage_text[] =
	"usage: portico [-c FILE] [-t]\n"
	"       portico --listen ADDR --upstream ADDR[,ADDR...] [--balance ALGO] [--workers N]\n"
	"               [--cache SIZE] [--compress] [--tls-cert FILE --tls-key FILE] [--http2]\n"
	"               [--health-check PATH] [--rate-limit RATE] [--admin ADDR]\n"
	"               [--access-log FILE|-]\n"
	"       portico --version | --help\n"
	"\n"
	"  -c FILE            configuration file (default: ./portico.yaml)\n"
	"  -t                 check the configuration and exit\n"
	"  --listen ADDR      quick mode: listen on ADDR (127.0.0.1:8080, [::1]:8080, :8080)\n"
	"  --upstream LIST    quick mode: comma-separated upstream servers\n"
	"  --balance ALGO     quick mode: balancing algorithm (round_robin)\n"
	"  --workers N        quick mode: worker threads (default: one per core)\n"
	"  --access-log DEST  quick mode: access log file, or - for stdout\n"
	"  --version          print versions and exit\n"
	"  --help             print this help and exit\n"
	"\n"
	"Signals: SIGTERM/SIGINT drain and stop, SIGQUIT stops at once.\n";

enum {
	OPT_LISTEN = 256, OPT_UPSTREAM, OPT_BALANCE, OPT_WORKERS, OPT_CACHE, OPT_COMPRESS,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_HTTP2, OPT_HEALTH_CHECK, OPT_RATE_LIMIT, OPT_ADMIN,
	OPT_ACCESS_LOG, OPT_VERSION, OPT_HELP,
};

static const struct option long_options[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "upstream", required_argument, NULL, OPT_UPSTREAM },
	{ "balance", required_argument, NULL, OPT_BALANCE },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "cache", required_argument, NULL, OPT_CACHE },
	{ "compress", no_argument, NULL, OPT_COMPRESS },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "http2", no_argument, NULL, OPT_HTTP2 },
	{ "health-check", required_argument, NULL, OPT_HEALTH_CHECK },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "admin", required_argument, NULL, OPT_ADMIN },
	{ "access-log", required_argument, NULL, OPT_ACCESS_LOG },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

struct command_line {
	const char *config_path;
	bool check_only;
	bool quick;
	struct quick_options quick_options;
};

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "portico: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'portico --help'.\n");
	return EXIT_BAD_USAGE;
}

static void print_version(void)
{
	printf("portico %s\n", PORTICO_VERSION);
	printf("libyaml %s\n", config_yaml_version());
	printf("c-ares %s\n", resolver_version());
	printf("%s\n", tls_library_version());
	printf("nghttp2 %s\n", h2_library_version());
}

/* Returns -1 to go on, or an exit code. */
static int quick_flag(struct command_line *cl, int opt, const char *arg)
{
	struct quick_options *q = &cl->quick_options;
	cl->quick = true;
	switch (opt) {
	case OPT_LISTEN: q->listen = arg; break;
	case OPT_UPSTREAM: q->upstreams = arg; break;
	case OPT_BALANCE: q->balance = arg; break;
	case OPT_WORKERS: q->workers = arg; break;
	case OPT_CACHE: q->cache = arg; break;
	case OPT_COMPRESS: q->compress = true; break;
	case OPT_TLS_CERT: q->tls_cert = arg; break;
	case OPT_TLS_KEY: q->tls_key = arg; break;
	case OPT_HTTP2: q->http2 = true; break;
	case OPT_HEALTH_CHECK: q->health_check = arg; break;
	case OPT_RATE_LIMIT: q->rate_limit = arg; break;
	case OPT_ADMIN: q->admin = arg; break;
	case OPT_ACCESS_LOG: q->access_log = arg; break;
	default: return EXIT_BAD_USAGE;
	}
	return -1;
}

static int parse_command_line(int argc, char **argv, struct command_line *cl)
{
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:th", long_options, NULL)) != -1) {
		switch (opt) {
		case 'c': cl->config_path = optarg; break;
		case 't': cl->check_only = true; break;
		case 'h':
		case OPT_HELP: fputs(usage_text, stdout); return EXIT_OK;
		case OPT_VERSION: print_version(); return EXIT_OK;
		case ':': return bad_usage("option %s needs a value", argv[optind - 1]);
		case '?': return bad_usage("unknown option %s", argv[optind - 1]);
		default:
			if (quick_flag(cl, opt, optarg) >= 0)
				return EXIT_BAD_USAGE;
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument %s", argv[optind]);
	if (cl->quick && cl->config_path)
		return bad_usage("%s", "-c cannot be combined with quick-mode flags");
	if (cl->quick && (!cl->quick_options.listen || !cl->quick_options.upstreams))
		return bad_usage("%s", "quick mode needs both --listen and --upstream");
	return -1;
}

static struct proxy_config *load(const struct command_line *cl, struct config_errors *errs)
{
	if (!cl->quick)
		return config_load_file(cl->config_path ? cl->config_path : "portico.yaml", errs);
	char *yaml = config_quick_yaml(&cl->quick_options);
	if (!yaml)
		return NULL;
	struct proxy_config *cfg = config_load_buffer("command line", yaml, strlen(yaml), NULL, errs);
	free(yaml);
	return cfg;
}

/* -t: routes an earlier route hides are warnings, not errors. */
static void warn_shadowed_routes(const struct proxy_config *cfg)
{
	size_t n;
	struct route_shadow *s = route_find_shadowed(cfg->routes, cfg->num_routes, &n);

	for (size_t i = 0; i < n; i++) {
		const struct route_config *r = &cfg->routes[s[i].route], *by = &cfg->routes[s[i].by];
		fprintf(stderr, "%s:%d:%d: warning: route %zu (%s) can never match: route %zu (%s) matches everything it does\n",
			cfg->source_name, r->line, r->column, s[i].route + 1, r->name, s[i].by + 1, by->name);
	}
	free(s);
}

int main(int argc, char **argv)
{
	struct command_line cl = { 0 };
	struct config_errors errs = { 0 };

	if (argc > 1 && strcmp(argv[1], "explain") == 0)
		return explain_main(argc - 1, argv + 1);
	int rc = parse_command_line(argc, argv, &cl);
	if (rc >= 0)
		return rc;
	struct proxy_config *cfg = load(&cl, &errs);
	if (!cfg) {
		for (size_t i = 0; i < errs.count; i++)
			fprintf(stderr, "%s\n", errs.messages[i]);
		if (errs.count == 0)
			fprintf(stderr, "portico: out of memory loading the configuration\n");
		config_errors_deinit(&errs);
		return EXIT_BAD_CONFIG;
	}
	if (cl.check_only) {
		warn_shadowed_routes(cfg);
		printf("configuration ok\n");
		config_free(cfg);
		return EXIT_OK;
	}
	return server_run(cfg);
}
