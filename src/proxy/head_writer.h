/*
 * head_writer: appends the text of an HTTP/1 head into a buffer, remembering
 * overflow instead of checking at every call.
 */
#ifndef PORTICO_PROXY_HEAD_WRITER_H
#define PORTICO_PROXY_HEAD_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/slice.h"

struct head_writer {
	struct buf *out;   /* borrowed */
	bool overflow;
};

static inline void hw_bytes(struct head_writer *hw, const char *p, size_t len)
{
	struct buf *b = hw->out;

	if (hw->overflow || buf_room(b) < len) {
		hw->overflow = true;
		return;
	}
	memcpy(buf_tail(b), p, len);
	b->end += len;
}

static inline void hw_slice(struct head_writer *hw, struct slice s)
{
	hw_bytes(hw, s.ptr, s.len);
}

static inline void hw_str(struct head_writer *hw, const char *s)
{
	hw_bytes(hw, s, strlen(s));
}

void hw_u64(struct head_writer *hw, uint64_t v);

struct vars;

/* "Name: value\r\n" for a value from a route's set_*_headers: variables
 * expanded; an empty result, or one longer than HW_FIELD_VALUE_MAX, writes
 * nothing. */
void hw_route_value(struct head_writer *hw, struct slice name, const char *value,
		    const struct vars *vars);

#define HW_FIELD_VALUE_MAX 4096

/* "Name: value\r\n" */
static inline void hw_header(struct head_writer *hw, struct slice name, struct slice value)
{
	hw_slice(hw, name);
	hw_bytes(hw, ": ", 2);
	hw_slice(hw, value);
	hw_bytes(hw, "\r\n", 2);
}

/* A field of a parsed head, copied as received (the parser's slices point
 * into its line, "Name:" then the value, then CRLF when no whitespace
 * trailed the value): one copy instead of four. */
static inline void hw_field(struct head_writer *hw, struct slice name, struct slice value)
{
	const char *end = value.ptr + value.len;
	bool one_line = value.len && value.ptr > name.ptr && end[0] == '\r' && end[1] == '\n';

	if (one_line)
		hw_bytes(hw, name.ptr, (size_t)(end + 2 - name.ptr));
	else
		hw_header(hw, name, value);
}

#endif
