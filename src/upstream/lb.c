#include "upstream/lb.h"

#include <stddef.h>

static const struct lb_ops *const lb_registry[] = {
	[LB_ROUND_ROBIN] = &lb_round_robin,
	[LB_LEAST_CONN] = &lb_least_conn,
	[LB_P2C] = &lb_p2c,
	[LB_RANDOM] = &lb_random,
	[LB_IP_HASH] = &lb_ip_hash,
	[LB_HASH] = &lb_hash,
	[LB_EWMA] = &lb_ewma,
};

const struct lb_ops *lb_find(enum lb_algorithm algorithm)
{
	if ((size_t)algorithm >= sizeof(lb_registry) / sizeof(lb_registry[0]))
		return NULL;
	return lb_registry[algorithm];
}

int lb_weighted_random(struct upstream_rt *u, int skip)
{
	uint64_t total = 0;

	for (size_t i = 0; i < u->num_servers; i++)
		if (u->servers[i].usable && (int)i != skip)
			total += u->servers[i].weight;
	if (total == 0)
		return -1;
	uint64_t r = u->rand ? rand_next(u->rand) % total : 0;
	for (size_t i = 0; i < u->num_servers; i++) {
		const struct server_rt *s = &u->servers[i];
		if (!s->usable || (int)i == skip)
			continue;
		if (r < s->weight)
			return (int)i;
		r -= s->weight;
	}
	return -1; /* not reached: r < total */
}

int lb_draw_two(struct upstream_rt *u, int *a, int *b)
{
	*a = lb_weighted_random(u, -1);
	if (*a < 0)
		return 0;
	*b = lb_weighted_random(u, *a);
	return *b < 0 ? 1 : 2;
}

int lb_load_cmp(const struct server_rt *a, const struct server_rt *b)
{
	uint64_t la = (uint64_t)a->active * b->weight;
	uint64_t lb = (uint64_t)b->active * a->weight;

	return la < lb ? -1 : la > lb;
}
