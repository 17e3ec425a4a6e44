/* SPDX-License-Identifier: MIT */
/* codnsd/core/lookup.h: one lookup from cache, local nameserver and peers. */
#ifndef CODNSD_LOOKUP_H
#define CODNSD_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "stats.h"

/*
 * lookup owns the race of DESIGN.md "The lookup race": the coalescing of
 * identical lookups, the adaptive initial delay (its state; the policy is
 * peers/delay.c), the backoff schedule, the choice of the next peer, and
 * the recording of every outcome. Its collaborators (cache, local
 * nameserver, peer transport, counters) and its clock and timers come
 * through struct lookup_env, so that tests/unit/test_lookup.c runs the
 * race against fakes; lookupio.c is the real adapter (libev, c-ares).
 */

struct lookup;
struct lookup_waiter;

#define LOOKUP_F_PEER 0x1 /* asked by a peer: never escalate to peers */

typedef void lookup_cb(void *arg, const struct proto_answer *);
typedef void lookup_timer_cb(void *arg);

/* The end of one query to a peer (lookup_env.peer_query). */
enum lookup_peer_result {
	LOOKUP_PEER_ANSWER, /* an answer: FOUND, NOTFOUND or NODATA */
	LOOKUP_PEER_CANNOT, /* "cannot resolve": move on at once */
	LOOKUP_PEER_GONE,   /* the transport went away (shutdown, reload) */
};
typedef void lookup_peer_cb(void *arg, int result,
    const struct proto_answer *, uint32_t latency_us);

/*
 * Every callback given to a collaborator comes later, from the event loop,
 * never before the call that passed it has returned.
 */
struct lookup_env {
	/* The clock (monotonic microseconds) and one-shot timers. */
	void *clock;
	uint64_t (*now_us)(void *clock);
	void *(*timer_new)(void *clock, lookup_timer_cb *, void *arg);
	void (*timer_start)(void *timer, uint64_t after_us);
	void (*timer_stop)(void *timer);
	void (*timer_free)(void *timer);

	/* The answer cache (cache.h). */
	void *cache;
	int (*cache_get)(void *cache, const struct proto_request *,
	    uint64_t now_ms, struct proto_answer *);
	void (*cache_put)(void *cache, const struct proto_request *,
	    const struct proto_answer *, uint64_t now_ms);
	/* Prefetch: whether the entry of the last cache_get() hit is in the
	 * last 10 % of its TTL (cache_refresh_due()), so that it is
	 * refreshed in the background; NULL: never. */
	int (*cache_refresh_due)(void *cache);
	/* Serve-stale (RFC 8767): an entry expired less than serve-stale
	 * ago (cache_get_stale()), or 0. NULL: never serve stale. */
	int (*cache_get_stale)(void *cache, const struct proto_request *,
	    uint64_t now_ms, struct proto_answer *);

	/* The local nameservers (upstream.h): a handle, or NULL. A negative
	 * answer's TTL is its SOA's negative TTL, UINT32_MAX without one;
	 * an answer made of responses kept, with no question asked, has
	 * source CODNS_SRC_CACHE. */
	void *local;
	void *(*local_resolve)(void *local, const struct proto_request *,
	    lookup_cb *, void *arg);
	void (*local_cancel)(void *query);
	/* The lookup deadline (ms) the local resolver implies for a request
	 * (its search walk included); may be NULL (then
	 * lookup_conf.lookup_timeout_ms). */
	uint32_t (*local_timeout_ms)(void *local,
	    const struct proto_request *);

	/* The peer transport (peernet.h). active: 0 without a peers file. */
	void *peers;
	int (*peers_active)(void *peers);
	/* The usable neighbours for req in HRW order, at most max. */
	size_t (*peers_select)(void *peers, const struct proto_request *,
	    uint64_t *ids, size_t max);
	/* The far fallback (peers_fallback(): the nearest live peers that
	 * are not neighbours), asked after every neighbour; may be NULL. */
	size_t (*peers_fallback)(void *peers, uint64_t *ids, size_t max);
	/* Send a query; a handle, or NULL when it cannot be sent. */
	void *(*peer_query)(void *peers, uint64_t id,
	    const struct proto_request *, lookup_peer_cb *, void *arg);
	void (*peer_cancel)(void *query);
	/* Per-peer sent/won/failed counts (enum peers_outcome). */
	void (*peer_record)(void *peers, uint64_t id, int outcome);

	/* Counters and histograms (stats.h). */
	void *stats;
	void (*stat_count)(void *stats, enum stats_counter);
	void (*stat_lookup)(void *stats, const struct proto_request *,
	    const struct proto_answer *, uint32_t latency_us);
	void (*stat_local)(void *stats, uint8_t status, uint32_t latency_us);
	void (*stat_peer)(void *stats, uint8_t status, uint32_t latency_us);
};

/* The keys of codnsd.conf that the race uses. */
struct lookup_conf {
	uint32_t lookup_timeout_ms;
	uint32_t negative_ttl_s;
	uint32_t initial_delay_max_ms;
	size_t peers_per_lookup;
	uint32_t stale_answer_timeout_ms; /* 0: stale only when all failed */
};

struct lookup *lookup_new(const struct lookup_env *,
    const struct lookup_conf *);
/* Answers every waiter with unavailable first (a stopping daemon: NSS
 * falls through to the next module). */
void lookup_free(struct lookup *);
/* New configuration (SIGHUP); lookups in flight keep their schedule. */
void lookup_configure(struct lookup *, const struct lookup_conf *);

/*
 * Resolve req. When the answer is known at once (a cache hit, or a refusal
 * with try-again), it is copied to *now and NULL is returned: cb is never
 * called. A hit that cache_refresh_due() says is near expiry also starts
 * a lookup with no waiter (local nameservers only) that refreshes the
 * entry, unless one for the same request is in flight already. Otherwise the returned waiter gets its answer through cb exactly
 * once, later, from the event loop, unless lookup_cancel() comes first.
 */
struct lookup_waiter *lookup_start(struct lookup *,
    const struct proto_request *, int flags, lookup_cb *, void *arg,
    struct proto_answer *now);
void lookup_cancel(struct lookup_waiter *);
size_t lookup_inflight(const struct lookup *);
/* Answer every waiter with status (CODNS_UNAVAIL at shutdown, so that
 * NSS falls through to dns instead of failing with EAI_AGAIN). */
void lookup_fail_all(struct lookup *, int status);

/* The initial delay the next lookup would use (ms), and why. */
uint32_t lookup_delay_ms(const struct lookup *, const char **reason);
/* Local and peer wins over the last 16 and 32 lookups (CoDNS paper). */
void lookup_windows(const struct lookup *, unsigned *local16,
    unsigned *peer16, unsigned *local32, unsigned *peer32);

#endif
