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

static struct dnsmsg_name
wire(const char *text)
{
	struct dnsmsg_name n;

	assert_int_equal(dnsmsg_name_from_text(text, &n), 0);
	return n;
}

/* glibc's res_hnok, on wire names. */
static void
test_name_hostok(void **state)
{
	static const char *good[] = { "host.example", "a-b.c_d.test", "_srv.x",
		"x.-y.test", "9.test", "A" };
	static const char *bad[] = { "-x.test", "x;id.test", "x|sh.test",
		"a$(reboot).test", "x`w`.test", "<y>.evil", "a*.test", "a/b" };
	struct dnsmsg_name n;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = wire(good[i]);
		assert_true(dnsmsg_name_hostok(&n));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = wire(bad[i]);
		assert_false(dnsmsg_name_hostok(&n));
	}
	/* Bytes text cannot spell: a dot, a blank, a NUL, high bytes. */
	memcpy(n.b, "\3a.b\4test\0", 10);
	n.len = 10;
	assert_false(dnsmsg_name_hostok(&n));
	memcpy(n.b, "\3a\0b\0", 5);
	n.len = 5;
	assert_false(dnsmsg_name_hostok(&n));
	memcpy(n.b, "\2\xc3\xa9\0", 4);
	n.len = 4;
	assert_false(dnsmsg_name_hostok(&n));
}

#define Q4 "5.2.0.192.in-addr.arpa"

/* A response to Q4 PTR with the records given (owner, type, rdata). */
struct rec {
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	struct dnsmsg_name target;
};

static size_t
ptr_msg(uint8_t *m, size_t cap, const struct rec *r, size_t n)
{
	struct dnsmsg_writer w;
	struct dnsmsg_name q = wire(Q4);
	struct dnsmsg_rr rr;
	size_t i;

	dnsmsg_writer_init(&w, m, cap, cap, 0);
	dnsmsg_put_header(&w, 7, DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA);
	dnsmsg_put_question(&w, &q, DNSMSG_T_PTR, DNSMSG_C_IN);
	for (i = 0; i < n; i++) {
		memset(&rr, 0, sizeof(rr));
		rr.section = DNSMSG_AN;
		rr.name = wire(r[i].owner);
		rr.type = r[i].type;
		rr.rclass = DNSMSG_C_IN;
		rr.ttl = r[i].ttl;
		rr.rdlen = r[i].target.len;
		rr.rdata = r[i].target.b;
		assert_int_equal(dnsmsg_put_rr(&w, &rr), 0);
	}
	return dnsmsg_finish(&w, 0);
}

static int
ptr_of(const uint8_t *m, size_t len, char *out, uint32_t *ttl)
{
	struct dnsmsg_name q = wire(Q4);

	return dnsmsg_ptr_answer(m, len, &q, out, 254, ttl);
}

/* The answer made of r[0..n): ptr_of() gives want, and name when found;
 * returns the TTL. */
static uint32_t
expect_ptr(const struct rec *r, size_t n, int want, const char *name)
{
	uint8_t m[1024];
	char out[254];
	uint32_t ttl;
	size_t len = ptr_msg(m, sizeof(m), r, n);

	assert_int_equal(ptr_of(m, len, out, &ttl), want);
	if (name != NULL)
		assert_string_equal(out, name);
	return ttl;
}

static void
test_ptr_answer(void **state)
{
	struct rec r[3];

	(void)state;
	/* The plain answer, the owner in another case. */
	r[0] = (struct rec){ "5.2.0.192.IN-ADDR.arpa", DNSMSG_T_PTR, 60,
		wire("Good.test") };
	assert_int_equal(expect_ptr(r, 1, 1, "Good.test"), 60);
	/* Another name's PTR is not the answer (issue 20 item 6)... */
	r[0] = (struct rec){ "6.2.0.192.in-addr.arpa", DNSMSG_T_PTR, 60,
		wire("other.test") };
	expect_ptr(r, 1, 0, NULL);
	/* ...and the first owned by the name asked is. */
	r[1] = (struct rec){ Q4, DNSMSG_T_PTR, 30, wire("mine.test") };
	r[2] = (struct rec){ Q4, DNSMSG_T_PTR, 30, wire("second.test") };
	expect_ptr(r, 3, 1, "mine.test");
	/* RFC 2317: a CNAME into the delegated zone, whose PTR counts. */
	r[0] = (struct rec){ Q4, DNSMSG_T_CNAME, 100,
		wire("5.0-25.2.0.192.in-addr.arpa") };
	r[1] = (struct rec){ "5.0-25.2.0.192.in-addr.arpa", DNSMSG_T_PTR, 40,
		wire("classless.test") };
	assert_int_equal(expect_ptr(r, 2, 1, "classless.test"), 40);
	/* The PTR of the question name after the CNAME is not the answer. */
	r[1].owner = Q4;
	expect_ptr(r, 2, 0, NULL);
	/* No answer records. */
	expect_ptr(r, 0, 0, NULL);
}

/* Names glibc refuses are refused, and so are names cut or pointing
 * astray: never a part of a name. */
static void
test_ptr_answer_refused(void **state)
{
	static const char *hostile[] = { "x\\;id|sh`w`$(reboot)<y>.evil.test",
		"-rf.test", "a b.test" };
	uint8_t m[1024];
	char out[254];
	uint32_t ttl;
	size_t len, i;
	struct rec r[1];
	struct dnsmsg_name n;

	(void)state;
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		r[0] = (struct rec){ Q4, DNSMSG_T_PTR, 60, wire(hostile[i]) };
		expect_ptr(r, 1, -1, NULL);
	}
	/* An escaped dot inside a label. */
	memcpy(n.b, "\3a.b\4test\0", 10);
	n.len = 10;
	r[0] = (struct rec){ Q4, DNSMSG_T_PTR, 60, n };
	expect_ptr(r, 1, -1, NULL);
	/* The name runs past the record: rdlength one short. */
	r[0] = (struct rec){ Q4, DNSMSG_T_PTR, 60, wire("good.test") };
	len = ptr_msg(m, sizeof(m), r, 1);
	m[len - 11 - 1] = 10; /* rdlength's low byte, before the 11 bytes */
	assert_int_equal(ptr_of(m, len, out, &ttl), -1);
	/* A compression pointer to itself. */
	r[0] = (struct rec){ Q4, DNSMSG_T_PTR, 60, wire("good.test") };
	len = ptr_msg(m, sizeof(m), r, 1);
	m[len - 12] = 2;
	m[len - 11] = 0xc0;
	m[len - 10] = (uint8_t)(len - 11);
	assert_int_equal(ptr_of(m, len - 9, out, &ttl), -1);
	/* Cut anywhere: never found. */
	len = ptr_msg(m, sizeof(m), r, 1);
	for (i = 0; i < len; i++)
		assert_int_not_equal(ptr_of(m, i, out, &ttl), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatten_bad_pointer),
		cmocka_unit_test(test_flatten_name_past_rdata),
		cmocka_unit_test(test_flatten_good),
		cmocka_unit_test(test_name_hostok),
		cmocka_unit_test(test_ptr_answer),
		cmocka_unit_test(test_ptr_answer_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
