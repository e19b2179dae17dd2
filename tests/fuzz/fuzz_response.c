/*
 * fuzz_response: h1_parse_response + h1_response_framing.
 *
 * First byte: bit 0 request_was_head, bits 1-3 max_head, bits 4-5 header
 * capacity; the rest is the response. Checks the contract's invariants
 * (bounds, status range, framing consistent with the status and with HEAD)
 * and leaves memory errors to the sanitizers.
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
	fprintf(stderr, "fuzz_response: invariant broken: %s\n", what);
	abort();
}

static void check_framing(const struct h1_response *res, bool head,
			  const struct h1_response_framing *f)
{
	bool no_body = head || res->status < 200 || res->status == 204 || res->status == 304;
	if (no_body && f->body != H1_BODY_NONE)
		fail("body on a response that cannot have one");
	if (f->body == H1_BODY_UNTIL_CLOSE && f->keep_alive)
		fail("keep-alive with a close-delimited body");
	if (f->body == H1_BODY_LENGTH && !f->has_content_length)
		fail("length body without Content-Length");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_header fields[MAX_FIELDS];
	struct h1_response res;

	if (size < 1)
		return 0;
	bool head = data[0] & 1;
	size_t max_head = max_heads[(data[0] >> 1) & 7];
	size_t cap = capacities[(data[0] >> 4) & 3];
	size_t len = size - 1;
	char *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, len);

	res.headers = fields;
	res.num_headers = cap;
	int n = h1_parse_response(buf, len, &res, max_head);
	if (n > 0) {
		if ((size_t)n > len || res.num_headers > cap)
			fail("result out of bounds");
		if (res.status < 100 || res.status > 999)
			fail("status range");
		if (res.minor_version != 0 && res.minor_version != 1)
			fail("minor version");
		struct h1_response_framing f;
		int rc = h1_response_framing(&res, head, &f);
		if (rc == 0)
			check_framing(&res, head, &f);
		else if (rc != H1_ERR_BAD_RESPONSE)
			fail("framing return");
		struct h1_response alone = { .headers = fields, .num_headers = cap };
		if (h1_parse_response(buf, (size_t)n, &alone, max_head) != n)
			fail("head alone");
	} else if (n != H1_INCOMPLETE && n != H1_ERR_BAD_RESPONSE && n != H1_ERR_HEADER_TOO_LARGE) {
		fail("parse return");
	} else if (res.num_headers != cap) {
		fail("num_headers changed on failure");
	}
	free(buf);
	return 0;
}
