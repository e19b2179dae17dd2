/*
 * h2_session: what the two halves of the HTTP/2 adapter share — the
 * session (h2_server.c: frames in and out, requests turned into HTTP/1.1
 * heads) and the stream as a virtual connection (h2_stream.c: the
 * owner's reads and writes, responses turned into HEADERS and DATA).
 * Private to src/http/h2_*.c.
 */
#ifndef PORTICO_HTTP_H2_SESSION_H
#define PORTICO_HTTP_H2_SESSION_H

#include <nghttp2/nghttp2.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/list.h"
#include "http/h2_server.h"

/* Owner events beyond epoll's: the stream is gone (reset or session end). */
#define H2_EVENT_GONE (1u << 31)

struct h2_stream {
	struct list link;        /* in server->streams */
	struct list event_link;  /* in server->events while events are pending */
	struct h2_server *server;
	int32_t id;
	struct conn *conn;       /* the owner's virtual connection; NULL once detached */
	uint32_t events;         /* to deliver to the owner */
	/* request */
	struct buf *head;        /* fields as received, then the whole HTTP/1.1 head */
	struct buf *body;        /* payload received and not yet read */
	char *method, *path, *authority, *cookie; /* owned until the head is built */
	size_t cookie_len;
	uint32_t header_bytes, header_count;
	int reject;              /* a head the session refused (431, 400), 0 = none;
				  * the owner's read fails and it answers */
	bool has_content_length;
	bool chunked;            /* the body is presented chunked */
	bool req_end;            /* END_STREAM received */
	bool last_chunk_read;    /* "0\r\n\r\n" handed out */
	/* response */
	struct buf *resp;        /* written by the owner: the head, then body bytes */
	bool resp_submitted;     /* HEADERS submitted */
	bool resp_finished;      /* the owner's response is complete */
	bool deferred;           /* the data provider waits for bytes */
	bool closed;             /* nghttp2 is done with the stream */
};

struct h2_server {
	nghttp2_session *session;
	struct conn *conn;       /* borrowed: the client connection */
	struct loop *loop;
	struct buf_pool *bufs;
	const struct h2_server_ops *ops;
	void *owner;
	struct h2_limits limits;
	struct list streams;
	struct list events;
	size_t active;           /* streams with an owner */
	struct buf *out;         /* frames gathered for one write */
	const uint8_t *pending;  /* a frame nghttp2 gave that did not fit in out */
	size_t pending_len;
	struct loop_defer kick;  /* run again at the end of the turn */
	uint64_t control_window_ms;
	uint32_t control_frames;
	bool shutting_down;
};

/* Runs the session again at the end of this turn (frames to send). */
void h2_kick(struct h2_server *s);

/* Queues events for the stream's owner, delivered by the session. */
void h2_notify(struct h2_stream *st, uint32_t events);

/* Frees a stream nghttp2 and its owner are both done with. */
void h2_stream_free(struct h2_stream *st);

/* Appends n bytes if they fit; false (nothing written) if not. */
bool h2_append(struct buf *b, const char *p, size_t n);

static inline nghttp2_nv h2_nv(const char *name, size_t name_len, const char *value,
			       size_t value_len)
{
	nghttp2_nv nv = { (uint8_t *)name, (uint8_t *)value, name_len, value_len,
			  NGHTTP2_NV_FLAG_NONE };
	return nv;
}

#endif
