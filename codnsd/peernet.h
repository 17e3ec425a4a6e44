/* codnsd/peernet.h: the peer transport: socket, heartbeats, peer queries. */
#ifndef CODNSD_PEERNET_H
#define CODNSD_PEERNET_H

#include <stddef.h>
#include <stdint.h>

#include "peers.h"
#include "proto.h"

struct codnsd;
struct peernet;
struct peernet_query;

/*
 * The UDP peer socket, the peers file, heartbeats, and the queries this
 * node sends to peers and serves for them. The neighbour policy (states,
 * ranking, HRW) lives in peers/; the race (when to ask which neighbour,
 * the adaptive delay, outcomes) in lookup.c.
 */

/* Open the peer socket when the peers file exists: 0 with *out set (NULL
 * when there is no peers file), or -1 with a message in err. */
int peernet_open(struct codnsd *, struct peernet **out, char *err,
    size_t errlen);
void peernet_free(struct peernet *);
/* Re-read the peers file, key file and peer keys of d->conf (SIGHUP). */
int peernet_reload(struct peernet *, char *err, size_t errlen);

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
#endif
