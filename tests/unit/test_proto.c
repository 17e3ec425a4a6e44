/* SPDX-License-Identifier: MIT */
/* tests/unit/test_proto.c: unit tests for the lookup protocol codec. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proto.h"

#define FRAME_BUF (PROTO_HDR_LEN + PROTO_FRAME_MAX)

static struct proto_request
req_fwd(uint32_t id, uint8_t family, const char *name)
{
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.kind = PROTO_KIND_FORWARD;
	r.family = family;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

static struct proto_request
req_rev(uint32_t id, uint8_t family, uint8_t seed)
{
	struct proto_request r;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.id = id;
	r.kind = PROTO_KIND_REVERSE;
	r.family = family;
	for (i = 0; i < proto_addr_len(family); i++)
		r.addr[i] = (uint8_t)(seed + i * 17);
	return r;
}

/* A name of exactly len bytes made of 63-byte labels. */
static void
long_name(char *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (i % 64 == 63) ? '.' : (char)('a' + i % 26);
	out[len] = '\0';
}

static struct proto_answer
answer_max(void)
{
	struct proto_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.source = CODNS_SRC_PEER;
	a.ttl = 0xfffffffeU;
	a.latency_us = 0x01020304;
	memset(a.peer, 'p', PROTO_PEER_MAX);
	long_name(a.cname, PROTO_NAME_MAX);
	a.naliases = PROTO_ALIASES_MAX;
	for (i = 0; i < PROTO_ALIASES_MAX; i++) {
		long_name(a.aliases[i], PROTO_NAME_MAX);
		a.aliases[i][0] = (char)('A' + i);
	}
	a.naddrs = PROTO_ADDRS_MAX;
	for (i = 0; i < PROTO_ADDRS_MAX; i++) {
		a.addrs[i].family = i % 2 ? CODNS_AF_INET6 : CODNS_AF_INET;
		memset(a.addrs[i].a, (int)i + 1,
		    proto_addr_len(a.addrs[i].family));
	}
	return a;
}

static struct proto_answer
answer_min(void)
{
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_NOTFOUND;
	a.source = CODNS_SRC_LOCAL;
	a.ttl = 30;
	return a;
}

/* Encode into frame, returning the whole frame length (or 0). */
static size_t
enc_req(uint8_t *frame, const struct proto_request *r)
{
	struct buf b;

	buf_init_write(&b, frame, FRAME_BUF);
	if (proto_request_encode(&b, r) == -1)
		return 0;
	return b.pos;
}

static size_t
enc_resp(uint8_t *frame, uint32_t id, const struct proto_answer *a)
{
	struct buf b;

	buf_init_write(&b, frame, FRAME_BUF);
	if (proto_response_encode(&b, id, a) == -1)
		return 0;
	return b.pos;
}

static void
assert_answer_equal(const struct proto_answer *x, const struct proto_answer *y)
{
	size_t i;

	assert_int_equal(x->status, y->status);
	assert_int_equal(x->source, y->source);
	assert_int_equal(x->ttl, y->ttl);
	assert_int_equal(x->latency_us, y->latency_us);
	assert_string_equal(x->peer, y->peer);
	assert_string_equal(x->cname, y->cname);
	assert_int_equal(x->naliases, y->naliases);
	for (i = 0; i < x->naliases; i++)
		assert_string_equal(x->aliases[i], y->aliases[i]);
	assert_int_equal(x->naddrs, y->naddrs);
	for (i = 0; i < x->naddrs; i++) {
		assert_int_equal(x->addrs[i].family, y->addrs[i].family);
		assert_memory_equal(x->addrs[i].a, y->addrs[i].a,
		    proto_addr_len(x->addrs[i].family));
	}
}

static void
check_req_round_trip(const struct proto_request *r)
{
	uint8_t frame[FRAME_BUF];
	struct proto_request d;
	size_t n, flen = 0;

	n = enc_req(frame, r);
	assert_true(n > PROTO_HDR_LEN);
	assert_int_equal(frame[2], PROTO_VERSION);
	assert_int_equal(frame[3], PROTO_T_REQUEST);
	assert_int_equal(proto_frame_peek(frame, n, &flen), 1);
	assert_int_equal(flen, n);
	assert_int_equal((size_t)(frame[0] << 8 | frame[1]), n - 2);
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), 0);
	assert_int_equal(d.id, r->id);
	assert_int_equal(d.kind, r->kind);
	assert_int_equal(d.family, r->family);
	if (r->kind == PROTO_KIND_FORWARD)
		assert_string_equal(d.name, r->name);
	else
		assert_memory_equal(d.addr, r->addr,
		    proto_addr_len(r->family));
}

static void
test_request_round_trip(void **state)
{
	char name[PROTO_NAME_MAX + 1];
	struct proto_request r;

	(void)state;
	r = req_fwd(1, CODNS_AF_UNSPEC, "www.example.org");
	check_req_round_trip(&r);
	r = req_fwd(0xffffffffU, CODNS_AF_INET, "a");
	check_req_round_trip(&r);
	r = req_fwd(0x80000001U, CODNS_AF_INET6, "MiXeD.Case.example.");
	check_req_round_trip(&r);
	long_name(name, PROTO_NAME_MAX);
	r = req_fwd(7, CODNS_AF_INET6, name);
	check_req_round_trip(&r);
	r = req_rev(2, CODNS_AF_INET, 192);
	check_req_round_trip(&r);
	r = req_rev(3, CODNS_AF_INET6, 0x20);
	check_req_round_trip(&r);
}

static void
test_request_exact_bytes(void **state)
{
	static const uint8_t want[] = { 0, 12, PROTO_VERSION,
		PROTO_T_REQUEST, 0xde, 0xad, 0xbe, 0xef, PROTO_KIND_REVERSE,
		CODNS_AF_INET, 127, 0, 0, 1 };
	uint8_t frame[FRAME_BUF];
	struct proto_request r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = 0xdeadbeef;
	r.kind = PROTO_KIND_REVERSE;
	r.family = CODNS_AF_INET;
	r.addr[0] = 127;
	r.addr[3] = 1;
	assert_int_equal(enc_req(frame, &r), sizeof(want));
	assert_memory_equal(frame, want, sizeof(want));
}

static void
test_response_round_trip(void **state)
{
	struct proto_answer a[2], d;
	uint8_t frame[FRAME_BUF];
	size_t i, n, flen;
	uint32_t id;

	(void)state;
	a[0] = answer_min();
	a[1] = answer_max();
	for (i = 0; i < 2; i++) {
		n = enc_resp(frame, 0x01020304U + (uint32_t)i, &a[i]);
		assert_true(n > 0);
		assert_int_equal(frame[3], PROTO_T_RESPONSE);
		assert_int_equal(proto_frame_peek(frame, n, &flen), 1);
		assert_int_equal(flen, n);
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(proto_response_decode(frame + 2, n - 2, &id,
		    &d), 0);
		assert_int_equal(id, 0x01020304U + i);
		assert_answer_equal(&d, &a[i]);
	}
	/* The largest answer still fits a frame. */
	assert_true(n <= FRAME_BUF);
}

/* The counted decoder writes what proto_answer_get() writes up to the
 * counts (addresses zero-padded to 16 bytes) and nothing past them. */
static void
test_answer_get_counted(void **state)
{
	static struct proto_answer a, d;
	uint8_t blob[PROTO_FRAME_MAX];
	const uint8_t zero[16] = { 0 };
	struct buf b;
	size_t i;

	(void)state;
	a = answer_max();
	a.naliases = 3;
	a.naddrs = 2;
	buf_init_write(&b, blob, sizeof(blob));
	assert_int_equal(proto_answer_put(&b, &a), 0);
	memset(&d, 0x5a, sizeof(d));
	buf_init_read(&b, blob, b.pos);
	assert_int_equal(proto_answer_get_counted(&b, &d), 0);
	assert_int_equal(buf_remaining(&b), 0);
	assert_answer_equal(&d, &a);
	for (i = 0; i < a.naddrs; i++) {
		size_t alen = proto_addr_len(a.addrs[i].family);

		assert_memory_equal(d.addrs[i].a + alen, zero, 16 - alen);
	}
	assert_int_equal((uint8_t)d.aliases[3][0], 0x5a);
	assert_int_equal(d.addrs[2].family, 0x5a);
	/* Short input fails as proto_answer_get() does. */
	buf_init_read(&b, blob, 5);
	assert_int_equal(proto_answer_get_counted(&b, &d), -1);
}

static void
test_frame_peek(void **state)
{
	uint8_t frame[2 * FRAME_BUF + 4];
	struct proto_request r = req_fwd(5, CODNS_AF_INET, "x.example");
	struct proto_answer a = answer_min();
	size_t n1, n2, flen, i;

	(void)state;
	n1 = enc_req(frame, &r);
	assert_true(n1 > 0);
	/* Partial header and partial body: need more. */
	for (i = 0; i < n1; i++) {
		flen = 12345;
		assert_int_equal(proto_frame_peek(frame, i, &flen), 0);
		assert_int_equal(flen, 12345);
	}
	/* Two frames pipelined in one buffer: one at a time. */
	n2 = enc_resp(frame + n1, 9, &a);
	assert_true(n2 > 0);
	assert_int_equal(proto_frame_peek(frame, n1 + n2, &flen), 1);
	assert_int_equal(flen, n1);
	assert_int_equal(proto_frame_peek(frame + n1, n2, &flen), 1);
	assert_int_equal(flen, n2);
	assert_int_equal(proto_frame_peek(frame + n1, n2 - 1, &flen), 0);

	/* Zero length and over-long frames are fatal for the stream. */
	frame[0] = 0;
	frame[1] = 0;
	assert_int_equal(proto_frame_peek(frame, 2, &flen), -1);
	frame[0] = (PROTO_FRAME_MAX + 1) >> 8;
	frame[1] = (PROTO_FRAME_MAX + 1) & 0xff;
	assert_int_equal(proto_frame_peek(frame, 2, &flen), -1);
	frame[0] = 0xff;
	frame[1] = 0xff;
	assert_int_equal(proto_frame_peek(frame, 2, &flen), -1);
	/* Exactly PROTO_FRAME_MAX is allowed. */
	frame[0] = PROTO_FRAME_MAX >> 8;
	frame[1] = PROTO_FRAME_MAX & 0xff;
	assert_int_equal(proto_frame_peek(frame, 2, &flen), 0);
	assert_int_equal(proto_frame_peek(frame, FRAME_BUF, &flen), 1);
	assert_int_equal(flen, FRAME_BUF);
}

static void
test_truncations_fail(void **state)
{
	uint8_t frame[FRAME_BUF];
	struct proto_request reqs[3], d;
	struct proto_answer ans[2], da;
	size_t i, k, n;
	uint32_t id;

	(void)state;
	reqs[0] = req_fwd(1, CODNS_AF_UNSPEC, "trunc.example");
	reqs[1] = req_rev(2, CODNS_AF_INET, 1);
	reqs[2] = req_rev(3, CODNS_AF_INET6, 1);
	for (k = 0; k < 3; k++) {
		n = enc_req(frame, &reqs[k]) - 2;
		assert_int_equal(proto_request_decode(frame + 2, n, &d), 0);
		for (i = 0; i < n; i++)
			assert_int_equal(proto_request_decode(frame + 2, i,
			    &d), -1);
	}
	ans[0] = answer_min();
	ans[1] = answer_max();
	for (k = 0; k < 2; k++) {
		n = enc_resp(frame, 4, &ans[k]) - 2;
		assert_int_equal(proto_response_decode(frame + 2, n, &id,
		    &da), 0);
		for (i = 0; i < n; i++)
			assert_int_equal(proto_response_decode(frame + 2, i,
			    &id, &da), -1);
	}
}

static void
test_trailing_bytes(void **state)
{
	uint8_t frame[FRAME_BUF];
	struct proto_request r = req_rev(1, CODNS_AF_INET, 1), d;
	struct proto_answer a = answer_min(), da;
	size_t n;
	uint32_t id;

	(void)state;
	n = enc_req(frame, &r);
	frame[n] = 0;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), 0);
	assert_int_equal(proto_request_decode(frame + 2, n - 1, &d), -1);
	n = enc_resp(frame, 1, &a);
	frame[n] = 0;
	assert_int_equal(proto_response_decode(frame + 2, n - 2, &id, &da), 0);
	assert_int_equal(proto_response_decode(frame + 2, n - 1, &id, &da),
	    -1);
}

static void
test_bad_header(void **state)
{
	uint8_t frame[FRAME_BUF];
	struct proto_request r = req_fwd(1, CODNS_AF_INET, "h.example"), d;
	struct proto_answer a = answer_min(), da;
	size_t n;
	uint32_t id;

	(void)state;
	n = enc_req(frame, &r);
	frame[2] = PROTO_VERSION + 1;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), -1);
	frame[2] = 0;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), -1);
	frame[2] = PROTO_VERSION;
	frame[3] = PROTO_T_RESPONSE;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), -1);
	frame[3] = 0;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), -1);
	frame[3] = PROTO_T_REQUEST;
	assert_int_equal(proto_request_decode(frame + 2, n - 2, &d), 0);

	n = enc_resp(frame, 1, &a);
	frame[3] = PROTO_T_REQUEST;
	assert_int_equal(proto_response_decode(frame + 2, n - 2, &id, &da),
	    -1);
	frame[3] = PROTO_T_RESPONSE;
	frame[2] = 7;
	assert_int_equal(proto_response_decode(frame + 2, n - 2, &id, &da),
	    -1);
}

static void
test_bad_kind_family(void **state)
{
	uint8_t frame[FRAME_BUF];
	struct proto_request r, d;
	size_t n;
	int v;

	(void)state;
	/* Offsets in the payload: 6 kind, 7 family. */
	r = req_fwd(1, CODNS_AF_INET, "k.example");
	n = enc_req(frame, &r) - 2;
	for (v = 0; v < 256; v++) {
		frame[2 + 6] = (uint8_t)v;
		assert_int_equal(proto_request_decode(frame + 2, n, &d),
		    v == PROTO_KIND_FORWARD ? 0 : -1);
	}
	frame[2 + 6] = PROTO_KIND_FORWARD;
	for (v = 0; v < 256; v++) {
		frame[2 + 7] = (uint8_t)v;
		assert_int_equal(proto_request_decode(frame + 2, n, &d),
		    v == CODNS_AF_UNSPEC || v == CODNS_AF_INET ||
			    v == CODNS_AF_INET6 ? 0 : -1);
	}
	/* Reverse: family decides the address length; unspec is invalid. */
	r = req_rev(1, CODNS_AF_INET, 1);
	n = enc_req(frame, &r) - 2;
	frame[2 + 7] = CODNS_AF_UNSPEC;
	assert_int_equal(proto_request_decode(frame + 2, n, &d), -1);
	frame[2 + 7] = CODNS_AF_INET6;
	assert_int_equal(proto_request_decode(frame + 2, n, &d), -1);
	frame[2 + 7] = 5;
	assert_int_equal(proto_request_decode(frame + 2, n, &d), -1);
}

/* Hand-build a forward request payload with a raw name. */
static size_t
raw_fwd(uint8_t *p, const char *name, size_t len)
{
	p[0] = PROTO_VERSION;
	p[1] = PROTO_T_REQUEST;
	memset(p + 2, 0, 4);
	p[6] = PROTO_KIND_FORWARD;
	p[7] = CODNS_AF_INET;
	p[8] = (uint8_t)len;
	memcpy(p + 9, name, len);
	return 9 + len;
}

static void
test_invalid_names(void **state)
{
	char name[300];
	uint8_t p[400];
	struct proto_request d, r;
	uint8_t frame[FRAME_BUF];
	size_t n;
	const char *bad[] = { "", ".", "a..b", "..", ".a", "a b", "a\tb",
		"caf\xc3\xa9", "x\x7f" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(proto_name_valid(bad[i]));
		n = raw_fwd(p, bad[i], strlen(bad[i]));
		assert_int_equal(proto_request_decode(p, n, &d), -1);
		r = req_fwd(1, CODNS_AF_INET, bad[i]);
		assert_int_equal(enc_req(frame, &r), 0);
	}
	/* A 63-byte label is fine, 64 is not. */
	memset(name, 'l', 64);
	name[63] = '\0';
	assert_true(proto_name_valid(name));
	name[63] = 'l';
	name[64] = '\0';
	assert_false(proto_name_valid(name));
	n = raw_fwd(p, name, 64);
	assert_int_equal(proto_request_decode(p, n, &d), -1);
	strcpy(name + 64, ".example");
	assert_false(proto_name_valid(name));
	/* 253 bytes are fine, 254 are not; a final dot comes on top. */
	long_name(name, 253);
	assert_true(proto_name_valid(name));
	long_name(name, 254);
	assert_false(proto_name_valid(name));
	n = raw_fwd(p, name, 254);
	assert_int_equal(proto_request_decode(p, n, &d), -1);
	long_name(name, 253);
	strcat(name, ".");
	assert_true(proto_name_valid(name));
	n = raw_fwd(p, name, 254);
	assert_int_equal(proto_request_decode(p, n, &d), 0);
	assert_string_equal(d.name, name);
	long_name(name, 254);
	strcat(name, ".");
	assert_false(proto_name_valid(name));
	n = raw_fwd(p, name, 255);
	assert_int_equal(proto_request_decode(p, n, &d), -1);
	/* A name with a NUL inside the length is refused. */
	n = raw_fwd(p, "ab\0cd", 5);
	assert_int_equal(proto_request_decode(p, n, &d), -1);
	/* Good ones. */
	assert_true(proto_name_valid("a"));
	assert_true(proto_name_valid("localhost"));
	assert_true(proto_name_valid("a.b."));
	assert_true(proto_name_valid("_srv-x.Example-1.org"));
	n = raw_fwd(p, "a.b.", 4);
	assert_int_equal(proto_request_decode(p, n, &d), 0);
	assert_string_equal(d.name, "a.b.");
}

static void
test_answer_caps(void **state)
{
	uint8_t frame[FRAME_BUF];
	struct proto_answer a, d;
	size_t n, off;
	uint32_t id;

	(void)state;
	/* Payload: ver type id(4) status source ttl(4) lat(4) peer(1)
	 * cname(1) naliases naddrs: with empty strings naliases is at 18. */
	a = answer_min();
	n = enc_resp(frame, 1, &a) - 2;
	off = 2 + 18;
	assert_int_equal(frame[off], 0);
	assert_int_equal(frame[off + 1], 0);
	assert_int_equal(n, 20);
	frame[off] = PROTO_ALIASES_MAX + 1;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[off] = 0;
	/* The u8 count cannot pass PROTO_ADDRS_MAX (255): a count the
	 * frame does not hold is refused. */
	frame[off + 1] = PROTO_ADDRS_MAX;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[off + 1] = 0;
	frame[2 + 6] = CODNS_UNAVAIL + 1;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[2 + 6] = CODNS_UNAVAIL;
	frame[2 + 7] = CODNS_SRC_STALE + 1;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[2 + 7] = CODNS_SRC_STALE;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), 0);

	/* An address of an unknown family. */
	a.naddrs = 1;
	a.addrs[0].family = CODNS_AF_INET;
	n = enc_resp(frame, 1, &a) - 2;
	assert_int_equal(n, 25);
	assert_int_equal(frame[2 + 19], 1);
	frame[2 + 20] = CODNS_AF_UNSPEC;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[2 + 20] = CODNS_AF_INET6; /* now too short */
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), -1);
	frame[2 + 20] = CODNS_AF_INET;
	assert_int_equal(proto_response_decode(frame + 2, n, &id, &d), 0);
}

static void
test_encode_refuses(void **state)
{
	uint8_t frame[FRAME_BUF], small[8];
	struct proto_request r;
	struct proto_answer a;
	struct buf b;

	(void)state;
	r = req_rev(1, CODNS_AF_UNSPEC, 0);
	assert_int_equal(enc_req(frame, &r), 0);
	r = req_rev(1, 5, 0);
	assert_int_equal(enc_req(frame, &r), 0);
	r = req_fwd(1, 5, "ok.example");
	assert_int_equal(enc_req(frame, &r), 0);
	r = req_fwd(1, CODNS_AF_INET, "ok.example");
	r.kind = 2;
	assert_int_equal(enc_req(frame, &r), 0);
	r.kind = PROTO_KIND_FORWARD;
	assert_true(enc_req(frame, &r) > 0);
	/* Too small a buffer. */
	buf_init_write(&b, small, sizeof(small));
	assert_int_equal(proto_request_encode(&b, &r), -1);

	a = answer_max();
	a.naliases = PROTO_ALIASES_MAX + 1;
	assert_int_equal(enc_resp(frame, 1, &a), 0);
	/* Every alias and address at their caps fits a frame. */
	a = answer_max();
	assert_true(enc_resp(frame, 1, &a) > 0);
	a = answer_max();
	a.addrs[3].family = CODNS_AF_UNSPEC;
	assert_int_equal(enc_resp(frame, 1, &a), 0);
	a = answer_min();
	a.status = CODNS_UNAVAIL + 1;
	assert_int_equal(enc_resp(frame, 1, &a), 0);
	a = answer_min();
	a.source = CODNS_SRC_STALE + 1;
	assert_int_equal(enc_resp(frame, 1, &a), 0);
	a = answer_min();
	assert_true(enc_resp(frame, 1, &a) > 0);
	buf_init_write(&b, small, sizeof(small));
	assert_int_equal(proto_response_encode(&b, 1, &a), -1);
}

static void
test_addr_len(void **state)
{
	(void)state;
	assert_int_equal(proto_addr_len(CODNS_AF_INET), 4);
	assert_int_equal(proto_addr_len(CODNS_AF_INET6), 16);
	assert_int_equal(proto_addr_len(CODNS_AF_UNSPEC), 0);
	assert_int_equal(proto_addr_len(5), 0);
}

static void
test_asked_case(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(proto_asked_case("short.sub.test.", "Short", buf,
	    sizeof(buf)), "Short.sub.test");
	assert_string_equal(proto_asked_case("web.test", "WEB.test.", buf,
	    sizeof(buf)), "WEB.test");
	/* Not the asked name: as it is. */
	assert_string_equal(proto_asked_case("shorter.test", "short", buf,
	    sizeof(buf)), "shorter.test");
	assert_string_equal(proto_asked_case("other.test.", "web", buf,
	    sizeof(buf)), "other.test.");
	/* No room: as it is. */
	assert_string_equal(proto_asked_case("web.test", "WEB", buf, 8),
	    "web.test");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_exact_bytes),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_answer_get_counted),
		cmocka_unit_test(test_frame_peek),
		cmocka_unit_test(test_truncations_fail),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_kind_family),
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_answer_caps),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_addr_len),
		cmocka_unit_test(test_asked_case),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
