/* SPDX-License-Identifier: MIT */
/* peers/nshealth.h: a nameserver failure rate that decays with time. */
#ifndef CODNS_NSHEALTH_H
#define CODNS_NSHEALTH_H

#include <stdint.h>

/*
 * What a node reports to its peers as its nameserver's failure rate.
 * Failures and successes weigh less by half every PEERS_NSHEALTH_HALF_MS,
 * against a small prior success, so that a recovered nameserver looks
 * healthy again within seconds even when it sees few queries, where a
 * per-query average would wait for enough queries (issue 21, 5). Fed with
 * the upstream's running counts; pure, time passed in.
 */

#define PEERS_NSHEALTH_HALF_MS 5000
#define PEERS_NSHEALTH_ONE 1024	  /* one query's weight */
#define PEERS_NSHEALTH_PRIOR 256  /* the prior success's weight */
#define PEERS_NSHEALTH_CAP 3072	  /* the weight kept: 3 queries' */

struct peers_nshealth {
	int init;
	uint64_t at;	       /* time of the last update */
	uint64_t queries, failures; /* the counts seen then */
	uint64_t good, bad;    /* decayed weights */
};

void peers_nshealth_init(struct peers_nshealth *);
/* Update with the running counts at time now; the failure rate in
 * permille. Counts that go backwards (a restart) start afresh. */
uint32_t peers_nshealth_fail(struct peers_nshealth *, uint64_t queries,
    uint64_t failures, uint64_t now);

#endif
