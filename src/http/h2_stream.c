/*
 * h2_stream: an HTTP/2 stream as the owner sees it — a virtual HTTP/1.1
 * connection. Reads hand out the request head the session built and the
 * body as it arrives (chunked when the client gave no content-length),
 * reopening the stream's window by what was read; writes take the
 * owner's HTTP/1.1 response, whose head becomes HEADERS and whose body is
 * handed to nghttp2 as DATA when the client's window allows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/slice.h"
#include "http/h1_parser.h"
#include "http/h2_session.h"

#define H2_MAX_RESPONSE_FIELDS 256

/* ---- responses ---- */

static ssize_t read_response_body(nghttp2_session *session, int32_t id, uint8_t *out,
				  size_t length, uint32_t *flags, nghttp2_data_source *source,
				  void *user)
{
	struct h2_stream *st = source->ptr;
	size_t n = st->resp ? buf_len(st->resp) : 0;

	if (n == 0) {
		if (st->resp_finished) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			return 0;
		}
		st->deferred = true;
		return NGHTTP2_ERR_DEFERRED;
	}
	if (n > length)
		n = length;
	memcpy(out, buf_head(st->resp), n);
	buf_consume(st->resp, n);
	if (buf_len(st->resp) == 0)
		st->resp->start = st->resp->end = 0;
	if (st->resp_finished && buf_len(st->resp) == 0)
		*flags |= NGHTTP2_DATA_FLAG_EOF;
	h2_notify(st, EPOLLOUT); /* room again */
	return (ssize_t)n;
}

static bool connection_specific(struct slice name)
{
	return slice_ieq_cstr(name, "connection") || slice_ieq_cstr(name, "keep-alive") ||
	       slice_ieq_cstr(name, "transfer-encoding") || slice_ieq_cstr(name, "upgrade") ||
	       slice_ieq_cstr(name, "proxy-connection") || slice_ieq_cstr(name, "te");
}

/* Turns the HTTP/1.1 head at the start of st->resp into HEADERS. Returns
 * 1 when submitted, 0 when more bytes are needed, -1 on a bad head. */
static int submit_response(struct h2_stream *st)
{
	struct http_header fields[H2_MAX_RESPONSE_FIELDS];
	nghttp2_nv nv[H2_MAX_RESPONSE_FIELDS + 1];
	struct h1_response res = { .headers = fields, .num_headers = H2_MAX_RESPONSE_FIELDS };
	char status[4];
	size_t n = 0;

	int len = h1_parse_response(buf_head(st->resp), buf_len(st->resp), &res, st->resp->cap);
	if (len == H1_INCOMPLETE)
		return buf_room(st->resp) == 0 && st->resp->start == 0 ? -1 : 0;
	if (len < 0 || res.status < 100 || res.status > 999)
		return -1;
	if (res.status < 200) { /* interim: HTTP/2 clients do without */
		buf_consume(st->resp, (size_t)len);
		return buf_len(st->resp) ? submit_response(st) : 0;
	}
	snprintf(status, sizeof(status), "%03d", res.status);
	nv[n++] = h2_nv(":status", 7, status, 3);
	for (size_t i = 0; i < res.num_headers; i++) {
		struct slice name = fields[i].name;
		if (connection_specific(name))
			continue;
		for (size_t j = 0; j < name.len; j++) /* HTTP/2 field names are lower case */
			((char *)name.ptr)[j] = (char)(name.ptr[j] >= 'A' && name.ptr[j] <= 'Z'
							? name.ptr[j] + 32 : name.ptr[j]);
		nv[n++] = h2_nv(name.ptr, name.len, fields[i].value.ptr, fields[i].value.len);
	}
	nghttp2_data_provider body = { .source.ptr = st, .read_callback = read_response_body };
	if (nghttp2_submit_response(st->server->session, st->id, nv, n, &body) != 0)
		return -1;
	buf_consume(st->resp, (size_t)len); /* nghttp2 copied the fields */
	st->resp_submitted = true;
	return 1;
}

/* ---- the virtual connection ---- */

static void consumed(struct h2_stream *st, size_t n)
{
	if (n == 0)
		return;
	nghttp2_session_consume(st->server->session, st->id, n);
	h2_kick(st->server);
}

static size_t copy_head(struct h2_stream *st, char *out, size_t len)
{
	size_t n = buf_len(st->head) < len ? buf_len(st->head) : len;

	memcpy(out, buf_head(st->head), n);
	buf_consume(st->head, n);
	if (buf_len(st->head) == 0) {
		buf_put(st->server->bufs, st->head);
		st->head = NULL;
	}
	return n;
}

/* Body bytes as one chunk ("size CRLF data CRLF"), or the last chunk. */
static size_t copy_chunk(struct h2_stream *st, char *out, size_t len, size_t *payload)
{
	size_t have = st->body ? buf_len(st->body) : 0;

	*payload = 0;
	if (have && len > 32) {
		size_t take = have < len - 32 ? have : len - 32;
		int w = snprintf(out, len, "%zx\r\n", take);
		memcpy(out + w, buf_head(st->body), take);
		out[w + take] = '\r';
		out[w + take + 1] = '\n';
		buf_consume(st->body, take);
		*payload = take;
		return (size_t)w + take + 2;
	}
	static const char last_chunk[] = { '0', '\r', '\n', '\r', '\n' };
	if (!have && st->req_end && !st->last_chunk_read && len >= sizeof(last_chunk)) {
		memcpy(out, last_chunk, sizeof(last_chunk));
		st->last_chunk_read = true;
		return sizeof(last_chunk);
	}
	return 0;
}

static bool has_input(const struct h2_stream *st)
{
	return st->head || (st->body && buf_len(st->body)) ||
	       (st->chunked && st->req_end && !st->last_chunk_read);
}

/* A short read tells the owner the input is drained (conn_read). When
 * chunk framing left bytes behind, a new edge must come, as a socket
 * would raise one for bytes that arrive later. */
static void notify_again(struct h2_stream *st)
{
	h2_notify(st, EPOLLIN);
	h2_kick(st->server);
}

static ssize_t stream_read(struct conn *c, void *buf, size_t len)
{
	struct h2_stream *st = c->stream;
	char *out = buf;
	size_t n = 0, payload = 0;

	if (!st || st->closed)
		return -ECONNRESET;
	if (st->reject) /* as for an HTTP/1.1 head too large (431) or malformed */
		return st->reject == 431 ? -ENOBUFS : -EBADMSG;
	if (st->head)
		n = copy_head(st, out, len);
	if (st->chunked) {
		size_t part, w;
		while ((w = copy_chunk(st, out + n, len - n, &part)) > 0) {
			n += w;
			payload += part;
		}
	} else if (st->body && buf_len(st->body) && n < len) {
		payload = buf_len(st->body) < len - n ? buf_len(st->body) : len - n;
		memcpy(out + n, buf_head(st->body), payload);
		buf_consume(st->body, payload);
		n += payload;
	}
	if (st->body && buf_len(st->body) == 0)
		st->body->start = st->body->end = 0;
	consumed(st, payload);
	if (n > 0 && n < len && has_input(st))
		notify_again(st);
	if (n > 0)
		return (ssize_t)n;
	return st->req_end && !st->head && (!st->chunked || st->last_chunk_read) ? 0 : -EAGAIN;
}

static ssize_t stream_writev(struct conn *c, const struct iovec *iov, int iovcnt)
{
	struct h2_stream *st = c->stream;
	size_t n = 0;

	if (!st || st->closed)
		return -EPIPE;
	if (!st->resp && !(st->resp = buf_get(st->server->bufs, 0)))
		return -ENOMEM;
	if (buf_room(st->resp) == 0)
		buf_compact(st->resp);
	for (int i = 0; i < iovcnt && buf_room(st->resp) > 0; i++) {
		size_t take = iov[i].iov_len < buf_room(st->resp) ? iov[i].iov_len : buf_room(st->resp);
		h2_append(st->resp, iov[i].iov_base, take);
		n += take;
	}
	if (n == 0)
		return -EAGAIN;
	if (!st->resp_submitted && submit_response(st) < 0)
		return -EPROTO;
	if (st->deferred) {
		st->deferred = false;
		nghttp2_session_resume_data(st->server->session, st->id);
	}
	h2_kick(st->server);
	return (ssize_t)n;
}

static void stream_shutdown_write(struct conn *c)
{
	/* a stream ends with h2_stream_finish */
}

static void stream_close(struct conn *c)
{
	struct h2_stream *st = c->stream;
	struct h2_server *s = st ? st->server : NULL;

	c->stream = NULL;
	if (!st)
		return;
	st->conn = NULL;
	s->active--;
	list_unlink(&st->event_link);
	if (st->closed) {
		h2_stream_free(st);
	} else if (!st->resp_finished || !st->resp_submitted) {
		nghttp2_submit_rst_stream(s->session, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_INTERNAL_ERROR);
	} else if (!st->req_end) {
		/* answered before the whole body came: no need for the rest */
		nghttp2_submit_rst_stream(s->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
	}
	h2_kick(s);
}

const struct transport_ops transport_h2_stream = {
	.name = "h2-stream",
	.read = stream_read,
	.writev = stream_writev,
	.shutdown_write = stream_shutdown_write,
	.close = stream_close,
};

void h2_stream_finish(struct conn *c)
{
	struct h2_stream *st = c->stream;

	if (!st || st->closed)
		return;
	st->resp_finished = true;
	if (!st->resp_submitted) {
		nghttp2_submit_rst_stream(st->server->session, NGHTTP2_FLAG_NONE, st->id,
					  NGHTTP2_INTERNAL_ERROR);
	} else if (st->deferred) {
		st->deferred = false;
		nghttp2_session_resume_data(st->server->session, st->id);
	}
	h2_kick(st->server);
}
