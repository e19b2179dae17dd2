/*
 * proxy: one worker's proxy state and its entry points for app/.
 *
 * A worker owns a loop, its listening sockets, its client connections
 * (downstreams), its upstream pools and its buffer pool; nothing here is
 * shared with other workers except the read-only configuration snapshot,
 * the access log rings (single producer each) and connection counters
 * (atomics, touched once per connection).
 */
#ifndef PORTICO_PROXY_PROXY_H
#define PORTICO_PROXY_PROXY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/rand.h"
#include "http/h1_parser.h"
#include "log/access_log.h"
#include "net/loop.h"
#include "net/timer.h"
#include "proxy/proxy_config.h"
#include "upstream/upstream.h"

struct proxy_worker;

/* One listening socket of one worker. */
struct proxy_listener {
	struct loop_io io;
	struct proxy_worker *worker;
	const struct listener_config *config; /* borrowed from the snapshot */
	atomic_ulong *connections;            /* shared by every worker's socket of this listener */
	bool paused;                          /* accepting paused (out of descriptors) */
};

struct proxy_worker {
	unsigned id;
	struct loop loop;
	struct buf_pool bufs;
	struct rand_state rand;
	const struct proxy_config *config;    /* borrowed; the app keeps it alive */
	struct upstream_rt *upstreams;        /* owned, one per config upstream */
	struct proxy_listener *listeners;     /* owned */
	size_t num_listeners;
	struct access_log *access_log;        /* borrowed, may be NULL */
	struct list downstreams;              /* every open client connection */
	struct list upstream_conns;           /* every open upstream connection */
	struct list free_exchanges;           /* recycled exchange objects */
	uint64_t active_connections;
	bool draining;
	struct timer drain_timer;
	struct timer resume_accept_timer;
	/* headers of the head being parsed; used within one call only */
	struct http_header *scratch_headers; /* owned */
	size_t scratch_capacity;
	/* Date header cache */
	uint64_t date_second;
	char date[40];
};

/*
 * Sets up a worker for a snapshot; listen_fds holds one socket per listener
 * (ownership passes to the worker). Returns 0 or -errno. Call from the
 * worker's own thread.
 */
int proxy_worker_init(struct proxy_worker *w, unsigned id, const struct proxy_config *cfg,
		      const int *listen_fds, atomic_ulong *listener_counters,
		      struct access_log *log);

/* Runs the loop until the worker has stopped (drained or told to quit). */
void proxy_worker_run(struct proxy_worker *w);

/* Closes everything and frees what the worker owns. */
void proxy_worker_deinit(struct proxy_worker *w);

/*
 * Asks the worker to stop: graceful (stop accepting, finish in-flight
 * requests up to drain_timeout) or immediate. Called in the worker's thread
 * (from its wake callback).
 */
void proxy_worker_stop(struct proxy_worker *w, bool graceful);

/* The current "Date: ..." value (without the name), refreshed each second. */
const char *proxy_worker_date(struct proxy_worker *w);

#endif
