/* SPDX-License-Identifier: MIT */
/* tests/unit/test_ratelimit.c: the stub's response rate limit per source
 * prefix, against a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ratelimit.h"

static struct sockaddr_storage
src(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

/* n responses to text at now_ms: how many passed, dropped, slipped. */
static void
burst(struct ratelimit *rl, const char *text, int n, uint32_t rate,
    uint32_t slip, uint64_t now_ms, int out[3])
{
	struct sockaddr_storage ss = src(text);
	int i;

	memset(out, 0, 3 * sizeof(int));
	for (i = 0; i < n; i++)
		out[ratelimit_check(rl, (struct sockaddr *)&ss, rate, slip,
		    now_ms)]++;
}

/* rate 0 is off. */
static void
test_off(void **state)
{
	struct ratelimit *rl = ratelimit_new();
	int r[3];

	(void)state;
	burst(rl, "192.0.2.1", 100000, 0, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 100000);
	ratelimit_free(rl);
}

/* A second's burst passes, then every second dropped one slips. */
static void
test_burst_and_slip(void **state)
{
	struct ratelimit *rl = ratelimit_new();
	int r[3];

	(void)state;
	burst(rl, "192.0.2.1", 30, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 10);
	assert_int_equal(r[RATELIMIT_DROP], 10);
	assert_int_equal(r[RATELIMIT_SLIP], 10);
	/* slip 0: none; slip 1: all. */
	burst(rl, "198.51.100.1", 30, 10, 0, 1000, r);
	assert_int_equal(r[RATELIMIT_SLIP], 0);
	assert_int_equal(r[RATELIMIT_DROP], 20);
	burst(rl, "203.0.113.1", 30, 10, 1, 1000, r);
	assert_int_equal(r[RATELIMIT_SLIP], 20);
	ratelimit_free(rl);
}

/* Tokens come back at the rate, and no more than a second's are kept. */
static void
test_refill(void **state)
{
	struct ratelimit *rl = ratelimit_new();
	int r[3];

	(void)state;
	burst(rl, "192.0.2.1", 10, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 10);
	burst(rl, "192.0.2.1", 5, 10, 2, 1099, r);
	assert_int_equal(r[RATELIMIT_PASS], 0);
	burst(rl, "192.0.2.1", 5, 10, 2, 1100, r);
	assert_int_equal(r[RATELIMIT_PASS], 1);
	burst(rl, "192.0.2.1", 50, 10, 2, 60000, r);
	assert_int_equal(r[RATELIMIT_PASS], 10);
	/* A clock that goes back gives nothing. */
	burst(rl, "192.0.2.1", 5, 10, 2, 50000, r);
	assert_int_equal(r[RATELIMIT_PASS], 0);
	ratelimit_free(rl);
}

/* One IPv4 /24, one IPv6 /56, is one source. */
static void
test_prefixes(void **state)
{
	struct ratelimit *rl = ratelimit_new();
	int r[3];

	(void)state;
	burst(rl, "192.0.2.1", 10, 10, 2, 1000, r);
	burst(rl, "192.0.2.254", 1, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 0);
	burst(rl, "192.0.3.1", 1, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 1);
	burst(rl, "2001:db8:0:100::1", 10, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 10);
	burst(rl, "2001:db8:0:1ff:ffff::1", 1, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 0);
	burst(rl, "2001:db8:0:200::1", 1, 10, 2, 1000, r);
	assert_int_equal(r[RATELIMIT_PASS], 1);
	ratelimit_free(rl);
}

/* The table is bounded: many more prefixes than slots are all tracked
 * or forgotten, and a busy prefix is not forgotten for idle ones. */
static void
test_bounded(void **state)
{
	struct ratelimit *rl = ratelimit_new();
	char a[32];
	int r[3], i, dropped = 0;

	(void)state;
	burst(rl, "192.0.2.1", 10, 10, 0, 1000, r);
	for (i = 0; i < 4 * RATELIMIT_SLOTS; i++) {
		snprintf(a, sizeof(a), "10.%d.%d.1", (i >> 8) & 0xff, i & 0xff);
		burst(rl, a, 1, 10, 0, 1000 + (uint64_t)i / 1000, r);
		assert_int_equal(r[RATELIMIT_PASS], 1);
		/* The busy prefix stays limited meanwhile. */
		if (i % 1000 == 0) {
			burst(rl, "192.0.2.1", 1, 10, 0,
			    1000 + (uint64_t)i / 1000, r);
			dropped += r[RATELIMIT_DROP];
		}
	}
	assert_true(dropped > 0);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_burst_and_slip),
		cmocka_unit_test(test_refill),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
