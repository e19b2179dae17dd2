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
#include "proxy/mirror.h"
#include "proxy/tunnel.h"
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

static void gen_close_listeners(struct proxy_generation *g, const int *keep, size_t num_keep)
{
	for (size_t i = 0; i < g->num_listeners; i++) {
		struct proxy_listener *l = &g->listeners[i];
		if (l->io.fd < 0)
			continue;
		loop_del(&g->worker->loop, &l->io);
		bool kept = false;
		for (size_t k = 0; k < num_keep; k++)
			kept = kept || keep[k] == l->io.fd;
		if (!kept)
			close(l->io.fd);
		l->io.fd = -1;
	}
}

static void gen_free(struct proxy_generation *g)
{
	struct proxy_worker *w = g->worker;

	if (g->upstreams)
		for (size_t i = 0; i < g->config->num_upstreams; i++)
			upstream_rt_deinit(&g->upstreams[i]);
	free(g->upstreams);
	free(g->listeners);
	if (w->on_release)
		w->on_release(w, g->config);
	free(g);
}

static void gen_free_deferred(struct loop_defer *d)
{
	gen_free(container_of(d, struct proxy_generation, free_later));
}

/* Freed at the end of the turn: an event fetched in this turn may still
 * point at one of its listeners. */
void proxy_gen_unref(struct proxy_generation *g)
{
	BUG_ON(g->refs == 0);
	if (--g->refs > 0)
		return;
	gen_close_listeners(g, NULL, 0);
	loop_defer(&g->worker->loop, &g->free_later);
}

static int gen_setup_upstreams(struct proxy_generation *g)
{
	const struct proxy_config *cfg = g->config;
	g->upstreams = calloc(cfg->num_upstreams ? cfg->num_upstreams : 1, sizeof(*g->upstreams));
	if (!g->upstreams)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->num_upstreams; i++) {
		int rc = upstream_rt_init(&g->upstreams[i], &cfg->upstreams[i], &g->worker->rand);
		if (rc)
			return rc;
		if (cfg->health)
			upstream_rt_attach_health(&g->upstreams[i], cfg->health->upstreams[i]);
	}
	return 0;
}

static int gen_setup_listeners(struct proxy_generation *g, const int *fds,
			       atomic_ulong *const *counters)
{
	const struct proxy_config *cfg = g->config;
	g->listeners = calloc(cfg->num_listeners ? cfg->num_listeners : 1, sizeof(*g->listeners));
	if (!g->listeners)
		return -ENOMEM;
	g->num_listeners = cfg->num_listeners;
	for (size_t i = 0; i < cfg->num_listeners; i++) {
		struct proxy_listener *l = &g->listeners[i];
		l->worker = g->worker;
		l->gen = g;
		l->config = &cfg->listeners[i];
		l->connections = counters[i];
		l->io.fd = fds[i];
		l->io.cb = listener_on_io;
		int rc = loop_add_listener(&g->worker->loop, &l->io);
		if (rc) {
			l->io.fd = -1;
			return rc;
		}
	}
	return 0;
}

/* A generation for cfg, holding the reference of being current. On error
 * the sockets in fds stay the caller's. */
static struct proxy_generation *gen_new(struct proxy_worker *w, const struct proxy_config *cfg,
					const int *fds, atomic_ulong *const *counters, int *err)
{
	struct proxy_generation *g = calloc(1, sizeof(*g));
	if (!g) {
		*err = -ENOMEM;
		return NULL;
	}
	g->worker = w;
	g->config = cfg;
	g->refs = 1;
	loop_defer_init(&g->free_later, gen_free_deferred);
	*err = gen_setup_upstreams(g);
	if (*err == 0)
		*err = gen_setup_listeners(g, fds, counters);
	if (*err) {
		gen_close_listeners(g, fds, cfg->num_listeners);
		g->num_listeners = 0;
		proxy_release_cb keep = w->on_release;
		w->on_release = NULL; /* the caller still owns cfg */
		gen_free(g);
		w->on_release = keep;
		return NULL;
	}
	return g;
}

/* Scratch headers and buffers follow the largest limits in use. */
static int size_for(struct proxy_worker *w, const struct proxy_config *cfg)
{
	size_t want = header_capacity(cfg);
	if (want > w->scratch_capacity) {
		struct http_header *h = realloc(w->scratch_headers, want * sizeof(*h));
		if (!h)
			return -ENOMEM;
		w->scratch_headers = h;
		w->scratch_capacity = want;
	}
	size_t size = buffer_size(cfg);
	if (size > w->scratch_path_capacity) {
		char *p = realloc(w->scratch_path, size);
		if (!p)
			return -ENOMEM;
		w->scratch_path = p;
		w->scratch_path_capacity = size;
	}
	if (size > w->bufs.buf_size) {
		buf_pool_deinit(&w->bufs);
		buf_pool_init(&w->bufs, size, BUF_POOL_KEEP);
	}
	return 0;
}

int proxy_worker_init(struct proxy_worker *w, unsigned id, const struct proxy_config *cfg,
		      const int *listen_fds, atomic_ulong *const *listener_counters,
		      struct access_log *log)
{
	int rc;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->access_log = log;
	list_init(&w->downstreams);
	list_init(&w->upstream_conns);
	list_init(&w->free_exchanges);
	list_init(&w->mirrors);
	rand_seed(&w->rand);
	buf_pool_init(&w->bufs, buffer_size(cfg), BUF_POOL_KEEP);
	timer_init(&w->drain_timer, NULL);
	timer_init(&w->resume_accept_timer, NULL);
	rc = loop_init(&w->loop);
	if (rc == 0)
		rc = size_for(w, cfg);
	if (rc == 0)
		w->gen = gen_new(w, cfg, listen_fds, listener_counters, &rc);
	w->config = cfg;
	return rc;
}

static void close_idle_upstreams(struct proxy_worker *w, const struct proxy_generation *g)
{
	struct list *head = &w->upstream_conns;
	for (struct list *n = head->next, *next; n != head; n = next) {
		next = n->next;
		struct upstream_conn *uc = list_entry(n, struct upstream_conn, link);
		if (!uc->exchange && uc->gen == g)
			upstream_conn_close(uc);
	}
}

/* HTTP/2 clients are told to open a new connection (new certificates,
 * listener settings) once their streams in flight are answered. */
static void goaway_h2_downstreams(struct proxy_worker *w)
{
	struct list *head = &w->downstreams;
	for (struct list *n = head->next; n != head; n = n->next)
		downstream_goaway(list_entry(n, struct downstream, link));
}

int proxy_worker_reload(struct proxy_worker *w, const struct proxy_config *cfg,
			const int *listen_fds, atomic_ulong *const *listener_counters)
{
	struct proxy_generation *old = w->gen;
	int rc = size_for(w, cfg);

	if (rc)
		return rc;
	/* Sockets kept across the reload move to the new generation. */
	gen_close_listeners(old, listen_fds, cfg->num_listeners);
	struct proxy_generation *g = gen_new(w, cfg, listen_fds, listener_counters, &rc);
	if (!g)
		return rc;
	w->gen = g;
	w->config = cfg;
	close_idle_upstreams(w, old);
	goaway_h2_downstreams(w);
	proxy_gen_unref(old);
	return 0;
}

static void close_listeners(struct proxy_worker *w)
{
	if (w->gen)
		gen_close_listeners(w->gen, NULL, 0);
}

/* only_idle (draining): connections without a request in progress, and
 * tunnels, which have no end of their own to wait for (logged as they end). */
static void close_all_downstreams(struct proxy_worker *w, bool only_idle)
{
	struct list *head = &w->downstreams;
	for (struct list *n = head->next, *next; n != head; n = next) {
		next = n->next;
		struct downstream *ds = list_entry(n, struct downstream, link);
		if (!only_idle)
			downstream_close(ds);
		else if (ds->exchange && ds->exchange->step == EXCHANGE_TUNNEL)
			tunnel_end(ds->exchange);
		else
			downstream_close_if_idle(ds);
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
	mirror_close_all(w);
	loop_run_deferred(&w->loop);
	struct list *free_head = &w->free_exchanges;
	for (struct list *n = free_head->next, *next; n != free_head; n = next) {
		next = n->next;
		free(list_entry(n, struct exchange, free_link));
	}
	list_init(free_head);
	if (w->gen)
		proxy_gen_unref(w->gen);
	w->gen = NULL;
	loop_run_deferred(&w->loop);
	free(w->scratch_headers);
	free(w->scratch_path);
	buf_pool_deinit(&w->bufs);
	loop_deinit(&w->loop);
}

/* The value changes once a second, so the wall clock is read only when the
 * turn's monotonic instant reaches the next second, not per response (as
 * nginx's cached time). A step of the wall clock shows within a second. */
struct slice proxy_worker_date(struct proxy_worker *w)
{
	if (w->loop.now_ms >= w->date_next_ms) {
		struct timespec ts;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		w->date_len = strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		w->date_next_ms = w->loop.now_ms + 1000 - (uint64_t)ts.tv_nsec / 1000000;
	}
	return slice_make(w->date, w->date_len);
}
