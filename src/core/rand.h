/*
 * rand: a per-thread xorshift128+ generator for request ids and balancer
 * choices. Not for secrets. Seeded from getrandom(2).
 */
#ifndef PORTICO_CORE_RAND_H
#define PORTICO_CORE_RAND_H

#include <stdint.h>

struct rand_state {
	uint64_t s[2];
};

void rand_seed(struct rand_state *r);

static inline uint64_t rand_next(struct rand_state *r)
{
	uint64_t x = r->s[0];
	uint64_t const y = r->s[1];
	r->s[0] = y;
	x ^= x << 23;
	r->s[1] = x ^ y ^ (x >> 17) ^ (y >> 26);
	return r->s[1] + y;
}

#endif
