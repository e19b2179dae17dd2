/*
 * tunnel: a WebSocket connection after its 101, copied both ways between the
 * client and the upstream server.
 *
 * Each direction is a relay (relay.c) of a body delimited by its source
 * closing, so the tunnel inherits the relay's bounded memory: one pooled
 * buffer per direction (the read buffers the client and upstream connections
 * already have; given back while empty, so an idle WebSocket holds none),
 * and a source read only once the destination took the bytes read before —
 * a slow reader back-pressures the other side. The 101 head is the head of
 * the upstream-to-client relay, so bytes_sent counts it like any head. Both
 * directions run on every event of either connection: a direction with
 * nothing to do returns without a system call.
 *
 * Ending: a source's end of stream, once the bytes before it are written,
 * becomes a half close toward the other side (shutdown_write), and the tunnel
 * ends when both directions have ended — WebSocket peers answer an end of
 * stream by closing, which ends the other direction. A read or write error
 * (a reset) on either side ends it at once, and so do `limits.idle_timeout`
 * without a byte moving either way and the worker draining (a tunnel has no
 * end of its own that a graceful stop could wait for). The idle timer is not re-armed per event:
 * it notes the last activity and, when it fires early, re-arms itself for the
 * rest (nginx's lazy timers). At the end the access log line is written and
 * both connections close: the upstream one is never pooled again, the
 * client's serves no further request.
 *
 * Rejected: a separate, shorter timeout for half-closed tunnels (HAProxy's
 * `timeout client-fin`): one more setting for peers that ignore an end of
 * stream, which the idle timeout already bounds.
 */
#include "proxy/tunnel.h"

#include "core/bug.h"
#include "proxy/exchange_steps.h"

static struct exchange *x_of_ds_timer(struct timer *t)
{
	return container_of(t, struct downstream, timer)->exchange;
}

/* Any byte read or written by either direction counts as activity. */
static uint64_t bytes_moved(const struct exchange *x)
{
	return x->req.payload + x->req.written + x->resp.payload + x->resp.written;
}

/*
 * Moves what one direction can move now. Returns false when it failed (a
 * read or write error: the tunnel is over). A direction whose source ended
 * and whose bytes are all written half-closes its destination, once.
 */
static bool pump(struct exchange *x, struct relay *r, struct conn *src, struct buf **src_buf,
		 struct conn *dst)
{
	struct buf_pool *pool = &x->worker->bufs;

	if (relay_finished(r))
		return true;
	enum relay_result res = relay_run(r, src, src_buf, dst, pool);
	if (res == RELAY_DONE) {
		dst->ops->shutdown_write(dst);
		return true;
	}
	if (res == RELAY_WANT_READ && *src_buf && buf_len(*src_buf) == 0) {
		buf_put(pool, *src_buf);
		*src_buf = NULL;
	}
	return res == RELAY_WANT_READ || res == RELAY_WANT_WRITE;
}

static void tunnel_run(struct exchange *x)
{
	struct downstream *ds = x->ds;
	struct upstream_conn *uc = x->uc;
	uint64_t before = bytes_moved(x);
	bool ok = pump(x, &x->resp, &uc->conn, &uc->in, &ds->conn) &&
		  pump(x, &x->req, &ds->conn, &ds->in, &uc->conn);

	x->response_started = x->resp.written > 0;
	if (bytes_moved(x) != before)
		x->tunnel_active_ms = x->worker->loop.now_ms;
	/* A draining worker keeps no tunnel: proxy.c ends the open ones when
	 * draining starts, this one opened since (its 101 went out first). */
	if (!ok || x->worker->draining || (relay_finished(&x->req) && relay_finished(&x->resp)))
		tunnel_end(x);
}

static void tunnel_idle(struct timer *t)
{
	struct exchange *x = x_of_ds_timer(t);
	uint64_t limit = x->ds->listener->config->limits.idle_timeout_ms;
	uint64_t idle = x->worker->loop.now_ms - x->tunnel_active_ms;

	if (idle < limit)
		downstream_arm_timer(x->ds, limit - idle, tunnel_idle);
	else
		tunnel_end(x);
}

void tunnel_start(struct exchange *x)
{
	struct proxy_worker *w = x->worker;

	relay_init(&x->resp, H1_BODY_UNTIL_CLOSE, 0, false);
	relay_set_head(&x->resp, buf_head(x->resp_head), buf_len(x->resp_head));
	x->resp_head_len = buf_len(x->resp_head);
	relay_init(&x->req, H1_BODY_UNTIL_CLOSE, 0, false);
	x->step = EXCHANGE_TUNNEL;
	x->on_downstream = tunnel_run;
	x->on_upstream = tunnel_run;
	x->tunnel_active_ms = w->loop.now_ms;
	timer_unlink(&w->loop.timers, &x->uc->timer);
	downstream_arm_timer(x->ds, x->ds->listener->config->limits.idle_timeout_ms, tunnel_idle);
	tunnel_run(x);
}

void tunnel_end(struct exchange *x)
{
	/* Nothing follows a tunnel on either connection: the client's unread
	 * bytes belong to no request, so it is closed without lingering. */
	x->keep_alive = false;
	x->upstream_reusable = false;
	x->req.body_done = true;
	exchange_finish(x);
}
