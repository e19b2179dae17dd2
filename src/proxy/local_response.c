#include "proxy/local_response.h"

#include <stdio.h>
#include <string.h>

#include "http/status.h"
#include "proxy/forward.h"
#include "proxy/head_writer.h"

#define ERROR_BODY_MAX 512

static size_t error_body(const struct local_response *lr, char *out, size_t size)
{
	const char *reason = http_status_reason(lr->status);
	int n;

	if (lr->json)
		n = snprintf(out, size, "{\"status\": %d, \"error\": \"%s\", \"request_id\": \"%.*s\"}\n",
			     lr->status, reason, (int)lr->request_id.len, lr->request_id.ptr);
	else
		n = snprintf(out, size,
			     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
			     "<body><h1>%d %s</h1><p>portico — request %.*s</p></body></html>\n",
			     lr->status, reason, lr->status, reason, (int)lr->request_id.len,
			     lr->request_id.ptr);
	return n < 0 ? 0 : ((size_t)n < size ? (size_t)n : size - 1);
}

size_t local_response_size(const struct local_response *lr)
{
	size_t n = 1024 + ERROR_BODY_MAX + lr->request_id.len * 2;
	if (lr->body)
		n += strlen(lr->body);
	if (lr->location)
		n += strlen(lr->location);
	if (lr->route)
		for (size_t i = 0; i < lr->route->num_set_response_headers; i++)
			n += strlen(lr->route->set_response_headers[i].name) + HW_FIELD_VALUE_MAX + 4;
	if (lr->security->server_header)
		n += strlen(lr->security->server_header);
	return n;
}

static bool has_no_body(const struct local_response *lr)
{
	return lr->status == 204 || lr->status == 304 || lr->status < 200;
}

size_t local_response_body_len(const struct local_response *lr)
{
	char page[ERROR_BODY_MAX];

	if (lr->head_request || has_no_body(lr))
		return 0;
	return lr->content_type ? strlen(lr->body ? lr->body : "")
				: error_body(lr, page, sizeof(page));
}

int local_response_write(struct buf *out, const struct local_response *lr)
{
	struct head_writer hw = { .out = out };
	char page[ERROR_BODY_MAX];
	const char *body = lr->body ? lr->body : "";
	size_t body_len = lr->body ? strlen(lr->body) : 0;
	const char *type = lr->content_type;
	const struct header_pair *set = lr->route ? lr->route->set_response_headers : NULL;
	size_t num_set = lr->route ? lr->route->num_set_response_headers : 0;

	if (!type) {
		body_len = error_body(lr, page, sizeof(page));
		body = page;
		type = lr->json ? "application/json" : "text/html; charset=utf-8";
	}
	hw_str(&hw, "HTTP/1.1 "); /* our version, whatever the client's (RFC 9110 §6.2) */
	hw_u64(&hw, (uint64_t)lr->status);
	hw_bytes(&hw, " ", 1);
	hw_str(&hw, http_status_reason(lr->status));
	hw_bytes(&hw, "\r\n", 2);
	forward_own_field(&hw, set, num_set, SLICE_LIT("Date"), lr->date, lr->vars);
	forward_own_field(&hw, set, num_set, SLICE_LIT("Server"), slice_from_cstr(lr->security->server_header),
			  lr->vars);
	bool no_body = has_no_body(lr);
	if (!no_body) {
		hw_header(&hw, SLICE_LIT("Content-Type"), slice_from_cstr(type));
		hw_str(&hw, "Content-Length: ");
		hw_u64(&hw, body_len);
		hw_bytes(&hw, "\r\n", 2);
	}
	forward_own_field(&hw, set, num_set, SLICE_LIT("X-Request-Id"), lr->request_id, lr->vars);
	if (lr->location)
		hw_header(&hw, SLICE_LIT("Location"), slice_from_cstr(lr->location));
	if (!lr->keep_alive)
		hw_str(&hw, "Connection: close\r\n");
	else if (lr->client_http10)
		hw_str(&hw, "Connection: keep-alive\r\n");
	forward_response_route_fields(&hw, set, num_set, lr->vars);
	hw_bytes(&hw, "\r\n", 2);
	if (!lr->head_request && !no_body)
		hw_bytes(&hw, body, body_len);
	return hw.overflow ? -1 : 0;
}

bool local_response_wants_json(struct slice accept)
{
	bool json = false;

	/* Media ranges are case-insensitive; any wildcard or HTML range means
	 * the client takes HTML too. */
	for (size_t i = 0; i < accept.len; i++) {
		struct slice rest = slice_make(accept.ptr + i, accept.len - i);
		if (accept.ptr[i] == '*')
			return false;
		if (slice_starts_with_ci(rest, SLICE_LIT("html")))
			return false;
		if (slice_starts_with_ci(rest, SLICE_LIT("json")))
			json = true;
	}
	return json;
}
