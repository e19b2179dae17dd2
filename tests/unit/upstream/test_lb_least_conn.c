/*
 * Tests for upstream/lb_least_conn: weighted least outstanding requests,
 * ties by smooth weighted round robin.
 */
#include "lb_test.h"

static struct lbt t;

static void teardown(void)
{
	lbt_free(&t);
}

TestSuite(lb_least_conn, .fini = teardown);

Test(lb_least_conn, registered)
{
	cr_expect_eq(lb_find(LB_LEAST_CONN), &lb_least_conn);
	cr_expect_str_eq(lb_least_conn.name, "least_conn");
}

Test(lb_least_conn, picks_the_least_loaded)
{
	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 4);
	t.rt.servers[0].active = 3;
	t.rt.servers[1].active = 2;
	t.rt.servers[2].active = 1;
	t.rt.servers[3].active = 4;
	for (int i = 0; i < 10; i++)
		cr_expect_eq(lbt_pick(&t, -1), 2);
}

Test(lb_least_conn, load_is_per_unit_of_weight)
{
	const uint32_t w[] = { 1, 4 };

	lbt_make(&t, LB_LEAST_CONN, w, NULL, 2);
	t.rt.servers[0].active = 1; /* 1 per unit */
	t.rt.servers[1].active = 3; /* 0.75 per unit */
	cr_expect_eq(lbt_pick(&t, -1), 1);
	t.rt.servers[1].active = 5; /* 1.25 per unit */
	cr_expect_eq(lbt_pick(&t, -1), 0);
}

Test(lb_least_conn, idle_servers_follow_the_weights_exactly)
{
	const uint32_t w[] = { 1, 2, 3 };
	int count[3] = { 0 };

	lbt_make(&t, LB_LEAST_CONN, w, NULL, 3);
	for (int i = 0; i < 600; i++)
		count[lbt_pick(&t, -1)]++;
	cr_expect_eq(count[0], 100);
	cr_expect_eq(count[1], 200);
	cr_expect_eq(count[2], 300);
}

Test(lb_least_conn, ties_rotate_among_the_least_loaded_only)
{
	int count[3] = { 0 };
	int prev = -1;

	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 3);
	t.rt.servers[1].active = 5;
	for (int i = 0; i < 20; i++) {
		int s = lbt_pick(&t, -1);
		cr_expect_neq(s, prev, "round robin between the tied servers");
		prev = s;
		count[s]++;
	}
	cr_expect_eq(count[0], 10);
	cr_expect_eq(count[1], 0);
	cr_expect_eq(count[2], 10);
}

Test(lb_least_conn, in_flight_requests_spread_evenly)
{
	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 5);
	for (int i = 0; i < 103; i++) {
		int s = lbt_pick(&t, -1);
		t.rt.servers[s].active++;
		uint32_t lo = UINT32_MAX, hi = 0;
		for (int j = 0; j < 5; j++) {
			lo = t.rt.servers[j].active < lo ? t.rt.servers[j].active : lo;
			hi = t.rt.servers[j].active > hi ? t.rt.servers[j].active : hi;
		}
		cr_assert_leq(hi - lo, 1, "after %d picks: %u..%u", i + 1, lo, hi);
	}
}

Test(lb_least_conn, exclude_and_none_usable)
{
	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 2);
	t.rt.servers[1].active = 9;
	cr_expect_eq(lbt_pick(&t, 0), 1, "the excluded server is skipped even when idle");
	lbt_free(&t);
	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 1);
	cr_expect_eq(lbt_pick(&t, 0), -1);
	lbt_free(&t);
	lbt_make(&t, LB_LEAST_CONN, NULL, NULL, 0);
	cr_expect_eq(lbt_pick(&t, -1), -1);
}
