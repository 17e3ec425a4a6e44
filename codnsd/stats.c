/* codnsd/stats.c: counters, latency histograms and top names. */
#include "stats.h"

#include <stdlib.h>

struct stats {
	uint64_t counters[STATS_NCOUNTERS];
	uint64_t by_source[CODNS_SRC_PEER + 1];
	uint64_t by_status[CODNS_UNAVAIL + 1];
	uint64_t local_by_status[CODNS_UNAVAIL + 1];
	uint64_t peer_by_status[CODNS_UNAVAIL + 1];
};

static const char *const stats_names[STATS_NCOUNTERS] = {
	[STATS_CLIENTS_ACCEPTED] = "clients_accepted",
	[STATS_CLIENTS_REFUSED] = "clients_refused",
	[STATS_CLIENTS_BAD_FRAME] = "clients_bad_frame",
	[STATS_CLIENTS_IDLE] = "clients_idle_closed",
	[STATS_LOOKUPS_COALESCED] = "lookups_coalesced",
	[STATS_LOOKUPS_OVERLOAD] = "lookups_overload",
	[STATS_LOOKUPS_TIMEOUT] = "lookups_timeout",
	[STATS_PEER_QUERIES_SENT] = "peer_queries_sent",
	[STATS_PEER_QUERIES_WON] = "peer_queries_won",
	[STATS_PEER_QUERIES_FAILED] = "peer_queries_failed",
	[STATS_PEER_SERVED] = "peer_queries_served",
	[STATS_PEER_DROPPED] = "peer_queries_dropped",
	[STATS_PEER_BAD_DATAGRAM] = "peer_bad_datagrams",
	[STATS_PEER_UNLISTED] = "peer_unlisted_datagrams",
	[STATS_PEER_BAD_AUTH] = "peer_bad_auth",
	[STATS_PEER_STALE] = "peer_stale_or_replayed",
	[STATS_PEER_UNEXPECTED] = "peer_unexpected_answers",
	[STATS_HEARTBEATS_SENT] = "heartbeats_sent",
	[STATS_HEARTBEATS_ACKED] = "heartbeats_acked",
	[STATS_CTL_BAD_REQUEST] = "control_bad_requests",
};

struct stats *
stats_new(void)
{
	return calloc(1, sizeof(struct stats));
}

void
stats_free(struct stats *s)
{
	free(s);
}

void
stats_count(struct stats *s, enum stats_counter c)
{
	if (c < STATS_NCOUNTERS)
		s->counters[c]++;
}

uint64_t
stats_get(const struct stats *s, enum stats_counter c)
{
	return c < STATS_NCOUNTERS ? s->counters[c] : 0;
}

const char *
stats_counter_name(enum stats_counter c)
{
	return c < STATS_NCOUNTERS ? stats_names[c] : "?";
}

void
stats_lookup(struct stats *s, const struct proto_request *req,
    const struct proto_answer *a, uint32_t latency_us)
{
	if (a->source <= CODNS_SRC_PEER)
		s->by_source[a->source]++;
	if (a->status <= CODNS_UNAVAIL)
		s->by_status[a->status]++;
}

void
stats_local(struct stats *s, uint8_t status, uint32_t latency_us)
{
	if (status <= CODNS_UNAVAIL)
		s->local_by_status[status]++;
}

void
stats_peer(struct stats *s, uint8_t status, uint32_t latency_us)
{
	if (status <= CODNS_UNAVAIL)
		s->peer_by_status[status]++;
}
