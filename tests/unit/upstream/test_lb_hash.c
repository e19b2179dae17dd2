/*
 * Tests for upstream/lb_hash: Maglev consistent hashing with bounded loads
 * (balance: hash and ip_hash).
 */
#include "core/hash.h"
#include "lb_test.h"

#define KEYS 10000

static struct lbt t, t2;

static void teardown(void)
{
	lbt_free(&t);
	lbt_free(&t2);
}

TestSuite(lb_hash, .fini = teardown);

static uint64_t key(int i)
{
	return hash_bytes(&i, sizeof(i), 42);
}

static int pick_key(struct lbt *x, int i)
{
	return lbt_pick_key(x, -1, true, key(i));
}

/* The address of the server a key goes to, so tables can be compared. */
static const char *server_of(struct lbt *x, int i)
{
	int s = pick_key(x, i);
	cr_assert_geq(s, 0);
	return x->rt.servers[s].config->address;
}

Test(lb_hash, registered)
{
	cr_expect_eq(lb_find(LB_HASH), &lb_hash);
	cr_expect_eq(lb_find(LB_IP_HASH), &lb_ip_hash);
	cr_expect_str_eq(lb_hash.name, "hash");
	cr_expect_str_eq(lb_ip_hash.name, "ip_hash");
}

Test(lb_hash, table_is_prime_and_at_least_100_per_server)
{
	lbt_make(&t, LB_HASH, NULL, NULL, 7);
	size_t m = t.rt.lb_table_size;
	cr_expect_geq(m, 700);
	for (size_t d = 2; d * d <= m; d++)
		cr_expect_neq(m % d, 0, "%zu is divisible by %zu", m, d);
	for (size_t i = 0; i < m; i++)
		cr_assert_lt(t.rt.lb_table[i], 7);
}

Test(lb_hash, same_key_same_server)
{
	lbt_make(&t, LB_HASH, NULL, NULL, 5);
	lbt_make(&t2, LB_HASH, NULL, NULL, 5); /* another worker */
	for (int i = 0; i < 1000; i++) {
		int s = pick_key(&t, i);
		cr_assert_eq(pick_key(&t, i), s, "key %d moved", i);
		cr_assert_eq(pick_key(&t2, i), s, "key %d differs between workers", i);
	}
}

Test(lb_hash, keys_follow_weights)
{
	const uint32_t w[] = { 1, 2, 3 };
	int count[3] = { 0 };

	lbt_make(&t, LB_HASH, w, NULL, 3);
	for (int i = 0; i < 30000; i++)
		count[pick_key(&t, i)]++;
	lbt_expect_shares(count, w, 3, 30000, 0.10);
}

Test(lb_hash, every_server_gets_keys_even_at_extreme_weights)
{
	const uint32_t w[] = { 10000, 1, 10000 };
	int count[3] = { 0 };

	lbt_make(&t, LB_HASH, w, NULL, 3);
	for (int i = 0; i < 30000; i++)
		count[pick_key(&t, i)]++;
	cr_expect_gt(count[1], 0);
	cr_expect_lt(count[1], 30000 / 100);
}

/* Fraction of KEYS whose server differs between t and t2. */
static double moved_fraction(void)
{
	int moved = 0;

	for (int i = 0; i < KEYS; i++)
		moved += strcmp(server_of(&t, i), server_of(&t2, i)) != 0;
	return (double)moved / KEYS;
}

Test(lb_hash, removing_one_of_n_moves_about_1_over_n)
{
	const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const int without_4[] = { 1, 2, 3, 5, 6, 7, 8, 9, 10 };
	const double n = 10;

	lbt_make(&t, LB_HASH, NULL, all, 10);
	lbt_make(&t2, LB_HASH, NULL, without_4, 9);
	double f = moved_fraction();
	cr_expect(f > 0.5 / n && f < 1.5 / n, "moved %.3f of the keys", f);
	/* and the keys that move are mostly those of the server that left */
	int stray = 0;
	for (int i = 0; i < KEYS; i++)
		stray += strcmp(server_of(&t, i), "10.0.0.4:80") != 0 &&
			 strcmp(server_of(&t, i), server_of(&t2, i)) != 0;
	cr_expect_lt(stray, KEYS / 50, "%d keys of staying servers moved", stray);
}

Test(lb_hash, adding_one_of_n_moves_about_1_over_n)
{
	const int before[] = { 1, 2, 3, 4, 5 };
	const int after[] = { 1, 2, 3, 4, 5, 6 };
	const double n = 6;

	lbt_make(&t, LB_HASH, NULL, before, 5);
	lbt_make(&t2, LB_HASH, NULL, after, 6);
	double f = moved_fraction();
	cr_expect(f > 0.5 / n && f < 1.5 / n, "moved %.3f of the keys", f);
	int to_new = 0;
	for (int i = 0; i < KEYS; i++)
		to_new += strcmp(server_of(&t2, i), "10.0.0.6:80") == 0;
	cr_expect_geq(to_new, (int)(f * KEYS * 0.9), "most moved keys go to the new server");
}

Test(lb_hash, order_of_servers_does_not_matter)
{
	const int a[] = { 1, 2, 3, 4 };
	const int b[] = { 4, 3, 2, 1 };

	lbt_make(&t, LB_HASH, NULL, a, 4);
	lbt_make(&t2, LB_HASH, NULL, b, 4);
	cr_expect_lt(moved_fraction(), 0.02);
}

Test(lb_hash, bounded_load_with_requests_in_flight)
{
	const int n = 10;

	lbt_make(&t, LB_HASH, NULL, NULL, (size_t)n);
	for (int i = 0; i < 2000; i++) {
		/* half the requests carry one hot key */
		int s = lbt_pick_key(&t, -1, true, i % 2 ? key(7) : key(i));
		t.rt.servers[s].active++;
		double avg = (double)(i + 1) / n;
		for (int j = 0; j < n; j++)
			cr_assert_leq(t.rt.servers[j].active, 1.25 * avg + 1,
				      "after %d picks server %d has %u in flight (average %.1f)", i + 1,
				      j, t.rt.servers[j].active, avg);
	}
}

Test(lb_hash, under_the_bound_keys_do_not_move)
{
	lbt_make(&t, LB_HASH, NULL, NULL, 4);
	int home = pick_key(&t, 1);
	t.rt.servers[home].active = 1; /* cap is ceil(1.25 x 2 / 4) = 1: full */
	int away = pick_key(&t, 1);
	cr_expect_neq(away, home, "over the bound the walk goes on");
	t.rt.servers[home].active = 0;
	cr_expect_eq(pick_key(&t, 1), home, "back home once load drops");
}

Test(lb_hash, excluded_server_only_moves_its_own_keys)
{
	lbt_make(&t, LB_HASH, NULL, NULL, 5);
	for (int i = 0; i < 2000; i++) {
		int s = pick_key(&t, i);
		int r = lbt_pick_key(&t, 2, true, key(i));
		cr_assert_neq(r, 2);
		if (s != 2)
			cr_assert_eq(r, s, "key %d moved although its server was not excluded", i);
	}
}

Test(lb_hash, no_key_still_picks)
{
	int count[3] = { 0 };

	lbt_make(&t, LB_IP_HASH, NULL, NULL, 3);
	for (int i = 0; i < 300; i++)
		count[lbt_pick(&t, -1)]++;
	cr_expect_gt(count[0], 50);
	cr_expect_gt(count[1], 50);
	cr_expect_gt(count[2], 50);
	cr_expect_eq(lbt_pick(&t, -1) >= 0, true);
	lbt_free(&t);
	lbt_make(&t, LB_HASH, NULL, NULL, 1);
	cr_expect_eq(lbt_pick_key(&t, 0, true, 5), -1);
	cr_expect_eq(lbt_pick_key(&t, -1, true, 5), 0);
}
