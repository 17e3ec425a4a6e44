/* SPDX-License-Identifier: MIT */
/* peers/peers_int.h: the peer table's insides, shared by peers.c (table,
 * schedule, events), rank.c (RTT and ranking) and choose.c (per name). */
#ifndef CODNS_PEERS_INT_H
#define CODNS_PEERS_INT_H

#include "peers.h"

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
	uint64_t claim_at; /* when it became one (p->claims) */
	uint64_t lost_at;  /* absent with its claim since (p->claims + 1) */
	int sick;  /* failing, but near enough to matter: checked often */
	uint32_t seq;
	uint32_t rtts[PEERS_RTT_WIN]; /* the last samples, a ring */
	unsigned nrtt, rpos;
	unsigned fresh; /* samples since it last came alive (fast start) */
	uint64_t sampled; /* when the last sample came */
	uint64_t fresh_at; /* and the first since it came alive */
	uint32_t ns_mean_ms, ns_fail_permille;
	uint64_t ns_set_id;
	uint64_t tie; /* seeded tie-break */
	uint64_t last_sent, last_ack;
	uint64_t hold;	 /* a swept heartbeat not before this (rate limit) */
	uint64_t defer;	 /* any heartbeat not before this (the node's limit) */
	uint64_t due;	 /* when it was due, deferral aside: the queue order */
	unsigned cls;	 /* and its class, first in that order (peers.c) */
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
	uint64_t hb_tat;      /* every heartbeat's limit: next free slot */
	uint64_t claims;      /* incumbent claims made so far */
	int urgent;	      /* re-rank before the selection is used again */
	uint64_t rank_due;    /* lazy re-rank at this time, or NEVER */
};

static inline uint64_t
peers_min(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t
peers_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static inline int
peers_bad(const struct peer *e)
{
	return e->ns_fail_permille > PEERS_FAIL_BAD;
}

/* Another nameserver set than ours (unknown counts as another). */
static inline int
peers_other_set(const struct peers *p, const struct peer *e)
{
	return e->ns_set_id == 0 || e->ns_set_id != p->self_nsid;
}

/* rank.c */
uint32_t peers_rtt(const struct peer *);
int peers_rtt_agree(const struct peer *);
void peers_update_near(const struct peers *, struct peer *);
void peers_sample(struct peers *, struct peer *, uint32_t rtt_ms);
void peers_rank_sort(struct peers *, size_t nc);
size_t peers_order(struct peers *, size_t nc);
uint32_t peers_sick_bound(const struct peers *, size_t nc);
void peers_place(struct peers *, size_t nord, uint32_t sick_rtt);

#endif
