/*
 * Tests for core/buf: the per-worker buffer pool (reuse, oversize buffers,
 * the max_free cap) and the read/write positions (consume, compact, append).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/buf.h"

#define POOL_SIZE 64

static struct buf_pool pool;

static void setup(void)
{
	buf_pool_init(&pool, POOL_SIZE, 2);
}

static void teardown(void)
{
	buf_pool_deinit(&pool);
}

TestSuite(buf, .init = setup, .fini = teardown);

Test(buf, get_returns_empty_buffer_of_pool_size)
{
	struct buf *b = buf_get(&pool, 0);

	cr_assert_not_null(b);
	cr_expect_eq(b->cap, POOL_SIZE);
	cr_expect_eq(buf_len(b), 0);
	cr_expect_eq(buf_room(b), POOL_SIZE);
	cr_expect_eq(buf_head(b), b->data);
	cr_expect_eq(buf_tail(b), b->data);
	buf_put(&pool, b);
}

Test(buf, smaller_request_gets_a_pool_sized_buffer)
{
	struct buf *b = buf_get(&pool, 10);

	cr_assert_not_null(b);
	cr_expect_eq(b->cap, POOL_SIZE);
	buf_put(&pool, b);
}

Test(buf, put_then_get_reuses_the_same_buffer_reset)
{
	struct buf *a = buf_get(&pool, 0);

	cr_assert_not_null(a);
	cr_assert_eq(buf_append(a, "hello", 5), 0);
	buf_consume(a, 2);
	buf_put(&pool, a);
	cr_expect_eq(pool.num_free, 1);

	struct buf *b = buf_get(&pool, 0);
	cr_expect_eq(b, a, "a freed buffer is reused");
	cr_expect_eq(pool.num_free, 0);
	cr_expect_eq(buf_len(b), 0, "reused buffer comes back empty");
	cr_expect_eq(b->start, 0);
	cr_expect_eq(b->end, 0);
	cr_expect_null(b->next_free);
	buf_put(&pool, b);
}

Test(buf, pool_is_lifo)
{
	struct buf *a = buf_get(&pool, 0);
	struct buf *b = buf_get(&pool, 0);

	cr_assert_neq(a, b);
	buf_put(&pool, a);
	buf_put(&pool, b);
	cr_expect_eq(pool.num_free, 2);
	struct buf *c = buf_get(&pool, 0);
	struct buf *d = buf_get(&pool, 0);
	cr_expect_eq(c, b, "most recently put comes back first");
	cr_expect_eq(d, a);
	cr_expect_eq(pool.num_free, 0);
	buf_put(&pool, c);
	buf_put(&pool, d);
}

Test(buf, larger_than_pool_is_allocated_and_not_pooled)
{
	struct buf *big = buf_get(&pool, POOL_SIZE * 4);

	cr_assert_not_null(big);
	cr_expect_geq(big->cap, POOL_SIZE * 4);
	cr_expect_eq(buf_room(big), big->cap);
	char fill[POOL_SIZE * 4];
	memset(fill, 'x', sizeof(fill));
	cr_expect_eq(buf_append(big, fill, sizeof(fill)), 0);
	buf_put(&pool, big);
	cr_expect_eq(pool.num_free, 0, "an oversize buffer is freed, not pooled");
	cr_expect_null(pool.free);
}

Test(buf, larger_request_does_not_take_a_pooled_buffer)
{
	struct buf *small = buf_get(&pool, 0);
	buf_put(&pool, small);
	cr_assert_eq(pool.num_free, 1);

	struct buf *big = buf_get(&pool, POOL_SIZE + 1);
	cr_assert_not_null(big);
	cr_expect_neq(big, small);
	cr_expect_geq(big->cap, POOL_SIZE + 1);
	cr_expect_eq(pool.num_free, 1, "the pooled buffer is still there");
	buf_put(&pool, big);
	cr_expect_eq(pool.num_free, 1);
}

Test(buf, max_free_is_respected)
{
	struct buf *b[4];

	for (int i = 0; i < 4; i++) {
		b[i] = buf_get(&pool, 0);
		cr_assert_not_null(b[i]);
	}
	for (int i = 0; i < 4; i++)
		buf_put(&pool, b[i]);
	cr_expect_eq(pool.num_free, 2, "only max_free buffers are kept");
	size_t n = 0;
	for (struct buf *f = pool.free; f; f = f->next_free)
		n++;
	cr_expect_eq(n, 2, "free list length matches num_free");
}

Test(buf, max_free_zero_keeps_nothing)
{
	struct buf_pool p0;

	buf_pool_init(&p0, POOL_SIZE, 0);
	struct buf *b = buf_get(&p0, 0);
	cr_assert_not_null(b);
	buf_put(&p0, b);
	cr_expect_eq(p0.num_free, 0);
	cr_expect_null(p0.free);
	buf_pool_deinit(&p0);
}

Test(buf, put_null_is_a_noop)
{
	buf_put(&pool, NULL);
	cr_expect_eq(pool.num_free, 0);
}

Test(buf, deinit_empties_the_pool)
{
	struct buf *a = buf_get(&pool, 0), *b = buf_get(&pool, 0);

	buf_put(&pool, a);
	buf_put(&pool, b);
	buf_pool_deinit(&pool);
	cr_expect_eq(pool.num_free, 0);
	cr_expect_null(pool.free);
}

Test(buf, consume_partial_keeps_position)
{
	struct buf *b = buf_get(&pool, 0);

	cr_assert_eq(buf_append(b, "abcdef", 6), 0);
	buf_consume(b, 2);
	cr_expect_eq(buf_len(b), 4);
	cr_expect_eq(b->start, 2);
	cr_expect_eq(memcmp(buf_head(b), "cdef", 4), 0);
	cr_expect_eq(buf_room(b), POOL_SIZE - 6, "room is at the tail only");
	buf_put(&pool, b);
}

Test(buf, consume_to_empty_rewinds)
{
	struct buf *b = buf_get(&pool, 0);

	cr_assert_eq(buf_append(b, "abcdef", 6), 0);
	buf_consume(b, 4);
	buf_consume(b, 2);
	cr_expect_eq(buf_len(b), 0);
	cr_expect_eq(b->start, 0, "an emptied buffer is rewound");
	cr_expect_eq(b->end, 0);
	cr_expect_eq(buf_room(b), POOL_SIZE);
	buf_put(&pool, b);
}

Test(buf, compact_moves_unread_bytes_to_front)
{
	struct buf *b = buf_get(&pool, 0);

	cr_assert_eq(buf_append(b, "0123456789", 10), 0);
	buf_consume(b, 7);
	cr_expect_eq(buf_room(b), POOL_SIZE - 10);
	buf_compact(b);
	cr_expect_eq(b->start, 0);
	cr_expect_eq(b->end, 3);
	cr_expect_eq(buf_len(b), 3);
	cr_expect_eq(memcmp(buf_head(b), "789", 3), 0);
	cr_expect_eq(buf_room(b), POOL_SIZE - 3);
	buf_put(&pool, b);
}

Test(buf, compact_overlapping_move_is_byte_exact)
{
	struct buf *b = buf_get(&pool, 0);
	char src[POOL_SIZE];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (char)('A' + i % 26);
	cr_assert_eq(buf_append(b, src, sizeof(src)), 0);
	cr_expect_eq(buf_room(b), 0);
	buf_consume(b, 5);
	buf_compact(b);
	cr_expect_eq(buf_len(b), POOL_SIZE - 5);
	cr_expect_eq(memcmp(buf_head(b), src + 5, POOL_SIZE - 5), 0);
	cr_expect_eq(buf_room(b), 5);
	buf_put(&pool, b);
}

Test(buf, compact_at_front_changes_nothing)
{
	struct buf *b = buf_get(&pool, 0);

	cr_assert_eq(buf_append(b, "xyz", 3), 0);
	buf_compact(b);
	cr_expect_eq(b->start, 0);
	cr_expect_eq(b->end, 3);
	cr_expect_eq(memcmp(buf_head(b), "xyz", 3), 0);
	buf_put(&pool, b);
}

Test(buf, append_fills_exactly_then_refuses)
{
	struct buf *b = buf_get(&pool, 0);
	char block[POOL_SIZE];

	memset(block, 'q', sizeof(block));
	cr_expect_eq(buf_append(b, block, POOL_SIZE - 1), 0);
	cr_expect_eq(buf_append(b, "!", 1), 0, "the last byte fits");
	cr_expect_eq(buf_room(b), 0);
	cr_expect_eq(buf_append(b, "!", 1), -1, "one more does not");
	cr_expect_eq(buf_len(b), POOL_SIZE, "a refused append writes nothing");
	cr_expect_eq(buf_head(b)[POOL_SIZE - 1], '!');
	cr_expect_eq(buf_append(b, "", 0), 0, "empty append always fits");
	buf_put(&pool, b);
}

Test(buf, append_overflow_leaves_buffer_unchanged)
{
	struct buf *b = buf_get(&pool, 0);
	char block[POOL_SIZE + 1];

	memset(block, 'z', sizeof(block));
	cr_assert_eq(buf_append(b, "ab", 2), 0);
	cr_expect_eq(buf_append(b, block, POOL_SIZE - 1), -1);
	cr_expect_eq(buf_len(b), 2);
	cr_expect_eq(memcmp(buf_head(b), "ab", 2), 0);
	cr_expect_eq(buf_append(b, block, POOL_SIZE - 2), 0);
	cr_expect_eq(buf_len(b), POOL_SIZE);
	buf_put(&pool, b);
}

Test(buf, append_room_counts_only_the_tail)
{
	struct buf *b = buf_get(&pool, 0);
	char block[POOL_SIZE];

	memset(block, 'w', sizeof(block));
	cr_assert_eq(buf_append(b, block, POOL_SIZE), 0);
	buf_consume(b, 10);
	cr_expect_eq(buf_append(b, "x", 1), -1, "consumed head space is not room until compacted");
	buf_compact(b);
	cr_expect_eq(buf_append(b, block, 10), 0);
	cr_expect_eq(buf_len(b), POOL_SIZE);
	buf_put(&pool, b);
}
