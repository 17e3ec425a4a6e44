/* SPDX-License-Identifier: MIT */
/* codnsd/peer/peernet.h: the peer transport: socket, heartbeats, peer queries. */
#ifndef CODNSD_PEERNET_H
#define CODNSD_PEERNET_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "peers.h"
#include "proto.h"
#include "conf.h"
#include "stats.h"

struct peernet;
struct peernet_query;
struct peernet_staged;
struct conf;
struct sockaddr;

/*
 * The UDP peer socket's protocol, the peers file, heartbeats, and the
 * queries this node sends to peers and serves for them. The neighbour
 * policy (states, ranking, HRW) lives in peers/; the race (when to ask
 * which neighbour, the adaptive delay, outcomes) in lookup.c.
 *
 * Its collaborators come through struct peernet_env, as lookup's through
 * lookup_env: clock, timers, the socket's send side, counters and our own
 * nameserver's health. peernetio.c is the real adapter (libev, the bound
 * socket, whose datagrams it hands to peernet_input());
 * tests/unit/test_peernet.c drives it with a fake clock and socket.
 */

/* Our local nameserver's health, as heartbeats report it. */
struct peernet_health {
	uint32_t mean_ms;
	uint64_t queries, failures; /* running counts */
	uint64_t nsset_id;
};

typedef void peernet_timer_cb(void *arg);

struct peernet_env {
	/* The monotonic clock and one-shot timers (as lookup_env's: the
	 * daemon gives both the same); callbacks come from the loop. */
	void *clock;
	uint64_t (*now_us)(void *clock);
	void *(*timer_new)(void *clock, peernet_timer_cb *, void *arg);
	void (*timer_start)(void *timer, uint64_t after_us);
	void (*timer_stop)(void *timer);
	void (*timer_free)(void *timer);
	/* The rest take ctx. */
	void *ctx;
	uint64_t (*wall_ms)(void *ctx); /* for the wire's timestamps */
	/* Send one datagram; -1 is a lost datagram. */
	int (*send)(void *ctx, const void *buf, size_t len,
	    const struct sockaddr *to, socklen_t tolen);
	void (*stat_count)(void *ctx, enum stats_counter);
	void (*health)(void *ctx, struct peernet_health *);
	/* Called last by peernet_free() (may be NULL). */
	void (*release)(void *ctx);
	/* The peers-dns names of the config just committed (start and
	 * every reload), for the env to follow and to re-resolve; it hands
	 * their peers back with peernet_set_dns(). May be NULL. */
	void (*dns_configure)(void *ctx,
	    const char (*names)[CONF_DNSNAME_MAX + 1], size_t n,
	    uint16_t port);
	/* Follow the peers file (inotify, filewatch.h): cb whenever it may
	 * have changed. Without watch_new (NULL) the file's stat is looked
	 * at every file_check_ms on a timer instead (0: 2 s). */
	void *(*watch_new)(void *ctx, const char *path, peernet_timer_cb *cb,
	    void *arg);
	void (*watch_retarget)(void *watch, const char *path);
	void (*watch_free)(void *watch);
	uint32_t file_check_ms;
};

/* Read the peers file of c and start heartbeats: 0 with *out set, or -1
 * with a message in err (then env->release is not called). */
int peernet_new(const struct peernet_env *, const struct conf *c,
    struct peernet **out, char *err, size_t errlen);
/* A datagram that arrived on the peer socket from `from`. */
void peernet_input(struct peernet *, const uint8_t *dgram, size_t len,
    const struct sockaddr *from);
void peernet_free(struct peernet *);
/*
 * A reload in two steps (SIGHUP): prepare reads the peers file and key
 * file of c and builds the new settings without touching the running
 * peer side (-1 with a message in err); commit puts them in place and
 * frees s. Commit fails (-1, out of memory) only before it changed
 * anything, and then s is still the caller's to free.
 */
int peernet_prepare(struct peernet *, const struct conf *c,
    struct peernet_staged **s, char *err, size_t errlen);
int peernet_commit(struct peernet *, struct peernet_staged *s);
void peernet_staged_free(struct peernet_staged *);

/*
 * Incoming peer queries are resolved by a server that main registers (the
 * lookup module, with LOOKUP_F_PEER): serve returns a handle and answers
 * later through cb, or returns NULL with the answer in *now. unserve
 * forgets a handle whose answer is no longer wanted.
 */
typedef void peernet_answer_cb(void *arg, const struct proto_answer *);
typedef void *peernet_serve_fn(void *ctx, const struct proto_request *,
    peernet_answer_cb *, void *arg, struct proto_answer *now);
typedef void peernet_unserve_fn(void *handle);
void peernet_set_server(struct peernet *, peernet_serve_fn *,
    peernet_unserve_fn *, void *ctx);

/* How a query to a peer ended; latency from sending to the reply. The
 * callback comes from the loop; GONE from peernet_free(). */
enum peernet_result {
	PEERNET_ANSWER, /* a: status FOUND, NOTFOUND or NODATA */
	PEERNET_CANNOT, /* "cannot resolve", a == NULL */
	PEERNET_GONE,	/* the transport is freed, a == NULL */
};
typedef void peernet_cb(void *arg, int result, const struct proto_answer *a,
    uint32_t latency_us);

/* The usable neighbours for req, in HRW order (at most max). */
size_t peernet_select(struct peernet *, const struct proto_request *,
    uint64_t *ids, size_t max);
/* The far fallback: the nearest live peers that are not neighbours, for
 * when no neighbour can answer (peers_fallback()). */
size_t peernet_fallback(struct peernet *, uint64_t *ids, size_t max);
/* Ask peer id; NULL if it cannot be sent (the caller moves on). */
struct peernet_query *peernet_query(struct peernet *, uint64_t id,
    const struct proto_request *, peernet_cb *, void *arg);
/* Forget a query: its answer will be dropped quietly. */
void peernet_query_cancel(struct peernet_query *);
/* Count a query outcome for a peer (codnsctl peers). */
void peernet_record(struct peernet *, uint64_t id, enum peers_outcome);

/* One listed peer, for codnsctl peers. */
struct peernet_row {
	char addr[64];
	char source[CONF_DNSNAME_MAX + 8]; /* "file" or "dns NAME" */
	const char *state; /* probing, candidate, neighbour, down */
	uint32_t rtt_ms;
	uint32_t ns_ms;
	uint32_t ns_fail_permille;
	uint64_t ns_set_id; /* its nameserver set, 0 unknown */
	int tracked;	    /* heartbeated on its own schedule, not swept */
	unsigned query_misses;
	double last_heartbeat_ago_s; /* -1 never */
	uint64_t sent, won, failed;
	int rank; /* -1 none */
};

/*
 * The peers that the peers-dns names give now (codnsd/peer/peersdns.c),
 * each with the index of its name in names[]: the peer list becomes
 * their union with the peers file, at most CONF_PEERS_MAX (the rest is
 * counted, peernet_dns_cut(), with the cut addresses the names gave
 * beyond that already). Peers that stay keep their state. -1 on out of
 * memory (the list stays as it was).
 */
int peernet_set_dns(struct peernet *, const struct conf_addr *addrs,
    const uint16_t *src, size_t n, const char (*names)[CONF_DNSNAME_MAX + 1],
    size_t nnames, size_t cut);
uint64_t peernet_dns_cut(const struct peernet *);
/* The env's ctx that pn was made with. */
void *peernet_env_ctx(const struct peernet *);

/* Fill up to max rows; returns how many were written. */
size_t peernet_rows(const struct peernet *, struct peernet_row *out,
    size_t max);
/* The neighbour set against our nameserver set, for codnsctl status. */
struct peernet_nbr {
	const char *mode; /* discovery, steady */
	uint64_t self_nsid;
	size_t neighbours;
	size_t shared;	   /* neighbours on our nameserver set */
	size_t other_sets; /* live peers (neighbours, candidates) on another */
	size_t tracked, swept;
	uint64_t sweep_period_ms;
	double full_after_s; /* first full neighbour set after start; -1 not yet */
};
void peernet_neighbours(const struct peernet *, struct peernet_nbr *);

#endif
