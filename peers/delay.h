/* SPDX-License-Identifier: MIT */
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
#define DELAY_STEP_SLACK_MS 2	 /* added to mean + sd for the step */
#define DELAY_ADAPTIVE_FLOOR_MS 10 /* least adaptive delay */
#define DELAY_LATENCY_CAP_MS (1U << 24) /* keeps the sums in 64 bits */
#define DELAY_LOCAL_SAMPLES 128	/* local nameserver latencies kept */
#define DELAY_LOCAL_MIN 32	/* samples before the hedge applies */
#define DELAY_HEDGE_MARGIN 2	/* hedge at this many times the local p99 */

/*
 * How the initial delay is chosen (CoDNS, Park et al., OSDI 2004, sec. 4),
 * evaluated in this order on the outcomes of the most recent lookups:
 *
 * peers-winning  peers won more than 8 of the last 16 lookups: 0 ms, ask a
 *                peer at once together with the local nameserver.
 * local-silent   the local nameserver has given no usable answer since a
 *                query sent at least the hedge delay ago: 0 ms as well.
 *                A healthy nameserver answers within the hedge; one that
 *                let a lookup go past it and answered nothing since is
 *                failing now, and the lookups after the first of an
 *                outage need not wait until peers have won 9 of 16
 *                (issue 21: they took two round trips each, mean + sd
 *                and then the peer's answer).
 * healthy        the last 32 lookups were all answered by the local
 *                nameserver: the hedge delay (below).
 * starting       fewer than 32 lookups seen since start, all answered
 *                locally: the hedge delay, the local nameserver is
 *                presumed healthy until shown otherwise.
 * adaptive       anything in between, in particular after a peers-winning
 *                phase while the local nameserver recovers: the mean plus
 *                one standard deviation of the last 32 winning peer
 *                latencies, clamped to [0, initial-delay-max]
 *                (initial-delay-max when no peer has won yet).
 *
 * So after an outage the delay falls to 0, rises to mean + sd as local
 * answers come back (once peers no longer win most of the last 16), and
 * returns to the hedge delay after 32 local answers in a row.
 *
 * The hedge delay replaces the paper's fixed 200 ms in the healthy state,
 * after Dean and Barroso's hedged requests ("The Tail at Scale", CACM
 * 2013): ask a peer once the local lookup is later than the local
 * nameserver's own recent 99th percentile would explain, times
 * DELAY_HEDGE_MARGIN, clamped to [DELAY_ADAPTIVE_FLOOR_MS,
 * initial-delay-max]. About 1 % of healthy lookups then send a peer query,
 * and the first lookup of a new outage waits tens of milliseconds instead
 * of 200. Until DELAY_LOCAL_MIN local latencies are known, it is
 * initial-delay-max.
 */
enum delay_reason {
	DELAY_STARTING,
	DELAY_HEALTHY,
	DELAY_PEERS_WINNING,
	DELAY_ADAPTIVE,
	DELAY_LOCAL_SILENT,
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
	uint32_t loc_us[DELAY_LOCAL_SAMPLES]; /* local answer latencies */
	unsigned nloc, locpos;
	uint32_t loc_p99_us; /* recomputed as samples arrive */
	int quiet;	     /* no usable local answer since quiet_ms */
	uint64_t quiet_ms;   /* the first local query sent since the last */
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
	unsigned local_samples;	 /* local latencies kept */
	uint32_t local_p99_us;	 /* their 99th percentile */
	uint32_t hedge_ms;	 /* the healthy-state delay they give */
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
/*
 * How long the local nameserver took to give an answer that was used
 * (microseconds from the start of the lookup). Feeds the hedge delay; call
 * it besides delay_record_local().
 */
void delay_record_local_latency(struct delay *, uint32_t local_us);
/* The healthy-state delay: the hedge, or initial-delay-max. */
uint32_t delay_hedge(const struct delay *);

/*
 * Every query sent to the local nameserver (for a client, a peer or a
 * prefetch), and every usable answer from it (found, NXDOMAIN, NODATA;
 * not SERVFAIL or a timeout): the evidence for local-silent. Time in ms
 * on the caller's clock.
 */
void delay_local_sent(struct delay *, uint64_t now_ms);
void delay_local_answered(struct delay *);
/* A query marked sent at sent_ms was answered without asking the
 * nameserver (kept responses): the mark is taken back if it is that one. */
void delay_local_unsent(struct delay *, uint64_t sent_ms);

/* The initial delay for a lookup starting at now_ms; reason may be NULL. */
uint32_t delay_current(const struct delay *, uint64_t now_ms,
    enum delay_reason *reason);
const char *delay_reason_name(enum delay_reason);
void delay_get_stats(const struct delay *, struct delay_stats *);

/*
 * The least backoff step, and the delay after an immediate (0 ms) query
 * (CoDNS 4.1): max(DELAY_STEP_FLOOR_MS, mean + one standard deviation of
 * the winning peer latencies + DELAY_STEP_SLACK_MS). By then most peers
 * that answer at all have answered; one that has not was most likely lost
 * (a dropped datagram, a peer that stopped), and the next peer should not
 * wait for another round trip (issue 21: a lost answer cost 3 RTTs, not
 * 2). The slack covers the samples' whole milliseconds (truncated, up to
 * 1 ms low) and the timer's own lateness: on the WAN bench, peers answered
 * in 14.2 +- 0.3 ms, recorded as 14 +- 0, and without it three answers in
 * four would have come after the step and sent a needless second query.
 */
uint32_t delay_step_min(const struct delay *);

/*
 * When peer k (0-based, in HRW order) is asked, in ms from the start of the
 * lookup. With initial delay d and step b = max(d, step_min, 10 ms): peer
 * 0 at d, then each wait doubles: d + 2b, d + 2b + 4b, ... For d >= b this
 * is the paper's d, 3d, 7d, .... For d == 0 it is 0, b, 3b, 7b: after the
 * immediate query the delay becomes b and doubles from there, so an
 * initial delay of 0 never means all peers at once.
 * Saturates at UINT32_MAX. The caller stops at peers-per-lookup peers.
 */
uint32_t delay_backoff_at(uint32_t initial, uint32_t step_min, unsigned k);

#endif
