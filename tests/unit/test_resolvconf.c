/* SPDX-License-Identifier: MIT */
/* tests/unit/test_resolvconf.c: resolv.conf parsing, search list, waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "resolvconf.h"

static char path[64];

static void
write_file(const char *text)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/test_resolvconf.%ld",
	    (long)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *
server(const struct resolvconf *rc, size_t i, char *buf, size_t len)
{
	const struct sockaddr *sa = (const void *)&rc->servers[i].ss;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET,
		    &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    buf, (socklen_t)len);
	return buf;
}

static void
test_parse(void **state)
{
	struct resolvconf rc;
	char b[64];

	(void)state;
	write_file("# comment\n"
		   "; also a comment\n"
		   "nameserver 192.0.2.1\n"
		   "nameserver\t2001:db8::1 # trailing\n"
		   "nameserver not-an-address\n"
		   "nameserver 192.0.2.3\n"
		   "nameserver 192.0.2.4\n"
		   "domain old.example\n"
		   "search a.example b.example. c.example\n"
		   "nameservers 192.0.2.9\n"
		   "options ndots:2 timeout:3 attempts:9 rotate edns0\n"
		   "sortlist 192.0.2.0/24\n");
	assert_int_equal(resolvconf_load(path, &rc), 0);
	unlink(path);
	/* The first three usable ones, as glibc's MAXNS. */
	assert_int_equal(rc.nservers, 3);
	assert_string_equal(server(&rc, 0, b, sizeof(b)), "192.0.2.1");
	assert_string_equal(server(&rc, 1, b, sizeof(b)), "2001:db8::1");
	assert_string_equal(server(&rc, 2, b, sizeof(b)), "192.0.2.3");
	assert_int_equal(rc.nsearch, 3);
	assert_string_equal(rc.search[0], "a.example");
	assert_string_equal(rc.search[1], "b.example");
	assert_string_equal(rc.search[2], "c.example");
	assert_int_equal(rc.ndots, 2);
	assert_int_equal(rc.timeout_s, 3);
	assert_int_equal(rc.attempts, 5); /* capped as RES_MAXRETRY */
	assert_int_equal(rc.rotate, 1);
}

static void
test_defaults(void **state)
{
	struct resolvconf rc, rc2;
	char b[64];

	(void)state;
	assert_int_equal(resolvconf_load("/nonexistent/resolv.conf", &rc), 0);
	assert_int_equal(rc.nservers, 1);
	assert_string_equal(server(&rc, 0, b, sizeof(b)), "127.0.0.1");
	assert_int_equal(rc.ndots, 1);
	assert_int_equal(rc.timeout_s, 5);
	assert_int_equal(rc.attempts, 2);
	assert_int_equal(rc.rotate, 0);
	assert_int_equal(resolvconf_load("/nonexistent/resolv.conf", &rc2), 0);
	assert_true(resolvconf_equal(&rc, &rc2));
	/* The last of domain and search wins. */
	write_file("search a.example b.example\ndomain d.example\n");
	assert_int_equal(resolvconf_load(path, &rc), 0);
	unlink(path);
	assert_int_equal(rc.nsearch, 1);
	assert_string_equal(rc.search[0], "d.example");
	assert_false(resolvconf_equal(&rc, &rc2));
}

static void
test_wait(void **state)
{
	struct resolvconf rc;

	(void)state;
	assert_int_equal(resolvconf_load("/nonexistent/resolv.conf", &rc), 0);
	/* glibc: 5 s x 2 attempts with one nameserver. */
	assert_int_equal(resolvconf_wait_ms(&rc, 0, 1), 10000);
	/* Two: 5 + (5 << 1) / 2 per round. Three: 5 + 10/3 + 20/3. */
	assert_int_equal(resolvconf_wait_ms(&rc, 0, 2), 20000);
	assert_int_equal(resolvconf_wait_ms(&rc, 0, 3),
	    2 * (5000 + 3333 + 6666));
	/* An explicit per-try timeout replaces resolv.conf's. */
	assert_int_equal(resolvconf_wait_ms(&rc, 1500, 1), 3000);
	rc.attempts = 1;
	rc.timeout_s = 1;
	assert_int_equal(resolvconf_wait_ms(&rc, 0, 1), 1000);
}

/* The search walk pays a dead first nameserver once per name (issue 25):
 * "nameserver DEAD, nameserver LIVE, search sub.test test, timeout:1
 * attempts:1" costs glibc 3 s for "v4only.test", and at worst (both
 * servers silent for 1 s each but answering) 3 x 2 s. */
static void
test_walk_wait(void **state)
{
	struct resolvconf rc;

	(void)state;
	assert_int_equal(resolvconf_load("/nonexistent/resolv.conf", &rc), 0);
	rc.nsearch = 2;
	rc.timeout_s = 1;
	rc.attempts = 1;
	assert_int_equal(resolvconf_walk_max(2, "v4only.test"), 3);
	assert_int_equal(resolvconf_walk_max(2, "v4only.test."), 1);
	assert_int_equal(resolvconf_walk_max(2, NULL), 1);
	assert_int_equal(resolvconf_walk_max(0, "host"), 1);
	assert_int_equal(resolvconf_walk_wait_ms(&rc, 0, 2, "v4only.test"),
	    3 * 2000);
	assert_int_equal(resolvconf_walk_wait_ms(&rc, 0, 2, NULL), 2000);
	/* One nameserver: its timeout ends the walk. */
	assert_int_equal(resolvconf_walk_wait_ms(&rc, 0, 1, "v4only.test"),
	    1000);
	rc.timeout_s = 2;
	assert_int_equal(resolvconf_walk_wait_ms(&rc, 0, 2, "v4only.test"),
	    3 * (2000 + 4000 / 2));
}

static void
check_cands(const struct resolvconf *rc, const char *name, int first,
    const char *const *want, size_t n)
{
	char out[RESOLVCONF_SEARCH_MAX + 1][PROTO_NAME_MAX + 1];
	int as_is_first = -1;
	size_t got, i;

	got = resolvconf_candidates(rc, name, out, RESOLVCONF_SEARCH_MAX + 1,
	    &as_is_first);
	assert_int_equal(got, n);
	assert_int_equal(as_is_first, first);
	for (i = 0; i < n; i++)
		assert_string_equal(out[i], want[i]);
}

static void
test_candidates(void **state)
{
	struct resolvconf rc;
	static const char *const s0[] = { "short.a.example", "short.b.example",
		"short" };
	static const char *const s1[] = { "x.y", "x.y.a.example",
		"x.y.b.example" };
	static const char *const s2[] = { "x.y.a.example", "x.y.b.example",
		"x.y" };
	static const char *const s3[] = { "abs.example" };
	static const char *const s4[] = { "plain" };
	char long_name[PROTO_NAME_MAX + 1];
	const char *s5[1];

	(void)state;
	write_file("search a.example b.example\noptions ndots:1\n");
	assert_int_equal(resolvconf_load(path, &rc), 0);
	unlink(path);
	check_cands(&rc, "short", 0, s0, 3);
	check_cands(&rc, "x.y", 1, s1, 3);
	check_cands(&rc, "abs.example.", 1, s3, 1);
	rc.ndots = 2;
	check_cands(&rc, "x.y", 0, s2, 3);
	rc.nsearch = 0;
	check_cands(&rc, "plain", 0, s4, 1);
	/* A name that is too long with a domain is tried as given only. */
	memset(long_name, 'l', 63);
	long_name[63] = '.';
	memset(long_name + 64, 'm', 63);
	long_name[127] = '.';
	memset(long_name + 128, 'n', 63);
	long_name[191] = '.';
	memset(long_name + 192, 'o', 61);
	long_name[PROTO_NAME_MAX] = '\0';
	s5[0] = long_name;
	write_file("search a.example\noptions ndots:9\n");
	assert_int_equal(resolvconf_load(path, &rc), 0);
	unlink(path);
	check_cands(&rc, long_name, 0, s5, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_walk_wait),
		cmocka_unit_test(test_candidates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
