/* SPDX-License-Identifier: MIT */
/* peers/peers.c: the peer table: heartbeats, liveness, neighbour ranking. */
#include "peers.h"

#include <stdlib.h>
#include <string.h>

#include "hrw.h"

#define PEERS_RTT_CAP_MS 60000 /* a sample is at most a minute */
#define PEERS_SEQ_WINDOW 8     /* acks recognised for the last 8 heartbeats */

struct peer {
	uint64_t id;
	enum peers_state state;
	int acked;    /* has answered at least once */
	int alive;    /* answered its latest heartbeat in time */
	int awaiting; /* a heartbeat is out, not yet acked nor missed */
	int sent_any;
	int reprobe; /* heard from while not alive: probing again */
	int force;   /* a heartbeat is due now, whatever the schedule */
	int tracked; /* own steady schedule (neighbour or spare), not swept */
	int picked, was_nbr; /* scratch for ranking */
	int near;  /* under the limit, with its hysteresis */
	int inc;   /* incumbent neighbour: kept against near-equal rivals */
	int sick;  /* failing, but near enough to matter: checked often */
	uint32_t seq;
	uint32_t rtts[PEERS_RTT_WIN]; /* the last samples, a ring */
	unsigned nrtt, rpos;
	unsigned fresh; /* samples since it last came alive (fast start) */
	uint32_t ns_mean_ms, ns_fail_permille;
	uint64_t ns_set_id;
	uint64_t tie; /* seeded tie-break */
	uint64_t last_sent, last_ack;
	uint64_t hold;	 /* a swept heartbeat not before this (rate limit) */
	uint64_t qsince; /* first query since its last sign of life, or NEVER */
	unsigned misses, qmisses;
	unsigned rank;
	uint64_t qsent, qwon, qfailed, qmissed;
	uint64_t key; /* when it next needs attention: the heap order */
	size_t hpos;
};

struct peers {
	struct peers_config cfg;
	uint64_t self_nsid;
	struct peer *v; /* sorted by id */
	size_t n;
	struct peer **sorted, **order; /* ranking scratch, n each */
	struct peer **heap;	       /* all peers, by key */
	struct peer **nbr;	       /* the neighbours, nnbr */
	size_t nnbr;
	unsigned generation;
	enum peers_mode mode;
	size_t nswept;
	uint64_t sweep_period, sweep_gap;
	uint64_t recheck; /* the pace of down and sick peers */
	unsigned sweep_burst;
	uint64_t sweep_tat;   /* GCRA theoretical arrival time */
	uint64_t sweep_defer; /* last slot given to a held-back peer */
	int urgent;	      /* re-rank before the selection is used again */
	uint64_t rank_due;    /* lazy re-rank at this time, or NEVER */
};

void
peers_config_default(struct peers_config *c)
{
	c->neighbors = 10;
	c->neighbor_rtt_max_ms = 90;
	c->heartbeat_discovery_ms = 1000;
	c->heartbeat_steady_ms = 30000;
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

static uint64_t
peers_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t
peers_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
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

/* The RTT: the smallest of the last PEERS_RTT_WIN samples. Queueing only
 * ever adds delay, so the minimum is the path's RTT; a window (not the
 * minimum ever) follows a path that got longer. */
static uint32_t
peers_rtt(const struct peer *e)
{
	uint32_t m = UINT32_MAX;
	unsigned i;

	for (i = 0; i < e->nrtt; i++)
		if (e->rtts[i] < m)
			m = e->rtts[i];
	return e->nrtt > 0 ? m : 0;
}

/* The second smallest sample (the only one while there is one): what the
 * limit is judged by, so that one low (jittered) sample is not enough. */
static uint32_t
peers_rtt2(const struct peer *e)
{
	uint32_t m1 = UINT32_MAX, m2 = UINT32_MAX;
	unsigned i;

	if (e->nrtt < 2)
		return peers_rtt(e);
	for (i = 0; i < e->nrtt; i++) {
		if (e->rtts[i] < m1) {
			m2 = m1;
			m1 = e->rtts[i];
		} else if (e->rtts[i] < m2)
			m2 = e->rtts[i];
	}
	return m2;
}

/* Hysteresis at neighbor-rtt-max: in when two samples of the window are
 * under it, out only when they are PEERS_LIMIT_HYST % over it. */
static void
peers_update_near(const struct peers *p, struct peer *e)
{
	uint64_t lim = p->cfg.neighbor_rtt_max_ms, r2 = peers_rtt2(e);

	if (e->nrtt == 0)
		e->near = 0;
	else if (e->near)
		e->near = r2 * 100 < lim * (100 + PEERS_LIMIT_HYST);
	else
		e->near = r2 < lim;
}

static int
peers_bad(const struct peer *e)
{
	return e->ns_fail_permille > PEERS_FAIL_BAD;
}

/* Another nameserver set than ours (unknown counts as another). */
static int
peers_other_set(const struct peers *p, const struct peer *e)
{
	return e->ns_set_id == 0 || e->ns_set_id != p->self_nsid;
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
 * that slowed everyone (a fleet-wide start) leaves no trace in it. */
static int
peers_fast(const struct peer *e)
{
	return e->alive && e->fresh < PEERS_RTT_WIN;
}

static int
peers_swept(const struct peer *e)
{
	return !e->force && !e->tracked && !peers_quick(e) && !peers_fast(e) &&
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
	if (!e->sent_any)
		return peers_quick(e) ? 0 : e->hold;
	if (peers_quick(e))
		return e->last_sent + p->cfg.heartbeat_discovery_ms;
	if (peers_fast(e))
		return e->last_sent +
		    peers_min(p->cfg.heartbeat_steady_ms,
			(uint64_t)p->cfg.heartbeat_discovery_ms
			    << (e->fresh > 0 ? e->fresh - 1 : 0));
	if (e->state == PEERS_DOWN || e->sick)
		return e->last_sent + p->recheck;
	if (e->tracked)
		return e->last_sent + p->cfg.heartbeat_steady_ms;
	t = e->last_sent + p->sweep_period;
	return peers_max(t, e->hold);
}

static uint64_t
peers_key(const struct peers *p, const struct peer *e)
{
	uint64_t k;

	k = e->awaiting ? e->last_sent + peers_ack_wait(p) : peers_hb_at(p, e);
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

/* --- ranking --- */

/* A peer's ranking distance in tenths of a millisecond: its RTT, less
 * the incumbent's margin (max(PEERS_SWAP_MS, PEERS_SWAP_PCT %)), so that
 * a rival takes a neighbour's place only when clearly nearer. */
static int64_t
peers_eff(const struct peer *e)
{
	int64_t r = (int64_t)peers_rtt(e) * 10, m;

	if (!e->inc)
		return r;
	m = r * PEERS_SWAP_PCT / 100;
	if (m < PEERS_SWAP_MS * 10)
		m = PEERS_SWAP_MS * 10;
	return r - m;
}

/* Ranking order: healthy before failing, then distance (the reported
 * nameserver time is left out: after an outage it stays high for
 * minutes, and health is the failure rate's to say), incumbents first. */
static int
peers_cmp_rank(const void *a, const void *b)
{
	const struct peer *x = *(struct peer *const *)a;
	const struct peer *y = *(struct peer *const *)b;
	int64_t sx = peers_eff(x), sy = peers_eff(y);

	if (peers_bad(x) != peers_bad(y))
		return peers_bad(x) - peers_bad(y);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	if (x->inc != y->inc)
		return y->inc - x->inc;
	if (x->tie != y->tie)
		return x->tie < y->tie ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return 0;
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

/* How many picked peers, healthy and of another nameserver set than
 * ours, carry set id (0, unknown, is never a duplicate). */
static size_t
peers_set_count(const struct peers *p, size_t nc, uint64_t id)
{
	size_t i, k = 0;

	if (id == 0)
		return 0;
	for (i = 0; i < nc; i++) {
		const struct peer *e = p->sorted[i];

		if (e->picked && !peers_bad(e) && peers_other_set(p, e) &&
		    e->ns_set_id == id)
			k++;
	}
	return k;
}

/* Among the picked: those of other sets (*others) and how many distinct
 * other sets (*sets). */
static void
peers_diversity(const struct peers *p, size_t nc, size_t *others,
    size_t *sets)
{
	size_t i;

	*others = *sets = 0;
	for (i = 0; i < nc; i++) {
		const struct peer *e = p->sorted[i];

		if (!e->picked || peers_bad(e) || !peers_other_set(p, e))
			continue;
		(*others)++;
		/* Counted once, at its first (nearest) holder. */
		if (e->ns_set_id == 0 ||
		    peers_set_count(p, i, e->ns_set_id) == 0)
			(*sets)++;
	}
}

/* The nearest unpicked healthy candidate of another set; of a set no
 * picked peer has, if fresh. */
static struct peer *
peers_diverse_pick(const struct peers *p, size_t nc, int fresh)
{
	size_t i;

	for (i = 0; i < nc; i++) {
		struct peer *e = p->sorted[i];

		if (e->picked || peers_bad(e) || !peers_other_set(p, e))
			continue;
		if (!fresh || peers_set_count(p, nc, e->ns_set_id) == 0)
			return e;
	}
	return NULL;
}

/* The farthest picked peer whose slot diversity may take: one sharing our
 * set, or (dup) one whose set another picked peer has too. */
static struct peer *
peers_diverse_drop(const struct peers *p, size_t nc, int dup)
{
	size_t i;

	for (i = nc; i-- > 0;) {
		struct peer *e = p->sorted[i];

		if (!e->picked)
			continue;
		if (!peers_other_set(p, e) ||
		    (dup && peers_set_count(p, nc, e->ns_set_id) >= 2))
			return e;
	}
	return NULL;
}

/* Order the candidates (see peers.h): the nearest `neighbors`, except
 * that a minority of the slots, neighbors / PEERS_DIVERSE_DIV rounded up,
 * goes to diversity: until that many neighbours use another nameserver
 * set than ours, and at least two distinct other sets are among them,
 * the nearest healthy candidate that adds one replaces the farthest
 * neighbour that does not. Returns how many were ordered. */
static size_t
peers_order(struct peers *p, size_t nc)
{
	size_t nb = nc < p->cfg.neighbors ? nc : p->cfg.neighbors;
	size_t i, k = 0, others, sets, need, round;
	struct peer *in, *out;

	need = (p->cfg.neighbors + PEERS_DIVERSE_DIV - 1) / PEERS_DIVERSE_DIV;
	for (i = 0; i < nc; i++)
		p->sorted[i]->picked = i < nb;
	for (round = 0; round < need; round++) {
		peers_diversity(p, nc, &others, &sets);
		if (others < need) {
			in = peers_diverse_pick(p, nc, sets < 2);
			if (in == NULL)
				in = peers_diverse_pick(p, nc, 0);
			out = peers_diverse_drop(p, nc, 0);
		} else if (sets < 2) {
			in = peers_diverse_pick(p, nc, 1);
			out = peers_diverse_drop(p, nc, 1);
		} else
			break;
		if (in == NULL || out == NULL)
			break;
		out->picked = 0;
		in->picked = 1;
	}
	for (i = 0; i < nc; i++)
		if (p->sorted[i]->picked)
			p->order[k++] = p->sorted[i];
	for (i = 0; i < nc; i++)
		if (!p->sorted[i]->picked)
			p->order[k++] = p->sorted[i];
	return k;
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

/* The RTT of the last healthy neighbour, if the healthy candidates fill
 * the set: a failing peer nearer than that would be a neighbour if it
 * recovered, so it is checked often (sick). */
static uint32_t
peers_sick_bound(const struct peers *p, size_t nc)
{
	size_t i, healthy = 0;

	for (i = 0; i < nc; i++)
		if (!peers_bad(p->sorted[i]) &&
		    ++healthy == p->cfg.neighbors)
			return peers_rtt(p->sorted[i]);
	return UINT32_MAX;
}

/* Place the ordered candidates: neighbours, tracked spares, sick ones. */
static void
peers_place(struct peers *p, size_t nord, uint32_t sick_rtt)
{
	size_t i;

	p->nnbr = 0;
	for (i = 0; i < nord; i++) {
		struct peer *e = p->order[i];

		e->rank = (unsigned)i + 1;
		if (i < p->cfg.neighbors) {
			e->state = PEERS_NEIGHBOR;
			p->nbr[p->nnbr++] = e;
		}
		/* The spares replace a lost neighbour at once, so they are
		 * kept known alive like the neighbours. */
		if (i < 2 * (size_t)p->cfg.neighbors)
			e->tracked = 1;
		if (peers_bad(e) && peers_rtt(e) < sick_rtt)
			e->sick = e->tracked = 1;
	}
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

/*
 * Recompute every state, rank and schedule (see peers.h for the rules),
 * the neighbour list and the heap; bump the generation when the
 * neighbour set changed.
 */
static void
peers_rank(struct peers *p)
{
	size_t i, nc = 0;
	int changed = 0;

	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		e->was_nbr = e->state == PEERS_NEIGHBOR;
		e->state = peers_base_state(p, e);
		e->rank = 0;
		e->picked = 0;
		e->tracked = 0;
		e->sick = 0;
		if (e->state == PEERS_CANDIDATE)
			p->sorted[nc++] = e;
	}
	if (nc > 1)
		qsort(p->sorted, nc, sizeof(*p->sorted), peers_cmp_rank);
	peers_place(p, peers_order(p, nc), peers_sick_bound(p, nc));
	for (i = 0; i < p->n; i++) {
		struct peer *e = &p->v[i];

		if (e->was_nbr != (e->state == PEERS_NEIGHBOR))
			changed = 1;
		/* A neighbour that went down keeps its claim: back, it
		 * takes its place again from whoever stood in. */
		if (e->alive)
			e->inc = e->state == PEERS_NEIGHBOR;
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
				if (peers_swept(e) && !peers_sweep_allow(p, e, now)) {
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
				e->last_sent = now;
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

/* Add an RTT sample to e's window. */
static void
peers_sample(struct peers *p, struct peer *e, uint32_t rtt_ms)
{
	if (rtt_ms > PEERS_RTT_CAP_MS)
		rtt_ms = PEERS_RTT_CAP_MS;
	e->rtts[e->rpos] = rtt_ms;
	e->rpos = (e->rpos + 1) % PEERS_RTT_WIN;
	if (e->nrtt < PEERS_RTT_WIN)
		e->nrtt++;
	if (e->fresh < PEERS_RTT_WIN)
		e->fresh++;
	peers_update_near(p, e);
}

int
peers_ack(struct peers *p, uint64_t id, uint32_t seq, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now)
{
	struct peer *e = peers_lookup(p, id);
	int was_alive;

	if (e == NULL || !e->sent_any ||
	    (uint32_t)(e->seq - seq) >= PEERS_SEQ_WINDOW)
		return -1;
	e->ns_mean_ms = ns_mean_ms;
	e->ns_fail_permille = ns_fail_permille > 1000 ? 1000 :
	    ns_fail_permille;
	e->ns_set_id = ns_set_id;
	e->last_ack = now;
	/* Only the newest heartbeat, still awaited, measures the path: an
	 * older one's ack, or one that comes after its wait (queued while
	 * the peer was stopped), would read seconds. It is a sign of life:
	 * the peer is probed again at once. */
	if (!e->awaiting || seq != e->seq || rtt_ms > peers_ack_wait(p)) {
		peers_alive_hint(p, e, now);
		peers_stale(p, now + PEERS_RANK_GAP_MS);
		return 1;
	}
	was_alive = e->alive;
	peers_sample(p, e, rtt_ms);
	e->acked = 1;
	e->alive = 1;
	e->awaiting = 0;
	e->reprobe = 0;
	e->force = 0;
	e->misses = 0;
	e->qmisses = 0;
	e->qsince = PEERS_NEVER;
	peers_rekey(p, e);
	/* A peer coming alive is ranked on the next tick; an RTT or health
	 * change alone can wait a little, so a burst of acks costs one
	 * ranking, not one each. */
	peers_stale(p, was_alive ? now + PEERS_RANK_GAP_MS : now);
	return 0;
}

/* The group a neighbour is asked in: 0 another nameserver set (it can
 * rescue us when ours fails), 1 ours, 2 failing or suspect. */
static int
peers_group(const struct peers *p, const struct peer *e)
{
	if (e->qmisses > 0 || peers_bad(e))
		return 2;
	return peers_other_set(p, e) ? 0 : 1;
}

/* The margin of the per-name choice: within it of the nearest peer of a
 * group, peers are equals and HRW picks among them. */
static uint64_t
peers_near_cut(const struct peers *p, int group)
{
	uint64_t r0 = UINT64_MAX, m;
	size_t i;

	for (i = 0; i < p->nnbr; i++)
		if (peers_group(p, p->nbr[i]) == group)
			r0 = peers_min(r0, peers_rtt(p->nbr[i]));
	if (r0 == UINT64_MAX)
		return r0;
	m = r0 * PEERS_NEAR_PCT / 100;
	return r0 + peers_max(m, PEERS_NEAR_MS);
}

struct peers_key3 {
	uint64_t dist, w, id;
};

static int
peers_key3_before(const struct peers_key3 *a, const struct peers_key3 *b)
{
	if (a->dist != b->dist)
		return a->dist < b->dist;
	return hrw_before(a->w, a->id, b->w, b->id);
}

/* Append to ids_out the neighbours of group g on one side of cut (far:
 * beyond it, by distance; else within it, in HRW order), by repeated
 * selection below the last one picked: no allocation, and max is small
 * (peers-per-lookup). */
static size_t
peers_select_part(const struct peers *p, uint64_t nh, int g, uint64_t cut,
    int far, uint64_t *ids_out, size_t k, size_t max)
{
	struct peers_key3 prev = { 0, 0, 0 }, best, cur;
	int have_prev = 0, found;
	size_t i;

	while (k < max) {
		found = 0;
		for (i = 0; i < p->nnbr; i++) {
			const struct peer *e = p->nbr[i];

			if (peers_group(p, e) != g ||
			    (peers_rtt(e) > cut) != far)
				continue;
			cur.dist = far ? peers_rtt(e) : 0;
			cur.w = hrw_weight(nh, e->id);
			cur.id = e->id;
			if (have_prev && !peers_key3_before(&prev, &cur))
				continue;
			if (!found || peers_key3_before(&cur, &best)) {
				best = cur;
				found = 1;
			}
		}
		if (!found)
			break;
		ids_out[k++] = best.id;
		prev = best;
		have_prev = 1;
	}
	return k;
}

/* Fallback order: healthy first, then nearest. */
static int
peers_fallback_before(const struct peer *a, const struct peer *b)
{
	if (peers_bad(a) != peers_bad(b))
		return peers_bad(b);
	if (peers_rtt(a) != peers_rtt(b))
		return peers_rtt(a) < peers_rtt(b);
	return a->id < b->id;
}

/* The far fallback from k on, up to max; rescuers only: healthy, of
 * another nameserver set. */
static size_t
peers_fallback_part(const struct peers *p, int rescuers, uint64_t *ids_out,
    size_t k, size_t max)
{
	const struct peer *prev = NULL, *best;
	size_t i;

	while (k < max) {
		best = NULL;
		for (i = 0; i < p->n; i++) {
			const struct peer *e = &p->v[i];

			if (!e->alive || e->state == PEERS_NEIGHBOR ||
			    (rescuers &&
				(peers_bad(e) || !peers_other_set(p, e))) ||
			    (prev != NULL && !peers_fallback_before(prev, e)))
				continue;
			if (best == NULL || peers_fallback_before(e, best))
				best = e;
		}
		if (best == NULL)
			break;
		ids_out[k++] = best->id;
		prev = best;
	}
	return k;
}

size_t
peers_fallback(const struct peers *p, uint64_t *ids_out, size_t max)
{
	return peers_fallback_part(p, 0, ids_out, 0, max);
}

size_t
peers_select(const struct peers *p, const char *name, uint64_t *ids_out,
    size_t max)
{
	uint64_t nh = hrw_name_hash(name), cut;
	size_t k = 0;
	int g;

	for (g = 0; g < 3 && k < max; g++) {
		if ((cut = peers_near_cut(p, g)) == UINT64_MAX) {
			/* No neighbour can rescue us from an outage of our
			 * nameserver: the nearest peers that can come
			 * before those that share it (an isolated site). */
			if (g == 0)
				k = peers_fallback_part(p, 1, ids_out, k,
				    k + PEERS_FAR_FIRST < max ?
					k + PEERS_FAR_FIRST :
					max);
			continue;
		}
		k = peers_select_part(p, nh, g, cut, 0, ids_out, k, max);
		k = peers_select_part(p, nh, g, cut, 1, ids_out, k, max);
	}
	return k;
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
