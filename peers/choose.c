/* SPDX-License-Identifier: MIT */
/* peers/choose.c: which peers to ask for a name, and the far fallback. */
#include "hrw.h"
#include "peers_int.h"

/* The group a neighbour is asked in: 0 another nameserver set (it can
 * rescue us when ours fails), 1 ours, 2 failing or suspect. */
static int
peers_group(const struct peers *p, const struct peer *e)
{
	if (e->qmisses > 0 || e->misses > 0 || peers_bad(e))
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
	struct peers_key3 prev = { 0, 0, 0 }, best = { 0, 0, 0 }, cur;
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
