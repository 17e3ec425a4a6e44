/* codnsd/stats.h: counters, latency histograms and top names. */
#ifndef CODNSD_STATS_H
#define CODNSD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Event counters; stats_counter_name() gives their metric names. */
enum stats_counter {
	STATS_CLIENTS_ACCEPTED,
	STATS_CLIENTS_REFUSED,   /* over the client cap */
	STATS_CLIENTS_BAD_FRAME, /* dropped for a malformed frame */
	STATS_CLIENTS_IDLE,      /* closed for silence */
	STATS_LOOKUPS_COALESCED, /* joined an identical lookup in flight */
	STATS_LOOKUPS_OVERLOAD,  /* refused: too many lookups in flight */
	STATS_LOOKUPS_TIMEOUT,   /* lookup-timeout reached */
	STATS_PEER_QUERIES_SENT,
	STATS_PEER_QUERIES_WON,
	STATS_PEER_QUERIES_FAILED,  /* cannot-resolve or no answer */
	STATS_PEER_SERVED,          /* peer queries we answered */
	STATS_PEER_DROPPED,         /* over peer-queue-max */
	STATS_PEER_BAD_DATAGRAM,    /* malformed */
	STATS_PEER_UNLISTED,        /* from an address not in the peers file */
	STATS_PEER_BAD_AUTH,        /* unsigned, wrong key */
	STATS_PEER_STALE,           /* timestamp out of window or replayed */
	STATS_PEER_UNEXPECTED,      /* answer for no outstanding id */
	STATS_HEARTBEATS_SENT,
	STATS_HEARTBEATS_ACKED,
	STATS_CTL_BAD_REQUEST,
	STATS_NCOUNTERS
};

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *);
void stats_count(struct stats *, enum stats_counter);
uint64_t stats_get(const struct stats *, enum stats_counter);
const char *stats_counter_name(enum stats_counter);

/* A lookup answered to a client (not a peer): its request, the answer as
 * sent (status, source) and the end-to-end latency. */
void stats_lookup(struct stats *, const struct proto_request *,
    const struct proto_answer *, uint32_t latency_us);
/* A local nameserver answer or a peer answer, with its latency. */
void stats_local(struct stats *, uint8_t status, uint32_t latency_us);
void stats_peer(struct stats *, uint8_t status, uint32_t latency_us);

#endif
