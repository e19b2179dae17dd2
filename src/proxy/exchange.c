#include "proxy/exchange.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bug.h"
#include "core/clock.h"
#include "core/hash.h"
#include "log/log.h"
#include "proxy/client_ip.h"
#include "proxy/exchange_steps.h"
#include "proxy/forward.h"
#include "proxy/lb_key.h"
#include "proxy/local_response.h"
#include "proxy/mirror.h"
#include "proxy/sticky.h"
#include "proxy/vars.h"
#include "route/normalize.h"
#include "route/regex.h"
#include "route/route_table.h"
#include "route/router.h"

static const char *const step_names[] = {
#define X_NAME(name) #name,
	EXCHANGE_STEPS(X_NAME)
#undef X_NAME
};

const char *exchange_step_name(enum exchange_step step)
{
	return step_names[step];
}

void exchange_ignore(struct exchange *x)
{
}

static struct exchange *x_alloc(struct downstream *ds)
{
	struct proxy_worker *w = ds->worker;
	struct exchange *x;

	if (!list_empty(&w->free_exchanges)) {
		x = list_entry(w->free_exchanges.next, struct exchange, free_link);
		list_unlink(&x->free_link);
	} else if (!(x = malloc(sizeof(*x)))) {
		return NULL;
	}
	memset(x, 0, offsetof(struct exchange, log));
	x->log.method[0] = x->log.host[0] = x->log.path[0] = '\0';
	x->log.user_agent[0] = x->log.referer[0] = '\0';
	memset(&x->vars, 0, sizeof(x->vars));
	list_init(&x->free_link);
	x->worker = w;
	x->gen = ds->listener->gen;
	x->ds = ds;
	x->failed_server = -1;
	x->sticky_server = -1;
	x->client_minor = 1;
	x->start_us = x->worker->loop.now_us;
	ds->exchange = x;
	timer_unlink(&w->loop.timers, &ds->timer);
	ds->requests++;
	return x;
}

static void x_recycle(struct exchange *x)
{
	struct proxy_worker *w = x->worker;

	buf_put(&w->bufs, x->req_head);
	buf_put(&w->bufs, x->resp_head);
	x->req_head = x->resp_head = NULL;
	list_push_front(&w->free_exchanges, &x->free_link);
}

static void new_request_id(struct exchange *x)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t a = rand_next(&x->worker->rand), b = rand_next(&x->worker->rand);

	for (int i = 0; i < 16; i++) {
		x->request_id[i] = hex[(a >> (i * 4)) & 15];
		x->request_id[16 + i] = hex[(b >> (i * 4)) & 15];
	}
	x->request_id[32] = '\0';
	x->request_id_len = 32;
}

static void copy_field(char *dst, size_t size, struct slice s)
{
	size_t n = s.len < size - 1 ? s.len : size - 1;
	if (n)
		memcpy(dst, s.ptr, n);
	dst[n] = '\0';
}

static bool method_idempotent(struct slice m)
{
	static const char *const idempotent[] = { "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE" };
	for (size_t i = 0; i < ARRAY_SIZE(idempotent); i++)
		if (slice_eq(m, slice_from_cstr(idempotent[i])))
			return true;
	return false;
}

/* Where the request goes: host and path from an origin- or absolute-form
 * target. Returns false for a target portico does not proxy. */
struct request_target {
	struct slice host;
	struct slice path;     /* without the query, for routing */
	struct slice forward;  /* origin-form target sent upstream */
};

static bool split_target(const struct h1_request *req, const struct h1_request_framing *fr,
			 struct request_target *t)
{
	struct slice target = req->target;
	t->host = fr->host;
	if (target.len >= 7 && (slice_ieq(slice_make(target.ptr, 7), SLICE_LIT("http://")) ||
				(target.len >= 8 &&
				 slice_ieq(slice_make(target.ptr, 8), SLICE_LIT("https://"))))) {
		size_t skip = target.ptr[4] == ':' ? 7 : 8;
		const char *auth = target.ptr + skip;
		size_t rest = target.len - skip, n = 0;
		while (n < rest && auth[n] != '/' && auth[n] != '?')
			n++;
		t->host = slice_make(auth, n);
		if (n == 0 || !h1_host_valid(t->host))
			return false;
		target = slice_make(auth + n, rest - n);
		if (target.len == 0)
			target = SLICE_LIT("/");
		if (target.ptr[0] == '?')
			return false;
	} else if (target.len == 1 && target.ptr[0] == '*') {
		if (!slice_eq(req->method, SLICE_LIT("OPTIONS")))
			return false;
	} else if (target.len == 0 || target.ptr[0] != '/') {
		return false;
	}
	t->forward = target;
	const char *q = memchr(target.ptr, '?', target.len);
	t->path = slice_make(target.ptr, q ? (size_t)(q - target.ptr) : target.len);
	return true;
}

/* The request fields an exchange keeps, found in one pass over the head
 * (the first of each, as h1_find_header would give). */
struct noted_fields {
	struct slice request_id;
	struct slice user_agent;
	struct slice referer;
	struct slice accept;
};

static void find_noted_fields(const struct h1_request *req, struct noted_fields *f)
{
	*f = (struct noted_fields){ SLICE_NULL, SLICE_NULL, SLICE_NULL, SLICE_NULL };
	for (size_t i = 0; i < req->num_headers; i++) {
		struct slice name = req->headers[i].name;
		struct slice *slot = NULL;
		if (slice_ieq_cstr(name, "x-request-id"))
			slot = &f->request_id;
		else if (slice_ieq_cstr(name, "user-agent"))
			slot = &f->user_agent;
		else if (slice_ieq_cstr(name, "referer"))
			slot = &f->referer;
		else if (slice_ieq_cstr(name, "accept"))
			slot = &f->accept;
		if (slot && !slot->ptr)
			*slot = req->headers[i].value;
	}
}

static void take_request_id(struct exchange *x, struct slice id)
{
	if (id.ptr && forward_request_id_valid(id)) {
		memcpy(x->request_id, id.ptr, id.len);
		x->request_id[id.len] = '\0';
		x->request_id_len = id.len;
	} else {
		new_request_id(x);
	}
}

/* The variables, over the exchange's own copies of the request's fields. */
static void set_vars(struct exchange *x)
{
	struct slice uri = slice_from_cstr(x->log.path);
	const char *q = memchr(uri.ptr, '?', uri.len);
	struct vars *v = &x->vars;

	v->scheme = x->ds->tls ? SLICE_LIT("https") : SLICE_LIT("http");
	v->host = router_host_without_port(slice_from_cstr(x->log.host));
	v->request_uri = uri;
	v->uri = slice_make(uri.ptr, q ? (size_t)(q - uri.ptr) : uri.len);
	v->args = q ? slice_make(q + 1, uri.len - (size_t)(q + 1 - uri.ptr)) : SLICE_LIT("");
	v->client_ip = slice_from_cstr(x->client_ip);
	v->request_id = slice_make(x->request_id, x->request_id_len);
	v->ssl_client_s_dn = x->ds->client_subject ? slice_from_cstr(x->ds->client_subject)
						   : SLICE_LIT("");
}

static void note_request(struct exchange *x, const struct h1_request *req,
			 const struct request_target *t, const struct noted_fields *f)
{
	copy_field(x->log.method, sizeof(x->log.method), req->method);
	copy_field(x->log.host, sizeof(x->log.host), t->host);
	copy_field(x->log.path, sizeof(x->log.path), t->forward);
	copy_field(x->log.user_agent, sizeof(x->log.user_agent), f->user_agent);
	copy_field(x->log.referer, sizeof(x->log.referer), f->referer);
	x->client_minor = req->minor_version;
	x->head_request = slice_eq(req->method, SLICE_LIT("HEAD"));
	x->idempotent = method_idempotent(req->method);
	x->wants_json = local_response_wants_json(f->accept);
	client_ip_resolve(x->gen->config, x->ds->peer_ip, x->ds->peer_ip_text, req->headers,
			  req->num_headers, x->client_ip, sizeof(x->client_ip));
	set_vars(x);
}

/* strip_prefix: "/api" on "/api/users?x" forwards "/users?x". */
static void strip_prefix(const struct route_config *r, struct slice *target, bool *slash)
{
	*slash = false;
	if (!r->strip_prefix)
		return;
	struct slice prefix = slice_from_cstr(r->strip_prefix);
	if (!slice_starts_with(*target, prefix))
		return;
	target->ptr += prefix.len;
	target->len -= prefix.len;
	*slash = target->len == 0 || target->ptr[0] != '/';
}

#define REWRITE_MAX 4096

/* Appends the rewrite's `to` with $N replaced by the groups in caps. */
static size_t expand_groups(const char *to, const struct slice *caps, int n, char *out, size_t max)
{
	size_t o = 0;
	for (const char *p = to; *p; p++) {
		struct slice piece = slice_make(p, 1);
		if (p[0] == '$' && p[1] >= '0' && p[1] <= '9') {
			int g = p[1] - '0';
			piece = g < n ? caps[g] : SLICE_NULL;
			p++;
		}
		if (o + piece.len > max)
			return (size_t)-1;
		if (piece.len)
			memcpy(out + o, piece.ptr, piece.len);
		o += piece.len;
	}
	return o;
}

/* rewrite: when the path matches, it becomes `to` with the groups filled
 * in; the query is kept unless `to` has its own. False when the result does
 * not fit (the request is refused rather than sent half-rewritten). */
static bool rewrite_target(const struct route_rewrite *rw, struct slice *target, char *out)
{
	struct slice caps[10];
	const char *q = memchr(target->ptr, '?', target->len);
	struct slice path = slice_make(target->ptr, q ? (size_t)(q - target->ptr) : target->len);
	int n = regex_match(rw->re, path, caps, 10);

	if (n <= 0)
		return true;
	size_t len = expand_groups(rw->to, caps, n, out, REWRITE_MAX);
	if (len == (size_t)-1)
		return false;
	if (q && !strchr(rw->to, '?')) {
		size_t qlen = target->len - (size_t)(q - target->ptr);
		if (len + qlen > REWRITE_MAX)
			return false;
		memcpy(out + len, q, qlen);
		len += qlen;
	}
	*target = slice_make(out, len);
	return true;
}

static bool build_upstream_head(struct exchange *x, const struct h1_request *req,
				const struct request_target *t)
{
	struct forward_request f = {
		.method = req->method,
		.target = t->forward,
		.host = t->host,
		.headers = req->headers,
		.num_headers = req->num_headers,
		.framing = &x->framing,
		.peer_ip = slice_from_cstr(x->ds->peer_ip_text),
		.proto = x->vars.scheme,
		.request_id = slice_make(x->request_id, x->request_id_len),
		.route = x->route,
		.vars = &x->vars,
	};
	char rewritten[REWRITE_MAX];
	if (x->route->rewrite && !rewrite_target(x->route->rewrite, &f.target, rewritten))
		return false;
	strip_prefix(x->route, &f.target, &f.target_slash);
	x->req_head = buf_get(&x->worker->bufs, 0);
	if (x->req_head && forward_request_head(x->req_head, &f) == 0)
		return true;
	/* A head near the limit, grown by what portico adds (the host twice,
	 * X-Forwarded-For, route fields): one larger buffer, not a refusal. */
	size_t need = x->req_head ? x->req_head->cap * 2 + t->host.len * 2 : 0;
	buf_put(&x->worker->bufs, x->req_head);
	x->req_head = need ? buf_get(&x->worker->bufs, need) : NULL;
	return x->req_head && forward_request_head(x->req_head, &f) == 0;
}

/* The route's upstream, or for a split the side this client's IP hashes to:
 * a client stays on one side of a canary. */
static size_t split_upstream(const struct route_config *r, const char *client_ip)
{
	if (!r->num_split)
		return r->upstream_index;
	uint64_t point = hash_bytes(client_ip, strlen(client_ip), 0x73706c6974ULL) % r->split_total;
	for (size_t i = 0; i < r->num_split; i++) {
		if (point < r->split[i].weight)
			return r->split[i].upstream_index;
		point -= r->split[i].weight;
	}
	return r->split[r->num_split - 1].upstream_index;
}

static int route_request(struct exchange *x, const struct h1_request *req,
			 const struct request_target *t)
{
	const struct proxy_config *cfg = x->gen->config;
	struct route_request rr = {
		.method = req->method,
		.host = t->host,
		.path = t->path,
		.headers = req->headers,
		.num_headers = req->num_headers,
	};
	/* route on the normalised path; what is forwarded keeps the original bytes */
	if (normalize_path(t->path, x->worker->scratch_path, x->worker->scratch_path_capacity,
			   &rr.path) < 0)
		return 400;
	int i = route_table_match(cfg->route_table, &rr);
	if (i < 0)
		return 404;
	x->route = &cfg->routes[i];
	if (x->route->respond || x->route->redirect)
		return 0;
	x->upstream = &x->gen->upstreams[split_upstream(x->route, x->client_ip)];
	if (x->upstream->config->sticky)
		x->sticky_server = sticky_server(x->upstream, req, clock_realtime_ms() / 1000);
	x->lb_hash = lb_key_hash(x->upstream->config, req, x->client_ip, t->path, &x->lb_has_hash);
	return build_upstream_head(x, req, t) ? 0 : 431;
}

/* security.underscores_in_headers. Gateways that map field names to
 * variables (CGI, WSGI) read X_Forwarded_For as X-Forwarded-For, so a client
 * could forge a field portico sets. Dropped fields go before anything reads
 * the head: routing, balancer keys and the upstream never see them. One log
 * line per client connection (an HTTP/2 stream's is its parent's). False
 * when the policy is reject and such a field is there. */
static bool screen_underscores(struct exchange *x, struct h1_request *req)
{
	enum underscores_policy policy = x->gen->config->security.underscores_in_headers;
	struct downstream *conn = x->ds->parent ? x->ds->parent : x->ds;
	size_t kept = 0;

	if (policy == UNDERSCORES_ALLOW)
		return true;
	for (size_t i = 0; i < req->num_headers; i++) {
		struct slice name = req->headers[i].name;
		if (!memchr(name.ptr, '_', name.len)) {
			req->headers[kept++] = req->headers[i];
			continue;
		}
		if (policy == UNDERSCORES_REJECT)
			return false;
		if (!conn->underscores_logged)
			log_info("client %s: dropped request field \"%.*s\" (\"_\" in its name, "
				 "security.underscores_in_headers: drop); others on this connection "
				 "are dropped without a line", x->ds->peer_ip_text,
				 (int)(name.len < 64 ? name.len : 64), name.ptr);
		conn->underscores_logged = true;
	}
	req->num_headers = kept;
	return true;
}

void exchange_start(struct downstream *ds, struct h1_request *req, size_t head_len)
{
	struct exchange *x = x_alloc(ds);
	struct request_target t = { 0 };

	if (!x) {
		downstream_close(ds);
		return;
	}
	x->step = EXCHANGE_ROUTE;
	bool screened = screen_underscores(x, req);
	struct noted_fields fields;
	find_noted_fields(req, &fields);
	take_request_id(x, fields.request_id);
	int rc = screened ? h1_request_framing(req, &x->framing) : H1_ERR_BAD_REQUEST;
	if (rc == 0 && !split_target(req, &x->framing, &t))
		rc = H1_ERR_BAD_REQUEST;
	note_request(x, req, &t, &fields);
	if (rc != 0) {
		exchange_local(x, -rc, NULL);
		return;
	}
	x->keep_alive = x->framing.keep_alive;
	uint64_t max_body = ds->listener->config->limits.max_body_size;
	relay_init(&x->req, x->framing.body, x->framing.content_length, false);
	x->req.max_payload = max_body;
	int status = 0;
	if (max_body && x->framing.body == H1_BODY_LENGTH && x->framing.content_length > max_body)
		status = 413;
	else
		status = route_request(x, req, &t);
	buf_consume(ds->in, head_len);
	if (status) {
		exchange_local(x, status, NULL);
	} else if (x->route->respond) {
		exchange_local(x, x->route->respond->status, x->route);
	} else if (x->route->redirect) {
		exchange_local(x, x->route->redirect->status, x->route);
	} else {
		mirror_maybe_start(x);
		exchange_connect(x);
	}
}

/* The Accept line of a head that could not be parsed, found by a plain
 * scan, so even a refused client gets its error page in JSON if it asked. */
static struct slice raw_accept(const struct buf *in)
{
	static const char name[] = "\naccept:";
	const char *p = in ? in->data + in->start : NULL;
	size_t len = in ? in->end - in->start : 0;

	for (size_t i = 0; i + sizeof(name) - 1 <= len; i++) {
		struct slice at = slice_make(p + i, sizeof(name) - 1);
		if (!slice_ieq(at, slice_make(name, sizeof(name) - 1)))
			continue;
		const char *v = p + i + sizeof(name) - 1;
		const char *end = memchr(v, '\r', len - (size_t)(v - p));
		return end ? slice_make(v, (size_t)(end - v)) : SLICE_NULL;
	}
	return SLICE_NULL;
}

void exchange_reject(struct downstream *ds, int status)
{
	struct exchange *x = x_alloc(ds);
	if (!x) {
		downstream_close(ds);
		return;
	}
	x->wants_json = local_response_wants_json(raw_accept(ds->in));
	new_request_id(x);
	snprintf(x->client_ip, sizeof(x->client_ip), "%s", ds->peer_ip_text);
	x->step = EXCHANGE_ROUTE;
	exchange_local(x, status, NULL);
}

static void x_local_write(struct exchange *x);

static void x_local_timeout(struct timer *t)
{
	downstream_close(container_of(t, struct downstream, timer));
}

static void x_local_write(struct exchange *x)
{
	struct downstream *ds = x->ds;
	enum relay_result res = relay_run(&x->resp, &ds->conn, &ds->in, &ds->conn, &x->worker->bufs);

	x->response_started = x->resp.written > 0;
	if (res == RELAY_DONE)
		exchange_finish(x);
	else if (res == RELAY_WANT_WRITE)
		downstream_arm_timer(ds, ds->listener->config->limits.idle_timeout_ms,
				     x_local_timeout);
	else
		downstream_close(ds);
}

/* A template with variables, expanded into a new string (free it), or the
 * template itself when it has none. */
static char *expand(struct exchange *x, const char *tmpl, bool *owned)
{
	*owned = false;
	if (!tmpl || !vars_present(tmpl))
		return (char *)tmpl;
	size_t size = strlen(tmpl) * 2 + 2048;
	char *out = malloc(size);
	if (out && vars_expand(tmpl, &x->vars, out, size) != (size_t)-1) {
		*owned = true;
		return out;
	}
	free(out);
	return (char *)tmpl;
}

void exchange_local(struct exchange *x, int status, const struct route_config *answer)
{
	struct downstream *ds = x->ds;
	const struct route_respond *respond = answer ? answer->respond : NULL;
	const struct route_redirect *redirect = answer ? answer->redirect : NULL;
	bool body_owned, location_owned;

	if (x->uc)
		exchange_detach_upstream(x, false);
	if (x->response_started) {
		downstream_close(ds);
		return;
	}
	x->status = status;
	/* A request body not read to its end cannot be skipped safely, and a
	 * malformed request leaves the stream out of sync: close after. */
	if (!x->req.body_done || x->framing.body != H1_BODY_NONE || status == 400 ||
	    status == 408 || status == 501 || status == 431 || status == 414)
		x->keep_alive = false;
	char *body = expand(x, respond ? respond->body : NULL, &body_owned);
	char *location = expand(x, redirect ? redirect->to : NULL, &location_owned);
	struct local_response lr = {
		.status = status,
		.content_type = respond ? respond->content_type : NULL,
		.body = body,
		.location = location,
		.vars = &x->vars,
		.json = x->wants_json,
		.head_request = x->head_request,
		.keep_alive = x->keep_alive && !x->worker->draining,
		.client_http10 = x->client_minor == 0,
		.request_id = slice_make(x->request_id, x->request_id_len),
		.security = &x->gen->config->security,
		.route = answer,
		.date = proxy_worker_date(x->worker),
	};
	buf_put(&x->worker->bufs, x->resp_head);
	x->resp_head = buf_get(&x->worker->bufs, local_response_size(&lr));
	int rc = x->resp_head ? local_response_write(x->resp_head, &lr) : -1;
	size_t body_len = local_response_body_len(&lr);
	if (body_owned)
		free(body);
	if (location_owned)
		free(location);
	if (rc != 0) {
		downstream_close(ds);
		return;
	}
	relay_init(&x->resp, H1_BODY_NONE, 0, false);
	relay_set_head(&x->resp, buf_head(x->resp_head), buf_len(x->resp_head));
	/* A local response is head and body in one buffer. */
	x->resp_head_len = buf_len(x->resp_head) - body_len;
	x->step = EXCHANGE_LOCAL;
	x->on_downstream = x_local_write;
	x->on_upstream = exchange_ignore;
	x_local_write(x);
}

void exchange_finish(struct exchange *x)
{
	struct downstream *ds = x->ds;
	bool keep_alive = x->keep_alive && x->req.body_done;

	x->step = EXCHANGE_DONE;
	mirror_release(x);
	exchange_log(x);
	if (x->uc)
		exchange_detach_upstream(x, x->upstream_reusable);
	x_recycle(x);
	downstream_exchange_done(ds, keep_alive, !x->req.body_done);
}

void exchange_abort(struct exchange *x)
{
	struct downstream *ds = x->ds;

	exchange_leave_queue(x);
	mirror_release(x);
	if (x->uc)
		exchange_detach_upstream(x, false);
	ds->exchange = NULL;
	x_recycle(x);
}

void exchange_on_downstream_event(struct exchange *x)
{
	x->on_downstream(x);
}

void exchange_on_upstream_event(struct exchange *x)
{
	x->on_upstream(x);
}
