/* SPDX-License-Identifier: MIT */
/* tests/unit/test_addr.c: unit tests for socket address parsing/printing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cmocka.h>

#include "addr.h"

/* s parsed with defport is the address ip of family af, port port. */
static void
check_addr(int af, const char *s, uint16_t defport, const char *ip,
    uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	uint8_t want[sizeof(struct in6_addr)];
	socklen_t len = 0;

	assert_int_equal(addr_parse(s, defport, &ss, &len), 0);
	assert_int_equal(ss.ss_family, af);
	assert_int_equal(inet_pton(af, ip, want), 1);
	if (af == AF_INET) {
		assert_int_equal(len, sizeof(struct sockaddr_in));
		assert_memory_equal(&sin->sin_addr, want,
		    sizeof(struct in_addr));
		assert_int_equal(ntohs(sin->sin_port), port);
	} else {
		assert_int_equal(len, sizeof(struct sockaddr_in6));
		assert_memory_equal(&sin6->sin6_addr, want,
		    sizeof(struct in6_addr));
		assert_int_equal(ntohs(sin6->sin6_port), port);
	}
	assert_int_equal(addr_port((struct sockaddr *)&ss), port);
}

static void
test_parse_good(void **state)
{
	(void)state;
	check_addr(AF_INET, "127.0.0.1", 7053, "127.0.0.1", 7053);
	check_addr(AF_INET, "10.1.2.3:53", 7053, "10.1.2.3", 53);
	check_addr(AF_INET, "0.0.0.0:65535", 1, "0.0.0.0", 65535);
	check_addr(AF_INET, "192.0.2.1:1", 9, "192.0.2.1", 1);
	check_addr(AF_INET6, "::1", 53, "::1", 53);
	check_addr(AF_INET6, "fe80::1:2", 53, "fe80::1:2", 53);
	check_addr(AF_INET6, "[::1]", 99, "::1", 99);
	check_addr(AF_INET6, "[::1]:5353", 99, "::1", 5353);
	check_addr(AF_INET6, "[2001:db8::7]:65535", 99, "2001:db8::7", 65535);
	check_addr(AF_INET6, "::ffff:192.0.2.1", 53, "::ffff:192.0.2.1", 53);
}

static void
test_parse_bad(void **state)
{
	static const char *bad[] = { "", ":53", "1.2.3.4:", "1.2.3.4:0",
		"1.2.3.4:65536", "1.2.3.4:abc", "1.2.3.4:53x", "1.2.3.4:-1",
		"1.2.3.4:+53", "1.2.3.4: 53", "1.2.3.4:99999999999999999999",
		"[::1]:0", "[::1]:65536", "[::1]:abc", "[::1]:", "[::1]x",
		"[::1", "[]", "[]:53", "[1.2.3.4]:53", "1.2.3", "1.2.3.256",
		"localhost", "localhost:53", "host.example:53", "garbage",
		"::1::2", "[::g]", " 1.2.3.4", "1.2.3.4 ",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999" };
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = 1234;
		if (addr_parse(bad[i], 53, &ss, &len) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(len, 1234);
	}
}

static void
test_format(void **state)
{
	static const char *cases[][2] = {
		{ "127.0.0.1", "127.0.0.1:7053" },
		{ "10.0.0.1:53", "10.0.0.1:53" },
		{ "::1", "[::1]:7053" },
		{ "[2001:DB8:0:0::1]:853", "[2001:db8::1]:853" },
	};
	char out[ADDR_STRLEN], small[6];
	struct sockaddr_storage ss, again;
	socklen_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i][0], 7053, &ss, &len), 0);
		assert_string_equal(addr_format((struct sockaddr *)&ss, out,
		    sizeof(out)), cases[i][1]);
		/* What is printed parses back to the same address. */
		assert_int_equal(addr_parse(out, 1, &again, &len), 0);
		assert_true(addr_equal((struct sockaddr *)&ss,
		    (struct sockaddr *)&again));
	}
	/* A short buffer is truncated, still NUL-terminated. */
	assert_int_equal(addr_parse("10.0.0.1:53", 1, &ss, &len), 0);
	addr_format((struct sockaddr *)&ss, small, sizeof(small));
	assert_string_equal(small, "10.0.");
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_string_equal(addr_format((struct sockaddr *)&ss, out,
	    sizeof(out)), "?");
	assert_int_equal(addr_port((struct sockaddr *)&ss), 0);
}

static void
test_equal(void **state)
{
	/* a, b (b without a port gets 53), and whether they are equal. */
	static const struct {
		const char *a, *b;
		int equal;
	} cases[] = {
		{ "10.0.0.1:53", "10.0.0.1", 1 },
		{ "10.0.0.1:53", "10.0.0.1:54", 0 },
		{ "10.0.0.1:53", "10.0.0.2:53", 0 },
		/* The mapped form of the same IPv4 address is another
		 * family. */
		{ "10.0.0.1:53", "[::ffff:10.0.0.1]:53", 0 },
		{ "[::1]:53", "[0:0::1]:53", 1 },
		{ "[::1]:53", "[::1]:54", 0 },
		{ "[::1]:53", "[::2]:53", 0 },
	};
	struct sockaddr_storage a, b;
	socklen_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse(cases[i].a, 1, &a, &len), 0);
		assert_int_equal(addr_parse(cases[i].b, 53, &b, &len), 0);
		if (!addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b) !=
		    !cases[i].equal)
			fail_msg("addr_equal(%s, %s) is not %d", cases[i].a,
			    cases[i].b, cases[i].equal);
	}

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ss_family = b.ss_family = AF_UNIX;
	assert_false(addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
}

/* The longest path that fits sun_path with its NUL, and one byte more. */
static void
test_unix(void **state)
{
	struct sockaddr_un sun;
	char path[sizeof(sun.sun_path) + 1];

	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(sun.sun_path) - 1] = '\0';
	assert_int_equal(addr_unix(&sun, path), 0);
	assert_int_equal(sun.sun_family, AF_UNIX);
	assert_string_equal(sun.sun_path, path);
	path[sizeof(sun.sun_path) - 1] = 'a';
	path[sizeof(sun.sun_path)] = '\0';
	errno = 0;
	assert_int_equal(addr_unix(&sun, path), -1);
	assert_int_equal(errno, ENAMETOOLONG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
