/*
 * downstream: one client connection speaking HTTP/1.1.
 *
 * It reads request heads, hands each complete one to an exchange, and when
 * the exchange is over either parses the next (pipelined) request already in
 * its buffer, waits idle without a buffer, or closes. States:
 *
 *   [HANDSHAKE] --TLS done--> WAIT_HEAD
 *   WAIT_HEAD --head parsed--> EXCHANGE --done, keep-alive--> WAIT_HEAD
 *       |                          |
 *       +-- timeout/EOF/error -----+--> CLOSED (freed at the end of the turn)
 *
 * An HTTP/2 connection (ALPN "h2", or the preface on a cleartext listener
 * with http2: true) hands its bytes to an h2_server session instead, and
 * each of its request streams becomes a downstream of its own, with the
 * stream as a virtual HTTP/1.1 connection and the same life as above
 * (one exchange, then closed).
 *
 * Timers: header_timeout from the connection's start (covering a TLS
 * handshake, which ends in a silent close) or a request's first byte (408),
 * idle_timeout between keep-alive requests (silent close).
 */
#ifndef PORTICO_PROXY_DOWNSTREAM_H
#define PORTICO_PROXY_DOWNSTREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/list.h"
#include "net/loop.h"
#include "net/timer.h"
#include "net/transport.h"
#include "proxy/proxy.h"

struct exchange;
struct h2_server;

/* HTTP/2 streams a client connection may have open at once */
#define DOWNSTREAM_H2_MAX_STREAMS 128

struct downstream {
	struct conn conn;
	struct proxy_worker *worker;
	struct proxy_listener *listener;
	struct list link;            /* in worker->downstreams */
	struct buf *in;              /* received bytes; NULL while idle */
	struct timer timer;
	struct loop_defer defer;     /* close, or resume after an exchange */
	struct exchange *exchange;   /* in flight, or NULL */
	uint8_t peer_ip[16];         /* IPv4 mapped */
	char peer_ip_text[48];
	char *client_subject;        /* owned: verified TLS client certificate subject, or NULL */
	unsigned requests;           /* exchanges started on this connection */
	bool handshaking;            /* TLS handshake not finished */
	bool tls;                    /* the client connection is TLS */
	struct h2_server *h2;        /* owned: the connection speaks HTTP/2, else NULL */
	struct downstream *parent;   /* borrowed: set for an HTTP/2 stream, whose conn is
				      * virtual (http/h2_server.h); NULL for connections */
	bool head_started;           /* bytes of the next head have arrived */
	bool underscores_logged;     /* a dropped "_" field was logged for this connection */
	bool lingering;              /* answered; discarding input until EOF, then closing */
	uint64_t lingered_bytes;
	bool closed;
};

/* Accepts what a listening socket has queued. */
void downstream_accept(struct proxy_listener *l);

/* Called by the exchange when it is over. keep_alive: the connection may
 * serve another request. unread_input: the client may still be sending a
 * request body nobody read; closing at once would reset the connection and
 * could destroy the response in flight, so the connection lingers first. */
void downstream_exchange_done(struct downstream *ds, bool keep_alive, bool unread_input);

/* Closes now (the object is freed at the end of the turn). */
void downstream_close(struct downstream *ds);

/* Asks an HTTP/2 connection to end once its streams in flight are done
 * (GOAWAY); nothing for HTTP/1.1. */
void downstream_goaway(struct downstream *ds);

/* Closes the connection if it has no request in progress (draining). */
void downstream_close_if_idle(struct downstream *ds);

/* Arms the connection's timer for ms from now with the given handler. */
void downstream_arm_timer(struct downstream *ds, uint64_t ms, timer_cb cb);

/* Writes bytes straight to the client, best effort (e.g. 100 Continue). */
void downstream_send_small(struct downstream *ds, const char *bytes, size_t len);

#endif
