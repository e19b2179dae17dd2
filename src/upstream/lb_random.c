/*
 * lb_random: weighted random. Each pick draws a usable server with
 * probability weight / total weight from the worker's generator; no state,
 * no coordination between workers, and no herding after a reload (every
 * worker starts "in the middle"). O(servers) per pick.
 */
#include "upstream/lb.h"

static int random_init(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++)
		u->servers[i].usable = true;
	return 0;
}

static int random_pick(struct upstream_rt *u, const struct lb_request *req)
{
	return lb_weighted_random(u, -1);
}

const struct lb_ops lb_random = {
	.name = "random",
	.init = random_init,
	.pick = random_pick,
};
