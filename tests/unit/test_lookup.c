/* SPDX-License-Identifier: MIT */
/* tests/unit/test_lookup.c: the lookup race against a fake clock, fake
 * timers, a fake cache, nameserver and peer transport: no sockets, no
 * sleeps, no libev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cache.h"
#include "fakeclock.h"
#include "lookup.h"
#include "peers.h"
#include "testreq.h"

#define MAXQ 256
#define MAXC 256

/* --- the fake world ------------------------------------------------------ */

struct fquery {
	struct proto_request req;
	lookup_cb *cb;
	void *arg;
	int cancelled, done;
	uint64_t sent_us;
};

struct fpeerq {
	uint64_t peer;
	struct proto_request req;
	lookup_peer_cb *cb;
	void *arg;
	int cancelled, done;
	uint64_t sent_us;
};

struct fanswer {
	int got;
	struct proto_answer a;
	uint64_t at_us;
};

static struct world {
	uint64_t now;
	struct fakeclock clk;
	struct fquery local[MAXQ];
	size_t nlocal;
	struct fpeerq peerq[MAXQ];
	size_t npeerq;
	int peers_active;
	size_t npeers; /* neighbours offered: ids 101, 102, ... */
	size_t nfar;   /* far fallback offered: ids 901, 902, ... */
	int select_far; /* the selection starts with 901 (no rescuing neighbour) */
	struct {
		struct proto_request key;
		struct proto_answer a;
	} cache[MAXC];
	size_t ncache, cache_puts;
	uint64_t peer_outcomes[3];
	uint64_t counters[STATS_NCOUNTERS];
	uint64_t stat_lookups, stat_locals, stat_peers;
	uint64_t by_source[8]; /* client answers by source */
	struct fanswer answers[MAXQ];
} W;

static int
f_same(const struct proto_request *a, const struct proto_request *b)
{
	return a->kind == b->kind && a->family == b->family &&
	    strcmp(a->name, b->name) == 0;
}

static int
f_cache_get(void *cache, const struct proto_request *key, uint64_t now_ms,
    struct proto_answer *out)
{
	size_t i;

	(void)cache;
	(void)now_ms;
	for (i = 0; i < W.ncache; i++)
		if (f_same(&W.cache[i].key, key)) {
			*out = W.cache[i].a;
			out->source = CODNS_SRC_CACHE;
			return 1;
		}
	return 0;
}

static void
f_cache_put(void *cache, const struct proto_request *key,
    const struct proto_answer *a, uint64_t now_ms)
{
	(void)cache;
	(void)now_ms;
	W.cache_puts++;
	if (W.ncache < MAXC) {
		W.cache[W.ncache].key = *key;
		W.cache[W.ncache].a = *a;
		W.ncache++;
	}
}

static void *
f_local_resolve(void *local, const struct proto_request *req, lookup_cb *cb,
    void *arg)
{
	struct fquery *q = &W.local[W.nlocal++];

	(void)local;
	q->req = *req;
	q->cb = cb;
	q->arg = arg;
	q->sent_us = W.now;
	return q;
}

static void
f_local_cancel(void *query)
{
	((struct fquery *)query)->cancelled = 1;
}

static int
f_peers_active(void *peers)
{
	(void)peers;
	return W.peers_active;
}

static size_t
f_peers_select(void *peers, const struct proto_request *req, uint64_t *ids,
    size_t max)
{
	size_t i;

	(void)peers;
	(void)req;
	for (i = 0; i < W.npeers && i < max; i++)
		ids[i] = W.select_far && i == 0 ? 901 : 101 + i;
	return i;
}

static size_t
f_peers_fallback(void *peers, uint64_t *ids, size_t max)
{
	size_t i;

	(void)peers;
	for (i = 0; i < W.nfar && i < max; i++)
		ids[i] = 901 + i;
	return i;
}

static void *
f_peer_query(void *peers, uint64_t id, const struct proto_request *req,
    lookup_peer_cb *cb, void *arg)
{
	struct fpeerq *q = &W.peerq[W.npeerq++];

	(void)peers;
	q->peer = id;
	q->req = *req;
	q->cb = cb;
	q->arg = arg;
	q->sent_us = W.now;
	return q;
}

static void
f_peer_cancel(void *query)
{
	((struct fpeerq *)query)->cancelled = 1;
}

static void
f_peer_record(void *peers, uint64_t id, int outcome)
{
	(void)peers;
	(void)id;
	W.peer_outcomes[outcome]++;
}

static void
f_stat_count(void *stats, enum stats_counter c)
{
	(void)stats;
	W.counters[c]++;
}

static void
f_stat_lookup(void *stats, const struct proto_request *req,
    const struct proto_answer *a, uint32_t latency_us)
{
	(void)stats;
	(void)req;
	(void)latency_us;
	W.stat_lookups++;
	if (a->source < 8)
		W.by_source[a->source]++;
}

static void
f_stat_local(void *stats, uint8_t status, uint32_t latency_us)
{
	(void)stats;
	(void)status;
	(void)latency_us;
	W.stat_locals++;
}

static void
f_stat_peer(void *stats, uint8_t status, uint32_t latency_us)
{
	(void)stats;
	(void)status;
	(void)latency_us;
	W.stat_peers++;
}

static const struct lookup_env fake_env = {
	FAKECLOCK_ENV(&W.clk),
	.cache_get = f_cache_get,
	.cache_put = f_cache_put,
	.local_resolve = f_local_resolve,
	.local_cancel = f_local_cancel,
	.peers_active = f_peers_active,
	.peers_select = f_peers_select,
	.peers_fallback = f_peers_fallback,
	.peer_query = f_peer_query,
	.peer_cancel = f_peer_cancel,
	.peer_record = f_peer_record,
	.stat_count = f_stat_count,
	.stat_lookup = f_stat_lookup,
	.stat_local = f_stat_local,
	.stat_peer = f_stat_peer,
};

static struct lookup *
world_new(size_t npeers)
{
	struct lookup_conf lc = {
		.lookup_timeout_ms = 5000,
		.negative_ttl_s = 30,
		.initial_delay_max_ms = 200,
		.peers_per_lookup = 3,
	};

	memset(&W, 0, sizeof(W));
	W.clk.now = &W.now;
	W.now = 1000000; /* not 0, so that times are not mistaken for unset */
	W.peers_active = npeers > 0;
	W.npeers = npeers;
	return lookup_new(&fake_env, &lc);
}

/* The loop: run the timers due up to now + ms, in order, then stop. */
static void
advance(uint64_t ms)
{
	fakeclock_advance(&W.clk, ms);
}

static void
client_cb(void *arg, const struct proto_answer *a)
{
	struct fanswer *f = arg;

	assert_false(f->got); /* exactly once */
	f->got = 1;
	f->a = *a;
	f->at_us = W.now;
}

static struct proto_request
req_of(const char *name)
{
	return testreq_fwd(name, CODNS_AF_INET);
}

/* Start a client (or peer) lookup that is not a cache hit. */
static struct lookup_waiter *
start(struct lookup *lk, const char *name, int flags, struct fanswer *f)
{
	struct proto_request r = req_of(name);
	struct proto_answer now;
	struct lookup_waiter *w;

	w = lookup_start(lk, &r, flags, client_cb, f, &now);
	assert_non_null(w);
	return w;
}

static struct proto_answer
answer_of(uint8_t status)
{
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	a.ttl = status == CODNS_FOUND ? 300 : 0;
	if (status == CODNS_FOUND) {
		a.naddrs = 1;
		a.addrs[0].family = CODNS_AF_INET;
		a.addrs[0].a[0] = 192;
	}
	return a;
}

static void
local_reply(size_t i, uint8_t status)
{
	struct proto_answer a = answer_of(status);

	assert_true(i < W.nlocal);
	assert_false(W.local[i].done);
	W.local[i].done = 1;
	if (W.local[i].cancelled)
		return;
	/* The fake nameserver sends no SOA with a negative answer. */
	if (status == CODNS_NOTFOUND || status == CODNS_NODATA)
		a.ttl = UINT32_MAX;
	a.source = CODNS_SRC_LOCAL;
	a.latency_us = (uint32_t)(W.now - W.local[i].sent_us);
	W.local[i].cb(W.local[i].arg, &a);
}

/* Local query i answers a with the given status, TTL and source. */
static void
local_reply_as(size_t i, uint8_t status, uint32_t ttl, uint8_t source)
{
	struct proto_answer a = answer_of(status);

	assert_true(i < W.nlocal);
	a.ttl = ttl;
	a.source = source;
	W.local[i].done = 1;
	W.local[i].cb(W.local[i].arg, &a);
}

static void
peer_reply(size_t i, int result, uint8_t status)
{
	struct proto_answer a = answer_of(status);

	assert_true(i < W.npeerq);
	assert_false(W.peerq[i].done);
	assert_false(W.peerq[i].cancelled);
	W.peerq[i].done = 1;
	a.source = CODNS_SRC_PEER;
	W.peerq[i].cb(W.peerq[i].arg, result,
	    result == LOOKUP_PEER_ANSWER ? &a : NULL,
	    (uint32_t)(W.now - W.peerq[i].sent_us));
}

static void
world_free(struct lookup *lk)
{
	lookup_free(lk);
	assert_int_equal(fakeclock_in_use(&W.clk), 0);
}

/* --- the cases ----------------------------------------------------------- */

/* A cache hit is a return value: no callback, no query. */
static void
test_cache_hit_returns(void **state)
{
	struct lookup *lk = world_new(3);
	struct proto_request r = req_of("Hit.Example");
	struct proto_answer now;
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "hit.example", 0, &f);
	local_reply(0, CODNS_FOUND);
	assert_true(f.got);
	f.got = 0;
	assert_null(lookup_start(lk, &r, 0, client_cb, &f, &now));
	assert_false(f.got);
	assert_int_equal(now.status, CODNS_FOUND);
	assert_int_equal(now.source, CODNS_SRC_CACHE);
	assert_int_equal(W.nlocal, 1);
	assert_int_equal(W.stat_lookups, 2);
	world_free(lk);
}

/* Identical lookups in flight share one resolution. */
static void
test_coalescing(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f[3] = { { 0 } };

	(void)state;
	start(lk, "same.example", 0, &f[0]);
	start(lk, "SAME.example", 0, &f[1]);
	start(lk, "other.example", 0, &f[2]);
	assert_int_equal(W.nlocal, 2);
	assert_int_equal(W.counters[STATS_LOOKUPS_COALESCED], 1);
	assert_int_equal(lookup_inflight(lk), 2);
	local_reply(0, CODNS_FOUND);
	assert_true(f[0].got && f[1].got);
	assert_false(f[2].got);
	assert_int_equal(f[1].a.source, CODNS_SRC_LOCAL);
	/* A stop answers the rest "unavailable", so NSS falls through to
	 * dns; "try again" would be final under [!UNAVAIL=return]. */
	world_free(lk);
	assert_true(f[2].got);
	assert_int_equal(f[2].a.status, CODNS_UNAVAIL);
}

/* A negative answer lives for its SOA's negative TTL when that is less
 * than negative-ttl (RFC 2308 section 5), and for negative-ttl when it
 * is more: the answer given and the entry cached say so. */
static void
test_negative_ttl_from_soa(void **state)
{
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 }, g = { 0 };

	(void)state;
	start(lk, "nodata.example", 0, &f);
	local_reply_as(0, CODNS_NODATA, 7, CODNS_SRC_LOCAL);
	assert_true(f.got);
	assert_int_equal(f.a.ttl, 7);
	assert_int_equal(W.cache_puts, 1);
	start(lk, "nx.example", 0, &g);
	local_reply_as(1, CODNS_NOTFOUND, 3600, CODNS_SRC_LOCAL);
	assert_true(g.got);
	assert_int_equal(g.a.ttl, 30); /* negative-ttl */
	world_free(lk);
}

/* Under the default cap (1 h), the SOA's negative TTL decides; a negative
 * answer that came without a SOA (RFC 2308 section 5: not to be cached)
 * is kept LOOKUP_NOSOA_TTL (30 s) at most, not the whole cap. */
static void
test_negative_ttl_default_cap(void **state)
{
	struct lookup_conf lc = {
		.lookup_timeout_ms = 5000,
		.negative_ttl_s = 3600,
		.initial_delay_max_ms = 200,
		.peers_per_lookup = 3,
	};
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 }, g = { 0 };

	(void)state;
	lookup_configure(lk, &lc);
	start(lk, "nx60.example", 0, &f);
	local_reply_as(0, CODNS_NOTFOUND, 60, CODNS_SRC_LOCAL);
	assert_true(f.got);
	assert_int_equal(f.a.ttl, 60); /* the SOA's */
	start(lk, "nosoa.example", 0, &g);
	local_reply(1, CODNS_NODATA); /* no SOA: UINT32_MAX */
	assert_true(g.got);
	assert_int_equal(g.a.ttl, 30);
	world_free(lk);
}

/* A search walk answered from responses kept (no question asked) comes
 * back with source "cache": a hit for the client and the stats, and
 * nothing learned about the local nameserver (no local latency). */
static void
test_walk_from_kept_is_a_hit(void **state)
{
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "kept.example", 0, &f);
	local_reply_as(0, CODNS_FOUND, 300, CODNS_SRC_CACHE);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_FOUND);
	assert_int_equal(f.a.source, CODNS_SRC_CACHE);
	assert_int_equal(W.stat_locals, 0);
	assert_int_equal(W.cache_puts, 1);
	world_free(lk);
}

/* NXDOMAIN from the local nameserver is an answer: it wins over the peer
 * already asked, which is cancelled and not counted as failed. */
static void
test_nxdomain_from_local_wins(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "nx.example", 0, &f);
	advance(250);
	assert_int_equal(W.npeerq, 1);
	local_reply(0, CODNS_NOTFOUND);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_NOTFOUND);
	assert_int_equal(f.a.source, CODNS_SRC_LOCAL);
	assert_int_equal(f.a.ttl, 30); /* negative-ttl */
	assert_true(W.peerq[0].cancelled);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_FAILED], 0);
	assert_int_equal(W.cache_puts, 1);
	advance(5000);
	assert_int_equal(W.npeerq, 1); /* the schedule died with the job */
	world_free(lk);
}

/* SERVFAIL (or a timeout) from local asks the first peer at once, and the
 * next one too while the first is still out. */
static void
test_local_failure_escalates_at_once(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "sf.example", 0, &f);
	advance(10);
	assert_int_equal(W.npeerq, 0);
	local_reply(0, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 1);
	assert_int_equal(W.peerq[0].sent_us, W.now);
	assert_false(f.got);
	advance(5);
	peer_reply(0, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_FOUND);
	assert_int_equal(f.a.source, CODNS_SRC_PEER);
	assert_int_equal(f.a.latency_us, 15000);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_WON], 1);
	assert_int_equal(W.counters[STATS_PEER_QUERIES_WON], 1);
	world_free(lk);
}

/* Local failure with no neighbour: try-again at once, not at the
 * deadline. */
static void
test_local_failure_without_peers(void **state)
{
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "alone.example", 0, &f);
	advance(20);
	local_reply(0, CODNS_TRYAGAIN);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 0);
	world_free(lk);
}

/* "Cannot resolve" moves on to the next peer at once; when every peer
 * said so and local failed, try-again at once. */
static void
test_cannot_moves_on_at_once(void **state)
{
	struct lookup *lk = world_new(2);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "cr.example", 0, &f);
	advance(200);
	assert_int_equal(W.npeerq, 1);
	advance(30);
	peer_reply(0, LOOKUP_PEER_CANNOT, 0);
	assert_int_equal(W.npeerq, 2);
	assert_int_equal(W.peerq[1].sent_us, W.now);
	assert_int_equal(W.peerq[1].peer, 102);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_FAILED], 1);
	local_reply(0, CODNS_TRYAGAIN);
	assert_false(f.got); /* peer 102 is still out */
	peer_reply(1, LOOKUP_PEER_CANNOT, 0);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_TRYAGAIN);
	world_free(lk);
}

/* The backoff: with d = 200 ms the peers go at d, d + 2b, d + 2b + 4b
 * (200, 600, 1400 ms), in HRW order, and no more than peers-per-lookup. */
static void
test_backoff_schedule(void **state)
{
	struct lookup *lk = world_new(5);
	struct fanswer f = { 0 };
	uint64_t t0;

	(void)state;
	t0 = W.now;
	start(lk, "slow.example", 0, &f);
	advance(199);
	assert_int_equal(W.npeerq, 0);
	advance(1);
	assert_int_equal(W.npeerq, 1);
	advance(399);
	assert_int_equal(W.npeerq, 1);
	advance(1);
	assert_int_equal(W.npeerq, 2);
	advance(800);
	assert_int_equal(W.npeerq, 3);
	assert_int_equal(W.peerq[0].sent_us - t0, 200000);
	assert_int_equal(W.peerq[1].sent_us - t0, 600000);
	assert_int_equal(W.peerq[2].sent_us - t0, 1400000);
	assert_int_equal(W.peerq[0].peer, 101);
	assert_int_equal(W.peerq[1].peer, 102);
	assert_int_equal(W.peerq[2].peer, 103);
	advance(3000);
	assert_int_equal(W.npeerq, 3); /* peers-per-lookup */
	assert_int_equal(W.counters[STATS_PEER_QUERIES_SENT], 3);
	world_free(lk);
}

/* Nobody answers: try-again at lookup-timeout, every query cancelled and
 * the peers' ones counted as failed. */
static void
test_deadline(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };
	uint64_t t0 = W.now;

	(void)state;
	start(lk, "dead.example", 0, &f);
	advance(4999);
	assert_false(f.got);
	advance(1);
	assert_true(f.got);
	assert_int_equal(f.at_us - t0, 5000000);
	assert_int_equal(f.a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.counters[STATS_LOOKUPS_TIMEOUT], 1);
	assert_true(W.local[0].cancelled);
	assert_true(W.peerq[0].cancelled && W.peerq[1].cancelled &&
	    W.peerq[2].cancelled);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_FAILED], 3);
	assert_int_equal(lookup_inflight(lk), 0);
	assert_int_equal(W.ncache, 0);
	world_free(lk);
}

/* The first good answer wins; the local query and the other peers are
 * cancelled (losers are not failures); the answer is cached. */
static void
test_losers_cancelled(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "race.example", 0, &f);
	advance(700);
	assert_int_equal(W.npeerq, 2);
	peer_reply(1, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	assert_true(f.got);
	assert_int_equal(f.a.source, CODNS_SRC_PEER);
	assert_true(W.local[0].cancelled);
	assert_true(W.peerq[0].cancelled);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_FAILED], 0);
	assert_int_equal(W.peer_outcomes[PEERS_QUERY_WON], 1);
	assert_int_equal(W.ncache, 1);
	local_reply(0, CODNS_FOUND); /* too late: dropped by the fake */
	advance(5000);
	assert_int_equal(W.npeerq, 2);
	world_free(lk);
}

/* A lookup a peer asked for never goes to further peers, even when local
 * fails; a client joining it starts the race. */
static void
test_peer_lookup_never_escalates(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f[4] = { { 0 } };

	(void)state;
	start(lk, "forpeer.example", LOOKUP_F_PEER, &f[0]);
	advance(3000);
	assert_int_equal(W.npeerq, 0);
	local_reply(0, CODNS_TRYAGAIN);
	assert_true(f[0].got);
	assert_int_equal(f[0].a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 0);
	assert_int_equal(W.stat_lookups, 0); /* not a client lookup */

	/* The nameserver answers again, so the join below races at the
	 * starting delay, not at once (local-silent). */
	start(lk, "back.example", LOOKUP_F_PEER, &f[3]);
	local_reply(1, CODNS_FOUND);
	start(lk, "joined.example", LOOKUP_F_PEER, &f[1]);
	advance(100);
	start(lk, "joined.example", 0, &f[2]);
	advance(199);
	assert_int_equal(W.npeerq, 0);
	advance(1);
	assert_int_equal(W.npeerq, 1);
	world_free(lk);
}

/* Cancelling a waiter leaves the job running for the cache. */
static void
test_cancel_waiter(void **state)
{
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 };
	struct lookup_waiter *w;

	(void)state;
	w = start(lk, "gone.example", 0, &f);
	lookup_cancel(w);
	local_reply(0, CODNS_FOUND);
	assert_false(f.got);
	assert_int_equal(W.ncache, 1);
	world_free(lk);
}

/* The transport going away (peernet_free) ends its queries: no further
 * peer is asked, and a lookup whose local failed ends at once. */
static void
test_transport_gone(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };

	(void)state;
	start(lk, "bye.example", 0, &f);
	advance(200);
	local_reply(0, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 2);
	W.peers_active = 0;
	W.npeerq = 0;
	W.peerq[0].cb(W.peerq[0].arg, LOOKUP_PEER_GONE, NULL, 0);
	assert_false(f.got);
	W.peerq[1].cb(W.peerq[1].arg, LOOKUP_PEER_GONE, NULL, 0);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 0);
	world_free(lk);
}

/* One raced lookup: the peer wins (asked when due, answering ms later)
 * or local answers after ms. */
static void
one_lookup(struct lookup *lk, unsigned i, int peer_wins, uint32_t ms)
{
	struct fanswer f = { 0 };
	char name[64];
	size_t nq = W.npeerq, nl = W.nlocal;

	snprintf(name, sizeof(name), "n%u.example", i);
	start(lk, name, 0, &f);
	if (peer_wins) {
		advance(lookup_delay_ms(lk, NULL));
		assert_int_equal(W.npeerq, nq + 1);
		advance(ms);
		peer_reply(nq, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	} else {
		advance(ms);
		local_reply(nl, CODNS_FOUND);
	}
	assert_true(f.got);
	assert_int_equal(f.a.source, peer_wins ? CODNS_SRC_PEER :
						 CODNS_SRC_LOCAL);
}

/* A lookup answered from kept responses asked no nameserver: it is no sign
 * of a silent one, so the next lookup still waits the hedge. */
static void
test_kept_walk_not_silent(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };
	const char *reason;
	unsigned i;

	(void)state;
	for (i = 0; i < 32; i++)
		one_lookup(lk, i, 0, 5);
	assert_int_equal(lookup_delay_ms(lk, &reason), 10);
	start(lk, "kept.example", 0, &f);
	local_reply_as(W.nlocal - 1, CODNS_FOUND, 300, CODNS_SRC_CACHE);
	assert_true(f.got);
	advance(50);
	assert_int_equal(lookup_delay_ms(lk, &reason), 10);
	assert_string_equal(reason, "healthy");
	world_free(lk);
}

/* The adaptive delay (CoDNS 4.1) moves 200 -> 0 -> 200 over the paper's
 * windows: 0 while the local nameserver is silent and once peers won more
 * than 8 of the last 16, mean + sd of the peers' latencies once they no
 * longer do, back to the healthy delay after 32 local answers in a row
 * (the hedge, twice the local p99: 200 here, as local answers take
 * 100 ms). And the delay is what the race uses. */
static void
test_adaptive_delay(void **state)
{
	struct lookup *lk = world_new(3);
	const char *reason;
	unsigned i = 0, k, l16, p16, l32, p32;

	(void)state;
	assert_int_equal(lookup_delay_ms(lk, &reason), 200);
	assert_string_equal(reason, "starting");
	/* This nameserver never answers: from the second lookup on it has
	 * been silent past the hedge (200 ms, no local answer times yet). */
	one_lookup(lk, i++, 1, 10);
	assert_int_equal(lookup_delay_ms(lk, &reason), 0);
	assert_string_equal(reason, "local-silent");
	for (k = 1; k < 8; k++)
		one_lookup(lk, i++, 1, 10);
	assert_int_equal(lookup_delay_ms(lk, &reason), 0);
	assert_string_equal(reason, "local-silent");
	one_lookup(lk, i++, 1, 10);
	assert_int_equal(lookup_delay_ms(lk, &reason), 0);
	assert_string_equal(reason, "peers-winning");
	/* At 0 the first peer goes with the local query. */
	{
		struct fanswer f = { 0 };
		size_t nq = W.npeerq;

		start(lk, "now.example", 0, &f);
		advance(0);
		assert_int_equal(W.npeerq, nq + 1);
		assert_int_equal(W.peerq[nq].sent_us, W.now);
		local_reply(W.nlocal - 1, CODNS_FOUND);
	}
	/* That was local answer 1 of the 8 it takes to push a peer win out
	 * of the last 16 (9 peer + 8 local = 17). */
	for (k = 1; k < 7; k++)
		one_lookup(lk, i++, 0, 100);
	assert_int_equal(lookup_delay_ms(lk, NULL), 0);
	one_lookup(lk, i++, 0, 100);
	assert_int_equal(lookup_delay_ms(lk, &reason), 10);
	assert_string_equal(reason, "adaptive");
	lookup_windows(lk, &l16, &p16, &l32, &p32);
	assert_int_equal(p16, 8);
	assert_int_equal(l16, 8);
	for (k = 8; k < 31; k++)
		one_lookup(lk, i++, 0, 100);
	assert_int_equal(lookup_delay_ms(lk, NULL), 10);
	one_lookup(lk, i++, 0, 100);
	assert_int_equal(lookup_delay_ms(lk, &reason), 200);
	assert_string_equal(reason, "healthy");
	lookup_windows(lk, &l16, &p16, &l32, &p32);
	assert_int_equal(l32, 32);
	assert_int_equal(p32, 0);
	world_free(lk);
}

/* While peers win, the first peer goes at once; when its answer is lost,
 * the next one goes once a winning peer would have answered (mean + sd
 * of their latencies, CoDNS 4.1, + 2 ms of slack), not after two more of
 * them: a lost datagram costs one peer latency more, not two (issue 21,
 * London). */
static void
test_lost_peer_answer_after_immediate(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };
	const char *reason;
	size_t nq;
	unsigned i;

	(void)state;
	for (i = 0; i < 9; i++)
		one_lookup(lk, i, 1, 14);
	assert_int_equal(lookup_delay_ms(lk, &reason), 0);
	assert_string_equal(reason, "peers-winning");
	nq = W.npeerq;
	start(lk, "lost.example", 0, &f);
	advance(0);
	assert_int_equal(W.npeerq, nq + 1);
	advance(15);
	assert_int_equal(W.npeerq, nq + 1);
	advance(1);
	assert_int_equal(W.npeerq, nq + 2); /* at 16 ms, not 28 */
	assert_int_equal(W.peerq[nq + 1].peer, 102);
	advance(31);
	assert_int_equal(W.npeerq, nq + 2);
	advance(1);
	assert_int_equal(W.npeerq, nq + 3); /* then doubling: 16 + 32 */
	peer_reply(nq + 1, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	assert_true(f.got);
	assert_int_equal(f.a.source, CODNS_SRC_PEER);
	world_free(lk);
}

/* A healthy node (local answers in 5 ms: hedge 10 ms) whose nameserver
 * stops: the first lookup waits the hedge, and the next one asks a peer at
 * once (local-silent), not after mean + sd of the peers' latencies; the
 * first usable local answer ends it (issue 21, London's adaptive phase). */
static void
test_silent_local_next_lookup_at_once(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f[3] = { { 0 } };
	const char *reason;
	size_t nq;
	unsigned i;

	(void)state;
	for (i = 0; i < 32; i++)
		one_lookup(lk, i, 0, 5);
	assert_int_equal(lookup_delay_ms(lk, &reason), 10);
	assert_string_equal(reason, "healthy");
	nq = W.npeerq;
	start(lk, "first.example", 0, &f[0]);
	advance(10);
	assert_int_equal(W.npeerq, nq + 1);
	advance(14);
	peer_reply(nq, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	assert_true(f[0].got);
	assert_int_equal(lookup_delay_ms(lk, &reason), 0);
	assert_string_equal(reason, "local-silent");
	start(lk, "second.example", 0, &f[1]);
	advance(0);
	assert_int_equal(W.npeerq, nq + 2);
	assert_int_equal(W.peerq[nq + 1].sent_us, W.now);
	advance(14);
	peer_reply(nq + 1, LOOKUP_PEER_ANSWER, CODNS_FOUND);
	assert_int_equal(f[1].a.latency_us, 14000);
	/* The nameserver is back: its answer ends local-silent. */
	start(lk, "third.example", 0, &f[2]);
	advance(5);
	local_reply(W.nlocal - 1, CODNS_FOUND);
	assert_true(f[2].got);
	assert_int_equal(f[2].a.source, CODNS_SRC_LOCAL);
	assert_int_equal(lookup_delay_ms(lk, &reason), 14);
	assert_string_equal(reason, "adaptive");
	world_free(lk);
}

/* Healthy with a fast local nameserver: the first peer is hedged at twice
 * the local p99 (20 ms answers: 40 ms), not at initial-delay-max. */
static void
test_hedge(void **state)
{
	struct lookup *lk = world_new(3);
	struct fanswer f = { 0 };
	const char *reason;
	unsigned i;

	(void)state;
	for (i = 0; i < 32; i++)
		one_lookup(lk, i, 0, 20);
	assert_int_equal(lookup_delay_ms(lk, &reason), 40);
	assert_string_equal(reason, "healthy");
	assert_int_equal(W.npeerq, 0);
	start(lk, "hedged.example", 0, &f);
	advance(39);
	assert_int_equal(W.npeerq, 0);
	advance(1);
	assert_int_equal(W.npeerq, 1);
	world_free(lk);
}

/* Without a peers file the delay keeps no history (nothing raced). */
static void
test_no_race_without_peers(void **state)
{
	struct lookup *lk = world_new(0);
	unsigned l16, p16, l32, p32;

	(void)state;
	one_lookup(lk, 1, 0, 0);
	lookup_windows(lk, &l16, &p16, &l32, &p32);
	assert_int_equal(l16 + p16 + l32 + p32, 0);
	world_free(lk);
}

/* --- serve-stale, with the real cache ------------------------------------ */

static int
r_cache_get(void *cache, const struct proto_request *key, uint64_t now_ms,
    struct proto_answer *out)
{
	return cache_get(cache, key, now_ms, out);
}

static void
r_cache_put(void *cache, const struct proto_request *key,
    const struct proto_answer *a, uint64_t now_ms)
{
	W.cache_puts++;
	cache_put(cache, key, a, now_ms);
}

static int
r_cache_get_stale(void *cache, const struct proto_request *key,
    uint64_t now_ms, struct proto_answer *out)
{
	return cache_get_stale(cache, key, now_ms, out);
}

static struct lookup_env stale_env;
static struct cache *stale_cache;

/* A world whose cache keeps expired entries for an hour (serve-stale 1h)
 * and whose stale answers may come after stale_timeout_ms (0: only when
 * every source failed). */
static struct lookup *
stale_world_new(size_t npeers, uint32_t stale_timeout_ms)
{
	struct cache_limits cl = {
		.min_ttl_s = 0,
		.max_ttl_s = 86400,
		.negative_ttl_s = 30,
		.stale_s = 3600,
	};
	struct lookup_conf lc = {
		.lookup_timeout_ms = 5000,
		.negative_ttl_s = 30,
		.initial_delay_max_ms = 200,
		.peers_per_lookup = 3,
		.stale_answer_timeout_ms = stale_timeout_ms,
	};

	memset(&W, 0, sizeof(W));
	W.clk.now = &W.now;
	W.now = 1000000;
	W.peers_active = npeers > 0;
	W.npeers = npeers;
	stale_cache = cache_new(64, &cl);
	assert_non_null(stale_cache);
	stale_env = fake_env;
	stale_env.cache = stale_cache;
	stale_env.cache_get = r_cache_get;
	stale_env.cache_put = r_cache_put;
	stale_env.cache_get_stale = r_cache_get_stale;
	return lookup_new(&stale_env, &lc);
}

static void
stale_world_free(struct lookup *lk)
{
	world_free(lk);
	cache_free(stale_cache);
}

/* "st.example" answered by the local nameserver (TTL 300) and then left
 * to expire by s seconds; the next local query is W.local[W.nlocal]. */
static void
cached_then_expired(struct lookup *lk, uint64_t s)
{
	struct fanswer f = { 0 };

	start(lk, "st.example", 0, &f);
	local_reply(W.nlocal - 1, CODNS_FOUND);
	assert_true(f.got);
	assert_int_equal(f.a.source, CODNS_SRC_LOCAL);
	advance((300 + s) * 1000);
}

/* --- prefetch, with the real cache --------------------------------------- */

static int
r_cache_refresh_due(void *cache)
{
	return cache_refresh_due(cache);
}

/*
 * hot.example asked once a second for 1000 s (well past three TTLs of
 * 300 s) by clients, the nameserver answering each query it gets before
 * the next second. Returns how many client lookups were not answered
 * from the cache at once; the local queries are in W.nlocal.
 */
static size_t
steady_client(int prefetch)
{
	struct lookup *lk = stale_world_new(0, 0);
	static struct fanswer fa[1000];
	struct proto_request r = req_of("hot.example");
	struct proto_answer now;
	struct lookup_waiter *w;
	size_t misses = 0, replied = 0, t;

	cache_free(stale_cache);
	stale_cache = cache_new(64, &(struct cache_limits){ .max_ttl_s = 86400,
					.negative_ttl_s = 30,
					.prefetch = prefetch });
	assert_non_null(stale_cache);
	stale_env.cache = stale_cache;
	stale_env.cache_get_stale = NULL;
	stale_env.cache_refresh_due = r_cache_refresh_due;
	lookup_free(lk);
	lk = lookup_new(&stale_env, &(struct lookup_conf){
					.lookup_timeout_ms = 5000,
					.negative_ttl_s = 30,
					.initial_delay_max_ms = 200,
					.peers_per_lookup = 3 });
	for (t = 0; t < 1000; t++) {
		memset(&fa[t], 0, sizeof(fa[t]));
		w = lookup_start(lk, &r, 0, client_cb, &fa[t], &now);
		if (w != NULL || now.source != CODNS_SRC_CACHE)
			misses++;
		advance(500);
		while (replied < W.nlocal)
			local_reply(replied++, CODNS_FOUND);
		advance(500);
	}
	assert_int_equal(lookup_inflight(lk), 0);
	stale_world_free(lk);
	return misses;
}

/* Prefetch (unbound's): a name asked steadily through its TTL's expiry
 * never misses; each refresh is one local query, counted. Without it,
 * the name misses once per TTL. */
static void
test_prefetch_steady_name_never_misses(void **state)
{
	size_t misses;

	(void)state;
	misses = steady_client(1);
	assert_int_equal(misses, 1); /* the very first lookup */
	assert_true(W.nlocal >= 4);  /* 1000 s of a 300 s TTL */
	assert_int_equal(W.counters[STATS_LOOKUPS_PREFETCHED], W.nlocal - 1);
	misses = steady_client(0);
	assert_true(misses >= 4);
	assert_int_equal(W.nlocal, misses);
	assert_int_equal(W.counters[STATS_LOOKUPS_PREFETCHED], 0);
}

/* Hits while a refresh is in flight start no other; a client lookup of
 * the name in flight joins it (coalesced). */
static void
test_prefetch_coalesced(void **state)
{
	struct lookup *lk = stale_world_new(0, 0);
	struct proto_request r = req_of("hot.example");
	struct proto_answer now;
	struct fanswer f = { 0 };

	(void)state;
	cache_free(stale_cache);
	stale_cache = cache_new(64, &(struct cache_limits){ .max_ttl_s = 86400,
					.negative_ttl_s = 30,
					.prefetch = 1 });
	stale_env.cache = stale_cache;
	stale_env.cache_refresh_due = r_cache_refresh_due;
	lookup_free(lk);
	lk = lookup_new(&stale_env, &(struct lookup_conf){
					.lookup_timeout_ms = 5000,
					.negative_ttl_s = 30,
					.initial_delay_max_ms = 200,
					.peers_per_lookup = 3 });
	start(lk, "hot.example", 0, &f);
	local_reply(0, CODNS_FOUND); /* TTL 300 */
	advance(250 * 1000);          /* 50 s left: not yet due */
	assert_null(lookup_start(lk, &r, 0, client_cb, &W.answers[0], &now));
	assert_int_equal(W.nlocal, 1);
	advance(49 * 1000);           /* 1 s left: due */
	assert_null(lookup_start(lk, &r, 0, client_cb, &W.answers[1], &now));
	assert_int_equal(now.source, CODNS_SRC_CACHE);
	assert_int_equal(W.nlocal, 2);
	assert_null(lookup_start(lk, &r, 0, client_cb, &W.answers[2], &now));
	assert_int_equal(W.nlocal, 2); /* the refresh in flight */
	advance(1001);                /* expired before the answer came */
	assert_non_null(lookup_start(lk, &r, 0, client_cb, &W.answers[3],
	    &now));
	assert_int_equal(W.nlocal, 2);
	assert_int_equal(W.counters[STATS_LOOKUPS_COALESCED], 1);
	local_reply(1, CODNS_FOUND);
	assert_true(W.answers[3].got);
	assert_int_equal(W.answers[3].a.source, CODNS_SRC_LOCAL);
	assert_int_equal(W.counters[STATS_LOOKUPS_PREFETCHED], 1);
	stale_world_free(lk);
}

/* Local fails and there is no peer: the expired entry is served with TTL
 * 30, counted as stale, and a background lookup refreshes the cache. */
static void
test_stale_when_local_fails(void **state)
{
	struct lookup *lk = stale_world_new(0, 0);
	struct proto_request r = req_of("st.example");
	struct proto_answer now;
	struct fanswer f = { 0 }, p = { 0 };

	(void)state;
	cached_then_expired(lk, 10);
	start(lk, "st.example", 0, &f);
	start(lk, "st.example", LOOKUP_F_PEER, &p);
	assert_int_equal(W.nlocal, 2);
	local_reply(1, CODNS_TRYAGAIN);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_FOUND);
	assert_int_equal(f.a.source, CODNS_SRC_STALE);
	assert_int_equal(f.a.ttl, 30);
	assert_int_equal(f.a.naddrs, 1);
	assert_int_equal(W.by_source[CODNS_SRC_STALE], 1);
	/* A peer is only told what we could resolve. */
	assert_true(p.got);
	assert_int_equal(p.a.status, CODNS_TRYAGAIN);
	/* The refresh: one more local query, nobody waiting on it. */
	assert_int_equal(W.nlocal, 3);
	assert_int_equal(lookup_inflight(lk), 1);
	advance(10);
	local_reply(2, CODNS_FOUND);
	assert_int_equal(lookup_inflight(lk), 0);
	assert_null(lookup_start(lk, &r, 0, client_cb, &f, &now));
	assert_int_equal(now.source, CODNS_SRC_CACHE);
	assert_int_equal(now.ttl, 300);
	stale_world_free(lk);
}

/* With peers that never answer, the stale answer comes at lookup-timeout,
 * not before. */
static void
test_stale_at_deadline(void **state)
{
	struct lookup *lk = stale_world_new(3, 0);
	struct fanswer f = { 0 };
	uint64_t t0;

	(void)state;
	cached_then_expired(lk, 60);
	t0 = W.now;
	start(lk, "st.example", 0, &f);
	advance(4999);
	assert_false(f.got);
	assert_int_equal(W.npeerq, 3);
	advance(1);
	assert_true(f.got);
	assert_int_equal(f.at_us - t0, 5000000);
	assert_int_equal(f.a.status, CODNS_FOUND);
	assert_int_equal(f.a.source, CODNS_SRC_STALE);
	assert_int_equal(f.a.ttl, 30);
	assert_int_equal(W.counters[STATS_LOOKUPS_TIMEOUT], 1);
	assert_int_equal(W.by_source[CODNS_SRC_STALE], 1);
	assert_int_equal(lookup_inflight(lk), 1); /* the refresh */
	stale_world_free(lk);
}

/* stale-answer-timeout: the client gets the stale answer after 1800 ms
 * while the lookup goes on; its late answer refreshes the cache. */
static void
test_stale_answer_timeout(void **state)
{
	struct lookup *lk = stale_world_new(0, 1800);
	struct proto_request r = req_of("st.example");
	struct proto_answer now;
	struct fanswer f = { 0 }, g = { 0 };
	uint64_t t0;

	(void)state;
	cached_then_expired(lk, 1);
	t0 = W.now;
	start(lk, "st.example", 0, &f);
	advance(1799);
	assert_false(f.got);
	advance(1);
	assert_true(f.got);
	assert_int_equal(f.at_us - t0, 1800000);
	assert_int_equal(f.a.source, CODNS_SRC_STALE);
	assert_int_equal(f.a.ttl, 30);
	assert_false(W.local[1].cancelled);
	assert_int_equal(lookup_inflight(lk), 1);
	advance(500);
	local_reply(1, CODNS_FOUND);
	assert_int_equal(lookup_inflight(lk), 0);
	assert_int_equal(W.nlocal, 2); /* no second refresh */
	assert_null(lookup_start(lk, &r, 0, client_cb, &g, &now));
	assert_int_equal(now.source, CODNS_SRC_CACHE);
	assert_false(g.got);
	assert_int_equal(W.by_source[CODNS_SRC_STALE], 1);
	stale_world_free(lk);
}

/* Beyond the serve-stale window (an hour past expiry) nothing is served:
 * try-again, no refresh, nothing counted as stale; within it, it is. */
static void
test_stale_window(void **state)
{
	struct lookup *lk = stale_world_new(0, 1800);
	struct fanswer f = { 0 };

	(void)state;
	cached_then_expired(lk, 3600);
	start(lk, "st.example", 0, &f);
	advance(1800);
	assert_false(f.got); /* no stale entry: no early answer */
	local_reply(1, CODNS_TRYAGAIN);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.by_source[CODNS_SRC_STALE], 0);
	assert_int_equal(W.nlocal, 2);
	assert_int_equal(lookup_inflight(lk), 0);
	stale_world_free(lk);

	/* The same a second inside the window. */
	lk = stale_world_new(0, 0);
	memset(&f, 0, sizeof(f));
	cached_then_expired(lk, 3599);
	start(lk, "st.example", 0, &f);
	local_reply(1, CODNS_TRYAGAIN);
	assert_int_equal(f.a.source, CODNS_SRC_STALE);
	stale_world_free(lk);
}

/* A client whose answer makes it drop a sibling's lookup, as a closing
 * connection cancels its other requests (listen.c, dnsstub.c). */
struct canceller {
	struct fanswer f;
	struct lookup_waiter *victim;
};

static void
cancelling_cb(void *arg, const struct proto_answer *a)
{
	struct canceller *c = arg;

	client_cb(&c->f, a);
	lookup_cancel(c->victim);
	c->victim = NULL;
}

/* Waiter a (plain) then b, whose answer cancels a; the newest waiter is
 * answered first, so a is the one left to answer after b's callback. */
static struct canceller *
start_canceller(struct lookup *lk, const char *name, struct fanswer *a,
    struct canceller *b)
{
	struct proto_request r = req_of(name);
	struct proto_answer now;

	memset(a, 0, sizeof(*a));
	memset(b, 0, sizeof(*b));
	b->victim = start(lk, name, 0, a);
	assert_non_null(lookup_start(lk, &r, 0, cancelling_cb, b, &now));
	return b;
}

/*
 * Issue 20, item 11: a callback that cancels a sibling waiter. The
 * cancelled one is never answered, nor touched after its free (ASan
 * catches a saved next pointer), and the lookup goes on. Three ways
 * answers go out: stale at stale-answer-timeout (the job goes on), stale
 * when every source failed, and the job's own answer.
 */
static void
test_callback_cancels_sibling(void **state)
{
	struct lookup *lk = stale_world_new(0, 1800);
	struct canceller c;
	struct fanswer f;

	(void)state;
	cached_then_expired(lk, 1);
	start_canceller(lk, "st.example", &f, &c);
	advance(1800);
	assert_true(c.f.got);
	assert_int_equal(c.f.a.source, CODNS_SRC_STALE);
	assert_false(f.got);
	assert_int_equal(lookup_inflight(lk), 1);
	local_reply(1, CODNS_FOUND);
	assert_false(f.got);
	assert_int_equal(lookup_inflight(lk), 0);
	stale_world_free(lk);

	lk = stale_world_new(0, 0);
	cached_then_expired(lk, 1);
	start_canceller(lk, "st.example", &f, &c);
	local_reply(1, CODNS_TRYAGAIN);
	assert_true(c.f.got);
	assert_int_equal(c.f.a.source, CODNS_SRC_STALE);
	assert_false(f.got);
	stale_world_free(lk);

	lk = world_new(0);
	start_canceller(lk, "fresh.example", &f, &c);
	local_reply(0, CODNS_FOUND);
	assert_true(c.f.got);
	assert_int_equal(c.f.a.source, CODNS_SRC_LOCAL);
	assert_false(f.got);
	world_free(lk);
}

/* Local fails, then the peers are asked in turn, each saying "cannot
 * resolve" but the last, whose result is last_result; no other is asked. */
static void
asked_in_turn(const uint64_t *peers, size_t n, int last_result)
{
	size_t i;

	local_reply(0, CODNS_TRYAGAIN);
	for (i = 0; i < n; i++) {
		assert_int_equal(W.npeerq, i + 1);
		assert_int_equal(W.peerq[i].peer, peers[i]);
		peer_reply(i, i + 1 < n ? LOOKUP_PEER_CANNOT : last_result,
		    CODNS_FOUND);
	}
	assert_int_equal(W.npeerq, n);
}

/* Issue 21, 2: with no neighbour (none under neighbor-rtt-max) the far
 * fallback is asked, so an isolated node is rescued; with neighbours it
 * comes after all of them, and a far peer the selection already holds is
 * not asked twice. */
static void
test_far_fallback(void **state)
{
	static const uint64_t alone[1] = { 901 }, after[3] = { 101, 102, 901 },
			      once[3] = { 901, 102, 902 };
	struct lookup *lk = world_new(0);
	struct fanswer f = { 0 }, g = { 0 }, h = { 0 };

	(void)state;
	W.peers_active = 1;
	W.nfar = 2;
	start(lk, "iso.example", 0, &f);
	advance(20);
	asked_in_turn(alone, 1, LOOKUP_PEER_ANSWER);
	assert_true(f.got);
	assert_int_equal(f.a.status, CODNS_FOUND);
	assert_int_equal(f.a.source, CODNS_SRC_PEER);
	world_free(lk);

	lk = world_new(2);
	W.nfar = 1;
	start(lk, "two.example", 0, &g);
	asked_in_turn(after, 3, LOOKUP_PEER_ANSWER);
	assert_true(g.got);
	assert_int_equal(g.a.status, CODNS_FOUND);
	world_free(lk);

	lk = world_new(2);
	W.nfar = 2;
	W.select_far = 1;
	start(lk, "dup.example", 0, &h);
	asked_in_turn(once, 3, LOOKUP_PEER_CANNOT);
	assert_true(h.got);
	assert_int_equal(h.a.status, CODNS_TRYAGAIN);
	world_free(lk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit_returns),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_nxdomain_from_local_wins),
		cmocka_unit_test(test_negative_ttl_from_soa),
		cmocka_unit_test(test_negative_ttl_default_cap),
		cmocka_unit_test(test_walk_from_kept_is_a_hit),
		cmocka_unit_test(test_kept_walk_not_silent),
		cmocka_unit_test(test_local_failure_escalates_at_once),
		cmocka_unit_test(test_local_failure_without_peers),
		cmocka_unit_test(test_far_fallback),
		cmocka_unit_test(test_cannot_moves_on_at_once),
		cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_losers_cancelled),
		cmocka_unit_test(test_peer_lookup_never_escalates),
		cmocka_unit_test(test_cancel_waiter),
		cmocka_unit_test(test_transport_gone),
		cmocka_unit_test(test_adaptive_delay),
		cmocka_unit_test(test_hedge),
		cmocka_unit_test(test_lost_peer_answer_after_immediate),
		cmocka_unit_test(test_silent_local_next_lookup_at_once),
		cmocka_unit_test(test_no_race_without_peers),
		cmocka_unit_test(test_stale_when_local_fails),
		cmocka_unit_test(test_prefetch_steady_name_never_misses),
		cmocka_unit_test(test_prefetch_coalesced),
		cmocka_unit_test(test_stale_at_deadline),
		cmocka_unit_test(test_stale_answer_timeout),
		cmocka_unit_test(test_stale_window),
		cmocka_unit_test(test_callback_cancels_sibling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
