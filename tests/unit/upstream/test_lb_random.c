/*
 * Tests for upstream/lb_random: weighted random.
 */
#include "lb_test.h"

static struct lbt t;

static void teardown(void)
{
	lbt_free(&t);
}

TestSuite(lb_random, .fini = teardown);

Test(lb_random, registered)
{
	cr_expect_eq(lb_find(LB_RANDOM), &lb_random);
	cr_expect_str_eq(lb_random.name, "random");
}

Test(lb_random, follows_weights_over_3000_picks)
{
	const uint32_t w[] = { 1, 2, 3 };
	int count[3] = { 0 };

	lbt_make(&t, LB_RANDOM, w, NULL, 3);
	for (int i = 0; i < 3000; i++)
		count[lbt_pick(&t, -1)]++;
	lbt_expect_shares(count, w, 3, 3000, 0.10);
}

Test(lb_random, equal_weights_over_3000_picks)
{
	const uint32_t w[] = { 1, 1, 1, 1 };
	int count[4] = { 0 };

	lbt_make(&t, LB_RANDOM, w, NULL, 4);
	for (int i = 0; i < 3000; i++)
		count[lbt_pick(&t, -1)]++;
	lbt_expect_shares(count, w, 4, 3000, 0.10);
}

Test(lb_random, ignores_load)
{
	int count[2] = { 0 };

	lbt_make(&t, LB_RANDOM, NULL, NULL, 2);
	t.rt.servers[0].active = 100;
	for (int i = 0; i < 1000; i++)
		count[lbt_pick(&t, -1)]++;
	cr_expect_gt(count[0], 400);
	cr_expect_gt(count[1], 400);
}

Test(lb_random, exclude_is_never_picked)
{
	const uint32_t w[] = { 5, 1, 1 };
	int count[3] = { 0 };

	lbt_make(&t, LB_RANDOM, w, NULL, 3);
	for (int i = 0; i < 1000; i++)
		count[lbt_pick(&t, 0)]++;
	cr_expect_eq(count[0], 0);
	cr_expect_gt(count[1], 400);
	cr_expect_gt(count[2], 400);
	lbt_free(&t);
	lbt_make(&t, LB_RANDOM, NULL, NULL, 1);
	cr_expect_eq(lbt_pick(&t, 0), -1);
}
