/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_stubresp.c: fuzz target for the stub's response path. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The input is an upstream nameserver's answer. What the stub makes of it
 * must be a well-formed message: flattened (as it is cached), then written
 * into a response as dnsstub does (over UDP at 512 and 1232 bytes, over
 * TCP whole), the response must flatten again into as many records as its
 * counts say (issue 20 item 5: a name cut by a bad pointer came out as a
 * record that dig called malformed). The input is also read as a PTR
 * answer: a name given is one glibc's res_hnok would accept.
 */
static uint8_t flat[128 * 1024], out[DNSMSG_MSG_MAX], again[128 * 1024];

static void
build(const uint8_t *f, size_t flen, uint16_t flags, uint8_t rcode,
    size_t limit)
{
	struct dnsmsg_writer w;
	struct dnsmsg_name q;
	struct dnsmsg_rr rr;
	struct buf b;
	uint16_t f2;
	uint8_t rc2;
	size_t len;
	int n = 0, r;

	dnsmsg_name_from_text("question.test", &q);
	dnsmsg_writer_init(&w, out, sizeof(out), limit, limit > 512);
	dnsmsg_put_header(&w, 0x4242, flags | DNSMSG_F_QR);
	if (dnsmsg_put_question(&w, &q, DNSMSG_T_A, DNSMSG_C_IN) == -1)
		abort();
	buf_init_read(&b, f, flen);
	while ((r = dnsmsg_flat_next(&b, &rr)) == 1) {
		if (dnsmsg_put_rr(&w, &rr) == -1)
			break; /* the stub truncates here (TC) */
		n++;
	}
	if (r == -1)
		abort();
	if (limit > 512)
		dnsmsg_put_opt(&w, (uint16_t)limit, 0, 0);
	if ((len = dnsmsg_finish(&w, rcode)) > limit)
		abort();
	buf_init_write(&b, again, sizeof(again));
	r = dnsmsg_response_flatten(out, len, &b, &f2, &rc2);
	if (r != n || rc2 != rcode)
		abort();
}

static void
check_ptr(const uint8_t *data, size_t size)
{
	struct dnsmsg_name q, n;
	struct buf b;
	char name[254];
	uint32_t ttl;

	buf_init_read(&b, data, size);
	if (buf_skip(&b, DNSMSG_HDR_LEN) == -1 ||
	    dnsmsg_name_get(data, size, &b, &q) == -1)
		return;
	if (dnsmsg_ptr_answer(data, size, &q, name, sizeof(name), &ttl) != 1)
		return;
	if (strlen(name) > 253 || dnsmsg_name_from_text(name, &n) == -1 ||
	    !dnsmsg_name_hostok(&n))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	uint16_t flags;
	uint8_t rcode;

	check_ptr(data, size);
	buf_init_write(&b, flat, sizeof(flat));
	if (dnsmsg_response_flatten(data, size, &b, &flags, &rcode) == -1)
		return 0;
	build(flat, b.pos, flags, rcode, 512);
	build(flat, b.pos, flags, rcode, 1232);
	build(flat, b.pos, flags, rcode, DNSMSG_MSG_MAX);
	return 0;
}
