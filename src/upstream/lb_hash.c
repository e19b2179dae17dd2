/*
 * lb_hash: consistent hashing with bounded loads, for `balance: ip_hash`
 * (the key is the client IP) and `balance: hash` (the key named by
 * hash_key). The key's 64-bit hash arrives in lb_request.hash, computed by
 * the exchange while the request head is at hand (proxy/lb_key.c).
 *
 * The table is Maglev's (Eisenbud et al., NSDI 2016): a lookup table of
 * prime size M >= 100 x servers, 65537 up to 655 servers so that M stays
 * the same when servers come and go (a change of M would move every key;
 * above 655 servers M is the next prime >= 100 x servers, and a change of
 * server count reshuffles). Each server has its own permutation of the
 * slots, (offset + j * skip) mod M with offset and skip hashed from its
 * address, and servers take turns (in address order, so the order of the
 * config does not matter) claiming their next free preferred slot until the
 * table is full. A key goes to table[hash mod M]. Weights: each
 * round a server takes weight / max weight turns (credits carry over), so
 * its share of the table, hence of keys, follows its weight to within 1/M;
 * every server takes a turn in the first round so none is left out.
 * Adding or removing one of N servers moves about 1/N of the keys: the
 * other servers' permutations do not change, only the slots the newcomer
 * claims (or the leaver frees) change hands, plus a little churn.
 * Rejected: a ring with virtual nodes (O(log V) lookups and a worse balance
 * for the same memory); jump hash (no weights, and removing a server in
 * the middle remaps everything after it).
 *
 * Bounded load (Mirrokni et al., "Consistent Hashing with Bounded Loads"):
 * a server may take the request only while its in-flight count is under
 * ceil(1.25 x (in flight + 1) x weight / total weight), i.e. no server ends
 * above 1.25 x its share of the average. When the table's choice is full,
 * the walk goes on to the next slots of the table (a pseudo-random order of
 * the servers that is the same for every key landing there) until one has
 * room. Such a server always exists. Unusable servers (down, excluded by
 * a retry) are skipped the same way, so a key only moves while its server
 * is away. A request without a key goes to a weighted random server.
 *
 * The table is built once per worker per configuration (O(M log M)) and is
 * 4 bytes a slot: 256 KiB per hashing upstream per worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "upstream/lb.h"

#define LB_HASH_SLOTS_PER_SERVER 100
#define LB_HASH_TABLE_SIZE 65537 /* prime; for up to 655 servers */
#define LB_HASH_EMPTY UINT32_MAX
#define LB_HASH_SEED_OFFSET 0x6d61676c65762d6fULL /* "maglev-o" */
#define LB_HASH_SEED_SKIP 0x6d61676c65762d73ULL   /* "maglev-s" */

struct maglev_perm {
	const char *name;  /* the server's address */
	size_t server;     /* its index in u->servers */
	uint64_t offset;
	uint64_t skip;
	uint64_t next;   /* index of the next preference to try */
	uint64_t credit; /* turns earned, in units of the largest weight */
};

static bool is_prime(size_t n)
{
	if (n < 2)
		return false;
	for (size_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

static int perm_cmp(const void *a, const void *b)
{
	const struct maglev_perm *pa = a, *pb = b;
	int c = strcmp(pa->name, pb->name);

	return c ? c : (pa->server > pb->server) - (pa->server < pb->server);
}

/* p[] sorted by address. Servers with the same address get different
 * permutations through a per-duplicate seed, so they still split the keys. */
static void perms_init(struct upstream_rt *u, size_t m, struct maglev_perm *p)
{
	size_t n = u->num_servers;

	for (size_t i = 0; i < n; i++) {
		p[i].name = u->servers[i].config->address ? u->servers[i].config->address : "";
		p[i].server = i;
	}
	qsort(p, n, sizeof(*p), perm_cmp);
	for (size_t i = 0, dup = 0; i < n; i++) {
		dup = i > 0 && strcmp(p[i].name, p[i - 1].name) == 0 ? dup + 1 : 0;
		size_t len = strlen(p[i].name);
		p[i].offset = hash_bytes(p[i].name, len, LB_HASH_SEED_OFFSET + dup) % m;
		p[i].skip = hash_bytes(p[i].name, len, LB_HASH_SEED_SKIP + dup) % (m - 1) + 1;
		p[i].next = 0;
	}
}

static void maglev_fill(struct upstream_rt *u, struct maglev_perm *p, uint32_t *table, size_t m)
{
	uint64_t wmax = 0;
	size_t filled = 0;

	for (size_t i = 0; i < u->num_servers; i++)
		if (u->servers[i].config->weight > wmax)
			wmax = u->servers[i].config->weight;
	for (size_t i = 0; i < u->num_servers; i++)
		p[i].credit = wmax - u->servers[p[i].server].config->weight; /* a turn each in round 1 */
	for (size_t c = 0; c < m; c++)
		table[c] = LB_HASH_EMPTY;
	while (filled < m) {
		for (size_t i = 0; i < u->num_servers && filled < m; i++) {
			p[i].credit += u->servers[p[i].server].config->weight;
			for (; p[i].credit >= wmax && filled < m; p[i].credit -= wmax) {
				uint64_t c;
				do {
					c = (p[i].offset + p[i].next * p[i].skip) % m;
					p[i].next++;
				} while (table[c] != LB_HASH_EMPTY);
				table[c] = (uint32_t)p[i].server;
				filled++;
			}
		}
	}
}

static int hash_init(struct upstream_rt *u)
{
	size_t n = u->num_servers;
	size_t m = n * LB_HASH_SLOTS_PER_SERVER;

	u->lb_table = NULL;
	u->lb_table_size = 0;
	for (size_t i = 0; i < n; i++)
		u->servers[i].usable = true;
	if (n == 0)
		return 0;
	if (m <= LB_HASH_TABLE_SIZE)
		m = LB_HASH_TABLE_SIZE;
	while (!is_prime(m))
		m++;
	struct maglev_perm *p = calloc(n, sizeof(*p));
	u->lb_table = malloc(m * sizeof(*u->lb_table));
	if (!p || !u->lb_table) {
		free(p);
		return -ENOMEM;
	}
	perms_init(u, m, p);
	maglev_fill(u, p, u->lb_table, m);
	u->lb_table_size = m;
	free(p);
	return 0;
}

static void hash_deinit(struct upstream_rt *u)
{
	free(u->lb_table);
	u->lb_table = NULL;
	u->lb_table_size = 0;
}

/* Under the bounded-load cap: load < 1.25 x (in flight + 1) x w / W, which
 * for an integer count is the same as load < the ceiling. Counted per worker
 * (PRODUCT.md §3 lets balancers use per-worker counts): a process-wide count
 * would move keys whenever a request finishing on another worker is still
 * counted, which a handful of requests in flight turns into churn. */
static bool under_cap(const struct server_rt *s, uint64_t in_flight, uint64_t total_weight)
{
	return 4 * total_weight * s->active < 5 * (in_flight + 1) * s->config->weight;
}

static int hash_pick(struct upstream_rt *u, const struct lb_request *req)
{
	uint64_t in_flight = 0, total_weight = 0;
	size_t m = u->lb_table_size;

	if (!req->has_hash || m == 0)
		return lb_weighted_random(u, -1);
	for (size_t i = 0; i < u->num_servers; i++) {
		if (!u->servers[i].usable)
			continue;
		in_flight += u->servers[i].active;
		total_weight += u->servers[i].config->weight;
	}
	if (total_weight == 0)
		return -1;
	size_t slot = (size_t)(req->hash % m);
	for (size_t k = 0; k < m; k++, slot = slot + 1 == m ? 0 : slot + 1) {
		const struct server_rt *s = &u->servers[u->lb_table[slot]];
		if (s->usable && under_cap(s, in_flight, total_weight))
			return (int)u->lb_table[slot];
	}
	return lb_weighted_random(u, -1); /* not reached: some server has room */
}

const struct lb_ops lb_ip_hash = {
	.name = "ip_hash",
	.init = hash_init,
	.deinit = hash_deinit,
	.pick = hash_pick,
};

const struct lb_ops lb_hash = {
	.name = "hash",
	.init = hash_init,
	.deinit = hash_deinit,
	.pick = hash_pick,
};
