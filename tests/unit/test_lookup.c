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
#include "lookup.h"
#include "peers.h"

#define MAXQ 256
#define MAXT 256
#define MAXC 256

/* --- the fake world ------------------------------------------------------ */

struct ftimer {
	int used, armed;
	uint64_t at;
	lookup_timer_cb *cb;
	void *arg;
};

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
	struct ftimer timers[MAXT];
	struct fquery local[MAXQ];
	size_t nlocal;
	struct fpeerq peerq[MAXQ];
	size_t npeerq;
	int peers_active;
	size_t npeers; /* neighbours offered: ids 101, 102, ... */
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

static uint64_t
f_now_us(void *clock)
{
	(void)clock;
	return W.now;
}

static void *
f_timer_new(void *clock, lookup_timer_cb *cb, void *arg)
{
	size_t i;

	(void)clock;
	for (i = 0; i < MAXT; i++)
		if (!W.timers[i].used) {
			memset(&W.timers[i], 0, sizeof(W.timers[i]));
			W.timers[i].used = 1;
			W.timers[i].cb = cb;
			W.timers[i].arg = arg;
			return &W.timers[i];
		}
	return NULL;
}

static void
f_timer_start(void *timer, uint64_t after_us)
{
	struct ftimer *t = timer;

	t->armed = 1;
	t->at = W.now + after_us;
}

static void
f_timer_stop(void *timer)
{
	((struct ftimer *)timer)->armed = 0;
}

static void
f_timer_free(void *timer)
{
	struct ftimer *t = timer;

	if (t != NULL)
		t->used = t->armed = 0;
}

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
		ids[i] = 101 + i;
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
	.now_us = f_now_us,
	.timer_new = f_timer_new,
	.timer_start = f_timer_start,
	.timer_stop = f_timer_stop,
	.timer_free = f_timer_free,
	.cache_get = f_cache_get,
	.cache_put = f_cache_put,
	.local_resolve = f_local_resolve,
	.local_cancel = f_local_cancel,
	.peers_active = f_peers_active,
	.peers_select = f_peers_select,
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
	W.now = 1000000; /* not 0, so that times are not mistaken for unset */
	W.peers_active = npeers > 0;
	W.npeers = npeers;
	return lookup_new(&fake_env, &lc);
}

/* The loop: run the timers due up to now + ms, in order, then stop. */
static void
advance(uint64_t ms)
{
	uint64_t end = W.now + ms * 1000;
	struct ftimer *next;
	size_t i;

	for (;;) {
		next = NULL;
		for (i = 0; i < MAXT; i++)
			if (W.timers[i].used && W.timers[i].armed &&
			    W.timers[i].at <= end &&
			    (next == NULL || W.timers[i].at < next->at))
				next = &W.timers[i];
		if (next == NULL)
			break;
		if (next->at > W.now)
			W.now = next->at;
		next->armed = 0;
		next->cb(next->arg);
	}
	W.now = end;
}

static int
timers_in_use(void)
{
	int i, n = 0;

	for (i = 0; i < MAXT; i++)
		n += W.timers[i].used;
	return n;
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
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	r.kind = PROTO_KIND_FORWARD;
	r.family = CODNS_AF_INET;
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
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
	a.source = CODNS_SRC_LOCAL;
	a.latency_us = (uint32_t)(W.now - W.local[i].sent_us);
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
	assert_int_equal(timers_in_use(), 0);
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
	world_free(lk); /* answers the rest with unavailable */
	assert_true(f[2].got);
	assert_int_equal(f[2].a.status, CODNS_UNAVAIL);
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
	struct fanswer f[3] = { { 0 } };

	(void)state;
	start(lk, "forpeer.example", LOOKUP_F_PEER, &f[0]);
	advance(3000);
	assert_int_equal(W.npeerq, 0);
	local_reply(0, CODNS_TRYAGAIN);
	assert_true(f[0].got);
	assert_int_equal(f[0].a.status, CODNS_TRYAGAIN);
	assert_int_equal(W.npeerq, 0);
	assert_int_equal(W.stat_lookups, 0); /* not a client lookup */

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

/* The adaptive delay (CoDNS 4.1) moves 200 -> 0 -> 200 over the paper's
 * windows: 0 once peers won more than 8 of the last 16, mean + sd of the
 * peers' latencies once they no longer do, back to the healthy delay after
 * 32 local answers in a row (the hedge, twice the local p99: 200 here, as
 * local answers take 100 ms). And the delay is what the race uses. */
static void
test_adaptive_delay(void **state)
{
	struct lookup *lk = world_new(3);
	const char *reason;
	unsigned i = 0, k, l16, p16, l32, p32;

	(void)state;
	assert_int_equal(lookup_delay_ms(lk, &reason), 200);
	assert_string_equal(reason, "starting");
	for (k = 0; k < 8; k++)
		one_lookup(lk, i++, 1, 10);
	assert_int_equal(lookup_delay_ms(lk, &reason), 10);
	assert_string_equal(reason, "adaptive");
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hit_returns),
		cmocka_unit_test(test_coalescing),
		cmocka_unit_test(test_nxdomain_from_local_wins),
		cmocka_unit_test(test_local_failure_escalates_at_once),
		cmocka_unit_test(test_local_failure_without_peers),
		cmocka_unit_test(test_cannot_moves_on_at_once),
		cmocka_unit_test(test_backoff_schedule),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_losers_cancelled),
		cmocka_unit_test(test_peer_lookup_never_escalates),
		cmocka_unit_test(test_cancel_waiter),
		cmocka_unit_test(test_transport_gone),
		cmocka_unit_test(test_adaptive_delay),
		cmocka_unit_test(test_hedge),
		cmocka_unit_test(test_no_race_without_peers),
		cmocka_unit_test(test_stale_when_local_fails),
		cmocka_unit_test(test_stale_at_deadline),
		cmocka_unit_test(test_stale_answer_timeout),
		cmocka_unit_test(test_stale_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
