#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "net/addr.h"

static void expect_formats_as(const char *text, const char *want)
{
	struct addr a;
	const char *why = NULL;
	char buf[128];

	cr_assert_eq(addr_parse(text, &a, &why), 0, "%s: %s", text, why ? why : "");
	addr_format(&a, buf, sizeof(buf));
	cr_expect_str_eq(buf, want, "%s", text);
}

static void expect_refused(const char *text, const char *why_part)
{
	struct addr a;
	const char *why = NULL;

	cr_expect_eq(addr_parse(text, &a, &why), -EINVAL, "\"%s\" should be refused", text);
	cr_assert_not_null(why, "%s", text);
	cr_expect(strstr(why, why_part) != NULL, "%s: hint \"%s\" lacks \"%s\"", text, why, why_part);
}

Test(addr, parses_every_form)
{
	expect_formats_as(":8080", "0.0.0.0:8080");
	expect_formats_as("127.0.0.1:80", "127.0.0.1:80");
	expect_formats_as("[::1]:8080", "[::1]:8080");
	expect_formats_as("[2001:db8::5]:65535", "[2001:db8::5]:65535");
	expect_formats_as("unix:/run/portico.sock", "unix:/run/portico.sock");
	expect_formats_as("localhost:9000", "127.0.0.1:9000"); /* resolved, IPv4 preferred */
}

Test(addr, sets_family_and_length)
{
	struct addr a;

	cr_assert_eq(addr_parse(":8080", &a, NULL), 0);
	cr_expect_eq(a.ss.ss_family, AF_INET);
	cr_expect_eq(a.len, sizeof(struct sockaddr_in));
	cr_expect_eq(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 8080);
	cr_expect_eq(((struct sockaddr_in *)&a.ss)->sin_addr.s_addr, htonl(INADDR_ANY));
	cr_assert_eq(addr_parse("[::1]:1", &a, NULL), 0);
	cr_expect_eq(a.ss.ss_family, AF_INET6);
	cr_expect_eq(a.len, sizeof(struct sockaddr_in6));
	cr_assert_eq(addr_parse("unix:/x", &a, NULL), 0);
	cr_expect_eq(a.ss.ss_family, AF_UNIX);
	cr_expect_eq(a.len, offsetof(struct sockaddr_un, sun_path) + 3);
}

Test(addr, refuses_bad_ports_with_a_hint)
{
	expect_refused(":0", "between 1 and 65535");
	expect_refused(":65536", "between 1 and 65535");
	expect_refused("127.0.0.1:99999999", "between 1 and 65535");
	expect_refused("127.0.0.1:http", "between 1 and 65535");
	expect_refused("127.0.0.1:", "between 1 and 65535");
	expect_refused("[::1]:0", "between 1 and 65535");
}

Test(addr, refuses_malformed_addresses)
{
	char long_path[200];

	expect_refused("", "expected HOST:PORT");
	expect_refused("127.0.0.1", "missing port");
	expect_refused("::1:8080", "brackets");
	expect_refused("[::1]", "missing port");
	expect_refused("[::1:8080", "missing ']'");
	expect_refused("[zz]:80", "invalid IPv6");
	expect_refused("256.1.1.1:80", "invalid IPv4");
	expect_refused("bad host!:80", "invalid host");
	expect_refused("unix:", "socket path");
	memset(long_path, 'a', sizeof(long_path));
	memcpy(long_path, "unix:/", 6);
	long_path[sizeof(long_path) - 1] = '\0';
	expect_refused(long_path, "too long");
	expect_refused(NULL, "expected HOST:PORT");
}

Test(addr, unresolvable_name_is_refused)
{
	expect_refused("no-such-host.invalid:80", "could not be resolved");
}

Test(addr, format_ip_only)
{
	struct addr a;
	char buf[64];

	cr_assert_eq(addr_parse("10.1.2.3:80", &a, NULL), 0);
	addr_format_ip((struct sockaddr *)&a.ss, buf, sizeof(buf));
	cr_expect_str_eq(buf, "10.1.2.3");
	cr_assert_eq(addr_parse("[::1]:80", &a, NULL), 0);
	addr_format_ip((struct sockaddr *)&a.ss, buf, sizeof(buf));
	cr_expect_str_eq(buf, "::1");
	cr_assert_eq(addr_parse("unix:/s", &a, NULL), 0);
	addr_format_ip((struct sockaddr *)&a.ss, buf, sizeof(buf));
	cr_expect_str_eq(buf, "unix");
}
