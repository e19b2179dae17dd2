/*
 * fuzz_chunked: h1_chunked_decode, fed whole, byte by byte, and split at
 * points taken from the input.
 *
 * The contract says the result does not depend on how the input is split:
 * the concatenated payload, the bytes consumed and the final verdict (done,
 * error, or still waiting) must be the same for the three feedings; any
 * difference aborts. Each piece is an exact-size heap copy, so a read past
 * the piece is caught by ASan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1_parser.h"

enum verdict { V_WAITING, V_DONE, V_ERROR };

struct outcome {
	char *payload;  /* owned, concatenated data spans */
	size_t payload_len;
	size_t consumed;
	enum verdict verdict;
};

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_chunked: split feedings disagree: %s\n", what);
	abort();
}

/* Feeds one piece; returns false once the decoder is done or in error. */
static bool feed(struct h1_chunked *dec, const uint8_t *p, size_t len, struct outcome *o)
{
	char *piece = malloc(len ? len : 1);
	size_t off = 0;
	bool more = true;

	if (!piece)
		abort();
	memcpy(piece, p, len);
	while (off < len) {
		struct slice data;
		ssize_t n = h1_chunked_decode(dec, piece + off, len - off, &data);
		if (n < 0) {
			if (n != H1_ERR_BAD_REQUEST)
				fail("error code");
			struct slice again;
			if (h1_chunked_decode(dec, "0\r\n\r\n", 5, &again) != H1_ERR_BAD_REQUEST)
				fail("error is not final");
			o->verdict = V_ERROR;
			more = false;
			break;
		}
		if ((size_t)n > len - off)
			fail("consumed more than given");
		if (data.len) {
			if (data.ptr < piece + off || data.ptr + data.len > piece + off + (size_t)n)
				fail("data span outside the consumed bytes");
			memcpy(o->payload + o->payload_len, data.ptr, data.len);
			o->payload_len += data.len;
		}
		off += (size_t)n;
		o->consumed += (size_t)n;
		if (dec->done) {
			o->verdict = V_DONE;
			more = false;
			break;
		}
		if (n == 0)
			fail("no progress before done");
	}
	free(piece);
	return more;
}

static void run(const uint8_t *data, size_t size, const uint8_t *cuts, size_t ncuts,
		size_t step, struct outcome *o)
{
	struct h1_chunked dec;
	size_t at = 0, c = 0;

	h1_chunked_init(&dec);
	o->payload = malloc(size ? size : 1);
	o->payload_len = o->consumed = 0;
	o->verdict = V_WAITING;
	while (at < size) {
		size_t len;
		if (step)
			len = step;
		else if (cuts && c < ncuts)
			len = 1 + cuts[c++] % 64;
		else
			len = size - at;
		if (len > size - at)
			len = size - at;
		if (!feed(&dec, data + at, len, o))
			return;
		at += len;
	}
}

static void compare(const struct outcome *a, const struct outcome *b, const char *which)
{
	if (a->verdict != b->verdict)
		fail(which);
	if (a->payload_len != b->payload_len ||
	    memcmp(a->payload, b->payload, a->payload_len) != 0)
		fail(which);
	if (a->verdict != V_ERROR && a->consumed != b->consumed)
		fail(which);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, bytes, split;

	/* first byte: how many cut sizes follow (0-15); they drive the split */
	size_t ncuts = size ? (data[0] & 15u) : 0;
	if (size < 1 + ncuts)
		ncuts = size ? size - 1 : 0;
	const uint8_t *cuts = size ? data + 1 : NULL;
	const uint8_t *body = size ? data + 1 + ncuts : data;
	size_t len = size ? size - 1 - ncuts : 0;

	run(body, len, NULL, 0, 0, &whole);
	run(body, len, NULL, 0, 1, &bytes);
	run(body, len, cuts, ncuts, 0, &split);
	compare(&whole, &bytes, "whole vs byte by byte");
	compare(&whole, &split, "whole vs split");
	free(whole.payload);
	free(bytes.payload);
	free(split.payload);
	return 0;
}
