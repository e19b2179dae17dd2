/*
 * bench/route: time per route lookup with 10, 1,000 and 10,000 host+prefix
 * routes (`make bench-route`). Each round looks up a fixed mix of requests
 * (hits spread over the table, and misses); the figure is the median round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route/route_table.h"

#define REQUESTS 4096
#define ROUNDS 15

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double bench(size_t n)
{
	struct route_config *routes = calloc(n, sizeof(*routes));
	static char hosts[REQUESTS][64], paths[REQUESTS][64];
	struct route_request reqs[REQUESTS];
	double rounds[ROUNDS];
	volatile long sink = 0;

	for (size_t i = 0; i < n; i++) {
		char *h = malloc(64), *p = malloc(64);
		snprintf(h, 64, "svc%zu.example.com", i / 4);
		snprintf(p, 64, "/api/v%zu/", i % 4);
		routes[i].host = h;
		routes[i].path_prefix = p;
	}
	struct route_table *t = route_table_new(routes, n);
	unsigned long seed = 42;
	for (size_t i = 0; i < REQUESTS; i++) {
		seed = seed * 6364136223846793005ULL + 1;
		size_t r = (seed >> 33) % (n + n / 8 + 1); /* about 1 in 9 misses */
		snprintf(hosts[i], 64, "svc%zu.example.com:8080", r / 4);
		snprintf(paths[i], 64, "/api/v%zu/users/%zu", r % 4, i);
		reqs[i] = (struct route_request){ .method = SLICE_LIT("GET"),
						  .host = slice_from_cstr(hosts[i]),
						  .path = slice_from_cstr(paths[i]) };
	}
	for (int k = 0; k < ROUNDS; k++) {
		double start = now_ns();
		for (int rep = 0; rep < 50; rep++)
			for (size_t i = 0; i < REQUESTS; i++)
				sink += route_table_match(t, &reqs[i]);
		rounds[k] = (now_ns() - start) / (50.0 * REQUESTS);
	}
	qsort(rounds, ROUNDS, sizeof(double), cmp_double);
	route_table_free(t);
	for (size_t i = 0; i < n; i++) {
		free(routes[i].host);
		free(routes[i].path_prefix);
	}
	free(routes);
	(void)sink;
	return rounds[ROUNDS / 2];
}

int main(void)
{
	static const size_t sizes[] = { 10, 1000, 10000 };
	double base = 0;

	for (size_t i = 0; i < 3; i++) {
		double ns = bench(sizes[i]);
		if (i == 0)
			base = ns;
		printf("%6zu routes: %7.1f ns per lookup (median of %d rounds, %.2fx the 10-route figure)\n",
		       sizes[i], ns, ROUNDS, ns / base);
	}
	return 0;
}
