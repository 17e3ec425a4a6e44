/* SPDX-License-Identifier: MIT */
/* codnsd/core/lookup.c: one lookup from cache, local nameserver and peers. */
#include "lookup.h"

#include <sys/queue.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "delay.h"
#include "namehash.h"
#include "peers.h"

#define LOOKUP_BUCKETS 1024
#define LOOKUP_INFLIGHT_MAX 8192
#define LOOKUP_PEERS_MAX 16
#define LOOKUP_FAR_MAX 2 /* far fallback peers after the neighbours */
#define LOOKUP_STALE_TTL 30 /* RFC 8767 section 4: "30 seconds" */
/* A negative answer without a SOA: kept this long at most (below). */
#define LOOKUP_NOSOA_TTL 30
/* A timer may fire a little before its time in floating-point seconds. */
#define LOOKUP_SLACK_US 1000

struct lookup_waiter {
	struct lookup_job *job;
	lookup_cb *cb;
	void *arg;
	int flags;
	uint64_t start_us;
	LIST_ENTRY(lookup_waiter) entry;
};

LIST_HEAD(lookup_waiters, lookup_waiter);

/* One query to one peer. */
struct lookup_slot {
	struct lookup_job *job;
	uint64_t peer;
	void *q; /* NULL once answered or never sent */
};

/* One resolution in flight, shared by every identical request. */
struct lookup_job {
	struct lookup *lk;
	struct proto_request req; /* name lowercased: the coalescing key */
	uint32_t hash;
	uint64_t start_us, deadline_us;
	uint64_t stale_us; /* stale-answer-timeout, or UINT64_MAX */
	struct lookup_waiters waiters;
	void *uq;    /* the local query; NULL once it answered */
	void *timer; /* the next peer or the deadline, whichever is first */
	/* The race with peers (DESIGN.md "The lookup race"). */
	int racing;       /* a client waits, so peers may be asked */
	int local_failed; /* SERVFAIL, refused or timeout from local */
	uint64_t race_us; /* when the race started */
	uint32_t delay0, step;
	size_t npeers, nasked;
	uint64_t peer_ids[LOOKUP_PEERS_MAX];
	struct lookup_slot slots[LOOKUP_PEERS_MAX];
	LIST_ENTRY(lookup_job) chain;
};

LIST_HEAD(lookup_chain, lookup_job);

struct lookup {
	struct lookup_env env;
	struct lookup_conf conf;
	struct delay delay; /* the adaptive initial delay (CoDNS 4.1) */
	struct namehash_key hkey; /* clients and peers choose our names */
	struct lookup_chain buckets[LOOKUP_BUCKETS];
	size_t inflight;
	int stopping; /* lookup_fail_all(): no background refreshes */
};

/* The coalescing key: kind, family, then the lowercased name or the
 * address. */
static uint32_t
lookup_hash(const struct lookup *lk, const struct proto_request *r)
{
	uint8_t in[2 + PROTO_NAME_MAX + 1];
	size_t n;

	in[0] = r->kind;
	in[1] = r->family;
	if (r->kind == PROTO_KIND_FORWARD) {
		n = strnlen(r->name, PROTO_NAME_MAX);
		memcpy(in + 2, r->name, n);
	} else {
		n = proto_addr_len(r->family);
		memcpy(in + 2, r->addr, n);
	}
	return (uint32_t)namehash(&lk->hkey, in, 2 + n);
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
lookup_new(const struct lookup_env *env, const struct lookup_conf *conf)
{
	struct lookup *lk;
	size_t i;

	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return NULL;
	if (namehash_keygen(&lk->hkey) == -1) {
		free(lk);
		return NULL;
	}
	lk->env = *env;
	lk->conf = *conf;
	delay_init(&lk->delay, conf->initial_delay_max_ms);
	for (i = 0; i < LOOKUP_BUCKETS; i++)
		LIST_INIT(&lk->buckets[i]);
	return lk;
}

void
lookup_configure(struct lookup *lk, const struct lookup_conf *conf)
{
	lk->conf = *conf;
	delay_set_max(&lk->delay, conf->initial_delay_max_ms);
}

size_t
lookup_inflight(const struct lookup *lk)
{
	return lk->inflight;
}

static uint64_t
lookup_now_us(const struct lookup *lk)
{
	return lk->env.now_us(lk->env.clock);
}

/* The one place where the outcome of a query to a peer is recorded: the
 * peer's own counts (codnsctl peers) and the daemon's counters. */
static void
lookup_record_peer(struct lookup *lk, uint64_t peer, enum peers_outcome out,
    const struct proto_answer *a, int64_t latency_us)
{
	static const enum stats_counter counter[] = {
		[PEERS_QUERY_SENT] = STATS_PEER_QUERIES_SENT,
		[PEERS_QUERY_WON] = STATS_PEER_QUERIES_WON,
		[PEERS_QUERY_FAILED] = STATS_PEER_QUERIES_FAILED,
	};

	lk->env.peer_record(lk->env.peers, peer, out);
	lk->env.stat_count(lk->env.stats, counter[out]);
	if (latency_us >= 0)
		lk->env.stat_peer(lk->env.stats,
		    a != NULL ? a->status : CODNS_TRYAGAIN,
		    (uint32_t)latency_us);
}

/* How a raced lookup ended feeds the adaptive delay (CoDNS 4.1). */
static void
lookup_record_race(struct lookup *lk, const struct proto_answer *a)
{
	if (a->source == CODNS_SRC_CACHE)
		return; /* no source was asked */
	if (a->status == CODNS_TRYAGAIN)
		delay_record_fail(&lk->delay);
	else if (a->source == CODNS_SRC_PEER)
		delay_record_peer_win(&lk->delay, a->latency_us / 1000);
	else {
		delay_record_local(&lk->delay);
		/* The hedge when healthy follows the local answer time. */
		delay_record_local_latency(&lk->delay, a->latency_us);
	}
}

/* The answer for one waiter, with its own latency; client lookups (not
 * peers') are counted. */
static void
lookup_answer(struct lookup *lk, const struct proto_request *req, int flags,
    uint64_t start_us, const struct proto_answer *a, struct proto_answer *out)
{
	*out = *a;
	out->latency_us = (uint32_t)(lookup_now_us(lk) - start_us);
	if (!(flags & LOOKUP_F_PEER))
		lk->env.stat_lookup(lk->env.stats, req, out, out->latency_us);
}

/*
 * Answer the waiters moved onto the caller's list, one at a time, each
 * taken off its head before its callback runs. A callback may cancel any
 * other waiter (a closing connection drops its other requests): that one
 * leaves this list through lookup_cancel(), and no pointer to it is kept
 * across the call, so nobody walks freed memory. Returns how many.
 */
static size_t
lookup_answer_all(struct lookup *lk, const struct proto_request *req,
    struct lookup_waiters *todo, const struct proto_answer *a)
{
	struct lookup_waiter *w;
	struct proto_answer out;
	size_t n = 0;

	while ((w = LIST_FIRST(todo)) != NULL) {
		LIST_REMOVE(w, entry);
		lookup_answer(lk, req, w->flags, w->start_us, a, &out);
		w->cb(w->arg, &out);
		free(w);
		n++;
	}
	return n;
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
	struct lookup_waiters todo = LIST_HEAD_INITIALIZER(todo);
	struct lookup_waiter *w, *next, *last = NULL;
	struct proto_answer a;

	if (lk->env.cache_get_stale == NULL ||
	    !lk->env.cache_get_stale(lk->env.cache, &job->req,
		lookup_now_us(lk) / 1000, &a))
		return 0;
	a.ttl = LOOKUP_STALE_TTL;
	/* No callback runs during this walk; the order is kept. */
	for (w = LIST_FIRST(&job->waiters); w != NULL; w = next) {
		next = LIST_NEXT(w, entry);
		if (w->flags & LOOKUP_F_PEER)
			continue;
		LIST_REMOVE(w, entry);
		if (last == NULL)
			LIST_INSERT_HEAD(&todo, w, entry);
		else
			LIST_INSERT_AFTER(last, w, entry);
		last = w;
	}
	return lookup_answer_all(lk, &job->req, &todo, &a);
}

static struct lookup_job *lookup_job_new(struct lookup *,
    const struct proto_request *, uint32_t);

/* Unlink the job, answer every waiter, free everything it owns. */
static void
lookup_job_finish(struct lookup_job *job, const struct proto_answer *a)
{
	struct lookup *lk = job->lk;
	struct proto_request req;
	uint32_t hash;
	size_t i;
	int refresh = 0;

	LIST_REMOVE(job, chain);
	lk->inflight--;
	lk->env.timer_free(job->timer);
	if (job->uq != NULL)
		lk->env.local_cancel(job->uq);
	for (i = 0; i < job->nasked; i++) {
		if (job->slots[i].q == NULL)
			continue;
		lk->env.peer_cancel(job->slots[i].q);
		/* Losers are not failures when another source answered. */
		if (a->status == CODNS_TRYAGAIN)
			lookup_record_peer(lk, job->slots[i].peer,
			    PEERS_QUERY_FAILED, NULL, -1);
	}
	if (job->racing)
		lookup_record_race(lk, a);
	/* Every source failed: stale data, then one more try in the
	 * background (RFC 8767 section 5), local only since no client
	 * waits on it. */
	if (a->status == CODNS_TRYAGAIN && !lk->stopping &&
	    lookup_stale_answer(job) > 0)
		refresh = 1;
	lookup_answer_all(lk, &job->req, &job->waiters, a);
	req = job->req;
	hash = job->hash;
	free(job);
	if (refresh && lk->inflight < LOOKUP_INFLIGHT_MAX)
		lookup_job_new(lk, &req, hash);
}

static void
lookup_job_fail_with(struct lookup_job *job, int status)
{
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = status;
	lookup_job_finish(job, &a);
}

static void
lookup_job_fail(struct lookup_job *job)
{
	lookup_job_fail_with(job, CODNS_TRYAGAIN);
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

/* When the next peer is due, in the clock's microseconds: peer k at
 * delay_backoff_at(k) after the race started (d, d + 2b, d + 2b + 4b...). */
static uint64_t
lookup_next_peer_us(const struct lookup_job *job)
{
	if (!job->racing || job->nasked >= job->npeers)
		return UINT64_MAX;
	return job->race_us + (uint64_t)delay_backoff_at(job->delay0,
				  job->step, (unsigned)job->nasked) *
	    1000;
}

/* One timer per job, for whichever comes first. */
static void
lookup_job_arm(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	uint64_t now = lookup_now_us(lk), at = lookup_next_peer_us(job);

	if (job->deadline_us < at)
		at = job->deadline_us;
	if (job->stale_us < at)
		at = job->stale_us;
	lk->env.timer_stop(job->timer);
	lk->env.timer_start(job->timer, at > now ? at - now : 0);
}

static void lookup_peer_reply(void *, int, const struct proto_answer *,
    uint32_t);

/* Ask the next neighbour in HRW order; 0 when none is left. */
static int
lookup_ask_next(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	struct lookup_slot *slot;

	while (job->nasked < job->npeers) {
		slot = &job->slots[job->nasked];
		slot->job = job;
		slot->peer = job->peer_ids[job->nasked];
		slot->q = lk->env.peer_query(lk->env.peers, slot->peer,
		    &job->req, lookup_peer_reply, slot);
		job->nasked++;
		if (slot->q != NULL) {
			lookup_record_peer(lk, slot->peer, PEERS_QUERY_SENT,
			    NULL, -1);
			return 1;
		}
	}
	return 0;
}

/* Nothing left to wait for once local has failed and no peer is asked or
 * left to ask: try-again now rather than at the deadline. */
static int
lookup_job_hopeless(const struct lookup_job *job)
{
	return job->local_failed && lookup_peers_pending(job) == 0 &&
	    job->nasked >= job->npeers;
}

static void
lookup_timer_fired(void *arg)
{
	struct lookup_job *job = arg;
	struct lookup *lk = job->lk;
	uint64_t now = lookup_now_us(lk);

	if (now + LOOKUP_SLACK_US >= job->deadline_us) {
		lk->env.stat_count(lk->env.stats, STATS_LOOKUPS_TIMEOUT);
		lookup_job_fail(job);
		return;
	}
	/* stale-answer-timeout: the clients get the stale answer now; the
	 * job goes on and refreshes the cache if a source answers. */
	if (now + LOOKUP_SLACK_US >= job->stale_us) {
		job->stale_us = UINT64_MAX;
		lookup_stale_answer(job);
	}
	/* The backoff (CoDNS 4.1): each wait twice the one before, until
	 * peers-per-lookup peers have been asked. */
	if (now + LOOKUP_SLACK_US >= lookup_next_peer_us(job) &&
	    !lookup_ask_next(job) && lookup_job_hopeless(job)) {
		lookup_job_fail(job);
		return;
	}
	lookup_job_arm(job);
}

static void
lookup_peer_reply(void *arg, int result, const struct proto_answer *a,
    uint32_t latency_us)
{
	struct lookup_slot *slot = arg;
	struct lookup_job *job = slot->job;
	struct lookup *lk = job->lk;
	struct proto_answer ans;

	slot->q = NULL;
	switch (result) {
	case LOOKUP_PEER_ANSWER:
		/* First good answer wins (the lookup race, 5); the local
		 * query is cancelled and the peer's answer is cached. */
		lookup_record_peer(lk, slot->peer, PEERS_QUERY_WON, a,
		    latency_us);
		ans = *a;
		ans.source = CODNS_SRC_PEER;
		ans.latency_us = latency_us;
		lk->env.cache_put(lk->env.cache, &job->req, &ans,
		    lookup_now_us(lk) / 1000);
		lookup_job_finish(job, &ans);
		return;
	case LOOKUP_PEER_CANNOT:
		/* "Cannot resolve": the next peer at once. */
		lookup_record_peer(lk, slot->peer, PEERS_QUERY_FAILED, NULL,
		    latency_us);
		if (lookup_ask_next(job))
			lookup_job_arm(job);
		break;
	default:
		/* The transport is going away: ask nobody else. */
		job->nasked = job->npeers;
	}
	if (lookup_job_hopeless(job))
		lookup_job_fail(job);
}

/* When no neighbour can answer (none, or all tried), the nearest peers
 * beyond them, those the selection did not hold already (issue 21: an
 * isolated site is rescued). */
static void
lookup_race_fallback(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	uint64_t far[LOOKUP_FAR_MAX + LOOKUP_PEERS_MAX];
	size_t nfar, i, j, added = 0;

	if (lk->env.peers_fallback == NULL)
		return;
	nfar = lk->env.peers_fallback(lk->env.peers, far,
	    LOOKUP_FAR_MAX + job->npeers);
	for (i = 0; i < nfar && added < LOOKUP_FAR_MAX &&
	    job->npeers < LOOKUP_PEERS_MAX; i++) {
		for (j = 0; j < job->npeers && job->peer_ids[j] != far[i]; j++)
			;
		if (j == job->npeers) {
			job->peer_ids[job->npeers++] = far[i];
			added++;
		}
	}
}

/* A client waits on this job: start the race with the peers. */
static void
lookup_race_start(struct lookup_job *job)
{
	struct lookup *lk = job->lk;
	size_t max = lk->conf.peers_per_lookup;

	if (job->racing || !lk->env.peers_active(lk->env.peers))
		return;
	job->racing = 1;
	if (max > LOOKUP_PEERS_MAX)
		max = LOOKUP_PEERS_MAX;
	job->npeers = lk->env.peers_select(lk->env.peers, &job->req,
	    job->peer_ids, max);
	lookup_race_fallback(job);
	if (job->npeers == 0)
		return;
	job->race_us = lookup_now_us(lk);
	job->delay0 = delay_current(&lk->delay, job->race_us / 1000, NULL);
	job->step = delay_step_min(&lk->delay);
	lookup_job_arm(job);
}

static void
lookup_local_cb(void *arg, const struct proto_answer *a)
{
	struct lookup_job *job = arg;
	struct lookup *lk = job->lk;
	struct proto_answer ans = *a;

	job->uq = NULL;
	/*
	 * From kept responses (source cache) the nameserver was not asked:
	 * no local latency to learn, and no evidence for or against
	 * local-silent, so this job's own mark is taken back.
	 */
	if (a->source != CODNS_SRC_CACHE) {
		lk->env.stat_local(lk->env.stats, a->status, a->latency_us);
		if (a->status != CODNS_TRYAGAIN)
			delay_local_answered(&lk->delay);
	} else
		delay_local_unsent(&lk->delay, job->start_us / 1000);
	/* A negative answer lives for its SOA's negative TTL (RFC 2308
	 * section 5), at most negative-ttl. Without a SOA (the local
	 * resolver says UINT32_MAX) RFC 2308 would not cache it at all; a
	 * short while spares the nameserver a client's retries, as nscd's
	 * 20 s do, without keeping a name away for negative-ttl's hour. */
	if (ans.status == CODNS_NOTFOUND || ans.status == CODNS_NODATA) {
		if (ans.ttl == UINT32_MAX)
			ans.ttl = LOOKUP_NOSOA_TTL;
		if (ans.ttl > lk->conf.negative_ttl_s)
			ans.ttl = lk->conf.negative_ttl_s;
	}
	/* Found, NXDOMAIN and NODATA are answers (the lookup race, 3). */
	if (ans.status != CODNS_TRYAGAIN) {
		lk->env.cache_put(lk->env.cache, &job->req, &ans,
		    lookup_now_us(lk) / 1000);
		lookup_job_finish(job, &ans);
		return;
	}
	/* SERVFAIL, refused or timeout: the next peer at once, or wait for
	 * the peers already asked. */
	job->local_failed = 1;
	if (!job->racing || lookup_job_hopeless(job)) {
		lookup_job_finish(job, &ans);
		return;
	}
	if (lookup_ask_next(job))
		lookup_job_arm(job);
	else if (lookup_job_hopeless(job))
		lookup_job_finish(job, &ans);
}

/* The whole lookup's deadline: the local resolver's when it has one
 * (lookup-timeout, or glibc's from resolv.conf), else the configured one. */
static uint32_t
lookup_timeout_ms(const struct lookup *lk, const struct proto_request *req)
{
	if (lk->env.local_timeout_ms != NULL)
		return lk->env.local_timeout_ms(lk->env.local, req);
	return lk->conf.lookup_timeout_ms;
}

static struct lookup_job *
lookup_job_new(struct lookup *lk, const struct proto_request *key,
    uint32_t hash)
{
	struct lookup_job *job;
	struct proto_answer stale;

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->lk = lk;
	job->req = *key;
	job->hash = hash;
	job->start_us = lookup_now_us(lk);
	job->deadline_us = job->start_us + (uint64_t)lookup_timeout_ms(lk, key) *
	    1000;
	job->stale_us = UINT64_MAX;
	if (lk->conf.stale_answer_timeout_ms > 0 &&
	    lk->env.cache_get_stale != NULL &&
	    lk->env.cache_get_stale(lk->env.cache, key, job->start_us / 1000,
		&stale))
		job->stale_us = job->start_us +
		    (uint64_t)lk->conf.stale_answer_timeout_ms * 1000;
	LIST_INIT(&job->waiters);
	if ((job->timer = lk->env.timer_new(lk->env.clock, lookup_timer_fired,
		 job)) == NULL)
		goto fail;
	job->uq = lk->env.local_resolve(lk->env.local, &job->req,
	    lookup_local_cb, job);
	if (job->uq == NULL)
		goto fail;
	delay_local_sent(&lk->delay, job->start_us / 1000);
	lk->env.timer_start(job->timer, (job->stale_us < job->deadline_us ?
						 job->stale_us :
						 job->deadline_us) -
		job->start_us);
	LIST_INSERT_HEAD(&lk->buckets[hash % LOOKUP_BUCKETS], job, chain);
	lk->inflight++;
	return job;
fail:
	if (job->timer != NULL)
		lk->env.timer_free(job->timer);
	free(job);
	return NULL;
}

static struct lookup_job *
lookup_job_find(struct lookup *lk, const struct proto_request *key,
    uint32_t hash)
{
	struct lookup_job *job;

	LIST_FOREACH(job, &lk->buckets[hash % LOOKUP_BUCKETS], chain)
		if (job->hash == hash && lookup_same(&job->req, key))
			return job;
	return NULL;
}

/*
 * Prefetch (unbound's "prefetch"): a hit in the last 10 % of its entry's
 * TTL refreshes the entry in the background, so that a name asked all
 * the time never expires in front of a client. The refresh is a job with
 * no waiter, which fills the cache as any job does; a lookup of the same
 * request in flight already (a refresh or a client's) will do that, and
 * a client whose entry expires meanwhile joins the job.
 */
static void
lookup_prefetch(struct lookup *lk, const struct proto_request *key)
{
	uint32_t hash;

	if (lk->stopping || lk->env.cache_refresh_due == NULL ||
	    !lk->env.cache_refresh_due(lk->env.cache))
		return;
	hash = lookup_hash(lk, key);
	if (lookup_job_find(lk, key, hash) != NULL ||
	    lk->inflight >= LOOKUP_INFLIGHT_MAX)
		return;
	if (lookup_job_new(lk, key, hash) != NULL)
		lk->env.stat_count(lk->env.stats, STATS_LOOKUPS_PREFETCHED);
}

struct lookup_waiter *
lookup_start(struct lookup *lk, const struct proto_request *req, int flags,
    lookup_cb *cb, void *arg, struct proto_answer *now)
{
	struct proto_request key = *req;
	struct proto_answer a;
	struct lookup_job *job;
	struct lookup_waiter *w;
	uint64_t now_us = lookup_now_us(lk);
	uint32_t hash;
	char *p;

	key.id = 0;
	for (p = key.name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	/* The fast path: a cache hit is a return value, not a callback. */
	if (lk->env.cache_get(lk->env.cache, &key, now_us / 1000, &a)) {
		lookup_answer(lk, &key, flags, now_us, &a, now);
		lookup_prefetch(lk, &key);
		return NULL;
	}
	hash = lookup_hash(lk, &key);
	if ((job = lookup_job_find(lk, &key, hash)) != NULL)
		lk->env.stat_count(lk->env.stats, STATS_LOOKUPS_COALESCED);
	else if (lk->inflight < LOOKUP_INFLIGHT_MAX)
		job = lookup_job_new(lk, &key, hash);
	else
		lk->env.stat_count(lk->env.stats, STATS_LOOKUPS_OVERLOAD);
	if (job == NULL || (w = calloc(1, sizeof(*w))) == NULL) {
		memset(&a, 0, sizeof(a));
		a.status = CODNS_TRYAGAIN;
		lookup_answer(lk, &key, flags, now_us, &a, now);
		return NULL;
	}
	w->job = job;
	w->cb = cb;
	w->arg = arg;
	w->flags = flags;
	w->start_us = now_us;
	LIST_INSERT_HEAD(&job->waiters, w, entry);
	if (!(flags & LOOKUP_F_PEER))
		lookup_race_start(job);
	return w;
}

void
lookup_cancel(struct lookup_waiter *w)
{
	if (w == NULL)
		return;
	/* The job goes on without it: its answer still fills the cache. */
	LIST_REMOVE(w, entry);
	free(w);
}

void
lookup_fail_all(struct lookup *lk, int status)
{
	size_t i;

	lk->stopping = 1;
	for (i = 0; i < LOOKUP_BUCKETS; i++)
		while (!LIST_EMPTY(&lk->buckets[i]))
			lookup_job_fail_with(LIST_FIRST(&lk->buckets[i]),
			    status);
}

void
lookup_free(struct lookup *lk)
{
	if (lk != NULL)
		lookup_fail_all(lk, CODNS_UNAVAIL);
	free(lk);
}

uint32_t
lookup_delay_ms(const struct lookup *lk, const char **reason)
{
	enum delay_reason r;
	uint32_t ms = delay_current(&lk->delay, lookup_now_us(lk) / 1000, &r);

	if (reason != NULL)
		*reason = delay_reason_name(r);
	return ms;
}

void
lookup_windows(const struct lookup *lk, unsigned *local16, unsigned *peer16,
    unsigned *local32, unsigned *peer32)
{
	struct delay_stats st;

	delay_get_stats(&lk->delay, &st);
	*local16 = st.local16;
	*peer16 = st.peer16;
	*local32 = st.local32;
	*peer32 = st.peer32;
}
