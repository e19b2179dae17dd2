/*
 * Tests for upstream/lb_p2c: power of two random choices, weighted.
 */
#include "lb_test.h"

static struct lbt t;

static void teardown(void)
{
	lbt_free(&t);
}

TestSuite(lb_p2c, .fini = teardown);

Test(lb_p2c, registered)
{
	cr_expect_eq(lb_find(LB_P2C), &lb_p2c);
	cr_expect_str_eq(lb_p2c.name, "p2c");
}

Test(lb_p2c, idle_servers_follow_weights_over_3000_picks)
{
	const uint32_t w[] = { 1, 2, 3 };
	int count[3] = { 0 };

	lbt_make(&t, LB_P2C, w, NULL, 3);
	for (int i = 0; i < 3000; i++)
		count[lbt_pick(&t, -1)]++;
	lbt_expect_shares(count, w, 3, 3000, 0.10);
}

Test(lb_p2c, a_busy_server_is_never_chosen_over_an_idle_one)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_P2C, NULL, NULL, 3);
	t.rt.servers[0].active = 10;
	for (int i = 0; i < 1000; i++)
		count[lbt_pick(&t, -1)]++;
	/* the two choices are distinct: server 0 always meets a lighter one */
	cr_expect_eq(count[0], 0);
	cr_expect_gt(count[1], 400);
	cr_expect_gt(count[2], 400);
}

Test(lb_p2c, two_servers_always_the_lighter_per_weight)
{
	const uint32_t w[] = { 1, 4 };

	lbt_make(&t, LB_P2C, w, NULL, 2);
	t.rt.servers[0].active = 1;
	t.rt.servers[1].active = 3;
	for (int i = 0; i < 50; i++)
		cr_expect_eq(lbt_pick(&t, -1), 1);
	t.rt.servers[1].active = 5;
	for (int i = 0; i < 50; i++)
		cr_expect_eq(lbt_pick(&t, -1), 0);
}

Test(lb_p2c, in_flight_load_stays_close_to_even)
{
	lbt_make(&t, LB_P2C, NULL, NULL, 8);
	for (int i = 0; i < 800; i++)
		t.rt.servers[lbt_pick(&t, -1)].active++;
	for (int j = 0; j < 8; j++) {
		cr_expect_geq(t.rt.servers[j].active, 95, "server %d: %u", j, t.rt.servers[j].active);
		cr_expect_leq(t.rt.servers[j].active, 105, "server %d: %u", j, t.rt.servers[j].active);
	}
}

Test(lb_p2c, exclude_and_single_server)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_P2C, NULL, NULL, 3);
	for (int i = 0; i < 300; i++)
		count[lbt_pick(&t, 2)]++;
	cr_expect_eq(count[2], 0);
	lbt_free(&t);
	lbt_make(&t, LB_P2C, NULL, NULL, 1);
	t.rt.servers[0].active = 50;
	cr_expect_eq(lbt_pick(&t, -1), 0, "one server: no second choice needed");
	cr_expect_eq(lbt_pick(&t, 0), -1);
}
