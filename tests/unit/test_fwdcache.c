/* SPDX-License-Identifier: MIT */
/* tests/unit/test_fwdcache.c: the stub's forwarded-answer cache and its
 * coalescer, against a fake clock and a fake nameserver (upstream_send_raw
 * replaced at link time): no sockets, no sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "dnsmsg.h"
#include "fwdcache.h"
#include "upstream.h"

/* --- the fake nameserver and clock --------------------------------------- */

#define MAXQ 16

static struct {
	uint64_t now_ms;
	struct {
		upstream_raw_cb *cb;
		void *arg;
		int cancelled, done;
		uint8_t msg[DNSMSG_UDP_MIN];
		size_t len;
	} q[MAXQ];
	size_t nq;
} W;

struct upstream_query *
upstream_send_raw(struct upstream *up, const uint8_t *msg, size_t len,
    upstream_raw_cb *cb, void *arg)
{
	(void)up;
	assert_true(W.nq < MAXQ);
	assert_true(len <= sizeof(W.q[0].msg));
	memcpy(W.q[W.nq].msg, msg, len);
	W.q[W.nq].len = len;
	W.q[W.nq].cb = cb;
	W.q[W.nq].arg = arg;
	return (struct upstream_query *)&W.q[W.nq++];
}

void
upstream_cancel(struct upstream_query *uq)
{
	size_t i;

	for (i = 0; i < W.nq; i++)
		if ((void *)&W.q[i] == (void *)uq)
			W.q[i].cancelled = 1;
}

static uint64_t
fake_now(void *clock)
{
	(void)clock;
	return W.now_ms;
}

static struct conf C;

static struct fwdcache *
world_new(void)
{
	struct fwdcache *fc;

	memset(&W, 0, sizeof(W));
	W.now_ms = 1000000;
	memset(&C, 0, sizeof(C));
	C.cache_size = 100;
	C.cache_max_ttl_s = 3600;
	C.negative_ttl_s = 30;
	C.serve_stale_s = 60;
	fc = fwdcache_new(fake_now, NULL, &C, NULL);
	assert_non_null(fc);
	return fc;
}

static struct dnsmsg_query
question(const char *name, uint16_t qtype)
{
	struct dnsmsg_query m;

	memset(&m, 0, sizeof(m));
	assert_int_equal(dnsmsg_name_from_text(name, &m.qname), 0);
	m.qtype = qtype;
	m.qclass = DNSMSG_C_IN;
	m.has_question = 1;
	return m;
}

/* The nameserver answers query i: one TXT record of ttl, or (ttl 0) an
 * NXDOMAIN with a SOA whose MINIMUM is soa_min (none when 0). */
static void
reply(size_t i, const char *name, uint32_t ttl, uint32_t soa_min)
{
	static const uint8_t txt[] = { 5, 'h', 'e', 'l', 'l', 'o' };
	uint8_t msg[512], soa[64];
	struct dnsmsg_writer w;
	struct dnsmsg_rr rr;
	struct dnsmsg_query m = question(name, DNSMSG_T_TXT);
	size_t len, n = 0;

	dnsmsg_writer_init(&w, msg, sizeof(msg), sizeof(msg), 0);
	dnsmsg_put_header(&w, 0, DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA);
	dnsmsg_put_question(&w, &m.qname, DNSMSG_T_TXT, DNSMSG_C_IN);
	memset(&rr, 0, sizeof(rr));
	rr.name = m.qname;
	rr.rclass = DNSMSG_C_IN;
	if (ttl > 0) {
		rr.section = DNSMSG_AN;
		rr.type = DNSMSG_T_TXT;
		rr.ttl = ttl;
		rr.rdata = txt;
		rr.rdlen = sizeof(txt);
		assert_int_equal(dnsmsg_put_rr(&w, &rr), 0);
	} else if (soa_min > 0) {
		/* mname ".", rname ".", serial refresh retry expire min */
		soa[n++] = 0;
		soa[n++] = 0;
		memset(soa + n, 0, 16);
		n += 16;
		soa[n++] = (uint8_t)(soa_min >> 24);
		soa[n++] = (uint8_t)(soa_min >> 16);
		soa[n++] = (uint8_t)(soa_min >> 8);
		soa[n++] = (uint8_t)soa_min;
		rr.section = DNSMSG_NS;
		rr.type = DNSMSG_T_SOA;
		rr.ttl = 600;
		rr.rdata = soa;
		rr.rdlen = (uint16_t)n;
		assert_int_equal(dnsmsg_put_rr(&w, &rr), 0);
	}
	len = dnsmsg_finish(&w, ttl > 0 ? DNSMSG_NOERROR : DNSMSG_NXDOMAIN);
	assert_true(len > 0);
	assert_true(i < W.nq);
	assert_false(W.q[i].done);
	W.q[i].done = 1;
	W.q[i].cb(W.q[i].arg, msg, len);
}

struct client {
	struct fwdcache_wait fw;
	int got;
	int failed;
	struct fwdcache_answer a;
	struct fwdcache_wait *victim; /* leaves when this one is answered */
};

static void
client_cb(void *arg, const struct fwdcache_answer *a)
{
	struct client *c = arg;

	assert_false(c->got);
	c->got = 1;
	c->failed = a == NULL;
	if (a != NULL)
		c->a = *a;
	if (c->victim != NULL)
		fwdcache_leave(c->victim);
}

static int
ask(struct fwdcache *fc, const char *name, struct client *c)
{
	struct dnsmsg_query m = question(name, DNSMSG_T_TXT);

	memset(c, 0, sizeof(*c));
	return fwdcache_ask(fc, &m, &c->fw, client_cb, c);
}

static int
get(struct fwdcache *fc, const char *name, int stale,
    struct fwdcache_answer *a)
{
	struct dnsmsg_query m = question(name, DNSMSG_T_TXT);

	return fwdcache_get(fc, &m, stale, a);
}

/* --- the cases ----------------------------------------------------------- */

/* One question goes out, in lowercase; the same in other case joins it;
 * both get the answer, which is then cached and served aged. */
static void
test_coalesce_and_cache(void **state)
{
	struct fwdcache *fc = world_new();
	struct fwdcache_answer a;
	struct client c1, c2;

	(void)state;
	assert_int_equal(get(fc, "t.example", 0, &a), -1);
	assert_int_equal(ask(fc, "t.example", &c1), FWDCACHE_SENT);
	assert_int_equal(ask(fc, "T.Example", &c2), FWDCACHE_JOINED);
	assert_int_equal(W.nq, 1);
	assert_non_null(memmem(W.q[0].msg, W.q[0].len, "\1t\7example", 10));
	reply(0, "t.example", 300, 0);
	assert_true(c1.got && c2.got);
	assert_false(c1.failed);
	assert_int_equal(c1.a.rcode, DNSMSG_NOERROR);
	assert_int_equal(c1.a.max_ttl, 300);
	assert_int_equal(fwdcache_count(fc), 1);
	W.now_ms += 100 * 1000;
	assert_int_equal(get(fc, "T.EXAMPLE", 0, &a), 0);
	assert_int_equal(a.age_s, 100);
	assert_int_equal(a.max_ttl, 200);
	assert_false(a.stale);
	/* A question answered is no longer in flight: asked again, sent. */
	assert_int_equal(ask(fc, "t.example", &c1), FWDCACHE_SENT);
	fwdcache_free(fc);
	assert_true(W.q[1].cancelled);
}

/* Expired: not fresh, stale within serve-stale (TTL 30), then gone. */
static void
test_stale(void **state)
{
	struct fwdcache *fc = world_new();
	struct fwdcache_answer a;
	struct client c;

	(void)state;
	ask(fc, "s.example", &c);
	reply(0, "s.example", 10, 0);
	W.now_ms += 11 * 1000;
	assert_int_equal(get(fc, "s.example", 0, &a), -1);
	assert_int_equal(get(fc, "s.example", 1, &a), 0);
	assert_true(a.stale);
	assert_int_equal(a.max_ttl, FWDCACHE_STALE_TTL);
	W.now_ms += 60 * 1000;
	assert_int_equal(get(fc, "s.example", 1, &a), -1);
	assert_int_equal(fwdcache_count(fc), 0);
	fwdcache_free(fc);
}

/* RFC 2308: a negative answer lives min(SOA TTL, MINIMUM, negative-ttl);
 * without a SOA it is not cached. No response: every waiter hears NULL. */
static void
test_negative_and_failure(void **state)
{
	struct fwdcache *fc = world_new();
	struct fwdcache_answer a;
	struct client c, d;

	(void)state;
	ask(fc, "n.example", &c);
	reply(0, "n.example", 0, 20);
	assert_int_equal(c.a.rcode, DNSMSG_NXDOMAIN);
	assert_int_equal(get(fc, "n.example", 0, &a), 0);
	assert_int_equal(a.max_ttl, 20);
	ask(fc, "m.example", &c);
	reply(1, "m.example", 0, 0);
	assert_true(c.got);
	assert_int_equal(get(fc, "m.example", 0, &a), -1);
	ask(fc, "f.example", &c);
	ask(fc, "f.example", &d);
	W.q[2].done = 1;
	W.q[2].cb(W.q[2].arg, NULL, 0);
	assert_true(c.failed && d.failed);
	fwdcache_free(fc);
}

/* A waiter's callback makes another waiter of the same question leave
 * (its client went away): that one is not answered, nor touched after. */
static void
test_callback_leaves_sibling(void **state)
{
	struct fwdcache *fc = world_new();
	struct client c, d;

	(void)state;
	ask(fc, "x.example", &c);
	ask(fc, "x.example", &d);
	/* The newest waiter is answered first. */
	d.victim = &c.fw;
	reply(0, "x.example", 300, 0);
	assert_true(d.got);
	assert_false(c.got);
	fwdcache_free(fc);
}

/* At most cache-size entries, the least recently used go; flush by name
 * or all. */
static void
test_bounds_and_flush(void **state)
{
	struct fwdcache *fc = world_new();
	struct fwdcache_answer a;
	struct client c;
	char name[32];
	size_t i;

	(void)state;
	C.cache_size = 3;
	for (i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "e%zu.example", i);
		ask(fc, name, &c);
		reply(i, name, 300, 0);
		if (i == 2)
			assert_int_equal(get(fc, "e0.example", 0, &a), 0);
	}
	assert_int_equal(fwdcache_count(fc), 3);
	assert_int_equal(get(fc, "e1.example", 0, &a), -1);
	assert_int_equal(get(fc, "e0.example", 0, &a), 0);
	assert_int_equal(fwdcache_flush(fc, "E3.example."), 1);
	assert_int_equal(fwdcache_count(fc), 2);
	assert_int_equal(fwdcache_flush(fc, NULL), 2);
	assert_int_equal(fwdcache_count(fc), 0);
	fwdcache_free(fc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_coalesce_and_cache),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_negative_and_failure),
		cmocka_unit_test(test_callback_leaves_sibling),
		cmocka_unit_test(test_bounds_and_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
