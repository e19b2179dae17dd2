#include "core/rand.h"

#include <sys/random.h>
#include <time.h>

void rand_seed(struct rand_state *r)
{
	if (getrandom(r->s, sizeof(r->s), 0) != (ssize_t)sizeof(r->s)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		r->s[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15u;
		r->s[1] = (uint64_t)ts.tv_sec ^ 0xD1B54A32D192ED03u;
	}
	if (!r->s[0] && !r->s[1])
		r->s[0] = 1;
}
