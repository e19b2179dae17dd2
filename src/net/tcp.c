/*
 * tcp: the plain TCP transport. Thin on purpose: read(2), writev(2) (write(2)
 * for one piece), shutdown(2), close(2) with errors turned into -errno.
 *
 * Reads and writes are made with syscall(2): glibc's read and writev are
 * thread cancellation points, which in a threaded process costs two atomic
 * operations around every call, and portico never cancels a thread.
 */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/transport.h"

static ssize_t tcp_read(struct conn *c, void *buf, size_t len)
{
	long n = syscall(SYS_read, c->io.fd, buf, len);
	return n >= 0 ? n : -errno;
}

static ssize_t tcp_writev(struct conn *c, const struct iovec *iov, int iovcnt)
{
	long n = iovcnt == 1 ? syscall(SYS_write, c->io.fd, iov[0].iov_base, iov[0].iov_len)
			     : syscall(SYS_writev, c->io.fd, iov, iovcnt);
	return n >= 0 ? n : -errno;
}

static void tcp_shutdown_write(struct conn *c)
{
	shutdown(c->io.fd, SHUT_WR);
}

static void tcp_close(struct conn *c)
{
	close(c->io.fd);
	c->io.fd = -1;
}

const struct transport_ops transport_tcp = {
	.name = "tcp",
	.read = tcp_read,
	.writev = tcp_writev,
	.shutdown_write = tcp_shutdown_write,
	.close = tcp_close,
};

ssize_t conn_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n = c->ops->read(c, buf, len);
	/* A short read drained the socket, unless the peer's FIN came with
	 * the data: then no new edge will come and the EOF must be read now. */
	if (n == -EAGAIN || (n > 0 && (size_t)n < len && !c->peer_closed))
		c->readable = false;
	return n;
}

ssize_t conn_writev(struct conn *c, const struct iovec *iov, int iovcnt)
{
	ssize_t n = c->ops->writev(c, iov, iovcnt);
	if (n == -EAGAIN) {
		c->writable = false;
	} else if (n >= 0) {
		size_t total = 0;
		for (int i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		if ((size_t)n < total)
			c->writable = false;
	}
	return n;
}

void conn_note_events(struct conn *c, uint32_t events)
{
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		c->peer_closed = true;
}
