/*
 * Tests for http/h1_parser: request and response heads, framing, the chunked
 * decoder and the small helpers.
 *
 * Every input is copied into a heap block of exactly its size before it is
 * parsed, so under ASan a read one byte past the input fails the test (the
 * guard-page habit of picohttpparser's tests).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/h1_parser.h"

#define MAX_HEAD 16384
#define MAX_HOLD 64

static struct http_header hdrs[256];
static struct h1_request req;
static struct h1_response res;
static char *held[MAX_HOLD];
static size_t nheld;

static void release_held(void)
{
	for (size_t i = 0; i < nheld; i++)
		free(held[i]);
	nheld = 0;
}

TestSuite(h1_parser, .fini = release_held);

/* An exact-size heap copy, kept until the test ends (slices point into it). */
static const char *hold(const char *s, size_t len)
{
	char *copy = malloc(len ? len : 1);

	cr_assert_not_null(copy);
	if (nheld == MAX_HOLD)
		release_held();
	memcpy(copy, s, len);
	held[nheld++] = copy;
	return copy;
}

static int preq_full(const char *s, size_t len, size_t cap, size_t max_head)
{
	memset(&req, 0, sizeof(req));
	req.headers = hdrs;
	req.num_headers = cap;
	return h1_parse_request(hold(s, len), len, &req, max_head);
}

static int preq(const char *s)
{
	return preq_full(s, strlen(s), 64, MAX_HEAD);
}

static int pres_full(const char *s, size_t len, size_t cap, size_t max_head)
{
	memset(&res, 0, sizeof(res));
	res.headers = hdrs;
	res.num_headers = cap;
	return h1_parse_response(hold(s, len), len, &res, max_head);
}

static int pres(const char *s)
{
	return pres_full(s, strlen(s), 64, MAX_HEAD);
}

static void assert_slice(struct slice s, const char *want)
{
	size_t n = strlen(want);

	cr_assert_eq(s.len, n, "length %zu, want %zu (\"%s\")", s.len, n, want);
	if (n)
		cr_assert(memcmp(s.ptr, want, n) == 0, "got \"%.*s\", want \"%s\"",
			  (int)s.len, s.ptr, want);
}

static void assert_header(size_t i, const char *name, const char *value)
{
	assert_slice(hdrs[i].name, name);
	assert_slice(hdrs[i].value, value);
}

/* Each input must give code, whole or cut short by nothing. */
static void assert_req_refused(const char *const *inputs, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(preq(inputs[i]), code, "input %zu: \"%s\"", i,
			     inputs[i]);
}

static void assert_res_refused(const char *const *inputs, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		cr_expect_eq(pres(inputs[i]), code, "input %zu: \"%s\"", i,
			     inputs[i]);
}

#define REQ_REFUSED(code, ...)                                                \
	do {                                                                  \
		const char *const in_[] = { __VA_ARGS__ };                    \
		assert_req_refused(in_, sizeof(in_) / sizeof(in_[0]), code);  \
	} while (0)

#define RES_REFUSED(code, ...)                                                \
	do {                                                                  \
		const char *const in_[] = { __VA_ARGS__ };                    \
		assert_res_refused(in_, sizeof(in_) / sizeof(in_[0]), code);  \
	} while (0)

/* ---- valid requests ----------------------------------------------------- */

Test(h1_parser, get_simple)
{
	const char *s = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
			"User-Agent: t/1\r\n\r\n";

	cr_assert_eq(preq(s), (int)strlen(s));
	assert_slice(req.method, "GET");
	assert_slice(req.target, "/index.html?q=1");
	cr_assert_eq(req.minor_version, 1);
	cr_assert_eq(req.num_headers, 2);
	assert_header(0, "Host", "example.com");
	assert_header(1, "User-Agent", "t/1");
}

Test(h1_parser, post_with_body_after_head)
{
	const char *head = "POST /submit HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: 5\r\n\r\n";
	char buf[256];

	snprintf(buf, sizeof(buf), "%shello", head);
	cr_assert_eq(preq(buf), (int)strlen(head));
	assert_slice(req.method, "POST");
	assert_header(1, "Content-Length", "5");
}

Test(h1_parser, pipelined_returns_first_head)
{
	const char *one = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
	char buf[128];

	snprintf(buf, sizeof(buf), "%sGET /2 HTTP/1.1\r\nHost: a\r\n\r\n", one);
	cr_assert_eq(preq(buf), (int)strlen(one));
	assert_slice(req.target, "/1");
}

Test(h1_parser, chunked_request_head)
{
	const char *s = "PUT /u HTTP/1.1\r\nHost: a\r\n"
			"Transfer-Encoding: chunked\r\n\r\n";

	cr_assert_eq(preq(s), (int)strlen(s));
	assert_header(1, "Transfer-Encoding", "chunked");
}

Test(h1_parser, target_forms)
{
	cr_assert_gt(preq("GET http://example.com:8080/a/b?c=d HTTP/1.1\r\n"
			  "Host: example.com:8080\r\n\r\n"), 0);
	assert_slice(req.target, "http://example.com:8080/a/b?c=d");
	cr_assert_gt(preq("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	assert_slice(req.method, "OPTIONS");
	assert_slice(req.target, "*");
	cr_assert_gt(preq("CONNECT example.com:443 HTTP/1.1\r\n"
			  "Host: example.com:443\r\n\r\n"), 0);
	assert_slice(req.target, "example.com:443");
}

Test(h1_parser, target_obs_text_accepted)
{
	cr_assert_gt(preq("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	assert_slice(req.target, "/caf\xc3\xa9");
}

Test(h1_parser, http10_without_headers)
{
	const char *s = "GET / HTTP/1.0\r\n\r\n";

	cr_assert_eq(preq(s), (int)strlen(s));
	cr_assert_eq(req.minor_version, 0);
	cr_assert_eq(req.num_headers, 0);
}

Test(h1_parser, leading_empty_lines_skipped)
{
	const char *s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";

	cr_assert_eq(preq(s), (int)strlen(s));
	assert_slice(req.method, "GET");
}

Test(h1_parser, token_method_and_names)
{
	cr_assert_gt(preq("M-SEARCH! * HTTP/1.1\r\nHost: a\r\n"
			  "X-a.b_c~d|e^f`g#h$i%j&k'l*m+n: v\r\n\r\n"), 0);
	assert_slice(req.method, "M-SEARCH!");
	assert_slice(hdrs[1].name, "X-a.b_c~d|e^f`g#h$i%j&k'l*m+n");
}

Test(h1_parser, many_headers)
{
	char buf[8192];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");

	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "X-Header-%d: value %d\r\n", i, i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
	cr_assert_eq(preq_full(buf, n, 100, MAX_HEAD), (int)n);
	cr_assert_eq(req.num_headers, 100);
	assert_header(0, "X-Header-0", "value 0");
	assert_header(99, "X-Header-99", "value 99");
}

Test(h1_parser, values_trimmed_of_ows)
{
	cr_assert_gt(preq("GET / HTTP/1.1\r\nA:   x y \t \r\nB:\t\tz\r\n"
			  "C:\r\nD:    \r\nE:v\r\n\r\n"), 0);
	assert_header(0, "A", "x y");
	assert_header(1, "B", "z");
	assert_header(2, "C", "");
	assert_header(3, "D", "");
	assert_header(4, "E", "v");
}

Test(h1_parser, value_tab_and_obs_text)
{
	cr_assert_gt(preq("GET / HTTP/1.1\r\nX: a\tb \xff\x80 caf\xc3\xa9\r\n"
			  "\r\n"), 0);
	assert_header(0, "X", "a\tb \xff\x80 caf\xc3\xa9");
}

Test(h1_parser, num_headers_untouched_unless_success)
{
	cr_assert_eq(preq_full("GET / HTTP/1.1\r\nA: b\r\n", 22, 7, MAX_HEAD),
		     H1_INCOMPLETE);
	cr_assert_eq(req.num_headers, 7);
	cr_assert_eq(preq_full("GET / HTTP/1.1\r\nA : b\r\n\r\n", 25, 7,
			       MAX_HEAD), H1_ERR_BAD_REQUEST);
	cr_assert_eq(req.num_headers, 7);
}

Test(h1_parser, empty_input_incomplete)
{
	cr_assert_eq(preq(""), H1_INCOMPLETE);
	cr_assert_eq(pres(""), H1_INCOMPLETE);
	cr_assert_eq(preq("\r\n"), H1_INCOMPLETE);
	cr_assert_eq(preq("\r"), H1_INCOMPLETE);
}

/* ---- request refusals, one rule each ------------------------------------ */

Test(h1_parser, refuse_method_not_token)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GE\"T / HTTP/1.1\r\n\r\n",
		    "G(ET / HTTP/1.1\r\n\r\n", " / HTTP/1.1\r\n\r\n",
		    "GET\t/ HTTP/1.1\r\n\r\n", "G\x01T / HTTP/1.1\r\n\r\n",
		    "G\xc3\xa9T / HTTP/1.1\r\n\r\n");
}

Test(h1_parser, refuse_target_control_or_space)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET /a\x01z HTTP/1.1\r\n\r\n",
		    "GET /a\x7fz HTTP/1.1\r\n\r\n", "GET /a\tz HTTP/1.1\r\n\r\n",
		    "GET /a z HTTP/1.1\r\n\r\n");
	cr_assert_eq(preq_full("GET /a\0z HTTP/1.1\r\n\r\n", 21, 8, MAX_HEAD),
		     H1_ERR_BAD_REQUEST);
}

Test(h1_parser, refuse_extra_spaces)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET  / HTTP/1.1\r\n\r\n",
		    "GET /  HTTP/1.1\r\n\r\n", "GET / HTTP/1.1 \r\n\r\n",
		    "GET / HTTP/1.1\t\r\n\r\n");
}

Test(h1_parser, refuse_version)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.2\r\n\r\n",
		    "GET / HTTP/2.0\r\n\r\n", "GET / HTTP/0.9\r\n\r\n",
		    "GET / http/1.1\r\n\r\n", "GET / HTTP/1.10\r\n\r\n",
		    "GET / HTTP/1\r\n\r\n", "GET /\r\n\r\n",
		    "GET / HTTPS/1.1\r\n\r\n");
}

Test(h1_parser, refuse_bare_lf)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.1\nHost: a\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost: a\n\r\n",
		    "GET / HTTP/1.1\r\nHost: a\r\n\n",
		    "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

Test(h1_parser, refuse_bare_cr)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.1\rHost: a\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost: a\r\n\rX",
		    "\r\rGET / HTTP/1.1\r\n\r\n");
}

Test(h1_parser, refuse_obs_fold)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST,
		    "GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: a\r\n\r\n",
		    "GET / HTTP/1.1\r\nX: a\r\n\tb\r\nHost: a\r\n\r\n",
		    "GET / HTTP/1.1\r\n Host: a\r\n\r\n");
}

Test(h1_parser, refuse_whitespace_before_colon)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n");
}

Test(h1_parser, refuse_name_not_token)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.1\r\nX(y: a\r\n\r\n",
		    "GET / HTTP/1.1\r\n: a\r\n\r\n",
		    "GET / HTTP/1.1\r\nX\xc3\xa9: a\r\n\r\n",
		    "GET / HTTP/1.1\r\nHost a\r\n\r\n",
		    "GET / HTTP/1.1\r\nNoColon\r\n\r\n");
}

Test(h1_parser, refuse_control_in_value)
{
	REQ_REFUSED(H1_ERR_BAD_REQUEST, "GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n",
		    "GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n",
		    "GET / HTTP/1.1\r\nX: a\x1bz\r\n\r\n");
	cr_assert_eq(preq_full("GET / HTTP/1.1\r\nX: a\0z\r\n\r\n", 26, 8,
			       MAX_HEAD), H1_ERR_BAD_REQUEST);
}

/* ---- limits ------------------------------------------------------------- */

static char *make_request(size_t target_len, size_t value_len)
{
	char *s = malloc(target_len + value_len + 64);
	size_t n = 0;

	n += (size_t)sprintf(s, "GET /");
	memset(s + n, 'a', target_len);
	n += target_len;
	n += (size_t)sprintf(s + n, " HTTP/1.1\r\nX: ");
	memset(s + n, 'b', value_len);
	n += value_len;
	sprintf(s + n, "\r\n\r\n");
	return s;
}

Test(h1_parser, uri_too_long)
{
	char *s = make_request(300, 1);

	cr_assert_eq(preq_full(s, strlen(s), 8, 100), H1_ERR_URI_TOO_LONG);
	cr_assert_eq(preq_full(s, 100, 8, 100), H1_ERR_URI_TOO_LONG);
	cr_assert_eq(preq_full(s, 99, 8, 100), H1_INCOMPLETE);
	free(s);
}

Test(h1_parser, header_too_large)
{
	char *s = make_request(10, 300);

	cr_assert_eq(preq_full(s, strlen(s), 8, 100), H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(preq_full(s, 100, 8, 100), H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(preq_full(s, 99, 8, 100), H1_INCOMPLETE);
	free(s);
}

Test(h1_parser, head_limit_boundaries)
{
	char *s = make_request(10, 50);
	size_t n = strlen(s);
	size_t line = strlen("GET /") + 10 + strlen(" HTTP/1.1\r\n");

	cr_assert_eq(preq_full(s, n, 8, n), (int)n);
	cr_assert_eq(preq_full(s, n, 8, n - 1), H1_ERR_HEADER_TOO_LARGE);
	/* the request line ends exactly at the limit: the headers are what
	 * does not fit */
	cr_assert_eq(preq_full(s, n, 8, line), H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(preq_full(s, n, 8, line - 1), H1_ERR_URI_TOO_LONG);
	free(s);
}

Test(h1_parser, syntax_error_inside_limit_wins)
{
	const char *line = "GET /a\x01" "aaaaaaaaaaaaaaaaaa";
	const char *field = "GET / HTTP/1.1\r\nA : bbbbbbbbbbbbbbbbbbb";

	cr_assert_eq(preq_full(line, strlen(line), 8, 10), H1_ERR_BAD_REQUEST);
	cr_assert_eq(preq_full(field, strlen(field), 8, 22), H1_ERR_BAD_REQUEST);
}

Test(h1_parser, header_count_over_capacity)
{
	const char *s = "GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";

	cr_assert_eq(preq_full(s, strlen(s), 3, MAX_HEAD), (int)strlen(s));
	cr_assert_eq(req.num_headers, 3);
	cr_assert_eq(preq_full(s, strlen(s), 2, MAX_HEAD),
		     H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(preq_full(s, strlen(s), 0, MAX_HEAD),
		     H1_ERR_HEADER_TOO_LARGE);
	/* decided as soon as the extra field starts */
	cr_assert_eq(preq_full(s, 30, 2, MAX_HEAD), H1_ERR_HEADER_TOO_LARGE);
}

/* ---- responses ---------------------------------------------------------- */

Test(h1_parser, response_simple)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

	cr_assert_eq(pres(s), (int)strlen(s) - 2);
	cr_assert_eq(res.minor_version, 1);
	cr_assert_eq(res.status, 200);
	assert_slice(res.reason, "OK");
	cr_assert_eq(res.num_headers, 1);
	assert_header(0, "Content-Length", "2");
}

Test(h1_parser, response_status_line_forms)
{
	cr_assert_gt(pres("HTTP/1.0 404 Not Found\r\n\r\n"), 0);
	cr_assert_eq(res.minor_version, 0);
	cr_assert_eq(res.status, 404);
	assert_slice(res.reason, "Not Found");
	cr_assert_gt(pres("HTTP/1.1 200\r\n\r\n"), 0);
	cr_assert_eq(res.status, 200);
	assert_slice(res.reason, "");
	cr_assert_gt(pres("HTTP/1.1 204 \r\n\r\n"), 0);
	assert_slice(res.reason, "");
	cr_assert_gt(pres("HTTP/1.1 999 Caf\xc3\xa9\tx\r\n\r\n"), 0);
	cr_assert_eq(res.status, 999);
	assert_slice(res.reason, "Caf\xc3\xa9\tx");
	cr_assert_gt(pres("HTTP/1.1 100 Continue\r\n\r\n"), 0);
	cr_assert_eq(res.status, 100);
}

Test(h1_parser, response_bad_status_line)
{
	RES_REFUSED(H1_ERR_BAD_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n",
		    "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n",
		    "HTTP/1.1 abc OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
		    "HTTP/1.1 200OK\r\n\r\n", "HTTP/2 200 OK\r\n\r\n",
		    "HTTP/1.2 200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n",
		    "HTTP/1.1 200 O\x01K\r\n\r\n", "HTTP/1.1 200 OK\n\r\n",
		    "HTTP/1.1 200 OK\rX\r\n\r\n", "\r\nHTTP/1.1 200 OK\r\n\r\n",
		    "HTTP/1.1\r\n\r\n", "ICY 200 OK\r\n\r\n");
}

Test(h1_parser, response_bad_fields)
{
	RES_REFUSED(H1_ERR_BAD_RESPONSE, "HTTP/1.1 200 OK\r\nA : b\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nA: b\x01\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nA: b\n\r\n",
		    "HTTP/1.1 200 OK\r\nA(: b\r\n\r\n");
}

Test(h1_parser, response_too_large)
{
	const char *s = "HTTP/1.1 200 OK\r\nX: 0123456789012345678901234567"
			"\r\n\r\n";

	cr_assert_eq(pres_full(s, strlen(s), 8, 30), H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(pres_full(s, strlen(s), 8, 10), H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(pres_full(s, strlen(s), 0, MAX_HEAD),
		     H1_ERR_HEADER_TOO_LARGE);
	cr_assert_eq(pres_full(s, strlen(s), 1, strlen(s)), (int)strlen(s));
}

/* ---- every prefix is incomplete ----------------------------------------- */

static void check_request_prefixes(const char *s)
{
	size_t n = strlen(s);
	int want = preq(s);
	struct h1_request whole = req;

	cr_assert_gt(want, 0, "\"%s\" gives %d", s, want);
	for (size_t i = 0; i < (size_t)want; i++)
		cr_assert_eq(preq_full(s, i, 64, MAX_HEAD), H1_INCOMPLETE,
			     "prefix %zu of \"%s\"", i, s);
	cr_assert_eq(preq_full(s, n, 64, MAX_HEAD), want);
	cr_assert_eq(req.num_headers, whole.num_headers);
	cr_assert_eq(req.minor_version, whole.minor_version);
	cr_assert_eq(req.method.len, whole.method.len);
	cr_assert_eq(req.target.len, whole.target.len);
}

static void check_response_prefixes(const char *s)
{
	size_t n = strlen(s);
	int want = pres(s);
	struct h1_response whole = res;

	cr_assert_gt(want, 0, "\"%s\" gives %d", s, want);
	for (size_t i = 0; i < (size_t)want; i++)
		cr_assert_eq(pres_full(s, i, 64, MAX_HEAD), H1_INCOMPLETE,
			     "prefix %zu of \"%s\"", i, s);
	cr_assert_eq(pres_full(s, n, 64, MAX_HEAD), want);
	cr_assert_eq(res.num_headers, whole.num_headers);
	cr_assert_eq(res.status, whole.status);
	cr_assert_eq(res.reason.len, whole.reason.len);
}

Test(h1_parser, request_prefixes_incomplete)
{
	check_request_prefixes("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	check_request_prefixes("\r\n\r\nPOST /p?x=1 HTTP/1.0\r\n"
			       "Content-Length:  3 \r\nX-E:\r\n\r\n");
	check_request_prefixes("OPTIONS * HTTP/1.1\r\nHost: h:1\r\n"
			       "X: a\tb\xc3\xa9\r\n\r\n");
	check_request_prefixes("GET http://a/b HTTP/1.1\r\nHost: a\r\n"
			       "Transfer-Encoding: chunked\r\n\r\n5\r\n");
}

Test(h1_parser, response_prefixes_incomplete)
{
	check_response_prefixes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n");
	check_response_prefixes("HTTP/1.1 204\r\n\r\n");
	check_response_prefixes("HTTP/1.0 503 Service Unavailable\r\n"
				"Retry-After: 5\r\nX:  \r\n\r\nbody");
}

/* ---- request framing ---------------------------------------------------- */

static int freq(const char *s, struct h1_request_framing *f)
{
	int rc = preq(s);

	cr_assert_gt(rc, 0, "parse of \"%s\" gave %d", s, rc);
	return h1_request_framing(&req, f);
}

/* Framing of "METHOD / HTTP/1.x\r\n" + fields + "\r\n". */
static int freq_fields(int minor, const char *fields,
		       struct h1_request_framing *f)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "POST / HTTP/1.%d\r\n%s\r\n", minor, fields);
	return freq(buf, f);
}

#define FRAMING_REFUSED(code, minor, ...)                                     \
	do {                                                                  \
		const char *const in_[] = { __VA_ARGS__ };                    \
		struct h1_request_framing f_;                                 \
		for (size_t i_ = 0; i_ < sizeof(in_) / sizeof(in_[0]); i_++)  \
			cr_expect_eq(freq_fields(minor, in_[i_], &f_), code,  \
				     "fields \"%s\"", in_[i_]);               \
	} while (0)

Test(h1_parser, framing_get_no_body)
{
	struct h1_request_framing f;

	cr_assert_eq(freq("GET / HTTP/1.1\r\nHost: Example.COM:80\r\n\r\n", &f),
		     0);
	cr_assert_eq(f.body, H1_BODY_NONE);
	cr_assert(f.keep_alive);
	cr_assert(!f.expect_continue);
	cr_assert(!f.upgrade);
	cr_assert(f.has_host);
	assert_slice(f.host, "Example.COM:80");
}

Test(h1_parser, framing_content_length)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(1, "Host: a\r\nContent-Length: 42\r\n", &f), 0);
	cr_assert_eq(f.body, H1_BODY_LENGTH);
	cr_assert_eq(f.content_length, 42);
	cr_assert_eq(freq_fields(1, "Host: a\r\ncontent-length: 0\r\n", &f), 0);
	cr_assert_eq(f.body, H1_BODY_LENGTH);
	cr_assert_eq(f.content_length, 0);
	cr_assert_eq(freq_fields(1, "Host: a\r\nContent-Length: 007\r\n", &f), 0);
	cr_assert_eq(f.content_length, 7);
	cr_assert_eq(freq_fields(1, "Host: a\r\nContent-Length: "
				    "9223372036854775807\r\n", &f), 0);
	cr_assert_eq(f.content_length, 9223372036854775807ull);
}

Test(h1_parser, framing_chunked)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(1, "Host: a\r\nTransfer-Encoding: chunked\r\n",
				 &f), 0);
	cr_assert_eq(f.body, H1_BODY_CHUNKED);
	cr_assert_eq(freq_fields(1, "Host: a\r\ntransfer-encoding:  ChunkeD\r\n",
				 &f), 0);
	cr_assert_eq(f.body, H1_BODY_CHUNKED);
}

Test(h1_parser, refuse_cl_and_te)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nContent-Length: 5\r\n"
			"Transfer-Encoding: chunked\r\n",
			"Host: a\r\nTransfer-Encoding: chunked\r\n"
			"Content-Length: 0\r\n");
}

Test(h1_parser, refuse_cl_repeated)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n",
			"Host: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n",
			"Host: a\r\nContent-Length: 5, 5\r\n");
}

Test(h1_parser, refuse_cl_empty)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1, "Host: a\r\nContent-Length:\r\n",
			"Host: a\r\nContent-Length:   \r\n");
}

Test(h1_parser, refuse_cl_not_digits)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nContent-Length: +5\r\n",
			"Host: a\r\nContent-Length: -1\r\n",
			"Host: a\r\nContent-Length: 5a\r\n",
			"Host: a\r\nContent-Length: 0x10\r\n",
			"Host: a\r\nContent-Length: 1 2\r\n",
			"Host: a\r\nContent-Length: 1.0\r\n");
}

Test(h1_parser, refuse_cl_overflow)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nContent-Length: 9223372036854775808\r\n",
			"Host: a\r\nContent-Length: 18446744073709551616\r\n",
			"Host: a\r\nContent-Length: 99999999999999999999999\r\n");
}

Test(h1_parser, refuse_te_last_not_chunked)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nTransfer-Encoding: chunked, gzip\r\n",
			"Host: a\r\nTransfer-Encoding: gzip\r\n",
			"Host: a\r\nTransfer-Encoding: identity\r\n",
			"Host: a\r\nTransfer-Encoding:\r\n",
			"Host: a\r\nTransfer-Encoding: chunked;x=1\r\n",
			"Host: a\r\nTransfer-Encoding: \"chunked\"\r\n");
}

Test(h1_parser, refuse_te_chunked_twice)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nTransfer-Encoding: chunked, chunked\r\n",
			"Host: a\r\nTransfer-Encoding: chunked,,Chunked\r\n");
}

Test(h1_parser, refuse_te_repeated)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1,
			"Host: a\r\nTransfer-Encoding: gzip\r\n"
			"Transfer-Encoding: chunked\r\n",
			"Host: a\r\nTransfer-Encoding: chunked\r\n"
			"Transfer-Encoding: chunked\r\n");
}

Test(h1_parser, refuse_te_other_coding_501)
{
	FRAMING_REFUSED(H1_ERR_NOT_IMPLEMENTED, 1,
			"Host: a\r\nTransfer-Encoding: gzip, chunked\r\n",
			"Host: a\r\nTransfer-Encoding: deflate ,gzip,chunked\r\n");
}

Test(h1_parser, refuse_te_in_http10)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 0,
			"Host: a\r\nTransfer-Encoding: chunked\r\n",
			"Transfer-Encoding: chunked\r\n");
}

Test(h1_parser, refuse_host_missing_http11)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1, "", "X-Host: a\r\n");
}

Test(h1_parser, host_optional_http10)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(0, "", &f), 0);
	cr_assert(!f.has_host);
	cr_assert_eq(f.host.len, 0);
}

Test(h1_parser, refuse_host_repeated)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1, "Host: a\r\nHost: a\r\n",
			"Host: a\r\nhost: b\r\n");
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 0, "Host: a\r\nHost: b\r\n");
}

Test(h1_parser, refuse_host_bad_chars)
{
	FRAMING_REFUSED(H1_ERR_BAD_REQUEST, 1, "Host: exa mple.com\r\n",
			"Host: a/b\r\n", "Host: user@host\r\n", "Host: a\tb\r\n",
			"Host: a\"b\r\n", "Host: a\\b\r\n", "Host: a<b>\r\n",
			"Host: a?b\r\n", "Host: a#b\r\n", "Host: caf\xc3\xa9\r\n",
			"Host: a{b}\r\n");
}

Test(h1_parser, host_good_chars)
{
	static const char *const good[] = {
		"example.com", "Example.COM:8080", "[::1]:8080", "10.0.0.1",
		"a_b-c~d", "%41.com", "a!$&'()*+,;=b", "",
	};
	struct h1_request_framing f;
	char fields[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(fields, sizeof(fields), "Host: %s\r\n", good[i]);
		cr_expect_eq(freq_fields(1, fields, &f), 0, "host \"%s\"",
			     good[i]);
		cr_expect(f.has_host);
		assert_slice(f.host, good[i]);
	}
}

Test(h1_parser, framing_keep_alive_defaults)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(1, "Host: a\r\n", &f), 0);
	cr_assert(f.keep_alive);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: close\r\n", &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: foo, CLOSE\r\n",
				 &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: x\r\n"
				    "Connection: Close\r\n", &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: closed\r\n", &f), 0);
	cr_assert(f.keep_alive);
	cr_assert_eq(freq_fields(0, "", &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(freq_fields(0, "Connection: Keep-Alive\r\n", &f), 0);
	cr_assert(f.keep_alive);
	cr_assert_eq(freq_fields(0, "Connection: keep-alive, close\r\n", &f), 0);
	cr_assert(!f.keep_alive);
}

Test(h1_parser, framing_expect_continue)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(1, "Host: a\r\nExpect: 100-continue\r\n", &f),
		     0);
	cr_assert(f.expect_continue);
	cr_assert_eq(freq_fields(1, "Host: a\r\nexpect: 100-Continue\r\n", &f),
		     0);
	cr_assert(f.expect_continue);
	cr_assert_eq(freq_fields(1, "Host: a\r\nExpect: something\r\n", &f), 0);
	cr_assert(!f.expect_continue);
}

Test(h1_parser, framing_upgrade)
{
	struct h1_request_framing f;

	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: Upgrade\r\n"
				    "Upgrade: websocket\r\n", &f), 0);
	cr_assert(f.upgrade);
	cr_assert(f.keep_alive);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: keep-alive, upgrade"
				    "\r\nupgrade: h2c\r\n", &f), 0);
	cr_assert(f.upgrade);
	cr_assert_eq(freq_fields(1, "Host: a\r\nConnection: upgrade\r\n", &f),
		     0);
	cr_assert(!f.upgrade);
	cr_assert_eq(freq_fields(1, "Host: a\r\nUpgrade: websocket\r\n", &f), 0);
	cr_assert(!f.upgrade);
}

/* A WebSocket handshake (RFC 6455 §4.1) is GET, HTTP/1.1, an Upgrade that
 * lists websocket and a Connection that lists upgrade, tokens in any case. */
static bool websocket(const char *head)
{
	struct h1_request_framing f;

	cr_assert_eq(freq(head, &f), 0, "%s", head);
	return f.websocket;
}

Test(h1_parser, framing_websocket_handshake)
{
	cr_expect(websocket("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\n\r\n"));
	cr_expect(websocket("GET /ws HTTP/1.1\r\nHost: a\r\nupgrade: WebSocket\r\n"
			    "connection: UPGRADE\r\n\r\n"));
	/* one token of several, in either field, or over repeated fields */
	cr_expect(websocket("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, websocket\r\n"
			    "Connection: keep-alive, upgrade\r\n\r\n"));
	cr_expect(websocket("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: foo/1\r\n"
			    "Connection: keep-alive\r\nUpgrade: websocket\r\n"
			    "Connection: upgrade\r\n\r\n"));
}

Test(h1_parser, framing_not_a_websocket_handshake)
{
	static const char *const heads[] = {
		"POST / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
		"get / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.0\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket/13\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websockets\r\nConnection: upgrade\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgraded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nX-Connection: upgrade\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++)
		cr_expect(!websocket(heads[i]), "%s", heads[i]);
}

/* ---- response framing --------------------------------------------------- */

static int fres(const char *s, bool head, struct h1_response_framing *f)
{
	int rc = pres(s);

	cr_assert_gt(rc, 0, "parse of \"%s\" gave %d", s, rc);
	return h1_response_framing(&res, head, f);
}

Test(h1_parser, response_framing_length)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
			  false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_LENGTH);
	cr_assert_eq(f.content_length, 12);
	cr_assert(f.keep_alive);
}

Test(h1_parser, response_framing_no_body_statuses)
{
	static const char *const heads[] = {
		"HTTP/1.1 100 Continue\r\n\r\n",
		("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n"
		 "Upgrade: websocket\r\n\r\n"),
		"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/1.1 199 Odd\r\n\r\n",
	};
	struct h1_response_framing f;

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		cr_expect_eq(fres(heads[i], false, &f), 0, "%s", heads[i]);
		cr_expect_eq(f.body, H1_BODY_NONE, "%s", heads[i]);
		cr_expect(f.keep_alive, "%s", heads[i]);
	}
}

Test(h1_parser, response_framing_head_request)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", true,
			  &f), 0);
	cr_assert_eq(f.body, H1_BODY_NONE);
	cr_assert(f.keep_alive);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			  true, &f), 0);
	cr_assert_eq(f.body, H1_BODY_NONE);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\n\r\n", true, &f), 0);
	cr_assert_eq(f.body, H1_BODY_NONE);
	cr_assert(f.keep_alive);
}

Test(h1_parser, response_cl_duplicates)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
			  "content-length: 7\r\n\r\n", false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_LENGTH);
	cr_assert_eq(f.content_length, 7);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7, 7,7\r\n\r\n",
			  false, &f), 0);
	cr_assert_eq(f.content_length, 7);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
			  "Content-Length: 8\r\n\r\n", false, &f),
		     H1_ERR_BAD_RESPONSE);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7, 8\r\n\r\n",
			  false, &f), H1_ERR_BAD_RESPONSE);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
			  "Content-Length: 7, 9\r\n\r\n", false, &f),
		     H1_ERR_BAD_RESPONSE);
}

Test(h1_parser, response_cl_malformed)
{
	static const char *const bad[] = { "", "abc", "-1", "7,", ",7", "7,,7",
					   "1 2", "9223372036854775808" };
	struct h1_response_framing f;
	char buf[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "HTTP/1.1 200 OK\r\nContent-Length: %s\r\n\r\n",
			 bad[i]);
		cr_expect_eq(fres(buf, false, &f), H1_ERR_BAD_RESPONSE,
			     "Content-Length: \"%s\"", bad[i]);
	}
	/* checked even when the response has no body */
	cr_assert_eq(fres("HTTP/1.1 304 NM\r\nContent-Length: x\r\n\r\n", false,
			  &f), H1_ERR_BAD_RESPONSE);
}

Test(h1_parser, response_cl_and_te)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n", false, &f),
		     H1_ERR_BAD_RESPONSE);
	cr_assert_eq(fres("HTTP/1.1 204 OK\r\nTransfer-Encoding: gzip\r\n"
			  "Content-Length: 7\r\n\r\n", true, &f),
		     H1_ERR_BAD_RESPONSE);
}

Test(h1_parser, response_te)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
			  false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_CHUNKED);
	cr_assert(f.keep_alive);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked"
			  "\r\n\r\n", false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_CHUNKED);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n", false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_CHUNKED);
}

Test(h1_parser, response_te_not_chunked_until_close)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
			  false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_UNTIL_CLOSE);
	cr_assert(!f.keep_alive);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip"
			  "\r\n\r\n", false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_UNTIL_CLOSE);
}

Test(h1_parser, response_te_chunked_twice)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, "
			  "chunked\r\n\r\n", false, &f), H1_ERR_BAD_RESPONSE);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			  "Transfer-Encoding: chunked\r\n\r\n", false, &f),
		     H1_ERR_BAD_RESPONSE);
}

Test(h1_parser, response_no_framing_until_close)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\n\r\n", false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_UNTIL_CLOSE);
	cr_assert(!f.keep_alive);
	cr_assert_eq(fres("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n",
			  false, &f), 0);
	cr_assert_eq(f.body, H1_BODY_UNTIL_CLOSE);
	cr_assert(!f.keep_alive);
}

Test(h1_parser, response_keep_alive)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
			  "Connection: close\r\n\r\n", false, &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(fres("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false,
			  &f), 0);
	cr_assert(!f.keep_alive);
	cr_assert_eq(fres("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n"
			  "Connection: Keep-Alive\r\n\r\n", false, &f), 0);
	cr_assert(f.keep_alive);
	cr_assert_eq(fres("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n"
			  "Connection: keep-alive\r\n\r\n", false, &f), 0);
	cr_assert(!f.keep_alive);
}

/* ---- helpers ------------------------------------------------------------ */

Test(h1_parser, find_header)
{
	struct slice v;

	cr_assert_gt(preq("GET / HTTP/1.1\r\nHost: a\r\nX-Id: 1\r\nx-id: 2\r\n"
			  "\r\n"), 0);
	v = h1_find_header(hdrs, req.num_headers, "x-ID");
	assert_slice(v, "1");
	v = h1_find_header(hdrs, req.num_headers, "host");
	assert_slice(v, "a");
	v = h1_find_header(hdrs, req.num_headers, "X-Missing");
	cr_assert_null(v.ptr);
	cr_assert_eq(v.len, 0);
	v = h1_find_header(hdrs, 0, "Host");
	cr_assert_null(v.ptr);
}

struct token_log {
	char seen[8][32];
	size_t n, stop_at;
};

static bool log_token(struct slice token, void *arg)
{
	struct token_log *log = arg;

	snprintf(log->seen[log->n], sizeof(log->seen[0]), "%.*s",
		 (int)token.len, token.ptr);
	return ++log->n != log->stop_at;
}

Test(h1_parser, each_token)
{
	struct token_log log = { .stop_at = 0 };

	cr_assert(h1_each_token(SLICE_LIT(" a ,,b\t, c d ,"), log_token, &log));
	cr_assert_eq(log.n, 3);
	cr_assert_str_eq(log.seen[0], "a");
	cr_assert_str_eq(log.seen[1], "b");
	cr_assert_str_eq(log.seen[2], "c d");

	log = (struct token_log){ .stop_at = 2 };
	cr_assert(!h1_each_token(SLICE_LIT("x, y, z"), log_token, &log));
	cr_assert_eq(log.n, 2);

	log = (struct token_log){ .stop_at = 0 };
	cr_assert(h1_each_token(SLICE_NULL, log_token, &log));
	cr_assert(h1_each_token(SLICE_LIT(" , ,"), log_token, &log));
	cr_assert_eq(log.n, 0);
}

/* ---- chunked decoder ---------------------------------------------------- */

struct decoded {
	char payload[8192];
	size_t len;
	ssize_t consumed; /* total, or the error */
	bool done;
};

/* Feeds in[0..len) in pieces: the first of `first` bytes, then pieces of
 * `step`; each piece is an exact-size heap copy and is decoded to its end
 * (or until the decoder is done or fails). */
static struct decoded decode(const char *in, size_t len, size_t first,
			     size_t step)
{
	struct decoded out = { .len = 0 };
	struct h1_chunked dec;
	size_t pos = 0;

	h1_chunked_init(&dec);
	while (pos < len && !dec.done) {
		size_t piece = pos == 0 ? first : step;
		if (piece > len - pos)
			piece = len - pos;
		char *copy = malloc(piece);
		memcpy(copy, in + pos, piece);
		size_t off = 0;
		while (off < piece && !dec.done) {
			struct slice data;
			ssize_t rc = h1_chunked_decode(&dec, copy + off,
						       piece - off, &data);
			if (rc < 0) {
				free(copy);
				out.consumed = rc;
				return out;
			}
			cr_assert(rc > 0 || dec.done);
			cr_assert_leq(out.len + data.len, sizeof(out.payload));
			if (data.len)
				memcpy(out.payload + out.len, data.ptr,
				       data.len);
			out.len += data.len;
			off += (size_t)rc;
		}
		free(copy);
		pos += off;
		if (off < piece)
			break;
	}
	out.consumed = (ssize_t)pos;
	out.done = dec.done;
	return out;
}

static void assert_decodes(const char *in, size_t len, const char *payload,
			   size_t consumed)
{
	struct decoded d = decode(in, len, len, len);

	cr_assert_eq(d.consumed, (ssize_t)consumed, "consumed %zd of \"%s\"",
		     d.consumed, in);
	cr_assert(d.done);
	cr_assert_eq(d.len, strlen(payload));
	cr_assert(memcmp(d.payload, payload, d.len) == 0);
}

static void assert_chunked_refused(const char *in, size_t len)
{
	struct decoded whole = decode(in, len, len, len);
	struct decoded bytes = decode(in, len, 1, 1);

	cr_expect_eq(whole.consumed, H1_ERR_BAD_REQUEST, "whole: %zd for \"%s\"",
		     whole.consumed, in);
	cr_expect_eq(bytes.consumed, H1_ERR_BAD_REQUEST,
		     "bytewise: %zd for \"%s\"", bytes.consumed, in);
}

#define CHUNKED_REFUSED(...)                                                  \
	do {                                                                  \
		const char *const in_[] = { __VA_ARGS__ };                    \
		for (size_t i_ = 0; i_ < sizeof(in_) / sizeof(in_[0]); i_++)  \
			assert_chunked_refused(in_[i_], strlen(in_[i_]));     \
	} while (0)

Test(h1_parser, chunked_single)
{
	const char *s = "5\r\nhello\r\n0\r\n\r\n";

	assert_decodes(s, strlen(s), "hello", strlen(s));
}

Test(h1_parser, chunked_many)
{
	const char *s = "1\r\na\r\nA\r\n0123456789\r\nf\r\nABCDEFGHIJKLMNO\r\n"
			"00000003\r\nxyz\r\n000\r\n\r\n";

	assert_decodes(s, strlen(s), "a0123456789ABCDEFGHIJKLMNOxyz",
		       strlen(s));
}

Test(h1_parser, chunked_extensions_and_bws)
{
	const char *s = "5;name=value;q=\"a b\"\r\nhello\r\n"
			"3 ;x\r\nabc\r\n2\t \r\nde\r\n0;last\r\n\r\n";

	assert_decodes(s, strlen(s), "helloabcde", strlen(s));
}

Test(h1_parser, chunked_trailers)
{
	const char *s = "3\r\nabc\r\n0\r\nX-Checksum: abc\r\n"
			"Content-Lengthy: 1\r\nHos: x\r\nHosts:\r\n\r\n";

	assert_decodes(s, strlen(s), "abc", strlen(s));
}

Test(h1_parser, chunked_stops_at_end_and_after_done)
{
	const char *s = "2\r\nhi\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
	const char *body_end = strstr(s, "GET");
	struct h1_chunked dec;
	struct slice data;
	ssize_t rc;
	size_t pos = 0;

	assert_decodes(s, strlen(s), "hi", (size_t)(body_end - s));
	h1_chunked_init(&dec);
	rc = h1_chunked_decode(&dec, s, strlen(s), &data);
	cr_assert_eq(rc, 5, "framing and the span in one call");
	assert_slice(data, "hi");
	while (!dec.done) {
		pos += (size_t)rc;
		rc = h1_chunked_decode(&dec, s + pos, strlen(s) - pos, &data);
		cr_assert_gt(rc, 0);
	}
	cr_assert_eq(pos + (size_t)rc, (size_t)(body_end - s));
	cr_assert_eq(h1_chunked_decode(&dec, body_end, 5, &data), 0);
	cr_assert_null(data.ptr);
	cr_assert_eq(h1_chunked_decode(&dec, NULL, 0, &data), 0);
}

Test(h1_parser, chunked_span_is_bounded_by_chunk)
{
	const char *s = "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
	struct h1_chunked dec;
	struct slice data;

	h1_chunked_init(&dec);
	cr_assert_eq(h1_chunked_decode(&dec, s, strlen(s), &data), 6);
	assert_slice(data, "abc");
	cr_assert_eq(h1_chunked_decode(&dec, s + 6, 2, &data), 2);
	cr_assert_null(data.ptr);
	cr_assert_eq(h1_chunked_decode(&dec, s + 8, 4, &data), 4);
	assert_slice(data, "d");
}

Test(h1_parser, chunked_every_split)
{
	const char *s = "4;a=b\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks."
			"\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: v\r\n\r\n";
	const char *want = "Wikipedia in\r\n\r\nchunks.0123456789abcdef";
	size_t n = strlen(s);

	for (size_t k = 1; k < n; k++) {
		struct decoded d = decode(s, n, k, n);
		cr_assert_eq(d.consumed, (ssize_t)n, "split at %zu", k);
		cr_assert(d.done, "split at %zu", k);
		cr_assert_eq(d.len, strlen(want), "split at %zu", k);
		cr_assert(memcmp(d.payload, want, d.len) == 0, "split at %zu",
			  k);
	}
	for (size_t step = 1; step < 8; step++) {
		struct decoded d = decode(s, n, step, step);
		cr_assert_eq(d.consumed, (ssize_t)n, "steps of %zu", step);
		cr_assert(d.done);
		cr_assert_eq(d.len, strlen(want));
		cr_assert(memcmp(d.payload, want, d.len) == 0);
	}
}

Test(h1_parser, chunked_size_limits_accepted)
{
	struct h1_chunked dec;
	struct slice data;
	const char *s = "7FFFFFFFFFFFFFFF\r\n";

	h1_chunked_init(&dec);
	cr_assert_eq(h1_chunked_decode(&dec, s, strlen(s), &data),
		     (ssize_t)strlen(s));
	cr_assert_eq(dec.chunk_left, 0x7FFFFFFFFFFFFFFFull);
	s = "0000000000000002\r\nok\r\n0\r\n\r\n";
	assert_decodes(s, strlen(s), "ok", strlen(s));
}

Test(h1_parser, refuse_chunk_17_digits)
{
	CHUNKED_REFUSED("00000000000000002\r\nok\r\n0\r\n\r\n",
			"00000000000000000\r\n\r\n",
			"FFFFFFFFFFFFFFFFF\r\n");
}

Test(h1_parser, refuse_chunk_size_overflow)
{
	CHUNKED_REFUSED("8000000000000000\r\n", "FFFFFFFFFFFFFFFF\r\n");
}

Test(h1_parser, refuse_chunk_no_digits)
{
	CHUNKED_REFUSED("\r\nabc\r\n", ";ext\r\n", "x\r\n", " 5\r\nhello\r\n",
			"-5\r\n", "0x5\r\nhello\r\n", "+5\r\n");
}

Test(h1_parser, refuse_chunk_bad_size_line)
{
	CHUNKED_REFUSED("5 x\r\nhello\r\n", "5\tz\r\n", "5;a\x01\r\n",
			"5;a\x7f\r\n");
}

Test(h1_parser, refuse_chunk_size_line_over_4096)
{
	char *s = malloc(6000);
	size_t n = (size_t)sprintf(s, "1;");

	memset(s + n, 'e', 4094);
	n += 4094;
	n += (size_t)sprintf(s + n, "\r\nx\r\n0\r\n\r\n");
	assert_decodes(s, n, "x", n); /* 4096 bytes before the CRLF */
	n = (size_t)sprintf(s, "1;");
	memset(s + n, 'e', 4095);
	n += 4095;
	n += (size_t)sprintf(s + n, "\r\nx\r\n0\r\n\r\n");
	assert_chunked_refused(s, n);
	memset(s, ' ', 5000);
	memcpy(s, "1", 1);
	assert_chunked_refused(s, 5000);
	free(s);
}

Test(h1_parser, refuse_chunk_missing_crlf_after_data)
{
	CHUNKED_REFUSED("5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhelloX\n0\r\n\r\n",
			"5\r\nhello0\r\n\r\n",
			"5\r\nhello\rX", "5\r\nhello\n0\r\n\r\n",
			"5\r\nhellohello\r\n");
}

Test(h1_parser, refuse_chunk_bare_lf_or_cr)
{
	CHUNKED_REFUSED("5\nhello\r\n0\r\n\r\n", "5\rhello\r\n0\r\n\r\n",
			"5;e\nhello\r\n", "0\n\r\n", "0\r\n\n",
			"0\r\nX: a\n\r\n", "0\r\nX: a\rb\r\n\r\n",
			"0\r\n\r\r");
}

Test(h1_parser, refuse_chunk_forbidden_trailers)
{
	CHUNKED_REFUSED("0\r\nContent-Length: 5\r\n\r\n",
			"0\r\ntransfer-encoding: chunked\r\n\r\n",
			"0\r\nHOST: evil\r\n\r\n", "0\r\nTrailer: x\r\n\r\n",
			"0\r\nX: 1\r\nConnection: close\r\n\r\n",
			"0\r\nhost:\r\n\r\n");
}

Test(h1_parser, refuse_chunk_bad_trailer_lines)
{
	CHUNKED_REFUSED("0\r\nX-T : v\r\n\r\n", "0\r\nX-T: v\r\n folded\r\n\r\n",
			"0\r\n X: v\r\n\r\n", "0\r\n \n", "0\r\nNoColon\r\n\r\n",
			"0\r\n: v\r\n\r\n", "0\r\nX(: v\r\n\r\n",
			"0\r\nX: a\x01\r\n\r\n");
}

Test(h1_parser, refuse_chunk_trailers_over_16k)
{
	char *s = malloc(20000);
	size_t n = (size_t)sprintf(s, "0\r\nX: ");
	size_t fill = 16384 - strlen("X: ") - 4; /* line CRLF + final CRLF */

	memset(s + n, 'v', fill);
	n += fill;
	n += (size_t)sprintf(s + n, "\r\n\r\n");
	assert_decodes(s, n, "", n);
	n = (size_t)sprintf(s, "0\r\nX: ");
	memset(s + n, 'v', fill + 1);
	n += fill + 1;
	n += (size_t)sprintf(s + n, "\r\n\r\n");
	assert_chunked_refused(s, n);
	free(s);
}

Test(h1_parser, chunked_error_is_final)
{
	struct h1_chunked dec;
	struct slice data;

	h1_chunked_init(&dec);
	cr_assert_eq(h1_chunked_decode(&dec, "g", 1, &data), H1_ERR_BAD_REQUEST);
	cr_assert_eq(h1_chunked_decode(&dec, "5\r\n", 3, &data),
		     H1_ERR_BAD_REQUEST);
	cr_assert(!dec.done);
}

Test(h1_parser, response_framing_websocket_acceptance)
{
	struct h1_response_framing f;

	cr_assert_eq(fres("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
			  "Connection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n", false, &f), 0);
	cr_expect(f.websocket);
	cr_expect_eq(f.body, H1_BODY_NONE);
	cr_assert_eq(fres("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
			  false, &f), 0);
	cr_expect(!f.websocket, "Connection: upgrade is required (RFC 9110 §7.8)");
	cr_assert_eq(fres("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n"
			  "Connection: upgrade\r\n\r\n", false, &f), 0);
	cr_expect(!f.websocket);
	cr_assert_eq(fres("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false, &f), 0);
	cr_expect(!f.websocket);
}
