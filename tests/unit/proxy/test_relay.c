/*
 * Tests for proxy/relay: one message body (after an optional head) moved
 * from a source conn's buffer to a destination conn.
 *
 * Two non-blocking socketpairs stand in for the connections: the test writes
 * into the far end of the source pair and reads from the far end of the
 * destination pair. Epoll edges are simulated with conn_note_events, as the
 * loop would deliver them.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "proxy/relay.h"

static int src_pair[2] = { -1, -1 }; /* [0] relay reads, [1] test writes */
static int dst_pair[2] = { -1, -1 }; /* [0] relay writes, [1] test reads */
static struct conn src, dst;
static struct buf_pool pool;
static struct buf *src_buf;
static struct relay r;

static char got[8192];
static size_t got_len;

static void setup(void)
{
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, src_pair), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, dst_pair), 0);
	src = (struct conn){ .io = { .fd = src_pair[0] }, .ops = &transport_tcp,
			     .readable = true, .writable = true };
	dst = (struct conn){ .io = { .fd = dst_pair[0] }, .ops = &transport_tcp,
			     .readable = true, .writable = true };
	buf_pool_init(&pool, 4096, 4);
	src_buf = NULL;
	got_len = 0;
}

static void teardown(void)
{
	buf_put(&pool, src_buf);
	buf_pool_deinit(&pool);
	for (int i = 0; i < 2; i++) {
		if (src_pair[i] >= 0)
			close(src_pair[i]);
		if (dst_pair[i] >= 0)
			close(dst_pair[i]);
		src_pair[i] = dst_pair[i] = -1;
	}
}

TestSuite(relay, .init = setup, .fini = teardown, .timeout = 20);

/* The far end sends bytes; the source sees a readable edge. */
static void feed(const char *p, size_t len)
{
	cr_assert_eq(write(src_pair[1], p, len), (ssize_t)len);
	conn_note_events(&src, EPOLLIN);
}

static void feed_str(const char *s)
{
	feed(s, strlen(s));
}

/* The far end closes its side after what it sent (FIN with the data). */
static void feed_eof(void)
{
	cr_assert_eq(shutdown(src_pair[1], SHUT_WR), 0);
	conn_note_events(&src, EPOLLIN | EPOLLRDHUP);
}

/* Reads everything the destination's far end has received so far. */
static void drain(void)
{
	ssize_t n;

	while ((n = read(dst_pair[1], got + got_len, sizeof(got) - got_len)) > 0)
		got_len += (size_t)n;
	cr_assert(n < 0 && errno == EAGAIN, "unexpected EOF or error on destination");
}

static enum relay_result run(void)
{
	return relay_run(&r, &src, &src_buf, &dst, &pool);
}

#define expect_got(lit)                                                                 \
	do {                                                                            \
		drain();                                                                \
		cr_expect_eq(got_len, sizeof(lit) - 1, "got %zu bytes: '%.*s'", got_len, \
			     (int)got_len, got);                                        \
		cr_expect_eq(memcmp(got, lit, sizeof(lit) - 1), 0, "got '%.*s'",       \
			     (int)got_len, got);                                        \
	} while (0)

#define expect_left(lit)                                                                \
	do {                                                                            \
		cr_assert_not_null(src_buf);                                            \
		cr_expect_eq(buf_len(src_buf), sizeof(lit) - 1, "left %zu bytes",       \
			     buf_len(src_buf));                                         \
		cr_expect_eq(memcmp(buf_head(src_buf), lit, sizeof(lit) - 1), 0);       \
	} while (0)

/* --- Content-Length -------------------------------------------------------- */

Test(relay, content_length_exact_and_pipelined_bytes_kept)
{
	relay_init(&r, H1_BODY_LENGTH, 11, false);
	feed_str("hello worldGET /next HTTP/1.1\r\n\r\n");
	cr_expect_eq(run(), RELAY_DONE);
	cr_expect(relay_finished(&r));
	expect_got("hello world");
	expect_left("GET /next HTTP/1.1\r\n\r\n");
	cr_expect_eq(r.written, 11);
	cr_expect_eq(r.payload, 11);
}

Test(relay, content_length_in_pieces)
{
	relay_init(&r, H1_BODY_LENGTH, 10, false);
	feed_str("0123");
	cr_expect_eq(run(), RELAY_WANT_READ);
	cr_expect_not(relay_finished(&r));
	feed_str("456");
	cr_expect_eq(run(), RELAY_WANT_READ);
	feed_str("789");
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("0123456789");
	cr_expect_eq(buf_len(src_buf), 0);
}

Test(relay, body_bytes_already_buffered_need_no_read)
{
	src_buf = buf_get(&pool, 0);
	cr_assert_eq(buf_append(src_buf, "abcdeXYZ", 8), 0);
	src.readable = false;
	relay_init(&r, H1_BODY_LENGTH, 5, false);
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("abcde");
	expect_left("XYZ");
}

Test(relay, head_written_before_body)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";

	relay_init(&r, H1_BODY_LENGTH, 5, false);
	relay_set_head(&r, head, sizeof(head) - 1);
	feed_str("abcde");
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabcde");
	cr_expect_eq(r.head_len, 0);
	cr_expect_eq(r.written, sizeof(head) - 1 + 5);
}

Test(relay, head_written_even_before_body_arrives)
{
	static const char head[] = "HTTP/1.1 200 OK\r\n\r\n";

	relay_init(&r, H1_BODY_LENGTH, 3, false);
	relay_set_head(&r, head, sizeof(head) - 1);
	src.readable = false;
	cr_expect_eq(run(), RELAY_WANT_READ);
	expect_got("HTTP/1.1 200 OK\r\n\r\n");
}

Test(relay, head_only_without_body_does_not_read)
{
	static const char head[] = "HTTP/1.1 204 No Content\r\n\r\n";

	relay_init(&r, H1_BODY_NONE, 0, false);
	relay_set_head(&r, head, sizeof(head) - 1);
	feed_str("NEXT");
	cr_expect_eq(run(), RELAY_DONE);
	cr_expect(relay_finished(&r));
	expect_got("HTTP/1.1 204 No Content\r\n\r\n");
	cr_expect_null(src_buf, "nothing was read from the source");
}

Test(relay, zero_length_body_is_done_at_once)
{
	relay_init(&r, H1_BODY_LENGTH, 0, false);
	feed_str("NEXT");
	cr_expect_eq(run(), RELAY_DONE);
	cr_expect_null(src_buf);
	drain();
	cr_expect_eq(got_len, 0);
}

/* --- chunked ----------------------------------------------------------------- */

#define CHUNKED_BODY "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n"

Test(relay, chunked_raw_pass_through)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	feed_str(CHUNKED_BODY "NEXT");
	cr_expect_eq(run(), RELAY_DONE);
	expect_got(CHUNKED_BODY);
	expect_left("NEXT");
	cr_expect_eq(r.payload, 11);
}

Test(relay, chunked_raw_split_byte_by_byte)
{
	static const char body[] = CHUNKED_BODY;

	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	enum relay_result res = RELAY_WANT_READ;
	for (size_t i = 0; i < sizeof(body) - 1; i++) {
		cr_assert_eq(res, RELAY_WANT_READ, "stopped early at byte %zu", i);
		feed(body + i, 1);
		res = run();
	}
	cr_expect_eq(res, RELAY_DONE);
	expect_got(CHUNKED_BODY);
}

Test(relay, dechunk_outputs_only_payload)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	feed_str(CHUNKED_BODY "NEXT");
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("hello world");
	expect_left("NEXT");
	cr_expect_eq(r.payload, 11);
}

Test(relay, dechunk_split_byte_by_byte)
{
	static const char body[] = CHUNKED_BODY;

	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	enum relay_result res = RELAY_WANT_READ;
	for (size_t i = 0; i < sizeof(body) - 1; i++) {
		cr_assert_eq(res, RELAY_WANT_READ, "stopped early at byte %zu", i);
		feed(body + i, 1);
		res = run();
	}
	cr_expect_eq(res, RELAY_DONE);
	expect_got("hello world");
}

Test(relay, dechunk_from_buffered_bytes)
{
	src_buf = buf_get(&pool, 0);
	cr_assert_eq(buf_append(src_buf, "3\r\nabc\r\n0\r\n\r\nGET", 16), 0);
	src.readable = false;
	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("abc");
	expect_left("GET");
}

Test(relay, bad_chunked_framing)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	feed_str("zz\r\nhello\r\n0\r\n\r\n");
	cr_expect_eq(run(), RELAY_BAD_FRAMING);
	drain();
	cr_expect_eq(got_len, 0, "nothing invalid was forwarded");
}

Test(relay, bad_chunk_terminator_after_valid_chunk)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	feed_str("3\r\nabcX\r\n0\r\n\r\n");
	enum relay_result res = run();
	cr_expect_eq(res, RELAY_BAD_FRAMING);
}

Test(relay, bad_framing_in_dechunk_mode)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	feed_str("-1\r\n\r\n");
	cr_expect_eq(run(), RELAY_BAD_FRAMING);
}

/* --- until close ------------------------------------------------------------- */

Test(relay, until_close_ends_at_eof)
{
	relay_init(&r, H1_BODY_UNTIL_CLOSE, 0, false);
	feed_str("abc");
	cr_expect_eq(run(), RELAY_WANT_READ);
	cr_expect_not(r.body_done);
	feed_str("def");
	feed_eof();
	cr_expect_eq(run(), RELAY_DONE);
	cr_expect(r.source_eof);
	cr_expect(relay_finished(&r));
	expect_got("abcdef");
}

Test(relay, until_close_empty_body)
{
	relay_init(&r, H1_BODY_UNTIL_CLOSE, 0, false);
	feed_eof();
	cr_expect_eq(run(), RELAY_DONE);
	drain();
	cr_expect_eq(got_len, 0);
}

/* --- early end --------------------------------------------------------------- */

Test(relay, source_eof_before_content_length)
{
	relay_init(&r, H1_BODY_LENGTH, 10, false);
	feed_str("abcd");
	feed_eof();
	enum relay_result res;
	int guard = 0;
	while ((res = run()) == RELAY_WANT_READ && guard++ < 4)
		conn_note_events(&src, EPOLLIN | EPOLLRDHUP);
	cr_expect_eq(res, RELAY_SOURCE_EOF);
	cr_expect(r.source_eof);
	cr_expect_not(relay_finished(&r));
	expect_got("abcd");
}

Test(relay, source_eof_inside_chunked)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	feed_str("5\r\nhel");
	feed_eof();
	enum relay_result res;
	int guard = 0;
	while ((res = run()) == RELAY_WANT_READ && guard++ < 4)
		conn_note_events(&src, EPOLLIN | EPOLLRDHUP);
	cr_expect_eq(res, RELAY_SOURCE_EOF);
}

/* --- limits and errors ------------------------------------------------------- */

Test(relay, max_payload_exceeded_content_length)
{
	relay_init(&r, H1_BODY_LENGTH, 20, false);
	r.max_payload = 10;
	feed_str("01234567890123456789");
	cr_expect_eq(run(), RELAY_TOO_LARGE);
}

Test(relay, max_payload_exactly_reached_is_fine)
{
	relay_init(&r, H1_BODY_LENGTH, 10, false);
	r.max_payload = 10;
	feed_str("0123456789");
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("0123456789");
}

Test(relay, max_payload_exceeded_chunked)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	r.max_payload = 8;
	feed_str("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n");
	cr_expect_eq(run(), RELAY_TOO_LARGE);
}

Test(relay, max_payload_counts_payload_not_framing)
{
	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	r.max_payload = 11;
	feed_str(CHUNKED_BODY);
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("hello world");
}

Test(relay, destination_closed_is_dest_error)
{
	signal(SIGPIPE, SIG_IGN);
	close(dst_pair[1]);
	dst_pair[1] = -1;
	relay_init(&r, H1_BODY_LENGTH, 3, false);
	feed_str("abc");
	cr_expect_eq(run(), RELAY_DEST_ERROR);
}

Test(relay, destination_not_writable_waits)
{
	relay_init(&r, H1_BODY_LENGTH, 3, false);
	dst.writable = false;
	feed_str("abc");
	cr_expect_eq(run(), RELAY_WANT_WRITE);
	drain();
	cr_expect_eq(got_len, 0);
	conn_note_events(&dst, EPOLLOUT);
	cr_expect_eq(run(), RELAY_DONE);
	expect_got("abc");
}

/* --- back-pressure ----------------------------------------------------------- */

#define BIG (4u << 20)

/* Feeds in[] into the source as fast as the socket takes it, reads the
 * destination only after RELAY_WANT_WRITE, and checks that what arrives is
 * exactly want[] (after head). */
static void full_destination_resumes(const char *in, size_t in_len, const char *head,
				     const char *want, size_t want_len)
{
	size_t head_len = head ? strlen(head) : 0;
	size_t expect_len = head_len + want_len;
	char *recv_all = malloc(expect_len + 1);
	size_t fed = 0, received = 0;
	int want_write = 0, turns = 0;
	enum relay_result res;
	ssize_t n;

	cr_assert_not_null(recv_all);
	if (head)
		relay_set_head(&r, head, head_len);
	for (;;) {
		cr_assert_lt(turns++, 100000, "no progress");
		while (fed < in_len && (n = write(src_pair[1], in + fed, in_len - fed)) > 0)
			fed += (size_t)n;
		uint32_t ev = EPOLLIN;
		if (fed == in_len && r.kind == H1_BODY_UNTIL_CLOSE) {
			shutdown(src_pair[1], SHUT_WR);
			ev |= EPOLLRDHUP;
		}
		conn_note_events(&src, ev);
		res = run();
		if (res == RELAY_DONE)
			break;
		if (res == RELAY_WANT_WRITE) {
			want_write++;
			cr_assert_not(dst.writable, "WANT_WRITE with the writable flag still set");
			/* Only now does the destination's reader catch up. */
			while ((n = read(dst_pair[1], recv_all + received,
					 expect_len + 1 - received)) > 0)
				received += (size_t)n;
			conn_note_events(&dst, EPOLLOUT);
		} else {
			cr_assert_eq(res, RELAY_WANT_READ, "unexpected result %d", res);
		}
	}
	while (received <= expect_len &&
	       (n = read(dst_pair[1], recv_all + received, expect_len + 1 - received)) > 0)
		received += (size_t)n;
	cr_expect_gt(want_write, 0, "the destination never filled up");
	cr_expect_eq(received, expect_len);
	cr_expect_eq(memcmp(recv_all, head ? head : "", head_len), 0);
	cr_expect_eq(memcmp(recv_all + head_len, want, want_len), 0, "body not byte-exact");
	cr_expect_eq(r.written, expect_len);
	free(recv_all);
}

static char *pattern(size_t len)
{
	char *p = malloc(len);

	cr_assert_not_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (char)(i * 7 + i / 4093);
	return p;
}

/* Encodes payload as chunks of varying sizes; *out_len gets the length. */
static char *chunk_encode(const char *payload, size_t len, size_t *out_len)
{
	char *enc = malloc(len + len / 100 * 16 + 64);
	size_t o = 0, i = 0, step = 100;

	cr_assert_not_null(enc);
	while (i < len) {
		size_t c = len - i < step ? len - i : step;
		o += (size_t)sprintf(enc + o, "%zx\r\n", c);
		memcpy(enc + o, payload + i, c);
		o += c;
		memcpy(enc + o, "\r\n", 2);
		o += 2;
		i += c;
		step = step * 3 % 9001 + 100;
	}
	memcpy(enc + o, "0\r\n\r\n", 5);
	*out_len = o + 5;
	return enc;
}

Test(relay, full_destination_content_length_resumes)
{
	char *body = pattern(BIG);

	relay_init(&r, H1_BODY_LENGTH, BIG, false);
	full_destination_resumes(body, BIG, "HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n",
				 body, BIG);
	free(body);
}

Test(relay, full_destination_until_close_resumes)
{
	char *body = pattern(BIG);

	relay_init(&r, H1_BODY_UNTIL_CLOSE, 0, false);
	full_destination_resumes(body, BIG, NULL, body, BIG);
	free(body);
}

Test(relay, full_destination_chunked_raw_resumes)
{
	char *body = pattern(BIG);
	size_t enc_len;
	char *enc = chunk_encode(body, BIG, &enc_len);

	relay_init(&r, H1_BODY_CHUNKED, 0, false);
	full_destination_resumes(enc, enc_len, NULL, enc, enc_len);
	cr_expect_eq(r.payload, BIG);
	free(enc);
	free(body);
}

Test(relay, full_destination_dechunk_resumes)
{
	char *body = pattern(BIG);
	size_t enc_len;
	char *enc = chunk_encode(body, BIG, &enc_len);

	relay_init(&r, H1_BODY_CHUNKED, 0, true);
	full_destination_resumes(enc, enc_len, "HTTP/1.0 200 OK\r\n\r\n", body, BIG);
	free(enc);
	free(body);
}
