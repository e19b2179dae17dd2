/*
 * h2_server: the HTTP/2 session of one client connection (see h2_server.h);
 * the stream side is h2_stream.c.
 */
#include "http/h2_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/bug.h"
#include "core/list.h"
#include "core/slice.h"
#include "http/h2_session.h"

/* A stream's receive window is HTTP/2's default, so a client may send it
 * before our SETTINGS arrive; a stream buffers at most that much body. The
 * connection window caps what all streams buffer together. */
#define H2_STREAM_WINDOW 65535
#define H2_CONNECTION_WINDOW (1u << 20)
/* RST_STREAM frames from the client: a burst, then this many per second */
#define H2_RESET_BURST 200
#define H2_RESET_RATE 50

/* ---- helpers ---- */

void h2_kick(struct h2_server *s)
{
	loop_defer(s->loop, &s->kick);
}

static void on_kick(struct loop_defer *d)
{
	struct h2_server *s = container_of(d, struct h2_server, kick);
	s->conn->io.cb(&s->conn->io, 0);
}

void h2_notify(struct h2_stream *st, uint32_t events)
{
	if (!st->conn)
		return;
	st->events |= events;
	if (list_empty(&st->event_link))
		list_push_back(&st->server->events, &st->event_link);
}

void h2_stream_free(struct h2_stream *st)
{
	struct buf_pool *bufs = st->server->bufs;

	list_unlink(&st->link);
	list_unlink(&st->event_link);
	buf_put(bufs, st->head);
	buf_put(bufs, st->body);
	buf_put(bufs, st->resp);
	free(st->method);
	free(st->path);
	free(st->authority);
	free(st->cookie);
	free(st);
}

bool h2_append(struct buf *b, const char *p, size_t n)
{
	if (buf_room(b) < n)
		return false;
	memcpy(buf_tail(b), p, n);
	b->end += n;
	return true;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static void keep(char **field, const uint8_t *value, size_t len)
{
	free(*field);
	*field = dup_bytes(value, len);
}

/* RFC 9113 §8.2.3: cookie crumbs are joined with "; " for HTTP/1.1. */
static void add_cookie(struct h2_stream *st, const uint8_t *value, size_t len)
{
	size_t sep = st->cookie_len ? 2 : 0;
	char *grown = realloc(st->cookie, st->cookie_len + sep + len + 1);

	if (!grown)
		return;
	memcpy(grown + st->cookie_len, "; ", sep);
	memcpy(grown + st->cookie_len + sep, value, len);
	st->cookie_len += sep + len;
	grown[st->cookie_len] = '\0';
	st->cookie = grown;
}

/* ---- requests ---- */

/* Writes "METHOD PATH HTTP/1.1", Host before the fields gathered in
 * st->head, and the cookie and framing after them. */
static bool build_head(struct h2_stream *st, bool end_stream)
{
	struct buf *b = st->head;
	char prefix[64];
	size_t fields = buf_len(b);
	int plen;

	if (!st->method || !st->path)
		return false;
	plen = snprintf(prefix, sizeof(prefix), " HTTP/1.1\r\n");
	size_t lead = strlen(st->method) + 1 + strlen(st->path) + (size_t)plen +
		      (st->authority ? 6 + strlen(st->authority) + 2 : 0);
	if (buf_room(b) < lead)
		return false;
	memmove(b->data + b->start + lead, buf_head(b), fields);
	b->end = b->start; /* rewrite from the start, fields now after the lead */
	h2_append(b, st->method, strlen(st->method));
	h2_append(b, " ", 1);
	h2_append(b, st->path, strlen(st->path));
	h2_append(b, prefix, (size_t)plen);
	if (st->authority) {
		h2_append(b, "Host: ", 6);
		h2_append(b, st->authority, strlen(st->authority));
		h2_append(b, "\r\n", 2);
	}
	b->end += fields;
	if (st->cookie && !(h2_append(b, "Cookie: ", 8) && h2_append(b, st->cookie, st->cookie_len) &&
			    h2_append(b, "\r\n", 2)))
		return false;
	st->chunked = !end_stream && !st->has_content_length;
	if (st->chunked && !h2_append(b, "Transfer-Encoding: chunked\r\n", 28))
		return false;
	return h2_append(b, "\r\n", 2);
}

static void request_ready(struct h2_server *s, struct h2_stream *st, bool end_stream)
{
	st->req_end = end_stream;
	if (!st->reject && !build_head(st, end_stream))
		st->reject = st->method && st->path ? 431 : 400; /* the owner answers: stream_read */
	struct conn *c = s->shutting_down ? NULL : s->ops->open_stream(s->owner);
	if (!c) {
		nghttp2_submit_rst_stream(s->session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_REFUSED_STREAM);
		return;
	}
	c->ops = &transport_h2_stream;
	c->stream = st;
	c->io.fd = -1;
	st->conn = c;
	s->active++;
	h2_notify(st, EPOLLIN | EPOLLOUT);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2_server *s = user;
	struct h2_stream *st;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	st = calloc(1, sizeof(*st));
	if (!st || !(st->head = buf_get(s->bufs, 0))) {
		free(st);
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	}
	st->server = s;
	st->id = frame->hd.stream_id;
	list_init(&st->event_link);
	list_push_back(&s->streams, &st->link);
	nghttp2_session_set_stream_user_data(session, st->id, st);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t name_len, const uint8_t *value, size_t value_len, uint8_t flags,
		     void *user)
{
	struct h2_server *s = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	struct slice n = slice_make((const char *)name, name_len);

	if (!st || frame->headers.cat != NGHTTP2_HCAT_REQUEST || st->reject)
		return 0; /* trailers are dropped */
	st->header_bytes += (uint32_t)(name_len + value_len + 32);
	if (++st->header_count > s->limits.max_headers || st->header_bytes > s->limits.max_header_list) {
		st->reject = 431;
		return 0;
	}
	if (slice_eq(n, SLICE_LIT(":method")))
		keep(&st->method, value, value_len);
	else if (slice_eq(n, SLICE_LIT(":path")))
		keep(&st->path, value, value_len);
	else if (slice_eq(n, SLICE_LIT(":authority")))
		keep(&st->authority, value, value_len);
	else if ((name_len && name[0] == ':') || (slice_eq(n, SLICE_LIT("host")) && st->authority))
		return 0; /* :scheme is ours to set; :authority wins (RFC 9113 §8.3.1) */
	else if (slice_eq(n, SLICE_LIT("cookie")))
		add_cookie(st, value, value_len);
	else if (!(h2_append(st->head, (const char *)name, name_len) && h2_append(st->head, ": ", 2) &&
		   h2_append(st->head, (const char *)value, value_len) && h2_append(st->head, "\r\n", 2)))
		st->reject = 431;
	if (slice_eq(n, SLICE_LIT("content-length")))
		st->has_content_length = true;
	return 0;
}

/* Too many control frames in one second: a flood, whatever the kind. */
static bool control_flood(struct h2_server *s, const nghttp2_frame *frame)
{
	uint8_t t = frame->hd.type;
	bool control = t == NGHTTP2_PRIORITY || t == NGHTTP2_RST_STREAM ||
		       t == NGHTTP2_WINDOW_UPDATE ||
		       ((t == NGHTTP2_PING || t == NGHTTP2_SETTINGS) && !(frame->hd.flags & NGHTTP2_FLAG_ACK));
	uint64_t now = s->loop->now_ms;

	if (!control)
		return false;
	if (now - s->control_window_ms >= 1000) {
		s->control_window_ms = now;
		s->control_frames = 0;
	}
	return ++s->control_frames > s->limits.max_control_per_s;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
{
	struct h2_server *s = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	bool end = frame->hd.flags & NGHTTP2_FLAG_END_STREAM;

	if (control_flood(s, frame)) {
		nghttp2_session_terminate_session(session, NGHTTP2_ENHANCE_YOUR_CALM);
		return 0;
	}
	if (!st)
		return 0;
	if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
		request_ready(s, st, end);
	} else if ((frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS) && end) {
		st->req_end = true;
		h2_notify(st, EPOLLIN);
	}
	return 0;
}

static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
		   size_t len, void *user)
{
	struct h2_server *s = user;
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, id);

	if (!st || !st->conn) { /* nobody will read it: give the window back */
		if (nghttp2_session_consume(session, id, len) != 0)
			nghttp2_session_consume_connection(session, len);
		return 0;
	}
	if (!st->body && !(st->body = buf_get(s->bufs, H2_STREAM_WINDOW)))
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	if (buf_room(st->body) < len)
		buf_compact(st->body);
	if (!h2_append(st->body, (const char *)data, len))
		return NGHTTP2_ERR_CALLBACK_FAILURE; /* over the window we gave */
	h2_notify(st, EPOLLIN);
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *user)
{
	struct h2_stream *st = nghttp2_session_get_stream_user_data(session, id);

	if (!st)
		return 0;
	st->closed = true;
	if (st->conn)
		h2_notify(st, H2_EVENT_GONE);
	else
		h2_stream_free(st);
	return 0;
}

/* ---- the session ---- */

static nghttp2_session *session_new(struct h2_server *s)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt;
	nghttp2_session *session = NULL;

	if (nghttp2_session_callbacks_new(&cbs) != 0)
		return NULL;
	if (nghttp2_option_new(&opt) != 0) {
		nghttp2_session_callbacks_del(cbs);
		return NULL;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_option_set_no_auto_window_update(opt, 1);
	nghttp2_option_set_stream_reset_rate_limit(opt, H2_RESET_BURST, H2_RESET_RATE);
	if (nghttp2_session_server_new2(&session, cbs, s, opt) != 0)
		session = NULL;
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	return session;
}

static int submit_settings(struct h2_server *s)
{
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, s->limits.max_concurrent_streams },
		{ NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, s->limits.max_header_list },
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
	};
	if (nghttp2_submit_settings(s->session, NGHTTP2_FLAG_NONE, iv, ARRAY_SIZE(iv)) != 0)
		return -1;
	return nghttp2_session_set_local_window_size(s->session, NGHTTP2_FLAG_NONE, 0,
						     H2_CONNECTION_WINDOW);
}

struct h2_server *h2_server_new(struct conn *c, struct loop *loop, struct buf_pool *bufs,
				const struct h2_limits *limits, const struct h2_server_ops *ops,
				void *owner, const char *preread, size_t preread_len)
{
	struct h2_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->conn = c;
	s->loop = loop;
	s->bufs = bufs;
	s->limits = *limits;
	s->ops = ops;
	s->owner = owner;
	s->control_window_ms = loop->now_ms;
	list_init(&s->streams);
	list_init(&s->events);
	loop_defer_init(&s->kick, on_kick);
	if (!(s->session = session_new(s)) || submit_settings(s) != 0 ||
	    (preread_len &&
	     nghttp2_session_mem_recv(s->session, (const uint8_t *)preread, preread_len) < 0)) {
		h2_server_free(s);
		return NULL;
	}
	h2_kick(s);
	return s;
}

static void deliver_events(struct h2_server *s)
{
	while (!list_empty(&s->events)) {
		struct h2_stream *st = list_entry(s->events.next, struct h2_stream, event_link);
		uint32_t events = st->events;
		list_unlink(&st->event_link);
		st->events = 0;
		if (!st->conn)
			continue;
		if (events & H2_EVENT_GONE)
			s->ops->stream_gone(st->conn);
		else
			st->conn->io.cb(&st->conn->io, events);
	}
}

static int read_frames(struct h2_server *s)
{
	char in[16384];

	while (s->conn->readable) {
		ssize_t n = conn_read(s->conn, in, sizeof(in));
		if (n == -EAGAIN)
			break;
		if (n <= 0)
			return -1;
		if (nghttp2_session_mem_recv(s->session, (const uint8_t *)in, (size_t)n) < 0)
			return -1;
		deliver_events(s);
	}
	return 0;
}

/* Gathers frames into s->out; a frame that does not fit waits in pending. */
static int gather_frames(struct h2_server *s)
{
	while (!s->pending_len) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(s->session, &data);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (!h2_append(s->out, (const char *)data, (size_t)n)) {
			s->pending = data;
			s->pending_len = (size_t)n;
		}
	}
	return 0;
}

static int write_frames(struct h2_server *s)
{
	if (!s->out && !(s->out = buf_get(s->bufs, 0)))
		return -1;
	while (s->conn->writable) {
		if (gather_frames(s) != 0)
			return -1;
		struct iovec iov[2] = { { buf_head(s->out), buf_len(s->out) },
					{ (void *)s->pending, s->pending_len } };
		size_t total = iov[0].iov_len + iov[1].iov_len;
		if (total == 0)
			break;
		ssize_t n = conn_writev(s->conn, iov, 2);
		if (n == -EAGAIN)
			break;
		if (n < 0)
			return -1;
		size_t from_out = (size_t)n < iov[0].iov_len ? (size_t)n : iov[0].iov_len;
		buf_consume(s->out, from_out);
		if ((size_t)n > iov[0].iov_len) { /* into the pending frame too */
			s->pending += (size_t)n - iov[0].iov_len;
			s->pending_len -= (size_t)n - iov[0].iov_len;
		}
		if (buf_len(s->out) == 0)
			s->out->start = s->out->end = 0;
	}
	if (buf_len(s->out) == 0 && !s->pending_len) {
		buf_put(s->bufs, s->out); /* an idle connection holds no buffer */
		s->out = NULL;
	}
	return 0;
}

int h2_server_run(struct h2_server *s)
{
	if (read_frames(s) != 0) {
		write_frames(s); /* a GOAWAY nghttp2 queued, best effort */
		return -1;
	}
	deliver_events(s);
	if (write_frames(s) != 0)
		return -1;
	deliver_events(s);
	if (!nghttp2_session_want_read(s->session) && !nghttp2_session_want_write(s->session) &&
	    !s->out)
		return -1;
	if (s->shutting_down && list_empty(&s->streams) && !s->out)
		return -1;
	return 0;
}

void h2_server_shutdown(struct h2_server *s)
{
	if (s->shutting_down)
		return;
	s->shutting_down = true;
	nghttp2_submit_goaway(s->session, NGHTTP2_FLAG_NONE,
			      nghttp2_session_get_last_proc_stream_id(s->session),
			      NGHTTP2_NO_ERROR, NULL, 0);
	h2_kick(s);
}

size_t h2_server_active_streams(const struct h2_server *s)
{
	return s->active;
}

void h2_server_free(struct h2_server *s)
{
	if (!s)
		return;
	/* owners close their streams, which detaches them */
	for (struct list *n = s->streams.next, *next; n != &s->streams; n = next) {
		next = n->next;
		struct h2_stream *st = list_entry(n, struct h2_stream, link);
		st->closed = true;
		if (st->conn)
			s->ops->stream_gone(st->conn);
	}
	while (!list_empty(&s->streams))
		h2_stream_free(list_entry(s->streams.next, struct h2_stream, link));
	loop_defer_cancel(&s->kick);
	nghttp2_session_del(s->session);
	buf_put(s->bufs, s->out);
	free(s);
}

const char *h2_library_version(void)
{
	return nghttp2_version(0)->version_str;
}
