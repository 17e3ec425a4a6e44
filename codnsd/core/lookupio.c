/* SPDX-License-Identifier: MIT */
/* codnsd/core/lookupio.c: lookup's real collaborators: libev, cache, upstream,
 * peernet and stats behind struct lookup_env. The only place where the
 * race meets libev. */
#include "lookupio.h"

#include <stdlib.h>

#include "cache.h"
#include "clock.h"
#include "codnsd.h"
#include "peernet.h"
#include "stats.h"
#include "upstream.h"

_Static_assert((int)LOOKUP_PEER_ANSWER == (int)PEERNET_ANSWER &&
	(int)LOOKUP_PEER_CANNOT == (int)PEERNET_CANNOT &&
	(int)LOOKUP_PEER_GONE == (int)PEERNET_GONE,
    "lookup and peernet agree on the results of a peer query");

struct lookupio_timer {
	ev_timer t;
	struct ev_loop *loop;
	lookup_timer_cb *cb;
	void *arg;
};

uint64_t
lookupio_now_us(void *clock)
{
	return clock_loop_us(clock);
}

static void
lookupio_timer_fired(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct lookupio_timer *lt = t->data;

	lt->cb(lt->arg);
}

void *
lookupio_timer_new(void *clock, lookup_timer_cb *cb, void *arg)
{
	struct lookupio_timer *lt;

	if ((lt = calloc(1, sizeof(*lt))) == NULL)
		return NULL;
	ev_timer_init(&lt->t, lookupio_timer_fired, 0., 0.);
	lt->t.data = lt;
	lt->loop = clock;
	lt->cb = cb;
	lt->arg = arg;
	return lt;
}

void
lookupio_timer_start(void *timer, uint64_t after_us)
{
	struct lookupio_timer *lt = timer;

	ev_timer_set(&lt->t, (double)after_us / 1e6, 0.);
	ev_timer_start(lt->loop, &lt->t);
}

void
lookupio_timer_stop(void *timer)
{
	struct lookupio_timer *lt = timer;

	ev_timer_stop(lt->loop, &lt->t);
}

void
lookupio_timer_free(void *timer)
{
	struct lookupio_timer *lt = timer;

	if (lt == NULL)
		return;
	ev_timer_stop(lt->loop, &lt->t);
	free(lt);
}

/* Every collaborator is followed through d, so that whatever main frees
 * first (and clears in d), lookup never reaches into freed memory. */
static int
lookupio_cache_get(void *ctx, const struct proto_request *key,
    uint64_t now_ms, struct proto_answer *out)
{
	struct codnsd *d = ctx;

	return d->cache != NULL && cache_get(d->cache, key, now_ms, out);
}

static int
lookupio_cache_refresh_due(void *ctx)
{
	struct codnsd *d = ctx;

	return d->cache != NULL && cache_refresh_due(d->cache);
}

static int
lookupio_cache_get_stale(void *ctx, const struct proto_request *key,
    uint64_t now_ms, struct proto_answer *out)
{
	struct codnsd *d = ctx;

	return d->cache != NULL && cache_get_stale(d->cache, key, now_ms, out);
}

static void
lookupio_cache_put(void *ctx, const struct proto_request *key,
    const struct proto_answer *a, uint64_t now_ms)
{
	struct codnsd *d = ctx;

	if (d->cache != NULL)
		cache_put(d->cache, key, a, now_ms);
}

static void *
lookupio_local_resolve(void *ctx, const struct proto_request *req,
    lookup_cb *cb, void *arg)
{
	struct codnsd *d = ctx;

	if (d->upstream == NULL)
		return NULL;
	return upstream_resolve(d->upstream, req, cb, arg);
}

static void
lookupio_local_cancel(void *q)
{
	upstream_cancel(q);
}

/* peernet comes with a peers file and may come later (SIGHUP). */
static int
lookupio_peers_active(void *ctx)
{
	struct codnsd *d = ctx;

	return d->peernet != NULL;
}

static size_t
lookupio_peers_select(void *ctx, const struct proto_request *req,
    uint64_t *ids, size_t max)
{
	struct codnsd *d = ctx;

	if (d->peernet == NULL)
		return 0;
	return peernet_select(d->peernet, req, ids, max);
}

static size_t
lookupio_peers_fallback(void *ctx, uint64_t *ids, size_t max)
{
	struct codnsd *d = ctx;

	if (d->peernet == NULL)
		return 0;
	return peernet_fallback(d->peernet, ids, max);
}

static void *
lookupio_peer_query(void *ctx, uint64_t id, const struct proto_request *req,
    lookup_peer_cb *cb, void *arg)
{
	struct codnsd *d = ctx;

	if (d->peernet == NULL)
		return NULL;
	return peernet_query(d->peernet, id, req, cb, arg);
}

static void
lookupio_peer_cancel(void *q)
{
	peernet_query_cancel(q);
}

static void
lookupio_peer_record(void *ctx, uint64_t id, int outcome)
{
	struct codnsd *d = ctx;

	if (d->peernet != NULL)
		peernet_record(d->peernet, id, (enum peers_outcome)outcome);
}

static void
lookupio_stat_count(void *ctx, enum stats_counter c)
{
	struct codnsd *d = ctx;

	if (d->stats != NULL)
		stats_count(d->stats, c);
}

static void
lookupio_stat_lookup(void *ctx, const struct proto_request *req,
    const struct proto_answer *a, uint32_t latency_us)
{
	struct codnsd *d = ctx;

	if (d->stats != NULL)
		stats_lookup(d->stats, req, a, latency_us);
}

static void
lookupio_stat_local(void *ctx, uint8_t status, uint32_t latency_us)
{
	struct codnsd *d = ctx;

	if (d->stats != NULL)
		stats_local(d->stats, status, latency_us);
}

static void
lookupio_stat_peer(void *ctx, uint8_t status, uint32_t latency_us)
{
	struct codnsd *d = ctx;

	if (d->stats != NULL)
		stats_peer(d->stats, status, latency_us);
}

static uint32_t
lookupio_local_timeout_ms(void *ctx, const struct proto_request *req)
{
	struct codnsd *d = ctx;

	return d->upstream != NULL ?
	    upstream_lookup_timeout_ms(d->upstream, req) :
				     d->conf.lookup_timeout_ms;
}

void
lookupio_conf(const struct conf *c, struct lookup_conf *lc)
{
	lc->lookup_timeout_ms = c->lookup_timeout_ms;
	lc->negative_ttl_s = c->negative_ttl_s;
	lc->initial_delay_max_ms = c->initial_delay_max_ms;
	lc->peers_per_lookup = c->peers_per_lookup;
	lc->stale_answer_timeout_ms = c->stale_answer_timeout_ms;
}

struct lookup *
lookupio_new(struct codnsd *d)
{
	struct lookup_env env = {
		LOOKUPIO_CLOCK(d->loop),
		.cache = d,
		.cache_get = lookupio_cache_get,
		.cache_put = lookupio_cache_put,
		.cache_get_stale = lookupio_cache_get_stale,
		.cache_refresh_due = lookupio_cache_refresh_due,
		.local = d,
		.local_resolve = lookupio_local_resolve,
		.local_cancel = lookupio_local_cancel,
		.local_timeout_ms = lookupio_local_timeout_ms,
		.peers = d,
		.peers_active = lookupio_peers_active,
		.peers_select = lookupio_peers_select,
		.peers_fallback = lookupio_peers_fallback,
		.peer_query = lookupio_peer_query,
		.peer_cancel = lookupio_peer_cancel,
		.peer_record = lookupio_peer_record,
		.stats = d,
		.stat_count = lookupio_stat_count,
		.stat_lookup = lookupio_stat_lookup,
		.stat_local = lookupio_stat_local,
		.stat_peer = lookupio_stat_peer,
	};
	struct lookup_conf lc;

	lookupio_conf(&d->conf, &lc);
	return lookup_new(&env, &lc);
}
