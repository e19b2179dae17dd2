/*
 * lb_ewma: peak-EWMA of response latency, as Finagle and Linkerd balance.
 *
 * Each server keeps a latency estimate, updated from lb_ops.observe when a
 * response head arrives: a sample above the estimate replaces it at once
 * (the "peak": a slowed server is noticed on its first slow answer), a
 * lower one is blended in with weight 1 - exp(-dt / 10 s), dt being the
 * time since the last sample. Between samples the estimate also decays
 * toward zero with the same time constant, so a server that was avoided
 * for being slow is tried again after a while instead of being starved
 * forever. A failed attempt counts as a sample of at least 1 s: a server
 * refusing connections in a microsecond must not look like the fastest.
 *
 * Pick: power of two random choices (weighted draws, as lb_p2c) on
 * cost = (estimate + 1 ms) x (1 + active / weight); the outstanding
 * requests (per unit of weight, as in lb_p2c) make a server that is
 * queueing look expensive before its answers come back, and the weights
 * act through the draws, so idle servers of equal latency share by weight. The second server wins only when it is more than 20%
 * cheaper, else the first (weighted random) draw stands: with the 1 ms
 * floor, this deadband keeps microsecond noise between equal servers from
 * steering traffic — without it a single 100 µs hiccup, held as a peak
 * and decaying over 10 s, starves a healthy server for half a minute.
 * A server never observed starts at a neutral estimate, the mean of the
 * observed ones (0 when none is), so it neither floods nor starves.
 *
 * State is per worker: each worker learns from its own traffic (a few
 * requests), which needs no lock, no atomic and no cross-thread traffic.
 */
#include <math.h>

#include "core/clock.h"
#include "upstream/lb.h"

#define EWMA_DECAY_US 10000000.0    /* time constant: 10 s */
#define EWMA_FAIL_PENALTY_US 1000000 /* a failure counts as at least 1 s */
#define EWMA_FLOOR_US 1000.0         /* latency resolution that matters */
#define EWMA_DEADBAND 1.2            /* the second choice must be this much cheaper */

static int ewma_init(struct upstream_rt *u)
{
	for (size_t i = 0; i < u->num_servers; i++) {
		u->servers[i].usable = true;
		u->servers[i].ewma_us = 0;
		u->servers[i].ewma_stamp_us = 0;
	}
	return 0;
}

/* The estimate decayed to now; -1 for a server never observed. */
static double ewma_estimate(const struct server_rt *s, uint64_t now_us)
{
	if (s->ewma_stamp_us == 0)
		return -1;
	double dt = now_us > s->ewma_stamp_us ? (double)(now_us - s->ewma_stamp_us) : 0;
	return s->ewma_us * exp(-dt / EWMA_DECAY_US);
}

static double ewma_neutral(const struct upstream_rt *u, uint64_t now_us)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < u->num_servers; i++) {
		double e = ewma_estimate(&u->servers[i], now_us);
		if (e >= 0) {
			sum += e;
			n++;
		}
	}
	return n ? sum / (double)n : 0;
}

static double ewma_cost(const struct upstream_rt *u, int i, uint64_t now_us)
{
	const struct server_rt *s = &u->servers[i];
	double e = ewma_estimate(s, now_us);

	if (e < 0)
		e = ewma_neutral(u, now_us);
	return (e + EWMA_FLOOR_US) * (1 + (double)s->active * UPSTREAM_WEIGHT_SCALE / (double)s->weight);
}

static int ewma_pick(struct upstream_rt *u, const struct lb_request *req)
{
	int a, b, n = lb_draw_two(u, &a, &b);
	if (n < 2)
		return n ? a : -1;
	uint64_t now = clock_monotonic_us();
	return ewma_cost(u, b, now) * EWMA_DEADBAND < ewma_cost(u, a, now) ? b : a;
}

static void ewma_observe(struct upstream_rt *u, int server, uint64_t latency_us, bool ok)
{
	struct server_rt *s = &u->servers[server];
	uint64_t now = clock_monotonic_us();
	double sample = (double)(ok || latency_us >= EWMA_FAIL_PENALTY_US ? latency_us
									 : EWMA_FAIL_PENALTY_US);
	double e = ewma_estimate(s, now);

	if (e < 0 || sample > e) {
		s->ewma_us = sample;
	} else {
		double dt = now > s->ewma_stamp_us ? (double)(now - s->ewma_stamp_us) : 0;
		/* e is already the stored estimate x exp(-dt / decay) */
		s->ewma_us = e + sample * (1 - exp(-dt / EWMA_DECAY_US));
	}
	s->ewma_stamp_us = now ? now : 1;
}

const struct lb_ops lb_ewma = {
	.name = "ewma",
	.init = ewma_init,
	.pick = ewma_pick,
	.observe = ewma_observe,
};
