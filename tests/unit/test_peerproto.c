/* SPDX-License-Identifier: MIT */
/* tests/unit/test_peerproto.c: peer protocol codec, replay guard, key files. */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "peerproto.h"

#define NOW 1700000000000ULL
#define SKEW 30000

static const uint8_t key1[PEERPROTO_KEY_LEN] = {
	0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
	0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};
static const uint8_t key2[PEERPROTO_KEY_LEN] = { 0x42 };

#define NSAMPLES 9
#define NPLAIN 8 /* the samples of versions 1 and 2 too (no echo) */

/* One valid message of every type and shape, built on zeroed memory so
 * that a decoded copy compares equal byte for byte. */
static void
sample(int i, struct peerproto_msg *m)
{
	struct proto_answer *a = &m->u.answer.a;

	memset(m, 0, sizeof(*m));
	m->version = PEERPROTO_VERSION;
	switch (i) {
	case 0:
	case 1:
		m->type = i == 0 ? PEERPROTO_T_HEARTBEAT : PEERPROTO_T_ACK;
		m->u.beat.seq = 0xdeadbeef + (uint32_t)i;
		m->u.beat.send_time = 0x0102030405060708ULL;
		m->u.beat.ns_mean_ms = 37;
		m->u.beat.ns_fail_permille = 1000;
		m->u.beat.ns_set_id = 0xfedcba9876543210ULL;
		m->u.beat.node_nonce = 0x0badc0ffee0ddf00ULL;
		break;
	case 8:
		m->type = PEERPROTO_T_ECHO;
		m->u.beat.seq = 0xdeadbef0;
		m->u.beat.send_time = 0x1112131415161718ULL;
		m->u.beat.ns_mean_ms = 4;
		m->u.beat.ns_set_id = 0x77;
		m->u.beat.node_nonce = 0x0ddba11ca5cade00ULL;
		break;
	case 2:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 0x1122334455667788ULL;
		m->u.query.kind = PROTO_KIND_FORWARD;
		m->u.query.family = CODNS_AF_UNSPEC;
		strcpy(m->u.query.name, "www.example.org.");
		break;
	case 3:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 7;
		m->u.query.kind = PROTO_KIND_REVERSE;
		m->u.query.family = CODNS_AF_INET;
		memcpy(m->u.query.addr, "\x7f\x00\x00\x01", 4);
		break;
	case 4:
		m->type = PEERPROTO_T_QUERY;
		m->u.query.id = 8;
		m->u.query.kind = PROTO_KIND_REVERSE;
		m->u.query.family = CODNS_AF_INET6;
		m->u.query.addr[15] = 1;
		break;
	case 5:
		m->type = PEERPROTO_T_ANSWER;
		m->u.answer.id = 0xa5a5a5a5a5a5a5a5ULL;
		a->status = CODNS_FOUND;
		a->source = CODNS_SRC_LOCAL;
		a->ttl = 300;
		a->latency_us = 1234;
		strcpy(a->cname, "web.example.org");
		a->naliases = 2;
		strcpy(a->aliases[0], "www.example.org");
		strcpy(a->aliases[1], "w3.example.org");
		a->naddrs = 2;
		a->addrs[0].family = CODNS_AF_INET;
		memcpy(a->addrs[0].a, "\xc0\x00\x02\x01", 4);
		a->addrs[1].family = CODNS_AF_INET6;
		a->addrs[1].a[0] = 0x20;
		a->addrs[1].a[15] = 0x01;
		break;
	case 6:
		m->type = PEERPROTO_T_ANSWER;
		m->u.answer.id = 9;
		a->status = CODNS_NOTFOUND;
		a->ttl = 30;
		break;
	case 7:
		m->type = PEERPROTO_T_CANNOT;
		m->u.cannot.id = 0x0123456789abcdefULL;
		m->u.cannot.reason = PEERPROTO_R_OVERLOAD;
		break;
	}
}

static size_t
enc(const struct peerproto_msg *m, const uint8_t *key, uint64_t ts,
    uint8_t *out)
{
	size_t len = 0;

	assert_int_equal(peerproto_encode(m, key, ts, out, PEERPROTO_DGRAM_MAX,
	    &len), 0);
	assert_true(len >= PEERPROTO_HDR_LEN && len <= PEERPROTO_DGRAM_MAX);
	return len;
}

static void
test_roundtrip(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len, plain;
	int i;

	(void)state;
	for (i = 0; i < NSAMPLES; i++) {
		sample(i, &m);
		plain = enc(&m, NULL, NOW, d);
		assert_int_equal(d[0], 0xC0);
		assert_int_equal(d[1], 0xD5);
		assert_int_equal(d[4], 0);
		assert_int_equal(peerproto_decode(d, plain, NULL, NOW, SKEW,
		    &got), PEERPROTO_OK);
		assert_int_equal(got.type, m.type);
		assert_false(got.authenticated);
		assert_memory_equal(&got.u, &m.u, sizeof(m.u));

		len = enc(&m, key1, NOW + 5, d);
		assert_int_equal(len, plain + PEERPROTO_AUTH_LEN);
		assert_int_equal(d[4], PEERPROTO_F_AUTH);
		assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW,
		    &got), PEERPROTO_OK);
		assert_int_equal(got.type, m.type);
		assert_true(got.authenticated);
		assert_true(got.timestamp == NOW + 5);
		assert_memory_equal(got.tag, d + len - PEERPROTO_TAG_LEN,
		    PEERPROTO_TAG_LEN);
		assert_memory_equal(&got.u, &m.u, sizeof(m.u));
	}
}

static void
test_truncations(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len, n;
	int i, k;

	(void)state;
	for (i = 0; i < NSAMPLES; i++) {
		sample(i, &m);
		for (k = 0; k < 2; k++) {
			const uint8_t *key = k ? key1 : NULL;

			len = enc(&m, key, NOW, d);
			for (n = 0; n < len; n++)
				assert_int_equal(peerproto_decode(d, n, key,
				    NOW, SKEW, &got), PEERPROTO_EMALFORMED);
			/* One byte too many is as bad as one too few. */
			d[len] = 0;
			assert_int_equal(peerproto_decode(d, len + 1, key,
			    NOW, SKEW, &got), PEERPROTO_EMALFORMED);
		}
	}
	assert_int_equal(peerproto_decode(NULL, 0, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
}

static void
test_bad_header(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX], c[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len;
	unsigned t;

	(void)state;
	sample(0, &m);
	len = enc(&m, NULL, NOW, d);

	memcpy(c, d, len);
	c[1] ^= 0x01;
	assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	memcpy(c, d, len);
	c[2] = PEERPROTO_VERSION + 1;
	assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EVERSION);
	c[2] = 0;
	assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EVERSION);
	for (t = 0; t < 256; t++) {
		if (t >= PEERPROTO_T_HEARTBEAT && t <= PEERPROTO_T_ECHO)
			continue;
		memcpy(c, d, len);
		c[3] = (uint8_t)t;
		assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW,
		    &got), PEERPROTO_EMALFORMED);
	}
	/* Reserved flag bits must be zero. */
	for (t = 1; t < 8; t++) {
		memcpy(c, d, len);
		c[4] = (uint8_t)(1u << t);
		assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW,
		    &got), PEERPROTO_EMALFORMED);
	}
	/* A heartbeat body is a valid ack body: the type byte decides. */
	memcpy(c, d, len);
	c[3] = PEERPROTO_T_ACK;
	assert_int_equal(peerproto_decode(c, len, NULL, NOW, SKEW, &got), 0);
	assert_int_equal(got.type, PEERPROTO_T_ACK);
	/* Over the datagram limit, even with valid-looking content. */
	memset(c, 0, sizeof(c));
	memcpy(c, d, len);
	assert_int_equal(peerproto_decode(c, PEERPROTO_DGRAM_MAX + 1, NULL,
	    NOW, SKEW, &got), PEERPROTO_EMALFORMED);
}

static void
test_bad_bodies(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len;

	(void)state;
	/* ns_fail_permille sits after magic..flags, seq, send_time, mean. */
	sample(0, &m);
	len = enc(&m, NULL, NOW, d);
	d[PEERPROTO_HDR_LEN + 16] = 0x03;
	d[PEERPROTO_HDR_LEN + 17] = 0xe9; /* 1001 */
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	m.u.beat.ns_fail_permille = 1001;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);

	/* Query kind and family bytes follow the 8-byte id. */
	sample(3, &m);
	len = enc(&m, NULL, NOW, d);
	d[PEERPROTO_HDR_LEN + 9] = CODNS_AF_UNSPEC;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	sample(3, &m);
	len = enc(&m, NULL, NOW, d);
	d[PEERPROTO_HDR_LEN + 8] = 2;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);

	/* A forward query name goes through proto_name_valid. */
	sample(2, &m);
	len = enc(&m, NULL, NOW, d);
	d[PEERPROTO_HDR_LEN + 11 + 3] = ' ';
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	strcpy(m.u.query.name, "a..b");
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);

	/* Only resolved outcomes are answers. */
	sample(6, &m);
	len = enc(&m, NULL, NOW, d);
	d[PEERPROTO_HDR_LEN + 8] = CODNS_TRYAGAIN;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	m.u.answer.a.status = CODNS_UNAVAIL;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);
	sample(5, &m);
	strcpy(m.u.answer.a.aliases[1], "bad name");
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);

	sample(7, &m);
	len = enc(&m, NULL, NOW, d);
	d[len - 1] = PEERPROTO_R_MAX + 1;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	m.u.cannot.reason = 200;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);
	m.type = 0;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);
}

/*
 * Version 2 heartbeats and acks carry the sender's node nonce; version 1
 * ones do not, and are still read (nonce 0) and written, so a node can
 * ack an old peer in its own version. Other types are the same in both.
 */
static void
test_versions(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX], v1[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len, len1;
	int i;

	(void)state;
	sample(0, &m);
	m.version = 2;
	len = enc(&m, NULL, NOW, d);
	assert_int_equal(d[2], 2);
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got), 0);
	assert_int_equal(got.version, 2);
	assert_true(got.u.beat.node_nonce == 0x0badc0ffee0ddf00ULL);
	/* version 0 in a message means the current one */
	m.version = 0;
	assert_int_equal(enc(&m, NULL, NOW, v1), len + 8);
	assert_int_equal(v1[2], PEERPROTO_VERSION);
	m.version = 2;

	/* Version 1: eight bytes shorter, no nonce; a nonce is an error. */
	m.version = 1;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, v1, sizeof(v1),
	    &len1), -1);
	m.u.beat.node_nonce = 0;
	len1 = enc(&m, key1, NOW, v1);
	assert_int_equal(v1[2], 1);
	assert_int_equal(peerproto_decode(v1, len1, key1, NOW, SKEW, &got), 0);
	assert_int_equal(got.version, 1);
	assert_true(got.u.beat.node_nonce == 0);
	assert_true(got.u.beat.ns_set_id == m.u.beat.ns_set_id);
	len1 = enc(&m, NULL, NOW, v1);
	assert_int_equal(len1 + 8, len);

	/* A version 2 beat without a nonce does not encode or decode. */
	m.version = 2;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, v1, sizeof(v1),
	    &len1), -1);
	memset(d + len - 8, 0, 8);
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	/* Nor does a version 1 beat with the nonce of a version 2 one. */
	sample(1, &m);
	len = enc(&m, NULL, NOW, d);
	d[2] = 1;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);

	/* Every other type reads the same in both versions. */
	for (i = 2; i < NPLAIN; i++) {
		sample(i, &m);
		m.version = 1;
		len = enc(&m, NULL, NOW, d);
		assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW,
		    &got), 0);
		assert_int_equal(got.version, 1);
		for (m.version = 2; m.version <= 3; m.version++) {
			len1 = enc(&m, NULL, NOW, v1);
			assert_int_equal(len, len1);
			assert_memory_equal(d + 3, v1 + 3, len - 3);
		}
	}
	m.version = PEERPROTO_VERSION + 1;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);
}

/*
 * Version 3 adds reply_time to beats (an ack asking for an echo) and the
 * ECHO type. Neither exists before: a reply_time does not encode in
 * version 2, an ECHO not in 1 or 2, and an ECHO whose version byte says
 * 2 does not decode.
 */
static void
test_version3_echo(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX], v2[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len, len2;

	(void)state;
	sample(1, &m);
	m.u.beat.reply_time = 0x2122232425262728ULL;
	len = enc(&m, key1, NOW, d);
	assert_int_equal(d[2], 3);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got), 0);
	assert_true(got.u.beat.reply_time == m.u.beat.reply_time);
	assert_true(got.u.beat.node_nonce == m.u.beat.node_nonce);
	m.version = 2;
	assert_int_equal(peerproto_encode(&m, NULL, NOW, v2, sizeof(v2),
	    &len2), -1);
	m.u.beat.reply_time = 0;
	len2 = enc(&m, key1, NOW, v2);
	assert_int_equal(len2 + 8, len);

	sample(8, &m);
	len = enc(&m, NULL, NOW, d);
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got), 0);
	assert_int_equal(got.type, PEERPROTO_T_ECHO);
	assert_true(got.u.beat.send_time == m.u.beat.send_time);
	assert_string_equal(peerproto_type_str(PEERPROTO_T_ECHO), "echo");
	for (m.version = 1; m.version <= 2; m.version++)
		assert_int_equal(peerproto_encode(&m, NULL, NOW, v2,
		    sizeof(v2), &len2), -1);
	d[2] = 2;
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
	d[2] = 2;
	assert_int_equal(peerproto_decode(d, len - 8, NULL, NOW, SKEW, &got),
	    PEERPROTO_EMALFORMED);
}

static void
test_bitflips(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len, bit;
	int i, rc;

	(void)state;
	for (i = 0; i < NSAMPLES; i++) {
		sample(i, &m);
		len = enc(&m, key1, NOW, d);
		for (bit = 0; bit < len * 8; bit++) {
			d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			rc = peerproto_decode(d, len, key1, NOW, SKEW, &got);
			d[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (bit / 8 == 2 && ((d[2] ^ (1u << (bit % 8))) <
			    PEERPROTO_VERSION_MIN || (d[2] ^ (1u << (bit % 8)))
			    > PEERPROTO_VERSION))
				assert_int_equal(rc, PEERPROTO_EVERSION);
			else if (rc != PEERPROTO_EBADTAG)
				assert_int_equal(rc, PEERPROTO_EMALFORMED);
		}
		assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW,
		    &got), 0);
	}
}

static void
test_key_mismatch(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < NSAMPLES; i++) {
		sample(i, &m);
		len = enc(&m, NULL, NOW, d);
		assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW,
		    &got), PEERPROTO_EUNSIGNED);
		len = enc(&m, key1, NOW, d);
		assert_int_equal(peerproto_decode(d, len, key2, NOW, SKEW,
		    &got), PEERPROTO_EBADTAG);
		assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW,
		    &got), PEERPROTO_EUNEXPECTED_AUTH);
	}
}

static void
test_stale(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m, got;
	size_t len;

	(void)state;
	sample(2, &m);
	len = enc(&m, key1, NOW - SKEW - 1, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got),
	    PEERPROTO_ESTALE);
	len = enc(&m, key1, NOW + SKEW + 1, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got),
	    PEERPROTO_ESTALE);
	len = enc(&m, key1, NOW - SKEW, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got), 0);
	len = enc(&m, key1, NOW + SKEW, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got), 0);
	/* Far-off clocks in either direction must not wrap around. */
	len = enc(&m, key1, UINT64_MAX, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got),
	    PEERPROTO_ESTALE);
	len = enc(&m, key1, 0, d);
	assert_int_equal(peerproto_decode(d, len, key1, NOW, SKEW, &got),
	    PEERPROTO_ESTALE);
}

/* Sign and decode heartbeat seq at time ts; the decoded msg goes to out. */
static void
signed_beat(uint32_t seq, uint64_t ts, struct peerproto_msg *out)
{
	uint8_t d[PEERPROTO_DGRAM_MAX];
	struct peerproto_msg m;
	size_t len;

	sample(0, &m);
	m.u.beat.seq = seq;
	len = enc(&m, key1, ts, d);
	assert_int_equal(peerproto_decode(d, len, key1, ts, SKEW, out), 0);
}

static void
test_replay(void **state)
{
	struct peerproto_replay *r;
	struct peerproto_msg a, b, u;
	uint8_t d[PEERPROTO_DGRAM_MAX];
	size_t len;

	(void)state;
	assert_non_null(r = malloc(sizeof(*r)));
	peerproto_replay_init(r, SKEW);
	signed_beat(1, NOW, &a);
	signed_beat(2, NOW, &b);
	assert_int_equal(peerproto_replay_check(r, &a, NOW), 0);
	assert_int_equal(peerproto_replay_check(r, &a, NOW), -1);
	assert_int_equal(peerproto_replay_check(r, &a, NOW + 10), -1);
	/* Same timestamp, different content: not a replay. */
	assert_int_equal(peerproto_replay_check(r, &b, NOW), 0);
	assert_int_equal(peerproto_replay_check(r, &b, NOW), -1);

	/* Unsigned datagrams have nothing to remember. */
	sample(0, &u);
	len = enc(&u, NULL, NOW, d);
	assert_int_equal(peerproto_decode(d, len, NULL, NOW, SKEW, &u), 0);
	assert_int_equal(peerproto_replay_check(r, &u, NOW), 0);
	assert_int_equal(peerproto_replay_check(r, &u, NOW), 0);
	free(r);
}

/*
 * Far more datagrams than the table holds, all within the window: the
 * table never grows, and no datagram is accepted twice, whether it is
 * still remembered or was evicted by newer ones.
 */
static void
test_replay_bounded(void **state)
{
	enum { N = PEERPROTO_REPLAY_SETS * PEERPROTO_REPLAY_WAYS * 3 };
	struct peerproto_replay *r;
	struct peerproto_msg *msgs;
	size_t i, fresh = 0;

	(void)state;
	assert_non_null(r = malloc(sizeof(*r)));
	assert_non_null(msgs = calloc(N, sizeof(*msgs)));
	peerproto_replay_init(r, SKEW);
	for (i = 0; i < N; i++)
		signed_beat((uint32_t)i, NOW + i / 4, &msgs[i]);
	for (i = 0; i < N; i++)
		if (peerproto_replay_check(r, &msgs[i], NOW + i / 4) == 0)
			fresh++;
	/* Most genuine datagrams pass; a few may be refused when several
	 * share a millisecond and a full set. */
	assert_true(fresh > N * 9 / 10);
	for (i = 0; i < N; i++)
		assert_int_equal(peerproto_replay_check(r, &msgs[i],
		    NOW + N / 4), -1);

	/* Outside the window the guard remembers nothing, so it refuses. */
	peerproto_replay_init(r, SKEW);
	assert_int_equal(peerproto_replay_check(r, &msgs[0],
	    NOW + SKEW + 1), -1);
	assert_int_equal(peerproto_replay_check(r, &msgs[0],
	    NOW - SKEW - 1), -1);
	assert_int_equal(peerproto_replay_check(r, &msgs[0], NOW + SKEW), 0);
	assert_int_equal(peerproto_replay_check(r, &msgs[0], NOW), -1);
	free(msgs);
	free(r);
}

static void
test_oversize(void **state)
{
	uint8_t d[PEERPROTO_DGRAM_MAX + 64];
	struct peerproto_msg m;
	struct proto_answer *a = &m.u.answer.a;
	size_t len = 12345, need, i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = PEERPROTO_T_ANSWER;
	a->status = CODNS_FOUND;
	for (i = 0; i < PROTO_ALIASES_MAX; i++) {
		memset(a->aliases[i], 'a', 200);
		a->aliases[i][50] = a->aliases[i][100] = '.';
		a->aliases[i][150] = '.';
		a->aliases[i][0] = (char)('a' + i);
	}
	a->naliases = PROTO_ALIASES_MAX;
	a->naddrs = PROTO_ADDRS_MAX;
	for (i = 0; i < PROTO_ADDRS_MAX; i++)
		a->addrs[i].family = CODNS_AF_INET6;
	memset(d, 0x5a, sizeof(d));
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d), &len),
	    -1);
	assert_int_equal(len, 12345);
	for (i = PEERPROTO_DGRAM_MAX; i < sizeof(d); i++)
		assert_int_equal(d[i], 0x5a);

	/* Shrink until it fits unsigned; find its exact size. */
	a->naddrs = 0;
	while (peerproto_encode(&m, NULL, NOW, d, sizeof(d), &need) == -1)
		a->naliases--;
	assert_true(a->naliases > 0);
	/* The cap is honoured to the byte. */
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, need - 1, &len),
	    -1);
	assert_int_equal(peerproto_encode(&m, NULL, NOW, d, need, &len), 0);
	assert_int_equal(len, need);
	/* Signing adds 40 bytes; find a size where that crosses the limit. */
	while (need + PEERPROTO_AUTH_LEN <= PEERPROTO_DGRAM_MAX) {
		assert_true(a->naddrs < PROTO_ADDRS_MAX);
		a->naddrs++;
		assert_int_equal(peerproto_encode(&m, NULL, NOW, d, sizeof(d),
		    &need), 0);
	}
	assert_int_equal(peerproto_encode(&m, key1, NOW, d, sizeof(d), &len),
	    -1);
}

static char tmpdir[64];

static const char *
keyfile(const char *name, const char *text, mode_t mode)
{
	static char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	unlink(path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
test_key_load(void **state)
{
	uint8_t key[PEERPROTO_KEY_LEN];
	char err[256], hex[2 * PEERPROTO_KEY_LEN + 1], text[256];
	size_t i;

	(void)state;
	strcpy(tmpdir, "/tmp/test_peerproto.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	for (i = 0; i < PEERPROTO_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", key1[i]);

	snprintf(text, sizeof(text), "  %s\n\n", hex);
	memset(key, 0, sizeof(key));
	assert_int_equal(peerproto_key_load(keyfile("good", text, 0600), key,
	    err, sizeof(err)), 0);
	assert_memory_equal(key, key1, sizeof(key));

	for (i = 0; hex[i] != '\0'; i++)
		if (hex[i] >= 'a' && hex[i] <= 'f')
			text[i] = (char)(hex[i] - 'a' + 'A');
		else
			text[i] = hex[i];
	text[i] = '\0';
	memset(key, 0, sizeof(key));
	assert_int_equal(peerproto_key_load(keyfile("upper", text, 0400), key,
	    err, sizeof(err)), 0);
	assert_memory_equal(key, key1, sizeof(key));

	snprintf(text, sizeof(text), "%.62s\n", hex);
	assert_int_equal(peerproto_key_load(keyfile("short", text, 0600), key,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "64 hexadecimal"));
	snprintf(text, sizeof(text), "%s0\n", hex);
	assert_int_equal(peerproto_key_load(keyfile("long", text, 0600), key,
	    err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s\n", hex);
	text[10] = 'g';
	assert_int_equal(peerproto_key_load(keyfile("badchar", text, 0600),
	    key, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%.32s %.32s\n", hex, hex + 32);
	assert_int_equal(peerproto_key_load(keyfile("space", text, 0600),
	    key, err, sizeof(err)), -1);

	snprintf(text, sizeof(text), "%s\n", hex);
	assert_int_equal(peerproto_key_load(keyfile("open", text, 0644), key,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group or others"));
	assert_int_equal(peerproto_key_load(keyfile("grp", text, 0640), key,
	    err, sizeof(err)), -1);
	assert_int_equal(peerproto_key_load(tmpdir, key, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "regular"));
	assert_int_equal(peerproto_key_load("/nonexistent/codns.key", key,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/codns.key"));

	/* Cleanup of the scratch directory. */
	{
		const char *names[] = { "good", "upper", "short", "long",
			"badchar", "space", "open", "grp" };

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			snprintf(text, sizeof(text), "%s/%s", tmpdir,
			    names[i]);
			unlink(text);
		}
		rmdir(tmpdir);
	}
}

static void
test_strings(void **state)
{
	int e;

	(void)state;
	for (e = PEERPROTO_EUNEXPECTED_AUTH; e < 0; e++) {
		assert_string_not_equal(peerproto_strerror(e), "unknown error");
		assert_string_not_equal(peerproto_strerror(e),
		    peerproto_strerror(e + 1));
	}
	assert_string_equal(peerproto_strerror(-99), "unknown error");
	assert_string_equal(peerproto_type_str(PEERPROTO_T_CANNOT), "cannot");
	assert_string_equal(peerproto_type_str(0), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bad_header),
		cmocka_unit_test(test_bad_bodies),
		cmocka_unit_test(test_bitflips),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_version3_echo),
		cmocka_unit_test(test_key_mismatch),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_replay_bounded),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_key_load),
		cmocka_unit_test(test_strings),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
