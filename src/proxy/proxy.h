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
struct proxy_generation;

/* One listening socket of one worker. */
struct proxy_listener {
	struct loop_io io;
	struct proxy_worker *worker;
	struct proxy_generation *gen;         /* the generation it belongs to */
	const struct listener_config *config; /* borrowed from the snapshot */
	atomic_ulong *connections;            /* shared by every worker's socket of this listener */
	bool paused;                          /* accepting paused (out of descriptors) */
};

/*
 * What a worker built from one configuration snapshot: its listeners and
 * upstream runtimes. Client and upstream connections hold a reference; after
 * a reload the old generation lives on until its last connection is gone,
 * then it is freed and the worker lets go of the snapshot.
 */
struct proxy_generation {
	struct proxy_worker *worker;
	const struct proxy_config *config;    /* borrowed; released through on_release */
	struct proxy_listener *listeners;     /* owned */
	size_t num_listeners;
	struct upstream_rt *upstreams;        /* owned, one per config upstream */
	unsigned refs;                        /* connections using it, +1 while current */
	struct loop_defer free_later;         /* freed at the end of the turn */
};

/* Called in the worker's thread when it no longer uses a snapshot. */
typedef void (*proxy_release_cb)(struct proxy_worker *w, const struct proxy_config *cfg);

struct proxy_worker {
	unsigned id;
	struct loop loop;
	struct buf_pool bufs;
	struct rand_state rand;
	struct proxy_generation *gen;         /* current; owned */
	const struct proxy_config *config;    /* gen->config, for brevity */
	proxy_release_cb on_release;          /* may be NULL */
	struct access_log *access_log;        /* borrowed, may be NULL */
	struct list downstreams;              /* every open client connection */
	struct list upstream_conns;           /* every open upstream connection */
	struct list free_exchanges;           /* recycled exchange objects */
	struct list mirrors;                  /* mirror jobs in flight (proxy/mirror.c) */
	uint64_t active_connections;
	bool draining;
	struct timer drain_timer;
	struct timer resume_accept_timer;
	/* headers of the head being parsed; used within one call only */
	struct http_header *scratch_headers; /* owned */
	size_t scratch_capacity;
	/* the request path as routing sees it (route/normalize.h), one call
	 * only; as large as a buffer, so any path of a parsed head fits */
	char *scratch_path; /* owned */
	size_t scratch_path_capacity;
	/* the Date value, remade when the turn's clock passes date_next_ms */
	uint64_t date_next_ms;
	size_t date_len;
	char date[40];
};

/*
 * Sets up a worker for a snapshot; listen_fds holds one socket per listener
 * (ownership passes to the worker). Returns 0 or -errno. Call from the
 * worker's own thread.
 */
int proxy_worker_init(struct proxy_worker *w, unsigned id, const struct proxy_config *cfg,
		      const int *listen_fds, atomic_ulong *const *listener_counters,
		      struct access_log *log);

/*
 * Switches the worker to a new snapshot: new connections and the next
 * request of every kept-alive connection use it; requests in flight finish
 * with the old one. listen_fds/listener_counters as for proxy_worker_init;
 * a socket of the old generation absent from listen_fds is closed. Returns
 * 0 or -errno (then the worker keeps its current snapshot). Call in the
 * worker's thread.
 */
int proxy_worker_reload(struct proxy_worker *w, const struct proxy_config *cfg,
			const int *listen_fds, atomic_ulong *const *listener_counters);

/* Takes and drops a reference on a generation. */
static inline void proxy_gen_ref(struct proxy_generation *g)
{
	g->refs++;
}
void proxy_gen_unref(struct proxy_generation *g);

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

/* The current Date value (IMF-fixdate, RFC 9110 §5.6.7), as of this turn. */
struct slice proxy_worker_date(struct proxy_worker *w);

#endif
