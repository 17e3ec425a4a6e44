/* SPDX-License-Identifier: MIT */
/* codnsd/core/upstream_ptr.c: reverse lookups, PTR answers via dnsmsg. */
#include "upstream_int.h"

#include <stdio.h>
#include <string.h>

#include "dnsmsg.h"
#include "log.h"

/* in-addr.arpa / ip6.arpa name of an address (RFC 1035 3.5, RFC 3596 2.5) */
static void
upstream_ptr_name(const struct proto_request *r, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *a = r->addr;
	size_t off = 0;
	int i;

	if (r->family == CODNS_AF_INET) {
		snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
		return;
	}
	for (i = 15; i >= 0 && off + 4 < len; i--) {
		out[off++] = hex[a[i] & 0xf];
		out[off++] = '.';
		out[off++] = hex[a[i] >> 4];
		out[off++] = '.';
	}
	snprintf(out + off, len - off, "ip6.arpa");
}

/*
 * The PTR answer through dnsmsg, as glibc's dns module reads it: the
 * first PTR record owned by the reverse name asked (or by the target of a
 * CNAME on the way, RFC 2317), and only a name glibc would give
 * (res_hnok). Others are left out, as glibc does (c-ares' parser would
 * name the last one and make the others aliases). Returns the CODNS
 * status: a name refused or a malformed answer is no data, as glibc gives
 * no name either; no answer at all is try-again.
 */
static uint8_t
upstream_ptr_parse(struct upstream_query *q, const unsigned char *abuf,
    int alen, struct proto_answer *a)
{
	struct dnsmsg_name qname;
	char ptr[80];

	upstream_ptr_name(&q->req, ptr, sizeof(ptr));
	if (abuf == NULL || alen <= 0 ||
	    dnsmsg_name_from_text(ptr, &qname) == -1)
		return CODNS_TRYAGAIN;
	switch (dnsmsg_ptr_answer(abuf, (size_t)alen, &qname, a->cname,
	    sizeof(a->cname), &a->ttl)) {
	case 1:
		return CODNS_FOUND;
	case 0:
		return CODNS_NODATA;
	default:
		log_debug("PTR answer for %s refused", ptr);
		return CODNS_NODATA;
	}
}

static void
upstream_ptr_cb(void *arg, int status, int timeouts, unsigned char *abuf,
    int alen)
{
	struct upstream_query *q = arg;
	struct proto_answer a;
	const uint8_t *flat;
	size_t flatlen;
	uint8_t rcode;
	char ptr[80];

	memset(&a, 0, sizeof(a));
	a.status = upstream_status(status);
	q->refused = upstream_refused(status);
	upstream_ptr_name(&q->req, ptr, sizeof(ptr));
	if (abuf != NULL && alen > 0 &&
	    upstream_flatten(q->chan->up, ptr, DNSMSG_T_PTR, abuf,
		(size_t)alen, &flat, &flatlen, &rcode) == 0)
		upstream_soa_seen(q, flat, flatlen, NULL);
	if (status == ARES_SUCCESS)
		a.status = upstream_ptr_parse(q, abuf, alen, &a);
	if (a.status == CODNS_FOUND) {
		a.naddrs = 1;
		a.addrs[0].family = q->req.family;
		memcpy(a.addrs[0].a, q->req.addr,
		    proto_addr_len(q->req.family));
	} else {
		a.cname[0] = '\0';
		a.naliases = 0;
	}
	upstream_finish(q, &a, status);
}

/* Ask the PTR record of q->req's address. */
void
upstream_ptr_start(struct upstream_query *q)
{
	char ptr[80];

	upstream_ptr_name(&q->req, ptr, sizeof(ptr));
	ares_query(q->chan->ch, ptr, 1 /* C_IN */, 12 /* T_PTR */,
	    upstream_ptr_cb, q);
}
