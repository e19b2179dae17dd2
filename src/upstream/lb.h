/*
 * lb: the balancer interface. One algorithm per file (lb_rr.c, ...), all
 * listed in lb_registry (lb.c); no self-registration, so the list of
 * algorithms is in one place.
 */
#ifndef PORTICO_UPSTREAM_LB_H
#define PORTICO_UPSTREAM_LB_H

#include "upstream/upstream.h"

struct lb_ops {
	const char *name;      /* as written in `balance:` */
	/* Called once per worker when an upstream is set up, after servers are
	 * filled in; may set per-server fields. Returns 0 or -errno. */
	int (*init)(struct upstream_rt *u);
	/* Called per request in the worker's thread; returns the index of the
	 * chosen server or -1 when none is eligible. Must not block or allocate. */
	int (*pick)(struct upstream_rt *u, const struct lb_request *req);
};

extern const struct lb_ops lb_round_robin;

/* The algorithm for a `balance:` value, or NULL when not available. */
const struct lb_ops *lb_find(enum lb_algorithm algorithm);

#endif
