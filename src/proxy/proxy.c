#include "proxy/proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/bug.h"
#include "log/log.h"
#include "proxy/downstream.h"
#include "proxy/exchange.h"
#include "proxy/upstream_conn.h"

#define BUF_MIN_SIZE 16384u
#define BUF_POOL_KEEP 1024u

static void listener_on_io(struct loop_io *io, uint32_t events)
{
	downstream_accept(container_of(io, struct proxy_listener, io));
}

/* Pool buffers hold a whole request head of any listener, with room for
 * what portico adds when it rewrites one. */
static size_t buffer_size(const struct proxy_config *cfg)
{
	size_t size = BUF_MIN_SIZE;
	for (size_t i = 0; i < cfg->num_listeners; i++) {
		size_t want = cfg->listeners[i].limits.max_header_size + 4096;
		if (want > size)
			size = want;
	}
	return (size + 4095) & ~(size_t)4095;
}

static size_t header_capacity(const struct proxy_config *cfg)
{
	size_t n = 128;
	for (size_t i = 0; i < cfg->num_listeners; i++)
		if (cfg->listeners[i].limits.max_headers + 1 > n)
			n = cfg->listeners[i].limits.max_headers + 1;
	return n;
}

static int setup_upstreams(struct proxy_worker *w)
{
	const struct proxy_config *cfg = w->config;
	w->upstreams = calloc(cfg->num_upstreams ? cfg->num_upstreams : 1, sizeof(*w->upstreams));
	if (!w->upstreams)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->num_upstreams; i++) {
		int rc = upstream_rt_init(&w->upstreams[i], &cfg->upstreams[i], &w->rand);
		if (rc)
			return rc;
	}
	return 0;
}

static int setup_listeners(struct proxy_worker *w, const int *fds, atomic_ulong *counters)
{
	const struct proxy_config *cfg = w->config;
	w->listeners = calloc(cfg->num_listeners ? cfg->num_listeners : 1, sizeof(*w->listeners));
	if (!w->listeners)
		return -ENOMEM;
	w->num_listeners = cfg->num_listeners;
	for (size_t i = 0; i < cfg->num_listeners; i++) {
		struct proxy_listener *l = &w->listeners[i];
		l->worker = w;
		l->config = &cfg->listeners[i];
		l->connections = &counters[i];
		l->io.fd = fds[i];
		l->io.cb = listener_on_io;
		int rc = loop_add_listener(&w->loop, &l->io);
		if (rc)
			return rc;
	}
	return 0;
}

int proxy_worker_init(struct proxy_worker *w, unsigned id, const struct proxy_config *cfg,
		      const int *listen_fds, atomic_ulong *listener_counters,
		      struct access_log *log)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->config = cfg;
	w->access_log = log;
	list_init(&w->downstreams);
	list_init(&w->upstream_conns);
	list_init(&w->free_exchanges);
	rand_seed(&w->rand);
	buf_pool_init(&w->bufs, buffer_size(cfg), BUF_POOL_KEEP);
	timer_init(&w->drain_timer, NULL);
	timer_init(&w->resume_accept_timer, NULL);
	w->scratch_capacity = header_capacity(cfg);
	w->scratch_headers = calloc(w->scratch_capacity, sizeof(*w->scratch_headers));
	if (!w->scratch_headers)
		return -ENOMEM;
	int rc = loop_init(&w->loop);
	if (rc)
		return rc;
	rc = setup_upstreams(w);
	if (rc)
		return rc;
	return setup_listeners(w, listen_fds, listener_counters);
}

static void close_listeners(struct proxy_worker *w)
{
	for (size_t i = 0; i < w->num_listeners; i++) {
		struct proxy_listener *l = &w->listeners[i];
		if (l->io.fd < 0)
			continue;
		loop_del(&w->loop, &l->io);
		close(l->io.fd);
		l->io.fd = -1;
	}
}

static void close_all_downstreams(struct proxy_worker *w, bool only_idle)
{
	struct list *head = &w->downstreams;
	for (struct list *n = head->next, *next; n != head; n = next) {
		next = n->next;
		struct downstream *ds = list_entry(n, struct downstream, link);
		if (only_idle)
			downstream_close_if_idle(ds);
		else
			downstream_close(ds);
	}
}

static void close_all_upstreams(struct proxy_worker *w)
{
	while (!list_empty(&w->upstream_conns)) {
		struct upstream_conn *uc =
			list_entry(w->upstream_conns.next, struct upstream_conn, link);
		upstream_conn_close(uc);
	}
}

static void drain_deadline(struct timer *t)
{
	struct proxy_worker *w = container_of(t, struct proxy_worker, drain_timer);
	log_warn("worker %u: drain timeout, closing %llu connections", w->id,
		 (unsigned long long)w->active_connections);
	proxy_worker_stop(w, false);
}

/* Checked at the end of every turn while draining. */
static void drain_check(struct proxy_worker *w)
{
	if (w->draining && w->active_connections == 0)
		w->loop.stop = true;
}

void proxy_worker_stop(struct proxy_worker *w, bool graceful)
{
	close_listeners(w);
	timer_unlink(&w->loop.timers, &w->resume_accept_timer);
	if (!graceful) {
		w->draining = true;
		close_all_downstreams(w, false);
		w->loop.stop = true;
		return;
	}
	if (w->draining)
		return;
	w->draining = true;
	close_all_downstreams(w, true);
	w->drain_timer.cb = drain_deadline;
	uint64_t limit = w->config->limits.drain_timeout_ms;
	timer_link(&w->loop.timers, &w->drain_timer, w->loop.now_ms + limit);
	drain_check(w);
}

void proxy_worker_run(struct proxy_worker *w)
{
	/* One turn at a time, so draining can be checked between turns. */
	while (!w->loop.stop) {
		loop_run_once(&w->loop);
		drain_check(w);
	}
}

void proxy_worker_deinit(struct proxy_worker *w)
{
	close_listeners(w);
	close_all_downstreams(w, false);
	close_all_upstreams(w);
	loop_run_deferred(&w->loop);
	while (!list_empty(&w->free_exchanges)) {
		struct exchange *x = list_entry(w->free_exchanges.next, struct exchange, free_link);
		list_unlink(&x->free_link);
		free(x);
	}
	if (w->upstreams)
		for (size_t i = 0; i < w->config->num_upstreams; i++)
			upstream_rt_deinit(&w->upstreams[i]);
	free(w->upstreams);
	free(w->listeners);
	free(w->scratch_headers);
	buf_pool_deinit(&w->bufs);
	loop_deinit(&w->loop);
}

const char *proxy_worker_date(struct proxy_worker *w)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if ((uint64_t)ts.tv_sec != w->date_second) {
		struct tm tm;
		gmtime_r(&ts.tv_sec, &tm);
		strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_second = (uint64_t)ts.tv_sec;
	}
	return w->date;
}
