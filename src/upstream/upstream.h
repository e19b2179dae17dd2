/*
 * upstream: one worker's runtime view of an upstream — its servers, their
 * idle keep-alive connections and the balancer's state.
 *
 * Built per worker from an immutable upstream_config, so nothing here is
 * shared between threads and the request path takes no lock. Pooled
 * connections are intrusive (struct pooled_conn embedded in the owner's
 * connection object); this module only keeps the lists.
 */
#ifndef PORTICO_UPSTREAM_UPSTREAM_H
#define PORTICO_UPSTREAM_UPSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "core/rand.h"
#include "upstream/health.h"
#include "upstream/upstream_config.h"

struct ssl_session_st;

struct server_rt {
	const struct server_config *config; /* borrowed from the snapshot */
	const struct upstream_config *upstream; /* borrowed: the server's upstream */
	struct list idle;      /* struct pooled_conn, most recent first */
	uint32_t num_idle;
	uint32_t active;       /* requests in flight from this worker */
	int64_t current_weight; /* smooth weighted round robin */
	uint64_t requests;
	uint64_t errors;
	struct server_health *health; /* shared by the workers; NULL = always healthy */
	bool usable;           /* set by upstream_pick before the balancer runs */
	uint32_t weight;       /* effective weight for this pick: the configured one
				* times UPSTREAM_WEIGHT_SCALE, ramped up during slow start */
	double ewma_us;        /* lb_ewma: peak-EWMA latency estimate */
	uint64_t ewma_stamp_us; /* lb_ewma: when last observed, 0 = never */
	struct ssl_session_st *tls_session; /* owned: TLS session to resume, or NULL */
};

/* Effective weights are configured weights times this, so that slow start
 * can give even a weight-1 server a fraction of its share. */
#define UPSTREAM_WEIGHT_SCALE 100u

struct pooled_conn {
	struct list node;      /* in server_rt.idle while idle */
	struct server_rt *server;
};

struct lb_ops;

struct upstream_rt {
	const struct upstream_config *config; /* borrowed from the snapshot */
	bool pick_was_full;     /* the last pick found servers only at max_connections */
	uint32_t queued;        /* this worker's requests waiting for a free slot */
	/* retry budget: this worker's current one-second window */
	uint64_t budget_window_ms;
	uint32_t budget_requests;
	uint32_t budget_retries;
	const struct lb_ops *lb;
	struct server_rt *servers; /* owned, config->num_servers entries */
	size_t num_servers;
	struct rand_state *rand;   /* borrowed: the worker's generator */
	uint32_t *lb_table;        /* owned by the balancer (lb_hash: Maglev table) */
	size_t lb_table_size;
};

/* What a balancer may look at to choose. */
struct lb_request {
	int exclude;           /* server index not to pick (a retry), or -1 */
	uint64_t now_ms;       /* monotonic, for health decisions */
	const struct server_rt *prefer; /* taken if usable (sticky session); may be NULL */
	uint64_t hash;         /* ip_hash / hash: the request's key (proxy/lb_key.c) */
	bool has_hash;         /* false: no key, the hash balancers pick at random */
};

int upstream_rt_init(struct upstream_rt *u, const struct upstream_config *cfg,
		     struct rand_state *rand);
/* Connects each server to its shared health state (health[i] for server i). */
void upstream_rt_attach_health(struct upstream_rt *u, struct server_health *health);

/* Closes nothing: the owner must have emptied the idle lists first. */
void upstream_rt_deinit(struct upstream_rt *u);

/*
 * Chooses a server for a request and takes a slot on it (counted in
 * `active` and, process-wide, against max_connections): the caller gives it
 * back with upstream_leave. NULL when none can take it; then
 * u->pick_was_full says whether servers were only at their max_connections
 * (the request may wait) rather than down. Only servers that are healthy
 * (not down, not ejected), not excluded and not full are offered to the
 * balancer; backup servers only when no primary is. Balancers skip servers
 * whose `usable` is false.
 */
struct server_rt *upstream_pick(struct upstream_rt *u, const struct lb_request *req);

/* Feedback for the balancer on a request sent to s (lb_ops.observe): ok when
 * its response head arrived, latency_us since the pick; not ok when the
 * attempt failed before a usable head. A no-op for most algorithms. */
void upstream_observe(struct upstream_rt *u, const struct server_rt *s, uint64_t latency_us,
		      bool ok);

/* Gives back the slot upstream_pick took. */
void upstream_leave(struct server_rt *s);

/* Counts a request (its first attempt) toward the retry budget. */
void upstream_note_request(struct upstream_rt *u, uint64_t now_ms);

/* Whether the retry budget allows one more retry now; counts it if so.
 * The budget is kept per worker, so min_per_second applies per worker. */
bool upstream_retry_allowed(struct upstream_rt *u, uint64_t now_ms);

/* Takes the most recently idled connection of a server, or NULL. */
struct pooled_conn *upstream_pool_take(struct server_rt *s);

/* Offers an idle connection to the pool: false when the pool is full
 * (keepalive reached) and the caller must close it instead. */
bool upstream_pool_put(struct server_rt *s, struct pooled_conn *pc, uint32_t keepalive);

/* Removes a pooled connection that died while idle. */
void upstream_pool_remove(struct server_rt *s, struct pooled_conn *pc);

#endif
