/*
 * lb_test: a hand-built upstream_rt for the balancer tests, as config/ and
 * proxy/ would build it, with a fixed random seed so distributions are
 * reproducible. Each test file gets its own copy of the statics.
 */
#ifndef PORTICO_TESTS_UNIT_UPSTREAM_LB_TEST_H
#define PORTICO_TESTS_UNIT_UPSTREAM_LB_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/rand.h"
#include "upstream/lb.h"
#include "upstream/upstream.h"

#define LBT_MAX_SERVERS 16

struct lbt {
	struct server_config servers[LBT_MAX_SERVERS];
	char addresses[LBT_MAX_SERVERS][32];
	struct upstream_config cfg;
	struct upstream_rt rt;
	struct rand_state rnd;
	bool live;
};

/* Servers are named 10.0.0.ID:80 with ids[i] (or i + 1 when ids is NULL),
 * so two tables can share servers by name. */
static inline void lbt_make(struct lbt *t, enum lb_algorithm algo, const uint32_t *weights,
			    const int *ids, size_t n)
{
	cr_assert_leq(n, LBT_MAX_SERVERS);
	memset(t->servers, 0, sizeof(t->servers));
	t->cfg = (struct upstream_config)UPSTREAM_CONFIG_DEFAULTS;
	t->cfg.name = "test";
	t->cfg.balance = algo;
	for (size_t i = 0; i < n; i++) {
		snprintf(t->addresses[i], sizeof(t->addresses[i]), "10.0.0.%d:80",
			 ids ? ids[i] : (int)i + 1);
		t->servers[i].address = t->addresses[i];
		t->servers[i].weight = weights ? weights[i] : 1;
	}
	t->cfg.servers = t->servers;
	t->cfg.num_servers = n;
	t->rnd.s[0] = 0x9e3779b97f4a7c15ULL;
	t->rnd.s[1] = 0xbf58476d1ce4e5b9ULL;
	cr_assert_eq(upstream_rt_init(&t->rt, &t->cfg, &t->rnd), 0);
	cr_assert_eq(t->rt.lb, lb_find(algo));
	t->live = true;
}

static inline void lbt_free(struct lbt *t)
{
	if (t->live)
		upstream_rt_deinit(&t->rt);
	t->live = false;
}

/* The index picked for a request (hash used when has_hash), -1 for none. */
static inline int lbt_pick_key(struct lbt *t, int exclude, bool has_hash, uint64_t hash)
{
	struct lb_request req = { .exclude = exclude, .hash = hash, .has_hash = has_hash };
	struct server_rt *s = upstream_pick(&t->rt, &req);

	if (!s)
		return -1;
	upstream_leave(s); /* a pick takes a slot; these tests hold none */
	cr_assert_geq(s, t->rt.servers);
	cr_assert_lt(s, t->rt.servers + t->rt.num_servers);
	return (int)(s - t->rt.servers);
}

static inline int lbt_pick(struct lbt *t, int exclude)
{
	return lbt_pick_key(t, exclude, false, 0);
}

/* Expects counts[i] / picks within ±tolerance (relative) of weights[i] / sum. */
static inline void lbt_expect_shares(const int *counts, const uint32_t *weights, size_t n,
				     int picks, double tolerance)
{
	double total = 0;

	for (size_t i = 0; i < n; i++)
		total += weights[i];
	for (size_t i = 0; i < n; i++) {
		double want = picks * weights[i] / total;
		cr_expect(counts[i] >= want * (1 - tolerance) && counts[i] <= want * (1 + tolerance),
			  "server %zu: %d picks, want %.0f ±%.0f%%", i, counts[i], want, tolerance * 100);
	}
}

#endif
