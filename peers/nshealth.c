/* SPDX-License-Identifier: MIT */
/* peers/nshealth.c: a nameserver failure rate that decays with time. */
#include "nshealth.h"

#include <string.h>

void
peers_nshealth_init(struct peers_nshealth *h)
{
	memset(h, 0, sizeof(*h));
}

#define NSH_FIX 1000000ULL /* fixed point of the fraction below */

/* 2^(-x) for x = r / NSH_FIX in [0, 1), in NSH_FIX units: its series to
 * the fifth term (within 0.3 %). A straight line between halvings would
 * decay too slowly when applied in many small steps (0.9 a second
 * compounds to 0.59 in 5 s, not 0.5). */
static uint64_t
nshealth_frac(uint64_t r)
{
	uint64_t r2 = r * r / NSH_FIX, r3 = r2 * r / NSH_FIX;
	uint64_t r4 = r3 * r / NSH_FIX;

	return NSH_FIX - 693147 * r / NSH_FIX + 240227 * r2 / NSH_FIX -
	    55504 * r3 / NSH_FIX + 9618 * r4 / NSH_FIX;
}

/* w x 2^(-dt / half). */
static uint64_t
nshealth_decay(uint64_t w, uint64_t dt)
{
	uint64_t halvings = dt / PEERS_NSHEALTH_HALF_MS;
	uint64_t rem = dt % PEERS_NSHEALTH_HALF_MS;

	if (halvings >= 40)
		return 0;
	w >>= halvings;
	return w * nshealth_frac(rem * NSH_FIX / PEERS_NSHEALTH_HALF_MS) /
	    NSH_FIX;
}

uint32_t
peers_nshealth_fail(struct peers_nshealth *h, uint64_t queries,
    uint64_t failures, uint64_t now)
{
	uint64_t dq, df, total;

	if (!h->init || queries < h->queries || failures < h->failures ||
	    failures > queries) {
		peers_nshealth_init(h);
		h->init = 1;
		h->at = now;
		h->queries = queries;
		h->failures = failures > queries ? queries : failures;
		return 0;
	}
	if (now > h->at) {
		h->good = nshealth_decay(h->good, now - h->at);
		h->bad = nshealth_decay(h->bad, now - h->at);
		h->at = now;
	}
	dq = queries - h->queries;
	df = failures - h->failures;
	if (df > dq)
		df = dq;
	h->good += (dq - df) * PEERS_NSHEALTH_ONE;
	h->bad += df * PEERS_NSHEALTH_ONE;
	/* A busy outage would otherwise pile up weight that takes minutes
	 * to decay under the prior: the rate keeps its proportions, but
	 * only a few queries' weight, so that it halves towards the prior
	 * within seconds once the failures stop. */
	total = h->good + h->bad;
	if (total > PEERS_NSHEALTH_CAP) {
		h->good = h->good * PEERS_NSHEALTH_CAP / total;
		h->bad = h->bad * PEERS_NSHEALTH_CAP / total;
	}
	h->queries = queries;
	h->failures = failures;
	total = h->good + h->bad + PEERS_NSHEALTH_PRIOR;
	return (uint32_t)(h->bad * 1000 / total);
}
