/* codnsd/lookup.c: one lookup from cache, local nameserver and peers. */
#include "lookup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "codnsd.h"
#include "delay.h"
#include "log.h"
#include "peernet.h"
#include "stats.h"
#include "upstream.h"

#define LOOKUP_BUCKETS 1024
#define LOOKUP_INFLIGHT_MAX 8192
#define LOOKUP_PEERS_MAX 16
#define LOOKUP_STALE_TTL 30 /* RFC 8767 section 4: "30 seconds" */

struct lookup_waiter {
	struct lookup_job *job;
	lookup_cb *cb;
	void *arg;
	int flags;
	uint64_t start_us;
	struct lookup_waiter *next;
};

struct lookup_slot {
	struct lookup_job *job;
	struct peernet_query *q; /* NULL once answered or never sent */
};

/* One resolution in flight, shared by every identical request. */
struct lookup_job {
	struct lookup *lk;
	struct proto_request req; /* name lowercased: the coalescing key */
	uint32_t hash;
	uint64_t start_ms;
	struct lookup_waiter *waiters;
	struct upstream_query *uq;
	ev_timer deadline;
	/* The race with peers (DESIGN.md "The lookup race"). */
	int racing;       /* a client waits, so peers may be asked */
	int local_failed; /* SERVFAIL, refused or timeout from local */
	uint32_t delay0, step;
	size_t npeers, nasked;
	uint64_t peer_ids[LOOKUP_PEERS_MAX];
	struct lookup_slot slots[LOOKUP_PEERS_MAX];
	ev_timer peer_timer;
	ev_timer stale_timer; /* stale-answer-timeout */
	struct lookup_job *next; /* hash chain */
};

struct lookup {
	struct codnsd *d;
	struct lookup_job *buckets[LOOKUP_BUCKETS];
	size_t inflight;
	int stopping; /* lookup_fail_all(): no background refreshes */
};

static uint32_t
lookup_hash(const struct proto_request *r)
{
	uint32_t h = 2166136261u;
	const uint8_t *p;
	size_t i, n;

	h = (h ^ r->kind) * 16777619u;
	h = (h ^ r->family) * 16777619u;
	if (r->kind == PROTO_KIND_FORWARD) {
		p = (const uint8_t *)r->name;
		n = strlen(r->name);
	} else {
		p = r->addr;
		n = proto_addr_len(r->family);
	}
	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int
lookup_same(const struct proto_request *a, const struct proto_request *b)
{
	if (a->kind != b->kind || a->family != b->family)
		return 0;
	if (a->kind == PROTO_KIND_FORWARD)
		return strcmp(a->name, b->name) == 0;
	return memcmp(a->addr, b->addr, proto_addr_len(a->family)) == 0;
}

struct lookup *
lookup_new(struct codnsd *d)
{
	struct lookup *lk;

	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return NULL;
	lk->d = d;
	return lk;
}

size_t
lookup_inflight(const struct lookup *lk)
{
	return lk->inflight;
}

static uint64_t
lookup_now_us(struct lookup *lk)
{
	return (uint64_t)(ev_now(lk->d->loop) * 1e6);
}

/* Hand an answer to one waiter, with its own latency; client lookups
 * (not peers') are counted. */
static void
lookup_answer(struct lookup *lk, const struct proto_request *req, int flags,
    uint64_t start_us, lookup_cb *cb, void *arg, const struct proto_answer *a)
{
	struct proto_answer out = *a;

	out.latency_us = (uint32_t)(lookup_now_us(lk) - start_us);
	if (!(flags & LOOKUP_F_PEER))
		stats_lookup(lk->d->stats, req, &out, out.latency_us);
	cb(arg, &out);
}

/*
 * Serve-stale (RFC 8767): answer the client waiters from an entry expired
 * less than serve-stale ago, with a 30 s TTL. Peers' waiters stay: a peer
 * is only told what we could resolve. Returns how many were answered.
 */
static size_t
lookup_stale_answer(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	struct lookup_waiter **wp, *w;
	struct proto_answer a;
	size_t n = 0;

	if (!cache_get_stale(lk->d->cache, &job->req,
		upstream_now_ms(lk->d->loop), &a))
		return 0;
	a.ttl = LOOKUP_STALE_TTL;
	for (wp = &job->waiters; (w = *wp) != NULL;) {
		if (w->flags & LOOKUP_F_PEER) {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		lookup_answer(lk, &job->req, w->flags, w->start_us, w->cb,
		    w->arg, &a);
		free(w);
		n++;
	}
	return n;
}

/* stale-answer-timeout: the clients get the stale answer now; the job
 * goes on and refreshes the cache if a source answers in time. */
static void
lookup_stale_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	lookup_stale_answer(t->data);
}

static struct lookup_job *lookup_job_new(struct lookup *,
    const struct proto_request *, uint32_t);

/* Unlink the job, answer every waiter, free everything it owns. */
static void
lookup_job_finish(struct lookup_job *job, const struct proto_answer *a)
{
	struct lookup *lk = job->lk;
	struct lookup_job **jp;
	struct lookup_waiter *w, *next;
	struct proto_request req;
	size_t i;
	int refresh = 0;

	for (jp = &lk->buckets[job->hash % LOOKUP_BUCKETS]; *jp != job;
	     jp = &(*jp)->next)
		;
	*jp = job->next;
	lk->inflight--;
	ev_timer_stop(lk->d->loop, &job->deadline);
	ev_timer_stop(lk->d->loop, &job->peer_timer);
	ev_timer_stop(lk->d->loop, &job->stale_timer);
	upstream_cancel(job->uq);
	for (i = 0; i < job->nasked; i++)
		peernet_query_cancel(job->slots[i].q,
		    a->status != CODNS_TRYAGAIN);
	if (job->racing && lk->d->peernet != NULL)
		peernet_outcome(lk->d->peernet, a->source == CODNS_SRC_PEER,
		    a->status == CODNS_TRYAGAIN, a->latency_us / 1000);
	/* Every source failed: stale data, then one more try in the
	 * background (RFC 8767 section 5), local only since no client
	 * waits on it. */
	if (a->status == CODNS_TRYAGAIN && !lk->stopping &&
	    lookup_stale_answer(job) > 0)
		refresh = 1;
	for (w = job->waiters; w != NULL; w = next) {
		next = w->next;
		lookup_answer(lk, &job->req, w->flags, w->start_us, w->cb,
		    w->arg, a);
		free(w);
	}
	req = job->req;
	i = job->hash;
	free(job);
	if (refresh && lk->inflight < LOOKUP_INFLIGHT_MAX)
		lookup_job_new(lk, &req, (uint32_t)i);
}

static size_t
lookup_peers_pending(const struct lookup_job *job)
{
	size_t i, n = 0;

	for (i = 0; i < job->nasked; i++)
		if (job->slots[i].q != NULL)
			n++;
	return n;
}

static void lookup_peer_cb(void *, const char *, const struct proto_answer *);

/* Ask the next neighbour in HRW order; 0 when none is left. */
static int
lookup_ask_next(struct lookup_job *job)
{
	struct peernet *pn = job->lk->d->peernet;
	struct lookup_slot *slot;

	while (job->nasked < job->npeers) {
		slot = &job->slots[job->nasked];
		slot->job = job;
		slot->q = peernet_query(pn, job->peer_ids[job->nasked],
		    &job->req, lookup_peer_cb, slot);
		job->nasked++;
		if (slot->q != NULL)
			return 1;
	}
	return 0;
}

/* The backoff (CoDNS 4.1): peer k is asked at delay_backoff_at(k), each
 * wait twice the one before, until peers-per-lookup have been asked. */
static void
lookup_peer_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lookup_job *job = t->data;
	uint32_t prev, next;

	lookup_ask_next(job);
	if (job->nasked >= job->npeers)
		return;
	prev = delay_backoff_at(job->delay0, job->step, (unsigned)job->nasked - 1);
	next = delay_backoff_at(job->delay0, job->step, (unsigned)job->nasked);
	ev_timer_set(t, (next - prev) / 1000.0, 0.);
	ev_timer_start(loop, t);
}

static void
lookup_peer_cb(void *arg, const char *peer, const struct proto_answer *a)
{
	struct lookup_slot *slot = arg;
	struct lookup_job *job = slot->job;
	struct lookup *lk = job->lk;
	struct proto_answer fail;

	slot->q = NULL;
	if (a != NULL) {
		/* First good answer wins (the lookup race, 5); the local
		 * query is cancelled and the peer's answer is cached. */
		cache_put(lk->d->cache, &job->req, a,
		    upstream_now_ms(lk->d->loop));
		lookup_job_finish(job, a);
		return;
	}
	/* "Cannot resolve": the next peer at once. */
	if (lookup_ask_next(job) || lookup_peers_pending(job) ||
	    !job->local_failed)
		return;
	memset(&fail, 0, sizeof(fail));
	fail.status = CODNS_TRYAGAIN;
	lookup_job_finish(job, &fail);
}

/* A client waits on this job: arm the initial-delay timer. */
static void
lookup_race_start(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	struct peernet *pn = lk->d->peernet;
	size_t max = lk->d->conf.peers_per_lookup;

	if (job->racing || pn == NULL)
		return;
	job->racing = 1;
	if (max > LOOKUP_PEERS_MAX)
		max = LOOKUP_PEERS_MAX;
	job->npeers = peernet_select(pn, &job->req, job->peer_ids, max);
	if (job->npeers == 0)
		return;
	job->delay0 = peernet_initial_delay(pn, &job->step);
	ev_timer_set(&job->peer_timer, job->delay0 / 1000.0, 0.);
	ev_timer_start(lk->d->loop, &job->peer_timer);
}

static void
lookup_local_cb(void *arg, const struct proto_answer *a)
{
	struct lookup_job *job = arg;
	struct lookup *lk = job->lk;
	struct proto_answer ans = *a;

	job->uq = NULL;
	stats_local(lk->d->stats, a->status, a->latency_us);
	/* c-ares' getaddrinfo does not pass on the SOA minimum (RFC 2308),
	 * so a negative answer lives for negative-ttl. */
	if (ans.status == CODNS_NOTFOUND || ans.status == CODNS_NODATA)
		ans.ttl = lk->d->conf.negative_ttl_s;
	/* Found, NXDOMAIN and NODATA are answers (the lookup race, 3). */
	if (ans.status != CODNS_TRYAGAIN) {
		cache_put(lk->d->cache, &job->req, &ans,
		    upstream_now_ms(lk->d->loop));
		lookup_job_finish(job, &ans);
		return;
	}
	/* SERVFAIL, refused or timeout: the next peer at once, or wait for
	 * the peers already asked. */
	job->local_failed = 1;
	if (!job->racing || (!lookup_ask_next(job) && !lookup_peers_pending(job)))
		lookup_job_finish(job, &ans);
}

static void
lookup_deadline_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lookup_job *job = t->data;
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_TRYAGAIN;
	stats_count(job->lk->d->stats, STATS_LOOKUPS_TIMEOUT);
	lookup_job_finish(job, &a);
}

static struct lookup_job *
lookup_job_new(struct lookup *lk, const struct proto_request *key,
    uint32_t hash)
{
	struct lookup_job *job;
	struct ev_loop *loop = lk->d->loop;
	struct proto_answer stale;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->lk = lk;
	job->req = *key;
	job->hash = hash;
	job->start_ms = upstream_now_ms(loop);
	ev_timer_init(&job->deadline, lookup_deadline_cb,
	    lk->d->conf.lookup_timeout_ms / 1000.0, 0.);
	job->deadline.data = job;
	ev_timer_init(&job->peer_timer, lookup_peer_timer_cb, 0., 0.);
	job->peer_timer.data = job;
	ev_timer_init(&job->stale_timer, lookup_stale_timer_cb,
	    lk->d->conf.stale_answer_timeout_ms / 1000.0, 0.);
	job->stale_timer.data = job;
	job->uq = upstream_resolve(lk->d->upstream, &job->req, lookup_local_cb,
	    job);
	if (job->uq == NULL) {
		free(job);
		return NULL;
	}
	ev_timer_start(loop, &job->deadline);
	if (lk->d->conf.stale_answer_timeout_ms > 0 &&
	    cache_get_stale(lk->d->cache, key, job->start_ms, &stale))
		ev_timer_start(loop, &job->stale_timer);
	job->next = lk->buckets[hash % LOOKUP_BUCKETS];
	lk->buckets[hash % LOOKUP_BUCKETS] = job;
	lk->inflight++;
	return job;
}

struct lookup_waiter *
lookup_start(struct lookup *lk, const struct proto_request *req, int flags,
    lookup_cb *cb, void *arg)
{
	struct proto_request key = *req;
	struct proto_answer a;
	struct lookup_job *job;
	struct lookup_waiter *w;
	uint64_t now = upstream_now_ms(lk->d->loop), now_us = lookup_now_us(lk);
	uint32_t hash;
	char *p;

	key.id = 0;
	for (p = key.name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (cache_get(lk->d->cache, &key, now, &a)) {
		lookup_answer(lk, &key, flags, now_us, cb, arg, &a);
		return NULL;
	}
	hash = lookup_hash(&key);
	for (job = lk->buckets[hash % LOOKUP_BUCKETS]; job != NULL;
	     job = job->next)
		if (job->hash == hash && lookup_same(&job->req, &key))
			break;
	if (job != NULL)
		stats_count(lk->d->stats, STATS_LOOKUPS_COALESCED);
	else if (lk->inflight < LOOKUP_INFLIGHT_MAX)
		job = lookup_job_new(lk, &key, hash);
	else
		stats_count(lk->d->stats, STATS_LOOKUPS_OVERLOAD);
	if (job == NULL || (w = calloc(1, sizeof(*w))) == NULL) {
		memset(&a, 0, sizeof(a));
		a.status = CODNS_TRYAGAIN;
		lookup_answer(lk, &key, flags, now_us, cb, arg, &a);
		return NULL;
	}
	w->job = job;
	w->cb = cb;
	w->arg = arg;
	w->flags = flags;
	w->start_us = now_us;
	w->next = job->waiters;
	job->waiters = w;
	if (!(flags & LOOKUP_F_PEER))
		lookup_race_start(job);
	return w;
}

void
lookup_cancel(struct lookup_waiter *w)
{
	struct lookup_waiter **wp;

	if (w == NULL)
		return;
	/* The job goes on without it: its answer still fills the cache. */
	for (wp = &w->job->waiters; *wp != w; wp = &(*wp)->next)
		;
	*wp = w->next;
	free(w);
}

void
lookup_fail_all(struct lookup *lk)
{
	struct proto_answer a;
	size_t i;

	memset(&a, 0, sizeof(a));
	a.status = CODNS_TRYAGAIN;
	lk->stopping = 1;
	for (i = 0; i < LOOKUP_BUCKETS; i++)
		while (lk->buckets[i] != NULL)
			lookup_job_finish(lk->buckets[i], &a);
}

void
lookup_free(struct lookup *lk)
{
	if (lk == NULL)
		return;
	lookup_fail_all(lk);
	free(lk);
}
