#include "upstream/upstream.h"

#include <errno.h>
#include <stdlib.h>

#include "core/bug.h"
#include "upstream/lb.h"

int upstream_rt_init(struct upstream_rt *u, const struct upstream_config *cfg,
		     struct rand_state *rand)
{
	u->config = cfg;
	u->rand = rand;
	u->num_servers = cfg->num_servers;
	u->lb = lb_find(cfg->balance);
	if (!u->lb)
		u->lb = &lb_round_robin;
	u->servers = calloc(cfg->num_servers ? cfg->num_servers : 1, sizeof(*u->servers));
	if (!u->servers)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->num_servers; i++) {
		u->servers[i].config = &cfg->servers[i];
		u->servers[i].upstream = cfg;
		list_init(&u->servers[i].idle);
	}
	return u->lb->init(u);
}

void upstream_rt_deinit(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++)
		BUG_ON(u->servers[i].num_idle != 0);
	free(u->servers);
	u->servers = NULL;
}

struct server_rt *upstream_pick(struct upstream_rt *u, const struct lb_request *req)
{
	int i = u->lb->pick(u, req);
	return i < 0 ? NULL : &u->servers[i];
}

struct pooled_conn *upstream_pool_take(struct server_rt *s)
{
	if (list_empty(&s->idle))
		return NULL;
	struct pooled_conn *pc = list_entry(s->idle.next, struct pooled_conn, node);
	list_unlink(&pc->node);
	s->num_idle--;
	return pc;
}

bool upstream_pool_put(struct server_rt *s, struct pooled_conn *pc, uint32_t keepalive)
{
	if (s->num_idle >= keepalive)
		return false;
	pc->server = s;
	list_push_front(&s->idle, &pc->node);
	s->num_idle++;
	return true;
}

void upstream_pool_remove(struct server_rt *s, struct pooled_conn *pc)
{
	if (!list_linked(&pc->node))
		return;
	list_unlink(&pc->node);
	s->num_idle--;
}
