/* SPDX-License-Identifier: MIT */
/* peers/peers.h: the peer table: heartbeats, liveness, neighbour ranking. */
#ifndef CODNS_PEERS_H
#define CODNS_PEERS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pure policy, no I/O: the daemon passes in the time (monotonic ms) and
 * the events (heartbeats due, acks and heartbeats received, query
 * outcomes) and asks for decisions (whom to heartbeat and when, which
 * neighbours to ask). Peers are known by a 64-bit id, hrw_peer_id() of
 * their address. Neighbour discovery follows CoDNS (Park et al., OSDI
 * 2004, sec. 4.3); the rules added where the paper is silent (sweep and
 * rate limit, misses, adoption, query evidence, ranking, cost) are in
 * doc/peers-policy.md.
 */

#define PEERS_MAX 4096	    /* listed peers kept */
#define PEERS_TRIES 3	    /* quick retries after a miss */
#define PEERS_LOSSES 2	    /* misses in a row that make a live peer DOWN */
#define PEERS_ACK_WAIT_MIN_MS 500
#define PEERS_FAIL_BAD 500 /* permille over which a peer ranks last */
#define PEERS_QUERY_MISSES 2 /* query misses in a row that make it DOWN */
#define PEERS_DISCOVERY_BURST 32 /* swept heartbeats per discovery interval */
#define PEERS_SWEEP_PER_STEADY 30 /* swept heartbeats per steady interval */
#define PEERS_RANK_GAP_MS 100	  /* re-rank after RTT changes at most this often */
#define PEERS_RTT_WIN 5		  /* RTT samples kept */
#define PEERS_LIMIT_HYST 10	  /* % over the limit before a candidate is far */
#define PEERS_SWAP_MS 1		  /* an incumbent's margin: at least this, */
#define PEERS_SWAP_PCT 10	  /* and this % of its RTT */
#define PEERS_NEAR_MS 5		  /* per-name equals: nearest + this, */
#define PEERS_NEAR_PCT 20	  /* or this % of it if more */
#define PEERS_DIVERSE_DIV 5	  /* a 1/5 minority on other nameservers */
#define PEERS_RECHECK_MIN 5	  /* down and sick: every 5 intervals or more */
#define PEERS_FAR_FIRST 2	  /* far rescuers before our set's neighbours */
#define PEERS_HB_GAP_MS 350	  /* all heartbeats: one per 350 ms at most */
#define PEERS_AGREE_PCT 10	  /* two samples agree within this %, */
#define PEERS_AGREE_MS 2	  /* or this if more */
#define PEERS_NEVER UINT64_MAX

enum peers_state {
	PEERS_PROBING,	 /* listed, never answered yet */
	PEERS_CANDIDATE, /* answering, RTT under the threshold, spare */
	PEERS_NEIGHBOR,	 /* in the selection for lookups */
	PEERS_FAR,	 /* answering, RTT at or over neighbor-rtt-max */
	PEERS_DOWN,	 /* stopped answering, or never answered PEERS_TRIES */
};

enum peers_mode {
	PEERS_DISCOVERY,
	PEERS_STEADY,
};

enum peers_outcome {
	PEERS_QUERY_SENT,   /* a query went to this peer */
	PEERS_QUERY_WON,    /* its answer was used */
	PEERS_QUERY_FAILED, /* "cannot resolve", bad answer or no answer */
};

struct peers_config {
	unsigned neighbors;		 /* 10 */
	uint32_t neighbor_rtt_max_ms;	 /* 90 */
	uint32_t heartbeat_discovery_ms; /* 1000 */
	uint32_t heartbeat_steady_ms;	 /* 30000 */
	uint32_t heartbeat_gap_ms; /* PEERS_HB_GAP_MS: between any two; 0 none */
	uint64_t seed; /* tie-break of equal scores; our own peer id */
};

/* A heartbeat to send now: to peer id, carrying sequence seq. */
struct peers_heartbeat {
	uint64_t id;
	uint32_t seq;
};

/* One row of `codnsctl peers`. Times are in the caller's clock. */
struct peers_row {
	uint64_t id;
	enum peers_state state;
	int has_rtt;
	uint32_t rtt_ms;	   /* smallest of the last PEERS_RTT_WIN samples */
	uint32_t ns_mean_ms;	   /* its reported local nameserver time */
	uint32_t ns_fail_permille; /* its reported failure rate */
	uint64_t ns_set_id;	   /* its reported nameserver set identity */
	uint64_t last_sent;	   /* last heartbeat sent, or PEERS_NEVER */
	uint64_t last_ack;	   /* last ack received, or PEERS_NEVER */
	unsigned misses;	   /* heartbeats missed in a row */
	unsigned query_misses;	   /* query misses since its last sign of life */
	int tracked;		   /* on its own steady schedule, not swept */
	uint64_t queries_sent, queries_won, queries_failed, queries_missed;
	unsigned rank; /* 1-based among candidates and neighbours; 0 = none */
};

struct peers_summary {
	enum peers_mode mode;
	size_t listed;
	size_t count[PEERS_DOWN + 1]; /* peers per state */
	unsigned generation;	      /* bumps when the neighbour set changes */
	uint64_t self_nsid;	      /* ours, as given */
	size_t nbr_shared;	      /* neighbours on our nameserver set */
	size_t other_sets;	      /* candidates on another set (or unknown) */
	size_t tracked, swept;	      /* heartbeat schedules */
	uint64_t sweep_period_ms;     /* how often each swept peer is visited */
};

struct peers;

void peers_config_default(struct peers_config *);

/* NULL on out of memory. The config is copied; zero fields take defaults. */
struct peers *peers_new(const struct peers_config *);
void peers_free(struct peers *);
/* Apply a new config (reload), keeping peer state; re-ranks. */
void peers_configure(struct peers *, const struct peers_config *);
/* The identity of our own nameserver set (0 = unknown); re-ranks. */
void peers_set_self_nsid(struct peers *, uint64_t nsid);

/*
 * Replace the listed peers (start and reload). Peers that stay keep their
 * state and counters; new ones start PROBING with a heartbeat due at once;
 * duplicates are ignored. At most PEERS_MAX ids. 0, or -1 (out of memory or
 * too many ids) leaving the table unchanged.
 */
int peers_set_list(struct peers *, const uint64_t *ids, size_t n,
    uint64_t now);

/*
 * Apply ack and query timeouts at time now (see the rules above) and
 * re-rank if anything changed: a peer that went DOWN leaves the selection
 * at once. Returns the number of peers that went DOWN. O(N); the daemon
 * needs only peers_heartbeat_due(), which does the same through its heap.
 */
size_t peers_tick(struct peers *, uint64_t now);

/*
 * The heartbeats to send now. Applies peers_tick() first, then marks up to
 * max due peers as sent at now with a fresh sequence number each, written
 * to out. The daemon sends each one (a failed send simply becomes a miss).
 * *next_wakeup is when to call again: the next heartbeat due or ack
 * timeout; now if more than max were due; PEERS_NEVER if nothing is listed.
 */
size_t peers_heartbeat_due(struct peers *, uint64_t now,
    struct peers_heartbeat *out, size_t max, uint64_t *next_wakeup);
/* The same wakeup time without sending anything; re-arm the timer with it
 * after peers_ack(), peers_heard(), a query event, peers_set_list() or
 * peers_configure(). O(1). */
uint64_t peers_next_wakeup(const struct peers *, uint64_t now);

/*
 * An ack from peer id for heartbeat seq (one of the last 8 sent to it),
 * with the measured round trip and the peer's reports: its local
 * nameserver mean response time, failure rate (permille, clamped to 1000)
 * and nameserver set identity. O(log N); the ranking follows lazily
 * (see above). 0 when it was an RTT sample; 1 when it was stale (an
 * older heartbeat's, or later than the ack wait): only a sign of life,
 * which may schedule a heartbeat (re-arm the timer); -1 when the peer is
 * not listed or the sequence was never sent (the ack is then ignored).
 */
int peers_ack(struct peers *, uint64_t id, uint32_t seq, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now);

/*
 * A round-trip sample measured without a heartbeat of ours: peer id
 * heartbeated us, we acked, and its echo of that ack came back after
 * rtt_ms (the three-way exchange of man/codns-protocol.7), with its
 * reports as in peers_ack(). Within the ack wait it counts as an ack
 * would: a sample, and the peer is alive; later, only a sign of life.
 * So every heartbeat, ours or the peer's, gives both ends a sample,
 * and the node-wide heartbeat limit costs the start half as much.
 * 0 when it was a sample, 1 a sign of life, -1 when not listed.
 */
int peers_echo(struct peers *, uint64_t id, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now);
/* Whether to ask peer id for an echo of our ack: while it is not alive
 * or its fast start is not over (its RTT window is not yet its own). */
int peers_want_echo(const struct peers *, uint64_t id);

/*
 * The peers to ask for name, in the order above, at most max of them
 * (peers-per-lookup): neighbours, and far rescuers when no neighbour
 * uses another nameserver set. Returns how many were written to ids_out.
 */
size_t peers_select(const struct peers *, const char *name, uint64_t *ids_out,
    size_t max);
/*
 * The far fallback: the live peers that are not neighbours (candidates
 * and those beyond neighbor-rtt-max), healthy first, nearest first, at
 * most max. For when no neighbour can answer (none, or all tried).
 * O(N x max).
 */
size_t peers_fallback(const struct peers *, uint64_t *ids_out, size_t max);

/*
 * A heartbeat arrived from peer id (the daemon acks it). If the peer is
 * down or probing it is probing again at once and due a heartbeat of our
 * own (adoption). 1 when that changed its schedule (re-arm the timer), 0
 * when not, -1 when the peer is not listed.
 */
int peers_heard(struct peers *, uint64_t id, uint64_t now);

/* Count a query outcome for peer id; -1 if it is not listed. Counters
 * only: the evidence functions below count as well. */
int peers_record_query(struct peers *, uint64_t id, enum peers_outcome);
/* A query went to peer id at now: counted, and its answer is awaited as
 * evidence (query miss after the query wait). */
int peers_query_sent(struct peers *, uint64_t id, uint64_t now);
/* Peer id replied to a query: an answer (won) or "cannot resolve". A sign
 * of life; a peer that was down is probed again at once. */
int peers_query_reply(struct peers *, uint64_t id, int won, uint64_t now);
/* A query to peer id was forgotten before its reply; failed: the lookup
 * gave up on it (counted failed), else another source answered first. */
int peers_query_drop(struct peers *, uint64_t id, int failed);
/* Whether peer id is alive and measured (neighbour, candidate or far):
 * a lookup does not send a query to a peer known dead. O(log N). */
int peers_usable(const struct peers *, uint64_t id);

/* The reports below bring a lazily pending ranking up to date first (so
 * they take the table, not a const one); peers_select() does not. */
enum peers_mode peers_mode(struct peers *);
/* The size of the neighbour set as last ranked; O(1). */
size_t peers_neighbours(const struct peers *);
/* Bumps when the neighbour set changes (a neighbour went down); O(1). */
unsigned peers_generation(const struct peers *);
void peers_summary(struct peers *, struct peers_summary *);
size_t peers_count(const struct peers *);
/* Row i (0 <= i < peers_count(), ordered by id); -1 if out of range. */
int peers_row(struct peers *, size_t i, struct peers_row *);
/* The row of peer id; -1 if it is not listed. */
int peers_find(struct peers *, uint64_t id, struct peers_row *);

const char *peers_state_name(enum peers_state);
const char *peers_mode_name(enum peers_mode);

#endif
