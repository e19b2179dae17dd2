#include "upstream/upstream.h"

#include <errno.h>
#include <stdlib.h>

#include "core/bug.h"
#include "net/tls.h"
#include "upstream/lb.h"

int upstream_rt_init(struct upstream_rt *u, const struct upstream_config *cfg,
		     struct rand_state *rand)
{
	u->config = cfg;
	u->rand = rand;
	u->num_servers = cfg->num_servers;
	u->lb = lb_find(cfg->balance);
	if (!u->lb)
		u->lb = &lb_round_robin;
	u->servers = calloc(cfg->num_servers ? cfg->num_servers : 1, sizeof(*u->servers));
	if (!u->servers)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->num_servers; i++) {
		u->servers[i].config = &cfg->servers[i];
		u->servers[i].upstream = cfg;
		u->servers[i].weight = cfg->servers[i].weight * UPSTREAM_WEIGHT_SCALE;
		list_init(&u->servers[i].idle);
	}
	return u->lb->init(u);
}

void upstream_rt_deinit(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++) {
		BUG_ON(u->servers[i].num_idle != 0);
		tls_session_free(&u->servers[i].tls_session);
	}
	if (u->lb && u->lb->deinit)
		u->lb->deinit(u);
	free(u->servers);
	u->servers = NULL;
}

void upstream_rt_attach_health(struct upstream_rt *u, struct server_health *health)
{
	for (size_t i = 0; i < u->num_servers; i++)
		u->servers[i].health = &health[i];
}

static bool full(const struct server_rt *s)
{
	uint32_t max = s->config->max_connections;
	return max && s->health && atomic_load_explicit(&s->health->active, memory_order_relaxed) >= max;
}

/* Takes a slot; false when max_connections was reached meanwhile. */
static bool enter(struct server_rt *s)
{
	uint32_t max = s->config->max_connections;
	if (s->health) {
		unsigned n = atomic_load(&s->health->active);
		do {
			if (max && n >= max)
				return false;
		} while (!atomic_compare_exchange_weak(&s->health->active, &n, n + 1));
	}
	s->active++;
	return true;
}

void upstream_leave(struct server_rt *s)
{
	if (s->active)
		s->active--;
	if (s->health)
		atomic_fetch_sub(&s->health->active, 1);
}

/* Healthy now, or an ejection that has run out (the trial is decided after
 * the pick, so a server not picked does not use up its trial). */
static bool candidate(const struct server_rt *s, uint64_t now_ms)
{
	return !s->health || health_candidate(s->health, now_ms);
}

/* Slow start: a server back from down or ejected gets a share growing
 * linearly from 1/10 of its weight to all of it over slow_start. */
static uint32_t effective_weight(const struct upstream_rt *u, const struct server_rt *s,
				 uint64_t now_ms)
{
	uint64_t ramp = u->config->slow_start_ms;
	uint64_t w = (uint64_t)s->config->weight * UPSTREAM_WEIGHT_SCALE;
	if (ramp == 0 || !s->health)
		return (uint32_t)w;
	uint64_t since = atomic_load_explicit(&s->health->recovered_at, memory_order_relaxed);
	if (since == 0 || now_ms >= since + ramp)
		return (uint32_t)w;
	uint64_t scaled = w * (now_ms - since) / ramp;
	return (uint32_t)(scaled > w / 10 ? scaled : w / 10);
}

/* Marks the candidates; returns how many. */
static size_t mark_usable(struct upstream_rt *u, const struct lb_request *req)
{
	size_t primaries = 0, backups = 0;

	u->pick_was_full = false;
	for (size_t i = 0; i < u->num_servers; i++) {
		struct server_rt *s = &u->servers[i];
		s->usable = (int)i != req->exclude && candidate(s, req->now_ms);
		if (s->usable && full(s)) {
			s->usable = false;
			u->pick_was_full = true;
		}
		s->weight = effective_weight(u, s, req->now_ms);
		if (s->usable && !s->config->backup)
			primaries++;
		else if (s->usable)
			backups++;
	}
	if (primaries == 0)
		return backups;
	for (size_t i = 0; i < u->num_servers; i++)
		if (u->servers[i].config->backup)
			u->servers[i].usable = false;
	return primaries;
}

void upstream_observe(struct upstream_rt *u, const struct server_rt *s, uint64_t latency_us, bool ok)
{
	if (u->lb->observe)
		u->lb->observe(u, (int)(s - u->servers), latency_us, ok);
}

/* The balancer's choice, confirmed: its trial (if ejected) and a slot. */
static bool take(struct upstream_rt *u, struct server_rt *s, uint64_t now_ms)
{
	if (s->health && !health_usable(s->health, now_ms, u->config->passive.fail_timeout_ms)) {
		s->usable = false; /* another request took its trial */
		return false;
	}
	if (!enter(s)) {
		s->usable = false;
		u->pick_was_full = true;
		return false;
	}
	return true;
}

struct server_rt *upstream_pick(struct upstream_rt *u, const struct lb_request *req)
{
	size_t left = mark_usable(u, req);

	if (req->prefer && req->prefer->usable) {
		struct server_rt *s = &u->servers[req->prefer - u->servers];
		if (take(u, s, req->now_ms))
			return s;
		left--;
	}
	while (left-- > 0) {
		int i = u->lb->pick(u, req);
		if (i < 0)
			return NULL;
		if (take(u, &u->servers[i], req->now_ms))
			return &u->servers[i];
	}
	return NULL;
}

struct pooled_conn *upstream_pool_take(struct server_rt *s)
{
	if (list_empty(&s->idle))
		return NULL;
	struct pooled_conn *pc = list_entry(s->idle.next, struct pooled_conn, node);
	list_unlink(&pc->node);
	s->num_idle--;
	return pc;
}

bool upstream_pool_put(struct server_rt *s, struct pooled_conn *pc, uint32_t keepalive)
{
	if (s->num_idle >= keepalive)
		return false;
	pc->server = s;
	list_push_front(&s->idle, &pc->node);
	s->num_idle++;
	return true;
}

void upstream_pool_remove(struct server_rt *s, struct pooled_conn *pc)
{
	if (!list_linked(&pc->node))
		return;
	list_unlink(&pc->node);
	s->num_idle--;
}

static void budget_roll(struct upstream_rt *u, uint64_t now_ms)
{
	if (now_ms - u->budget_window_ms >= 1000) {
		u->budget_window_ms = now_ms;
		u->budget_requests = 0;
		u->budget_retries = 0;
	}
}

void upstream_note_request(struct upstream_rt *u, uint64_t now_ms)
{
	budget_roll(u, now_ms);
	u->budget_requests++;
}

bool upstream_retry_allowed(struct upstream_rt *u, uint64_t now_ms)
{
	const struct retry_budget_config *b = &u->config->retry_budget;
	budget_roll(u, now_ms);
	double allowed = b->ratio * u->budget_requests;
	if (allowed < b->min_per_second)
		allowed = b->min_per_second;
	if (u->budget_retries >= allowed)
		return false;
	u->budget_retries++;
	return true;
}
