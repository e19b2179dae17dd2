/*
 * fuzz_request: h1_parse_request + h1_request_framing.
 *
 * The first input byte picks the limits (max_head and header capacity) so
 * the size checks are exercised as well as the grammar; the rest is the
 * request. Differential check: every request the parser accepts is written
 * out again in canonical form (method SP target SP HTTP/1.x CRLF, each
 * field "name: value" CRLF, CRLF) and must parse again to the same method,
 * target, version and fields, with the same framing verdict. A request
 * whose meaning changes when re-serialised is exactly what a proxy in front
 * of or behind portico would frame differently: abort().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1_parser.h"

#define MAX_FIELDS 256

static const size_t max_heads[8] = { 16384, 64, 128, 256, 1024, 4096, 65536, (size_t)-1 };
static const size_t capacities[4] = { 100, 0, 3, MAX_FIELDS };

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_request: differential check failed: %s\n", what);
	abort();
}

static size_t append(char *out, size_t at, const char *p, size_t n)
{
	memcpy(out + at, p, n);
	return at + n;
}

/* Canonical form of a parsed request; returns its length. out must hold
 * 2 * head_len + 32 bytes (each field gains at most ": " and nothing else). */
static size_t serialise(const struct h1_request *req, char *out)
{
	size_t n = 0;
	n = append(out, n, req->method.ptr, req->method.len);
	n = append(out, n, " ", 1);
	n = append(out, n, req->target.ptr, req->target.len);
	n = append(out, n, req->minor_version ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", 11);
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http_header *h = &req->headers[i];
		n = append(out, n, h->name.ptr, h->name.len);
		n = append(out, n, ": ", 2);
		n = append(out, n, h->value.ptr, h->value.len);
		n = append(out, n, "\r\n", 2);
	}
	return append(out, n, "\r\n", 2);
}

static void check_framing(int rc1, const struct h1_request_framing *a, int rc2,
			  const struct h1_request_framing *b)
{
	if (rc1 != rc2)
		fail("framing verdict");
	if (rc1 != 0)
		return;
	if (a->body != b->body)
		fail("body kind");
	if (a->body == H1_BODY_LENGTH && a->content_length != b->content_length)
		fail("content length");
	if (a->keep_alive != b->keep_alive)
		fail("keep-alive");
	if (a->expect_continue != b->expect_continue)
		fail("expect-continue");
	if (a->upgrade != b->upgrade)
		fail("upgrade");
	if (a->has_host != b->has_host || !slice_eq(a->host, b->host))
		fail("host");
}

static void differential(const struct h1_request *req, size_t head_len)
{
	char *copy = malloc(2 * head_len + 32);
	struct http_header fields[MAX_FIELDS];
	struct h1_request again = { .headers = fields, .num_headers = req->num_headers };
	struct h1_request_framing f1, f2;

	if (!copy)
		abort();
	size_t len = serialise(req, copy);
	/* the canonical form may be longer (": "), so no size limit here */
	int n = h1_parse_request(copy, len, &again, (size_t)-1);
	if (n < 0)
		fail("re-serialised request refused");
	if ((size_t)n != len)
		fail("re-serialised head length");
	if (!slice_eq(req->method, again.method))
		fail("method");
	if (!slice_eq(req->target, again.target))
		fail("target");
	if (req->minor_version != again.minor_version)
		fail("version");
	if (req->num_headers != again.num_headers)
		fail("field count");
	for (size_t i = 0; i < req->num_headers; i++)
		if (!slice_eq(req->headers[i].name, again.headers[i].name) ||
		    !slice_eq(req->headers[i].value, again.headers[i].value))
			fail("field");
	int rc1 = h1_request_framing(req, &f1);
	int rc2 = h1_request_framing(&again, &f2);
	check_framing(rc1, &f1, rc2, &f2);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header fields[MAX_FIELDS];
	struct h1_request req;

	if (size < 1)
		return 0;
	size_t max_head = max_heads[data[0] & 7];
	size_t cap = capacities[(data[0] >> 3) & 3];
	/* an exact-size heap copy, so reading one byte too far is caught */
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);

	req.headers = fields;
	req.num_headers = cap;
	int n = h1_parse_request(buf, len, &req, max_head);
	if (n > 0) {
		if ((size_t)n > len || req.num_headers > cap)
			fail("result out of bounds");
		if (req.minor_version != 0 && req.minor_version != 1)
			fail("minor version");
		struct h1_request_framing f;
		int rc = h1_request_framing(&req, &f);
		if (rc != 0 && rc != H1_ERR_BAD_REQUEST && rc != H1_ERR_NOT_IMPLEMENTED)
			fail("framing return");
		differential(&req, (size_t)n);
		/* a complete head must also parse the same when it is all there is */
		struct h1_request alone = { .headers = fields, .num_headers = cap };
		if (h1_parse_request(buf, (size_t)n, &alone, max_head) != n)
			fail("head alone");
	} else if (n != H1_INCOMPLETE && n != H1_ERR_BAD_REQUEST && n != H1_ERR_URI_TOO_LONG &&
		   n != H1_ERR_HEADER_TOO_LARGE && n != H1_ERR_NOT_IMPLEMENTED) {
		fail("parse return");
	} else if (req.num_headers != cap) {
		fail("num_headers changed on failure");
	}
	free(buf);
	return 0;
}
