/* SPDX-License-Identifier: MIT */
/* tests/unit/test_hrw.c: HRW hashing: determinism, stability, balance. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hrw.h"

#define NAMES 10000
#define NPEERS 10

static void
make_ids(uint64_t *ids, size_t n)
{
	size_t i;

	/* Consecutive addresses, the worst case for a weak mixer. */
	for (i = 0; i < n; i++) {
		unsigned char addr[6] = { 10, 0, 0, (unsigned char)(i + 1),
			0x1b, 0x8d };

		ids[i] = hrw_peer_id(addr, sizeof(addr));
	}
}

static void
name_of(size_t i, char *buf, size_t len)
{
	snprintf(buf, len, "host%zu.example.org", i);
}

static void
test_peer_id(void **state)
{
	unsigned char a[4] = { 127, 0, 0, 1 }, b[4] = { 127, 0, 0, 2 };
	uint64_t ida = hrw_peer_id(a, sizeof(a));

	(void)state;
	assert_int_equal(ida, hrw_peer_id(a, sizeof(a)));
	assert_int_not_equal(ida, hrw_peer_id(b, sizeof(b)));
	assert_int_not_equal(ida, hrw_peer_id(a, 3));
}

static void
test_case_insensitive(void **state)
{
	(void)state;
	assert_int_equal(hrw_name_hash("WWW.Example.COM"),
	    hrw_name_hash("www.example.com"));
	assert_int_equal(hrw_name_hash("www.example.com."),
	    hrw_name_hash("www.example.com"));
	assert_int_not_equal(hrw_name_hash("www.example.com"),
	    hrw_name_hash("www.example.net"));
	assert_int_not_equal(hrw_name_hash("a"), hrw_name_hash("b"));
}

static void
test_order_sorted(void **state)
{
	uint64_t ids[NPEERS], nh, prev;
	size_t order[NPEERS], seen[NPEERS] = { 0 }, i;

	(void)state;
	make_ids(ids, NPEERS);
	hrw_order("Mail.Example.org", ids, NPEERS, order);
	nh = hrw_name_hash("mail.example.org");
	for (i = 0; i < NPEERS; i++) {
		assert_true(order[i] < NPEERS);
		seen[order[i]]++;
		if (i > 0)
			assert_true(hrw_weight(nh, ids[order[i]]) < prev);
		prev = hrw_weight(nh, ids[order[i]]);
	}
	for (i = 0; i < NPEERS; i++)
		assert_int_equal(seen[i], 1);
}

/* The same name gives the same first peer whatever the input order. */
static void
test_order_independent_of_input(void **state)
{
	uint64_t ids[NPEERS], rev[NPEERS];
	size_t a[NPEERS], b[NPEERS], i, n;
	char name[64];

	(void)state;
	make_ids(ids, NPEERS);
	for (i = 0; i < NPEERS; i++)
		rev[i] = ids[NPEERS - 1 - i];
	for (n = 0; n < 200; n++) {
		name_of(n, name, sizeof(name));
		hrw_order(name, ids, NPEERS, a);
		hrw_order(name, rev, NPEERS, b);
		for (i = 0; i < NPEERS; i++)
			assert_int_equal(ids[a[i]], rev[b[i]]);
	}
}

static void
test_balance(void **state)
{
	uint64_t ids[NPEERS];
	size_t order[NPEERS], count[NPEERS] = { 0 }, i;
	char name[64];

	(void)state;
	make_ids(ids, NPEERS);
	for (i = 0; i < NAMES; i++) {
		name_of(i, name, sizeof(name));
		hrw_order(name, ids, NPEERS, order);
		count[order[0]]++;
	}
	/* Each peer within +-20 % of its share of 1000. */
	for (i = 0; i < NPEERS; i++) {
		assert_true(count[i] >= NAMES / NPEERS * 8 / 10);
		assert_true(count[i] <= NAMES / NPEERS * 12 / 10);
	}
}

/* Removing one peer moves exactly the names that peer had. */
static void
test_stability(void **state)
{
	uint64_t ids[NPEERS], fewer[NPEERS - 1];
	size_t order[NPEERS], i, j, gone = 3, moved = 0, had = 0;
	char name[64];

	(void)state;
	make_ids(ids, NPEERS);
	for (i = 0, j = 0; i < NPEERS; i++)
		if (i != gone)
			fewer[j++] = ids[i];
	for (i = 0; i < NAMES; i++) {
		uint64_t before, after;

		name_of(i, name, sizeof(name));
		hrw_order(name, ids, NPEERS, order);
		before = ids[order[0]];
		hrw_order(name, fewer, NPEERS - 1, order);
		after = fewer[order[0]];
		if (before == ids[gone]) {
			had++;
			/* It goes to that name's second choice. */
			hrw_order(name, ids, NPEERS, order);
			assert_int_equal(after, ids[order[1]]);
		} else if (before != after) {
			moved++;
		}
	}
	assert_int_equal(moved, 0);
	assert_true(had > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_id),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_order_sorted),
		cmocka_unit_test(test_order_independent_of_input),
		cmocka_unit_test(test_balance),
		cmocka_unit_test(test_stability),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
