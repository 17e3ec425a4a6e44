/* SPDX-License-Identifier: MIT */
/* tests/unit/test_peersdns.c: peers-dns parsing and the keep-last rules,
 * with a fake upstream that the test answers by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "conf.h"
#include "dnsmsg.h"
#include "log.h"
#include "peersdns.h"
#include "upstream.h"

/* --- a fake upstream: questions are kept until the test answers -------- */

#define FAKE_MAX 1024
struct fake_q {
	int live;
	struct dnsmsg_name name;
	uint16_t type;
	upstream_raw_cb *cb;
	void *arg;
};
static struct fake_q fq[FAKE_MAX];
static size_t nfq;
static int fail_sends;

struct upstream_query *
upstream_send_raw(struct upstream *up, const uint8_t *msg, size_t len,
    upstream_raw_cb *cb, void *arg)
{
	struct dnsmsg_query q;

	(void)up;
	if (fail_sends || nfq >= FAKE_MAX)
		return NULL;
	assert_int_equal(dnsmsg_query_decode(msg, len, &q), DNSMSG_NOERROR);
	fq[nfq].live = 1;
	fq[nfq].name = q.qname;
	fq[nfq].type = q.qtype;
	fq[nfq].cb = cb;
	fq[nfq].arg = arg;
	nfq++;
	return (struct upstream_query *)&fq[nfq - 1];
}

void
upstream_cancel(struct upstream_query *uq)
{
	if (uq != NULL)
		((struct fake_q *)uq)->live = 0;
}

/* The log is the daemon's; the test only needs it to link. */
void
log_msg(int prio, int with_errno, const char *fmt, ...)
{
	(void)prio;
	(void)with_errno;
	(void)fmt;
}

/* --- building answers --------------------------------------------------- */

struct ans {
	uint8_t buf[65535];
	struct dnsmsg_writer w;
	struct dnsmsg_name qname;
	uint8_t rcode;
};

static void
ans_begin(struct ans *a, const char *qname, uint16_t qtype, uint8_t rcode)
{
	assert_int_equal(dnsmsg_name_from_text(qname, &a->qname), 0);
	dnsmsg_writer_init(&a->w, a->buf, sizeof(a->buf), sizeof(a->buf), 0);
	dnsmsg_put_header(&a->w, 1, DNSMSG_F_QR | DNSMSG_F_RD | DNSMSG_F_RA);
	a->rcode = rcode;
	dnsmsg_put_question(&a->w, &a->qname, qtype, DNSMSG_C_IN);
}

static void
ans_rr(struct ans *a, int section, const char *owner, uint16_t type,
    uint32_t ttl, const void *rdata, uint16_t rdlen)
{
	struct dnsmsg_rr rr;

	memset(&rr, 0, sizeof(rr));
	rr.section = (uint8_t)section;
	assert_int_equal(dnsmsg_name_from_text(owner, &rr.name), 0);
	rr.type = type;
	rr.rclass = DNSMSG_C_IN;
	rr.ttl = ttl;
	rr.rdata = rdata;
	rr.rdlen = rdlen;
	assert_int_equal(dnsmsg_put_rr(&a->w, &rr), 0);
}

static void
ans_a(struct ans *a, int section, const char *owner, const char *ip,
    uint32_t ttl)
{
	uint8_t b[16];

	if (strchr(ip, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, ip, b), 1);
		ans_rr(a, section, owner, DNSMSG_T_AAAA, ttl, b, 16);
	} else {
		assert_int_equal(inet_pton(AF_INET, ip, b), 1);
		ans_rr(a, section, owner, DNSMSG_T_A, ttl, b, 4);
	}
}

static void
ans_cname(struct ans *a, const char *owner, const char *target)
{
	struct dnsmsg_name t;

	assert_int_equal(dnsmsg_name_from_text(target, &t), 0);
	ans_rr(a, DNSMSG_AN, owner, DNSMSG_T_CNAME, 60, t.b, t.len);
}

static void
ans_srv(struct ans *a, const char *owner, uint16_t port, const char *target,
    uint32_t ttl)
{
	struct dnsmsg_name t;
	uint8_t rd[6 + DNSMSG_NAME_MAX];

	assert_int_equal(dnsmsg_name_from_text(target, &t), 0);
	memset(rd, 0, 4); /* priority, weight */
	rd[4] = (uint8_t)(port >> 8);
	rd[5] = (uint8_t)port;
	memcpy(rd + 6, t.b, t.len);
	ans_rr(a, DNSMSG_AN, owner, DNSMSG_T_SRV, ttl, rd,
	    (uint16_t)(6 + t.len));
}

static size_t
ans_end(struct ans *a)
{
	size_t len = dnsmsg_finish(&a->w, a->rcode);

	assert_true(len > 0);
	return len;
}

static const char *
fmt(const struct conf_addr *a, char *buf)
{
	return addr_format((const struct sockaddr *)&a->ss, buf, ADDR_STRLEN);
}

/* --- the parsers -------------------------------------------------------- */

static void
test_parse_addrs_chain(void **state)
{
	struct ans a;
	struct peersdns_set s;
	size_t len;
	char b[ADDR_STRLEN];

	(void)state;
	ans_begin(&a, "peers.test", DNSMSG_T_A, 0);
	ans_a(&a, DNSMSG_AN, "real.test", "10.0.0.2", 30);
	ans_cname(&a, "peers.test", "real.test");
	ans_a(&a, DNSMSG_AN, "peers.test", "10.0.0.1", 40);
	ans_a(&a, DNSMSG_AN, "peers.test", "10.0.0.1", 40); /* twice */
	ans_a(&a, DNSMSG_AN, "other.test", "10.9.9.9", 5);  /* not ours */
	len = ans_end(&a);
	peersdns_set_init(&s);
	assert_int_equal(peersdns_parse_addrs(a.buf, len, &a.qname, 7053, &s),
	    0);
	assert_int_equal(s.n, 2);
	assert_string_equal(fmt(&s.addrs[0], b), "10.0.0.2:7053");
	assert_string_equal(fmt(&s.addrs[1], b), "10.0.0.1:7053");
	assert_int_equal(s.ttl_s, 30);
	assert_int_equal(s.malformed, 1);
	peersdns_set_clear(&s);
}

static void
test_parse_rcode_and_garbage(void **state)
{
	struct ans a;
	struct peersdns_set s;
	size_t len;

	(void)state;
	ans_begin(&a, "gone.test", DNSMSG_T_A, DNSMSG_NXDOMAIN);
	len = ans_end(&a);
	peersdns_set_init(&s);
	assert_int_equal(peersdns_parse_addrs(a.buf, len, &a.qname, 1, &s),
	    DNSMSG_NXDOMAIN);
	assert_int_equal(s.n, 0);
	/* Cut inside the question, then a query instead of a response. */
	assert_int_equal(peersdns_parse_addrs(a.buf, 14, &a.qname, 1, &s), -1);
	a.buf[2] &= 0x7f;
	assert_int_equal(peersdns_parse_addrs(a.buf, len, &a.qname, 1, &s), -1);
	peersdns_set_clear(&s);
}

static void
test_parse_srv_glue(void **state)
{
	struct ans a;
	struct peersdns_set s;
	struct peersdns_target t[4];
	size_t len, nt = 99;
	char b[ADDR_STRLEN];

	(void)state;
	ans_begin(&a, "_codns._udp.svc.test", DNSMSG_T_SRV, 0);
	ans_srv(&a, "_codns._udp.svc.test", 7001, "n1.svc.test", 20);
	ans_srv(&a, "_codns._udp.svc.test", 7002, "n2.svc.test", 10);
	ans_srv(&a, "_codns._udp.svc.test", 7003, ".", 10);	     /* none */
	ans_srv(&a, "_codns._udp.svc.test", 0, "n4.svc.test", 10); /* bad */
	ans_a(&a, DNSMSG_AR, "n1.svc.test", "10.0.1.1", 60);
	ans_a(&a, DNSMSG_AR, "n1.svc.test", "fd00::1", 60);
	len = ans_end(&a);
	peersdns_set_init(&s);
	assert_int_equal(peersdns_parse_srv(a.buf, len, &a.qname, &s, t, 4,
			     &nt),
	    0);
	assert_int_equal(s.n, 2);
	assert_string_equal(fmt(&s.addrs[0], b), "10.0.1.1:7001");
	assert_string_equal(fmt(&s.addrs[1], b), "[fd00::1]:7001");
	assert_int_equal(nt, 1); /* n2 has no glue */
	assert_int_equal(t[0].port, 7002);
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.ttl_s, 10);
	peersdns_set_clear(&s);
}

static void
test_clamp(void **state)
{
	(void)state;
	assert_int_equal(peersdns_clamp_ttl(0), 5);
	assert_int_equal(peersdns_clamp_ttl(30), 30);
	assert_int_equal(peersdns_clamp_ttl(86400), 300);
	assert_int_equal(peersdns_clamp_ttl(UINT32_MAX), 300);
}

/* --- sources, on a real loop with the fake upstream ---------------------- */

static int changes;

static void
changed(void *arg)
{
	(void)arg;
	changes++;
}

static struct peersdns *
make(struct ev_loop *loop, const char *n1, const char *n2)
{
	struct conf c;
	struct peersdns *pd;

	conf_defaults(&c);
	snprintf(c.peers_dns[c.npeers_dns++], sizeof(c.peers_dns[0]), "%s",
	    n1);
	if (n2 != NULL)
		snprintf(c.peers_dns[c.npeers_dns++], sizeof(c.peers_dns[0]),
		    "%s", n2);
	nfq = 0;
	changes = 0;
	pd = peersdns_new(loop, NULL, c.peers_dns, c.npeers_dns, 7053, changed,
	    NULL);
	assert_non_null(pd);
	ev_run(loop, EVRUN_NOWAIT); /* the first resolution is due at once */
	return pd;
}

/* Answer the live question for name/type with msg (NULL: no answer). */
static void
answer(const char *name, uint16_t type, const uint8_t *msg, size_t len)
{
	struct dnsmsg_name n;
	size_t i;

	assert_int_equal(dnsmsg_name_from_text(name, &n), 0);
	for (i = 0; i < nfq; i++)
		if (fq[i].live && fq[i].type == type &&
		    dnsmsg_name_equal(&fq[i].name, &n)) {
			fq[i].live = 0;
			fq[i].cb(fq[i].arg, msg, len);
			return;
		}
	fail_msg("no live question %s type %u", name, type);
}

static void
answer_addrs(const char *name, uint16_t type, uint8_t rcode, int n,
    int first, uint32_t ttl)
{
	static struct ans a;
	char ip[64];
	int i;

	ans_begin(&a, name, type, rcode);
	for (i = 0; i < n; i++) {
		if (type == DNSMSG_T_A)
			snprintf(ip, sizeof(ip), "10.%d.%d.%d",
			    (first + i) >> 16 & 255, (first + i) >> 8 & 255,
			    (first + i) & 255);
		else
			snprintf(ip, sizeof(ip), "fd00::%x", first + i);
		ans_a(&a, DNSMSG_AN, name, ip, ttl);
	}
	answer(name, type, a.buf, ans_end(&a));
}

static size_t list_cut;

static size_t
list(struct peersdns *pd)
{
	static struct conf_addr out[PEERSDNS_MAX + 8];
	static uint16_t src[PEERSDNS_MAX + 8];

	return peersdns_list(pd, out, src, PEERSDNS_MAX + 8, &list_cut);
}

static void
test_keep_last_on_failure(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peersdns *pd = make(loop, "peers.test", NULL);
	struct peersdns_info info;

	(void)state;
	assert_int_equal(nfq, 2); /* A and AAAA */
	answer_addrs("peers.test", DNSMSG_T_A, 0, 3, 1, 20);
	assert_int_equal(changes, 0); /* not before both came back */
	answer_addrs("peers.test", DNSMSG_T_AAAA, 0, 1, 1, 50);
	assert_int_equal(changes, 1);
	assert_int_equal(list(pd), 4);
	assert_int_equal(peersdns_sources(pd, &info, 1), 1);
	assert_int_equal(info.count, 4);
	assert_true(info.next_refresh_in_s > 19 && info.next_refresh_in_s <= 20);
	assert_string_equal(info.last_error, "");

	/* SERVFAIL or a timeout (no message), NXDOMAIN, an empty answer:
	 * each keeps the list, says why and tries again in 5 s. */
	peersdns_refresh(pd);
	ev_run(loop, EVRUN_NOWAIT);
	answer("peers.test", DNSMSG_T_A, NULL, 0);
	answer_addrs("peers.test", DNSMSG_T_AAAA, 0, 1, 1, 50);
	assert_int_equal(list(pd), 4);
	peersdns_sources(pd, &info, 1);
	assert_string_equal(info.last_error,
	    "no answer (timeout, SERVFAIL or REFUSED)");
	assert_true(info.next_refresh_in_s <= 5);
	peersdns_refresh(pd);
	ev_run(loop, EVRUN_NOWAIT);
	answer_addrs("peers.test", DNSMSG_T_A, DNSMSG_NXDOMAIN, 0, 0, 0);
	answer_addrs("peers.test", DNSMSG_T_AAAA, DNSMSG_NXDOMAIN, 0, 0, 0);
	peersdns_sources(pd, &info, 1);
	assert_string_equal(info.last_error, "NXDOMAIN");
	peersdns_refresh(pd);
	ev_run(loop, EVRUN_NOWAIT);
	answer_addrs("peers.test", DNSMSG_T_A, 0, 0, 0, 0);
	answer_addrs("peers.test", DNSMSG_T_AAAA, 0, 0, 0, 0);
	peersdns_sources(pd, &info, 1);
	assert_string_equal(info.last_error, "no addresses");
	assert_int_equal(list(pd), 4);
	assert_int_equal(info.failures, 3);
	assert_int_equal(changes, 1);

	/* A record removed: the list follows, once. */
	peersdns_refresh(pd);
	ev_run(loop, EVRUN_NOWAIT);
	answer_addrs("peers.test", DNSMSG_T_A, 0, 2, 1, 20);
	answer_addrs("peers.test", DNSMSG_T_AAAA, 0, 1, 1, 50);
	assert_int_equal(list(pd), 3);
	assert_int_equal(changes, 2);
	peersdns_sources(pd, &info, 1);
	assert_string_equal(info.last_error, "");
	/* The same answer again changes nothing. */
	peersdns_refresh(pd);
	ev_run(loop, EVRUN_NOWAIT);
	answer_addrs("peers.test", DNSMSG_T_AAAA, 0, 1, 1, 50);
	answer_addrs("peers.test", DNSMSG_T_A, 0, 2, 1, 20);
	assert_int_equal(changes, 2);
	peersdns_free(pd);
	ev_loop_destroy(loop);
}

static void
test_union_and_cap(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peersdns *pd = make(loop, "a.test", "b.test");
	struct peersdns_info info[2];

	(void)state;
	/* 4000 + 200 addresses, 100 of them in both: 4100 > 4096. */
	answer_addrs("a.test", DNSMSG_T_A, 0, 4000, 1, 600);
	answer_addrs("a.test", DNSMSG_T_AAAA, 0, 0, 0, 0);
	answer_addrs("b.test", DNSMSG_T_A, 0, 200, 3901, 1);
	answer_addrs("b.test", DNSMSG_T_AAAA, 0, 0, 0, 0);
	assert_int_equal(changes, 2);
	assert_int_equal(list(pd), PEERSDNS_MAX);
	assert_int_equal(list_cut, 4);
	assert_int_equal(peersdns_sources(pd, info, 2), 2);
	assert_int_equal(info[0].count, 4000);
	assert_true(info[0].next_refresh_in_s > 299); /* 600 s clamped */
	assert_true(info[1].next_refresh_in_s <= 5);  /* 1 s clamped */
	assert_string_equal(peersdns_source_name(pd, 1), "b.test");
	peersdns_free(pd);
	ev_loop_destroy(loop);
}

static void
test_srv_targets_resolved(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peersdns *pd = make(loop, "_codns._udp.svc.test", NULL);
	static struct ans a;
	struct peersdns_info info;

	(void)state;
	assert_int_equal(nfq, 1);
	ans_begin(&a, "_codns._udp.svc.test", DNSMSG_T_SRV, 0);
	ans_srv(&a, "_codns._udp.svc.test", 7001, "n1.svc.test", 30);
	ans_srv(&a, "_codns._udp.svc.test", 7002, "n2.svc.test", 30);
	answer("_codns._udp.svc.test", DNSMSG_T_SRV, a.buf, ans_end(&a));
	assert_int_equal(nfq, 5); /* A and AAAA of both targets */
	answer_addrs("n1.svc.test", DNSMSG_T_A, 0, 1, 1, 30);
	answer_addrs("n1.svc.test", DNSMSG_T_AAAA, 0, 0, 0, 0);
	answer_addrs("n2.svc.test", DNSMSG_T_AAAA, 0, 0, 0, 0);
	assert_int_equal(changes, 0);
	answer_addrs("n2.svc.test", DNSMSG_T_A, 0, 1, 2, 30);
	assert_int_equal(changes, 1);
	assert_int_equal(list(pd), 2);
	peersdns_sources(pd, &info, 1);
	assert_true(info.srv);
	peersdns_free(pd);
	ev_loop_destroy(loop);
}

/* Freed with questions in flight: they are cancelled, nothing is called. */
static void
test_free_in_flight(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peersdns *pd = make(loop, "peers.test", NULL);

	(void)state;
	assert_int_equal(nfq, 2);
	peersdns_free(pd);
	assert_int_equal(fq[0].live, 0);
	assert_int_equal(fq[1].live, 0);
	ev_loop_destroy(loop);
}

static void
test_send_fails(void **state)
{
	struct ev_loop *loop = ev_loop_new(0);
	struct peersdns *pd;
	struct peersdns_info info;

	(void)state;
	fail_sends = 1;
	pd = make(loop, "peers.test", NULL);
	fail_sends = 0;
	peersdns_sources(pd, &info, 1);
	assert_string_equal(info.last_error, "cannot send a query");
	assert_int_equal(info.count, 0);
	peersdns_free(pd);
	ev_loop_destroy(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_addrs_chain),
		cmocka_unit_test(test_parse_rcode_and_garbage),
		cmocka_unit_test(test_parse_srv_glue),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_keep_last_on_failure),
		cmocka_unit_test(test_union_and_cap),
		cmocka_unit_test(test_srv_targets_resolved),
		cmocka_unit_test(test_free_in_flight),
		cmocka_unit_test(test_send_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
