/* SPDX-License-Identifier: MIT */
/* codnsd/core/stats.c: counters, latency histograms and top names. */
#include "stats.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "clock.h"
#include "namehash.h"
#include "report.h"

#define HOUR_MS (3600 * 1000ULL)
#define SLOW_US (1000 * 1000U) /* the paper's "lookups over 1 s" */

/*
 * Log-spaced bucket bounds (1-2-5 per decade, then the usual timeouts),
 * as "le" values: a latency equal to a bound falls in that bucket. Fixed,
 * so histograms of different nodes and restarts add up in Prometheus.
 */
static const uint32_t bounds[STATS_NBUCKETS] = {
	50, 100, 200, 500,
	1000, 2000, 5000, 10000, 20000, 50000,
	100000, 200000, 500000, 1000000, 2000000, 5000000,
	10000000, 20000000, 30000000, 60000000,
};

struct hist {
	uint64_t buckets[STATS_NBUCKETS + 1];
	uint64_t count;
	uint64_t sum_us;
	uint32_t min_us, max_us;
};

/*
 * Top names in bounded memory: the space-saving algorithm (Metwally,
 * Agrawal, El Abbadi, "Efficient computation of frequent and top-k
 * elements in data streams", ICDT 2005). STATS_TOP_MAX counters; a name
 * not in a full table takes over the smallest counter, inheriting its
 * count as its error. Every name seen more than N / STATS_TOP_MAX times
 * in a stream of N is in the table, and count - error <= true count <=
 * count. Finding a name is a scan of 256 hashes, cheap next to a lookup.
 */
struct top_entry {
	uint32_t hash;
	uint64_t count, error;
	char name[PROTO_NAME_MAX + 1];
};

struct stats {
	uint64_t (*clock)(void);
	uint64_t counters[STATS_NCOUNTERS];
	uint64_t lookups;
	uint64_t by_qtype[STATS_NQTYPES];
	uint64_t by_source[STATS_NSOURCES];
	uint64_t by_status[STATS_NSTATUS];
	uint64_t local_by_status[STATS_NSTATUS];
	uint64_t peer_by_status[STATS_NSTATUS];
	struct hist hists[STATS_NHISTS];
	uint64_t dns_by_transport[STATS_DNS_NTRANSPORTS];
	uint64_t dns_by_qtype[STATS_DNS_NQTYPES];
	uint64_t dns_by_rcode[STATS_DNS_NRCODES];
	/* Ring indexed by hour since the epoch modulo 24; a slot whose
	 * start is not the hour asked for is stale and reads as zero. */
	struct stats_hour hours[STATS_HOURS];
	size_t ntop;
	struct top_entry top[STATS_TOP_MAX];
};

static const char *const stats_names[STATS_NCOUNTERS] = {
	[STATS_CLIENTS_ACCEPTED] = "clients_accepted",
	[STATS_CLIENTS_REFUSED] = "clients_refused",
	[STATS_CLIENTS_BAD_FRAME] = "clients_bad_frame",
	[STATS_CLIENTS_IDLE] = "clients_idle_closed",
	[STATS_LOOKUPS_COALESCED] = "lookups_coalesced",
	[STATS_LOOKUPS_PREFETCHED] = "lookups_prefetched",
	[STATS_LOOKUPS_OVERLOAD] = "lookups_overload",
	[STATS_LOOKUPS_TIMEOUT] = "lookups_timeout",
	[STATS_ANSWERS_TRUNCATED] = "answers_truncated",
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
	[STATS_HEARTBEATS_RECEIVED] = "heartbeats_received",
	[STATS_PEER_QUERIES_ABANDONED] = "peer_queries_abandoned",
	[STATS_CTL_BAD_REQUEST] = "control_bad_requests",
	[STATS_LOOKUPS_SHARED] = "lookups_shared",
	[STATS_CLIENTS_SLOW] = "clients_slow_closed",
	[STATS_CTL_REFUSED] = "control_clients_refused",
	[STATS_DNS_DROPPED] = "dns_dropped",
	[STATS_DNS_BAD_FRAME] = "dns_tcp_bad_frame",
	[STATS_DNS_TRUNCATED] = "dns_truncated",
	[STATS_DNS_FORWARDED] = "dns_forwarded",
	[STATS_DNS_RAW_HITS] = "dns_forwarded_cache_hits",
	[STATS_DNS_STALE] = "dns_forwarded_stale",
	[STATS_DNS_CLIENTS_REFUSED] = "dns_tcp_refused",
	[STATS_DNS_COALESCED] = "dns_forwarded_coalesced",
	[STATS_DNS_NEGATIVE_BARE] = "dns_negative_bare",
	[STATS_QUESTIONS_KEPT] = "questions_answered_kept",
	[STATS_QUESTIONS_JOINED] = "questions_joined",
	[STATS_NSCD_REQUESTS] = "nscd_requests",
	[STATS_NSCD_MAPS] = "nscd_tables_handed",
	[STATS_NSCD_HOSTS_FILE] = "nscd_hosts_file_answers",
	[STATS_NSCD_PUBLISHED] = "nscd_published",
	[STATS_NSCD_REFUSED] = "nscd_refused",
	[STATS_NSCD_FAILED] = "nscd_failed",
	[STATS_NSCD_TO_NSS] = "nscd_left_to_nss",
	[STATS_NSCD_SELF] = "nscd_self_requests",
	[STATS_NSCD_BAD] = "nscd_bad_requests",
	[STATS_DNS_SLOW] = "dns_tcp_slow_closed",
	[STATS_DNS_RATELIMITED] = "dns_ratelimited",
	[STATS_DNS_SLIPPED] = "dns_ratelimit_slipped",
	[STATS_DNS_ANY] = "dns_any_minimal",
};

static const char *const dns_transport_names[STATS_DNS_NTRANSPORTS] = {
	"udp", "tcp" };
static const uint16_t dns_qtypes[STATS_DNS_NQTYPES - 1] = { 1, 28, 12, 15,
	16, 33, 2, 6, 5, 255 };
static const char *const dns_qtype_names[STATS_DNS_NQTYPES] = { "A",
	"AAAA", "PTR", "MX", "TXT", "SRV", "NS", "SOA", "CNAME", "ANY",
	"other" };
static const char *const dns_rcode_names[STATS_DNS_NRCODES] = { "NOERROR",
	"FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "other" };

static const char *const qtype_names[STATS_NQTYPES] = { "A", "AAAA", "ANY",
	"PTR" };
static const char *const status_names[STATS_NSTATUS] = { "found",
	"notfound", "nodata", "tryagain", "unavail" };
static const char *const source_names[STATS_NSOURCES] = { "none", "cache",
	"local", "peer", "stale" };
static const char *const hist_names[STATS_NHISTS] = { "end_to_end",
	"local", "peer" };

/*
 * The counts by label, described once for both renderings: codnsctl stats
 * (JSON key, text title; dns: inside the "dns" object) and the metrics
 * (name codns_<metric>, help, label). counts: the uint64_t array in
 * struct stats, at off, with n members named by names.
 */
#define COUNTS(m) offsetof(struct stats, m), \
	sizeof(((struct stats *)0)->m) / sizeof(uint64_t)
static const struct stats_family {
	const char *key, *title, *metric, *help, *label;
	const char *const *names;
	size_t off, n;
	int dns;
} families[] = {
	{ "by_type", "by type", "lookups_by_type_total",
	    "Lookups by query type (A, AAAA, ANY for both, PTR).", "type",
	    qtype_names, COUNTS(by_qtype), 0 },
	{ "by_result", "by result", "lookups_by_result_total",
	    "Lookups by the result sent to the client.", "result",
	    status_names, COUNTS(by_status), 0 },
	{ "by_source", "by source", "lookups_by_source_total",
	    "Lookups by what answered them.", "source", source_names,
	    COUNTS(by_source), 0 },
	{ "local_by_result", "local nameserver answers", "local_answers_total",
	    "Local nameserver answers by result.", "result", status_names,
	    COUNTS(local_by_status), 0 },
	{ "peer_by_result", "peer answers", "peer_answers_total",
	    "Peer answers by result.", "result", status_names,
	    COUNTS(peer_by_status), 0 },
	{ "by_transport", "dns stub queries by transport",
	    "dns_queries_by_transport_total",
	    "DNS stub listener queries by transport.", "transport",
	    dns_transport_names, COUNTS(dns_by_transport), 1 },
	{ "by_type", "dns stub queries by type", "dns_queries_by_type_total",
	    "DNS stub listener queries by query type.", "type",
	    dns_qtype_names, COUNTS(dns_by_qtype), 1 },
	{ "by_rcode", "dns stub responses by rcode",
	    "dns_responses_by_rcode_total",
	    "DNS stub listener responses by rcode.", "rcode", dns_rcode_names,
	    COUNTS(dns_by_rcode), 1 },
};
#define NFAMILIES (sizeof(families) / sizeof(families[0]))

static const uint64_t *
family_counts(const struct stats *s, const struct stats_family *f)
{
	return (const uint64_t *)((const char *)s + f->off);
}

/* The families inside (dns 1) or outside (dns 0) the "dns" object. */
static void
report_families(struct report *r, const struct stats *s, int dns)
{
	const struct stats_family *f;

	for (f = families; f < families + NFAMILIES; f++)
		if (f->dns == dns)
			report_counts(r, f->key, f->title, f->names,
			    family_counts(s, f), f->n);
}

struct stats *
stats_new(void)
{
	struct stats *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->clock = clock_wall_ms;
	return s;
}

void
stats_free(struct stats *s)
{
	free(s);
}

void
stats_set_clock(struct stats *s, uint64_t (*clock)(void))
{
	s->clock = clock != NULL ? clock : clock_wall_ms;
}

void
stats_count(struct stats *s, enum stats_counter c)
{
	/* NULL once freed at shutdown: teardown order does not matter. */
	if (s != NULL && c < STATS_NCOUNTERS)
		s->counters[c]++;
}

void
stats_add(struct stats *s, enum stats_counter c, uint64_t n)
{
	if (c < STATS_NCOUNTERS)
		s->counters[c] += n;
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

const char *
stats_qtype_name(enum stats_qtype t)
{
	return t < STATS_NQTYPES ? qtype_names[t] : "?";
}

const char *
stats_status_name(uint8_t st)
{
	return st < STATS_NSTATUS ? status_names[st] : "?";
}

const char *
stats_source_name(uint8_t src)
{
	return src < STATS_NSOURCES ? source_names[src] : "?";
}

uint32_t
stats_bucket_bound(size_t i)
{
	return i < STATS_NBUCKETS ? bounds[i] : UINT32_MAX;
}

size_t
stats_bucket_of(uint32_t us)
{
	size_t lo = 0, hi = STATS_NBUCKETS, mid;

	/* The first bound >= us. */
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (bounds[mid] < us)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
hist_add(struct hist *h, uint32_t us)
{
	h->buckets[stats_bucket_of(us)]++;
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
}

static enum stats_qtype
qtype_of(const struct proto_request *r)
{
	if (r->kind == PROTO_KIND_REVERSE)
		return STATS_QT_PTR;
	if (r->family == CODNS_AF_INET)
		return STATS_QT_A;
	if (r->family == CODNS_AF_INET6)
		return STATS_QT_AAAA;
	return STATS_QT_ANY;
}

static void
top_add(struct stats *s, const char *name)
{
	struct top_entry *e, *min = NULL;
	/* A scan, not a table: the fixed key will do. */
	uint32_t h = (uint32_t)namehash(NULL, name, strlen(name));
	size_t i;

	for (i = 0; i < s->ntop; i++) {
		e = &s->top[i];
		if (e->hash == h && strcmp(e->name, name) == 0) {
			e->count++;
			return;
		}
		if (min == NULL || e->count < min->count)
			min = e;
	}
	if (s->ntop < STATS_TOP_MAX) {
		e = &s->top[s->ntop++];
		e->count = 1;
		e->error = 0;
	} else {
		e = min;
		e->error = e->count;
		e->count++;
	}
	e->hash = h;
	snprintf(e->name, sizeof(e->name), "%s", name);
}

static void
hour_add(struct stats *s, const struct proto_answer *a, uint32_t us)
{
	uint64_t start = s->clock() / HOUR_MS * HOUR_MS;
	struct stats_hour *hr = &s->hours[start / HOUR_MS % STATS_HOURS];

	if (hr->start_ms != start) {
		memset(hr, 0, sizeof(*hr));
		hr->start_ms = start;
	}
	hr->lookups++;
	if (a->source == CODNS_SRC_PEER)
		hr->peer++;
	if (us > SLOW_US)
		hr->slow++;
}

void
stats_lookup(struct stats *s, const struct proto_request *req,
    const struct proto_answer *a, uint32_t latency_us)
{
	char name[PROTO_NAME_MAX + 1];

	s->lookups++;
	s->by_qtype[qtype_of(req)]++;
	if (a->source < STATS_NSOURCES)
		s->by_source[a->source]++;
	if (a->status < STATS_NSTATUS)
		s->by_status[a->status]++;
	hist_add(&s->hists[STATS_H_TOTAL], latency_us);
	hour_add(s, a, latency_us);
	if (req->kind == PROTO_KIND_REVERSE) {
		if (inet_ntop(req->family == CODNS_AF_INET ? AF_INET :
							     AF_INET6,
			req->addr, name, sizeof(name)) == NULL)
			return;
		top_add(s, name);
	} else
		top_add(s, req->name);
}

void
stats_local(struct stats *s, uint8_t status, uint32_t latency_us)
{
	if (status < STATS_NSTATUS)
		s->local_by_status[status]++;
	hist_add(&s->hists[STATS_H_LOCAL], latency_us);
}

void
stats_peer(struct stats *s, uint8_t status, uint32_t latency_us)
{
	if (status < STATS_NSTATUS)
		s->peer_by_status[status]++;
	hist_add(&s->hists[STATS_H_PEER], latency_us);
}

static size_t
dns_qtype_index(uint16_t t)
{
	size_t i;

	for (i = 0; i < STATS_DNS_NQTYPES - 1; i++)
		if (dns_qtypes[i] == t)
			break;
	return i;
}

void
stats_dns(struct stats *s, enum stats_dns_transport tr, uint16_t qtype,
    uint8_t rcode)
{
	if (tr < STATS_DNS_NTRANSPORTS)
		s->dns_by_transport[tr]++;
	s->dns_by_qtype[dns_qtype_index(qtype)]++;
	s->dns_by_rcode[rcode < STATS_DNS_NRCODES - 1 ? rcode :
							STATS_DNS_NRCODES - 1]++;
}

uint64_t
stats_dns_by_transport(const struct stats *s, enum stats_dns_transport tr)
{
	return tr < STATS_DNS_NTRANSPORTS ? s->dns_by_transport[tr] : 0;
}

uint64_t
stats_dns_by_qtype(const struct stats *s, uint16_t qtype)
{
	return s->dns_by_qtype[dns_qtype_index(qtype)];
}

uint64_t
stats_dns_by_rcode(const struct stats *s, uint8_t rcode)
{
	return s->dns_by_rcode[rcode < STATS_DNS_NRCODES - 1 ? rcode :
							       STATS_DNS_NRCODES - 1];
}

uint64_t
stats_lookups(const struct stats *s)
{
	return s->lookups;
}

uint64_t
stats_by_qtype(const struct stats *s, enum stats_qtype t)
{
	return t < STATS_NQTYPES ? s->by_qtype[t] : 0;
}

uint64_t
stats_by_status(const struct stats *s, uint8_t st)
{
	return st < STATS_NSTATUS ? s->by_status[st] : 0;
}

uint64_t
stats_by_source(const struct stats *s, uint8_t src)
{
	return src < STATS_NSOURCES ? s->by_source[src] : 0;
}

uint64_t
stats_hist_count(const struct stats *s, enum stats_hist h)
{
	return h < STATS_NHISTS ? s->hists[h].count : 0;
}

uint64_t
stats_hist_sum_us(const struct stats *s, enum stats_hist h)
{
	return h < STATS_NHISTS ? s->hists[h].sum_us : 0;
}

uint64_t
stats_hist_bucket(const struct stats *s, enum stats_hist h, size_t i)
{
	return h < STATS_NHISTS && i <= STATS_NBUCKETS ?
	    s->hists[h].buckets[i] :
	    0;
}

uint32_t
stats_hist_quantile(const struct stats *s, enum stats_hist which, double q)
{
	const struct hist *h;
	uint64_t rank, cum = 0;
	double lo, hi, v;
	size_t i;

	if (which >= STATS_NHISTS || s->hists[which].count == 0)
		return 0;
	h = &s->hists[which];
	rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (i = 0; i <= STATS_NBUCKETS; i++) {
		if (cum + h->buckets[i] >= rank)
			break;
		cum += h->buckets[i];
	}
	/* Linear inside the bucket; the extremes bound the outer ones. */
	lo = i == 0 ? h->min_us : bounds[i - 1];
	hi = i == STATS_NBUCKETS ? h->max_us : bounds[i];
	v = lo + (hi - lo) * (double)(rank - cum) / (double)h->buckets[i];
	if (v < h->min_us)
		v = h->min_us;
	if (v > h->max_us)
		v = h->max_us;
	return (uint32_t)(v + 0.5);
}

static int
top_cmp(const void *a, const void *b)
{
	const struct stats_top_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return strcmp(x->name, y->name);
}

size_t
stats_top(const struct stats *s, struct stats_top_entry *out, size_t max)
{
	struct stats_top_entry *all;
	size_t i, n;

	if ((all = calloc(STATS_TOP_MAX, sizeof(*all))) == NULL)
		return 0;
	for (i = 0; i < s->ntop; i++) {
		memcpy(all[i].name, s->top[i].name, sizeof(all[i].name));
		all[i].count = s->top[i].count;
		all[i].error = s->top[i].error;
	}
	qsort(all, s->ntop, sizeof(*all), top_cmp);
	n = s->ntop < max ? s->ntop : max;
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}

void
stats_hours(const struct stats *s, struct stats_hour out[STATS_HOURS])
{
	uint64_t now = s->clock() / HOUR_MS * HOUR_MS, start;
	const struct stats_hour *hr;
	size_t i;

	for (i = 0; i < STATS_HOURS; i++) {
		start = now - i * HOUR_MS;
		hr = &s->hours[start / HOUR_MS % STATS_HOURS];
		if (hr->start_ms == start)
			out[i] = *hr;
		else {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].start_ms = start;
		}
	}
}

/* --- renderings --- */

/* Microseconds as seconds without trailing zeros: 50 -> 0.00005. */
static void
put_seconds(struct report_buf *b, uint64_t us)
{
	char frac[8];
	int n;

	if (us % 1000000 == 0) {
		report_printf(b, "%llu", (unsigned long long)(us / 1000000));
		return;
	}
	snprintf(frac, sizeof(frac), "%06llu",
	    (unsigned long long)(us % 1000000));
	for (n = 6; n > 0 && frac[n - 1] == '0'; n--)
		frac[n - 1] = '\0';
	report_printf(b, "%llu.%s", (unsigned long long)(us / 1000000), frac);
}

static const double quantiles[] = { 0.5, 0.9, 0.99, 0.999 };
static const char *const quantile_keys[] = { "p50_us", "p90_us", "p99_us",
	"p99.9_us" };

/* Microseconds: as they are in JSON, in milliseconds in the text. */
static void
put_us(struct report *r, const char *key, uint32_t us)
{
	report_uint(r, key, NULL, us);
	report_text(r, " %9.3f ms", us / 1000.0);
}

void
stats_render(const struct stats *s, struct report_buf *b, int json)
{
	const struct hist *h;
	struct report r;
	size_t i, j;

	report_init(&r, b, json);
	report_open(&r, NULL);
	report_uint(&r, "lookups", "lookups %llu\n",
	    (unsigned long long)s->lookups);
	report_families(&r, s, 0);
	report_open(&r, "latency");
	report_text(&r, "latency      %10s %12s %12s %12s %12s %12s\n",
	    "count", "p50", "p90", "p99", "p99.9", "max");
	for (i = 0; i < STATS_NHISTS; i++) {
		h = &s->hists[i];
		report_open(&r, hist_names[i]);
		report_text(&r, "  %-10s ", hist_names[i]);
		report_uint(&r, "count", "%10llu",
		    (unsigned long long)h->count);
		report_uint(&r, "sum_us", NULL, (unsigned long long)h->sum_us);
		for (j = 0; j < 4; j++)
			put_us(&r, quantile_keys[j],
			    stats_hist_quantile(s, i, quantiles[j]));
		put_us(&r, "max_us", h->max_us);
		report_text(&r, "\n");
		report_close(&r);
	}
	report_close(&r);
	report_open(&r, "dns");
	report_families(&r, s, 1);
	report_close(&r);
	report_counts(&r, "counters", "counters", stats_names, s->counters,
	    STATS_NCOUNTERS);
	report_close(&r);
}

void
stats_render_top(const struct stats *s, struct report_buf *b, int json,
    size_t n)
{
	struct stats_top_entry *top;
	struct stats_hour hours[STATS_HOURS];
	struct report r;
	char when[32];
	struct tm tm;
	time_t t;
	size_t i, ntop;

	if ((top = calloc(STATS_TOP_MAX, sizeof(*top))) == NULL) {
		b->err = 1;
		return;
	}
	ntop = stats_top(s, top, n < STATS_TOP_MAX ? n : STATS_TOP_MAX);
	stats_hours(s, hours);
	report_init(&r, b, json);
	report_open(&r, NULL);
	report_uint(&r, "lookups", "top names (of %llu lookups)\n",
	    (unsigned long long)s->lookups);
	report_text(&r, "  %-40s %10s %10s\n", "NAME", "COUNT", "MAX-ERROR");
	report_open_list(&r, "names");
	for (i = 0; i < ntop; i++) {
		report_open(&r, NULL);
		report_str(&r, "name", "  %-40s", top[i].name);
		report_uint(&r, "count", " %10llu", top[i].count);
		report_uint(&r, "error", " %10llu\n", top[i].error);
		report_close(&r);
	}
	report_close_list(&r);
	report_counts(&r, "types", "query types", qtype_names, s->by_qtype,
	    STATS_NQTYPES);
	report_text(&r, "per hour (UTC)\n  %-17s %10s %10s %10s\n", "HOUR",
	    "LOOKUPS", "PEER", "OVER-1S");
	report_open_list(&r, "hours");
	for (i = 0; i < STATS_HOURS; i++) {
		t = (time_t)(hours[i].start_ms / 1000);
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:00", &tm);
		report_open(&r, NULL);
		report_uint(&r, "start", NULL, hours[i].start_ms / 1000);
		report_text(&r, "  %-17s", when);
		report_uint(&r, "lookups", " %10llu", hours[i].lookups);
		report_uint(&r, "peer", " %10llu", hours[i].peer);
		report_uint(&r, "slow", " %10llu\n", hours[i].slow);
		report_close(&r);
	}
	report_close_list(&r);
	report_close(&r);
	free(top);
}

void
stats_metric_head(struct report_buf *b, const char *name, const char *type,
    const char *help)
{
	report_printf(b, "# HELP codns_%s %s\n# TYPE codns_%s %s\n", name, help,
	    name, type);
}

static void
metric_labelled(struct report_buf *b, const char *name, const char *help,
    const char *label, const char *const *names, const uint64_t *v,
    size_t n)
{
	size_t i;

	stats_metric_head(b, name, "counter", help);
	for (i = 0; i < n; i++)
		report_printf(b, "codns_%s{%s=\"%s\"} %llu\n", name, label,
		    names[i], (unsigned long long)v[i]);
}

static void
metric_hist(const struct stats *s, struct report_buf *b)
{
	const struct hist *h;
	uint64_t cum;
	size_t i, j;

	stats_metric_head(b, "lookup_duration_seconds", "histogram",
	    "Lookup latency: end_to_end to the client, local nameserver, "
	    "peer.");
	for (i = 0; i < STATS_NHISTS; i++) {
		h = &s->hists[i];
		cum = 0;
		for (j = 0; j < STATS_NBUCKETS; j++) {
			cum += h->buckets[j];
			report_printf(b,
			    "codns_lookup_duration_seconds_bucket"
			    "{path=\"%s\",le=\"",
			    hist_names[i]);
			put_seconds(b, bounds[j]);
			report_printf(b, "\"} %llu\n", (unsigned long long)cum);
		}
		report_printf(b,
		    "codns_lookup_duration_seconds_bucket"
		    "{path=\"%s\",le=\"+Inf\"} %llu\n",
		    hist_names[i], (unsigned long long)h->count);
		report_printf(b,
		    "codns_lookup_duration_seconds_sum{path=\"%s\"} ",
		    hist_names[i]);
		put_seconds(b, h->sum_us);
		report_printf(b,
		    "\ncodns_lookup_duration_seconds_count{path=\"%s\"} %llu\n",
		    hist_names[i], (unsigned long long)h->count);
	}
}

void
stats_render_metrics(const struct stats *s, struct report_buf *b)
{
	const struct stats_family *f;
	char name[64], help[96];
	size_t i;

	stats_metric_head(b, "lookups_total", "counter",
	    "Lookups answered to clients.");
	report_printf(b, "codns_lookups_total %llu\n",
	    (unsigned long long)s->lookups);
	for (f = families; f < families + NFAMILIES; f++)
		metric_labelled(b, f->metric, f->help, f->label, f->names,
		    family_counts(s, f), f->n);
	for (i = 0; i < STATS_NCOUNTERS; i++) {
		snprintf(name, sizeof(name), "%s_total", stats_names[i]);
		snprintf(help, sizeof(help), "Event counter %s.",
		    stats_names[i]);
		stats_metric_head(b, name, "counter", help);
		report_printf(b, "codns_%s %llu\n", name,
		    (unsigned long long)s->counters[i]);
	}
	metric_hist(s, b);
}
