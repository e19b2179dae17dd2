/*
 * Tests for upstream/lb_ewma: peak-EWMA latency x outstanding requests,
 * chosen by power of two choices.
 */
#include "lb_test.h"

static struct lbt t;

static void teardown(void)
{
	lbt_free(&t);
}

TestSuite(lb_ewma, .fini = teardown);

static void observe(int s, uint64_t us, bool ok)
{
	upstream_observe(&t.rt, &t.rt.servers[s], us, ok);
}

static void count_picks(int *count, int picks)
{
	for (int i = 0; i < picks; i++)
		count[lbt_pick(&t, -1)]++;
}

Test(lb_ewma, registered_with_feedback)
{
	cr_expect_eq(lb_find(LB_EWMA), &lb_ewma);
	cr_expect_str_eq(lb_ewma.name, "ewma");
	cr_expect_not_null(lb_ewma.observe);
	cr_expect_null(lb_round_robin.observe, "the others need no feedback");
}

Test(lb_ewma, unobserved_servers_share_by_weight)
{
	const uint32_t w[] = { 1, 2, 3 };
	int count[3] = { 0 };

	lbt_make(&t, LB_EWMA, w, NULL, 3);
	count_picks(count, 3000);
	lbt_expect_shares(count, w, 3, 3000, 0.10);
}

Test(lb_ewma, a_slow_server_gets_no_traffic)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_EWMA, NULL, NULL, 3);
	observe(0, 100000, true);
	observe(1, 1000, true);
	observe(2, 1200, true);
	count_picks(count, 1000);
	cr_expect_eq(count[0], 0);
	cr_expect_gt(count[1], 300);
	cr_expect_gt(count[2], 300);
}

Test(lb_ewma, shifts_away_as_soon_as_a_server_slows_down)
{
	int before[3] = { 0 }, after[3] = { 0 };

	lbt_make(&t, LB_EWMA, NULL, NULL, 3);
	for (int i = 0; i < 20; i++)
		for (int s = 0; s < 3; s++)
			observe(s, 1000, true);
	count_picks(before, 300);
	cr_expect_gt(before[0], 50, "fast: a fair share");
	observe(0, 50000, true); /* one slow answer: the peak counts at once */
	count_picks(after, 300);
	cr_expect_eq(after[0], 0);
	/* a few fast answers do not erase the peak within milliseconds */
	for (int i = 0; i < 5; i++)
		observe(0, 1000, true);
	cr_expect_gt(t.rt.servers[0].ewma_us, 40000.0);
}

Test(lb_ewma, outstanding_requests_raise_the_cost)
{
	int count[2] = { 0 };

	lbt_make(&t, LB_EWMA, NULL, NULL, 2);
	observe(0, 1000, true);
	observe(1, 1000, true);
	t.rt.servers[0].active = 3;
	count_picks(count, 200);
	cr_expect_eq(count[0], 0);
}

Test(lb_ewma, a_fast_failure_is_not_fast)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_EWMA, NULL, NULL, 3);
	observe(0, 20, false); /* connection refused in 20 µs */
	observe(1, 5000, true);
	observe(2, 5000, true);
	count_picks(count, 500);
	cr_expect_eq(count[0], 0);
}

Test(lb_ewma, a_new_server_starts_neutral)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_EWMA, NULL, NULL, 3);
	observe(0, 1000, true);
	observe(1, 3000, true);
	/* server 2 unobserved: costs the mean (2000 µs), between the others */
	count_picks(count, 1000);
	cr_expect_gt(count[2], 100, "not starved");
	cr_expect_gt(count[0], count[2], "not preferred over a known fast server");
	cr_expect_gt(count[2], count[1], "preferred over a known slow one");
}

Test(lb_ewma, exclude)
{
	lbt_make(&t, LB_EWMA, NULL, NULL, 2);
	observe(0, 10, true);
	observe(1, 100000, true);
	for (int i = 0; i < 20; i++)
		cr_expect_eq(lbt_pick(&t, 0), 1);
	lbt_free(&t);
	lbt_make(&t, LB_EWMA, NULL, NULL, 1);
	cr_expect_eq(lbt_pick(&t, 0), -1);
}
