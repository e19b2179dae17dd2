/*
 * exchange_upstream: the upstream half of an exchange — pick a server, get
 * a pooled or new connection, send the request (head, then the body as it
 * streams in), read the response head, relay the body back — or, for a 101
 * accepting a WebSocket handshake, hand both connections to tunnel.c.
 *
 * Failure before any response byte reached the client becomes portico's own
 * 502/504 page; a connect failure of an idempotent request moves to another
 * server (up to `retries`); a pooled connection found dead on first use is
 * replaced by a fresh one to the same server once. After response bytes were
 * sent, the only honest answer to a failure is closing the client connection.
 */
#include <errno.h>
#include <string.h>

#include "core/bug.h"
#include "core/clock.h"
#include "http/status.h"
#include "log/log.h"
#include "net/sock.h"
#include "net/tls.h"
#include "proxy/exchange_steps.h"
#include "proxy/forward.h"
#include "proxy/mirror.h"
#include "proxy/sticky.h"
#include "proxy/tunnel.h"

static void x_send(struct exchange *x);
static void x_read_head(struct exchange *x);
static void x_relay(struct exchange *x);

static const char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

static struct exchange *x_of_uc_timer(struct timer *t)
{
	return container_of(t, struct upstream_conn, timer)->exchange;
}

static struct exchange *x_of_ds_timer(struct timer *t)
{
	return container_of(t, struct downstream, timer)->exchange;
}

static void arm_uc_timer(struct exchange *x, uint64_t ms, timer_cb cb)
{
	x->uc->timer.cb = cb;
	timer_link(&x->worker->loop.timers, &x->uc->timer, x->worker->loop.now_ms + ms);
}

static void x_leave_server(struct exchange *x)
{
	if (x->holds_server)
		upstream_leave(x->server);
	x->holds_server = false;
}

void exchange_detach_upstream(struct exchange *x, bool reusable)
{
	struct upstream_conn *uc = x->uc;

	x->uc = NULL;
	timer_unlink(&x->worker->loop.timers, &uc->timer);
	x_leave_server(x);
	upstream_conn_release(uc, reusable);
}

/* Tells the shared health state how the server did (passive checks). */
static void note_outcome(struct exchange *x, bool ok)
{
	struct server_health *h = x->server->health;
	if (!h)
		return;
	if (ok)
		health_note_success(h, x->worker->loop.now_ms);
	else
		health_note_failure(h, &x->upstream->config->passive, x->worker->loop.now_ms,
				    x->upstream->config->name, x->server->config->address);
}

/*
 * Another server may get the request when nothing reached the client yet,
 * `retries` is not used up, the retry budget allows it, and either no byte
 * went to the failed server (any method: the connect failed) or the
 * request is idempotent without a body (safe to send twice).
 */
static bool x_may_retry(struct exchange *x)
{
	struct upstream_rt *u = x->upstream;
	bool nothing_sent = x->req.written == 0;
	bool replayable = x->idempotent && x->framing.body == H1_BODY_NONE;

	if (x->response_started || x->attempts > u->config->retries || u->num_servers < 2)
		return false;
	if (!nothing_sent && !replayable)
		return false;
	return upstream_retry_allowed(u, x->worker->loop.now_ms);
}

/* The server failed before the response began: another server when
 * x_may_retry allows, else portico answers status. */
static void x_upstream_failed(struct exchange *x, int status)
{
	x_leave_server(x);
	x->server->errors++;
	note_outcome(x, false);
	upstream_observe(x->upstream, x->server, x->worker->loop.now_us - x->upstream_start_us, false);
	if (x->uc)
		exchange_detach_upstream(x, false);
	x->fail_status = status;
	if (x_may_retry(x)) {
		x->failed_server = (int)(x->server - x->upstream->servers);
		exchange_connect(x);
		return;
	}
	exchange_local(x, status, NULL);
}

static void x_connect_timeout(struct timer *t)
{
	x_upstream_failed(x_of_uc_timer(t), 504);
}

/* The upstream sent something that is not a valid response: 502, and
 * no retry (the server is not down, it is broken). */
static void x_bad_response(struct exchange *x)
{
	x->server->errors++;
	note_outcome(x, false);
	upstream_observe(x->upstream, x->server, x->worker->loop.now_us - x->upstream_start_us, false);
	exchange_local(x, 502, NULL);
}

/* Each attempt sends the head and the body from their start (a retry only
 * happens while no body byte was consumed, so the mirror sees each once). */
static void x_restart_request(struct exchange *x)
{
	uint64_t max_payload = x->req.max_payload;
	relay_init(&x->req, x->framing.body, x->framing.content_length, false);
	x->req.max_payload = max_payload;
	relay_set_head(&x->req, buf_head(x->req_head), buf_len(x->req_head));
	if (x->mirror) {
		x->req.tee = mirror_tee;
		x->req.tee_arg = x->mirror;
	}
}

/* A pooled connection that turned out dead before answering anything: the
 * server closed it while we were picking it. Resend on a fresh one. */
static bool x_retry_fresh(struct exchange *x)
{
	if (!x->uc->reused || x->framing.body != H1_BODY_NONE || x->response_started)
		return false;
	struct upstream_conn *old = x->uc;
	int err = 0;
	x->uc = NULL;
	timer_unlink(&x->worker->loop.timers, &old->timer);
	upstream_conn_release(old, false);
	x->uc = upstream_conn_open(x->worker, x->server, x, &err);
	if (!x->uc) {
		x_leave_server(x);
		return false;
	}
	x_restart_request(x);
	x->on_upstream = x_send;
	x->on_downstream = exchange_ignore;
	arm_uc_timer(x, x->upstream->config->connect_timeout_ms, x_connect_timeout);
	return true;
}

static void x_response_timeout(struct timer *t)
{
	struct exchange *x = x_of_uc_timer(t);
	if (x->response_started)
		downstream_close(x->ds);
	else
		x_upstream_failed(x, 504);
}

/* TLS to the server, still under the connect timer: a handshake that fails
 * (a certificate that does not verify, a server that does not speak TLS)
 * is a connect error, so another server may get the request. */
static void x_handshake(struct exchange *x)
{
	int rc = tls_handshake(&x->uc->conn);
	if (rc == -EAGAIN)
		return;
	if (rc != 0) {
		x_upstream_failed(x, 502);
		return;
	}
	x->uc->connected = true;
	x_send(x);
}

static void x_on_connect(struct exchange *x)
{
	if (!x->uc->conn.writable)
		return;
	int err = sock_connect_result(x->uc->conn.io.fd);
	if (err) {
		x_upstream_failed(x, 502);
		return;
	}
	if (x->uc->conn.ssl) {
		x->on_upstream = x_handshake;
		x_handshake(x);
		return;
	}
	x->uc->connected = true;
	x_send(x);
}

/* A sticky upstream's response pins the client to the server that answers,
 * unless the client's cookie already named it. */
static void x_pin_sticky(struct exchange *x)
{
	int index = (int)(x->server - x->upstream->servers);
	x->sticky_cookie_len = 0;
	if (x->upstream->config->sticky && index != x->sticky_server)
		x->sticky_cookie_len = sticky_set_cookie(x->upstream, x->server,
							 clock_realtime_ms() / 1000, x->sticky_cookie,
							 sizeof(x->sticky_cookie));
}

/*
 * Every usable server is at its max_connections: wait, polling every tick,
 * until one has a free slot or connect_timeout passes (then 503). The wait
 * list is bounded per worker and upstream (EXCHANGE_QUEUE_MAX).
 */
#define EXCHANGE_QUEUE_MAX 1024
#define EXCHANGE_QUEUE_POLL_MS 10

static void x_queue_tick(struct timer *t)
{
	struct exchange *x = x_of_ds_timer(t);
	x->queued = false;
	x->upstream->queued--;
	if (x->worker->loop.now_ms >= x->queue_deadline_ms) {
		exchange_local(x, 503, NULL);
		return;
	}
	exchange_connect(x);
}

static bool x_queue(struct exchange *x)
{
	struct upstream_rt *u = x->upstream;
	uint64_t now = x->worker->loop.now_ms;

	if (!x->queue_deadline_ms)
		x->queue_deadline_ms = now + u->config->connect_timeout_ms;
	if (u->queued >= EXCHANGE_QUEUE_MAX || now >= x->queue_deadline_ms)
		return false;
	x->queued = true;
	u->queued++;
	x->on_downstream = exchange_ignore;
	x->on_upstream = exchange_ignore;
	downstream_arm_timer(x->ds, EXCHANGE_QUEUE_POLL_MS, x_queue_tick);
	return true;
}

void exchange_leave_queue(struct exchange *x)
{
	if (x->queued)
		x->upstream->queued--;
	x->queued = false;
}

void exchange_connect(struct exchange *x)
{
	struct lb_request lr = { .exclude = x->failed_server, .now_ms = x->worker->loop.now_ms,
				 .hash = x->lb_hash, .has_hash = x->lb_has_hash,
				 .prefer = x->sticky_server >= 0 ? &x->upstream->servers[x->sticky_server]
							   : NULL };
	int err = 0;

	x->step = EXCHANGE_CONNECT;
	if (x->framing.websocket && !x->route->websocket) {
		exchange_local(x, 403, NULL); /* the route does not tunnel WebSockets */
		return;
	}
	x->server = upstream_pick(x->upstream, &lr);
	if (!x->server) {
		if (x->upstream->pick_was_full && x_queue(x))
			return;
		exchange_local(x, x->fail_status ? x->fail_status : 503, NULL);
		return;
	}
	x->holds_server = true;
	if (x->attempts++ == 0)
		upstream_note_request(x->upstream, lr.now_ms);
	x_pin_sticky(x);
	x->server->requests++;
	x->upstream_start_us = x->worker->loop.now_us;
	x->uc = upstream_conn_get(x->worker, x->server, x, &err);
	if (!x->uc) {
		x_upstream_failed(x, 502);
		return;
	}
	x_restart_request(x);
	x->on_downstream = exchange_ignore;
	if (x->uc->connected || x->uc->reused) {
		x_send(x);
		return;
	}
	x->on_upstream = x_on_connect;
	arm_uc_timer(x, x->upstream->config->connect_timeout_ms, x_connect_timeout);
}

static void x_body_timeout(struct timer *t)
{
	struct exchange *x = x_of_ds_timer(t);
	if (x->response_started)
		downstream_close(x->ds);
	else
		exchange_local(x, 408, NULL);
}

/* After the request is out, the client side has nothing to say until the
 * response: ignore its edges (half-closed clients are fine). */
static void x_request_sent(struct exchange *x)
{
	x->request_sent = true;
	x->request_sent_us = x->worker->loop.now_us;
	x->step = EXCHANGE_WAIT_HEAD;
	timer_unlink(&x->worker->loop.timers, &x->ds->timer);
	x->on_downstream = exchange_ignore;
	x->on_upstream = x_read_head;
	arm_uc_timer(x, x->upstream->config->response_timeout_ms, x_response_timeout);
	x_read_head(x);
}

static void x_send(struct exchange *x)
{
	struct downstream *ds = x->ds;

	if (!x->uc->connected) {
		x_on_connect(x); /* a fresh connection (x_retry_fresh): connect, TLS, then back */
		return;
	}
	x->step = EXCHANGE_SEND;
	x->on_downstream = x_send;
	x->on_upstream = x_send;
	if (x->uc->conn.readable && x->uc->conn.peer_closed && x->uc->reused && x_retry_fresh(x))
		return;
	enum relay_result res = relay_run(&x->req, &ds->conn, &ds->in, &x->uc->conn,
					  &x->worker->bufs);
	switch (res) {
	case RELAY_DONE:
		x_request_sent(x);
		return;
	case RELAY_WANT_READ:
		if (x->framing.expect_continue && !x->continue_sent && x->client_minor == 1) {
			x->continue_sent = true;
			downstream_send_small(ds, continue_line, sizeof(continue_line) - 1);
			if (ds->closed)
				return;
		}
		/* fall through */
	case RELAY_WANT_WRITE:
		timer_unlink(&x->worker->loop.timers, &x->uc->timer);
		downstream_arm_timer(ds, ds->listener->config->limits.body_timeout_ms,
				     x_body_timeout);
		if (x->uc->conn.readable)
			x_read_head(x); /* an early answer, e.g. 413 from the server */
		return;
	case RELAY_DEST_ERROR:
		if (!x_retry_fresh(x))
			x_upstream_failed(x, 502);
		return;
	case RELAY_BAD_FRAMING:
		exchange_local(x, 400, NULL);
		return;
	case RELAY_TOO_LARGE:
		exchange_local(x, 413, NULL);
		return;
	default:
		downstream_close(ds); /* the client went away mid-body */
		return;
	}
}

/* Reads upstream bytes into uc->in; returns bytes read, 0 at EOF or -errno. */
static ssize_t uc_fill(struct exchange *x)
{
	struct upstream_conn *uc = x->uc;

	if (!uc->conn.readable)
		return -EAGAIN;
	if (!uc->in && !(uc->in = buf_get(&x->worker->bufs, 0)))
		return -ENOMEM;
	if (buf_room(uc->in) == 0)
		buf_compact(uc->in);
	if (buf_room(uc->in) == 0)
		return -ENOBUFS;
	ssize_t n = conn_read(&uc->conn, buf_tail(uc->in), buf_room(uc->in));
	if (n > 0)
		uc->in->end += (size_t)n;
	return n;
}

static void x_start_relay(struct exchange *x, const struct h1_response *res, size_t head_len);
static void x_switch_protocols(struct exchange *x, const struct h1_response *res,
			       size_t head_len);

/* Relays an interim 1xx response to an HTTP/1.1 client. 100 is dropped:
 * portico answered Expect itself. */
static bool x_interim(struct exchange *x, const struct h1_response *res, size_t head_len)
{
	if (res->status != 100 && x->client_minor == 1) {
		struct buf *b = buf_get(&x->worker->bufs, 0);
		if (!b || forward_interim_head(b, res) != 0) {
			buf_put(&x->worker->bufs, b);
			return false;
		}
		downstream_send_small(x->ds, buf_head(b), buf_len(b));
		buf_put(&x->worker->bufs, b);
		if (x->ds->closed)
			return false;
	}
	buf_consume(x->uc->in, head_len);
	return true;
}

static void x_read_head(struct exchange *x)
{
	struct h1_response res;

	for (;;) {
		if (x->uc->in && buf_len(x->uc->in)) {
			res.headers = x->worker->scratch_headers;
			res.num_headers = x->worker->scratch_capacity;
			int n = h1_parse_response(buf_head(x->uc->in), buf_len(x->uc->in), &res,
						  x->uc->in->cap);
			if (n > 0 && res.status >= 100 && res.status < 200 && res.status != 101) {
				if (!x_interim(x, &res, (size_t)n))
					return;
				continue;
			}
			if (n > 0 && res.status == 101)
				x_switch_protocols(x, &res, (size_t)n);
			else if (n > 0)
				x_start_relay(x, &res, (size_t)n);
			else if (n != H1_INCOMPLETE)
				x_bad_response(x);
			if (n != H1_INCOMPLETE)
				return;
		}
		ssize_t n = uc_fill(x);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			if ((n == 0 || n == -ECONNRESET) && !(x->uc->in && buf_len(x->uc->in)) &&
			    x_retry_fresh(x))
				return;
			if (n == -ENOBUFS)
				x_bad_response(x);
			else
				x_upstream_failed(x, 502);
			return;
		}
	}
}

static void x_send_timeout(struct timer *t)
{
	downstream_close(container_of(t, struct downstream, timer));
}

static void x_relay(struct exchange *x)
{
	struct downstream *ds = x->ds;
	struct proxy_worker *w = x->worker;
	enum relay_result res = relay_run(&x->resp, &x->uc->conn, &x->uc->in, &ds->conn, &w->bufs);

	x->response_started = x->resp.written > 0;
	switch (res) {
	case RELAY_DONE:
		timer_unlink(&w->loop.timers, &ds->timer);
		exchange_finish(x);
		return;
	case RELAY_WANT_READ:
		timer_unlink(&w->loop.timers, &ds->timer);
		arm_uc_timer(x, x->upstream->config->response_timeout_ms, x_response_timeout);
		return;
	case RELAY_WANT_WRITE:
		timer_unlink(&w->loop.timers, &x->uc->timer);
		downstream_arm_timer(ds, ds->listener->config->limits.idle_timeout_ms, x_send_timeout);
		return;
	default:
		/* Upstream died or lied mid-body, or the client left: nothing
		 * honest can be sent any more. */
		if (res != RELAY_DEST_ERROR)
			x->server->errors++;
		downstream_close(ds);
		return;
	}
}

/* How the body goes to this client, given how the upstream frames it. */
static void x_choose_framing(struct exchange *x, const struct h1_response_framing *rf,
			     bool *send_chunked, bool *dechunk)
{
	*send_chunked = *dechunk = false;
	if (rf->body == H1_BODY_UNTIL_CLOSE)
		x->keep_alive = false;
	if (rf->body == H1_BODY_CHUNKED) {
		if (x->client_minor == 0 || x->ds->parent) { /* HTTP/1.0, or HTTP/2: DATA frames */
			*dechunk = true;
			x->keep_alive = false;
		} else {
			*send_chunked = true;
		}
	}
}

/* A response head arrived: its status, the server's latency for the
 * balancer, a success for passive health unless 5xx. */
static void x_note_response(struct exchange *x, int status)
{
	x->status = status;
	x->upstream_end_us = x->worker->loop.now_us;
	/* the server's latency, not the connect's: from the request sent */
	upstream_observe(x->upstream, x->server,
			 x->upstream_end_us - (x->request_sent ? x->request_sent_us : x->upstream_start_us),
			 true);
	note_outcome(x, status < 500);
}

/* Writes the client's head for res into x->resp_head; false when it does
 * not fit (or no buffer). */
static bool x_write_response_head(struct exchange *x, const struct h1_response *res,
				  const struct h1_response_framing *rf, bool send_chunked)
{
	struct proxy_worker *w = x->worker;
	struct forward_response f = {
		.res = res,
		.framing = rf,
		.client_http10 = x->client_minor == 0,
		.keep_alive = x->keep_alive && !w->draining,
		.send_chunked = send_chunked,
		.request_id = slice_make(x->request_id, x->request_id_len),
		.security = &x->gen->config->security,
		.route = x->route,
		.extra_field = slice_make(x->sticky_cookie, x->sticky_cookie_len),
		.date = proxy_worker_date(w),
		.vars = &x->vars,
	};
	x->resp_head = buf_get(&w->bufs, 0);
	return x->resp_head && forward_response_head(x->resp_head, &f) == 0;
}

/* A 101 is valid only as the acceptance of a WebSocket handshake that was
 * sent whole (Upgrade: websocket, Connection: upgrade); any other switch
 * of protocols is an invalid response (502). The connection then becomes
 * a tunnel: nothing after it is HTTP. */
static void x_switch_protocols(struct exchange *x, const struct h1_response *res,
			       size_t head_len)
{
	struct h1_response_framing rf;

	if (!x->framing.websocket || !x->request_sent ||
	    h1_response_framing(res, false, &rf) != 0 || !rf.websocket) {
		x_bad_response(x);
		return;
	}
	x_note_response(x, res->status);
	x->keep_alive = false;
	x->upstream_reusable = false;
	if (!x_write_response_head(x, res, &rf, false)) {
		x_bad_response(x);
		return;
	}
	buf_consume(x->uc->in, head_len);
	tunnel_start(x);
}

static void x_start_relay(struct exchange *x, const struct h1_response *res, size_t head_len)
{
	struct h1_response_framing rf;
	struct proxy_worker *w = x->worker;
	bool send_chunked, dechunk;

	if (h1_response_framing(res, x->head_request, &rf) != 0) {
		x_bad_response(x);
		return;
	}
	x_note_response(x, res->status);
	if (!x->request_sent)
		x->keep_alive = false; /* answered before the body was all read */
	x->upstream_reusable = rf.keep_alive && x->request_sent;
	x_choose_framing(x, &rf, &send_chunked, &dechunk);
	if (!x_write_response_head(x, res, &rf, send_chunked)) {
		x_bad_response(x);
		return;
	}
	buf_consume(x->uc->in, head_len);
	relay_init(&x->resp, rf.body, rf.content_length, dechunk);
	relay_set_head(&x->resp, buf_head(x->resp_head), buf_len(x->resp_head));
	x->resp_head_len = buf_len(x->resp_head);
	x->step = EXCHANGE_RELAY;
	x->on_upstream = x_relay;
	x->on_downstream = x_relay;
	timer_unlink(&w->loop.timers, &x->uc->timer);
	x_relay(x);
}
