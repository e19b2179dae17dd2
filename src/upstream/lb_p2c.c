/*
 * lb_p2c: power of two random choices on outstanding requests.
 *
 * Two distinct usable servers are drawn by weighted random (the second among
 * the rest); the one with the lower active / weight wins, the first drawn on
 * a tie. The expected worst load drops from log n / log log n (plain random)
 * to log log n (Mitzenmacher), without the herding of least_conn when many
 * workers see the same stale minimum. With equal loads (idle pools,
 * sequential traffic) the result is exactly weighted random. O(servers) per
 * pick for the weighted draws.
 */
#include "upstream/lb.h"

static int p2c_init(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++)
		u->servers[i].usable = true;
	return 0;
}

static int p2c_pick(struct upstream_rt *u, const struct lb_request *req)
{
	int a, b, n = lb_draw_two(u, &a, &b);
	if (n < 2)
		return n ? a : -1;
	return lb_load_cmp(&u->servers[b], &u->servers[a]) < 0 ? b : a;
}

const struct lb_ops lb_p2c = {
	.name = "p2c",
	.init = p2c_init,
	.pick = p2c_pick,
};
