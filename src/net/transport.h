/*
 * transport: how bytes move on a connection — plain TCP (tcp.c) or TLS
 * (tls.c) behind the same table. Everything above reads and writes through a
 * conn, never through the socket, so HTTP code does not know which it has.
 *
 * A conn is registered edge-triggered for both directions (see loop.h); the
 * readable and writable flags remember the last edge and are cleared when an
 * operation returns -EAGAIN (or a short read), so owners know whether calling
 * again can make progress without a system call that would fail.
 */
#ifndef PORTICO_NET_TRANSPORT_H
#define PORTICO_NET_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/loop.h"

struct conn;
struct ssl_st;
struct ssl_session_st;
struct h2_stream;

struct transport_ops {
	const char *name;
	/* Reads up to len bytes: n > 0, 0 at end of stream, -EAGAIN when no
	 * byte is ready, or another -errno. Called from the owning thread. */
	ssize_t (*read)(struct conn *c, void *buf, size_t len);
	/* Writes from iov: bytes written (possibly fewer), -EAGAIN, or -errno. */
	ssize_t (*writev)(struct conn *c, const struct iovec *iov, int iovcnt);
	/* Sends end of stream after what was written (half close). */
	void (*shutdown_write)(struct conn *c);
	/* Releases the transport's resources and closes the socket. */
	void (*close)(struct conn *c);
};

struct conn {
	struct loop_io io;    /* fd and event callback */
	const struct transport_ops *ops;
	bool readable;        /* an edge said bytes (or EOF) may be waiting */
	bool writable;        /* an edge said the socket can take bytes */
	bool peer_closed;     /* EPOLLRDHUP/EPOLLHUP seen */
	bool tls_drained;     /* TLS: OpenSSL's last socket read got less than it asked */
	struct ssl_st *ssl;   /* owned: TLS state (net/tls.c), NULL on plain TCP */
	struct h2_stream *stream; /* borrowed: the HTTP/2 stream behind a virtual
				   * connection (http/h2_server.c), else NULL */
};

extern const struct transport_ops transport_tcp;

/* Reads and keeps the readiness flag current: a short read clears it. */
ssize_t conn_read(struct conn *c, void *buf, size_t len);

/* Writes and keeps the writable flag current: a short write clears it. */
ssize_t conn_writev(struct conn *c, const struct iovec *iov, int iovcnt);

/* Records an epoll edge in the readiness flags. */
void conn_note_events(struct conn *c, uint32_t events);

#endif
