/* SPDX-License-Identifier: MIT */
/* codnsd/front/dnsstub.c: the DNS stub listener, for programs that speak DNS. */
#include "dnsstub.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "codnsd.h"
#include "dnsmsg.h"
#include "dnsresp.h"
#include "clock.h"
#include "fwdcache.h"
#include "ratelimit.h"
#include "log.h"
#include "lookup.h"
#include "stats.h"
#include "stream.h"
#include "upstream.h"

#define DNSSTUB_UDP_BURST 64 /* datagrams read per wake-up */
#define DNSSTUB_UDP_VLEN 32  /* datagrams per recvmmsg()/sendmmsg() */
#define DNSSTUB_OUT_HIGH (128 * 1024) /* stop reading above this backlog */

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
	struct fwdcache_wait fw; /* for a forwarded question */
	LIST_ENTRY(dnsstub_query) entry; /* conn->pending or s->udp_pending */
};

LIST_HEAD(dnsstub_queries, dnsstub_query);

struct dnsstub_conn {
	struct dnsstub *s;
	struct stream st;
	uint8_t in[2 + DNSSTUB_QUERY_MAX];
	struct dnsstub_queries pending;
	LIST_ENTRY(dnsstub_conn) entry;
};

struct dnsstub {
	struct codnsd *d;
	struct dnsstub_sock udp[CONF_LISTEN_MAX], tcp[CONF_LISTEN_MAX];
	size_t nsocks;
	struct dnsstub_queries udp_pending;
	LIST_HEAD(, dnsstub_conn) conns;
	struct stream_pool pool; /* TCP connections */
	char addrs[CONF_LISTEN_MAX * ADDR_STRLEN];
	struct fwdcache *fc; /* other query types */
	struct ratelimit *rl; /* UDP responses per source prefix */
	/* One batch of datagrams in, and the answers given while it is
	 * read, sent together: on a virtual machine a system call costs
	 * more than answering from the cache. */
	uint8_t in[DNSSTUB_UDP_VLEN][DNSSTUB_QUERY_MAX];
	struct sockaddr_storage in_from[DNSSTUB_UDP_VLEN];
	uint8_t ob[DNSSTUB_UDP_VLEN][DNSRESP_EDNS_SIZE];
	struct sockaddr_storage ob_to[DNSSTUB_UDP_VLEN];
	struct mmsghdr ob_msg[DNSSTUB_UDP_VLEN];
	struct iovec ob_iov[DNSSTUB_UDP_VLEN];
	int ob_fd;   /* the socket of the batch being read; -1: none */
	size_t nob;
	uint8_t out[DNSMSG_MSG_MAX];  /* one response */
};

static void dnsstub_forward(struct dnsstub_query *);

/* --- responses ------------------------------------------------------------ */

size_t
dnsstub_cache_count(const struct dnsstub *s)
{
	return s != NULL ? fwdcache_count(s->fc) : 0;
}

size_t
dnsstub_flush(struct dnsstub *s, const char *name)
{
	return s != NULL ? fwdcache_flush(s->fc, name) : 0;
}

static int
dnsstub_is_tcp(const struct dnsstub_query *q)
{
	return q->conn != NULL;
}

/* Start a response in the stub's buffer. */
static void
dnsstub_begin(const struct dnsstub_query *q, struct dnsmsg_writer *w,
    uint16_t extra)
{
	dnsresp_begin(w, q->s->out, sizeof(q->s->out), &q->m, dnsstub_is_tcp(q),
	    extra);
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

	if ((len = dnsresp_finish(w, m, rcode)) == 0)
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

/* A forwarded answer (fresh, cached or stale). */
static void
dnsstub_answer_flat(struct dnsstub_query *q, const struct fwdcache_answer *a)
{
	struct dnsmsg_writer w;

	dnsstub_begin(q, &w, 0);
	if (dnsresp_put_flat(&w, a) == -1)
		dnsstub_truncated(q, &w, a->rcode);
	else
		dnsstub_end(q, &w, a->rcode);
}

/* --- A, AAAA and PTR through the lookup path ---------------------------- */

static void
dnsstub_lookup_cb(void *arg, const struct proto_answer *a)
{
	struct dnsstub_query *q = arg;
	struct dnsmsg_writer w;
	struct proto_answer capped;
	struct fwdcache_answer fa;
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
	 * it: the SOA (RFC 2308 section 3) and the CNAMEs that led there,
	 * from the response that decided it, which the lookup path handed
	 * to the forwarded-answer cache (dnsstub_keep()). An answer from a
	 * peer (the peer protocol carries no SOA), a stale one, or one
	 * whose response is gone or came without a SOA is sent bare: the
	 * nameserver is never asked the same question twice.
	 */
	if ((a->status == CODNS_NOTFOUND || a->status == CODNS_NODATA) &&
	    (a->source == CODNS_SRC_LOCAL || a->source == CODNS_SRC_CACHE)) {
		if (fwdcache_get(q->s->fc, &q->m, 0, &fa) == 0) {
			dnsstub_answer_flat(q, &fa);
			dnsstub_query_free(q);
			return;
		}
		stats_count(q->s->d->stats, STATS_DNS_NEGATIVE_BARE);
	}
	dnsstub_begin(q, &w, 0);
	if (a->status == CODNS_FOUND && dnsresp_put_lookup(&w, &q->m, a) == -1)
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

/* No response came: stale data if there is, else SERVFAIL. */
static void
dnsstub_fwd_failed(struct dnsstub_query *q)
{
	struct dnsstub *s = q->s;
	struct fwdcache_answer a;

	if (fwdcache_get(s->fc, &q->m, 1, &a) == 0) {
		stats_count(s->d->stats, STATS_DNS_STALE);
		dnsstub_answer_flat(q, &a);
	} else
		dnsstub_reply_rcode(q, DNSMSG_SERVFAIL);
	dnsstub_query_free(q);
}

/* The forwarded question's answer (fwdcache_cb), or NULL. */
static void
dnsstub_fwd_cb(void *arg, const struct fwdcache_answer *a)
{
	struct dnsstub_query *q = arg;

	if (a == NULL) {
		dnsstub_fwd_failed(q);
		return;
	}
	dnsstub_answer_flat(q, a);
	dnsstub_query_free(q);
}

/* From the cache; else join the same question already sent; else send
 * it to the local nameservers, no peers (fwdcache.c). */
static void
dnsstub_forward(struct dnsstub_query *q)
{
	struct dnsstub *s = q->s;
	struct fwdcache_answer a;

	if (fwdcache_get(s->fc, &q->m, 0, &a) == 0) {
		stats_count(s->d->stats, STATS_DNS_RAW_HITS);
		dnsstub_answer_flat(q, &a);
		dnsstub_query_free(q);
		return;
	}
	switch (fwdcache_ask(s->fc, &q->m, &q->fw, dnsstub_fwd_cb, q)) {
	case FWDCACHE_JOINED:
		stats_count(s->d->stats, STATS_DNS_COALESCED);
		break;
	case FWDCACHE_SENT:
		stats_count(s->d->stats, STATS_DNS_FORWARDED);
		break;
	default:
		stats_count(s->d->stats, STATS_DNS_FORWARDED);
		dnsstub_fwd_failed(q);
	}
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

/* ANY (RFC 8482 section 4.2): one HINFO, no nameserver asked. */
static void
dnsstub_any(struct dnsstub_query *q)
{
	struct dnsmsg_writer w;
	uint32_t ttl = q->s->d->conf.cache_max_ttl_s;

	stats_count(q->s->d->stats, STATS_DNS_ANY);
	dnsstub_begin(q, &w, 0);
	if (dnsresp_put_any(&w, &q->m, ttl < DNSRESP_ANY_TTL ? ttl :
							   DNSRESP_ANY_TTL) ==
	    -1)
		dnsstub_truncated(q, &w, DNSMSG_NOERROR);
	else
		dnsstub_end(q, &w, DNSMSG_NOERROR);
	dnsstub_query_free(q);
}

/* The rate limit in force (ratelimit, codnsd.conf.5): by default, on
 * when a listener is public, off when all are loopback. */
static uint32_t
dnsstub_rate(const struct conf *c)
{
	size_t i;

	if (c->ratelimit != CONF_RATELIMIT_AUTO)
		return c->ratelimit;
	for (i = 0; i < c->ndns_listen; i++)
		if (!stream_is_loopback(&c->dns_listen[i].ss))
			return CONF_RATELIMIT_PUBLIC;
	return 0;
}

/*
 * Response rate limiting on UDP (ratelimit.c), before anything is looked
 * up or forwarded, so that a flood of random names from one prefix does
 * not reach the nameservers either. Loopback sources are this host's
 * own programs, which no one outside can spoof: never limited. 1 when
 * the query was dropped or slipped (answered with TC) and freed.
 */
static int
dnsstub_limited(struct dnsstub_query *q, uint16_t rcode)
{
	struct dnsstub *s = q->s;
	struct dnsmsg_writer w;
	enum ratelimit_verdict v;

	if (stream_is_loopback(&q->from))
		return 0;
	v = ratelimit_check(s->rl, (const struct sockaddr *)&q->from,
	    dnsstub_rate(&s->d->conf), s->d->conf.ratelimit_slip,
	    clock_loop_ms(s->d->loop));
	if (v == RATELIMIT_PASS)
		return 0;
	stats_count(s->d->stats, STATS_DNS_RATELIMITED);
	if (v == RATELIMIT_SLIP) {
		stats_count(s->d->stats, STATS_DNS_SLIPPED);
		dnsstub_begin(q, &w, DNSMSG_F_TC);
		dnsstub_end(q, &w, rcode);
	}
	dnsstub_query_free(q);
	return 1;
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
	if (c == NULL && dnsstub_limited(q, (uint16_t)rc))
		return;
	if (rc == DNSMSG_NOERROR)
		rc = dnsstub_refuse(&q->m);
	if (rc != DNSMSG_NOERROR) {
		dnsstub_reply_rcode(q, (uint16_t)rc);
		dnsstub_query_free(q);
		return;
	}
	if (q->m.qtype == DNSMSG_T_ANY) {
		dnsstub_any(q);
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
		fwdcache_leave(&q->fw);
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

/* The clock of the forwarded-answer cache: the loop's. */
static uint64_t
dnsstub_now_ms(void *loop)
{
	return clock_loop_ms(loop);
}

/* Every response of the lookup path (upstream_keep_cb): kept, so that a
 * negative answer goes out with its SOA and the stub's other questions
 * of that name and type need not be asked again. */
static void
dnsstub_keep(void *arg, const char *name, uint16_t qtype, uint8_t rcode,
    const uint8_t *flat, size_t len)
{
	struct dnsstub *s = arg;

	(void)fwdcache_store(s->fc, name, qtype, rcode, flat, len);
}

/*
 * A response kept for the search walk's question (upstream_find_cb), in
 * the first 90 % of its life only: in the last 10 % the walk asks again,
 * so that a refresh (prefetch) gets a whole TTL, not what is left.
 */
static int
dnsstub_find(void *arg, const char *name, uint16_t qtype,
    struct upstream_kept *out)
{
	struct dnsstub *s = arg;
	struct dnsmsg_query m;
	struct fwdcache_answer a;

	memset(&m, 0, sizeof(m));
	if (dnsmsg_name_from_text(name, &m.qname) == -1)
		return 0;
	m.qtype = qtype;
	m.qclass = DNSMSG_C_IN;
	if (fwdcache_get(s->fc, &m, 0, &a) == -1 ||
	    (uint64_t)a.max_ttl * 10 <= (uint64_t)a.age_s + a.max_ttl)
		return 0;
	out->rcode = a.rcode;
	out->flat = a.flat;
	out->len = a.len;
	out->age_s = a.age_s;
	out->left_s = a.max_ttl;
	return 1;
}

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

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->d = d;
	LIST_INIT(&s->conns);
	stream_pool_init(&s->pool);
	s->ob_fd = -1;
	if ((s->fc = fwdcache_new(dnsstub_now_ms, d->loop, &d->conf,
		 d->upstream)) == NULL ||
	    (s->rl = ratelimit_new()) == NULL) {
		fwdcache_free(s->fc);
		free(s);
		return NULL;
	}
	upstream_on_response(d->upstream, dnsstub_keep, dnsstub_find, s);
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

/* Draining: read no more queries (they wait in the sockets for the next
 * codnsd); those read are still answered. */
void
dnsstub_pause(struct dnsstub *s, int on)
{
	void (*set)(struct ev_loop *, ev_io *) = on ? ev_io_stop : ev_io_start;
	size_t i;

	for (i = 0; i < s->nsocks; i++) {
		set(s->d->loop, &s->udp[i].io);
		set(s->d->loop, &s->tcp[i].io);
	}
}

int
dnsstub_busy(const struct dnsstub *s)
{
	return !LIST_EMPTY(&s->udp_pending);
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
	size_t i;

	if (s == NULL)
		return;
	while (!LIST_EMPTY(&s->conns))
		dnsstub_conn_free(LIST_FIRST(&s->conns));
	while ((q = LIST_FIRST(&s->udp_pending)) != NULL) {
		LIST_REMOVE(q, entry);
		lookup_cancel(q->w);
		fwdcache_leave(&q->fw);
		free(q);
	}
	for (i = 0; i < s->nsocks; i++) {
		ev_io_stop(s->d->loop, &s->udp[i].io);
		close(s->udp[i].fd);
		ev_io_stop(s->d->loop, &s->tcp[i].io);
		close(s->tcp[i].fd);
	}
	upstream_on_response(s->d->upstream, NULL, NULL, NULL);
	fwdcache_free(s->fc);
	ratelimit_free(s->rl);
	free(s);
}
