#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "core/cidr.h"

static void ip(const char *text, uint8_t out[16])
{
	cr_assert_eq(cidr_ip_parse(text, strlen(text), out), 0, "%s", text);
}

Test(cidr, parses_ipv4_prefix_as_mapped)
{
	struct cidr c;
	const uint8_t want[16] = { [10] = 0xff, [11] = 0xff, [12] = 10 };

	cr_assert_eq(cidr_parse("10.0.0.0/8", &c), 0);
	cr_expect_eq(c.bits, 104);
	cr_expect_arr_eq(c.addr, want, 16);
}

Test(cidr, parses_ipv6_and_bare_addresses)
{
	struct cidr c;
	uint8_t one[16];

	cr_assert_eq(cidr_parse("::1/128", &c), 0);
	cr_expect_eq(c.bits, 128);
	ip("::1", one);
	cr_expect_arr_eq(c.addr, one, 16);
	cr_assert_eq(cidr_parse("192.168.1.7", &c), 0);
	cr_expect_eq(c.bits, 128);
	cr_assert_eq(cidr_parse("2001:db8::1", &c), 0);
	cr_expect_eq(c.bits, 128);
	cr_assert_eq(cidr_parse("0.0.0.0/0", &c), 0);
	cr_expect_eq(c.bits, 96);
	cr_assert_eq(cidr_parse("::/0", &c), 0);
	cr_expect_eq(c.bits, 0);
}

Test(cidr, clears_host_bits)
{
	struct cidr a, b;

	cr_assert_eq(cidr_parse("10.1.2.3/8", &a), 0);
	cr_assert_eq(cidr_parse("10.0.0.0/8", &b), 0);
	cr_expect_arr_eq(a.addr, b.addr, 16);
	cr_assert_eq(cidr_parse("172.31.255.255/12", &a), 0);
	cr_assert_eq(cidr_parse("172.16.0.0/12", &b), 0);
	cr_expect_arr_eq(a.addr, b.addr, 16);
}

Test(cidr, refuses_malformed)
{
	static const char *const bad[] = {
		"", "abc", "10.0.0.0/33", "::1/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/8x",
		"10.0.0.0/-1", "1.2.3.4/ 8", " 1.2.3.4", "10.0.0.0/0008", "1.2.3.4/8/8", "::1%eth0",
	};
	struct cidr c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(cidr_parse(bad[i], &c), -EINVAL, "\"%s\" should be refused", bad[i]);
	cr_expect_eq(cidr_parse(NULL, &c), -EINVAL);
}

Test(cidr, contains_matches_prefixes)
{
	struct cidr net;
	uint8_t a[16];

	cr_assert_eq(cidr_parse("10.0.0.0/8", &net), 0);
	ip("10.200.3.4", a);
	cr_expect(cidr_contains(&net, a));
	ip("11.0.0.1", a);
	cr_expect_not(cidr_contains(&net, a));
	ip("::ffff:10.9.9.9", a); /* IPv4 seen on a dual-stack socket */
	cr_expect(cidr_contains(&net, a));

	cr_assert_eq(cidr_parse("172.16.0.0/12", &net), 0);
	ip("172.31.0.1", a);
	cr_expect(cidr_contains(&net, a));
	ip("172.32.0.1", a);
	cr_expect_not(cidr_contains(&net, a));

	cr_assert_eq(cidr_parse("2001:db8::/32", &net), 0);
	ip("2001:db8:ffff::1", a);
	cr_expect(cidr_contains(&net, a));
	ip("2001:db9::1", a);
	cr_expect_not(cidr_contains(&net, a));

	cr_assert_eq(cidr_parse("::/0", &net), 0);
	ip("8.8.8.8", a);
	cr_expect(cidr_contains(&net, a));
	cr_assert_eq(cidr_parse("127.0.0.1", &net), 0);
	ip("127.0.0.1", a);
	cr_expect(cidr_contains(&net, a));
	ip("127.0.0.2", a);
	cr_expect_not(cidr_contains(&net, a));
}

Test(cidr, ip_parse_uses_the_length_not_a_terminator)
{
	const char text[] = "10.0.0.1, 10.0.0.2";
	uint8_t a[16], b[16];

	cr_assert_eq(cidr_ip_parse(text, 8, a), 0);
	ip("10.0.0.1", b);
	cr_expect_arr_eq(a, b, 16);
	cr_expect_eq(cidr_ip_parse(text, 9, a), -EINVAL);
	cr_expect_eq(cidr_ip_parse(text, 0, a), -EINVAL);
	cr_expect_eq(cidr_ip_parse("1.2.3.4\0", 8, a), -EINVAL);
}
