/* codnsd/lookup.c: one lookup from cache, local nameserver and peers. */
#include "lookup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "codnsd.h"
#include "log.h"
#include "stats.h"
#include "upstream.h"

#define LOOKUP_BUCKETS 1024
#define LOOKUP_INFLIGHT_MAX 8192

struct lookup_waiter {
	struct lookup_job *job;
	lookup_cb *cb;
	void *arg;
	int flags;
	uint64_t start_us;
	struct lookup_waiter *next;
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
	struct lookup_job *next; /* hash chain */
};

struct lookup {
	struct codnsd *d;
	struct lookup_job *buckets[LOOKUP_BUCKETS];
	size_t inflight;
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

static void
lookup_deliver(struct lookup_waiter *w, const struct proto_answer *a,
    uint64_t now)
{
	struct proto_answer out = *a;
	struct lookup *lk = w->job ? w->job->lk : NULL;

	out.latency_us = (uint32_t)(now - w->start_us);
	if (lk != NULL && !(w->flags & LOOKUP_F_PEER))
		stats_lookup(lk->d->stats, &w->job->req, &out, out.latency_us);
	w->cb(w->arg, &out);
}

/* Unlink the job, answer every waiter, free everything it owns. */
static void
lookup_job_finish(struct lookup_job *job, const struct proto_answer *a)
{
	struct lookup *lk = job->lk;
	struct lookup_job **jp;
	struct lookup_waiter *w, *next;
	uint64_t now = lookup_now_us(lk);

	for (jp = &lk->buckets[job->hash % LOOKUP_BUCKETS]; *jp != job;
	     jp = &(*jp)->next)
		;
	*jp = job->next;
	lk->inflight--;
	ev_timer_stop(lk->d->loop, &job->deadline);
	upstream_cancel(job->uq);
	for (w = job->waiters; w != NULL; w = next) {
		next = w->next;
		lookup_deliver(w, a, now);
		free(w);
	}
	free(job);
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
	if (ans.status != CODNS_TRYAGAIN)
		cache_put(lk->d->cache, &job->req, &ans,
		    upstream_now_ms(lk->d->loop));
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

	if ((job = calloc(1, sizeof(*job))) == NULL)
		return NULL;
	job->lk = lk;
	job->req = *key;
	job->hash = hash;
	job->start_ms = upstream_now_ms(loop);
	ev_timer_init(&job->deadline, lookup_deadline_cb,
	    lk->d->conf.lookup_timeout_ms / 1000.0, 0.);
	job->deadline.data = job;
	job->uq = upstream_resolve(lk->d->upstream, &job->req, lookup_local_cb,
	    job);
	if (job->uq == NULL) {
		free(job);
		return NULL;
	}
	ev_timer_start(loop, &job->deadline);
	job->next = lk->buckets[hash % LOOKUP_BUCKETS];
	lk->buckets[hash % LOOKUP_BUCKETS] = job;
	lk->inflight++;
	return job;
}

static void
lookup_now(struct lookup *lk, const struct proto_request *req, int flags,
    const struct proto_answer *a, uint64_t start, lookup_cb *cb, void *arg)
{
	struct lookup_job fake;
	struct lookup_waiter w;

	memset(&fake, 0, sizeof(fake));
	fake.lk = lk;
	fake.req = *req;
	memset(&w, 0, sizeof(w));
	w.job = &fake;
	w.cb = cb;
	w.arg = arg;
	w.flags = flags;
	w.start_us = start;
	lookup_deliver(&w, a, lookup_now_us(lk));
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
		lookup_now(lk, &key, flags, &a, now_us, cb, arg);
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
		lookup_now(lk, &key, flags, &a, now_us, cb, arg);
		return NULL;
	}
	w->job = job;
	w->cb = cb;
	w->arg = arg;
	w->flags = flags;
	w->start_us = now_us;
	w->next = job->waiters;
	job->waiters = w;
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
