#include "core/buf.h"

#include <stdlib.h>
#include <string.h>

void buf_pool_init(struct buf_pool *pool, size_t buf_size, size_t max_free)
{
	pool->buf_size = buf_size;
	pool->max_free = max_free;
	pool->num_free = 0;
	pool->free = NULL;
}

void buf_pool_deinit(struct buf_pool *pool)
{
	while (pool->free) {
		struct buf *b = pool->free;
		pool->free = b->next_free;
		free(b);
	}
	pool->num_free = 0;
}

struct buf *buf_get(struct buf_pool *pool, size_t size)
{
	struct buf *b;

	if (size <= pool->buf_size && pool->free) {
		b = pool->free;
		pool->free = b->next_free;
		pool->num_free--;
	} else {
		size_t cap = size > pool->buf_size ? size : pool->buf_size;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
	}
	b->start = b->end = 0;
	b->next_free = NULL;
	return b;
}

void buf_put(struct buf_pool *pool, struct buf *b)
{
	if (!b)
		return;
	if (b->cap != pool->buf_size || pool->num_free >= pool->max_free) {
		free(b);
		return;
	}
	b->next_free = pool->free;
	pool->free = b;
	pool->num_free++;
}

void buf_compact(struct buf *b)
{
	if (b->start == 0)
		return;
	size_t n = buf_len(b);
	memmove(b->data, b->data + b->start, n);
	b->start = 0;
	b->end = n;
}

int buf_append(struct buf *b, const void *src, size_t len)
{
	if (buf_room(b) < len)
		return -1;
	if (len == 0)
		return 0;
	memcpy(b->data + b->end, src, len);
	b->end += len;
	return 0;
}
