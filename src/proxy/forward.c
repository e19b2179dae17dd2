/*
 * forward: builds the heads that leave portico. Fields are copied one by one
 * from the parsed head (slices into the receive buffer) into a pooled output
 * buffer, skipping the ones portico owns; portico's own fields come last.
 * Rejected: editing the received head in place — removals and insertions
 * would shift the buffer that body bytes are streamed from.
 */
#include "proxy/forward.h"

#include "core/bug.h"
#include "proxy/head_writer.h"

#define MAX_CONNECTION_TOKENS 64

/* The hop-by-hop fields of a WebSocket handshake, written afresh on each hop. */
static const char websocket_fields[] = "Upgrade: websocket\r\nConnection: upgrade\r\n";

struct token_list {
	struct slice tokens[MAX_CONNECTION_TOKENS];
	size_t count;
};

static bool add_token(struct slice token, void *arg)
{
	struct token_list *list = arg;
	if (list->count < MAX_CONNECTION_TOKENS)
		list->tokens[list->count++] = token;
	return true;
}

/* Names listed in Connection headers are hop-by-hop too (RFC 9110 §7.6.1). */
static void collect_connection_tokens(const struct http_header *h, size_t n,
				      struct token_list *out)
{
	out->count = 0;
	for (size_t i = 0; i < n; i++)
		if (slice_ieq_cstr(h[i].name, "connection"))
			h1_each_token(h[i].value, add_token, out);
}

/* True if name is one of names; lengths are compared first, so a field
 * that is none of them costs a few integer compares. */
static bool name_in(struct slice name, const struct slice *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slice_ieq(name, names[i]))
			return true;
	return false;
}

static bool is_hop_by_hop(struct slice name, const struct token_list *listed)
{
	static const struct slice fixed[] = {
		SLICE_LIT("connection"), SLICE_LIT("keep-alive"), SLICE_LIT("te"),
		SLICE_LIT("trailer"), SLICE_LIT("transfer-encoding"), SLICE_LIT("upgrade"),
	};
	if (name_in(name, fixed, ARRAY_SIZE(fixed)))
		return true;
	if (name.len >= 6 && slice_ieq(slice_make(name.ptr, 6), SLICE_LIT("proxy-")))
		return true;
	for (size_t i = 0; i < listed->count; i++)
		if (slice_ieq(name, listed->tokens[i]))
			return true;
	return false;
}

static const struct header_pair *find_pair(const struct header_pair *pairs, size_t n,
					   struct slice name)
{
	for (size_t i = 0; i < n; i++)
		if (slice_ieq_cstr(name, pairs[i].name))
			return &pairs[i];
	return NULL;
}

void forward_own_field(struct head_writer *hw, const struct header_pair *pairs, size_t n,
		       struct slice name, struct slice value, const struct vars *vars)
{
	const struct header_pair *p = find_pair(pairs, n, name);
	if (p)
		hw_route_value(hw, name, p->value, vars);
	else if (value.len)
		hw_header(hw, name, value);
}

/* A route's added fields, except the ones portico writes itself (written by
 * forward_own_field) and framing or hop-by-hop ones, which a route cannot set
 * without desynchronising one side. */
static void write_pairs(struct head_writer *hw, const struct header_pair *pairs, size_t n,
			bool (*owned)(struct slice name), const struct vars *vars)
{
	static const struct token_list none;
	for (size_t i = 0; i < n; i++) {
		struct slice name = slice_from_cstr(pairs[i].name);
		if (pairs[i].value[0] && !owned(name) && !is_hop_by_hop(name, &none) &&
		    !slice_ieq_cstr(name, "content-length"))
			hw_route_value(hw, name, pairs[i].value, vars);
	}
}

/* Fields of the client's request that portico replaces or drops. */
static bool request_field_owned(struct slice name)
{
	static const struct slice owned[] = {
		SLICE_LIT("host"), SLICE_LIT("x-forwarded-for"), SLICE_LIT("x-forwarded-proto"),
		SLICE_LIT("x-forwarded-host"), SLICE_LIT("x-request-id"), SLICE_LIT("via"),
		SLICE_LIT("expect"), SLICE_LIT("content-length"),
	};
	return name_in(name, owned, ARRAY_SIZE(owned));
}

/* Writes "Name: v1, v2, extra" joining every instance of a list field. */
static void write_joined(struct head_writer *hw, struct slice name, const struct http_header *h,
			 size_t n, struct slice extra)
{
	hw_slice(hw, name);
	hw_bytes(hw, ": ", 2);
	for (size_t i = 0; i < n; i++) {
		if (!slice_ieq(h[i].name, name) || h[i].value.len == 0)
			continue;
		hw_slice(hw, h[i].value);
		hw_bytes(hw, ", ", 2);
	}
	hw_slice(hw, extra);
	hw_bytes(hw, "\r\n", 2);
}

static void write_request_framing(struct head_writer *hw, const struct h1_request_framing *fr)
{
	if (fr->body == H1_BODY_LENGTH) {
		hw_str(hw, "Content-Length: ");
		hw_u64(hw, fr->content_length);
		hw_bytes(hw, "\r\n", 2);
	} else if (fr->body == H1_BODY_CHUNKED) {
		hw_str(hw, "Transfer-Encoding: chunked\r\n");
	}
}

int forward_request_head(struct buf *out, const struct forward_request *f)
{
	struct head_writer hw = { .out = out };
	struct token_list listed;
	const struct header_pair *set = f->route->set_request_headers;
	size_t num_set = f->route->num_set_request_headers;

	collect_connection_tokens(f->headers, f->num_headers, &listed);
	hw_slice(&hw, f->method);
	hw_bytes(&hw, " ", 1);
	if (f->target_slash)
		hw_bytes(&hw, "/", 1);
	hw_slice(&hw, f->target);
	hw_str(&hw, " HTTP/1.1\r\n");
	forward_own_field(&hw, set, num_set, SLICE_LIT("Host"), f->host, f->vars);
	for (size_t i = 0; i < f->num_headers; i++) {
		struct slice name = f->headers[i].name;
		if (request_field_owned(name) || is_hop_by_hop(name, &listed) ||
		    find_pair(set, num_set, name))
			continue;
		hw_field(&hw, name, f->headers[i].value);
	}
	/* The one upgrade portico tunnels: the rest of Upgrade's list is not
	 * for the server, Connection was dropped with the hop-by-hop fields. */
	if (f->framing->websocket)
		hw_str(&hw, websocket_fields);
	write_request_framing(&hw, f->framing);
	if (find_pair(set, num_set, SLICE_LIT("X-Forwarded-For")))
		forward_own_field(&hw, set, num_set, SLICE_LIT("X-Forwarded-For"), SLICE_NULL, f->vars);
	else
		write_joined(&hw, SLICE_LIT("X-Forwarded-For"), f->headers, f->num_headers, f->peer_ip);
	forward_own_field(&hw, set, num_set, SLICE_LIT("X-Forwarded-Proto"), f->proto, f->vars);
	forward_own_field(&hw, set, num_set, SLICE_LIT("X-Forwarded-Host"), f->host, f->vars);
	forward_own_field(&hw, set, num_set, SLICE_LIT("X-Request-Id"), f->request_id, f->vars);
	if (find_pair(set, num_set, SLICE_LIT("Via")))
		forward_own_field(&hw, set, num_set, SLICE_LIT("Via"), SLICE_NULL, f->vars);
	else
		write_joined(&hw, SLICE_LIT("Via"), f->headers, f->num_headers, SLICE_LIT("1.1 portico"));
	write_pairs(&hw, set, num_set, request_field_owned, f->vars);
	hw_bytes(&hw, "\r\n", 2);
	return hw.overflow ? -1 : 0;
}

static bool hidden(struct slice name, const struct security_config *sec)
{
	for (size_t i = 0; i < sec->num_hide_backend_headers; i++) {
		const char *h = sec->hide_backend_headers[i];
		/* the first letter rules most out before a strlen */
		if (slice_ascii_lower(h[0]) == slice_ascii_lower(name.ptr[0]) && slice_ieq_cstr(name, h))
			return true;
	}
	return false;
}

static bool response_field_owned(struct slice name)
{
	static const struct slice owned[] = {
		SLICE_LIT("server"), SLICE_LIT("x-request-id"), SLICE_LIT("content-length"),
		SLICE_LIT("date"),
	};
	return name_in(name, owned, ARRAY_SIZE(owned));
}

void forward_response_route_fields(struct head_writer *hw, const struct header_pair *pairs,
				   size_t n, const struct vars *vars)
{
	write_pairs(hw, pairs, n, response_field_owned, vars);
}

static void write_response_framing(struct head_writer *hw, const struct forward_response *f)
{
	/* One Content-Length, even when the upstream repeated it; a chunked
	 * body is relayed as is, so its codings are too. */
	if (f->send_chunked) {
		const char *sep = "Transfer-Encoding: ";
		for (size_t i = 0; i < f->res->num_headers; i++) {
			if (!slice_ieq_cstr(f->res->headers[i].name, "transfer-encoding"))
				continue;
			hw_str(hw, sep);
			hw_slice(hw, f->res->headers[i].value);
			sep = ", ";
		}
		hw_bytes(hw, "\r\n", 2);
	} else if (f->framing->has_content_length && f->framing->body != H1_BODY_UNTIL_CLOSE) {
		hw_str(hw, "Content-Length: ");
		hw_u64(hw, f->framing->content_length);
		hw_bytes(hw, "\r\n", 2);
	}
	if (!f->keep_alive)
		hw_str(hw, "Connection: close\r\n");
	else if (f->client_http10)
		hw_str(hw, "Connection: keep-alive\r\n");
}

int forward_response_head(struct buf *out, const struct forward_response *f)
{
	struct head_writer hw = { .out = out };
	struct token_list listed;
	const struct h1_response *res = f->res;
	const struct header_pair *set = f->route ? f->route->set_response_headers : NULL;
	size_t num_set = f->route ? f->route->num_set_response_headers : 0;
	struct slice date = f->date;

	collect_connection_tokens(res->headers, res->num_headers, &listed);
	hw_str(&hw, "HTTP/1.1 "); /* our version, whatever the client's (RFC 9110 §6.2) */
	hw_u64(&hw, (uint64_t)res->status);
	hw_bytes(&hw, " ", 1);
	hw_slice(&hw, res->reason);
	hw_bytes(&hw, "\r\n", 2);
	for (size_t i = 0; i < res->num_headers; i++) {
		struct slice name = res->headers[i].name;
		if (name.len == 4 && slice_ieq(name, SLICE_LIT("date")) && !hidden(name, f->security)) {
			date = res->headers[i].value; /* the origin's, as received */
			continue;
		}
		if (response_field_owned(name) || is_hop_by_hop(name, &listed) ||
		    hidden(name, f->security) || find_pair(set, num_set, name))
			continue;
		hw_field(&hw, name, res->headers[i].value);
	}
	forward_own_field(&hw, set, num_set, SLICE_LIT("Date"), date, f->vars);
	forward_own_field(&hw, set, num_set, SLICE_LIT("Server"), slice_from_cstr(f->security->server_header), f->vars);
	forward_own_field(&hw, set, num_set, SLICE_LIT("X-Request-Id"), f->request_id, f->vars);
	if (res->status == 101 && f->framing->websocket)
		hw_str(&hw, websocket_fields);
	else
		write_response_framing(&hw, f);
	forward_response_route_fields(&hw, set, num_set, f->vars);
	if (f->extra_field.len) {
		hw_slice(&hw, f->extra_field);
		hw_bytes(&hw, "\r\n", 2);
	}
	hw_bytes(&hw, "\r\n", 2);
	return hw.overflow ? -1 : 0;
}

int forward_interim_head(struct buf *out, const struct h1_response *res)
{
	struct head_writer hw = { .out = out };
	struct token_list listed;

	collect_connection_tokens(res->headers, res->num_headers, &listed);
	hw_str(&hw, "HTTP/1.1 ");
	hw_u64(&hw, (uint64_t)res->status);
	hw_bytes(&hw, " ", 1);
	hw_slice(&hw, res->reason);
	hw_bytes(&hw, "\r\n", 2);
	for (size_t i = 0; i < res->num_headers; i++)
		if (!is_hop_by_hop(res->headers[i].name, &listed))
			hw_header(&hw, res->headers[i].name, res->headers[i].value);
	hw_bytes(&hw, "\r\n", 2);
	return hw.overflow ? -1 : 0;
}

bool forward_request_id_valid(struct slice id)
{
	if (id.len < 1 || id.len > 128)
		return false;
	for (size_t i = 0; i < id.len; i++) {
		char c = id.ptr[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}
