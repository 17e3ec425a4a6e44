/* SPDX-License-Identifier: MIT */
/* libcodns/dnsmsg.c: DNS message codec (RFC 1035, RFC 6891) for the stub. */
#include "dnsmsg.h"

#include <string.h>

#define DNSMSG_PTR_MAX 0x3fff /* a 14-bit compression offset */

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

int
dnsmsg_name_get(const uint8_t *msg, size_t msglen, struct buf *b,
    struct dnsmsg_name *out)
{
	struct buf jump, *r = b;
	size_t bound = b->pos;
	uint8_t l, lo;
	uint16_t target;

	out->len = 0;
	for (;;) {
		if (buf_get_u8(r, &l) == -1)
			return -1;
		if ((l & 0xc0) == 0xc0) {
			/* RFC 1035 4.1.4. A pointer must go strictly before
			 * the start of the piece of name that holds it, so
			 * targets fall at every jump: no loop is possible. */
			if (buf_get_u8(r, &lo) == -1)
				return -1;
			target = (uint16_t)((l & 0x3f) << 8 | lo);
			if (target >= bound)
				return -1;
			bound = target;
			buf_init_read(&jump, msg, msglen);
			if (buf_skip(&jump, target) == -1)
				return -1;
			r = &jump;
			continue;
		}
		if (l & 0xc0) /* 0x40 and 0x80: no longer defined */
			return -1;
		if ((size_t)out->len + 1 + l > DNSMSG_NAME_MAX)
			return -1;
		out->b[out->len++] = l;
		if (l == 0)
			return 0;
		if (buf_get_bytes(r, out->b + out->len, l) == -1)
			return -1;
		out->len += l;
	}
}

int
dnsmsg_name_text(const struct dnsmsg_name *n, char *out, size_t outlen)
{
	struct buf b;
	uint8_t l, label[63];
	size_t off = 0, i;

	buf_init_read(&b, n->b, n->len);
	for (;;) {
		if (buf_get_u8(&b, &l) == -1 || l > sizeof(label))
			return -1;
		if (l == 0)
			break;
		if (buf_get_bytes(&b, label, l) == -1)
			return -1;
		/* Only what a host name may hold: c-ares would read a
		 * backslash as an escape and a dot as a separator. */
		for (i = 0; i < l; i++)
			if (label[i] <= ' ' || label[i] > '~' ||
			    label[i] == '.' || label[i] == '\\')
				return -1;
		if (off + (off ? 1 : 0) + l + 1 > outlen)
			return -1;
		if (off)
			out[off++] = '.';
		memcpy(out + off, label, l);
		off += l;
	}
	if (off == 0)
		return -1;
	out[off] = '\0';
	return 0;
}

int
dnsmsg_name_from_text(const char *s, struct dnsmsg_name *n)
{
	struct buf b;
	size_t l;

	buf_init_write(&b, n->b, sizeof(n->b));
	if (s[0] == '.' && s[1] == '\0')
		s++;
	while (*s != '\0') {
		l = strcspn(s, ".");
		if (l == 0 || l > 63)
			return -1;
		buf_put_u8(&b, (uint8_t)l);
		buf_put_bytes(&b, s, l);
		s += l;
		if (*s == '.')
			s++;
	}
	if (buf_put_u8(&b, 0) == -1)
		return -1;
	n->len = (uint8_t)b.pos;
	return 0;
}

int
dnsmsg_name_equal(const struct dnsmsg_name *a, const struct dnsmsg_name *b)
{
	size_t i;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++)
		if (lower(a->b[i]) != lower(b->b[i]))
			return 0;
	return 1;
}

/* Split into labels: up to max, each as (offset, length) into n->b. */
static size_t
name_labels(const struct dnsmsg_name *n, uint8_t *off, uint8_t *len,
    size_t max)
{
	struct buf b;
	uint8_t l;
	size_t k = 0;

	buf_init_read(&b, n->b, n->len);
	while (buf_get_u8(&b, &l) == 0 && l != 0) {
		if (k == max)
			return 0;
		off[k] = (uint8_t)b.pos;
		len[k++] = l;
		if (buf_skip(&b, l) == -1)
			return 0;
	}
	return k;
}

static int
label_is(const struct dnsmsg_name *n, uint8_t off, uint8_t len,
    const char *s)
{
	size_t i;

	if (strlen(s) != len)
		return 0;
	for (i = 0; i < len; i++)
		if (lower(n->b[off + i]) != (uint8_t)s[i])
			return 0;
	return 1;
}

static int
hexval(uint8_t c)
{
	c = lower(c);
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t
dnsmsg_name_reverse(const struct dnsmsg_name *n, uint8_t out[16])
{
	uint8_t off[34], len[34];
	size_t k, i, j;
	unsigned v;
	int h;

	k = name_labels(n, off, len, 34);
	if (k == 6 && label_is(n, off[4], len[4], "in-addr") &&
	    label_is(n, off[5], len[5], "arpa")) {
		for (i = 0; i < 4; i++) {
			if (len[i] < 1 || len[i] > 3)
				return 0;
			for (v = 0, j = 0; j < len[i]; j++) {
				if (n->b[off[i] + j] < '0' ||
				    n->b[off[i] + j] > '9')
					return 0;
				v = v * 10 + (unsigned)(n->b[off[i] + j] - '0');
			}
			if (v > 255)
				return 0;
			out[3 - i] = (uint8_t)v;
		}
		return 4;
	}
	if (k == 34 && label_is(n, off[32], len[32], "ip6") &&
	    label_is(n, off[33], len[33], "arpa")) {
		memset(out, 0, 16);
		for (i = 0; i < 32; i++) {
			if (len[i] != 1 || (h = hexval(n->b[off[i]])) < 0)
				return 0;
			out[15 - i / 2] |= (uint8_t)(i % 2 ? h << 4 : h);
		}
		return 16;
	}
	return 0;
}

/* Read one record's fixed part (type, class, TTL, RDATA), which follows
 * its owner name both on the wire and in the flat form. */
static int
rr_fixed_get(struct buf *b, struct dnsmsg_rr *rr)
{
	if (buf_get_u16(b, &rr->type) == -1 ||
	    buf_get_u16(b, &rr->rclass) == -1 ||
	    buf_get_u32(b, &rr->ttl) == -1 ||
	    buf_get_u16(b, &rr->rdlen) == -1 ||
	    buf_get_ref(b, &rr->rdata, rr->rdlen) == -1)
		return -1;
	return 0;
}

/* Read one record: its owner name, then its fixed part. */
static int
rr_get(const uint8_t *msg, size_t len, struct buf *b, struct dnsmsg_rr *rr)
{
	if (dnsmsg_name_get(msg, len, b, &rr->name) == -1 ||
	    rr_fixed_get(b, rr) == -1)
		return -1;
	return 0;
}

int
dnsmsg_name_hostok(const struct dnsmsg_name *n)
{
	size_t i = 0, j;
	uint8_t l, c;

	while (i < n->len && (l = n->b[i]) != 0) {
		if (i == 0 && n->b[1] == '-')
			return 0;
		if (i + 1 + l > n->len)
			return 0;
		for (j = i + 1; j <= i + l; j++) {
			c = n->b[j];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') || c == '-' || c == '_'))
				return 0;
		}
		i += 1 + (size_t)l;
	}
	return i < n->len;
}

/* The name in a record's rdata, which must end where the rdata does. */
static int
rdata_name(const uint8_t *msg, size_t len, const struct dnsmsg_rr *rr,
    struct dnsmsg_name *n)
{
	struct buf rd;
	size_t at = (size_t)(rr->rdata - msg);

	buf_init_read(&rd, msg, at + rr->rdlen);
	buf_skip(&rd, at);
	if (dnsmsg_name_get(msg, len, &rd, n) == -1 || !buf_ok(&rd) ||
	    buf_remaining(&rd) != 0)
		return -1;
	return 0;
}

/* Past the header and the question: the answer count. */
static int
skip_question(const uint8_t *p, size_t len, struct buf *b, uint16_t *an)
{
	struct dnsmsg_name qn;
	uint16_t qd, i;

	buf_skip(b, 4);
	buf_get_u16(b, &qd);
	buf_get_u16(b, an);
	buf_skip(b, 4);
	if (!buf_ok(b))
		return -1;
	for (i = 0; i < qd; i++)
		if (dnsmsg_name_get(p, len, b, &qn) == -1 || buf_skip(b, 4) == -1)
			return -1;
	return 0;
}

int
dnsmsg_ptr_answer(const void *p, size_t len, const struct dnsmsg_name *qname,
    char *out, size_t outlen, uint32_t *ttl)
{
	struct dnsmsg_name expect = *qname, target;
	struct dnsmsg_rr rr;
	struct buf b;
	uint16_t an, i;

	*ttl = UINT32_MAX;
	buf_init_read(&b, p, len);
	if (skip_question(p, len, &b, &an) == -1)
		return -1;
	for (i = 0; i < an; i++) {
		if (rr_get(p, len, &b, &rr) == -1)
			return -1;
		if (rr.rclass != DNSMSG_C_IN ||
		    (rr.type != DNSMSG_T_CNAME && rr.type != DNSMSG_T_PTR))
			continue;
		if (rr.ttl < *ttl)
			*ttl = rr.ttl;
		/* glibc follows a CNAME whoever owns it. */
		if (rr.type == DNSMSG_T_CNAME) {
			if (rdata_name(p, len, &rr, &expect) == -1)
				return -1;
			continue;
		}
		if (!dnsmsg_name_equal(&rr.name, &expect))
			continue;
		if (rdata_name(p, len, &rr, &target) == -1 ||
		    !dnsmsg_name_hostok(&target) ||
		    dnsmsg_name_text(&target, out, outlen) == -1)
			return -1;
		return 1;
	}
	return 0;
}

/* The EDNS OPT record (RFC 6891 section 6.1): options are checked for
 * their framing only; none is acted on. */
static int
opt_get(struct dnsmsg_query *q, const struct dnsmsg_rr *rr)
{
	struct buf b;
	uint16_t code, olen;

	if (q->edns || rr->name.len != 1)
		return -1;
	buf_init_read(&b, rr->rdata, rr->rdlen);
	while (buf_remaining(&b) > 0)
		if (buf_get_u16(&b, &code) == -1 ||
		    buf_get_u16(&b, &olen) == -1 || buf_skip(&b, olen) == -1)
			return -1;
	q->edns = 1;
	q->edns_size = rr->rclass < DNSMSG_UDP_MIN ? DNSMSG_UDP_MIN : rr->rclass;
	q->edns_version = (uint8_t)(rr->ttl >> 16);
	q->edns_flags = (uint16_t)rr->ttl;
	return 0;
}

int
dnsmsg_query_decode(const void *p, size_t len, struct dnsmsg_query *q)
{
	struct buf b;
	struct dnsmsg_rr rr;
	uint16_t qd, an, ns, ar, i;

	memset(q, 0, sizeof(*q));
	buf_init_read(&b, p, len);
	buf_get_u16(&b, &q->id);
	buf_get_u16(&b, &q->flags);
	buf_get_u16(&b, &qd);
	buf_get_u16(&b, &an);
	buf_get_u16(&b, &ns);
	buf_get_u16(&b, &ar);
	if (!buf_ok(&b) || (q->flags & DNSMSG_F_QR))
		return -1;
	if (qd == 1 && dnsmsg_name_get(p, len, &b, &q->qname) == 0 &&
	    buf_get_u16(&b, &q->qtype) == 0 && buf_get_u16(&b, &q->qclass) == 0)
		q->has_question = 1;
	if ((q->flags & DNSMSG_F_OPCODE) != 0)
		return DNSMSG_NOTIMP;
	/* RFC 9619: a query holds exactly one question. */
	if (!q->has_question || an != 0 || ns != 0)
		return DNSMSG_FORMERR;
	for (i = 0; i < ar; i++) {
		if (rr_get(p, len, &b, &rr) == -1)
			return DNSMSG_FORMERR;
		if (rr.type == DNSMSG_T_OPT && opt_get(q, &rr) == -1)
			return DNSMSG_FORMERR;
	}
	if (q->qtype == DNSMSG_T_OPT)
		return DNSMSG_FORMERR;
	if (q->edns && q->edns_version != 0)
		return DNSMSG_BADVERS;
	return DNSMSG_NOERROR;
}

/* Copy one name from rdata (compressed against msg) into the flat form. */
static int
flat_name(const uint8_t *msg, size_t len, struct buf *rd, struct buf *out)
{
	struct dnsmsg_name n;

	if (dnsmsg_name_get(msg, len, rd, &n) == -1)
		return -1;
	return buf_put_bytes(out, n.b, n.len);
}

/* The rdata of rr, with the names of the types that may compress them
 * (RFC 1035 section 3.3) expanded. rd reads the message up to the end of
 * the rdata, so a name cannot run over it. */
static int
flat_rdata(const uint8_t *msg, size_t len, const struct dnsmsg_rr *rr,
    size_t rdoff, struct buf *out)
{
	struct buf rd;
	uint16_t pref;

	buf_init_read(&rd, msg, rdoff + rr->rdlen);
	buf_skip(&rd, rdoff);
	switch (rr->type) {
	case DNSMSG_T_NS:
	case DNSMSG_T_CNAME:
	case DNSMSG_T_PTR:
		if (flat_name(msg, len, &rd, out) == -1)
			return -1;
		break;
	case DNSMSG_T_MX:
		if (buf_get_u16(&rd, &pref) == -1 ||
		    buf_put_u16(out, pref) == -1 ||
		    flat_name(msg, len, &rd, out) == -1)
			return -1;
		break;
	case DNSMSG_T_SOA:
		if (flat_name(msg, len, &rd, out) == -1 ||
		    flat_name(msg, len, &rd, out) == -1)
			return -1;
		return buf_remaining(&rd) == 20 ?
		    buf_put_bytes(out, rr->rdata + rr->rdlen - 20, 20) :
		    -1;
	default:
		return buf_put_bytes(out, rr->rdata, rr->rdlen);
	}
	/* A name that fails (a bad pointer, a name running past its record)
	 * fails the whole message: a record cut short is never kept. */
	return buf_ok(&rd) && buf_ok(out) && buf_remaining(&rd) == 0 ? 0 : -1;
}

int
dnsmsg_response_flatten(const void *p, size_t len, struct buf *out,
    uint16_t *flags, uint8_t *rcode)
{
	struct buf b, fix;
	struct dnsmsg_rr rr;
	struct dnsmsg_name qn;
	uint16_t id, counts[4], qt, qc;
	size_t i, sec, rdpos;
	int n = 0;

	buf_init_read(&b, p, len);
	buf_get_u16(&b, &id);
	buf_get_u16(&b, flags);
	for (i = 0; i < 4; i++)
		buf_get_u16(&b, &counts[i]);
	if (!buf_ok(&b))
		return -1;
	*rcode = (uint8_t)(*flags & DNSMSG_F_RCODE);
	for (i = 0; i < counts[0]; i++)
		if (dnsmsg_name_get(p, len, &b, &qn) == -1 ||
		    buf_get_u16(&b, &qt) == -1 || buf_get_u16(&b, &qc) == -1)
			return -1;
	for (sec = 0; sec < 3; sec++) {
		for (i = 0; i < counts[sec + 1]; i++) {
			if (rr_get(p, len, &b, &rr) == -1)
				return -1;
			if (rr.type == DNSMSG_T_OPT)
				continue;
			buf_put_u8(out, (uint8_t)sec);
			buf_put_u8(out, rr.name.len);
			buf_put_bytes(out, rr.name.b, rr.name.len);
			buf_put_u16(out, rr.type);
			buf_put_u16(out, rr.rclass);
			buf_put_u32(out, rr.ttl);
			buf_put_u16(out, 0);
			rdpos = out->pos;
			if (!buf_ok(out) ||
			    flat_rdata(p, len, &rr, b.pos - rr.rdlen, out) == -1 ||
			    out->pos - rdpos > UINT16_MAX)
				return -1;
			buf_init_write(&fix, out->data, rdpos);
			buf_skip(&fix, rdpos - 2);
			buf_put_u16(&fix, (uint16_t)(out->pos - rdpos));
			n++;
		}
	}
	return n;
}

int
dnsmsg_flat_next(struct buf *b, struct dnsmsg_rr *rr)
{
	if (buf_remaining(b) == 0)
		return 0;
	if (buf_get_u8(b, &rr->section) == -1 || rr->section > DNSMSG_AR ||
	    buf_get_u8(b, &rr->name.len) == -1 || rr->name.len == 0 ||
	    buf_get_bytes(b, rr->name.b, rr->name.len) == -1 ||
	    rr_fixed_get(b, rr) == -1)
		return -1;
	return 1;
}

void
dnsmsg_writer_init(struct dnsmsg_writer *w, void *p, size_t cap,
    size_t limit, int reserve_opt)
{
	if (limit > cap)
		limit = cap;
	w->limit = limit;
	buf_init_write(&w->b, p,
	    reserve_opt && limit >= DNSMSG_OPT_LEN ? limit - DNSMSG_OPT_LEN :
						     limit);
	memset(w->counts, 0, sizeof(w->counts));
	w->ncomp = 0;
}

int
dnsmsg_put_header(struct dnsmsg_writer *w, uint16_t id, uint16_t flags)
{
	buf_put_u16(&w->b, id);
	buf_put_u16(&w->b, flags);
	buf_put_u32(&w->b, 0);
	return buf_put_u32(&w->b, 0);
}

/* Write a name, pointing at the longest suffix already written (RFC 1035
 * section 4.1.4), and remember the suffixes written out in full. */
static int
put_name(struct dnsmsg_writer *w, const struct dnsmsg_name *n)
{
	struct dnsmsg_name lc;
	size_t i = 0, j, k, rest;

	lc.len = n->len;
	for (j = 0; j < n->len; j++)
		lc.b[j] = lower(n->b[j]);
	while (i < lc.len && lc.b[i] != 0) {
		rest = lc.len - i;
		for (k = 0; k < w->ncomp; k++)
			if (w->comp[k].name.len == rest &&
			    memcmp(w->comp[k].name.b, lc.b + i, rest) == 0)
				return buf_put_u16(&w->b,
				    (uint16_t)(0xc000 | w->comp[k].off));
		if (w->ncomp < DNSMSG_COMP_MAX && w->b.pos <= DNSMSG_PTR_MAX) {
			w->comp[w->ncomp].off = (uint16_t)w->b.pos;
			w->comp[w->ncomp].name.len = (uint8_t)rest;
			memcpy(w->comp[w->ncomp].name.b, lc.b + i, rest);
			w->ncomp++;
		}
		if (buf_put_bytes(&w->b, n->b + i, 1 + (size_t)lc.b[i]) == -1)
			return -1;
		i += 1 + (size_t)lc.b[i];
	}
	return buf_put_u8(&w->b, 0);
}

int
dnsmsg_put_question(struct dnsmsg_writer *w, const struct dnsmsg_name *n,
    uint16_t qtype, uint16_t qclass)
{
	put_name(w, n);
	buf_put_u16(&w->b, qtype);
	if (buf_put_u16(&w->b, qclass) == -1)
		return -1;
	w->counts[0]++;
	return 0;
}

int
dnsmsg_put_rr(struct dnsmsg_writer *w, const struct dnsmsg_rr *rr)
{
	struct dnsmsg_name target;
	struct buf rd, fix;
	size_t pos = w->b.pos, ncomp = w->ncomp, rdpos;

	put_name(w, &rr->name);
	buf_put_u16(&w->b, rr->type);
	buf_put_u16(&w->b, rr->rclass);
	buf_put_u32(&w->b, rr->ttl);
	buf_put_u16(&w->b, rr->rdlen);
	rdpos = w->b.pos;
	buf_init_read(&rd, rr->rdata, rr->rdlen);
	if ((rr->type == DNSMSG_T_CNAME || rr->type == DNSMSG_T_PTR ||
		rr->type == DNSMSG_T_NS) &&
	    dnsmsg_name_get(rr->rdata, rr->rdlen, &rd, &target) == 0 &&
	    buf_remaining(&rd) == 0) {
		put_name(w, &target);
		buf_init_write(&fix, w->b.data, rdpos);
		buf_skip(&fix, rdpos - 2);
		buf_put_u16(&fix, (uint16_t)(w->b.pos - rdpos));
	} else
		buf_put_bytes(&w->b, rr->rdata, rr->rdlen);
	if (!buf_ok(&w->b) || rr->section > DNSMSG_AR) {
		w->b.pos = pos;
		w->b.failed = 0;
		w->ncomp = ncomp;
		return -1;
	}
	w->counts[1 + rr->section]++;
	return 0;
}

int
dnsmsg_put_opt(struct dnsmsg_writer *w, uint16_t size, uint8_t ext_rcode,
    uint16_t flags)
{
	w->b.len = w->limit;
	buf_put_u8(&w->b, 0);
	buf_put_u16(&w->b, DNSMSG_T_OPT);
	buf_put_u16(&w->b, size);
	buf_put_u8(&w->b, ext_rcode);
	buf_put_u8(&w->b, 0);
	buf_put_u16(&w->b, flags);
	if (buf_put_u16(&w->b, 0) == -1)
		return -1;
	w->counts[3]++;
	return 0;
}

size_t
dnsmsg_finish(struct dnsmsg_writer *w, uint8_t rcode)
{
	struct buf h;
	uint16_t flags;
	size_t i;

	if (w->b.pos < DNSMSG_HDR_LEN)
		return 0;
	buf_init_read(&h, w->b.data, DNSMSG_HDR_LEN);
	buf_skip(&h, 2);
	buf_get_u16(&h, &flags);
	flags = (uint16_t)((flags & ~DNSMSG_F_RCODE) | (rcode & 0xf));
	buf_init_write(&h, w->b.data, DNSMSG_HDR_LEN);
	buf_skip(&h, 2);
	buf_put_u16(&h, flags);
	for (i = 0; i < 4; i++)
		buf_put_u16(&h, w->counts[i]);
	return w->b.pos;
}

const char *
dnsmsg_type_str(uint16_t t)
{
	switch (t) {
	case DNSMSG_T_A:
		return "A";
	case DNSMSG_T_NS:
		return "NS";
	case DNSMSG_T_CNAME:
		return "CNAME";
	case DNSMSG_T_SOA:
		return "SOA";
	case DNSMSG_T_PTR:
		return "PTR";
	case DNSMSG_T_MX:
		return "MX";
	case DNSMSG_T_TXT:
		return "TXT";
	case DNSMSG_T_AAAA:
		return "AAAA";
	case DNSMSG_T_SRV:
		return "SRV";
	case DNSMSG_T_ANY:
		return "ANY";
	default:
		return "other";
	}
}

int
dnsmsg_rr_read(const uint8_t *msg, size_t len, struct buf *b,
    struct dnsmsg_rr *rr)
{
	return rr_get(msg, len, b, rr);
}

uint32_t
dnsmsg_soa_negttl(const struct dnsmsg_rr *rr)
{
	struct buf rd;
	struct dnsmsg_name mname;
	uint32_t minimum;

	buf_init_read(&rd, rr->rdata, rr->rdlen);
	if (rr->type == DNSMSG_T_SOA &&
	    dnsmsg_name_get(rr->rdata, rr->rdlen, &rd, &mname) == 0 &&
	    dnsmsg_name_get(rr->rdata, rr->rdlen, &rd, &mname) == 0 &&
	    buf_skip(&rd, 16) == 0 && buf_get_u32(&rd, &minimum) == 0)
		return minimum < rr->ttl ? minimum : rr->ttl;
	return UINT32_MAX;
}
