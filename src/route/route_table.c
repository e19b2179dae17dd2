#include "route/route_table.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { RT_PREFIX = 0, RT_EXACT = 1 };

/* One exact host, or one wildcard suffix (".example.com"), and its bucket. */
struct rt_host {
	const char *name; /* borrowed from the route; NULL = empty slot */
	size_t len;
	uint64_t hash;
	uint32_t bucket;
};

/* One (bucket, kind, path) key and its rules, in file order. */
struct rt_key {
	const char *path; /* borrowed; NULL = empty slot */
	size_t len;
	uint64_t hash;
	uint32_t bucket;
	uint32_t kind;
	uint32_t first;   /* into chain */
	uint32_t count;
};

struct rt_bucket {
	uint32_t *prefix_lens;  /* owned; distinct lengths of its prefixes, ascending */
	size_t num_prefix_lens;
	uint32_t *regex_rules;  /* owned; path_regex rules, ascending */
	size_t num_regex_rules;
	bool has_exact;
};

struct route_table {
	const struct route_config *routes; /* borrowed */
	size_t num_routes;
	struct rt_bucket *buckets;         /* owned; 0 is the host-less bucket */
	size_t num_buckets;
	struct rt_host *hosts, *wilds;     /* owned open-addressing tables */
	size_t host_mask, wild_mask;
	struct rt_key *keys;               /* owned open-addressing table */
	size_t key_mask;
	uint32_t *chain;                   /* owned; rule indices grouped by key */
	uint32_t *rule_bucket;             /* owned; bucket of each rule (build only) */
};

#define FNV_BASIS 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static uint64_t fnv_add(uint64_t h, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * FNV_PRIME;
	return h;
}

static uint64_t host_hash(const char *p, size_t len)
{
	uint64_t h = FNV_BASIS;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)slice_ascii_lower(p[i])) * FNV_PRIME;
	return h;
}

/* The final key hash: the path's FNV state mixed with bucket and kind. */
static uint64_t key_hash(uint64_t fnv, uint32_t bucket, uint32_t kind)
{
	uint64_t h = fnv ^ (((uint64_t)bucket << 1 | kind) * 0x9E3779B97F4A7C15ULL);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t table_size(size_t n)
{
	size_t size = 8;
	while (size < 2 * n)
		size <<= 1;
	return size;
}

static const struct rt_host *host_find(const struct rt_host *tab, size_t mask, const char *name,
				       size_t len, uint64_t hash)
{
	for (size_t i = hash & mask;; i = (i + 1) & mask) {
		if (!tab[i].name)
			return NULL;
		if (tab[i].hash == hash && tab[i].len == len &&
		    slice_ieq(slice_make(tab[i].name, len), slice_make(name, len)))
			return &tab[i];
	}
}

/* The bucket of host name[0..len) in tab, added (as bucket *next) if new. */
static uint32_t host_bucket(struct rt_host *tab, size_t mask, const char *name, size_t len,
			    size_t *next)
{
	uint64_t hash = host_hash(name, len);
	const struct rt_host *found = host_find(tab, mask, name, len, hash);
	if (found)
		return found->bucket;
	size_t i = hash & mask;
	while (tab[i].name)
		i = (i + 1) & mask;
	tab[i] = (struct rt_host){ .name = name, .len = len, .hash = hash, .bucket = (uint32_t)*next };
	return (uint32_t)(*next)++;
}

static const struct rt_key *key_find(const struct route_table *t, uint64_t hash, uint32_t bucket,
				     uint32_t kind, const char *path, size_t len)
{
	for (size_t i = hash & t->key_mask;; i = (i + 1) & t->key_mask) {
		const struct rt_key *k = &t->keys[i];
		if (!k->path)
			return NULL;
		if (k->hash == hash && k->len == len && k->bucket == bucket && k->kind == kind &&
		    memcmp(k->path, path, len) == 0)
			return k;
	}
}

static bool rule_path(const struct route_config *r, uint32_t *kind, const char **path)
{
	if (r->path_re || r->path_regex)
		return false;
	*kind = r->path_exact ? RT_EXACT : RT_PREFIX;
	*path = r->path_exact ? r->path_exact : r->path_prefix ? r->path_prefix : "";
	return true;
}

/* Counts rules per key (first pass) or appends them to the chain (second). */
static void add_keys(struct route_table *t, bool fill)
{
	for (size_t r = 0; r < t->num_routes; r++) {
		uint32_t kind, b = t->rule_bucket[r];
		const char *path;
		if (!rule_path(&t->routes[r], &kind, &path))
			continue;
		size_t len = strlen(path);
		uint64_t hash = key_hash(fnv_add(FNV_BASIS, path, len), b, kind);
		struct rt_key *k = (struct rt_key *)key_find(t, hash, b, kind, path, len);
		if (!k) {
			size_t i = hash & t->key_mask;
			while (t->keys[i].path)
				i = (i + 1) & t->key_mask;
			k = &t->keys[i];
			*k = (struct rt_key){ .path = path, .len = len, .hash = hash, .bucket = b, .kind = kind };
		}
		if (fill)
			t->chain[k->first + k->count] = (uint32_t)r;
		k->count++;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Fills each bucket's prefix lengths, regex list and has_exact. */
static int build_buckets(struct route_table *t)
{
	uint64_t *pairs = malloc((t->num_routes + 1) * sizeof(*pairs));
	size_t n = 0;
	if (!pairs)
		return -1;
	for (size_t r = 0; r < t->num_routes; r++) {
		struct rt_bucket *b = &t->buckets[t->rule_bucket[r]];
		uint32_t kind;
		const char *path;
		if (!rule_path(&t->routes[r], &kind, &path))
			b->num_regex_rules++;
		else if (kind == RT_EXACT)
			b->has_exact = true;
		else
			pairs[n++] = (uint64_t)t->rule_bucket[r] << 32 | (uint32_t)strlen(path);
	}
	qsort(pairs, n, sizeof(*pairs), cmp_u64);
	for (size_t i = 0, j; i < n; i = j) {
		struct rt_bucket *b = &t->buckets[pairs[i] >> 32];
		for (j = i; j < n && pairs[j] >> 32 == pairs[i] >> 32; j++)
			;
		b->prefix_lens = malloc((j - i) * sizeof(uint32_t));
		if (!b->prefix_lens)
			goto fail;
		for (size_t k = i; k < j; k++)
			if (k == i || pairs[k] != pairs[k - 1])
				b->prefix_lens[b->num_prefix_lens++] = (uint32_t)pairs[k];
	}
	for (size_t i = 0; i < t->num_buckets; i++) {
		struct rt_bucket *b = &t->buckets[i];
		if (b->num_regex_rules && !(b->regex_rules = malloc(b->num_regex_rules * sizeof(uint32_t))))
			goto fail;
		b->num_regex_rules = 0;
	}
	for (size_t r = 0; r < t->num_routes; r++) {
		struct rt_bucket *b = &t->buckets[t->rule_bucket[r]];
		uint32_t kind;
		const char *path;
		if (!rule_path(&t->routes[r], &kind, &path))
			b->regex_rules[b->num_regex_rules++] = (uint32_t)r;
	}
	free(pairs);
	return 0;
fail:
	free(pairs);
	return -1;
}

/* Assigns each rule its bucket: 0 host-less, then exact hosts and suffixes. */
static int assign_buckets(struct route_table *t)
{
	size_t next = 1, size = table_size(t->num_routes);

	t->hosts = calloc(size, sizeof(*t->hosts));
	t->wilds = calloc(size, sizeof(*t->wilds));
	t->rule_bucket = calloc(t->num_routes + 1, sizeof(uint32_t));
	if (!t->hosts || !t->wilds || !t->rule_bucket)
		return -1;
	t->host_mask = t->wild_mask = size - 1;
	for (size_t r = 0; r < t->num_routes; r++) {
		const char *host = t->routes[r].host;
		if (!host)
			t->rule_bucket[r] = 0;
		else if (host[0] == '*' && host[1] == '.')
			t->rule_bucket[r] = host_bucket(t->wilds, t->wild_mask, host + 1, strlen(host + 1), &next);
		else
			t->rule_bucket[r] = host_bucket(t->hosts, t->host_mask, host, strlen(host), &next);
	}
	t->num_buckets = next;
	t->buckets = calloc(next, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

/* Gives each key its slice of the chain once the first pass has counted. */
static int place_chains(struct route_table *t)
{
	uint32_t at = 0;

	t->chain = malloc((t->num_routes + 1) * sizeof(uint32_t));
	if (!t->chain)
		return -1;
	for (size_t i = 0; i <= t->key_mask; i++) {
		t->keys[i].first = at;
		at += t->keys[i].count;
		t->keys[i].count = 0;
	}
	return 0;
}

struct route_table *route_table_new(const struct route_config *routes, size_t n)
{
	struct route_table *t = calloc(1, sizeof(*t));

	if (!t || n > UINT32_MAX / 2)
		goto fail;
	t->routes = routes;
	t->num_routes = n;
	if (assign_buckets(t) < 0)
		goto fail;
	size_t size = table_size(n);
	t->keys = calloc(size, sizeof(*t->keys));
	if (!t->keys)
		goto fail;
	t->key_mask = size - 1;
	add_keys(t, false);
	if (place_chains(t) < 0)
		goto fail;
	add_keys(t, true);
	if (build_buckets(t) < 0)
		goto fail;
	free(t->rule_bucket);
	t->rule_bucket = NULL;
	return t;
fail:
	route_table_free(t);
	return NULL;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->num_buckets && t->buckets; i++) {
		free(t->buckets[i].prefix_lens);
		free(t->buckets[i].regex_rules);
	}
	free(t->buckets);
	free(t->hosts);
	free(t->wilds);
	free(t->keys);
	free(t->chain);
	free(t->rule_bucket);
	free(t);
}

/* Lowers *best to the first rule of key k that matches, if one is below it. */
static void try_key(const struct route_table *t, const struct rt_key *k,
		    const struct route_request *req, struct slice host, size_t *best)
{
	for (uint32_t i = 0; i < k->count; i++) {
		uint32_t r = t->chain[k->first + i];
		if (r >= *best)
			return;
		if (router_route_matches(&t->routes[r], req, host)) {
			*best = r;
			return;
		}
	}
}

static void try_bucket(const struct route_table *t, uint32_t bucket,
		       const struct route_request *req, struct slice host, size_t *best)
{
	const struct rt_bucket *b = &t->buckets[bucket];
	struct slice path = req->path;
	const struct rt_key *k;

	if (b->has_exact) {
		uint64_t hash = key_hash(fnv_add(FNV_BASIS, path.ptr, path.len), bucket, RT_EXACT);
		if ((k = key_find(t, hash, bucket, RT_EXACT, path.ptr, path.len)))
			try_key(t, k, req, host, best);
	}
	uint64_t fnv = FNV_BASIS;
	size_t hashed = 0;
	for (size_t i = 0; i < b->num_prefix_lens && b->prefix_lens[i] <= path.len; i++) {
		size_t len = b->prefix_lens[i];
		fnv = fnv_add(fnv, path.ptr + hashed, len - hashed);
		hashed = len;
		if ((k = key_find(t, key_hash(fnv, bucket, RT_PREFIX), bucket, RT_PREFIX, path.ptr, len)))
			try_key(t, k, req, host, best);
	}
	for (size_t i = 0; i < b->num_regex_rules && b->regex_rules[i] < *best; i++) {
		if (router_route_matches(&t->routes[b->regex_rules[i]], req, host)) {
			*best = b->regex_rules[i];
			return;
		}
	}
}

int route_table_match(const struct route_table *t, const struct route_request *req)
{
	if (!t)
		return -1;
	struct slice host = router_host_without_port(req->host);
	size_t best = t->num_routes;
	const struct rt_host *h;

	try_bucket(t, 0, req, host, &best);
	if (host.len) {
		h = host_find(t->hosts, t->host_mask, host.ptr, host.len, host_hash(host.ptr, host.len));
		if (h)
			try_bucket(t, h->bucket, req, host, &best);
	}
	/* "*.example.com" matches when ".example.com" ends the host after at least one byte */
	for (size_t i = 1; i < host.len; i++) {
		if (host.ptr[i] != '.')
			continue;
		size_t len = host.len - i;
		h = host_find(t->wilds, t->wild_mask, host.ptr + i, len, host_hash(host.ptr + i, len));
		if (h)
			try_bucket(t, h->bucket, req, host, &best);
	}
	return best < t->num_routes ? (int)best : -1;
}
