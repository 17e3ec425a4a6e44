/* SPDX-License-Identifier: MIT */
/* peers/nshealth.c: a nameserver failure rate that decays with time. */
#include "nshealth.h"

#include <string.h>

void
peers_nshealth_init(struct peers_nshealth *h)
{
	memset(h, 0, sizeof(*h));
}

/* w x 2^(-dt / half): whole halvings, then a straight line between
 * them (within 6 % of the curve). */
static uint64_t
nshealth_decay(uint64_t w, uint64_t dt)
{
	uint64_t halvings = dt / PEERS_NSHEALTH_HALF_MS;
	uint64_t rem = dt % PEERS_NSHEALTH_HALF_MS;

	if (halvings >= 40)
		return 0;
	w >>= halvings;
	return w - w * rem / (2 * PEERS_NSHEALTH_HALF_MS);
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
	h->queries = queries;
	h->failures = failures;
	total = h->good + h->bad + PEERS_NSHEALTH_PRIOR;
	return (uint32_t)(h->bad * 1000 / total);
}
