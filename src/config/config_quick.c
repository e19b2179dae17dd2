/*
 * config_quick: quick-mode flags -> the YAML a user would have written.
 *
 * Going through YAML rather than filling struct proxy_config directly keeps
 * one validation path: a flag gets exactly the checks and messages its key
 * gets in a file, including "not supported yet". Every value is emitted as a
 * double-quoted YAML string with escapes, so a flag's text can never add keys.
 *
 * The generated file has one listener "quick", one upstream "app" holding
 * every --upstream address, and one route "default" sending everything there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void quick_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void quick_key(FILE *f, const char *indent_key, const char *value)
{
	fputs(indent_key, f);
	quick_str(f, value);
	fputc('\n', f);
}

/* "A, B,,C" -> one "- address:" line per non-empty, space-trimmed item. */
static void quick_servers(FILE *f, const char *list)
{
	const char *p = list ? list : "";
	int count = 0;

	fputs("    servers:\n", f);
	while (*p) {
		size_t len = strcspn(p, ",");
		const char *start = p, *end = p + len;
		char *item;

		while (start < end && (*start == ' ' || *start == '\t'))
			start++;
		while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > start && (item = strndup(start, (size_t)(end - start)))) {
			quick_key(f, "      - address: ", item);
			free(item);
			count++;
		}
		p += len + (p[len] == ',');
	}
	if (count == 0)
		fputs("      []\n", f);
}

static void quick_listener(FILE *f, const struct quick_options *q)
{
	fputs("listeners:\n  - name: quick\n", f);
	quick_key(f, "    address: ", q->listen ? q->listen : "");
	if (q->http2)
		fputs("    http2: true\n", f);
	if (q->tls_cert || q->tls_key) {
		fputs("    tls:\n      certificates:\n", f);
		if (q->tls_cert)
			quick_key(f, "        - cert: ", q->tls_cert);
		else
			fputs("        - cert: null\n", f);
		if (q->tls_key)
			quick_key(f, "          key: ", q->tls_key);
		else
			fputs("          key: null\n", f);
	}
}

static void quick_route(FILE *f, const struct quick_options *q)
{
	fputs("routes:\n  - name: default\n    upstream: app\n", f);
	if (q->cache)
		fputs("    cache: default\n", f);
	if (q->compress)
		fputs("    compress: true\n", f);
	if (q->rate_limit)
		fputs("    rate_limit: default\n", f);
}

char *config_quick_yaml(const struct quick_options *q)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	if (!f)
		return NULL;
	fputs("# generated from the command line (quick mode)\n", f);
	if (q->workers)
		quick_key(f, "workers: ", q->workers);
	quick_listener(f, q);
	fputs("upstreams:\n  app:\n", f);
	if (q->balance)
		quick_key(f, "    balance: ", q->balance);
	quick_servers(f, q->upstreams);
	if (q->health_check) {
		fputs("    health_check:\n", f);
		quick_key(f, "      path: ", q->health_check);
	}
	quick_route(f, q);
	if (q->cache) {
		fputs("caches:\n  default:\n", f);
		quick_key(f, "    memory: ", q->cache);
	}
	if (q->rate_limit) {
		fputs("rate_limits:\n  default:\n", f);
		quick_key(f, "    rate: ", q->rate_limit);
	}
	if (q->admin) {
		fputs("admin:\n", f);
		quick_key(f, "  address: ", q->admin);
	}
	if (q->access_log) {
		fputs("access_log:\n", f);
		quick_key(f, "  path: ", q->access_log);
	} else {
		fputs("access_log: null\n", f);
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
