#include "proxy/mirror.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bug.h"
#include "net/sock.h"
#include "net/tls.h"

#define MIRROR_IN_SIZE 16384
#define MIRROR_MAX_HEADERS 128
#define MIRROR_MAX_PENDING (4u << 20) /* request bytes not yet taken by the shadow */

struct mirror {
	struct conn conn;             /* TCP, or TLS for an upstream with tls: */
	struct timer timer;
	struct loop_defer free_later;
	struct list link;             /* in worker->mirrors */
	struct proxy_worker *worker;
	struct proxy_generation *gen; /* referenced: server and config live there */
	struct server_rt *server;     /* a slot taken with upstream_pick */
	struct exchange *feeder;      /* the exchange still teeing its body, or NULL */
	char *out;                    /* owned: request bytes for the shadow (head, body) */
	size_t out_len;
	size_t out_cap;
	size_t sent;
	bool head_request;
	bool got_head;
	bool handshaking;             /* TLS handshake not finished */
	bool closed;
	struct h1_response_framing framing;
	struct h1_chunked chunked;
	uint64_t left;                /* H1_BODY_LENGTH: body bytes still to come */
	char in[MIRROR_IN_SIZE];
	size_t got;
};

static void mirror_free(struct loop_defer *d)
{
	free(container_of(d, struct mirror, free_later));
}

static void mirror_end(struct mirror *m)
{
	struct proxy_worker *w = m->worker;

	if (m->closed)
		return;
	m->closed = true;
	timer_unlink(&w->loop.timers, &m->timer);
	if (m->conn.io.fd >= 0) {
		loop_del(&w->loop, &m->conn.io);
		m->conn.ops->close(&m->conn);
	}
	list_unlink(&m->link);
	upstream_leave(m->server);
	if (m->feeder) {
		m->feeder->mirror = NULL;
		m->feeder->req.tee = NULL;
	}
	free(m->out);
	proxy_gen_unref(m->gen);
	loop_defer(&w->loop, &m->free_later);
}

static void mirror_timeout(struct timer *t)
{
	mirror_end(container_of(t, struct mirror, timer));
}

/* Consumes response bytes; true once the whole response has been seen. */
static bool mirror_absorb(struct mirror *m)
{
	if (!m->got_head) {
		struct http_header headers[MIRROR_MAX_HEADERS];
		struct h1_response res = { .headers = headers, .num_headers = MIRROR_MAX_HEADERS };
		int n = h1_parse_response(m->in, m->got, &res, sizeof(m->in));
		if (n == H1_INCOMPLETE)
			return false;
		if (n < 0 || h1_response_framing(&res, m->head_request, &m->framing) != 0)
			return true; /* broken: nothing more to learn */
		m->got_head = res.status >= 200;
		memmove(m->in, m->in + n, m->got - (size_t)n);
		m->got -= (size_t)n;
		m->left = m->framing.content_length;
		h1_chunked_init(&m->chunked);
		if (!m->got_head)
			return mirror_absorb(m); /* a 1xx: the final head follows */
	}
	switch (m->framing.body) {
	case H1_BODY_NONE:
		return true;
	case H1_BODY_LENGTH:
		m->left -= m->got < m->left ? m->got : m->left;
		m->got = 0;
		return m->left == 0;
	case H1_BODY_CHUNKED:
		for (size_t off = 0; off < m->got;) {
			struct slice data;
			ssize_t n = h1_chunked_decode(&m->chunked, m->in + off, m->got - off, &data);
			if (n <= 0)
				return true;
			off += (size_t)n;
		}
		m->got = 0;
		return m->chunked.done;
	case H1_BODY_UNTIL_CLOSE:
		m->got = 0;
		return false;
	}
	return true;
}

static void mirror_io(struct loop_io *io, uint32_t events)
{
	struct mirror *m = container_of(io, struct mirror, conn.io);

	conn_note_events(&m->conn, events);
	if (m->closed)
		return;
	if (m->handshaking) {
		int rc = tls_handshake(&m->conn);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			mirror_end(m);
			return;
		}
		m->handshaking = false;
	}
	while (m->sent < m->out_len) {
		struct iovec iov = { m->out + m->sent, m->out_len - m->sent };
		ssize_t n = conn_writev(&m->conn, &iov, 1);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			mirror_end(m);
			return;
		}
		m->sent += (size_t)n;
	}
	if (m->sent == m->out_len && m->sent) {
		/* all sent so far: reuse the buffer for what comes next */
		m->sent = m->out_len = 0;
	}
	for (;;) {
		ssize_t n = conn_read(&m->conn, m->in + m->got, sizeof(m->in) - m->got);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			mirror_end(m);
			return;
		}
		m->got += (size_t)n;
		if (mirror_absorb(m) || m->got == sizeof(m->in)) {
			mirror_end(m);
			return;
		}
	}
}

/* Appends bytes for the shadow; false when it has fallen too far behind. */
static bool mirror_append(struct mirror *m, const char *bytes, size_t len)
{
	if (len == 0)
		return true;
	if (m->out_len - m->sent + len > MIRROR_MAX_PENDING)
		return false;
	if (m->out_len + len > m->out_cap) {
		size_t cap = (m->out_len + len) * 2;
		char *p = realloc(m->out, cap);
		if (!p)
			return false;
		m->out = p;
		m->out_cap = cap;
	}
	memcpy(m->out + m->out_len, bytes, len);
	m->out_len += len;
	return true;
}

void mirror_tee(void *arg, const char *bytes, size_t len)
{
	struct mirror *m = arg;
	if (!mirror_append(m, bytes, len)) {
		mirror_end(m);
		return;
	}
	mirror_io(&m->conn.io, 0);
}

void mirror_release(struct exchange *x)
{
	struct mirror *m = x->mirror;
	if (!m)
		return;
	m->feeder = NULL;
	x->mirror = NULL;
	x->req.tee = NULL;
	if (!x->req.body_done)
		mirror_end(m);
}

/* A WebSocket handshake is not mirrored: a shadow server accepting it
 * would get a tunnel nobody feeds. */
static bool mirror_wanted(struct exchange *x, const struct route_mirror *mr)
{
	if (!mr || mr->percent == 0 || x->framing.websocket)
		return false;
	return mr->percent >= 100 || rand_next(&x->worker->rand) % 100 < mr->percent;
}

void mirror_maybe_start(struct exchange *x)
{
	const struct route_mirror *mr = x->route->mirror;
	struct proxy_worker *w = x->worker;

	if (!mirror_wanted(x, mr))
		return;
	struct upstream_rt *u = &x->gen->upstreams[mr->upstream_index];
	struct lb_request lr = { .exclude = -1, .now_ms = w->loop.now_ms };
	struct server_rt *s = upstream_pick(u, &lr);
	if (!s)
		return;
	struct mirror *m = calloc(1, sizeof(*m));
	int fd = m ? sock_connect(&s->config->addr) : -1;
	if (fd < 0) {
		free(m);
		upstream_leave(s);
		return;
	}
	m->worker = w;
	m->gen = x->gen;
	proxy_gen_ref(m->gen);
	m->server = s;
	m->head_request = x->head_request;
	m->conn.io.fd = fd;
	m->conn.io.cb = mirror_io;
	m->conn.ops = &transport_tcp;
	timer_init(&m->timer, mirror_timeout);
	loop_defer_init(&m->free_later, mirror_free);
	list_push_back(&w->mirrors, &m->link);
	if (u->config->tls_client) {
		m->handshaking = true;
		if (tls_connect(&m->conn, u->config->tls_client, &s->tls_session) != 0) {
			mirror_end(m);
			return;
		}
	}
	if (!mirror_append(m, buf_head(x->req_head), buf_len(x->req_head)) ||
	    loop_add(&w->loop, &m->conn.io) != 0) {
		mirror_end(m);
		return;
	}
	if (x->framing.body != H1_BODY_NONE) {
		m->feeder = x;
		x->mirror = m;
	}
	uint64_t limit = u->config->connect_timeout_ms + u->config->response_timeout_ms;
	timer_link(&w->loop.timers, &m->timer, w->loop.now_ms + limit);
}

void mirror_close_all(struct proxy_worker *w)
{
	while (!list_empty(&w->mirrors))
		mirror_end(list_entry(w->mirrors.next, struct mirror, link));
}
