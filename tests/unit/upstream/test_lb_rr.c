/*
 * Tests for upstream/lb_rr (smooth weighted round robin) through
 * upstream_rt_init / upstream_pick, and the per-server idle pools of
 * upstream.c. The upstream_config is built by hand, as config/ would.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/rand.h"
#include "upstream/lb.h"
#include "upstream/upstream.h"

#define MAX_SERVERS 8

static struct server_config servers[MAX_SERVERS];
static struct upstream_config cfg;
static struct upstream_rt rt;
static struct rand_state rnd;
static bool rt_live;

static void make_upstream(const uint32_t *weights, size_t n)
{
	cr_assert_leq(n, MAX_SERVERS);
	memset(servers, 0, sizeof(servers));
	cfg = (struct upstream_config)UPSTREAM_CONFIG_DEFAULTS;
	cfg.name = "test";
	for (size_t i = 0; i < n; i++)
		servers[i].weight = weights[i];
	cfg.servers = servers;
	cfg.num_servers = n;
	rand_seed(&rnd);
	cr_assert_eq(upstream_rt_init(&rt, &cfg, &rnd), 0);
	rt_live = true;
}

static void teardown(void)
{
	if (rt_live)
		upstream_rt_deinit(&rt);
	rt_live = false;
}

TestSuite(lb_rr, .fini = teardown);
TestSuite(upstream_pool, .fini = teardown);

static int pick(int exclude)
{
	struct lb_request req = { .exclude = exclude };
	struct server_rt *s = upstream_pick(&rt, &req);

	if (!s)
		return -1;
	cr_assert_geq(s, rt.servers);
	cr_assert_lt(s, rt.servers + rt.num_servers);
	return (int)(s - rt.servers);
}

Test(lb_rr, init_links_servers_to_config)
{
	const uint32_t w[] = { 3, 1 };

	make_upstream(w, 2);
	cr_expect_eq(rt.num_servers, 2);
	cr_expect_eq(rt.lb, &lb_round_robin);
	cr_expect_eq(rt.config, &cfg);
	/* Smooth round robin keeps the current weights summing to zero. */
	cr_expect_eq(rt.servers[0].current_weight + rt.servers[1].current_weight, 0);
	for (size_t i = 0; i < 2; i++) {
		cr_expect_eq(rt.servers[i].config, &servers[i]);
		cr_expect_eq(rt.servers[i].upstream, &cfg);
		cr_expect_eq(rt.servers[i].num_idle, 0);
		cr_expect(list_empty(&rt.servers[i].idle));
	}
	cr_expect_eq(lb_find(LB_ROUND_ROBIN), &lb_round_robin);
	cr_expect_str_eq(lb_round_robin.name, "round_robin");
}

Test(lb_rr, equal_weights_rotate)
{
	const uint32_t w[] = { 1, 1, 1 };

	make_upstream(w, 3);
	int prev = pick(-1);
	for (int i = 1; i < 12; i++) {
		int s = pick(-1);
		cr_expect_eq(s, (prev + 1) % 3, "pick %d", i);
		prev = s;
	}
}

Test(lb_rr, weights_5_1_1_smooth_order)
{
	const uint32_t w[] = { 5, 1, 1 };
	const int want[7] = { 0, 0, 1, 0, 2, 0, 0 }; /* a a b a c a a */

	int seq[28];

	/* Workers may start anywhere in the cycle: the picks must follow the
	 * pattern from some offset on. */
	make_upstream(w, 3);
	for (int i = 0; i < 28; i++)
		seq[i] = pick(-1);
	int offset = -1;
	for (int o = 0; o < 7 && offset < 0; o++) {
		bool ok = true;
		for (int i = 0; i < 28 && ok; i++)
			ok = seq[i] == want[(o + i) % 7];
		if (ok)
			offset = o;
	}
	cr_expect_geq(offset, 0, "picks %d %d %d %d %d %d %d are not a rotation of a a b a c a a",
		      seq[0], seq[1], seq[2], seq[3], seq[4], seq[5], seq[6]);
}

Test(lb_rr, weights_5_1_1_exact_per_window_and_spread)
{
	const uint32_t w[] = { 5, 1, 1 };
	int run = 0, longest = 0, prev = -1;

	make_upstream(w, 3);
	for (int window = 0; window < 20; window++) {
		int count[3] = { 0 };
		for (int i = 0; i < 7; i++) {
			int s = pick(-1);
			cr_assert_geq(s, 0);
			count[s]++;
			run = s == prev ? run + 1 : 1;
			prev = s;
			if (s == 0 && run > longest)
				longest = run;
		}
		cr_expect_eq(count[0], 5, "window %d", window);
		cr_expect_eq(count[1], 1, "window %d", window);
		cr_expect_eq(count[2], 1, "window %d", window);
	}
	cr_expect_lt(longest, 5, "the weight-5 server was picked %d times in a row", longest);
}

Test(lb_rr, weights_1_2_3_over_600_picks)
{
	const uint32_t w[] = { 1, 2, 3 };
	int total[3] = { 0 };

	make_upstream(w, 3);
	for (int window = 0; window < 100; window++) {
		int count[3] = { 0 };
		for (int i = 0; i < 6; i++) {
			int s = pick(-1);
			cr_assert_geq(s, 0);
			count[s]++;
			total[s]++;
		}
		cr_expect_eq(count[0], 1, "window %d", window);
		cr_expect_eq(count[1], 2, "window %d", window);
		cr_expect_eq(count[2], 3, "window %d", window);
	}
	cr_expect_eq(total[0], 100);
	cr_expect_eq(total[1], 200);
	cr_expect_eq(total[2], 300);
}

Test(lb_rr, single_server_always_picked)
{
	const uint32_t w[] = { 7 };

	make_upstream(w, 1);
	for (int i = 0; i < 10; i++)
		cr_expect_eq(pick(-1), 0);
}

Test(lb_rr, exclude_skips_a_server)
{
	const uint32_t w[] = { 1, 1, 1 };
	int count[3] = { 0 };

	make_upstream(w, 3);
	for (int i = 0; i < 30; i++) {
		int s = pick(1);
		cr_assert_geq(s, 0);
		count[s]++;
	}
	cr_expect_eq(count[1], 0);
	cr_expect_geq(count[0], 14, "%d", count[0]);
	cr_expect_geq(count[2], 14, "%d", count[2]);
}

Test(lb_rr, exclude_heaviest_server)
{
	const uint32_t w[] = { 5, 1, 1 };

	make_upstream(w, 3);
	for (int i = 0; i < 14; i++)
		cr_expect_neq(pick(0), 0, "pick %d", i);
}

Test(lb_rr, exclude_only_server_gives_none)
{
	const uint32_t w[] = { 1 };

	make_upstream(w, 1);
	cr_expect_eq(pick(0), -1);
	cr_expect_eq(pick(-1), 0, "still picked when not excluded");
}

Test(lb_rr, no_servers_gives_none)
{
	make_upstream(NULL, 0);
	cr_expect_eq(pick(-1), -1);
}

Test(lb_rr, retry_exclusion_keeps_long_run_balance)
{
	const uint32_t w[] = { 2, 1 };
	int count[2] = { 0 };

	make_upstream(w, 2);
	pick(0);
	pick(1);
	for (int i = 0; i < 300; i++)
		count[pick(-1)]++;
	cr_expect_geq(count[0], 199);
	cr_expect_leq(count[0], 201);
	cr_expect_eq(count[0] + count[1], 300);
}

/* --- idle pools ------------------------------------------------------------ */

static void pcs_init(struct pooled_conn *pc, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		list_init(&pc[i].node);
		pc[i].server = NULL;
	}
}

Test(upstream_pool, take_from_empty_is_null)
{
	const uint32_t w[] = { 1 };

	make_upstream(w, 1);
	cr_expect_null(upstream_pool_take(&rt.servers[0]));
}

Test(upstream_pool, put_take_most_recent_first)
{
	const uint32_t w[] = { 1 };
	struct pooled_conn pc[3];
	struct server_rt *s;

	make_upstream(w, 1);
	s = &rt.servers[0];
	pcs_init(pc, 3);
	for (int i = 0; i < 3; i++) {
		cr_expect(upstream_pool_put(s, &pc[i], 8));
		cr_expect_eq(pc[i].server, s);
		cr_expect(list_linked(&pc[i].node));
	}
	cr_expect_eq(s->num_idle, 3);
	cr_expect_eq(upstream_pool_take(s), &pc[2]);
	cr_expect_eq(upstream_pool_take(s), &pc[1]);
	cr_expect_eq(s->num_idle, 1);
	cr_expect_not(list_linked(&pc[2].node), "a taken connection is unlinked");
	cr_expect_eq(upstream_pool_take(s), &pc[0]);
	cr_expect_null(upstream_pool_take(s));
	cr_expect_eq(s->num_idle, 0);
}

Test(upstream_pool, keepalive_cap)
{
	const uint32_t w[] = { 1 };
	struct pooled_conn pc[3];
	struct server_rt *s;

	make_upstream(w, 1);
	s = &rt.servers[0];
	pcs_init(pc, 3);
	cr_expect(upstream_pool_put(s, &pc[0], 2));
	cr_expect(upstream_pool_put(s, &pc[1], 2));
	cr_expect_not(upstream_pool_put(s, &pc[2], 2), "pool full at keepalive");
	cr_expect_eq(s->num_idle, 2);
	cr_expect_not(list_linked(&pc[2].node), "a refused connection is not linked");
	cr_expect_eq(upstream_pool_take(s), &pc[1]);
	cr_expect(upstream_pool_put(s, &pc[2], 2), "room again after a take");
	while (upstream_pool_take(s))
		;
	cr_expect_eq(s->num_idle, 0);
}

Test(upstream_pool, keepalive_zero_pools_nothing)
{
	const uint32_t w[] = { 1 };
	struct pooled_conn pc;

	make_upstream(w, 1);
	pcs_init(&pc, 1);
	cr_expect_not(upstream_pool_put(&rt.servers[0], &pc, 0));
	cr_expect_eq(rt.servers[0].num_idle, 0);
}

Test(upstream_pool, remove_from_the_middle)
{
	const uint32_t w[] = { 1 };
	struct pooled_conn pc[3];
	struct server_rt *s;

	make_upstream(w, 1);
	s = &rt.servers[0];
	pcs_init(pc, 3);
	for (int i = 0; i < 3; i++)
		cr_assert(upstream_pool_put(s, &pc[i], 8));
	upstream_pool_remove(s, &pc[1]);
	cr_expect_eq(s->num_idle, 2);
	cr_expect_not(list_linked(&pc[1].node));
	upstream_pool_remove(s, &pc[1]);
	cr_expect_eq(s->num_idle, 2, "removing an unpooled connection is a no-op");
	cr_expect_eq(upstream_pool_take(s), &pc[2]);
	cr_expect_eq(upstream_pool_take(s), &pc[0]);
	cr_expect_null(upstream_pool_take(s));
}

Test(upstream_pool, pools_are_per_server)
{
	const uint32_t w[] = { 1, 1 };
	struct pooled_conn pc[2];

	make_upstream(w, 2);
	pcs_init(pc, 2);
	cr_assert(upstream_pool_put(&rt.servers[0], &pc[0], 1));
	cr_expect(upstream_pool_put(&rt.servers[1], &pc[1], 1),
		  "the cap is per server, not per upstream");
	cr_expect_eq(pc[1].server, &rt.servers[1]);
	cr_expect_eq(upstream_pool_take(&rt.servers[1]), &pc[1]);
	cr_expect_eq(upstream_pool_take(&rt.servers[0]), &pc[0]);
	cr_expect_eq(rt.servers[0].num_idle, 0);
	cr_expect_eq(rt.servers[1].num_idle, 0);
}
