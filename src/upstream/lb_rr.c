/*
 * lb_rr: smooth weighted round robin (nginx's algorithm).
 *
 * Each pick adds every eligible server's weight to its current weight, takes
 * the server with the highest current weight and subtracts the total from
 * it. Over any window of sum(weights) picks each server is chosen exactly
 * weight times, and picks are spread out (5,1,1 gives a a b a c a a, not
 * a a a a a b c). O(servers) per pick, which is fine for pools of tens.
 */
#include "upstream/lb.h"

static int rr_pick(struct upstream_rt *u, const struct lb_request *req);

/* Each worker starts at a random point of the cycle, so the first requests
 * of a multi-worker process do not all go to the first server. */
static int rr_init(struct upstream_rt *u)
{
	uint64_t total = 0;
	struct lb_request any = { .exclude = -1 };

	for (size_t i = 0; i < u->num_servers; i++) {
		u->servers[i].current_weight = 0;
		u->servers[i].usable = true;
		total += u->servers[i].config->weight;
	}
	uint64_t skip = total && u->rand ? rand_next(u->rand) % total : 0;
	for (uint64_t i = 0; i < skip; i++)
		rr_pick(u, &any);
	return 0;
}

static int rr_pick(struct upstream_rt *u, const struct lb_request *req)
{
	int64_t total = 0;
	int best = -1;

	for (size_t i = 0; i < u->num_servers; i++) {
		struct server_rt *s = &u->servers[i];
		if (!s->usable)
			continue;
		s->current_weight += s->weight;
		total += s->weight;
		if (best < 0 || s->current_weight > u->servers[best].current_weight)
			best = (int)i;
	}
	if (best >= 0)
		u->servers[best].current_weight -= total;
	return best;
}

const struct lb_ops lb_round_robin = {
	.name = "round_robin",
	.init = rr_init,
	.pick = rr_pick,
};
