/*
 * tls: the TLS transport — the same four operations as tcp.c, through
 * OpenSSL on the connection's socket.
 *
 * Readiness: conn_read treats a short read as "socket drained", so a read
 * here keeps calling SSL_read until the buffer is full, OpenSSL wants the
 * socket, or OpenSSL's own socket read came back short with nothing left
 * in its buffers (read ahead is on: it asks for all the socket has). One
 * SSL_read returns at most one record; stopping earlier would lose the
 * edge. Writes gather small iovec entries into one record: a response
 * head and the first body bytes go out together, as one writev does on
 * TCP.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log/log.h"
#include "net/tls.h"

#define RECORD_MAX 16384

/* What an OpenSSL failure means for the caller, as -errno. */
static ssize_t tls_error(struct conn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : -ECONNRESET;
	default:
		ERR_clear_error();
		return -EPROTO;
	}
}

static ssize_t tls_read(struct conn *c, void *buf, size_t len)
{
	size_t got = 0;

	c->tls_drained = false; /* only a socket read made by this call counts */
	while (got < len) {
		size_t n;
		errno = 0;
		int ret = SSL_read_ex(c->ssl, (char *)buf + got, len - got, &n);
		if (ret != 1) {
			ssize_t e = tls_error(c, ret);
			return got ? (ssize_t)got : e;
		}
		got += n;
		if (c->tls_drained && !SSL_has_pending(c->ssl))
			break; /* the socket was empty and OpenSSL holds nothing more */
	}
	return (ssize_t)got;
}

/* Copies iov entries, from byte `skip` on, into out until it is full. */
static size_t gather(const struct iovec *iov, int iovcnt, size_t skip, char *out, size_t size)
{
	size_t n = 0;

	for (int i = 0; i < iovcnt && n < size; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		size_t take = iov[i].iov_len - skip;
		if (take > size - n)
			take = size - n;
		memcpy(out + n, (const char *)iov[i].iov_base + skip, take);
		n += take;
		skip = 0;
	}
	return n;
}

static ssize_t tls_writev(struct conn *c, const struct iovec *iov, int iovcnt)
{
	char record[RECORD_MAX];
	size_t done = 0;

	for (;;) {
		size_t len = gather(iov, iovcnt, done, record, sizeof(record));
		size_t n;
		if (len == 0)
			return (ssize_t)done;
		errno = 0;
		int ret = SSL_write_ex(c->ssl, record, len, &n);
		if (ret != 1) {
			ssize_t e = tls_error(c, ret);
			return done ? (ssize_t)done : e == 0 ? -EPIPE : e;
		}
		done += n;
	}
}

/* close_notify, once, best effort: without it a client cannot tell a
 * complete response from a truncated one. */
static void send_close_notify(struct conn *c)
{
	if (SSL_is_init_finished(c->ssl) && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
}

static void tls_shutdown_write(struct conn *c)
{
	send_close_notify(c);
	shutdown(c->io.fd, SHUT_WR);
}

static void tls_close(struct conn *c)
{
	send_close_notify(c);
	SSL_free(c->ssl);
	c->ssl = NULL;
	close(c->io.fd);
	c->io.fd = -1;
}

const struct transport_ops transport_tls = {
	.name = "tls",
	.read = tls_read,
	.writev = tls_writev,
	.shutdown_write = tls_shutdown_write,
	.close = tls_close,
};

int tls_handshake(struct conn *c)
{
	errno = 0;
	int ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		if (SSL_has_pending(c->ssl))
			c->readable = true; /* read ahead: the first request came along */
		return 0;
	}
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		c->readable = false;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->writable = false;
		return -EAGAIN;
	default: {
		unsigned long e = ERR_peek_last_error();
		log_debug("TLS handshake failed: %s",
			  e ? ERR_reason_error_string(e) : errno ? strerror(errno) : "connection closed");
		ERR_clear_error();
		return -EPROTO;
	}
	}
}

bool tls_alpn_h2(const struct conn *c)
{
	const unsigned char *proto;
	unsigned int len;

	SSL_get0_alpn_selected(c->ssl, &proto, &len);
	return len == 2 && memcmp(proto, "h2", 2) == 0;
}

size_t tls_peer_subject(const struct conn *c, char *out, size_t size)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	BIO *mem;
	char *text;
	long len;
	size_t n = 0;

	out[0] = '\0';
	if (!cert || SSL_get_verify_result(c->ssl) != X509_V_OK || !(mem = BIO_new(BIO_s_mem())))
		return 0;
	if (X509_NAME_print_ex(mem, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(mem, &text)) > 0) {
		n = (size_t)len < size ? (size_t)len : size - 1;
		memcpy(out, text, n);
		out[n] = '\0';
	}
	BIO_free(mem);
	return n;
}

const char *tls_version_name(const struct conn *c)
{
	return SSL_get_version(c->ssl);
}

const char *tls_library_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
