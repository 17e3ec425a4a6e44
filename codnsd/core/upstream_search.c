/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_search.c: forward lookups, res_search()'s walk. */
#include "upstream_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/*
 * An answer of c-ares' getaddrinfo. The canonical name is the end of the
 * CNAME chain, or else the name that was asked (search domain included),
 * as glibc's h_name and ai_canonname are.
 */
static void
upstream_ai_answer(struct upstream_query *q, struct ares_addrinfo *ai,
    struct proto_answer *a)
{
	struct ares_addrinfo_node *n;
	struct ares_addrinfo_cname *cn;
	uint32_t ttl = UINT32_MAX;

	snprintf(a->cname, sizeof(a->cname), "%s", q->cands[q->cand]);
	for (cn = ai->cnames; cn != NULL; cn = cn->next) {
		if (cn->ttl >= 0 && (uint32_t)cn->ttl < ttl)
			ttl = (uint32_t)cn->ttl;
		if (cn->name != NULL && strlen(cn->name) <= PROTO_NAME_MAX)
			snprintf(a->cname, sizeof(a->cname), "%s", cn->name);
	}
	for (cn = ai->cnames; cn != NULL; cn = cn->next)
		if (cn->alias != NULL)
			upstream_add_alias(q, a, cn->alias);
	for (n = ai->nodes; n != NULL; n = n->ai_next) {
		if (n->ai_ttl >= 0 && (uint32_t)n->ai_ttl < ttl)
			ttl = (uint32_t)n->ai_ttl;
		if (n->ai_family == AF_INET)
			upstream_add_addr(q, a, AF_INET,
			    &((struct sockaddr_in *)(void *)n->ai_addr)
				 ->sin_addr);
		else if (n->ai_family == AF_INET6)
			upstream_add_addr(q, a, AF_INET6,
			    &((struct sockaddr_in6 *)(void *)n->ai_addr)
				 ->sin6_addr);
	}
	a->ttl = ttl == UINT32_MAX ? 0 : ttl;
	if (a->naddrs == 0)
		a->status = CODNS_NODATA;
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

static void
upstream_ai_cb(void *arg, int status, int timeouts,
    struct ares_addrinfo *ai)
{
	struct upstream_query *q = arg;
	struct proto_answer a;

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	q->refused = upstream_refused(status);
	if (status == ARES_SUCCESS && ai != NULL)
		upstream_ai_answer(q, ai, &a);
	if (ai != NULL)
		ares_freeaddrinfo(ai);
	if (a.status != CODNS_FOUND && upstream_search_next(q, status, &a))
		return;
	upstream_finish(q, &a, status);
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

static void
upstream_ask_name(struct upstream_query *q)
{
	struct ares_addrinfo_hints hints;
	char buf[PROTO_QNAME_MAX + 1];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = q->req.family == CODNS_AF_INET ? AF_INET :
	    q->req.family == CODNS_AF_INET6		 ? AF_INET6 :
							   AF_UNSPEC;
	hints.ai_flags = ARES_AI_CANONNAME | ARES_AI_NOSORT;
	ares_getaddrinfo(q->chan->ch,
	    upstream_wire_name(q->cands[q->cand], buf, sizeof(buf)), NULL,
	    &hints, upstream_ai_cb, q);
}

/* Start res_search()'s walk for q->req (forward). */
void
upstream_search_start(struct upstream_query *q)
{
	struct proto_answer a;

	q->first_status = -1;
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
