/* SPDX-License-Identifier: MIT */
/* codnsd/core/stats.h: counters, latency histograms and top names. */
#ifndef CODNSD_STATS_H
#define CODNSD_STATS_H

#include <stdarg.h>
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
	STATS_LOOKUPS_PREFETCHED, /* a hit near expiry refreshed its entry */
	STATS_LOOKUPS_OVERLOAD,  /* refused: too many lookups in flight */
	STATS_LOOKUPS_TIMEOUT,   /* lookup-timeout reached */
	STATS_ANSWERS_TRUNCATED, /* over the protocol's alias or address cap */
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
	STATS_HEARTBEATS_RECEIVED,  /* from peers (each one acked) */
	STATS_PEER_QUERIES_ABANDONED, /* in flight to a peer found dead */
	STATS_CTL_BAD_REQUEST,
	STATS_LOOKUPS_SHARED, /* nss_codns hits in the shared table, reported */
	STATS_CLIENTS_SLOW,      /* a frame not whole within its deadline */
	STATS_CTL_REFUSED,       /* over a control socket cap */
	STATS_DNS_DROPPED,     /* stub: undecodable datagram or frame */
	STATS_DNS_BAD_FRAME,   /* stub: TCP connection closed for its frame */
	STATS_DNS_TRUNCATED,   /* stub: UDP answer sent with TC */
	STATS_DNS_FORWARDED,   /* stub: other qtypes sent to the nameservers */
	STATS_DNS_RAW_HITS,    /* stub: other qtypes answered from cache */
	STATS_DNS_STALE,       /* stub: other qtypes answered stale */
	STATS_DNS_CLIENTS_REFUSED, /* stub: TCP over the connection cap */
	STATS_DNS_COALESCED,   /* stub: forwarded, joined one in flight */
	STATS_DNS_NEGATIVE_BARE, /* stub: negative answer sent without SOA */
	STATS_QUESTIONS_KEPT, /* a search walk's question answered as kept */
	STATS_QUESTIONS_JOINED, /* ... waiting for the same one in flight */
	STATS_NSCD_REQUESTS,   /* nscd protocol: whole requests */
	STATS_NSCD_MAPS,       /* nscd: tables handed out (GETFDHST) */
	STATS_NSCD_HOSTS_FILE, /* nscd: answered from the hosts file */
	STATS_NSCD_PUBLISHED,  /* nscd: answers put in the table */
	STATS_NSCD_REFUSED,    /* nscd: other databases, odd keys, over caps */
	STATS_NSCD_FAILED,     /* nscd: lookups that failed */
	STATS_NSCD_TO_NSS,     /* nscd: negatives left to NSS, unanswered */
	STATS_NSCD_SELF,       /* nscd: connections from codnsd itself (a bug) */
	STATS_NSCD_BAD,        /* nscd: malformed requests */
	STATS_DNS_SLOW,        /* stub: TCP query not whole within its deadline */
	STATS_DNS_RATELIMITED, /* stub: UDP query over its prefix's rate */
	STATS_DNS_SLIPPED,     /* stub: of those, answered with TC (slip) */
	STATS_DNS_ANY,         /* stub: ANY answered minimally (RFC 8482) */
	STATS_NCOUNTERS
};

/* Query types as an operator names them: A is a forward inet lookup,
 * AAAA inet6, ANY unspec (both families), PTR a reverse lookup. */
enum stats_qtype {
	STATS_QT_A,
	STATS_QT_AAAA,
	STATS_QT_ANY,
	STATS_QT_PTR,
	STATS_NQTYPES
};

/* Latency histograms: the local nameserver's answers, peers' answers and
 * every lookup answered to a client, end to end. */
enum stats_hist {
	STATS_H_TOTAL,
	STATS_H_LOCAL,
	STATS_H_PEER,
	STATS_NHISTS
};

/* The DNS stub listener's queries: transport, query type, rcode sent. */
enum stats_dns_transport { STATS_DNS_UDP, STATS_DNS_TCP, STATS_DNS_NTRANSPORTS };
#define STATS_DNS_NQTYPES 11 /* A AAAA PTR MX TXT SRV NS SOA CNAME ANY other */
#define STATS_DNS_NRCODES 7  /* NOERROR .. REFUSED, other */

#define STATS_NSTATUS (CODNS_UNAVAIL + 1)
#define STATS_NSOURCES (CODNS_SRC_STALE + 1)
/* Finite histogram buckets, 50 us .. 60 s (stats_bucket_bound()); one
 * more counts everything above. */
#define STATS_NBUCKETS 20
#define STATS_TOP_MAX 256 /* entries of the top-names table */
#define STATS_HOURS 24

struct stats;
struct report_buf; /* report.h */

struct stats_top_entry {
	char name[PROTO_NAME_MAX + 1];
	uint64_t count; /* an upper bound on the true count */
	uint64_t error; /* count - error is a lower bound */
};

struct stats_hour {
	uint64_t start_ms; /* wall-clock start of the hour; 0 for no data */
	uint64_t lookups;
	uint64_t peer;   /* answered by a peer */
	uint64_t slow;   /* slower than 1 s end to end */
};

struct stats *stats_new(void);
void stats_free(struct stats *);
/* The wall clock (ms since the epoch) for per-hour counts; the default
 * is CLOCK_REALTIME. Tests pass a fake one. */
void stats_set_clock(struct stats *, uint64_t (*clock)(void));

void stats_count(struct stats *, enum stats_counter);
void stats_add(struct stats *, enum stats_counter, uint64_t);
uint64_t stats_get(const struct stats *, enum stats_counter);
const char *stats_counter_name(enum stats_counter);

/* A lookup answered to a client (not a peer): its request, the answer as
 * sent (status, source) and the end-to-end latency. */
void stats_lookup(struct stats *, const struct proto_request *,
    const struct proto_answer *, uint32_t latency_us);
/* A local nameserver answer or a peer answer, with its latency. */
void stats_local(struct stats *, uint8_t status, uint32_t latency_us);
void stats_peer(struct stats *, uint8_t status, uint32_t latency_us);

/* A stub listener response sent (rcode as in the header, extended rcodes
 * count as other). */
void stats_dns(struct stats *, enum stats_dns_transport, uint16_t qtype,
    uint8_t rcode);
uint64_t stats_dns_by_transport(const struct stats *,
    enum stats_dns_transport);
uint64_t stats_dns_by_qtype(const struct stats *, uint16_t qtype);
uint64_t stats_dns_by_rcode(const struct stats *, uint8_t rcode);

/* Readers, for ctl.c and the tests. */
uint64_t stats_lookups(const struct stats *);
uint64_t stats_by_qtype(const struct stats *, enum stats_qtype);
uint64_t stats_by_status(const struct stats *, uint8_t status);
uint64_t stats_by_source(const struct stats *, uint8_t source);
const char *stats_qtype_name(enum stats_qtype);
const char *stats_status_name(uint8_t); /* "found", "notfound", ... */
const char *stats_source_name(uint8_t); /* "none", "cache", ... */
/* Upper bound of finite bucket i, in microseconds. */
uint32_t stats_bucket_bound(size_t i);
/* Which bucket a latency falls in (STATS_NBUCKETS for above the last). */
size_t stats_bucket_of(uint32_t latency_us);
uint64_t stats_hist_count(const struct stats *, enum stats_hist);
uint64_t stats_hist_sum_us(const struct stats *, enum stats_hist);
uint64_t stats_hist_bucket(const struct stats *, enum stats_hist, size_t);
/* Quantile q (0 < q <= 1) in microseconds, interpolated inside its
 * bucket and clamped to the smallest and largest sample; 0 if empty. */
uint32_t stats_hist_quantile(const struct stats *, enum stats_hist,
    double q);
/* The top-names table sorted by count, most first; returns how many. */
size_t stats_top(const struct stats *, struct stats_top_entry *, size_t max);
/* out[0] is the current hour, out[i] i hours ago. */
void stats_hours(const struct stats *, struct stats_hour out[STATS_HOURS]);

/* codnsctl stats, top (at most n names) and metrics bodies. */
void stats_render(const struct stats *, struct report_buf *, int json);
void stats_render_top(const struct stats *, struct report_buf *, int json,
    size_t n);
void stats_render_metrics(const struct stats *, struct report_buf *);
/* The # HELP and # TYPE lines of Prometheus metric codns_NAME. */
void stats_metric_head(struct report_buf *, const char *name,
    const char *type, const char *help);

#endif
