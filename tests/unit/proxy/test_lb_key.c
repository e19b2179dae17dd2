/*
 * Tests for proxy/lb_key: the key of ip_hash / hash balancing.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "core/hash.h"
#include "proxy/lb_key.h"

static struct http_header headers[4];
static struct h1_request req;

static void set_headers(const char *const *pairs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		headers[i].name = slice_from_cstr(pairs[2 * i]);
		headers[i].value = slice_from_cstr(pairs[2 * i + 1]);
	}
	req.headers = headers;
	req.num_headers = n;
}

static uint64_t key_of(const struct upstream_config *cfg, const char *ip, const char *path,
		       bool *has)
{
	return lb_key_hash(cfg, &req, ip, slice_from_cstr(path), has);
}

Test(lb_key, other_algorithms_have_no_key)
{
	struct upstream_config cfg = UPSTREAM_CONFIG_DEFAULTS;
	bool has = true;

	set_headers(NULL, 0);
	cr_expect_eq(key_of(&cfg, "10.0.0.1", "/", &has), 0);
	cr_expect_not(has);
}

Test(lb_key, ip_hash_uses_the_client_ip)
{
	struct upstream_config cfg = UPSTREAM_CONFIG_DEFAULTS;
	bool has = false;

	cfg.balance = LB_IP_HASH;
	set_headers(NULL, 0);
	uint64_t a = key_of(&cfg, "10.0.0.1", "/a", &has);
	cr_expect(has);
	cr_expect_eq(key_of(&cfg, "10.0.0.1", "/b", &has), a, "the path does not matter");
	cr_expect_neq(key_of(&cfg, "10.0.0.2", "/a", &has), a);
}

Test(lb_key, header_key_with_client_ip_fallback)
{
	struct upstream_config cfg = UPSTREAM_CONFIG_DEFAULTS;
	const char *const h[] = { "Host", "x", "x-user", "alice" };
	bool has = false;

	cfg.balance = LB_HASH;
	cfg.hash_key_source = LB_KEY_HEADER;
	cfg.hash_key_name = "X-User";
	set_headers(h, 2);
	uint64_t alice = key_of(&cfg, "10.0.0.1", "/", &has);
	cr_expect(has);
	cr_expect_eq(key_of(&cfg, "10.9.9.9", "/other", &has), alice, "name matched case-insensitively");
	set_headers(h, 1);
	uint64_t no_header = key_of(&cfg, "10.0.0.1", "/", &has);
	cr_expect(has);
	cr_expect_neq(no_header, alice);
	cfg.balance = LB_IP_HASH;
	cr_expect_eq(key_of(&cfg, "10.0.0.1", "/", &has), no_header, "falls back to the client IP");
}

Test(lb_key, cookie_key)
{
	struct upstream_config cfg = UPSTREAM_CONFIG_DEFAULTS;
	const char *const h[] = { "Cookie", "a=1; sid=abc ; b=2", "cookie", "sid=zzz" };
	bool has;

	cfg.balance = LB_HASH;
	cfg.hash_key_source = LB_KEY_COOKIE;
	cfg.hash_key_name = "sid";
	set_headers(h, 2);
	uint64_t k = key_of(&cfg, "10.0.0.1", "/", &has);
	cr_expect_eq(k, hash_bytes("abc", 3, 0x706f727469636f00ULL), "the first sid, trimmed");
	cr_expect(slice_eq(lb_key_cookie(SLICE_LIT("x=1;sid=q"), SLICE_LIT("sid")), SLICE_LIT("q")));
	cr_expect_null(lb_key_cookie(SLICE_LIT("xsid=1; sidx=2"), SLICE_LIT("sid")).ptr);
	cr_expect_null(lb_key_cookie(SLICE_LIT(""), SLICE_LIT("sid")).ptr);
	cr_expect(slice_eq(lb_key_cookie(SLICE_LIT(";;sid="), SLICE_LIT("sid")), SLICE_LIT("")));
}

Test(lb_key, path_key)
{
	struct upstream_config cfg = UPSTREAM_CONFIG_DEFAULTS;
	bool has;

	cfg.balance = LB_HASH;
	cfg.hash_key_source = LB_KEY_PATH;
	set_headers(NULL, 0);
	uint64_t a = key_of(&cfg, "10.0.0.1", "/a", &has);
	cr_expect_eq(key_of(&cfg, "10.0.0.2", "/a", &has), a);
	cr_expect_neq(key_of(&cfg, "10.0.0.1", "/b", &has), a);
}
