#include "proxy/upstream_conn.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/bug.h"
#include "net/sock.h"
#include "net/tls.h"
#include "proxy/exchange.h"

/* A pooled connection unused this long is closed: many servers drop idle
 * keep-alive connections after a few seconds, and a request should not be
 * the one to find out. */
#define UPSTREAM_IDLE_MS 4000
/* Idle connections beyond `keepalive` wait this long before closing: under
 * more concurrent requests than `keepalive`, responses and new requests come
 * in bursts, and closing the surplus at once meant opening as many again a
 * moment later (HAProxy purges its idle surplus gradually for the same
 * reason). */
#define UPSTREAM_SPARE_IDLE_MS 1000

static void uc_free(struct loop_defer *d)
{
	free(container_of(d, struct upstream_conn, defer));
}

void upstream_conn_close(struct upstream_conn *uc)
{
	struct proxy_worker *w = uc->worker;

	if (uc->closed)
		return;
	uc->closed = true;
	upstream_pool_remove(uc->server, &uc->pooled);
	timer_unlink(&w->loop.timers, &uc->timer);
	loop_del(&w->loop, &uc->conn.io);
	uc->conn.ops->close(&uc->conn);
	list_unlink(&uc->link);
	buf_put(&w->bufs, uc->in);
	uc->in = NULL;
	uc->exchange = NULL;
	loop_defer(&w->loop, &uc->defer);
	proxy_gen_unref(uc->gen);
}

static void uc_on_io(struct loop_io *io, uint32_t events)
{
	struct upstream_conn *uc = container_of(io, struct upstream_conn, conn.io);

	conn_note_events(&uc->conn, events);
	if (uc->closed)
		return;
	if (uc->exchange) {
		exchange_on_upstream_event(uc->exchange);
		return;
	}
	/* Idle in the pool: any byte or EOF means the server is done with us.
	 * But the edge may be stale: harvested in the same epoll batch as an
	 * event that then read this connection's response to its end. */
	if (uc->conn.peer_closed || (uc->conn.readable && !sock_quiet(uc->conn.io.fd)))
		upstream_conn_close(uc);
	else
		uc->conn.readable = false;
}

static void uc_idle_timeout(struct timer *t)
{
	upstream_conn_close(container_of(t, struct upstream_conn, timer));
}

struct upstream_conn *upstream_conn_open(struct proxy_worker *w, struct server_rt *s,
					 struct exchange *x, int *err)
{
	int fd = sock_connect(&s->config->addr);
	if (fd < 0) {
		*err = fd;
		return NULL;
	}
	struct upstream_conn *uc = calloc(1, sizeof(*uc));
	if (!uc) {
		close(fd);
		*err = -ENOMEM;
		return NULL;
	}
	uc->worker = w;
	uc->gen = x->gen;
	proxy_gen_ref(uc->gen);
	uc->server = s;
	uc->exchange = x;
	uc->conn.io.fd = fd;
	uc->conn.io.cb = uc_on_io;
	uc->conn.ops = &transport_tcp;
	list_init(&uc->pooled.node);
	timer_init(&uc->timer, uc_idle_timeout);
	loop_defer_init(&uc->defer, uc_free);
	list_push_back(&w->upstream_conns, &uc->link);
	struct tls_client *tls = s->upstream->tls_client;
	int rc = tls ? tls_connect(&uc->conn, tls, &s->tls_session) : 0; /* handshake after the connect */
	if (rc == 0)
		rc = loop_add(&w->loop, &uc->conn.io);
	if (rc != 0) {
		upstream_conn_close(uc);
		*err = rc;
		return NULL;
	}
	return uc;
}

struct upstream_conn *upstream_conn_get(struct proxy_worker *w, struct server_rt *s,
					struct exchange *x, int *err)
{
	struct pooled_conn *pc = upstream_pool_take(s);
	if (pc) {
		struct upstream_conn *uc = container_of(pc, struct upstream_conn, pooled);
		timer_unlink(&w->loop.timers, &uc->timer);
		uc->exchange = x;
		uc->reused = true;
		return uc;
	}
	return upstream_conn_open(w, s, x, err);
}

void upstream_conn_release(struct upstream_conn *uc, bool reusable)
{
	struct proxy_worker *w = uc->worker;

	uc->exchange = NULL;
	uc->reused = false;
	if (reusable && uc->in && buf_len(uc->in) != 0)
		reusable = false; /* bytes past the response: out of sync */
	uint32_t keepalive = uc->server->upstream->keepalive;
	bool spare = keepalive > 0 && uc->server->num_idle >= keepalive;
	if (!reusable || w->draining || uc->conn.peer_closed || uc->gen != w->gen ||
	    !upstream_pool_put(uc->server, &uc->pooled, spare ? UINT32_MAX : keepalive)) {
		upstream_conn_close(uc);
		return;
	}
	buf_put(&w->bufs, uc->in);
	uc->in = NULL;
	uc->timer.cb = uc_idle_timeout;
	timer_link(&w->loop.timers, &uc->timer,
		   w->loop.now_ms + (spare ? UPSTREAM_SPARE_IDLE_MS : UPSTREAM_IDLE_MS));
}
