/* peers/delay.h: the adaptive initial delay and peer backoff of CoDNS. */
#ifndef CODNS_DELAY_H
#define CODNS_DELAY_H

#include <stddef.h>
#include <stdint.h>

#define DELAY_MAX_DEFAULT_MS 200 /* initial-delay-max */
#define DELAY_HEALTHY_WINDOW 32	 /* all local in the last 32: healthy */
#define DELAY_PEER_WINDOW 16	 /* peers won > half of the last 16 */
#define DELAY_SAMPLES 32	 /* winning peer latencies kept */
#define DELAY_STEP_FLOOR_MS 10	 /* least backoff step when the delay is 0 */
#define DELAY_ADAPTIVE_FLOOR_MS 10 /* least adaptive delay */
#define DELAY_LATENCY_CAP_MS (1U << 24) /* keeps the sums in 64 bits */

/*
 * How the initial delay is chosen (CoDNS, Park et al., OSDI 2004, sec. 4),
 * evaluated in this order on the outcomes of the most recent lookups:
 *
 * peers-winning  peers won more than 8 of the last 16 lookups: 0 ms, ask a
 *                peer at once together with the local nameserver.
 * healthy        the last 32 lookups were all answered by the local
 *                nameserver: initial-delay-max (200 ms).
 * starting       fewer than 32 lookups seen since start, all answered
 *                locally: initial-delay-max, the local nameserver is
 *                presumed healthy until shown otherwise.
 * adaptive       anything in between, in particular after a peers-winning
 *                phase while the local nameserver recovers: the mean plus
 *                one standard deviation of the last 32 winning peer
 *                latencies, clamped to [0, initial-delay-max]
 *                (initial-delay-max when no peer has won yet).
 *
 * So after an outage the delay falls to 0, rises to mean + sd as local
 * answers come back (once peers no longer win most of the last 16), and
 * returns to initial-delay-max after 32 local answers in a row.
 */
enum delay_reason {
	DELAY_STARTING,
	DELAY_HEALTHY,
	DELAY_PEERS_WINNING,
	DELAY_ADAPTIVE,
};

enum delay_outcome {
	DELAY_OUT_LOCAL, /* the local nameserver's answer was used */
	DELAY_OUT_PEER,	 /* a peer's answer won */
	DELAY_OUT_FAIL,	 /* nobody gave a usable answer in time */
};

/* Caller-allocated; initialise with delay_init(). */
struct delay {
	uint32_t max_ms;
	uint32_t local_bits; /* bit 0 = latest lookup, 1 = local answered */
	uint32_t peer_bits;  /* same, 1 = a peer won */
	unsigned nhist;	     /* lookups recorded, saturating at 32 */
	uint32_t lat[DELAY_SAMPLES];
	unsigned nlat, latpos;
	uint64_t total_local, total_peer, total_fail;
};

/* Window counts and latency figures for `codnsctl status`. */
struct delay_stats {
	unsigned local16, peer16, fail16; /* over the last 16 lookups */
	unsigned local32, peer32, fail32; /* over the last 32 lookups */
	unsigned lookups;		  /* in the window, at most 32 */
	unsigned samples;		  /* winning peer latencies kept */
	uint32_t peer_mean_ms, peer_sd_ms;
	uint64_t total_local, total_peer, total_fail;
};

void delay_init(struct delay *, uint32_t max_ms);
/* Change initial-delay-max (reload), keeping the history. */
void delay_set_max(struct delay *, uint32_t max_ms);

void delay_record(struct delay *, enum delay_outcome, uint32_t peer_latency_ms);
/* The local answer was used (whether or not peers had been asked). */
void delay_record_local(struct delay *);
/* A peer won; latency from sending it the query to its answer. */
void delay_record_peer_win(struct delay *, uint32_t peer_latency_ms);
/* Neither the local nameserver nor any peer answered usefully. */
void delay_record_fail(struct delay *);

/* The initial delay for the next lookup; reason may be NULL. */
uint32_t delay_current(const struct delay *, enum delay_reason *reason);
const char *delay_reason_name(enum delay_reason);
void delay_get_stats(const struct delay *, struct delay_stats *);

/*
 * The least backoff step: max(DELAY_STEP_FLOOR_MS, mean winning peer
 * latency). Asking another peer before a typical peer could have answered
 * only adds load, so with an initial delay of 0 the steps use this instead.
 */
uint32_t delay_step_min(const struct delay *);

/*
 * When peer k (0-based, in HRW order) is asked, in ms from the start of the
 * lookup. With initial delay d and step b = max(d, step_min, 10 ms): peer
 * 0 at d, then each wait doubles: d + 2b, d + 2b + 4b, ... For d >= b this
 * is the paper's d, 3d, 7d, ...; for d == 0 it is 0, 2b, 6b, 14b, so an
 * initial delay of 0 never means all peers at once.
 * Saturates at UINT32_MAX. The caller stops at peers-per-lookup peers.
 */
uint32_t delay_backoff_at(uint32_t initial, uint32_t step_min, unsigned k);

#endif
