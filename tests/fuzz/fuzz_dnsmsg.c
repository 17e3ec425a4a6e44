/* SPDX-License-Identifier: MIT */
/* tests/fuzz/fuzz_dnsmsg.c: fuzz target for the DNS message codec. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * A query that decodes must survive a trip through the writer: its
 * question written out and decoded again is the same question. The input
 * is also read as a response (flattened, then written into a new message
 * as the stub does with forwarded answers): nothing may read past it.
 */
static void
check_query(const uint8_t *data, size_t size)
{
	struct dnsmsg_query q, q2;
	struct dnsmsg_writer w;
	uint8_t out[DNSMSG_UDP_MIN];
	size_t len;
	int rc;

	if ((rc = dnsmsg_query_decode(data, size, &q)) == -1)
		return;
	if (rc != DNSMSG_NOERROR && rc != DNSMSG_BADVERS &&
	    rc != DNSMSG_FORMERR && rc != DNSMSG_NOTIMP)
		abort();
	if (rc != DNSMSG_NOERROR)
		return;
	dnsmsg_writer_init(&w, out, sizeof(out), sizeof(out), 0);
	dnsmsg_put_header(&w, q.id, 0);
	if (dnsmsg_put_question(&w, &q.qname, q.qtype, q.qclass) == -1)
		abort();
	len = dnsmsg_finish(&w, 0);
	if (dnsmsg_query_decode(out, len, &q2) != DNSMSG_NOERROR ||
	    q2.id != q.id || q2.qtype != q.qtype || q2.qclass != q.qclass ||
	    q2.qname.len != q.qname.len ||
	    memcmp(q2.qname.b, q.qname.b, q.qname.len) != 0)
		abort();
}

static void
check_response(const uint8_t *data, size_t size)
{
	static uint8_t flat[128 * 1024], out[DNSMSG_MSG_MAX];
	struct dnsmsg_writer w;
	struct dnsmsg_rr rr;
	struct buf b;
	uint16_t flags;
	uint8_t rcode;
	int n, r;

	buf_init_write(&b, flat, sizeof(flat));
	if ((n = dnsmsg_response_flatten(data, size, &b, &flags, &rcode)) ==
	    -1)
		return;
	dnsmsg_writer_init(&w, out, sizeof(out), 1232, 1);
	dnsmsg_put_header(&w, 1, flags);
	buf_init_read(&b, flat, b.pos);
	while ((r = dnsmsg_flat_next(&b, &rr)) == 1) {
		n--;
		(void)dnsmsg_put_rr(&w, &rr);
	}
	if (r == -1 || n != 0)
		abort();
	dnsmsg_put_opt(&w, 1232, 0, 0);
	if (dnsmsg_finish(&w, rcode) > 1232)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dnsmsg_name n;
	char text[256];
	uint8_t addr[16];
	struct buf b;

	check_query(data, size);
	check_response(data, size);
	/* The input as a name at offset 0 (pointers must all fail). */
	buf_init_read(&b, data, size);
	if (dnsmsg_name_get(data, size, &b, &n) == 0) {
		(void)dnsmsg_name_reverse(&n, addr);
		if (dnsmsg_name_text(&n, text, sizeof(text)) == 0 &&
		    strlen(text) > 253)
			abort();
	}
	return 0;
}
