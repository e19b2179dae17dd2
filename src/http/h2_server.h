/*
 * h2_server: the server side of an HTTP/2 connection, through libnghttp2
 * (http/h2_server.c is the only file that includes it).
 *
 * Each request stream is presented to the owner as a virtual HTTP/1.1
 * connection (a struct conn with the h2_stream transport): reading it
 * yields the request as an HTTP/1.1 head (pseudo-headers turned into the
 * request line and Host, cookies joined) and its body (chunked when the
 * client gave no content-length); what the owner writes is an HTTP/1.1
 * response whose head becomes a HEADERS frame and whose body becomes DATA.
 * So routing, balancing, retries, error pages and logs run unchanged for
 * both protocols, as Apache's mod_http2 does; the cost is one extra parse
 * of each head, small next to the network.
 *
 * Flow control is tied to back-pressure: a stream's receive window is the
 * size of its request buffer, reopened only as the owner reads the body,
 * and a response is taken only as fast as the client's window lets DATA
 * go out (a full stream buffer makes the owner's writes return -EAGAIN).
 * Memory per connection is bounded by streams x two buffers.
 *
 * Defences: limits on concurrent streams, header list size and count
 * (431), CONTINUATION frames, SETTINGS entries, unanswered PING/SETTINGS
 * acknowledgements, the rate of client resets (rapid reset) and of control
 * frames; a violation ends the connection with GOAWAY.
 */
#ifndef PORTICO_HTTP_H2_SERVER_H
#define PORTICO_HTTP_H2_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "net/loop.h"
#include "net/transport.h"

#define H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define H2_PREFACE_LEN 24

struct h2_server;

struct h2_limits {
	uint32_t max_concurrent_streams;
	uint32_t max_header_list;  /* bytes, counted as RFC 9113 §6.5.2 does */
	uint32_t max_headers;      /* fields per request */
	uint32_t max_control_per_s; /* PING, SETTINGS, PRIORITY, WINDOW_UPDATE, RST_STREAM */
};

struct h2_server_ops {
	/* A request head arrived. Returns a zeroed conn of the owner's with
	 * io.cb set (the session fills in the rest and sends it events), or
	 * NULL to refuse the stream. */
	struct conn *(*open_stream)(void *owner);
	/* The client reset the stream, or the session is going away: the owner
	 * must close c now (its close operation detaches it). */
	void (*stream_gone)(struct conn *c);
};

/*
 * Starts HTTP/2 on connection c (TLS after ALPN "h2", or cleartext after
 * the preface), whose first bytes may already have been read (preread).
 * The session runs in loop's thread; bufs provides its buffers. Returns
 * NULL when out of memory.
 */
struct h2_server *h2_server_new(struct conn *c, struct loop *loop, struct buf_pool *bufs,
				const struct h2_limits *limits, const struct h2_server_ops *ops,
				void *owner, const char *preread, size_t preread_len);

/*
 * Does what the connection allows: reads and processes frames, tells
 * streams what changed, writes frames. Call after every edge of c (the
 * session also calls c->io.cb with no events when it needs to run).
 * Returns 0 while the connection should stay open, -1 when it is over
 * (error, peer gone, or GOAWAY done with no stream left).
 */
int h2_server_run(struct h2_server *s);

/* Graceful end: GOAWAY, no new streams; the open ones finish. */
void h2_server_shutdown(struct h2_server *s);

/* Streams with an owner attached. */
size_t h2_server_active_streams(const struct h2_server *s);

/* Frees the session; owners of open streams get stream_gone first. */
void h2_server_free(struct h2_server *s);

/* The owner's response on the virtual connection c is complete: the
 * stream ends once its buffered bytes are sent. Then close c as usual. */
void h2_stream_finish(struct conn *c);

/* The transport of the virtual connections. */
extern const struct transport_ops transport_h2_stream;

/* The linked libnghttp2's version, for --version. */
const char *h2_library_version(void);

#endif
