/*
 * buf: a linear byte buffer with a read and a write position, and a
 * per-worker pool of equally sized buffers.
 *
 * Connections hold a buffer only while bytes are in flight: an idle
 * keep-alive connection holds none, so thousands of idle clients cost no
 * buffer memory (nginx's and HAProxy's lesson). The pool is a plain free
 * list owned by one worker thread: no locks.
 *
 * Rejected: ring buffers. Parsers want the head contiguous, and compacting
 * (memmove of the unread tail to the front) happens only when a head or a
 * chunk line straddles the end, which is rare with buffers larger than heads.
 */
#ifndef PORTICO_CORE_BUF_H
#define PORTICO_CORE_BUF_H

#include <stddef.h>

struct buf {
	size_t cap;
	size_t start; /* first unread byte */
	size_t end;   /* one past the last written byte */
	struct buf *next_free; /* pool free list link */
	char data[];
};

struct buf_pool {
	size_t buf_size;     /* capacity of pooled buffers */
	size_t max_free;     /* free buffers kept; more are returned to malloc */
	size_t num_free;
	struct buf *free;
};

void buf_pool_init(struct buf_pool *pool, size_t buf_size, size_t max_free);
void buf_pool_deinit(struct buf_pool *pool);

/* Returns an empty buffer of at least size bytes (pool size when size is 0),
 * or NULL when out of memory. */
struct buf *buf_get(struct buf_pool *pool, size_t size);

/* Gives the buffer back; NULL is a no-op. */
void buf_put(struct buf_pool *pool, struct buf *b);

static inline size_t buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline char *buf_head(struct buf *b)
{
	return b->data + b->start;
}

static inline char *buf_tail(struct buf *b)
{
	return b->data + b->end;
}

static inline size_t buf_room(const struct buf *b)
{
	return b->cap - b->end;
}

/* Drops n unread bytes; an emptied buffer is rewound to offset 0. */
static inline void buf_consume(struct buf *b, size_t n)
{
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

/* Moves unread bytes to the front so the whole room is at the tail. */
void buf_compact(struct buf *b);

/* Appends len bytes; returns 0, or -1 when they do not fit. */
int buf_append(struct buf *b, const void *src, size_t len);

#endif
