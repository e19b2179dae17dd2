/*
 * exchange_log: the access log line of a finished exchange, in JSON
 * (PRODUCT.md §5 fields) or the combined format nginx and Apache write.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "net/addr.h"
#include "proxy/exchange_steps.h"

#define LINE_MAX_BYTES 4096

struct line {
	char *p;
	size_t len;
	size_t cap;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len + n > l->cap)
		n = l->cap - l->len;
	memcpy(l->p + l->len, s, n);
	l->len += n;
}

#define PUT_LIT(l, s) put((l), (s), sizeof(s) - 1)

static void putf(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));


static void putf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->p + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len += (size_t)n < l->cap - l->len ? (size_t)n : l->cap - l->len - 1;
}

/* A JSON string, or null when empty; control characters and quotes escaped. */
static void put_json_string(struct line *l, const char *s)
{
	if (!s || !*s) {
		PUT_LIT(l, "null");
		return;
	}
	PUT_LIT(l, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			put(l, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			putf(l, "\\u%04x", c);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
	PUT_LIT(l, "\"");
}

static const char *protocol(const struct exchange *x)
{
	if (x->ds->parent)
		return "HTTP/2.0";
	return x->client_minor == 0 ? "HTTP/1.0" : "HTTP/1.1";
}

static void format_time(uint64_t wall_ms, char *out, size_t size, bool combined)
{
	time_t sec = (time_t)(wall_ms / 1000);
	struct tm tm;
	gmtime_r(&sec, &tm);
	if (combined)
		strftime(out, size, "%d/%b/%Y:%H:%M:%S +0000", &tm);
	else if (strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm) > 0)
		snprintf(out + 19, size - 19, ".%03uZ", (unsigned)(wall_ms % 1000));
}

static void format_json(struct exchange *x, struct line *l, uint64_t start_ms, double duration_ms)
{
	char when[40];
	const char *upstream = x->server ? x->server->config->address : NULL;
	format_time(start_ms, when, sizeof(when), false);
	putf(l, "{\"time\":\"%s\",\"client_ip\":", when);
	put_json_string(l, x->client_ip);
	PUT_LIT(l, ",\"method\":");
	put_json_string(l, x->log.method);
	PUT_LIT(l, ",\"host\":");
	put_json_string(l, x->log.host);
	PUT_LIT(l, ",\"path\":");
	put_json_string(l, x->log.path);
	putf(l, ",\"protocol\":\"%s\",\"status\":%d,\"bytes_sent\":%llu,\"duration_ms\":%.3f",
	     protocol(x), x->status, (unsigned long long)x->resp.written, duration_ms);
	PUT_LIT(l, ",\"upstream\":");
	put_json_string(l, upstream);
	if (x->server && x->upstream_end_us)
		putf(l, ",\"upstream_ms\":%.3f",
		     (double)(x->upstream_end_us - x->upstream_start_us) / 1000.0);
	else
		PUT_LIT(l, ",\"upstream_ms\":null");
	PUT_LIT(l, ",\"cache\":null,\"request_id\":");
	put_json_string(l, x->request_id);
	PUT_LIT(l, ",\"user_agent\":");
	put_json_string(l, x->log.user_agent);
	PUT_LIT(l, ",\"route\":");
	put_json_string(l, x->route ? x->route->name : NULL);
	PUT_LIT(l, "}");
}

/* Quotes are not allowed inside the combined format's quoted fields. */
static void put_combined_field(struct line *l, const char *s)
{
	if (!*s) {
		PUT_LIT(l, "-");
		return;
	}
	for (; *s; s++)
		put(l, (*s == '"' || (unsigned char)*s < 0x20) ? "_" : s, 1);
}

static void format_combined(struct exchange *x, struct line *l, uint64_t start_ms)
{
	char when[40];
	format_time(start_ms, when, sizeof(when), true);
	putf(l, "%s - - [%s] \"", x->client_ip, when);
	put_combined_field(l, x->log.method);
	PUT_LIT(l, " ");
	put_combined_field(l, x->log.path);
	uint64_t body = x->resp.written > x->resp_head_len ? x->resp.written - x->resp_head_len : 0;
	putf(l, " %s\" %d %llu \"", protocol(x), x->status, (unsigned long long)body);
	put_combined_field(l, x->log.referer);
	PUT_LIT(l, "\" \"");
	put_combined_field(l, x->log.user_agent);
	PUT_LIT(l, "\"");
}

void exchange_log(struct exchange *x)
{
	struct access_log *log = x->worker->access_log;
	char buf[LINE_MAX_BYTES];
	struct line l = { .p = buf, .cap = sizeof(buf) };

	if (!log)
		return;
	uint64_t duration_us = x->worker->loop.now_us - x->start_us;
	/* the wall clock is read only when a line is written */
	uint64_t start_ms = clock_realtime_ms() - duration_us / 1000;
	if (access_log_format(log) == ACCESS_LOG_JSON)
		format_json(x, &l, start_ms, (double)duration_us / 1000.0);
	else
		format_combined(x, &l, start_ms);
	access_log_append(log, x->worker->id, buf, l.len);
}
