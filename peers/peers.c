/* SPDX-License-Identifier: MIT */
/* peers/peers.c: the peer table: heartbeats, liveness, states, reports. */
#include "peers_int.h"

#include <stdlib.h>
#include <string.h>

#include "hrw.h"

#define PEERS_SEQ_WINDOW 8     /* acks recognised for the last 8 heartbeats */

void
peers_config_default(struct peers_config *c)
{
	c->neighbors = 10;
	c->neighbor_rtt_max_ms = 90;
	c->heartbeat_discovery_ms = 1000;
	c->heartbeat_steady_ms = 30000;
	c->heartbeat_gap_ms = PEERS_HB_GAP_MS;
	c->seed = 0;
}

static void
peers_config_fill(struct peers_config *dst, const struct peers_config *src)
{
	struct peers_config def;

	peers_config_default(&def);
	*dst = src != NULL ? *src : def;
	if (dst->neighbors == 0)
		dst->neighbors = def.neighbors;
	if (dst->neighbor_rtt_max_ms == 0)
		dst->neighbor_rtt_max_ms = def.neighbor_rtt_max_ms;
	if (dst->heartbeat_discovery_ms == 0)
		dst->heartbeat_discovery_ms = def.heartbeat_discovery_ms;
	if (dst->heartbeat_steady_ms == 0)
		dst->heartbeat_steady_ms = def.heartbeat_steady_ms;
}

static struct peer *
peers_lookup(const struct peers *p, uint64_t id)
{
	size_t lo = 0, hi = p->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (p->v[mid].id == id)
			return &p->v[mid];
		if (p->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint64_t
peers_ack_wait(const struct peers *p)
{
	uint64_t w = (uint64_t)p->cfg.neighbor_rtt_max_ms * 4;

	if (w < PEERS_ACK_WAIT_MIN_MS)
		w = PEERS_ACK_WAIT_MIN_MS;
	if (w > p->cfg.heartbeat_discovery_ms)
		w = p->cfg.heartbeat_discovery_ms;
	return w;
}

/* --- the heap of next attention times --- */

static void
peers_heap_swap(struct peers *p, size_t i, size_t j)
{
	struct peer *t = p->heap[i];

	p->heap[i] = p->heap[j];
	p->heap[j] = t;
	p->heap[i]->hpos = i;
	p->heap[j]->hpos = j;
}

/* Equal times go in the seeded order, so nodes starting together do not
 * all heartbeat the same peers first. */
static int
peers_heap_less(const struct peer *a, const struct peer *b)
{
	if (a->key != b->key)
		return a->key < b->key;
	/* Held back by the node's limit: by class, then first due, first
	 * sent. */
	if (a->cls != b->cls)
		return a->cls < b->cls;
	if (a->due != b->due)
		return a->due < b->due;
	return a->tie < b->tie;
}

static void
peers_heap_fix(struct peers *p, size_t i)
{
	size_t c;

	while (i > 0 && peers_heap_less(p->heap[i], p->heap[(i - 1) / 2])) {
		peers_heap_swap(p, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		c = 2 * i + 1;
		if (c >= p->n)
			break;
		if (c + 1 < p->n && peers_heap_less(p->heap[c + 1], p->heap[c]))
			c++;
		if (!peers_heap_less(p->heap[c], p->heap[i]))
			break;
		peers_heap_swap(p, i, c);
		i = c;
	}
}

/* Retried at the discovery pace: being probed again after a sign of
 * life, or an answering peer after a miss, for PEERS_TRIES tries. */
static int
peers_quick(const struct peer *e)
{
	return e->reprobe ||
	    (e->acked && e->misses > 0 && e->misses < PEERS_TRIES);
}

/* Fast start: the first samples after a peer comes alive go 1, 2, 4, 8
 * discovery intervals apart, so the window fills within 15 s and a start
 * that slowed everyone (a fleet-wide start) leaves no trace in it. Echoes
 * (peers_echo()) fill it faster, so it lasts until its samples span those
 * 15 intervals too, 8 apart at most; and while its two smallest samples
 * disagree (the slow start lasted), for up to 60 intervals. */
#define PEERS_FAST_SPAN 15
#define PEERS_FAST_SPAN_MAX 60

static int
peers_fast(const struct peers *p, const struct peer *e)
{
	uint64_t span = e->sampled - e->fresh_at;
	uint64_t d = p->cfg.heartbeat_discovery_ms;

	if (!e->alive)
		return 0;
	if (e->fresh < PEERS_RTT_WIN || span < PEERS_FAST_SPAN * d)
		return 1;
	return !peers_rtt_agree(e) && span < PEERS_FAST_SPAN_MAX * d;
}

/* On the sweep's schedule and limit. With the node's limit on, a peer
 * never heartbeated is not: that limit alone spreads the first round. */
static int
peers_swept(const struct peers *p, const struct peer *e)
{
	return (e->sent_any || p->cfg.heartbeat_gap_ms == 0) && !e->force &&
	    !e->tracked && !peers_quick(e) && !peers_fast(p, e) &&
	    e->state != PEERS_DOWN;
}

/* When e's next heartbeat is due, awaiting aside. Only the sweep is
 * held back by its rate limit. */
static uint64_t
peers_hb_at(const struct peers *p, const struct peer *e)
{
	uint64_t t;

	if (e->force)
		return 0;
	/* The fast start counts from the last sample, ours or an echo
	 * (peers_echo()): the peers sampled longest ago go first. */
	if (peers_fast(p, e) && !peers_quick(e))
		return e->sampled +
		    peers_min(p->cfg.heartbeat_steady_ms,
			(uint64_t)p->cfg.heartbeat_discovery_ms
			    << (e->fresh > 1 ? peers_min(e->fresh - 1, 3) : 0));
	if (!e->sent_any)
		return peers_quick(e) ? 0 : e->hold;
	if (peers_quick(e))
		return e->last_sent + p->cfg.heartbeat_discovery_ms;
	if (e->state == PEERS_DOWN || e->sick)
		return e->last_sent + p->recheck;
	if (e->tracked)
		return e->last_sent + p->cfg.heartbeat_steady_ms;
	t = e->last_sent + p->sweep_period;
	return peers_max(t, e->hold);
}

/* Which heartbeats go first when the node's limit holds some back:
 * liveness (forced, quick retries), then peers never measured, then fast
 * starts, then the schedules (steady, re-checks, the sweep). */
static unsigned
peers_class(const struct peers *p, const struct peer *e)
{
	if (e->force || peers_quick(e))
		return 0;
	if (!e->acked)
		return 1;
	return peers_fast(p, e) ? 2 : 3;
}

static uint64_t
peers_key(const struct peers *p, struct peer *e)
{
	uint64_t k;

	e->cls = peers_class(p, e);
	if (e->awaiting) {
		k = e->last_sent + peers_ack_wait(p);
		e->due = k;
	} else {
		e->due = peers_hb_at(p, e);
		k = peers_max(e->due, e->defer);
	}
	if (e->qsince != PEERS_NEVER)
		k = peers_min(k, e->qsince + peers_ack_wait(p));
	return k;
}

static void
peers_rekey(struct peers *p, struct peer *e)
{
	e->key = peers_key(p, e);
	peers_heap_fix(p, e->hpos);
}

/* A lazy re-rank at `at` at the latest. */
static void
peers_stale(struct peers *p, uint64_t at)
{
	p->rank_due = peers_min(p->rank_due, at);
}

static enum peers_state
peers_base_state(const struct peers *p, const struct peer *e)
{
	if (!e->alive) {
		if (e->reprobe && e->misses < PEERS_TRIES)
			return PEERS_PROBING;
		return e->acked || e->misses >= PEERS_TRIES ? PEERS_DOWN :
		    PEERS_PROBING;
	}
	return e->near ? PEERS_CANDIDATE : PEERS_FAR;
}

static enum peers_mode
peers_mode_of(const struct peers *p)
{
	size_t i;

	/* Only peers never measured keep discovery going: down ones have
	 * their own capped re-probe pace (no storm while some are down). */
	if (p->nnbr >= p->cfg.neighbors)
		return PEERS_STEADY;
	for (i = 0; i < p->n; i++)
		if (p->v[i].state == PEERS_PROBING && !p->v[i].acked)
			return PEERS_DISCOVERY;
	return PEERS_STEADY;
}

/* The sweep's pace for the mode and the number of swept peers. */
static void
peers_sweep_pace(struct peers *p)
{
	uint64_t interval;
	unsigned burst;

	if (p->mode == PEERS_DISCOVERY) {
		interval = p->cfg.heartbeat_discovery_ms;
		burst = PEERS_DISCOVERY_BURST;
	} else {
		interval = p->cfg.heartbeat_steady_ms;
		burst = PEERS_SWEEP_PER_STEADY;
	}
	/* A burst at the start finds neighbours fast; once steady the
	 * sweep goes one at a time. */
	p->sweep_burst = p->mode == PEERS_DISCOVERY ? burst : 1;
	p->sweep_gap = interval / burst ? interval / burst : 1;
	p->sweep_period = peers_max(interval, p->nswept * interval / burst);
}

/* Schedules that depend on counts: the sweep, and the re-check of down
 * and sick peers (at most one a discovery interval in all). */
static void
peers_paces(struct peers *p)
{
	size_t i, nrecheck = 0;

	p->nswept = 0;
	for (i = 0; i < p->n; i++) {
		const struct peer *e = &p->v[i];

		if (e->state == PEERS_DOWN || e->sick)
			nrecheck++;
		else if (!e->tracked)
			p->nswept++;
	}
	p->recheck = (uint64_t)p->cfg.heartbeat_discovery_ms *
	    peers_max(PEERS_RECHECK_MIN, nrecheck);
	p->mode = peers_mode_of(p);
	peers_sweep_pace(p);
}

/* A neighbour that goes down or fails keeps its claim; back, it takes
 * its place again from whoever stood in: the claims made while it was
 * away (theirs) are withdrawn, so that a stand-in nearer by less than the
 * margin does not keep the place (a lost ack would otherwise swap
 * near-equal neighbours for good). */
static void
peers_claims(struct peers *p)
{
	uint64_t revoke = UINT64_MAX;
	size_t i;

	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];
		int absent = !e->alive || peers_bad(e);

		if (!e->inc)
			continue;
		if (absent && e->lost_at == 0)
			e->lost_at = p->claims + 1;
		else if (!absent && e->lost_at != 0) {
			revoke = peers_min(revoke, e->lost_at);
			e->lost_at = 0;
		}
	}
	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		if (e->inc && e->lost_at == 0 && e->claim_at >= revoke)
			e->inc = 0;
	}
}

/*
 * Recompute every state, rank and schedule (see peers.h for the rules),
 * the neighbour list and the heap; bump the generation when the
 * neighbour set changed.
 */
static void
peers_rank(struct peers *p)
{
	size_t i, nc = 0;
	int changed = 0, settling = 0;

	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		e->was_nbr = e->state == PEERS_NEIGHBOR;
		e->state = peers_base_state(p, e);
		settling |= (e->state == PEERS_PROBING && !e->acked) ||
		    peers_fast(p, e);
		e->rank = 0;
		e->picked = 0;
		e->tracked = 0;
		e->sick = 0;
		if (e->state == PEERS_CANDIDATE)
			p->sorted[nc++] = e;
	}
	peers_claims(p);
	peers_rank_sort(p, nc);
	peers_place(p, peers_order(p, nc), peers_sick_bound(p, nc));
	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		if (e->was_nbr != (e->state == PEERS_NEIGHBOR))
			changed = 1;
		/* Claims (peers_claims). While some listed peer is not
		 * measured yet, or still in its fast start (the first round
		 * and the fast starts, spread out by the node's limit), no
		 * new one is made: the first found, or one whose RTT read
		 * low first, would keep the nearer ones out. */
		if (e->alive && !peers_bad(e)) {
			if (e->state != PEERS_NEIGHBOR)
				e->inc = 0;
			else if (!e->inc && !settling) {
				e->inc = 1;
				e->claim_at = ++p->claims;
			}
		}
	}
	if (changed)
		p->generation++;
	peers_paces(p);
	for (i = 0; i < p->n; i++)
		p->v[i].key = peers_key(p, &p->v[i]);
	for (i = p->n / 2; i-- > 0;)
		peers_heap_fix(p, i);
	p->urgent = 0;
	p->rank_due = PEERS_NEVER;
}

/* Bring a pending ranking up to date (reports and tests). */
static void
peers_refresh(struct peers *p)
{
	if (p->urgent || p->rank_due != PEERS_NEVER)
		peers_rank(p);
}

struct peers *
peers_new(const struct peers_config *cfg)
{
	struct peers *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	peers_config_fill(&p->cfg, cfg);
	p->rank_due = PEERS_NEVER;
	peers_paces(p);
	return p;
}

static void
peers_free_arrays(struct peers *p)
{
	free(p->v);
	free(p->sorted);
	free(p->order);
	free(p->heap);
	free(p->nbr);
}

void
peers_free(struct peers *p)
{
	if (p == NULL)
		return;
	peers_free_arrays(p);
	free(p);
}

static uint64_t
peers_tie(const struct peers *p, uint64_t id)
{
	return hrw_weight(p->cfg.seed, id);
}

void
peers_configure(struct peers *p, const struct peers_config *cfg)
{
	size_t i;

	peers_config_fill(&p->cfg, cfg);
	for (i = 0; i < p->n; i++) {
		p->v[i].tie = peers_tie(p, p->v[i].id);
		peers_update_near(p, &p->v[i]);
	}
	peers_rank(p);
}

void
peers_set_self_nsid(struct peers *p, uint64_t nsid)
{
	if (p->self_nsid == nsid)
		return;
	p->self_nsid = nsid;
	peers_rank(p);
}

static int
peers_cmp_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int
peers_set_list(struct peers *p, const uint64_t *ids, size_t n, uint64_t now)
{
	struct peers tmp;
	uint64_t *sorted = NULL;
	struct peer *old;
	size_t i, m = 0, kept = 0;
	int rc = -1;

	memset(&tmp, 0, sizeof(tmp));
	if (n > PEERS_MAX)
		goto done;
	if (n > 0) {
		if ((sorted = malloc(n * sizeof(*sorted))) == NULL)
			goto done;
		memcpy(sorted, ids, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), peers_cmp_id);
		if ((tmp.v = calloc(n, sizeof(*tmp.v))) == NULL ||
		    (tmp.sorted = calloc(n, sizeof(*tmp.sorted))) == NULL ||
		    (tmp.order = calloc(n, sizeof(*tmp.order))) == NULL ||
		    (tmp.heap = calloc(n, sizeof(*tmp.heap))) == NULL ||
		    (tmp.nbr = calloc(n, sizeof(*tmp.nbr))) == NULL)
			goto done;
	}
	for (i = 0; i < n; i++) {
		struct peer *e = &tmp.v[m];

		if (m > 0 && tmp.v[m - 1].id == sorted[i])
			continue;
		if ((old = peers_lookup(p, sorted[i])) != NULL) {
			*e = *old;
			kept += old->state == PEERS_NEIGHBOR;
		} else {
			e->id = sorted[i];
			e->state = PEERS_PROBING;
			e->last_sent = PEERS_NEVER;
			e->last_ack = PEERS_NEVER;
			e->qsince = PEERS_NEVER;
			/* Due at once; the sweep's rate limit spreads a
			 * long list out. */
			e->hold = now;
			e->tie = peers_tie(p, e->id);
		}
		e->hpos = m;
		tmp.heap[m] = e;
		m++;
	}
	/* A neighbour dropped from the list changes the set too. */
	if (kept < p->nnbr)
		p->generation++;
	peers_free_arrays(p);
	p->v = tmp.v;
	p->sorted = tmp.sorted;
	p->order = tmp.order;
	p->heap = tmp.heap;
	p->nbr = tmp.nbr;
	p->n = m;
	p->nnbr = 0;
	memset(&tmp, 0, sizeof(tmp));
	peers_rank(p);
	rc = 0;
done:
	free(sorted);
	peers_free_arrays(&tmp);
	return rc;
}

enum peers_mode
peers_mode(struct peers *p)
{
	peers_refresh(p);
	return p->mode;
}

size_t
peers_neighbours(const struct peers *p)
{
	return p->nnbr;
}

unsigned
peers_generation(const struct peers *p)
{
	return p->generation;
}

/* A heartbeat of e's went unanswered. 1 if e went DOWN. */
static int
peers_miss(struct peers *p, struct peer *e)
{
	e->awaiting = 0;
	e->misses++;
	/* One lost heartbeat or ack (0.1 % of packets on a real WAN) is
	 * not a failure: a retry goes at once, and only a second loss in a
	 * row, or a query also unanswered, makes an answering peer DOWN.
	 * Otherwise a near-equal spare stands in at every lost packet. */
	if (e->alive && e->misses < PEERS_LOSSES && e->qmisses == 0) {
		e->force = 1;
		return 0;
	}
	if (e->alive) {
		e->alive = 0;
		e->fresh = 0;
		p->urgent = 1;
		return 1;
	}
	if (e->reprobe && e->misses >= PEERS_TRIES)
		e->reprobe = 0;
	if (e->misses == PEERS_TRIES) {
		p->urgent = 1;
		return !e->acked || e->state != PEERS_DOWN;
	}
	return 0;
}

/* A query of e's went unanswered for the query wait. 1 if e went DOWN. */
static int
peers_query_miss(struct peers *p, struct peer *e)
{
	e->qsince = PEERS_NEVER;
	e->qmisses++;
	e->qmissed++;
	if (!e->alive)
		return 0;
	if (e->qmisses >= PEERS_QUERY_MISSES) {
		e->alive = 0;
		e->fresh = 0;
		if (e->misses == 0)
			e->misses = 1;
		p->urgent = 1;
		return 1;
	}
	/* The short ack wait: a live peer acks at once, whatever its
	 * nameserver is doing. */
	if (!e->awaiting)
		e->force = 1;
	return 0;
}

/* Apply e's timeouts due at now; 1 if e went DOWN. */
static int
peers_timeouts(struct peers *p, struct peer *e, uint64_t now, int *handled)
{
	uint64_t wait = peers_ack_wait(p);
	int down = 0;

	*handled = 0;
	if (e->awaiting && now >= e->last_sent + wait) {
		down |= peers_miss(p, e);
		*handled = 1;
	}
	if (e->qsince != PEERS_NEVER && now >= e->qsince + wait) {
		down |= peers_query_miss(p, e);
		*handled = 1;
	}
	return down;
}

size_t
peers_tick(struct peers *p, uint64_t now)
{
	size_t i, down = 0;
	int handled, any = 0;

	for (i = 0; i < p->n; i++) {
		down += (size_t)peers_timeouts(p, &p->v[i], now, &handled);
		any |= handled;
	}
	if (any || p->urgent || p->rank_due <= now)
		peers_rank(p);
	return down;
}

uint64_t
peers_next_wakeup(const struct peers *p, uint64_t now)
{
	uint64_t next = p->n > 0 ? p->heap[0]->key : PEERS_NEVER;

	if (p->urgent)
		next = now;
	next = peers_min(next, p->rank_due);
	return next < now ? now : next;
}

/* The sweep's rate limit (GCRA): 1 if a swept heartbeat may go now, else
 * e is held back to the next free slot. */
static int
peers_sweep_allow(struct peers *p, struct peer *e, uint64_t now)
{
	uint64_t slack = (uint64_t)(p->sweep_burst - 1) * p->sweep_gap;
	uint64_t allowed = p->sweep_tat > slack ? p->sweep_tat - slack : 0;

	if (allowed <= now) {
		p->sweep_tat = peers_max(p->sweep_tat, now) + p->sweep_gap;
		return 1;
	}
	p->sweep_defer = peers_max(p->sweep_defer + p->sweep_gap, allowed);
	e->hold = p->sweep_defer;
	return 0;
}

/* The node's limit on all its heartbeats: one per PEERS_HB_GAP_MS,
 * whatever asks for them (fast starts, steady schedules that fell in
 * step, re-checks, the sweep). 1 if one may go now; else e waits for the
 * next free slot, and the first due goes first. */
static int
peers_hb_allow(struct peers *p, struct peer *e, uint64_t now)
{
	if (p->hb_tat <= now)
		return 1;
	e->defer = p->hb_tat;
	return 0;
}

size_t
peers_heartbeat_due(struct peers *p, uint64_t now,
    struct peers_heartbeat *out, size_t max, uint64_t *next_wakeup)
{
	struct peer *e;
	size_t k = 0;
	int more = 0, pass, handled;

	for (pass = 0; pass < 2 && !more; pass++) {
		if (p->urgent || p->rank_due <= now)
			peers_rank(p);
		while (p->n > 0 && (e = p->heap[0])->key <= now) {
			peers_timeouts(p, e, now, &handled);
			if (!handled && !e->awaiting) {
				if (!peers_hb_allow(p, e, now)) {
					peers_rekey(p, e);
					continue;
				}
				if (peers_swept(p, e) && !peers_sweep_allow(p, e, now)) {
					peers_rekey(p, e);
					continue;
				}
				if (k == max) {
					more = 1;
					break;
				}
				e->seq++;
				e->sent_any = 1;
				e->awaiting = 1;
				e->force = 0;
				e->defer = 0;
				e->last_sent = now;
				p->hb_tat = now + p->cfg.heartbeat_gap_ms;
				out[k].id = e->id;
				out[k].seq = e->seq;
				k++;
			}
			peers_rekey(p, e);
		}
		if (!p->urgent)
			break;
	}
	*next_wakeup = more ? now : peers_next_wakeup(p, now);
	return k;
}

/* A sign of life other than an ack: e is probed again if it was not
 * alive. 1 if its schedule changed. */
static int
peers_alive_hint(struct peers *p, struct peer *e, uint64_t now)
{
	e->qmisses = 0;
	e->qsince = PEERS_NEVER;
	if (e->alive || (e->reprobe && e->misses == 0)) {
		peers_rekey(p, e);
		return 0;
	}
	/* A heartbeat still out went before the peer was there to ack it:
	 * a fresh one goes now (acks of the older ones still count). The
	 * peer's own heartbeat pace bounds how often this happens. */
	e->reprobe = 1;
	e->misses = 0;
	e->awaiting = 0;
	e->force = 1;
	peers_rekey(p, e);
	peers_stale(p, now);
	return 1;
}

int
peers_heard(struct peers *p, uint64_t id, uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	return peers_alive_hint(p, e, now);
}

static void
peers_reports(struct peer *e, uint32_t ns_mean_ms, uint32_t ns_fail_permille,
    uint64_t ns_set_id, uint64_t now)
{
	e->ns_mean_ms = ns_mean_ms;
	e->ns_fail_permille = ns_fail_permille > 1000 ? 1000 :
	    ns_fail_permille;
	e->ns_set_id = ns_set_id;
	e->last_ack = now;
}

/* A sample that proves e alive and answering in time (an ack of our
 * newest heartbeat, or an echo of our ack). */
static void
peers_alive_sample(struct peers *p, struct peer *e, uint32_t rtt_ms,
    uint64_t now)
{
	int was_alive = e->alive;

	if (e->fresh == 0 || !e->alive)
		e->fresh_at = now;
	peers_sample(p, e, rtt_ms);
	e->sampled = now;
	e->acked = 1;
	e->alive = 1;
	e->reprobe = 0;
	e->misses = 0;
	e->qmisses = 0;
	e->qsince = PEERS_NEVER;
	if (!e->awaiting)
		e->force = 0;
	peers_rekey(p, e);
	/* A peer coming alive is ranked on the next tick; an RTT or health
	 * change alone can wait a little, so a burst of acks costs one
	 * ranking, not one each. */
	peers_stale(p, was_alive ? now + PEERS_RANK_GAP_MS : now);
}

int
peers_ack(struct peers *p, uint64_t id, uint32_t seq, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL || !e->sent_any ||
	    (uint32_t)(e->seq - seq) >= PEERS_SEQ_WINDOW)
		return -1;
	peers_reports(e, ns_mean_ms, ns_fail_permille, ns_set_id, now);
	/* Only the newest heartbeat, still awaited, measures the path: an
	 * older one's ack, or one that comes after its wait (queued while
	 * the peer was stopped), would read seconds. It is a sign of life:
	 * the peer is probed again at once. */
	if (!e->awaiting || seq != e->seq || rtt_ms > peers_ack_wait(p)) {
		peers_alive_hint(p, e, now);
		peers_stale(p, now + PEERS_RANK_GAP_MS);
		return 1;
	}
	e->awaiting = 0;
	peers_alive_sample(p, e, rtt_ms, now);
	return 0;
}

int
peers_echo(struct peers *p, uint64_t id, uint32_t rtt_ms, uint32_t ns_mean_ms,
    uint32_t ns_fail_permille, uint64_t ns_set_id, uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	peers_reports(e, ns_mean_ms, ns_fail_permille, ns_set_id, now);
	/* An echo queued while we were stopped reads seconds. */
	if (rtt_ms > peers_ack_wait(p)) {
		peers_alive_hint(p, e, now);
		peers_stale(p, now + PEERS_RANK_GAP_MS);
		return 1;
	}
	/* A heartbeat of ours still out is settled by its own ack or
	 * miss. */
	peers_alive_sample(p, e, rtt_ms, now);
	return 0;
}

int
peers_want_echo(const struct peers *p, uint64_t id)
{
	const struct peer *e = peers_lookup(p, id);

	return e != NULL && (!e->alive || peers_fast(p, e));
}

int
peers_record_query(struct peers *p, uint64_t id, enum peers_outcome out)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	switch (out) {
	case PEERS_QUERY_SENT:
		e->qsent++;
		break;
	case PEERS_QUERY_WON:
		e->qwon++;
		break;
	case PEERS_QUERY_FAILED:
		e->qfailed++;
		break;
	}
	return 0;
}

int
peers_query_sent(struct peers *p, uint64_t id, uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	e->qsent++;
	if (e->qsince == PEERS_NEVER) {
		e->qsince = now;
		peers_rekey(p, e);
	}
	return 0;
}

int
peers_query_reply(struct peers *p, uint64_t id, int won, uint64_t now)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	if (won)
		e->qwon++;
	else
		e->qfailed++;
	peers_alive_hint(p, e, now);
	return 0;
}

int
peers_query_drop(struct peers *p, uint64_t id, int failed)
{
	struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	if (failed)
		e->qfailed++;
	return 0;
}

int
peers_usable(const struct peers *p, uint64_t id)
{
	const struct peer *e = peers_lookup(p, id);

	return e != NULL && e->alive &&
	    (e->state == PEERS_NEIGHBOR || e->state == PEERS_CANDIDATE ||
		e->state == PEERS_FAR);
}

void
peers_summary(struct peers *p, struct peers_summary *s)
{
	size_t i;

	peers_refresh(p);
	memset(s, 0, sizeof(*s));
	s->mode = p->mode;
	s->listed = p->n;
	s->generation = p->generation;
	s->self_nsid = p->self_nsid;
	s->swept = p->nswept;
	s->tracked = p->n - p->nswept;
	s->sweep_period_ms = p->sweep_period;
	for (i = 0; i < p->n; i++) {
		const struct peer *e = &p->v[i];

		s->count[e->state]++;
		if ((e->state == PEERS_NEIGHBOR ||
		    e->state == PEERS_CANDIDATE) && peers_other_set(p, e))
			s->other_sets++;
	}
	for (i = 0; i < p->nnbr; i++)
		if (!peers_other_set(p, p->nbr[i]))
			s->nbr_shared++;
}

size_t
peers_count(const struct peers *p)
{
	return p->n;
}

static void
peers_fill_row(const struct peer *e, struct peers_row *r)
{
	memset(r, 0, sizeof(*r));
	r->id = e->id;
	r->state = e->state;
	r->has_rtt = e->acked;
	r->rtt_ms = e->acked ? peers_rtt(e) : 0;
	r->ns_mean_ms = e->ns_mean_ms;
	r->ns_fail_permille = e->ns_fail_permille;
	r->ns_set_id = e->ns_set_id;
	r->last_sent = e->last_sent;
	r->last_ack = e->last_ack;
	r->misses = e->misses;
	r->query_misses = e->qmisses;
	r->tracked = e->tracked;
	r->queries_sent = e->qsent;
	r->queries_won = e->qwon;
	r->queries_failed = e->qfailed;
	r->queries_missed = e->qmissed;
	r->rank = e->rank;
}

int
peers_row(struct peers *p, size_t i, struct peers_row *r)
{
	if (i >= p->n)
		return -1;
	peers_refresh(p);
	peers_fill_row(&p->v[i], r);
	return 0;
}

int
peers_find(struct peers *p, uint64_t id, struct peers_row *r)
{
	const struct peer *e = peers_lookup(p, id);

	if (e == NULL)
		return -1;
	peers_refresh(p);
	peers_fill_row(e, r);
	return 0;
}

const char *
peers_state_name(enum peers_state s)
{
	switch (s) {
	case PEERS_PROBING:
		return "probing";
	case PEERS_CANDIDATE:
		return "candidate";
	case PEERS_NEIGHBOR:
		return "neighbour";
	case PEERS_FAR:
		return "far";
	case PEERS_DOWN:
		return "down";
	}
	return "unknown";
}

const char *
peers_mode_name(enum peers_mode m)
{
	return m == PEERS_DISCOVERY ? "discovery" : "steady";
}
