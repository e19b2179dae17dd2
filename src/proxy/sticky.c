#include "proxy/sticky.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "core/rand.h"
#include "proxy/lb_key.h"

static uint64_t secret;
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void secret_init(void)
{
	struct rand_state r;
	rand_seed(&r);
	secret = rand_next(&r);
}

static uint64_t server_id(const struct server_rt *s)
{
	return hash_bytes(s->config->address, strlen(s->config->address), 0x73746b79ULL);
}

static uint64_t signature(uint64_t id, uint64_t expiry)
{
	uint64_t words[2] = { id, expiry };
	pthread_once(&secret_once, secret_init);
	return hash_bytes(words, sizeof(words), secret);
}

static bool parse_hex(struct slice s, uint64_t *out)
{
	if (s.len == 0 || s.len > 16)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		char c = s.ptr[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* "ID.EXPIRY.SIG", each lower-case hex. */
static bool parse_value(struct slice v, uint64_t out[3])
{
	for (int part = 0; part < 3; part++) {
		const char *dot = memchr(v.ptr, '.', v.len);
		size_t n = part < 2 ? (dot ? (size_t)(dot - v.ptr) : v.len + 1) : v.len;
		if (n > v.len || !parse_hex(slice_make(v.ptr, n), &out[part]))
			return false;
		if (part < 2) {
			v.ptr += n + 1;
			v.len -= n + 1;
		}
	}
	return true;
}

int sticky_server(const struct upstream_rt *u, const struct h1_request *req, uint64_t now_s)
{
	const struct sticky_config *sc = u->config->sticky;
	struct slice name = slice_from_cstr(sc->cookie);
	uint64_t f[3];

	for (size_t i = 0; i < req->num_headers; i++) {
		if (!slice_ieq_cstr(req->headers[i].name, "cookie"))
			continue;
		struct slice v = lb_key_cookie(req->headers[i].value, name);
		if (!v.ptr || !parse_value(v, f) || f[1] < now_s || signature(f[0], f[1]) != f[2])
			continue;
		for (size_t s = 0; s < u->num_servers; s++)
			if (server_id(&u->servers[s]) == f[0])
				return (int)s;
	}
	return -1;
}

size_t sticky_set_cookie(const struct upstream_rt *u, const struct server_rt *s, uint64_t now_s,
			 char *out, size_t size)
{
	const struct sticky_config *sc = u->config->sticky;
	uint64_t ttl_s = sc->ttl_ms / 1000;
	uint64_t id = server_id(s), expiry = now_s + ttl_s;
	int n = snprintf(out, size, "Set-Cookie: %s=%llx.%llx.%llx; Path=/; Max-Age=%llu; HttpOnly",
			 sc->cookie, (unsigned long long)id, (unsigned long long)expiry,
			 (unsigned long long)signature(id, expiry), (unsigned long long)ttl_s);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
