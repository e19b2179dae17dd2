/*
 * h1_chunked: the chunked transfer coding decoder (contract in h1_parser.h).
 *
 * Owns the chunk framing of RFC 9112 §7.1 as portico accepts it: sizes,
 * extensions (skipped), the CRLF after each payload, and trailers (checked,
 * then dropped).
 *
 * Approach: bodies are unbounded and arrive in arbitrary pieces, so unlike
 * heads this is a resumable state machine, a table of named states that each
 * take one framing byte and name the next. Payload bytes never go through
 * it: in DATA the driver hands out the longest span the buffer and the chunk
 * allow, as a slice into the caller's buffer, so the per-byte cost is paid
 * only on the few framing bytes of each chunk.
 *
 * Rejected: parsing a whole size line at once when it is all in the buffer
 * (a second code path whose results could differ with the split, for a line
 * of a few bytes); interpreting extensions (nothing in portico needs them);
 * reporting trailers (they would need storage the decoder does not own).
 */
#include "http/h1_parser.h"

#include "core/bug.h"

#define CHUNK_SIZE_LINE_MAX 4096   /* size line bytes before its CRLF */
#define CHUNK_TRAILERS_MAX 16384   /* trailer section, CRLFs included */

/*
 * States in wire order; each consumes one byte, except DATA, whose bytes the
 * driver hands out as one span. States up to EXT count toward the size-line
 * limit, those from TRAILER on toward the trailer limit.
 *
 *   SIZE --hex--> SIZE                    (16 digits at most)
 *   SIZE, SIZE_WS --SP/HTAB--> SIZE_WS    (after at least one digit)
 *   SIZE, SIZE_WS --';'--> EXT --VAL--> EXT
 *   SIZE, SIZE_WS, EXT --CR--> SIZE_LF
 *   SIZE_LF --LF, size > 0--> DATA --chunk_left bytes--> DATA_CR
 *   DATA_CR --CR--> DATA_LF --LF--> SIZE
 *   SIZE_LF --LF, size == 0--> TRAILER --CR--> END_LF --LF--> DONE
 *   TRAILER --tchar--> TRAILER_NAME --':'--> TRAILER_VALUE --CR--> TRAILER_LF
 *   TRAILER_LF --LF--> TRAILER
 *   Any byte a state does not expect: ERROR, which is final.
 */
#define CHUNKED_STATES(X)                                                     \
	X(SIZE, st_size)                                                      \
	X(SIZE_WS, st_size_ws)                                                \
	X(EXT, st_ext)                                                        \
	X(SIZE_LF, st_size_lf)                                                \
	X(DATA, NULL)                                                         \
	X(DATA_CR, st_data_cr)                                                \
	X(DATA_LF, st_data_lf)                                                \
	X(TRAILER, st_trailer)                                                \
	X(TRAILER_NAME, st_trailer_name)                                      \
	X(TRAILER_VALUE, st_trailer_value)                                    \
	X(TRAILER_LF, st_trailer_lf)                                          \
	X(END_LF, st_end_lf)                                                  \
	X(DONE, NULL)                                                         \
	X(ERROR, NULL)

enum chunked_state {
#define CHUNKED_ENUM(name, step) CS_##name,
	CHUNKED_STATES(CHUNKED_ENUM)
#undef CHUNKED_ENUM
};

/* Trailer fields that would change framing or routing if merged later. */
static const char *const trailer_forbidden[] = {
	"content-length", "transfer-encoding", "host", "trailer", "connection",
};
#define TRAILER_ALL_NAMES ((1u << ARRAY_SIZE(trailer_forbidden)) - 1)

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static enum chunked_state st_size(struct h1_chunked *dec, unsigned char c)
{
	int h = hex_value(c);

	if (h >= 0) {
		/* 16 digits at most, and the size stays below 2^63. */
		if (++dec->digits > 16 || dec->chunk_left >> 59)
			return CS_ERROR;
		dec->chunk_left = dec->chunk_left << 4 | (uint64_t)h;
		return CS_SIZE;
	}
	if (dec->digits == 0)
		return CS_ERROR;
	if (c == ' ' || c == '\t')
		return CS_SIZE_WS;
	return c == ';' ? CS_EXT : c == '\r' ? CS_SIZE_LF : CS_ERROR;
}

/* BWS after the size: before an extension, or (as nginx and HAProxy accept)
 * before the CRLF. */
static enum chunked_state st_size_ws(struct h1_chunked *dec, unsigned char c)
{
	if (c == ' ' || c == '\t')
		return CS_SIZE_WS;
	return c == ';' ? CS_EXT : c == '\r' ? CS_SIZE_LF : CS_ERROR;
}

/* Extensions are skipped, not interpreted: any field-value byte until CR. */
static enum chunked_state st_ext(struct h1_chunked *dec, unsigned char c)
{
	if (c == '\r')
		return CS_SIZE_LF;
	return h1_char_is((char)c, H1_CH_VALUE) ? CS_EXT : CS_ERROR;
}

static enum chunked_state st_size_lf(struct h1_chunked *dec, unsigned char c)
{
	if (c != '\n')
		return CS_ERROR;
	return dec->chunk_left > 0 ? CS_DATA : CS_TRAILER;
}

static enum chunked_state st_data_cr(struct h1_chunked *dec, unsigned char c)
{
	return c == '\r' ? CS_DATA_LF : CS_ERROR;
}

static enum chunked_state st_data_lf(struct h1_chunked *dec, unsigned char c)
{
	if (c != '\n')
		return CS_ERROR;
	dec->digits = 0;
	dec->line_len = 0;
	return CS_SIZE;
}

/*
 * A trailer field name is matched against the forbidden names as it
 * arrives: dec->digits holds the set of names still matching (bit i for
 * trailer_forbidden[i]) and dec->line_len the name length so far.
 */
static enum chunked_state st_trailer_name(struct h1_chunked *dec,
					  unsigned char c)
{
	if (h1_char_is((char)c, H1_CH_TOKEN)) {
		/* A name leaves the set at its first mismatch (its NUL
		 * included), so no name is read past its end. */
		for (unsigned i = 0; i < ARRAY_SIZE(trailer_forbidden); i++)
			if ((dec->digits & (1u << i)) &&
			    slice_ascii_lower((char)c) !=
				    trailer_forbidden[i][dec->line_len])
				dec->digits &= (uint8_t)~(1u << i);
		dec->line_len++;
		return CS_TRAILER_NAME;
	}
	if (c != ':' || dec->line_len == 0)
		return CS_ERROR;
	for (unsigned i = 0; i < ARRAY_SIZE(trailer_forbidden); i++)
		if ((dec->digits & (1u << i)) &&
		    trailer_forbidden[i][dec->line_len] == '\0')
			return CS_ERROR;
	return CS_TRAILER_VALUE;
}

/* Start of a trailer line: the empty line ends the body; a line starting
 * with anything but a tchar (obs-fold, bare LF) is refused. */
static enum chunked_state st_trailer(struct h1_chunked *dec, unsigned char c)
{
	if (c == '\r')
		return CS_END_LF;
	dec->digits = TRAILER_ALL_NAMES;
	dec->line_len = 0;
	return st_trailer_name(dec, c);
}

static enum chunked_state st_trailer_value(struct h1_chunked *dec,
					   unsigned char c)
{
	if (c == '\r')
		return CS_TRAILER_LF;
	return h1_char_is((char)c, H1_CH_VALUE) ? CS_TRAILER_VALUE : CS_ERROR;
}

static enum chunked_state st_trailer_lf(struct h1_chunked *dec,
					unsigned char c)
{
	return c == '\n' ? CS_TRAILER : CS_ERROR;
}

static enum chunked_state st_end_lf(struct h1_chunked *dec, unsigned char c)
{
	return c == '\n' ? CS_DONE : CS_ERROR;
}

static enum chunked_state (*const chunked_steps[])(struct h1_chunked *,
						   unsigned char) = {
#define CHUNKED_STEP(name, step) step,
	CHUNKED_STATES(CHUNKED_STEP)
#undef CHUNKED_STEP
};

/* One framing byte: the limits first, then the current state's step. */
static enum chunked_state chunked_step(struct h1_chunked *dec,
				       unsigned char c)
{
	int state = dec->state;

	if (state <= CS_EXT && c != '\r' &&
	    ++dec->line_len > CHUNK_SIZE_LINE_MAX)
		return CS_ERROR;
	if (state >= CS_TRAILER && ++dec->trailer_bytes > CHUNK_TRAILERS_MAX)
		return CS_ERROR;
	DEBUG_CHECK(state >= 0 && state < CS_DONE && chunked_steps[state]);
	return chunked_steps[state](dec, c);
}

void h1_chunked_init(struct h1_chunked *dec)
{
	*dec = (struct h1_chunked){ .state = CS_SIZE };
}

ssize_t h1_chunked_decode(struct h1_chunked *dec, const char *buf, size_t len,
			  struct slice *data)
{
	size_t i = 0;

	*data = SLICE_NULL;
	while (i < len && dec->state < CS_DONE) {
		if (dec->state == CS_DATA) {
			size_t n = len - i;
			if (n > dec->chunk_left)
				n = (size_t)dec->chunk_left;
			*data = slice_make(buf + i, n);
			dec->chunk_left -= n;
			if (dec->chunk_left == 0)
				dec->state = CS_DATA_CR;
			return (ssize_t)(i + n);
		}
		dec->state = chunked_step(dec, (unsigned char)buf[i++]);
	}
	if (dec->state == CS_ERROR)
		return H1_ERR_BAD_REQUEST;
	dec->done = dec->state == CS_DONE;
	return (ssize_t)i;
}
