/* codnsd/peernet.h: the peer side of the daemon, as ctl.c sees it. */
#ifndef CODNSD_PEERNET_H
#define CODNSD_PEERNET_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct codnsd;
struct peernet;
struct peernet_query;
struct peernet_staged;
struct conf;

/*
 * The UDP peer socket, the peers file, heartbeats, and the queries this
 * node sends to peers and serves for them. The cooperation policy itself
 * (states, ranking, HRW, the adaptive delay) lives in peers/.
 */

/* Open the peer socket when the peers file of c exists: 0 with *out set
 * (NULL when there is no peers file), or -1 with a message in err. c is
 * d->conf, or at a reload the config about to become d->conf. */
int peernet_open(struct codnsd *, const struct conf *c, struct peernet **out,
    char *err, size_t errlen);
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

/* Result of a peer query: an answer (status FOUND/NOTFOUND/NODATA) or,
 * with a == NULL, "cannot resolve". */
typedef void peernet_cb(void *arg, const char *peer, const struct proto_answer *a);

/* The neighbours to ask for req, in HRW order (at most max). */
size_t peernet_select(struct peernet *, const struct proto_request *,
    uint64_t *ids, size_t max);
/* The current initial delay and the least backoff step (ms). */
uint32_t peernet_initial_delay(const struct peernet *, uint32_t *step_min);
/* Ask peer id; NULL if it cannot be sent (the caller moves on). */
struct peernet_query *peernet_query(struct peernet *, uint64_t id,
    const struct proto_request *, peernet_cb *, void *arg);
/* Forget a query: its answer will be dropped quietly. won: it is being
 * forgotten because another source answered (not counted as failed). */
void peernet_query_cancel(struct peernet_query *, int answered_elsewhere);
/* How a client lookup ended, for the adaptive delay (CoDNS 4.1) and the
 * hedge; latency_us is the winning source's. */
void peernet_outcome(struct peernet *, int peer_won, int failed,
    uint32_t latency_us);

/* One listed peer, for codnsctl peers. */
struct peernet_row {
	char addr[64];
	const char *state; /* probing, candidate, neighbour, down */
	uint32_t rtt_ms;
	uint32_t ns_ms;
	uint32_t ns_fail_permille;
	double last_heartbeat_ago_s; /* -1 never */
	uint64_t sent, won, failed;
	int rank; /* -1 none */
};

/* Fill up to max rows; returns how many were written. */
size_t peernet_rows(const struct peernet *, struct peernet_row *out,
    size_t max);
/* The current initial delay before the first peer query, and why. */
uint32_t peernet_delay_ms(const struct peernet *, const char **reason);
/* Local and peer wins over the last 16 and 32 lookups (CoDNS paper). */
void peernet_windows(const struct peernet *, unsigned *local16,
    unsigned *peer16, unsigned *local32, unsigned *peer32);

#endif
