/* peers/peers.h: the peer table: heartbeats, liveness, neighbour ranking. */
#ifndef CODNS_PEERS_H
#define CODNS_PEERS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Pure policy, no I/O: the daemon passes in the time (monotonic ms) and the
 * events (heartbeats to send, acks received, query outcomes) and asks for
 * decisions (whom to heartbeat and when, which neighbours to ask). Peers are
 * known by a 64-bit id, hrw_peer_id() of their address; the daemon keeps the
 * id -> address map.
 *
 * Neighbour discovery follows CoDNS (Park et al., OSDI 2004, sec. 4.3):
 * heartbeats every heartbeat-discovery to every listed node until enough
 * neighbours are found, then every heartbeat-steady. Nodes with RTT under
 * neighbor-rtt-max are candidates; the best `neighbors` of them by RTT +
 * reported nameserver time, preferring distinct nameserver sets, become
 * neighbours. A neighbour that misses a heartbeat leaves the selection at
 * once and the next best candidate takes its place until it answers again.
 *
 * Rules this module adds where the paper is silent:
 * - A heartbeat not acked within the ack wait, max(500 ms,
 *   4 x neighbor-rtt-max) but at most heartbeat-discovery, is a miss. One
 *   miss makes an answering peer DOWN; a never-answering peer becomes DOWN
 *   after PEERS_TRIES misses. So a dead neighbour is noticed at most one
 *   heartbeat interval plus the ack wait after its last ack.
 * - After a miss a peer is retried at the discovery interval for
 *   PEERS_TRIES tries whatever the mode, so one lost datagram costs a
 *   neighbour about a second, not a steady interval.
 * - The mode is discovery while there are fewer than `neighbors`
 *   neighbours and some peer is still worth trying quickly: one never heard
 *   from (PROBING) or one DOWN for fewer than PEERS_TRIES misses. Otherwise
 *   steady: enough neighbours, or every live candidate is already one.
 *   Losing a neighbour with no spare candidate therefore returns to
 *   discovery until it answers or PEERS_TRIES retries fail.
 * - Ranking: candidates sorted by (failure rate over 50 %, RTT + peer
 *   nameserver time, id). Greedy: first, in that order, the best peer of
 *   each nameserver set that differs from ours and from those already
 *   chosen (high-failure peers excluded; set id 0 means unknown and counts
 *   as distinct), then the rest in order. The first `neighbors` are
 *   neighbours. The RTT is smoothed as in RFC 6298 (alpha 1/8).
 */

#define PEERS_MAX 4096	    /* listed peers kept */
#define PEERS_TRIES 3	    /* quick retries after a miss */
#define PEERS_ACK_WAIT_MIN_MS 500
#define PEERS_FAIL_BAD 500 /* permille over which a peer ranks last */
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
	uint32_t rtt_ms;	   /* smoothed */
	uint32_t ns_mean_ms;	   /* its reported local nameserver time */
	uint32_t ns_fail_permille; /* its reported failure rate */
	uint64_t ns_set_id;	   /* its reported nameserver set identity */
	uint64_t last_sent;	   /* last heartbeat sent, or PEERS_NEVER */
	uint64_t last_ack;	   /* last ack received, or PEERS_NEVER */
	unsigned misses;	   /* heartbeats missed in a row */
	uint64_t queries_sent, queries_won, queries_failed;
	unsigned rank; /* 1-based among candidates and neighbours; 0 = none */
};

struct peers_summary {
	enum peers_mode mode;
	size_t listed;
	size_t count[PEERS_DOWN + 1]; /* peers per state */
	unsigned generation;	      /* bumps when the neighbour set changes */
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
 * Apply ack timeouts at time now: a peer whose heartbeat went unanswered
 * for the ack wait has missed it and may go DOWN, leaving the selection at
 * once. Returns the number of peers that went DOWN.
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
 * after peers_ack(), peers_set_list() or peers_configure(). */
uint64_t peers_next_wakeup(const struct peers *, uint64_t now);

/*
 * An ack from peer id for heartbeat seq (one of the last 8 sent to it),
 * with the measured round trip and the peer's reports: its local
 * nameserver mean response time, failure rate (permille, clamped to 1000)
 * and nameserver set identity. Re-ranks. 0, or -1 when the peer is not
 * listed or the sequence was never sent (the ack is then ignored).
 */
int peers_ack(struct peers *, uint64_t id, uint32_t seq, uint32_t rtt_ms,
    uint32_t ns_mean_ms, uint32_t ns_fail_permille, uint64_t ns_set_id,
    uint64_t now);

/*
 * The neighbours to ask for name, in HRW order, at most max of them
 * (peers-per-lookup). Returns how many were written to ids_out.
 */
size_t peers_select(const struct peers *, const char *name, uint64_t *ids_out,
    size_t max);

/* Count a query outcome for peer id; -1 if it is not listed. */
int peers_record_query(struct peers *, uint64_t id, enum peers_outcome);

enum peers_mode peers_mode(const struct peers *);
void peers_summary(const struct peers *, struct peers_summary *);
size_t peers_count(const struct peers *);
/* Row i (0 <= i < peers_count(), ordered by id); -1 if out of range. */
int peers_row(const struct peers *, size_t i, struct peers_row *);
/* The row of peer id; -1 if it is not listed. */
int peers_find(const struct peers *, uint64_t id, struct peers_row *);

const char *peers_state_name(enum peers_state);
const char *peers_mode_name(enum peers_mode);

#endif
