/* SPDX-License-Identifier: MIT */
/* codnsd/front/dnsstub.c: the DNS stub listener, for programs that speak DNS. */
#include "dnsstub.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "codnsd.h"
#include "dnsmsg.h"
#include "log.h"
#include "lookup.h"
#include "stats.h"
#include "stream.h"
#include "upstream.h"

#define DNSSTUB_UDP_BURST 64 /* datagrams read per wake-up */
#define DNSSTUB_UDP_VLEN 32  /* datagrams per recvmmsg()/sendmmsg() */
#define DNSSTUB_OUT_HIGH (128 * 1024) /* stop reading above this backlog */
#define DNSSTUB_FLAT_MAX (128 * 1024) /* a flattened response */
#define DNSSTUB_RAW_BUCKETS 4096
#define DNSSTUB_FWD_BUCKETS 256 /* forwarded questions in flight */
#define DNSSTUB_STALE_TTL 30 /* RFC 8767 section 4 */

struct dnsstub_sock {
	struct dnsstub *s;
	ev_io io;
	int fd;
};

/* One query from a client until its response is sent. */
struct dnsstub_query {
	struct dnsstub *s;
	struct dnsstub_conn *conn; /* TCP; NULL for UDP */
	int fd;                    /* UDP socket to answer from */
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct dnsmsg_query m;
	struct lookup_waiter *w;
	struct dnsstub_fwd *fwd; /* the forwarded question it waits for */
	LIST_ENTRY(dnsstub_query) fentry; /* fwd->waiters */
	/* A negative answer of the lookup path waiting for the nameserver's
	 * whole response (its SOA, its CNAMEs): the rcode to send without
	 * them if that fails; -1 for a forwarded question. */
	int neg_rcode;
	LIST_ENTRY(dnsstub_query) entry; /* conn->pending or s->udp_pending */
};

LIST_HEAD(dnsstub_queries, dnsstub_query);

/*
 * A question forwarded to the nameservers and not answered yet. Identical
 * questions (name case-insensitively, type) that come meanwhile wait for
 * the same answer instead of being sent again; each gets its own id and
 * question case back.
 */
struct dnsstub_fwd {
	struct dnsstub *s;
	LIST_ENTRY(dnsstub_fwd) hentry;
	uint64_t hash;
	struct dnsmsg_query m; /* the first query's, for the cache */
	struct dnsmsg_name key; /* lowercased name */
	struct upstream_query *uq;
	struct dnsstub_queries waiters;
};

struct dnsstub_conn {
	struct dnsstub *s;
	struct stream st;
	uint8_t in[2 + DNSSTUB_QUERY_MAX];
	struct dnsstub_queries pending;
	LIST_ENTRY(dnsstub_conn) entry;
};

/*
 * A forwarded answer: key (lowercased question name), then the records as
 * dnsmsg_response_flatten() writes them. TTLs are the ones received;
 * their age is taken off when the entry is served.
 */
struct dnsstub_raw {
	LIST_ENTRY(dnsstub_raw) hentry;
	TAILQ_ENTRY(dnsstub_raw) lru;
	uint64_t hash;
	uint64_t stored_ms, expire_ms;
	uint16_t qtype;
	uint8_t rcode;
	uint8_t keylen;
	size_t bloblen;
	uint8_t data[];
};

struct dnsstub {
	struct codnsd *d;
	struct dnsstub_sock udp[CONF_LISTEN_MAX], tcp[CONF_LISTEN_MAX];
	size_t nsocks;
	struct dnsstub_queries udp_pending;
	LIST_HEAD(, dnsstub_conn) conns;
	struct stream_pool pool; /* TCP connections */
	char addrs[CONF_LISTEN_MAX * ADDR_STRLEN];
	/* Cache of forwarded answers: hash chains and one LRU list. */
	LIST_HEAD(, dnsstub_raw) raw[DNSSTUB_RAW_BUCKETS];
	TAILQ_HEAD(dnsstub_lru, dnsstub_raw) lru; /* most recently used first */
	size_t nraw, rawbytes;
	LIST_HEAD(, dnsstub_fwd) fwd[DNSSTUB_FWD_BUCKETS];
	uint8_t hkey[crypto_shorthash_KEYBYTES];
	/* One batch of datagrams in, and the answers given while it is
	 * read, sent together: on a virtual machine a system call costs
	 * more than answering from the cache. */
	uint8_t in[DNSSTUB_UDP_VLEN][DNSSTUB_QUERY_MAX];
	struct sockaddr_storage in_from[DNSSTUB_UDP_VLEN];
	uint8_t ob[DNSSTUB_UDP_VLEN][DNSSTUB_EDNS_SIZE];
	struct sockaddr_storage ob_to[DNSSTUB_UDP_VLEN];
	struct mmsghdr ob_msg[DNSSTUB_UDP_VLEN];
	struct iovec ob_iov[DNSSTUB_UDP_VLEN];
	int ob_fd;   /* the socket of the batch being read; -1: none */
	size_t nob;
	uint8_t out[DNSMSG_MSG_MAX];  /* one response */
	uint8_t flat[DNSSTUB_FLAT_MAX];
};

static void dnsstub_forward(struct dnsstub_query *);

/* --- cache of forwarded answers ------------------------------------------ */

static uint64_t
dnsstub_raw_hash(const struct dnsstub *s, const struct dnsmsg_name *key,
    uint16_t qtype)
{
	uint8_t in[2 + DNSMSG_NAME_MAX], out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;

	in[0] = (uint8_t)(qtype >> 8);
	in[1] = (uint8_t)qtype;
	memcpy(in + 2, key->b, key->len);
	crypto_shorthash(out, in, 2 + (size_t)key->len, s->hkey);
	for (i = 0; i < sizeof(out); i++)
		h = h << 8 | out[i];
	return h;
}

static void
dnsstub_lower(const struct dnsmsg_name *n, struct dnsmsg_name *lc)
{
	size_t i;

	lc->len = n->len;
	for (i = 0; i < n->len; i++)
		lc->b[i] = n->b[i] >= 'A' && n->b[i] <= 'Z' ?
		    (uint8_t)(n->b[i] + 32) :
		    n->b[i];
}

static struct dnsstub_raw *
dnsstub_raw_find(struct dnsstub *s, const struct dnsmsg_name *key,
    uint16_t qtype, uint64_t hash)
{
	struct dnsstub_raw *e;

	LIST_FOREACH(e, &s->raw[hash % DNSSTUB_RAW_BUCKETS], hentry)
		if (e->hash == hash && e->qtype == qtype &&
		    e->keylen == key->len &&
		    memcmp(e->data, key->b, key->len) == 0)
			break;
	return e;
}

static void
dnsstub_raw_drop(struct dnsstub *s, struct dnsstub_raw *e)
{
	LIST_REMOVE(e, hentry);
	TAILQ_REMOVE(&s->lru, e, lru);
	s->nraw--;
	s->rawbytes -= e->bloblen;
	free(e);
}

/* An entry fresh (stale == 0) or expired less than serve-stale ago. */
static struct dnsstub_raw *
dnsstub_raw_get(struct dnsstub *s, const struct dnsmsg_query *m, int stale)
{
	struct dnsmsg_name key;
	struct dnsstub_raw *e;
	uint64_t now = clock_loop_ms(s->d->loop);
	uint64_t window = (uint64_t)s->d->conf.serve_stale_s * 1000;

	dnsstub_lower(&m->qname, &key);
	e = dnsstub_raw_find(s, &key, m->qtype,
	    dnsstub_raw_hash(s, &key, m->qtype));
	if (e == NULL)
		return NULL;
	if (now >= e->expire_ms && now - e->expire_ms >= window) {
		dnsstub_raw_drop(s, e);
		return NULL;
	}
	if ((now < e->expire_ms) == (stale != 0))
		return NULL;
	if (e != TAILQ_FIRST(&s->lru)) {
		TAILQ_REMOVE(&s->lru, e, lru);
		TAILQ_INSERT_HEAD(&s->lru, e, lru);
	}
	return e;
}

/*
 * How long a forwarded answer may be cached: the smallest TTL of the
 * answer and authority records; for a negative answer the SOA's TTL or
 * MINIMUM, whichever is less (RFC 2308 section 5), and not at all
 * without a SOA. Clamped by cache-min-ttl, cache-max-ttl, negative-ttl.
 */
static uint32_t
dnsstub_raw_ttl(const struct conf *c, uint8_t rcode, const uint8_t *flat,
    size_t len)
{
	struct buf b, rd;
	struct dnsmsg_rr rr;
	struct dnsmsg_name mname;
	uint32_t ttl = UINT32_MAX, neg = UINT32_MAX, minimum;
	int nanswers = 0, r;

	buf_init_read(&b, flat, len);
	while ((r = dnsmsg_flat_next(&b, &rr)) == 1) {
		if (rr.section == DNSMSG_AN)
			nanswers++;
		if (rr.section != DNSMSG_AR && rr.ttl < ttl)
			ttl = rr.ttl;
		if (rr.section == DNSMSG_NS && rr.type == DNSMSG_T_SOA) {
			buf_init_read(&rd, rr.rdata, rr.rdlen);
			if (dnsmsg_name_get(rr.rdata, rr.rdlen, &rd, &mname) ==
				0 &&
			    dnsmsg_name_get(rr.rdata, rr.rdlen, &rd, &mname) ==
				0 &&
			    buf_skip(&rd, 16) == 0 &&
			    buf_get_u32(&rd, &minimum) == 0)
				neg = minimum < rr.ttl ? minimum : rr.ttl;
		}
	}
	if (r == -1)
		return 0;
	if (rcode == DNSMSG_NXDOMAIN || nanswers == 0) {
		if (neg == UINT32_MAX)
			return 0;
		ttl = neg < c->negative_ttl_s ? neg : c->negative_ttl_s;
	}
	if (ttl < c->cache_min_ttl_s)
		ttl = c->cache_min_ttl_s;
	if (ttl > c->cache_max_ttl_s)
		ttl = c->cache_max_ttl_s;
	return ttl;
}

/* Store a forwarded answer; returns its TTL (0: not stored). */
static uint32_t
dnsstub_raw_put(struct dnsstub *s, const struct dnsmsg_query *m,
    uint8_t rcode, const uint8_t *flat, size_t len)
{
	const struct conf *c = &s->d->conf;
	struct dnsmsg_name key;
	struct dnsstub_raw *e;
	uint64_t hash, now = clock_loop_ms(s->d->loop);
	uint32_t ttl;

	if (c->cache_size == 0 || len > DNSSTUB_RAW_BYTES_MAX / 16 ||
	    (rcode != DNSMSG_NOERROR && rcode != DNSMSG_NXDOMAIN))
		return 0;
	dnsstub_lower(&m->qname, &key);
	hash = dnsstub_raw_hash(s, &key, m->qtype);
	if ((e = dnsstub_raw_find(s, &key, m->qtype, hash)) != NULL)
		dnsstub_raw_drop(s, e);
	if ((ttl = dnsstub_raw_ttl(c, rcode, flat, len)) == 0)
		return 0;
	while (!TAILQ_EMPTY(&s->lru) && (s->nraw >= c->cache_size ||
	    s->rawbytes + len > DNSSTUB_RAW_BYTES_MAX))
		dnsstub_raw_drop(s, TAILQ_LAST(&s->lru, dnsstub_lru));
	if ((e = malloc(sizeof(*e) + key.len + len)) == NULL)
		return 0;
	memset(e, 0, sizeof(*e));
	e->hash = hash;
	e->stored_ms = now;
	e->expire_ms = now + (uint64_t)ttl * 1000;
	e->qtype = m->qtype;
	e->rcode = rcode;
	e->keylen = key.len;
	e->bloblen = len;
	memcpy(e->data, key.b, key.len);
	memcpy(e->data + key.len, flat, len);
	LIST_INSERT_HEAD(&s->raw[hash % DNSSTUB_RAW_BUCKETS], e, hentry);
	TAILQ_INSERT_HEAD(&s->lru, e, lru);
	s->nraw++;
	s->rawbytes += len;
	return ttl;
}

size_t
dnsstub_cache_count(const struct dnsstub *s)
{
	return s != NULL ? s->nraw : 0;
}

size_t
dnsstub_flush(struct dnsstub *s, const char *name)
{
	struct dnsmsg_name key, lc;
	struct dnsstub_raw *e, *next;
	size_t n = 0;

	if (s == NULL)
		return 0;
	if (name != NULL && dnsmsg_name_from_text(name, &lc) == -1)
		return 0;
	if (name != NULL)
		dnsstub_lower(&lc, &key);
	for (e = TAILQ_FIRST(&s->lru); e != NULL; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (name == NULL || (e->keylen == key.len &&
		    memcmp(e->data, key.b, key.len) == 0)) {
			dnsstub_raw_drop(s, e);
			n++;
		}
	}
	return n;
}

/* --- responses ------------------------------------------------------------ */

static int
dnsstub_is_tcp(const struct dnsstub_query *q)
{
	return q->conn != NULL;
}

/* Start a response: header and the question as the client wrote it. */
static void
dnsstub_begin(const struct dnsstub_query *q, struct dnsmsg_writer *w,
    uint16_t extra)
{
	const struct dnsmsg_query *m = &q->m;
	size_t limit = DNSMSG_MSG_MAX;
	uint16_t flags;

	/* RFC 6891 section 6.2.5: the smaller of ours and the client's
	 * payload size; 512 without EDNS (RFC 1035 section 4.2.1). */
	if (!dnsstub_is_tcp(q)) {
		limit = m->edns ? m->edns_size : DNSMSG_UDP_MIN;
		if (limit > DNSSTUB_EDNS_SIZE)
			limit = DNSSTUB_EDNS_SIZE;
	}
	dnsmsg_writer_init(w, q->s->out, sizeof(q->s->out), limit, m->edns);
	/* A recursive service: RA set, RD and CD copied, never AA
	 * (RFC 1035 section 4.1.1, RFC 4035 section 3.2.2). */
	flags = (uint16_t)(DNSMSG_F_QR | DNSMSG_F_RA | extra |
	    (m->flags & (DNSMSG_F_OPCODE | DNSMSG_F_RD | DNSMSG_F_CD)));
	dnsmsg_put_header(w, m->id, flags);
	if (m->has_question)
		dnsmsg_put_question(w, &m->qname, m->qtype, m->qclass);
}

/* Send the UDP answers kept while a batch was read; what the socket
 * does not take now is dropped, as sendto() would drop it. */
static void
dnsstub_udp_flush(struct dnsstub *s)
{
	size_t done = 0;
	int n;

	while (done < s->nob) {
		n = sendmmsg(s->ob_fd, s->ob_msg + done,
		    (unsigned int)(s->nob - done), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	s->nob = 0;
}

static void
dnsstub_send(struct dnsstub_query *q, const uint8_t *msg, size_t len)
{
	struct dnsstub *s = q->s;
	struct stream *st;
	struct buf b;
	size_t i;

	if (q->conn == NULL && q->fd == s->ob_fd && len <= sizeof(s->ob[0])) {
		if (s->nob == DNSSTUB_UDP_VLEN)
			dnsstub_udp_flush(s);
		i = s->nob++;
		memcpy(s->ob[i], msg, len);
		memcpy(&s->ob_to[i], &q->from, q->fromlen);
		s->ob_iov[i].iov_base = s->ob[i];
		s->ob_iov[i].iov_len = len;
		memset(&s->ob_msg[i], 0, sizeof(s->ob_msg[i]));
		s->ob_msg[i].msg_hdr.msg_name = &s->ob_to[i];
		s->ob_msg[i].msg_hdr.msg_namelen = q->fromlen;
		s->ob_msg[i].msg_hdr.msg_iov = &s->ob_iov[i];
		s->ob_msg[i].msg_hdr.msg_iovlen = 1;
		return;
	}
	if (q->conn == NULL) {
		(void)sendto(q->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (struct sockaddr *)&q->from, q->fromlen);
		return;
	}
	/* RFC 7766 section 8: a two-byte length, then the message. */
	st = &q->conn->st;
	if (stream_reserve(st, 2 + len) == -1) {
		st->closing = 1;
		return;
	}
	buf_init_write(&b, st->out + st->outlen, st->outcap - st->outlen);
	buf_put_u16(&b, (uint16_t)len);
	buf_put_bytes(&b, msg, len);
	st->outlen += b.pos;
}

/* Close the response (OPT, counts, rcode), send it and count it. */
static void
dnsstub_end(struct dnsstub_query *q, struct dnsmsg_writer *w, uint16_t rcode)
{
	const struct dnsmsg_query *m = &q->m;
	size_t len;

	/* RFC 6891 section 7: an OPT in the response only if the query
	 * had one; no DNSSEC here, so DO stays clear. */
	if (m->edns)
		dnsmsg_put_opt(w, DNSSTUB_EDNS_SIZE, (uint8_t)(rcode >> 4), 0);
	if ((len = dnsmsg_finish(w, (uint8_t)(rcode & 0xf))) == 0)
		return;
	dnsstub_send(q, q->s->out, len);
	stats_dns(q->s->d->stats, dnsstub_is_tcp(q) ? STATS_DNS_TCP :
						      STATS_DNS_UDP,
	    m->qtype, (uint8_t)(rcode > 0xff ? 0xff : rcode));
}

static void
dnsstub_reply_rcode(struct dnsstub_query *q, uint16_t rcode)
{
	struct dnsmsg_writer w;

	dnsstub_begin(q, &w, 0);
	dnsstub_end(q, &w, rcode);
}

/* The answer did not fit the client's UDP payload size: the header and
 * the question with TC, so it asks again over TCP (RFC 7766 section 5). */
static void
dnsstub_truncated(struct dnsstub_query *q, struct dnsmsg_writer *w,
    uint16_t rcode)
{
	stats_count(q->s->d->stats, STATS_DNS_TRUNCATED);
	dnsstub_begin(q, w, DNSMSG_F_TC);
	dnsstub_end(q, w, rcode);
}

/* Unlink from its list and free; the response is sent already. */
static void
dnsstub_query_free(struct dnsstub_query *q)
{
	struct dnsstub_conn *c = q->conn;

	LIST_REMOVE(q, entry);
	if (c != NULL) {
		c->st.npending--;
		stream_update(&c->st);
	}
	free(q);
}

/* Write the records of a flat buffer, TTLs aged by age_s and at most
 * max_ttl (the cache entry's life), or all set to max_ttl when stale;
 * -1 when the answer or authority part did not fit. */
static int
dnsstub_put_flat(struct dnsmsg_writer *w, const uint8_t *flat, size_t len,
    uint32_t age_s, uint32_t max_ttl, int stale)
{
	struct buf b;
	struct dnsmsg_rr rr;

	buf_init_read(&b, flat, len);
	while (dnsmsg_flat_next(&b, &rr) == 1) {
		rr.ttl = rr.ttl > age_s ? rr.ttl - age_s : 0;
		if (stale || rr.ttl > max_ttl)
			rr.ttl = max_ttl;
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

static void
dnsstub_answer_flat(struct dnsstub_query *q, uint8_t rcode,
    const uint8_t *flat, size_t len, uint32_t age_s, uint32_t max_ttl,
    int stale)
{
	struct dnsmsg_writer w;

	dnsstub_begin(q, &w, 0);
	if (dnsstub_put_flat(&w, flat, len, age_s, max_ttl, stale) == -1)
		dnsstub_truncated(q, &w, rcode);
	else
		dnsstub_end(q, &w, rcode);
}

static void
dnsstub_answer_raw(struct dnsstub_query *q, const struct dnsstub_raw *e,
    int stale)
{
	uint64_t now = clock_loop_ms(q->s->d->loop);

	dnsstub_answer_flat(q, e->rcode, e->data + e->keylen, e->bloblen,
	    (uint32_t)((now - e->stored_ms) / 1000),
	    stale ? DNSSTUB_STALE_TTL : (uint32_t)((e->expire_ms - now) / 1000),
	    stale);
}

/* --- A, AAAA and PTR through the lookup path ---------------------------- */

/* A record of the answer built from a proto_answer. */
static int
dnsstub_put(struct dnsmsg_writer *w, const struct dnsmsg_name *owner,
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

/*
 * The CNAME chain from the question name to the canonical name (the
 * aliases in the order they were followed), then the addresses of the
 * family asked for at the end of it; for PTR the names.
 */
static int
dnsstub_put_answer(struct dnsstub_query *q, struct dnsmsg_writer *w,
    const struct proto_answer *a)
{
	struct dnsmsg_name chain[PROTO_ALIASES_MAX + 2], n;
	size_t nchain = 1, i, j;
	uint8_t fam = q->m.qtype == DNSMSG_T_A ? CODNS_AF_INET : CODNS_AF_INET6;

	chain[0] = q->m.qname;
	if (q->m.qtype == DNSMSG_T_PTR) {
		for (i = 0; i <= a->naliases; i++) {
			if (dnsmsg_name_from_text(i == 0 ? a->cname :
							   a->aliases[i - 1],
				&n) == -1)
				continue;
			if (dnsstub_put(w, &chain[0], DNSMSG_T_PTR, a->ttl, n.b,
				n.len) == -1)
				return -1;
		}
		return 0;
	}
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
		if (dnsstub_put(w, &chain[i], DNSMSG_T_CNAME, a->ttl,
			chain[i + 1].b, chain[i + 1].len) == -1)
			return -1;
	for (i = 0; i < a->naddrs; i++)
		if (a->addrs[i].family == fam &&
		    dnsstub_put(w, &chain[nchain - 1], q->m.qtype, a->ttl,
			a->addrs[i].a, proto_addr_len(fam)) == -1)
			return -1;
	return 0;
}

static void
dnsstub_lookup_cb(void *arg, const struct proto_answer *a)
{
	struct dnsstub_query *q = arg;
	struct dnsmsg_writer w;
	struct proto_answer capped;
	uint16_t rcode;

	q->w = NULL;
	/* A fresh answer carries the TTL received; the cache keeps it no
	 * longer than cache-max-ttl, nor should the client. */
	if (a->ttl > q->s->d->conf.cache_max_ttl_s &&
	    a->source != CODNS_SRC_STALE) {
		capped = *a;
		capped.ttl = q->s->d->conf.cache_max_ttl_s;
		a = &capped;
	}
	switch (a->status) {
	case CODNS_FOUND:
	case CODNS_NODATA:
		rcode = DNSMSG_NOERROR;
		break;
	case CODNS_NOTFOUND:
		rcode = DNSMSG_NXDOMAIN;
		break;
	default:
		rcode = DNSMSG_SERVFAIL;
		break;
	}
	/*
	 * A negative answer is sent with what the nameserver said around
	 * it: the SOA (RFC 2308 section 3) and the CNAMEs that led there.
	 * c-ares' getaddrinfo keeps only the status, so the whole response
	 * comes from the forwarding path: from its cache, or asked once
	 * right after the local nameserver answered. An answer from a peer
	 * (the peer protocol carries no SOA), a stale one, or a cached one
	 * whose response is gone is sent bare rather than wait for a
	 * nameserver that may be down.
	 */
	if ((a->status == CODNS_NOTFOUND || a->status == CODNS_NODATA) &&
	    (a->source == CODNS_SRC_LOCAL || a->source == CODNS_SRC_CACHE)) {
		struct dnsstub_raw *e = dnsstub_raw_get(q->s, &q->m, 0);

		if (e != NULL) {
			dnsstub_answer_raw(q, e, 0);
			dnsstub_query_free(q);
			return;
		}
		if (a->source == CODNS_SRC_LOCAL) {
			stats_count(q->s->d->stats, STATS_DNS_NEGATIVE_SOA);
			q->neg_rcode = rcode;
			dnsstub_forward(q);
			return;
		}
	}
	dnsstub_begin(q, &w, 0);
	if (a->status == CODNS_FOUND && dnsstub_put_answer(q, &w, a) == -1)
		dnsstub_truncated(q, &w, rcode);
	else
		dnsstub_end(q, &w, rcode);
	dnsstub_query_free(q);
}

/*
 * The one place that knows lookup_start()'s calling convention: an answer
 * known at once (a cache hit) comes back in an out-parameter, and is
 * answered here; otherwise dnsstub_lookup_cb() comes later.
 */
static void
dnsstub_lookup(struct dnsstub_query *q, const struct proto_request *req)
{
	struct proto_answer now;

	q->w = lookup_start(q->s->d->lookup, req, 0, dnsstub_lookup_cb, q,
	    &now);
	if (q->w == NULL)
		dnsstub_lookup_cb(q, &now);
}

/*
 * The lookup request for an A, AAAA or PTR question, or -1 when the name
 * cannot travel that way (bytes a host name cannot hold, a partial
 * reverse name) and is forwarded as it is. Names get a final dot: a stub
 * query is absolute, never subject to the resolv.conf search list.
 */
static int
dnsstub_request(const struct dnsmsg_query *m, struct proto_request *req)
{
	size_t len;

	memset(req, 0, sizeof(*req));
	if (m->qtype == DNSMSG_T_PTR) {
		req->kind = PROTO_KIND_REVERSE;
		len = dnsmsg_name_reverse(&m->qname, req->addr);
		req->family = len == 4 ? CODNS_AF_INET : CODNS_AF_INET6;
		return len == 0 ? -1 : 0;
	}
	req->kind = PROTO_KIND_FORWARD;
	req->family = m->qtype == DNSMSG_T_A ? CODNS_AF_INET : CODNS_AF_INET6;
	if (dnsmsg_name_text(&m->qname, req->name, sizeof(req->name) - 1) ==
	    -1)
		return -1;
	len = strlen(req->name);
	if (len + 1 > PROTO_NAME_MAX)
		return -1;
	req->name[len] = '.';
	req->name[len + 1] = '\0';
	return proto_name_valid(req->name) ? 0 : -1;
}

/* --- other query types: forwarded ----------------------------------------- */

/* q stops waiting for its forwarded question (its connection closed). */
static void
dnsstub_fwd_leave(struct dnsstub_query *q)
{
	if (q->fwd == NULL)
		return;
	LIST_REMOVE(q, fentry);
	q->fwd = NULL;
}

/* No response came: a negative lookup answer goes out bare; forwarded
 * questions get stale data if there is, else SERVFAIL. */
static void
dnsstub_fwd_failed(struct dnsstub_query *q)
{
	struct dnsstub *s = q->s;
	struct dnsstub_raw *e;

	if (q->neg_rcode >= 0)
		dnsstub_reply_rcode(q, (uint16_t)q->neg_rcode);
	else if ((e = dnsstub_raw_get(s, &q->m, 1)) != NULL) {
		stats_count(s->d->stats, STATS_DNS_STALE);
		dnsstub_answer_raw(q, e, 1);
	} else
		dnsstub_reply_rcode(q, DNSMSG_SERVFAIL);
	dnsstub_query_free(q);
}

static void
dnsstub_raw_cb(void *arg, const uint8_t *msg, size_t len)
{
	struct dnsstub_fwd *f = arg;
	struct dnsstub *s = f->s;
	struct dnsstub_query *q;
	struct buf flat;
	uint16_t flags;
	uint32_t ttl;
	uint8_t rcode;
	int ok;

	f->uq = NULL;
	LIST_REMOVE(f, hentry);
	buf_init_write(&flat, s->flat, sizeof(s->flat));
	ok = msg != NULL &&
	    dnsmsg_response_flatten(msg, len, &flat, &flags, &rcode) != -1;
	if (ok && (ttl = dnsstub_raw_put(s, &f->m, rcode, s->flat,
		       flat.pos)) == 0)
		ttl = s->d->conf.cache_max_ttl_s;
	/* Take each waiter off the list before answering it. */
	while ((q = LIST_FIRST(&f->waiters)) != NULL) {
		dnsstub_fwd_leave(q);
		if (!ok) {
			dnsstub_fwd_failed(q);
			continue;
		}
		dnsstub_answer_flat(q, rcode, s->flat, flat.pos, 0, ttl, 0);
		dnsstub_query_free(q);
	}
	free(f);
}

/*
 * From the cache; else join the same question already sent; else send the
 * question (lowercased, no EDNS: c-ares goes to TCP when the answer is
 * truncated) to the local nameservers, no peers.
 */
static void
dnsstub_forward(struct dnsstub_query *q)
{
	struct dnsstub *s = q->s;
	struct dnsstub_raw *e;
	struct dnsstub_fwd *f;
	struct dnsmsg_writer w;
	struct dnsmsg_name lc;
	uint8_t msg[DNSMSG_UDP_MIN];
	uint64_t hash;
	size_t len;

	if ((e = dnsstub_raw_get(s, &q->m, 0)) != NULL) {
		stats_count(s->d->stats, STATS_DNS_RAW_HITS);
		dnsstub_answer_raw(q, e, 0);
		dnsstub_query_free(q);
		return;
	}
	dnsstub_lower(&q->m.qname, &lc);
	hash = dnsstub_raw_hash(s, &lc, q->m.qtype);
	LIST_FOREACH(f, &s->fwd[hash % DNSSTUB_FWD_BUCKETS], hentry)
		if (f->hash == hash && f->m.qtype == q->m.qtype &&
		    dnsmsg_name_equal(&f->key, &lc))
			break;
	if (f != NULL) {
		stats_count(s->d->stats, STATS_DNS_COALESCED);
		goto wait;
	}
	dnsmsg_writer_init(&w, msg, sizeof(msg), sizeof(msg), 0);
	dnsmsg_put_header(&w, 0, DNSMSG_F_RD);
	dnsmsg_put_question(&w, &lc, q->m.qtype, q->m.qclass);
	len = dnsmsg_finish(&w, 0);
	stats_count(s->d->stats, STATS_DNS_FORWARDED);
	if (len == 0 || (f = calloc(1, sizeof(*f))) == NULL) {
		dnsstub_fwd_failed(q);
		return;
	}
	f->s = s;
	f->hash = hash;
	f->m = q->m;
	f->key = lc;
	if ((f->uq = upstream_send_raw(s->d->upstream, msg, len,
		 dnsstub_raw_cb, f)) == NULL) {
		free(f);
		dnsstub_fwd_failed(q);
		return;
	}
	LIST_INSERT_HEAD(&s->fwd[hash % DNSSTUB_FWD_BUCKETS], f, hentry);
wait:
	q->fwd = f;
	LIST_INSERT_HEAD(&f->waiters, q, fentry);
}

/* --- one query ------------------------------------------------------------ */

/* What this listener does not serve (RFC 8906 section 3: answer them). */
static uint16_t
dnsstub_refuse(const struct dnsmsg_query *m)
{
	if (m->qclass != DNSMSG_C_IN)
		return DNSMSG_REFUSED;
	if (m->qtype == DNSMSG_T_AXFR || m->qtype == DNSMSG_T_IXFR)
		return DNSMSG_REFUSED;
	/* Other meta types (TKEY, TSIG, MAILA, MAILB...), RFC 6895 3.1. */
	if (m->qtype >= 128 && m->qtype != DNSMSG_T_ANY && m->qtype < 256)
		return DNSMSG_NOTIMP;
	return DNSMSG_NOERROR;
}

static void
dnsstub_query(struct dnsstub *s, struct dnsstub_conn *c, int fd,
    const struct sockaddr_storage *from, socklen_t fromlen,
    const uint8_t *msg, size_t len)
{
	struct dnsstub_query *q;
	struct proto_request req;
	int rc;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return;
	q->s = s;
	q->conn = c;
	q->fd = fd;
	q->neg_rcode = -1;
	if (from != NULL) {
		memcpy(&q->from, from, fromlen);
		q->fromlen = fromlen;
	}
	/* Linked first: a cache hit answers and frees it at once. */
	if (c != NULL) {
		LIST_INSERT_HEAD(&c->pending, q, entry);
		c->st.npending++;
	} else
		LIST_INSERT_HEAD(&s->udp_pending, q, entry);
	if ((rc = dnsmsg_query_decode(msg, len, &q->m)) == -1) {
		stats_count(s->d->stats, STATS_DNS_DROPPED);
		dnsstub_query_free(q);
		return;
	}
	if (rc == DNSMSG_NOERROR)
		rc = dnsstub_refuse(&q->m);
	if (rc != DNSMSG_NOERROR) {
		dnsstub_reply_rcode(q, (uint16_t)rc);
		dnsstub_query_free(q);
		return;
	}
	if ((q->m.qtype == DNSMSG_T_A || q->m.qtype == DNSMSG_T_AAAA ||
		q->m.qtype == DNSMSG_T_PTR) &&
	    dnsstub_request(&q->m, &req) == 0)
		dnsstub_lookup(q, &req);
	else
		dnsstub_forward(q);
}

/* --- UDP ------------------------------------------------------------------ */

static void
dnsstub_udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dnsstub_sock *sk = w->data;
	struct dnsstub *s = sk->s;
	struct mmsghdr msg[DNSSTUB_UDP_VLEN];
	struct iovec iov[DNSSTUB_UDP_VLEN];
	int i, n, got = 0;

	(void)loop;
	(void)revents;
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < DNSSTUB_UDP_VLEN; i++) {
		iov[i].iov_base = s->in[i];
		iov[i].iov_len = sizeof(s->in[i]);
		msg[i].msg_hdr.msg_name = &s->in_from[i];
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	/* Answers given while the batch is read (cache hits) go out with
	 * one sendmmsg(); later ones, one by one. */
	s->ob_fd = sk->fd;
	while (got < DNSSTUB_UDP_BURST) {
		/* recvmmsg() overwrites the address lengths. */
		for (i = 0; i < DNSSTUB_UDP_VLEN; i++)
			msg[i].msg_hdr.msg_namelen = sizeof(s->in_from[i]);
		n = recvmmsg(sk->fd, msg, DNSSTUB_UDP_VLEN, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			/* Longer than any query we take over TCP either. */
			if (msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				stats_count(s->d->stats, STATS_DNS_DROPPED);
				continue;
			}
			dnsstub_query(s, NULL, sk->fd, &s->in_from[i],
			    msg[i].msg_hdr.msg_namelen, s->in[i],
			    msg[i].msg_len);
		}
		got += n;
		if (n < DNSSTUB_UDP_VLEN)
			break;
	}
	dnsstub_udp_flush(s);
	s->ob_fd = -1;
}

/* --- TCP (RFC 7766) ------------------------------------------------------- */

static void
dnsstub_conn_free(struct dnsstub_conn *c)
{
	struct dnsstub_query *q;

	while ((q = LIST_FIRST(&c->pending)) != NULL) {
		LIST_REMOVE(q, entry);
		lookup_cancel(q->w);
		dnsstub_fwd_leave(q);
		free(q);
	}
	stream_stop(&c->st);
	LIST_REMOVE(c, entry);
	free(c);
}

/* RFC 7766 section 8: a two-byte length, then the message
 * (stream_ops.peek). A query longer than any a client needs is not worth
 * reading 64 KiB to answer FORMERR: malformed, the connection closes. */
static int
dnsstub_frame_peek(const void *in, size_t len, size_t *framelen)
{
	struct buf b;
	uint16_t flen;

	buf_init_read(&b, in, len);
	if (buf_get_u16(&b, &flen) == -1)
		return 0;
	if (flen == 0 || flen > DNSSTUB_QUERY_MAX)
		return -1;
	if (buf_remaining(&b) < flen)
		return 0;
	*framelen = 2 + (size_t)flen;
	return 1;
}

/* One whole query (stream_ops.request). */
static int
dnsstub_frame(void *arg, const uint8_t *frame, size_t len)
{
	struct dnsstub_conn *c = arg;

	dnsstub_query(c->s, c, c->st.fd, NULL, 0, frame + 2, len - 2);
	return 0;
}

/* A frame it cannot take (stream_ops.bad): the answers owed to the
 * queries before it still go out, then the connection closes. */
static int
dnsstub_bad_frame(void *arg)
{
	struct dnsstub_conn *c = arg;

	stats_count(c->s->d->stats, STATS_DNS_BAD_FRAME);
	return stream_close_soon(&c->st);
}

/* Closed, broken, idle or slow (stream_ops.end). */
static void
dnsstub_conn_end(void *arg, int why)
{
	struct dnsstub_conn *c = arg;

	if (why == STREAM_END_SLOW)
		stats_count(c->s->d->stats, STATS_DNS_SLOW);
	dnsstub_conn_free(c);
}

/* RFC 7766 section 6.2.3: a connection idles out after a silence, and
 * an answer queued keeps it only while the client reads; one that is
 * closing still sends the answers it owes (linger). */
static const struct stream_limits dnsstub_limits = {
	.pipeline_max = DNSSTUB_PIPELINE_MAX,
	.out_high = DNSSTUB_OUT_HIGH,
	.idle_sec = DNSSTUB_IDLE_SEC,
	.frame_sec = DNSSTUB_FRAME_SEC,
	.linger = 1,
	.idle_needs_progress = 1,
};

static const struct stream_ops dnsstub_ops = {
	.peek = dnsstub_frame_peek,
	.request = dnsstub_frame,
	.bad = dnsstub_bad_frame,
	.end = dnsstub_conn_end,
};

/* Admission (stream_admit): by source address, or by uid on loopback. */
static void
dnsstub_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dnsstub_sock *sk = w->data;
	struct dnsstub *s = sk->s;
	struct dnsstub_conn *c;
	struct stream_who who;
	int fd, one = 1;

	if ((fd = stream_accept(sk->fd, "dns accept")) == -1)
		return;
	if (stream_peer(fd, &who) == -1 ||
	    !stream_admit(&s->pool, &who, DNSSTUB_CONNS_MAX,
		DNSSTUB_CONNS_PER_CLIENT) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		stats_count(s->d->stats, STATS_DNS_CLIENTS_REFUSED);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->s = s;
	LIST_INSERT_HEAD(&s->conns, c, entry);
	stream_start(&c->st, &s->pool, &who, &dnsstub_limits, &dnsstub_ops, c,
	    loop, fd, c->in, sizeof(c->in));
}

/* --- set-up --------------------------------------------------------------- */

static void
dnsstub_sock_start(struct dnsstub *s, struct dnsstub_sock *sk, int fd,
    void (*cb)(struct ev_loop *, ev_io *, int))
{
	sk->s = s;
	sk->fd = fd;
	stream_watch_read(&sk->io, s->d->loop, fd, cb, sk);
}

struct dnsstub *
dnsstub_new(struct codnsd *d)
{
	struct dnsstub *s;
	char a[ADDR_STRLEN];
	size_t i, off = 0;
	int ufd, tfd;

	if (sodium_init() == -1 || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = d;
	LIST_INIT(&s->conns);
	stream_pool_init(&s->pool);
	TAILQ_INIT(&s->lru);
	s->ob_fd = -1;
	crypto_shorthash_keygen(s->hkey);
	for (i = 0; i < d->conf.ndns_listen; i++) {
		addr_format((const struct sockaddr *)&d->conf.dns_listen[i].ss,
		    a, sizeof(a));
		if ((ufd = stream_bind(&d->conf.dns_listen[i], SOCK_DGRAM)) ==
		    -1) {
			log_warn("dns-listen %s (udp)", a);
			dnsstub_free(s);
			return NULL;
		}
		if ((tfd = stream_bind(&d->conf.dns_listen[i],
			 SOCK_STREAM)) == -1) {
			log_warn("dns-listen %s (tcp)", a);
			close(ufd);
			dnsstub_free(s);
			return NULL;
		}
		dnsstub_sock_start(s, &s->udp[i], ufd, dnsstub_udp_cb);
		dnsstub_sock_start(s, &s->tcp[i], tfd, dnsstub_accept_cb);
		s->nsocks++;
		off += (size_t)snprintf(s->addrs + off, sizeof(s->addrs) - off,
		    "%s%s", off ? "," : "", a);
	}
	return s;
}

const char *
dnsstub_addresses(const struct dnsstub *s)
{
	return s->addrs;
}

void
dnsstub_free(struct dnsstub *s)
{
	struct dnsstub_query *q;
	struct dnsstub_fwd *f;
	size_t i;

	if (s == NULL)
		return;
	while (!LIST_EMPTY(&s->conns))
		dnsstub_conn_free(LIST_FIRST(&s->conns));
	while ((q = LIST_FIRST(&s->udp_pending)) != NULL) {
		LIST_REMOVE(q, entry);
		lookup_cancel(q->w);
		dnsstub_fwd_leave(q);
		free(q);
	}
	for (i = 0; i < s->nsocks; i++) {
		ev_io_stop(s->d->loop, &s->udp[i].io);
		close(s->udp[i].fd);
		ev_io_stop(s->d->loop, &s->tcp[i].io);
		close(s->tcp[i].fd);
	}
	for (i = 0; i < DNSSTUB_FWD_BUCKETS; i++)
		while ((f = LIST_FIRST(&s->fwd[i])) != NULL) {
			LIST_REMOVE(f, hentry);
			upstream_cancel(f->uq);
			free(f);
		}
	while (!TAILQ_EMPTY(&s->lru))
		dnsstub_raw_drop(s, TAILQ_FIRST(&s->lru));
	free(s);
}
