/*
 * h1_parser: HTTP/1.x request and response heads, their framing, and the
 * chunked body decoder (contract in h1_parser.h).
 *
 * Owns the byte-level grammar of RFC 9112 as portico accepts it, and the
 * framing decisions of PRODUCT.md §3: anything two implementations could
 * frame differently is refused, never guessed at.
 *
 * Approach: one 256-entry class table answers "is this byte a tchar, a
 * field-value byte, a target byte, a host byte" with one load and a mask.
 * Every scan is a loop over that table, unrolled by eight, that stops at the
 * first byte outside the class; only that byte is then examined (CR, ':',
 * SP), so each byte of a head is classified once per call. Heads are parsed
 * whole and statelessly: the caller re-calls with more bytes, and re-reading
 * a head bounded by max_header_size costs less than carrying parser state
 * (picohttpparser's finding). Framing reads the parsed header array once,
 * gathering only the handful of fields that decide the body and connection.
 *
 * Rejected: an nginx-style resumable byte-at-a-time state machine for heads
 * (a branch per byte, and state nobody needs for heads of a few KiB); SSE4.2
 * range scans as in picohttpparser (worth it only once a profile says so, and
 * they need this scalar path as fallback anyway); tolerating bare LF, spaces
 * around the colon or obs-fold, which is where lenient parsers disagree on
 * framing and smuggling starts.
 */
#include "http/h1_parser.h"

#include <limits.h>
#include <string.h>

#include "core/bug.h"

/* clang-format off */
#define A (H1_CH_TOKEN | H1_CH_VALUE | H1_CH_TARGET | H1_CH_HOST)
#define B (H1_CH_VALUE | H1_CH_TARGET | H1_CH_HOST)
#define C (H1_CH_VALUE | H1_CH_TARGET)
#define D (H1_CH_TOKEN | H1_CH_VALUE | H1_CH_TARGET)
#define S (H1_CH_VALUE)
const uint8_t h1_char_class[256] = {
	/* 00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, S, 0, 0, 0, 0, 0, 0,
	/* 10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 20 */ S, A, C, D, A, A, A, A, B, B, A, A, B, A, A, C,
	/* 30 */ A, A, A, A, A, A, A, A, A, A, B, B, C, B, C, C,
	/* 40 */ C, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	/* 50 */ A, A, A, A, A, A, A, A, A, A, A, B, C, B, D, A,
	/* 60 */ D, A, A, A, A, A, A, A, A, A, A, A, A, A, A, A,
	/* 70 */ A, A, A, A, A, A, A, A, A, A, A, C, D, C, A, 0,
	/* 80 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* 90 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* a0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* b0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* c0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* d0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* e0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
	/* f0 */ C, C, C, C, C, C, C, C, C, C, C, C, C, C, C, C,
};
#undef A
#undef B
#undef C
#undef D
#undef S
/* clang-format on */

/* First byte of [p, end) outside the class mask, or end. */
static inline const char *scan_class(const char *p, const char *end,
				     unsigned mask)
{
#define SCAN_AT(i)                                                            \
	if (!h1_char_is(p[i], mask))                                          \
		return p + (i);
	while (end - p >= 8) {
		SCAN_AT(0) SCAN_AT(1) SCAN_AT(2) SCAN_AT(3)
		SCAN_AT(4) SCAN_AT(5) SCAN_AT(6) SCAN_AT(7)
		p += 8;
	}
#undef SCAN_AT
	while (p < end && h1_char_is(*p, mask))
		p++;
	return p;
}

static inline const char *fail(int *err, int code)
{
	*err = code;
	return NULL;
}

/* Head steps return the position after what they parsed, or NULL with *err
 * set to H1_INCOMPLETE or H1_ERR_BAD_REQUEST. */

static const char *expect_crlf(const char *p, const char *end, int *err)
{
	if (p < end && *p != '\r')
		return fail(err, H1_ERR_BAD_REQUEST);
	/* cppcheck-suppress knownConditionTrueFalse ; false positive: "\r\n" may be whole */
	if (end - p < 2)
		return fail(err, H1_INCOMPLETE);
	if (p[1] != '\n')
		return fail(err, H1_ERR_BAD_REQUEST);
	return p + 2;
}

/* "HTTP/1.0" or "HTTP/1.1"; a prefix of either is incomplete, not wrong. */
static const char *parse_version(const char *p, const char *end, int *minor,
				 int *err)
{
	static const char proto[] = "HTTP/1.";
	size_t avail = (size_t)(end - p);
	size_t n = avail < sizeof(proto) - 1 ? avail : sizeof(proto) - 1;

	if (memcmp(p, proto, n) != 0)
		return fail(err, H1_ERR_BAD_REQUEST);
	if (avail < sizeof(proto))
		return fail(err, H1_INCOMPLETE);
	if (p[7] != '0' && p[7] != '1')
		return fail(err, H1_ERR_BAD_REQUEST);
	*minor = p[7] - '0';
	return p + 8;
}

/* OWS field-value OWS CRLF; the value is returned without the OWS. */
static const char *parse_value(const char *p, const char *end,
			       struct slice *value, int *err)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *start = p;
	p = scan_class(p, end, H1_CH_VALUE);
	const char *stop = p;
	while (stop > start && (stop[-1] == ' ' || stop[-1] == '\t'))
		stop--;
	*value = slice_make(start, (size_t)(stop - start));
	return expect_crlf(p, end, err);
}

/* token ":" value. A line starting with SP or HTAB (obs-fold), a space before
 * the colon, or a bare LF all stop the token scan on a byte that is not ':'. */
static const char *parse_field(const char *p, const char *end,
			       struct http_header *h, int *err)
{
	const char *name = p;

	p = scan_class(p, end, H1_CH_TOKEN);
	if (p == end)
		return fail(err, H1_INCOMPLETE);
	if (p == name || *p != ':')
		return fail(err, H1_ERR_BAD_REQUEST);
	h->name = slice_make(name, (size_t)(p - name));
	return parse_value(p + 1, end, &h->value, err);
}

/* Field lines up to and including the empty line; *num is the capacity in,
 * and is set to the count only on success. */
static const char *parse_fields(const char *p, const char *end,
				struct http_header *h, size_t *num, int *err)
{
	size_t n = 0;

	for (;;) {
		if (p == end)
			return fail(err, H1_INCOMPLETE);
		if (*p == '\r')
			break;
		if (n == *num)
			return fail(err, H1_ERR_HEADER_TOO_LARGE);
		p = parse_field(p, end, &h[n++], err);
		if (!p)
			return NULL;
	}
	p = expect_crlf(p, end, err);
	if (p)
		*num = n;
	return p;
}

/* method SP request-target SP HTTP-version CRLF, after any empty lines. */
static const char *parse_request_line(const char *p, const char *end,
				      struct h1_request *req, int *err)
{
	while (p < end && *p == '\r')
		if (!(p = expect_crlf(p, end, err)))
			return NULL;

	const char *start = p;
	p = scan_class(p, end, H1_CH_TOKEN);
	if (p == end)
		return fail(err, H1_INCOMPLETE);
	if (p == start || *p != ' ')
		return fail(err, H1_ERR_BAD_REQUEST);
	req->method = slice_make(start, (size_t)(p - start));

	start = ++p;
	p = scan_class(p, end, H1_CH_TARGET);
	if (p == end)
		return fail(err, H1_INCOMPLETE);
	if (p == start || *p != ' ')
		return fail(err, H1_ERR_BAD_REQUEST);
	req->target = slice_make(start, (size_t)(p - start));

	if (!(p = parse_version(p + 1, end, &req->minor_version, err)))
		return NULL;
	return expect_crlf(p, end, err);
}

/* HTTP-version SP 3DIGIT SP reason CRLF. Many servers send an empty reason
 * without its SP ("HTTP/1.1 200\r\n"); that is accepted too. */
static const char *parse_status_line(const char *p, const char *end,
				     struct h1_response *res, int *err)
{
	int status = 0;

	if (!(p = parse_version(p, end, &res->minor_version, err)))
		return NULL;
	if (p == end)
		return fail(err, H1_INCOMPLETE);
	if (*p++ != ' ')
		return fail(err, H1_ERR_BAD_REQUEST);
	for (int i = 0; i < 3; i++, p++) {
		if (p == end)
			return fail(err, H1_INCOMPLETE);
		if (*p < '0' || *p > '9')
			return fail(err, H1_ERR_BAD_REQUEST);
		status = status * 10 + (*p - '0');
	}
	if (status < 100)
		return fail(err, H1_ERR_BAD_REQUEST);
	res->status = status;
	if (p < end && *p == ' ')
		p++;
	else if (p < end && *p != '\r')
		return fail(err, H1_ERR_BAD_REQUEST);
	const char *reason = p;
	p = scan_class(p, end, H1_CH_VALUE);
	res->reason = slice_make(reason, (size_t)(p - reason));
	return expect_crlf(p, end, err);
}

/* The window a head must complete in; int return values bound it too. */
static size_t head_window(size_t max_head)
{
	return max_head < (size_t)INT_MAX ? max_head : (size_t)INT_MAX;
}

/* An incomplete head that already fills the window will never fit. */
static int head_error(int err, size_t len, size_t window, int too_large)
{
	return err == H1_INCOMPLETE && len >= window ? too_large : err;
}

int h1_parse_request(const char *buf, size_t len, struct h1_request *req,
		     size_t max_head)
{
	size_t window = head_window(max_head);
	const char *end, *p;
	int err = H1_INCOMPLETE;

	if (len == 0 || window == 0)
		return head_error(err, len, window, H1_ERR_URI_TOO_LONG);
	end = buf + (len < window ? len : window);
	p = parse_request_line(buf, end, req, &err);
	if (!p)
		return head_error(err, len, window, H1_ERR_URI_TOO_LONG);
	p = parse_fields(p, end, req->headers, &req->num_headers, &err);
	if (!p)
		return head_error(err, len, window, H1_ERR_HEADER_TOO_LARGE);
	return (int)(p - buf);
}

int h1_parse_response(const char *buf, size_t len, struct h1_response *res,
		      size_t max_head)
{
	size_t window = head_window(max_head);
	const char *end, *p;
	int err = H1_INCOMPLETE;

	if (len == 0 || window == 0)
		return head_error(err, len, window, H1_ERR_HEADER_TOO_LARGE);
	end = buf + (len < window ? len : window);
	p = parse_status_line(buf, end, res, &err);
	if (p)
		p = parse_fields(p, end, res->headers, &res->num_headers, &err);
	if (p)
		return (int)(p - buf);
	if (err == H1_ERR_BAD_REQUEST)
		return H1_ERR_BAD_RESPONSE;
	return head_error(err, len, window, H1_ERR_HEADER_TOO_LARGE);
}

/* ---- framing ------------------------------------------------------------ */

enum {
	CONN_CLOSE = 1u << 0,
	CONN_KEEP_ALIVE = 1u << 1,
	CONN_UPGRADE = 1u << 2,
};

/* Transfer-Encoding codings, over every TE field in order. */
struct te_codings {
	unsigned chunked;  /* times "chunked" appears */
	bool other;        /* some coding other than chunked appears */
	bool last_chunked; /* the last coding is chunked */
};

/* What framing needs from a header array, gathered in one pass. */
struct framing_fields {
	unsigned cl_lines, te_lines, host_lines;
	struct slice cl;   /* first Content-Length value */
	struct slice host; /* first Host value */
	unsigned conn;     /* CONN_* tokens of every Connection field */
	bool has_upgrade;
	bool upgrade_websocket; /* some Upgrade field lists "websocket" */
	bool expect_continue;
	struct te_codings te;
};

enum field_id {
	FIELD_OTHER,
	FIELD_CONTENT_LENGTH,
	FIELD_TRANSFER_ENCODING,
	FIELD_HOST,
	FIELD_CONNECTION,
	FIELD_UPGRADE,
	FIELD_EXPECT,
};

static const struct {
	const char *name;
	size_t len;
	enum field_id id;
} framing_names[] = {
	{ "content-length", 14, FIELD_CONTENT_LENGTH },
	{ "transfer-encoding", 17, FIELD_TRANSFER_ENCODING },
	{ "host", 4, FIELD_HOST },
	{ "connection", 10, FIELD_CONNECTION },
	{ "upgrade", 7, FIELD_UPGRADE },
	{ "expect", 6, FIELD_EXPECT },
};

/* Lengths are compared first, so most fields cost six integer compares. */
static enum field_id field_id(struct slice name)
{
	for (size_t i = 0; i < ARRAY_SIZE(framing_names); i++)
		if (name.len == framing_names[i].len &&
		    slice_ieq(name, slice_make(framing_names[i].name, name.len)))
			return framing_names[i].id;
	return FIELD_OTHER;
}

static bool visit_connection(struct slice token, void *arg)
{
	unsigned *conn = arg;

	if (slice_ieq(token, SLICE_LIT("close")))
		*conn |= CONN_CLOSE;
	else if (slice_ieq(token, SLICE_LIT("keep-alive")))
		*conn |= CONN_KEEP_ALIVE;
	else if (slice_ieq(token, SLICE_LIT("upgrade")))
		*conn |= CONN_UPGRADE;
	return true;
}

static bool visit_upgrade(struct slice token, void *arg)
{
	bool *websocket = arg;

	if (slice_ieq(token, SLICE_LIT("websocket")))
		*websocket = true;
	return true;
}

static bool visit_coding(struct slice token, void *arg)
{
	struct te_codings *te = arg;

	te->last_chunked = slice_ieq(token, SLICE_LIT("chunked"));
	if (te->last_chunked)
		te->chunked++;
	else
		te->other = true;
	return true;
}

static void gather_fields(const struct http_header *h, size_t n,
			  struct framing_fields *f)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n; i++) {
		switch (field_id(h[i].name)) {
		case FIELD_CONTENT_LENGTH:
			if (f->cl_lines++ == 0)
				f->cl = h[i].value;
			break;
		case FIELD_TRANSFER_ENCODING:
			f->te_lines++;
			h1_each_token(h[i].value, visit_coding, &f->te);
			break;
		case FIELD_HOST:
			if (f->host_lines++ == 0)
				f->host = h[i].value;
			break;
		case FIELD_CONNECTION:
			h1_each_token(h[i].value, visit_connection, &f->conn);
			break;
		case FIELD_UPGRADE:
			f->has_upgrade = true;
			h1_each_token(h[i].value, visit_upgrade, &f->upgrade_websocket);
			break;
		case FIELD_EXPECT:
			if (slice_ieq(h[i].value, SLICE_LIT("100-continue")))
				f->expect_continue = true;
			break;
		case FIELD_OTHER:
			break;
		}
	}
}

/* 1*DIGIT below 2^63, nothing else (no sign, no space, no list). */
static bool parse_length(struct slice s, uint64_t *out)
{
	uint64_t v = 0;

	if (s.len == 0)
		return false;
	for (size_t i = 0; i < s.len; i++) {
		unsigned d = (unsigned)((unsigned char)s.ptr[i] - '0');
		if (d > 9 || v > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* A response Content-Length may be a list of equal values ("42, 42",
 * RFC 9110 §8.6). *seen says whether *out already holds a value. */
static bool parse_length_list(struct slice s, uint64_t *out, bool *seen)
{
	const char *p = s.ptr, *end = s.ptr + s.len;

	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		uint64_t v;

		if (!parse_length(slice_trim(slice_make(p, (size_t)(stop - p))),
				  &v))
			return false;
		if (*seen && v != *out)
			return false;
		*out = v;
		*seen = true;
		if (!comma)
			return true;
		p = comma + 1;
	}
}

static bool keep_alive(int minor_version, unsigned conn)
{
	if (conn & CONN_CLOSE)
		return false;
	return minor_version >= 1 || (conn & CONN_KEEP_ALIVE);
}

static int request_body(const struct h1_request *req,
			const struct framing_fields *f,
			struct h1_request_framing *out)
{
	if (f->te_lines) {
		if (f->cl_lines || req->minor_version == 0 || f->te_lines > 1)
			return H1_ERR_BAD_REQUEST;
		if (f->te.chunked > 1 || !f->te.last_chunked)
			return H1_ERR_BAD_REQUEST;
		if (f->te.other)
			return H1_ERR_NOT_IMPLEMENTED;
		out->body = H1_BODY_CHUNKED;
		return 0;
	}
	if (f->cl_lines) {
		if (f->cl_lines > 1 ||
		    !parse_length(f->cl, &out->content_length))
			return H1_ERR_BAD_REQUEST;
		out->body = H1_BODY_LENGTH;
	}
	return 0;
}

bool h1_host_valid(struct slice host)
{
	for (size_t i = 0; i < host.len; i++)
		if (!h1_char_is(host.ptr[i], H1_CH_HOST))
			return false;
	return true;
}

int h1_request_framing(const struct h1_request *req,
		       struct h1_request_framing *out)
{
	struct framing_fields f;
	int rc;

	gather_fields(req->headers, req->num_headers, &f);
	*out = (struct h1_request_framing){ .body = H1_BODY_NONE };
	rc = request_body(req, &f, out);
	if (rc != 0)
		return rc;
	if (f.host_lines > 1 || !h1_host_valid(f.host))
		return H1_ERR_BAD_REQUEST;
	if (f.host_lines == 0 && req->minor_version >= 1)
		return H1_ERR_BAD_REQUEST;
	out->has_host = f.host_lines == 1;
	out->host = f.host;
	out->keep_alive = keep_alive(req->minor_version, f.conn);
	out->expect_continue = f.expect_continue;
	out->upgrade = (f.conn & CONN_UPGRADE) && f.has_upgrade;
	out->websocket = (f.conn & CONN_UPGRADE) && f.upgrade_websocket &&
			 req->minor_version == 1 && slice_eq(req->method, SLICE_LIT("GET"));
	return 0;
}

/* Every Content-Length field of a response, all equal; a second pass over
 * the headers only when the field is repeated. */
static bool response_length(const struct h1_response *res,
			    const struct framing_fields *f, uint64_t *out)
{
	bool seen = false;

	if (f->cl_lines == 1)
		return parse_length_list(f->cl, out, &seen);
	for (size_t i = 0; i < res->num_headers; i++)
		if (field_id(res->headers[i].name) == FIELD_CONTENT_LENGTH &&
		    !parse_length_list(res->headers[i].value, out, &seen))
			return false;
	return true;
}

int h1_response_framing(const struct h1_response *res, bool request_was_head,
			struct h1_response_framing *out)
{
	struct framing_fields f;
	uint64_t length = 0;
	int status = res->status;

	gather_fields(res->headers, res->num_headers, &f);
	*out = (struct h1_response_framing){ .body = H1_BODY_UNTIL_CLOSE };
	if (f.cl_lines && f.te_lines)
		return H1_ERR_BAD_RESPONSE;
	if (f.te.chunked > 1)
		return H1_ERR_BAD_RESPONSE;
	if (f.cl_lines && !response_length(res, &f, &length))
		return H1_ERR_BAD_RESPONSE;

	out->has_content_length = f.cl_lines > 0;
	out->content_length = length;
	if (request_was_head || status < 200 || status == 204 || status == 304)
		out->body = H1_BODY_NONE;
	else if (f.te_lines && f.te.last_chunked)
		out->body = H1_BODY_CHUNKED;
	else if (f.cl_lines)
		out->body = H1_BODY_LENGTH;
	/* RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing;
	 * whatever body it has, the connection is not reused. */
	out->keep_alive = out->body != H1_BODY_UNTIL_CLOSE &&
			  !(f.te_lines && res->minor_version == 0) &&
			  keep_alive(res->minor_version, f.conn);
	out->websocket = (f.conn & CONN_UPGRADE) && f.upgrade_websocket;
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

struct slice h1_find_header(const struct http_header *headers, size_t n,
			    const char *name)
{
	struct slice want = slice_from_cstr(name);

	for (size_t i = 0; i < n; i++)
		if (slice_ieq(headers[i].name, want))
			return headers[i].value;
	return SLICE_NULL;
}

bool h1_each_token(struct slice value,
		   bool (*visit)(struct slice token, void *arg), void *arg)
{
	const char *p = value.ptr, *end;

	if (value.len == 0)
		return true;
	end = p + value.len;
	for (;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		struct slice token = slice_trim(slice_make(p, (size_t)(stop - p)));

		if (token.len > 0 && !visit(token, arg))
			return false;
		if (!comma)
			return true;
		p = comma + 1;
	}
}
