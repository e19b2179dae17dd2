/*
 * upstream_conn: one connection to an upstream server, either serving an
 * exchange or idle in its server's keep-alive pool. An idle connection that
 * becomes readable (the server closed it, or sent junk) is closed at once,
 * so the pool rarely hands out a dead connection.
 */
#ifndef PORTICO_PROXY_UPSTREAM_CONN_H
#define PORTICO_PROXY_UPSTREAM_CONN_H

#include <stdbool.h>

#include "core/buf.h"
#include "net/timer.h"
#include "net/transport.h"
#include "proxy/proxy.h"
#include "upstream/upstream.h"

struct exchange;

struct upstream_conn {
	struct conn conn;
	struct pooled_conn pooled;
	struct list link;             /* in worker->upstream_conns */
	struct proxy_worker *worker;
	struct proxy_generation *gen; /* referenced: owns server's runtime */
	struct server_rt *server;
	struct buf *in;               /* response bytes; NULL while idle */
	struct timer timer;
	struct loop_defer defer;      /* deferred free */
	struct exchange *exchange;    /* NULL while idle */
	bool connected;               /* ready for requests: the TCP connect and,
				       * on TLS, the handshake completed */
	bool reused;                  /* taken from the pool for this exchange */
	bool closed;
};

/*
 * Gets a connection to server s for exchange x: a pooled one if any, else a
 * new connect. Returns NULL with *err set (-errno) when the connect fails
 * at once.
 */
struct upstream_conn *upstream_conn_get(struct proxy_worker *w, struct server_rt *s,
					struct exchange *x, int *err);

/* Opens a fresh connection, never a pooled one (for a retry). */
struct upstream_conn *upstream_conn_open(struct proxy_worker *w, struct server_rt *s,
					 struct exchange *x, int *err);

/* Ends the exchange's use: back to the pool when reusable, else closed. */
void upstream_conn_release(struct upstream_conn *uc, bool reusable);

void upstream_conn_close(struct upstream_conn *uc);

#endif
