#include "proxy/downstream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bug.h"
#include "http/h2_server.h"
#include "log/log.h"
#include "net/addr.h"
#include "net/tls.h"
#include "proxy/exchange.h"

#define ACCEPT_BATCH 64
#define ACCEPT_RESUME_MS 100
#define LINGER_MS 2000
#define LINGER_MAX_BYTES (64u << 20)

static void ds_on_io(struct loop_io *io, uint32_t events);
static void ds_read_head(struct downstream *ds);

static struct downstream *ds_of_timer(struct timer *t)
{
	return container_of(t, struct downstream, timer);
}

void downstream_arm_timer(struct downstream *ds, uint64_t ms, timer_cb cb)
{
	ds->timer.cb = cb;
	timer_link(&ds->worker->loop.timers, &ds->timer, ds->worker->loop.now_ms + ms);
}

static void ds_free(struct loop_defer *d)
{
	struct downstream *ds = container_of(d, struct downstream, defer);
	free(ds);
}

void downstream_close(struct downstream *ds)
{
	struct proxy_worker *w = ds->worker;

	if (ds->closed)
		return;
	ds->closed = true;
	if (ds->exchange)
		exchange_abort(ds->exchange);
	h2_server_free(ds->h2); /* its streams close first */
	ds->h2 = NULL;
	timer_unlink(&w->loop.timers, &ds->timer);
	if (!ds->parent)
		loop_del(&w->loop, &ds->conn.io);
	ds->conn.ops->close(&ds->conn);
	buf_put(&w->bufs, ds->in);
	ds->in = NULL;
	free(ds->client_subject);
	ds->client_subject = NULL;
	if (!ds->parent) {
		list_unlink(&ds->link);
		atomic_fetch_sub_explicit(ds->listener->connections, 1, memory_order_relaxed);
		w->active_connections--;
	}
	proxy_gen_unref(ds->listener->gen);
	loop_defer_cancel(&ds->defer);
	ds->defer.cb = ds_free;
	loop_defer(&w->loop, &ds->defer);
}

void downstream_goaway(struct downstream *ds)
{
	if (ds->h2)
		h2_server_shutdown(ds->h2); /* closes once its streams are done */
}

void downstream_close_if_idle(struct downstream *ds)
{
	if (ds->h2) {
		downstream_goaway(ds);
		return;
	}
	if (!ds->exchange && (!ds->head_started || ds->lingering))
		downstream_close(ds);
}

/* A head that did not arrive in time: 408, or a silent close for a
 * keep-alive connection on which no new request began. */
static void ds_head_timeout(struct timer *t)
{
	struct downstream *ds = ds_of_timer(t);

	/* no HTTP/1 spoken (TLS handshake, HTTP/2): nothing to answer */
	bool http1 = !ds->handshaking && !ds->h2;
	if (http1 && (ds->head_started || ds->requests == 0))
		exchange_reject(ds, 408);
	else
		downstream_close(ds);
}

static void ds_resume(struct loop_defer *d)
{
	struct downstream *ds = container_of(d, struct downstream, defer);
	ds_read_head(ds);
}

/* After a reload, a kept-alive connection serves its next request with the
 * new configuration, through the listener of the same address; if the new
 * configuration has none, the connection ends. */
static bool ds_follow_reload(struct downstream *ds)
{
	struct proxy_generation *now = ds->worker->gen;
	struct proxy_listener *old = ds->listener;

	if (old->gen == now)
		return true;
	for (size_t i = 0; i < now->num_listeners; i++) {
		struct proxy_listener *l = &now->listeners[i];
		if (l->connections != old->connections)
			continue;
		proxy_gen_ref(now);
		ds->listener = l;
		proxy_gen_unref(old->gen);
		return true;
	}
	return false;
}

static void ds_linger_timeout(struct timer *t)
{
	downstream_close(ds_of_timer(t));
}

/* Discards what the client still sends, until it closes or enough was
 * read (nginx's lingering close). */
static void ds_linger_read(struct downstream *ds)
{
	char sink[16384];

	while (ds->conn.readable) {
		ssize_t n = conn_read(&ds->conn, sink, sizeof(sink));
		if (n == -EAGAIN)
			return;
		if (n <= 0 || (ds->lingered_bytes += (uint64_t)n) > LINGER_MAX_BYTES) {
			downstream_close(ds);
			return;
		}
	}
}

static void ds_linger(struct downstream *ds)
{
	ds->lingering = true;
	buf_put(&ds->worker->bufs, ds->in);
	ds->in = NULL;
	ds->conn.ops->shutdown_write(&ds->conn);
	downstream_arm_timer(ds, LINGER_MS, ds_linger_timeout);
	ds_linger_read(ds);
}

void downstream_exchange_done(struct downstream *ds, bool keep_alive, bool unread_input)
{
	struct proxy_worker *w = ds->worker;

	ds->exchange = NULL;
	if (ds->parent) { /* an HTTP/2 stream serves one request */
		h2_stream_finish(&ds->conn);
		downstream_close(ds);
		return;
	}
	if (!keep_alive && unread_input) {
		ds_linger(ds);
		return;
	}
	if (!keep_alive || w->draining) {
		downstream_close(ds);
		return;
	}
	ds->head_started = ds->in && buf_len(ds->in) > 0;
	if (ds->head_started) {
		downstream_arm_timer(ds, ds->listener->config->limits.header_timeout_ms,
				     ds_head_timeout);
	} else {
		buf_put(&w->bufs, ds->in);
		ds->in = NULL;
		downstream_arm_timer(ds, ds->listener->config->limits.idle_timeout_ms,
				     ds_head_timeout);
	}
	/* Pipelined bytes may already be here: parse them at the end of this
	 * turn rather than recursing into the next exchange from this one. */
	if (ds->head_started || ds->conn.readable)
		loop_defer(&w->loop, &ds->defer);
}

void downstream_send_small(struct downstream *ds, const char *bytes, size_t len)
{
	struct iovec iov = { (void *)bytes, len };
	ssize_t n = conn_writev(&ds->conn, &iov, 1);
	if (n != (ssize_t)len)
		downstream_close(ds);
}

/* Returns the parse result for what ds->in holds. */
static int ds_parse(struct downstream *ds, struct h1_request *req)
{
	const struct http_limits *lim = &ds->listener->config->limits;
	struct proxy_worker *w = ds->worker;
	size_t cap = lim->max_headers < w->scratch_capacity ? lim->max_headers
							     : w->scratch_capacity;

	req->headers = w->scratch_headers;
	req->num_headers = cap;
	return h1_parse_request(buf_head(ds->in), buf_len(ds->in), req, lim->max_header_size);
}

/* Reads into ds->in; returns bytes read, 0 at EOF, or -errno. */
static ssize_t ds_fill(struct downstream *ds)
{
	struct proxy_worker *w = ds->worker;

	if (!ds->in && !(ds->in = buf_get(&w->bufs, 0)))
		return -ENOMEM;
	if (buf_room(ds->in) == 0)
		buf_compact(ds->in);
	if (buf_room(ds->in) == 0)
		return -ENOBUFS;
	ssize_t n = conn_read(&ds->conn, buf_tail(ds->in), buf_room(ds->in));
	if (n > 0) {
		ds->in->end += (size_t)n;
		if (!ds->head_started) {
			ds->head_started = true;
			downstream_arm_timer(ds, ds->listener->config->limits.header_timeout_ms,
					     ds_head_timeout);
		}
	}
	return n;
}

/* ---- HTTP/2 ---- */

static struct conn *ds_open_stream(void *owner)
{
	struct downstream *ds = owner;
	struct downstream *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	if (ds->client_subject && !(st->client_subject = strdup(ds->client_subject))) {
		free(st);
		return NULL;
	}
	st->worker = ds->worker;
	st->listener = ds->listener;
	proxy_gen_ref(st->listener->gen);
	st->parent = ds;
	st->tls = ds->tls;
	st->conn.io.cb = ds_on_io;
	memcpy(st->peer_ip, ds->peer_ip, sizeof(st->peer_ip));
	memcpy(st->peer_ip_text, ds->peer_ip_text, sizeof(st->peer_ip_text));
	timer_init(&st->timer, ds_head_timeout);
	loop_defer_init(&st->defer, ds_resume);
	list_init(&st->link);
	ds->requests++;
	return &st->conn;
}

static void ds_stream_gone(struct conn *c)
{
	downstream_close(container_of(c, struct downstream, conn));
}

static const struct h2_server_ops ds_h2_ops = {
	.open_stream = ds_open_stream,
	.stream_gone = ds_stream_gone,
};

static void ds_h2_idle(struct timer *t)
{
	downstream_close(ds_of_timer(t));
}

static void ds_run_h2(struct downstream *ds)
{
	if (h2_server_run(ds->h2) != 0) {
		downstream_close(ds);
		return;
	}
	if (h2_server_active_streams(ds->h2) > 0)
		timer_unlink(&ds->worker->loop.timers, &ds->timer);
	else
		downstream_arm_timer(ds, ds->listener->config->limits.idle_timeout_ms, ds_h2_idle);
}

/* Hands the connection to an HTTP/2 session; preread: bytes already read. */
static void ds_start_h2(struct downstream *ds, const char *preread, size_t len)
{
	const struct http_limits *lim = &ds->listener->config->limits;
	const struct h2_limits h2 = {
		.max_concurrent_streams = DOWNSTREAM_H2_MAX_STREAMS,
		.max_header_list = (uint32_t)lim->max_header_size,
		.max_headers = (uint32_t)lim->max_headers + 4, /* and the pseudo-fields */
		.max_control_per_s = 1000,
	};
	struct proxy_worker *w = ds->worker;

	ds->h2 = h2_server_new(&ds->conn, &w->loop, &w->bufs, &h2, &ds_h2_ops, ds, preread, len);
	buf_put(&w->bufs, ds->in);
	ds->in = NULL;
	if (!ds->h2) {
		downstream_close(ds);
		return;
	}
	ds->head_started = false;
	ds_run_h2(ds);
}

/* 1: the buffer holds the HTTP/2 preface; 0: it cannot; -1: too early to say. */
static int ds_h2_preface(const struct downstream *ds)
{
	size_t n = buf_len(ds->in) < H2_PREFACE_LEN ? buf_len(ds->in) : H2_PREFACE_LEN;

	if (!ds->listener->config->http2 || ds->tls || ds->requests > 0 ||
	    memcmp(buf_head(ds->in), H2_PREFACE, n) != 0)
		return 0;
	return n == H2_PREFACE_LEN ? 1 : -1;
}

static void ds_read_head(struct downstream *ds)
{
	struct h1_request req;

	for (;;) {
		int h2 = ds->in && buf_len(ds->in) ? ds_h2_preface(ds) : 0;
		if (h2 > 0) {
			ds_start_h2(ds, buf_head(ds->in), buf_len(ds->in));
			return;
		}
		if (ds->in && buf_len(ds->in) && h2 == 0) {
			int n = ds_parse(ds, &req);
			if (n > 0 && !ds_follow_reload(ds)) {
				downstream_close(ds); /* its listener is gone */
				return;
			}
			if (n > 0) {
				exchange_start(ds, &req, (size_t)n);
				return;
			}
			if (n != H1_INCOMPLETE) {
				exchange_reject(ds, -n);
				return;
			}
		}
		if (!ds->conn.readable)
			break;
		ssize_t n = ds_fill(ds);
		if (n == -EAGAIN)
			break;
		if (n == -ENOBUFS) {
			exchange_reject(ds, 431);
			return;
		}
		if (n == -EBADMSG) { /* an HTTP/2 request the session found malformed */
			exchange_reject(ds, 400);
			return;
		}
		if (n <= 0) {
			downstream_close(ds);
			return;
		}
	}
	if (ds->in && buf_len(ds->in) == 0) {
		buf_put(&ds->worker->bufs, ds->in);
		ds->in = NULL;
	}
}

/* Keeps the verified client certificate's subject for $ssl_client_s_dn. */
static void ds_note_client_subject(struct downstream *ds)
{
	char subject[1024];
	size_t n = tls_peer_subject(&ds->conn, subject, sizeof(subject));

	if (n > 0)
		ds->client_subject = strdup(subject);
}

static void ds_handshake(struct downstream *ds)
{
	int r = tls_handshake(&ds->conn);

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		downstream_close(ds);
		return;
	}
	ds->handshaking = false;
	if (ds->listener->config->tls && ds->listener->config->tls->client_ca)
		ds_note_client_subject(ds);
	if (tls_alpn_h2(&ds->conn))
		ds_start_h2(ds, NULL, 0);
	else
		ds_read_head(ds);
}

static void ds_on_io(struct loop_io *io, uint32_t events)
{
	struct downstream *ds = container_of(io, struct downstream, conn.io);

	conn_note_events(&ds->conn, events);
	if (ds->closed)
		return;
	if (ds->h2)
		ds_run_h2(ds);
	else if (ds->handshaking)
		ds_handshake(ds);
	else if (ds->lingering)
		ds_linger_read(ds);
	else if (ds->exchange)
		exchange_on_downstream_event(ds->exchange);
	else
		ds_read_head(ds);
}

static void peer_address(struct downstream *ds, const struct sockaddr_storage *ss)
{
	memset(ds->peer_ip, 0, sizeof(ds->peer_ip));
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): accept4 filled ss */
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		ds->peer_ip[10] = ds->peer_ip[11] = 0xff;
		memcpy(ds->peer_ip + 12, &in->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		memcpy(ds->peer_ip, &in6->sin6_addr, 16);
	}
	addr_format_ip((const struct sockaddr *)ss, ds->peer_ip_text, sizeof(ds->peer_ip_text));
}

static void ds_new(struct proxy_listener *l, int fd, const struct sockaddr_storage *ss)
{
	struct proxy_worker *w = l->worker;
	struct downstream *ds = calloc(1, sizeof(*ds));

	if (!ds) {
		close(fd);
		atomic_fetch_sub_explicit(l->connections, 1, memory_order_relaxed);
		return;
	}
	ds->worker = w;
	ds->listener = l;
	proxy_gen_ref(l->gen);
	ds->conn.io.fd = fd;
	ds->conn.io.cb = ds_on_io;
	ds->conn.ops = &transport_tcp;
	timer_init(&ds->timer, ds_head_timeout);
	loop_defer_init(&ds->defer, ds_resume);
	peer_address(ds, ss);
	list_push_back(&w->downstreams, &ds->link);
	w->active_connections++;
	if (l->config->tls_server) {
		ds->handshaking = ds->tls = true;
		if (tls_accept(&ds->conn, l->config->tls_server) != 0) {
			downstream_close(ds);
			return;
		}
	}
	if (loop_add(&w->loop, &ds->conn.io) != 0) {
		downstream_close(ds);
		return;
	}
	downstream_arm_timer(ds, l->config->limits.header_timeout_ms, ds_head_timeout);
}

static void resume_accept(struct timer *t)
{
	struct proxy_worker *w = container_of(t, struct proxy_worker, resume_accept_timer);
	for (size_t i = 0; i < w->gen->num_listeners; i++) {
		struct proxy_listener *l = &w->gen->listeners[i];
		if (l->paused && !w->draining && l->io.fd >= 0) {
			l->paused = false;
			loop_listener_enable(&w->loop, &l->io, true);
		}
	}
}

/* Out of descriptors: stop accepting for a moment instead of spinning on
 * a listening socket that stays readable. */
static void pause_accept(struct proxy_listener *l)
{
	struct proxy_worker *w = l->worker;
	log_warn("worker %u: out of file descriptors, pausing accept for %d ms", w->id,
		 ACCEPT_RESUME_MS);
	l->paused = true;
	loop_listener_enable(&w->loop, &l->io, false);
	if (!timer_linked(&w->resume_accept_timer))
		timer_init(&w->resume_accept_timer, resume_accept);
	timer_link(&w->loop.timers, &w->resume_accept_timer, w->loop.now_ms + ACCEPT_RESUME_MS);
}

void downstream_accept(struct proxy_listener *l)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->io.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_accept(l);
			return;
		}
		unsigned long n = atomic_fetch_add_explicit(l->connections, 1, memory_order_relaxed);
		if (n >= l->config->limits.max_connections) {
			atomic_fetch_sub_explicit(l->connections, 1, memory_order_relaxed);
			close(fd);
			continue;
		}
		ds_new(l, fd, &ss);
	}
}
