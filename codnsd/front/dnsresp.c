/* SPDX-License-Identifier: MIT */
/* codnsd/front/dnsresp.c: the DNS stub's responses, record by record. */
#include "dnsresp.h"

#include <string.h>

#include "fwdcache.h"
#include "proto.h"

void
dnsresp_begin(struct dnsmsg_writer *w, uint8_t *buf, size_t cap,
    const struct dnsmsg_query *m, int tcp, uint16_t extra)
{
	size_t limit = DNSMSG_MSG_MAX;
	uint16_t flags;

	/* RFC 6891 section 6.2.5: the smaller of ours and the client's
	 * payload size; 512 without EDNS (RFC 1035 section 4.2.1). */
	if (!tcp) {
		limit = m->edns ? m->edns_size : DNSMSG_UDP_MIN;
		if (limit > DNSRESP_EDNS_SIZE)
			limit = DNSRESP_EDNS_SIZE;
	}
	dnsmsg_writer_init(w, buf, cap, limit, m->edns);
	/* A recursive service: RA set, RD and CD copied, never AA
	 * (RFC 1035 section 4.1.1, RFC 4035 section 3.2.2). */
	flags = (uint16_t)(DNSMSG_F_QR | DNSMSG_F_RA | extra |
	    (m->flags & (DNSMSG_F_OPCODE | DNSMSG_F_RD | DNSMSG_F_CD)));
	dnsmsg_put_header(w, m->id, flags);
	if (m->has_question)
		dnsmsg_put_question(w, &m->qname, m->qtype, m->qclass);
}

size_t
dnsresp_finish(struct dnsmsg_writer *w, const struct dnsmsg_query *m,
    uint16_t rcode)
{
	/* RFC 6891 section 7: an OPT in the response only if the query
	 * had one; no DNSSEC here, so DO stays clear. */
	if (m->edns)
		dnsmsg_put_opt(w, DNSRESP_EDNS_SIZE, (uint8_t)(rcode >> 4), 0);
	return dnsmsg_finish(w, (uint8_t)(rcode & 0xf));
}

int
dnsresp_put_flat(struct dnsmsg_writer *w, const struct fwdcache_answer *a)
{
	struct buf b;
	struct dnsmsg_rr rr;

	buf_init_read(&b, a->flat, a->len);
	while (dnsmsg_flat_next(&b, &rr) == 1) {
		rr.ttl = rr.ttl > a->age_s ? rr.ttl - a->age_s : 0;
		if (a->stale || rr.ttl > a->max_ttl)
			rr.ttl = a->max_ttl;
		if (dnsmsg_put_rr(w, &rr) == -1) {
			/* RFC 2181 section 9: leaving out additional
			 * data is not truncation. */
			if (rr.section == DNSMSG_AR)
				return 0;
			return -1;
		}
	}
	return 0;
}

/* One answer record. */
static int
dnsresp_put(struct dnsmsg_writer *w, const struct dnsmsg_name *owner,
    uint16_t type, uint32_t ttl, const void *rdata, size_t rdlen)
{
	struct dnsmsg_rr rr;

	memset(&rr, 0, sizeof(rr));
	rr.section = DNSMSG_AN;
	rr.name = *owner;
	rr.type = type;
	rr.rclass = DNSMSG_C_IN;
	rr.ttl = ttl;
	rr.rdlen = (uint16_t)rdlen;
	rr.rdata = rdata;
	return dnsmsg_put_rr(w, &rr);
}

/* For PTR, the names. */
static int
dnsresp_put_ptr(struct dnsmsg_writer *w, const struct dnsmsg_query *m,
    const struct proto_answer *a)
{
	struct dnsmsg_name n;
	size_t i;

	for (i = 0; i <= a->naliases; i++) {
		if (dnsmsg_name_from_text(i == 0 ? a->cname :
						   a->aliases[i - 1],
			&n) == -1)
			continue;
		if (dnsresp_put(w, &m->qname, DNSMSG_T_PTR, a->ttl, n.b,
			n.len) == -1)
			return -1;
	}
	return 0;
}

/*
 * The CNAME chain from the question name to the canonical name (the
 * aliases in the order they were followed), then the addresses of the
 * family asked for at the end of it.
 */
int
dnsresp_put_lookup(struct dnsmsg_writer *w, const struct dnsmsg_query *m,
    const struct proto_answer *a)
{
	struct dnsmsg_name chain[PROTO_ALIASES_MAX + 2], n;
	size_t nchain = 1, i, j;
	uint8_t fam = m->qtype == DNSMSG_T_A ? CODNS_AF_INET : CODNS_AF_INET6;

	if (m->qtype == DNSMSG_T_PTR)
		return dnsresp_put_ptr(w, m, a);
	chain[0] = m->qname;
	for (i = 0; i <= a->naliases && nchain < PROTO_ALIASES_MAX + 2; i++) {
		if (dnsmsg_name_from_text(i < a->naliases ? a->aliases[i] :
							    a->cname,
			&n) == -1)
			continue;
		for (j = 0; j < nchain; j++)
			if (dnsmsg_name_equal(&chain[j], &n))
				break;
		if (j == nchain)
			chain[nchain++] = n;
	}
	for (i = 0; i + 1 < nchain; i++)
		if (dnsresp_put(w, &chain[i], DNSMSG_T_CNAME, a->ttl,
			chain[i + 1].b, chain[i + 1].len) == -1)
			return -1;
	for (i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family == fam &&
		    dnsresp_put(w, &chain[nchain - 1], m->qtype, a->ttl,
			a->addrs[i].a, proto_addr_len(fam)) == -1)
			return -1;
	return 0;
}

/*
 * RFC 8482 section 4.2: ANY gets one synthesized HINFO record, CPU
 * "RFC8482" and an empty OS, so that a small query cannot fetch every
 * record of a name (nor be used to amplify), and no nameserver is asked.
 */
int
dnsresp_put_any(struct dnsmsg_writer *w, const struct dnsmsg_query *m,
    uint32_t ttl)
{
	static const uint8_t hinfo[] = { 7, 'R', 'F', 'C', '8', '4', '8', '2',
		0 };

	return dnsresp_put(w, &m->qname, DNSRESP_T_HINFO, ttl, hinfo,
	    sizeof(hinfo));
}
