/* SPDX-License-Identifier: MIT */
/* tests/unit/test_cache.c: unit tests for the TTL and LRU answer cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "testreq.h"
#include "xorshift.h"

static const struct cache_limits lim_default = { 0, 3600, 30, 0, 0 };

static struct proto_request
fwd(const char *name, uint8_t family)
{
	struct proto_request r = testreq_fwd(name, family);

	r.id = 99;
	return r;
}

/* A FOUND answer whose first address carries tag, so hits can be told
 * apart. */
static struct proto_answer
found(uint32_t ttl, uint8_t tag)
{
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.source = CODNS_SRC_LOCAL;
	a.ttl = ttl;
	a.latency_us = 1234;
	snprintf(a.cname, sizeof(a.cname), "canon.example");
	a.naliases = 1;
	snprintf(a.aliases[0], sizeof(a.aliases[0]), "alias.example");
	a.naddrs = 2;
	a.addrs[0].family = CODNS_AF_INET;
	a.addrs[0].a[0] = 10;
	a.addrs[0].a[3] = tag;
	a.addrs[1].family = CODNS_AF_INET6;
	a.addrs[1].a[0] = 0xfd;
	a.addrs[1].a[15] = tag;
	return a;
}

static struct proto_answer
status_answer(uint8_t status, uint32_t ttl)
{
	return testreq_answer(status, CODNS_SRC_LOCAL, ttl);
}

/* The tag of a hit, or -1 on a miss. */
static int
get_tag(struct cache *c, const struct proto_request *r, uint64_t now)
{
	struct proto_answer out;

	if (cache_get(c, r, now, &out) != 1)
		return -1;
	return out.addrs[0].a[3];
}

static void
test_hit_copies_answer(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r = fwd("www.example", CODNS_AF_INET);
	struct proto_answer a = found(300, 7), out;

	(void)state;
	assert_non_null(c);
	assert_int_equal(cache_get(c, &r, 1000, &out), 0);
	cache_put(c, &r, &a, 1000);
	assert_int_equal(cache_count(c), 1);
	memset(&out, 0xee, sizeof(out));
	assert_int_equal(cache_get(c, &r, 1000, &out), 1);
	assert_int_equal(out.status, CODNS_FOUND);
	assert_int_equal(out.source, CODNS_SRC_CACHE);
	assert_int_equal(out.ttl, 300);
	assert_int_equal(out.latency_us, 1234);
	assert_string_equal(out.cname, "canon.example");
	assert_int_equal(out.naliases, 1);
	assert_string_equal(out.aliases[0], "alias.example");
	assert_int_equal(out.naddrs, 2);
	assert_memory_equal(&out.addrs[0], &a.addrs[0], sizeof(a.addrs[0]));
	assert_memory_equal(&out.addrs[1], &a.addrs[1], sizeof(a.addrs[1]));
	/* The request id is not part of the key. */
	r.id = 12345;
	assert_int_equal(get_tag(c, &r, 1000), 7);
	cache_free(c);
}

static void
test_ttl_expiry(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r = fwd("a.example", CODNS_AF_INET);
	struct proto_answer a = found(10, 1), out;

	(void)state;
	cache_put(c, &r, &a, 5000);
	assert_int_equal(cache_get(c, &r, 5999, &out), 1);
	assert_int_equal(out.ttl, 9); /* 9.001 s left, rounded down */
	assert_int_equal(cache_get(c, &r, 14999, &out), 1);
	assert_int_equal(out.ttl, 0);
	assert_int_equal(cache_stats(c)->expired, 0);
	assert_int_equal(cache_get(c, &r, 15000, &out), 0);
	assert_int_equal(cache_stats(c)->expired, 1);
	assert_int_equal(cache_count(c), 0);
	/* Dropped, not just hidden: an earlier clock does not revive it. */
	assert_int_equal(cache_get(c, &r, 6000, &out), 0);
	assert_int_equal(cache_stats(c)->expired, 1);
	cache_free(c);
}

static void
test_clamp_min_max(void **state)
{
	struct cache_limits lim = { 60, 600, 30, 0, 0 };
	struct cache *c = cache_new(10, &lim);
	struct proto_request lo = fwd("lo.example", CODNS_AF_INET);
	struct proto_request hi = fwd("hi.example", CODNS_AF_INET);
	struct proto_request mid = fwd("mid.example", CODNS_AF_INET);
	struct proto_answer a, out;

	(void)state;
	a = found(5, 1);
	cache_put(c, &lo, &a, 0);
	a = found(86400, 2);
	cache_put(c, &hi, &a, 0);
	a = found(100, 3);
	cache_put(c, &mid, &a, 0);
	assert_int_equal(cache_get(c, &lo, 0, &out), 1);
	assert_int_equal(out.ttl, 60);
	assert_int_equal(cache_get(c, &hi, 0, &out), 1);
	assert_int_equal(out.ttl, 600);
	assert_int_equal(cache_get(c, &mid, 0, &out), 1);
	assert_int_equal(out.ttl, 100);
	/* The min clamp also keeps a TTL-0 answer. */
	a = found(0, 4);
	cache_put(c, &mid, &a, 0);
	assert_int_equal(cache_get(c, &mid, 0, &out), 1);
	assert_int_equal(out.ttl, 60);
	assert_int_equal(cache_get(c, &hi, 600 * 1000 - 1, &out), 1);
	assert_int_equal(cache_get(c, &hi, 600 * 1000, &out), 0);
	cache_free(c);
}

/* Prefetch: a hit is due for a refresh in the last 10 % of the TTL the
 * entry was stored with (the clamped one), and only with prefetch on. */
static void
test_refresh_due(void **state)
{
	struct cache_limits on = { 0, 3600, 30, 0, 1 };
	struct cache *c = cache_new(10, &on), *off = cache_new(10, &lim_default);
	struct proto_request r = fwd("hot.example", CODNS_AF_INET);
	struct proto_answer a = found(100, 1), out;

	(void)state;
	cache_put(c, &r, &a, 0);
	cache_put(off, &r, &a, 0);
	assert_int_equal(cache_get(c, &r, 89 * 1000, &out), 1);
	assert_int_equal(cache_refresh_due(c), 0);
	assert_int_equal(cache_get(c, &r, 90 * 1000, &out), 1);
	assert_int_equal(cache_refresh_due(c), 1);
	assert_int_equal(cache_get(off, &r, 99 * 1000, &out), 1);
	assert_int_equal(cache_refresh_due(off), 0);
	/* A miss is never due. */
	assert_int_equal(cache_get(c, &r, 100 * 1000, &out), 0);
	assert_int_equal(cache_refresh_due(c), 0);
	/* The refreshed entry starts a new TTL: not due. */
	cache_put(c, &r, &a, 95 * 1000);
	assert_int_equal(cache_get(c, &r, 96 * 1000, &out), 1);
	assert_int_equal(cache_refresh_due(c), 0);
	cache_free(c);
	cache_free(off);
}

static void
test_clamp_negative(void **state)
{
	struct cache_limits lim = { 0, 3600, 30, 0, 0 };
	struct cache *c = cache_new(10, &lim);
	struct proto_request nx = fwd("nx.example", CODNS_AF_INET);
	struct proto_request nd = fwd("nd.example", CODNS_AF_INET6);
	struct proto_request ok = fwd("ok.example", CODNS_AF_INET);
	struct proto_answer a, out;

	(void)state;
	a = status_answer(CODNS_NOTFOUND, 900);
	cache_put(c, &nx, &a, 0);
	a = status_answer(CODNS_NODATA, 900);
	cache_put(c, &nd, &a, 0);
	a = found(900, 1);
	cache_put(c, &ok, &a, 0);
	assert_int_equal(cache_get(c, &nx, 0, &out), 1);
	assert_int_equal(out.status, CODNS_NOTFOUND);
	assert_int_equal(out.ttl, 30);
	assert_int_equal(cache_get(c, &nd, 0, &out), 1);
	assert_int_equal(out.status, CODNS_NODATA);
	assert_int_equal(out.ttl, 30);
	assert_int_equal(cache_get(c, &ok, 0, &out), 1);
	assert_int_equal(out.ttl, 900);
	/* A short negative TTL stays short. */
	a = status_answer(CODNS_NOTFOUND, 5);
	cache_put(c, &nx, &a, 0);
	assert_int_equal(cache_get(c, &nx, 0, &out), 1);
	assert_int_equal(out.ttl, 5);

	/* max below negative-ttl: max wins. */
	lim.max_ttl_s = 10;
	cache_configure(c, 10, &lim);
	a = status_answer(CODNS_NODATA, 900);
	cache_put(c, &nd, &a, 0);
	assert_int_equal(cache_get(c, &nd, 0, &out), 1);
	assert_int_equal(out.ttl, 10);

	/* negative-ttl 0 turns negative caching off, even with a minimum. */
	lim.min_ttl_s = 5;
	lim.negative_ttl_s = 0;
	cache_configure(c, 10, &lim);
	a = status_answer(CODNS_NOTFOUND, 900);
	cache_put(c, &nx, &a, 0);
	assert_int_equal(cache_get(c, &nx, 0, &out), 0);
	cache_free(c);
}

static void
test_ttl_zero_not_stored(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r = fwd("zero.example", CODNS_AF_INET);
	struct proto_answer a = found(0, 1), out;

	(void)state;
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_stats(c)->inserts, 0);
	assert_int_equal(cache_get(c, &r, 0, &out), 0);
	/* A later TTL-0 answer replaces (drops) an older cached one. */
	a = found(100, 2);
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 1);
	a = found(0, 3);
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 0);
	cache_free(c);
}

static void
test_failures_not_stored(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r = fwd("fail.example", CODNS_AF_INET);
	struct proto_answer a, out;

	(void)state;
	a = status_answer(CODNS_TRYAGAIN, 300);
	cache_put(c, &r, &a, 0);
	a = status_answer(CODNS_UNAVAIL, 300);
	cache_put(c, &r, &a, 0);
	a = status_answer(77, 300);
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_get(c, &r, 0, &out), 0);
	/* A failure does not wipe a good answer that is still fresh. */
	a = found(300, 5);
	cache_put(c, &r, &a, 0);
	a = status_answer(CODNS_TRYAGAIN, 300);
	cache_put(c, &r, &a, 1000);
	assert_int_equal(get_tag(c, &r, 1000), 5);
	cache_free(c);
}

static void
test_lru_order(void **state)
{
	struct cache *c = cache_new(3, &lim_default);
	struct proto_request r[4] = { fwd("n0.example", 4),
		fwd("n1.example", 4), fwd("n2.example", 4),
		fwd("n3.example", 4) };
	struct proto_answer a;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		a = found(300, (uint8_t)i);
		cache_put(c, &r[i], &a, 0);
	}
	assert_int_equal(cache_count(c), 3);
	/* n0 is the oldest; touching it makes n1 the victim. */
	assert_int_equal(get_tag(c, &r[0], 1), 0);
	a = found(300, 3);
	cache_put(c, &r[3], &a, 2);
	assert_int_equal(cache_count(c), 3);
	assert_int_equal(cache_stats(c)->evictions, 1);
	assert_int_equal(get_tag(c, &r[1], 3), -1);
	assert_int_equal(get_tag(c, &r[2], 3), 2);
	assert_int_equal(get_tag(c, &r[0], 3), 0);
	assert_int_equal(get_tag(c, &r[3], 3), 3);
	/* Order now (old to new): n2, n0, n3. */
	a = found(300, 1);
	cache_put(c, &r[1], &a, 4);
	assert_int_equal(get_tag(c, &r[2], 5), -1);
	assert_int_equal(get_tag(c, &r[0], 5), 0);
	assert_int_equal(cache_stats(c)->evictions, 2);
	cache_free(c);
}

static void
test_replace_same_key(void **state)
{
	struct cache *c = cache_new(2, &lim_default);
	struct proto_request r = fwd("same.example", CODNS_AF_INET);
	struct proto_request o = fwd("other.example", CODNS_AF_INET);
	struct proto_request t = fwd("third.example", CODNS_AF_INET);
	struct proto_answer a, out;

	(void)state;
	a = found(300, 1);
	cache_put(c, &r, &a, 0);
	a = found(300, 9);
	cache_put(c, &o, &a, 0);
	a = found(50, 2);
	cache_put(c, &r, &a, 1000);
	/* Replaced in place: no eviction, the other entry survives. */
	assert_int_equal(cache_count(c), 2);
	assert_int_equal(cache_stats(c)->evictions, 0);
	assert_int_equal(cache_get(c, &r, 1000, &out), 1);
	assert_int_equal(out.addrs[0].a[3], 2);
	assert_int_equal(out.ttl, 50);
	assert_int_equal(get_tag(c, &o, 1000), 9);
	/* And the replacement became the most recently used entry. */
	a = found(300, 3);
	cache_put(c, &t, &a, 1000);
	assert_int_equal(get_tag(c, &r, 1000), -1);
	assert_int_equal(get_tag(c, &o, 1000), 9);
	cache_free(c);
}

static void
test_case_insensitive(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r = fwd("WwW.ExAmPlE.org", CODNS_AF_INET);
	struct proto_request l = fwd("www.example.org", CODNS_AF_INET);
	struct proto_request u = fwd("WWW.EXAMPLE.ORG", CODNS_AF_INET);
	struct proto_request d = fwd("www.example.org.", CODNS_AF_INET);
	struct proto_answer a = found(300, 4);

	(void)state;
	cache_put(c, &r, &a, 0);
	assert_int_equal(get_tag(c, &l, 0), 4);
	assert_int_equal(get_tag(c, &u, 0), 4);
	/* An absolute name is a different query (no search list). */
	assert_int_equal(get_tag(c, &d, 0), -1);
	a = found(300, 5);
	cache_put(c, &u, &a, 0);
	assert_int_equal(cache_count(c), 1);
	assert_int_equal(get_tag(c, &r, 0), 5);
	cache_free(c);
}

/* Without a search list, "name" and "name." are one entry (an NSS lookup
 * and a stub query share it); switching the rule drops every entry. */
static void
test_dot_blind(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request rel = fwd("www.example.org", CODNS_AF_INET);
	struct proto_request abs = fwd("WWW.example.org.", CODNS_AF_INET);
	struct proto_request root = fwd(".", CODNS_AF_INET);
	struct proto_answer a = found(300, 6);

	(void)state;
	cache_set_dot_blind(c, 1);
	cache_put(c, &abs, &a, 0);
	assert_int_equal(get_tag(c, &rel, 0), 6);
	assert_int_equal(get_tag(c, &abs, 0), 6);
	a = found(300, 7);
	cache_put(c, &rel, &a, 0);
	assert_int_equal(cache_count(c), 1);
	assert_int_equal(get_tag(c, &abs, 0), 7);
	assert_int_equal(cache_flush(c, "www.example.org"), 1);
	assert_int_equal(get_tag(c, &abs, 0), -1);
	cache_put(c, &root, &a, 0); /* the root stays "." */
	assert_int_equal(get_tag(c, &root, 0), 7);
	cache_put(c, &abs, &a, 0);
	cache_set_dot_blind(c, 1); /* no change: kept */
	assert_int_equal(cache_count(c), 2);
	cache_set_dot_blind(c, 0);
	assert_int_equal(cache_count(c), 0);
	cache_put(c, &abs, &a, 0);
	assert_int_equal(get_tag(c, &rel, 0), -1);
	cache_free(c);
}

static void
test_distinct_keys(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request f0 = fwd("k.example", CODNS_AF_UNSPEC);
	struct proto_request f4 = fwd("k.example", CODNS_AF_INET);
	struct proto_request f6 = fwd("k.example", CODNS_AF_INET6);
	struct proto_request rv = testreq_rev4('k', '.', 'e', 'x');
	struct proto_answer a;

	(void)state;
	a = found(300, 10);
	cache_put(c, &f0, &a, 0);
	assert_int_equal(get_tag(c, &f4, 0), -1);
	assert_int_equal(get_tag(c, &f6, 0), -1);
	a = found(300, 11);
	cache_put(c, &f4, &a, 0);
	a = found(300, 12);
	cache_put(c, &f6, &a, 0);
	/* A reverse key whose bytes spell the start of the name. */
	assert_int_equal(get_tag(c, &rv, 0), -1);
	a = found(300, 13);
	cache_put(c, &rv, &a, 0);
	assert_int_equal(cache_count(c), 4);
	assert_int_equal(get_tag(c, &f0, 0), 10);
	assert_int_equal(get_tag(c, &f4, 0), 11);
	assert_int_equal(get_tag(c, &f6, 0), 12);
	assert_int_equal(get_tag(c, &rv, 0), 13);
	cache_free(c);
}

static void
test_reverse_keys(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request a4 = testreq_rev4(192, 0, 2, 1),
			     b4 = testreq_rev4(192, 0, 2, 2);
	struct proto_request a6, b6, bad;
	struct proto_answer a, out;

	(void)state;
	memset(&a6, 0, sizeof(a6));
	a6.kind = PROTO_KIND_REVERSE;
	a6.family = CODNS_AF_INET6;
	a6.addr[0] = 0x20;
	a6.addr[1] = 0x01;
	a6.addr[15] = 1;
	b6 = a6;
	b6.addr[15] = 2;

	a = found(300, 1);
	cache_put(c, &a4, &a, 0);
	a = found(300, 2);
	cache_put(c, &a6, &a, 0);
	assert_int_equal(get_tag(c, &a4, 0), 1);
	assert_int_equal(get_tag(c, &b4, 0), -1);
	assert_int_equal(get_tag(c, &a6, 0), 2);
	assert_int_equal(get_tag(c, &b6, 0), -1);
	/* Only the 4 address bytes of an IPv4 key count, and the name field
	 * is ignored for reverse keys. */
	b4 = a4;
	b4.addr[4] = 0xff;
	snprintf(b4.name, sizeof(b4.name), "junk");
	assert_int_equal(get_tag(c, &b4, 0), 1);
	/* A reverse request without a valid family is never cached. */
	bad = a4;
	bad.family = CODNS_AF_UNSPEC;
	cache_put(c, &bad, &a, 0);
	assert_int_equal(cache_count(c), 2);
	assert_int_equal(cache_get(c, &bad, 0, &out), 0);
	bad.kind = 9;
	bad.family = CODNS_AF_INET;
	cache_put(c, &bad, &a, 0);
	assert_int_equal(cache_count(c), 2);
	cache_free(c);
}

static void
test_flush(void **state)
{
	struct cache *c = cache_new(20, &lim_default);
	struct proto_request keys[] = { fwd("gone.example", 0),
		fwd("gone.example", 4), fwd("GONE.example", 6),
		fwd("kept.example", 4), fwd("gone.example.", 4),
		testreq_rev4(10, 0, 0, 1) };
	size_t i, n = sizeof(keys) / sizeof(keys[0]);
	struct proto_answer a;

	(void)state;
	for (i = 0; i < n; i++) {
		a = found(300, (uint8_t)i);
		cache_put(c, &keys[i], &a, 0);
	}
	assert_int_equal(cache_count(c), n);
	assert_int_equal(cache_flush(c, "nothere.example"), 0);
	assert_int_equal(cache_flush(c, "Gone.Example"), 3);
	assert_int_equal(cache_count(c), n - 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(get_tag(c, &keys[i], 0), -1);
	for (i = 3; i < n; i++)
		assert_int_equal(get_tag(c, &keys[i], 0), (int)i);
	assert_int_equal(cache_flush(c, "gone.example"), 0);
	assert_int_equal(cache_flush(c, NULL), n - 3);
	assert_int_equal(cache_count(c), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(get_tag(c, &keys[i], 0), -1);
	/* Still usable after a full flush. */
	cache_put(c, &keys[0], &a, 0);
	assert_int_equal(get_tag(c, &keys[0], 0), (int)(n - 1));
	assert_int_equal(cache_flush(c, NULL), 1);
	cache_free(c);
}

static void
test_configure_shrink(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request r[10];
	struct proto_answer a;
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "s%d.example", i);
		r[i] = fwd(name, CODNS_AF_INET);
		a = found(300, (uint8_t)i);
		cache_put(c, &r[i], &a, 0);
	}
	/* Touch the three oldest so they survive the shrink. */
	for (i = 0; i < 3; i++)
		assert_int_equal(get_tag(c, &r[i], 1), i);
	cache_configure(c, 4, &lim_default);
	assert_int_equal(cache_capacity(c), 4);
	assert_int_equal(cache_count(c), 4);
	assert_int_equal(cache_stats(c)->evictions, 6);
	for (i = 3; i < 9; i++)
		assert_int_equal(get_tag(c, &r[i], 2), -1);
	for (i = 0; i < 3; i++)
		assert_int_equal(get_tag(c, &r[i], 2), i);
	assert_int_equal(get_tag(c, &r[9], 2), 9);
	/* Growing again keeps what is there. */
	cache_configure(c, 100, &lim_default);
	assert_int_equal(cache_count(c), 4);
	cache_free(c);
}

static void
test_capacity_zero(void **state)
{
	struct cache *c = cache_new(0, &lim_default);
	struct proto_request r = fwd("z.example", CODNS_AF_INET);
	struct proto_answer a = found(300, 1), out;

	(void)state;
	assert_non_null(c);
	assert_int_equal(cache_capacity(c), 0);
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_get(c, &r, 0, &out), 0);
	assert_int_equal(cache_stats(c)->misses, 1);
	assert_int_equal(cache_stats(c)->inserts, 0);
	/* Shrinking a populated cache to 0 empties it. */
	cache_configure(c, 5, &lim_default);
	cache_put(c, &r, &a, 0);
	assert_int_equal(cache_count(c), 1);
	cache_configure(c, 0, &lim_default);
	assert_int_equal(cache_count(c), 0);
	assert_int_equal(cache_get(c, &r, 0, &out), 0);
	cache_free(c);
}

static void
test_stats(void **state)
{
	struct cache *c = cache_new(2, &lim_default);
	struct proto_request a1 = fwd("a1.example", 4);
	struct proto_request a2 = fwd("a2.example", 4);
	struct proto_request a3 = fwd("a3.example", 4);
	struct proto_answer a = found(10, 1), out;
	const struct cache_stats *st = cache_stats(c);

	(void)state;
	assert_int_equal(st->hits + st->misses + st->inserts, 0);
	cache_put(c, &a1, &a, 0);
	cache_put(c, &a2, &a, 0);
	cache_put(c, &a2, &a, 0); /* replacement is an insert */
	cache_put(c, &a3, &a, 0); /* evicts a1 */
	assert_int_equal(st->inserts, 4);
	assert_int_equal(st->evictions, 1);
	assert_int_equal(cache_get(c, &a1, 0, &out), 0);
	assert_int_equal(cache_get(c, &a2, 0, &out), 1);
	assert_int_equal(cache_get(c, &a3, 0, &out), 1);
	assert_int_equal(cache_get(c, &a3, 20000, &out), 0);
	assert_int_equal(st->hits, 2);
	assert_int_equal(st->misses, 2);
	assert_int_equal(st->expired, 1);
	assert_int_equal(cache_count(c), 1);
	cache_free(c);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	return xorshift64(&rng_state);
}

/* Serve-stale (RFC 8767): an expired entry is a miss for cache_get() but
 * stays for cache_get_stale() until the window has passed. */
static void
test_serve_stale(void **state)
{
	struct cache_limits lim = { 0, 3600, 30, 60, 0 };
	struct cache *c = cache_new(10, &lim);
	struct proto_request r = fwd("stale.example", CODNS_AF_INET);
	struct proto_answer a = found(10, 7), out;

	(void)state;
	cache_put(c, &r, &a, 1000);
	assert_int_equal(cache_get_stale(c, &r, 5000, &out), 0);
	assert_int_equal(cache_get(c, &r, 11000, &out), 0);
	assert_int_equal(cache_get_stale(c, &r, 11000, &out), 1);
	assert_int_equal(out.source, CODNS_SRC_STALE);
	assert_int_equal(out.addrs[0].a[3], 7);
	assert_int_equal(cache_get_stale(c, &r, 11000 + 59999, &out), 1);
	assert_int_equal(cache_get_stale(c, &r, 11000 + 60000, &out), 0);
	/* Past the window, the entry goes as before. */
	assert_int_equal(cache_get(c, &r, 11000 + 60000, &out), 0);
	assert_int_equal(cache_count(c), 0);
	cache_free(c);
}

static void
test_stress_bound(void **state)
{
	struct cache *c = cache_new(1000, &lim_default);
	struct proto_request r;
	struct proto_answer a, out;
	char name[64];
	uint64_t now = 0, hits = 0;
	size_t count;
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		uint64_t x = rng();

		if (x % 7 == 0) {
			r = testreq_rev4((uint8_t)(x >> 8), (uint8_t)(x >> 16),
			    (uint8_t)(x >> 24), (uint8_t)(x >> 32));
		} else {
			snprintf(name, sizeof(name), "h%llu.Example",
			    (unsigned long long)(x >> 40) % 5000);
			r = fwd(name, (x >> 3) % 2 ? CODNS_AF_INET :
			    CODNS_AF_INET6);
		}
		if (cache_get(c, &r, now, &out) == 1) {
			assert_int_equal(out.source, CODNS_SRC_CACHE);
			hits++;
		}
		a = found((uint32_t)(x % 120), (uint8_t)x);
		cache_put(c, &r, &a, now);
		assert_true(cache_count(c) <= 1000);
		now += x % 50;
	}
	assert_true(cache_count(c) > 0);
	assert_true(hits > 0);
	assert_int_equal(cache_stats(c)->hits, hits);
	assert_true(cache_stats(c)->evictions > 0);
	count = cache_count(c);
	assert_int_equal(cache_flush(c, NULL), count);
	assert_int_equal(cache_count(c), 0);
	cache_free(c);
	cache_free(NULL);
}

/* cache_ttl(): what cache_put() would keep, for the nscd table. */
static void
test_ttl_of(void **state)
{
	struct cache_limits lim = { 60, 600, 30, 0, 0 };
	struct cache *c = cache_new(10, &lim), *off = cache_new(0, &lim);
	struct proto_answer a;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.status = CODNS_FOUND;
	a.ttl = 5;
	assert_int_equal(cache_ttl(c, &a), 60);
	a.ttl = 7200;
	assert_int_equal(cache_ttl(c, &a), 600);
	a.status = CODNS_NOTFOUND;
	assert_int_equal(cache_ttl(c, &a), 30);
	a.status = CODNS_TRYAGAIN;
	assert_int_equal(cache_ttl(c, &a), 0);
	a.status = CODNS_FOUND;
	assert_int_equal(cache_ttl(off, &a), 0);
	cache_free(c);
	cache_free(off);
}

/* cache_walk into another cache by cache_restore: what the cache file
 * does across a restart. */
static int
copy_into(void *arg, const struct cache_record *r)
{
	cache_restore(arg, r, 5000); /* an expired one is skipped */
	return 0;
}

static void
test_walk_restore(void **state)
{
	struct cache *a = cache_new(10, &lim_default);
	struct cache *b = cache_new(10, &lim_default);
	struct proto_request r1 = fwd("one.example", CODNS_AF_INET);
	struct proto_request r2 = fwd("two.example", CODNS_AF_INET);
	struct proto_request r3 = testreq_rev4(192, 0, 2, 1);
	struct proto_answer a1 = found(10, 1), a2 = found(3, 2), a3 = found(60, 3);
	struct proto_answer out;

	(void)state;
	cache_put(a, &r1, &a1, 1000); /* expires at 11000 */
	cache_put(a, &r2, &a2, 1000); /* expires at 4000: gone by 5000 */
	cache_put(a, &r3, &a3, 1000);
	assert_int_equal(cache_walk(a, copy_into, b), 0);
	assert_int_equal(cache_count(b), 2);
	/* Expiry kept: 6 s left at 5000, none at 11000. */
	assert_int_equal(cache_get(b, &r1, 5000, &out), 1);
	assert_int_equal(out.ttl, 6);
	assert_int_equal(out.addrs[0].a[3], 1);
	assert_int_equal(cache_get(b, &r1, 11000, &out), 0);
	assert_int_equal(cache_get(b, &r2, 5000, &out), 0);
	assert_int_equal(cache_get(b, &r3, 5000, &out), 1);
	assert_int_equal(out.addrs[0].a[3], 3);
	cache_free(a);
	cache_free(b);
}

/* The walk goes least recently used first, so that restoring in its
 * order rebuilds the same LRU order. */
static int
walk_order(void *arg, const struct cache_record *r)
{
	char *seen = arg;

	seen[strlen(seen)] = (char)r->key[0];
	return 0;
}

static void
test_walk_order(void **state)
{
	struct cache *c = cache_new(10, &lim_default);
	struct proto_request ra = fwd("a.example", CODNS_AF_INET);
	struct proto_request rb = fwd("b.example", CODNS_AF_INET);
	struct proto_request rc = fwd("c.example", CODNS_AF_INET);
	struct proto_answer a = found(60, 1), out;
	char seen[8] = "";

	(void)state;
	cache_put(c, &ra, &a, 0);
	cache_put(c, &rb, &a, 0);
	cache_put(c, &rc, &a, 0);
	assert_int_equal(cache_get(c, &ra, 0, &out), 1); /* a: most recent */
	assert_int_equal(cache_walk(c, walk_order, seen), 0);
	assert_string_equal(seen, "bca");
	cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_copies_answer),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_clamp_min_max),
		cmocka_unit_test(test_refresh_due),
		cmocka_unit_test(test_clamp_negative),
		cmocka_unit_test(test_ttl_zero_not_stored),
		cmocka_unit_test(test_failures_not_stored),
		cmocka_unit_test(test_lru_order),
		cmocka_unit_test(test_replace_same_key),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_dot_blind),
		cmocka_unit_test(test_distinct_keys),
		cmocka_unit_test(test_reverse_keys),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_configure_shrink),
		cmocka_unit_test(test_capacity_zero),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_serve_stale),
		cmocka_unit_test(test_stress_bound),
		cmocka_unit_test(test_ttl_of),
		cmocka_unit_test(test_walk_restore),
		cmocka_unit_test(test_walk_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
