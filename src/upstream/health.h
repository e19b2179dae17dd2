/*
 * health: what the process knows about each server's health, shared by
 * every worker (PRODUCT.md §3: health state is per process).
 *
 * Two sources: active checks (health_check.c, one thread per process) set
 * `down`; passive checks (every worker, from live traffic) eject a server
 * after max_fails consecutive failures for fail_timeout, then let a single
 * trial request through before trusting it again. Everything is atomics:
 * a worker reads a few words per pick and writes only on failures and
 * state changes, never takes a lock.
 */
#ifndef PORTICO_UPSTREAM_HEALTH_H
#define PORTICO_UPSTREAM_HEALTH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "upstream/upstream_config.h"

struct server_health {
	atomic_bool down;                 /* active checks failed (servers start up) */
	atomic_uint_fast64_t ejected_until; /* passive: monotonic ms, 0 = not ejected */
	atomic_uint fails;                /* consecutive passive failures */
	atomic_uint_fast64_t recovered_at; /* monotonic ms it last came back, 0 = never down */
	atomic_uint active;               /* requests in flight, every worker */
};

/* One block per snapshot: every server of every upstream, in config order. */
struct health_table {
	struct server_health **upstreams; /* upstreams[u][s] */
	size_t num_upstreams;
};

struct health_table *health_table_new(const struct upstream_config *ups, size_t n);
void health_table_free(struct health_table *t);

/* Copies the state of servers with the same upstream name and address from
 * old (a reload keeps what is known about a server). */
void health_table_inherit(struct health_table *t, const struct upstream_config *ups, size_t n,
			  const struct health_table *old, const struct upstream_config *old_ups,
			  size_t old_n);

/* Whether the server may take requests now, counting an ejection that has
 * run out (its trial still to be taken). No side effect. */
bool health_candidate(struct server_health *h, uint64_t now_ms);

/* Whether a request may go to the server now. When an ejection has run out,
 * the one caller that gets true is the trial request: the server stays
 * ejected for the others for another fail_timeout_ms, until the trial
 * succeeds (health_note_success) or fails (ejected again). */
bool health_usable(struct server_health *h, uint64_t now_ms, uint64_t fail_timeout_ms);

/* Live-traffic outcome. Failures are connect errors, timeouts and 5xx. */
void health_note_success(struct server_health *h, uint64_t now_ms);
void health_note_failure(struct server_health *h, const struct passive_config *p,
			 uint64_t now_ms, const char *upstream, const char *server);

/* Active checks: the server is down (true) or up (false) now. */
void health_set_down(struct server_health *h, bool down, uint64_t now_ms);

/* The state name for logs and /status: "up", "down" or "ejected". */
const char *health_state_name(struct server_health *h, uint64_t now_ms);

#endif
