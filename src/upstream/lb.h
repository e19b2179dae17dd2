/*
 * lb: the balancer interface. One algorithm per file (lb_rr.c,
 * lb_least_conn.c, lb_p2c.c, lb_random.c, lb_hash.c, lb_ewma.c), all listed
 * in lb_registry (lb.c); no self-registration, so the list of algorithms is
 * in one place.
 *
 * Every op runs in the worker thread that owns the upstream_rt: state lives
 * in struct server_rt / struct upstream_rt and needs no lock or atomic.
 * server_rt.active (requests in flight from this worker) is kept by the
 * exchange, not by the balancer. upstream_pick marks the servers a request
 * may go to (server_rt.usable: healthy, not excluded by a retry, backups
 * only when no primary is) before calling pick; every pick skips the others.
 */
#ifndef PORTICO_UPSTREAM_LB_H
#define PORTICO_UPSTREAM_LB_H

#include "upstream/upstream.h"

struct lb_ops {
	const char *name;      /* as written in `balance:` */
	/* Called once per worker when an upstream is set up, after servers are
	 * filled in; may set per-server fields and allocate u->lb_table.
	 * Returns 0 or -errno (deinit is still called then). */
	int (*init)(struct upstream_rt *u);
	/* Optional. Called once from upstream_rt_deinit; frees what init
	 * allocated. Must cope with a failed or partial init. */
	void (*deinit)(struct upstream_rt *u);
	/* Called per request in the worker's thread; returns the index of the
	 * chosen server or -1 when no server is usable. May be called again for
	 * the same request (upstream_pick retries when a server's trial was
	 * taken). Must not block or allocate. */
	int (*pick)(struct upstream_rt *u, const struct lb_request *req);
	/* Optional. Feedback on a request sent to server, through
	 * upstream_observe: called by the exchange when the response head
	 * arrived (ok; latency = head received - pick, whatever the status) and
	 * when the attempt failed before a usable head (not ok: connect error or
	 * timeout, reset, invalid response; latency = time spent). Runs in the
	 * worker's thread; may update that server's state only; must not block
	 * or allocate. */
	void (*observe)(struct upstream_rt *u, int server, uint64_t latency_us, bool ok);
};

extern const struct lb_ops lb_round_robin;
extern const struct lb_ops lb_least_conn;
extern const struct lb_ops lb_p2c;
extern const struct lb_ops lb_random;
extern const struct lb_ops lb_ip_hash;
extern const struct lb_ops lb_hash;
extern const struct lb_ops lb_ewma;

/* The algorithm for a `balance:` value, or NULL when not available (geo). */
const struct lb_ops *lb_find(enum lb_algorithm algorithm);

/* Helpers shared by the algorithms. */

/* A usable server other than skip (-1 = none) drawn at random with
 * probability weight / total weight of those; -1 when none is left. Uses
 * u->rand (the first such server when u->rand is NULL). */
int lb_weighted_random(struct upstream_rt *u, int skip);

/* Two different usable servers drawn by weight (power of two choices):
 * returns how many were found (0, 1 or 2) and sets *a, then *b. */
int lb_draw_two(struct upstream_rt *u, int *a, int *b);

/* Compares the load active/weight of servers a and b without division:
 * negative when a is less loaded, 0 when equal, positive when more. */
int lb_load_cmp(const struct server_rt *a, const struct server_rt *b);

#endif
