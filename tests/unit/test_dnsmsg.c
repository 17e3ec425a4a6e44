/* SPDX-License-Identifier: MIT */
/* tests/unit/test_dnsmsg.c: unit tests for the DNS message codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnsmsg.h"

/* A response to "a.test" with one answer record: owner a pointer to the
 * question's name, then type, class IN, TTL 300 and the rdata given. */
static size_t
msg_one(uint8_t *m, uint16_t qtype, uint16_t type, const void *rdata,
    uint16_t rdlen)
{
	static const uint8_t head[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0,
		0, 1, 'a', 4, 't', 'e', 's', 't', 0 };
	size_t n = sizeof(head);

	memcpy(m, head, n);
	m[n++] = (uint8_t)(qtype >> 8);
	m[n++] = (uint8_t)qtype;
	m[n++] = 0;
	m[n++] = 1;
	m[n++] = 0xc0;
	m[n++] = 12;
	m[n++] = (uint8_t)(type >> 8);
	m[n++] = (uint8_t)type;
	m[n++] = 0;
	m[n++] = 1;
	memcpy(m + n, "\0\0\x01\x2c", 4);
	n += 4;
	m[n++] = (uint8_t)(rdlen >> 8);
	m[n++] = (uint8_t)rdlen;
	memcpy(m + n, rdata, rdlen);
	return n + rdlen;
}

#define RDATA_AT 36 /* where msg_one() puts the rdata */

static int
flatten(const uint8_t *m, size_t len)
{
	static uint8_t flat[4096];
	struct buf b;
	uint16_t flags;
	uint8_t rcode;

	buf_init_write(&b, flat, sizeof(flat));
	return dnsmsg_response_flatten(m, len, &b, &flags, &rcode);
}

/* A name in rdata behind a bad compression pointer fails the whole
 * message (issue 20 item 5): it was kept with empty rdata and cached. */
static void
test_flatten_bad_pointer(void **state)
{
	static const uint16_t types[] = { DNSMSG_T_CNAME, DNSMSG_T_NS,
		DNSMSG_T_PTR };
	uint8_t m[512], rd[4];
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* A pointer to itself, one forward, one past the end. */
		rd[0] = 0xc0;
		rd[1] = RDATA_AT;
		len = msg_one(m, types[i], types[i], rd, 2);
		assert_int_equal(flatten(m, len), -1);
		rd[1] = RDATA_AT + 1;
		len = msg_one(m, types[i], types[i], rd, 2);
		assert_int_equal(flatten(m, len), -1);
		rd[0] = 0xc1;
		len = msg_one(m, types[i], types[i], rd, 2);
		assert_int_equal(flatten(m, len), -1);
	}
	/* MX: preference, then the bad name. */
	memcpy(rd, "\0\x0a\xc0", 3);
	rd[3] = RDATA_AT + 2;
	len = msg_one(m, DNSMSG_T_MX, DNSMSG_T_MX, rd, 4);
	assert_int_equal(flatten(m, len), -1);
	/* SOA: the first name bad. */
	{
		uint8_t soa[2 + 1 + 20] = { 0xc0, RDATA_AT, 0 };

		len = msg_one(m, DNSMSG_T_SOA, DNSMSG_T_SOA, soa, sizeof(soa));
		assert_int_equal(flatten(m, len), -1);
	}
}

/* A name that runs past its record's end is refused, even when the
 * message goes on. */
static void
test_flatten_name_past_rdata(void **state)
{
	static const uint8_t rd[] = { 1, 'b', 0xc0, 12 };
	uint8_t m[512];
	size_t len;

	(void)state;
	/* rdlength 2 cuts "b" + pointer after its label. */
	len = msg_one(m, DNSMSG_T_CNAME, DNSMSG_T_CNAME, rd, 2);
	memcpy(m + len, rd + 2, 2);
	assert_int_equal(flatten(m, len + 2), -1);
}

/* Compressed names in rdata come out expanded, and the record with them. */
static void
test_flatten_good(void **state)
{
	static const uint8_t rd[] = { 1, 'b', 0xc0, 12 };
	static const uint8_t want[] = { 1, 'b', 1, 'a', 4, 't', 'e', 's', 't',
		0 };
	static uint8_t flat[4096];
	struct dnsmsg_rr rr;
	struct buf b;
	uint8_t m[512], mx[6] = { 0, 10, 1, 'b', 0xc0, 12 };
	uint16_t flags;
	uint8_t rcode;
	size_t len;

	(void)state;
	len = msg_one(m, DNSMSG_T_CNAME, DNSMSG_T_CNAME, rd, sizeof(rd));
	buf_init_write(&b, flat, sizeof(flat));
	assert_int_equal(dnsmsg_response_flatten(m, len, &b, &flags, &rcode), 1);
	buf_init_read(&b, flat, b.pos);
	assert_int_equal(dnsmsg_flat_next(&b, &rr), 1);
	assert_int_equal(rr.type, DNSMSG_T_CNAME);
	assert_int_equal(rr.rdlen, sizeof(want));
	assert_memory_equal(rr.rdata, want, sizeof(want));
	assert_int_equal(dnsmsg_flat_next(&b, &rr), 0);
	len = msg_one(m, DNSMSG_T_MX, DNSMSG_T_MX, mx, sizeof(mx));
	assert_int_equal(flatten(m, len), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatten_bad_pointer),
		cmocka_unit_test(test_flatten_name_past_rdata),
		cmocka_unit_test(test_flatten_good),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
