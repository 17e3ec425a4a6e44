/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream.h: local resolution through c-ares driven by libev. */
#ifndef CODNSD_UPSTREAM_H
#define CODNSD_UPSTREAM_H

#include <ev.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"

struct upstream;
struct upstream_query;

/* Called once per query that was not cancelled, with status FOUND,
 * NOTFOUND, NODATA or TRYAGAIN (SERVFAIL, refused, timeout). A FOUND
 * answer's TTL is the least TTL of the records it was made of; a NOTFOUND
 * or NODATA answer's is the negative TTL of the SOA that came with it
 * (RFC 2308 section 5: the least of its TTL and MINIMUM), or
 * UPSTREAM_NEG_TTL_NONE when none came. Its source is CODNS_SRC_LOCAL, or
 * CODNS_SRC_CACHE when no question was asked (every one answered from a
 * kept response, upstream_find_cb). */
typedef void upstream_cb(void *arg, const struct proto_answer *);
#define UPSTREAM_NEG_TTL_NONE UINT32_MAX

/*
 * Every response the lookups receive (one per question, A, AAAA or PTR),
 * whole: the question's name (text, no final dot), its type, the rcode
 * and the records flattened by dnsmsg_response_flatten(), valid during
 * the call. So the DNS stub sends a negative answer with the SOA of the
 * response that decided it, without asking again.
 */
typedef void upstream_keep_cb(void *arg, const char *name, uint16_t qtype,
    uint8_t rcode, const uint8_t *flat, size_t len);
/*
 * And the way back: before the search walk asks a question (name, qtype)
 * it looks for a response kept: 1 with *out filled (flat valid during the
 * call), 0 when the question must be asked. So every question is asked
 * once per TTL whatever front end, family or search walk needs it.
 */
struct upstream_kept {
	uint8_t rcode;
	const uint8_t *flat;
	size_t len;
	uint32_t age_s;  /* taken off every TTL */
	uint32_t left_s; /* and no TTL above this */
};
typedef int upstream_find_cb(void *arg, const char *name, uint16_t qtype,
    struct upstream_kept *out);
void upstream_on_response(struct upstream *, upstream_keep_cb *,
    upstream_find_cb *, void *);

struct upstream_health {
	uint32_t mean_ms;       /* smoothed response time of answered queries */
	uint32_t fail_permille; /* smoothed share of failed queries */
	uint64_t nsset_id;      /* identity of the nameserver set */
	uint64_t queries;
	uint64_t failures;
	uint64_t last_ms; /* monotonic ms of the last completed query */
	char servers[256]; /* "1.2.3.4:53,..." */
};

struct stats;

struct upstream *upstream_new(struct ev_loop *, const struct conf *);
/* Where answers cut to the protocol's caps are counted. */
void upstream_set_stats(struct upstream *, struct stats *);
void upstream_free(struct upstream *);
/* Apply a new configuration and re-read resolv.conf; queries in flight
 * finish on the old channel. 1 when the resolver changed (other
 * nameservers or search list: cached answers may be stale), 0 when not,
 * -1 on failure. */
int upstream_configure(struct upstream *, const struct conf *);
/*
 * The same in two steps, for a reload that must apply whole or not at
 * all: prepare re-reads resolv.conf and builds what c needs without
 * touching the running resolver (-1 when it cannot be built), commit puts
 * it in place and cannot fail (1 when the resolver changed, as
 * upstream_configure), discard frees one not committed. Both NULL-safe.
 */
struct upstream_staged;
int upstream_prepare(struct upstream *, const struct conf *c,
    struct upstream_staged **out);
int upstream_commit(struct upstream *, struct upstream_staged *,
    const struct conf *c);
void upstream_discard(struct upstream_staged *);
/* Called from the loop when resolv.conf changed the resolver by itself. */
typedef void upstream_change_cb(void *arg);
void upstream_on_change(struct upstream *, upstream_change_cb *, void *);
/* The names a forward lookup of name tries, in order, as
 * resolvconf_candidates() (at most max; returns how many). */
size_t upstream_candidates(const struct upstream *, const char *name,
    char out[][PROTO_NAME_MAX + 1], size_t max);
/* The identity of what answers: the nameservers, the search list and
 * ndots (a cache kept across a restart is for the same one only). */
uint64_t upstream_resolver_id(const struct upstream *);
/* Whether a relative name may be tried with a search domain (resolv.conf
 * has a search list or a domain): then "name" and "name." may differ. */
int upstream_searches(const struct upstream *);
/* The whole-lookup deadline for req (NULL: one query): lookup-timeout, or
 * else what glibc would wait with resolv.conf's timeout and attempts over
 * the nameservers in use, for each name of its search walk. */
uint32_t upstream_lookup_timeout_ms(const struct upstream *,
    const struct proto_request *req);

struct upstream_query *upstream_resolve(struct upstream *,
    const struct proto_request *, upstream_cb *, void *arg);
/*
 * Send a whole DNS query message (the stub listener's other query types)
 * to the nameservers with ares_send(); c-ares retries over TCP when the
 * answer is truncated. The callback gets the response message, or NULL
 * when none came (timeout, SERVFAIL, REFUSED from every server). Never
 * called before this returns.
 */
typedef void upstream_raw_cb(void *arg, const uint8_t *msg, size_t len);
struct upstream_query *upstream_send_raw(struct upstream *, const uint8_t *,
    size_t, upstream_raw_cb *, void *arg);
/* The callback will not be called; c-ares finishes the query unseen. */
void upstream_cancel(struct upstream_query *);
const struct upstream_health *upstream_health(const struct upstream *);
/* Ask the nameservers something cheap ("codns-probe.invalid. A", a name no
 * server serves) so the health figures stay true when there is no
 * traffic; any DNS reply, REFUSED and NXDOMAIN included, counts as
 * alive; only silence or an unreachable port as failing. */
void upstream_probe(struct upstream *);
/* Probe on its own after idle_ms of silence (while peers use the health
 * figures, that is while a peers file is loaded); 0 turns it off. */
void upstream_probe_idle(struct upstream *, uint32_t idle_ms);

#endif
