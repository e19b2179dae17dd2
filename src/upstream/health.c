#include "upstream/health.h"

#include <stdlib.h>
#include <string.h>

#include "log/log.h"

struct health_table *health_table_new(const struct upstream_config *ups, size_t n)
{
	struct health_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	/* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
	t->upstreams = calloc(n ? n : 1, sizeof(*t->upstreams));
	if (!t->upstreams) {
		free(t);
		return NULL;
	}
	t->num_upstreams = n;
	for (size_t u = 0; u < n; u++) {
		t->upstreams[u] = calloc(ups[u].num_servers ? ups[u].num_servers : 1,
					 sizeof(**t->upstreams));
		if (!t->upstreams[u]) {
			health_table_free(t);
			return NULL;
		}
	}
	return t;
}

void health_table_free(struct health_table *t)
{
	if (!t)
		return;
	for (size_t u = 0; u < t->num_upstreams; u++)
		free(t->upstreams[u]);
	free(t->upstreams);
	free(t);
}

static void copy_state(struct server_health *to, struct server_health *from)
{
	atomic_store(&to->down, atomic_load(&from->down));
	atomic_store(&to->ejected_until, atomic_load(&from->ejected_until));
	atomic_store(&to->fails, atomic_load(&from->fails));
	atomic_store(&to->recovered_at, atomic_load(&from->recovered_at));
}

void health_table_inherit(struct health_table *t, const struct upstream_config *ups, size_t n,
			  const struct health_table *old, const struct upstream_config *old_ups,
			  size_t old_n)
{
	for (size_t u = 0; u < n; u++)
		for (size_t o = 0; o < old_n; o++) {
			if (strcmp(ups[u].name, old_ups[o].name) != 0)
				continue;
			for (size_t s = 0; s < ups[u].num_servers; s++)
				for (size_t os = 0; os < old_ups[o].num_servers; os++)
					if (strcmp(ups[u].servers[s].address,
						   old_ups[o].servers[os].address) == 0)
						copy_state(&t->upstreams[u][s], &old->upstreams[o][os]);
		}
}

bool health_candidate(struct server_health *h, uint64_t now_ms)
{
	if (atomic_load_explicit(&h->down, memory_order_relaxed))
		return false;
	uint_fast64_t until = atomic_load_explicit(&h->ejected_until, memory_order_relaxed);
	return until == 0 || now_ms >= until;
}

bool health_usable(struct server_health *h, uint64_t now_ms, uint64_t fail_timeout_ms)
{
	if (!health_candidate(h, now_ms))
		return false;
	uint_fast64_t until = atomic_load_explicit(&h->ejected_until, memory_order_relaxed);
	if (until == 0)
		return true;
	return atomic_compare_exchange_strong(&h->ejected_until, &until, now_ms + fail_timeout_ms);
}

void health_note_success(struct server_health *h, uint64_t now_ms)
{
	if (atomic_load_explicit(&h->fails, memory_order_relaxed))
		atomic_store(&h->fails, 0);
	uint_fast64_t until = atomic_load_explicit(&h->ejected_until, memory_order_relaxed);
	if (until && atomic_compare_exchange_strong(&h->ejected_until, &until, 0))
		atomic_store(&h->recovered_at, now_ms);
}

void health_set_down(struct server_health *h, bool down, uint64_t now_ms)
{
	atomic_store(&h->down, down);
	if (!down)
		atomic_store(&h->recovered_at, now_ms);
}

void health_note_failure(struct server_health *h, const struct passive_config *p,
			 uint64_t now_ms, const char *upstream, const char *server)
{
	if (p->max_fails == 0)
		return;
	unsigned fails = atomic_fetch_add(&h->fails, 1) + 1;
	if (fails < p->max_fails)
		return;
	/* Already ejected (or a failed trial inside its window): stays so. */
	uint_fast64_t until = 0;
	if (atomic_compare_exchange_strong(&h->ejected_until, &until, now_ms + p->fail_timeout_ms))
		log_warn("upstream \"%s\" server %s ejected for %llu ms after %u failures", upstream,
			 server, (unsigned long long)p->fail_timeout_ms, fails);
}

const char *health_state_name(struct server_health *h, uint64_t now_ms)
{
	if (atomic_load(&h->down))
		return "down";
	uint64_t until = atomic_load(&h->ejected_until);
	return until && now_ms < until ? "ejected" : "up";
}
