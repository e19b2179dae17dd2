#include "proxy/relay.h"

#include <errno.h>

#include "core/bug.h"

void relay_init(struct relay *r, enum h1_body_kind kind, uint64_t length, bool dechunk)
{
	*r = (struct relay){ .kind = kind, .remaining = length, .dechunk = dechunk };
	h1_chunked_init(&r->chunked);
	r->body_done = kind == H1_BODY_NONE || (kind == H1_BODY_LENGTH && length == 0);
}

/* Validates what the source buffer holds, setting r->pending. 0 or error. */
static int validate(struct relay *r, struct buf *b)
{
	size_t avail = b ? buf_len(b) : 0;

	if (r->body_done || avail == 0)
		return 0;
	switch (r->kind) {
	case H1_BODY_LENGTH:
		r->pending = avail < r->remaining ? avail : (size_t)r->remaining;
		r->remaining -= r->pending;
		r->payload += r->pending;
		r->body_done = r->remaining == 0;
		break;
	case H1_BODY_UNTIL_CLOSE:
		r->pending = avail;
		r->payload += avail;
		break;
	case H1_BODY_CHUNKED:
		while (r->pending < avail && !r->chunked.done) {
			struct slice data;
			ssize_t n = h1_chunked_decode(&r->chunked, buf_head(b) + r->pending,
						      avail - r->pending, &data);
			if (n < 0)
				return RELAY_BAD_FRAMING;
			r->payload += data.len;
			if (r->dechunk) {
				/* Drop the framing in front of the payload span. */
				buf_consume(b, (size_t)n - data.len);
				r->pending = data.len;
				if (data.len)
					break;
				avail = buf_len(b);
			} else {
				r->pending += (size_t)n;
			}
		}
		r->body_done = r->chunked.done;
		break;
	case H1_BODY_NONE:
		break;
	}
	if (r->max_payload && r->payload > r->max_payload)
		return RELAY_TOO_LARGE;
	return 0;
}

static enum relay_result flush(struct relay *r, struct conn *dst, struct buf *b)
{
	struct iovec iov[2];
	int n = 0;

	if (r->head_len)
		iov[n++] = (struct iovec){ (void *)r->head, r->head_len };
	if (r->pending)
		iov[n++] = (struct iovec){ buf_head(b), r->pending };
	ssize_t w = conn_writev(dst, iov, n);
	if (w == -EAGAIN)
		return RELAY_WANT_WRITE;
	if (w < 0)
		return RELAY_DEST_ERROR;
	r->written += (uint64_t)w;
	size_t from_head = (size_t)w < r->head_len ? (size_t)w : r->head_len;
	if (from_head) { /* a relay may have no head at all (a tunnel's): head is NULL */
		r->head += from_head;
		r->head_len -= from_head;
	}
	size_t from_body = (size_t)w - from_head;
	if (from_body) {
		BUG_ON(from_body > r->pending); /* the transport wrote more than it was given */
		if (r->tee)
			r->tee(r->tee_arg, buf_head(b), from_body);
		r->pending -= from_body;
		buf_consume(b, from_body);
	}
	return RELAY_DONE;
}

static enum relay_result fill(struct relay *r, struct conn *src, struct buf **src_buf,
			      struct buf_pool *pool)
{
	if (!src->readable)
		return RELAY_WANT_READ;
	if (!*src_buf && !(*src_buf = buf_get(pool, 0)))
		return RELAY_SOURCE_ERROR;
	struct buf *b = *src_buf;
	if (buf_room(b) == 0)
		buf_compact(b);
	ssize_t n = conn_read(src, buf_tail(b), buf_room(b));
	if (n == -EAGAIN)
		return RELAY_WANT_READ;
	if (n < 0)
		return RELAY_SOURCE_ERROR;
	if (n == 0) {
		r->source_eof = true;
		if (r->kind != H1_BODY_UNTIL_CLOSE)
			return RELAY_SOURCE_EOF;
		r->body_done = true;
		return RELAY_DONE;
	}
	b->end += (size_t)n;
	return RELAY_DONE;
}

enum relay_result relay_run(struct relay *r, struct conn *src, struct buf **src_buf,
			    struct conn *dst, struct buf_pool *pool)
{
	for (;;) {
		if (r->pending == 0) {
			int err = validate(r, *src_buf);
			if (err)
				return (enum relay_result)err;
		}
		if (r->head_len || r->pending) {
			if (!dst->writable)
				return RELAY_WANT_WRITE;
			enum relay_result res = flush(r, dst, *src_buf);
			if (res != RELAY_DONE)
				return res;
			continue;
		}
		if (r->body_done)
			return RELAY_DONE;
		enum relay_result res = fill(r, src, src_buf, pool);
		if (res != RELAY_DONE)
			return res;
	}
}
