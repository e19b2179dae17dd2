/*
 * h1_parser: strict, incremental, zero-copy HTTP/1.x parser.
 *
 * Parses request heads, response heads and chunked bodies. It does no I/O
 * and no allocation (picohttpparser's contract): the caller passes the bytes
 * received so far and an array for the headers; every name, value, method
 * and target is a slice into the caller's buffer.
 *
 * Heads are parsed whole: a call either finds the complete head (returns its
 * length), says more bytes are needed (H1_INCOMPLETE), or refuses it with a
 * negative H1_ERR_* code that maps to the status portico answers with.
 * Re-parsing from the start on every read is cheap for heads bounded by
 * max_header_size and keeps the parser stateless.
 *
 * Strictness (PRODUCT.md §3): anything that two implementations could frame
 * differently is refused, never guessed at — see h1_framing_* below.
 */
#ifndef PORTICO_HTTP_H1_PARSER_H
#define PORTICO_HTTP_H1_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/slice.h"

#define H1_INCOMPLETE (-1)
#define H1_ERR_BAD_REQUEST (-400)    /* malformed: answer 400 and close */
#define H1_ERR_URI_TOO_LONG (-414)   /* request target alone over the limit */
#define H1_ERR_HEADER_TOO_LARGE (-431) /* head over max size or too many fields */
#define H1_ERR_NOT_IMPLEMENTED (-501) /* unknown transfer coding */
#define H1_ERR_BAD_RESPONSE (-502)   /* invalid upstream response head */

struct http_header {
	struct slice name;
	struct slice value; /* without leading and trailing whitespace */
};

/* How the body of a message is delimited. */
enum h1_body_kind {
	H1_BODY_NONE,           /* no body at all */
	H1_BODY_LENGTH,         /* exactly content_length bytes */
	H1_BODY_CHUNKED,        /* chunked transfer coding */
	H1_BODY_UNTIL_CLOSE,    /* response only: until the upstream closes */
};

struct h1_request {
	struct slice method;
	struct slice target;        /* as received: origin, absolute, authority or '*' form */
	int minor_version;          /* 0 or 1 (HTTP/1.0 or HTTP/1.1) */
	struct http_header *headers; /* caller's array */
	size_t num_headers;         /* in: capacity of headers; out: count found
				     * (written only on success, so the caller
				     * can re-call with more bytes as is) */
};

struct h1_response {
	int minor_version;
	int status;                 /* 100..999 */
	struct slice reason;
	struct http_header *headers;
	size_t num_headers;         /* in: capacity; out: count (on success only) */
};

/*
 * Parses a request head from buf[0..len).
 * Leading empty lines (CRLF) before the request line are skipped; they are
 * part of the returned length and count toward max_head.
 * max_head is the limit on the whole head (request line + headers + final
 * CRLF); a head that cannot complete within it gives H1_ERR_HEADER_TOO_LARGE,
 * or H1_ERR_URI_TOO_LONG when the request line alone exceeds it (only the
 * first max_head bytes are ever read, so a syntax error found inside them
 * wins over the size). More fields than the capacity of req->headers gives
 * H1_ERR_HEADER_TOO_LARGE. max_head above INT_MAX is treated as INT_MAX.
 * Returns the head's length in bytes (> 0), H1_INCOMPLETE, or an H1_ERR_*.
 * On anything but success the contents of *req are unspecified, except
 * num_headers, which is left as it was.
 * Refused as H1_ERR_BAD_REQUEST: a method that is not a token, a target with
 * a control character or space, more than one space between parts, a version
 * other than HTTP/1.0 or HTTP/1.1, a bare CR or bare LF line ending, obs-fold,
 * whitespace before a colon, a field name that is not a token, a NUL or other
 * control character (except tab) inside a field value. The target may hold
 * obs-text (bytes 0x80-0xFF), as nginx accepts raw UTF-8 paths.
 */
int h1_parse_request(const char *buf, size_t len, struct h1_request *req,
		     size_t max_head);

/*
 * Parses a response head; same contract as h1_parse_request, but errors are
 * H1_ERR_BAD_RESPONSE (or H1_ERR_HEADER_TOO_LARGE when over max_head), and
 * leading empty lines are not skipped. Status line:
 * "HTTP/1.0" or "HTTP/1.1", SP, three digits (100..999), SP, a reason of
 * field-value bytes (possibly empty), CRLF; the SP before an empty reason may
 * be missing ("HTTP/1.1 200\r\n").
 */
int h1_parse_response(const char *buf, size_t len, struct h1_response *res,
		      size_t max_head);

/* What a request's head says about its body and connection. */
struct h1_request_framing {
	enum h1_body_kind body;     /* NONE, LENGTH or CHUNKED */
	uint64_t content_length;    /* when body == H1_BODY_LENGTH */
	bool keep_alive;            /* 1.1 default yes unless "Connection: close"; 1.0 only with keep-alive */
	bool expect_continue;       /* "Expect: 100-continue" */
	bool upgrade;               /* Connection: upgrade + Upgrade header present */
	bool websocket;             /* a WebSocket opening handshake (RFC 6455 §4.1): GET,
				     * HTTP/1.1, Upgrade lists "websocket", Connection
				     * lists "upgrade" (tokens in any case) */
	struct slice host;          /* the single Host value (may be empty slice if absent) */
	bool has_host;
};

/*
 * Examines the headers of a parsed request.
 * Returns 0, H1_ERR_BAD_REQUEST or H1_ERR_NOT_IMPLEMENTED:
 * - Content-Length and Transfer-Encoding together: 400;
 * - Content-Length repeated (even with equal values), empty, with anything
 *   but digits, or overflowing 2^63: 400;
 * - Transfer-Encoding repeated, or whose last coding is not "chunked"
 *   (case-insensitive), or "chunked" appearing twice: 400;
 *   other codings before a final chunked (e.g. "gzip, chunked"): 501;
 *   any Transfer-Encoding in an HTTP/1.0 request: 400;
 * - Host missing in HTTP/1.1, repeated, or with characters not allowed in an
 *   authority: 400.
 */
int h1_request_framing(const struct h1_request *req,
		       struct h1_request_framing *out);

/* What a response's head says about its body and connection. */
struct h1_response_framing {
	enum h1_body_kind body;
	bool has_content_length;    /* a valid Content-Length was present (also for HEAD, 304) */
	uint64_t content_length;    /* its value, duplicates folded */
	bool keep_alive;            /* upstream connection reusable after this response */
	bool websocket;             /* Upgrade lists "websocket" and Connection lists
				     * "upgrade": a 101 that accepts a WebSocket handshake */
};

/*
 * Examines a parsed response. request_was_head: the request was HEAD, so the
 * response has no body whatever its headers say; 1xx, 204 and 304 have none
 * either. Returns 0 or H1_ERR_BAD_RESPONSE for: Content-Length and
 * Transfer-Encoding together, Content-Length values that are malformed or
 * differ (equal repeated values are accepted, RFC 9110 §8.6), a
 * Transfer-Encoding whose last coding is not chunked (then body is
 * H1_BODY_UNTIL_CLOSE per RFC 9112 §6.3 — accepted, not an error), or a
 * repeated chunked. No Content-Length and no Transfer-Encoding: until close.
 * The checks run even when the response has no body. A Content-Length
 * field may be a list of equal values ("42, 42"); whoever forwards the
 * response should send one normalized Content-Length. Several
 * Transfer-Encoding fields are read as one list. keep_alive follows the
 * request rules on the response's version, and is false for
 * H1_BODY_UNTIL_CLOSE and for an HTTP/1.0 response with Transfer-Encoding
 * (RFC 9112 §6.1).
 */
int h1_response_framing(const struct h1_response *res, bool request_was_head,
			struct h1_response_framing *out);

/* Chunked body decoder: a resumable state machine over received bytes. */
struct h1_chunked {
	int state;              /* private */
	uint64_t chunk_left;    /* payload bytes left in the current chunk */
	uint32_t line_len;      /* bytes seen in the current size line, or of
				 * the current trailer field name */
	uint32_t trailer_bytes; /* total trailer bytes seen */
	uint8_t digits;         /* hex digits seen in the current size; in a
				 * trailer name, the forbidden names still
				 * matching (private) */
	bool done;              /* set once the last chunk and trailers are consumed */
};

void h1_chunked_init(struct h1_chunked *dec);

/*
 * Consumes chunked framing and payload from buf[0..len). Stops after the
 * first payload span it finds, so *data (set to a span inside buf, or
 * {NULL,0}) is always contiguous. Returns the number of bytes consumed
 * (>= 0; 0 only when len == 0 or dec->done), or H1_ERR_BAD_REQUEST on
 * invalid framing. The caller loops until it has consumed what it has.
 * Refused: a size with no hex digit, more than 16 hex digits (leading zeros
 * count), a size of 2^63 or more (as Content-Length), a size line over 4096
 * bytes before its CRLF (extensions included), bytes other than CRLF after a
 * chunk's payload, a bare LF or CR, trailer fields that are not valid field
 * lines (obs-fold included), trailers over 16 KiB in total (field lines and
 * the final CRLF), and the trailer fields Content-Length, Transfer-Encoding,
 * Host, Trailer, Connection. SP/HTAB may follow the size, before ';' or the
 * CRLF; extensions are skipped, not interpreted.
 * Trailers are consumed without being reported. The result does not depend
 * on how the input is split across calls. After an error every later call
 * returns H1_ERR_BAD_REQUEST too (the caller answers 502 when decoding a
 * response body).
 */
ssize_t h1_chunked_decode(struct h1_chunked *dec, const char *buf, size_t len,
			  struct slice *data);

/* Whether a Host value (or an absolute-form target's authority) has only
 * characters allowed in an authority. */
bool h1_host_valid(struct slice host);

/* Returns the value of the first header named name, or SLICE_NULL. */
struct slice h1_find_header(const struct http_header *headers, size_t n,
			    const char *name);

/*
 * Calls visit(token) for each comma-separated token of a list-valued field
 * value (Connection, Transfer-Encoding), trimmed of OWS, skipping empty ones.
 * Stops and returns false if visit returns false.
 */
bool h1_each_token(struct slice value, bool (*visit)(struct slice token, void *arg),
		   void *arg);

/*
 * Internal to h1_parser.c and h1_chunked.c: the byte classes of the HTTP
 * grammar, one bit each in h1_char_class[]. Other modules use the functions
 * above instead.
 */
enum {
	H1_CH_TOKEN = 1u << 0,  /* tchar (RFC 9110 §5.6.2) */
	H1_CH_VALUE = 1u << 1,  /* field-value byte: SP, HTAB, VCHAR, obs-text */
	H1_CH_TARGET = 1u << 2, /* request-target byte: VCHAR, obs-text */
	H1_CH_HOST = 1u << 3,   /* unreserved, sub-delims, ':', '[', ']', '%' */
};

extern const uint8_t h1_char_class[256];

static inline bool h1_char_is(char c, unsigned mask)
{
	return (h1_char_class[(unsigned char)c] & mask) != 0;
}

#endif
