/* SPDX-License-Identifier: MIT */
/* peers/rank.c: a peer's RTT from its samples, and the neighbour ranking. */
#include <stdlib.h>

#include "peers_int.h"

#define PEERS_RTT_CAP_MS 60000 /* a sample is at most a minute */

/* The RTT: the smallest of the last PEERS_RTT_WIN samples. Queueing only
 * ever adds delay, so the minimum is the path's RTT; a window (not the
 * minimum ever) follows a path that got longer. */
uint32_t
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

/* Whether the two smallest samples agree, within max(PEERS_AGREE_PCT %,
 * PEERS_AGREE_MS): a minimum that no other sample confirms may still be
 * inflated (a slow start whose samples were all late by different
 * amounts). */
int
peers_rtt_agree(const struct peer *e)
{
	uint64_t r1 = peers_rtt(e), r2 = peers_rtt2(e);

	return e->nrtt >= 2 && r2 - r1 <= peers_max(r1 * PEERS_AGREE_PCT / 100,
	    PEERS_AGREE_MS);
}

/* Hysteresis at neighbor-rtt-max: in when two samples of the window are
 * under it, out only when they are PEERS_LIMIT_HYST % over it. */
void
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

/* Add an RTT sample to e's window. */
void
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

void
peers_rank_sort(struct peers *p, size_t nc)
{
	if (nc > 1)
		qsort(p->sorted, nc, sizeof(*p->sorted), peers_cmp_rank);
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
size_t
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

/* The RTT of the last healthy neighbour, if the healthy candidates fill
 * the set: a failing peer nearer than that would be a neighbour if it
 * recovered, so it is checked often (sick). */
uint32_t
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
void
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
