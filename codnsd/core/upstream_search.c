/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_search.c: forward lookups, res_search()'s walk. */
#include "upstream_int.h"

#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dnsmsg.h"
#include "stats.h"

static void
upstream_add_alias(struct upstream_query *q, struct proto_answer *a,
    const char *name)
{
	size_t i;

	if (strlen(name) > PROTO_NAME_MAX || !proto_name_valid(name) ||
	    strcasecmp(name, a->cname) == 0)
		return;
	for (i = 0; i < a->naliases; i++)
		if (strcasecmp(a->aliases[i], name) == 0)
			return;
	if (a->naliases < PROTO_ALIASES_MAX)
		strcpy(a->aliases[a->naliases++], name);
	else
		q->truncated = 1;
}

static void
upstream_add_addr(struct upstream_query *q, struct proto_answer *a,
    int family, const void *p)
{
	struct proto_addr pa;
	size_t i;

	memset(&pa, 0, sizeof(pa));
	pa.family = family == AF_INET ? CODNS_AF_INET : CODNS_AF_INET6;
	memcpy(pa.a, p, proto_addr_len(pa.family));
	for (i = 0; i < a->naddrs; i++)
		if (memcmp(&a->addrs[i], &pa, sizeof(pa)) == 0)
			return;
	if (a->naddrs < PROTO_ADDRS_MAX)
		a->addrs[a->naddrs++] = pa;
	else
		q->truncated = 1;
}

static void upstream_ask_name(struct upstream_query *);

#define UPSTREAM_CHAIN_MAX 16 /* CNAME links followed in one answer */

/* The target of a CNAME record (its data uncompressed, as flat). */
static int
upstream_cname_target(const struct dnsmsg_rr *rr, struct dnsmsg_name *out)
{
	struct buf rd;

	buf_init_read(&rd, rr->rdata, rr->rdlen);
	return dnsmsg_name_get(rr->rdata, rr->rdlen, &rd, out);
}

/* The CNAME owned by *cur in the answer section: 1 with *cur its target,
 * its owner in *owner and its TTL taken into *ttl; 0 when there is none. */
static int
upstream_chain_step(const uint8_t *flat, size_t len, struct dnsmsg_name *cur,
    struct dnsmsg_name *owner, uint32_t *ttl)
{
	struct buf b;
	struct dnsmsg_rr rr;

	buf_init_read(&b, flat, len);
	while (dnsmsg_flat_next(&b, &rr) == 1) {
		if (rr.section != DNSMSG_AN || rr.type != DNSMSG_T_CNAME ||
		    rr.rclass != DNSMSG_C_IN || !dnsmsg_name_equal(&rr.name, cur))
			continue;
		*owner = rr.name;
		if (upstream_cname_target(&rr, cur) == -1)
			return 0;
		if (rr.ttl < *ttl)
			*ttl = rr.ttl;
		return 1;
	}
	return 0;
}

/*
 * One response's part of the answer, read as c-ares' getaddrinfo reads
 * it: the CNAME chain from the name asked, whose owners become aliases
 * and whose end is the canonical name; the addresses owned by that end;
 * the least TTL of the records used; and, for the negative case, the
 * SOA's negative TTL.
 */
static void
upstream_part_read(struct upstream_query *q, const uint8_t *flat, size_t len,
    const struct upstream_kept *k)
{
	struct proto_answer *a = &q->acc;
	struct dnsmsg_name cur, owners[UPSTREAM_CHAIN_MAX];
	struct dnsmsg_rr rr;
	struct buf b;
	char text[PROTO_NAME_MAX + 2];
	uint32_t ttl = UINT32_MAX;
	size_t n = 0, i;

	if (dnsmsg_name_from_text(q->cands[q->cand], &cur) == -1)
		return;
	while (n < UPSTREAM_CHAIN_MAX &&
	    upstream_chain_step(flat, len, &cur, &owners[n], &ttl))
		n++;
	if (n > 0 && dnsmsg_name_text(&cur, text, sizeof(text)) == 0 &&
	    strlen(text) <= PROTO_NAME_MAX)
		snprintf(a->cname, sizeof(a->cname), "%s", text);
	for (i = 0; i < n; i++)
		if (dnsmsg_name_text(&owners[i], text, sizeof(text)) == 0)
			upstream_add_alias(q, a, text);
	buf_init_read(&b, flat, len);
	while (dnsmsg_flat_next(&b, &rr) == 1) {
		if (rr.section != DNSMSG_AN || rr.rclass != DNSMSG_C_IN ||
		    !dnsmsg_name_equal(&rr.name, &cur))
			continue;
		if (rr.type == DNSMSG_T_A && rr.rdlen == 4)
			upstream_add_addr(q, a, AF_INET, rr.rdata);
		else if (rr.type == DNSMSG_T_AAAA && rr.rdlen == 16)
			upstream_add_addr(q, a, AF_INET6, rr.rdata);
		else
			continue;
		if (rr.ttl < ttl)
			ttl = rr.ttl;
	}
	ttl = upstream_kept_ttl(k, ttl);
	if (a->naddrs > 0 && ttl < q->acc_ttl)
		q->acc_ttl = ttl;
	upstream_soa_seen(q, flat, len, k);
}

/*
 * One name of the search list failed: ask the next, as glibc's
 * res_search() does, or settle the status it would give. 1 when a next
 * name was asked. NXDOMAIN, NODATA and SERVFAIL go on; a timeout or a
 * refusal by the nameserver stops the walk with try-again.
 */
static int
upstream_search_next(struct upstream_query *q, int status,
    struct proto_answer *a)
{
	if (q->cand == 0 && q->as_is_first)
		q->first_status = a->status;
	if (a->status == CODNS_NODATA)
		q->got_nodata = 1;
	if (status == ARES_ESERVFAIL)
		q->got_servfail = 1;
	else if (a->status == CODNS_TRYAGAIN)
		return 0;
	if (q->cand + 1 < q->ncands) {
		q->cand++;
		upstream_ask_name(q);
		return 1;
	}
	if (q->ncands < 2)
		return 0;
	/* res_search(): the as-is name's error if it was tried first, else
	 * "no data" if any name had some, else a server failure. */
	if (q->first_status != -1)
		a->status = (uint8_t)q->first_status;
	else if (q->got_nodata)
		a->status = CODNS_NODATA;
	else if (q->got_servfail)
		a->status = CODNS_TRYAGAIN;
	return 0;
}

/* What the name's parts say together: addresses from either are found;
 * else a name that does not exist, a failure, or no data. */
static int
upstream_cand_status(const struct upstream_query *q)
{
	uint8_t i;

	if (q->acc.naddrs > 0)
		return ARES_SUCCESS;
	for (i = 0; i < q->nparts; i++)
		if (q->parts[i].status == ARES_ENOTFOUND)
			return ARES_ENOTFOUND;
	for (i = 0; i < q->nparts; i++)
		if (q->parts[i].status != ARES_SUCCESS &&
		    q->parts[i].status != ARES_ENODATA)
			return q->parts[i].status;
	return ARES_ENODATA;
}

/* Every part of the name is in: the answer, or the next name. */
static void
upstream_cand_done(struct upstream_query *q)
{
	struct proto_answer a;
	int status = upstream_cand_status(q);

	a = q->acc;
	a.status = upstream_status(status);
	q->refused = upstream_refused(status);
	if (a.status == CODNS_FOUND) {
		if (a.cname[0] == '\0')
			snprintf(a.cname, sizeof(a.cname), "%s",
			    q->cands[q->cand]);
		a.ttl = q->acc_ttl;
	} else {
		a.cname[0] = '\0';
		a.naliases = 0;
		if (upstream_search_next(q, status, &a))
			return;
	}
	upstream_finish(q, &a, status);
}

/* One part's response (k: kept, else just received), then the name's
 * answer if it was the last part. */
static void
upstream_part_done(struct upstream_part *p, int status, const uint8_t *flat,
    size_t flatlen, uint8_t rcode, const struct upstream_kept *k)
{
	struct upstream_query *q = p->q;
	size_t before = q->acc.naddrs;

	p->status = status;
	if (flat != NULL &&
	    (rcode == DNSMSG_NOERROR || rcode == DNSMSG_NXDOMAIN)) {
		upstream_part_read(q, flat, flatlen, k);
		/* Records, but none of the addresses asked (a CNAME chain
		 * that ends elsewhere): no data, as getaddrinfo says. */
		if (status == ARES_SUCCESS && q->acc.naddrs == before)
			p->status = ARES_ENODATA;
	}
	if (--q->waiting == 0)
		upstream_cand_done(q);
}

/* The question's hash: its name without case (RFC 4343) and its type,
 * under the daemon's own key (clients choose the names). */
static uint32_t
upstream_ask_hash(const struct upstream *up, const char *name,
    uint16_t qtype)
{
	char lc[PROTO_NAME_MAX + 3];
	size_t n;

	for (n = 0; name[n] != '\0' && n < PROTO_NAME_MAX + 1; n++)
		lc[n] = (char)tolower((unsigned char)name[n]);
	lc[n++] = (char)(qtype >> 8);
	lc[n++] = (char)qtype;
	return (uint32_t)namehash(&up->ask_key, lc, n);
}

static struct upstream_ask *
upstream_ask_find(struct upstream_chan *chan, const char *name,
    uint16_t qtype, uint32_t hash)
{
	struct upstream_ask *k;

	LIST_FOREACH(k, &chan->asks[hash % UPSTREAM_ASK_BUCKETS], entry)
		if (k->hash == hash && k->qtype == qtype &&
		    strcasecmp(k->name, name) == 0)
			return k;
	return NULL;
}

/*
 * The response to a question on the wire, for every part waiting on it:
 * flattened and kept once (upstream_flatten()), then a copy of its own
 * handed to each part in turn, since a part's walk may go on to its
 * next name, and answer its caller, before the next part is served.
 */
static void
upstream_ask_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_ask *k = arg;
	struct upstream_part *p;
	const uint8_t *flat = NULL;
	uint8_t *copy = NULL;
	size_t flatlen = 0;
	uint8_t rcode = 0;

	(void)timeouts;
	LIST_REMOVE(k, entry);
	if (abuf != NULL && alen > 0 &&
	    upstream_flatten(k->chan->up, k->name, k->qtype, abuf,
		(size_t)alen, &flat, &flatlen, &rcode) == 0) {
		if ((copy = malloc(flatlen > 0 ? flatlen : 1)) != NULL)
			memcpy(copy, flat, flatlen);
		else
			status = ARES_ENOMEM; /* not an answer: try again */
	}
	while ((p = LIST_FIRST(&k->parts)) != NULL) {
		LIST_REMOVE(p, asked);
		upstream_part_done(p, status, copy, flatlen, rcode, NULL);
	}
	free(copy);
	free(k);
}

/*
 * Ask the part's question, or wait for the same question already on the
 * wire for another walk: one upstream query per question in flight,
 * whichever lookups (families, front ends, names as asked) need it.
 */
static void
upstream_part_ask(struct upstream_part *p, const char *wire)
{
	struct upstream_query *q = p->q;
	struct upstream_chan *chan = q->chan;
	const char *name = q->cands[q->cand];
	uint32_t hash = upstream_ask_hash(chan->up, name, p->qtype);
	struct upstream_ask *k;

	if ((k = upstream_ask_find(chan, name, p->qtype, hash)) != NULL) {
		if (chan->up->stats != NULL)
			stats_count(chan->up->stats, STATS_QUESTIONS_JOINED);
		LIST_INSERT_HEAD(&k->parts, p, asked);
		return;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		upstream_part_done(p, ARES_ENOMEM, NULL, 0, 0, NULL);
		return;
	}
	k->chan = chan;
	k->hash = hash;
	k->qtype = p->qtype;
	snprintf(k->name, sizeof(k->name), "%s", name);
	LIST_INIT(&k->parts);
	LIST_INSERT_HEAD(&k->parts, p, asked);
	LIST_INSERT_HEAD(&chan->asks[hash % UPSTREAM_ASK_BUCKETS], k, entry);
	ares_query(chan->ch, wire, DNSMSG_C_IN, p->qtype, upstream_ask_cb, k);
}

/* The part's question answered from a response kept (upstream_find_cb):
 * 1 when it was, and is done. */
static int
upstream_part_kept(struct upstream_part *p)
{
	struct upstream_query *q = p->q;
	struct upstream *up = q->chan->up;
	struct upstream_kept k;
	int status;

	if (up->find_cb == NULL ||
	    !up->find_cb(up->keep_arg, q->cands[q->cand], p->qtype, &k) ||
	    (k.rcode != DNSMSG_NOERROR && k.rcode != DNSMSG_NXDOMAIN))
		return 0;
	if (up->stats != NULL)
		stats_count(up->stats, STATS_QUESTIONS_KEPT);
	status = k.rcode == DNSMSG_NXDOMAIN ? ARES_ENOTFOUND : ARES_SUCCESS;
	upstream_part_done(p, status, k.flat, k.len, k.rcode, &k);
	return 1;
}

/*
 * c-ares 1.18's getaddrinfo does not send "localhost" or "*.localhost"
 * (RFC 6761 section 6.3) and reports that as "could not contact DNS
 * servers". glibc's dns module does ask its nameservers, so codnsd does
 * too: the same name with the root's dot is not caught by c-ares' test.
 */
static const char *
upstream_wire_name(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	if (strcmp(name, "localhost") != 0 &&
	    (n < 10 || strcmp(name + n - 10, ".localhost") != 0))
		return name;
	snprintf(buf, len, "%s.", name);
	return buf;
}

/* Ask the current name of the walk: A, AAAA or both, one question
 * each, as glibc's dns module does. */
static void
upstream_ask_name(struct upstream_query *q)
{
	char buf[PROTO_QNAME_MAX + 1];
	const char *name;
	unsigned gen;
	uint8_t i;
	int was;

	memset(&q->acc, 0, sizeof(q->acc));
	q->acc_ttl = UINT32_MAX;
	q->nparts = 0;
	if (q->req.family != CODNS_AF_INET6)
		q->parts[q->nparts++].qtype = DNSMSG_T_A;
	if (q->req.family != CODNS_AF_INET)
		q->parts[q->nparts++].qtype = DNSMSG_T_AAAA;
	q->waiting = q->nparts;
	name = upstream_wire_name(q->cands[q->cand], buf, sizeof(buf));
	/* A part may be answered at once (a bad name): all are counted
	 * as waiting before the first is asked. */
	for (i = 0; i < q->nparts; i++) {
		q->parts[i].q = q;
		q->parts[i].status = ARES_ENODATA;
	}
	/*
	 * A question whose response is kept is not asked again. A part done
	 * at once (kept, or refused by c-ares) may finish the name and start
	 * the next one, whose parts replace these: the loop stops there. And
	 * the query may end: while starting, its answer waits for the loop
	 * (upstream_finish()), so q stays valid until this returns.
	 */
	gen = ++q->gen;
	was = q->starting;
	q->starting = 1;
	for (i = 0; i < q->nparts && q->gen == gen; i++) {
		if (upstream_part_kept(&q->parts[i]))
			continue;
		q->offline = 0;
		upstream_part_ask(&q->parts[i], name);
	}
	q->starting = was;
}

/* Start res_search()'s walk for q->req (forward). */
void
upstream_search_start(struct upstream_query *q)
{
	struct proto_answer a;

	q->first_status = -1;
	q->offline = 1;
	q->ncands = (uint8_t)resolvconf_candidates(&q->chan->up->rc,
	    q->req.name, q->cands, UPSTREAM_CANDS_MAX, &q->as_is_first);
	if (q->ncands > 0) {
		upstream_ask_name(q);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.status = CODNS_NOTFOUND;
	q->refused = 1;
	upstream_finish(q, &a, ARES_ENONAME);
}
