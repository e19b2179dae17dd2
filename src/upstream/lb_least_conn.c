/*
 * lb_least_conn: weighted least outstanding requests.
 *
 * The server with the smallest active / weight (requests this worker has in
 * flight there, per unit of weight) wins. Servers tied at that load share
 * the requests by smooth weighted round robin (nginx's least_conn does the
 * same), so an idle pool or strictly sequential traffic still follows the
 * weights instead of piling onto the first server. O(servers) per pick.
 *
 * The counts are per worker: with several workers each balances its own
 * share; a global count would need atomics on every request for little
 * gain (PRODUCT.md §3 allows per-worker balancer counters).
 */
#include "upstream/lb.h"

static int lc_init(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++) {
		u->servers[i].current_weight = 0;
		u->servers[i].usable = true;
	}
	return 0;
}

static int lc_pick(struct upstream_rt *u, const struct lb_request *req)
{
	int least = -1, best = -1;
	int64_t total = 0;

	for (size_t i = 0; i < u->num_servers; i++) {
		if (!u->servers[i].usable)
			continue;
		if (least < 0 || lb_load_cmp(&u->servers[i], &u->servers[least]) < 0)
			least = (int)i;
	}
	if (least < 0)
		return -1;
	for (size_t i = 0; i < u->num_servers; i++) {
		struct server_rt *s = &u->servers[i];
		if (!s->usable || lb_load_cmp(s, &u->servers[least]) != 0)
			continue;
		s->current_weight += s->weight;
		total += s->weight;
		if (best < 0 || s->current_weight > u->servers[best].current_weight)
			best = (int)i;
	}
	u->servers[best].current_weight -= total;
	return best;
}

const struct lb_ops lb_least_conn = {
	.name = "least_conn",
	.init = lc_init,
	.pick = lc_pick,
};
